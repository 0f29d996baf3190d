/* test_jit_ops.c - the op lowering (jit/lower_ops*.c) against the interpreter, one op at a time. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "codemem.h"
#include "gen.h"
#include "lower.h"
#include "oracle_testlib.h"

/* A standalone harness that needs nothing of lower_call.c: every case is a function
 * `R f(params) { ...body...; ret v }`; the JIT side is a fake frame of our own,
 *   void run(const uint8_t *in, uint8_t *out)
 * which copies param k from in + k*STRIDE into its slot, lowers the body with lower_inst,
 * and copies the returned slot to out. The interpreter runs the same case; the result
 * bytes (and the objects' final contents) must be equal. */

#define STRIDE   (AF_MAX_TYPE_SIZE + 16)
#define SAVE_IN  (-8)  /* [rbp-8]: the in pointer (helpers clobber rdi/rsi) */
#define SAVE_OUT (-16) /* [rbp-16]: the out pointer */

typedef void (*run_fn)(const uint8_t *in, uint8_t *out);

typedef struct {
  af_case c;
  int f;
  codemem *cm;
  run_fn fn;
  jit_rt rt;
  uint8_t (*objs)[AF_REGION_SIZE]; /* 64-aligned copies of the case's objects for the JIT */
  uint8_t *in;                     /* [nparams][STRIDE] */
  uint8_t out[STRIDE];
  char what[160];
  int32_t slot[AF_MAX_INSTS + AF_MAX_PARAMS];
  int32_t local_area[AF_MAX_INSTS];
} harness;

static int h_begin(harness *h, int ret, int n, const int *params) {
  memset(h, 0, sizeof *h);
  af_case_init(&h->c);
  af_sig s;
  memset(&s, 0, sizeof s);
  s.cc = AF_CC_SYSV;
  s.ret = ret;
  s.nparams = s.nfixed = n;
  for (int i = 0; i < n; i++)
    s.params[i] = params[i];
  h->f = af_func_add(&h->c, &s, 0);
  h->c.nobjects = 2;
  for (int k = 0; k < 2; k++)
    for (int i = 0; i < AF_REGION_SIZE; i++)
      h->c.objects[k].init[i] = (uint8_t)(i * 7 + k * 31 + 1);
  return h->f;
}

static void h_free(harness *h) {
  codemem_free(h->cm);
  free(h->objs);
  free(h->in);
  af_case_free(&h->c);
}

static uint32_t vsize(const af_case *c, int t) { return t == AF_T_PTR ? 8 : c->types[t].size; }

/* Lowers the function; 0 on success, else the status (the lowering's refusal). */
static af_status h_compile(harness *h) {
  af_case *c = &h->c;
  af_fn_finish(c, h->f);
  af_layout(c);
  const af_func *f = &c->funcs[h->f];
  c->entry = h->f;
  c->ninputs = f->sig.nparams;
  for (int i = 0; i < f->sig.nparams; i++) {
    af_value_init(c, &c->inputs[i], f->sig.params[i]);
    c->inputs[i].obj = f->sig.params[i] == AF_T_PTR ? i % c->nobjects : -1;
  }
  h->objs = aligned_alloc(64, sizeof(uint8_t[AF_REGION_SIZE]) * AF_MAX_OBJECTS);
  h->in = calloc((size_t)(f->sig.nparams + 1), STRIDE);
  h->rt.c = c;
  for (int k = 0; k < c->nobjects; k++)
    h->rt.objects[k] = h->objs[k];

  x86_buf b;
  x86_buf_init(&b);
  af_error err = {{0}};
  lower_ctx L;
  memset(&L, 0, sizeof L);
  L.c = c;
  L.fn = h->f;
  L.f = f;
  L.b = &b;
  L.rt = &h->rt;
  L.slot = h->slot;
  L.local_area = h->local_area;
  L.err = &err;
  int32_t cur = SAVE_OUT;
  for (int v = 0; v < f->nvalues; v++) {
    uint32_t n = vsize(c, f->value_type[v]);
    cur -= (int32_t)(16 * ((n + 15) / 16 ? (n + 15) / 16 : 1));
    h->slot[v] = cur;
  }
  for (int i = 0; i < f->ninsts; i++) {
    uint32_t need = lower_inst_frame_need(&L, &f->insts[i]);
    cur -= (int32_t)((need + 15) & ~15u);
    h->local_area[i] = cur;
  }
  L.frame = (-cur + 15) & ~15;

  x86_emit1(&b, X86_PUSH, x86_gpr(AF_RBP, 8));
  x86_emit2(&b, X86_MOV, x86_gpr(AF_RBP, 8), x86_gpr(AF_RSP, 8));
  x86_emit2(&b, X86_SUB, x86_gpr(AF_RSP, 8), x86_imm(L.frame));
  x86_emit2(&b, X86_MOV, x86_base(8, AF_RBP, SAVE_IN), x86_gpr(AF_RDI, 8));
  x86_emit2(&b, X86_MOV, x86_base(8, AF_RBP, SAVE_OUT), x86_gpr(AF_RSI, 8));
  for (int p = 0; p < f->sig.nparams; p++)
    lw_copy(&L, AF_RBP, h->slot[p], AF_RDI, p * STRIDE, vsize(c, f->sig.params[p]));
  af_status s = AF_OK;
  for (int i = 0; i < f->ninsts && s == AF_OK; i++) {
    const af_inst *in = &f->insts[i];
    if (in->op == AF_OP_RET) {
      if (in->nargs == 1) {
        x86_emit2(&b, X86_MOV, x86_gpr(AF_RAX, 8), x86_base(8, AF_RBP, SAVE_OUT));
        lw_copy(&L, AF_RAX, 0, AF_RBP, h->slot[in->args[0]], vsize(c, in->type));
      }
      continue;
    }
    s = lower_inst(&L, in, i);
  }
  x86_emit2(&b, X86_MOV, x86_gpr(AF_RSP, 8), x86_gpr(AF_RBP, 8));
  x86_emit1(&b, X86_POP, x86_gpr(AF_RBP, 8));
  x86_emit0(&b, X86_RET);
  if (s == AF_OK) s = x86_buf_finish(&b);
  if (s == AF_OK) s = codemem_new(&h->cm, 0);
  void *where = NULL;
  if (s == AF_OK) s = codemem_add(h->cm, b.data, b.len, &where);
  if (s == AF_OK) s = codemem_seal(h->cm);
  if (s == AF_OK)
    h->fn = (run_fn)where;
  else if (s != AF_ERR_UNSUPPORTED)
    fprintf(stderr, "lowering failed: %s\n", err.msg);
  x86_buf_free(&b);
  return s;
}

/* Sets param k's bytes (pointers: the object index is fixed by h_compile). */
static void h_set(harness *h, int k, const void *bytes) {
  af_value *v = &h->c.inputs[k];
  if (v->size) memcpy(v->bytes, bytes, v->size);
  memcpy(h->in + (size_t)k * STRIDE, bytes, v->size);
}

/* Runs both; 1 if they agree (result bytes and final objects). */
static int h_run(harness *h) {
  af_case *c = &h->c;
  const af_func *f = &c->funcs[h->f];
  for (int k = 0; k < f->sig.nparams; k++)
    if (f->sig.params[k] == AF_T_PTR) {
      uint8_t *p = h->objs[c->inputs[k].obj];
      memcpy(h->in + (size_t)k * STRIDE, &p, 8);
    }
  for (int k = 0; k < c->nobjects; k++)
    memcpy(h->objs[k], c->objects[k].init, AF_REGION_SIZE);
  af_interp_result r;
  af_error err = {{0}};
  af_status s = af_interp(c, 0, &r, &err);
  CHECKF(s == AF_OK, "%s: interp: %s", h->what, err.msg);
  if (s != AF_OK) return 0;
  memset(h->out, 0xa5, sizeof h->out);
  h->fn(h->in, h->out);
  int ok = 1, rt = f->sig.ret;
  uint32_t n = rt == AF_T_F80 ? 10 : rt == AF_T_PTR ? 0 : vsize(c, rt);
  if (rt != AF_T_VOID && memcmp(h->out, r.ret.bytes, n) != 0) {
    ok = 0;
    fprintf(stderr, "%s: jit", h->what);
    for (uint32_t i = 0; i < n; i++)
      fprintf(stderr, " %02x", h->out[i]);
    fprintf(stderr, "\n%s: ref", h->what);
    for (uint32_t i = 0; i < n; i++)
      fprintf(stderr, " %02x", r.ret.bytes[i]);
    fprintf(stderr, "\n");
  }
  for (int k = 0; k < c->nobjects; k++)
    if (memcmp(h->objs[k], r.objects[k], AF_REGION_SIZE) != 0) {
      ok = 0;
      fprintf(stderr, "%s: object %d differs\n", h->what, k);
    }
  af_interp_result_free(&r);
  CHECKF(ok, "%s", h->what);
  return ok;
}

/* ---- value pools ---- */
static uint64_t rng_state = 0x1234567887654321ull;
static uint64_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

static const uint64_t int_edges[] = {0,
                                     1,
                                     2,
                                     3,
                                     7,
                                     8,
                                     31,
                                     33,
                                     63,
                                     64,
                                     65,
                                     127,
                                     0x7f,
                                     0x80,
                                     0xff,
                                     0x7fff,
                                     0x8000,
                                     0xffff,
                                     0x7fffffff,
                                     0x80000000,
                                     0xffffffff,
                                     0x7fffffffffffffffull,
                                     0x8000000000000000ull,
                                     0xffffffffffffffffull,
                                     0xfffffffffffffffeull,
                                     0x123456789abcdef0ull};
#define NINT (sizeof int_edges / sizeof int_edges[0])

/* 16 bytes of an integer pool value: edges sign- or zero-extended, a few random. */
static void int_val(uint8_t *b, int i) {
  uint64_t lo, hi;
  if (i < (int)NINT) {
    lo = int_edges[i];
    hi = (i & 1) && (int64_t)lo < 0 ? ~0ull : 0;
  } else {
    lo = rnd();
    static const uint64_t his[] = {0x8000000000000000ull, ~0ull, 0x4000000000000000ull,
                                   0x7fffffffffffffffull, 1,     0x5555555555555555ull};
    hi = i % 8 < 6 ? his[i % 8] : rnd();
  }
  memcpy(b, &lo, 8);
  memcpy(b + 8, &hi, 8);
}
#define NINTV ((int)NINT + 12)

static const uint32_t f32_bits[] = {
    0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x3fc00000, 0x7f7fffff, 0x00800000,
    0x00000001, 0x807fffff, 0x7f800000, 0xff800000, 0x7fc00000, 0x7fc12345, 0x7f800001,
    0xffc00001, 0xff812345, 0x4f32d05e, 0xcf32d05e, 0x4f000000, 0xcf000000, 0x5f000000,
    0xdf000000, 0x5f800000, 0x7149f2ca, 0x42fe0000, 0xc3000000, 0x477fff00, 0x3effffff};
static const uint64_t f64_bits[] = {0,
                                    0x8000000000000000ull,
                                    0x3ff0000000000000ull,
                                    0xbff8000000000000ull,
                                    0x7fefffffffffffffull,
                                    0x0010000000000000ull,
                                    0x0000000000000001ull,
                                    0x800fffffffffffffull,
                                    0x7ff0000000000000ull,
                                    0xfff0000000000000ull,
                                    0x7ff8000000000000ull,
                                    0x7ff8000000012345ull,
                                    0x7ff0000000000001ull,
                                    0xfff8000000000001ull,
                                    0xfff4000000abcdefull,
                                    0x41e0000000000000ull,
                                    0xc1e0000000000000ull,
                                    0x41dfffffffc00000ull,
                                    0x43e0000000000000ull,
                                    0xc3e0000000000000ull,
                                    0x43f0000000000000ull,
                                    0x47efffffffffffffull,
                                    0x3fb999999999999aull,
                                    0x4415af1d78b58c40ull,
                                    0x3690000000000000ull,
                                    0xc7efffffffffffffull};
/* f80: mantissa, sign+exponent (canonical: integer bit set iff exponent != 0). */
static const uint64_t f80_bits[][2] = {
    {0, 0},
    {0, 0x8000},
    {0x8000000000000000ull, 0x3fff},
    {0xc000000000000000ull, 0xbfff},
    {0xffffffffffffffffull, 0x7ffe},
    {0x8000000000000000ull, 0x0001},
    {0x0000000000000001ull, 0x0000},
    {0x8000000000000000ull, 0x7fff},
    {0x8000000000000000ull, 0xffff},
    {0xc000000000000000ull, 0x7fff},
    {0xc000000000012345ull, 0x7fff},
    {0x8000000000000001ull, 0x7fff},
    {0xc0000000000abcdeull, 0xffff},
    {0x8000000000000000ull, 0x403e},
    {0x8000000000000000ull, 0xc03e},
    {0x8000000000000000ull, 0x407e},
    {0xfffffffffffffffeull, 0x403d},
    {0xaaaaaaaaaaaaaaabull, 0x3ffd},
    {0xffffffffffffffffull, 0x407f},
    {0x8000000000000000ull, 0x4004},
};
static const uint16_t f16_bits[] = {0x0000, 0x8000, 0x3c00, 0xbc00, 0x7bff, 0x0001, 0x8400,
                                    0x7c00, 0xfc00, 0x7e00, 0x7d01, 0xfe55, 0x5bf8, 0x3555};
#define COUNT(a) ((int)(sizeof a / sizeof a[0]))

static int float_count(int t) {
  return t == AF_T_F16   ? COUNT(f16_bits)
         : t == AF_T_F32 ? COUNT(f32_bits)
         : t == AF_T_F64 ? COUNT(f64_bits)
                         : COUNT(f80_bits);
}
static void float_val(uint8_t *b, int t, int i) {
  memset(b, 0, 16);
  if (t == AF_T_F16)
    memcpy(b, &f16_bits[i], 2);
  else if (t == AF_T_F32)
    memcpy(b, &f32_bits[i], 4);
  else if (t == AF_T_F64)
    memcpy(b, &f64_bits[i], 8);
  else {
    memcpy(b, &f80_bits[i][0], 8);
    memcpy(b + 8, &f80_bits[i][1], 2);
  }
}

static int is_int(int t) { return t >= AF_T_I8 && t <= AF_T_U128; }

/* ---- sweeps ---- */
/* unsupported (op, type) pairs, printed at the end */
static int n_unsupported;
static void note_unsupported(const char *what) {
  n_unsupported++;
  printf("unsupported: %s\n", what);
}

static int values_of(int t) { return t == AF_T_BOOL ? 2 : is_int(t) ? NINTV : float_count(t); }
static void value_of(uint8_t *b, int t, int i) {
  if (t == AF_T_BOOL) {
    memset(b, 0, 16);
    b[0] = (uint8_t)i;
  } else if (is_int(t)) {
    int_val(b, i);
  } else {
    float_val(b, t, i);
  }
}

/* R op(A a [, A b]) over every pair of pool values; imm for CMP. */
static void sweep(af_op op, int A, int R, int64_t imm, int unary) {
  harness h;
  int params[2] = {A, A};
  h_begin(&h, R, unary ? 1 : 2, params);
  int args[2] = {0, 1};
  int v = tb_inst(&h.c, h.f, op, R, imm, unary ? 1 : 2, args);
  tb_ret(&h.c, h.f, R, v);
  char abuf[16], rbuf[16];
  const char *an = af_type_name(&h.c, A, abuf, sizeof abuf);
  const char *rn = af_type_name(&h.c, R, rbuf, sizeof rbuf);
  af_status s = h_compile(&h);
  if (s != AF_OK) {
    snprintf(h.what, sizeof h.what, "%s %s -> %s", af_op_name(op), an, rn);
    if (s == AF_ERR_UNSUPPORTED)
      note_unsupported(h.what);
    else
      CHECKF(0, "%s: lowering failed (%s)", h.what, af_strerror(s));
    h_free(&h);
    return;
  }
  int n = values_of(A), bad = 0;
  uint8_t x[16], y[16];
  for (int i = 0; i < n && bad < 3; i++)
    for (int j = 0; j < (unary ? 1 : n) && bad < 3; j++) {
      value_of(x, A, i);
      value_of(y, A, j);
      h_set(&h, 0, x);
      if (!unary) h_set(&h, 1, y);
      snprintf(h.what, sizeof h.what, "%s %s -> %s (imm %lld) values %d,%d", af_op_name(op), an, rn,
               (long long)imm, i, j);
      if (!h_run(&h)) bad++;
    }
  h_free(&h);
}

static void test_int_ops(void) {
  static const af_op ops[] = {AF_OP_ADD, AF_OP_SUB, AF_OP_MUL,  AF_OP_AND, AF_OP_OR,
                              AF_OP_XOR, AF_OP_SHL, AF_OP_LSHR, AF_OP_ASHR};
  for (int t = AF_T_I8; t <= AF_T_U128; t++) {
    for (int k = 0; k < COUNT(ops); k++)
      sweep(ops[k], t, t, 0, 0);
    for (int p = 0; p < AF_CMP_COUNT; p++)
      sweep(AF_OP_CMP, t, AF_T_BOOL, p, 0);
  }
  for (int p = 0; p < AF_CMP_COUNT; p++)
    sweep(AF_OP_CMP, AF_T_BOOL, AF_T_BOOL, p, 0);
}

static void test_ext(void) {
  static const af_op ops[] = {AF_OP_SEXT, AF_OP_ZEXT, AF_OP_TRUNC};
  for (int a = AF_T_BOOL; a <= AF_T_U128; a++)
    for (int r = AF_T_BOOL; r <= AF_T_U128; r++) {
      int wa = a == AF_T_BOOL ? 0 : af_scalar((af_kind)a)->size;
      int wr = r == AF_T_BOOL ? 0 : af_scalar((af_kind)r)->size;
      for (int k = 0; k < 3; k++) {
        if (ops[k] != AF_OP_TRUNC && (wr < wa || r == AF_T_BOOL)) continue;
        if (ops[k] == AF_OP_TRUNC && (wr > wa || a == AF_T_BOOL)) continue;
        sweep(ops[k], a, r, 0, 1);
      }
    }
}

static void test_float(void) {
  static const af_op ops[] = {AF_OP_FADD, AF_OP_FSUB, AF_OP_FMUL};
  for (int t = AF_T_F32; t <= AF_T_F80; t++)
    for (int k = 0; k < 3; k++)
      sweep(ops[k], t, t, 0, 0);
  for (int a = AF_T_F16; a <= AF_T_F80; a++) {
    for (int r = AF_T_F16; r <= AF_T_F80; r++)
      sweep(AF_OP_FCONV, a, r, 0, 1);
    for (int r = AF_T_I8; r <= AF_T_U128; r++)
      sweep(AF_OP_FTOI, a, r, 0, 1);
  }
  for (int a = AF_T_BOOL; a <= AF_T_U128; a++)
    for (int r = AF_T_F16; r <= AF_T_F80; r++)
      sweep(AF_OP_ITOF, a, r, 0, 1);
  /* BITCAST int <-> float of one size */
  static const int pairs[][2] = {{AF_T_U16, AF_T_F16}, {AF_T_I32, AF_T_F32}, {AF_T_U64, AF_T_F64},
                                 {AF_T_F32, AF_T_U32}, {AF_T_F64, AF_T_I64}, {AF_T_F16, AF_T_I16}};
  for (int k = 0; k < COUNT(pairs); k++)
    sweep(AF_OP_BITCAST, pairs[k][0], pairs[k][1], 0, 1);
}

/* CONST of every scalar type and an aggregate, several bit patterns. */
static void test_const(void) {
  for (int t = AF_T_BOOL; t <= AF_T_M128; t++) {
    if (t == AF_T_PTR) continue;
    for (int i = 0; i < 6; i++) {
      harness h;
      h_begin(&h, t, 0, NULL);
      uint8_t b[32];
      for (int k = 0; k < 32; k++)
        b[k] = (uint8_t)(i == 0 ? 0 : i == 1 ? 0xff : rnd());
      if (t == AF_T_BOOL) b[0] &= 1;
      if (t == AF_T_F80) memset(b + 10, 0, 6);
      int v = tb_const(&h.c, h.f, t, b);
      tb_ret(&h.c, h.f, t, v);
      snprintf(h.what, sizeof h.what, "const type %d pattern %d", t, i);
      if (h_compile(&h) == AF_OK)
        h_run(&h);
      else
        CHECKF(0, "%s: not lowered", h.what);
      h_free(&h);
    }
  }
}

static int agg_types(af_case *c, int *out);

/* CONST of aggregates (padding bytes included: a constant is all its bytes). */
static void test_const_agg(void) {
  for (int w = 0; w < 4; w++) {
    harness h;
    h_begin(&h, AF_T_VOID, 0, NULL);
    int types[8];
    agg_types(&h.c, types);
    int T = types[w];
    h.c.funcs[h.f].sig.ret = T;
    uint8_t b[AF_MAX_TYPE_SIZE];
    for (uint32_t k = 0; k < h.c.types[T].size; k++)
      b[k] = (uint8_t)rnd();
    tb_ret(&h.c, h.f, T, tb_const(&h.c, h.f, T, b));
    snprintf(h.what, sizeof h.what, "const aggregate %d", w);
    if (h_compile(&h) == AF_OK)
      h_run(&h);
    else
      CHECKF(0, "%s: not lowered", h.what);
    h_free(&h);
  }
}

/* SELECT of scalars and a big aggregate. */
static void test_select(void) {
  for (int t = AF_T_BOOL; t <= AF_T_M128 + 1; t++) {
    harness h;
    h_begin(&h, AF_T_VOID, 0, NULL);
    int T = t;
    if (t == AF_T_M128 + 1) { /* a 203-byte aggregate */
      int big = af_type_add_array(&h.c, AF_T_U64, 25), odd = af_type_add_array(&h.c, AF_T_U8, 3);
      af_field fl[2] = {{big, -1, 0, 0, 0}, {odd, -1, 0, 0, 0}};
      T = af_type_add_struct(&h.c, AF_T_STRUCT, 2, fl, 0, 0);
    }
    af_layout(&h.c);
    if (T == AF_T_PTR) { /* pointers: return a MIX of the chosen one */
      h_free(&h);
      int ps[3] = {AF_T_BOOL, AF_T_PTR, AF_T_PTR};
      h_begin(&h, AF_T_U64, 3, ps);
      int sel = tb_sel(&h.c, h.f, AF_T_PTR, 0, 1, 2);
      tb_ret(&h.c, h.f, AF_T_U64, tb_mix(&h.c, h.f, 5, 1, &sel));
      snprintf(h.what, sizeof h.what, "select ptr");
      if (h_compile(&h) == AF_OK) {
        for (uint8_t cnd = 0; cnd < 2; cnd++) {
          h_set(&h, 0, &cnd);
          h_run(&h);
        }
      } else {
        CHECKF(0, "%s: not lowered", h.what);
      }
      h_free(&h);
      continue;
    }
    h.c.funcs[h.f].sig.ret = T;
    h.c.funcs[h.f].sig.nparams = h.c.funcs[h.f].sig.nfixed = 3;
    h.c.funcs[h.f].sig.params[0] = AF_T_BOOL;
    h.c.funcs[h.f].sig.params[1] = T;
    h.c.funcs[h.f].sig.params[2] = T;
    h.c.funcs[h.f].nvalues = 3;
    int v = tb_sel(&h.c, h.f, T, 0, 1, 2);
    tb_ret(&h.c, h.f, T, v);
    snprintf(h.what, sizeof h.what, "select type %d", T);
    if (h_compile(&h) != AF_OK) {
      CHECKF(0, "%s: not lowered", h.what);
      h_free(&h);
      continue;
    }
    uint8_t a[AF_MAX_TYPE_SIZE], b[AF_MAX_TYPE_SIZE];
    for (int i = 0; i < 4; i++) {
      for (int k = 0; k < AF_MAX_TYPE_SIZE; k++)
        a[k] = (uint8_t)rnd(), b[k] = (uint8_t)rnd();
      if (T == AF_T_BOOL) a[0] &= 1, b[0] &= 1;
      if (T == AF_T_F80) memset(a + 10, 0, 6), memset(b + 10, 0, 6);
      uint8_t cnd = (uint8_t)(i & 1);
      h_set(&h, 0, &cnd);
      h_set(&h, 1, a);
      h_set(&h, 2, b);
      h_run(&h);
    }
    h_free(&h);
  }
}

/* ---- GET / SET over every path of a few aggregates ---- */
static int agg_types(af_case *c, int *out) {
  int arr = af_type_add_array(c, AF_T_I16, 3);
  af_field s1[] = {
      {AF_T_I8, -1, 0, 0, 0},   {AF_T_I32, -1, 0, 0, 0},  {AF_T_U32, 3, 0, 0, 0},
      {AF_T_I32, 5, 0, 0, 0},   {AF_T_BOOL, 1, 0, 0, 0},  {AF_T_U64, 40, 0, 0, 0},
      {AF_T_I16, 9, 0, 0, 0},   {AF_T_F64, -1, 0, 0, 0},  {arr, -1, 0, 0, 0},
      {AF_T_CF32, -1, 0, 0, 0}, {AF_T_M128, -1, 0, 0, 0}, {AF_T_U8, 0, 0, 0, 0},
      {AF_T_I64, 63, 0, 0, 0},  {AF_T_F80, -1, 0, 0, 0},  {AF_T_BOOL, -1, 0, 0, 0},
      {AF_T_I8, 7, 0, 0, 0},
  };
  af_field s2[] = {{AF_T_U8, -1, 0, 0, 0}, {AF_T_U64, 61, 0, 0, 0}, {AF_T_I32, -1, 0, 0, 0},
                   {AF_T_I16, 7, 0, 0, 0}, {AF_T_U64, 64, 0, 0, 0}, {AF_T_U16, 13, 0, 0, 0}};
  int f2 = af_type_add_array(c, AF_T_F32, 2);
  af_field un[] = {{AF_T_U32, 17, 0, 0, 0},
                   {AF_T_I64, -1, 0, 0, 0},
                   {f2, -1, 0, 0, 0},
                   {AF_T_CF64, -1, 0, 0, 0}};
  int n = 0;
  out[n++] = af_type_add_struct(c, AF_T_STRUCT, COUNT(s1), s1, 0, 0);
  out[n++] = af_type_add_struct(c, AF_T_STRUCT, COUNT(s2), s2, 1, 0); /* packed */
  out[n++] = af_type_add_struct(c, AF_T_UNION, COUNT(un), un, 0, 0);
  int ua = af_type_add_array(c, out[2], 2);
  af_field nest[] = {{out[1], -1, 0, 0, 0}, {ua, -1, 0, 0, 0}, {AF_T_U8, 2, 0, 0, 0}};
  out[n++] = af_type_add_struct(c, AF_T_STRUCT, COUNT(nest), nest, 0, 0);
  af_layout(c);
  return n;
}

/* Leaf type of a path, or -1 (the test's own walk, for building the instruction). */
static int path_type(const af_case *c, int t, const int *path, int npath, int *bits) {
  *bits = -1;
  for (int i = 0; i < npath; i++) {
    const af_type *ty = &c->types[t];
    if (*bits >= 0) return -1;
    if (t == AF_T_CF32 || t == AF_T_CF64)
      t = t == AF_T_CF32 ? AF_T_F32 : AF_T_F64;
    else if (t == AF_T_M128 || t == AF_T_M256)
      t = AF_T_F32;
    else if (t >= AF_T_NSCALAR && ty->kind == AF_T_ARRAY)
      t = ty->elem;
    else if (t >= AF_T_NSCALAR) {
      *bits = ty->fields[path[i]].bits;
      t = ty->fields[path[i]].type;
    } else
      return -1;
  }
  return t;
}

/* Children count of a type for paths (0: a leaf). */
static int nchildren(const af_case *c, int t) {
  if (t == AF_T_CF32 || t == AF_T_CF64) return 2;
  if (t == AF_T_M128) return 4;
  if (t < AF_T_NSCALAR) return 0;
  return c->types[t].kind == AF_T_ARRAY ? (int)c->types[t].count : c->types[t].nfields;
}

static void random_bytes(uint8_t *b, uint32_t n, int t) {
  for (uint32_t k = 0; k < n; k++)
    b[k] = (uint8_t)rnd();
  if (t == AF_T_BOOL) b[0] &= 1;
}

static void getset_one(int which, const int *path, int npath, int is_set) {
  harness h;
  h_begin(&h, AF_T_VOID, 0, NULL);
  int types[8];
  agg_types(&h.c, types);
  int A = types[which], bits;
  int leaf = path_type(&h.c, A, path, npath, &bits);
  if (leaf < 0 || bits == 0) {
    h_free(&h);
    return;
  }
  af_func *f = &h.c.funcs[h.f];
  f->sig.ret = is_set ? A : leaf;
  f->sig.nparams = f->sig.nfixed = is_set ? 2 : 1;
  f->sig.params[0] = A;
  f->sig.params[1] = leaf;
  f->nvalues = f->sig.nparams;
  af_inst in;
  memset(&in, 0, sizeof in);
  in.op = is_set ? AF_OP_SET : AF_OP_GET;
  in.type = f->sig.ret;
  in.nargs = is_set ? 2 : 1;
  in.args[0] = 0;
  in.args[1] = 1;
  in.npath = npath;
  memcpy(in.path, path, sizeof(int) * (size_t)npath);
  int v = af_inst_add(&h.c, h.f, &in);
  tb_ret(&h.c, h.f, f->sig.ret, v);
  int n = snprintf(h.what, sizeof h.what, "%s agg%d path", is_set ? "set" : "get", which);
  for (int i = 0; i < npath; i++)
    n += snprintf(h.what + n, sizeof h.what - (size_t)n, " %d", path[i]);
  if (h_compile(&h) != AF_OK) {
    CHECKF(0, "%s: not lowered", h.what);
    h_free(&h);
    return;
  }
  uint8_t a[AF_MAX_TYPE_SIZE], b[AF_MAX_TYPE_SIZE];
  for (int i = 0; i < 12; i++) {
    random_bytes(a, h.c.types[A].size, A);
    random_bytes(b, h.c.types[leaf].size, leaf);
    if (i < 2) memset(a, i ? 0xff : 0, h.c.types[A].size);
    if (leaf == AF_T_BOOL && bits > 0) b[0] &= 1;
    h_set(&h, 0, a);
    if (is_set) h_set(&h, 1, b);
    if (!h_run(&h)) break;
  }
  h_free(&h);
}

static void getset_walk(const af_case *c, int which, int t, int *path, int depth) {
  if (depth > 0) {
    getset_one(which, path, depth, 0);
    getset_one(which, path, depth, 1);
  }
  if (depth >= 4) return;
  int n = nchildren(c, t);
  for (int k = 0; k < n; k++) {
    path[depth] = k;
    int b2;
    int ct = path_type(c, t, &path[depth], 1, &b2);
    if (ct < 0 || b2 == 0) continue;
    if (b2 > 0) {
      getset_one(which, path, depth + 1, 0);
      getset_one(which, path, depth + 1, 1);
      continue;
    }
    getset_walk(c, which, ct, path, depth + 1);
  }
}

static void test_getset(void) {
  af_case c;
  af_case_init(&c);
  int types[8];
  int n = agg_types(&c, types);
  for (int w = 0; w < n; w++) {
    int path[AF_MAX_PATH];
    getset_walk(&c, w, types[w], path, 0);
  }
  af_case_free(&c);
}

/* ---- LOAD / STORE / LOCAL / MIX ---- */
static void test_loadstore(void) {
  static const int ts[] = {AF_T_I8,  AF_T_U16, AF_T_I32,  AF_T_U64,  AF_T_I128, AF_T_F16,
                           AF_T_F32, AF_T_F64, AF_T_CF32, AF_T_CF64, AF_T_M128};
  for (int k = 0; k < COUNT(ts); k++) {
    int T = ts[k];
    uint32_t size = af_scalar((af_kind)T)->size;
    int64_t offs[] = {0, 1, 7, 64, (int64_t)(AF_REGION_SIZE - size)};
    for (int o = 0; o < COUNT(offs); o++)
      for (int st = 0; st < 2; st++) {
        harness h;
        int params[2] = {AF_T_PTR, T};
        h_begin(&h, st ? AF_T_VOID : T, st ? 2 : 1, params);
        if (st) {
          tb_store(&h.c, h.f, T, 0, 1, offs[o]);
          tb_ret(&h.c, h.f, AF_T_VOID, -1);
        } else {
          tb_ret(&h.c, h.f, T, tb_load(&h.c, h.f, T, 0, offs[o]));
        }
        snprintf(h.what, sizeof h.what, "%s type %d offset %lld", st ? "store" : "load", T,
                 (long long)offs[o]);
        if (h_compile(&h) != AF_OK) {
          CHECKF(0, "%s: not lowered", h.what);
          h_free(&h);
          continue;
        }
        uint8_t b[16];
        random_bytes(b, 16, T);
        if (st) h_set(&h, 1, b);
        h_run(&h);
        h_free(&h);
      }
  }
}

/* Fills stack below us with garbage, so that LOCAL's zeroing is seen. */
static __attribute__((noinline)) void dirty_stack(void) {
  volatile uint8_t junk[4096];
  for (int i = 0; i < 4096; i++)
    junk[i] = (uint8_t)(0xa5 ^ i);
  (void)junk[7];
}

static void test_local_mix(void) {
  for (int align = 16; align <= 64; align *= 2) {
    harness h;
    int params[2] = {AF_T_PTR, AF_T_U64};
    h_begin(&h, AF_T_U64, 2, params);
    int l = tb_local(&h.c, h.f, align);
    int l2 = tb_local(&h.c, h.f, 64);
    tb_store(&h.c, h.f, AF_T_U64, l, 1, 8);
    tb_store(&h.c, h.f, AF_T_U64, l2, 1, 120);
    int vals[40], n = 0;
    vals[n++] = l;
    vals[n++] = 0;
    for (int off = 0; off < AF_REGION_SIZE; off += 8)
      vals[n++] = tb_load(&h.c, h.f, AF_T_U64, off % 16 ? l : l2, off);
    int m = tb_mix(&h.c, h.f, 0x5eed + (uint64_t)align, n, vals);
    tb_ret(&h.c, h.f, AF_T_U64, m);
    snprintf(h.what, sizeof h.what, "local align %d + mix", align);
    if (h_compile(&h) != AF_OK) {
      CHECKF(0, "%s: not lowered", h.what);
      h_free(&h);
      continue;
    }
    uint64_t x = 0x0123456789abcdefull * (uint64_t)align;
    h_set(&h, 1, &x);
    dirty_stack();
    h_run(&h);
    h_free(&h);

    /* the region's alignment: a function returning its LOCAL (JIT side only) */
    h_begin(&h, AF_T_PTR, 0, NULL);
    tb_local(&h.c, h.f, 16);
    tb_ret(&h.c, h.f, AF_T_PTR, tb_local(&h.c, h.f, align));
    if (h_compile(&h) == AF_OK) {
      for (int pad = 0; pad < 4; pad++) {
        uint64_t p = 0;
        h.fn(h.in, h.out);
        memcpy(&p, h.out, 8);
        CHECKF(p % (uint64_t)align == 0, "local pointer %llx not %d-aligned", (unsigned long long)p,
               align);
      }
    } else {
      CHECK(0);
    }
    h_free(&h);
  }
  /* MIX of one operand of every kind, an aggregate with bit-fields and a pointer */
  harness h;
  h_begin(&h, AF_T_VOID, 0, NULL);
  int types[8];
  agg_types(&h.c, types);
  int ps[] = {AF_T_BOOL, AF_T_I8,  AF_T_U16, AF_T_I32,  AF_T_U64,  AF_T_I128, AF_T_F16,
              AF_T_F32,  AF_T_F64, AF_T_F80, AF_T_CF32, AF_T_CF64, AF_T_M128, types[0],
              types[1],  types[2], types[3], AF_T_PTR,  AF_T_PTR};
  af_func *f = &h.c.funcs[h.f];
  f->sig.ret = AF_T_U64;
  f->sig.nparams = f->sig.nfixed = COUNT(ps);
  memcpy(f->sig.params, ps, sizeof ps);
  f->nvalues = COUNT(ps);
  int args[COUNT(ps)];
  for (int i = 0; i < COUNT(ps); i++)
    args[i] = i;
  tb_ret(&h.c, h.f, AF_T_U64, tb_mix(&h.c, h.f, 77, COUNT(ps), args));
  snprintf(h.what, sizeof h.what, "mix of every kind");
  if (h_compile(&h) == AF_OK) {
    for (int it = 0; it < 50; it++) {
      for (int i = 0; i < COUNT(ps) - 2; i++) {
        uint8_t b[AF_MAX_TYPE_SIZE];
        random_bytes(b, h.c.types[ps[i]].size, ps[i]);
        if (ps[i] == AF_T_F32 && it % 3 == 0) memcpy(b, &f32_bits[12 + it % 4], 4);
        h_set(&h, i, b);
      }
      h_run(&h);
    }
  } else {
    CHECKF(0, "%s: not lowered", h.what);
  }
  h_free(&h);
}

int main(void) {
  test_const();
  test_const_agg();
  test_select();
  test_getset();
  test_loadstore();
  test_local_mix();
  test_int_ops();
  test_ext();
  test_float();
  printf("%d (op, type) combinations refused as unsupported\n", n_unsupported);
  return check_done();
}
