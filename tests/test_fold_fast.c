/* test_fold_fast.c - the folds' and conversions' fast paths against gen.h's rules written out. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gen.h"

/* xorshift64: the test's own bytes */
static uint64_t rnd_s = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) {
  rnd_s ^= rnd_s << 13;
  rnd_s ^= rnd_s >> 7;
  rnd_s ^= rnd_s << 17;
  return rnd_s;
}

/* ---- ITOF: af_eval_conv against C's own conversion, stores exactly sized ---- */
static const int int_kinds[] = {AF_T_BOOL, AF_T_I8,  AF_T_U8,  AF_T_I16, AF_T_U16,
                                AF_T_I32,  AF_T_U32, AF_T_I64, AF_T_U64};

/* The value of the first size bytes at p as the kind reads it, converted by C. */
static void want_itof(int from, int to, const uint8_t *p, uint8_t *out) {
  uint64_t u = 0;
  int size = from == AF_T_BOOL ? 1 : af_scalar((af_kind)from)->size;
  memcpy(&u, p, (size_t)size);
  int64_t s = (int64_t)u;
  if (size < 8 && af_scalar((af_kind)from)->is_signed && ((u >> (8 * size - 1)) & 1))
    s = (int64_t)(u | (~0ull << (8 * size)));
  int sg = from != AF_T_BOOL && af_scalar((af_kind)from)->is_signed;
  if (to == AF_T_F32) {
    float f = sg ? (float)s : (float)u;
    memcpy(out, &f, 4);
  } else {
    double d = sg ? (double)s : (double)u;
    memcpy(out, &d, 8);
  }
}

static uint64_t edge_value(int i) {
  /* around the roundings: 2^24, 2^53, 2^63, 2^64 and halfway patterns */
  static const uint64_t e[] = {0,
                               1,
                               0x7f,
                               0x80,
                               0xff,
                               (1ull << 24) + 1,
                               (1ull << 53) + 1,
                               (1ull << 53) + 3,
                               0x7fffffffffffffffull,
                               0x8000000000000000ull,
                               0x8000000000000001ull,
                               0x8000000000000400ull,
                               0x8000000000000401ull,
                               0x8000008000000000ull,
                               0x8000018000000000ull,
                               0xfffffffffffff800ull,
                               0xfffffffffffffbffull,
                               0xffffffffffffffffull};
  return e[i % (int)(sizeof e / sizeof e[0])];
}

static void test_itof(void) {
  int bad = 0;
  for (int k = 0; k < (int)(sizeof int_kinds / sizeof int_kinds[0]); k++)
    for (int to = AF_T_F32; to <= AF_T_F64; to++)
      for (int i = 0; i < 20000; i++) {
        uint64_t x = i < 64 ? edge_value(i) : rnd() >> (rnd() % 64);
        if (i >= 64 && (i & 1)) x |= 0x8000000000000000ull;
        if (int_kinds[k] == AF_T_BOOL) x &= 1;
        uint8_t a[8], got[16], want[16];
        memcpy(a, &x, 8);
        memset(got, 0xa5, sizeof got);
        memset(want, 0xa5, sizeof want);
        want_itof(int_kinds[k], to, a, want);
        af_status s = af_eval_conv(AF_OP_ITOF, int_kinds[k], to, a, got);
        if (s != AF_OK || memcmp(got, want, sizeof got)) {
          if (bad++ < 5)
            CHECKF(0, "itof %d -> %d of 0x%016llx: status %d, bytes differ", int_kinds[k], to,
                   (unsigned long long)x, s);
        }
      }
  CHECKF(bad == 0, "%d conversions differ from C's", bad);
}

/* ---- af_fold_bytes against the walk gen.h describes ---- */
static uint64_t f_bits(uint64_t x, uint64_t expmask, uint64_t frac, uint64_t qnan) {
  return (x & expmask) == expmask && (x & frac) ? qnan : x;
}

static uint64_t le(const uint8_t *p, int n) {
  uint64_t x = 0;
  for (int i = 0; i < n; i++)
    x |= (uint64_t)p[i] << (8 * i);
  return x;
}

static uint64_t ref_scalar(uint64_t h, int t, const uint8_t *p, uint64_t ptr_id) {
  const af_scalar_info *s = af_scalar((af_kind)t);
  switch (t) {
  case AF_T_VOID: return h;
  case AF_T_I128:
  case AF_T_U128: return af_fold_u64(af_fold_u64(h, le(p, 8)), le(p + 8, 8));
  case AF_T_F16: return af_fold_u64(h, f_bits(le(p, 2), 0x7c00, 0x3ff, 0x7e00));
  case AF_T_F32: return af_fold_u64(h, f_bits(le(p, 4), 0x7f800000, 0x7fffff, 0x7fc00000));
  case AF_T_F64:
    return af_fold_u64(
        h, f_bits(le(p, 8), 0x7ff0000000000000ull, 0xfffffffffffffull, 0x7ff8000000000000ull));
  case AF_T_F80: {
    uint64_t m = le(p, 8), se = le(p + 8, 2);
    if ((se & 0x7fff) == 0x7fff && (m << 1)) m = 0xc000000000000000ull, se = 0x7fff;
    return af_fold_u64(af_fold_u64(h, m), se);
  }
  case AF_T_CF32: h = ref_scalar(h, AF_T_F32, p, 0); return ref_scalar(h, AF_T_F32, p + 4, 0);
  case AF_T_CF64: h = ref_scalar(h, AF_T_F64, p, 0); return ref_scalar(h, AF_T_F64, p + 8, 0);
  case AF_T_PTR: return af_fold_u64(h, ptr_id);
  case AF_T_M128:
  case AF_T_M256:
    for (int i = 0; i < s->size; i += 8)
      h = af_fold_u64(h, le(p + i, 8));
    return h;
  default: { /* bool, i8..u64 */
    uint64_t x = le(p, s->size);
    if (s->is_signed && s->size < 8 && ((x >> (8 * s->size - 1)) & 1)) x |= ~0ull << (8 * s->size);
    return af_fold_u64(h, x);
  }
  }
}

static uint64_t ref_fold(const af_case *c, uint64_t h, int type, const uint8_t *p, uint64_t id) {
  if (type < AF_T_NSCALAR) return ref_scalar(h, type, p, id);
  const af_type *t = &c->types[type];
  if (t->kind == AF_T_ARRAY) {
    for (uint32_t i = 0; i < t->count; i++)
      h = ref_fold(c, h, t->elem, p + i * c->types[t->elem].size, id);
    return h;
  }
  for (int i = 0; i < t->nfields; i++) {
    const af_field *f = &t->fields[i];
    if (f->bits == 0) continue;
    if (f->bits > 0) {
      int sg = f->type < AF_T_NSCALAR && af_scalar((af_kind)f->type)->is_signed;
      h = af_fold_u64(h, af_bitfield_get(p, f->bit_offset, f->bits, sg));
    } else {
      h = ref_fold(c, h, f->type, p + f->offset, id);
    }
  }
  return h;
}

static void test_fold(void) {
  af_gen_opts go;
  af_gen_opts_default(&go);
  go.allow_f16 = 1;
  go.allow_m256 = 1;
  int types = 0, bitfield_types = 0, bad = 0;
  for (int i = 0; i < 400; i++) {
    af_case c;
    af_error err;
    go.allow_divergent = i & 1;
    go.cc = (i >> 1) & 1;
    if (af_gen_case(&go, 77, (uint64_t)i, &c, NULL, &err) != AF_OK) {
      CHECKF(0, "case %d: %s", i, err.msg);
      continue;
    }
    for (int t = 1; t < c.ntypes; t++) {
      uint32_t n = t == AF_T_PTR ? 8 : c.types[t].size;
      int has_bf = 0;
      for (int k = 0; t >= AF_T_NSCALAR && c.types[t].kind != AF_T_ARRAY && k < c.types[t].nfields;
           k++)
        has_bf |= c.types[t].fields[k].bits > 0;
      bitfield_types += has_bf;
      types++;
      for (int rep = 0; rep < 4; rep++) {
        uint8_t *p = malloc(n ? n : 1); /* exactly sized: a read past it is a bug */
        for (uint32_t b = 0; b < n; b++) {
          uint64_t r = rnd();
          p[b] = rep == 1 ? (r & 1 ? 0xff : 0x7f) : rep == 2 ? (uint8_t)(r & 0x81) : (uint8_t)r;
        }
        uint64_t h = rnd(), id = rnd();
        if (af_fold_bytes(&c, h, t, p, id) != ref_fold(&c, h, t, p, id)) {
          if (bad++ < 5) CHECKF(0, "case %d type %d: af_fold_bytes differs from the walk", i, t);
        }
        free(p);
      }
    }
    af_case_free(&c);
  }
  CHECKF(bad == 0, "%d folds differ", bad);
  CHECKF(types > 1000 && bitfield_types > 20, "%d types, %d with bit-fields: too few to tell",
         types, bitfield_types);
}

int main(void) {
  test_itof();
  test_fold();
  return check_done();
}
