/* test_interp.c - the reference interpreter on hand-built cases with hand-computed results. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gen.h"
#include "oracle_testlib.h"

/* Runs a one-instruction entry `R f(A a, A b) { return op a b; }` (or the
 * unary form) and returns the result bytes in out (16 bytes). */
static af_status run_op(af_op op, int A, int R, int64_t imm, const void *a, const void *b,
                        uint8_t *out) {
  af_case c;
  af_case_init(&c);
  int unary = op == AF_OP_SEXT || op == AF_OP_ZEXT || op == AF_OP_TRUNC || op == AF_OP_FCONV ||
              op == AF_OP_FTOI || op == AF_OP_ITOF || op == AF_OP_BITCAST;
  int f = unary ? tb_func(&c, AF_CC_SYSV, 0, R, 1, A) : tb_func(&c, AF_CC_SYSV, 0, R, 2, A, A);
  int args[2] = {0, 1};
  int v = tb_inst(&c, f, op, R, imm, unary ? 1 : 2, args);
  tb_ret(&c, f, R, v);
  tb_finish(&c);
  c.entry = f;
  tb_input(&c, 0, A, a, -1);
  if (!unary) tb_input(&c, 1, A, b, -1);
  af_interp_result r;
  af_error err = {{0}};
  af_status s = af_interp(&c, 0, &r, &err);
  memset(out, 0, 16);
  if (s == AF_OK)
    memcpy(out, r.ret.bytes, r.ret.size);
  else
    fprintf(stderr, "interp: %s\n", err.msg);
  af_interp_result_free(&r);
  af_case_free(&c);
  return s;
}

/* Integer binary op on the low 64 bits (128-bit types: both halves given). */
static uint64_t ibin(af_op op, int T, uint64_t a, uint64_t b) {
  uint8_t x[16], y[16], o[16];
  int neg_a = af_scalar((af_kind)T)->is_signed && (int64_t)a < 0;
  int neg_b = af_scalar((af_kind)T)->is_signed && (int64_t)b < 0;
  memset(x, neg_a ? 0xff : 0, 16);
  memset(y, neg_b ? 0xff : 0, 16);
  memcpy(x, &a, 8);
  memcpy(y, &b, 8);
  if (run_op(op, T, op == AF_OP_CMP ? AF_T_BOOL : T, 0, x, y, o) != AF_OK) return 0xdeadbeef;
  return tb_le(o, 8);
}

static uint64_t icmp(af_cmp p, int T, uint64_t a, uint64_t b) {
  uint8_t x[16] = {0}, y[16] = {0}, o[16];
  memcpy(x, &a, 8);
  memcpy(y, &b, 8);
  if (run_op(AF_OP_CMP, T, AF_T_BOOL, p, x, y, o) != AF_OK) return 99;
  return o[0];
}

static uint64_t iun(af_op op, int A, int R, uint64_t a) {
  uint8_t x[16], o[16];
  memset(x, af_scalar((af_kind)A)->is_signed && (int64_t)a < 0 ? 0xff : 0, 16);
  memcpy(x, &a, 8);
  if (run_op(op, A, R, 0, x, NULL, o) != AF_OK) return 0xdeadbeef;
  return tb_le(o, 8);
}

static uint64_t ftoi_f64(int R, double d) {
  uint8_t o[16];
  if (run_op(AF_OP_FTOI, AF_T_F64, R, 0, &d, NULL, o) != AF_OK) return 0xdeadbeef;
  return tb_le(o, 8);
}

static void test_integers(void) {
  /* wrapping */
  CHECK(ibin(AF_OP_ADD, AF_T_I8, 0x7f, 1) == 0x80);
  CHECK(ibin(AF_OP_ADD, AF_T_U16, 0xffff, 2) == 1);
  CHECK(ibin(AF_OP_SUB, AF_T_U32, 0, 1) == 0xffffffffu);
  CHECK(ibin(AF_OP_MUL, AF_T_U16, 0xffff, 0xffff) == 0x0001);
  CHECK(ibin(AF_OP_MUL, AF_T_I32, 0x10000, 0x10000) == 0);
  CHECK(ibin(AF_OP_MUL, AF_T_I64, 0x100000001ull, 0x100000001ull) == 0x200000001ull);
  CHECK(ibin(AF_OP_AND, AF_T_U8, 0xf0, 0x3c) == 0x30);
  CHECK(ibin(AF_OP_OR, AF_T_U8, 0xf0, 0x0f) == 0xff);
  CHECK(ibin(AF_OP_XOR, AF_T_U64, ~0ull, 1) == ~1ull);
  /* shifts: amount mod width, taken unsigned */
  CHECK(ibin(AF_OP_SHL, AF_T_U8, 1, 9) == 2);
  CHECK(ibin(AF_OP_SHL, AF_T_U32, 1, 31) == 0x80000000u);
  CHECK(ibin(AF_OP_SHL, AF_T_I16, 3, (uint64_t)-1) == 0x8000); /* -1 -> 15 */
  CHECK(ibin(AF_OP_LSHR, AF_T_I8, (uint64_t)-128, 7) == 1);
  CHECK(ibin(AF_OP_ASHR, AF_T_I8, (uint64_t)-128, 7) == 0xff);
  CHECK(ibin(AF_OP_ASHR, AF_T_U8, 0x80, 1) == 0xc0); /* arithmetic for unsigned too */
  CHECK(ibin(AF_OP_ASHR, AF_T_I64, 0x8000000000000000ull, 64) == 0x8000000000000000ull);
  CHECK(ibin(AF_OP_LSHR, AF_T_U64, 0x8000000000000000ull, 63) == 1);
  /* 128-bit: carry into the high half */
  {
    uint8_t a[16] = {0}, b[16] = {0}, o[16];
    memset(a, 0xff, 8);
    b[0] = 1;
    CHECK(run_op(AF_OP_ADD, AF_T_U128, AF_T_U128, 0, a, b, o) == AF_OK);
    CHECK(tb_le(o, 8) == 0 && tb_le(o + 8, 8) == 1);
    b[0] = 64;
    memset(a, 0, 16);
    a[0] = 5;
    CHECK(run_op(AF_OP_SHL, AF_T_I128, AF_T_I128, 0, a, b, o) == AF_OK);
    CHECK(tb_le(o, 8) == 0 && tb_le(o + 8, 8) == 5);
  }
  /* comparisons: signedness of the operand type */
  CHECK(icmp(AF_CMP_LT, AF_T_I32, 0xffffffffu, 0) == 1);
  CHECK(icmp(AF_CMP_LT, AF_T_U32, 0xffffffffu, 0) == 0);
  CHECK(icmp(AF_CMP_LE, AF_T_I8, 5, 5) == 1);
  CHECK(icmp(AF_CMP_NE, AF_T_U64, 5, 5) == 0);
  CHECK(icmp(AF_CMP_EQ, AF_T_BOOL, 1, 1) == 1);
  /* extensions and truncation */
  CHECK(iun(AF_OP_SEXT, AF_T_I8, AF_T_U32, 0x80) == 0xffffff80u);
  CHECK(iun(AF_OP_SEXT, AF_T_U8, AF_T_I64, 0x80) == 0xffffffffffffff80ull); /* from a's width */
  CHECK(iun(AF_OP_ZEXT, AF_T_I8, AF_T_I32, (uint64_t)-1) == 0xff);
  CHECK(iun(AF_OP_SEXT, AF_T_BOOL, AF_T_I32, 1) == 1); /* bool zero-extends */
  CHECK(iun(AF_OP_TRUNC, AF_T_U32, AF_T_I8, 0x1ff) == 0xff);
  CHECK(iun(AF_OP_TRUNC, AF_T_U32, AF_T_BOOL, 6) == 0);
  CHECK(iun(AF_OP_TRUNC, AF_T_U32, AF_T_BOOL, 7) == 1);
}

static void test_floats(void) {
  uint8_t o[16];
  float f1 = 1.5f, f2 = 0.25f;
  CHECK(run_op(AF_OP_FADD, AF_T_F32, AF_T_F32, 0, &f1, &f2, o) == AF_OK);
  CHECK(tb_le(o, 4) == 0x3fe00000u); /* 1.75f */
  double d1 = 0.1, d2 = 0.2;
  CHECK(run_op(AF_OP_FADD, AF_T_F64, AF_T_F64, 0, &d1, &d2, o) == AF_OK);
  CHECK(tb_le(o, 8) == 0x3fd3333333333334ull); /* 0.30000000000000004 */
  /* f80: 1 + 2^-63 is exact in 64 mantissa bits, not in a double */
  uint8_t x1[16] = {0}, x2[16] = {0};
  long double l1 = 1.0L, l2 = 0x1p-63L;
  memcpy(x1, &l1, 10);
  memcpy(x2, &l2, 10);
  CHECK(run_op(AF_OP_FADD, AF_T_F80, AF_T_F80, 0, x1, x2, o) == AF_OK);
  CHECK(tb_le(o, 8) == 0x8000000000000001ull && tb_le(o + 8, 2) == 0x3fff);
  CHECK(tb_le(o + 10, 6) == 0); /* padding bytes zero */
  /* NaN results are the x86 hardware's: the default NaN is negative, a NaN
   * operand propagates quieted (the emitted C keeps compilers from folding) */
  float inf = INFINITY, one = 1.0f;
  CHECK(run_op(AF_OP_FSUB, AF_T_F32, AF_T_F32, 0, &inf, &inf, o) == AF_OK);
  CHECK(tb_le(o, 4) == 0xffc00000u);
  uint32_t sn = 0x7f800001u;
  float snf;
  memcpy(&snf, &sn, 4);
  CHECK(run_op(AF_OP_FADD, AF_T_F32, AF_T_F32, 0, &one, &snf, o) == AF_OK);
  CHECK(tb_le(o, 4) == 0x7fc00001u);
  /* FCONV rounds to nearest even */
  double d = 1.0 + 0x1p-24; /* halfway between two floats: to even */
  CHECK(run_op(AF_OP_FCONV, AF_T_F64, AF_T_F32, 0, &d, NULL, o) == AF_OK);
  CHECK(tb_le(o, 4) == 0x3f800000u);
#ifdef __FLT16_MAX__
  d = 65520.0; /* rounds to infinity in f16 */
  CHECK(run_op(AF_OP_FCONV, AF_T_F64, AF_T_F16, 0, &d, NULL, o) == AF_OK);
  CHECK(tb_le(o, 2) == 0x7c00);
#endif
  /* FTOI: saturating, NaN -> 0, truncation toward zero */
  CHECK(ftoi_f64(AF_T_I32, 3.99) == 3);
  CHECK(ftoi_f64(AF_T_I32, -3.99) == 0xfffffffdu);
  CHECK(ftoi_f64(AF_T_I32, 1e10) == 0x7fffffffu);
  CHECK(ftoi_f64(AF_T_I32, -1e10) == 0x80000000u);
  CHECK(ftoi_f64(AF_T_U8, 300.0) == 255);
  CHECK(ftoi_f64(AF_T_U8, -5.0) == 0);
  CHECK(ftoi_f64(AF_T_U8, -0.5) == 0);
  CHECK(ftoi_f64(AF_T_I64, NAN) == 0);
  CHECK(ftoi_f64(AF_T_U64, INFINITY) == ~0ull);
  CHECK(ftoi_f64(AF_T_I16, -INFINITY) == 0x8000);
  /* ITOF: signedness of the source type */
  uint8_t m1[16];
  memset(m1, 0xff, 16);
  CHECK(run_op(AF_OP_ITOF, AF_T_I32, AF_T_F64, 0, m1, NULL, o) == AF_OK);
  CHECK(tb_le(o, 8) == 0xbff0000000000000ull); /* -1.0 */
  CHECK(run_op(AF_OP_ITOF, AF_T_U32, AF_T_F64, 0, m1, NULL, o) == AF_OK);
  CHECK(tb_le(o, 8) == 0x41efffffffe00000ull); /* 4294967295.0 */
  CHECK(run_op(AF_OP_ITOF, AF_T_U128, AF_T_F32, 0, m1, NULL, o) == AF_OK);
  CHECK(tb_le(o, 4) == 0x7f800000u); /* 2^128 - 1 rounds to 2^128: inf in f32 */
  /* BITCAST keeps the bits, even a signalling NaN's */
  uint32_t snan = 0x7f800001u;
  CHECK(run_op(AF_OP_BITCAST, AF_T_U32, AF_T_F32, 0, &snan, NULL, o) == AF_OK);
  CHECK(tb_le(o, 4) == 0x7f800001u);
}

/* NaN canonicalisation and ptr ids in af_fold_value. */
static void test_fold(void) {
  af_case c;
  af_case_init(&c);
  af_value a, b;
  af_value_init(&c, &a, AF_T_F32);
  af_value_init(&c, &b, AF_T_F32);
  uint32_t n1 = 0xffc00123u, n2 = 0x7fc00000u;
  memcpy(a.bytes, &n1, 4);
  memcpy(b.bytes, &n2, 4);
  CHECK(af_fold_value(&c, 7, &a) == af_fold_value(&c, 7, &b));
  CHECK(af_fold_value(&c, 7, &b) == af_fold_u64(7, 0x7fc00000u));
  af_value_init(&c, &a, AF_T_F80);
  uint8_t x[16] = {1, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff}; /* negative NaN with payload */
  memcpy(a.bytes, x, 16);
  CHECK(af_fold_value(&c, 0, &a) == af_fold_u64(af_fold_u64(0, 0xc000000000000000ull), 0x7fff));
  af_value_init(&c, &a, AF_T_I16);
  a.bytes[0] = 0xfe;
  a.bytes[1] = 0xff;
  CHECK(af_fold_value(&c, 0, &a) == af_fold_u64(0, (uint64_t)-2)); /* sign-extended */
  af_value_init(&c, &a, AF_T_PTR);
  a.obj = 2;
  CHECK(af_fold_value(&c, 0, &a) == af_fold_u64(0, 3ull << 32));
  /* struct { i8 a:3; u32 :0; u16 b; } folds a (sign-extended) then b, nothing else */
  af_field fs[3] = {{AF_T_I8, 3, 0, 0, 0}, {AF_T_U32, 0, 0, 0, 0}, {AF_T_U16, -1, 0, 0, 0}};
  int t = af_type_add_struct(&c, AF_T_STRUCT, 3, fs, 0, 0);
  CHECK(t > 0 && af_layout(&c) == AF_OK);
  CHECK(c.types[t].size == 6 && c.types[t].fields[2].offset == 4);
  af_value_init(&c, &a, t);
  memset(a.bytes, 0xaa, 6); /* padding 0xaa: never folds */
  a.bytes[0] = 0x05;        /* a = -3 */
  a.bytes[4] = 0x34;
  a.bytes[5] = 0x12;
  CHECK(af_fold_value(&c, 0, &a) == af_fold_u64(af_fold_u64(0, (uint64_t)-3), 0x1234));
  af_case_free(&c);
}

/* Aggregates: bit-field get/set, union members, complex parts, vector lanes. */
static void test_aggregates(void) {
  af_case c;
  af_case_init(&c);
  af_field fs[4] = {{AF_T_I32, 5, 0, 0, 0},
                    {AF_T_BOOL, 1, 0, 0, 0},
                    {AF_T_CF32, -1, 0, 0, 0},
                    {AF_T_M128, -1, 0, 0, 0}};
  int t = af_type_add_struct(&c, AF_T_STRUCT, 4, fs, 0, 0);
  af_field us[2] = {{AF_T_U32, -1, 0, 0, 0}, {AF_T_F32, -1, 0, 0, 0}};
  int u = af_type_add_struct(&c, AF_T_UNION, 2, us, 0, 0);
  CHECK(af_layout(&c) == AF_OK);
  /* u64 f(t s, i32 x, f32 y) */
  int f = tb_func(&c, AF_CC_SYSV, 0, AF_T_U64, 3, t, AF_T_I32, AF_T_F32);
  int s1 = tb_set(&c, f, t, 0, 1, 1, 0);      /* s.f0 = x (truncated to 5 bits) */
  int g0 = tb_get(&c, f, AF_T_I32, s1, 1, 0); /* sign-extended */
  int one = tb_int(&c, f, AF_T_BOOL, 1);
  int s2 = tb_set(&c, f, t, s1, one, 1, 1);  /* s.f1 = 1 */
  int s3 = tb_set(&c, f, t, s2, 2, 2, 2, 1); /* __imag__ s.f2 = y */
  int s4 = tb_set(&c, f, t, s3, 2, 2, 3, 2); /* s.f3[2] = y */
  int im = tb_get(&c, f, AF_T_F32, s4, 2, 2, 1);
  int ln = tb_get(&c, f, AF_T_F32, s4, 2, 3, 2);
  int b1 = tb_get(&c, f, AF_T_BOOL, s4, 1, 1);
  int uz = tb_int(&c, f, AF_T_U32, 0);
  int uv = tb_const(&c, f, u, (uint8_t[4]){0});
  int u1 = tb_set(&c, f, u, uv, 2, 1, 1);     /* u.f1 = y */
  int ub = tb_get(&c, f, AF_T_U32, u1, 1, 0); /* its bits through u.f0 */
  (void)uz;
  int mix[6] = {g0, im, ln, b1, ub, s4};
  int m = tb_mix(&c, f, 99, 6, mix);
  int args_ret[1] = {m};
  (void)args_ret;
  /* return g0 | im bits etc. through a MIX; also check pieces via a second run */
  tb_ret(&c, f, AF_T_U64, m);
  CHECK(tb_finish(&c) == AF_OK);
  c.entry = f;
  uint8_t sb[64] = {0};
  tb_input(&c, 0, t, sb, -1);
  tb_input_int(&c, 1, AF_T_I32, 0x1d); /* 11101b -> -3 in 5 bits */
  float y = -2.5f;
  tb_input(&c, 2, AF_T_F32, &y, -1);
  af_error err = {{0}};
  CHECKF(af_verify(&c, &err) == AF_OK, "%s", err.msg);
  af_interp_result r;
  CHECKF(af_interp(&c, 0, &r, &err) == AF_OK, "%s", err.msg);
  /* expected MIX, by hand: g0 = -3; im = ln = -2.5f; b1 = 1; ub = bits of -2.5f;
     s4 = {f0 = -3, f1 = 1, f2 = 0 + -2.5i, f3 = {0, 0, -2.5, 0}} */
  uint64_t h = 99, yb = 0xc0200000u;
  h = af_fold_u64(h, (uint64_t)-3);
  h = af_fold_u64(h, yb);
  h = af_fold_u64(h, yb);
  h = af_fold_u64(h, 1);
  h = af_fold_u64(h, yb);
  h = af_fold_u64(h, (uint64_t)-3);
  h = af_fold_u64(h, 1);
  h = af_fold_u64(h, 0);
  h = af_fold_u64(h, yb);
  h = af_fold_u64(h, 0);
  h = af_fold_u64(h, yb); /* lanes 2 and 3 */
  CHECK(r.ret.size == 8 && tb_le(r.ret.bytes, 8) == h);
  CHECK(r.checksum == af_fold_u64(0, h)); /* no objects */
  af_interp_result_free(&r);
  af_case_free(&c);
}

/* Memory, LOCAL regions, calls, host calls, variadic signatures. */
static void test_memory_calls(void) {
  af_case c;
  af_case_init(&c);
  c.nobjects = 1;
  c.cc = AF_CC_WIN64;
  for (int i = 0; i < AF_REGION_SIZE; i++)
    c.objects[0].init[i] = (uint8_t)i;
  /* f0 entry: u64 f0(ptr p) */
  int f0 = tb_func(&c, AF_CC_WIN64, 0, AF_T_U64, 1, AF_T_PTR);
  /* f1 host: i32 f1(ptr q, i32 x, ...i64 y): stores x at q+4, returns load(q+0) + y */
  af_sig s1;
  memset(&s1, 0, sizeof s1);
  s1.cc = AF_CC_WIN64;
  s1.ret = AF_T_I64;
  s1.nparams = 3;
  s1.params[0] = AF_T_PTR;
  s1.params[1] = AF_T_I32;
  s1.params[2] = AF_T_I64;
  s1.variadic = 1;
  s1.nfixed = 2;
  int f1 = af_func_add(&c, &s1, 1);
  {
    tb_store(&c, f1, AF_T_I32, 0, 1, 4);
    int l = tb_load(&c, f1, AF_T_I64, 0, 0);
    int sum = tb_op(&c, f1, AF_OP_ADD, AF_T_I64, l, 2);
    tb_ret(&c, f1, AF_T_I64, sum);
  }
  int ld = tb_load(&c, f0, AF_T_U32, 0, 124); /* 0x7f7e7d7c */
  int loc = tb_local(&c, f0, 32);
  int k = tb_int(&c, f0, AF_T_I32, 0x11223344);
  int y = tb_int(&c, f0, AF_T_I64, 5);
  int a1[3] = {loc, k, y};
  int r1 = tb_call(&c, f0, f1, 3, a1); /* local: 0x11223344 << 32 + 5 */
  int a2[3] = {0, k, y};
  int r2 = tb_call(&c, f0, f1, 3, a2); /* object: stores, loads bytes 0..7 */
  int l2 = tb_load(&c, f0, AF_T_U64, loc, 0);
  int mx[5] = {ld, r1, r2, l2, loc};
  int m = tb_mix(&c, f0, 0, 5, mx);
  tb_ret(&c, f0, AF_T_U64, m);
  CHECK(tb_finish(&c) == AF_OK);
  c.entry = f0;
  tb_input(&c, 0, AF_T_PTR, NULL, 0);
  af_error err = {{0}};
  CHECKF(af_verify(&c, &err) == AF_OK, "%s", err.msg);
  af_interp_result r;
  CHECKF(af_interp(&c, 0, &r, &err) == AF_OK, "%s", err.msg);
  uint64_t v_r1 = (0x11223344ull << 32) + 5;
  uint64_t v_r2 = 0x0706050403020100ull;
  v_r2 = (v_r2 & 0xffffffffull) | (0x11223344ull << 32);
  v_r2 += 5;
  uint64_t h = 0;
  h = af_fold_u64(h, 0x7f7e7d7cull);
  h = af_fold_u64(h, v_r1);
  h = af_fold_u64(h, v_r2);
  h = af_fold_u64(h, 0x11223344ull << 32);
  h = af_fold_u64(h, 0xffffffff00000000ull); /* a LOCAL's ptr id */
  CHECK(tb_le(r.ret.bytes, 8) == h);
  CHECK(r.objects[0][4] == 0x44 && r.objects[0][7] == 0x11 && r.objects[0][8] == 8);
  /* the host call trace: two calls to f1, args and returns in order */
  CHECK(r.nhost_calls == 2);
  if (r.nhost_calls == 2) {
    CHECK(r.host_calls[0].callee == f1 && r.host_calls[0].nargs == 3);
    CHECK(r.host_calls[0].args[0].obj == -1 && r.host_calls[1].args[0].obj == 0);
    CHECK(tb_le(r.host_calls[0].args[1].bytes, 4) == 0x11223344u);
    CHECK(tb_le(r.host_calls[1].ret.bytes, 8) == v_r2);
  }
  /* checksum: the return value, then object 0 as 16 chunks */
  uint64_t ck = af_fold_u64(0, h);
  for (int i = 0; i < AF_REGION_SIZE; i += 8)
    ck = af_fold_u64(ck, tb_le(r.objects[0] + i, 8));
  CHECK(r.checksum == ck);
  af_interp_result_free(&r);
  /* the step budget */
  CHECK(af_interp(&c, 5, &r, &err) == AF_ERR_RUNTIME);
  af_interp_result_free(&r);
  af_case_free(&c);
}

/* An out-of-bounds access is an error, never undefined behaviour. */
static void test_bounds(void) {
  af_case c;
  af_case_init(&c);
  c.nobjects = 1;
  int f = tb_func(&c, AF_CC_SYSV, 0, AF_T_U64, 1, AF_T_PTR);
  int v = tb_load(&c, f, AF_T_U64, 0, 121);
  tb_ret(&c, f, AF_T_U64, v);
  tb_finish(&c);
  c.entry = f;
  tb_input(&c, 0, AF_T_PTR, NULL, 0);
  af_interp_result r;
  af_error err = {{0}};
  CHECK(af_interp(&c, 0, &r, &err) == AF_ERR_RUNTIME);
  af_interp_result_free(&r);
  af_case_free(&c);
}

/* 1 if records a and b (of a function with signature sig) hold the same call: arguments,
 * return value, regions after the call, returned argument. */
static int same_record(const af_sig *sig, const af_host_call *a, const af_host_call *b) {
  if (a->callee != b->callee || a->nargs != b->nargs || a->ret_arg != b->ret_arg) return 0;
  const af_value *va[AF_MAX_PARAMS + 1], *vb[AF_MAX_PARAMS + 1];
  for (int k = 0; k < a->nargs; k++)
    va[k] = &a->args[k], vb[k] = &b->args[k];
  va[a->nargs] = &a->ret, vb[a->nargs] = &b->ret;
  for (int k = 0; k <= a->nargs; k++) {
    if (va[k]->type != vb[k]->type || va[k]->obj != vb[k]->obj || va[k]->size != vb[k]->size)
      return 0;
    if (va[k]->size &&
        (!va[k]->bytes || !vb[k]->bytes || memcmp(va[k]->bytes, vb[k]->bytes, va[k]->size) != 0))
      return 0;
  }
  if (!a->after != !b->after) return 0;
  for (int k = 0; a->after && k < a->nargs; k++)
    if (sig->params[k] == AF_T_PTR &&
        memcmp(a->after + k * AF_REGION_SIZE, b->after + k * AF_REGION_SIZE, AF_REGION_SIZE))
      return 0;
  return 1;
}

/* The host calls are the calls of host functions among all calls, record for record, and a
 * result (its records in one arena) frees cleanly, also when a run fails half-way: generated
 * cases with a step budget too small for some of them. */
static void test_call_records(void) {
  af_gen_opts go;
  af_gen_opts_default(&go);
  int bad = 0, nhost = 0, failed = 0;
  for (int i = 0; i < 300; i++) {
    af_case c;
    af_error err;
    go.cc = i & 1;
    if (af_gen_case(&go, 4242, (uint64_t)i, &c, NULL, &err) != AF_OK) {
      af_case_free(&c);
      continue;
    }
    af_interp_result r;
    if (af_interp(&c, 0, &r, &err) == AF_OK) {
      int h = 0;
      for (int n = 0; n < r.ncalls; n++) {
        if (!c.funcs[r.calls[n].callee].host) continue;
        if (h >= r.nhost_calls ||
            !same_record(&c.funcs[r.calls[n].callee].sig, &r.calls[n], &r.host_calls[h]))
          bad++;
        h++;
      }
      if (h != r.nhost_calls) bad++;
      nhost += h;
    } else {
      bad++;
    }
    af_interp_result_free(&r);
    CHECK(r.arena == NULL && r.calls == NULL && r.host_calls == NULL);
    if (af_interp(&c, 1 + (uint64_t)i % 7, &r, &err) != AF_OK) failed++;
    af_interp_result_free(&r);
    af_case_free(&c);
  }
  CHECKF(bad == 0 && nhost > 50 && failed > 50, "%d bad records, %d host calls, %d runs stopped",
         bad, nhost, failed);
}

int main(void) {
  test_call_records();
  test_integers();
  test_floats();
  test_fold();
  test_aggregates();
  test_memory_calls();
  test_bounds();
  return check_done();
}
