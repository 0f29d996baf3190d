/* x86_enc.c - the reference x86-64 matcher and encoder (x86_fast.c's fallback), the code buffer. */
#include <stdlib.h>
#include <string.h>

#include "x86_enc_internal.h"

/* ---- matching -------------------------------------------------------------- */
/* x86_enc_internal.h */
int x86_form_size(int f) {
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

/* Which operand classes (a bit per XF_) an operand belongs to, leaving out the immediate
 * classes I8..I64, which depend on the operation's width (x86_imm_mask). */
uint32_t x86_opnd_mask_ref(const x86_operand *o) {
  switch (o->kind) {
  case X86_OPND_NONE: return XB(XF_NONE);
  case X86_OPND_GPR:
    switch (o->size) {
    case 1: return XB(XF_R8) | XB(XF_RM8) | (o->reg == AF_RCX ? XB(XF_CL) : 0);
    case 2: return XB(XF_R16) | XB(XF_RM16);
    case 4: return XB(XF_R32) | XB(XF_RM32);
    case 8: return XB(XF_R64) | XB(XF_RM64);
    default: return 0;
    }
  case X86_OPND_MEM:
    switch (o->size) {
    case 1: return XB(XF_M) | XB(XF_RM8) | XB(XF_M8);
    case 2: return XB(XF_M) | XB(XF_RM16) | XB(XF_M16);
    case 4: return XB(XF_M) | XB(XF_RM32) | XB(XF_M32) | XB(XF_XM32);
    case 8: return XB(XF_M) | XB(XF_RM64) | XB(XF_M64) | XB(XF_XM64);
    case 10: return XB(XF_M) | XB(XF_M80);
    case 16: return XB(XF_M) | XB(XF_M128) | XB(XF_XM128);
    default: return XB(XF_M);
    }
  case X86_OPND_XMM: return XB(XF_X) | XB(XF_XM32) | XB(XF_XM64) | XB(XF_XM128);
  case X86_OPND_IMM: return o->imm >= -128 && o->imm <= 255 ? XB(XF_U8) : 0;
  case X86_OPND_REL:
    if (o->size == 1 && o->imm == (int8_t)o->imm) return XB(XF_REL8);
    if (o->size == 4 && o->imm == (int32_t)o->imm) return XB(XF_REL32);
    return 0;
  case X86_OPND_ST: return XB(XF_STI);
  default: return 0;
  }
}

/* Operand 0 in one of a few kinds (the index below is per op and kind): GPR of each width (cl
 * apart), memory of each size, xmm, immediate, branch, x87 register; -1: matches no row. */
enum {
  K0_NONE,
  K0_R8,
  K0_CL,
  K0_R16,
  K0_R32,
  K0_R64,
  K0_M1,
  K0_M2,
  K0_M4,
  K0_M8,
  K0_M10,
  K0_M16,
  K0_MANY,
  K0_X,
  K0_IMM,
  K0_REL,
  K0_ST,
  K0_COUNT
};

static int kind0(const x86_operand *o) {
  switch (o->kind) {
  case X86_OPND_NONE: return K0_NONE;
  case X86_OPND_GPR:
    switch (o->size) {
    case 1: return o->reg == AF_RCX ? K0_CL : K0_R8;
    case 2: return K0_R16;
    case 4: return K0_R32;
    case 8: return K0_R64;
    default: return -1;
    }
  case X86_OPND_MEM:
    switch (o->size) {
    case 1: return K0_M1;
    case 2: return K0_M2;
    case 4: return K0_M4;
    case 8: return K0_M8;
    case 10: return K0_M10;
    case 16: return K0_M16;
    default: return K0_MANY;
    }
  case X86_OPND_XMM: return K0_X;
  case X86_OPND_IMM: return K0_IMM;
  case X86_OPND_REL: return K0_REL;
  case X86_OPND_ST: return K0_ST;
  default: return -1;
  }
}

/* The classes an operand of each kind may belong to (immediates and branches: all of theirs). */
static uint32_t kind0_mask(int k) {
  static const x86_operand probe[K0_COUNT] = {
      [K0_R8] = {.kind = X86_OPND_GPR, .size = 1, .reg = AF_RAX},
      [K0_CL] = {.kind = X86_OPND_GPR, .size = 1, .reg = AF_RCX},
      [K0_R16] = {.kind = X86_OPND_GPR, .size = 2},
      [K0_R32] = {.kind = X86_OPND_GPR, .size = 4},
      [K0_R64] = {.kind = X86_OPND_GPR, .size = 8},
      [K0_M1] = {.kind = X86_OPND_MEM, .size = 1},
      [K0_M2] = {.kind = X86_OPND_MEM, .size = 2},
      [K0_M4] = {.kind = X86_OPND_MEM, .size = 4},
      [K0_M8] = {.kind = X86_OPND_MEM, .size = 8},
      [K0_M10] = {.kind = X86_OPND_MEM, .size = 10},
      [K0_M16] = {.kind = X86_OPND_MEM, .size = 16},
      [K0_MANY] = {.kind = X86_OPND_MEM, .size = 0},
      [K0_X] = {.kind = X86_OPND_XMM, .size = 16},
      [K0_ST] = {.kind = X86_OPND_ST},
  };
  if (k == K0_IMM) return XB_IMM | XB(XF_U8);
  if (k == K0_REL) return XB(XF_REL8) | XB(XF_REL32);
  return x86_opnd_mask_ref(&probe[k]);
}

/* The rows of each mnemonic whose first form can take an operand 0 of each kind, in table
 * order (the first matching form wins, so the order matters): built once, so that a match
 * scans the two or three candidate rows, not the op's dozen (the scan was 15% of a campaign's
 * time, measured with perf, then a third of the JIT's instructions with callgrind). Each row's
 * operation width (the size of its first form, what immediates are matched modulo) is kept
 * beside it. */
#define IDX_MAX 8192
static uint16_t by_opk[X86_OP_COUNT * K0_COUNT + 1]; /* (op, kind): idx[by_opk[i]..[i + 1]) */
static uint16_t idx[IDX_MAX];
static uint8_t row_width[IDX_MAX]; /* x86_form_size(form[0]) of x86_rows[idx[j]], at j */

/* A counting sort of the rows by (op, kind): two passes over the table per kind, table order
 * kept inside a bucket (a scan of the whole table per (op, kind) was 5 M instructions, as much
 * as 25 compiles). Called once, by x86_enc_init. */
void x86_ref_build_index(void) {
  static uint16_t fill[X86_OP_COUNT * K0_COUNT];
  uint32_t accept[K0_COUNT];
  for (int k = 0; k < K0_COUNT; k++)
    accept[k] = kind0_mask(k);
  memset(fill, 0, sizeof fill);
  for (size_t i = 0; i < x86_nrows; i++)
    for (int k = 0; k < K0_COUNT; k++)
      if (accept[k] & XB(x86_rows[i].form[0])) fill[x86_rows[i].op * K0_COUNT + k]++;
  size_t n = 0;
  for (int j = 0; j < X86_OP_COUNT * K0_COUNT; j++) {
    size_t c = fill[j];
    by_opk[j] = (uint16_t)(n < IDX_MAX ? n : IDX_MAX);
    fill[j] = by_opk[j]; /* now the next free place of bucket j */
    n += c;
  }
  by_opk[X86_OP_COUNT * K0_COUNT] = (uint16_t)(n < IDX_MAX ? n : IDX_MAX);
  for (size_t i = 0; i < x86_nrows; i++)
    for (int k = 0; k < K0_COUNT; k++) {
      int at = x86_rows[i].op * K0_COUNT + k;
      if (!(accept[k] & XB(x86_rows[i].form[0])) || fill[at] >= by_opk[at + 1]) continue;
      row_width[fill[at]] = (uint8_t)x86_form_size(x86_rows[i].form[0]);
      idx[fill[at]++] = (uint16_t)i;
    }
}

/* The first row of in->op whose forms accept the operands. Each operand's classes are
 * computed once as a bit mask, so that a row costs three bit tests (immediates: once per
 * width met). */
const x86_row *x86_match_ref(const x86_inst *in) {
  if (in->nops > 3 || (unsigned)in->op >= X86_OP_COUNT) return NULL;
  x86_enc_init();
  static const x86_operand none;
  const x86_operand *o[3];
  uint32_t m[3], im[3] = {0, 0, 0};
  int imw[3] = {-1, -1, -1}; /* the width im[k] was computed for */
  for (int k = 0; k < 3; k++) {
    o[k] = k < in->nops ? &in->o[k] : &none;
    m[k] = x86_opnd_mask_ref(o[k]);
  }
  int k0 = kind0(o[0]);
  if (k0 < 0) return NULL;
  int at = in->op * K0_COUNT + k0;
  for (size_t j = by_opk[at]; j < by_opk[at + 1]; j++) {
    const x86_row *r = &x86_rows[idx[j]];
    int k = 0;
    for (; k < 3; k++) {
      uint32_t bit = XB(r->form[k]);
      if (bit & XB_IMM) {
        if (o[k]->kind != X86_OPND_IMM) break;
        if (imw[k] != row_width[j])
          im[k] = x86_imm_mask(o[k]->imm, row_width[j]), imw[k] = row_width[j];
        if (!(im[k] & bit)) break;
      } else if (!(m[k] & bit)) {
        break;
      }
    }
    if (k == 3) return r;
  }
  return NULL;
}

/* Hardware number 0..15 of a GPR or XMM operand. */
static int hw(const x86_operand *o) { return o->kind == X86_OPND_XMM ? o->reg - AF_XMM0 : o->reg; }

/* v's low `bytes` bytes, little-endian (x86-64 only, CMakeLists.txt: the host's own byte
 * order; fixed-size copies compile to one store). */
static void put(uint8_t *out, size_t *n, uint64_t v, int bytes) {
  switch (bytes) {
  case 1: out[*n] = (uint8_t)v; break;
  case 2: memcpy(out + *n, &v, 2); break;
  case 4: memcpy(out + *n, &v, 4); break;
  case 8: memcpy(out + *n, &v, 8); break;
  default: return;
  }
  *n += (size_t)bytes;
}

/* Bytes of the immediate or branch displacement a form puts after ModRM (0: none). */
static const uint8_t imm_bytes[XF_COUNT] = {[XF_I8] = 1, [XF_I16] = 2,  [XF_I32] = 4,  [XF_I64] = 8,
                                            [XF_U8] = 1, [XF_REL8] = 1, [XF_REL32] = 4};

/* The one generic encoder: prefix, REX, opcode, ModRM, SIB, displacement, immediate. */
static af_status encode_row(const x86_row *r, const x86_inst *in, uint8_t *out, size_t *len) {
  const x86_operand *rm = NULL, *regop = NULL, *opreg = NULL;
  int regfield = r->digit >= 0 ? r->digit : 0;
  switch (r->enc) {
  case XE_RM: regop = &in->o[0], rm = &in->o[1]; break;
  case XE_MR: rm = &in->o[0], regop = &in->o[1]; break;
  case XE_M: rm = &in->o[0]; break;
  case XE_O: opreg = &in->o[0]; break;
  default: break;
  }
  if (regop) regfield = hw(regop);

  /* REX: W from the row; R extends ModRM.reg; X the SIB index; B ModRM.rm, the SIB base or
   * the opcode register. A byte register spl/bpl/sil/dil needs a REX (even 0x40): without
   * one, 4..7 name ah/ch/dh/bh (SDM Vol. 2, 2.2.1.2). */
  unsigned rex = r->w ? 8 : 0;
  bool need_rex = false;
  if (regfield & 8) rex |= 4;
  if (rm && rm->kind == X86_OPND_MEM) {
    if (rm->index >= 0 && (rm->index & 8)) rex |= 2;
    if (rm->base >= 0 && (rm->base & 8)) rex |= 1;
  } else if (rm && hw(rm) & 8) {
    rex |= 1;
  }
  if (opreg && (hw(opreg) & 8)) rex |= 1;
  for (int k = 0; k < in->nops; k++) {
    const x86_operand *o = &in->o[k];
    need_rex |= o->kind == X86_OPND_GPR && o->size == 1 && o->reg >= AF_RSP && o->reg <= AF_RDI;
  }

  size_t n = 0;
  if (r->pfx) out[n++] = r->pfx;
  if (rex || need_rex) out[n++] = (uint8_t)(0x40 | rex);
  for (int i = 0; i < r->nopc; i++)
    out[n++] = r->opc[i];
  if (r->cc) out[n - 1] = (uint8_t)(out[n - 1] + (in->cond & 15));
  if (opreg) out[n - 1] = (uint8_t)(out[n - 1] + (hw(opreg) & 7));
  if (r->enc == XE_ST) out[n - 1] = (uint8_t)(out[n - 1] + (in->o[0].reg & 7));

  if (rm && rm->kind != X86_OPND_MEM) {
    out[n++] = (uint8_t)(0xC0 | (regfield & 7) << 3 | (hw(rm) & 7));
  } else if (rm) {
    int base = rm->base, index = rm->index;
    int32_t disp = rm->disp;
    int ss = rm->scale == 8 ? 3 : rm->scale == 4 ? 2 : rm->scale == 2 ? 1 : 0;
    if (base == X86_BASE_RIP) { /* mod 00, rm 101: [rip + disp32] */
      out[n++] = (uint8_t)((regfield & 7) << 3 | 5);
      put(out, &n, (uint32_t)disp, 4);
    } else if (base == AF_REG_NONE) { /* SIB with base 101 and mod 00: [index*s + disp32] */
      out[n++] = (uint8_t)((regfield & 7) << 3 | 4);
      out[n++] = (uint8_t)((index >= 0 ? ss : 0) << 6 | (index >= 0 ? index & 7 : 4) << 3 | 5);
      put(out, &n, (uint32_t)disp, 4);
    } else {
      /* rbp/r13 as base have no mod-00 form (it means RIP / no base): they take disp8 0. */
      int mod = (disp == 0 && (base & 7) != 5) ? 0 : disp == (int8_t)disp ? 1 : 2;
      bool sib = index >= 0 || (base & 7) == 4; /* rsp/r12 as base need a SIB */
      out[n++] = (uint8_t)(mod << 6 | (regfield & 7) << 3 | (sib ? 4 : base & 7));
      if (sib) out[n++] = (uint8_t)(ss << 6 | (index >= 0 ? index & 7 : 4) << 3 | (base & 7));
      if (mod == 1) out[n++] = (uint8_t)disp;
      if (mod == 2) put(out, &n, (uint32_t)disp, 4);
    }
  }

  for (int k = 0; k < 3; k++)
    if (imm_bytes[r->form[k]]) put(out, &n, (uint64_t)in->o[k].imm, imm_bytes[r->form[k]]);
  *len = n;
  return AF_OK;
}

af_status x86_encode_ref(const x86_inst *in, uint8_t out[15], size_t *len) {
  *len = 0;
  if (in->nops > 3 || in->op >= X86_OP_COUNT) return AF_ERR_INVALID;
  for (int k = 0; k < in->nops; k++)
    if (!x86_opnd_valid(&in->o[k])) return AF_ERR_INVALID;
  const x86_row *r = x86_match_ref(in);
  if (!r) return AF_ERR_UNSUPPORTED;
  return encode_row(r, in, out, len);
}

/* ---- the buffer -------------------------------------------------------------- */
void x86_buf_init(x86_buf *b) { memset(b, 0, sizeof *b); }

void x86_buf_init_fixed(x86_buf *b, uint8_t *mem, size_t cap) {
  memset(b, 0, sizeof *b);
  b->data = mem, b->cap = cap, b->fixed = true;
}

void x86_buf_init_borrowed(x86_buf *b, uint8_t *mem, size_t cap, long *labels, int caplabels,
                           x86_fixup *fixups, int capfixups) {
  memset(b, 0, sizeof *b);
  b->data = mem, b->cap = cap;
  b->labels = labels, b->caplabels = caplabels;
  b->fixups = fixups, b->capfixups = capfixups;
  b->borrowed = X86_BUF_BORROWED_DATA | X86_BUF_BORROWED_LABELS | X86_BUF_BORROWED_FIXUPS;
}

/* realloc for the buffer's arrays: a borrowed one (bit of x86_buf.borrowed) is copied to the
 * heap instead, and is the buffer's own from then on. */
static void *grow(x86_buf *b, unsigned bit, void *p, size_t old, size_t n) {
  if (!(b->borrowed & bit)) return realloc(p, n);
  void *q = malloc(n);
  if (q && old) memcpy(q, p, old);
  if (q) b->borrowed &= (uint8_t)~bit;
  return q;
}

void x86_buf_reset(x86_buf *b) {
  b->len = 0;
  b->err = AF_OK;
  b->nlabels = 0;
  b->nfixups = 0;
}

void x86_buf_free(x86_buf *b) {
  if (!b->fixed && !(b->borrowed & X86_BUF_BORROWED_DATA)) free(b->data);
  if (!(b->borrowed & X86_BUF_BORROWED_LABELS)) free(b->labels);
  if (!(b->borrowed & X86_BUF_BORROWED_FIXUPS)) free(b->fixups);
  memset(b, 0, sizeof *b);
}

void x86_buf_rebind(x86_buf *b, uint8_t *mem, size_t cap) {
  if (!b->fixed && !(b->borrowed & X86_BUF_BORROWED_DATA)) free(b->data);
  b->data = mem, b->cap = cap, b->fixed = false;
  b->borrowed |= X86_BUF_BORROWED_DATA;
  x86_buf_reset(b);
}

static af_status fail(x86_buf *b, af_status s) {
  if (b->err == AF_OK) b->err = s;
  return s;
}

static af_status reserve(x86_buf *b, size_t n) {
  if (b->len + n <= b->cap) return AF_OK;
  if (b->fixed) return fail(b, AF_ERR_LIMIT);
  size_t cap = b->cap ? b->cap : 4096; /* most functions' code: growing was 3% of emits */
  while (cap < b->len + n)
    cap *= 2;
  uint8_t *p = grow(b, X86_BUF_BORROWED_DATA, b->data, b->len, cap);
  if (!p) return fail(b, AF_ERR_NOMEM);
  b->data = p, b->cap = cap;
  return AF_OK;
}

af_status x86_emit_bytes(x86_buf *b, const void *p, size_t n) {
  af_status s = reserve(b, n);
  if (s != AF_OK) return s;
  memcpy(b->data + b->len, p, n);
  b->len += n;
  return AF_OK;
}

af_status x86_align(x86_buf *b, size_t align) {
  while (align && b->len % align) {
    af_status s = x86_emit_bytes(b, "\x90", 1);
    if (s != AF_OK) return s;
  }
  return AF_OK;
}

/* ---- labels ------------------------------------------------------------------- */
int x86_label(x86_buf *b) {
  if (b->nlabels == b->caplabels) {
    int cap = b->caplabels ? 2 * b->caplabels : 16;
    long *p = grow(b, X86_BUF_BORROWED_LABELS, b->labels, (size_t)b->nlabels * sizeof *p,
                   (size_t)cap * sizeof *p);
    if (!p) return fail(b, AF_ERR_NOMEM), -1;
    b->labels = p, b->caplabels = cap;
  }
  b->labels[b->nlabels] = -1;
  return b->nlabels++;
}

static void patch(x86_buf *b, const x86_fixup *f, long target) {
  int32_t d = (int32_t)(target - (long)(f->pos + (size_t)f->size));
  for (int i = 0; i < f->size; i++)
    b->data[f->pos + (size_t)i] = (uint8_t)((uint32_t)d >> (8 * i));
}

af_status x86_bind(x86_buf *b, int label) {
  if (label < 0 || label >= b->nlabels || b->labels[label] >= 0) return fail(b, AF_ERR_INVALID);
  b->labels[label] = (long)b->len;
  for (int i = 0; i < b->nfixups; i++) {
    if (b->fixups[i].label != label) continue;
    patch(b, &b->fixups[i], (long)b->len);
    b->fixups[i] = b->fixups[--b->nfixups];
    i--;
  }
  return AF_OK;
}

/* A branch to a label: rel8 backwards when it reaches, else rel32 (patched at bind). */
static af_status branch(x86_buf *b, x86_op op, x86_cond cc, int label) {
  if (label < 0 || label >= b->nlabels) return fail(b, AF_ERR_INVALID);
  x86_inst in = x86_inst1(op, x86_rel(op == X86_CALL ? 4 : 1, 0));
  in.cond = (uint8_t)cc;
  uint8_t tmp[15];
  size_t n;
  long target = b->labels[label];
  if (target >= 0 && op != X86_CALL) {
    af_status s = x86_encode(&in, tmp, &n);
    if (s != AF_OK) return fail(b, s);
    long d = target - (long)(b->len + n);
    if (d == (int8_t)d) {
      in.o[0].imm = d;
      return x86_emit(b, &in);
    }
  }
  in.o[0].size = 4;
  if (target < 0 && (op == X86_JMP || (op == X86_JCC && cc <= X86_CC_G)) &&
      b->nfixups < b->capfixups && b->len + 16 <= b->cap) {
    /* a forward jmp / jcc, the lowering's (SELECT, RET, 128-bit shifts): the table's rows
     * E9 rel32 / 0F 80+cc rel32 written here, the rel32 patched at bind */
    uint8_t *q = b->data + b->len;
    size_t hl = op == X86_JMP ? 1 : 2;
    if (op == X86_JMP)
      q[0] = 0xE9;
    else
      q[0] = 0x0F, q[1] = (uint8_t)(0x80 | cc);
    memset(q + hl, 0, 4);
    b->len += hl + 4;
    b->fixups[b->nfixups++] = (x86_fixup){.pos = b->len - 4, .size = 4, .label = label};
    return AF_OK;
  }
  af_status s = x86_encode(&in, tmp, &n);
  if (s != AF_OK) return fail(b, s);
  if (target >= 0) {
    long d = target - (long)(b->len + n);
    if (d != (int32_t)d) return fail(b, AF_ERR_LIMIT);
    in.o[0].imm = d;
    return x86_emit(b, &in);
  }
  if (b->nfixups == b->capfixups) {
    int cap = b->capfixups ? 2 * b->capfixups : 16;
    x86_fixup *p = grow(b, X86_BUF_BORROWED_FIXUPS, b->fixups, (size_t)b->nfixups * sizeof *p,
                        (size_t)cap * sizeof *p);
    if (!p) return fail(b, AF_ERR_NOMEM);
    b->fixups = p, b->capfixups = cap;
  }
  s = x86_emit(b, &in);
  if (s != AF_OK) return s;
  b->fixups[b->nfixups++] = (x86_fixup){.pos = b->len - 4, .size = 4, .label = label};
  return AF_OK;
}

af_status x86_jmp_label(x86_buf *b, int label) { return branch(b, X86_JMP, X86_CC_O, label); }
af_status x86_jcc_label(x86_buf *b, x86_cond cc, int label) {
  return branch(b, X86_JCC, cc, label);
}
af_status x86_call_label(x86_buf *b, int label) { return branch(b, X86_CALL, X86_CC_O, label); }

af_status x86_buf_finish(x86_buf *b) {
  if (b->err != AF_OK) return b->err;
  if (b->nfixups) return fail(b, AF_ERR_INVALID);
  return AF_OK;
}
