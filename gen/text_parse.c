/* text_parse.c - af_parse: .case text -> af_case (header, types, objects, entry, inputs). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "text_parse_internal.h"
#include "verify_internal.h"

/* The grammar is in doc/case-format.md. The parser is written for hostile
 * input (it is fuzzed): every read is bounded by the text's length, numbers
 * are overflow-checked, every limit (AF_MAX_*) is checked before an array is
 * written, the grammar has no recursion, and every loop consumes a token or
 * stops at the first error. Statements come in sections: types, objects,
 * functions, entry and inputs; the layout runs when the types are complete,
 * so that values can be sized, and af_verify runs at the end. */

/* ---- numbers and names ---- */

static int hexval(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

/* The current word as [+-]digits or [+-]0xHEX: 0 ok, -1 not a number,
 * -2 too large for 128 bits. */
static int word_number(const tk_token *t, int *neg, unsigned __int128 *out) {
  size_t i = 0;
  *neg = 0;
  if (t->kind != TK_WORD) return -1;
  if (i < t->n && (t->s[i] == '-' || t->s[i] == '+')) *neg = t->s[i++] == '-';
  unsigned base = 10;
  if (i + 1 < t->n && t->s[i] == '0' && (t->s[i + 1] == 'x' || t->s[i + 1] == 'X')) {
    base = 16;
    i += 2;
  }
  if (i >= t->n) return -1;
  unsigned __int128 v = 0, max = ~(unsigned __int128)0;
  for (; i < t->n; i++) {
    int d = hexval(t->s[i]);
    if (d < 0 || (unsigned)d >= base) return -1;
    if (v > (max - (unsigned)d) / base) return -2;
    v = v * base + (unsigned)d;
  }
  *out = v;
  return 0;
}

int tp_int(tk_parser *p, const char *what, int64_t min, int64_t max, int64_t *out) {
  int neg;
  unsigned __int128 m;
  char b[40];
  int r = word_number(&p->tok, &neg, &m);
  if (r == -1) return tk_error(p, "expected %s, found %s", what, tk_describe(p, b, sizeof b));
  __int128 v = 0;
  if (r == 0 && m <= ((unsigned __int128)1 << 100)) v = neg ? -(__int128)m : (__int128)m;
  if (r == -2 || m > ((unsigned __int128)1 << 100) || v < min || v > max)
    return tk_error(p, "%s out of range (%lld..%lld)", what, (long long)min, (long long)max);
  *out = (int64_t)v;
  return tk_next(p);
}

/* "v12", "f3", "t21": a letter and a decimal index in 0..max. */
int tp_index(tk_parser *p, char prefix, const char *what, int max, int *out) {
  char b[40];
  const tk_token *t = &p->tok;
  int ok = t->kind == TK_WORD && t->n >= 2 && t->n <= 10 && t->s[0] == prefix;
  int64_t v = 0;
  for (size_t i = 1; ok && i < t->n; i++) {
    if (t->s[i] < '0' || t->s[i] > '9')
      ok = 0;
    else
      v = v * 10 + (t->s[i] - '0');
  }
  if (!ok)
    return tk_error(p, "expected %s (%c<number>), found %s", what, prefix,
                    tk_describe(p, b, sizeof b));
  if (v > max)
    return tk_error(p, "%s %c%lld out of range (max %d)", what, prefix, (long long)v, max);
  *out = (int)v;
  return tk_next(p);
}

int tp_type(tk_parser *p, int allow_void, int *out) {
  char b[40];
  if (p->tok.kind == TK_WORD && p->tok.n >= 2 && p->tok.s[0] == 't' && p->tok.s[1] >= '0' &&
      p->tok.s[1] <= '9') {
    int line = p->tok.line, col = p->tok.col, id;
    if (tp_index(p, 't', "type", AF_MAX_TYPES, &id)) return -1;
    if (id < AF_T_NSCALAR || id >= p->c->ntypes)
      return tk_error_at(p, line, col, AF_ERR_PARSE, "type t%d is not defined", id);
    *out = id;
    return 0;
  }
  for (int k = 0; k < AF_T_NSCALAR && p->tok.kind == TK_WORD; k++)
    if (tk_is(p, af_scalar((af_kind)k)->name)) {
      if (k == AF_T_VOID && !allow_void) return tk_error(p, "void is not allowed here");
      *out = k;
      return tk_next(p);
    }
  return tk_error(p, "expected a type, found %s", tk_describe(p, b, sizeof b));
}

/* ---- values ---- */

/* n bytes as hex words (any split into words of whole bytes); "{}" when n == 0. */
int tp_hex(tk_parser *p, uint8_t *dst, uint32_t n) {
  char b[40];
  if (n == 0) {
    if (tk_expect_punct(p, '{')) return -1;
    return tk_expect_punct(p, '}');
  }
  uint32_t got = 0;
  while (got < n) {
    const tk_token *t = &p->tok;
    int ok = t->kind == TK_WORD && t->n % 2 == 0 && t->n / 2 <= n - got;
    for (size_t i = 0; ok && i < t->n; i++)
      ok = hexval(t->s[i]) >= 0;
    if (!ok)
      return tk_error(p, "expected %u more byte%s of hex, found %s", n - got,
                      n - got > 1 ? "s" : "", tk_describe(p, b, sizeof b));
    for (size_t i = 0; i < t->n; i += 2)
      dst[got++] = (uint8_t)(hexval(t->s[i]) << 4 | hexval(t->s[i + 1]));
    if (tk_next(p)) return -1;
  }
  return 0;
}

/* 0x + 1..2*size hex digits: the bit pattern of f16 f32 f64 (size 2 4 8) or
 * f80 (10 bytes), stored little-endian. */
static int parse_float(tk_parser *p, int size, uint8_t *dst) {
  const tk_token *t = &p->tok;
  char b[40];
  size_t nd = t->n >= 2 ? t->n - 2 : 0;
  int ok = t->kind == TK_WORD && t->n > 2 && t->s[0] == '0' && (t->s[1] == 'x' || t->s[1] == 'X') &&
           nd <= (size_t)size * 2;
  unsigned __int128 v = 0;
  for (size_t i = 2; ok && i < t->n; i++) {
    int d = hexval(t->s[i]);
    if (d < 0) ok = 0;
    v = v << 4 | (unsigned)(d < 0 ? 0 : d);
  }
  if (!ok)
    return tk_error(p, "expected a %d-bit float pattern (0x and up to %d hex digits), found %s",
                    size * 8, size * 2, tk_describe(p, b, sizeof b));
  for (int i = 0; i < size; i++)
    dst[i] = (uint8_t)(v >> (8 * i));
  return tk_next(p);
}

static int parse_intval(tk_parser *p, int type, uint8_t *dst) {
  const af_scalar_info *s = af_scalar((af_kind)type);
  int bits = 8 * s->size, neg;
  unsigned __int128 m;
  char b[40];
  int r = word_number(&p->tok, &neg, &m);
  if (r == -1)
    return tk_error(p, "expected a %s value, found %s", s->name, tk_describe(p, b, sizeof b));
  unsigned __int128 lim = s->is_signed  ? ((unsigned __int128)1 << (bits - 1)) - (neg ? 0 : 1)
                          : bits == 128 ? ~(unsigned __int128)0
                                        : ((unsigned __int128)1 << bits) - 1;
  if (r == -2 || m > lim || (neg && !s->is_signed && m != 0))
    return tk_error(p, "%s value out of range", s->name);
  unsigned __int128 v = neg ? -m : m;
  for (int i = 0; i < s->size; i++)
    dst[i] = (uint8_t)(v >> (8 * i));
  return tk_next(p);
}

int tp_value(tk_parser *p, int type, af_value *v) {
  af_case *c = p->c;
  if (type == AF_T_VOID) return tk_error(p, "there is no value of type void");
  af_status s = af_value_init(c, v, type);
  if (s != AF_OK)
    return tk_error_at(p, p->tok.line, p->tok.col, s, "cannot make a value: %s", af_strerror(s));
  if (type == AF_T_PTR) {
    int64_t k;
    if (tk_expect(p, "obj") || tp_int(p, "object index", 0, AF_MAX_OBJECTS - 1, &k)) return -1;
    v->obj = (int)k;
    return 0;
  }
  if (type == AF_T_BOOL) {
    int64_t k;
    if (tp_int(p, "bool (0 or 1)", 0, 1, &k)) return -1;
    v->bytes[0] = (uint8_t)k;
    return 0;
  }
  if (type >= AF_T_I8 && type <= AF_T_U128) return parse_intval(p, type, v->bytes);
  if (type >= AF_T_F16 && type <= AF_T_F64) return parse_float(p, (int)v->size, v->bytes);
  if (type == AF_T_F80) return parse_float(p, 10, v->bytes);
  return tp_hex(p, v->bytes, v->size);
}

/* ---- statements ---- */

static int parse_typedecl(tk_parser *p) {
  af_case *c = p->c;
  int id, line = p->tok.line, col = p->tok.col;
  if (tk_expect(p, "type")) return -1;
  if (tp_index(p, 't', "type", AF_MAX_TYPES, &id)) return -1;
  if (c->ntypes >= AF_MAX_TYPES)
    return tk_error_at(p, line, col, AF_ERR_LIMIT, "too many types (max %d)", AF_MAX_TYPES);
  if (id != c->ntypes)
    return tk_error_at(p, line, col, AF_ERR_PARSE, "expected type t%d next (types in order)",
                       c->ntypes);
  if (tk_expect_punct(p, '=')) return -1;
  if (tk_is(p, "array")) {
    int64_t count;
    int elem;
    if (tk_next(p) || tp_int(p, "array count", 1, UINT32_MAX, &count) || tk_expect(p, "x") ||
        tp_type(p, 0, &elem))
      return -1;
    if (af_type_add_array(c, elem, (uint32_t)count) < 0)
      return tk_error_at(p, line, col, AF_ERR_NOMEM, "cannot add the type");
    return 0;
  }
  af_kind kind;
  if (tk_is(p, "struct"))
    kind = AF_T_STRUCT;
  else if (tk_is(p, "union"))
    kind = AF_T_UNION;
  else
    return tk_error(p, "expected struct, union or array");
  int packed = 0;
  int64_t align = 0;
  if (tk_next(p)) return -1;
  if (tk_is(p, "packed")) {
    packed = 1;
    if (tk_next(p)) return -1;
  }
  if (tk_is(p, "align") && (tk_next(p) || tp_int(p, "alignment", 1, 4096, &align))) return -1;
  if (tk_expect_punct(p, '{')) return -1;
  af_field fields[AF_MAX_FIELDS];
  int n = 0;
  while (!tk_is_punct(p, '}')) {
    if (n && tk_expect_punct(p, ',')) return -1;
    if (n >= AF_MAX_FIELDS)
      return tk_error_at(p, p->tok.line, p->tok.col, AF_ERR_LIMIT, "too many fields (max %d)",
                         AF_MAX_FIELDS);
    af_field *f = &fields[n];
    memset(f, 0, sizeof *f);
    f->bits = -1;
    int64_t v;
    if (tp_type(p, 0, &f->type)) return -1;
    if (tk_is_punct(p, ':')) {
      if (tk_next(p) || tp_int(p, "bit-field width", 0, 128, &v)) return -1;
      f->bits = (int)v;
    }
    if (tk_is(p, "align")) {
      if (tk_next(p) || tp_int(p, "alignment", 1, 4096, &v)) return -1;
      f->align = (int)v;
    }
    n++;
  }
  if (tk_next(p)) return -1; /* the '}' */
  if (af_type_add_struct(c, kind, n, fields, packed, (int)align) < 0)
    return tk_error_at(p, line, col, AF_ERR_NOMEM, "cannot add the type");
  return 0;
}

static int parse_object(tk_parser *p) {
  af_case *c = p->c;
  int line = p->tok.line, col = p->tok.col;
  int64_t k;
  if (tk_expect(p, "object") || tp_int(p, "object index", 0, AF_MAX_OBJECTS, &k)) return -1;
  if (c->nobjects >= AF_MAX_OBJECTS)
    return tk_error_at(p, line, col, AF_ERR_LIMIT, "too many objects (max %d)", AF_MAX_OBJECTS);
  if (k != c->nobjects)
    return tk_error_at(p, line, col, AF_ERR_PARSE, "expected object %d next (objects in order)",
                       c->nobjects);
  if (tk_expect_punct(p, '=')) return -1;
  if (tp_hex(p, c->objects[c->nobjects].init, AF_REGION_SIZE)) return -1;
  c->nobjects++;
  return 0;
}

static int parse_entry(tk_parser *p) {
  int f;
  if (tk_expect(p, "entry") || tp_index(p, 'f', "function", AF_MAX_FUNCS, &f)) return -1;
  p->c->entry = f;
  return 0;
}

static int parse_input(tk_parser *p) {
  af_case *c = p->c;
  int line = p->tok.line, col = p->tok.col, type;
  if (tk_expect(p, "input")) return -1;
  if (c->ninputs >= AF_MAX_PARAMS)
    return tk_error_at(p, line, col, AF_ERR_LIMIT, "too many inputs (max %d)", AF_MAX_PARAMS);
  if (tp_type(p, 0, &type) || tp_value(p, type, &c->inputs[c->ninputs])) return -1;
  c->ninputs++;
  return 0;
}

/* err->msg = "name: msg", truncated to fit. */
static void set_prefixed(af_error *err, const char *name, const char *msg) {
  size_t cap = sizeof err->msg - 1, n = 0;
  for (const char *parts[3] = {name, ": ", msg}, **q = parts; q < parts + 3; q++)
    for (const char *s = *q; *s && n < cap; s++)
      err->msg[n++] = *s;
  err->msg[n] = 0;
}

/* Types are complete: check their shape (for a message naming the type),
 * then compute the layout so that values can be sized. */
static int finish_types(tk_parser *p) {
  af_error e;
  if (af_verify_types_shape(p->c, &e) != AF_OK) {
    set_prefixed(p->err, p->name, e.msg);
    p->status = AF_ERR_INVALID;
    return -1;
  }
  af_status s = af_layout(p->c);
  if (s != AF_OK) {
    snprintf(p->err->msg, sizeof p->err->msg, "%s: type layout failed: %s (a type over %d bytes?)",
             p->name, af_strerror(s), AF_MAX_TYPE_SIZE);
    p->status = AF_ERR_INVALID;
    return -1;
  }
  return 0;
}

/* Section order: 0 types, 1 objects, 2 functions, 3 entry and inputs. */
static int parse_statements(tk_parser *p) {
  int section = 0, laid_out = 0;
  char b[40];
  while (p->status == AF_OK && p->tok.kind != TK_EOF) {
    if (tk_is(p, "type")) {
      if (section > 0) return tk_error(p, "types must come before objects and functions");
      if (parse_typedecl(p)) return -1;
      continue;
    }
    if (!laid_out) {
      if (finish_types(p)) return -1;
      laid_out = 1;
    }
    int r;
    if (tk_is(p, "object")) {
      if (section > 1) return tk_error(p, "objects must come before functions");
      section = 1;
      r = parse_object(p);
    } else if (tk_is(p, "func")) {
      if (section > 2) return tk_error(p, "functions must come before the entry");
      section = 2;
      r = tp_func(p);
    } else if (tk_is(p, "entry")) {
      if (section == 3) return tk_error(p, "a second entry");
      section = 3;
      r = parse_entry(p);
    } else if (tk_is(p, "input")) {
      if (section != 3) return tk_error(p, "inputs come after the entry");
      r = parse_input(p);
    } else {
      return tk_error(p, "expected type, object, func, entry or input, found %s",
                      tk_describe(p, b, sizeof b));
    }
    if (r) return -1;
  }
  if (p->status != AF_OK) return -1;
  if (!laid_out && finish_types(p)) return -1;
  if (section < 3) return tk_error(p, "missing 'entry'");
  return 0;
}

/* ---- the header: two comment lines, read byte by byte ---- */

static int hdr_lit(tk_parser *p, const char *lit, const char *what) {
  for (size_t i = 0; lit[i]; i++) {
    if (p->pos >= p->len || p->text[p->pos] != lit[i])
      return tk_error_at(p, p->line, p->col, AF_ERR_PARSE, "expected the header line '%s'", what);
    p->pos++;
    p->col++;
  }
  return 0;
}

static int hdr_num(tk_parser *p, uint64_t max, uint64_t *out) {
  uint64_t v = 0;
  int line = p->line, col = p->col, nd = 0;
  while (p->pos < p->len && p->text[p->pos] >= '0' && p->text[p->pos] <= '9') {
    unsigned d = (unsigned)(p->text[p->pos] - '0');
    if (v > (max - d) / 10) return tk_error_at(p, line, col, AF_ERR_PARSE, "number too large");
    v = v * 10 + d;
    p->pos++;
    p->col++;
    nd++;
  }
  if (!nd) return tk_error_at(p, line, col, AF_ERR_PARSE, "expected a number");
  *out = v;
  return 0;
}

static int hdr_eol(tk_parser *p) {
  if (p->pos >= p->len || p->text[p->pos] != '\n')
    return tk_error_at(p, p->line, p->col, AF_ERR_PARSE, "expected the end of the header line");
  p->pos++;
  p->line++;
  p->col = 1;
  return 0;
}

static int parse_header(tk_parser *p) {
  static const char l1[] = AF_TEXT_HEADER1 "N", l2[] = "# seed S index I abi CC";
  uint64_t ver, seed, index;
  if (hdr_lit(p, AF_TEXT_HEADER1, l1) || hdr_num(p, INT32_MAX, &ver) || hdr_eol(p)) return -1;
  if (hdr_lit(p, "# seed ", l2) || hdr_num(p, UINT64_MAX, &seed) || hdr_lit(p, " index ", l2) ||
      hdr_num(p, UINT64_MAX, &index) || hdr_lit(p, " abi ", l2))
    return -1;
  char cc[8];
  size_t n = 0;
  int col = p->col;
  while (p->pos < p->len && n < 7 &&
         ((p->text[p->pos] >= 'a' && p->text[p->pos] <= 'z') ||
          (p->text[p->pos] >= '0' && p->text[p->pos] <= '9'))) {
    cc[n++] = p->text[p->pos++];
    p->col++;
  }
  cc[n] = 0;
  af_cc k;
  if (af_cc_parse(cc, &k))
    return tk_error_at(p, p->line, col, AF_ERR_PARSE, "unknown calling convention '%s'", cc);
  if (hdr_eol(p)) return -1;
  p->c->gen_version = (int)ver;
  p->c->seed = seed;
  p->c->index = index;
  p->c->cc = k;
  return 0;
}

af_status af_parse(const char *name, const char *text, size_t len, af_case *out, af_error *err) {
  af_error dummy;
  if (!err) err = &dummy;
  err->msg[0] = 0;
  af_case_init(out);
  if (!name) name = "<text>";
  if (!text) len = 0;
  if (len > ((size_t)1 << 28)) {
    snprintf(err->msg, sizeof err->msg, "%s: text of %zu bytes is too large", name, len);
    return AF_ERR_LIMIT;
  }
  tk_parser P = {.name = name,
                 .text = text ? text : "",
                 .len = len,
                 .line = 1,
                 .col = 1,
                 .c = out,
                 .err = err,
                 .status = AF_OK};
  tk_parser *p = &P;
  if (parse_header(p) == 0 && tk_start(p) == 0) parse_statements(p);
  if (p->status != AF_OK) return p->status;
  af_error e;
  af_status s = af_verify(out, &e);
  if (s != AF_OK) {
    set_prefixed(err, name, e.msg);
    return s;
  }
  return AF_OK;
}

af_status af_parse_file(const char *path, af_case *out, af_error *err) {
  af_error dummy;
  if (!err) err = &dummy;
  FILE *f = fopen(path, "rb");
  if (!f) {
    af_case_init(out);
    snprintf(err->msg, sizeof err->msg, "%s: cannot open: %s", path, strerror(errno));
    return AF_ERR_IO;
  }
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  af_status s = buf ? AF_OK : AF_ERR_NOMEM;
  while (s == AF_OK) {
    if (n == cap) {
      char *nb = cap >= ((size_t)1 << 28) ? NULL : realloc(buf, cap * 2);
      if (!nb) {
        s = cap >= ((size_t)1 << 28) ? AF_ERR_LIMIT : AF_ERR_NOMEM;
        break;
      }
      buf = nb;
      cap *= 2;
    }
    size_t r = fread(buf + n, 1, cap - n, f);
    n += r;
    if (r == 0) break;
  }
  if (s == AF_OK && ferror(f)) s = AF_ERR_IO;
  fclose(f);
  if (s != AF_OK) {
    free(buf);
    af_case_init(out);
    snprintf(err->msg, sizeof err->msg, "%s: cannot read: %s", path, af_strerror(s));
    return s;
  }
  s = af_parse(path, buf, n, out, err);
  free(buf);
  return s;
}
