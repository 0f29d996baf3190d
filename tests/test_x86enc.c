/* test_x86enc.c - golden tests of the x86-64 encoder: every table row swept and checked
 * through Capstone both ways (bytes -> text, Capstone detail -> bytes), plus SDM byte tables. */
#include <capstone/capstone.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "x86.h"

static csh cs;
static cs_insn *insn;
static long n_encoded, n_exact, n_textsame, n_rows_hit;

/* ---- Capstone helpers ------------------------------------------------------ */
static const char *const gpr_names[4][16] = {
    {"al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil", "r8b", "r9b", "r10b", "r11b", "r12b",
     "r13b", "r14b", "r15b"},
    {"ax", "cx", "dx", "bx", "sp", "bp", "si", "di", "r8w", "r9w", "r10w", "r11w", "r12w", "r13w",
     "r14w", "r15w"},
    {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "r8d", "r9d", "r10d", "r11d", "r12d",
     "r13d", "r14d", "r15d"},
    {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13",
     "r14", "r15"},
};

/* Capstone register -> operand, by name (independent of the encoder's tables). */
static bool reg_from_cs(unsigned reg, x86_operand *o) {
  const char *nm = cs_reg_name(cs, reg);
  if (!nm) return false;
  for (int s = 0; s < 4; s++)
    for (int r = 0; r < 16; r++)
      if (!strcmp(nm, gpr_names[s][r])) {
        *o = x86_gpr((af_reg)r, 1 << s);
        return true;
      }
  int k;
  if (sscanf(nm, "xmm%d", &k) == 1) return *o = x86_xmm((af_reg)(AF_XMM0 + k)), true;
  if (sscanf(nm, "st(%d)", &k) == 1 || sscanf(nm, "st%d", &k) == 1) return *o = x86_st(k), true;
  return false;
}

static int base_from_cs(unsigned reg) {
  if (reg == X86_REG_INVALID) return AF_REG_NONE;
  if (reg == X86_REG_RIP) return X86_BASE_RIP;
  x86_operand o;
  return reg_from_cs(reg, &o) && o.kind == X86_OPND_GPR && o.size == 8 ? o.reg : -100;
}

/* Capstone mnemonic -> x86_op and condition. */
static bool op_from_mnemonic(const char *m, x86_inst *in) {
  if (!strcmp(m, "movabs")) return in->op = X86_MOV, true;
  for (int op = 0; op < X86_OP_COUNT; op++) {
    const char *nm = x86_op_name((x86_op)op);
    if (op == X86_SETCC || op == X86_CMOVCC || op == X86_JCC) {
      size_t l = strlen(nm);
      if (strncmp(m, nm, l)) continue;
      for (int c = 0; c < 16; c++)
        if (!strcmp(m + l, x86_cond_name((x86_cond)c))) {
          in->op = (uint16_t)op, in->cond = (uint8_t)c;
          return true;
        }
    } else if (!strcmp(m, nm)) {
      in->op = (uint16_t)op;
      return true;
    }
  }
  return false;
}

/* Rebuilds an x86_inst from Capstone's detail of the decoded instruction. */
static bool inst_from_cs(const cs_insn *ci, x86_inst *in) {
  memset(in, 0, sizeof *in);
  if (!op_from_mnemonic(ci->mnemonic, in)) return false;
  const cs_x86 *x = &ci->detail->x86;
  bool branch = in->op == X86_CALL || in->op == X86_JMP || in->op == X86_JCC;
  in->nops = x->op_count;
  for (int k = 0; k < x->op_count; k++) {
    const cs_x86_op *o = &x->operands[k];
    x86_operand *d = &in->o[k];
    switch (o->type) {
    case X86_OP_REG:
      if (!reg_from_cs(o->reg, d)) return false;
      break;
    case X86_OP_IMM:
      /* Branch targets come absolute (address 0): back to end-relative displacements. */
      if (branch)
        *d = x86_rel(ci->size == 2 ? 1 : 4, (int32_t)(o->imm - ci->size));
      else
        *d = x86_imm(o->imm);
      break;
    case X86_OP_MEM: {
      int b = base_from_cs(o->mem.base), i = base_from_cs(o->mem.index);
      if (b == -100 || i == -100 || i == X86_BASE_RIP) return false;
      *d = x86_mem(in->op == X86_LEA ? 0 : o->size, (af_reg)b, (af_reg)i, o->mem.scale,
                   (int32_t)o->mem.disp);
      break;
    }
    default: return false;
    }
  }
  return true;
}

static void cs_text(const cs_insn *ci, char *buf, size_t n) {
  snprintf(buf, n, "%s%s%s", ci->mnemonic, ci->op_str[0] ? " " : "", ci->op_str);
}

static bool decode(const uint8_t *p, size_t len) {
  const uint8_t *code = p;
  size_t size = len;
  uint64_t addr = 0;
  return cs_disasm_iter(cs, &code, &size, &addr, insn);
}

static void hex(const uint8_t *p, size_t n, char *out) {
  for (size_t i = 0; i < n; i++)
    sprintf(out + 3 * i, "%02x ", p[i]);
  if (n)
    out[3 * n - 1] = 0;
  else
    out[0] = 0;
}

/* One encoding through both directions. */
static void check_one(const x86_inst *in) {
  uint8_t b[15], b2[15];
  size_t n, n2;
  char want[256], got[256], hx[64];
  if (x86_encode(in, b, &n) != AF_OK) {
    CHECKF(0, "does not encode: op %s", x86_op_name((x86_op)in->op));
    return;
  }
  n_encoded++;
  x86_format(in, want, sizeof want);
  hex(b, n, hx);
  /* (a) bytes -> Capstone: exact length, same text as x86_format. */
  if (!decode(b, n)) {
    CHECKF(0, "Capstone cannot decode %s (%s)", hx, want);
    return;
  }
  cs_text(insn, got, sizeof got);
  if (insn->size != n || strcmp(got, want)) {
    CHECKF(0, "%s: Capstone says '%s' (%u bytes), x86_format '%s' (%zu bytes)", hx, got,
           (unsigned)insn->size, want, n);
    return;
  }
  check_passed++;
  /* (b) Capstone detail -> x86_inst -> bytes: identical, or the same text. */
  x86_inst back;
  if (!inst_from_cs(insn, &back) || x86_encode(&back, b2, &n2) != AF_OK) {
    CHECKF(0, "%s (%s): Capstone's detail does not re-encode", hx, got);
    return;
  }
  if (n2 == n && !memcmp(b, b2, n)) {
    n_exact++;
    check_passed++;
    return;
  }
  char again[256];
  x86_format(&back, again, sizeof again);
  CHECKF(!strcmp(again, want), "%s (%s): re-encoded as '%s'", hx, want, again);
  n_textsame++;
}

/* ---- the sweep -------------------------------------------------------------- */
#define MAXC 4096

static const int32_t disps[] = {0, 0x10, -8, -0x80, 0x80, 0x12345678, -0x80000000};
static const af_reg idxs[] = {AF_REG_NONE, AF_RAX, AF_RBP, AF_RDI, AF_R8, AF_R12, AF_R13, AF_R15};

static int mem_list(int size, bool full, x86_operand *out) {
  int n = 0;
  if (!full) {
    out[n++] = x86_mem(size, AF_RBP, AF_REG_NONE, 1, -8);
    out[n++] = x86_mem(size, AF_R12, AF_R13, 8, 0x100);
    return n;
  }
  for (int d = 0; d < (int)(sizeof disps / sizeof *disps); d++) {
    out[n++] = x86_rip(size, disps[d]);
    for (int b = -1; b < 16; b++)
      for (int i = 0; i < (int)(sizeof idxs / sizeof *idxs); i++)
        for (int s = 1; s <= 8; s *= 2) {
          if (idxs[i] == AF_REG_NONE && s > 1) continue;
          out[n++] = x86_mem(size, (af_reg)b, idxs[i], s, disps[d]);
        }
  }
  return n;
}

static int gpr_list(int size, bool full, x86_operand *out) {
  int n = 0;
  for (int r = 0; r < 16; r++)
    if (full || r == 0 || r == 15 || (size == 1 && r == 6)) out[n++] = x86_gpr((af_reg)r, size);
  return n;
}

static int xmm_list(bool full, x86_operand *out) {
  int n = 0;
  for (int r = 0; r < 16; r++)
    if (full || r == 1 || r == 9) out[n++] = x86_xmm((af_reg)(AF_XMM0 + r));
  return n;
}

static const int64_t imms[] = {0,
                               1,
                               9,
                               10,
                               -1,
                               127,
                               -128,
                               128,
                               0xff,
                               -129,
                               0x1234,
                               0x7fff,
                               -0x8000,
                               0xffff,
                               0x12345678,
                               -0x80000000LL,
                               0x7fffffff,
                               0x80000000LL,
                               0xffffffffLL,
                               0x123456789abcdefLL,
                               INT64_MIN,
                               -0x123456789LL};

/* Candidates for operand class f; full = the whole sweep, else a short list. */
static int candidates(int f, bool full, x86_operand *out) {
  int n = 0;
  switch (f) {
  case XF_R8: return gpr_list(1, full, out);
  case XF_R16: return gpr_list(2, full, out);
  case XF_R32: return gpr_list(4, full, out);
  case XF_R64: return gpr_list(8, full, out);
  case XF_RM8:
  case XF_RM16:
  case XF_RM32:
  case XF_RM64: {
    int sz = f == XF_RM8 ? 1 : f == XF_RM16 ? 2 : f == XF_RM32 ? 4 : 8;
    n = gpr_list(sz, full, out);
    return n + mem_list(sz, full, out + n);
  }
  case XF_M: return mem_list(0, full, out);
  case XF_M8: return mem_list(1, full, out);
  case XF_M16: return mem_list(2, full, out);
  case XF_M32: return mem_list(4, full, out);
  case XF_M64: return mem_list(8, full, out);
  case XF_M80: return mem_list(10, full, out);
  case XF_M128: return mem_list(16, full, out);
  case XF_X: return xmm_list(full, out);
  case XF_XM32:
  case XF_XM64:
  case XF_XM128: {
    int sz = f == XF_XM32 ? 4 : f == XF_XM64 ? 8 : 16;
    n = xmm_list(full, out);
    return n + mem_list(sz, full, out + n);
  }
  case XF_I8:
  case XF_I16:
  case XF_I32:
  case XF_I64:
    for (size_t i = 0; i < sizeof imms / sizeof *imms; i++)
      out[n++] = x86_imm(imms[i]);
    return n;
  case XF_U8:
    for (int v = 0; v < 256; v += full ? 17 : 255)
      out[n++] = x86_imm(v);
    return n;
  case XF_CL: out[0] = x86_gpr(AF_RCX, 1); return 1;
  case XF_REL8:
    out[n++] = x86_rel(1, 0), out[n++] = x86_rel(1, -2), out[n++] = x86_rel(1, 127);
    out[n++] = x86_rel(1, -128);
    return n;
  case XF_REL32:
    out[n++] = x86_rel(4, 0), out[n++] = x86_rel(4, 0x1000), out[n++] = x86_rel(4, -0x1000);
    out[n++] = x86_rel(4, INT32_MAX), out[n++] = x86_rel(4, INT32_MIN);
    return n;
  case XF_STI:
    for (int i = 0; i < 8; i++)
      out[n++] = x86_st(i);
    return n;
  default: out[0] = (x86_operand){0}; return 1;
  }
}

static x86_operand cand[3][MAXC];

/* Sweeps one row: each operand position in turn takes its full list while the others take
 * their short lists; only combinations the encoder assigns to this row count. */
static long sweep_row(const x86_row *r) {
  int nops = 0;
  while (nops < 3 && r->form[nops] != XF_NONE)
    nops++;
  long hits = 0;
  int conds = r->cc ? 16 : 1;
  for (int full = 0; full < (nops ? nops : 1); full++) {
    int nc[3] = {1, 1, 1};
    for (int k = 0; k < nops; k++)
      nc[k] = candidates(r->form[k], k == full, cand[k]);
    for (int c = 0; c < conds; c++)
      for (int i = 0; i < nc[0]; i++)
        for (int j = 0; j < nc[1]; j++)
          for (int l = 0; l < nc[2]; l++) {
            x86_inst in = {.op = r->op, .cond = (uint8_t)c, .nops = (uint8_t)nops};
            if (nops > 0) in.o[0] = cand[0][i];
            if (nops > 1) in.o[1] = cand[1][j];
            if (nops > 2) in.o[2] = cand[2][l];
            if (x86_match(&in) != r) continue;
            check_one(&in);
            hits++;
          }
  }
  return hits;
}

/* ---- hand-written byte sequences (Intel SDM examples and gcc/clang output) ---------- */
typedef struct {
  x86_inst in;
  const char *bytes;
} golden;

#define G(bytes, ...)                                                                              \
  { __VA_ARGS__, bytes }
#define R64(r) x86_gpr(AF_##r, 8)
#define R32(r) x86_gpr(AF_##r, 4)
#define R8(r)  x86_gpr(AF_##r, 1)
#define XMM(n) x86_xmm(AF_XMM##n)
#define NOREG  AF_REG_NONE

static size_t parse_hex(const char *s, uint8_t *out) {
  size_t n = 0;
  unsigned v;
  int k;
  while (sscanf(s, "%2x%n", &v, &k) == 1)
    out[n++] = (uint8_t)v, s += k;
  return n;
}

static size_t check_goldens(void) {
  const golden goldens[] = {
      G("48 89 e5", x86_inst2(X86_MOV, R64(RBP), R64(RSP))),
      G("55", x86_inst1(X86_PUSH, R64(RBP))),
      G("41 57", x86_inst1(X86_PUSH, R64(R15))),
      G("5d", x86_inst1(X86_POP, R64(RBP))),
      G("c3", x86_inst0(X86_RET)),
      G("89 f8", x86_inst2(X86_MOV, R32(RAX), R32(RDI))),
      G("01 f0", x86_inst2(X86_ADD, R32(RAX), R32(RSI))),
      G("48 83 e4 f0", x86_inst2(X86_AND, R64(RSP), x86_imm(-16))),
      G("48 83 ec 20", x86_inst2(X86_SUB, R64(RSP), x86_imm(32))),
      G("48 81 ec 00 01 00 00", x86_inst2(X86_SUB, R64(RSP), x86_imm(256))),
      G("48 b8 ef cd ab 89 67 45 23 01", x86_inst2(X86_MOV, R64(RAX), x86_imm(0x123456789abcdef))),
      G("48 c7 c0 ff ff ff ff", x86_inst2(X86_MOV, R64(RAX), x86_imm(-1))),
      G("b8 ff ff ff ff", x86_inst2(X86_MOV, R32(RAX), x86_imm(0xffffffff))),
      G("40 88 f7", x86_inst2(X86_MOV, R8(RDI), R8(RSI))), /* mov dil, sil: empty REX */
      G("88 c8", x86_inst2(X86_MOV, R8(RAX), R8(RCX))),    /* mov al, cl: no REX */
      G("40 0f 90 c6", x86_inst1(X86_SETCC, R8(RSI))),     /* seto sil (cond 0) */
      G("41 0f b6 c0", x86_inst2(X86_MOVZX, R32(RAX), R8(R8))),
      G("48 63 c7", x86_inst2(X86_MOVSXD, R64(RAX), R32(RDI))),
      G("48 8b 04 24", x86_inst2(X86_MOV, R64(RAX), x86_mem(8, AF_RSP, NOREG, 1, 0))),
      G("49 8b 04 24", x86_inst2(X86_MOV, R64(RAX), x86_mem(8, AF_R12, NOREG, 1, 0))),
      G("48 8b 45 00", x86_inst2(X86_MOV, R64(RAX), x86_mem(8, AF_RBP, NOREG, 1, 0))),
      G("49 8b 45 00", x86_inst2(X86_MOV, R64(RAX), x86_mem(8, AF_R13, NOREG, 1, 0))),
      G("48 8b 45 f8", x86_inst2(X86_MOV, R64(RAX), x86_mem(8, AF_RBP, NOREG, 1, -8))),
      G("48 8b 85 00 01 00 00", x86_inst2(X86_MOV, R64(RAX), x86_mem(8, AF_RBP, NOREG, 1, 256))),
      G("4a 8b 04 e0", x86_inst2(X86_MOV, R64(RAX), x86_mem(8, AF_RAX, AF_R12, 8, 0))),
      G("48 8b 04 25 10 00 00 00", x86_inst2(X86_MOV, R64(RAX), x86_mem(8, NOREG, NOREG, 1, 16))),
      G("48 8b 04 8d 00 00 00 00", x86_inst2(X86_MOV, R64(RAX), x86_mem(8, NOREG, AF_RCX, 4, 0))),
      G("48 8b 05 10 00 00 00", x86_inst2(X86_MOV, R64(RAX), x86_rip(8, 16))),
      G("48 8d 64 24 08", x86_inst2(X86_LEA, R64(RSP), x86_mem(0, AF_RSP, NOREG, 1, 8))),
      G("4c 8d 44 24 08", x86_inst2(X86_LEA, R64(R8), x86_mem(0, AF_RSP, NOREG, 1, 8))),
      G("48 0f a4 c2 03", x86_inst3(X86_SHLD, R64(RDX), R64(RAX), x86_imm(3))),
      G("48 0f ad c2", x86_inst3(X86_SHRD, R64(RDX), R64(RAX), R8(RCX))),
      G("48 d3 e0", x86_inst2(X86_SHL, R64(RAX), R8(RCX))),
      G("c1 f8 1f", x86_inst2(X86_SAR, R32(RAX), x86_imm(31))),
      G("e8 00 00 00 00", x86_inst1(X86_CALL, x86_rel(4, 0))),
      G("ff d0", x86_inst1(X86_CALL, R64(RAX))),
      G("41 ff d3", x86_inst1(X86_CALL, x86_gpr(AF_R11, 8))),
      G("ff 15 f0 ff ff ff", x86_inst1(X86_CALL, x86_rip(8, -16))),
      G("eb fe", x86_inst1(X86_JMP, x86_rel(1, -2))),
      G("fc", x86_inst0(X86_CLD)),
      /* SSE: legacy encodings, no VEX (c5/c4) */
      G("66 48 0f 6e c7", x86_inst2(X86_MOVQ, XMM(0), R64(RDI))),
      G("66 48 0f 7e c0", x86_inst2(X86_MOVQ, R64(RAX), XMM(0))),
      G("66 0f 6e c7", x86_inst2(X86_MOVD, XMM(0), R32(RDI))),
      G("f2 0f 58 c1", x86_inst2(X86_ADDSD, XMM(0), XMM(1))),
      G("f3 45 0f 58 c7", x86_inst2(X86_ADDSS, XMM(8), XMM(15))),
      G("f2 0f 10 44 24 08", x86_inst2(X86_MOVSD, XMM(0), x86_mem(8, AF_RSP, NOREG, 1, 8))),
      G("f2 0f 11 45 f8", x86_inst2(X86_MOVSD, x86_mem(8, AF_RBP, NOREG, 1, -8), XMM(0))),
      G("0f 29 04 24", x86_inst2(X86_MOVAPS, x86_mem(16, AF_RSP, NOREG, 1, 0), XMM(0))),
      G("44 0f 28 3c 24", x86_inst2(X86_MOVAPS, XMM(15), x86_mem(16, AF_RSP, NOREG, 1, 0))),
      G("f2 48 0f 2a c7", x86_inst2(X86_CVTSI2SD, XMM(0), R64(RDI))),
      G("f3 48 0f 2c c0", x86_inst2(X86_CVTTSS2SI, R64(RAX), XMM(0))),
      G("66 0f 2e c1", x86_inst2(X86_UCOMISD, XMM(0), XMM(1))),
      G("66 0f ef c0", x86_inst2(X86_PXOR, XMM(0), XMM(0))),
      G("0f ae 5c 24 fc", x86_inst1(X86_STMXCSR, x86_mem(4, AF_RSP, NOREG, 1, -4))),
      /* x87 */
      G("db 6c 24 08", x86_inst1(X86_FLD, x86_mem(10, AF_RSP, NOREG, 1, 8))),
      G("db 3f", x86_inst1(X86_FSTP, x86_mem(10, AF_RDI, NOREG, 1, 0))),
      G("de c1", x86_inst1(X86_FADDP, x86_st(1))),
      G("de e9", x86_inst1(X86_FSUBP, x86_st(1))),
      G("de e1", x86_inst1(X86_FSUBRP, x86_st(1))),
      G("df e9", x86_inst1(X86_FUCOMIP, x86_st(1))),
      G("d9 c9", x86_inst1(X86_FXCH, x86_st(1))),
      G("dd d8", x86_inst1(X86_FSTP, x86_st(0))),
      G("df 6c 24 f8", x86_inst1(X86_FILD, x86_mem(8, AF_RSP, NOREG, 1, -8))),
      G("dd 4c 24 f8", x86_inst1(X86_FISTTP, x86_mem(8, AF_RSP, NOREG, 1, -8))),
      G("d9 7c 24 fe", x86_inst1(X86_FNSTCW, x86_mem(2, AF_RSP, NOREG, 1, -2))),
  };
  for (size_t i = 0; i < sizeof goldens / sizeof *goldens; i++) {
    uint8_t want[16], got[15];
    size_t nw = parse_hex(goldens[i].bytes, want), ng = 0;
    af_status s = x86_encode(&goldens[i].in, got, &ng);
    char hx[64];
    hex(got, ng, hx);
    CHECKF(s == AF_OK && ng == nw && !memcmp(got, want, nw), "golden %zu: want %s, got %s", i,
           goldens[i].bytes, hx);
    check_one(&goldens[i].in);
  }
  return sizeof goldens / sizeof *goldens;
}

/* ---- foreign bytes: other assemblers' choices (short accumulator forms, RM direction for
 * reg-reg, imm32 that would fit imm8, disp8 0, 66 REX.W 6E for movq loads, D1 shifts by 1).
 * Capstone's detail is rebuilt and re-encoded; the result must decode to the same text. */
static void check_foreign(void) {
  static const char *const foreign[] = {
      "8b c8",
      "05 ff ff ff ff",
      "81 c0 01 00 00 00",
      "d1 e0",
      "48 d1 f8",
      "66 48 0f 6e 00",
      "a9 ff 00 00 00",
      "8b 44 24 00",
      "8b 80 00 00 00 00",
      "48 c7 c0 00 00 00 00",
      "0f 10 c1",
      "f3 0f 7e c1",
      "4c 8b 3d 00 00 00 00",
      "40 88 c8",
      "48 8d 05 00 00 00 00",
      "66 0f d6 c8",
  };
  for (size_t i = 0; i < sizeof foreign / sizeof *foreign; i++) {
    uint8_t b[16], b2[15];
    size_t n = parse_hex(foreign[i], b), n2;
    char t1[256], t2[256];
    x86_inst in;
    memset(&in, 0, sizeof in);
    CHECKF(decode(b, n) && insn->size == n, "foreign %s does not decode", foreign[i]);
    cs_text(insn, t1, sizeof t1);
    bool ok = inst_from_cs(insn, &in) && x86_encode(&in, b2, &n2) == AF_OK && decode(b2, n2) &&
              insn->size == n2;
    x86_inst in2;
    if (ok) cs_text(insn, t2, sizeof t2);
    /* add eax, 0xffffffff (imm32) comes back as add eax, -1 (imm8): the same instruction
     * once immediates are compared modulo the operation width. */
    if (ok && strcmp(t1, t2) && inst_from_cs(insn, &in2)) {
      int bits = in.o[0].size && in.o[0].size < 8 ? 8 * in.o[0].size : 64;
      uint64_t m = bits == 64 ? ~0ull : (1ull << bits) - 1;
      for (int k = 0; k < 3; k++)
        if (in.o[k].kind == X86_OPND_IMM)
          in.o[k].imm = (int64_t)((uint64_t)in.o[k].imm & m),
          in2.o[k].imm = (int64_t)((uint64_t)in2.o[k].imm & m);
      if (!memcmp(&in, &in2, sizeof in)) strcpy(t2, t1);
    }
    CHECKF(ok && !strcmp(t1, t2), "foreign %s (%s) re-encodes as '%s'", foreign[i], t1,
           ok ? t2 : "(nothing)");
    if (ok && n2 == n && !memcmp(b, b2, n))
      n_exact++;
    else if (ok)
      n_textsame++;
  }
}

/* ---- errors, buffer and labels ------------------------------------------------------ */
static void check_errors(void) {
  uint8_t b[15];
  size_t n;
  x86_inst bad[] = {
      x86_inst2(X86_MOV, XMM(0), x86_imm(1)),               /* no such form */
      x86_inst2(X86_ADD, R64(RAX), R32(RCX)),               /* width mismatch */
      x86_inst2(X86_LEA, R64(RAX), R64(RCX)),               /* lea needs memory */
      x86_inst2(X86_MOV, R32(RAX), x86_imm(0x100000000LL)), /* too wide for 32 bits */
      x86_inst1(X86_PUSH, R32(RAX)), /* push r32 is not encodable in 64-bit */
      x86_inst2(X86_MOVSS, x86_mem(4, AF_RAX, NOREG, 1, 0), x86_mem(4, AF_RAX, NOREG, 1, 0)),
      x86_inst2(X86_SHL, R64(RAX), R8(RDX)), /* shift count must be cl */
      x86_inst1(X86_JMP, x86_rel(1, 200)),   /* rel8 out of range */
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    CHECKF(x86_encode(&bad[i], b, &n) == AF_ERR_UNSUPPORTED, "bad form %zu", i);
  x86_inst inval[] = {
      x86_inst2(X86_MOV, R64(RAX), x86_mem(8, AF_RAX, AF_RSP, 1, 0)), /* rsp as index */
      x86_inst2(X86_MOV, R64(RAX), x86_mem(8, AF_RAX, AF_RCX, 3, 0)), /* scale 3 */
      x86_inst2(X86_MOV, R64(RAX), x86_mem(8, X86_BASE_RIP, AF_RCX, 1, 0)),
      x86_inst2(X86_MOV, x86_gpr(AF_XMM0, 8), R64(RAX)),
      x86_inst1(X86_FXCH, x86_st(8)),
  };
  for (size_t i = 0; i < sizeof inval / sizeof *inval; i++)
    CHECKF(x86_encode(&inval[i], b, &n) == AF_ERR_INVALID, "invalid operand %zu", i);

  /* A fixed buffer reports overflow and keeps the first error. */
  uint8_t mem[8];
  x86_buf fb;
  x86_buf_init_fixed(&fb, mem, sizeof mem);
  CHECK(x86_emit2(&fb, X86_MOV, R64(RAX), x86_imm(0x123456789abcdef)) == AF_ERR_LIMIT);
  CHECK(x86_emit0(&fb, X86_RET) == AF_OK && fb.len == 1 && mem[0] == 0xc3);
  CHECK(x86_emit2(&fb, X86_MOV, XMM(0), x86_imm(1)) == AF_ERR_UNSUPPORTED);
  CHECK(fb.err == AF_ERR_LIMIT && x86_buf_finish(&fb) == AF_ERR_LIMIT);
  x86_buf_free(&fb);
}

static void check_movimm(void) {
  static const struct {
    int64_t v;
    const char *text;
  } t[] = {{0, "mov eax, 0"},
           {0xffffffffLL, "mov eax, 0xffffffff"},
           {-1, "mov rax, -1"},
           {INT32_MIN, "mov rax, -0x80000000"},
           {0x100000000LL, "movabs rax, 0x100000000"},
           {INT64_MIN, "movabs rax, 0x8000000000000000"}};
  for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
    x86_buf b;
    char got[256] = "";
    x86_buf_init(&b);
    CHECK(x86_emit_movimm(&b, AF_RAX, 8, t[i].v) == AF_OK);
    if (decode(b.data, b.len) && insn->size == b.len) cs_text(insn, got, sizeof got);
    CHECKF(!strcmp(got, t[i].text), "movimm %" PRId64 ": '%s'", t[i].v, got);
    x86_buf_free(&b);
  }
}

static void check_labels(void) {
  x86_buf b;
  x86_buf_init(&b);
  int top = x86_label(&b), out = x86_label(&b), far = x86_label(&b), never = x86_label(&b);
  x86_bind(&b, top);                          /* 0 */
  x86_jcc_label(&b, X86_CC_E, out);           /* 0: 0f 84 rel32 (forward) */
  x86_emit2(&b, X86_ADD, R32(RAX), R32(RCX)); /* 6 */
  x86_jmp_label(&b, top);                     /* 8: eb f6 (backward, rel8) */
  x86_bind(&b, out);                          /* 10 */
  for (int i = 0; i < 100; i++)
    x86_emit2(&b, X86_MOV, R64(RAX), x86_imm(0x123456789abcdef));
  x86_jcc_label(&b, X86_CC_NE, top); /* 1010: backward, too far for rel8 */
  x86_call_label(&b, far);
  x86_bind(&b, far);
  x86_emit0(&b, X86_RET);
  CHECK(x86_buf_finish(&b) == AF_OK);
  char t[256];
  CHECK(decode(b.data, b.len) && (cs_text(insn, t, sizeof t), !strcmp(t, "je 0xa")));
  CHECK(decode(b.data + 8, 2) &&
        (cs_text(insn, t, sizeof t), !strcmp(t, "jmp 0xfffffffffffffff8")));
  CHECK(decode(b.data + 1010, 6) && insn->size == 6 &&
        (cs_text(insn, t, sizeof t), !strcmp(t, "jne 0xfffffffffffffc0e")));
  CHECK(decode(b.data + 1016, 5) && (cs_text(insn, t, sizeof t), !strcmp(t, "call 5")));
  CHECK(b.len == 1022 && b.data[1021] == 0xc3);
  /* An unbound label is an error at finish. */
  x86_jmp_label(&b, never);
  CHECK(x86_buf_finish(&b) == AF_ERR_INVALID);
  CHECK(x86_bind(&b, top) == AF_ERR_INVALID); /* bound twice */
  x86_buf_free(&b);
}

/* check_labels' sequence (forward and backward branches, a call, labels bound late) into b */
static void label_program(x86_buf *b) {
  int top = x86_label(b), out = x86_label(b), far = x86_label(b);
  int more[20];
  for (int i = 0; i < 20; i++)
    more[i] = x86_label(b);
  x86_bind(b, top);
  x86_jcc_label(b, X86_CC_E, out);
  for (int i = 0; i < 20; i++)
    x86_jmp_label(b, more[i]); /* forward: 20 fixups at once */
  x86_emit2(b, X86_ADD, R32(RAX), R32(RCX));
  x86_jmp_label(b, top);
  for (int i = 0; i < 20; i++)
    x86_bind(b, more[i]);
  x86_bind(b, out);
  for (int i = 0; i < 100; i++)
    x86_emit2(b, X86_MOV, R64(RAX), x86_imm(0x123456789abcdef));
  x86_jcc_label(b, X86_CC_NE, top);
  x86_call_label(b, far);
  x86_bind(b, far);
  x86_emit0(b, X86_RET);
}

/* A borrowed buffer (x86_buf_init_borrowed) writes the same bytes as a growable one, in the
 * caller's memory while it fits and on the heap once outgrown, never freeing the caller's. */
static void check_borrowed(void) {
  x86_buf g, b;
  x86_buf_init(&g);
  label_program(&g);
  CHECK(x86_buf_finish(&g) == AF_OK && g.len > 1000);
  /* room for everything: nothing moves */
  static uint8_t big[4096];
  long lab[32];
  x86_fixup fix[32];
  x86_buf_init_borrowed(&b, big, sizeof big, lab, 32, fix, 32);
  label_program(&b);
  CHECK(x86_buf_finish(&b) == AF_OK && b.len == g.len && !memcmp(b.data, g.data, g.len));
  CHECK(b.data == big && b.labels == lab && b.fixups == fix);
  x86_buf_free(&b); /* frees none of them (an invalid free would abort) */
  /* too little of each: all three outgrown, copied to the heap, the same bytes */
  uint8_t small[16];
  long lab1[1];
  x86_fixup fix1[1];
  x86_buf_init_borrowed(&b, small, sizeof small, lab1, 1, fix1, 1);
  label_program(&b);
  CHECK(x86_buf_finish(&b) == AF_OK && b.len == g.len && !memcmp(b.data, g.data, g.len));
  CHECK(b.data != small && b.labels != lab1 && b.fixups != fix1 && b.borrowed == 0);
  x86_buf_free(&b); /* frees the heap copies */
  /* rebound from program to program (af_jit_compile, the code memory's stage): the code in the
   * caller's memory each time, labels and errors reset; outgrown, on the heap, which the next
   * rebind frees; the caller's memory never written past what it lent */
  static uint8_t two[2][4096 + 64];
  memset(two, 0xEE, sizeof two);
  x86_buf_init_borrowed(&b, NULL, 0, lab, 32, fix, 32);
  for (int k = 0; k < 2; k++) {
    x86_buf_rebind(&b, two[k], 4096);
    label_program(&b);
    CHECK(x86_buf_finish(&b) == AF_OK && b.len == g.len && !memcmp(b.data, g.data, g.len));
    CHECK(b.data == two[k] && two[k][4096] == 0xEE);
  }
  x86_buf_rebind(&b, small, sizeof small);
  CHECK(b.len == 0 && b.nlabels == 0 && b.nfixups == 0 && b.err == AF_OK);
  label_program(&b);
  CHECK(x86_buf_finish(&b) == AF_OK && b.len == g.len && !memcmp(b.data, g.data, g.len));
  CHECK(b.data != small && b.labels == lab && !(b.borrowed & X86_BUF_BORROWED_DATA));
  x86_buf_rebind(&b, two[0], 4096); /* frees the heap copy (a leak checker would see it) */
  CHECK(b.data == two[0] && b.len == 0);
  x86_buf_free(&b);
  x86_buf_free(&g);
}

int main(void) {
  if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK) {
    fprintf(stderr, "cs_open failed\n");
    return 1;
  }
  cs_option(cs, CS_OPT_SYNTAX, CS_OPT_SYNTAX_INTEL);
  cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
  insn = cs_malloc(cs);

  size_t ngolden = check_goldens();
  long golden_passed = check_passed;
  int unreached = 0;
  for (size_t i = 0; i < x86_nrows; i++) {
    long hits = sweep_row(&x86_rows[i]);
    if (hits)
      n_rows_hit++;
    else {
      unreached++;
      CHECKF(0, "table row %zu (%s) never chosen by the encoder", i,
             x86_op_name((x86_op)x86_rows[i].op));
    }
  }
  check_foreign();
  check_errors();
  check_labels();
  check_borrowed();
  check_movimm();
  printf("golden byte sequences: %zu (%ld checks)\n", ngolden, golden_passed);
  printf("table rows (instruction forms): %zu, swept: %ld, unreached: %d\n", x86_nrows, n_rows_hit,
         unreached);
  printf("encodings checked through Capstone: %ld; re-encoded from Capstone's detail: %ld "
         "byte-identical, %ld same text (non-canonical)\n",
         n_encoded, n_exact, n_textsame);
  cs_free(insn, 1);
  cs_close(&cs);
  return check_done();
}
