/* test_emu_engines.c - the emulation leg's cross-check: xi and Unicorn give the same findings. */
#include <capstone/capstone.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "emu.h"
#include "leg_testlib.h"
#include "legs.h"

/* `test_emu_engines [cases] [divergent-cases] [mutant-cases]` (defaults 300, 100, 400);
 * `test_emu_engines --case FILE.case [MUTANT] [INDEX]`: one case on both engines, every
 * finding of each printed (the triage of a difference a campaign with --legs emu,emu-unicorn
 * found; INDEX: the case's index, which seeds the garbage, default 0).
 *
 * The same job runs on an af_emu over xi and on one over Unicorn, with the same garbage seed
 * and the same compile (the job's shared one), so both engines run the very same bytes from
 * the very same state: every hook sees the same accesses, and the two must come to the same
 * verdict (run or skip, with the same reason) and the same findings, compared as (check,
 * what) pairs in order (what = where: the register, argument or instruction). Then:
 *   1. `cases` generated cases per convention and `divergent-cases` with the constructs gcc
 *      and clang disagree on: no difference, and no finding at all (the clean JIT).
 *   2. every JIT mutant (jit/mutants.h): cases (divergent constructs on, both conventions)
 *      until Unicorn reports a finding; xi must report a finding with Unicorn's first check in
 *      that case. Other differences are printed (a survey, not a failure), each with the case
 *      (seed, index, convention) and, for a crash, the instruction at the crash, for
 *      /work/briefs/s5/xi-bugs.txt.
 * Printed: each engine's cost per case (compile excluded: the compile is shared and made
 * before either run is timed). */

#define SEED     0xe1e1e5eedull
#define SEED_MUT 0x3e1e1e5eedull

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct {
  af_emu *e;
  const char *name;
  double secs;
  int runs;
} engine;

typedef struct {
  af_status s;
  const char *skip;
  af_findings fs;
} outcome;

static void run_on(engine *g, af_job *j, outcome *o) {
  memset(o, 0, sizeof *o);
  double t0 = now();
  o->s = af_emu_run(g->e, j, NULL, "emu", &o->fs, &o->skip);
  g->secs += now() - t0;
  g->runs++;
}

/* The instruction at a finding's "fN+0xOFF" (from the job's shared compile), as text. */
static void insn_at(af_job *j, const char *where, char *out, size_t n) {
  out[0] = 0;
  int k;
  unsigned long long off;
  if (sscanf(where, "f%d+0x%llx", &k, &off) != 2) return;
  af_jit *jit = NULL;
  af_error err = {{0}};
  if (af_leg_compile_native(j, NULL, &jit, &err) != AF_OK) return;
  const uint8_t *p = (const uint8_t *)af_jit_code(jit, k);
  csh cs;
  if (p && cs_open(CS_ARCH_X86, CS_MODE_64, &cs) == CS_ERR_OK) {
    cs_insn *in = NULL;
    if (cs_disasm(cs, p + off, 16, (uint64_t)(uintptr_t)(p + off), 1, &in) == 1) {
      char hex[40] = "";
      for (int b = 0; b < in[0].size && b < 15; b++)
        snprintf(hex + 2 * b, sizeof hex - 2 * (size_t)b, "%02x", in[0].bytes[b]);
      snprintf(out, n, "%.16s %.60s (%s)", in[0].mnemonic, in[0].op_str, hex);
      cs_free(in, 1);
    } else {
      snprintf(out, n, "undecodable %02x %02x %02x %02x", p[off], p[off + 1], p[off + 2],
               p[off + 3]);
    }
    cs_close(&cs);
  }
  af_jit_free(jit);
}

/* 0 if both outcomes are the same verdict and the same (check, what) list; else prints why. */
static int differ(af_job *j, const outcome *x, const outcome *u, const char *ctx, int show) {
  char why[200] = "";
  if (x->s != u->s)
    snprintf(why, sizeof why, "verdict: xi %s (%s), unicorn %s (%s)", af_strerror(x->s),
             x->skip ? x->skip : "-", af_strerror(u->s), u->skip ? u->skip : "-");
  else if (x->s != AF_OK && strcmp(x->skip ? x->skip : "", u->skip ? u->skip : ""))
    snprintf(why, sizeof why, "skip reason: xi %s, unicorn %s", x->skip, u->skip);
  else if (x->fs.n != u->fs.n)
    snprintf(why, sizeof why, "xi %d findings, unicorn %d", x->fs.n, u->fs.n);
  else
    for (int i = 0; i < x->fs.n && !why[0]; i++)
      if (strcmp(x->fs.f[i].check, u->fs.f[i].check) || strcmp(x->fs.f[i].what, u->fs.f[i].what))
        snprintf(why, sizeof why, "finding %d differs", i);
  if (!why[0]) return 0;
  printf("  DIFF %s: case (seed 0x%llx, index %llu, %s): %s\n", ctx, (unsigned long long)j->seed,
         (unsigned long long)j->index, af_cc_name(j->c.funcs[j->c.entry].sig.cc), why);
  for (int e = 0; e < 2; e++) {
    const outcome *o = e ? u : x;
    for (int i = 0; i < o->fs.n && i < show; i++) {
      char ins[128] = "";
      insn_at(j, o->fs.f[i].what, ins, sizeof ins); /* where `what` names an instruction */
      printf("    %-7s %s %s: %s%s%s\n", e ? "unicorn" : "xi", o->fs.f[i].check, o->fs.f[i].what,
             o->fs.f[i].detail, ins[0] ? " | insn: " : "", ins);
    }
  }
  return 1;
}

static af_job *job(af_cc cc, int divergent, uint64_t seed, uint64_t index, const af_legs_cfg *cfg) {
  af_gen_opts o;
  af_gen_opts_default(&o);
  o.cc = (int)cc;
  o.allow_divergent = divergent;
  af_job *j = tl_job_gen(&o, seed + (uint64_t)cc, index, cfg);
  /* the shared compile both runs take (af_leg_compile_native), made before either is timed */
  af_jit *jit = NULL;
  af_error err = {{0}};
  if (j && af_leg_compile_native(j, NULL, &jit, &err) == AF_OK) af_jit_free(jit);
  return j;
}

/* ---- 1: clean JIT --------------------------------------------------------------------------- */
static void clean(engine *x, engine *u, int ncases, int ndiv) {
  af_legs_cfg cfg = {0};
  for (int cc = 0; cc < AF_CC_COUNT; cc++)
    for (int div = 0; div < 2; div++) {
      int n = div ? ndiv : ncases, ran = 0, skipped = 0, diffs = 0, xf = 0, uf = 0;
      for (int i = 0; i < n; i++) {
        af_job *j = job((af_cc)cc, div, SEED, (uint64_t)(div ? 50000 + i : i), &cfg);
        if (!j) continue;
        outcome ox, ou;
        run_on(x, j, &ox);
        run_on(u, j, &ou);
        char ctx[32];
        snprintf(ctx, sizeof ctx, "clean%s", div ? " divergent" : "");
        diffs += differ(j, &ox, &ou, ctx, 6);
        ran += ox.s == AF_OK;
        skipped += ox.s != AF_OK;
        xf += ox.s == AF_OK && ox.fs.n;
        uf += ou.s == AF_OK && ou.fs.n;
        af_job_unref(j);
      }
      printf("%s%s: %d cases: %d run, %d skipped; findings: xi %d, unicorn %d; %d differ\n",
             af_cc_name((af_cc)cc), div ? " divergent" : "", n, ran, skipped, xf, uf, diffs);
      CHECKF(diffs == 0, "%s: %d cases differ between the engines", af_cc_name((af_cc)cc), diffs);
      CHECKF(xf == 0 && uf == 0, "%s: findings on the clean JIT (xi %d, unicorn %d)",
             af_cc_name((af_cc)cc), xf, uf);
      CHECK(n == 0 || ran > n / 2);
    }
}

/* ---- 2: mutants ------------------------------------------------------------------------------ */
static int has_check(const outcome *o, const char *check) {
  for (int i = 0; i < o->fs.n; i++)
    if (!strcmp(o->fs.f[i].check, check)) return 1;
  return 0;
}

static void mutants(engine *x, engine *u, int maxcases) {
  int nm = af_jit_mutant_count(), agreed = 0, found = 0, surveyed_diffs = 0;
  for (int m = 0; m < nm; m++) {
    af_legs_cfg cfg = {0};
    cfg.inject = af_jit_mutant_name(m);
    int i, hit = 0;
    outcome ox, ou;
    af_job *j = NULL;
    for (i = 0; i < maxcases && !hit; i++) {
      j = job((af_cc)(i & 1), 1, SEED_MUT, (uint64_t)i, &cfg);
      if (!j) continue;
      run_on(u, j, &ou);
      if (ou.s == AF_OK && ou.fs.n) {
        run_on(x, j, &ox);
        hit = 1;
        break;
      }
      af_job_unref(j);
      j = NULL;
    }
    if (!hit) {
      printf("mutant %-26s unicorn: no finding in %d cases\n", cfg.inject, i);
      continue;
    }
    found++;
    int same = ox.s == AF_OK && has_check(&ox, ou.fs.f[0].check);
    agreed += same;
    printf("mutant %-26s case %3d (%s): unicorn %s (%d), xi %s (%d)%s\n", cfg.inject, i,
           af_cc_name(j->c.funcs[j->c.entry].sig.cc), ou.fs.f[0].check, ou.fs.n,
           ox.s == AF_OK && ox.fs.n ? ox.fs.f[0].check
           : ox.s == AF_OK          ? "pass"
                                    : "skip",
           ox.fs.n, same ? "" : "  <- xi misses it");
    surveyed_diffs += differ(j, &ox, &ou, cfg.inject, 6);
    CHECKF(same, "mutant %s: xi has no %s finding in the case Unicorn caught it (index %d)",
           cfg.inject, ou.fs.f[0].check, i);
    af_job_unref(j);
  }
  printf("mutants: %d of %d caught by unicorn; xi agrees on the first check in %d; %d cases "
         "with other differences\n",
         found, nm, agreed, surveyed_diffs);
  CHECK(found > nm / 2);
}

/* --case: one .case file on both engines, all findings printed; 0 if they agree. */
static int one_case(engine *x, engine *u, const char *path, const char *mutant, uint64_t index) {
  af_legs_cfg cfg = {0};
  cfg.inject = mutant;
  af_job *j = calloc(1, sizeof *j);
  af_error err = {{0}};
  if (!j || af_parse_file(path, &j->c, &err) != AF_OK || af_interp(&j->c, 0, &j->want, &err)) {
    fprintf(stderr, "%s: %s\n", path, err.msg);
    free(j);
    return 2;
  }
  j->refs = 1, j->index = index, j->cfg = &cfg;
  outcome ox, ou;
  run_on(x, j, &ox);
  run_on(u, j, &ou);
  int d = differ(j, &ox, &ou, path, AF_FINDINGS_MAX);
  if (!d) {
    printf("%s: the same on both engines (%s, %d findings)\n", path,
           ox.s == AF_OK ? "ran" : ox.skip, ox.fs.n);
    for (int i = 0; i < ox.fs.n; i++)
      printf("  %s %s: %s\n", ox.fs.f[i].check, ox.fs.f[i].what, ox.fs.f[i].detail);
  }
  af_job_unref(j);
  return d;
}

int main(int argc, char **argv) {
  if (argc > 2 && !strcmp(argv[1], "--case")) {
    engine x = {NULL, "xi", 0, 0}, u = {NULL, "unicorn", 0, 0};
    af_error err = {{0}};
    af_emu_cfg cx = {.garbage = 0x9a7ba9e, .engine = AF_EMU_XI};
    af_emu_cfg cu = {.garbage = 0x9a7ba9e, .engine = AF_EMU_UNICORN};
    if (af_emu_new(&cx, &x.e, &err) != AF_OK || af_emu_new(&cu, &u.e, &err) != AF_OK) {
      fprintf(stderr, "%s\n", err.msg);
      return 2;
    }
    int rc = one_case(&x, &u, argv[2], argc > 3 && argv[3][0] ? argv[3] : NULL,
                      argc > 4 ? strtoull(argv[4], NULL, 0) : 0);
    af_emu_free(x.e);
    af_emu_free(u.e);
    return rc;
  }
  int ncases = argc > 1 ? atoi(argv[1]) : 300;
  int ndiv = argc > 2 ? atoi(argv[2]) : 100;
  int nmut = argc > 3 ? atoi(argv[3]) : 400;
  af_legs_process_init();
  engine x = {NULL, "xi", 0, 0}, u = {NULL, "unicorn", 0, 0};
  af_error err = {{0}};
  af_emu_cfg cx = {.garbage = 0x9a7ba9e, .engine = AF_EMU_XI};
  af_emu_cfg cu = {.garbage = 0x9a7ba9e, .engine = AF_EMU_UNICORN};
  af_status s = af_emu_new(&cu, &u.e, &err);
  if (s == AF_ERR_UNSUPPORTED) {
    printf("skipped: %s\n", err.msg);
    return check_done();
  }
  CHECKF(s == AF_OK, "unicorn: %s", err.msg);
  CHECKF(af_emu_new(&cx, &x.e, &err) == AF_OK, "xi: %s", err.msg);
  if (!x.e || !u.e) return check_done();
  double t0 = now();
  clean(&x, &u, ncases, ndiv);
  double t1 = now();
  mutants(&x, &u, nmut);
  double t2 = now();
  printf("clean %.1f s, mutants %.1f s; per run (the compile excluded): xi "
         "%.0f us (%d runs), unicorn %.0f us (%d runs)\n",
         t1 - t0, t2 - t1, 1e6 * x.secs / (x.runs ? x.runs : 1), x.runs,
         1e6 * u.secs / (u.runs ? u.runs : 1), u.runs);
  af_emu_free(x.e);
  af_emu_free(u.e);
  return check_done();
}
