/* test_emu_deadline.c - the emulator's wall-clock limit and instruction budget (emu.c), on both
 * engines. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "emu.h"
#include "leg_testlib.h"

/* `test_emu_deadline [--unicorn]`: xi (the default) or Unicorn.
 *
 * On Unicorn the emulator gives uc_emu_start no timeout (a thread per run, as costly as the
 * run): its hooks check the deadline instead, so with a deadline of 1 us every case that runs
 * more than a few dozen blocks or stack accesses must end as a "timeout" finding, also with
 * the instruction budget off. On xi, xi_emu_start's own timeout and count bound the run (its
 * clock is read every few thousand instructions, so a 1 us deadline does not stop a short
 * case: those phases are Unicorn's). On both: with the default budgets (2 s, 4,000,000
 * instructions) no clean case times out, and a hanging JIT (the jit-hang mutant) ends as a
 * "timeout" finding naming the limit that stopped it: the deadline with the budget off, the
 * budget with the deadline off. */

/* Runs cases 0..n-1 of seed 3 (inject: a mutant or NULL) through e: how many ended with a
 * "timeout" finding whose detail contains `unit` (NULL: any), how many passed. */
static void run_cases(af_emu *e, int n, const char *inject, const char *unit, int *timeouts,
                      int *passes) {
  af_legs_cfg cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.inject = inject;
  af_gen_opts go;
  af_gen_opts_default(&go);
  *timeouts = *passes = 0;
  for (int i = 0; i < n; i++) {
    go.cc = (i & 1) ? AF_CC_WIN64 : AF_CC_SYSV;
    af_job *j = tl_job_gen(&go, 3, (uint64_t)i, &cfg);
    if (!j) continue;
    af_findings fs;
    memset(&fs, 0, sizeof fs);
    const char *skip = NULL;
    if (af_emu_run(e, j, NULL, "emu", &fs, &skip) == AF_OK) {
      int t = 0;
      for (int k = 0; k < fs.n; k++)
        t |= !strcmp(fs.f[k].check, "timeout") && (!unit || strstr(fs.f[k].detail, unit));
      *timeouts += t;
      *passes += fs.n == 0;
    }
    af_job_unref(j);
  }
}

int main(int argc, char **argv) {
  int engine = argc > 1 && !strcmp(argv[1], "--unicorn") ? AF_EMU_UNICORN : AF_EMU_XI;
  printf("engine: %s\n", engine == AF_EMU_UNICORN ? "unicorn" : "xi");
  af_error err = {{0}};
  af_emu *e = NULL;
  int to = 0, ok = 0;
  if (engine == AF_EMU_UNICORN) {
    af_emu_cfg tight = {.timeout_us = 1, .engine = engine};
    af_status s = af_emu_new(&tight, &e, &err);
    if (s == AF_ERR_UNSUPPORTED) {
      printf("skipped: %s\n", err.msg);
      return check_done();
    }
    CHECKF(s == AF_OK, "%s", err.msg);
    run_cases(e, 40, NULL, NULL, &to, &ok);
    printf("deadline 1 us: %d of 40 timed out, %d passed\n", to, ok);
    CHECKF(to >= 30, "only %d of 40 cases hit a 1 us deadline", to);
    af_emu_free(e);

    /* no instruction budget: the deadline still holds */
    af_emu_cfg untimed = {.timeout_us = 1, .max_insns = AF_EMU_OFF, .engine = engine};
    CHECK(af_emu_new(&untimed, &e, &err) == AF_OK);
    run_cases(e, 40, NULL, NULL, &to, &ok);
    printf("no instruction budget, 1 us: %d of 40 timed out\n", to);
    CHECKF(to >= 1, "none of 40 cases hit a 1 us deadline without an instruction budget");
    af_emu_free(e);
  }

  af_emu_cfg dflt = {.engine = engine};
  af_status s = af_emu_new(&dflt, &e, &err);
  if (s == AF_ERR_UNSUPPORTED) {
    printf("skipped: %s\n", err.msg);
    return check_done();
  }
  CHECKF(s == AF_OK, "%s", err.msg);
  run_cases(e, 40, NULL, NULL, &to, &ok);
  printf("deadline 2 s: %d timed out, %d passed\n", to, ok);
  CHECKF(to == 0 && ok >= 30, "%d timeouts, %d passes with the default deadline", to, ok);
  af_emu_free(e);

  /* a hang: the deadline alone (20 ms), then the budget alone (100,000 instructions) */
  af_emu_cfg by_time = {.timeout_us = 20000, .max_insns = AF_EMU_OFF, .engine = engine};
  CHECK(af_emu_new(&by_time, &e, &err) == AF_OK);
  run_cases(e, 6, "jit-hang", "20000 us", &to, &ok);
  printf("jit-hang, no instruction budget, 20 ms: %d of 6 timed out on the deadline\n", to);
  CHECKF(to == 6, "%d of 6 hanging cases stopped by a 20 ms deadline", to);
  af_emu_free(e);
  af_emu_cfg by_count = {.timeout_us = AF_EMU_OFF, .max_insns = 100000, .engine = engine};
  CHECK(af_emu_new(&by_count, &e, &err) == AF_OK);
  run_cases(e, 6, "jit-hang", "100000 instructions", &to, &ok);
  printf("jit-hang, no deadline, 100,000 instructions: %d of 6 timed out on the budget\n", to);
  CHECKF(to == 6, "%d of 6 hanging cases stopped by the instruction budget", to);
  af_emu_free(e);
  return check_done();
}
