/* test_emu_deadline.c - the emulator's wall-clock limit, checked by its hooks (emu.c). */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "emu.h"
#include "leg_testlib.h"

/* The emulator no longer gives uc_emu_start a timeout (a thread per run, as costly as the run):
 * its hooks check the deadline instead. With a deadline of 1 us every case that runs more than
 * a few dozen blocks or stack accesses must end as a "timeout" finding, and with the default
 * (2 s) none may; with the instruction budget off the block hook still bounds the run. */

/* Runs cases 0..n-1 of seed 3 through e: how many ended with a "timeout" finding, how many
 * passed. */
static void run_cases(af_emu *e, int n, int *timeouts, int *passes) {
  af_legs_cfg cfg;
  memset(&cfg, 0, sizeof cfg);
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
        t |= !strcmp(fs.f[k].check, "timeout");
      *timeouts += t;
      *passes += fs.n == 0;
    }
    af_job_unref(j);
  }
}

int main(void) {
  af_error err = {{0}};
  af_emu *e = NULL;
  af_emu_cfg tight = {.timeout_us = 1};
  af_status s = af_emu_new(&tight, &e, &err);
  if (s == AF_ERR_UNSUPPORTED) {
    printf("skipped: %s\n", err.msg);
    return check_done();
  }
  CHECKF(s == AF_OK, "%s", err.msg);
  int to = 0, ok = 0;
  run_cases(e, 40, &to, &ok);
  printf("deadline 1 us: %d of 40 timed out, %d passed\n", to, ok);
  CHECKF(to >= 30, "only %d of 40 cases hit a 1 us deadline", to);
  af_emu_free(e);

  CHECK(af_emu_new(NULL, &e, &err) == AF_OK);
  run_cases(e, 40, &to, &ok);
  printf("deadline 2 s: %d timed out, %d passed\n", to, ok);
  CHECKF(to == 0 && ok >= 30, "%d timeouts, %d passes with the default deadline", to, ok);
  af_emu_free(e);

  /* no instruction budget: the deadline still holds */
  af_emu_cfg untimed = {.timeout_us = 1, .max_insns = AF_EMU_OFF};
  CHECK(af_emu_new(&untimed, &e, &err) == AF_OK);
  run_cases(e, 40, &to, &ok);
  printf("no instruction budget, 1 us: %d of 40 timed out\n", to);
  CHECKF(to >= 1, "none of 40 cases hit a 1 us deadline without an instruction budget");
  af_emu_free(e);
  return check_done();
}
