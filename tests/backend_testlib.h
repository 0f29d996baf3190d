/* backend_testlib.h - for backend tests: run generated cases through a backend and our runner
 * thunk, and count passes, skips (by reason) and checksum mismatches. Header-only. */
#ifndef ABIFUZZ_TESTS_BACKEND_TESTLIB_H
#define ABIFUZZ_TESTS_BACKEND_TESTLIB_H

#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "gen.h"

#define BT_MAX_REASONS 16
typedef struct {
  int cases, pass, fail, error;
  int nreasons;
  const char *reason[BT_MAX_REASONS];
  int count[BT_MAX_REASONS];
  int skipped;
  char first_fail[256]; /* "index N: ..." of the first mismatch or error */
} bt_stats;

static inline void bt_skip(bt_stats *st, const char *why) {
  st->skipped++;
  for (int i = 0; i < st->nreasons; i++)
    if (!strcmp(st->reason[i], why ? why : "?")) {
      st->count[i]++;
      return;
    }
  if (st->nreasons < BT_MAX_REASONS) {
    st->reason[st->nreasons] = why ? why : "?";
    st->count[st->nreasons++] = 1;
  }
}

/* One case through backend b: compile, link with our JIT (the runner thunk and the host
 * functions), run, compare the checksum with the interpreter's. Returns 0 pass, 1 skip,
 * 2 mismatch, 3 error; st counts it. */
static inline int bt_run_case(af_backend *b, const af_case *c, bt_stats *st) {
  af_error err = {{0}};
  af_interp_result want;
  memset(&want, 0, sizeof want);
  st->cases++;
  if (af_interp(c, 0, &want, &err) != AF_OK) {
    af_interp_result_free(&want);
    bt_skip(st, "the interpreter refused the case");
    return 1;
  }
  af_backend_code *code = NULL;
  const char *skip = NULL;
  af_status s = af_backend_compile(b, c, &code, &skip, &err);
  int rc = 0;
  if (s == AF_ERR_UNSUPPORTED) {
    bt_skip(st, skip);
    rc = 1;
  } else if (s != AF_OK) {
    st->error++;
    if (!st->first_fail[0])
      snprintf(st->first_fail, sizeof st->first_fail, "index %llu: compile: %s",
               (unsigned long long)c->index, err.msg);
    rc = 3;
  } else {
    af_jit *jit = NULL;
    af_jit_result res;
    memset(&res, 0, sizeof res);
    if (af_backend_link(code, c, NULL, &jit, &err) != AF_OK ||
        af_jit_run(jit, NULL, &res, &err) != AF_OK) {
      st->error++;
      if (!st->first_fail[0])
        snprintf(st->first_fail, sizeof st->first_fail, "index %llu: link/run: %s",
                 (unsigned long long)c->index, err.msg);
      rc = 3;
    } else if (res.checksum != want.checksum) {
      st->fail++;
      if (!st->first_fail[0])
        snprintf(st->first_fail, sizeof st->first_fail,
                 "index %llu: checksum 0x%016llx, interpreter 0x%016llx",
                 (unsigned long long)c->index, (unsigned long long)res.checksum,
                 (unsigned long long)want.checksum);
      rc = 2;
    } else {
      st->pass++;
    }
    af_jit_result_free(&res);
    af_jit_free(jit);
    af_backend_code_free(code);
  }
  af_interp_result_free(&want);
  return rc;
}

/* Cases 0..n-1 of seed (convention cc, -1 for both) through backend spec; prefetches in
 * blocks of `batch` (0: none) like a campaign worker. Returns the stats; *opened 0 if the
 * backend did not open (err in st->first_fail). */
static inline bt_stats bt_run_gen(const char *spec, int cc, uint64_t seed, int n, int batch,
                                  int *opened) {
  bt_stats st;
  memset(&st, 0, sizeof st);
  af_error err = {{0}};
  af_backend *b = NULL;
  *opened = af_backend_open(spec, &b, &err) == AF_OK;
  if (!*opened) {
    snprintf(st.first_fail, sizeof st.first_fail, "open: %s", err.msg);
    return st;
  }
  af_gen_opts o;
  af_gen_opts_default(&o);
  o.cc = cc;
  enum { BT_BLOCK = 64 };
  af_case cs[BT_BLOCK];
  if (batch <= 0 || batch > BT_BLOCK) batch = 1;
  for (int i = 0; i < n; i += batch) {
    int m = n - i < batch ? n - i : batch, ok[BT_BLOCK];
    const af_case *pc[BT_BLOCK];
    int np = 0;
    for (int k = 0; k < m; k++) {
      ok[k] = af_gen_case(&o, seed, (uint64_t)(i + k), &cs[k], NULL, &err) == AF_OK;
      if (ok[k]) pc[np++] = &cs[k];
    }
    if (batch > 1) af_backend_prefetch(b, pc, np);
    for (int k = 0; k < m; k++)
      if (ok[k]) {
        bt_run_case(b, &cs[k], &st);
        af_case_free(&cs[k]);
      }
  }
  af_backend_close(b);
  return st;
}

static inline void bt_print(const char *what, const bt_stats *st) {
  printf("%s: %d cases, %d pass, %d mismatch, %d error, %d skipped\n", what, st->cases, st->pass,
         st->fail, st->error, st->skipped);
  for (int i = 0; i < st->nreasons; i++)
    printf("  skip %5d  %s\n", st->count[i], st->reason[i]);
  if (st->first_fail[0]) printf("  first: %s\n", st->first_fail);
}

#endif
