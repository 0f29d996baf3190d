/* perf_finddump.c - prints every verdict and finding of the native-run legs, to diff two builds. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gen.h"
#include "jit.h"
#include "legs.h"

/* A speed-up of the probes, the runner or the libffi legs must not change what they find: this
 * runs cases START..START+N of SEED (even indices SysV, odd Win64, as --abi both) through the
 * legs, once with the correct JIT and once with each mutant of jit/mutants.h, and prints every
 * verdict (the reason of a skip) and every finding, leg by leg. Two builds' outputs must be
 * identical (helper PRB, doc/benchmarks.md). Each JIT (clean or mutant) runs in a child
 * process, as a campaign's worker does: a leg that crashes (signal) or hangs (0.1 s of CPU time)
 * ends the child, the parent prints "crash" or "hang" for that (case, leg) and starts a new child
 * at the next leg of the same case (the supervisor's rule).
 *
 *   perf_finddump N [SEED [START [LEGS [MUTANT|all|none [divergent]]]]]
 *
 * LEGS: comma-separated (default native,garbage,runner,ffi-caller,ffi-callee). MUTANT: one
 * mutant's name, "none" (the correct JIT only) or "all" (default: the correct JIT and then
 * every mutant). Exit status 0 unless a child could not be started.
 *
 * Host addresses in findings' details print as ADDR. Two builds are compared best when both
 * are configured with -DCMAKE_C_FLAGS=-DAF_PROBE_HANDLER_STACK
 * -DCMAKE_ASM_FLAGS=-DAF_PROBE_HANDLER_STACK (the probes' handlers on a stack of their own, the
 * probe's memory at fixed addresses: harness/probe.S, probe.c) and run under `setarch -R`.
 * Even so, a mutant whose code reads a register or stack slot nobody set for it (a host code
 * address, what host code left below RSP) shows other values in another build: with the clean
 * JIT the outputs must be identical, with a mutant the differences must be such values (a
 * control: the same build with 4 KB of padding in probe.c differs in the same mutants). */

#define MAX_LEGS 16

/* Prints s with every hex number that is a host address (heap, stack, mappings: 0x55.. to
 * 0x7fff.., as Linux places them on x86-64) as "ADDR": they differ between runs and builds, the
 * checks that found them do not. */
static void put_masked(const char *s) {
  while (*s) {
    if (s[0] == '0' && s[1] == 'x') {
      const char *q = s + 2;
      uint64_t v = 0;
      while ((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'f')) {
        v = v << 4 | (uint64_t)(*q <= '9' ? *q - '0' : *q - 'a' + 10);
        q++;
      }
      if (q - s <= 18 && v >= 0x550000000000ull && v < 0x800000000000ull) {
        fputs("ADDR", stdout);
        s = q;
        continue;
      }
      fwrite(s, 1, (size_t)(q - s), stdout);
      s = q;
      continue;
    }
    putchar(*s++);
  }
}

/* Where the child is (shared with the parent): the case and the leg in flight. */
typedef struct {
  uint64_t index;
  int leg;
} where_t;
static where_t *where;

static void sk_begin(void *u, const af_job *j, const char *leg) { (void)u, (void)j, (void)leg; }

static void sk_end(void *u, const af_job *j, const char *leg, af_leg_verdict v, const char *reason,
                   const af_finding *f, int nf) {
  (void)u;
  static const char *const vn[] = {"pass", "FAIL", "skip"};
  printf("case %llu %s: %s", (unsigned long long)j->index, leg, vn[v]);
  if (v == AF_LEG_SKIP && reason) printf(" (%s)", reason);
  printf("\n");
  for (int i = 0; i < nf; i++) {
    printf("  [%s] %s | %s | ", f[i].leg, f[i].check, f[i].what);
    put_masked(f[i].detail);
    printf("\n");
  }
}

/* SIGVTALRM after `us` microseconds of the child's CPU time (0: off): a hang burns CPU, a leg
 * takes well under a millisecond of it, whatever the load of the machine. */
static void arm(long us) {
  struct itimerval t = {{0, 0}, {us / 1000000, us % 1000000}};
  setitimer(ITIMER_VIRTUAL, &t, NULL);
}

/* One JIT (inject NULL: the correct one) over cases from..end, the first from leg first_leg. */
static int run_all(const char *inject, uint64_t from, int first_leg, uint64_t end, uint64_t seed,
                   const char *legs_arg, int divergent) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s", legs_arg);
  af_legs_cfg cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.seed = seed;
  cfg.inject = inject;
  const af_leg *legs[MAX_LEGS];
  void *state[MAX_LEGS];
  int nlegs = 0;
  for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok && nlegs < MAX_LEGS;
       tok = strtok_r(NULL, ",", &save)) {
    const af_leg *l = af_leg_find(tok);
    af_error err = {{0}};
    if (!l || l->init(&cfg, &state[nlegs], &err) != AF_OK) {
      printf("leg %s: cannot start %s\n", tok, err.msg);
      return 2;
    }
    legs[nlegs++] = l;
  }
  af_leg_sink sink = {NULL, sk_begin, sk_end};
  af_gen_opts go;
  af_gen_opts_default(&go);
  go.allow_divergent = divergent;
  for (uint64_t i = from; i < end; i++) {
    af_job *j = af_job_new(&cfg, seed, i);
    if (!j) return 2;
    af_error err = {{0}};
    go.cc = (i & 1) ? AF_CC_WIN64 : AF_CC_SYSV;
    af_status s = af_gen_case(&go, seed, i, &j->c, NULL, &err);
    if (s == AF_OK) s = af_interp(&j->c, 0, &j->want, &err);
    if (s != AF_OK)
      printf("case %llu: not generated/interpreted: %s\n", (unsigned long long)i, err.msg);
    else
      for (int l = i == from ? first_leg : 0; l < nlegs; l++) {
        where->index = i;
        where->leg = l;
        fflush(stdout); /* a crash loses nothing printed so far */
        arm(100000);
        legs[l]->submit(state[l], j, &sink);
        arm(0);
      }
    af_job_unref(j);
    fflush(stdout); /* a crash loses nothing printed so far */
  }
  for (int l = 0; l < nlegs; l++)
    if (legs[l]->fini) legs[l]->fini(state[l]);
  return 0;
}

/* run_all in children, a new one after each crash or hang; their ends printed. */
static int run_child(const char *inject, int n, uint64_t seed, uint64_t start, const char *legs,
                     int divergent) {
  int nlegs = 1;
  for (const char *q = legs; *q; q++)
    nlegs += *q == ',';
  printf("=== jit %s\n", inject ? inject : "(correct)");
  uint64_t from = start, end = start + (uint64_t)n;
  int first_leg = 0;
  while (from < end) {
    fflush(stdout);
    where->index = from;
    where->leg = first_leg;
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) _exit(run_all(inject, from, first_leg, end, seed, legs, divergent));
    int st = 0;
    if (waitpid(pid, &st, 0) < 0) return 1;
    if (!WIFSIGNALED(st)) {
      if (WEXITSTATUS(st)) printf("=== child exit %d\n", WEXITSTATUS(st));
      break;
    }
    printf("case %llu leg #%d: %s (signal %d)\n", (unsigned long long)where->index, where->leg,
           WTERMSIG(st) == SIGVTALRM ? "hang" : "crash", WTERMSIG(st));
    from = where->index;
    first_leg = where->leg + 1;
    if (first_leg >= nlegs) from++, first_leg = 0;
  }
  fflush(stdout);
  return 0;
}

int main(int argc, char **argv) {
  af_legs_process_init();
  int n = argc > 1 ? atoi(argv[1]) : 100;
  uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 1;
  uint64_t start = argc > 3 ? strtoull(argv[3], NULL, 0) : 0;
  const char *legs = argc > 4 ? argv[4] : "native,garbage,runner,ffi-caller,ffi-callee";
  const char *which = argc > 5 ? argv[5] : "all";
  int divergent = argc > 6 && !strcmp(argv[6], "divergent");
  where = mmap(NULL, sizeof *where, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (where == MAP_FAILED) return 1;
  int rc = 0;
  if (!strcmp(which, "all") || !strcmp(which, "none"))
    rc |= run_child(NULL, n, seed, start, legs, divergent);
  if (!strcmp(which, "all")) {
    for (int m = 0; m < af_jit_mutant_count(); m++) {
      const char *name = af_jit_mutant_name(m);
      if (name && *name) rc |= run_child(name, n, seed, start, legs, divergent);
    }
  } else if (strcmp(which, "none")) {
    rc |= run_child(which, n, seed, start, legs, divergent);
  }
  return rc;
}
