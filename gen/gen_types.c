/* gen_types.c - generator types and signatures: scalars, aggregates, returns, backfill. */
#include <string.h>

#include "abi_internal.h"
#include "case_internal.h"
#include "gen_private.h"
#include "layout_internal.h"

/* Row offset of a scalar kind on the scalar axis: the axis lists the kinds
 * in af_kind order starting at bool. */
#define SCALAR_VALUE(k) ((k)-AF_T_BOOL)

#define KBIT(k) (1u << (k))

/* The scalar kinds allowed in ctx (bit k: kind k), gen.h's rules as masks. */
static uint32_t scalar_allowed_mask(const gen_state *g, int ctx) {
  uint32_t m = (KBIT(AF_T_NSCALAR) - 1) & ~KBIT(AF_T_VOID);
  if (!g->o->allow_f16 || ((ctx & GS_WIN64) && !g->o->allow_divergent)) m &= ~KBIT(AF_T_F16);
  if (!g->o->allow_m256) m &= ~KBIT(AF_T_M256);
  if (ctx & (GS_FIELD | GS_NOPTR | GS_UNION)) m &= ~KBIT(AF_T_PTR);
  if (ctx & GS_UNION) m &= ~(KBIT(AF_T_BOOL) | KBIT(AF_T_F80));
  /* C11 6.5.2.2p7: "..." passes only default-promoted types. */
  if (ctx & GS_VARARG)
    m &= ~(KBIT(AF_T_BOOL) | KBIT(AF_T_I8) | KBIT(AF_T_U8) | KBIT(AF_T_I16) | KBIT(AF_T_U16) |
           KBIT(AF_T_F16) | KBIT(AF_T_F32));
  return m;
}

/* The draw table of a context: the allowed kinds and their running weights, in the order
 * gen_pick scans them, so that a draw consumes the same random number and lands on the same
 * row as gen_pick(g, GA_scalar, mask) would. Contexts that allow the same kinds share one table
 * (the table depends on nothing else in a case): a SysV and a Win64 context without f16, a
 * field and a NOPTR context. */
static __attribute__((noinline)) const gen_scalar_draw *scalar_draw_fill(gen_state *g, int ctx) {
  uint32_t kinds = scalar_allowed_mask(g, ctx);
  for (int i = 0; i < g->scalar_n; i++)
    if (g->scalar_draw[i].kinds == kinds) return g->scalar_ctx[ctx] = &g->scalar_draw[i];
  gen_scalar_draw *d = &g->scalar_draw[g->scalar_n++];
  const long *w = &g->w->w[g->w->first[GA_scalar]];
  uint64_t total = 0;
  int n = 0, b = 0;
  for (uint32_t m = kinds; m; m &= m - 1) { /* the allowed kinds, in kind order */
    int k = __builtin_ctz(m);
    total += (uint64_t)w[SCALAR_VALUE(k)];
    d->row[n] = (uint8_t)SCALAR_VALUE(k);
    d->cum[n] = total;
    /* start[b] = n for the buckets 8b at or above the previous running sum and below this
     * one (b < end: 8b < total): n is the first row whose sum is above 8b (used only when
     * total <= 8 * 32). Eight at a time: the bytes written past end are rewritten by the later
     * rows (or lie past the buckets in use, in start's slack). */
    int end = total < 8 * GEN_SCALAR_START ? (int)((total + 7) >> 3) : GEN_SCALAR_START;
    uint64_t pat = 0x0101010101010101ull * (uint64_t)n;
    for (int j = b; j < end; j += 8)
      memcpy(d->start + j, &pat, 8);
    b = end;
    n++;
  }
  d->n = n;
  d->kinds = kinds;
  d->total = total;
  return g->scalar_ctx[ctx] = d;
}

/* The table of ctx: inline when it is ready (all but the first draw of a context). */
static inline const gen_scalar_draw *scalar_draw(gen_state *g, int ctx) {
  const gen_scalar_draw *d = g->scalar_ctx[ctx];
  return d ? d : scalar_draw_fill(g, ctx);
}

/* gen_scalar, inline in this file's callers (field_scalar draws ~40 a case). */
static inline __attribute__((always_inline)) int scalar_pick(gen_state *g, int ctx) {
  const gen_scalar_draw *d = scalar_draw(g, ctx & (GEN_NCTX - 1));
  int row;
  if (d->total == 0) {
    /* all weights 0 (or nothing allowed): gen_pick's own fallbacks */
    uint64_t mask = 0;
    for (int i = 0; i < d->n; i++)
      mask |= (uint64_t)1 << d->row[i];
    row = gen_pick(g, GA_scalar, mask);
  } else {
    uint64_t x = gen_below(g, d->total);
    int i = d->total <= 8 * GEN_SCALAR_START ? d->start[x >> 3] : 0;
    /* the scan's usual one step or none, without a branch (its exit was mispredicted ~40
     * times a case); cum[n - 1] = total > x keeps i below n */
    i += x >= d->cum[i];
    i += x >= d->cum[i];
    while (x >= d->cum[i])
      i++;
    row = GR_scalar_bool + d->row[i];
  }
  gen_note(g, row);
  return row - GR_scalar_bool + AF_T_BOOL;
}

#ifndef GEN_SEEDED
int gen_scalar(gen_state *g, int ctx) { return scalar_pick(g, ctx); }
#endif

/* The integer kinds of a field: i8..u64 in kind order, then bool (pick_kind relies on it). */
static const int int_kinds[] = {AF_T_I8,  AF_T_U8,  AF_T_I16, AF_T_U16, AF_T_I32,
                                AF_T_U32, AF_T_I64, AF_T_U64, AF_T_BOOL};

/* nth_bit8[m] >> 4k & 15: the position of the k-th lowest set bit of the byte m (k below
 * the number of bits set). */
static const uint32_t nth_bit8[256] = {
    0x00000000, 0x00000000, 0x00000001, 0x00000010, 0x00000002, 0x00000020, 0x00000021, 0x00000210,
    0x00000003, 0x00000030, 0x00000031, 0x00000310, 0x00000032, 0x00000320, 0x00000321, 0x00003210,
    0x00000004, 0x00000040, 0x00000041, 0x00000410, 0x00000042, 0x00000420, 0x00000421, 0x00004210,
    0x00000043, 0x00000430, 0x00000431, 0x00004310, 0x00000432, 0x00004320, 0x00004321, 0x00043210,
    0x00000005, 0x00000050, 0x00000051, 0x00000510, 0x00000052, 0x00000520, 0x00000521, 0x00005210,
    0x00000053, 0x00000530, 0x00000531, 0x00005310, 0x00000532, 0x00005320, 0x00005321, 0x00053210,
    0x00000054, 0x00000540, 0x00000541, 0x00005410, 0x00000542, 0x00005420, 0x00005421, 0x00054210,
    0x00000543, 0x00005430, 0x00005431, 0x00054310, 0x00005432, 0x00054320, 0x00054321, 0x00543210,
    0x00000006, 0x00000060, 0x00000061, 0x00000610, 0x00000062, 0x00000620, 0x00000621, 0x00006210,
    0x00000063, 0x00000630, 0x00000631, 0x00006310, 0x00000632, 0x00006320, 0x00006321, 0x00063210,
    0x00000064, 0x00000640, 0x00000641, 0x00006410, 0x00000642, 0x00006420, 0x00006421, 0x00064210,
    0x00000643, 0x00006430, 0x00006431, 0x00064310, 0x00006432, 0x00064320, 0x00064321, 0x00643210,
    0x00000065, 0x00000650, 0x00000651, 0x00006510, 0x00000652, 0x00006520, 0x00006521, 0x00065210,
    0x00000653, 0x00006530, 0x00006531, 0x00065310, 0x00006532, 0x00065320, 0x00065321, 0x00653210,
    0x00000654, 0x00006540, 0x00006541, 0x00065410, 0x00006542, 0x00065420, 0x00065421, 0x00654210,
    0x00006543, 0x00065430, 0x00065431, 0x00654310, 0x00065432, 0x00654320, 0x00654321, 0x06543210,
    0x00000007, 0x00000070, 0x00000071, 0x00000710, 0x00000072, 0x00000720, 0x00000721, 0x00007210,
    0x00000073, 0x00000730, 0x00000731, 0x00007310, 0x00000732, 0x00007320, 0x00007321, 0x00073210,
    0x00000074, 0x00000740, 0x00000741, 0x00007410, 0x00000742, 0x00007420, 0x00007421, 0x00074210,
    0x00000743, 0x00007430, 0x00007431, 0x00074310, 0x00007432, 0x00074320, 0x00074321, 0x00743210,
    0x00000075, 0x00000750, 0x00000751, 0x00007510, 0x00000752, 0x00007520, 0x00007521, 0x00075210,
    0x00000753, 0x00007530, 0x00007531, 0x00075310, 0x00007532, 0x00075320, 0x00075321, 0x00753210,
    0x00000754, 0x00007540, 0x00007541, 0x00075410, 0x00007542, 0x00075420, 0x00075421, 0x00754210,
    0x00007543, 0x00075430, 0x00075431, 0x00754310, 0x00075432, 0x00754320, 0x00754321, 0x07543210,
    0x00000076, 0x00000760, 0x00000761, 0x00007610, 0x00000762, 0x00007620, 0x00007621, 0x00076210,
    0x00000763, 0x00007630, 0x00007631, 0x00076310, 0x00007632, 0x00076320, 0x00076321, 0x00763210,
    0x00000764, 0x00007640, 0x00007641, 0x00076410, 0x00007642, 0x00076420, 0x00076421, 0x00764210,
    0x00007643, 0x00076430, 0x00076431, 0x00764310, 0x00076432, 0x00764320, 0x00764321, 0x07643210,
    0x00000765, 0x00007650, 0x00007651, 0x00076510, 0x00007652, 0x00076520, 0x00076521, 0x00765210,
    0x00007653, 0x00076530, 0x00076531, 0x00765310, 0x00076532, 0x00765320, 0x00765321, 0x07653210,
    0x00007654, 0x00076540, 0x00076541, 0x00765410, 0x00076542, 0x00765420, 0x00765421, 0x07654210,
    0x00076543, 0x00765430, 0x00765431, 0x07654310, 0x00765432, 0x07654320, 0x07654321, 0x76543210,
};

/* Picks uniformly among the kinds of `list` allowed in ctx whose size fits. */
static inline __attribute__((always_inline)) int pick_kind(gen_state *g, const int *list, int n,
                                                           int ctx, uint32_t room) {
  const gen_scalar_draw *d = scalar_draw(g, ctx & (GEN_NCTX - 1)); /* its allowed kinds */
  uint32_t okm = d->kinds & gen_fit_kinds(room);
  if (list == int_kinds) {
    /* the integer list is the kinds i8..u64 in kind order, then bool: the j-th allowed entry
     * from the mask, without the list walk (most calls) */
    uint32_t ints = (okm >> AF_T_I8) & 0xffu;
    /* the bits of a byte counted in place: __builtin_popcount is a libgcc call without
     * -mpopcnt (the baseline x86-64 this builds for) */
    uint32_t cnt = ints - ((ints >> 1) & 0x55u);
    cnt = (cnt & 0x33u) + ((cnt >> 2) & 0x33u);
    int ni = (int)((cnt + (cnt >> 4)) & 0x0fu), nb = (int)(okm >> AF_T_BOOL & 1);
    if (!ni && !nb) return -1;
    int j = (int)gen_below(g, (uint64_t)(ni + nb));
    if (j >= ni) return AF_T_BOOL;
    /* the j-th set bit from a table (a loop dropping j bits was mispredicted ~20 times a
     * case) */
    return AF_T_I8 + (int)(nth_bit8[ints] >> (4 * j) & 15);
  }
  int ok[24], m = 0;
  for (int i = 0; i < n; i++) { /* the allowed, fitting entries in list order (branch-free) */
    ok[m] = list[i];
    m += (int)(okm >> list[i] & 1);
  }
  return m ? ok[gen_below(g, (uint64_t)m)] : -1;
}

/* ---- aggregates ---- */

typedef struct {
  af_field f[AF_MAX_FIELDS];
  int n;
  uint64_t bits; /* approximate running size in bits (the real one is af_layout's) */
  int packed;
  int named; /* some field has a name (is not a zero-width bit-field) */
  /* plain: only fb_add's struct fields so far (no union member, no bit-field). Then bits is exactly
   * layout_struct's running position and fb_add has written each field's offsets as it does, and
   * almax tells the largest field alignment: agg_commit finishes the layout without walking the
   * fields again. */
  int plain;
  uint64_t almax; /* OR of the field alignments (bits), 8 for none */
} fbuild;

/* Only the header: a field is written whole before anything reads it (the 1.3 KB
 * field array was cleared per aggregate drawn). */
static void fb_init(fbuild *b) {
  b->n = 0;
  b->bits = 0;
  b->packed = 0;
  b->named = 0;
  b->plain = 1;
  b->almax = 8; /* layout_struct's align starts at 1 byte */
}

static uint32_t fb_bytes(const fbuild *b) { return (uint32_t)((b->bits + 7) / 8); }

static inline __attribute__((always_inline)) void fb_add(gen_state *g, fbuild *b, int type,
                                                         int align, int union_kind) {
  af_field *f = &b->f[b->n++];
  b->named = 1;
  uint64_t sz = 8ull * g->c->types[type].size;
  if (union_kind) {
    *f = (af_field){.type = type, .bits = -1, .align = align};
    if (sz > b->bits) b->bits = sz;
    b->plain = 0;
    return;
  }
  /* A power of two of at least a byte: the generator's types are all laid out, with
   * power-of-two alignments (the scalars', aligned(2/4/8), _Alignas(16/32/64) and the largest
   * of their fields'), as are the _Alignas it draws. almax collects them without a branch:
   * its highest bit is their largest. */
  uint64_t al = b->packed ? 8 : 8ull * g->c->types[type].alignment;
  if ((uint64_t)align * 8 > al) al = (uint64_t)align * 8;
  b->almax |= al;
  /* layout_round_up for a power of two, without the test; bits is a whole byte while plain,
   * so this is layout_struct's offset of the field, written with the rest of it */
  uint64_t off = (b->bits + al - 1) & ~(al - 1);
  *f = (af_field){.type = type, .bits = -1, .align = align, (uint32_t)(off / 8), (uint32_t)off};
  b->bits = off + sz;
}

static void fb_add_bits(gen_state *g, fbuild *b, int type, int width, int union_kind) {
  af_field *f = &b->f[b->n++];
  *f = (af_field){.type = type, .bits = width};
  b->named |= width != 0;
  b->plain = 0;
  uint64_t unit = 8ull * g->c->types[type].size;
  if (union_kind) {
    if ((uint64_t)width > b->bits) b->bits = (uint64_t)width;
  } else if (width == 0) {
    b->bits = layout_round_up(b->bits, unit);
  } else {
    if (!b->packed && layout_div(b->bits, unit) != layout_div(b->bits + (uint64_t)width - 1, unit))
      b->bits = layout_round_up(b->bits, unit);
    b->bits += (uint64_t)width;
  }
}

static const int float_kinds[] = {AF_T_F32, AF_T_F64, AF_T_F16, AF_T_F32, AF_T_F64};
static const int float_rare[] = {AF_T_CF32, AF_T_CF64, AF_T_M128, AF_T_F80, AF_T_M256};
static const int bit_kinds[] = {AF_T_BOOL, AF_T_I8,  AF_T_U8,  AF_T_I16, AF_T_U16,
                                AF_T_I32,  AF_T_U32, AF_T_I64, AF_T_U64};

/* A scalar field that fits in `room` bytes; -1 if none. */
static inline __attribute__((always_inline)) int field_scalar(gen_state *g, int shape, int ctx,
                                                              uint32_t room) {
  int fctx = ctx | GS_FIELD;
  if (shape == GR_agg_shape_all_int || shape == GR_agg_shape_bitfield) {
    if (room >= 16 && gen_chance(g, 5)) return gen_chance(g, 50) ? AF_T_I128 : AF_T_U128;
    return pick_kind(g, int_kinds, 9, fctx, room);
  }
  if (shape == GR_agg_shape_all_float) {
    if (gen_chance(g, 15)) {
      int k = pick_kind(g, float_rare, 5, fctx, room);
      if (k >= 0) return k;
    }
    return pick_kind(g, float_kinds, 5, fctx, room);
  }
  for (int tries = 0; tries < 4; tries++) {
    int k = scalar_pick(g, fctx);
    if (case_scalar(k)->size <= room) return k;
  }
  return pick_kind(g, int_kinds, 9, fctx, room);
}

static uint64_t size_mask_for_room(gen_state *g, uint32_t room) {
  uint64_t m = gen_bit(g, GR_agg_size_s1_8) | gen_bit(g, GR_agg_size_odd);
  if (room >= 16) m |= gen_bit(g, GR_agg_size_s9_16);
  if (room >= 40) m |= gen_bit(g, GR_agg_size_s17_128);
  return m;
}

/* Adds the type and lays it out; on a layout limit drops it and returns -1. */
static int agg_commit(gen_state *g, af_kind kind, fbuild *b, int packed, int align) {
  af_case *c = g->c;
  int id = af_type_add_struct(c, kind, b->n, b->f, packed, align);
  if (id < 0) return -1;
  if (b->plain && kind == AF_T_STRUCT && packed == b->packed) {
    /* layout_struct's end for a struct of plain fields (fbuild.plain): the offsets are
     * written, the size is the end of the last field rounded to the alignment. A position
     * past its limit in the loop would leave a size past AF_MAX_TYPE_SIZE too. */
    uint64_t size = b->bits / 8;
    uint32_t al = (uint32_t)((1ull << (63 - __builtin_clzll(b->almax))) / 8);
    if ((uint32_t)align > al) al = (uint32_t)align;
    size = layout_round_up(size, al);
    if (size > AF_MAX_TYPE_SIZE) {
      c->ntypes--;
      return -1;
    }
    c->types[id].size = (uint32_t)size;
    c->types[id].alignment = al;
    return id;
  }
  /* Every earlier type is laid out: only the new one needs it (layout_internal.h). */
  if (layout_type_gen(c, id) != AF_OK) {
    c->ntypes--;
    return -1;
  }
  return id;
}

/* _Alignas of an over-aligned field: 9-16 byte aggregates stay at 16. */
static int talign_field(gen_state *g, int bucket) {
  return bucket == GR_agg_size_s9_16 ? 16 : 16 << gen_below(g, 3);
}

/* One aggregate of the given shape whose size aims at a target drawn in
 * `bucket`; the caller checks the size it really got. */
static int agg_build(gen_state *g, int depth, int ctx, int shape, int bucket) {
  af_case *c = g->c;
  fbuild b;
  fb_init(&b);
  af_kind kind = AF_T_STRUCT;
  int talign = 0;
  if (shape == GR_agg_shape_empty) {
    int id = agg_commit(g, kind, &b, 0, 0);
    return id < 0 ? AF_T_I32 : id;
  }
  if (shape == GR_agg_shape_union_) {
    kind = AF_T_UNION;
    ctx |= GS_UNION;
  }
  if (shape == GR_agg_shape_packed) {
    b.packed = 1;
    if (gen_chance(g, 30)) talign = 2 << gen_below(g, 3); /* packed, aligned(2/4/8) */
  }
  uint32_t target;
  switch (bucket) {
  case GR_agg_size_s1_8: target = 1u << gen_below(g, 4); break; /* 1 2 4 8: odd is its own */
  case GR_agg_size_s9_16: target = 9 + (uint32_t)gen_below(g, 8); break;
  case GR_agg_size_s17_128:
    target = 17 + (uint32_t)(gen_chance(g, 25) ? gen_below(g, 112) : gen_below(g, 32));
    break;
  default: {
    static const uint32_t odd[4] = {3, 5, 6, 7};
    target = odd[gen_below(g, 4)];
  }
  }
  int fa_index = -1; /* overaligned: which field carries _Alignas */
  if (shape == GR_agg_shape_overaligned) {
    if (gen_chance(g, 50))
      talign = 16 << gen_below(g, 3);
    else
      fa_index = (int)gen_below(g, 3);
  }
  int want_nested = shape == GR_agg_shape_nested, want_array = shape == GR_agg_shape_array;
  int maxf = kind == AF_T_UNION ? 2 + (int)gen_below(g, 3) : 16;
  int odd_target = bucket == GR_agg_size_odd || shape == GR_agg_shape_packed;

  while (b.n < maxf) {
    uint32_t cur = kind == AF_T_UNION ? 0 : fb_bytes(&b);
    if (kind != AF_T_UNION && cur >= target) break;
    uint32_t room = target - cur;
    if (kind == AF_T_UNION && b.n > 0) room = target; /* later members: any size up to target */
    /* Odd sizes: only 1-byte fields keep the size odd (unless packed). */
    if (odd_target && !b.packed && room < 8 && kind != AF_T_UNION) {
      int k = pick_kind(g, int_kinds, 9, ctx | GS_FIELD, 1);
      if (shape == GR_agg_shape_bitfield && gen_chance(g, 50)) {
        int bt = (ctx & GS_UNION) || gen_chance(g, 50) ? AF_T_U8 : AF_T_BOOL;
        fb_add_bits(g, &b, bt, bt == AF_T_BOOL ? 1 : 1 + (int)gen_below(g, 8), 0);
        continue;
      }
      fb_add(g, &b, k < 0 ? AF_T_U8 : k, 0, 0);
      continue;
    }
    if (kind == AF_T_UNION && (b.n == 0 || odd_target)) {
      /* The first member spans the target size; with an odd target every
       * member stays byte-aligned so the union keeps that size. */
      if (b.n == 0 || gen_chance(g, 50)) {
        uint32_t cnt = b.n == 0 ? target : 1 + (uint32_t)gen_below(g, target);
        int arr = af_type_add_array(c, gen_chance(g, 50) ? AF_T_U8 : AF_T_I8, cnt);
        if (arr < 0 || layout_type_gen(c, arr) != AF_OK) {
          if (arr >= 0) c->ntypes--;
          break;
        }
        fb_add(g, &b, arr, 0, 1);
      } else {
        fb_add_bits(g, &b, AF_T_U8, 1 + (int)gen_below(g, 8), 1);
      }
      continue;
    }
    if (want_nested && (b.n == 0 || gen_chance(g, 30))) {
      int sub = gen_agg(g, depth + 1, ctx & (GS_UNION | GS_WIN64), size_mask_for_room(g, room));
      if (g->st) return -1;
      want_nested = 0;
      fb_add(g, &b, sub, 0, kind == AF_T_UNION);
      continue;
    }
    if (want_array && (b.n == 0 || gen_chance(g, 30))) {
      int elem;
      if (depth < 2 && room >= 8 && gen_chance(g, 25)) {
        elem = gen_agg(g, depth + 1, ctx & (GS_UNION | GS_WIN64), size_mask_for_room(g, room / 2));
        if (g->st) return -1;
      } else {
        elem = field_scalar(g, GR_agg_shape_mixed, ctx, room);
        if (elem < 0) elem = AF_T_U8;
      }
      uint32_t es = c->types[elem].size ? c->types[elem].size : 1;
      uint32_t cnt = room / es;
      if (cnt < 1) cnt = 1;
      if (cnt > 16) cnt = 16;
      cnt = 1 + (uint32_t)gen_below(g, cnt);
      int arr = af_type_add_array(c, elem, cnt);
      if (arr < 0 || layout_type_gen(c, arr) != AF_OK) {
        if (arr >= 0) c->ntypes--;
        break;
      }
      want_array = 0;
      fb_add(g, &b, arr, 0, kind == AF_T_UNION);
      continue;
    }
    if (shape == GR_agg_shape_bitfield && gen_chance(g, 60)) {
      int bt = bit_kinds[gen_below(g, 9)];
      if (bt == AF_T_BOOL && (ctx & GS_UNION) && gen_chance(g, 50)) bt = AF_T_U8;
      int w = bt == AF_T_BOOL ? 1 : 8 * (int)c->types[bt].size;
      int width = 1 + (int)gen_below(g, (uint64_t)w);
      if (b.n > 0 && kind != AF_T_UNION && gen_chance(g, 15)) width = 0; /* unnamed :0 */
      if (bt == AF_T_BOOL && width == 0) bt = AF_T_U32;
      fb_add_bits(g, &b, bt, width, kind == AF_T_UNION);
      continue;
    }
    int k = field_scalar(g, shape, ctx, room);
    if (k < 0) break;
    int fal = 0;
    if (fa_index == b.n) fal = talign_field(g, bucket);
    if (fal && fal < (int)c->types[k].alignment) fal = 0;
    /* fb_add changes n, bits, almax, f[n] and named (set again below) */
    int save_n = b.n;
    uint64_t save_bits = b.bits, save_almax = b.almax;
    fb_add(g, &b, k, fal, kind == AF_T_UNION);
    if (kind != AF_T_UNION && fb_bytes(&b) > target && !fal) {
      /* alignment padding overshot: a byte-sized field fits instead */
      b.n = save_n;
      b.bits = save_bits;
      b.almax = save_almax;
      fb_add(g, &b, (ctx & GS_UNION) ? AF_T_U8 : AF_T_I8, 0, 0);
    }
  }
  /* Every aggregate but the empty one keeps a named field (GET/SET need one). */
  if (!b.named) fb_add(g, &b, AF_T_U8, 0, kind == AF_T_UNION);
  int id = agg_commit(g, kind, &b, b.packed, talign);
  if (id < 0) return g->st ? -1 : AF_T_I32;
  return id;
}

/* The agg_size bucket of a size; -1 for none (empty, or over 128 bytes). */
static int size_bucket(uint32_t size) {
  if (size == 3 || size == 5 || size == 6 || size == 7) return GR_agg_size_odd;
  if (size >= 1 && size <= 8) return GR_agg_size_s1_8;
  if (size >= 9 && size <= 16) return GR_agg_size_s9_16;
  if (size >= 17 && size <= 128) return GR_agg_size_s17_128;
  return -1;
}

GEN_FN int gen_agg(gen_state *g, int depth, int ctx, uint64_t size_mask) {
  af_case *c = g->c;
  if (c->ntypes > AF_MAX_TYPES - 24) return AF_T_I32; /* type table nearly full */
  uint64_t shapes = GEN_ALL;
  if (depth >= 2) shapes &= ~gen_bit(g, GR_agg_shape_nested);
  if (depth >= 3) shapes &= ~gen_bit(g, GR_agg_shape_array);
  if (size_mask != GEN_ALL) shapes &= ~gen_bit(g, GR_agg_shape_empty);
  int shape = gen_pick(g, GA_agg_shape, shapes);
  uint64_t sizes = GEN_ALL;
  if (shape == GR_agg_shape_all_float) sizes &= ~gen_bit(g, GR_agg_size_odd);
  if (shape == GR_agg_shape_overaligned)
    sizes &= ~(gen_bit(g, GR_agg_size_odd) | gen_bit(g, GR_agg_size_s1_8));
  if (!(sizes & size_mask)) {
    shape = GR_agg_shape_all_int;
    sizes = GEN_ALL;
  }
  gen_note(g, shape);
  if (shape == GR_agg_shape_empty) {
    fbuild b;
    fb_init(&b);
    int id = agg_commit(g, AF_T_STRUCT, &b, 0, 0);
    return id < 0 ? AF_T_I32 : id;
  }
  int bucket = gen_pick(g, GA_agg_size, sizes & size_mask);
  /* The size is approximate until af_layout (padding, bit-field units,
   * alignment): rebuild until it lands in the drawn bucket, so that a
   * weight of 0 on a size really removes it. */
  int mark = c->ntypes;
  for (int attempt = 0; attempt < 6; attempt++) {
    c->ntypes = mark;
    int id = agg_build(g, depth, ctx, shape, bucket);
    if (g->st) return -1;
    if (id >= AF_T_NSCALAR && size_bucket(c->types[id].size) == bucket) {
      gen_note(g, bucket);
      return id;
    }
  }
  /* Fallback of exactly the size: struct { u8 bytes[n]; } */
  c->ntypes = mark;
  uint32_t n = bucket == GR_agg_size_s1_8    ? 8
               : bucket == GR_agg_size_s9_16 ? 16
               : bucket == GR_agg_size_odd   ? 5
                                             : 24;
  int arr = af_type_add_array(c, AF_T_U8, n);
  fbuild b;
  fb_init(&b);
  if (arr < 0 || layout_type_gen(c, arr) != AF_OK) return AF_T_I32;
  fb_add(g, &b, arr, 0, 0);
  int id = agg_commit(g, AF_T_STRUCT, &b, 0, 0);
  if (id < 0) return g->st ? -1 : AF_T_I32;
  gen_note(g, bucket);
  return id;
}

/* gen_param_type, inline in sig_attempt (a case draws ~30 parameter types). */
static inline __attribute__((always_inline)) int param_type(gen_state *g, int ctx) {
  int row = gen_pick(g, GA_param, GEN_ALL);
  gen_note(g, row);
  if (row == GR_param_aggregate) return gen_agg(g, 0, ctx & GS_WIN64, GEN_ALL);
  return scalar_pick(g, ctx);
}

#ifndef GEN_SEEDED
int gen_param_type(gen_state *g, int ctx) { return param_type(g, ctx); }
#endif

/* ---- signatures ---- */

static int two_field(gen_state *g, int a, int b) {
  af_field f[2] = {{a, -1, 0, 0, 0}, {b, -1, 0, 0, 0}};
  int id = af_type_add_struct(g->c, AF_T_STRUCT, 2, f, 0, 0);
  if (id < 0 || layout_type_gen(g->c, id) != AF_OK) return -1;
  return id;
}

/* Backfill (psABI 3.2.3: "If there are no registers available for any
 * eightbyte of an argument, the whole argument is passed on the stack"):
 * fill the registers of one class so a two-eightbyte argument just misses,
 * then follow it with small arguments of that class, which still take the
 * register left over. Returns the number of parameters written. */
static int backfill_prefix(gen_state *g, af_sig *s, int ret_sret, int *big_at) {
  int big;
  switch (gen_below(g, g->o->allow_divergent ? 6 : 5)) {
  case 0: big = two_field(g, AF_T_I64, AF_T_I64); break;
  case 1: big = two_field(g, AF_T_F64, AF_T_F64); break;
  case 2: big = two_field(g, AF_T_I64, AF_T_F64); break;
  case 3: big = two_field(g, AF_T_F64, AF_T_U32); break;
  case 4: big = AF_T_CF64; break;
  default: big = AF_T_I128; break; /* divergent: llvm #41784, #123935 */
  }
  if (big < 0) return 0;
  af_sig probe = {.cc = AF_CC_SYSV, .ret = AF_T_VOID, .nparams = 1, .nfixed = 1};
  probe.params[0] = big;
  af_callinfo ci;
  if (abi_classify_gen(g->c, &probe, &ci) != AF_OK || ci.args[0].kind != AF_LOC_REG) return 0;
  int need[2] = {0, 0}; /* 0 integer, 1 sse */
  for (int p = 0; p < ci.args[0].nparts; p++)
    need[ci.args[0].parts[p].cls == AF_CLS_SSE]++;
  int x = need[0] && need[1] ? (int)gen_below(g, 2) : need[1] ? 1 : 0;
  int avail[2] = {6 - ret_sret, 8};
  int fill[2];
  fill[x] = avail[x] - (need[x] - 1);
  fill[!x] = (int)gen_below(g, (uint64_t)(avail[!x] - need[!x] + 1));
  static const int ints[] = {AF_T_I64, AF_T_I32, AF_T_U8, AF_T_I16, AF_T_U64, AF_T_PTR};
  static const int sses[] = {AF_T_F64, AF_T_F32};
  int n = 0;
  while (fill[0] + fill[1] > 0) {
    int cls = fill[0] && (!fill[1] || gen_chance(g, 50)) ? 0 : 1;
    fill[cls]--;
    s->params[n++] = cls == 0 ? ints[gen_below(g, 6)] : sses[gen_below(g, 2)];
  }
  *big_at = n;
  s->params[n++] = big;
  int tail = 1 + (int)gen_below(g, 3);
  for (int i = 0; i < tail; i++)
    s->params[n++] = x == 0 ? ints[gen_below(g, 5)] : sses[gen_below(g, 2)];
  return n;
}

/* Did the backfill happen: the big argument on the stack and a later one of
 * its class in a register. */
static int backfill_seen(const af_sig *s, const af_callinfo *ci, int big_at) {
  if (big_at < 0 || ci->args[big_at].kind != AF_LOC_STACK) return 0;
  for (int i = big_at + 1; i < s->nparams; i++)
    if (ci->args[i].kind == AF_LOC_REG) return 1;
  return 0;
}

static int nargs_target(gen_state *g) {
  switch (gen_pick(g, GA_nargs, GEN_ALL)) {
  case GR_nargs_n0_3: return (int)gen_below(g, 4);
  case GR_nargs_n4: return 4;
  case GR_nargs_n5_6: return 5 + (int)gen_below(g, 2);
  case GR_nargs_n7_8: return 7 + (int)gen_below(g, 2);
  case GR_nargs_n9_16: return 9 + (int)gen_below(g, 8);
  default: return 17 + (int)gen_below(g, 8);
  }
}

static void note_nargs(gen_state *g, int n) {
  gen_note(g, n <= 3    ? GR_nargs_n0_3
              : n == 4  ? GR_nargs_n4
              : n <= 6  ? GR_nargs_n5_6
              : n <= 8  ? GR_nargs_n7_8
              : n <= 16 ? GR_nargs_n9_16
                        : GR_nargs_n17p);
}

static int ret_type(gen_state *g, af_cc cc, int sctx, int *row) {
  uint64_t mask = GEN_ALL;
  if (cc == AF_CC_WIN64 && !g->o->allow_divergent) mask &= ~gen_bit(g, GR_ret_x87);
  switch (*row = gen_pick(g, GA_ret, mask)) {
  case GR_ret_void_: return AF_T_VOID;
  case GR_ret_scalar: return scalar_pick(g, sctx);
  case GR_ret_small_agg:
    return gen_agg(g, 0, sctx,
                   cc == AF_CC_SYSV ? gen_bit(g, GR_agg_size_s1_8) | gen_bit(g, GR_agg_size_s9_16) |
                                          gen_bit(g, GR_agg_size_odd)
                                    : gen_bit(g, GR_agg_size_s1_8));
  case GR_ret_sret:
    return gen_agg(g, 0, sctx,
                   cc == AF_CC_SYSV
                       ? gen_bit(g, GR_agg_size_s17_128)
                       : gen_bit(g, GR_agg_size_s9_16) | gen_bit(g, GR_agg_size_s17_128) |
                             gen_bit(g, GR_agg_size_odd));
  default:
    if (cc == AF_CC_SYSV && gen_chance(g, 25)) { /* struct { long double }: X87, X87UP */
      af_field f = {AF_T_F80, -1, 0, 0, 0};
      int id = af_type_add_struct(g->c, AF_T_STRUCT, 1, &f, 0, 0);
      if (id >= 0 && layout_type_gen(g->c, id) == AF_OK) return id;
      if (id >= 0) g->c->ntypes--;
    }
    return AF_T_F80;
  }
}

static int sig_has_ptr(const af_sig *s) {
  for (int i = 0; i < s->nparams; i++)
    if (s->params[i] == AF_T_PTR) return 1;
  return 0;
}

/* One attempt; *big_at = backfill argument index or -1. */
static af_status sig_attempt(gen_state *g, af_cc cc, int role, af_sig *s, int *big_at,
                             int *ret_row) {
  int sctx = cc == AF_CC_WIN64 ? GS_WIN64 : 0;
  memset(s, 0, sizeof *s);
  s->cc = cc;
  *big_at = -1;
  s->ret = ret_type(g, cc, sctx, ret_row);
  if (g->st) return g->st;
  int n = nargs_target(g);
  int variadic = 0;
  if (role == GEN_ROLE_HOST_VARIADIC)
    variadic = 1;
  else if (role == GEN_ROLE_JIT) {
    uint64_t m = gen_bit(g, GR_varargs_none) |
                 gen_bit(g, cc == AF_CC_SYSV ? GR_varargs_sysv_al : GR_varargs_win64_dup);
    variadic = gen_pick(g, GA_varargs, m) != GR_varargs_none;
  }
  int k = 0;
  if (cc == AF_CC_SYSV && !variadic && gen_pick(g, GA_backfill, GEN_ALL) == GR_backfill_yes) {
    int sret = 0;
    if (af_type_is_aggregate(g->c, s->ret)) {
      af_sig probe = {.cc = cc, .ret = s->ret};
      af_callinfo ci;
      if (abi_classify_gen(g->c, &probe, &ci) == AF_OK) sret = ci.sret;
    }
    k = backfill_prefix(g, s, sret, big_at);
    if (g->st) return g->st;
    if (n < k) n = k + (int)gen_below(g, 2);
  }
  if (variadic) {
    s->variadic = 1;
    s->nfixed = 1 + (int)gen_below(g, 2);
    if (n < s->nfixed + 1) n = s->nfixed + 1 + (int)gen_below(g, 3);
  }
  if (n > 24) n = 24;
  for (int i = k; i < n; i++) {
    /* C11 7.16.1.4p4: va_start's parmN (the last named parameter) must
     * have a default-promoted type too, or the callee's va_start is UB. */
    int vararg = variadic && i >= s->nfixed - 1;
    s->params[i] = param_type(g, sctx | (vararg ? GS_VARARG : 0));
    if (g->st) return g->st;
  }
  s->nparams = n;
  if (!variadic)
    s->nfixed = n;
  else if (cc == AF_CC_WIN64 || gen_chance(g, 70)) {
    /* A double among the varargs: Win64 needs it in a register slot (the
     * first four) to exercise the GPR copy; SysV needs one to make AL > 0. */
    int at =
        cc == AF_CC_WIN64 ? s->nfixed : s->nfixed + (int)gen_below(g, (uint64_t)(n - s->nfixed));
    s->params[at] = AF_T_F64;
  }
  /* A void function is observable only through memory, and a ptr return
   * must come from a parameter: give both a ptr parameter. */
  if ((s->ret == AF_T_VOID || s->ret == AF_T_PTR) && !sig_has_ptr(s) &&
      s->nparams < AF_MAX_PARAMS) {
    s->params[s->nparams++] = AF_T_PTR;
    if (!variadic) s->nfixed = s->nparams;
  }
  if (s->ret == AF_T_PTR && !sig_has_ptr(s)) s->ret = AF_T_I64;
  return AF_OK;
}

/* The return category the classifier really gives, -1 if none of the axis. */
static int ret_category(gen_state *g, const af_sig *s, const af_callinfo *ci) {
  if (s->ret == AF_T_VOID) return GR_ret_void_;
  if (ci->ret.kind == AF_LOC_X87) return GR_ret_x87;
  if (ci->sret) return GR_ret_sret;
  if (af_type_is_aggregate(g->c, s->ret)) return ci->ret.kind == AF_LOC_REG ? GR_ret_small_agg : -1;
  return GR_ret_scalar;
}

static void note_sig(gen_state *g, const af_sig *s, const af_callinfo *ci, int big_at) {
  note_nargs(g, s->nparams);
  int rc = ret_category(g, s, ci);
  if (rc >= 0) gen_note(g, rc);
  if (!s->variadic)
    gen_note(g, GR_varargs_none);
  else if (s->cc == AF_CC_SYSV) {
    if (ci->sse_used > 0) gen_note(g, GR_varargs_sysv_al);
  } else {
    for (int i = s->nfixed; i < s->nparams; i++)
      if (ci->args[i].dup != AF_REG_NONE && ci->args[i].kind == AF_LOC_REG) {
        gen_note(g, GR_varargs_win64_dup);
        break;
      }
  }
  if (s->cc == AF_CC_SYSV && !s->variadic)
    gen_note(g, backfill_seen(s, ci, big_at) ? GR_backfill_yes : GR_backfill_no);
}

GEN_FN af_status gen_sig(gen_state *g, af_cc cc, int role, af_sig *out) {
  af_callinfo ci;
  int mark = g->c->ntypes;
  for (int attempt = 0; attempt < 16; attempt++) {
    /* A rejected attempt's types are unreferenced: drop them. */
    g->c->ntypes = mark;
    int big_at, ret_row;
    af_status st = sig_attempt(g, cc, role, out, &big_at, &ret_row);
    if (st != AF_OK) return st;
    /* One classification: af_classify sets ci.divergent exactly when
     * af_abi_divergences would count an entry (and both fail alike). */
    if (abi_classify_gen(g->c, out, &ci) != AF_OK) continue;
    if (!g->o->allow_divergent && ci.divergent) continue;
    /* The return must land where the draw asked (a weight of 0 removes the
     * category, e.g. an odd-sized Win64 "small" aggregate would be sret). */
    if (ret_category(g, out, &ci) != ret_row) continue;
    note_sig(g, out, &ci, big_at);
    return AF_OK;
  }
  /* Fallback that no table entry marks divergent. */
  g->c->ntypes = mark;
  memset(out, 0, sizeof *out);
  out->cc = cc;
  out->ret = AF_T_I64;
  out->nparams = out->nfixed = 2;
  out->params[0] = AF_T_I64;
  out->params[1] = AF_T_F64;
  if (role == GEN_ROLE_HOST_VARIADIC) {
    out->variadic = 1;
    out->nfixed = 1;
  }
  if (abi_classify_gen(g->c, out, &ci) != AF_OK)
    return gen_fail(g, AF_ERR_INVALID, "cannot classify the fallback signature");
  note_sig(g, out, &ci, -1);
  return AF_OK;
}
