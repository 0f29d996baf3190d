/* test_jit_native.c - JIT-compiled entries called by clang-compiled C callers, checked against
 * the interpreter. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "jit.h"
#include "oracle.h"

/* The JIT issue's acceptance criterion, for every generated case (libffi can
 * spell only about a third of them, test_jit_ffi): the caller is C compiled by
 * clang. Cases are emitted with af_emit_opts.extern_entry, BATCH per file, so
 * that each file holds only the types, objects, inputs and `c<i>_run`, which
 * calls the entry through `c<i>_entry_ptr`; one clang run per file builds a
 * shared object, loaded with dlopen. Per case: the JIT compiles the case, the
 * pointer is set to the JIT's entry, the JIT is given the C file's object
 * addresses (MIX folds pointers by object), and run's checksum must equal
 * af_interp's. The calls run in forked children (several cases per child): a
 * crash names the case. A self-check calls entries compiled with an injected
 * ABI bug and expects mismatches. */

#define SEED  0xc2ull
#define BATCH 250
#define FLAGS AF_CC_BASE_FLAGS " -O1 -ffp-contract=off"

typedef uint64_t (*run_fn)(void);
typedef unsigned char *(*objects_fn)(int);

/* A case of a loaded batch. */
typedef struct {
  int index;      /* generation index */
  int ok;         /* emitted, built, loaded, JIT-compiled */
  af_jit *j;      /* the case's code */
  const void *fn; /* its entry */
  run_fn run;     /* c<i>_run */
  void **ptr;     /* &c<i>_entry_ptr */
  objects_fn obj; /* c<i>_objects */
  uint64_t want;  /* af_interp's checksum */
  uint64_t got;
  int crashed; /* signal, 0 none */
  int done;    /* got is valid */
} slot;

typedef struct {
  uint32_t idx;
  uint64_t sum;
} record;

/* Calls run for slots[from..n) in one child, writing a record per case; a
 * crash ends the child, and the next child starts after the crashed case. */
static void run_slots(slot *s, int n) {
  int from = 0;
  while (from < n) {
    while (from < n && !s[from].ok)
      from++;
    if (from >= n) break;
    int fd[2];
    if (pipe(fd) != 0) {
      CHECK(!"pipe");
      return;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
      CHECK(!"fork");
      close(fd[0]);
      close(fd[1]);
      return;
    }
    if (pid == 0) {
      close(fd[0]);
      alarm(20);
      for (int i = from; i < n; i++) {
        if (!s[i].ok) continue;
        *s[i].ptr = (void *)(uintptr_t)s[i].fn;
        record r = {(uint32_t)i, s[i].run()};
        if (write(fd[1], &r, sizeof r) != (ssize_t)sizeof r) _exit(1);
      }
      _exit(0);
    }
    close(fd[1]);
    record r;
    int last = from - 1;
    while (read(fd[0], &r, sizeof r) == (ssize_t)sizeof r) {
      if ((int)r.idx < n) {
        s[r.idx].got = r.sum;
        s[r.idx].done = 1;
        last = (int)r.idx;
      }
    }
    close(fd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    /* the first ok slot after `last` is the one that did not finish */
    int next = last + 1;
    while (next < n && !s[next].ok)
      next++;
    if (next < n) {
      s[next].crashed = WIFSIGNALED(st) ? WTERMSIG(st) : -1;
      next++;
    }
    from = next;
  }
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Case i of a batch as C (prefix c<i>_, extern entry, no prelude, no main). */
static af_status emit_one(const af_case *c, int i, char **src, size_t *len, af_error *err) {
  char pre[32];
  snprintf(pre, sizeof pre, "c%d_", i);
  af_emit_opts o;
  af_emit_opts_default(&o);
  o.emit_prelude = 0;
  o.emit_main = 0;
  o.prefix = pre;
  o.extern_entry = 1;
  *src = NULL;
  *len = 0;
  FILE *m = open_memstream(src, len);
  if (!m) return AF_ERR_NOMEM;
  af_status s = af_emit_c(c, &o, m, err);
  fclose(m);
  /* extern_entry writes none of the case's functions: run can only call the pointer */
  CHECKF(s != AF_OK || !strstr(*src, "AF_FN __attribute__"), "case %d: a function was emitted", i);
  return s;
}

/* The prelude and the cases i with use[i] as one shared object. */
static af_status build(char *const *src, const size_t *len, const int *use, int avx, int n,
                       char *so, size_t so_n, af_error *err) {
  char *all = NULL;
  size_t alen = 0;
  FILE *m = open_memstream(&all, &alen);
  if (!m) return AF_ERR_NOMEM;
  af_emit_prelude(m);
  for (int i = 0; i < n; i++)
    if (use[i]) fwrite(src[i], 1, len[i], m);
  fclose(m);
  af_status s = af_cc_build_so(AF_CLANG, avx ? FLAGS " -mavx" : FLAGS, all, alen, so, so_n, err);
  free(all);
  return s;
}

typedef struct {
  int cases, checked, mismatches, crashes, jit_fail, emit_fail, cc_skip, interp_fail;
  int beyond_ffi; /* checked cases whose entry libffi cannot call (af_ffi_prepare refuses) */
  int self_tried, self_noticed, self_crashed;
  double t_cc, t_jit, t_run;
} counts;

/* Looks up case i's symbols in h. */
static int bind(void *h, int i, slot *s) {
  char name[48];
  snprintf(name, sizeof name, "c%d_run", i);
  void *r = af_cc_dlsym(h, name);
  snprintf(name, sizeof name, "c%d_entry_ptr", i);
  s->ptr = af_cc_dlsym(h, name);
  snprintf(name, sizeof name, "c%d_objects", i);
  void *o = af_cc_dlsym(h, name);
  memcpy(&s->run, &r, sizeof r); /* object pointer -> function pointer (POSIX dlsym) */
  memcpy(&s->obj, &o, sizeof o);
  return r && o && s->ptr;
}

/* JIT-compiles case k of cs into s (inject: a mutant or NULL) and installs the C file's
 * objects. 0 ok; else the status. */
static af_status jit_one(const af_case *c, const char *inject, slot *s, af_error *err) {
  af_jit_opts jo = {0};
  jo.inject = inject;
  s->j = NULL;
  af_status st = af_jit_compile(c, &jo, &s->j, err);
  if (st != AF_OK) return st;
  s->fn = af_jit_fn(s->j, c->entry);
  uint8_t *op[AF_MAX_OBJECTS] = {0};
  for (int k = 0; k < c->nobjects; k++)
    op[k] = s->obj(k);
  af_jit_set_objects(s->j, op, c->nobjects);
  return AF_OK;
}

static void free_jits(slot *s, int n) {
  for (int i = 0; i < n; i++) {
    af_jit_free(s[i].j);
    s[i].j = NULL;
  }
}

/* One batch: cs[0..n) with generation indices base.., interpreter checksums want. */
static void batch(af_cc cc, af_case *cs, const uint64_t *want, const int *valid, int base, int n,
                  const char *mutant, counts *k) {
  char *src[BATCH] = {0};
  size_t len[BATCH] = {0};
  int use[BATCH] = {0}, avx = 0;
  af_error err = {{0}};
  for (int i = 0; i < n; i++) {
    if (!valid[i]) continue;
    af_status s = emit_one(&cs[i], i, &src[i], &len[i], &err);
    CHECKF(s == AF_OK, "case seed 0x%llx index %d (%s): emit: %s", (unsigned long long)SEED,
           base + i, af_cc_name(cc), err.msg);
    if (s != AF_OK) {
      k->emit_fail++;
      continue;
    }
    use[i] = 1;
    avx |= af_case_needs_avx(&cs[i]);
  }
  char so[512];
  double t0 = now();
  af_status s = build(src, len, use, avx, n, so, sizeof so, &err);
  if (s != AF_OK) {
    /* find the cases clang refuses on their own (compiler bugs), build without them */
    printf("  batch at %d does not build (%s): compiling its cases alone\n", base, err.msg);
    for (int i = 0; i < n; i++) {
      if (!use[i]) continue;
      int one[BATCH] = {0};
      one[i] = 1;
      char so1[512];
      af_error e1 = {{0}};
      if (build(src, len, one, af_case_needs_avx(&cs[i]), n, so1, sizeof so1, &e1) == AF_OK) {
        af_cc_remove_so(so1);
      } else {
        printf("  skip: case seed 0x%llx index %d (%s): %s\n", (unsigned long long)SEED, base + i,
               af_cc_name(cc), e1.msg);
        use[i] = 0;
        k->cc_skip++;
      }
    }
    s = build(src, len, use, avx, n, so, sizeof so, &err);
  }
  k->t_cc += now() - t0;
  CHECKF(s == AF_OK, "batch at %d (%s): %s", base, af_cc_name(cc), err.msg);
  void *h = NULL;
  if (s == AF_OK) {
    s = af_cc_dlopen(so, &h, &err);
    CHECKF(s == AF_OK, "batch at %d: %s", base, err.msg);
    af_cc_remove_so(so);
  }
  slot sl[BATCH];
  memset(sl, 0, sizeof sl);
  for (int i = 0; i < n && h; i++) {
    if (!use[i]) continue;
    sl[i].index = base + i;
    sl[i].want = want[i];
    int b = bind(h, i, &sl[i]);
    CHECKF(b, "case index %d: symbols missing from the shared object", base + i);
    if (!b) continue;
    double tj = now();
    s = jit_one(&cs[i], NULL, &sl[i], &err);
    k->t_jit += now() - tj;
    CHECKF(s == AF_OK, "case seed 0x%llx index %d (%s): af_jit_compile: %s: %s",
           (unsigned long long)SEED, base + i, af_cc_name(cc), af_strerror(s), err.msg);
    if (s != AF_OK) {
      k->jit_fail++;
      continue;
    }
    sl[i].ok = 1;
  }
  double tr = now();
  run_slots(sl, n);
  k->t_run += now() - tr;
  for (int i = 0; i < n; i++) {
    if (!sl[i].ok) continue;
    CHECKF(!sl[i].crashed, "case seed 0x%llx index %d (%s): the C caller -> JIT call crashed: %s",
           (unsigned long long)SEED, base + i, af_cc_name(cc),
           sl[i].crashed > 0 ? strsignal(sl[i].crashed) : "child failed");
    if (sl[i].crashed) {
      k->crashes++;
      continue;
    }
    CHECKF(sl[i].done && sl[i].got == sl[i].want,
           "case seed 0x%llx index %d (%s): clang caller -> jit 0x%016llx interp 0x%016llx",
           (unsigned long long)SEED, base + i, af_cc_name(cc), (unsigned long long)sl[i].got,
           (unsigned long long)sl[i].want);
    if (sl[i].done && sl[i].got == sl[i].want) {
      k->checked++;
      af_ffi_sig fs;
      if (af_ffi_prepare(&cs[i], &cs[i].funcs[cs[i].entry].sig, &fs, NULL) == AF_OK)
        af_ffi_free(&fs);
      else
        k->beyond_ffi++;
    } else {
      k->mismatches++;
    }
  }
  free_jits(sl, n);
  /* Can it fail? The same callers on entries compiled with an injected ABI bug. */
  if (mutant && h) {
    slot ml[BATCH];
    memcpy(ml, sl, sizeof ml);
    for (int i = 0; i < n; i++) {
      if (!sl[i].ok) continue;
      ml[i].ok = jit_one(&cs[i], mutant, &ml[i], &err) == AF_OK;
      ml[i].done = ml[i].crashed = 0;
    }
    run_slots(ml, n);
    for (int i = 0; i < n; i++) {
      if (!ml[i].ok) continue;
      k->self_tried++;
      k->self_noticed += ml[i].crashed || !ml[i].done || ml[i].got != ml[i].want;
      k->self_crashed += ml[i].crashed != 0;
    }
    free_jits(ml, n);
  }
  af_cc_dlclose(h);
  for (int i = 0; i < n; i++)
    free(src[i]);
}

static void convention(af_cc cc, int ncases, const char *mutant) {
  counts k;
  memset(&k, 0, sizeof k);
  af_gen_opts go;
  af_gen_opts_default(&go);
  go.cc = (int)cc;
  double t0 = now();
  for (int base = 0; base < ncases; base += BATCH) {
    int n = ncases - base < BATCH ? ncases - base : BATCH;
    af_case cs[BATCH];
    uint64_t want[BATCH] = {0};
    int valid[BATCH] = {0};
    for (int i = 0; i < n; i++) {
      af_error err = {{0}};
      af_status s = af_gen_case(&go, SEED, (uint64_t)(base + i), &cs[i], NULL, &err);
      CHECKF(s == AF_OK, "gen %s %d: %s", af_cc_name(cc), base + i, err.msg);
      if (s != AF_OK) continue;
      af_interp_result ir;
      memset(&ir, 0, sizeof ir);
      s = af_interp(&cs[i], 0, &ir, &err);
      CHECKF(s == AF_OK, "case index %d (%s): af_interp: %s", base + i, af_cc_name(cc), err.msg);
      if (s == AF_OK) {
        want[i] = ir.checksum;
        valid[i] = 1;
      } else {
        k.interp_fail++;
      }
      af_interp_result_free(&ir);
    }
    k.cases += n;
    batch(cc, cs, want, valid, base, n, base == 0 ? mutant : NULL, &k);
    for (int i = 0; i < n; i++)
      af_case_free(&cs[i]);
  }
  double t = now() - t0;
  printf("%s: %d cases, %d checked (clang-compiled caller -> JIT entry == interpreter), "
         "%d mismatches, %d crashes, %d JIT failures, %d emit failures, %d interpreter failures, "
         "%d skipped (clang refused the case)\n",
         af_cc_name(cc), k.cases, k.checked, k.mismatches, k.crashes, k.jit_fail, k.emit_fail,
         k.interp_fail, k.cc_skip);
  printf("  %d of the checked cases have an entry libffi cannot call (af_ffi_prepare refuses)\n",
         k.beyond_ffi);
  printf("  time %.1f s: clang %.1f s, JIT compile %.1f s, calls (forked) %.1f s\n", t, k.t_cc,
         k.t_jit, k.t_run);
  printf("  self-check: entries compiled with mutant %s: %d of %d disagreed or crashed (%d "
         "crashes)\n",
         mutant, k.self_noticed, k.self_tried, k.self_crashed);
  CHECKF(k.checked + k.cc_skip == k.cases, "%s: %d of %d cases checked", af_cc_name(cc), k.checked,
         k.cases);
  CHECKF(k.cc_skip * 100 < k.cases, "%s: %d cases skipped (bar: under 1%%)", af_cc_name(cc),
         k.cc_skip);
  CHECKF(k.self_tried > 0 && k.self_noticed > 0, "%s: mutant %s went unnoticed (%d cases)",
         af_cc_name(cc), mutant, k.self_tried);
}

int main(int argc, char **argv) {
  /* test_jit_native [ncases per convention] */
  int n = argc > 1 ? atoi(argv[1]) : 2000;
  if (!af_cc_available(AF_CLANG)) {
    printf("skip: no clang (AF_CLANG '%s'): the clang-compiled callers cannot be built\n",
           AF_CLANG);
    return check_done();
  }
  printf("caller: %s %s, %d cases per convention (seed 0x%llx), %d per shared object\n", AF_CLANG,
         FLAGS, n, (unsigned long long)SEED, BATCH);
  /* The mutants move arguments the C caller places: stack-args-reversed shows on SysV
   * entries with two or more stack arguments, w64-float-index on Win64 entries with a
   * float argument after a non-float one. */
  convention(AF_CC_SYSV, n, "stack-args-reversed");
  convention(AF_CC_WIN64, n, "w64-float-index");
  return check_done();
}
