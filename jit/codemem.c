/* codemem.c - W^X executable memory: mmap RW batches, mprotect them R+X when sealed. */
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "codemem.h"

typedef struct {
  uint8_t *base;
  size_t size; /* mapped bytes, a multiple of the page size */
  bool sealed;
} batch;

struct codemem {
  size_t batch_size, page;
  batch *batches;
  size_t nbatches, cap;
  size_t used; /* bytes used in the open batch (the last one, when not sealed) */
};

af_status codemem_new(codemem **out, size_t batch_size) {
  *out = NULL;
  codemem *m = calloc(1, sizeof *m);
  if (!m) return AF_ERR_NOMEM;
  long pg = sysconf(_SC_PAGESIZE);
  m->page = pg > 0 ? (size_t)pg : 4096;
  m->batch_size = batch_size ? batch_size : 64 * 1024;
  m->batch_size = (m->batch_size + m->page - 1) / m->page * m->page;
  *out = m;
  return AF_OK;
}

static batch *open_batch(codemem *m) {
  return m->nbatches && !m->batches[m->nbatches - 1].sealed ? &m->batches[m->nbatches - 1] : NULL;
}

static af_status new_batch(codemem *m, size_t need) {
  if (m->nbatches == m->cap) {
    size_t cap = m->cap ? 2 * m->cap : 8;
    batch *p = realloc(m->batches, cap * sizeof *p);
    if (!p) return AF_ERR_NOMEM;
    m->batches = p, m->cap = cap;
  }
  size_t size = need > m->batch_size ? (need + m->page - 1) / m->page * m->page : m->batch_size;
  /* Read+write only: the code is written now and made executable by codemem_seal. */
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return AF_ERR_NOMEM;
  memset(p, 0xCC, size); /* int3: a stray jump into the tail traps */
  m->batches[m->nbatches++] = (batch){.base = p, .size = size, .sealed = false};
  m->used = 0;
  return AF_OK;
}

af_status codemem_alloc(codemem *m, size_t size, void **where) {
  *where = NULL;
  if (size > SIZE_MAX / 2) return AF_ERR_LIMIT;
  batch *b = open_batch(m);
  size_t at = (m->used + CODEMEM_ALIGN - 1) & ~(size_t)(CODEMEM_ALIGN - 1);
  if (!b || at + size > b->size) {
    af_status s = new_batch(m, size);
    if (s != AF_OK) return s;
    b = open_batch(m);
    at = 0;
  }
  m->used = at + size;
  *where = b->base + at;
  return AF_OK;
}

af_status codemem_add(codemem *m, const void *code, size_t size, void **where) {
  af_status s = codemem_alloc(m, size, where);
  if (s == AF_OK) memcpy(*where, code, size);
  return s;
}

af_status codemem_seal(codemem *m) {
  batch *b = open_batch(m);
  if (!b) return AF_OK;
  /* One mprotect per batch: RW -> RX. The batch is never made writable again. */
  if (mprotect(b->base, b->size, PROT_READ | PROT_EXEC) != 0) return AF_ERR_RUNTIME;
  b->sealed = true;
  m->used = 0;
  return AF_OK;
}

bool codemem_is_sealed(const codemem *m, const void *p) {
  const uint8_t *q = p;
  for (size_t i = 0; i < m->nbatches; i++) {
    const batch *b = &m->batches[i];
    if (q >= b->base && q < b->base + b->size) return b->sealed;
  }
  return false;
}

size_t codemem_nbatches(const codemem *m) { return m->nbatches; }

void codemem_free(codemem *m) {
  if (!m) return;
  for (size_t i = 0; i < m->nbatches; i++)
    munmap(m->batches[i].base, m->batches[i].size);
  free(m->batches);
  free(m);
}
