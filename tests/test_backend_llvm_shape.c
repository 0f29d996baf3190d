/* test_backend_llvm_shape.c - the llvm backend declares each function as clang 19 does: its IR
 * signatures against clang-19 -S -emit-llvm of the same case's C (oracle/emit_c.c). */
#include <stdlib.h>
#include <unistd.h>

#include <llvm-c/Core.h>

#include "backend_testlib.h"
#include "be_llvm_internal.h"
#include "check.h"
#include "oracle.h"

/* Attributes that do not change where a value goes (clang adds them, the backend need not). */
static const char *const drop[] = {"noundef",   "nocapture",          "noalias",
                                   "writable",  "dead_on_unwind",     "nonnull",
                                   "dso_local", "local_unnamed_addr", NULL};
/* Element types clang picks where the backend picks one with the same register bits. */
static const char *const same[][2] = {
    {"<2 x float>", "double"}, {"<4 x half>", "double"}, {"<2 x half>", "float"}, {NULL, NULL}};

static int dropped(const char *w, size_t n) {
  for (int i = 0; drop[i]; i++)
    if (strlen(drop[i]) == n && !strncmp(drop[i], w, n)) return 1;
  return 0;
}

/* Appends the words of [p, e) to out, without dropped ones, `%N` names, `#N` groups, and with
 * byval(T) / sret(T) as byval / sret. */
static void put_words(const char *p, const char *e, char *out, size_t no) {
  while (p < e) {
    while (p < e && *p == ' ')
      p++;
    const char *w = p;
    int depth = 0;
    while (p < e && (depth || *p != ' ')) {
      if (*p == '(' || *p == '<' || *p == '{') depth++;
      if (*p == ')' || *p == '>' || *p == '}') depth--;
      p++;
    }
    size_t n = (size_t)(p - w);
    if (!n || dropped(w, n) || w[0] == '%' || w[0] == '#') continue;
    if (!strncmp(w, "byval(", 6)) n = 5;
    if (!strncmp(w, "sret(", 5)) n = 4;
    if (!strncmp(w, "x86_64_sysvcc", 13)) continue; /* clang's default convention on Linux */
    size_t l = strlen(out);
    snprintf(out + l, no - l, "%s%.*s", l && out[l - 1] != '(' ? " " : "", (int)n, w);
  }
}

/* "define <attrs> <ret> @<prefix>f<k>(<params>) ..." -> k and a canonical "ret (p, p, ...)". */
static int norm_define(const char *line, const char *prefix, char *out, size_t no) {
  char at[32];
  snprintf(at, sizeof at, "@%sf", prefix);
  const char *a = strstr(line, at), *open;
  if (strncmp(line, "define ", 7) || !a || !(open = strchr(a, '('))) return -1;
  char *end;
  long k = strtol(a + strlen(at), &end, 10);
  if (end == a + strlen(at) || end != open) return -1; /* @f<k>( only (not @fold_t21) */
  out[0] = 0;
  put_words(line + 7, a, out, no);
  strncat(out, " (", no - strlen(out) - 1);
  const char *p = open + 1, *w = p;
  int depth = 0;
  for (; *p && (depth || *p != ')'); p++) {
    if (*p == '(' || *p == '<' || *p == '{' || *p == '[') depth++;
    if (*p == ')' || *p == '>' || *p == '}' || *p == ']') depth--;
    if (!depth && *p == ',') {
      put_words(w, p, out, no);
      strncat(out, ",", no - strlen(out) - 1);
      w = p + 1;
    }
  }
  put_words(w, p, out, no);
  strncat(out, ")", no - strlen(out) - 1);
  for (int i = 0; same[i][0]; i++) {
    char *q;
    while ((q = strstr(out, same[i][0]))) {
      size_t l0 = strlen(same[i][0]), l1 = strlen(same[i][1]);
      memmove(q + l1, q + l0, strlen(q + l0) + 1);
      memcpy(q, same[i][1], l1);
    }
  }
  return (int)k;
}

/* Canonical signatures of f<k> (k < AF_MAX_FUNCS) found in IR text. */
static void signatures(const char *ir, const char *prefix, char sig[][512]) {
  for (const char *l = ir; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
    char line[4096];
    size_t n = strcspn(l, "\n");
    snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1), l);
    char s[512];
    int k = norm_define(line, prefix, s, sizeof s);
    if (k >= 0 && k < AF_MAX_FUNCS) snprintf(sig[k], 512, "%s", s);
  }
}

static char *read_all(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = malloc((size_t)n + 1);
  if (b && fread(b, 1, (size_t)n, f) != (size_t)n) n = 0;
  if (b) b[n] = 0;
  fclose(f);
  return b;
}

/* Compares every non-host function of case c; returns the number that differ (-1: skipped). */
static int compare_case(af_backend *b, const af_case *c, const char *dir, int *nfuncs) {
  char src[512], ll[512], cmd[1400];
  snprintf(src, sizeof src, "%s/x.c", dir);
  snprintf(ll, sizeof ll, "%s/x.ll", dir);
  af_error err = {{0}};
  FILE *f = fopen(src, "w");
  if (!f) return -1;
  af_emit_opts eo;
  af_emit_opts_default(&eo);
  eo.emit_main = 0;
  eo.ext_code = 1;
  af_status s = af_emit_c(c, &eo, f, &err);
  fclose(f);
  if (s != AF_OK) return -1;
  snprintf(cmd, sizeof cmd, "%s -std=gnu11 -S -emit-llvm -O0 -w %s %s -o %s 2>/dev/null", AF_CLANG,
           af_case_needs_avx(c) ? "-mavx" : "", src, ll);
  if (system(cmd) != 0) return -1;
  char *theirs_ir = read_all(ll);
  af_backend_code *code = NULL;
  const char *skip = NULL;
  char *mine_ir = NULL;
  if (af_backend_compile(b, c, &code, &skip, &err) == AF_OK) {
    LLVMContextRef ctx = LLVMContextCreate();
    bl_mod m;
    memset(&m, 0, sizeof m);
    m.err = &err;
    LLVMModuleRef mod = NULL;
    if (bl_build(&m, c, code, ctx, "t_", &mod) == AF_OK) {
      mine_ir = LLVMPrintModuleToString(mod);
      LLVMDisposeModule(mod);
    }
    LLVMContextDispose(ctx);
  }
  af_backend_code_free(code);
  static char mine[AF_MAX_FUNCS][512], theirs[AF_MAX_FUNCS][512];
  memset(mine, 0, sizeof mine);
  memset(theirs, 0, sizeof theirs);
  signatures(mine_ir, "t_", mine);
  signatures(theirs_ir, "", theirs);
  int diff = 0;
  for (int k = 0; k < c->nfuncs; k++) {
    if (c->funcs[k].host) continue;
    (*nfuncs)++;
    if (!mine[k][0] || strcmp(mine[k], theirs[k])) {
      diff++;
      printf("  seed %llu index %llu f%d:\n    llvm backend %s\n    clang-19     %s\n",
             (unsigned long long)c->seed, (unsigned long long)c->index, k, mine[k], theirs[k]);
    }
  }
  free(theirs_ir);
  LLVMDisposeMessage(mine_ir);
  return diff;
}

int main(int argc, char **argv) {
  uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 1;
  int n = argc > 2 ? atoi(argv[2]) : 25;
  af_family fam;
  int major = 0;
  af_error err = {{0}};
  if (!AF_CLANG[0] || af_cc_identify(AF_CLANG, &fam, &major, &err) != AF_OK ||
      fam != AF_FAMILY_CLANG || major != 19) {
    printf("skipped: the oracle clang (%s) is not clang 19, the LLVM the backend uses\n",
           AF_CLANG[0] ? AF_CLANG : "none");
    return check_done();
  }
  char dir[] = "/tmp/af_llvm_shape_XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  af_backend *b = NULL;
  CHECKF(af_backend_open("llvm", &b, &err) == AF_OK, "open: %s", err.msg);
  int funcs = 0, diffs = 0, cases = 0;
  for (int cc = 0; b && cc < 2; cc++)
    for (int i = 0; i < n; i++) {
      af_gen_opts o;
      af_gen_opts_default(&o);
      o.cc = cc;
      o.allow_f16 = o.allow_m256 = 1;
      af_case c;
      if (af_gen_case(&o, seed, (uint64_t)i, &c, NULL, &err) != AF_OK) continue;
      int d = compare_case(b, &c, dir, &funcs);
      if (d >= 0) {
        cases++;
        diffs += d;
      }
      af_case_free(&c);
    }
  af_backend_close(b);
  char path[600];
  snprintf(path, sizeof path, "%s/x.c", dir);
  unlink(path);
  snprintf(path, sizeof path, "%s/x.ll", dir);
  unlink(path);
  rmdir(dir);
  printf("%d cases, %d functions, %d IR signatures differ from clang 19's\n", cases, funcs, diffs);
  CHECK(cases > n);
  /* a few bit-field and union eightbytes get another integer type than clang's (iN covering
   * the same data bytes: the same bits where it matters) */
  CHECKF(diffs * 50 <= funcs, "%d of %d signatures differ", diffs, funcs);
  return check_done();
}
