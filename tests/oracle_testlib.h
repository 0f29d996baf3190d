/* oracle_testlib.h - small builders for hand-made cases (test_interp and test_emit). */
#ifndef ABIFUZZ_ORACLE_TESTLIB_H
#define ABIFUZZ_ORACLE_TESTLIB_H

#include <stdarg.h>
#include <string.h>

#include "gen.h"

/* A function with `n` params of the given types. */
static inline int tb_func(af_case *c, af_cc cc, int host, int ret, int n, ...) {
  af_sig s;
  memset(&s, 0, sizeof s);
  s.cc = cc;
  s.ret = ret;
  s.nparams = n;
  s.nfixed = n;
  va_list ap;
  va_start(ap, n);
  for (int i = 0; i < n; i++)
    s.params[i] = va_arg(ap, int);
  va_end(ap);
  return af_func_add(c, &s, host);
}

static inline int tb_inst(af_case *c, int f, af_op op, int type, int64_t imm, int nargs,
                          const int *args) {
  af_inst in;
  memset(&in, 0, sizeof in);
  in.op = op;
  in.type = type;
  in.imm = imm;
  in.nargs = nargs > AF_MAX_OPERANDS ? AF_MAX_OPERANDS : nargs;
  for (int i = 0; i < in.nargs; i++)
    in.args[i] = args[i];
  return af_inst_add(c, f, &in);
}

static inline int tb_op(af_case *c, int f, af_op op, int type, int a, int b) {
  int args[2] = {a, b};
  int n = (op == AF_OP_SEXT || op == AF_OP_ZEXT || op == AF_OP_TRUNC || op == AF_OP_FCONV ||
           op == AF_OP_FTOI || op == AF_OP_ITOF || op == AF_OP_BITCAST)
              ? 1
              : 2;
  return tb_inst(c, f, op, type, 0, n, args);
}

static inline int tb_cmp(af_case *c, int f, af_cmp p, int a, int b) {
  int args[2] = {a, b};
  return tb_inst(c, f, AF_OP_CMP, AF_T_BOOL, p, 2, args);
}

static inline int tb_sel(af_case *c, int f, int type, int cnd, int a, int b) {
  int args[3] = {cnd, a, b};
  return tb_inst(c, f, AF_OP_SELECT, type, 0, 3, args);
}

static inline int tb_const(af_case *c, int f, int type, const void *bytes) {
  af_inst in;
  memset(&in, 0, sizeof in);
  in.op = AF_OP_CONST;
  in.type = type;
  in.cst.type = type;
  in.cst.obj = -1;
  in.cst.size = c->types[type].size;
  in.cst.bytes = (uint8_t *)bytes;
  return af_inst_add(c, f, &in);
}

/* An integer constant (little-endian low bytes of x). */
static inline int tb_int(af_case *c, int f, int type, uint64_t x) {
  uint8_t b[16];
  memset(b, (int64_t)x < 0 && af_scalar((af_kind)type)->is_signed ? 0xff : 0, sizeof b);
  for (int i = 0; i < 8; i++)
    b[i] = (uint8_t)(x >> (8 * i));
  return tb_const(c, f, type, b);
}

static inline int tb_f32(af_case *c, int f, float x) { return tb_const(c, f, AF_T_F32, &x); }
static inline int tb_f64(af_case *c, int f, double x) { return tb_const(c, f, AF_T_F64, &x); }
static inline int tb_f80(af_case *c, int f, long double x) {
  uint8_t b[16] = {0};
  memcpy(b, &x, 10);
  return tb_const(c, f, AF_T_F80, b);
}

static inline int tb_path(af_case *c, int f, af_op op, int type, int agg, int val, int npath, ...) {
  af_inst in;
  memset(&in, 0, sizeof in);
  in.op = op;
  in.type = type;
  in.nargs = op == AF_OP_SET ? 2 : 1;
  in.args[0] = agg;
  in.args[1] = val;
  in.npath = npath;
  va_list ap;
  va_start(ap, npath);
  for (int i = 0; i < npath; i++)
    in.path[i] = va_arg(ap, int);
  va_end(ap);
  return af_inst_add(c, f, &in);
}
#define tb_get(c, f, type, agg, ...)      tb_path(c, f, AF_OP_GET, type, agg, -1, __VA_ARGS__)
#define tb_set(c, f, type, agg, val, ...) tb_path(c, f, AF_OP_SET, type, agg, val, __VA_ARGS__)

static inline int tb_load(af_case *c, int f, int type, int p, int64_t off) {
  int args[1] = {p};
  return tb_inst(c, f, AF_OP_LOAD, type, off, 1, args);
}
static inline void tb_store(af_case *c, int f, int type, int p, int v, int64_t off) {
  int args[2] = {p, v};
  tb_inst(c, f, AF_OP_STORE, type, off, 2, args);
}
static inline int tb_local(af_case *c, int f, int align) {
  return tb_inst(c, f, AF_OP_LOCAL, AF_T_PTR, align, 0, NULL);
}
static inline int tb_call(af_case *c, int f, int callee, int nargs, const int *args) {
  return tb_inst(c, f, AF_OP_CALL, c->funcs[callee].sig.ret, callee, nargs, args);
}
static inline int tb_mix(af_case *c, int f, uint64_t seed, int nargs, const int *args) {
  return tb_inst(c, f, AF_OP_MIX, AF_T_U64, (int64_t)seed, nargs, args);
}
/* A MIX of any number of operands: chained MIXes of at most 16. */
static inline int tb_mix_many(af_case *c, int f, uint64_t seed, int nargs, const int *args) {
  int h = -1;
  for (int i = 0; i < nargs; i += 15) {
    int a[16], n = 0;
    if (h >= 0) a[n++] = h;
    for (int k = i; k < nargs && k < i + 15; k++)
      a[n++] = args[k];
    h = tb_mix(c, f, seed + (uint64_t)i, n, a);
  }
  return h;
}

static inline void tb_ret(af_case *c, int f, int type, int v) {
  int args[1] = {v};
  tb_inst(c, f, AF_OP_RET, type, 0, type == AF_T_VOID ? 0 : 1, args);
}

/* Sets input i of the entry from bytes (ptr: object index in `obj`). */
static inline void tb_input(af_case *c, int i, int type, const void *bytes, int obj) {
  af_value_init(c, &c->inputs[i], type);
  c->inputs[i].obj = obj;
  if (type != AF_T_PTR) memcpy(c->inputs[i].bytes, bytes, c->inputs[i].size);
  if (i >= c->ninputs) c->ninputs = i + 1;
}
static inline void tb_input_int(af_case *c, int i, int type, uint64_t x) {
  uint8_t b[16];
  memset(b, (int64_t)x < 0 && af_scalar((af_kind)type)->is_signed ? 0xff : 0, sizeof b);
  for (int k = 0; k < 8; k++)
    b[k] = (uint8_t)(x >> (8 * k));
  tb_input(c, i, type, b, -1);
}

/* Finishes every function. */
static inline af_status tb_finish(af_case *c) {
  for (int f = 0; f < c->nfuncs; f++) {
    af_status s = af_fn_finish(c, f);
    if (s != AF_OK) return s;
  }
  return AF_OK;
}

static inline uint64_t tb_le(const uint8_t *b, int n) {
  uint64_t x = 0;
  for (int i = 0; i < n && i < 8; i++)
    x |= (uint64_t)b[i] << (8 * i);
  return x;
}

#endif
