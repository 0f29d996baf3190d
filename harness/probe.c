/* probe.c - the call probe's C side: marshals a case's entry call, runs it, checks the callee. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe_internal.h"

af_probe *af_probe_cur;

/* af_callout_0 .. af_callout_15 (probe.S) */
#define CO_DECL(k) extern void af_callout_##k(void);
CO_DECL(0)
CO_DECL(1)
CO_DECL(2)
CO_DECL(3)
CO_DECL(4)
CO_DECL(5)
CO_DECL(6)
CO_DECL(7)
CO_DECL(8)
CO_DECL(9)
CO_DECL(10)
CO_DECL(11)
CO_DECL(12)
CO_DECL(13)
CO_DECL(14)
CO_DECL(15)
const void *const af_callouts[AF_MAX_FUNCS] = {
    (const void *)af_callout_0,  (const void *)af_callout_1,  (const void *)af_callout_2,
    (const void *)af_callout_3,  (const void *)af_callout_4,  (const void *)af_callout_5,
    (const void *)af_callout_6,  (const void *)af_callout_7,  (const void *)af_callout_8,
    (const void *)af_callout_9,  (const void *)af_callout_10, (const void *)af_callout_11,
    (const void *)af_callout_12, (const void *)af_callout_13, (const void *)af_callout_14,
    (const void *)af_callout_15};

/* af_interpose_0 .. af_interpose_15 (probe.S) */
#define IPZ_DECL(k) extern void af_interpose_##k(void);
IPZ_DECL(0)
IPZ_DECL(1)
IPZ_DECL(2)
IPZ_DECL(3)
IPZ_DECL(4)
IPZ_DECL(5)
IPZ_DECL(6)
IPZ_DECL(7)
IPZ_DECL(8)
IPZ_DECL(9)
IPZ_DECL(10)
IPZ_DECL(11)
IPZ_DECL(12)
IPZ_DECL(13)
IPZ_DECL(14)
IPZ_DECL(15)
const void *const af_interposers[AF_MAX_FUNCS] = {
    (const void *)af_interpose_0,  (const void *)af_interpose_1,  (const void *)af_interpose_2,
    (const void *)af_interpose_3,  (const void *)af_interpose_4,  (const void *)af_interpose_5,
    (const void *)af_interpose_6,  (const void *)af_interpose_7,  (const void *)af_interpose_8,
    (const void *)af_interpose_9,  (const void *)af_interpose_10, (const void *)af_interpose_11,
    (const void *)af_interpose_12, (const void *)af_interpose_13, (const void *)af_interpose_14,
    (const void *)af_interpose_15};

/* Canaries: recognisable in a dump, different per register. */
#define CANARY_GPR 0xca5a11ee00c0de00ull
#define CANARY_XMM 0xc5c5c5c500000000ull

/* ---- shared helpers --------------------------------------------------------------------- */
/* The bytes of a scalar leaf that hold its value: f80 10, ptr 8, else its size. */
static uint32_t leaf_bytes(const af_case *c, int type) {
  return type == AF_T_F80 ? 10 : type == AF_T_PTR ? 8 : c->types[type].size;
}

void probe_defined_mask(const af_case *c, int type, uint8_t *mask, uint32_t base) {
  const af_type *t = &c->types[type];
  if (type < AF_T_NSCALAR) {
    memset(mask + base, 1, leaf_bytes(c, type));
    return;
  }
  /* scalar elements and fields marked here, not by a call each (most leaves are scalars) */
  if (t->kind == AF_T_ARRAY) {
    uint32_t es = c->types[t->elem].size;
    if (t->elem < AF_T_NSCALAR) {
      uint32_t n = leaf_bytes(c, t->elem);
      for (uint32_t i = 0; i < t->count; i++)
        memset(mask + base + i * es, 1, n);
      return;
    }
    for (uint32_t i = 0; i < t->count; i++)
      probe_defined_mask(c, t->elem, mask, base + i * es);
    return;
  }
  for (int i = 0; i < t->nfields; i++) {
    const af_field *f = &t->fields[i];
    if (f->bits == 0) continue;
    if (f->bits > 0) {
      uint32_t b0 = f->bit_offset / 8, b1 = (f->bit_offset + (uint32_t)f->bits + 7) / 8;
      memset(mask + base + b0, 1, b1 - b0);
      continue;
    }
    if (f->type < AF_T_NSCALAR)
      memset(mask + base + f->offset, 1, leaf_bytes(c, f->type));
    else
      probe_defined_mask(c, f->type, mask, base + f->offset);
  }
}

void probe_add(af_probe *p, const char *check, const char *what, const char *fmt, ...) {
  af_findings *fs = p->fs;
  if (fs->n >= AF_FINDINGS_MAX) {
    fs->dropped++;
    return;
  }
  char detail[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(detail, sizeof detail, fmt, ap);
  va_end(ap);
  af_findings_add(fs, p->o->leg, check, what, "%s", detail);
}

static void hex16(char *out, size_t n, const uint8_t *x) {
  uint64_t lo, hi;
  memcpy(&lo, x, 8);
  memcpy(&hi, x + 8, 8);
  snprintf(out, n, "%016llx:%016llx", (unsigned long long)hi, (unsigned long long)lo);
}

/* ---- the probe object ------------------------------------------------------------------- */
/* The probe and its memory: malloc'd; in a build with AF_PROBE_HANDLER_STACK (perf_finddump's
 * equivalence builds, probe.S) mapped at a fixed address per area instead, so that the
 * addresses the probes hand code under test (the stack, the poison pointers in volatile
 * registers) do not move with the heap's layout between two builds, and the probe's own size
 * does not move the heap: a mutant that turns an address into a value then shows the same
 * value in both. */
#ifdef AF_PROBE_HANDLER_STACK
#include <sys/mman.h>
static int probe_nareas; /* areas mapped so far: each at its own fixed address */
static void *probe_alloc(size_t n) {
  void *want = (void *)(uintptr_t)(0x300000000000ull + (uint64_t)probe_nareas++ * 0x1000000ull);
  void *q = mmap(want, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
                 -1, 0);
  if (q != MAP_FAILED && q != want) munmap(q, n); /* a kernel that took the address as a hint */
  return q == want ? q : malloc(n);
}
/* (an area that could not be mapped there was malloc'd: only the fixed range is unmapped) */
#define probe_release(q, n)                                                                        \
  ((uintptr_t)(q)-0x300000000000ull < 0x100000000ull ? (void)munmap((q), (n)) : free(q))
#else
static void *probe_alloc(size_t n) { return malloc(n); }
#define probe_release(q, n) free(q)
#endif

af_status af_probe_new(af_probe **out) {
  *out = NULL;
  af_probe *p = probe_alloc(sizeof *p);
  if (!p) return AF_ERR_NOMEM;
  memset(p, 0, sizeof *p);
  p->mem = probe_alloc(PROBE_STACK + 64 + sizeof(af_probe_frame) + 64);
  p->poison = probe_alloc(PROBE_POISON);
  p->refmem = probe_alloc(PROBE_REFS + 64);
  if (!p->mem || !p->poison || !p->refmem) {
    probe_release(p->mem, PROBE_STACK + 64 + sizeof(af_probe_frame) + 64);
    probe_release(p->poison, PROBE_POISON);
    probe_release(p->refmem, PROBE_REFS + 64);
    probe_release(p, sizeof *p);
    return AF_ERR_NOMEM;
  }
  p->refs = (uint8_t *)(((uintptr_t)p->refmem + 63) & ~(uintptr_t)63);
  uintptr_t a = ((uintptr_t)p->mem + 63) & ~(uintptr_t)63;
  p->lo = (uint8_t *)a;
  p->hi = p->lo + PROBE_STACK;
  p->f = (af_probe_frame *)(((uintptr_t)p->hi + 63) & ~(uintptr_t)63);
  *out = p;
  return AF_OK;
}

void af_probe_free(af_probe *p) {
  if (!p) return;
  probe_release(p->mem, PROBE_STACK + 64 + sizeof(af_probe_frame) + 64);
  probe_release(p->poison, PROBE_POISON);
  probe_release(p->refmem, PROBE_REFS + 64);
  probe_release(p, sizeof *p);
}

void af_probe_set_observer(af_probe *p, af_probe_observer fn, void *u) {
  p->obs = fn;
  p->obs_u = fn ? u : NULL;
}

const af_probe_frame *af_probe_last_frame(const af_probe *p) { return p->ran ? p->f : NULL; }

const af_callinfo *af_probe_callinfo(const af_probe *p, int k) {
  if (!p->ran || !p->o || k < 0 || k >= p->o->c->nfuncs) return NULL;
  return &p->cis[k];
}

void probe_observe_out(af_probe *p, af_probe_ev_kind kind, const probe_call *pc, int arg,
                       const af_probe_regs *regs, const af_probe_regs *call, const uint8_t *got,
                       uint32_t size, const af_value *want) {
  af_probe_event ev;
  memset(&ev, 0, sizeof ev);
  ev.kind = kind;
  ev.k = pc->k;
  ev.m = pc->m;
  ev.interposed = pc->slot != PROBE_IPZ_DEPTH;
  ev.depth = ev.interposed ? pc->slot : -1;
  ev.arg = arg;
  ev.regs = regs;
  ev.call = call;
  ev.got = got;
  ev.size = size;
  ev.want = want;
  ev.rec = pc->rec;
  p->obs(p->obs_u, &ev);
}

const char *af_probe_unsupported(const af_case *c) {
  /* An aggregate holds an __m256 somewhere only if some aggregate of the table holds one as a
   * field or an element itself. None does in most cases: then a signature has one only as a
   * parameter or the return itself, and one flat pass over the table and the signatures
   * decides (af_type_has over every parameter of every function was ~3.5 k instructions a
   * case, and the native leg asks twice; a walk of the signatures' aggregates that skips those
   * met before cost more than this pass). In a table that starts with the scalars in kind
   * order (af_case_init; every case), a scalar holds an __m256 iff its id is AF_T_M256. */
  int standard = c->ntypes >= AF_T_NSCALAR, nested = 0;
  for (int t = 0; t < AF_T_NSCALAR && standard; t++)
    standard = c->types[t].kind == (af_kind)t;
  for (int t = AF_T_NSCALAR; t < c->ntypes && standard && !nested; t++) {
    const af_type *ty = &c->types[t];
    if (ty->kind == AF_T_ARRAY) {
      nested = ty->elem == AF_T_M256;
      continue;
    }
    for (int i = 0; i < ty->nfields; i++)
      nested |= ty->fields[i].type == AF_T_M256;
  }
  for (int k = 0; k < c->nfuncs; k++) {
    const af_sig *s = &c->funcs[k].sig;
    if (standard && !nested) {
      int m = s->ret == AF_T_M256;
      for (int i = 0; i < s->nparams; i++)
        m |= s->params[i] == AF_T_M256;
      if (m) return "probe: __m256 (YMM) values not supported";
      continue;
    }
    if (s->ret != AF_T_VOID && af_type_has(c, s->ret, AF_T_M256))
      return "probe: __m256 (YMM) values not supported";
    for (int i = 0; i < s->nparams; i++)
      if (af_type_has(c, s->params[i], AF_T_M256))
        return "probe: __m256 (YMM) values not supported";
  }
  return NULL;
}

/* ---- marshalling the entry's call ------------------------------------------------------- */
typedef struct {
  uint8_t *scratch; /* next free byte of the scratch area */
  uint8_t *sret;    /* the sret buffer, NULL without */
} marshal_state;

static uint8_t *scratch_alloc(af_probe *p, marshal_state *m, uint32_t size, uint32_t align) {
  if (align < 16) align = 16;
  uintptr_t a = ((uintptr_t)m->scratch + align - 1) & ~(uintptr_t)(align - 1);
  if (a + size > (uintptr_t)p->hi) return NULL;
  m->scratch = (uint8_t *)a + size;
  return (uint8_t *)a;
}

/* The argument's bytes as a caller holds them: the value, its padding garbage (a caller's
 * copy of an aggregate carries whatever its padding held); a ptr: its object's address. */
static void arg_bytes(af_probe *p, const af_case *c, const af_value *v, uint8_t *const *objects,
                      uint8_t *buf) {
  if (v->type == AF_T_PTR) {
    uint64_t a = v->obj >= 0 && v->obj < c->nobjects ? (uint64_t)(uintptr_t)objects[v->obj]
                                                     : (uint64_t)(uintptr_t)p->lo;
    memcpy(buf, &a, 8);
    return;
  }
  probe_copy(buf, v->bytes, v->size);
  if (v->type >= AF_T_NSCALAR || v->type == AF_T_F80) {
    uint8_t mask[AF_MAX_TYPE_SIZE];
    memset(mask, 0, v->size);
    probe_defined_mask(c, v->type, mask, 0);
    probe_garbage_pad(p, buf, mask, v->size);
  }
}

/* Places argument i per its location into the register image and the stack image at rsp. */
static const char *place_arg(af_probe *p, marshal_state *m, const af_sig *sig,
                             const af_callinfo *ci, int i, uint8_t *rsp) {
  const af_case *c = p->o->c;
  const af_loc *l = &ci->args[i];
  const af_value *v = &c->inputs[i];
  int t = sig->params[i];
  uint32_t size = probe_type_size(c, t);
  int ext = af_abi_get(sig->cc)->narrow_ext == AF_EXT_TO_32 && probe_is_narrow(t);
  uint8_t buf[AF_MAX_TYPE_SIZE + 16];
  arg_bytes(p, c, v, p->o->objects, buf);
  af_probe_regs *r = &p->f->in;
  switch (l->kind) {
  case AF_LOC_NONE: return NULL;
  case AF_LOC_REG:
    for (int k = 0; k < l->nparts; k++) {
      const af_part *pt = &l->parts[k];
      if (pt->size > 16) return "probe: a value wider than 16 bytes in a register";
      probe_copy(probe_reg_bytes(r, pt->reg), buf + pt->offset, pt->size);
      if (ext && pt->reg <= AF_R15) af_ext_apply(AF_EXT_TO_32, t, probe_reg_bytes(r, pt->reg));
    }
    if (l->dup != AF_REG_NONE) /* Win64 variadic float: the slot's GPR holds it too */
      memcpy(probe_reg_bytes(r, l->dup), buf, size < 8 ? size : 8);
    return NULL;
  case AF_LOC_STACK:
    probe_copy(rsp + l->stack_offset, buf, size);
    if (ext) af_ext_apply(AF_EXT_TO_32, t, rsp + l->stack_offset);
    return NULL;
  case AF_LOC_REF: {
    uint32_t al = t == AF_T_PTR ? 8 : c->types[t].alignment;
    uint8_t *copy = scratch_alloc(p, m, size, al);
    if (!copy) return "probe: scratch area full";
    memcpy(copy, buf, size);
    uint64_t a = (uint64_t)(uintptr_t)copy;
    if (l->nparts == 1)
      memcpy(probe_reg_bytes(r, l->parts[0].reg), &a, 8);
    else
      memcpy(rsp + l->stack_offset, &a, 8);
    return NULL;
  }
  default: return "probe: unexpected argument location";
  }
}

/* Fills the frame for a call of the entry; returns NULL or why it cannot. */
static const char *marshal(af_probe *p, marshal_state *m) {
  const af_case *c = p->o->c;
  const af_sig *sig = &c->funcs[c->entry].sig;
  const af_callinfo *ci = &p->cis[c->entry];
  const af_abi *abi = af_abi_get(sig->cc);
  af_probe_frame *f = p->f;
  memset(f, 0, sizeof *f);
  /* every register garbage, the callee-saved ones canaries (the callee's convention) */
  /* the draws in the order probe_garbage and probe_garbage_fill made them, from locals; each
   * XMM register in one 16-byte store (probe_put128) */
  probe_rng g = probe_rng_take(p);
  for (int r = AF_RAX; r <= AF_R15; r++)
    f->in.gpr[r] = (abi->callee_saved >> r) & 1 ? CANARY_GPR | (uint64_t)r : probe_xoshiro(g.s);
  for (int x = 0; x < 16; x++) {
    uint64_t lo, hi;
    if ((abi->callee_saved >> (AF_XMM0 + x)) & 1) {
      lo = CANARY_XMM | (uint64_t)(0x100 + x), hi = CANARY_XMM | (uint64_t)(0x200 + x);
    } else {
      lo = probe_xoshiro(g.s);
      hi = probe_xoshiro(g.s);
    }
    probe_put128(f->in.xmm[x], lo, hi);
  }
  probe_rng_put(p, &g);
  f->in.mxcsr = PROBE_MXCSR;
  f->in.fcw = PROBE_FCW;
  /* the stack: scratch on top, the argument area below it, RSP aligned for its slots */
  uint32_t align = (uint32_t)abi->stack_align;
  for (int i = 0; i < sig->nparams; i++)
    if (ci->args[i].kind == AF_LOC_STACK && ci->args[i].stack_align > align)
      align = ci->args[i].stack_align;
  m->scratch = p->hi - PROBE_SCRATCH;
  uintptr_t rsp = ((uintptr_t)m->scratch - ci->stack_bytes - 64) & ~(uintptr_t)(align - 1);
  uint8_t *sp = (uint8_t *)rsp;
  /* below RSP (red zone and beyond), the home space and every unused byte: garbage */
  probe_garbage_fill(p, sp - PROBE_BELOW, PROBE_BELOW + ci->stack_bytes);
  f->in.gpr[AF_RSP] = rsp;
  m->sret = NULL;
  if (ci->sret) {
    uint32_t size = c->types[sig->ret].size, al = c->types[sig->ret].alignment;
    m->sret = scratch_alloc(p, m, size ? size : 1, al);
    if (!m->sret) return "probe: scratch area full";
    probe_garbage_fill(p, m->sret, size);
    uint64_t a = (uint64_t)(uintptr_t)m->sret;
    f->in.gpr[abi->sret_in] = a;
  }
  for (int i = 0; i < sig->nparams; i++) {
    const char *why = place_arg(p, m, sig, ci, i, sp);
    if (why) return why;
  }
  /* psABI 3.5.7: AL = upper bound of the vector registers a variadic call uses */
  if (abi->vararg_al && sig->variadic)
    f->in.gpr[AF_RAX] = (f->in.gpr[AF_RAX] & ~0xffull) | (uint64_t)ci->sse_used;
  f->target = p->o->entry;
  f->x87_ret = ci->ret.kind == AF_LOC_X87;
  return NULL;
}

/* ---- after the return: the callee's obligations, and the return value ----------------- */
static void check_return(af_probe *p, const marshal_state *m, af_probe_outcome *out) {
  const af_case *c = p->o->c;
  const af_sig *sig = &c->funcs[c->entry].sig;
  const af_callinfo *ci = &p->cis[c->entry];
  const af_abi *abi = af_abi_get(sig->cc);
  af_probe_frame *f = p->f;
  for (uint32_t gs = probe_saved_gprs(abi); gs; gs &= gs - 1) {
    int r = __builtin_ctz(gs);
    if (f->out.gpr[r] == f->in.gpr[r]) continue;
    probe_add(p, "callee-saved", af_reg_name((af_reg)r), "canary 0x%016llx, got 0x%016llx",
              (unsigned long long)f->in.gpr[r], (unsigned long long)f->out.gpr[r]);
  }
  for (uint32_t xs = probe_saved_xmms(abi); xs; xs &= xs - 1) {
    int x = __builtin_ctz(xs);
    if (!memcmp(f->in.xmm[x], f->out.xmm[x], 16)) continue;
    char a[40], b[40];
    hex16(a, sizeof a, f->in.xmm[x]);
    hex16(b, sizeof b, f->out.xmm[x]);
    probe_add(p, "callee-saved", af_reg_name((af_reg)(AF_XMM0 + x)), "canary %s, got %s", a, b);
  }
  if (f->out.gpr[AF_RSP] != f->in.gpr[AF_RSP])
    probe_add(p, "rsp", "rsp", "expected 0x%llx after the return, got 0x%llx (%+lld)",
              (unsigned long long)f->in.gpr[AF_RSP], (unsigned long long)f->out.gpr[AF_RSP],
              (long long)(f->out.gpr[AF_RSP] - f->in.gpr[AF_RSP]));
  if (f->out.rflags & 0x400)
    probe_add(p, "df", "rflags", "DF set after the return (psABI 3.2.1: clear on exit)");
  if ((f->out.mxcsr ^ f->in.mxcsr) & 0xffc0u) /* control bits; status bits are volatile */
    probe_add(p, "mxcsr", "mxcsr", "control bits 0x%04x at the call, 0x%04x after",
              f->in.mxcsr & 0xffc0u, f->out.mxcsr & 0xffc0u);
  if ((f->out.fcw ^ f->in.fcw) & 0x1f3fu)
    probe_add(p, "x87cw", "fcw", "0x%04x at the call, 0x%04x after", f->in.fcw, f->out.fcw);
  int used = probe_x87_used(f->fenv);
  int want_used = ci->ret.kind == AF_LOC_X87;
  if (used != want_used)
    probe_add(p, "x87-stack", "st", "%d x87 register(s) in use after the return, expected %d", used,
              want_used);
  /* the return value, decoded per af_callinfo.ret */
  memset(out->ret, 0, sizeof out->ret);
  const af_loc *l = &ci->ret;
  switch (l->kind) {
  case AF_LOC_REG:
    for (int k = 0; k < l->nparts; k++)
      memcpy(out->ret + l->parts[k].offset, probe_reg_bytes(&f->out, l->parts[k].reg),
             l->parts[k].size);
    break;
  case AF_LOC_SRET:
    memcpy(out->ret, m->sret, c->types[sig->ret].size);
    if (f->out.gpr[abi->sret_out] != (uint64_t)(uintptr_t)m->sret)
      probe_add(
          p, "sret-rax", af_reg_name(abi->sret_out), "expected the sret buffer 0x%llx, got 0x%llx",
          (unsigned long long)(uintptr_t)m->sret, (unsigned long long)f->out.gpr[abi->sret_out]);
    break;
  case AF_LOC_X87: memcpy(out->ret, f->st0, 10); break;
  default: break;
  }
}

/* gen.h's checksum over what the run left. */
static uint64_t outcome_checksum(const af_probe_opts *o, const uint8_t *ret) {
  const af_case *c = o->c;
  int rt = c->funcs[c->entry].sig.ret;
  uint64_t h = 0;
  if (rt != AF_T_VOID) {
    uint64_t id = 0;
    if (rt == AF_T_PTR) {
      uint64_t a;
      memcpy(&a, ret, 8);
      id = 0xffffffff00000000ull;
      for (int k = 0; k < c->nobjects; k++)
        if (a == (uint64_t)(uintptr_t)o->objects[k]) id = (uint64_t)(k + 1) << 32;
    }
    h = af_fold_bytes(c, h, rt, ret, id);
  }
  for (int k = 0; k < c->nobjects; k++)
    for (int b = 0; b < AF_REGION_SIZE; b += 8) {
      uint64_t x;
      memcpy(&x, o->objects[k] + b, 8);
      h = af_fold_u64(h, x);
    }
  return h;
}

/* The calls function k makes, nested ones included: calls go to greater indices, so the
 * recursion is at most AF_MAX_FUNCS deep, and the counts are those the loop over every function
 * from the last to the first computed. */
void probe_tree(af_probe *p, int k) {
  const af_case *c = p->o->c;
  if (k < 0 || k >= c->nfuncs || k >= AF_MAX_FUNCS || ((p->tree_done >> k) & 1)) return;
  const af_func *f = &c->funcs[k];
  p->tree_calls[k] = p->tree_host[k] = 0;
  if (!f->host) /* host functions contain no CALL (gen.h) */
    for (int i = 0; i < f->ninsts && f->insts[i].op != AF_OP_RET; i++) {
      int g = (int)f->insts[i].imm;
      if (f->insts[i].op != AF_OP_CALL || g <= k || g >= c->nfuncs) continue;
      probe_tree(p, g);
      p->tree_calls[k] += 1 + p->tree_calls[g];
      p->tree_host[k] += c->funcs[g].host + p->tree_host[g];
    }
  p->tree_done |= 1u << k;
}

af_status af_probe_run(af_probe *p, const af_probe_opts *o, af_findings *fs, af_probe_outcome *out,
                       af_error *err) {
  const af_case *c = o->c;
  const char *why = o->supported ? NULL : af_probe_unsupported(c);
  if (why) {
    if (err) snprintf(err->msg, sizeof err->msg, "%s", why);
    return AF_ERR_UNSUPPORTED;
  }
  /* the caller's classification read where it lies (a copy was 2 KB a case), else the run's */
  p->cis = o->ci ? o->ci : p->ci;
  for (int k = 0; k < c->nfuncs; k++) {
    if (!o->ci) {
      af_status s = af_classify(c, &c->funcs[k].sig, &p->ci[k], err);
      if (s != AF_OK) return s;
    }
    p->call_align[k] = probe_call_align(&p->cis[k], af_abi_get(c->funcs[k].sig.cc));
  }
  /* the calls each function makes (probe_tree): counted when an interposer first asks; the
   * walk over every instruction of every function was ~2 k instructions a run */
  p->tree_done = 0;
  p->o = o;
  p->fs = fs;
  p->ran = 1;
  p->ncalls = 0;
  p->nall = 0;
  af_probe_ipz_next = af_probe_ipz; /* the shadow stack empty (a crashed run ended the worker) */
  af_rng_seed(&p->rng, o->garbage, 0x9a7ba6e);
  marshal_state m;
  why = marshal(p, &m);
  if (why) {
    if (err) snprintf(err->msg, sizeof err->msg, "%s", why);
    return AF_ERR_UNSUPPORTED;
  }
  af_probe_cur = p;
  af_rt_probe_bad = 0;
  af_probe_call(p->f);
  af_probe_cur = NULL;
  if (af_rt_probe_bad) /* runtime helpers are calls too (psABI 3.2.2) */
    af_findings_add(p->fs, o->leg, "stack-align", "call to a runtime helper",
                    "RSP 0x%llx at the call is not 16-aligned (%llu such calls)",
                    (unsigned long long)af_rt_probe_rsp, (unsigned long long)af_rt_probe_bad);
  check_return(p, &m, out);
  out->nhost_calls = p->ncalls;
  out->ncalls = p->nall;
  out->checksum = outcome_checksum(o, out->ret);
  return AF_OK;
}

void af_probe_check_outcome(const af_probe_opts *o, const af_probe_outcome *out, af_findings *fs) {
  const af_case *c = o->c;
  const af_interp_result *w = o->want;
  char where[128], detail[300];
  if (af_value_diff(c, &w->ret, out->ret, o->objects, where, sizeof where, detail, sizeof detail))
    af_findings_add(fs, o->leg, "result", where, "%s", detail);
  for (int k = 0; k < c->nobjects; k++) {
    if (!memcmp(o->objects[k], w->objects[k], AF_REGION_SIZE)) continue; /* the usual */
    int first = -1, ndiff = 0;
    for (int b = 0; b < AF_REGION_SIZE; b++)
      if (o->objects[k][b] != w->objects[k][b]) {
        if (first < 0) first = b;
        ndiff++;
      }
    if (first < 0) continue;
    snprintf(where, sizeof where, "object %d byte %d", k, first);
    af_findings_add(fs, o->leg, "objects", where, "expected %02x, got %02x (%d bytes differ)",
                    w->objects[k][first], o->objects[k][first], ndiff);
  }
  /* every call goes through a probe only when o->code interposes the JIT functions */
  if (o->code && w->calls && out->ncalls != w->ncalls)
    af_findings_add(fs, o->leg, "calls", "calls", "%s: expected %d, made %d",
                    out->ncalls < w->ncalls ? "fewer" : "more", w->ncalls, out->ncalls);
  if (out->nhost_calls != w->nhost_calls)
    af_findings_add(fs, o->leg, "host-calls", "host calls", "%s: expected %d, made %d",
                    out->nhost_calls < w->nhost_calls ? "fewer" : "more", w->nhost_calls,
                    out->nhost_calls);
}
