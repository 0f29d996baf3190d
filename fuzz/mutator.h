/* mutator.h - the fuzz input format (generator bytes or tagged .case text) and the mutator. */
#ifndef ABIFUZZ_FUZZ_MUTATOR_H
#define ABIFUZZ_FUZZ_MUTATOR_H

#include <stddef.h>
#include <stdint.h>

#include "gen.h"

/* An input that starts with this prefix holds .case text (af_parse) after it; any other input
 * is generator bytes (af_gen_bytes). The custom mutator always writes the tagged form. */
#define AF_FUZZ_MAGIC "#abifuzz-case\n"

/* Input bytes -> a verified case. cc: -1 (a generated case draws its convention from the
 * bytes) or an af_cc the generator must use; a parsed case keeps its own (the caller decides
 * whether to skip it). *out must be freed with af_case_free even on error. */
af_status af_fuzz_decode(const uint8_t *data, size_t n, int cc, af_case *out, af_error *err);

/* Structure-aware mutation of data[0..n) in place (capacity max): decodes it, applies a few
 * case-level mutations that keep it valid (af_verify), writes the result as tagged .case text.
 * cc >= 0: the convention is never swapped away from cc. Returns the new size, or 0 when no
 * valid mutant fit (the caller falls back to a byte-level mutation). Deterministic in seed. */
size_t af_fuzz_mutate(uint8_t *data, size_t n, size_t max, unsigned seed, int cc);

#endif
