/* be_llvm_ops.c - one instruction of gen.h's IR as LLVM IR, with gen.h's exact semantics. */
#include <string.h>

#include "be_llvm_internal.h"

/* Width in bits of an integer or bool type (bool: 1). */
static unsigned int_bits(int t) { return t == AF_T_BOOL ? 1u : 8u * af_scalar((af_kind)t)->size; }

static LLVMValueRef int_const(bl_mod *m, unsigned bits, const uint8_t *b) {
  uint64_t w[4] = {0, 0, 0, 0};
  unsigned nbytes = (bits + 7) / 8;
  for (unsigned i = 0; i < nbytes && i < 32; i++)
    w[i / 8] |= (uint64_t)b[i] << (8 * (i % 8));
  if (bits == 1) w[0] &= 1;
  return LLVMConstIntOfArbitraryPrecision(LLVMIntTypeInContext(m->ctx, bits), (nbytes + 7) / 8, w);
}

/* A constant from the model's bytes (gen.h "Values"); aggregates become a private constant
 * global holding their bytes (aggregate values are never written, so that is the value). */
static LLVMValueRef const_value(bl_mod *m, const af_value *v, int t) {
  const uint8_t *b = v->bytes;
  switch (t) {
  case AF_T_F16:
  case AF_T_F32:
  case AF_T_F64:
  case AF_T_M128:
  case AF_T_M256:
    return LLVMConstBitCast(int_const(m, 8u * af_scalar((af_kind)t)->size, b), bl_vt(m, t));
  case AF_T_F80: return LLVMConstBitCast(int_const(m, 80, b), m->t_f80);
  case AF_T_CF32:
  case AF_T_CF64: {
    unsigned h = t == AF_T_CF32 ? 4 : 8;
    LLVMTypeRef ft = t == AF_T_CF32 ? m->t_flt : m->t_dbl;
    LLVMValueRef p[2] = {LLVMConstBitCast(int_const(m, 8 * h, b), ft),
                         LLVMConstBitCast(int_const(m, 8 * h, b + h), ft)};
    return LLVMConstStructInContext(m->ctx, p, 2, 0);
  }
  default: break;
  }
  if (!bl_is_mem(m->c, t)) return int_const(m, int_bits(t), b);
  const af_type *ty = &m->c->types[t];
  LLVMValueRef init = LLVMConstStringInContext2(m->ctx, (const char *)b, ty->size, 1);
  LLVMValueRef g = LLVMAddGlobal(m->mod, LLVMTypeOf(init), "");
  LLVMSetInitializer(g, init);
  LLVMSetGlobalConstant(g, 1);
  LLVMSetLinkage(g, LLVMPrivateLinkage);
  LLVMSetUnnamedAddress(g, LLVMGlobalUnnamedAddr);
  LLVMSetAlignment(g, ty->alignment);
  return g;
}

/* ---- bit-fields: the bytes covering the field loaded as one integer, shifted, masked ---- */
static LLVMValueRef bf_get(bl_mod *m, LLVMValueRef base, const af_leaf *lf) {
  unsigned sh = lf->bit_offset % 8, nb = (sh + (unsigned)lf->bits + 7) / 8;
  LLVMTypeRef it = LLVMIntTypeInContext(m->ctx, 8 * nb);
  LLVMValueRef x = LLVMBuildLoad2(m->b, it, bl_gep(m, base, lf->bit_offset / 8), "");
  LLVMSetAlignment(x, 1);
  if (sh) x = LLVMBuildLShr(m->b, x, LLVMConstInt(it, sh, 0), "");
  if (8 * nb != (unsigned)lf->bits)
    x = LLVMBuildTrunc(m->b, x, LLVMIntTypeInContext(m->ctx, (unsigned)lf->bits), "");
  unsigned w = int_bits(lf->type);
  if ((unsigned)lf->bits < w) {
    LLVMTypeRef t = bl_vt(m, lf->type);
    x = af_scalar((af_kind)lf->type)->is_signed ? LLVMBuildSExt(m->b, x, t, "")
                                                : LLVMBuildZExt(m->b, x, t, "");
  }
  return x;
}

static void bf_set(bl_mod *m, LLVMValueRef base, const af_leaf *lf, LLVMValueRef v) {
  unsigned sh = lf->bit_offset % 8, nb = (sh + (unsigned)lf->bits + 7) / 8;
  LLVMTypeRef it = LLVMIntTypeInContext(m->ctx, 8 * nb);
  LLVMValueRef p = bl_gep(m, base, lf->bit_offset / 8);
  LLVMValueRef x = LLVMBuildLoad2(m->b, it, p, "");
  LLVMSetAlignment(x, 1);
  unsigned __int128 mask = (((unsigned __int128)1 << lf->bits) - 1) << sh;
  uint64_t w[2] = {(uint64_t)~mask, (uint64_t)(~mask >> 64)};
  x = LLVMBuildAnd(m->b, x, LLVMConstIntOfArbitraryPrecision(it, 2, w), "");
  if (int_bits(lf->type) > (unsigned)lf->bits)
    v = LLVMBuildTrunc(m->b, v, LLVMIntTypeInContext(m->ctx, (unsigned)lf->bits), "");
  v = LLVMBuildZExt(m->b, v, it, "");
  if (sh) v = LLVMBuildShl(m->b, v, LLVMConstInt(it, sh, 0), "");
  LLVMValueRef st = LLVMBuildStore(m->b, LLVMBuildOr(m->b, x, v, ""), p);
  LLVMSetAlignment(st, 1);
}

static af_status op_get_set(bl_mod *m, const af_func *f, const af_inst *in) {
  int A = f->value_type[in->args[0]];
  af_leaf lf;
  if (af_path_leaf(m->c, A, in->path, in->npath, &lf) != AF_OK)
    return bl_fail(m, "llvm: f%d: a get/set path af_path_leaf rejects", m->fi);
  LLVMValueRef base = bl_spill(m, m->val[in->args[0]], A);
  if (in->op == AF_OP_GET) {
    if (lf.bits >= 0) {
      m->val[in->dst] = bf_get(m, base, &lf);
    } else {
      LLVMValueRef p = bl_gep(m, base, lf.offset);
      m->val[in->dst] = bl_is_mem(m->c, lf.type) ? p : bl_load(m, p, lf.type, 1);
    }
    return AF_OK;
  }
  /* SET: a copy of the aggregate with the leaf replaced */
  const af_type *ty = &m->c->types[A];
  LLVMValueRef d = bl_alloca(m, ty->size, ty->alignment);
  bl_memcpy(m, d, base, ty->size);
  if (lf.bits >= 0)
    bf_set(m, d, &lf, m->val[in->args[1]]);
  else
    bl_store(m, bl_gep(m, d, lf.offset), m->val[in->args[1]], lf.type, 1);
  m->val[in->dst] = bl_is_mem(m->c, A) ? d : bl_load(m, d, A, ty->alignment);
  return AF_OK;
}

static af_status op_mix(bl_mod *m, const af_func *f, const af_inst *in) {
  LLVMValueRef h = LLVMConstInt(m->t_i64, (uint64_t)in->imm, 0);
  LLVMValueRef cst = bl_const_ptr(m, m->c), objs = bl_const_ptr(m, m->code->ext.objects);
  for (int k = 0; k < in->nargs; k++) {
    int t = f->value_type[in->args[k]];
    LLVMValueRef a[5] = {cst, objs, h, bl_spill(m, m->val[in->args[k]], t),
                         LLVMConstInt(m->t_i32, (uint64_t)t, 0)};
    h = LLVMBuildCall2(m->b, m->fold_ty, m->fold_fn, a, 5, "");
  }
  m->val[in->dst] = h;
  return AF_OK;
}

/* The float kinds ordered by width, for FCONV's extend / truncate. */
static int float_rank(int t) {
  return t == AF_T_F16 ? 0 : t == AF_T_F32 ? 1 : t == AF_T_F64 ? 2 : 3;
}

static LLVMValueRef ftoi_sat(bl_mod *m, LLVMValueRef a, int from, int to) {
  const char *name = af_scalar((af_kind)to)->is_signed ? "llvm.fptosi.sat" : "llvm.fptoui.sat";
  unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
  LLVMTypeRef tys[2] = {bl_vt(m, to), bl_vt(m, from)};
  LLVMValueRef fn = LLVMGetIntrinsicDeclaration(m->mod, id, tys, 2);
  return LLVMBuildCall2(m->b, LLVMIntrinsicGetType(m->ctx, id, tys, 2), fn, &a, 1, "");
}

static LLVMValueRef op_conv(bl_mod *m, const af_inst *in, int A, LLVMValueRef a) {
  int T = in->type;
  LLVMTypeRef vt = bl_vt(m, T);
  switch (in->op) {
  case AF_OP_SEXT:
  case AF_OP_ZEXT:
    if (int_bits(A) == int_bits(T)) return a;
    /* gen.h: SEXT extends from a's width whatever a's signedness; bool zero-extends */
    return in->op == AF_OP_SEXT && A != AF_T_BOOL ? LLVMBuildSExt(m->b, a, vt, "")
                                                  : LLVMBuildZExt(m->b, a, vt, "");
  case AF_OP_TRUNC: /* to bool: bit 0 */
    return int_bits(A) == int_bits(T) ? a : LLVMBuildTrunc(m->b, a, vt, "");
  case AF_OP_FCONV:
    if (float_rank(A) == float_rank(T)) return a;
    return float_rank(A) < float_rank(T) ? LLVMBuildFPExt(m->b, a, vt, "")
                                         : LLVMBuildFPTrunc(m->b, a, vt, "");
  case AF_OP_FTOI: return ftoi_sat(m, a, A, T);
  case AF_OP_ITOF:
    return af_scalar((af_kind)A)->is_signed ? LLVMBuildSIToFP(m->b, a, vt, "")
                                            : LLVMBuildUIToFP(m->b, a, vt, "");
  default: return LLVMBuildBitCast(m->b, a, vt, ""); /* BITCAST: same size int <-> float */
  }
}

static LLVMValueRef op_binary(bl_mod *m, const af_inst *in, LLVMValueRef a, LLVMValueRef b) {
  LLVMBuilderRef B = m->b;
  switch (in->op) {
  case AF_OP_ADD: return LLVMBuildAdd(B, a, b, "");
  case AF_OP_SUB: return LLVMBuildSub(B, a, b, "");
  case AF_OP_MUL: return LLVMBuildMul(B, a, b, "");
  case AF_OP_AND: return LLVMBuildAnd(B, a, b, "");
  case AF_OP_OR: return LLVMBuildOr(B, a, b, "");
  case AF_OP_XOR: return LLVMBuildXor(B, a, b, "");
  case AF_OP_FADD: return LLVMBuildFAdd(B, a, b, "");
  case AF_OP_FSUB: return LLVMBuildFSub(B, a, b, "");
  case AF_OP_FMUL: return LLVMBuildFMul(B, a, b, "");
  default: break;
  }
  /* shifts: the amount is b mod width (gen.h), so never poison */
  LLVMTypeRef t = LLVMTypeOf(a);
  b = LLVMBuildAnd(B, b, LLVMConstInt(t, int_bits(in->type) - 1, 0), "");
  if (in->op == AF_OP_SHL) return LLVMBuildShl(B, a, b, "");
  if (in->op == AF_OP_LSHR) return LLVMBuildLShr(B, a, b, "");
  return LLVMBuildAShr(B, a, b, "");
}

static LLVMValueRef op_cmp(bl_mod *m, const af_inst *in, int A, LLVMValueRef a, LLVMValueRef b) {
  int sg = A != AF_T_BOOL && af_scalar((af_kind)A)->is_signed;
  LLVMIntPredicate p = LLVMIntEQ;
  switch (in->imm) {
  case AF_CMP_NE: p = LLVMIntNE; break;
  case AF_CMP_LT: p = sg ? LLVMIntSLT : LLVMIntULT; break;
  case AF_CMP_LE: p = sg ? LLVMIntSLE : LLVMIntULE; break;
  default: break;
  }
  return LLVMBuildICmp(m->b, p, a, b, "");
}

af_status bl_inst(bl_mod *m, const af_func *f, const af_inst *in) {
  LLVMValueRef *v = m->val;
  const int *a = in->args;
  int A = in->nargs > 0 ? f->value_type[a[0]] : AF_T_VOID;
  LLVMValueRef r = NULL;
  switch (in->op) {
  case AF_OP_CONST: r = const_value(m, &in->cst, in->type); break;
  case AF_OP_ADD:
  case AF_OP_SUB:
  case AF_OP_MUL:
  case AF_OP_AND:
  case AF_OP_OR:
  case AF_OP_XOR:
  case AF_OP_SHL:
  case AF_OP_LSHR:
  case AF_OP_ASHR:
  case AF_OP_FADD:
  case AF_OP_FSUB:
  case AF_OP_FMUL: r = op_binary(m, in, v[a[0]], v[a[1]]); break;
  case AF_OP_CMP: r = op_cmp(m, in, A, v[a[0]], v[a[1]]); break;
  case AF_OP_SELECT: r = LLVMBuildSelect(m->b, v[a[0]], v[a[1]], v[a[2]], ""); break;
  case AF_OP_SEXT:
  case AF_OP_ZEXT:
  case AF_OP_TRUNC:
  case AF_OP_FCONV:
  case AF_OP_FTOI:
  case AF_OP_ITOF:
  case AF_OP_BITCAST: r = op_conv(m, in, A, v[a[0]]); break;
  case AF_OP_GET:
  case AF_OP_SET: return op_get_set(m, f, in);
  case AF_OP_LOAD: r = bl_load(m, bl_gep(m, v[a[0]], (uint32_t)in->imm), in->type, 1); break;
  case AF_OP_STORE:
    bl_store(m, bl_gep(m, v[a[0]], (uint32_t)in->imm), v[a[1]], in->type, 1);
    return AF_OK;
  case AF_OP_LOCAL: {
    r = bl_alloca(m, AF_REGION_SIZE, (uint32_t)in->imm);
    LLVMBuildMemSet(m->b, r, LLVMConstInt(m->t_i8, 0, 0), LLVMConstInt(m->t_i64, AF_REGION_SIZE, 0),
                    (unsigned)in->imm);
    break;
  }
  case AF_OP_CALL: r = bl_call(m, (int)in->imm, a, in->nargs); break;
  case AF_OP_MIX: return op_mix(m, f, in);
  case AF_OP_RET: bl_return(m, f, &m->sig[m->fi], in->nargs ? v[a[0]] : NULL); return AF_OK;
  default: return bl_fail(m, "llvm: f%d: unknown op %d", m->fi, (int)in->op);
  }
  if (in->dst >= 0) v[in->dst] = r;
  return AF_OK;
}
