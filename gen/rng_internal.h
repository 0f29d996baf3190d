/* rng_internal.h - private: the xoshiro step and the uniform draw, inline for the generator. */
#ifndef ABIFUZZ_RNG_INTERNAL_H
#define ABIFUZZ_RNG_INTERNAL_H

#include "gen.h"

static inline uint64_t rng_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* xoshiro256** 1.0 (Blackman, Vigna): the one implementation, used by rng.c and inlined
 * into the generator's draws (a case makes ~700 of them; the two calls per draw were a
 * few percent of generating a case). */
static inline uint64_t rng_xoshiro(af_rng *r) {
  uint64_t *s = r->s;
  uint64_t result = rng_rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rng_rotl(s[3], 45);
  return result;
}

/* Exactly af_rng_below (rng.c): byte mode goes out of line, the xoshiro mode is inline. */
static inline uint64_t rng_below_fast(af_rng *r, uint64_t n) {
  if (n <= 1) return 0;
  if (r->pos < r->nbytes) return af_rng_below(r, n);
  uint64_t limit = -n % n; /* == 2^64 mod n: rejection sampling as in af_rng_below */
  for (;;) {
    uint64_t x = rng_xoshiro(r);
    if (x >= limit) return x % n;
  }
}

/* Exactly af_rng_next: byte mode out of line, xoshiro inline. */
static inline uint64_t rng_next_fast(af_rng *r) {
  return r->pos < r->nbytes ? af_rng_next(r) : rng_xoshiro(r);
}

#endif /* ABIFUZZ_RNG_INTERNAL_H */
