/* probe_interpose.c - interposers: af_probe_enter (mode "interpose") and af_interpose_K. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "probe_internal.h"

af_probe_ip_state af_probe_ip;

/* What the armed interposer checks for and reports to (global: see probe.h). */
static struct {
  af_cc cc;
  af_findings *fs;
  const char *leg;
  int entered;
} ip;

#define IP_CANARY_GPR 0x1c7e5a11ed000000ull
#define IP_CANARY_XMM 0x1c7ec5c500000000ull

void af_probe_interpose_arm(af_cc cc, const void *target, af_findings *fs, const char *leg) {
  ip.cc = cc;
  ip.fs = fs;
  ip.leg = leg;
  ip.entered = 0;
  af_probe_ip.target = target;
}

int af_probe_interpose_disarm(void) {
  int n = ip.entered;
  ip.fs = NULL;
  af_probe_ip.target = NULL;
  return n;
}

void af_probe_enter_pre(af_probe_ip_state *s) {
  const af_abi *abi = af_abi_get(ip.cc);
  ip.entered++;
  s->call = s->entry;
  for (int r = AF_RAX; r <= AF_R15; r++)
    if (r != AF_RSP && (abi->callee_saved >> r) & 1)
      s->call.gpr[r] = IP_CANARY_GPR | (uint64_t)(ip.entered << 8) | (uint64_t)r;
  for (int x = 0; x < 16; x++)
    if ((abi->callee_saved >> (AF_XMM0 + x)) & 1) {
      uint64_t lo = IP_CANARY_XMM | (uint64_t)x, hi = IP_CANARY_XMM | (uint64_t)(0x80 + x);
      memcpy(s->call.xmm[x], &lo, 8);
      memcpy(s->call.xmm[x] + 8, &hi, 8);
    }
}

static void ip_add(const char *check, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void ip_add(const char *check, const char *what, const char *fmt, ...) {
  if (!ip.fs) return;
  char d[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(d, sizeof d, fmt, ap);
  va_end(ap);
  af_findings_add(ip.fs, ip.leg ? ip.leg : "interpose", check, what, "%s", d);
}

void af_probe_enter_post(af_probe_ip_state *s) {
  const af_abi *abi = af_abi_get(ip.cc);
  af_probe_regs *x = &s->call; /* becomes the exit image */
  for (int r = AF_RAX; r <= AF_R15; r++) {
    if (r == AF_RSP) continue;
    int saved = (abi->callee_saved >> r) & 1;
    if (saved && s->out.gpr[r] != x->gpr[r])
      ip_add("callee-saved", af_reg_name((af_reg)r), "canary 0x%016llx, got 0x%016llx",
             (unsigned long long)x->gpr[r], (unsigned long long)s->out.gpr[r]);
    x->gpr[r] = saved ? s->entry.gpr[r] : s->out.gpr[r];
  }
  for (int v = 0; v < 16; v++) {
    int saved = (abi->callee_saved >> (AF_XMM0 + v)) & 1;
    if (saved && memcmp(s->out.xmm[v], x->xmm[v], 16)) {
      uint64_t a, b;
      memcpy(&a, x->xmm[v], 8);
      memcpy(&b, s->out.xmm[v], 8);
      ip_add("callee-saved", af_reg_name((af_reg)(AF_XMM0 + v)),
             "canary (low half) 0x%016llx, got 0x%016llx", (unsigned long long)a,
             (unsigned long long)b);
    }
    memcpy(x->xmm[v], saved ? s->entry.xmm[v] : s->out.xmm[v], 16);
  }
  /* the target returned to RSP at entry + 8 (the return address popped) */
  if (s->out.gpr[AF_RSP] != s->entry.gpr[AF_RSP] + 8)
    ip_add("rsp", "rsp", "expected 0x%llx after the return, got 0x%llx",
           (unsigned long long)(s->entry.gpr[AF_RSP] + 8), (unsigned long long)s->out.gpr[AF_RSP]);
  if (s->out.rflags & 0x400) ip_add("df", "rflags", "DF set after the return (psABI 3.2.1)");
  if ((s->out.mxcsr ^ s->entry.mxcsr) & 0xffc0u)
    ip_add("mxcsr", "mxcsr", "0x%04x at the call, 0x%04x after", s->entry.mxcsr, s->out.mxcsr);
  if ((s->out.fcw ^ s->entry.fcw) & 0x1f3fu)
    ip_add("x87cw", "fcw", "0x%04x at the call, 0x%04x after", s->entry.fcw, s->out.fcw);
  x->rflags = s->out.rflags & ~0x400ull;
  x->mxcsr = s->entry.mxcsr;
  x->fcw = s->entry.fcw;
}

/* ---- the nested interposers af_interpose_K: every call between JIT functions ------------ */
af_probe_ipz_frame af_probe_ipz[PROBE_IPZ_DEPTH];
af_probe_ipz_frame *af_probe_ipz_next = af_probe_ipz;
const void *af_probe_ipz_target;

/* Canaries of the interposed callee's callee-saved registers: per register and depth. */
#define IPZ_CANARY_GPR 0xca11eeca5a000000ull
#define IPZ_CANARY_XMM 0xca11eec500000000ull

/* Where the callee gets its stack arguments: RSP at the call, unless the caller misaligned it
 * (finding "stack-align" made): then a copy of the argument area at an aligned RSP further
 * down the probe stack, so that the callee's own aligned accesses do not crash the run. */
static uint64_t call_rsp(af_probe *p, int k, const af_callinfo *ci, uint64_t entry) {
  uint64_t at_call = entry + 8, align = p->call_align[k];
  if (at_call % align == 0) return at_call;
  uint64_t n = ci->stack_bytes;
  uint64_t to = (entry - 8192 - n) & ~(align - 1); /* below the handler's frame */
  if (to < (uint64_t)(uintptr_t)p->lo + 65536) return at_call;
  memmove((void *)(uintptr_t)to, (const void *)(uintptr_t)at_call, n);
  return to;
}

/* The registers the callee gets: its arguments' bytes as the caller passed them (nothing
 * beyond a part but the SysV extension of a narrow integer, the Win64 variadic duplicate, the
 * sret pointer, AL of a SysV variadic call), canaries in the callee-saved registers of its
 * convention, garbage elsewhere; DF clear, MXCSR and x87 CW the convention's defaults. */
static void call_image(af_probe *p, const probe_call *pc, int depth, const af_probe_regs *e,
                       af_probe_regs *x) {
  const af_case *c = p->o->c;
  const af_sig *sig = &c->funcs[pc->k].sig;
  const af_callinfo *ci = &p->cis[pc->k];
  const af_abi *abi = af_abi_get(sig->cc);
  af_probe_regs *er = (af_probe_regs *)e;
  probe_rng g = probe_rng_take(p);
  for (int r = AF_RAX; r <= AF_R15; r++)
    x->gpr[r] = (abi->callee_saved >> r) & 1
                    ? IPZ_CANARY_GPR | (uint64_t)depth << 16 | (uint64_t)pc->k << 8 | (uint64_t)r
                    : probe_xoshiro(g.s);
  uint32_t xs = probe_saved_xmms(abi);
  for (int v = 0; v < 16; v++) {
    uint64_t lo, hi;
    if ((xs >> v) & 1) {
      lo = IPZ_CANARY_XMM | (uint64_t)depth << 16 | (uint64_t)(0x100 + v);
      hi = IPZ_CANARY_XMM | (uint64_t)depth << 16 | (uint64_t)(0x200 + v);
    } else { /* probe_garbage_fill's 16 bytes: low half first */
      lo = probe_xoshiro(g.s);
      hi = probe_xoshiro(g.s);
    }
    probe_put128(x->xmm[v], lo, hi);
  }
  probe_rng_put(p, &g);
  for (int i = 0; i < sig->nparams; i++) {
    const af_loc *l = &ci->args[i];
    int narrow = abi->narrow_ext == AF_EXT_TO_32 && probe_is_narrow(sig->params[i]);
    if (l->kind == AF_LOC_REG) {
      for (int q = 0; q < l->nparts; q++) {
        const af_part *pt = &l->parts[q];
        uint32_t n = narrow && pt->reg <= AF_R15 ? 4 : pt->size;
        probe_copy(probe_reg_bytes(x, pt->reg), probe_reg_bytes(er, pt->reg), n > 16 ? 16 : n);
      }
      if (l->dup != AF_REG_NONE) x->gpr[l->dup] = e->gpr[l->dup];
    } else if (l->kind == AF_LOC_REF && l->nparts == 1) {
      x->gpr[l->parts[0].reg] = e->gpr[l->parts[0].reg];
    }
  }
  if (ci->sret) x->gpr[abi->sret_in] = e->gpr[abi->sret_in];
  x->gpr[AF_RSP] = call_rsp(p, pc->k, ci, e->gpr[AF_RSP]);
  if (abi->vararg_al && sig->variadic)
    x->gpr[AF_RAX] = (x->gpr[AF_RAX] & ~0xffull) | (e->gpr[AF_RAX] & 0xff);
  x->rflags = 0x202;
  x->mxcsr = PROBE_MXCSR;
  x->fcw = PROBE_FCW;
}

void af_probe_interpose_pre(af_probe_ipz_frame *s) {
  af_probe *p = af_probe_cur;
  int k = (int)s->index, depth = (int)(s - af_probe_ipz);
  af_probe_ipz_target = p && k < p->o->c->nfuncs && p->o->code ? p->o->code[k] : NULL;
  if (depth >= PROBE_IPZ_DEPTH - 1) af_probe_ipz_target = NULL; /* cannot be: calls go up */
  s->x87_ret = 0;
  if (!af_probe_ipz_target) return; /* a crash in the call: the worker reports it */
  probe_call *pc = &p->ipz[depth];
  pc->k = k;
  pc->slot = depth;
  pc->nhost0 = p->ncalls;
  pc->m = p->nall++;
  pc->rec = probe_record(p, pc->m, -1, k, "calls");
  probe_check_call(p, pc, &s->entry);
  call_image(p, pc, depth, &s->entry, &s->call);
  if (pc->wild) {
    af_probe_ipz_target = (const void *)af_probe_noop;
  } else {
    probe_repair_call(p, pc, &s->entry, &s->call, (uint8_t *)(uintptr_t)s->call.gpr[AF_RSP]);
    s->x87_ret = p->cis[k].ret.kind == AF_LOC_X87;
  }
}

static void hex16(char *out, size_t n, const uint8_t *x) {
  uint64_t lo, hi;
  memcpy(&lo, x, 8);
  memcpy(&hi, x + 8, 8);
  snprintf(out, n, "%016llx:%016llx", (unsigned long long)hi, (unsigned long long)lo);
}

/* What the callee owed its caller (the call probe's checks, named "REG in fK"), and its return
 * value against the trace's. */
static int check_callee(af_probe *p, const probe_call *pc, af_probe_ipz_frame *s) {
  const af_case *c = p->o->c;
  const af_sig *sig = &c->funcs[pc->k].sig;
  const af_callinfo *ci = &p->cis[pc->k];
  const af_abi *abi = af_abi_get(sig->cc);
  const af_probe_regs *in = &s->call, *out = &s->out;
  char what[64], a[40], b[40];
  /* the callee-saved registers only, in register order (SysV saves no XMM register: no loop) */
  for (uint32_t gs = probe_saved_gprs(abi); gs; gs &= gs - 1) {
    int r = __builtin_ctz(gs);
    if (out->gpr[r] == in->gpr[r]) continue;
    snprintf(what, sizeof what, "%s in f%d", af_reg_name((af_reg)r), pc->k);
    probe_add(p, "callee-saved", what, "call %d: canary 0x%016llx, got 0x%016llx", pc->m,
              (unsigned long long)in->gpr[r], (unsigned long long)out->gpr[r]);
  }
  for (uint32_t xs = probe_saved_xmms(abi); xs; xs &= xs - 1) {
    int x = __builtin_ctz(xs);
    if (!memcmp(in->xmm[x], out->xmm[x], 16)) continue;
    snprintf(what, sizeof what, "%s in f%d", af_reg_name((af_reg)(AF_XMM0 + x)), pc->k);
    hex16(a, sizeof a, in->xmm[x]);
    hex16(b, sizeof b, out->xmm[x]);
    probe_add(p, "callee-saved", what, "call %d: canary %s, got %s", pc->m, a, b);
  }
  /* "call M to fK", formatted only for a finding (a snprintf per call cost more than the
   * checks below) */
#define WHAT_CALL (snprintf(what, sizeof what, "call %d to f%d", pc->m, pc->k), what)
  if (out->gpr[AF_RSP] != in->gpr[AF_RSP])
    probe_add(p, "rsp", WHAT_CALL, "expected 0x%llx after the return, got 0x%llx (%+lld)",
              (unsigned long long)in->gpr[AF_RSP], (unsigned long long)out->gpr[AF_RSP],
              (long long)(out->gpr[AF_RSP] - in->gpr[AF_RSP]));
  if (out->rflags & 0x400)
    probe_add(p, "df", WHAT_CALL, "DF set after the return (psABI 3.2.1: clear on exit)");
  if ((out->mxcsr ^ in->mxcsr) & 0xffc0u)
    probe_add(p, "mxcsr", WHAT_CALL, "control bits 0x%04x at the call, 0x%04x after",
              in->mxcsr & 0xffc0u, out->mxcsr & 0xffc0u);
  if ((out->fcw ^ in->fcw) & 0x1f3fu)
    probe_add(p, "x87cw", WHAT_CALL, "0x%04x at the call, 0x%04x after", in->fcw, out->fcw);
  int used = probe_x87_used(s->fenv);
  if (used != (ci->ret.kind == AF_LOC_X87))
    probe_add(p, "x87-stack", WHAT_CALL, "%d x87 register(s) in use after the return, expected %d",
              used, ci->ret.kind == AF_LOC_X87);
  /* the return value, decoded per af_callinfo.ret */
  uint8_t ret[AF_MAX_TYPE_SIZE + 16];
  memset(ret, 0, sizeof ret);
  const af_loc *l = &ci->ret;
  af_probe_regs *o = &s->out;
  switch (l->kind) {
  case AF_LOC_REG:
    for (int q = 0; q < l->nparts; q++)
      probe_copy(ret + l->parts[q].offset, probe_reg_bytes(o, l->parts[q].reg), l->parts[q].size);
    break;
  case AF_LOC_SRET: {
    uint64_t buf = s->entry.gpr[abi->sret_in];
    memcpy(ret, (const void *)(uintptr_t)buf, c->types[sig->ret].size);
    if (out->gpr[abi->sret_out] != buf)
      probe_add(p, "sret-rax", WHAT_CALL, "%s: expected the sret buffer 0x%llx, got 0x%llx",
                af_reg_name(abi->sret_out), (unsigned long long)buf,
                (unsigned long long)out->gpr[abi->sret_out]);
    break;
  }
  case AF_LOC_X87: memcpy(ret, s->st0, 10); break;
  default: break;
  }
  probe_observe(p, AF_PROBE_EV_RETURN, pc, -1, out, in, ret,
                sig->ret == AF_T_VOID ? 0 : probe_type_size(c, sig->ret),
                pc->rec ? &pc->rec->ret : NULL);
  if (!pc->rec || probe_same_value(&pc->rec->ret, ret)) return 0;
  char where[128], detail[300];
  if (pc->rec && af_value_diff(c, &pc->rec->ret, ret, p->o->objects, where, sizeof where, detail,
                               sizeof detail)) {
    snprintf(what, sizeof what, "return of call %d to f%d", pc->m, pc->k);
    probe_add(p, "result", what, "%s%s%s", where, *where ? ": " : "", detail);
    return 1;
  }
  if (pc->rec && probe_wild_local(p, &pc->rec->ret, ret)) {
    snprintf(what, sizeof what, "return of call %d to f%d", pc->m, pc->k);
    probe_add(p, "result", what, "ptr: 0x%016llx, expected a local region in the caller's stack",
              (unsigned long long)probe_u64(ret));
    return 1;
  }
  return 0;
#undef WHAT_CALL
}

/* The callee's return value was not the trace's ("result" reported): the caller gets the
 * trace's (a ptr: its object's address; a wild one to a local region: the poison region), so
 * that what the caller does next is checked on its own. */
static void repair_ret(af_probe *p, const probe_call *pc, af_probe_ipz_frame *s) {
  const af_case *c = p->o->c;
  const af_sig *sig = &c->funcs[pc->k].sig;
  const af_loc *l = &p->cis[pc->k].ret;
  const af_value *v = &pc->rec->ret;
  uint8_t buf[AF_MAX_TYPE_SIZE + 16];
  memset(buf, 0, sizeof buf);
  if (sig->ret == AF_T_PTR) {
    if (v->obj >= 0 && !p->o->objects) return;
    uint64_t a =
        (uint64_t)(uintptr_t)(v->obj >= 0 ? p->o->objects[v->obj] : probe_poison_region(p));
    memcpy(buf, &a, 8);
  } else if (v->bytes) {
    memcpy(buf, v->bytes, v->size);
  } else {
    return;
  }
  switch (l->kind) {
  case AF_LOC_REG:
    for (int q = 0; q < l->nparts; q++)
      memcpy(probe_reg_bytes(&s->exit, l->parts[q].reg), buf + l->parts[q].offset,
             l->parts[q].size);
    break;
  case AF_LOC_SRET: {
    const af_abi *abi = af_abi_get(sig->cc);
    memcpy((void *)(uintptr_t)s->entry.gpr[abi->sret_in], buf, c->types[sig->ret].size);
    break;
  }
  case AF_LOC_X87: memcpy(s->st0, buf, 10); break;
  default: break;
  }
}

void af_probe_interpose_post(af_probe_ipz_frame *s) {
  af_probe *p = af_probe_cur;
  const probe_call *pc = &p->ipz[s - af_probe_ipz];
  int bad_ret = !pc->wild && check_callee(p, pc, s);
  /* the callee made every call its body has (straight-line), or the count goes back in step
   * with the trace so that the calls after this one compare with their own records */
  probe_tree(p, pc->k);
  int made = p->nall - pc->m - 1, want = p->tree_calls[pc->k];
  if (made != want) {
    char what[64];
    snprintf(what, sizeof what, "call %d to f%d", pc->m, pc->k);
    if (!pc->wild)
      probe_add(p, "calls", what, "f%d made %d call(s) through the probes, its body %d", pc->k,
                made, want);
    p->nall = pc->m + 1 + want;
    p->ncalls = pc->nhost0 + p->tree_host[pc->k];
  }
  probe_exit_image(p, pc, &s->entry, &s->exit, s->out.gpr[AF_RAX], s->out.gpr[AF_RDX],
                   s->out.xmm[0], s->out.xmm[1]);
  if (bad_ret) repair_ret(p, pc, s);
  /* repaired, so that the caller's own checks stay its own: the sret buffer's address */
  const af_sig *sig = &p->o->c->funcs[pc->k].sig;
  const af_abi *abi = af_abi_get(sig->cc);
  if (p->cis[pc->k].sret) s->exit.gpr[abi->sret_out] = s->entry.gpr[abi->sret_in];
}
