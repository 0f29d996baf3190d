/* test_emit.c - hand-built cases covering every op and type: the emitted C, compiled by clang
 * and gcc at -O0 and -O2, prints the interpreter's checksum. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gen.h"
#include "oracle.h"
#include "oracle_batch.h"
#include "oracle_cases.h"

#define MAX_CASES 512

/* The id of a known gcc/clang divergence (gen/abi.c table) some signature of
 * the case has, or NULL. A variadic callee reads its arguments per the
 * psABI, so a compiler on the wrong side of an entry disagrees with itself. */
static const char *known_divergence(const af_case *c) {
  for (int f = 0; f < c->nfuncs; f++) {
    const char *why = NULL;
    if (af_abi_divergences(c, &c->funcs[f].sig, &why) > 0) return why;
  }
  return NULL;
}

typedef struct {
  const char *cc;
  const char *flags;
} config;

int main(void) {
  static af_case cases[MAX_CASES];
  static const af_case *ptrs[MAX_CASES];
  static const af_case *avx[MAX_CASES];
  static uint64_t want[MAX_CASES], want_avx[MAX_CASES], got[MAX_CASES];
  static int have[MAX_CASES];
  static char names[MAX_CASES][48], names_avx[MAX_CASES][48];
  int n = 0, navx = 0;
  for (int e = 0; e < OC_NCATALOG; e++)
    for (int cc = 0; cc < AF_CC_COUNT; cc++)
      for (int v = 0; v < oc_catalog[e].nvariants && n + navx < MAX_CASES; v++) {
        af_case *c = &cases[n + navx];
        oc_build(&oc_catalog[e], (af_cc)cc, v, c);
        af_error err = {{0}};
        af_status s = af_verify(c, &err);
        CHECKF(s == AF_OK, "%s/%s/%d: af_verify: %s", oc_catalog[e].name, af_cc_name((af_cc)cc), v,
               err.msg);
        af_interp_result r;
        s = af_interp(c, 0, &r, &err);
        CHECKF(s == AF_OK, "%s/%s/%d: af_interp: %s", oc_catalog[e].name, af_cc_name((af_cc)cc), v,
               err.msg);
        if (s != AF_OK) continue;
        if (oc_catalog[e].needs_avx) {
          snprintf(names_avx[navx], 48, "%s/%s/%d", oc_catalog[e].name, af_cc_name((af_cc)cc), v);
          want_avx[navx] = r.checksum;
          avx[navx++] = c;
        } else {
          snprintf(names[n], 48, "%s/%s/%d", oc_catalog[e].name, af_cc_name((af_cc)cc), v);
          want[n] = r.checksum;
          ptrs[n++] = c;
        }
        af_interp_result_free(&r);
      }
  /* the emitter flags what C cannot express, and the single-case file has a main */
  {
    char *src = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&src, &len);
    af_error err = {{0}};
    const af_case *agg = NULL;
    for (int i = 0; i < n && !agg; i++)
      if (strcmp(names[i], "aggregates/sysv/1") == 0) agg = ptrs[i];
    CHECK(agg && af_emit_c(agg, NULL, m, &err) == AF_OK);
    fclose(m);
    CHECK(src && strstr(src, "int main(void)") && strstr(src, "_Static_assert(offsetof("));
    CHECK(src && strstr(src, "__attribute__((packed))") && strstr(src, "__real__"));
    free(src);
  }
  const char *clang = getenv("AF_TEST_CLANG") ? getenv("AF_TEST_CLANG") : AF_CLANG;
  const char *gcc = getenv("AF_TEST_GCC") ? getenv("AF_TEST_GCC") : AF_GCC;
  const config configs[] = {
      {clang, "-O0"},
      {clang, "-O2"},
      {gcc, "-O0"},
      {gcc, "-O2 -ffp-contract=off"},
  };
  int ran = 0;
  for (unsigned k = 0; k < sizeof configs / sizeof configs[0]; k++) {
    const config *cf = &configs[k];
    if (!af_cc_available(cf->cc)) {
      printf("skip %s %s: compiler not available\n", cf->cc[0] ? cf->cc : "(none)", cf->flags);
      continue;
    }
    ran++;
    double t0 = ob_now();
    af_error err = {{0}};
    ob_batch_or_each(ptrs, n, cf->cc, cf->flags, got, have, &err);
    int bad = 0, known = 0;
    for (int i = 0; i < n; i++) {
      const char *why = known_divergence(ptrs[i]);
      if (have[i] && got[i] != want[i] && why) {
        printf("known divergence %s: %s %s: %s differs\n", why, cf->cc, cf->flags, names[i]);
        known++;
        continue;
      }
      CHECKF(have[i] && got[i] == want[i], "%s %s: %s: %s (interp 0x%016llx, C 0x%016llx)", cf->cc,
             cf->flags, names[i], have[i] ? "checksum differs" : err.msg,
             (unsigned long long)want[i], (unsigned long long)got[i]);
      bad += !(have[i] && got[i] == want[i]);
    }
    /* __m256 cases: their own file, compiled with -mavx; run only on an AVX host */
    if (!__builtin_cpu_supports("avx")) navx = 0;
    char fl[128];
    snprintf(fl, sizeof fl, "%s -mavx", cf->flags);
    ob_batch_or_each(avx, navx, cf->cc, fl, got, have, &err);
    for (int i = 0; i < navx; i++) {
      CHECKF(have[i] && got[i] == want_avx[i], "%s %s: %s: %s", cf->cc, fl, names_avx[i],
             have[i] ? "checksum differs" : err.msg);
      bad += !(have[i] && got[i] == want_avx[i]);
    }
    printf("%s %s: %d cases, %d mismatches, %d known divergences, %.1f s\n", cf->cc, cf->flags,
           n + navx, bad, known, ob_now() - t0);
  }
  if (!ran) printf("skip: no oracle compiler\n");
  /* a case without an entry is refused, with a sentence */
  {
    af_case bad;
    af_case_init(&bad);
    af_error err = {{0}};
    FILE *null = fopen("/dev/null", "w");
    CHECK(null && af_emit_c(&bad, NULL, null, &err) == AF_ERR_INVALID && err.msg[0]);
    if (null) fclose(null);
    af_case_free(&bad);
  }
  /* cc_run: one case through af_cc_case_checksum, and its error paths */
  {
    uint64_t ck = 0;
    af_error err = {{0}};
    CHECK(af_cc_case_checksum(ptrs[0], "/nonexistent/cc", "-O0", &ck, &err) == AF_ERR_IO);
    CHECKF(strstr(err.msg, "cannot run") != NULL, "%s", err.msg);
    const char *cc = af_cc_available(gcc) ? gcc : af_cc_available(clang) ? clang : NULL;
    if (cc) {
      CHECKF(af_cc_case_checksum(ptrs[0], cc, "-O1", &ck, &err) == AF_OK, "%s", err.msg);
      CHECK(ck == want[0]);
      char *out = NULL;
      const char bad[] = "int main(void) { return undeclared_thing; }\n";
      CHECK(af_cc_build_run(cc, AF_CC_BASE_FLAGS, bad, sizeof bad - 1, &out, &err) == AF_ERR_IO);
      CHECKF(strstr(err.msg, "undeclared_thing") != NULL, "%s", err.msg);
      const char crash[] = "#include <stdlib.h>\nint main(void) { abort(); }\n";
      CHECK(af_cc_build_run(cc, "", crash, sizeof crash - 1, &out, &err) == AF_ERR_RUNTIME);
      uint64_t g[4] = {0};
      CHECKF(af_cc_run_batch(cc, ptrs, 4, g, &err) == AF_OK, "%s", err.msg);
      CHECK(g[0] == want[0] && g[1] == want[1] && g[2] == want[2] && g[3] == want[3]);
      uint64_t x = 0;
      CHECK(af_cc_last_checksum("a\nchecksum 0x1\nchecksum 0x00000000000000ff\n", &x) == 0 &&
            x == 0xff);
      CHECK(af_cc_last_checksum("no checksum here", &x) == -1);
    }
  }
  for (int i = 0; i < n + navx; i++)
    af_case_free(&cases[i]);
  return check_done();
}
