/* be_gccjit_internal.h - what the gccjit backend's files share: one unit (a libgccjit context
 * holding one or more cases), its types, and the lowering entry points. */
#ifndef ABIFUZZ_BE_GCCJIT_INTERNAL_H
#define ABIFUZZ_BE_GCCJIT_INTERNAL_H

#include <libgccjit.h>

#include "backend_internal.h"

/* gcc 12's libgccjit (ABI 21..24) has what this backend needs: sized integers and __int128
 * (LIBGCCJIT_HAVE_SIZED_INTEGERS), bit-fields, aligned types, vectors, bit-casts, global
 * initialisers and extended asm (the barriers that keep gcc from folding float operations). */
#if !defined(LIBGCCJIT_HAVE_SIZED_INTEGERS) ||                                                     \
    !defined(LIBGCCJIT_HAVE_gcc_jit_type_get_aligned) ||                                           \
    !defined(LIBGCCJIT_HAVE_gcc_jit_type_get_vector) ||                                            \
    !defined(LIBGCCJIT_HAVE_gcc_jit_context_new_bitcast) ||                                        \
    !defined(LIBGCCJIT_HAVE_gcc_jit_global_set_initializer) ||                                     \
    !defined(LIBGCCJIT_HAVE_ASM_STATEMENTS) ||                                                     \
    !defined(LIBGCCJIT_HAVE_gcc_jit_context_new_bitfield)
#error "the gccjit backend needs libgccjit from gcc 12 or later"
#endif

/* One case inside a unit: its types as gcc sees them and its functions. Names are prefixed
 * ("c<i>_") so that several cases can share one context. */
typedef struct {
  const af_case *c;
  const be_imports *imports; /* where host function k's stub is */
  uint8_t **objects;         /* the object table MIX folds pointers against */
  char prefix[16];
  gcc_jit_type *type[AF_MAX_TYPES];    /* every type id (scalars and composites) */
  gcc_jit_field **field[AF_MAX_TYPES]; /* struct/union t: gcc field of af field i (NULL: none) */
  gcc_jit_function *fn[AF_MAX_FUNCS];  /* non-host functions */
  gcc_jit_type *fnptr[AF_MAX_FUNCS];   /* host functions: pointer-to-function type */
  int nconst;                          /* constants emitted (global names) */
} gj_case;

/* A libgccjit context and the types every case uses. */
typedef struct {
  gcc_jit_context *ctx;
  gcc_jit_type *void_t, *bool_t, *u8, *u8p, *vp, *vpp, *size_t_, *int_t, *u64, *ld;
  gcc_jit_type *uint[17], *sint[17]; /* by size in bytes: 1 2 4 8 16 */
  gcc_jit_function *memcpy_fn, *memset_fn;
  gcc_jit_type *mix_t;  /* uint64_t (*)(void *, void *, void *, void *, void *) */
  gcc_jit_rvalue *mix;  /* be_gj_mix's address */
  gcc_jit_rvalue *itof; /* be_gj_itof's address, as void (*)(void *, void *, int, int) */
} gj_unit;

/* A constant reason when c uses something gcc 12's libgccjit cannot express (or that this
 * backend cannot express exactly), NULL when it can compile c. */
const char *gj_unsupported(const af_case *c);

/* Sets up u's context (options, common types). needs_avx: a case of the unit uses __m256. */
af_status gj_unit_init(gj_unit *u, int needs_avx, af_error *err);

/* Builds every type of k->c in u (k->type, k->field). */
af_status gj_types(gj_unit *u, gj_case *k, af_error *err);

void gj_case_free(gj_case *k); /* what gj_types allocated */

/* Declares every non-host function of k->c (k->fn) and the host functions' pointer types,
 * then lowers every body. */
af_status gj_lower_case(gj_unit *u, gj_case *k, af_error *err);

/* The first libgccjit error of the context as err (AF_ERR_RUNTIME), or AF_OK. */
af_status gj_check(gj_unit *u, const char *what, af_error *err);

/* MIX's fold (be_gccjit_rt.c), called by the compiled code through its address: c, objects,
 * the function and the instruction, and the address of each operand's value. */
uint64_t be_gj_mix(void *c, void *objects, void *func, void *inst, void *addrs);
/* ITOF from type `from` (at a) to `to` (at d), as the interpreter does (af_eval_conv). */
void be_gj_itof(void *d, void *a, int from, int to);

#endif
