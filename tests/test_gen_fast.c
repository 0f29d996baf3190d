/* test_gen_fast.c - the generator's fast paths give exactly what the plain ones give. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "abi_internal.h"
#include "case_internal.h"
#include "check.h"
#include "gen.h"
#include "gen_private.h"
#include "layout_internal.h"
#include "verify_internal.h"

/* A copy of the verifier's body checks with its cross-check of the one-step path compiled in
 * (vfy_fast_disagrees); its vfy_bodies renamed so that it is not the library's. */
#define VFY_CROSS_CHECK 1
#define vfy_bodies      vfy_bodies_cross_copy
#include "verify_body.c"
#undef vfy_bodies

#include "gen_fast_common.h"

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
    uint64_t mpick_key[GEN_NAXES], mpick_total[GEN_NAXES], mpick_cum[GEN_NROWS];
    gen_state g;
    memset(&g, 0, sizeof g);
    g.r = b; /* the generator's own copy (gen_main's) */
    g.bytes = b.pos < b.nbytes;
    g.w = &w;
    g.o = &o;
    g.scalar_draw = draws;
    gen_picks_init(&g, pick_total, pick_cum);
    g.mpick_key = mpick_key;
    g.mpick_total = mpick_total;
    g.mpick_cum = mpick_cum;
    for (int i = 0; i < GEN_NAXES; i++)
      g.axes[i] = -1;
    uint64_t kept[GEN_NAXES][2];
    for (int i = 0; i < GEN_NAXES; i++)
      kept[i][0] = af_rng_next(&wr), kept[i][1] = af_rng_next(&wr);
    for (int k = 0; k < 3000; k++) {
      int axis = (int)af_rng_below(&wr, GEN_NAXES);
      /* half all rows, a quarter one of two masks kept per axis (the masked draws' cache hits
       * and misses), a quarter a fresh random mask */
      uint64_t sel = af_rng_below(&wr, 4);
      uint64_t mask = sel < 2    ? GEN_ALL
                      : sel == 2 ? kept[axis][af_rng_below(&wr, 2)]
                                 : af_rng_next(&wr);
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
    CHECKF(memcmp(&a, &g.r, sizeof a) == 0, "round %d: the rng states drifted apart", round);
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
    af_error err;
    af_case *c = gen_case_checked(&o, 11, i);
    if (!c) continue;
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

/* ---- session 5 (GEN3): the divergence scan's shortcut, the scalar classification, the
 * verifier's one-step check, the generator's own value types and layout ---- */

/* A random signature over the case's types (its value types and a few scalars the generator
 * draws rarely), so that the divergence table's constructs come up. */
static void random_sig(af_rng *r, const af_case *c, af_sig *s) {
  static const int extra[] = {AF_T_I128, AF_T_U128, AF_T_F16,  AF_T_F80, AF_T_M256,
                              AF_T_I64,  AF_T_F64,  AF_T_M128, AF_T_CF64};
  memset(s, 0, sizeof *s);
  s->cc = (af_cc)af_rng_below(r, 2);
  int pick[AF_MAX_TYPES], n = 0;
  for (int t = AF_T_BOOL; t < c->ntypes; t++)
    if (t < AF_T_NSCALAR || c->types[t].kind != AF_T_ARRAY) pick[n++] = t;
  for (int i = 0; i < (int)(sizeof extra / sizeof extra[0]); i++)
    pick[n++] = extra[i];
  s->ret = af_rng_below(r, 5) == 0 ? AF_T_VOID : pick[af_rng_below(r, (uint64_t)n)];
  s->nparams = (int)af_rng_below(r, 12);
  for (int i = 0; i < s->nparams; i++)
    s->params[i] = pick[af_rng_below(r, (uint64_t)n)];
  s->variadic = s->nparams > 1 && af_rng_below(r, 4) == 0;
  s->nfixed = s->variadic ? 1 + (int)af_rng_below(r, (uint64_t)s->nparams) : s->nparams;
}

static void test_divergence_shortcut(void) {
  int bad = 0, hits = 0, sigs = 0;
  af_rng r;
  af_rng_seed(&r, 77, 1);
  for (uint64_t i = 0; i < 150; i++) {
    af_gen_opts o;
    af_gen_opts_default(&o);
    o.allow_divergent = 1;
    o.allow_f16 = (int)(i & 1);
    o.allow_m256 = (int)((i >> 1) & 1);
    af_case *c = gen_case_checked(&o, 13, i);
    if (!c) continue;
    for (int k = 0; k < c->nfuncs + 20; k++) {
      af_sig s;
      if (k < c->nfuncs)
        s = c->funcs[k].sig;
      else
        random_sig(&r, c, &s);
      af_callinfo ci, lean;
      memset(&lean, 0xa5, sizeof lean); /* what the lean one leaves shows */
      af_status ls = abi_classify_lean(c, &s, &lean);
      if (af_classify(c, &s, &ci, NULL) != AF_OK) {
        CHECK(ls != AF_OK);
        continue;
      }
      sigs++;
      /* the generator's classification: the same but for args[nparams..] */
      size_t head = offsetof(af_callinfo, args) + sizeof(af_loc) * (size_t)s.nparams;
      if (ls != AF_OK || memcmp(&ci, &lean, head) != 0 ||
          memcmp(&ci.sret, &lean.sret, sizeof ci - offsetof(af_callinfo, sret)) != 0)
        if (bad++ < 5)
          fprintf(stderr, "case %llu sig %d: the lean classification differs\n",
                  (unsigned long long)i, k);
      int plain = abi_divergences_scan_plain(c, &s, &ci);
      const char *why = NULL;
      int fast = abi_divergences_scan(c, &s, &ci, &why);
      hits += plain > 0;
      if (plain != fast || ci.divergent != (plain > 0) || af_abi_divergences(c, &s, NULL) != plain)
        if (bad++ < 5)
          fprintf(stderr, "case %llu sig %d: plain scan %d, shortcut %d, divergent %d\n",
                  (unsigned long long)i, k, plain, fast, ci.divergent);
    }
    af_case_free(c);
    free(c);
  }
  CHECKF(sigs > 3000 && hits > 100, "%d signatures, %d with a divergence: too few to tell", sigs,
         hits);
  CHECKF(bad == 0, "%d signatures: the divergence scan's shortcut changes the count", bad);
}

/* SysV: a scalar T classifies as struct { T } does (psABI 3.2.3: a structure's classes are
 * those of its fields), the one through the scalar shortcut, the other through the walk. */
static void test_scalar_classes(void) {
  af_case *c = malloc(sizeof *c);
  if (!c) abort();
  af_case_init(c);
  int wrap[AF_T_NSCALAR];
  for (int k = AF_T_BOOL; k < AF_T_NSCALAR; k++) {
    af_field f = {k, -1, 0, 0, 0};
    wrap[k] = af_type_add_struct(c, AF_T_STRUCT, 1, &f, 0, 0);
  }
  CHECK(af_layout(c) == AF_OK);
  int bad = 0;
  for (int k = AF_T_BOOL; k < AF_T_NSCALAR; k++) {
    if (k == AF_T_PTR) continue; /* never a field */
    for (int as_ret = 0; as_ret < 2; as_ret++) {
      af_sig a = {.cc = AF_CC_SYSV, .ret = AF_T_VOID, .nparams = 3, .nfixed = 3};
      a.params[0] = AF_T_I64;
      a.params[1] = as_ret ? AF_T_F64 : k;
      a.params[2] = AF_T_F32;
      if (as_ret) a.ret = k;
      af_sig b = a;
      if (as_ret)
        b.ret = wrap[k];
      else
        b.params[1] = wrap[k];
      af_callinfo x, y;
      CHECK(af_classify(c, &a, &x, NULL) == AF_OK && af_classify(c, &b, &y, NULL) == AF_OK);
      const af_loc *lx = as_ret ? &x.ret : &x.args[1], *ly = as_ret ? &y.ret : &y.args[1];
      if (lx->kind != ly->kind || lx->ncls != ly->ncls ||
          memcmp(lx->cls, ly->cls, sizeof lx->cls) != 0 || lx->nparts != ly->nparts ||
          memcmp(lx->parts, ly->parts, sizeof(af_part) * (size_t)lx->nparts) != 0 ||
          x.int_used != y.int_used || x.sse_used != y.sse_used || x.sret != y.sret)
        if (bad++ < 5)
          fprintf(stderr, "%s %s: classified unlike struct { %s }\n",
                  as_ret ? "return" : "argument", af_scalar((af_kind)k)->name,
                  af_scalar((af_kind)k)->name);
    }
  }
  CHECKF(bad == 0, "%d scalar classifications differ from their one-field structs", bad);
  af_case_free(c);
  free(c);
}

/* classify_win64's scalar kind table (session 7, round 2) against the Microsoft rule it
 * replaced (a switch): f16/f32/f64 in the slot's XMM register; i128, u128, f80, cf64, m128 and
 * m256 by reference; every other scalar in the slot's GPR, at its own size. */
static void test_w64_scalar_kinds(void) {
  af_case *c = malloc(sizeof *c);
  if (!c) abort();
  af_case_init(c);
  int bad = 0;
  for (int k = AF_T_BOOL; k < AF_T_NSCALAR; k++) {
    af_sig s = {.cc = AF_CC_WIN64, .ret = AF_T_VOID, .nparams = 2, .nfixed = 2};
    s.params[0] = AF_T_I32;
    s.params[1] = k;
    af_callinfo ci;
    if (af_classify(c, &s, &ci, NULL) != AF_OK) {
      bad++;
      continue;
    }
    const af_loc *l = &ci.args[1];
    int xmm = k == AF_T_F16 || k == AF_T_F32 || k == AF_T_F64;
    int ref = k == AF_T_I128 || k == AF_T_U128 || k == AF_T_F80 || k == AF_T_CF64 ||
              k == AF_T_M128 || k == AF_T_M256;
    int ok;
    if (ref)
      ok = l->kind == AF_LOC_REF && l->nparts == 1 && l->parts[0].reg == AF_RDX &&
           l->parts[0].size == 8;
    else if (xmm)
      ok = l->kind == AF_LOC_REG && l->nparts == 1 && l->parts[0].reg == AF_XMM1 &&
           l->parts[0].cls == AF_CLS_SSE && l->parts[0].size == af_scalar((af_kind)k)->size;
    else
      ok = l->kind == AF_LOC_REG && l->nparts == 1 && l->parts[0].reg == AF_RDX &&
           l->parts[0].cls == AF_CLS_INTEGER && l->parts[0].size == af_scalar((af_kind)k)->size;
    if (!ok && bad++ < 5)
      fprintf(stderr, "win64 argument %s: kind %d, %d parts\n", af_scalar((af_kind)k)->name,
              (int)l->kind, l->nparts);
  }
  CHECKF(bad == 0, "%d win64 scalar arguments placed against the MS rule", bad);
  af_case_free(c);
  free(c);
}

/* The verifier's one-step check of the common ops accepts nothing the full check rejects: on
 * generated bodies and on bodies with one field of one instruction changed. */
static void test_verify_fast(void) {
  af_rng r;
  af_rng_seed(&r, 31, 4);
  int bad = 0, mutated = 0, rejected = 0;
  static const int64_t odd[] = {-1, 0, 1, 2, 3, 7, 16, 31, 32, 33, 64, 127, 128, 255, 256, 1000};
  for (uint64_t i = 0; i < 120; i++) {
    af_gen_opts o;
    af_gen_opts_default(&o);
    o.allow_f16 = (int)(i & 1);
    o.allow_divergent = (int)((i >> 1) & 1);
    af_error err;
    af_case *c = gen_case_checked(&o, 21, i);
    if (!c) continue;
    bad += vfy_fast_disagrees(c);
    for (int m = 0; m < 60; m++) {
      af_func *f = &c->funcs[af_rng_below(&r, (uint64_t)c->nfuncs)];
      af_inst *in = &f->insts[af_rng_below(&r, (uint64_t)f->ninsts)];
      af_inst save = *in;
      int64_t v = af_rng_below(&r, 3) ? odd[af_rng_below(&r, 16)]
                                      : (int64_t)af_rng_below(&r, (uint64_t)c->ntypes + 2);
      switch (af_rng_below(&r, 10)) {
      case 0: in->op = (af_op)(v % (AF_OP_COUNT + 1)); break;
      case 1: in->type = (int)v; break;
      case 2: in->dst = (int)v; break;
      case 3: in->nargs = (int)(v % (AF_MAX_OPERANDS + 2)); break;
      case 4: in->args[af_rng_below(&r, 3)] = (int)v; break;
      case 5: in->imm = v; break;
      case 6: in->npath = (int)(v % 3); break;
      case 7: in->cst.type = (int)v; break;
      case 8: in->cst.size = (uint32_t)(v & 15); break;
      default: in->cst.bytes = NULL; break;
      }
      if (in->op == AF_OP_CONST && !in->cst.bytes) in->cst.size = 0; /* nothing to read */
      if (in->op == AF_OP_CONST && in->cst.bytes && in->cst.size > save.cst.size)
        in->cst.size = save.cst.size; /* no read past the bytes there are */
      mutated++;
      bad += vfy_fast_disagrees(c);
      rejected += af_verify(c, &err) != AF_OK;
      *in = save;
    }
    CHECK(af_verify(c, &err) == AF_OK);
    af_case_free(c);
    free(c);
  }
  CHECKF(mutated > 5000 && rejected > mutated / 4, "%d mutations, %d rejected", mutated, rejected);
  CHECKF(bad == 0, "%d instructions the one-step check accepts and the full check does not", bad);
}

/* A constant of an aggregate type: only bool and f80 leaves outside unions and bit-fields
 * have bytes the verifier rejects (the per-type shortcut of vfy_bodies). */
static void test_verify_agg_const(void) {
  af_case *c = malloc(sizeof *c);
  if (!c) abort();
  af_case_init(c);
  af_field sf[2] = {{AF_T_U8, -1, 0, 0, 0}, {AF_T_BOOL, -1, 0, 0, 0}};
  int S = af_type_add_struct(c, AF_T_STRUCT, 2, sf, 0, 0); /* a bool byte: checked */
  af_field uf[2] = {{AF_T_U16, -1, 0, 0, 0}, {AF_T_U8, -1, 0, 0, 0}};
  int U = af_type_add_struct(c, AF_T_UNION, 2, uf, 0, 0); /* any bytes */
  af_field bf[2] = {{AF_T_BOOL, 1, 0, 0, 0}, {AF_T_U8, 5, 0, 0, 0}};
  int B = af_type_add_struct(c, AF_T_STRUCT, 2, bf, 0, 0); /* bit-fields: any bytes */
  int A = af_type_add_array(c, S, 2);
  af_field wf[1] = {{A, -1, 0, 0, 0}};
  int W = af_type_add_struct(c, AF_T_STRUCT, 1, wf, 0, 0); /* the bool two levels down */
  CHECK(af_layout(c) == AF_OK);
  struct {
    int type;
    uint8_t byte; /* every byte of the constant */
    int ok;
  } rows[] = {{S, 1, 1}, {S, 2, 0}, {U, 0xff, 1}, {B, 0xff, 1}, {W, 1, 1}, {W, 3, 0}};
  for (int i = 0; i < (int)(sizeof rows / sizeof rows[0]); i++) {
    for (int twice = 0; twice < 2; twice++) { /* the second: the type's answer cached */
      c->nfuncs = 0; /* the types' fields stay in the arena: no af_case_free until the end */
      c->ninputs = 0;
      c->nobjects = 0;
      af_sig sig = {.cc = AF_CC_SYSV, .ret = AF_T_U64, .nparams = 0, .nfixed = 0};
      int fn = af_func_add(c, &sig, 0);
      uint8_t bytes[64];
      memset(bytes, rows[i].byte, sizeof bytes);
      af_inst k;
      memset(&k, 0, sizeof k);
      k.op = AF_OP_CONST;
      k.type = rows[i].type;
      k.cst.type = rows[i].type;
      k.cst.obj = -1;
      k.cst.size = c->types[rows[i].type].size;
      k.cst.bytes = bytes;
      int v0 = af_inst_add(c, fn, &k);
      if (twice) af_inst_add(c, fn, &k);
      af_inst mix;
      memset(&mix, 0, sizeof mix);
      mix.op = AF_OP_MIX;
      mix.type = AF_T_U64;
      mix.nargs = 1;
      mix.args[0] = v0;
      int m = af_inst_add(c, fn, &mix);
      af_inst ret;
      memset(&ret, 0, sizeof ret);
      ret.op = AF_OP_RET;
      ret.type = AF_T_U64;
      ret.nargs = 1;
      ret.args[0] = m;
      af_inst_add(c, fn, &ret);
      c->entry = fn;
      CHECK(af_fn_finish(c, fn) == AF_OK);
      af_error err;
      af_status s = af_verify(c, &err);
      CHECKF((s == AF_OK) == rows[i].ok, "row %d (twice %d): verify says %s, want %s", i, twice,
             s == AF_OK ? "ok" : err.msg, rows[i].ok ? "ok" : "a rejection");
    }
  }
  af_case_free(c);
  free(c);
}

/* What the generator now leaves out, it would have got the same: value_type as af_fn_finish
 * computes it, a layout af_layout would not change (af_verify's freshness check). */
static void test_gen_finish(void) {
  int bad = 0;
  for (uint64_t i = 0; i < 200; i++) {
    af_gen_opts o;
    af_gen_opts_default(&o);
    o.allow_divergent = (int)(i & 1);
    af_error err;
    af_case *c = gen_case_checked(&o, 3, i);
    if (!c) continue;
    CHECKF(af_verify(c, &err) == AF_OK, "case %llu: %s", (unsigned long long)i, err.msg);
    for (int f = 0; f < c->nfuncs; f++) {
      int n = c->funcs[f].nvalues, *mine = c->funcs[f].value_type;
      CHECK(af_fn_finish(c, f) == AF_OK);
      if (memcmp(mine, c->funcs[f].value_type, sizeof(int) * (size_t)(n + 1)) != 0) bad++;
    }
    af_case_free(c);
    free(c);
  }
  CHECKF(bad == 0, "%d functions: the generator's value_type is not af_fn_finish's", bad);
}

/* ---- session 6 (GEN4) ---- */

/* classify_sysv's scalar table gives every byte the general path gives: random SysV signatures
 * (every scalar kind, named and unnamed, registers running out, aggregate returns taking RDI)
 * classified by the library and by the plain copy into callinfos of the same contents. */
static void test_sysv_scalar_table(void) {
  af_rng r;
  af_rng_seed(&r, 66, 0);
  int bad = 0, sigs = 0, regs = 0, stack = 0, quirky = 0;
  for (uint64_t i = 0; i < 60; i++) {
    af_gen_opts o;
    af_gen_opts_default(&o);
    o.allow_f16 = o.allow_m256 = o.allow_divergent = 1;
    af_case *c = gen_case_checked(&o, 21, i);
    if (!c) continue;
    for (int k = 0; k < 100; k++) {
      af_sig s;
      random_sig(&r, c, &s);
      s.cc = AF_CC_SYSV;
      if (k & 1) /* mostly scalars: the table's path */
        for (int p = 0; p < s.nparams; p++)
          if (s.params[p] >= AF_T_NSCALAR) s.params[p] = AF_T_BOOL + (int)af_rng_below(&r, 20);
      af_callinfo a, b;
      memset(&a, 0, sizeof a);
      memset(&b, 0, sizeof b);
      a.cc = b.cc = AF_CC_SYSV;
      a.nargs = b.nargs = s.nparams;
      a.ret.dup = b.ret.dup = AF_REG_NONE;
      if (classify_check_sig_plain(c, &s, NULL) != AF_OK) continue;
      unsigned q = 0xdead;
      af_status sa = classify_sysv(c, &s, &a, NULL, &q),
                sb = classify_sysv_plain(c, &s, &b, NULL, NULL);
      sigs++;
      /* the quirks found on the walk: what the separate walk finds */
      if (sa == AF_OK && q != classify_sysv_quirks_reach(c, &s) && bad++ < 5)
        fprintf(stderr, "case %llu sig %d: quirks %#x, want %#x\n", (unsigned long long)i, k, q,
                classify_sysv_quirks_reach(c, &s));
      quirky += q != 0;
      for (int p = 0; p < s.nparams; p++) {
        regs += a.args[p].kind == AF_LOC_REG;
        stack += a.args[p].kind == AF_LOC_STACK;
      }
      if (sa != sb || memcmp(&a, &b, sizeof a) != 0)
        if (bad++ < 5)
          fprintf(stderr, "case %llu sig %d: the scalar table differs\n", (unsigned long long)i, k);
    }
    af_case_free(c);
    free(c);
  }
  CHECKF(sigs > 5000 && regs > 10000 && stack > 1000 && quirky > 50,
         "%d signatures, %d in registers, %d on the stack, %d with quirks: too few to tell", sigs,
         regs, stack, quirky);
  CHECKF(bad == 0, "%d signatures: the SysV scalar table differs from the general path", bad);
}

/* rng_below_step against the rejection test it replaces (x >= 2^64 mod n ? x % n : reject):
 * every power of two, small and huge n, x below n (where the shortcut does not decide), below
 * 2^64 mod n (rejected) and random. */
static void test_below_step(void) {
  af_rng r;
  af_rng_seed(&r, 77, 0);
  int bad = 0, rejected = 0;
  for (int i = 0; i < 400000; i++) {
    uint64_t n;
    switch (i % 5) {
    case 0: n = 2 + af_rng_below(&r, 300); break;
    case 1: n = (uint64_t)1 << af_rng_below(&r, 64); break;
    case 2: n = af_rng_next(&r) | 1; break;
    case 3: n = ((uint64_t)1 << 63) + af_rng_below(&r, 1000); break;
    default: n = 2 + af_rng_next(&r) % 100000; break;
    }
    if (n < 2) n = 2;
    uint64_t limit = -n % n, x;
    switch ((i / 5) % 4) {
    case 0: x = af_rng_next(&r); break;
    case 1: x = af_rng_next(&r) % n; break;
    case 2: x = limit ? af_rng_next(&r) % limit : 0; break;
    default: x = limit + af_rng_below(&r, 3); break;
    }
    uint64_t want = x >= limit ? x % n : n, got = rng_below_step(x, n);
    rejected += want == n;
    if (got != want && bad++ < 5)
      fprintf(stderr, "x %llu n %llu: %llu, want %llu\n", (unsigned long long)x,
              (unsigned long long)n, (unsigned long long)got, (unsigned long long)want);
  }
  CHECKF(rejected > 10000, "%d rejections: too few to tell", rejected);
  CHECKF(bad == 0, "%d draws: rng_below_step differs from the rejection test", bad);
}

/* af_classify writes args[0, nargs) and leaves the rest as they were. */
static void test_classify_tail(void) {
  af_case *c = malloc(sizeof *c);
  if (!c) abort();
  af_case_init(c);
  af_sig s = {.cc = AF_CC_SYSV, .ret = AF_T_F64, .nparams = 3, .nfixed = 3};
  s.params[0] = AF_T_I32;
  s.params[1] = AF_T_F32;
  s.params[2] = AF_T_I128;
  for (int cc = 0; cc < AF_CC_COUNT; cc++) {
    s.cc = (af_cc)cc;
    af_callinfo a, b;
    memset(&a, 0xa5, sizeof a);
    memset(&b, 0, sizeof b);
    CHECK(af_classify(c, &s, &a, NULL) == AF_OK && af_classify(c, &s, &b, NULL) == AF_OK);
    size_t head = offsetof(af_callinfo, args) + sizeof(af_loc) * 3;
    CHECKF(memcmp(&a, &b, head) == 0 &&
               memcmp(&a.sret, &b.sret, sizeof a - offsetof(af_callinfo, sret)) == 0,
           "%s: the classification depends on what was in the callinfo", af_cc_name((af_cc)cc));
    const uint8_t *t = (const uint8_t *)&a.args[3];
    int kept = 1;
    for (size_t k = 0; k < sizeof(af_loc) * (AF_MAX_PARAMS - 3); k++)
      kept &= t[k] == 0xa5;
    CHECKF(kept, "%s: args[nargs..] were written", af_cc_name((af_cc)cc));
  }
  af_case_free(c);
  free(c);
}

/* af_gen_case runs no verifier on the seeded path with the default weights: every case it
 * returns must pass the full one (af_verify, the layout freshness check included), under
 * every option set and convention. */
static void test_gen_verified(void) {
  int bad = 0, n = 0;
  for (int opt = 0; opt < 16; opt++) {
    af_gen_opts o;
    af_gen_opts_default(&o);
    o.allow_f16 = opt & 1;
    o.allow_m256 = (opt >> 1) & 1;
    o.allow_divergent = (opt >> 2) & 1;
    o.cc = opt < 8 ? -1 : (opt & 1) ? AF_CC_WIN64 : AF_CC_SYSV;
    for (uint64_t i = 0; i < 250; i++) {
      af_error err;
      af_case *c = gen_case_checked(&o, 600 + (uint64_t)opt, i);
      if (!c) continue;
      n++;
      if (af_verify(c, &err) != AF_OK && bad++ < 5)
        fprintf(stderr, "options %d case %llu: %s\n", opt, (unsigned long long)i, err.msg);
      af_case_free(c);
      free(c);
    }
  }
  CHECKF(n == 16 * 250, "%d cases generated", n);
  CHECKF(bad == 0, "%d generated cases fail af_verify", bad);
}

/* gen_fit_kinds against the scalar table's sizes; gen_weights_init against the rows. */
static void test_tables(void) {
  for (uint32_t room = 0; room <= 70; room++) {
    uint32_t want = 0;
    for (int k = AF_T_BOOL; k < AF_T_NSCALAR; k++)
      if (af_scalar((af_kind)k)->size <= room) want |= 1u << k;
    CHECKF(gen_fit_kinds(room) == want, "room %u: kinds %#x, want %#x", room, gen_fit_kinds(room),
           want);
  }
  struct af_weights w;
  memset(&w, 0x5a, sizeof w);
  gen_weights_init(&w);
  const gen_row_info *rows = gen_weight_rows();
  for (int a = 0; a < GEN_NAXES; a++) {
    int first = -1, count = 0;
    for (int r = 0; r < GEN_NROWS; r++)
      if (rows[r].axis_id == a) {
        if (first < 0) first = r;
        count++;
      }
    CHECKF(w.first[a] == first && w.count[a] == count, "axis %d: first %d count %d, want %d %d", a,
           w.first[a], w.count[a], first, count);
  }
  for (int r = 0; r < GEN_NROWS; r++)
    CHECKF(w.w[r] == rows[r].weight, "row %d: weight %ld, want %ld", r, w.w[r], rows[r].weight);
}

/* (session 7) The seeded path's constant default weights (gen_weights_defaults) are what
 * gen_weights_init writes. On generated cases: the per-type flags (gen_type_flags) say what
 * gen_has_path and gen_has_leaf say; the layout the generator left (plain structs are laid
 * out as they are built, gen_types.c fbuild.plain, without layout_type_gen) and layout_type_gen
 * both lay out each type as af_layout does; every signature passes classify_check_sig
 * (abi_classify_gen skips it). */
static void test_defaults_and_flags(void) {
  struct af_weights w;
  memset(&w, 0x5a, sizeof w);
  gen_weights_init(&w);
  const struct af_weights *d = gen_weights_defaults();
  CHECKF(memcmp(d->w, w.w, sizeof w.w) == 0, "default weights differ from gen_weights_init");
  for (int a = 0; a < GEN_NAXES; a++)
    CHECKF(d->first[a] == w.first[a] && d->count[a] == w.count[a],
           "axis %d: constant table first %d count %d, gen_weights_init %d %d", a, d->first[a],
           d->count[a], w.first[a], w.count[a]);
  /* (session 9) the defaults' constant running sums (weights.c, offsetof of a struct of
   * weight-sized fields) are the sums of gen_weights_init's table, axis by axis; gen_picks_init
   * takes them for the default table and computes the same for a copy of it */
  const uint64_t *ccum = gen_default_pick_cum(), *ctot = gen_default_pick_total();
  uint64_t tot[GEN_NAXES], cum[GEN_NROWS];
  gen_state gs;
  memset(&gs, 0, sizeof gs);
  gs.w = &w;
  gen_picks_init(&gs, tot, cum);
  CHECK(gs.pick_total == tot && gs.pick_cum == cum);
  for (int a = 0; a < GEN_NAXES; a++) {
    uint64_t t = 0;
    for (int r = w.first[a]; r < w.first[a] + w.count[a]; r++) {
      t += (uint64_t)w.w[r];
      CHECKF(ccum[r] == t && cum[r] == t,
             "row %d: constant running sum %llu, computed %llu, want %llu", r,
             (unsigned long long)ccum[r], (unsigned long long)cum[r], (unsigned long long)t);
    }
    CHECKF(ctot[a] == t && tot[a] == t, "axis %d: constant total %llu, computed %llu, want %llu", a,
           (unsigned long long)ctot[a], (unsigned long long)tot[a], (unsigned long long)t);
  }
  gs.w = d;
  gen_picks_init(&gs, tot, cum);
  CHECK(gs.pick_total == ctot && gs.pick_cum == ccum);
  int bad = 0, types = 0, lbad = 0, ltypes = 0, gbad = 0, plain = 0;
  for (int opt = 0; opt < 8; opt++) {
    af_gen_opts o;
    af_gen_opts_default(&o);
    o.allow_f16 = opt & 1;
    o.allow_m256 = (opt >> 1) & 1;
    o.allow_divergent = (opt >> 2) & 1;
    for (uint64_t i = 0; i < 200; i++) {
      af_case *c = gen_case_checked(&o, 900 + (uint64_t)opt, i);
      if (!c) continue;
      /* the generator's own layout, kept to compare with af_layout's */
      static uint32_t gsize[AF_MAX_TYPES], gal[AF_MAX_TYPES], goff[AF_MAX_TYPES][AF_MAX_FIELDS],
          gbo[AF_MAX_TYPES][AF_MAX_FIELDS];
      for (int t = AF_T_NSCALAR; t < c->ntypes; t++) {
        const af_type *ty = &c->types[t];
        gsize[t] = ty->size, gal[t] = ty->alignment;
        int bits = 0;
        for (int k = 0; k < ty->nfields; k++) {
          goff[t][k] = ty->fields[k].offset, gbo[t][k] = ty->fields[k].bit_offset;
          bits |= ty->fields[k].bits >= 0;
        }
        plain += ty->kind == AF_T_STRUCT && !bits;
      }
      /* layout_type_gen, type by type, against af_layout (which validates every rule) */
      CHECKF(af_layout(c) == AF_OK, "options %d case %llu: af_layout fails", opt,
             (unsigned long long)i);
      for (int t = AF_T_NSCALAR; t < c->ntypes; t++) {
        af_type *ty = &c->types[t];
        uint32_t size = ty->size, al = ty->alignment, off[AF_MAX_FIELDS], bo[AF_MAX_FIELDS];
        int gsame = size == gsize[t] && al == gal[t];
        for (int k = 0; k < ty->nfields; k++)
          gsame &= ty->fields[k].offset == goff[t][k] && ty->fields[k].bit_offset == gbo[t][k];
        if (!gsame && gbad++ < 5)
          fprintf(stderr, "options %d case %llu type %d: the generator's layout differs\n", opt,
                  (unsigned long long)i, t);
        for (int k = 0; k < ty->nfields; k++) {
          off[k] = ty->fields[k].offset, bo[k] = ty->fields[k].bit_offset;
          ty->fields[k].offset = ty->fields[k].bit_offset = 12345;
        }
        ty->size = ty->alignment = 777;
        int same = layout_type_gen(c, t) == AF_OK && ty->size == size && ty->alignment == al;
        for (int k = 0; k < ty->nfields; k++)
          same &= ty->fields[k].offset == off[k] && ty->fields[k].bit_offset == bo[k];
        if (!same && lbad++ < 5)
          fprintf(stderr, "options %d case %llu type %d: layout_type_gen differs\n", opt,
                  (unsigned long long)i, t);
        ltypes++;
      }
      /* every signature passes the check abi_classify_gen leaves out */
      for (int k = 0; k < c->nfuncs; k++)
        CHECKF(classify_check_sig(c, &c->funcs[k].sig, NULL) == AF_OK,
               "options %d case %llu f%d: classify_check_sig fails", opt, (unsigned long long)i, k);
      uint8_t f[AF_MAX_TYPES];
      gen_type_flags(c, f);
      for (int t = 0; t < c->ntypes; t++, types++) {
        int path = !!(f[t] & GEN_TF_PATH), leaf = !!(f[t] & GEN_TF_LEAF);
        if ((path != gen_has_path(c, t) || leaf != gen_has_leaf(c, t)) && bad++ < 5)
          fprintf(stderr, "options %d case %llu type %d: flags path %d leaf %d, want %d %d\n", opt,
                  (unsigned long long)i, t, path, leaf, gen_has_path(c, t), gen_has_leaf(c, t));
      }
      af_case_free(c);
      free(c);
    }
  }
  CHECKF(types > 8 * 200 * AF_T_NSCALAR, "only %d types checked", types);
  CHECKF(bad == 0, "%d types: gen_type_flags differs from gen_has_path / gen_has_leaf", bad);
  CHECKF(ltypes > 8 * 200, "only %d composite types laid out", ltypes);
  CHECKF(lbad == 0, "%d types: layout_type_gen differs from af_layout", lbad);
  CHECKF(plain > 8 * 150, "only %d plain structs", plain);
  CHECKF(gbad == 0, "%d types: the generator's layout differs from af_layout", gbad);
}

/* (session 7) Weights equal to the defaults are the defaults: gen_weights_are_default says so
 * for af_weights_default()'s copy (what campaigns and the bench pass) and not once a weight
 * changes, and such a copy generates the same cases as NULL weights. */
static void test_default_weights_copy(void) {
  af_weights *w = af_weights_default();
  CHECK(w != NULL);
  if (!w) return;
  CHECK(gen_weights_are_default(gen_weights_defaults()));
  CHECK(gen_weights_are_default(w));
  int same = 0, n = 0;
  for (uint64_t i = 0; i < 40; i++) {
    af_gen_opts a, b;
    af_gen_opts_default(&a);
    af_gen_opts_default(&b);
    b.weights = w;
    a.cc = b.cc = (i & 1) ? AF_CC_WIN64 : AF_CC_SYSV;
    af_case *ca = gen_case_checked(&a, 77, i), *cb = gen_case_checked(&b, 77, i);
    if (ca && cb) {
      char *ta = NULL, *tb = NULL;
      size_t la = 0, lb = 0;
      n++;
      if (af_print_str(ca, &ta, &la) == AF_OK && af_print_str(cb, &tb, &lb) == AF_OK)
        same += la == lb && !memcmp(ta, tb, la);
      free(ta);
      free(tb);
    }
    if (ca) af_case_free(ca);
    if (cb) af_case_free(cb);
    free(ca);
    free(cb);
  }
  CHECKF(n == 40 && same == n, "%d of %d cases the same with a copy of the default weights", same,
         n);
  af_error err;
  CHECK(af_weights_set(w, "varargs.sysv_al", 0, &err) == AF_OK);
  CHECK(!gen_weights_are_default(w));
  af_weights_free(w);
}

/* (session 9) af_gen_case generates with gen/gen_seeded.c's copy of the generator (GEN_SEEDED:
 * no byte-mode test per draw, one unit); af_gen_bytes and every other test with the plain
 * objects. The two give the same case (its text), the same axes and the same status, over the
 * option sets, both conventions, and custom weights (some zero). */
static void test_seeded_unit(void) {
  int same = 0, n = 0;
  af_weights *cw = af_weights_default();
  CHECK(cw != NULL);
  if (!cw) return;
  af_error err;
  CHECK(af_weights_set(cw, "agg_shape.union", 60, &err) == AF_OK);
  CHECK(af_weights_set(cw, "scalar.i32", 0, &err) == AF_OK);
  CHECK(af_weights_set(cw, "op.get_set", 90, &err) == AF_OK);
  for (int opt = 0; opt < 16; opt++) {
    af_gen_opts o;
    af_gen_opts_default(&o);
    o.allow_f16 = opt & 1;
    o.allow_m256 = (opt >> 1) & 1;
    o.allow_divergent = (opt >> 2) & 1;
    if (opt & 8) o.weights = cw;
    for (uint64_t i = 0; i < 120; i++) {
      o.cc = (int)(i % 3) - 1; /* -1: drawn, SysV, Win64 */
      af_case a, b;
      int axa[GEN_NAXES], axb[GEN_NAXES];
      af_error ea, eb;
      uint64_t seed = 300 + (uint64_t)opt;
      af_status sa = af_gen_case(&o, seed, i, &a, axa, &ea);
      af_rng r;
      af_rng_seed(&r, seed, i);
      int verify = (opt & 8) || (i & 63) == 0; /* af_gen_case's choice */
      af_status sb = gen_main_plain(&o, &r, seed, i, &b, axb, &eb, verify);
      n++;
      if (sa == AF_OK && sb == AF_OK) {
        char *ta = NULL, *tb = NULL;
        size_t la = 0, lb = 0;
        if (af_print_str(&a, &ta, &la) == AF_OK && af_print_str(&b, &tb, &lb) == AF_OK &&
            la == lb && !memcmp(ta, tb, la) && !memcmp(axa, axb, sizeof axa))
          same++;
        else if (n - same <= 5)
          fprintf(stderr, "options %d case %llu: the seeded unit's case differs\n", opt,
                  (unsigned long long)i);
        free(ta);
        free(tb);
      } else {
        same += sa == sb;
        CHECKF(sa == sb, "options %d case %llu: status %d, plain %d", opt, (unsigned long long)i,
               (int)sa, (int)sb);
      }
      af_case_free(&a);
      af_case_free(&b);
    }
  }
  CHECKF(n == 16 * 120 && same == n, "%d of %d cases the same from the seeded unit", same, n);
  af_weights_free(cw);
}

int main(void) {
  test_rng();
  test_seeded_unit();
  test_defaults_and_flags();
  test_pick();
  test_layout_tail();
  test_quirks_nested();
  test_bitfields();
  test_lean_init();
  test_divergence_shortcut();
  test_scalar_classes();
  test_w64_scalar_kinds();
  test_verify_fast();
  test_verify_agg_const();
  test_gen_finish();
  test_tables();
  test_below_step();
  test_sysv_scalar_table();
  test_classify_tail();
  test_gen_verified();
  test_default_weights_copy();
  return check_done();
}
