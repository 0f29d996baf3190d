/* test_stubs.c - the oracle's compiled stubs: their cache, compiler against compiler, and the
 * three compiler legs around the JIT (with mutants that must be seen). */
#define _GNU_SOURCE /* mkdtemp */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include "check.h"
#include "legs.h"
#include "oracle.h"

#define SEED 0x57ull

/* harness/leg_cc.c (legs.c registers them through weak references, which do not pull an
 * object out of a static library: name them here) */
extern const af_leg af_leg_cc_caller, af_leg_cc_callee, af_leg_cross_cc;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static char cache_dir[256];
static int allow_divergent; /* the generator's allow_divergent for the next runs */
static int allow_f16;       /* the clang in use has _Float16 (15 and later; gcc 12 has it) */

static void gen_opts(af_gen_opts *go, af_cc cc) {
  af_gen_opts_default(go);
  go->cc = (int)cc;
  go->allow_f16 = allow_f16;
  go->allow_m256 = __builtin_cpu_supports("avx");
  go->allow_divergent = allow_divergent;
}

/* ---- 1. the context structs: oracle.h and the stubs' C text agree ------------------------- */
static void check_layout(const char *cc) {
  char *src = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&src, &len);
  af_stub_prelude(m);
  fclose(m);
  char so[512];
  af_error err = {{0}};
  af_status s = af_cc_build_so(cc, AF_STUB_FLAGS, src, len, so, sizeof so, &err);
  free(src);
  CHECKF(s == AF_OK, "%s: the stub prelude does not build: %s", cc, err.msg);
  if (s != AF_OK) return;
  void *h = NULL;
  s = af_cc_dlopen(so, &h, &err);
  af_cc_remove_so(so);
  CHECKF(s == AF_OK, "%s", err.msg);
  void *f = af_cc_dlsym(h, "af_stub_layout");
  size_t (*lay)(int);
  memcpy(&lay, &f, sizeof f);
  CHECK(f != NULL);
  if (f) {
    CHECK(lay(0) == sizeof(af_stub_call));
    CHECK(lay(1) == offsetof(af_stub_call, args));
    CHECK(lay(2) == offsetof(af_stub_call, after));
    CHECK(lay(3) == sizeof(af_stub_ctx));
  }
  af_cc_dlclose(h);
}

/* The name is the signature's shape: the same signature in two cases whose type ids differ has
 * the same stubs; another convention or another field type has others. */
static uint64_t hash_of(int extra_type, af_cc cc, int field_type) {
  af_case c;
  af_case_init(&c);
  af_field f[2] = {{AF_T_U8, -1, 0, 0, 0}, {AF_T_F64, -1, 0, 0, 0}};
  if (extra_type) af_type_add_struct(&c, AF_T_STRUCT, 1, f, 0, 0); /* shifts the ids */
  f[0].type = field_type;
  int t = af_type_add_struct(&c, AF_T_STRUCT, 2, f, 0, 0);
  uint64_t h = 0;
  if (t >= 0 && af_layout(&c) == AF_OK) {
    af_sig sig = {cc, t, 2, {t, AF_T_I8}, 0, 2};
    af_stub_src src;
    if (af_stub_emit(&c, &sig, &src, NULL) == AF_OK) h = src.hash;
    CHECK(h != 0 && strstr(src.text, src.prefix) != NULL);
    af_stub_src_free(&src);
  }
  af_case_free(&c);
  return h;
}

static void check_hash(void) {
  uint64_t a = hash_of(0, AF_CC_SYSV, AF_T_I32);
  CHECK(a != 0);
  CHECK(hash_of(1, AF_CC_SYSV, AF_T_I32) == a);
  CHECK(hash_of(0, AF_CC_WIN64, AF_T_I32) != a);
  CHECK(hash_of(0, AF_CC_SYSV, AF_T_U32) != a);
}

/* The legs' init: off, with the reason the summary prints, when they cannot run. */
static void check_init(const char *clang) {
  af_legs_cfg cfg = {0};
  cfg.ncc = 1;
  cfg.cc[0] = "/nonexistent/cc";
  cfg.cache_dir = cache_dir;
  void *st = NULL;
  af_error err = {{0}};
  af_status s = af_leg_cc_caller.init(&cfg, &st, &err);
  CHECKF(s == AF_ERR_UNSUPPORTED && strstr(err.msg, "no oracle compiler"),
         "cc-caller with no working compiler: %s (%s)", af_strerror(s), err.msg);
  cfg.cc[0] = clang; /* cross-cc needs two */
  s = af_leg_cross_cc.init(&cfg, &st, &err);
  CHECKF(s == AF_ERR_UNSUPPORTED, "cross-cc with one compiler: %s", af_strerror(s));
  s = af_leg_cc_callee.init(&cfg, &st, &err);
  CHECKF(s == AF_OK, "cc-callee with %s: %s", clang, err.msg);
  if (s == AF_OK) af_leg_cc_callee.fini(st);
}

/* ---- 2. the pool: cold and warm cache -------------------------------------------------------- */
/* Distinct stub sources of the entry and host signatures of cases [0, n) of both conventions. */
static int collect(int n, af_stub_src *out, int max) {
  int k = 0, uses = 0;
  for (int cc = 0; cc < AF_CC_COUNT; cc++) {
    af_gen_opts go;
    gen_opts(&go, (af_cc)cc);
    for (int i = 0; i < n && k < max; i++) {
      af_case c;
      if (af_gen_case(&go, SEED, (uint64_t)i, &c, NULL, NULL) != AF_OK) continue;
      for (int f = 0; f < c.nfuncs && k < max; f++) {
        if (f != c.entry && !c.funcs[f].host) continue;
        af_stub_src s;
        if (af_stub_emit(&c, &c.funcs[f].sig, &s, NULL) != AF_OK) continue;
        uses++;
        int dup = 0;
        for (int q = 0; q < k && !dup; q++)
          dup = out[q].hash == s.hash;
        if (dup)
          af_stub_src_free(&s);
        else
          out[k++] = s;
      }
      af_case_free(&c);
    }
  }
  printf("  %d cases per convention: %d signatures (entries and host functions), %d distinct\n", n,
         uses, k);
  return k;
}

/* Requests every source from a fresh pool on cache_dir and waits for all; returns the stats. */
typedef struct {
  af_stub_pool *p;
  const af_stub_src *src;
  int n;
  const char *label;
  double t0, t_new;
} round;

/* A fresh pool on dir asked for every source (its thread starts compiling at once). */
static int round_start(round *r, const char *cc, const char *dir, const af_stub_src *src, int n,
                       const char *label) {
  af_stub_pool_opts o = {0};
  o.cc = cc;
  o.cache_dir = dir;
  af_error err = {{0}};
  memset(r, 0, sizeof *r);
  r->src = src;
  r->n = n;
  r->label = label;
  double t0 = now();
  af_status s = af_stub_pool_new(&o, &r->p, &err);
  CHECKF(s == AF_OK, "%s: %s", cc, err.msg);
  if (s != AF_OK) return -1;
  r->t0 = now(); /* after the compiler's identification (three `cc --version` runs) */
  r->t_new = r->t0 - t0;
  for (int i = 0; i < n; i++)
    af_stub_pool_request(r->p, &src[i]);
  return 0;
}

/* Waits for every source, prints the measures, frees the pool; its stats into st. */
static void round_finish(round *r, af_stub_stats *st) {
  memset(st, 0, sizeof *st);
  if (!r->p) return;
  int ready = 0, failed = 0;
  for (int i = 0; i < r->n; i++) {
    af_stub_state x = af_stub_pool_wait(r->p, r->src[i].hash, 120000);
    ready += x == AF_STUB_READY;
    failed += x == AF_STUB_FAILED;
    if (x == AF_STUB_READY) {
      af_stub_syms sy;
      CHECK(af_stub_pool_get(r->p, r->src[i].hash, &sy) == AF_OK && sy.call && sy.callee && sy.ctx);
    }
  }
  double t = now() - r->t0;
  af_stub_pool_stats(r->p, st);
  const char *name;
  af_stub_pool_identity(r->p, NULL, NULL, &name);
  printf("  %-8s %-5s: %d signatures, %d ready, %d refused; %ld compiler runs, %ld compiled, "
         "%ld from the cache; %.3f s = %.0f stubs/s, %.1f ms per compiler run (pool start %.0f "
         "ms)\n",
         name, r->label, r->n, ready, failed, st->runs, st->compiled, st->cache_hits, t,
         t > 0 ? r->n / t : 0.0, st->runs ? 1000.0 * st->compile_s / (double)st->runs : 0.0,
         1000.0 * r->t_new);
  CHECKF(ready + failed == r->n, "%s: %d of %d signatures answered", name, ready + failed, r->n);
  CHECKF(failed * 100 <= r->n, "%s: %d of %d signatures refused", name, failed, r->n);
  af_stub_pool_free(r->p);
  r->p = NULL;
}

static void pool_round(const char *cc, const char *dir, const af_stub_src *src, int n,
                       const char *label, af_stub_stats *st) {
  round r;
  memset(st, 0, sizeof *st);
  if (round_start(&r, cc, dir, src, n, label) == 0) round_finish(&r, st);
}

/* Cold: clang and gcc (on fewer cases) compile at the same time, each pool with its thread;
 * warm: new pools on the same directory run no compiler. */
static void check_cache(const char *clang, int nclang, const char *gcc, int ngcc) {
  const char *cc[2] = {clang, gcc};
  af_stub_src *src[2];
  int n[2] = {0, 0};
  round r[2];
  memset(r, 0, sizeof r);
  for (int k = 0; k < 2; k++) {
    src[k] = calloc(2048, sizeof *src[k]);
    if (*cc[k]) n[k] = collect(k ? ngcc : nclang, src[k], 2048);
  }
  for (int k = 0; k < 2; k++)
    if (*cc[k]) round_start(&r[k], cc[k], cache_dir, src[k], n[k], "cold");
  for (int k = 0; k < 2; k++) {
    if (!*cc[k]) continue;
    af_stub_stats cold, warm;
    round_finish(&r[k], &cold);
    pool_round(cc[k], cache_dir, src[k], n[k], "warm", &warm);
    CHECKF(cold.runs > 0 && cold.compiled > 0, "%s: the cold cache compiled nothing", cc[k]);
    CHECKF(warm.runs == 0 && warm.compiled == 0,
           "%s: the warm cache ran the compiler %ld times (%ld stubs)", cc[k], warm.runs,
           warm.compiled);
    CHECKF(warm.cache_hits >= n[k] - cold.failed, "%s: %ld cache hits for %d signatures", cc[k],
           warm.cache_hits, n[k]);
  }
  for (int k = 0; k < 2; k++) {
    for (int i = 0; i < n[k]; i++)
      af_stub_src_free(&src[k][i]);
    free(src[k]);
  }
}

/* Two processes fill one cold cache at the same time (each compiles what it does not find);
 * a third finds everything: the index and the shared objects are never seen half-written. */
static void check_concurrent(const char *cc, int ncases) {
  char dir[300];
  snprintf(dir, sizeof dir, "%s/concurrent", cache_dir);
  af_stub_src *src = calloc(2048, sizeof *src);
  int n = collect(ncases, src, 2048);
  pid_t pid[2];
  int fd[2];
  if (pipe(fd) != 0) return;
  fflush(stdout);
  for (int k = 0; k < 2; k++) {
    pid[k] = fork();
    if (pid[k] == 0) {
      close(fd[0]);
      af_stub_stats st;
      /* the second one asks in reverse order, so that both have work the other has not done */
      if (k == 1)
        for (int i = 0; i < n / 2; i++) {
          af_stub_src t = src[i];
          src[i] = src[n - 1 - i];
          src[n - 1 - i] = t;
        }
      pool_round(cc, dir, src, n, k ? "proc2" : "proc1", &st);
      fflush(stdout);
      if (write(fd[1], &st.compiled, sizeof st.compiled) != (ssize_t)sizeof st.compiled) _exit(1);
      _exit(check_failed ? 1 : 0);
    }
  }
  close(fd[1]);
  long compiled = 0, c1;
  while (read(fd[0], &c1, sizeof c1) == (ssize_t)sizeof c1)
    compiled += c1;
  close(fd[0]);
  /* a claimed signature is compiled by one of them only (a claim is taken over only after
   * CLAIM_STALE_S, far beyond this test) */
  CHECKF(compiled == n, "two concurrent fillers compiled %ld stubs for %d signatures", compiled, n);
  for (int k = 0; k < 2; k++) {
    int st = 0;
    waitpid(pid[k], &st, 0);
    CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "concurrent filler %d failed (0x%x)", k,
           (unsigned)st);
  }
  af_stub_stats warm;
  memset(&warm, 0, sizeof warm);
  pool_round(cc, dir, src, n, "after", &warm);
  CHECKF(warm.runs == 0 && warm.cache_hits == n,
         "after two concurrent fillers: %ld compiler runs, %ld of %d from the cache", warm.runs,
         warm.cache_hits, n);
  for (int i = 0; i < n; i++)
    af_stub_src_free(&src[i]);
  free(src);
}

/* ---- 3. legs in forked workers ------------------------------------------------------------- */
#define MAX_CASES 1024
#define NLEGS     3

typedef struct {
  int kind; /* 0 begin, 1 end */
  int idx, leg, verdict, nf;
  char reason[48];
  char first[240];
} rec;

typedef struct {
  int ended[NLEGS];
  int verdict[NLEGS];
  int nf[NLEGS];
  char reason[NLEGS][48];
  char first[NLEGS][240];
  int crashed; /* signal */
} case_out;

typedef struct {
  int fd;
  const af_leg *legs[NLEGS];
  int nlegs;
} child;

static int leg_no(const child *ch, const char *name) {
  for (int i = 0; i < ch->nlegs; i++)
    if (!strcmp(ch->legs[i]->name, name)) return i;
  return 0;
}

static void wr(int fd, const rec *r) {
  if (write(fd, r, sizeof *r) != (ssize_t)sizeof *r) _exit(3);
}

static void sink_begin(void *u, const af_job *j, const char *leg) {
  child *ch = u;
  rec r = {0, (int)j->index, leg_no(ch, leg), 0, 0, "", ""};
  wr(ch->fd, &r);
}

static void sink_end(void *u, const af_job *j, const char *leg, af_leg_verdict v,
                     const char *reason, const af_finding *f, int nf) {
  child *ch = u;
  rec r = {1, (int)j->index, leg_no(ch, leg), (int)v, nf, "", ""};
  snprintf(r.reason, sizeof r.reason, "%s", reason ? reason : "");
  if (nf > 0)
    snprintf(r.first, sizeof r.first, "%.23s %.31s [%.63s] %.115s", f[0].leg, f[0].check, f[0].what,
             f[0].detail);
  wr(ch->fd, &r);
}

typedef struct {
  af_cc cc;
  int n;
  const af_legs_cfg *cfg;
  const af_leg *legs[NLEGS];
  int nlegs;
  int hold; /* 1: no poll before every case is submitted (fills the legs' queues) */
} run_spec;

/* The child: every case not done yet, through every leg. */
static void child_main(const run_spec *rs, const case_out *out, int fd) {
  child ch = {fd, {0}, rs->nlegs};
  void *state[NLEGS] = {0};
  int on[NLEGS] = {0};
  for (int l = 0; l < rs->nlegs; l++) {
    ch.legs[l] = rs->legs[l];
    af_error err = {{0}};
    on[l] = rs->legs[l]->init(rs->cfg, &state[l], &err) == AF_OK;
    if (!on[l]) fprintf(stderr, "leg %s off: %s\n", rs->legs[l]->name, err.msg);
  }
  af_leg_sink sink = {&ch, sink_begin, sink_end};
  af_gen_opts go;
  gen_opts(&go, rs->cc);
  for (int i = 0; i < rs->n; i++) {
    int done = out[i].crashed != 0;
    for (int l = 0; l < rs->nlegs; l++)
      done |= out[i].ended[l];
    if (done) continue;
    af_job *j = calloc(1, sizeof *j);
    j->refs = 1;
    j->seed = SEED;
    j->index = (uint64_t)i;
    j->cfg = rs->cfg;
    af_error err = {{0}};
    if (af_gen_case(&go, SEED, (uint64_t)i, &j->c, NULL, &err) != AF_OK ||
        af_interp(&j->c, 0, &j->want, &err) != AF_OK) {
      af_job_unref(j);
      continue;
    }
    for (int l = 0; l < rs->nlegs; l++)
      if (on[l]) {
        rs->legs[l]->submit(state[l], j, &sink);
        /* Wait for the compiler every 16 cases, half the legs' queue (harness/leg_cc.c
         * LEG_MAX_JOBS): else a machine busy with other work makes the compiler fall behind
         * and the pass rates below count "oracle backlog" skips, which depend on the load. */
        if (!rs->hold) rs->legs[l]->poll(state[l], &sink, i % 16 == 15);
      }
    af_job_unref(j);
  }
  for (int l = 0; l < rs->nlegs; l++)
    if (on[l]) {
      rs->legs[l]->poll(state[l], &sink, 1);
      rs->legs[l]->fini(state[l]);
    }
}

/* Runs cases [0, n) through the legs in forked children; a crash blames the case that began
 * last without ending, and the next child goes on without it. */
static void run_cases(const run_spec *rs, case_out *out) {
  memset(out, 0, sizeof *out * (size_t)rs->n);
  if (getenv("AF_TEST_NOFORK")) { /* for a debugger: no isolation, no results */
    child_main(rs, out, open("/dev/null", O_WRONLY));
    return;
  }
  for (int round = 0; round < 64; round++) {
    int fd[2];
    if (pipe(fd) != 0) return;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
      close(fd[0]);
      alarm(120);
      child_main(rs, out, fd[1]);
      _exit(0);
    }
    close(fd[1]);
    rec r;
    int open_idx = -1;
    while (read(fd[0], &r, sizeof r) == (ssize_t)sizeof r) {
      if (r.idx < 0 || r.idx >= rs->n || r.leg < 0 || r.leg >= NLEGS) continue;
      if (r.kind == 0) {
        open_idx = r.idx;
        continue;
      }
      case_out *o = &out[r.idx];
      o->ended[r.leg] = 1;
      o->verdict[r.leg] = r.verdict;
      o->nf[r.leg] = r.nf;
      memcpy(o->reason[r.leg], r.reason, sizeof r.reason);
      memcpy(o->first[r.leg], r.first, sizeof r.first);
      if (r.idx == open_idx) open_idx = -1;
    }
    close(fd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return;
    if (open_idx < 0) {
      CHECKF(0, "a worker died (status 0x%x) outside any case", (unsigned)st);
      return;
    }
    out[open_idx].crashed = WIFSIGNALED(st) ? WTERMSIG(st) : -1;
  }
}

typedef struct {
  int ran[NLEGS], pass[NLEGS], fail[NLEGS], skip[NLEGS], crashed;
} tally;

static void count(const run_spec *rs, const case_out *out, tally *t, int print_findings,
                  const char *what) {
  memset(t, 0, sizeof *t);
  for (int i = 0; i < rs->n; i++) {
    if (out[i].crashed) {
      t->crashed++;
      if (print_findings)
        printf("    case %d (%s): crashed (%s)\n", i, what, strsignal(out[i].crashed));
    }
    for (int l = 0; l < rs->nlegs; l++) {
      if (!out[i].ended[l]) continue;
      t->ran[l]++;
      t->pass[l] += out[i].verdict[l] == AF_LEG_PASS;
      t->fail[l] += out[i].verdict[l] == AF_LEG_FAIL;
      t->skip[l] += out[i].verdict[l] == AF_LEG_SKIP;
      if (out[i].verdict[l] == AF_LEG_FAIL && print_findings)
        printf("    case seed 0x%llx index %d (%s): %d findings, first: %s\n",
               (unsigned long long)SEED, i, what, out[i].nf[l], out[i].first[l]);
    }
  }
}

/* The skip reasons of leg l, most frequent first (up to 4). */
static void print_skips(const run_spec *rs, const case_out *out, int l) {
  char names[8][48];
  int cnt[8] = {0}, k = 0;
  for (int i = 0; i < rs->n; i++) {
    if (!out[i].ended[l] || out[i].verdict[l] != AF_LEG_SKIP) continue;
    int q = 0;
    while (q < k && strcmp(names[q], out[i].reason[l]))
      q++;
    if (q == k && k < 8) memcpy(names[k++], out[i].reason[l], 48);
    if (q < 8) cnt[q]++;
  }
  for (int q = 0; q < k; q++)
    printf("      skip %d: %s\n", cnt[q], names[q]);
}

static void legs_clean(af_cc cc, int n, int ncross, const char *clang, const char *gcc) {
  af_legs_cfg cfg = {0};
  cfg.ncc = 1;
  cfg.cc[0] = clang;
  cfg.cache_dir = cache_dir;
  af_legs_cfg cfg2 = cfg;
  cfg2.ncc = 2;
  cfg2.cc[1] = gcc;
  run_spec rs = {cc, n, &cfg, {&af_leg_cc_caller, &af_leg_cc_callee}, 2, 0};
  case_out *out = calloc(MAX_CASES, sizeof *out);
  double t0 = now();
  run_cases(&rs, out);
  tally t;
  count(&rs, out, &t, 1, af_cc_name(cc));
  printf("  %s, %d cases, %s (%.1f s):\n", af_cc_name(cc), n, clang, now() - t0);
  for (int l = 0; l < rs.nlegs; l++) {
    printf("    %-9s %d pass, %d fail, %d skip\n", rs.legs[l]->name, t.pass[l], t.fail[l],
           t.skip[l]);
    print_skips(&rs, out, l);
    CHECKF(t.fail[l] == 0, "%s %s: %d cases with findings", af_cc_name(cc), rs.legs[l]->name,
           t.fail[l]);
    CHECKF(t.ran[l] == n, "%s %s: %d of %d cases ended", af_cc_name(cc), rs.legs[l]->name, t.ran[l],
           n);
  }
  CHECKF(t.pass[0] * 10 >= n * 9, "%s cc-caller: only %d of %d cases passed", af_cc_name(cc),
         t.pass[0], n);
  CHECKF(t.pass[1] * 3 >= n, "%s cc-callee: only %d of %d cases passed", af_cc_name(cc), t.pass[1],
         n);
  CHECKF(t.crashed == 0, "%s: %d crashes", af_cc_name(cc), t.crashed);
  /* cross-cc: clang's callers against gcc's callees and the reverse */
  if (gcc && *gcc) {
    run_spec rx = {cc, ncross, &cfg2, {&af_leg_cross_cc}, 1, 0};
    t0 = now();
    run_cases(&rx, out);
    count(&rx, out, &t, 1, af_cc_name(cc));
    printf("    cross-cc  %d pass, %d fail, %d skip (%s and %s, %.1f s)\n", t.pass[0], t.fail[0],
           t.skip[0], clang, gcc, now() - t0);
    print_skips(&rx, out, 0);
    CHECKF(t.fail[0] == 0 && t.crashed == 0, "%s cross-cc: %d cases with findings, %d crashes",
           af_cc_name(cc), t.fail[0], t.crashed);
    CHECKF(t.pass[0] * 10 >= ncross * 9, "%s cross-cc: only %d of %d cases passed", af_cc_name(cc),
           t.pass[0], ncross);
  }
  free(out);
}

/* Cases with constructs gcc and clang lower differently (gen/abi.c's table): every leg skips
 * them with the divergence's id as the reason, and nothing else is reported. */
static void legs_divergent(af_cc cc, int n, const char *clang, const char *gcc) {
  af_legs_cfg cfg = {0};
  cfg.ncc = *gcc ? 2 : 1;
  cfg.cc[0] = clang;
  cfg.cc[1] = gcc;
  cfg.cache_dir = cache_dir;
  allow_divergent = 1;
  run_spec rs = {cc,           n, &cfg, {&af_leg_cc_caller, &af_leg_cc_callee, &af_leg_cross_cc},
                 *gcc ? 3 : 2, 0};
  case_out *out = calloc(MAX_CASES, sizeof *out);
  run_cases(&rs, out);
  allow_divergent = 0;
  tally t;
  count(&rs, out, &t, 1, "divergent");
  int div_skips = 0;
  for (int i = 0; i < n; i++)
    for (int l = 0; l < rs.nlegs; l++)
      if (out[i].ended[l] && out[i].verdict[l] == AF_LEG_SKIP)
        for (int d = 0; d < af_divergence_count(); d++)
          div_skips += !strcmp(out[i].reason[l], af_divergence_get(d)->id);
  printf("  %s, %d cases with divergent constructs allowed: %d leg runs skipped for a known "
         "divergence\n",
         af_cc_name(cc), n, div_skips);
  for (int l = 0; l < rs.nlegs; l++) {
    printf("    %-9s %d pass, %d fail, %d skip\n", rs.legs[l]->name, t.pass[l], t.fail[l],
           t.skip[l]);
    print_skips(&rs, out, l);
    CHECKF(t.fail[l] == 0, "%s %s (divergent): %d cases with findings", af_cc_name(cc),
           rs.legs[l]->name, t.fail[l]);
  }
  CHECKF(t.crashed == 0, "%s (divergent): %d crashes", af_cc_name(cc), t.crashed);
  free(out);
}

/* Every case submitted before any poll: the legs keep 32 jobs waiting and skip the rest as
 * "oracle backlog"; every submit still ends exactly once. */
static void legs_backlog(af_cc cc, int n, const char *clang) {
  af_legs_cfg cfg = {0};
  cfg.ncc = 1;
  cfg.cc[0] = clang;
  cfg.cache_dir = cache_dir;
  run_spec rs = {cc, n, &cfg, {&af_leg_cc_caller}, 1, 1};
  case_out *out = calloc(MAX_CASES, sizeof *out);
  run_cases(&rs, out);
  tally t;
  count(&rs, out, &t, 1, "backlog");
  int backlog = 0;
  for (int i = 0; i < n; i++)
    backlog += out[i].ended[0] && out[i].verdict[0] == AF_LEG_SKIP &&
               !strcmp(out[i].reason[0], "oracle backlog");
  printf("  %d cases submitted before a poll: %d pass, %d fail, %d skipped as oracle backlog\n", n,
         t.pass[0], t.fail[0], backlog);
  CHECKF(t.ran[0] == n && t.fail[0] == 0, "backlog: %d of %d ended, %d failed", t.ran[0], n,
         t.fail[0]);
  /* 32: LEG_MAX_JOBS of harness/leg_cc.c */
  CHECKF(backlog == (n > 32 ? n - 32 : 0), "backlog: %d skipped for %d cases (32 wait)", backlog,
         n);
  free(out);
}

/* A leg with a mutant: some case must report a finding (or crash). */
static void legs_mutant(const af_leg *leg, af_cc cc, int n, const char *clang, const char *mutant) {
  af_legs_cfg cfg = {0};
  cfg.ncc = 1;
  cfg.cc[0] = clang;
  cfg.cache_dir = cache_dir;
  cfg.inject = mutant;
  run_spec rs = {cc, n, &cfg, {leg}, 1, 0};
  case_out *out = calloc(MAX_CASES, sizeof *out);
  run_cases(&rs, out);
  tally t;
  count(&rs, out, &t, 0, mutant);
  char first[240] = "";
  for (int i = 0; i < n && !first[0]; i++)
    if (out[i].ended[0] && out[i].verdict[0] == AF_LEG_FAIL) memcpy(first, out[i].first[0], 240);
  printf("  mutant %-20s (%s): %s failed %d, crashed %d of %d cases; e.g. %s\n", mutant,
         af_cc_name(cc), leg->name, t.fail[0], t.crashed, n, first);
  CHECKF(t.fail[0] + t.crashed > 0, "mutant %s (%s): the %s leg saw nothing", mutant,
         af_cc_name(cc), leg->name);
  free(out);
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 300;
  if (n > MAX_CASES) n = MAX_CASES;
  const char *clang = "/usr/bin/clang-19";
  if (!af_cc_available(clang)) clang = AF_CLANG;
  if (!af_cc_available(clang)) {
    printf("skip: no clang: the stubs cannot be built\n");
    return check_done();
  }
  const char *gcc = af_cc_available(AF_GCC) ? AF_GCC : "";
  af_family fam;
  int major = 0;
  allow_f16 = af_cc_identify(clang, &fam, &major, NULL) == AF_OK && major >= 15;
  const char *tmp = getenv("TMPDIR");
  snprintf(cache_dir, sizeof cache_dir, "%s/afstubs.XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(cache_dir)) {
    CHECK(!"mkdtemp");
    return check_done();
  }
  printf("stubs: %s and %s, cache %s, %d cases per convention\n", clang, *gcc ? gcc : "(no gcc)",
         cache_dir, n);
  check_layout(clang);
  check_init(clang);
  check_hash();
  if (*gcc) check_layout(gcc);

  /* gcc builds stubs about 3 times slower than clang: the cross-compiler checks take half the
   * cases (still over 300 signatures per convention) */
  int nx = n / 2 > 0 ? n / 2 : 1;
  printf("cache (entry and host signatures of %d cases per convention; gcc: %d):\n", n, nx);
  check_cache(clang, n, gcc, nx);
  check_concurrent(clang, n / 10 > 0 ? n / 10 : 1);

  printf("legs (forked workers, warm cache):\n");
  legs_clean(AF_CC_SYSV, n, nx, clang, gcc);
  legs_clean(AF_CC_WIN64, n, nx, clang, gcc);

  printf("bounded queue:\n");
  legs_backlog(AF_CC_SYSV, n, clang);

  printf("known divergences:\n");
  legs_divergent(AF_CC_SYSV, n / 8 > 0 ? n / 8 : 1, clang, gcc);
  legs_divergent(AF_CC_WIN64, n / 8 > 0 ? n / 8 : 1, clang, gcc);

  printf("mutants (with %s):\n", clang);
  int nm = n / 2 > 0 ? n / 2 : 1;
  legs_mutant(&af_leg_cc_callee, AF_CC_SYSV, nm, clang, "stack-args-reversed");
  legs_mutant(&af_leg_cc_callee, AF_CC_WIN64, nm, clang, "w64-float-index");
  legs_mutant(&af_leg_cc_callee, AF_CC_SYSV, nm, clang, "sysv-vararg-no-al");
  legs_mutant(&af_leg_cc_callee, AF_CC_SYSV, nm, clang, "narrow-not-extended");
  /* the JIT entry as the callee of clang's caller stub (sret-not-returned is not among them:
   * clang's caller reads the result through its own buffer pointer, not RAX) */
  legs_mutant(&af_leg_cc_caller, AF_CC_SYSV, nm, clang, "long-double-in-xmm0");
  legs_mutant(&af_leg_cc_caller, AF_CC_SYSV, nm, clang, "callee-reads-64-of-32");

  if (!getenv("AF_KEEP_TMP")) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", cache_dir);
    if (system(cmd) != 0) printf("could not remove %s\n", cache_dir);
  }
  return check_done();
}
