/* emu_internal.h - private to the emulation leg (emu*.c): the engine, its memory and its hooks. */
#ifndef ABIFUZZ_HARNESS_EMU_INTERNAL_H
#define ABIFUZZ_HARNESS_EMU_INTERNAL_H

#if defined(AF_HAVE_UNICORN) && defined(AF_HAVE_CAPSTONE)

#include <capstone/capstone.h>
#include <string.h>
#include <unicorn/unicorn.h>

#include "emu.h"
#include "emu_engine.h"
#include "jit.h"

#define EMU_PAGE         4096u
#define EMU_STACK        (128u * 1024u) /* the stack the code runs on */
#define EMU_SCRATCH      (16u * 1024u)  /* its top: the entry's by-reference copies, sret buffer */
#define EMU_CALLER       256u /* the caller's frame between the argument area and scratch */
#define EMU_MXCSR        0x1f80u
#define EMU_FCW          0x037fu
#define EMU_SENTINEL_OFF 0x800u             /* the entry's return address: trap page + this */
#define EMU_TRAP_STRIDE  16u                /* host function k traps at trap page + 16 k */
#define EMU_MAX_SITES    512                /* call sites hooked per case */
#define EMU_MAX_FRAMES   64                 /* active JIT functions */
#define EMU_MAX_ALLOWED  34                 /* regions a frame may write outside itself */
#define EMU_MAX_CODE     32                 /* code mappings per case */
#define EMU_MAX_SCAN     (AF_MAX_FUNCS + 1) /* scanned code ranges: the functions, the stub */

/* The register image marshalling and the checks work on. */
typedef struct {
  uint64_t gpr[16]; /* indexed by af_reg AF_RAX..AF_R15 */
  uint8_t xmm[16][16];
  uint64_t rflags;
  uint32_t mxcsr;
} emu_regs;

/* call sites (IMM, REG, MEM: the operand), `ret`, x87 loads/stores of f32/f64 (FLD, FST) */
typedef enum { SITE_IMM, SITE_REG, SITE_MEM, SITE_RET, SITE_FLD, SITE_FST } site_kind;

struct af_emu;

/* An instruction found by Capstone that has a hook of its own; its hook's user data. */
typedef struct {
  struct af_emu *e;
  uint64_t addr;
  uint32_t size;
  site_kind kind;
  uint64_t imm; /* SITE_IMM: the target */
  int reg;      /* SITE_REG: UC register; SITE_MEM: base (0 none, -1 RIP) */
  int index, scale;
  int64_t disp;
  int opsize; /* FLD, FST: 4 or 8 */
  uc_hook h;
} emu_site;

typedef struct {
  uint64_t lo, hi;
} emu_range;

typedef struct {
  uint64_t lo, hi;
  int owned; /* a by-reference copy: the callee's, scribbled when it returns */
} emu_allowed;

/* An active JIT function: its entry RSP (where its return address lies), its incoming
 * argument area and what its caller let it write outside its own frame. */
typedef struct {
  int fn;         /* function index */
  uint64_t entry; /* RSP at its first instruction (the return address) */
  uint32_t args;  /* bytes of its incoming argument area (home space included) */
  int nallowed;
  emu_allowed allowed[EMU_MAX_ALLOWED]; /* sret buffer, by-reference copies, LOCALs */
  emu_regs at_call; /* a JIT callee's registers at the call, checked at its return */
  uint64_t sret;    /* the sret buffer its caller passed (0: none) */
  int stub;         /* emu-cc: the compiled caller stub's frame (SysV C, its own rules) */
} emu_frame;

/* One-per-case dedupe of memory findings (instruction address + check). */
#define EMU_MAX_SEEN 32
/* Findings places kept for the end of a run (emu_add): the hooks' findings take at most
 * AF_FINDINGS_MAX - EMU_RESERVE */
#define EMU_RESERVE 4

struct af_emu {
  af_emu_cfg cfg;
  emu_engine g; /* xi or Unicorn (cfg.engine); every call through emu_engine.h */
  csh cs;
  cs_insn *cs_in; /* Capstone's instruction buffer, with detail */
  uc_hook h_trap, h_write, h_read, h_bad, h_block, h_insn;
  /* Calls and returns are found as they run, by one code hook on every address
   * (emu_hooks_insn, emu_insn_site), filtered to the opcodes of calls, returns and the trap
   * page (emu_site_ops), instead of a Capstone scan of all the code ahead with a hook per
   * site: under xi, whose code hooks are a function call (doc/emulator.md "Cost") */
  int hook_all;
  uint8_t *stack, *objmem, *trap; /* mmap'd, page-aligned */
  uint8_t *objects[AF_MAX_OBJECTS];
  uint8_t *shadow; /* [EMU_STACK]: 1 = written in this run */
  /* [shadow_lo, shadow_hi): the offsets emu_mark set to 1 since the shadow was last cleared
   * (a run touches a few KiB of the 128: only those are cleared before the next run) */
  uint64_t shadow_lo, shadow_hi;
  af_emu_stats stats;
  uint64_t engine_runs; /* runs since the engine was opened */
  /* ---- the case in flight ---- */
  const af_job *j;
  const af_case *c;
  af_jit *jit;
  const char *leg;
  af_findings *fs;
  af_callinfo ci[AF_MAX_FUNCS];
  uint64_t fn_entry[AF_MAX_FUNCS]; /* af_jit_fn of each function (call targets, per call) */
  uint64_t gstate;                 /* the garbage generator's state (emu_garbage), seeded per run */
  int simd;                        /* the CPU has AVX2: emu_garbage_block's vector path */
  int ncode;
  emu_range code[EMU_MAX_CODE]; /* mapped code pages */
  uint32_t code_prot[EMU_MAX_CODE];
  /* the previous run's code mappings, still mapped: the JIT's code pool hands out the same
   * pages case after case, and a map + unmap pair is two rebuilds of Unicorn's flat view
   * (measured: 5% of a case). Reused when a run maps the very same range, else unmapped
   * before the run starts (emu_map, emu_drop_kept). */
  int nkept;
  emu_range kept[EMU_MAX_CODE];
  uint32_t kept_prot[EMU_MAX_CODE];
  int nsites;
  emu_site sites[EMU_MAX_SITES];
  /* Instruction starts of the scanned code (one bit a byte), for the instruction budget: the
   * block hook (emu_hooks_block) counts a block's instructions from them. scan[i] covers
   * [lo, hi) with its bits from bit `bit` of starts. */
  int nscan;
  struct {
    uint64_t lo, hi, bit;
  } scan[EMU_MAX_SCAN];
  uint64_t *starts;
  size_t starts_words;  /* allocated */
  uint64_t starts_used; /* bits handed out this case */
  uint64_t insns;       /* instructions counted this run */
  int budget_hit;       /* the block hook stopped the run: over cfg.max_insns */
  int nframes;
  emu_frame frames[EMU_MAX_FRAMES];
  uint64_t rsp0;        /* RSP at the entry's call */
  uint64_t scratch_lo;  /* [scratch_lo, stack end): the entry caller's scratch */
  uint64_t checked_ret; /* return address of the last call a call-site hook checked */
  int ncalls;           /* host calls so far */
  int stopped;          /* a hook stopped the run (a finding says why) */
  int running;          /* inside the engine's run: hooks' findings leave EMU_RESERVE places */
  /* cfg.timeout_us as a deadline the hooks check (emu_deadline_tick), 0: none; timed_out: a
   * hook found it passed and stopped the run */
  uint64_t deadline_ns;
  uint32_t ticks;
  int timed_out;
  uint64_t fault_addr; /* the invalid access the hook saw */
  int fault_type;
  int nseen;
  uint64_t seen[EMU_MAX_SEEN];
  /* emu-cc (af_emu_run_stub): the compiled caller stub in flight; 0 when the entry is called
   * directly */
  uint64_t stub, stub_size; /* S_call's code */
  int stub_escape;          /* the stub called outside its shared object and the case's code */
  int have_h_entry;
  uc_hook h_entry; /* the entry's first instruction (a stub that tail-calls it) */
};

/* emu_hooks.c */
void emu_hooks_code_trap(uc_engine *uc, uint64_t addr, uint32_t size, void *u);
void emu_hooks_call_site(uc_engine *uc, uint64_t addr, uint32_t size, void *u);
void emu_hooks_ret(uc_engine *uc, uint64_t addr, uint32_t size, void *u);
void emu_hooks_x87(uc_engine *uc, uint64_t addr, uint32_t size, void *u);
void emu_hooks_stub_entry(uc_engine *uc, uint64_t addr, uint32_t size, void *u);
void emu_hooks_insn(uc_engine *uc, uint64_t addr, uint32_t size, void *u); /* hook_all */
void emu_hooks_write(uc_engine *uc, uc_mem_type t, uint64_t addr, int size, int64_t v, void *u);
void emu_hooks_read(uc_engine *uc, uc_mem_type t, uint64_t addr, int size, int64_t v, void *u);
bool emu_hooks_bad(uc_engine *uc, uc_mem_type t, uint64_t addr, int size, int64_t v, void *u);

/* Canaries, as the native probe uses them: recognisable, different per register. */
#define CANARY_GPR 0xca5a11ee00c0de00ull
#define CANARY_XMM 0xc5c5c5c500000000ull

/* emu.c: shared helpers */
int emu_uc_gpr(af_reg r); /* UC register of a GPR or XMM af_reg */
void emu_regs_read(struct af_emu *e, emu_regs *r);
uint8_t *emu_reg_bytes(emu_regs *r, af_reg reg); /* a GPR's 8 or an XMM's 16 bytes */
void emu_add(struct af_emu *e, const char *check, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Garbage for every undefined register and stack byte: splitmix64 (Steele, Lea, Flood 2014)
 * from a state seeded per run from af_rng (cfg.garbage, the case's index), so a case's garbage
 * is reproducible. Inline and a few instructions a value: after every runtime-helper call the
 * leg writes 24 registers of it (measured: af_rng_next per value was 7% of an xi case). */
static inline uint64_t emu_garbage(struct af_emu *e) {
  uint64_t z = (e->gstate += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
/* The next n values of emu_garbage, in order, into out: after every runtime-helper call the
 * leg writes 40 (measured: ~13 host instructions a value one at a time, 9% of the leg). With
 * AVX2 (e->simd) four at a time; the values are the same (integer arithmetic mod 2^64). */
void emu_garbage_block(struct af_emu *e, uint64_t *out, size_t n);
/* Called by every hook: every 64th call, stops the run if its deadline has passed. */
void emu_deadline_check(struct af_emu *e); /* the clock read */
static inline void emu_deadline_tick(struct af_emu *e) {
  if (e->deadline_ns && !(++e->ticks & 63)) emu_deadline_check(e); /* xi: deadline_ns is 0 */
}
void emu_garbage_fill(struct af_emu *e, uint8_t *d, size_t n);
uint32_t emu_type_size(const af_case *c, int t); /* ptr: 8 */
int emu_in_stack(const struct af_emu *e, uint64_t a, uint64_t n);
int emu_in_objects(const struct af_emu *e, uint64_t a, uint64_t n);
/* Marks [a, a+n) of the stack's shadow map v (1: written in this run), clipped to the stack;
 * inline: the write hook marks every store. */
static inline void emu_mark(struct af_emu *e, uint64_t a, uint64_t n, uint8_t v) {
  uint64_t lo = (uint64_t)(uintptr_t)e->stack, hi = lo + EMU_STACK;
  uint64_t b = a + n;
  if (a < lo) a = lo;
  if (b > hi) b = hi;
  if (a >= b) return;
  uint8_t *p = e->shadow + (a - lo);
  size_t len = (size_t)(b - a);
  uint64_t w = 0x0101010101010101ull * v;
  if (len > 16) { /* most marks are one store's bytes: two overlapping stores instead */
    memset(p, v, len);
  } else if (len >= 8) {
    memcpy(p, &w, 8);
    memcpy(p + len - 8, &w, 8);
  } else if (len >= 4) {
    memcpy(p, &w, 4);
    memcpy(p + len - 4, &w, 4);
  } else {
    p[0] = p[len / 2] = p[len - 1] = v;
  }
  if (v && a - lo < e->shadow_lo) e->shadow_lo = a - lo;
  if (v && b - lo > e->shadow_hi) e->shadow_hi = b - lo;
}
int emu_seen(struct af_emu *e, uint64_t key); /* 1 if key was seen this case, else records */
const char *emu_fn_name(const struct af_emu *e, uint64_t addr, char *buf, size_t n);
/* Scans code for AVX (a skip reason), call sites and returns (hooked); NULL or why not. */
const char *emu_scan_fn(struct af_emu *e, uint64_t addr, uint64_t size, cs_insn *in);
/* The entry caller's scratch area, allocated upwards (16-aligned at least). */
typedef struct {
  uint64_t next; /* next free scratch byte */
} emu_scratch;
uint8_t *emu_scratch_alloc(struct af_emu *e, emu_scratch *s, uint32_t size, uint32_t align);
void emu_allow(emu_frame *f, uint64_t lo, uint64_t n); /* f may write [lo, lo+n) */
/* Bytes of a value of `type` that hold some leaf (1 at mask[base..]); padding stays 0. */
void emu_defined_mask(const af_case *c, int type, uint8_t *mask, uint32_t base);

/* The instruction at p (n bytes) may be a call or a return: its opcode, after any prefixes, is
 * one (emu_insn_site then decides). Inline: xi's instruction hook asks it of every instruction
 * it is called for (emu_site_ops). */
extern const uint8_t emu_site_cls[256]; /* emu_decode.c: 1 prefix, 2 REX, 4 call/ret opcode */
static inline int emu_insn_maybe_site(const uint8_t *p, size_t n) {
  if (!n) return 0;
  uint8_t c = emu_site_cls[p[0]];
  if (!(c & 3)) return c != 0; /* an opcode without prefix */
  if (c == 2 && n > 1 && !(emu_site_cls[p[1]] & 3))
    return emu_site_cls[p[1]] != 0; /* REX and the opcode: most instructions */
  size_t i = 0;
  while (i < n && i < 14 && (emu_site_cls[p[i]] & 3))
    i++;
  return i < n && (emu_site_cls[p[i]] & 4);
}

/* The opcodes the instruction hook acts on under xi (xi_hook_code_ops: it is called before
 * those only): every opcode emu_insn_maybe_site may say yes to after xi's one prefix and REX
 * (class 4 in emu_site_cls), and the trap page's bytes (its `ret`s, its int3 filler). Fills
 * ops (EMU_SITE_OPS_MAX places), returns how many. */
#define EMU_SITE_OPS_MAX 258
size_t emu_site_ops(uint16_t *ops);

/* emu_decode.c: the length of the plain instruction at p (none of a call, return, x87
 * access, VEX/EVEX/XOP; Capstone's length), or 0: ask Capstone. */
size_t emu_insn_len(const uint8_t *p, size_t n);
/* The instruction of n bytes at p (at guest address addr): 1 a call or a return (*s filled
 * but s->e and s->h: kind, addr, size, operand), 0 neither, -1 ask Capstone (unusual
 * prefixes). */
int emu_insn_site(const uint8_t *p, size_t n, uint64_t addr, emu_site *s);
/* emu_code.c: *s from Capstone's decoding (with detail) of a call or an x87 load/store; NULL
 * or why it cannot be hooked. */
const char *emu_site_from_cs(const cs_insn *in, int x87, emu_site *s);

/* emu_code.c: the case's code in the engine. Maps [lo, hi) (host memory at the same
 * address) for this run: a kept mapping of the same range and permissions is reused; 0 or -1. */
int emu_map(struct af_emu *e, uint64_t lo, uint64_t hi, uint32_t prot);
/* Maps and scans every non-host function of e->c (hooks its call sites, returns, x87
 * accesses) and drops stale translations; NULL or why the case cannot be emulated. */
const char *emu_load_code(struct af_emu *e);
void emu_drop_kept(struct af_emu *e);  /* unmaps kept mappings this run does not use */
void emu_code_unmap(struct af_emu *e); /* after a run: its code out of the engine */

/* emu_stub.c: emu-cc */
const char *emu_load_stub(struct af_emu *e); /* maps e->stub's shared object, scans S_call */
/* Registers and scratch for S_call(entry, args, ret) from the sentinel; *ret: the buffer. */
const char *emu_marshal_stub(struct af_emu *e, emu_regs *r, uint8_t **ret);

#endif
#endif
