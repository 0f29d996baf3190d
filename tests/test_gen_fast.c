/* test_gen_fast.c - the generator's fast paths give exactly what the plain ones give. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gen.h"
#include "gen_private.h"
#include "layout_internal.h"

/* ---- rng_below_fast / rng_next_fast against af_rng_below / af_rng_next ---- */
static void test_rng(void) {
  static const uint64_t ns[] = {0,   1,    2,    3,     7,          100,
                                257, 1000, 6000, 65537, 1ull << 40, (1ull << 63) + 1};
  uint8_t bytes[37];
  for (int i = 0; i < (int)sizeof bytes; i++)
    bytes[i] = (uint8_t)(i * 37 + 11);
  for (int mode = 0; mode < 2; mode++) {
    af_rng a, b;
    if (mode == 0) {
      af_rng_seed(&a, 42, 7);
      af_rng_seed(&b, 42, 7);
    } else { /* byte mode: the draws run out of bytes and continue from xoshiro */
      af_rng_bytes(&a, bytes, sizeof bytes);
      af_rng_bytes(&b, bytes, sizeof bytes);
    }
    int same = 1;
    for (int k = 0; k < 4000; k++) {
      uint64_t n = ns[k % (int)(sizeof ns / sizeof ns[0])];
      if (k % 5 == 4) {
        if (af_rng_next(&a) != rng_next_fast(&b)) same = 0;
      } else if (af_rng_below(&a, n) != rng_below_fast(&b, n)) {
        same = 0;
      }
    }
    CHECKF(same, "mode %d: the inline draws differ from af_rng_below / af_rng_next", mode);
  }
}

/* ---- gen_pick and gen_scalar against the plain scan ---- */
static int ref_pick(af_rng *r, const struct af_weights *w, int axis, uint64_t mask) {
  int first = w->first[axis], n = w->count[axis];
  uint64_t total = 0;
  int allowed = 0;
  for (int i = 0; i < n; i++)
    if (mask & ((uint64_t)1 << i)) {
      total += (uint64_t)w->w[first + i];
      allowed++;
    }
  if (!allowed) return first;
  if (!total) {
    uint64_t k = af_rng_below(r, (uint64_t)allowed);
    for (int i = 0; i < n; i++)
      if ((mask & ((uint64_t)1 << i)) && k-- == 0) return first + i;
  }
  uint64_t x = af_rng_below(r, total);
  for (int i = 0; i < n; i++) {
    if (!(mask & ((uint64_t)1 << i))) continue;
    if (x < (uint64_t)w->w[first + i]) return first + i;
    x -= (uint64_t)w->w[first + i];
  }
  return first + n - 1;
}

/* gen.h's rules for a scalar kind in a context (gen_private.h GS_*). */
static int ref_allowed(const af_gen_opts *o, int k, int ctx) {
  if (k == AF_T_F16 && (!o->allow_f16 || ((ctx & GS_WIN64) && !o->allow_divergent))) return 0;
  if (k == AF_T_M256 && !o->allow_m256) return 0;
  if ((ctx & (GS_FIELD | GS_NOPTR | GS_UNION)) && k == AF_T_PTR) return 0;
  if ((ctx & GS_UNION) && (k == AF_T_BOOL || k == AF_T_F80)) return 0;
  if ((ctx & GS_VARARG) &&
      (k == AF_T_BOOL || (k >= AF_T_I8 && k <= AF_T_U16) || k == AF_T_F16 || k == AF_T_F32))
    return 0;
  return 1;
}

static void test_pick(void) {
  int bad = 0;
  for (int r = 0; r < GEN_NROWS; r++)
    CHECKF(gen_row_axis(r) == gen_weight_rows()[r].axis_id, "row %d: axis %d, the table's %d", r,
           gen_row_axis(r), gen_weight_rows()[r].axis_id);
  for (int round = 0; round < 40; round++) {
    struct af_weights w;
    gen_weights_init(&w);
    af_rng wr;
    af_rng_seed(&wr, 99, (uint64_t)round);
    /* some rounds: random weights with zeros, some axes all zero (the uniform fallback) */
    if (round % 4)
      for (int i = 0; i < GEN_NROWS; i++)
        w.w[i] = af_rng_below(&wr, 3) == 0 ? 0 : (long)af_rng_below(&wr, 50);
    if (round % 4 == 3)
      for (int i = 0; i < w.count[GA_scalar]; i++)
        w.w[w.first[GA_scalar] + i] = 0;
    af_gen_opts o;
    af_gen_opts_default(&o);
    o.allow_f16 = round & 1;
    o.allow_m256 = (round >> 1) & 1;
    o.allow_divergent = (round >> 2) & 1;
    af_rng a, b;
    af_rng_seed(&a, 5, (uint64_t)round);
    af_rng_seed(&b, 5, (uint64_t)round);
    gen_scalar_draw draws[GEN_NCTX];
    uint64_t pick_total[GEN_NAXES], pick_cum[GEN_NROWS];
    gen_state g;
    memset(&g, 0, sizeof g);
    g.rng = &b;
    g.w = &w;
    g.o = &o;
    g.scalar_draw = draws;
    g.pick_total = pick_total;
    g.pick_cum = pick_cum;
    for (int i = 0; i < GEN_NAXES; i++)
      g.axes[i] = -1;
    for (int k = 0; k < 3000; k++) {
      int axis = (int)af_rng_below(&wr, GEN_NAXES);
      uint64_t mask = af_rng_below(&wr, 2) ? GEN_ALL : af_rng_next(&wr);
      if (axis == GA_scalar && k % 2) { /* gen_scalar: its context's kinds */
        int ctx = (int)af_rng_below(&wr, GEN_NCTX);
        uint64_t m = 0;
        for (int t = AF_T_BOOL; t < AF_T_NSCALAR; t++)
          if (ref_allowed(&o, t, ctx)) m |= (uint64_t)1 << (t - AF_T_BOOL);
        int want = ref_pick(&a, &w, GA_scalar, m) - GR_scalar_bool + AF_T_BOOL;
        int got = gen_scalar(&g, ctx);
        if (want != got && bad++ < 5)
          fprintf(stderr, "round %d draw %d: gen_scalar ctx %d gave %d, the scan %d\n", round, k,
                  ctx, got, want);
        continue;
      }
      int want = ref_pick(&a, &w, axis, mask), got = gen_pick(&g, axis, mask);
      if (want != got && bad++ < 5)
        fprintf(stderr, "round %d draw %d: gen_pick axis %d gave row %d, the scan %d\n", round, k,
                axis, got, want);
    }
    CHECKF(memcmp(&a, &b, sizeof a) == 0, "round %d: the rng states drifted apart", round);
  }
  CHECKF(bad == 0, "%d draws differ", bad);
}

/* ---- layout_types_from against af_layout, on generated type tables ---- */
static void test_layout_tail(void) {
  int bad = 0, tried = 0;
  for (uint64_t i = 0; i < 150; i++) {
    af_gen_opts o;
    af_gen_opts_default(&o);
    o.allow_divergent = (int)(i & 1);
    af_case *c = malloc(sizeof *c);
    af_error err;
    if (!c || af_gen_case(&o, 11, i, c, NULL, &err) != AF_OK) {
      CHECKF(0, "case %llu: %s", (unsigned long long)i, c ? err.msg : "out of memory");
      free(c);
      continue;
    }
    if (c->ntypes > AF_T_NSCALAR) {
      /* save the layout, wreck it from a point on, lay out only that tail */
      int first = AF_T_NSCALAR + (int)(i % (uint64_t)(c->ntypes - AF_T_NSCALAR));
      static af_type saved[AF_MAX_TYPES];
      static af_field fsaved[AF_MAX_TYPES][AF_MAX_FIELDS];
      for (int t = first; t < c->ntypes; t++) {
        saved[t] = c->types[t];
        if (c->types[t].kind != AF_T_ARRAY && c->types[t].nfields)
          memcpy(fsaved[t], c->types[t].fields, sizeof(af_field) * (size_t)c->types[t].nfields);
        c->types[t].size = 777;
        c->types[t].alignment = 3;
        for (int f = 0; c->types[t].kind != AF_T_ARRAY && f < c->types[t].nfields; f++)
          c->types[t].fields[f].offset = c->types[t].fields[f].bit_offset = 12345;
      }
      CHECK(layout_types_from(c, first) == AF_OK);
      tried++;
      for (int t = first; t < c->ntypes; t++) {
        const af_type *a = &saved[t], *b = &c->types[t];
        if (a->size != b->size || a->alignment != b->alignment) bad++;
        for (int f = 0; b->kind != AF_T_ARRAY && f < b->nfields; f++)
          if (fsaved[t][f].offset != b->fields[f].offset ||
              fsaved[t][f].bit_offset != b->fields[f].bit_offset)
            bad++;
      }
      CHECK(af_verify(c, &err) == AF_OK);
    }
    af_case_free(c);
    free(c);
  }
  CHECK(tried > 100);
  CHECKF(bad == 0, "%d sizes, alignments or offsets differ from af_layout's", bad);
}

/* ---- the quirk shortcut still sees nested arrays and unions (classify_sysv.c) ---- */
static int add(af_case *c, af_kind kind, int n, const af_field *f, int packed) {
  int id = af_type_add_struct(c, kind, n, f, packed, 0);
  CHECK(id >= 0 && af_layout(c) == AF_OK);
  return id;
}

static void test_quirks_nested(void) {
  af_case *c = malloc(sizeof *c);
  if (!c) {
    CHECK(0);
    return;
  }
  af_case_init(c);
  /* packed { u32; u8 } x 2: element 1's u32 sits at byte 5 (misaligned), element 0's is
   * aligned: gcc classifies the first element only (abi.c "sysv-array-misaligned") */
  af_field p[2] = {{AF_T_U32, -1, 0, 0, 0}, {AF_T_U8, -1, 0, 0, 0}};
  int P = add(c, AF_T_STRUCT, 2, p, 1);
  int arr = af_type_add_array(c, P, 2);
  af_field s1[1] = {{arr, -1, 0, 0, 0}};
  int S = add(c, AF_T_STRUCT, 1, s1, 0);
  af_field w1[2] = {{S, -1, 0, 0, 0}, {AF_T_U16, -1, 0, 0, 0}};
  int W = add(c, AF_T_STRUCT, 2, w1, 0); /* the array two levels down */
  int P2 = add(c, AF_T_STRUCT, 2, p, 0); /* not packed: aligned in every element */
  int arr2 = af_type_add_array(c, P2, 2);
  af_field w2[1] = {{arr2, -1, 0, 0, 0}};
  int W2 = add(c, AF_T_STRUCT, 1, w2, 0);
  /* union { f64; u8 :0 } inside a struct (abi.c "sysv-union-zero-width") */
  af_field u[2] = {{AF_T_F64, -1, 0, 0, 0}, {AF_T_U8, 0, 0, 0, 0}};
  int U = add(c, AF_T_UNION, 2, u, 0);
  af_field v1[1] = {{U, -1, 0, 0, 0}};
  int V = add(c, AF_T_STRUCT, 1, v1, 0);
  af_field u2[2] = {{AF_T_F64, -1, 0, 0, 0}, {AF_T_U8, 3, 0, 0, 0}};
  int U2 = add(c, AF_T_UNION, 2, u2, 0);
  af_field v2[1] = {{U2, -1, 0, 0, 0}};
  int V2 = add(c, AF_T_STRUCT, 1, v2, 0);
  struct {
    int type;
    const char *want; /* NULL: no divergence */
  } rows[] = {{S, "sysv-array-misaligned"},
              {W, "sysv-array-misaligned"},
              {W2, NULL},
              {U, "sysv-union-zero-width"},
              {V, "sysv-union-zero-width"},
              {V2, NULL},
              {AF_T_I64, NULL}};
  for (int i = 0; i < (int)(sizeof rows / sizeof rows[0]); i++) {
    for (int as_ret = 0; as_ret < 2; as_ret++) {
      af_sig sig = {.cc = AF_CC_SYSV, .ret = AF_T_VOID, .nparams = 1, .nfixed = 1};
      sig.params[0] = as_ret ? AF_T_I32 : rows[i].type;
      if (as_ret) sig.ret = rows[i].type;
      const char *why = NULL;
      int n = af_abi_divergences(c, &sig, &why);
      if (rows[i].want)
        CHECKF(n >= 1 && why && strcmp(why, rows[i].want) == 0, "row %d (%s): %d entries, %s", i,
               as_ret ? "return" : "argument", n, why ? why : "none");
      else
        CHECKF(n == 0, "row %d (%s): %d entries (%s), want none", i, as_ret ? "return" : "argument",
               n, why ? why : "?");
    }
  }
  af_case_free(c);
  free(c);
}

/* ---- af_bitfield_get / af_bitfield_set (byte-wise) against the plain bit loop ---- */
static uint64_t ref_bf_get(const uint8_t *p, uint32_t off, int bits, int is_signed) {
  uint64_t x = 0;
  for (int i = 0; i < bits; i++) {
    uint32_t b = off + (uint32_t)i;
    x |= (uint64_t)((p[b / 8] >> (b % 8)) & 1) << i;
  }
  if (is_signed && bits > 0 && bits < 64 && (x >> (bits - 1)) & 1) x |= ~0ull << bits;
  return x;
}

static void ref_bf_set(uint8_t *p, uint32_t off, int bits, uint64_t x) {
  for (int i = 0; i < bits; i++) {
    uint32_t b = off + (uint32_t)i;
    uint8_t m = (uint8_t)(1u << (b % 8));
    if ((x >> i) & 1)
      p[b / 8] |= m;
    else
      p[b / 8] &= (uint8_t)~m;
  }
}

static void test_bitfields(void) {
  af_rng r;
  af_rng_seed(&r, 9, 9);
  int bad_get = 0, bad_set = 0;
  for (uint32_t off = 0; off < 40; off++)
    for (int bits = 1; bits <= 64; bits++) {
      /* the field's last byte ends the buffer: a read or write past it is an ASan error */
      size_t n = (off + (uint32_t)bits + 7) / 8;
      uint8_t *a = malloc(n), *b = malloc(n);
      if (!a || !b) abort();
      for (size_t i = 0; i < n; i++)
        a[i] = (uint8_t)af_rng_next(&r);
      for (int sg = 0; sg < 2; sg++)
        if (af_bitfield_get(a, off, bits, sg) != ref_bf_get(a, off, bits, sg)) bad_get++;
      uint64_t x = af_rng_next(&r);
      memcpy(b, a, n);
      af_bitfield_set(a, off, bits, x);
      ref_bf_set(b, off, bits, x);
      if (memcmp(a, b, n) != 0) bad_set++;
      free(a);
      free(b);
    }
  CHECKF(bad_get == 0, "%d bit-field reads differ from the bit loop", bad_get);
  CHECKF(bad_set == 0, "%d bit-field writes differ from the bit loop", bad_set);
}

/* ---- a case generated over garbage is the one generated over zeros (the lean init) ---- */
static void test_lean_init(void) {
  af_case *a = calloc(1, sizeof *a), *b = malloc(sizeof *b);
  if (!a || !b) abort();
  af_gen_opts o;
  af_gen_opts_default(&o);
  int differ = 0, failed = 0;
  for (unsigned i = 0; i < 200; i++) {
    memset(a, 0, sizeof *a);
    memset(b, 0xab, sizeof *b); /* anything the generator reads before writing shows */
    af_error e;
    o.allow_divergent = (int)(i & 1);
    if (af_gen_case(&o, 5, i, a, NULL, &e) != AF_OK ||
        af_gen_case(&o, 5, i, b, NULL, &e) != AF_OK) {
      failed++;
      continue;
    }
    char *ta = NULL, *tb = NULL;
    size_t la = 0, lb = 0;
    af_interp_result ra, rb;
    if (af_print_str(a, &ta, &la) != AF_OK || af_print_str(b, &tb, &lb) != AF_OK ||
        af_interp(a, 0, &ra, &e) != AF_OK) {
      failed++;
    } else {
      if (af_interp(b, 0, &rb, &e) != AF_OK) {
        failed++;
      } else {
        if (la != lb || memcmp(ta, tb, la) != 0 || ra.checksum != rb.checksum ||
            ra.ncalls != rb.ncalls)
          differ++;
        af_interp_result_free(&rb);
      }
      af_interp_result_free(&ra);
    }
    free(ta);
    free(tb);
    af_case_free(a);
    af_case_free(b);
  }
  CHECKF(failed == 0, "%d cases failed to generate, print or run", failed);
  CHECKF(differ == 0, "%d cases generated over garbage differ from those over zeros", differ);
  free(a);
  free(b);
}

int main(void) {
  test_rng();
  test_pick();
  test_layout_tail();
  test_quirks_nested();
  test_bitfields();
  test_lean_init();
  return check_done();
}
