/* lower_mix.h - MIX's lowering (lower_mix.c), private to jit/: its entry and its code templates. */
#ifndef ABIFUZZ_JIT_LOWER_MIX_H
#define ABIFUZZ_JIT_LOWER_MIX_H

#include "lower.h"

/* MIX: h = inst.imm, then every operand folded in order (gen.h "Folding"), h to the result's
 * slot. Scalar operands but f80 and ptr are folded by the emitted code itself (a slot load, a
 * branch-free NaN canonicalisation for floats, the af_fold_u64 sequence per 64-bit chunk);
 * the others (aggregates, pointers, f80) call jit_rt_fold. The inline code clobbers only what
 * that call clobbers (RAX RCX RDX RSI R8 R9, flags): the allocator's MIX rule stays. */
af_status lower_mix(lower_ctx *L, const af_inst *in);

/* The templates the lowering copies (one 64-bit chunk x in RSI, h in RAX, RDX and RCX scratch),
 * and the encoder's version of each (lm_emit_*), which test_mix_inline checks they equal:
 *   consts: mov r8, 0x9e3779b97f4a7c15; mov r9, 0xbf58476d1ce4e5b9 (af_fold_u64's constants,
 *           loaded before the first inline chunk and again after each helper call)
 *   fold:   h = af_fold_u64(h, x)
 *   canon:  x = the canonical quiet NaN if x (the zero-extended bits of an f16 / f32 / f64) is
 *           a NaN: the bits without the sign above infinity's (cmova) */
#define LM_CONSTS_LEN  20
#define LM_FOLD_LEN    47
#define LM_CANON16_LEN 22 /* f16 */
#define LM_CANON32_LEN 18 /* f32 */
#define LM_CANON64_LEN 33 /* f64 */
extern const uint8_t lm_consts_bytes[LM_CONSTS_LEN];
extern const uint8_t lm_fold_bytes[LM_FOLD_LEN];
extern const uint8_t lm_canon_f16_bytes[LM_CANON16_LEN];
extern const uint8_t lm_canon_f32_bytes[LM_CANON32_LEN];
extern const uint8_t lm_canon_f64_bytes[LM_CANON64_LEN];
void lm_emit_consts(x86_buf *b);
void lm_emit_fold(x86_buf *b);
void lm_emit_canon(x86_buf *b, int type); /* AF_T_F16, AF_T_F32 or AF_T_F64 */

/* A whole operand of a kind folded inline, as the lowering copies it: per chunk (n of them,
 * `step` bytes apart in the slot) the slot load into RSI (ldlen opcode bytes, as lw_load_int
 * writes it, then the ModRM and the displacement, patched per operand), the canonicalisation
 * (canonlen bytes: none, or one of the above), the fold. b8: [rbp + disp8] loads, b32:
 * [rbp + disp32]. The arrays are whole 16-byte blocks past the code (the lowering copies
 * blocks). lm_kinds: n, step, ldlen, canonlen; n == 0: not inline (f80, ptr, void). */
#define LM_TPL_MAX 240 /* m256: 4 * (2 + 5 + 47) = 216 bytes, rounded up, + 16 */
typedef struct {
  uint8_t n, step, ldlen, canonlen;
} lm_kind;
typedef struct {
  uint8_t b8[LM_TPL_MAX], b32[LM_TPL_MAX];
} lm_code;
extern const lm_kind lm_kinds[AF_T_NSCALAR];
extern const lm_code lm_codes[AF_T_NSCALAR];
/* bytes of one chunk's code of kind t in lm_codes' b8 (d32 0) or b32 (d32 1) */
static inline size_t lm_chunk_len(const lm_kind *t, int d32) {
  return (size_t)t->ldlen + (d32 ? 5 : 2) + t->canonlen + LM_FOLD_LEN;
}
/* 1: the lowering folds an operand of this type inline (no jit_rt_fold call). */
static inline int lm_inline_type(int type) {
  return (unsigned)type < AF_T_NSCALAR && lm_kinds[type].n;
}
/* bytes of code of lm_codes[type].b8 (d32 0) or b32 (d32 1) */
static inline size_t lm_code_len(int type, int d32) {
  return lm_kinds[type].n * lm_chunk_len(&lm_kinds[type], d32);
}

#endif
