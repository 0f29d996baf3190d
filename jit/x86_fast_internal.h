/* x86_fast_internal.h - private to the encoder's fast path (x86_fast.c, x86_fast_build.c). */
#ifndef ABIFUZZ_JIT_X86_FAST_INTERNAL_H
#define ABIFUZZ_JIT_X86_FAST_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

#include "x86_enc_internal.h"

/* The tables x86_fast_build.c fills once per process (x86_enc_init) and x86_fast.c reads:
 * x86_fast.c's opening comment says what each is for. Read only after x86_built is set. */

/* Operand classes: kind and size. */
enum {
  C_NONE,
  C_R8, /* a byte register; cl only by value (the CL form) */
  C_R16,
  C_R32,
  C_R64,
  C_M1,
  C_M2,
  C_M4,
  C_M8,
  C_M10,
  C_M16,
  C_MANY, /* memory of any other size (lea's 0) */
  C_X,
  C_IMM,
  C_REL1, /* size 1: REL8 when it fits 8 bits */
  C_REL4, /* size 4: REL32 when it fits 32 bits */
  C_ST,
  C_COUNT,
  C_BAD = 32 /* no row accepts it: the reference decides */
};
#define CBITS 6
#define KEY_BAD                                                                                    \
  ((uint32_t)C_BAD << 7 | (uint32_t)C_BAD << (7 + CBITS) | (uint32_t)C_BAD << (7 + 2 * CBITS))
_Static_assert(X86_OP_COUNT <= 128, "the signature keeps the op in 7 bits");
_Static_assert(X86_OPND_NONE == 0 && X86_OPND_ST == 6, "class_of is indexed by kind 0..6");

enum { R_NP, R_O, R_ST, R_MODRM }; /* recipes: opcode only (and a branch); + register; ModRM */
enum { V_NONE, V_RANGE, V_CL, V_GENERIC };

typedef struct {
  uint64_t hd0, hd1; /* prefix and opcode bytes without a REX; with 0x40 | W in its place */
  int64_t lo;        /* V_RANGE: v - lo <= span (unsigned), and v read back as a `width`-byte */
  uint64_t span;     /* number (shift sh) fits the form (shift fsh) */
  uint8_t hl0, hl1;  /* their lengths */
  uint8_t rexsh;     /* 8 * the place of the REX in hd1 */
  uint8_t w;         /* 8: REX.W */
  uint8_t recipe;
  uint8_t cc;                /* 1: the condition code is added to the last opcode byte */
  int8_t regk;               /* R_MODRM: the operand in ModRM.reg, or -1: the /digit */
  uint8_t digit;             /* ModRM.reg without an operand there */
  uint8_t regbias;           /* 16 when ModRM.reg is an xmm register (af_reg) */
  int8_t rmk;                /* R_MODRM: the operand in ModRM.rm */
  uint8_t byte_reg, byte_rm; /* 1: that operand may be a byte register (spl..dil need a REX) */
  int8_t ik;                 /* the operand put after ModRM (immediate, branch), or -1 */
  uint8_t ibytes;
  uint8_t vcheck; /* V_ */
  int8_t vk;      /* the operand checked */
  uint8_t sh, fsh, vform, width;
} __attribute__((aligned(64))) row_plan; /* 64 bytes: plans[i] is a shift away */

#define MAX_ROWS 1024
#define MAX_ROWS 1024
/* ---- the signature table ---- */
#define MAXC      4  /* candidate rows kept per signature (the table needs 2) */
#define MEMO_BITS 12 /* 4096 slots for the ~1,000 signatures of the table */
#define MEMO_SIZE (1u << MEMO_BITS)

typedef struct {
  uint32_t key1; /* signature + 1; 0: empty */
  uint8_t ncand; /* 0: the reference decides */
  uint8_t plain; /* 1: cand[0] has no value to check: it is the row */
  uint16_t cand[MAXC];
} memo_slot;

/* ---- the raw signature table ---- */
/* The lowering builds its operands with x86.h's constructors, so each kind comes with one
 * size per class (xmm 16, immediates and x87 registers 0) and the operands past nops are all
 * zero. A second table keyed by those raw bytes (op, nops, and the first two bytes, kind and
 * size, of each operand) maps straight to the memo slot, and to the plan when the slot has a
 * single candidate: no per-operand classification. A key not in it (another size for an
 * xmm, junk past nops, an unknown kind) takes the class path above. */
#define RAW_BITS 11
#define RAW_SIZE (1u << RAW_BITS)

/* Fast recipes: the plan's recipe specialised by the signature's classes (which operand
 * goes in ModRM.reg, whether ModRM.rm is a register or memory, xmm or GPR, byte registers). */
enum { FK_GENERIC, FK_NP, FK_O, FK_RR, FK_RM };

/* A signature's fast recipe: the first candidate row's, and the second's when it differs only
 * in its bytes (the imm8 and imm32 forms of add): alternative a is taken when the value
 * (operand vk) passes its range check; none passing: the reference answers. */
typedef struct {
  uint64_t hd0[2], hd1[2]; /* the plan's: prefix and opcode bytes without / with a REX */
  int64_t lo[2];           /* value checks, as in row_plan (lo INT64_MIN, span max: none) */
  uint64_t span[2];
  uint8_t hl0[2], hl1[2], ibytes[2], sh[2], fsh[2];
  uint8_t nalt;         /* alternatives: 1 or 2 */
  uint8_t checked;      /* 1: check the value */
  int8_t vk;            /* the operand checked */
  uint8_t fast;         /* FK_ */
  uint8_t rexsh, w, cc; /* as in row_plan */
  uint8_t regfix;       /* FK_RR / FK_RM without a register in ModRM.reg: the /digit */
  int8_t regk, rmk;     /* operands in ModRM.reg (-1: regfix) and ModRM.rm; FK_O: regk 0 */
  uint8_t regbias;      /* 16 for an xmm register in ModRM.reg */
  uint8_t rmbias;       /* 16 for an xmm register in ModRM.rm */
  uint8_t bytes;        /* 1: a byte register in ModRM.reg / the opcode; 2: in ModRM.rm */
  int8_t ik;            /* the operand put last, or -1 */
} __attribute__((aligned(32))) fast_rec;

typedef struct {
  uint64_t key;  /* op, cond masked out, nops, operands 0 and 1; 0: empty (op 0, nops 0: no row) */
  uint64_t key2; /* operand 2 */
  const fast_rec *rec; /* NULL: encode_generic */
  const memo_slot *ms; /* the candidates */
} raw_slot;

extern row_plan x86_plans[MAX_ROWS];
extern memo_slot x86_memo[MEMO_SIZE];
extern raw_slot x86_raw[RAW_SIZE];
extern atomic_bool x86_built; /* set (release) once the tables are complete */

static inline uint32_t make_key(uint32_t op, uint32_t c0, uint32_t c1, uint32_t c2) {
  return op | c0 << 7 | c1 << (7 + CBITS) | c2 << (7 + 2 * CBITS);
}

static inline uint32_t memo_hash(uint32_t key1) { return (key1 * 0x9E3779B1u) >> (32 - MEMO_BITS); }

static inline const memo_slot *memo_find(uint32_t key1) {
  uint32_t h = memo_hash(key1);
  if (__builtin_expect(x86_memo[h].key1 == key1, 1)) return &x86_memo[h];
  for (;; h = (h + 1) & (MEMO_SIZE - 1)) {
    if (x86_memo[h].key1 == key1) return &x86_memo[h];
    if (!x86_memo[h].key1) return NULL;
  }
}

static inline uint64_t raw_key(const x86_inst *in, uint64_t *key2) {
  uint32_t head; /* op (16 bits), cond, nops */
  uint16_t k0, k1, k2;
  memcpy(&head, in, 4);
  memcpy(&k0, &in->o[0].kind, 2), memcpy(&k1, &in->o[1].kind, 2), memcpy(&k2, &in->o[2].kind, 2);
  *key2 = k2;
  return (uint64_t)(head & 0xFF00FFFFu) | (uint64_t)k0 << 32 | (uint64_t)k1 << 48;
}
_Static_assert(offsetof(x86_operand, size) == offsetof(x86_operand, kind) + 1, "kind, size");
_Static_assert(offsetof(x86_inst, op) == 0 && offsetof(x86_inst, cond) == 2 &&
                   offsetof(x86_inst, nops) == 3,
               "raw_key reads op, cond and nops as one word");

static inline uint32_t raw_hash(uint64_t key, uint64_t key2) {
  return (uint32_t)(((key ^ key2 << 7) * 0x9E3779B97F4A7C15ull) >> (64 - RAW_BITS));
}

static inline const raw_slot *raw_find(uint64_t key, uint64_t key2) {
  uint32_t h = raw_hash(key, key2);
  for (;; h = (h + 1) & (RAW_SIZE - 1)) {
    if (__builtin_expect(x86_raw[h].key == key && x86_raw[h].key2 == key2, 1)) return &x86_raw[h];
    if (!x86_raw[h].key) return NULL;
  }
}

#endif
