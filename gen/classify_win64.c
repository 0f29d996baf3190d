/* classify_win64.c - where the Microsoft x64 convention puts each argument and the return value. */
#include "abi_internal.h"

/* Source: Microsoft, "x64 calling convention" (MS-CC),
 * https://learn.microsoft.com/en-us/cpp/build/x64-calling-convention, and
 * "x64 stack usage" (MS-SU), .../cpp/build/stack-usage. Where gcc and clang
 * disagree under __attribute__((ms_abi)) the model follows clang 19 and
 * abi.c's divergence table records the difference. */

typedef enum {
  W64_GPR, /* by value in the slot's integer register */
  W64_XMM, /* by value in the slot's XMM register */
  W64_REF, /* a pointer to a 16-aligned caller copy, in the slot's GPR */
} w64_kind;

/* MS-CC "Parameter passing": "Structs and unions of size 8, 16, 32, or 64
 * bits, and __m64 types, are passed as if they were integers of the same
 * size. Structs or unions of other sizes are passed as a pointer to memory
 * allocated by the caller." */
static int w64_int_sized(uint32_t size) { return size == 1 || size == 2 || size == 4 || size == 8; }

static w64_kind w64_arg_kind(const af_case *c, int t) {
  /* The scalars' kinds as a table (0 = W64_GPR: bool, i8..u64, ptr, cf32 of 8 bytes): a load
   * instead of the switch's branch, mispredicted ~14 times a case. f16, f32, f64: "Floating-point
   * ... in XMM0-XMM3" (f16: clang, like float; gcc 12: GPR, see "win64-f16"). i128, u128, f80,
   * cf64, m128, m256 by reference: "__m128 types, arrays, and strings are never passed by immediate
   * value. Instead, a pointer is passed". */
  static const uint8_t scalar_kind[AF_T_NSCALAR] = {
      [AF_T_F16] = W64_XMM,  [AF_T_F32] = W64_XMM,  [AF_T_F64] = W64_XMM,
      [AF_T_I128] = W64_REF, [AF_T_U128] = W64_REF, [AF_T_F80] = W64_REF,
      [AF_T_CF64] = W64_REF, [AF_T_M128] = W64_REF, [AF_T_M256] = W64_REF,
  };
  if ((unsigned)t < AF_T_NSCALAR) return (w64_kind)scalar_kind[t];
  if (t < AF_T_NSCALAR) return W64_GPR; /* a negative id (classify_check_sig rejects it) */
  /* Aggregates: sizes 1/2/4/8 by value, even all-float ones; others by
   * reference, size 0 included (gcc and clang both pass a pointer, seen). */
  return w64_int_sized(c->types[t].size) ? W64_GPR : W64_REF;
}

/* MS-CC "Return values". */
static void w64_return(const af_case *c, int t, af_callinfo *out) {
  af_loc *l = &out->ret;
  uint32_t size = c->types[t].size;
  l->dup = AF_REG_NONE;
  if (t == AF_T_VOID) {
    l->kind = AF_LOC_NONE;
    return;
  }
  af_part p = {AF_RAX, AF_CLS_INTEGER, 0, (uint16_t)size};
  switch (t) {
  case AF_T_F16: /* clang: XMM0 (gcc 12: AX; see "win64-f16") */
  case AF_T_F32:
  case AF_T_F64:
  case AF_T_M128: /* "Non-scalar types including floats, doubles, and vector
                     types such as __m128 ... are returned in XMM0." */
  case AF_T_I128: /* gcc <= 15 and clang <= 22: XMM0 ("win64-i128-ret") */
  case AF_T_U128:
  case AF_T_M256: /* clang: YMM0 (gcc: sret; "win64-m256-ret") */
    p.reg = AF_XMM0;
    p.cls = AF_CLS_SSE;
    break;
  case AF_T_F80: /* clang: ST0 (gcc: sret; "win64-f80-ret") */ l->kind = AF_LOC_X87; return;
  case AF_T_CF64: /* 16 bytes, not a register-sized user type */
    l->kind = AF_LOC_SRET;
    out->sret = 1;
    return;
  default:
    /* "A scalar return value that can fit into 64 bits ... is returned
     * through RAX"; "User-defined types can be returned by value ... in RAX
     * [if they have] a length of 1, 2, 4, 8, 16, 32, or 64 bits". Otherwise
     * "the caller must allocate memory for the return value and pass a
     * pointer to it as the first argument. The remaining arguments are then
     * shifted one argument to the right. The same pointer must be returned by
     * the callee in RAX." Size 0: clang sret, gcc nothing ("win64-empty-ret"). */
    if (t >= AF_T_NSCALAR && !w64_int_sized(size)) {
      l->kind = AF_LOC_SRET;
      out->sret = 1;
      return;
    }
    break;
  }
  l->kind = AF_LOC_REG;
  l->nparts = 1;
  l->parts[0] = p;
}

af_status classify_win64(const af_case *c, const af_sig *sig, af_callinfo *out, af_error *err) {
  (void)err;
  const af_abi *abi = af_abi_get(AF_CC_WIN64);
  w64_return(c, sig->ret, out);
  int slot = out->sret; /* the hidden pointer takes slot 0 (RCX) */
  int ngpr = out->sret, nxmm = 0;
  for (int i = 0; i < sig->nparams; i++, slot++) {
    int t = sig->params[i];
    af_loc *l = &out->args[i];
    w64_kind k = w64_arg_kind(c, t);
    l->dup = AF_REG_NONE;
    if (slot >= abi->max_reg_args) {
      /* MS-CC: "Any arguments beyond the first four are passed on the stack";
       * MS-SU: they sit above the 32-byte home area, so slot k is at
       * [RSP + 8k] at the call instruction. A by-reference argument leaves
       * its pointer there. */
      l->kind = k == W64_REF ? AF_LOC_REF : AF_LOC_STACK;
      l->stack_offset = 8 * slot;
      l->stack_size = 8;
      l->stack_align = 8;
      continue;
    }
    /* MS-CC: "Each argument is assigned to the register of its position" */
    af_reg gpr = abi->int_args[slot], xmm = abi->sse_args[slot];
    l->nparts = 1;
    if (k == W64_XMM) {
      l->kind = AF_LOC_REG;
      l->parts[0] = (af_part){xmm, AF_CLS_SSE, 0, (uint16_t)c->types[t].size};
      nxmm++;
      /* MS-CC "Varargs": "For floating-point values only, both the integer
       * register and the floating-point register must contain the value, in
       * case the callee expects the value in the integer registers." */
      if (sig->variadic && i >= sig->nfixed) {
        l->dup = gpr;
        ngpr++;
      }
    } else {
      l->kind = k == W64_REF ? AF_LOC_REF : AF_LOC_REG;
      l->parts[0] =
          (af_part){gpr, AF_CLS_INTEGER, 0, (uint16_t)(k == W64_REF ? 8 : c->types[t].size)};
      ngpr++;
    }
  }
  out->int_used = ngpr;
  out->sse_used = nxmm;
  /* MS-SU "Stack allocation": the home area for four registers is always
   * allocated; the whole outgoing area keeps RSP 16-aligned at the call. */
  uint32_t bytes = 8u * (uint32_t)(slot > 4 ? slot : 4);
  out->stack_bytes = (bytes + 15) / 16 * 16;
  return AF_OK;
}
