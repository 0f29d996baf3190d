/* lower_ops_float.c - lowering of FADD FSUB FMUL FCONV ITOF FTOI (SSE2, x87, C helpers). */
#include "lower_ops_internal.h"

/* The interpreter computes with the host's own float types (gen/interp.c), which gcc
 * compiles to these same SSE/x87 instructions; the lowering must use them too so that NaN
 * payloads and rounding come out bit for bit the same. */

/* f80 slots: the 6 bytes after the 10-byte x87 value are zero in the value model. */
static void zero_f80_pad(lower_ctx *L, int v) {
  x86_emit2(L->b, X86_MOV, lw_slot(L, v, 10, 2), x86_imm(0));
  x86_emit2(L->b, X86_MOV, lw_slot(L, v, 12, 4), x86_imm(0));
}

/* fld / fstp of a float slot of type t (f32 f64 f80). */
static void x87_load(lower_ctx *L, int v, int t) {
  int sz = t == AF_T_F32 ? 4 : t == AF_T_F64 ? 8 : 10;
  xd_x87_mem(L->b, X86_FLD, AF_RBP, L->slot[v], sz); /* fld [slot] */
}
static void x87_store(lower_ctx *L, int v, int t) {
  int sz = t == AF_T_F32 ? 4 : t == AF_T_F64 ? 8 : 10;
  xd_x87_mem(L->b, X86_FSTP, AF_RBP, L->slot[v], sz); /* fstp [slot] */
  if (t == AF_T_F80) zero_f80_pad(L, v);
}

static af_status lower_farith(lower_ctx *L, const af_inst *in) {
  int T = in->type, a = in->args[0], b = in->args[1], d = in->dst;
  x86_buf *B = L->b;
  if (T == AF_T_F32 || T == AF_T_F64) {
    int sz = T == AF_T_F32 ? 4 : 8;
    x86_op op;
    switch (in->op) {
    case AF_OP_FADD: op = sz == 4 ? X86_ADDSS : X86_ADDSD; break;
    case AF_OP_FSUB: op = sz == 4 ? X86_SUBSS : X86_SUBSD; break;
    default: op = sz == 4 ? X86_MULSS : X86_MULSD; break;
    }
    /* a is the destination operand: with two NaNs, SSE returns the first (SDM 4.8.3.5) */
    lw_load_xmm(L, AF_XMM0, AF_RBP, L->slot[a], sz);
    x86_emit2(B, op, x86_xmm(AF_XMM0), lw_slot(L, b, 0, sz));
    lw_store_xmm(L, AF_RBP, L->slot[d], AF_XMM0, sz);
    return B->err;
  }
  if (T != AF_T_F80) return lw_fail(L, AF_ERR_UNSUPPORTED, "float arithmetic on type %d", T);
  /* st1 = a, st0 = b; DE E8+i "fsubp st(i), st(0)" computes st(i) - st(0) (Intel SDM). */
  x87_load(L, a, T);
  x87_load(L, b, T);
  x86_op op = in->op == AF_OP_FADD ? X86_FADDP : in->op == AF_OP_FSUB ? X86_FSUBP : X86_FMULP;
  x86_emit1(B, op, x86_st(1));
  x87_store(L, d, T);
  return B->err;
}

static int is_x87able(int t) { return t == AF_T_F32 || t == AF_T_F64 || t == AF_T_F80; }

/* rdi = &dst, rsi = &a, edx = a's type, ecx = the result's type; call fn. */
static void call_conv(lower_ctx *L, const void *fn, const af_inst *in, int A) {
  lo_lea(L, AF_RDI, in->dst, 0);
  lo_lea(L, AF_RSI, in->args[0], 0);
  xd_movimm(L->b, AF_RDX, 4, A);
  xd_movimm(L->b, AF_RCX, 4, in->type);
  lw_call_abs(L, fn);
}

static af_status lower_fconv(lower_ctx *L, const af_inst *in) {
  int A = lo_vtype(L, in->args[0]), T = in->type, a = in->args[0], d = in->dst;
  if (!is_x87able(A) || !is_x87able(T)) { /* f16 either side: F16C-free C helper */
    call_conv(L, (const void *)jit_rt_fconv, in, A);
    return L->b->err;
  }
  if (A == T) { /* `(T)x` of a T is x itself, bits unchanged */
    lw_copy(L, AF_RBP, L->slot[d], AF_RBP, L->slot[a], T == AF_T_F80 ? 10 : lo_size(L, T));
    if (T == AF_T_F80) zero_f80_pad(L, d);
  } else if (A == AF_T_F32 && T == AF_T_F64) {
    x86_emit2(L->b, X86_CVTSS2SD, x86_xmm(AF_XMM0), lw_slot(L, a, 0, 4));
    lw_store_xmm(L, AF_RBP, L->slot[d], AF_XMM0, 8);
  } else if (A == AF_T_F64 && T == AF_T_F32) {
    x86_emit2(L->b, X86_CVTSD2SS, x86_xmm(AF_XMM0), lw_slot(L, a, 0, 8));
    lw_store_xmm(L, AF_RBP, L->slot[d], AF_XMM0, 4);
  } else { /* f80 on one side: through the x87 stack, as gcc does */
    x87_load(L, a, A);
    x87_store(L, d, T);
  }
  return L->b->err;
}

static af_status lower_itof(lower_ctx *L, const af_inst *in) {
  int A = lo_vtype(L, in->args[0]), T = in->type, d = in->dst;
  int narrow = A == AF_T_BOOL || (A >= AF_T_I8 && A <= AF_T_I64); /* fits a signed 64-bit */
  if (!narrow || !is_x87able(T)) { /* u64, 128-bit, f16: the C conversion itself */
    call_conv(L, (const void *)jit_rt_itof, in, A);
    return L->b->err;
  }
  /* the value, exactly, as a signed 64-bit integer: one rounding, as C's (T)x */
  lw_load_int(L, AF_RAX, AF_RBP, L->slot[in->args[0]], A);
  if (T == AF_T_F80) {
    x86_emit2(L->b, X86_MOV, lw_slot(L, d, 0, 8), x86_gpr(AF_RAX, 8));
    x86_emit1(L->b, X86_FILD, lw_slot(L, d, 0, 8));
    x87_store(L, d, T);
    return L->b->err;
  }
  x86_op op = T == AF_T_F32 ? X86_CVTSI2SS : X86_CVTSI2SD;
  x86_emit2(L->b, op, x86_xmm(AF_XMM0), x86_gpr(AF_RAX, 8));
  lw_store_xmm(L, AF_RBP, L->slot[d], AF_XMM0, T == AF_T_F32 ? 4 : 8);
  return L->b->err;
}

/* FTOI, saturating (gen.h): f32/f64 -> i8..i64 and u8..u32 inline, the rest (u64, 128-bit,
 * f16 and f80 sources) through the C helper. Inline: cvtt*2si to 64 bits truncates every
 * |x| < 2^63 exactly; its "integer indefinite" 0x8000000000000000 (NaN, out of range, or
 * exactly -2^63) is resolved by the sign of x (NaN -> 0); then clamp to the type's range,
 * which turns trunc(x) into the saturated value because trunc is monotonic. */
static af_status lower_ftoi(lower_ctx *L, const af_inst *in) {
  int A = lo_vtype(L, in->args[0]), T = in->type;
  x86_buf *B = L->b;
  const af_scalar_info *ti = af_scalar((af_kind)T);
  if ((A != AF_T_F32 && A != AF_T_F64) || !ti || !ti->is_int || ti->size > 8 ||
      (!ti->is_signed && ti->size == 8)) {
    call_conv(L, (const void *)jit_rt_ftoi, in, A);
    return B->err;
  }
  int f32 = A == AF_T_F32, clamp = x86_label(B);
  if (clamp < 0) return B->err;
  lw_load_xmm(L, AF_XMM0, AF_RBP, L->slot[in->args[0]], f32 ? 4 : 8);
  x86_emit2(B, f32 ? X86_CVTTSS2SI : X86_CVTTSD2SI, x86_gpr(AF_RAX, 8), x86_xmm(AF_XMM0));
  xd_movimm(B, AF_RCX, 8, INT64_MIN);
  x86_emit2(B, X86_CMP, x86_gpr(AF_RAX, 8), x86_gpr(AF_RCX, 8));
  x86_jcc_label(B, X86_CC_NE, clamp);
  x86_emit2(B, X86_XORPS, x86_xmm(AF_XMM1), x86_xmm(AF_XMM1));
  x86_emit2(B, f32 ? X86_UCOMISS : X86_UCOMISD, x86_xmm(AF_XMM0), x86_xmm(AF_XMM1));
  xd_movimm(B, AF_RAX, 4, 0);        /* mov: flags kept */
  x86_jcc_label(B, X86_CC_P, clamp); /* NaN -> 0 */
  x86_emit2(B, X86_MOV, x86_gpr(AF_RAX, 8), x86_gpr(AF_RCX, 8));
  x86_jcc_label(B, X86_CC_BE, clamp); /* x <= 0: min */
  xd_movimm(B, AF_RAX, 8, INT64_MAX);
  x86_bind(B, clamp);
  if (ti->size < 8) {
    int bits = 8 * ti->size;
    int64_t lo = ti->is_signed ? -((int64_t)1 << (bits - 1)) : 0;
    int64_t hi = ti->is_signed ? ((int64_t)1 << (bits - 1)) - 1 : ((int64_t)1 << bits) - 1;
    xd_movimm(B, AF_RCX, 8, lo);
    x86_emit2(B, X86_CMP, x86_gpr(AF_RAX, 8), x86_gpr(AF_RCX, 8));
    x86_emitcc(B, X86_CMOVCC, X86_CC_L, 2, x86_gpr(AF_RAX, 8), x86_gpr(AF_RCX, 8));
    xd_movimm(B, AF_RCX, 8, hi);
    x86_emit2(B, X86_CMP, x86_gpr(AF_RAX, 8), x86_gpr(AF_RCX, 8));
    x86_emitcc(B, X86_CMOVCC, X86_CC_G, 2, x86_gpr(AF_RAX, 8), x86_gpr(AF_RCX, 8));
  }
  lw_store_int(L, AF_RBP, L->slot[in->dst], AF_RAX, ti->size);
  return B->err;
}

af_status lo_float(lower_ctx *L, const af_inst *in) {
  switch (in->op) {
  case AF_OP_FADD:
  case AF_OP_FSUB:
  case AF_OP_FMUL: return lower_farith(L, in);
  case AF_OP_FCONV: return lower_fconv(L, in);
  case AF_OP_ITOF: return lower_itof(L, in);
  case AF_OP_FTOI: return lower_ftoi(L, in);
  default: break;
  }
  return lw_fail(L, AF_ERR_UNSUPPORTED, "not a float op");
}
