/* test_mix_inline.c - MIX's inline folds (jit/lower_mix.c) against af_fold_operand and the encoder.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "codemem.h"
#include "gen.h"
#include "lower.h"
#include "lower_mix.h"

/* 1. The templates lower_mix copies are what the encoder writes for the same instructions.
 * 2. A MIX of random operands (every scalar kind, f80, pointers, two aggregates, in random order,
 *    so that inline folds follow helper calls, which clobber the constants' registers) lowered
 *    by lower_mix into a frame of our own and run: the hash must equal the one af_fold_operand
 *    (the helper the code called before) and af_fold_value (the interpreter's walk) give for the
 *    same slot bytes. The values: NaNs with payloads and either sign, infinities, -0.0,
 *    sign-extension edges, random bits; the slot bytes past each value are garbage, which no
 *    load may read. */

#define SLOT     32 /* bytes per operand slot (m256 is the largest scalar) */
#define MAXOP    24
#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static uint64_t rng = 0x9d2c5680a5a5a5a5ull;
static uint64_t rnd(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

/* ---- 1. templates ---- */
static void check_bytes(const char *what, void (*emit)(x86_buf *), const uint8_t *tab, size_t n) {
  x86_buf b;
  x86_buf_init(&b);
  emit(&b);
  CHECKF(b.err == AF_OK, "%s: encoder error", what);
  CHECKF(b.len == n, "%s: %zu bytes encoded, %zu in the table", what, b.len, n);
  if (b.len == n)
    for (size_t i = 0; i < n; i++)
      CHECKF(b.data[i] == tab[i], "%s: byte %zu: encoder %02x, table %02x", what, i, b.data[i],
             tab[i]);
  x86_buf_free(&b);
}
static void emit_f16(x86_buf *b) { lm_emit_canon(b, AF_T_F16); }
static void emit_f32(x86_buf *b) { lm_emit_canon(b, AF_T_F32); }
static void emit_f64(x86_buf *b) { lm_emit_canon(b, AF_T_F64); }

static void test_templates(void) {
  check_bytes("consts", lm_emit_consts, lm_consts_bytes, LM_CONSTS_LEN);
  check_bytes("fold", lm_emit_fold, lm_fold_bytes, LM_FOLD_LEN);
  check_bytes("canon f16", emit_f16, lm_canon_f16_bytes, LM_CANON16_LEN);
  check_bytes("canon f32", emit_f32, lm_canon_f32_bytes, LM_CANON32_LEN);
  check_bytes("canon f64", emit_f64, lm_canon_f64_bytes, LM_CANON64_LEN);
}

/* The whole MIX of one operand of kind t (slot s, so that its loads take a disp8 or a disp32) as
 * lower_mix writes it from its templates, against the same instructions from the encoder: mov
 * rax, seed; the constants; per chunk lw_load_int_any's load, the canonicalisation, the fold;
 * the store of h. */
static void check_operand_bytes(int t, int32_t s) {
  static const int load_kind[AF_T_NSCALAR] = {
      [AF_T_BOOL] = AF_T_BOOL, [AF_T_I8] = AF_T_I8,    [AF_T_U8] = AF_T_U8,
      [AF_T_I16] = AF_T_I16,   [AF_T_U16] = AF_T_U16,  [AF_T_I32] = AF_T_I32,
      [AF_T_U32] = AF_T_U32,   [AF_T_I64] = AF_T_I64,  [AF_T_U64] = AF_T_U64,
      [AF_T_I128] = AF_T_U64,  [AF_T_U128] = AF_T_U64, [AF_T_F16] = AF_T_U16,
      [AF_T_F32] = AF_T_U32,   [AF_T_F64] = AF_T_U64,  [AF_T_CF32] = AF_T_U32,
      [AF_T_CF64] = AF_T_U64,  [AF_T_M128] = AF_T_U64, [AF_T_M256] = AF_T_U64};
  int vt[2] = {t, AF_T_U64};
  int32_t slot[2] = {s, s - 48};
  af_func f;
  memset(&f, 0, sizeof f);
  f.nvalues = 2;
  f.value_type = vt;
  af_inst in;
  memset(&in, 0, sizeof in);
  in.op = AF_OP_MIX, in.type = AF_T_U64, in.dst = 1, in.nargs = 1, in.imm = 0x1234;
  af_case c;
  af_case_init(&c);
  x86_buf got, want;
  x86_buf_init(&got);
  x86_buf_init(&want);
  af_error err = {{0}};
  lower_ctx L;
  memset(&L, 0, sizeof L);
  L.c = &c, L.f = &f, L.slot = slot, L.err = &err, L.b = &got;
  lower_mix(&L, &in);
  L.b = &want;
  (void)x86_emit_movimm(&want, AF_RAX, 8, 0x1234);
  lm_emit_consts(&want);
  int n = t == AF_T_M256 ? 4
          : t == AF_T_CF32 || t == AF_T_CF64 || t == AF_T_M128 || t == AF_T_I128 || t == AF_T_U128
              ? 2
              : 1;
  int step = t == AF_T_CF32 ? 4 : 8;
  for (int i = 0; i < n; i++) {
    lw_load_int_any(&L, AF_RSI, AF_RBP, s + i * step, load_kind[t]);
    if (t == AF_T_F16 || t == AF_T_F32 || t == AF_T_F64)
      lm_emit_canon(&want, t);
    else if (t == AF_T_CF32 || t == AF_T_CF64)
      lm_emit_canon(&want, t == AF_T_CF32 ? AF_T_F32 : AF_T_F64);
    lm_emit_fold(&want);
  }
  x86_emit2(&want, X86_MOV, x86_base(8, AF_RBP, slot[1]), x86_gpr(AF_RAX, 8));
  CHECKF(got.err == AF_OK && want.err == AF_OK, "kind %d: encoder error", t);
  int same = got.len == want.len && memcmp(got.data, want.data, got.len) == 0;
  CHECKF(same, "kind %d slot %d: lower_mix wrote %zu bytes, the encoder %zu", t, s, got.len,
         want.len);
  if (!same)
    for (size_t i = 0; i < got.len && i < want.len; i++)
      if (got.data[i] != want.data[i]) {
        fprintf(stderr, "  first difference at byte %zu: %02x, encoder %02x\n", i, got.data[i],
                want.data[i]);
        break;
      }
  CHECKF(lm_code_len(t, s < -128) + LM_CONSTS_LEN + 5 + (s - 48 < -128 ? 7 : 4) == got.len,
         "kind %d: lm_code_len", t);
  x86_buf_free(&got);
  x86_buf_free(&want);
  af_case_free(&c);
}

static void test_operand_bytes(void) {
  for (int t = AF_T_BOOL; t < AF_T_NSCALAR; t++) {
    if (!lm_inline_type(t)) continue;
    check_operand_bytes(t, -48);   /* disp8 */
    check_operand_bytes(t, -1024); /* disp32 */
    check_operand_bytes(t, -112);  /* the last disp8 slot of an m256 (+24 still fits) */
  }
}

/* ---- 2. values ---- */
static const uint16_t f16_edges[] = {0x7c01, 0xfc01, 0x7e00, 0xfe00, 0x7fff, 0xffff, 0x7d55,
                                     0x7c00, 0xfc00, 0x8000, 0x0000, 0x7bff, 0x0001, 0x3c00};
static const uint32_t f32_edges[] = {
    0x7f800001u, 0xff800001u, 0x7fc00000u, 0xffc00000u, 0x7fffffffu, 0xffffffffu, 0x7fa5a5a5u,
    0x7f800000u, 0xff800000u, 0x80000000u, 0x00000000u, 0x7f7fffffu, 0x00000001u, 0x3f800000u};
static const uint64_t f64_edges[] = {
    0x7ff0000000000001ull, 0xfff0000000000001ull, 0x7ff8000000000000ull, 0xfff8000000000000ull,
    0x7fffffffffffffffull, 0xffffffffffffffffull, 0x7ff4deadbeef0000ull, 0x7ff0000000000000ull,
    0xfff0000000000000ull, 0x8000000000000000ull, 0x0000000000000000ull, 0x7fefffffffffffffull,
    0x0000000000000001ull, 0x3ff0000000000000ull, 0xffe0000000000000ull};
static const uint64_t int_edges[] = {0,
                                     1,
                                     0x7f,
                                     0x80,
                                     0xff,
                                     0x7fff,
                                     0x8000,
                                     0xffff,
                                     0x7fffffff,
                                     0x80000000u,
                                     0xffffffffu,
                                     0x7fffffffffffffffull,
                                     0x8000000000000000ull,
                                     ~0ull};

static uint64_t pick_bits(const void *tab, size_t n, size_t w) {
  uint64_t x = 0;
  memcpy(&x, (const uint8_t *)tab + (rnd() % n) * w, w);
  return x;
}

/* The bytes of a value of scalar kind t at p (size bytes). */
static void scalar_val(uint8_t *p, int t, int size) {
  uint64_t lanes[4];
  int lane = 8, n = (size + 7) / 8;
  if (t == AF_T_F16) lane = 2, n = 1;
  if (t == AF_T_F32 || t == AF_T_CF32) lane = 4, n = t == AF_T_CF32 ? 2 : 1;
  if (t == AF_T_F64 || t == AF_T_CF64) n = t == AF_T_CF64 ? 2 : 1;
  for (int i = 0; i < n; i++) {
    int edge = rnd() % 3 != 0;
    uint64_t x = rnd();
    if (t == AF_T_F16)
      x = edge ? pick_bits(f16_edges, COUNT(f16_edges), 2) : (uint16_t)x;
    else if (lane == 4)
      x = edge ? pick_bits(f32_edges, COUNT(f32_edges), 4) : (uint32_t)x;
    else if (t == AF_T_F64 || t == AF_T_CF64)
      x = edge ? pick_bits(f64_edges, COUNT(f64_edges), 8) : x;
    else if (t == AF_T_BOOL)
      x &= 1;
    else if (t == AF_T_F80 && i == 1)
      x = rnd() % 2 ? 0x7fff | (x & 0x8000) : x; /* NaN/inf */
    else if (edge)
      x = int_edges[rnd() % COUNT(int_edges)];
    lanes[i] = x;
  }
  uint8_t tmp[32];
  for (int i = 0; i < n; i++)
    memcpy(tmp + i * lane, &lanes[i], (size_t)lane);
  memcpy(p, tmp, (size_t)size);
}

/* ---- the frame: push rbp; copy the image at rdi below rbp; MIX; the hash in rax ---- */
typedef uint64_t (*mix_fn)(const uint8_t *img);

typedef struct {
  af_case c;
  jit_rt rt;
  uint8_t (*objs)[AF_REGION_SIZE];
  int agg[2];
} fixture;

static int fixture_init(fixture *fx) {
  memset(fx, 0, sizeof *fx);
  if (af_case_init(&fx->c) != AF_OK) return 0;
  af_field s[3] = {
      {.type = AF_T_I8, .bits = -1}, {.type = AF_T_F32, .bits = -1}, {.type = AF_T_U16, .bits = 5}};
  af_field u[2] = {{.type = AF_T_F64, .bits = -1}, {.type = AF_T_I32, .bits = -1}};
  fx->agg[0] = af_type_add_struct(&fx->c, AF_T_STRUCT, 3, s, 0, 0);
  fx->agg[1] = af_type_add_struct(&fx->c, AF_T_UNION, 2, u, 0, 0);
  if (fx->agg[0] < 0 || fx->agg[1] < 0 || af_layout(&fx->c) != AF_OK) return 0;
  fx->c.nobjects = 3;
  fx->objs = aligned_alloc(64, sizeof(uint8_t[AF_REGION_SIZE]) * 3);
  fx->rt.c = &fx->c;
  for (int k = 0; k < 3; k++)
    fx->rt.objects[k] = fx->objs[k];
  return 1;
}

/* One MIX of n operands of types ts, seed imm: compiled, run on `reps` images, checked. */
static void one_mix(fixture *fx, int n, const int *ts, int64_t imm, int reps) {
  int vt[MAXOP + 1];
  int32_t slot[MAXOP + 1];
  const int32_t frame = SLOT * (n + 1);
  for (int k = 0; k <= n; k++) {
    vt[k] = k < n ? ts[k] : AF_T_U64;
    slot[k] = -frame + SLOT * k;
  }
  af_func f;
  memset(&f, 0, sizeof f);
  f.nvalues = n + 1;
  f.value_type = vt;
  af_inst in;
  memset(&in, 0, sizeof in);
  in.op = AF_OP_MIX;
  in.type = AF_T_U64;
  in.dst = n;
  in.nargs = n;
  in.imm = imm;
  for (int k = 0; k < n; k++)
    in.args[k] = k;

  x86_buf b;
  x86_buf_init(&b);
  af_error err = {{0}};
  lower_ctx L;
  memset(&L, 0, sizeof L);
  L.c = &fx->c;
  L.f = &f;
  L.b = &b;
  L.rt = &fx->rt;
  L.slot = slot;
  L.err = &err;
  L.frame = frame;
  x86_emit1(&b, X86_PUSH, x86_gpr(AF_RBP, 8));
  x86_emit2(&b, X86_MOV, x86_gpr(AF_RBP, 8), x86_gpr(AF_RSP, 8));
  x86_emit2(&b, X86_SUB, x86_gpr(AF_RSP, 8), x86_imm(frame));
  lw_copy(&L, AF_RBP, -frame, AF_RDI, 0, (uint32_t)frame);
  af_status s = lower_mix(&L, &in);
  x86_emit2(&b, X86_MOV, x86_gpr(AF_RAX, 8), x86_base(8, AF_RBP, slot[n]));
  x86_emit2(&b, X86_MOV, x86_gpr(AF_RSP, 8), x86_gpr(AF_RBP, 8));
  x86_emit1(&b, X86_POP, x86_gpr(AF_RBP, 8));
  x86_emit0(&b, X86_RET);
  if (s == AF_OK) s = b.err;
  if (s == AF_OK) s = x86_buf_finish(&b);
  codemem *cm = NULL;
  void *where = NULL;
  if (s == AF_OK) s = codemem_new(&cm, 0);
  if (s == AF_OK) s = codemem_add(cm, b.data, b.len, &where);
  if (s == AF_OK) s = codemem_seal(cm);
  CHECKF(s == AF_OK, "mix of %d operands not lowered: %s", n, err.msg);
  x86_buf_free(&b);
  if (s != AF_OK) {
    codemem_free(cm);
    return;
  }
  mix_fn fn = (mix_fn)where;
  uint8_t img[SLOT * (MAXOP + 1)];
  for (int r = 0; r < reps; r++) {
    for (int i = 0; i < frame; i++)
      img[i] = (uint8_t)rnd(); /* garbage past every value */
    for (int k = 0; k < n; k++) {
      uint8_t *p = img + SLOT * k;
      int t = ts[k];
      if (t == AF_T_PTR) {
        uint64_t which = rnd() % 5; /* an object's start, or not */
        uint8_t *q = which < 3 ? fx->objs[which] : which == 3 ? fx->objs[0] + 8 : NULL;
        memcpy(p, &q, 8);
      } else if (t < AF_T_NSCALAR) {
        scalar_val(p, t, fx->c.types[t].size);
      } else {
        for (uint32_t i = 0; i < fx->c.types[t].size; i++)
          p[i] = (uint8_t)rnd();
        if (rnd() % 2) memcpy(p + (t == fx->agg[0] ? 4 : 0), &f32_edges[rnd() % 7], 4);
      }
    }
    uint64_t want = (uint64_t)imm, walk = (uint64_t)imm;
    for (int k = 0; k < n; k++) {
      const uint8_t *p = img + SLOT * k;
      want = af_fold_operand(&fx->c, fx->rt.objects, want, p, ts[k]);
      if (ts[k] == AF_T_PTR) {
        walk = want;
        continue;
      }
      af_value v;
      af_value_init(&fx->c, &v, ts[k]);
      memcpy(v.bytes, p, v.size);
      walk = af_fold_value(&fx->c, walk, &v);
    }
    uint64_t got = fn(img);
    CHECKF(want == walk, "af_fold_operand %016llx, af_fold_value %016llx", (unsigned long long)want,
           (unsigned long long)walk);
    if (got != want) {
      fprintf(stderr, "mix of %d operands, types", n);
      for (int k = 0; k < n; k++)
        fprintf(stderr, " %d", ts[k]);
      fprintf(stderr, "\n");
      for (int k = 0; k < n; k++) {
        fprintf(stderr, "  op %d:", k);
        for (int i = 0; i < 16; i++)
          fprintf(stderr, " %02x", img[SLOT * k + i]);
        fprintf(stderr, "\n");
      }
    }
    CHECKF(got == want, "mix: code %016llx, af_fold_operand %016llx", (unsigned long long)got,
           (unsigned long long)want);
  }
  codemem_free(cm);
}

static void test_run(void) {
  fixture fx;
  if (!fixture_init(&fx)) {
    CHECKF(0, "fixture");
    return;
  }
  /* every kind alone, with many values */
  for (int t = AF_T_BOOL; t < AF_T_NSCALAR; t++)
    one_mix(&fx, 1, &t, (int64_t)rnd(), 400);
  for (int a = 0; a < 2; a++)
    one_mix(&fx, 1, &fx.agg[a], (int64_t)rnd(), 50);
  /* random mixes: inline folds before and after helper calls */
  int pool[AF_T_NSCALAR + 2], np = 0;
  for (int t = AF_T_BOOL; t < AF_T_NSCALAR; t++)
    pool[np++] = t;
  pool[np++] = fx.agg[0];
  pool[np++] = fx.agg[1];
  for (int it = 0; it < 300; it++) {
    int ts[MAXOP], n = 1 + (int)(rnd() % MAXOP);
    for (int k = 0; k < n; k++)
      ts[k] = pool[rnd() % (uint64_t)np];
    one_mix(&fx, n, ts, (int64_t)rnd(), 20);
  }
  /* the kinds lm_inline_type claims and the ones it leaves to the helper */
  CHECK(lm_inline_type(AF_T_I8) && lm_inline_type(AF_T_F64) && lm_inline_type(AF_T_M256));
  CHECK(!lm_inline_type(AF_T_F80) && !lm_inline_type(AF_T_PTR) && !lm_inline_type(fx.agg[0]));
  free(fx.objs);
  af_case_free(&fx.c);
}

int main(void) {
  test_templates();
  test_operand_bytes();
  test_run();
  return check_done();
}
