/* be_tcc.c - the tcc backend: libtcc compiles a case's ext_code C in memory (SysV only). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libtcc.h>

#include "be_csrc.h"

/* One compiled case: its TCCState owns the code (TCC_RELOCATE_AUTO). */
typedef struct {
  TCCState *tcc;
  char msg[200]; /* the first error tcc reported */
  int nmsg;
} tcc_unit;

static void on_error(void *u, const char *msg) {
  tcc_unit *t = u;
  /* warnings come through here too: keep the first error, else the first message */
  int is_err = strstr(msg, "error") != NULL;
  if (t->nmsg == 0 || (is_err && t->nmsg == 1)) snprintf(t->msg, sizeof t->msg, "%s", msg);
  t->nmsg = is_err ? 2 : (t->nmsg ? t->nmsg : 1);
}

static af_status tcc_open(const char *arg, void **state, af_error *err) {
  (void)arg;
  (void)err;
  *state = NULL;
  return AF_OK;
}

static void tcc_close(void *state) { (void)state; }

/* tcc accepts __attribute__((ms_abi)) and ignores it (be_csrc.c). */
static int tcc_supports(void *state, af_cc cc) {
  (void)state;
  return cc == AF_CC_SYSV;
}

/* Function sizes: libtcc does not give st_size, but lists every symbol (static helpers
 * included) with its address; a function ends where the next symbol above it starts (tcc
 * lays functions out back to back in .text, data after it). */
typedef struct {
  uintptr_t addr[512];
  int n;
} sym_list;

static void on_symbol(void *u, const char *name, const void *val) {
  sym_list *l = u;
  (void)name;
  if (l->n < (int)(sizeof l->addr / sizeof l->addr[0])) l->addr[l->n++] = (uintptr_t)val;
}

static size_t size_of(const sym_list *l, const void *fn) {
  uintptr_t a = (uintptr_t)fn, next = 0;
  for (int i = 0; i < l->n; i++)
    if (l->addr[i] > a && (!next || l->addr[i] < next)) next = l->addr[i];
  return next && next - a < (1u << 20) ? (size_t)(next - a) : 0;
}

static void tcc_release(af_backend_code *code) {
  tcc_unit *t = code->priv;
  if (t) tcc_delete(t->tcc);
  free(t);
}

static af_status tcc_compile(void *state, const af_case *c, af_backend_code *code,
                             const char **skip, af_error *err) {
  (void)state;
  static const be_cc_id id = {BE_CC_TCC, 0, 0};
  const char *why = be_csrc_skip(&id, c);
  if (why) {
    *skip = why;
    snprintf(err->msg, sizeof err->msg, "tcc: %s", why);
    return AF_ERR_UNSUPPORTED;
  }
  char *text = NULL;
  size_t len = 0;
  af_status st = be_csrc_text(c, "", 1, &text, &len, err);
  if (st == AF_ERR_UNSUPPORTED) *skip = "C cannot express the case";
  if (st != AF_OK) return st;
  tcc_unit *t = calloc(1, sizeof *t);
  if (!t || !(t->tcc = tcc_new())) {
    free(t);
    free(text);
    snprintf(err->msg, sizeof err->msg, "tcc: out of memory");
    return AF_ERR_NOMEM;
  }
  code->priv = t;
  code->release = tcc_release;
  tcc_set_error_func(t->tcc, t, on_error);
  tcc_set_output_type(t->tcc, TCC_OUTPUT_MEMORY);
  int bad = tcc_compile_string(t->tcc, text);
  free(text);
  if (bad) {
    snprintf(err->msg, sizeof err->msg, "tcc: the compiler rejected the case: %s", t->msg);
    *skip = "the compiler rejected the case";
    return AF_ERR_UNSUPPORTED;
  }
  /* the imports: host function k is f<k>, the object table af_objects (backend_internal.h) */
  char name[32];
  for (int k = 0; k < c->nfuncs; k++)
    if (c->funcs[k].host) {
      snprintf(name, sizeof name, "f%d", k);
      tcc_add_symbol(t->tcc, name, be_imports_fn(code->imports, k));
    }
  tcc_add_symbol(t->tcc, "af_objects", be_imports_objects(code->imports));
  if (tcc_relocate(t->tcc, TCC_RELOCATE_AUTO) < 0) {
    snprintf(err->msg, sizeof err->msg, "tcc: relocation failed: %s", t->msg);
    return AF_ERR_RUNTIME;
  }
  sym_list *syms = calloc(1, sizeof *syms);
  if (syms) tcc_list_symbols(t->tcc, syms, on_symbol);
  for (int k = 0; k < c->nfuncs; k++) {
    if (c->funcs[k].host) continue;
    snprintf(name, sizeof name, "f%d", k);
    code->ext.fn[k] = tcc_get_symbol(t->tcc, name);
    code->ext.size[k] = syms ? size_of(syms, code->ext.fn[k]) : 0;
    if (!code->ext.fn[k]) {
      snprintf(err->msg, sizeof err->msg, "tcc: the code defines no %s", name);
      free(syms);
      return AF_ERR_RUNTIME;
    }
  }
  free(syms);
  return AF_OK;
}

const be_kind be_kind_tcc = {
    .kind = "tcc",
    .usage = "tcc",
    .desc = "libtcc compiling the case's C in memory (libtcc-dev; SysV only)",
    .has_arg = 0,
    .open = tcc_open,
    .close = tcc_close,
    .supports_cc = tcc_supports,
    .compile = tcc_compile,
    .prefetch = NULL,
};
