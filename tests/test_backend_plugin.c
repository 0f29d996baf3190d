/* test_backend_plugin.c - the plugin backend kind: the example plugin runs generated cases of
 * both conventions without a mismatch; what a plugin is told matches the case; a missing
 * .so, a .so that is no plugin, a version mismatch, a failing init, skips, errors and a
 * plugin that returns no code are each reported as doc/plugins.md says. */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "abifuzz/plugin.h"
#include "backend_testlib.h"
#include "check.h"
#include "oracle.h"

/* The mock's counters and record, read through our own dlopen of the same file (the same
 * object: the loader counts references). */
typedef struct {
  void *dl;
  int *inits, *finis, *compiles, *releases;
  struct abifuzz_case *last;
  struct abifuzz_func *funcs;
  struct abifuzz_import *imports;
  char **text, **c;
  char *flags;
} mock_view;

static int mock_open(mock_view *m) {
  memset(m, 0, sizeof *m);
  m->dl = dlopen(AF_MOCK_PLUGIN, RTLD_NOW | RTLD_LOCAL);
  if (!m->dl) return 0;
  m->inits = dlsym(m->dl, "mock_inits");
  m->finis = dlsym(m->dl, "mock_finis");
  m->compiles = dlsym(m->dl, "mock_compiles");
  m->releases = dlsym(m->dl, "mock_releases");
  m->last = dlsym(m->dl, "mock_last");
  m->funcs = dlsym(m->dl, "mock_last_funcs");
  m->imports = dlsym(m->dl, "mock_last_imports");
  m->text = dlsym(m->dl, "mock_last_text");
  m->c = dlsym(m->dl, "mock_last_c");
  m->flags = dlsym(m->dl, "mock_last_flags");
  return m->inits && m->finis && m->compiles && m->releases && m->last && m->funcs && m->imports &&
         m->text && m->c && m->flags;
}

static void mock_reset(mock_view *m) { *m->inits = *m->finis = *m->compiles = *m->releases = 0; }

/* Opening spec must fail with status want and a message containing needle. */
static void check_open_fails(const char *spec, af_status want, const char *needle) {
  af_backend *b = NULL;
  af_error err = {{0}};
  af_status s = af_backend_open(spec, &b, &err);
  CHECKF(s == want && !b, "%s: status %d (want %d)", spec, (int)s, (int)want);
  CHECKF(strstr(err.msg, needle) != NULL, "%s: message '%s' lacks '%s'", spec, err.msg, needle);
  printf("open %-60.60s -> %s\n", spec, err.msg);
  af_backend_close(b);
}

/* A whole-word occurrence of word in the case text (a type name, not hex digits). */
static int has_token(const char *text, const char *word) {
  size_t n = strlen(word);
  for (const char *p = strstr(text, word); p; p = strstr(p + 1, word)) {
    char before = p == text ? ' ' : p[-1], after = p[n];
    if (strchr(" (,{[\n", before) && after && strchr(" ,)}]:\n", after)) return 1;
  }
  return 0;
}

/* What the plugin was told about case c (the mock recorded it). */
static void check_record(const mock_view *m, const af_case *c) {
  const struct abifuzz_case *r = m->last;
  CHECK(r->api_version == ABIFUZZ_PLUGIN_API_VERSION);
  CHECK(r->seed == c->seed && r->index == c->index);
  CHECK(r->nfuncs == c->nfuncs && r->entry == c->entry);
  CHECK(r->abi == (int)c->funcs[c->entry].sig.cc);
  int nhost = 0, win64 = 0, variadic = 0;
  for (int k = 0; k < c->nfuncs; k++) {
    const af_func *f = &c->funcs[k];
    char name[8];
    snprintf(name, sizeof name, "f%d", k);
    const struct abifuzz_func *pf = &m->funcs[k];
    CHECKF(pf->is_host == f->host && pf->abi == (int)f->sig.cc && pf->variadic == f->sig.variadic &&
               pf->nparams == f->sig.nparams && pf->nfixed == f->sig.nfixed,
           "index %llu f%d", (unsigned long long)c->index, k);
    if (f->host) {
      CHECKF(nhost < r->nimports && !strcmp(m->imports[nhost].name, name) && m->imports[nhost].addr,
             "index %llu: import %d is not %s", (unsigned long long)c->index, nhost, name);
      nhost++;
    }
    win64 |= f->sig.cc == AF_CC_WIN64;
    variadic |= f->sig.variadic;
  }
  CHECK(r->nimports == nhost + 1 && !strcmp(m->imports[nhost].name, "af_objects"));
  for (int i = 0; i < r->nimports; i++)
    for (int j = 0; j < i; j++)
      CHECK(m->imports[i].addr != m->imports[j].addr);
  char *text = NULL;
  size_t len = 0;
  CHECK(af_print_str(c, &text, &len) == AF_OK);
  CHECK(text && *m->text && !strcmp(text, *m->text));
  /* The features against the text, an independent reading of the same case. */
  unsigned long ft = r->features;
  if (text) {
    CHECK(!!(ft & ABIFUZZ_FEAT_INT128) == (has_token(text, "i128") || has_token(text, "u128")));
    CHECK(!!(ft & ABIFUZZ_FEAT_F16) == has_token(text, "f16"));
    CHECK(!!(ft & ABIFUZZ_FEAT_LONG_DOUBLE) == has_token(text, "f80"));
    CHECK(!!(ft & ABIFUZZ_FEAT_COMPLEX) == (has_token(text, "cf32") || has_token(text, "cf64")));
    CHECK(!!(ft & ABIFUZZ_FEAT_M128) == has_token(text, "m128"));
    CHECK(!!(ft & ABIFUZZ_FEAT_M256) == has_token(text, "m256"));
    CHECK(!!(ft & ABIFUZZ_FEAT_UNION) == (strstr(text, "= union") != NULL));
    CHECK(!!(ft & ABIFUZZ_FEAT_PACKED) == (strstr(text, " packed ") != NULL));
    CHECK(!!(ft & ABIFUZZ_FEAT_LOCAL) == (strstr(text, "= local ") != NULL));
  }
  CHECK(!!(ft & ABIFUZZ_FEAT_WIN64) == win64);
  CHECK(!!(ft & ABIFUZZ_FEAT_VARIADIC) == variadic);
  CHECK(!!strstr(m->flags, "-mavx") == af_case_needs_avx(c));
  /* The C: external-code mode (the object table is an import, no main). */
  CHECKF(*m->c && strstr(*m->c, "af_objects") && !strstr(*m->c, "main("),
         "index %llu: c_source is not in external-code mode", (unsigned long long)c->index);
  free(text);
}

/* The mock in mode "skip" sees n generated cases of convention cc: each is recorded. */
static void check_what_plugin_sees(mock_view *m, int cc, int n) {
  af_backend *b = NULL;
  af_error err = {{0}};
  char spec[600];
  snprintf(spec, sizeof spec, "plugin:%s:record", AF_MOCK_PLUGIN);
  CHECK(af_backend_open(spec, &b, &err) == AF_OK);
  if (!b) return;
  af_gen_opts o;
  af_gen_opts_default(&o);
  o.cc = cc;
  o.allow_f16 = o.allow_m256 = 1;
  for (int i = 0; i < n; i++) {
    af_case c;
    if (af_gen_case(&o, 77, (uint64_t)i, &c, NULL, &err) != AF_OK) {
      af_case_free(&c);
      continue;
    }
    af_backend_code *code = NULL;
    const char *skip = NULL;
    CHECK(af_backend_compile(b, &c, &code, &skip, &err) == AF_ERR_UNSUPPORTED);
    CHECK(skip && !strcmp(skip, "the mock skips every case"));
    check_record(m, &c);
    af_case_free(&c);
  }
  af_backend_close(b);
}

static bt_stats run_mock(mock_view *m, const char *mode, int cc, int n) {
  char spec[600];
  snprintf(spec, sizeof spec, "plugin:%s:%s", AF_MOCK_PLUGIN, mode);
  mock_reset(m);
  int opened = 0;
  bt_stats st = bt_run_gen(spec, cc, 5, n, 0, &opened);
  CHECKF(opened, "%s: %s", spec, st.first_fail);
  CHECK(*m->inits == 1 && *m->finis == 1);
  bt_print(mode, &st);
  return st;
}

static int count_of(const bt_stats *st, const char *reason) {
  for (int i = 0; i < st->nreasons; i++)
    if (!strcmp(st->reason[i], reason)) return st->count[i];
  return 0;
}

/* The example plugin on n cases of convention cc: everything passes or is skipped. */
static void check_example(const char *arg, int cc, int n) {
  char spec[600];
  snprintf(spec, sizeof spec, "plugin:%s%s%s", AF_CC_PLUGIN, arg ? ":" : "", arg ? arg : "");
  int opened = 0;
  bt_stats st = bt_run_gen(spec, cc, 11, n, 0, &opened);
  char what[128];
  snprintf(what, sizeof what, "example plugin (%s) %s", arg ? arg : "default",
           af_cc_name((af_cc)cc));
  bt_print(what, &st);
  CHECKF(opened, "%s", st.first_fail);
  CHECKF(st.fail == 0 && st.error == 0, "%s: %s", what, st.first_fail);
  CHECKF(st.pass + st.skipped == st.cases && st.pass >= st.cases * 3 / 4,
         "%s: only %d of %d passed", what, st.pass, st.cases);
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 40; /* cases per convention for the example */

  /* ---- opening: every way a plugin can be refused ---- */
  check_open_fails("plugin:/nonexistent/libnothing.so", AF_ERR_UNSUPPORTED, "cannot load");
  check_open_fails("plugin:" AF_MOCK_NOSYMS, AF_ERR_UNSUPPORTED, "not an abifuzz plugin");
  check_open_fails("plugin:" AF_MOCK_BADVER, AF_ERR_UNSUPPORTED, "version 99");
  check_open_fails("plugin:" AF_MOCK_PLUGIN ":initfail", AF_ERR_UNSUPPORTED,
                   "init failed: mock init refuses");
  check_open_fails("plugin::x", AF_ERR_INVALID, "no path");
  check_open_fails("plugin:" AF_CC_PLUGIN ":/nonexistent/compiler", AF_ERR_UNSUPPORTED,
                   "cannot run the compiler");
  check_open_fails("plugin:" AF_CC_PLUGIN ":tcc", AF_ERR_UNSUPPORTED, "--defsym");

  mock_view m;
  CHECKF(mock_open(&m), "cannot read the mock's counters: %s", dlerror());
  if (m.dl) {
    /* ---- what a plugin is told about a case ---- */
    check_what_plugin_sees(&m, AF_CC_SYSV, 40);
    check_what_plugin_sees(&m, AF_CC_WIN64, 40);

    /* ---- skip (1), with and without a reason ---- */
    bt_stats st = run_mock(&m, "skip", -1, 30);
    CHECK(st.skipped == st.cases && count_of(&st, "the mock skips every case") == st.cases);
    CHECK(*m.compiles == st.cases && *m.releases == 0);
    st = run_mock(&m, "silent", -1, 10);
    CHECK(count_of(&st, "the plugin cannot express this case") == st.cases);

    /* ---- error (2), an out-of-range answer, no code: errors, never skips ---- */
    st = run_mock(&m, "error", -1, 10);
    CHECK(st.error == st.cases && strstr(st.first_fail, "the mock fails"));
    st = run_mock(&m, "bad", -1, 10);
    CHECK(st.error == st.cases && strstr(st.first_fail, "returned 7"));
    st = run_mock(&m, "nocode", -1, 10);
    CHECK(st.error == st.cases && strstr(st.first_fail, "no code for f"));
    CHECK(*m.releases == *m.compiles && *m.compiles == st.cases); /* its answer was released */

    /* ---- supports_abi: Win64 functions are skipped without a compile call ---- */
    st = run_mock(&m, "sysvonly", AF_CC_WIN64, 20);
    int nowin = count_of(&st, "the backend has no Win64 convention");
    CHECK(nowin > 0 && nowin + *m.compiles == st.cases);
    dlclose(m.dl);
  }

  /* ---- the example plugin: real code, both conventions ---- */
  check_example(NULL, AF_CC_SYSV, n);
  check_example(NULL, AF_CC_WIN64, n);
#ifdef AF_CLANG
  if (AF_CLANG[0]) {
    char arg[300];
    snprintf(arg, sizeof arg, "%s -O2", AF_CLANG);
    check_example(arg, AF_CC_SYSV, n / 4);
    check_example(arg, AF_CC_WIN64, n / 4);
  }
#endif
  return check_done();
}
