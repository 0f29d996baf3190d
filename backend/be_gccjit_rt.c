/* be_gccjit_rt.c - the C helpers gccjit-compiled code calls: MIX (gen.h's fold), and the one
 * conversion libgccjit 12 cannot compile. */
#include <string.h>

#include "be_gccjit_internal.h"

/* MIX folds every operand with af_fold_operand (gen.h), seeded by the instruction's imm,
 * pointers against the object table. The folding itself is not under test: the
 * compiled code only hands over the address of each operand's value. Pointer parameters keep
 * this a plain SysV call with register arguments. */
uint64_t be_gj_mix(void *cv, void *objects, void *func, void *inst, void *addrs) {
  const af_case *c = cv;
  uint8_t **obj = objects;
  const af_func *f = func;
  const af_inst *in = inst;
  void *const *a = addrs;
  uint64_t h = (uint64_t)in->imm;
  for (int k = 0; k < in->nargs; k++)
    h = af_fold_operand(c, obj, h, a[k], f->value_type[in->args[k]]);
  return h;
}

/* __int128 -> long double: libgccjit 12 crashes on that cast (be_gccjit_lower.c), so the
 * compiled code calls the interpreter's own conversion, the semantics by definition. */
void be_gj_itof(void *d, void *a, int from, int to) {
  (void)af_eval_conv(AF_OP_ITOF, from, to, a, d);
}
