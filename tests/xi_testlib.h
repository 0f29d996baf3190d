/* xi_testlib.h - xi's test kit: CPU states, a native runner (the hardware reference), Unicorn. */
#ifndef ABIFUZZ_TESTS_XI_TESTLIB_H
#define ABIFUZZ_TESTS_XI_TESTLIB_H

#include <setjmp.h>
#include <stdarg.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "x86.h"
#include "xi.h"

/* A whole CPU state as the native runner loads and saves it: the GPRs, RFLAGS and an FXSAVE
 * image (x87 control/status/abridged tags at 0/2/4, MXCSR at 24, ST(i) at 32 + 16 i in stack
 * order, XMM i at 160 + 16 i; Intel SDM Vol. 1, 10.5.1). */
typedef struct {
  uint64_t gpr[16];
  uint64_t rflags;
  uint64_t pad;
  uint8_t fx[512] __attribute__((aligned(16)));
} tstate;

#define FX_FCW   0
#define FX_FSW   2
#define FX_FTW   4
#define FX_MXCSR 24
#define FX_ST    32
#define FX_XMM   160

static uint16_t fx16(const tstate *s, int off) {
  uint16_t v;
  memcpy(&v, s->fx + off, 2);
  return v;
}
static uint32_t fx32(const tstate *s, int off) {
  uint32_t v;
  memcpy(&v, s->fx + off, 4);
  return v;
}

static uint64_t ts_rs = 0x9E3779B97F4A7C15ull;
static uint64_t trnd(void) {
  ts_rs ^= ts_rs << 13, ts_rs ^= ts_rs >> 7, ts_rs ^= ts_rs << 17;
  return ts_rs;
}

/* ---- the native runner -------------------------------------------------------------------- *
 * Code built per instruction in a page of its own: save the callee-saved registers and the
 * host's FPU/SSE state, FXRSTOR the guest's, load RFLAGS and the GPRs (all but RSP: the tested
 * instruction must not use it), the instruction, then store everything back and restore the
 * host. A fault (#DE, #XM, #GP) arrives as a signal and is caught. */
typedef struct {
  uint8_t *code; /* one RWX page */
  tstate in, out;
  uint8_t hostfx[512] __attribute__((aligned(16)));
  size_t insn_off, insn_len, len;
} native;

static sigjmp_buf native_jb;
static void native_sig(int sig) { siglongjmp(native_jb, sig); }

static int native_init(native *n) {
  n->code =
      mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (n->code == MAP_FAILED) return -1;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = native_sig;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_NODEFER;
  sigaction(SIGFPE, &sa, NULL);
  sigaction(SIGSEGV, &sa, NULL);
  sigaction(SIGBUS, &sa, NULL);
  sigaction(SIGILL, &sa, NULL);
  return 0;
}

static void raw(x86_buf *b, const char *bytes, size_t k) { x86_emit_bytes(b, bytes, k); }

/* Builds the snippet around the instruction's bytes (bytes, len) in cap bytes of code: 0 or
 * -1. The prologue's length does not depend on the state. */
static int native_build_cap(native *n, const uint8_t *bytes, size_t len, size_t cap) {
  x86_buf b;
  x86_buf_init_fixed(&b, n->code, cap);
  static const af_reg saved[] = {AF_RBX, AF_RBP, AF_R12, AF_R13, AF_R14, AF_R15};
  for (int i = 0; i < 6; i++)
    x86_emit1(&b, X86_PUSH, x86_gpr(saved[i], 8));
  x86_emit_movimm(&b, AF_RAX, 8, (int64_t)(uintptr_t)n->hostfx);
  raw(&b, "\x0F\xAE\x00", 3); /* fxsave [rax] */
  x86_emit_movimm(&b, AF_RAX, 8, (int64_t)(uintptr_t)n->in.fx);
  raw(&b, "\x0F\xAE\x08", 3); /* fxrstor [rax] */
  x86_emit_movimm(&b, AF_RAX, 8, (int64_t)(uintptr_t)&n->in.rflags);
  x86_emit1(&b, X86_PUSH, x86_base(8, AF_RAX, 0));
  raw(&b, "\x9D", 1); /* popfq */
  for (int r = 0; r < 16; r++) {
    if (r == AF_RSP) continue;
    /* movabs: 10 bytes whatever the value, and no flags touched */
    uint8_t mv[10] = {(uint8_t)(0x48 | (r >> 3)), (uint8_t)(0xB8 + (r & 7))};
    memcpy(mv + 2, &n->in.gpr[r], 8);
    raw(&b, (const char *)mv, 10);
  }
  n->insn_off = b.len;
  n->insn_len = len;
  raw(&b, (const char *)bytes, len);
  x86_emit1(&b, X86_PUSH, x86_gpr(AF_RAX, 8));
  {
    uint8_t mv[10] = {0x48, 0xB8};
    uint64_t a = (uint64_t)(uintptr_t)&n->out;
    memcpy(mv + 2, &a, 8);
    raw(&b, (const char *)mv, 10);
  }
  for (int r = 1; r < 16; r++)
    if (r != AF_RSP) x86_emit2(&b, X86_MOV, x86_base(8, AF_RAX, 8 * r), x86_gpr((af_reg)r, 8));
  x86_emit1(&b, X86_POP, x86_gpr(AF_RCX, 8));
  x86_emit2(&b, X86_MOV, x86_base(8, AF_RAX, 0), x86_gpr(AF_RCX, 8));
  raw(&b, "\x9C", 1); /* pushfq */
  x86_emit1(&b, X86_POP, x86_gpr(AF_RCX, 8));
  x86_emit2(&b, X86_MOV, x86_base(8, AF_RAX, (int32_t)offsetof(tstate, rflags)),
            x86_gpr(AF_RCX, 8));
  raw(&b, "\x0F\xAE\x80", 3); /* fxsave [rax + disp32] */
  {
    int32_t d = (int32_t)offsetof(tstate, fx);
    raw(&b, (const char *)&d, 4);
  }
  x86_emit_movimm(&b, AF_RAX, 8, (int64_t)(uintptr_t)n->hostfx);
  raw(&b, "\x0F\xAE\x08", 3); /* fxrstor [rax] */
  x86_emit0(&b, X86_CLD);
  for (int i = 5; i >= 0; i--)
    x86_emit1(&b, X86_POP, x86_gpr(saved[i], 8));
  x86_emit0(&b, X86_RET);
  n->len = b.len;
  return x86_buf_finish(&b) == AF_OK ? 0 : -1;
}

static inline int native_build(native *n, const uint8_t *bytes, size_t len) {
  return native_build_cap(n, bytes, len, 4096);
}

/* Runs the snippet: 0, or the signal that stopped it (the host's state put back). */
static int native_run(native *n) {
  n->out = n->in;
  int sig = sigsetjmp(native_jb, 1);
  if (sig == 0) {
    ((void (*)(void))(void *)n->code)();
    return 0;
  }
  __asm__ volatile("fxrstor %0\n\tcld" : : "m"(n->hostfx));
  return sig;
}

/* ---- xi and Unicorn from / to a tstate ----------------------------------------------------- */
static const int ts_uc_gpr[16] = {UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
                                  UC_X86_REG_RSP, UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI,
                                  UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11,
                                  UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15};

/* Either engine through the same calls: W(id, ptr) / R(id, ptr). */
typedef uc_err (*ts_wr)(void *e, int id, const void *v);
typedef uc_err (*ts_rd)(void *e, int id, void *v);

static uc_err ts_xi_wr(void *e, int id, const void *v) { return xi_reg_write(e, id, v); }
static uc_err ts_xi_rd(void *e, int id, void *v) { return xi_reg_read(e, id, v); }
static uc_err ts_uc_wr(void *e, int id, const void *v) { return uc_reg_write(e, id, v); }
static uc_err ts_uc_rd(void *e, int id, void *v) { return uc_reg_read(e, id, v); }

static void ts_load(void *e, ts_wr W, const tstate *s) {
  for (int i = 0; i < 16; i++)
    W(e, ts_uc_gpr[i], &s->gpr[i]);
  W(e, UC_X86_REG_RFLAGS, &s->rflags);
  for (int i = 0; i < 16; i++)
    W(e, UC_X86_REG_XMM0 + i, s->fx + FX_XMM + 16 * i);
  uint64_t v = fx32(s, FX_MXCSR);
  W(e, UC_X86_REG_MXCSR, &v);
  v = fx16(s, FX_FCW);
  W(e, UC_X86_REG_FPCW, &v);
  v = fx16(s, FX_FSW);
  W(e, UC_X86_REG_FPSW, &v);
  for (int i = 0; i < 8; i++) {
    uint8_t st[16] = {0};
    memcpy(st, s->fx + FX_ST + 16 * i, 10);
    W(e, UC_X86_REG_ST0 + i, st);
  }
  /* abridged (bit per physical register, 1 = valid) -> full (11 = empty) */
  uint16_t tag = 0;
  for (int i = 0; i < 8; i++)
    if (!(s->fx[FX_FTW] >> i & 1)) tag |= (uint16_t)(3u << (2 * i));
  v = tag;
  W(e, UC_X86_REG_FPTAG, &v);
}

static void ts_save(void *e, ts_rd R, tstate *s) {
  memset(s, 0, sizeof *s);
  for (int i = 0; i < 16; i++)
    R(e, ts_uc_gpr[i], &s->gpr[i]);
  R(e, UC_X86_REG_RFLAGS, &s->rflags);
  for (int i = 0; i < 16; i++)
    R(e, UC_X86_REG_XMM0 + i, s->fx + FX_XMM + 16 * i);
  uint64_t v = 0;
  R(e, UC_X86_REG_MXCSR, &v);
  memcpy(s->fx + FX_MXCSR, &v, 4);
  v = 0;
  R(e, UC_X86_REG_FPCW, &v);
  memcpy(s->fx + FX_FCW, &v, 2);
  v = 0;
  R(e, UC_X86_REG_FPSW, &v);
  memcpy(s->fx + FX_FSW, &v, 2);
  for (int i = 0; i < 8; i++) {
    uint8_t st[16] = {0};
    R(e, UC_X86_REG_ST0 + i, st);
    memcpy(s->fx + FX_ST + 16 * i, st, 10);
  }
  v = 0;
  R(e, UC_X86_REG_FPTAG, &v);
  uint8_t ab = 0;
  for (int i = 0; i < 8; i++)
    if (((v >> (2 * i)) & 3) != 3) ab |= (uint8_t)(1u << i);
  s->fx[FX_FTW] = ab;
}

/* The differences between two states, as text into buf ("" when equal). RFLAGS: the six
 * arithmetic flags and DF. */
static int ts_diff(const tstate *a, const tstate *b, char *buf, size_t n) {
  static const char *const gn[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                     "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
  size_t k = 0;
  buf[0] = 0;
#define ADD(...)                                                                                   \
  do {                                                                                             \
    if (k < n) k += (size_t)snprintf(buf + k, n - k, __VA_ARGS__);                                 \
  } while (0)
  for (int i = 0; i < 16; i++)
    if (a->gpr[i] != b->gpr[i])
      ADD(" %s %llx/%llx", gn[i], (unsigned long long)a->gpr[i], (unsigned long long)b->gpr[i]);
  if ((a->rflags ^ b->rflags) & 0xCD5)
    ADD(" rflags %llx/%llx", (unsigned long long)(a->rflags & 0xCD5),
        (unsigned long long)(b->rflags & 0xCD5));
  for (int i = 0; i < 16; i++)
    if (memcmp(a->fx + FX_XMM + 16 * i, b->fx + FX_XMM + 16 * i, 16)) {
      uint64_t x[2], y[2];
      memcpy(x, a->fx + FX_XMM + 16 * i, 16), memcpy(y, b->fx + FX_XMM + 16 * i, 16);
      ADD(" xmm%d %016llx:%016llx/%016llx:%016llx", i, (unsigned long long)x[1],
          (unsigned long long)x[0], (unsigned long long)y[1], (unsigned long long)y[0]);
    }
  if (fx32(a, FX_MXCSR) != fx32(b, FX_MXCSR))
    ADD(" mxcsr %x/%x", fx32(a, FX_MXCSR), fx32(b, FX_MXCSR));
  if (fx16(a, FX_FCW) != fx16(b, FX_FCW)) ADD(" fcw %x/%x", fx16(a, FX_FCW), fx16(b, FX_FCW));
  if (fx16(a, FX_FSW) != fx16(b, FX_FSW)) ADD(" fsw %x/%x", fx16(a, FX_FSW), fx16(b, FX_FSW));
  if (a->fx[FX_FTW] != b->fx[FX_FTW]) ADD(" ftw %x/%x", a->fx[FX_FTW], b->fx[FX_FTW]);
  unsigned top = (fx16(a, FX_FSW) >> 11) & 7;
  for (int i = 0; i < 8; i++) {
    /* only registers valid in the first state (an empty one's bits are stale) */
    if (!(a->fx[FX_FTW] >> ((top + (unsigned)i) & 7) & 1)) continue;
    if (memcmp(a->fx + FX_ST + 16 * i, b->fx + FX_ST + 16 * i, 10)) {
      uint64_t m1, m2;
      uint16_t e1, e2;
      memcpy(&m1, a->fx + FX_ST + 16 * i, 8), memcpy(&e1, a->fx + FX_ST + 16 * i + 8, 2);
      memcpy(&m2, b->fx + FX_ST + 16 * i, 8), memcpy(&e2, b->fx + FX_ST + 16 * i + 8, 2);
      ADD(" st%d %04x:%016llx/%04x:%016llx", i, e1, (unsigned long long)m1, e2,
          (unsigned long long)m2);
    }
  }
#undef ADD
  return buf[0] != 0;
}

#endif
