/* test_x86_fast.c - the encoder's fast path (x86_fast.c) against its reference, byte for byte. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "gen.h"
#include "x86.h"
#include "x86_enc_internal.h"

/* x86_encode, x86_emit and x86_match take a memoised fast path (x86_fast.c); the reference
 * (x86_enc.c: x86_encode_ref, x86_match_ref) is the generic matcher and encoder it replaced.
 * For every instruction both must give the same status, the same bytes and the same row, or
 * the JIT's code changes: random instructions steered to every table row, with registers
 * 0..15 and some out of range, addresses of every shape (index, no base, RIP, rsp/r12 and
 * rbp/r13 bases, disp 0 / 8 / 32 bits), immediates at every class boundary, bad operands. The
 * first emits run from several threads at once (the lazy one-time build). */

static uint64_t rs = 0x2545F4914F6CDD1Dull;
static uint64_t rnd(void) {
  rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
  return rs;
}

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
                                 65408,
                                 0x7fffffff,
                                 0x80000000ll,
                                 -0x80000000ll,
                                 -0x80000001ll,
                                 0xffffffffll,
                                 0xffffff80ll,
                                 0x100000000ll,
                                 INT64_MAX,
                                 INT64_MIN};
  switch (rnd() % 3) {
  case 0: return edge[rnd() % (sizeof edge / sizeof edge[0])];
  case 1: {
    int64_t v = (int64_t)rnd();
    return v >> (rnd() % 64);
  }
  default: return (int64_t)(rnd() % 512) - 256;
  }
}

/* A register number: mostly valid, sometimes not (the fast path must leave those alone). */
static int rnd_reg(int lo, int n) {
  if (rnd() % 64 == 0) return (int)(int8_t)rnd();
  return lo + (int)(rnd() % (unsigned)n);
}

static int32_t rnd_disp(void) {
  switch (rnd() % 5) {
  case 0: return 0;
  case 1: return (int32_t)(rnd() % 256) - 128;
  case 2: return rnd() % 2 ? 127 : -128;
  case 3: return rnd() % 2 ? 128 : -129;
  default: return (int32_t)rnd();
  }
}

static x86_operand rnd_mem(int size) {
  static const int scales[] = {1, 2, 4, 8, 3};
  int base = rnd() % 8 == 0 ? AF_REG_NONE : rnd() % 8 == 0 ? X86_BASE_RIP : rnd_reg(0, 16);
  int index = rnd() % 3 == 0 ? rnd_reg(0, 16) : AF_REG_NONE;
  int nscales = rnd() % 16 ? 4 : 5;
  int scale = scales[rnd() % (unsigned)nscales];
  int32_t disp = rnd_disp(); /* calls in sequence: the same instructions with every compiler */
  return x86_mem(size, (af_reg)base, (af_reg)index, scale, disp);
}

static x86_operand rnd_opnd(void) {
  static const int sizes[] = {0, 1, 2, 4, 8, 10, 16, 3, 200};
  int size = sizes[rnd() % 9];
  switch (rnd() % 9) {
  case 0: {
    int r = rnd_reg(0, 16);
    return x86_gpr((af_reg)r, sizes[1 + rnd() % 4]);
  }
  case 1: return x86_xmm((af_reg)rnd_reg(AF_XMM0, 16));
  case 2: return rnd_mem(size);
  case 3: return x86_imm(rnd_imm());
  case 4: {
    int sz = rnd() & 1 ? 1 : rnd() % 8 ? 4 : 2;
    return x86_rel(sz, (int32_t)rnd_imm());
  }
  case 5: return x86_st(rnd() % 16 ? (int)(rnd() % 8) : 9);
  case 6: return x86_gpr(AF_RCX, sizes[1 + rnd() % 4]);
  case 7: {
    x86_operand o = x86_gpr(AF_RAX, 8);
    o.size = (uint8_t)size; /* odd sizes */
    return o;
  }
  default: {
    x86_operand o = x86_imm(rnd_imm());
    o.kind = (uint8_t)(rnd() % 10); /* unknown kinds too */
    return o;
  }
  }
}

/* An instruction fitted to a random row's forms (most), or random operands. */
static void rnd_inst(x86_inst *in) {
  memset(in, 0, sizeof *in);
  in->op = (uint16_t)(rnd() % X86_OP_COUNT);
  in->nops = (uint8_t)(rnd() % 4);
  in->cond = (uint8_t)(rnd() % 16);
  for (int k = 0; k < in->nops; k++)
    in->o[k] = rnd_opnd();
  if (rnd() % 8 == 0) return;
  const x86_row *r = &x86_rows[rnd() % x86_nrows];
  in->op = r->op;
  in->nops = 0;
  for (int k = 0; k < 3; k++) {
    int f = r->form[k], sz = x86_form_size(f);
    if (f == XF_NONE) break;
    in->nops = (uint8_t)(k + 1);
    if (rnd() % 32 == 0)
      in->o[k] = rnd_opnd();
    else if (f >= XF_R8 && f <= XF_R64)
      in->o[k] = x86_gpr((af_reg)rnd_reg(0, 16), sz);
    else if (f >= XF_RM8 && f <= XF_RM64)
      in->o[k] = rnd() % 2 ? rnd_mem(sz) : x86_gpr((af_reg)rnd_reg(0, 16), sz);
    else if (f == XF_M || (f >= XF_M8 && f <= XF_M128))
      in->o[k] = rnd_mem(f == XF_M ? (int)(rnd() % 3) * 4 : sz);
    else if (f == XF_X)
      in->o[k] = x86_xmm((af_reg)rnd_reg(AF_XMM0, 16));
    else if (f >= XF_XM32 && f <= XF_XM128)
      in->o[k] = rnd() % 2 ? rnd_mem(sz) : x86_xmm((af_reg)rnd_reg(AF_XMM0, 16));
    else if (f >= XF_I8 && f <= XF_U8)
      in->o[k] = x86_imm(rnd_imm());
    else if (f == XF_CL)
      in->o[k] = x86_gpr(rnd() % 4 ? AF_RCX : AF_RDX, 1);
    else if (f == XF_REL8 || f == XF_REL32) {
      int sz1 = rnd() % 2 ? 1 : 4;
      in->o[k] = x86_rel(sz1, (int32_t)rnd_imm());
    } else if (f == XF_STI)
      in->o[k] = x86_st(rnd() % 16 ? (int)(rnd() % 8) : 8);
  }
  if (rnd() % 16 == 0 && in->nops < 3) in->o[in->nops] = rnd_opnd(); /* junk past nops */
}

static long compare(long rounds, long *encoded) {
  long bad = 0;
  for (long i = 0; i < rounds && bad < 5; i++) {
    x86_inst in;
    rnd_inst(&in);
    uint8_t a[15], b[15];
    size_t na = 99, nb = 99;
    af_status sa = x86_encode(&in, a, &na), sb = x86_encode_ref(&in, b, &nb);
    const x86_row *ma = x86_match(&in), *mb = x86_match_ref(&in);
    bool same = sa == sb && na == nb && (sa != AF_OK || memcmp(a, b, na) == 0) && ma == mb;
    /* x86_emit into a buffer with room, then into one that grows */
    x86_buf buf;
    x86_buf_init(&buf);
    af_status se = x86_emit(&buf, &in);
    same = same && se == sb && buf.len == (sb == AF_OK ? nb : 0) && buf.err == se &&
           (se != AF_OK || memcmp(buf.data, b, nb) == 0);
    x86_buf_free(&buf);
    if (!same) {
      bad++;
      fprintf(stderr, "op %d nops %d cond %d: fast %d/%zu row %ld, reference %d/%zu row %ld\n",
              in.op, in.nops, in.cond, sa, na, ma ? (long)(ma - x86_rows) : -1L, sb, nb,
              mb ? (long)(mb - x86_rows) : -1L);
      for (size_t k = 0; k < 15; k++)
        fprintf(stderr, "%s%02x%s", k ? " " : "  fast ", k < na ? a[k] : 0,
                k + 1 == 15 ? "\n" : "");
      for (size_t k = 0; k < 15; k++)
        fprintf(stderr, "%s%02x%s", k ? " " : "  ref  ", k < nb ? b[k] : 0,
                k + 1 == 15 ? "\n" : "");
      for (int k = 0; k < in.nops; k++)
        fprintf(stderr, "  o%d kind %d size %d reg %d base %d index %d scale %d disp %d imm %lld\n",
                k, in.o[k].kind, in.o[k].size, in.o[k].reg, in.o[k].base, in.o[k].index,
                in.o[k].scale, in.o[k].disp, (long long)in.o[k].imm);
    }
    *encoded += sb == AF_OK;
  }
  return bad;
}

static void *first_emits(void *arg) {
  long *ok = arg;
  for (int i = 0; i < 2000; i++) {
    x86_buf b;
    x86_buf_init(&b);
    x86_emit2(&b, X86_MOV, x86_gpr(AF_RAX, 8), x86_base(8, AF_RBP, -16));
    *ok += b.len == 4 && b.data[0] == 0x48 && b.data[1] == 0x8B && b.data[2] == 0x45 &&
           b.data[3] == 0xF0;
    x86_buf_free(&b);
  }
  return NULL;
}

/* x86_emit_movimm's own encoder against the reference's row for every register (and some out
 * of range), size and edge value. */
static long compare_movimm(void) {
  static const int sizes[] = {0, 1, 2, 3, 4, 5, 8, 16};
  long bad = 0;
  for (int r = -2; r < 18; r++)
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
      for (int j = 0; j < 400; j++) {
        int size = sizes[si];
        int64_t v = rnd_imm();
        if (j >= 200) v = (int64_t)rnd() >> (v & 63);
        int sz = size == 8 && v >= 0 && v <= (int64_t)UINT32_MAX ? 4 : size;
        x86_inst in = x86_inst2(X86_MOV, x86_gpr((af_reg)r, sz), x86_imm(v));
        uint8_t want[15];
        size_t nw = 0;
        af_status sw = x86_encode_ref(&in, want, &nw);
        x86_buf b;
        x86_buf_init(&b);
        if (j % 2) x86_emit0(&b, X86_NOP); /* not at offset 0 */
        size_t at = b.len;
        af_status s = x86_emit_movimm(&b, (af_reg)r, size, v);
        bool same = s == sw && b.err == sw && b.len - at == (sw == AF_OK ? nw : 0) &&
                    (sw != AF_OK || memcmp(b.data + at, want, nw) == 0);
        x86_buf_free(&b);
        if (!same && bad++ < 5)
          fprintf(stderr, "movimm r %d size %d v %lld: status %d, reference %d\n", r, size,
                  (long long)v, s, sw);
      }
  return bad;
}

/* x86_emit2's mov between a GPR and memory (x86_direct.h's xd_load / xd_store, or the table)
 * against the reference: both directions, every register (and some out of range), sizes equal
 * and not, every base with RIP and none, an index or not, scales, displacement edges, at
 * offset 0 and not. */
static long compare_mov_mem(void) {
  static const int sizes[] = {0, 1, 2, 3, 4, 8, 16};
  static const int32_t disps[] = {0, 1, -1, 127, 128, -128, -129, 4096, INT32_MAX, INT32_MIN};
  long bad = 0, n = 0;
  for (int load = 0; load < 2; load++)
    for (int r = -2; r < 18; r++)
      for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
        for (int base = -2; base < 17; base++)
          for (size_t di = 0; di < sizeof disps / sizeof disps[0] + 2; di++) {
            int size = sizes[si];
            int msize = di % 5 == 4 ? sizes[(si + 1) % 7] : size;
            int32_t disp = di < sizeof disps / sizeof disps[0] ? disps[di] : (int32_t)rnd();
            int index = di % 7 == 6 ? (int)(rnd() % 17) - 1 : AF_REG_NONE;
            int scale = di % 11 == 10 ? 2 : 1;
            x86_operand g = x86_gpr((af_reg)r, size);
            x86_operand m = x86_mem(msize, (af_reg)base, (af_reg)index, scale, disp);
            x86_inst in = load ? x86_inst2(X86_MOV, g, m) : x86_inst2(X86_MOV, m, g);
            uint8_t want[15];
            size_t nw = 0;
            af_status sw = x86_encode_ref(&in, want, &nw);
            x86_buf b;
            x86_buf_init(&b);
            if (di % 2) x86_emit0(&b, X86_NOP); /* not at offset 0 */
            size_t at = b.len;
            af_status s = load ? x86_emit2(&b, X86_MOV, g, m) : x86_emit2(&b, X86_MOV, m, g);
            bool same = s == sw && b.err == sw && b.len - at == (sw == AF_OK ? nw : 0) &&
                        (sw != AF_OK || memcmp(b.data + at, want, nw) == 0);
            x86_buf_free(&b);
            n += sw == AF_OK;
            if (!same && bad++ < 5)
              fprintf(stderr, "mov %s r %d size %d [base %d index %d*%d %d] size %d: %d vs %d\n",
                      load ? "load" : "store", r, size, base, index, scale, disp, msize, s, sw);
          }
  CHECKF(n > 20000, "only %ld of the movs encode", n);
  return bad;
}

/* One direct emit (x86_direct.h) against the reference encoding of `in`: the same status, the
 * same bytes, the same b->err; at offset 0 or not, in a growable buffer or in a fixed one
 * with exactly the instruction's room (the emitters' fallback when 16 bytes are not free). */
typedef af_status (*direct_fn)(x86_buf *b, const void *arg);
static long n_direct;
static bool same_as_ref(const x86_inst *in, direct_fn fn, const void *arg, int variant) {
  uint8_t want[15];
  size_t nw = 0;
  af_status sw = x86_encode_ref(in, want, &nw);
  x86_buf b;
  uint8_t mem[32];
  size_t at = 0;
  if (variant == 2) {
    x86_buf_init_fixed(&b, mem, sw == AF_OK ? nw : 8);
  } else {
    x86_buf_init(&b);
    if (variant == 1) x86_emit0(&b, X86_NOP);
    at = b.len;
  }
  af_status s = fn(&b, arg);
  bool same = s == sw && b.err == sw && b.len - at == (sw == AF_OK ? nw : 0) &&
              (sw != AF_OK || memcmp(b.data + at, want, nw) == 0);
  n_direct += sw == AF_OK;
  if (variant != 2) x86_buf_free(&b);
  return same;
}

typedef struct {
  int op, r, base, size, msize, store;
  int32_t disp;
  int64_t v;
} dargs;
static af_status d_store(x86_buf *b, const void *p) {
  const dargs *a = p;
  return xd_store(b, (af_reg)a->base, a->disp, (af_reg)a->r, a->size);
}
static af_status d_load(x86_buf *b, const void *p) {
  const dargs *a = p;
  return xd_load(b, (af_reg)a->r, a->size, (af_reg)a->base, a->disp);
}
static af_status d_load_ext(x86_buf *b, const void *p) {
  const dargs *a = p;
  return xd_load_ext(b, (x86_op)a->op, (af_reg)a->r, a->size, (af_reg)a->base, a->disp, a->msize);
}
static af_status d_lea(x86_buf *b, const void *p) {
  const dargs *a = p;
  return xd_lea(b, (af_reg)a->r, (af_reg)a->base, a->disp);
}
static af_status d_xmm_mem(x86_buf *b, const void *p) {
  const dargs *a = p;
  return xd_xmm_mem(b, (x86_op)a->op, a->store, (af_reg)a->r, (af_reg)a->base, a->disp, a->msize);
}
static af_status d_rr(x86_buf *b, const void *p) {
  const dargs *a = p;
  return xd_rr(b, (x86_op)a->op, a->size, (af_reg)a->r, (af_reg)a->base);
}
static af_status d_call(x86_buf *b, const void *p) {
  const dargs *a = p;
  return xd_call_reg(b, (af_reg)a->r);
}
static af_status d_alu_imm(x86_buf *b, const void *p) {
  const dargs *a = p;
  return xd_alu_imm(b, (x86_op)a->op, a->size, (af_reg)a->r, a->v);
}
static af_status d_push_pop(x86_buf *b, const void *p) {
  const dargs *a = p;
  return xd_push_pop(b, (x86_op)a->op, (af_reg)a->r);
}
static af_status d_ret(x86_buf *b, const void *p) {
  (void)p;
  return xd_ret(b);
}
static af_status d_call_mem(x86_buf *b, const void *p) {
  const dargs *a = p;
  return xd_call_mem(b, (af_reg)a->base, a->disp);
}
static af_status d_xmm_rr(x86_buf *b, const void *p) {
  const dargs *a = p;
  return xd_xmm_rr(b, (x86_op)a->op, (af_reg)a->r, (af_reg)a->base);
}
static af_status d_mem_imm(x86_buf *b, const void *p) {
  const dargs *a = p;
  return xd_mem_imm(b, (x86_op)a->op, a->size, (af_reg)a->base, a->disp, a->v);
}
static af_status d_x87_mem(x86_buf *b, const void *p) {
  const dargs *a = p;
  return xd_x87_mem(b, (x86_op)a->op, (af_reg)a->base, a->disp, a->size);
}
static af_status d_setcc(x86_buf *b, const void *p) {
  const dargs *a = p;
  return xd_setcc(b, (x86_cond)a->op, (af_reg)a->r);
}
static af_status d_alu_rm(x86_buf *b, const void *p) {
  const dargs *a = p;
  return xd_alu_rm(b, (x86_op)a->op, a->size, (af_reg)a->r, (af_reg)a->base, a->disp);
}
static af_status d_shift_cl(x86_buf *b, const void *p) {
  const dargs *a = p;
  return xd_shift_cl(b, (x86_op)a->op, a->size, (af_reg)a->r);
}
static af_status d_cmov(x86_buf *b, const void *p) {
  const dargs *a = p;
  return xd_cmov(b, (x86_cond)a->msize, a->size, (af_reg)a->r, (af_reg)a->base);
}
static af_status d_movq_gx(x86_buf *b, const void *p) {
  const dargs *a = p;
  return xd_movq_gx(b, (af_reg)a->r, (af_reg)a->base);
}
static af_status d_movimm(x86_buf *b, const void *p) {
  const dargs *a = p;
  return xd_movimm(b, (af_reg)a->r, a->size, a->v);
}

/* Every direct emitter (x86_direct.h) against the reference: every register (and some out of
 * range), every base with RIP and none, displacement edges, every size the emitter takes and
 * some it does not, immediates at the form boundaries. */
static long compare_direct(void) {
  static const int32_t disps[] = {0, 1, -1, 127, 128, -128, -129, 4096, INT32_MAX, INT32_MIN};
  static const int sizes[] = {0, 1, 2, 3, 4, 8, 16};
  const int nd = sizeof disps / sizeof disps[0], ns = sizeof sizes / sizeof sizes[0];
  long bad = 0;
#define DCHECK(IN, FN, A, WHAT)                                                                    \
  for (int var = 0; var < 3; var++)                                                                \
    if (!same_as_ref(&(IN), FN, &(A), var) && bad++ < 8)                                           \
      fprintf(stderr, "%s op %d r %d base %d size %d msize %d disp %d v %lld (variant %d)\n",      \
              WHAT, (A).op, (A).r, (A).base, (A).size, (A).msize, (int)(A).disp, (long long)(A).v, \
              var);
  for (int r = -2; r < 18; r++)
    for (int base = -2; base < 17; base++)
      for (int di = 0; di < nd; di++) {
        int32_t disp = disps[di];
        for (int si = 0; si < ns; si++) {
          int size = sizes[si];
          dargs a = {X86_MOV, r, base, size, size, 1, disp, 0};
          x86_inst st =
              x86_inst2(X86_MOV, x86_base(size, (af_reg)base, disp), x86_gpr((af_reg)r, size));
          DCHECK(st, d_store, a, "store");
          x86_inst ld =
              x86_inst2(X86_MOV, x86_gpr((af_reg)r, size), x86_base(size, (af_reg)base, disp));
          DCHECK(ld, d_load, a, "load");
          static const int xops[] = {X86_MOVZX, X86_MOVSX, X86_MOVSXD};
          for (int k = 0; k < 3; k++)
            for (int ms = 1; ms <= 4; ms++) {
              dargs e = {xops[k], r, base, size, ms, 0, disp, 0};
              x86_inst x = x86_inst2((x86_op)xops[k], x86_gpr((af_reg)r, size),
                                     x86_base(ms, (af_reg)base, disp));
              DCHECK(x, d_load_ext, e, "load_ext");
            }
          static const int sops[] = {X86_MOVSS, X86_MOVSD, X86_MOVUPS, X86_MOVQ,  X86_ADDSS,
                                     X86_ADDSD, X86_MULSS, X86_MULSD,  X86_SUBSS, X86_SUBSD};
          for (int k = 0; k < 10 && r >= 0; k++)
            for (int store = 0; store < 2; store++) {
              af_reg x = (af_reg)(AF_XMM0 + r - 1); /* -1 and 16: out of range */
              dargs e = {sops[k], x, base, 16, size, store, disp, 0};
              x86_operand m = x86_base(size, (af_reg)base, disp);
              x86_inst in = store ? x86_inst2((x86_op)sops[k], m, x86_xmm(x))
                                  : x86_inst2((x86_op)sops[k], x86_xmm(x), m);
              DCHECK(in, d_xmm_mem, e, "xmm_mem");
            }
        }
        if (r == 0) { /* immediates to memory, x87 loads and stores */
          static const int64_t imms[] = {0,     1,         -1,        127,       128,
                                         -128,  -129,      255,       32767,     -32768,
                                         65535, INT32_MAX, INT32_MIN, 1ll << 32, -(1ll << 40)};
          for (int si = 0; si < ns; si++)
            for (int k = 0; k < 2; k++)
              for (size_t j = 0; j < sizeof imms / sizeof imms[0]; j++) {
                int op = k ? X86_CMP : X86_MOV, size = sizes[si];
                dargs mi = {op, 0, base, size, size, 0, disp, imms[j]};
                x86_inst in =
                    x86_inst2((x86_op)op, x86_base(size, (af_reg)base, disp), x86_imm(imms[j]));
                DCHECK(in, d_mem_imm, mi, "mem_imm");
              }
          static const int x87sizes[] = {2, 4, 8, 10, 16};
          for (int si = 0; si < 5; si++)
            for (int k = 0; k < 2; k++) {
              int op = k ? X86_FSTP : X86_FLD, size = x87sizes[si];
              dargs xm = {op, 0, base, size, size, 0, disp, 0};
              x86_inst in = x86_inst1((x86_op)op, x86_base(size, (af_reg)base, disp));
              DCHECK(in, d_x87_mem, xm, "x87_mem");
            }
        }
        if (r == 0) {
          dargs cm = {X86_CALL, 0, base, 8, 8, 0, disp, 0};
          x86_inst in = x86_inst1(X86_CALL, x86_base(8, (af_reg)base, disp));
          DCHECK(in, d_call_mem, cm, "call_mem");
        }
        static const int mops[] = {X86_ADD, X86_OR,  X86_AND, X86_SUB,  X86_XOR,
                                   X86_CMP, X86_ADC, X86_SBB, X86_IMUL, X86_TEST};
        for (int k = 0; k < 10; k++) /* ALU r, [mem] */
          for (int si = 0; si < ns; si++) {
            dargs a = {mops[k], r, base, sizes[si], sizes[si], 0, disp, 0};
            x86_inst in = x86_inst2((x86_op)mops[k], x86_gpr((af_reg)r, sizes[si]),
                                    x86_base(sizes[si], (af_reg)base, disp));
            DCHECK(in, d_alu_rm, a, "alu_rm");
          }
        dargs l = {X86_LEA, r, base, 8, 0, 0, disp, 0};
        x86_inst lea = x86_inst2(X86_LEA, x86_gpr((af_reg)r, 8), x86_base(0, (af_reg)base, disp));
        DCHECK(lea, d_lea, l, "lea");
      }
  static const int rops[] = {X86_MOV, X86_ADD, X86_OR,   X86_AND,  X86_SUB,
                             X86_XOR, X86_CMP, X86_TEST, X86_IMUL, X86_ADC};
  for (int k = 0; k < 10; k++)
    for (int d = -2; d < 18; d++)
      for (int src = -2; src < 18; src++)
        for (int si = 0; si < ns; si++) {
          dargs a = {rops[k], d, src, sizes[si], 0, 0, 0, 0};
          x86_inst in = x86_inst2((x86_op)rops[k], x86_gpr((af_reg)d, sizes[si]),
                                  x86_gpr((af_reg)src, sizes[si]));
          DCHECK(in, d_rr, a, "rr");
        }
  for (int k = 0; k < 3; k++) /* xmm, xmm */
    for (int d = -2; d < 18; d++)
      for (int src = -2; src < 18; src++) {
        static const int xops[] = {X86_PXOR, X86_XORPS, X86_MOVAPS};
        af_reg xd = (af_reg)(AF_XMM0 + d - 1), xs = (af_reg)(AF_XMM0 + src - 1);
        dargs a = {xops[k], xd, xs, 16, 0, 0, 0, 0};
        x86_inst in = x86_inst2((x86_op)xops[k], x86_xmm(xd), x86_xmm(xs));
        DCHECK(in, d_xmm_rr, a, "xmm_rr");
      }
  for (int d = -2; d < 18; d++) {
    for (int si = 0; si < ns; si++) { /* shifts by cl */
      static const int shops[] = {X86_SHL, X86_SHR, X86_SAR, X86_ROL};
      for (int k = 0; k < 4; k++) {
        dargs a = {shops[k], d, 0, sizes[si], 0, 0, 0, 0};
        x86_inst in =
            x86_inst2((x86_op)shops[k], x86_gpr((af_reg)d, sizes[si]), x86_gpr(AF_RCX, 1));
        DCHECK(in, d_shift_cl, a, "shift_cl");
      }
      for (int src = -2; src < 18; src += 3) /* cmovcc */
        for (int cc = 0; cc < 17; cc++) {
          dargs a = {X86_CMOVCC, d, src, sizes[si], cc, 0, 0, 0};
          x86_inst in =
              x86_inst2(X86_CMOVCC, x86_gpr((af_reg)d, sizes[si]), x86_gpr((af_reg)src, sizes[si]));
          in.cond = (uint8_t)cc;
          DCHECK(in, d_cmov, a, "cmov");
        }
    }
    for (int x = -2; x < 18; x++) { /* movq r64, xmm */
      af_reg xr = (af_reg)(AF_XMM0 + x - 1);
      dargs a = {X86_MOVQ, d, xr, 8, 0, 0, 0, 0};
      x86_inst in = x86_inst2(X86_MOVQ, x86_gpr((af_reg)d, 8), x86_xmm(xr));
      DCHECK(in, d_movq_gx, a, "movq_gx");
    }
  }
  for (int cc = 0; cc < 17; cc++) /* setcc r8 (17: out of range) */
    for (int r = -2; r < 18; r++) {
      dargs a = {cc, r, 0, 1, 0, 0, 0, 0};
      x86_inst in = x86_inst1(X86_SETCC, x86_gpr((af_reg)r, 1));
      in.cond = (uint8_t)cc;
      DCHECK(in, d_setcc, a, "setcc");
    }
  static const int aops[] = {X86_ADD, X86_OR,  X86_AND, X86_SUB,
                             X86_XOR, X86_CMP, X86_ADC, X86_TEST};
  for (int k = 0; k < 8; k++)
    for (int r = -2; r < 18; r++)
      for (int si = 0; si < ns; si++)
        for (int j = 0; j < 60; j++) {
          int64_t v = rnd_imm();
          if (j >= 30) v = (int64_t)rnd() >> (v & 63);
          dargs a = {aops[k], r, 0, sizes[si], 0, 0, 0, v};
          x86_inst in = x86_inst2((x86_op)aops[k], x86_gpr((af_reg)r, sizes[si]), x86_imm(v));
          DCHECK(in, d_alu_imm, a, "alu_imm");
        }
  {
    dargs a = {X86_RET, 0, 0, 0, 0, 0, 0, 0};
    x86_inst in = x86_inst0(X86_RET);
    DCHECK(in, d_ret, a, "ret");
  }
  for (int r = -2; r < 18; r++) {
    for (int k = 0; k < 3; k++) {
      static const int pops[] = {X86_PUSH, X86_POP, X86_NEG};
      dargs a = {pops[k], r, 0, 8, 0, 0, 0, 0};
      x86_inst in = x86_inst1((x86_op)pops[k], x86_gpr((af_reg)r, 8));
      DCHECK(in, d_push_pop, a, "push_pop");
    }
    dargs a = {X86_CALL, r, 0, 8, 0, 0, 0, 0};
    x86_inst in = x86_inst1(X86_CALL, x86_gpr((af_reg)r, 8));
    DCHECK(in, d_call, a, "call");
    for (int si = 0; si < ns; si++)
      for (int j = 0; j < 300; j++) {
        int size = sizes[si];
        int64_t v = rnd_imm();
        if (j >= 150) v = (int64_t)rnd() >> (v & 63);
        int sz = size == 8 && v >= 0 && v <= (int64_t)UINT32_MAX ? 4 : size;
        dargs m = {X86_MOV, r, 0, size, 0, 0, 0, v};
        x86_inst mi = x86_inst2(X86_MOV, x86_gpr((af_reg)r, sz), x86_imm(v));
        DCHECK(mi, d_movimm, m, "movimm");
      }
  }
#undef DCHECK
  return bad;
}

int main(void) {
  /* the one-time build raced from four threads */
  pthread_t th[4];
  long ok[4] = {0, 0, 0, 0};
  for (int i = 0; i < 4; i++)
    CHECK(pthread_create(&th[i], NULL, first_emits, &ok[i]) == 0);
  for (int i = 0; i < 4; i++) {
    pthread_join(th[i], NULL);
    CHECKF(ok[i] == 2000, "thread %d: %ld of 2000 emits right", i, ok[i]);
  }

  long encoded = 0, rounds = 600000;
  long bad = compare(rounds, &encoded);
  CHECKF(bad == 0, "%ld instructions differ (first ones above)", bad);
  printf("%ld instructions, %ld encoded\n", rounds, encoded);
  CHECK(encoded > rounds / 3); /* the steering reaches real rows */

  CHECK(compare_movimm() == 0);
  CHECK(compare_mov_mem() == 0);
  CHECK(compare_direct() == 0);
  CHECKF(n_direct > 100000, "only %ld direct emits encode", n_direct);

  /* x86_emit near the end of a fixed buffer: exact room for the instruction, then none */
  uint8_t mem[20];
  x86_buf fb;
  x86_buf_init_fixed(&fb, mem, 4);
  CHECK(x86_emit2(&fb, X86_MOV, x86_gpr(AF_RAX, 8), x86_base(8, AF_RBP, -16)) == AF_OK);
  CHECK(fb.len == 4 && memcmp(mem, "\x48\x8B\x45\xF0", 4) == 0);
  CHECK(x86_emit0(&fb, X86_RET) == AF_ERR_LIMIT && fb.err == AF_ERR_LIMIT && fb.len == 4);
  /* errors stick in b->err: the first one */
  x86_buf b;
  x86_buf_init(&b);
  CHECK(x86_emit2(&b, X86_MOV, x86_gpr(AF_RAX, 8), x86_gpr(AF_RBX, 4)) == AF_ERR_UNSUPPORTED);
  CHECK(x86_emit2(&b, X86_MOV, x86_gpr((af_reg)40, 8), x86_gpr(AF_RBX, 8)) == AF_ERR_INVALID);
  CHECK(b.err == AF_ERR_UNSUPPORTED && b.len == 0);
  x86_buf_free(&b);
  return check_done();
}
