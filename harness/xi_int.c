/* xi_int.c - xi's integer, stack and control-flow instructions, flags from the host's own ALU. */
#include "xi.h"

#if defined(AF_HAVE_UNICORN)

#include "xi_internal.h"

/* Exactness: every flag of an arithmetic instruction, including those the SDM leaves undefined
 * (shift and rotate counts, imul/mul's SF/ZF/AF/PF, bt, shld/shrd, div), must be the
 * hardware's, since the native leg runs the same code on it. So each of them runs the host's
 * own instruction on the guest's values: the guest's six arithmetic flags are loaded (popfq),
 * the instruction runs on registers, and the flags come back (pushfq). The stack is moved past
 * the red zone around the push/pop (the compiler may keep data there). Only CF PF AF ZF SF OF
 * cross: DF, TF and the rest stay the host's. */

#define ASM_PRE  "lea -128(%%rsp), %%rsp\n\tpushq %[fl]\n\tpopfq\n\t"
#define ASM_POST "\n\tpushfq\n\tpopq %[fl]\n\tlea 128(%%rsp), %%rsp"

/* By cl (shifts, rotates; shld/shrd take b as the second source). */
#define SH4(k, mn)                                                                                 \
  case (k)*4 + 0:                                                                                  \
    __asm__(ASM_PRE mn "b %%cl, %b[d]" ASM_POST : [d] "+r"(a), [fl] "+r"(f) : "c"(c) : "cc");      \
    break;                                                                                         \
  case (k)*4 + 1:                                                                                  \
    __asm__(ASM_PRE mn "w %%cl, %w[d]" ASM_POST : [d] "+r"(a), [fl] "+r"(f) : "c"(c) : "cc");      \
    break;                                                                                         \
  case (k)*4 + 2:                                                                                  \
    __asm__(ASM_PRE mn "l %%cl, %k[d]" ASM_POST : [d] "+r"(a), [fl] "+r"(f) : "c"(c) : "cc");      \
    break;                                                                                         \
  case (k)*4 + 3:                                                                                  \
    __asm__(ASM_PRE mn "q %%cl, %q[d]" ASM_POST : [d] "+r"(a), [fl] "+r"(f) : "c"(c) : "cc");      \
    break;

/* The flags-writing ALU ops whose six arithmetic flags do not depend on the flags before them
 * (add or and sub xor cmp test neg; adc/sbb read CF only): no popfq, whose microcode costs
 * tens of cycles. The op runs, then lahf (SF ZF AF PF CF) and seto (OF) read its flags, or for
 * adc/sbb bt $0 loads the guest's CF first. */
#define FRESH "\n\tlahf\n\tseto %%al"
#define ALU4F(k, mn, pre)                                                                          \
  case (k)*4 + 0:                                                                                  \
    __asm__(pre mn "b %b[s], %b[d]" FRESH                                                          \
            : [d] "+r"(a), "=a"(ax)                                                                \
            : [s] "r"(b), [c] "r"(cin)                                                             \
            : "cc");                                                                               \
    break;                                                                                         \
  case (k)*4 + 1:                                                                                  \
    __asm__(pre mn "w %w[s], %w[d]" FRESH                                                          \
            : [d] "+r"(a), "=a"(ax)                                                                \
            : [s] "r"(b), [c] "r"(cin)                                                             \
            : "cc");                                                                               \
    break;                                                                                         \
  case (k)*4 + 2:                                                                                  \
    __asm__(pre mn "l %k[s], %k[d]" FRESH                                                          \
            : [d] "+r"(a), "=a"(ax)                                                                \
            : [s] "r"(b), [c] "r"(cin)                                                             \
            : "cc");                                                                               \
    break;                                                                                         \
  case (k)*4 + 3:                                                                                  \
    __asm__(pre mn "q %q[s], %q[d]" FRESH                                                          \
            : [d] "+r"(a), "=a"(ax)                                                                \
            : [s] "r"(b), [c] "r"(cin)                                                             \
            : "cc");                                                                               \
    break;
#define CF_IN "bt $0, %k[c]\n\t"

static inline unsigned wi(unsigned sz) { return sz == 1 ? 0 : sz == 2 ? 1 : sz == 4 ? 2 : 3; }
static inline uint64_t host_in(uint64_t fl) { return (fl & XI_ARITH) | 2; }
static inline uint64_t merge(uint64_t fl, uint64_t f) {
  return (fl & ~(uint64_t)XI_ARITH) | (f & XI_ARITH);
}

/* k: 0 add, 1 or, 2 adc, 3 sbb, 4 and, 5 sub, 6 xor, 7 cmp, 8 test, 9 imul (2-operand),
 * 10 bt (b the bit offset), 11 neg (b unused). */
static uint64_t alu(unsigned k, unsigned sz, uint64_t a, uint64_t b, uint64_t *fl) {
  if (k == 9 || k == 10) {
    /* imul: SF ZF AF PF undefined, and the hardware leaves them alone (measured, test_xi_diff);
     * bt: ZF left alone, the rest undefined: the guest's flags go in */
    uint64_t f = host_in(*fl);
    switch ((k - 9) * 4 + wi(sz)) {
    case 1:
      __asm__(ASM_PRE "imulw %w[s], %w[d]" ASM_POST
              : [d] "+r"(a), [fl] "+r"(f)
              : [s] "r"(b)
              : "cc");
      break;
    case 2:
      __asm__(ASM_PRE "imull %k[s], %k[d]" ASM_POST
              : [d] "+r"(a), [fl] "+r"(f)
              : [s] "r"(b)
              : "cc");
      break;
    case 3:
      __asm__(ASM_PRE "imulq %q[s], %q[d]" ASM_POST
              : [d] "+r"(a), [fl] "+r"(f)
              : [s] "r"(b)
              : "cc");
      break;
    case 5:
      __asm__(ASM_PRE "btw %w[s], %w[d]" ASM_POST : [d] "+r"(a), [fl] "+r"(f) : [s] "r"(b) : "cc");
      break;
    case 6:
      __asm__(ASM_PRE "btl %k[s], %k[d]" ASM_POST : [d] "+r"(a), [fl] "+r"(f) : [s] "r"(b) : "cc");
      break;
    case 7:
      __asm__(ASM_PRE "btq %q[s], %q[d]" ASM_POST : [d] "+r"(a), [fl] "+r"(f) : [s] "r"(b) : "cc");
      break;
    }
    *fl = merge(*fl, f);
    return a;
  }
  uint64_t ax = 0, cin = *fl & 1;
  switch (k * 4 + wi(sz)) {
    ALU4F(0, "add", "")
    ALU4F(1, "or", "")
    ALU4F(2, "adc", CF_IN)
    ALU4F(3, "sbb", CF_IN)
    ALU4F(4, "and", "")
    ALU4F(5, "sub", "")
    ALU4F(6, "xor", "")
    ALU4F(7, "cmp", "")
    ALU4F(8, "test", "")
  case 11 * 4 + 0: __asm__("negb %b[d]" FRESH : [d] "+r"(a), "=a"(ax) : : "cc"); break;
  case 11 * 4 + 1: __asm__("negw %w[d]" FRESH : [d] "+r"(a), "=a"(ax) : : "cc"); break;
  case 11 * 4 + 2: __asm__("negl %k[d]" FRESH : [d] "+r"(a), "=a"(ax) : : "cc"); break;
  case 11 * 4 + 3: __asm__("negq %q[d]" FRESH : [d] "+r"(a), "=a"(ax) : : "cc"); break;
  default: break;
  }
  uint64_t f = ((ax >> 8) & 0xD5) | (ax & 1) << 11;
  *fl = merge(*fl, f);
  return a;
}

/* k: the /digit of C0/C1/D2/D3: 0 rol, 1 ror, 4 shl, 5 shr, 7 sar; 8 shld, 9 shrd (b the
 * second source). The count as the guest gave it: the host masks it, as the guest's would. */
static uint64_t shift(unsigned k, unsigned sz, uint64_t a, uint64_t b, uint8_t c, uint64_t *fl) {
  uint64_t f = host_in(*fl);
  switch (k * 4 + wi(sz)) {
    SH4(0, "rol")
    SH4(1, "ror")
    SH4(4, "shl")
    SH4(5, "shr")
    SH4(7, "sar")
  case 8 * 4 + 1:
    __asm__(ASM_PRE "shldw %%cl, %w[s], %w[d]" ASM_POST
            : [d] "+r"(a), [fl] "+r"(f)
            : [s] "r"(b), "c"(c)
            : "cc");
    break;
  case 8 * 4 + 2:
    __asm__(ASM_PRE "shldl %%cl, %k[s], %k[d]" ASM_POST
            : [d] "+r"(a), [fl] "+r"(f)
            : [s] "r"(b), "c"(c)
            : "cc");
    break;
  case 8 * 4 + 3:
    __asm__(ASM_PRE "shldq %%cl, %q[s], %q[d]" ASM_POST
            : [d] "+r"(a), [fl] "+r"(f)
            : [s] "r"(b), "c"(c)
            : "cc");
    break;
  case 9 * 4 + 1:
    __asm__(ASM_PRE "shrdw %%cl, %w[s], %w[d]" ASM_POST
            : [d] "+r"(a), [fl] "+r"(f)
            : [s] "r"(b), "c"(c)
            : "cc");
    break;
  case 9 * 4 + 2:
    __asm__(ASM_PRE "shrdl %%cl, %k[s], %k[d]" ASM_POST
            : [d] "+r"(a), [fl] "+r"(f)
            : [s] "r"(b), "c"(c)
            : "cc");
    break;
  case 9 * 4 + 3:
    __asm__(ASM_PRE "shrdq %%cl, %q[s], %q[d]" ASM_POST
            : [d] "+r"(a), [fl] "+r"(f)
            : [s] "r"(b), "c"(c)
            : "cc");
    break;
  default: break;
  }
  *fl = merge(*fl, f);
  return a;
}

/* mul / div / idiv on rax:rdx as the host does them (the divisions only once checked not to
 * fault: the caller raised #DE for those). k: 4 mul, 6 div, 7 idiv. */
static void muldiv(unsigned k, unsigned sz, uint64_t *rax, uint64_t *rdx, uint64_t s,
                   uint64_t *fl) {
  uint64_t f = host_in(*fl), a = *rax, d = *rdx;
#define MD(k_, w_, ins)                                                                            \
  case (k_)*4 + (w_):                                                                              \
    __asm__(ASM_PRE ins ASM_POST : "+a"(a), "+d"(d), [fl] "+r"(f) : [s] "r"(s) : "cc");            \
    break;
  switch (k * 4 + wi(sz)) {
    MD(4, 0, "mulb %b[s]")
    MD(4, 1, "mulw %w[s]")
    MD(4, 2, "mull %k[s]")
    MD(4, 3, "mulq %q[s]")
    MD(6, 0, "divb %b[s]")
    MD(6, 1, "divw %w[s]")
    MD(6, 2, "divl %k[s]")
    MD(6, 3, "divq %q[s]")
    MD(7, 0, "idivb %b[s]")
    MD(7, 1, "idivw %w[s]")
    MD(7, 2, "idivl %k[s]")
    MD(7, 3, "idivq %q[s]")
  default: break;
  }
#undef MD
  *rax = a, *rdx = d;
  *fl = merge(*fl, f);
}

/* Whether div/idiv of that width faults (#DE: divisor 0 or a quotient out of range). */
static bool div_faults(unsigned k, unsigned sz, uint64_t rax, uint64_t rdx, uint64_t s) {
  if (!s) return true;
  if (k == 6) { /* unsigned: the high half of the dividend must be below the divisor */
    switch (sz) {
    case 1: return ((rax >> 8) & 0xff) >= s;
    case 2: return (rdx & 0xffff) >= s;
    case 4: return (rdx & 0xffffffff) >= s;
    default: return rdx >= s;
    }
  }
  __int128 n, q, lo, hi;
  int64_t dv;
  switch (sz) {
  case 1: n = (int16_t)rax, dv = (int8_t)s, lo = -128, hi = 127; break;
  case 2:
    n = (int32_t)((uint32_t)(rdx & 0xffff) << 16 | (rax & 0xffff)), dv = (int16_t)s;
    lo = -32768, hi = 32767;
    break;
  case 4:
    n = (int64_t)((rdx & 0xffffffff) << 32 | (rax & 0xffffffff)), dv = (int32_t)s;
    lo = INT32_MIN, hi = INT32_MAX;
    break;
  default:
    n = (__int128)(((unsigned __int128)rdx << 64) | rax), dv = (int64_t)s;
    lo = INT64_MIN, hi = INT64_MAX;
    break;
  }
  if (dv == -1) {
    if (sz == 8 && rdx == (1ull << 63) && rax == 0) return true; /* -2^127 / -1 */
    q = -n;
  } else {
    q = n / dv;
  }
  return q < lo || q > hi;
}

/* ---- operands ---------------------------------------------------------------------------- */
static inline uint64_t mask(unsigned sz) { return sz == 8 ? ~0ull : (1ull << (8 * sz)) - 1; }

static inline uint64_t sext(uint64_t v, unsigned sz) {
  switch (sz) {
  case 1: return (uint64_t)(int64_t)(int8_t)v;
  case 2: return (uint64_t)(int64_t)(int16_t)v;
  case 4: return (uint64_t)(int64_t)(int32_t)v;
  default: return v;
  }
}

/* Register r of width sz; without a REX, byte registers 4-7 are ah, ch, dh, bh. */
static inline uint64_t rd_reg(const xi *x, unsigned r, unsigned sz, unsigned rex) {
  if (sz == 1 && !rex && r >= 4 && r < 8) return (x->c.gpr[r - 4] >> 8) & 0xff;
  return x->c.gpr[r] & mask(sz);
}

static inline void wr_reg(xi *x, unsigned r, unsigned sz, unsigned rex, uint64_t v) {
  uint64_t *g = &x->c.gpr[r];
  switch (sz) {
  case 1:
    if (!rex && r >= 4 && r < 8) {
      g = &x->c.gpr[r - 4];
      *g = (*g & ~0xff00ull) | (v & 0xff) << 8;
    } else {
      *g = (*g & ~0xffull) | (v & 0xff);
    }
    break;
  case 2: *g = (*g & ~0xffffull) | (v & 0xffff); break;
  case 4: *g = (uint32_t)v; break; /* a 32-bit write clears the upper half */
  default: *g = v; break;
  }
}

/* The r/m operand: a register, or a load at the effective address. */
static inline __attribute__((always_inline)) bool rd_rm(xi *x, const xi_insn *d, unsigned sz,
                                                        uint64_t ea, uint64_t *v) {
  if (d->mod == 3) {
    *v = rd_reg(x, d->rm, sz, d->rex);
    return true;
  }
  *v = 0;
  return xi_load(x, ea, sz, v);
}

static inline __attribute__((always_inline)) bool wr_rm(xi *x, const xi_insn *d, unsigned sz,
                                                        uint64_t ea, uint64_t v) {
  if (d->mod == 3) {
    wr_reg(x, d->rm, sz, d->rex, v);
    return true;
  }
  return xi_store(x, ea, sz, &v);
}

static inline bool push64(xi *x, uint64_t v) {
  uint64_t sp = x->c.gpr[4] - 8;
  if (!xi_store(x, sp, 8, &v)) return false;
  x->c.gpr[4] = sp;
  return true;
}

#define FAIL (x->err ? x->err : UC_ERR_EXCEPTION)
#define BAD  return UC_ERR_INSN_INVALID
#define NO_REP                                                                                     \
  if (d->pfx == 0xF2 || d->pfx == 0xF3) BAD
#define NO_PFX                                                                                     \
  if (d->pfx) BAD

uc_err xi_exec_int(xi *x, const xi_insn *d, int *xfer) {
  unsigned sz = d->osz, op = d->op;
  uint64_t ea = d->mod != 3 ? xi_ea(x, d) : 0;
  uint64_t a, b, v;
  uint64_t *fl = &x->c.rflags;
  if (d->map == 1) {
    switch (op) {
    case 0x40 ... 0x4F: /* cmovcc: the source is read (and may fault) either way */
      NO_REP;
      if (sz == 1) BAD;
      if (!rd_rm(x, d, sz, ea, &v)) return FAIL;
      if (xi_cond(*fl, op & 15))
        wr_reg(x, d->reg, sz, d->rex, v);
      else if (sz == 4)
        wr_reg(x, d->reg, 4, d->rex, rd_reg(x, d->reg, 4, d->rex));
      return UC_ERR_OK;
    case 0x80 ... 0x8F: /* jcc rel32 */
      NO_PFX;
      *xfer = 1;
      x->c.rip = x->next_rip + (xi_cond(*fl, op & 15) ? (uint64_t)d->imm : 0);
      return UC_ERR_OK;
    case 0x90 ... 0x9F: /* setcc r/m8 */
      NO_REP;
      if (!wr_rm(x, d, 1, ea, xi_cond(*fl, op & 15))) return FAIL;
      return UC_ERR_OK;
    case 0xA3:   /* bt r/m, r */
    case 0xBA: { /* bt r/m, imm8 (/4) */
      NO_REP;
      if (sz == 1) BAD;
      unsigned bits = 8 * sz;
      uint64_t off;
      if (op == 0xBA) {
        if ((d->reg & 7) != 4) BAD;
        off = (uint64_t)d->imm & (bits - 1);
      } else {
        off = rd_reg(x, d->reg, sz, d->rex);
        if (d->mod != 3) { /* bit string: the offset addresses memory beyond the operand */
          int64_t so = (int64_t)sext(off, sz);
          ea += (uint64_t)((so >> (sz == 2 ? 4 : sz == 4 ? 5 : 6)) * (int64_t)sz);
        }
        off &= bits - 1;
      }
      if (!rd_rm(x, d, sz, ea, &a)) return FAIL;
      alu(10, sz, a, off, fl);
      return UC_ERR_OK;
    }
    case 0xA4:
    case 0xA5:
    case 0xAC:
    case 0xAD: { /* shld / shrd r/m, r, imm8 / cl */
      NO_REP;
      if (sz == 1) BAD;
      uint8_t c = (op & 1) ? (uint8_t)x->c.gpr[1] : (uint8_t)d->imm;
      if (!rd_rm(x, d, sz, ea, &a)) return FAIL;
      b = rd_reg(x, d->reg, sz, d->rex);
      uint64_t f = *fl;
      v = shift(op >= 0xAC ? 9 : 8, sz, a, b, c, &f);
      if (!wr_rm(x, d, sz, ea, v)) return FAIL;
      *fl = f;
      return UC_ERR_OK;
    }
    case 0xAF: /* imul r, r/m */
      NO_REP;
      if (sz == 1) BAD;
      if (!rd_rm(x, d, sz, ea, &b)) return FAIL;
      v = alu(9, sz, rd_reg(x, d->reg, sz, d->rex), b, fl);
      wr_reg(x, d->reg, sz, d->rex, v);
      return UC_ERR_OK;
    case 0xB6:
    case 0xB7:
    case 0xBE:
    case 0xBF: { /* movzx / movsx */
      NO_REP;
      if (sz == 1) BAD;
      unsigned ssz = (op & 1) ? 2 : 1;
      if (!rd_rm(x, d, ssz, ea, &v)) return FAIL;
      if (op >= 0xBE) v = sext(v, ssz);
      wr_reg(x, d->reg, sz, d->rex, v);
      return UC_ERR_OK;
    }
    default: return xi_exec_sse(x, d);
    }
  }

  switch (op) {
  case 0x00 ... 0x3F: { /* ALU: op>>3 the operation, op&7 the form */
    NO_REP;
    unsigned k = op >> 3, form = op & 7;
    if (form <= 1) { /* r/m op= r */
      if (!rd_rm(x, d, sz, ea, &a)) return FAIL;
      b = rd_reg(x, d->reg, sz, d->rex);
      uint64_t f = *fl;
      v = alu(k, sz, a, b, &f);
      if (k != 7 && !wr_rm(x, d, sz, ea, v)) return FAIL;
      *fl = f;
    } else { /* r op= r/m */
      if (!rd_rm(x, d, sz, ea, &b)) return FAIL;
      v = alu(k, sz, rd_reg(x, d->reg, sz, d->rex), b, fl);
      if (k != 7) wr_reg(x, d->reg, sz, d->rex, v);
    }
    return UC_ERR_OK;
  }
  case 0x80:
  case 0x81:
  case 0x83: { /* ALU r/m, imm */
    NO_REP;
    unsigned k = d->reg & 7;
    if (!rd_rm(x, d, sz, ea, &a)) return FAIL;
    uint64_t f = *fl;
    v = alu(k, sz, a, (uint64_t)d->imm & mask(sz), &f);
    if (k != 7 && !wr_rm(x, d, sz, ea, v)) return FAIL;
    *fl = f;
    return UC_ERR_OK;
  }
  case 0x84:
  case 0x85: /* test r/m, r */
    NO_REP;
    if (!rd_rm(x, d, sz, ea, &a)) return FAIL;
    alu(8, sz, a, rd_reg(x, d->reg, sz, d->rex), fl);
    return UC_ERR_OK;
  case 0x86:
  case 0x87: /* xchg r/m, r */
    NO_REP;
    if (!rd_rm(x, d, sz, ea, &a)) return FAIL;
    b = rd_reg(x, d->reg, sz, d->rex);
    if (!wr_rm(x, d, sz, ea, b)) return FAIL;
    wr_reg(x, d->reg, sz, d->rex, a);
    return UC_ERR_OK;
  case 0x88:
  case 0x89: /* mov r/m, r */
    NO_REP;
    if (!wr_rm(x, d, sz, ea, rd_reg(x, d->reg, sz, d->rex))) return FAIL;
    return UC_ERR_OK;
  case 0x8A:
  case 0x8B: /* mov r, r/m */
    NO_REP;
    if (!rd_rm(x, d, sz, ea, &v)) return FAIL;
    wr_reg(x, d->reg, sz, d->rex, v);
    return UC_ERR_OK;
  case 0x8D: /* lea */
    NO_REP;
    if (d->mod == 3) BAD;
    wr_reg(x, d->reg, sz, d->rex, ea);
    return UC_ERR_OK;
  case 0x63: /* movsxd (without REX.W: mov r32, r/m32) */
    NO_REP;
    if (!rd_rm(x, d, 4, ea, &v)) return FAIL;
    wr_reg(x, d->reg, sz, d->rex, sz == 8 ? sext(v, 4) : v);
    return UC_ERR_OK;
  case 0x69:
  case 0x6B: /* imul r, r/m, imm */
    NO_REP;
    if (!rd_rm(x, d, sz, ea, &a)) return FAIL;
    v = alu(9, sz, a, (uint64_t)d->imm & mask(sz), fl);
    wr_reg(x, d->reg, sz, d->rex, v);
    return UC_ERR_OK;
  case 0x50 ... 0x57: /* push r64 */
    NO_PFX;
    if (!push64(x, x->c.gpr[(op & 7) | ((d->rex & 1) << 3)])) return FAIL;
    return UC_ERR_OK;
  case 0x58 ... 0x5F: /* pop r64 */
    NO_PFX;
    if (!xi_load(x, x->c.gpr[4], 8, &v)) return FAIL;
    x->c.gpr[4] += 8;
    x->c.gpr[(op & 7) | ((d->rex & 1) << 3)] = v;
    return UC_ERR_OK;
  case 0x70 ... 0x7F: /* jcc rel8 */
    NO_PFX;
    *xfer = 1;
    x->c.rip = x->next_rip + (xi_cond(*fl, op & 15) ? (uint64_t)d->imm : 0);
    return UC_ERR_OK;
  case 0x90: /* nop (with REX.B: xchg r8, rax, not in the table) */
    if (d->pfx || (d->rex & 1)) BAD;
    return UC_ERR_OK;
  case 0x99: /* cwd / cdq / cqo */
    NO_REP;
    v = (rd_reg(x, 0, sz, 1) >> (8 * sz - 1)) & 1 ? ~0ull : 0;
    wr_reg(x, 2, sz, 1, v);
    return UC_ERR_OK;
  case 0xB0 ... 0xB7: /* mov r8, imm8 */
    NO_REP;
    wr_reg(x, (op & 7) | ((d->rex & 1) << 3), 1, d->rex, (uint64_t)d->imm);
    return UC_ERR_OK;
  case 0xB8 ... 0xBF: /* mov r, imm (movabs with REX.W) */
    NO_REP;
    wr_reg(x, (op & 7) | ((d->rex & 1) << 3), sz, d->rex, (uint64_t)d->imm);
    return UC_ERR_OK;
  case 0xC0:
  case 0xC1:
  case 0xD2:
  case 0xD3: { /* shifts and rotates */
    NO_REP;
    unsigned k = d->reg & 7;
    if (k == 2 || k == 3 || k == 6) BAD; /* rcl, rcr, sal's alias: not in the table */
    uint8_t c = op >= 0xD2 ? (uint8_t)x->c.gpr[1] : (uint8_t)d->imm;
    if (!rd_rm(x, d, sz, ea, &a)) return FAIL;
    uint64_t f = *fl;
    v = shift(k, sz, a, 0, c, &f);
    if (!wr_rm(x, d, sz, ea, v)) return FAIL;
    *fl = f;
    return UC_ERR_OK;
  }
  case 0xC3: /* ret */
    NO_PFX;
    if (!xi_load(x, x->c.gpr[4], 8, &v)) return FAIL;
    x->c.gpr[4] += 8;
    x->c.rip = v;
    *xfer = 1;
    return UC_ERR_OK;
  case 0xC6:
  case 0xC7: /* mov r/m, imm */
    NO_REP;
    if (d->reg & 7) BAD;
    if (!wr_rm(x, d, sz, ea, (uint64_t)d->imm)) return FAIL;
    return UC_ERR_OK;
  case 0xCC: return UC_ERR_EXCEPTION; /* int3 */
  case 0xD8 ... 0xDF: return xi_exec_x87(x, d);
  case 0xE8: /* call rel32 */
    NO_PFX;
    if (!push64(x, x->next_rip)) return FAIL;
    x->c.rip = x->next_rip + (uint64_t)d->imm;
    *xfer = 1;
    return UC_ERR_OK;
  case 0xE9:
  case 0xEB: /* jmp rel32 / rel8 */
    NO_PFX;
    x->c.rip = x->next_rip + (uint64_t)d->imm;
    *xfer = 1;
    return UC_ERR_OK;
  case 0xF6:
  case 0xF7: { /* group 3 */
    NO_REP;
    unsigned k = d->reg & 7;
    switch (k) {
    case 0: /* test r/m, imm */
      if (!rd_rm(x, d, sz, ea, &a)) return FAIL;
      alu(8, sz, a, (uint64_t)d->imm & mask(sz), fl);
      return UC_ERR_OK;
    case 2: /* not: no flags */
      if (!rd_rm(x, d, sz, ea, &a)) return FAIL;
      if (!wr_rm(x, d, sz, ea, ~a)) return FAIL;
      return UC_ERR_OK;
    case 3: { /* neg */
      if (!rd_rm(x, d, sz, ea, &a)) return FAIL;
      uint64_t f = *fl;
      v = alu(11, sz, a, 0, &f);
      if (!wr_rm(x, d, sz, ea, v)) return FAIL;
      *fl = f;
      return UC_ERR_OK;
    }
    case 4:
    case 6:
    case 7: { /* mul / div / idiv */
      if (!rd_rm(x, d, sz, ea, &b)) return FAIL;
      uint64_t ra = x->c.gpr[0], rd = x->c.gpr[2];
      if (k != 4 && div_faults(k, sz, ra, rd, b)) return UC_ERR_EXCEPTION;
      muldiv(k, sz, &ra, &rd, b, fl);
      x->c.gpr[0] = ra, x->c.gpr[2] = rd;
      return UC_ERR_OK;
    }
    default: BAD;
    }
  }
  case 0xFC: /* cld */
    NO_PFX;
    *fl &= ~(uint64_t)XI_DF;
    return UC_ERR_OK;
  case 0xFD: /* std: not in the table, but the df-left-set mutant emits it (jit/lower_call.c) */
    NO_PFX;
    *fl |= XI_DF;
    return UC_ERR_OK;
  case 0xFF: /* /2 call, /4 jmp, /6 push, r/m64 */
    NO_PFX;
    switch (d->reg & 7) {
    case 2:
      if (!rd_rm(x, d, 8, ea, &v)) return FAIL;
      if (!push64(x, x->next_rip)) return FAIL;
      x->c.rip = v;
      *xfer = 1;
      return UC_ERR_OK;
    case 4:
      if (!rd_rm(x, d, 8, ea, &v)) return FAIL;
      x->c.rip = v;
      *xfer = 1;
      return UC_ERR_OK;
    case 6:
      if (!rd_rm(x, d, 8, ea, &v)) return FAIL;
      if (!push64(x, v)) return FAIL;
      return UC_ERR_OK;
    default: BAD;
    }
  default: BAD;
  }
}

#else
typedef int xi_unused_int;
#endif
