/* gen_fast_common.h - what test_gen_fast.c and test_gen_fast2.c share: the plain copy of the
 * SysV classifier and a checked case generation. Include once, after check.h and gen.h. */
#ifndef ABIFUZZ_TESTS_GEN_FAST_COMMON_H
#define ABIFUZZ_TESTS_GEN_FAST_COMMON_H

#include <stdlib.h>

/* A copy of the SysV classifier without its fast paths (CLASSIFY_SYSV_PLAIN: no scalar table,
 * every type through sysv_classify_type and sysv_parts, every array element walked, classes
 * merged by sysv_merge), its external names renamed so that it is not the library's. */
#define CLASSIFY_SYSV_PLAIN         1
#define classify_err                classify_err_plain
#define classify_check_sig          classify_check_sig_plain
#define classify_sysv               classify_sysv_plain
#define classify_sysv_quirk_differs classify_sysv_quirk_differs_plain
#define classify_sysv_quirks_reach  classify_sysv_quirks_reach_plain
#include "classify_sysv.c"
#undef classify_err
#undef classify_check_sig
#undef classify_sysv
#undef classify_sysv_quirk_differs
#undef classify_sysv_quirks_reach

/* Case i of seed under o, in its own allocation (free with af_case_free and free), or NULL
 * after a failed check saying why. */
static __attribute__((unused)) af_case *gen_case_checked(const af_gen_opts *o, uint64_t seed,
                                                         uint64_t i) {
  af_case *c = malloc(sizeof *c);
  af_error err;
  if (c && af_gen_case(o, seed, i, c, NULL, &err) == AF_OK) return c;
  CHECKF(0, "seed %llu case %llu: %s", (unsigned long long)seed, (unsigned long long)i,
         c ? err.msg : "out of memory");
  free(c);
  return NULL;
}

#endif
