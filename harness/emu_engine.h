/* emu_engine.h - the emulation leg's engine switch: every engine call goes to xi or Unicorn. */
#ifndef ABIFUZZ_HARNESS_EMU_ENGINE_H
#define ABIFUZZ_HARNESS_EMU_ENGINE_H

/* Private to harness/emu*.c. The leg drives two engines with one set of hooks and checks
 * (doc/emulator.md "The engines"): xi (harness/xi.h), an interpreter with Unicorn's API shape
 * (its constants, callback types and semantics), for the `emu` leg; Unicorn, for `emu-unicorn`
 * (the cross-check) and `emu-cc` (compiled C uses instructions xi does not have). Each wrapper
 * calls xi_* when the engine is an xi, uc_* otherwise. Hooks receive Unicorn's uc_engine
 * argument, which they ignore (xi passes NULL there): they reach the engine through their user
 * data (the af_emu), never through that argument. */

#if defined(AF_HAVE_UNICORN) && defined(AF_HAVE_CAPSTONE)

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <unicorn/unicorn.h>

#include "xi.h"

typedef struct {
  uc_engine *uc;   /* Unicorn, or NULL */
  xi *x;           /* xi, or NULL: exactly one of the two is open */
  xi_regs *xr;     /* xi's register file (xi_regs_get): registers read and written in place */
  uc_context *uc0; /* the context every run starts from */
  xi_context *x0;
} emu_engine;

static inline int eng_is_xi(const emu_engine *g) { return g->x != NULL; }

/* Opens an engine of the kind asked (xi: use_xi != 0); UC_ERR_OK or the engine's error. */
static inline uc_err eng_open(emu_engine *g, int use_xi) {
  g->uc = NULL, g->x = NULL, g->xr = NULL, g->uc0 = NULL, g->x0 = NULL;
  if (use_xi) {
    uc_err r = xi_open(&g->x);
    if (r != UC_ERR_OK) g->x = NULL;
    if (g->x) g->xr = xi_regs_get(g->x);
    return r;
  }
  uc_err r = uc_open(UC_ARCH_X86, UC_MODE_64, &g->uc);
  if (r != UC_ERR_OK) g->uc = NULL;
  return r;
}

static inline void eng_context_free(emu_engine *g) {
  if (g->uc0) uc_context_free(g->uc0);
  if (g->x0) xi_context_free(g->x0);
  g->uc0 = NULL, g->x0 = NULL;
}

static inline void eng_close(emu_engine *g) {
  eng_context_free(g);
  if (g->uc) uc_close(g->uc);
  if (g->x) xi_close(g->x);
  g->uc = NULL, g->x = NULL, g->xr = NULL;
}

/* Under xi, where a 64-bit register lives in its register file (NULL: ask xi_reg_read /
 * xi_reg_write). Inline, so that a constant id costs nothing: the hooks read RSP at every stack
 * access and write every volatile register after a runtime-helper call. */
static inline uint64_t *eng_xi_reg64(xi_regs *r, int id) {
  switch (id) {
  case UC_X86_REG_RAX: return &r->gpr[0];
  case UC_X86_REG_RCX: return &r->gpr[1];
  case UC_X86_REG_RDX: return &r->gpr[2];
  case UC_X86_REG_RBX: return &r->gpr[3];
  case UC_X86_REG_RSP: return &r->gpr[4];
  case UC_X86_REG_RBP: return &r->gpr[5];
  case UC_X86_REG_RSI: return &r->gpr[6];
  case UC_X86_REG_RDI: return &r->gpr[7];
  case UC_X86_REG_R8: return &r->gpr[8];
  case UC_X86_REG_R9: return &r->gpr[9];
  case UC_X86_REG_R10: return &r->gpr[10];
  case UC_X86_REG_R11: return &r->gpr[11];
  case UC_X86_REG_R12: return &r->gpr[12];
  case UC_X86_REG_R13: return &r->gpr[13];
  case UC_X86_REG_R14: return &r->gpr[14];
  case UC_X86_REG_R15: return &r->gpr[15];
  case UC_X86_REG_RIP: return &r->rip;
  default: return NULL;
  }
}

/* A 64-bit register (a GPR, RIP, RFLAGS), as eng_reg_read / eng_reg_write below. */
static inline uint64_t eng_reg64(emu_engine *g, int id) {
  uint64_t v = 0, *p;
  if (g->xr && (p = eng_xi_reg64(g->xr, id))) return *p;
  if (g->x)
    xi_reg_read(g->x, id, &v);
  else
    uc_reg_read(g->uc, id, &v);
  return v;
}

static inline void eng_set64(emu_engine *g, int id, uint64_t v) {
  uint64_t *p;
  if (g->xr && (p = eng_xi_reg64(g->xr, id)))
    *p = v;
  else if (g->x)
    xi_reg_write(g->x, id, &v);
  else
    uc_reg_write(g->uc, id, &v);
}

/* As uc_reg_read / uc_reg_write. Under xi the GPRs, RIP and XMM0-15 are read and written in its
 * register file (xi_regs_get: the same effect as xi_reg_read / xi_reg_write), the rest
 * through xi_reg_read / xi_reg_write. */
static inline uc_err eng_reg_read(emu_engine *g, int id, void *v) {
  if (g->xr) {
    uint64_t *p = eng_xi_reg64(g->xr, id);
    if (p) {
      memcpy(v, p, 8);
      return UC_ERR_OK;
    }
    if (id >= UC_X86_REG_XMM0 && id <= UC_X86_REG_XMM15) {
      memcpy(v, g->xr->xmm[id - UC_X86_REG_XMM0], 16);
      return UC_ERR_OK;
    }
    return xi_reg_read(g->x, id, v);
  }
  return uc_reg_read(g->uc, id, v);
}

static inline uc_err eng_reg_write(emu_engine *g, int id, const void *v) {
  if (g->xr) {
    uint64_t *p = eng_xi_reg64(g->xr, id);
    if (p) {
      memcpy(p, v, 8);
      return UC_ERR_OK;
    }
    if (id >= UC_X86_REG_XMM0 && id <= UC_X86_REG_XMM15) {
      memcpy(g->xr->xmm[id - UC_X86_REG_XMM0], v, 16);
      return UC_ERR_OK;
    }
    return xi_reg_write(g->x, id, v);
  }
  return uc_reg_write(g->uc, id, v);
}

static inline uc_err eng_hook_add(emu_engine *g, uc_hook *hh, int type, void *cb, void *u,
                                  uint64_t begin, uint64_t end) {
  return g->x ? xi_hook_add(g->x, hh, type, cb, u, begin, end)
              : uc_hook_add(g->uc, hh, type, cb, u, begin, end);
}

/* Code hook hh is called only before the instructions of those opcodes (xi_hook_code_ops):
 * under xi. Unicorn has no such filter: there the hook stays on every instruction (a hook
 * given a filter must do nothing on the others). */
static inline uc_err eng_hook_code_ops(emu_engine *g, uc_hook hh, const uint16_t *ops, size_t n) {
  return g->x ? xi_hook_code_ops(g->x, hh, ops, n) : UC_ERR_OK;
}

static inline uc_err eng_hook_del(emu_engine *g, uc_hook hh) {
  return g->x ? xi_hook_del(g->x, hh) : uc_hook_del(g->uc, hh);
}

static inline uc_err eng_mem_map_ptr(emu_engine *g, uint64_t addr, size_t size, uint32_t prot,
                                     void *p) {
  return g->x ? xi_mem_map_ptr(g->x, addr, size, prot, p)
              : uc_mem_map_ptr(g->uc, addr, size, prot, p);
}

static inline uc_err eng_mem_unmap(emu_engine *g, uint64_t addr, size_t size) {
  return g->x ? xi_mem_unmap(g->x, addr, size) : uc_mem_unmap(g->uc, addr, size);
}

/* timeout_us and count as uc_emu_start's (0: none). */
static inline uc_err eng_emu_start(emu_engine *g, uint64_t begin, uint64_t until,
                                   uint64_t timeout_us, size_t count) {
  return g->x ? xi_emu_start(g->x, begin, until, timeout_us, count)
              : uc_emu_start(g->uc, begin, until, timeout_us, count);
}

static inline void eng_emu_stop(emu_engine *g) {
  if (g->x)
    xi_emu_stop(g->x);
  else
    uc_emu_stop(g->uc);
}

/* Saves the current CPU state as the one every run starts from (once, after the defaults). */
static inline uc_err eng_context_save(emu_engine *g) {
  if (g->x) {
    if (!g->x0 && xi_context_alloc(g->x, &g->x0) != UC_ERR_OK) return UC_ERR_NOMEM;
    return xi_context_save(g->x, g->x0);
  }
  if (!g->uc0 && uc_context_alloc(g->uc, &g->uc0) != UC_ERR_OK) return UC_ERR_NOMEM;
  return uc_context_save(g->uc, g->uc0);
}

static inline uc_err eng_context_restore(emu_engine *g) {
  return g->x ? xi_context_restore(g->x, g->x0) : uc_context_restore(g->uc, g->uc0);
}

/* Drops translations of [lo, hi): code there changed. xi translates nothing: a no-op. */
static inline void eng_remove_cache(emu_engine *g, uint64_t lo, uint64_t hi) {
  if (g->uc) uc_ctl_remove_cache(g->uc, lo, hi);
}

#endif
#endif
