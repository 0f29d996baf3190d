/* mutator.c - the fuzz input format and the structure-aware mutator (LLVMFuzzerCustomMutator). */
#include <stdlib.h>
#include <string.h>

#include "mutator.h"

af_status af_fuzz_decode(const uint8_t *data, size_t n, int cc, af_case *out, af_error *err) {
  size_t m = sizeof AF_FUZZ_MAGIC - 1;
  if (n >= m && !memcmp(data, AF_FUZZ_MAGIC, m))
    return af_parse("input", (const char *)data + m, n - m, out, err);
  af_gen_opts o;
  af_gen_opts_default(&o);
  o.cc = cc;
  return af_gen_bytes(&o, data, n, out, NULL, err);
}

/* ---- small helpers ---------------------------------------------------------------------- */
static int below(af_rng *r, int n) { return n > 0 ? (int)af_rng_below(r, (uint64_t)n) : 0; }

/* A type a new parameter or argument may have: any scalar but void, ptr, f16 and m256 (the
 * campaign's default generator options leave those two out), or an existing struct/union. */
static int pick_type(const af_case *c, af_rng *r) {
  for (int tries = 0; tries < 32; tries++) {
    int t = 1 + below(r, c->ntypes - 1);
    af_kind k = t < AF_T_NSCALAR ? (af_kind)t : c->types[t].kind;
    if (k == AF_T_PTR || k == AF_T_F16 || k == AF_T_M256 || k == AF_T_ARRAY) continue;
    return t;
  }
  return AF_T_I32;
}

/* Fills the bytes of a non-ptr value so that it stays valid: integers get an interesting or a
 * random pattern, floats random bits (NaNs included), bool 0/1, f80 left as it was (its
 * canonical encoding is a rule), aggregates random bytes (af_verify rejects a bad leaf). */
static void fill_value(const af_case *c, af_value *v, af_rng *r) {
  if (v->type == AF_T_PTR || !v->size) return;
  if (v->type == AF_T_BOOL) {
    v->bytes[0] = (uint8_t)below(r, 2);
    return;
  }
  if (v->type == AF_T_F80) return;
  int how = below(r, 6);
  for (uint32_t i = 0; i < v->size; i++) {
    uint8_t b = (uint8_t)af_rng_next(r);
    if (how == 0) b = 0;
    if (how == 1) b = 0xff;
    if (how == 2) b = i == 0 ? 1 : 0;
    if (how == 3 && af_type_is_int(c, v->type)) /* the signed maximum / minimum */
      b = i + 1 == v->size ? 0x7f : 0xff;
    v->bytes[i] = b;
  }
}

/* Adds delta to every value id >= from in fn's instructions (operands and definitions). */
static void shift_ids(af_func *fn, int from, int delta) {
  for (int i = 0; i < fn->ninsts; i++) {
    af_inst *in = &fn->insts[i];
    for (int a = 0; a < in->nargs; a++)
      if (in->args[a] >= from) in->args[a] += delta;
    if (in->dst >= from) in->dst += delta;
  }
}

static void renumber(af_case *c) {
  for (int k = 0; k < c->nfuncs; k++) {
    af_func *fn = &c->funcs[k];
    int n = fn->sig.nparams;
    for (int i = 0; i < fn->ninsts; i++)
      if (fn->insts[i].dst >= 0) n++;
    fn->nvalues = n;
  }
}

/* Inserts `v0 = const T` before instruction p of function fi: the id it defines, or -1. */
static int insert_const(af_case *c, int fi, int p, int type, af_rng *r) {
  af_func *fn = &c->funcs[fi];
  if (type == AF_T_PTR || type == AF_T_VOID || fn->ninsts >= AF_MAX_INSTS) return -1;
  int id = fn->sig.nparams;
  for (int i = 0; i < p; i++)
    if (fn->insts[i].dst >= 0) id++;
  af_inst in;
  memset(&in, 0, sizeof in);
  in.op = AF_OP_CONST;
  in.type = type;
  if (af_value_init(c, &in.cst, type) != AF_OK) return -1;
  fill_value(c, &in.cst, r);
  shift_ids(fn, id, 1);
  if (af_inst_add(c, fi, &in) < -1) return -1;
  fn = &c->funcs[fi];
  af_inst last = fn->insts[fn->ninsts - 1];
  memmove(&fn->insts[p + 1], &fn->insts[p], sizeof(af_inst) * (size_t)(fn->ninsts - 1 - p));
  last.dst = id;
  fn->insts[p] = last;
  return id;
}

/* Drops parameter k of function fi: its uses become a constant of its type (not for a ptr),
 * every call site drops the argument, the entry drops the input. */
static int drop_param(af_case *c, int fi, int k, af_rng *r) {
  af_func *fn = &c->funcs[fi];
  af_sig *s = &fn->sig;
  if (k >= s->nparams || (s->variadic && k < s->nfixed && s->nfixed <= 1)) return -1;
  int used = 0;
  for (int i = 0; i < fn->ninsts; i++)
    for (int a = 0; a < fn->insts[i].nargs; a++)
      used |= fn->insts[i].args[a] == k;
  if (used) {
    int id = insert_const(c, fi, 0, s->params[k], r);
    if (id < 0) return -1;
    for (int i = 1; i < fn->ninsts; i++)
      for (int a = 0; a < fn->insts[i].nargs; a++)
        if (fn->insts[i].args[a] == k) fn->insts[i].args[a] = id;
  }
  memmove(&s->params[k], &s->params[k + 1], sizeof(int) * (size_t)(s->nparams - 1 - k));
  s->nparams--;
  if (!s->variadic)
    s->nfixed = s->nparams;
  else if (k < s->nfixed)
    s->nfixed--;
  shift_ids(fn, k + 1, -1);
  for (int g = 0; g < c->nfuncs; g++)
    for (int i = 0; i < c->funcs[g].ninsts; i++) {
      af_inst *in = &c->funcs[g].insts[i];
      if (in->op != AF_OP_CALL || in->imm != fi || k >= in->nargs) continue;
      memmove(&in->args[k], &in->args[k + 1], sizeof(int) * (size_t)(in->nargs - 1 - k));
      in->nargs--;
    }
  if (fi == c->entry && k < c->ninputs) {
    memmove(&c->inputs[k], &c->inputs[k + 1], sizeof(af_value) * (size_t)(c->ninputs - 1 - k));
    c->ninputs--;
  }
  return 0;
}

/* Adds a parameter of type t at position k of function fi: every call site passes a new
 * constant there, the entry gets a new input. */
static int add_param(af_case *c, int fi, int k, int t, af_rng *r) {
  af_sig *s = &c->funcs[fi].sig;
  if (s->nparams >= AF_MAX_PARAMS || k > s->nparams || t == AF_T_PTR) return -1;
  shift_ids(&c->funcs[fi], k, 1);
  memmove(&s->params[k + 1], &s->params[k], sizeof(int) * (size_t)(s->nparams - k));
  s->params[k] = t;
  s->nparams++;
  if (!s->variadic)
    s->nfixed = s->nparams;
  else if (k < s->nfixed)
    s->nfixed++;
  for (int g = 0; g < c->nfuncs; g++)
    for (int i = 0; i < c->funcs[g].ninsts; i++) {
      af_inst *in = &c->funcs[g].insts[i];
      if (in->op != AF_OP_CALL || in->imm != fi) continue;
      if (in->nargs >= AF_MAX_OPERANDS || k > in->nargs) return -1;
      int id = insert_const(c, g, i, t, r);
      if (id < 0) return -1;
      in = &c->funcs[g].insts[++i]; /* the call moved one down */
      memmove(&in->args[k + 1], &in->args[k], sizeof(int) * (size_t)(in->nargs - k));
      in->args[k] = id;
      in->nargs++;
    }
  if (fi == c->entry) {
    if (c->ninputs >= AF_MAX_PARAMS || k > c->ninputs) return -1;
    af_value v;
    if (af_value_init(c, &v, t) != AF_OK) return -1;
    fill_value(c, &v, r);
    memmove(&c->inputs[k + 1], &c->inputs[k], sizeof(af_value) * (size_t)(c->ninputs - k));
    c->inputs[k] = v;
    c->ninputs++;
  }
  return 0;
}

/* The function a mutation works on (host ones included: their calls are checked too). */
static int pick_func(const af_case *c, af_rng *r) { return below(r, c->nfuncs); }

enum { M_TYPE, M_ADD, M_DROP, M_CC, M_INPUT, M_CONST, M_OBJECT, M_COUNT };

/* One mutation of c; 0 if it applied (c may still fail af_verify), -1 if not. */
static int mutate_once(af_case *c, af_rng *r, int cc) {
  int fi = pick_func(c, r);
  af_sig *s = &c->funcs[fi].sig;
  switch (below(r, M_COUNT)) {
  case M_TYPE: /* change a parameter's type */
    if (!s->nparams) return -1;
    {
      int k = below(r, s->nparams);
      if (s->params[k] == AF_T_PTR) return -1;
      if (drop_param(c, fi, k, r)) return -1;
      return add_param(c, fi, k, pick_type(c, r), r);
    }
  case M_ADD: return add_param(c, fi, below(r, s->nparams + 1), pick_type(c, r), r);
  case M_DROP: return s->nparams ? drop_param(c, fi, below(r, s->nparams), r) : -1;
  case M_CC: /* swap the convention of the case (every function) */
    if (cc >= 0) return -1;
    c->cc = c->cc == AF_CC_SYSV ? AF_CC_WIN64 : AF_CC_SYSV;
    for (int k = 0; k < c->nfuncs; k++)
      c->funcs[k].sig.cc = c->cc;
    return 0;
  case M_INPUT: /* change an input value */
    if (!c->ninputs) return -1;
    fill_value(c, &c->inputs[below(r, c->ninputs)], r);
    return 0;
  case M_CONST: { /* change a constant */
    af_func *fn = &c->funcs[fi];
    if (!fn->ninsts) return -1;
    af_inst *in = &fn->insts[below(r, fn->ninsts)];
    if (in->op != AF_OP_CONST) return -1;
    fill_value(c, &in->cst, r);
    return 0;
  }
  case M_OBJECT: /* change bytes of an object's initial contents */
    if (!c->nobjects) return -1;
    {
      af_object *o = &c->objects[below(r, c->nobjects)];
      int n = 1 + below(r, 16);
      for (int i = 0; i < n; i++)
        o->init[below(r, AF_REGION_SIZE)] = (uint8_t)af_rng_next(r);
    }
    return 0;
  }
  return -1;
}

static af_status finish(af_case *c) {
  renumber(c);
  for (int k = 0; k < c->nfuncs; k++) {
    af_status s = af_fn_finish(c, k);
    if (s != AF_OK) return s;
  }
  af_error err = {{0}};
  return af_verify(c, &err);
}

size_t af_fuzz_mutate(uint8_t *data, size_t n, size_t max, unsigned seed, int cc) {
  af_rng r;
  af_rng_seed(&r, seed, n);
  af_case *c = malloc(sizeof *c);
  if (!c) return 0;
  size_t out = 0;
  for (int attempt = 0; attempt < 8 && !out; attempt++) {
    af_error err = {{0}};
    if (af_fuzz_decode(data, n, cc, c, &err) != AF_OK) {
      af_case_free(c);
      break; /* not decodable: a byte-level mutation it is */
    }
    int nmut = 1 + below(&r, 3), applied = 0;
    for (int m = 0; m < nmut; m++)
      applied += mutate_once(c, &r, cc) == 0;
    char *text = NULL;
    size_t len = 0, ml = sizeof AF_FUZZ_MAGIC - 1;
    if (applied && finish(c) == AF_OK && af_print_str(c, &text, &len) == AF_OK && ml + len <= max) {
      memcpy(data, AF_FUZZ_MAGIC, ml);
      memcpy(data + ml, text, len);
      out = ml + len;
    }
    free(text);
    af_case_free(c);
  }
  free(c);
  return out;
}
