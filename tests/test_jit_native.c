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
static af_status emit_one(const af_case *c, int i, int extern_entry, char **src, size_t *len,
                          af_error *err) {
  char pre[32];
  snprintf(pre, sizeof pre, "c%d_", i);
  af_emit_opts o;
  af_emit_opts_default(&o);
  o.emit_prelude = 0;
  o.emit_main = 0;
  o.prefix = pre;
  o.extern_entry = extern_entry;
  *src = NULL;
  *len = 0;
  FILE *m = open_memstream(src, len);
  if (!m) return AF_ERR_NOMEM;
  af_status s = af_emit_c(c, &o, m, err);
  fclose(m);
  /* extern_entry writes none of the case's functions: run can only call the pointer */
  CHECKF(s != AF_OK || !extern_entry || !strstr(*src, "AF_FN __attribute__"),
         "case %d: a function was emitted", i);
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

/* build(), and when the batch does not build, the cases clang refuses on their own
 * (compiler bugs) are dropped from `use`, counted in *cc_skip, and the rest rebuilt. */
static af_status build_isolating(char *const *src, const size_t *len, int *use, int avx, int n,
                                 const af_case *cs, af_cc cc, int base, int *cc_skip, char *so,
                                 size_t nso, af_error *err) {
  af_status s = build(src, len, use, avx, n, so, nso, err);
  if (s == AF_OK) return s;
  printf("  batch at %d does not build (%s): compiling its cases alone\n", base, err->msg);
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
      (*cc_skip)++;
    }
  }
  return build(src, len, use, avx, n, so, nso, err);
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
    af_status s = emit_one(&cs[i], i, 1, &src[i], &len[i], &err);
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
  af_status s =
      build_isolating(src, len, use, avx, n, cs, cc, base, &k->cc_skip, so, sizeof so, &err);
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

/* ---- phase 2: the JIT as the caller of clang-compiled callees ------------------------------
 * Each case is emitted whole (every function c<i>_f<k>), built with clang into a shared object,
 * and JIT-compiled with af_jit_opts.host_fns[k] = c<i>_f<k> for every function but the entry:
 * every call out of the JIT entry goes to clang's code (which calls itself natively). The JIT
 * entry itself is called by the file's c<i>_run (the emitted call of c<i>_f<entry> is turned
 * into a call through c<i>_entry_ptr, declared with __typeof__ so it keeps sysv_abi/ms_abi),
 * so that every pointer is one of the file's objects, which MIX folds in clang's code and (given
 * by af_jit_set_objects) in the JIT's alike; run's checksum must equal af_interp's. */

/* Turns case i's whole-case C (emit_one, extern_entry 0) into one whose run calls the entry
 * through `c<i>_entry_ptr`, and adds `c<i>_objects` (what bind looks up). 0 if the text is
 * not as emit_c writes it. */
static int reroute_entry(const af_case *c, int i, char **src, size_t *len) {
  char run[48], call[48];
  snprintf(run, sizeof run, "uint64_t c%d_run(void) {", i);
  snprintf(call, sizeof call, "c%d_f%d(", i, c->entry);
  char *r = strstr(*src, run);
  char *k = r ? strstr(r, call) : NULL;
  if (!k) return 0;
  char *out = NULL;
  size_t n = 0;
  FILE *m = open_memstream(&out, &n);
  if (!m) return 0;
  fwrite(*src, 1, (size_t)(r - *src), m);
  fprintf(m, "__typeof__(c%d_f%d) *c%d_entry_ptr;\n", i, c->entry, i);
  if (c->nobjects)
    fprintf(m,
            "unsigned char *c%d_objects(int k) {\n  return k >= 0 && k < %d ? c%d_obj[k] : 0;\n}\n",
            i, c->nobjects, i);
  else
    fprintf(m, "unsigned char *c%d_objects(int k) {\n  (void)k;\n  return 0;\n}\n", i);
  fwrite(r, 1, (size_t)(k - r), m);
  fprintf(m, "(*c%d_entry_ptr)(", i);
  fputs(k + strlen(call), m);
  fclose(m);
  free(*src);
  *src = out;
  *len = n;
  return 1;
}

/* The largest slot alignment of a stack argument over the entry's calls (0: none on the stack):
 * above 16, psABI 3.2.2 wants RSP that aligned at the call. */
static uint32_t entry_call_align(const af_case *c) {
  const af_func *f = &c->funcs[c->entry];
  uint32_t a = 0;
  for (int i = 0; i < f->ninsts; i++) {
    if (f->insts[i].op != AF_OP_CALL) continue;
    af_callinfo ci;
    if (af_classify(c, &c->funcs[f->insts[i].imm].sig, &ci, NULL) != AF_OK) continue;
    for (int k = 0; k < ci.nargs; k++)
      if (ci.args[k].kind == AF_LOC_STACK && ci.args[k].stack_align > a) a = ci.args[k].stack_align;
  }
  return a;
}

typedef struct {
  int cases, checked, mismatches, crashes, jit_fail, emit_fail, cc_skip, interp_fail;
  int with_calls;  /* checked cases whose entry calls clang-built code */
  int over_align;  /* cases run whose entry passes a stack argument more than 16-aligned */
  int over_failed; /* mismatches or crashes among cases with an over-aligned stack argument */
  double t;
} counts2;

static void callee_batch(af_cc cc, af_case *cs, const uint64_t *want, const int *valid, int base,
                         int n, counts2 *k) {
  char *src[BATCH] = {0};
  size_t len[BATCH] = {0};
  int use[BATCH] = {0}, avx = 0;
  af_error err = {{0}};
  for (int i = 0; i < n; i++) {
    if (!valid[i]) continue;
    af_status s = emit_one(&cs[i], i, 0, &src[i], &len[i], &err);
    if (s == AF_OK && !reroute_entry(&cs[i], i, &src[i], &len[i])) {
      s = AF_ERR_INVALID;
      snprintf(err.msg, sizeof err.msg, "run's call of the entry not found");
    }
    CHECKF(s == AF_OK, "phase 2: case seed 0x%llx index %d (%s): emit: %s",
           (unsigned long long)SEED, base + i, af_cc_name(cc), err.msg);
    if (s != AF_OK) {
      k->emit_fail++;
      continue;
    }
    use[i] = 1;
    avx |= af_case_needs_avx(&cs[i]);
  }
  char so[512];
  af_status s =
      build_isolating(src, len, use, avx, n, cs, cc, base, &k->cc_skip, so, sizeof so, &err);
  CHECKF(s == AF_OK, "phase 2: batch at %d (%s): %s", base, af_cc_name(cc), err.msg);
  void *h = NULL;
  if (s == AF_OK) {
    s = af_cc_dlopen(so, &h, &err);
    CHECKF(s == AF_OK, "phase 2: batch at %d: %s", base, err.msg);
    af_cc_remove_so(so);
  }
  slot sl[BATCH];
  memset(sl, 0, sizeof sl);
  const void *hosts[BATCH][AF_MAX_FUNCS]; /* af_jit_opts keeps the pointer: live as the jits */
  memset(hosts, 0, sizeof hosts);
  for (int i = 0; i < n && h; i++) {
    if (!use[i]) continue;
    const void **host = hosts[i];
    int bound = 1;
    for (int f = 0; f < cs[i].nfuncs; f++) {
      if (f == cs[i].entry) continue;
      char name[48];
      snprintf(name, sizeof name, "c%d_f%d", i, f);
      host[f] = af_cc_dlsym(h, name);
      bound &= host[f] != NULL;
    }
    CHECKF(bound, "phase 2: case index %d: a function is missing from the shared object", base + i);
    if (!bound) continue;
    CHECKF(bind(h, i, &sl[i]), "phase 2: case index %d: run symbols missing", base + i);
    if (!sl[i].run) continue;
    af_jit_opts jo = {0};
    jo.host_fns = host;
    sl[i].index = base + i;
    sl[i].want = want[i];
    s = af_jit_compile(&cs[i], &jo, &sl[i].j, &err);
    if (s == AF_OK) { /* the file's objects: MIX folds them by address in both */
      sl[i].fn = af_jit_fn(sl[i].j, cs[i].entry);
      uint8_t *op[AF_MAX_OBJECTS] = {0};
      for (int o = 0; o < cs[i].nobjects; o++)
        op[o] = sl[i].obj(o);
      af_jit_set_objects(sl[i].j, op, cs[i].nobjects);
    }
    CHECKF(s == AF_OK, "phase 2: case seed 0x%llx index %d (%s): af_jit_compile: %s: %s",
           (unsigned long long)SEED, base + i, af_cc_name(cc), af_strerror(s), err.msg);
    if (s != AF_OK) {
      k->jit_fail++;
      continue;
    }
    sl[i].ok = 1;
  }
  run_slots(sl, n);
  for (int i = 0; i < n; i++) {
    if (!sl[i].ok) continue;
    uint32_t a = entry_call_align(&cs[i]);
    int good = !sl[i].crashed && sl[i].done && sl[i].got == sl[i].want;
    CHECKF(!sl[i].crashed,
           "phase 2: case seed 0x%llx index %d (%s): the JIT -> clang callee call crashed: %s "
           "(largest stack argument alignment %u)",
           (unsigned long long)SEED, base + i, af_cc_name(cc),
           sl[i].crashed > 0 ? strsignal(sl[i].crashed) : "child failed", a);
    CHECKF(sl[i].crashed || good,
           "phase 2: case seed 0x%llx index %d (%s): jit -> clang callees 0x%016llx interp "
           "0x%016llx (largest stack argument alignment %u)",
           (unsigned long long)SEED, base + i, af_cc_name(cc), (unsigned long long)sl[i].got,
           (unsigned long long)sl[i].want, a);
    k->crashes += sl[i].crashed != 0;
    k->mismatches += !sl[i].crashed && !good;
    k->over_failed += !good && a > 16;
    k->over_align += a > 16;
    if (!good) continue;
    k->checked++;
    k->with_calls += cs[i].nfuncs > 1;
  }
  free_jits(sl, n);
  af_cc_dlclose(h);
  for (int i = 0; i < n; i++)
    free(src[i]);
}

static void callee_convention(af_cc cc, int ncases) {
  counts2 k;
  memset(&k, 0, sizeof k);
  af_gen_opts go;
  af_gen_opts_default(&go);
  go.cc = (int)cc;
  go.allow_m256 = __builtin_cpu_supports("avx"); /* __m256 stack arguments: 32-aligned slots */
  double t0 = now();
  for (int base = 0; base < ncases; base += BATCH) {
    int n = ncases - base < BATCH ? ncases - base : BATCH;
    af_case cs[BATCH];
    uint64_t want[BATCH] = {0};
    int valid[BATCH] = {0}, made[BATCH] = {0};
    for (int i = 0; i < n; i++) {
      af_error err = {{0}};
      af_status s = af_gen_case(&go, SEED + 1, (uint64_t)(base + i), &cs[i], NULL, &err);
      CHECKF(s == AF_OK, "phase 2: gen %s %d: %s", af_cc_name(cc), base + i, err.msg);
      if (s != AF_OK) continue;
      made[i] = 1;
      k.cases++;
      af_interp_result ir;
      memset(&ir, 0, sizeof ir);
      s = af_interp(&cs[i], 0, &ir, &err);
      CHECKF(s == AF_OK, "phase 2: case index %d (%s): af_interp: %s", base + i, af_cc_name(cc),
             err.msg);
      if (s == AF_OK) {
        want[i] = ir.checksum;
        valid[i] = 1;
      } else {
        k.interp_fail++;
      }
      af_interp_result_free(&ir);
    }
    callee_batch(cc, cs, want, valid, base, n, &k);
    for (int i = 0; i < n; i++)
      if (made[i]) af_case_free(&cs[i]);
  }
  k.t = now() - t0;
  printf("phase 2 %s (clang run -> JIT entry -> clang-compiled callees, allow_m256 %d): %d "
         "cases, %d checked, %d mismatches, %d crashes, %d JIT failures, %d emit failures, %d "
         "interpreter failures, %d skipped (clang refused)\n",
         af_cc_name(cc), go.allow_m256, k.cases, k.checked, k.mismatches, k.crashes, k.jit_fail,
         k.emit_fail, k.interp_fail, k.cc_skip);
  printf("  %d checked cases call clang code; %d cases pass it a stack argument aligned beyond "
         "16 bytes, %d of them failed; time %.1f s\n",
         k.with_calls, k.over_align, k.over_failed, k.t);
  CHECKF(k.checked + k.cc_skip == k.cases, "phase 2 %s: %d of %d cases checked", af_cc_name(cc),
         k.checked, k.cases);
  CHECKF(k.cc_skip * 100 < k.cases, "phase 2 %s: %d cases skipped (bar: under 1%%)", af_cc_name(cc),
         k.cc_skip);
  CHECKF(k.with_calls * 2 > k.checked, "phase 2 %s: only %d of %d cases call clang code",
         af_cc_name(cc), k.with_calls, k.checked);
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
  /* test_jit_native [ncases [ncases of phase 2]] */
  /* phase 2 builds whole cases (about 0.13 s of clang each): fewer of them, to stay near the
   * test's time budget; `test_jit_native 2000 500` checks 500 per convention */
  int n2 = argc > 2 ? atoi(argv[2]) : n / 20;
  callee_convention(AF_CC_SYSV, n2);
  callee_convention(AF_CC_WIN64, n2);
  return check_done();
}
