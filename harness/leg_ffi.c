/* leg_ffi.c - the libffi legs: libffi calls the JIT entry; the JIT calls libffi closures. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "legs.h"
#include "oracle.h"

/* libffi is an implementation of both conventions written by other people (src/x86/ffi64.c,
 * ffiw64.c): where the JIT and libffi disagree on where a value goes, the value arrives wrong.
 * Both legs compare with the interpreter's outcome (job->want), never with the JIT's own
 * runner. What libffi cannot spell (oracle.h: __int128, vectors, unions, bit-fields, ...) is
 * skipped with af_ffi_prepare's reason; a clang-compiled stub (the cc legs) covers it.
 * Blind spots (abi-notes, oracle.h): values only, never registers, alignment or extension
 * bits; FFI_WIN64 puts every variadic slot in both the GPR and the XMM. */

#define LEG_CALLER "ffi-caller"
#define LEG_CALLEE "ffi-callee"

/* Skip reasons (constant sentences, counted by the summary). */
#define WHY_JIT     "the JIT cannot compile this case"
#define WHY_FFI     "libffi cannot describe a signature of the case"
#define WHY_NO_HOST "the case has no host function to replace"
#define WHY_CLOSURE "libffi could not make a closure for a host function"
#define WHY_NOMEM   "out of memory"

/* ffi-caller's state: the objects' regions, allocated once (an aligned_alloc and a free per
 * case were ~5% of the leg). */
static af_status caller_init(const af_legs_cfg *cfg, void **state, af_error *err) {
  (void)cfg;
  *state = aligned_alloc(64, (size_t)AF_MAX_OBJECTS * AF_REGION_SIZE);
  if (*state) return AF_OK;
  if (err) snprintf(err->msg, sizeof err->msg, "out of memory");
  return AF_ERR_NOMEM;
}

static void caller_fini(void *state) { free(state); }

static void skip(const af_leg_sink *sink, af_job *j, const char *leg, const char *why) {
  sink->end(sink->u, j, leg, AF_LEG_SKIP, why, NULL, 0);
}

/* A compile that fails for another reason than "unsupported" is the JIT's bug: a finding. */
static void compile_failed(const af_leg_sink *sink, af_job *j, const char *leg, af_status s,
                           const af_error *err) {
  if (s == AF_ERR_UNSUPPORTED) {
    skip(sink, j, leg, WHY_JIT);
    return;
  }
  if (s == AF_ERR_NOMEM) {
    skip(sink, j, leg, WHY_NOMEM);
    return;
  }
  af_finding f;
  af_finding_set(&f, leg, "jit-compile", "", "%s: %s", af_strerror(s), err->msg);
  sink->end(sink->u, j, leg, AF_LEG_FAIL, NULL, &f, 1);
}

/* Fresh 64-aligned copies of the case's objects (what af_jit_run gives the entry too), in objs
 * (AF_MAX_OBJECTS regions, 64-aligned; NULL: none). */
static uint8_t *objects_new(uint8_t *objs, const af_case *c, uint8_t *op[AF_MAX_OBJECTS]) {
  for (int k = 0; k < AF_MAX_OBJECTS; k++)
    op[k] = objs && k < c->nobjects ? objs + (size_t)k * AF_REGION_SIZE : NULL;
  if (objs)
    for (int k = 0; k < c->nobjects; k++)
      memcpy(op[k], c->objects[k].init, AF_REGION_SIZE);
  return objs;
}

/* "result": the return value's bytes (ptr: an address, compared with objects[want->obj]). */
static void check_result(const af_case *c, const af_value *want, const uint8_t *got,
                         uint8_t *const *objects, const char *leg, af_findings *fs) {
  char where[96], detail[300];
  if (!af_value_diff(c, want, got, objects, where, sizeof where, detail, sizeof detail)) return;
  char what[64];
  snprintf(what, sizeof what, "return value%s%.50s", *where ? " " : "", where);
  af_findings_add(fs, leg, "result", what, "%s", detail);
}

/* "objects": one finding per object whose final bytes differ from the interpreter's. */
static void check_objects(const af_case *c, const af_interp_result *want, const uint8_t *const *got,
                          const char *leg, af_findings *fs) {
  for (int k = 0; k < c->nobjects; k++) {
    const uint8_t *w = want->objects[k], *g = got[k];
    if (!memcmp(w, g, AF_REGION_SIZE)) continue; /* the usual: no byte to find */
    int first = -1, n = 0;
    for (int b = 0; b < AF_REGION_SIZE; b++)
      if (w[b] != g[b]) {
        if (first < 0) first = b;
        n++;
      }
    if (first < 0) continue;
    char what[64];
    snprintf(what, sizeof what, "object %d byte %d", k, first);
    af_findings_add(fs, leg, "objects", what, "expected %02x, got %02x (%d bytes differ)", w[first],
                    g[first], n);
  }
}

static void finish(const af_leg_sink *sink, af_job *j, const char *leg, const af_findings *fs) {
  sink->end(sink->u, j, leg, fs->n ? AF_LEG_FAIL : AF_LEG_PASS, NULL, fs->f, fs->n);
}

/* ---- ffi-caller: ffi_call (FFI_UNIX64 / FFI_WIN64) calls the JIT entry -------------------- */

static void caller_submit(void *state, af_job *j, const af_leg_sink *sink) {
  const af_case *c = &j->c;
  af_ffi_sig fs;
  const char *why = NULL;
  af_status s = af_ffi_prepare(c, &c->funcs[c->entry].sig, &fs, &why);
  if (s != AF_OK) {
    skip(sink, j, LEG_CALLER, s == AF_ERR_NOMEM ? WHY_NOMEM : why ? why : WHY_FFI);
    return;
  }
  af_jit *jit = NULL;
  af_error err = {{0}};
  if ((s = af_leg_compile_native(j, NULL, &jit, &err)) != AF_OK) {
    compile_failed(sink, j, LEG_CALLER, s, &err);
    af_ffi_free(&fs);
    return;
  }
  uint8_t *op[AF_MAX_OBJECTS];
  uint8_t *objs = objects_new(state, c, op);
  _Alignas(64) uint8_t rb[AF_FFI_RET_BYTES];
  memset(rb, 0, sizeof rb);
  if (!objs) {
    skip(sink, j, LEG_CALLER, WHY_NOMEM);
  } else {
    af_jit_set_objects(jit, op, c->nobjects); /* MIX folds pointers against these */
    void *entry = (void *)(uintptr_t)af_jit_fn(jit, c->entry);
    sink->begin(sink->u, j, LEG_CALLER);
    s = af_ffi_call(&fs, entry, c->inputs, c, (void **)op, rb);
    af_findings f;
    af_findings_clear(&f);
    if (s != AF_OK) {
      /* the inputs do not match the cif: ours, not the JIT's */
      sink->end(sink->u, j, LEG_CALLER, AF_LEG_SKIP, WHY_FFI, NULL, 0);
    } else {
      check_result(c, &j->want.ret, rb, op, LEG_CALLER, &f);
      check_objects(c, &j->want, (const uint8_t *const *)op, LEG_CALLER, &f);
      finish(sink, j, LEG_CALLER, &f);
    }
  }
  af_jit_free(jit);
  af_ffi_free(&fs);
}

/* ---- ffi-callee: the JIT calls libffi closures in place of the host functions ------------ */

/* One run of the entry; every closure's handler sees it. */
typedef struct {
  af_job *j;
  af_jit *jit; /* under test: its calls of host function k go to closure k */
  af_jit *ref; /* the case compiled without the mutant: the real host functions */
  int ncalls;  /* host calls so far */
  af_findings *f;
} callee_run;

typedef struct {
  callee_run *run;
  int k; /* the host function this closure stands for */
  af_ffi_sig sig;
  af_ffi_closure *cl;
} host_closure;

/* Host call n (to function h->k) as libffi decoded it: checked against the interpreter's
 * trace of call n, then made for real (the host function's reference code, called through
 * libffi with the arguments received), so that its stores and return value are the ones the
 * case defines, whatever the arguments were. */
static void callee_handler(void *user, const af_value *args, int nargs, uint8_t *ret) {
  int df = af_cpu_df_clear_was_set(); /* first: the handler's own memcpy needs DF clear */
  host_closure *h = user;
  callee_run *r = h->run;
  const af_case *c = &r->j->c;
  const af_interp_result *want = &r->j->want;
  int n = r->ncalls++;
  if (df) {
    char w[64];
    snprintf(w, sizeof w, "call %d to f%d", n, h->k);
    af_findings_add(r->f, LEG_CALLEE, "df", w, "DF set at the call (psABI 3.2.1: clear)");
  }
  uint8_t *objs[AF_MAX_OBJECTS];
  af_jit_get_objects(r->jit, objs); /* af_jit_run's copies: pointer arguments point there */
  char what[64];
  if (n >= want->nhost_calls) {
    snprintf(what, sizeof what, "call %d to f%d", n, h->k);
    af_findings_add(r->f, LEG_CALLEE, "host-calls", what,
                    "the interpreter made %d host calls, the JIT makes more", want->nhost_calls);
  } else if (want->host_calls[n].callee != h->k) {
    snprintf(what, sizeof what, "call %d", n);
    af_findings_add(r->f, LEG_CALLEE, "host-calls", what, "expected a call to f%d, got f%d",
                    want->host_calls[n].callee, h->k);
  } else {
    const af_host_call *hc = &want->host_calls[n];
    for (int a = 0; a < nargs && a < hc->nargs; a++) {
      char where[96], detail[300];
      if (!af_value_diff(c, &hc->args[a], args[a].bytes, objs, where, sizeof where, detail,
                         sizeof detail))
        continue;
      snprintf(what, sizeof what, "arg %d of call %d to f%d", a, n, h->k);
      af_findings_add(r->f, LEG_CALLEE, "arg", what, "%s%s%s", where, *where ? ": " : "", detail);
    }
  }
  af_jit_set_objects(r->ref, objs, c->nobjects); /* the host body's MIX folds pointers */
  void *real = (void *)(uintptr_t)af_jit_code(r->ref, h->k);
  if (af_ffi_call(&h->sig, real, args, c, (void **)objs, ret) != AF_OK) {
    snprintf(what, sizeof what, "call %d to f%d", n, h->k);
    af_findings_add(r->f, LEG_CALLEE, "host-calls", what,
                    "libffi refused to pass the received arguments on");
  }
}

/* Compiles the reference and the case under test (host functions -> host_fns), runs the entry
 * and reports: the second half of callee_submit, once every closure exists. */
static void callee_run_case(af_job *j, const af_leg_sink *sink, callee_run *run,
                            const void *const *host_fns) {
  const af_case *c = &j->c;
  af_findings *f = run->f;
  af_error err = {{0}};
  af_status s = af_leg_compile_native(j, host_fns, &run->jit, &err);
  /* the reference: the case without the mutant, whose host functions' own code (they contain
   * no CALL, so the table's replacements do not matter) is what the closures call; without a
   * mutant that is the compile under test itself */
  if (s == AF_OK && j->cfg && j->cfg->inject)
    s = af_jit_compile(c, NULL, &run->ref, &err);
  else if (s == AF_OK)
    run->ref = af_jit_retain(run->jit);
  if (s != AF_OK) {
    compile_failed(sink, j, LEG_CALLEE, s, &err);
    return;
  }
  af_jit_result res;
  sink->begin(sink->u, j, LEG_CALLEE);
  s = af_jit_run(run->jit, NULL, &res, &err);
  if (s != AF_OK) {
    af_jit_result_free(&res);
    skip(sink, j, LEG_CALLEE, s == AF_ERR_NOMEM ? WHY_NOMEM : WHY_JIT);
    return;
  }
  const af_value *w = &j->want.ret;
  if (w->type == AF_T_PTR) {
    if (w->obj >= 0 && res.ret.obj != w->obj)
      af_findings_add(f, LEG_CALLEE, "result", "return value ptr", "expected object %d, got %s %d",
                      w->obj, res.ret.obj < 0 ? "no object" : "object", res.ret.obj);
  } else if (w->type != AF_T_VOID) {
    check_result(c, w, res.ret.bytes, NULL, LEG_CALLEE, f);
  }
  const uint8_t *got[AF_MAX_OBJECTS];
  for (int o = 0; o < AF_MAX_OBJECTS; o++)
    got[o] = res.objects[o];
  check_objects(c, &j->want, got, LEG_CALLEE, f);
  if (run->ncalls != j->want.nhost_calls)
    af_findings_add(f, LEG_CALLEE, "host-calls", "count", "expected %d host calls, got %d",
                    j->want.nhost_calls, run->ncalls);
  af_jit_result_free(&res);
  finish(sink, j, LEG_CALLEE, f);
}

/* ffi-callee's state: one closure slot per function, allocated once (a calloc and a free per
 * case were ~7% of the leg); the slots of a case's functions are cleared for it. */
static af_status callee_init(const af_legs_cfg *cfg, void **state, af_error *err) {
  (void)cfg;
  *state = calloc(AF_MAX_FUNCS, sizeof(host_closure));
  if (*state) return AF_OK;
  if (err) snprintf(err->msg, sizeof err->msg, "out of memory");
  return AF_ERR_NOMEM;
}

static void callee_fini(void *state) { free(state); }

static void callee_submit(void *state, af_job *j, const af_leg_sink *sink) {
  const af_case *c = &j->c;
  host_closure *hs = state;
  int nf = c->nfuncs < 0 ? 0 : c->nfuncs > AF_MAX_FUNCS ? AF_MAX_FUNCS : c->nfuncs;
  memset(hs, 0, (size_t)nf * sizeof *hs);
  const void *host_fns[AF_MAX_FUNCS] = {0};
  af_findings f;
  af_findings_clear(&f);
  callee_run run = {j, NULL, NULL, 0, &f};
  const char *why = NULL;
  int nhost = 0;
  for (int k = 0; k < c->nfuncs && !why; k++) {
    if (!c->funcs[k].host) continue;
    const char *fwhy = NULL;
    af_status s = af_ffi_prepare(c, &c->funcs[k].sig, &hs[k].sig, &fwhy);
    if (s != AF_OK) {
      why = s == AF_ERR_NOMEM ? WHY_NOMEM : fwhy ? fwhy : WHY_FFI;
      break;
    }
    hs[k].run = &run;
    hs[k].k = k;
    void *code = NULL;
    if (af_ffi_closure_new(&hs[k].sig, callee_handler, &hs[k], &hs[k].cl, &code) != AF_OK) {
      af_ffi_free(&hs[k].sig);
      why = WHY_CLOSURE;
      break;
    }
    host_fns[k] = code;
    nhost++;
  }
  if (!why && !nhost) why = WHY_NO_HOST;
  if (why)
    skip(sink, j, LEG_CALLEE, why);
  else
    callee_run_case(j, sink, &run, host_fns);
  af_jit_free(run.jit);
  af_jit_free(run.ref);
  for (int k = 0; k < c->nfuncs; k++)
    if (hs[k].cl) {
      af_ffi_closure_free(hs[k].cl);
      af_ffi_free(&hs[k].sig);
    }
}

const af_leg af_leg_ffi_caller = {
    LEG_CALLER,
    "libffi (ffi_call, FFI_UNIX64 / FFI_WIN64) calls the JIT entry; result and objects vs the "
    "interpreter",
    1,
    caller_init,
    caller_submit,
    NULL,
    caller_fini};

const af_leg af_leg_ffi_callee = {
    LEG_CALLEE,
    "the JIT entry (af_jit_run) calls libffi closures in place of the host functions; every "
    "argument vs the interpreter's trace, result, objects, host-call count",
    1,
    callee_init,
    callee_submit,
    NULL,
    callee_fini};
