/* xi_prog.h - random straight-line programs of the JIT's table rows, for test_xi. */
#ifndef ABIFUZZ_TESTS_XI_PROG_H
#define ABIFUZZ_TESTS_XI_PROG_H

#include "x86_enc_internal.h"
#include "xi_testlib.h"

/* The data the programs address: RBX holds it (never an operand), memory operands are
 * [rbx + disp] within +-1900 bytes, or RIP-relative to the same range. Set by the test. */
static uint64_t prog_data;

/* Rows a program may use; uc_ok: Unicorn's results are the hardware's for it (test_xi_diff's
 * list of differences: no undefined flags, no MXCSR or x87 status). */
static bool prog_row(const x86_row *r, bool uc_ok) {
  switch (r->op) {
  case X86_PUSH:
  case X86_POP:
  case X86_CALL:
  case X86_JMP:
  case X86_JCC:
  case X86_RET:
  case X86_UD2:
  case X86_INT3:
  case X86_DIV:
  case X86_IDIV:
  case X86_LDMXCSR:
  case X86_FLDCW: return false;
  default: break;
  }
  if (!uc_ok) return true;
  switch (r->op) {
  case X86_MOV:
  case X86_MOVZX:
  case X86_MOVSX:
  case X86_MOVSXD:
  case X86_LEA:
  case X86_ADD:
  case X86_OR:
  case X86_ADC:
  case X86_SBB:
  case X86_AND:
  case X86_SUB:
  case X86_XOR:
  case X86_CMP:
  case X86_TEST:
  case X86_NEG:
  case X86_NOT:
  case X86_SETCC:
  case X86_CMOVCC:
  case X86_XCHG:
  case X86_CDQ:
  case X86_CQO:
  case X86_NOP:
  case X86_CLD:
  case X86_MOVD:
  case X86_MOVQ:
  case X86_MOVSS:
  case X86_MOVSD:
  case X86_MOVAPS:
  case X86_MOVUPS:
  case X86_MOVAPD:
  case X86_MOVDQA:
  case X86_MOVDQU:
  case X86_PXOR:
  case X86_XORPS:
  case X86_XORPD:
  case X86_ANDPS:
  case X86_ANDPD:
  case X86_UNPCKLPS:
  case X86_PUNPCKLQDQ:
  case X86_SHUFPS:
  case X86_STMXCSR:
  case X86_FNSTCW: return true;
  default: return false;
  }
}

/* Appends a random instance of a random allowed row to b; RBX is the data base (never an
 * operand), RSP untouched; *depth tracks the x87 stack so that it never over- or underflows. */
static bool prog_inst(x86_buf *b, bool uc_ok, int *depth, uint64_t code_end_guess) {
  const x86_row *r;
  do
    r = &x86_rows[trnd() % x86_nrows];
  while (!prog_row(r, uc_ok));
  x86_inst in = {.op = r->op, .cond = r->cc ? (uint8_t)(trnd() % 16) : 0};
  int nops = 0, d = *depth;
  /* x87 stack effects */
  int push = 0, pop = 0, need = 0;
  switch (r->op) {
  case X86_FLD: push = 1, need = r->form[0] == XF_STI ? 1 : 0; break;
  case X86_FILD:
  case X86_FLDZ:
  case X86_FLD1: push = 1; break;
  case X86_FSTP:
  case X86_FISTP:
  case X86_FISTTP:
  case X86_FADDP:
  case X86_FSUBP:
  case X86_FSUBRP:
  case X86_FMULP:
  case X86_FDIVP:
  case X86_FDIVRP:
  case X86_FUCOMIP: pop = 1, need = 1; break;
  case X86_FXCH:
  case X86_FCHS: need = 1; break;
  default: break;
  }
  if (push && d >= 8) return false;
  if (d < need) return false;
  for (int k = 0; k < 3 && r->form[k] != XF_NONE; k++, nops++) {
    int f = r->form[k], sz = x86_form_size(f);
    bool mem_ = false;
    switch (f) {
    case XF_RM8:
    case XF_RM16:
    case XF_RM32:
    case XF_RM64: mem_ = trnd() % 3 == 0; /* fall through */
    case XF_R8:
    case XF_R16:
    case XF_R32:
    case XF_R64:
      if (!mem_) {
        int reg;
        do
          reg = (int)(trnd() % 16);
        while (reg == AF_RSP || reg == AF_RBX);
        in.o[k] = x86_gpr((af_reg)reg, sz);
        break;
      } /* fall through */
    case XF_M:
    case XF_M8:
    case XF_M16:
    case XF_M32:
    case XF_M64:
    case XF_M80:
    case XF_M128:
    memop : {
      int32_t disp = (int32_t)(trnd() % 3800) - 1900;
      if (sz == 16 && in.op != X86_MOVUPS && in.op != X86_MOVDQU) disp &= ~15;
      if (trnd() % 8 == 0) { /* rip-relative into the data (its distance is fixed up below) */
        uint64_t at = prog_data + (uint64_t)(int64_t)disp;
        in.o[k] = x86_rip(sz, (int32_t)(at - code_end_guess));
      } else {
        in.o[k] = x86_base(sz, AF_RBX, disp);
      }
      break;
    }
    case XF_X: in.o[k] = x86_xmm((af_reg)(AF_XMM0 + trnd() % 16)); break;
    case XF_XM32:
    case XF_XM64:
    case XF_XM128:
      if (trnd() % 3 == 0) goto memop;
      in.o[k] = x86_xmm((af_reg)(AF_XMM0 + trnd() % 16));
      break;
    case XF_I8: in.o[k] = x86_imm((int8_t)trnd()); break;
    case XF_I16: in.o[k] = x86_imm((int16_t)trnd()); break;
    case XF_I32: in.o[k] = x86_imm((int32_t)trnd()); break;
    case XF_I64: in.o[k] = x86_imm((int64_t)trnd()); break;
    case XF_U8: in.o[k] = x86_imm((int64_t)(trnd() % 256)); break;
    case XF_CL: in.o[k] = x86_gpr(AF_RCX, 1); break;
    case XF_STI: in.o[k] = x86_st((int)(trnd() % (unsigned)(d ? d : 1))); break;
    default: return false;
    }
  }
  in.nops = (uint8_t)nops;
  /* bt with a register offset and memory addresses far from the operand: register form only */
  if (in.op == X86_BT && r->enc == XE_MR && in.o[0].kind == X86_OPND_MEM) return false;
  if (x86_match(&in) != r) return false;
  uint8_t bytes[15];
  size_t len;
  if (x86_encode(&in, bytes, &len) != AF_OK) return false;
  for (int k = 0; k < nops; k++)
    if (in.o[k].kind == X86_OPND_MEM && in.o[k].base == X86_BASE_RIP) {
      /* disp was computed from code_end_guess = where this instruction starts */
      in.o[k].disp -= (int32_t)len;
      x86_encode(&in, bytes, &len);
    }
  if (in.op == X86_FNINIT) d = 0;
  *depth = d + push - pop;
  return x86_emit_bytes(b, bytes, len) == AF_OK;
}

/* An instruction as the JIT's code mostly is (doc/benchmarks.md's code dumps: ~46% mov with
 * memory, ~15% movabs, ~13% mov with an immediate or a register, ~6% lea, ~5% movups, ~3%
 * movss/movsd): true if it emitted one (else the caller takes a random row). */
static bool jit_inst(x86_buf *b) {
  static const af_reg regs[] = {AF_RAX, AF_RCX, AF_RDX, AF_RSI, AF_RDI, AF_R8,
                                AF_R9,  AF_R10, AF_R11, AF_R12, AF_R13};
  af_reg r = regs[trnd() % 11], r2 = regs[trnd() % 11];
  int32_t disp = (int32_t)(8 * (trnd() % 400)) - 1600;
  unsigned k = (unsigned)(trnd() % 100);
  if (k < 23) return x86_emit2(b, X86_MOV, x86_base(8, AF_RBX, disp), x86_gpr(r, 8)) == AF_OK;
  if (k < 46) return x86_emit2(b, X86_MOV, x86_gpr(r, 8), x86_base(8, AF_RBX, disp)) == AF_OK;
  if (k < 61) return x86_emit_movimm(b, r, 8, (int64_t)trnd() | (1ll << 40)) == AF_OK;
  if (k < 68) return x86_emit2(b, X86_MOV, x86_gpr(r, 4), x86_imm((int32_t)trnd())) == AF_OK;
  if (k < 74) return x86_emit2(b, X86_MOV, x86_gpr(r, 8), x86_gpr(r2, 8)) == AF_OK;
  if (k < 80) return x86_emit2(b, X86_LEA, x86_gpr(r, 8), x86_base(0, AF_RBX, disp)) == AF_OK;
  if (k < 83)
    return x86_emit2(b, X86_MOVUPS, x86_base(16, AF_RBX, disp),
                     x86_xmm((af_reg)(AF_XMM0 + trnd() % 16))) == AF_OK;
  if (k < 85)
    return x86_emit2(b, X86_MOVUPS, x86_xmm((af_reg)(AF_XMM0 + trnd() % 16)),
                     x86_base(16, AF_RBX, disp)) == AF_OK;
  if (k < 88) {
    bool ss = trnd() % 2;
    return x86_emit2(b, ss ? X86_MOVSS : X86_MOVSD, x86_xmm((af_reg)(AF_XMM0 + trnd() % 16)),
                     x86_base(ss ? 4 : 8, AF_RBX, disp)) == AF_OK;
  }
  return false;
}

/* A random program of n instructions at code (for the native runner: its own pages). */
static bool jit_mix; /* prog_build: mostly jit_inst's instructions */
static size_t prog_build(uint8_t *code, size_t cap, uint64_t code_a, int n, bool uc_ok,
                         int depth0) {
  x86_buf b;
  x86_buf_init_fixed(&b, code, cap);
  int depth = depth0;
  for (int i = 0; i < n;) {
    if ((jit_mix && jit_inst(&b)) || prog_inst(&b, uc_ok, &depth, code_a + b.len)) i++;
    if (b.err != AF_OK) return 0;
  }
  return b.len;
}

static void rnd_data(uint8_t *d, size_t n) {
  for (size_t i = 0; i + 8 <= n; i += 8) {
    uint64_t v = trnd();
    if (trnd() % 4 == 0) v = (v & 0x800fffffffffffffull) | (uint64_t)(0x3f0 + trnd() % 32) << 52;
    if (trnd() % 8 == 0) v = 0x7ff8000000000000ull | (v & 0xffff);
    memcpy(d + i, &v, 8);
  }
}

static void rnd_tstate(tstate *s, int depth) {
  memset(s, 0, sizeof *s);
  for (int i = 0; i < 16; i++)
    s->gpr[i] = trnd() >> (trnd() % 64);
  s->gpr[AF_RBX] = prog_data;
  s->rflags = 0x202 | (trnd() & 0x8d5);
  rnd_data(s->fx + FX_XMM, 256);
  uint32_t mx = 0x1F80 | (uint32_t)(trnd() % 4) << 13 | (trnd() % 2 ? 0x8040 : 0);
  memcpy(s->fx + FX_MXCSR, &mx, 4);
  uint32_t mxmask = 0xFFFF;
  memcpy(s->fx + 28, &mxmask, 4);
  uint16_t cw = (uint16_t)(0x7F | (trnd() % 4) << 10 | (trnd() % 2 ? 0x300 : 0x200));
  memcpy(s->fx + FX_FCW, &cw, 2);
  unsigned top = (unsigned)(trnd() % 8);
  uint16_t sw = (uint16_t)(top << 11);
  memcpy(s->fx + FX_FSW, &sw, 2);
  uint8_t ftw = 0;
  for (int i = 0; i < 8; i++) {
    uint64_t m = trnd() | 1ull << 63;
    uint16_t e = (uint16_t)(0x3fff + trnd() % 64 - 32);
    memcpy(s->fx + FX_ST + 16 * i, &m, 8), memcpy(s->fx + FX_ST + 16 * i + 8, &e, 2);
    if (i < depth) ftw |= (uint8_t)(1u << ((top + (unsigned)i) & 7));
  }
  s->fx[FX_FTW] = ftw;
}

#endif
