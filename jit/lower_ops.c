/* lower_ops.c - lowering of every IR instruction but CALL/RET: slots in, scratch regs, slot out. */
#include <string.h>

#include "lower_mix.h"
#include "lower_ops_internal.h"
#include "mutants.h"

/* Operands are read from their value slots, computed in the scratch registers lower.h
 * allows (RAX RCX RDX R8-R11, XMM0-5, x87), and the result goes to the slot of in->dst.
 * What SSE2 lacks (f16, u64 and 128-bit <-> float, FTOI from f16/f80 or to u64/128-bit)
 * and bit-fields no 8-byte window inside the aggregate holds go through the C helpers of
 * lower_rt.c, which repeat the interpreter's expressions; MIX is lower_mix.c. */

uint32_t lo_size(const lower_ctx *L, int type) {
  return type == AF_T_PTR ? 8 : L->c->types[type].size;
}

int lo_vtype(const lower_ctx *L, int v) { return L->f->value_type[v]; }

void lo_lea(lower_ctx *L, af_reg r, int v, int32_t off) {
  x86_emit2(L->b, X86_LEA, x86_gpr(r, 8), lw_slot(L, v, off, 0));
}

static int is_int64(int t) { return t >= AF_T_I8 && t <= AF_T_U64; }
/* af_scalar's size and is_signed of i8..u64 without the call: gen.h orders them as signed /
 * unsigned pairs of 1, 2, 4 and 8 bytes. */
static int int64_size(int t) { return 1 << ((t - AF_T_I8) >> 1); }
static int int64_signed(int t) { return !((t - AF_T_I8) & 1); }
static int is_int128(int t) { return t == AF_T_I128 || t == AF_T_U128; }
/* Signed / unsigned twin of an integer kind (the kinds come in i/u pairs, gen.h). */
static int signed_of(int t) { return t & ~1; }
static int unsigned_of(int t) { return t | 1; }

uint32_t lower_inst_frame_need(const lower_ctx *L, const af_inst *in) {
  (void)L;
  if (in->op != AF_OP_LOCAL) return 0;
  int64_t align = in->imm > 0 ? in->imm : 1;
  return (uint32_t)(align - 1 + AF_REGION_SIZE); /* aligned at run time (lower.h) */
}

static void call_rt(lower_ctx *L, const void *fn) { lw_call_abs(L, fn); }

/* ---- CONST: the constant's bytes, 8/4/2/1 at a time through RAX ---- */
/* Bytes [i, i + c) of the constant into its slot (mov eax/rax, imm; mov [slot + i], al..rax). */
static inline __attribute__((always_inline)) void const_chunk(lower_ctx *L, const af_inst *in,
                                                              uint32_t i, int c) {
  uint64_t v = 0;
  memcpy(&v, in->cst.bytes + i, (size_t)c);
  xd_movimm(L->b, AF_RAX, c < 4 ? 4 : c, (int64_t)v);
  xd_store(L->b, AF_RBP, L->slot[in->dst] + (int32_t)i, AF_RAX, c);
}

/* const_chunk's two instructions written in place (xd_movimm's and xd_store's bytes for RAX
 * and an rbp base: mov eax, imm32 (B8 id) for every value that zero-extends from 32 bits,
 * mov rax, imm32 sign-extended (48 C7 C0 id), else movabs (48 B8 iq); then mov [rbp + d],
 * al / ax / eax / rax (88 / 66 89 / 89 / 48 89, ModRM 45 disp8 or 85 disp32)). q has room. */
static inline __attribute__((always_inline)) uint8_t *const_pair(uint8_t *q, const uint8_t *p,
                                                                 int32_t d, int c) {
  uint64_t v = 0;
  memcpy(&v, p, (size_t)c);
  if (v <= UINT32_MAX) {
    uint32_t u = (uint32_t)v;
    *q = 0xB8;
    memcpy(q + 1, &u, 4);
    q += 5;
  } else if ((int64_t)v == (int32_t)v) {
    int32_t w = (int32_t)v;
    q[0] = 0x48, q[1] = 0xC7, q[2] = 0xC0;
    memcpy(q + 3, &w, 4);
    q += 7;
  } else {
    q[0] = 0x48, q[1] = 0xB8;
    memcpy(q + 2, &v, 8);
    q += 10;
  }
  static const uint32_t head[9] = {[1] = 0x88, [2] = 0x8966, [4] = 0x89, [8] = 0x8948};
  uint32_t h = head[c];
  unsigned hl = c == 2 || c == 8 ? 2 : 1;
  memcpy(q, &h, 4);
  q += hl;
  if (d == (int8_t)d) {
    q[0] = 0x45, q[1] = (uint8_t)d;
    return q + 2;
  }
  q[0] = 0x85;
  memcpy(q + 1, &d, 4);
  return q + 5;
}

/* lower_const with every pair written in place after one room check; 0 (nothing written)
 * without the room. */
static int const_fast(lower_ctx *L, const af_inst *in) {
  x86_buf *b = L->b;
  uint32_t n = in->cst.size, i = 0;
  if (n > 4096 || b->len + (size_t)(n / 8 + 4) * 20 > b->cap) return 0;
  const uint8_t *p = in->cst.bytes;
  int32_t d = L->slot[in->dst];
  uint8_t *q = b->data + b->len;
  for (; n - i >= 8; i += 8)
    q = const_pair(q, p + i, d + (int32_t)i, 8);
  if (n - i >= 4) q = const_pair(q, p + i, d + (int32_t)i, 4), i += 4;
  if (n - i >= 2) q = const_pair(q, p + i, d + (int32_t)i, 2), i += 2;
  if (n - i >= 1) q = const_pair(q, p + i, d + (int32_t)i, 1);
  b->len = (size_t)(q - b->data);
  return 1;
}

static void lower_const(lower_ctx *L, const af_inst *in) {
  if (const_fast(L, in)) return;
  /* 8-byte chunks, then at most one of 4, 2 and 1 (each size a constant for the emitters) */
  uint32_t n = in->cst.size, i = 0;
  for (; n - i >= 8; i += 8)
    const_chunk(L, in, i, 8);
  if (n - i >= 4) const_chunk(L, in, i, 4), i += 4;
  if (n - i >= 2) const_chunk(L, in, i, 2), i += 2;
  if (n - i >= 1) const_chunk(L, in, i, 1);
}

/* ---- integer binary ops ---- */
/* 128-bit MUL and shifts inline, the value in RDX:RAX. MUL: the low 128 bits of the product
 * are a0*b0 (full) + (a0*b1 + a1*b0) << 64. Shifts: shld/shrd and shl/shr/sar take the
 * amount mod 64; amounts 64..127 then move one half over the other. */
static af_status lower_i128_mul_shift(lower_ctx *L, const af_inst *in) {
  x86_buf *B = L->b;
  int a = in->args[0], b = in->args[1], d = in->dst;
  x86_operand rax = x86_gpr(AF_RAX, 8), rdx = x86_gpr(AF_RDX, 8), rcx = x86_gpr(AF_RCX, 8);
  x86_emit2(B, X86_MOV, rax, lw_slot(L, a, 0, 8));
  if (in->op == AF_OP_MUL) {
    x86_emit2(B, X86_MOV, rcx, lw_slot(L, a, 8, 8));
    x86_emit2(B, X86_IMUL, rcx, lw_slot(L, b, 0, 8)); /* a1*b0 */
    x86_emit2(B, X86_MOV, x86_gpr(AF_R8, 8), lw_slot(L, b, 8, 8));
    x86_emit2(B, X86_IMUL, x86_gpr(AF_R8, 8), rax); /* a0*b1 */
    x86_emit2(B, X86_ADD, rcx, x86_gpr(AF_R8, 8));
    x86_emit1(B, X86_MUL, lw_slot(L, b, 0, 8)); /* rdx:rax = a0*b0 */
    x86_emit2(B, X86_ADD, rdx, rcx);
  } else {
    int done = x86_label(B);
    if (done < 0) return B->err;
    x86_emit2(B, X86_MOV, rdx, lw_slot(L, a, 8, 8));
    x86_emit2(B, X86_MOV, x86_gpr(AF_RCX, 4), lw_slot(L, b, 0, 4)); /* the amount: b mod 128 */
    x86_operand cl = x86_gpr(AF_RCX, 1);
    if (in->op == AF_OP_SHL) {
      x86_emit3(B, X86_SHLD, rdx, rax, cl);
      x86_emit2(B, X86_SHL, rax, cl);
    } else {
      x86_emit3(B, X86_SHRD, rax, rdx, cl);
      x86_emit2(B, in->op == AF_OP_LSHR ? X86_SHR : X86_SAR, rdx, cl);
    }
    x86_emit2(B, X86_TEST, cl, x86_imm(64));
    x86_jcc_label(B, X86_CC_E, done);
    if (in->op == AF_OP_SHL) {
      x86_emit2(B, X86_MOV, rdx, rax);
      x86_emit2(B, X86_XOR, x86_gpr(AF_RAX, 4), x86_gpr(AF_RAX, 4));
    } else {
      x86_emit2(B, X86_MOV, rax, rdx);
      if (in->op == AF_OP_LSHR)
        x86_emit2(B, X86_XOR, x86_gpr(AF_RDX, 4), x86_gpr(AF_RDX, 4));
      else
        x86_emit2(B, X86_SAR, rdx, x86_imm(63));
    }
    x86_bind(B, done);
  }
  x86_emit2(B, X86_MOV, lw_slot(L, d, 0, 8), rax);
  x86_emit2(B, X86_MOV, lw_slot(L, d, 8, 8), rdx);
  return B->err;
}

/* 128-bit CMP: EQ/NE on the xor of the halves; LT as the flags of a - b (cmp + sbb), LE as
 * not (b < a). */
static af_status lower_i128_cmp(lower_ctx *L, const af_inst *in) {
  x86_buf *B = L->b;
  int A = lo_vtype(L, in->args[0]), sgn = A == AF_T_I128;
  int a = in->args[0], b = in->args[1];
  x86_operand rax = x86_gpr(AF_RAX, 8), rdx = x86_gpr(AF_RDX, 8);
  x86_cond cc;
  if (in->imm == AF_CMP_LE) { /* a <= b: b - a does not borrow / is not negative */
    int t = a;
    a = b;
    b = t;
  }
  x86_emit2(B, X86_MOV, rax, lw_slot(L, a, 0, 8));
  x86_emit2(B, X86_MOV, rdx, lw_slot(L, a, 8, 8));
  switch (in->imm) {
  case AF_CMP_EQ:
  case AF_CMP_NE:
    x86_emit2(B, X86_XOR, rax, lw_slot(L, b, 0, 8));
    x86_emit2(B, X86_XOR, rdx, lw_slot(L, b, 8, 8));
    x86_emit2(B, X86_OR, rax, rdx);
    cc = in->imm == AF_CMP_EQ ? X86_CC_E : X86_CC_NE;
    break;
  case AF_CMP_LT:
  case AF_CMP_LE:
    x86_emit2(B, X86_CMP, rax, lw_slot(L, b, 0, 8));
    x86_emit2(B, X86_SBB, rdx, lw_slot(L, b, 8, 8));
    cc = in->imm == AF_CMP_LT ? (sgn ? X86_CC_L : X86_CC_B) : (sgn ? X86_CC_GE : X86_CC_AE);
    break;
  default: return lw_fail(L, AF_ERR_INVALID, "cmp predicate %lld", (long long)in->imm);
  }
  x86_emitcc(B, X86_SETCC, cc, 1, x86_gpr(AF_RAX, 1), x86_imm(0));
  lw_store_int(L, AF_RBP, L->slot[in->dst], AF_RAX, 1);
  return B->err;
}

static __attribute__((noinline)) af_status lower_ibin(lower_ctx *L, const af_inst *in) {
  int T = in->type, a = in->args[0], b = in->args[1], d = in->dst;
  x86_buf *B = L->b;
  if (is_int128(T)) {
    x86_op lo, hi;
    switch (in->op) {
    case AF_OP_ADD: lo = X86_ADD, hi = X86_ADC; break;
    case AF_OP_SUB: lo = X86_SUB, hi = X86_SBB; break;
    case AF_OP_AND: lo = hi = X86_AND; break;
    case AF_OP_OR: lo = hi = X86_OR; break;
    case AF_OP_XOR: lo = hi = X86_XOR; break;
    default: return lower_i128_mul_shift(L, in);
    }
    x86_emit2(B, X86_MOV, x86_gpr(AF_RAX, 8), lw_slot(L, a, 0, 8));
    x86_emit2(B, X86_MOV, x86_gpr(AF_RDX, 8), lw_slot(L, a, 8, 8));
    x86_emit2(B, lo, x86_gpr(AF_RAX, 8), lw_slot(L, b, 0, 8));
    x86_emit2(B, hi, x86_gpr(AF_RDX, 8), lw_slot(L, b, 8, 8));
    x86_emit2(B, X86_MOV, lw_slot(L, d, 0, 8), x86_gpr(AF_RAX, 8));
    x86_emit2(B, X86_MOV, lw_slot(L, d, 8, 8), x86_gpr(AF_RDX, 8));
    return B->err;
  }
  if (!is_int64(T)) return lw_fail(L, AF_ERR_UNSUPPORTED, "integer op on type %d", T);
  int size = int64_size(T), w = 8 * size;
  /* LSHR / ASHR act on the type's width: load zero- / sign-extended to 64 bits first. */
  int ta = in->op == AF_OP_LSHR ? unsigned_of(T) : in->op == AF_OP_ASHR ? signed_of(T) : T;
  lw_load_int(L, AF_RAX, AF_RBP, L->slot[a], ta);
  lw_load_int(L, AF_RCX, AF_RBP, L->slot[b], T);
  x86_operand rax = x86_gpr(AF_RAX, 8), rcx = x86_gpr(AF_RCX, 8);
  switch (in->op) {
  case AF_OP_ADD: x86_emit2(B, X86_ADD, rax, rcx); break;
  case AF_OP_SUB: x86_emit2(B, X86_SUB, rax, rcx); break;
  case AF_OP_MUL: x86_emit2(B, X86_IMUL, rax, rcx); break;
  case AF_OP_AND: x86_emit2(B, X86_AND, rax, rcx); break;
  case AF_OP_OR: x86_emit2(B, X86_OR, rax, rcx); break;
  case AF_OP_XOR: x86_emit2(B, X86_XOR, rax, rcx); break;
  default: {
    x86_op sh = in->op == AF_OP_SHL ? X86_SHL : in->op == AF_OP_LSHR ? X86_SHR : X86_SAR;
    x86_emit2(B, X86_AND, x86_gpr(AF_RCX, 4), x86_imm(w - 1)); /* amount mod width */
    x86_emit2(B, sh, rax, x86_gpr(AF_RCX, 1));
    break;
  }
  }
  lw_store_int(L, AF_RBP, L->slot[d], AF_RAX, size);
  return B->err;
}

/* ---- CMP -> bool byte ---- */
static __attribute__((noinline)) af_status lower_cmp(lower_ctx *L, const af_inst *in) {
  int A = lo_vtype(L, in->args[0]);
  if (is_int128(A)) {
    return lower_i128_cmp(L, in);
  }
  if (!is_int64(A) && A != AF_T_BOOL) return lw_fail(L, AF_ERR_UNSUPPORTED, "cmp of type %d", A);
  int sgn = A != AF_T_BOOL && int64_signed(A);
  x86_cond cc;
  switch (in->imm) {
  case AF_CMP_EQ: cc = X86_CC_E; break;
  case AF_CMP_NE: cc = X86_CC_NE; break;
  case AF_CMP_LT: cc = sgn ? X86_CC_L : X86_CC_B; break;
  case AF_CMP_LE: cc = sgn ? X86_CC_LE : X86_CC_BE; break;
  default: return lw_fail(L, AF_ERR_INVALID, "cmp predicate %lld", (long long)in->imm);
  }
  lw_load_int(L, AF_RAX, AF_RBP, L->slot[in->args[0]], A);
  lw_load_int(L, AF_RCX, AF_RBP, L->slot[in->args[1]], A);
  x86_emit2(L->b, X86_CMP, x86_gpr(AF_RAX, 8), x86_gpr(AF_RCX, 8));
  x86_emitcc(L->b, X86_SETCC, cc, 1, x86_gpr(AF_RAX, 1), x86_imm(0));
  lw_store_int(L, AF_RBP, L->slot[in->dst], AF_RAX, 1);
  return L->b->err;
}

/* ---- SELECT: test the bool byte, copy one slot (any size) ---- */
static __attribute__((noinline)) af_status lower_select(lower_ctx *L, const af_inst *in) {
  uint32_t n = lo_size(L, in->type);
  int other = x86_label(L->b), done = x86_label(L->b);
  if (other < 0 || done < 0) return L->b->err;
  x86_emit2(L->b, X86_CMP, lw_slot(L, in->args[0], 0, 1), x86_imm(0));
  x86_jcc_label(L->b, X86_CC_E, other);
  lw_copy(L, AF_RBP, L->slot[in->dst], AF_RBP, L->slot[in->args[1]], n);
  x86_jmp_label(L->b, done);
  x86_bind(L->b, other);
  lw_copy(L, AF_RBP, L->slot[in->dst], AF_RBP, L->slot[in->args[2]], n);
  x86_bind(L->b, done);
  return L->b->err;
}

/* ---- SEXT ZEXT TRUNC: the value as 128 bits in RDX:RAX, then the result's bytes ---- */
static __attribute__((noinline)) af_status lower_ext(lower_ctx *L, const af_inst *in) {
  int A = lo_vtype(L, in->args[0]), T = in->type, a = in->args[0];
  x86_buf *B = L->b;
  if ((!is_int64(A) && !is_int128(A) && A != AF_T_BOOL) ||
      (!is_int64(T) && !is_int128(T) && T != AF_T_BOOL))
    return lw_fail(L, AF_ERR_UNSUPPORTED, "extension %d -> %d", A, T);
  if (is_int128(A)) {
    x86_emit2(B, X86_MOV, x86_gpr(AF_RAX, 8), lw_slot(L, a, 0, 8));
    x86_emit2(B, X86_MOV, x86_gpr(AF_RDX, 8), lw_slot(L, a, 8, 8));
  } else {
    /* SEXT sign-extends and ZEXT zero-extends from a's width whatever its signedness;
     * TRUNC keeps a's own extension (only the low bits survive, but T may be as wide). */
    int ta = A == AF_T_BOOL         ? A
             : in->op == AF_OP_SEXT ? signed_of(A)
             : in->op == AF_OP_ZEXT ? unsigned_of(A)
                                    : A;
    lw_load_int(L, AF_RAX, AF_RBP, L->slot[a], ta);
    if (L->mutant == MUT_CALLEE_READS_64 && a < L->f->sig.nparams &&
        (A == AF_T_I32 || A == AF_T_U32) && L->ci->args[a].kind == AF_LOC_REG)
      /* mutant: the parameter's whole 64-bit register (the prologue kept it) */
      x86_emit2(B, X86_MOV, x86_gpr(AF_RAX, 8), x86_base(8, AF_RBP, L->slot[a]));
    if (is_int128(T)) {
      int sgn = ta != AF_T_BOOL && int64_signed(ta);
      x86_emit2(B, X86_MOV, x86_gpr(AF_RDX, 8), x86_gpr(AF_RAX, 8));
      if (sgn)
        x86_emit2(B, X86_SAR, x86_gpr(AF_RDX, 8), x86_imm(63));
      else
        x86_emit2(B, X86_XOR, x86_gpr(AF_RDX, 4), x86_gpr(AF_RDX, 4));
    }
  }
  if (T == AF_T_BOOL) {
    x86_emit2(B, X86_AND, x86_gpr(AF_RAX, 4), x86_imm(1)); /* TRUNC to bool: a & 1 */
    lw_store_int(L, AF_RBP, L->slot[in->dst], AF_RAX, 1);
  } else if (is_int128(T)) {
    lw_store_int(L, AF_RBP, L->slot[in->dst], AF_RAX, 8);
    lw_store_int(L, AF_RBP, L->slot[in->dst] + 8, AF_RDX, 8);
  } else {
    lw_store_int(L, AF_RBP, L->slot[in->dst], AF_RAX, int64_size(T));
  }
  return B->err;
}

/* ---- GET / SET ---- */
/* Paths resolve with gen's af_path_leaf: the walk the interpreter uses. */

static int bf_window(const af_leaf *lf) {
  uint32_t span = lf->bit_offset % 8 + (uint32_t)lf->bits;
  return span <= 8 ? 1 : span <= 16 ? 2 : span <= 32 ? 4 : span <= 64 ? 8 : 0;
}

static int bf_inline(const lower_ctx *L, const af_leaf *lf, uint32_t agg_size) {
  (void)L;
  int w = bf_window(lf);
  return w && lf->bit_offset / 8 + (uint32_t)w <= agg_size;
}

static const int window_type[9] = {0, AF_T_U8, AF_T_U16, 0, AF_T_U32, 0, 0, 0, AF_T_U64};

/* rax = the field's bits moved to the top, then back down with the declared signedness. */
static void bf_get_inline(lower_ctx *L, const af_leaf *lf, int agg, int d) {
  int w = bf_window(lf), sh = (int)(lf->bit_offset % 8), n = lf->bits;
  int T = lf->type, sgn = T != AF_T_BOOL && af_scalar((af_kind)T)->is_signed;
  lw_load_int(L, AF_RAX, AF_RBP, L->slot[agg] + (int32_t)(lf->bit_offset / 8), window_type[w]);
  if (64 - sh - n > 0) x86_emit2(L->b, X86_SHL, x86_gpr(AF_RAX, 8), x86_imm(64 - sh - n));
  if (64 - n > 0) x86_emit2(L->b, sgn ? X86_SAR : X86_SHR, x86_gpr(AF_RAX, 8), x86_imm(64 - n));
  if (T == AF_T_BOOL) x86_emit2(L->b, X86_AND, x86_gpr(AF_RAX, 4), x86_imm(1));
  lw_store_int(L, AF_RBP, L->slot[d], AF_RAX, af_scalar((af_kind)T)->size);
}

/* Read-modify-write of the window in the result (which already holds the aggregate). */
static void bf_set_inline(lower_ctx *L, const af_leaf *lf, int v, int d) {
  int w = bf_window(lf), sh = (int)(lf->bit_offset % 8), n = lf->bits;
  int32_t off = L->slot[d] + (int32_t)(lf->bit_offset / 8);
  uint64_t mask = (n >= 64 ? ~0ull : ((1ull << n) - 1)) << sh;
  x86_buf *B = L->b;
  lw_load_int(L, AF_RAX, AF_RBP, off, window_type[w]);
  lw_load_int(L, AF_RCX, AF_RBP, L->slot[v], lf->type);
  if (sh) x86_emit2(B, X86_SHL, x86_gpr(AF_RCX, 8), x86_imm(sh));
  xd_movimm(B, AF_RDX, 8, (int64_t)mask);
  x86_emit2(B, X86_AND, x86_gpr(AF_RCX, 8), x86_gpr(AF_RDX, 8));
  x86_emit1(B, X86_NOT, x86_gpr(AF_RDX, 8));
  x86_emit2(B, X86_AND, x86_gpr(AF_RAX, 8), x86_gpr(AF_RDX, 8));
  x86_emit2(B, X86_OR, x86_gpr(AF_RAX, 8), x86_gpr(AF_RCX, 8));
  lw_store_int(L, AF_RBP, off, AF_RAX, w);
}

static __attribute__((noinline)) af_status lower_getset(lower_ctx *L, const af_inst *in) {
  int A = lo_vtype(L, in->args[0]), agg = in->args[0], d = in->dst;
  af_leaf lf;
  if (af_path_leaf(L->c, A, in->path, in->npath, &lf) != AF_OK)
    return lw_fail(L, AF_ERR_INVALID, "bad get/set path");
  if (in->op == AF_OP_GET) {
    if (lf.bits < 0) {
      lw_copy(L, AF_RBP, L->slot[d], AF_RBP, L->slot[agg] + (int32_t)lf.offset,
              lo_size(L, lf.type));
      return L->b->err;
    }
    if (bf_inline(L, &lf, lo_size(L, A))) {
      bf_get_inline(L, &lf, agg, d);
      return L->b->err;
    }
    lo_lea(L, AF_RDI, d, 0);
    lo_lea(L, AF_RSI, agg, 0);
    xd_movimm(L->b, AF_RDX, 4, lf.bit_offset);
    xd_movimm(L->b, AF_RCX, 4, lf.bits);
    xd_movimm(L->b, AF_R8, 4, lf.type);
    call_rt(L, (const void *)jit_rt_bf_get);
    return L->b->err;
  }
  int v = in->args[1];
  lw_copy(L, AF_RBP, L->slot[d], AF_RBP, L->slot[agg], lo_size(L, A));
  if (lf.bits < 0) {
    lw_copy(L, AF_RBP, L->slot[d] + (int32_t)lf.offset, AF_RBP, L->slot[v], lo_size(L, lf.type));
    return L->b->err;
  }
  if (bf_inline(L, &lf, lo_size(L, A))) {
    bf_set_inline(L, &lf, v, d);
    return L->b->err;
  }
  lo_lea(L, AF_RDI, d, 0);
  lo_lea(L, AF_RSI, v, 0);
  xd_movimm(L->b, AF_RDX, 4, lf.bit_offset);
  xd_movimm(L->b, AF_RCX, 4, lf.bits);
  xd_movimm(L->b, AF_R8, 4, lf.type);
  call_rt(L, (const void *)jit_rt_bf_set);
  return L->b->err;
}

/* ---- LOAD / STORE / LOCAL ---- */
static __attribute__((noinline)) af_status lower_mem(lower_ctx *L, const af_inst *in, int index) {
  x86_buf *B = L->b;
  if (in->op == AF_OP_LOCAL) {
    int32_t align = (int32_t)in->imm;
    if (align != 16 && align != 32 && align != 64)
      return lw_fail(L, AF_ERR_INVALID, "local alignment %d", align);
    x86_emit2(B, X86_LEA, x86_gpr(AF_RAX, 8),
              x86_base(0, AF_RBP, L->local_area[index] + align - 1));
    x86_emit2(B, X86_AND, x86_gpr(AF_RAX, 8), x86_imm(-align));
    x86_emit2(B, X86_PXOR, x86_xmm(AF_XMM0), x86_xmm(AF_XMM0));
    for (int32_t i = 0; i < AF_REGION_SIZE; i += 16) /* a LOCAL region starts zeroed */
      x86_emit2(B, X86_MOVUPS, x86_base(16, AF_RAX, i), x86_xmm(AF_XMM0));
    x86_emit2(B, X86_MOV, lw_slot(L, in->dst, 0, 8), x86_gpr(AF_RAX, 8));
    return B->err;
  }
  uint32_t n = lo_size(L, in->type);
  if (in->imm < 0 || in->imm + n > AF_REGION_SIZE)
    return lw_fail(L, AF_ERR_INVALID, "load/store out of the region");
  x86_emit2(B, X86_MOV, x86_gpr(AF_RAX, 8), lw_slot(L, in->args[0], 0, 8));
  if (in->op == AF_OP_LOAD)
    lw_copy(L, AF_RBP, L->slot[in->dst], AF_RAX, (int32_t)in->imm, n);
  else
    lw_copy(L, AF_RAX, (int32_t)in->imm, AF_RBP, L->slot[in->args[1]], n);
  return B->err;
}

/* ---- MIX: lower_mix.c ---- */

/* CONST and BITCAST, out of line: lower_inst stays a dispatcher with no frame of its own
 * (every case a tail call), which it was not while these and the other cases were inlined
 * into it and each instruction paid for saving their registers. */
static __attribute__((noinline)) af_status lower_const_inst(lower_ctx *L, const af_inst *in) {
  if (in->type == AF_T_PTR || in->cst.size != lo_size(L, in->type) ||
      (in->cst.size && !in->cst.bytes))
    return lw_fail(L, AF_ERR_INVALID, "bad constant");
  lower_const(L, in);
  return L->b->err;
}

static __attribute__((noinline)) af_status lower_bitcast(lower_ctx *L, const af_inst *in) {
  lw_copy(L, AF_RBP, L->slot[in->dst], AF_RBP, L->slot[in->args[0]], lo_size(L, in->type));
  return L->b->err;
}

static __attribute__((noinline)) af_status lower_unsupported(lower_ctx *L, const af_inst *in) {
  return lw_fail(L, AF_ERR_UNSUPPORTED, "lower_inst: op %s is not lowered here",
                 af_op_name(in->op));
}

af_status lower_inst(lower_ctx *L, const af_inst *in, int index) {
  if (L->b->err != AF_OK) return L->b->err;
  switch (in->op) {
  case AF_OP_CONST: return lower_const_inst(L, in);
  case AF_OP_ADD:
  case AF_OP_SUB:
  case AF_OP_MUL:
  case AF_OP_AND:
  case AF_OP_OR:
  case AF_OP_XOR:
  case AF_OP_SHL:
  case AF_OP_LSHR:
  case AF_OP_ASHR: return lower_ibin(L, in);
  case AF_OP_CMP: return lower_cmp(L, in);
  case AF_OP_SELECT: return lower_select(L, in);
  case AF_OP_SEXT:
  case AF_OP_ZEXT:
  case AF_OP_TRUNC: return lower_ext(L, in);
  case AF_OP_FADD:
  case AF_OP_FSUB:
  case AF_OP_FMUL:
  case AF_OP_FCONV:
  case AF_OP_FTOI:
  case AF_OP_ITOF: return lo_float(L, in);
  case AF_OP_BITCAST: return lower_bitcast(L, in);
  case AF_OP_GET:
  case AF_OP_SET: return lower_getset(L, in);
  case AF_OP_LOAD:
  case AF_OP_STORE:
  case AF_OP_LOCAL: return lower_mem(L, in, index);
  case AF_OP_MIX: return lower_mix(L, in);
  default: return lower_unsupported(L, in);
  }
}
