/* main.c - the abifuzz command line: dispatches to a subcommand, or runs a campaign. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "jit.h"

static const char usage[] =
    "usage: abifuzz [--arch x64] [--abi sysv|win64] [CAMPAIGN OPTIONS]\n"
    "       abifuzz COMMAND [OPTIONS]\n"
    "\n"
    "An x86-64 calling-convention conformance fuzzer (System V AMD64 and Microsoft x64).\n"
    "\n"
    "Commands:\n"
    "  (none)     run a campaign: generate cases over a seed range, check each one\n"
    "             (interpreter, and with --oracle-cc the C oracle) and print a summary\n"
    "  gen        generate case INDEX of SEED and print it (.case text or C)\n"
    "  interp     run a .case file in the reference interpreter, print its checksum\n"
    "  emit       print a .case file as C (sysv_abi / ms_abi functions and a main)\n"
    "  abi        print where every argument and return value goes (the classifier)\n"
    "  weights    print the generator's weights table (the --weights file format)\n"
    "  jit        compile a .case file with the JIT: --disasm, --run, --inject MUTANT\n"
    "\n"
    "Campaign options:\n"
    "  --arch x64            target architecture (only x64)\n"
    "  --abi sysv|win64|all  convention of the generated cases (default: all, by weight)\n"
    "  --seed S              campaign seed (default 1)\n"
    "  --count N             cases to run (default 1000)\n"
    "  --start I             first case index (default 0)\n"
    "  --weights FILE        override generator weights (see `abifuzz weights`)\n"
    "  --oracle-cc CC[,CC]   also compile every case as C with these compilers and\n"
    "                        compare checksums with the interpreter (e.g. clang-19,gcc)\n"
    "  --out DIR             write each finding to DIR/finding-SEED-INDEX.case (the\n"
    "                        case, replayable) and .txt (the verdict)\n"
    "  --f16                 allow _Float16 (needs clang >= 15 or gcc >= 12)\n"
    "  --divergent           also draw signatures gcc and clang are known to lower\n"
    "                        differently (gen/abi.c); a compiler's known divergences\n"
    "                        are counted, not reported\n"
    "  --quiet               print the summary only\n"
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
    {"gen", cmd_gen}, {"interp", cmd_interp},   {"emit", cmd_emit},
    {"abi", cmd_abi}, {"weights", cmd_weights}, {"jit", cmd_jit},
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
    if (argv[1][0] != '-') {
      cli_error("unknown command '%s' (see abifuzz --help)", argv[1]);
      return CLI_USAGE;
    }
  }
  return cmd_campaign(argc, argv);
}
