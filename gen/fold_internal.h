/* fold_internal.h - folding and bit-field helpers shared by fold.c and interp.c (private to gen/).
 */
#ifndef ABIFUZZ_FOLD_INTERNAL_H
#define ABIFUZZ_FOLD_INTERNAL_H

#include "gen.h"

/* Canonicalised fold chunks of float bit patterns (gen.h "Folding"). */
uint64_t af_fold_f16_bits(uint16_t b);
uint64_t af_fold_f32_bits(uint32_t b);
uint64_t af_fold_f64_bits(uint64_t b);
uint64_t af_fold_f80_bytes(uint64_t h, const uint8_t *p); /* folds two chunks */

/* af_fold_bytes is public (gen.h): every pointer leaf folds as ptr_id (pointers are never
 * fields, so a value holds at most one: itself). */

/* Bit-field access (af_bitfield_get / af_bitfield_set) is public: gen.h. */

#endif
