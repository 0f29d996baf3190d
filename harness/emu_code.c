/* emu_code.c - the case's code in the engine (xi or Unicorn): its mappings, the scan for hooks. */
#include <stdlib.h>
#include <string.h>

#include "emu.h"

#if defined(AF_HAVE_UNICORN) && defined(AF_HAVE_CAPSTONE)

#include "debug.h"
#include "emu_internal.h"

/* ---- code: mapping and the Capstone scan ------------------------------------------------ */
/* Maps [addr, addr+size) rounded to pages, merged with what is already mapped. */
static int code_add(af_emu *e, uint64_t addr, uint64_t size) {
  uint64_t lo = addr & ~(uint64_t)(EMU_PAGE - 1);
  uint64_t hi = (addr + size + EMU_PAGE - 1) & ~(uint64_t)(EMU_PAGE - 1);
  for (int i = 0; i < e->ncode; i++) {
    if (hi <= e->code[i].lo || lo >= e->code[i].hi) continue;
    if (lo >= e->code[i].lo && hi <= e->code[i].hi) return 0;
    /* partial overlap: map only the missing pages */
    if (lo < e->code[i].lo && code_add(e, lo, e->code[i].lo - lo)) return -1;
    if (hi > e->code[i].hi) return code_add(e, e->code[i].hi, hi - e->code[i].hi);
    return 0;
  }
  return emu_map(e, lo, hi, UC_PROT_READ | UC_PROT_EXEC);
}

static void kept_drop(af_emu *e, int i) {
  eng_mem_unmap(&e->g, e->kept[i].lo, e->kept[i].hi - e->kept[i].lo);
  e->kept[i] = e->kept[--e->nkept];
  e->kept_prot[i] = e->kept_prot[e->nkept];
}

int emu_map(af_emu *e, uint64_t lo, uint64_t hi, uint32_t prot) {
  if (e->ncode >= EMU_MAX_CODE) return -1;
  int reuse = 0;
  for (int i = 0; i < e->nkept; i++) {
    if (lo >= e->kept[i].hi || hi <= e->kept[i].lo) continue;
    if (lo == e->kept[i].lo && hi == e->kept[i].hi && prot == e->kept_prot[i]) {
      e->kept[i] = e->kept[--e->nkept];
      e->kept_prot[i] = e->kept_prot[e->nkept];
      reuse = 1;
      break;
    }
    kept_drop(e, i--); /* overlaps: in the way */
  }
  if (!reuse && eng_mem_map_ptr(&e->g, lo, hi - lo, prot, (void *)(uintptr_t)lo)) return -1;
  e->code[e->ncode].lo = lo;
  e->code_prot[e->ncode] = prot;
  e->code[e->ncode++].hi = hi;
  return 0;
}

/* Unmaps what the run did not reuse of the previous run's mappings. */
void emu_drop_kept(af_emu *e) {
  while (e->nkept)
    kept_drop(e, e->nkept - 1);
}

void emu_code_unmap(af_emu *e) {
  emu_drop_kept(e);
  for (int i = 0; i < e->ncode; i++) { /* kept mapped for the next run (emu_map) */
    eng_remove_cache(&e->g, e->code[i].lo, e->code[i].hi);
    e->kept[i] = e->code[i];
    e->kept_prot[i] = e->code_prot[i];
  }
  e->nkept = e->ncode;
  e->ncode = 0;
  for (int i = 0; i < e->nsites; i++)
    eng_hook_del(&e->g, e->sites[i].h);
  e->nsites = 0;
  if (e->starts_used) memset(e->starts, 0, (size_t)(e->starts_used / 64) * 8);
  e->starts_used = 0;
  e->nscan = 0;
}

/* A range of bits in e->starts for the instruction starts of [addr, addr+size); NULL when out
 * of memory or ranges (the budget then counts that code's blocks as one instruction each), and
 * under xi, which counts instructions itself (no block hook). */
static uint64_t *starts_range(af_emu *e, uint64_t addr, uint64_t size) {
  if (e->nscan >= EMU_MAX_SCAN || eng_is_xi(&e->g)) return NULL;
  uint64_t words = (size + 63) / 64, first = e->starts_used / 64;
  if (first + words > e->starts_words) {
    size_t n = (size_t)(first + words) * 2;
    uint64_t *p = realloc(e->starts, n * 8);
    if (!p) return NULL;
    memset(p + e->starts_words, 0, (n - e->starts_words) * 8);
    e->starts = p;
    e->starts_words = n;
  }
  e->scan[e->nscan].lo = addr;
  e->scan[e->nscan].hi = addr + size;
  e->scan[e->nscan++].bit = first * 64;
  e->starts_used = (first + words) * 64;
  return e->starts + first;
}

/* Capstone's register -> Unicorn's, for the 64-bit GPRs a call operand may use; -1: RIP. */
static int cs_to_uc(unsigned r) {
  switch (r) {
  case X86_REG_RAX: return UC_X86_REG_RAX;
  case X86_REG_RCX: return UC_X86_REG_RCX;
  case X86_REG_RDX: return UC_X86_REG_RDX;
  case X86_REG_RBX: return UC_X86_REG_RBX;
  case X86_REG_RSP: return UC_X86_REG_RSP;
  case X86_REG_RBP: return UC_X86_REG_RBP;
  case X86_REG_RSI: return UC_X86_REG_RSI;
  case X86_REG_RDI: return UC_X86_REG_RDI;
  case X86_REG_R8: return UC_X86_REG_R8;
  case X86_REG_R9: return UC_X86_REG_R9;
  case X86_REG_R10: return UC_X86_REG_R10;
  case X86_REG_R11: return UC_X86_REG_R11;
  case X86_REG_R12: return UC_X86_REG_R12;
  case X86_REG_R13: return UC_X86_REG_R13;
  case X86_REG_R14: return UC_X86_REG_R14;
  case X86_REG_R15: return UC_X86_REG_R15;
  case X86_REG_RIP: return -1;
  default: return 0;
  }
}

/* VEX (C4/C5) or EVEX (62) or XOP (8F) after the legacy prefixes: in 64-bit mode these bytes
 * are always such a prefix (LES/LDS/BOUND do not exist there; 8F /0 is POP r/m, told apart by
 * the ModRM reg field). */
static int is_vex(const cs_insn *in) {
  uint16_t i = 0;
  while (i < in->size && (in->bytes[i] == 0x66 || in->bytes[i] == 0x67 || in->bytes[i] == 0xf2 ||
                          in->bytes[i] == 0xf3 || in->bytes[i] == 0xf0 || in->bytes[i] == 0x2e ||
                          in->bytes[i] == 0x36 || in->bytes[i] == 0x3e || in->bytes[i] == 0x26 ||
                          in->bytes[i] == 0x64 || in->bytes[i] == 0x65))
    i++;
  if (i >= in->size) return 0;
  uint8_t b = in->bytes[i];
  if (b == 0xc4 || b == 0xc5 || b == 0x62) return 1;
  return b == 0x8f && i + 1 < in->size && (in->bytes[i + 1] & 0x38) != 0;
}

const char *emu_site_from_cs(const cs_insn *in, int x87, emu_site *s) {
  const cs_x86_op *op = &in->detail->x86.operands[0];
  memset(s, 0, sizeof *s);
  s->addr = in->address;
  s->size = in->size;
  if (op->type == X86_OP_IMM) {
    s->kind = SITE_IMM;
    s->imm = (uint64_t)op->imm;
  } else if (op->type == X86_OP_REG) {
    s->kind = SITE_REG;
    s->reg = cs_to_uc(op->reg);
    if (s->reg <= 0) return "emu: a call through an unexpected register";
  } else {
    s->kind = !x87 ? SITE_MEM : in->id == X86_INS_FLD ? SITE_FLD : SITE_FST;
    s->opsize = op->size;
    s->reg = op->mem.base == X86_REG_INVALID ? 0 : cs_to_uc(op->mem.base);
    s->index = op->mem.index == X86_REG_INVALID ? 0 : cs_to_uc(op->mem.index);
    s->scale = op->mem.scale;
    s->disp = op->mem.disp;
    if (op->mem.segment != X86_REG_INVALID || s->index < 0)
      return "emu: an unexpected memory operand";
  }
  return NULL;
}

/* Scans function k's code: VEX anywhere -> "not emulable (AVX)"; every call is a site. */
const char *emu_scan_fn(af_emu *e, uint64_t addr, uint64_t size, cs_insn *in) {
  const uint8_t *p = (const uint8_t *)(uintptr_t)addr;
  size_t n = (size_t)size;
  uint64_t a = addr;
  uint64_t *starts = starts_range(e, addr, size);
  while (n) {
    /* most instructions: measured here, without Capstone (emu_decode.c) */
    size_t len = emu_insn_len(p, n);
    if (len) {
      if (starts) starts[(a - addr) / 64] |= 1ull << ((a - addr) % 64);
      p += len;
      n -= len;
      a += len;
      continue;
    }
    if (!cs_disasm_iter(e->cs, &p, &n, &a, in)) { /* undecodable byte: step over it */
      p++;
      n--;
      a++;
      continue;
    }
    if (starts) starts[(in->address - addr) / 64] |= 1ull << ((in->address - addr) % 64);
    if (is_vex(in)) return "not emulable (AVX)";
    if (in->id == X86_INS_RET) { /* a JIT callee's obligations are checked at its return */
      if (e->nsites >= EMU_MAX_SITES) return "emu: too many call sites";
      emu_site *s = &e->sites[e->nsites];
      memset(s, 0, sizeof *s);
      s->e = e;
      s->addr = in->address;
      s->size = in->size;
      s->kind = SITE_RET;
      if (eng_hook_add(&e->g, &s->h, UC_HOOK_CODE, (void *)emu_hooks_ret, s, s->addr, s->addr))
        return "emu: cannot hook a return";
      e->nsites++;
      continue;
    }
    /* x87 loads and stores of f32/f64: Unicorn 2.0.1 converts a signalling NaN between formats
     * without quieting it, where the hardware (and the interpreter's C conversion) sets the
     * quiet bit; hooked, and only an sNaN is handled (emu_hooks_x87) */
    int x87 = !eng_is_xi(&e->g) && /* xi converts on the host's x87, which quiets them */
              (in->id == X86_INS_FLD || in->id == X86_INS_FSTP || in->id == X86_INS_FST);
    if (in->id != X86_INS_CALL && !x87) continue;
    /* again, with Capstone's operand detail */
    const uint8_t *cp = p - in->size;
    size_t cn = in->size;
    uint64_t ca = a - in->size;
    cs_option(e->cs, CS_OPT_DETAIL, CS_OPT_ON);
    int ok = cs_disasm_iter(e->cs, &cp, &cn, &ca, in);
    cs_option(e->cs, CS_OPT_DETAIL, CS_OPT_OFF);
    if (!ok || !in->detail) return "emu: cannot decode a call";
    const cs_x86_op *op = &in->detail->x86.operands[0];
    if (x87 && (op->type != X86_OP_MEM || (op->size != 4 && op->size != 8))) continue;
    if (e->nsites >= EMU_MAX_SITES) return "emu: too many call sites";
    emu_site *s = &e->sites[e->nsites];
    const char *why = emu_site_from_cs(in, x87, s);
    if (why) return why;
    s->e = e;
    if (eng_hook_add(&e->g, &s->h, UC_HOOK_CODE,
                     x87 ? (void *)emu_hooks_x87 : (void *)emu_hooks_call_site, s, s->addr,
                     s->addr))
      return "emu: cannot hook a call site";
    e->nsites++;
  }
  return NULL;
}

const char *emu_load_code(af_emu *e) {
  cs_insn *in = e->cs_in;
  const char *why = NULL;
  for (int k = 0; k < e->c->nfuncs && !why; k++) {
    if (e->c->funcs[k].host) continue;
    jit_debug_fn d;
    af_error err;
    if (jit_debug_describe(e->jit, k, &d, &err) != AF_OK) {
      why = "emu: the JIT does not describe a function";
      break;
    }
    if (code_add(e, d.addr, d.size)) why = "emu: cannot map the code";
    /* hook_all: calls and returns are found as they run (emu_hooks_insn) */
    if (!why && !e->hook_all) why = emu_scan_fn(e, d.addr, d.size, in);
  }
  e->stats.call_sites += (uint64_t)e->nsites;
  /* code changed (and so did the hooks): no translation of an earlier case at these addresses
   * may survive. UC_CTL_TB_REMOVE_CACHE per range: a full UC_CTL_TB_FLUSH resets the whole
   * translation buffer (measured: ~60 ms of memset per case, ten times the run). xi: no-op. */
  for (int i = 0; i < e->ncode; i++)
    eng_remove_cache(&e->g, e->code[i].lo, e->code[i].hi);
  return why;
}

#endif
