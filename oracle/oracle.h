/* oracle.h - the oracle: a case written as one C file (sysv_abi / ms_abi functions), compiled
 * by clang and gcc and run; its checksum must equal the interpreter's. */
#ifndef ABIFUZZ_ORACLE_H
#define ABIFUZZ_ORACLE_H

#include <stdio.h>

#include "gen.h"

/* ------------------------------------------------------------------------- */
/* The C emitter (emit_c.c)                                                   */
/* ------------------------------------------------------------------------- */
/* The emitted C is C11 with GNU extensions, accepted by gcc >= 12 and clang
 * >= 15 (clang 14 when the case has no _Float16) with
 *   -std=gnu11 -Wall -Werror -Wno-psabi  (any -O, also -ffp-contract=off).
 * A case using __m256 needs -mavx (the file stops with #error without it):
 * an __m256 argument is only passed in a YMM register when both sides are
 * compiled with AVX (abi-notes), and the whole file must agree.
 * __m128/__m256 are spelled as GNU vector typedefs (af_m128, af_m256): the
 * same types as <immintrin.h>'s, without its compile time.
 * Two compiler bugs are worked around (both seen; see emit_c.c):
 * - gcc 12's __builtin_va_arg on an ms_va_list misreads every type Win64
 *   passes by reference (size not 1, 2, 4 or 8): such varargs are read as
 *   `*__builtin_va_arg(ap, T *)`, which is what the Win64 ABI passes;
 * - clang 14/19 at -O1+ fold a long double memcpy'd from constant bytes
 *   wrongly when its exponent's low byte is 0: an empty asm barrier follows
 *   every such memcpy.
 * Known ABI divergences between gcc and clang (gen/abi.c's table, e.g.
 * clang 19 leaving R9 unused after an __int128 spill) are NOT worked around:
 * a variadic callee then disagrees with its caller, which is a finding. */
typedef struct {
  int emit_prelude;   /* 1: includes and the runtime helpers (once per file) */
  int emit_main;      /* 1: a main() that prints AF_CHECKSUM_FMT as its last line */
  const char *prefix; /* prepended to every file-scope symbol of the case (NULL: "") */
} af_emit_opts;

void af_emit_opts_default(af_emit_opts *o); /* prelude and main, no prefix */

/* Writes the case as C. Besides the case's functions (<prefix>f<k>) and
 * types (<prefix>t<N>) it defines `uint64_t <prefix>run(void)`, which
 * resets the objects, calls the entry on the inputs and returns the
 * checksum (gen.h). AF_ERR_UNSUPPORTED for constructs C cannot express. */
af_status af_emit_c(const af_case *c, const af_emit_opts *o, FILE *out, af_error *err);

/* Several cases in one file (one compiler run for all): the prelude once,
 * case i with prefix "c<i>_", and a main printing one line per case,
 * "case <i> checksum 0x...", in order. */
af_status af_emit_batch(const af_case *const *cases, int n, FILE *out, af_error *err);

/* The runtime prelude alone (what emit_prelude writes). */
af_status af_emit_prelude(FILE *out);

int af_case_needs_avx(const af_case *c); /* uses __m256: compile with -mavx */
int af_case_needs_f16(const af_case *c); /* uses _Float16: clang >= 15, gcc >= 12 */

/* ------------------------------------------------------------------------- */
/* Compile and run (cc_run.c)                                                 */
/* ------------------------------------------------------------------------- */
/* Flags every oracle compile uses (callers add -O and the like). */
#define AF_CC_BASE_FLAGS "-std=gnu11 -Wall -Werror -Wno-psabi"

/* 1 if `cc` (a path or a name on PATH) can be run. */
int af_cc_available(const char *cc);

/* Which compiler family and major version `cc` is (from `cc --version`), so
 * that known divergences (af_abi_deviates) can be told from findings.
 * AF_ERR_UNSUPPORTED when it is neither gcc nor clang. */
af_status af_cc_identify(const char *cc, af_family *family, int *major, af_error *err);

/* Writes `src` (len bytes) to a fresh temporary directory, compiles it with
 * `cc` and `flags` (space-separated, no quoting) into an executable, runs it
 * and returns its standard output in *out (malloc'd, NUL-terminated; the
 * caller frees). Errors: AF_ERR_IO when the compiler is missing or fails
 * (err: its first error line), AF_ERR_RUNTIME when the program fails.
 * The directory is removed afterwards. */
af_status af_cc_build_run(const char *cc, const char *flags, const char *src, size_t len,
                          char **out, af_error *err);

/* The checksum of the last "checksum 0x..." line of `text`; 0 ok, -1 none. */
int af_cc_last_checksum(const char *text, uint64_t *out);

/* Emits one case (with main), compiles it with cc, AF_CC_BASE_FLAGS, `flags`
 * and -mavx when the case needs it, runs it, and returns its checksum. */
af_status af_cc_case_checksum(const af_case *c, const char *cc, const char *flags,
                              uint64_t *checksum, af_error *err);

/* Many cases as one program (af_emit_batch), one compiler run: compiles
 * with cc, AF_CC_BASE_FLAGS, `flags` and -mavx when some case needs it,
 * runs it, and stores case i's checksum in got[i]. AF_ERR_IO when the
 * program does not build (err: the compiler's first error line; compile
 * the cases alone to find the culprit), AF_ERR_RUNTIME when it fails or a
 * case's line is missing. */
af_status af_cc_run_batch_flags(const char *cc, const char *flags, const af_case *const *cases,
                                int n, uint64_t *got, af_error *err);
/* The same with the campaign's flags, AF_CC_BATCH_FLAGS. */
#define AF_CC_BATCH_FLAGS "-O1 -ffp-contract=off"
af_status af_cc_run_batch(const char *cc, const af_case *const *cases, int n, uint64_t *got,
                          af_error *err);

#endif /* ABIFUZZ_ORACLE_H */
