/* text_print.c - af_print: the canonical .case text of a case (doc/case-format.md). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "text_internal.h"

/* The printer is canonical: one spelling for every case, so that
 * af_print(af_parse(x)) == x byte for byte and a diff of two cases shows only
 * what differs. It never fails on a strange case (it prints what is there;
 * the parser's verifier rejects it later), and reads nothing outside the
 * arrays the case declares. */

const char *const af_text_cmp_names[AF_CMP_COUNT] = {"eq", "ne", "lt", "le"};

static const char *tname(const af_case *c, int t, char *buf) { return af_type_name(c, t, buf, 32); }

static void print_hex(FILE *o, const uint8_t *b, uint32_t n, const char *indent) {
  if (n == 0) {
    fputs("{}", o);
    return;
  }
  for (uint32_t i = 0; i < n; i++) {
    if (i && i % AF_TEXT_HEX_LINE == 0) fprintf(o, "\n%s", indent);
    fprintf(o, "%02x", b[i]);
  }
}

static uint64_t le_u64(const uint8_t *b, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; i--)
    v = (v << 8) | b[i];
  return v;
}

/* Decimal of a 128-bit magnitude (no sign). */
static void print_u128(FILE *o, unsigned __int128 v) {
  char buf[48];
  int n = 0;
  do {
    buf[n++] = (char)('0' + (int)(v % 10));
    v /= 10;
  } while (v);
  while (n)
    fputc(buf[--n], o);
}

/* IEEE binary16 by hand: no _Float16 needed in the compiler that builds this. */
static double f16_to_double(unsigned h) {
  int exp = (int)(h >> 10) & 0x1f;
  unsigned mant = h & 0x3ffu;
  double v = exp == 0    ? ldexp((double)mant, -24)
             : exp == 31 ? (mant ? NAN : INFINITY)
                         : ldexp((double)(mant | 0x400u), exp - 25);
  return (h & 0x8000u) ? -v : v;
}

/* Floats: the exact bit pattern, then the value as a comment for humans. */
static void print_float(FILE *o, int type, const uint8_t *b) {
  switch (type) {
  case AF_T_F16: {
    unsigned h = (unsigned)le_u64(b, 2);
    fprintf(o, "0x%04x  # %.5g", h, f16_to_double(h));
    break;
  }
  case AF_T_F32: {
    float f;
    memcpy(&f, b, 4);
    fprintf(o, "0x%08llx  # %.9g", (unsigned long long)le_u64(b, 4), (double)f);
    break;
  }
  case AF_T_F64: {
    double d;
    memcpy(&d, b, 8);
    fprintf(o, "0x%016llx  # %.17g", (unsigned long long)le_u64(b, 8), d);
    break;
  }
  default: { /* f80: sign+exponent (bytes 9-8), then the 64-bit mantissa */
    fprintf(o, "0x%04llx%016llx", (unsigned long long)le_u64(b + 8, 2),
            (unsigned long long)le_u64(b, 8));
    /* Only canonical encodings reach printf: old glibc printf_fp overflowed
     * on pseudo-denormals and unnormals (CVE-2020-29573). */
    unsigned exp = (unsigned)le_u64(b + 8, 2) & 0x7fffu;
    if (((b[7] >> 7) & 1) != (exp != 0)) {
      fputs("  # non-canonical", o);
    } else {
      long double ld = 0;
      memcpy(&ld, b, 10);
      fprintf(o, "  # %.21Lg", ld);
    }
    break;
  }
  }
}

/* A value of `v->type`; continuation lines of long hex start with `indent`. */
static void print_value(const af_case *c, FILE *o, const af_value *v, const char *indent) {
  int t = v->type;
  if (t == AF_T_PTR) {
    fprintf(o, "obj %d", v->obj);
    return;
  }
  uint32_t size = (t >= 0 && t < c->ntypes) ? c->types[t].size : 0;
  if (v->size < size || (size && !v->bytes)) { /* not a printable value: say so */
    fputs("{}", o);
    return;
  }
  const uint8_t *b = v->bytes;
  if (t == AF_T_BOOL) {
    fprintf(o, "%u", b[0]);
  } else if (t >= AF_T_I8 && t <= AF_T_U64) {
    const af_scalar_info *s = af_scalar((af_kind)t);
    uint64_t u = le_u64(b, s->size);
    if (s->is_signed) {
      int sh = 64 - 8 * s->size;
      int64_t x = sh ? (int64_t)(u << sh) >> sh : (int64_t)u;
      fprintf(o, "%lld", (long long)x);
    } else {
      fprintf(o, "%llu", (unsigned long long)u);
    }
  } else if (t == AF_T_I128 || t == AF_T_U128) {
    unsigned __int128 u = ((unsigned __int128)le_u64(b + 8, 8) << 64) | le_u64(b, 8);
    if (t == AF_T_I128 && (b[15] & 0x80)) {
      fputc('-', o);
      u = -u;
    }
    print_u128(o, u);
  } else if (t >= AF_T_F16 && t <= AF_T_F80) {
    print_float(o, t, b);
  } else {
    print_hex(o, b, size, indent);
  }
}

static void print_type(const af_case *c, FILE *o, int id) {
  const af_type *t = &c->types[id];
  char b[32];
  fprintf(o, "type t%d = ", id);
  if (t->kind == AF_T_ARRAY) {
    fprintf(o, "array %u x %s", t->count, tname(c, t->elem, b));
  } else {
    fputs(t->kind == AF_T_UNION ? "union" : "struct", o);
    if (t->packed) fputs(" packed", o);
    if (t->align) fprintf(o, " align %d", t->align);
    fputs(" {", o);
    for (int i = 0; i < t->nfields && t->fields; i++) {
      const af_field *f = &t->fields[i];
      fprintf(o, "%s %s", i ? "," : "", tname(c, f->type, b));
      if (f->bits >= 0) fprintf(o, ":%d", f->bits);
      if (f->align) fprintf(o, " align %d", f->align);
    }
    fputs(" }", o);
  }
  fprintf(o, "  # size %u align %u\n", t->size, t->alignment);
}

static void print_sig(const af_case *c, FILE *o, const af_sig *s) {
  char b[32];
  fputc('(', o);
  int n = s->nparams < 0 ? 0 : s->nparams > AF_MAX_PARAMS ? AF_MAX_PARAMS : s->nparams;
  int first = 1;
  for (int i = 0; i <= n; i++) {
    if (s->variadic && i == s->nfixed) {
      fprintf(o, "%s...", first ? "" : ", ");
      first = 0;
    }
    if (i == n) break;
    fprintf(o, "%s%s", first ? "" : ", ", tname(c, s->params[i], b));
    first = 0;
  }
  fprintf(o, ") -> %s", tname(c, s->ret, b));
}

static void print_args(FILE *o, const af_inst *in, int from, int to) {
  for (int k = from; k < to && k < AF_MAX_OPERANDS; k++)
    fprintf(o, " v%d", in->args[k]);
}

static void print_list(FILE *o, const af_inst *in) {
  int n = in->nargs < 0 ? 0 : in->nargs > AF_MAX_OPERANDS ? AF_MAX_OPERANDS : in->nargs;
  fputs(" (", o);
  for (int k = 0; k < n; k++)
    fprintf(o, "%sv%d", k ? ", " : "", in->args[k]);
  fputc(')', o);
}

static void print_path(FILE *o, const af_inst *in) {
  int n = in->npath < 0 ? 0 : in->npath > AF_MAX_PATH ? AF_MAX_PATH : in->npath;
  fputs(" [", o);
  for (int k = 0; k < n; k++)
    fprintf(o, "%s%d", k ? ", " : "", in->path[k]);
  fputc(']', o);
}

static void print_inst(const af_case *c, FILE *o, const af_inst *in) {
  char b[32];
  fputs("  ", o);
  if (in->dst >= 0) fprintf(o, "v%d = ", in->dst);
  fprintf(o, "%s %s", af_op_name(in->op), tname(c, in->type, b));
  switch (in->op) {
  case AF_OP_CONST:
    fputc(' ', o);
    print_value(c, o, &in->cst, "    ");
    break;
  case AF_OP_CMP:
    fprintf(o, " %s", (uint64_t)in->imm < AF_CMP_COUNT ? af_text_cmp_names[in->imm] : "?");
    print_args(o, in, 0, 2);
    break;
  case AF_OP_SELECT: print_args(o, in, 0, 3); break;
  case AF_OP_SEXT:
  case AF_OP_ZEXT:
  case AF_OP_TRUNC:
  case AF_OP_FCONV:
  case AF_OP_FTOI:
  case AF_OP_ITOF:
  case AF_OP_BITCAST: print_args(o, in, 0, 1); break;
  case AF_OP_GET:
    print_args(o, in, 0, 1);
    print_path(o, in);
    break;
  case AF_OP_SET:
    print_args(o, in, 0, 2);
    print_path(o, in);
    break;
  case AF_OP_LOAD:
    print_args(o, in, 0, 1);
    fprintf(o, " %+lld", (long long)in->imm);
    break;
  case AF_OP_STORE:
    print_args(o, in, 0, 1);
    fprintf(o, " %+lld", (long long)in->imm);
    print_args(o, in, 1, 2);
    break;
  case AF_OP_LOCAL: fprintf(o, " %lld", (long long)in->imm); break;
  case AF_OP_CALL:
    fprintf(o, " f%lld", (long long)in->imm);
    print_list(o, in);
    break;
  case AF_OP_MIX:
    fprintf(o, " 0x%llx", (unsigned long long)in->imm);
    print_list(o, in);
    break;
  case AF_OP_RET:
    if (in->type != AF_T_VOID) print_args(o, in, 0, 1);
    break;
  default: print_args(o, in, 0, 2); break; /* the binary integer and float ops */
  }
  fputc('\n', o);
}

static void print_func(const af_case *c, FILE *o, int i) {
  const af_func *f = &c->funcs[i];
  fprintf(o, "\nfunc f%d %s%s ", i, f->host ? "host " : "", af_cc_name(f->sig.cc));
  print_sig(c, o, &f->sig);
  fputs(" {\n", o);
  for (int k = 0; k < f->ninsts && f->insts; k++)
    print_inst(c, o, &f->insts[k]);
  fputs("}\n", o);
}

af_status af_print(const af_case *c, FILE *o) {
  fprintf(o, AF_TEXT_HEADER1 "%d\n", c->gen_version);
  fprintf(o, "# seed %llu index %llu abi %s\n", (unsigned long long)c->seed,
          (unsigned long long)c->index, af_cc_name(c->cc));
  int nt = c->ntypes > AF_MAX_TYPES ? AF_MAX_TYPES : c->ntypes;
  if (nt > AF_T_NSCALAR) fputc('\n', o);
  for (int id = AF_T_NSCALAR; id < nt; id++)
    print_type(c, o, id);
  int no = c->nobjects > AF_MAX_OBJECTS ? AF_MAX_OBJECTS : c->nobjects;
  for (int k = 0; k < no; k++) {
    fprintf(o, "\nobject %d =\n  ", k);
    print_hex(o, c->objects[k].init, AF_REGION_SIZE, "  ");
    fputc('\n', o);
  }
  int nf = c->nfuncs > AF_MAX_FUNCS ? AF_MAX_FUNCS : c->nfuncs;
  for (int i = 0; i < nf; i++)
    print_func(c, o, i);
  fprintf(o, "\nentry f%d\n", c->entry);
  int ni = c->ninputs > AF_MAX_PARAMS ? AF_MAX_PARAMS : c->ninputs;
  for (int i = 0; i < ni; i++) {
    char b[32];
    fprintf(o, "input %s ", tname(c, c->inputs[i].type, b));
    print_value(c, o, &c->inputs[i], "    ");
    fputc('\n', o);
  }
  return ferror(o) ? AF_ERR_IO : AF_OK;
}

af_status af_print_str(const af_case *c, char **out, size_t *len) {
  char *buf = NULL;
  size_t n = 0;
  FILE *o = open_memstream(&buf, &n);
  if (!o) return AF_ERR_NOMEM;
  af_status s = af_print(c, o);
  if (fclose(o) != 0 && s == AF_OK) s = AF_ERR_NOMEM;
  if (s != AF_OK) {
    free(buf);
    *out = NULL;
    if (len) *len = 0;
    return s;
  }
  *out = buf;
  if (len) *len = n;
  return AF_OK;
}
