/* oracle_cases.h - hand-built cases covering every op and type, for the emitter test. */
#ifndef ABIFUZZ_ORACLE_CASES_H
#define ABIFUZZ_ORACLE_CASES_H

#include "oracle_testlib.h"

/* Deterministic input bytes: a splitmix64 stream. */
static inline uint64_t oc_rand(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* Interesting integer patterns, by variant. */
static inline void oc_int_bytes(uint64_t *s, int variant, uint8_t *b, int size) {
  for (int i = 0; i < 16; i++)
    b[i] = (uint8_t)oc_rand(s);
  if (variant == 1) { /* extremes: most negative / all ones */
    memset(b, 0, 16);
    b[size - 1] = 0x80;
  } else if (variant == 2) {
    memset(b, 0xff, 16);
  } else if (variant == 3) { /* small */
    memset(b, 0, 16);
    b[0] = (uint8_t)(oc_rand(s) % 70);
  }
}

static const int oc_int_types[] = {AF_T_I8,  AF_T_U8,  AF_T_I16, AF_T_U16,  AF_T_I32,
                                   AF_T_U32, AF_T_I64, AF_T_U64, AF_T_I128, AF_T_U128};

/* Integer ops on one type T (variant: T index * 4 + pattern). */
static inline void oc_int_ops(af_case *c, af_cc cc, int variant) {
  int T = oc_int_types[(variant / 4) % 10];
  uint64_t seed = (uint64_t)variant * 77 + 1;
  c->nobjects = 1;
  int f0 = tb_func(c, cc, 0, AF_T_U64, 3, T, T, AF_T_PTR);
  int f1 = tb_func(c, cc, 0, T, 2, T, T);
  {
    int m = tb_op(c, f1, AF_OP_MUL, T, 0, 1);
    int x = tb_op(c, f1, AF_OP_XOR, T, m, 0);
    tb_ret(c, f1, T, x);
  }
  int v[64], n = 0;
  static const af_op ops[] = {AF_OP_ADD, AF_OP_SUB, AF_OP_MUL,  AF_OP_AND, AF_OP_OR,
                              AF_OP_XOR, AF_OP_SHL, AF_OP_LSHR, AF_OP_ASHR};
  for (unsigned i = 0; i < sizeof ops / sizeof ops[0]; i++) {
    v[n++] = tb_op(c, f0, ops[i], T, 0, 1);
    v[n++] = tb_op(c, f0, ops[i], T, 1, 0);
  }
  int k3 = tb_int(c, f0, T, (uint64_t)variant * 3 + 5);
  v[n++] = tb_op(c, f0, AF_OP_SHL, T, 0, k3);
  v[n++] = tb_op(c, f0, AF_OP_ASHR, T, 0, k3);
  v[n++] = tb_op(c, f0, AF_OP_LSHR, T, 0, k3);
  for (int p = 0; p < AF_CMP_COUNT; p++) {
    v[n++] = tb_cmp(c, f0, (af_cmp)p, 0, 1);
    v[n++] = tb_cmp(c, f0, (af_cmp)p, 1, 0);
  }
  v[n++] = tb_cmp(c, f0, AF_CMP_LE, 0, 0);
  int lt = tb_cmp(c, f0, AF_CMP_LT, 0, 1);
  v[n++] = tb_sel(c, f0, T, lt, 0, 1);
  v[n++] = tb_op(c, f0, AF_OP_SEXT, AF_T_I128, 0, -1);
  v[n++] = tb_op(c, f0, AF_OP_ZEXT, AF_T_U128, 1, -1);
  v[n++] = tb_op(c, f0, AF_OP_SEXT, AF_T_U128, 1, -1);
  v[n++] = tb_op(c, f0, AF_OP_TRUNC, AF_T_I8, 0, -1);
  v[n++] = tb_op(c, f0, AF_OP_TRUNC, AF_T_BOOL, 1, -1);
  v[n++] = tb_op(c, f0, AF_OP_TRUNC, AF_T_U8, 1, -1);
  v[n++] = tb_op(c, f0, AF_OP_ZEXT, AF_T_I128, lt, -1);
  v[n++] = tb_op(c, f0, AF_OP_ITOF, AF_T_F32, 0, -1);
  v[n++] = tb_op(c, f0, AF_OP_ITOF, AF_T_F64, 1, -1);
  v[n++] = tb_op(c, f0, AF_OP_ITOF, AF_T_F80, 0, -1);
#ifdef __FLT16_MAX__
  v[n++] = tb_op(c, f0, AF_OP_ITOF, AF_T_F16, 1, -1);
#endif
  int args[2] = {0, 1};
  v[n++] = tb_call(c, f0, f1, 2, args);
  tb_store(c, f0, T, 2, v[0], 8);
  tb_store(c, f0, T, 2, v[4], 100);
  v[n++] = tb_load(c, f0, AF_T_U16, 2, 9);
  int m = tb_mix_many(c, f0, 0x1234, n, v);
  tb_ret(c, f0, AF_T_U64, m);
  tb_finish(c);
  c->entry = f0;
  uint8_t a[16], b[16];
  oc_int_bytes(&seed, variant % 4, a, c->types[T].size);
  oc_int_bytes(&seed, (variant + 1) % 4, b, c->types[T].size);
  tb_input(c, 0, T, a, -1);
  tb_input(c, 1, T, b, -1);
  tb_input(c, 2, AF_T_PTR, NULL, 0);
  for (int i = 0; i < AF_REGION_SIZE; i++)
    c->objects[0].init[i] = (uint8_t)oc_rand(&seed);
}

/* Float patterns: normal, special (NaN, inf, -0), tiny, huge, random bits. */
static inline void oc_float_bytes(uint64_t *s, int F, int pat, uint8_t *b) {
  memset(b, 0, 16);
  double d;
  switch (pat % 6) {
  case 0: d = (double)(int64_t)(oc_rand(s) % 2000001) / 1000.0 - 1000.0; break;
  case 1: d = __builtin_nan(""); break;
  case 2: d = -__builtin_inf(); break;
  case 3: d = -0.0; break;
  case 4: d = 3e-39 * (double)(oc_rand(s) % 7 + 1); break;
  default: d = 1e30 * (double)(oc_rand(s) % 100000); break;
  }
  if (F == AF_T_F32) {
    float f = (float)d;
    memcpy(b, &f, 4);
  } else if (F == AF_T_F64) {
    memcpy(b, &d, 8);
  } else {
    long double x = (long double)d * (pat % 6 == 5 ? 1e300L : 1.0L);
    memcpy(b, &x, 10);
  }
}

/* Float ops on F in f32 f64 f80 (variant: F index * 6 + pattern pair). */
static inline void oc_float_ops(af_case *c, af_cc cc, int variant) {
  static const int fts[3] = {AF_T_F32, AF_T_F64, AF_T_F80};
  int F = fts[(variant / 6) % 3];
  uint64_t seed = (uint64_t)variant * 31 + 7;
  int f0 = tb_func(c, cc, 0, F, 2, F, F);
  int f1 = tb_func(c, cc, 0, AF_T_U64, 3, F, F, F);
  int f2 = tb_func(c, cc, 1, F, 1, F); /* host: x * x */
  {
    int sq = tb_op(c, f2, AF_OP_FMUL, F, 0, 0);
    tb_ret(c, f2, F, sq);
  }
  int v[80], n = 0;
  static const af_op ops[] = {AF_OP_FADD, AF_OP_FSUB, AF_OP_FMUL};
  for (int i = 0; i < 3; i++) {
    v[n++] = tb_op(c, f1, ops[i], F, 0, 1);
    v[n++] = tb_op(c, f1, ops[i], F, 1, 2);
  }
  int fl[4] = {AF_T_F32, AF_T_F64, AF_T_F80, AF_T_F16};
#ifdef __FLT16_MAX__
  int nfl = 4;
#else
  int nfl = 3;
#endif
  for (int i = 0; i < nfl; i++) {
    int cv = tb_op(c, f1, AF_OP_FCONV, fl[i], 0, -1);
    v[n++] = cv;
    v[n++] = tb_op(c, f1, AF_OP_FCONV, fl[i], 2, -1);
    v[n++] = tb_op(c, f1, AF_OP_FTOI, AF_T_I16, cv, -1);
  }
  for (int i = 0; i < 10; i++) {
    v[n++] = tb_op(c, f1, AF_OP_FTOI, oc_int_types[i], 0, -1);
    v[n++] = tb_op(c, f1, AF_OP_FTOI, oc_int_types[i], 2, -1);
  }
  if (F != AF_T_F80) {
    int bc = tb_op(c, f1, AF_OP_BITCAST, F == AF_T_F32 ? AF_T_U32 : AF_T_I64, 1, -1);
    v[n++] = bc;
    v[n++] = tb_op(c, f1, AF_OP_BITCAST, F, bc, -1);
  }
  int a1[1] = {0};
  v[n++] = tb_call(c, f1, f2, 1, a1);
  int m = tb_mix_many(c, f1, 77, n, v);
  tb_ret(c, f1, AF_T_U64, m);
  /* f0(a, b): calls f1(a, b, a*b) and returns a float built from the mix */
  int p = tb_op(c, f0, AF_OP_FMUL, F, 0, 1);
  int args[3] = {0, 1, p};
  int h = tb_call(c, f0, f1, 3, args);
  int hf = tb_op(c, f0, AF_OP_ITOF, F, h, -1);
  int r = tb_op(c, f0, AF_OP_FSUB, F, hf, p);
  tb_ret(c, f0, F, r);
  tb_finish(c);
  c->entry = f0;
  uint8_t a[16], b[16];
  oc_float_bytes(&seed, F, variant % 6, a);
  oc_float_bytes(&seed, F, (variant * 5 + 2) % 6, b);
  tb_input(c, 0, F, a, -1);
  tb_input(c, 1, F, b, -1);
}

/* Aggregates: bit-fields (signed, bool, zero-width, packed), unions, arrays,
 * complex, vectors, aligned members; passed, returned, got and set. */
static inline void oc_aggregates(af_case *c, af_cc cc, int variant) {
  uint64_t seed = (uint64_t)variant * 13 + 3;
  int arr = af_type_add_array(c, AF_T_I16, 3);
  af_field fs[9] = {{AF_T_I32, 5, 0, 0, 0}, {AF_T_BOOL, 1, 0, 0, 0}, {AF_T_U64, 37, 0, 0, 0},
                    {AF_T_U32, 0, 0, 0, 0}, {AF_T_I8, 7, 0, 0, 0},   {AF_T_CF32, -1, 0, 0, 0},
                    {arr, -1, 0, 0, 0},     {AF_T_F80, -1, 0, 0, 0}, {AF_T_BOOL, -1, 0, 0, 0}};
  int packed = variant % 2;
  int t = af_type_add_struct(c, AF_T_STRUCT, 9, fs, packed, 0);
  af_field us[4] = {{AF_T_U64, -1, 0, 0, 0},
                    {AF_T_F64, -1, 0, 0, 0},
                    {AF_T_I16, 9, 0, 0, 0},
                    {AF_T_CF32, -1, 0, 0, 0}};
  int u = af_type_add_struct(c, AF_T_UNION, 4, us, 0, 0);
  af_field ws[4] = {{u, -1, 0, 0, 0},
                    {AF_T_M128, -1, 0, 0, 0},
                    {AF_T_U8, -1, 32, 0, 0},
                    {AF_T_CF64, -1, 0, 0, 0}};
  int w = af_type_add_struct(c, AF_T_STRUCT, 4, ws, 0, variant % 3 == 2 ? 64 : 0);
  af_field ss[2] = {{AF_T_F32, -1, 0, 0, 0}, {AF_T_U8, -1, 0, 0, 0}}; /* small, in registers */
  int sm = af_type_add_struct(c, AF_T_STRUCT, 2, ss, 0, 0);
  af_layout(c);
  /* f0(t s, w x, i64 k, f32 y) -> t */
  int f0 = tb_func(c, cc, 0, t, 4, t, w, AF_T_I64, AF_T_F32);
  int f1 = tb_func(c, cc, 0, w, 3, w, sm, AF_T_F64); /* modifies x */
  int f2 = tb_func(c, cc, 1, sm, 1, AF_T_F32);       /* host: builds sm */
  {
    int s0 = tb_const(c, f2, sm, (uint8_t[8]){1, 2, 3, 4, 5, 6, 7, 8});
    int s1 = tb_set(c, f2, sm, s0, 0, 1, 0);
    tb_ret(c, f2, sm, s1);
  }
  {
    int d = tb_set(c, f1, w, 0, 2, 2, 3, 0);  /* __real__ x.f3 = d */
    int ud = tb_set(c, f1, w, d, 2, 2, 0, 1); /* x.f0.f1 = d */
    int sf = tb_get(c, f1, AF_T_F32, 1, 1, 0);
    int v2 = tb_set(c, f1, w, ud, sf, 2, 1, 3); /* x.f1[3] = sm.f0 */
    int bb = tb_get(c, f1, AF_T_U8, 1, 1, 1);
    int v3 = tb_set(c, f1, w, v2, bb, 1, 2);
    int bits = tb_get(c, f1, AF_T_I16, v3, 2, 0, 2); /* the union's 9-bit member */
    int k = tb_op(c, f1, AF_OP_ADD, AF_T_I16, bits, bits);
    int v4 = tb_set(c, f1, w, v3, k, 2, 0, 2);
    tb_ret(c, f1, w, v4);
  }
  int k32 = tb_op(c, f0, AF_OP_TRUNC, AF_T_I32, 2, -1);
  int s1 = tb_set(c, f0, t, 0, k32, 1, 0); /* 5-bit signed */
  int k64 = tb_op(c, f0, AF_OP_ZEXT, AF_T_U64, 2, -1);
  int s2 = tb_set(c, f0, t, s1, k64, 1, 2); /* 37-bit */
  int k8 = tb_op(c, f0, AF_OP_TRUNC, AF_T_I8, 2, -1);
  int s3 = tb_set(c, f0, t, s2, k8, 1, 4); /* 7-bit signed */
  int g0 = tb_get(c, f0, AF_T_I32, s3, 1, 0);
  int nb = tb_cmp(c, f0, AF_CMP_LT, g0, k32);
  int s4 = tb_set(c, f0, t, s3, nb, 1, 1);
  int s5 = tb_set(c, f0, t, s4, 3, 2, 5, 1); /* __imag__ s.f5 = y */
  int e = tb_get(c, f0, AF_T_I16, s5, 2, 6, 2);
  int e2 = tb_op(c, f0, AF_OP_MUL, AF_T_I16, e, e);
  int s6 = tb_set(c, f0, t, s5, e2, 2, 6, 0);
  int yv = tb_op(c, f0, AF_OP_FCONV, AF_T_F80, 3, -1);
  int s7 = tb_set(c, f0, t, s6, yv, 1, 7);
  int s8 = tb_set(c, f0, t, s7, nb, 1, 8);
  int d = tb_op(c, f0, AF_OP_FCONV, AF_T_F64, 3, -1);
  int a2[1] = {3};
  int smv = tb_call(c, f0, f2, 1, a2);
  int a1[3] = {1, smv, d};
  int x2 = tb_call(c, f0, f1, 3, a1);
  int x3 = tb_sel(c, f0, w, nb, x2, 1);
  int ln = tb_get(c, f0, AF_T_F32, x3, 2, 1, 3);
  int lnf = tb_op(c, f0, AF_OP_FCONV, AF_T_F80, ln, -1);
  int sum = tb_op(c, f0, AF_OP_FADD, AF_T_F80, lnf, yv);
  int s9 = tb_set(c, f0, t, s8, sum, 1, 7);
  int mx[3] = {x3, s9, smv};
  int m = tb_mix(c, f0, 5, 3, mx);
  int m8 = tb_op(c, f0, AF_OP_TRUNC, AF_T_I16, m, -1);
  int s10 = tb_set(c, f0, t, s9, m8, 2, 6, 1);
  (void)s10;
  tb_ret(c, f0, t, s10);
  tb_finish(c);
  c->entry = f0;
  uint8_t b[AF_MAX_TYPE_SIZE];
  for (int i = 0; i < AF_MAX_TYPE_SIZE; i++)
    b[i] = (uint8_t)oc_rand(&seed);
  /* t: bool field f8 must be 0/1, f7 (f80) canonical */
  long double x = 1.25L;
  memcpy(b + c->types[t].fields[7].offset, &x, 10);
  memset(b + c->types[t].fields[7].offset + 10, 0, 6);
  b[c->types[t].fields[8].offset] = 1;
  tb_input(c, 0, t, b, -1);
  for (int i = 0; i < AF_MAX_TYPE_SIZE; i++)
    b[i] = (uint8_t)oc_rand(&seed);
  tb_input(c, 1, w, b, -1);
  tb_input_int(c, 2, AF_T_I64, oc_rand(&seed));
  float y = variant % 4 == 3 ? __builtin_nanf("") : 0.5f * (float)(variant + 1);
  tb_input(c, 3, AF_T_F32, &y, -1);
}

/* Memory: loads and stores of every load type to objects and LOCALs, a host
 * function writing through a pointer, pointers selected and returned. */
static inline void oc_memory(af_case *c, af_cc cc, int variant) {
  uint64_t seed = (uint64_t)variant * 101 + 9;
  c->nobjects = 3;
  for (int k = 0; k < 3; k++)
    for (int i = 0; i < AF_REGION_SIZE; i++)
      c->objects[k].init[i] = (uint8_t)oc_rand(&seed);
  int f0 = tb_func(c, cc, 0, AF_T_U64, 3, AF_T_PTR, AF_T_PTR, AF_T_BOOL);
  int f1 = tb_func(c, cc, 0, AF_T_PTR, 3, AF_T_PTR, AF_T_PTR, AF_T_BOOL);
  int f2 = tb_func(c, cc, 1, AF_T_VOID, 2, AF_T_PTR, AF_T_CF64); /* host */
  {
    tb_store(c, f2, AF_T_CF64, 0, 1, 40);
    int l = tb_load(c, f2, AF_T_U64, 0, 44);
    tb_store(c, f2, AF_T_U64, 0, l, 3);
    tb_ret(c, f2, AF_T_VOID, -1);
  }
  {
    int p = tb_sel(c, f1, AF_T_PTR, 2, 0, 1);
    tb_ret(c, f1, AF_T_PTR, p);
  }
  static const int lt[] = {AF_T_I8,  AF_T_U16,  AF_T_I32,  AF_T_U64,  AF_T_I128, AF_T_F32,
                           AF_T_F64, AF_T_CF32, AF_T_CF64, AF_T_M128, AF_T_U128, AF_T_I16};
  int v[64], n = 0;
  int loc = tb_local(c, f0, 16 << (variant % 3));
  for (unsigned i = 0; i < sizeof lt / sizeof lt[0]; i++) {
    int off = (int)((oc_rand(&seed) % (AF_REGION_SIZE - 16)));
    int x = tb_load(c, f0, lt[i], (int)(i % 2), off);
    v[n++] = x;
    tb_store(c, f0, lt[i], loc, x, (int)(oc_rand(&seed) % (AF_REGION_SIZE - 16)));
    tb_store(c, f0, lt[i], i % 3 ? 1 : 0, x, (int)(oc_rand(&seed) % (AF_REGION_SIZE - 16)));
  }
#ifdef __FLT16_MAX__
  v[n++] = tb_load(c, f0, AF_T_F16, 0, 17);
  tb_store(c, f0, AF_T_F16, loc, v[n - 1], 2);
#endif
  int a1[3] = {0, 1, 2};
  int p = tb_call(c, f0, f1, 3, a1);
  int cf = tb_load(c, f0, AF_T_CF64, loc, 16);
  int a2[2] = {p, cf};
  tb_call(c, f0, f2, 2, a2);
  int a3[2] = {loc, cf};
  tb_call(c, f0, f2, 2, a3);
  v[n++] = tb_load(c, f0, AF_T_U64, loc, 0);
  v[n++] = tb_load(c, f0, AF_T_M128, loc, 40);
  v[n++] = p;
  v[n++] = loc;
  int m = tb_mix_many(c, f0, 3, n, v);
  tb_ret(c, f0, AF_T_U64, m);
  tb_finish(c);
  c->entry = f0;
  tb_input(c, 0, AF_T_PTR, NULL, variant % 3);
  tb_input(c, 1, AF_T_PTR, NULL, 2);
  tb_input_int(c, 2, AF_T_BOOL, (uint64_t)variant & 1);
}

/* Variadic functions: sysv va_arg / ms_abi __builtin_ms_va_arg over the
 * default-promoted types. */
static inline void oc_variadic(af_case *c, af_cc cc, int variant) {
  uint64_t seed = (uint64_t)variant * 7 + 11;
  af_field ss[3] = {{AF_T_I32, -1, 0, 0, 0}, {AF_T_F64, -1, 0, 0, 0}, {AF_T_U8, 3, 0, 0, 0}};
  int st = af_type_add_struct(c, AF_T_STRUCT, 3, ss, 0, 0);
  af_field s2[2] = {{AF_T_U16, -1, 0, 0, 0}, {AF_T_U8, -1, 0, 0, 0}};
  int sm = af_type_add_struct(c, AF_T_STRUCT, 2, s2, 0, 0);
  af_layout(c);
  static const int pool[] = {AF_T_I32,  AF_T_U32,  AF_T_I64,  AF_T_U64,  AF_T_F64, AF_T_F80,
                             AF_T_I128, AF_T_CF64, AF_T_M128, AF_T_CF32, -1,       -2};
  int np = 3 + variant % 9;
  af_sig s;
  memset(&s, 0, sizeof s);
  s.cc = cc;
  s.ret = AF_T_U64;
  s.variadic = 1;
  s.nfixed = 1 + variant % 3;
  s.nparams = np;
  for (int i = 0; i < np; i++) {
    int t = pool[oc_rand(&seed) % (sizeof pool / sizeof pool[0])];
    s.params[i] = t == -1 ? st : t == -2 ? sm : t;
  }
  int f0 = tb_func(c, cc, 0, AF_T_U64, 0);
  int f1 = af_func_add(c, &s, variant % 2);
  {
    int all[AF_MAX_PARAMS];
    for (int i = 0; i < np; i++)
      all[i] = i;
    int m = tb_mix(c, f1, 9, np, all);
    tb_ret(c, f1, AF_T_U64, m);
  }
  int args[AF_MAX_PARAMS];
  for (int i = 0; i < np; i++) {
    uint8_t b[AF_MAX_TYPE_SIZE];
    int t = s.params[i];
    for (int k = 0; k < AF_MAX_TYPE_SIZE; k++)
      b[k] = (uint8_t)oc_rand(&seed);
    if (t == AF_T_F80) {
      long double x = (long double)(int64_t)oc_rand(&seed) / 3.0L;
      memset(b, 0, 16);
      memcpy(b, &x, 10);
    }
    args[i] = tb_const(c, f0, t, b);
  }
  int r = tb_call(c, f0, f1, np, args);
  int r2 = tb_call(c, f0, f1, np, args);
  int mm[2] = {r, r2};
  int m = tb_mix(c, f0, 1, 2, mm);
  tb_ret(c, f0, AF_T_U64, m);
  tb_finish(c);
  c->entry = f0;
  c->ninputs = 0;
}

/* __m256 (needs -mavx): lanes got and set, passed and returned. */
static inline void oc_m256(af_case *c, af_cc cc, int variant) {
  uint64_t seed = (uint64_t)variant * 5 + 1;
  af_field fs[2] = {{AF_T_M256, -1, 0, 0, 0}, {AF_T_I32, -1, 0, 0, 0}};
  int t = af_type_add_struct(c, AF_T_STRUCT, 2, fs, 0, 0);
  af_layout(c);
  c->nobjects = 1;
  int f0 = tb_func(c, cc, 0, AF_T_M256, 3, AF_T_M256, t, AF_T_PTR);
  int f1 = tb_func(c, cc, 0, AF_T_M256, 2, AF_T_M256, AF_T_M256);
  {
    int a = tb_get(c, f1, AF_T_F32, 0, 1, 7);
    int b = tb_get(c, f1, AF_T_F32, 1, 1, 0);
    int s = tb_op(c, f1, AF_OP_FADD, AF_T_F32, a, b);
    int r = tb_set(c, f1, AF_T_M256, 1, s, 1, 3);
    tb_ret(c, f1, AF_T_M256, r);
  }
  int v = tb_get(c, f0, AF_T_M256, 1, 1, 0);
  int a[2] = {0, v};
  int r = tb_call(c, f0, f1, 2, a);
  tb_store(c, f0, AF_T_M256, 2, r, 64);
  int l = tb_load(c, f0, AF_T_M256, 2, 8);
  int gi = tb_get(c, f0, AF_T_I32, 1, 1, 1);
  int z = tb_int(c, f0, AF_T_I32, 5);
  int cnd = tb_cmp(c, f0, AF_CMP_LT, gi, z);
  int r2 = tb_sel(c, f0, AF_T_M256, cnd, l, r);
  tb_ret(c, f0, AF_T_M256, r2);
  tb_finish(c);
  c->entry = f0;
  uint8_t b[64];
  for (int i = 0; i < 64; i++)
    b[i] = (uint8_t)oc_rand(&seed);
  for (int i = 0; i < 8; i++) {
    float x = (float)(i + variant);
    memcpy(b + 4 * i, &x, 4);
  }
  tb_input(c, 0, AF_T_M256, b, -1);
  tb_input(c, 1, t, b, -1);
  tb_input(c, 2, AF_T_PTR, NULL, 0);
  for (int i = 0; i < AF_REGION_SIZE; i++)
    c->objects[0].init[i] = (uint8_t)oc_rand(&seed);
}

typedef void (*oc_builder)(af_case *c, af_cc cc, int variant);
typedef struct {
  const char *name;
  oc_builder build;
  int nvariants;
  int needs_avx;
} oc_entry;

static const oc_entry oc_catalog[] = {
    {"int_ops", oc_int_ops, 40, 0},      {"float_ops", oc_float_ops, 18, 0},
    {"aggregates", oc_aggregates, 6, 0}, {"memory", oc_memory, 6, 0},
    {"variadic", oc_variadic, 18, 0},    {"m256", oc_m256, 3, 1},
};
#define OC_NCATALOG ((int)(sizeof oc_catalog / sizeof oc_catalog[0]))

/* Builds catalog entry e, variant v, convention cc into a fresh case. */
static inline void oc_build(const oc_entry *e, af_cc cc, int v, af_case *c) {
  af_case_init(c);
  c->cc = cc;
  c->seed = 0xab1f;
  c->index = (uint64_t)v;
  e->build(c, cc, v);
}

#endif
