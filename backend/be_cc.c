/* be_cc.c - the cc:COMMAND backend: a case's ext_code C compiled by any C compiler run as a
 * shell command, the ELF object loaded by elf_load.c; many cases per compiler run. */
#define _GNU_SOURCE /* mkdtemp */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "be_csrc.h"
#include "elf_load.h"
#include "oracle.h"

#define CC_TIMEOUT_MS 300000 /* one compiler run (64 cases at -O1: ~15 s on a busy machine) */
#define CC_BATCH_MAX  64

/* One loaded object, shared by the cases of a batch (and the codes made from them). */
typedef struct {
  be_elf *elf;
  int refs;
} cc_obj;

/* A prefetched case: compiled in the last batch as c<index>_, waiting for its compile. */
typedef struct {
  uint64_t hash;
  char *key; /* its ext_code C with prefix "" and no prelude: what a compile is matched by */
  size_t len;
  be_imports *imports; /* what the object's c<index>_f<k> / c<index>_af_objects resolved to */
  cc_obj *obj;         /* NULL: the batch did not build */
} cc_unit;

typedef struct {
  char *cmd;  /* the command template, {src} and {obj} in it */
  char *prog; /* its first word (must exist; the compiler is identified by a probe) */
  be_cc_id id;
  char dir[256]; /* private temporary directory */
  char src[300], obj[300], log[300];
  cc_unit units[CC_BATCH_MAX];
  int nunits;
  long rejected; /* cases the compiler rejected alone */
  char first_reject[256];
} cc_state;

/* ---- running the command ---------------------------------------------------------------- */
static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *b = NULL;
  long n = -1;
  if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
      (b = malloc((size_t)n + 1)) && fread(b, 1, (size_t)n, f) != (size_t)n) {
    free(b);
    b = NULL;
  }
  fclose(f);
  if (b) {
    b[n] = 0;
    *len = (size_t)n;
  }
  return b;
}

/* The first line of the log that says "error" (else the first line) into buf. */
static void log_line(const cc_state *s, char *buf, size_t n) {
  size_t len = 0;
  char *t = read_file(s->log, &len);
  const char *pick = NULL;
  for (char *line = t; line && *line;) {
    char *e = strchr(line, '\n');
    if (e) *e = 0;
    if (!pick && *line) pick = line;
    if (strstr(line, "error")) {
      pick = line;
      break;
    }
    line = e ? e + 1 : NULL;
  }
  snprintf(buf, n, "%s", pick ? pick : "(no output)");
  free(t);
}

enum { RUN_OK, RUN_REJECTED, RUN_CRASHED };

/* Runs `line` with /bin/sh -c in its own process group, stdout and stderr into s->log, at
 * most CC_TIMEOUT_MS. RUN_CRASHED (err says how) when the compiler died of a signal, reported
 * an internal error, or timed out: a finding about the compiler, never a skip. */
static int run_line(cc_state *s, const char *line, af_error *err) {
  pid_t pid = fork();
  if (pid < 0) {
    snprintf(err->msg, sizeof err->msg, "cc: fork: %s", strerror(errno));
    return RUN_CRASHED;
  }
  if (pid == 0) {
    setpgid(0, 0);
    int fo = open(s->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int fi = open("/dev/null", O_RDONLY);
    if (fo < 0 || fi < 0 || dup2(fi, 0) < 0 || dup2(fo, 1) < 0 || dup2(fo, 2) < 0) _exit(126);
    execl("/bin/sh", "sh", "-c", line, (char *)NULL);
    _exit(127);
  }
  setpgid(pid, pid); /* also here: no race with the kill below */
  int status = 0, waited = 0;
  struct timespec nap = {0, 1000000};
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) {
      snprintf(err->msg, sizeof err->msg, "cc: waitpid: %s", strerror(errno));
      return RUN_CRASHED;
    }
    if (waited >= CC_TIMEOUT_MS) {
      kill(-pid, SIGKILL);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      snprintf(err->msg, sizeof err->msg, "cc: the compiler timed out after %d s",
               CC_TIMEOUT_MS / 1000);
      return RUN_CRASHED;
    }
    nanosleep(&nap, NULL);
    waited += (int)(nap.tv_nsec / 1000000);
    if (nap.tv_nsec < 10000000) nap.tv_nsec += 1000000;
  }
  char first[200];
  if (WIFSIGNALED(status)) {
    snprintf(err->msg, sizeof err->msg, "cc: the compiler was killed by signal %d",
             WTERMSIG(status));
    return RUN_CRASHED;
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 255;
  if (code == 0) return RUN_OK;
  log_line(s, first, sizeof first);
  size_t len = 0;
  char *t = read_file(s->log, &len);
  int ice = t && (strstr(t, "internal compiler error") || strstr(t, "PLEASE submit a bug report") ||
                  strstr(t, "Segmentation fault"));
  free(t);
  if (code > 128 && code <= 128 + 64) { /* the shell reports a child's signal N as 128+N */
    snprintf(err->msg, sizeof err->msg, "cc: the compiler was killed by signal %d: %s", code - 128,
             first);
    return RUN_CRASHED;
  }
  if (ice) {
    snprintf(err->msg, sizeof err->msg, "cc: the compiler crashed (exit %d): %s", code, first);
    return RUN_CRASHED;
  }
  snprintf(err->msg, sizeof err->msg, "cc: the compiler rejected the case: %s", first);
  return RUN_REJECTED;
}

/* The template with {src} and {obj} replaced by the quoted paths (malloc'd). */
static char *expand(const cc_state *s) {
  size_t cap = strlen(s->cmd) + 4 * (strlen(s->src) + strlen(s->obj) + 2) + 1, n = 0;
  char *out = malloc(cap);
  if (!out) return NULL;
  for (const char *p = s->cmd; *p;) {
    const char *with = !strncmp(p, "{src}", 5) ? s->src : !strncmp(p, "{obj}", 5) ? s->obj : NULL;
    if (with) {
      if (n + strlen(with) + 3 >= cap) break;
      n += (size_t)sprintf(out + n, "'%s'", with);
      p += 5;
    } else {
      if (n + 2 >= cap) break;
      out[n++] = *p++;
    }
  }
  out[n] = 0;
  return out;
}

/* Compiles s->src into s->obj and loads it, resolving imports with r. */
static int build_load(cc_state *s, be_elf_resolver r, void *u, cc_obj **out, af_error *err) {
  *out = NULL;
  char *line = expand(s);
  if (!line) {
    snprintf(err->msg, sizeof err->msg, "out of memory");
    return RUN_CRASHED;
  }
  unlink(s->obj);
  int rc = run_line(s, line, err);
  free(line);
  if (rc != RUN_OK) return rc;
  size_t n = 0;
  char *img = read_file(s->obj, &n);
  if (!img) {
    snprintf(err->msg, sizeof err->msg, "cc: the command wrote no object file {obj}");
    return RUN_CRASHED;
  }
  be_elf *e = NULL;
  af_status st = be_elf_load(img, n, r, u, &e, err);
  free(img);
  if (st != AF_OK) return RUN_CRASHED;
  cc_obj *o = calloc(1, sizeof *o);
  if (!o) {
    be_elf_free(e);
    snprintf(err->msg, sizeof err->msg, "out of memory");
    return RUN_CRASHED;
  }
  o->elf = e;
  *out = o;
  return RUN_OK;
}

static void obj_unref(cc_obj *o) {
  if (o && --o->refs <= 0) {
    be_elf_free(o->elf);
    free(o);
  }
}

/* ---- open / close ------------------------------------------------------------------------ */
static int on_path(const char *prog) {
  if (strchr(prog, '/')) return access(prog, X_OK) == 0;
  const char *path = getenv("PATH");
  char buf[1024];
  for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
    const char *e = strchr(p, ':');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    snprintf(buf, sizeof buf, "%.*s/%s", (int)len, len ? p : ".", prog);
    if (access(buf, X_OK) == 0) return 1;
    if (!e) break;
    p = e + 1;
  }
  return 0;
}

/* Which compiler, asked through the command itself: a probe compiled with it leaves its
 * predefined macros' verdict as a string in the object. The command's first word need not be
 * the compiler (`ccache gcc ...`, `env CFLAGS=.. clang ...`, a wrapper script), and even when
 * it is, its --version may name a driver rather than what compiles. 1 when the object said. */
static int identify_by_probe(cc_state *s) {
  static const char probe[] =
      "/* abifuzz: which compiler is this? (backend/be_cc.c) */\n"
      "#define AF_S2(x) #x\n#define AF_S(x) AF_S2(x)\n"
      "#if defined(__TINYC__)\n#define AF_ID \"tcc 0\"\n"
      "#elif defined(__clang__)\n#define AF_ID \"clang \" AF_S(__clang_major__)\n"
      "#elif defined(__GNUC__)\n#define AF_ID \"gcc \" AF_S(__GNUC__)\n"
      "#else\n#define AF_ID \"cc 0\"\n#endif\n"
      "const char abifuzz_cc_id[] = \"<ABIFUZZ-CC-ID \" AF_ID \">\";\n";
  FILE *f = fopen(s->src, "w");
  if (!f) return 0;
  int bad = fputs(probe, f) < 0;
  if (fclose(f) || bad) return 0;
  char *line = expand(s);
  af_error e = {{0}};
  int rc = line ? run_line(s, line, &e) : RUN_CRASHED;
  free(line);
  size_t n = 0;
  char *t = rc == RUN_OK ? read_file(s->obj, &n) : NULL;
  static const char mark[] = "<ABIFUZZ-CC-ID ";
  const char *m = t ? memmem(t, n, mark, sizeof mark - 1) : NULL;
  char fam[8] = "";
  int major = 0;
  int ok = m && sscanf(m + sizeof mark - 1, "%7[a-z] %d>", fam, &major) == 2;
  free(t);
  unlink(s->obj);
  if (!ok) return 0;
  s->id.family = !strcmp(fam, "tcc")     ? BE_CC_TCC
                 : !strcmp(fam, "clang") ? BE_CC_CLANG
                 : !strcmp(fam, "gcc")   ? BE_CC_GCC
                                         : BE_CC_OTHER;
  s->id.major = s->id.family == BE_CC_TCC ? 0 : major;
  return 1;
}

/* Which compiler: the probe, else `PROG --version` ("tcc version", "clang version N" or gcc's
 * banner) for a command that cannot compile the probe. */
static void identify(cc_state *s) {
  s->id.family = BE_CC_OTHER;
  if (identify_by_probe(s)) return;
  size_t cap = strlen(s->prog) + 32;
  char *line = malloc(cap);
  af_error e = {{0}};
  if (!line) return;
  snprintf(line, cap, "'%s' --version", s->prog);
  int rc = run_line(s, line, &e);
  free(line);
  size_t n = 0;
  char *t = rc == RUN_OK ? read_file(s->log, &n) : NULL;
  if (!t) return;
  const char *v;
  char *nl = strchr(t, '\n');
  if (strstr(t, "tcc version")) {
    s->id.family = BE_CC_TCC;
  } else if ((v = strstr(t, "clang version "))) {
    s->id.family = BE_CC_CLANG;
    s->id.major = atoi(v + strlen("clang version "));
  } else if (nl && (*nl = 0, strstr(t, "gcc") || strstr(t, "GCC"))) {
    /* "gcc (Debian 12.2.0-14) 12.2.0": the version is the last word of the first line
     * (only that line: grep, echo... also say "Free Software Foundation" further down) */
    const char *last = strrchr(t, ' ');
    s->id.family = BE_CC_GCC;
    s->id.major = last ? atoi(last + 1) : 0;
  }
  free(t);
}

static void cc_close(void *st);

/* A worker that crashed (code under test does that) left its directory behind: remove the
 * abifuzz-cc.<pid>.* directories of processes that are gone. */
static void sweep(const char *tmp) {
  DIR *d = opendir(tmp);
  struct dirent *e;
  while (d && (e = readdir(d))) {
    long pid = 0;
    char tail[16];
    if (sscanf(e->d_name, "abifuzz-cc.%ld.%15s", &pid, tail) != 2 || pid <= 0 ||
        strlen(tail) != 6 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
      continue;
    static const char *const files[] = {"case.c", "case.o", "cc.log"};
    char p[600];
    for (int i = 0; i < 3; i++) {
      snprintf(p, sizeof p, "%s/%s/%s", tmp, e->d_name, files[i]);
      unlink(p);
    }
    snprintf(p, sizeof p, "%s/%s", tmp, e->d_name);
    rmdir(p);
  }
  if (d) closedir(d);
}

static af_status cc_open(const char *arg, void **state, af_error *err) {
  *state = NULL;
  if (!strstr(arg, "{src}") || !strstr(arg, "{obj}")) {
    snprintf(err->msg, sizeof err->msg, "cc: the command needs {src} and {obj}: cc:'%.180s'", arg);
    return AF_ERR_INVALID;
  }
  cc_state *s = calloc(1, sizeof *s);
  if (!s || !(s->cmd = strdup(arg))) {
    free(s);
    snprintf(err->msg, sizeof err->msg, "out of memory");
    return AF_ERR_NOMEM;
  }
  const char *p = arg + strspn(arg, " \t");
  s->prog = strndup(p, strcspn(p, " \t"));
  if (!s->prog || !*s->prog || !on_path(s->prog)) {
    snprintf(err->msg, sizeof err->msg, "cc: compiler '%.100s' not found (cc:'%.100s')",
             s->prog ? s->prog : "", arg);
    cc_close(s);
    return AF_ERR_UNSUPPORTED;
  }
  const char *tmp = getenv("TMPDIR");
  if (!tmp || !*tmp) tmp = "/tmp";
  sweep(tmp);
  snprintf(s->dir, sizeof s->dir, "%.200s/abifuzz-cc.%ld.XXXXXX", tmp, (long)getpid());
  if (strchr(s->dir, '\'') || !mkdtemp(s->dir)) {
    s->dir[0] = 0;
    snprintf(err->msg, sizeof err->msg, "cc: cannot create a temporary directory");
    cc_close(s);
    return AF_ERR_IO;
  }
  snprintf(s->src, sizeof s->src, "%s/case.c", s->dir);
  snprintf(s->obj, sizeof s->obj, "%s/case.o", s->dir);
  snprintf(s->log, sizeof s->log, "%s/cc.log", s->dir);
  identify(s);
  static const char *const avx[] = {"-mavx", "-march=native", "x86-64-v3", "x86-64-v4"};
  for (size_t i = 0; i < sizeof avx / sizeof avx[0]; i++)
    if (strstr(arg, avx[i])) s->id.has_avx = 1;
  *state = s;
  return AF_OK;
}

static void drop_units(cc_state *s) {
  for (int i = 0; i < s->nunits; i++) {
    free(s->units[i].key);
    be_imports_free(s->units[i].imports);
    obj_unref(s->units[i].obj);
  }
  memset(s->units, 0, sizeof s->units);
  s->nunits = 0;
}

static void cc_close(void *st) {
  cc_state *s = st;
  if (!s) return;
  drop_units(s);
  if (s->dir[0]) {
    unlink(s->src);
    unlink(s->obj);
    unlink(s->log);
    rmdir(s->dir);
  }
  free(s->prog);
  free(s->cmd);
  free(s);
}

/* tcc ignores ms_abi (be_csrc.c): SysV only. */
static int cc_supports(void *st, af_cc cc) {
  const cc_state *s = st;
  return s->id.family != BE_CC_TCC || cc == AF_CC_SYSV;
}

/* be_csrc_skip, and what the loader cannot give a tcc object: tcc's va_arg is a call of
 * __va_arg from its runtime library libtcc1.a, in neither libgcc nor any shared object;
 * runtime_syms.c has it when libtcc1.a was there at build time (elf.cmake). */
static const char *cc_skip(const cc_state *s, const af_case *c) {
  const char *why = be_csrc_skip(&s->id, c);
#ifndef AF_HAVE_LIBTCC1
  if (!why && s->id.family == BE_CC_TCC && (af_emit_c_needs(c) & AF_NEED_VA_CALLEE))
    why = "tcc's va_arg needs libtcc1.a, which this abifuzz was built without";
#endif
  return why;
}

/* ---- batches ----------------------------------------------------------------------------- */
/* c<i>_<rest>: unit i's imports. */
static const void *batch_resolve(void *u, const char *name) {
  cc_state *s = u;
  if (name[0] != 'c') return NULL;
  char *end;
  long i = strtol(name + 1, &end, 10);
  if (end == name + 1 || *end != '_' || i < 0 || i >= s->nunits) return NULL;
  char prefix[24];
  snprintf(prefix, sizeof prefix, "c%ld_", i);
  return be_import_lookup(s->units[i].imports, prefix, name);
}

static void cc_prefetch(void *st, const af_case *const *cases, int n) {
  cc_state *s = st;
  af_error err = {{0}};
  drop_units(s); /* prefetched units never asked for */
  FILE *f = fopen(s->src, "wb");
  if (!f) return;
  af_emit_prelude(f);
  for (int i = 0; i < n && s->nunits < CC_BATCH_MAX; i++) {
    const af_case *c = cases[i];
    cc_unit *u = &s->units[s->nunits];
    if (cc_skip(s, c)) continue; /* its compile skips it */
    int other = 0;
    for (int k = 0; k < c->nfuncs; k++)
      other |= !c->funcs[k].host && !cc_supports(s, c->funcs[k].sig.cc);
    if (other || be_csrc_text(c, "", 0, &u->key, &u->len, &err) != AF_OK) continue;
    u->hash = be_csrc_hash(u->key, u->len);
    int dup = 0;
    for (int j = 0; j < s->nunits; j++)
      dup |= s->units[j].hash == u->hash && s->units[j].len == u->len &&
             !memcmp(s->units[j].key, u->key, u->len);
    char prefix[24];
    snprintf(prefix, sizeof prefix, "c%d_", s->nunits);
    af_emit_opts o;
    af_emit_opts_default(&o);
    o.emit_prelude = 0;
    o.emit_main = 0;
    o.prefix = prefix;
    o.ext_code = 1;
    if (dup) { /* the same C twice: its second compile finds the first unit gone, compiles alone */
      free(u->key);
      memset(u, 0, sizeof *u);
      continue;
    }
    if (be_imports_new(&u->imports, &err) != AF_OK || af_emit_c(c, &o, f, &err) != AF_OK) {
      free(u->key);
      be_imports_free(u->imports);
      memset(u, 0, sizeof *u);
      fclose(f); /* a partial case in the file: compile none of them together */
      drop_units(s);
      return;
    }
    s->nunits++;
  }
  if (fclose(f) != 0 || s->nunits == 0) {
    drop_units(s);
    return;
  }
  cc_obj *o = NULL;
  /* A batch that does not build (one case the compiler rejects, or a crash): the cases are
   * compiled alone on demand, which names the culprit. */
  if (build_load(s, batch_resolve, s, &o, &err) != RUN_OK) {
    drop_units(s);
    return;
  }
  o->refs = s->nunits;
  for (int i = 0; i < s->nunits; i++)
    s->units[i].obj = o;
}

/* ---- compile ----------------------------------------------------------------------------- */
static void cc_release(af_backend_code *code) { obj_unref(code->priv); }

static const void *single_resolve(void *u, const char *name) {
  return be_import_lookup(u, "", name);
}

/* code->ext.fn/size from the object's <prefix>f<k>; takes over the reference to o. */
static af_status fill(af_backend_code *code, const af_case *c, cc_obj *o, const char *prefix,
                      af_error *err) {
  code->priv = o;
  code->release = cc_release;
  for (int k = 0; k < c->nfuncs; k++) {
    if (c->funcs[k].host) continue;
    char name[48];
    size_t size = 0;
    snprintf(name, sizeof name, "%sf%d", prefix, k);
    code->ext.fn[k] = be_elf_sym(o->elf, name, &size);
    code->ext.size[k] = size;
    if (!code->ext.fn[k]) {
      snprintf(err->msg, sizeof err->msg, "cc: the object defines no %s", name);
      return AF_ERR_INVALID;
    }
  }
  return AF_OK;
}

static af_status cc_compile(void *st, const af_case *c, af_backend_code *code, const char **skip,
                            af_error *err) {
  cc_state *s = st;
  const char *why = cc_skip(s, c);
  if (why) {
    *skip = why;
    snprintf(err->msg, sizeof err->msg, "cc: %s", why);
    return AF_ERR_UNSUPPORTED;
  }
  size_t len = 0;
  char *key = NULL;
  af_status es = be_csrc_text(c, "", 0, &key, &len, err);
  if (es == AF_ERR_UNSUPPORTED) *skip = "C cannot express the case";
  if (es != AF_OK) return es;
  uint64_t h = be_csrc_hash(key, len);
  for (int i = 0; i < s->nunits; i++) {
    cc_unit *u = &s->units[i];
    if (!u->obj || !u->imports || u->hash != h || u->len != len || memcmp(u->key, key, len))
      continue;
    free(key);
    be_imports_free(code->imports);
    code->imports = u->imports;
    code->ext.objects = be_imports_objects(code->imports);
    cc_obj *o = u->obj;
    u->imports = NULL;
    u->obj = NULL; /* the reference goes to the code */
    char prefix[24];
    snprintf(prefix, sizeof prefix, "c%d_", i);
    return fill(code, c, o, prefix, err);
  }
  /* alone: the prelude, then the same text */
  FILE *f = fopen(s->src, "wb");
  int ok = f && af_emit_prelude(f) == AF_OK && fwrite(key, 1, len, f) == len;
  free(key);
  if (!f || fclose(f) != 0 || !ok) {
    snprintf(err->msg, sizeof err->msg, "cc: cannot write %.200s", s->src);
    return AF_ERR_IO;
  }
  cc_obj *o = NULL;
  int rc = build_load(s, single_resolve, code->imports, &o, err);
  if (rc == RUN_REJECTED) {
    if (!s->rejected++) snprintf(s->first_reject, sizeof s->first_reject, "%s", err->msg);
    *skip = "the compiler rejected the case";
    return AF_ERR_UNSUPPORTED;
  }
  if (rc != RUN_OK) return AF_ERR_RUNTIME; /* a crash, a timeout, an unloadable object */
  o->refs = 1;
  return fill(code, c, o, "", err);
}

const be_kind be_kind_cc = {
    .kind = "cc",
    .usage = "cc:'COMMAND'",
    .desc = "any C compiler: COMMAND with {src} and {obj} compiles the case's C, abifuzz loads "
            "the object",
    .has_arg = 1,
    .open = cc_open,
    .close = cc_close,
    .supports_cc = cc_supports,
    .compile = cc_compile,
    .prefetch = cc_prefetch,
};
