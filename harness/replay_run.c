/* replay_run.c - abifuzz replay's child side: the legs run in the foreground, the probes
 * observed call by call, faults caught and named. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/ucontext.h>
#include <unistd.h>

#include "probe.h"
#include "replay.h"

/* ---- the compiles (parent) ------------------------------------------------------------- */
void replay_compile(replay *r) {
  const af_case *c = &r->c;
  const void *host_fns[AF_MAX_FUNCS] = {0};
  for (int k = 0; k < c->nfuncs; k++)
    if (c->funcs[k].host)
      host_fns[k] = af_callouts[k];
    else if (k != c->entry && !r->backend) /* external code calls its own functions directly */
      host_fns[k] = af_interposers[k];
  af_error err = {{0}};
  af_jit_opts jo = {0};
  jo.inject = r->inject;
  jo.host_fns = host_fns;
  jo.rt_probe = (const void *)af_rt_probe;
  if (r->backend) { /* another backend's code: one compile per af_jit that runs it */
    const char *skip = NULL;
    af_backend_code **bc[3] = {&r->bc_probe, &r->bc_plain, &r->bc_job};
    for (int i = 0; i < 3; i++) {
      af_status s = af_backend_compile(r->backend, c, bc[i], &skip, &err);
      if (s != AF_OK) {
        snprintf(r->compile_err, sizeof r->compile_err, "backend %s: %s", r->backend_spec,
                 s == AF_ERR_UNSUPPORTED && skip ? skip : err.msg);
        return;
      }
    }
  }
  if (!af_probe_unsupported(c) && af_backend_link(r->bc_probe, c, &jo, &r->probe, &err) != AF_OK)
    snprintf(r->compile_err, sizeof r->compile_err, "%s", err.msg);
  af_jit_opts po = {0};
  po.inject = r->inject;
  if (af_backend_link(r->bc_plain, c, &po, &r->plain, &err) != AF_OK)
    snprintf(r->compile_err, sizeof r->compile_err, "%s", err.msg);
  if (r->inject) {
    af_jit_opts ro = {0};
    if (af_jit_compile(c, &ro, &r->ref, &err) != AF_OK) r->ref = NULL;
  }
  for (int k = 0; k < c->nfuncs; k++) {
    af_jit *rj = r->ref ? r->ref : r->probe;
    r->real[k] = c->funcs[k].host && rj ? af_jit_code(rj, k) : NULL;
    r->code[k] = host_fns[k] && !c->funcs[k].host && r->probe ? af_jit_code(r->probe, k) : NULL;
  }
}

void replay_release(replay *r) {
  af_jit_free(r->probe);
  af_jit_free(r->plain);
  af_jit_free(r->ref);
  r->probe = r->plain = r->ref = NULL;
  af_backend_code_free(r->bc_probe);
  af_backend_code_free(r->bc_plain);
  af_backend_code_free(r->bc_job);
  r->bc_probe = r->bc_plain = r->bc_job = NULL;
}

/* ---- faults ------------------------------------------------------------------------------ */
/* The handler's state: one replay per process, and the leg in flight. */
static replay *g_r;
static const char *g_leg = "";
static const af_jit *g_jit; /* the compile the code in flight came from (NULL: a leg's own) */

static void out_s(const char *s) {
  size_t n = strlen(s);
  while (n) {
    ssize_t w = write(1, s, n);
    if (w <= 0) return;
    s += w, n -= (size_t)w;
  }
}

static void name_addr(uint64_t a, int *fn, int64_t *off, int *which) {
  *fn = -2;
  *off = 0;
  if (which) *which = 0;
  if (!g_r) return;
  const af_jit *js[3] = {g_jit, g_r->probe, g_r->plain};
  for (int i = 0; i < 3; i++) {
    if (!js[i] || !af_jit_contains(js[i], (const void *)(uintptr_t)a)) continue;
    int k = af_jit_which(js[i], (const void *)(uintptr_t)a);
    *fn = k;
    if (k >= 0) *off = (int64_t)(a - (uint64_t)(uintptr_t)af_jit_code(js[i], k));
    if (which) *which = js[i] == g_r->probe ? 1 : js[i] == g_r->plain ? 2 : 0;
    return;
  }
}

/* Reports the fault (this process dies of it: a replay shows one run). snprintf in a handler is
 * not async-signal-safe in general; the fault is in code under test, not in libc, and this is
 * the foreground debugging tool (the campaign's worker handler is the careful one). */
static void on_fault(int sig, siginfo_t *si, void *uctx) {
  ucontext_t *uc = uctx;
  greg_t *g = uc->uc_mcontext.gregs;
  fflush(stdout); /* what the run printed so far comes first (the fault is not in stdio) */
  replay_crash k;
  memset(&k, 0, sizeof k);
  k.valid = 1;
  k.signo = sig;
  k.si_code = si->si_code;
  k.addr = (uint64_t)(uintptr_t)si->si_addr;
  k.rip = (uint64_t)g[REG_RIP];
  k.rsp = (uint64_t)g[REG_RSP];
  k.rip_in_jit = af_jit_addr_is_code((const void *)(uintptr_t)k.rip);
  k.addr_in_jit = af_jit_addr_is_code((const void *)(uintptr_t)k.addr);
  name_addr(k.rip, &k.rip_fn, &k.rip_off, &k.rip_jit);
  name_addr(k.addr, &k.addr_fn, &k.addr_off, NULL);
  snprintf(k.leg, sizeof k.leg, "%s", g_leg);
  char b[512];
  snprintf(b, sizeof b, "\n*** %s%s (signal %d, si_code %d) in leg %s%s\n",
           REPLAY_IS_TIMEOUT(sig) ? "timeout: SIG" : "SIG", sigabbrev_np(sig), sig, si->si_code,
           g_leg, REPLAY_IS_TIMEOUT(sig) ? " (no return in time: registers where it loops)" : "");
  out_s(b);
  if (REPLAY_IS_TIMEOUT(sig))
    snprintf(b, sizeof b, "    RIP 0x%016llx, RSP 0x%016llx\n", (unsigned long long)k.rip,
             (unsigned long long)k.rsp);
  else
    snprintf(b, sizeof b, "    fault address 0x%016llx, RIP 0x%016llx, RSP 0x%016llx\n",
             (unsigned long long)k.addr, (unsigned long long)k.rip, (unsigned long long)k.rsp);
  out_s(b);
  const char *yn[3] = {"unknown", "no", "yes"};
  if (k.rip_fn >= 0)
    snprintf(b, sizeof b, "    RIP in JIT code: %s, in f%d+0x%llx\n", yn[k.rip_in_jit + 1],
             k.rip_fn, (unsigned long long)k.rip_off);
  else
    snprintf(b, sizeof b, "    RIP in JIT code: %s%s\n", yn[k.rip_in_jit + 1],
             k.rip_fn == -1      ? ", in the runner thunk"
             : k.rip_in_jit == 1 ? " (a leg's own compile: function not known)"
                                 : "");
  out_s(b);
  if (REPLAY_IS_TIMEOUT(sig))
    b[0] = 0;
  else if (k.addr_fn >= 0)
    snprintf(b, sizeof b, "    fault address in JIT code: %s, in f%d+0x%llx\n",
             yn[k.addr_in_jit + 1], k.addr_fn, (unsigned long long)k.addr_off);
  else
    snprintf(b, sizeof b, "    fault address in JIT code: %s\n", yn[k.addr_in_jit + 1]);
  out_s(b);
  static const struct {
    const char *n;
    int i;
  } regs[] = {{"rax", REG_RAX}, {"rbx", REG_RBX},   {"rcx", REG_RCX}, {"rdx", REG_RDX},
              {"rsi", REG_RSI}, {"rdi", REG_RDI},   {"rbp", REG_RBP}, {"rsp", REG_RSP},
              {"r8", REG_R8},   {"r9", REG_R9},     {"r10", REG_R10}, {"r11", REG_R11},
              {"r12", REG_R12}, {"r13", REG_R13},   {"r14", REG_R14}, {"r15", REG_R15},
              {"rip", REG_RIP}, {"rflags", REG_EFL}};
  out_s("    registers at the fault:\n");
  for (size_t i = 0; i < sizeof regs / sizeof regs[0]; i++) {
    snprintf(b, sizeof b, "%s%-6s 0x%016llx%s", i % 4 ? "  " : "      ", regs[i].n,
             (unsigned long long)g[regs[i].i],
             i % 4 == 3 || i + 1 == sizeof regs / sizeof regs[0] ? "\n" : "");
    out_s(b);
  }
  if (uc->uc_mcontext.fpregs) {
    struct _libc_fpstate *fp = uc->uc_mcontext.fpregs;
    snprintf(b, sizeof b, "      mxcsr  0x%08x  x87cw 0x%04x\n", fp->mxcsr, fp->cwd);
    out_s(b);
    for (int x = 0; x < 16; x++) {
      snprintf(b, sizeof b, "%sxmm%-2d %08x%08x%08x%08x%s", x % 2 ? "  " : "      ", x,
               fp->_xmm[x].element[3], fp->_xmm[x].element[2], fp->_xmm[x].element[1],
               fp->_xmm[x].element[0], x % 2 ? "\n" : "");
      out_s(b);
    }
  }
  if (g_r && g_r->crash_fd >= 0) {
    ssize_t w = write(g_r->crash_fd, &k, sizeof k);
    (void)w;
  }
  if (g_r && g_r->pause_on_crash) {
    snprintf(b, sizeof b, "\npaused: pid %d; attach with:\n    gdb -p %d\n(kill %d to end)\n",
             (int)getpid(), (int)getpid(), (int)getpid());
    out_s(b);
    for (;;)
      pause();
  }
  _exit(128 + sig);
}

static void install_handlers(void) {
  static uint8_t altstack[64 * 1024];
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
  sigaltstack(&ss, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGABRT, SIGSYS, SIGUSR1, SIGALRM};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    sigaction(sigs[i], &sa, NULL);
}

/* ---- the probes' detail run -------------------------------------------------------------- */
typedef struct {
  replay *r;
  uint8_t *const *objects;
} observe_ctx;

static void observe(void *u, const af_probe_event *ev) {
  observe_ctx *oc = u;
  const af_case *c = &oc->r->c;
  char lb[96], where[128], detail[300];
  switch (ev->kind) {
  case AF_PROBE_EV_CALL:
    printf("\n  call %d to f%d (%s%s): RSP at the call 0x%016llx\n", ev->m, ev->k,
           ev->interposed ? "JIT function, interposer" : "host function, callout",
           ev->rec ? "" : "; no trace record for it",
           (unsigned long long)(ev->regs->gpr[AF_RSP] + 8));
    replay_show_regs("registers at the call", ev->regs);
    break;
  case AF_PROBE_EV_ARG: {
    const af_sig *sig = &c->funcs[ev->k].sig;
    char tn[16], loc[80];
    replay_loc_str(c, sig, ev->arg, loc, sizeof loc);
    snprintf(lb, sizeof lb, "arg %d (%s, %s)", ev->arg,
             af_type_name(c, sig->params[ev->arg], tn, sizeof tn), loc);
    if (!ev->got) {
      printf("    %s: by-reference pointer outside the caller's stack: not read\n", lb);
      break;
    }
    int bad = ev->want && af_value_diff(c, ev->want, ev->got, oc->objects, where, sizeof where,
                                        detail, sizeof detail);
    printf("    %s: %s\n", lb, !ev->want ? "(no record)" : bad ? "MISMATCH" : "ok");
    if (ev->want) replay_show_value(c, "      expected", ev->want);
    replay_show_bytes("      actual  ", ev->got, ev->size);
    if (bad) printf("      first difference: %s%s%s\n", where, *where ? ": " : "", detail);
    af_callinfo ci; /* MS-CC "Varargs": a float also in the slot's GPR */
    af_error err = {{0}};
    if (af_classify(c, sig, &ci, &err) == AF_OK && ci.args[ev->arg].dup != AF_REG_NONE)
      printf("      its GPR copy in %s: 0x%016llx\n", af_reg_name(ci.args[ev->arg].dup),
             (unsigned long long)ev->regs->gpr[ci.args[ev->arg].dup]);
    break;
  }
  case AF_PROBE_EV_RETURN: {
    const af_sig *sig = &c->funcs[ev->k].sig;
    char tn[16];
    printf("  return of call %d to f%d (%s)", ev->m, ev->k,
           af_type_name(c, sig->ret, tn, sizeof tn));
    if (sig->ret == AF_T_VOID) {
      printf(": void\n");
    } else if (!ev->got) {
      printf(": in ST0, not read (a host function's x87 return)\n");
    } else {
      int bad = ev->want && af_value_diff(c, ev->want, ev->got, oc->objects, where, sizeof where,
                                          detail, sizeof detail);
      printf(": %s\n", !ev->want ? "(no record)" : bad ? "MISMATCH" : "ok");
      if (ev->want) replay_show_value(c, "      expected", ev->want);
      replay_show_bytes("      actual  ", ev->got, ev->size);
      if (bad) printf("      first difference: %s%s%s\n", where, *where ? ": " : "", detail);
    }
    replay_show_regs(ev->interposed ? "registers after the return"
                                    : "registers after the return (rax rdx xmm0 xmm1 as the host "
                                      "function left them)",
                     ev->regs);
    if (ev->interposed && ev->call) replay_show_canaries(sig->cc, ev->call, ev->regs);
    break;
  }
  }
  fflush(stdout);
}

static void print_findings(const af_findings *fs) {
  for (int i = 0; i < fs->n; i++)
    printf("    %s %s %s: %s\n", fs->f[i].leg, fs->f[i].check, fs->f[i].what, fs->f[i].detail);
  if (fs->dropped) printf("    (%d more not kept)\n", fs->dropped);
}

/* One af_probe_run of the probe compile with the observer on: what the native leg does. */
static void detail_probe(replay *r, const char *leg, uint64_t garbage, uint8_t *const *objects) {
  const af_case *c = &r->c;
  if (!r->probe || !r->have_want) {
    printf("  (no detail run: %s)\n",
           af_probe_unsupported(c) ? af_probe_unsupported(c) : "the JIT does not compile the case");
    return;
  }
  af_probe *p;
  if (af_probe_new(&p) != AF_OK) return;
  for (int k = 0; k < c->nobjects; k++)
    memcpy(objects[k], c->objects[k].init, AF_REGION_SIZE);
  af_jit_set_objects(r->probe, objects, c->nobjects);
  if (r->ref) af_jit_set_objects(r->ref, objects, c->nobjects);
  af_probe_opts o = {0};
  o.c = c;
  o.want = &r->want;
  o.entry = af_jit_fn(r->probe, c->entry);
  o.real = r->real;
  o.objects = objects;
  o.garbage = garbage;
  o.leg = leg;
  o.code = r->backend ? NULL : r->code; /* external code: host calls only */
  observe_ctx oc = {r, objects};
  af_probe_set_observer(p, observe, &oc);
  af_findings fs;
  memset(&fs, 0, sizeof fs);
  af_probe_outcome out;
  af_error err = {{0}};
  printf("  garbage pattern 0x%016llx; the entry f%d called by the probe\n",
         (unsigned long long)garbage, c->entry);
  fflush(stdout);
  g_jit = r->probe;
  af_status s = af_probe_run(p, &o, &fs, &out, &err);
  g_jit = NULL;
  if (s != AF_OK) {
    printf("  probe: %s\n", err.msg);
    af_probe_free(p);
    return;
  }
  af_probe_check_outcome(&o, &out, &fs);
  const af_probe_frame *f = af_probe_last_frame(p);
  printf("\n  the entry f%d returned (%d calls through the probes, %d host calls)\n", c->entry,
         out.ncalls, out.nhost_calls);
  if (f) {
    replay_show_regs("registers at the entry's call", &f->in);
    replay_show_regs("registers after the entry's return", &f->out);
    replay_show_canaries(c->funcs[c->entry].sig.cc, &f->in, &f->out);
  }
  const af_sig *sig = &c->funcs[c->entry].sig;
  if (sig->ret != AF_T_VOID) {
    char where[128], detail[300], tn[16];
    int bad = af_value_diff(c, &r->want.ret, out.ret, objects, where, sizeof where, detail,
                            sizeof detail);
    printf("  return value (%s): %s\n", af_type_name(c, sig->ret, tn, sizeof tn),
           bad ? "MISMATCH" : "ok");
    replay_show_value(c, "      expected", &r->want.ret);
    replay_show_bytes("      actual  ", out.ret,
                      sig->ret == AF_T_PTR ? 8 : c->types[sig->ret].size);
    if (bad) printf("      first difference: %s%s%s\n", where, *where ? ": " : "", detail);
  }
  printf("  checksum 0x%016llx, interpreter 0x%016llx\n", (unsigned long long)out.checksum,
         (unsigned long long)r->want.checksum);
  printf("  checks of this run (%d):\n", fs.n);
  print_findings(&fs);
  fflush(stdout);
  af_probe_free(p);
}

/* The runner's detail: af_jit_run on the plain compile (what the runner leg runs). */
static void detail_runner(replay *r) {
  const af_case *c = &r->c;
  if (!r->plain || !r->have_want) {
    printf("  (no detail run: the JIT does not compile the case)\n");
    return;
  }
  af_jit_result res;
  af_error err = {{0}};
  memset(&res, 0, sizeof res);
  printf("  the JIT's runner thunk calls the entry f%d\n", c->entry);
  fflush(stdout);
  g_jit = r->plain;
  af_status s = af_jit_run(r->plain, NULL, &res, &err);
  g_jit = NULL;
  if (s != AF_OK) {
    printf("  run: %s\n", err.msg);
    return;
  }
  if (c->funcs[c->entry].sig.ret != AF_T_VOID) {
    replay_show_value(c, "  return expected", &r->want.ret);
    replay_show_value(c, "  return actual  ", &res.ret);
  }
  printf("  checksum 0x%016llx, interpreter 0x%016llx%s\n", (unsigned long long)res.checksum,
         (unsigned long long)r->want.checksum,
         res.checksum != r->want.checksum ? "  MISMATCH" : "");
  af_jit_result_free(&res);
  fflush(stdout);
}

/* ---- the legs themselves ---------------------------------------------------------------- */
typedef struct {
  int nfindings;
  int same; /* the report's finding (leg, check, what) fired */
  const replay *r;
} sink_ctx;

static void sink_begin(void *u, const af_job *j, const char *leg) {
  (void)u, (void)j;
  g_leg = leg;
  fflush(stdout);
}

static void sink_end(void *u, const af_job *j, const char *leg, af_leg_verdict v,
                     const char *reason, const af_finding *f, int nf) {
  (void)j;
  sink_ctx *sc = u;
  printf("  leg %s: %s%s%s\n", leg,
         v == AF_LEG_PASS   ? "pass"
         : v == AF_LEG_FAIL ? "FAIL"
                            : "skip",
         reason ? ": " : "", reason ? reason : "");
  for (int i = 0; i < nf; i++) {
    printf("  finding: %s %s %s: %s\n", f[i].leg, f[i].check, f[i].what, f[i].detail);
    if (!strcmp(f[i].leg, sc->r->r_leg) && !strcmp(f[i].check, sc->r->r_check) &&
        !strcmp(f[i].what, sc->r->r_what))
      sc->same = 1;
  }
  sc->nfindings += nf;
  fflush(stdout);
}

/* The per-leg timeout (ms; 0 disarms): SIGALRM, reported as a hang by on_fault. */
static void arm(int ms) {
  struct itimerval it;
  memset(&it, 0, sizeof it);
  it.it_value.tv_sec = ms / 1000;
  it.it_value.tv_usec = (ms % 1000) * 1000;
  setitimer(ITIMER_REAL, &it, NULL);
}

int replay_run_legs(replay *r) {
  g_r = r;
  install_handlers();
  uint8_t *objmem = malloc(AF_MAX_OBJECTS * AF_REGION_SIZE + 64);
  if (!objmem) return 0;
  uint8_t *objects[AF_MAX_OBJECTS];
  uint8_t *a = (uint8_t *)(((uintptr_t)objmem + 63) & ~(uintptr_t)63);
  for (int k = 0; k < AF_MAX_OBJECTS; k++)
    objects[k] = a + k * AF_REGION_SIZE;
  af_legs_cfg cfg = {0};
  cfg.inject = r->inject;
  cfg.seed = r->seed;
  cfg.ncc = r->ncc;
  for (int i = 0; i < r->ncc; i++)
    cfg.cc[i] = r->cc[i];
  af_job job;
  memset(&job, 0, sizeof job);
  job.refs = 1; /* never reaches 0: the case and the trace are the replay's */
  job.seed = r->seed;
  job.index = r->index;
  job.c = r->c;
  job.want = r->want;
  job.cfg = &cfg;
  job.code = r->bc_job;
  cfg.backend_spec = r->backend_spec;
  cfg.backend = r->backend;
  sink_ctx sc = {0, 0, r};
  af_leg_sink sink = {&sc, sink_begin, sink_end};
  for (int i = 0; i < r->nlegs; i++) {
    const char *name = r->legs[i];
    printf("\n== leg %s%s%s ==\n", name, r->inject ? ", mutant " : "", r->inject ? r->inject : "");
    fflush(stdout);
    g_leg = name;
    arm(r->timeout_ms); /* the detail run and the leg: each leg gets its own time */
    if (!strcmp(name, "native")) {
      detail_probe(r, name, AF_PROBE_NATIVE_GARBAGE, objects);
    } else if (!strcmp(name, "garbage")) {
      detail_probe(r, name, AF_PROBE_NATIVE_GARBAGE, objects);
      printf("\n  -- the same with the garbage leg's second pattern --\n");
      detail_probe(r, name, af_probe_garbage_seed(r->seed, r->index), objects);
    } else if (!strcmp(name, "runner")) {
      detail_runner(r);
    }
    const af_leg *L = af_leg_find(name);
    void *st = NULL;
    af_error err = {{0}};
    af_status s = L->init(&cfg, &st, &err);
    if (s != AF_OK) {
      printf("  leg %s: off: %s\n", name, err.msg[0] ? err.msg : af_strerror(s));
      arm(0);
      continue;
    }
    printf("\n  the leg itself (its own compile, as in the campaign):\n");
    fflush(stdout);
    L->submit(st, &job, &sink);
    if (L->poll) L->poll(st, &sink, 1);
    if (L->fini) L->fini(st);
    arm(0);
    g_leg = "";
  }
  for (int i = 0; i < job.njits; i++) /* the legs' shared compiles (legs.c); the case and */
    af_jit_free(job.jits[i].jit);     /* the trace stay the replay's */
  free(objmem);
  if (r->r_leg[0])
    printf("\nthe report's finding (%s %s%s%s): %s\n", r->r_leg, r->r_check,
           r->r_what[0] ? " " : "", r->r_what, sc.same ? "reproduced" : "NOT reproduced");
  return sc.nfindings;
}
