/* fold.c - af_fold_value: the leaf walk every MIX and checksum uses (gen.h "Folding"). */
#include <string.h>

#include "gen.h"
#include "fold_internal.h"

/* The n <= 8 low bytes at p as a little-endian integer. On a little-endian host the
 * usual widths are one load (the same value the byte loop builds); MIX and the checksum
 * fold every leaf of every operand through here. */
static inline uint64_t fold_le(const uint8_t *p, unsigned n) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (n >= 8) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
  }
  if (n == 4) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
  }
  if (n == 2) {
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
  }
#endif
  uint64_t x = 0;
  for (unsigned i = 0; i < n && i < 8; i++)
    x |= (uint64_t)p[i] << (8 * i);
  return x;
}

/* NaN canonicalisation is decided on the bits, so that the interpreter and
 * the emitted C (which does the same test on the same bits) cannot differ. */
uint64_t af_fold_f16_bits(uint16_t b) {
  if ((b & 0x7c00) == 0x7c00 && (b & 0x03ff)) return 0x7e00;
  return b;
}

uint64_t af_fold_f32_bits(uint32_t b) {
  if ((b & 0x7f800000u) == 0x7f800000u && (b & 0x007fffffu)) return 0x7fc00000u;
  return b;
}

uint64_t af_fold_f64_bits(uint64_t b) {
  if ((b & 0x7ff0000000000000ull) == 0x7ff0000000000000ull && (b & 0x000fffffffffffffull))
    return 0x7ff8000000000000ull;
  return b;
}

/* f80: bytes 0-7 the explicit mantissa, bytes 8-9 sign and exponent. A NaN
 * has the maximum exponent and a fraction (mantissa without its integer bit)
 * that is not zero. */
uint64_t af_fold_f80_bytes(uint64_t h, const uint8_t *p) {
  uint64_t m = fold_le(p, 8);
  uint64_t se = fold_le(p + 8, 2);
  if ((se & 0x7fff) == 0x7fff && (m << 1) != 0) {
    m = 0xc000000000000000ull;
    se = 0x7fff;
  }
  h = af_fold_u64(h, m);
  return af_fold_u64(h, se);
}

/* The value of a bit-field of `bits` bits starting `bit_offset` bits into p,
 * converted to its declared type (signed types sign-extend). Read a byte at a time (at most
 * 9 bytes hold a 64-bit field), never past the field's last byte: MIX and the checksum fold
 * every bit-field of every operand through here. */
uint64_t af_bitfield_get(const uint8_t *p, uint32_t bit_offset, int bits, int is_signed) {
  if (bits <= 0) return 0;
  if (bits > 64) bits = 64; /* fields are at most 64 bits (gen.h) */
  const uint8_t *q = p + bit_offset / 8;
  unsigned sh = bit_offset % 8, n = (sh + (unsigned)bits + 7) / 8;
  unsigned __int128 w = 0;
  for (unsigned i = 0; i < n; i++)
    w |= (unsigned __int128)q[i] << (8 * i);
  uint64_t x = (uint64_t)(w >> sh);
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

/* One scalar leaf (type < AF_T_NSCALAR), inline in the aggregate walk below: most leaves of
 * most operands are scalars, and a call per leaf was a third of folding. */
static inline uint64_t fold_scalar(uint64_t h, int type, const uint8_t *p, uint64_t ptr_id) {
  switch (type) {
  case AF_T_VOID: return h;
  case AF_T_BOOL:
  case AF_T_U8: return af_fold_u64(h, p[0]);
  case AF_T_I8: return af_fold_u64(h, (uint64_t)(int64_t)(int8_t)p[0]);
  case AF_T_U16: return af_fold_u64(h, fold_le(p, 2));
  case AF_T_I16: return af_fold_u64(h, (uint64_t)(int64_t)(int16_t)fold_le(p, 2));
  case AF_T_U32: return af_fold_u64(h, fold_le(p, 4));
  case AF_T_I32: return af_fold_u64(h, (uint64_t)(int64_t)(int32_t)fold_le(p, 4));
  case AF_T_I64:
  case AF_T_U64: return af_fold_u64(h, fold_le(p, 8));
  case AF_T_I128:
  case AF_T_U128: return af_fold_u64(af_fold_u64(h, fold_le(p, 8)), fold_le(p + 8, 8));
  case AF_T_F16: return af_fold_u64(h, af_fold_f16_bits((uint16_t)fold_le(p, 2)));
  case AF_T_F32: return af_fold_u64(h, af_fold_f32_bits((uint32_t)fold_le(p, 4)));
  case AF_T_F64: return af_fold_u64(h, af_fold_f64_bits(fold_le(p, 8)));
  case AF_T_F80: return af_fold_f80_bytes(h, p);
  case AF_T_CF32:
    h = af_fold_u64(h, af_fold_f32_bits((uint32_t)fold_le(p, 4)));
    return af_fold_u64(h, af_fold_f32_bits((uint32_t)fold_le(p + 4, 4)));
  case AF_T_CF64:
    h = af_fold_u64(h, af_fold_f64_bits(fold_le(p, 8)));
    return af_fold_u64(h, af_fold_f64_bits(fold_le(p + 8, 8)));
  case AF_T_PTR: return af_fold_u64(h, ptr_id);
  case AF_T_M128:
  case AF_T_M256:
    for (unsigned i = 0; i < (type == AF_T_M128 ? 16u : 32u); i += 8)
      h = af_fold_u64(h, fold_le(p + i, 8));
    return h;
  default: return h;
  }
}

uint64_t af_fold_bytes(const af_case *c, uint64_t h, int type, const uint8_t *p, uint64_t ptr_id) {
  if (type < AF_T_NSCALAR) return fold_scalar(h, type, p, ptr_id);
  const af_type *t = &c->types[type];
  if (t->kind == AF_T_ARRAY) {
    uint32_t es = c->types[t->elem].size;
    if (t->elem < AF_T_NSCALAR) {
      for (uint32_t i = 0; i < t->count; i++)
        h = fold_scalar(h, t->elem, p + i * es, ptr_id);
      return h;
    }
    for (uint32_t i = 0; i < t->count; i++)
      h = af_fold_bytes(c, h, t->elem, p + i * es, ptr_id);
    return h;
  }
  /* struct / union: every member in field order; unions fold every member
   * over the same bytes. Zero-width bit-fields and padding never fold. */
  for (int i = 0; i < t->nfields; i++) {
    const af_field *f = &t->fields[i];
    if (f->bits == 0) continue;
    if (f->bits > 0) {
      const af_scalar_info *si = af_scalar((af_kind)f->type);
      uint64_t x = af_bitfield_get(p, f->bit_offset, f->bits, si->is_signed);
      h = af_fold_u64(h, x);
      continue;
    }
    if (f->type < AF_T_NSCALAR)
      h = fold_scalar(h, f->type, p + f->offset, ptr_id);
    else
      h = af_fold_bytes(c, h, f->type, p + f->offset, ptr_id);
  }
  return h;
}

uint64_t af_fold_operand(const af_case *c, uint8_t *const *objects, uint64_t h, const void *p,
                         int type) {
  af_value v = {.type = type, .obj = -1};
  if (type == AF_T_PTR) {
    uint8_t *q;
    memcpy(&q, p, sizeof q);
    for (int k = 0; objects && k < c->nobjects && k < AF_MAX_OBJECTS; k++)
      if (objects[k] && objects[k] == q) v.obj = k;
  } else {
    v.size = c->types[type].size;
    v.bytes = (uint8_t *)(uintptr_t)p;
  }
  return af_fold_value(c, h, &v);
}

uint64_t af_fold_value(const af_case *c, uint64_t h, const af_value *v) {
  if (v->type == AF_T_PTR) {
    uint64_t id = v->obj >= 0 ? ((uint64_t)(v->obj + 1) << 32) : 0xffffffff00000000ull;
    return af_fold_u64(h, id);
  }
  if (v->type <= AF_T_VOID || v->type >= c->ntypes || !v->bytes) return h;
  return af_fold_bytes(c, h, v->type, v->bytes, 0);
}
