/* oracle_batch.h - many cases in one emitted C file per compiler run, checked against the
 * interpreter (test_emit, test_emit_gen). */
#ifndef ABIFUZZ_ORACLE_BATCH_H
#define ABIFUZZ_ORACLE_BATCH_H

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gen.h"
#include "oracle.h"

static inline double ob_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Compiles cases[0..n) as one program (af_cc_run_batch_flags); have[i] says
 * whether got[i] holds case i's checksum. */
static inline af_status ob_batch(const af_case *const *cases, int n, const char *cc,
                                 const char *flags, uint64_t *got, int *have, af_error *err) {
  af_status s = af_cc_run_batch_flags(cc, flags, cases, n, got, err);
  for (int i = 0; i < n; i++) have[i] = s == AF_OK;
  return s;
}

/* Like ob_batch, but when the batch does not build, every case is compiled
 * alone so that one bad case cannot hide the others; first_err receives the
 * first failing case's error. */
static inline void ob_batch_or_each(const af_case *const *cases, int n, const char *cc,
                                    const char *flags, uint64_t *got, int *have,
                                    af_error *first_err) {
  af_error err = {{0}};
  if (ob_batch(cases, n, cc, flags, got, have, &err) == AF_OK) return;
  snprintf(first_err->msg, sizeof first_err->msg, "batch: %.200s", err.msg);
  for (int i = 0; i < n; i++) {
    const af_case *one[1] = {cases[i]};
    uint64_t g;
    int h = 0;
    af_error e1 = {{0}};
    if (ob_batch(one, 1, cc, flags, &g, &h, &e1) == AF_OK && h) {
      got[i] = g;
      have[i] = 1;
    } else {
      snprintf(first_err->msg, sizeof first_err->msg, "case %d: %.200s", i, e1.msg);
    }
  }
}

#endif
