/* cc_run.c - compile an emitted C file with a given compiler, run it, read its checksum. */
#define _GNU_SOURCE /* mkdtemp */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "oracle.h"

#define CC_COMPILE_TIMEOUT_S 300
#define CC_RUN_TIMEOUT_S     60
#define CC_MAX_ARGS          64

/* Runs argv with stdout and stderr sent to files (NULL: /dev/null) and a
 * wall-clock limit (SIGALRM survives exec). Returns the wait status, -1 when
 * the program could not be started (errno in *eno). */
static int spawn_wait(char *const argv[], const char *out_path, const char *err_path,
                      unsigned timeout_s, int *eno) {
  int pfd[2];
  if (pipe2(pfd, O_CLOEXEC) != 0) return -1;
  pid_t pid = fork();
  if (pid < 0) {
    close(pfd[0]);
    close(pfd[1]);
    return -1;
  }
  if (pid == 0) {
    close(pfd[0]);
    /* plain descriptors: the parent's stdio buffers must not be flushed twice */
    int fo = open(out_path ? out_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int fe = open(err_path ? err_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fo < 0 || fe < 0 || dup2(fo, 1) < 0 || dup2(fe, 2) < 0) _exit(127);
    close(fo);
    close(fe);
    alarm(timeout_s);
    execvp(argv[0], argv);
    int x = errno;
    if (write(pfd[1], &x, sizeof x) < 0) _exit(127);
    _exit(127);
  }
  close(pfd[1]);
  int x = 0;
  ssize_t n = read(pfd[0], &x, sizeof x); /* EOF when exec succeeded (close-on-exec) */
  close(pfd[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (n == (ssize_t)sizeof x) {
    *eno = x;
    return -1;
  }
  return status;
}

static char *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 4096, n = 0;
  char *b = malloc(cap + 1);
  while (b) {
    size_t r = fread(b + n, 1, cap - n, f);
    n += r;
    if (n < cap) break;
    char *nb = realloc(b, cap * 2 + 1);
    if (!nb) {
      free(b);
      b = NULL;
      break;
    }
    b = nb;
    cap *= 2;
  }
  fclose(f);
  if (b) {
    b[n] = 0;
    if (len) *len = n;
  }
  return b;
}

/* The first line of the compiler's output that says "error" (else the first). */
static void first_error_line(const char *text, char *buf, size_t n) {
  const char *line = text, *pick = NULL;
  while (line && *line) {
    const char *e = strchr(line, '\n');
    size_t len = e ? (size_t)(e - line) : strlen(line);
    if (!pick && len) pick = line;
    if (memmem(line, len, "error", 5)) {
      pick = line;
      break;
    }
    line = e ? e + 1 : NULL;
  }
  if (!pick) {
    snprintf(buf, n, "(no output)");
    return;
  }
  const char *e = strchr(pick, '\n');
  size_t len = e ? (size_t)(e - pick) : strlen(pick);
  if (len >= n) len = n - 1;
  memcpy(buf, pick, len);
  buf[len] = 0;
}

int af_cc_available(const char *cc) {
  if (!cc || !*cc) return 0;
  char *argv[] = {(char *)cc, "--version", NULL};
  int eno = 0;
  int st = spawn_wait(argv, NULL, NULL, 30, &eno);
  return st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* Reads the family and major version from `cc --version`: "clang version 19.1.7"
 * (any vendor prefix) or gcc's "gcc (Debian 12.2.0-14) 12.2.0". */
af_status af_cc_identify(const char *cc, af_family *family, int *major, af_error *err) {
  char path[] = "/tmp/afccver.XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return AF_ERR_IO;
  close(fd);
  char *argv[] = {(char *)cc, "--version", NULL};
  int eno = 0;
  int st = spawn_wait(argv, path, NULL, 30, &eno);
  char *text = st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? read_all(path, NULL) : NULL;
  unlink(path);
  if (!text) {
    if (err) snprintf(err->msg, sizeof err->msg, "cannot run '%s --version'", cc);
    return AF_ERR_IO;
  }
  af_status s = AF_OK;
  const char *v = strstr(text, "clang version ");
  char *nl = strchr(text, '\n');
  if (v) {
    *family = AF_FAMILY_CLANG;
    *major = atoi(v + strlen("clang version "));
  } else if (nl && (strstr(text, "gcc") || strstr(text, "GCC") || strstr(text, "Free Software"))) {
    /* gcc prints its version as the last word of the first line */
    *nl = 0;
    const char *last = strrchr(text, ' ');
    *family = AF_FAMILY_GCC;
    *major = last ? atoi(last + 1) : 0;
  } else {
    s = AF_ERR_UNSUPPORTED;
  }
  if (s == AF_OK && *major <= 0) s = AF_ERR_UNSUPPORTED;
  if (s != AF_OK && err)
    snprintf(err->msg, sizeof err->msg, "'%s --version' names neither gcc nor clang", cc);
  free(text);
  return s;
}

static void rm_dir(const char *dir, const char *const *names, int n) {
  char p[512];
  for (int i = 0; i < n; i++) {
    snprintf(p, sizeof p, "%s/%s", dir, names[i]);
    unlink(p);
  }
  rmdir(dir);
}

/* Makes a fresh temporary directory DIR (named from `prefix`), writes src to DIR/case.c
 * and compiles it with cc, the space-separated flags and then `extra` (NULL-terminated)
 * into DIR/<output>. dir receives DIR whenever it was created (the caller removes it:
 * case.c, cc.err, <output>). AF_ERR_IO with the compiler's first error line. */
static af_status compile_tmp(const char *cc, const char *flags, const char *const *extra,
                             const char *src, size_t len, const char *prefix, const char *output,
                             char dir[256], af_error *err) {
  char p_src[320], p_out[320], p_cerr[320];
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, 256, "%s/%s.XXXXXX", tmp && *tmp ? tmp : "/tmp", prefix);
  if (!mkdtemp(dir)) {
    dir[0] = 0;
    if (err) snprintf(err->msg, sizeof err->msg, "cc_run: cannot create a temporary directory");
    return AF_ERR_IO;
  }
  snprintf(p_src, sizeof p_src, "%s/case.c", dir);
  snprintf(p_out, sizeof p_out, "%s/%s", dir, output);
  snprintf(p_cerr, sizeof p_cerr, "%s/cc.err", dir);
  FILE *f = fopen(p_src, "wb");
  if (!f || fwrite(src, 1, len, f) != len) {
    if (f) fclose(f);
    if (err) snprintf(err->msg, sizeof err->msg, "cc_run: cannot write %.200s", p_src);
    return AF_ERR_IO;
  }
  fclose(f);

  /* argv: cc flags... extra... file -o output */
  char *fl = strdup(flags ? flags : "");
  char *argv[CC_MAX_ARGS + 16];
  int ac = 0;
  argv[ac++] = (char *)cc;
  char *save = NULL; /* strtok_r: callers may compile from several threads */
  for (char *t = fl ? strtok_r(fl, " \t", &save) : NULL; t && ac < CC_MAX_ARGS;
       t = strtok_r(NULL, " \t", &save))
    argv[ac++] = t;
  for (int i = 0; extra && extra[i] && ac < CC_MAX_ARGS + 8; i++)
    argv[ac++] = (char *)extra[i];
  argv[ac++] = p_src;
  argv[ac++] = "-o";
  argv[ac++] = p_out;
  argv[ac] = NULL;
  int eno = 0;
  int st = spawn_wait(argv, NULL, p_cerr, CC_COMPILE_TIMEOUT_S, &eno);
  free(fl);
  if (st < 0) {
    if (err) snprintf(err->msg, sizeof err->msg, "cc_run: cannot run %s: %s", cc, strerror(eno));
    return AF_ERR_IO;
  }
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    char *t = read_all(p_cerr, NULL);
    char line[200];
    first_error_line(t ? t : "", line, sizeof line);
    free(t);
    if (err) snprintf(err->msg, sizeof err->msg, "cc_run: %s failed: %s", cc, line);
    return AF_ERR_IO;
  }
  return AF_OK;
}

af_status af_cc_build_run(const char *cc, const char *flags, const char *src, size_t len,
                          char **out, af_error *err) {
  static const char *const names[] = {"case.c", "case", "cc.err", "run.out", "run.err"};
  char dir[256], p_exe[320], p_out[320];
  *out = NULL;
  af_status s = compile_tmp(cc, flags, NULL, src, len, "afcc", "case", dir, err);
  if (s != AF_OK) goto done;
  snprintf(p_exe, sizeof p_exe, "%s/case", dir);
  snprintf(p_out, sizeof p_out, "%s/run.out", dir);
  char *rargv[] = {p_exe, NULL};
  int eno = 0;
  int st = spawn_wait(rargv, p_out, NULL, CC_RUN_TIMEOUT_S, &eno);
  if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    if (err)
      snprintf(err->msg, sizeof err->msg, "cc_run: the compiled case %s (status 0x%x)",
               st < 0            ? "could not start"
               : WIFSIGNALED(st) ? "was killed by a signal"
                                 : "failed",
               st < 0 ? 0 : (unsigned)st);
    s = AF_ERR_RUNTIME;
    goto done;
  }
  *out = read_all(p_out, NULL);
  if (!*out) s = AF_ERR_NOMEM;
done:
  if (dir[0] && !getenv("AF_KEEP_TMP")) rm_dir(dir, names, 5);
  return s;
}

af_status af_cc_build_so(const char *cc, const char *flags, const char *src, size_t len,
                         char *so_path_out, size_t n, af_error *err) {
  static const char *const names[] = {"case.c", "case.so", "cc.err"};
  static const char *const extra[] = {"-shared", "-fPIC", NULL};
  char dir[256], p_so[320];
  if (n) so_path_out[0] = 0;
  af_status s = compile_tmp(cc, flags, extra, src, len, "afso", "case.so", dir, err);
  if (s == AF_OK) {
    snprintf(p_so, sizeof p_so, "%s/case.so", dir);
    if (strlen(p_so) >= n) {
      if (err) snprintf(err->msg, sizeof err->msg, "cc_run: path buffer too small");
      s = AF_ERR_INVALID;
    }
  }
  if (s != AF_OK) {
    if (dir[0] && !getenv("AF_KEEP_TMP")) rm_dir(dir, names, 3);
    return s;
  }
  if (!getenv("AF_KEEP_TMP")) { /* only the shared object stays (af_cc_remove_so) */
    char p[320];
    snprintf(p, sizeof p, "%s/case.c", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/cc.err", dir);
    unlink(p);
  }
  memcpy(so_path_out, p_so, strlen(p_so) + 1);
  return AF_OK;
}

void af_cc_remove_so(const char *so_path) {
  if (!so_path || !*so_path || getenv("AF_KEEP_TMP")) return;
  char dir[320];
  snprintf(dir, sizeof dir, "%s", so_path);
  char *slash = strrchr(dir, '/');
  unlink(so_path);
  if (slash) {
    *slash = 0;
    rmdir(dir);
  }
}

af_status af_cc_dlopen(const char *so_path, void **handle, af_error *err) {
  *handle = dlopen(so_path, RTLD_NOW | RTLD_LOCAL);
  if (*handle) return AF_OK;
  const char *e = dlerror();
  if (err) snprintf(err->msg, sizeof err->msg, "cc_run: dlopen: %.200s", e ? e : "failed");
  return AF_ERR_IO;
}

void *af_cc_dlsym(void *handle, const char *name) { return handle ? dlsym(handle, name) : NULL; }

void af_cc_dlclose(void *handle) {
  if (handle) dlclose(handle);
}

int af_cc_last_checksum(const char *text, uint64_t *out) {
  const char *key = "checksum 0x", *p = text, *last = NULL;
  while ((p = strstr(p, key)) != NULL) {
    last = p;
    p += strlen(key);
  }
  if (!last) return -1;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(last + strlen(key), &end, 16);
  if (errno || end == last + strlen(key)) return -1;
  *out = (uint64_t)v;
  return 0;
}

af_status af_cc_case_checksum(const af_case *c, const char *cc, const char *flags,
                              uint64_t *checksum, af_error *err) {
  char *src = NULL, *text = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&src, &len);
  if (!m) return AF_ERR_NOMEM;
  af_status s = af_emit_c(c, NULL, m, err);
  fclose(m);
  if (s == AF_OK) {
    char fl[1024];
    snprintf(fl, sizeof fl, "%s %s%s", AF_CC_BASE_FLAGS, flags ? flags : "",
             af_case_needs_avx(c) ? " -mavx" : "");
    s = af_cc_build_run(cc, fl, src, len, &text, err);
  }
  if (s == AF_OK && af_cc_last_checksum(text, checksum) != 0) {
    if (err) snprintf(err->msg, sizeof err->msg, "cc_run: no checksum line in the output");
    s = AF_ERR_RUNTIME;
  }
  free(text);
  free(src);
  return s;
}

af_status af_cc_run_batch_flags(const char *cc, const char *flags, const af_case *const *cases,
                                int n, uint64_t *got, af_error *err) {
  char *src = NULL, *text = NULL;
  size_t len = 0;
  int avx = 0;
  if (n <= 0) return AF_OK;
  FILE *m = open_memstream(&src, &len);
  if (!m) return AF_ERR_NOMEM;
  af_status s = af_emit_batch(cases, n, m, err);
  fclose(m);
  for (int i = 0; i < n; i++)
    avx |= af_case_needs_avx(cases[i]);
  if (s == AF_OK) {
    char fl[1024];
    snprintf(fl, sizeof fl, "%s %s%s", AF_CC_BASE_FLAGS, flags ? flags : "", avx ? " -mavx" : "");
    s = af_cc_build_run(cc, fl, src, len, &text, err);
  }
  int seen = 0;
  for (const char *p = text; s == AF_OK && p && *p;) {
    int idx;
    unsigned long long v;
    if (sscanf(p, "case %d checksum 0x%llx", &idx, &v) == 2 && idx == seen && idx < n) {
      got[idx] = (uint64_t)v;
      seen++;
    }
    p = strchr(p, '\n');
    if (p) p++;
  }
  if (s == AF_OK && seen != n) {
    if (err) snprintf(err->msg, sizeof err->msg, "cc_run: %d of %d checksum lines", seen, n);
    s = AF_ERR_RUNTIME;
  }
  free(text);
  free(src);
  return s;
}

af_status af_cc_run_batch(const char *cc, const af_case *const *cases, int n, uint64_t *got,
                          af_error *err) {
  return af_cc_run_batch_flags(cc, AF_CC_BATCH_FLAGS, cases, n, got, err);
}
