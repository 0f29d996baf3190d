/* cli.c - helpers every subcommand shares: one-line errors, number parsing, value printing. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

void cli_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("abifuzz: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

int cli_u64(const char *s, uint64_t *out) {
  if (!s || !*s || *s == '-' || *s == ' ') return -1;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 0);
  if (errno || *end) return -1;
  *out = v;
  return 0;
}

/* "LABEL TYPE BYTES" (hex, memory order) or "LABEL ptr obj K": interp and jit --run. */
void cli_print_value(const af_case *c, const char *label, const af_value *v) {
  char tb[16];
  printf("%s %s", label, af_type_name(c, v->type, tb, sizeof tb));
  if (v->type == AF_T_PTR) {
    printf(" obj %d\n", v->obj);
    return;
  }
  putchar(' ');
  for (uint32_t i = 0; i < v->size; i++)
    printf("%02x", v->bytes[i]);
  putchar('\n');
}
