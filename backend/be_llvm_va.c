/* be_llvm_va.c - a variadic callee reading its "..." arguments: va_arg lowered by hand, as clang
 * lowers it for x86-64 (SysV psABI 3.5.7; Win64 "Varargs"), from af_classify's classes. */
#include <string.h>

#include "be_llvm_internal.h"

/* gen.h: a variadic function reads every variadic argument with va_arg, in order, on entry.
 * llvm.va_start fills the va_list (SysV: {i32 gp_offset, i32 fp_offset, ptr overflow_arg_area,
 * ptr reg_save_area}, psABI Figure 3.34; Win64: a char * to the first variadic slot in the
 * home area, which LLVM spills the argument registers to). */

static LLVMValueRef va_intrinsic(bl_mod *m, const char *name, LLVMValueRef list) {
  unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
  LLVMTypeRef pt = m->t_ptr;
  int ov = LLVMIntrinsicIsOverloaded(id);
  LLVMValueRef fn = LLVMGetIntrinsicDeclaration(m->mod, id, &pt, ov ? 1 : 0);
  return LLVMBuildCall2(m->b, LLVMIntrinsicGetType(m->ctx, id, &pt, ov ? 1 : 0), fn, &list, 1, "");
}

static LLVMValueRef ld(bl_mod *m, LLVMTypeRef t, LLVMValueRef p) {
  LLVMValueRef v = LLVMBuildLoad2(m->b, t, p, "");
  LLVMSetAlignment(v, 1);
  return v;
}

static void st(bl_mod *m, LLVMValueRef v, LLVMValueRef p) {
  LLVMSetAlignment(LLVMBuildStore(m->b, v, p), 1);
}

static LLVMValueRef value_at(bl_mod *m, LLVMValueRef p, int t) {
  return bl_is_mem(m->c, t) ? p : bl_load(m, p, t, 1);
}

/* ---- Win64: every variadic argument takes one 8-byte slot; by-reference ones hold a
 * pointer to the caller's copy (clang: emitVoidPtrVAArg, slot size 8, no higher alignment). */
static void va_win64(bl_mod *m, const af_func *f, const bl_sig *s, LLVMValueRef list) {
  LLVMValueRef ap = ld(m, m->t_ptr, list);
  for (int i = f->sig.nfixed; i < f->sig.nparams; i++) {
    int t = f->sig.params[i];
    LLVMValueRef p = ap;
    if (s->ci.args[i].kind == AF_LOC_REF) p = ld(m, m->t_ptr, ap);
    m->val[i] = bl_load(m, p, t, 1); /* aggregates: a copy of the bytes */
    ap = bl_gep(m, ap, 8);
  }
  st(m, ap, list);
}

/* ---- SysV (psABI 3.5.7 "The va_arg Macro") ---------------------------------------------- */
typedef struct {
  int n;
  af_class cls[2];
  uint16_t off[2], size[2];
} va_parts;

/* The register parts of a type passed in registers, from its eightbyte classes (af_loc.cls,
 * filled for every argument): INTEGER -> one GPR, SSE (+ SSEUP) -> one XMM. 0 when the type
 * goes to memory whatever registers are left (MEMORY, X87, larger than 16 bytes). */
static int sysv_reg_parts(const af_case *c, const af_loc *l, int t, va_parts *p) {
  uint32_t size = c->types[t].size;
  memset(p, 0, sizeof *p);
  if (size == 0 || size > 16 || l->ncls < 1) return 0;
  for (int i = 0; i < l->ncls; i++) {
    uint32_t off = 8u * (uint32_t)i, len = size - off < 8 ? size - off : 8;
    af_class k = l->cls[i];
    if (k == AF_CLS_INTEGER || k == AF_CLS_SSE) {
      if (k == AF_CLS_SSE && i + 1 < l->ncls && l->cls[i + 1] == AF_CLS_SSEUP) {
        len = size - off;
        i++;
      }
      p->cls[p->n] = k;
      p->off[p->n] = (uint16_t)off;
      p->size[p->n++] = (uint16_t)len;
    } else if (k != AF_CLS_NO_CLASS) {
      return 0;
    }
  }
  return p->n > 0;
}

static void va_sysv_one(bl_mod *m, LLVMValueRef list, int t, const af_loc *l, LLVMValueRef tmp) {
  const af_type *ty = &m->c->types[t];
  LLVMValueRef fn = m->fn[m->fi];
  LLVMValueRef gp_p = list, fp_p = bl_gep(m, list, 4), ov_p = bl_gep(m, list, 8),
               rs_p = bl_gep(m, list, 16);
  va_parts p;
  LLVMBasicBlockRef join = LLVMAppendBasicBlockInContext(m->ctx, fn, "va.join");
  if (sysv_reg_parts(m->c, l, t, &p)) {
    int ng = 0, nf = 0;
    for (int k = 0; k < p.n; k++)
      p.cls[k] == AF_CLS_INTEGER ? ng++ : nf++;
    /* step 3: fits if gp_offset <= 48 - 8 * ng and fp_offset <= 176 - 16 * nf */
    LLVMValueRef gp = ld(m, m->t_i32, gp_p), fp = ld(m, m->t_i32, fp_p);
    LLVMValueRef ok = LLVMConstInt(m->t_i1, 1, 0);
    if (ng)
      ok = LLVMBuildAnd(
          m->b, ok,
          LLVMBuildICmp(m->b, LLVMIntULE, gp, LLVMConstInt(m->t_i32, 48 - 8 * (unsigned)ng, 0), ""),
          "");
    if (nf)
      ok = LLVMBuildAnd(m->b, ok,
                        LLVMBuildICmp(m->b, LLVMIntULE, fp,
                                      LLVMConstInt(m->t_i32, 176 - 16 * (unsigned)nf, 0), ""),
                        "");
    LLVMBasicBlockRef inreg = LLVMAppendBasicBlockInContext(m->ctx, fn, "va.reg");
    LLVMBasicBlockRef inmem = LLVMAppendBasicBlockInContext(m->ctx, fn, "va.mem");
    LLVMBuildCondBr(m->b, ok, inreg, inmem);
    /* step 4: fetch each part from reg_save_area + gp_offset / fp_offset, bump them */
    LLVMPositionBuilderAtEnd(m->b, inreg);
    LLVMValueRef rs = ld(m, m->t_ptr, rs_p);
    for (int k = 0; k < p.n; k++) {
      int isint = p.cls[k] == AF_CLS_INTEGER;
      LLVMValueRef *o = isint ? &gp : &fp;
      LLVMValueRef src = LLVMBuildInBoundsGEP2(m->b, m->t_i8, rs, o, 1, "");
      bl_memcpy(m, bl_gep(m, tmp, p.off[k]), src, p.size[k]);
      *o = LLVMBuildAdd(m->b, *o, LLVMConstInt(m->t_i32, isint ? 8 : 16, 0), "");
    }
    if (ng) st(m, gp, gp_p);
    if (nf) st(m, fp, fp_p);
    LLVMBuildBr(m->b, join);
    LLVMPositionBuilderAtEnd(m->b, inmem);
  }
  /* steps 7-10: from overflow_arg_area, aligned to the type's alignment when above 8,
   * then advanced by the size rounded up to 8 */
  LLVMValueRef ov = ld(m, m->t_ptr, ov_p);
  uint32_t al = ty->alignment > 8 ? ty->alignment : 8;
  if (al > 8) {
    LLVMValueRef a = LLVMBuildPtrToInt(m->b, ov, m->t_i64, "");
    a = LLVMBuildAdd(m->b, a, LLVMConstInt(m->t_i64, al - 1, 0), "");
    a = LLVMBuildAnd(m->b, a, LLVMConstInt(m->t_i64, ~(uint64_t)(al - 1), 0), "");
    ov = LLVMBuildIntToPtr(m->b, a, m->t_ptr, "");
  }
  bl_memcpy(m, tmp, ov, ty->size);
  st(m, bl_gep(m, ov, (ty->size + 7) / 8 * 8), ov_p);
  LLVMBuildBr(m->b, join);
  LLVMPositionBuilderAtEnd(m->b, join);
}

void bl_va_args(bl_mod *m, const af_func *f, const bl_sig *s) {
  int win = f->sig.cc == AF_CC_WIN64;
  LLVMValueRef list = bl_alloca(m, win ? 8 : 24, 16);
  va_intrinsic(m, "llvm.va_start", list);
  if (win) {
    va_win64(m, f, s, list);
  } else {
    for (int i = f->sig.nfixed; i < f->sig.nparams; i++) {
      int t = f->sig.params[i];
      const af_type *ty = &m->c->types[t];
      LLVMValueRef tmp = bl_alloca(m, ty->size + 16, ty->alignment < 16 ? 16 : ty->alignment);
      va_sysv_one(m, list, t, &s->ci.args[i], tmp);
      m->val[i] = value_at(m, tmp, t);
    }
  }
  va_intrinsic(m, "llvm.va_end", list);
}
