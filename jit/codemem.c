/* codemem.c - W^X executable memory: mmap RW batches, mprotect them R+X when sealed. */
#define _DEFAULT_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "codemem.h"
#include "jit.h"

typedef struct {
  uint8_t *base;
  size_t size; /* mapped bytes, a multiple of the page size */
  bool sealed;
  int live;    /* index in the process-wide table of sealed code (below), -1 if not in it */
  size_t high; /* bytes from base that may hold something else than int3 (past it: int3) */
  size_t used; /* bytes from base handed out (the end of its last allocation) */
} batch;

/* ---- every sealed batch of every codemem in the process: af_jit_addr_is_code ------------ */
/* A crash handler (SIGSEGV, SIGALRM) asks whether a fault address, RIP or return address is
 * JIT code. It may interrupt anything, including a codemem call on another thread, so the
 * lookup takes no lock and allocates nothing: a fixed table of [start, end) ranges, each
 * slot guarded by a sequence number (odd while its owner writes it; a reader that sees it
 * odd or changed reads again). Only the thread that claimed a slot writes it until it
 * releases it. One slot per sealed batch: a worker holds a few compiled cases at a time.
 * When the table is full, a sealed batch stays out of it and is counted in `unlisted`; while
 * any is, an address found in no slot is "unknown" (-1), not "not code" (0). */
#define LIVE_SLOTS 1024
typedef struct {
  _Atomic uint64_t seq;
  _Atomic uintptr_t start, end;
} live_slot;
static live_slot live_tab[LIVE_SLOTS];
static _Atomic int live_unlisted;

/* The slot now holding [start, end), or -1 when the table is full. */
static int live_add(uintptr_t start, uintptr_t end) {
  for (int i = 0; i < LIVE_SLOTS; i++) {
    live_slot *s = &live_tab[i];
    uint64_t q = atomic_load_explicit(&s->seq, memory_order_acquire);
    if ((q & 1) || atomic_load_explicit(&s->end, memory_order_relaxed) != 0) continue;
    if (!atomic_compare_exchange_strong(&s->seq, &q, q + 1)) continue; /* someone else's */
    atomic_store_explicit(&s->start, start, memory_order_relaxed);
    atomic_store_explicit(&s->end, end, memory_order_relaxed);
    atomic_store_explicit(&s->seq, q + 2, memory_order_release);
    return i;
  }
  atomic_fetch_add(&live_unlisted, 1);
  return -1;
}

static void live_remove(int i) {
  if (i < 0) {
    atomic_fetch_sub(&live_unlisted, 1);
    return;
  }
  live_slot *s = &live_tab[i];
  uint64_t q = atomic_load_explicit(&s->seq, memory_order_relaxed);
  atomic_store_explicit(&s->seq, q + 1, memory_order_relaxed);
  atomic_thread_fence(memory_order_release);
  atomic_store_explicit(&s->start, 0, memory_order_relaxed);
  atomic_store_explicit(&s->end, 0, memory_order_relaxed); /* end 0: the slot is free */
  atomic_store_explicit(&s->seq, q + 2, memory_order_release);
}

int af_jit_addr_is_code(const void *addr) {
  uintptr_t a = (uintptr_t)addr;
  int torn = 0;
  for (int i = 0; i < LIVE_SLOTS; i++) {
    live_slot *s = &live_tab[i];
    int tries = 0;
    for (;;) {
      uint64_t q1 = atomic_load_explicit(&s->seq, memory_order_acquire);
      uintptr_t lo = atomic_load_explicit(&s->start, memory_order_relaxed);
      uintptr_t hi = atomic_load_explicit(&s->end, memory_order_relaxed);
      atomic_thread_fence(memory_order_acquire);
      uint64_t q2 = atomic_load_explicit(&s->seq, memory_order_relaxed);
      if (!(q1 & 1) && q1 == q2) {
        if (a >= lo && a < hi) return 1;
        break;
      }
      /* being written right now: by another thread (it finishes soon) or by the very code
       * this handler interrupted (it never will): a bounded retry, then "unknown" */
      if (++tries == 1000) {
        torn = 1;
        break;
      }
    }
  }
  return torn || atomic_load(&live_unlisted) > 0 ? -1 : 0;
}

/* ---- the process's pool of unused batches ------------------------------------------------ *
 * A worker compiles a case per leg per case (thousands a second), each into a fresh batch:
 * mmap, 16 page faults and a 64 KiB int3 fill, mprotect, munmap. Freed batches are kept
 * instead, made read+write again (never executable while in the pool: a stale pointer into
 * freed code still faults), and handed to the next codemem that needs a batch of that size: a
 * compile then costs two mprotect flips (RW while written, RX once sealed), never W and X at
 * once. A pooled batch keeps the old code below its `high` mark: the next owner overwrites most
 * of it with its own, and int3-fills the rest (alignment gaps as it allocates, the stale tail
 * when it seals), so that a sealed batch holds, as a fresh one, int3 wherever no code was put
 * (refilling the whole used part at every free was ~10 k instructions a compile). The pool
 * holds at most POOL_MAX batches; beyond that they are unmapped. A mutex guards it (backends
 * compile in threads); af_jit_addr_is_code never looks at it. */
#define POOL_MAX 32
static struct {
  pthread_mutex_t lock;
  int n;
  struct {
    uint8_t *base;
    size_t size, high;
  } b[POOL_MAX];
} pool = {PTHREAD_MUTEX_INITIALIZER, 0, {{0, 0, 0}}};

/* A pooled batch of exactly `size` bytes (read+write, int3 from *high on), or NULL. */
static uint8_t *pool_take(size_t size, size_t *high) {
  uint8_t *p = NULL;
  pthread_mutex_lock(&pool.lock);
  for (int i = pool.n - 1; i >= 0 && !p; i--)
    if (pool.b[i].size == size) {
      p = pool.b[i].base;
      *high = pool.b[i].high;
      pool.b[i] = pool.b[--pool.n];
    }
  pthread_mutex_unlock(&pool.lock);
  return p;
}

/* Returns a batch no longer in the live table to the pool, or unmaps it. */
static void pool_give(batch *b) {
  if (b->sealed && mprotect(b->base, b->size, PROT_READ | PROT_WRITE) != 0) {
    munmap(b->base, b->size);
    return;
  }
  pthread_mutex_lock(&pool.lock);
  int kept = pool.n < POOL_MAX;
  if (kept)
    pool.b[pool.n].base = b->base, pool.b[pool.n].high = b->high, pool.b[pool.n++].size = b->size;
  pthread_mutex_unlock(&pool.lock);
  if (!kept) munmap(b->base, b->size);
}

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
  size_t high = 0;
  void *p = pool_take(size, &high);
  if (!p) {
    p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return AF_ERR_NOMEM;
    memset(p, 0xCC, size); /* int3: a stray jump into the tail traps */
  }
  m->batches[m->nbatches++] =
      (batch){.base = p, .size = size, .sealed = false, .live = -1, .high = high, .used = 0};
  m->used = 0;
  return AF_OK;
}

/* size bytes at a 16-byte boundary of the open batch (a new one if needed); the alignment gap
 * before them int3 (a pooled batch may hold old code there), and the bytes themselves too when
 * `fill` (codemem_alloc: its caller may write fewer; codemem_add writes them all). */
static af_status alloc_at(codemem *m, size_t size, void **where, int fill) {
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
  if (at > m->used && m->used < b->high) memset(b->base + m->used, 0xCC, at - m->used);
  if (fill && at < b->high)
    memset(b->base + at, 0xCC, (b->high < at + size ? b->high : at + size) - at);
  b->used = m->used = at + size;
  if (m->used > b->high) b->high = m->used;
  *where = b->base + at;
  return AF_OK;
}

af_status codemem_alloc(codemem *m, size_t size, void **where) {
  return alloc_at(m, size, where, 1);
}

af_status codemem_add(codemem *m, const void *code, size_t size, void **where) {
  af_status s = alloc_at(m, size, where, 0);
  if (s == AF_OK) memcpy(*where, code, size);
  return s;
}

af_status codemem_seal(codemem *m) {
  /* Every batch not sealed yet: the open one, and any an allocation left behind when it did
   * not fit (only sealing the last one left those read+write, their code never executable). */
  for (size_t i = 0; i < m->nbatches; i++) {
    batch *b = &m->batches[i];
    if (b->sealed) continue;
    /* a pooled batch's old code past ours: int3, as in a fresh batch */
    if (b->high > b->used) memset(b->base + b->used, 0xCC, b->high - b->used);
    b->high = b->used;
    /* One mprotect per batch: RW -> RX. The batch is never made writable again. */
    if (mprotect(b->base, b->size, PROT_READ | PROT_EXEC) != 0) return AF_ERR_RUNTIME;
    b->sealed = true;
    b->live = live_add((uintptr_t)b->base, (uintptr_t)b->base + b->size);
  }
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
  for (size_t i = 0; i < m->nbatches; i++) {
    /* out of the table before the pages go: the address may be reused at once */
    if (m->batches[i].sealed) live_remove(m->batches[i].live);
    pool_give(&m->batches[i]);
  }
  free(m->batches);
  free(m);
}
