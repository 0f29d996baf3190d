/* test_x86_match.c - the encoder's fast form matcher against a plain scan of the whole table. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "gen.h"
#include "x86.h"

/* The reference: x86.h's and x86_table.c's definition of a form, read literally, checked row by
 * row over the whole table in order (the first accepting row wins). x86_match (x86_enc.c)
 * precomputes operand masks and an index by op for speed; both must pick the same row for
 * every instruction, or the JIT's code changes. */
static int fsize(int f) {
  switch (f) {
  case XF_R8:
  case XF_RM8:
  case XF_M8:
  case XF_I8:
  case XF_U8: return 1;
  case XF_R16:
  case XF_RM16:
  case XF_M16:
  case XF_I16: return 2;
  case XF_R32:
  case XF_RM32:
  case XF_M32:
  case XF_XM32:
  case XF_I32: return 4;
  case XF_R64:
  case XF_RM64:
  case XF_M64:
  case XF_XM64:
  case XF_I64: return 8;
  case XF_M80: return 10;
  case XF_M128:
  case XF_XM128: return 16;
  default: return 0;
  }
}

/* v taken modulo 2^(8*width) (in range signed or unsigned), sign-extended from k bytes */
static int imm_ok(int64_t v, int k, int width) {
  if (width < 8) {
    __int128 lo = -((__int128)1 << (8 * width - 1)), hi = ((__int128)1 << (8 * width)) - 1;
    if (v < lo || v > hi) return 0;
  }
  __int128 u = width < 8 ? ((__int128)v & (((__int128)1 << (8 * width)) - 1)) : (__int128)v;
  /* u fits k bytes signed once read as a width-byte two's complement value */
  __int128 s =
      width < 8 && u >= ((__int128)1 << (8 * width - 1)) ? u - ((__int128)1 << (8 * width)) : u;
  if (width == 8) s = v;
  return s >= -((__int128)1 << (8 * k - 1)) && s < ((__int128)1 << (8 * k - 1));
}

static int ref_opnd(int f, const x86_operand *o, int width) {
  int sz = fsize(f);
  switch (f) {
  case XF_NONE: return o->kind == X86_OPND_NONE;
  case XF_R8:
  case XF_R16:
  case XF_R32:
  case XF_R64: return o->kind == X86_OPND_GPR && o->size == sz;
  case XF_RM8:
  case XF_RM16:
  case XF_RM32:
  case XF_RM64: return (o->kind == X86_OPND_GPR || o->kind == X86_OPND_MEM) && o->size == sz;
  case XF_M: return o->kind == X86_OPND_MEM;
  case XF_M8:
  case XF_M16:
  case XF_M32:
  case XF_M64:
  case XF_M80:
  case XF_M128: return o->kind == X86_OPND_MEM && o->size == sz;
  case XF_X: return o->kind == X86_OPND_XMM;
  case XF_XM32:
  case XF_XM64:
  case XF_XM128: return o->kind == X86_OPND_XMM || (o->kind == X86_OPND_MEM && o->size == sz);
  case XF_I8:
  case XF_I16:
  case XF_I32:
  case XF_I64: return o->kind == X86_OPND_IMM && imm_ok(o->imm, sz, width ? width : sz);
  case XF_U8: return o->kind == X86_OPND_IMM && o->imm >= -128 && o->imm <= 255;
  case XF_CL: return o->kind == X86_OPND_GPR && o->size == 1 && o->reg == AF_RCX;
  case XF_REL8: return o->kind == X86_OPND_REL && o->size == 1 && o->imm == (int8_t)o->imm;
  case XF_REL32: return o->kind == X86_OPND_REL && o->size == 4 && o->imm == (int32_t)o->imm;
  case XF_STI: return o->kind == X86_OPND_ST;
  default: return 0;
  }
}

static const x86_row *ref_match(const x86_inst *in) {
  static const x86_operand none;
  for (size_t i = 0; i < x86_nrows; i++) {
    const x86_row *r = &x86_rows[i];
    if (r->op != in->op) continue;
    int ok = 1;
    for (int k = 0; k < 3 && ok; k++)
      ok = ref_opnd(r->form[k], k < in->nops ? &in->o[k] : &none, fsize(r->form[0]));
    if (ok) return r;
  }
  return NULL;
}

static uint64_t rs = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void) {
  rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
  return rs;
}

/* Immediates near every boundary the classes have, and random ones. */
static int64_t rnd_imm(void) {
  static const int64_t edge[] = {0,
                                 1,
                                 -1,
                                 127,
                                 128,
                                 -128,
                                 -129,
                                 255,
                                 256,
                                 32767,
                                 32768,
                                 -32768,
                                 -32769,
                                 65535,
                                 65536,
                                 0x7fffffff,
                                 0x80000000ll,
                                 -0x80000000ll,
                                 -0x80000001ll,
                                 0xffffffffll,
                                 0x100000000ll,
                                 INT64_MAX,
                                 INT64_MIN};
  switch (rnd() % 3) {
  case 0: return edge[rnd() % (sizeof edge / sizeof edge[0])];
  case 1: return (int64_t)rnd() >> (rnd() % 64);
  default: return (int64_t)(rnd() % 512) - 256;
  }
}

static x86_operand rnd_opnd(void) {
  static const int sizes[] = {0, 1, 2, 4, 8, 10, 16, 3};
  int size = sizes[rnd() % 8];
  switch (rnd() % 8) {
  case 0: return x86_gpr((af_reg)(rnd() % 16), sizes[1 + rnd() % 4]);
  case 1: return x86_xmm((af_reg)(AF_XMM0 + (int)(rnd() % 16)));
  case 2: return x86_base(size, (af_reg)(rnd() % 16), (int32_t)rnd());
  case 3: return x86_imm(rnd_imm());
  case 4: return x86_rel(rnd() & 1 ? 1 : 4, (int32_t)(rnd_imm()));
  case 5: return x86_st((int)(rnd() % 8));
  case 6: return x86_gpr(AF_RCX, sizes[1 + rnd() % 4]);
  default: {
    x86_operand o = x86_gpr(AF_RAX, 8);
    o.size = (uint8_t)size; /* odd sizes: must match nothing sized */
    return o;
  }
  }
}

int main(void) {
  long matched = 0, total = 0;
  /* every row's own operands (so every form is reached), then random instructions */
  for (int round = 0; round < 400000; round++) {
    x86_inst in;
    memset(&in, 0, sizeof in);
    in.op = (uint16_t)(rnd() % X86_OP_COUNT);
    in.nops = (uint8_t)(rnd() % 4);
    in.cond = (uint8_t)(rnd() % 16);
    for (int k = 0; k < in.nops; k++)
      in.o[k] = rnd_opnd();
    if (round < 200000 && in.nops) {
      /* steer towards a real row: take a random row of the op and fit operand kinds to it */
      const x86_row *r = &x86_rows[rnd() % x86_nrows];
      in.op = r->op;
      for (int k = 0; k < 3; k++) {
        int f = r->form[k], sz = fsize(f);
        if (f == XF_NONE) {
          in.nops = (uint8_t)(rnd() % 8 ? k : in.nops);
          break;
        }
        in.nops = (uint8_t)(k + 1);
        if (f >= XF_R8 && f <= XF_R64)
          in.o[k] = x86_gpr((af_reg)(rnd() % 16), sz);
        else if (f >= XF_RM8 && f <= XF_M128 && rnd() % 2)
          in.o[k] = x86_base(sz, AF_RBP, -8);
        else if (f >= XF_RM8 && f <= XF_RM64)
          in.o[k] = x86_gpr((af_reg)(rnd() % 16), sz);
        else if (f >= XF_I8 && f <= XF_U8)
          in.o[k] = x86_imm(rnd_imm());
        else if (f == XF_REL8 || f == XF_REL32)
          in.o[k] = x86_rel(rnd() % 2 ? 1 : 4, (int32_t)rnd_imm());
        else
          in.o[k] = rnd_opnd();
      }
    }
    const x86_row *want = ref_match(&in), *got = x86_match(&in);
    total++;
    matched += want != NULL;
    if (got != want) {
      CHECKF(got == want, "op %d nops %d: x86_match row %ld, reference row %ld", in.op, in.nops,
             got ? (long)(got - x86_rows) : -1L, want ? (long)(want - x86_rows) : -1L);
      break;
    }
  }
  printf("%ld instructions, %ld with a row\n", total, matched);
  CHECK(matched > total / 4); /* the steering reaches real rows */
  return check_done();
}
