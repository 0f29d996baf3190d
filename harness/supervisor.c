/* supervisor.c - forks the workers, hands out cases, blames crashes and hangs, restarts. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "worker.h"

#define CHUNK        CAMP_BLOCK /* cases handed out at a time (and the --shard block) */
#define STATUS_EVERY 2.0        /* s between status lines and summary.json rewrites */
#define SILENT_LIMIT                                                                               \
  600.0 /* s without a record outside begin/end: stuck (a batched leg may compile 100 cases in one \
           go) */
#define DRAIN_LIMIT  60.0 /* s the workers get after --time to finish their batched legs */
#define MAX_RESPAWNS 20   /* consecutive deaths without a finished case: give up */

typedef struct {
  pid_t pid;
  int cmd_fd, rep_fd;
  uint8_t *buf; /* report bytes not yet parsed */
  size_t blen, bcap;
  uint64_t pos, chunk_end; /* the cases [pos, chunk_end) are this worker's, pos next */
  camp_live_copy fl;       /* the live slot's copy (live_sync): the leg in flight, if any */
  double last_msg, kill_t;
  camp_live_copy killed; /* what was in flight when the timeout killed it */
  int have_crash;
  msg_crash crash;
  int killed_timeout, killed_silent, killed_drain, bye, finish_sent;
  /* batched legs (cfg->legs[l]->poll): cases handed to leg l minus its ends, so that the cases
   * pending in a worker that dies are counted as lost */
  int64_t outstanding[CAMP_MAX_LEGS];
  /* > 0: a leg crashed on case pos; the restarted worker runs it from leg resume_leg on */
  int resume_leg;
} slot;

typedef struct {
  const camp_cfg *cfg;
  camp_stats st;
  slot *w;
  camp_live *live;    /* [jobs] in one shared mapping: worker k writes live[k] (worker.h) */
  uint64_t next, end; /* the shared counter: next index to hand out, end (exclusive) */
  int stopping;       /* --time reached or SIGINT: no more work */
  double stop_t;      /* when stopping began */
  int drained;        /* workers stopped by DRAIN_LIMIT */
  int fatal;          /* the campaign cannot go on (workers die on start) */
  int respawns;       /* consecutive, reset by a finished case */
  /* --resume: ranges [from, to) of the killed campaign that were handed out but not done;
   * handed out before anything new */
  uint64_t *pend;
  int npend;
} supervisor;

/* Ctrl-C: finish like --time does. The handler can only reach a process-global flag. */
static volatile sig_atomic_t interrupted;
static void on_sigint(int sig) {
  (void)sig;
  interrupted = 1;
}

const char *camp_signame(int sig) {
  switch (sig) {
  case SIGSEGV: return "SIGSEGV";
  case SIGBUS: return "SIGBUS";
  case SIGILL: return "SIGILL";
  case SIGFPE: return "SIGFPE";
  case SIGTRAP: return "SIGTRAP";
  case SIGABRT: return "SIGABRT";
  case SIGKILL: return "SIGKILL";
  case SIGSYS: return "SIGSYS";
  case SIGTERM: return "SIGTERM";
  case SIGXCPU: return "SIGXCPU";
  case SIGPIPE: return "SIGPIPE";
  case SIGUSR1: return "SIGUSR1";
  default: return "signal";
  }
}

static void send_cmd(slot *s, uint32_t type, uint64_t start, uint64_t count) {
  camp_cmd c = {type, 0, start, count};
  if (type == CMD_WORK && s->resume_leg && start == s->pos) c.first_leg = (uint32_t)s->resume_leg;
  s->resume_leg = 0;
  const char *p = (const char *)&c;
  size_t n = sizeof c;
  while (n) {
    ssize_t w = write(s->cmd_fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return; /* the worker is gone: its EOF is handled on the report pipe */
    p += w, n -= (size_t)w;
  }
}

static int spawn(supervisor *sv, int k) {
  slot *s = &sv->w[k];
  int cmd[2], rep[2];
  if (pipe(cmd)) return -1;
  if (pipe(rep)) {
    close(cmd[0]), close(cmd[1]);
    return -1;
  }
  camp_live_write(&sv->live[k], 0, 0, "", 0);
  fflush(stdout), fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) {
    close(cmd[0]), close(cmd[1]), close(rep[0]), close(rep[1]);
    return -1;
  }
  if (pid == 0) {
    for (int i = 0; i < sv->cfg->jobs; i++)
      if (i != k && sv->w[i].pid > 0) close(sv->w[i].cmd_fd), close(sv->w[i].rep_fd);
    close(cmd[1]), close(rep[0]);
    signal(SIGINT, SIG_IGN);
    camp_worker_main(sv->cfg, cmd[0], rep[1], &sv->live[k]);
  }
  close(cmd[0]), close(rep[1]);
  fcntl(cmd[1], F_SETFD, FD_CLOEXEC);
  fcntl(rep[0], F_SETFD, FD_CLOEXEC);
  s->pid = pid, s->cmd_fd = cmd[1], s->rep_fd = rep[0];
  s->blen = 0, s->fl.in_flight = 0, s->have_crash = 0;
  s->killed_timeout = s->killed_silent = s->killed_drain = s->bye = s->finish_sent = 0;
  memset(s->outstanding, 0, sizeof s->outstanding);
  s->last_msg = camp_now();
  return 0;
}

static void finish(slot *s) {
  if (s->pid > 0 && !s->finish_sent) send_cmd(s, CMD_FINISH, 0, 0), s->finish_sent = 1;
}

/* --shard K/N: moves sv->next to the start of the next block of this shard. Blocks are
 * CHUNK indices from cfg->start; shard K owns the blocks b with b % N == K - 1. */
static void shard_skip(supervisor *sv) {
  const camp_cfg *c = sv->cfg;
  if (c->shard_n <= 1) return;
  for (;;) {
    uint64_t b = (sv->next - c->start) / CHUNK;
    if (b % (uint64_t)c->shard_n == (uint64_t)(c->shard_k - 1) || sv->next >= sv->end) return;
    uint64_t skip = (uint64_t)c->shard_n - b % (uint64_t)c->shard_n + (uint64_t)(c->shard_k - 1);
    skip %= (uint64_t)c->shard_n;
    uint64_t to = c->start + (b + skip) * CHUNK;
    if (to < sv->next) { /* wrapped around UINT64_MAX */
      sv->next = sv->end;
      return;
    }
    sv->next = to;
  }
}

/* The next work for a worker asking: what is left of its own chunk (after a restart), else a
 * range the resumed campaign had pending, else a new chunk from the shared counter (the rest
 * of the current block), else FINISH. */
static void hand_out(supervisor *sv, slot *s) {
  if (sv->stopping) return finish(s);
  if (s->pos < s->chunk_end) return send_cmd(s, CMD_WORK, s->pos, s->chunk_end - s->pos);
  if (sv->npend) {
    sv->npend--;
    s->pos = sv->pend[2 * sv->npend], s->chunk_end = sv->pend[2 * sv->npend + 1];
    return send_cmd(s, CMD_WORK, s->pos, s->chunk_end - s->pos);
  }
  shard_skip(sv);
  if (sv->next >= sv->end) return finish(s);
  uint64_t block_end = sv->next - (sv->next - sv->cfg->start) % CHUNK + CHUNK;
  uint64_t lim = block_end < sv->end && block_end > sv->next ? block_end : sv->end;
  uint64_t n = lim - sv->next;
  s->pos = sv->next, s->chunk_end = sv->next + n;
  sv->next += n;
  send_cmd(s, CMD_WORK, s->pos, n);
}

/* OUT/campaign.state: the next index, the ranges handed out and not done (each worker's rest
 * of its chunk, the resumed ones not handed out yet) and the counters. Written from the one
 * supervisor thread, so it is one consistent point: a case counted in st is not in a range. */
static void save_state(supervisor *sv, int done) {
  const camp_cfg *cfg = sv->cfg;
  if (!cfg->outdir) return;
  int n = 0;
  uint64_t *pend = malloc(((size_t)cfg->jobs + (size_t)sv->npend + 1) * 2 * sizeof *pend);
  if (!pend) return;
  for (int i = 0; i < sv->npend; i++)
    pend[2 * n] = sv->pend[2 * i], pend[2 * n + 1] = sv->pend[2 * i + 1], n++;
  for (int k = 0; k < cfg->jobs; k++)
    if (sv->w[k].pos < sv->w[k].chunk_end)
      pend[2 * n] = sv->w[k].pos, pend[2 * n + 1] = sv->w[k].chunk_end, n++;
  camp_state_write(cfg, &sv->st, sv->next, pend, n, done);
  free(pend);
}

static void on_end(supervisor *sv, slot *s, const msg_end *m, af_finding *f) {
  camp_stats *st = &sv->st;
  char leg[sizeof m->leg + 1];
  memcpy(leg, m->leg, sizeof m->leg), leg[sizeof m->leg] = 0;
  for (int k = 0; k < sv->cfg->nlegs; k++)
    if (sv->cfg->legs[k]->poll && !strcmp(sv->cfg->legs[k]->name, leg)) s->outstanding[k]--;
  camp_leg_stats *l = camp_leg(st, leg);
  if (m->verdict == AF_LEG_SKIP) {
    if (l) {
      char reason[sizeof m->reason + 1];
      memcpy(reason, m->reason, sizeof m->reason), reason[sizeof m->reason] = 0;
      camp_count_skip(l, reason);
    }
    camp_note_end(sv->cfg, st, m->index, m->cc, leg, m->verdict, NULL, 0);
    return;
  }
  if (l) {
    l->ran++;
    if (m->verdict == AF_LEG_PASS && m->nf == 0)
      l->pass++;
    else
      l->fail++;
  }
  for (int i = 0; i < m->nf; i++) {
    af_finding *fd = &f[i];
    fd->leg[sizeof fd->leg - 1] = fd->check[sizeof fd->check - 1] = 0;
    fd->what[sizeof fd->what - 1] = fd->detail[sizeof fd->detail - 1] = 0;
    camp_record_finding(sv->cfg, st, m->index, m->cc, fd, NULL);
  }
  camp_note_end(sv->cfg, st, m->index, m->cc, leg, m->verdict, f, m->nf);
}

static void on_case_done(supervisor *sv, slot *s, const msg_case_done *m) {
  camp_stats *st = &sv->st;
  st->cases++;
  if (m->cc >= 0 && m->cc < AF_CC_COUNT) st->by_cc[m->cc]++;
  st->t_gen += m->t_gen, st->t_interp += m->t_interp;
  for (int a = 0; a < m->naxes && a < st->naxes && a < CAMP_AXES_MAX; a++)
    if (m->axes[a] >= 0) st->axis_hits[a * 64 + m->axes[a]]++;
  if (m->index + 1 > s->pos) s->pos = m->index + 1;
  sv->respawns = 0;
  if (m->submitted)
    for (int k = m->first_leg; k < sv->cfg->nlegs; k++)
      if (sv->cfg->legs[k]->poll) s->outstanding[k]++;
  camp_case_done(sv->cfg, st, m->index, m->submitted);
}

/* Parses every complete record in the slot's buffer. */
static void parse(supervisor *sv, slot *s) {
  size_t off = 0;
  while (s->blen - off >= sizeof(camp_msg_hdr)) {
    camp_msg_hdr h;
    memcpy(&h, s->buf + off, sizeof h);
    if (s->blen - off - sizeof h < h.size) break;
    const uint8_t *p = s->buf + off + sizeof h;
    off += sizeof h + h.size;
    s->last_msg = camp_now();
    switch (h.type) {
    case MSG_NEED: hand_out(sv, s); break;
    case MSG_END: {
      msg_end m;
      if (h.size < sizeof m) break;
      memcpy(&m, p, sizeof m);
      if (m.nf < 0 || h.size != sizeof m + (size_t)m.nf * sizeof(af_finding)) break;
      af_finding *f = m.nf ? malloc((size_t)m.nf * sizeof *f) : NULL;
      if (m.nf && !f) break;
      if (m.nf) memcpy(f, p + sizeof m, (size_t)m.nf * sizeof *f);
      on_end(sv, s, &m, f);
      free(f);
      break;
    }
    case MSG_CASE_DONE: {
      msg_case_done m;
      if (h.size < sizeof m) break;
      memcpy(&m, p, sizeof m);
      on_case_done(sv, s, &m);
      break;
    }
    case MSG_CRASH:
      if (h.size < sizeof s->crash) break;
      memcpy(&s->crash, p, sizeof s->crash);
      s->have_crash = 1;
      break;
    case MSG_LEG_OFF: {
      msg_leg_off m;
      if (h.size < sizeof m) break;
      memcpy(&m, p, sizeof m);
      m.leg[sizeof m.leg - 1] = m.reason[sizeof m.reason - 1] = 0;
      camp_leg_stats *l = camp_leg(&sv->st, m.leg);
      if (l && !l->off[0]) snprintf(l->off, sizeof l->off, "%s", m.reason[0] ? m.reason : "off");
      break;
    }
    case MSG_INTERNAL: {
      msg_internal m;
      if (h.size < sizeof m) break;
      memcpy(&m, p, sizeof m);
      m.msg[sizeof m.msg - 1] = 0;
      sv->st.internal_errors++;
      if (m.has_index)
        cli_error("internal error on case %llu: %s", (unsigned long long)m.index, m.msg);
      else
        cli_error("internal error: %s", m.msg);
      break;
    }
    case MSG_BYE: s->bye = 1; break;
    default: break;
    }
  }
  memmove(s->buf, s->buf + off, s->blen - off);
  s->blen -= off;
}

/* The slot's in-flight fields from worker k's live slot. */
static void live_sync(supervisor *sv, int k) { camp_live_read(&sv->live[k], &sv->w[k].fl); }

static void describe_death(char *out, size_t n, int status) {
  if (WIFSIGNALED(status))
    snprintf(out, n, "%s (signal %d)", camp_signame(WTERMSIG(status)), WTERMSIG(status));
  else if (WIFEXITED(status))
    snprintf(out, n, "exit %d", WEXITSTATUS(status));
  else
    snprintf(out, n, "status 0x%x", status);
}

/* The worker of slot s is gone (EOF on its report pipe). Blame the (case, leg) in flight,
 * then restart it after that case, unless the campaign is over. */
static void on_death(supervisor *sv, int k) {
  slot *s = &sv->w[k];
  int status = 0;
  while (waitpid(s->pid, &status, 0) < 0 && errno == EINTR) {
  }
  close(s->cmd_fd), close(s->rep_fd);
  s->pid = 0;
  if (s->bye && WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  live_sync(sv, k);
  /* killed for a timeout, but the leg it was killed for had ended by then (another one may
   * have begun): nothing to blame on the one running now, as when nothing runs */
  if (s->killed_timeout && s->fl.in_flight &&
      (s->fl.index != s->killed.index || strcmp(s->fl.leg, s->killed.leg) ||
       s->fl.t != s->killed.t))
    s->fl.in_flight = 0;
  for (int k = 0; k < sv->cfg->nlegs; k++) {
    camp_leg_stats *l = camp_leg(&sv->st, sv->cfg->legs[k]->name);
    if (l && !l->off[0] && s->outstanding[k] > 0) l->lost += (uint64_t)s->outstanding[k];
  }
  if (s->killed_drain) return; /* stopped after --time: its pending cases are counted as lost */
  char how[64];
  describe_death(how, sizeof how, status);
  camp_stats *st = &sv->st;
  if (s->fl.in_flight) {
    af_finding f;
    camp_crash cr;
    memset(&cr, 0, sizeof cr);
    cr.sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    camp_leg_stats *l = camp_leg(st, s->fl.leg);
    if (s->killed_timeout) {
      if (s->have_crash) { /* the SIGUSR1 record: where it was looping */
        const msg_crash *m = &s->crash;
        cr.sig = m->sig, cr.code = m->code, cr.addr = m->addr, cr.rip = m->rip;
        memcpy(cr.gregs, m->gregs, sizeof cr.gregs);
        cr.have_regs = 1, cr.rip_in_jit = m->rip_in_jit, cr.addr_in_jit = m->addr_in_jit;
        memcpy(cr.rip_where, m->rip_where, sizeof cr.rip_where);
        cr.rip_where[sizeof cr.rip_where - 1] = 0;
        af_finding_set(&f, s->fl.leg, "timeout", "",
                       "no end after %d ms (worker killed); rip 0x%llx (in JIT code: %s%s%s), "
                       "rsp 0x%llx",
                       sv->cfg->timeout_ms, (unsigned long long)m->rip,
                       m->rip_in_jit ? "yes" : "no", cr.rip_where[0] ? ", in " : "", cr.rip_where,
                       (unsigned long long)m->gregs[15]);
      } else {
        af_finding_set(&f, s->fl.leg, "timeout", "", "no end after %d ms (worker killed)",
                       sv->cfg->timeout_ms);
      }
      st->timeouts++;
      if (l) l->timeout++;
    } else if (s->have_crash) {
      const msg_crash *m = &s->crash;
      cr.sig = m->sig, cr.code = m->code, cr.addr = m->addr, cr.rip = m->rip;
      memcpy(cr.gregs, m->gregs, sizeof cr.gregs);
      cr.have_regs = 1, cr.rip_in_jit = m->rip_in_jit, cr.addr_in_jit = m->addr_in_jit;
      memcpy(cr.rip_where, m->rip_where, sizeof cr.rip_where);
      cr.rip_where[sizeof cr.rip_where - 1] = 0;
      af_finding_set(&f, s->fl.leg, "crash", camp_signame(m->sig),
                     "%s si_code %d at address 0x%llx, rip 0x%llx (rip in JIT code: %s%s%s, "
                     "address in JIT code: %s), rsp 0x%llx",
                     camp_signame(m->sig), m->code, (unsigned long long)m->addr,
                     (unsigned long long)m->rip, m->rip_in_jit ? "yes" : "no",
                     cr.rip_where[0] ? ", in " : "", cr.rip_where, m->addr_in_jit ? "yes" : "no",
                     (unsigned long long)m->gregs[15]);
      st->crashes++;
      if (l) l->crash++;
    } else {
      af_finding_set(&f, s->fl.leg, "crash",
                     WIFSIGNALED(status) ? camp_signame(WTERMSIG(status)) : "exit",
                     "the worker died: %s (no crash record: killed, or out of memory)", how);
      st->crashes++;
      if (l) l->crash++;
    }
    if (l) l->ran++, l->fail++;
    int cc = 0;
    af_case c;
    af_error err = {{0}};
    if (camp_gen(sv->cfg, s->fl.index, &c, NULL, &err) == AF_OK) cc = (int)c.cc;
    af_case_free(&c);
    camp_record_finding(sv->cfg, st, s->fl.index, cc, &f, &cr);
    camp_note_end(sv->cfg, st, s->fl.index, cc, s->fl.leg, AF_LEG_FAIL, &f, 1);
    int k = 0;
    while (k < sv->cfg->nlegs && strcmp(sv->cfg->legs[k]->name, s->fl.leg))
      k++;
    if (s->fl.index == s->pos && s->pos < s->chunk_end && k + 1 < sv->cfg->nlegs) {
      /* the legs after the one that crashed still get the case: the restarted worker runs it
       * from the next leg on (never the crashed one again), and counts it when it is done */
      s->resume_leg = k + 1;
    } else if (s->fl.index == s->pos && s->pos < s->chunk_end) {
      /* the case the worker was on counts as done; the next worker starts after it */
      st->cases++;
      if (cc >= 0 && cc < AF_CC_COUNT) st->by_cc[cc]++;
      s->pos++;
    }
  } else if (s->killed_timeout) {
    /* the leg ended just as the timeout killed the worker: nothing to blame, just restart */
  } else {
    st->internal_errors++;
    if (s->killed_silent)
      cli_error("internal error: a worker sent nothing for %.0f s outside any leg, killed "
                "(case %llu)",
                SILENT_LIMIT, (unsigned long long)s->pos);
    else if (s->have_crash)
      cli_error("internal error: a worker crashed outside any leg: %s at 0x%llx, rip 0x%llx "
                "(case %llu)",
                camp_signame(s->crash.sig), (unsigned long long)s->crash.addr,
                (unsigned long long)s->crash.rip, (unsigned long long)s->pos);
    else
      cli_error("internal error: a worker died outside any leg: %s (case %llu)", how,
                (unsigned long long)s->pos);
    if (s->pos < s->chunk_end) { /* never retry what may kill it again */
      st->cases++;
      s->pos++;
    }
  }
  if (s->fl.in_flight)
    sv->respawns = 0; /* a death blamed on a case is progress; only our own deaths add up */
  s->fl.in_flight = 0;
  if (sv->stopping) return;
  if (++sv->respawns > MAX_RESPAWNS) {
    if (!sv->fatal) cli_error("internal error: workers keep dying; giving up");
    sv->fatal = 1;
    return;
  }
  st->restarts++;
  if (spawn(sv, k)) {
    cli_error("internal error: cannot start a worker: %s", strerror(errno));
    sv->fatal = 1;
  }
}

static void read_worker(supervisor *sv, int k) {
  slot *s = &sv->w[k];
  if (s->bcap - s->blen < 65536) {
    size_t cap = s->bcap ? s->bcap * 2 : 1 << 17;
    uint8_t *nb = realloc(s->buf, cap);
    if (!nb) return;
    s->buf = nb, s->bcap = cap;
  }
  ssize_t r = read(s->rep_fd, s->buf + s->blen, s->bcap - s->blen);
  if (r < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (r <= 0) {
    on_death(sv, k);
    return;
  }
  s->blen += (size_t)r;
  parse(sv, s);
}

/* A hang: SIGUSR1 first (the worker's handler sends its registers, so the finding says where
 * it loops), SIGKILL half a second later if it is still there (signals blocked, handler stuck). */
static void check_time(supervisor *sv) {
  double t = camp_now();
  for (int k = 0; k < sv->cfg->jobs; k++) {
    slot *s = &sv->w[k];
    if (s->pid <= 0 || s->killed_silent || s->killed_drain) continue;
    live_sync(sv, k);
    if (sv->stopping && sv->cfg->time_s > 0 && t - sv->stop_t > DRAIN_LIMIT) {
      s->killed_drain = 1;
      sv->drained++;
      kill(s->pid, SIGKILL);
    } else if (s->killed_timeout) {
      if (t - s->kill_t > 0.5) kill(s->pid, SIGKILL);
    } else if (s->fl.in_flight && (t - s->fl.t) * 1000.0 > sv->cfg->timeout_ms) {
      s->killed_timeout = 1, s->kill_t = t;
      s->killed = s->fl;
      kill(s->pid, SIGUSR1);
    } else if (!s->fl.in_flight && t - s->last_msg > SILENT_LIMIT) {
      s->killed_silent = 1;
      kill(s->pid, SIGKILL);
    }
  }
}

int camp_run(const camp_cfg *cfg) {
  supervisor sv;
  memset(&sv, 0, sizeof sv);
  sv.cfg = cfg;
  sv.next = cfg->start;
  sv.end = cfg->cases ? cfg->start + cfg->cases : UINT64_MAX;
  if (camp_stats_init(&sv.st, cfg) || camp_triage_init(cfg, &sv.st))
    return camp_stats_free(&sv.st), cli_error("out of memory"), CLI_ERROR;
  if (cfg->resume) { /* go on where the killed campaign was */
    const camp_resume *r = cfg->resume;
    if (camp_state_restore(r, &sv.st)) {
      camp_triage_finish(cfg, &sv.st);
      camp_stats_free(&sv.st);
      return cli_error("--resume: the state does not match these options"), CLI_ERROR;
    }
    sv.next = r->next;
    sv.pend = r->npend ? malloc((size_t)r->npend * 2 * sizeof *sv.pend) : NULL;
    if (sv.pend) memcpy(sv.pend, r->pend, (size_t)r->npend * 2 * sizeof *sv.pend);
    sv.npend = sv.pend ? r->npend : 0;
  }
  sv.w = calloc((size_t)cfg->jobs, sizeof *sv.w);
  void *lm = mmap(NULL, (size_t)cfg->jobs * sizeof *sv.live, PROT_READ | PROT_WRITE,
                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  sv.live = lm == MAP_FAILED ? NULL : lm;
  if (!sv.w || !sv.live) {
    free(sv.w);
    if (sv.live) munmap(sv.live, (size_t)cfg->jobs * sizeof *sv.live);
    camp_triage_finish(cfg, &sv.st);
    camp_stats_free(&sv.st);
    return cli_error("out of memory"), CLI_ERROR;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  interrupted = 0;

  for (int k = 0; k < cfg->jobs; k++)
    if (spawn(&sv, k)) {
      cli_error("cannot start a worker: %s", strerror(errno));
      sv.fatal = 1;
      break;
    }
  double last_status = camp_now();
  struct pollfd *pf = calloc((size_t)cfg->jobs, sizeof *pf);
  int *who = calloc((size_t)cfg->jobs, sizeof *who);
  if (!pf || !who) {
    cli_error("out of memory");
    sv.fatal = 1;
    for (int k = 0; k < cfg->jobs; k++)
      if (sv.w[k].pid > 0) kill(sv.w[k].pid, SIGKILL), waitpid(sv.w[k].pid, NULL, 0);
  }
  for (; pf && who;) {
    int n = 0;
    for (int k = 0; k < cfg->jobs; k++)
      if (sv.w[k].pid > 0) pf[n].fd = sv.w[k].rep_fd, pf[n].events = POLLIN, who[n++] = k;
    if (!n) break;
    int r = poll(pf, (nfds_t)n, 100);
    if (r < 0 && errno != EINTR) break;
    for (int i = 0; r > 0 && i < n; i++)
      if (pf[i].revents) read_worker(&sv, who[i]);
    double t = camp_now();
    if (!sv.stopping && cfg->max_findings && sv.st.findings >= cfg->max_findings) {
      /* enough: every finding is already on disk, nothing pending is worth waiting for */
      sv.stopping = 1, sv.stop_t = t;
      for (int k = 0; k < cfg->jobs; k++)
        if (sv.w[k].pid > 0) sv.w[k].killed_drain = 1, kill(sv.w[k].pid, SIGKILL);
    }
    if (!sv.stopping &&
        (interrupted || sv.fatal || (cfg->time_s > 0 && t - sv.st.t0 >= cfg->time_s))) {
      sv.stopping = 1, sv.stop_t = t;
      for (int k = 0; k < cfg->jobs; k++)
        finish(&sv.w[k]);
    }
    check_time(&sv);
    if (t - last_status >= STATUS_EVERY) {
      last_status = t;
      if (!cfg->quiet) camp_status_line(&sv.st, stderr);
      camp_write_summary(cfg, &sv.st, 0);
      save_state(&sv, 0);
    }
  }
  free(pf), free(who);
  if (sv.drained)
    cli_error("note: %d worker%s still finishing %.0f s after --time stopped; the cases pending "
              "in batched legs are counted as lost",
              sv.drained, sv.drained == 1 ? " was" : "s were", DRAIN_LIMIT);
  /* done only when nothing is left: a campaign stopped by --time or Ctrl-C can be resumed
   * (with --time, the resumed one only has what is left of the time) */
  int left = sv.npend || sv.next < sv.end;
  for (int k = 0; k < cfg->jobs; k++)
    left |= sv.w[k].pos < sv.w[k].chunk_end;
  save_state(&sv, !left);
  free(sv.pend);
  for (int k = 0; k < cfg->jobs; k++)
    free(sv.w[k].buf);
  free(sv.w);
  munmap(sv.live, (size_t)cfg->jobs * sizeof *sv.live);
  camp_triage_finish(cfg, &sv.st); /* consensus of the cases still open (lost legs) */
  if (!cfg->quiet) camp_status_line(&sv.st, stderr);
  int rc = CLI_OK;
  if (camp_write_summary(cfg, &sv.st, 1)) {
    cli_error("cannot write '%s/summary.json': %s", cfg->outdir, strerror(errno));
    rc = CLI_ERROR;
  }
  if (!cfg->silent) camp_print_summary(cfg, &sv.st);
  if (cfg->on_done) cfg->on_done(cfg->on_done_u, &sv.st);
  if (sv.st.findings > sv.st.known) /* known divergences alone do not fail the campaign */
    rc = CLI_FINDING;
  else if (sv.st.internal_errors || sv.fatal)
    rc = CLI_ERROR;
  camp_stats_free(&sv.st);
  return rc;
}
