/* gen_values.c - the generator's concrete values (edge, random, graffiti) and its GET/SET paths. */
#include <string.h>

#include "case_internal.h"
#include "gen_private.h"

/* Graffiti: byte j of leaf k reads (k << 4 | j) ^ 0xa5, so a value that
 * arrives shifted, truncated or in another field's place shows which field
 * and which byte it came from (e.g. 0xb5 0xb4 ... is leaf 1, bytes 0, 1). */
static uint8_t graffiti(int leaf, int j) {
  return (uint8_t)((((leaf & 15) << 4) | (j & 15)) ^ 0xa5);
}
#define GEN_PAD_LEAF 15 /* padding bytes read as "leaf 15" */

static void put_le(uint8_t *p, uint64_t v, int n) {
  for (int i = 0; i < n; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

/* Integer edge values of an n-byte integer: 0, all ones (-1 / max unsigned),
 * the sign bit alone (signed min), signed max, 1, and a byte-boundary carry (the low half's
 * bytes all ones). */
static void edge_int(gen_state *g, uint8_t *p, int n) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (n <= 16 && n > 0 && (n & (n - 1)) == 0) {
    /* The six values below for 1-16 bytes as constants, one picked by the draw: a load
     * instead of the switch's indirect jump (mispredicted ~20 times a case) and memsets. */
    typedef unsigned __int128 u128;
#define EI_ONES(b) (~(u128)0 >> (128 - 8 * (b)))
#define EI_TOP(b)  ((u128)1 << (8 * (b)-1))
#define EI(b)                                                                                      \
  { 0, EI_ONES(b), EI_TOP(b), EI_ONES(b) ^ EI_TOP(b), 1, EI_ONES((b) > 1 ? (b) / 2 : 1) }
    static const u128 v[5][6] = {EI(1), EI(2), EI(4), EI(8), EI(16)};
#undef EI
#undef EI_TOP
#undef EI_ONES
    memcpy(p, &v[__builtin_ctz((unsigned)n)][gen_below(g, 6)], (size_t)n);
    return;
  }
#endif
  memset(p, 0, (size_t)n);
  switch (gen_below(g, 6)) {
  case 0: break;
  case 1: memset(p, 0xff, (size_t)n); break;
  case 2: p[n - 1] = 0x80; break;
  case 3:
    memset(p, 0xff, (size_t)n);
    p[n - 1] = 0x7f;
    break;
  case 4: p[0] = 1; break;
  default: memset(p, 0xff, (size_t)(n > 1 ? n / 2 : 1)); break; /* 0x..00ff..ff */
  }
}

/* IEEE binary16/32/64 edge values: signed zeros, infinities, quiet and
 * signalling NaNs with payloads, the smallest and largest denormals, the
 * smallest normal, the largest finite value, 1.0. */
static void edge_ieee(gen_state *g, uint8_t *p, int ebits, int mbits) {
  uint64_t emax = ((uint64_t)1 << ebits) - 1, mmask = ((uint64_t)1 << mbits) - 1;
  uint64_t quiet = (uint64_t)1 << (mbits - 1), e = 0, m = 0;
  uint64_t payload = gen_next(g) & (quiet - 1);
  switch (gen_below(g, 9)) {
  case 0: break;                                      /* zero */
  case 1: e = emax; break;                            /* infinity */
  case 2: e = emax, m = quiet | payload; break;       /* quiet NaN */
  case 3: e = emax, m = payload ? payload : 1; break; /* signalling NaN */
  case 4: m = 1; break;                               /* smallest denormal */
  case 5: m = mmask; break;                           /* largest denormal */
  case 6: e = 1; break;                               /* smallest normal */
  case 7: e = emax - 1, m = mmask; break;             /* largest finite */
  default: e = emax >> 1; break;                      /* 1.0 */
  }
  uint64_t bits = (e << mbits) | m | (gen_chance(g, 50) ? (uint64_t)1 << (ebits + mbits) : 0);
  put_le(p, bits, (1 + ebits + mbits) / 8);
}

/* x87 80-bit: 64-bit mantissa with an explicit integer bit, then sign and a
 * 15-bit exponent; 6 bytes of padding that the value model keeps zero. */
static void f80_canonical(uint8_t *p) {
  unsigned exp = (unsigned)(p[8] | (p[9] << 8)) & 0x7fff;
  if (exp)
    p[7] |= 0x80;
  else
    p[7] &= 0x7f;
  memset(p + 10, 0, 6);
}

static void edge_f80(gen_state *g, uint8_t *p) {
  uint64_t m = 0, payload = gen_next(g) & 0x3fffffffffffffffull;
  unsigned e = 0;
  switch (gen_below(g, 8)) {
  case 0: break;
  case 1: e = 0x7fff, m = 1ull << 63; break;                             /* infinity */
  case 2: e = 0x7fff, m = 0xc000000000000000ull | payload; break;        /* quiet NaN */
  case 3: e = 0x7fff, m = (1ull << 63) | (payload ? payload : 1); break; /* signalling */
  case 4: m = payload ? payload : 1; break;                              /* denormal */
  case 5: e = 0x7ffe, m = ~0ull; break;                                  /* largest */
  case 6: e = 1, m = 1ull << 63; break;                                  /* smallest normal */
  default: e = 0x3fff, m = 1ull << 63; break;                            /* 1.0 */
  }
  if (gen_chance(g, 50)) e |= 0x8000;
  put_le(p, m, 8);
  put_le(p + 8, e, 2);
  f80_canonical(p);
}

static void fill_bytes(gen_state *g, uint8_t *p, int n, int mode, int leaf) {
  uint64_t r = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  /* The loop below, 8 bytes at a time (whole-word stores; a variable-length memcpy was a
   * library call per word). */
  int j = 0;
  if (mode != GV_GRAFFITI) { /* one draw per 8 bytes */
    for (; j + 8 <= n; j += 8) {
      r = gen_next(g);
      memcpy(p + j, &r, 8);
    }
    if (j < n) {
      r = gen_next(g);
      for (int i = 0; j < n; j++, i++)
        p[j] = (uint8_t)(r >> (8 * i));
    }
    return;
  }
  /* graffiti: byte j is ((leaf & 15) << 4 | (j & 15)) ^ 0xa5, words of bytes 0-7 and 8-15 */
  uint64_t hi = 0x1010101010101010ull * (uint64_t)(leaf & 15), x = 0xa5a5a5a5a5a5a5a5ull;
  const uint64_t w[2] = {(0x0706050403020100ull | hi) ^ x, (0x0f0e0d0c0b0a0908ull | hi) ^ x};
  for (; j + 8 <= n; j += 8)
    memcpy(p + j, &w[(j >> 3) & 1], 8);
  for (; j < n; j++)
    p[j] = graffiti(leaf, j);
  return;
#endif
  for (int j = 0; j < n; j++) {
    if (mode == GV_GRAFFITI) {
      p[j] = graffiti(leaf, j);
      continue;
    }
    if ((j & 7) == 0) r = gen_next(g); /* one draw per 8 bytes */
    p[j] = (uint8_t)(r >> (8 * (j & 7)));
  }
}

/* fill_bytes in GV_RANDOM mode for a leaf of n <= 16 bytes, inline: one draw per 8 bytes
 * (the last one's low bytes for a partial word), little-endian, as fill_bytes does. */
static inline void fill_random_small(gen_state *g, uint8_t *p, int n) {
  for (int j = 0; j < n; j += 8) {
    uint64_t r = gen_next(g);
    int k = n - j < 8 ? n - j : 8;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    switch (k) { /* the low k bytes of r: one store */
    case 8: memcpy(p + j, &r, 8); continue;
    case 4: memcpy(p + j, &r, 4); continue;
    case 2: memcpy(p + j, &r, 2); continue;
    default: break;
    }
#endif
    for (int i = 0; i < k; i++)
      p[j + i] = (uint8_t)(r >> (8 * i));
  }
}

/* One leaf that is not a complex or a vector (fill_scalar splits those). */
static inline __attribute__((always_inline)) void fill_leaf(gen_state *g, int k, uint8_t *p,
                                                            int mode, int *leaf) {
  int n = case_scalar(k)->size;
  switch (k) {
  case AF_T_BOOL:
    p[0] = mode == GV_GRAFFITI ? (uint8_t)(*leaf & 1) : (uint8_t)gen_below(g, 2);
    ++*leaf;
    return;
  case AF_T_F80:
    if (mode == GV_EDGE)
      edge_f80(g, p);
    else {
      fill_bytes(g, p, 10, mode, *leaf);
      f80_canonical(p);
    }
    ++*leaf;
    return;
  default: break;
  }
  if (mode == GV_RANDOM)
    fill_random_small(g, p, n);
  else if (mode != GV_EDGE)
    fill_bytes(g, p, n, mode, *leaf);
  else if (k == AF_T_F16)
    edge_ieee(g, p, 5, 10);
  else if (k == AF_T_F32)
    edge_ieee(g, p, 8, 23);
  else if (k == AF_T_F64)
    edge_ieee(g, p, 11, 52);
  else
    edge_int(g, p, n);
  ++*leaf;
}

/* One scalar leaf (complex and vectors count one leaf per part / lane). Inline in fill_type
 * and gen_fill: a call per leaf was a fifth of filling. */
static inline __attribute__((always_inline)) void fill_scalar(gen_state *g, int k, uint8_t *p,
                                                              int mode, int *leaf) {
  switch (k) {
  case AF_T_CF32:
  case AF_T_CF64:
  case AF_T_M128:
  case AF_T_M256: {
    int n = case_scalar(k)->size;
    int part = k == AF_T_CF64 ? AF_T_F64 : AF_T_F32, ps = part == AF_T_F64 ? 8 : 4;
    for (int o = 0; o < n; o += ps)
      fill_leaf(g, part, p + o, mode, leaf);
    return;
  }
  default: fill_leaf(g, k, p, mode, leaf); return;
  }
}

/* Bits [bit, bit + width) of p = the low width bits of v (width <= 64): af_bitfield_set,
 * a byte at a time (test_gen_fast checks it against the bit loop this was). */
static void put_bits(uint8_t *p, uint32_t bit, int width, uint64_t v) {
  af_bitfield_set(p, bit, width, v);
}

static void fill_type(gen_state *g, int type, uint8_t *p, int mode, int *leaf) {
  const af_type *t = &g->c->types[type];
  if (type < AF_T_NSCALAR) {
    if (type != AF_T_VOID && type != AF_T_PTR) fill_scalar(g, type, p, mode, leaf);
    return;
  }
  if (t->kind == AF_T_ARRAY) {
    uint32_t es = g->c->types[t->elem].size;
    if (t->elem < AF_T_NSCALAR) { /* what fill_type does for a scalar, without the call */
      if (t->elem != AF_T_VOID && t->elem != AF_T_PTR)
        for (uint32_t i = 0; i < t->count; i++)
          fill_scalar(g, t->elem, p + i * es, mode, leaf);
      return;
    }
    for (uint32_t i = 0; i < t->count; i++)
      fill_type(g, t->elem, p + i * es, mode, leaf);
    return;
  }
  if (t->kind == AF_T_UNION) {
    /* Every member admits every bit pattern (gen.h's union rule), so the
     * bytes already there are valid; in edge mode one member gets an edge. */
    if (mode == GV_EDGE && t->nfields) {
      const af_field *f = &t->fields[gen_below(g, (uint64_t)t->nfields)];
      if (f->bits < 0) fill_type(g, f->type, p, mode, leaf);
    }
    return;
  }
  for (int i = 0; i < t->nfields; i++) {
    const af_field *f = &t->fields[i];
    if (f->bits == 0) continue;
    if (f->bits > 0) {
      uint64_t v;
      if (mode == GV_RANDOM)
        v = gen_next(g);
      else if (mode == GV_GRAFFITI)
        v = 0x0101010101010101ull * graffiti(*leaf, 0);
      else {
        static const uint64_t e[4] = {0, ~0ull, 1, 0};
        int k = (int)gen_below(g, 4);
        v = k == 3 ? (uint64_t)1 << (f->bits - 1) : e[k]; /* 3: the field's sign bit */
      }
      put_bits(p, f->bit_offset, f->bits, v);
      ++*leaf;
      continue;
    }
    if (f->type >= AF_T_NSCALAR)
      fill_type(g, f->type, p + f->offset, mode, leaf);
    else if (f->type != AF_T_VOID && f->type != AF_T_PTR) /* fill_type's scalar case, inline */
      fill_scalar(g, f->type, p + f->offset, mode, leaf);
  }
}

GEN_FN void gen_fill(gen_state *g, int type, uint8_t *bytes, int mode) {
  uint32_t n = type == AF_T_PTR ? 0 : g->c->types[type].size;
  if (!n) return; /* empty struct: no bytes (and maybe no buffer) */
  if (type < AF_T_NSCALAR && n == case_scalar(type)->size) {
    /* A scalar of its own size (most values): its leaf writes every byte in every mode (edge
     * values, random words, graffiti; f80 its padding too), so the padding fill below is
     * dead but for its random draws, which are kept (the stream must not change). */
    if (mode == GV_RANDOM)
      for (uint32_t j = 0; j < n; j += 8)
        (void)gen_next(g);
    int leaf = 0;
    fill_scalar(g, type, bytes, mode, &leaf);
    return;
  }
  /* Padding first: it never matters, but graffiti makes it readable too. */
  if (mode == GV_EDGE)
    memset(bytes, 0, n);
  else
    fill_bytes(g, bytes, (int)n, mode, GEN_PAD_LEAF);
  int leaf = 0;
  if (type < AF_T_NSCALAR) /* fill_type's scalar case, inline (n > 0: not void, not ptr) */
    fill_scalar(g, type, bytes, mode, &leaf);
  else
    fill_type(g, type, bytes, mode, &leaf);
}

/* ---- paths ---- */

static int has_scalar_leaf(const af_case *c, int type) {
  if (type < AF_T_NSCALAR) return type != AF_T_VOID;
  const af_type *t = &c->types[type];
  if (t->kind == AF_T_ARRAY) return has_scalar_leaf(c, t->elem);
  for (int i = 0; i < t->nfields; i++) {
    int ft = t->fields[i].type; /* a scalar field: the recursion's first test, without the call */
    if (t->fields[i].bits != 0 && (ft < AF_T_NSCALAR ? ft != AF_T_VOID : has_scalar_leaf(c, ft)))
      return 1;
  }
  return 0;
}

#ifndef GEN_SEEDED /* (the plain objects' only) */
int gen_has_leaf(const af_case *c, int type) { return has_scalar_leaf(c, type); }

void gen_type_flags(const af_case *c, uint8_t *flags) {
  /* the scalars: a leaf but void; a path (gen_has_path) for complex and vectors only */
  static const uint8_t scalar_flags[AF_T_NSCALAR] = {
      [AF_T_BOOL... AF_T_F80] = GEN_TF_LEAF,
      [AF_T_CF32... AF_T_CF64] = GEN_TF_LEAF | GEN_TF_PATH,
      [AF_T_PTR] = GEN_TF_LEAF,
      [AF_T_M128... AF_T_M256] = GEN_TF_LEAF | GEN_TF_PATH,
  };
  memcpy(flags, scalar_flags, sizeof scalar_flags);
  for (int t = AF_T_NSCALAR; t < c->ntypes; t++) {
    const af_type *ty = &c->types[t];
    if (ty->kind == AF_T_ARRAY) { /* a leaf through its element; never a path by itself */
      flags[t] = flags[ty->elem] & GEN_TF_LEAF;
      continue;
    }
    int leaf = 0;
    for (int i = 0; i < ty->nfields && !leaf; i++)
      leaf = ty->fields[i].bits != 0 && (flags[ty->fields[i].type] & GEN_TF_LEAF);
    flags[t] = (uint8_t)(leaf ? GEN_TF_LEAF | GEN_TF_PATH : 0);
  }
}
#endif

GEN_FN int gen_path(gen_state *g, int type, int *path, int *npath, int scalar_only) {
  const af_case *c = g->c;
  int t = type;
  *npath = 0;
  const uint8_t *tf = g->tflags; /* gen_body's calls: always set */
  if (tf ? !(tf[type] & GEN_TF_PATH) : !gen_has_path(c, type)) return -1;
  for (;;) {
    int lanes = t == AF_T_CF32 || t == AF_T_CF64 ? 2 : t == AF_T_M128 ? 4 : t == AF_T_M256 ? 8 : 0;
    if (lanes) {
      if (*npath > 0 && gen_chance(g, 25)) return t; /* the complex / vector itself */
      if (*npath >= AF_MAX_PATH) return t;
      path[(*npath)++] = (int)gen_below(g, (uint64_t)lanes);
      return t == AF_T_CF64 ? AF_T_F64 : AF_T_F32;
    }
    if (t < AF_T_NSCALAR) return t;
    const af_type *ty = &c->types[t];
    if (*npath >= AF_MAX_PATH) return ty->kind == AF_T_ARRAY || scalar_only ? -1 : t;
    if (ty->kind == AF_T_ARRAY) {
      path[(*npath)++] = (int)gen_below(g, ty->count);
      t = ty->elem;
      continue;
    }
    if (*npath > 0 && !scalar_only && gen_chance(g, 15)) return t;
    int cand[AF_MAX_FIELDS], n = 0;
    if (tf)
      for (int i = 0; i < ty->nfields; i++) { /* the allowed fields in order (branch-free) */
        cand[n] = i;
        n += ty->fields[i].bits != 0 && (tf[ty->fields[i].type] & GEN_TF_LEAF);
      }
    else
      for (int i = 0; i < ty->nfields; i++) {
        int ft = ty->fields[i].type; /* has_scalar_leaf, its scalar case inline */
        if (ty->fields[i].bits != 0 &&
            (ft < AF_T_NSCALAR ? ft != AF_T_VOID : has_scalar_leaf(c, ft)))
          cand[n++] = i;
      }
    if (!n) return scalar_only ? -1 : t;
    int i = cand[gen_below(g, (uint64_t)n)];
    path[(*npath)++] = i;
    t = ty->fields[i].type;
  }
}
