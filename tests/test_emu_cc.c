/* test_emu_cc.c - the emu-cc sanity leg: compiled caller stubs raise no finding in Unicorn. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "emu.h"
#include "gen.h"
#include "leg_testlib.h"
#include "legs.h"
#include "oracle.h"

#define SEED 0xe3a5eedcc0ull

extern const af_leg af_leg_emu_cc; /* legs.c registers it; declared here for the test */

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int gen_all; /* phase 1b: constructs gcc and clang disagree on, too (no __m256: AVX) */

static af_job *job_gen(af_cc cc, uint64_t index, const af_legs_cfg *cfg) {
  af_gen_opts o;
  af_gen_opts_default(&o);
  o.cc = (int)cc;
  o.allow_divergent = gen_all;
  return tl_job_gen(&o, SEED + (uint64_t)cc, index, cfg);
}

static void run(void *st, af_job *j, tl_collect *k) { tl_run(&af_leg_emu_cc, st, j, k); }

#define MAX_REASONS 16
typedef struct {
  int n, count[MAX_REASONS];
  const char *reason[MAX_REASONS];
} reasons;

static void count_reason(reasons *rs, const char *r) {
  for (int i = 0; i < rs->n; i++)
    if (!strcmp(rs->reason[i], r)) {
      rs->count[i]++;
      return;
    }
  if (rs->n < MAX_REASONS) {
    rs->reason[rs->n] = r;
    rs->count[rs->n++] = 1;
  }
}

static const char *clang(void) {
  const char *e = getenv("AF_TEST_CLANG");
  return e && *e ? e : "/usr/bin/clang-19";
}

/* The entry stubs of every case, compiled in batches up front into the on-disk cache the leg's
 * pool reads (the leg itself waits for one stub at a time: a cold cache would cost a compiler
 * run per case). */
static void prewarm(const char *cc, int ncases) {
  af_stub_pool_opts o = {0};
  o.cc = cc;
  af_stub_pool *p = NULL;
  af_error err = {{0}};
  if (af_stub_pool_new(&o, &p, &err) != AF_OK) return; /* the leg's init says why */
  double t0 = now();
  uint64_t *hash = calloc((size_t)ncases * AF_CC_COUNT, sizeof *hash);
  int n = 0;
  for (int cc = 0; cc < AF_CC_COUNT && hash; cc++)
    for (int i = 0; i < ncases; i++) {
      af_job *j = job_gen((af_cc)cc, (uint64_t)i, NULL);
      if (!j) continue;
      af_stub_src src;
      if (af_stub_emit(&j->c, &j->c.funcs[j->c.entry].sig, &src, &err) == AF_OK) {
        if (af_stub_pool_request(p, &src) != AF_STUB_BACKLOG) hash[n++] = src.hash;
        af_stub_src_free(&src);
      }
      af_job_unref(j);
    }
  for (int i = 0; i < n; i++)
    af_stub_pool_wait(p, hash[i], -1);
  printf("prewarm: %d entry stubs ready in %.1f s\n", n, now() - t0);
  free(hash);
  af_stub_pool_free(p);
}

/* ---- 1: no finding on compiler-generated code ------------------------------------------- */
static void sanity(int ncases) {
  af_legs_cfg cfg = {0};
  cfg.ncc = 1;
  cfg.cc[0] = clang();
  af_error err = {{0}};
  void *st = NULL;
  af_status s = af_leg_emu_cc.init(&cfg, &st, &err);
  CHECKF(s == AF_OK, "init: %s", err.msg);
  if (s != AF_OK) return;
  for (int cc = 0; cc < AF_CC_COUNT; cc++) {
    int pass = 0, fail = 0, skip = 0, shown = 0, nogen = 0;
    reasons rs = {0};
    double t0 = now();
    for (int i = 0; i < ncases; i++) {
      af_job *j = job_gen((af_cc)cc, (uint64_t)i, &cfg);
      if (!j) {
        nogen++;
        continue;
      }
      tl_collect k;
      run(st, j, &k);
      CHECKF(k.ended == 1, "case %d: %d ends", i, k.ended);
      if (k.v == AF_LEG_PASS) pass++;
      if (k.v == AF_LEG_SKIP) {
        skip++;
        count_reason(&rs, k.reason ? k.reason : "?");
      }
      if (k.v == AF_LEG_FAIL) {
        fail++;
        for (int f = 0; f < k.nf && shown < 16; f++, shown++)
          fprintf(stderr, "  %s case %d: %s %s: %s\n", af_cc_name((af_cc)cc), i, k.f[f].check,
                  k.f[f].what, k.f[f].detail);
      }
      af_job_unref(j);
    }
    printf("emu-cc %s%s (%s): %d cases: %d pass, %d fail, %d skipped (%d not generated), %.1f s\n",
           af_cc_name((af_cc)cc), gen_all ? " all" : "", cfg.cc[0], ncases, pass, fail, skip, nogen,
           now() - t0);
    for (int r = 0; r < rs.n; r++)
      printf("  skipped %d: %s\n", rs.count[r], rs.reason[r]);
    CHECKF(fail == 0, "%s: %d cases with findings", af_cc_name((af_cc)cc), fail);
    CHECKF(pass > ncases / 2, "%s: only %d of %d ran", af_cc_name((af_cc)cc), pass, ncases);
  }
  af_leg_emu_cc.fini(st);
}

/* ---- 2: the checks still bite through a stub: a mutant the emulator catches ------------- */
static void mutant(const char *name, af_cc cc, const char *check, int maxcases) {
  af_legs_cfg cfg = {0};
  cfg.ncc = 1;
  cfg.cc[0] = clang();
  cfg.inject = name;
  af_error err = {{0}};
  void *st = NULL;
  if (af_leg_emu_cc.init(&cfg, &st, &err) != AF_OK) {
    CHECKF(0, "init: %s", err.msg);
    return;
  }
  int caught = 0, tried = 0;
  for (int i = 0; i < maxcases && caught < 5; i++) {
    af_job *j = job_gen(cc, (uint64_t)(100000 + i), &cfg);
    if (!j) continue;
    tl_collect k;
    run(st, j, &k);
    tried++;
    int hit = 0;
    for (int f = 0; f < k.nf; f++)
      hit |= !strcmp(k.f[f].check, check);
    caught += hit;
    af_job_unref(j);
  }
  printf("mutant %-22s (%s): %d/%d cases caught by %s\n", name, af_cc_name(cc), caught, tried,
         check);
  CHECKF(caught > 0, "%s: never caught by %s", name, check);
  af_leg_emu_cc.fini(st);
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 200;
  prewarm(clang(), n);
  sanity(n);
  /* 1b: the divergent constructs too (skips counted by reason: the known deviations) */
  int nall = argc > 2 ? atoi(argv[2]) : 100;
  gen_all = 1;
  prewarm(clang(), nall);
  sanity(nall);
  gen_all = 0;
  mutant("rbx-clobbered", AF_CC_SYSV, "callee-saved", 60);
  mutant("w64-xmm-unsaved", AF_CC_WIN64, "callee-saved", 60);
  mutant("sysv-redzone-overrun", AF_CC_SYSV, "red-zone", 60);
  return check_done();
}
