/* leg_native.c - the `native` and `garbage` legs: the JIT's entry called by the probes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "legs.h"
#include "probe.h"

/* The garbage pattern of the native leg (and of the garbage leg's first run): probe.h. */
#define NATIVE_GARBAGE AF_PROBE_NATIVE_GARBAGE

typedef struct {
  af_probe *p;
  uint8_t *objmem;                  /* malloc'd */
  uint8_t *objects[AF_MAX_OBJECTS]; /* 64-aligned regions in objmem */
  af_findings fs;
  af_callinfo ci[AF_MAX_FUNCS]; /* garbage: the first run's classification, for the second */
} leg_state;

static af_status leg_init(const af_legs_cfg *cfg, void **state, af_error *err) {
  (void)cfg;
  leg_state *st = calloc(1, sizeof *st);
  if (!st) return AF_ERR_NOMEM;
  st->objmem = malloc(AF_MAX_OBJECTS * AF_REGION_SIZE + 64);
  if (!st->objmem || af_probe_new(&st->p) != AF_OK) {
    free(st->objmem);
    free(st);
    if (err) snprintf(err->msg, sizeof err->msg, "out of memory");
    return AF_ERR_NOMEM;
  }
  uint8_t *a = (uint8_t *)(((uintptr_t)st->objmem + 63) & ~(uintptr_t)63);
  for (int k = 0; k < AF_MAX_OBJECTS; k++)
    st->objects[k] = a + k * AF_REGION_SIZE;
  *state = st;
  return AF_OK;
}

static void leg_fini(void *state) {
  leg_state *st = state;
  if (!st) return;
  af_probe_free(st->p);
  free(st->objmem);
  free(st);
}

/* The compiles one run needs: `jit` with every host function replaced by its callout and every
 * other function but the entry by its interposer (af_jit_code(jit, k) stays the code under
 * test behind it), and the real host implementations (a compile without mutant when one is
 * set). */
typedef struct {
  af_jit *jit, *ref;
  const void *real[AF_MAX_FUNCS];
  const void *code[AF_MAX_FUNCS];
} compiled;

static const char *compile(const af_job *j, compiled *cp) {
  const af_case *c = &j->c;
  const void *host_fns[AF_MAX_FUNCS] = {0};
  memset(cp, 0, sizeof *cp);
  for (int k = 0; k < c->nfuncs; k++)
    if (c->funcs[k].host)
      host_fns[k] = af_callouts[k];
    else if (k != c->entry && !j->code)
      host_fns[k] = af_interposers[k]; /* every call between JIT functions is probed too */
  /* (external code calls its own functions directly: only its host calls are probed, and the
   * probe compares them with the trace's host calls) */
  af_error err = {{0}};
  /* runtime helper calls are checked too (af_rt_probe) */
  if (af_leg_compile_native(j, host_fns, &cp->jit, &err) != AF_OK)
    return "jit: the case does not compile";
  if (j->cfg && j->cfg->inject) {
    af_jit_opts o = {0};
    if (af_jit_compile(c, &o, &cp->ref, &err) != AF_OK) {
      af_jit_free(cp->jit);
      cp->jit = NULL;
      return "jit: the case does not compile without the mutant";
    }
  }
  for (int k = 0; k < c->nfuncs; k++) {
    cp->real[k] = c->funcs[k].host ? af_jit_code(cp->ref ? cp->ref : cp->jit, k) : NULL;
    /* the code under test (the mutated compile) behind each interposer */
    cp->code[k] = host_fns[k] && !c->funcs[k].host ? af_jit_code(cp->jit, k) : NULL;
  }
  return NULL;
}

static void release(compiled *cp) {
  af_jit_free(cp->jit);
  af_jit_free(cp->ref);
}

/* Objects back to their initial contents, installed in both compiles. */
static void reset_objects(leg_state *st, const af_case *c, compiled *cp) {
  for (int k = 0; k < c->nobjects; k++)
    memcpy(st->objects[k], c->objects[k].init, AF_REGION_SIZE);
  af_jit_set_objects(cp->jit, st->objects, c->nobjects);
  if (cp->ref) af_jit_set_objects(cp->ref, st->objects, c->nobjects);
}

static void opts_for(leg_state *st, const af_job *j, const compiled *cp, const char *leg,
                     uint64_t garbage, af_probe_opts *o) {
  o->c = &j->c;
  o->want = &j->want;
  o->entry = af_jit_fn(cp->jit, j->c.entry);
  o->real = cp->real;
  o->objects = st->objects;
  o->garbage = garbage;
  o->leg = leg;
  o->code = j->code ? NULL : cp->code;
  /* the compile's classification of every function (NULL: the run classifies) */
  o->ci = af_jit_callinfos(cp->jit);
  o->supported = 1; /* both legs asked af_probe_unsupported before they compiled */
}

static void native_submit(void *state, af_job *j, const af_leg_sink *sink) {
  leg_state *st = state;
  const char *leg = "native";
  const char *why = af_probe_unsupported(&j->c);
  compiled cp;
  if (!why) why = compile(j, &cp);
  if (why) {
    sink->end(sink->u, j, leg, AF_LEG_SKIP, why, NULL, 0);
    return;
  }
  reset_objects(st, &j->c, &cp);
  af_probe_opts o;
  opts_for(st, j, &cp, leg, NATIVE_GARBAGE, &o);
  af_findings_clear(&st->fs);
  af_probe_outcome out;
  af_error err = {{0}};
  sink->begin(sink->u, j, leg);
  af_status s = af_probe_run(st->p, &o, &st->fs, &out, &err);
  if (s != AF_OK) {
    sink->end(sink->u, j, leg, AF_LEG_SKIP, "probe: cannot marshal this case", NULL, 0);
  } else {
    af_probe_check_outcome(&o, &out, &st->fs);
    sink->end(sink->u, j, leg, st->fs.n ? AF_LEG_FAIL : AF_LEG_PASS, NULL, st->fs.f, st->fs.n);
  }
  release(&cp);
}

/* The garbage leg's pattern for (campaign seed, case index): replayable. */
static uint64_t garbage_seed(const af_job *j) {
  return af_probe_garbage_seed(j->cfg ? j->cfg->seed : 0, j->index);
}

static void garbage_submit(void *state, af_job *j, const af_leg_sink *sink) {
  leg_state *st = state;
  const char *leg = "garbage";
  const char *why = af_probe_unsupported(&j->c);
  compiled cp;
  if (!why) why = compile(j, &cp);
  if (why) {
    sink->end(sink->u, j, leg, AF_LEG_SKIP, why, NULL, 0);
    return;
  }
  af_probe_opts o;
  af_probe_outcome a, b;
  af_findings ignored;
  af_error err = {{0}};
  sink->begin(sink->u, j, leg);
  /* the native leg's run, then the same with another pattern: only the outcome may count */
  reset_objects(st, &j->c, &cp);
  opts_for(st, j, &cp, leg, NATIVE_GARBAGE, &o);
  af_findings_clear(&ignored);
  af_status s = af_probe_run(st->p, &o, &ignored, &a, &err);
  if (s == AF_OK) {
    reset_objects(st, &j->c, &cp);
    /* the same case: the second run takes the first one's classification (af_probe_opts.ci)
     * when the compile's was not there */
    if (!o.ci) {
      for (int k = 0; k < j->c.nfuncs; k++)
        st->ci[k] = *af_probe_callinfo(st->p, k);
      o.ci = st->ci;
    }
    o.garbage = garbage_seed(j);
    af_findings_clear(&ignored);
    s = af_probe_run(st->p, &o, &ignored, &b, &err);
  }
  if (s != AF_OK) {
    sink->end(sink->u, j, leg, AF_LEG_SKIP, "probe: cannot marshal this case", NULL, 0);
  } else {
    af_findings_clear(&st->fs);
    if (a.checksum != b.checksum || a.nhost_calls != b.nhost_calls)
      af_findings_add(&st->fs, leg, "garbage", "outcome",
                      "checksum 0x%016llx (%d host calls) with the native pattern, 0x%016llx "
                      "(%d) with pattern 0x%016llx",
                      (unsigned long long)a.checksum, a.nhost_calls, (unsigned long long)b.checksum,
                      b.nhost_calls, (unsigned long long)o.garbage);
    sink->end(sink->u, j, leg, st->fs.n ? AF_LEG_FAIL : AF_LEG_PASS, NULL, st->fs.f, st->fs.n);
  }
  release(&cp);
}

const af_leg af_leg_native = {
    "native",
    "an assembly probe calls the JIT entry (canaries in callee-saved registers, garbage "
    "elsewhere); host functions are reached through checking callouts, every other call "
    "through a checking interposer",
    1,
    leg_init,
    native_submit,
    NULL,
    leg_fini};

const af_leg af_leg_garbage = {
    "garbage",
    "the native leg again with another garbage pattern in every undefined bit: the outcome "
    "must not change",
    1,
    leg_init,
    garbage_submit,
    NULL,
    leg_fini};
