/* be_csrc.h - what the C-source backends (cc, tcc) share: the case's ext_code C in memory,
 * its content hash, which compiler family reads it and what that compiler cannot compile. */
#ifndef ABIFUZZ_BE_CSRC_H
#define ABIFUZZ_BE_CSRC_H

#include <stddef.h>
#include <stdint.h>

#include "backend_internal.h"

/* The compilers whose gaps are known (be_csrc_skip). */
typedef enum { BE_CC_GCC, BE_CC_CLANG, BE_CC_TCC, BE_CC_OTHER } be_cc_family;

typedef struct {
  be_cc_family family;
  int major;   /* 0: unknown */
  int has_avx; /* the command compiles with AVX (-mavx, -march=native, x86-64-v3/v4) */
} be_cc_id;

const char *be_cc_family_name(be_cc_family f); /* "gcc", "clang", "tcc", "cc" */

/* The ext_code C of c (oracle.h) with `prefix`, the runtime prelude when prelude is 1, into a
 * malloc'd NUL-terminated buffer *out (*len bytes). The emitter's status otherwise
 * (AF_ERR_UNSUPPORTED: C cannot express the case). */
af_status be_csrc_text(const af_case *c, const char *prefix, int prelude, char **out, size_t *len,
                       af_error *err);

/* FNV-1a of n bytes: the key a prefetched case is found by (then compared byte for byte). */
uint64_t be_csrc_hash(const void *p, size_t n);

/* Why compiler id cannot compile c's ext_code C correctly (a short constant sentence to
 * count a skip by), or NULL when it can: a C feature it lacks (af_emit_c_needs), the Win64
 * convention tcc ignores, a signature gen/abi.c's table says this compiler lowers differently
 * from af_classify (only the signatures that cross between the external code and the JIT
 * matter: the entry's and the host functions'). */
const char *be_csrc_skip(const be_cc_id *id, const af_case *c);

#endif
