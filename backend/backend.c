/* backend.c - opening a backend from its --backend spec, and the steps every kind shares. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_internal.h"

struct af_backend {
  const be_kind *k; /* NULL: builtin */
  void *state;
  char *spec;
};

/* Every kind this build has, in --list-backends order. AF_HAVE_* come from backend.cmake. */
static const be_kind *const kinds[] = {
#ifdef AF_HAVE_BE_CC
    &be_kind_cc,
#endif
#ifdef AF_HAVE_BE_LLVM
    &be_kind_llvm,
#endif
#ifdef AF_HAVE_BE_TCC
    &be_kind_tcc,
#endif
#ifdef AF_HAVE_BE_GCCJIT
    &be_kind_gccjit,
#endif
#ifdef AF_HAVE_BE_PLUGIN
    &be_kind_plugin,
#endif
    NULL};

/* What --list-backends shows: every kind, built in or not. A built-in kind's usage and
 * description are its be_kind's; these say what a missing one needs. */
static af_backend_info infos[] = {
    {"builtin", "builtin", "abifuzz's own JIT (the default)", 1},
    {"cc", "cc:'COMMAND'", "any C compiler and abifuzz's own ELF loader", 0},
    {"llvm", "llvm", "LLVM ORC through the LLVM C API (needs llvm-19-dev)", 0},
    {"tcc", "tcc", "libtcc (needs libtcc-dev)", 0},
    {"gccjit", "gccjit", "libgccjit (needs libgccjit-12-dev)", 0},
    {"plugin", "plugin:PATH.so[:ARG]", "a shared object implementing include/abifuzz/plugin.h", 0},
};

static const be_kind *find_kind(const char *name, size_t len) {
  for (int i = 0; kinds[i]; i++)
    if (strlen(kinds[i]->kind) == len && !strncmp(kinds[i]->kind, name, len)) return kinds[i];
  return NULL;
}

const af_backend_info *af_backend_kinds(int *n) {
  int m = (int)(sizeof infos / sizeof infos[0]);
  for (int i = 1; i < m; i++) {
    const be_kind *k = find_kind(infos[i].kind, strlen(infos[i].kind));
    infos[i].available = k != NULL;
    if (k) infos[i].usage = k->usage, infos[i].desc = k->desc;
  }
  *n = m;
  return infos;
}

static af_status fail(af_error *err, af_status s, const char *fmt, const char *a) {
  if (err) snprintf(err->msg, sizeof err->msg, fmt, a);
  return s;
}

af_status af_backend_open(const char *spec, af_backend **out, af_error *err) {
  *out = NULL;
  if (!spec || !*spec) spec = "builtin";
  const char *colon = strchr(spec, ':');
  size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
  const be_kind *k = NULL;
  if (!(len == 7 && !strncmp(spec, "builtin", 7))) {
    k = find_kind(spec, len);
    if (!k) {
      int n;
      const af_backend_info *in = af_backend_kinds(&n);
      for (int i = 0; i < n; i++)
        if (strlen(in[i].kind) == len && !strncmp(in[i].kind, spec, len))
          return fail(err, AF_ERR_UNSUPPORTED,
                      "backend %s is not built into this abifuzz (see --list-backends)", spec);
      return fail(err, AF_ERR_INVALID,
                  "unknown backend '%s' (builtin, cc:'COMMAND', llvm, tcc, gccjit, "
                  "plugin:PATH.so[:ARG])",
                  spec);
    }
    if (k->has_arg && (!colon || !colon[1]))
      return fail(err, AF_ERR_INVALID, "backend %s needs an argument (see --list-backends)", spec);
    if (!k->has_arg && colon)
      return fail(err, AF_ERR_INVALID, "backend %s takes no argument", spec);
  } else if (colon) {
    return fail(err, AF_ERR_INVALID, "backend %s takes no argument", spec);
  }
  af_backend *b = calloc(1, sizeof *b);
  if (!b || !(b->spec = strdup(spec))) {
    free(b);
    return fail(err, AF_ERR_NOMEM, "out of memory%s", "");
  }
  b->k = k;
  if (k) {
    af_status s = k->open(k->has_arg ? colon + 1 : NULL, &b->state, err);
    if (s != AF_OK) {
      free(b->spec);
      free(b);
      return s;
    }
  }
  *out = b;
  return AF_OK;
}

void af_backend_close(af_backend *b) {
  if (!b) return;
  if (b->k && b->k->close) b->k->close(b->state);
  free(b->spec);
  free(b);
}

const char *af_backend_spec(const af_backend *b) { return b ? b->spec : "builtin"; }
const char *af_backend_kind(const af_backend *b) { return b && b->k ? b->k->kind : "builtin"; }
int af_backend_is_builtin(const af_backend *b) { return !b || !b->k; }

int af_backend_supports_cc(const af_backend *b, af_cc cc) {
  if (!b || !b->k || !b->k->supports_cc) return 1;
  return b->k->supports_cc(b->state, cc);
}

int af_backend_batches(const af_backend *b) { return b && b->k && b->k->prefetch; }

void af_backend_prefetch(af_backend *b, const af_case *const *cases, int n) {
  if (b && b->k && b->k->prefetch && n > 0) b->k->prefetch(b->state, cases, n);
}

af_status af_backend_compile(af_backend *b, const af_case *c, af_backend_code **out,
                             const char **skip, af_error *err) {
  *out = NULL;
  if (skip) *skip = NULL;
  if (!b || !b->k) return fail(err, AF_ERR_INVALID, "the builtin backend compiles nothing%s", "");
  for (int k = 0; k < c->nfuncs; k++)
    if (!c->funcs[k].host && !af_backend_supports_cc(b, c->funcs[k].sig.cc)) {
      if (skip)
        *skip = c->funcs[k].sig.cc == AF_CC_WIN64 ? "the backend has no Win64 convention"
                                                  : "the backend has no SysV convention";
      return fail(err, AF_ERR_UNSUPPORTED, "%s cannot compile this convention", b->spec);
    }
  af_backend_code *code = calloc(1, sizeof *code);
  if (!code) return fail(err, AF_ERR_NOMEM, "out of memory%s", "");
  af_status s = be_imports_new(&code->imports, err);
  if (s != AF_OK) {
    free(code);
    return s;
  }
  code->ext.name = b->spec;
  code->ext.objects = be_imports_objects(code->imports);
  const char *why = NULL;
  s = b->k->compile(b->state, c, code, &why, err);
  if (s != AF_OK) {
    if (skip) *skip = why;
    af_backend_code_free(code);
    return s;
  }
  code->ext.name = b->spec;
  *out = code;
  return AF_OK;
}

const af_jit_ext *af_backend_ext(const af_backend_code *code) { return code ? &code->ext : NULL; }

void af_backend_bind(af_backend_code *code, int k, const void *target) {
  if (code && code->imports) be_imports_bind(code->imports, k, target);
}

void af_backend_code_free(af_backend_code *code) {
  if (!code) return;
  if (code->release) code->release(code);
  be_imports_free(code->imports);
  free(code);
}

af_status af_backend_link(af_backend_code *code, const af_case *c, const af_jit_opts *o,
                          af_jit **jit, af_error *err) {
  af_jit_opts jo = {0};
  if (o) jo = *o;
  jo.ext = af_backend_ext(code);
  af_status s = af_jit_compile(c, &jo, jit, err);
  if (s != AF_OK || !code) return s;
  for (int k = 0; k < c->nfuncs; k++)
    af_backend_bind(code, k, af_jit_fn(*jit, k));
  return AF_OK;
}
