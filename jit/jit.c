/* jit.c - the JIT's public API: compile a case, run its entry, compute the checksum. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "debug.h"
#include "lower.h"
#include "mutants.h"

struct af_jit {
  int refs; /* af_jit_retain / af_jit_free */
  const af_case *c;
  af_jit_opts o;
  codemem *mem;
  jit_rt *rt;      /* stable address: the code refers to it */
  uint64_t *table; /* [AF_MAX_FUNCS] entry addresses; calls go through it */
  void (*runner)(const uint8_t *in, uint8_t *ret);
  int32_t in_off[AF_MAX_PARAMS]; /* input i at in + in_off[i] */
  size_t in_size;
  /* what debug.c reports (gdb, perf, `abifuzz jit --disasm`): recs[0] the runner thunk,
   * recs[1 + k] function k */
  jit_fn_record *recs;
  jit_debug_reg *reg; /* the registration with gdb's JIT interface (debug.h) */
  /* af_jit_run's buffers (objects, inputs, return): a compile is run by several legs, and
   * memalign per run was ~700 instructions. In the compile's own allocation (jit_block's
   * run_area), but for inputs larger than RUN_IN_ST, which the first run allocates (run_in
   * NULL until then; run_in_heap says to free it). */
  uint8_t *run_objs, *run_in, *run_ret;
  int run_in_heap;
};

/* Bytes of inputs jit_block's run_area holds (most cases' inputs fit; up to 32 parameters of up to
 * AF_MAX_TYPE_SIZE bytes go to the heap). */
enum { RUN_IN_ST = 1024 };

/* A compile's own state in one allocation (af_jit_compile): the handle, the runtime context,
 * the call table, the records and the classification cache; af_jit_free frees it whole. */
typedef struct {
  af_jit j;
  jit_rt rt;
  uint64_t table[AF_MAX_FUNCS];
  lower_cls cls;
  jit_fn_record recs[AF_MAX_FUNCS + 1];
  codemem_storage mem;   /* the code memory's own state (codemem_new_in) */
  jit_debug_storage dbg; /* the debug registration and its ELF image (jit_debug_register_in) */
  /* af_jit_run's objects (64-aligned in here: a region may hold an over-aligned type that the
   * code accesses with aligned moves), return value and, when they fit, inputs; never cleared
   * as a whole (af_jit_run writes what it reads) */
  uint8_t run_area[63 + AF_MAX_OBJECTS * AF_REGION_SIZE + AF_MAX_TYPE_SIZE + 64 + RUN_IN_ST];
} jit_block;

static af_status fail(af_error *err, af_status s, const char *msg) {
  if (err) snprintf(err->msg, sizeof err->msg, "%s", msg);
  return s;
}

void af_jit_free(af_jit *j) {
  if (!j || --j->refs > 0) return;
  jit_debug_unregister(j->reg); /* before the code goes */
  codemem_free(j->mem);
  if (j->run_in_heap) free(j->run_in);
  free(j); /* the jit_block: j is its first member */
}

/* The object regions pointers fold against: the JIT's own and external code's (af_jit_ext). */
static void set_object(af_jit *j, int k, uint8_t *p) {
  j->rt->objects[k] = p;
  if (j->o.ext && j->o.ext->objects) j->o.ext->objects[k] = p;
}

void af_jit_set_objects(af_jit *j, uint8_t *const *objects, int n) {
  for (int k = 0; k < AF_MAX_OBJECTS; k++)
    set_object(j, k, objects && k < n ? objects[k] : NULL);
}

void af_jit_get_objects(const af_jit *j, uint8_t **objects) {
  for (int k = 0; k < AF_MAX_OBJECTS; k++)
    objects[k] = j && j->rt ? j->rt->objects[k] : NULL;
}

const void *af_jit_fn(const af_jit *j, int k) {
  if (!j || k < 0 || k >= j->c->nfuncs) return NULL;
  return (const void *)(uintptr_t)j->table[k];
}

const af_callinfo *af_jit_callinfos(const af_jit *j) {
  const lower_cls *cls = j && j->rt ? j->rt->cls : NULL;
  if (!cls || !j->rt->c) return NULL;
  int n = j->rt->c->nfuncs;
  uint32_t all = n >= 32 ? ~0u : (1u << n) - 1;
  return (cls->done & all) == all ? cls->ci : NULL;
}

const void *af_jit_code(const af_jit *j, int k) {
  if (!j || !j->recs || k < 0 || k >= j->c->nfuncs) return NULL;
  if (j->o.ext && j->o.ext->fn[k] && !j->c->funcs[k].host) return j->o.ext->fn[k];
  return (const void *)(uintptr_t)j->recs[1 + k].addr;
}

int af_jit_contains(const af_jit *j, const void *addr) {
  return j && j->mem && codemem_is_sealed(j->mem, addr);
}

int af_jit_which(const af_jit *j, const void *addr) {
  uint64_t a = (uint64_t)(uintptr_t)addr;
  for (int k = -1; j && j->recs && k < j->c->nfuncs; k++) {
    const jit_fn_record *r = &j->recs[1 + k];
    if (a >= r->addr && a < r->addr + r->size) return k;
  }
  const af_jit_ext *x = j ? j->o.ext : NULL;
  for (int k = 0; x && k < j->c->nfuncs; k++) {
    uint64_t lo = (uint64_t)(uintptr_t)x->fn[k];
    if (lo && a >= lo && a < lo + x->size[k]) return k;
  }
  return -2;
}

const jit_fn_record *jit_record(const af_jit *j, int k) {
  if (!j || !j->recs || k < -1 || k >= j->c->nfuncs) return NULL;
  return &j->recs[1 + k];
}

const af_case *jit_case(const af_jit *j) { return j ? j->c : NULL; }

void af_jit_ra_info_get(const af_jit *j, af_jit_ra_info *out) {
  memset(out, 0, sizeof *out);
  for (int k = 0; j && j->recs && k < j->c->nfuncs; k++) {
    const lower_frame *fr = &j->recs[1 + k].fr;
    out->values_in_reg += fr->ra_in_reg;
    out->values_crossing += fr->ra_crossing_cs;
    out->funcs_saving += fr->saved != 0;
    out->funcs_saving_ra += fr->ra_saved != 0;
  }
}

af_jit *af_jit_retain(af_jit *j) {
  if (j) j->refs++;
  return j;
}

/* The table as af_jit_compile leaves it: each function's own code, then another backend's
 * code (af_jit_ext), then host code (host_fns). The lowering never reads host_fns (calls and
 * the runner load their target from the table when they run: lower_call.c), so the code is
 * the same whatever host_fns is. */
void af_jit_set_fns(af_jit *j, const void *const *host_fns) {
  const af_case *c = j->c;
  j->o.host_fns = host_fns;
  for (int k = 0; k < c->nfuncs; k++) {
    jit_fn_record *r = &j->recs[1 + k];
    j->table[k] = r->addr;
    if (j->o.ext && j->o.ext->fn[k] && !c->funcs[k].host) /* code under test from a backend */
      j->table[k] = (uint64_t)(uintptr_t)j->o.ext->fn[k];
    if (host_fns && host_fns[k]) /* test instrumentation: host code replaces the function */
      j->table[k] = (uint64_t)(uintptr_t)host_fns[k];
    r->host = host_fns && host_fns[k];
  }
  for (int k = 0; k < AF_MAX_OBJECTS; k++) /* a fresh compile's: none yet (not ext's) */
    j->rt->objects[k] = NULL;
}

static af_status place(af_jit *j, x86_buf *b, void **where) {
  return codemem_add(j->mem, b->data, b->len, where);
}

/* The code memory's stage on af_jit_compile's stack, and the part of it a function is lowered
 * into (below). */
enum { STAGE_ST = 32768, FN_ROOM = 8192 };

/* b emptied, its code bytes where the next place() finds them in the stage (codemem_next). */
static af_status stage_next(af_jit *j, x86_buf *b) {
  uint8_t *p;
  size_t room;
  af_status s = codemem_next(j->mem, FN_ROOM, &p, &room);
  if (s == AF_OK) x86_buf_rebind(b, p, room);
  return s;
}

af_status af_jit_compile(const af_case *c, const af_jit_opts *o, af_jit **out, af_error *err) {
  *out = NULL;
  if (c->entry < 0 || c->entry >= c->nfuncs || c->nfuncs > AF_MAX_FUNCS ||
      c->ninputs != c->funcs[c->entry].sig.nparams)
    return fail(err, AF_ERR_INVALID, "bad entry or inputs");
  if (o && mutant_resolve(o->inject) < 0) {
    if (err) snprintf(err->msg, sizeof err->msg, "unknown mutant %s", o->inject);
    return AF_ERR_INVALID;
  }
  /* one malloc, not five: zeroed as the separate callocs were (the records of the case's
   * functions and the runner), the classification cache only marked empty (lower.h) */
  jit_block *blk = malloc(sizeof *blk);
  if (!blk) return fail(err, AF_ERR_NOMEM, "out of memory");
  memset(blk, 0, offsetof(jit_block, cls));
  memset(blk->recs, 0, ((size_t)c->nfuncs + 1) * sizeof *blk->recs);
  af_jit *j = &blk->j;
  j->refs = 1;
  j->c = c;
  if (o) j->o = *o;
  j->rt = &blk->rt;
  j->table = blk->table;
  j->recs = blk->recs;
  af_status s = AF_OK;
  j->rt->c = c;
  /* every function's classification, computed once for this compile (lower.h) */
  j->rt->cls = &blk->cls;
  j->rt->cls->done = 0;
  if ((s = codemem_new_in(&j->mem, &blk->mem, 0, CODEMEM_DEFAULT)) != AF_OK) {
    fail(err, s, "cannot map code memory");
    goto bad;
  }
  /* Each function and the runner are lowered straight into the code memory's stage, where
   * codemem_add finds them without a copy (codemem_next); the stage itself is STAGE_ST bytes
   * on this stack until the seal (codemem_stage_lend: 99% of cases' code fits; a larger one
   * moves it to the heap), labels and fixups too (x86_buf_init_borrowed): no allocation and no
   * copy per function unless one outgrows them. A function gets FN_ROOM bytes of the stage (the
   * largest seen is ~7 KB); a longer one grows into the heap and is copied from there. */
  uint8_t stage_st[STAGE_ST];
  long labels_st[64];
  x86_fixup fixups_st[64];
  x86_buf b;
  x86_buf_init_borrowed(&b, NULL, 0, labels_st, 64, fixups_st, 64);
  codemem_stage_lend(j->mem, stage_st, sizeof stage_st);
  for (int k = 0; k < c->nfuncs && s == AF_OK; k++) {
    void *where = NULL;
    jit_fn_record *r = &j->recs[1 + k];
    if ((s = stage_next(j, &b)) != AF_OK) {
      fail(err, s, "cannot place code");
      break;
    }
    s = lower_function(c, k, &j->o, j->rt, j->table, &b, &r->fr, err);
    if (s == AF_OK && (s = place(j, &b, &where)) != AF_OK) fail(err, s, "cannot place code");
    if (s == AF_OK) {
      j->table[k] = r->addr = (uint64_t)(uintptr_t)where;
      r->size = b.len;
      r->host = j->o.host_fns && j->o.host_fns[k];
    }
  }
  if (s != AF_OK) {
    x86_buf_free(&b);
    goto bad;
  }
  af_jit_set_fns(j, j->o.host_fns);
  /* the runner: input i at a 16-aligned offset, 16-rounded (parts may be read as words) */
  const af_sig *sig = &c->funcs[c->entry].sig;
  size_t off = 0;
  for (int i = 0; i < sig->nparams; i++) {
    int t = sig->params[i];
    size_t size = t == AF_T_PTR ? 8 : c->types[t].size;
    j->in_off[i] = (int32_t)off;
    off += (size + 15) & ~(size_t)15;
    if (!size) off += 16;
  }
  j->in_size = off + 16;
  /* af_jit_run's buffers in the block (run_area); the inputs too when they fit */
  uint8_t *area = (uint8_t *)(((uintptr_t)blk->run_area + 63) & ~(uintptr_t)63);
  j->run_objs = area;
  j->run_ret = area + (size_t)AF_MAX_OBJECTS * AF_REGION_SIZE;
  j->run_in = j->in_size <= RUN_IN_ST ? j->run_ret + AF_MAX_TYPE_SIZE + 64 : NULL;
  if ((s = stage_next(j, &b)) != AF_OK) {
    fail(err, s, "cannot place code");
    x86_buf_free(&b);
    goto bad;
  }
  {
    lower_ctx L = {0};
    L.c = c;
    L.fn = -1;
    L.b = &b;
    L.o = &j->o;
    L.rt = j->rt;
    L.fn_table = j->table;
    L.err = err;
    L.mutant = mutant_resolve(j->o.inject);
    void *where = NULL;
    s = lower_runner(&L, c->entry, j->in_off);
    if (s == AF_OK) s = x86_buf_finish(&b);
    if (s == AF_OK && (s = place(j, &b, &where)) != AF_OK) fail(err, s, "cannot place code");
    j->recs[0].addr = (uint64_t)(uintptr_t)where;
    j->recs[0].size = b.len;
    x86_buf_free(&b);
    if (s != AF_OK) goto bad;
    j->runner = (void (*)(const uint8_t *, uint8_t *))where;
  }
  /* j->rt->cls stays: the code never reads it, af_jit_callinfos hands it to the probes */
  if ((s = codemem_seal(j->mem)) != AF_OK) {
    fail(err, s, "cannot seal code memory");
    goto bad;
  }
  /* every compiled case is visible to gdb (and perf with ABIFUZZ_PERF_MAP=1) */
  if ((s = jit_debug_register_in(j, &blk->dbg, &j->reg, err)) != AF_OK) goto bad;
  *out = j;
  return AF_OK;
bad:
  af_jit_free(j);
  return s;
}

void af_jit_result_free(af_jit_result *res) {
  free(res->ret.bytes);
  res->ret.bytes = NULL;
}

af_status af_jit_run(af_jit *j, const af_value *inputs, af_jit_result *res, af_error *err) {
  const af_case *c = j->c;
  const af_sig *sig = &c->funcs[c->entry].sig;
  /* cleared but for the objects the run writes below (the case's regions, copied whole) */
  int nobj = c->nobjects > 0 ? (c->nobjects < AF_MAX_OBJECTS ? c->nobjects : AF_MAX_OBJECTS) : 0;
  memset(res, 0, offsetof(af_jit_result, objects));
  memset(res->objects[nobj], 0, sizeof res->objects - (size_t)nobj * AF_REGION_SIZE);
  res->ret.obj = -1;
  if (!inputs) inputs = c->inputs;
  if (!j->run_in && (j->run_in = aligned_alloc(16, (j->in_size + 15) & ~(size_t)15)))
    j->run_in_heap = 1;
  uint8_t *objs = j->run_objs, *in = j->run_in, *ret = j->run_ret;
  af_status s = AF_OK;
  if (!objs || !in || !ret) {
    s = fail(err, AF_ERR_NOMEM, "out of memory");
    goto out;
  }
  /* objs is not cleared: regions 0..nobjects-1 get the case's initial bytes below, and no
   * pointer to a later one exists (set_object leaves them NULL) */
  memset(in, 0, (j->in_size + 15) & ~(size_t)15);
  memset(ret, 0, AF_MAX_TYPE_SIZE + 64);
  for (int k = 0; k < AF_MAX_OBJECTS; k++)
    set_object(j, k, k < c->nobjects ? objs + (size_t)k * AF_REGION_SIZE : NULL);
  for (int k = 0; k < c->nobjects; k++)
    memcpy(j->rt->objects[k], c->objects[k].init, AF_REGION_SIZE);
  for (int i = 0; i < sig->nparams; i++) {
    const af_value *v = &inputs[i];
    if (v->type != sig->params[i]) {
      s = fail(err, AF_ERR_INVALID, "input type differs from the parameter's");
      goto out;
    }
    if (v->type == AF_T_PTR) {
      if (v->obj < 0 || v->obj >= c->nobjects) {
        s = fail(err, AF_ERR_INVALID, "pointer input names no object");
        goto out;
      }
      uint64_t a = (uint64_t)(uintptr_t)j->rt->objects[v->obj];
      memcpy(in + j->in_off[i], &a, 8);
    } else if (v->size) {
      memcpy(in + j->in_off[i], v->bytes, v->size);
    }
  }
  af_cpu_state cpu;
  af_cpu_state_save(&cpu);
  j->runner(in, ret);
  af_cpu_state_restore(&cpu);

  uint64_t h = 0;
  int rt = sig->ret;
  res->ret.type = rt;
  if (rt == AF_T_PTR) {
    uint64_t a;
    memcpy(&a, ret, 8);
    for (int k = 0; k < c->nobjects; k++)
      if ((uint64_t)(uintptr_t)j->rt->objects[k] == a) res->ret.obj = k;
    h = af_fold_value(c, h, &res->ret);
  } else if (rt != AF_T_VOID) {
    res->ret.size = c->types[rt].size;
    res->ret.bytes = malloc(res->ret.size ? res->ret.size : 1);
    if (!res->ret.bytes) {
      s = fail(err, AF_ERR_NOMEM, "out of memory");
      goto out;
    }
    memcpy(res->ret.bytes, ret, res->ret.size);
    h = af_fold_value(c, h, &res->ret);
  }
  for (int k = 0; k < c->nobjects; k++) {
    memcpy(res->objects[k], j->rt->objects[k], AF_REGION_SIZE);
    for (int b = 0; b < AF_REGION_SIZE; b += 8) {
      uint64_t x = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
      memcpy(&x, res->objects[k] + b, 8); /* the loop below, one load */
#else
      for (int i = 0; i < 8; i++)
        x |= (uint64_t)res->objects[k][b + i] << (8 * i);
#endif
      h = af_fold_u64(h, x);
    }
  }
  res->checksum = h;
out:
  if (s != AF_OK) /* as cleared as before the run */
    memset(res->objects, 0, (size_t)nobj * AF_REGION_SIZE);
  for (int k = 0; k < AF_MAX_OBJECTS; k++)
    set_object(j, k, NULL);
  return s;
}
