/* test_jit_crash.c - af_jit_addr_is_code, af_jit_get_objects and the crash mutants. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "check.h"
#include "jit.h"

/* The harness's supervisor learns of a crash from a signal handler in the worker: it must
 * tell JIT code from everything else without locks or malloc (af_jit_addr_is_code). Part 1
 * tests the table behind it: sealed, freed, full, and read while other threads change it.
 * Part 2 runs the crash mutants (jit-segv, jit-hang, jit-wild-jump) in forked children with
 * such a handler and checks what it reports: the signal, the fault address, whether RIP and
 * the return address are JIT code and which function they are in. */

/* ---- part 1: the table -------------------------------------------------------------------- */

static int stack_probe(void) {
  int x = 0;
  return af_jit_addr_is_code(&x);
}

static void table_basics(void) {
  codemem *m = NULL;
  CHECK(codemem_new(&m, 0) == AF_OK);
  static const uint8_t ret[] = {0xC3};
  void *p = NULL;
  CHECK(codemem_add(m, ret, sizeof ret, &p) == AF_OK);
  CHECKF(af_jit_addr_is_code(p) == 0, "open (writable) batch counted as code");
  CHECK(codemem_seal(m) == AF_OK);
  CHECKF(af_jit_addr_is_code(p) == 1, "sealed code not found");
  CHECKF(af_jit_addr_is_code((uint8_t *)p + 4095) == 1, "the batch's int3 tail not found");
  CHECKF(af_jit_addr_is_code((uint8_t *)p + 64 * 1024) == 0 ||
             codemem_is_sealed(m, (uint8_t *)p + 64 * 1024),
         "past the batch");
  CHECK(af_jit_addr_is_code((const void *)(uintptr_t)&table_basics) == 0);
  CHECK(stack_probe() == 0);
  void *heap = malloc(16);
  CHECK(af_jit_addr_is_code(heap) == 0);
  free(heap);
  CHECK(af_jit_addr_is_code(NULL) == 0);
  /* a second batch of the same codemem */
  void *q = NULL;
  CHECK(codemem_add(m, ret, sizeof ret, &q) == AF_OK);
  CHECK(af_jit_addr_is_code(q) == 0);
  CHECK(codemem_seal(m) == AF_OK);
  CHECK(af_jit_addr_is_code(q) == 1 && af_jit_addr_is_code(p) == 1);
  codemem_free(m);
  CHECKF(af_jit_addr_is_code(p) == 0 && af_jit_addr_is_code(q) == 0, "freed code still listed");
}

/* More sealed batches than the table holds: the overflow ones are "unknown", and so is any
 * address not found while they live; freeing them brings back a definite answer. */
static void table_full(void) {
  enum { N = 1100 };
  codemem **ms = calloc(N, sizeof *ms);
  void **ps = calloc(N, sizeof *ps);
  static const uint8_t ret[] = {0xC3};
  int listed = 0, unknown = 0;
  for (int i = 0; i < N; i++) {
    CHECK(codemem_new(&ms[i], 4096) == AF_OK);
    CHECK(codemem_add(ms[i], ret, sizeof ret, &ps[i]) == AF_OK);
    CHECK(codemem_seal(ms[i]) == AF_OK);
  }
  for (int i = 0; i < N; i++) {
    int r = af_jit_addr_is_code(ps[i]);
    listed += r == 1;
    unknown += r == -1;
  }
  printf("table full: %d of %d sealed batches listed, %d unknown\n", listed, N, unknown);
  CHECKF(listed >= 1000 && listed < N && listed + unknown == N, "listed %d unknown %d", listed,
         unknown);
  CHECKF(stack_probe() == -1, "a miss while some batch is unlisted must be unknown");
  /* free a listed one: its slot serves a new batch */
  codemem_free(ms[0]);
  CHECK(af_jit_addr_is_code(ps[0]) == -1);
  codemem *extra = NULL;
  void *e = NULL;
  CHECK(codemem_new(&extra, 4096) == AF_OK && codemem_add(extra, ret, 1, &e) == AF_OK &&
        codemem_seal(extra) == AF_OK);
  CHECKF(af_jit_addr_is_code(e) == 1, "a freed slot is not reused");
  codemem_free(extra);
  for (int i = 1; i < N; i++)
    codemem_free(ms[i]);
  CHECKF(stack_probe() == 0, "still unknown after everything was freed");
  free(ms);
  free(ps);
}

/* Two threads seal and free codemems as fast as they can while this one keeps asking about
 * a batch that stays sealed and an address that is never code. */
static volatile int churn_stop;
static void *churn(void *arg) {
  static const uint8_t ret[] = {0xC3};
  long *n = arg;
  while (!churn_stop) {
    codemem *m = NULL;
    void *p = NULL;
    if (codemem_new(&m, 4096) != AF_OK) break;
    if (codemem_add(m, ret, 1, &p) == AF_OK && codemem_seal(m) == AF_OK &&
        af_jit_addr_is_code(p) != 1)
      (*n) = -1000000000;
    codemem_free(m);
    (*n)++;
  }
  return NULL;
}

static void table_threads(void) {
  codemem *m = NULL;
  void *p = NULL;
  static const uint8_t ret[] = {0xC3};
  CHECK(codemem_new(&m, 0) == AF_OK && codemem_add(m, ret, 1, &p) == AF_OK &&
        codemem_seal(m) == AF_OK);
  pthread_t t[2];
  long n[2] = {0, 0};
  churn_stop = 0;
  for (int i = 0; i < 2; i++)
    CHECK(pthread_create(&t[i], NULL, churn, &n[i]) == 0);
  long asked = 0, wrong = 0;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  do {
    for (int k = 0; k < 100; k++) {
      wrong += af_jit_addr_is_code(p) != 1;
      wrong += stack_probe() == 1;
      asked += 2;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
  } while ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 300);
  churn_stop = 1;
  for (int i = 0; i < 2; i++)
    pthread_join(t[i], NULL);
  printf("threads: %ld lookups while %ld + %ld batches came and went, %ld wrong\n", asked, n[0],
         n[1], wrong);
  CHECKF(wrong == 0, "%ld wrong answers under concurrent changes", wrong);
  CHECKF(n[0] > 0 && n[1] > 0, "a churn thread saw its own sealed batch missing");
  codemem_free(m);
}

/* ---- part 2: the crash mutants, as a crash handler sees them ------------------------------ */

typedef struct {
  int sig;           /* the signal the handler caught; 0: none, the run returned */
  uint64_t addr;     /* si_addr */
  uint64_t rip, ret; /* the interrupted RIP and the qword at RSP (a return address) */
  int rip_code, ret_code, addr_code;
  int rip_fn, ret_fn; /* af_jit_which */
  int status;
  uint64_t checksum;
} crash_out;

static int crash_fd = -1;
static af_jit *crash_jit;

static void on_signal(int sig, siginfo_t *si, void *ctx) {
  ucontext_t *uc = ctx;
  crash_out o;
  memset(&o, 0, sizeof o);
  o.sig = sig;
  o.addr = (uint64_t)(uintptr_t)si->si_addr;
  o.rip = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
  o.ret = *(const uint64_t *)(uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
  o.rip_code = af_jit_addr_is_code((const void *)(uintptr_t)o.rip);
  o.ret_code = af_jit_addr_is_code((const void *)(uintptr_t)o.ret);
  o.addr_code = af_jit_addr_is_code((const void *)(uintptr_t)o.addr);
  o.rip_fn = af_jit_which(crash_jit, (const void *)(uintptr_t)o.rip);
  o.ret_fn = af_jit_which(crash_jit, (const void *)(uintptr_t)o.ret);
  ssize_t n = write(crash_fd, &o, sizeof o);
  _exit(n == (ssize_t)sizeof o ? 3 : 4);
}

/* Compiles c with `inject` and runs it in a child that catches SIGSEGV/SIGBUS/SIGILL/SIGALRM
 * on an alternate stack (a hang ends by a 0.3 s timer). */
static int run_crash(const af_case *c, const char *inject, crash_out *o) {
  int fd[2];
  memset(o, 0, sizeof *o);
  if (pipe(fd) != 0) return -1;
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    close(fd[0]);
    crash_fd = fd[1];
    af_jit_opts jo = {0};
    jo.inject = inject;
    af_error err = {{0}};
    crash_out r;
    memset(&r, 0, sizeof r);
    r.status = af_jit_compile(c, &jo, &crash_jit, &err);
    if (r.status == AF_OK) {
      static uint8_t alt[64 * 1024];
      stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0};
      sigaltstack(&ss, NULL);
      struct sigaction sa;
      memset(&sa, 0, sizeof sa);
      sa.sa_sigaction = on_signal;
      sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
      sigemptyset(&sa.sa_mask);
      int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGALRM};
      for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
      struct itimerval it = {{0, 0}, {0, 300000}};
      setitimer(ITIMER_REAL, &it, NULL);
      af_jit_result res;
      r.status = af_jit_run(crash_jit, NULL, &res, &err);
      struct itimerval off = {{0, 0}, {0, 0}};
      setitimer(ITIMER_REAL, &off, NULL);
      r.checksum = res.checksum;
      af_jit_result_free(&res);
    }
    ssize_t n = write(fd[1], &r, sizeof r);
    _exit(n == (ssize_t)sizeof r ? 0 : 1);
  }
  close(fd[1]);
  size_t got = 0;
  while (got < sizeof *o) {
    ssize_t n = read(fd[0], (char *)o + got, sizeof *o - got);
    if (n <= 0) break;
    got += (size_t)n;
  }
  close(fd[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  if (got != sizeof *o) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void crash_case(const af_case *c, const char *label, int *seen) {
  af_interp_result ir;
  memset(&ir, 0, sizeof ir);
  af_error err = {{0}};
  if (af_interp(c, 0, &ir, &err) != AF_OK) return;
  crash_out good;
  int rc = run_crash(c, NULL, &good);
  if (rc == 0 && good.status == AF_ERR_UNSUPPORTED) {
    af_interp_result_free(&ir);
    return;
  }
  CHECKF(rc == 0 && good.sig == 0 && good.status == AF_OK && good.checksum == ir.checksum,
         "%s: the correct JIT: exit %d signal %d status %d", label, rc, good.sig, good.status);
  int entry = c->entry;
  crash_out o;
  /* jit-segv: a store to 0x38 from the entry */
  rc = run_crash(c, "jit-segv", &o);
  CHECKF(rc == 3 && o.sig == SIGSEGV, "%s jit-segv: exit %d signal %d", label, rc, o.sig);
  CHECKF(o.addr == 0x38, "%s jit-segv: fault address 0x%llx", label, (unsigned long long)o.addr);
  CHECKF(o.rip_code == 1 && o.rip_fn == entry && o.addr_code == 0,
         "%s jit-segv: RIP 0x%llx is code %d in f%d", label, (unsigned long long)o.rip, o.rip_code,
         o.rip_fn);
  seen[0] += rc == 3 && o.sig == SIGSEGV && o.rip_code == 1;
  /* jit-hang: the timer finds RIP in the entry */
  rc = run_crash(c, "jit-hang", &o);
  CHECKF(rc == 3 && o.sig == SIGALRM, "%s jit-hang: exit %d signal %d", label, rc, o.sig);
  CHECKF(o.rip_code == 1 && o.rip_fn == entry, "%s jit-hang: RIP 0x%llx is code %d in f%d", label,
         (unsigned long long)o.rip, o.rip_code, o.rip_fn);
  seen[1] += rc == 3 && o.sig == SIGALRM && o.rip_code == 1;
  /* jit-wild-jump: RIP = the fault address, outside JIT code; the return address inside */
  rc = run_crash(c, "jit-wild-jump", &o);
  CHECKF(rc == 3 && o.sig == SIGSEGV, "%s jit-wild-jump: exit %d signal %d", label, rc, o.sig);
  CHECKF(o.addr == 0x5a5a5a5a5a40ull && o.rip == o.addr && o.rip_code == 0,
         "%s jit-wild-jump: address 0x%llx RIP 0x%llx (code %d)", label, (unsigned long long)o.addr,
         (unsigned long long)o.rip, o.rip_code);
  CHECKF(o.ret_code == 1 && o.ret_fn == entry,
         "%s jit-wild-jump: return address 0x%llx code %d f%d", label, (unsigned long long)o.ret,
         o.ret_code, o.ret_fn);
  seen[2] += rc == 3 && o.sig == SIGSEGV && o.ret_code == 1 && o.rip_code == 0;
  af_interp_result_free(&ir);
}

#define HAND                                                                                       \
  "# abifuzz case, generator 1\n# seed 0 index 0 abi %s\n\n"                                       \
  "func f0 %s (i64) -> u64 {\n  v1 = const i64 3\n  v2 = call u64 f1 (v0, v1)\n"                   \
  "  v3 = mix u64 0x3 (v0, v2)\n  ret u64 v3\n}\n\n"                                               \
  "func f1 %s (i64, i64) -> u64 {\n  v2 = mix u64 0x4 (v0, v1)\n  ret u64 v2\n}\n\n"               \
  "entry f0\ninput i64 -5\n"

/* ---- af_jit_get_objects: what host code called by the JIT sees ---------------------------- */

static af_jit *objs_jit;
static uint8_t *objs_seen[AF_MAX_OBJECTS];
static uint64_t objs_arg;

/* stands for host function f1 (sysv (ptr) -> u64): records what it was passed and what the JIT
 * says the objects are */
static uint64_t objs_host(void *p) {
  objs_arg = (uint64_t)(uintptr_t)p;
  af_jit_get_objects(objs_jit, objs_seen);
  return 7;
}

static void get_objects(void) {
  static const char text[] =
      "# abifuzz case, generator 1\n# seed 0 index 0 abi sysv\n\n"
      "object 0 =\n"
      "  000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
      "  202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f\n"
      "  404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f\n"
      "  606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f\n\n"
      "func f0 sysv (ptr) -> u64 {\n  v1 = call u64 f1 (v0)\n  v2 = mix u64 0x1 (v0, v1)\n"
      "  ret u64 v2\n}\n\n"
      "func f1 host sysv (ptr) -> u64 {\n  v1 = mix u64 0x2 (v0)\n  ret u64 v1\n}\n\n"
      "entry f0\ninput ptr obj 0\n";
  af_case c;
  af_error err = {{0}};
  af_status s = af_parse("objects", text, strlen(text), &c, &err);
  CHECKF(s == AF_OK, "parse: %s", err.msg);
  const void *host[AF_MAX_FUNCS] = {0};
  host[1] = (const void *)(uintptr_t)objs_host;
  af_jit_opts o = {0};
  o.host_fns = host;
  if (s == AF_OK) s = af_jit_compile(&c, &o, &objs_jit, &err);
  CHECKF(s == AF_OK, "compile: %s", err.msg);
  if (s == AF_OK) {
    uint8_t *got[AF_MAX_OBJECTS], a[1], b[1], *two[2] = {a, b};
    af_jit_get_objects(objs_jit, got);
    CHECK(got[0] == NULL && got[AF_MAX_OBJECTS - 1] == NULL);
    af_jit_set_objects(objs_jit, two, 2);
    af_jit_get_objects(objs_jit, got);
    CHECK(got[0] == a && got[1] == b && got[2] == NULL);
    af_jit_set_objects(objs_jit, NULL, 0);
    af_jit_get_objects(objs_jit, got);
    CHECK(got[0] == NULL && got[1] == NULL);
    /* during af_jit_run: its own copy of object 0, the one the pointer argument points to */
    af_jit_result res;
    CHECK(af_jit_run(objs_jit, NULL, &res, &err) == AF_OK);
    CHECKF(objs_seen[0] != NULL && objs_arg == (uint64_t)(uintptr_t)objs_seen[0] &&
               objs_seen[1] == NULL,
           "during the run: object 0 at %p, the argument 0x%llx", (void *)objs_seen[0],
           (unsigned long long)objs_arg);
    af_jit_result_free(&res);
    af_jit_get_objects(objs_jit, got);
    CHECK(got[0] == NULL); /* af_jit_run clears its own */
    af_jit_free(objs_jit);
  }
  af_case_free(&c);
}

int main(int argc, char **argv) {
  int ngen = argc > 1 ? atoi(argv[1]) : 5;
  table_basics();
  table_full();
  table_threads();
  get_objects();

  int seen[3] = {0, 0, 0}, ran = 0;
  for (int cc = 0; cc < AF_CC_COUNT; cc++) {
    const char *n = af_cc_name((af_cc)cc);
    char text[1024];
    snprintf(text, sizeof text, HAND, n, n, n);
    af_case c;
    af_error err = {{0}};
    af_status s = af_parse("hand", text, strlen(text), &c, &err);
    CHECKF(s == AF_OK, "parse: %s", err.msg);
    char label[64];
    snprintf(label, sizeof label, "hand %s", n);
    if (s == AF_OK) {
      crash_case(&c, label, seen);
      ran++;
    }
    af_case_free(&c);
    af_gen_opts go;
    af_gen_opts_default(&go);
    go.cc = cc;
    for (int i = 0; i < ngen; i++) {
      if (af_gen_case(&go, 0xc4a5, (uint64_t)i, &c, NULL, &err) == AF_OK) {
        snprintf(label, sizeof label, "generated %s %d", n, i);
        crash_case(&c, label, seen);
        ran++;
      }
      af_case_free(&c);
    }
  }
  printf("crash mutants on %d cases: jit-segv seen %d, jit-hang %d, jit-wild-jump %d\n", ran,
         seen[0], seen[1], seen[2]);
  CHECK(seen[0] > 0 && seen[1] > 0 && seen[2] > 0);
  return check_done();
}
