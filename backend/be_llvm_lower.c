/* be_llvm_lower.c - a case's non-host functions as one LLVM module: values, memory, functions. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Analysis.h>

#include "be_llvm_internal.h"

af_status bl_fail(bl_mod *m, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(m->err->msg, sizeof m->err->msg, fmt, ap);
  va_end(ap);
  return AF_ERR_INVALID;
}

int bl_is_mem(const af_case *c, int type) { return type >= AF_T_NSCALAR && type < c->ntypes; }

LLVMTypeRef bl_vt(bl_mod *m, int type) {
  switch (type) {
  case AF_T_BOOL: return m->t_i1;
  case AF_T_I8:
  case AF_T_U8: return m->t_i8;
  case AF_T_I16:
  case AF_T_U16: return m->t_i16;
  case AF_T_I32:
  case AF_T_U32: return m->t_i32;
  case AF_T_I64:
  case AF_T_U64: return m->t_i64;
  case AF_T_I128:
  case AF_T_U128: return m->t_i128;
  case AF_T_F16: return m->t_half;
  case AF_T_F32: return m->t_flt;
  case AF_T_F64: return m->t_dbl;
  case AF_T_F80: return m->t_f80;
  case AF_T_CF32: return m->t_cf32;
  case AF_T_CF64: return m->t_cf64;
  case AF_T_M128: return m->t_v4f;
  case AF_T_M256: return m->t_v8f;
  case AF_T_VOID: return m->t_void;
  default: return m->t_ptr; /* PTR, and struct / union values (their bytes) */
  }
}

/* Allocas go to the entry block, so that mem2reg/SROA see them at -O1 and above. */
LLVMValueRef bl_alloca(bl_mod *m, uint32_t size, uint32_t align) {
  LLVMValueRef p = LLVMBuildAlloca(m->ab, LLVMArrayType2(m->t_i8, size ? size : 1), "");
  LLVMSetAlignment(p, align ? align : 1);
  return p;
}

LLVMValueRef bl_gep(bl_mod *m, LLVMValueRef p, uint32_t off) {
  if (!off) return p;
  LLVMValueRef i = LLVMConstInt(m->t_i64, off, 0);
  return LLVMBuildInBoundsGEP2(m->b, m->t_i8, p, &i, 1, "");
}

void bl_memcpy(bl_mod *m, LLVMValueRef d, LLVMValueRef s, uint32_t n) {
  if (n) LLVMBuildMemCpy(m->b, d, 1, s, 1, LLVMConstInt(m->t_i64, n, 0));
}

LLVMValueRef bl_const_ptr(bl_mod *m, const void *p) {
  return LLVMConstIntToPtr(LLVMConstInt(m->t_i64, (uint64_t)(uintptr_t)p, 0), m->t_ptr);
}

void bl_store(bl_mod *m, LLVMValueRef p, LLVMValueRef v, int type, unsigned align) {
  if (bl_is_mem(m->c, type)) {
    bl_memcpy(m, p, v, m->c->types[type].size);
    return;
  }
  if (type == AF_T_BOOL) v = LLVMBuildZExt(m->b, v, m->t_i8, ""); /* a byte 0 or 1 */
  LLVMValueRef st = LLVMBuildStore(m->b, v, p);
  LLVMSetAlignment(st, align);
}

LLVMValueRef bl_load(bl_mod *m, LLVMValueRef p, int type, unsigned align) {
  if (bl_is_mem(m->c, type)) {
    const af_type *ty = &m->c->types[type];
    LLVMValueRef d = bl_alloca(m, ty->size, ty->alignment);
    bl_memcpy(m, d, p, ty->size);
    return d;
  }
  LLVMValueRef v = LLVMBuildLoad2(m->b, type == AF_T_BOOL ? m->t_i8 : bl_vt(m, type), p, "");
  LLVMSetAlignment(v, align);
  return type == AF_T_BOOL ? LLVMBuildTrunc(m->b, v, m->t_i1, "") : v;
}

LLVMValueRef bl_spill(bl_mod *m, LLVMValueRef v, int type) {
  if (bl_is_mem(m->c, type)) return v;
  const af_type *ty = &m->c->types[type];
  LLVMValueRef p = bl_alloca(m, ty->size, ty->alignment);
  bl_store(m, p, v, type, ty->alignment);
  return p;
}

static void init_types(bl_mod *m) {
  LLVMContextRef x = m->ctx;
  m->t_i1 = LLVMInt1TypeInContext(x);
  m->t_i8 = LLVMInt8TypeInContext(x);
  m->t_i16 = LLVMInt16TypeInContext(x);
  m->t_i32 = LLVMInt32TypeInContext(x);
  m->t_i64 = LLVMInt64TypeInContext(x);
  m->t_i128 = LLVMInt128TypeInContext(x);
  m->t_half = LLVMHalfTypeInContext(x);
  m->t_flt = LLVMFloatTypeInContext(x);
  m->t_dbl = LLVMDoubleTypeInContext(x);
  m->t_f80 = LLVMX86FP80TypeInContext(x);
  m->t_ptr = LLVMPointerTypeInContext(x, 0);
  m->t_v4f = LLVMVectorType(m->t_flt, 4);
  m->t_v8f = LLVMVectorType(m->t_flt, 8);
  m->t_v2i64 = LLVMVectorType(m->t_i64, 2);
  m->t_void = LLVMVoidTypeInContext(x);
  LLVMTypeRef f2[2] = {m->t_flt, m->t_flt}, d2[2] = {m->t_dbl, m->t_dbl};
  m->t_cf32 = LLVMStructTypeInContext(x, f2, 2, 0); /* clang's { float, float } */
  m->t_cf64 = LLVMStructTypeInContext(x, d2, 2, 0);
  LLVMTypeRef fa[5] = {m->t_ptr, m->t_ptr, m->t_i64, m->t_ptr, m->t_i32};
  m->fold_ty = LLVMFunctionType(m->t_i64, fa, 5, 0);
  m->fold_fn = bl_const_ptr(m, (const void *)(uintptr_t)af_fold_operand);
}

/* 1 if any signature or value of the case involves __m256 (it needs AVX: YMM registers). */
static int case_has_m256(const af_case *c) {
  for (int k = 0; k < c->nfuncs; k++) {
    const af_func *f = &c->funcs[k];
    if (af_type_has(c, f->sig.ret, AF_T_M256)) return 1;
    for (int i = 0; i < f->sig.nparams; i++)
      if (af_type_has(c, f->sig.params[i], AF_T_M256)) return 1;
    for (int v = 0; v < f->nvalues; v++)
      if (af_type_has(c, f->value_type[v], AF_T_M256)) return 1;
  }
  return 0;
}

static af_status lower_func(bl_mod *m, int fi) {
  const af_func *f = &m->c->funcs[fi];
  LLVMValueRef fn = m->fn[fi];
  m->fi = fi;
  LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(m->ctx, fn, "entry");
  LLVMBasicBlockRef body = LLVMAppendBasicBlockInContext(m->ctx, fn, "body");
  LLVMPositionBuilderAtEnd(m->ab, entry);
  LLVMPositionBuilderAtEnd(m->b, body);
  m->val = calloc((size_t)(f->nvalues > 0 ? f->nvalues : 1), sizeof *m->val);
  if (!m->val) return bl_fail(m, "llvm: out of memory");
  bl_entry(m, fn, f, &m->sig[fi]);
  af_status s = AF_OK;
  for (int i = 0; s == AF_OK && i < f->ninsts; i++)
    s = bl_inst(m, f, &f->insts[i]);
  free(m->val);
  m->val = NULL;
  LLVMBuildBr(m->ab, body);
  return s;
}

af_status bl_build(bl_mod *m, const af_case *c, af_backend_code *code, LLVMContextRef ctx,
                   const char *prefix, LLVMModuleRef *out) {
  *out = NULL;
  m->c = c;
  m->code = code;
  m->ctx = ctx;
  m->prefix = prefix;
  init_types(m);
  m->avx = case_has_m256(c);
  m->mod = LLVMModuleCreateWithNameInContext("abifuzz_case", ctx);
  m->b = LLVMCreateBuilderInContext(ctx);
  m->ab = LLVMCreateBuilderInContext(ctx);
  af_status s = AF_OK;
  for (int k = 0; s == AF_OK && k < c->nfuncs; k++) {
    m->fi = k;
    s = bl_sig_make(m, &c->funcs[k].sig, &m->sig[k]);
    if (s != AF_OK || c->funcs[k].host) continue;
    char name[64];
    snprintf(name, sizeof name, "%sf%d", prefix, k);
    m->fn[k] = LLVMAddFunction(m->mod, name, m->sig[k].fnty);
    bl_fn_attrs(m, m->fn[k], &m->sig[k]);
  }
  for (int k = 0; s == AF_OK && k < c->nfuncs; k++)
    if (!c->funcs[k].host) s = lower_func(m, k);
  LLVMDisposeBuilder(m->b);
  LLVMDisposeBuilder(m->ab);
  m->b = m->ab = NULL;
  if (s == AF_OK) {
    char *msg = NULL;
    if (LLVMVerifyModule(m->mod, LLVMReturnStatusAction, &msg)) {
      s = bl_fail(m, "llvm: the module does not verify: %.200s", msg ? msg : "?");
    }
    LLVMDisposeMessage(msg);
  }
  if (s != AF_OK) {
    LLVMDisposeModule(m->mod);
    m->mod = NULL;
    return s;
  }
  *out = m->mod;
  return AF_OK;
}
