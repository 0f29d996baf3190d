/* cc_plugin.c - an example abifuzz plugin: compiles each case's C with a C compiler into a
 * shared object and hands abifuzz its functions. Copy it to start your own plugin. */

/* Build it against the installed header (doc/plugins.md):
 *
 *   cc -std=gnu11 -O2 -fPIC -shared -I PREFIX/include cc_plugin.c -o libabifuzz_cc_plugin.so
 *
 * and run a campaign with it (ARG, after the second ':', is the compiler command; without it
 * $ABIFUZZ_CC, else `cc -O1`; the command is used as given, so put -O in it):
 *
 *   abifuzz --arch x64 --abi sysv --backend plugin:./libabifuzz_cc_plugin.so --time 60
 *   abifuzz --arch x64 --abi win64 --backend 'plugin:./libabifuzz_cc_plugin.so:clang-19 -O2'
 *
 * What it does for every case (abifuzz_plugin_compile):
 *   1. writes c->c_source (the case as C: the functions under test defined, the host
 *      functions and the object table declared extern) to case.c in a fresh temp directory;
 *   2. runs `COMPILER c_flags -fPIC -shared -o case.so case.c -Wl,--defsym=NAME=0xADDR...`:
 *      each import (host function f<k>, af_objects) becomes an absolute symbol, so the code
 *      calls abifuzz's stubs and reads abifuzz's object table directly;
 *   3. dlopens case.so, looks up f<k> for every non-host function, removes the directory;
 *   4. abifuzz runs the functions, then calls abifuzz_plugin_release, which dlcloses it.
 * A plugin that wants to find bugs in its own JIT replaces steps 1-3 with its JIT reading
 * c->case_text (doc/case-format.md) or c->c_source.
 *
 * It needs a compiler driver whose linker has --defsym (gcc, clang: GNU ld, gold, lld). */
#define _GNU_SOURCE /* dladdr1, mkdtemp */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "abifuzz/plugin.h"

/* The version abifuzz checks before anything else. */
ABIFUZZ_PLUGIN_DEFINE_VERSION;

/* Everything the plugin keeps between calls: abifuzz hands it back (no globals). */
typedef struct {
  char compiler[512]; /* the command's start, e.g. "cc" or "clang-19 -O2" */
  char tmpdir[256];   /* where the per-case directories go */
  int has_avx;        /* the CPU runs __m256 code (ABIFUZZ_FEAT_M256) */
} cc_plugin;

/* Runs `sh -c cmd` and waits. Returns the exit status, or -N when a signal N killed it. */
static int run_shell(const char *cmd) {
  pid_t pid = fork();
  if (pid < 0) return 127;
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
    _exit(127);
  }
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return 127;
  if (WIFSIGNALED(st)) return -WTERMSIG(st);
  return WEXITSTATUS(st);
}

int abifuzz_plugin_init(const char *arg, void **state, char *why, unsigned long nwhy) {
  const char *cc = arg && *arg ? arg : getenv("ABIFUZZ_CC");
  if (!cc || !*cc) cc = "cc -O1";
  cc_plugin *p = calloc(1, sizeof *p);
  if (!p) {
    snprintf(why, nwhy, "out of memory");
    return ABIFUZZ_PLUGIN_ERROR;
  }
  snprintf(p->compiler, sizeof p->compiler, "%s", cc);
  const char *t = getenv("TMPDIR");
  snprintf(p->tmpdir, sizeof p->tmpdir, "%s", t && *t ? t : "/tmp");
  p->has_avx = __builtin_cpu_supports("avx");
  /* The imports become absolute symbols through the linker's --defsym (GNU ld, gold, lld);
   * tcc's linker has none: abifuzz's own `--backend tcc` or `cc:` drive tcc. */
  if (strstr(p->compiler, "tcc")) {
    snprintf(why, nwhy,
             "the example needs a linker with --defsym (gcc, clang): for tcc use "
             "--backend tcc");
    free(p);
    return ABIFUZZ_PLUGIN_ERROR;
  }
  /* Fail now, with a clear message, rather than once per case. */
  char cmd[1100];
  snprintf(cmd, sizeof cmd, "%s --version >/dev/null 2>&1 || %s -v >/dev/null 2>&1", p->compiler,
           p->compiler);
  if (run_shell(cmd) != 0) {
    snprintf(why, nwhy, "cannot run the compiler '%s'", p->compiler);
    free(p);
    return ABIFUZZ_PLUGIN_ERROR;
  }
  *state = p;
  return ABIFUZZ_PLUGIN_OK;
}

void abifuzz_plugin_fini(void *state) { free(state); }

/* Removes the per-case directory and what is in it. */
static void remove_dir(const char *dir) {
  static const char *const files[] = {"case.c", "case.so", "errors.txt"};
  char path[512];
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, files[i]);
    unlink(path);
  }
  rmdir(dir);
}

/* Steps 1-2: c_source to dir/case.so. Returns ABIFUZZ_PLUGIN_*. */
static int build(const cc_plugin *p, const struct abifuzz_case *c, const char *dir, char *why,
                 unsigned long nwhy) {
  char path[512];
  snprintf(path, sizeof path, "%s/case.c", dir);
  FILE *f = fopen(path, "w");
  if (!f || fputs(c->c_source, f) < 0 || fclose(f) != 0) {
    snprintf(why, nwhy, "cannot write %s", path);
    return ABIFUZZ_PLUGIN_ERROR;
  }
  /* The command: compiler, the flags the C needs, a shared object, one --defsym per import.
   * Absolute symbols need no relocation against a section, so the object calls abifuzz's
   * import stubs at their fixed addresses (through its PLT). */
  size_t cap = 2048 + (size_t)c->nimports * 64, len = 0;
  char *cmd = malloc(cap);
  if (!cmd) {
    snprintf(why, nwhy, "out of memory");
    return ABIFUZZ_PLUGIN_ERROR;
  }
  len += (size_t)snprintf(cmd + len, cap - len, "%s %s -fPIC -shared -o %s/case.so %s/case.c",
                          p->compiler, c->c_flags, dir, dir);
  for (int i = 0; i < c->nimports; i++)
    len += (size_t)snprintf(cmd + len, cap - len, " -Wl,--defsym=%s=%p", c->imports[i].name,
                            c->imports[i].addr);
  snprintf(cmd + len, cap - len, " >%s/errors.txt 2>&1", dir);
  int rc = run_shell(cmd);
  free(cmd);
  if (rc < 0) { /* the compiler crashed: a finding about the compiler, not a skip */
    snprintf(why, nwhy, "the compiler was killed by signal %d", -rc);
    return ABIFUZZ_PLUGIN_ERROR;
  }
  if (rc != 0) {
    /* The C is valid GNU C11, but not every compiler has every extension (clang-14 has no
     * _Float16): count it as a skip with a constant reason. A plugin that wants the details
     * reads them from errors.txt before the directory goes. */
    snprintf(why, nwhy, "the compiler rejected the case");
    return ABIFUZZ_PLUGIN_SKIP;
  }
  return ABIFUZZ_PLUGIN_OK;
}

int abifuzz_plugin_compile(void *state, const struct abifuzz_case *c, struct abifuzz_code *out,
                           char *why, unsigned long nwhy) {
  const cc_plugin *p = state;
  if (!c->c_source) {
    snprintf(why, nwhy, "abifuzz could not write this case as C");
    return ABIFUZZ_PLUGIN_SKIP;
  }
  if ((c->features & ABIFUZZ_FEAT_M256) && !p->has_avx) {
    /* c->features names what a case uses: refusing by it is cheaper than a failed compile
     * or a SIGILL, and the constant reason is counted. */
    snprintf(why, nwhy, "this CPU has no AVX (the case uses __m256)");
    return ABIFUZZ_PLUGIN_SKIP;
  }
  char dir[300];
  snprintf(dir, sizeof dir, "%s/abifuzz-plugin-XXXXXX", p->tmpdir);
  if (!mkdtemp(dir)) {
    snprintf(why, nwhy, "cannot create a directory in %s: %s", p->tmpdir, strerror(errno));
    return ABIFUZZ_PLUGIN_ERROR;
  }
  int rc = build(p, c, dir, why, nwhy);
  if (rc != ABIFUZZ_PLUGIN_OK) {
    remove_dir(dir);
    return rc;
  }
  /* Step 3: load it. RTLD_LOCAL keeps this case's f<k> out of the next case's way. */
  char so[512];
  snprintf(so, sizeof so, "%s/case.so", dir);
  void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
  remove_dir(dir); /* the mapping stays valid once loaded */
  if (!h) {
    const char *e = dlerror();
    snprintf(why, nwhy, "dlopen: %s", e ? e : "failed");
    return ABIFUZZ_PLUGIN_ERROR;
  }
  for (int k = 0; k < c->nfuncs; k++) {
    if (c->funcs[k].is_host) continue;
    void *fn = dlsym(h, c->funcs[k].name);
    if (!fn) {
      snprintf(why, nwhy, "the shared object has no %s", c->funcs[k].name);
      dlclose(h);
      return ABIFUZZ_PLUGIN_ERROR;
    }
    out->fn[k] = fn;
    /* The symbol's size lets abifuzz say which function a crash is in (optional). */
    Dl_info info;
    const ElfW(Sym) *sym = NULL;
    if (dladdr1(fn, &info, (void **)&sym, RTLD_DL_SYMENT) && sym) out->size[k] = sym->st_size;
  }
  out->opaque = h;
  return ABIFUZZ_PLUGIN_OK;
}

void abifuzz_plugin_release(void *state, struct abifuzz_code *code) {
  (void)state;
  if (code->opaque) dlclose(code->opaque);
  code->opaque = NULL;
}
