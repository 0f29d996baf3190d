/* verify_body.c - af_verify's check of function bodies: operand types per op, bounds, pointers. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "verify_internal.h"

/* Every rule here is one row of the semantics table in gen.h. Messages name
 * the function, the instruction index and the value it defines:
 * "f2 inst 5 (v9 = add): operand v3 is f32, expected i32". */

typedef struct {
  const af_case *c;
  af_error *err;
  int fn;
  const af_func *f;
  int idx; /* instruction index */
  const af_inst *in;
  int next;                                    /* next value id to define */
  int vt[AF_MAX_PARAMS + AF_MAX_INSTS];        /* type of every value defined so far */
  uint8_t local[AF_MAX_PARAMS + AF_MAX_INSTS]; /* 1: pointer derived from a LOCAL */
  /* per type id: 0 not known yet, 1 every byte pattern of the right size is a valid value
   * (no bool or f80 leaf outside unions and bit-fields: what vfy_value's byte walk looks
   * for), 2 not */
  uint8_t clean[AF_MAX_TYPES];
#ifdef VFY_CROSS_CHECK
  int bad; /* vfy_fast_disagrees (test_gen_fast's copy of this file) */
#endif
} bctx;

__attribute__((format(printf, 2, 3))) static af_status bfail(bctx *x, const char *fmt, ...) {
  char p[64], body[192];
  const char *op = af_op_name(x->in->op);
  if (x->in->op == AF_OP_STORE || x->in->op == AF_OP_RET ||
      (x->in->op == AF_OP_CALL && x->in->type == AF_T_VOID) || (unsigned)x->in->op >= AF_OP_COUNT)
    snprintf(p, sizeof p, "f%d inst %d (%s)", x->fn, x->idx, op);
  else
    snprintf(p, sizeof p, "f%d inst %d (v%d = %s)", x->fn, x->idx, x->next, op);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(body, sizeof body, fmt, ap);
  va_end(ap);
  return vfy_fail(x->err, p, "%s", body);
}

static const char *tn(bctx *x, int t, char *b) { return vfy_tname(x->c, t, b, 32); }

/* "f<fn> inst <idx> (v<next> = const)", what snprintf made, at a tenth of its cost: every
 * constant of every generated case is verified under this name (doc/benchmarks.md). */
static const char *const_where(const bctx *x, char p[64]) {
  char *q = p;
  *q++ = 'f';
  q = vfy_put_int(q, x->fn);
  memcpy(q, " inst ", 6), q += 6;
  q = vfy_put_int(q, x->idx);
  memcpy(q, " (v", 3), q += 3;
  q = vfy_put_int(q, x->next);
  memcpy(q, " = const)", 10); /* with the NUL */
  return p;
}

static int is_int(int t) { return t >= AF_T_I8 && t <= AF_T_U128; }
static int is_float(int t) { return t >= AF_T_F16 && t <= AF_T_F80; }
static int width_bytes(const af_case *c, int t) { return (int)c->types[t].size; }

static af_status want_nargs(bctx *x, int n) {
  if (x->in->nargs != n) return bfail(x, "%d operands, expected %d", x->in->nargs, n);
  return AF_OK;
}

/* The message of a failing want_arg, out of line: the check itself is inline. */
static __attribute__((noinline)) af_status want_arg_fail(bctx *x, int k, int t) {
  int v = x->in->args[k];
  char b1[32], b2[32];
  return bfail(x, "operand v%d is %s, expected %s", v, tn(x, x->vt[v], b1), tn(x, t, b2));
}

/* Operand k must have exactly type t. */
static inline af_status want_arg(bctx *x, int k, int t) {
  return x->vt[x->in->args[k]] == t ? AF_OK : want_arg_fail(x, k, t);
}

static af_status want_type(bctx *x, int ok, const char *what) {
  char b[32];
  if (!ok) return bfail(x, "type %s is not %s", tn(x, x->in->type, b), what);
  return AF_OK;
}

static af_status want_arg_kind(bctx *x, int k, int ok, const char *what) {
  char b[32];
  int v = x->in->args[k];
  if (!ok) return bfail(x, "operand v%d is %s, expected %s", v, tn(x, x->vt[v], b), what);
  return AF_OK;
}

/* Walks a GET/SET path from `type`; *leaf receives the leaf's type. */
static af_status walk_path(bctx *x, int type, int *leaf) {
  const af_case *c = x->c;
  char b[32];
  if (x->in->npath < 1 || x->in->npath > AF_MAX_PATH)
    return bfail(x, "path of %d indices (must be 1..%d)", x->in->npath, AF_MAX_PATH);
  for (int k = 0; k < x->in->npath; k++) {
    int i = x->in->path[k];
    int lanes = 0, lane_type = AF_T_F32;
    if (type == AF_T_CF32 || type == AF_T_CF64) {
      lanes = 2;
      lane_type = type == AF_T_CF32 ? AF_T_F32 : AF_T_F64;
    } else if (type == AF_T_M128) {
      lanes = 4;
    } else if (type == AF_T_M256) {
      lanes = 8;
    }
    if (lanes) {
      if (i < 0 || i >= lanes) return bfail(x, "path index %d: %d out of 0..%d", k, i, lanes - 1);
      type = lane_type;
      continue;
    }
    if (type < AF_T_NSCALAR)
      return bfail(x, "path index %d: cannot index into %s", k, tn(x, type, b));
    const af_type *t = &c->types[type];
    if (t->kind == AF_T_ARRAY) {
      if (i < 0 || (uint32_t)i >= t->count)
        return bfail(x, "path index %d: element %d out of 0..%u", k, i, t->count - 1);
      type = t->elem;
      continue;
    }
    if (i < 0 || i >= t->nfields)
      return bfail(x, "path index %d: field %d of %s out of 0..%d", k, i, tn(x, type, b),
                   t->nfields - 1);
    if (t->fields[i].bits == 0)
      return bfail(x, "path index %d: field %d of %s is an unnamed zero-width bit-field", k, i,
                   tn(x, type, b));
    type = t->fields[i].type;
  }
  if (!vfy_is_value_type(c, type))
    return bfail(x, "path ends at %s, which is not a value type", tn(x, type, b));
  *leaf = type;
  return AF_OK;
}

static int load_store_type(int t) {
  return is_int(t) || (t >= AF_T_F16 && t <= AF_T_F64) || t == AF_T_CF32 || t == AF_T_CF64 ||
         t == AF_T_M128 || t == AF_T_M256;
}

static af_status check_mem(bctx *x) {
  char b[32];
  af_status s = want_type(x, load_store_type(x->in->type),
                          "loadable (integer, f16 f32 f64, complex or vector)");
  if (s != AF_OK) return s;
  int64_t sz = width_bytes(x->c, x->in->type);
  if (x->in->imm < 0 || x->in->imm > AF_REGION_SIZE - sz)
    return bfail(x, "offset %lld + %lld bytes of %s outside the %d-byte region",
                 (long long)x->in->imm, (long long)sz, tn(x, x->in->type, b), AF_REGION_SIZE);
  return want_arg(x, 0, AF_T_PTR);
}

static af_status check_call(bctx *x) {
  const af_inst *in = x->in;
  const af_case *c = x->c;
  char b1[32], b2[32];
  if (x->f->host) return bfail(x, "host functions contain no call");
  if (in->imm <= x->fn || in->imm >= c->nfuncs)
    return bfail(x, "callee f%lld must be in f%d..f%d (calls go to later functions)",
                 (long long)in->imm, x->fn + 1, c->nfuncs - 1);
  const af_sig *s = &c->funcs[in->imm].sig;
  if (in->type != s->ret)
    return bfail(x, "type %s, but f%lld returns %s", tn(x, in->type, b1), (long long)in->imm,
                 tn(x, s->ret, b2));
  if (in->nargs != s->nparams)
    return bfail(x, "%d arguments, but f%lld takes %d", in->nargs, (long long)in->imm, s->nparams);
  int local = 0;
  for (int k = 0; k < in->nargs; k++) {
    af_status st = want_arg(x, k, s->params[k]);
    if (st != AF_OK) return st;
    local |= x->local[in->args[k]];
  }
  /* A callee may return a pointer it was given: the result stays local-derived. */
  if (in->type == AF_T_PTR) x->local[x->next] = (uint8_t)local;
  return AF_OK;
}

/* 1 if check_bytes (verify.c) finds nothing to reject in any bytes of a value of type t:
 * it rejects only bool bytes above 1 and non-canonical f80s, and walks arrays and struct
 * fields (not unions, not bit-fields). Types refer to earlier ids only, so this ends. */
static int type_clean(bctx *x, int t) {
  if (t < AF_T_NSCALAR) return t != AF_T_BOOL && t != AF_T_F80;
  if (x->clean[t]) return x->clean[t] == 1;
  const af_type *ty = &x->c->types[t];
  int ok = 1;
  if (ty->kind == AF_T_ARRAY)
    ok = type_clean(x, ty->elem);
  else if (ty->kind == AF_T_STRUCT)
    for (int i = 0; ok && i < ty->nfields; i++)
      if (ty->fields[i].bits < 0) ok = type_clean(x, ty->fields[i].type);
  x->clean[t] = ok ? 1 : 2;
  return ok;
}

static af_status check_ops(bctx *x) {
  const af_inst *in = x->in;
  const af_case *c = x->c;
  int T = in->type;
  char b1[32], b2[32];
  af_status s = AF_OK;
  const int *a = in->args;
  switch (in->op) {
  case AF_OP_CONST:
    if ((s = want_nargs(x, 0))) return s;
    if ((s = want_type(x, vfy_is_value_type(c, T) && T != AF_T_PTR, "a constant type"))) return s;
    if (in->cst.type != T)
      return bfail(x, "constant of type %s in a %s instruction", tn(x, in->cst.type, b1),
                   tn(x, T, b2));
    /* A scalar other than bool and f80 has no bad byte pattern: vfy_value would check only
     * the size and that the bytes are there (T is a value type and not ptr, as checked). */
    if (T < AF_T_NSCALAR && T != AF_T_BOOL && T != AF_T_F80 && in->cst.size == c->types[T].size &&
        in->cst.bytes)
      return AF_OK;
    /* bool and f80: what vfy_value checks of them, inline (a bool byte is 0 or 1; an f80's
     * padding is zero and its integer bit is set iff its exponent is not zero) */
    if ((T == AF_T_BOOL || T == AF_T_F80) && in->cst.size == c->types[T].size && in->cst.bytes) {
      const uint8_t *p = in->cst.bytes;
      if (T == AF_T_BOOL ? p[0] <= 1
                         : !(p[10] | p[11] | p[12] | p[13] | p[14] | p[15]) &&
                               ((p[7] >> 7) & 1) == (((p[8] | (p[9] << 8)) & 0x7fff) != 0))
        return AF_OK;
    }
    /* An aggregate whose every byte pattern is valid: vfy_value checks only the size and
     * that the bytes are there (T is a value type, not ptr, not f80). */
    if (T >= AF_T_NSCALAR && in->cst.size == c->types[T].size && (in->cst.bytes || !in->cst.size) &&
        type_clean(x, T))
      return AF_OK;
    /* Checked without a message first: the place is named only for a bad constant. */
    if (vfy_value(c, &in->cst, 0, "", NULL) == AF_OK) return AF_OK;
    {
      char p[64];
      return vfy_value(c, &in->cst, 0, const_where(x, p), x->err);
    }
  case AF_OP_ADD:
  case AF_OP_SUB:
  case AF_OP_MUL:
  case AF_OP_AND:
  case AF_OP_OR:
  case AF_OP_XOR:
  case AF_OP_SHL:
  case AF_OP_LSHR:
  case AF_OP_ASHR:
    if ((s = want_nargs(x, 2)) || (s = want_type(x, is_int(T), "an integer type"))) return s;
    if ((s = want_arg(x, 0, T))) return s;
    return want_arg(x, 1, T);
  case AF_OP_CMP:
    if ((s = want_nargs(x, 2)) || (s = want_type(x, T == AF_T_BOOL, "bool (cmp gives bool)")))
      return s;
    if (in->imm < 0 || in->imm >= AF_CMP_COUNT)
      return bfail(x, "bad comparison %lld", (long long)in->imm);
    if ((s = want_arg_kind(x, 0, is_int(x->vt[a[0]]) || x->vt[a[0]] == AF_T_BOOL,
                           "an integer or bool")))
      return s;
    return want_arg(x, 1, x->vt[a[0]]);
  case AF_OP_SELECT:
    if ((s = want_nargs(x, 3)) || (s = want_type(x, vfy_is_value_type(c, T), "a value type")))
      return s;
    if ((s = want_arg(x, 0, AF_T_BOOL)) || (s = want_arg(x, 1, T)) || (s = want_arg(x, 2, T)))
      return s;
    x->local[x->next] = (uint8_t)(x->local[a[1]] | x->local[a[2]]);
    return AF_OK;
  case AF_OP_SEXT:
  case AF_OP_ZEXT:
    if ((s = want_nargs(x, 1)) || (s = want_type(x, is_int(T), "an integer type"))) return s;
    return want_arg_kind(x, 0,
                         (is_int(x->vt[a[0]]) || x->vt[a[0]] == AF_T_BOOL) &&
                             width_bytes(c, x->vt[a[0]]) <= width_bytes(c, T),
                         "an integer or bool no wider than the result");
  case AF_OP_TRUNC:
    if ((s = want_nargs(x, 1)) ||
        (s = want_type(x, is_int(T) || T == AF_T_BOOL, "integer or bool")))
      return s;
    return want_arg_kind(x, 0,
                         is_int(x->vt[a[0]]) && width_bytes(c, x->vt[a[0]]) >= width_bytes(c, T),
                         "an integer at least as wide as the result");
  case AF_OP_FADD:
  case AF_OP_FSUB:
  case AF_OP_FMUL:
    if ((s = want_nargs(x, 2)) ||
        (s = want_type(x, T == AF_T_F32 || T == AF_T_F64 || T == AF_T_F80, "f32, f64 or f80")))
      return s;
    if ((s = want_arg(x, 0, T))) return s;
    return want_arg(x, 1, T);
  case AF_OP_FCONV:
    if ((s = want_nargs(x, 1)) || (s = want_type(x, is_float(T), "a float type"))) return s;
    return want_arg_kind(x, 0, is_float(x->vt[a[0]]), "a float");
  case AF_OP_FTOI:
    if ((s = want_nargs(x, 1)) || (s = want_type(x, is_int(T), "an integer type (not bool)")))
      return s;
    return want_arg_kind(x, 0, is_float(x->vt[a[0]]), "a float");
  case AF_OP_ITOF:
    if ((s = want_nargs(x, 1)) || (s = want_type(x, is_float(T), "a float type"))) return s;
    return want_arg_kind(x, 0, is_int(x->vt[a[0]]), "an integer");
  case AF_OP_BITCAST: {
    if ((s = want_nargs(x, 1))) return s;
    int A = x->vt[a[0]];
    int f16_64 = (T >= AF_T_F16 && T <= AF_T_F64), af = (A >= AF_T_F16 && A <= AF_T_F64);
    if (!((is_int(T) && af) || (f16_64 && is_int(A))) || width_bytes(c, T) != width_bytes(c, A))
      return bfail(x, "bitcast %s to %s: only same-size integer <-> f16/f32/f64", tn(x, A, b1),
                   tn(x, T, b2));
    return AF_OK;
  }
  case AF_OP_GET: {
    int leaf;
    if ((s = want_nargs(x, 1)) || (s = walk_path(x, x->vt[a[0]], &leaf))) return s;
    if (leaf != T)
      return bfail(x, "type %s, but the path leads to %s", tn(x, T, b1), tn(x, leaf, b2));
    return AF_OK;
  }
  case AF_OP_SET: {
    int leaf;
    if ((s = want_nargs(x, 2)) || (s = want_arg(x, 0, T)) || (s = walk_path(x, T, &leaf))) return s;
    return want_arg(x, 1, leaf);
  }
  case AF_OP_LOAD:
    if ((s = want_nargs(x, 1))) return s;
    return check_mem(x);
  case AF_OP_STORE:
    if ((s = want_nargs(x, 2)) || (s = check_mem(x))) return s;
    return want_arg(x, 1, T);
  case AF_OP_LOCAL:
    if (x->f->host) return bfail(x, "host functions contain no local");
    if ((s = want_nargs(x, 0)) || (s = want_type(x, T == AF_T_PTR, "ptr"))) return s;
    if (in->imm != 16 && in->imm != 32 && in->imm != 64)
      return bfail(x, "alignment %lld is not 16, 32 or 64", (long long)in->imm);
    x->local[x->next] = 1;
    return AF_OK;
  case AF_OP_CALL: return check_call(x);
  case AF_OP_MIX:
    if ((s = want_type(x, T == AF_T_U64, "u64"))) return s;
    if (in->nargs < 1) return bfail(x, "mix needs at least one operand");
    return AF_OK;
  case AF_OP_RET:
    if (x->idx != x->f->ninsts - 1) return bfail(x, "ret is not the last instruction");
    if (T != x->f->sig.ret)
      return bfail(x, "type %s, but f%d returns %s", tn(x, T, b1), x->fn, tn(x, x->f->sig.ret, b2));
    if (T == AF_T_VOID) return want_nargs(x, 0);
    if ((s = want_nargs(x, 1)) || (s = want_arg(x, 0, T))) return s;
    if (x->local[a[0]])
      return bfail(x, "returns v%d, a pointer derived from this function's local", a[0]);
    return AF_OK;
  default: break;
  }
  return bfail(x, "unknown op %d", (int)in->op);
}

/* Which fields an op may use: the rest must be zero, so that a verified case
 * is exactly what its text shows. */
static int uses_imm(af_op op) {
  return op == AF_OP_CMP || op == AF_OP_LOAD || op == AF_OP_STORE || op == AF_OP_LOCAL ||
         op == AF_OP_CALL || op == AF_OP_MIX;
}

static af_status check_inst(bctx *x) {
  const af_inst *in = x->in;
  char b[32];
  int op = (int)in->op, T = in->type, next = x->next;
  if ((unsigned)op >= AF_OP_COUNT) return bfail(x, "unknown op %d", op);
  if (T < 0 || T >= x->c->ntypes) return bfail(x, "type %s is not defined", tn(x, T, b));
  int defines = !(op == AF_OP_STORE || op == AF_OP_RET || (op == AF_OP_CALL && T == AF_T_VOID));
  if (in->dst != (defines ? next : -1)) {
    if (defines) return bfail(x, "defines v%d, expected v%d (ids in order)", in->dst, next);
    return bfail(x, "defines v%d but has no value", in->dst);
  }
  if (T == AF_T_VOID && op != AF_OP_RET && op != AF_OP_CALL) return bfail(x, "void result");
  int n = in->nargs;
  if ((unsigned)n > AF_MAX_OPERANDS) return bfail(x, "%d operands (max %d)", n, AF_MAX_OPERANDS);
  for (int k = 0; k < n; k++) /* 0 <= id < next in one compare */
    if ((unsigned)in->args[k] >= (unsigned)next)
      return bfail(x, "operand v%d is not defined before this instruction", in->args[k]);
  if (in->imm != 0 && !uses_imm(in->op))
    return bfail(x, "immediate %lld on an op that takes none", (long long)in->imm);
  if (in->npath != 0 && op != AF_OP_GET && op != AF_OP_SET)
    return bfail(x, "path on an op that takes none");
  if (defines) x->local[next] = 0;
  af_status s = check_ops(x);
  if (s != AF_OK) return s;
  if (defines) x->vt[x->next++] = T;
  return AF_OK;
}

/* 1 only if check_inst would pass `in` (the next value id being next) and then do no more
 * than local[next] = 0, vt[next] = in->type, next + 1: the common ops of generated bodies,
 * checked in one go. 0 says nothing: check_inst then runs every check and names a failure.
 * Every test here is one of check_inst's or check_ops's for that op (the type table's scalar
 * entries are the scalar table's: af_verify_types_shape ran first). */
static inline __attribute__((always_inline)) int fast_inst(const bctx *x, const af_inst *in,
                                                           int next) {
  const af_case *c = x->c;
  const int *a = in->args, *vt = x->vt;
  const int T = in->type, n = in->nargs;
  if (in->npath != 0 || in->dst != next || (unsigned)T >= AF_T_NSCALAR) return 0;
  const unsigned lim = (unsigned)next; /* an operand is an earlier value: 0 <= id < next */
  /* the operands of a one- or two-operand op, each checked before its type is read */
#define ARGS1 (n == 1 && (unsigned)a[0] < lim)
#define ARGS2 (n == 2 && (unsigned)a[0] < lim && (unsigned)a[1] < lim)
#define A     (vt[a[0]])
  switch (in->op) {
  case AF_OP_CONST:
    return n == 0 && in->imm == 0 && T > AF_T_VOID && T != AF_T_PTR && T != AF_T_BOOL &&
           T != AF_T_F80 && in->cst.type == T && in->cst.size == c->types[T].size &&
           in->cst.bytes != NULL;
  case AF_OP_ADD:
  case AF_OP_SUB:
  case AF_OP_MUL:
  case AF_OP_AND:
  case AF_OP_OR:
  case AF_OP_XOR:
  case AF_OP_SHL:
  case AF_OP_LSHR:
  case AF_OP_ASHR: return ARGS2 && in->imm == 0 && is_int(T) && A == T && vt[a[1]] == T;
  case AF_OP_CMP:
    return ARGS2 && T == AF_T_BOOL && in->imm >= 0 && in->imm < AF_CMP_COUNT &&
           (is_int(A) || A == AF_T_BOOL) && vt[a[1]] == A;
  case AF_OP_SEXT:
  case AF_OP_ZEXT:
    return ARGS1 && in->imm == 0 && is_int(T) && (is_int(A) || A == AF_T_BOOL) &&
           width_bytes(c, A) <= width_bytes(c, T);
  case AF_OP_TRUNC:
    return ARGS1 && in->imm == 0 && (is_int(T) || T == AF_T_BOOL) && is_int(A) &&
           width_bytes(c, A) >= width_bytes(c, T);
  case AF_OP_FADD:
  case AF_OP_FSUB:
  case AF_OP_FMUL:
    return ARGS2 && in->imm == 0 && (T == AF_T_F32 || T == AF_T_F64 || T == AF_T_F80) && A == T &&
           vt[a[1]] == T;
  case AF_OP_FCONV: return ARGS1 && in->imm == 0 && is_float(T) && is_float(A);
  case AF_OP_FTOI: return ARGS1 && in->imm == 0 && is_int(T) && is_float(A);
  case AF_OP_ITOF: return ARGS1 && in->imm == 0 && is_float(T) && is_int(A);
  case AF_OP_BITCAST:
    return ARGS1 && in->imm == 0 &&
           ((is_int(T) && A >= AF_T_F16 && A <= AF_T_F64) ||
            (T >= AF_T_F16 && T <= AF_T_F64 && is_int(A))) &&
           width_bytes(c, T) == width_bytes(c, A);
  case AF_OP_MIX:
    if (T != AF_T_U64 || n < 1 || n > AF_MAX_OPERANDS) return 0;
    for (int k = 0; k < n; k++)
      if ((unsigned)a[k] >= lim) return 0;
    return 1;
  default: return 0;
  }
#undef ARGS1
#undef ARGS2
#undef A
}

static af_status check_func(bctx *x) {
  const af_func *f = x->f;
  char p[16], b1[32], b2[32];
  *vfy_put_int(p + 1, x->fn) = 0, p[0] = 'f';
  if (f->ninsts < 1 || f->ninsts > AF_MAX_INSTS || !f->insts)
    return vfy_fail(x->err, p, "%d instructions (must be 1..%d)", f->ninsts, AF_MAX_INSTS);
  x->next = f->sig.nparams;
  for (int i = 0; i < f->sig.nparams; i++) {
    x->vt[i] = f->sig.params[i];
    x->local[i] = 0;
  }
  for (int i = 0; i < f->ninsts; i++) {
    const af_inst *in = &f->insts[i];
    int next = x->next;
#ifndef VFY_CROSS_CHECK
    if (fast_inst(x, in, next)) {
      x->local[next] = 0;
      x->vt[next] = in->type;
      x->next = next + 1;
      continue;
    }
#else
    /* test_gen_fast's copy: every instruction through the full check too */
    int fast = fast_inst(x, in, next);
    x->local[next] = 7; /* check_inst must clear it for a value it defines */
#endif
    x->idx = i;
    x->in = in;
    af_status s = check_inst(x);
#ifdef VFY_CROSS_CHECK
    if (fast &&
        (s != AF_OK || x->next != next + 1 || x->local[next] != 0 || x->vt[next] != in->type))
      x->bad++;
#endif
    if (s != AF_OK) return s;
  }
  if (f->insts[f->ninsts - 1].op != AF_OP_RET)
    return vfy_fail(x->err, p, "the last instruction is not ret");
  /* The interpreter reads value_type: it must be what the body defines. */
  if (f->nvalues != x->next || !f->value_type)
    return vfy_fail(x->err, p, "nvalues %d, but the body defines %d (af_fn_finish not run?)",
                    f->nvalues, x->next);
  if (memcmp(f->value_type, x->vt, sizeof(int) * (size_t)x->next) == 0) return AF_OK;
  for (int v = 0; v < x->next; v++) /* which one differs */
    if (f->value_type[v] != x->vt[v])
      return vfy_fail(x->err, p, "value_type of v%d is %s, expected %s", v,
                      vfy_tname(x->c, f->value_type[v], b1, sizeof b1),
                      vfy_tname(x->c, x->vt[v], b2, sizeof b2));
  return AF_OK;
}

af_status vfy_bodies(const af_case *c, af_error *err) {
  bctx xs, *x = &xs; /* 5.5 KB of stack: a malloc and free per verified case cost more */
  memset(x->clean, 0, sizeof(x->clean[0]) * (size_t)(c->ntypes > 0 ? c->ntypes : 0));
  af_status s = AF_OK;
  for (int i = 0; i < c->nfuncs && s == AF_OK; i++) {
    /* vt and local are written (parameters, then each defined value) before they are read:
     * only the scalars are set, not the 6 KB of arrays. */
    x->idx = 0;
    x->in = NULL;
    x->next = 0;
    x->c = c;
    x->err = err;
    x->fn = i;
    x->f = &c->funcs[i];
    s = check_func(x);
  }
  return s;
}

#ifdef VFY_CROSS_CHECK
/* For test_gen_fast, which compiles its own copy of this file with VFY_CROSS_CHECK: runs
 * every instruction of every function (up to a function's first rejected one) through both
 * the one-step check of the common ops (fast_inst) and the full check, and counts the
 * instructions the first accepts where the full check rejects them or does more than define
 * the next value. 0 on a correct fast path. The library's copy has none of this. */
static int vfy_fast_disagrees(const af_case *c) {
  bctx xs, *x = &xs;
  memset(x->clean, 0, sizeof(x->clean[0]) * (size_t)(c->ntypes > 0 ? c->ntypes : 0));
  x->bad = 0;
  for (int i = 0; i < c->nfuncs; i++) { /* as vfy_bodies, on to the next function on a failure */
    x->idx = 0;
    x->in = NULL;
    x->next = 0;
    x->c = c;
    x->err = NULL;
    x->fn = i;
    x->f = &c->funcs[i];
    check_func(x);
  }
  return x->bad;
}
#endif
