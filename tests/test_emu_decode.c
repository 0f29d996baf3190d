/* test_emu_decode.c - the emulator's decoders (emu_decode.c: the scan's lengths, the call and
 * return sites xi's instruction hook finds) agree with Capstone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "emu_internal.h"
#include "gen.h"
#include "leg_testlib.h"
#include "legs.h"
#include "debug.h"

/* What the decoder promises (emu_internal.h): where it gives a length, Capstone decodes an
 * instruction of that length there, which is no call, return, x87 load/store and carries no
 * VEX/EVEX/XOP prefix (the scan would hook or skip it). */
typedef struct {
  csh cs;
  cs_insn *in;
  long fast, slow, bad;
  csh csd; /* with detail, for the sites */
  cs_insn *ind;
  long sites, site_slow, site_bad;
} cmp_state;

static int is_site_id(unsigned id) {
  return id == X86_INS_CALL || id == X86_INS_RET || id == X86_INS_FLD || id == X86_INS_FST ||
         id == X86_INS_FSTP || id == X86_INS_LCALL || id == X86_INS_RETF;
}

static int vex_start(const uint8_t *b, size_t n) {
  size_t i = 0;
  while (i < n && (b[i] == 0x66 || b[i] == 0x67 || b[i] == 0xf2 || b[i] == 0xf3 || b[i] == 0xf0 ||
                   b[i] == 0x2e || b[i] == 0x36 || b[i] == 0x3e || b[i] == 0x26 || b[i] == 0x64 ||
                   b[i] == 0x65))
    i++;
  return i < n && (b[i] == 0xc4 || b[i] == 0xc5 || b[i] == 0x62 || b[i] == 0x8f);
}

/* emu_insn_site at an instruction Capstone decodes (len bytes at p): a call or return must be
 * found (or left to Capstone, -1) with Capstone's operand; anything else must not be one. */
static void check_site(cmp_state *s, const uint8_t *p, size_t len, const char *where) {
  const uint8_t *cp = p;
  size_t cn = len;
  uint64_t a = 0x7f0000001000ull;
  if (!cs_disasm_iter(s->csd, &cp, &cn, &a, s->ind) || s->ind->size != len) return;
  unsigned id = s->ind->id;
  emu_site mine, ref;
  int k = emu_insn_site(p, len, 0x7f0000001000ull, &mine);
  int want = id == X86_INS_CALL || id == X86_INS_RET;
  const char *bad = NULL;
  if ((k || want) && !emu_insn_maybe_site(p, len)) {
    bad = "emu_insn_maybe_site rejects it";
  } else if (k < 0) {
    s->site_slow++;
    return; /* Capstone decides: the hook asks it */
  } else if (k != want) {
    bad = k ? "a site Capstone does not call a call or return" : "a call or return missed";
  } else if (k && id == X86_INS_RET) {
    s->sites++;
    if (mine.kind != SITE_RET) bad = "a return of another kind";
  } else if (k) {
    s->sites++;
    if (emu_site_from_cs(s->ind, 0, &ref))
      bad = "Capstone's operand is not one the emulator follows";
    else if (mine.kind != ref.kind || mine.imm != ref.imm || mine.reg != ref.reg ||
             mine.index != ref.index || (mine.index && mine.scale != ref.scale) ||
             mine.disp != ref.disp || mine.size != ref.size)
      bad = "operand differs";
  }
  if (bad && s->site_bad++ < 10) {
    char hex[64] = "";
    for (size_t i = 0; i < len && i < 15; i++)
      snprintf(hex + strlen(hex), sizeof hex - strlen(hex), "%02x", p[i]);
    CHECKF(0, "%s: bytes %s (%s %s): %s (kind %d reg %d index %d scale %d disp %lld imm 0x%llx)",
           where, hex, s->ind->mnemonic, s->ind->op_str, bad, mine.kind, mine.reg, mine.index,
           mine.scale, (long long)mine.disp, (unsigned long long)mine.imm);
  }
}

/* One position: compares; returns Capstone's length (0: it could not decode). */
static size_t check_at(cmp_state *s, const uint8_t *p, size_t n, const char *where) {
  const uint8_t *cp = p;
  size_t cn = n;
  uint64_t a = 0x1000;
  size_t mine = emu_insn_len(p, n);
  size_t cs_len = cs_disasm_iter(s->cs, &cp, &cn, &a, s->in) ? s->in->size : 0;
  if (cs_len) check_site(s, p, cs_len, where);
  if (mine) {
    s->fast++;
    if (mine != cs_len || is_site_id(s->in->id) || vex_start(p, mine)) {
      if (s->bad++ < 10) {
        char hex[64] = "";
        for (size_t i = 0; i < n && i < 15; i++)
          snprintf(hex + strlen(hex), sizeof hex - strlen(hex), "%02x", p[i]);
        CHECKF(0, "%s: bytes %s: decoder %zu, capstone %zu (%s %s)", where, hex, mine, cs_len,
               cs_len ? s->in->mnemonic : "-", cs_len ? s->in->op_str : "");
      }
    }
  } else {
    s->slow++;
  }
  return cs_len;
}

int main(int argc, char **argv) {
  int ncases = argc > 1 ? atoi(argv[1]) : 400;
  cmp_state s = {0};
  CHECK(cs_open(CS_ARCH_X86, CS_MODE_64, &s.cs) == CS_ERR_OK);
  s.in = cs_malloc(s.cs);
  CHECK(cs_open(CS_ARCH_X86, CS_MODE_64, &s.csd) == CS_ERR_OK);
  cs_option(s.csd, CS_OPT_DETAIL, CS_OPT_ON);
  s.ind = cs_malloc(s.csd);
  /* 1: the JIT's code of generated cases, both conventions, divergent constructs on for half */
  af_legs_cfg cfg;
  memset(&cfg, 0, sizeof cfg);
  long insns = 0;
  for (int i = 0; i < ncases; i++) {
    af_gen_opts o;
    af_gen_opts_default(&o);
    o.cc = (i & 1) ? AF_CC_WIN64 : AF_CC_SYSV;
    o.allow_divergent = (i & 2) != 0;
    af_job *j = tl_job_gen(&o, 0xdec0de, (uint64_t)i, &cfg);
    if (!j) continue;
    af_jit *jit = NULL;
    af_error err = {{0}};
    if (af_leg_compile(j, NULL, &jit, &err) == AF_OK) {
      for (int k = 0; k < j->c.nfuncs; k++) {
        jit_debug_fn d;
        if (j->c.funcs[k].host || jit_debug_describe(jit, k, &d, &err) != AF_OK) continue;
        const uint8_t *p = (const uint8_t *)(uintptr_t)d.addr;
        size_t n = (size_t)d.size;
        while (n) { /* the scan's walk: Capstone's instruction boundaries */
          size_t len = check_at(&s, p, n, "jit code");
          if (!len) len = 1;
          p += len;
          n -= len;
          insns++;
        }
      }
      af_jit_free(jit);
    }
    af_job_unref(j);
  }
  printf("jit code: %ld instructions, %ld measured by the decoder, %ld by Capstone\n", insns,
         s.fast, s.slow);
  CHECKF(insns > 1000, "only %ld instructions scanned", insns);
  CHECKF(s.fast * 10 > insns * 8, "the decoder measured only %ld of %ld", s.fast, insns);
  printf("jit code: %ld calls and returns found by emu_insn_site, %ld left to Capstone\n", s.sites,
         s.site_slow);
  CHECKF(s.sites > 100, "only %ld call and return sites in the JIT's code", s.sites);
  long sites0 = s.sites;
  /* 2: random bytes, biased to the opcodes and prefixes the decoder knows: every position */
  uint64_t x = 0x9e3779b97f4a7c15ull;
  static const uint8_t pick[] = {0x66, 0xf2, 0xf3, 0x48, 0x4c, 0x41, 0x0f, 0x0f, 0x0f, 0x89,
                                 0x8b, 0x8d, 0xc7, 0xc6, 0x81, 0x83, 0xf7, 0xff, 0xe8, 0xc3,
                                 0xd9, 0xdd, 0x10, 0x11, 0x58, 0x2a, 0x6e, 0x7e, 0xb8, 0x04,
                                 0x05, 0x24, 0x25, 0x44, 0x84, 0x94, 0xc4, 0x62, 0x8f, 0x38};
  long fast0 = s.fast;
  for (int r = 0; r < 200000; r++) {
    uint8_t b[16];
    for (int i = 0; i < 16; i++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      b[i] = (x & 1) ? pick[(x >> 8) % sizeof pick] : (uint8_t)(x >> 24);
    }
    check_at(&s, b, 1 + (size_t)((x >> 40) % 16), "random bytes");
  }
  printf("random bytes: %ld measured by the decoder, %ld sites found\n", s.fast - fast0,
         s.sites - sites0);
  CHECKF(s.fast - fast0 > 20000, "the decoder measured only %ld random instructions",
         s.fast - fast0);
  cs_free(s.in, 1);
  cs_close(&s.cs);
  cs_free(s.ind, 1);
  cs_close(&s.csd);
  return check_done();
}
