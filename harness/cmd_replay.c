/* cmd_replay.c - `abifuzz replay`: re-runs one finding or case in the foreground, showing the
 * signature, the locations, every probed value and register, the findings, a fault and the
 * disassembly around it (doc/triage.md "Replay"). */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "jit.h"
#include "oracle.h"
#include "replay.h"
#include "reports.h"

static const char help[] =
    "usage: abifuzz replay FINDING_DIR|FILE.case [--legs LIST] [--inject M] [--timeout MS]\n"
    "                      [--backend SPEC] [--gdb] [--pause-on-crash]\n"
    "Re-runs one case in the foreground and shows everything: the signature in C, where\n"
    "each argument and the return value go, for the native and garbage legs the expected\n"
    "and actual bytes of every argument and return value at every probed call with the\n"
    "registers before and after, the findings of each leg, a fault (signal, address, RIP,\n"
    "registers, the JIT function and offset) and the disassembly around the fault or the\n"
    "check. From a finding directory the leg, check and mutant come from report.json.\n"
    "  --legs LIST       legs to run (default: the finding's leg, else native)\n"
    "  --oracle-cc CC,.. compilers of the compiler legs (default: the one the finding\n"
    "                    names, else the legs' defaults)\n"
    "  --inject M        the JIT mutant (default: the report's; none: the correct JIT)\n"
    "  --backend SPEC    what compiled the code under test (default: the report's, else\n"
    "                    builtin; doc/backends.md)\n"
    "  --timeout MS      a leg that runs longer is a hang (default 5000)\n"
    "  --gdb             run this replay under gdb (JIT functions named in bt); extra gdb\n"
    "                    arguments from $ABIFUZZ_GDB_ARGS (e.g. \"-batch -ex run -ex bt\")\n"
    "  --pause-on-crash  on a fault print the pid and the gdb command, then wait\n"
    "Exit 1 if a finding fired, 0 if not, 2 bad input, 3 error.\n";

/* The value of "key" in report.json (a flat object): a string unescaped, or a number's
 * digits; 0 found. */
static int json_get(const char *json, const char *key, char *out, size_t n) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\"", key);
  const char *p = strstr(json, pat);
  if (!p || !n) return -1;
  p += strlen(pat);
  while (*p == ' ' || *p == ':' || *p == '\n' || *p == '\t')
    p++;
  size_t k = 0;
  if (*p == '"') {
    for (p++; *p && *p != '"' && k + 1 < n; p++) {
      if (*p == '\\' && p[1]) p++;
      out[k++] = *p;
    }
  } else {
    while (*p >= '0' && *p <= '9' && k + 1 < n)
      out[k++] = *p++;
    if (!k) return -1;
  }
  out[k] = 0;
  return 0;
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = malloc(1 << 20);
  size_t len = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
  fclose(f);
  if (buf) buf[len] = 0;
  return buf;
}

/* --gdb: exec gdb on this replay without --gdb and without forking, so the fault stops gdb in
 * the JIT code (registered with gdb's JIT interface by jit/debug.c: abifuzz_f<k> in bt). */
static int exec_gdb(int argc, char **argv) {
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return cli_error("replay: --gdb: cannot find the abifuzz executable"), CLI_ERROR;
  self[n] = 0;
  char **av = calloc((size_t)argc + 64, sizeof *av);
  char *extra = getenv("ABIFUZZ_GDB_ARGS") ? strdup(getenv("ABIFUZZ_GDB_ARGS")) : NULL;
  if (!av) return CLI_ERROR;
  int k = 0;
  av[k++] = "gdb";
  for (char *t = extra ? strtok(extra, " ") : NULL; t && k < 40; t = strtok(NULL, " "))
    av[k++] = t;
  av[k++] = "--args";
  av[k++] = self;
  av[k++] = "replay";
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "--gdb")) av[k++] = argv[i];
  av[k++] = "--no-fork";
  av[k] = NULL;
  printf("replay: running");
  for (int i = 0; i < k; i++)
    printf(" %s", av[i]);
  printf("\n");
  fflush(stdout);
  execvp("gdb", av);
  cli_error("replay: --gdb: cannot run gdb: %s", strerror(errno));
  return CLI_ERROR;
}

static int legs_from(replay *r, char *list) {
  r->nlegs = 0;
  for (char *t = strtok(list, ","); t; t = strtok(NULL, ",")) {
    if (!af_leg_find(t))
      return cli_error("replay: leg '%s' is not in this build (see abifuzz --list-legs)", t), -1;
    if (r->nlegs < RP_MAX_LEGS) r->legs[r->nlegs++] = t;
  }
  return r->nlegs ? 0 : (cli_error("replay: --legs: no leg"), -1);
}

/* Runs the legs in a forked child (so that a fault is shown and the replay goes on), a hang
 * ended by the child's per-leg timer (or SIGUSR1 from here as a last resort); the crash record
 * through a pipe. Returns the findings. */
static int run_child(replay *r, replay_crash *k, int *died) {
  int p[2];
  memset(k, 0, sizeof *k);
  *died = 0;
  if (pipe(p)) return cli_error("replay: pipe: %s", strerror(errno)), -1;
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) return cli_error("replay: fork: %s", strerror(errno)), -1;
  if (pid == 0) {
    close(p[0]);
    r->crash_fd = p[1];
    int nf = replay_run_legs(r);
    fflush(stdout);
    _exit(nf ? 1 : 0);
  }
  close(p[1]);
  int status = 0, got = 0, sent = 0;
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) break;
    struct pollfd pf = {p[0], POLLIN, 0};
    if (!got && poll(&pf, 1, 20) > 0 && (pf.revents & POLLIN))
      got = read(p[0], k, sizeof *k) == (ssize_t)sizeof *k;
    else if (got)
      usleep(20000);
    clock_gettime(CLOCK_MONOTONIC, &t);
    double ms = (t.tv_sec - t0.tv_sec) * 1e3 + (t.tv_nsec - t0.tv_nsec) / 1e6;
    /* the child times each leg itself (SIGALRM); this is the last resort */
    if (!r->pause_on_crash && !sent && ms > (double)r->timeout_ms * (2 * r->nlegs + 1) + 2000) {
      kill(pid, SIGUSR1); /* the handler reports where it loops */
      sent = 1;
    } else if (sent == 1 && ms > r->timeout_ms + 1000) {
      kill(pid, SIGKILL);
      sent = 2;
    }
  }
  if (!got) {
    struct pollfd pf = {p[0], POLLIN, 0};
    if (poll(&pf, 1, 0) > 0 && (pf.revents & POLLIN))
      got = read(p[0], k, sizeof *k) == (ssize_t)sizeof *k;
  }
  close(p[0]);
  if (got && k->valid) {
    *died = 1;
    return 1;
  }
  if (WIFSIGNALED(status)) {
    *died = 1;
    k->signo = WTERMSIG(status);
    k->rip_fn = k->addr_fn = -2;
    printf("\n*** the replay's child died of %s without a record\n", sigabbrev_np(k->signo));
    return 1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) == 1 : 0;
}

int cmd_replay(int argc, char **argv) {
  const char *input = NULL;
  char legs[512] = "", inject[64] = "";
  static char r_ccs[256], backend[512];
  int gdb = 0, nofork = 0, pause_on_crash = 0;
  uint64_t timeout = 5000, v;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) return fputs(help, stdout), CLI_OK;
    if (!strcmp(a, "--gdb")) {
      gdb = 1;
      continue;
    }
    if (!strcmp(a, "--no-fork")) { /* what --gdb runs: the fault stops gdb */
      nofork = 1;
      continue;
    }
    if (!strcmp(a, "--pause-on-crash")) {
      pause_on_crash = 1;
      continue;
    }
    if (a[0] != '-') {
      if (input) return cli_error("replay: one input only ('%s' and '%s')", input, a), CLI_USAGE;
      input = a;
      continue;
    }
    const char *val = i + 1 < argc ? argv[++i] : NULL;
    if (!val) return cli_error("replay: option '%s' needs a value", a), CLI_USAGE;
    if (!strcmp(a, "--legs") || !strcmp(a, "--leg"))
      snprintf(legs, sizeof legs, "%s", val);
    else if (!strcmp(a, "--oracle-cc")) {
      snprintf(r_ccs, sizeof r_ccs, "%s", val);
      for (char *t = strtok(r_ccs, ","); t; t = strtok(NULL, ","))
        if (!af_cc_available(t))
          return cli_error("replay: --oracle-cc: compiler '%s' not found", t), CLI_USAGE;
      snprintf(r_ccs, sizeof r_ccs, "%s", val);
    } else if (!strcmp(a, "--inject")) {
      if (!strcmp(val, "none")) { /* the correct JIT, whatever the report says */
        snprintf(inject, sizeof inject, "none");
        continue;
      }
      if (af_jit_mutant_find(val) < 0)
        return cli_error("replay: --inject %s: unknown mutant (see abifuzz --list-mutants)", val),
               CLI_USAGE;
      snprintf(inject, sizeof inject, "%s", val);
    } else if (!strcmp(a, "--backend")) {
      snprintf(backend, sizeof backend, "%s", val);
    } else if (!strcmp(a, "--timeout")) {
      if (cli_u64(val, &v) || !v || v > 3600000)
        return cli_error("replay: --timeout %s: not a number of milliseconds", val), CLI_USAGE;
      timeout = v;
    } else
      return cli_error("replay: unknown option '%s' (see abifuzz replay --help)", a), CLI_USAGE;
  }
  if (!input) return cli_error("replay: no input (FINDING_DIR or FILE.case)"), CLI_USAGE;
  if (gdb) return exec_gdb(argc, argv);

  static replay r; /* big (the case); one per process */
  memset(&r, 0, sizeof r);
  r.input = input;
  r.crash_fd = -1;
  r.timeout_ms = (int)timeout;
  r.pause_on_crash = pause_on_crash;
  char casepath[4200];
  struct stat sb;
  if (stat(input, &sb))
    return cli_error("replay: cannot read '%s': %s", input, strerror(errno)), CLI_USAGE;
  if (S_ISDIR(sb.st_mode)) {
    char rp[4300], num[32];
    snprintf(casepath, sizeof casepath, "%s/case.case", input);
    snprintf(rp, sizeof rp, "%s/report.json", input);
    char *json = slurp(rp);
    if (!json) return cli_error("replay: cannot read '%s'", rp), CLI_USAGE;
    json_get(json, "leg", r.r_leg, sizeof r.r_leg);
    json_get(json, "check", r.r_check, sizeof r.r_check);
    json_get(json, "what", r.r_what, sizeof r.r_what);
    json_get(json, "detail", r.r_detail, sizeof r.r_detail);
    if (!json_get(json, "seed", num, sizeof num)) r.seed = strtoull(num, NULL, 10);
    if (!json_get(json, "index", num, sizeof num)) r.index = strtoull(num, NULL, 10);
    if (!inject[0]) json_get(json, "inject", inject, sizeof inject); /* null: stays "" */
    if (!backend[0]) json_get(json, "backend", backend, sizeof backend);
    free(json);
    if (!r.r_leg[0] || !r.r_check[0])
      return cli_error("replay: '%s' has no leg or check", rp), CLI_USAGE;
  } else {
    snprintf(casepath, sizeof casepath, "%s", input);
  }
  if (!strcmp(inject, "none")) inject[0] = 0;
  if (inject[0] && af_jit_mutant_find(inject) < 0)
    return cli_error("replay: unknown mutant '%s'", inject), CLI_USAGE;
  snprintf(r.inject_buf, sizeof r.inject_buf, "%s", inject);
  r.inject = inject[0] ? r.inject_buf : NULL;
  if (backend[0] && strcmp(backend, "builtin")) {
    af_error be = {{0}};
    if (af_backend_open(backend, &r.backend, &be) != AF_OK)
      return cli_error("replay: --backend: %s", be.msg), CLI_USAGE;
    if (af_backend_is_builtin(r.backend)) {
      af_backend_close(r.backend);
      r.backend = NULL;
    } else {
      snprintf(r.backend_buf, sizeof r.backend_buf, "%s", backend);
      r.backend_spec = r.backend_buf;
    }
  }
  if (!legs[0]) snprintf(legs, sizeof legs, "%s", r.r_leg[0] ? r.r_leg : "native");
  if (!strcmp(legs, "backend")) snprintf(legs, sizeof legs, "runner");
  if (legs_from(&r, legs)) return CLI_USAGE;
  /* the compilers: --oracle-cc, else the one a compiler leg's finding names (its `what`) */
  if (!r_ccs[0] && r.r_what[0] && strchr(r.r_what, ' ') == NULL && af_cc_available(r.r_what) &&
      (!strncmp(r.r_leg, "cc-", 3) || !strcmp(r.r_leg, "c-oracle") || strstr(r.r_leg, "-caller") ||
       strstr(r.r_leg, "-callee")))
    snprintf(r_ccs, sizeof r_ccs, "%s", r.r_what);
  snprintf(r.cc_buf, sizeof r.cc_buf, "%s", r_ccs);
  for (char *t = strtok(r.cc_buf, ","); t && r.ncc < AF_MAX_ORACLE_CC; t = strtok(NULL, ","))
    r.cc[r.ncc++] = t;
  af_error err = {{0}};
  if (af_parse_file(casepath, &r.c, &err) != AF_OK) {
    af_case_free(&r.c);
    return cli_error("replay: %s", err.msg), CLI_USAGE;
  }

  printf("replay: %s\n", casepath);
  if (r.r_leg[0]) printf("report: %s %s %s: %s\n", r.r_leg, r.r_check, r.r_what, r.r_detail);
  if (r.backend_spec) printf("backend: %s\n", r.backend_spec);
  printf("mutant: %s; legs:", r.inject ? r.inject : "none");
  for (int i = 0; i < r.nlegs; i++)
    printf(" %s", r.legs[i]);
  for (int i = 0; i < r.ncc; i++)
    printf("%s%s", i ? "," : "; compilers: ", r.cc[i]);
  printf("\n");
  replay_show_sig(&r);

  if (af_interp(&r.c, 0, &r.want, &err) == AF_OK) {
    r.have_want = 1;
    printf("\n== the interpreter ==\n  checksum 0x%016llx, %d calls (%d host)\n",
           (unsigned long long)r.want.checksum, r.want.ncalls, r.want.nhost_calls);
    if (r.c.funcs[r.c.entry].sig.ret != AF_T_VOID) cli_print_value(&r.c, "  return", &r.want.ret);
  } else {
    printf("\n== the interpreter ==\n  refused the case: %s\n", err.msg);
  }
  replay_compile(&r);
  if (r.compile_err[0]) printf("  jit: %s\n", r.compile_err);

  replay_crash k;
  int died = 0, nf;
  if (nofork) {
    nf = replay_run_legs(&r); /* a fault ends this process (under gdb: stops it) */
  } else {
    nf = run_child(&r, &k, &died);
    if (nf < 0) {
      replay_release(&r);
      af_backend_close(r.backend);
      af_interp_result_free(&r.want);
      af_case_free(&r.c);
      return CLI_ERROR;
    }
  }
  /* the compile whose code the leg ran: the probed one for the probes' legs */
  const char *leg0 = r.r_leg[0] ? r.r_leg : r.legs[0];
  const af_jit *j =
      (!strcmp(leg0, "native") || !strcmp(leg0, "garbage")) && r.probe ? r.probe : r.plain;
  if (died) {
    replay_show_crash(&r, &k);
    if (r.r_leg[0])
      printf("the report's finding (%s %s%s%s): %s\n", r.r_leg, r.r_check, r.r_what[0] ? " " : "",
             r.r_what,
             !strcmp(k.leg, r.r_leg) &&
                     !strcmp(r.r_check, REPLAY_IS_TIMEOUT(k.signo) ? "timeout" : "crash")
                 ? "reproduced"
                 : "NOT reproduced");
    if (k.rip_fn >= 0)
      replay_show_disasm(&r, k.rip_jit == 1 ? r.probe : r.plain, k.rip_fn, k.rip_off,
                         REPLAY_IS_TIMEOUT(k.signo) ? "where it loops" : "around the fault");
    else if (k.valid)
      printf("  (RIP is in no function of the replay's compiles: no disassembly)\n");
  } else if (r.r_what[0]) {
    long off = -1;
    int fn = rp_named_function(&r.c, r.r_what, &off);
    char title[160];
    snprintf(title, sizeof title, "f%d, the function the finding names (%s)", fn, r.r_what);
    replay_show_disasm(&r, j, fn, off, title);
  } else {
    replay_show_disasm(&r, j, r.c.entry, -1, "the entry");
  }
  printf("\nreplay: %s\n", nf ? "a finding fired" : "no finding");
  replay_release(&r);
  af_backend_close(r.backend);
  if (r.have_want) af_interp_result_free(&r.want);
  af_case_free(&r.c);
  return nf ? CLI_FINDING : CLI_OK;
}
