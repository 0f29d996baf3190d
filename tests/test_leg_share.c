/* test_leg_share.c - the legs that run JIT code natively share one compile of a case. */
#include <stdint.h>

#include "check.h"
#include "leg_testlib.h"

#define SEED   0x5a4e
#define NCASES 40

/* A case compiled once for native, garbage, runner, ffi-caller and ffi-callee (legs.h,
 * af_leg_compile_native): after all five the job holds one compile, and every leg still
 * passes on the correct JIT (a leg that got code without the runtime-helper probe, or a table
 * left set for another leg's host functions, would fail or add a compile). The emulator
 * asks for the plain compile: a second one. */
int main(void) {
  static const char *names[] = {"native", "garbage", "runner", "ffi-caller", "ffi-callee"};
  enum { NLEGS = sizeof names / sizeof names[0] };
  const af_leg *legs[NLEGS];
  void *state[NLEGS];
  af_legs_cfg cfg = {0};
  af_error err = {{0}};
  for (int l = 0; l < NLEGS; l++) {
    legs[l] = af_leg_find(names[l]);
    CHECKF(legs[l] != NULL, "no leg %s", names[l]);
    if (!legs[l]) return check_done();
    state[l] = NULL;
    CHECKF(!legs[l]->init || legs[l]->init(&cfg, &state[l], &err) == AF_OK, "%s: %s", names[l],
           err.msg);
  }
  af_gen_opts go;
  af_gen_opts_default(&go);
  int ran = 0, passed = 0;
  for (int i = 0; i < NCASES; i++) {
    go.cc = (i & 1) ? AF_CC_WIN64 : AF_CC_SYSV;
    af_job *j = tl_job_gen(&go, SEED, (uint64_t)i, &cfg);
    if (!j) continue;
    ran++;
    int compiled = 0;
    for (int l = 0; l < NLEGS; l++) {
      tl_collect k;
      tl_run(legs[l], state[l], j, &k);
      CHECKF(k.ended == 1 && k.v != AF_LEG_FAIL, "case %d leg %s: verdict %d %s %s", i, names[l],
             k.v, k.nf ? k.f[0].check : "", k.nf ? k.f[0].detail : "");
      passed += k.v == AF_LEG_PASS;
      compiled |= k.v != AF_LEG_SKIP;
    }
    if (compiled) CHECKF(j->njits == 1, "case %d: %d compiles for the native legs", i, j->njits);
    af_jit *plain = NULL;
    if (af_leg_compile(j, NULL, &plain, &err) == AF_OK) {
      CHECKF(j->njits == 2, "case %d: the plain compile is not a second one (%d)", i, j->njits);
      af_jit_free(plain);
    }
    af_job_drop_compiles(j);
    CHECKF(j->njits == 0, "case %d: drop left %d", i, j->njits);
    af_job_unref(j);
  }
  for (int l = 0; l < NLEGS; l++)
    if (legs[l]->fini) legs[l]->fini(state[l]);
  CHECKF(ran >= NCASES / 2 && passed >= ran * 2, "ran %d cases, %d passes", ran, passed);
  return check_done();
}
