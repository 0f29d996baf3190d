/* codemem.h - W^X executable memory for JIT code: stage, seal into executable pages, free. */
#ifndef ABIFUZZ_JIT_CODEMEM_H
#define ABIFUZZ_JIT_CODEMEM_H

#include <stdbool.h>
#include <stddef.h>

#include "gen.h"

/* An arena of batches. codemem_add reserves space in the open batch and stages the code;
 * codemem_seal puts the staged code in place, and the batch is never written again (the next
 * allocation opens a fresh one). No page is ever writable and executable at once, and no code
 * runs before it is sealed: until then its executable address holds int3 (0xCC), as does
 * every byte no code was put in and, once freed, every byte of a batch.
 *
 * Two ways to get there (codemem_mode):
 *   CODEMEM_DUAL  each batch is one memfd mapped twice: read+execute where the code runs,
 *                 read+write at another address where codemem writes it. No system call per
 *                 compile. The default, when memfd_create works.
 *   CODEMEM_FLIP  each batch is one private mapping, read+write while open and while pooled,
 *                 mprotect'ed read+execute by the seal and back at free: two system calls
 *                 (and TLB shootdowns) per compile. The fallback, kept tested.
 * Across fork(), neither process writes again to a batch that existed at the fork (pthread_
 * atfork: in both, the pool is emptied and older batches are unmapped when freed, never
 * reused), so a dual mapping shared by parent and child never changes under either. */
typedef struct codemem codemem;

typedef enum { CODEMEM_DEFAULT = 0, CODEMEM_DUAL, CODEMEM_FLIP } codemem_mode;

#define CODEMEM_ALIGN 16 /* every allocation (a function start) is 16-byte aligned */

/* batch_size: bytes per mapping (0: 64 KiB); an allocation larger than that gets a mapping of
 * its own. AF_ERR_NOMEM if memory cannot be had. */
af_status codemem_new(codemem **out, size_t batch_size);
/* The same in a given mode (tests); CODEMEM_DEFAULT: DUAL if the process can, else FLIP.
 * AF_ERR_UNSUPPORTED for DUAL where memfd_create fails. */
af_status codemem_new_mode(codemem **out, size_t batch_size, codemem_mode mode);
/* Room for a codemem inside the caller's own memory (codemem_new_in): af_jit_compile keeps it
 * in the compile's one allocation instead of a calloc and a free per compile. */
typedef union {
  max_align_t align;
  unsigned char bytes[320];
} codemem_storage;
/* codemem_new_mode in *st (codemem_free then frees its batches and stage, not st). */
af_status codemem_new_in(codemem **out, codemem_storage *st, size_t batch_size, codemem_mode mode);
/* The mode of m. */
codemem_mode codemem_get_mode(const codemem *m);
/* Reserves size bytes at a 16-byte boundary of the open batch and stages a copy of code for
 * them; *where is the address the code will execute at once sealed (int3 until then). */
af_status codemem_add(codemem *m, const void *code, size_t size, void **where);
/* Where the next codemem_add may find its code already in place: *p points into the stage,
 * at the spot codemem_add would copy code to if it fits in the open batch, with *room >= want
 * bytes of the stage from there (the stage grown if needed). A caller that writes its code at
 * *p and passes that very pointer to codemem_add saves the copy (an allocation that moves to a
 * fresh batch is moved within the stage). Valid until the next codemem_add, codemem_next or
 * codemem_seal. AF_ERR_NOMEM if the stage cannot grow. */
af_status codemem_next(codemem *m, size_t want, uint8_t **p, size_t *room);
/* Lends m cap bytes at mem (e.g. on the caller's stack) as its stage until the next
 * codemem_seal, which gives them back; outgrowing them moves the stage to the heap. Only when
 * nothing is staged (a fresh codemem, or just after a seal). */
void codemem_stage_lend(codemem *m, uint8_t *mem, size_t cap);
/* Puts every staged allocation in place and makes its batches executable: the open one, and
 * any an allocation that did not fit in it left behind. No-op when nothing is open.
 * AF_ERR_RUNTIME if mprotect fails (FLIP). */
af_status codemem_seal(codemem *m);
/* Whether p lies in a sealed (executable) batch of m. */
bool codemem_is_sealed(const codemem *m, const void *p);
/* Number of mappings made so far (sealed ones and the open one). */
size_t codemem_nbatches(const codemem *m);
/* Gives back every batch: int3 over every byte code was put in, then to the process's pool of
 * unused batches (or unmapped when the pool is full); m may be NULL. A function pointer into
 * m then traps (DUAL: int3; FLIP: the pooled batch is not executable) until the batch is
 * sealed again by its next owner. */
void codemem_free(codemem *m);

#endif
