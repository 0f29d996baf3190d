/* rng.c - the replayable random source: xoshiro256** per (seed, index), or libFuzzer bytes. */
#include <string.h>

#include "rng_internal.h"

/* splitmix64 (Steele, Lea, Flood 2014): the recommended seeder for the
 * xoshiro family; it turns any 64-bit input, even 0, into a well-mixed word. */
static uint64_t rng_splitmix(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static void rng_seed_state(af_rng *r, uint64_t key) {
  uint64_t x = key;
  for (int i = 0; i < 4; i++)
    r->s[i] = rng_splitmix(&x);
  /* xoshiro's only bad state is all zero; splitmix never yields four zeros in
   * a row, but make the guarantee explicit. */
  if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3])) r->s[0] = 1;
}

/* Case `index` of `seed`: the pair is mixed through two splitmix rounds so
 * that neighbouring indices (and neighbouring seeds) give unrelated streams.
 * Only fixed-width integer arithmetic: the same on every machine. */
void af_rng_seed(af_rng *r, uint64_t seed, uint64_t index) {
  memset(r, 0, sizeof *r);
  uint64_t x = seed;
  uint64_t k = rng_splitmix(&x);
  x = k ^ index;
  k = rng_splitmix(&x) ^ (index * 0xd1342543de82ef95ull);
  rng_seed_state(r, k);
}

/* Byte mode: the tail state is seeded by a hash of the whole buffer (and its
 * length), so an empty buffer still yields a case and every buffer a
 * different continuation. */
void af_rng_bytes(af_rng *r, const uint8_t *data, size_t n) {
  memset(r, 0, sizeof *r);
  uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)n;
  for (size_t i = 0; i < n; i++)
    h = (h ^ data[i]) * 0x100000001b3ull; /* FNV-1a */
  rng_seed_state(r, h);
  r->bytes = n ? data : NULL;
  r->nbytes = n;
  r->pos = 0;
}

/* Takes up to `want` bytes (little-endian) from the buffer; the missing high
 * bytes come from the xoshiro tail. */
static uint64_t rng_take(af_rng *r, int want) {
  uint64_t v = 0;
  int got = 0;
  while (got < want && r->pos < r->nbytes)
    v |= (uint64_t)r->bytes[r->pos++] << (8 * got++);
  if (got < want) {
    uint64_t t = rng_xoshiro(r);
    v |= got ? t << (8 * got) : t;
    if (want < 8) v &= ((uint64_t)1 << (8 * want)) - 1;
  }
  return v;
}

uint64_t af_rng_next(af_rng *r) {
  if (r->pos < r->nbytes) return rng_take(r, 8);
  return rng_xoshiro(r);
}

uint64_t af_rng_below(af_rng *r, uint64_t n) {
  if (n <= 1) return 0;
  if (r->pos < r->nbytes) {
    /* Byte mode consumes only as many bytes as n needs, so one input byte
     * maps to one small decision and a mutated byte changes one decision.
     * The modulo bias is irrelevant to a fuzzer's input mapping, and
     * rejection would make the consumption depend on the values. */
    int want = 1;
    while (want < 8 && (n - 1) >> (8 * want))
      want++;
    return rng_take(r, want) % n;
  }
  /* Rejection sampling (unbiased): draw until below the largest multiple
   * of n that fits in 2^64, i.e. reject x < 2^64 mod n (rng_below_step, rng_internal.h).
   * rng_internal.h's rng_below_fast repeats this loop inline: change both or neither. */
  for (;;) {
    uint64_t v = rng_below_step(rng_xoshiro(r), n);
    if (v < n) return v;
  }
}
