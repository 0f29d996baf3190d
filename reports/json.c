/* json.c - the JSON reader the reports use (summary.json, report.json) and output escaping. */
#define _GNU_SOURCE /* asprintf, vasprintf */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "rp_json.h"

typedef struct {
  const char *p, *end, *start;
  char *err;
  size_t nerr;
  int depth;
} rj_parser;

static void fail(rj_parser *ps, const char *fmt, ...) {
  if (ps->err[0]) return; /* keep the first error */
  int line = 1, col = 1;
  for (const char *q = ps->start; q < ps->p && q < ps->end; q++)
    if (*q == '\n')
      line++, col = 1;
    else
      col++;
  char msg[160];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  snprintf(ps->err, ps->nerr, "line %d col %d: %s", line, col, msg);
}

static void skip_ws(rj_parser *ps) {
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
    ps->p++;
}

void rj_free(rj *v) {
  if (!v) return;
  for (int i = 0; i < v->n; i++) {
    rj_free(v->items[i]);
    if (v->keys) free(v->keys[i]);
  }
  free(v->items);
  free(v->keys);
  free(v->s);
  free(v);
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int hex4(rj_parser *ps, unsigned *out) {
  if (ps->end - ps->p < 4) return -1;
  unsigned x = 0;
  for (int i = 0; i < 4; i++) {
    int h = hexval(ps->p[i]);
    if (h < 0) return -1;
    x = x * 16 + (unsigned)h;
  }
  ps->p += 4;
  *out = x;
  return 0;
}

static size_t put_utf8(char *d, unsigned cp) {
  if (cp < 0x80) return d[0] = (char)cp, 1;
  if (cp < 0x800) return d[0] = (char)(0xc0 | cp >> 6), d[1] = (char)(0x80 | (cp & 0x3f)), 2;
  if (cp < 0x10000) {
    d[0] = (char)(0xe0 | cp >> 12), d[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
    d[2] = (char)(0x80 | (cp & 0x3f));
    return 3;
  }
  d[0] = (char)(0xf0 | cp >> 18), d[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
  d[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), d[3] = (char)(0x80 | (cp & 0x3f));
  return 4;
}

/* A string after its opening quote; the decoded text is never longer than the source. */
static char *parse_string(rj_parser *ps, size_t *len) {
  const char *q = ps->p;
  while (q < ps->end && *q != '"')
    q += *q == '\\' ? 2 : 1;
  if (q >= ps->end) return fail(ps, "unterminated string"), NULL;
  char *s = malloc((size_t)(q - ps->p) + 1), *d = s;
  if (!s) return fail(ps, "out of memory"), NULL;
  while (*ps->p != '"') {
    unsigned char ch = (unsigned char)*ps->p++;
    if (ch < 0x20) return ps->p--, fail(ps, "control character in a string"), free(s), NULL;
    if (ch != '\\') {
      *d++ = (char)ch;
      continue;
    }
    char e = *ps->p++;
    switch (e) {
    case '"': *d++ = '"'; break;
    case '\\': *d++ = '\\'; break;
    case '/': *d++ = '/'; break;
    case 'b': *d++ = '\b'; break;
    case 'f': *d++ = '\f'; break;
    case 'n': *d++ = '\n'; break;
    case 'r': *d++ = '\r'; break;
    case 't': *d++ = '\t'; break;
    case 'u': {
      unsigned cp, lo;
      if (hex4(ps, &cp)) return fail(ps, "bad \\u escape"), free(s), NULL;
      if (cp >= 0xd800 && cp < 0xdc00 && ps->end - ps->p >= 6 && ps->p[0] == '\\' &&
          ps->p[1] == 'u') {
        ps->p += 2;
        if (hex4(ps, &lo) || lo < 0xdc00 || lo > 0xdfff)
          return fail(ps, "bad surrogate pair"), free(s), NULL;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
      }
      d += put_utf8(d, cp); /* at most 4 bytes for 6 or 12 source bytes */
      break;
    }
    default: ps->p--; return fail(ps, "bad escape '\\%c'", e), free(s), NULL;
    }
  }
  ps->p++;
  *d = 0;
  *len = (size_t)(d - s);
  return s;
}

static rj *new_value(rj_parser *ps, rj_kind k) {
  rj *v = calloc(1, sizeof *v);
  if (!v)
    fail(ps, "out of memory");
  else
    v->kind = k;
  return v;
}

static int push(rj_parser *ps, rj *v, rj *item, char *key) {
  if ((v->n & (v->n - 1)) == 0) { /* grow at powers of two */
    int cap = v->n ? v->n * 2 : 4;
    rj **ni = realloc(v->items, (size_t)cap * sizeof *ni);
    if (!ni) return fail(ps, "out of memory"), -1;
    v->items = ni;
    if (v->kind == RJ_OBJ) {
      char **nk = realloc(v->keys, (size_t)cap * sizeof *nk);
      if (!nk) return fail(ps, "out of memory"), -1;
      v->keys = nk;
    }
  }
  v->items[v->n] = item;
  if (v->kind == RJ_OBJ) v->keys[v->n] = key;
  v->n++;
  return 0;
}

static rj *parse_value(rj_parser *ps);

static rj *parse_container(rj_parser *ps, int is_obj) {
  if (++ps->depth > 64) return fail(ps, "nested deeper than 64"), NULL;
  rj *v = new_value(ps, is_obj ? RJ_OBJ : RJ_ARR);
  if (!v) return NULL;
  ps->p++;
  skip_ws(ps);
  if (ps->p < ps->end && *ps->p == (is_obj ? '}' : ']')) {
    ps->p++, ps->depth--;
    return v;
  }
  for (;;) {
    char *key = NULL;
    skip_ws(ps);
    if (is_obj) {
      size_t kl;
      if (ps->p >= ps->end || *ps->p != '"') return fail(ps, "expected a key"), rj_free(v), NULL;
      ps->p++;
      if (!(key = parse_string(ps, &kl))) return rj_free(v), NULL;
      skip_ws(ps);
      if (ps->p >= ps->end || *ps->p != ':')
        return fail(ps, "expected ':'"), free(key), rj_free(v), NULL;
      ps->p++;
    }
    rj *item = parse_value(ps);
    if (!item || push(ps, v, item, key)) return free(key), rj_free(item), rj_free(v), NULL;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ',') {
      ps->p++;
      continue;
    }
    if (ps->p < ps->end && *ps->p == (is_obj ? '}' : ']')) {
      ps->p++, ps->depth--;
      return v;
    }
    fail(ps, is_obj ? "expected ',' or '}'" : "expected ',' or ']'");
    return rj_free(v), NULL;
  }
}

static rj *parse_number(rj_parser *ps) {
  const char *q = ps->p;
  if (q < ps->end && *q == '-') q++;
  if (q >= ps->end || *q < '0' || *q > '9') return fail(ps, "unexpected character"), NULL;
  if (*q == '0' && q + 1 < ps->end && q[1] >= '0' && q[1] <= '9')
    return fail(ps, "leading zero"), NULL;
  while (q < ps->end && *q >= '0' && *q <= '9')
    q++;
  if (q < ps->end && *q == '.') {
    q++;
    if (q >= ps->end || *q < '0' || *q > '9') return ps->p = q, fail(ps, "bad number"), NULL;
    while (q < ps->end && *q >= '0' && *q <= '9')
      q++;
  }
  if (q < ps->end && (*q == 'e' || *q == 'E')) {
    q++;
    if (q < ps->end && (*q == '+' || *q == '-')) q++;
    if (q >= ps->end || *q < '0' || *q > '9') return ps->p = q, fail(ps, "bad number"), NULL;
    while (q < ps->end && *q >= '0' && *q <= '9')
      q++;
  }
  rj *v = new_value(ps, RJ_NUM);
  if (!v) return NULL;
  size_t n = (size_t)(q - ps->p);
  if (!(v->s = malloc(n + 1))) return fail(ps, "out of memory"), rj_free(v), NULL;
  memcpy(v->s, ps->p, n);
  v->s[n] = 0;
  v->slen = n;
  v->num = strtod(v->s, NULL);
  ps->p = q;
  return v;
}

static rj *parse_word(rj_parser *ps, const char *w, rj_kind k, int b) {
  size_t n = strlen(w);
  if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, w, n))
    return fail(ps, "unexpected character"), NULL;
  rj *v = new_value(ps, k);
  if (v) v->b = b, ps->p += n;
  return v;
}

static rj *parse_value(rj_parser *ps) {
  skip_ws(ps);
  if (ps->p >= ps->end) return fail(ps, "unexpected end of input"), NULL;
  switch (*ps->p) {
  case '{': return parse_container(ps, 1);
  case '[': return parse_container(ps, 0);
  case '"': {
    ps->p++;
    rj *v = new_value(ps, RJ_STR);
    if (v && !(v->s = parse_string(ps, &v->slen))) rj_free(v), v = NULL;
    return v;
  }
  case 't': return parse_word(ps, "true", RJ_BOOL, 1);
  case 'f': return parse_word(ps, "false", RJ_BOOL, 0);
  case 'n': return parse_word(ps, "null", RJ_NULL, 0);
  default: return parse_number(ps);
  }
}

rj *rj_parse(const char *text, size_t len, char *err, size_t nerr) {
  char dummy[8];
  if (!err || !nerr) err = dummy, nerr = sizeof dummy;
  err[0] = 0;
  rj_parser ps = {text, text + len, text, err, nerr, 0};
  rj *v = parse_value(&ps);
  if (!v) return NULL;
  skip_ws(&ps);
  if (ps.p != ps.end) return fail(&ps, "text after the value"), rj_free(v), NULL;
  return v;
}

rj *rj_parse_file(const char *path, char *err, size_t nerr) {
  FILE *f = fopen(path, "rb");
  if (!f) return snprintf(err, nerr, "cannot read: %s", strerror(errno)), NULL;
  char *buf = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len == cap) {
      cap = cap ? cap * 2 : 65536;
      char *nb = realloc(buf, cap);
      if (!nb) return free(buf), fclose(f), snprintf(err, nerr, "out of memory"), NULL;
      buf = nb;
    }
    size_t r = fread(buf + len, 1, cap - len, f);
    len += r;
    if (r == 0) break;
  }
  int bad = ferror(f);
  fclose(f);
  if (bad) return free(buf), snprintf(err, nerr, "cannot read: i/o error"), NULL;
  rj *v = rj_parse(buf ? buf : "", len, err, nerr);
  free(buf);
  return v;
}

const rj *rj_get(const rj *o, const char *key) {
  if (!o || o->kind != RJ_OBJ) return NULL;
  for (int i = 0; i < o->n; i++)
    if (!strcmp(o->keys[i], key)) return o->items[i];
  return NULL;
}

const char *rj_str(const rj *o, const char *key) {
  const rj *v = rj_get(o, key);
  return v && v->kind == RJ_STR ? v->s : NULL;
}

int rj_u64(const rj *o, const char *key, uint64_t *out) {
  const rj *v = rj_get(o, key);
  if (!v || v->kind != RJ_NUM || v->s[0] == '-') return -1;
  char *e;
  errno = 0;
  unsigned long long x = strtoull(v->s, &e, 10);
  if (errno || *e) return -1;
  *out = x;
  return 0;
}

int rj_truthy(const rj *v) {
  if (!v) return 0;
  switch (v->kind) {
  case RJ_NULL: return 0;
  case RJ_BOOL: return v->b;
  case RJ_NUM: return v->num != 0;
  case RJ_STR: return v->slen != 0;
  default: return 1;
  }
}

void rp_json_str(FILE *out, const char *s) {
  fputc('"', out);
  for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
    if (*p == '"' || *p == '\\')
      fprintf(out, "\\%c", *p);
    else if (*p == '\n')
      fputs("\\n", out);
    else if (*p == '\t')
      fputs("\\t", out);
    else if (*p < 0x20)
      fprintf(out, "\\u%04x", *p);
    else
      fputc(*p, out);
  }
  fputc('"', out);
}

void rj_write(const rj *v, FILE *out) {
  if (!v) return (void)fputs("null", out);
  switch (v->kind) {
  case RJ_NULL: fputs("null", out); break;
  case RJ_BOOL: fputs(v->b ? "true" : "false", out); break;
  case RJ_NUM: fputs(v->s, out); break;
  case RJ_STR: rp_json_str(out, v->s); break;
  case RJ_ARR:
  case RJ_OBJ:
    fputc(v->kind == RJ_ARR ? '[' : '{', out);
    for (int i = 0; i < v->n; i++) {
      if (i) fputs(", ", out);
      if (v->kind == RJ_OBJ) rp_json_str(out, v->keys[i]), fputs(": ", out);
      rj_write(v->items[i], out);
    }
    fputc(v->kind == RJ_ARR ? ']' : '}', out);
    break;
  }
}

static void text_of(const rj *v, FILE *out, int top) {
  if (v && v->kind == RJ_STR)
    fputs(v->s, out);
  else if (v && top && (v->kind == RJ_ARR || v->kind == RJ_OBJ)) {
    for (int i = 0; i < v->n; i++) {
      if (i) fputs(", ", out);
      if (v->kind == RJ_OBJ) fprintf(out, "%s: ", v->keys[i]);
      text_of(v->items[i], out, 0);
    }
    if (!v->n) fputs(v->kind == RJ_ARR ? "(none)" : "(empty)", out);
  } else
    rj_write(v, out);
}

char *rj_text(const rj *v) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) return NULL;
  text_of(v, f, 1);
  if (fclose(f)) return free(buf), NULL;
  return buf;
}

void rp_html(FILE *out, const char *s) {
  for (const char *p = s ? s : ""; *p; p++)
    switch (*p) {
    case '&': fputs("&amp;", out); break;
    case '<': fputs("&lt;", out); break;
    case '>': fputs("&gt;", out); break;
    case '"': fputs("&quot;", out); break;
    case '\'': fputs("&#39;", out); break;
    default: fputc(*p, out);
    }
}

void rp_xml(FILE *out, const char *s) {
  for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
    if (*p < 0x20 && *p != '\n' && *p != '\t' && *p != '\r') continue; /* illegal in XML 1.0 */
    char one[2] = {(char)*p, 0};
    rp_html(out, one);
  }
}

void rp_md_inline(FILE *out, const char *s) {
  for (const char *p = s ? s : ""; *p; p++) {
    if (strchr("|*_`<>[]\\", *p)) fputc('\\', out);
    fputc(*p == '\n' ? ' ' : *p, out);
  }
}
