/* test_emu.c - the emulation leg: agrees with the interpreter, and catches the frame mutants. */
/* `test_emu [--unicorn] [cases] [mutant-cases] [all|bench|divergent] [divergent]`: the `emu`
 * leg (the xi engine) or, with --unicorn, `emu-unicorn` (the same checks on Unicorn). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "emu.h"
#include "gen.h"
#include "leg_testlib.h"
#include "legs.h"

#define SEED 0xe3a5eedull

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double cpu_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int engine = AF_EMU_XI; /* --unicorn: AF_EMU_UNICORN */
static int gen_m256;           /* phase 1b: cases with __m256 values (AVX: never emulated) */
static int gen_divergent;      /* "all": constructs gcc and clang disagree on, too */

static af_job *job_gen(af_cc cc, uint64_t index, const af_legs_cfg *cfg) {
  af_gen_opts o;
  af_gen_opts_default(&o);
  o.cc = (int)cc;
  o.allow_m256 = gen_m256;
  o.allow_divergent = gen_divergent;
  return tl_job_gen(&o, SEED + (uint64_t)cc, index, cfg);
}

/* ---- skip reasons, counted ---------------------------------------------------------------- */
typedef struct {
  const char *reason[16];
  int count[16], n;
} reasons;

static void count_reason(reasons *r, const char *why) {
  for (int i = 0; i < r->n; i++)
    if (!strcmp(r->reason[i], why)) {
      r->count[i]++;
      return;
    }
  if (r->n < 16) {
    r->reason[r->n] = why;
    r->count[r->n++] = 1;
  }
}

/* ---- what the cases exercised (so that "0 findings" means something) ---------------------- */
typedef struct {
  int entry_ret[AF_LOC_X87 + 1]; /* the entry's return: by af_loc_kind */
  int host_ret[AF_LOC_X87 + 1];  /* every traced host call's return */
  int host_calls, host_vararg, host_ref, host_stack, host_ptr, entry_stack, entry_ref;
} coverage;

static void cover(coverage *cv, const af_job *j) {
  const af_case *c = &j->c;
  af_callinfo ci;
  if (af_classify(c, &c->funcs[c->entry].sig, &ci, NULL) != AF_OK) return;
  cv->entry_ret[ci.ret.kind]++;
  for (int i = 0; i < ci.nargs; i++) {
    cv->entry_stack += ci.args[i].kind == AF_LOC_STACK;
    cv->entry_ref += ci.args[i].kind == AF_LOC_REF;
  }
  for (int n = 0; n < j->want.nhost_calls; n++) {
    const af_sig *sig = &c->funcs[j->want.host_calls[n].callee].sig;
    if (af_classify(c, sig, &ci, NULL) != AF_OK) continue;
    cv->host_calls++;
    cv->host_ret[ci.ret.kind]++;
    cv->host_vararg += sig->variadic;
    for (int i = 0; i < ci.nargs; i++) {
      cv->host_ref += ci.args[i].kind == AF_LOC_REF;
      cv->host_stack += ci.args[i].kind == AF_LOC_STACK;
      cv->host_ptr += sig->params[i] == AF_T_PTR;
    }
  }
}

static void cover_print(const coverage *cv) {
  printf("  entry returns: %d none, %d reg, %d sret, %d x87; %d stack and %d by-reference "
         "args\n",
         cv->entry_ret[AF_LOC_NONE], cv->entry_ret[AF_LOC_REG], cv->entry_ret[AF_LOC_SRET],
         cv->entry_ret[AF_LOC_X87], cv->entry_stack, cv->entry_ref);
  printf("  host calls: %d (%d variadic); returns %d none, %d reg, %d sret, %d x87; args: %d "
         "stack, %d by reference, %d pointers\n",
         cv->host_calls, cv->host_vararg, cv->host_ret[AF_LOC_NONE], cv->host_ret[AF_LOC_REG],
         cv->host_ret[AF_LOC_SRET], cv->host_ret[AF_LOC_X87], cv->host_stack, cv->host_ref,
         cv->host_ptr);
}

/* ---- 1: agreement with the interpreter ----------------------------------------------------- */
static void agreement(const af_leg *leg, int ncases) {
  af_legs_cfg cfg = {0};
  af_error err = {{0}};
  void *st = NULL;
  CHECKF(leg->init(&cfg, &st, &err) == AF_OK, "init: %s", err.msg);
  if (!st) return;
  for (int cc = 0; cc < AF_CC_COUNT; cc++) {
    int pass = 0, fail = 0, skip = 0, shown = 0, nogen = 0;
    reasons rs = {0};
    coverage cv = {0};
    double t_leg = 0, c_leg = 0;
    for (int i = 0; i < ncases; i++) {
      af_job *j = job_gen((af_cc)cc, (uint64_t)i, &cfg);
      if (!j) {
        nogen++;
        continue;
      }
      tl_collect k;
      double t0 = now(), c0 = cpu_now();
      tl_run(leg, st, j, &k);
      t_leg += now() - t0;
      c_leg += cpu_now() - c0;
      CHECKF(k.ended == 1, "case %d: %d ends", i, k.ended);
      if (k.v == AF_LEG_PASS) pass++;
      if (k.v != AF_LEG_SKIP) cover(&cv, j);
      if (k.v == AF_LEG_SKIP) {
        skip++;
        count_reason(&rs, k.reason ? k.reason : "?");
      }
      if (k.v == AF_LEG_FAIL) {
        fail++;
        for (int f = 0; f < k.nf && shown < 12; f++, shown++)
          fprintf(stderr, "  %s case %d: %s %s: %s\n", af_cc_name((af_cc)cc), i, k.f[f].check,
                  k.f[f].what, k.f[f].detail);
      }
      af_job_unref(j);
    }
    int ran = pass + fail;
    int m = ran + skip ? ran + skip : 1;
    printf("%s %s: %d cases: %d pass, %d fail, %d skipped (%d not generated); in the leg "
           "(compile + emulate): %.0f us/case wall, %.0f us/case cpu\n",
           leg->name, af_cc_name((af_cc)cc), ncases, pass, fail, skip, nogen, 1e6 * t_leg / m,
           1e6 * c_leg / m);
    for (int r = 0; r < rs.n; r++)
      printf("  skipped %d: %s\n", rs.count[r], rs.reason[r]);
    cover_print(&cv);
    CHECKF(fail == 0, "%s: %d cases with findings", af_cc_name((af_cc)cc), fail);
    CHECKF(skip * 100 < ncases, "%s: %d of %d skipped", af_cc_name((af_cc)cc), skip, ncases);
    CHECK(pass > ncases / 2);
  }
  leg->fini(st);
}

/* ---- 1b: __m256 cases are skipped with a reason, never a finding ------------------------- */
static void avx_cases(const af_leg *leg, int ncases) {
  af_legs_cfg cfg = {0};
  af_error err = {{0}};
  void *st = NULL;
  if (leg->init(&cfg, &st, &err) != AF_OK) return;
  gen_m256 = 1;
  int skipped = 0, fail = 0, m256 = 0;
  for (int i = 0; i < ncases; i++) {
    af_job *j = job_gen((af_cc)(i & 1), (uint64_t)(200000 + i), &cfg);
    if (!j) continue;
    int has = 0;
    for (int k = 0; k < j->c.nfuncs; k++) {
      const af_sig *sg = &j->c.funcs[k].sig;
      has |= sg->ret != AF_T_VOID && af_type_has(&j->c, sg->ret, AF_T_M256);
      for (int p = 0; p < sg->nparams; p++)
        has |= af_type_has(&j->c, sg->params[p], AF_T_M256);
    }
    tl_collect k;
    tl_run(leg, st, j, &k);
    m256 += has;
    skipped += k.v == AF_LEG_SKIP;
    fail += k.v == AF_LEG_FAIL;
    if (has)
      CHECKF(k.v == AF_LEG_SKIP && k.reason && strstr(k.reason, "not emulable"),
             "m256 case %d: verdict %d", i, (int)k.v);
    af_job_unref(j);
  }
  gen_m256 = 0;
  printf("%s with __m256 allowed: %d cases, %d with __m256, %d skipped, %d with findings\n",
         leg->name, ncases, m256, skipped, fail);
  CHECK(m256 > 0);
  CHECK(fail == 0);
  leg->fini(st);
}

/* ---- 2: mutants the emulator alone must catch ------------------------------------------- */
typedef struct {
  const char *mutant;
  int cc;                /* -1: both conventions */
  const char *checks[4]; /* any of these counts as caught */
} mutant_want;

static const mutant_want WANT[] = {
    {"w64-stores-below-rsp", AF_CC_WIN64, {"below-rsp"}},
    {"sysv-redzone-overrun", AF_CC_SYSV, {"red-zone"}},
    {"misaligned-calls", -1, {"stack-align"}},
    {"rbx-clobbered", -1, {"callee-saved"}},
    {"r12-r15-clobbered", -1, {"callee-saved"}},
    {"w64-xmm-unsaved", AF_CC_WIN64, {"callee-saved"}},
    {"w64-rsi-rdi-volatile", AF_CC_WIN64, {"callee-saved"}},
    {"w64-locals-in-home-space", AF_CC_WIN64, {"caller-frame", "arg", "result"}},
    {"w64-no-home-space", AF_CC_WIN64, {"caller-frame", "arg", "result"}},
    {"jit-hang", -1, {"timeout"}},
    /* beyond the brief's list: the callout checks and the flags, on generated cases */
    {"df-left-set", -1, {"df"}},
    {"mxcsr-rounding", -1, {"mxcsr"}},
    {"sret-not-returned", -1, {"sret-rax"}},
    {"sysv-vararg-no-al", AF_CC_SYSV, {"vararg-al"}},
    {"w64-vararg-no-dup", AF_CC_WIN64, {"vararg-dup"}},
    {"narrow-not-extended", AF_CC_SYSV, {"arg-ext"}},
    {"jit-segv", -1, {"crash"}},
    {"jit-wild-jump", -1, {"crash"}},
};

#define MAX_CHECKS 24
typedef struct {
  char name[32];
  int cases;
} check_count;

/* Counts a case for check f->check; the first finding of each check is printed as a sample. */
static void add_check(check_count *cs, int *n, const af_finding *f) {
  for (int i = 0; i < *n; i++)
    if (!strcmp(cs[i].name, f->check)) {
      cs[i].cases++;
      return;
    }
  if (*n < MAX_CHECKS) {
    printf("    e.g. %s %s: %s\n", f->check, f->what, f->detail);
    snprintf(cs[*n].name, sizeof cs[*n].name, "%s", f->check);
    cs[(*n)++].cases = 1;
  }
}

/* all = 1: every mutant of the JIT, "caught" = any finding (a survey, no CHECK). */
static void mutants(const af_leg *leg, int maxcases, int all) {
  size_t count = all ? (size_t)af_jit_mutant_count() : sizeof WANT / sizeof WANT[0];
  for (size_t m = 0; m < count; m++) {
    mutant_want any_check = {af_jit_mutant_name((int)m), -1, {NULL}};
    const mutant_want *w = all ? &any_check : &WANT[m];
    af_legs_cfg cfg = {0};
    cfg.inject = w->mutant;
    af_error err = {{0}};
    void *st = NULL;
    if (leg->init(&cfg, &st, &err) != AF_OK) {
      CHECKF(0, "init: %s", err.msg);
      continue;
    }
    check_count cs[MAX_CHECKS];
    int ncs = 0, tried = 0, caught = 0, any = 0;
    /* stop once enough cases showed it (a hang costs its whole budget) */
    int enough = !strcmp(w->mutant, "jit-hang") ? 3 : 20;
    for (int i = 0; i < maxcases && caught < enough; i++) {
      af_cc cc = w->cc >= 0 ? (af_cc)w->cc : (af_cc)(i & 1);
      af_job *j = job_gen(cc, (uint64_t)(100000 + i), &cfg);
      if (!j) continue;
      tl_collect k;
      tl_run(leg, st, j, &k);
      tried++;
      if (k.v == AF_LEG_FAIL) {
        any++;
        int hit = 0;
        char seen[AF_FINDINGS_MAX][32];
        int nseen = 0;
        for (int f = 0; f < k.nf; f++) {
          int dup = 0;
          for (int s = 0; s < nseen; s++)
            dup |= !strcmp(seen[s], k.f[f].check);
          if (dup) continue;
          snprintf(seen[nseen++], 32, "%s", k.f[f].check);
          add_check(cs, &ncs, &k.f[f]);
          for (int c = 0; c < 4 && w->checks[c]; c++)
            hit |= !strcmp(w->checks[c], k.f[f].check);
        }
        caught += hit || all;
      }
      af_job_unref(j);
    }
    char acc[96] = "any check";
    if (w->checks[0]) acc[0] = 0;
    for (int c = 0; c < 4 && w->checks[c]; c++)
      snprintf(acc + strlen(acc), sizeof acc - strlen(acc), "%s%s", c ? "|" : "", w->checks[c]);
    printf("mutant %-26s %3d/%3d cases caught by %s (%d with findings):", w->mutant, caught, tried,
           acc, any);
    for (int i = 0; i < ncs; i++)
      printf(" %s=%d", cs[i].name, cs[i].cases);
    printf("\n");
    if (!all)
      CHECKF(caught > 0, "mutant %s: not caught by the emu leg (%d cases)", w->mutant, tried);
    leg->fini(st);
  }
}

/* ---- 3 (optional, argv[3] = "bench"): what the budgets cost ---------------------------- */
static void noop_begin(void *u, const af_job *j, const char *leg) { (void)u, (void)j, (void)leg; }

static void bench(int ncases) {
  static const struct {
    const char *name;
    uint64_t insns, timeout;
  } cfgs[] = {{"default (budget + timeout)", 0, 0},
              {"no instruction budget", AF_EMU_OFF, 0},
              {"no timeout", 0, AF_EMU_OFF},
              {"neither", AF_EMU_OFF, AF_EMU_OFF}};
  af_legs_cfg lc = {0};
  af_job **jobs = calloc((size_t)ncases * AF_CC_COUNT, sizeof *jobs);
  int n = 0;
  for (int cc = 0; cc < AF_CC_COUNT; cc++)
    for (int i = 0; i < ncases; i++)
      if ((jobs[n] = job_gen((af_cc)cc, (uint64_t)i, &lc))) n++;
  { /* the JIT compile: the job's shared one (af_leg_compile_native), which the runs below
     * then reuse, so their figures are the emulation alone */
    double w0 = now(), c0 = cpu_now();
    for (int i = 0; i < n; i++) {
      af_jit *jit;
      af_error err;
      if (af_leg_compile_native(jobs[i], NULL, &jit, &err) == AF_OK) af_jit_free(jit);
    }
    printf("bench %-28s %d runs: %.0f us/run wall, %.0f us/run cpu\n", "JIT compile alone", n,
           1e6 * (now() - w0) / n, 1e6 * (cpu_now() - c0) / n);
  }
  for (size_t k = 0; k < sizeof cfgs / sizeof cfgs[0]; k++) {
    af_emu_cfg ec = {cfgs[k].insns, cfgs[k].timeout, 1, 0, engine};
    af_emu *e;
    af_error err;
    if (af_emu_new(&ec, &e, &err) != AF_OK) continue;
    af_leg_sink sink = {NULL, noop_begin, NULL};
    int bad = 0;
    double w0 = now(), c0 = cpu_now();
    for (int i = 0; i < n; i++) {
      af_findings fs = {0};
      const char *skip;
      bad += af_emu_run(e, jobs[i], &sink, "emu", &fs, &skip) != AF_OK || fs.n;
    }
    double w = now() - w0, c = cpu_now() - c0;
    printf("bench %-28s %d runs: %.0f us/run wall, %.0f us/run cpu (%d not clean)\n", cfgs[k].name,
           n, 1e6 * w / n, 1e6 * c / n, bad);
    af_emu_free(e);
  }
  for (int i = 0; i < n; i++)
    af_job_unref(jobs[i]);
  free(jobs);
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "--unicorn")) {
    engine = AF_EMU_UNICORN;
    argv++, argc--;
  }
  int n = argc > 1 ? atoi(argv[1]) : 2000;
  int nm = argc > 2 ? atoi(argv[2]) : 400;
  /* named directly: the registry's weak reference does not pull leg_emu.o from the archive */
  extern const af_leg af_leg_emu, af_leg_emu_unicorn;
  const af_leg *leg = engine == AF_EMU_UNICORN ? &af_leg_emu_unicorn : &af_leg_emu;
  CHECK(af_leg_find(leg->name) == leg);
  if (argc > 3 && !strcmp(argv[3], "all")) {
    gen_divergent = argc > 4 && !strcmp(argv[4], "divergent");
    mutants(leg, nm, 1);
    return check_done();
  }
  if (argc > 3 && !strcmp(argv[3], "bench")) {
    bench(n);
    return check_done();
  }
  gen_divergent = argc > 3 && !strcmp(argv[3], "divergent");
  double t0 = now();
  agreement(leg, n);
  avx_cases(leg, n / 10);
  double t1 = now();
  mutants(leg, nm, 0);
  double t2 = now();
  printf("agreement %.1f s, mutants %.1f s\n", t1 - t0, t2 - t1);
  return check_done();
}
