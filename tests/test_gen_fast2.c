/* test_gen_fast2.c - the generator's and classifier's session-8 fast paths against plain code. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi_internal.h"
#include "case_internal.h"
#include "check.h"
#include "gen.h"

#include "gen_fast_common.h"

/* ---- session 8 (GEN7) ---- */

/* Both classifiers on one signature, as test_sysv_scalar_table runs them: 1 if they differ. */
static int sysv_differs(const af_case *c, const af_sig *s) {
  af_callinfo a, b;
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  a.cc = b.cc = AF_CC_SYSV;
  a.nargs = b.nargs = s->nparams;
  a.ret.dup = b.ret.dup = AF_REG_NONE;
  unsigned q = 0;
  af_status sa = classify_sysv(c, s, &a, NULL, &q), sb = classify_sysv_plain(c, s, &b, NULL, NULL);
  return sa != sb || memcmp(&a, &b, sizeof a) != 0;
}

/* classify_sysv.c's merge table is sysv_merge, for every pair of classes. */
static void test_sysv_merge_table(void) {
  int bad = 0;
  for (int a = 0; a < 8; a++)
    for (int b = 0; b < 8; b++)
      if (sysv_merge_tab[a][b] != (uint8_t)sysv_merge((af_class)a, (af_class)b) && bad++ < 5)
        fprintf(stderr, "merge %d %d: table %d, sysv_merge %d\n", a, b, sysv_merge_tab[a][b],
                (int)sysv_merge((af_class)a, (af_class)b));
  CHECKF(bad == 0, "%d pairs: the merge table differs from sysv_merge", bad);
  CHECK(AF_CLS_MEMORY == 7); /* the table's size: every class below 8 */
}

/* sysv_walk's arrays of scalar elements (one merge per eightbyte for the one-class kinds, no
 * call per element for the others) against the plain copy's walk of every element: each scalar
 * kind in arrays of 1-9 elements, after a prefix that shares the first eightbyte (or none), in
 * a struct and in a union, nested one level, as the argument and the return. */
static void test_sysv_scalar_arrays(void) {
  af_case *c = malloc(sizeof *c);
  if (!c) abort();
  static const int prefix[] = {AF_T_VOID, AF_T_I8, AF_T_U16, AF_T_F32, AF_T_F64, AF_T_F80};
  static const uint32_t counts[] = {1, 2, 3, 5, 7, 9};
  int bad = 0, tried = 0, inreg = 0;
  for (int k = AF_T_BOOL; k < AF_T_NSCALAR; k++)
    for (int pi = 0; pi < 6; pi++) {
      af_case_init(c);
      for (int ci = 0; ci < 6; ci++) {
        int arr = af_type_add_array(c, k, counts[ci]);
        CHECK(arr >= 0 && af_layout(c) == AF_OK);
        af_field f[2] = {{prefix[pi], -1, 0, 0, 0}, {arr, -1, 0, 0, 0}};
        int np = prefix[pi] == AF_T_VOID ? 0 : 1;
        for (int kind = 0; kind < 2; kind++) {
          int st = af_type_add_struct(c, kind ? AF_T_UNION : AF_T_STRUCT, 1 + np, f + 1 - np, 0, 0);
          CHECK(st >= 0 && af_layout(c) == AF_OK);
          af_field w[2] = {{AF_T_U8, -1, 0, 0, 0}, {st, -1, 0, 0, 0}};
          int nest = af_type_add_struct(c, AF_T_STRUCT, 2, w, 0, 0);
          CHECK(nest >= 0 && af_layout(c) == AF_OK);
          int ts[2] = {st, nest};
          for (int x = 0; x < 2; x++)
            for (int as_ret = 0; as_ret < 2; as_ret++) {
              af_sig s = {.cc = AF_CC_SYSV, .ret = AF_T_VOID, .nparams = 2, .nfixed = 2};
              s.params[0] = AF_T_I32;
              s.params[1] = as_ret ? AF_T_F64 : ts[x];
              if (as_ret) s.ret = ts[x];
              if (classify_check_sig_plain(c, &s, NULL) != AF_OK) continue;
              tried++;
              if (sysv_differs(c, &s) && bad++ < 5)
                fprintf(stderr, "kind %d prefix %d count %u %s%s %s: the array walk differs\n", k,
                        prefix[pi], counts[ci], kind ? "union" : "struct", x ? " nested" : "",
                        as_ret ? "return" : "argument");
              af_callinfo ci2;
              if (!as_ret && af_classify(c, &s, &ci2, NULL) == AF_OK)
                inreg += ci2.args[1].kind == AF_LOC_REG;
            }
        }
      }
      af_case_free(c);
    }
  free(c);
  CHECKF(tried > 5000 && inreg > 500, "%d signatures, %d in registers: too few to tell", tried,
         inreg);
  CHECKF(bad == 0, "%d signatures: the scalar-array walk differs from the plain walk", bad);
}

int main(void) {
  test_sysv_merge_table();
  test_sysv_scalar_arrays();
  return check_done();
}
