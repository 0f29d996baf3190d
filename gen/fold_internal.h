/* fold_internal.h - folding and bit-field helpers shared by fold.c and interp.c (private to gen/).
 */
#ifndef ABIFUZZ_FOLD_INTERNAL_H
#define ABIFUZZ_FOLD_INTERNAL_H

#include "gen.h"

#include <string.h>

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
static inline uint64_t fold_f16_bits(uint16_t b) {
  if ((b & 0x7c00) == 0x7c00 && (b & 0x03ff)) return 0x7e00;
  return b;
}

static inline uint64_t fold_f32_bits(uint32_t b) {
  if ((b & 0x7f800000u) == 0x7f800000u && (b & 0x007fffffu)) return 0x7fc00000u;
  return b;
}

static inline uint64_t fold_f64_bits(uint64_t b) {
  if ((b & 0x7ff0000000000000ull) == 0x7ff0000000000000ull && (b & 0x000fffffffffffffull))
    return 0x7ff8000000000000ull;
  return b;
}

/* f80: bytes 0-7 the explicit mantissa, bytes 8-9 sign and exponent. A NaN
 * has the maximum exponent and a fraction (mantissa without its integer bit)
 * that is not zero. */
static inline uint64_t fold_f80_bytes(uint64_t h, const uint8_t *p) {
  uint64_t m = fold_le(p, 8);
  uint64_t se = fold_le(p + 8, 2);
  if ((se & 0x7fff) == 0x7fff && (m << 1) != 0) {
    m = 0xc000000000000000ull;
    se = 0x7fff;
  }
  h = af_fold_u64(h, m);
  return af_fold_u64(h, se);
}

/* The one-chunk scalar leaves (bool, i8..u64, f16, f32, f64: most leaves of most values)
 * folded from a table instead of a switch on the type, whose indirect jump the clock saw
 * mispredicted on about every second leaf (the leaf types of a case are random):
 * sel[w]: all ones for the one width w (8, 4, 2, 1 bytes) that is the leaf's size (the value
 * is loaded from there, the other widths load from zeros: no branch, no byte past the leaf
 * read); sign: a signed kind's sign bit, (x ^ sign) - sign extends it; a float is a NaN when
 * (x & abs) > inf, and then folds as `nan` (integers: abs 0, never). 0 in `one`: not one
 * chunk, the switch below. */
typedef struct {
  uint64_t sel[4]; /* widths 8, 4, 2, 1 */
  uint64_t sign, abs, inf, nan;
} fold_leaf_info;

#define FOLD_W8                                                                                    \
  { ~0ull, 0, 0, 0 }
#define FOLD_W4                                                                                    \
  { 0, ~0ull, 0, 0 }
#define FOLD_W2                                                                                    \
  { 0, 0, ~0ull, 0 }
#define FOLD_W1                                                                                    \
  { 0, 0, 0, ~0ull }
static const fold_leaf_info fold_leaf_tab[AF_T_NSCALAR] = {
    [AF_T_BOOL] = {.sel = FOLD_W1},
    [AF_T_I8] = {.sel = FOLD_W1, .sign = 1ull << 7},
    [AF_T_U8] = {.sel = FOLD_W1},
    [AF_T_I16] = {.sel = FOLD_W2, .sign = 1ull << 15},
    [AF_T_U16] = {.sel = FOLD_W2},
    [AF_T_I32] = {.sel = FOLD_W4, .sign = 1ull << 31},
    [AF_T_U32] = {.sel = FOLD_W4},
    [AF_T_I64] = {.sel = FOLD_W8, .sign = 1ull << 63},
    [AF_T_U64] = {.sel = FOLD_W8},
    [AF_T_F16] = {.sel = FOLD_W2, .abs = 0x7fff, .inf = 0x7c00, .nan = 0x7e00},
    [AF_T_F32] = {.sel = FOLD_W4, .abs = 0x7fffffffu, .inf = 0x7f800000u, .nan = 0x7fc00000u},
    [AF_T_F64] = {.sel = FOLD_W8,
                  .abs = 0x7fffffffffffffffull,
                  .inf = 0x7ff0000000000000ull,
                  .nan = 0x7ff8000000000000ull},
};
#undef FOLD_W8
#undef FOLD_W4
#undef FOLD_W2
#undef FOLD_W1

/* 1: type is a one-chunk leaf of fold_leaf_tab (bool .. u64, f16, f32, f64): a bit of a mask,
 * one test (the two range tests were two branches, the second mispredicted for the other
 * scalars). */
#define FOLD_ONE_MASK                                                                              \
  ((1ull << AF_T_BOOL) | (1ull << AF_T_I8) | (1ull << AF_T_U8) | (1ull << AF_T_I16) |              \
   (1ull << AF_T_U16) | (1ull << AF_T_I32) | (1ull << AF_T_U32) | (1ull << AF_T_I64) |             \
   (1ull << AF_T_U64) | (1ull << AF_T_F16) | (1ull << AF_T_F32) | (1ull << AF_T_F64))
static inline int fold_leaf_one(int type) {
  return (int)((FOLD_ONE_MASK >> ((unsigned)type & 63)) & ((unsigned)type < 64));
}

/* 1: the scalar kind k is signed (af_scalar(k)->is_signed: i8..i128), 0 for the others and for
 * anything that is not a scalar kind: the signedness of a bit-field's declared type. */
#define FOLD_SIGNED_MASK                                                                           \
  ((1ull << AF_T_I8) | (1ull << AF_T_I16) | (1ull << AF_T_I32) | (1ull << AF_T_I64) |              \
   (1ull << AF_T_I128))
static inline int fold_signed_kind(int k) {
  return (int)((FOLD_SIGNED_MASK >> ((unsigned)k & 63)) & ((unsigned)k < AF_T_NSCALAR));
}

/* af_fold_u64 of a one-chunk leaf, without a branch on its type. */
static inline uint64_t fold_leaf1(uint64_t h, int type, const uint8_t *p) {
  static const uint8_t zeros[8];
  const fold_leaf_info *t = &fold_leaf_tab[type];
  const uintptr_t z = (uintptr_t)zeros, d = (uintptr_t)p - z;
  uint64_t x8;
  uint32_t x4;
  uint16_t x2;
  memcpy(&x8, (const uint8_t *)(z + (d & t->sel[0])), 8);
  memcpy(&x4, (const uint8_t *)(z + (d & t->sel[1])), 4);
  memcpy(&x2, (const uint8_t *)(z + (d & t->sel[2])), 2);
  uint64_t x = x8 | x4 | x2 | *(const uint8_t *)(z + (d & t->sel[3]));
  x = (x ^ t->sign) - t->sign;
  uint64_t nan = 0 - (uint64_t)((x & t->abs) > t->inf); /* as masks: ?: became branches */
  return af_fold_u64(h, x ^ ((x ^ t->nan) & nan));
}

/* One scalar leaf (type < AF_T_NSCALAR): af_fold_bytes of a scalar. Inline in fold.c's aggregate
 * walk and in the interpreter's MIX: most leaves of most operands are scalars, and a call per
 * leaf was a third of folding. */
static inline __attribute__((always_inline)) uint64_t
fold_scalar(uint64_t h, int type, const uint8_t *p, uint64_t ptr_id) {
  if (fold_leaf_one(type)) return fold_leaf1(h, type, p);
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
  case AF_T_F16: return af_fold_u64(h, fold_f16_bits((uint16_t)fold_le(p, 2)));
  case AF_T_F32: return af_fold_u64(h, fold_f32_bits((uint32_t)fold_le(p, 4)));
  case AF_T_F64: return af_fold_u64(h, fold_f64_bits(fold_le(p, 8)));
  case AF_T_F80: return fold_f80_bytes(h, p);
  case AF_T_CF32:
    h = af_fold_u64(h, fold_f32_bits((uint32_t)fold_le(p, 4)));
    return af_fold_u64(h, fold_f32_bits((uint32_t)fold_le(p + 4, 4)));
  case AF_T_CF64:
    h = af_fold_u64(h, fold_f64_bits(fold_le(p, 8)));
    return af_fold_u64(h, fold_f64_bits(fold_le(p + 8, 8)));
  case AF_T_PTR: return af_fold_u64(h, ptr_id);
  case AF_T_M128:
  case AF_T_M256:
    for (unsigned i = 0; i < (type == AF_T_M128 ? 16u : 32u); i += 8)
      h = af_fold_u64(h, fold_le(p + i, 8));
    return h;
  default: return h;
  }
}

/* Canonicalised fold chunks of float bit patterns (gen.h "Folding"), out of line. */
uint64_t af_fold_f16_bits(uint16_t b);
uint64_t af_fold_f32_bits(uint32_t b);
uint64_t af_fold_f64_bits(uint64_t b);
uint64_t af_fold_f80_bytes(uint64_t h, const uint8_t *p); /* folds two chunks */

/* af_fold_bytes is public (gen.h): every pointer leaf folds as ptr_id (pointers are never
 * fields, so a value holds at most one: itself). */

/* Bit-field access (af_bitfield_get / af_bitfield_set) is public: gen.h. */

#endif
