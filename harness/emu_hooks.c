/* emu_hooks.c - the emulation leg's hooks: call sites, host-function traps, stack reads/writes. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#if defined(AF_HAVE_UNICORN) && defined(AF_HAVE_CAPSTONE)

#include "emu_internal.h"
#include "lower.h" /* the runtime helpers (jit_rt_*) the JIT code calls */
#include "probe.h" /* af_rt_probe: the shared compile calls the helpers through it */

/* ---- reading host memory a call operand names, without faulting ---------------------------- */
static int safe_read8(uint64_t addr, uint64_t *out) {
  struct iovec local = {out, 8}, remote = {(void *)(uintptr_t)addr, 8};
  if (process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == 8) return 0;
  if (errno == EFAULT) return -1;
  /* process_vm_readv refused (a seccomp filter, an old kernel): is the page mapped at all? */
  unsigned char vec[2];
  uintptr_t page = (uintptr_t)addr & ~(uintptr_t)(EMU_PAGE - 1);
  size_t len = ((uintptr_t)addr + 8 > page + EMU_PAGE) ? 2 * EMU_PAGE : EMU_PAGE;
  if (mincore((void *)page, len, vec)) return -1;
  memcpy(out, (const void *)(uintptr_t)addr, 8);
  return 0;
}

static void stop(af_emu *e) {
  e->stopped = 1;
  eng_emu_stop(&e->g);
}

static inline uint64_t reg64(af_emu *e, int ucreg) { return eng_reg64(&e->g, ucreg); }

static inline void set64(af_emu *e, int ucreg, uint64_t v) { eng_set64(&e->g, ucreg, v); }

/* Host function k's trap address, JIT function k's entry: which function a call target is,
 * -1 for neither. *host says which. */
static int target_fn(af_emu *e, uint64_t t, int *host) {
  uint64_t trap = (uint64_t)(uintptr_t)e->trap;
  *host = 0;
  if (t >= trap && t < trap + AF_MAX_FUNCS * EMU_TRAP_STRIDE && (t - trap) % EMU_TRAP_STRIDE == 0) {
    int k = (int)((t - trap) / EMU_TRAP_STRIDE);
    *host = 1;
    return k < e->c->nfuncs && e->c->funcs[k].host ? k : -1;
  }
  for (int k = 0; k < e->c->nfuncs; k++)
    if (!e->c->funcs[k].host && e->fn_entry[k] == t) return k;
  return -1;
}

/* The stack alignment a call to function k needs at the call instruction: 16 (psABI 3.2.2,
 * MS "x64 stack usage"), more when a stack argument is over-aligned. */
static uint64_t call_align(af_emu *e, int k) {
  uint64_t a = 16;
  if (k < 0) return a;
  const af_callinfo *ci = &e->ci[k];
  for (int i = 0; i < ci->nargs; i++)
    if (ci->args[i].kind == AF_LOC_STACK && ci->args[i].stack_align > a)
      a = ci->args[i].stack_align;
  return a;
}

/* ---- runtime helpers: run natively, as the SysV C functions they are ---------------------- */
static int ok_ptr(af_emu *e, uint64_t p, uint64_t n) {
  return emu_in_stack(e, p, n) || emu_in_objects(e, p, n);
}

static int ok_type(af_emu *e, uint64_t t) { return t < (uint64_t)e->c->ntypes; }

/* 1 if t is a helper (and it ran), 0 if not a helper. */
static int run_helper(af_emu *e, uint64_t t, uint64_t site) {
  uint64_t a0 = reg64(e, UC_X86_REG_RDI), a1 = reg64(e, UC_X86_REG_RSI),
           a2 = reg64(e, UC_X86_REG_RDX), a3 = reg64(e, UC_X86_REG_RCX),
           a4 = reg64(e, UC_X86_REG_R8);
  const af_case *c = e->c;
  uint64_t rax = emu_garbage(e), wrote = 0, wsize = 0;
  int bad = 0, known = 1;
  if (t == (uint64_t)(uintptr_t)jit_rt_fold) {
    int ty = (int)(uint32_t)a3;
    bad = !ok_type(e, (uint64_t)ty) || !ok_ptr(e, a2, emu_type_size(c, ty));
    if (!bad) rax = jit_rt_fold((const jit_rt *)(uintptr_t)a0, a1, (const void *)(uintptr_t)a2, ty);
  } else if (t == (uint64_t)(uintptr_t)jit_rt_fconv || t == (uint64_t)(uintptr_t)jit_rt_itof ||
             t == (uint64_t)(uintptr_t)jit_rt_ftoi) {
    int from = (int)(uint32_t)a2, to = (int)(uint32_t)a3;
    bad = !ok_type(e, (uint64_t)from) || !ok_type(e, (uint64_t)to) ||
          !ok_ptr(e, a0, c->types[to].size) || !ok_ptr(e, a1, c->types[from].size);
    if (!bad) {
      void (*f)(void *, const void *, int, int) =
          t == (uint64_t)(uintptr_t)jit_rt_fconv  ? jit_rt_fconv
          : t == (uint64_t)(uintptr_t)jit_rt_itof ? jit_rt_itof
                                                  : jit_rt_ftoi;
      f((void *)(uintptr_t)a0, (const void *)(uintptr_t)a1, from, to);
      wrote = a0;
      wsize = c->types[to].size;
    }
  } else if (t == (uint64_t)(uintptr_t)jit_rt_bf_get || t == (uint64_t)(uintptr_t)jit_rt_bf_set) {
    uint32_t bo = (uint32_t)a2;
    int bits = (int)(uint32_t)a3, ty = (int)(uint32_t)a4;
    bad = !ok_type(e, (uint64_t)ty) || ty >= AF_T_NSCALAR || bits < 0 || bits > 64 ||
          !ok_ptr(e, a0, 8) || !ok_ptr(e, a1, (bo + (uint32_t)bits + 7) / 8);
    if (!bad && t == (uint64_t)(uintptr_t)jit_rt_bf_get) {
      jit_rt_bf_get((void *)(uintptr_t)a0, (const void *)(uintptr_t)a1, bo, bits, ty);
      wrote = a0;
      wsize = c->types[ty].size;
    } else if (!bad) {
      bad = !ok_ptr(e, a0, (bo + (uint32_t)bits + 7) / 8);
      if (!bad) jit_rt_bf_set((void *)(uintptr_t)a0, (const void *)(uintptr_t)a1, bo, bits, ty);
    }
  } else {
    known = 0;
  }
  if (!known) return 0;
  e->stats.helper_calls++;
  char w[48];
  if (bad) {
    emu_add(e, "crash", emu_fn_name(e, site, w, sizeof w),
            "a runtime helper called with arguments outside the case's memory "
            "(rdi 0x%llx rsi 0x%llx rdx 0x%llx rcx 0x%llx)",
            (unsigned long long)a0, (unsigned long long)a1, (unsigned long long)a2,
            (unsigned long long)a3);
    stop(e);
    return 1;
  }
  if (wsize) emu_mark(e, wrote, wsize, 1);
  /* a SysV callee: every volatile register garbage afterwards (psABI 3.2.1) */
  /* the garbage in the order the registers were always written (emu_garbage_block: the same
   * values, several at a time) */
  static const af_reg vol[] = {AF_RCX, AF_RDX, AF_RSI, AF_RDI, AF_R8, AF_R9, AF_R10, AF_R11};
  uint64_t g[8 + 32]; /* the volatile GPRs', then the XMM registers' */
  emu_garbage_block(e, g, 8 + 32);
  xi_regs *xr = e->g.xr; /* xi: its register file in place */
  for (size_t i = 0; i < sizeof vol / sizeof vol[0]; i++) {
    if (xr)
      xr->gpr[vol[i]] = g[i];
    else
      set64(e, emu_uc_gpr(vol[i]), g[i]);
  }
  set64(e, UC_X86_REG_RAX, rax);
  if (xr)
    memcpy(xr->xmm, g + 8, 32 * 8);
  else
    for (int x = 0; x < 16; x++)
      eng_reg_write(&e->g, UC_X86_REG_XMM0 + x, &g[8 + 2 * x]);
  return 1;
}

/* ---- call sites ----------------------------------------------------------------------------- */
/* The address a memory operand names (base, index, displacement; RIP-relative). */
static uint64_t operand_addr(af_emu *e, const emu_site *s, uint64_t addr, uint32_t size) {
  uint64_t a = (uint64_t)s->disp;
  if (s->reg == -1)
    a += addr + size;
  else if (s->reg)
    a += reg64(e, s->reg);
  if (s->index) a += reg64(e, s->index) * (uint64_t)s->scale;
  return a;
}

/* A JIT callee k's frame starts: RSP was at_call at the call (its return address lies just
 * below). It may also write its sret buffer and its by-reference copies, which lie in the
 * caller's frame. */
static void push_frame(af_emu *e, int k, uint64_t rsp) {
  while (e->nframes > 1 && e->frames[e->nframes - 1].entry < rsp)
    e->nframes--;
  if (e->nframes >= EMU_MAX_FRAMES) return;
  int from_stub = e->frames[e->nframes - 1].stub;
  emu_frame *f = &e->frames[e->nframes++];
  const af_callinfo *ci = &e->ci[k];
  const af_abi *abi = af_abi_get(e->c->funcs[k].sig.cc);
  memset(f, 0, sizeof *f);
  f->fn = k;
  f->entry = rsp - 8;
  f->args = ci->stack_bytes;
  emu_regs_read(e, &f->at_call);
  if (ci->sret) {
    f->sret = reg64(e, emu_uc_gpr(abi->sret_in));
    f->allowed[f->nallowed].owned = 0;
    f->allowed[f->nallowed].lo = f->sret;
    f->allowed[f->nallowed].hi =
        f->allowed[f->nallowed].lo + e->c->types[e->c->funcs[k].sig.ret].size;
    f->nallowed++;
  }
  /* ... and the regions its pointer arguments name (a LOCAL of the caller, gen.h) */
  for (int i = 0; i < ci->nargs && f->nallowed < EMU_MAX_ALLOWED; i++) {
    const af_loc *l = &ci->args[i];
    int t = e->c->funcs[k].sig.params[i];
    /* emu-cc: a compiled caller may build a struct argument field by field, its padding never
     * written; the JIT reading it whole is no finding (the emu leg does not check the entry's
     * incoming arguments either: they lie above its RSP). So the argument's bytes count as
     * written, the slot's and the by-reference copy's. */
    if (from_stub && l->kind == AF_LOC_STACK)
      emu_mark(e, rsp + (uint64_t)l->stack_offset, emu_type_size(e->c, t), 1);
    if (l->kind != AF_LOC_REF && t != AF_T_PTR) continue;
    uint64_t p = 0;
    if (l->kind == AF_LOC_REG || (l->kind == AF_LOC_REF && l->nparts == 1))
      p = reg64(e, emu_uc_gpr(l->parts[0].reg));
    else if (emu_in_stack(e, rsp + (uint64_t)l->stack_offset, 8))
      memcpy(&p, (void *)(uintptr_t)(rsp + (uint64_t)l->stack_offset), 8);
    uint64_t n = l->kind == AF_LOC_REF ? emu_type_size(e->c, t) : AF_REGION_SIZE;
    if (from_stub && l->kind == AF_LOC_REF) emu_mark(e, p, n, 1);
    if (l->kind != AF_LOC_REF && !emu_in_stack(e, p, n))
      continue; /* an object, or a wrong pointer: nothing on the stack to allow */
    f->allowed[f->nallowed].lo = p;
    f->allowed[f->nallowed].hi = p + n;
    f->allowed[f->nallowed].owned = l->kind == AF_LOC_REF;
    f->nallowed++;
  }
}

void emu_hooks_call_site(uc_engine *uc, uint64_t addr, uint32_t size, void *u) {
  (void)uc;
  emu_site *s = u;
  af_emu *e = s->e;
  emu_deadline_tick(e);
  if (e->stopped) return;
  uint64_t rsp = reg64(e, UC_X86_REG_RSP), t = 0;
  char w[48];
  switch (s->kind) {
  case SITE_IMM: t = s->imm; break;
  case SITE_REG: t = reg64(e, s->reg); break;
  case SITE_RET:
  case SITE_FLD:
  case SITE_FST: return; /* not calls */
  case SITE_MEM: {
    uint64_t a = operand_addr(e, s, addr, size);
    if (safe_read8(a, &t)) {
      emu_add(e, "crash", emu_fn_name(e, addr, w, sizeof w),
              "call through unreadable memory at 0x%llx", (unsigned long long)a);
      stop(e);
      return;
    }
    break;
  }
  }
  /* The native legs' compile (af_leg_compile_native, shared with them) calls every runtime
   * helper as `mov r11, helper; mov r10, af_rt_probe; call r10` (jit.h rt_probe): the probe
   * would check the alignment and call R11; the call is checked here as any call (the
   * alignment below) and the helper in R11 runs as a direct call to it would. */
  if (t == (uint64_t)(uintptr_t)af_rt_probe) t = reg64(e, UC_X86_REG_R11);
  int host, k = target_fn(e, t, &host);
  uint64_t need = call_align(e, k);
  if (rsp % need && !emu_seen(e, addr ^ 0x5a00000000000000ull)) {
    char tw[48];
    emu_add(e, "stack-align", emu_fn_name(e, addr, w, sizeof w),
            "RSP at the call to %s is 0x%llx: %llu mod %llu", emu_fn_name(e, t, tw, sizeof tw),
            (unsigned long long)rsp, (unsigned long long)(rsp % need), (unsigned long long)need);
  }
  uint64_t next = addr + size;
  if (k < 0 && !host && run_helper(e, t, addr)) {
    if (!e->stopped) set64(e, UC_X86_REG_RIP, next);
    return;
  }
  if (k < 0 && !host && e->stub && af_jit_which(e->jit, (const void *)(uintptr_t)addr) < 0) {
    /* emu-cc: the stub calls something of the C library (memcpy through the PLT, say), which
     * the engine does not map: the case is skipped, not blamed */
    e->stub_escape = 1;
    stop(e);
    return;
  }
  /* the call itself: push the return address, go to the target (the table it reads through
   * is host memory the engine does not map) */
  if (!emu_in_stack(e, rsp - 8, 8)) {
    emu_add(e, "crash", emu_fn_name(e, addr, w, sizeof w), "call with RSP 0x%llx outside the stack",
            (unsigned long long)rsp);
    stop(e);
    return;
  }
  memcpy((void *)(uintptr_t)(rsp - 8), &next, 8);
  emu_mark(e, rsp - 8, 8, 1);
  set64(e, UC_X86_REG_RSP, rsp - 8);
  e->checked_ret = next;
  if (k >= 0 && !host) push_frame(e, k, rsp);
  set64(e, UC_X86_REG_RIP, t);
}

/* ---- every instruction (hook_all: xi) ------------------------------------------------------- */
/* Called before every instruction: a call or a return goes to its hook as if the scan had
 * hooked it (emu_code.c emu_scan_fn), with the site decoded now (emu_insn_site; Capstone when
 * it cannot tell); an instruction of the trap page to the trap's hook. */
static __attribute__((noinline)) void insn_site(uc_engine *uc, uint64_t addr, uint32_t size,
                                                af_emu *e) {
  if (addr - (uint64_t)(uintptr_t)e->trap < EMU_PAGE) {
    emu_hooks_code_trap(uc, addr, size, e);
    return;
  }
  if (!e->c) return;
  const uint8_t *p = (const uint8_t *)(uintptr_t)addr;
  emu_site s;
  int k = emu_insn_site(p, size, addr, &s);
  if (!k) return;
  if (k < 0) { /* unusual prefixes: Capstone decides */
    size_t n = size;
    uint64_t a = addr;
    cs_option(e->cs, CS_OPT_DETAIL, CS_OPT_ON);
    int ok = cs_disasm_iter(e->cs, &p, &n, &a, e->cs_in);
    cs_option(e->cs, CS_OPT_DETAIL, CS_OPT_OFF);
    if (!ok || (e->cs_in->id != X86_INS_CALL && e->cs_in->id != X86_INS_RET)) return;
    if (e->cs_in->id == X86_INS_RET) {
      memset(&s, 0, sizeof s);
      s.kind = SITE_RET;
    } else if (emu_site_from_cs(e->cs_in, 0, &s)) {
      char w[48];
      emu_add(e, "crash", emu_fn_name(e, addr, w, sizeof w),
              "a call the emulator cannot follow (%s %s)", e->cs_in->mnemonic, e->cs_in->op_str);
      stop(e);
      return;
    }
  }
  s.e = e;
  if (s.kind == SITE_RET) {
    emu_hooks_ret(uc, addr, size, &s);
  } else {
    e->stats.call_sites++;
    emu_hooks_call_site(uc, addr, size, &s);
  }
}

/* The common case (neither a trap nor a possible call or return) without a call or a saved
 * register. xi calls it only before the opcodes of emu_site_ops (xi_hook_code_ops): ~80 times
 * a case instead of ~1,550; the test here still decides (FF is also inc, dec, jmp, push). */
void emu_hooks_insn(uc_engine *uc, uint64_t addr, uint32_t size, void *u) {
  af_emu *e = u;
  if (addr - (uint64_t)(uintptr_t)e->trap >= EMU_PAGE &&
      !emu_insn_maybe_site((const uint8_t *)(uintptr_t)addr, size))
    return;
  insn_site(uc, addr, size, e);
}

/* ---- returns of JIT callees ------------------------------------------------------------------ */
/* A JIT function called by another is held to the same rules as the entry: RSP back at its
 * return address, its convention's callee-saved registers, DF and MXCSR as at the call. Then
 * what it owned during the call (the Win64 home space, its by-reference copies) is scribbled
 * and forgotten by the shadow map, as after a host call: a caller that reads it later reads
 * the callee's leftovers. */
void emu_hooks_ret(uc_engine *uc, uint64_t addr, uint32_t size, void *u) {
  (void)uc, (void)size;
  emu_site *s = u;
  af_emu *e = s->e;
  if (!e->c || e->stopped) return;
  uint64_t rsp = reg64(e, UC_X86_REG_RSP);
  while (e->nframes > 1 && e->frames[e->nframes - 1].entry < rsp)
    e->nframes--;
  if (e->nframes <= 1) return; /* the entry: checked after the run */
  emu_frame *f = &e->frames[e->nframes - 1];
  char w[48], what[64];
  if (f->entry != rsp) {
    if (!emu_seen(e, addr ^ (5ull << 56)))
      emu_add(e, "rsp", emu_fn_name(e, addr, w, sizeof w),
              "f%d returns with RSP at %+lld from its return address", f->fn,
              (long long)(rsp - f->entry));
    return; /* not the frame's own return: leave the record */
  }
  const af_abi *abi = af_abi_get(e->c->funcs[f->fn].sig.cc);
  emu_regs r;
  emu_regs_read(e, &r);
  for (int g = AF_RAX; g <= AF_R15; g++) {
    if (g == AF_RSP || !((abi->callee_saved >> g) & 1) || r.gpr[g] == f->at_call.gpr[g]) continue;
    snprintf(what, sizeof what, "%s (f%d's return)", af_reg_name((af_reg)g), f->fn);
    if (!emu_seen(e, ((uint64_t)g << 32) ^ (6ull << 56)))
      emu_add(e, "callee-saved", what, "0x%016llx at the call, 0x%016llx at the return",
              (unsigned long long)f->at_call.gpr[g], (unsigned long long)r.gpr[g]);
  }
  for (int x = 0; x < 16; x++) {
    if (!((abi->callee_saved >> (AF_XMM0 + x)) & 1) || !memcmp(r.xmm[x], f->at_call.xmm[x], 16))
      continue;
    snprintf(what, sizeof what, "%s (f%d's return)", af_reg_name((af_reg)(AF_XMM0 + x)), f->fn);
    if (!emu_seen(e, ((uint64_t)(AF_XMM0 + x) << 32) ^ (6ull << 56)))
      emu_add(e, "callee-saved", what, "changed between the call and the return");
  }
  if ((r.rflags & 0x400) && !emu_seen(e, 7ull << 56))
    emu_add(e, "df", emu_fn_name(e, addr, w, sizeof w), "f%d returns with DF set", f->fn);
  if (((r.mxcsr ^ f->at_call.mxcsr) & 0xffc0u) && !emu_seen(e, 8ull << 56))
    emu_add(e, "mxcsr", emu_fn_name(e, addr, w, sizeof w),
            "f%d returns with control bits 0x%04x, 0x%04x at the call", f->fn, r.mxcsr & 0xffc0u,
            f->at_call.mxcsr & 0xffc0u);
  if (e->ci[f->fn].sret && r.gpr[abi->sret_out] != f->sret && !emu_seen(e, 9ull << 56))
    emu_add(e, "sret-rax", emu_fn_name(e, addr, w, sizeof w),
            "f%d returns 0x%llx in %s, its sret buffer is 0x%llx", f->fn,
            (unsigned long long)r.gpr[abi->sret_out], af_reg_name(abi->sret_out),
            (unsigned long long)f->sret);
  uint64_t at_call = f->entry + 8;
  if (abi->home_space && emu_in_stack(e, at_call, (uint64_t)abi->home_space)) {
    emu_garbage_fill(e, (uint8_t *)(uintptr_t)at_call, (size_t)abi->home_space);
    emu_mark(e, at_call, (uint64_t)abi->home_space, 0);
  }
  for (int i = 0; i < f->nallowed; i++)
    if (f->allowed[i].owned &&
        emu_in_stack(e, f->allowed[i].lo, f->allowed[i].hi - f->allowed[i].lo)) {
      emu_garbage_fill(e, (uint8_t *)(uintptr_t)f->allowed[i].lo,
                       (size_t)(f->allowed[i].hi - f->allowed[i].lo));
      emu_mark(e, f->allowed[i].lo, f->allowed[i].hi - f->allowed[i].lo, 0);
    }
  e->nframes--;
}

/* ---- host functions: the callout probe's checks, the trace's answer ------------------------- */
/* Argument i's bytes into buf (NULL ref if not by reference); 0 ok, -1 unreadable. */
static int read_arg(af_emu *e, const af_loc *l, int t, emu_regs *r, uint64_t at_call, uint8_t *buf,
                    uint64_t *ref) {
  uint32_t size = emu_type_size(e->c, t);
  *ref = 0;
  switch (l->kind) {
  case AF_LOC_REG:
    for (int k = 0; k < l->nparts; k++)
      memcpy(buf + l->parts[k].offset, emu_reg_bytes(r, l->parts[k].reg), l->parts[k].size);
    return 0;
  case AF_LOC_STACK:
    if (!emu_in_stack(e, at_call + (uint64_t)l->stack_offset, size)) return -1;
    memcpy(buf, (void *)(uintptr_t)(at_call + (uint64_t)l->stack_offset), size);
    return 0;
  case AF_LOC_REF: {
    uint64_t a;
    if (l->nparts == 1) {
      memcpy(&a, emu_reg_bytes(r, l->parts[0].reg), 8);
    } else {
      if (!emu_in_stack(e, at_call + (uint64_t)l->stack_offset, 8)) return -1;
      memcpy(&a, (void *)(uintptr_t)(at_call + (uint64_t)l->stack_offset), 8);
    }
    if (!emu_in_stack(e, a, size) && !emu_in_objects(e, a, size)) return -1;
    *ref = a;
    memcpy(buf, (void *)(uintptr_t)a, size);
    return 0;
  }
  default: return 0;
  }
}

/* Pushes an f80 onto the x87 stack as a callee returning in ST0 leaves it. */
static void push_st0(af_emu *e, const uint8_t *v10) {
  uint64_t sw = reg64(e, UC_X86_REG_FPSW);
  unsigned top = (unsigned)((sw >> 11) & 7);
  top = (top - 1) & 7;
  sw = (sw & ~0x3800ull) | ((uint64_t)top << 11);
  eng_reg_write(&e->g, UC_X86_REG_FPSW, &sw);
  uint8_t st[16] = {0};
  memcpy(st, v10, 10);
  eng_reg_write(&e->g, UC_X86_REG_ST0, st);
}

/* ---- x87 conversions of signalling NaNs --------------------------------------------------------
 */
/* Unicorn 2.0.1 (QEMU 5 softfloat) leaves a signalling NaN signalling when FLD m32/m64 widens
 * it or FST(P) m32/m64 narrows it; the hardware quiets it (Intel SDM vol. 1, 4.8.3.4: an SNaN
 * operand of a conversion gives the QNaN of the same payload). Measured: f80 sNaN 7fff:a6e2..
 * stored as f64 gives 7ff4dc.. in Unicorn, 7ffcdc.. natively. Left alone, a BITCAST of the
 * result differs from the interpreter: a false "result". So an sNaN is quieted first. */
void emu_hooks_x87(uc_engine *uc, uint64_t addr, uint32_t size, void *u) {
  (void)uc;
  emu_site *s = u;
  af_emu *e = s->e;
  if (!e->c || e->stopped) return;
  if (s->kind == SITE_FST) { /* ST0 -> m32/m64: quiet ST0 first */
    uint8_t st[16] = {0};
    eng_reg_read(&e->g, UC_X86_REG_ST0, st);
    uint64_t m;
    uint16_t se;
    memcpy(&m, st, 8);
    memcpy(&se, st + 8, 2);
    if ((se & 0x7fff) == 0x7fff && (m >> 63) && !((m >> 62) & 1) && (m << 2)) {
      m |= 1ull << 62;
      memcpy(st, &m, 8);
      eng_reg_write(&e->g, UC_X86_REG_ST0, st);
    }
    return;
  }
  uint64_t a = operand_addr(e, s, addr, size);
  uint32_t n = (uint32_t)s->opsize;
  if (!emu_in_stack(e, a, n) && !emu_in_objects(e, a, n)) return; /* Unicorn faults on it */
  long double x;
  if (n == 4) {
    uint32_t b;
    memcpy(&b, (void *)(uintptr_t)a, 4);
    if ((b & 0x7f800000u) != 0x7f800000u || (b & 0x00400000u) || !(b & 0x003fffffu)) return;
    b |= 0x00400000u; /* the sNaN's quiet twin, widened with its payload */
    float f;
    memcpy(&f, &b, 4);
    x = f;
  } else {
    uint64_t b;
    memcpy(&b, (void *)(uintptr_t)a, 8);
    if ((b & 0x7ff0000000000000ull) != 0x7ff0000000000000ull || ((b >> 51) & 1) ||
        !(b & 0x0007ffffffffffffull))
      return;
    b |= 1ull << 51;
    double d;
    memcpy(&d, &b, 8);
    x = d;
  }
  uint8_t v[16] = {0};
  memcpy(v, &x, 10);
  push_st0(e, v); /* the FLD, done here */
  set64(e, UC_X86_REG_RIP, addr + size);
}

/* The places of a host call's findings, formatted when a finding is made: a host call with
 * none (nearly all) formats nothing (measured: snprintf per argument was ~10% of the leg). */
static const char *call_what(char *buf, size_t n, int call, int k) {
  snprintf(buf, n, "call %d to f%d", call, k);
  return buf;
}

static const char *arg_what(char *buf, size_t n, int i, int call, int k) {
  snprintf(buf, n, "arg %d of call %d to f%d", i, call, k);
  return buf;
}

static void host_call(af_emu *e, int k) {
  const af_case *c = e->c;
  const af_sig *sig = &c->funcs[k].sig;
  const af_callinfo *ci = &e->ci[k];
  const af_abi *abi = af_abi_get(sig->cc);
  emu_regs r;
  emu_regs_read(e, &r);
  int n = e->ncalls++;
  e->stats.host_calls++;
  uint64_t at_call = r.gpr[AF_RSP] + 8, ra = 0;
  if (emu_in_stack(e, r.gpr[AF_RSP], 8)) memcpy(&ra, (void *)(uintptr_t)r.gpr[AF_RSP], 8);
  char what[64]; /* "call N to fK": formatted only for a finding (call_what) */
  uint64_t need = call_align(e, k);
  if (ra != e->checked_ret && at_call % need) /* a call no call-site hook saw */
    emu_add(e, "stack-align", call_what(what, sizeof what, n, k),
            "RSP at the call is 0x%llx: %llu mod %llu", (unsigned long long)at_call,
            (unsigned long long)(at_call % need), (unsigned long long)need);
  if (r.rflags & 0x400)
    emu_add(e, "df", call_what(what, sizeof what, n, k), "DF set at the call (psABI 3.2.1)");
  if ((r.mxcsr ^ EMU_MXCSR) & 0xffc0u)
    emu_add(e, "mxcsr", call_what(what, sizeof what, n, k),
            "control bits 0x%04x at the call, expected 0x%04x", r.mxcsr & 0xffc0u,
            EMU_MXCSR & 0xffc0u);
  if (abi->vararg_al && sig->variadic) { /* psABI 3.5.7 */
    unsigned al = (unsigned)(r.gpr[AF_RAX] & 0xff);
    if (al < (unsigned)ci->sse_used || al > 8)
      emu_add(e, "vararg-al", call_what(what, sizeof what, n, k),
              "AL = %u, %d vector register(s) used (AL must be in %d..8)", al, ci->sse_used,
              ci->sse_used);
  }
  const af_host_call *hc = NULL;
  const af_interp_result *want = &e->j->want;
  if (n < want->nhost_calls) {
    hc = &want->host_calls[n];
    if (hc->callee != k) {
      emu_add(e, "host-calls", call_what(what, sizeof what, n, k), "the trace's call %d is to f%d",
              n, hc->callee);
      hc = NULL;
    }
  }
  uint64_t ptrs[AF_MAX_PARAMS] = {0}, refs[AF_MAX_PARAMS];
  uint32_t ref_size[AF_MAX_PARAMS];
  int nrefs = 0;
  uint8_t buf[AF_MAX_TYPE_SIZE + 16];
  for (int i = 0; i < sig->nparams; i++) {
    const af_loc *l = &ci->args[i];
    int t = sig->params[i];
    uint64_t ref;
    char awhat[64]; /* "arg I of call N to fK", likewise (arg_what) */
    memset(buf, 0, emu_type_size(c, t) + 8);
    if (read_arg(e, l, t, &r, at_call, buf, &ref)) {
      emu_add(e, "arg", arg_what(awhat, sizeof awhat, i, n, k),
              "its location is outside the case's memory");
      continue;
    }
    if (ref) {
      refs[nrefs] = ref;
      ref_size[nrefs++] = emu_type_size(c, t);
    }
    if (t == AF_T_PTR) memcpy(&ptrs[i], buf, 8);
    if (hc && i < hc->nargs) {
      char where[128], detail[300];
      if (af_value_diff(c, &hc->args[i], buf, e->objects, where, sizeof where, detail,
                        sizeof detail))
        emu_add(e, "arg", arg_what(awhat, sizeof awhat, i, n, k), "%s%s%s", where,
                *where ? ": " : "", detail);
    }
    if (l->dup != AF_REG_NONE && l->kind == AF_LOC_REG) { /* MS-CC "Varargs" */
      uint64_t g = r.gpr[l->dup], x = 0;
      memcpy(&x, emu_reg_bytes(&r, l->parts[0].reg), l->parts[0].size);
      if (l->parts[0].size < 8) g &= (1ull << (8 * l->parts[0].size)) - 1;
      if (g != x)
        emu_add(e, "vararg-dup", arg_what(awhat, sizeof awhat, i, n, k),
                "%s holds 0x%016llx, %s 0x%016llx", af_reg_name(l->dup), (unsigned long long)g,
                af_reg_name(l->parts[0].reg), (unsigned long long)x);
    }
    if (abi->narrow_ext == AF_EXT_TO_32 && t >= AF_T_BOOL && t <= AF_T_U16 &&
        (l->kind == AF_LOC_REG || l->kind == AF_LOC_STACK)) {
      uint32_t x;
      if (l->kind == AF_LOC_REG)
        memcpy(&x, emu_reg_bytes(&r, l->parts[0].reg), 4);
      else /* read_arg checked the slot lies in the stack; slots are 8 bytes */
        memcpy(&x, (void *)(uintptr_t)(at_call + (uint64_t)l->stack_offset), 4);
      if (!af_ext_holds(AF_EXT_TO_32, t, (const uint8_t *)&x)) {
        char tn[16];
        emu_add(e, "arg-ext", arg_what(awhat, sizeof awhat, i, n, k),
                "%s in %s: low 32 bits 0x%08x, not extended", af_type_name(c, t, tn, sizeof tn),
                l->kind == AF_LOC_REG ? af_reg_name(l->parts[0].reg) : "its stack slot", x);
      }
    }
  }
  /* the callee owns its home space and its by-reference copies (MS-SU, MS-CC): scribbled, and
   * what the caller reads there afterwards was never written by anyone it can trust */
  if (abi->home_space && emu_in_stack(e, at_call, (uint64_t)abi->home_space)) {
    emu_garbage_fill(e, (uint8_t *)(uintptr_t)at_call, (size_t)abi->home_space);
    emu_mark(e, at_call, (uint64_t)abi->home_space, 0);
  }
  for (int i = 0; i < nrefs; i++) {
    emu_garbage_fill(e, (uint8_t *)(uintptr_t)refs[i], ref_size[i]);
    emu_mark(e, refs[i], ref_size[i], 0);
  }
  /* the call's effect on memory, from the trace: every region a ptr argument names */
  for (int i = 0; hc && hc->after && i < sig->nparams && i < hc->nargs; i++) {
    if (sig->params[i] != AF_T_PTR || !ptrs[i]) continue;
    if (!emu_in_stack(e, ptrs[i], AF_REGION_SIZE) && !emu_in_objects(e, ptrs[i], AF_REGION_SIZE))
      continue; /* a wrong pointer: "arg" said so */
    memcpy((void *)(uintptr_t)ptrs[i], hc->after + (size_t)i * AF_REGION_SIZE, AF_REGION_SIZE);
    emu_mark(e, ptrs[i], AF_REGION_SIZE, 1);
  }
  uint64_t sret_ptr = r.gpr[abi->sret_in];
  /* registers: volatile ones garbage, callee-saved ones as at the call */
  for (int g = AF_RAX; g <= AF_R15; g++)
    if (!((abi->callee_saved >> g) & 1)) r.gpr[g] = emu_garbage(e);
  for (int x = 0; x < 16; x++)
    if (!((abi->callee_saved >> (AF_XMM0 + x)) & 1)) emu_garbage_fill(e, r.xmm[x], 16);
  r.rflags = 0x202;
  /* the return value where af_classify puts it; only its own bytes (the rest is garbage) */
  uint8_t rv[AF_MAX_TYPE_SIZE + 16];
  memset(rv, 0, sizeof rv);
  int rt = sig->ret;
  if (hc && rt != AF_T_VOID) {
    if (rt == AF_T_PTR) {
      uint64_t a = 0;
      if (hc->ret.obj >= 0 && hc->ret.obj < c->nobjects)
        a = (uint64_t)(uintptr_t)e->objects[hc->ret.obj];
      else if (hc->ret_arg >= 0 && hc->ret_arg < sig->nparams)
        a = ptrs[hc->ret_arg];
      memcpy(rv, &a, 8);
    } else {
      memcpy(rv, hc->ret.bytes, hc->ret.size);
    }
  } else if (rt != AF_T_VOID) {
    emu_garbage_fill(e, rv, emu_type_size(c, rt));
  }
  const af_loc *l = &ci->ret;
  if (l->kind == AF_LOC_REG) {
    for (int i = 0; i < l->nparts; i++)
      memcpy(emu_reg_bytes(&r, l->parts[i].reg), rv + l->parts[i].offset, l->parts[i].size);
  } else if (l->kind == AF_LOC_SRET) {
    uint64_t p = sret_ptr;
    uint32_t size = c->types[rt].size;
    if (emu_in_stack(e, p, size) || emu_in_objects(e, p, size)) {
      memcpy((void *)(uintptr_t)p, rv, size);
      emu_mark(e, p, size, 1);
    } else {
      emu_add(e, "arg", call_what(what, sizeof what, n, k),
              "the sret pointer 0x%llx is outside the case's memory", (unsigned long long)p);
    }
    r.gpr[abi->sret_out] = p;
  }
  for (int g = 0; g < 16; g++)
    eng_reg_write(&e->g, emu_uc_gpr((af_reg)g), &r.gpr[g]);
  for (int x = 0; x < 16; x++)
    eng_reg_write(&e->g, UC_X86_REG_XMM0 + x, r.xmm[x]);
  eng_reg_write(&e->g, UC_X86_REG_RFLAGS, &r.rflags);
  if (l->kind == AF_LOC_X87) push_st0(e, rv);
}

void emu_hooks_code_trap(uc_engine *uc, uint64_t addr, uint32_t size, void *u) {
  (void)uc, (void)size;
  af_emu *e = u;
  emu_deadline_tick(e);
  uint64_t off = addr - (uint64_t)(uintptr_t)e->trap;
  if (!e->c || e->stopped || off % EMU_TRAP_STRIDE || off >= AF_MAX_FUNCS * EMU_TRAP_STRIDE)
    return; /* the sentinel, or int3 filler: the run ends there */
  int k = (int)(off / EMU_TRAP_STRIDE);
  if (k >= e->c->nfuncs || !e->c->funcs[k].host) return;
  host_call(e, k);
}

/* emu-cc: the entry's first instruction. A stub that called it went through a call-site hook,
 * which pushed the entry's frame; one that jumped to it (a tail call of a void function) did
 * not: its frame starts here, with the alignment a call would have had. */
void emu_hooks_stub_entry(uc_engine *uc, uint64_t addr, uint32_t size, void *u) {
  (void)uc, (void)size;
  af_emu *e = u;
  if (!e->c || e->stopped || !e->stub) return;
  uint64_t rsp = reg64(e, UC_X86_REG_RSP);
  if (e->nframes > 1 && e->frames[e->nframes - 1].entry == rsp) return; /* called */
  uint64_t need = call_align(e, e->c->entry);
  char w[48];
  if ((rsp + 8) % need && !emu_seen(e, addr ^ 0x5b00000000000000ull))
    emu_add(e, "stack-align", emu_fn_name(e, addr, w, sizeof w),
            "RSP at the jump to the entry is 0x%llx: %llu mod %llu (as a call)",
            (unsigned long long)(rsp + 8), (unsigned long long)((rsp + 8) % need),
            (unsigned long long)need);
  push_frame(e, e->c->entry, rsp + 8);
}

/* ---- memory --------------------------------------------------------------------------------- */
/* The instruction at rip pushes (push, pushf, call): it writes below the RSP it started with. */
static int is_push(uint64_t rip) {
  const uint8_t *p = (const uint8_t *)(uintptr_t)rip;
  int i = 0;
  while (i < 4 && (p[i] == 0x66 || (p[i] & 0xf0) == 0x40))
    i++;
  uint8_t b = p[i];
  if ((b >= 0x50 && b <= 0x57) || b == 0x68 || b == 0x6a || b == 0x9c || b == 0xe8) return 1;
  if (b == 0xff) {
    int reg = (p[i + 1] >> 3) & 7;
    return reg == 6 || reg == 2;
  }
  return 0;
}

/* The write hook's checks past the usual case (emu_hooks_write): a push, a write outside the
 * running function's frame, or one that pops frames. */
static __attribute__((noinline)) void write_check(af_emu *e, uint64_t addr, int size) {
  /* RIP only when needed (a push, a finding): most writes are to the function's own frame */
  uint64_t rsp = reg64(e, UC_X86_REG_RSP), rip = 0;
  uint64_t end = addr + (uint64_t)size;
  if (end == rsp && is_push(rip = reg64(e, UC_X86_REG_RIP))) rsp = addr;
  while (e->nframes > 1 && e->frames[e->nframes - 1].entry < rsp)
    e->nframes--;
  const emu_frame *f = &e->frames[e->nframes - 1];
  if (addr >= rsp && end <= f->entry) return; /* its own frame */
  if (!rip) rip = reg64(e, UC_X86_REG_RIP);
  const af_abi *abi = af_abi_get(f->stub ? AF_CC_SYSV : e->c->funcs[f->fn].sig.cc);
  char w[48];
  if (addr < rsp) {
    /* psABI 3.2.2: 128 bytes below RSP are the function's (the red zone); MS "x64 stack
     * usage": nothing below RSP is (an interrupt or debugger may overwrite it) */
    if (abi->red_zone && addr >= rsp - (uint64_t)abi->red_zone) return;
    const char *check = abi->red_zone ? "red-zone" : "below-rsp";
    if (emu_seen(e, rip ^ ((uint64_t)(abi->red_zone ? 1 : 2) << 56))) return;
    emu_add(e, check, emu_fn_name(e, rip, w, sizeof w), "writes %d bytes at RSP-%llu%s", size,
            (unsigned long long)(rsp - addr),
            abi->red_zone ? " (beyond the 128-byte red zone)" : " (Win64 has no red zone)");
    return;
  }
  if (end <= f->entry) return;                                       /* its own frame */
  if (addr >= f->entry + 8 && end <= f->entry + 8 + f->args) return; /* its arguments, home */
  for (int i = 0; i < e->nframes; i++)
    for (int a = 0; a < e->frames[i].nallowed; a++)
      if (addr >= e->frames[i].allowed[a].lo && end <= e->frames[i].allowed[a].hi) return;
  if (emu_seen(e, rip ^ (3ull << 56))) return;
  if (f->stub)
    emu_add(e, "caller-frame", emu_fn_name(e, rip, w, sizeof w),
            "the caller stub writes %d bytes at its entry RSP%+lld, outside its frame and its "
            "return buffer",
            size, (long long)(addr - (f->entry + 8)));
  else if (addr < f->entry + 8)
    emu_add(e, "caller-frame", emu_fn_name(e, rip, w, sizeof w),
            "f%d overwrites its return address (%d bytes at entry RSP-%llu)", f->fn, size,
            (unsigned long long)(f->entry + 8 - addr));
  else
    emu_add(e, "caller-frame", emu_fn_name(e, rip, w, sizeof w),
            "f%d writes %d bytes at its entry RSP+%llu, above its %u-byte incoming argument "
            "area: the caller's frame",
            f->fn, size, (unsigned long long)(addr - (f->entry + 8)), f->args);
}

/* The write hook after the shadow mark. */
static __attribute__((noinline)) void write_rest(af_emu *e, uint64_t addr, int size) {
  if (!e->c || e->stopped || e->nframes < 1) return;
  /* the usual write (~500 a case): no push (its end is not RSP), into the running function's
   * own frame [RSP, its entry RSP), so no frame ends either (write_check would pop those whose
   * entry lies below RSP) */
  uint64_t rsp = reg64(e, UC_X86_REG_RSP), end = addr + (uint64_t)size;
  if (end != rsp && addr >= rsp && end <= e->frames[e->nframes - 1].entry) return;
  write_check(e, addr, size);
}

static __attribute__((noinline)) void write_full(af_emu *e, uint64_t addr, int size) {
  emu_deadline_tick(e);
  emu_mark(e, addr, (uint64_t)size, 1);
  write_rest(e, addr, size);
}

void emu_hooks_write(uc_engine *uc, uc_mem_type t, uint64_t addr, int size, int64_t v, void *u) {
  (void)uc, (void)t, (void)v;
  af_emu *e = u;
  /* Under xi (its register file, no hook deadline) an 8- or 4-byte store inside the stack
   * into the running function's own frame, as write_full would see it, with no call and so no
   * registers saved: ~500 a case. Anything else: write_full. */
  uint64_t off = addr - (uint64_t)(uintptr_t)e->stack;
  const xi_regs *xr = e->g.xr;
  if (!xr || e->deadline_ns || (size != 8 && size != 4) || off > EMU_STACK - 8) {
    write_full(e, addr, size);
    return;
  }
  uint64_t ones = 0x0101010101010101ull; /* emu_mark(e, addr, size, 1) */
  if (size == 8)                         /* constant sizes: one store each */
    memcpy(e->shadow + off, &ones, 8);
  else
    memcpy(e->shadow + off, &ones, 4);
  if (off < e->shadow_lo) e->shadow_lo = off;
  if (off + (uint64_t)size > e->shadow_hi) e->shadow_hi = off + (uint64_t)size;
  uint64_t rsp = xr->gpr[4], end = addr + (uint64_t)size;
  if (e->c && !e->stopped && e->nframes >= 1 && end != rsp && addr >= rsp &&
      end <= e->frames[e->nframes - 1].entry)
    return;
  write_rest(e, addr, size);
}

/* A read whose first byte nothing wrote in this run (below the entry's RSP). Only the first
 * byte: loads wider than the value they fetch are normal (an argument part of 3 bytes loaded
 * with an 8-byte mov; the register's upper bytes are undefined anyway, psABI 3.2.3), but a
 * value that starts at a byte never written is undefined bits used: a slot nothing stored,
 * or one a callee owned and scribbled (the Win64 home space after a call). */
static __attribute__((noinline)) void read_finding(af_emu *e, uint64_t addr, int size) {
  uint64_t lo = (uint64_t)(uintptr_t)e->stack;
  uint64_t rip = reg64(e, UC_X86_REG_RIP);
  if (emu_seen(e, rip ^ (4ull << 56))) return;
  int n = 1;
  while (n < size && addr + (uint64_t)n < e->rsp0 && !e->shadow[addr + (uint64_t)n - lo])
    n++;
  char w[48];
  emu_add(e, "uninit-read", emu_fn_name(e, rip, w, sizeof w),
          "reads %d bytes at entry RSP-%llu; the first %d were never written in this run (or "
          "belonged to a callee during a call)",
          size, (unsigned long long)(e->rsp0 - addr), n);
}

static __attribute__((noinline)) void read_full(af_emu *e, uint64_t addr, int size) {
  emu_deadline_tick(e);
  uint64_t lo = (uint64_t)(uintptr_t)e->stack;
  if (!e->c || e->stopped || addr >= e->rsp0 || addr < lo || e->shadow[addr - lo]) return;
  read_finding(e, addr, size);
}

void emu_hooks_read(uc_engine *uc, uc_mem_type t, uint64_t addr, int size, int64_t v, void *u) {
  (void)uc, (void)t, (void)v;
  af_emu *e = u;
  if (e->deadline_ns) { /* Unicorn: the deadline's tick first, out of line (xi: no call here, */
    read_full(e, addr, size); /* so no registers saved) */
    return;
  }
  uint64_t lo = (uint64_t)(uintptr_t)e->stack;
  if (!e->c || e->stopped || addr >= e->rsp0 || addr < lo || e->shadow[addr - lo]) return;
  read_finding(e, addr, size);
}

bool emu_hooks_bad(uc_engine *uc, uc_mem_type t, uint64_t addr, int size, int64_t v, void *u) {
  (void)uc, (void)size, (void)v;
  af_emu *e = u;
  e->fault_addr = addr;
  e->fault_type = (int)t;
  return false;
}

#else
typedef int emu_hooks_unused; /* ISO C: no empty translation unit */
#endif
