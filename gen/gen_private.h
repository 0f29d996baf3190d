/* gen_private.h - the generator's private header: the weights table and the draw state. */
#ifndef ABIFUZZ_GEN_PRIVATE_H
#define ABIFUZZ_GEN_PRIVATE_H

#include "gen.h"
#include "rng_internal.h"

/* THE weights table, as one X-macro list of rows W(axis, value, "value text",
 * default weight), so the row enum below and the static const array in
 * weights.c cannot drift apart. Axis text is the axis identifier itself.
 * doc/weights.md explains every row. */
#define GEN_WEIGHTS(W)                                                                             \
  W(cc, sysv, "sysv", 60)                                                                          \
  W(cc, win64, "win64", 40)                                                                        \
  W(nargs, n0_3, "0-3", 30)                                                                        \
  W(nargs, n4, "4", 12)                                                                            \
  W(nargs, n5_6, "5-6", 16)                                                                        \
  W(nargs, n7_8, "7-8", 14)                                                                        \
  W(nargs, n9_16, "9-16", 18)                                                                      \
  W(nargs, n17p, "17+", 6)                                                                         \
  W(param, scalar, "scalar", 65)                                                                   \
  W(param, aggregate, "aggregate", 35)                                                             \
  W(scalar, bool, "bool", 4)                                                                       \
  W(scalar, i8, "i8", 5)                                                                           \
  W(scalar, u8, "u8", 5)                                                                           \
  W(scalar, i16, "i16", 4)                                                                         \
  W(scalar, u16, "u16", 4)                                                                         \
  W(scalar, i32, "i32", 10)                                                                        \
  W(scalar, u32, "u32", 6)                                                                         \
  W(scalar, i64, "i64", 10)                                                                        \
  W(scalar, u64, "u64", 8)                                                                         \
  W(scalar, i128, "i128", 4)                                                                       \
  W(scalar, u128, "u128", 3)                                                                       \
  W(scalar, f16, "f16", 3)                                                                         \
  W(scalar, f32, "f32", 10)                                                                        \
  W(scalar, f64, "f64", 10)                                                                        \
  W(scalar, f80, "f80", 4)                                                                         \
  W(scalar, cf32, "cf32", 3)                                                                       \
  W(scalar, cf64, "cf64", 3)                                                                       \
  W(scalar, ptr, "ptr", 6)                                                                         \
  W(scalar, m128, "m128", 3)                                                                       \
  W(scalar, m256, "m256", 2)                                                                       \
  W(agg_size, s1_8, "1-8", 30)                                                                     \
  W(agg_size, s9_16, "9-16", 30)                                                                   \
  W(agg_size, s17_128, "17-128", 20)                                                               \
  W(agg_size, odd, "odd", 20)                                                                      \
  W(agg_shape, all_int, "all_int", 20)                                                             \
  W(agg_shape, all_float, "all_float", 15)                                                         \
  W(agg_shape, mixed, "mixed", 20)                                                                 \
  W(agg_shape, bitfield, "bitfield", 10)                                                           \
  W(agg_shape, packed, "packed", 6)                                                                \
  W(agg_shape, overaligned, "overaligned", 6)                                                      \
  W(agg_shape, union_, "union", 8)                                                                 \
  W(agg_shape, nested, "nested", 8)                                                                \
  W(agg_shape, array, "array", 8)                                                                  \
  W(agg_shape, empty, "empty", 3)                                                                  \
  W(backfill, no, "no", 85)                                                                        \
  W(backfill, yes, "yes", 15)                                                                      \
  W(ret, void_, "void", 10)                                                                        \
  W(ret, scalar, "scalar", 35)                                                                     \
  W(ret, small_agg, "small_agg", 25)                                                               \
  W(ret, sret, "sret", 20)                                                                         \
  W(ret, x87, "x87", 6)                                                                            \
  W(varargs, none, "none", 80)                                                                     \
  W(varargs, sysv_al, "sysv_al", 15)                                                               \
  W(varargs, win64_dup, "win64_dup", 15)                                                           \
  W(nest, d0, "0", 20)                                                                             \
  W(nest, d1, "1", 35)                                                                             \
  W(nest, d2, "2", 30)                                                                             \
  W(nest, d3, "3", 15)                                                                             \
  W(pressure, low, "low", 60)                                                                      \
  W(pressure, high, "high", 40)                                                                    \
  W(local_align, none, "none", 40)                                                                 \
  W(local_align, a16, "16", 20)                                                                    \
  W(local_align, a32, "32", 20)                                                                    \
  W(local_align, a64, "64", 20)                                                                    \
  W(input, edge, "edge", 35)                                                                       \
  W(input, random, "random", 35)                                                                   \
  W(input, graffiti, "graffiti", 30)                                                               \
  W(host, none, "none", 30)                                                                        \
  W(host, fixed, "fixed", 45)                                                                      \
  W(host, variadic, "variadic", 25)                                                                \
  W(mixed_cc, same, "same", 90)                                                                    \
  W(mixed_cc, other, "other", 10)                                                                  \
  W(op, int_, "int", 20)                                                                           \
  W(op, shift, "shift", 8)                                                                         \
  W(op, cmp_select, "cmp_select", 10)                                                              \
  W(op, ext, "ext", 10)                                                                            \
  W(op, float_, "float", 12)                                                                       \
  W(op, conv, "conv", 10)                                                                          \
  W(op, bitcast, "bitcast", 5)                                                                     \
  W(op, get_set, "get_set", 15)                                                                    \
  W(op, mem, "mem", 10)

/* The axes, in table order (each axis's rows are contiguous). */
#define GEN_AXES(A)                                                                                \
  A(cc)                                                                                            \
  A(nargs)                                                                                         \
  A(param)                                                                                         \
  A(scalar)                                                                                        \
  A(agg_size)                                                                                      \
  A(agg_shape)                                                                                     \
  A(backfill)                                                                                      \
  A(ret) A(varargs) A(nest) A(pressure) A(local_align) A(input) A(host) A(mixed_cc) A(op)

enum gen_row {
#define GEN_ROW_ENUM(a, v, s, w) GR_##a##_##v,
  GEN_WEIGHTS(GEN_ROW_ENUM)
#undef GEN_ROW_ENUM
      GEN_NROWS
};

enum gen_axis {
#define GEN_AXIS_ENUM(a) GA_##a,
  GEN_AXES(GEN_AXIS_ENUM)
#undef GEN_AXIS_ENUM
      GEN_NAXES
};

/* The axis of a row (what gen_weight_rows()[row].axis_id says), without the call: gen_note
 * and gen_bit look it up on every draw. */
#define GEN_ROW_AXIS(a, v, s, w) GA_##a,
static inline int gen_row_axis(int row) {
  static const unsigned char axis_of[GEN_NROWS] = {GEN_WEIGHTS(GEN_ROW_AXIS)};
  return axis_of[row];
}
#undef GEN_ROW_AXIS

/* One row of the table. */
typedef struct {
  const char *axis, *value;
  int axis_id;
  long weight;
} gen_row_info;

/* The full weights object (opaque in gen.h). */
struct af_weights {
  long w[GEN_NROWS];
  int first[GEN_NAXES]; /* first row of each axis */
  int count[GEN_NAXES]; /* rows of each axis */
};

const gen_row_info *gen_weight_rows(void);   /* the static table, GEN_NROWS rows */
void gen_weights_init(struct af_weights *w); /* defaults into caller storage */
/* The defaults as a constant table (what gen_weights_init writes), for the seeded path. */
const struct af_weights *gen_weights_defaults(void);
/* 1 if w holds exactly the default weights (af_gen_case: the seeded path's one-in-64
 * verification applies to them as to NULL weights). */
int gen_weights_are_default(const struct af_weights *w);

/* ---- generator state (gen/generate.c, gen_types.c, gen_body.c, gen_values.c) ---- */

/* gen/gen_seeded.c compiles generate.c, gen_types.c, gen_body.c and gen_values.c once more, as
 * one unit with GEN_SEEDED defined, for af_gen_case: a seeded case never reads input bytes, so
 * its draws skip the byte-mode test (GEN_BYTE_MODE, ~1,000 a case) and the per-case functions
 * (GEN_FN) are static there, inlined across the four files. The same code, the same draws:
 * af_gen_bytes and the tests use the plain objects. */
#ifdef GEN_SEEDED
#define GEN_FN           static
#define GEN_BYTE_MODE(g) 0
#else
#define GEN_FN
#define GEN_BYTE_MODE(g) __builtin_expect((g)->bytes, 0)
#endif

/* Contexts for drawing a scalar kind (bit flags). */
enum {
  GS_FIELD = 1,  /* a struct field: no ptr */
  GS_UNION = 2,  /* inside a union: admits every bit pattern (no bool, f80, ptr) */
  GS_VARARG = 4, /* passed through "...": default-promoted only */
  GS_NOPTR = 8,  /* no ptr for other reasons */
  GS_WIN64 = 16, /* in a Win64 signature: no f16 unless divergent allowed */
};

/* Input / constant value modes (rows of the input axis, as offsets). */
enum { GV_EDGE, GV_RANDOM, GV_GRAFFITI };

/* A scalar draw precomputed for one context (gen_types.c, gen_scalar): the rows the
 * context allows, in axis order, with running sums of their weights. Computed on first use
 * per af_gen_case (shared by the contexts that allow the same kinds); a draw is then one
 * gen_below and a short scan, as gen_pick would do. */
#define GEN_SCALAR_START 32 /* gen_scalar_draw.start */
typedef struct {
  int n;                      /* allowed rows */
  uint32_t kinds;             /* bit k: scalar kind k is allowed */
  uint64_t total;             /* sum of their weights */
  uint8_t row[AF_T_NSCALAR];  /* value index on the scalar axis */
  uint64_t cum[AF_T_NSCALAR]; /* cum[i] = weights of row[0..i] */
  /* total <= 8 * GEN_SCALAR_START (the default weights' 107): start[x >> 3] = the first i
   * with cum[i] > (x & ~7), where the scan for a draw x may begin (it stops at the same i:
   * every earlier cum is <= x); a scan of a step or two instead of ~8 */
  uint8_t start[GEN_SCALAR_START + 8]; /* (8 bytes of slack for scalar_draw_fill's stores) */
} gen_scalar_draw;

#define GEN_NCTX 32 /* every combination of the GS_* flags */

typedef struct {
  af_case *c;
  /* The draws' source, held here (gen_main copies the caller's): the inline draws reach its
   * state without a pointer load, and `bytes` says whether byte mode (af_rng_bytes) still has
   * input, one test per draw instead of comparing pos with nbytes. */
  af_rng r;
  int bytes; /* r.pos < r.nbytes: the draws go through af_rng_* (gen_below_bytes) */
  const struct af_weights *w;
  const af_gen_opts *o;
  af_error *err;
  af_status st;        /* first internal failure (a generator bug) */
  int axes[GEN_NAXES]; /* value index recorded per axis, -1 = not exercised */
  int input_mode;      /* GV_* for the entry's inputs and the objects */
  /* scalar_ctx[ctx]: the draw table of context ctx, NULL until its first draw; the tables are
   * scalar_draw[0, scalar_n) (caller storage, [GEN_NCTX], not cleared), one per set of allowed
   * kinds (contexts allowing the same kinds share one) */
  const gen_scalar_draw *scalar_ctx[GEN_NCTX];
  int scalar_n;
  gen_scalar_draw *scalar_draw;
  /* [GEN_NAXES] sum of each axis's weights, [GEN_NROWS] running sum of the weights within each
   * axis: the default weights' constants, or computed once per case (gen_picks_init) */
  const uint64_t *pick_total;
  const uint64_t *pick_cum;
  /* The same for the last mask an axis was drawn with that does not allow every value
   * (gen_pick_any): mpick_cum sums only the allowed weights (a row not allowed adds 0). */
  uint32_t mpick_ready;  /* bit axis: mpick_key/total/cum of the axis are computed */
  uint64_t *mpick_key;   /* [GEN_NAXES] the mask (within the axis's values) */
  uint64_t *mpick_total; /* [GEN_NAXES] */
  uint64_t *mpick_cum;   /* [GEN_NROWS] */
  /* [AF_MAX_TYPES] per type id (caller storage): GEN_TF_LEAF, GEN_TF_PATH; NULL until the
   * case's types are final (gen_type_flags, before the bodies: they add no type). */
  const uint8_t *tflags;
} gen_state;

enum {
  GEN_TF_LEAF = 1, /* a scalar leaf is reachable (has_scalar_leaf) */
  GEN_TF_PATH = 2, /* some GET/SET path exists (gen_has_path) */
};

/* generate.c */
/* af_rng_below / af_rng_next in byte mode (out of line; they update g->bytes). */
uint64_t gen_below_bytes(gen_state *g, uint64_t n);
uint64_t gen_next_bytes(gen_state *g);
/* Points g->pick_total and g->pick_cum at the running sums of g->w's weights: the constant ones
 * (gen_default_pick_cum, gen_default_pick_total) when g->w is the default table, else computed into
 * total[GEN_NAXES] and cum[GEN_NROWS] (caller storage). Before the first draw. */
void gen_picks_init(gen_state *g, uint64_t *total, uint64_t *cum);
/* The default weights' running sums within each axis and totals per axis, as constants
 * (weights.c; test_gen_fast compares them with the sums of gen_weights_init's table). */
const uint64_t *gen_default_pick_cum(void);   /* [GEN_NROWS] */
const uint64_t *gen_default_pick_total(void); /* [GEN_NAXES] */
/* Exactly af_rng_below(&g->r, n) (rng_below_fast, with the state at hand). */
static inline uint64_t gen_below(gen_state *g, uint64_t n) {
  if (n <= 1) return 0;
  if (GEN_BYTE_MODE(g)) return gen_below_bytes(g, n);
  for (;;) { /* rejection sampling as in af_rng_below */
    uint64_t v = rng_below_step(af_xoshiro_step(g->r.s), n);
    if (v < n) return v;
  }
}
/* Exactly af_rng_next(&g->r). */
static inline uint64_t gen_next(gen_state *g) {
  return GEN_BYTE_MODE(g) ? gen_next_bytes(g) : af_xoshiro_step(g->r.s);
}
static inline int gen_chance(gen_state *g, int percent) { return (int)gen_below(g, 100) < percent; }
#define GEN_ALL (~(uint64_t)0)
/* Draws a row of `axis` among the values whose bit is set in `mask` (bit i =
 * value i of the axis); returns the row (GR_*). Does not record it. */
GEN_FN int gen_pick_any(gen_state *g, int axis, uint64_t mask);
/* gen_pick_any, with its most common path inline: every value allowed (the running sums are
 * ready from the start, gen_picks_init). The same draw, the same row. */
static inline int gen_pick(gen_state *g, int axis, uint64_t mask) {
  if (mask == GEN_ALL && g->pick_total[axis]) {
    uint64_t x = gen_below(g, g->pick_total[axis]);
    int i = g->w->first[axis];
    while (x >= g->pick_cum[i])
      i++;
    return i;
  }
  return gen_pick_any(g, axis, mask);
}
/* Records the row's value if the axis has none yet (inline: a case makes ~150 notes). */
static inline void gen_note(gen_state *g, int row) {
  int a = gen_row_axis(row), cur = g->axes[a];
  /* always stored: a select, not a branch (whether an axis was noted yet depends on the draws) */
  g->axes[a] = cur < 0 ? row - g->w->first[a] : cur;
}
af_status gen_fail(gen_state *g, af_status st, const char *fmt, ...);
/* The mask bit of a row within its axis. */
static inline uint64_t gen_bit(const gen_state *g, int row) {
  return (uint64_t)1 << (row - g->w->first[gen_row_axis(row)]);
}

/* Bit k set: scalar kind k (not void) has size <= room bytes. The sizes are case.c's scalar
 * table (1 2 4 8 16 32 bytes); test_gen_fast checks this against it. */
static inline uint32_t gen_fit_kinds(uint32_t room) {
#define GEN_K(k) (1u << (k))
  static const uint32_t by_size[6] = {/* 1 */ GEN_K(AF_T_BOOL) | GEN_K(AF_T_I8) | GEN_K(AF_T_U8),
                                      /* 2 */ GEN_K(AF_T_I16) | GEN_K(AF_T_U16) | GEN_K(AF_T_F16),
                                      /* 4 */ GEN_K(AF_T_I32) | GEN_K(AF_T_U32) | GEN_K(AF_T_F32),
                                      /* 8 */ GEN_K(AF_T_I64) | GEN_K(AF_T_U64) | GEN_K(AF_T_F64) |
                                          GEN_K(AF_T_CF32) | GEN_K(AF_T_PTR),
                                      /* 16 */ GEN_K(AF_T_I128) | GEN_K(AF_T_U128) |
                                          GEN_K(AF_T_F80) | GEN_K(AF_T_CF64) | GEN_K(AF_T_M128),
                                      /* 32 */ GEN_K(AF_T_M256)};
#undef GEN_K
  uint32_t m = 0;
  for (int i = 0; i < 6 && (1u << i) <= room; i++)
    m |= by_size[i];
  return m;
}

/* gen_types.c */
#ifndef GEN_SEEDED                     /* (the tests') */
int gen_scalar(gen_state *g, int ctx); /* a scalar kind, never void */
int gen_param_type(gen_state *g, int ctx);
#endif
GEN_FN int gen_agg(gen_state *g, int depth, int ctx, uint64_t size_mask); /* struct/union id */
GEN_FN af_status gen_sig(gen_state *g, af_cc cc, int role, af_sig *out);
enum { GEN_ROLE_JIT, GEN_ROLE_HOST, GEN_ROLE_HOST_VARIADIC };

/* gen_values.c */
GEN_FN void gen_fill(gen_state *g, int type, uint8_t *bytes, int mode);
/* A random GET/SET path into `type` (struct, union, complex, vector); returns
 * the leaf type or -1 when nothing can be addressed. scalar_only: the leaf is
 * a scalar (not a nested struct/union). */
GEN_FN int gen_path(gen_state *g, int type, int *path, int *npath, int scalar_only);
/* 1 if some GET/SET path exists: complex and vectors always, other scalars and arrays
 * never (inline: random_op asks it of every value), struct/union if a scalar leaf is
 * reachable through named fields (gen_has_leaf). */
int gen_has_leaf(const af_case *c, int type);
static inline int gen_has_path(const af_case *c, int type) {
  if (type == AF_T_CF32 || type == AF_T_CF64 || type == AF_T_M128 || type == AF_T_M256) return 1;
  if (type < AF_T_NSCALAR || c->types[type].kind == AF_T_ARRAY) return 0;
  return gen_has_leaf(c, type);
}

/* Fills flags[0, ntypes) (GEN_TF_*) for the case's types, in id order: a type's flags
 * depend only on earlier types. gen_run sets g->tflags to it before the bodies. */
void gen_type_flags(const af_case *c, uint8_t *flags);
/* gen_has_path from the table (types < ntypes, after gen_type_flags). */
static inline int gen_path_ok(const gen_state *g, int type) {
  return g->tflags[type] & GEN_TF_PATH;
}

/* gen_body.c */
GEN_FN af_status gen_body(gen_state *g, int fn, const int *callees, int ncallees);

/* gen_main of the GEN_SEEDED unit (gen_seeded.c): af_gen_case's generator (rng seeded, not in
 * byte mode). */
af_status gen_main_seeded(const af_gen_opts *o, af_rng *rng, uint64_t seed, uint64_t index,
                          af_case *out, int *axes, af_error *err, int verify);
/* gen_main of the plain objects (af_gen_bytes'), for test_gen_fast to compare with
 * gen_main_seeded on seeded streams. */
af_status gen_main_plain(const af_gen_opts *o, af_rng *rng, uint64_t seed, uint64_t index,
                         af_case *out, int *axes, af_error *err, int verify);

#endif /* ABIFUZZ_GEN_PRIVATE_H */
