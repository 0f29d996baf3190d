/* test_roundtrip.c - generated cases survive the text format exactly: print(parse(print(c))) ==
 * print(c). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "gen.h"

/* Prints c, parses the text back, prints again: the two texts must be equal, and the
 * parsed case must interpret to the same checksum as the original. */
static void roundtrip(const af_case *c, const char *what, uint64_t id) {
  char *a = NULL, *b = NULL;
  size_t na = 0, nb = 0;
  af_case back;
  af_error err = {{0}};
  CHECKF(af_print_str(c, &a, &na) == AF_OK, "%s %llu: print", what, (unsigned long long)id);
  af_status s = af_parse(what, a ? a : "", na, &back, &err);
  CHECKF(s == AF_OK, "%s %llu: parse: %s", what, (unsigned long long)id, err.msg);
  if (s == AF_OK) {
    CHECK(af_print_str(&back, &b, &nb) == AF_OK);
    int same = b && na == nb && memcmp(a, b, na) == 0;
    CHECKF(same, "%s %llu: text changed in a round trip", what, (unsigned long long)id);
    /* what replay relies on: the case read back runs as the generated one did (an empty
     * struct's constant once did not: its value had no bytes after parsing) */
    af_interp_result r1, r2;
    af_status s1 = af_interp(c, 0, &r1, &err);
    af_status s2 = af_interp(&back, 0, &r2, &err);
    CHECKF(s1 == s2 && (s1 != AF_OK || r1.checksum == r2.checksum),
           "%s %llu: the parsed case interprets differently (%s vs %s: %s)", what,
           (unsigned long long)id, af_strerror(s1), af_strerror(s2), err.msg);
    af_interp_result_free(&r1);
    af_interp_result_free(&r2);
    if (!same && b) {
      size_t i = 0;
      while (i < na && i < nb && a[i] == b[i])
        i++;
      fprintf(stderr, "first difference at byte %zu:\n--- printed\n%.80s\n--- reprinted\n%.80s\n",
              i, a + (i > 20 ? i - 20 : 0), b + (i > 20 ? i - 20 : 0));
    }
  }
  af_case_free(&back);
  free(a);
  free(b);
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 10000;
  af_gen_opts o;
  af_gen_opts_default(&o);
  o.allow_f16 = 1;
  clock_t t0 = clock();
  for (int i = 0; i < n; i++) {
    af_case c;
    af_error err = {{0}};
    o.cc = i & 1; /* half each convention */
    af_status s = af_gen_case(&o, 0x5eed, (uint64_t)i, &c, NULL, &err);
    CHECKF(s == AF_OK, "gen index %d: %s", i, err.msg);
    if (s == AF_OK) roundtrip(&c, "gen", (uint64_t)i);
    af_case_free(&c);
  }
  /* byte mode too: any bytes make a case, and that case round-trips */
  uint64_t x = 88172645463325252ull;
  for (int i = 0; i < n / 10; i++) {
    uint8_t buf[256];
    size_t len = (size_t)(i % 257);
    for (size_t k = 0; k < len; k++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      buf[k] = (uint8_t)x;
    }
    af_case c;
    af_error err = {{0}};
    o.cc = -1;
    af_status s = af_gen_bytes(&o, buf, len, &c, NULL, &err);
    CHECKF(s == AF_OK, "gen_bytes %d: %s", i, err.msg);
    if (s == AF_OK) roundtrip(&c, "bytes", (uint64_t)i);
    af_case_free(&c);
  }
  printf("%d generated + %d byte-mode cases round-tripped in %.2f s\n", n, n / 10,
         (double)(clock() - t0) / CLOCKS_PER_SEC);
  return check_done();
}
