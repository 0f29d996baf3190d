/* test_xi_diff.c - xi against the hardware (and Unicorn) for every row of the JIT's x86 table. */
#include <stdlib.h>

#include "check.h"
#include "x86_enc_internal.h"
#include "xi_testlib.h"

/* For every row of jit/x86_table.c and many random operand choices: a random CPU state
 * (GPRs with edge values, RFLAGS, XMM lanes with NaNs/denormals/infinities, MXCSR with random
 * rounding/DAZ/FTZ and now and then an unmasked exception, an x87 stack 1-7 deep with special
 * values and a random rounding/precision control), memory operands of every addressing shape
 * pointing into a data page. The instruction runs natively (the reference: undefined flags,
 * NaN payloads, cvtt overflow values are the hardware's) and in xi at the same address, and
 * every register, flag, MXCSR, the x87 state and the data page must agree; a native fault
 * (#DE, #XM, #GP) must be xi's UC_ERR_EXCEPTION with nothing committed. Unicorn runs it too:
 * where it differs from the hardware that is counted and printed (information, not a failure).
 * Rows that use RSP or transfer control are test_xi's (against Unicorn).
 *
 * test_xi_diff [ITERS [SEED]]: ITERS random cases per row (default 200). */

#define DATA 4096

static uint8_t *data;   /* the data page */
static uint64_t data_a; /* its address */
static int depth;       /* x87 stack depth of the current state */

static uint64_t rnd_gpr(void) {
  static const uint64_t edge[] = {0,
                                  1,
                                  2,
                                  0x7f,
                                  0x80,
                                  0xff,
                                  0x7fff,
                                  0x8000,
                                  0xffff,
                                  0x7fffffff,
                                  0x80000000,
                                  0xffffffff,
                                  0x100000000ull,
                                  0x7fffffffffffffffull,
                                  0x8000000000000000ull,
                                  ~0ull,
                                  ~0ull - 1};
  switch (trnd() % 4) {
  case 0: return edge[trnd() % (sizeof edge / sizeof edge[0])];
  case 1: return trnd() % 64;
  case 2: return (uint64_t)((int64_t)trnd() >> (trnd() % 64));
  default: return trnd();
  }
}

static uint32_t rnd_f32(void) {
  static const uint32_t sp[] = {0,          0x80000000, 0x3f800000, 0xbf800000, 0x7f800000,
                                0xff800000, 0x7fc00000, 0xffc00000, 0x7fa00001, 0x00000001,
                                0x807fffff, 0x00800000, 0x4f000000, 0xcf000000, 0x5f000000,
                                0xdf000001, 0x3effffff, 0x3f000000, 0x7f7fffff, 0x4effffff};
  switch (trnd() % 4) {
  case 0: return sp[trnd() % (sizeof sp / sizeof sp[0])];
  case 1: return (uint32_t)trnd();
  case 2: return (uint32_t)(trnd() & 0x807fffff) | (uint32_t)((0x60 + trnd() % 64) << 23);
  default: return (uint32_t)(trnd() & 0x807fffff) | (uint32_t)((0x7f + trnd() % 32 - 16) << 23);
  }
}

static uint64_t rnd_f64(void) {
  static const uint64_t sp[] = {0,
                                0x8000000000000000ull,
                                0x3ff0000000000000ull,
                                0x7ff0000000000000ull,
                                0xfff0000000000000ull,
                                0x7ff8000000000000ull,
                                0x7ff4000000000001ull,
                                0xfff8000000000000ull,
                                1,
                                0x800fffffffffffffull,
                                0x0010000000000000ull,
                                0x43e0000000000000ull,
                                0xc3e0000000000000ull,
                                0x41e0000000000000ull,
                                0xc1e0000000200000ull,
                                0x47efffffe0000000ull,
                                0x3690000000000000ull,
                                0x3fe0000000000000ull,
                                0x3fdfffffffffffffull};
  switch (trnd() % 4) {
  case 0: return sp[trnd() % (sizeof sp / sizeof sp[0])];
  case 1: return trnd();
  case 2: return (trnd() & 0x800fffffffffffffull) | (uint64_t)(0x360 + trnd() % 64) << 52;
  default: return (trnd() & 0x800fffffffffffffull) | (uint64_t)(0x3ff + trnd() % 80 - 40) << 52;
  }
}

static void rnd_f80(uint8_t out[10]) {
  uint64_t m = trnd();
  uint16_t e;
  switch (trnd() % 10) {
  case 0: m = 0, e = 0; break;                                                /* zero */
  case 1: m = 1ull << 63, e = 0x7fff; break;                                  /* infinity */
  case 2: m = (3ull << 62) | (m >> 2), e = 0x7fff; break;                     /* qNaN */
  case 3: m = (1ull << 63) | (m >> 3) | 1, e = 0x7fff; break;                 /* sNaN */
  case 4: m >>= 1 + trnd() % 8, e = 0; break;                                 /* denormal */
  case 5: m |= 1ull << 63, e = (uint16_t)(0x3fff + trnd() % 130 - 65); break; /* integers */
  case 6: m |= 1ull << 63, e = (uint16_t)(0x3f80 + trnd() % 0x100); break;    /* f32 edges */
  case 7: m |= 1ull << 63, e = (uint16_t)(0x3c00 + trnd() % 0x800); break;    /* f64 edges */
  case 8: m = (m | 1ull << 63) & ~0x7ffull, e = (uint16_t)(0x3fff + trnd() % 20 - 10); break;
  default: m |= 1ull << 63, e = (uint16_t)(trnd() % 0x7fff); break;
  }
  if (trnd() % 2) e |= 0x8000;
  memcpy(out, &m, 8);
  memcpy(out + 8, &e, 2);
}

static void rnd_state(tstate *s) {
  memset(s, 0, sizeof *s);
  for (int i = 0; i < 16; i++)
    s->gpr[i] = rnd_gpr();
  s->rflags = 0x202 | (trnd() & 0x8D5);
  for (int i = 0; i < 16; i++)
    for (int l = 0; l < 4; l++) {
      if (trnd() % 2) {
        uint32_t v = rnd_f32();
        memcpy(s->fx + FX_XMM + 16 * i + 4 * l, &v, 4);
      } else if (!(l & 1)) {
        uint64_t v = rnd_f64();
        memcpy(s->fx + FX_XMM + 16 * i + 4 * l, &v, 8), l++;
      }
    }
  uint32_t mx = 0x1F80 | (uint32_t)(trnd() & 0x3F) | (uint32_t)(trnd() % 4) << 13;
  if (trnd() % 3 == 0) mx |= 0x40;                                /* DAZ */
  if (trnd() % 3 == 0) mx |= 0x8000;                              /* FTZ */
  if (trnd() % 16 == 0) mx &= ~((0x80u << (trnd() % 6)) | 0x3Fu); /* one unmasked, flags clear */
  memcpy(s->fx + FX_MXCSR, &mx, 4);
  uint32_t mxmask = 0xFFFF;
  memcpy(s->fx + 28, &mxmask, 4);
  uint16_t cw = (uint16_t)(0x7F | (trnd() % 4) << 10 | (trnd() % 4) << 8);
  if ((cw & 0x300) == 0x100) cw |= 0x200; /* PC 01 is reserved */
  memcpy(s->fx + FX_FCW, &cw, 2);
  depth = 1 + (int)(trnd() % 7);
  unsigned top = (unsigned)(trnd() % 8);
  uint16_t sw = (uint16_t)(top << 11 | (trnd() & 0x4700) | (trnd() & 0x3F));
  memcpy(s->fx + FX_FSW, &sw, 2);
  uint8_t ftw = 0;
  for (int i = 0; i < 8; i++) {
    rnd_f80(s->fx + FX_ST + 16 * i);
    if (i < depth) ftw |= (uint8_t)(1u << ((top + (unsigned)i) & 7));
  }
  s->fx[FX_FTW] = ftw;
}

static void rnd_data(void) {
  for (int off = 0; off < 1024; off += 8) {
    uint64_t v;
    switch (trnd() % 4) {
    case 0: v = rnd_f64(); break;
    case 1: v = (uint64_t)rnd_f32() << 32 | rnd_f32(); break;
    case 2: v = rnd_gpr(); break;
    default: v = trnd(); break;
    }
    memcpy(data + off, &v, 8);
  }
}

/* Register numbers a case may use: not RSP. */
static int rnd_reg(void) {
  int r;
  do
    r = (int)(trnd() % 16);
  while (r == AF_RSP);
  return r;
}

static int64_t rnd_imm(int form) {
  int64_t v = (int64_t)rnd_gpr();
  switch (form) {
  case XF_I8: return (int8_t)v;
  case XF_I16: return (int16_t)v;
  case XF_I32: return (int32_t)v;
  case XF_U8: return (int64_t)(trnd() % 256);
  default: return v;
  }
}

static bool aligned_op(int op) { return op != X86_MOVUPS && op != X86_MOVDQU; }

/* A random instance of row r with state s: false if no operand choice matched it. The memory
 * operand's registers are set so that it lands in the data page. */
static bool gen(const x86_row *r, x86_inst *in, tstate *s, bool rip_ok, uint64_t rip_end_guess) {
  memset(in, 0, sizeof *in);
  in->op = r->op;
  in->cond = r->cc ? (uint8_t)(trnd() % 16) : 0;
  int mem_at = -1, nops = 0;
  for (int k = 0; k < 3 && r->form[k] != XF_NONE; k++, nops++) {
    int f = r->form[k];
    int sz = x86_form_size(f);
    bool mem;
    switch (f) {
    case XF_R8:
    case XF_R16:
    case XF_R32:
    case XF_R64: in->o[k] = x86_gpr((af_reg)rnd_reg(), sz); break;
    case XF_RM8:
    case XF_RM16:
    case XF_RM32:
    case XF_RM64:
      mem = trnd() % 2;
      if (mem)
        in->o[k] = x86_mem(sz, AF_REG_NONE, AF_REG_NONE, 1, 0), mem_at = k;
      else
        in->o[k] = x86_gpr((af_reg)rnd_reg(), sz);
      break;
    case XF_M:
    case XF_M8:
    case XF_M16:
    case XF_M32:
    case XF_M64:
    case XF_M80:
    case XF_M128: in->o[k] = x86_mem(sz, AF_REG_NONE, AF_REG_NONE, 1, 0), mem_at = k; break;
    case XF_X: in->o[k] = x86_xmm((af_reg)(AF_XMM0 + trnd() % 16)); break;
    case XF_XM32:
    case XF_XM64:
    case XF_XM128:
      if (trnd() % 2)
        in->o[k] = x86_mem(sz, AF_REG_NONE, AF_REG_NONE, 1, 0), mem_at = k;
      else
        in->o[k] = x86_xmm((af_reg)(AF_XMM0 + trnd() % 16));
      break;
    case XF_I8:
    case XF_I16:
    case XF_I32:
    case XF_I64:
    case XF_U8: in->o[k] = x86_imm(rnd_imm(f)); break;
    case XF_CL: in->o[k] = x86_gpr(AF_RCX, 1); break;
    case XF_STI: in->o[k] = x86_st((int)(trnd() % (unsigned)depth)); break;
    default: return false;
    }
  }
  in->nops = (uint8_t)nops;
  if ((in->op == X86_DIV || in->op == X86_IDIV) && trnd() % 4) {
    int sz = in->o[0].size;
    if (in->op == X86_DIV)
      s->gpr[AF_RDX] = 0;
    else
      s->gpr[AF_RDX] = (int64_t)s->gpr[AF_RAX] < 0 ? ~0ull : 0;
    if (sz == 1) s->gpr[AF_RAX] &= in->op == X86_DIV ? 0xff : 0x7f;
    if (in->o[0].kind == X86_OPND_GPR && in->o[0].reg == AF_RDX) return false;
  }
  if (mem_at >= 0) {
    x86_operand *m = &in->o[mem_at];
    int sz = m->size ? m->size : 8;
    bool bt_reg = in->op == X86_BT && r->enc == XE_MR;
    int64_t target = 64 + (int64_t)(trnd() % (bt_reg ? 64 : 400));
    if (sz == 16 && aligned_op(in->op) && trnd() % 16)
      target &= ~15;
    else if (trnd() % 2)
      target &= ~(int64_t)(sz >= 8 ? 7 : sz - 1);
    uint64_t addr = data_a + (uint64_t)target;
    int shape = (int)(trnd() % 10);
    if (shape == 0 && rip_ok) {
      m->base = X86_BASE_RIP;
      m->disp = (int32_t)(addr - rip_end_guess); /* fixed up by the caller */
    } else {
      int base = shape == 1 ? AF_REG_NONE : rnd_reg();
      int index = AF_REG_NONE;
      if (shape <= 1 || shape >= 7) {
        do
          index = rnd_reg();
        while (index == base);
      }
      static const int scales[] = {1, 2, 4, 8};
      m->scale = (uint8_t)scales[trnd() % 4];
      m->disp = (int32_t)(trnd() % 4 == 0 ? 0 : (int64_t)(trnd() % 512) - 256);
      if (trnd() % 8 == 0) m->disp = (int32_t)(trnd() % 0x10000) - 0x8000;
      uint64_t iv = 0;
      if (index != AF_REG_NONE) {
        iv = base == AF_REG_NONE ? (addr - (uint64_t)(int64_t)m->disp) / m->scale
                                 : (uint64_t)((int64_t)(trnd() % 17) - 8);
        if (base == AF_REG_NONE) m->disp = (int32_t)(addr - iv * m->scale);
        s->gpr[index] = iv;
      } else if (base == AF_REG_NONE) {
        return false; /* an absolute disp32 cannot reach the data page */
      }
      if (base != AF_REG_NONE) s->gpr[base] = addr - (uint64_t)(int64_t)m->disp - iv * m->scale;
      m->base = (int8_t)base, m->index = (int8_t)index;
    }
    /* a register operand that is also the base/index changes the address: keep them apart */
    for (int k = 0; k < nops; k++)
      if (k != mem_at && in->o[k].kind == X86_OPND_GPR &&
          (in->o[k].reg == m->base || in->o[k].reg == m->index))
        return false;
    if (bt_reg) { /* bit offset in a small range around the operand */
      s->gpr[in->o[1].reg] = (uint64_t)((int64_t)(trnd() % 512) - 256);
    }
  }
  if (in->op == X86_LDMXCSR) { /* a loadable value, masks set (an unmasked one traps later) */
    uint32_t v = (uint32_t)(trnd() & 0xFFFF) | 0x1F80;
    if (trnd() % 8 == 0) v = (uint32_t)trnd(); /* reserved bits: #GP */
    s->pad = v;                                /* the caller stores it at the operand */
  }
  if (in->op == X86_FLDCW) s->pad = (trnd() & 0xFFFF) | 0x3F;
  return x86_match(in) == r;
}

static struct {
  int n, diff;
  char ex[300];
} uc_by_op[X86_OP_COUNT];

int main(int argc, char **argv) {
  int iters = argc > 1 ? atoi(argv[1]) : 200;
  if (argc > 2) ts_rs = strtoull(argv[2], NULL, 0) | 1;
  native nt;
  CHECK(native_init(&nt) == 0);
  data = mmap(NULL, DATA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(data != MAP_FAILED);
  data_a = (uint64_t)(uintptr_t)data;
  uint64_t code_a = (uint64_t)(uintptr_t)nt.code;
  xi *x;
  CHECK(xi_open(&x) == UC_ERR_OK);
  CHECK(xi_mem_map_ptr(x, code_a, 4096, UC_PROT_READ | UC_PROT_EXEC, nt.code) == UC_ERR_OK);
  CHECK(xi_mem_map_ptr(x, data_a, DATA, UC_PROT_READ | UC_PROT_WRITE, data) == UC_ERR_OK);
  uc_engine *uc;
  CHECK(uc_open(UC_ARCH_X86, UC_MODE_64, &uc) == UC_ERR_OK);
  CHECK(uc_mem_map_ptr(uc, code_a, 4096, UC_PROT_ALL, nt.code) == UC_ERR_OK);
  CHECK(uc_mem_map_ptr(uc, data_a, DATA, UC_PROT_READ | UC_PROT_WRITE, data) == UC_ERR_OK);

  static uint8_t data0[DATA], data_native[DATA];
  /* where the instruction lands: the snippet's prologue has a fixed length */
  native_build(&nt, (const uint8_t *)"\x90", 1);
  uint64_t insn_a = code_a + nt.insn_off;
  int rows_done = 0, rows_skipped = 0, cases = 0, faults = 0, fails = 0;
  for (size_t ri = 0; ri < x86_nrows; ri++) {
    const x86_row *r = &x86_rows[ri];
    switch (r->op) {
    case X86_PUSH:
    case X86_POP:
    case X86_CALL:
    case X86_JMP:
    case X86_JCC:
    case X86_RET:
    case X86_UD2:
    case X86_INT3: continue; /* test_xi, against Unicorn */
    default: break;
    }
    int done = 0;
    for (int it = 0, tries = 0; it < iters && tries < iters * 50; tries++) {
      tstate s;
      rnd_state(&s);
      rnd_data();
      x86_inst in;
      uint8_t bytes[15];
      size_t len;
      if (!gen(r, &in, &s, true, insn_a)) continue;
      if (x86_encode(&in, bytes, &len) != AF_OK) continue;
      for (int k = 0; k < in.nops; k++) /* RIP-relative: from the end, now that it is known */
        if (in.o[k].kind == X86_OPND_MEM && in.o[k].base == X86_BASE_RIP) {
          in.o[k].disp = (int32_t)((uint64_t)in.o[k].disp - len);
          x86_encode(&in, bytes, &len);
        }
      if (in.op == X86_LDMXCSR || in.op == X86_FLDCW) {
        /* the loaded control word at the operand's address: recompute it */
        const x86_operand *m = &in.o[0];
        uint64_t a = (uint64_t)(int64_t)m->disp;
        if (m->base == X86_BASE_RIP)
          a += insn_a + len;
        else if (m->base >= 0)
          a += s.gpr[m->base];
        if (m->index >= 0) a += s.gpr[m->index] * m->scale;
        memcpy(data + (a - data_a), &s.pad, in.op == X86_FLDCW ? 2 : 4);
      }
      it++;
      cases++;
      memcpy(nt.in.gpr, s.gpr, sizeof s.gpr);
      nt.in.rflags = s.rflags;
      memcpy(nt.in.fx, s.fx, sizeof s.fx);
      native_build(&nt, bytes, len); /* after the state: the GPRs are immediates */
      memcpy(data0, data, DATA);
      int sig = native_run(&nt);
      memcpy(data_native, data, DATA);
      tstate hw = nt.out;

      /* xi */
      memcpy(data, data0, DATA);
      ts_load(x, ts_xi_wr, &s);
      uc_err e = xi_emu_start(x, insn_a, insn_a + len, 0, 0);
      tstate xs;
      ts_save(x, ts_xi_rd, &xs);
      uint64_t rip = 0;
      xi_reg_read(x, UC_X86_REG_RIP, &rip);
      char why[1200];
      char dis[64];
      x86_format(&in, dis, sizeof dis);
      if (sig) {
        faults++;
        tstate s0 = s;
        /* nothing committed: the state as loaded (read back through xi for the tag form) */
        bool same = !ts_diff(&s0, &xs, why, sizeof why) && !memcmp(data, data0, DATA);
        CHECKF(e == UC_ERR_EXCEPTION && rip == insn_a && same,
               "row %zu %s: native signal %d, xi err %d rip+%lld:%s", ri, dis, sig, e,
               (long long)(rip - insn_a), why);
        if (!(e == UC_ERR_EXCEPTION && same)) fails++;
        /* Unicorn on the faulting case, for the record */
        memcpy(data, data0, DATA);
        uc_ctl_remove_cache(uc, code_a, code_a + 4096);
        ts_load(uc, ts_uc_wr, &s);
        uc_err ue = uc_emu_start(uc, insn_a, insn_a + len, 0, 0);
        uc_by_op[in.op].n++;
        if (ue != UC_ERR_EXCEPTION && !uc_by_op[in.op].diff++)
          snprintf(uc_by_op[in.op].ex, sizeof uc_by_op[in.op].ex,
                   "%s: the hardware faults (signal %d), Unicorn err %d", dis, sig, ue);
      } else {
        bool d = ts_diff(&hw, &xs, why, sizeof why);
        bool md = memcmp(data, data_native, DATA) != 0;
        CHECKF(e == UC_ERR_OK && !d && !md && rip == insn_a + len,
               "row %zu %s [%02x %02x %02x %02x]: xi err %d, hw/xi:%s%s", ri, dis, bytes[0],
               bytes[1], bytes[2], len > 3 ? bytes[3] : 0, e, why, md ? " memory" : "");
        if (e != UC_ERR_OK || d || md) fails++;
        /* Unicorn, for the record */
        memcpy(data, data0, DATA);
        uc_ctl_remove_cache(uc, code_a, code_a + 4096);
        ts_load(uc, ts_uc_wr, &s);
        uc_err ue = uc_emu_start(uc, insn_a, insn_a + len, 0, 0);
        tstate us;
        ts_save(uc, ts_uc_rd, &us);
        char uwhy[1200];
        bool ud = ue != UC_ERR_OK || ts_diff(&hw, &us, uwhy, sizeof uwhy) ||
                  memcmp(data, data_native, DATA);
        uc_by_op[in.op].n++;
        if (ud && !uc_by_op[in.op].diff++)
          snprintf(uc_by_op[in.op].ex, sizeof uc_by_op[in.op].ex, "%s: err %d hw/uc:%.200s", dis,
                   ue, ue == UC_ERR_OK ? uwhy : "");
      }
      if (fails > 30) break;
      done++;
    }
    if (done)
      rows_done++;
    else {
      rows_skipped++;
      printf("row %zu (%s) not generated\n", ri, x86_op_name((x86_op)r->op));
    }
    if (fails > 30) break;
  }
  printf("%d rows, %d cases (%d native faults), %d rows not generated, %d failures\n", rows_done,
         cases, faults, rows_skipped, fails);
  CHECK(rows_skipped == 0);
  printf("Unicorn against the hardware (information):\n");
  for (int op = 0; op < X86_OP_COUNT; op++)
    if (uc_by_op[op].diff)
      printf("  %-10s %d/%d differ, e.g. %s\n", x86_op_name((x86_op)op), uc_by_op[op].diff,
             uc_by_op[op].n, uc_by_op[op].ex);
  uc_close(uc);
  xi_close(x);
  return check_done();
}
