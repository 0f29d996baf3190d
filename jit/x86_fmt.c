/* x86_fmt.c - x86_format: an instruction in Intel syntax, spelled exactly as Capstone 4 does. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "x86.h"

static const char *const gpr_names[4][16] = {
    {"al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil", "r8b", "r9b", "r10b", "r11b", "r12b",
     "r13b", "r14b", "r15b"},
    {"ax", "cx", "dx", "bx", "sp", "bp", "si", "di", "r8w", "r9w", "r10w", "r11w", "r12w", "r13w",
     "r14w", "r15w"},
    {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "r8d", "r9d", "r10d", "r11d", "r12d",
     "r13d", "r14d", "r15d"},
    {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13",
     "r14", "r15"},
};

typedef struct {
  char *p;
  size_t n, len;
} out_t;

static void say(out_t *o, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int k =
      vsnprintf(o->len < o->n ? o->p + o->len : NULL, o->len < o->n ? o->n - o->len : 0, fmt, ap);
  va_end(ap);
  if (k > 0) o->len += (size_t)k;
}

/* Capstone prints numbers above 9 in hex, the rest in decimal (its HEX_THRESHOLD). */
static void num(out_t *o, uint64_t v) { say(o, v > 9 ? "0x%" PRIx64 : "%" PRIu64, v); }
static void snum(out_t *o, int64_t v) {
  if (v < 0)
    say(o, "-"), num(o, -(uint64_t)v);
  else
    num(o, (uint64_t)v);
}

static int gpr_row(int size) { return size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3; }

/* abs_mask: Capstone 4 prints a negative absolute address [disp32] sign-extended to 64 bits,
 * then masked to the size of the instruction's first operand when that operand is a 1/2/4-byte
 * register already printed (its op1_size): `mov al, byte ptr [0x0]` for disp -2^31 is what
 * it really prints. */
static void mem(out_t *o, const x86_operand *m, bool sized, uint64_t abs_mask) {
  if (sized) {
    const char *p = m->size == 1    ? "byte"
                    : m->size == 2  ? "word"
                    : m->size == 4  ? "dword"
                    : m->size == 8  ? "qword"
                    : m->size == 10 ? "xword" /* Capstone 4's name for m80 (tbyte) */
                                    : "xmmword";
    say(o, "%s ptr ", p);
  }
  say(o, "[");
  bool any = false;
  if (m->base == X86_BASE_RIP)
    say(o, "rip"), any = true;
  else if (m->base >= 0)
    say(o, "%s", gpr_names[3][m->base]), any = true;
  if (m->index >= 0) {
    say(o, "%s%s", any ? " + " : "", gpr_names[3][m->index]);
    if (m->scale != 1) say(o, "*%d", m->scale);
    any = true;
  }
  if (!any && m->disp < 0) /* [disp32] below 0: shown as an address, see below */
    say(o, "0x%" PRIx64, (uint64_t)(int64_t)m->disp & abs_mask);
  else if (!any)
    num(o, (uint64_t)m->disp);
  else if (m->disp > 0)
    say(o, " + "), num(o, (uint64_t)m->disp);
  else if (m->disp < 0)
    say(o, " - "), num(o, -(uint64_t)(int64_t)m->disp);
  say(o, "]");
}

/* Capstone 4 prints an immediate unsigned (masked to the operation width) when it is not
 * sign-extended (imm size == width), for and/or/xor, and for byte counts; else signed. */
static void imm(out_t *o, const x86_inst *in, int f, int64_t v, int width) {
  int bits = 8 * width;
  uint64_t mask = bits >= 64 ? ~0ull : (1ull << bits) - 1;
  uint64_t u = (uint64_t)v & mask;
  int k = f == XF_I8 ? 1 : f == XF_I16 ? 2 : f == XF_I32 ? 4 : 8;
  bool logic = in->op == X86_AND || in->op == X86_OR || in->op == X86_XOR;
  if (f == XF_U8)
    num(o, (uint64_t)v & 0xff);
  else if (logic || k == width)
    num(o, u);
  else if (bits < 64 && (u >> (bits - 1)) & 1)
    snum(o, (int64_t)(u | ~mask));
  else
    snum(o, (int64_t)u);
}

int x86_format(const x86_inst *in, char *buf, size_t n) {
  uint8_t bytes[15];
  size_t len;
  if (x86_encode(in, bytes, &len) != AF_OK) {
    if (n) buf[0] = 0;
    return -1;
  }
  const x86_row *r = x86_match(in);
  out_t o = {buf, n, 0};
  if (r->name)
    say(&o, "%s", r->name);
  else
    say(&o, "%s", x86_op_name((x86_op)in->op));
  if (r->cc) say(&o, "%s", x86_cond_name((x86_cond)in->cond));
  int width = 0;
  switch (r->form[0]) {
  case XF_R8:
  case XF_RM8: width = 1; break;
  case XF_R16:
  case XF_RM16: width = 2; break;
  case XF_R32:
  case XF_RM32: width = 4; break;
  default: width = 8; break;
  }
  for (int k = 0; k < in->nops; k++) {
    const x86_operand *a = &in->o[k];
    say(&o, k ? ", " : " ");
    switch (a->kind) {
    case X86_OPND_GPR: say(&o, "%s", gpr_names[gpr_row(a->size)][a->reg]); break;
    case X86_OPND_XMM: say(&o, "xmm%d", a->reg - AF_XMM0); break;
    case X86_OPND_ST: say(&o, "st(%d)", a->reg); break;
    case X86_OPND_MEM: {
      int s1 = in->o[0].kind == X86_OPND_GPR ? in->o[0].size : 0;
      uint64_t mask = k > 0 && s1 && s1 < 8 ? (1ull << (8 * s1)) - 1 : ~0ull;
      mem(&o, a, r->form[k] != XF_M, mask);
      break;
    }
    case X86_OPND_IMM: imm(&o, in, r->form[k], a->imm, width); break;
    case X86_OPND_REL: num(&o, (uint64_t)(int64_t)len + (uint64_t)a->imm); break; /* at 0 */
    default: break;
    }
  }
  return (int)o.len;
}
