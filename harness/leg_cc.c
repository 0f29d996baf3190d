/* leg_cc.c - the compiler legs: clang/gcc-compiled caller and callee stubs around the JIT
 * (cc-caller, cc-callee) and around each other (cross-cc). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "legs.h"
#include "oracle.h"

#ifndef AF_DEFAULT_CLANG
#define AF_DEFAULT_CLANG ""
#endif
#ifndef AF_DEFAULT_GCC
#define AF_DEFAULT_GCC ""
#endif

/* Bounds on what waits for the compiler (beyond: "oracle backlog"): jobs per leg, signatures
 * per pool. The compiler's rate is the limit in steady state, so a longer queue only adds
 * latency; the queue also bounds the wait at the end of a campaign (poll(block = 1)): with
 * 32 jobs per leg, about 150 signatures, a few seconds of clang (128 made a 30 s campaign
 * end 18 s late on a loaded 2-core machine). */
#define LEG_MAX_JOBS    32
#define LEG_MAX_PENDING 1024
#define RET_BYTES       (AF_MAX_TYPE_SIZE + 64)

/* ---- pools shared by the three legs of a worker --------------------------------------------
 * The legs of one process share one pool per (compiler, cache dir), so that a signature the
 * cc-caller leg asked for is not compiled again for cross-cc. The registry is the one piece of
 * process-wide state here: it only shares what the legs' own states own (refcounted). */
typedef struct {
  char cc[256], dir[512];
  af_stub_pool *pool;
  int refs;
} shared_pool;
static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static shared_pool reg[AF_MAX_ORACLE_CC * 2];

static af_stub_pool *pool_get(const char *cc, const char *dir, af_error *err) {
  pthread_mutex_lock(&reg_mu);
  const char *d = dir ? dir : "";
  shared_pool *free_slot = NULL;
  for (size_t i = 0; i < sizeof reg / sizeof reg[0]; i++) {
    if (reg[i].refs && !strcmp(reg[i].cc, cc) && !strcmp(reg[i].dir, d)) {
      reg[i].refs++;
      pthread_mutex_unlock(&reg_mu);
      return reg[i].pool;
    }
    if (!reg[i].refs && !free_slot) free_slot = &reg[i];
  }
  af_stub_pool *p = NULL;
  if (free_slot) {
    af_stub_pool_opts o = {0};
    o.cc = cc;
    o.cache_dir = dir;
    o.max_pending = LEG_MAX_PENDING;
    if (af_stub_pool_new(&o, &p, err) == AF_OK) {
      snprintf(free_slot->cc, sizeof free_slot->cc, "%s", cc);
      snprintf(free_slot->dir, sizeof free_slot->dir, "%s", d);
      free_slot->pool = p;
      free_slot->refs = 1;
    }
  }
  pthread_mutex_unlock(&reg_mu);
  return p;
}

static void pool_put(af_stub_pool *p) {
  pthread_mutex_lock(&reg_mu);
  for (size_t i = 0; i < sizeof reg / sizeof reg[0]; i++)
    if (reg[i].refs && reg[i].pool == p && --reg[i].refs == 0) {
      af_stub_pool_free(p);
      reg[i].pool = NULL;
    }
  pthread_mutex_unlock(&reg_mu);
}

/* ---- leg state ------------------------------------------------------------------------------ */
typedef enum { K_CALLER, K_CALLEE, K_CROSS } leg_kind;

typedef struct {
  af_job *j;
  int nsig;
  uint64_t hash[AF_MAX_FUNCS];  /* distinct signatures this job needs */
  int fn[AF_MAX_FUNCS];         /* a function with that signature */
  uint64_t fhash[AF_MAX_FUNCS]; /* function -> its stubs' hash (the functions added) */
} pend;

typedef struct {
  leg_kind kind;
  const char *name;
  int npools;
  af_stub_pool *pools[AF_MAX_ORACLE_CC];
  af_family fam[AF_MAX_ORACLE_CC];
  int major[AF_MAX_ORACLE_CC];
  const char *ccname[AF_MAX_ORACLE_CC];
  pend *q;
  int nq;
  long backlog;
  int have_avx;
} leg_state;

static af_status init_kind(leg_kind kind, const char *name, const af_legs_cfg *cfg, void **state,
                           af_error *err) {
  const char *ccs[AF_MAX_ORACLE_CC];
  int n = 0;
  if (cfg->ncc > 0) {
    for (int i = 0; i < cfg->ncc && i < AF_MAX_ORACLE_CC; i++)
      ccs[n++] = cfg->cc[i];
  } else {
    static const char def_clang[] = AF_DEFAULT_CLANG, def_gcc[] = AF_DEFAULT_GCC; /* may be "" */
    if (def_clang[0]) ccs[n++] = def_clang;
    if (kind == K_CROSS && def_gcc[0]) ccs[n++] = def_gcc;
  }
  leg_state *s = calloc(1, sizeof *s);
  if (!s) return AF_ERR_NOMEM;
  s->kind = kind;
  s->name = name;
  s->have_avx = __builtin_cpu_supports("avx");
  for (int i = 0; i < n; i++) {
    af_error e = {{0}};
    af_stub_pool *p = pool_get(ccs[i], cfg->cache_dir, &e);
    if (!p) continue;
    s->pools[s->npools] = p;
    af_stub_pool_identity(p, &s->fam[s->npools], &s->major[s->npools], &s->ccname[s->npools]);
    s->npools++;
  }
  if (s->npools == 0 || (kind == K_CROSS && s->npools < 2)) {
    for (int i = 0; i < s->npools; i++)
      pool_put(s->pools[i]);
    free(s);
    if (err)
      snprintf(err->msg, sizeof err->msg, "%s",
               kind == K_CROSS && n > 0 ? "cross-cc needs two oracle compilers (--oracle-cc)"
                                        : "no oracle compiler (--oracle-cc)");
    return AF_ERR_UNSUPPORTED;
  }
  s->q = calloc(LEG_MAX_JOBS, sizeof *s->q);
  if (!s->q) {
    for (int i = 0; i < s->npools; i++)
      pool_put(s->pools[i]);
    free(s);
    return AF_ERR_NOMEM;
  }
  *state = s;
  return AF_OK;
}

static void fini(void *state) {
  leg_state *s = state;
  if (!s) return;
  for (int i = 0; i < s->nq; i++)
    af_job_unref(s->q[i].j);
  for (int i = 0; i < s->npools; i++)
    pool_put(s->pools[i]);
  free(s->q);
  free(s);
}

/* ---- submit: which signatures a job needs ---------------------------------------------------- */
static int add_sig(leg_state *s, pend *p, const af_case *c, int fn, const char **skip) {
  if (p->fhash[fn]) return 0; /* asked for already (a function the trace calls again) */
  af_stub_src src;
  af_error err = {{0}};
  if (af_stub_emit(c, &c->funcs[fn].sig, &src, &err) != AF_OK) {
    *skip = "a signature the stubs cannot spell";
    return -1;
  }
  if (src.needs_avx && !s->have_avx) {
    af_stub_src_free(&src);
    *skip = "__m256 on a host without AVX";
    return -1;
  }
  p->fhash[fn] = src.hash;
  for (int i = 0; i < p->nsig; i++)
    if (p->hash[i] == src.hash) {
      af_stub_src_free(&src);
      return 0;
    }
  int r = 0;
  for (int k = 0; k < s->npools && !r; k++)
    if (af_stub_pool_request(s->pools[k], &src) == AF_STUB_BACKLOG) {
      *skip = "oracle backlog";
      r = -1;
    }
  if (!r) {
    p->hash[p->nsig] = src.hash;
    p->fn[p->nsig++] = fn;
  }
  af_stub_src_free(&src);
  return r;
}

static void submit(void *state, af_job *j, const af_leg_sink *sink) {
  leg_state *s = state;
  const af_case *c = &j->c;
  const char *skip = NULL;
  pend p;
  memset(&p, 0, sizeof p);
  if (s->nq >= LEG_MAX_JOBS) skip = "oracle backlog";
  if (!skip && s->kind != K_CALLEE) add_sig(s, &p, c, c->entry, &skip);
  if (!skip && s->kind == K_CALLEE) {
    for (int f = 0; f < c->nfuncs && !skip; f++)
      if (c->funcs[f].host) add_sig(s, &p, c, f, &skip);
    if (!skip && p.nsig == 0) skip = "the case calls no host function";
  }
  if (!skip && s->kind == K_CROSS) /* the host signatures the trace has values for */
    for (int n = 0; n < j->want.nhost_calls && !skip; n++)
      add_sig(s, &p, c, j->want.host_calls[n].callee, &skip);
  if (skip) {
    if (!strcmp(skip, "oracle backlog")) s->backlog++;
    sink->end(sink->u, j, s->name, AF_LEG_SKIP, skip, NULL, 0);
    return;
  }
  p.j = af_job_ref(j);
  s->q[s->nq++] = p;
}

/* ---- shared pieces of the runs ------------------------------------------------------------ */
typedef struct {
  uint8_t *mem; /* AF_MAX_OBJECTS + AF_MAX_PARAMS regions, 64-aligned */
  uint8_t *obj[AF_MAX_OBJECTS];
  uint8_t *scratch[AF_MAX_PARAMS]; /* stand-ins for LOCAL regions */
} regions;

static int regions_new(regions *r, const af_case *c) {
  r->mem = aligned_alloc(64, (size_t)(AF_MAX_OBJECTS + AF_MAX_PARAMS) * AF_REGION_SIZE);
  if (!r->mem) return -1;
  memset(r->mem, 0, (size_t)(AF_MAX_OBJECTS + AF_MAX_PARAMS) * AF_REGION_SIZE);
  for (int k = 0; k < AF_MAX_OBJECTS; k++)
    r->obj[k] = r->mem + (size_t)k * AF_REGION_SIZE;
  for (int k = 0; k < AF_MAX_PARAMS; k++)
    r->scratch[k] = r->mem + (size_t)(AF_MAX_OBJECTS + k) * AF_REGION_SIZE;
  for (int k = 0; k < c->nobjects; k++)
    memcpy(r->obj[k], c->objects[k].init, AF_REGION_SIZE);
  return 0;
}

/* Objects that differ from the interpreter's final bytes: one "objects" finding each. */
static void check_objects(af_findings *fs, const char *leg, const char *what, const af_case *c,
                          const af_interp_result *want, uint8_t *const *got) {
  for (int k = 0; k < c->nobjects; k++) {
    for (int b = 0; b < AF_REGION_SIZE; b++)
      if (got[k][b] != want->objects[k][b]) {
        af_findings_add(fs, leg, "objects", what, "object %d byte %d: expected 0x%02x, got 0x%02x",
                        k, b, want->objects[k][b], got[k][b]);
        break;
      }
  }
}

/* The 64-bit value a narrow argument has once widened as its type says (gen.h: SysV callers
 * extend to 32 bits, and a compiler widening further starts from those). */
static uint64_t widened(int t, const uint8_t *b) {
  switch (t) {
  case AF_T_BOOL: return b[0] & 1;
  case AF_T_I8: return (uint64_t)(int64_t)(int8_t)b[0];
  case AF_T_U8: return b[0];
  case AF_T_I16: return (uint64_t)(int64_t)(int16_t)(b[0] | b[1] << 8);
  default: return (uint64_t)(uint16_t)(b[0] | b[1] << 8);
  }
}

/* Compares what a callee stub recorded for one call with the values passed. `ptrs[i]`: the
 * address argument i should have (NULL: not compared, checked by `obj_addr` consistency). */
static void check_call(af_findings *fs, const char *leg, const af_case *c, const af_sig *sig,
                       const af_stub_call *k, uint64_t want_id, const af_value *args,
                       void *const *ptrs, const char *whatfmt_call, const char *ccs,
                       uint8_t **obj_addr) {
  char what[64], where[96], detail[320];
  if (k->id != want_id) {
    snprintf(what, sizeof what, "%s (%s)", whatfmt_call, ccs);
    af_findings_add(fs, leg, "callee", what, "a stub of another signature was called");
    return;
  }
  if (k->nargs != sig->nparams || k->overflow) {
    snprintf(what, sizeof what, "%s (%s)", whatfmt_call, ccs);
    af_findings_add(fs, leg, "arg", what, "expected %d arguments, the stub took %d", sig->nparams,
                    k->nargs);
    return;
  }
  for (int i = 0; i < sig->nparams; i++) {
    const af_value *v = &args[i];
    const uint8_t *got = k->args + af_stub_arg_offset(c, sig, i);
    snprintf(what, sizeof what, "arg %d of %s (%s)", i, whatfmt_call, ccs);
    if (v->type == AF_T_PTR) {
      uint8_t *p;
      memcpy(&p, got, sizeof p);
      if (ptrs && ptrs[i] && (void *)p != ptrs[i])
        af_findings_add(fs, leg, "arg", what, "expected pointer %p, got %p", ptrs[i], (void *)p);
      else if (!ptrs && obj_addr && v->obj >= 0 && v->obj < AF_MAX_OBJECTS) {
        if (!obj_addr[v->obj])
          obj_addr[v->obj] = p;
        else if (obj_addr[v->obj] != p)
          af_findings_add(fs, leg, "arg", what, "object %d passed as %p, earlier as %p", v->obj,
                          (void *)p, (void *)obj_addr[v->obj]);
      }
      continue;
    }
    if (af_value_diff(c, v, got, NULL, where, sizeof where, detail, sizeof detail)) {
      af_findings_add(fs, leg, "arg", what, "%s: %s", where, detail);
      continue;
    }
    if (sig->cc == AF_CC_SYSV && v->type >= AF_T_BOOL && v->type <= AF_T_U16 &&
        k->ext[i] != widened(v->type, v->bytes))
      af_findings_add(fs, leg, "arg-ext", what,
                      "the callee widened it to 0x%llx, expected 0x%llx (upper bits not extended)",
                      (unsigned long long)k->ext[i],
                      (unsigned long long)widened(v->type, v->bytes));
  }
}

/* The leg's verdict from what happened with each compiler. */
static void finish(const af_leg_sink *sink, const af_job *j, const char *leg, const af_findings *fs,
                   int ran, const char *skip) {
  if (fs->n)
    sink->end(sink->u, j, leg, AF_LEG_FAIL, NULL, fs->f, fs->n);
  else if (!ran)
    sink->end(sink->u, j, leg, AF_LEG_SKIP, skip ? skip : "no stub", NULL, 0);
  else
    sink->end(sink->u, j, leg, AF_LEG_PASS, NULL, NULL, 0);
}

/* ---- cc-caller ------------------------------------------------------------------------------ */
static void run_caller(leg_state *s, pend *p, const af_leg_sink *sink) {
  af_job *j = p->j;
  const af_case *c = &j->c;
  const af_sig *sig = &c->funcs[c->entry].sig;
  af_findings fs;
  af_findings_clear(&fs);
  const char *skip = NULL;
  int ran = 0;
  regions r = {0};
  uint8_t *ret = aligned_alloc(64, RET_BYTES);
  if (!ret || regions_new(&r, c) != 0) {
    free(ret);
    free(r.mem);
    sink->end(sink->u, j, s->name, AF_LEG_SKIP, "out of memory", NULL, 0);
    return;
  }
  sink->begin(sink->u, j, s->name);
  af_jit *jit = NULL;
  af_error err = {{0}};
  if (af_leg_compile_native(j, NULL, &jit, &err) != AF_OK) skip = "the JIT refused the case";
  for (int k = 0; k < s->npools && jit; k++) {
    const char *why = NULL;
    af_stub_syms sy;
    if (af_abi_deviates(c, sig, s->fam[k], s->major[k], &why)) {
      skip = why;
      continue;
    }
    if (af_stub_pool_get(s->pools[k], p->hash[0], &sy) != AF_OK) {
      skip = "the compiler refused the stub";
      continue;
    }
    for (int o = 0; o < c->nobjects; o++)
      memcpy(r.obj[o], c->objects[o].init, AF_REGION_SIZE);
    af_jit_set_objects(jit, r.obj, c->nobjects);
    void *ptrv[AF_MAX_PARAMS];
    void *args[AF_MAX_PARAMS];
    for (int i = 0; i < c->ninputs; i++) {
      const af_value *v = &c->inputs[i];
      if (v->type == AF_T_PTR) {
        ptrv[i] = v->obj >= 0 && v->obj < c->nobjects ? r.obj[v->obj] : r.scratch[i];
        args[i] = &ptrv[i];
      } else {
        args[i] = v->bytes;
      }
    }
    memset(ret, 0, RET_BYTES);
    af_cpu_state cpu;
    af_cpu_state_save(&cpu);
    sy.call((void *)(uintptr_t)af_jit_fn(jit, c->entry), args, ret);
    af_cpu_state_restore(&cpu);
    af_jit_set_objects(jit, NULL, 0);
    ran = 1;
    char where[96], detail[320];
    if (af_value_diff(c, &j->want.ret, ret, r.obj, where, sizeof where, detail, sizeof detail))
      af_findings_add(&fs, s->name, "result", s->ccname[k], "%s: %s", where, detail);
    check_objects(&fs, s->name, s->ccname[k], c, &j->want, r.obj);
  }
  af_jit_free(jit);
  finish(sink, j, s->name, &fs, ran, skip);
  free(ret);
  free(r.mem);
}

/* ---- cc-callee ------------------------------------------------------------------------------ */
static void run_callee(leg_state *s, pend *p, const af_leg_sink *sink) {
  af_job *j = p->j;
  const af_case *c = &j->c;
  const af_interp_result *w = &j->want;
  af_findings fs;
  af_findings_clear(&fs);
  const char *skip = NULL;
  int ran = 0;
  int ncalls = w->nhost_calls + 4;
  af_stub_call *calls = calloc((size_t)ncalls, sizeof *calls);
  uint32_t *off = calloc((size_t)ncalls + 1, sizeof *off);
  for (int n = 0; off && n < ncalls; n++) {
    uint32_t need = 0;
    if (n < w->nhost_calls)
      need = af_stub_arg_offset(c, &c->funcs[w->host_calls[n].callee].sig, AF_MAX_PARAMS);
    off[n + 1] = off[n] + ((need + 63u) & ~63u);
  }
  uint8_t *rec = off ? aligned_alloc(64, off[ncalls] + 64) : NULL;
  if (!calls || !off || !rec) {
    free(calls);
    free(off);
    free(rec);
    sink->end(sink->u, j, s->name, AF_LEG_SKIP, "out of memory", NULL, 0);
    return;
  }
  sink->begin(sink->u, j, s->name);
  for (int k = 0; k < s->npools; k++) {
    const char *why = NULL;
    const void *host[AF_MAX_FUNCS] = {0};
    af_stub_syms sy[AF_MAX_FUNCS];
    int ok = 1;
    for (int i = 0; i < p->nsig && ok; i++) {
      const af_sig *sig = &c->funcs[p->fn[i]].sig;
      if (af_abi_deviates(c, sig, s->fam[k], s->major[k], &why)) {
        skip = why;
        ok = 0;
      } else if (af_stub_pool_get(s->pools[k], p->hash[i], &sy[i]) != AF_OK) {
        skip = "the compiler refused the stub";
        ok = 0;
      }
    }
    if (!ok) continue;
    for (int f = 0; f < c->nfuncs; f++)
      if (c->funcs[f].host)
        for (int i = 0; i < p->nsig; i++)
          if (p->hash[i] == p->fhash[f]) host[f] = sy[i].callee;
    /* the context: call n answers as the interpreter's host call n did */
    memset(calls, 0, (size_t)ncalls * sizeof *calls);
    memset(rec, 0, off[ncalls]);
    for (int n = 0; n < ncalls; n++) {
      calls[n].args = rec + off[n];
      calls[n].cap = off[n + 1] - off[n];
      calls[n].ret_arg = -1;
      if (n >= w->nhost_calls) continue;
      const af_host_call *hc = &w->host_calls[n];
      calls[n].ret_arg = hc->ret.type == AF_T_PTR ? hc->ret_arg : -1;
      calls[n].ret = hc->ret.type == AF_T_PTR ? NULL : hc->ret.bytes;
      calls[n].after = hc->after;
    }
    af_stub_ctx ctx = {0, ncalls, calls};
    for (int i = 0; i < p->nsig; i++)
      *sy[i].ctx = &ctx;
    af_jit *jit = NULL;
    af_error err = {{0}};
    if (af_leg_compile_native(j, host, &jit, &err) != AF_OK) {
      skip = "the JIT refused the case";
      continue;
    }
    af_jit_result res;
    memset(&res, 0, sizeof res);
    af_status st = af_jit_run(jit, NULL, &res, &err);
    for (int i = 0; i < p->nsig; i++)
      *sy[i].ctx = NULL;
    if (st != AF_OK) {
      af_jit_free(jit);
      skip = "the JIT could not run the case";
      continue;
    }
    ran = 1;
    const char *cn = s->ccname[k];
    char what[64], where[96], detail[320];
    uint8_t *obj_addr[AF_MAX_OBJECTS] = {0};
    int nc = ctx.ncalls < w->nhost_calls ? ctx.ncalls : w->nhost_calls;
    for (int n = 0; n < nc; n++) {
      const af_host_call *hc = &w->host_calls[n];
      char call[48];
      snprintf(call, sizeof call, "call %d to f%d", n, hc->callee);
      check_call(&fs, s->name, c, &c->funcs[hc->callee].sig, &calls[n], p->fhash[hc->callee],
                 hc->args, NULL, call, cn, obj_addr);
    }
    if (ctx.ncalls != w->nhost_calls) {
      snprintf(what, sizeof what, "host calls (%s)", cn);
      af_findings_add(&fs, s->name, "calls", what, "expected %d host calls, got %d", w->nhost_calls,
                      ctx.ncalls);
    }
    if (w->ret.type == AF_T_PTR) {
      if (w->ret.obj >= 0 && res.ret.obj != w->ret.obj)
        af_findings_add(&fs, s->name, "result", cn, "expected a pointer to object %d, got %d",
                        w->ret.obj, res.ret.obj);
    } else if (res.ret.bytes && af_value_diff(c, &w->ret, res.ret.bytes, NULL, where, sizeof where,
                                              detail, sizeof detail)) {
      af_findings_add(&fs, s->name, "result", cn, "%s: %s", where, detail);
    }
    uint8_t *got[AF_MAX_OBJECTS];
    for (int o = 0; o < c->nobjects; o++)
      got[o] = res.objects[o];
    check_objects(&fs, s->name, cn, c, w, got);
    af_jit_result_free(&res);
    af_jit_free(jit);
  }
  finish(sink, j, s->name, &fs, ran, skip);
  free(calls);
  free(off);
  free(rec);
}

/* ---- cross-cc ------------------------------------------------------------------------------- */
/* Compiler a's caller stub calls compiler b's callee stub for signature i of p, with the
 * values of the entry's inputs (fn == entry) or of the first traced call to fn. */
static void cross_one(leg_state *s, pend *p, int i, int a, int b, af_findings *fs, int *ran,
                      const char **skip, regions *r, uint8_t *ret, uint8_t *rec) {
  const af_case *c = &p->j->c;
  const af_interp_result *w = &p->j->want;
  int fn = p->fn[i];
  const af_sig *sig = &c->funcs[fn].sig;
  const char *why = NULL;
  if (af_abi_deviates(c, sig, s->fam[a], s->major[a], &why) ||
      af_abi_deviates(c, sig, s->fam[b], s->major[b], &why)) {
    *skip = why;
    return;
  }
  af_stub_syms sa, sb;
  if (af_stub_pool_get(s->pools[a], p->hash[i], &sa) != AF_OK ||
      af_stub_pool_get(s->pools[b], p->hash[i], &sb) != AF_OK) {
    *skip = "the compiler refused the stub";
    return;
  }
  const af_value *vals = c->inputs;
  const af_value *rv = &w->ret;
  const af_host_call *hc = NULL;
  if (fn != c->entry) {
    for (int n = 0; n < w->nhost_calls && !hc; n++)
      if (w->host_calls[n].callee == fn) hc = &w->host_calls[n];
    if (!hc) return;
    vals = hc->args;
    rv = &hc->ret;
  }
  for (int o = 0; o < c->nobjects; o++)
    memcpy(r->obj[o], c->objects[o].init, AF_REGION_SIZE);
  void *ptrv[AF_MAX_PARAMS] = {0};
  void *args[AF_MAX_PARAMS];
  for (int k = 0; k < sig->nparams; k++) {
    if (vals[k].type == AF_T_PTR) {
      ptrv[k] = vals[k].obj >= 0 && vals[k].obj < c->nobjects ? r->obj[vals[k].obj] : r->scratch[k];
      args[k] = &ptrv[k];
    } else {
      args[k] = vals[k].bytes;
    }
  }
  /* the value b's callee returns, and what a's caller must store */
  uint8_t want_ret[RET_BYTES];
  void *ret_ptr = NULL;
  af_stub_call call;
  memset(&call, 0, sizeof call);
  call.args = rec;
  call.cap = af_stub_arg_offset(c, sig, sig->nparams);
  call.ret_arg = -1;
  if (rv->type == AF_T_PTR) {
    if (hc && hc->ret_arg >= 0) {
      call.ret_arg = hc->ret_arg;
      ret_ptr = ptrv[hc->ret_arg];
    } else {
      ret_ptr = rv->obj >= 0 && rv->obj < c->nobjects ? r->obj[rv->obj] : r->scratch[0];
      memcpy(want_ret, &ret_ptr, sizeof ret_ptr);
      call.ret = want_ret;
    }
  } else if (rv->type != AF_T_VOID) {
    call.ret = rv->bytes;
  }
  call.after = hc ? hc->after : NULL;
  af_stub_ctx ctx = {0, 1, &call};
  memset(ret, 0, RET_BYTES);
  *sb.ctx = &ctx;
  sa.call(sb.callee, args, ret);
  *sb.ctx = NULL;
  *ran = 1;
  char pair[40], what[64], where[96], detail[320], fname[12];
  snprintf(pair, sizeof pair, "%.16s -> %.16s", s->ccname[a], s->ccname[b]);
  snprintf(fname, sizeof fname, "f%d", fn);
  if (ctx.ncalls != 1) {
    snprintf(what, sizeof what, "%.11s (%.39s)", fname, pair);
    af_findings_add(fs, s->name, "calls", what, "the callee ran %d times", ctx.ncalls);
    return;
  }
  check_call(fs, s->name, c, sig, &call, p->hash[i], vals, ptrv, fname, pair, NULL);
  snprintf(what, sizeof what, "return of %.11s (%.39s)", fname, pair);
  if (rv->type == AF_T_PTR) {
    void *got;
    memcpy(&got, ret, sizeof got);
    if (got != ret_ptr)
      af_findings_add(fs, s->name, "result", what, "expected %p, got %p", ret_ptr, got);
  } else if (af_value_diff(c, rv, ret, NULL, where, sizeof where, detail, sizeof detail)) {
    af_findings_add(fs, s->name, "result", what, "%s: %s", where, detail);
  }
}

static void run_cross(leg_state *s, pend *p, const af_leg_sink *sink) {
  af_job *j = p->j;
  af_findings fs;
  af_findings_clear(&fs);
  const char *skip = NULL;
  int ran = 0;
  regions r = {0};
  uint8_t *ret = aligned_alloc(64, RET_BYTES);
  uint8_t *rec = aligned_alloc(64, AF_MAX_PARAMS * (AF_MAX_TYPE_SIZE + 16));
  if (!ret || !rec || regions_new(&r, &j->c) != 0) {
    free(ret);
    free(rec);
    free(r.mem);
    sink->end(sink->u, j, s->name, AF_LEG_SKIP, "out of memory", NULL, 0);
    return;
  }
  sink->begin(sink->u, j, s->name);
  for (int a = 0; a < s->npools; a++)
    for (int b = 0; b < s->npools; b++)
      if (a != b)
        for (int i = 0; i < p->nsig; i++)
          cross_one(s, p, i, a, b, &fs, &ran, &skip, &r, ret, rec);
  finish(sink, j, s->name, &fs, ran, skip);
  free(ret);
  free(rec);
  free(r.mem);
}

/* ---- poll ----------------------------------------------------------------------------------- */
static int ready(leg_state *s, const pend *p, int block) {
  for (int k = 0; k < s->npools; k++)
    for (int i = 0; i < p->nsig; i++) {
      af_stub_state st = block ? af_stub_pool_wait(s->pools[k], p->hash[i], -1)
                               : af_stub_pool_state(s->pools[k], p->hash[i]);
      if (st == AF_STUB_PENDING) return 0;
    }
  return 1;
}

static void poll_jobs(void *state, const af_leg_sink *sink, int block) {
  leg_state *s = state;
  int kept = 0, waiting = 0;
  for (int i = 0; i < s->nq; i++) {
    pend *p = &s->q[i];
    /* stubs come in roughly in request order: past a few jobs still waiting, the rest are
     * too (a poll after every submit must not cost the whole queue) */
    if ((!block && waiting >= 32) || !ready(s, p, block)) {
      waiting++;
      s->q[kept++] = *p;
      continue;
    }
    if (s->kind == K_CALLER)
      run_caller(s, p, sink);
    else if (s->kind == K_CALLEE)
      run_callee(s, p, sink);
    else
      run_cross(s, p, sink);
    af_job_unref(p->j);
  }
  s->nq = kept;
}

static af_status init_caller(const af_legs_cfg *cfg, void **state, af_error *err) {
  return init_kind(K_CALLER, "cc-caller", cfg, state, err);
}
static af_status init_callee(const af_legs_cfg *cfg, void **state, af_error *err) {
  return init_kind(K_CALLEE, "cc-callee", cfg, state, err);
}
static af_status init_cross(const af_legs_cfg *cfg, void **state, af_error *err) {
  return init_kind(K_CROSS, "cross-cc", cfg, state, err);
}

const af_leg af_leg_cc_caller = {
    "cc-caller", "a clang/gcc-compiled caller stub calls the JIT entry (per --oracle-cc compiler)",
    1,           init_caller,
    submit,      poll_jobs,
    fini};
const af_leg af_leg_cc_callee = {
    "cc-callee", "the JIT calls clang/gcc-compiled callee stubs that record every argument",
    1,           init_callee,
    submit,      poll_jobs,
    fini};
const af_leg af_leg_cross_cc = {
    "cross-cc",
    "compiler A's caller stub calls compiler B's callee stub (the oracle's consistency)",
    1,
    init_cross,
    submit,
    poll_jobs,
    fini};
