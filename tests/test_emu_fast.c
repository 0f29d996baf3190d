/* test_emu_fast.c - the emulation leg's shortcuts under xi give what the long ways give. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "emu_internal.h"

/* Each shortcut of the leg's per-case path (doc/emulator.md "Cost") against the way it
 * replaced:
 *   1. emu_garbage_block (four values at a time with AVX2) against emu_garbage one at a time:
 *      the same values in the same order, from any state, for every length, with and without
 *      the vector path;
 *   2. eng_reg_read / eng_reg_write / eng_reg64 / eng_set64 under xi (its register file in
 *      place) against xi_reg_read / xi_reg_write, for every register the leg uses;
 *   3. the opcodes the instruction hook is filtered to (emu_site_ops) cover every instruction
 *      xi can decode on which the hook acts (emu_insn_maybe_site): one prefix of xi's (none,
 *      66, F2, F3), REX or none, then any opcode of the one-byte map. */

#if defined(AF_HAVE_UNICORN) && defined(AF_HAVE_CAPSTONE)

static void garbage(void) {
  struct af_emu *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
  CHECK(a && b);
  if (!a || !b) return;
  __builtin_cpu_init();
  int have_simd = !!__builtin_cpu_supports("avx2");
  static const uint64_t seeds[] = {0, 1, 0x9e3779b97f4a7c15ull, ~0ull, 0x123456789abcdefull};
  int compared = 0;
  for (size_t si = 0; si < sizeof seeds / sizeof seeds[0]; si++)
    for (int simd = 0; simd <= have_simd; simd++)
      for (size_t n = 0; n <= 45; n++) {
        uint64_t want[64], got[64];
        a->gstate = b->gstate = seeds[si];
        b->simd = simd;
        for (size_t i = 0; i < n; i++)
          want[i] = emu_garbage(a);
        got[n] = 0xdeadull; /* nothing past n is written */
        emu_garbage_block(b, got, n);
        CHECKF(!memcmp(want, got, n * sizeof *got) && got[n] == 0xdeadull,
               "seed %zu simd %d n %zu: a value differs", si, simd, n);
        CHECKF(a->gstate == b->gstate, "seed %zu simd %d n %zu: the state differs", si, simd, n);
        /* and the values after the block: the sequence goes on from the same place */
        CHECK(emu_garbage(a) == emu_garbage(b));
        compared++;
      }
  printf("garbage blocks: %d compared (vector path %s)\n", compared,
         have_simd ? "tested" : "not available here");
  free(a);
  free(b);
}

static void registers(void) {
  emu_engine g;
  CHECK(eng_open(&g, 1) == UC_ERR_OK && g.xr);
  if (!g.x) return;
  static const int gpr[] = {UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
                            UC_X86_REG_RSP, UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI,
                            UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11,
                            UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15,
                            UC_X86_REG_RIP};
  for (size_t i = 0; i < sizeof gpr / sizeof gpr[0]; i++) {
    /* 16-byte buffers: eng_reg_read/write take any register id, XMM ones included */
    uint64_t v[2] = {0x0102030405060708ull * (i + 1), 0}, r[2] = {0, 0};
    CHECK(eng_reg_write(&g, gpr[i], v) == UC_ERR_OK);
    CHECK(xi_reg_read(g.x, gpr[i], r) == UC_ERR_OK && r[0] == v[0]);
    CHECKF(eng_reg64(&g, gpr[i]) == v[0], "register %zu", i);
    eng_set64(&g, gpr[i], ~v[0]);
    CHECK(xi_reg_read(g.x, gpr[i], r) == UC_ERR_OK && r[0] == ~v[0]);
    v[0] = 0x1111 * (i + 3);
    CHECK(xi_reg_write(g.x, gpr[i], v) == UC_ERR_OK);
    CHECK(eng_reg_read(&g, gpr[i], r) == UC_ERR_OK && r[0] == v[0] && !r[1]);
  }
  for (int x = 0; x < 16; x++) {
    uint8_t v[16], r[16];
    for (int k = 0; k < 16; k++)
      v[k] = (uint8_t)(16 * x + k + 1);
    CHECK(eng_reg_write(&g, UC_X86_REG_XMM0 + x, v) == UC_ERR_OK);
    CHECK(xi_reg_read(g.x, UC_X86_REG_XMM0 + x, r) == UC_ERR_OK && !memcmp(v, r, 16));
    v[15] ^= 0xff;
    CHECK(xi_reg_write(g.x, UC_X86_REG_XMM0 + x, v) == UC_ERR_OK);
    CHECK(eng_reg_read(&g, UC_X86_REG_XMM0 + x, r) == UC_ERR_OK && !memcmp(v, r, 16));
  }
  /* the rest still through xi_reg_*: RFLAGS (bit 1 kept set), MXCSR (4 bytes) */
  uint64_t fl[2] = {0x400, 0}, r[2] = {0, 0}, mx[2] = {0, 0};
  CHECK(eng_reg_write(&g, UC_X86_REG_RFLAGS, fl) == UC_ERR_OK);
  CHECK(eng_reg64(&g, UC_X86_REG_RFLAGS) == 0x402 && g.xr->rflags == 0x402);
  eng_set64(&g, UC_X86_REG_RFLAGS, 0x200);
  CHECK(eng_reg_read(&g, UC_X86_REG_RFLAGS, r) == UC_ERR_OK && r[0] == 0x202);
  CHECK(eng_reg_read(&g, UC_X86_REG_MXCSR, mx) == UC_ERR_OK && mx[0] == 0x1f80);
  eng_close(&g);
}

static void site_ops(void) {
  uint16_t ops[EMU_SITE_OPS_MAX];
  size_t n = emu_site_ops(ops);
  CHECK(n > 0 && n <= EMU_SITE_OPS_MAX);
  uint8_t in[512] = {0};
  for (size_t i = 0; i < n; i++) {
    CHECKF(ops[i] < 512, "opcode 0x%x", ops[i]);
    if (ops[i] < 512) in[ops[i]] = 1;
  }
  CHECK(in[0xc3] && in[0xcc]); /* the trap page's bytes */
  static const int pfxs[] = {-1, 0x66, 0xf2, 0xf3};
  int missed = 0, sites = 0;
  for (size_t pi = 0; pi < 4; pi++)
    for (int rex = 0x3f; rex <= 0x4f; rex++) /* 0x3f: none */
      for (int op = 0; op < 256; op++) {
        uint8_t p[16] = {0}; /* then ModRM 0x10 (FF /2 with a memory operand) and zeros */
        size_t k = 0;
        if (pfxs[pi] >= 0) p[k++] = (uint8_t)pfxs[pi];
        if (rex >= 0x40) p[k++] = (uint8_t)rex;
        p[k++] = (uint8_t)op;
        p[k] = 0x10;
        if (!emu_insn_maybe_site(p, 15)) continue;
        sites++;
        if (!in[op]) {
          missed++;
          CHECKF(0, "prefix %d rex 0x%x opcode 0x%02x: a possible call or return not hooked",
                 pfxs[pi], rex, op);
        }
      }
  printf("site opcodes: %zu; %d encodings the hook acts on, %d not covered\n", n, sites, missed);
  CHECK(sites > 0);
}

int main(void) {
  garbage();
  registers();
  site_ops();
  return check_done();
}

#else
int main(void) {
  printf("skipped: built without Unicorn and Capstone\n");
  return 0;
}
#endif
