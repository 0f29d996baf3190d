/* lower_util.c - operands, loads, stores and copies shared by the lowering passes. */
#include <stdarg.h>
#include <stdio.h>

#include "lower.h"

af_status lw_fail(lower_ctx *L, af_status s, const char *fmt, ...) {
  if (L->b->err == AF_OK) {
    L->b->err = s;
    if (L->err) {
      va_list ap;
      va_start(ap, fmt);
      int n = snprintf(L->err->msg, sizeof L->err->msg, "f%d: ", L->fn);
      if (n > 0 && (size_t)n < sizeof L->err->msg)
        vsnprintf(L->err->msg + n, sizeof L->err->msg - (size_t)n, fmt, ap);
      va_end(ap);
    }
  }
  return L->b->err;
}

x86_operand lw_slot(const lower_ctx *L, int value, int32_t off, int size) {
  return x86_base(size, AF_RBP, L->slot[value] + off);
}

void lw_load_int(lower_ctx *L, af_reg r, af_reg base, int32_t off, int type) {
  const af_scalar_info *si = af_scalar((af_kind)type);
  int size = si ? si->size : 8;
  int sign = si && si->is_signed;
  if (size == 8) {
    x86_emit2(L->b, X86_MOV, x86_gpr(r, 8), x86_base(8, base, off));
  } else if (size == 4) {
    if (sign) x86_emit2(L->b, X86_MOVSXD, x86_gpr(r, 8), x86_base(4, base, off));
    else x86_emit2(L->b, X86_MOV, x86_gpr(r, 4), x86_base(4, base, off)); /* zero-extends */
  } else if (size == 1 || size == 2) {
    x86_emit2(L->b, sign ? X86_MOVSX : X86_MOVZX, x86_gpr(r, 8), x86_base(size, base, off));
  } else {
    lw_fail(L, AF_ERR_UNSUPPORTED, "lw_load_int: a %d-byte integer", size);
  }
}

void lw_store_int(lower_ctx *L, af_reg base, int32_t off, af_reg r, int size) {
  x86_emit2(L->b, X86_MOV, x86_base(size, base, off), x86_gpr(r, size));
}

void lw_copy(lower_ctx *L, af_reg dbase, int32_t doff, af_reg sbase, int32_t soff, uint32_t n) {
  if (dbase == AF_R11 || sbase == AF_R11) {
    lw_fail(L, AF_ERR_INVALID, "lw_copy: R11 as a base");
    return;
  }
  uint32_t i = 0;
  static const int chunks[] = {8, 4, 2, 1};
  for (int k = 0; k < 4; k++)
    for (; n - i >= (uint32_t)chunks[k]; i += (uint32_t)chunks[k]) {
      int c = chunks[k];
      x86_emit2(L->b, X86_MOV, x86_gpr(AF_R11, c), x86_base(c, sbase, soff + (int32_t)i));
      x86_emit2(L->b, X86_MOV, x86_base(c, dbase, doff + (int32_t)i), x86_gpr(AF_R11, c));
    }
}

void lw_load_xmm(lower_ctx *L, af_reg x, af_reg base, int32_t off, int size) {
  x86_op op = size == 4 ? X86_MOVSS : size == 8 ? X86_MOVSD : X86_MOVUPS;
  x86_emit2(L->b, op, x86_xmm(x), x86_base(size, base, off));
}

void lw_store_xmm(lower_ctx *L, af_reg base, int32_t off, af_reg x, int size) {
  x86_op op = size == 4 ? X86_MOVSS : size == 8 ? X86_MOVSD : X86_MOVUPS;
  x86_emit2(L->b, op, x86_base(size, base, off), x86_xmm(x));
}

void lw_call_abs(lower_ctx *L, const void *fn) {
  x86_emit_movimm(L->b, AF_R11, 8, (int64_t)(uintptr_t)fn);
  if (L->o && L->o->rt_probe) { /* af_jit_opts.rt_probe: the probe calls R11 for us */
    x86_emit_movimm(L->b, AF_R10, 8, (int64_t)(uintptr_t)L->o->rt_probe);
    x86_emit1(L->b, X86_CALL, x86_gpr(AF_R10, 8));
    return;
  }
  x86_emit1(L->b, X86_CALL, x86_gpr(AF_R11, 8));
}
