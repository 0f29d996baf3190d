/* xi_internal.h - xi's private state, decoded instruction and memory-access helpers
 * (harness/xi*.c). */
#ifndef ABIFUZZ_HARNESS_XI_INTERNAL_H
#define ABIFUZZ_HARNESS_XI_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "xi.h"

/* The architectural state a context saves: everything an instruction of the table reads or
 * writes (xi.h's xi_regs, which xi_regs_get hands out). x87 registers are kept by physical
 * number (FP0..FP7), 10 bytes each in 16. */
typedef xi_regs xi_cpu;

struct xi_context {
  xi_cpu c;
};

typedef struct {
  uint64_t lo, hi; /* [lo, hi) */
  uint8_t *host;   /* host address of lo */
  uint32_t perms;
} xi_region;

typedef struct {
  int type; /* UC_HOOK_* or an invalid-access mask; 0: deleted */
  void *cb;
  void *user;
  uint64_t begin, end;
  uint64_t id;
  bool has_ops;    /* a code hook restricted to some opcodes (xi_hook_code_ops) */
  uint64_t ops[8]; /* bit (map << 8 | opcode): called before those */
} xi_hook;

/* A hash set of the one-address code hooks: open addressing, 0 = free slot (address 0 is kept
 * apart in has_zero). */
typedef struct {
  uint64_t *slot;
  size_t cap; /* a power of two, or 0 */
  size_t n;
  bool has_zero;
} xi_addrset;

/* A kind's only hook (read or write), for the access path to call without walking the list;
 * cb NULL: the kind has none or several. */
typedef struct {
  uc_cb_hookmem_t cb;
  void *user;
  uint64_t begin, end;
} xi_sole;

/* Hook kinds, each with its own list (a data access walks only the read or write hooks). */
enum { XI_HK_CODE, XI_HK_BLOCK, XI_HK_READ, XI_HK_WRITE, XI_HK_INVALID, XI_HK_N };

/* Data-access flags for the memory helpers. */
enum { XI_R = 1, XI_W = 2 };

struct xi {
  xi_cpu c;
  /* memory */
  xi_region *reg;
  int nreg, capreg;
  xi_region rcache, wcache, fcache; /* last region used to read / write / fetch (hi 0: none) */
  uint64_t fc_n; /* fcache: hi - lo - 14 (rip - lo < fc_n: 15 bytes at rip lie in it); 0: none */
  /* hooks, in the order added */
  xi_hook *hooks;
  int nhooks, caphooks;
  uint64_t next_id;
  int *by_kind[XI_HK_N]; /* per kind, the indices into hooks of that kind, in order */
  int n_kind[XI_HK_N], cap_kind[XI_HK_N];
  xi_addrset code_addrs;   /* one-address UC_HOOK_CODE hooks */
  int ncode_range;         /* UC_HOOK_CODE hooks over more than one address */
  uint64_t code_ops[8];    /* bit (map << 8 | opcode): some range code hook wants it */
  int nblock, ninvalid;    /* UC_HOOK_BLOCK, invalid-access hooks */
  xi_sole sole[2];         /* the one UC_HOOK_MEM_READ [0] / UC_HOOK_MEM_WRITE [1] hook */
  uint64_t rh_lo, rh_hi;   /* the union of the UC_HOOK_MEM_READ ranges (none: ~0, 0) */
  uint64_t wh_lo, wh_hi;   /* likewise for UC_HOOK_MEM_WRITE */
  uint64_t code_bloom[64]; /* bit (addr & 4095): some one-address code hook may be there */
  int ncode_one;           /* one-address code hooks filed (none: no bloom test at all) */
  int in_hook;             /* deleting during a callback: compaction waits */
  int ndeleted;            /* hooks marked deleted (type 0), not compacted yet */
  /* the current run */
  bool stop;
  uc_err err;        /* the fault of the current instruction */
  uint64_t next_rip; /* its end */
  uint32_t host_mxcsr;
  uint16_t host_fcw;
  xi_stats stats;
};

/* ---- a decoded instruction ------------------------------------------------------------------ */
typedef struct {
  uint8_t len;
  uint8_t pfx;   /* the one legacy prefix: 0, 0x66, 0xF2, 0xF3 */
  uint8_t rex;   /* 0 or 0x40..0x4F */
  uint8_t map;   /* 0: one-byte opcode, 1: 0F xx */
  uint8_t op;    /* the opcode byte (after 0F for map 1) */
  uint8_t mod;   /* ModRM.mod (3: register operand) */
  uint8_t reg;   /* ModRM.reg | REX.R << 3 (a /digit is reg & 7) */
  uint8_t rm;    /* ModRM.rm | REX.B << 3 when mod == 3 */
  uint8_t base;  /* memory: base register 0..15, XI_NOBASE, XI_RIPBASE */
  uint8_t index; /* memory: index 0..15 or XI_NOINDEX */
  uint8_t scale; /* shift 0..3 */
  uint8_t osz;   /* operand size in bytes for integer ops: 1, 2, 4, 8 */
  int32_t disp;
  int64_t imm;
} xi_insn;
_Static_assert(offsetof(xi_insn, rm) == 7 && offsetof(xi_insn, osz) == 11 &&
                   offsetof(xi_insn, disp) == 12,
               "xi_decode packs the byte fields in this order");

#define XI_NOBASE  16
#define XI_RIPBASE 17
#define XI_NOINDEX 16

/* ---- the decoder: inline in the run loop (its hot path) ----------------------------------- */
/* xi accepts the encoder's output (jit/x86_enc.c): at most one legacy prefix (66, F2 or F3, a
 * mandatory or operand-size prefix), then an optional REX, then the opcode (one byte or 0F xx),
 * ModRM, SIB, displacement and immediate. Every table row is accepted in every operand form the
 * hardware gives it (a register where the table only uses memory, e.g. movss's store form, is
 * the same instruction); other prefixes (lock, segments, 67), other opcodes and the register
 * forms that are other instructions are rejected, by the table here or by the executors:
 * UC_ERR_INSN_INVALID, as ud2 is. Intel SDM Vol. 2, chapter 2 and Appendix A. */
enum {
  XD_A = 1,   /* accepted */
  XD_M = 2,   /* has ModRM */
  XD_I8 = 4,  /* imm8 */
  XD_IZ = 8,  /* imm16 with 66, else imm32 */
  XD_IV = 12, /* B8+r: imm16 / imm32 / imm64 (REX.W) */
  XD_B = 16,  /* operates on bytes */
  XD_R = 32,  /* rel32 */
  XD_T = 64,  /* F6/F7: /0 (test) takes an immediate */
};
extern const uint8_t xi_ops[512]; /* xi_decode.c: per opcode (one-byte map, then 0F xx) */

static inline int32_t rd32(const uint8_t *p) {
  int32_t v;
  memcpy(&v, p, 4);
  return v;
}

/* Decodes one instruction at p (15 readable bytes, of which avail are code): false for anything
 * xi does not execute (UC_ERR_INSN_INVALID), or with *need_more for an instruction longer than
 * avail (the caller tells a fetch fault from that). */

static inline __attribute__((always_inline)) bool xi_decode(const uint8_t *p, size_t avail,
                                                            xi_insn *d, bool *need_more) {
  /* Locals, written to d once at the end: d's bytes could alias p's, and stores into it would
   * make the compiler reload every byte. A decode never looks past 15 bytes; when fewer are
   * available the caller pads with zeros, and an instruction reaching into the padding reports
   * need_more. */
  size_t n = 0;
  unsigned pfx = 0, rex = 0, map = 0;
  unsigned b = p[0];
  if (b == 0x66 || b == 0xF2 || b == 0xF3) pfx = b, b = p[++n];
  if ((b & 0xF0) == 0x40) rex = b, b = p[++n];
  if (b == 0x0F) map = 1, b = p[++n];
  n++;
  unsigned flags = xi_ops[map << 8 | b];
  *need_more = false;
  if (!(flags & XD_A)) goto bad;
  unsigned w = (rex >> 3) & 1;
  unsigned osz = flags & XD_B ? 1 : w ? 8 : pfx == 0x66 ? 2 : 4;
  unsigned mod = 3, reg = 0, rm = 0, base = XI_NOBASE, index = XI_NOINDEX, scale = 0;
  int32_t disp = 0;
  int64_t imm = 0;
  if (flags & XD_M) {
    unsigned m = p[n++];
    mod = m >> 6;
    reg = ((m >> 3) & 7) | ((rex & 4) << 1);
    rm = m & 7;
    if (mod == 3) {
      rm |= (rex & 1) << 3;
    } else {
      if (rm == 4) {
        unsigned s = p[n++];
        scale = s >> 6;
        unsigned idx = ((s >> 3) & 7) | ((rex & 2) << 2);
        index = idx == 4 ? XI_NOINDEX : idx;
        base = s & 7;
        if (base == 5 && mod == 0)
          base = XI_NOBASE, disp = rd32(p + n), n += 4;
        else
          base |= (rex & 1) << 3;
      } else if (rm == 5 && mod == 0) {
        base = XI_RIPBASE, disp = rd32(p + n), n += 4;
      } else {
        base = rm | ((rex & 1) << 3);
      }
      if (mod == 1)
        disp = (int8_t)p[n++];
      else if (mod == 2)
        disp = rd32(p + n), n += 4;
    }
  }
  if (flags & (XD_IV | XD_R | XD_T)) {
    unsigned ik = flags & XD_IV;
    if ((flags & XD_T) && (reg & 7) == 0) ik = flags & XD_B ? XD_I8 : XD_IZ; /* test r/m, imm */
    if (flags & XD_R) {
      imm = rd32(p + n), n += 4;
    } else if (ik == XD_I8) {
      imm = (int8_t)p[n++];
    } else if (ik == XD_IV && w) {
      memcpy(&imm, p + n, 8), n += 8;
    } else if (ik && pfx == 0x66 && !w) {
      int16_t v;
      memcpy(&v, p + n, 2);
      imm = v, n += 2;
    } else if (ik) {
      imm = rd32(p + n), n += 4;
    }
  }
  if (n > 15) goto bad;
  if (n > avail) {
    *need_more = true;
    return false;
  }
  /* two stores for the twelve byte fields (the layout of xi_insn, little-endian) */
  uint64_t h = n | pfx << 8 | rex << 16 | map << 24 | (uint64_t)b << 32 | (uint64_t)mod << 40 |
               (uint64_t)reg << 48 | (uint64_t)rm << 56;
  uint32_t h2 = base | index << 8 | scale << 16 | osz << 24;
  memcpy(d, &h, 8);
  memcpy((uint8_t *)d + 8, &h2, 4);
  d->disp = disp, d->imm = imm;
  return true;
bad:
  if (n > avail) *need_more = true;
  return false;
}

/* ---- execution (xi_int.c, xi_fp.c) --------------------------------------------------------- */
/* Execute d: x->c.rip is its address (hooks during it read that), x->next_rip
 * its end; a control transfer sets x->c.rip itself and *xfer = 1, else the run loop moves RIP
 * to next_rip. UC_ERR_OK, or the fault with
 * nothing of the instruction committed (the run loop puts RIP back). xi_exec_int dispatches
 * the SSE (0F map) and x87 (D8-DF) opcodes to the others. */
uc_err xi_exec_int(xi *x, const xi_insn *d, int *xfer);
uc_err xi_exec_sse(xi *x, const xi_insn *d);
uc_err xi_exec_x87(xi *x, const xi_insn *d);

/* ---- memory (xi.c) -------------------------------------------------------------------------- */
bool xi_load_slow(xi *x, uint64_t a, unsigned n, void *out);
bool xi_store_slow(xi *x, uint64_t a, unsigned n, const void *in);

/* The effective address of d's memory operand (after the hooks: they may change registers). */
static inline uint64_t xi_ea(const xi *x, const xi_insn *d) {
  uint64_t a = (uint64_t)(int64_t)d->disp;
  if (d->base == XI_RIPBASE) return x->next_rip + a;
  if (d->base < 16) a += x->c.gpr[d->base];
  if (d->index < 16) a += x->c.gpr[d->index] << d->scale;
  return a;
}

/* The data-access hooks of one access (xi.c): of either kind, and a read's / a write's. */
void xi_mem_hooks(xi *x, int kind, uc_mem_type t, uint64_t a, unsigned n, const void *val);
void xi_mem_hooks_r(xi *x, uint64_t a, unsigned n);
void xi_mem_hooks_w(xi *x, uint64_t a, unsigned n, const void *val);

/* Loads n bytes (1..16) at guest address a: false on a fault (x->err set, the invalid-access
 * hooks called). The read hooks run first when a hook range overlaps. The last region read is
 * cached, so the common access is a range test and a copy. */
static inline __attribute__((always_inline)) bool xi_load(xi *x, uint64_t a, unsigned n,
                                                          void *out) {
  uint64_t e = a + n;
  if (__builtin_expect(a >= x->rcache.lo && e <= x->rcache.hi && e > a, 1)) {
    if (__builtin_expect(a <= x->rh_hi && e > x->rh_lo, 0)) xi_mem_hooks_r(x, a, n);
    memcpy(out, x->rcache.host + (a - x->rcache.lo), n);
    return true;
  }
  return xi_load_slow(x, a, n, out);
}

static inline __attribute__((always_inline)) bool xi_store(xi *x, uint64_t a, unsigned n,
                                                           const void *in) {
  uint64_t e = a + n;
  if (__builtin_expect(a >= x->wcache.lo && e <= x->wcache.hi && e > a, 1)) {
    if (__builtin_expect(a <= x->wh_hi && e > x->wh_lo, 0)) xi_mem_hooks_w(x, a, n, in);
    memcpy(x->wcache.host + (a - x->wcache.lo), in, n);
    return true;
  }
  return xi_store_slow(x, a, n, in);
}

/* Flags the host computes for us: CF PF AF ZF SF OF. */
#define XI_ARITH 0x8D5u
#define XI_CF    0x001u
#define XI_PF    0x004u
#define XI_AF    0x010u
#define XI_ZF    0x040u
#define XI_SF    0x080u
#define XI_DF    0x400u
#define XI_OF    0x800u

/* Condition cc (0..15) on rflags f (SDM Vol. 2, Appendix B.1.4.7). */
static inline bool xi_cond(uint64_t f, unsigned cc) {
  bool r;
  switch (cc >> 1) {
  case 0: r = f & XI_OF; break;
  case 1: r = f & XI_CF; break;
  case 2: r = f & XI_ZF; break;
  case 3: r = f & (XI_CF | XI_ZF); break;
  case 4: r = f & XI_SF; break;
  case 5: r = f & XI_PF; break;
  case 6: r = !(f & XI_SF) != !(f & XI_OF); break;
  default: r = (f & XI_ZF) || (!(f & XI_SF) != !(f & XI_OF)); break;
  }
  return r ^ (cc & 1);
}

#endif
