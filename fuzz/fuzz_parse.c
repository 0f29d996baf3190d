/* fuzz_parse.c - libFuzzer target (ASan+UBSan): the .case parser, printer and C emitter. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "oracle.h"

/* Any bytes go to af_parse; a case it accepts must print, parse back to the same text
 * (gen.h: af_print(af_parse(x)) == x for printed x) and emit as C. A broken round trip is a
 * bug of the text format, reported as a crash (abort) like the sanitizers' reports. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  af_case *c = malloc(sizeof *c), *d = malloc(sizeof *d);
  if (!c || !d) {
    free(c);
    free(d);
    return 0;
  }
  af_error err = {{0}};
  af_status s = af_parse("fuzz", (const char *)data, size, c, &err);
  if (s != AF_OK) {
    af_case_free(c);
    free(c);
    free(d);
    return s == AF_ERR_PARSE || s == AF_ERR_INVALID || s == AF_ERR_LIMIT ? -1 : 0;
  }
  char *a = NULL, *b = NULL;
  size_t na = 0, nb = 0;
  if (af_print_str(c, &a, &na) != AF_OK) {
    fprintf(stderr, "fuzz_parse: af_print failed on a parsed case\n");
    abort();
  }
  if (af_parse("printed", a, na, d, &err) != AF_OK) {
    fprintf(stderr, "fuzz_parse: printed case does not parse: %s\n%s", err.msg, a);
    abort();
  }
  if (af_print_str(d, &b, &nb) != AF_OK || na != nb || memcmp(a, b, na)) {
    fprintf(stderr, "fuzz_parse: print(parse(print(x))) != print(x)\n--- first\n%s--- second\n%s",
            a, b ? b : "(none)");
    abort();
  }
  /* The C emitter into memory (its output is not compiled here: that is the oracle tests'). */
  char *cbuf = NULL;
  size_t clen = 0;
  FILE *m = open_memstream(&cbuf, &clen);
  if (m) {
    af_emit_opts o;
    af_emit_opts_default(&o);
    (void)af_emit_c(c, &o, m, &err);
    o.extern_entry = 1;
    o.prefix = "p_";
    (void)af_emit_c(c, &o, m, &err);
    fclose(m);
    free(cbuf);
  }
  free(a);
  free(b);
  af_case_free(d);
  af_case_free(c);
  free(c);
  free(d);
  return 0;
}
