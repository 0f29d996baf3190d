/* legs.h - the legs of the differential test, the jobs they run and the findings they report. */
#ifndef ABIFUZZ_HARNESS_LEGS_H
#define ABIFUZZ_HARNESS_LEGS_H

/* A leg is one way of running a case's code under test with an independent peer on the other
 * side of a call, each with its own verdict:
 *
 *   runner       the JIT's own runner thunk calls the entry (af_jit_run): JIT-compiled caller
 *                and callee agree with the interpreter
 *   native       our assembly probe calls the JIT entry (arguments placed from af_callinfo,
 *                canaries in every callee-saved register); every host function the JIT calls
 *                is reached through the callout probe (harness/probe.h)
 *   garbage      native again with different garbage in every bit the convention leaves
 *                undefined; a different outcome is a finding
 *   ffi-caller   libffi (ffi_call, FFI_UNIX64 / FFI_WIN64) calls the JIT entry
 *   ffi-callee   the JIT calls libffi closures in place of the host functions
 *   cc-caller    a clang/gcc-compiled caller stub calls the JIT entry  (one leg per compiler:
 *                "clang-caller", "gcc-caller")
 *   cc-callee    the JIT calls clang/gcc-compiled callee stubs ("clang-callee", "gcc-callee")
 *   cross-cc     a clang caller stub calls a gcc callee stub and the reverse (the oracle's own
 *                consistency)
 *   c-oracle     the whole case emitted as C, compiled by each --oracle-cc compiler and run:
 *                its checksum must equal the interpreter's (no JIT involved)
 *   emu          (issue 5) the JIT code run instruction by instruction in xi, our interpreting
 *                emulator (harness/xi.h), every memory access checked
 *   emu-unicorn  the same checks with Unicorn as the engine (the cross-check)
 *
 * Every leg compares with the reference interpreter's outcome (af_interp_result: checksum,
 * return value, final objects and the trace of host calls). Legs are registered in legs.c.
 *
 * Crash isolation: a leg runs code under test only between sink->begin and sink->end; the
 * worker tells the supervisor (harness/worker.h) before and after, so a crash or hang inside
 * is blamed on (case, leg). Legs never catch signals themselves. */

#include <stdint.h>

#include "backend.h"
#include "gen.h"
#include "jit.h"

/* ---- findings ------------------------------------------------------------------------- */
/* One check that fired. `check` is a short stable name a bucket can be keyed on; `what` names
 * the register, argument or object ("xmm7", "arg 3 of call 2 to f4", "object 1 byte 17"),
 * detail says expected vs actual in one line. The checks (doc/harness.md describes each):
 *   result objects garbage host-calls          outcome vs the interpreter / another pattern
 *   callee-saved rsp df mxcsr x87cw x87-stack  state after a return
 *   sret-rax sret-ptr                          the hidden return buffer
 *   stack-align arg arg-ext vararg-al vararg-dup   at a call (callout / interposer)
 *   below-rsp red-zone caller-frame uninit-read    every memory access (emu)
 *   checksum                                   a compiled C oracle (c-oracle)
 *   crash timeout                              the worker died / hung (the supervisor)
 *   jit-compile interp                         the JIT or the interpreter refused a case */
typedef struct {
  char leg[24];
  char check[32];
  char what[64];
  char detail[400];
} af_finding;

/* ---- the campaign's configuration, as every leg sees it ------------------------------- */
#define AF_MAX_ORACLE_CC 4
typedef struct {
  const char *inject;               /* JIT mutant (doc/mutants.md) or NULL */
  int ncc;                          /* oracle compilers (--oracle-cc) */
  const char *cc[AF_MAX_ORACLE_CC]; /* paths or names: "clang-19", "gcc" */
  const char *cache_dir;            /* oracle stub cache (--cache-dir); NULL: default */
  uint64_t seed;                    /* campaign seed (garbage patterns derive from it) */
  int verbose;
  const char *backend_spec; /* --backend (backend/backend.h); NULL: builtin */
  af_backend *backend;      /* opened from backend_spec in each worker; NULL: builtin */
} af_legs_cfg;

/* ---- jobs ----------------------------------------------------------------------------- */
/* One case on its way through the legs: the worker builds it once (generate, interpret) and
 * hands it to every leg. Batched legs (the compiled oracle stubs) keep a reference and run it
 * later; af_job_unref frees the case when the last holder lets go. */
typedef struct af_job {
  int refs;
  uint64_t seed, index; /* the case is gen(seed, index) (or loaded from a file) */
  af_case c;
  af_interp_result want; /* the reference outcome */
  const af_legs_cfg *cfg;
  /* The code under test from cfg->backend (NULL: our JIT's own), compiled once per case by
   * the worker before the legs run (the "backend" step); freed with the job. */
  af_backend_code *code;
  /* The JIT compiles legs share (af_leg_compile_opts), one per set of code-changing options
   * (rt_probe, check_stack, no_regalloc; inject and code are the job's): dropped with the
   * job. */
  struct {
    const void *rt_probe;
    int check_stack, no_regalloc;
    struct af_jit *jit;
  } jits[4];
  int njits;
} af_job;

/* A job for case (seed, index) under cfg, refs 1, nothing compiled; its case and reference
 * outcome are left for the caller to fill (the generator, the parser and af_interp initialise
 * them, so the 16 KB case is not zeroed first: calloc's memset was ~20 k instructions a case).
 * NULL: out of memory. Freed by af_job_unref (or, before the case is filled, by free). */
af_job *af_job_new(const af_legs_cfg *cfg, uint64_t seed, uint64_t index);
af_job *af_job_ref(af_job *j);
/* Forgets the job's shared compiles (the legs holding one keep theirs): the next leg compiles
 * the case afresh. For `abifuzz bench`, whose single-leg rows cost a leg alone, compile
 * included; a campaign never needs it. */
void af_job_drop_compiles(af_job *j);
void af_job_unref(af_job *j);

/* ---- what a leg reports to the worker -------------------------------------------------- */
typedef enum {
  AF_LEG_PASS, /* ran, every check held */
  AF_LEG_FAIL, /* ran, findings reported */
  AF_LEG_SKIP, /* could not run this case: reason (a short constant sentence, counted) */
} af_leg_verdict;

typedef struct af_leg_sink {
  void *u;
  /* Code under test is about to run for (job, leg): from here to `end` a crash or hang is
   * this pair's. */
  void (*begin)(void *u, const af_job *j, const char *leg);
  /* The leg is done with this job: its verdict, the reason of a skip, the findings (nf >= 0;
   * PASS and SKIP have none). Every submit ends with exactly one `end` per leg name. */
  void (*end)(void *u, const af_job *j, const char *leg, af_leg_verdict v, const char *reason,
              const af_finding *f, int nf);
} af_leg_sink;

/* A leg. Immediate legs do all their work in submit; batched legs keep a reference to the job
 * and finish it from poll. The compiler legs run with every --oracle-cc compiler under one
 * name; their findings name the compiler in `what`. */
typedef struct af_leg {
  const char *name; /* what --legs and --list-legs use */
  const char *desc; /* one line for --list-legs --verbose and the docs */
  int default_on;   /* on when --legs is not given */
  /* Once per worker process. AF_ERR_UNSUPPORTED (err says why, one line): the leg is off in
   * this campaign (e.g. no compiler), said once in the summary. *state is the leg's own. */
  af_status (*init)(const af_legs_cfg *cfg, void **state, af_error *err);
  void (*submit)(void *state, af_job *j, const af_leg_sink *sink);
  /* Batched legs: finish what is ready; block = 1: everything outstanding (end of campaign).
   * NULL for immediate legs. */
  void (*poll)(void *state, const af_leg_sink *sink, int block);
  void (*fini)(void *state);
} af_leg;

/* Every leg abifuzz has, in the order they run on a case. */
const af_leg *const *af_legs_all(int *n);
const af_leg *af_leg_find(const char *name);

/* ---- helpers for leg implementations (legs.c) ------------------------------------------ */
/* Fills f; printf-style detail. */
void af_finding_set(af_finding *f, const char *leg, const char *check, const char *what,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* A list of findings a leg collects while checking one run (first AF_FINDINGS_MAX kept,
 * the rest counted). */
#define AF_FINDINGS_MAX 16
typedef struct {
  int n, dropped;
  af_finding f[AF_FINDINGS_MAX];
} af_findings;
/* Empties fs for the next run (the findings' bytes stay: af_findings_add sets one whole). */
static inline void af_findings_clear(af_findings *fs) { fs->n = fs->dropped = 0; }
void af_findings_add(af_findings *fs, const char *leg, const char *check, const char *what,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Compares a value the code under test produced (bytes as they lie in memory) with the
 * expected one leaf by leaf, padding excluded (gen.h's fold walk): 0 if equal, else 1 and
 * `where` gets the first differing leaf ("field 2 (f64) byte 3") and `detail` the expected and
 * actual bytes. A ptr compares the address with objects[v->obj] (obj -1: not compared). */
int af_value_diff(const af_case *c, const af_value *want, const uint8_t *got,
                  uint8_t *const *objects, char *where, size_t nwhere, char *detail,
                  size_t ndetail);

/* Process-wide settings for a process that runs cases (a campaign worker, a bench stage):
 * malloc keeps the top of its heap instead of giving it back after every case (glibc trims
 * past 128 KiB: a brk pair and fresh zeroed pages per case, measured in doc/benchmarks.md). */
void af_legs_process_init(void);

/* The JIT compile every leg needs: the case with cfg->inject, host functions replaced by
 * host_fns (may be NULL). With another backend than ours, j->code's functions are the code
 * under test (af_backend_link: the JIT supplies the runner and the host functions, and the
 * external code's imports are bound to this compile's entries, probes included). */
af_status af_leg_compile(const af_job *j, const void *const *host_fns, af_jit **out, af_error *err);
/* The same with every option given (o->inject is ignored: cfg->inject rules). Both share one
 * compile per job and code-changing options: the af_jit handed out is a reference (free it
 * with af_jit_free as usual) whose table is set for this call's host_fns (af_jit_set_fns) and
 * objects reset; it stays valid only until the next af_leg_compile* of the same job (which
 * rewrites the shared table): a leg runs what it got before another leg compiles. */
af_status af_leg_compile_opts(const af_job *j, const af_jit_opts *o, af_jit **out, af_error *err);
/* The compile of the legs that run the JIT's code natively (native, garbage, runner, the ffi
 * and compiled-stub legs): af_leg_compile with every runtime-helper call going through
 * af_rt_probe (jit.h rt_probe). The native leg checks what the probe counts; for the others it
 * is one frame more around a helper call, and it lets them all share the native leg's compile:
 * one compile per case instead of two (doc/benchmarks.md). The emulator takes af_leg_compile:
 * it runs the helpers itself. */
af_status af_leg_compile_native(const af_job *j, const void *const *host_fns, af_jit **out,
                                af_error *err);

#endif
