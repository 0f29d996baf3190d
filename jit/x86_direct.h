/* x86_direct.h - inline emitters for the lowering's most frequent forms, the table's bytes. */
#ifndef ABIFUZZ_JIT_X86_DIRECT_H
#define ABIFUZZ_JIT_X86_DIRECT_H

#include <string.h>

/* Included by x86.h (its x86_emit2 folds to these), after the types and x86_emit1: include
 * x86.h, not this file. */

/* Why: a case's compile emits ~1,700 instructions, and ~90% of them are a dozen forms: mov
 * between a GPR and [base + disp] (a value's slot), movabs / mov r, imm (a call's target),
 * lea r64, [base + disp], mov r64, r64, call r64, movss / movsd / movups / movq between an
 * xmm and [base + disp], movzx / movsx / movsxd loads, and two-register ALU ops (later also:
 * ALU ops and scalar SSE arithmetic with a memory source, shifts by cl, setcc, cmovcc, pxor /
 * xorps, fld / fstp, immediates to memory, movq r64, xmm: what still went through the table
 * tens of times a case). Through
 * x86_emit each cost ~100 host instructions (an 80-byte x86_inst built, a hashed form lookup,
 * the recipe's generic encoding); here the lowering passes registers and displacements as
 * plain integers, and with the op and most operands known at the call site the compiler folds
 * the prefix, REX and opcode into a constant: ~20 host instructions.
 *
 * Each emitter writes exactly the bytes the table's first matching row gives (x86_table.c,
 * encode_row in x86_enc.c: the mandatory prefix, then a REX when W, R, X or B is set or a
 * byte register spl..dil is named, the opcode, ModRM, a SIB for an rsp/r12 base, disp8 when
 * the displacement fits, rbp/r13 with disp8 0). Anything it does not take (a register out of
 * range, an odd size, an immediate outside the forms below, a buffer short of 16 bytes of
 * room) goes through x86_emit2_cold, i.e. the table, with the same bytes and statuses.
 * tests/test_x86_fast.c compares every emitter with the reference encoder. */

/* Always inlined: folded at the call site is the point (gcc otherwise keeps out-of-line copies
 * that decide at run time what the call site knew). */
#define XD_INLINE static inline __attribute__((always_inline))

/* x86_emit of the instruction, out of line (x86_fast.c): the direct emitters' way out. */
af_status x86_emit2_cold(x86_buf *b, x86_op op, x86_operand a, x86_operand c);

/* Whether 16 bytes can be stored at b->data + b->len (whole 8-byte words are stored). */
XD_INLINE bool xd_room(const x86_buf *b) { return __builtin_expect(b->len + 16 <= b->cap, 1); }

/* ModRM (reg field regf), SIB and displacement of [base + disp], base a GPR 0..15: the bytes
 * little-endian in the result, their count in *n. */
XD_INLINE uint64_t xd_mem_tail(unsigned regf, unsigned base, int32_t disp, unsigned *n) {
  unsigned b7 = base & 7;
  unsigned mod = (disp == 0 && b7 != 5) ? 0 : disp == (int8_t)disp ? 1 : 2;
  unsigned dl = mod + (mod & 2); /* 0, 1 or 4 bytes of displacement */
  uint64_t modrm = mod << 6 | (regf & 7) << 3 | b7;
  if (__builtin_expect(b7 == 4, 0)) { /* rsp/r12: a SIB, no index */
    *n = 2 + dl;
    return modrm | 0x2400 | (uint64_t)(uint32_t)disp << 16;
  }
  *n = 1 + dl;
  return modrm | (uint64_t)(uint32_t)disp << 8;
}

/* Appends head (hl bytes: prefix, REX, opcode) and tail (tl bytes: ModRM onwards). */
XD_INLINE void xd_put(x86_buf *b, uint64_t head, unsigned hl, uint64_t tail, unsigned tl) {
  uint8_t *q = b->data + b->len;
  memcpy(q, &head, 8);
  memcpy(q + hl, &tail, 8);
  b->len += hl + tl;
}

/* [pfx] [REX] opc (1 to 3 bytes, little-endian in opc, nopc of them) as a head; rex is the
 * W R X B nibble, need a byte register's bare REX. */
XD_INLINE uint64_t xd_head(unsigned pfx, unsigned rex, int need, uint32_t opc, unsigned nopc,
                           unsigned *hl) {
  uint64_t h = 0;
  unsigned n = 0;
  if (pfx) h = pfx, n = 1;
  if (rex || need) h |= (uint64_t)(0x40 | rex) << (8 * n), n++;
  h |= (uint64_t)opc << (8 * n);
  *hl = n + nopc;
  return h;
}

/* An instruction whose ModRM.reg is GPR/xmm number reg (0..15) and ModRM.rm is [base + disp]. */
XD_INLINE void xd_rm_mem(x86_buf *b, unsigned pfx, unsigned w, int need, uint32_t opc,
                         unsigned nopc, unsigned reg, unsigned base, int32_t disp) {
  unsigned hl, tl;
  uint64_t h = xd_head(pfx, w << 3 | (reg & 8) >> 1 | (base & 8) >> 3, need, opc, nopc, &hl);
  uint64_t t = xd_mem_tail(reg, base, disp, &tl);
  xd_put(b, h, hl, t, tl);
}

/* An instruction with ModRM.reg = reg and ModRM.rm = register rm (both 0..15). */
XD_INLINE void xd_rm_reg(x86_buf *b, unsigned pfx, unsigned w, int need, uint32_t opc,
                         unsigned nopc, unsigned reg, unsigned rm) {
  unsigned hl;
  uint64_t h = xd_head(pfx, w << 3 | (reg & 8) >> 1 | (rm & 8) >> 3, need, opc, nopc, &hl);
  xd_put(b, h, hl, 0xC0 | (reg & 7) << 3 | (rm & 7), 1);
}

XD_INLINE bool xd_gpr_ok(unsigned r) { return r <= 15; }
XD_INLINE bool xd_int_size(int size) { return size == 1 || size == 2 || size == 4 || size == 8; }

/* mov [base + disp], r (size 1, 2, 4, 8): 88 / 89, 66 for 16 bits, REX.W for 64. */
XD_INLINE af_status xd_store(x86_buf *b, af_reg base, int32_t disp, af_reg r, int size) {
  unsigned reg = (unsigned)r, bs = (unsigned)base;
  if (__builtin_expect(xd_gpr_ok(reg) && xd_gpr_ok(bs) && xd_int_size(size) && xd_room(b), 1)) {
    xd_rm_mem(b, size == 2 ? 0x66 : 0, size == 8, size == 1 && reg - 4u < 4,
              size == 1 ? 0x88 : 0x89, 1, reg, bs, disp);
    return AF_OK;
  }
  return x86_emit2_cold(b, X86_MOV, x86_base(size, base, disp), x86_gpr(r, size));
}

/* mov r, [base + disp] (size 1, 2, 4, 8): 8A / 8B. */
XD_INLINE af_status xd_load(x86_buf *b, af_reg r, int size, af_reg base, int32_t disp) {
  unsigned reg = (unsigned)r, bs = (unsigned)base;
  if (__builtin_expect(xd_gpr_ok(reg) && xd_gpr_ok(bs) && xd_int_size(size) && xd_room(b), 1)) {
    xd_rm_mem(b, size == 2 ? 0x66 : 0, size == 8, size == 1 && reg - 4u < 4,
              size == 1 ? 0x8A : 0x8B, 1, reg, bs, disp);
    return AF_OK;
  }
  return x86_emit2_cold(b, X86_MOV, x86_gpr(r, size), x86_base(size, base, disp));
}

/* movzx / movsx r (size 4 or 8), byte or word [base + disp] (msize 1, 2): [REX.W] 0F B6/B7,
 * 0F BE/BF; movsxd r64, dword [base + disp]: REX.W 63. op: X86_MOVZX, X86_MOVSX, X86_MOVSXD. */
XD_INLINE af_status xd_load_ext(x86_buf *b, x86_op op, af_reg r, int size, af_reg base,
                                int32_t disp, int msize) {
  unsigned reg = (unsigned)r, bs = (unsigned)base;
  if (__builtin_expect(xd_gpr_ok(reg) && xd_gpr_ok(bs) && xd_room(b), 1)) {
    if (op == X86_MOVSXD && size == 8 && msize == 4) {
      xd_rm_mem(b, 0, 1, 0, 0x63, 1, reg, bs, disp);
      return AF_OK;
    }
    if ((op == X86_MOVZX || op == X86_MOVSX) && (size == 4 || size == 8) &&
        (msize == 1 || msize == 2)) {
      uint32_t opc2 = (op == X86_MOVZX ? 0xB6u : 0xBEu) + (msize == 2);
      xd_rm_mem(b, 0, size == 8, 0, 0x0F | opc2 << 8, 2, reg, bs, disp);
      return AF_OK;
    }
  }
  return x86_emit2_cold(b, op, x86_gpr(r, size), x86_base(msize, base, disp));
}

/* lea r64, [base + disp]: REX.W 8D. */
XD_INLINE af_status xd_lea(x86_buf *b, af_reg r, af_reg base, int32_t disp) {
  unsigned reg = (unsigned)r, bs = (unsigned)base;
  if (__builtin_expect(xd_gpr_ok(reg) && xd_gpr_ok(bs) && xd_room(b), 1)) {
    xd_rm_mem(b, 0, 1, 0, 0x8D, 1, reg, bs, disp);
    return AF_OK;
  }
  return x86_emit2_cold(b, X86_LEA, x86_gpr(r, 8), x86_base(0, base, disp));
}

/* An xmm register (AF_XMM0..15) to or from [base + disp], `size` bytes: movss (4, F3),
 * movsd (8, F2), movups (16, no prefix): 0F 10 load, 0F 11 store; with op X86_MOVQ (size 8),
 * F3 0F 7E load, 66 0F D6 store. */
XD_INLINE af_status xd_xmm_mem(x86_buf *b, x86_op op, int store, af_reg x, af_reg base,
                               int32_t disp, int size) {
  unsigned xr = (unsigned)x - AF_XMM0, bs = (unsigned)base;
  if (__builtin_expect(xr <= 15 && xd_gpr_ok(bs) && xd_room(b), 1)) {
    if ((op == X86_MOVSS && size == 4) || (op == X86_MOVSD && size == 8) ||
        (op == X86_MOVUPS && size == 16)) {
      unsigned pfx = op == X86_MOVSS ? 0xF3 : op == X86_MOVSD ? 0xF2 : 0;
      xd_rm_mem(b, pfx, 0, 0, 0x0F | (store ? 0x11u : 0x10u) << 8, 2, xr, bs, disp);
      return AF_OK;
    }
    if (op == X86_MOVQ && size == 8) {
      xd_rm_mem(b, store ? 0x66 : 0xF3, 0, 0, 0x0F | (store ? 0xD6u : 0x7Eu) << 8, 2, xr, bs, disp);
      return AF_OK;
    }
    /* scalar arithmetic xmm, m32 / m64: F3 (ss) or F2 (sd) 0F 58 add, 59 mul, 5C sub */
    if (!store && (op == X86_ADDSS || op == X86_MULSS || op == X86_SUBSS) && size == 4) {
      uint32_t opc = op == X86_ADDSS ? 0x58u : op == X86_MULSS ? 0x59u : 0x5Cu;
      xd_rm_mem(b, 0xF3, 0, 0, 0x0F | opc << 8, 2, xr, bs, disp);
      return AF_OK;
    }
    if (!store && (op == X86_ADDSD || op == X86_MULSD || op == X86_SUBSD) && size == 8) {
      uint32_t opc = op == X86_ADDSD ? 0x58u : op == X86_MULSD ? 0x59u : 0x5Cu;
      xd_rm_mem(b, 0xF2, 0, 0, 0x0F | opc << 8, 2, xr, bs, disp);
      return AF_OK;
    }
  }
  if (store)
    return x86_emit2_cold(b, op, x86_base(size, base, disp), x86_xmm(x));
  else
    return x86_emit2_cold(b, op, x86_xmm(x), x86_base(size, base, disp));
}

/* Two GPRs of size 4 or 8, dst first (Intel order): mov, add, or, and, sub, xor, cmp, test take
 * the MR rows (opcode 89 / 01 / 09 / 21 / 29 / 31 / 39 / 85, ModRM.reg = src); imul the RM row
 * (0F AF, ModRM.reg = dst). */
XD_INLINE af_status xd_rr(x86_buf *b, x86_op op, int size, af_reg dst, af_reg src) {
  unsigned d = (unsigned)dst, s = (unsigned)src;
  if (__builtin_expect(xd_gpr_ok(d) && xd_gpr_ok(s) && (size == 4 || size == 8) && xd_room(b), 1)) {
    unsigned w = size == 8;
    switch (op) {
    case X86_MOV: xd_rm_reg(b, 0, w, 0, 0x89, 1, s, d); return AF_OK;
    case X86_ADD: xd_rm_reg(b, 0, w, 0, 0x01, 1, s, d); return AF_OK;
    case X86_OR: xd_rm_reg(b, 0, w, 0, 0x09, 1, s, d); return AF_OK;
    case X86_AND: xd_rm_reg(b, 0, w, 0, 0x21, 1, s, d); return AF_OK;
    case X86_SUB: xd_rm_reg(b, 0, w, 0, 0x29, 1, s, d); return AF_OK;
    case X86_XOR: xd_rm_reg(b, 0, w, 0, 0x31, 1, s, d); return AF_OK;
    case X86_CMP: xd_rm_reg(b, 0, w, 0, 0x39, 1, s, d); return AF_OK;
    case X86_TEST: xd_rm_reg(b, 0, w, 0, 0x85, 1, s, d); return AF_OK;
    case X86_IMUL: xd_rm_reg(b, 0, w, 0, 0xAF0F, 2, d, s); return AF_OK;
    default: break;
    }
  }
  return x86_emit2_cold(b, op, x86_gpr(dst, size), x86_gpr(src, size));
}

/* add / or / and / sub / xor / cmp / adc / sbb r, [base + disp] (size 4 or 8): the RM rows
 * 03 0B 23 2B 33 3B 13 1B /r; imul r, [base + disp]: 0F AF /r. */
XD_INLINE af_status xd_alu_rm(x86_buf *b, x86_op op, int size, af_reg dst, af_reg base,
                              int32_t disp) {
  unsigned d = (unsigned)dst, bs = (unsigned)base;
  if (__builtin_expect(xd_gpr_ok(d) && xd_gpr_ok(bs) && (size == 4 || size == 8) && xd_room(b),
                       1)) {
    unsigned w = size == 8, opc = 0;
    switch (op) {
    case X86_ADD: opc = 0x03; break;
    case X86_OR: opc = 0x0B; break;
    case X86_AND: opc = 0x23; break;
    case X86_SUB: opc = 0x2B; break;
    case X86_XOR: opc = 0x33; break;
    case X86_CMP: opc = 0x3B; break;
    case X86_ADC: opc = 0x13; break;
    case X86_SBB: opc = 0x1B; break;
    case X86_IMUL: xd_rm_mem(b, 0, w, 0, 0xAF0F, 2, d, bs, disp); return AF_OK;
    default: break;
    }
    if (opc) {
      xd_rm_mem(b, 0, w, 0, opc, 1, d, bs, disp);
      return AF_OK;
    }
  }
  return x86_emit2_cold(b, op, x86_gpr(dst, size), x86_base(size, base, disp));
}

/* shl / shr / sar r (size 4 or 8), cl: D3 /4, /5, /7. */
XD_INLINE af_status xd_shift_cl(x86_buf *b, x86_op op, int size, af_reg dst) {
  unsigned d = (unsigned)dst;
  unsigned digit = op == X86_SHL ? 4 : op == X86_SHR ? 5 : op == X86_SAR ? 7 : 8;
  if (__builtin_expect(digit < 8 && xd_gpr_ok(d) && (size == 4 || size == 8) && xd_room(b), 1)) {
    xd_rm_reg(b, 0, size == 8, 0, 0xD3, 1, digit, d);
    return AF_OK;
  }
  return x86_emit2_cold(b, op, x86_gpr(dst, size), x86_gpr(AF_RCX, 1));
}

/* cmovcc r, r (size 4 or 8): 0F 40+cc /r, ModRM.reg = dst. */
XD_INLINE af_status xd_cmov(x86_buf *b, x86_cond cc, int size, af_reg dst, af_reg src) {
  unsigned d = (unsigned)dst, r = (unsigned)src;
  if (__builtin_expect(xd_gpr_ok(d) && xd_gpr_ok(r) && (unsigned)cc <= 15 &&
                           (size == 4 || size == 8) && xd_room(b),
                       1)) {
    xd_rm_reg(b, 0, size == 8, 0, 0x0F | (0x40u + (unsigned)cc) << 8, 2, d, r);
    return AF_OK;
  }
  x86_inst i = x86_inst2(X86_CMOVCC, x86_gpr(dst, size), x86_gpr(src, size));
  i.cond = (uint8_t)cc;
  return x86_emit(b, &i);
}

/* movq r64, xmm: 66 REX.W 0F 7E /r (ModRM.reg = the xmm, rm = the GPR). */
XD_INLINE af_status xd_movq_gx(x86_buf *b, af_reg dst, af_reg src) {
  unsigned d = (unsigned)dst, x = (unsigned)src - AF_XMM0;
  if (__builtin_expect(xd_gpr_ok(d) && x <= 15 && xd_room(b), 1)) {
    xd_rm_reg(b, 0x66, 1, 0, 0x7E0F, 2, x, d);
    return AF_OK;
  }
  return x86_emit2_cold(b, X86_MOVQ, x86_gpr(dst, 8), x86_xmm(src));
}

/* add / or / and / sub / xor / cmp r (size 4 or 8), imm: 83 /digit ib when the value fits a
 * signed byte, else 81 /digit id (a value within int32: for size 8 sign-extended, for size 4
 * the same bits); REX.W for 64 bits. Other values and ops: the table. */
XD_INLINE af_status xd_alu_imm(x86_buf *b, x86_op op, int size, af_reg dst, int64_t v) {
  unsigned d = (unsigned)dst, digit = 8;
  switch (op) {
  case X86_ADD: digit = 0; break;
  case X86_OR: digit = 1; break;
  case X86_AND: digit = 4; break;
  case X86_SUB: digit = 5; break;
  case X86_XOR: digit = 6; break;
  case X86_CMP: digit = 7; break;
  default: break;
  }
  if (__builtin_expect(digit < 8 && xd_gpr_ok(d) && (size == 4 || size == 8) && v >= INT32_MIN &&
                           v <= INT32_MAX && xd_room(b),
                       1)) {
    int i8 = v >= -128 && v <= 127;
    unsigned hl;
    uint64_t h = xd_head(0, (size == 8 ? 8u : 0u) | d >> 3, 0, i8 ? 0x83 : 0x81, 1, &hl);
    uint64_t t = (0xC0 | digit << 3 | (d & 7)) | (uint64_t)(uint32_t)(int32_t)v << 8;
    xd_put(b, h, hl, t, i8 ? 2 : 5);
    return AF_OK;
  }
  return x86_emit2_cold(b, op, x86_gpr(dst, size), x86_imm(v));
}

/* pxor xmm, xmm (66 0F EF /r) and xorps xmm, xmm (0F 57 /r): ModRM.reg = dst, rm = src. */
XD_INLINE af_status xd_xmm_rr(x86_buf *b, x86_op op, af_reg dst, af_reg src) {
  unsigned d = (unsigned)dst - AF_XMM0, r = (unsigned)src - AF_XMM0;
  if (__builtin_expect((op == X86_PXOR || op == X86_XORPS) && d <= 15 && r <= 15 && xd_room(b),
                       1)) {
    xd_rm_reg(b, op == X86_PXOR ? 0x66 : 0, 0, 0, 0x0F | (op == X86_PXOR ? 0xEFu : 0x57u) << 8, 2,
              d, r);
    return AF_OK;
  }
  return x86_emit2_cold(b, op, x86_xmm(dst), x86_xmm(src));
}

/* An immediate to memory: mov word [base + disp], imm16 (66 C7 /0 iw), mov dword ..., imm32
 * (C7 /0 id), cmp byte ..., imm8 (80 /7 ib); anything else, the table. */
XD_INLINE af_status xd_mem_imm(x86_buf *b, x86_op op, int size, af_reg base, int32_t disp,
                               int64_t v) {
  unsigned bs = (unsigned)base;
  if (__builtin_expect(xd_gpr_ok(bs) && xd_room(b), 1)) {
    unsigned hl, tl;
    if (op == X86_MOV && ((size == 2 && v >= INT16_MIN && v <= INT16_MAX) ||
                          (size == 4 && v >= INT32_MIN && v <= INT32_MAX))) {
      uint64_t h = xd_head(size == 2 ? 0x66 : 0, (bs & 8) >> 3, 0, 0xC7, 1, &hl);
      uint64_t t = xd_mem_tail(0, bs, disp, &tl);
      uint8_t *q = b->data + b->len;
      memcpy(q, &h, 8);
      memcpy(q + hl, &t, 8);
      int32_t iv = (int32_t)v;
      memcpy(q + hl + tl, &iv, 4); /* whole: the room check leaves 16 bytes */
      b->len += hl + tl + (unsigned)size;
      return AF_OK;
    }
    if (op == X86_CMP && size == 1 && v >= -128 && v <= 127) {
      uint64_t h = xd_head(0, (bs & 8) >> 3, 0, 0x80, 1, &hl);
      uint64_t t = xd_mem_tail(7, bs, disp, &tl);
      t = (t & ((1ull << (8 * tl)) - 1)) | (uint64_t)(uint8_t)v << (8 * tl); /* (tl <= 6) */
      xd_put(b, h, hl, t, tl + 1);
      return AF_OK;
    }
  }
  return x86_emit2_cold(b, op, x86_base(size, base, disp), x86_imm(v));
}

/* fld / fstp of m32, m64, m80: D9 /0, DD /0, DB /5; D9 /3, DD /3, DB /7. */
XD_INLINE af_status xd_x87_mem(x86_buf *b, x86_op op, af_reg base, int32_t disp, int size) {
  unsigned bs = (unsigned)base;
  if (__builtin_expect((op == X86_FLD || op == X86_FSTP) &&
                           (size == 4 || size == 8 || size == 10) && xd_gpr_ok(bs) && xd_room(b),
                       1)) {
    unsigned opc = size == 4 ? 0xD9 : size == 8 ? 0xDD : 0xDB;
    unsigned regf = op == X86_FLD ? (size == 10 ? 5 : 0) : (size == 10 ? 7 : 3);
    xd_rm_mem(b, 0, 0, 0, opc, 1, regf, bs, disp);
    return AF_OK;
  }
  return x86_emit1(b, op, x86_base(size, base, disp));
}

/* setcc r8: 0F 90+cc /0 (a REX for spl..dil and r8b..r15b). */
XD_INLINE af_status xd_setcc(x86_buf *b, x86_cond cc, af_reg r) {
  unsigned reg = (unsigned)r;
  if (__builtin_expect(xd_gpr_ok(reg) && (unsigned)cc <= 15 && xd_room(b), 1)) {
    xd_rm_reg(b, 0, 0, reg - 4u < 4, 0x0F | (0x90u + (unsigned)cc) << 8, 2, 0, reg);
    return AF_OK;
  }
  x86_inst i = x86_inst1(X86_SETCC, x86_gpr(r, 1));
  i.cond = (uint8_t)cc;
  return x86_emit(b, &i);
}

/* push / pop r64: [REX.B] 50+r / 58+r; ret: C3. */
XD_INLINE af_status xd_push_pop(x86_buf *b, x86_op op, af_reg r) {
  unsigned reg = (unsigned)r;
  if (__builtin_expect((op == X86_PUSH || op == X86_POP) && xd_gpr_ok(reg) && xd_room(b), 1)) {
    unsigned hl;
    uint64_t h = xd_head(0, reg >> 3, 0, (op == X86_PUSH ? 0x50u : 0x58u) + (reg & 7), 1, &hl);
    xd_put(b, h, hl, 0, 0);
    return AF_OK;
  }
  return x86_emit1(b, op, x86_gpr(r, 8));
}
XD_INLINE af_status xd_ret(x86_buf *b) {
  if (__builtin_expect(xd_room(b), 1)) {
    xd_put(b, 0xC3, 1, 0, 0);
    return AF_OK;
  }
  return x86_emit0(b, X86_RET);
}

/* call qword ptr [base + disp]: FF /2. */
XD_INLINE af_status xd_call_mem(x86_buf *b, af_reg base, int32_t disp) {
  unsigned bs = (unsigned)base;
  if (__builtin_expect(xd_gpr_ok(bs) && xd_room(b), 1)) {
    xd_rm_mem(b, 0, 0, 0, 0xFF, 1, 2, bs, disp);
    return AF_OK;
  }
  return x86_emit1(b, X86_CALL, x86_base(8, base, disp));
}

/* call r64: FF /2 (REX.B for r8..r15). */
XD_INLINE af_status xd_call_reg(x86_buf *b, af_reg r) {
  unsigned reg = (unsigned)r;
  if (__builtin_expect(xd_gpr_ok(reg) && xd_room(b), 1)) {
    unsigned hl;
    uint64_t h = xd_head(0, (reg & 8) >> 3, 0, 0xFF, 1, &hl);
    xd_put(b, h, hl, 0xD0 | (reg & 7), 1);
    return AF_OK;
  }
  return x86_emit1(b, X86_CALL, x86_gpr(r, 8));
}

/* x86_emit_movimm inline for sizes 4 and 8 (the lowering's constants, call targets, helper
 * arguments): mov r32, imm32 ([REX.B] B8+r id) when v zero-extends from 32 bits (size 8) or
 * fits 32 bits either way (size 4), REX.W C7 /0 id when it sign-extends, else movabs. */
XD_INLINE af_status xd_movimm(x86_buf *b, af_reg r, int size, int64_t v) {
  unsigned reg = (unsigned)r;
  if (__builtin_expect(xd_gpr_ok(reg) && (size == 4 || size == 8) && xd_room(b), 1)) {
    uint8_t *q = b->data + b->len;
    unsigned rexb = reg >> 3;
    if (size == 8 ? v >= 0 && v <= (int64_t)UINT32_MAX
                  : v >= INT32_MIN && v <= (int64_t)UINT32_MAX) { /* B8+r id */
      uint64_t h = rexb ? 0x41u | (0xB8u + (reg & 7)) << 8 : 0xB8u + (reg & 7);
      unsigned hl = 1 + rexb;
      uint32_t u = (uint32_t)v;
      memcpy(q, &h, 8);
      memcpy(q + hl, &u, 4);
      b->len += hl + 4;
      return AF_OK;
    }
    if (size == 8 && v == (int32_t)v) { /* REX.W C7 /0 id: sign-extended */
      uint64_t h = (0x48u | rexb) | 0xC7u << 8 | (0xC0u | (reg & 7)) << 16;
      int32_t s = (int32_t)v;
      memcpy(q, &h, 8);
      memcpy(q + 3, &s, 4);
      b->len += 7;
      return AF_OK;
    }
    if (size == 8) { /* movabs: REX.W B8+r iq */
      uint64_t h = (0x48u | rexb) | (0xB8u + (reg & 7)) << 8;
      memcpy(q, &h, 8);
      memcpy(q + 2, &v, 8);
      b->len += 10;
      return AF_OK;
    }
  }
  return x86_emit_movimm(b, r, size, v);
}
XD_INLINE af_status xd_movimm64(x86_buf *b, af_reg r, int64_t v) { return xd_movimm(b, r, 8, v); }

#endif
