/* text_parse_func.c - af_parse's functions: signature line and instruction bodies. */
#include <string.h>

#include "text_parse_internal.h"

/* Instruction syntax (doc/case-format.md): "[vN =] OP TYPE operands", where
 * the operands are fixed by OP, so that no instruction needs a line end. The
 * parser only reads; af_verify (run at the end) checks every type rule. */

#define TP_MAX_VALUE_ID (1 << 20)

static int vref(tk_parser *p, af_inst *in) {
  if (in->nargs >= AF_MAX_OPERANDS)
    return tk_error_at(p, p->tok.line, p->tok.col, AF_ERR_LIMIT, "too many operands (max %d)",
                       AF_MAX_OPERANDS);
  return tp_index(p, 'v', "a value", TP_MAX_VALUE_ID, &in->args[in->nargs++]);
}

static int vrefs(tk_parser *p, af_inst *in, int n) {
  for (int k = 0; k < n; k++)
    if (vref(p, in)) return -1;
  return 0;
}

/* "(v1, v2, ...)" */
static int vlist(tk_parser *p, af_inst *in) {
  if (tk_expect_punct(p, '(')) return -1;
  while (!tk_is_punct(p, ')')) {
    if (in->nargs && tk_expect_punct(p, ',')) return -1;
    if (vref(p, in)) return -1;
  }
  return tk_next(p);
}

/* "[i, j, ...]" */
static int path(tk_parser *p, af_inst *in) {
  if (tk_expect_punct(p, '[')) return -1;
  while (!tk_is_punct(p, ']')) {
    if (in->npath && tk_expect_punct(p, ',')) return -1;
    if (in->npath >= AF_MAX_PATH)
      return tk_error_at(p, p->tok.line, p->tok.col, AF_ERR_LIMIT, "path longer than %d",
                         AF_MAX_PATH);
    int64_t v;
    if (tp_int(p, "a path index", 0, 1 << 20, &v)) return -1;
    in->path[in->npath++] = (int)v;
  }
  if (!in->npath) return tk_error(p, "empty path");
  return tk_next(p);
}

static int imm(tk_parser *p, af_inst *in, const char *what, int64_t min, int64_t max) {
  return tp_int(p, what, min, max, &in->imm);
}

/* The operands after "OP TYPE". */
static int operands(tk_parser *p, af_inst *in) {
  char b[40];
  switch (in->op) {
  case AF_OP_CONST: return tp_value(p, in->type, &in->cst);
  case AF_OP_CMP:
    for (int k = 0; k < AF_CMP_COUNT; k++)
      if (tk_is(p, af_text_cmp_names[k])) {
        in->imm = k;
        return tk_next(p) || vrefs(p, in, 2);
      }
    return tk_error(p, "expected eq, ne, lt or le, found %s", tk_describe(p, b, sizeof b));
  case AF_OP_SELECT: return vrefs(p, in, 3);
  case AF_OP_SEXT:
  case AF_OP_ZEXT:
  case AF_OP_TRUNC:
  case AF_OP_FCONV:
  case AF_OP_FTOI:
  case AF_OP_ITOF:
  case AF_OP_BITCAST: return vrefs(p, in, 1);
  case AF_OP_GET: return vrefs(p, in, 1) || path(p, in);
  case AF_OP_SET: return vrefs(p, in, 2) || path(p, in);
  case AF_OP_LOAD: return vrefs(p, in, 1) || imm(p, in, "an offset", -(1 << 20), 1 << 20);
  case AF_OP_STORE:
    return vrefs(p, in, 1) || imm(p, in, "an offset", -(1 << 20), 1 << 20) || vrefs(p, in, 1);
  case AF_OP_LOCAL: return imm(p, in, "an alignment", 0, 1 << 20);
  case AF_OP_CALL: {
    int f;
    if (tp_index(p, 'f', "a function", AF_MAX_FUNCS, &f)) return -1;
    in->imm = f;
    return vlist(p, in);
  }
  case AF_OP_MIX: {
    int64_t lo;
    /* A seed is any 64-bit pattern: read it as unsigned, keep the bits. */
    if (p->tok.kind == TK_WORD && p->tok.n > 2 && p->tok.s[0] == '0' && p->tok.s[1] == 'x' &&
        p->tok.n <= 18) {
      uint64_t v = 0;
      for (size_t i = 2; i < p->tok.n; i++) {
        char ch = p->tok.s[i];
        int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
        if (d < 0) return tk_error(p, "bad hex digit in the seed");
        v = v << 4 | (uint64_t)d;
      }
      in->imm = (int64_t)v;
      if (tk_next(p)) return -1;
    } else if (tp_int(p, "a seed (0x and up to 16 hex digits)", INT64_MIN, INT64_MAX, &lo)) {
      return -1;
    } else {
      in->imm = lo;
    }
    return vlist(p, in);
  }
  case AF_OP_RET: return in->type == AF_T_VOID ? 0 : vrefs(p, in, 1);
  default: return vrefs(p, in, 2); /* binary integer and float ops */
  }
}

static int parse_inst(tk_parser *p, int fn) {
  af_case *c = p->c;
  af_inst in;
  memset(&in, 0, sizeof in);
  char b[40];
  int want = -1, dline = p->tok.line, dcol = p->tok.col;
  if (p->tok.kind == TK_WORD && p->tok.n >= 2 && p->tok.s[0] == 'v' && p->tok.s[1] >= '0' &&
      p->tok.s[1] <= '9') {
    if (tp_index(p, 'v', "a value", TP_MAX_VALUE_ID, &want) || tk_expect_punct(p, '=')) return -1;
  }
  int oline = p->tok.line, ocol = p->tok.col, op = -1;
  for (int k = 0; k < AF_OP_COUNT && p->tok.kind == TK_WORD; k++)
    if (tk_is(p, af_op_name((af_op)k))) op = k;
  if (op < 0)
    return tk_error(p, "expected an instruction or '}', found %s", tk_describe(p, b, sizeof b));
  in.op = (af_op)op;
  if (tk_next(p) || tp_type(p, 1, &in.type) || operands(p, &in)) return -1;
  if (c->funcs[fn].ninsts >= AF_MAX_INSTS)
    return tk_error_at(p, oline, ocol, AF_ERR_LIMIT, "too many instructions in f%d (max %d)", fn,
                       AF_MAX_INSTS);
  int r = af_inst_add(c, fn, &in);
  if (r == -2) return tk_error_at(p, oline, ocol, AF_ERR_NOMEM, "out of memory");
  if (want >= 0 && r < 0)
    return tk_error_at(p, dline, dcol, AF_ERR_PARSE, "'%s %s' defines no value", af_op_name(in.op),
                       in.type == AF_T_VOID ? "void" : af_type_name(c, in.type, b, sizeof b));
  if (want >= 0 && r != want)
    return tk_error_at(p, dline, dcol, AF_ERR_PARSE, "expected v%d here (values in order)", r);
  if (want < 0 && r >= 0)
    return tk_error_at(p, oline, ocol, AF_ERR_PARSE, "this instruction defines v%d: write 'v%d = '",
                       r, r);
  return 0;
}

int tp_func(tk_parser *p) {
  af_case *c = p->c;
  int line = p->tok.line, col = p->tok.col, k;
  char b[40];
  if (tk_expect(p, "func") || tp_index(p, 'f', "function", AF_MAX_FUNCS, &k)) return -1;
  if (c->nfuncs >= AF_MAX_FUNCS)
    return tk_error_at(p, line, col, AF_ERR_LIMIT, "too many functions (max %d)", AF_MAX_FUNCS);
  if (k != c->nfuncs)
    return tk_error_at(p, line, col, AF_ERR_PARSE, "expected f%d next (functions in order)",
                       c->nfuncs);
  int host = 0;
  if (tk_is(p, "host")) {
    host = 1;
    if (tk_next(p)) return -1;
  }
  af_sig sig;
  memset(&sig, 0, sizeof sig);
  int found = 0;
  for (int i = 0; i < AF_CC_COUNT && p->tok.kind == TK_WORD; i++)
    if (tk_is(p, af_cc_name((af_cc)i))) {
      sig.cc = (af_cc)i;
      found = 1;
    }
  if (!found)
    return tk_error(p, "expected a calling convention, found %s", tk_describe(p, b, sizeof b));
  if (tk_next(p) || tk_expect_punct(p, '(')) return -1;
  int items = 0;
  while (!tk_is_punct(p, ')')) {
    if (items++ && tk_expect_punct(p, ',')) return -1;
    if (tk_is(p, "...")) {
      if (sig.variadic) return tk_error(p, "a second '...'");
      sig.variadic = 1;
      sig.nfixed = sig.nparams;
      if (tk_next(p)) return -1;
      continue;
    }
    if (sig.nparams >= AF_MAX_PARAMS)
      return tk_error_at(p, p->tok.line, p->tok.col, AF_ERR_LIMIT, "too many parameters (max %d)",
                         AF_MAX_PARAMS);
    if (tp_type(p, 0, &sig.params[sig.nparams])) return -1;
    sig.nparams++;
  }
  if (!sig.variadic) sig.nfixed = sig.nparams;
  if (tk_next(p) || tk_expect(p, "->") || tp_type(p, 1, &sig.ret) || tk_expect_punct(p, '{'))
    return -1;
  int fn = af_func_add(c, &sig, host);
  if (fn < 0) return tk_error_at(p, line, col, AF_ERR_LIMIT, "cannot add the function");
  while (!tk_is_punct(p, '}'))
    if (parse_inst(p, fn)) return -1;
  af_status s = af_fn_finish(c, fn);
  if (s != AF_OK) return tk_error_at(p, line, col, s, "cannot finish f%d: %s", fn, af_strerror(s));
  return tk_next(p);
}
