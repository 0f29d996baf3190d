/* lower_rt.c - runtime helpers the JIT code calls (SysV C): MIX's fold, 128-bit and f16 work. */
#include <string.h>

#include "lower.h"

/* The conversion and bit-field helpers call gen's own evaluation (af_eval_conv,
 * af_bitfield_get/set): for what the lowering does not inline, the interpreter's code
 * IS the semantics, so there is no second copy to drift. The emitted C checks it. */

/* MIX: folds one operand (its slot bytes) with af_fold_value; a pointer is matched against
 * the run's objects (pointers always point at a region's start, gen.h). Only for the operands
 * lower_mix.c does not fold inline: aggregates, pointers, f80. */
uint64_t jit_rt_fold(const jit_rt *rt, uint64_t h, const void *value, int type) {
  return af_fold_operand(rt->c, rt->objects, h, value, type);
}

/* FCONV / ITOF / FTOI for the pairs the lowering does not inline (f16, 128-bit, u64,
 * f80): the interpreter's own conversion (verified cases only reach valid pairs). */
void jit_rt_fconv(void *d, const void *a, int from, int to) {
  (void)af_eval_conv(AF_OP_FCONV, from, to, a, d);
}

void jit_rt_itof(void *d, const void *a, int from, int to) {
  (void)af_eval_conv(AF_OP_ITOF, from, to, a, d);
}

void jit_rt_ftoi(void *d, const void *a, int from, int to) {
  (void)af_eval_conv(AF_OP_FTOI, from, to, a, d);
}

/* Writes the low size(type) bytes of x (bool: x & 1), little-endian. */
static void rt_wr_int64(uint8_t *p, int type, uint64_t x) {
  if (type == AF_T_BOOL) x &= 1;
  for (int i = 0; i < af_scalar((af_kind)type)->size; i++)
    p[i] = (uint8_t)(x >> (8 * i));
}

/* GET of a bit-field: bits [bit_offset, +bits) of agg, extended per `type`, written as type. */
void jit_rt_bf_get(void *d, const void *agg, uint32_t bit_offset, int bits, int type) {
  rt_wr_int64(d, type, af_bitfield_get(agg, bit_offset, bits, af_scalar((af_kind)type)->is_signed));
}

/* SET of a bit-field: the low `bits` bits of the value (of `type`) into d's bits. */
void jit_rt_bf_set(void *d, const void *val, uint32_t bit_offset, int bits, int type) {
  uint64_t x = 0;
  for (int i = 0; i < af_scalar((af_kind)type)->size; i++)
    x |= (uint64_t)((const uint8_t *)val)[i] << (8 * i);
  af_bitfield_set(d, bit_offset, bits, x);
}
