/* x86_fast.c - the encoder's fast path: form matches memoised by operand signature, row plans. */
#include "x86_fast_internal.h"

/* Why: the generic encoder (x86_enc.c) was ~45% of a fuzzing case's instructions, about 430
 * host instructions per instruction emitted (issue 9): each emit computed every operand's
 * class mask, scanned candidate rows testing each form, then re-read the row to find where
 * the operands go. Which row an instruction takes depends only on its op and on each
 * operand's kind and size, plus, for a few forms, a value: an immediate's (I8..I64, U8), a
 * branch displacement's (REL8, REL32), or the register of cl. So (tables built once per
 * process by x86_fast_build.c):
 *
 * - a signature packs op and each operand's class (kind and size); the memo gives, for every
 *   signature some row accepts, its candidate rows in table order: the rows whose forms
 *   accept the classes, up to the first with no value to check (it always matches). An emit
 *   checks the value against each candidate in turn, the first that fits wins: the
 *   reference's answer, as it scans the same rows in the same order.
 * - per row, a plan precomputed from it: the prefix and opcode bytes with and without a REX,
 *   which operand is ModRM.rm / ModRM.reg / the opcode register, where the immediate goes,
 *   the value check as a range and two shifts (encode_generic).
 * - the lowering builds operands with x86.h's constructors, so the raw bytes (kind, size) of
 *   each operand already name its class: a second table keyed by op, nops and those bytes
 *   gives a fast recipe, the plan specialised by the classes (register or memory in
 *   ModRM.rm, xmm or GPR, byte registers; the imm8 and imm32 rows of an op as two
 *   alternatives): encode_raw, no per-operand classification.
 * - operands are checked for validity (x86_opnd_valid) where the encoding reads them.
 *
 * Anything else (a signature no row accepts, an invalid operand, an address with an index
 * or without a base) goes to the plan path or the reference, and every error to the
 * reference, which returns the documented AF_ERR_UNSUPPORTED /
 * AF_ERR_INVALID. tests/test_x86_fast.c checks the two encoders agree byte for byte. */

#define ALL17(c)                                                                                   \
  { c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c }
#define B  C_BAD
#define MA C_MANY
static const uint8_t class_of[7][17] = {
    [X86_OPND_NONE] = ALL17(C_NONE),
    [X86_OPND_GPR] = {B, C_R8, C_R16, B, C_R32, B, B, B, C_R64, B, B, B, B, B, B, B, B},
    [X86_OPND_MEM] = {MA, C_M1, C_M2, MA, C_M4, MA, MA, MA, C_M8, MA, C_M10, MA, MA, MA, MA, MA,
                      C_M16},
    [X86_OPND_XMM] = ALL17(C_X),
    [X86_OPND_IMM] = ALL17(C_IMM),
    [X86_OPND_REL] = {B, C_REL1, B, B, C_REL4, B, B, B, B, B, B, B, B, B, B, B, B},
    [X86_OPND_ST] = ALL17(C_ST),
};
#undef B
#undef MA

/* Sizes above 16 or an unknown kind. */
static uint32_t class_cold(const x86_operand *o) {
  switch (o->kind) {
  case X86_OPND_NONE:
  case X86_OPND_XMM:
  case X86_OPND_IMM:
  case X86_OPND_ST: return class_of[o->kind][0];
  case X86_OPND_MEM: return C_MANY;
  default: return C_BAD;
  }
}

static inline uint32_t opnd_class(const x86_operand *o) {
  unsigned kind = o->kind, size = o->size;
  if (__builtin_expect(kind > X86_OPND_ST || size > 16, 0)) return class_cold(o);
  return class_of[kind][size];
}

/* Whether operand vk of `in` passes the row's value check. */
static inline bool value_fits(const row_plan *p, const x86_inst *in) {
  const x86_operand *o = &in->o[p->vk];
  if (__builtin_expect(p->vcheck == V_RANGE, 1)) {
    int64_t v = o->imm;
    if ((uint64_t)v - (uint64_t)p->lo > p->span) return false;
    int64_t s = (int64_t)((uint64_t)v << p->sh) >> p->sh;
    return s == (int64_t)((uint64_t)s << p->fsh) >> p->fsh;
  }
  if (p->vcheck == V_CL) return o->reg == AF_RCX;
  return !!(x86_imm_mask(o->imm, p->width) & XB(p->vform));
}

/* ---- matching ------------------------------------------------------------------ */
/* The memo slot of an instruction's signature, or NULL: the reference decides. */
static inline const memo_slot *lookup(const x86_inst *in) {
  uint32_t c0 = C_NONE, c1 = C_NONE, c2 = C_NONE;
  switch (in->nops) {
  case 3: c2 = opnd_class(&in->o[2]); /* fall through */
  case 2: c1 = opnd_class(&in->o[1]); /* fall through */
  case 1: c0 = opnd_class(&in->o[0]); /* fall through */
  case 0: break;
  default: return NULL;
  }
  uint32_t key = make_key(in->op, c0, c1, c2);
  if (__builtin_expect(in->op >= X86_OP_COUNT || (key & KEY_BAD), 0)) return NULL;
  const memo_slot *s = memo_find(key + 1);
  return s && s->ncand ? s : NULL;
}

/* The row among a slot's candidates whose value fits, or -1. */
static inline int pick(const memo_slot *s, const x86_inst *in) {
  if (__builtin_expect(s->plain, 1)) return s->cand[0];
  for (int j = 0; j < s->ncand; j++) {
    const row_plan *p = &x86_plans[s->cand[j]];
    if (p->vk < 0 || value_fits(p, in)) return s->cand[j];
  }
  return -1;
}

const x86_row *x86_match(const x86_inst *in) {
  x86_enc_init();
  const memo_slot *s = lookup(in);
  if (!s) return x86_match_ref(in);
  int row = pick(s, in);
  return row >= 0 ? &x86_rows[row] : NULL;
}

/* ---- encoding ------------------------------------------------------------------ */
/* An address other than [base + disp] (SIB with an index, no base, RIP), as encode_row does
 * it: its ModRM, SIB and displacement in *tail (little-endian, *tl bytes), its REX bits added
 * to *rex. false: an invalid operand (the reference answers). */
static bool __attribute__((noinline))
mem_general(const x86_operand *m, unsigned regf, unsigned *rex, uint64_t *tail, unsigned *tl) {
  if (!x86_opnd_valid(m)) return false;
  int base = m->base, index = m->index;
  uint64_t disp = (uint32_t)m->disp;
  unsigned ss = m->scale == 8 ? 3 : m->scale == 4 ? 2 : m->scale == 2 ? 1 : 0;
  unsigned ix = index >= 0 ? (unsigned)index & 7 : 4;
  if (index >= 0) *rex |= ((unsigned)index & 8) >> 2;
  if (base == X86_BASE_RIP) { /* mod 00, rm 101: [rip + disp32] */
    *tail = ((regf & 7) << 3 | 5) | disp << 8, *tl = 5;
  } else if (base == AF_REG_NONE) { /* SIB with base 101 and mod 00: [index*s + disp32] */
    unsigned sib = (index >= 0 ? ss : 0) << 6 | ix << 3 | 5;
    *tail = ((regf & 7) << 3 | 4) | sib << 8 | disp << 16, *tl = 6;
  } else {
    *rex |= ((unsigned)base & 8) >> 3;
    int32_t d = m->disp;
    unsigned mod = (d == 0 && (base & 7) != 5) ? 0 : d == (int8_t)d ? 1 : 2;
    unsigned sib = ss << 6 | ix << 3 | ((unsigned)base & 7);
    *tail = (mod << 6 | (regf & 7) << 3 | 4) | sib << 8 | disp << 16;
    *tl = 2 + (mod == 1 ? 1 : mod == 2 ? 4 : 0);
  }
  return true;
}

/* The plan-driven encoder: the encoding of `in` written to t (whole fields are stored: room
 * for 24 bytes, the bytes past the length are junk), its length; 0 when the reference must
 * answer (also for every error). The rules are encode_row's (x86_enc.c), which documents
 * each. A register's hardware number is its af_reg less 16 for xmm. rs: the raw slot of `in`,
 * or NULL. */
static size_t __attribute__((noinline))
encode_generic(const x86_inst *in, const raw_slot *rs, uint8_t *t) {
  const memo_slot *s = rs ? rs->ms : lookup(in);
  if (__builtin_expect(!s, 0)) return 0;
  int row = pick(s, in);
  if (__builtin_expect(row < 0, 0)) return 0;
  const row_plan *p = &x86_plans[row];
  const x86_operand *o = in->o;
  unsigned rex = p->w, need = 0, add = 0, tl = 0;
  uint64_t tail = 0;
  switch (p->recipe) {
  case R_NP: break;
  case R_ST: {
    unsigned r = (uint8_t)o[0].reg;
    if (r > 7) return 0;
    add = r;
    break;
  }
  case R_O: {
    unsigned r = (uint8_t)o[0].reg;
    if (r > 15) return 0;
    rex |= r >> 3, add = r & 7;
    need = p->byte_reg & (r - 4u < 4);
    break;
  }
  default: { /* R_MODRM */
    unsigned regf = p->digit;
    if (p->regk >= 0) {
      regf = (uint8_t)(o[p->regk].reg - p->regbias);
      if (regf > 15) return 0;
      rex |= (regf & 8) >> 1;
      need = p->byte_reg & (regf - 4u < 4);
    }
    const x86_operand *m = &o[p->rmk];
    if (m->kind != X86_OPND_MEM) {
      unsigned r = (uint8_t)(m->reg - (m->kind == X86_OPND_XMM ? AF_XMM0 : 0));
      if (r > 15) return 0;
      rex |= r >> 3;
      need |= p->byte_rm & (r - 4u < 4);
      tail = 0xC0 | (regf & 7) << 3 | (r & 7), tl = 1;
    } else if (m->index == AF_REG_NONE && m->base >= 0) { /* [base + disp] */
      unsigned base = (uint8_t)m->base;
      if (base > 15) return 0;
      rex |= base >> 3;
      int32_t d = m->disp;
      unsigned b7 = base & 7;
      /* rbp/r13 have no mod-00 form (it means RIP / no base): they take disp8 0 */
      unsigned mod = (d == 0 && b7 != 5) ? 0 : d == (int8_t)d ? 1 : 2;
      unsigned dl = mod + (mod & 2); /* 0, 1, 4 bytes */
      uint64_t modrm = mod << 6 | (regf & 7) << 3 | b7;
      if (b7 == 4) { /* rsp/r12 as base need a SIB (no index: 100; the reference keeps the
                        scale's bits even so) */
        unsigned sc = m->scale, ss = sc == 8 ? 3 : sc == 4 ? 2 : sc == 2 ? 1 : 0;
        tail = modrm | (uint64_t)(ss << 6 | 0x24) << 8 | (uint64_t)(uint32_t)d << 16, tl = 2 + dl;
      } else {
        tail = modrm | (uint64_t)(uint32_t)d << 8, tl = 1 + dl;
      }
    } else if (!mem_general(m, regf, &rex, &tail, &tl)) {
      return 0;
    }
    break;
  }
  }
  if (p->cc) add = in->cond & 15;
  uint64_t h;
  unsigned n;
  if (rex | need)
    h = p->hd1 | (uint64_t)rex << p->rexsh, n = p->hl1;
  else
    h = p->hd0, n = p->hl0;
  h += (uint64_t)add << (8 * (n - 1)); /* never carries: make_plan */
  memcpy(t, &h, 8);
  memcpy(t + n, &tail, 8);
  n += tl;
  if (p->ik >= 0) {
    memcpy(t + n, &o[p->ik].imm, 8);
    n += p->ibytes;
  }
  return n;
}

/* A memory operand's ModRM (with ModRM.reg = regf), SIB and displacement, little-endian in
 * `bytes`, `n` of them, and the REX bits X and B it needs; n == 0: invalid. Returned by value
 * so that the caller's locals stay in registers. */
typedef struct {
  uint64_t bytes;
  unsigned n, rex;
} mem_enc;

/* [base + disp]; other addresses (an index, no base, RIP) give n == 0: encode_generic. */
static inline mem_enc mem_operand(const x86_operand *m, unsigned regf) {
  if (__builtin_expect(m->index != AF_REG_NONE || m->base < 0, 0)) return (mem_enc){0, 0, 0};
  unsigned base = (uint8_t)m->base;
  if (base > 15) return (mem_enc){0, 0, 0};
  int32_t d = m->disp;
  unsigned b7 = base & 7;
  unsigned mod = (d == 0 && b7 != 5) ? 0 : d == (int8_t)d ? 1 : 2;
  unsigned dl = mod + (mod & 2);
  uint64_t modrm = mod << 6 | (regf & 7) << 3 | b7;
  if (__builtin_expect(b7 == 4, 0)) {
    unsigned sc = m->scale, ss = sc == 8 ? 3 : sc == 4 ? 2 : sc == 2 ? 1 : 0;
    return (mem_enc){modrm | (uint64_t)(ss << 6 | 0x24) << 8 | (uint64_t)(uint32_t)d << 16, 2 + dl,
                     base >> 3};
  }
  return (mem_enc){modrm | (uint64_t)(uint32_t)d << 8, 1 + dl, base >> 3};
}

/* A fast recipe's encoding (see encode_generic: the same rules, the same output), with what
 * the classes decide already decided. */
static inline __attribute__((always_inline)) size_t encode_raw(const fast_rec *f,
                                                               const x86_inst *in, uint8_t *q) {
  const x86_operand *o = in->o;
  unsigned alt = 0;
  if (f->checked) { /* the first alternative whose range the value fits */
    int64_t v = o[f->vk].imm;
    for (;; alt++) {
      if (alt == f->nalt) return 0;
      int64_t sv = (int64_t)((uint64_t)v << f->sh[alt]) >> f->sh[alt];
      if ((uint64_t)v - (uint64_t)f->lo[alt] <= f->span[alt] &&
          sv == (int64_t)((uint64_t)sv << f->fsh[alt]) >> f->fsh[alt])
        break;
    }
  }
  unsigned fast = f->fast, bytes = f->bytes;
  unsigned rex = f->w, need = 0, add = 0, tl = 0;
  uint64_t tail = 0;
  if (__builtin_expect(fast == FK_RR || fast == FK_RM, 1)) {
    unsigned regf = f->regfix;
    int regk = f->regk;
    if (regk >= 0) {
      regf = (uint8_t)(o[regk].reg - f->regbias);
      if (regf > 15) return 0;
      rex |= (regf & 8) >> 1;
    }
    const x86_operand *m = &o[f->rmk];
    if (fast == FK_RR) {
      unsigned r = (uint8_t)(m->reg - f->rmbias);
      if (r > 15) return 0;
      rex |= r >> 3;
      if (__builtin_expect(bytes != 0, 0))
        need = ((bytes & 1) && regf - 4u < 4) || ((bytes & 2) && r - 4u < 4);
      tail = 0xC0 | (regf & 7) << 3 | (r & 7), tl = 1;
    } else {
      mem_enc e = mem_operand(m, regf);
      if (!e.n) return 0;
      rex |= e.rex, tail = e.bytes, tl = e.n;
      if (__builtin_expect(bytes & 1, 0)) need = regf - 4u < 4;
    }
  } else if (fast == FK_O) {
    unsigned r = (uint8_t)o[0].reg;
    if (r > 15) return 0;
    rex |= r >> 3, add = r & 7;
    need = bytes && r - 4u < 4;
  }
  uint64_t h;
  unsigned n;
  if (rex | need)
    h = f->hd1[alt] | (uint64_t)rex << f->rexsh, n = f->hl1[alt];
  else
    h = f->hd0[alt], n = f->hl0[alt];
  if (f->cc) add = in->cond & 15;
  if (add) h += (uint64_t)add << (8 * (n - 1));
  memcpy(q, &h, 8);
  memcpy(q + n, &tail, 8);
  n += tl;
  int ik = f->ik;
  if (ik >= 0) {
    memcpy(q + n, &o[ik].imm, 8);
    n += f->ibytes[alt];
  }
  return n;
}

/* The fast path at q (room for 24 bytes: whole fields are stored), its length; 0 when
 * encode_any must answer. A leaf: no calls, so the common emit saves few registers. */
static inline __attribute__((always_inline)) size_t encode_leaf(const x86_inst *in, uint8_t *q) {
  if (__builtin_expect(!atomic_load_explicit(&x86_built, memory_order_acquire), 0)) return 0;
  uint64_t key2, key = raw_key(in, &key2);
  const raw_slot *f = raw_find(key, key2);
  if (__builtin_expect(!f || !f->rec, 0)) return 0;
  return encode_raw(f->rec, in, q);
}

/* The encoding of `in` at t (32 bytes), its length; 0 when the reference must answer (also
 * for every error). */
static size_t encode_any(const x86_inst *in, uint8_t *t) {
  size_t n = encode_leaf(in, t);
  if (n || !atomic_load_explicit(&x86_built, memory_order_acquire)) return n;
  uint64_t key2, key = raw_key(in, &key2);
  return encode_generic(in, raw_find(key, key2), t);
}

af_status x86_encode(const x86_inst *in, uint8_t out[15], size_t *len) {
  uint8_t t[32];
  size_t n = encode_any(in, t);
  if (!n) return x86_encode_ref(in, out, len);
  memcpy(out, t, n);
  *len = n;
  return AF_OK;
}

/* x86_emit without room for the whole-field stores, or when the reference answers. */
static af_status __attribute__((noinline)) emit_slow(x86_buf *b, const x86_inst *in) {
  uint8_t t[32];
  size_t n = encode_any(in, t);
  if (n) return x86_emit_bytes(b, t, n);
  af_status s = x86_encode_ref(in, t, &n);
  if (s != AF_OK) {
    if (b->err == AF_OK) b->err = s;
    return s;
  }
  return x86_emit_bytes(b, t, n);
}

af_status x86_emit(x86_buf *b, const x86_inst *in) {
  if (__builtin_expect(b->len + 24 <= b->cap, 1)) {
    size_t n = encode_leaf(in, b->data + b->len);
    if (__builtin_expect(n != 0, 1)) {
      b->len += n;
      return AF_OK;
    }
  }
  return emit_slow(b, in);
}

/* mov r, imm without the table: the lowering's second most frequent emit (every call loads
 * its target this way), and it needs no lookup. The rows are the table's (x86_table.c), taken
 * as the matcher would take them; anything else (a bad register or size, a value that fits no
 * row: the errors) goes through x86_emit. tests/test_x86_fast.c compares every register, size
 * and edge value with the reference. */
af_status x86_emit_movimm(x86_buf *b, af_reg r, int size, int64_t v) {
  if (size == 8 && v >= 0 && v <= (int64_t)UINT32_MAX) size = 4;
  unsigned reg = (unsigned)r, rexb = reg >> 3 & 1;
  if (__builtin_expect(reg <= 15 && b->len + 16 <= b->cap, 1)) {
    uint8_t *q = b->data + b->len;
    uint8_t *p = q;
    switch (size) {
    case 1: /* B0+r ib; spl..dil need a REX */
      if (v < -128 || v > 255) break;
      *p = (uint8_t)(0x40 | rexb);
      p += rexb || (reg - 4u < 4);
      *p++ = (uint8_t)(0xB0 + (reg & 7));
      *p++ = (uint8_t)v;
      b->len += (size_t)(p - q);
      return AF_OK;
    case 2: /* 66 B8+r iw */
      if (v < -32768 || v > 65535) break;
      *p++ = 0x66;
      *p = (uint8_t)(0x40 | rexb);
      p += rexb;
      *p++ = (uint8_t)(0xB8 + (reg & 7));
      memcpy(p, &v, 2);
      b->len += (size_t)(p + 2 - q);
      return AF_OK;
    case 4: /* B8+r id */
      if (v < INT32_MIN || v > (int64_t)UINT32_MAX) break;
      *p = (uint8_t)(0x40 | rexb);
      p += rexb;
      *p++ = (uint8_t)(0xB8 + (reg & 7));
      memcpy(p, &v, 4);
      b->len += (size_t)(p + 4 - q);
      return AF_OK;
    case 8:
      *p++ = (uint8_t)(0x48 | rexb);
      if (v == (int32_t)v) { /* REX.W C7 /0 id: sign-extended */
        *p++ = 0xC7;
        *p++ = (uint8_t)(0xC0 | (reg & 7));
        memcpy(p, &v, 4);
        b->len += (size_t)(p + 4 - q);
      } else { /* movabs: REX.W B8+r iq */
        *p++ = (uint8_t)(0xB8 + (reg & 7));
        memcpy(p, &v, 8);
        b->len += (size_t)(p + 8 - q);
      }
      return AF_OK;
    default: break;
    }
  }
  x86_inst i = x86_inst2(X86_MOV, x86_gpr(r, size), x86_imm(v));
  return x86_emit(b, &i);
}

/* x86_direct.h's way out: the table (not x86_emit2, which would send it back there). */
af_status x86_emit2_cold(x86_buf *b, x86_op op, x86_operand a, x86_operand c) {
  x86_inst i = x86_inst2(op, a, c);
  return x86_emit(b, &i);
}
