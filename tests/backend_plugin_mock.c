/* backend_plugin_mock.c - plugins that misbehave on purpose, for test_backend_plugin's error
 * paths. One source, three builds (tests/backend_plugin.cmake):
 *   libabifuzz_mock_plugin.so      a well-formed plugin whose ARG picks its behaviour
 *   libabifuzz_mock_badver.so      MOCK_VERSION=99: a plugin built for another API version
 *   libabifuzz_mock_nosyms.so      MOCK_NO_SYMBOLS: a shared object that is no plugin
 * The test dlopens the same file to read the mock_* counters and the last case it was given
 * (a test double may keep globals: they are what the test observes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abifuzz/plugin.h"

#ifdef MOCK_NO_SYMBOLS
int mock_not_a_plugin(void) { return 42; }
#else

#ifdef MOCK_VERSION
const unsigned abifuzz_plugin_api_version = MOCK_VERSION;
#else
ABIFUZZ_PLUGIN_DEFINE_VERSION;
#endif

/* What the test reads back. */
int mock_inits, mock_finis, mock_compiles, mock_releases;
struct abifuzz_case mock_last; /* pointers cleared: they die with the call */
struct abifuzz_func mock_last_funcs[ABIFUZZ_MAX_FUNCS];
struct abifuzz_import mock_last_imports[ABIFUZZ_MAX_FUNCS + 1];
char mock_last_import_names[ABIFUZZ_MAX_FUNCS + 1][16];
char *mock_last_text, *mock_last_c; /* copies (malloc'd) */
char mock_last_flags[64];

typedef struct {
  char mode[32];
} mock;

int abifuzz_plugin_init(const char *arg, void **state, char *why, unsigned long nwhy) {
  mock_inits++;
  if (arg && !strcmp(arg, "initfail")) {
    snprintf(why, nwhy, "mock init refuses");
    return ABIFUZZ_PLUGIN_ERROR;
  }
  mock *m = calloc(1, sizeof *m);
  if (!m) return ABIFUZZ_PLUGIN_ERROR;
  snprintf(m->mode, sizeof m->mode, "%s", arg ? arg : "");
  *state = m;
  return ABIFUZZ_PLUGIN_OK;
}

void abifuzz_plugin_fini(void *state) {
  mock_finis++;
  free(state);
}

int abifuzz_plugin_supports_abi(void *state, int abi) {
  const mock *m = state;
  return strcmp(m->mode, "sysvonly") || abi == ABIFUZZ_ABI_SYSV;
}

static void record(const struct abifuzz_case *c) {
  mock_last = *c;
  for (int k = 0; k < c->nfuncs && k < ABIFUZZ_MAX_FUNCS; k++)
    mock_last_funcs[k] = c->funcs[k];
  for (int i = 0; i < c->nimports && i <= ABIFUZZ_MAX_FUNCS; i++) {
    mock_last_imports[i] = c->imports[i];
    snprintf(mock_last_import_names[i], sizeof mock_last_import_names[i], "%s", c->imports[i].name);
    mock_last_imports[i].name = mock_last_import_names[i];
  }
  free(mock_last_text);
  free(mock_last_c);
  mock_last_text = c->case_text ? strdup(c->case_text) : NULL;
  mock_last_c = c->c_source ? strdup(c->c_source) : NULL;
  snprintf(mock_last_flags, sizeof mock_last_flags, "%s", c->c_flags ? c->c_flags : "");
  mock_last.case_text = mock_last.c_source = mock_last.c_flags = NULL;
  mock_last.funcs = NULL;
  mock_last.imports = NULL;
}

int abifuzz_plugin_compile(void *state, const struct abifuzz_case *c, struct abifuzz_code *out,
                           char *why, unsigned long nwhy) {
  const mock *m = state;
  mock_compiles++;
  record(c);
  if (!strcmp(m->mode, "error")) {
    snprintf(why, nwhy, "the mock fails");
    return ABIFUZZ_PLUGIN_ERROR;
  }
  if (!strcmp(m->mode, "bad")) return 7;
  if (!strcmp(m->mode, "nocode")) {
    out->opaque = malloc(1); /* release must free it */
    return ABIFUZZ_PLUGIN_OK;
  }
  if (!strcmp(m->mode, "silent")) return ABIFUZZ_PLUGIN_SKIP; /* no reason given */
  snprintf(why, nwhy, "the mock skips every case");
  return ABIFUZZ_PLUGIN_SKIP;
}

void abifuzz_plugin_release(void *state, struct abifuzz_code *code) {
  (void)state;
  mock_releases++;
  free(code->opaque);
}
#endif
