/* lower_rt.c - runtime helpers the JIT code calls (SysV C): MIX's fold, 128-bit and f16 work. */
#include <string.h>

#include "lower.h"

/* Every helper repeats the reference interpreter's C expressions (gen/interp.c) on the same
 * host types, so that gcc compiles them to the same instructions: the C helper IS the
 * reference semantics for what the lowering does not inline. */

typedef unsigned __int128 u128;
typedef __int128 i128;

#ifdef __FLT16_MAX__
#define RT_HAVE_F16 1
typedef _Float16 rt_f16;
#else
#define RT_HAVE_F16 0
#endif

static int rt_bits(int type) { return type == AF_T_BOOL ? 8 : 8 * af_scalar((af_kind)type)->size; }

static int rt_signed(int type) {
  return type >= AF_T_I8 && type <= AF_T_U128 && af_scalar((af_kind)type)->is_signed;
}

static u128 rt_rd_int(const uint8_t *p, int type) {
  int n = rt_bits(type) / 8;
  u128 x = 0;
  for (int i = 0; i < n; i++)
    x |= (u128)p[i] << (8 * i);
  if (rt_signed(type) && n < 16 && (p[n - 1] & 0x80)) x |= ~(u128)0 << (8 * n);
  return x;
}

static void rt_wr_int(uint8_t *p, int type, u128 x) {
  if (type == AF_T_BOOL) {
    p[0] = (uint8_t)(x & 1);
    return;
  }
  int n = rt_bits(type) / 8;
  for (int i = 0; i < n; i++)
    p[i] = (uint8_t)(x >> (8 * i));
}

static u128 rt_zext(u128 x, int bits) { return bits >= 128 ? x : x & (((u128)1 << bits) - 1); }

/* MIX: folds one operand (its slot bytes) with af_fold_value; a pointer is matched against
 * the run's objects (pointers always point at a region's start, gen.h). */
uint64_t jit_rt_fold(const jit_rt *rt, uint64_t h, const void *value, int type) {
  af_value v;
  memset(&v, 0, sizeof v);
  v.type = type;
  v.obj = -1;
  if (type == AF_T_PTR) {
    uint8_t *p;
    memcpy(&p, value, sizeof p);
    for (int k = 0; k < rt->c->nobjects && k < AF_MAX_OBJECTS; k++)
      if (rt->objects[k] && rt->objects[k] == p) v.obj = k;
    return af_fold_value(rt->c, h, &v);
  }
  v.size = rt->c->types[type].size;
  v.bytes = (uint8_t *)(uintptr_t)value;
  return af_fold_value(rt->c, h, &v);
}

typedef struct {
  int type;
#if RT_HAVE_F16
  rt_f16 h;
#endif
  float f;
  double d;
  long double x;
} rt_fval;

static rt_fval rt_rd_float(const uint8_t *p, int type) {
  rt_fval v;
  memset(&v, 0, sizeof v);
  v.type = type;
  switch (type) {
#if RT_HAVE_F16
  case AF_T_F16: memcpy(&v.h, p, 2); break;
#endif
  case AF_T_F32: memcpy(&v.f, p, 4); break;
  case AF_T_F64: memcpy(&v.d, p, 8); break;
  case AF_T_F80: memcpy(&v.x, p, 10); break;
  default: break;
  }
  return v;
}

static void rt_wr_float(uint8_t *p, const rt_fval *v) {
  switch (v->type) {
#if RT_HAVE_F16
  case AF_T_F16: memcpy(p, &v->h, 2); break;
#endif
  case AF_T_F32: memcpy(p, &v->f, 4); break;
  case AF_T_F64: memcpy(p, &v->d, 8); break;
  case AF_T_F80:
    memcpy(p, &v->x, 10);
    memset(p + 10, 0, 6);
    break;
  default: break;
  }
}

#if RT_HAVE_F16
#define RT_CONV_TO(DST, v)                                                                         \
  ((v)->type == AF_T_F16   ? (DST)(v)->h                                                           \
   : (v)->type == AF_T_F32 ? (DST)(v)->f                                                           \
   : (v)->type == AF_T_F64 ? (DST)(v)->d                                                           \
                           : (DST)(v)->x)
#else
#define RT_CONV_TO(DST, v)                                                                         \
  ((v)->type == AF_T_F32 ? (DST)(v)->f : (v)->type == AF_T_F64 ? (DST)(v)->d : (DST)(v)->x)
#endif

/* FCONV float -> float (used for f16 either side): one C conversion, as `(DST)x`. */
void jit_rt_fconv(void *d, const void *a, int from, int to) {
  rt_fval x = rt_rd_float(a, from), r;
  memset(&r, 0, sizeof r);
  r.type = to;
  switch (to) {
#if RT_HAVE_F16
  case AF_T_F16: r.h = RT_CONV_TO(rt_f16, &x); break;
#endif
  case AF_T_F32: r.f = RT_CONV_TO(float, &x); break;
  case AF_T_F64: r.d = RT_CONV_TO(double, &x); break;
  case AF_T_F80: r.x = RT_CONV_TO(long double, &x); break;
  default: break;
  }
  rt_wr_float(d, &r);
}

/* ITOF integer (bool .. u128, by its signedness) -> float, as the interpreter's itof. */
void jit_rt_itof(void *d, const void *a, int from, int to) {
  u128 x = rt_rd_int(a, from);
  rt_fval r;
  memset(&r, 0, sizeof r);
  r.type = to;
  int sgn = rt_signed(from), wide = rt_bits(from) > 64;
#define RT_ITOF_AS(DST)                                                                            \
  (wide ? (sgn ? (DST)(i128)x : (DST)x) : (sgn ? (DST)(int64_t)(uint64_t)x : (DST)(uint64_t)x))
  switch (to) {
#if RT_HAVE_F16
  case AF_T_F16: r.h = RT_ITOF_AS(rt_f16); break;
#endif
  case AF_T_F32: r.f = RT_ITOF_AS(float); break;
  case AF_T_F64: r.d = RT_ITOF_AS(double); break;
  case AF_T_F80: r.x = RT_ITOF_AS(long double); break;
  default: break;
  }
#undef RT_ITOF_AS
  rt_wr_float(d, &r);
}

static long double rt_pow2l(int n) {
  long double x = 1.0L;
  while (n-- > 0)
    x *= 2.0L;
  return x;
}

/* FTOI float -> integer, saturating (NaN -> 0), widened exactly to long double first. */
void jit_rt_ftoi(void *d, const void *a, int from, int to) {
  rt_fval v = rt_rd_float(a, from);
  long double x;
  switch (from) {
#if RT_HAVE_F16
  case AF_T_F16: x = (long double)(float)v.h; break;
#endif
  case AF_T_F32: x = v.f; break;
  case AF_T_F64: x = v.d; break;
  default: x = v.x; break;
  }
  int bits = rt_bits(to);
  u128 r;
  if (x != x) {
    r = 0;
  } else if (rt_signed(to)) {
    long double lim = rt_pow2l(bits - 1);
    if (x <= -lim)
      r = ~(u128)0 << (bits - 1);
    else if (x >= lim)
      r = ((u128)1 << (bits - 1)) - 1;
    else
      r = (u128)(i128)x;
  } else if (x <= -1.0L) {
    r = 0;
  } else if (x >= rt_pow2l(bits)) {
    r = rt_zext(~(u128)0, bits);
  } else {
    r = (u128)x;
  }
  rt_wr_int(d, to, r);
}

/* GET of a bit-field: bits [bit_offset, +bits) of agg, extended per `type`, written as type. */
void jit_rt_bf_get(void *d, const void *agg, uint32_t bit_offset, int bits, int type) {
  const uint8_t *p = agg;
  uint64_t x = 0;
  for (int i = 0; i < bits; i++) {
    uint32_t b = bit_offset + (uint32_t)i;
    x |= (uint64_t)((p[b / 8] >> (b % 8)) & 1) << i;
  }
  if (rt_signed(type) && bits > 0 && bits < 64 && (x >> (bits - 1)) & 1) x |= ~0ull << bits;
  rt_wr_int(d, type, (u128)(int64_t)x);
}

/* SET of a bit-field: the low `bits` bits of the value (of `type`) into d's bits. */
void jit_rt_bf_set(void *d, const void *val, uint32_t bit_offset, int bits, int type) {
  uint8_t *p = d;
  uint64_t x = (uint64_t)rt_rd_int(val, type);
  for (int i = 0; i < bits; i++) {
    uint32_t b = bit_offset + (uint32_t)i;
    uint8_t m = (uint8_t)(1u << (b % 8));
    if ((x >> i) & 1)
      p[b / 8] |= m;
    else
      p[b / 8] &= (uint8_t)~m;
  }
}
