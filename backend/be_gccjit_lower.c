/* be_gccjit_lower.c - a case's non-host functions as libgccjit functions: gen.h's IR lowered
 * op by op at the C level (values are locals of their C type), exactly as the interpreter
 * defines each op; gcc then does the ABI lowering itself. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "be_gccjit_internal.h"

/* One function being lowered. */
typedef struct {
  gj_unit *u;
  gj_case *k;
  const af_func *f;
  int fi;
  gcc_jit_function *fn;
  gcc_jit_block *b;        /* where the next statement goes */
  gcc_jit_lvalue **val;    /* [nvalues] the value ids */
  gcc_jit_lvalue *mixargs; /* void *[AF_MAX_OPERANDS], MIX's operand addresses */
  int nblocks, ntemps;
} gj_fn;

#define CTX(F) ((F)->u->ctx)

static gcc_jit_rvalue *rv(gj_fn *F, int id) { return gcc_jit_lvalue_as_rvalue(F->val[id]); }

static gcc_jit_type *ty(gj_fn *F, int t) { return F->k->type[t]; }

static int size_of(const af_case *c, int t) { return t == AF_T_PTR ? 8 : (int)c->types[t].size; }

static gcc_jit_rvalue *int_cst(gj_fn *F, gcc_jit_type *t, long v) {
  return gcc_jit_context_new_rvalue_from_long(CTX(F), t, v);
}

static gcc_jit_rvalue *cast(gj_fn *F, gcc_jit_rvalue *v, gcc_jit_type *t) {
  return gcc_jit_context_new_cast(CTX(F), NULL, v, t);
}

static gcc_jit_block *new_block(gj_fn *F) {
  char name[16];
  snprintf(name, sizeof name, "b%d", F->nblocks++);
  return gcc_jit_function_new_block(F->fn, name);
}

static gcc_jit_lvalue *temp(gj_fn *F, gcc_jit_type *t) {
  char name[16];
  snprintf(name, sizeof name, "tmp%d", F->ntemps++);
  return gcc_jit_function_new_local(F->fn, NULL, t, name);
}

static void assign(gj_fn *F, gcc_jit_lvalue *d, gcc_jit_rvalue *v) {
  gcc_jit_block_add_assignment(F->b, NULL, d, v);
}

/* (void *)((unsigned char *)&l + off) */
static gcc_jit_rvalue *addr_at(gj_fn *F, gcc_jit_lvalue *l, uint32_t off) {
  gcc_jit_rvalue *p = cast(F, gcc_jit_lvalue_get_address(l, NULL), F->u->u8p);
  if (off)
    p = gcc_jit_lvalue_get_address(
        gcc_jit_context_new_array_access(CTX(F), NULL, p, int_cst(F, F->u->size_t_, (long)off)),
        NULL);
  return cast(F, p, F->u->vp);
}

/* (void *)((unsigned char *)p + off), p a pointer value */
static gcc_jit_rvalue *ptr_at(gj_fn *F, gcc_jit_rvalue *p, int64_t off) {
  p = cast(F, p, F->u->u8p);
  p = gcc_jit_lvalue_get_address(
      gcc_jit_context_new_array_access(CTX(F), NULL, p, int_cst(F, F->u->size_t_, (long)off)),
      NULL);
  return cast(F, p, F->u->vp);
}

/* __builtin_memcpy(d, s, n): the byte copies of LOAD, STORE, GET, SET and constants, so that
 * no access assumes an alignment the bytes do not have. */
static void copy(gj_fn *F, gcc_jit_rvalue *d, gcc_jit_rvalue *s, int n) {
  if (n <= 0) return;
  gcc_jit_rvalue *a[3] = {d, s, int_cst(F, F->u->size_t_, n)};
  gcc_jit_block_add_eval(F->b, NULL, gcc_jit_context_new_call(CTX(F), NULL, F->u->memcpy_fn, 3, a));
}

/* An empty asm that may change l: gcc must compute with what is in memory at run
 * time, not fold it. The interpreter runs every float operation on the hardware, whose NaN
 * results (sign, payload, quieting) a compiler folding constants does not always reproduce
 * (the emitted C does the same, oracle/emit_c.c). */
static void barrier(gj_fn *F, gcc_jit_lvalue *l) {
  gcc_jit_extended_asm *e = gcc_jit_block_add_extended_asm(F->b, NULL, "");
  gcc_jit_extended_asm_add_output_operand(e, NULL, "+m", l);
}

static gcc_jit_type *utype(gj_fn *F, int t) { return F->u->uint[size_of(F->k->c, t)]; }
static gcc_jit_type *stype(gj_fn *F, int t) { return F->u->sint[size_of(F->k->c, t)]; }

/* An integer rvalue of type t (t bool: u8) for arithmetic on its bits. */
static gcc_jit_rvalue *as_int(gj_fn *F, int id) {
  int t = F->f->value_type[id];
  return t == AF_T_BOOL ? cast(F, rv(F, id), F->u->u8) : rv(F, id);
}

/* ---- constants ---------------------------------------------------------------------------- */

/* Integers up to 64 bits and bool as literals; everything else (floats, 128-bit, vectors,
 * complex, aggregates) copied from a static byte array holding the exact bytes. */
static void lower_const(gj_fn *F, const af_inst *in, gcc_jit_lvalue *d) {
  const af_case *c = F->k->c;
  int T = in->type, n = (int)in->cst.size;
  if (T == AF_T_BOOL) {
    assign(F, d, gcc_jit_context_new_rvalue_from_int(CTX(F), ty(F, T), in->cst.bytes[0] & 1));
    return;
  }
  if (af_type_is_int(c, T) && n <= 8) {
    uint64_t x = 0;
    for (int i = 0; i < n; i++)
      x |= (uint64_t)in->cst.bytes[i] << (8 * i);
    if (n < 8 && af_scalar((af_kind)T)->is_signed && (x >> (8 * n - 1)) & 1)
      x |= ~(uint64_t)0 << (8 * n);
    assign(F, d, int_cst(F, ty(F, T), (long)x));
    return;
  }
  if (n == 0) return; /* an empty struct */
  char name[40];
  snprintf(name, sizeof name, "%sk%d", F->k->prefix, F->k->nconst++);
  gcc_jit_lvalue *g =
      gcc_jit_context_new_global(CTX(F), NULL, GCC_JIT_GLOBAL_INTERNAL,
                                 gcc_jit_context_new_array_type(CTX(F), NULL, F->u->u8, n), name);
  gcc_jit_global_set_initializer(g, in->cst.bytes, (size_t)n);
  copy(F, addr_at(F, d, 0), addr_at(F, g, 0), n);
  if (!af_type_is_int(c, T)) barrier(F, d);
}

/* ---- integer ops ------------------------------------------------------------------------- */

/* Wrapping arithmetic in the unsigned type of T's width: signed overflow would be undefined
 * behaviour that gcc may exploit, unsigned arithmetic wraps (C11 6.2.5p9). Shift amounts are
 * taken mod the width first (gen.h), so no shift is out of range; ASHR shifts the signed type,
 * which gcc defines as arithmetic. */
static void lower_intop(gj_fn *F, const af_inst *in, gcc_jit_lvalue *d) {
  int T = in->type, w = 8 * size_of(F->k->c, T);
  gcc_jit_type *ut = utype(F, T), *st = stype(F, T);
  gcc_jit_rvalue *a = cast(F, rv(F, in->args[0]), ut), *b = cast(F, rv(F, in->args[1]), ut);
  enum gcc_jit_binary_op op;
  switch (in->op) {
  case AF_OP_ADD: op = GCC_JIT_BINARY_OP_PLUS; break;
  case AF_OP_SUB: op = GCC_JIT_BINARY_OP_MINUS; break;
  case AF_OP_MUL: op = GCC_JIT_BINARY_OP_MULT; break;
  case AF_OP_AND: op = GCC_JIT_BINARY_OP_BITWISE_AND; break;
  case AF_OP_OR: op = GCC_JIT_BINARY_OP_BITWISE_OR; break;
  case AF_OP_XOR: op = GCC_JIT_BINARY_OP_BITWISE_XOR; break;
  default: {
    gcc_jit_rvalue *s = gcc_jit_context_new_binary_op(CTX(F), NULL, GCC_JIT_BINARY_OP_BITWISE_AND,
                                                      ut, b, int_cst(F, ut, w - 1));
    gcc_jit_rvalue *r;
    if (in->op == AF_OP_SHL)
      r = gcc_jit_context_new_binary_op(CTX(F), NULL, GCC_JIT_BINARY_OP_LSHIFT, ut, a, s);
    else if (in->op == AF_OP_LSHR)
      r = gcc_jit_context_new_binary_op(CTX(F), NULL, GCC_JIT_BINARY_OP_RSHIFT, ut, a, s);
    else
      r = gcc_jit_context_new_binary_op(CTX(F), NULL, GCC_JIT_BINARY_OP_RSHIFT, st, cast(F, a, st),
                                        cast(F, s, st));
    assign(F, d, cast(F, r, ty(F, T)));
    return;
  }
  }
  assign(F, d, cast(F, gcc_jit_context_new_binary_op(CTX(F), NULL, op, ut, a, b), ty(F, T)));
}

static void lower_cmp(gj_fn *F, const af_inst *in, gcc_jit_lvalue *d) {
  static const enum gcc_jit_comparison cmp[AF_CMP_COUNT] = {
      GCC_JIT_COMPARISON_EQ, GCC_JIT_COMPARISON_NE, GCC_JIT_COMPARISON_LT, GCC_JIT_COMPARISON_LE};
  /* in the operands' own type: its signedness decides LT and LE */
  assign(F, d,
         gcc_jit_context_new_comparison(CTX(F), NULL, cmp[in->imm], as_int(F, in->args[0]),
                                        as_int(F, in->args[1])));
}

/* SEXT / ZEXT from the operand's width (bool zero-extends), TRUNC keeps the low bits (to bool:
 * bit 0, not C's "!= 0"). */
static void lower_ext(gj_fn *F, const af_inst *in, gcc_jit_lvalue *d) {
  int T = in->type, A = F->f->value_type[in->args[0]];
  gcc_jit_rvalue *a = as_int(F, in->args[0]);
  if (in->op == AF_OP_TRUNC && T == AF_T_BOOL) {
    gcc_jit_type *ut = A == AF_T_BOOL ? F->u->u8 : utype(F, A);
    gcc_jit_rvalue *bit = gcc_jit_context_new_binary_op(CTX(F), NULL, GCC_JIT_BINARY_OP_BITWISE_AND,
                                                        ut, cast(F, a, ut), int_cst(F, ut, 1));
    assign(F, d,
           gcc_jit_context_new_comparison(CTX(F), NULL, GCC_JIT_COMPARISON_NE, bit,
                                          int_cst(F, ut, 0)));
    return;
  }
  if (A != AF_T_BOOL && in->op == AF_OP_SEXT) a = cast(F, a, stype(F, A));
  if (A != AF_T_BOOL && in->op == AF_OP_ZEXT) a = cast(F, a, utype(F, A));
  assign(F, d, cast(F, a, ty(F, T)));
}

/* SELECT: a branch and a join (libgccjit 12 has no conditional expression). */
static void lower_select(gj_fn *F, const af_inst *in, gcc_jit_lvalue *d) {
  if (in->args[1] == in->args[2]) {
    assign(F, d, rv(F, in->args[1]));
    return;
  }
  gcc_jit_block *bt = new_block(F), *bf = new_block(F), *bj = new_block(F);
  gcc_jit_block_end_with_conditional(F->b, NULL, rv(F, in->args[0]), bt, bf);
  gcc_jit_block_add_assignment(bt, NULL, d, rv(F, in->args[1]));
  gcc_jit_block_end_with_jump(bt, NULL, bj);
  gcc_jit_block_add_assignment(bf, NULL, d, rv(F, in->args[2]));
  gcc_jit_block_end_with_jump(bf, NULL, bj);
  F->b = bj;
}

/* ---- float ops ---------------------------------------------------------------------------- */

static void lower_fop(gj_fn *F, const af_inst *in, gcc_jit_lvalue *d) {
  gcc_jit_type *t = ty(F, in->type);
  gcc_jit_lvalue *a = temp(F, t), *b = temp(F, t);
  assign(F, a, rv(F, in->args[0]));
  assign(F, b, rv(F, in->args[1]));
  barrier(F, a);
  barrier(F, b);
  enum gcc_jit_binary_op op = in->op == AF_OP_FADD   ? GCC_JIT_BINARY_OP_PLUS
                              : in->op == AF_OP_FSUB ? GCC_JIT_BINARY_OP_MINUS
                                                     : GCC_JIT_BINARY_OP_MULT;
  assign(F, d,
         gcc_jit_context_new_binary_op(CTX(F), NULL, op, t, gcc_jit_lvalue_as_rvalue(a),
                                       gcc_jit_lvalue_as_rvalue(b)));
}

static void lower_fconv(gj_fn *F, const af_inst *in, gcc_jit_lvalue *d) {
  gcc_jit_lvalue *a = temp(F, ty(F, F->f->value_type[in->args[0]]));
  assign(F, a, rv(F, in->args[0]));
  barrier(F, a);
  assign(F, d, cast(F, gcc_jit_lvalue_as_rvalue(a), ty(F, in->type)));
}

/* ITOF: C's conversion from the operand's type (one rounding); bool as 0 / 1. __int128 to
 * long double is the interpreter's own conversion through be_gj_itof: libgccjit 12 dies
 * (SIGSEGV in RTL expand) on that cast (/work/briefs/s3/found-gccjit, finding 3). */
static void lower_itof(gj_fn *F, const af_inst *in, gcc_jit_lvalue *d) {
  int A = F->f->value_type[in->args[0]];
  if (in->type == AF_T_F80 && (A == AF_T_I128 || A == AF_T_U128)) {
    gcc_jit_rvalue *a[4] = {addr_at(F, d, 0), addr_at(F, F->val[in->args[0]], 0),
                            gcc_jit_context_new_rvalue_from_int(CTX(F), F->u->int_t, A),
                            gcc_jit_context_new_rvalue_from_int(CTX(F), F->u->int_t, in->type)};
    gcc_jit_block_add_eval(F->b, NULL,
                           gcc_jit_context_new_call_through_ptr(CTX(F), NULL, F->u->itof, 4, a));
    return;
  }
  assign(F, d, cast(F, as_int(F, in->args[0]), ty(F, in->type)));
}

/* The most negative / most positive value of integer type T. */
static gcc_jit_rvalue *int_limit(gj_fn *F, int T, int max) {
  int n = size_of(F->k->c, T), sgn = af_scalar((af_kind)T)->is_signed;
  gcc_jit_type *ut = F->u->uint[n];
  gcc_jit_rvalue *ones = gcc_jit_context_new_unary_op(CTX(F), NULL, GCC_JIT_UNARY_OP_BITWISE_NEGATE,
                                                      ut, int_cst(F, ut, 0));
  if (!sgn) return cast(F, max ? ones : int_cst(F, ut, 0), ty(F, T));
  gcc_jit_rvalue *smax = gcc_jit_context_new_binary_op(CTX(F), NULL, GCC_JIT_BINARY_OP_RSHIFT, ut,
                                                       ones, int_cst(F, ut, 1));
  if (!max)
    smax = gcc_jit_context_new_unary_op(CTX(F), NULL, GCC_JIT_UNARY_OP_BITWISE_NEGATE, ut, smax);
  return cast(F, smax, ty(F, T));
}

/* FTOI, saturating (gen.h): the value widened exactly to long double, compared with the
 * type's bounds (powers of two, exact), and only converted when in range, so no conversion
 * is ever out of range: NaN -> 0, <= min -> min, >= max+1 -> max, else truncation. */
static void lower_ftoi(gj_fn *F, const af_inst *in, gcc_jit_lvalue *d) {
  int T = in->type, bits = 8 * size_of(F->k->c, T), sgn = af_scalar((af_kind)T)->is_signed;
  gcc_jit_type *ld = F->u->ld;
  gcc_jit_lvalue *x = temp(F, ld);
  assign(F, x, cast(F, rv(F, in->args[0]), ld));
  gcc_jit_rvalue *xv = gcc_jit_lvalue_as_rvalue(x);
  gcc_jit_rvalue *lo =
      gcc_jit_context_new_rvalue_from_double(CTX(F), ld, sgn ? -ldexp(1.0, bits - 1) : -1.0);
  gcc_jit_rvalue *hi =
      gcc_jit_context_new_rvalue_from_double(CTX(F), ld, ldexp(1.0, sgn ? bits - 1 : bits));
  gcc_jit_block *nan = new_block(F), *notnan = new_block(F), *low = new_block(F);
  gcc_jit_block *notlow = new_block(F), *high = new_block(F), *mid = new_block(F);
  gcc_jit_block *join = new_block(F);
  gcc_jit_block_end_with_conditional(
      F->b, NULL, gcc_jit_context_new_comparison(CTX(F), NULL, GCC_JIT_COMPARISON_NE, xv, xv), nan,
      notnan);
  gcc_jit_block_add_assignment(nan, NULL, d, cast(F, int_cst(F, F->u->uint[1], 0), ty(F, T)));
  gcc_jit_block_end_with_jump(nan, NULL, join);
  gcc_jit_block_end_with_conditional(
      notnan, NULL, gcc_jit_context_new_comparison(CTX(F), NULL, GCC_JIT_COMPARISON_LE, xv, lo),
      low, notlow);
  gcc_jit_block_add_assignment(low, NULL, d, int_limit(F, T, 0));
  gcc_jit_block_end_with_jump(low, NULL, join);
  gcc_jit_block_end_with_conditional(
      notlow, NULL, gcc_jit_context_new_comparison(CTX(F), NULL, GCC_JIT_COMPARISON_GE, xv, hi),
      high, mid);
  gcc_jit_block_add_assignment(high, NULL, d, int_limit(F, T, 1));
  gcc_jit_block_end_with_jump(high, NULL, join);
  gcc_jit_block_add_assignment(mid, NULL, d, cast(F, xv, ty(F, T)));
  gcc_jit_block_end_with_jump(mid, NULL, join);
  F->b = join;
}

/* ---- aggregates and memory ---------------------------------------------------------------- */

/* The lvalue a path names, for a bit-field leaf: struct/union members and array elements
 * down to the bit-field, as C writes `v.f2[3].f1` (bit-fields are only reached that way). */
static gcc_jit_lvalue *path_lvalue(gj_fn *F, gcc_jit_lvalue *l, int t, const int *path, int n) {
  const af_case *c = F->k->c;
  for (int i = 0; i < n && l; i++) {
    const af_type *ty_ = &c->types[t];
    if (t < AF_T_NSCALAR) return NULL;
    if (ty_->kind == AF_T_ARRAY) {
      l = gcc_jit_context_new_array_access(CTX(F), NULL, gcc_jit_lvalue_as_rvalue(l),
                                           int_cst(F, F->u->int_t, path[i]));
      t = ty_->elem;
    } else {
      gcc_jit_field *fl = F->k->field[t] ? F->k->field[t][path[i]] : NULL;
      if (!fl) return NULL;
      l = gcc_jit_lvalue_access_field(l, NULL, fl);
      t = ty_->fields[path[i]].type;
    }
  }
  return l;
}

static af_status lower_getset(gj_fn *F, const af_inst *in, gcc_jit_lvalue *d) {
  const af_case *c = F->k->c;
  int A = F->f->value_type[in->args[0]];
  af_leaf L;
  if (af_path_leaf(c, A, in->path, in->npath, &L) != AF_OK) return AF_ERR_INVALID;
  if (in->op == AF_OP_SET) assign(F, d, rv(F, in->args[0]));
  if (L.bits >= 0) {
    gcc_jit_lvalue *bf =
        path_lvalue(F, in->op == AF_OP_GET ? F->val[in->args[0]] : d, A, in->path, in->npath);
    if (!bf) return AF_ERR_INVALID;
    if (in->op == AF_OP_GET)
      assign(F, d, gcc_jit_lvalue_as_rvalue(bf));
    else
      assign(F, bf, rv(F, in->args[1])); /* the store truncates to the width */
    return AF_OK;
  }
  if (in->op == AF_OP_GET)
    copy(F, addr_at(F, d, 0), addr_at(F, F->val[in->args[0]], L.offset), size_of(c, L.type));
  else
    copy(F, addr_at(F, d, L.offset), addr_at(F, F->val[in->args[1]], 0), size_of(c, L.type));
  return AF_OK;
}

static void lower_local(gj_fn *F, const af_inst *in, gcc_jit_lvalue *d) {
  gcc_jit_type *t = gcc_jit_context_new_array_type(CTX(F), NULL, F->u->u8, AF_REGION_SIZE);
  t = gcc_jit_type_get_aligned(t, (size_t)in->imm);
  char name[16];
  snprintf(name, sizeof name, "l%d", in->dst);
  gcc_jit_lvalue *l = gcc_jit_function_new_local(F->fn, NULL, t, name);
  gcc_jit_rvalue *a[3] = {addr_at(F, l, 0), int_cst(F, F->u->int_t, 0),
                          int_cst(F, F->u->size_t_, AF_REGION_SIZE)};
  gcc_jit_block_add_eval(F->b, NULL, gcc_jit_context_new_call(CTX(F), NULL, F->u->memset_fn, 3, a));
  assign(F, d, addr_at(F, l, 0));
}

/* ---- calls -------------------------------------------------------------------------------- */

/* Between the case's functions a direct call; a host function through its import stub's
 * address as a function pointer (variadic host functions through a variadic pointer type:
 * gcc passes the extra arguments as the caller of a prototyped variadic function). */
static void lower_call(gj_fn *F, const af_inst *in, gcc_jit_lvalue *d) {
  int g = (int)in->imm;
  gcc_jit_rvalue *args[AF_MAX_PARAMS];
  for (int k = 0; k < in->nargs; k++)
    args[k] = rv(F, in->args[k]);
  gcc_jit_rvalue *call;
  if (F->k->c->funcs[g].host) {
    gcc_jit_rvalue *p = gcc_jit_context_new_rvalue_from_ptr(
        CTX(F), F->k->fnptr[g], (void *)(uintptr_t)be_imports_fn(F->k->imports, g));
    call = gcc_jit_context_new_call_through_ptr(CTX(F), NULL, p, in->nargs, args);
  } else {
    call = gcc_jit_context_new_call(CTX(F), NULL, F->k->fn[g], in->nargs, args);
  }
  if (d)
    assign(F, d, call);
  else
    gcc_jit_block_add_eval(F->b, NULL, call);
}

static void lower_mix(gj_fn *F, const af_inst *in, gcc_jit_lvalue *d) {
  gj_unit *u = F->u;
  for (int k = 0; k < in->nargs; k++)
    assign(F,
           gcc_jit_context_new_array_access(CTX(F), NULL, gcc_jit_lvalue_as_rvalue(F->mixargs),
                                            int_cst(F, u->int_t, k)),
           addr_at(F, F->val[in->args[k]], 0));
  gcc_jit_rvalue *a[5] = {
      gcc_jit_context_new_rvalue_from_ptr(CTX(F), u->vp, (void *)(uintptr_t)F->k->c),
      gcc_jit_context_new_rvalue_from_ptr(CTX(F), u->vp, (void *)F->k->objects),
      gcc_jit_context_new_rvalue_from_ptr(CTX(F), u->vp, (void *)(uintptr_t)F->f),
      gcc_jit_context_new_rvalue_from_ptr(CTX(F), u->vp, (void *)(uintptr_t)in),
      addr_at(F, F->mixargs, 0)};
  assign(F, d, gcc_jit_context_new_call_through_ptr(CTX(F), NULL, u->mix, 5, a));
}

/* ---- functions ---------------------------------------------------------------------------- */

static af_status lower_inst(gj_fn *F, const af_inst *in) {
  gcc_jit_lvalue *d = in->dst >= 0 ? F->val[in->dst] : NULL;
  switch (in->op) {
  case AF_OP_CONST: lower_const(F, in, d); return AF_OK;
  case AF_OP_ADD:
  case AF_OP_SUB:
  case AF_OP_MUL:
  case AF_OP_AND:
  case AF_OP_OR:
  case AF_OP_XOR:
  case AF_OP_SHL:
  case AF_OP_LSHR:
  case AF_OP_ASHR: lower_intop(F, in, d); return AF_OK;
  case AF_OP_CMP: lower_cmp(F, in, d); return AF_OK;
  case AF_OP_SELECT: lower_select(F, in, d); return AF_OK;
  case AF_OP_SEXT:
  case AF_OP_ZEXT:
  case AF_OP_TRUNC: lower_ext(F, in, d); return AF_OK;
  case AF_OP_FADD:
  case AF_OP_FSUB:
  case AF_OP_FMUL: lower_fop(F, in, d); return AF_OK;
  case AF_OP_FCONV: lower_fconv(F, in, d); return AF_OK;
  case AF_OP_FTOI: lower_ftoi(F, in, d); return AF_OK;
  case AF_OP_ITOF: lower_itof(F, in, d); return AF_OK;
  case AF_OP_BITCAST:
    assign(F, d, gcc_jit_context_new_bitcast(CTX(F), NULL, rv(F, in->args[0]), ty(F, in->type)));
    return AF_OK;
  case AF_OP_GET:
  case AF_OP_SET: return lower_getset(F, in, d);
  case AF_OP_LOAD:
    copy(F, addr_at(F, d, 0), ptr_at(F, rv(F, in->args[0]), in->imm), size_of(F->k->c, in->type));
    return AF_OK;
  case AF_OP_STORE:
    copy(F, ptr_at(F, rv(F, in->args[0]), in->imm), addr_at(F, F->val[in->args[1]], 0),
         size_of(F->k->c, in->type));
    return AF_OK;
  case AF_OP_LOCAL: lower_local(F, in, d); return AF_OK;
  case AF_OP_CALL: lower_call(F, in, d); return AF_OK;
  case AF_OP_MIX: lower_mix(F, in, d); return AF_OK;
  case AF_OP_RET:
    if (in->type == AF_T_VOID)
      gcc_jit_block_end_with_void_return(F->b, NULL);
    else
      gcc_jit_block_end_with_return(F->b, NULL, rv(F, in->args[0]));
    F->b = NULL;
    return AF_OK;
  default: return AF_ERR_INVALID;
  }
}

static af_status lower_body(gj_unit *u, gj_case *k, int fi, gcc_jit_param **params, af_error *err) {
  const af_func *f = &k->c->funcs[fi];
  gj_fn F = {u, k, f, fi, k->fn[fi], NULL, NULL, NULL, 0, 0};
  F.val = calloc((size_t)f->nvalues + 1, sizeof *F.val);
  if (!F.val) return AF_ERR_NOMEM;
  for (int p = 0; p < f->sig.nparams; p++)
    F.val[p] = gcc_jit_param_as_lvalue(params[p]);
  for (int v = f->sig.nparams; v < f->nvalues; v++) {
    char name[16];
    snprintf(name, sizeof name, "v%d", v);
    F.val[v] = gcc_jit_function_new_local(F.fn, NULL, k->type[f->value_type[v]], name);
  }
  F.mixargs = gcc_jit_function_new_local(
      F.fn, NULL, gcc_jit_context_new_array_type(u->ctx, NULL, u->vp, AF_MAX_OPERANDS), "mixargs");
  F.b = new_block(&F);
  af_status s = AF_OK;
  for (int i = 0; i < f->ninsts && s == AF_OK && F.b; i++)
    s = lower_inst(&F, &f->insts[i]);
  free(F.val);
  if (s == AF_OK && F.b) s = AF_ERR_INVALID; /* no RET: af_verify rules it out */
  if (s != AF_OK) {
    if (err) snprintf(err->msg, sizeof err->msg, "gccjit: f%d: cannot lower the body", fi);
    return s;
  }
  return gj_check(u, "lowering", err);
}

af_status gj_lower_case(gj_unit *u, gj_case *k, af_error *err) {
  const af_case *c = k->c;
  gcc_jit_param *params[AF_MAX_FUNCS][AF_MAX_PARAMS];
  for (int fi = 0; fi < c->nfuncs; fi++) {
    const af_sig *s = &c->funcs[fi].sig;
    gcc_jit_type *pt[AF_MAX_PARAMS];
    int nfixed = s->variadic ? s->nfixed : s->nparams;
    for (int p = 0; p < s->nparams; p++)
      pt[p] = k->type[s->params[p]];
    if (c->funcs[fi].host) {
      k->fnptr[fi] = gcc_jit_context_new_function_ptr_type(u->ctx, NULL, k->type[s->ret], nfixed,
                                                           nfixed ? pt : NULL, s->variadic);
      continue;
    }
    for (int p = 0; p < s->nparams; p++) {
      char name[16];
      snprintf(name, sizeof name, "v%d", p);
      params[fi][p] = gcc_jit_context_new_param(u->ctx, NULL, pt[p], name);
    }
    char name[40];
    snprintf(name, sizeof name, "%sf%d", k->prefix, fi);
    k->fn[fi] =
        gcc_jit_context_new_function(u->ctx, NULL, GCC_JIT_FUNCTION_EXPORTED, k->type[s->ret], name,
                                     s->nparams, s->nparams ? params[fi] : NULL, 0);
  }
  af_status st = gj_check(u, "declarations", err);
  for (int fi = 0; fi < c->nfuncs && st == AF_OK; fi++)
    if (!c->funcs[fi].host) st = lower_body(u, k, fi, params[fi], err);
  return st;
}
