/* be_gccjit.c - the gccjit backend kind: a case's non-host functions built with libgccjit,
 * compiled in memory by gcc 12 (-O2) and run as the code under test; prefetched blocks of
 * cases share one context. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "be_gccjit_internal.h"
#include "oracle.h"

/* Every context pays gcc's start-up, the assembler and the linker of a shared object (tens of
 * milliseconds): prefetch compiles a block of cases in one context, names prefixed, and
 * compile hands each its part. The compiled result is shared, freed with its last user. */
typedef struct {
  gcc_jit_result *res;
  int refs;
} gj_shared;

#define GJ_MAX_BATCH 64

typedef struct {
  const af_case *c;
  char *text;          /* af_print_str of the case: what compile matches */
  be_imports *imports; /* the case's own imports (its code calls these stubs) */
  gj_shared *shared;   /* NULL once handed over */
  char prefix[16];
} gj_entry;

typedef struct {
  gj_entry e[GJ_MAX_BATCH];
  int n;
} gj_state;

static void shared_unref(gj_shared *s) {
  if (s && --s->refs == 0) {
    gcc_jit_result_release(s->res);
    free(s);
  }
}

static void drop_entries(gj_state *st) {
  for (int i = 0; i < st->n; i++) {
    free(st->e[i].text);
    be_imports_free(st->e[i].imports);
    shared_unref(st->e[i].shared);
  }
  memset(st->e, 0, sizeof st->e);
  st->n = 0;
}

static af_status gj_open(const char *arg, void **state, af_error *err) {
  (void)arg;
  gj_state *s = calloc(1, sizeof *s);
  if (!s) {
    if (err) snprintf(err->msg, sizeof err->msg, "out of memory");
    return AF_ERR_NOMEM;
  }
  *state = s;
  return AF_OK;
}

static void gj_close(void *state) {
  if (!state) return;
  drop_entries(state);
  free(state);
}

/* gcc 12's libgccjit cannot put ms_abi on a function (function attributes came with
 * gcc 14's gcc_jit_function_add_attribute): SysV only. */
static int gj_supports_cc(void *state, af_cc cc) {
  (void)state;
  return cc == AF_CC_SYSV;
}

static void gj_release(af_backend_code *code) {
  shared_unref(code->priv);
  code->priv = NULL;
}

/* gcc's x86-64 back end says "note: the ABI of passing ... has changed in GCC 4.4" (and
 * the like) once per process when a signature meets an old ABI change, and libgccjit turns
 * every diagnostic into a context error, so that compile fails. The note changes nothing in
 * the code and -Wno-psabi is not an option of the jit "language": such a failure is retried
 * with a fresh context (the note, once said, is not said again). */
static int is_psabi_note(const char *e) {
  return e && strstr(e, "ABI") && (strstr(e, "changed in GCC") || strstr(e, "changes the ABI"));
}

/* One context for the cases k[0..n): set up, types, functions, compile. */
static af_status build_and_compile(gj_case *const *k, int n, int avx, gcc_jit_result **res,
                                   int *psabi, af_error *err) {
  gj_unit u;
  *res = NULL;
  *psabi = 0;
  af_status s = gj_unit_init(&u, avx, err);
  for (int i = 0; i < n && s == AF_OK; i++) {
    s = gj_types(&u, k[i], err);
    if (s == AF_OK) s = gj_lower_case(&u, k[i], err);
  }
  if (s == AF_OK) {
#ifdef GJ_DEBUG_REPRO /* -DGJ_DEBUG_REPRO='"FILE.c"': libgccjit writes a C reproducer */
    gcc_jit_context_dump_reproducer_to_file(u.ctx, GJ_DEBUG_REPRO);
#endif
    *res = gcc_jit_context_compile(u.ctx);
    if (!*res) {
      *psabi = is_psabi_note(gcc_jit_context_get_first_error(u.ctx));
      s = gj_check(&u, "compile", err);
      if (s == AF_OK) {
        s = AF_ERR_RUNTIME;
        if (err) snprintf(err->msg, sizeof err->msg, "gccjit: compile failed");
      }
    }
  }
  if (u.ctx) gcc_jit_context_release(u.ctx);
  for (int i = 0; i < n; i++)
    gj_case_free(k[i]);
  return s;
}

/* build_and_compile, again while a psABI note is what failed (each note fails once). */
static af_status compile_cases(gj_case *const *k, int n, int avx, gcc_jit_result **res,
                               af_error *err) {
  af_status s = AF_OK;
  for (int attempt = 0, psabi = 1; psabi && attempt < 8; attempt++)
    s = build_and_compile(k, n, avx, res, &psabi, err);
  return s;
}

/* code->ext.fn from res, for the functions named prefix + "f<k>". */
static af_status fetch_code(gcc_jit_result *res, const af_case *c, const char *prefix,
                            af_backend_code *code, af_error *err) {
  for (int fi = 0; fi < c->nfuncs; fi++) {
    if (c->funcs[fi].host) continue;
    char name[40];
    snprintf(name, sizeof name, "%sf%d", prefix, fi);
    code->ext.fn[fi] = gcc_jit_result_get_code(res, name);
    code->ext.size[fi] = 0;
    if (!code->ext.fn[fi]) {
      if (err) snprintf(err->msg, sizeof err->msg, "gccjit: no code for %s", name);
      return AF_ERR_RUNTIME;
    }
  }
  return AF_OK;
}

/* The prefetched entry for c (same text), or NULL. */
static gj_entry *find_entry(gj_state *st, const af_case *c) {
  char *text = NULL;
  size_t len = 0;
  gj_entry *found = NULL;
  for (int i = 0; i < st->n && !found; i++) {
    if (!st->e[i].shared) continue;
    if (!text && af_print_str(c, &text, &len) != AF_OK) return NULL;
    if (!strcmp(st->e[i].text, text)) found = &st->e[i];
  }
  free(text);
  return found;
}

static af_status gj_compile(void *state, const af_case *c, af_backend_code *code, const char **skip,
                            af_error *err) {
  gj_state *st = state;
  const char *why = gj_unsupported(c);
  if (why) {
    *skip = why;
    if (err) snprintf(err->msg, sizeof err->msg, "%s", why);
    return AF_ERR_UNSUPPORTED;
  }
  gj_entry *e = find_entry(st, c);
  if (e && fetch_code(e->shared->res, c, e->prefix, code, err) == AF_OK) {
    /* the prefetched code calls its own imports: they become the code's */
    be_imports_free(code->imports);
    code->imports = e->imports;
    code->ext.objects = be_imports_objects(e->imports);
    e->imports = NULL;
    code->priv = e->shared;
    code->release = gj_release;
    e->shared = NULL; /* its reference goes with the code */
    return AF_OK;
  }
  gj_case *k = calloc(1, sizeof *k);
  if (!k) return AF_ERR_NOMEM;
  k->c = c;
  k->imports = code->imports;
  k->objects = code->ext.objects;
  gcc_jit_result *res = NULL;
  af_status s = compile_cases(&k, 1, af_case_needs_avx(c), &res, err);
  free(k);
  if (s == AF_OK) s = fetch_code(res, c, "", code, err);
  gj_shared *sh = s == AF_OK ? calloc(1, sizeof *sh) : NULL;
  if (!sh) {
    if (res) gcc_jit_result_release(res);
    return s == AF_OK ? AF_ERR_NOMEM : s;
  }
  sh->res = res;
  sh->refs = 1;
  code->priv = sh;
  code->release = gj_release;
  return AF_OK;
}

/* Compiles the cases it can in one context (those that use __m256 need -mavx, so they are
 * left to compile alone unless all do). A failure of the batch leaves every case to compile
 * alone, which then reports what failed.
 *
 * Off unless built with -DAF_GCCJIT_BATCH: batching measured 1.7x the cases per second
 * (blocks of 16), but libgccjit 12 can crash the process (an internal compiler error or a
 * SIGSEGV, /work/briefs/s3/found-gccjit), and a crash here happens outside any leg, where
 * the campaign can blame no case and restarts the worker on the same block. Compiled one
 * case per af_backend_compile, such a crash is a finding on (case, "backend"). */
__attribute__((unused)) static void gj_prefetch(void *state, const af_case *const *cases, int n) {
  gj_state *st = state;
  drop_entries(st);
  gj_case *k[GJ_MAX_BATCH];
  int avx = -1;
  for (int i = 0; i < n && st->n < GJ_MAX_BATCH; i++) {
    const af_case *c = cases[i];
    if (gj_unsupported(c)) continue;
    if (avx < 0) avx = af_case_needs_avx(c);
    if (af_case_needs_avx(c) != avx) continue;
    gj_entry *e = &st->e[st->n];
    size_t len;
    k[st->n] = calloc(1, sizeof *k[st->n]);
    if (!k[st->n] || af_print_str(c, &e->text, &len) != AF_OK ||
        be_imports_new(&e->imports, NULL) != AF_OK) {
      free(k[st->n]);
      free(e->text);
      memset(e, 0, sizeof *e);
      break;
    }
    e->c = c;
    snprintf(e->prefix, sizeof e->prefix, "c%d_", st->n);
    k[st->n]->c = c;
    k[st->n]->imports = e->imports;
    k[st->n]->objects = be_imports_objects(e->imports);
    memcpy(k[st->n]->prefix, e->prefix, sizeof e->prefix);
    st->n++;
  }
  gcc_jit_result *res = NULL;
  gj_shared *sh = NULL;
  af_status s = st->n > 1 ? compile_cases(k, st->n, avx > 0, &res, NULL) : AF_ERR_INVALID;
  if (s == AF_OK && !(sh = calloc(1, sizeof *sh))) s = AF_ERR_NOMEM;
  for (int i = 0; i < st->n; i++)
    free(k[i]);
  if (s != AF_OK) {
    if (res) gcc_jit_result_release(res);
    drop_entries(st);
    return;
  }
  sh->res = res;
  sh->refs = st->n;
  for (int i = 0; i < st->n; i++)
    st->e[i].shared = sh;
}

const be_kind be_kind_gccjit = {
    .kind = "gccjit",
    .usage = "gccjit",
    .desc = "libgccjit (gcc 12, -O2) building each case's functions in memory; SysV only",
    .has_arg = 0,
    .open = gj_open,
    .close = gj_close,
    .supports_cc = gj_supports_cc,
    .compile = gj_compile,
#ifdef AF_GCCJIT_BATCH
    .prefetch = gj_prefetch,
#else
    .prefetch = NULL,
#endif
};
