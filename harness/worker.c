/* worker.c - a worker process: runs cases through the enabled legs, reports every step. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <ucontext.h>
#include <unistd.h>

#include "worker.h"

/* The JIT's process-global "is this address JIT code?" query (jit.h, added by another part);
 * weak so that the worker links before it exists: then the crash record says 0. */
int af_jit_addr_is_code(const void *addr) __attribute__((weak));

/* The report pipe, for the signal handler. A signal handler can reach no other state, so this
 * one process-global is unavoidable; it is set once, before any leg runs. */
static volatile int crash_fd = -1;
static struct worker *volatile crash_w; /* its held-back records, written before a crash's */
static volatile pid_t crash_pid;        /* a forked child of a leg must not report as the worker */

/* ---- the live slot (worker.h) ------------------------------------------------------------ */
void camp_live_write(camp_live *l, int in_flight, uint64_t index, const char *leg, double t) {
  uint64_t w[3] = {0, 0, 0};
  size_t n = strnlen(leg, sizeof w);
  memcpy(w, leg, n);
  uint64_t tb;
  memcpy(&tb, &t, sizeof tb);
  uint64_t q = atomic_load_explicit(&l->seq, memory_order_relaxed);
  atomic_store_explicit(&l->seq, q + 1, memory_order_relaxed);
  atomic_thread_fence(memory_order_release);
  atomic_store_explicit(&l->index, index, memory_order_relaxed);
  for (int i = 0; i < 3; i++)
    atomic_store_explicit(&l->leg[i], w[i], memory_order_relaxed);
  atomic_store_explicit(&l->t_bits, tb, memory_order_relaxed);
  atomic_store_explicit(&l->in_flight, (uint32_t)in_flight, memory_order_relaxed);
  atomic_store_explicit(&l->seq, q + 2, memory_order_release);
}

void camp_live_read(camp_live *l, camp_live_copy *out) {
  for (int tries = 0; tries < 100; tries++) {
    uint64_t q1 = atomic_load_explicit(&l->seq, memory_order_acquire);
    uint64_t w[3], tb, index = atomic_load_explicit(&l->index, memory_order_relaxed);
    for (int i = 0; i < 3; i++)
      w[i] = atomic_load_explicit(&l->leg[i], memory_order_relaxed);
    tb = atomic_load_explicit(&l->t_bits, memory_order_relaxed);
    int in_flight = (int)atomic_load_explicit(&l->in_flight, memory_order_relaxed);
    atomic_thread_fence(memory_order_acquire);
    uint64_t q2 = atomic_load_explicit(&l->seq, memory_order_relaxed);
    if ((q1 & 1) || q1 != q2) continue; /* torn: the worker is mid-write */
    out->in_flight = in_flight, out->index = index;
    memcpy(out->leg, w, sizeof w);
    out->leg[sizeof w] = 0;
    memcpy(&out->t, &tb, sizeof tb);
    return;
  }
  /* Still torn: a worker preempted mid-write (the next poll reads it again) or killed
   * mid-write. Either way the last consistent copy stays: a torn one could pair the old
   * in_flight = 1 with the new t = 0 of a leg's end, which timed the leg out at once (a
   * spurious timeout finding under load). */
}

static int write_all(int fd, const void *p, size_t n) {
  const char *c = p;
  while (n) {
    ssize_t w = write(fd, c, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    c += w, n -= (size_t)w;
  }
  return 0;
}

static int read_all(int fd, void *p, size_t n) {
  char *c = p;
  while (n) {
    ssize_t r = read(fd, c, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    c += r, n -= (size_t)r;
  }
  return 0;
}

/* A case generated ahead of its turn (a batching backend compiles a block of them at once). */
typedef struct {
  uint64_t index;
  af_status st;
  af_error err;
  af_case c;
  double t_gen;
  int taken; /* run_case owns c now */
  int axes[CAMP_AXES_MAX + 1];
} pregen;

typedef struct worker {
  const camp_cfg *cfg;
  af_legs_cfg lcfg; /* cfg->legs_cfg with this worker's backend */
  int cmd_fd, rep_fd;
  pthread_mutex_t lock; /* a batched leg may report from its own thread: one record at a time */
  camp_live *live;      /* the (case, leg) running now, shared with the supervisor */
  int live_on;          /* what this worker last wrote there: in flight, (live_index, live_leg) */
  uint64_t live_index;
  char live_leg[24];
  volatile sig_atomic_t busy; /* 1 while out[] is being changed: the crash handler leaves it */
  void *state[CAMP_MAX_LEGS];
  int on[CAMP_MAX_LEGS];
  pregen *pre; /* [CAMP_BLOCK] when the backend batches */
  int npre;
  pthread_t main_thread;
  int in_legs; /* 1 while run_case hands the case to the legs: clean verdicts may wait */
  size_t nout; /* records not yet written (see put_msg) */
  uint8_t out[32 * 1024];
} worker;

/* Writes the records held back; the supervisor gone means there is nobody to work for.
 * Called with w->lock held. */
static void flush_out(worker *w) {
  if (w->nout && write_all(w->rep_fd, w->out, w->nout)) _exit(4);
  w->nout = 0;
}

/* Queues one record and writes it, with any held back before it, in one write(2). A record
 * that may wait (defer: a leg's clean verdict, from the main thread while run_case submits the
 * case) is held back until the next one that may not: a finding, or the case's CASE_DONE,
 * which the worker writes before it runs anything else, so it never waits while the worker
 * blocks (a batched leg's poll waits for its compiler with the supervisor's timeout running).
 * Which (case, leg) runs is in the live slot, not on the pipe, so a crash or hang of the code
 * under test is still blamed on it; the crash handler writes what is held back before its
 * crash record (only a SIGKILL loses it). One write a case instead of ~20 (header and body
 * apart, a record per leg event): the writes and the supervisor's wake-ups were 15% of a
 * worker's time, and ~9% with a BEGIN record per leg (doc/benchmarks.md). */
static void put_msg(worker *w, uint32_t type, const void *a, size_t na, const void *b, size_t nb,
                    int defer) {
  camp_msg_hdr h = {type, (uint32_t)(na + nb)};
  size_t need = sizeof h + na + nb;
  pthread_mutex_lock(&w->lock);
  w->busy = 1;
  if (w->nout + need > sizeof w->out) flush_out(w);
  if (need > sizeof w->out) { /* larger than the buffer: as it comes */
    if (write_all(w->rep_fd, &h, sizeof h) || (na && write_all(w->rep_fd, a, na)) ||
        (nb && write_all(w->rep_fd, b, nb)))
      _exit(4);
  } else {
    memcpy(w->out + w->nout, &h, sizeof h);
    if (na) memcpy(w->out + w->nout + sizeof h, a, na);
    if (nb) memcpy(w->out + w->nout + sizeof h + na, b, nb);
    w->nout += need;
    if (!defer || !w->in_legs || !pthread_equal(pthread_self(), w->main_thread)) flush_out(w);
  }
  w->busy = 0;
  pthread_mutex_unlock(&w->lock);
}

static void send_msg(worker *w, uint32_t type, const void *a, size_t na, const void *b, size_t nb) {
  put_msg(w, type, a, na, b, nb, 0);
}

static void send_internal(worker *w, int has_index, uint64_t index, const char *msg) {
  msg_internal m = {index, has_index, {0}};
  snprintf(m.msg, sizeof m.msg, "%s", msg);
  send_msg(w, MSG_INTERNAL, &m, sizeof m, NULL, 0);
}

/* ---- the crash handler --------------------------------------------------------------- */
/* Where addr lies among the process's file mappings: "NAME+0xOFF" (the file's base name, the
 * offset in the file) into out, from /proc/self/maps, with nothing but open/read/close and
 * plain loops (async-signal-safe). out stays "" for an address in no file mapping. A crash
 * outside the JIT's code (a compiled stub, libffi, libc called with a bad pointer) is then
 * named by its module instead of "outside JIT code". */
static uint64_t hexnum(const char *s, int *i, int n) {
  uint64_t v = 0;
  for (; *i < n; (*i)++) {
    char ch = s[*i];
    int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
    if (d < 0) break;
    v = v * 16 + (uint64_t)d;
  }
  return v;
}

static void where_line(const char *s, int n, uint64_t addr, char *out, size_t cap) {
  int i = 0;
  uint64_t lo = hexnum(s, &i, n);
  if (i >= n || s[i++] != '-') return;
  uint64_t hi = hexnum(s, &i, n);
  if (addr < lo || addr >= hi) return;
  for (int f = 0; f < 2; f++) { /* past the permissions to the file offset */
    while (i < n && s[i] != ' ')
      i++;
    while (i < n && s[i] == ' ')
      i++;
  }
  uint64_t off = hexnum(s, &i, n) + (addr - lo);
  for (int f = 0; f < 3; f++) { /* past the offset's end, the device and the inode */
    while (i < n && s[i] != ' ')
      i++;
    while (i < n && s[i] == ' ')
      i++;
  }
  if (i >= n || s[i] != '/') return; /* anonymous, [heap], [stack]: no module */
  int base = i;
  for (int k = i; k < n; k++)
    if (s[k] == '/') base = k + 1;
  size_t o = 0;
  for (int k = base; k < n && o + 1 < cap; k++)
    out[o++] = s[k];
  const char *hexd = "0123456789abcdef";
  char num[20];
  int nd = 0;
  do
    num[nd++] = hexd[off & 15], off >>= 4;
  while (off && nd < 16);
  if (o + 3 + (size_t)nd < cap) {
    out[o++] = '+', out[o++] = '0', out[o++] = 'x';
    while (nd)
      out[o++] = num[--nd];
  }
  out[o] = 0;
}

void camp_crash_where(uint64_t addr, char *out, size_t cap) {
  out[0] = 0;
  int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  char buf[4096], line[512];
  int nl = 0;
  ssize_t r;
  while (!out[0] && (r = read(fd, buf, sizeof buf)) > 0)
    for (ssize_t k = 0; k < r && !out[0]; k++) {
      if (buf[k] != '\n') {
        if (nl < (int)sizeof line) line[nl++] = buf[k];
        continue;
      }
      where_line(line, nl, addr, out, cap);
      nl = 0;
    }
  close(fd);
}

/* Async-signal-safe: fills a record from siginfo and the ucontext, write(2)s it, then lets the
 * default action (SA_RESETHAND) kill the process when the signal is raised again. */
static void on_crash(int sig, siginfo_t *si, void *ctx) {
  ucontext_t *uc = ctx;
  camp_msg_hdr h = {MSG_CRASH, sizeof(msg_crash)};
  msg_crash m;
  memset(&m, 0, sizeof m);
  m.sig = sig;
  m.code = si->si_code;
  /* si_addr means something only for a fault the kernel raised (si_code > 0), not for kill */
  m.addr = si->si_code > 0 ? (uint64_t)(uintptr_t)si->si_addr : 0;
  for (int i = 0; i < 23 && i < NGREG; i++)
    m.gregs[i] = (uint64_t)uc->uc_mcontext.gregs[i];
  m.rip = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
  if (af_jit_addr_is_code) {
    m.rip_in_jit = af_jit_addr_is_code((const void *)(uintptr_t)m.rip);
    m.addr_in_jit = m.addr ? af_jit_addr_is_code((const void *)(uintptr_t)m.addr) : 0;
  }
  if (!m.rip_in_jit) camp_crash_where(m.rip, m.rip_where, sizeof m.rip_where);
  char buf[sizeof h + sizeof m];
  memcpy(buf, &h, sizeof h);
  memcpy(buf + sizeof h, &m, sizeof m);
  if (crash_fd >= 0 && getpid() == crash_pid) {
    /* the records held back (clean verdicts of the legs before), unless the crash is in the
     * middle of changing them */
    struct worker *w = crash_w;
    if (w && !w->busy && w->nout) {
      ssize_t r = write(crash_fd, w->out, w->nout);
      (void)r;
    }
    ssize_t r = write(crash_fd, buf, sizeof buf);
    (void)r;
  }
  raise(sig); /* default action now: the worker dies with this signal */
}

static void install_crash_handlers(void) {
  /* SIGUSR1: the supervisor's timeout, to learn where the worker hangs before it dies */
  static const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGABRT, SIGSYS, SIGUSR1};
  stack_t ss = {0};
  ss.ss_size = 1 << 16;
  ss.ss_sp = malloc(ss.ss_size);
  if (ss.ss_sp) sigaltstack(&ss, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_crash;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    sigaction(sigs[i], &sa, NULL);
  signal(SIGINT, SIG_IGN); /* the supervisor decides when to stop */
  signal(SIGPIPE, SIG_IGN);
}

/* ---- the sink the legs report to ------------------------------------------------------ */
static void sink_begin(void *u, const af_job *j, const char *leg) {
  worker *w = u;
  pthread_mutex_lock(&w->lock);
  w->live_on = 1, w->live_index = j->index;
  snprintf(w->live_leg, sizeof w->live_leg, "%s", leg);
  camp_live_write(w->live, 1, j->index, leg, camp_now());
  pthread_mutex_unlock(&w->lock);
}

/* The leg (j, leg) has ended: nothing in flight now, unless another one began since (a batched
 * leg ends from its poll, after other legs began). */
static void live_end(worker *w, const af_job *j, const char *leg) {
  pthread_mutex_lock(&w->lock);
  if (w->live_on && w->live_index == j->index &&
      !strncmp(w->live_leg, leg, sizeof w->live_leg - 1)) {
    w->live_on = 0;
    camp_live_write(w->live, 0, j->index, leg, 0);
  }
  pthread_mutex_unlock(&w->lock);
}

static void sink_end(void *u, const af_job *j, const char *leg, af_leg_verdict v,
                     const char *reason, const af_finding *f, int nf) {
  msg_end m;
  live_end(u, j, leg);
  memset(&m, 0, sizeof m);
  m.index = j->index;
  strncpy(m.leg, leg, sizeof m.leg - 1);
  m.verdict = (int32_t)v;
  m.cc = (int32_t)j->c.cc;
  if (nf < 0) nf = 0;
  if (nf > AF_FINDINGS_MAX) m.dropped = nf - AF_FINDINGS_MAX, nf = AF_FINDINGS_MAX;
  m.nf = nf;
  if (reason) strncpy(m.reason, reason, sizeof m.reason - 1);
  put_msg(u, MSG_END, &m, sizeof m, f, (size_t)nf * sizeof *f, v != AF_LEG_FAIL && nf == 0);
}

/* ---- the backend step -------------------------------------------------------------------- */
/* With another backend than our JIT, the case's code under test is compiled once, before the
 * legs, as the pseudo-leg "backend": a case it cannot express is skipped with its reason
 * (counted, never a finding); a compiler or loader that fails is a finding; a compiler that
 * crashes or hangs is blamed on (case, "backend") like any code under test. Returns 1 if the
 * legs may run the case. */
static int backend_step(worker *w, af_job *j) {
  af_backend *b = w->lcfg.backend;
  if (af_backend_is_builtin(b)) return 1;
  af_error err = {{0}};
  const char *skip = NULL;
  sink_begin(w, j, "backend");
  af_status s = af_backend_compile(b, &j->c, &j->code, &skip, &err);
  if (s == AF_OK) {
    sink_end(w, j, "backend", AF_LEG_PASS, NULL, NULL, 0);
    return 1;
  }
  if (s == AF_ERR_UNSUPPORTED) {
    sink_end(w, j, "backend", AF_LEG_SKIP, skip ? skip : "the backend cannot express the case",
             NULL, 0);
    return 0;
  }
  af_finding f;
  /* `what` names the kind of failure, so that a rule (corpus/known-divergences.rules) can
   * label a known compiler crash */
  const char *what =
      strstr(err.msg, "internal compiler error") ? "internal compiler error" : af_backend_kind(b);
  af_finding_set(&f, "backend", "backend-compile", what, "%s: %s", af_backend_spec(b),
                 err.msg[0] ? err.msg : af_strerror(s));
  sink_end(w, j, "backend", AF_LEG_FAIL, NULL, &f, 1);
  return 0;
}

/* A batching backend (cc): generate the block's cases now and let the backend compile them in
 * one go; run_case then takes each over. */
static void prefetch_block(worker *w, uint64_t start, uint64_t count) {
  for (int i = 0; i < w->npre; i++)
    if (!w->pre[i].taken) af_case_free(&w->pre[i].c);
  w->npre = 0;
  if (!w->pre || !af_backend_batches(w->lcfg.backend)) return;
  const af_case *cs[CAMP_BLOCK];
  int n = 0;
  int naxes = af_weights_naxes(w->cfg->gen.weights);
  for (uint64_t i = 0; i < count && w->npre < CAMP_BLOCK; i++) {
    pregen *p = &w->pre[w->npre++];
    memset(p, 0, sizeof *p);
    p->index = start + i;
    double t0 = camp_now();
    p->st = camp_gen(w->cfg, p->index, &p->c, naxes <= CAMP_AXES_MAX ? p->axes : NULL, &p->err);
    p->t_gen = camp_now() - t0;
    if (p->st == AF_OK) cs[n++] = &p->c;
  }
  af_backend_prefetch(w->lcfg.backend, cs, n);
}

/* ---- one case ---------------------------------------------------------------------------- */
static void run_case(worker *w, const af_leg_sink *sink, uint64_t index, int first_leg) {
  const camp_cfg *cfg = w->cfg;
  msg_case_done done;
  memset(&done, 0, sizeof done);
  done.index = index;
  int axes[CAMP_AXES_MAX + 1];
  int naxes = af_weights_naxes(cfg->gen.weights);
  af_job *j = af_job_new(&w->lcfg, cfg->seed, index);
  if (!j) {
    send_internal(w, 1, index, "out of memory");
    send_msg(w, MSG_CASE_DONE, &done, sizeof done, NULL, 0);
    return;
  }
  af_error err = {{0}};
  double t0 = camp_now();
  int *ax = naxes <= CAMP_AXES_MAX ? axes : NULL;
  af_status s;
  pregen *pg = NULL;
  for (int i = 0; i < w->npre && !pg; i++)
    if (w->pre[i].index == index && !w->pre[i].taken) pg = &w->pre[i];
  if (pg) { /* generated ahead for the backend's batch: take it over */
    s = pg->st, err = pg->err, j->c = pg->c, done.t_gen = pg->t_gen;
    if (ax) memcpy(ax, pg->axes, sizeof pg->axes);
    pg->taken = 1;
  } else {
    s = camp_gen(cfg, index, &j->c, ax, &err);
    done.t_gen = camp_now() - t0;
  }
  if (s != AF_OK) {
    char msg[300];
    snprintf(msg, sizeof msg, "the generator failed: %s", err.msg[0] ? err.msg : af_strerror(s));
    send_internal(w, 1, index, msg);
    af_case_free(&j->c);
    free(j);
    send_msg(w, MSG_CASE_DONE, &done, sizeof done, NULL, 0);
    return;
  }
  done.cc = (int32_t)j->c.cc;
  done.naxes = ax ? naxes : 0;
  for (int a = 0; a < done.naxes; a++)
    done.axes[a] = (int8_t)(axes[a] >= 0 && axes[a] < 64 ? axes[a] : -1);
  t0 = camp_now();
  s = af_interp(&j->c, 0, &j->want, &err);
  done.t_interp = camp_now() - t0;
  if (s != AF_OK) {
    /* the reference itself fails on a generated case: a finding against gen/, not the legs */
    af_finding f;
    af_finding_set(&f, "interp", "interp", "", "the interpreter failed: %s",
                   err.msg[0] ? err.msg : af_strerror(s));
    sink_end(w, j, "interp", AF_LEG_FAIL, NULL, &f, 1);
  } else if (backend_step(w, j)) {
    w->in_legs = 1;
    for (int l = first_leg; l < cfg->nlegs; l++)
      if (w->on[l]) cfg->legs[l]->submit(w->state[l], j, sink);
    w->in_legs = 0;
    done.submitted = 1;
    done.first_leg = first_leg;
  }
  af_job_unref(j);
  send_msg(w, MSG_CASE_DONE, &done, sizeof done, NULL, 0);
  for (int l = 0; l < cfg->nlegs; l++)
    if (w->on[l] && cfg->legs[l]->poll) cfg->legs[l]->poll(w->state[l], sink, 0);
}

/* 1 if the supervisor has sent FINISH (checked between cases without blocking). */
static int finish_pending(worker *w) {
  struct pollfd p = {w->cmd_fd, POLLIN, 0};
  return poll(&p, 1, 0) > 0;
}

void camp_worker_main(const camp_cfg *cfg, int cmd_fd, int rep_fd, camp_live *live) {
  worker w;
  memset(&w, 0, sizeof w);
  w.cfg = cfg, w.cmd_fd = cmd_fd, w.rep_fd = rep_fd, w.live = live;
  pthread_mutex_init(&w.lock, NULL);
  w.main_thread = pthread_self();
  prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the supervisor */
  if (getppid() == 1) _exit(4);
  struct rlimit rl = {0, 0};
  setrlimit(RLIMIT_CORE, &rl);
#if !defined(__SANITIZE_ADDRESS__)             /* ASan reserves terabytes of shadow address space */
  rl.rlim_cur = rl.rlim_max = (rlim_t)8 << 30; /* a runaway allocation fails, not the host */
  setrlimit(RLIMIT_AS, &rl);
#endif
  /* a compiler a leg runs must not hold the pipes open after the worker dies */
  fcntl(cmd_fd, F_SETFD, FD_CLOEXEC);
  fcntl(rep_fd, F_SETFD, FD_CLOEXEC);
  crash_pid = getpid();
  crash_fd = rep_fd;
  crash_w = &w;
  install_crash_handlers();
  af_legs_process_init();

  af_leg_sink sink = {&w, sink_begin, sink_end};
  w.lcfg = cfg->legs_cfg;
  if (cfg->legs_cfg.backend_spec) {
    /* the campaign opened it once already (to refuse a bad spec): this cannot fail but for
     * resources, and then every case would be lost: say so and stop */
    af_error err = {{0}};
    if (af_backend_open(cfg->legs_cfg.backend_spec, &w.lcfg.backend, &err) != AF_OK) {
      char msg[300];
      snprintf(msg, sizeof msg, "backend %s: %s", cfg->legs_cfg.backend_spec, err.msg);
      send_internal(&w, 0, 0, msg);
      _exit(5);
    }
    if (af_backend_batches(w.lcfg.backend)) w.pre = calloc(CAMP_BLOCK, sizeof *w.pre);
  }
  for (int l = 0; l < cfg->nlegs; l++) {
    af_error err = {{0}};
    af_status s = cfg->legs[l]->init(&w.lcfg, &w.state[l], &err);
    if (s == AF_OK) {
      w.on[l] = 1;
      continue;
    }
    msg_leg_off m;
    memset(&m, 0, sizeof m);
    strncpy(m.leg, cfg->legs[l]->name, sizeof m.leg - 1);
    snprintf(m.reason, sizeof m.reason, "%s", err.msg[0] ? err.msg : af_strerror(s));
    if (s == AF_ERR_UNSUPPORTED) {
      send_msg(&w, MSG_LEG_OFF, &m, sizeof m, NULL, 0);
    } else {
      char msg[300];
      snprintf(msg, sizeof msg, "leg %s: init failed: %s", m.leg, m.reason);
      send_internal(&w, 0, 0, msg);
      send_msg(&w, MSG_LEG_OFF, &m, sizeof m, NULL, 0);
    }
  }

  /* Test hook (tests/campaign_test.sh): abort outside any leg before this case, to prove an
   * internal error is reported and survived. */
  const char *die_at = getenv("ABIFUZZ_TEST_WORKER_ABORT");
  uint64_t die_index = die_at ? strtoull(die_at, NULL, 10) : UINT64_MAX;
  for (int stop = 0; !stop;) {
    send_msg(&w, MSG_NEED, NULL, 0, NULL, 0);
    camp_cmd c;
    if (read_all(cmd_fd, &c, sizeof c) || c.type != CMD_WORK) break;
    prefetch_block(&w, c.start, c.count);
    for (uint64_t i = 0; i < c.count; i++) {
      if (finish_pending(&w)) {
        stop = 1;
        break;
      }
      if (c.start + i == die_index) abort();
      run_case(&w, &sink, c.start + i, i == 0 ? (int)c.first_leg : 0);
    }
  }
  for (int l = 0; l < cfg->nlegs; l++)
    if (w.on[l] && cfg->legs[l]->poll) cfg->legs[l]->poll(w.state[l], &sink, 1);
  for (int l = 0; l < cfg->nlegs; l++)
    if (w.on[l] && cfg->legs[l]->fini) cfg->legs[l]->fini(w.state[l]);
  prefetch_block(&w, 0, 0);
  free(w.pre);
  af_backend_close(w.lcfg.backend);
  send_msg(&w, MSG_BYE, NULL, 0, NULL, 0);
  _exit(0);
}
