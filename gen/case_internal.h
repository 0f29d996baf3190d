/* case_internal.h - private: case-building helpers for the generator (case.c). */
#ifndef ABIFUZZ_CASE_INTERNAL_H
#define ABIFUZZ_CASE_INTERNAL_H

#include "gen.h"

/* Makes room for `cap` instructions in function `func` up front, so af_inst_add does not
 * grow (copy) the array on the way: the generator knows its bodies stay near BODY_BUDGET
 * (gen_body.c), and the copies of a doubling array were 6% of generating a case.
 * AF_OK, AF_ERR_INVALID (bad func) or AF_ERR_NOMEM; nothing changes if cap is not larger. */
af_status case_reserve_insts(af_case *c, int func, int cap);

/* af_case_init without clearing the arrays beyond their counts (types past ntypes, funcs past
 * nfuncs, objects, inputs: 16 KB, a tenth of generating a case). For the generator only: it
 * writes every entry it counts (af_type_add_*, af_func_add, gen_inputs clear or fill theirs),
 * and nothing reads an entry past its count. */
void case_init_lean(af_case *c);

/* The scalar table af_scalar returns entries of (case.c), for hot paths that index it
 * directly: case_scalar(k) is af_scalar(k) for a scalar kind k (never a composite one). */
extern const af_scalar_info case_scalars[AF_T_NSCALAR];
static inline const af_scalar_info *case_scalar(int k) { return &case_scalars[k]; }

#endif /* ABIFUZZ_CASE_INTERNAL_H */
