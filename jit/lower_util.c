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

/* lw_copy's chunks with the bases as the caller gives them: inlined twice, once with both
 * bases RBP (slot to slot, the common case: the emitters' REX and ModRM fold), once general. */
static inline __attribute__((always_inline)) void
copy_chunks(x86_buf *b, af_reg dbase, int32_t doff, af_reg sbase, int32_t soff, uint32_t n) {
  /* 8-byte chunks, then at most one of 4, 2 and 1 (each size a constant for the emitter) */
  uint32_t i = 0;
  for (; n - i >= 8; i += 8) {
    xd_load(b, AF_R11, 8, sbase, soff + (int32_t)i);
    xd_store(b, dbase, doff + (int32_t)i, AF_R11, 8);
  }
  if (n - i >= 4) {
    xd_load(b, AF_R11, 4, sbase, soff + (int32_t)i);
    xd_store(b, dbase, doff + (int32_t)i, AF_R11, 4);
    i += 4;
  }
  if (n - i >= 2) {
    xd_load(b, AF_R11, 2, sbase, soff + (int32_t)i);
    xd_store(b, dbase, doff + (int32_t)i, AF_R11, 2);
    i += 2;
  }
  if (n - i >= 1) {
    xd_load(b, AF_R11, 1, sbase, soff + (int32_t)i);
    xd_store(b, dbase, doff + (int32_t)i, AF_R11, 1);
  }
}

void lw_copy(lower_ctx *L, af_reg dbase, int32_t doff, af_reg sbase, int32_t soff, uint32_t n) {
  if (dbase == AF_R11 || sbase == AF_R11) {
    lw_fail(L, AF_ERR_INVALID, "lw_copy: R11 as a base");
    return;
  }
  if (dbase == AF_RBP && sbase == AF_RBP)
    copy_chunks(L->b, AF_RBP, doff, AF_RBP, soff, n);
  else
    copy_chunks(L->b, dbase, doff, sbase, soff, n);
}

void lw_call_abs(lower_ctx *L, const void *fn) {
  xd_movimm64(L->b, AF_R11, (int64_t)(uintptr_t)fn);
  if (L->o && L->o->rt_probe) { /* af_jit_opts.rt_probe: the probe calls R11 for us */
    xd_movimm64(L->b, AF_R10, (int64_t)(uintptr_t)L->o->rt_probe);
    xd_call_reg(L->b, AF_R10);
    return;
  }
  xd_call_reg(L->b, AF_R11);
}
