/* rp_json.h - private to reports/: a small JSON reader (a tree) and JSON/HTML/XML escaping. */
#ifndef ABIFUZZ_RP_JSON_H
#define ABIFUZZ_RP_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A parsed JSON value. Numbers keep their text (64-bit seeds and indices must not go through a
 * double) as well as the double. Object members keep their order; a duplicate key keeps both
 * (rj_get finds the first). */
typedef enum { RJ_NULL, RJ_BOOL, RJ_NUM, RJ_STR, RJ_ARR, RJ_OBJ } rj_kind;

typedef struct rj {
  rj_kind kind;
  int b;       /* RJ_BOOL */
  double num;  /* RJ_NUM */
  char *s;     /* RJ_STR: the string (UTF-8, NUL-terminated); RJ_NUM: its text */
  size_t slen; /* RJ_STR: bytes (a \u0000 escape may put a NUL inside) */
  int n;       /* RJ_ARR / RJ_OBJ: items */
  struct rj **items;
  char **keys; /* RJ_OBJ */
} rj;

/* Parses len bytes (one value, surrounded only by white space). NULL on error or out of memory,
 * with "line L col C: message" in err (nerr bytes). Nesting deeper than 64 is an error. */
rj *rj_parse(const char *text, size_t len, char *err, size_t nerr);
/* Reads and parses a whole file; NULL with err set ("cannot read: ...", or the parse error). */
rj *rj_parse_file(const char *path, char *err, size_t nerr);
void rj_free(rj *v);

/* Lookups on an object (NULL-safe: o may be NULL or not an object). */
const rj *rj_get(const rj *o, const char *key);
const char *rj_str(const rj *o, const char *key);        /* NULL unless a string */
int rj_u64(const rj *o, const char *key, uint64_t *out); /* 0 ok (a non-negative integer) */
int rj_truthy(const rj *v);                              /* present and not null/false/""/0 */

/* Writes v as compact JSON (what a report shows of keys it does not know). */
void rj_write(const rj *v, FILE *out);
/* v as a short human string into a malloc'd buffer: strings bare, arrays "a, b", objects
 * "k: v, ...", nested ones as compact JSON. NULL on OOM. */
char *rj_text(const rj *v);

/* Escaping for the output formats. */
void rp_json_str(FILE *out, const char *s);  /* "..." with JSON escapes */
void rp_html(FILE *out, const char *s);      /* & < > " ' as entities */
void rp_xml(FILE *out, const char *s);       /* the same, minus XML-illegal controls */
void rp_md_inline(FILE *out, const char *s); /* text in a Markdown table or line */

#endif
