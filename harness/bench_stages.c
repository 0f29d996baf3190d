/* bench_stages.c - `abifuzz bench` stages run in this process: gen, interp, jit, each leg, the
 * pipeline; each in a forked child, so a crash is a "crashed" row, not the end of bench. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

/* Jobs a stub leg keeps waiting for the compiler before it skips cases as "oracle backlog"
 * (leg_cc.c's LEG_MAX_JOBS). The warm-up pass submits fewer at a time so that it skips none;
 * the timed pass of a stub leg waits for a free slot instead of submitting into a skip. */
#define LEG_QUEUE  32
#define WARM_CHUNK 30
#define WARM_MAX   1024

/* ---- the forked child ------------------------------------------------------------------- */
static int write_all(int fd, const void *p, size_t n) {
  const char *c = p;
  while (n) {
    ssize_t w = write(fd, c, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    c += w, n -= (size_t)w;
  }
  return 0;
}

void bench_forked(bench_ctx *b, bench_fn fn, const void *arg, double limit_s, bench_row *r) {
  int fd[2]; /* close-on-exec: a compiler a stage runs must not hold bench's end open */
  if (pipe2(fd, O_CLOEXEC)) {
    r->status = BENCH_ERROR;
    snprintf(r->note, sizeof r->note, "pipe: %s", strerror(errno));
    return;
  }
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) {
    close(fd[0]), close(fd[1]);
    r->status = BENCH_ERROR;
    snprintf(r->note, sizeof r->note, "fork: %s", strerror(errno));
    return;
  }
  if (pid == 0) {
    close(fd[0]);
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* bench killed: its stage goes too */
    af_legs_process_init();           /* as a campaign worker does */
    bench_row out = *r;
    /* Test hook (tests/test_bench.sh): this stage dies, to prove a crash is a row, not the end */
    const char *die = getenv("ABIFUZZ_TEST_BENCH_CRASH");
    if (die && !strcmp(die, r->name)) raise(SIGSEGV);
    fn(b, arg, &out);
    _exit(write_all(fd[1], &out, sizeof out) ? 4 : 0);
  }
  close(fd[1]);
  bench_row got;
  size_t have = 0;
  int hung = 0;
  double end = camp_now() + limit_s;
  while (have < sizeof got) {
    double left = end - camp_now();
    if (left <= 0) {
      hung = 1;
      break;
    }
    struct pollfd p = {fd[0], POLLIN, 0};
    int k = poll(&p, 1, (int)(left * 1000) + 1);
    if (k < 0 && errno == EINTR) continue;
    if (k == 0) continue; /* the loop's own clock decides */
    ssize_t n = read(fd[0], (char *)&got + have, sizeof got - have);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    have += (size_t)n;
  }
  if (hung) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  close(fd[0]);
  if (have == sizeof got) {
    *r = got;
    return;
  }
  r->status = BENCH_CRASHED;
  if (hung)
    snprintf(r->note, sizeof r->note, "hung: killed after %.0f s", limit_s);
  else if (WIFSIGNALED(status))
    snprintf(r->note, sizeof r->note, "crashed: %s", camp_signame(WTERMSIG(status)));
  else
    snprintf(r->note, sizeof r->note, "crashed: the stage exited with %d", WEXITSTATUS(status));
}

/* ---- the case pool ------------------------------------------------------------------------ */
/* A job as a worker makes one (af_job_new: the case is not zeroed first), so that the pipeline
 * row costs what a worker's case costs. */
static af_job *job_new(bench_ctx *b, uint64_t index) {
  af_job *j = af_job_new(&b->camp.legs_cfg, b->camp.seed, index);
  if (!j) return NULL;
  af_error err = {{0}};
  if (camp_gen(&b->camp, index, &j->c, NULL, &err) != AF_OK ||
      af_interp(&j->c, 0, &j->want, &err) != AF_OK) {
    af_job_unref(j);
    return NULL;
  }
  return j;
}

int bench_pool_make(bench_ctx *b, int n) {
  b->pool = calloc((size_t)n, sizeof *b->pool);
  if (!b->pool) return -1;
  b->npool = 0;
  for (int i = 0; i < n; i++) {
    af_job *j = job_new(b, (uint64_t)i);
    if (j) b->pool[b->npool++] = j;
  }
  return b->npool ? 0 : -1;
}

void bench_pool_free(bench_ctx *b) {
  for (int i = 0; i < b->npool; i++)
    af_job_unref(b->pool[i]);
  free(b->pool);
  b->pool = NULL, b->npool = 0;
}

/* ---- a sink that counts verdicts ---------------------------------------------------------- */
#define NREASONS 4
typedef struct {
  uint64_t pass, fail, skip, ended;
  int nreasons;
  char reason[NREASONS][64];
  uint64_t reason_n[NREASONS];
} counter;

static void cnt_begin(void *u, const af_job *j, const char *leg) { (void)u, (void)j, (void)leg; }

static void cnt_end(void *u, const af_job *j, const char *leg, af_leg_verdict v, const char *reason,
                    const af_finding *f, int nf) {
  (void)j, (void)leg, (void)f, (void)nf;
  counter *k = u;
  k->ended++;
  if (v == AF_LEG_PASS) k->pass++;
  if (v == AF_LEG_FAIL) k->fail++;
  if (v != AF_LEG_SKIP) return;
  k->skip++;
  if (!reason) reason = "(no reason)";
  for (int i = 0; i < k->nreasons; i++)
    if (!strncmp(k->reason[i], reason, sizeof k->reason[i] - 1)) {
      k->reason_n[i]++;
      return;
    }
  if (k->nreasons < NREASONS) {
    snprintf(k->reason[k->nreasons], sizeof k->reason[0], "%s", reason);
    k->reason_n[k->nreasons++] = 1;
  }
}

/* Appends printf-style text to r->note, "; "-separated. */
void bench_note(bench_row *r, const char *fmt, ...) {
  size_t n = strlen(r->note);
  if (n && n + 2 < sizeof r->note) memcpy(r->note + n, "; ", 3), n += 2;
  va_list ap;
  va_start(ap, fmt);
  if (n < sizeof r->note) vsnprintf(r->note + n, sizeof r->note - n, fmt, ap);
  va_end(ap);
}

double bench_cpu_now(void) {
  struct rusage self, kids;
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &kids);
  return (double)(self.ru_utime.tv_sec + self.ru_stime.tv_sec + kids.ru_utime.tv_sec +
                  kids.ru_stime.tv_sec) +
         (double)(self.ru_utime.tv_usec + self.ru_stime.tv_usec + kids.ru_utime.tv_usec +
                  kids.ru_stime.tv_usec) *
             1e-6;
}

/* The row's counts and notes (skip reasons) from a leg's counter. */
static void counted(bench_row *r, const counter *k) {
  r->cases += k->pass + k->fail;
  r->fails += k->fail;
  r->skips += k->skip;
  if (k->fail) bench_note(r, "%llu with findings", (unsigned long long)k->fail);
  for (int i = 0; i < k->nreasons; i++)
    bench_note(r, "skip %llu: %s", (unsigned long long)k->reason_n[i], k->reason[i]);
}

static void sleep_ms(double ms) {
  struct timespec ts = {0, (long)(ms * 1e6)};
  nanosleep(&ts, NULL);
}

/* ---- gen, interp, jit ---------------------------------------------------------------------- */
static void do_gen(bench_ctx *b, const void *arg, bench_row *r) {
  (void)arg;
  uint64_t i = 0, bad = 0;
  double t0 = camp_now(), c0 = bench_cpu_now(), t;
  do {
    af_case c;
    af_error err = {{0}};
    if (camp_gen(&b->camp, i, &c, NULL, &err) != AF_OK) bad++;
    af_case_free(&c);
    i++;
  } while ((t = camp_now() - t0) < b->time_s);
  r->cases = i, r->fails = bad, r->seconds = t, r->cpu_s = bench_cpu_now() - c0;
  if (bad) bench_note(r, "%llu refused by the generator", (unsigned long long)bad);
}

static void do_interp(bench_ctx *b, const void *arg, bench_row *r) {
  (void)arg;
  uint64_t i = 0, bad = 0;
  double t0 = camp_now(), c0 = bench_cpu_now(), t;
  do {
    af_interp_result res;
    memset(&res, 0, sizeof res);
    af_error err = {{0}};
    if (af_interp(&b->pool[i % (uint64_t)b->npool]->c, 0, &res, &err) != AF_OK) bad++;
    af_interp_result_free(&res);
    i++;
  } while ((t = camp_now() - t0) < b->time_s);
  r->cases = i, r->fails = bad, r->seconds = t, r->cpu_s = bench_cpu_now() - c0;
  bench_note(r, "over %d pre-generated cases", b->npool);
}

static void do_jit(bench_ctx *b, const void *arg, bench_row *r) {
  (void)arg;
  uint64_t i = 0, skip = 0, bad = 0;
  double t0 = camp_now(), c0 = bench_cpu_now(), t;
  do {
    af_jit *jit = NULL;
    af_error err = {{0}};
    af_status s = af_jit_compile(&b->pool[i % (uint64_t)b->npool]->c, NULL, &jit, &err);
    if (s == AF_ERR_UNSUPPORTED)
      skip++;
    else if (s != AF_OK)
      bad++;
    af_jit_free(jit);
    i++;
  } while ((t = camp_now() - t0) < b->time_s);
  r->cases = i - skip, r->skips = skip, r->fails = bad, r->seconds = t;
  r->cpu_s = bench_cpu_now() - c0;
  bench_note(r, "af_jit_compile + af_jit_free");
  if (bad) bench_note(r, "%llu compile errors", (unsigned long long)bad);
}

void bench_gen(bench_ctx *b, bench_row *r) { bench_forked(b, do_gen, NULL, b->time_s * 4 + 60, r); }
void bench_interp(bench_ctx *b, bench_row *r) {
  bench_forked(b, do_interp, NULL, b->time_s * 4 + 60, r);
}
void bench_jit(bench_ctx *b, bench_row *r) { bench_forked(b, do_jit, NULL, b->time_s * 4 + 60, r); }

/* ---- one leg ------------------------------------------------------------------------------- */
typedef struct {
  const af_leg *leg;
  bench_cache cache;
  const char *dir;
} leg_arg;

static void do_leg(bench_ctx *b, const void *arg, bench_row *r) {
  const leg_arg *a = arg;
  const af_leg *leg = a->leg;
  af_legs_cfg cfg = b->camp.legs_cfg;
  if (a->dir) cfg.cache_dir = a->dir;
  void *state = NULL;
  af_error err = {{0}};
  af_status s = leg->init(&cfg, &state, &err);
  if (s != AF_OK) {
    r->status = s == AF_ERR_UNSUPPORTED ? BENCH_OFF : BENCH_ERROR;
    bench_note(r, "off: %s", err.msg[0] ? err.msg : af_strerror(s));
    return;
  }
  counter k;
  memset(&k, 0, sizeof k);
  af_leg_sink sink = {&k, cnt_begin, cnt_end};
  int n = b->npool;
  if (a->cache == BENCH_CACHE_WARM) {
    /* the first pass fills the cache (on disk and this process's pool) with the signatures of
     * the cases the timed pass then cycles over */
    double w0 = camp_now(), limit = b->time_s * 2 > 1 ? b->time_s * 2 : 1;
    int nw = 0;
    while (nw < n && nw < WARM_MAX && (nw == 0 || camp_now() - w0 < limit)) {
      for (int i = 0; i < WARM_CHUNK && nw < n; i++)
        leg->submit(state, b->pool[nw++], &sink);
      if (leg->poll) leg->poll(state, &sink, 1);
    }
    n = nw;
    bench_note(r, "warm-up pass: %d cases in %.1f s, then cycled", nw, camp_now() - w0);
    memset(&k, 0, sizeof k);
  }
  int paced = leg->poll && a->cache != BENCH_CACHE_NONE;
  uint64_t submitted = 0;
  int i = 0;
  double t0 = camp_now(), c0 = bench_cpu_now(), t;
  while ((t = camp_now() - t0) < b->time_s) {
    if (paced && submitted - k.ended >= LEG_QUEUE) {
      leg->poll(state, &sink, 0);
      if (submitted - k.ended >= LEG_QUEUE) sleep_ms(0.5);
      continue;
    }
    af_job_drop_compiles(b->pool[i]); /* the leg alone: its compile counts */
    leg->submit(state, b->pool[i], &sink);
    submitted++;
    i = (i + 1) % n;
    if (leg->poll) leg->poll(state, &sink, 0);
  }
  r->seconds = t, r->cpu_s = bench_cpu_now() - c0;
  r->pending = submitted - k.ended;
  bench_note(r, "the JIT compile included");
  counted(r, &k);
  if (leg->poll && a->cache == BENCH_CACHE_NONE)
    bench_note(r, "batched: verdicts come one compiler run at a time");
  if (a->cache == BENCH_CACHE_COLD && !paced)
    bench_note(r, "fresh empty stub cache: each case waits for its stubs");
  if (a->cache == BENCH_CACHE_COLD && paced)
    bench_note(r,
               "fresh empty stub cache; submits wait while %d jobs wait for the compiler (a "
               "campaign skips those as oracle backlog): checked cases only",
               LEG_QUEUE);
  if (r->pending)
    bench_note(r, "%llu pending at the end, not counted", (unsigned long long)r->pending);
  if (leg->fini) leg->fini(state);
}

void bench_leg(bench_ctx *b, const af_leg *leg, bench_cache cache, const char *cache_dir,
               bench_row *r) {
  leg_arg a = {leg, cache, cache_dir};
  /* the warm-up pass and a compiler still busy at the end come on top of the timed part */
  bench_forked(b, do_leg, &a, b->time_s * 8 + 180, r);
}

/* ---- the pipeline ------------------------------------------------------------------------- */
static void do_pipeline(bench_ctx *b, const void *arg, bench_row *r) {
  char list[256];
  snprintf(list, sizeof list, "%s", (const char *)arg);
  const af_leg *legs[CAMP_MAX_LEGS];
  void *state[CAMP_MAX_LEGS];
  counter k[CAMP_MAX_LEGS];
  int nl = 0;
  char *save = NULL;
  for (char *tok = strtok_r(list, ",", &save); tok && nl < CAMP_MAX_LEGS;
       tok = strtok_r(NULL, ",", &save)) {
    const af_leg *l = af_leg_find(tok);
    af_error err = {{0}};
    af_status s = l ? l->init(&b->camp.legs_cfg, &state[nl], &err) : AF_ERR_UNSUPPORTED;
    if (s != AF_OK) {
      r->status = s == AF_ERR_UNSUPPORTED ? BENCH_OFF : BENCH_ERROR;
      bench_note(r, "off: %s: %s", tok, !l ? "no such leg" : err.msg[0] ? err.msg : af_strerror(s));
      for (int i = 0; i < nl; i++)
        if (legs[i]->fini) legs[i]->fini(state[i]);
      return;
    }
    legs[nl++] = l;
  }
  memset(k, 0, sizeof k);
  af_leg_sink sink[CAMP_MAX_LEGS];
  for (int i = 0; i < nl; i++)
    sink[i] = (af_leg_sink){&k[i], cnt_begin, cnt_end};
  uint64_t i = 0, bad = 0;
  double t0 = camp_now(), c0 = bench_cpu_now(), t;
  do {
    af_job *j = job_new(b, i++);
    if (!j) {
      bad++;
      continue;
    }
    for (int l = 0; l < nl; l++)
      legs[l]->submit(state[l], j, &sink[l]);
    af_job_unref(j);
    for (int l = 0; l < nl; l++)
      if (legs[l]->poll) legs[l]->poll(state[l], &sink[l], 0);
  } while ((t = camp_now() - t0) < b->time_s);
  r->cases = i, r->seconds = t, r->cpu_s = bench_cpu_now() - c0;
  bench_note(r, "gen + interp + %s (the legs share the compiles a worker makes)",
             (const char *)arg);
  if (bad) bench_note(r, "%llu refused by the generator or interpreter", (unsigned long long)bad);
  for (int l = 0; l < nl; l++) { /* skips by leg only: their reasons are in the legs' rows */
    r->skips += k[l].skip, r->fails += k[l].fail;
    if (k[l].fail)
      bench_note(r, "%s: %llu with findings", legs[l]->name, (unsigned long long)k[l].fail);
    if (k[l].skip) bench_note(r, "%s skipped %llu", legs[l]->name, (unsigned long long)k[l].skip);
    if (legs[l]->fini) legs[l]->fini(state[l]);
  }
}

void bench_pipeline(bench_ctx *b, const char *legs, bench_row *r) {
  bench_forked(b, do_pipeline, legs, b->time_s * 4 + 60, r);
}
