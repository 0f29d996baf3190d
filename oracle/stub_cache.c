/* stub_cache.c - the stub pool: on-disk content-addressed cache of compiled stubs and the
 * background thread that compiles requested signatures in batches. */
#define _GNU_SOURCE /* mkstemp, pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "oracle.h"

/* On-disk layout (doc/oracle-stubs.md):
 *   DIR/stubs-v1/<name>-<key>/id           compiler path, --version line, flags (information)
 *   DIR/stubs-v1/<name>-<key>/index        "<16 hex hash> <so file>\n" lines, append-only
 *   DIR/stubs-v1/<name>-<key>/b-<hex>.so   one compiler run's stubs
 * key = hash of (compiler path, its --version line, flags). A shared object is written to a
 * temporary name and renamed into place before its index lines are appended (one write() on an
 * O_APPEND descriptor), so a reader that sees a line sees the whole file; a reader only
 * consumes complete lines, so a line being appended is read on the next look. */

#define STUB_FORMAT "stubs-v1"

enum { E_PENDING, E_DISK, E_READY, E_FAILED };

typedef struct {
  uint64_t hash;
  int state;
  int so;     /* index in pool->sos, -1 none */
  int taken;  /* the thread is working on it */
  char *text; /* pending: the stub text */
  size_t len;
  int avx;
  af_stub_syms syms;
} entry;

typedef struct {
  char name[64];
  void *handle;
} so_file;

struct af_stub_pool {
  char cc[256], name[32], flags[256], dir[640];
  af_family family;
  int major;
  int cache_ok; /* dir usable */
  int has_f16;  /* the compiler knows _Float16 (oracle.h: clang >= 15, gcc >= 12) */
  pthread_mutex_t mu;
  pthread_cond_t cv_work, cv_done;
  entry **ents; /* each allocated alone: a pointer to an entry stays valid */
  int nents, cap_ents;
  int *table; /* open addressing: entry index + 1, 0 empty */
  int cap_table;
  uint64_t *queue; /* pending hashes, FIFO */
  int nqueue, cap_queue;
  so_file *sos;
  int nsos, cap_sos;
  long index_off;
  int max_pending, batch_max, wait_ms;
  af_stub_stats st;
  pthread_t th;
  int th_started, stop;
};

/* ---- small helpers ---- */
static uint64_t fnv(const void *p, size_t n, uint64_t h) {
  const uint8_t *s = p;
  for (size_t i = 0; i < n; i++) {
    h ^= s[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int mkdir_p(const char *path) {
  char b[640];
  snprintf(b, sizeof b, "%s", path);
  for (char *s = b + 1; *s; s++) {
    if (*s != '/') continue;
    *s = 0;
    if (mkdir(b, 0755) != 0 && errno != EEXIST) return -1;
    *s = '/';
  }
  return mkdir(b, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

void af_stub_cache_default_dir(char *buf, size_t n) {
  const char *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
  if (x && *x)
    snprintf(buf, n, "%s/abifuzz", x);
  else if (h && *h)
    snprintf(buf, n, "%s/.cache/abifuzz", h);
  else
    snprintf(buf, n, "/tmp/abifuzz-cache");
}

/* The first line `cc --version` prints. */
static int version_line(const char *cc, char *buf, size_t n) {
  int fd[2];
  if (pipe2(fd, O_CLOEXEC) != 0) return -1;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fd[1], 1);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  char *argv[] = {(char *)cc, "--version", NULL};
  extern char **environ;
  pid_t pid;
  int r = posix_spawnp(&pid, cc, &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(fd[1]);
  if (r != 0) {
    close(fd[0]);
    return -1;
  }
  size_t k = 0;
  ssize_t got;
  while (k + 1 < n && (got = read(fd[0], buf + k, n - 1 - k)) > 0)
    k += (size_t)got;
  char sink[256];
  while (read(fd[0], sink, sizeof sink) > 0) {
  }
  close(fd[0]);
  buf[k] = 0;
  char *nl = strchr(buf, '\n');
  if (nl) *nl = 0;
  int st;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(st) && WEXITSTATUS(st) == 0 && k ? 0 : -1;
}

/* ---- the table (callers hold mu) ---- */
static entry *find(af_stub_pool *p, uint64_t h) {
  if (!p->cap_table) return NULL;
  for (int i = (int)(h & (uint64_t)(p->cap_table - 1));; i = (i + 1) & (p->cap_table - 1)) {
    int e = p->table[i];
    if (!e) return NULL;
    if (p->ents[e - 1]->hash == h) return p->ents[e - 1];
  }
}

static void table_put(af_stub_pool *p, int idx) {
  uint64_t h = p->ents[idx]->hash;
  int i = (int)(h & (uint64_t)(p->cap_table - 1));
  while (p->table[i])
    i = (i + 1) & (p->cap_table - 1);
  p->table[i] = idx + 1;
}

static entry *add(af_stub_pool *p, uint64_t h) {
  if (p->nents + 1 > p->cap_table / 2) {
    int nc = p->cap_table ? p->cap_table * 2 : 1024;
    int *t = calloc((size_t)nc, sizeof *t);
    if (!t) return NULL;
    free(p->table);
    p->table = t;
    p->cap_table = nc;
    for (int i = 0; i < p->nents; i++)
      table_put(p, i);
  }
  if (p->nents == p->cap_ents) {
    int nc = p->cap_ents ? p->cap_ents * 2 : 512;
    entry **es = realloc(p->ents, (size_t)nc * sizeof *es);
    if (!es) return NULL;
    p->ents = es;
    p->cap_ents = nc;
  }
  entry *e = calloc(1, sizeof *e);
  if (!e) return NULL;
  p->ents[p->nents] = e;
  e->hash = h;
  e->so = -1;
  table_put(p, p->nents++);
  return e;
}

static int so_index(af_stub_pool *p, const char *name) {
  for (int i = 0; i < p->nsos; i++)
    if (!strcmp(p->sos[i].name, name)) return i;
  if (p->nsos == p->cap_sos) {
    int nc = p->cap_sos ? p->cap_sos * 2 : 16;
    so_file *s = realloc(p->sos, (size_t)nc * sizeof *s);
    if (!s) return -1;
    p->sos = s;
    p->cap_sos = nc;
  }
  so_file *s = &p->sos[p->nsos];
  snprintf(s->name, sizeof s->name, "%s", name);
  s->handle = NULL;
  return p->nsos++;
}

/* Reads the index lines appended since the last look (by any process). */
static void reread_index(af_stub_pool *p) {
  if (!p->cache_ok) return;
  char path[700];
  snprintf(path, sizeof path, "%s/index", p->dir);
  FILE *f = fopen(path, "rb");
  if (!f) return;
  if (fseek(f, p->index_off, SEEK_SET) != 0) {
    fclose(f);
    return;
  }
  char line[160];
  long off = p->index_off;
  while (fgets(line, sizeof line, f)) {
    size_t n = strlen(line);
    if (!n || line[n - 1] != '\n') break; /* still being appended: next time */
    off += (long)n;
    char so[64];
    unsigned long long h;
    if (sscanf(line, "%16llx %63s", &h, so) != 2) continue;
    entry *e = find(p, h);
    if (e && (e->state == E_READY || e->state == E_DISK || e->so >= 0)) continue;
    if (!e) e = add(p, h);
    if (!e) break;
    e->so = so_index(p, so);
    if (e->state != E_PENDING) e->state = E_DISK;
  }
  p->index_off = off;
  fclose(f);
}

/* Loads e's shared object and symbols (holding mu). 0 ok. */
static int load(af_stub_pool *p, entry *e) {
  if (e->so < 0) return -1;
  so_file *s = &p->sos[e->so];
  if (!s->handle) {
    char path[760];
    snprintf(path, sizeof path, "%s/%s", p->dir, s->name);
    if (af_cc_dlopen(path, &s->handle, NULL) != AF_OK) return -1;
  }
  char name[64];
  snprintf(name, sizeof name, "s%016" PRIx64 "_call", e->hash);
  void *call = af_cc_dlsym(s->handle, name);
  snprintf(name, sizeof name, "s%016" PRIx64 "_callee", e->hash);
  void *callee = af_cc_dlsym(s->handle, name);
  snprintf(name, sizeof name, "s%016" PRIx64 "_ctx", e->hash);
  void *ctx = af_cc_dlsym(s->handle, name);
  if (!call || !callee || !ctx) return -1;
  memcpy(&e->syms.call, &call, sizeof call); /* object -> function pointer (POSIX dlsym) */
  e->syms.callee = callee;
  e->syms.ctx = ctx;
  e->state = E_READY;
  free(e->text);
  e->text = NULL;
  return 0;
}

/* ---- compiling ---- */
/* Copies the built .so into the cache as b-<hex>.so (temporary name, then rename). */
static int publish_so(af_stub_pool *p, const char *tmp_so, const char *name) {
  char tmp[720], dst[720];
  snprintf(tmp, sizeof tmp, "%s/.tmp-XXXXXX", p->dir);
  snprintf(dst, sizeof dst, "%s/%s", p->dir, name);
  int out = mkstemp(tmp);
  if (out < 0) return -1;
  int in = open(tmp_so, O_RDONLY | O_CLOEXEC);
  int ok = in >= 0;
  char buf[65536];
  ssize_t n;
  while (ok && (n = read(in, buf, sizeof buf)) > 0)
    ok = write(out, buf, (size_t)n) == n;
  if (in >= 0) close(in);
  ok &= fchmod(out, 0644) == 0;
  ok &= close(out) == 0;
  if (ok) ok = rename(tmp, dst) == 0;
  if (!ok) unlink(tmp);
  return ok ? 0 : -1;
}

static void append_index(af_stub_pool *p, entry **items, int n, const char *so) {
  char path[700];
  snprintf(path, sizeof path, "%s/index", p->dir);
  size_t cap = (size_t)n * 96 + 1, k = 0;
  char *b = malloc(cap);
  if (!b) return;
  for (int i = 0; i < n; i++)
    k += (size_t)snprintf(b + k, cap - k, "%016" PRIx64 " %s\n", items[i]->hash, so);
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd >= 0) {
    if (write(fd, b, k) != (ssize_t)k) { /* a short append leaves a torn line: readers skip */
    }
    close(fd);
  }
  free(b);
}

/* Compiles items[0..n) (texts owned by the entries; the thread has them `taken`) into one
 * shared object; on failure, halves until the refused signatures are alone. Called without mu. */
static void compile_items(af_stub_pool *p, entry **items, int n) {
  char *src = NULL;
  size_t len = 0;
  int avx = 0;
  FILE *m = open_memstream(&src, &len);
  if (!m) { /* out of memory: refused, rather than pending for ever */
    pthread_mutex_lock(&p->mu);
    for (int i = 0; i < n; i++) {
      items[i]->state = E_FAILED;
      items[i]->taken = 0;
    }
    pthread_cond_broadcast(&p->cv_done);
    pthread_mutex_unlock(&p->mu);
    return;
  }
  af_stub_prelude(m);
  uint64_t bh = 0xcbf29ce484222325ull;
  for (int i = 0; i < n; i++) {
    fwrite(items[i]->text, 1, items[i]->len, m);
    bh = fnv(&items[i]->hash, sizeof items[i]->hash, bh);
    avx |= items[i]->avx;
  }
  fclose(m);
  char flags[400], so[512];
  snprintf(flags, sizeof flags, "%s%s", p->flags, avx ? " -mavx" : "");
  af_error err = {{0}};
  double t0 = now_s();
  af_status s = af_cc_build_so(p->cc, flags, src, len, so, sizeof so, &err);
  double dt = now_s() - t0;
  free(src);
  pthread_mutex_lock(&p->mu);
  p->st.runs++;
  p->st.compile_s += dt;
  pthread_mutex_unlock(&p->mu);
  if (s != AF_OK) {
    if (n == 1) {
      pthread_mutex_lock(&p->mu);
      items[0]->state = E_FAILED;
      items[0]->taken = 0;
      free(items[0]->text);
      items[0]->text = NULL;
      p->st.failed++;
      pthread_cond_broadcast(&p->cv_done);
      pthread_mutex_unlock(&p->mu);
      return;
    }
    compile_items(p, items, n / 2);
    compile_items(p, items + n / 2, n - n / 2);
    return;
  }
  char name[64];
  snprintf(name, sizeof name, "b-%016" PRIx64 ".so", bh);
  void *direct = NULL; /* no usable cache: load from the temporary directory */
  int cached = p->cache_ok && publish_so(p, so, name) == 0;
  if (cached)
    append_index(p, items, n, name);
  else
    af_cc_dlopen(so, &direct, NULL);
  af_cc_remove_so(so);
  pthread_mutex_lock(&p->mu);
  int si = so_index(p, name);
  if (si >= 0 && direct && !p->sos[si].handle) p->sos[si].handle = direct;
  for (int i = 0; i < n; i++) {
    entry *e = items[i];
    e->so = si;
    e->taken = 0;
    if (load(p, e) != 0) {
      e->state = E_FAILED;
      p->st.failed++;
      free(e->text);
      e->text = NULL;
    } else {
      p->st.compiled++;
    }
  }
  pthread_cond_broadcast(&p->cv_done);
  pthread_mutex_unlock(&p->mu);
}

/* Claims: before compiling a signature a process creates DIR/claim-<hash> (O_EXCL); a
 * signature another process has claimed is left pending until its line shows in the index,
 * so that concurrent workers do not compile it twice; after claiming, the index is read again
 * (drop_published), since the other process may have published it and dropped its claim in
 * between. A claim older than CLAIM_STALE_S (its process died) is taken over. */
#define CLAIM_STALE_S 120

static void claim_path(const af_stub_pool *p, uint64_t h, char *buf, size_t n) {
  snprintf(buf, n, "%s/claim-%016" PRIx64, p->dir, h);
}

/* 1: ours to compile; 0: another process compiles it. */
static int claim(const af_stub_pool *p, uint64_t h) {
  if (!p->cache_ok) return 1;
  char path[720];
  claim_path(p, h, path, sizeof path);
  for (int tries = 0; tries < 2; tries++) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
      close(fd);
      return 1;
    }
    struct stat st;
    if (errno != EEXIST) return 1; /* cannot claim: compile anyway */
    if (stat(path, &st) == 0 && time(NULL) - st.st_mtime < CLAIM_STALE_S) return 0;
    unlink(path);
  }
  return 1;
}

static void unclaim(const af_stub_pool *p, entry **items, int n) {
  if (!p->cache_ok) return;
  char path[720];
  for (int i = 0; i < n; i++) {
    claim_path(p, items[i]->hash, path, sizeof path);
    unlink(path);
  }
}

static void queue_push(af_stub_pool *p, uint64_t h) {
  if (p->nqueue == p->cap_queue) {
    int nc = p->cap_queue ? p->cap_queue * 2 : 256;
    uint64_t *q = realloc(p->queue, (size_t)nc * sizeof *q);
    if (!q) return;
    p->queue = q;
    p->cap_queue = nc;
  }
  p->queue[p->nqueue++] = h;
}

static void wait_ms(af_stub_pool *p, int ms) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_nsec += (long)ms * 1000000L;
  ts.tv_sec += ts.tv_nsec / 1000000000L;
  ts.tv_nsec %= 1000000000L;
  pthread_cond_timedwait(&p->cv_work, &p->mu, &ts);
}

/* After claiming items[0..n): another process may have published some of them between the
 * index read above and the claim (it compiled, appended its index line, and removed its claim,
 * all in that window). Those are loaded from disk and their claims removed, not compiled
 * twice. Returns how many are still ours to compile, moved to the front of items. */
static int drop_published(af_stub_pool *p, entry **items, int n) {
  pthread_mutex_lock(&p->mu);
  reread_index(p);
  int keep = 0, dropped = 0;
  for (int i = 0; i < n; i++) {
    entry *e = items[i];
    if (e->so >= 0 && load(p, e) == 0) {
      p->st.cache_hits++;
      e->taken = 0;
      unclaim(p, &e, 1);
      dropped++;
      continue;
    }
    e->so = -1;
    items[keep++] = e; /* keep <= i: nothing not yet visited is overwritten */
  }
  if (dropped) pthread_cond_broadcast(&p->cv_done);
  pthread_mutex_unlock(&p->mu);
  return keep;
}

static void *thread_main(void *arg) {
  af_stub_pool *p = arg;
  pthread_mutex_lock(&p->mu);
  while (!p->stop) {
    if (!p->nqueue) {
      pthread_cond_wait(&p->cv_work, &p->mu);
      continue;
    }
    if (p->nqueue < p->batch_max) { /* a short wait for more of the same batch */
      wait_ms(p, p->wait_ms);
      if (p->stop) break;
    }
    /* another process may have compiled some of them meanwhile */
    reread_index(p);
    int n = p->nqueue < p->batch_max ? p->nqueue : p->batch_max;
    entry **items = malloc((size_t)n * sizeof *items);
    uint64_t *hs = malloc((size_t)n * sizeof *hs);
    if (!items || !hs) {
      free(items);
      free(hs);
      break;
    }
    memcpy(hs, p->queue, (size_t)n * sizeof *hs);
    memmove(p->queue, p->queue + n, (size_t)(p->nqueue - n) * sizeof *p->queue);
    p->nqueue -= n;
    int k = 0;
    for (int i = 0; i < n; i++) {
      entry *e = find(p, hs[i]);
      if (!e || e->state != E_PENDING) continue;
      if (e->so >= 0 && load(p, e) == 0) { /* on disk now */
        p->st.cache_hits++;
        continue;
      }
      e->so = -1;
      e->taken = 1;
      items[k++] = e;
    }
    pthread_cond_broadcast(&p->cv_done);
    pthread_mutex_unlock(&p->mu);
    /* what another process is compiling goes back to the queue, to be found in the index */
    int mine = 0, theirs = 0;
    for (int i = 0; i < k; i++) {
      if (claim(p, items[i]->hash))
        items[mine++] = items[i];
      else
        hs[theirs++] = items[i]->hash;
    }
    if (mine) mine = drop_published(p, items, mine);
    if (mine) compile_items(p, items, mine);
    unclaim(p, items, mine);
    pthread_mutex_lock(&p->mu);
    for (int i = 0; i < theirs; i++) {
      entry *e = find(p, hs[i]);
      if (!e) continue;
      e->taken = 0;
      queue_push(p, hs[i]);
    }
    if (theirs && !mine) wait_ms(p, p->wait_ms); /* no spinning while others compile */
    free(items);
    free(hs);
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

/* ---- public ---- */
af_status af_stub_pool_new(const af_stub_pool_opts *o, af_stub_pool **out, af_error *err) {
  *out = NULL;
  af_family fam;
  int major;
  if (!o->cc || !*o->cc || !af_cc_available(o->cc)) {
    if (err)
      snprintf(err->msg, sizeof err->msg, "stubs: compiler '%s' not found", o->cc ? o->cc : "");
    return AF_ERR_UNSUPPORTED;
  }
  af_status s = af_cc_identify(o->cc, &fam, &major, err);
  if (s != AF_OK) return AF_ERR_UNSUPPORTED;
  af_stub_pool *p = calloc(1, sizeof *p);
  if (!p) return AF_ERR_NOMEM;
  snprintf(p->cc, sizeof p->cc, "%s", o->cc);
  snprintf(p->name, sizeof p->name, "%s-%d", af_family_name(fam), major);
  snprintf(p->flags, sizeof p->flags, "%s", AF_STUB_FLAGS);
  p->family = fam;
  p->major = major;
  p->has_f16 = fam == AF_FAMILY_CLANG ? major >= 15 : major >= 12;
  p->max_pending = o->max_pending > 0 ? o->max_pending : 4096;
  p->batch_max = o->batch_max > 0 ? o->batch_max : 200;
  p->wait_ms = o->batch_wait_ms > 0 ? o->batch_wait_ms : 20;
  /* the cache key: compiler, its version line, flags */
  char ver[512] = "";
  version_line(o->cc, ver, sizeof ver);
  uint64_t key = 0xcbf29ce484222325ull;
  key = fnv(STUB_FORMAT, strlen(STUB_FORMAT) + 1, key);
  key = fnv(p->cc, strlen(p->cc) + 1, key);
  key = fnv(ver, strlen(ver) + 1, key);
  key = fnv(p->flags, strlen(p->flags) + 1, key);
  char base[512];
  if (o->cache_dir && *o->cache_dir)
    snprintf(base, sizeof base, "%s", o->cache_dir);
  else
    af_stub_cache_default_dir(base, sizeof base);
  snprintf(p->dir, sizeof p->dir, "%s/%s/%s-%016" PRIx64, base, STUB_FORMAT, p->name, key);
  p->cache_ok = mkdir_p(p->dir) == 0 && access(p->dir, W_OK) == 0;
  if (p->cache_ok) {
    char idp[700];
    snprintf(idp, sizeof idp, "%s/id", p->dir);
    if (access(idp, F_OK) != 0) {
      char tmp[720];
      snprintf(tmp, sizeof tmp, "%s/.id-XXXXXX", p->dir);
      int fd = mkstemp(tmp);
      if (fd >= 0) {
        FILE *f = fdopen(fd, "w");
        if (f) {
          fprintf(f, "compiler %s\nversion %s\nflags %s\n", p->cc, ver, p->flags);
          fclose(f);
          if (rename(tmp, idp) != 0) unlink(tmp);
        } else {
          close(fd);
          unlink(tmp);
        }
      }
    }
  }
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv_work, NULL);
  pthread_cond_init(&p->cv_done, NULL);
  pthread_mutex_lock(&p->mu);
  reread_index(p);
  pthread_mutex_unlock(&p->mu);
  /* The thread takes no SIGUSR1/SIGUSR2: a supervisor asks the worker where it hangs with one,
   * and the handler must run on the thread running the code under test. (Only these: the
   * compilers it spawns inherit the mask, and cc_run.c's timeout is a SIGALRM.) */
  sigset_t usr, old;
  sigemptyset(&usr);
  sigaddset(&usr, SIGUSR1);
  sigaddset(&usr, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &usr, &old);
  int rc = pthread_create(&p->th, NULL, thread_main, p);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc != 0) {
    af_stub_pool_free(p);
    if (err) snprintf(err->msg, sizeof err->msg, "stubs: cannot start the compiler thread");
    return AF_ERR_NOMEM;
  }
  p->th_started = 1;
  *out = p;
  return AF_OK;
}

void af_stub_pool_free(af_stub_pool *p) {
  if (!p) return;
  if (p->th_started) {
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->cv_work);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->th, NULL);
  }
  for (int i = 0; i < p->nents; i++) {
    free(p->ents[i]->text);
    free(p->ents[i]);
  }
  for (int i = 0; i < p->nsos; i++)
    af_cc_dlclose(p->sos[i].handle);
  free(p->ents);
  free(p->table);
  free(p->queue);
  free(p->sos);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->cv_work);
  pthread_cond_destroy(&p->cv_done);
  free(p);
}

void af_stub_pool_identity(const af_stub_pool *p, af_family *family, int *major,
                           const char **name) {
  if (family) *family = p->family;
  if (major) *major = p->major;
  if (name) *name = p->name;
}

static af_stub_state pub_state(const entry *e) {
  switch (e->state) {
  case E_READY: return AF_STUB_READY;
  case E_FAILED: return AF_STUB_FAILED;
  default: return AF_STUB_PENDING;
  }
}

af_stub_state af_stub_pool_request(af_stub_pool *p, const af_stub_src *src) {
  pthread_mutex_lock(&p->mu);
  p->st.requests++;
  if (src->needs_f16 && !p->has_f16) { /* known refusal: no compiler run to find out */
    pthread_mutex_unlock(&p->mu);
    return AF_STUB_FAILED;
  }
  entry *e = find(p, src->hash);
  if (!e) { /* written by another process since we last looked? */
    reread_index(p);
    e = find(p, src->hash);
  }
  af_stub_state r;
  if (e && e->state == E_DISK) {
    if (load(p, e) == 0) {
      p->st.cache_hits++;
      pthread_mutex_unlock(&p->mu);
      return AF_STUB_READY;
    }
    e->state = E_PENDING; /* unreadable: compile it again */
    e->so = -1;
  } else if (e) {
    if (e->state == E_READY) p->st.cache_hits++;
    if (e->state != E_PENDING || e->text || e->taken) {
      r = pub_state(e);
      pthread_mutex_unlock(&p->mu);
      return r;
    }
  }
  if (p->nqueue >= p->max_pending || (e && e->taken)) {
    p->st.backlog++;
    pthread_mutex_unlock(&p->mu);
    return AF_STUB_BACKLOG;
  }
  char *text = malloc(src->len + 1);
  if (p->nqueue == p->cap_queue) {
    int nc = p->cap_queue ? p->cap_queue * 2 : 256;
    uint64_t *q = realloc(p->queue, (size_t)nc * sizeof *q);
    if (q) {
      p->queue = q;
      p->cap_queue = nc;
    }
  }
  if (!text || p->nqueue == p->cap_queue || (!e && !(e = add(p, src->hash)))) {
    free(text);
    p->st.backlog++;
    pthread_mutex_unlock(&p->mu);
    return AF_STUB_BACKLOG;
  }
  memcpy(text, src->text, src->len + 1);
  e->text = text;
  e->len = src->len;
  e->avx = src->needs_avx;
  e->state = E_PENDING;
  p->queue[p->nqueue++] = src->hash;
  pthread_cond_signal(&p->cv_work);
  pthread_mutex_unlock(&p->mu);
  return AF_STUB_PENDING;
}

af_stub_state af_stub_pool_state(af_stub_pool *p, uint64_t hash) {
  pthread_mutex_lock(&p->mu);
  entry *e = find(p, hash);
  af_stub_state r = e ? pub_state(e) : AF_STUB_FAILED;
  if (e && e->state == E_DISK) r = load(p, e) == 0 ? AF_STUB_READY : AF_STUB_FAILED;
  pthread_mutex_unlock(&p->mu);
  return r;
}

af_stub_state af_stub_pool_wait(af_stub_pool *p, uint64_t hash, int timeout_ms) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  if (timeout_ms >= 0) {
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
  }
  pthread_mutex_lock(&p->mu);
  entry *e = find(p, hash);
  while (e && e->state == E_PENDING) {
    if (timeout_ms < 0)
      pthread_cond_wait(&p->cv_done, &p->mu);
    else if (pthread_cond_timedwait(&p->cv_done, &p->mu, &ts) == ETIMEDOUT)
      break;
    e = find(p, hash);
  }
  af_stub_state r = e ? pub_state(e) : AF_STUB_FAILED;
  pthread_mutex_unlock(&p->mu);
  return r;
}

af_status af_stub_pool_get(af_stub_pool *p, uint64_t hash, af_stub_syms *out) {
  pthread_mutex_lock(&p->mu);
  entry *e = find(p, hash);
  if (e && e->state == E_DISK) load(p, e);
  af_status s = e && e->state == E_READY ? AF_OK : AF_ERR_INVALID;
  if (s == AF_OK) *out = e->syms;
  pthread_mutex_unlock(&p->mu);
  return s;
}

void af_stub_pool_stats(af_stub_pool *p, af_stub_stats *out) {
  pthread_mutex_lock(&p->mu);
  *out = p->st;
  pthread_mutex_unlock(&p->mu);
}
