/* x86_table.c - the x86-64 instruction table: one row per (op, operand form) encoding. */
#include "x86.h"

/* The table.
 *
 * Each row is {op, enc, form, pfx, w, opcode, digit, cc, name}:
 *
 *   op     the x86_op the row implements; an op has one row per operand form and width.
 *   enc    where the operands go (x86.h): NP opcode only; RM ModRM.reg = o[0] and
 *          ModRM.rm = o[1]; MR the reverse; M ModRM.rm = o[0] with ModRM.reg = /digit;
 *          O register added to the last opcode byte (push r64, B8+r); D a relative branch;
 *          ST x87 st(i) added to the last opcode byte.
 *   form   operand classes in Intel order:
 *            R8..R64    a GPR of that width          RM8..RM64  a GPR or memory of that width
 *            M8..M128   memory of that many bits     M          memory of any size (lea)
 *            X          an xmm register              XM32..128  xmm or memory of that width
 *            I8/16/32/64 an immediate that sign-extends from that many bits to the width
 *                       of o[0] (the value is matched modulo 2^width: -1 and 0xffffffff are
 *                       the same 32-bit immediate)
 *            U8         an unsigned byte (shift counts, shufps)  CL  the cl register
 *            REL8/32    a branch displacement      STI  x87 st(i)
 *   pfx    mandatory/operand-size legacy prefix: 0, 66, F2 or F3 (emitted before REX).
 *   w      1: REX.W (64-bit operation).
 *   opcode the opcode bytes including the 0F / 0F 38 / 0F 3A escapes.
 *   digit  ModRM.reg for M rows (the "/digit" of the SDM), -1 otherwise.
 *   cc     1: the condition code of x86_inst.cond is added to the last opcode byte.
 *   name   a mnemonic that differs from the op's (movabs), or NULL.
 *
 * Row order matters: the encoder takes the FIRST row whose form accepts the operands, so
 * shorter encodings (imm8) come before longer ones (imm32) and the canonical register-register
 * direction (MR, as gcc and Capstone's round trip use) comes before RM. Sources: Intel SDM
 * Vol. 2 (instruction pages and Appendix A opcode maps). */

#define OPC(...)                                                                                   \
  sizeof((uint8_t[]){__VA_ARGS__}), { __VA_ARGS__ }
#define ROW(op, enc, f0, f1, f2, pfx, w, digit, ...)                                               \
  { X86_##op, XE_##enc, {XF_##f0, XF_##f1, XF_##f2}, pfx, w, OPC(__VA_ARGS__), digit, 0, NULL }
#define ROWCC(op, enc, f0, f1, pfx, w, digit, ...)                                                 \
  { X86_##op, XE_##enc, {XF_##f0, XF_##f1, XF_NONE}, pfx, w, OPC(__VA_ARGS__), digit, 1, NULL }

/* add/or/adc/sbb/and/sub/xor/cmp share a layout: base+0..3 for r/m forms, 80/83/81 /d. */
#define ALU(op, b, d)                                                                              \
  ROW(op, MR, RM8, R8, NONE, 0, 0, -1, b + 0), ROW(op, MR, RM16, R16, NONE, 0x66, 0, -1, b + 1),   \
      ROW(op, MR, RM32, R32, NONE, 0, 0, -1, b + 1),                                               \
      ROW(op, MR, RM64, R64, NONE, 0, 1, -1, b + 1), ROW(op, RM, R8, RM8, NONE, 0, 0, -1, b + 2),  \
      ROW(op, RM, R16, RM16, NONE, 0x66, 0, -1, b + 3),                                            \
      ROW(op, RM, R32, RM32, NONE, 0, 0, -1, b + 3),                                               \
      ROW(op, RM, R64, RM64, NONE, 0, 1, -1, b + 3), ROW(op, M, RM8, I8, NONE, 0, 0, d, 0x80),     \
      ROW(op, M, RM16, I8, NONE, 0x66, 0, d, 0x83), ROW(op, M, RM16, I16, NONE, 0x66, 0, d, 0x81), \
      ROW(op, M, RM32, I8, NONE, 0, 0, d, 0x83), ROW(op, M, RM32, I32, NONE, 0, 0, d, 0x81),       \
      ROW(op, M, RM64, I8, NONE, 0, 1, d, 0x83), ROW(op, M, RM64, I32, NONE, 0, 1, d, 0x81)

/* One-operand F6/F7 group (not, neg, mul, div, idiv): /d on r/m of every width. */
#define GRP3(op, d)                                                                                \
  ROW(op, M, RM8, NONE, NONE, 0, 0, d, 0xF6), ROW(op, M, RM16, NONE, NONE, 0x66, 0, d, 0xF7),      \
      ROW(op, M, RM32, NONE, NONE, 0, 0, d, 0xF7), ROW(op, M, RM64, NONE, NONE, 0, 1, d, 0xF7)

/* Shift group C0/C1 ib and D2/D3 (by cl), /d. */
#define SHIFT(op, d)                                                                               \
  ROW(op, M, RM8, U8, NONE, 0, 0, d, 0xC0), ROW(op, M, RM16, U8, NONE, 0x66, 0, d, 0xC1),          \
      ROW(op, M, RM32, U8, NONE, 0, 0, d, 0xC1), ROW(op, M, RM64, U8, NONE, 0, 1, d, 0xC1),        \
      ROW(op, M, RM8, CL, NONE, 0, 0, d, 0xD2), ROW(op, M, RM16, CL, NONE, 0x66, 0, d, 0xD3),      \
      ROW(op, M, RM32, CL, NONE, 0, 0, d, 0xD3), ROW(op, M, RM64, CL, NONE, 0, 1, d, 0xD3)

/* Double shifts 0F A4/A5 (shld), 0F AC/AD (shrd). */
#define DSHIFT(op, b)                                                                              \
  ROW(op, MR, RM16, R16, U8, 0x66, 0, -1, 0x0F, b), ROW(op, MR, RM32, R32, U8, 0, 0, -1, 0x0F, b), \
      ROW(op, MR, RM64, R64, U8, 0, 1, -1, 0x0F, b),                                               \
      ROW(op, MR, RM16, R16, CL, 0x66, 0, -1, 0x0F, b + 1),                                        \
      ROW(op, MR, RM32, R32, CL, 0, 0, -1, 0x0F, b + 1),                                           \
      ROW(op, MR, RM64, R64, CL, 0, 1, -1, 0x0F, b + 1)

/* movzx / movsx: 0F B6/B7 (zx), 0F BE/BF (sx). */
#define MOVX(op, b)                                                                                \
  ROW(op, RM, R16, RM8, NONE, 0x66, 0, -1, 0x0F, b),                                               \
      ROW(op, RM, R32, RM8, NONE, 0, 0, -1, 0x0F, b),                                              \
      ROW(op, RM, R64, RM8, NONE, 0, 1, -1, 0x0F, b),                                              \
      ROW(op, RM, R32, RM16, NONE, 0, 0, -1, 0x0F, b + 1),                                         \
      ROW(op, RM, R64, RM16, NONE, 0, 1, -1, 0x0F, b + 1)

/* A scalar/packed SSE arithmetic op: xmm, xmm/m with a mandatory prefix. */
#define SSE(op, pfx, src, ...) ROW(op, RM, X, src, NONE, pfx, 0, -1, 0x0F, __VA_ARGS__)
/* An SSE move: load/reg form (RM) and store form (MR). */
#define SSEMOV(op, pfx, m, ld, st)                                                                 \
  ROW(op, RM, X, X##m, NONE, pfx, 0, -1, 0x0F, ld), ROW(op, MR, m, X, NONE, pfx, 0, -1, 0x0F, st)

/* x87 arithmetic-and-pop on st(i): DE xx+i. */
#define X87P(op, b) ROW(op, ST, STI, NONE, NONE, 0, 0, -1, 0xDE, b)

const x86_row x86_rows[] = {
    /* ---- moves ---- */
    ROW(MOV, MR, RM8, R8, NONE, 0, 0, -1, 0x88),
    ROW(MOV, MR, RM16, R16, NONE, 0x66, 0, -1, 0x89),
    ROW(MOV, MR, RM32, R32, NONE, 0, 0, -1, 0x89),
    ROW(MOV, MR, RM64, R64, NONE, 0, 1, -1, 0x89),
    ROW(MOV, RM, R8, RM8, NONE, 0, 0, -1, 0x8A),
    ROW(MOV, RM, R16, RM16, NONE, 0x66, 0, -1, 0x8B),
    ROW(MOV, RM, R32, RM32, NONE, 0, 0, -1, 0x8B),
    ROW(MOV, RM, R64, RM64, NONE, 0, 1, -1, 0x8B),
    ROW(MOV, O, R8, I8, NONE, 0, 0, -1, 0xB0),
    ROW(MOV, O, R16, I16, NONE, 0x66, 0, -1, 0xB8),
    ROW(MOV, O, R32, I32, NONE, 0, 0, -1, 0xB8),
    ROW(MOV, M, RM64, I32, NONE, 0, 1, 0, 0xC7), /* sign-extended imm32 */
    {X86_MOV, XE_O, {XF_R64, XF_I64, XF_NONE}, 0, 1, OPC(0xB8), -1, 0, "movabs"},
    ROW(MOV, M, RM8, I8, NONE, 0, 0, 0, 0xC6),
    ROW(MOV, M, RM16, I16, NONE, 0x66, 0, 0, 0xC7),
    ROW(MOV, M, RM32, I32, NONE, 0, 0, 0, 0xC7),
    MOVX(MOVZX, 0xB6),
    MOVX(MOVSX, 0xBE),
    ROW(MOVSXD, RM, R64, RM32, NONE, 0, 1, -1, 0x63),
    ROW(LEA, RM, R64, M, NONE, 0, 1, -1, 0x8D),
    ROW(LEA, RM, R32, M, NONE, 0, 0, -1, 0x8D),
    ROW(XCHG, MR, RM8, R8, NONE, 0, 0, -1, 0x86),
    ROW(XCHG, MR, RM16, R16, NONE, 0x66, 0, -1, 0x87),
    ROW(XCHG, MR, RM32, R32, NONE, 0, 0, -1, 0x87),
    ROW(XCHG, MR, RM64, R64, NONE, 0, 1, -1, 0x87),

    /* ---- arithmetic ---- */
    ALU(ADD, 0x00, 0),
    ALU(OR, 0x08, 1),
    ALU(ADC, 0x10, 2),
    ALU(SBB, 0x18, 3),
    ALU(AND, 0x20, 4),
    ALU(SUB, 0x28, 5),
    ALU(XOR, 0x30, 6),
    ALU(CMP, 0x38, 7),
    ROW(TEST, MR, RM8, R8, NONE, 0, 0, -1, 0x84),
    ROW(TEST, MR, RM16, R16, NONE, 0x66, 0, -1, 0x85),
    ROW(TEST, MR, RM32, R32, NONE, 0, 0, -1, 0x85),
    ROW(TEST, MR, RM64, R64, NONE, 0, 1, -1, 0x85),
    ROW(TEST, M, RM8, I8, NONE, 0, 0, 0, 0xF6),
    ROW(TEST, M, RM16, I16, NONE, 0x66, 0, 0, 0xF7),
    ROW(TEST, M, RM32, I32, NONE, 0, 0, 0, 0xF7),
    ROW(TEST, M, RM64, I32, NONE, 0, 1, 0, 0xF7),
    ROW(IMUL, RM, R16, RM16, NONE, 0x66, 0, -1, 0x0F, 0xAF),
    ROW(IMUL, RM, R32, RM32, NONE, 0, 0, -1, 0x0F, 0xAF),
    ROW(IMUL, RM, R64, RM64, NONE, 0, 1, -1, 0x0F, 0xAF),
    ROW(IMUL, RM, R16, RM16, I8, 0x66, 0, -1, 0x6B),
    ROW(IMUL, RM, R16, RM16, I16, 0x66, 0, -1, 0x69),
    ROW(IMUL, RM, R32, RM32, I8, 0, 0, -1, 0x6B),
    ROW(IMUL, RM, R32, RM32, I32, 0, 0, -1, 0x69),
    ROW(IMUL, RM, R64, RM64, I8, 0, 1, -1, 0x6B),
    ROW(IMUL, RM, R64, RM64, I32, 0, 1, -1, 0x69),
    GRP3(NOT, 2),
    GRP3(NEG, 3),
    GRP3(MUL, 4),
    GRP3(DIV, 6),
    GRP3(IDIV, 7),
    SHIFT(ROL, 0),
    SHIFT(ROR, 1),
    SHIFT(SHL, 4),
    SHIFT(SHR, 5),
    SHIFT(SAR, 7),
    DSHIFT(SHLD, 0xA4),
    DSHIFT(SHRD, 0xAC),
    ROW(BT, MR, RM16, R16, NONE, 0x66, 0, -1, 0x0F, 0xA3),
    ROW(BT, MR, RM32, R32, NONE, 0, 0, -1, 0x0F, 0xA3),
    ROW(BT, MR, RM64, R64, NONE, 0, 1, -1, 0x0F, 0xA3),
    ROW(BT, M, RM16, U8, NONE, 0x66, 0, 4, 0x0F, 0xBA),
    ROW(BT, M, RM32, U8, NONE, 0, 0, 4, 0x0F, 0xBA),
    ROW(BT, M, RM64, U8, NONE, 0, 1, 4, 0x0F, 0xBA),
    ROW(CDQ, NP, NONE, NONE, NONE, 0, 0, -1, 0x99),
    ROW(CQO, NP, NONE, NONE, NONE, 0, 1, -1, 0x99),
    ROWCC(SETCC, M, RM8, NONE, 0, 0, 0, 0x0F, 0x90),
    ROWCC(CMOVCC, RM, R16, RM16, 0x66, 0, -1, 0x0F, 0x40),
    ROWCC(CMOVCC, RM, R32, RM32, 0, 0, -1, 0x0F, 0x40),
    ROWCC(CMOVCC, RM, R64, RM64, 0, 1, -1, 0x0F, 0x40),

    /* ---- stack and control flow (64-bit default operand size: no REX.W) ---- */
    ROW(PUSH, O, R64, NONE, NONE, 0, 0, -1, 0x50),
    ROW(PUSH, M, M64, NONE, NONE, 0, 0, 6, 0xFF),
    ROW(POP, O, R64, NONE, NONE, 0, 0, -1, 0x58),
    ROW(CALL, D, REL32, NONE, NONE, 0, 0, -1, 0xE8),
    ROW(CALL, M, RM64, NONE, NONE, 0, 0, 2, 0xFF),
    ROW(JMP, D, REL8, NONE, NONE, 0, 0, -1, 0xEB),
    ROW(JMP, D, REL32, NONE, NONE, 0, 0, -1, 0xE9),
    ROW(JMP, M, RM64, NONE, NONE, 0, 0, 4, 0xFF),
    ROWCC(JCC, D, REL8, NONE, 0, 0, -1, 0x70),
    ROWCC(JCC, D, REL32, NONE, 0, 0, -1, 0x0F, 0x80),
    ROW(RET, NP, NONE, NONE, NONE, 0, 0, -1, 0xC3),
    ROW(CLD, NP, NONE, NONE, NONE, 0, 0, -1, 0xFC),
    ROW(NOP, NP, NONE, NONE, NONE, 0, 0, -1, 0x90),
    ROW(UD2, NP, NONE, NONE, NONE, 0, 0, -1, 0x0F, 0x0B),
    ROW(INT3, NP, NONE, NONE, NONE, 0, 0, -1, 0xCC),

    /* ---- SSE / SSE2 ---- */
    ROW(MOVD, RM, X, RM32, NONE, 0x66, 0, -1, 0x0F, 0x6E),
    ROW(MOVD, MR, RM32, X, NONE, 0x66, 0, -1, 0x0F, 0x7E),
    ROW(MOVQ, RM, X, R64, NONE, 0x66, 1, -1, 0x0F, 0x6E),
    ROW(MOVQ, MR, R64, X, NONE, 0x66, 1, -1, 0x0F, 0x7E),
    ROW(MOVQ, RM, X, XM64, NONE, 0xF3, 0, -1, 0x0F, 0x7E),
    ROW(MOVQ, MR, M64, X, NONE, 0x66, 0, -1, 0x0F, 0xD6),
    SSEMOV(MOVSS, 0xF3, M32, 0x10, 0x11),
    SSEMOV(MOVSD, 0xF2, M64, 0x10, 0x11),
    SSEMOV(MOVAPS, 0, M128, 0x28, 0x29),
    SSEMOV(MOVUPS, 0, M128, 0x10, 0x11),
    SSEMOV(MOVAPD, 0x66, M128, 0x28, 0x29),
    SSEMOV(MOVDQA, 0x66, M128, 0x6F, 0x7F),
    SSEMOV(MOVDQU, 0xF3, M128, 0x6F, 0x7F),
    SSE(ADDSS, 0xF3, XM32, 0x58),
    SSE(ADDSD, 0xF2, XM64, 0x58),
    SSE(SUBSS, 0xF3, XM32, 0x5C),
    SSE(SUBSD, 0xF2, XM64, 0x5C),
    SSE(MULSS, 0xF3, XM32, 0x59),
    SSE(MULSD, 0xF2, XM64, 0x59),
    SSE(DIVSS, 0xF3, XM32, 0x5E),
    SSE(DIVSD, 0xF2, XM64, 0x5E),
    SSE(SQRTSS, 0xF3, XM32, 0x51),
    SSE(SQRTSD, 0xF2, XM64, 0x51),
    ROW(CVTSI2SS, RM, X, RM32, NONE, 0xF3, 0, -1, 0x0F, 0x2A),
    ROW(CVTSI2SS, RM, X, RM64, NONE, 0xF3, 1, -1, 0x0F, 0x2A),
    ROW(CVTSI2SD, RM, X, RM32, NONE, 0xF2, 0, -1, 0x0F, 0x2A),
    ROW(CVTSI2SD, RM, X, RM64, NONE, 0xF2, 1, -1, 0x0F, 0x2A),
    ROW(CVTTSS2SI, RM, R32, XM32, NONE, 0xF3, 0, -1, 0x0F, 0x2C),
    ROW(CVTTSS2SI, RM, R64, XM32, NONE, 0xF3, 1, -1, 0x0F, 0x2C),
    ROW(CVTTSD2SI, RM, R32, XM64, NONE, 0xF2, 0, -1, 0x0F, 0x2C),
    ROW(CVTTSD2SI, RM, R64, XM64, NONE, 0xF2, 1, -1, 0x0F, 0x2C),
    SSE(CVTSS2SD, 0xF3, XM32, 0x5A),
    SSE(CVTSD2SS, 0xF2, XM64, 0x5A),
    SSE(UCOMISS, 0, XM32, 0x2E),
    SSE(UCOMISD, 0x66, XM64, 0x2E),
    SSE(PXOR, 0x66, XM128, 0xEF),
    SSE(XORPS, 0, XM128, 0x57),
    SSE(XORPD, 0x66, XM128, 0x57),
    SSE(ANDPS, 0, XM128, 0x54),
    SSE(ANDPD, 0x66, XM128, 0x54),
    SSE(UNPCKLPS, 0, XM128, 0x14),
    SSE(PUNPCKLQDQ, 0x66, XM128, 0x6C),
    ROW(SHUFPS, RM, X, XM128, U8, 0, 0, -1, 0x0F, 0xC6),
    ROW(STMXCSR, M, M32, NONE, NONE, 0, 0, 3, 0x0F, 0xAE),
    ROW(LDMXCSR, M, M32, NONE, NONE, 0, 0, 2, 0x0F, 0xAE),

    /* ---- x87 ---- */
    ROW(FLD, M, M32, NONE, NONE, 0, 0, 0, 0xD9),
    ROW(FLD, M, M64, NONE, NONE, 0, 0, 0, 0xDD),
    ROW(FLD, M, M80, NONE, NONE, 0, 0, 5, 0xDB),
    ROW(FLD, ST, STI, NONE, NONE, 0, 0, -1, 0xD9, 0xC0),
    ROW(FSTP, M, M32, NONE, NONE, 0, 0, 3, 0xD9),
    ROW(FSTP, M, M64, NONE, NONE, 0, 0, 3, 0xDD),
    ROW(FSTP, M, M80, NONE, NONE, 0, 0, 7, 0xDB),
    ROW(FSTP, ST, STI, NONE, NONE, 0, 0, -1, 0xDD, 0xD8),
    ROW(FILD, M, M16, NONE, NONE, 0, 0, 0, 0xDF),
    ROW(FILD, M, M32, NONE, NONE, 0, 0, 0, 0xDB),
    ROW(FILD, M, M64, NONE, NONE, 0, 0, 5, 0xDF),
    ROW(FISTP, M, M16, NONE, NONE, 0, 0, 3, 0xDF),
    ROW(FISTP, M, M32, NONE, NONE, 0, 0, 3, 0xDB),
    ROW(FISTP, M, M64, NONE, NONE, 0, 0, 7, 0xDF),
    ROW(FISTTP, M, M16, NONE, NONE, 0, 0, 1, 0xDF),
    ROW(FISTTP, M, M32, NONE, NONE, 0, 0, 1, 0xDB),
    ROW(FISTTP, M, M64, NONE, NONE, 0, 0, 1, 0xDD),
    X87P(FADDP, 0xC0),
    X87P(FMULP, 0xC8),
    X87P(FSUBRP, 0xE0),
    X87P(FSUBP, 0xE8),
    X87P(FDIVRP, 0xF0),
    X87P(FDIVP, 0xF8),
    ROW(FXCH, ST, STI, NONE, NONE, 0, 0, -1, 0xD9, 0xC8),
    ROW(FUCOMIP, ST, STI, NONE, NONE, 0, 0, -1, 0xDF, 0xE8),
    ROW(FNSTCW, M, M16, NONE, NONE, 0, 0, 7, 0xD9),
    ROW(FLDCW, M, M16, NONE, NONE, 0, 0, 5, 0xD9),
    ROW(FNINIT, NP, NONE, NONE, NONE, 0, 0, -1, 0xDB, 0xE3),
    ROW(FCHS, NP, NONE, NONE, NONE, 0, 0, -1, 0xD9, 0xE0),
    ROW(FLDZ, NP, NONE, NONE, NONE, 0, 0, -1, 0xD9, 0xEE),
    ROW(FLD1, NP, NONE, NONE, NONE, 0, 0, -1, 0xD9, 0xE8),
};
const size_t x86_nrows = sizeof x86_rows / sizeof x86_rows[0];
_Static_assert(sizeof x86_rows / sizeof x86_rows[0] <= 1024, "x86_enc.c indexes at most 1024 rows");

static const char *const op_names[] = {
    "mov",      "movzx",     "movsx",     "movsxd",   "lea",      "add",      "or",
    "adc",      "sbb",       "and",       "sub",      "xor",      "cmp",      "test",
    "imul",     "mul",       "div",       "idiv",     "neg",      "not",      "shl",
    "shr",      "sar",       "rol",       "ror",      "shld",     "shrd",     "set",
    "cmov",     "xchg",      "bt",        "cdq",      "cqo",      "push",     "pop",
    "call",     "jmp",       "j",         "ret",      "cld",      "nop",      "ud2",
    "int3",     "movd",      "movq",      "movss",    "movsd",    "movaps",   "movups",
    "movapd",   "movdqa",    "movdqu",    "addss",    "addsd",    "subss",    "subsd",
    "mulss",    "mulsd",     "divss",     "divsd",    "sqrtss",   "sqrtsd",   "cvtsi2ss",
    "cvtsi2sd", "cvttss2si", "cvttsd2si", "cvtss2sd", "cvtsd2ss", "ucomiss",  "ucomisd",
    "pxor",     "xorps",     "xorpd",     "andps",    "andpd",    "unpcklps", "punpcklqdq",
    "shufps",   "stmxcsr",   "ldmxcsr",   "fld",      "fstp",     "fild",     "fistp",
    "fisttp",   "faddp",     "fsubp",     "fsubrp",   "fmulp",    "fdivp",    "fdivrp",
    "fxch",     "fucomip",   "fnstcw",    "fldcw",    "fninit",   "fchs",     "fldz",
    "fld1",
};
_Static_assert(sizeof op_names / sizeof op_names[0] == X86_OP_COUNT, "op_names vs x86_op");

const char *x86_op_name(x86_op op) {
  return (unsigned)op < X86_OP_COUNT && op_names[op] ? op_names[op] : "?";
}

/* Capstone 4's spelling: b / ae / e / ne / be / a, not c / nc / z / nz. */
static const char *const cond_names[16] = {"o", "no", "b", "ae", "e", "ne", "be", "a",
                                           "s", "ns", "p", "np", "l", "ge", "le", "g"};
const char *x86_cond_name(x86_cond c) { return cond_names[c & 15]; }
