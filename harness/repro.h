/* repro.h - a finding as a self-contained reproducer directory (abifuzz reduce --repro and
 * abifuzz report). */
#ifndef ABIFUZZ_REPRO_H
#define ABIFUZZ_REPRO_H

#include "gen.h"

/* Writes into dir (created if missing) a reproducer of the finding (leg, check) of case c with
 * the JIT mutant inject (NULL: none):
 *   case.case       the case
 *   oracle.c        the case as C (af_emit_c): the oracle's answer, oracle_run()
 *   caller.c        the C caller (af_emit_c extern_entry): calls the code under test
 *   main.c          JIT legs: JIT-compiles the case (with the mutant), calls it from the C
 *                   caller, compares with oracle_run(), then re-runs the leg in-process;
 *                   prints "mismatch: expected ... got ..." (exit 1) or "ok" (exit 0)
 *   CMakeLists.txt  builds main.c against the abifuzz libraries of the source tree it came
 *                   from (ABIFUZZ_SOURCE_DIR, add_subdirectory)
 *   build.sh        one line: configure, build and run
 * For the compiled-C legs (c-oracle, cross-cc) the reproducer is plain C: case.c (oracle.c
 * with a main) and a build.sh compiling it with each compiler and comparing the checksum
 * with the interpreter's. AF_ERR_IO with err on a write error. */
af_status repro_write(const af_case *c, const char *leg, const char *check, const char *inject,
                      const char *dir, af_error *err);

#endif
