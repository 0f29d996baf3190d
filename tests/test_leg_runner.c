/* test_leg_runner.c - the runner and c-oracle legs through a recording sink: one end per job,
 * begin before end, pass on a correct JIT, findings with the right check on a mutant. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "jit.h"
#include "legs.h"
#include "oracle.h"

extern const af_leg af_leg_runner, af_leg_c_oracle;

#define SEED 0x5eedull

/* What the legs told the sink. */
typedef struct {
  int begins, ends, pass, fail, skip, nf;
  int begin_open; /* a begin not yet ended */
  int order_bad;  /* an end for another (index, leg) than the open begin */
  uint64_t open_index;
  char checks[256]; /* the checks seen, space-separated, first few */
  char whats[256];
} record;

static void rec_begin(void *u, const af_job *j, const char *leg) {
  record *r = u;
  (void)leg;
  r->begins++;
  if (r->begin_open) r->order_bad = 1;
  r->begin_open = 1;
  r->open_index = j->index;
}

static void rec_end(void *u, const af_job *j, const char *leg, af_leg_verdict v, const char *reason,
                    const af_finding *f, int nf) {
  record *r = u;
  (void)leg;
  r->ends++;
  if (r->begin_open && r->open_index != j->index) r->order_bad = 1;
  r->begin_open = 0;
  if (v == AF_LEG_PASS) {
    r->pass++;
    CHECK(nf == 0);
  } else if (v == AF_LEG_SKIP) {
    r->skip++;
    CHECK(nf == 0 && reason && *reason);
  } else {
    r->fail++;
    CHECK(nf > 0);
  }
  r->nf += nf;
  for (int i = 0; i < nf; i++) {
    CHECK(!strcmp(f[i].leg, leg));
    if (strlen(r->checks) + strlen(f[i].check) + 2 < sizeof r->checks)
      strcat(r->checks, f[i].check), strcat(r->checks, " ");
    if (strlen(r->whats) + strlen(f[i].what) + 2 < sizeof r->whats)
      strcat(r->whats, f[i].what), strcat(r->whats, "|");
  }
}

static af_job *job_gen(af_cc cc, uint64_t index, const af_legs_cfg *cfg) {
  af_gen_opts o;
  af_gen_opts_default(&o);
  o.cc = (int)cc;
  af_job *j = calloc(1, sizeof *j);
  af_error err = {{0}};
  if (!j) return NULL;
  if (af_gen_case(&o, SEED, index, &j->c, NULL, &err) != AF_OK ||
      af_interp(&j->c, 0, &j->want, &err) != AF_OK) {
    fprintf(stderr, "case %llu: %s\n", (unsigned long long)index, err.msg);
    af_case_free(&j->c);
    free(j);
    return NULL;
  }
  j->refs = 1, j->seed = SEED, j->index = index, j->cfg = cfg;
  return j;
}

/* The runner on a correct JIT: every case passes (or is skipped), framed by begin/end. */
static void runner_clean(void) {
  af_legs_cfg cfg = {0};
  void *st = NULL;
  af_error err = {{0}};
  CHECK(af_leg_runner.init(&cfg, &st, &err) == AF_OK);
  record r = {0};
  af_leg_sink sink = {&r, rec_begin, rec_end};
  int n = 0;
  for (uint64_t i = 0; i < 60; i++) {
    af_job *j = job_gen(i & 1 ? AF_CC_WIN64 : AF_CC_SYSV, i, &cfg);
    CHECK(j != NULL);
    if (!j) continue;
    af_leg_runner.submit(st, j, &sink);
    CHECK(j->refs == 1); /* an immediate leg keeps no reference */
    af_job_unref(j);
    n++;
  }
  af_leg_runner.fini(st);
  CHECKF(r.ends == n, "%d ends for %d jobs", r.ends, n);
  CHECKF(r.pass + r.skip == n && r.fail == 0, "pass %d skip %d fail %d: %s", r.pass, r.skip, r.fail,
         r.checks);
  CHECK(r.pass > n / 2);
  CHECK(r.begins >= r.pass && !r.order_bad && !r.begin_open);
}

/* The runner with a mutant that gives wrong values (no crash expected, but each case runs in a
 * child so that one would only fail the check): some case fails with a value check. */
static void runner_mutant(const char *mutant, af_cc cc) {
  int fails = 0, values = 0, crashes = 0, total = 0;
  for (uint64_t i = 0; i < 120 && values == 0; i++) {
    int fd[2];
    if (pipe(fd)) break;
    pid_t pid = fork();
    if (pid == 0) {
      close(fd[0]);
      af_legs_cfg cfg = {0};
      cfg.inject = mutant;
      void *st = NULL;
      af_error err = {{0}};
      record r = {0};
      af_leg_sink sink = {&r, rec_begin, rec_end};
      af_job *j = job_gen(cc, i, &cfg);
      if (!j || af_leg_runner.init(&cfg, &st, &err) != AF_OK) _exit(3);
      af_leg_runner.submit(st, j, &sink);
      char out[300];
      int len = snprintf(out, sizeof out, "%d %d %s", r.ends, r.fail, r.checks);
      ssize_t w = write(fd[1], out, (size_t)len);
      _exit(w == len ? 0 : 3);
    }
    close(fd[1]);
    char buf[300] = {0};
    ssize_t got = read(fd[0], buf, sizeof buf - 1);
    close(fd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    total++;
    if (!WIFEXITED(status) || got <= 0) {
      crashes++;
      continue;
    }
    int ends = 0, fail = 0;
    char checks[300] = {0};
    sscanf(buf, "%d %d %299[^\n]", &ends, &fail, checks);
    CHECK(ends == 1);
    if (fail) {
      fails++;
      if (strstr(checks, "result") || strstr(checks, "objects") || strstr(checks, "checksum"))
        values++;
    }
  }
  CHECKF(values > 0, "%s (%s): no value finding in %d cases (%d fails, %d crashes)", mutant,
         af_cc_name(cc), total, fails, crashes);
}

/* c-oracle: batched; nothing ends before poll, every job ends exactly once after it, and a
 * wrong expected checksum is a "checksum" finding naming the compiler. */
static void coracle(void) {
  if (!af_cc_available(AF_CLANG)) {
    printf("c-oracle: %s not found, skipped\n", AF_CLANG);
    return;
  }
  af_legs_cfg cfg = {0};
  cfg.ncc = 1;
  cfg.cc[0] = AF_CLANG;
  void *st = NULL;
  af_error err = {{0}};
  CHECK(af_leg_c_oracle.init(&cfg, &st, &err) == AF_OK);
  record r = {0};
  af_leg_sink sink = {&r, rec_begin, rec_end};
  enum { N = 8 };
  af_job *jobs[N] = {0};
  for (int i = 0; i < N; i++) {
    jobs[i] = job_gen(i & 1 ? AF_CC_WIN64 : AF_CC_SYSV, 100 + (uint64_t)i, &cfg);
    CHECK(jobs[i] != NULL);
    if (!jobs[i]) continue;
    if (i == 3) jobs[i]->want.checksum ^= 1; /* the interpreter "said" something else */
    af_leg_c_oracle.submit(st, jobs[i], &sink);
    CHECK(jobs[i]->refs == 2); /* held until the batch runs */
  }
  af_leg_c_oracle.poll(st, &sink, 0);
  CHECKF(r.ends == 0, "%d ends before the batch is full", r.ends);
  af_leg_c_oracle.poll(st, &sink, 1);
  CHECKF(r.ends == N, "%d ends for %d jobs", r.ends, N);
  CHECKF(r.fail == 1 && r.pass == N - 1, "pass %d fail %d skip %d: %s", r.pass, r.fail, r.skip,
         r.checks);
  CHECKF(!strcmp(r.checks, "checksum "), "checks: %s", r.checks);
  CHECKF(!strcmp(r.whats, AF_CLANG "|"), "what: %s", r.whats);
  for (int i = 0; i < N; i++)
    if (jobs[i]) {
      CHECK(jobs[i]->refs == 1);
      af_job_unref(jobs[i]);
    }
  af_leg_c_oracle.fini(st);
}

int main(void) {
  runner_clean();
  runner_mutant("w64-xmm-unsaved", AF_CC_WIN64);
  runner_mutant("sret-passed-in-rax", AF_CC_SYSV);
  coracle();
  return check_done();
}
