/* main.c - the abifuzz command line: dispatches to a subcommand, or runs a campaign. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "jit.h"

static const char usage[] =
    "usage: abifuzz --arch x64 --abi sysv|win64|both [CAMPAIGN OPTIONS]\n"
    "       abifuzz COMMAND [OPTIONS]\n"
    "\n"
    "An x86-64 calling-convention conformance fuzzer (System V AMD64 and Microsoft x64).\n"
    "\n"
    "Commands:\n"
    "  (none)     run a campaign: generate cases over a seed range and run each through\n"
    "             the legs (abifuzz --list-legs) in crash-isolated worker processes;\n"
    "             with FILE.case arguments, run those cases instead\n"
    "  gen        generate case INDEX of SEED and print it (.case text or C)\n"
    "  interp     run a .case file in the reference interpreter, print its checksum\n"
    "  emit       print a .case file as C (sysv_abi / ms_abi functions and a main)\n"
    "  abi        print where every argument and return value goes (the classifier)\n"
    "  weights    print the generator's weights table (the --weights file format)\n"
    "  jit        compile a .case file with the JIT: --disasm, --run, --inject MUTANT\n"
    "  mutants    the mutant score: a campaign per JIT mutant, time to its first finding\n"
    "  replay     re-run one finding or case in the foreground, showing everything\n"
    "  reduce     shrink a failing case while the same finding still fires\n"
    "  report     write report.md, report.html, junit.xml, findings.sarif for OUT_DIR\n"
    "  bench      cases/s of every stage and leg, end to end, and vs compile-per-case\n"
    "\n"
    "Campaign options (doc/campaign.md):\n"
    "  --arch x64            target architecture (only x64)\n"
    "  --abi sysv|win64|both convention of the cases; both (default): even indices\n"
    "                        sysv, odd win64; all: drawn from the weights\n"
    "  --seed S              campaign seed (default 1)\n"
    "  --cases N             cases to run (default 1000; --count is the same)\n"
    "  --time SEC            stop after SEC seconds (alone: no case limit)\n"
    "  --start I             first case index (default 0)\n"
    "  -j N, --jobs N        worker processes (default 1)\n"
    "  --out DIR             DIR/summary.json and DIR/findings/<id>/{case.case,report.json}\n"
    "                        (without it, findings are printed on stdout, one a line)\n"
    "  --legs LIST           legs to run, comma-separated (default: the default ones)\n"
    "  --list-legs           the legs, one a line (--verbose: with descriptions)\n"
    "  --inject MUTANT       compile with one of the JIT's ABI bugs (--list-mutants)\n"
    "  --backend SPEC        what compiles the code under test (doc/backends.md):\n"
    "                        builtin (our JIT, default), cc:'COMMAND' (any C compiler,\n"
    "                        COMMAND with {src} and {obj}), llvm, tcc, gccjit,\n"
    "                        plugin:PATH.so[:ARG]\n"
    "  --list-backends       the backends, and which this build has\n"
    "  --oracle-cc CC[,CC]   compilers of the C legs (e.g. clang-19,gcc); without\n"
    "                        --legs it also turns on the c-oracle leg\n"
    "  --cache-dir DIR       the oracle's compiled stub cache\n"
    "  --timeout MS          per case and leg, then the worker is killed (default 2000)\n"
    "  --weights FILE        override generator weights (see `abifuzz weights`)\n"
    "  --f16                 allow _Float16 (needs clang >= 15 or gcc >= 12)\n"
    "  --divergent           also draw signatures gcc and clang are known to lower\n"
    "                        differently (gen/abi.c); known divergences are counted\n"
    "  --known FILE|none     rules of known divergences: matching findings are labelled\n"
    "                        known and do not fail the campaign (default:\n"
    "                        corpus/known-divergences.rules)\n"
    "  --max-findings N      stop after N findings (the workers are killed at once)\n"
    "  --shard K/N           run shard K of N (disjoint blocks of 64 indices)\n"
    "  --resume OUT          continue the campaign whose --out was OUT (no other options)\n"
    "  --quiet               no status line, a short summary\n"
    "Exit status: 0 no findings, 1 findings, 2 usage error, 3 internal error.\n"
    "\n"
    "Run `abifuzz COMMAND --help` for a command's options.\n"
    "  --list-mutants        the JIT's injectable ABI bugs, one a line: name, description\n"
    "  --help, -h            this text\n"
    "  --version             print the version\n";

af_weights *cli_weights(const char *path) {
  af_weights *w = af_weights_default();
  if (!w) {
    cli_error("out of memory");
    return NULL;
  }
  if (path) {
    af_error err = {{0}};
    if (af_weights_load(w, path, &err) != AF_OK) {
      cli_error("%s", err.msg);
      af_weights_free(w);
      return NULL;
    }
  }
  return w;
}

static const struct {
  const char *name;
  int (*fn)(int, char **);
} commands[] = {
    {"gen", cmd_gen},         {"interp", cmd_interp},   {"emit", cmd_emit},
    {"abi", cmd_abi},         {"weights", cmd_weights}, {"jit", cmd_jit},
    {"mutants", cmd_mutants}, {"replay", cmd_replay},   {"reduce", cmd_reduce},
    {"report", cmd_report},   {"bench", cmd_bench},
};

int main(int argc, char **argv) {
  if (argc >= 2) {
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
      fputs(usage, stdout);
      return CLI_OK;
    }
    if (!strcmp(argv[1], "--list-mutants")) {
      for (int i = 0; i < af_jit_mutant_count(); i++)
        printf("%s %s\n", af_jit_mutant_name(i), af_jit_mutant_desc(i));
      return CLI_OK;
    }
    if (!strcmp(argv[1], "--version")) {
      printf("abifuzz %s (generator %d)\n", AF_VERSION, AF_GEN_VERSION);
      return CLI_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
      if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
    /* abifuzz FILE.case...: a campaign over those cases (libFuzzer's "run these inputs") */
    size_t n = strlen(argv[1]);
    if (argv[1][0] != '-' && !(n > 5 && !strcmp(argv[1] + n - 5, ".case"))) {
      cli_error("unknown command '%s' (see abifuzz --help)", argv[1]);
      return CLI_USAGE;
    }
  }
  return cmd_campaign(argc, argv);
}
