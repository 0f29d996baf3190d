/* x86_enc_internal.h - private to the encoder (x86_enc.c, x86_fast.c) and its tests. */
#ifndef ABIFUZZ_JIT_X86_ENC_INTERNAL_H
#define ABIFUZZ_JIT_X86_ENC_INTERNAL_H

#include "x86.h"

/* Two encoders live side by side and must agree byte for byte (tests/test_x86_fast.c):
 *
 * - the reference (x86_enc.c): the generic matcher, which scans the candidate rows of
 *   (op, kind of operand 0) checking every operand's classes, and encode_row, which reads the
 *   row to find where each operand goes. It is the definition; it answers every instruction
 *   the fast path does not take (errors, odd operand sizes).
 * - the fast path (x86_fast.c): an instruction's operand signature (op and each operand's
 *   class, immediates' values aside) looked up in a table built once per process, which gives
 *   the candidate rows in table order, and per row a plan precomputed from it (prefix, REX.W,
 *   opcode bytes, which operand is ModRM.rm / ModRM.reg / the opcode register, where the
 *   immediate goes). */

/* The reference matcher and encoder. x86_match_ref needs x86_enc_init() first (it reads the
 * row index); x86_encode_ref calls it itself. */
const x86_row *x86_match_ref(const x86_inst *in);
af_status x86_encode_ref(const x86_inst *in, uint8_t out[15], size_t *len);

/* The classes (a bit per XF_) an operand belongs to, the immediate classes I8..I64 left out
 * (they depend on the operation's width: x86_imm_mask); U8, REL8 and REL32 by its value. */
uint32_t x86_opnd_mask_ref(const x86_operand *o);

/* Builds, once per process and thread-safely, the reference's row index and the fast path's
 * tables. Cheap after the first call (one load). */
void x86_enc_init(void);
/* The reference's row index (x86_enc.c), called by x86_enc_init's one-time work. */
void x86_ref_build_index(void);

/* Bytes of a sized class (registers, memory, immediates); 0 for the others. A row's
 * operation width is its first form's. */
int x86_form_size(int f);

/* The XF_ bit of a class. */
#define XB(f)  (1u << (f))
#define XB_IMM (XB(XF_I8) | XB(XF_I16) | XB(XF_I32) | XB(XF_I64))

/* The immediate classes I8..I64 an immediate v belongs to in an operation of `width` bytes
 * (0: each class at its own width). The value is taken modulo 2^(8*width), but must fit that
 * width signed or unsigned; read back as a signed width-byte number, it decides which k-byte
 * immediates sign-extend to it (one wider than the operation always does). */
static inline uint32_t x86_imm_mask(int64_t v, int width) {
  if (!width)
    return (v >= -128 && v <= 255 ? XB(XF_I8) : 0) | (v >= -32768 && v <= 65535 ? XB(XF_I16) : 0) |
           (v >= INT32_MIN && v <= (int64_t)UINT32_MAX ? XB(XF_I32) : 0) | XB(XF_I64);
  int64_t s = v;
  if (width < 8) {
    int m = 8 * width;
    if (v < -(INT64_C(1) << (m - 1)) || v > (INT64_C(1) << m) - 1) return 0;
    s = (int64_t)((uint64_t)v << (64 - m)) >> (64 - m);
  }
  return (s == (int8_t)s ? XB(XF_I8) : 0) | (s == (int16_t)s ? XB(XF_I16) : 0) |
         (s == (int32_t)s ? XB(XF_I32) : 0) | XB(XF_I64);
}

/* Registers in range, no rsp index, scales 1/2/4/8, no index with RIP: what x86_encode
 * answers AF_ERR_INVALID for otherwise. */
static inline bool x86_opnd_valid(const x86_operand *o) {
  switch (o->kind) {
  case X86_OPND_NONE:
  case X86_OPND_IMM:
  case X86_OPND_REL: return true;
  case X86_OPND_GPR:
    return o->reg >= AF_RAX && o->reg <= AF_R15 &&
           (o->size == 1 || o->size == 2 || o->size == 4 || o->size == 8);
  case X86_OPND_XMM: return o->reg >= AF_XMM0 && o->reg <= AF_XMM15;
  case X86_OPND_ST: return o->reg >= 0 && o->reg <= 7;
  case X86_OPND_MEM:
    if (!(o->base == AF_REG_NONE || o->base == X86_BASE_RIP ||
          (o->base >= AF_RAX && o->base <= AF_R15)))
      return false;
    if (o->index == AF_REG_NONE) return true;
    if (o->index < AF_RAX || o->index > AF_R15 || o->index == AF_RSP) return false;
    if (o->base == X86_BASE_RIP) return false;
    return o->scale == 1 || o->scale == 2 || o->scale == 4 || o->scale == 8;
  default: return false;
  }
}

#endif
