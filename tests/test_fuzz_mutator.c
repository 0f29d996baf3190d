/* test_fuzz_mutator.c - fuzz/mutator.c: the tagged input format and the structure-aware mutator. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz/mutator.h"
#include "check.h"

#define CAP 65536

/* A case's canonical text (malloc'd). */
static char *text_of(const af_case *c) {
  char *t = NULL;
  size_t n = 0;
  return af_print_str(c, &t, &n) == AF_OK ? t : NULL;
}

int main(void) {
  static uint8_t buf[CAP];
  static af_case c, d;
  af_error err = {{0}};
  int produced = 0, changed = 0, cc_kept = 1, kinds_param = 0;
  for (unsigned i = 0; i < 200; i++) {
    /* generator bytes: a few pseudo-random bytes */
    size_t n = 8 + i % 40;
    for (size_t k = 0; k < n; k++)
      buf[k] = (uint8_t)(k * 131 + i * 17 + (k * i) % 7);
    int cc = i % 3 == 0 ? AF_CC_WIN64 : -1;
    CHECKF(af_fuzz_decode(buf, n, cc, &c, &err) == AF_OK, "decode bytes %u: %s", i, err.msg);
    char *before = text_of(&c);
    int before_params = c.funcs[c.entry].sig.nparams;
    af_case_free(&c);
    size_t m = af_fuzz_mutate(buf, n, CAP, 1000 + i, cc);
    if (!m) {
      free(before);
      continue;
    }
    produced++;
    CHECK(m > sizeof AF_FUZZ_MAGIC && !memcmp(buf, AF_FUZZ_MAGIC, sizeof AF_FUZZ_MAGIC - 1));
    /* the mutant decodes to a valid case that is not the original */
    CHECKF(af_fuzz_decode(buf, m, cc, &d, &err) == AF_OK, "decode mutant %u: %s", i, err.msg);
    CHECKF(af_verify(&d, &err) == AF_OK, "mutant %u: %s", i, err.msg);
    char *after = text_of(&d);
    if (before && after && strcmp(before, after)) changed++;
    if (cc >= 0 && (int)d.cc != cc) cc_kept = 0;
    if (d.funcs[d.entry].sig.nparams != before_params) kinds_param++;
    /* it interprets (the reference outcome the fuzz target needs) */
    af_interp_result res;
    memset(&res, 0, sizeof res);
    af_status s = af_interp(&d, 0, &res, &err);
    CHECKF(s == AF_OK || s == AF_ERR_RUNTIME, "interp mutant %u: %s", i, err.msg);
    af_interp_result_free(&res);
    /* mutating a tagged input again works too */
    size_t m2 = af_fuzz_mutate(buf, m, CAP, 7 + i, cc);
    if (m2) {
      af_case e;
      CHECKF(af_fuzz_decode(buf, m2, cc, &e, &err) == AF_OK, "decode 2nd mutant %u: %s", i,
             err.msg);
      af_case_free(&e);
    }
    free(before);
    free(after);
    af_case_free(&d);
  }
  printf("200 inputs: %d structural mutants, %d changed, %d with another entry arity\n", produced,
         changed, kinds_param);
  CHECKF(produced >= 150, "only %d of 200 inputs got a structural mutant", produced);
  CHECKF(changed >= produced * 9 / 10, "%d of %d mutants equal their original", produced - changed,
         produced);
  CHECK(cc_kept);
  CHECKF(kinds_param > 0, "no mutant changed the entry's parameter count");
  /* too small a capacity: no mutant (the caller falls back to byte mutation) */
  memset(buf, 3, 16);
  CHECK(af_fuzz_mutate(buf, 16, 20, 1, -1) == 0);
  /* a tagged input that does not parse is not decodable */
  const char *bad = AF_FUZZ_MAGIC "this is not a case";
  CHECK(af_fuzz_decode((const uint8_t *)bad, strlen(bad), -1, &c, &err) != AF_OK);
  af_case_free(&c);
  return check_done();
}
