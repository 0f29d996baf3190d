/* codemem.h - W^X executable memory for JIT code: write in RW pages, seal to R+X, free. */
#ifndef ABIFUZZ_JIT_CODEMEM_H
#define ABIFUZZ_JIT_CODEMEM_H

#include <stdbool.h>
#include <stddef.h>

#include "gen.h"

/* An arena of batches. The open batch is mapped read+write (never executable); codemem_seal
 * turns it read+execute (never writable again) and the next allocation opens a fresh
 * mapping. No page is ever writable and executable at once. */
typedef struct codemem codemem;

#define CODEMEM_ALIGN 16 /* every allocation (a function start) is 16-byte aligned */

/* batch_size: bytes per mapping (0: 64 KiB); an allocation larger than that gets a mapping of
 * its own. AF_ERR_NOMEM if memory cannot be had. */
af_status codemem_new(codemem **out, size_t batch_size);
/* size bytes of writable space in the open batch at a 16-byte boundary; *where is the address
 * the code will execute at once sealed. The unused tail of a batch holds int3 (0xCC). */
af_status codemem_alloc(codemem *m, size_t size, void **where);
/* codemem_alloc + memcpy. */
af_status codemem_add(codemem *m, const void *code, size_t size, void **where);
/* Flips every batch not sealed yet to read+execute (mprotect): the open one, and any an
 * allocation that did not fit in it left behind. No-op when nothing is open.
 * AF_ERR_RUNTIME if mprotect fails. */
af_status codemem_seal(codemem *m);
/* Whether p lies in a sealed (executable) batch of m. */
bool codemem_is_sealed(const codemem *m, const void *p);
/* Number of mappings made so far (sealed ones and the open one). */
size_t codemem_nbatches(const codemem *m);
/* Gives back every batch (to the process's pool of unused batches, read+write, their old code
 * int3-filled by the next owner where its own does not cover it, by the time it seals; or
 * unmapped when the pool is full); m may be NULL. Function pointers into m die with it. */
void codemem_free(codemem *m);

#endif
