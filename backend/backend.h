/* backend.h - what produces the code under test: our JIT, a C compiler, LLVM ORC, libtcc,
 * libgccjit or a plugin, behind one interface the harness runs the same way. */
#ifndef ABIFUZZ_BACKEND_H
#define ABIFUZZ_BACKEND_H

/* A backend compiles a case's functions that are not host functions (gen.h: af_func.host)
 * into executable code in this process. The harness then compiles the case with our JIT as
 * always, with af_jit_opts.ext naming the backend's code (jit.h): the JIT keeps its runner
 * thunk and the host functions (the harness's reference implementations), the external code
 * replaces every other function, and every leg, check, report and replay runs unchanged.
 *
 * The external code reaches the harness through an import table (imports.c): one stub per
 * function of the case (`f<k>` in the emitted C, doc/plugins.md), which jumps to whatever
 * af_backend_bind set (a callout probe, the JIT's host code, an interposer), and the table of
 * object regions MIX folds pointers against (`af_objects`).
 *
 * Backends (doc/backends.md):
 *   builtin          our JIT (jit/); af_backend_compile is never needed for it
 *   cc:COMMAND       any C compiler: the case as C (oracle/emit_c.c, ext mode), COMMAND run
 *                    with {src} and {obj} substituted, the ELF relocatable object loaded by
 *                    elf_load.c; many cases per compiler run (af_backend_prefetch)
 *   llvm             LLVM ORC (LLJIT) through the LLVM C API, the case IR lowered to LLVM IR
 *   tcc              libtcc compiling the emitted C in memory
 *   gccjit           libgccjit (SysV only: gcc 12's libgccjit has no ms_abi)
 *   plugin:PATH.so   a shared object implementing include/abifuzz/plugin.h
 * A backend that cannot express part of a case says so: AF_ERR_UNSUPPORTED and a constant
 * skip reason, counted by the campaign, never a finding. */

#include "gen.h"
#include "jit.h"

typedef struct af_backend af_backend;           /* one per worker process */
typedef struct af_backend_code af_backend_code; /* one compiled case */

/* Opens a backend from its --backend spec. AF_ERR_INVALID: unknown spec (err lists the
 * known ones); AF_ERR_UNSUPPORTED: not built into this abifuzz, or cannot start (e.g. the
 * compiler is missing); err is one line either way. */
af_status af_backend_open(const char *spec, af_backend **out, af_error *err);
void af_backend_close(af_backend *b);
const char *af_backend_spec(const af_backend *b); /* as given: "cc:gcc -O2 -c {src} -o {obj}" */
const char *af_backend_kind(const af_backend *b); /* "builtin", "cc", "llvm", ... */
int af_backend_is_builtin(const af_backend *b);   /* NULL counts as builtin */
/* 1 if the backend can compile functions of convention cc at all (gccjit: SysV only). */
int af_backend_supports_cc(const af_backend *b, af_cc cc);

/* The kinds this build knows, with whether each is compiled in (--list-backends). */
typedef struct {
  const char *kind;  /* "cc" */
  const char *usage; /* "cc:'COMMAND'" */
  const char *desc;  /* one line */
  int available;     /* 0: not built in (say why in desc) */
} af_backend_info;
const af_backend_info *af_backend_kinds(int *n);

/* Compiles c's non-host functions. c must outlive *out. AF_ERR_UNSUPPORTED: the backend
 * cannot express c; *skip (if skip is non-NULL) is a short constant sentence to count by.
 * Any other error: err says what (a compiler that crashed, a loader error: those are
 * findings about the backend for the campaign to report, not skips). */
af_status af_backend_compile(af_backend *b, const af_case *c, af_backend_code **out,
                             const char **skip, af_error *err);
/* For backends whose start-up is costly (cc): these cases are about to be compiled; compile
 * them together now, so that af_backend_compile of a case with the same content (its C text)
 * finds it ready. Cases must stay alive until compiled or af_backend_close. A no-op for the
 * others. */
void af_backend_prefetch(af_backend *b, const af_case *const *cases, int n);
int af_backend_batches(const af_backend *b); /* 1: prefetch pays off */

/* What af_jit_opts.ext must point to (lives as long as code). */
const af_jit_ext *af_backend_ext(const af_backend_code *code);
/* Where the external code's call of function k goes (a host function; any function when the
 * backend calls through its imports): set after af_jit_compile to af_jit_fn(jit, k), before
 * running. Until bound, the stub of k traps (ud2). */
void af_backend_bind(af_backend_code *code, int k, const void *target);
void af_backend_code_free(af_backend_code *code);

/* Our JIT's compile of c with o (may be NULL), running code's functions (code NULL: the JIT's
 * own; o->ext is set from code by this function), with code's imports then bound to the JIT's
 * entries (af_jit_fn: host_fns' probes where o replaces functions). Rebinds: call it again
 * for each af_jit made from the same code, before running that one. */
af_status af_backend_link(af_backend_code *code, const af_case *c, const af_jit_opts *o,
                          af_jit **jit, af_error *err);

#endif
