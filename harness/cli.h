/* cli.h - private to the abifuzz command line: shared option parsing and the subcommands. */
#ifndef ABIFUZZ_CLI_H
#define ABIFUZZ_CLI_H

#include <stdint.h>

#include "gen.h"

/* Exit codes of every subcommand. */
enum {
  CLI_OK = 0,       /* ran, nothing found */
  CLI_FINDING = 1,  /* ran, found a mismatch (a finding) */
  CLI_USAGE = 2,    /* bad flag, bad value, malformed input file */
  CLI_ERROR = 3,    /* the tool itself failed (out of memory, i/o) */
};

/* One-line error on stderr, prefixed "abifuzz: ". */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Strict number parsing: the whole string, in range; 0 ok, -1 bad. */
int cli_u64(const char *s, uint64_t *out);

/* Prints one value: "LABEL TYPE HEXBYTES" in memory order, or "LABEL ptr obj K". */
void cli_print_value(const af_case *c, const char *label, const af_value *v);

/* Loads a weights file into a fresh table (or the defaults when path is NULL). */
af_weights *cli_weights(const char *path);

int cmd_gen(int argc, char **argv);
int cmd_interp(int argc, char **argv);
int cmd_emit(int argc, char **argv);
int cmd_abi(int argc, char **argv);
int cmd_weights(int argc, char **argv);
int cmd_campaign(int argc, char **argv);
int cmd_jit(int argc, char **argv);     /* cmd_jit.c */
int cmd_mutants(int argc, char **argv); /* cmd_mutants.c: the mutant score */
int cmd_replay(int argc, char **argv);  /* cmd_replay.c: one case in the foreground */
int cmd_reduce(int argc, char **argv);  /* cmd_reduce.c: shrink a failing case */
int cmd_report(int argc, char **argv);  /* cmd_report.c: md, html, junit, sarif */
int cmd_bench(int argc, char **argv);   /* cmd_bench.c: stage and leg throughput vs a baseline */

#endif
