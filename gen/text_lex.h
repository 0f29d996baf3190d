/* text_lex.h - the .case tokenizer and parser state (private to gen/text_*.c). */
#ifndef ABIFUZZ_TEXT_LEX_H
#define ABIFUZZ_TEXT_LEX_H

#include <stddef.h>

#include "text_internal.h"

typedef enum { TK_EOF, TK_WORD, TK_PUNCT } tk_kind;

/* A token points into the input; it is never NUL-terminated. */
typedef struct {
  tk_kind kind;
  const char *s;
  size_t n;
  int line, col;
} tk_token;

typedef struct {
  const char *name;
  const char *text;
  size_t len, pos;
  int line, col; /* of text[pos] */
  tk_token tok;  /* the current token (one token of lookahead) */
  af_case *c;
  af_error *err;
  af_status status; /* first failure; AF_OK while all is well */
} tk_parser;

/* Records the first error as "name:line:col: message"; returns -1. */
int tk_error_at(tk_parser *p, int line, int col, af_status st, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* The same at the current token, as AF_ERR_PARSE. */
int tk_error(tk_parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Starts tokenizing at p->pos and reads the first token. */
int tk_start(tk_parser *p);
/* Moves to the next token; -1 (and an error) on a bad byte. */
int tk_next(tk_parser *p);

int tk_is(const tk_parser *p, const char *word); /* current token is exactly `word` */
int tk_is_punct(const tk_parser *p, char ch);
/* Expects and consumes a word / a punctuation character. */
int tk_expect(tk_parser *p, const char *word);
int tk_expect_punct(tk_parser *p, char ch);
/* The current token for messages: "'word'" (shortened), "'{'", "end of file". */
const char *tk_describe(const tk_parser *p, char *buf, size_t n);

#endif
