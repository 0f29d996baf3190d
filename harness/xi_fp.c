/* xi_fp.c - xi's SSE/SSE2 and x87 instructions, run on the host's units with the guest's controls.
 */
#include "xi.h"

#if defined(AF_HAVE_UNICORN)

#include "xi_internal.h"

/* Exactness: rounding, DAZ/FTZ, NaN quieting and propagation, cvtt* overflow values, x87
 * precision control and every exception flag are the hardware's because the host's own
 * instruction computes them, with the guest's MXCSR or x87 control word loaded around it and
 * the host's put back right after (hooks run C code between instructions). The guest's
 * exception masks are not loaded as such: the host always runs with every exception masked
 * (an unmasked one would trap in xi itself) and xi raises the guest's fault itself. */

typedef long long v2di __attribute__((vector_size(16)));

#define BAD  return UC_ERR_INSN_INVALID
#define FAIL (x->err ? x->err : UC_ERR_EXCEPTION)

/* ---- SSE ------------------------------------------------------------------------------------- */
/* The scalar arithmetic ops, by opcode (0F xx) and prefix. */
enum {
  S_ADD,
  S_MUL,
  S_SUB,
  S_DIV,
  S_SQRT,
  S_CVT2SD, /* cvtss2sd */
  S_CVT2SS, /* cvtsd2ss */
};

/* Runs one scalar op on d (the destination register's 16 bytes) and s: returns the exception
 * flags it raised (MXCSR bits 0-5). dbl: the sd form. */
static uint32_t sse_arith(int k, int dbl, v2di *d, v2di s, uint32_t guest, uint32_t host) {
  uint32_t run = (guest & ~0x3Fu) | 0x1F80u, out = 0;
  v2di dv = *d;
#define OP(ins)                                                                                    \
  __asm__ volatile("ldmxcsr %[run]\n\t" ins " %[s], %[d]\n\tstmxcsr %[out]\n\tldmxcsr %[host]"     \
                   : [d] "+x"(dv), [out] "=m"(out)                                                 \
                   : [s] "x"(s), [run] "m"(run), [host] "m"(host));                                \
  break
  switch (k * 2 + dbl) {
  case S_ADD * 2: OP("addss");
  case S_ADD * 2 + 1: OP("addsd");
  case S_MUL * 2: OP("mulss");
  case S_MUL * 2 + 1: OP("mulsd");
  case S_SUB * 2: OP("subss");
  case S_SUB * 2 + 1: OP("subsd");
  case S_DIV * 2: OP("divss");
  case S_DIV * 2 + 1: OP("divsd");
  case S_SQRT * 2: OP("sqrtss");
  case S_SQRT * 2 + 1: OP("sqrtsd");
  case S_CVT2SD * 2: OP("cvtss2sd");
  case S_CVT2SS * 2 + 1: OP("cvtsd2ss");
  default: break;
  }
#undef OP
  *d = dv;
  return out & 0x3F;
}

/* With underflow unmasked the hardware traps on a tiny result even when it is exact, where
 * the masked run xi makes sets no UE flag (SDM Vol. 1, 11.5.2.4): the op again, without FTZ,
 * and a nonzero denormal result is the trap. The destination of the run (dst) stays. */
static bool tiny(int k, int dbl, const uint8_t *dst, v2di s, uint32_t guest, uint32_t host) {
  v2di d;
  memcpy(&d, dst, 16);
  if (k == S_CVT2SD) return false; /* widening: never tiny */
  sse_arith(k, dbl, &d, s, guest & ~0x8000u, host);
  bool dres = k == S_CVT2SS ? false : dbl;
  if (dres) {
    uint64_t v;
    memcpy(&v, &d, 8);
    return !(v & 0x7ff0000000000000ull) && (v << 1);
  }
  uint32_t v;
  memcpy(&v, &d, 4);
  return !(v & 0x7f800000u) && (v << 1);
}

/* Commits the flags an op raised, or the #XM fault when one of them is unmasked in the guest
 * (then nothing of the instruction is committed, as on the hardware). */
static bool sse_flags(xi *x, uint32_t raised) {
  if (raised & ~(x->c.mxcsr >> 7) & 0x3F) return false;
  x->c.mxcsr |= raised;
  return true;
}

/* The xmm/m source of n bytes (4, 8, 16; m128 of a legacy-SSE instruction must be 16-aligned
 * unless `unaligned`). */
static bool sse_src(xi *x, const xi_insn *d, unsigned n, bool unaligned, v2di *out) {
  if (d->mod == 3) {
    memcpy(out, x->c.xmm[d->rm], 16);
    return true;
  }
  uint64_t ea = xi_ea(x, d);
  *out = (v2di){0, 0};
  if (n == 16 && !unaligned && (ea & 15)) {
    x->err = UC_ERR_EXCEPTION; /* #GP */
    return false;
  }
  return xi_load(x, ea, n, out);
}

/* The r/m integer source of cvtsi2s*: 4 or 8 bytes. */
static bool int_src(xi *x, const xi_insn *d, unsigned n, uint64_t *v) {
  *v = 0;
  if (d->mod == 3) {
    *v = n == 8 ? x->c.gpr[d->rm] : (uint32_t)x->c.gpr[d->rm];
    return true;
  }
  return xi_load(x, xi_ea(x, d), n, v);
}

/* The SSE moves' forms (Intel SDM vol. 2): 0F 10/11 movups (no prefix: unaligned 16 bytes),
 * movss (F3: 4), movsd (F2: 8); 0F 28/29 movaps/movapd (none or 66: aligned 16); 0F 6F/7F
 * movdqa (66: aligned 16), movdqu (F3: unaligned 16). *n bytes moved, *un unaligned allowed;
 * false: a prefix the form does not take. */
static bool mov_form(uint8_t op, uint8_t p, unsigned *n, bool *un) {
  *n = 16, *un = false;
  switch (op) {
  case 0x10:
  case 0x11:
    if (p == 0xF3) return *n = 4, true;
    if (p == 0xF2) return *n = 8, true;
    return p == 0 ? (*un = true) : false;
  case 0x28:
  case 0x29: return p == 0 || p == 0x66;
  default: /* 0x6F, 0x7F */
    if (p == 0xF3) return *un = true;
    return p == 0x66;
  }
}

uc_err xi_exec_sse(xi *x, const xi_insn *d) {
  uint8_t p = d->pfx, op = d->op;
  unsigned w = (d->rex >> 3) & 1;
  uint8_t *dst = x->c.xmm[d->reg & 15];
  uint32_t host = x->host_mxcsr;
  v2di s, dv;
  switch (op) {
  case 0x10:   /* movups / movss / movsd load */
  case 0x28:   /* movaps / movapd load */
  case 0x6F: { /* movdqa / movdqu load */
    unsigned n;
    bool un;
    if (!mov_form(op, p, &n, &un)) BAD;
    if (!sse_src(x, d, n, un, &s)) return FAIL;
    if (n == 16)
      memcpy(dst, &s, 16);
    else if (d->mod == 3)
      memcpy(dst, &s, n); /* reg: the low lane only */
    else
      memset(dst, 0, 16), memcpy(dst, &s, n); /* mem: zero-extended */
    return UC_ERR_OK;
  }
  case 0x11:   /* movups / movss / movsd store */
  case 0x29:   /* movaps / movapd store */
  case 0x7F: { /* movdqa / movdqu store */
    unsigned n;
    bool un;
    if (!mov_form(op, p, &n, &un)) BAD;
    if (d->mod == 3) {
      memcpy(x->c.xmm[d->rm], dst, n);
      return UC_ERR_OK;
    }
    uint64_t ea = xi_ea(x, d);
    if (n == 16 && !un && (ea & 15)) return UC_ERR_EXCEPTION;
    if (!xi_store(x, ea, n, dst)) return FAIL;
    return UC_ERR_OK;
  }
  case 0x14:   /* unpcklps */
  case 0x54:   /* andps / andpd */
  case 0x57:   /* xorps / xorpd */
  case 0x6C:   /* punpcklqdq */
  case 0xEF:   /* pxor */
  case 0xC6: { /* shufps */
    if (op == 0x6C || op == 0xEF) {
      if (p != 0x66) BAD;
    } else if (op == 0x54 || op == 0x57) {
      if (p != 0 && p != 0x66) BAD;
    } else if (p) {
      BAD;
    }
    if (!sse_src(x, d, 16, false, &s)) return FAIL;
    uint32_t a[4], b[4], r[4];
    memcpy(a, dst, 16), memcpy(b, &s, 16);
    switch (op) {
    case 0x14: r[0] = a[0], r[1] = b[0], r[2] = a[1], r[3] = b[1]; break;
    case 0x54:
      for (int i = 0; i < 4; i++)
        r[i] = a[i] & b[i];
      break;
    case 0x57:
    case 0xEF:
      for (int i = 0; i < 4; i++)
        r[i] = a[i] ^ b[i];
      break;
    case 0x6C: r[0] = a[0], r[1] = a[1], r[2] = b[0], r[3] = b[1]; break;
    default: {
      unsigned i8 = (unsigned)d->imm & 0xff;
      r[0] = a[i8 & 3], r[1] = a[(i8 >> 2) & 3], r[2] = b[(i8 >> 4) & 3], r[3] = b[(i8 >> 6) & 3];
      break;
    }
    }
    memcpy(dst, r, 16);
    return UC_ERR_OK;
  }
  case 0x6E: { /* movd / movq xmm, r/m */
    if (p != 0x66) BAD;
    uint64_t v;
    if (!int_src(x, d, w ? 8 : 4, &v)) return FAIL;
    memset(dst, 0, 16);
    memcpy(dst, &v, 8);
    return UC_ERR_OK;
  }
  case 0x7E: {
    if (p == 0xF3) { /* movq xmm, xmm/m64 */
      if (!sse_src(x, d, 8, true, &s)) return FAIL;
      memset(dst, 0, 16);
      memcpy(dst, &s, 8);
      return UC_ERR_OK;
    }
    if (p != 0x66) BAD;
    /* movd / movq r/m, xmm */
    uint64_t v = 0;
    memcpy(&v, dst, w ? 8 : 4);
    if (d->mod == 3) {
      x->c.gpr[d->rm] = v; /* movd zero-extends into the 64-bit register */
      return UC_ERR_OK;
    }
    if (!xi_store(x, xi_ea(x, d), w ? 8 : 4, &v)) return FAIL;
    return UC_ERR_OK;
  }
  case 0xD6: /* movq xmm/m64, xmm */
    if (p != 0x66) BAD;
    if (d->mod == 3) {
      uint8_t *r = x->c.xmm[d->rm];
      uint64_t v;
      memcpy(&v, dst, 8);
      memset(r, 0, 16);
      memcpy(r, &v, 8);
      return UC_ERR_OK;
    }
    if (!xi_store(x, xi_ea(x, d), 8, dst)) return FAIL;
    return UC_ERR_OK;
  case 0x51:
  case 0x58:
  case 0x59:
  case 0x5A:
  case 0x5C:
  case 0x5E: { /* scalar arithmetic */
    if (p != 0xF3 && p != 0xF2) BAD;
    int dbl = p == 0xF2, k;
    switch (op) {
    case 0x51: k = S_SQRT; break;
    case 0x58: k = S_ADD; break;
    case 0x59: k = S_MUL; break;
    case 0x5A: k = dbl ? S_CVT2SS : S_CVT2SD; break;
    case 0x5C: k = S_SUB; break;
    default: k = S_DIV; break;
    }
    if (!sse_src(x, d, dbl ? 8 : 4, true, &s)) return FAIL;
    memcpy(&dv, dst, 16);
    uint32_t raised = sse_arith(k, dbl, &dv, s, x->c.mxcsr, host);
    if (!(x->c.mxcsr & 0x800) && tiny(k, dbl, dst, s, x->c.mxcsr, host))
      return UC_ERR_EXCEPTION; /* #XM: an unmasked underflow traps on a tiny result, exact too */
    if (!sse_flags(x, raised)) return UC_ERR_EXCEPTION;
    memcpy(dst, &dv, 16);
    return UC_ERR_OK;
  }
  case 0x2A: { /* cvtsi2ss / cvtsi2sd xmm, r/m32/64 */
    if (p != 0xF3 && p != 0xF2) BAD;
    uint64_t v;
    if (!int_src(x, d, w ? 8 : 4, &v)) return FAIL;
    uint32_t run = (x->c.mxcsr & ~0x3Fu) | 0x1F80u, out = 0;
    memcpy(&dv, dst, 16);
#define CV(ins, m)                                                                                 \
  __asm__ volatile("ldmxcsr %[run]\n\t" ins " %" m                                                 \
                   "[s], %[d]\n\tstmxcsr %[out]\n\tldmxcsr %[host]"                                \
                   : [d] "+x"(dv), [out] "=m"(out)                                                 \
                   : [s] "r"(v), [run] "m"(run), [host] "m"(host))
    if (p == 0xF3) {
      if (w)
        CV("cvtsi2ssq", "q");
      else
        CV("cvtsi2ssl", "k");
    } else {
      if (w)
        CV("cvtsi2sdq", "q");
      else
        CV("cvtsi2sdl", "k");
    }
#undef CV
    if (!sse_flags(x, out & 0x3F)) return UC_ERR_EXCEPTION;
    memcpy(dst, &dv, 16);
    return UC_ERR_OK;
  }
  case 0x2C: { /* cvttss2si / cvttsd2si r32/64, xmm/m */
    if (p != 0xF3 && p != 0xF2) BAD;
    if (!sse_src(x, d, p == 0xF2 ? 8 : 4, true, &s)) return FAIL;
    uint32_t run = (x->c.mxcsr & ~0x3Fu) | 0x1F80u, out = 0;
    uint64_t r = 0;
#define CV(ins, m)                                                                                 \
  __asm__ volatile("ldmxcsr %[run]\n\t" ins " %[s], %" m                                           \
                   "[r]\n\tstmxcsr %[out]\n\tldmxcsr %[host]"                                      \
                   : [r] "+r"(r), [out] "=m"(out)                                                  \
                   : [s] "x"(s), [run] "m"(run), [host] "m"(host))
    if (p == 0xF3) {
      if (w)
        CV("cvttss2si", "q");
      else
        CV("cvttss2si", "k");
    } else {
      if (w)
        CV("cvttsd2si", "q");
      else
        CV("cvttsd2si", "k");
    }
#undef CV
    if (!sse_flags(x, out & 0x3F)) return UC_ERR_EXCEPTION;
    x->c.gpr[d->reg] = w ? r : (uint32_t)r;
    return UC_ERR_OK;
  }
  case 0x2E: { /* ucomiss / ucomisd: ZF PF CF, OF SF AF cleared */
    if (p != 0 && p != 0x66) BAD;
    if (!sse_src(x, d, p ? 8 : 4, true, &s)) return FAIL;
    uint32_t run = (x->c.mxcsr & ~0x3Fu) | 0x1F80u, out = 0;
    uint64_t f = 0;
    memcpy(&dv, dst, 16);
    if (p)
      __asm__ volatile("ldmxcsr %[run]\n\tucomisd %[s], %[d]\n\tstmxcsr %[out]\n\t"
                       "ldmxcsr %[host]\n\tlea -128(%%rsp), %%rsp\n\tpushfq\n\tpopq %[f]\n\t"
                       "lea 128(%%rsp), %%rsp"
                       : [f] "=r"(f), [out] "=m"(out)
                       : [d] "x"(dv), [s] "x"(s), [run] "m"(run), [host] "m"(host)
                       : "cc");
    else
      __asm__ volatile("ldmxcsr %[run]\n\tucomiss %[s], %[d]\n\tstmxcsr %[out]\n\t"
                       "ldmxcsr %[host]\n\tlea -128(%%rsp), %%rsp\n\tpushfq\n\tpopq %[f]\n\t"
                       "lea 128(%%rsp), %%rsp"
                       : [f] "=r"(f), [out] "=m"(out)
                       : [d] "x"(dv), [s] "x"(s), [run] "m"(run), [host] "m"(host)
                       : "cc");
    if (!sse_flags(x, out & 0x3F)) return UC_ERR_EXCEPTION;
    x->c.rflags = (x->c.rflags & ~(uint64_t)XI_ARITH) | (f & XI_ARITH);
    return UC_ERR_OK;
  }
  case 0xAE: { /* /2 ldmxcsr, /3 stmxcsr m32 */
    if (p || d->mod == 3) BAD;
    unsigned k = d->reg & 7;
    uint64_t ea = xi_ea(x, d);
    if (k == 2) {
      uint32_t v;
      if (!xi_load(x, ea, 4, &v)) return FAIL;
      if (v & 0xFFFF0000u) return UC_ERR_EXCEPTION; /* reserved bits: #GP (SDM: LDMXCSR) */
      x->c.mxcsr = v;
      return UC_ERR_OK;
    }
    if (k == 3) {
      if (!xi_store(x, ea, 4, &x->c.mxcsr)) return FAIL;
      return UC_ERR_OK;
    }
    BAD;
  }
  default: BAD;
  }
}

/* ---- x87 ----------------------------------------------------------------------------------------
 * Registers by physical number; ST(i) is (TOP + i) & 7. Stack overflow and underflow are not
 * modelled (as in QEMU): the JIT keeps its stack balanced. */
#define FSW_C1 0x0200u

static inline unsigned top_of(const xi *x) { return (x->c.fsw >> 11) & 7; }
static inline uint8_t *st(xi *x, unsigned i) { return x->c.st[(top_of(x) + i) & 7]; }

static void push(xi *x, const void *v10) {
  unsigned t = (top_of(x) - 1) & 7;
  x->c.fsw = (uint16_t)((x->c.fsw & ~0x3800u) | t << 11);
  memcpy(x->c.st[t], v10, 10);
  x->c.fempty &= (uint8_t) ~(1u << t);
}

static void pop(xi *x) {
  unsigned t = top_of(x);
  x->c.fempty |= (uint8_t)(1u << t);
  x->c.fsw = (uint16_t)((x->c.fsw & ~0x3800u) | ((t + 1) & 7) << 11);
}

/* The host FSW after an op: its exception flags are ORed into the guest's and C1 taken from
 * it (C0, C2, C3 are left as they were: the SDM leaves them undefined for these ops and the
 * hardware leaves them alone). An exception unmasked in the guest's CW also sets ES and B. */
static void fsw_merge(xi *x, uint16_t sw) {
  uint16_t f = x->c.fsw | (sw & 0x3F);
  f = (uint16_t)((f & ~FSW_C1) | (sw & FSW_C1));
  if (f & 0x3F & ~x->c.fcw) f |= 0x8080;
  x->c.fsw = f;
}

static inline void c1_clear(xi *x) { x->c.fsw &= (uint16_t)~FSW_C1; }

/* The control word the host runs with: the guest's rounding and precision, all exceptions
 * masked. */
static inline uint16_t run_cw(const xi *x) { return x->c.fcw | 0x3F; }

uc_err xi_exec_x87(xi *x, const xi_insn *d) {
  if (d->pfx) BAD;
  uint16_t run = run_cw(x), host = x->host_fcw, sw = 0;
  uint8_t out[16] __attribute__((aligned(16))) = {0};
  unsigned k = d->reg & 7, i = d->rm & 7;
  uint64_t ea = d->mod != 3 ? xi_ea(x, d) : 0;
  uint64_t m = 0;
  switch (d->op) {
  case 0xD9:
    if (d->mod == 3) {
      unsigned b = 0xC0 | k << 3 | i;
      if (b >= 0xC0 && b <= 0xC7) { /* fld st(i) */
        memcpy(out, st(x, i), 10);
        push(x, out);
        c1_clear(x);
        return UC_ERR_OK;
      }
      if (b >= 0xC8 && b <= 0xCF) { /* fxch st(i) */
        unsigned p0 = top_of(x), pi = (p0 + i) & 7;
        memcpy(out, x->c.st[p0], 10);
        memcpy(x->c.st[p0], x->c.st[pi], 10);
        memcpy(x->c.st[pi], out, 10);
        uint8_t e0 = x->c.fempty >> p0 & 1, ei = x->c.fempty >> pi & 1;
        x->c.fempty = (uint8_t)((x->c.fempty & ~(1u << p0 | 1u << pi)) | ei << p0 | e0 << pi);
        c1_clear(x);
        return UC_ERR_OK;
      }
      if (b == 0xE0) { /* fchs */
        st(x, 0)[9] ^= 0x80;
        c1_clear(x);
        return UC_ERR_OK;
      }
      if (b == 0xE8 || b == 0xEE) { /* fld1, fldz */
        static const uint8_t one[10] = {0, 0, 0, 0, 0, 0, 0, 0x80, 0xFF, 0x3F};
        static const uint8_t zero[10] = {0};
        push(x, b == 0xE8 ? one : zero);
        c1_clear(x);
        return UC_ERR_OK;
      }
      BAD;
    }
    switch (k) {
    case 0: { /* fld m32 */
      uint32_t v;
      if (!xi_load(x, ea, 4, &v)) return FAIL;
      __asm__ volatile("fnclex\n\tfldcw %[run]\n\tflds %[v]\n\tfnstsw %[sw]\n\tfstpt %[o]\n\t"
                       "fldcw %[host]"
                       : [sw] "=m"(sw), [o] "=m"(*(long double *)out)
                       : [v] "m"(v), [run] "m"(run), [host] "m"(host));
      push(x, out);
      fsw_merge(x, sw);
      return UC_ERR_OK;
    }
    case 3: { /* fstp m32 */
      uint32_t v;
      __asm__ volatile("fnclex\n\tfldcw %[run]\n\tfldt %[i]\n\tfstps %[v]\n\tfnstsw %[sw]\n\t"
                       "fldcw %[host]"
                       : [sw] "=m"(sw), [v] "=m"(v)
                       : [i] "m"(*(const long double *)st(x, 0)), [run] "m"(run), [host] "m"(host));
      if (!xi_store(x, ea, 4, &v)) return FAIL;
      fsw_merge(x, sw);
      pop(x);
      return UC_ERR_OK;
    }
    case 5: { /* fldcw: the control word as the hardware keeps it (reserved bit 6 reads 1) */
      uint16_t g, v, cw = 0;
      if (!xi_load(x, ea, 2, &g)) return FAIL;
      v = g | 0x3F; /* masked for the host's round trip; the guest's masks are put back */
      __asm__ volatile("fldcw %[v]\n\tfnstcw %[cw]\n\tfldcw %[host]"
                       : [cw] "=m"(cw)
                       : [v] "m"(v), [host] "m"(host));
      x->c.fcw = (uint16_t)((cw & ~0x3Fu) | (g & 0x3F));
      return UC_ERR_OK;
    }
    case 7: /* fnstcw */
      if (!xi_store(x, ea, 2, &x->c.fcw)) return FAIL;
      return UC_ERR_OK;
    default: BAD;
    }
  case 0xDB:
    if (d->mod == 3) {
      if (k == 4 && i == 3) { /* fninit */
        x->c.fcw = 0x37F, x->c.fsw = 0, x->c.fempty = 0xff;
        return UC_ERR_OK;
      }
      BAD;
    }
    switch (k) {
    case 0: { /* fild m32 */
      uint32_t v;
      if (!xi_load(x, ea, 4, &v)) return FAIL;
      __asm__ volatile("fnclex\n\tfldcw %[run]\n\tfildl %[v]\n\tfnstsw %[sw]\n\tfstpt %[o]\n\t"
                       "fldcw %[host]"
                       : [sw] "=m"(sw), [o] "=m"(*(long double *)out)
                       : [v] "m"(v), [run] "m"(run), [host] "m"(host));
      push(x, out);
      fsw_merge(x, sw);
      return UC_ERR_OK;
    }
    case 1:   /* fisttp m32 */
    case 3: { /* fistp m32 */
      uint32_t v;
      if (k == 1)
        __asm__ volatile(
            "fnclex\n\tfldcw %[run]\n\tfldt %[i]\n\tfisttpl %[v]\n\tfnstsw %[sw]\n\t"
            "fldcw %[host]"
            : [sw] "=m"(sw), [v] "=m"(v)
            : [i] "m"(*(const long double *)st(x, 0)), [run] "m"(run), [host] "m"(host));
      else
        __asm__ volatile(
            "fnclex\n\tfldcw %[run]\n\tfldt %[i]\n\tfistpl %[v]\n\tfnstsw %[sw]\n\t"
            "fldcw %[host]"
            : [sw] "=m"(sw), [v] "=m"(v)
            : [i] "m"(*(const long double *)st(x, 0)), [run] "m"(run), [host] "m"(host));
      if (!xi_store(x, ea, 4, &v)) return FAIL;
      fsw_merge(x, sw);
      pop(x);
      return UC_ERR_OK;
    }
    case 5: /* fld m80: no conversion, no exception */
      if (!xi_load(x, ea, 10, out)) return FAIL;
      push(x, out);
      c1_clear(x);
      return UC_ERR_OK;
    case 7: /* fstp m80 */
      if (!xi_store(x, ea, 10, st(x, 0))) return FAIL;
      c1_clear(x);
      pop(x);
      return UC_ERR_OK;
    default: BAD;
    }
  case 0xDD:
    if (d->mod == 3) {
      if (k == 3) { /* fstp st(i) */
        unsigned pi = (top_of(x) + i) & 7;
        memcpy(x->c.st[pi], st(x, 0), 10);
        x->c.fempty &= (uint8_t) ~(1u << pi);
        c1_clear(x);
        pop(x);
        return UC_ERR_OK;
      }
      BAD;
    }
    switch (k) {
    case 0: /* fld m64 */
      if (!xi_load(x, ea, 8, &m)) return FAIL;
      __asm__ volatile("fnclex\n\tfldcw %[run]\n\tfldl %[v]\n\tfnstsw %[sw]\n\tfstpt %[o]\n\t"
                       "fldcw %[host]"
                       : [sw] "=m"(sw), [o] "=m"(*(long double *)out)
                       : [v] "m"(m), [run] "m"(run), [host] "m"(host));
      push(x, out);
      fsw_merge(x, sw);
      return UC_ERR_OK;
    case 1: /* fisttp m64 */
    case 3: /* fstp m64 */
      if (k == 1)
        __asm__ volatile(
            "fnclex\n\tfldcw %[run]\n\tfldt %[i]\n\tfisttpll %[v]\n\tfnstsw %[sw]\n\t"
            "fldcw %[host]"
            : [sw] "=m"(sw), [v] "=m"(m)
            : [i] "m"(*(const long double *)st(x, 0)), [run] "m"(run), [host] "m"(host));
      else
        __asm__ volatile(
            "fnclex\n\tfldcw %[run]\n\tfldt %[i]\n\tfstpl %[v]\n\tfnstsw %[sw]\n\t"
            "fldcw %[host]"
            : [sw] "=m"(sw), [v] "=m"(m)
            : [i] "m"(*(const long double *)st(x, 0)), [run] "m"(run), [host] "m"(host));
      if (!xi_store(x, ea, 8, &m)) return FAIL;
      fsw_merge(x, sw);
      pop(x);
      return UC_ERR_OK;
    default: BAD;
    }
  case 0xDE: {
    /* the P-arithmetic: ST(i) = ST(i) op ST(0), pop. The host runs the same opcode on its
     * ST(1) = the guest's ST(i) and ST(0) = the guest's ST(0), so operand order, NaN choice
     * and flags are the hardware's. */
    if (d->mod != 3 || k == 2 || k == 3) BAD;
    unsigned pi = (top_of(x) + i) & 7;
    const long double *a = (const long double *)x->c.st[pi], *b = (const long double *)st(x, 0);
#define PA(byte)                                                                                   \
  __asm__ volatile("fnclex\n\tfldcw %[run]\n\tfldt %[a]\n\tfldt %[b]\n\t.byte 0xDE, " byte         \
                   "\n\tfnstsw %[sw]\n\tfstpt %[o]\n\tfldcw %[host]"                               \
                   : [sw] "=m"(sw), [o] "=m"(*(long double *)out)                                  \
                   : [a] "m"(*a), [b] "m"(*b), [run] "m"(run), [host] "m"(host));                  \
  break
    switch (k) {
    case 0: PA("0xC1");  /* faddp */
    case 1: PA("0xC9");  /* fmulp */
    case 4: PA("0xE1");  /* fsubrp */
    case 5: PA("0xE9");  /* fsubp */
    case 6: PA("0xF1");  /* fdivrp */
    default: PA("0xF9"); /* fdivp */
    }
#undef PA
    memcpy(x->c.st[pi], out, 10);
    x->c.fempty &= (uint8_t) ~(1u << pi);
    fsw_merge(x, sw);
    pop(x);
    return UC_ERR_OK;
  }
  case 0xDF:
    if (d->mod == 3) {
      if (k == 5) { /* fucomip st(0), st(i): ZF PF CF, OF SF AF cleared */
        const long double *a = (const long double *)st(x, i), *b = (const long double *)st(x, 0);
        uint64_t f = 0;
        __asm__ volatile(
            "fnclex\n\tfldcw %[run]\n\tfldt %[a]\n\tfldt %[b]\n\t.byte 0xDF, 0xE9\n\t"
            "lea -128(%%rsp), %%rsp\n\tpushfq\n\tpopq %[f]\n\tlea 128(%%rsp), %%rsp\n\t"
            "fnstsw %[sw]\n\tfstp %%st(0)\n\tfldcw %[host]"
            : [sw] "=m"(sw), [f] "=r"(f)
            : [a] "m"(*a), [b] "m"(*b), [run] "m"(run), [host] "m"(host)
            : "cc");
        x->c.rflags = (x->c.rflags & ~(uint64_t)XI_ARITH) | (f & XI_ARITH);
        /* C1 is left alone (measured: the SDM's "C1 set to 0" is not what the hardware does) */
        fsw_merge(x, (uint16_t)((sw & ~FSW_C1) | (x->c.fsw & FSW_C1)));
        pop(x);
        return UC_ERR_OK;
      }
      BAD;
    }
    switch (k) {
    case 0:   /* fild m16 */
    case 5: { /* fild m64 */
      uint16_t m16 = 0;
      if (!xi_load(x, ea, k ? 8 : 2, k ? (void *)&m : (void *)&m16)) return FAIL;
      if (k)
        __asm__ volatile("fnclex\n\tfldcw %[run]\n\tfildll %[v]\n\tfnstsw %[sw]\n\tfstpt %[o]\n\t"
                         "fldcw %[host]"
                         : [sw] "=m"(sw), [o] "=m"(*(long double *)out)
                         : [v] "m"(m), [run] "m"(run), [host] "m"(host));
      else
        __asm__ volatile("fnclex\n\tfldcw %[run]\n\tfilds %[v]\n\tfnstsw %[sw]\n\tfstpt %[o]\n\t"
                         "fldcw %[host]"
                         : [sw] "=m"(sw), [o] "=m"(*(long double *)out)
                         : [v] "m"(m16), [run] "m"(run), [host] "m"(host));
      push(x, out);
      fsw_merge(x, sw);
      return UC_ERR_OK;
    }
    case 1:   /* fisttp m16 */
    case 3:   /* fistp m16 */
    case 7: { /* fistp m64 */
      const long double *a = (const long double *)st(x, 0);
      unsigned n = k == 7 ? 8 : 2;
      uint16_t v16 = 0;
      if (k == 1)
        __asm__ volatile("fnclex\n\tfldcw %[run]\n\tfldt %[i]\n\tfisttps %[v]\n\tfnstsw %[sw]\n\t"
                         "fldcw %[host]"
                         : [sw] "=m"(sw), [v] "=m"(v16)
                         : [i] "m"(*a), [run] "m"(run), [host] "m"(host));
      else if (k == 3)
        __asm__ volatile("fnclex\n\tfldcw %[run]\n\tfldt %[i]\n\tfistps %[v]\n\tfnstsw %[sw]\n\t"
                         "fldcw %[host]"
                         : [sw] "=m"(sw), [v] "=m"(v16)
                         : [i] "m"(*a), [run] "m"(run), [host] "m"(host));
      else
        __asm__ volatile("fnclex\n\tfldcw %[run]\n\tfldt %[i]\n\tfistpll %[v]\n\tfnstsw %[sw]\n\t"
                         "fldcw %[host]"
                         : [sw] "=m"(sw), [v] "=m"(m)
                         : [i] "m"(*a), [run] "m"(run), [host] "m"(host));
      if (n == 2) m = v16;
      if (!xi_store(x, ea, n, &m)) return FAIL;
      fsw_merge(x, sw);
      pop(x);
      return UC_ERR_OK;
    }
    default: BAD;
    }
  default: BAD;
  }
}

#else
typedef int xi_unused_fp;
#endif
