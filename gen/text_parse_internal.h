/* text_parse_internal.h - the .case parser's pieces shared by text_parse*.c (private to gen/). */
#ifndef ABIFUZZ_TEXT_PARSE_INTERNAL_H
#define ABIFUZZ_TEXT_PARSE_INTERNAL_H

#include "text_lex.h"

/* Each returns 0 and moves past what it read, or -1 with the error recorded. */
int tp_int(tk_parser *p, const char *what, int64_t min, int64_t max, int64_t *out);
int tp_index(tk_parser *p, char prefix, const char *what, int max, int *out); /* v3 f1 t21 */
int tp_type(tk_parser *p, int allow_void, int *out);
int tp_hex(tk_parser *p, uint8_t *dst, uint32_t n);
int tp_value(tk_parser *p, int type, af_value *v);
int tp_func(tk_parser *p); /* func fK [host] CC (params) -> RET { insts } */

#endif
