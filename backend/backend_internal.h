/* backend_internal.h - what each backend kind implements, and the helpers they share. */
#ifndef ABIFUZZ_BACKEND_INTERNAL_H
#define ABIFUZZ_BACKEND_INTERNAL_H

#include <stddef.h>

#include "backend.h"

/* ---- the import table (imports.c) ------------------------------------------------------ */
/* One per compiled case: a stub per function index k that jumps through slot k
 * (`movabs r11, &slot_k; jmp [r11]`: R11 is volatile in SysV and Win64, psABI 3.2.1 and
 * Microsoft "x64 calling convention: caller/callee saved registers", so a stub may clobber
 * it), in sealed code memory (codemem.h, so a crash there counts as code under test), and
 * the object table MIX's pointer ids compare against. Slots start at a ud2 trap. */
typedef struct be_imports be_imports;
af_status be_imports_new(be_imports **out, af_error *err);
void be_imports_free(be_imports *im);
const void *be_imports_fn(const be_imports *im, int k); /* stub of function k (k < AF_MAX_FUNCS) */
uint8_t **be_imports_objects(be_imports *im);           /* AF_MAX_OBJECTS pointers */
void be_imports_bind(be_imports *im, int k, const void *target);

/* Symbol names the external code uses for its imports (prefix is "" or a batch's "c<i>_"):
 *   <prefix>f<k>        function k of the case (host functions are undefined: imports)
 *   <prefix>af_objects  unsigned char *[AF_MAX_OBJECTS], the object table
 * be_import_lookup resolves such a name against im: NULL if it is none of them. */
const void *be_import_lookup(be_imports *im, const char *prefix, const char *name);

/* ---- one compiled case ------------------------------------------------------------------ */
struct af_backend_code {
  af_jit_ext ext;      /* fn[k], size[k], objects (= be_imports_objects(imports)), name */
  be_imports *imports; /* af_backend_bind writes its slots; freed with the code */
  void (*release)(af_backend_code *code); /* frees priv (the kind's part); NULL: nothing */
  void *priv;
};

/* ---- a backend kind ---------------------------------------------------------------------- */
typedef struct {
  const char *kind;  /* what precedes ':' in the spec, or the whole spec */
  const char *usage; /* for --list-backends */
  const char *desc;
  int has_arg; /* 1: "kind:ARG" required */
  /* arg: what follows ':' (NULL when has_arg is 0). */
  af_status (*open)(const char *arg, void **state, af_error *err);
  void (*close)(void *state);
  int (*supports_cc)(void *state, af_cc cc); /* NULL: both */
  /* Fills code->ext.fn/size and code->priv/release for every non-host function of c.
   * code->imports is allocated and code->ext.objects set on entry: the code must call and
   * reference those addresses (be_imports_fn, be_import_lookup). A kind that compiled c
   * earlier in a prefetched batch (with imports of its own, be_imports_new) swaps them in:
   * be_imports_free(code->imports), then code->imports and code->ext.objects from its unit. */
  af_status (*compile)(void *state, const af_case *c, af_backend_code *code, const char **skip,
                       af_error *err);
  void (*prefetch)(void *state, const af_case *const *cases, int n); /* NULL: none */
} be_kind;

/* The kinds (each in its own file; a kind not built in is absent from the table and listed
 * by backend.c as unavailable). */
extern const be_kind be_kind_cc;
extern const be_kind be_kind_llvm;
extern const be_kind be_kind_tcc;
extern const be_kind be_kind_gccjit;
extern const be_kind be_kind_plugin;

#endif
