/* leg_testlib.h - for tests that drive a leg in-process: a job from a generated case, and a
 * sink that keeps the leg's verdict. Header-only (static functions), like check.h. */
#ifndef ABIFUZZ_TESTS_LEG_TESTLIB_H
#define ABIFUZZ_TESTS_LEG_TESTLIB_H

#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "legs.h"

/* Case `index` of `seed` under o, interpreted, as a job (refs 1); NULL if generation or the
 * interpreter fails. */
static inline af_job *tl_job_gen(const af_gen_opts *o, uint64_t seed, uint64_t index,
                                 const af_legs_cfg *cfg) {
  af_job *j = calloc(1, sizeof *j);
  if (!j) return NULL;
  af_error err = {{0}};
  if (af_gen_case(o, seed, index, &j->c, NULL, &err) != AF_OK ||
      af_interp(&j->c, 0, &j->want, &err) != AF_OK) {
    af_interp_result_free(&j->want);
    af_case_free(&j->c);
    free(j);
    return NULL;
  }
  j->refs = 1;
  j->seed = seed;
  j->index = index;
  j->cfg = cfg;
  return j;
}

/* What one submit reported (an immediate leg). */
typedef struct {
  int begun, ended;
  af_leg_verdict v;
  const char *reason;
  int nf;
  af_finding f[AF_FINDINGS_MAX];
} tl_collect;

static inline void tl_begin(void *u, const af_job *j, const char *leg) {
  (void)j, (void)leg;
  ((tl_collect *)u)->begun++;
}

static inline void tl_end(void *u, const af_job *j, const char *leg, af_leg_verdict v,
                          const char *reason, const af_finding *f, int nf) {
  (void)j, (void)leg;
  tl_collect *k = u;
  k->ended++;
  k->v = v;
  k->reason = reason;
  k->nf = nf < AF_FINDINGS_MAX ? nf : AF_FINDINGS_MAX;
  if (k->nf) memcpy(k->f, f, sizeof *f * (size_t)k->nf);
}

/* Submits j to an immediate leg and collects its verdict into k. */
static inline void tl_run(const af_leg *leg, void *state, af_job *j, tl_collect *k) {
  memset(k, 0, sizeof *k);
  af_leg_sink sink = {k, tl_begin, tl_end};
  leg->submit(state, j, &sink);
}

#endif
