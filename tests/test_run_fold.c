/* test_run_fold.c - af_fold_operand against af_fold_value's definition, af_jit_run's result. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gen.h"
#include "jit.h"

/* xorshift64: the test's own bytes (any bit pattern, NaNs included) */
static uint64_t rnd_s = 0x2545f4914f6cdd1dull;
static uint64_t rnd(void) {
  rnd_s ^= rnd_s << 13;
  rnd_s ^= rnd_s >> 7;
  rnd_s ^= rnd_s << 17;
  return rnd_s;
}

/* What gen.h says af_fold_operand is: a pointer folds as the id of the object among
 * objects[0..nobjects) it equals (else the "no object" id), anything else as af_fold_value of
 * its bytes. */
static uint64_t want_operand(const af_case *c, uint8_t *const *objects, uint64_t h, const void *p,
                             int type) {
  af_value v = {.type = type, .obj = -1};
  if (type == AF_T_PTR) {
    uint8_t *q;
    memcpy(&q, p, sizeof q);
    for (int k = 0; objects && k < c->nobjects; k++)
      if (objects[k] && objects[k] == q) v.obj = k;
    return af_fold_value(c, h, &v);
  }
  v.size = type > AF_T_VOID && type < c->ntypes ? c->types[type].size : 0;
  v.bytes = (uint8_t *)(uintptr_t)p;
  return af_fold_value(c, h, &v);
}

/* Every type of generated cases (scalars, aggregates, pointers to each object, to a LOCAL,
 * NULL objects), random bytes, a third of them NaN-heavy. */
static void test_operand(void) {
  af_gen_opts go;
  af_gen_opts_default(&go);
  go.allow_f16 = go.allow_m256 = 1;
  long bad = 0, n = 0;
  for (int i = 0; i < 200; i++) {
    af_case c;
    af_error err;
    go.cc = i & 1;
    if (af_gen_case(&go, 77, (uint64_t)i, &c, NULL, &err) != AF_OK) {
      af_case_free(&c);
      continue;
    }
    static uint8_t objs[AF_MAX_OBJECTS][AF_REGION_SIZE];
    uint8_t *op[AF_MAX_OBJECTS] = {0};
    for (int k = 0; k < c.nobjects; k++)
      op[k] = objs[k];
    uint8_t buf[AF_MAX_TYPE_SIZE + 16], local[16];
    for (int t = 0; t < c.ntypes + 2; t++)
      for (int rep = 0; rep < 4; rep++) {
        for (size_t b = 0; b < sizeof buf; b++)
          buf[b] = (uint8_t)rnd();
        if (rep == 1) /* exponents all ones: NaNs and infinities of every float kind */
          for (size_t b = 0; b < sizeof buf; b++)
            buf[b] |= (uint8_t)(rnd() & 1 ? 0xff : 0x7f);
        if (t == AF_T_PTR) {
          uint8_t *q = rep == 3 || !c.nobjects ? local : op[rnd() % (uint64_t)c.nobjects];
          memcpy(buf, &q, sizeof q);
        }
        uint64_t h = rnd();
        n++;
        if (af_fold_operand(&c, op, h, buf, t) != want_operand(&c, op, h, buf, t)) bad++;
        if (af_fold_operand(&c, NULL, h, buf, t) != want_operand(&c, NULL, h, buf, t)) bad++;
        if (t != AF_T_PTR && af_fold_operand(&c, op, h, NULL, t) != h) bad++;
      }
    af_case_free(&c);
  }
  CHECKF(n > 1000 && bad == 0, "%ld of %ld folds differ", bad, n);
}

/* af_jit_run: the checksum and objects the interpreter computes, and every object past the
 * case's cleared in a result that held other bytes before. */
static void test_run_result(void) {
  af_gen_opts go;
  af_gen_opts_default(&go);
  long runs = 0, bad = 0, dirty = 0;
  for (int i = 0; i < 150; i++) {
    af_case c;
    af_error err;
    go.cc = i & 1;
    if (af_gen_case(&go, 78, (uint64_t)i, &c, NULL, &err) != AF_OK) {
      af_case_free(&c);
      continue;
    }
    af_interp_result want;
    af_jit *j = NULL;
    if (af_interp(&c, 0, &want, &err) == AF_OK && af_jit_compile(&c, NULL, &j, &err) == AF_OK) {
      static af_jit_result r;
      memset(&r, 0xa5, sizeof r);
      if (af_jit_run(j, NULL, &r, &err) == AF_OK) {
        runs++;
        bad += r.checksum != want.checksum ||
               memcmp(r.objects, want.objects, (size_t)c.nobjects * AF_REGION_SIZE) != 0;
        for (int k = c.nobjects; k < AF_MAX_OBJECTS; k++)
          for (int b = 0; b < AF_REGION_SIZE; b++)
            dirty += r.objects[k][b] != 0;
        af_jit_result_free(&r);
      }
    }
    af_jit_free(j);
    af_interp_result_free(&want);
    af_case_free(&c);
  }
  CHECKF(runs > 100 && bad == 0, "%ld of %ld runs differ from the interpreter", bad, runs);
  CHECKF(dirty == 0, "%ld bytes of objects past the case's not cleared", dirty);
}

/* gen.h "Folding" for one scalar leaf, written out per kind (not the table fold.c uses): the
 * chunk a leaf of `type` folds as. */
static uint64_t want_chunk(int type, const uint8_t *p) {
  uint64_t x = 0;
  int size = af_scalar((af_kind)type)->size;
  for (int i = 0; i < size && i < 8; i++)
    x |= (uint64_t)p[i] << (8 * i);
  switch (type) {
  case AF_T_I8: return (uint64_t)(int64_t)(int8_t)x;
  case AF_T_I16: return (uint64_t)(int64_t)(int16_t)x;
  case AF_T_I32: return (uint64_t)(int64_t)(int32_t)x;
  case AF_T_F16: return (x & 0x7c00) == 0x7c00 && (x & 0x3ff) ? 0x7e00 : x;
  case AF_T_F32: return (x & 0x7f800000) == 0x7f800000 && (x & 0x7fffff) ? 0x7fc00000 : x;
  case AF_T_F64: return (x >> 52 & 0x7ff) == 0x7ff && (x << 12) ? 0x7ff8000000000000ull : x;
  default: return x; /* bool, u8 .. u64, i64 */
  }
}

/* The one-chunk leaves (bool, i8..u64, f16, f32, f64) fold as gen.h says, every byte pattern
 * class (random, NaN and infinity exponents, sign bits), each read from the end of a buffer of
 * exactly its size (fold.c reads each width from the leaf or from zeros: never past it). */
static void test_leaf_chunks(void) {
  af_case c;
  CHECK(af_case_init(&c) == AF_OK);
  static const int kinds[] = {AF_T_BOOL, AF_T_I8,  AF_T_U8,  AF_T_I16, AF_T_U16, AF_T_I32,
                              AF_T_U32,  AF_T_I64, AF_T_U64, AF_T_F16, AF_T_F32, AF_T_F64};
  long bad = 0;
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
    int t = kinds[k], size = af_scalar((af_kind)t)->size;
    for (int rep = 0; rep < 4000; rep++) {
      uint8_t *buf = malloc((size_t)size);
      uint64_t r = rnd();
      if (rep % 4 == 1) r |= 0x7ff0000000000000ull | 0x7f800000u | 0x7c00; /* exponents */
      if (rep % 4 == 2) r &= 0xfff0000000000000ull | 0xff800000u | 0xfc00; /* infinities */
      if (rep % 8 == 3) r = ~r;
      for (int i = 0; i < size; i++)
        buf[i] = (uint8_t)(r >> (8 * i));
      uint64_t h = rnd();
      uint64_t got = af_fold_bytes(&c, h, t, buf, 0), want = af_fold_u64(h, want_chunk(t, buf));
      if (got != want && bad++ < 5)
        CHECKF(0, "%s bytes %016llx: fold %016llx, want %016llx", af_scalar((af_kind)t)->name,
               (unsigned long long)r, (unsigned long long)got, (unsigned long long)want);
      free(buf);
    }
  }
  CHECK(bad == 0);
  af_case_free(&c);
}

int main(void) {
  test_leaf_chunks();
  test_operand();
  test_run_result();
  return check_done();
}
