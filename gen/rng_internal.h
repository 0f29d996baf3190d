/* rng_internal.h - private: the xoshiro step and the uniform draw, inline for the generator. */
#ifndef ABIFUZZ_RNG_INTERNAL_H
#define ABIFUZZ_RNG_INTERNAL_H

#include "gen.h"

/* xoshiro256** (gen.h af_xoshiro_step), inlined into the generator's draws (a case makes ~700
 * of them; the two calls per draw were a few percent of generating a case). */
static inline uint64_t rng_xoshiro(af_rng *r) { return af_xoshiro_step(r->s); }

/* One draw of af_rng_below's rejection loop: x % n if x is at least 2^64 mod n, else n (a
 * rejection, never a result). 2^64 mod n is below n, so a draw x >= n (all but a few draws
 * for the n a case uses) is accepted without computing it: the same results as
 * `x >= -n % n ? x % n`, one division fewer per draw (a 64-bit division is tens of cycles;
 * with a constant n the compiler needs none either way). */
static inline uint64_t rng_below_step(uint64_t x, uint64_t n) {
  if (x >= n || x >= -n % n) return x % n;
  return n;
}

/* Exactly af_rng_below (rng.c): byte mode goes out of line, the xoshiro mode is inline. */
static inline uint64_t rng_below_fast(af_rng *r, uint64_t n) {
  if (n <= 1) return 0;
  if (r->pos < r->nbytes) return af_rng_below(r, n);
  for (;;) { /* rejection sampling as in af_rng_below */
    uint64_t v = rng_below_step(rng_xoshiro(r), n);
    if (v < n) return v;
  }
}

/* Exactly af_rng_next: byte mode out of line, xoshiro inline. */
static inline uint64_t rng_next_fast(af_rng *r) {
  return r->pos < r->nbytes ? af_rng_next(r) : rng_xoshiro(r);
}

#endif /* ABIFUZZ_RNG_INTERNAL_H */
