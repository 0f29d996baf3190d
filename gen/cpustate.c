/* cpustate.c - save and restore the host's DF, MXCSR and x87 control word around foreign code. */
#include "gen.h"

void af_cpu_state_save(af_cpu_state *s) {
  __asm__ volatile("stmxcsr %0" : "=m"(s->mxcsr));
  __asm__ volatile("fnstcw %0" : "=m"(s->fcw));
}

void af_cpu_state_restore(const af_cpu_state *s) {
  /* psABI 3.2.1: DF clear, and MXCSR / the x87 control word as the caller had them, at every
   * return; code under test that breaks this must not make the harness's own memcpy run
   * backwards or its float arithmetic round the wrong way */
  __asm__ volatile("cld" ::: "memory");
  __asm__ volatile("ldmxcsr %0" ::"m"(s->mxcsr));
  __asm__ volatile("fldcw %0" ::"m"(s->fcw));
}

int af_cpu_df_clear_was_set(void) {
  uint64_t fl;
  __asm__ volatile("pushfq; popq %0" : "=r"(fl));
  if (!(fl & 0x400)) return 0;
  __asm__ volatile("cld" ::: "memory");
  return 1;
}
