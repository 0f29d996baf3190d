/* be_llvm_abi.c - a case signature as clang 19 would declare it in LLVM IR, and its calls,
 * entries and returns, with every location taken from af_classify. */
#include <string.h>

#include "be_llvm_internal.h"

/* Where clang's IR shape comes from: lib/CodeGen/Targets/X86.cpp (clang 19).
 * - SysV (X86_64ABIInfo::classifyArgumentType / classifyReturnType): scalars are passed as
 *   their own IR type (x86_fp80 too, and i128 on the stack: LLVM places them), _Bool/char/
 *   short with zeroext/signext; an aggregate, a complex or an __int128 in registers is
 *   coerced to one IR value per eightbyte class (getINTEGERTypeAtOffset: i64, the i8/i16/i32
 *   starting the eightbyte when only padding follows it, else the iN covering the tail;
 *   getSSETypeAtOffset: double / float / <2 x float> / half), two of them flattened into two
 *   arguments or returned as { A, B }; a MEMORY aggregate is `ptr byval(T) align
 *   max(8, alignof T)`, or iN when it fits an eightbyte and no integer register is left
 *   (getIndirectResult); a MEMORY return is sret.
 * - Win64 (WinX86_64ABIInfo::classify): aggregates of 1/2/4/8 bytes coerced to iN, other
 *   aggregates, __int128 and _Complex double by a pointer to a caller copy
 *   (getIndirect(ByVal=false)); long double, __m128 and __m256 stay direct and LLVM passes
 *   them by pointer (CC_X86_Win64_C: CCPassIndirect); only bool is extended; __int128 is
 *   returned as <2 x i64> in XMM0, long double in ST0.
 * The eightbyte classes, register counts and which argument goes to memory are af_classify's
 * (gen/classify_sysv.c, classify_win64.c); this file only chooses the IR types.
 * tests/test_backend_llvm_shape.c checks them against clang-19 -S -emit-llvm of the case's C:
 * they match but for element types with the same register bits (double for <2 x float> ...)
 * and a few bit-field / union eightbytes (clang's record layout is not modelled here). */

static int is_complex(int t) { return t == AF_T_CF32 || t == AF_T_CF64; }

/* ---- clang's element types (X86.cpp GetINTEGERTypeAtOffset / GetSSETypeAtOffset) ---------
 * Both look at the scalar that starts exactly at the eightbyte (descending into structs,
 * arrays and complex parts) and at whether the bytes after it are user data or padding. */

/* The scalar starting exactly at byte off of type t, or -1 (none, a union, a bit-field). */
static int leaf_at(const af_case *c, int t, uint32_t off) {
  if (t == AF_T_CF32 || t == AF_T_CF64) {
    uint32_t h = t == AF_T_CF32 ? 4 : 8;
    return off == 0 || off == h ? (t == AF_T_CF32 ? AF_T_F32 : AF_T_F64) : -1;
  }
  if (t < AF_T_NSCALAR) return off == 0 ? t : -1;
  const af_type *ty = &c->types[t];
  if (ty->kind == AF_T_ARRAY) {
    uint32_t es = c->types[ty->elem].size;
    return es && off < es * ty->count ? leaf_at(c, ty->elem, off % es) : -1;
  }
  for (int i = 0; i < ty->nfields; i++) /* clang's bit-field storage units: not modelled */
    if (ty->fields[i].bits >= 0) return -1;
  if (ty->kind == AF_T_UNION) {
    /* clang lays a union out as its most aligned (then largest) member, then i8 padding
     * (CGRecordLowering::lowerUnion) */
    int best = -1;
    for (int i = 0; i < ty->nfields; i++) {
      const af_type *f = &c->types[ty->fields[i].type];
      const af_type *b = best >= 0 ? &c->types[ty->fields[best].type] : NULL;
      if (!b || f->alignment > b->alignment || (f->alignment == b->alignment && f->size > b->size))
        best = i;
    }
    if (best < 0) return -1;
    int bt = ty->fields[best].type;
    return off < c->types[bt].size ? leaf_at(c, bt, off) : AF_T_I8;
  }
  for (int i = 0; i < ty->nfields; i++) {
    const af_field *f = &ty->fields[i];
    uint32_t fs = c->types[f->type].size;
    if (f->bits >= 0 || fs == 0 || off < f->offset || off >= f->offset + fs) continue;
    return leaf_at(c, f->type, off - f->offset);
  }
  return -1;
}

/* Marks the bytes of type t at off that hold data (not padding) in mask. */
static void user_bytes(const af_case *c, int t, uint32_t off, uint8_t *mask) {
  const af_type *ty = &c->types[t];
  if (t < AF_T_NSCALAR) {
    uint32_t n = t == AF_T_F80 ? 10 : ty->size;
    for (uint32_t i = 0; i < n && off + i < AF_MAX_TYPE_SIZE; i++)
      mask[off + i] = 1;
    return;
  }
  if (ty->kind == AF_T_ARRAY) {
    for (uint32_t i = 0; i < ty->count; i++)
      user_bytes(c, ty->elem, off + i * c->types[ty->elem].size, mask);
    return;
  }
  for (int i = 0; i < ty->nfields; i++) {
    const af_field *f = &ty->fields[i];
    if (f->bits > 0) {
      for (uint32_t b = f->bit_offset; b < f->bit_offset + (uint32_t)f->bits; b++)
        if (off + b / 8 < AF_MAX_TYPE_SIZE) mask[off + b / 8] = 1;
    } else if (f->bits < 0) {
      user_bytes(c, f->type, off + f->offset, mask);
    }
  }
}

/* 1 if bytes [lo, hi) of a value of type t hold no data (clang's BitsContainNoUserData). */
static int no_user_data(const af_case *c, int t, uint32_t lo, uint32_t hi) {
  uint8_t mask[AF_MAX_TYPE_SIZE] = {0};
  user_bytes(c, t, 0, mask);
  for (uint32_t i = lo; i < hi && i < c->types[t].size; i++)
    if (mask[i]) return 0;
  return 1;
}

static int is_fp_leaf(int t) { return t == AF_T_F16 || t == AF_T_F32 || t == AF_T_F64; }

/* The IR type of one register part. Where clang picks <2 x float>, <4 x half> or
 * <2 x half> this picks double, double and float: the same bits in the XMM register. */
static LLVMTypeRef part_type(bl_mod *m, af_cc cc, const af_part *p, int type) {
  const af_case *c = m->c;
  uint32_t o = p->offset, src = c->types[type].size - o; /* bytes from o to the end */
  if (p->cls == AF_CLS_INTEGER) {
    int l = cc == AF_CC_SYSV ? leaf_at(c, type, o) : -1; /* Win64: iN of the whole size */
    uint32_t ls = l >= 0 ? af_scalar((af_kind)l)->size : 0;
    int small = l == AF_T_BOOL || (l >= AF_T_I8 && l <= AF_T_U32);
    if (small && no_user_data(c, type, o + ls, o + 8)) return LLVMIntTypeInContext(m->ctx, 8 * ls);
    return p->size >= 8 ? m->t_i64 : LLVMIntTypeInContext(m->ctx, 8u * p->size);
  }
  if (p->size > 16) return m->t_v8f;
  if (p->size > 8) return type == AF_T_I128 || type == AF_T_U128 ? m->t_v2i64 : m->t_v4f;
  int t0 = leaf_at(c, type, o);
  if (!is_fp_leaf(t0) || t0 == AF_T_F64) return m->t_dbl;
  uint32_t s0 = t0 == AF_T_F16 ? 2 : 4;
  int t1 = src > s0 ? leaf_at(c, type, o + s0) : -1;
  if (!is_fp_leaf(t1) && t0 == AF_T_F16 && src > 4) t1 = leaf_at(c, type, o + 4);
  if (!is_fp_leaf(t1)) return t0 == AF_T_F16 ? m->t_half : m->t_flt;
  if (t0 == AF_T_F16 && t1 == AF_T_F16 && !(src > 4 && is_fp_leaf(leaf_at(c, type, o + 4))))
    return m->t_flt; /* <2 x half> */
  return m->t_dbl;
}

static void coerce_parts(bl_mod *m, af_cc cc, const af_loc *l, int type, bl_arg *a) {
  a->kind = BL_COERCE;
  a->nir = l->nparts;
  for (int i = 0; i < l->nparts; i++) {
    a->ir[i] = part_type(m, cc, &l->parts[i], type);
    a->off[i] = l->parts[i].offset;
  }
}

static char ext_of(af_cc cc, int t) {
  if (t == AF_T_BOOL) return 'z'; /* both conventions extend _Bool (clang getExtend) */
  if (cc != AF_CC_SYSV) return 0;
  if (t == AF_T_I8 || t == AF_T_I16) return 's';
  if (t == AF_T_U8 || t == AF_T_U16) return 'z';
  return 0;
}

static void direct(bl_mod *m, af_cc cc, int t, bl_arg *a) {
  a->kind = BL_DIRECT;
  a->nir = 1;
  a->ir[0] = bl_vt(m, t);
  a->ext = ext_of(cc, t);
}

/* free_int: integer registers left before this argument (clang's FreeIntRegs). */
static void arg_shape(bl_mod *m, af_cc cc, const af_loc *l, int t, int free_int, bl_arg *a) {
  const af_type *ty = &m->c->types[t];
  int agg = bl_is_mem(m->c, t) || is_complex(t);
  memset(a, 0, sizeof *a);
  switch (l->kind) {
  case AF_LOC_NONE: a->kind = BL_IGNORE; return;
  case AF_LOC_REG:
    /* __int128 in registers: clang coerces it like a struct of two INTEGER eightbytes,
     * { i64, i64 } flattened to two arguments (on the stack it stays i128) */
    if (agg || t == AF_T_I128 || t == AF_T_U128)
      coerce_parts(m, cc, l, t, a);
    else
      direct(m, cc, t, a);
    return;
  case AF_LOC_STACK:
    if (!agg) {
      direct(m, cc, t, a);
    } else if (cc == AF_CC_WIN64) {
      /* a 1/2/4/8-byte aggregate past the fourth slot: the same iN as in a register */
      af_loc r = {.kind = AF_LOC_REG, .nparts = 1};
      r.parts[0] = (af_part){AF_REG_NONE, AF_CLS_INTEGER, 0, (uint16_t)ty->size};
      coerce_parts(m, cc, &r, t, a);
    } else if (free_int == 0 && ty->alignment <= 8 && ty->size <= 8) {
      /* getIndirectResult: with no integer register left, an eightbyte-sized aggregate is
       * passed as iN (its stack slot is the same as byval's) */
      af_loc r = {.kind = AF_LOC_REG, .nparts = 1};
      r.parts[0] = (af_part){AF_REG_NONE, AF_CLS_INTEGER, 0, (uint16_t)ty->size};
      coerce_parts(m, cc, &r, t, a);
    } else {
      a->kind = BL_BYVAL;
      a->nir = 1;
      a->ir[0] = m->t_ptr;
      a->align = ty->alignment < 8 ? 8 : ty->alignment;
    }
    return;
  case AF_LOC_REF:
    if (t == AF_T_F80 || t == AF_T_M128 || t == AF_T_M256) {
      /* clang leaves these to LLVM: x86_fp80 / <4 x float> / <8 x float> stay direct and
       * LLVM's Win64 convention passes them by pointer itself (X86CallingConv.td,
       * CC_X86_Win64_C: CCPassIndirect), making the caller copy */
      direct(m, cc, t, a);
      return;
    }
    a->kind = BL_REF;
    a->nir = 1;
    a->ir[0] = m->t_ptr;
    return;
  default: a->kind = BL_IGNORE; return; /* SRET / X87 never describe an argument */
  }
}

static void ret_shape(bl_mod *m, af_cc cc, const af_loc *l, int t, bl_arg *a) {
  int agg = bl_is_mem(m->c, t) || is_complex(t);
  memset(a, 0, sizeof *a);
  switch (l->kind) {
  case AF_LOC_REG:
    /* __int128: SysV { i64, i64 } in RAX:RDX, Win64 <2 x i64> in XMM0 */
    if (agg || t == AF_T_I128 || t == AF_T_U128)
      coerce_parts(m, cc, l, t, a);
    else
      direct(m, cc, t, a);
    return;
  case AF_LOC_X87:
    if (t == AF_T_F80) {
      direct(m, cc, t, a);
    } else { /* struct { long double }: coerced to x86_fp80 */
      a->kind = BL_COERCE;
      a->nir = 1;
      a->ir[0] = m->t_f80;
    }
    return;
  case AF_LOC_SRET:
    a->kind = BL_SRET;
    a->align = m->c->types[t].alignment;
    return;
  default: a->kind = BL_IGNORE; return;
  }
}

af_status bl_sig_make(bl_mod *m, const af_sig *sig, bl_sig *s) {
  memset(s, 0, sizeof *s);
  af_error e = {{0}};
  if (af_classify(m->c, sig, &s->ci, &e) != AF_OK) return bl_fail(m, "llvm: classify: %s", e.msg);
  s->cconv = sig->cc == AF_CC_WIN64 ? LLVMWin64CallConv : LLVMX8664SysVCallConv;
  ret_shape(m, sig->cc, &s->ci.ret, sig->ret, &s->ret);
  LLVMTypeRef params[2 * AF_MAX_PARAMS + 1];
  int n = 0;
  if (s->ret.kind == BL_SRET) params[n++] = m->t_ptr;
  const af_abi *abi = af_abi_get(sig->cc);
  int used_int = s->ci.sret; /* the hidden pointer takes the first integer register */
  for (int i = 0; i < sig->nparams; i++) {
    const af_loc *l = &s->ci.args[i];
    arg_shape(m, sig->cc, l, sig->params[i], abi->n_int_args - used_int, &s->args[i]);
    for (int k = 0; l->kind == AF_LOC_REG && k < l->nparts; k++)
      used_int += l->parts[k].cls == AF_CLS_INTEGER;
    if (i < sig->nfixed)
      for (int k = 0; k < s->args[i].nir; k++)
        params[n++] = s->args[i].ir[k];
  }
  LLVMTypeRef rt = m->t_void;
  if (s->ret.kind == BL_DIRECT) {
    rt = s->ret.ir[0];
  } else if (s->ret.kind == BL_COERCE) {
    rt = s->ret.nir == 1 ? s->ret.ir[0] : LLVMStructTypeInContext(m->ctx, s->ret.ir, 2, 0);
  }
  s->fnty = LLVMFunctionType(rt, params, (unsigned)n, sig->variadic);
  return AF_OK;
}

static LLVMAttributeRef enum_attr(bl_mod *m, const char *name, uint64_t v) {
  return LLVMCreateEnumAttribute(m->ctx, LLVMGetEnumAttributeKindForName(name, strlen(name)), v);
}

static LLVMAttributeRef type_attr(bl_mod *m, const char *name, LLVMTypeRef t) {
  return LLVMCreateTypeAttribute(m->ctx, LLVMGetEnumAttributeKindForName(name, strlen(name)), t);
}

static LLVMTypeRef bytes_type(bl_mod *m, int t) {
  return LLVMArrayType2(m->t_i8, m->c->types[t].size);
}

/* The attributes of signature s, on a function (call == NULL) or on a call instruction
 * (all nargs arguments, variadic ones included). Index 0 is the return, 1.. the IR params. */
static void put_attr(LLVMValueRef fn, LLVMValueRef call, unsigned idx, LLVMAttributeRef a) {
  if (call)
    LLVMAddCallSiteAttribute(call, idx, a);
  else
    LLVMAddAttributeAtIndex(fn, idx, a);
}

static void sig_attrs(bl_mod *m, LLVMValueRef fn, LLVMValueRef call, const af_sig *sig,
                      const bl_sig *s, int nargs) {
  unsigned idx = 1;
  if (s->ret.ext)
    put_attr(fn, call, LLVMAttributeReturnIndex,
             enum_attr(m, s->ret.ext == 's' ? "signext" : "zeroext", 0));
  if (s->ret.kind == BL_SRET) {
    put_attr(fn, call, idx, type_attr(m, "sret", bytes_type(m, sig->ret)));
    put_attr(fn, call, idx, enum_attr(m, "align", s->ret.align));
    idx++;
  }
  for (int i = 0; i < nargs; i++) {
    const bl_arg *a = &s->args[i];
    if (a->ext) put_attr(fn, call, idx, enum_attr(m, a->ext == 's' ? "signext" : "zeroext", 0));
    if (a->kind == BL_BYVAL) {
      put_attr(fn, call, idx, type_attr(m, "byval", bytes_type(m, sig->params[i])));
      put_attr(fn, call, idx, enum_attr(m, "align", a->align));
    }
    idx += (unsigned)a->nir;
  }
}

void bl_fn_attrs(bl_mod *m, LLVMValueRef fn, const bl_sig *s) {
  const af_sig *sig = &m->c->funcs[m->fi].sig;
  LLVMSetFunctionCallConv(fn, s->cconv);
  sig_attrs(m, fn, NULL, sig, s, sig->nfixed);
  LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, enum_attr(m, "nounwind", 0));
  if (m->avx) {
    static const char k[] = "target-features", v[] = "+avx";
    LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
                            LLVMCreateStringAttribute(m->ctx, k, sizeof k - 1, v, sizeof v - 1));
  }
}

/* A zeroed temp big enough for any part load at any part offset of a value of type t. */
static LLVMValueRef coerce_temp(bl_mod *m, int t) {
  const af_type *ty = &m->c->types[t];
  uint32_t size = (ty->size + 32 + 15) / 16 * 16, al = ty->alignment < 16 ? 16 : ty->alignment;
  LLVMValueRef p = bl_alloca(m, size, al);
  LLVMBuildMemSet(m->b, p, LLVMConstInt(m->t_i8, 0, 0), LLVMConstInt(m->t_i64, size, 0), al);
  return p;
}

/* The value of type t whose bytes are at p (a temp of this call: aggregates keep it). */
static LLVMValueRef value_at(bl_mod *m, LLVMValueRef p, int t) {
  return bl_is_mem(m->c, t) ? p : bl_load(m, p, t, 1);
}

static void coerce_out(bl_mod *m, const bl_arg *a, LLVMValueRef v, int t, LLVMValueRef *ir) {
  LLVMValueRef tmp = coerce_temp(m, t);
  bl_store(m, tmp, v, t, 1);
  for (int k = 0; k < a->nir; k++) {
    LLVMValueRef ld = LLVMBuildLoad2(m->b, a->ir[k], bl_gep(m, tmp, a->off[k]), "");
    LLVMSetAlignment(ld, 1);
    ir[k] = ld;
  }
}

static LLVMValueRef coerce_in(bl_mod *m, const bl_arg *a, LLVMValueRef *ir, int t) {
  LLVMValueRef tmp = coerce_temp(m, t);
  for (int k = 0; k < a->nir; k++) {
    LLVMValueRef st = LLVMBuildStore(m->b, ir[k], bl_gep(m, tmp, a->off[k]));
    LLVMSetAlignment(st, 1);
  }
  return value_at(m, tmp, t);
}

void bl_entry(bl_mod *m, LLVMValueRef fn, const af_func *f, const bl_sig *s) {
  unsigned idx = s->ret.kind == BL_SRET;
  for (int i = 0; i < f->sig.nfixed; i++) {
    const bl_arg *a = &s->args[i];
    int t = f->sig.params[i];
    LLVMValueRef ir[2] = {NULL, NULL};
    for (int k = 0; k < a->nir; k++)
      ir[k] = LLVMGetParam(fn, idx++);
    switch (a->kind) {
    case BL_DIRECT: m->val[i] = ir[0]; break;
    case BL_COERCE: m->val[i] = coerce_in(m, a, ir, t); break;
    case BL_BYVAL: /* the callee's own copy */
    case BL_REF:   /* the caller's copy: never written (aggregate values are immutable) */
      m->val[i] = bl_is_mem(m->c, t) ? ir[0] : bl_load(m, ir[0], t, 1);
      break;
    default: m->val[i] = bl_alloca(m, 1, 16); break; /* an empty struct: no bytes */
    }
  }
  if (f->sig.variadic) bl_va_args(m, f, s);
}

void bl_return(bl_mod *m, const af_func *f, const bl_sig *s, LLVMValueRef v) {
  int t = f->sig.ret;
  switch (s->ret.kind) {
  case BL_DIRECT: LLVMBuildRet(m->b, v); return;
  case BL_COERCE: {
    LLVMValueRef ir[2];
    coerce_out(m, &s->ret, v, t, ir);
    if (s->ret.nir == 1) {
      LLVMBuildRet(m->b, ir[0]);
    } else {
      LLVMValueRef agg = LLVMGetUndef(LLVMGetReturnType(s->fnty));
      agg = LLVMBuildInsertValue(m->b, agg, ir[0], 0, "");
      agg = LLVMBuildInsertValue(m->b, agg, ir[1], 1, "");
      LLVMBuildRet(m->b, agg);
    }
    return;
  }
  case BL_SRET:
    bl_store(m, LLVMGetParam(m->fn[m->fi], 0), v, t, 1);
    LLVMBuildRetVoid(m->b);
    return;
  default: LLVMBuildRetVoid(m->b); return;
  }
}

LLVMValueRef bl_call(bl_mod *m, int k, const int *args, int nargs) {
  const af_func *cf = &m->c->funcs[k];
  const bl_sig *s = &m->sig[k];
  LLVMValueRef callee = cf->host ? bl_const_ptr(m, be_imports_fn(m->code->imports, k)) : m->fn[k];
  LLVMValueRef ir[2 * AF_MAX_PARAMS + 1], sret = NULL;
  unsigned n = 0;
  int rt = cf->sig.ret;
  if (s->ret.kind == BL_SRET) {
    const af_type *ty = &m->c->types[rt];
    sret = ir[n++] = bl_alloca(m, ty->size ? ty->size : 1, ty->alignment);
  }
  for (int i = 0; i < nargs; i++) {
    const bl_arg *a = &s->args[i];
    int t = cf->sig.params[i];
    LLVMValueRef v = m->val[args[i]];
    switch (a->kind) {
    case BL_DIRECT: ir[n++] = v; break;
    case BL_COERCE:
      coerce_out(m, a, v, t, ir + n);
      n += (unsigned)a->nir;
      break;
    case BL_BYVAL: { /* LLVM copies it to the stack; the pointer must have the attribute's
                        alignment (a GET of a nested struct of a packed one may not) */
      const af_type *ty = &m->c->types[t];
      LLVMValueRef p = bl_alloca(m, ty->size, a->align);
      bl_store(m, p, v, t, 1);
      ir[n++] = p;
      break;
    }
    case BL_REF: { /* Win64: a 16-aligned copy the callee may not keep */
      const af_type *ty = &m->c->types[t];
      LLVMValueRef p =
          bl_alloca(m, ty->size ? ty->size : 1, ty->alignment < 16 ? 16 : ty->alignment);
      bl_store(m, p, v, t, 1);
      ir[n++] = p;
      break;
    }
    default: break;
    }
  }
  LLVMValueRef call = LLVMBuildCall2(m->b, s->fnty, callee, ir, n, "");
  LLVMSetInstructionCallConv(call, s->cconv);
  sig_attrs(m, NULL, call, &cf->sig, s, nargs);
  switch (s->ret.kind) {
  case BL_DIRECT: return call;
  case BL_COERCE: {
    LLVMValueRef parts[2] = {call, NULL};
    if (s->ret.nir == 2) {
      parts[0] = LLVMBuildExtractValue(m->b, call, 0, "");
      parts[1] = LLVMBuildExtractValue(m->b, call, 1, "");
    }
    return coerce_in(m, &s->ret, parts, rt);
  }
  case BL_SRET: return value_at(m, sret, rt);
  default: return rt == AF_T_VOID ? NULL : bl_alloca(m, 1, 16); /* an empty struct */
  }
}
