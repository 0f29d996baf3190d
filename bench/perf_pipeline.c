/* perf_pipeline.c - runs N generated cases through gen, interp and the legs in-process, timed. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gen.h"
#include "legs.h"

/* The per-case path of a worker (harness/worker.c run_case) without the supervisor: generate
 * case i of the seed (even indices SysV, odd Win64, like --abi both), interpret it, hand the
 * job to each leg. Each stage is timed on its own, so the figures are comparable to callgrind's
 * inclusive counts of af_gen_case, af_interp and each leg's submit (doc/benchmarks.md).
 *
 *   perf_pipeline [N [LEGS [SEED [START]]]]   LEGS: comma-separated (default
 *                                             native,ffi-caller,ffi-callee,runner)
 *
 * Exit status 1 if any leg reported a finding or a case failed to generate or interpret: on
 * the correct JIT every case must pass, so the benchmark doubles as a check. */

#define MAX_LEGS 16

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct {
  int pass, fail, skip;
  const char *first_fail;
} tally;

static void sk_begin(void *u, const af_job *j, const char *leg) { (void)u, (void)j, (void)leg; }

static void sk_end(void *u, const af_job *j, const char *leg, af_leg_verdict v, const char *reason,
                   const af_finding *f, int nf) {
  tally *t = u;
  (void)reason;
  if (v == AF_LEG_PASS) t->pass++;
  if (v == AF_LEG_SKIP) t->skip++;
  if (v == AF_LEG_FAIL) {
    t->fail++;
    if (t->fail <= 5)
      fprintf(stderr, "case %llu leg %s: %s %s %s\n", (unsigned long long)j->index, leg,
              nf ? f[0].check : "?", nf ? f[0].what : "", nf ? f[0].detail : "");
  }
}

int main(int argc, char **argv) {
  af_legs_process_init(); /* as a campaign worker */
  int n = argc > 1 ? atoi(argv[1]) : 1000;
  char legs_arg[256];
  snprintf(legs_arg, sizeof legs_arg, "%s",
           argc > 2 ? argv[2] : "native,ffi-caller,ffi-callee,runner");
  uint64_t seed = argc > 3 ? strtoull(argv[3], NULL, 0) : 1;
  uint64_t start = argc > 4 ? strtoull(argv[4], NULL, 0) : 0;

  const af_leg *legs[MAX_LEGS];
  void *state[MAX_LEGS];
  double t_leg[MAX_LEGS] = {0};
  int nlegs = 0;
  af_legs_cfg cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.seed = seed;
  for (char *save = NULL, *tok = strtok_r(legs_arg, ",", &save); tok && nlegs < MAX_LEGS;
       tok = strtok_r(NULL, ",", &save)) {
    const af_leg *l = af_leg_find(tok);
    if (!l) {
      fprintf(stderr, "unknown leg %s\n", tok);
      return 2;
    }
    af_error err = {{0}};
    if (l->init(&cfg, &state[nlegs], &err) != AF_OK) {
      fprintf(stderr, "leg %s: %s\n", tok, err.msg);
      return 2;
    }
    legs[nlegs++] = l;
  }

  tally t = {0};
  af_leg_sink sink = {&t, sk_begin, sk_end};
  af_gen_opts go;
  af_gen_opts_default(&go);
  double t_gen = 0, t_interp = 0, t_all = now();
  int bad = 0;
  for (uint64_t i = start; i < start + (uint64_t)n; i++) {
    af_job *j = af_job_new(&cfg, seed, i);
    if (!j) return 2;
    af_error err = {{0}};
    go.cc = (i & 1) ? AF_CC_WIN64 : AF_CC_SYSV;
    double t0 = now();
    af_status s = af_gen_case(&go, seed, i, &j->c, NULL, &err);
    double t1 = now();
    t_gen += t1 - t0;
    if (s == AF_OK) s = af_interp(&j->c, 0, &j->want, &err);
    t_interp += now() - t1;
    if (s != AF_OK) {
      fprintf(stderr, "case %llu: %s\n", (unsigned long long)i, err.msg);
      bad++;
    } else {
      for (int l = 0; l < nlegs; l++) {
        double a = now();
        legs[l]->submit(state[l], j, &sink);
        t_leg[l] += now() - a;
      }
    }
    af_job_unref(j);
  }
  t_all = now() - t_all;
  for (int l = 0; l < nlegs; l++)
    if (legs[l]->fini) legs[l]->fini(state[l]);
  printf("%d cases in %.3f s: %.0f cases/s (%.1f us/case)\n", n, t_all, n / t_all, 1e6 * t_all / n);
  printf("  gen    %7.1f us/case\n  interp %7.1f us/case\n", 1e6 * t_gen / n, 1e6 * t_interp / n);
  for (int l = 0; l < nlegs; l++)
    printf("  %-10s %7.1f us/case\n", legs[l]->name, 1e6 * t_leg[l] / n);
  printf("verdicts: %d pass, %d skip, %d fail; %d cases not generated/interpreted\n", t.pass,
         t.skip, t.fail, bad);
  return t.fail || bad ? 1 : 0;
}
