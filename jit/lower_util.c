/* lower_util.c - operands, loads, stores and copies shared by the lowering passes. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lower.h"

/* lower.h's slot loads: the head xd_load (mov, for 8 bytes and a zero-extending 4) and
 * xd_load_ext (movsxd; movzx / movsx r64 from a byte or word) write for each type. */
const lw_slot_load lw_slot_loads[AF_T_PTR + 1] = {
    [AF_T_BOOL] = {0xB60F48, 3, 1}, [AF_T_I8] = {0xBE0F48, 3, 1},  [AF_T_U8] = {0xB60F48, 3, 1},
    [AF_T_I16] = {0xBF0F48, 3, 1},  [AF_T_U16] = {0xB70F48, 3, 1}, [AF_T_I32] = {0x6348, 2, 1},
    [AF_T_U32] = {0x8B, 1, 0},      [AF_T_I64] = {0x8B48, 2, 1},   [AF_T_U64] = {0x8B48, 2, 1},
    [AF_T_PTR] = {0x8B48, 2, 1},
};

/* The general lw_load_int (lower.h): any base, any scalar by its size and signedness. */
void lw_load_int_any(lower_ctx *L, af_reg r, af_reg base, int32_t off, int type) {
  /* bool and i8..u64 (gen.h's order: bool, then signed / unsigned pairs of 1, 2, 4, 8 bytes)
   * without a call: af_scalar's size and is_signed for them */
  int size, sign;
  if (type >= AF_T_BOOL && type <= AF_T_U64) {
    size = type == AF_T_BOOL ? 1 : 1 << ((type - AF_T_I8) >> 1);
    sign = type != AF_T_BOOL && !((type - AF_T_I8) & 1);
  } else {
    const af_scalar_info *si = af_scalar((af_kind)type);
    size = si ? si->size : 8;
    sign = si && si->is_signed;
  }
  if (size == 8) {
    xd_load(L->b, r, 8, base, off);
  } else if (size == 4) {
    if (sign)
      xd_load_ext(L->b, X86_MOVSXD, r, 8, base, off, 4);
    else
      xd_load(L->b, r, 4, base, off);  /* zero-extends */
  } else if (size == 1 || size == 2) { /* four calls: each emitter's op and size constants */
    if (sign && size == 1)
      xd_load_ext(L->b, X86_MOVSX, r, 8, base, off, 1);
    else if (sign)
      xd_load_ext(L->b, X86_MOVSX, r, 8, base, off, 2);
    else if (size == 1)
      xd_load_ext(L->b, X86_MOVZX, r, 8, base, off, 1);
    else
      xd_load_ext(L->b, X86_MOVZX, r, 8, base, off, 2);
  } else {
    lw_fail(L, AF_ERR_UNSUPPORTED, "lw_load_int: a %d-byte integer", size);
  }
}

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

/* mov r11 <-> [base + d] as xd_load / xd_store encode it: head (the 66 prefix for 16 bits, a
 * REX with R for R11 and B for base >= 8, the opcode: hl bytes, little-endian), then ModRM
 * (no displacement unless base is rbp/r13, else disp8 or disp32), a SIB for an rsp/r12 base,
 * and d. Up to 8 bytes are stored (the room is checked for the whole copy). */
static inline __attribute__((always_inline)) uint8_t *
r11_mem(uint8_t *q, uint32_t head, unsigned hl, unsigned base, int32_t d) {
  unsigned b7 = base & 7;
  memcpy(q, &head, 4);
  q += hl;
  unsigned mod = (d == 0 && b7 != 5) ? 0 : d == (int8_t)d ? 1 : 2;
  *q++ = (uint8_t)(mod << 6 | 3 << 3 | b7);
  if (b7 == 4) *q++ = 0x24;
  if (mod == 1) {
    *q++ = (uint8_t)d;
  } else if (mod == 2) {
    memcpy(q, &d, 4);
    q += 4;
  }
  return q;
}

/* copy_chunks with the bytes written in place: a copy is the lowering's commonest sequence
 * (SET, GET, SELECT, BITCAST, LOAD, STORE, stack and by-reference arguments), one load/store
 * pair through R11 per 8 bytes. Whether the buffer has room for all of it is checked once: 0
 * if not, or for a base the emitters do not take (nothing done: copy_chunks does it). */
static inline __attribute__((always_inline)) int copy_fast(x86_buf *b, unsigned db, int32_t doff,
                                                           unsigned sb, int32_t soff, uint32_t n) {
  size_t need = ((size_t)n / 8 + 3) * 20 + 16; /* each pair <= 18 bytes, and 8 of slack */
  if (db > 15 || sb > 15 || n > (1u << 20) || b->len + need > b->cap) return 0;
  uint8_t *q = b->data + b->len;
  const uint32_t rs = sb >> 3, rd = db >> 3; /* REX.B */
  uint32_t i = 0;
  for (; n - i >= 8; i += 8) {
    q = r11_mem(q, 0x8B4C | rs, 2, sb, soff + (int32_t)i); /* mov r11, [s] */
    q = r11_mem(q, 0x894C | rd, 2, db, doff + (int32_t)i); /* mov [d], r11 */
  }
  if (n - i >= 4) {
    q = r11_mem(q, 0x8B44 | rs, 2, sb, soff + (int32_t)i); /* mov r11d, ... */
    q = r11_mem(q, 0x8944 | rd, 2, db, doff + (int32_t)i);
    i += 4;
  }
  if (n - i >= 2) {
    q = r11_mem(q, 0x8B4466 | rs << 8, 3, sb, soff + (int32_t)i); /* mov r11w, ... */
    q = r11_mem(q, 0x894466 | rd << 8, 3, db, doff + (int32_t)i);
    i += 2;
  }
  if (n - i >= 1) {
    q = r11_mem(q, 0x8A44 | rs, 2, sb, soff + (int32_t)i); /* mov r11b, ... */
    q = r11_mem(q, 0x8844 | rd, 2, db, doff + (int32_t)i);
  }
  b->len = (size_t)(q - b->data);
  return 1;
}

void lw_copy(lower_ctx *L, af_reg dbase, int32_t doff, af_reg sbase, int32_t soff, uint32_t n) {
  if (dbase == AF_R11 || sbase == AF_R11) {
    lw_fail(L, AF_ERR_INVALID, "lw_copy: R11 as a base");
    return;
  }
  /* twice, as copy_chunks: with both bases rbp (slot to slot) the encoding folds */
  if (dbase == AF_RBP && sbase == AF_RBP) {
    if (!copy_fast(L->b, AF_RBP, doff, AF_RBP, soff, n))
      copy_chunks(L->b, AF_RBP, doff, AF_RBP, soff, n);
  } else if (!copy_fast(L->b, (unsigned)dbase, doff, (unsigned)sbase, soff, n)) {
    copy_chunks(L->b, dbase, doff, sbase, soff, n);
  }
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
