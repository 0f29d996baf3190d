/* lower_mix.c - MIX: scalar operands folded by the emitted code, the others by jit_rt_fold. */
#include <string.h>

#include "lower_mix.h"

/* A MIX has ~9 operands (a generated case ~8 MIXes), each run once per leg: a helper call per
 * operand (jit_rt_fold -> af_fold_operand behind the native leg's rt_probe wrapper, 181 calls
 * a case) was ~7% of a case. The JIT knows every operand's type, so the leaves gen.h
 * "Folding" defines as 64-bit chunks of the slot's bytes are folded in place:
 *   bool, i8..u64   one chunk, the value loaded extended (signed kinds sign-extend, bool and
 *                   the unsigned kinds zero-extend: lw_load_int)
 *   i128/u128, m128, m256   2 or 4 raw little-endian chunks
 *   f16/f32/f64     one chunk, the bits zero-extended, a NaN replaced by the canonical quiet
 *                   NaN; cf32/cf64 two of them (real, then imaginary)
 * f80 (a two-register canonicalisation), pointers (matched against the run's objects) and
 * aggregates (a walk of the type) still call jit_rt_fold, in operand order.
 * 3 operands in 4 are such scalars. Compile cost counts as much as run cost (each MIX is
 * compiled once and run once per leg): the lowering copies a whole operand's code from a
 * template of its kind and patches the slot displacements, no encoder on this path. R8 and R9
 * hold the fold's two constants (loaded again after each helper call): 47 bytes a chunk. */

/* clang-format off */
const uint8_t lm_consts_bytes[LM_CONSTS_LEN] = {
    0x49, 0xB8, 0x15, 0x7C, 0x4A, 0x7F, 0xB9, 0x79, 0x37, 0x9E, /* mov r8, 0x9e3779b97f4a7c15 */
    0x49, 0xB9, 0xB9, 0xE5, 0xE4, 0x1C, 0x6D, 0x47, 0x58, 0xBF, /* mov r9, 0xbf58476d1ce4e5b9 */
};

/* h ^= x + K1 + (h << 6) + (h >> 2); h ^= h >> 31; h *= K2; h ^= h >> 29 (gen.h af_fold_u64) */
#define LM_FOLD                                                                                    \
    0x4C, 0x01, 0xC6,       /* add rsi, r8 */                                                      \
    0x48, 0x6B, 0xD0, 0x40, /* imul rdx, rax, 64 */                                                \
    0x48, 0x01, 0xD6,       /* add rsi, rdx */                                                     \
    0x48, 0x89, 0xC2,       /* mov rdx, rax */                                                     \
    0x48, 0xC1, 0xEA, 0x02, /* shr rdx, 2 */                                                       \
    0x48, 0x01, 0xD6,       /* add rsi, rdx */                                                     \
    0x48, 0x31, 0xF0,       /* xor rax, rsi */                                                     \
    0x48, 0x89, 0xC2,       /* mov rdx, rax */                                                     \
    0x48, 0xC1, 0xEA, 0x1F, /* shr rdx, 31 */                                                      \
    0x48, 0x31, 0xD0,       /* xor rax, rdx */                                                     \
    0x49, 0x0F, 0xAF, 0xC1, /* imul rax, r9 */                                                     \
    0x48, 0x89, 0xC2,       /* mov rdx, rax */                                                     \
    0x48, 0xC1, 0xEA, 0x1D, /* shr rdx, 29 */                                                      \
    0x48, 0x31, 0xD0        /* xor rax, rdx */
const uint8_t lm_fold_bytes[LM_FOLD_LEN] = {LM_FOLD};

/* A NaN is a value whose bits without the sign are above infinity's (fold_internal.h's test,
 * the same bits): then the canonical quiet NaN, by cmova (no branch: the leaves' types are
 * random, a branch would be mispredicted as often as not). Each ends with a comma (the
 * templates below put nothing or one of them before the fold). */
#define LM_CANON_F16                                                                               \
    0x89, 0xF2,                         /* mov edx, esi */                                         \
    0x81, 0xE2, 0xFF, 0x7F, 0x00, 0x00, /* and edx, 0x7fff */                                      \
    0x81, 0xFA, 0x00, 0x7C, 0x00, 0x00, /* cmp edx, 0x7c00 */                                      \
    0xBA, 0x00, 0x7E, 0x00, 0x00,       /* mov edx, 0x7e00 */                                      \
    0x0F, 0x47, 0xF2,                   /* cmova esi, edx */
/* f32: the bits doubled (the sign out) against infinity's, 0xff000000 */
#define LM_CANON_F32                                                                               \
    0x89, 0xF2,                         /* mov edx, esi */                                         \
    0x01, 0xD2,                         /* add edx, edx */                                         \
    0x81, 0xFA, 0x00, 0x00, 0x00, 0xFF, /* cmp edx, 0xff000000 */                                  \
    0xBA, 0x00, 0x00, 0xC0, 0x7F,       /* mov edx, 0x7fc00000 */                                  \
    0x0F, 0x47, 0xF2,                   /* cmova esi, edx */
/* f64: the same, against 0xffe0000000000000 */
#define LM_CANON_F64                                                                               \
    0x48, 0x89, 0xF2,                                           /* mov rdx, rsi */                 \
    0x48, 0x01, 0xD2,                                           /* add rdx, rdx */                 \
    0x48, 0xB9, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xE0, 0xFF, /* mov rcx, 0xffe0000000000000 */  \
    0x48, 0x39, 0xCA,                                           /* cmp rdx, rcx */                 \
    0x48, 0xBA, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xF8, 0x7F, /* mov rdx, 0x7ff8000000000000 */  \
    0x48, 0x0F, 0x47, 0xF2,                                     /* cmova rsi, rdx */
const uint8_t lm_canon_f16_bytes[LM_CANON16_LEN] = {LM_CANON_F16};
const uint8_t lm_canon_f32_bytes[LM_CANON32_LEN] = {LM_CANON_F32};
const uint8_t lm_canon_f64_bytes[LM_CANON64_LEN] = {LM_CANON_F64};
#define LM_NOCANON

/* The slot loads into RSI, as lw_load_int writes them (lower_util.c lw_slot_loads: movzx /
 * movsx / movsxd / mov by the kind), then the ModRM of [rbp + disp8] or [rbp + disp32] (the
 * displacement patched per operand) */
#define LM_LD_U8  0x48, 0x0F, 0xB6 /* movzx rsi, byte (bool, u8) */
#define LM_LD_I8  0x48, 0x0F, 0xBE /* movsx rsi, byte */
#define LM_LD_U16 0x48, 0x0F, 0xB7 /* movzx rsi, word */
#define LM_LD_I16 0x48, 0x0F, 0xBF /* movsx rsi, word */
#define LM_LD_U32 0x8B             /* mov esi, dword */
#define LM_LD_I32 0x48, 0x63       /* movsxd rsi, dword */
#define LM_LD_U64 0x48, 0x8B       /* mov rsi, qword */
#define LM_D8  0x75, 0x00
#define LM_D32 0xB5, 0x00, 0x00, 0x00, 0x00
/* (the pieces written out, not through a macro taking them: their commas would split its
 * arguments) */
#define LM_1(ld, c) {ld, LM_D8, c LM_FOLD}, {ld, LM_D32, c LM_FOLD}
#define LM_2(ld, c)                                                                                \
    {ld, LM_D8, c LM_FOLD, ld, LM_D8, c LM_FOLD}, {ld, LM_D32, c LM_FOLD, ld, LM_D32, c LM_FOLD}
#define LM_4(ld, c)                                                                                \
    {ld, LM_D8, c LM_FOLD, ld, LM_D8, c LM_FOLD, ld, LM_D8, c LM_FOLD, ld, LM_D8, c LM_FOLD},      \
    {ld, LM_D32, c LM_FOLD, ld, LM_D32, c LM_FOLD, ld, LM_D32, c LM_FOLD, ld, LM_D32, c LM_FOLD}

/* Per scalar kind folded inline: chunks (0: a jit_rt_fold call), the bytes between chunks in the
 * slot, the load's opcode bytes, the canonicalisation's bytes (one cache line for all kinds,
 * read for every operand); then the whole operand's code for both displacement sizes (every
 * chunk: load, canonicalisation, fold). */
const lm_kind lm_kinds[AF_T_NSCALAR] = {
    [AF_T_BOOL] = {1, 0, 3, 0},
    [AF_T_I8] = {1, 0, 3, 0},
    [AF_T_U8] = {1, 0, 3, 0},
    [AF_T_I16] = {1, 0, 3, 0},
    [AF_T_U16] = {1, 0, 3, 0},
    [AF_T_I32] = {1, 0, 2, 0},
    [AF_T_U32] = {1, 0, 1, 0},
    [AF_T_I64] = {1, 0, 2, 0},
    [AF_T_U64] = {1, 0, 2, 0},
    [AF_T_I128] = {2, 8, 2, 0},
    [AF_T_U128] = {2, 8, 2, 0},
    [AF_T_F16] = {1, 0, 3, LM_CANON16_LEN},
    [AF_T_F32] = {1, 0, 1, LM_CANON32_LEN},
    [AF_T_F64] = {1, 0, 2, LM_CANON64_LEN},
    [AF_T_CF32] = {2, 4, 1, LM_CANON32_LEN},
    [AF_T_CF64] = {2, 8, 2, LM_CANON64_LEN},
    [AF_T_M128] = {2, 8, 2, 0},
    [AF_T_M256] = {4, 8, 2, 0},
};
const lm_code lm_codes[AF_T_NSCALAR] = {
    [AF_T_BOOL] = {LM_1(LM_LD_U8, LM_NOCANON)},
    [AF_T_I8] = {LM_1(LM_LD_I8, LM_NOCANON)},
    [AF_T_U8] = {LM_1(LM_LD_U8, LM_NOCANON)},
    [AF_T_I16] = {LM_1(LM_LD_I16, LM_NOCANON)},
    [AF_T_U16] = {LM_1(LM_LD_U16, LM_NOCANON)},
    [AF_T_I32] = {LM_1(LM_LD_I32, LM_NOCANON)},
    [AF_T_U32] = {LM_1(LM_LD_U32, LM_NOCANON)},
    [AF_T_I64] = {LM_1(LM_LD_U64, LM_NOCANON)},
    [AF_T_U64] = {LM_1(LM_LD_U64, LM_NOCANON)},
    [AF_T_I128] = {LM_2(LM_LD_U64, LM_NOCANON)},
    [AF_T_U128] = {LM_2(LM_LD_U64, LM_NOCANON)},
    [AF_T_F16] = {LM_1(LM_LD_U16, LM_CANON_F16)},
    [AF_T_F32] = {LM_1(LM_LD_U32, LM_CANON_F32)},
    [AF_T_F64] = {LM_1(LM_LD_U64, LM_CANON_F64)},
    [AF_T_CF32] = {LM_2(LM_LD_U32, LM_CANON_F32)},
    [AF_T_CF64] = {LM_2(LM_LD_U64, LM_CANON_F64)},
    [AF_T_M128] = {LM_2(LM_LD_U64, LM_NOCANON)},
    [AF_T_M256] = {LM_4(LM_LD_U64, LM_NOCANON)},
};
/* clang-format on */

/* ---- the encoder's version of the templates (test_mix_inline compares) ---- */
static void enc2(x86_buf *b, x86_op op, x86_operand a, x86_operand c) {
  x86_inst i = x86_inst2(op, a, c);
  (void)x86_emit(b, &i);
}

static void enc_cmova(x86_buf *b, int size, af_reg d, af_reg s) {
  x86_inst i = x86_inst2(X86_CMOVCC, x86_gpr(d, size), x86_gpr(s, size));
  i.cond = (uint8_t)X86_CC_A;
  (void)x86_emit(b, &i);
}

void lm_emit_consts(x86_buf *b) {
  (void)x86_emit_movimm(b, AF_R8, 8, (int64_t)0x9e3779b97f4a7c15ull);
  (void)x86_emit_movimm(b, AF_R9, 8, (int64_t)0xbf58476d1ce4e5b9ull);
}

void lm_emit_fold(x86_buf *b) {
  x86_operand rax = x86_gpr(AF_RAX, 8), rdx = x86_gpr(AF_RDX, 8), rsi = x86_gpr(AF_RSI, 8);
  enc2(b, X86_ADD, rsi, x86_gpr(AF_R8, 8));
  x86_inst i = x86_inst3(X86_IMUL, rdx, rax, x86_imm(64)); /* h << 6, 3 bytes shorter */
  (void)x86_emit(b, &i);
  enc2(b, X86_ADD, rsi, rdx);
  enc2(b, X86_MOV, rdx, rax);
  enc2(b, X86_SHR, rdx, x86_imm(2));
  enc2(b, X86_ADD, rsi, rdx);
  enc2(b, X86_XOR, rax, rsi);
  enc2(b, X86_MOV, rdx, rax);
  enc2(b, X86_SHR, rdx, x86_imm(31));
  enc2(b, X86_XOR, rax, rdx);
  enc2(b, X86_IMUL, rax, x86_gpr(AF_R9, 8));
  enc2(b, X86_MOV, rdx, rax);
  enc2(b, X86_SHR, rdx, x86_imm(29));
  enc2(b, X86_XOR, rax, rdx);
}

void lm_emit_canon(x86_buf *b, int type) {
  if (type == AF_T_F16) {
    enc2(b, X86_MOV, x86_gpr(AF_RDX, 4), x86_gpr(AF_RSI, 4));
    enc2(b, X86_AND, x86_gpr(AF_RDX, 4), x86_imm(0x7fff));
    enc2(b, X86_CMP, x86_gpr(AF_RDX, 4), x86_imm(0x7c00));
    (void)x86_emit_movimm(b, AF_RDX, 4, 0x7e00);
    enc_cmova(b, 4, AF_RSI, AF_RDX);
    return;
  }
  int w = type == AF_T_F64 ? 8 : 4;
  x86_operand rdx = x86_gpr(AF_RDX, w);
  enc2(b, X86_MOV, rdx, x86_gpr(AF_RSI, w));
  enc2(b, X86_ADD, rdx, rdx);
  if (w == 8) {
    (void)x86_emit_movimm(b, AF_RCX, 8, (int64_t)0xffe0000000000000ull);
    enc2(b, X86_CMP, rdx, x86_gpr(AF_RCX, 8));
    (void)x86_emit_movimm(b, AF_RDX, 8, (int64_t)0x7ff8000000000000ull);
  } else {
    enc2(b, X86_CMP, rdx, x86_imm((int32_t)0xff000000u));
    (void)x86_emit_movimm(b, AF_RDX, 4, 0x7fc00000);
  }
  enc_cmova(b, w, AF_RSI, AF_RDX);
}

/* ---- the lowering ---- */

/* One operand folded inline: its kind's template, whole 16-byte blocks copied (the template
 * arrays and the buffer's slack hold the excess), then each chunk's displacement patched. */
static inline __attribute__((always_inline)) void lm_inline(x86_buf *B, unsigned type,
                                                            int32_t slot) {
  const lm_kind *t = &lm_kinds[type];
  int d32 = slot < -128 || slot + 3 * t->step > 127;
  size_t clen = lm_chunk_len(t, d32), n = t->n * clen;
  const uint8_t *src = d32 ? lm_codes[type].b32 : lm_codes[type].b8;
  if (__builtin_expect(B->len + LM_TPL_MAX > B->cap, 0)) {
    if (x86_emit_bytes(B, src, LM_TPL_MAX) != AF_OK) return; /* grows the buffer */
    B->len -= LM_TPL_MAX;
  }
  uint8_t *q = B->data + B->len;
  for (size_t i = 0; i < n; i += 16)
    memcpy(q + i, src + i, 16);
  for (int i = 0; i < t->n; i++) {
    uint8_t *m = q + (size_t)i * clen + t->ldlen + 1; /* after the opcode and the ModRM */
    int32_t d = slot + i * t->step;
    if (d32)
      memcpy(m, &d, 4);
    else
      *m = (uint8_t)d;
  }
  B->len += n;
}

/* The call operands: h = jit_rt_fold(rt, h, &slot, type). Every such sequence is the same but
 * for its lea and its type: the first one is emitted, and the next ones repeat its constant head
 * (mov rsi, rax; mov rdi, rt: at most 16 bytes) and tail (the helper call: at most 32), kept as
 * whole words, around their own lea and mov ecx. */
__attribute__((noinline)) af_status lower_mix(lower_ctx *L, const af_inst *in) {
  x86_buf *B = L->b;
  xd_movimm(B, AF_RAX, 8, in->imm);
  uint64_t head[2] = {0}, tail[4] = {0};
  size_t hn = 0, tn = 0; /* their lengths; 0: not yet emitted */
  int consts = 0;        /* R8 and R9 hold the fold's constants (no call since) */
  for (int k = 0; k < in->nargs; k++) {
    int v = in->args[k];
    uint32_t t = (uint32_t)L->f->value_type[v];
    if (lm_inline_type((int)t)) {
      if (!consts) {
        if (__builtin_expect(B->len + LM_CONSTS_LEN <= B->cap, 1)) {
          memcpy(B->data + B->len, lm_consts_bytes, LM_CONSTS_LEN);
          B->len += LM_CONSTS_LEN;
        } else {
          (void)x86_emit_bytes(B, lm_consts_bytes, LM_CONSTS_LEN); /* grows the buffer */
        }
      }
      consts = 1;
      lm_inline(B, t, L->slot[v]);
      continue;
    }
    consts = 0;
    if (tn && B->len + hn + tn + 48 <= B->cap) { /* words stored whole: 48 bytes of slack */
      uint8_t *q = B->data + B->len;
      memcpy(q, head, sizeof head);
      q += hn;
      /* xd_lea's lea rdx, [rbp + d] (48 8D 55 disp8 / 48 8D 95 disp32) and xd_movimm's
       * mov ecx, type (B9 id; a type id is never negative), written in place */
      int32_t d = L->slot[v];
      if (d == (int8_t)d) {
        q[0] = 0x48, q[1] = 0x8D, q[2] = 0x55, q[3] = (uint8_t)d;
        q += 4;
      } else {
        q[0] = 0x48, q[1] = 0x8D, q[2] = 0x95;
        memcpy(q + 3, &d, 4);
        q += 7;
      }
      q[0] = 0xB9;
      memcpy(q + 1, &t, 4);
      q += 5;
      memcpy(q, tail, sizeof tail);
      B->len = (size_t)(q - B->data) + tn;
      continue;
    }
    size_t a = B->len;
    x86_emit2(B, X86_MOV, x86_gpr(AF_RSI, 8), x86_gpr(AF_RAX, 8));
    xd_movimm(B, AF_RDI, 8, (int64_t)(uintptr_t)L->rt);
    size_t b = B->len;
    xd_lea(B, AF_RDX, AF_RBP, L->slot[v]);
    xd_movimm(B, AF_RCX, 4, (int64_t)t);
    size_t c = B->len;
    lw_call_abs(L, (const void *)jit_rt_fold);
    if (B->err == AF_OK && b - a <= sizeof head && B->len - c <= sizeof tail) {
      hn = b - a, tn = B->len - c;
      memcpy(head, B->data + a, hn);
      memcpy(tail, B->data + c, tn);
    }
  }
  x86_emit2(B, X86_MOV, lw_slot(L, in->dst, 0, 8), x86_gpr(AF_RAX, 8));
  return B->err;
}
