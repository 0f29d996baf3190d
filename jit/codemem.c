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
  bool stage_lent; /* stage is the caller's memory (codemem_stage_lend) until the seal */
  bool in_storage; /* made by codemem_new_in: the caller's memory, not freed */
  /* batches starts here: a compile fills one batch, and a realloc and a free per compile
   * were a tenth of codemem's own cost */
  batch first[2];
};

/* The page size, asked once per process (sysconf per compile was a tenth of codemem_new). */
static size_t page_size(void) {
  static _Atomic size_t page;
  size_t pg = atomic_load_explicit(&page, memory_order_relaxed);
  if (!pg) {
    long p = sysconf(_SC_PAGESIZE);
    pg = p > 0 ? (size_t)p : 4096;
    atomic_store_explicit(&page, pg, memory_order_relaxed);
  }
  return pg;
}

_Static_assert(sizeof(struct codemem) <= sizeof(codemem_storage), "codemem_storage too small");

/* codemem_new_mode in st, or (st NULL) in a calloc'ed codemem. */
static af_status new_codemem(codemem **out, codemem_storage *st, size_t batch_size,
                             codemem_mode mode) {
  *out = NULL;
  pthread_once(&fork_once, fork_register);
  if (mode == CODEMEM_DEFAULT) mode = default_mode();
  if (mode == CODEMEM_DUAL && !dual_works()) return AF_ERR_UNSUPPORTED;
  if (mode != CODEMEM_DUAL && mode != CODEMEM_FLIP) return AF_ERR_INVALID;
  codemem *m = st ? (codemem *)(void *)st : calloc(1, sizeof *m);
  if (!m) return AF_ERR_NOMEM;
  if (st) memset(m, 0, sizeof *m);
  m->in_storage = st != NULL;
  m->page = page_size();
  m->batches = m->first, m->cap = sizeof m->first / sizeof *m->first;
  m->mode = mode;
  m->batch_size = batch_size ? batch_size : 64 * 1024;
  m->batch_size = (m->batch_size + m->page - 1) / m->page * m->page;
  *out = m;
  return AF_OK;
}

af_status codemem_new_mode(codemem **out, size_t batch_size, codemem_mode mode) {
  return new_codemem(out, NULL, batch_size, mode);
}

af_status codemem_new(codemem **out, size_t batch_size) {
  return new_codemem(out, NULL, batch_size, CODEMEM_DEFAULT);
}

af_status codemem_new_in(codemem **out, codemem_storage *st, size_t batch_size, codemem_mode mode) {
  return new_codemem(out, st, batch_size, mode);
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
    size_t cap = 2 * m->cap;
    batch *p =
        m->batches == m->first ? malloc(cap * sizeof *p) : realloc(m->batches, cap * sizeof *p);
    if (!p) return AF_ERR_NOMEM;
    if (m->batches == m->first) memcpy(p, m->first, sizeof m->first);
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

/* Room for n more bytes in the stage. Growing keeps all of the old stage, past stage_len too
 * (codemem_next's caller writes there before codemem_add). */
static af_status stage_reserve(codemem *m, size_t n) {
  if (m->stage_cap - m->stage_len >= n) return AF_OK;
  size_t cap = m->stage_cap ? m->stage_cap : 16 * 1024;
  while (cap - m->stage_len < n)
    cap *= 2;
  uint8_t *p;
  if (m->stage_lent) { /* the lender's memory stays theirs: the stage moves to the heap */
    if ((p = malloc(cap)) && m->stage_cap) memcpy(p, m->stage, m->stage_cap);
  } else {
    p = realloc(m->stage, cap);
  }
  if (!p) return AF_ERR_NOMEM;
  m->stage = p, m->stage_cap = cap, m->stage_lent = false;
  return AF_OK;
}

void codemem_stage_lend(codemem *m, uint8_t *mem, size_t cap) {
  if (m->stage_len || !mem) return; /* something staged: keep the stage it is in */
  if (!m->stage_lent) free(m->stage);
  m->stage = mem, m->stage_cap = cap, m->stage_lent = true;
}

af_status codemem_next(codemem *m, size_t want, uint8_t **p, size_t *room) {
  *p = NULL, *room = 0;
  if (want > SIZE_MAX / 4) return AF_ERR_LIMIT;
  /* codemem_add's choice for code that fits: the open batch's next 16-byte boundary, else a
   * fresh batch whose image starts at the end of the stage */
  const batch *b = open_batch(m);
  size_t at = b ? (b->used + CODEMEM_ALIGN - 1) & ~(size_t)(CODEMEM_ALIGN - 1) : 0;
  size_t pos = b && at < b->size ? b->img + at : m->stage_len;
  af_status s = stage_reserve(m, pos - m->stage_len + want);
  if (s != AF_OK) return s;
  *p = m->stage + pos, *room = m->stage_cap - pos;
  return AF_OK;
}

af_status codemem_add(codemem *m, const void *code, size_t size, void **where) {
  *where = NULL;
  if (size > SIZE_MAX / 4) return AF_ERR_LIMIT;
  /* code already in the stage (codemem_next): found again by offset, the stage may move */
  const uint8_t *src = code;
  size_t in_stage = SIZE_MAX;
  if (m->stage && src >= m->stage && src < m->stage + m->stage_cap)
    in_stage = (size_t)(src - m->stage);
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
  if (in_stage == SIZE_MAX)
    memcpy(img + at, code, size);
  else if (m->stage + in_stage != img + at) /* written where a fresh batch did not put it */
    memmove(img + at, m->stage + in_stage, size);
  /* the alignment gap (< 16 bytes): int3, as in the batch (inline: a memset call per function
   * cost more than the bytes) */
  _Static_assert(CODEMEM_ALIGN == 16, "the gap fill below writes at most 15 bytes");
  uint8_t *gap = img + b->used;
  size_t ng = at - b->used;
  if (ng & 8) memcpy(gap, "\xCC\xCC\xCC\xCC\xCC\xCC\xCC\xCC", 8), gap += 8;
  if (ng & 4) memcpy(gap, "\xCC\xCC\xCC\xCC", 4), gap += 4;
  if (ng & 2) memcpy(gap, "\xCC\xCC", 2), gap += 2;
  if (ng & 1) *gap = 0xCC;
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
  if (m->stage_lent) /* the lender's memory goes back */
    m->stage = NULL, m->stage_cap = 0, m->stage_lent = false;
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
  if (m->batches != m->first) free(m->batches);
  if (!m->stage_lent) free(m->stage);
  if (!m->in_storage) free(m);
}
