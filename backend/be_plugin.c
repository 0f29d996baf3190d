/* be_plugin.c - the plugin backend kind: a shared object implementing include/abifuzz/plugin.h. */
#define _GNU_SOURCE /* open_memstream */
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abifuzz/plugin.h"
#include "backend_internal.h"
#include "oracle.h"

/* The public header spells the model's limits and conventions with its own names: they must
 * stay equal, or a plugin built against it would index past our tables. */
_Static_assert(ABIFUZZ_MAX_FUNCS == AF_MAX_FUNCS, "plugin.h ABIFUZZ_MAX_FUNCS != AF_MAX_FUNCS");
_Static_assert(ABIFUZZ_MAX_OBJECTS == AF_MAX_OBJECTS, "plugin.h ABIFUZZ_MAX_OBJECTS");
_Static_assert(ABIFUZZ_ABI_SYSV == AF_CC_SYSV && ABIFUZZ_ABI_WIN64 == AF_CC_WIN64,
               "plugin.h ABIFUZZ_ABI_* != af_cc");

/* Skip reasons come from the plugin's buffer, but af_backend_compile hands out a constant
 * sentence that callers count by and may keep after af_backend_close (tests/backend_testlib.h
 * prints them then). So each distinct sentence is kept once for the life of the process: the
 * one global of this file, a bounded, append-only pool of strings (not state that changes
 * what any call does). */
#define MAX_REASONS 64
#define REASON_LEN  120
static struct {
  pthread_mutex_t lock;
  int n;
  char *s[MAX_REASONS];
} reason_pool = {PTHREAD_MUTEX_INITIALIZER, 0, {0}};

typedef struct {
  char *path;
  char *arg; /* NULL: none */
  void *dl;
  void *state; /* the plugin's, from init */
  abifuzz_plugin_init_fn init;
  abifuzz_plugin_fini_fn fini;
  abifuzz_plugin_supports_abi_fn supports_abi;
  abifuzz_plugin_compile_fn compile;
  abifuzz_plugin_release_fn release;
} plugin;

/* What one compiled case keeps: the plugin's answer, handed back to its release. */
typedef struct {
  plugin *p;
  struct abifuzz_code code;
} plugin_code;

static af_status fail(af_error *err, af_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static af_status fail(af_error *err, af_status s, const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
  }
  return s;
}

/* The plugin's why buffer as one NUL-terminated line (reports and skip tables are line-based). */
static void one_line(char *why, size_t n) {
  why[n - 1] = 0;
  for (char *q = why; *q; q++)
    if ((unsigned char)*q < 0x20 || *q == 0x7f) *q = ' ';
  for (size_t len = strlen(why); len && why[len - 1] == ' ';)
    why[--len] = 0;
}

static void plugin_free(plugin *p) {
  if (!p) return;
  if (p->dl) dlclose(p->dl);
  free(p->path);
  free(p->arg);
  free(p);
}

/* spec "plugin:PATH[:ARG]": PATH ends at the first ':' (a path with ':' cannot be named);
 * ARG is the rest, verbatim (it may hold ':' and spaces), for the plugin's init. */
static af_status plugin_open(const char *spec_arg, void **state, af_error *err) {
  *state = NULL;
  plugin *p = calloc(1, sizeof *p);
  if (!p) return fail(err, AF_ERR_NOMEM, "out of memory");
  const char *colon = strchr(spec_arg, ':');
  size_t n = colon ? (size_t)(colon - spec_arg) : strlen(spec_arg);
  p->path = strndup(spec_arg, n);
  if (colon) p->arg = strdup(colon + 1);
  if (!p->path || (colon && !p->arg)) {
    plugin_free(p);
    return fail(err, AF_ERR_NOMEM, "out of memory");
  }
  if (!n) {
    plugin_free(p);
    return fail(err, AF_ERR_INVALID, "plugin: no path (plugin:PATH.so[:ARG])");
  }
  p->dl = dlopen(p->path, RTLD_NOW | RTLD_LOCAL);
  if (!p->dl) {
    const char *e = dlerror();
    af_status s = fail(err, AF_ERR_UNSUPPORTED, "plugin %s: cannot load: %s", p->path,
                       e ? e : "dlopen failed");
    plugin_free(p);
    return s;
  }
  const unsigned *ver = dlsym(p->dl, "abifuzz_plugin_api_version");
  af_status s = AF_OK;
  if (!ver) {
    s = fail(err, AF_ERR_UNSUPPORTED,
             "plugin %s: not an abifuzz plugin (no abifuzz_plugin_api_version symbol)", p->path);
  } else if (*ver != ABIFUZZ_PLUGIN_API_VERSION) {
    s = fail(err, AF_ERR_UNSUPPORTED,
             "plugin %s: built for plugin API version %u, this abifuzz speaks version %u "
             "(rebuild it against this abifuzz's include/abifuzz/plugin.h)",
             p->path, *ver, (unsigned)ABIFUZZ_PLUGIN_API_VERSION);
  } else {
    /* dlsym returns void *; POSIX guarantees it converts to a function pointer. */
    *(void **)&p->init = dlsym(p->dl, "abifuzz_plugin_init");
    *(void **)&p->fini = dlsym(p->dl, "abifuzz_plugin_fini");
    *(void **)&p->supports_abi = dlsym(p->dl, "abifuzz_plugin_supports_abi");
    *(void **)&p->compile = dlsym(p->dl, "abifuzz_plugin_compile");
    *(void **)&p->release = dlsym(p->dl, "abifuzz_plugin_release");
    if (!p->compile || !p->release)
      s = fail(err, AF_ERR_UNSUPPORTED, "plugin %s: missing %s (see include/abifuzz/plugin.h)",
               p->path, !p->compile ? "abifuzz_plugin_compile" : "abifuzz_plugin_release");
  }
  if (s == AF_OK && p->init) {
    char why[256] = "";
    int rc = p->init(p->arg, &p->state, why, sizeof why);
    one_line(why, sizeof why);
    if (rc != ABIFUZZ_PLUGIN_OK) {
      s = fail(err, AF_ERR_UNSUPPORTED, "plugin %s: init failed: %s", p->path,
               why[0] ? why : "(no reason given)");
      p->fini = NULL; /* not initialised: nothing to finish */
    }
  }
  if (s != AF_OK) {
    plugin_free(p);
    return s;
  }
  *state = p;
  return AF_OK;
}

static void plugin_close(void *state) {
  plugin *p = state;
  if (!p) return;
  if (p->fini) p->fini(p->state);
  plugin_free(p);
}

static int plugin_supports_cc(void *state, af_cc cc) {
  plugin *p = state;
  return !p->supports_abi || p->supports_abi(p->state, (int)cc);
}

/* The plugin's skip sentence as a constant: the same text, the same pointer, for good. */
static const char *intern_reason(const char *why) {
  if (!why[0]) return "the plugin cannot express this case";
  const char *r = NULL;
  pthread_mutex_lock(&reason_pool.lock);
  for (int i = 0; i < reason_pool.n && !r; i++)
    if (!strncmp(reason_pool.s[i], why, REASON_LEN)) r = reason_pool.s[i];
  if (!r && reason_pool.n < MAX_REASONS && (r = strndup(why, REASON_LEN)))
    reason_pool.s[reason_pool.n++] = (char *)r;
  pthread_mutex_unlock(&reason_pool.lock);
  return r ? r : "the plugin skipped (too many distinct reasons)";
}

/* ---- what the plugin is told about a case ------------------------------------------------ */
static unsigned long kinds_of(const af_case *c, int t) {
  static const struct {
    af_kind k;
    unsigned long f;
  } map[] = {
      {AF_T_I128, ABIFUZZ_FEAT_INT128},  {AF_T_U128, ABIFUZZ_FEAT_INT128},
      {AF_T_F16, ABIFUZZ_FEAT_F16},      {AF_T_F80, ABIFUZZ_FEAT_LONG_DOUBLE},
      {AF_T_CF32, ABIFUZZ_FEAT_COMPLEX}, {AF_T_CF64, ABIFUZZ_FEAT_COMPLEX},
      {AF_T_M128, ABIFUZZ_FEAT_M128},    {AF_T_M256, ABIFUZZ_FEAT_M256},
  };
  unsigned long f = 0;
  if (t < 0 || t >= c->ntypes) return 0;
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (t == (int)map[i].k || (t >= AF_T_NSCALAR && af_type_has(c, t, map[i].k))) f |= map[i].f;
  return f;
}

/* ABIFUZZ_FEAT_* of c: the type table's composites, every value's type, the conventions. */
static unsigned long case_features(const af_case *c) {
  unsigned long f = 0;
  for (int t = AF_T_NSCALAR; t < c->ntypes; t++) {
    const af_type *ty = &c->types[t];
    f |= kinds_of(c, t);
    if (ty->kind == AF_T_ARRAY) {
      f |= ABIFUZZ_FEAT_ARRAY;
      continue;
    }
    f |= ty->kind == AF_T_UNION ? ABIFUZZ_FEAT_UNION : ABIFUZZ_FEAT_STRUCT;
    if (ty->packed) f |= ABIFUZZ_FEAT_PACKED;
    if (ty->align) f |= ABIFUZZ_FEAT_ALIGNED;
    if (ty->size == 0) f |= ABIFUZZ_FEAT_EMPTY;
    for (int i = 0; i < ty->nfields; i++) {
      if (ty->fields[i].bits >= 0) f |= ABIFUZZ_FEAT_BITFIELD;
      if (ty->fields[i].align) f |= ABIFUZZ_FEAT_ALIGNED;
    }
  }
  for (int k = 0; k < c->nfuncs; k++) {
    const af_func *fn = &c->funcs[k];
    f |= fn->sig.cc == AF_CC_WIN64 ? ABIFUZZ_FEAT_WIN64 : ABIFUZZ_FEAT_SYSV;
    if (fn->sig.variadic) f |= ABIFUZZ_FEAT_VARIADIC;
    f |= kinds_of(c, fn->sig.ret);
    for (int v = 0; v < fn->sig.nparams; v++)
      f |= kinds_of(c, fn->sig.params[v]);
    for (int v = 0; fn->value_type && v < fn->nvalues; v++)
      f |= kinds_of(c, fn->value_type[v]);
    for (int i = 0; i < fn->ninsts; i++) {
      af_op op = fn->insts[i].op;
      f |= kinds_of(c, fn->insts[i].type);
      if (op == AF_OP_LOCAL) f |= ABIFUZZ_FEAT_LOCAL;
      if (op == AF_OP_LOAD || op == AF_OP_STORE) f |= ABIFUZZ_FEAT_MEMORY;
    }
  }
  return f;
}

/* The case as external-code C (oracle.h ext_code, prefix ""): malloc'd, or NULL when the
 * emitter cannot write it (the plugin then has case_text only). */
static char *case_c(const af_case *c, af_status *st, af_error *err) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) {
    *st = AF_ERR_NOMEM;
    return NULL;
  }
  af_emit_opts o;
  af_emit_opts_default(&o);
  o.emit_main = 0;
  o.prefix = "";
  o.ext_code = 1;
  *st = af_emit_c(c, &o, f, err);
  if (fclose(f) != 0 && *st == AF_OK) *st = AF_ERR_NOMEM;
  if (*st != AF_OK) {
    free(buf);
    return NULL;
  }
  return buf;
}

static void plugin_code_release(af_backend_code *code) {
  plugin_code *pc = code->priv;
  if (!pc) return;
  pc->p->release(pc->p->state, &pc->code);
  free(pc);
  code->priv = NULL;
}

static af_status plugin_compile(void *state, const af_case *c, af_backend_code *code,
                                const char **skip, af_error *err) {
  plugin *p = state;
  char *text = NULL, *src = NULL;
  size_t tlen = 0;
  af_status s = af_print_str(c, &text, &tlen);
  if (s != AF_OK) return fail(err, s, "plugin %s: cannot print the case", p->path);
  af_error eerr = {{0}};
  af_status es = AF_OK;
  src = case_c(c, &es, &eerr);
  if (!src && es != AF_ERR_UNSUPPORTED) {
    free(text);
    return fail(err, es, "plugin %s: cannot write the case as C: %s", p->path, eerr.msg);
  }

  struct abifuzz_func funcs[AF_MAX_FUNCS];
  struct abifuzz_import imports[AF_MAX_FUNCS + 1];
  char names[AF_MAX_FUNCS][8];
  int nimports = 0;
  for (int k = 0; k < c->nfuncs; k++) {
    const af_func *fn = &c->funcs[k];
    snprintf(names[k], sizeof names[k], "f%d", k);
    funcs[k] = (struct abifuzz_func){.name = names[k],
                                     .is_host = fn->host,
                                     .abi = (int)fn->sig.cc,
                                     .variadic = fn->sig.variadic,
                                     .nparams = fn->sig.nparams,
                                     .nfixed = fn->sig.nfixed};
    if (fn->host)
      imports[nimports++] =
          (struct abifuzz_import){names[k], (void *)be_imports_fn(code->imports, k)};
  }
  imports[nimports++] = (struct abifuzz_import){"af_objects", be_imports_objects(code->imports)};

  unsigned long feat = case_features(c);
  struct abifuzz_case pcase = {
      .api_version = ABIFUZZ_PLUGIN_API_VERSION,
      .seed = c->seed,
      .index = c->index,
      .case_text = text,
      .c_source = src,
      .c_flags =
          (feat & ABIFUZZ_FEAT_M256) ? "-std=gnu11 -Wno-psabi -mavx" : "-std=gnu11 -Wno-psabi",
      .features = feat,
      .abi = (int)c->funcs[c->entry].sig.cc,
      .entry = c->entry,
      .nfuncs = c->nfuncs,
      .funcs = funcs,
      .nimports = nimports,
      .imports = imports,
  };
  plugin_code *pc = calloc(1, sizeof *pc);
  if (!pc) {
    free(text);
    free(src);
    return fail(err, AF_ERR_NOMEM, "out of memory");
  }
  pc->p = p;
  char why[256] = "";
  int rc = p->compile(p->state, &pcase, &pc->code, why, sizeof why);
  one_line(why, sizeof why);
  free(text);
  free(src);
  if (rc == ABIFUZZ_PLUGIN_SKIP) {
    free(pc);
    *skip = intern_reason(why);
    return fail(err, AF_ERR_UNSUPPORTED, "plugin %s: %s", p->path, *skip);
  }
  if (rc != ABIFUZZ_PLUGIN_OK) {
    free(pc);
    if (rc == ABIFUZZ_PLUGIN_ERROR)
      return fail(err, AF_ERR_RUNTIME, "plugin %s: %s", p->path, why[0] ? why : "error");
    return fail(err, AF_ERR_RUNTIME, "plugin %s: compile returned %d (not 0, 1 or 2)", p->path, rc);
  }
  code->priv = pc;
  code->release = plugin_code_release;
  for (int k = 0; k < c->nfuncs; k++) {
    if (c->funcs[k].host) continue;
    if (!pc->code.fn[k]) /* af_backend_compile frees code, which releases the plugin's answer */
      return fail(err, AF_ERR_RUNTIME, "plugin %s: compiled the case but returned no code for f%d",
                  p->path, k);
    code->ext.fn[k] = pc->code.fn[k];
    code->ext.size[k] = pc->code.size[k];
  }
  return AF_OK;
}

const be_kind be_kind_plugin = {
    .kind = "plugin",
    .usage = "plugin:PATH.so[:ARG]",
    .desc = "a shared object implementing include/abifuzz/plugin.h (doc/plugins.md); ARG goes "
            "to its init",
    .has_arg = 1,
    .open = plugin_open,
    .close = plugin_close,
    .supports_cc = plugin_supports_cc,
    .compile = plugin_compile,
    .prefetch = NULL,
};
