/* fold.c - af_fold_value: the leaf walk every MIX and checksum uses (gen.h "Folding"). */
#include <string.h>

#include "case_internal.h"
#include "fold_internal.h"
#include "gen.h"

/* The canonicalising helpers of fold_internal.h, out of line. */
uint64_t af_fold_f16_bits(uint16_t b) { return fold_f16_bits(b); }
uint64_t af_fold_f32_bits(uint32_t b) { return fold_f32_bits(b); }
uint64_t af_fold_f64_bits(uint64_t b) { return fold_f64_bits(b); }
uint64_t af_fold_f80_bytes(uint64_t h, const uint8_t *p) { return fold_f80_bytes(h, p); }

/* The value of a bit-field of `bits` bits starting `bit_offset` bits into p,
 * converted to its declared type (signed types sign-extend). Read a byte at a time (at most
 * 9 bytes hold a 64-bit field), never past the field's last byte: MIX and the checksum fold
 * every bit-field of every operand through here. */
uint64_t af_bitfield_get(const uint8_t *p, uint32_t bit_offset, int bits, int is_signed) {
  if (bits <= 0) return 0;
  if (bits > 64) bits = 64; /* fields are at most 64 bits (gen.h) */
  const uint8_t *q = p + bit_offset / 8;
  unsigned sh = bit_offset % 8, n = (sh + (unsigned)bits + 7) / 8;
  uint64_t x;
  if (n <= 8) { /* most fields: 64-bit arithmetic (the 128-bit kind costs twice as much) */
    uint64_t w = 0;
    for (unsigned i = 0; i < n; i++)
      w |= (uint64_t)q[i] << (8 * i);
    x = w >> sh;
  } else {
    unsigned __int128 w = 0;
    for (unsigned i = 0; i < n; i++)
      w |= (unsigned __int128)q[i] << (8 * i);
    x = (uint64_t)(w >> sh);
  }
  if (bits < 64) x &= (1ull << bits) - 1;
  if (is_signed && bits < 64 && (x >> (bits - 1)) & 1) x |= ~0ull << bits;
  return x;
}

void af_bitfield_set(uint8_t *p, uint32_t bit_offset, int bits, uint64_t x) {
  if (bits <= 0) return;
  if (bits > 64) bits = 64; /* fields are at most 64 bits (gen.h) */
  uint8_t *q = p + bit_offset / 8;
  unsigned sh = bit_offset % 8, n = (sh + (unsigned)bits + 7) / 8;
  unsigned __int128 m =
      bits >= 64 ? (unsigned __int128)~0ull : (((unsigned __int128)1 << bits) - 1);
  unsigned __int128 v = ((unsigned __int128)x & m) << sh;
  m <<= sh;
  for (unsigned i = 0; i < n; i++) {
    uint8_t bm = (uint8_t)(m >> (8 * i));
    q[i] = (uint8_t)((q[i] & (uint8_t)~bm) | ((uint8_t)(v >> (8 * i)) & bm));
  }
}

/* A bit-field's value for the fold: af_bitfield_get, inline, for the fields of a struct of
 * `size` bytes at p (fields are at most 64 bits, gen.h). When 8 bytes from the field's first
 * byte lie inside the struct and hold the whole field (most fields), it is one load; else the
 * bytes it spans, one at a time, never past its last. */
static inline uint64_t fold_bitfield(const uint8_t *p, uint32_t size, const af_field *f) {
  const uint32_t bo = f->bit_offset, at = bo / 8;
  const unsigned sh = bo % 8, bits = (unsigned)f->bits;
  if (sh + bits > 64 || at + 8 > size) /* spans 9 bytes, or ends the struct */
    return af_bitfield_get(p, bo, f->bits, fold_signed_kind(f->type));
  uint64_t x;
  memcpy(&x, p + at, 8);
  x >>= sh;
  if (bits < 64) {
    x &= (1ull << bits) - 1;
    const uint64_t sb = (uint64_t)fold_signed_kind(f->type) << (bits - 1); /* its sign bit */
    x = (x ^ sb) - sb;
  }
  return x;
}

uint64_t af_fold_bytes(const af_case *c, uint64_t h, int type, const uint8_t *p, uint64_t ptr_id) {
  if (type < AF_T_NSCALAR) return fold_scalar(h, type, p, ptr_id);
  const af_type *t = &c->types[type];
  if (t->kind == AF_T_ARRAY) {
    const int e = t->elem;
    const uint32_t es = c->types[e].size, n = t->count;
    if (fold_leaf_one(e)) { /* most arrays: the leaves of one table entry */
      for (uint32_t i = 0; i < n; i++)
        h = fold_leaf1(h, e, p + i * es);
      return h;
    }
    if (e < AF_T_NSCALAR) {
      for (uint32_t i = 0; i < n; i++)
        h = fold_scalar(h, e, p + i * es, ptr_id);
      return h;
    }
    for (uint32_t i = 0; i < n; i++)
      h = af_fold_bytes(c, h, e, p + i * es, ptr_id);
    return h;
  }
  /* struct / union: every member in field order; unions fold every member
   * over the same bytes. Zero-width bit-fields and padding never fold. The one-chunk scalar
   * fields (most of them) first, with one test. */
  const af_field *f = t->fields, *const end = f + t->nfields;
  for (; f < end; f++) {
    const int ft = f->type;
    if (f->bits < 0 && fold_leaf_one(ft)) {
      h = fold_leaf1(h, ft, p + f->offset);
      continue;
    }
    if (f->bits == 0) continue;
    if (f->bits > 0) {
      h = af_fold_u64(h, fold_bitfield(p, t->size, f));
      continue;
    }
    if (ft < AF_T_NSCALAR)
      h = fold_scalar(h, ft, p + f->offset, ptr_id);
    else
      h = af_fold_bytes(c, h, ft, p + f->offset, ptr_id);
  }
  return h;
}

/* af_fold_operand of anything but a non-pointer scalar, out of line: the scalar path (three
 * operands in four) then needs no saved registers. */
static __attribute__((noinline)) uint64_t
fold_operand_rest(const af_case *c, uint8_t *const *objects, uint64_t h, const void *p, int type) {
  if (type != AF_T_PTR) /* af_fold_value of these bytes, without building the value */
    return type <= AF_T_VOID || type >= c->ntypes || !p ? h : af_fold_bytes(c, h, type, p, 0);
  af_value v = {.type = type, .obj = -1};
  uint8_t *q;
  memcpy(&q, p, sizeof q);
  for (int k = 0; objects && k < c->nobjects && k < AF_MAX_OBJECTS; k++)
    if (objects[k] && objects[k] == q) v.obj = k;
  return af_fold_value(c, h, &v);
}

uint64_t af_fold_operand(const af_case *c, uint8_t *const *objects, uint64_t h, const void *p,
                         int type) {
  /* A scalar that is not a pointer (most operands of most MIXes): what af_fold_value does
   * with it, without the two calls (compiled code calls this per operand); the one-chunk
   * leaves (fold_internal.h) first, with one test of the type. */
  if (fold_leaf_one(type) && type < c->ntypes && p) return fold_leaf1(h, type, p);
  if ((unsigned)type - 1u < AF_T_NSCALAR - 1u && type != AF_T_PTR && type < c->ntypes && p)
    return fold_scalar(h, type, p, 0);
  return fold_operand_rest(c, objects, h, p, type);
}

uint64_t af_fold_value(const af_case *c, uint64_t h, const af_value *v) {
  if (v->type == AF_T_PTR) {
    uint64_t id = v->obj >= 0 ? ((uint64_t)(v->obj + 1) << 32) : 0xffffffff00000000ull;
    return af_fold_u64(h, id);
  }
  if (v->type <= AF_T_VOID || v->type >= c->ntypes || !v->bytes) return h;
  return af_fold_bytes(c, h, v->type, v->bytes, 0);
}
