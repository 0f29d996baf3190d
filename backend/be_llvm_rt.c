/* be_llvm_rt.c - the C helper the llvm backend's code calls for MIX (folding is not under test). */
#include <string.h>

#include "be_llvm_internal.h"

/* gen.h's fold of one operand: its bytes through af_fold_bytes; a pointer folds as its id,
 * object k when it equals objects[k] (pointers always point at a region's start, gen.h),
 * anything else (a LOCAL) the "no object" id. */
uint64_t be_llvm_rt_fold(const af_case *c, uint8_t *const *objects, uint64_t h, const void *p,
                         int type) {
  if (type == AF_T_PTR) {
    uint8_t *q;
    memcpy(&q, p, sizeof q);
    uint64_t id = 0xffffffff00000000ull;
    for (int k = 0; k < c->nobjects && k < AF_MAX_OBJECTS; k++)
      if (objects && objects[k] && objects[k] == q) id = (uint64_t)(k + 1) << 32;
    return af_fold_u64(h, id);
  }
  return af_fold_bytes(c, h, type, p, 0);
}
