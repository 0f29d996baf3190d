/* emu.c - the emulation legs' engine (xi or Unicorn): memory, marshalling, one run, its checks. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emu.h"

#if defined(AF_HAVE_UNICORN) && defined(AF_HAVE_CAPSTONE)

#include <immintrin.h>
#include <sys/mman.h>

#include "debug.h"
#include "emu_internal.h"
#include "probe.h"

/* ---- small shared helpers ----------------------------------------------------------------- */
int emu_uc_gpr(af_reg r) {
  static const int gpr[16] = {UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
                              UC_X86_REG_RSP, UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI,
                              UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11,
                              UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15};
  if (r >= AF_RAX && r <= AF_R15) return gpr[r];
  if (r >= AF_XMM0 && r <= AF_XMM15) return UC_X86_REG_XMM0 + (r - AF_XMM0);
  return UC_X86_REG_INVALID;
}

void emu_regs_read(af_emu *e, emu_regs *r) {
  const xi_regs *xr = e->g.xr;
  if (xr) { /* xi: its register file, whole (af_reg's GPR order is the encoding's, as xi's) */
    memcpy(r->gpr, xr->gpr, sizeof r->gpr);
    memcpy(r->xmm, xr->xmm, sizeof r->xmm);
    r->rflags = xr->rflags;
    r->mxcsr = xr->mxcsr;
    return;
  }
  for (int i = 0; i < 16; i++)
    eng_reg_read(&e->g, emu_uc_gpr((af_reg)i), &r->gpr[i]);
  for (int i = 0; i < 16; i++)
    eng_reg_read(&e->g, UC_X86_REG_XMM0 + i, r->xmm[i]);
  r->rflags = 0;
  eng_reg_read(&e->g, UC_X86_REG_RFLAGS, &r->rflags);
  uint64_t mx = 0;
  eng_reg_read(&e->g, UC_X86_REG_MXCSR, &mx);
  r->mxcsr = (uint32_t)mx;
}

static void regs_write(af_emu *e, const emu_regs *r) {
  xi_regs *xr = e->g.xr;
  if (xr) { /* xi: as xi_reg_write would (RFLAGS bit 1 reads 1) */
    memcpy(xr->gpr, r->gpr, sizeof r->gpr);
    memcpy(xr->xmm, r->xmm, sizeof r->xmm);
    xr->rflags = r->rflags | 2;
    return;
  }
  for (int i = 0; i < 16; i++)
    eng_reg_write(&e->g, emu_uc_gpr((af_reg)i), &r->gpr[i]);
  for (int i = 0; i < 16; i++)
    eng_reg_write(&e->g, UC_X86_REG_XMM0 + i, r->xmm[i]);
  eng_reg_write(&e->g, UC_X86_REG_RFLAGS, &r->rflags);
}

void emu_add(af_emu *e, const char *check, const char *what, const char *fmt, ...) {
  /* the last EMU_RESERVE places are for the run's end (crash, timeout, the registers and the
   * outcome at the return): a run that writes below RSP at many instructions must not push
   * out the crash it leads to (xi reports each instruction; Unicorn's stale RIP in its memory
   * hooks folded many into one and kept the list short) */
  if (e->running && e->fs->n >= AF_FINDINGS_MAX - EMU_RESERVE) {
    e->fs->dropped++;
    return;
  }
  char detail[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(detail, sizeof detail, fmt, ap);
  va_end(ap);
  af_findings_add(e->fs, e->leg, check, what, "%s", detail);
}

void emu_garbage_fill(af_emu *e, uint8_t *d, size_t n) {
  for (; n >= 8; d += 8, n -= 8) {
    uint64_t g = emu_garbage(e);
    memcpy(d, &g, 8);
  }
  if (n) {
    uint64_t g = emu_garbage(e);
    memcpy(d, &g, n);
  }
}

/* splitmix64 (emu_garbage) as a function of the index: value i (from 1) after state s is
 * mix(s + i * gamma), so four lanes compute four values at once. AVX2 has no 64-bit multiply:
 * a * m mod 2^64 is lo(a)lo(m) + (hi(a)lo(m) + lo(a)hi(m)) << 32, three vpmuludq. */
#define GARBAGE_GAMMA 0x9e3779b97f4a7c15ull
__attribute__((target("avx2"))) static inline __m256i mul64_avx2(__m256i a, __m256i mlo,
                                                                 __m256i mhi) {
  __m256i lo = _mm256_mul_epu32(a, mlo);
  __m256i cross =
      _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(a, 32), mlo), _mm256_mul_epu32(a, mhi));
  return _mm256_add_epi64(lo, _mm256_slli_epi64(cross, 32));
}

__attribute__((target("avx2"))) static void garbage_avx2(uint64_t s, uint64_t *out, size_t n4) {
  const uint64_t m1 = 0xbf58476d1ce4e5b9ull, m2 = 0x94d049bb133111ebull;
  __m256i z0 =
      _mm256_set_epi64x((long long)(s + 4 * GARBAGE_GAMMA), (long long)(s + 3 * GARBAGE_GAMMA),
                        (long long)(s + 2 * GARBAGE_GAMMA), (long long)(s + GARBAGE_GAMMA));
  const __m256i step = _mm256_set1_epi64x((long long)(4 * GARBAGE_GAMMA));
  const __m256i m1lo = _mm256_set1_epi64x((long long)(m1 & 0xffffffffu)),
                m1hi = _mm256_set1_epi64x((long long)(m1 >> 32)),
                m2lo = _mm256_set1_epi64x((long long)(m2 & 0xffffffffu)),
                m2hi = _mm256_set1_epi64x((long long)(m2 >> 32));
  for (size_t i = 0; i < n4; i++, z0 = _mm256_add_epi64(z0, step)) {
    __m256i z = z0;
    z = mul64_avx2(_mm256_xor_si256(z, _mm256_srli_epi64(z, 30)), m1lo, m1hi);
    z = mul64_avx2(_mm256_xor_si256(z, _mm256_srli_epi64(z, 27)), m2lo, m2hi);
    z = _mm256_xor_si256(z, _mm256_srli_epi64(z, 31));
    _mm256_storeu_si256((__m256i *)(void *)(out + 4 * i), z);
  }
}

void emu_garbage_block(af_emu *e, uint64_t *out, size_t n) {
  size_t i = 0;
  if (e->simd && n >= 4) {
    garbage_avx2(e->gstate, out, n / 4);
    i = n / 4 * 4;
    e->gstate += i * GARBAGE_GAMMA;
  }
  for (; i < n; i++)
    out[i] = emu_garbage(e);
}

uint32_t emu_type_size(const af_case *c, int t) { return t == AF_T_PTR ? 8 : c->types[t].size; }

int emu_in_stack(const af_emu *e, uint64_t a, uint64_t n) {
  uint64_t lo = (uint64_t)(uintptr_t)e->stack;
  return a >= lo && a <= lo + EMU_STACK && n <= lo + EMU_STACK - a;
}

int emu_in_objects(const af_emu *e, uint64_t a, uint64_t n) {
  uint64_t lo = (uint64_t)(uintptr_t)e->objmem;
  return a >= lo && a <= lo + EMU_PAGE && n <= lo + EMU_PAGE - a;
}

int emu_seen(af_emu *e, uint64_t key) {
  for (int i = 0; i < e->nseen; i++)
    if (e->seen[i] == key) return 1;
  if (e->nseen < EMU_MAX_SEEN) e->seen[e->nseen++] = key;
  return e->nseen >= EMU_MAX_SEEN; /* full: treat as seen (enough said) */
}

const char *emu_fn_name(const af_emu *e, uint64_t addr, char *buf, size_t n) {
  uint64_t trap = (uint64_t)(uintptr_t)e->trap;
  int k = e->jit ? af_jit_which(e->jit, (const void *)(uintptr_t)addr) : -2;
  if (k >= 0)
    snprintf(buf, n, "f%d+0x%llx", k,
             (unsigned long long)(addr - (uint64_t)(uintptr_t)af_jit_code(e->jit, k)));
  else if (addr >= trap && addr < trap + AF_MAX_FUNCS * EMU_TRAP_STRIDE &&
           (addr - trap) % EMU_TRAP_STRIDE == 0)
    snprintf(buf, n, "host f%d", (int)((addr - trap) / EMU_TRAP_STRIDE));
  else if (e->stub && addr >= e->stub && addr < e->stub + e->stub_size)
    snprintf(buf, n, "stub+0x%llx", (unsigned long long)(addr - e->stub));
  else if (addr == trap + EMU_SENTINEL_OFF)
    snprintf(buf, n, "the entry's return address");
  else if (addr >= trap && addr < trap + EMU_PAGE)
    snprintf(buf, n, "trap page+0x%llx", (unsigned long long)(addr - trap));
  else if (!e->jit || !e->c || !jit_debug_symbolize(e->c, e->jit, addr, buf, n))
    snprintf(buf, n, "0x%llx", (unsigned long long)addr);
  return buf;
}

/* Bytes of a value of `type` that hold some leaf (1); padding stays 0. */
void emu_defined_mask(const af_case *c, int type, uint8_t *mask, uint32_t base) {
  const af_type *t = &c->types[type];
  if (type < AF_T_NSCALAR) {
    memset(mask + base, 1, type == AF_T_F80 ? 10 : type == AF_T_PTR ? 8 : t->size);
    return;
  }
  if (t->kind == AF_T_ARRAY) {
    for (uint32_t i = 0; i < t->count; i++)
      emu_defined_mask(c, t->elem, mask, base + i * c->types[t->elem].size);
    return;
  }
  for (int i = 0; i < t->nfields; i++) {
    const af_field *f = &t->fields[i];
    if (f->bits == 0) continue;
    if (f->bits > 0) {
      uint32_t b0 = f->bit_offset / 8, b1 = (f->bit_offset + (uint32_t)f->bits + 7) / 8;
      memset(mask + base + b0, 1, b1 - b0);
    } else {
      emu_defined_mask(c, f->type, mask, base + f->offset);
    }
  }
}

/* ---- the engine ------------------------------------------------------------------------- */
static af_status fail(af_error *err, af_status s, const char *fmt, const char *arg) {
  if (err) snprintf(err->msg, sizeof err->msg, fmt, arg);
  return s;
}

static void *map_pages(size_t n) {
  void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

static void emu_hooks_block(uc_engine *uc, uint64_t addr, uint32_t size, void *u);

/* The engine (xi or Unicorn, cfg.engine) with the stack, object area and trap page mapped, the
 * hooks that never change, and the context every run starts from. */
static void engine_close(af_emu *e) {
  e->nkept = 0; /* closing drops every mapping */
  eng_close(&e->g);
}

static const char *engine_open(af_emu *e) {
  int use_xi = e->cfg.engine == AF_EMU_XI;
  if (eng_open(&e->g, use_xi) != UC_ERR_OK)
    return use_xi ? "xi: cannot open an engine" : "unicorn: cannot open x86-64";
  uint64_t st = (uint64_t)(uintptr_t)e->stack, ob = (uint64_t)(uintptr_t)e->objmem,
           tr = (uint64_t)(uintptr_t)e->trap;
  emu_engine *g = &e->g;
  if (eng_mem_map_ptr(g, st, EMU_STACK, UC_PROT_READ | UC_PROT_WRITE, e->stack) ||
      eng_mem_map_ptr(g, ob, EMU_PAGE, UC_PROT_READ | UC_PROT_WRITE, e->objmem) ||
      eng_mem_map_ptr(g, tr, EMU_PAGE, UC_PROT_READ | UC_PROT_EXEC, e->trap) ||
      /* the trap page: its own hook, or under xi the instruction hook's (one code hook, so xi
       * calls one function per instruction) */
      (!e->hook_all && eng_hook_add(g, &e->h_trap, UC_HOOK_CODE, (void *)emu_hooks_code_trap, e, tr,
                                    tr + EMU_PAGE - 1)) ||
      eng_hook_add(g, &e->h_write, UC_HOOK_MEM_WRITE, (void *)emu_hooks_write, e, st,
                   st + EMU_STACK - 1) ||
      eng_hook_add(g, &e->h_read, UC_HOOK_MEM_READ, (void *)emu_hooks_read, e, st,
                   st + EMU_STACK - 1) ||
      eng_hook_add(g, &e->h_bad, UC_HOOK_MEM_INVALID, (void *)emu_hooks_bad, e, 1, 0) ||
      (e->hook_all && eng_hook_add(g, &e->h_insn, UC_HOOK_CODE, (void *)emu_hooks_insn, e, 1, 0)) ||
      /* Unicorn: the instruction budget and the deadline (emu_hooks_block); xi counts and
       * times its runs itself, exactly */
      (!use_xi && eng_hook_add(g, &e->h_block, UC_HOOK_BLOCK, (void *)emu_hooks_block, e, 1, 0))) {
    engine_close(e);
    return use_xi ? "xi: cannot map the engine's memory"
                  : "unicorn: cannot map the engine's memory";
  }
  /* xi: the instruction hook only acts on calls, returns (emu_insn_maybe_site: the opcodes of
   * class 4 in emu_site_cls, after xi's one prefix and REX) and the trap page (its `ret`s and
   * int3 filler): xi calls it before those opcodes only, ~1/8 of a case's instructions */
  if (e->hook_all) {
    uint16_t ops[EMU_SITE_OPS_MAX];
    if (eng_hook_code_ops(g, e->h_insn, ops, emu_site_ops(ops))) {
      engine_close(e);
      return "xi: cannot filter the instruction hook";
    }
  }
  /* the state every run starts from: MXCSR and the x87 control word at their defaults
   * (psABI 3.2.1, MS "x64 floating point"), DF clear */
  uint64_t mx = EMU_MXCSR, fcw = EMU_FCW, fl = 0x202;
  eng_reg_write(g, UC_X86_REG_MXCSR, &mx);
  eng_reg_write(g, UC_X86_REG_FPCW, &fcw);
  eng_reg_write(g, UC_X86_REG_RFLAGS, &fl);
  if (eng_context_save(g)) {
    engine_close(e);
    return "emu: cannot save the engine's context";
  }
  e->engine_runs = 0;
  return NULL;
}

af_status af_emu_new(const af_emu_cfg *cfg, af_emu **out, af_error *err) {
  *out = NULL;
  af_emu *e = calloc(1, sizeof *e);
  if (!e) return fail(err, AF_ERR_NOMEM, "%s", "out of memory");
  if (cfg) e->cfg = *cfg;
  if (!e->cfg.max_insns) e->cfg.max_insns = 4000000;
  if (!e->cfg.timeout_us) e->cfg.timeout_us = 2000000;
  if (!e->cfg.recycle) e->cfg.recycle = 256;
  e->hook_all = e->cfg.engine == AF_EMU_XI;
  __builtin_cpu_init();
  e->simd = __builtin_cpu_supports("avx2");
  e->stack = map_pages(EMU_STACK);
  e->objmem = map_pages(EMU_PAGE);
  e->trap = map_pages(EMU_PAGE);
  e->shadow = calloc(1, EMU_STACK);
  e->shadow_lo = EMU_STACK, e->shadow_hi = 0;
  if (!e->stack || !e->objmem || !e->trap || !e->shadow) {
    af_emu_free(e);
    return fail(err, AF_ERR_NOMEM, "%s", "out of memory");
  }
  for (int k = 0; k < AF_MAX_OBJECTS; k++)
    e->objects[k] = e->objmem + k * AF_REGION_SIZE;
  /* int3 everywhere, `ret` at every host function's trap: its hook answers the call first */
  memset(e->trap, 0xcc, EMU_PAGE);
  for (int k = 0; k < AF_MAX_FUNCS; k++)
    e->trap[k * EMU_TRAP_STRIDE] = 0xc3;
  if (cs_open(CS_ARCH_X86, CS_MODE_64, &e->cs) != CS_ERR_OK) {
    e->cs = 0;
    af_emu_free(e);
    return fail(err, AF_ERR_UNSUPPORTED, "%s", "capstone: cannot open x86-64");
  }
  cs_option(e->cs, CS_OPT_DETAIL, CS_OPT_ON); /* cs_malloc allocates the detail only so */
  e->cs_in = cs_malloc(e->cs);
  /* detail (operands) only for call instructions: scans are several times faster */
  cs_option(e->cs, CS_OPT_DETAIL, CS_OPT_OFF);
  if (!e->cs_in) {
    af_emu_free(e);
    return fail(err, AF_ERR_NOMEM, "%s", "out of memory");
  }
  const char *why = engine_open(e);
  if (why) {
    af_emu_free(e);
    return fail(err, AF_ERR_UNSUPPORTED, "%s", why);
  }
  *out = e;
  return AF_OK;
}

void af_emu_free(af_emu *e) {
  if (!e) return;
  engine_close(e);
  if (e->cs_in) cs_free(e->cs_in, 1);
  if (e->cs) cs_close(&e->cs);
  if (e->stack) munmap(e->stack, EMU_STACK);
  if (e->objmem) munmap(e->objmem, EMU_PAGE);
  if (e->trap) munmap(e->trap, EMU_PAGE);
  free(e->shadow);
  free(e->starts);
  free(e);
}

void af_emu_stats_get(const af_emu *e, af_emu_stats *out) { *out = e->stats; }

/* ---- marshalling the entry's call ------------------------------------------------------- */
uint8_t *emu_scratch_alloc(af_emu *e, emu_scratch *s, uint32_t size, uint32_t align) {
  if (align < 16) align = 16;
  uint64_t a = (s->next + align - 1) & ~(uint64_t)(align - 1);
  if (a + size > (uint64_t)(uintptr_t)e->stack + EMU_STACK) return NULL;
  s->next = a + size;
  return (uint8_t *)(uintptr_t)a;
}

void emu_allow(emu_frame *f, uint64_t lo, uint64_t n) {
  if (f->nallowed < EMU_MAX_ALLOWED && n) {
    f->allowed[f->nallowed].lo = lo;
    f->allowed[f->nallowed].owned = 0;
    f->allowed[f->nallowed++].hi = lo + n;
  }
}

uint8_t *emu_reg_bytes(emu_regs *r, af_reg reg) {
  if (reg <= AF_R15) return (uint8_t *)&r->gpr[reg];
  return r->xmm[(reg - AF_XMM0) & 15];
}

/* Registers and stack for the entry's call; NULL or why not. *sret gets the buffer. */
static const char *marshal(af_emu *e, emu_regs *r, uint8_t **sret) {
  const af_case *c = e->c;
  const af_sig *sig = &c->funcs[c->entry].sig;
  const af_callinfo *ci = &e->ci[c->entry];
  const af_abi *abi = af_abi_get(sig->cc);
  memset(r, 0, sizeof *r);
  for (int i = AF_RAX; i <= AF_R15; i++)
    r->gpr[i] = (abi->callee_saved >> i) & 1 ? CANARY_GPR | (uint64_t)i : emu_garbage(e);
  for (int x = 0; x < 16; x++) {
    if ((abi->callee_saved >> (AF_XMM0 + x)) & 1) {
      uint64_t lo = CANARY_XMM | (uint64_t)(0x100 + x), hi = CANARY_XMM | (uint64_t)(0x200 + x);
      memcpy(r->xmm[x], &lo, 8);
      memcpy(r->xmm[x] + 8, &hi, 8);
    } else {
      emu_garbage_fill(e, r->xmm[x], 16);
    }
  }
  r->rflags = 0x202;
  uint32_t align = (uint32_t)abi->stack_align;
  for (int i = 0; i < sig->nparams; i++)
    if (ci->args[i].kind == AF_LOC_STACK && ci->args[i].stack_align > align)
      align = ci->args[i].stack_align;
  uint64_t top = (uint64_t)(uintptr_t)e->stack + EMU_STACK;
  emu_scratch s = {top - EMU_SCRATCH};
  e->scratch_lo = s.next;
  uint64_t rsp = (s.next - ci->stack_bytes - EMU_CALLER) & ~(uint64_t)(align - 1);
  e->rsp0 = rsp;
  r->gpr[AF_RSP] = rsp;
  uint8_t *sp = (uint8_t *)(uintptr_t)rsp;
  /* below RSP, the argument area, the caller's frame: garbage */
  emu_garbage_fill(e, sp - 1024, (size_t)(s.next - rsp) + 1024);
  emu_frame *f = &e->frames[0];
  memset(f, 0, sizeof *f);
  f->fn = c->entry;
  f->entry = rsp - 8;
  f->args = ci->stack_bytes;
  *sret = NULL;
  if (ci->sret) {
    uint32_t size = c->types[sig->ret].size, al = c->types[sig->ret].alignment;
    *sret = emu_scratch_alloc(e, &s, size ? size : 1, al);
    if (!*sret) return "emu: scratch area full";
    emu_garbage_fill(e, *sret, size);
    r->gpr[abi->sret_in] = (uint64_t)(uintptr_t)*sret;
    emu_allow(f, (uint64_t)(uintptr_t)*sret, size);
  }
  for (int i = 0; i < sig->nparams; i++) {
    const af_loc *l = &ci->args[i];
    const af_value *v = &c->inputs[i];
    int t = sig->params[i];
    uint32_t size = emu_type_size(c, t);
    int ext = abi->narrow_ext == AF_EXT_TO_32 && t >= AF_T_BOOL && t <= AF_T_U16;
    uint8_t buf[AF_MAX_TYPE_SIZE + 16];
    if (t == AF_T_PTR) {
      uint64_t a = v->obj >= 0 && v->obj < c->nobjects ? (uint64_t)(uintptr_t)e->objects[v->obj]
                                                       : (uint64_t)(uintptr_t)e->objmem;
      memcpy(buf, &a, 8);
    } else {
      memcpy(buf, v->bytes, v->size);
      if (t >= AF_T_NSCALAR || t == AF_T_F80) { /* padding: whatever the caller's copy held */
        uint8_t mask[AF_MAX_TYPE_SIZE];
        memset(mask, 0, size);
        emu_defined_mask(c, t, mask, 0);
        for (uint32_t b = 0; b < size; b++)
          if (!mask[b]) buf[b] = (uint8_t)emu_garbage(e);
      }
    }
    switch (l->kind) {
    case AF_LOC_NONE: break;
    case AF_LOC_REG:
      for (int k = 0; k < l->nparts; k++) {
        const af_part *pt = &l->parts[k];
        if (pt->size > 16) return "not emulable (__m256)";
        memcpy(emu_reg_bytes(r, pt->reg), buf + pt->offset, pt->size);
        if (ext && pt->reg <= AF_R15) af_ext_apply(AF_EXT_TO_32, t, emu_reg_bytes(r, pt->reg));
      }
      if (l->dup != AF_REG_NONE) memcpy(emu_reg_bytes(r, l->dup), buf, size < 8 ? size : 8);
      break;
    case AF_LOC_STACK:
      memcpy(sp + l->stack_offset, buf, size);
      if (ext) af_ext_apply(AF_EXT_TO_32, t, sp + l->stack_offset);
      break;
    case AF_LOC_REF: {
      uint8_t *copy = emu_scratch_alloc(e, &s, size, t == AF_T_PTR ? 8 : c->types[t].alignment);
      if (!copy) return "emu: scratch area full";
      memcpy(copy, buf, size);
      emu_allow(f, (uint64_t)(uintptr_t)copy, size); /* the callee owns its copy (MS-CC) */
      uint64_t a = (uint64_t)(uintptr_t)copy;
      if (l->nparts == 1)
        memcpy(emu_reg_bytes(r, l->parts[0].reg), &a, 8);
      else
        memcpy(sp + l->stack_offset, &a, 8);
      break;
    }
    default: return "emu: unexpected argument location";
    }
  }
  if (abi->vararg_al && sig->variadic) /* psABI 3.5.7 */
    r->gpr[AF_RAX] = (r->gpr[AF_RAX] & ~0xffull) | (uint64_t)ci->sse_used;
  /* the return address: the sentinel, as a call instruction would have pushed it */
  uint64_t ra = (uint64_t)(uintptr_t)e->trap + EMU_SENTINEL_OFF;
  memcpy(sp - 8, &ra, 8);
  r->gpr[AF_RSP] = rsp - 8;
  return NULL;
}

/* ---- after the return --------------------------------------------------------------------- */
static void hex16(char *out, size_t n, const uint8_t *x) {
  uint64_t lo, hi;
  memcpy(&lo, x, 8);
  memcpy(&hi, x + 8, 8);
  snprintf(out, n, "%016llx:%016llx", (unsigned long long)hi, (unsigned long long)lo);
}

/* After the entry's return (emu-cc: the stub's, sret is then its return buffer). */
static void check_return(af_emu *e, const emu_regs *in, const uint8_t *sret,
                         af_probe_outcome *out) {
  const af_case *c = e->c;
  const af_sig *sig = &c->funcs[c->entry].sig;
  const af_callinfo *ci = &e->ci[c->entry];
  const af_abi *abi = af_abi_get(e->stub ? AF_CC_SYSV : sig->cc);
  emu_regs r;
  emu_regs_read(e, &r);
  for (int i = AF_RAX; i <= AF_R15; i++) {
    if (i == AF_RSP || !((abi->callee_saved >> i) & 1) || r.gpr[i] == in->gpr[i]) continue;
    emu_add(e, "callee-saved", af_reg_name((af_reg)i), "canary 0x%016llx, got 0x%016llx",
            (unsigned long long)in->gpr[i], (unsigned long long)r.gpr[i]);
  }
  for (int x = 0; x < 16; x++) {
    if (!((abi->callee_saved >> (AF_XMM0 + x)) & 1) || !memcmp(in->xmm[x], r.xmm[x], 16)) continue;
    char a[40], b[40];
    hex16(a, sizeof a, in->xmm[x]);
    hex16(b, sizeof b, r.xmm[x]);
    emu_add(e, "callee-saved", af_reg_name((af_reg)(AF_XMM0 + x)), "canary %s, got %s", a, b);
  }
  if (r.gpr[AF_RSP] != e->rsp0)
    emu_add(e, "rsp", "rsp", "expected 0x%llx after the return, got 0x%llx (%+lld)",
            (unsigned long long)e->rsp0, (unsigned long long)r.gpr[AF_RSP],
            (long long)(r.gpr[AF_RSP] - e->rsp0));
  if (r.rflags & 0x400)
    emu_add(e, "df", "rflags", "DF set after the return (psABI 3.2.1: clear on exit)");
  if ((r.mxcsr ^ EMU_MXCSR) & 0xffc0u)
    emu_add(e, "mxcsr", "mxcsr", "control bits 0x%04x at the call, 0x%04x after",
            EMU_MXCSR & 0xffc0u, r.mxcsr & 0xffc0u);
  memset(out->ret, 0, sizeof out->ret);
  if (e->stub) { /* the stub stored the value's bytes (a ptr: its address) */
    if (sig->ret != AF_T_VOID) memcpy(out->ret, sret, emu_type_size(c, sig->ret));
    return;
  }
  const af_loc *l = &ci->ret;
  switch (l->kind) {
  case AF_LOC_REG:
    for (int k = 0; k < l->nparts; k++)
      memcpy(out->ret + l->parts[k].offset, emu_reg_bytes(&r, l->parts[k].reg), l->parts[k].size);
    break;
  case AF_LOC_SRET:
    memcpy(out->ret, sret, c->types[sig->ret].size);
    if (r.gpr[abi->sret_out] != (uint64_t)(uintptr_t)sret)
      emu_add(e, "sret-rax", af_reg_name(abi->sret_out),
              "expected the sret buffer 0x%llx, got 0x%llx", (unsigned long long)(uintptr_t)sret,
              (unsigned long long)r.gpr[abi->sret_out]);
    break;
  case AF_LOC_X87: {
    uint8_t st[16] = {0};
    eng_reg_read(&e->g, UC_X86_REG_ST0, st);
    memcpy(out->ret, st, 10);
    break;
  }
  default: break;
  }
}

/* ---- one run ------------------------------------------------------------------------------ */
static const char *unsupported(const af_case *c) {
  for (int k = 0; k < c->nfuncs; k++) {
    const af_sig *s = &c->funcs[k].sig;
    if (s->ret != AF_T_VOID && af_type_has(c, s->ret, AF_T_M256)) return "not emulable (__m256)";
    for (int i = 0; i < s->nparams; i++)
      if (af_type_has(c, s->params[i], AF_T_M256)) return "not emulable (__m256)";
  }
  return NULL;
}

static const char *prepare(af_emu *e, const af_job *j) {
  const af_case *c = &j->c;
  const char *why = unsupported(c);
  if (why) return why;
  /* External code (another backend) calls libc and its runtime through its own PLT: the
   * emulator only runs code it was given and traps the case's host functions. */
  if (j->code) return "emu: external code (builtin backend only)";
  for (int k = 0; k < c->nfuncs; k++)
    if (af_classify(c, &c->funcs[k].sig, &e->ci[k], NULL) != AF_OK)
      return "emu: a signature does not classify";
  const void *host_fns[AF_MAX_FUNCS] = {0};
  for (int k = 0; k < c->nfuncs; k++)
    if (c->funcs[k].host) host_fns[k] = e->trap + k * EMU_TRAP_STRIDE;
  af_error err = {{0}};
  /* the native legs' compile (shared with them in a worker: one compile per case), its
   * runtime-helper calls through af_rt_probe with the helper in R11; the call-site hook runs
   * the helper itself (emu_hooks.c run_helper) */
  if (af_leg_compile_native(j, host_fns, &e->jit, &err) != AF_OK) {
    e->jit = NULL;
    return "jit: the case does not compile";
  }
  for (int k = 0; k < c->nfuncs; k++)
    e->fn_entry[k] = (uint64_t)(uintptr_t)af_jit_fn(e->jit, k);
  return emu_load_code(e);
}

/* ---- the wall-clock limit ------------------------------------------------------------------ *
 * Unicorn's own timeout (uc_emu_start's) starts a thread per run that wakes every few
 * microseconds until the run ends: with a run taking milliseconds, that thread cost as much CPU
 * as the emulation (doc/benchmarks.md). The hooks check the deadline instead: the block hook
 * at every translation block that runs (emu_hooks_block, so a loop touching neither the stack
 * nor a call is bounded too), and the stack, call-site and host-call hooks; each 64th of them
 * reads the clock and stops the run once its deadline has passed. */
static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

void emu_deadline_check(af_emu *e) {
  if (now_ns() >= e->deadline_ns && !e->timed_out) {
    e->timed_out = 1;
    eng_emu_stop(&e->g);
  }
}

/* The instruction budget. uc_emu_start's own (its `count`) is a UC_HOOK_CODE hook on every
 * address: Unicorn then calls helper_uc_tracecode before every instruction, which walks the
 * whole code-hook list (one hook per call site here), and translates every instruction with
 * that call, an EFLAGS sync and an exit check around it (Unicorn 2.0.1, target/i386/
 * translate.c, uc.c hook_count_cb): measured, most of a run. Instead one block hook counts
 * each translation block's instructions as it starts, from the instruction starts the scan
 * found (code it did not scan, the trap page's `ret`: one a block), and stops the run once the
 * count passes the budget; it also checks the deadline, so a loop that touches no stack is
 * bounded in time too. A run may so stop up to a block later than an exact count would. */
static void emu_hooks_block(uc_engine *uc, uint64_t addr, uint32_t size, void *u) {
  (void)uc;
  af_emu *e = u;
  emu_deadline_tick(e);
  if (e->cfg.max_insns == AF_EMU_OFF) return;
  uint64_t n = 1;
  for (int i = 0; i < e->nscan; i++) {
    if (addr < e->scan[i].lo || addr >= e->scan[i].hi) continue;
    uint64_t b = e->scan[i].bit + (addr - e->scan[i].lo), end = e->scan[i].hi - e->scan[i].lo;
    end = e->scan[i].bit + (addr - e->scan[i].lo + size < end ? addr - e->scan[i].lo + size : end);
    n = 0;
    while (b < end) {
      uint64_t w = e->starts[b / 64] >> (b % 64);
      uint64_t k = 64 - b % 64;
      if (k > end - b) {
        k = end - b;
        w &= (1ull << k) - 1;
      }
      n += (uint64_t)__builtin_popcountll(w);
      b += k;
    }
    if (!n) n = 1;
    break;
  }
  e->insns += n;
  if (e->insns > e->cfg.max_insns && !e->budget_hit) {
    e->budget_hit = 1;
    eng_emu_stop(&e->g);
  }
}

static void finish(af_emu *e) {
  if (e->have_h_entry) eng_hook_del(&e->g, e->h_entry);
  e->have_h_entry = 0;
  emu_code_unmap(e);
  af_jit_free(e->jit);
  e->jit = NULL;
  e->j = NULL;
  e->c = NULL;
  e->stub = 0;
}

static af_status run(af_emu *e, const af_job *j, uint64_t stub, const af_leg_sink *sink,
                     const char *leg, af_findings *fs, const char **skip) {
  *skip = NULL;
  e->stub = 0;
  e->stub_escape = 0;
  e->j = j;
  e->c = &j->c;
  e->leg = leg;
  e->fs = fs;
  e->ncalls = 0;
  e->stopped = 0;
  e->nseen = 0;
  e->fault_addr = 0;
  e->checked_ret = 0;
  af_rng rng;
  af_rng_seed(&rng, e->cfg.garbage, j->index);
  e->gstate = af_rng_next(&rng);
  /* Unicorn 2.0.1 never reuses its translation buffer short of a full flush, which zeroes all
   * of it (1 GiB): a fresh engine every cfg.recycle runs keeps the process small instead (xi
   * translates nothing: never) */
  if (!eng_is_xi(&e->g) && e->engine_runs >= e->cfg.recycle) {
    engine_close(e);
    const char *bad = engine_open(e);
    if (bad) {
      *skip = "emu: cannot reopen the engine";
      e->stats.skips++;
      return AF_ERR_UNSUPPORTED;
    }
  }
  e->engine_runs++;
  const char *why = prepare(e, j);
  if (!why && stub) {
    e->stub = stub;
    why = emu_load_stub(e);
  }
  if (why) {
    *skip = why;
    e->stats.skips++;
    finish(e);
    return AF_ERR_UNSUPPORTED;
  }
  emu_drop_kept(e); /* only this run's code is mapped while it runs */
  const af_case *c = e->c;
  for (int k = 0; k < c->nobjects; k++)
    memcpy(e->objects[k], c->objects[k].init, AF_REGION_SIZE);
  af_jit_set_objects(e->jit, e->objects, c->nobjects);
  eng_context_restore(&e->g);
  emu_regs in;
  uint8_t *sret;
  e->nframes = 1;
  why = stub ? emu_marshal_stub(e, &in, &sret) : marshal(e, &in, &sret);
  if (why) {
    *skip = why;
    e->stats.skips++;
    finish(e);
    return AF_ERR_UNSUPPORTED;
  }
  regs_write(e, &in);
  in.gpr[AF_RSP] = e->rsp0;
  /* nothing below the entry's RSP was written by this run yet, but its return address (only
   * what the last run marked needs clearing) */
  if (e->shadow_lo < e->shadow_hi)
    memset(e->shadow + e->shadow_lo, 0, (size_t)(e->shadow_hi - e->shadow_lo));
  e->shadow_lo = EMU_STACK, e->shadow_hi = 0;
  emu_mark(e, e->rsp0 - 8, 8, 1);
  uint64_t entry = (uint64_t)(uintptr_t)af_jit_fn(e->jit, c->entry);
  uint64_t sentinel = (uint64_t)(uintptr_t)e->trap + EMU_SENTINEL_OFF;
  if (sink && sink->begin) sink->begin(sink->u, j, leg);
  int limit = e->cfg.timeout_us != AF_EMU_OFF;
  e->timed_out = 0;
  e->ticks = 0;
  e->insns = 0;
  e->budget_hit = 0;
  uc_err ue;
  e->running = 1;
  if (eng_is_xi(&e->g)) {
    /* xi counts instructions exactly and reads the clock itself, cheaply: its own budget and
     * timeout; its stats say which one stopped the run */
    e->deadline_ns = 0;
    ue = eng_emu_start(&e->g, stub ? stub : entry, sentinel, limit ? e->cfg.timeout_us : 0,
                       e->cfg.max_insns == AF_EMU_OFF ? 0 : (size_t)e->cfg.max_insns);
    xi_stats xs;
    xi_stats_get(e->g.x, &xs);
    e->timed_out |= xs.last_timed_out;
    e->budget_hit |= xs.last_count_hit;
  } else {
    e->deadline_ns = limit ? now_ns() + e->cfg.timeout_us * 1000u : 0;
    ue = eng_emu_start(&e->g, stub ? stub : entry, sentinel, 0 /* the hooks' deadline */,
                       0 /* the budget: emu_hooks_block */);
  }
  e->running = 0;
  e->deadline_ns = 0;
  e->stats.runs++;
  uint64_t rip = 0;
  eng_reg_read(&e->g, UC_X86_REG_RIP, &rip);
  size_t timed_out = (size_t)e->timed_out;
  char w[48];
  if (e->stub_escape) {
    /* the stub called out of itself (the only thing a compiled caller does the engine does not
     * map): a skip, counted; findings made so far are dropped with it */
    fs->n = fs->dropped = 0;
    *skip = "emu-cc: the stub calls outside its code";
    e->stats.skips++;
    finish(e);
    return AF_ERR_UNSUPPORTED;
  } else if (e->stopped) {
    /* a hook stopped the run and said why */
  } else if (ue != UC_ERR_OK) {
    char fa[48];
    int addr = e->fault_addr && e->fault_addr != rip;
    emu_add(e, "crash", emu_fn_name(e, rip, w, sizeof w), "%s at RIP %s%s%s", uc_strerror(ue), w,
            addr ? ", address " : "", addr ? emu_fn_name(e, e->fault_addr, fa, sizeof fa) : "");
  } else if (timed_out || rip != sentinel) {
    e->stats.insns_budget_hit++;
    emu_add(e, "timeout", emu_fn_name(e, rip, w, sizeof w),
            timed_out ? "no return within %llu us (RIP %s)"
                      : "no return within %llu instructions (RIP %s)",
            (unsigned long long)(timed_out ? e->cfg.timeout_us : e->cfg.max_insns), w);
  } else {
    af_probe_outcome out;
    memset(&out, 0, sizeof out);
    check_return(e, &in, sret, &out);
    out.nhost_calls = e->ncalls;
    af_probe_opts o = {.c = c, .want = &j->want, .objects = e->objects, .leg = leg};
    af_probe_check_outcome(&o, &out, fs);
  }
  finish(e);
  return AF_OK;
}

af_status af_emu_run(af_emu *e, const af_job *j, const af_leg_sink *sink, const char *leg,
                     af_findings *fs, const char **skip) {
  return run(e, j, 0, sink, leg, fs, skip);
}

af_status af_emu_run_stub(af_emu *e, const af_job *j, void (*call)(void *, void *const *, void *),
                          const af_leg_sink *sink, const char *leg, af_findings *fs,
                          const char **skip) {
  if (!call) {
    *skip = "emu-cc: no stub";
    return AF_ERR_UNSUPPORTED;
  }
  return run(e, j, (uint64_t)(uintptr_t)call, sink, leg, fs, skip);
}

#else /* no Unicorn or no Capstone */

struct af_emu {
  int unused;
};

af_status af_emu_new(const af_emu_cfg *cfg, af_emu **out, af_error *err) {
  (void)cfg;
  *out = NULL;
  if (err) snprintf(err->msg, sizeof err->msg, "built without Unicorn and Capstone");
  return AF_ERR_UNSUPPORTED;
}

void af_emu_free(af_emu *e) { (void)e; }

af_status af_emu_run(af_emu *e, const af_job *j, const af_leg_sink *sink, const char *leg,
                     af_findings *fs, const char **skip) {
  (void)e, (void)j, (void)sink, (void)leg, (void)fs;
  *skip = "built without Unicorn and Capstone";
  return AF_ERR_UNSUPPORTED;
}

af_status af_emu_run_stub(af_emu *e, const af_job *j, void (*call)(void *, void *const *, void *),
                          const af_leg_sink *sink, const char *leg, af_findings *fs,
                          const char **skip) {
  (void)e, (void)j, (void)call, (void)sink, (void)leg, (void)fs;
  *skip = "built without Unicorn and Capstone";
  return AF_ERR_UNSUPPORTED;
}

void af_emu_stats_get(const af_emu *e, af_emu_stats *out) {
  (void)e;
  memset(out, 0, sizeof *out);
}

#endif
