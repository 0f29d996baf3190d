/* codemem.c - W^X executable memory: staged code, dual RW/RX memfd mappings or mprotect flips. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "codemem.h"
#include "jit.h"

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h> /* RUNNING_ON_VALGRIND: a header-only client request */
#define CODEMEM_HAVE_VALGRIND_H 1
#endif
#endif

typedef struct {
  uint8_t *base; /* where the code runs */
  uint8_t *rw;   /* where codemem writes it: DUAL the second mapping, FLIP base itself */
  size_t size;   /* mapped bytes, a multiple of the page size */
  codemem_mode mode;
  bool sealed;
  int live;     /* index in the process-wide table of sealed code (below), -1 if not in it */
  unsigned gen; /* the fork generation it was mapped in (DUAL: see fork below) */
  size_t used;  /* bytes from base handed out (the end of its last allocation) */
  size_t img;   /* until sealed: where its image starts in the codemem's stage */
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
 * mmap, 16 page faults, a 64 KiB int3 fill, munmap. Freed batches are kept instead, int3 over
 * the bytes their code used (a stale pointer into freed code traps: DUAL at an int3, FLIP on
 * the page, which is read+write, never executable, while pooled), and handed to the next
 * codemem that needs a batch of that size and mode. The pool holds at most POOL_MAX batches;
 * beyond that they are unmapped. A mutex guards it (backends compile in threads);
 * af_jit_addr_is_code never looks at it. */
#define POOL_MAX 32
typedef struct {
  uint8_t *base, *rw;
  size_t size;
  codemem_mode mode;
} pooled;
static struct {
  pthread_mutex_t lock;
  int n;
  pooled b[POOL_MAX];
} pool = {PTHREAD_MUTEX_INITIALIZER, 0, {{0, 0, 0, 0}}};

/* ---- fork ---------------------------------------------------------------------------------- *
 * A DUAL batch is a shared mapping: after fork() parent and child map the same pages, and a
 * write by either would change the other's code (a FLIP batch is private: copy-on-write keeps
 * them apart). So after a fork neither writes again to a DUAL batch mapped before it: the
 * generation counts forks; the child drops its pooled DUAL batches (the parent keeps its own:
 * the child no longer maps them), and a batch of an older generation is unmapped when freed,
 * never pooled, and if still open at the seal is first replaced, at the same address, by a
 * private FLIP mapping. */
static _Atomic unsigned fork_gen;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void unmap_batch(uint8_t *base, uint8_t *rw, size_t size, codemem_mode mode) {
  munmap(base, size);
  if (mode == CODEMEM_DUAL) munmap(rw, size);
}

static void fork_prepare(void) { pthread_mutex_lock(&pool.lock); }
static void fork_parent(void) {
  atomic_fetch_add(&fork_gen, 1);
  pthread_mutex_unlock(&pool.lock);
}
static void fork_child(void) {
  atomic_fetch_add(&fork_gen, 1);
  int k = 0;
  for (int i = 0; i < pool.n; i++) {
    pooled *p = &pool.b[i];
    if (p->mode == CODEMEM_DUAL)
      unmap_batch(p->base, p->rw, p->size, p->mode);
    else
      pool.b[k++] = *p;
  }
  pool.n = k;
  pthread_mutex_unlock(&pool.lock);
}
static void fork_register(void) { pthread_atfork(fork_prepare, fork_parent, fork_child); }

/* A pooled batch of exactly `size` bytes and mode `mode` (all int3), or 0. */
static int pool_take(size_t size, codemem_mode mode, pooled *out) {
  int got = 0;
  pthread_mutex_lock(&pool.lock);
  for (int i = pool.n - 1; i >= 0 && !got; i--)
    if (pool.b[i].size == size && pool.b[i].mode == mode) {
      *out = pool.b[i];
      pool.b[i] = pool.b[--pool.n];
      got = 1;
    }
  pthread_mutex_unlock(&pool.lock);
  return got;
}

/* Gives back a batch no longer in the live table: int3 over its code, then to the pool (or
 * unmapped when the pool is full, or when it is a DUAL batch from before a fork). */
static void pool_give(batch *b) {
  if (b->mode == CODEMEM_DUAL && b->gen != atomic_load(&fork_gen)) {
    unmap_batch(b->base, b->rw, b->size, b->mode);
    return;
  }
  if (b->sealed) { /* an unsealed batch was never written: still all int3 */
    if (b->mode == CODEMEM_FLIP && mprotect(b->base, b->size, PROT_READ | PROT_WRITE) != 0) {
      munmap(b->base, b->size);
      return;
    }
    memset(b->rw, 0xCC, b->used);
  }
  pthread_mutex_lock(&pool.lock);
  int kept = pool.n < POOL_MAX;
  if (kept) pool.b[pool.n++] = (pooled){b->base, b->rw, b->size, b->mode};
  pthread_mutex_unlock(&pool.lock);
  if (!kept) unmap_batch(b->base, b->rw, b->size, b->mode);
}

/* Whether this process can make DUAL batches (memfd_create works): asked once. */
static int dual_works(void) {
  static _Atomic int known; /* 0 not asked, 1 yes, -1 no */
  int k = atomic_load(&known);
  if (!k) {
    int fd = memfd_create("abifuzz-jit", MFD_CLOEXEC);
    k = fd >= 0 ? 1 : -1;
    if (fd >= 0) close(fd);
    atomic_store(&known, k);
  }
  return k > 0;
}

/* Whether a tracer (gdb, rr, strace) is attached: /proc/self/status TracerPid. */
static int traced(void) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[128];
  long pid = 0;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "TracerPid: %ld", &pid) == 1) break;
  fclose(f);
  return pid != 0;
}

/* Whether the process runs under Valgrind. */
static int under_valgrind(void) {
#ifdef CODEMEM_HAVE_VALGRIND_H
  if (RUNNING_ON_VALGRIND) return 1;
#endif
  const char *pre = getenv("LD_PRELOAD"); /* valgrind preloads its vgpreload_*.so */
  return pre && strstr(pre, "vgpreload") != NULL;
}

/* CODEMEM_DEFAULT's mode, decided once per process. DUAL unless memfd_create fails, or:
 * - a debugger is attached: it plants breakpoints by writing through ptrace, which Linux
 *   refuses on a read-only shared mapping (FLIP's are private: copy-on-write);
 * - Valgrind runs the process: it retranslates code it sees changed by mprotect or munmap, not
 *   code rewritten through another mapping, and a pooled batch gets new code at old addresses;
 * - the environment says ABIFUZZ_CODEMEM=flip (or =dual, which skips the two checks above). */
static codemem_mode default_mode(void) {
  static _Atomic int mode; /* 0 not decided yet, else a codemem_mode */
  int md = atomic_load(&mode);
  if (!md) {
    const char *env = getenv("ABIFUZZ_CODEMEM");
    if (!dual_works() || (env && !strcmp(env, "flip")))
      md = CODEMEM_FLIP;
    else if (env && !strcmp(env, "dual"))
      md = CODEMEM_DUAL;
    else
      md = traced() || under_valgrind() ? CODEMEM_FLIP : CODEMEM_DUAL;
    atomic_store(&mode, md);
  }
  return (codemem_mode)md;
}

struct codemem {
  size_t batch_size, page;
  codemem_mode mode;
  batch *batches;
  size_t nbatches, cap;
  /* the images of the batches not sealed yet, one after the other, the open one last: code is
   * copied in place only by the seal */
  uint8_t *stage;
  size_t stage_len, stage_cap;
};

af_status codemem_new_mode(codemem **out, size_t batch_size, codemem_mode mode) {
  *out = NULL;
  pthread_once(&fork_once, fork_register);
  if (mode == CODEMEM_DEFAULT) mode = default_mode();
  if (mode == CODEMEM_DUAL && !dual_works()) return AF_ERR_UNSUPPORTED;
  if (mode != CODEMEM_DUAL && mode != CODEMEM_FLIP) return AF_ERR_INVALID;
  codemem *m = calloc(1, sizeof *m);
  if (!m) return AF_ERR_NOMEM;
  long pg = sysconf(_SC_PAGESIZE);
  m->page = pg > 0 ? (size_t)pg : 4096;
  m->mode = mode;
  m->batch_size = batch_size ? batch_size : 64 * 1024;
  m->batch_size = (m->batch_size + m->page - 1) / m->page * m->page;
  *out = m;
  return AF_OK;
}

af_status codemem_new(codemem **out, size_t batch_size) {
  return codemem_new_mode(out, batch_size, CODEMEM_DEFAULT);
}

codemem_mode codemem_get_mode(const codemem *m) { return m->mode; }

static batch *open_batch(codemem *m) {
  return m->nbatches && !m->batches[m->nbatches - 1].sealed ? &m->batches[m->nbatches - 1] : NULL;
}

/* A fresh mapping of size bytes, all int3: DUAL a memfd mapped read+execute (*base) and
 * read+write (*rw); FLIP one private read+write mapping (both). AF_ERR_NOMEM if not. */
static af_status map_batch(size_t size, codemem_mode mode, uint8_t **base, uint8_t **rw) {
  if (mode == CODEMEM_FLIP) {
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return AF_ERR_NOMEM;
    *base = *rw = p;
  } else {
    int fd = memfd_create("abifuzz-jit", MFD_CLOEXEC);
    if (fd < 0) return AF_ERR_NOMEM;
    void *x = MAP_FAILED, *w = MAP_FAILED;
    if (ftruncate(fd, (off_t)size) == 0) {
      x = mmap(NULL, size, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
      w = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    }
    close(fd); /* the mappings keep the file */
    if (x == MAP_FAILED || w == MAP_FAILED) {
      if (x != MAP_FAILED) munmap(x, size);
      if (w != MAP_FAILED) munmap(w, size);
      return AF_ERR_NOMEM;
    }
    *base = x, *rw = w;
  }
  memset(*rw, 0xCC, size); /* int3: a stray jump into the tail traps */
  return AF_OK;
}

static af_status new_batch(codemem *m, size_t need) {
  if (m->nbatches == m->cap) {
    size_t cap = m->cap ? 2 * m->cap : 8;
    batch *p = realloc(m->batches, cap * sizeof *p);
    if (!p) return AF_ERR_NOMEM;
    m->batches = p, m->cap = cap;
  }
  size_t size = need > m->batch_size ? (need + m->page - 1) / m->page * m->page : m->batch_size;
  pooled p;
  if (!pool_take(size, m->mode, &p)) {
    af_status s = map_batch(size, m->mode, &p.base, &p.rw);
    if (s != AF_OK) return s;
  }
  m->batches[m->nbatches++] = (batch){.base = p.base,
                                      .rw = p.rw,
                                      .size = size,
                                      .mode = m->mode,
                                      .sealed = false,
                                      .live = -1,
                                      .gen = atomic_load(&fork_gen),
                                      .used = 0,
                                      .img = m->stage_len};
  return AF_OK;
}

/* Room for n more bytes in the stage. */
static af_status stage_reserve(codemem *m, size_t n) {
  if (m->stage_cap - m->stage_len >= n) return AF_OK;
  size_t cap = m->stage_cap ? m->stage_cap : 16 * 1024;
  while (cap - m->stage_len < n)
    cap *= 2;
  uint8_t *p = realloc(m->stage, cap);
  if (!p) return AF_ERR_NOMEM;
  m->stage = p, m->stage_cap = cap;
  return AF_OK;
}

af_status codemem_add(codemem *m, const void *code, size_t size, void **where) {
  *where = NULL;
  if (size > SIZE_MAX / 4) return AF_ERR_LIMIT;
  batch *b = open_batch(m);
  size_t at = b ? (b->used + CODEMEM_ALIGN - 1) & ~(size_t)(CODEMEM_ALIGN - 1) : 0;
  if (!b || at + size > b->size) {
    af_status s = new_batch(m, size);
    if (s != AF_OK) return s;
    b = open_batch(m);
    at = 0;
  }
  af_status s = stage_reserve(m, at - b->used + size);
  if (s != AF_OK) return s;
  uint8_t *img = m->stage + b->img;
  memset(img + b->used, 0xCC, at - b->used); /* the alignment gap: int3, as in the batch */
  memcpy(img + at, code, size);
  b->used = at + size;
  m->stage_len = b->img + b->used;
  *where = b->base + at;
  return AF_OK;
}

/* A DUAL batch mapped before a fork, still open: the same address becomes a private FLIP
 * mapping (the shared pages are the other process's too). */
static af_status privatize(batch *b) {
  void *p = mmap(b->base, b->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                 -1, 0);
  if (p == MAP_FAILED) return AF_ERR_RUNTIME;
  munmap(b->rw, b->size);
  memset(p, 0xCC, b->size);
  b->rw = b->base;
  b->mode = CODEMEM_FLIP;
  return AF_OK;
}

af_status codemem_seal(codemem *m) {
  /* Every batch not sealed yet: the open one, and any an allocation left behind when it did
   * not fit (only sealing the last one would leave those without their code). */
  for (size_t i = 0; i < m->nbatches; i++) {
    batch *b = &m->batches[i];
    if (b->sealed) continue;
    if (b->mode == CODEMEM_DUAL && b->gen != atomic_load(&fork_gen) && privatize(b) != AF_OK)
      return AF_ERR_RUNTIME;
    memcpy(b->rw, m->stage + b->img, b->used);
    /* FLIP: one mprotect per batch, RW -> RX; DUAL: the code is already where it runs */
    if (b->mode == CODEMEM_FLIP && mprotect(b->base, b->size, PROT_READ | PROT_EXEC) != 0)
      return AF_ERR_RUNTIME;
    b->sealed = true;
    b->live = live_add((uintptr_t)b->base, (uintptr_t)b->base + b->size);
  }
  m->stage_len = 0;
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
  free(m->stage);
  free(m);
}
