/* plugin.h - the abifuzz plugin API: a shared object that compiles abifuzz's cases. */
#ifndef ABIFUZZ_PLUGIN_H
#define ABIFUZZ_PLUGIN_H

/* abifuzz (an x86-64 calling-convention conformance fuzzer) runs the code a plugin produces
 * for each generated case against a reference interpreter: `abifuzz --backend
 * plugin:PATH.so[:ARG]`. The full guide is doc/plugins.md (installed under
 * share/doc/abifuzz); examples/plugin/cc_plugin.c is a complete plugin to copy.
 *
 * This header is self-contained (plain C types only) and stable: a change that breaks a
 * plugin built against it bumps ABIFUZZ_PLUGIN_API_VERSION, and abifuzz refuses a plugin
 * whose version differs from its own.
 *
 * A plugin is a shared object exporting (with C linkage):
 *   required  abifuzz_plugin_api_version   (ABIFUZZ_PLUGIN_DEFINE_VERSION does it)
 *   required  abifuzz_plugin_compile, abifuzz_plugin_release
 *   optional  abifuzz_plugin_init, abifuzz_plugin_fini, abifuzz_plugin_supports_abi
 *
 * How it is called: abifuzz loads the plugin in every worker process (dlopen RTLD_NOW |
 * RTLD_LOCAL), calls init once, then compile / release for one case at a time from one
 * thread, then fini when the worker ends. A plugin that crashes or hangs is code under test:
 * the worker's supervisor records it as a finding and starts a fresh worker (which loads the
 * plugin again). The plugin must not install signal handlers or call exit(). */

#ifdef __cplusplus
extern "C" {
#endif

#define ABIFUZZ_PLUGIN_API_VERSION 1

/* On every declaration below, so that the entry points are exported even from a plugin built
 * with -fvisibility=hidden. */
#define ABIFUZZ_PLUGIN_EXPORT __attribute__((visibility("default")))

/* Limits, equal to abifuzz's own (gen.h AF_MAX_FUNCS, AF_MAX_OBJECTS). */
#define ABIFUZZ_MAX_FUNCS   16
#define ABIFUZZ_MAX_OBJECTS 16

/* Calling conventions (a function's `abi`). */
#define ABIFUZZ_ABI_SYSV  0 /* System V AMD64 psABI (__attribute__((sysv_abi))) */
#define ABIFUZZ_ABI_WIN64 1 /* Microsoft x64 (__attribute__((ms_abi))) */

/* abifuzz_case.features: what the case uses, so that a plugin can refuse what it cannot
 * express without parsing anything (return 1 with a reason). */
#define ABIFUZZ_FEAT_INT128      0x0001u  /* __int128 / unsigned __int128 */
#define ABIFUZZ_FEAT_F16         0x0002u  /* _Float16 */
#define ABIFUZZ_FEAT_LONG_DOUBLE 0x0004u  /* long double (x87 80-bit) */
#define ABIFUZZ_FEAT_COMPLEX     0x0008u  /* _Complex float / _Complex double */
#define ABIFUZZ_FEAT_M128        0x0010u  /* __m128 (a 16-byte float vector) */
#define ABIFUZZ_FEAT_M256        0x0020u  /* __m256: the C needs -mavx (see c_flags) */
#define ABIFUZZ_FEAT_WIN64       0x0040u  /* some function uses the Win64 convention */
#define ABIFUZZ_FEAT_SYSV        0x0080u  /* some function uses the SysV convention */
#define ABIFUZZ_FEAT_VARIADIC    0x0100u  /* some function is variadic */
#define ABIFUZZ_FEAT_STRUCT      0x0200u  /* struct types (by value) */
#define ABIFUZZ_FEAT_UNION       0x0400u  /* union types */
#define ABIFUZZ_FEAT_BITFIELD    0x0800u  /* bit-fields (also zero-width ones) */
#define ABIFUZZ_FEAT_PACKED      0x1000u  /* __attribute__((packed)) structs */
#define ABIFUZZ_FEAT_ALIGNED     0x2000u  /* over-alignment: aligned(N) types or _Alignas fields */
#define ABIFUZZ_FEAT_EMPTY       0x4000u  /* an empty struct (size 0, a GNU C extension) */
#define ABIFUZZ_FEAT_ARRAY       0x8000u  /* arrays (as struct fields) */
#define ABIFUZZ_FEAT_LOCAL       0x10000u /* stack regions (`local`: alloca-like, aligned 16-64) */
#define ABIFUZZ_FEAT_MEMORY      0x20000u /* loads and stores through pointers */

/* One function of the case. Function k is named "f<k>" in both case_text and c_source. */
struct abifuzz_func {
  const char *name; /* "f3" */
  int is_host;      /* 1: supplied by abifuzz (an import: call it, never compile it) */
  int abi;          /* ABIFUZZ_ABI_SYSV / ABIFUZZ_ABI_WIN64 */
  int variadic;     /* 1: declared `(fixed..., ...)` */
  int nparams;      /* arguments every call site passes (fixed + variadic) */
  int nfixed;       /* named parameters (== nparams unless variadic) */
};

/* One symbol the code must reference by address: a host function or the object table. */
struct abifuzz_import {
  const char *name; /* "f<k>" (host function k) or "af_objects" */
  void *addr;       /* where it is in this process, valid until release */
};

/* What abifuzz hands the plugin for one case. Every pointer is valid only during the
 * abifuzz_plugin_compile call: copy what you keep. */
struct abifuzz_case {
  unsigned api_version;           /* ABIFUZZ_PLUGIN_API_VERSION */
  unsigned long long seed, index; /* the case's replay key (`abifuzz replay`) */
  /* The case in abifuzz's .case text format (doc/case-format.md): types, objects,
   * functions with straight-line bodies (gen/gen.h gives each instruction's semantics),
   * the entry and its inputs. What a plugin with its own front end reads. */
  const char *case_text;
  /* The same case as one C11 (GNU) file, "external-code mode": every non-host function
   * f<k> defined with external linkage and its convention's attribute (sysv_abi / ms_abi);
   * every host function declared `extern` (an import); the object table declared
   * `extern unsigned char *af_objects[16]`; no objects, no main. NULL when abifuzz cannot
   * write this case as C (then use case_text or return 1). */
  const char *c_source;
  /* Flags gcc and clang need for c_source: "-std=gnu11 -Wno-psabi", plus " -mavx" when
   * the case uses __m256 (an __m256 travels in a YMM register only when compiled for AVX).
   * Other compilers: the same meaning in their own terms. */
  const char *c_flags;
  unsigned long features;           /* ABIFUZZ_FEAT_* */
  int abi;                          /* the entry's convention: what the case exercises */
  int entry;                        /* index of the entry function (never a host function) */
  int nfuncs;                       /* 1..ABIFUZZ_MAX_FUNCS */
  const struct abifuzz_func *funcs; /* [nfuncs] */
  /* The symbols c_source leaves undefined, with their addresses: one per host function
   * ("f<k>": call it with function k's convention) and "af_objects" (an array of
   * ABIFUZZ_MAX_OBJECTS `unsigned char *` that abifuzz fills before each run; a pointer's
   * identity is folded as (object, offset) by looking it up there). Link them as absolute
   * symbols (e.g. `-Wl,--defsym=f3=0x7f...`) or resolve them in your own loader. */
  int nimports;
  const struct abifuzz_import *imports; /* [nimports] */
};

/* What the plugin returns for a compiled case. abifuzz reads it until it calls
 * abifuzz_plugin_release on it (after every run of the case). */
struct abifuzz_code {
  void *fn[ABIFUZZ_MAX_FUNCS];           /* entry of every non-host function (required);
                                            NULL for host functions */
  unsigned long size[ABIFUZZ_MAX_FUNCS]; /* byte length of fn[k] if known, else 0 (lets
                                            abifuzz name the function a crash is in) */
  void *opaque;                          /* the plugin's, e.g. a loader handle */
};

/* Return values of abifuzz_plugin_compile (and init):
 *   OK     compiled: *out is filled
 *   SKIP   cannot express this case: why is a short constant sentence ("no __int128"),
 *          counted as a skip, never a finding (compile only)
 *   ERROR  failed (e.g. the compiler crashed): why is one line, reported as a finding about
 *          the plugin (from init: abifuzz does not start) */
#define ABIFUZZ_PLUGIN_OK    0
#define ABIFUZZ_PLUGIN_SKIP  1
#define ABIFUZZ_PLUGIN_ERROR 2

/* Optional. Called once per worker process, before any compile. arg is what follows
 * "plugin:PATH.so:" in the --backend spec (NULL when there is none). *state (NULL on entry)
 * is handed back to every other call. Return ABIFUZZ_PLUGIN_OK, or ABIFUZZ_PLUGIN_ERROR with
 * why (nwhy bytes, NUL-terminated): abifuzz then refuses to start with that message. */
ABIFUZZ_PLUGIN_EXPORT int abifuzz_plugin_init(const char *arg, void **state, char *why,
                                              unsigned long nwhy);
/* Optional. Called when the worker ends normally (not after a crash). */
ABIFUZZ_PLUGIN_EXPORT void abifuzz_plugin_fini(void *state);
/* Optional. 1 if the plugin can compile functions of convention abi at all (0: every case
 * with such a non-host function is skipped without a compile call). Absent: both. */
ABIFUZZ_PLUGIN_EXPORT int abifuzz_plugin_supports_abi(void *state, int abi);

/* Required. Compiles c's non-host functions into executable code in this process, calling
 * c->imports for the host functions. *out is zeroed on entry. Returns ABIFUZZ_PLUGIN_OK,
 * ABIFUZZ_PLUGIN_SKIP or ABIFUZZ_PLUGIN_ERROR (why: nwhy bytes, NUL-terminated). On SKIP or
 * ERROR the plugin frees what it made itself: release is not called. */
ABIFUZZ_PLUGIN_EXPORT int abifuzz_plugin_compile(void *state, const struct abifuzz_case *c,
                                                 struct abifuzz_code *out, char *why,
                                                 unsigned long nwhy);
/* Required. Frees what compile made for *code (unmapped: abifuzz no longer runs it). */
ABIFUZZ_PLUGIN_EXPORT void abifuzz_plugin_release(void *state, struct abifuzz_code *code);

/* The version symbol abifuzz checks first. Write ABIFUZZ_PLUGIN_DEFINE_VERSION; once in the
 * plugin, at file scope. */
extern ABIFUZZ_PLUGIN_EXPORT const unsigned abifuzz_plugin_api_version;
#define ABIFUZZ_PLUGIN_DEFINE_VERSION                                                              \
  const unsigned abifuzz_plugin_api_version = ABIFUZZ_PLUGIN_API_VERSION

/* The types of the entry points, for loaders (dlsym). */
typedef int (*abifuzz_plugin_init_fn)(const char *, void **, char *, unsigned long);
typedef void (*abifuzz_plugin_fini_fn)(void *);
typedef int (*abifuzz_plugin_supports_abi_fn)(void *, int);
typedef int (*abifuzz_plugin_compile_fn)(void *, const struct abifuzz_case *, struct abifuzz_code *,
                                         char *, unsigned long);
typedef void (*abifuzz_plugin_release_fn)(void *, struct abifuzz_code *);

#ifdef __cplusplus
}
#endif

#endif /* ABIFUZZ_PLUGIN_H */
