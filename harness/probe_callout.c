/* probe_callout.c - the callout probe's C side: checks a host call, then clobbers what it may. */
#include <stdio.h>
#include <string.h>

#include "probe_internal.h"

af_probe_co_state af_probe_co;

/* 1 if [a, a + size) lies in the probe stack: every caller frame of a run is there, so every
 * by-reference copy and sret buffer a caller makes must be too. */
static int in_stack(const af_probe *p, uint64_t a, uint32_t size) {
  return a >= (uint64_t)(uintptr_t)p->lo && a + size <= (uint64_t)(uintptr_t)p->hi;
}

/* Where argument i of the call lies; its bytes copied to buf (a ptr: its 8 bytes). *ref gets
 * the by-reference copy's address (NULL otherwise). Returns 0 for a by-reference pointer
 * outside the probe stack (not read: it would crash the probe). */
static int read_arg(const af_probe *p, const af_loc *l, int t, af_probe_co_state *s, uint8_t *buf,
                    uint8_t **ref) {
  const af_case *c = p->o->c;
  uint8_t *at_call = (uint8_t *)(uintptr_t)(s->entry.gpr[AF_RSP] + 8); /* RSP at the call */
  uint32_t size = probe_type_size(c, t);
  *ref = NULL;
  switch (l->kind) {
  case AF_LOC_REG:
    for (int k = 0; k < l->nparts; k++)
      memcpy(buf + l->parts[k].offset, probe_reg_bytes(&s->entry, l->parts[k].reg),
             l->parts[k].size);
    break;
  case AF_LOC_STACK: memcpy(buf, at_call + l->stack_offset, size); break;
  case AF_LOC_REF: {
    uint64_t a;
    if (l->nparts == 1)
      memcpy(&a, probe_reg_bytes(&s->entry, l->parts[0].reg), 8);
    else
      memcpy(&a, at_call + l->stack_offset, 8);
    if (!in_stack(p, a, size)) return 0;
    *ref = (uint8_t *)(uintptr_t)a;
    memcpy(buf, *ref, size);
    break;
  }
  default: break;
  }
  return 1;
}

/* SysV AF_EXT_TO_32: the low 32 bits of the register or slot holding a narrow argument. */
static int ext_ok(int t, uint32_t x) {
  switch (t) {
  case AF_T_BOOL: return x <= 1; /* bits 1-7 zero (psABI 3.2.3), 8-31 extended */
  case AF_T_I8: return (int32_t)x == (int8_t)x;
  case AF_T_U8: return x <= 0xff;
  case AF_T_I16: return (int32_t)x == (int16_t)x;
  default: return x <= 0xffff;
  }
}

void af_probe_callout_pre(af_probe_co_state *s) {
  af_probe *p = af_probe_cur;
  int k = (int)s->index;
  s->real = p && k < p->o->c->nfuncs ? p->o->real[k] : NULL;
  if (!s->real) return; /* not in a run: crash in the call, the worker reports it */
  const af_case *c = p->o->c;
  const af_sig *sig = &c->funcs[k].sig;
  const af_callinfo *ci = &p->ci[k];
  const af_abi *abi = af_abi_get(sig->cc);
  int n = p->ncalls++;
  p->co_k = k;
  p->co_nrefs = 0;
  char what[64];
  snprintf(what, sizeof what, "call %d to f%d", n, k);
  /* psABI 3.2.2 / MS-SU: RSP at the call aligned (more for over-aligned stack slots) */
  uint64_t align = (uint64_t)abi->stack_align;
  for (int i = 0; i < sig->nparams; i++)
    if (ci->args[i].kind == AF_LOC_STACK && ci->args[i].stack_align > align)
      align = ci->args[i].stack_align;
  uint64_t at_call = s->entry.gpr[AF_RSP] + 8;
  if (at_call % align)
    probe_add(p, "stack-align", what, "RSP at the call is 0x%llx: %llu mod %llu",
              (unsigned long long)at_call, (unsigned long long)(at_call % align),
              (unsigned long long)align);
  if (s->entry.rflags & 0x400) probe_add(p, "df", what, "DF set at the call (psABI 3.2.1)");
  if ((s->entry.mxcsr ^ PROBE_MXCSR) & 0xffc0u)
    probe_add(p, "mxcsr", what, "control bits 0x%04x at the call, expected 0x%04x",
              s->entry.mxcsr & 0xffc0u, PROBE_MXCSR & 0xffc0u);
  if ((s->entry.fcw ^ PROBE_FCW) & 0x1f3fu)
    probe_add(p, "x87cw", what, "0x%04x at the call, expected 0x%04x", s->entry.fcw, PROBE_FCW);
  if (abi->vararg_al && sig->variadic) { /* psABI 3.5.7 */
    unsigned al = (unsigned)(s->entry.gpr[AF_RAX] & 0xff);
    if (al < (unsigned)ci->sse_used || al > 8)
      probe_add(p, "vararg-al", what, "AL = %u, %d vector register(s) used (AL must be in %d..8)",
                al, ci->sse_used, ci->sse_used);
  }
  const af_host_call *hc = NULL;
  const af_interp_result *w = p->o->want;
  if (w && n < w->nhost_calls) {
    hc = &w->host_calls[n];
    if (hc->callee != k) {
      probe_add(p, "host-calls", what, "the trace's call %d is to f%d", n, hc->callee);
      hc = NULL;
    }
  }
  /* the sret buffer: in the caller's frame, so in the probe stack (MS-CC, psABI 3.2.3) */
  int wild = 0;
  if (ci->sret) {
    uint64_t a = s->entry.gpr[abi->sret_in];
    if (!in_stack(p, a, c->types[sig->ret].size)) {
      probe_add(p, "sret-ptr", what, "%s = 0x%016llx: not a buffer in the caller's stack",
                af_reg_name(abi->sret_in), (unsigned long long)a);
      wild = 1;
    }
  }
  uint8_t buf[AF_MAX_TYPE_SIZE + 16];
  for (int i = 0; i < sig->nparams; i++) {
    const af_loc *l = &ci->args[i];
    int t = sig->params[i];
    uint8_t *ref;
    memset(buf, 0, probe_type_size(c, t) + 8);
    char awhat[64];
    snprintf(awhat, sizeof awhat, "arg %d of call %d to f%d", i, n, k);
    if (!read_arg(p, l, t, s, buf, &ref)) {
      probe_add(p, "arg", awhat, "by-reference pointer outside the caller's stack");
      wild = 1;
      continue;
    }
    if (ref && p->co_nrefs < AF_MAX_PARAMS) {
      p->co_ref[p->co_nrefs] = ref;
      p->co_ref_size[p->co_nrefs++] = probe_type_size(c, t);
    }
    if (hc && i < hc->nargs) {
      char where[128], detail[300];
      if (af_value_diff(c, &hc->args[i], buf, p->o->objects, where, sizeof where, detail,
                        sizeof detail))
        probe_add(p, "arg", awhat, "%s%s%s", where, *where ? ": " : "", detail);
    }
    /* MS-CC "Varargs": a floating-point value also in the slot's integer register */
    if (l->dup != AF_REG_NONE && l->kind == AF_LOC_REG) {
      uint64_t g = s->entry.gpr[l->dup], x = 0;
      memcpy(&x, probe_reg_bytes(&s->entry, l->parts[0].reg), l->parts[0].size);
      if (l->parts[0].size < 8) g &= (1ull << (8 * l->parts[0].size)) - 1;
      if (g != x)
        probe_add(p, "vararg-dup", awhat, "%s holds 0x%016llx, %s 0x%016llx", af_reg_name(l->dup),
                  (unsigned long long)g, af_reg_name(l->parts[0].reg), (unsigned long long)x);
    }
    /* SysV: narrow integers extended to 32 bits by the caller (abi.c narrow_ext) */
    if (abi->narrow_ext == AF_EXT_TO_32 && probe_is_narrow(t) &&
        (l->kind == AF_LOC_REG || l->kind == AF_LOC_STACK)) {
      uint32_t x;
      if (l->kind == AF_LOC_REG)
        memcpy(&x, probe_reg_bytes(&s->entry, l->parts[0].reg), 4);
      else
        memcpy(&x, (uint8_t *)(uintptr_t)at_call + l->stack_offset, 4);
      if (!ext_ok(t, x)) {
        char tn[16];
        probe_add(p, "arg-ext", awhat, "%s in %s: low 32 bits 0x%08x, not extended",
                  af_type_name(c, t, tn, sizeof tn),
                  l->kind == AF_LOC_REG ? af_reg_name(l->parts[0].reg) : "its stack slot", x);
      }
    }
  }
  /* a wild pointer would crash the real implementation: the run has failed already, so the
   * call returns at once (garbage results) and the checks above are its findings */
  p->co_wild = wild;
  if (wild) {
    s->real = (const void *)af_probe_noop;
    p->co_nrefs = 0;
  }
}

void af_probe_callout_post(af_probe_co_state *s) {
  af_probe *p = af_probe_cur;
  int k = p->co_k;
  const af_case *c = p->o->c;
  const af_sig *sig = &c->funcs[k].sig;
  const af_callinfo *ci = &p->ci[k];
  const af_abi *abi = af_abi_get(sig->cc);
  af_probe_regs *x = &s->exit;
  /* volatile registers: garbage; callee-saved: as at the call */
  for (int r = AF_RAX; r <= AF_R15; r++)
    x->gpr[r] = (abi->callee_saved >> r) & 1 ? s->entry.gpr[r] : probe_garbage(p);
  for (int v = 0; v < 16; v++) {
    if ((abi->callee_saved >> (AF_XMM0 + v)) & 1)
      memcpy(x->xmm[v], s->entry.xmm[v], 16);
    else
      probe_garbage_fill(p, x->xmm[v], 16);
  }
  x->rflags = 0x202; /* DF clear (psABI 3.2.1) */
  x->mxcsr = s->entry.mxcsr;
  x->fcw = s->entry.fcw;
  /* the return value: only its own bytes; above a narrow value the registers hold garbage
   * (psABI 3.2.3 and MS-CC leave them undefined) */
  const af_loc *l = &ci->ret;
  if (l->kind == AF_LOC_REG) {
    for (int i = 0; i < l->nparts; i++) {
      const af_part *pt = &l->parts[i];
      const uint8_t *src = pt->reg == AF_RAX    ? (const uint8_t *)&s->post_rax
                           : pt->reg == AF_RDX  ? (const uint8_t *)&s->post_rdx
                           : pt->reg == AF_XMM0 ? s->post_xmm0
                                                : s->post_xmm1;
      memcpy(probe_reg_bytes(x, pt->reg), src, pt->size);
    }
  } else if (l->kind == AF_LOC_SRET) {
    x->gpr[abi->sret_out] = s->post_rax;
  }
  /* padding bytes of a returned aggregate are undefined too (registers and sret buffer) */
  if (sig->ret >= AF_T_NSCALAR || sig->ret == AF_T_F80) {
    uint8_t mask[AF_MAX_TYPE_SIZE];
    uint32_t size = c->types[sig->ret].size;
    memset(mask, 0, size);
    probe_defined_mask(c, sig->ret, mask, 0);
    for (int i = 0; l->kind == AF_LOC_REG && i < l->nparts; i++)
      for (uint32_t b = 0; b < l->parts[i].size; b++)
        if (!mask[l->parts[i].offset + b])
          probe_reg_bytes(x, l->parts[i].reg)[b] = (uint8_t)probe_garbage(p);
    uint8_t *buf = (uint8_t *)(uintptr_t)s->entry.gpr[abi->sret_in];
    for (uint32_t b = 0; l->kind == AF_LOC_SRET && !p->co_wild && b < size; b++)
      if (!mask[b]) buf[b] = (uint8_t)probe_garbage(p);
  }
  /* the argument area belongs to the callee (psABI 3.2.2, MS-SU): garbage over its slots */
  uint8_t *at_call = (uint8_t *)(uintptr_t)(s->entry.gpr[AF_RSP] + 8);
  for (int i = 0; i < sig->nparams; i++) {
    const af_loc *a = &ci->args[i];
    if (a->kind == AF_LOC_STACK || (a->kind == AF_LOC_REF && a->nparts == 0))
      probe_garbage_fill(p, at_call + a->stack_offset, a->stack_size);
  }
  /* the callee owns its home space and its by-reference copies (MS-SU, MS-CC) */
  if (abi->home_space)
    probe_garbage_fill(p, (uint8_t *)(uintptr_t)(s->entry.gpr[AF_RSP] + 8),
                       (size_t)abi->home_space);
  for (int i = 0; i < p->co_nrefs; i++)
    probe_garbage_fill(p, p->co_ref[i], p->co_ref_size[i]);
}
