/* x86.h - the table-driven x86-64 encoder (private to jit/): operands, instructions, buffer. */
#ifndef ABIFUZZ_JIT_X86_H
#define ABIFUZZ_JIT_X86_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gen.h"

/* Instructions. One op covers every operand form and width of a mnemonic; the encoder picks
 * the table row (x86_table.c) from the operands. SETCC / CMOVCC / JCC take x86_inst.cond. */
/* clang-format off */
typedef enum {
  /* integer */
  X86_MOV, X86_MOVZX, X86_MOVSX, X86_MOVSXD, X86_LEA,
  X86_ADD, X86_OR, X86_ADC, X86_SBB, X86_AND, X86_SUB, X86_XOR, X86_CMP, /* ALU: /0../7 */
  X86_TEST, X86_IMUL, X86_MUL, X86_DIV, X86_IDIV, X86_NEG, X86_NOT,
  X86_SHL, X86_SHR, X86_SAR, X86_ROL, X86_ROR, X86_SHLD, X86_SHRD,
  X86_SETCC, X86_CMOVCC, X86_XCHG, X86_BT, X86_CDQ, X86_CQO,
  X86_PUSH, X86_POP, X86_CALL, X86_JMP, X86_JCC, X86_RET, X86_CLD, X86_NOP, X86_UD2, X86_INT3,
  /* SSE / SSE2 */
  X86_MOVD, X86_MOVQ, X86_MOVSS, X86_MOVSD, X86_MOVAPS, X86_MOVUPS, X86_MOVAPD, X86_MOVDQA,
  X86_MOVDQU, X86_ADDSS, X86_ADDSD, X86_SUBSS, X86_SUBSD, X86_MULSS, X86_MULSD, X86_DIVSS,
  X86_DIVSD, X86_SQRTSS, X86_SQRTSD, X86_CVTSI2SS, X86_CVTSI2SD, X86_CVTTSS2SI, X86_CVTTSD2SI,
  X86_CVTSS2SD, X86_CVTSD2SS, X86_UCOMISS, X86_UCOMISD, X86_PXOR, X86_XORPS, X86_XORPD,
  X86_ANDPS, X86_ANDPD, X86_UNPCKLPS, X86_PUNPCKLQDQ, X86_SHUFPS, X86_STMXCSR, X86_LDMXCSR,
  /* x87 */
  X86_FLD, X86_FSTP, X86_FILD, X86_FISTP, X86_FISTTP, X86_FADDP, X86_FSUBP, X86_FSUBRP,
  X86_FMULP, X86_FDIVP, X86_FDIVRP, X86_FXCH, X86_FUCOMIP, X86_FNSTCW, X86_FLDCW, X86_FNINIT,
  X86_FCHS, X86_FLDZ, X86_FLD1,
  X86_OP_COUNT
} x86_op;

/* Condition codes: the low nibble of Jcc/SETcc/CMOVcc (Intel SDM Vol. 2, Appendix B.1.4.7). */
typedef enum {
  X86_CC_O, X86_CC_NO, X86_CC_B, X86_CC_AE, X86_CC_E, X86_CC_NE, X86_CC_BE, X86_CC_A,
  X86_CC_S, X86_CC_NS, X86_CC_P, X86_CC_NP, X86_CC_L, X86_CC_GE, X86_CC_LE, X86_CC_G
} x86_cond;
/* clang-format on */

typedef enum {
  X86_OPND_NONE,
  X86_OPND_GPR, /* reg: AF_RAX..AF_R15, size 1/2/4/8 */
  X86_OPND_XMM, /* reg: AF_XMM0..AF_XMM15 */
  X86_OPND_MEM, /* size: bytes accessed (1,2,4,8,10,16; 0 = any, for lea) */
  X86_OPND_IMM, /* imm */
  X86_OPND_REL, /* imm: displacement from the END of the instruction; size 1 or 4 */
  X86_OPND_ST   /* reg: x87 stack slot st(i), 0..7 */
} x86_opnd_kind;

#define X86_BASE_RIP (-2) /* x86_mem base: [rip + disp32] */

typedef struct {
  uint8_t kind;  /* x86_opnd_kind */
  uint8_t size;  /* bytes, see the kinds */
  int8_t reg;    /* GPR / XMM: an af_reg; ST: 0..7 */
  int8_t base;   /* MEM: a GPR af_reg, AF_REG_NONE or X86_BASE_RIP */
  int8_t index;  /* MEM: a GPR af_reg other than rsp, or AF_REG_NONE */
  uint8_t scale; /* MEM: 1, 2, 4 or 8 */
  int32_t disp;  /* MEM */
  int64_t imm;   /* IMM (any width; matched modulo the operation width) / REL */
} x86_operand;

typedef struct {
  uint16_t op;      /* x86_op */
  uint8_t cond;     /* x86_cond, for SETCC / CMOVCC / JCC */
  uint8_t nops;     /* 0..3 */
  x86_operand o[3]; /* Intel order: destination first */
} x86_inst;

/* Operand and instruction constructors (zero operands past nops). Inline: the lowering makes
 * one per operand of every instruction it emits. */
static inline x86_operand x86_gpr(af_reg r, int size) { /* size 1, 2, 4 or 8 */
  return (x86_operand){.kind = X86_OPND_GPR, .size = (uint8_t)size, .reg = (int8_t)r};
}
static inline x86_operand x86_xmm(af_reg r) { /* AF_XMM0..AF_XMM15 */
  return (x86_operand){.kind = X86_OPND_XMM, .size = 16, .reg = (int8_t)r};
}
static inline x86_operand x86_mem(int size, af_reg base, af_reg index, int scale, int32_t disp) {
  return (x86_operand){.kind = X86_OPND_MEM,
                       .size = (uint8_t)size,
                       .base = (int8_t)base,
                       .index = (int8_t)index,
                       .scale = (uint8_t)scale,
                       .disp = disp};
}
static inline x86_operand x86_base(int size, af_reg base, int32_t disp) { /* [base + disp] */
  return x86_mem(size, base, AF_REG_NONE, 1, disp);
}
static inline x86_operand x86_rip(int size, int32_t disp) {
  return x86_mem(size, (af_reg)X86_BASE_RIP, AF_REG_NONE, 1, disp);
}
static inline x86_operand x86_imm(int64_t v) {
  return (x86_operand){.kind = X86_OPND_IMM, .imm = v};
}
static inline x86_operand x86_rel(int size, int32_t disp) {
  return (x86_operand){.kind = X86_OPND_REL, .size = (uint8_t)size, .imm = disp};
}
static inline x86_operand x86_st(int i) {
  return (x86_operand){.kind = X86_OPND_ST, .reg = (int8_t)i};
}

static inline x86_inst x86_inst0(x86_op op) { return (x86_inst){.op = (uint16_t)op}; }
static inline x86_inst x86_inst1(x86_op op, x86_operand a) {
  return (x86_inst){.op = (uint16_t)op, .nops = 1, .o = {a}};
}
static inline x86_inst x86_inst2(x86_op op, x86_operand a, x86_operand b) {
  return (x86_inst){.op = (uint16_t)op, .nops = 2, .o = {a, b}};
}
static inline x86_inst x86_inst3(x86_op op, x86_operand a, x86_operand b, x86_operand c) {
  return (x86_inst){.op = (uint16_t)op, .nops = 3, .o = {a, b, c}};
}

/* ---- the table (x86_table.c) -------------------------------------------- */
/* Operand classes of a row; see the block comment in x86_table.c. */
/* clang-format off */
enum {
  XF_NONE, XF_R8, XF_R16, XF_R32, XF_R64, XF_RM8, XF_RM16, XF_RM32, XF_RM64,
  XF_M, XF_M8, XF_M16, XF_M32, XF_M64, XF_M80, XF_M128,
  XF_X, XF_XM32, XF_XM64, XF_XM128,
  XF_I8, XF_I16, XF_I32, XF_I64, XF_U8, XF_CL, XF_REL8, XF_REL32, XF_STI,
  XF_COUNT
};
/* clang-format on */
/* Encodings: which operand goes where. */
enum {
  XE_NP, /* opcode only */
  XE_RM, /* ModRM.reg = o[0], ModRM.rm = o[1] */
  XE_MR, /* ModRM.rm = o[0], ModRM.reg = o[1] */
  XE_M,  /* ModRM.rm = o[0], ModRM.reg = /digit */
  XE_O,  /* register o[0] added to the last opcode byte */
  XE_D,  /* relative branch o[0] */
  XE_ST  /* x87 st(i) o[0] added to the last opcode byte */
};

typedef struct {
  uint16_t op;
  uint8_t enc;
  uint8_t form[3]; /* XF_ classes, Intel order */
  uint8_t pfx;     /* 0, 0x66, 0xF2, 0xF3 */
  uint8_t w;       /* REX.W */
  uint8_t nopc;
  uint8_t opc[3];
  int8_t digit;     /* ModRM.reg for XE_M */
  uint8_t cc;       /* 1: the condition code is added to the last opcode byte */
  const char *name; /* mnemonic override (movabs), or NULL */
} x86_row;

extern const x86_row x86_rows[];
extern const size_t x86_nrows;
const char *x86_op_name(x86_op op); /* "add"; "set"/"cmov"/"j" for the cc ops */
const char *x86_cond_name(x86_cond c);

/* ---- the buffer ----------------------------------------------------------- */
typedef struct {
  size_t pos; /* where the rel field starts */
  int size;   /* 1 or 4 */
  int label;
} x86_fixup;

typedef struct {
  uint8_t *data;
  size_t len, cap;
  bool fixed;    /* data is caller-owned: growing past cap is AF_ERR_LIMIT */
  af_status err; /* sticky: the first error of any emit */
  long *labels;  /* label -> offset, -1 while unbound */
  int nlabels, caplabels;
  x86_fixup *fixups;
  int nfixups, capfixups;
  /* X86_BUF_BORROWED_*: which of data, labels, fixups are the caller's memory (growing copies
   * them to the heap; x86_buf_free leaves them) */
  uint8_t borrowed;
} x86_buf;
#define X86_BUF_BORROWED_DATA   1u
#define X86_BUF_BORROWED_LABELS 2u
#define X86_BUF_BORROWED_FIXUPS 4u

void x86_buf_init(x86_buf *b);                                 /* growable (malloc) */
void x86_buf_init_fixed(x86_buf *b, uint8_t *mem, size_t cap); /* caller's memory */
/* Growable, but starting in the caller's memory (code bytes, labels, fixups; e.g. on its
 * stack): nothing allocated until one of them outgrows it. */
void x86_buf_init_borrowed(x86_buf *b, uint8_t *mem, size_t cap, long *labels, int caplabels,
                           x86_fixup *fixups, int capfixups);
void x86_buf_free(x86_buf *b);
/* x86_buf_reset, with the code bytes from now on at the caller's mem (cap bytes; e.g. the code
 * memory's stage, codemem_next): growing past cap copies them to the heap, as for a borrowed
 * buffer. The code memory b held before is freed if it was b's own. */
void x86_buf_rebind(x86_buf *b, uint8_t *mem, size_t cap);
/* Empties b for the next function (no code, labels, fixups or error), keeping its memory: a
 * compile lowers every function into one buffer. */
void x86_buf_reset(x86_buf *b);

/* Encodes one instruction into out (at most 15 bytes); *len gets its length.
 * AF_ERR_UNSUPPORTED: no table row for these operands; AF_ERR_INVALID: malformed operand
 * (rsp as index, bad scale, register out of range). */
af_status x86_encode(const x86_inst *in, uint8_t out[15], size_t *len);
/* The row x86_encode would use, or NULL. */
const x86_row *x86_match(const x86_inst *in);
/* Encodes and appends; errors are also kept in b->err (the first one sticks). The bytes of
 * data between len and cap are scratch: an emit may write there (whole fields are stored). */
af_status x86_emit(x86_buf *b, const x86_inst *in);
/* x86_emit of an instruction built from the arguments. Inline: the lowering calls them for
 * nearly every instruction, and inlined the operands are built in place in the x86_inst
 * (out of line, each 24-byte operand was passed on the stack and copied again). */
static inline af_status x86_emit0(x86_buf *b, x86_op op) {
  x86_inst i = x86_inst0(op);
  return x86_emit(b, &i);
}
static inline af_status x86_emit1(x86_buf *b, x86_op op, x86_operand a) {
  x86_inst i = x86_inst1(op, a);
  return x86_emit(b, &i);
}
af_status x86_emit_bytes(x86_buf *b, const void *p, size_t n);
/* mov reg, v in the shortest form: mov r32, imm32 when v is a zero-extended 32-bit value (for
 * size 8 too: writing r32 clears the upper half), C7 /0 when it sign-extends from 32 bits,
 * else movabs. size: 1, 2, 4 or 8. */
af_status x86_emit_movimm(x86_buf *b, af_reg r, int size, int64_t v);

/* The direct emitters of the most frequent forms (inline, no table: x86_direct.h). */
#include "x86_direct.h"

/* x86_emit of a two-operand instruction. With the op and the operands' kinds known at the call
 * site (the constructors above), the forms x86_direct.h has emitters for fold to them: mov
 * between a GPR and [base + disp], lea r64, the xmm moves to and from memory, two-register
 * ALU ops, ALU ops with an immediate or a memory source, scalar SSE arithmetic from memory,
 * extending loads, shifts by cl, pxor / xorps, movq r64, xmm, immediates to memory. Everything
 * else builds the x86_inst for x86_emit. */
static inline __attribute__((always_inline)) af_status x86_emit2(x86_buf *b, x86_op op,
                                                                 x86_operand a, x86_operand c) {
  int plain_c = c.kind == X86_OPND_MEM && c.index == AF_REG_NONE && c.scale == 1;
  int plain_a = a.kind == X86_OPND_MEM && a.index == AF_REG_NONE && a.scale == 1;
  if (op == X86_MOV && a.kind == X86_OPND_GPR && plain_c && c.size == a.size)
    return xd_load(b, (af_reg)a.reg, a.size, (af_reg)c.base, c.disp);
  if (op == X86_MOV && plain_a && c.kind == X86_OPND_GPR && a.size == c.size)
    return xd_store(b, (af_reg)a.base, a.disp, (af_reg)c.reg, c.size);
  if (op == X86_LEA && a.kind == X86_OPND_GPR && a.size == 8 && plain_c && c.size == 0)
    return xd_lea(b, (af_reg)a.reg, (af_reg)c.base, c.disp);
  if ((op == X86_MOVSS || op == X86_MOVSD || op == X86_MOVUPS || op == X86_MOVQ ||
       op == X86_ADDSS || op == X86_ADDSD || op == X86_MULSS || op == X86_MULSD ||
       op == X86_SUBSS || op == X86_SUBSD) &&
      a.kind == X86_OPND_XMM && a.size == 16 && plain_c)
    return xd_xmm_mem(b, op, 0, (af_reg)a.reg, (af_reg)c.base, c.disp, c.size);
  if ((op == X86_PXOR || op == X86_XORPS) && a.kind == X86_OPND_XMM && a.size == 16 &&
      c.kind == X86_OPND_XMM && c.size == 16)
    return xd_xmm_rr(b, op, (af_reg)a.reg, (af_reg)c.reg);
  if ((op == X86_MOVZX || op == X86_MOVSX || op == X86_MOVSXD) && a.kind == X86_OPND_GPR && plain_c)
    return xd_load_ext(b, op, (af_reg)a.reg, a.size, (af_reg)c.base, c.disp, c.size);
  if ((op == X86_ADD || op == X86_OR || op == X86_AND || op == X86_SUB || op == X86_XOR ||
       op == X86_CMP || op == X86_ADC || op == X86_SBB || op == X86_IMUL) &&
      a.kind == X86_OPND_GPR && plain_c && c.size == a.size)
    return xd_alu_rm(b, op, a.size, (af_reg)a.reg, (af_reg)c.base, c.disp);
  if ((op == X86_SHL || op == X86_SHR || op == X86_SAR) && a.kind == X86_OPND_GPR &&
      c.kind == X86_OPND_GPR && c.reg == AF_RCX && c.size == 1)
    return xd_shift_cl(b, op, a.size, (af_reg)a.reg);
  if (op == X86_MOVQ && a.kind == X86_OPND_GPR && a.size == 8 && c.kind == X86_OPND_XMM &&
      c.size == 16)
    return xd_movq_gx(b, (af_reg)a.reg, (af_reg)c.reg);
  if ((op == X86_MOV || op == X86_CMP) && plain_a && c.kind == X86_OPND_IMM)
    return xd_mem_imm(b, op, a.size, (af_reg)a.base, a.disp, c.imm);
  if ((op == X86_MOVSS || op == X86_MOVSD || op == X86_MOVUPS || op == X86_MOVQ) && plain_a &&
      c.kind == X86_OPND_XMM && c.size == 16)
    return xd_xmm_mem(b, op, 1, (af_reg)c.reg, (af_reg)a.base, a.disp, a.size);
  if ((op == X86_MOV || op == X86_ADD || op == X86_OR || op == X86_AND || op == X86_SUB ||
       op == X86_XOR || op == X86_CMP || op == X86_TEST || op == X86_IMUL) &&
      a.kind == X86_OPND_GPR && c.kind == X86_OPND_GPR && a.size == c.size &&
      (a.size == 4 || a.size == 8))
    return xd_rr(b, op, a.size, (af_reg)a.reg, (af_reg)c.reg);
  if ((op == X86_ADD || op == X86_OR || op == X86_AND || op == X86_SUB || op == X86_XOR ||
       op == X86_CMP) &&
      a.kind == X86_OPND_GPR && c.kind == X86_OPND_IMM && (a.size == 4 || a.size == 8))
    return xd_alu_imm(b, op, a.size, (af_reg)a.reg, c.imm);
  x86_inst i = x86_inst2(op, a, c);
  return x86_emit(b, &i);
}
static inline af_status x86_emit3(x86_buf *b, x86_op op, x86_operand a, x86_operand c,
                                  x86_operand d) {
  x86_inst i = x86_inst3(op, a, c, d);
  return x86_emit(b, &i);
}
static inline af_status x86_emitcc(x86_buf *b, x86_op op, x86_cond cc, int nops, x86_operand a,
                                   x86_operand c) {
  if (op == X86_SETCC && nops == 1 && a.kind == X86_OPND_GPR && a.size == 1)
    return xd_setcc(b, cc, (af_reg)a.reg); /* the table's bytes, without it */
  if (op == X86_CMOVCC && nops == 2 && a.kind == X86_OPND_GPR && c.kind == X86_OPND_GPR &&
      a.size == c.size)
    return xd_cmov(b, cc, a.size, (af_reg)a.reg, (af_reg)c.reg);
  x86_inst i = nops == 1 ? x86_inst1(op, a) : x86_inst2(op, a, c);
  i.cond = (uint8_t)cc;
  return x86_emit(b, &i);
}
af_status x86_align(x86_buf *b, size_t align); /* pads with multi-byte-free nops (0x90) */

/* Labels: forward branches take rel32 and are patched at bind; a branch to a label that is
 * already bound takes rel8 when it reaches. x86_buf_finish fails if a label stays unbound. */
int x86_label(x86_buf *b); /* new label id, or -1 (b->err set) */
af_status x86_bind(x86_buf *b, int label);
af_status x86_jmp_label(x86_buf *b, int label);
af_status x86_jcc_label(x86_buf *b, x86_cond cc, int label);
af_status x86_call_label(x86_buf *b, int label);
af_status x86_buf_finish(x86_buf *b);

/* Intel syntax exactly as Capstone 4 prints it (mnemonic, a space, operands); branch targets
 * are printed as Capstone does for an instruction at address 0. Returns the length written
 * (like snprintf) or -1 if the instruction does not encode. */
int x86_format(const x86_inst *in, char *buf, size_t n);

#endif
