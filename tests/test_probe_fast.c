/* test_probe_fast.c - the probes' and libffi legs' session-6 shortcuts against the long way. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "jit.h"
#include "legs.h"
#include "oracle.h"
#include "probe.h"
#include "probe_internal.h" /* the inline garbage draws, against gen's af_rng_next */

/* Helper PRB made the per-case path cheaper without changing a finding (bench/perf_finddump.c
 * compares whole runs of two builds). What can be compared within one build is compared here:
 *  - af_probe_unsupported against the definition it shortcuts (af_type_has over every
 *    signature), on generated cases with __m256 values allowed;
 *  - af_probe_opts.ci (a classification handed in) against the run's own: the same outcome
 *    and findings, on generated cases with interposers and callouts, clean and with mutants;
 *    a wrong classification handed in must change something (the run does use it);
 *  - af_ffi_prepare's skip for libffi's R9/XMM0 bug against the full classification it now
 *    runs only for signatures that can have it;
 *  - the probes' inline garbage (probe_garbage, probe_garbage_fill, probe_garbage_pad, the
 *    local-state draws) against af_rng_next and the byte loops they replace;
 *  - session 8 (helper PRB3): the x87 tag count, the callee-saved register sets, probe_copy and
 *    probe_same_value against the loops and calls they replace (test_shortcuts8). */

#define SEED 0x5eed6ull

static const char *unsupported_ref(const af_case *c) {
  for (int k = 0; k < c->nfuncs; k++) {
    const af_sig *s = &c->funcs[k].sig;
    if (s->ret != AF_T_VOID && af_type_has(c, s->ret, AF_T_M256)) return "m256";
    for (int i = 0; i < s->nparams; i++)
      if (af_type_has(c, s->params[i], AF_T_M256)) return "m256";
  }
  return NULL;
}

static void test_unsupported(void) {
  af_gen_opts go;
  af_gen_opts_default(&go);
  go.allow_m256 = 1;
  int yes = 0, no = 0, nested = 0;
  for (uint64_t i = 0; i < 3000; i++) {
    af_case c;
    af_error err = {{0}};
    go.cc = (i & 1) ? AF_CC_WIN64 : AF_CC_SYSV;
    if (af_gen_case(&go, SEED, i, &c, NULL, &err) != AF_OK) {
      CHECKF(0, "case %llu: %s", (unsigned long long)i, err.msg);
      af_case_free(&c);
      continue;
    }
    int want = unsupported_ref(&c) != NULL, got = af_probe_unsupported(&c) != NULL;
    CHECKF(want == got, "case %llu: unsupported %d, reference %d", (unsigned long long)i, got,
           want);
    yes += want;
    no += !want;
    /* cases where only a nested __m256 (a field or an element) makes it unsupported */
    int direct = 0;
    for (int k = 0; k < c.nfuncs; k++) {
      const af_sig *s = &c.funcs[k].sig;
      direct |= s->ret == AF_T_M256;
      for (int p = 0; p < s->nparams; p++)
        direct |= s->params[p] == AF_T_M256;
    }
    nested += want && !direct;
    af_case_free(&c);
  }
  CHECKF(yes > 50 && no > 50 && nested > 5, "unsupported %d, supported %d, nested only %d", yes, no,
         nested);
}

/* ---- af_probe_opts.ci ------------------------------------------------------------------ */
typedef struct {
  af_findings fs;
  af_probe_outcome out;
  af_status s;
} run_result;

/* One run of job j's entry (compiled with inject) through the probes, interposers included. */
static void probe_once(af_probe *p, af_job *j, const char *inject, const af_callinfo *ci,
                       run_result *r) {
  const af_case *c = &j->c;
  const void *host_fns[AF_MAX_FUNCS] = {0};
  for (int k = 0; k < c->nfuncs; k++)
    host_fns[k] = c->funcs[k].host ? af_callouts[k] : k != c->entry ? af_interposers[k] : NULL;
  af_jit_opts jo = {0}, ro = {0};
  jo.inject = inject;
  jo.host_fns = host_fns;
  jo.rt_probe = (const void *)af_rt_probe;
  af_jit *jit = NULL, *ref = NULL;
  af_error err = {{0}};
  memset(r, 0, sizeof *r);
  r->s = af_jit_compile(c, &jo, &jit, &err);
  if (r->s == AF_OK) r->s = af_jit_compile(c, &ro, &ref, &err);
  if (r->s != AF_OK) {
    af_jit_free(jit);
    return;
  }
  _Alignas(64) static uint8_t objmem[AF_MAX_OBJECTS][AF_REGION_SIZE];
  uint8_t *objs[AF_MAX_OBJECTS];
  for (int k = 0; k < AF_MAX_OBJECTS; k++)
    objs[k] = objmem[k];
  for (int k = 0; k < c->nobjects; k++)
    memcpy(objs[k], c->objects[k].init, AF_REGION_SIZE);
  af_jit_set_objects(jit, objs, c->nobjects);
  af_jit_set_objects(ref, objs, c->nobjects);
  const void *real[AF_MAX_FUNCS] = {0}, *code[AF_MAX_FUNCS] = {0};
  for (int k = 0; k < c->nfuncs; k++) {
    if (c->funcs[k].host) real[k] = af_jit_code(ref, k);
    if (host_fns[k] && !c->funcs[k].host) code[k] = af_jit_code(jit, k);
  }
  af_probe_opts o = {c, &j->want, af_jit_fn(jit, c->entry), real, objs, 0x77, "t", code, ci, 0};
  r->s = af_probe_run(p, &o, &r->fs, &r->out, &err);
  if (r->s == AF_OK) af_probe_check_outcome(&o, &r->out, &r->fs);
  af_jit_free(jit);
  af_jit_free(ref);
}

static int same_run(const run_result *a, const run_result *b) {
  if (a->s != b->s || a->fs.n != b->fs.n || a->fs.dropped != b->fs.dropped) return 0;
  if (a->s != AF_OK) return 1;
  if (a->out.checksum != b->out.checksum || a->out.ncalls != b->out.ncalls ||
      a->out.nhost_calls != b->out.nhost_calls || memcmp(a->out.ret, b->out.ret, sizeof a->out.ret))
    return 0;
  for (int i = 0; i < a->fs.n; i++)
    if (strcmp(a->fs.f[i].check, b->fs.f[i].check) || strcmp(a->fs.f[i].what, b->fs.f[i].what) ||
        strcmp(a->fs.f[i].detail, b->fs.f[i].detail))
      return 0;
  return 1;
}

static void test_given_ci(void) {
  af_probe *p = NULL;
  CHECK(af_probe_new(&p) == AF_OK);
  if (!p) return;
  /* clean, then mutants whose findings come from the classification's every part: argument
   * registers and stack slots, the sret pointer, callee-saved registers */
  static const char *const injects[] = {NULL,
                                        "sysv-struct-split",
                                        "float-as-double",
                                        "w64-byref-no-copy",
                                        "sret-not-returned",
                                        "w64-xmm-unsaved"}; /* none of them crashes the run or reads
                                                              stale stack bytes (which differ
                                                              between two runs) */
  af_gen_opts go;
  af_gen_opts_default(&go);
  int runs = 0, with_findings = 0, changed_by_wrong = 0, wrong_runs = 0;
  for (size_t m = 0; m < sizeof injects / sizeof injects[0]; m++) {
    af_legs_cfg cfg = {0};
    for (uint64_t i = 0; i < 200; i++) {
      af_job *j = af_job_new(&cfg, SEED, i);
      if (!j) break;
      af_error err = {{0}};
      go.cc = (i & 1) ? AF_CC_WIN64 : AF_CC_SYSV;
      af_status s = af_gen_case(&go, SEED, i, &j->c, NULL, &err);
      if (s == AF_OK) s = af_interp(&j->c, 0, &j->want, &err);
      if (s != AF_OK || af_probe_unsupported(&j->c)) {
        af_job_unref(j);
        continue;
      }
      af_callinfo ci[AF_MAX_FUNCS];
      for (int k = 0; k < j->c.nfuncs && s == AF_OK; k++)
        s = af_classify(&j->c, &j->c.funcs[k].sig, &ci[k], &err);
      CHECKF(s == AF_OK, "case %llu: classify: %s", (unsigned long long)i, err.msg);
      run_result a, b;
      probe_once(p, j, injects[m], NULL, &a);
      probe_once(p, j, injects[m], ci, &b);
      CHECKF(same_run(&a, &b), "case %llu, %s: the run with a given classification differs",
             (unsigned long long)i, injects[m] ? injects[m] : "clean");
      runs++;
      with_findings += a.fs.n > 0;
      /* a wrong classification handed in (the entry's return read from RDX / XMM1 instead
       * of RAX / XMM0: harmless to the run): the result must change, else the field is not
       * read */
      const af_loc *er = &ci[j->c.entry].ret;
      if (!injects[m] && a.s == AF_OK && er->kind == AF_LOC_REG && er->nparts == 1 &&
          (er->parts[0].reg == AF_RAX || er->parts[0].reg == AF_XMM0)) {
        af_callinfo bad[AF_MAX_FUNCS];
        memcpy(bad, ci, sizeof bad);
        af_part *pt = &bad[j->c.entry].ret.parts[0];
        pt->reg = pt->reg == AF_RAX ? AF_RDX : AF_XMM1;
        run_result w;
        probe_once(p, j, NULL, bad, &w);
        wrong_runs++;
        changed_by_wrong += !same_run(&a, &w);
      }
      af_job_unref(j);
    }
  }
  af_probe_free(p);
  CHECKF(runs > 400 && with_findings > 20, "%d runs, %d with findings", runs, with_findings);
  CHECKF(wrong_runs > 20 && changed_by_wrong > wrong_runs / 2,
         "a wrong classification changed %d of %d runs", changed_by_wrong, wrong_runs);
}

/* ---- libffi: the R9 / XMM0 skip ---------------------------------------------------------- */
static int r9_ref(const af_case *c, const af_sig *sig) {
  af_callinfo ci;
  if (af_classify(c, sig, &ci, NULL) != AF_OK) return 0;
  for (int i = 0; i < ci.nargs; i++) {
    const af_loc *l = &ci.args[i];
    if (l->kind == AF_LOC_REG && l->nparts == 2 && l->parts[0].reg == AF_R9 &&
        l->parts[1].cls == AF_CLS_SSE && l->parts[1].reg != AF_XMM0)
      return 1;
  }
  return 0;
}

static void test_ffi_r9(void) {
  af_gen_opts go;
  af_gen_opts_default(&go);
  go.cc = AF_CC_SYSV;
  int prepared = 0, r9 = 0;
  for (uint64_t i = 0; i < 6000; i++) {
    af_case c;
    af_error err = {{0}};
    if (af_gen_case(&go, SEED + 1, i, &c, NULL, &err) != AF_OK) {
      af_case_free(&c);
      continue;
    }
    for (int k = 0; k < c.nfuncs; k++) {
      const af_sig *sig = &c.funcs[k].sig;
      af_ffi_sig fs;
      const char *why = NULL;
      af_status s = af_ffi_prepare(&c, sig, &fs, &why);
      int is_r9 = s != AF_OK && why && strstr(why, "R9");
      if (s == AF_OK) {
        prepared++;
        CHECKF(!r9_ref(&c, sig), "case %llu f%d: prepared, but libffi would clobber XMM0",
               (unsigned long long)i, k);
        af_ffi_free(&fs);
      } else if (is_r9) {
        r9++;
        CHECKF(r9_ref(&c, sig), "case %llu f%d: skipped for R9 without the pattern",
               (unsigned long long)i, k);
      }
    }
    af_case_free(&c);
  }
  CHECKF(prepared > 1000 && r9 > 0, "%d prepared, %d skipped for R9", prepared, r9);
}

/* ---- the garbage pattern ------------------------------------------------------------------- */
static void test_garbage(void) {
  af_probe *p = NULL;
  CHECK(af_probe_new(&p) == AF_OK);
  if (!p) return;
  int bad = 0;
  for (uint64_t seed = 0; seed < 50; seed++) {
    af_rng ref;
    af_rng_seed(&ref, seed * 0x9e37ull, 0x9a7ba6e);
    af_rng_seed(&p->rng, seed * 0x9e37ull, 0x9a7ba6e);
    /* draws one by one, 16 at a time from local state, then fills and padding of every length */
    for (int i = 0; i < 40; i++)
      bad += probe_garbage(p) != af_rng_next(&ref);
    probe_rng g = probe_rng_take(p);
    for (int i = 0; i < 16; i++)
      bad += probe_xoshiro(g.s) != af_rng_next(&ref);
    probe_rng_put(p, &g);
    uint8_t got[80], want[80], mask[80];
    for (size_t n = 0; n <= sizeof got; n++) {
      probe_garbage_fill(p, got, n);
      for (size_t b = 0; b < n; b += 8) { /* the byte-wise fill probe.c had */
        uint64_t x = af_rng_next(&ref);
        memcpy(want + b, &x, n - b < 8 ? n - b : 8);
      }
      bad += memcmp(got, want, n) != 0;
      for (size_t b = 0; b < n; b++) /* padding: runs of defined bytes of every length */
        mask[b] = (uint8_t)((b * 7 + n + seed) % 11 < 8);
      memset(got, 0xee, sizeof got);
      memset(want, 0xee, sizeof want);
      probe_garbage_pad(p, got, mask, (uint32_t)n);
      for (size_t b = 0; b < n; b++)
        if (!mask[b]) want[b] = (uint8_t)af_rng_next(&ref);
      bad += memcmp(got, want, sizeof got) != 0;
    }
  }
  CHECKF(bad == 0, "%d garbage draws or fills differ from af_rng_next's", bad);
  af_probe_free(p);
}

/* ---- session 8's shortcuts ------------------------------------------------------------------ */
/* probe_x87_used against the loop over the tag word's pairs, every tag word; probe_saved_gprs /
 * _xmms against the bit tests over every register, both conventions; probe_copy against
 * memcpy, every length; probe_same_value: 1 only where af_value_diff finds no difference (and
 * for an exact copy of any value but a ptr, so the shortcut is taken), over generated inputs
 * and returns, exact and with one byte changed. */
static void test_shortcuts8(void) {
  int bad = 0;
  for (uint32_t tw = 0; tw < 65536; tw++) {
    uint8_t fenv[32] = {0};
    fenv[8] = (uint8_t)tw;
    fenv[9] = (uint8_t)(tw >> 8);
    int used = 0;
    for (int i = 0; i < 8; i++)
      used += ((tw >> (2 * i)) & 3) != 3;
    bad += probe_x87_used(fenv) != used;
  }
  CHECKF(bad == 0, "%d tag words counted wrong", bad);
  for (int cc = 0; cc < AF_CC_COUNT; cc++) {
    const af_abi *abi = af_abi_get((af_cc)cc);
    uint32_t g = 0, x = 0;
    for (int r = AF_RAX; r <= AF_R15; r++)
      if (r != AF_RSP && (abi->callee_saved >> r) & 1) g |= 1u << r;
    for (int v = 0; v < 16; v++)
      if ((abi->callee_saved >> (AF_XMM0 + v)) & 1) x |= 1u << v;
    CHECKF(probe_saved_gprs(abi) == g && probe_saved_xmms(abi) == x,
           "cc %d: saved GPRs %#x (want %#x), XMMs %#x (want %#x)", cc, probe_saved_gprs(abi), g,
           probe_saved_xmms(abi), x);
  }
  uint8_t src[64], dst[80], want[80];
  for (uint32_t n = 0; n <= sizeof src; n++) {
    for (uint32_t b = 0; b < sizeof src; b++)
      src[b] = (uint8_t)(b * 37 + n);
    memset(dst, 0xee, sizeof dst);
    memset(want, 0xee, sizeof want);
    probe_copy(dst + 3, src, n);
    memcpy(want + 3, src, n);
    bad += memcmp(dst, want, sizeof dst) != 0;
  }
  CHECKF(bad == 0, "probe_copy differs from memcpy for %d lengths", bad);
  af_gen_opts go;
  af_gen_opts_default(&go);
  int same = 0, differ = 0, wrong = 0;
  for (uint64_t i = 0; i < 400; i++) {
    af_case c;
    af_error err = {{0}};
    go.cc = (i & 1) ? AF_CC_WIN64 : AF_CC_SYSV;
    if (af_gen_case(&go, SEED + 8, i, &c, NULL, &err) != AF_OK) {
      CHECKF(0, "case %llu: %s", (unsigned long long)i, err.msg);
      af_case_free(&c);
      continue;
    }
    uint8_t *objs[AF_MAX_OBJECTS];
    static uint8_t region[AF_MAX_OBJECTS][AF_REGION_SIZE];
    for (int k = 0; k < AF_MAX_OBJECTS; k++)
      objs[k] = region[k];
    for (int a = 0; a < c.funcs[c.entry].sig.nparams; a++) {
      const af_value *v = &c.inputs[a];
      uint8_t got[AF_MAX_TYPE_SIZE + 16] = {0};
      if (v->bytes) memcpy(got, v->bytes, v->size);
      for (int flip = 0; flip < 2; flip++) {
        if (flip && v->size) got[(i * 13 + (uint64_t)a) % v->size] ^= 0x40;
        char where[128], detail[300];
        int diff = af_value_diff(&c, v, got, objs, where, sizeof where, detail, sizeof detail);
        int sv = probe_same_value(v, got);
        wrong += sv && diff;
        wrong += !flip && v->type != AF_T_PTR && v->size && !sv; /* the shortcut is taken */
        same += sv;
        differ += diff;
      }
    }
    af_case_free(&c);
  }
  CHECKF(wrong == 0 && same > 500 && differ > 100,
         "probe_same_value: %d wrong, %d same, %d differ (af_value_diff)", wrong, same, differ);
}

int main(void) {
  af_legs_process_init();
  test_shortcuts8();
  test_garbage();
  test_unsupported();
  test_given_ci();
  test_ffi_r9();
  return check_done();
}
