/* emu_decode.c - the emulation leg's instruction-length decoder: the scan's fast path before
 * Capstone. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(AF_HAVE_UNICORN) && defined(AF_HAVE_CAPSTONE)

#include "emu_internal.h"

/* The scan (emu_scan_fn) must find the same instructions Capstone finds: every call, return
 * and x87 load/store of f32/f64, and every VEX/EVEX/XOP-encoded instruction. Capstone's
 * cs_disasm_iter formats every instruction's text even without detail (measured: a quarter of
 * an emulated case's host instructions). This decoder only measures the plain instructions
 * the JIT emits most (moves, ALU, SSE scalar moves and arithmetic, jumps, setcc, cmov,
 * push/pop): those are none of the above, and for them it gives Capstone's length. Anything
 * else, including every opcode that could be one of the above or that Capstone might decode
 * differently (prefixes beyond 66/F2/F3, 67 address size, segment overrides, x87, rarely
 * used or mode-dependent opcodes), returns 0 and the scan asks Capstone as before.
 * Opcode maps: Intel SDM vol. 2, appendix A. test_emu_decode compares both scans. */

/* Length of the ModRM byte at p and what follows it (SIB, displacement); 0 if it runs past n.
 * 64-bit addressing (no 67 prefix): mod 00 rm 101 is RIP+disp32, rm 100 has a SIB whose base
 * 101 with mod 00 takes a disp32. */
static size_t modrm_len(const uint8_t *p, size_t n) {
  if (n < 1) return 0;
  uint8_t m = p[0], mod = m >> 6, rm = m & 7;
  size_t len = 1;
  if (mod == 3) return 1;
  if (rm == 4) {
    if (n < 2) return 0;
    len++;
    if (mod == 0 && (p[1] & 7) == 5) len += 4;
  } else if (mod == 0 && rm == 5) {
    len += 4;
  }
  if (mod == 1) len += 1;
  if (mod == 2) len += 4;
  return len <= n ? len : 0;
}

/* Two-byte (0F xx) opcodes with a ModRM and no immediate that are valid with every prefix
 * combination the decoder accepts (none, 66, F2, F3) and with either ModRM form. */
static int sse_plain(uint8_t op, int p66, int pf2, int pf3) {
  int none = !p66 && !pf2 && !pf3;
  switch (op) {
  case 0x10: /* movups/movupd/movsd/movss */
  case 0x11:
  case 0x51: /* sqrt */
  case 0x58: /* add, mul, sub, min, div, max */
  case 0x59:
  case 0x5c:
  case 0x5d:
  case 0x5e:
  case 0x5f:
  case 0x5a: return 1; /* cvtps2pd/cvtpd2ps/cvtss2sd/cvtsd2ss */
  case 0x28:           /* movaps/movapd */
  case 0x29:
  case 0x2e: /* ucomiss/ucomisd */
  case 0x2f:
  case 0x54: /* and, andn, or, xor ps/pd */
  case 0x55:
  case 0x56:
  case 0x57: return none || (p66 && !pf2 && !pf3);
  case 0x2a: /* cvtsi2ss/sd (F3/F2), cvtpi2ps/pd with mmx */
  case 0x2c: /* cvttss2si / cvttsd2si */
  case 0x2d: return (pf2 || pf3) && !(pf2 && pf3) && !p66;
  case 0xef: /* pxor, pand, por, paddq... (66 or mmx) */
  case 0xeb:
  case 0xdb:
  case 0xd4:
  case 0xfb: return !pf2 && !pf3;
  case 0x6e:                             /* movd/movq to xmm/mmx */
  case 0x7e: return !pf2 && !pf3;        /* F3 0F 7E is movq xmm, xmm/m64: handled below */
  case 0xd6: return p66 && !pf2 && !pf3; /* movq xmm/m64, xmm */
  default: return 0;
  }
}

size_t emu_insn_len(const uint8_t *p, size_t n) {
  size_t i = 0;
  int p66 = 0, pf2 = 0, pf3 = 0;
  for (; i < n && i < 4; i++) {
    if (p[i] == 0x66 && !p66)
      p66 = 1;
    else if (p[i] == 0xf2 && !pf2 && !pf3)
      pf2 = 1;
    else if (p[i] == 0xf3 && !pf3 && !pf2)
      pf3 = 1;
    else
      break;
  }
  if (i >= n || p66 + pf2 + pf3 > 1) return 0;
  int rexw = 0;
  if ((p[i] & 0xf0) == 0x40) {
    rexw = (p[i] >> 3) & 1;
    i++;
    if (i >= n) return 0;
  }
  uint8_t op = p[i++];
  size_t rest = n - i, m;
  const uint8_t *q = p + i;
  if (p66 && rexw) return 0; /* which wins is for Capstone to say */
  size_t immz = p66 ? 2 : 4; /* imm16/imm32 by operand size */
  int rep = pf2 || pf3;
#define ML(extra)                                                                                  \
  do {                                                                                             \
    m = modrm_len(q, rest);                                                                        \
    if (!m || m + (extra) > rest) return 0;                                                        \
    return i + m + (extra);                                                                        \
  } while (0)
  if (op == 0x0f) {
    if (rest < 1) return 0;
    uint8_t o2 = q[0];
    i++, q++, rest--;
    if (o2 >= 0x80 && o2 <= 0x8f) { /* jcc rel32 */
      if (p66 || rep || rest < 4) return 0;
      return i + 4;
    }
    if (o2 >= 0x90 && o2 <= 0x9f) { /* setcc r/m8 */
      if (p66 || rep || rest < 1 || ((q[0] >> 3) & 7)) return 0;
      ML(0);
    }
    if (o2 >= 0x40 && o2 <= 0x4f) { /* cmovcc */
      if (rep) return 0;
      ML(0);
    }
    switch (o2) {
    case 0xb6: /* movzx, movsx, imul r, r/m */
    case 0xb7:
    case 0xbe:
    case 0xbf:
    case 0xaf:
    case 0xa5: /* shld/shrd by cl */
    case 0xad:
      if (rep) return 0;
      ML(0);
    case 0xa4: /* shld/shrd imm8 */
    case 0xac:
      if (rep) return 0;
      ML(1);
    case 0x7e:
      if (pf3 && !p66 && !pf2) ML(0); /* movq xmm, xmm/m64 */
      break;
    default: break;
    }
    if (sse_plain(o2, p66, pf2, pf3)) ML(0);
    return 0;
  }
  if (op < 0x40) {
    uint8_t lo = op & 7;
    if (lo > 5) return 0; /* segment pushes, prefixes, BCD: not in 64-bit code we decode */
    if (rep) return 0;
    if (lo <= 3) ML(0);
    if (lo == 4) return rest >= 1 ? i + 1 : 0;
    return rest >= immz ? i + immz : 0;
  }
  if (op >= 0x50 && op <= 0x5f) return rep ? 0 : i;                          /* push/pop r64 */
  if (op >= 0x70 && op <= 0x7f) return (p66 || rep || rest < 1) ? 0 : i + 1; /* jcc rel8 */
  if (op >= 0xb0 && op <= 0xb7) return (rep || rest < 1) ? 0 : i + 1;        /* mov r8, imm8 */
  if (op >= 0xb8 && op <= 0xbf) {                                            /* mov r, imm */
    size_t k = rexw ? 8 : immz;
    return (rep || rest < k) ? 0 : i + k;
  }
  if (rep) return 0; /* rep/repne/F2/F3 with a one-byte opcode: let Capstone say */
  switch (op) {
  case 0x63: /* movsxd */
  case 0x84: /* test, xchg, mov, lea */
  case 0x85:
  case 0x86:
  case 0x87:
  case 0x88:
  case 0x89:
  case 0x8a:
  case 0x8b:
  case 0xd0: /* shifts by 1, by cl */
  case 0xd1:
  case 0xd2:
  case 0xd3: ML(0);
  case 0x8d: /* lea: a register operand is invalid */
    if (rest < 1 || (q[0] >> 6) == 3) return 0;
    ML(0);
  case 0x69: ML(immz); /* imul r, r/m, imm */
  case 0x6b:           /* imul r, r/m, imm8 */
  case 0x80:           /* ALU r/m, imm8 */
  case 0x83:
  case 0xc0: /* shifts by imm8 */
  case 0xc1: ML(1);
  case 0x81: ML(immz);
  case 0xc6: /* mov r/m, imm (only /0: C6 F8 / C7 F8 are xabort / xbegin) */
  case 0xc7:
    if (rest < 1 || ((q[0] >> 3) & 7)) return 0;
    if (op == 0xc6) ML(1);
    ML(immz);
  case 0xf6: /* test r/m, imm; not, neg, mul, imul, div, idiv */
  case 0xf7:
    if (rest < 1) return 0;
    if (((q[0] >> 3) & 7) == 1) return 0; /* undocumented test alias */
    if (((q[0] >> 3) & 7) == 0) ML(op == 0xf6 ? 1 : immz);
    ML(0);
  case 0xfe: /* inc/dec r/m8 */
    if (rest < 1 || ((q[0] >> 3) & 7) > 1) return 0;
    ML(0);
  case 0xff: /* inc, dec, jmp r/m, push r/m (not call: /2, /3) */
    if (rest < 1) return 0;
    switch ((q[0] >> 3) & 7) {
    case 0:
    case 1:
    case 4:
    case 6: ML(0);
    default: return 0;
    }
  case 0x90: /* nop, cdqe/cqo, pushf/popf, leave, int3, cld/std, hlt */
  case 0x98:
  case 0x99:
  case 0x9c:
  case 0x9d:
  case 0xc9:
  case 0xcc:
  case 0xf4:
  case 0xfc:
  case 0xfd: return p66 ? 0 : i;
  case 0xa8: return rest >= 1 ? i + 1 : 0; /* test al, imm8 */
  case 0xa9: return rest >= immz ? i + immz : 0;
  case 0xeb: return (p66 || rest < 1) ? 0 : i + 1; /* jmp rel8 */
  case 0xe9: return (p66 || rest < 4) ? 0 : i + 4; /* jmp rel32 */
  default: return 0;
  }
#undef ML
}

/* ---- call and return sites, for the engines that hook every instruction (xi) -------------
 * Under xi the leg does not scan the code ahead (emu_code.c): one code hook sees every
 * instruction as it is about to run and asks this function whether it is a call or a return,
 * and for a call, its operand (the same emu_site the scan builds from Capstone's detail). The
 * JIT emits calls as E8 rel32 and FF /2 (a register, or [base + index*scale + disp] /
 * [rip + disp32]), returns as C3, with at most a REX prefix. With any other prefix before
 * such an opcode the answer is -1: Capstone decides (emu_site_from_cs). Intel SDM vol. 2,
 * 2.1-2.2 (ModRM, SIB, REX); test_emu_decode compares with Capstone. */
/* Byte classes for emu_insn_site: 1 a legacy prefix, 2 REX, 4 a call or return opcode. */
const uint8_t emu_site_cls[256] = {
    [0x66] = 1, [0x67] = 1, [0xf2] = 1, [0xf3] = 1, [0xf0] = 1, [0x2e] = 1, [0x36] = 1, [0x3e] = 1,
    [0x26] = 1, [0x64] = 1, [0x65] = 1, [0x40] = 2, [0x41] = 2, [0x42] = 2, [0x43] = 2, [0x44] = 2,
    [0x45] = 2, [0x46] = 2, [0x47] = 2, [0x48] = 2, [0x49] = 2, [0x4a] = 2, [0x4b] = 2, [0x4c] = 2,
    [0x4d] = 2, [0x4e] = 2, [0x4f] = 2, [0xe8] = 4, [0xff] = 4, [0xc3] = 4, [0xc2] = 4};

size_t emu_site_ops(uint16_t *ops) {
  size_t n = 0;
  for (unsigned b = 0; b < 256; b++)
    if (emu_site_cls[b] & 4) ops[n++] = (uint16_t)b;
  ops[n++] = 0xc3, ops[n++] = 0xcc; /* the trap page's bytes (ret is also of class 4) */
  return n;
}

int emu_insn_site(const uint8_t *p, size_t n, uint64_t addr, emu_site *s) {
  size_t i = 0;
  int legacy = 0;
  uint8_t rex = 0; /* only a REX right before the opcode counts (SDM vol. 2, 2.2.1) */
  for (; i < n && i < 14 && (emu_site_cls[p[i]] & 3); i++) {
    if (emu_site_cls[p[i]] & 1)
      legacy = 1, rex = 0;
    else
      rex = p[i];
  }
  if (i >= n || !(emu_site_cls[p[i]] & 4)) return 0; /* most instructions: no call, no return */
  uint8_t op = p[i++];
  int is_call = op == 0xe8 || (op == 0xff && i < n && ((p[i] >> 3) & 7) == 2);
  int is_ret = op == 0xc3 || op == 0xc2;
  if (!is_call && !is_ret) return 0;
  if (legacy) return -1;
  s->addr = addr;
  s->size = (uint32_t)n;
  s->imm = 0, s->reg = 0, s->index = 0, s->scale = 0, s->disp = 0, s->opsize = 0;
  if (is_ret) {
    s->kind = SITE_RET;
    return 1;
  }
  if (op == 0xe8) {
    if (i + 4 > n) return -1;
    int32_t rel;
    memcpy(&rel, p + i, 4);
    s->kind = SITE_IMM;
    s->imm = addr + n + (uint64_t)(int64_t)rel;
    return 1;
  }
  uint8_t m = p[i++], mod = m >> 6, rm = (uint8_t)((m & 7) | ((rex & 1) << 3));
  if (mod == 3) {
    s->kind = SITE_REG;
    s->reg = emu_uc_gpr((af_reg)rm);
    return 1;
  }
  s->kind = SITE_MEM;
  s->opsize = 8;
  if ((m & 7) == 4) { /* SIB */
    if (i >= n) return -1;
    uint8_t sib = p[i++];
    int idx = ((sib >> 3) & 7) | ((rex & 2) << 2), base = (sib & 7) | ((rex & 1) << 3);
    s->scale = 1 << (sib >> 6);
    s->index = idx == 4 ? 0 : emu_uc_gpr((af_reg)idx); /* 100 without REX.X: no index */
    if (idx == 4) s->scale = 1;
    s->reg = (sib & 7) == 5 && mod == 0 ? 0 : emu_uc_gpr((af_reg)base);
    if ((sib & 7) == 5 && mod == 0) mod = 2; /* disp32, no base */
  } else if ((m & 7) == 5 && mod == 0) {
    s->reg = -1; /* RIP + disp32 */
    mod = 2;
  } else {
    s->reg = emu_uc_gpr((af_reg)rm);
  }
  if (mod == 1) {
    if (i + 1 > n) return -1;
    s->disp = (int8_t)p[i];
  } else if (mod == 2) {
    if (i + 4 > n) return -1;
    int32_t d;
    memcpy(&d, p + i, 4);
    s->disp = d;
  }
  return 1;
}

#else
typedef int emu_decode_unused; /* ISO C: no empty translation unit */
#endif
