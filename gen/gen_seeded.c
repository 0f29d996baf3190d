/* gen_seeded.c - the generator once more, as one unit, for seeded cases (gen_private.h GEN_SEEDED).
 */
/* af_gen_case's cases come from an xoshiro stream, never from input bytes: compiled with
 * GEN_SEEDED, the draws have no byte-mode test and the per-case functions are static, so the
 * compiler sees (and may inline) all four files at once. The sources are the same files as the
 * plain objects (which af_gen_bytes and the tests use): the same code, the same cases. */
#define GEN_SEEDED 1

#include "generate.c"
#include "gen_types.c"
#include "gen_body.c"
#include "gen_values.c"
