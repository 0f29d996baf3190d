/* text_lex.c - the .case tokenizer: words, punctuation, comments, positions, errors. */
#include <stdarg.h>
#include <string.h>

#include "text_lex.h"

/* Tokens: punctuation  { } ( ) [ ] , = :  and words (runs of other printable
 * ASCII). Spaces, tabs, CR and LF separate tokens; '#' starts a comment that
 * runs to the end of the line. Any other byte (NUL, controls, non-ASCII) is an
 * error: the format is plain ASCII. Every read is bounded by p->len. */

static int is_punct(unsigned char ch) { return ch && strchr("{}()[],=:", ch) != NULL; }

int tk_error_at(tk_parser *p, int line, int col, af_status st, const char *fmt, ...) {
  if (p->status != AF_OK) return -1; /* keep the first error */
  char body[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(body, sizeof body, fmt, ap);
  va_end(ap);
  snprintf(p->err->msg, sizeof p->err->msg, "%s:%d:%d: %s", p->name, line, col, body);
  p->status = st;
  return -1;
}

int tk_error(tk_parser *p, const char *fmt, ...) {
  if (p->status != AF_OK) return -1;
  char body[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(body, sizeof body, fmt, ap);
  va_end(ap);
  return tk_error_at(p, p->tok.line, p->tok.col, AF_ERR_PARSE, "%s", body);
}

static void advance(tk_parser *p) {
  if (p->text[p->pos] == '\n') {
    p->line++;
    p->col = 1;
  } else {
    p->col++;
  }
  p->pos++;
}

int tk_next(tk_parser *p) {
  if (p->status != AF_OK) return -1;
  for (;;) {
    while (p->pos < p->len) {
      unsigned char ch = (unsigned char)p->text[p->pos];
      if (ch != ' ' && ch != '\t' && ch != '\r' && ch != '\n') break;
      advance(p);
    }
    if (p->pos < p->len && p->text[p->pos] == '#') {
      while (p->pos < p->len && p->text[p->pos] != '\n') {
        unsigned char ch = (unsigned char)p->text[p->pos];
        if ((ch < 0x20 && ch != '\t' && ch != '\r') || ch >= 0x7f)
          return tk_error_at(p, p->line, p->col, AF_ERR_PARSE,
                             "unexpected byte 0x%02x in a comment", ch);
        advance(p);
      }
      continue;
    }
    break;
  }
  tk_token *t = &p->tok;
  t->line = p->line;
  t->col = p->col;
  t->s = p->text + p->pos;
  t->n = 0;
  if (p->pos >= p->len) {
    t->kind = TK_EOF;
    return 0;
  }
  unsigned char ch = (unsigned char)p->text[p->pos];
  if (is_punct(ch)) {
    t->kind = TK_PUNCT;
    t->n = 1;
    advance(p);
    return 0;
  }
  if (ch <= 0x20 || ch >= 0x7f) {
    t->kind = TK_EOF;
    return tk_error_at(p, p->line, p->col, AF_ERR_PARSE, "unexpected byte 0x%02x", ch);
  }
  t->kind = TK_WORD;
  while (p->pos < p->len) {
    ch = (unsigned char)p->text[p->pos];
    if (ch <= 0x20 || ch >= 0x7f || ch == '#' || is_punct(ch)) break;
    advance(p);
    t->n++;
  }
  return 0;
}

int tk_start(tk_parser *p) { return tk_next(p); }

int tk_is(const tk_parser *p, const char *word) {
  size_t n = strlen(word);
  return p->tok.kind == TK_WORD && p->tok.n == n && memcmp(p->tok.s, word, n) == 0;
}

int tk_is_punct(const tk_parser *p, char ch) {
  return p->tok.kind == TK_PUNCT && p->tok.s[0] == ch;
}

/* "'word'" (shortened), "'{'" or "end of file", for messages. */
static const char *describe(const tk_parser *p, char *buf, size_t n) {
  if (p->tok.kind == TK_EOF) return "end of file";
  int len = p->tok.n > 24 ? 24 : (int)p->tok.n;
  snprintf(buf, n, "'%.*s%s'", len, p->tok.s, p->tok.n > 24 ? "..." : "");
  return buf;
}

int tk_expect(tk_parser *p, const char *word) {
  char b[40];
  if (!tk_is(p, word))
    return tk_error(p, "expected '%s', found %s", word, describe(p, b, sizeof b));
  return tk_next(p);
}

int tk_expect_punct(tk_parser *p, char ch) {
  char b[40];
  if (!tk_is_punct(p, ch))
    return tk_error(p, "expected '%c', found %s", ch, describe(p, b, sizeof b));
  return tk_next(p);
}

const char *tk_describe(const tk_parser *p, char *buf, size_t n) { return describe(p, buf, n); }
