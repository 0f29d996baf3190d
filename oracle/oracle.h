/* oracle.h - the oracle: a case written as one C file (sysv_abi / ms_abi functions), compiled
 * by clang and gcc and run; its checksum must equal the interpreter's. */
#ifndef ABIFUZZ_ORACLE_H
#define ABIFUZZ_ORACLE_H

#include <stdio.h>

#include "gen.h"

/* ------------------------------------------------------------------------- */
/* The C emitter (emit_c.c)                                                   */
/* ------------------------------------------------------------------------- */
/* The emitted C is C11 with GNU extensions, accepted by gcc >= 12 and clang
 * >= 15 (clang 14 when the case has no _Float16) with
 *   -std=gnu11 -Wall -Werror -Wno-psabi  (any -O, also -ffp-contract=off).
 * A case using __m256 needs -mavx (the file stops with #error without it):
 * an __m256 argument is only passed in a YMM register when both sides are
 * compiled with AVX (abi-notes), and the whole file must agree.
 * __m128/__m256 are spelled as GNU vector typedefs (af_m128, af_m256): the
 * same types as <immintrin.h>'s, without its compile time.
 * Two compiler bugs are worked around (both seen; see emit_c.c):
 * - gcc 12's __builtin_va_arg on an ms_va_list misreads every type Win64
 *   passes by reference (size not 1, 2, 4 or 8): such varargs are read as
 *   `*__builtin_va_arg(ap, T *)`, which is what the Win64 ABI passes;
 * - clang 14/19 at -O1+ fold a long double memcpy'd from constant bytes
 *   wrongly when its exponent's low byte is 0: an empty asm barrier follows
 *   every such memcpy.
 * Known ABI divergences between gcc and clang (gen/abi.c's table, e.g.
 * clang 19 leaving R9 unused after an __int128 spill) are NOT worked around:
 * a variadic callee then disagrees with its caller, which is a finding. */
typedef struct {
  int emit_prelude;   /* 1: includes and the runtime helpers (once per file) */
  int emit_main;      /* 1: a main() that prints AF_CHECKSUM_FMT as its last line */
  const char *prefix; /* prepended to every file-scope symbol of the case (NULL: "") */
  /* 1: the case's functions are not written (the entry is native code from elsewhere, e.g.
   * the JIT's): only the types, the objects and <prefix>run, which calls through
   *   <ret> (*<prefix>entry_ptr)(<params>[, ...])   (sysv_abi / ms_abi, as the entry)
   * a global the loader sets before calling run. `unsigned char *<prefix>objects(int k)`
   * returns object k's region (NULL out of range), for af_jit_set_objects. Default 0. */
  int extern_entry;
  /* 1: external-code mode, what a backend compiles (backend/backend.h): the case's non-host
   * functions <prefix>f<k> with external linkage, each host function declared only (an
   * import the loader resolves: `extern` with its convention's attribute), pointer ids taken
   * from `extern unsigned char *<prefix>af_objects[AF_MAX_OBJECTS]` (the harness fills it;
   * declared weak so that a PIC/PIE compile reads it through the GOT, never a copy reloc),
   * no objects, no run, no main. Accepted by every compiler a backend drives (gcc, clang,
   * tcc); what one of them cannot compile is af_emit_c_needs' business. Default 0. */
  int ext_code;
} af_emit_opts;

void af_emit_opts_default(af_emit_opts *o); /* prelude and main, no prefix */

/* Writes the case as C. Besides the case's functions (<prefix>f<k>) and
 * types (<prefix>t<N>) it defines `uint64_t <prefix>run(void)`, which
 * resets the objects, calls the entry on the inputs and returns the
 * checksum (gen.h). AF_ERR_UNSUPPORTED for constructs C cannot express. */
af_status af_emit_c(const af_case *c, const af_emit_opts *o, FILE *out, af_error *err);

/* Several cases in one file (one compiler run for all): the prelude once,
 * case i with prefix "c<i>_", and a main printing one line per case,
 * "case <i> checksum 0x...", in order. */
af_status af_emit_batch(const af_case *const *cases, int n, FILE *out, af_error *err);

/* The runtime prelude alone (what emit_prelude writes). */
af_status af_emit_prelude(FILE *out);

int af_case_needs_avx(const af_case *c); /* uses __m256: compile with -mavx */
int af_case_needs_f16(const af_case *c); /* uses _Float16: clang >= 15, gcc >= 12 */

/* What the C of a case uses that a C compiler might lack (a backend refuses such a case
 * with a precise reason instead of a compile error). The bits describe the ext_code C (what
 * a backend compiles): host functions are only declared there, so a variadic host function
 * counts as AF_NEED_VA_CALLER (its callers pass variadic arguments), not as a callee. */
#define AF_NEED_INT128       (1u << 0)  /* __int128 (i128/u128 anywhere) */
#define AF_NEED_F16          (1u << 1)  /* _Float16 */
#define AF_NEED_VECTOR       (1u << 2)  /* GNU vector types (__m128 or __m256) */
#define AF_NEED_M256         (1u << 3)  /* __m256: -mavx on the whole file */
#define AF_NEED_COMPLEX      (1u << 4)  /* _Complex float/double, __real__/__imag__ */
#define AF_NEED_LONG_DOUBLE  (1u << 5)  /* long double values (x87) */
#define AF_NEED_MS_ABI       (1u << 6)  /* a function of the Win64 convention */
#define AF_NEED_VA_CALLEE    (1u << 7)  /* a non-host variadic function (va_start/va_arg) */
#define AF_NEED_VA_CALLER    (1u << 8)  /* a call that passes variadic arguments */
#define AF_NEED_BITFIELD     (1u << 9)  /* bit-fields (zero-width ones included) */
#define AF_NEED_PACKED       (1u << 10) /* __attribute__((packed)) */
#define AF_NEED_OVERALIGNED  (1u << 11) /* _Alignas on a field, aligned(N) on a type */
#define AF_NEED_UNION        (1u << 12) /* a union */
#define AF_NEED_EMPTY_STRUCT (1u << 13) /* a struct or union of size 0 (GNU C) */
#define AF_NEED_COUNT        14
unsigned af_emit_c_needs(const af_case *c);
/* A short name of one AF_NEED_* bit ("__int128", "ms_abi" ...); "?" for anything else. */
const char *af_emit_c_need_name(unsigned need);

/* ------------------------------------------------------------------------- */
/* Compile and run (cc_run.c)                                                 */
/* ------------------------------------------------------------------------- */
/* Flags every oracle compile uses (callers add -O and the like). */
#define AF_CC_BASE_FLAGS "-std=gnu11 -Wall -Werror -Wno-psabi"

/* 1 if `cc` (a path or a name on PATH) can be run. */
int af_cc_available(const char *cc);

/* Which compiler family and major version `cc` is (from `cc --version`), so
 * that known divergences (af_abi_deviates) can be told from findings.
 * AF_ERR_UNSUPPORTED when it is neither gcc nor clang. */
af_status af_cc_identify(const char *cc, af_family *family, int *major, af_error *err);

/* Writes `src` (len bytes) to a fresh temporary directory, compiles it with
 * `cc` and `flags` (space-separated, no quoting) into an executable, runs it
 * and returns its standard output in *out (malloc'd, NUL-terminated; the
 * caller frees). Errors: AF_ERR_IO when the compiler is missing or fails
 * (err: its first error line), AF_ERR_RUNTIME when the program fails.
 * The directory is removed afterwards. */
af_status af_cc_build_run(const char *cc, const char *flags, const char *src, size_t len,
                          char **out, af_error *err);

/* Like af_cc_build_run but builds a shared object (flags plus -shared -fPIC) and does not
 * run it: the .so's path (in a fresh temporary directory holding only it) goes to
 * so_path_out (n bytes). Remove it with af_cc_remove_so once loaded or unneeded. */
af_status af_cc_build_so(const char *cc, const char *flags, const char *src, size_t len,
                         char *so_path_out, size_t n, af_error *err);
void af_cc_remove_so(const char *so_path); /* the .so and its directory */
/* dlopen (RTLD_NOW | RTLD_LOCAL) / dlsym / dlclose; AF_ERR_IO with dlerror() in err. */
af_status af_cc_dlopen(const char *so_path, void **handle, af_error *err);
void *af_cc_dlsym(void *handle, const char *name); /* NULL when missing */
void af_cc_dlclose(void *handle);

/* The checksum of the last "checksum 0x..." line of `text`; 0 ok, -1 none. */
int af_cc_last_checksum(const char *text, uint64_t *out);

/* Emits one case (with main), compiles it with cc, AF_CC_BASE_FLAGS, `flags`
 * and -mavx when the case needs it, runs it, and returns its checksum. */
af_status af_cc_case_checksum(const af_case *c, const char *cc, const char *flags,
                              uint64_t *checksum, af_error *err);

/* Many cases as one program (af_emit_batch), one compiler run: compiles
 * with cc, AF_CC_BASE_FLAGS, `flags` and -mavx when some case needs it,
 * runs it, and stores case i's checksum in got[i]. AF_ERR_IO when the
 * program does not build (err: the compiler's first error line; compile
 * the cases alone to find the culprit), AF_ERR_RUNTIME when it fails or a
 * case's line is missing. */
af_status af_cc_run_batch_flags(const char *cc, const char *flags, const af_case *const *cases,
                                int n, uint64_t *got, af_error *err);
/* The same with the campaign's flags, AF_CC_BATCH_FLAGS. */
#define AF_CC_BATCH_FLAGS "-O1 -ffp-contract=off"
af_status af_cc_run_batch(const char *cc, const af_case *const *cases, int n, uint64_t *got,
                          af_error *err);

/* ------------------------------------------------------------------------- */
/* libffi (ffi.c)                                                             */
/* ------------------------------------------------------------------------- */
/* libffi as an independent caller of code under test: a case signature as an
 * ffi_cif (FFI_UNIX64 for sysv, FFI_WIN64 for win64; ffi_prep_cif_var with
 * nfixed named parameters for variadic ones). libffi computes struct layouts
 * itself; a layout it would compute differently from af_layout is refused.
 * Refused (AF_ERR_UNSUPPORTED, *skip_reason a short constant sentence to count
 * by): __int128, _Float16, __m128/__m256, unions, packed, bit-fields, empty
 * structs, over-aligned fields/structs, a Win64 long double return (FFI_WIN64
 * aborts on it), complex when libffi lacks FFI_TARGET_HAS_COMPLEX_TYPE, and
 * two libffi 3.4.4 caller bugs seen here (ffi.c): a SysV struct{long double}
 * return (read from RAX, not ST0) and a 9-16 byte {INTEGER, SSE} struct in R9
 * (its copy overruns into XMM0).
 * Blind spots of a check through libffi (abi-notes): values only, never
 * registers or alignment; FFI_WIN64 loads every variadic slot into both the
 * GPR and the XMM (a missing duplication in a callee cannot show); libffi
 * 3.4.4 passes 3/5/6/7-byte Win64 structs by reference without a copy (fine
 * for a caller: af_ffi_call passes its own copies). The ffi headers stay out
 * of this header: the libffi state is behind priv. */
typedef struct {
  af_cc cc;
  int ret;           /* return type id */
  uint32_t ret_size; /* bytes of the return value (ptr: 8) */
  int nargs;
  int params[AF_MAX_PARAMS]; /* parameter type ids */
  void *priv;                /* ffi_cif and ffi_types: af_ffi_free */
} af_ffi_sig;

/* Bytes af_ffi_call may write to ret_bytes. */
#define AF_FFI_RET_BYTES (AF_MAX_TYPE_SIZE + 64)

/* Maps sig (of case c; *out does not refer to c afterwards) to an ffi_cif.
 * AF_OK; AF_ERR_UNSUPPORTED with *skip_reason (may be NULL); AF_ERR_NOMEM;
 * AF_ERR_INVALID. On error nothing needs freeing. */
af_status af_ffi_prepare(const af_case *c, const af_sig *sig, af_ffi_sig *out,
                         const char **skip_reason);
/* Calls fn (native code of signature s) with args (nargs values of s's types;
 * a ptr argument passes objects[arg.obj], or, with obj -1, size 8 and bytes,
 * the address in bytes, so that a closure's arguments can be passed on) and
 * stores the return value's bytes at ret_bytes (AF_FFI_RET_BYTES bytes; a ptr
 * return: the 8-byte address; narrow integers widened by libffi, the first
 * ret_size bytes are the value). AF_ERR_INVALID when args do not match s.
 * A crash of fn is not caught: call it in a child process. */
af_status af_ffi_call(const af_ffi_sig *s, void *fn, const af_value *args, const af_case *c,
                      void **objects, uint8_t *ret_bytes);
void af_ffi_free(af_ffi_sig *s);

/* libffi as the callee: a closure, native code of signature s (ffi_prep_closure_loc),
 * that hands every call to `handler`. args[i] has the parameter's type and points
 * at the bytes libffi received (valid during the call; a ptr argument: size 8,
 * bytes = the address, obj -1); the handler writes the return value's bytes to
 * ret_bytes (AF_FFI_RET_BYTES, zeroed; a ptr: the address); narrow integers are
 * widened for libffi. s must outlive the closure. libffi decodes what it was
 * told, by its own classification: where it departs from the ABI (a struct of
 * one long double returned, skipped by af_ffi_prepare) so does the closure. */
typedef void (*af_ffi_handler)(void *user, const af_value *args, int nargs, uint8_t *ret_bytes);
typedef struct af_ffi_closure af_ffi_closure;
af_status af_ffi_closure_new(const af_ffi_sig *s, af_ffi_handler handler, void *user,
                             af_ffi_closure **out, void **code);
void af_ffi_closure_free(af_ffi_closure *cl);

/* ------------------------------------------------------------------------- */
/* Compiled stubs per signature (stubs.c) and their cache (stub_cache.c)      */
/* ------------------------------------------------------------------------- */
/* For one signature, two C functions compiled by clang or gcc under the signature's
 * convention (sysv_abi / ms_abi), named after S = the stub's content hash ("s<16 hex>_"):
 *   void S_call(void *fn, void *const *args, void *ret)
 *       calls fn with argument i read from args[i] (a ptr: the void * stored there) and
 *       stores the return value's bytes at ret (a ptr: the 8-byte address);
 *   RET S_callee(PARAMS...)
 *       records every argument into the context *S_ctx points to (af_stub_ctx, set by the
 *       harness), applies the call's memory effects and returns the value the context holds.
 * The same signature (same types, same convention) in any case gets the same S. Doc:
 * doc/oracle-stubs.md. */

/* One call a callee stub answered. The harness fills the inputs, the stub the outputs. The
 * stubs' C text declares the same struct (stubs.c's prelude): keep them in step. */
typedef struct {
  /* set by the stub */
  uint64_t id;                /* the stub's hash: which signature was called */
  int32_t nargs;              /* arguments received (named + variadic) */
  int32_t overflow;           /* 1: cap was too small, args not recorded */
  uint64_t ext[AF_MAX_PARAMS]; /* bool/i8..u16 arguments as the stub's compiler widened
                                  them to 64 bits (a callee that relies on the caller's
                                  extension shows the register's upper bits here) */
  /* set by the harness */
  unsigned char *args;        /* record buffer, 16-aligned: argument i at af_stub_arg_offset */
  uint32_t cap;               /* bytes at args */
  int32_t ret_arg;            /* >= 0: return that (ptr) argument; else the bytes at ret */
  const unsigned char *ret;   /* the return value's bytes (ptr: an 8-byte address); NULL: 0 */
  const unsigned char *after; /* NULL, or for every ptr argument i the AF_REGION_SIZE bytes
                                 at after + i * AF_REGION_SIZE to copy into its region */
} af_stub_call;

typedef struct {
  int32_t ncalls;       /* incremented by every call of any stub using this context */
  int32_t max;          /* entries of calls[]; calls beyond are counted only */
  af_stub_call *calls;  /* call n is recorded in calls[n] */
} af_stub_ctx;

/* Where a callee stub records argument i of sig (16-aligned offsets, a ptr takes 8 bytes);
 * i == sig->nparams: the bytes the whole record needs. */
uint32_t af_stub_arg_offset(const af_case *c, const af_sig *sig, int i);

/* The C text of one signature's stubs (without the prelude). */
typedef struct {
  uint64_t hash;   /* content hash of the compiler-independent text */
  char prefix[24]; /* "s<16 hex>_" */
  char *text;      /* malloc'd, NUL-terminated */
  size_t len;
  int needs_avx;   /* uses __m256 */
  int needs_f16;   /* uses _Float16 */
} af_stub_src;

/* AF_ERR_UNSUPPORTED for a signature C cannot spell (an array parameter). */
af_status af_stub_emit(const af_case *c, const af_sig *sig, af_stub_src *out, af_error *err);
void af_stub_src_free(af_stub_src *s);
/* What every stub file starts with (includes, vector typedefs, the context structs). */
af_status af_stub_prelude(FILE *out);
/* Flags every stub compile uses (plus -mavx on a host with AVX). */
#define AF_STUB_FLAGS AF_CC_BASE_FLAGS " -O1 -ffp-contract=off"

typedef void (*af_stub_call_fn)(void *fn, void *const *args, void *ret);
typedef struct {
  af_stub_call_fn call; /* S_call */
  void *callee;         /* S_callee */
  af_stub_ctx **ctx;    /* &S_ctx */
} af_stub_syms;

/* A pool of one compiler's stubs: an in-memory table over the on-disk cache, and a
 * background thread that compiles requested signatures in batches (one compiler run, one
 * shared object each) and publishes them. Thread-safe. */
typedef struct af_stub_pool af_stub_pool;
typedef struct {
  const char *cc;        /* compiler path or name */
  const char *cache_dir; /* NULL: $XDG_CACHE_HOME/abifuzz, else ~/.cache/abifuzz */
  int max_pending;       /* signatures waiting for the compiler (0: 4096) */
  int batch_max;         /* signatures per compiler run (0: 200) */
  int batch_wait_ms;     /* the thread waits this long for more work (0: 20) */
} af_stub_pool_opts;

typedef enum {
  AF_STUB_READY,   /* compiled and loaded: af_stub_pool_get */
  AF_STUB_PENDING, /* queued or compiling */
  AF_STUB_FAILED,  /* the compiler refused it (or lacks _Float16); a hash never requested */
  AF_STUB_BACKLOG, /* not queued: too many pending (the caller skips the case) */
} af_stub_state;

typedef struct {
  long requests, cache_hits; /* requests; of them answered from memory or disk */
  long compiled;             /* signatures compiled by this pool */
  long runs;                 /* compiler runs (failed ones and isolation runs included) */
  long failed;               /* signatures the compiler refused */
  long backlog;              /* requests refused as backlog */
  double compile_s;          /* wall time in the compiler */
} af_stub_stats;

/* Identifies the compiler (af_cc_identify), opens the cache and starts the thread.
 * AF_ERR_UNSUPPORTED: the compiler is missing or neither gcc nor clang. */
af_status af_stub_pool_new(const af_stub_pool_opts *o, af_stub_pool **out, af_error *err);
void af_stub_pool_free(af_stub_pool *p); /* stops the thread; unloads the shared objects */
void af_stub_pool_identity(const af_stub_pool *p, af_family *family, int *major,
                           const char **name); /* name: "clang-19", "gcc-12" */
/* Asks for src's stubs (the pool copies the text). */
af_stub_state af_stub_pool_request(af_stub_pool *p, const af_stub_src *src);
af_stub_state af_stub_pool_state(af_stub_pool *p, uint64_t hash);
/* Waits until hash is no longer pending (timeout_ms < 0: no limit); its state. */
af_stub_state af_stub_pool_wait(af_stub_pool *p, uint64_t hash, int timeout_ms);
/* The symbols of a READY hash; AF_ERR_INVALID otherwise. */
af_status af_stub_pool_get(af_stub_pool *p, uint64_t hash, af_stub_syms *out);
void af_stub_pool_stats(af_stub_pool *p, af_stub_stats *out);
/* The default cache directory into buf. */
void af_stub_cache_default_dir(char *buf, size_t n);

#endif /* ABIFUZZ_ORACLE_H */
