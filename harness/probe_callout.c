/* probe_callout.c - the callout probe's C side: checks a host call, then clobbers what it may. */
#include <stdio.h>
#include <string.h>

#include "probe_internal.h"

af_probe_co_state af_probe_co;

uint64_t probe_call_align(const af_callinfo *ci, const af_abi *abi) {
  uint64_t align = (uint64_t)abi->stack_align;
  for (int i = 0; i < ci->nargs; i++)
    if (ci->args[i].kind == AF_LOC_STACK && ci->args[i].stack_align > align)
      align = ci->args[i].stack_align;
  return align;
}

/* 1 if [a, a + size) lies in the probe stack: every caller frame of a run is there, so every
 * by-reference copy and sret buffer a caller makes must be too. */
int probe_in_stack(const af_probe *p, uint64_t a, uint32_t size) {
  uint64_t lo = (uint64_t)(uintptr_t)p->lo, hi = (uint64_t)(uintptr_t)p->hi;
  return a >= lo && a <= hi && size <= hi - a; /* no overflow for a wild a near 2^64 */
}

uint64_t probe_u64(const uint8_t *b) {
  uint64_t x;
  memcpy(&x, b, 8);
  return x;
}

int probe_wild_local(const af_probe *p, const af_value *want, const uint8_t *got) {
  return want->type == AF_T_PTR && want->obj < 0 &&
         !probe_in_stack(p, probe_u64(got), AF_REGION_SIZE);
}

uint8_t *probe_poison_region(const af_probe *p) {
  return (uint8_t *)(((uintptr_t)p->poison + PROBE_POISON / 2) & ~(uintptr_t)63);
}

/* Where argument i of the call lies; its bytes copied to buf (a ptr: its 8 bytes). *ref gets
 * the by-reference copy's address (NULL otherwise). Returns 0 for a by-reference pointer
 * outside the probe stack (not read: it would crash the probe). */
static int read_arg(const af_probe *p, const af_loc *l, int t, const af_probe_regs *e, uint8_t *buf,
                    uint8_t **ref) {
  const af_case *c = p->o->c;
  uint8_t *at_call = (uint8_t *)(uintptr_t)(e->gpr[AF_RSP] + 8); /* RSP at the call */
  af_probe_regs *r = (af_probe_regs *)e;
  uint32_t size = probe_type_size(c, t);
  *ref = NULL;
  switch (l->kind) {
  case AF_LOC_REG:
    for (int k = 0; k < l->nparts; k++)
      probe_copy(buf + l->parts[k].offset, probe_reg_bytes(r, l->parts[k].reg), l->parts[k].size);
    break;
  case AF_LOC_STACK: probe_copy(buf, at_call + l->stack_offset, size); break;
  case AF_LOC_REF: {
    uint64_t a;
    if (l->nparts == 1)
      memcpy(&a, probe_reg_bytes(r, l->parts[0].reg), 8);
    else
      memcpy(&a, at_call + l->stack_offset, 8);
    if (!probe_in_stack(p, a, size)) return 0;
    *ref = (uint8_t *)(uintptr_t)a;
    memcpy(buf, *ref, size);
    break;
  }
  default: break;
  }
  return 1;
}

const af_host_call *probe_record(af_probe *p, int m, int n, int k, const char *check) {
  const af_interp_result *w = p->o->want;
  const af_host_call *hc = NULL;
  if (w && p->o->code && w->calls) { /* every call goes through a probe: m counts them all */
    if (m < w->ncalls) hc = &w->calls[m];
  } else if (w && n >= 0 && n < w->nhost_calls) { /* only host calls do */
    hc = &w->host_calls[n];
  }
  if (hc && hc->callee != k) {
    char what[64];
    snprintf(what, sizeof what, "call %d to f%d", m, k);
    probe_add(p, check, what, "the trace's call %d is to f%d", m, hc->callee);
    hc = NULL;
  }
  return hc;
}

/* "call M to fK" or "arg I of call M to fK" into buf, once: the checks below name their
 * finding so, but formatting it for every call and argument that passes cost more than the
 * checks themselves (doc/benchmarks.md). */
static const char *call_what(char *buf, size_t n, int i, int m, int k) {
  if (!buf[0]) {
    if (i < 0)
      snprintf(buf, n, "call %d to f%d", m, k);
    else
      snprintf(buf, n, "arg %d of call %d to f%d", i, m, k);
  }
  return buf;
}

void probe_check_call(af_probe *p, probe_call *pc, const af_probe_regs *e) {
  const af_case *c = p->o->c;
  int k = pc->k, m = pc->m;
  const af_sig *sig = &c->funcs[k].sig;
  const af_callinfo *ci = &p->cis[k];
  const af_abi *abi = af_abi_get(sig->cc);
  const af_host_call *hc = pc->rec;
  pc->nrefs = 0;
  pc->wild = 0;
  pc->sret_fix = 0;
  pc->bad = 0;
  probe_observe(p, AF_PROBE_EV_CALL, pc, -1, e, NULL, NULL, 0, NULL);
  char what[64] = "", awhat[64]; /* formatted when a finding needs them (call_what) */
  /* psABI 3.2.2 / MS-SU: RSP at the call aligned (more for over-aligned stack slots) */
  uint64_t align = p->call_align[k];
  uint64_t at_call = e->gpr[AF_RSP] + 8;
  if (at_call % align)
    probe_add(p, "stack-align", call_what(what, sizeof what, -1, m, k),
              "RSP at the call is 0x%llx: %llu mod %llu", (unsigned long long)at_call,
              (unsigned long long)(at_call % align), (unsigned long long)align);
  if (e->rflags & 0x400)
    probe_add(p, "df", call_what(what, sizeof what, -1, m, k), "DF set at the call (psABI 3.2.1)");
  if ((e->mxcsr ^ PROBE_MXCSR) & 0xffc0u)
    probe_add(p, "mxcsr", call_what(what, sizeof what, -1, m, k),
              "control bits 0x%04x at the call, expected 0x%04x", e->mxcsr & 0xffc0u,
              PROBE_MXCSR & 0xffc0u);
  if ((e->fcw ^ PROBE_FCW) & 0x1f3fu)
    probe_add(p, "x87cw", call_what(what, sizeof what, -1, m, k),
              "0x%04x at the call, expected 0x%04x", e->fcw, PROBE_FCW);
  if (abi->vararg_al && sig->variadic) { /* psABI 3.5.7 */
    unsigned al = (unsigned)(e->gpr[AF_RAX] & 0xff);
    if (al < (unsigned)ci->sse_used || al > 8)
      probe_add(p, "vararg-al", call_what(what, sizeof what, -1, m, k),
                "AL = %u, %d vector register(s) used (AL must be in %d..8)", al, ci->sse_used,
                ci->sse_used);
  }
  /* the sret buffer: in the caller's frame, so in the probe stack (MS-CC, psABI 3.2.3) */
  if (ci->sret) {
    uint64_t a = e->gpr[abi->sret_in];
    if (!probe_in_stack(p, a, c->types[sig->ret].size)) {
      probe_add(p, "sret-ptr", call_what(what, sizeof what, -1, m, k),
                "%s = 0x%016llx: not a buffer in the caller's stack", af_reg_name(abi->sret_in),
                (unsigned long long)a);
      pc->sret_fix = 1;
    }
  }
  uint8_t buf[AF_MAX_TYPE_SIZE + 16];
  for (int i = 0; i < sig->nparams; i++) {
    const af_loc *l = &ci->args[i];
    int t = sig->params[i];
    uint8_t *ref;
    uint32_t size = probe_type_size(c, t);
    /* most arguments: fixed-size stores, not a call to memset (nothing reads past size + 8) */
    if (size <= 16)
      memset(buf, 0, 24);
    else
      memset(buf, 0, size + 8);
    awhat[0] = 0;
    int readable = read_arg(p, l, t, e, buf, &ref);
    probe_observe(p, AF_PROBE_EV_ARG, pc, i, e, NULL, readable ? buf : NULL, size,
                  hc && i < hc->nargs ? &hc->args[i] : NULL);
    if (!readable) {
      probe_add(p, "arg", call_what(awhat, sizeof awhat, i, m, k),
                "by-reference pointer outside the caller's stack");
      if (hc && i < hc->nargs)
        pc->bad |= 1u << i; /* repaired: a fresh copy */
      else
        pc->wild = 1;
      continue;
    }
    if (hc && i < hc->nargs && !probe_same_value(&hc->args[i], buf)) {
      char where[128], detail[300];
      if (af_value_diff(c, &hc->args[i], buf, p->o->objects, where, sizeof where, detail,
                        sizeof detail)) {
        probe_add(p, "arg", call_what(awhat, sizeof awhat, i, m, k), "%s%s%s", where,
                  *where ? ": " : "", detail);
        pc->bad |= 1u << i;
      } else if (probe_wild_local(p, &hc->args[i], buf)) {
        probe_add(p, "arg", call_what(awhat, sizeof awhat, i, m, k),
                  "ptr: 0x%016llx, expected a local region in the caller's stack",
                  (unsigned long long)probe_u64(buf));
        pc->bad |= 1u << i;
      }
    }
    /* the callee owns the copy (scribbled after the return); not when the value was wrong:
     * then the pointer may name something else in the caller's frame */
    if (ref && !((pc->bad >> i) & 1) && pc->nrefs < AF_MAX_PARAMS) {
      pc->ref[pc->nrefs] = ref;
      pc->ref_size[pc->nrefs++] = size;
    }
    /* MS-CC "Varargs": a floating-point value also in the slot's integer register */
    if (l->dup != AF_REG_NONE && l->kind == AF_LOC_REG) {
      uint64_t g = e->gpr[l->dup], x = 0;
      memcpy(&x, probe_reg_bytes((af_probe_regs *)e, l->parts[0].reg), l->parts[0].size);
      if (l->parts[0].size < 8) g &= (1ull << (8 * l->parts[0].size)) - 1;
      if (g != x)
        probe_add(p, "vararg-dup", call_what(awhat, sizeof awhat, i, m, k),
                  "%s holds 0x%016llx, %s 0x%016llx", af_reg_name(l->dup), (unsigned long long)g,
                  af_reg_name(l->parts[0].reg), (unsigned long long)x);
    }
    /* SysV: narrow integers extended to 32 bits by the caller (abi.c narrow_ext) */
    if (abi->narrow_ext == AF_EXT_TO_32 && probe_is_narrow(t) &&
        (l->kind == AF_LOC_REG || l->kind == AF_LOC_STACK)) {
      uint32_t x;
      if (l->kind == AF_LOC_REG)
        memcpy(&x, probe_reg_bytes((af_probe_regs *)e, l->parts[0].reg), 4);
      else
        memcpy(&x, (uint8_t *)(uintptr_t)at_call + l->stack_offset, 4);
      if (!af_ext_holds(AF_EXT_TO_32, t, (const uint8_t *)&x)) {
        char tn[16];
        probe_add(p, "arg-ext", call_what(awhat, sizeof awhat, i, m, k),
                  "%s in %s: low 32 bits 0x%08x, not extended", af_type_name(c, t, tn, sizeof tn),
                  l->kind == AF_LOC_REG ? af_reg_name(l->parts[0].reg) : "its stack slot", x);
      }
    }
  }
  /* a wild pointer that cannot be repaired (no record) would crash the callee: the run has
   * failed already, so the call returns at once (garbage results) and the checks above are its
   * findings */
  if (pc->wild) pc->nrefs = 0;
}

/* Argument i of pc as the trace has it (see probe_repair_call). */
static void repair_arg(af_probe *p, const probe_call *pc, int i, af_probe_regs *x,
                       uint8_t *at_call) {
  const af_case *c = p->o->c;
  const af_sig *sig = &c->funcs[pc->k].sig;
  const af_loc *l = &p->cis[pc->k].args[i];
  const af_value *v = &pc->rec->args[i];
  int t = sig->params[i];
  uint8_t buf[AF_MAX_TYPE_SIZE + 16];
  uint32_t size = probe_type_size(c, t);
  memset(buf, 0, sizeof buf);
  if (t == AF_T_PTR) {
    if (v->obj >= 0 && !p->o->objects) return;
    uint64_t a =
        (uint64_t)(uintptr_t)(v->obj >= 0 ? p->o->objects[v->obj] : probe_poison_region(p));
    memcpy(buf, &a, 8);
  } else {
    uint8_t mask[AF_MAX_TYPE_SIZE];
    memset(mask, 0, size);
    probe_defined_mask(c, t, mask, 0);
    for (uint32_t b = 0; b < size; b++)
      buf[b] = mask[b] ? v->bytes[b] : (uint8_t)probe_garbage(p);
  }
  int narrow = af_abi_get(sig->cc)->narrow_ext == AF_EXT_TO_32 && probe_is_narrow(t);
  switch (l->kind) {
  case AF_LOC_REG:
    for (int q = 0; q < l->nparts; q++) {
      const af_part *pt = &l->parts[q];
      uint8_t *r = probe_reg_bytes(x, pt->reg);
      memcpy(r, buf + pt->offset, pt->size > 16 ? 16 : pt->size);
      if (narrow && pt->reg <= AF_R15) af_ext_apply(AF_EXT_TO_32, t, r);
    }
    if (l->dup != AF_REG_NONE) memcpy(&x->gpr[l->dup], buf, size < 8 ? size : 8);
    break;
  case AF_LOC_STACK:
    memcpy(at_call + l->stack_offset, buf, size);
    if (narrow) af_ext_apply(AF_EXT_TO_32, t, at_call + l->stack_offset);
    break;
  case AF_LOC_REF: { /* a fresh copy: the pointer received may name another argument's */
    uint8_t *copy = probe_ref_copy(p, pc, i);
    uint64_t a = (uint64_t)(uintptr_t)copy;
    memcpy(copy, buf, size);
    if (l->nparts == 1)
      x->gpr[l->parts[0].reg] = a;
    else
      memcpy(at_call + l->stack_offset, &a, 8);
    break;
  }
  default: break;
  }
}

uint8_t *probe_ref_copy(const af_probe *p, const probe_call *pc, int i) {
  return p->refs + ((size_t)pc->slot * (AF_MAX_PARAMS + 1) + (size_t)i) * AF_MAX_TYPE_SIZE;
}

void probe_repair_call(af_probe *p, const probe_call *pc, af_probe_regs *e, af_probe_regs *x,
                       uint8_t *at_call) {
  const af_case *c = p->o->c;
  const af_sig *sig = &c->funcs[pc->k].sig;
  if (pc->sret_fix) { /* a buffer the callee may write: in the repair area */
    int r = af_abi_get(sig->cc)->sret_in;
    uint8_t *buf = probe_ref_copy(p, pc, AF_MAX_PARAMS);
    probe_garbage_fill(p, buf, c->types[sig->ret].size);
    e->gpr[r] = x->gpr[r] = (uint64_t)(uintptr_t)buf;
  }
  for (int i = 0; i < sig->nparams; i++)
    if ((pc->bad >> i) & 1) repair_arg(p, pc, i, x, at_call);
}

void af_probe_callout_pre(af_probe_co_state *s) {
  af_probe *p = af_probe_cur;
  int k = (int)s->index;
  s->real = p && k < p->o->c->nfuncs ? p->o->real[k] : NULL;
  if (!s->real) return; /* not in a run: crash in the call, the worker reports it */
  probe_call *pc = &p->co;
  pc->k = k;
  pc->slot = PROBE_IPZ_DEPTH;
  pc->m = p->nall++;
  pc->rec = probe_record(p, pc->m, p->ncalls++, k, "host-calls");
  probe_check_call(p, pc, &s->entry);
  if (pc->wild)
    s->real = (const void *)af_probe_noop;
  else
    probe_repair_call(p, pc, &s->entry, &s->entry,
                      (uint8_t *)(uintptr_t)(s->entry.gpr[AF_RSP] + 8));
}

void probe_exit_image(af_probe *p, const probe_call *pc, const af_probe_regs *e, af_probe_regs *x,
                      uint64_t rax, uint64_t rdx, const uint8_t *xmm0, const uint8_t *xmm1) {
  int k = pc->k;
  const af_case *c = p->o->c;
  const af_sig *sig = &c->funcs[k].sig;
  const af_callinfo *ci = &p->cis[k];
  const af_abi *abi = af_abi_get(sig->cc);
  /* volatile registers: garbage; callee-saved: as at the call. A volatile GPR that holds no
   * part of the return value gets an address in the poison area: a caller that still uses it
   * as a pointer after the call (wasmtime #5023) reads garbage and writes where nothing looks,
   * so its result shows the bug instead of a crash that hides the findings made so far. */
  const af_loc *l = &ci->ret;
  uint32_t ret_regs = 0;
  for (int i = 0; l->kind == AF_LOC_REG && i < l->nparts; i++)
    ret_regs |= 1u << l->parts[i].reg;
  if (l->kind == AF_LOC_SRET) ret_regs |= 1u << abi->sret_out;
  probe_rng gs = probe_rng_take(p);
  for (int r = AF_RAX; r <= AF_R15; r++) {
    uint64_t g = probe_xoshiro(gs.s);
    if ((abi->callee_saved >> r) & 1)
      x->gpr[r] = e->gpr[r];
    else if ((ret_regs >> r) & 1)
      x->gpr[r] = g;
    else
      x->gpr[r] = (uint64_t)(uintptr_t)p->poison + 4096 + (g % (PROBE_POISON - 8192) & ~7ull);
  }
  x->gpr[AF_RSP] = e->gpr[AF_RSP];
  if (!probe_saved_xmms(abi)) /* SysV: every XMM register volatile, no test per register */
    for (int v = 0; v < 16; v++) {
      uint64_t lo = probe_xoshiro(gs.s), hi = probe_xoshiro(gs.s);
      probe_put128(x->xmm[v], lo, hi);
    }
  else
    for (int v = 0; v < 16; v++) {
      if ((abi->callee_saved >> (AF_XMM0 + v)) & 1) {
        memcpy(x->xmm[v], e->xmm[v], 16);
      } else { /* probe_garbage_fill's 16 bytes: low half first */
        uint64_t lo = probe_xoshiro(gs.s), hi = probe_xoshiro(gs.s);
        probe_put128(x->xmm[v], lo, hi);
      }
    }
  probe_rng_put(p, &gs);
  x->rflags = 0x202; /* DF clear (psABI 3.2.1) */
  x->mxcsr = e->mxcsr;
  x->fcw = e->fcw;
  /* the return value: only its own bytes; above a narrow value the registers hold garbage
   * (psABI 3.2.3 and MS-CC leave them undefined) */
  if (l->kind == AF_LOC_REG) {
    for (int i = 0; i < l->nparts; i++) {
      const af_part *pt = &l->parts[i];
      const uint8_t *src = pt->reg == AF_RAX    ? (const uint8_t *)&rax
                           : pt->reg == AF_RDX  ? (const uint8_t *)&rdx
                           : pt->reg == AF_XMM0 ? xmm0
                                                : xmm1;
      probe_copy(probe_reg_bytes(x, pt->reg), src, pt->size);
    }
  } else if (l->kind == AF_LOC_SRET) {
    x->gpr[abi->sret_out] = rax;
  }
  /* padding bytes of a returned aggregate are undefined too (registers and sret buffer) */
  if (sig->ret >= AF_T_NSCALAR || sig->ret == AF_T_F80) {
    uint8_t mask[AF_MAX_TYPE_SIZE];
    uint32_t size = c->types[sig->ret].size;
    memset(mask, 0, size);
    probe_defined_mask(c, sig->ret, mask, 0);
    for (int i = 0; l->kind == AF_LOC_REG && i < l->nparts; i++)
      probe_garbage_pad(p, probe_reg_bytes(x, l->parts[i].reg), mask + l->parts[i].offset,
                        l->parts[i].size);
    if (l->kind == AF_LOC_SRET && !pc->wild)
      probe_garbage_pad(p, (uint8_t *)(uintptr_t)e->gpr[abi->sret_in], mask, size);
  }
  /* the argument area belongs to the callee (psABI 3.2.2, MS-SU): garbage over its slots */
  uint8_t *at_call = (uint8_t *)(uintptr_t)(e->gpr[AF_RSP] + 8);
  for (int i = 0; i < sig->nparams; i++) {
    const af_loc *a = &ci->args[i];
    if (a->kind == AF_LOC_STACK || (a->kind == AF_LOC_REF && a->nparts == 0))
      probe_garbage_fill(p, at_call + a->stack_offset, a->stack_size);
  }
  /* the callee owns its home space and its by-reference copies (MS-SU, MS-CC) */
  if (abi->home_space) probe_garbage_fill(p, at_call, (size_t)abi->home_space);
  for (int i = 0; i < pc->nrefs; i++)
    probe_garbage_fill(p, pc->ref[i], pc->ref_size[i]);
}

/* The host callee's return value for the observer (registers as the real implementation left
 * them, an sret buffer; an x87 return is not read: it stays on the x87 stack). */
static void observe_host_return(af_probe *p, af_probe_co_state *s) {
  const probe_call *pc = &p->co;
  const af_case *c = p->o->c;
  const af_sig *sig = &c->funcs[pc->k].sig;
  const af_loc *l = &p->cis[pc->k].ret;
  af_probe_regs r = s->entry;
  r.gpr[AF_RAX] = s->post_rax;
  r.gpr[AF_RDX] = s->post_rdx;
  memcpy(r.xmm[0], s->post_xmm0, 16);
  memcpy(r.xmm[1], s->post_xmm1, 16);
  r.gpr[AF_RSP] = s->post_rsp;
  uint8_t ret[AF_MAX_TYPE_SIZE + 16];
  memset(ret, 0, sizeof ret);
  const uint8_t *got = ret;
  uint32_t size = sig->ret == AF_T_VOID ? 0 : probe_type_size(c, sig->ret);
  switch (l->kind) {
  case AF_LOC_REG:
    for (int q = 0; q < l->nparts; q++)
      memcpy(ret + l->parts[q].offset, probe_reg_bytes(&r, l->parts[q].reg), l->parts[q].size);
    break;
  case AF_LOC_SRET: {
    uint64_t a = s->entry.gpr[af_abi_get(sig->cc)->sret_in];
    if (probe_in_stack(p, a, size))
      memcpy(ret, (const void *)(uintptr_t)a, size);
    else
      got = NULL;
    break;
  }
  case AF_LOC_X87: got = NULL; break;
  default: break;
  }
  probe_observe(p, AF_PROBE_EV_RETURN, pc, -1, &r, &s->entry, got, size,
                pc->rec ? &pc->rec->ret : NULL);
}

void af_probe_callout_post(af_probe_co_state *s) {
  af_probe *p = af_probe_cur;
  if (p->obs) observe_host_return(p, s);
  probe_exit_image(p, &p->co, &s->entry, &s->exit, s->post_rax, s->post_rdx, s->post_xmm0,
                   s->post_xmm1);
}
