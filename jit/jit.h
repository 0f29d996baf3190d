/* jit.h - the JIT module's public header: case IR -> x86-64 code in W^X memory. */
#ifndef ABIFUZZ_JIT_H
#define ABIFUZZ_JIT_H

/* What the module will hold (issue "The full JIT"): lowering of a case's functions to x86-64
 * under SysV and Win64 (argument locations only from af_classify), a register allocator,
 * injectable ABI bugs, and the calls into the result. What exists now:
 *   - executable memory that is never writable and executable at once (codemem.h);
 *   - a table-driven x86-64 encoder with a Capstone-style printer (x86.h, private to jit/:
 *     the lowering pass will use it; outside jit/ nothing needs it yet). */

#include <stddef.h>

#include "codemem.h"
#include "gen.h"

/* Options of a compilation. */
typedef struct {
  const char *inject; /* a mutant's name (doc/mutants.md), NULL for a correct JIT */
  /* Test instrumentation, off (0 / NULL) by default: */
  int check_stack; /* every function checks RSP+8 is 16-aligned at entry, else ud2 (SIGILL) */
  const void *const *host_fns; /* [nfuncs] or NULL: a non-NULL host_fns[k] replaces function
                                  k (calls and the runner go to that host code instead) */
  int no_regalloc;             /* 1: no register allocator, every value lives in its stack slot (the
                                  baseline); 0 (default): jit/regalloc.h keeps values in registers */
  /* Instrumentation (NULL: off): every call of a runtime helper (jit/lower_rt.c: the C
   * functions MIX, conversions and bit-fields call, plain SysV calls with register arguments
   * only) becomes `mov r11, helper; mov r10, rt_probe; call r10`: a harness probe that checks
   * the call (RSP alignment) and then calls R11 with the arguments untouched. */
  const void *rt_probe;
  /* Code under test from another backend (backend/backend.h: a C compiler, LLVM, libtcc,
   * libgccjit, a plugin). NULL: every function is the JIT's. */
  const struct af_jit_ext *ext;
} af_jit_opts;

/* Functions compiled by someone else, run as if the JIT had compiled them. The JIT still
 * compiles every function itself: host functions keep the JIT's code (the harness's reference
 * implementation), and af_jit_code of a replaced function returns the external code. */
typedef struct af_jit_ext {
  const char *name;             /* the backend, for messages ("cc:gcc -O2 -c {src} -o {obj}") */
  const void *fn[AF_MAX_FUNCS]; /* non-NULL: function k's code (never a host function) */
  size_t size[AF_MAX_FUNCS];    /* its length in bytes, 0 if unknown (af_jit_which) */
  /* NULL, or a table of AF_MAX_OBJECTS pointers the external code folds pointers against
   * (MIX's ptr ids): the JIT keeps it equal to its own (af_jit_run's fresh copies,
   * af_jit_set_objects). */
  uint8_t **objects;
} af_jit_ext;

/* ---- injectable ABI bugs (mutants.c; doc/mutants.md) ---------------------------------- */
/* Mutants are numbered 0..af_jit_mutant_count()-1; name/desc/mimics return NULL out of
 * range; af_jit_mutant_find returns -1 for an unknown name. af_jit_compile rejects an unknown
 * af_jit_opts.inject with AF_ERR_INVALID "unknown mutant NAME". */
int af_jit_mutant_count(void);
const char *af_jit_mutant_name(int i);
const char *af_jit_mutant_desc(int i);
const char *af_jit_mutant_mimics(int i); /* the real bug it mimics (project + issue) */
const char *af_jit_mutant_side(int i);   /* "caller", "callee" or "frame ..." */
int af_jit_mutant_find(const char *name);

/* ---- compiling and running a case (jit.c, lower.c; helper F1) ---------------------------- */
/* A compiled case: every function of the case (host ones too, for now) in sealed code memory,
 * calls between them through a table of entry addresses, and a runner thunk. The case must
 * outlive the af_jit. */
typedef struct af_jit af_jit;

/* Compiles every function of c. AF_ERR_UNSUPPORTED (err says why) for what the baseline
 * lowering cannot do yet; *out is NULL on any error. o may be NULL (defaults). */
af_status af_jit_compile(const af_case *c, const af_jit_opts *o, af_jit **out, af_error *err);
/* Drops one reference (af_jit_compile returns the first, af_jit_retain adds one): the last
 * frees the code. */
void af_jit_free(af_jit *j);
/* Another reference to j (NULL stays NULL), for sharing one compile among users (the harness's
 * legs of one case: harness/legs.c). Returns j. */
af_jit *af_jit_retain(af_jit *j);
/* Rewrites j's call table as af_jit_compile would have left it had o->host_fns been host_fns
 * (NULL: none), ext code included, and forgets the objects (af_jit_set_objects) as a fresh
 * compile has none. The code itself does not depend on host_fns (only rt_probe, check_stack,
 * no_regalloc, inject and ext change it), so the same code serves every host_fns; a user of a
 * shared af_jit sets its host_fns right before it runs it, and host_fns must outlive that use. */
void af_jit_set_fns(af_jit *j, const void *const *host_fns);
/* Entry address of function k (NULL out of range), for the harness: with af_jit_opts.host_fns,
 * the host code that replaces it; else with af_jit_opts.ext, the external code. */
const void *af_jit_fn(const af_jit *j, int k);
/* The code under test of function k, even when host_fns replaces it: the JIT's own compiled
 * code (a host function compiled without a mutant is the harness's reference implementation
 * of it), or af_jit_opts.ext's code for the functions it replaces. */
const void *af_jit_code(const af_jit *j, int k);
/* Every function's af_classify result as the compile computed it (an array of the case's
 * nfuncs; pure af_classify output, which no mutant changes), or NULL when the compile did not
 * classify every function. The harness's probes take it instead of classifying again. Lives as
 * long as j. */
const af_callinfo *af_jit_callinfos(const af_jit *j);
/* 1 if addr lies in this case's code memory (a fault address, a return address). */
int af_jit_contains(const af_jit *j, const void *addr);
/* Which function of j addr lies in: its index, -1 for the runner thunk, -2 when outside.
 * External code (af_jit_opts.ext) counts when its size is known. */
int af_jit_which(const af_jit *j, const void *addr);
/* Whether addr lies in a live sealed code mapping of ANY af_jit of this process: 1 yes, 0 no,
 * -1 unknown (codemem.c's fixed table of mappings is full, or a slot was being rewritten).
 * Async-signal-safe (no lock, no allocation): what a SIGSEGV/SIGALRM handler asks about a
 * fault address, the interrupted RIP or a return address. */
int af_jit_addr_is_code(const void *addr);
/* The object regions j's code folds pointers against right now (objects[0..AF_MAX_OBJECTS),
 * NULL past them): during af_jit_run its own fresh copies, so that host code the JIT calls (a
 * libffi closure) can tell which object a pointer argument names; else what
 * af_jit_set_objects installed. */
void af_jit_get_objects(const af_jit *j, uint8_t **objects);

/* One run's outcome, like af_interp_result: the checksum (gen.h: fold of the return value,
 * a returned pointer mapped back to its object, then every object's final bytes). */
typedef struct {
  uint64_t checksum;
  af_value ret; /* bytes malloc'd (af_jit_result_free); ptr: obj, -1 if no object */
  uint8_t objects[AF_MAX_OBJECTS][AF_REGION_SIZE]; /* final object contents */
} af_jit_result;

/* Runs the entry on c->inputs (fresh 64-aligned copies of the objects). inputs (may be NULL:
 * c->inputs) overrides the input values, for tests. A crash of the generated code is not
 * caught here: run it in a child process if it may crash. */
af_status af_jit_run(af_jit *j, const af_value *inputs, af_jit_result *res, af_error *err);
/* For calls made outside af_jit_run (through libffi, a clang-compiled caller, a
 * harness probe): installs the object regions that MIX's pointer fold matches
 * pointers against (gen.h: object k -> its pointer id). n <= AF_MAX_OBJECTS;
 * objects == NULL clears them. af_jit_run installs and clears its own. */
void af_jit_set_objects(af_jit *j, uint8_t *const *objects, int n);
void af_jit_result_free(af_jit_result *res);

/* What the register allocator did for a compiled case (summed over its functions). */
typedef struct {
  int values_in_reg;   /* values kept in a register between instructions */
  int values_crossing; /* ... of them live across a call (IR call or runtime helper) in a
                          callee-saved register of their function's convention */
  int funcs_saving;    /* functions whose prologue saves some callee-saved register */
  int funcs_saving_ra; /* ... because the allocator gave a value one of them */
} af_jit_ra_info;
void af_jit_ra_info_get(const af_jit *j, af_jit_ra_info *out);

#endif
