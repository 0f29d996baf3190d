/* emu_stub.c - the emu-cc sanity leg's side of the engine: the compiled caller stub's memory
 * and call (af_emu_run_stub, doc/emulator.md "emu-cc"). */
#define _GNU_SOURCE /* dladdr1 */
#include <stdio.h>
#include <string.h>

#if defined(AF_HAVE_UNICORN) && defined(AF_HAVE_CAPSTONE)

#include <dlfcn.h>
#include <link.h>

#include "emu_internal.h"

/* Maps [lo, hi) of the host at the same address with prot (no overlap with the JIT's code). */
static const char *map_range(af_emu *e, uint64_t lo, uint64_t hi, uint32_t prot) {
  for (int i = 0; i < e->ncode; i++)
    if (lo < e->code[i].hi && hi > e->code[i].lo)
      return "emu-cc: the stub's pages overlap the JIT's";
  if (e->ncode >= EMU_MAX_CODE) return "emu-cc: too many mappings";
  if (emu_map(e, lo, hi, prot)) return "emu-cc: cannot map the stub's shared object";
  return NULL;
}

/* emu-cc: maps the shared object holding the stub at the host's addresses with the host's
 * permissions (every mapping /proc/self/maps names with its path: text, read-only data, GOT,
 * data), scans S_call like JIT code (AVX, call sites, returns) and hooks the entry's first
 * instruction. Nothing else of the process is mapped: a call out of the stub (the C library
 * through the PLT) is caught at its call site and skips the case. */
const char *emu_load_stub(af_emu *e) {
  Dl_info info;
  const ElfW(Sym) *sym = NULL;
  if (!dladdr1((void *)(uintptr_t)e->stub, &info, (void **)&sym, RTLD_DL_SYMENT) || !sym ||
      !sym->st_size)
    return "emu-cc: the stub has no symbol";
  e->stub_size = sym->st_size;
  FILE *f = fopen("/proc/self/maps", "r");
  if (!f) return "emu-cc: cannot read /proc/self/maps";
  char line[1024], path[600] = "", want[600] = "";
  unsigned long long lo, hi;
  char perms[8];
  for (int pass = 0; pass < 2; pass++) {
    rewind(f);
    while (fgets(line, sizeof line, f)) {
      path[0] = 0;
      if (sscanf(line, "%llx-%llx %7s %*s %*s %*s %599[^\n]", &lo, &hi, perms, path) < 3) continue;
      if (pass == 0) {
        if (e->stub >= lo && e->stub < hi) snprintf(want, sizeof want, "%s", path);
        continue;
      }
      if (!want[0] || strcmp(path, want)) continue;
      uint32_t prot = (perms[0] == 'r' ? UC_PROT_READ : 0) | (perms[1] == 'w' ? UC_PROT_WRITE : 0) |
                      (perms[2] == 'x' ? UC_PROT_EXEC : 0);
      if (!prot) continue;
      const char *why = map_range(e, lo, hi, prot);
      if (why) {
        fclose(f);
        return why;
      }
    }
    if (pass == 0 && !want[0]) {
      fclose(f);
      return "emu-cc: the stub lies in no named mapping";
    }
  }
  fclose(f);
  const char *why = e->hook_all ? NULL : emu_scan_fn(e, e->stub, e->stub_size, e->cs_in);
  if (why) return why;
  uint64_t entry = (uint64_t)(uintptr_t)af_jit_fn(e->jit, e->c->entry);
  if (eng_hook_add(&e->g, &e->h_entry, UC_HOOK_CODE, (void *)emu_hooks_stub_entry, e, entry, entry))
    return "emu: cannot hook the entry";
  e->have_h_entry = 1;
  for (int i = 0; i < e->ncode; i++)
    eng_remove_cache(&e->g, e->code[i].lo, e->code[i].hi);
  return NULL;
}

/* emu-cc: the stub's call S_call(entry, args, ret) from the sentinel, as a SysV C caller
 * makes it: canaries in SysV's callee-saved registers, garbage elsewhere; the argument array,
 * each input's bytes (padding garbage) and the return buffer in the scratch area. *ret gets
 * the return buffer. Frame 0 is the stub's: it may write its own frame and the buffer. */
const char *emu_marshal_stub(af_emu *e, emu_regs *r, uint8_t **ret) {
  const af_case *c = e->c;
  const af_sig *sig = &c->funcs[c->entry].sig;
  const af_abi *abi = af_abi_get(AF_CC_SYSV);
  memset(r, 0, sizeof *r);
  for (int i = AF_RAX; i <= AF_R15; i++)
    r->gpr[i] = (abi->callee_saved >> i) & 1 ? CANARY_GPR | (uint64_t)i : emu_garbage(e);
  for (int x = 0; x < 16; x++)
    emu_garbage_fill(e, r->xmm[x], 16);
  r->rflags = 0x202;
  uint64_t top = (uint64_t)(uintptr_t)e->stack + EMU_STACK;
  emu_scratch s = {top - EMU_SCRATCH};
  e->scratch_lo = s.next;
  uint64_t *argv = (uint64_t *)(void *)emu_scratch_alloc(e, &s, 8u * AF_MAX_PARAMS, 8);
  if (!argv) return "emu: scratch area full";
  for (int i = 0; i < sig->nparams; i++) {
    const af_value *v = &c->inputs[i];
    int t = sig->params[i];
    uint32_t size = emu_type_size(c, t);
    uint8_t *copy =
        emu_scratch_alloc(e, &s, size ? size : 1, t == AF_T_PTR ? 8 : c->types[t].alignment);
    if (!copy) return "emu: scratch area full";
    if (t == AF_T_PTR) {
      uint64_t a = v->obj >= 0 && v->obj < c->nobjects ? (uint64_t)(uintptr_t)e->objects[v->obj]
                                                       : (uint64_t)(uintptr_t)e->objmem;
      memcpy(copy, &a, 8);
    } else {
      emu_garbage_fill(e, copy, size);
      uint8_t mask[AF_MAX_TYPE_SIZE];
      memset(mask, 0, size);
      emu_defined_mask(c, t, mask, 0);
      for (uint32_t b = 0; b < size && b < v->size; b++)
        if (mask[b]) copy[b] = v->bytes[b];
    }
    argv[i] = (uint64_t)(uintptr_t)copy;
  }
  uint32_t rsize = sig->ret == AF_T_VOID ? 16 : emu_type_size(c, sig->ret);
  *ret = emu_scratch_alloc(e, &s, rsize, 64);
  if (!*ret) return "emu: scratch area full";
  memset(*ret, 0, rsize);
  uint64_t rsp = (e->scratch_lo - EMU_CALLER) & ~(uint64_t)15;
  e->rsp0 = rsp;
  uint8_t *sp = (uint8_t *)(uintptr_t)rsp;
  emu_garbage_fill(e, sp - 1024, (size_t)(e->scratch_lo - rsp) + 1024);
  emu_frame *f = &e->frames[0];
  memset(f, 0, sizeof *f);
  f->fn = c->entry;
  f->entry = rsp - 8;
  f->stub = 1;
  emu_allow(f, (uint64_t)(uintptr_t)*ret, rsize);
  r->gpr[AF_RDI] = (uint64_t)(uintptr_t)af_jit_fn(e->jit, c->entry);
  r->gpr[AF_RSI] = (uint64_t)(uintptr_t)argv;
  r->gpr[AF_RDX] = (uint64_t)(uintptr_t)*ret;
  uint64_t ra = (uint64_t)(uintptr_t)e->trap + EMU_SENTINEL_OFF;
  memcpy(sp - 8, &ra, 8);
  r->gpr[AF_RSP] = rsp - 8;
  return NULL;
}

#else
typedef int emu_stub_unused; /* ISO C: no empty translation unit */
#endif
