/* layout_internal.h - private: laying out only the newest types of a case (layout.c). */
#ifndef ABIFUZZ_LAYOUT_INTERNAL_H
#define ABIFUZZ_LAYOUT_INTERNAL_H

#include "gen.h"

/* af_layout restricted to types [first, ntypes): a type's layout depends only on
 * earlier types (fields and elements refer to lower ids), so when every type
 * below `first` is already laid out (af_layout returned AF_OK for them), this
 * gives exactly what af_layout would, without redoing the others. The generator
 * calls it after each type it adds (af_layout of the whole table per added type
 * was a tenth of generating a case). */
af_status layout_types_from(af_case *c, int first);

/* layout_types_from(c, id) for the newest type id, a valid one by construction (the
 * generator's: the builder's arguments in range, every field of an earlier non-void type, a
 * bit-field of bool or i8..u64 no wider than its type and without _Alignas, an _Alignas a power
 * of two 1..64 at least the field type's alignment, the type's own alignment 0 or such a power):
 * the same sizes, offsets and limit failures (AF_ERR_LIMIT) without re-checking those rules
 * (test_gen_fast compares it with layout_types_from on generated types). */
af_status layout_type_gen(af_case *c, int id);

/* x / a and x rounded up to a multiple of a, shifts and masks when a is a power of two (every
 * alignment and storage unit of a laid-out type is): a 64-bit division is tens of cycles, and
 * layout, the generator's aggregates and the SysV walk do one per field. The same results as
 * x / a and (x + a - 1) / a * a for every a (a == 0 divides, as those do). */
static inline uint64_t layout_div(uint64_t x, uint64_t a) {
  return a && (a & (a - 1)) == 0 ? x >> __builtin_ctzll(a) : x / a;
}
static inline uint64_t layout_round_up(uint64_t x, uint64_t a) {
  return a && (a & (a - 1)) == 0 ? (x + a - 1) & ~(a - 1) : (x + a - 1) / a * a;
}

#endif /* ABIFUZZ_LAYOUT_INTERNAL_H */
