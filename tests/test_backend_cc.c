/* test_backend_cc.c - the cc:COMMAND backend on generated cases with each compiler there is
 * (gcc, clang-14, clang-19, tcc), batched; its error paths; the ext_code C under -Werror. */
#define _GNU_SOURCE /* open_memstream */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend_testlib.h"
#include "check.h"
#include "oracle.h"

static int have(const char *prog) {
  char cmd[256];
  snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", prog);
  return system(cmd) == 0;
}

/* Every case passes or is skipped with a reason. */
static void run(const char *prog, const char *spec, int cc, uint64_t seed, int n, int batch) {
  if (!have(prog)) {
    printf("%s: not installed, skipped\n", prog);
    return;
  }
  int opened = 0;
  bt_stats st = bt_run_gen(spec, cc, seed, n, batch, &opened);
  char what[300];
  snprintf(what, sizeof what, "%s [%s]", spec, af_cc_name((af_cc)cc));
  bt_print(what, &st);
  CHECKF(opened, "%s", st.first_fail);
  CHECKF(st.fail == 0 && st.error == 0, "%s: %s", spec, st.first_fail);
  CHECK(st.pass + st.skipped == st.cases);
  for (int i = 0; i < st.nreasons; i++)
    CHECKF(st.reason[i] && st.reason[i][0] && strcmp(st.reason[i], "?"),
           "%s: a skip without a reason", spec);
}

/* The ext_code C of a few cases compiles cleanly under -Wall -Werror. */
static void werror(const char *prog, const char *flags) {
  if (!have(prog)) return;
  char dir[] = "/tmp/abifuzz-cctest.XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  af_gen_opts o;
  af_gen_opts_default(&o);
  af_error err;
  int compiled = 0;
  for (int i = 0; i < 6; i++) {
    af_case c;
    if (af_gen_case(&o, 7, (uint64_t)i, &c, NULL, &err) != AF_OK) continue;
    char path[300], cmd[800];
    snprintf(path, sizeof path, "%s/x%d.c", dir, i);
    FILE *f = fopen(path, "w");
    af_emit_opts eo;
    af_emit_opts_default(&eo);
    eo.ext_code = 1;
    CHECK(f && af_emit_c(&c, &eo, f, &err) == AF_OK);
    if (f) fclose(f);
    snprintf(cmd, sizeof cmd, "%s %s %s -c %s -o %s/x.o", prog, AF_CC_BASE_FLAGS, flags, path, dir);
    CHECKF(system(cmd) == 0, "%s", cmd);
    compiled++;
    unlink(path);
    af_case_free(&c);
  }
  snprintf(dir + strlen(dir), sizeof dir - strlen(dir), "%s", "");
  char rm[300];
  snprintf(rm, sizeof rm, "rm -rf %s", dir);
  CHECK(system(rm) == 0);
  printf("%s: %d ext_code files compile with -Wall -Werror\n", prog, compiled);
  CHECK(compiled > 0);
}

/* af_emit_c_needs agrees with what the ext_code C (without the prelude) spells. */
static void needs(void) {
  static const struct {
    unsigned bit;
    const char *text;
  } spell[] = {
      {AF_NEED_INT128, "__int128"},    {AF_NEED_COMPLEX, "_Complex"},
      {AF_NEED_VECTOR, "af_m128"},     {AF_NEED_MS_ABI, "ms_abi"},
      {AF_NEED_VA_CALLEE, "va_start"}, {AF_NEED_PACKED, "__attribute__((packed))"},
      {AF_NEED_UNION, "\nunion "},     {AF_NEED_LONG_DOUBLE, "long double v"},
  };
  af_gen_opts o;
  af_gen_opts_default(&o);
  af_error err;
  int seen[sizeof spell / sizeof spell[0]] = {0}, bad = 0;
  for (int i = 0; i < 200; i++) {
    af_case c;
    o.cc = i % 2;
    if (af_gen_case(&o, 9, (uint64_t)i, &c, NULL, &err) != AF_OK) continue;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    af_emit_opts eo;
    af_emit_opts_default(&eo);
    eo.ext_code = 1;
    eo.emit_prelude = 0;
    CHECK(f && af_emit_c(&c, &eo, f, &err) == AF_OK);
    if (f) fclose(f);
    unsigned m = af_emit_c_needs(&c);
    for (size_t k = 0; k < sizeof spell / sizeof spell[0]; k++) {
      int has = text && strstr(text, spell[k].text) != NULL, want = (m & spell[k].bit) != 0;
      /* a vector type may be only __m256 (af_m256); a long double only a value, not a param */
      if (spell[k].bit == AF_NEED_VECTOR) has |= text && strstr(text, "af_m256") != NULL;
      if (spell[k].bit == AF_NEED_LONG_DOUBLE && want) has = 1;
      if (has != want && bad++ < 5)
        printf("needs: case %d: %s %s but the bit is %d\n", i, spell[k].text,
               has ? "appears" : "is absent", want);
      seen[k] += want;
    }
    free(text);
    af_case_free(&c);
  }
  CHECKF(bad == 0, "%d disagreements", bad);
  for (size_t k = 0; k < sizeof spell / sizeof spell[0]; k++)
    CHECKF(seen[k] > 0, "no case needs %s", af_emit_c_need_name(spell[k].bit));
  CHECK(!strcmp(af_emit_c_need_name(AF_NEED_INT128), "__int128"));
  CHECK(!strcmp(af_emit_c_need_name(3), "?"));
}

/* Case 3 of the batch is rejected by the "compiler" (a wrapper refusing its header); the
 * batch falls back to single compiles and the others still run. */
static void rejected(void) {
  if (!have("gcc")) return;
  const char *spec = "cc:grep -q 'index 3 abi' {src} && exit 1; gcc -O1 -c {src} -o {obj}";
  int opened = 0;
  bt_stats st = bt_run_gen(spec, AF_CC_SYSV, 11, 8, 8, &opened);
  bt_print("one rejected case", &st);
  CHECKF(opened, "%s", st.first_fail);
  CHECKF(st.fail == 0 && st.error == 0, "%s", st.first_fail);
  int rej = 0;
  for (int i = 0; i < st.nreasons; i++)
    if (!strcmp(st.reason[i], "the compiler rejected the case")) rej = st.count[i];
  CHECKF(rej == 1, "%d cases rejected", rej);
  CHECK(st.pass >= 4);
}

static int count_lines(const char *path) {
  FILE *f = fopen(path, "r");
  int n = 0, ch;
  while (f && (ch = fgetc(f)) != EOF)
    n += ch == '\n';
  if (f) fclose(f);
  return n;
}

/* A block of 8 cases prefetched together is one compiler run, and every case is found in it
 * (by its C text); without prefetching, one run per case. Plus one run at open: the probe that
 * identifies the compiler (be_cc.c identify_by_probe). */
static void batching(void) {
  if (!have("gcc")) return;
  char dir[] = "/tmp/abifuzz-cctest.XXXXXX", spec[400], runs[300], rm[300];
  CHECK(mkdtemp(dir) != NULL);
  snprintf(runs, sizeof runs, "%s/runs", dir);
  snprintf(spec, sizeof spec, "cc:echo run >> %s; gcc -O1 -c {src} -o {obj}", runs);
  for (int batch = 8; batch >= 0; batch -= 8) {
    unlink(runs);
    int opened = 0;
    bt_stats st = bt_run_gen(spec, AF_CC_SYSV, 21, 8, batch, &opened);
    int compiled = st.pass + st.fail + st.error, n = count_lines(runs);
    printf("batch %d: %d cases compiled, %d compiler runs\n", batch, compiled, n);
    CHECKF(opened && st.fail == 0 && st.error == 0, "%s", st.first_fail);
    CHECK(compiled >= 4);
    CHECKF(batch ? n == 1 + 1 : n == compiled + 1, "%d compiler runs for %d cases", n, compiled);
  }
  snprintf(rm, sizeof rm, "rm -rf %s", dir);
  CHECK(system(rm) == 0);
}

/* Cases with constructs gcc and clang lower differently (gen/abi.c's table) and _Float16:
 * what this compiler is known to do differently is skipped, the rest passes. */
static void divergent(const char *prog, const char *spec, int cc, int n) {
  if (!have(prog)) return;
  af_backend *b = NULL;
  af_error err = {{0}};
  CHECKF(af_backend_open(spec, &b, &err) == AF_OK, "%s", err.msg);
  if (!b) return;
  af_gen_opts o;
  af_gen_opts_default(&o);
  o.cc = cc;
  o.allow_divergent = 1;
  o.allow_f16 = 1;
  bt_stats st;
  memset(&st, 0, sizeof st);
  af_case cs[64];
  const af_case *pc[64];
  int m = 0;
  for (int i = 0; i < n && m < 64; i++)
    if (af_gen_case(&o, 77, (uint64_t)i, &cs[m], NULL, &err) == AF_OK) {
      pc[m] = &cs[m];
      m++;
    }
  af_backend_prefetch(b, pc, m);
  for (int i = 0; i < m; i++) {
    bt_run_case(b, &cs[i], &st);
    af_case_free(&cs[i]);
  }
  af_backend_close(b);
  char what[300];
  snprintf(what, sizeof what, "%s [%s, divergent, f16]", spec, af_cc_name((af_cc)cc));
  bt_print(what, &st);
  CHECKF(st.fail == 0 && st.error == 0, "%s", st.first_fail);
  CHECK(st.pass > 0 && st.skipped > 0);
}

/* af_jit_ext.size: the object's symbol sizes. */
static void sizes(void) {
  if (!have("gcc")) return;
  af_error err = {{0}};
  af_backend *b = NULL;
  af_gen_opts o;
  af_gen_opts_default(&o);
  af_case c;
  CHECK(af_gen_case(&o, 5, 1, &c, NULL, &err) == AF_OK);
  CHECK(af_backend_open("cc:gcc -O1 -c {src} -o {obj}", &b, &err) == AF_OK);
  af_backend_code *code = NULL;
  const char *skip = NULL;
  CHECKF(af_backend_compile(b, &c, &code, &skip, &err) == AF_OK, "%s", err.msg);
  if (code) {
    const af_jit_ext *x = af_backend_ext(code);
    for (int k = 0; k < c.nfuncs; k++)
      if (!c.funcs[k].host)
        CHECKF(x->fn[k] && x->size[k] > 0 && x->size[k] < 65536, "f%d: %zu bytes", k, x->size[k]);
    CHECK(x->objects != NULL);
    af_backend_code_free(code);
  }
  af_backend_close(b);
  af_case_free(&c);
}

static void errors(void) {
  af_backend *b = NULL;
  af_error err = {{0}};
  CHECK(af_backend_open("cc:/nonexistent/cc -c {src} -o {obj}", &b, &err) == AF_ERR_UNSUPPORTED);
  CHECK(b == NULL && strstr(err.msg, "not found"));
  printf("missing compiler: %s\n", err.msg);
  CHECK(af_backend_open("cc:gcc -c x.c", &b, &err) == AF_ERR_INVALID);
  CHECK(af_backend_open("cc:", &b, &err) == AF_ERR_INVALID);
  if (have("gcc")) {
    /* the directory a crashed worker left behind goes at the next open */
    pid_t dead = fork();
    if (dead == 0) _exit(0);
    waitpid(dead, NULL, 0);
    const char *tmp = getenv("TMPDIR");
    char stale[300], file[340];
    snprintf(stale, sizeof stale, "%s/abifuzz-cc.%ld.zzzzzz", tmp && *tmp ? tmp : "/tmp",
             (long)dead);
    snprintf(file, sizeof file, "%s/case.c", stale);
    CHECK(mkdir(stale, 0700) == 0);
    FILE *f = fopen(file, "w");
    if (f) fclose(f);
    CHECK(af_backend_open("cc:gcc -c {src} -o {obj}", &b, &err) == AF_OK);
    CHECKF(access(stale, F_OK) != 0, "%s is still there", stale);
    CHECK(!strcmp(af_backend_kind(b), "cc") && af_backend_batches(b));
    CHECK(af_backend_supports_cc(b, AF_CC_WIN64) && af_backend_supports_cc(b, AF_CC_SYSV));
    af_backend_close(b);
  }
  /* a compiler that dies of a signal is an error (a finding), not a skip */
  af_gen_opts o;
  af_gen_opts_default(&o);
  af_case c;
  CHECK(af_gen_case(&o, 3, 0, &c, NULL, &err) == AF_OK);
  CHECK(af_backend_open("cc:sh -c 'kill -SEGV $$' {src} {obj}", &b, &err) == AF_OK);
  af_backend_code *code = NULL;
  const char *skip = NULL;
  af_status s = af_backend_compile(b, &c, &code, &skip, &err);
  printf("crashing compiler: %s\n", err.msg);
  CHECKF(s != AF_OK && s != AF_ERR_UNSUPPORTED && !skip, "status %d", (int)s);
  CHECK(strstr(err.msg, "signal") != NULL);
  af_backend_close(b);
  af_case_free(&c);
  if (have("tcc")) {
    CHECK(af_backend_open("cc:tcc -c {src} -o {obj}", &b, &err) == AF_OK);
    CHECK(!af_backend_supports_cc(b, AF_CC_WIN64) && af_backend_supports_cc(b, AF_CC_SYSV));
    af_backend_close(b);
    /* the compiler is what compiles, not the command's first word: `env tcc` is tcc (its
     * `--version` is coreutils'), so Win64 is off as for tcc itself */
    CHECK(af_backend_open("cc:env tcc -c {src} -o {obj}", &b, &err) == AF_OK);
    CHECKF(!af_backend_supports_cc(b, AF_CC_WIN64) && af_backend_supports_cc(b, AF_CC_SYSV),
           "env tcc identified as tcc");
    af_backend_close(b);
  }
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 24;
  setvbuf(stdout, NULL, _IONBF, 0);
  errors();
  needs();
  werror("gcc", "-O1");
  werror("clang-19", "-O1");
  werror("clang-14", "-O2");
  rejected();
  batching();
  sizes();
  for (int cc = 0; cc < AF_CC_COUNT; cc++) {
    run("gcc", "cc:gcc -O1 -c {src} -o {obj}", cc, 1, n, 64);
    run("clang-14", "cc:clang-14 -O2 -c {src} -o {obj}", cc, 2, n, 64);
    run("clang-19", "cc:clang-19 -O1 -c {src} -o {obj}", cc, 3, n, 64);
  }
  run("tcc", "cc:tcc -c {src} -o {obj}", AF_CC_SYSV, 1, 4 * n, 64);
  divergent("gcc", "cc:gcc -O1 -c {src} -o {obj}", AF_CC_WIN64, 32);
  divergent("clang-14", "cc:clang-14 -O1 -c {src} -o {obj}", AF_CC_SYSV, 32);
  return check_done();
}
