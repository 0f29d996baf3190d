/* interp_internal.h - the interpreter's scalar reads and writes and its host float type (private
 * to interp.c: kept apart to hold interp.c under 1000 lines). */
#ifndef ABIFUZZ_INTERP_INTERNAL_H
#define ABIFUZZ_INTERP_INTERNAL_H

#include <string.h>

#include "case_internal.h"
#include "gen.h"

typedef unsigned __int128 u128;
typedef __int128 i128;

/* ---- scalar access ---- */
/* af_type_is_int / af_type_is_float without the call (the checks run on every instruction). */
static inline int is_int(int type) { return type >= AF_T_I8 && type <= AF_T_U128; }
static inline int is_float(int type) { return type >= AF_T_F16 && type <= AF_T_F80; }

static inline int int_bits(int type) { return type == AF_T_BOOL ? 8 : 8 * case_scalar(type)->size; }

static inline int is_signed_int(int type) {
  return type >= AF_T_I8 && type <= AF_T_U128 && case_scalar(type)->is_signed;
}

/* Reads an integer (or bool) value, sign- or zero-extended per its type. The integer kinds
 * are fixed-size little-endian loads (the interpreter's hottest read); any other kind takes
 * the byte loop. */
static inline u128 rd_int(const uint8_t *p, int type) {
  switch (type) {
  case AF_T_BOOL:
  case AF_T_U8: return p[0];
  case AF_T_I8: return (u128)(i128)(int8_t)p[0];
  case AF_T_U16: {
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
  }
  case AF_T_I16: {
    int16_t v;
    memcpy(&v, p, 2);
    return (u128)(i128)v;
  }
  case AF_T_U32: {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
  }
  case AF_T_I32: {
    int32_t v;
    memcpy(&v, p, 4);
    return (u128)(i128)v;
  }
  case AF_T_U64: {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
  }
  case AF_T_I64: {
    int64_t v;
    memcpy(&v, p, 8);
    return (u128)(i128)v;
  }
  case AF_T_I128:
  case AF_T_U128: {
    u128 v;
    memcpy(&v, p, 16);
    return v;
  }
  default: break;
  }
  int n = int_bits(type) / 8;
  u128 x = 0;
  for (int i = 0; i < n; i++)
    x |= (u128)p[i] << (8 * i);
  if (is_signed_int(type) && n < 16 && (p[n - 1] & 0x80)) x |= ~(u128)0 << (8 * n);
  return x;
}

static inline void wr_int(uint8_t *p, int type, u128 x) {
  if (type == AF_T_BOOL) {
    p[0] = (uint8_t)(x & 1);
    return;
  }
  switch (type) { /* little-endian stores of the integer kinds, as the loop below does */
  case AF_T_I8:
  case AF_T_U8: p[0] = (uint8_t)x; return;
  case AF_T_I16:
  case AF_T_U16: {
    uint16_t v = (uint16_t)x;
    memcpy(p, &v, 2);
    return;
  }
  case AF_T_I32:
  case AF_T_U32: {
    uint32_t v = (uint32_t)x;
    memcpy(p, &v, 4);
    return;
  }
  case AF_T_I64:
  case AF_T_U64: {
    uint64_t v = (uint64_t)x;
    memcpy(p, &v, 8);
    return;
  }
  case AF_T_I128:
  case AF_T_U128: memcpy(p, &x, 16); return;
  default: break;
  }
  int n = int_bits(type) / 8;
  for (int i = 0; i < n; i++)
    p[i] = (uint8_t)(x >> (8 * i));
}

/* The same reads and writes on a frame's value slots, without a branch on the type (the
 * type-indexed switches were indirect jumps the clock saw mispredicted on most instructions):
 * a slot is at least 16 bytes (frame_get rounds every value up to 16), so a slot is read as
 * 16 bytes and the value's own bits kept; a write stores 16 bytes, the bytes past the value
 * being the slot's padding, which nothing reads (every reader takes size(T) bytes). Integer
 * kinds and bool only; anything else takes rd_int / wr_int. */
enum { SLOT_TYPES = AF_T_U128 + 1 };
/* 64 - bits for the kinds up to 64 bits; 0 for the 128-bit ones (and void, never used). */
static const uint8_t slot_shl[SLOT_TYPES] = {
    [AF_T_BOOL] = 56, [AF_T_I8] = 56,  [AF_T_U8] = 56, [AF_T_I16] = 48, [AF_T_U16] = 48,
    [AF_T_I32] = 32,  [AF_T_U32] = 32, [AF_T_I64] = 0, [AF_T_U64] = 0,
};
/* signed kinds: their sign bit (of the low 64 bits) */
static const uint64_t slot_sign[SLOT_TYPES] = {
    [AF_T_I8] = 1ull << 7,
    [AF_T_I16] = 1ull << 15,
    [AF_T_I32] = 1ull << 31,
    [AF_T_I64] = 1ull << 63,
};

static inline u128 rd_slot(const uint8_t *p, int type) {
  if ((unsigned)type - AF_T_BOOL > (unsigned)(AF_T_I64 - AF_T_BOOL) + 1u) { /* 128-bit, other */
    if (type == AF_T_I128 || type == AF_T_U128) {
      u128 v;
      memcpy(&v, p, 16);
      return v;
    }
    return rd_int(p, type);
  }
  uint64_t x;
  memcpy(&x, p, 8);
  unsigned sh = slot_shl[type];
  uint64_t sb = slot_sign[type];
  x = (x << sh) >> sh;                       /* the value's bits, zero-extended */
  x = (x ^ sb) - sb;                         /* sign-extended to 64 bits for the signed kinds */
  uint64_t hi = 0 - ((sb != 0) & (x >> 63)); /* and to 128 */
  return ((u128)hi << 64) | x;
}

static inline void wr_slot(uint8_t *p, int type, u128 x) {
  if ((unsigned)type - AF_T_BOOL > (unsigned)(AF_T_U128 - AF_T_BOOL)) {
    wr_int(p, type, x);
    return;
  }
  uint64_t lo = (uint64_t)x & (type == AF_T_BOOL ? 1u : ~0ull), hi = (uint64_t)(x >> 64);
  memcpy(p, &lo, 8);
  memcpy(p + 8, &hi, 8);
}

/* copy_slot's (interp.c) loads for the value sizes 1, 2, 4, 8, 16: all ones where the load of
 * that width (m16: the second 8 bytes) reads the value, else 0 (it reads slot_zeros). */
typedef struct {
  uintptr_t m16, m8, m4, m2, m1;
} slot_copy_info;
static const slot_copy_info slot_copy_tab[17] = {
    [1] = {.m1 = ~(uintptr_t)0},
    [2] = {.m2 = ~(uintptr_t)0},
    [4] = {.m4 = ~(uintptr_t)0},
    [8] = {.m8 = ~(uintptr_t)0},
    [16] = {.m16 = ~(uintptr_t)0, .m8 = ~(uintptr_t)0},
};
static const uint8_t slot_zeros[8];

static inline u128 zext_width(u128 x, int bits) {
  return bits >= 128 ? x : x & (((u128)1 << bits) - 1);
}

#ifdef __FLT16_MAX__
#define HAVE_F16 1
typedef _Float16 f16_t;
#else
#define HAVE_F16 0
#endif

/* Float values in the host's own types (the emitted C uses the same). */
typedef struct {
  int type;
#if HAVE_F16
  f16_t h;
#endif
  float f;
  double d;
  long double x;
} fval;

static inline fval rd_float(const uint8_t *p, int type) {
  fval v;
  memset(&v, 0, sizeof v);
  v.type = type;
  switch (type) {
#if HAVE_F16
  case AF_T_F16: memcpy(&v.h, p, 2); break;
#endif
  case AF_T_F32: memcpy(&v.f, p, 4); break;
  case AF_T_F64: memcpy(&v.d, p, 8); break;
  case AF_T_F80: memcpy(&v.x, p, 10); break;
  default: break;
  }
  return v;
}

static inline __attribute__((always_inline)) void wr_float(uint8_t *p, const fval *v) {
  switch (v->type) {
#if HAVE_F16
  case AF_T_F16: memcpy(p, &v->h, 2); break;
#endif
  case AF_T_F32: memcpy(p, &v->f, 4); break;
  case AF_T_F64: memcpy(p, &v->d, 8); break;
  case AF_T_F80:
    memcpy(p, &v->x, 10); /* the 6 padding bytes are zero in the model */
    memset(p + 10, 0, 6);
    break;
  default: break;
  }
}

#endif
