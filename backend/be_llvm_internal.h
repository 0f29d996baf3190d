/* be_llvm_internal.h - what the llvm backend's files share: the module being built, how a
 * signature maps to LLVM IR (clang's shape, derived from af_classify), the value helpers. */
#ifndef ABIFUZZ_BE_LLVM_INTERNAL_H
#define ABIFUZZ_BE_LLVM_INTERNAL_H

#include <llvm-c/Core.h>

#include "backend_internal.h"

/* How one argument or the return value crosses the call, as clang 19 would emit it
 * (clang's lib/CodeGen/Targets/X86.cpp, X86_64ABIInfo / WinX86_64ABIInfo), with every
 * location taken from af_callinfo (gen/classify_*.c): no second classifier here. */
typedef enum {
  BL_IGNORE, /* nothing crosses (SysV empty struct, void return) */
  BL_DIRECT, /* the value's own IR type: i32, double, x86_fp80, i128, <4 x float> ... */
  BL_COERCE, /* through memory as 1-2 register-sized parts (i64, double, <2 x float> ...);
                arguments pass the parts as separate IR arguments, returns as {P0, P1} */
  BL_BYVAL,  /* SysV MEMORY argument: ptr byval(T) align N */
  BL_REF,    /* Win64 by reference: ptr to a 16-aligned caller copy (no byval) */
  BL_SRET,   /* return through a hidden ptr sret(T) first argument */
} bl_kind;

typedef struct {
  bl_kind kind;
  int nir;           /* IR parameters it takes (COERCE: nparts; DIRECT/BYVAL/REF: 1) */
  LLVMTypeRef ir[2]; /* their IR types (COERCE: the part types) */
  uint16_t off[2];   /* COERCE: byte offset of each part in the value */
  char ext;          /* 'z' zeroext, 's' signext, 0 none */
  unsigned align;    /* BYVAL / SRET: the attribute's alignment */
} bl_arg;

typedef struct {
  af_callinfo ci;
  bl_arg ret;
  bl_arg args[AF_MAX_PARAMS];
  LLVMTypeRef fnty; /* variadic signatures: the fixed part, IsVarArg */
  unsigned cconv;   /* LLVMX8664SysVCallConv / LLVMWin64CallConv */
} bl_sig;

/* One case's module while it is built. */
typedef struct {
  const af_case *c;
  af_backend_code *code; /* imports (host functions' stubs), object table */
  LLVMContextRef ctx;
  LLVMModuleRef mod;
  LLVMBuilderRef b;   /* the body */
  LLVMBuilderRef ab;  /* allocas, in the entry block */
  const char *prefix; /* symbol prefix of this case: "c<n>_" */
  int avx;            /* the case has __m256: "+avx" on every function */
  LLVMTypeRef t_i1, t_i8, t_i16, t_i32, t_i64, t_i128, t_half, t_flt, t_dbl, t_f80, t_ptr, t_v4f,
      t_v8f, t_v2i64, t_void, t_cf32, t_cf64;
  bl_sig sig[AF_MAX_FUNCS];
  LLVMValueRef fn[AF_MAX_FUNCS]; /* definitions of the non-host functions */
  LLVMTypeRef fold_ty;           /* af_fold_operand (gen.h), called at its address */
  LLVMValueRef fold_fn;
  /* the function being lowered */
  int fi;
  LLVMValueRef *val; /* [nvalues] */
  /* a failure: a constant skip reason (AF_ERR_UNSUPPORTED; nothing is unsupported yet) */
  const char *skip;
  af_error *err;
} bl_mod;

/* ---- be_llvm_abi.c: signatures, call sites, entry and return -------------------------- */
af_status bl_sig_make(bl_mod *m, const af_sig *sig, bl_sig *out);
void bl_fn_attrs(bl_mod *m, LLVMValueRef fn, const bl_sig *s);
/* The function's parameters as values (m->val[0..nparams)), at the start of its body. */
void bl_entry(bl_mod *m, LLVMValueRef fn, const af_func *f, const bl_sig *s);
/* be_llvm_va.c: a variadic function's "..." arguments read with va_arg on entry. */
void bl_va_args(bl_mod *m, const af_func *f, const bl_sig *s);
void bl_return(bl_mod *m, const af_func *f, const bl_sig *s, LLVMValueRef v);
/* A call of function k with value ids args; returns its value (NULL for void). */
LLVMValueRef bl_call(bl_mod *m, int k, const int *args, int nargs);

/* ---- be_llvm_lower.c: values ----------------------------------------------------------- */
/* The IR type a value of `type` has: bool i1, integers iN, f16 half, f80 x86_fp80, complex
 * {T, T}, ptr, vectors <N x float>; struct/union values are a ptr to their immutable bytes. */
LLVMTypeRef bl_vt(bl_mod *m, int type);
int bl_is_mem(const af_case *c, int type); /* struct / union: a value is a ptr to bytes */
LLVMValueRef bl_alloca(bl_mod *m, uint32_t size, uint32_t align);
/* The bytes of v (of `type`) in memory: aggregates are already; others spill to a temp. */
LLVMValueRef bl_spill(bl_mod *m, LLVMValueRef v, int type);
/* Stores v (bool as a 0/1 byte, aggregates copied) at p; loads a value back (aggregates
 * copied into a fresh temp, so later stores to p do not change it). */
void bl_store(bl_mod *m, LLVMValueRef p, LLVMValueRef v, int type, unsigned align);
LLVMValueRef bl_load(bl_mod *m, LLVMValueRef p, int type, unsigned align);
LLVMValueRef bl_gep(bl_mod *m, LLVMValueRef p, uint32_t off);
void bl_memcpy(bl_mod *m, LLVMValueRef d, LLVMValueRef s, uint32_t n);
LLVMValueRef bl_const_ptr(bl_mod *m, const void *p);
af_status bl_fail(bl_mod *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- be_llvm_ops.c: one instruction -------------------------------------------------- */
af_status bl_inst(bl_mod *m, const af_func *f, const af_inst *in);

/* ---- be_llvm_lower.c: the module ----------------------------------------------------- */
/* Builds c's module in ctx (every non-host function `<prefix>f<k>`), verified. */
af_status bl_build(bl_mod *m, const af_case *c, af_backend_code *code, LLVMContextRef ctx,
                   const char *prefix, LLVMModuleRef *out);

#endif
