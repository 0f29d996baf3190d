/* test_emit_gen.c - acceptance: on generated cases of each convention, the interpreter's
 * checksum equals that of the emitted C compiled by clang and by gcc (0 mismatches). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gen.h"
#include "oracle.h"
#include "oracle_batch.h"

#define DEFAULT_SEED 0x5eed0bac1eull
#define BATCH        125 /* cases per emitted file: one compiler run each */

/* -O0 by default: at -O1 clang needs ~20 s per 125 generated cases (7x its
 * -O0 time), too slow for the suite's budget; AF_EMIT_GEN_FLAGS overrides
 * (test_emit covers -O2 on the hand-built cases). -mavx: __m256 cases. */
#define DEFAULT_FLAGS "-O0 -mavx -ffp-contract=off"

/* One compiler's run over one batch (the two compilers run in parallel). */
typedef struct {
  const af_case *const *cases;
  int n;
  const char *cc, *flags;
  uint64_t got[BATCH];
  int have[BATCH];
  af_error err;
  double secs;
} job;

static void *run_job(void *arg) {
  job *j = arg;
  double t0 = ob_now();
  memset(&j->err, 0, sizeof j->err);
  ob_batch_or_each(j->cases, j->n, j->cc, j->flags, j->got, j->have, &j->err);
  j->secs = ob_now() - t0;
  return NULL;
}

/* A compiler crash is the compiler's bug, not a checksum mismatch. */
static int is_ice(const char *msg) {
  return strstr(msg, "internal compiler error") || strstr(msg, "PLEASE submit") ||
         strstr(msg, "killed by a signal");
}

/* Environment: AF_EMIT_GEN_CASES (per convention, default 500),
 * AF_EMIT_GEN_SEED, AF_EMIT_GEN_FLAGS, AF_TEST_CLANG, AF_TEST_GCC. */
static int ncases(void) {
  const char *e = getenv("AF_EMIT_GEN_CASES");
  int n = e ? atoi(e) : 500;
  return n > 0 ? n : 500;
}

int main(void) {
  const int n = ncases();
  const uint64_t seed =
      getenv("AF_EMIT_GEN_SEED") ? strtoull(getenv("AF_EMIT_GEN_SEED"), NULL, 0) : DEFAULT_SEED;
  const char *flags = getenv("AF_EMIT_GEN_FLAGS") ? getenv("AF_EMIT_GEN_FLAGS") : DEFAULT_FLAGS;
  const char *clang = getenv("AF_TEST_CLANG") ? getenv("AF_TEST_CLANG") : AF_CLANG;
  const char *gcc = getenv("AF_TEST_GCC") ? getenv("AF_TEST_GCC") : AF_GCC;
  const char *ccs[2] = {clang, gcc};
  int have_cc[2] = {af_cc_available(clang), af_cc_available(gcc)};
  for (int k = 0; k < 2; k++)
    if (!have_cc[k]) printf("skip %s: compiler not available\n", ccs[k][0] ? ccs[k] : "(none)");
  af_case *cases = calloc((size_t)BATCH, sizeof *cases);
  const af_case **ptrs = calloc((size_t)BATCH, sizeof *ptrs);
  uint64_t *want = calloc((size_t)BATCH, sizeof *want);
  uint64_t *idx = calloc((size_t)BATCH, sizeof *idx);
  if (!cases || !ptrs || !want || !idx) return 1;
  double t_gen = 0, t_cc[2] = {0, 0};
  for (int cc = 0; cc < AF_CC_COUNT; cc++) {
    af_gen_opts o;
    af_gen_opts_default(&o);
    o.cc = cc;
    o.allow_f16 = 1;  /* clang >= 15 and gcc >= 12 */
    /* __m256 cases are compiled with -mavx and run here: only on an AVX host */
    o.allow_m256 = __builtin_cpu_supports("avx");
    o.allow_divergent = 0;
    int compared[2] = {0, 0}, mismatches[2] = {0, 0}, ices[2] = {0, 0}, interp_ok = 0, gen_fail = 0,
        interp_fail = 0;
    for (int base = 0; base < n; base += BATCH) {
      int m = 0;
      double t0 = ob_now();
      for (int i = base; i < n && i < base + BATCH; i++) {
        af_case *c = &cases[m];
        af_error err = {{0}};
        af_status s = af_gen_case(&o, seed, (uint64_t)i, c, NULL, &err);
        if (s != AF_OK) {
          CHECKF(s == AF_OK, "%s case %d: af_gen_case: %s", af_cc_name((af_cc)cc), i, err.msg);
          gen_fail++;
          af_case_free(c);
          continue;
        }
        af_interp_result r;
        s = af_interp(c, 0, &r, &err);
        CHECKF(s == AF_OK, "%s case %d: af_interp: %s", af_cc_name((af_cc)cc), i, err.msg);
        if (s != AF_OK) {
          interp_fail++;
          af_case_free(c);
          continue;
        }
        interp_ok++;
        want[m] = r.checksum;
        idx[m] = (uint64_t)i;
        ptrs[m++] = c;
        af_interp_result_free(&r);
      }
      t_gen += ob_now() - t0;
      static job jobs[2];
      pthread_t th;
      int threaded = 0;
      for (int k = 0; k < 2; k++) {
        jobs[k].cases = ptrs;
        jobs[k].n = m;
        jobs[k].cc = ccs[k];
        jobs[k].flags = flags;
      }
      if (have_cc[1] && m > 0) threaded = pthread_create(&th, NULL, run_job, &jobs[1]) == 0;
      if (have_cc[1] && m > 0 && !threaded) run_job(&jobs[1]);
      if (have_cc[0] && m > 0) run_job(&jobs[0]);
      if (threaded) pthread_join(th, NULL);
      for (int k = 0; k < 2; k++) {
        if (!have_cc[k] || m == 0) continue;
        t_cc[k] += jobs[k].secs;
        for (int i = 0; i < m; i++) {
          compared[k]++;
          int ok = jobs[k].have[i] && jobs[k].got[i] == want[i];
          if (!ok && !jobs[k].have[i] && is_ice(jobs[k].err.msg)) {
            printf("compiler crash (not counted as a mismatch): %s on %s case seed 0x%llx index "
                   "%llu: %s\n",
                   ccs[k], af_cc_name((af_cc)cc), (unsigned long long)seed,
                   (unsigned long long)idx[i], jobs[k].err.msg);
            ices[k]++;
            continue;
          }
          mismatches[k] += !ok;
          CHECKF(ok, "%s: %s case (seed 0x%llx, index %llu): %s (interp 0x%016llx, C 0x%016llx)",
                 ccs[k], af_cc_name((af_cc)cc), (unsigned long long)seed,
                 (unsigned long long)idx[i], jobs[k].have[i] ? "checksum differs" : jobs[k].err.msg,
                 (unsigned long long)want[i], (unsigned long long)jobs[k].got[i]);
        }
      }
      for (int i = 0; i < m; i++)
        af_case_free(&cases[i]);
    }
    printf("%s: %d generated, %d interpreted (%d gen errors, %d interp errors)\n",
           af_cc_name((af_cc)cc), n, interp_ok, gen_fail, interp_fail);
    for (int k = 0; k < 2; k++)
      if (have_cc[k])
        printf("  %s %s: %d compared, %d mismatches, %d compiler crashes\n", ccs[k], flags,
               compared[k], mismatches[k], ices[k]);
  }
  printf("time: generate + interpret %.1f s, clang %.1f s, gcc %.1f s (in parallel)\n", t_gen,
         t_cc[0], t_cc[1]);
  free(cases);
  free(ptrs);
  free(want);
  free(idx);
  return check_done();
}
