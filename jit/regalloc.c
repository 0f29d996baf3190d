/* regalloc.c - linear-scan register allocation of one case function (design: regalloc.h). */
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include <emmintrin.h> /* SSE2 (x86-64's baseline): scan_lean's expiry */

#include "regalloc.h"

/* Canonical orders (regalloc.h): registers free of save cost under SysV first. */
static const af_reg gpr_order[] = {AF_RSI, AF_RDI, AF_RBX, AF_R12, AF_R13, AF_R14, AF_R15,
                                   AF_R8,  AF_R9,  AF_R10, AF_R11, AF_RAX, AF_RCX, AF_RDX};
static const af_reg xmm_order[] = {AF_XMM6,  AF_XMM7,  AF_XMM8,  AF_XMM9,  AF_XMM10, AF_XMM11,
                                   AF_XMM12, AF_XMM13, AF_XMM14, AF_XMM15, AF_XMM0,  AF_XMM1,
                                   AF_XMM2,  AF_XMM3,  AF_XMM4,  AF_XMM5};
#define NGPR_ORDER ((int)(sizeof gpr_order / sizeof gpr_order[0]))
#define NXMM_ORDER ((int)(sizeof xmm_order / sizeof xmm_order[0]))

static af_status ra_fail(af_error *err, af_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static af_status ra_fail(af_error *err, af_status s, const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
  }
  return s;
}

void ra_opts_default(ra_opts *o) {
  memset(o, 0, sizeof *o);
  o->scratch = RA_SCRATCH_DEFAULT;
  o->slot_rule = RA_SLOT_DEFAULT;
}

/* The class of each kind (ra_value_class): GPR for bool, i8..u64 and ptr; XMM for f32, f64,
 * m128 and cf32 (one xmm each); none for i128, f16, f80, cf64, m256 and aggregates. */
static const uint8_t class_of_kind[AF_T_ARRAY + 1] = {
    [AF_T_BOOL] = RA_CLASS_GPR, [AF_T_I8] = RA_CLASS_GPR,   [AF_T_U8] = RA_CLASS_GPR,
    [AF_T_I16] = RA_CLASS_GPR,  [AF_T_U16] = RA_CLASS_GPR,  [AF_T_I32] = RA_CLASS_GPR,
    [AF_T_U32] = RA_CLASS_GPR,  [AF_T_I64] = RA_CLASS_GPR,  [AF_T_U64] = RA_CLASS_GPR,
    [AF_T_PTR] = RA_CLASS_GPR,  [AF_T_F32] = RA_CLASS_XMM,  [AF_T_F64] = RA_CLASS_XMM,
    [AF_T_M128] = RA_CLASS_XMM, [AF_T_CF32] = RA_CLASS_XMM,
};

ra_class ra_value_class(const af_case *c, int type) {
  if (type < 0 || type >= c->ntypes) return RA_CLASS_NONE;
  unsigned k = (unsigned)c->types[type].kind;
  return k <= AF_T_ARRAY ? (ra_class)class_of_kind[k] : RA_CLASS_NONE;
}

/* Every register of a class's canonical order (GPRs but RSP and RBP; XMM0-XMM15). */
#define RA_GPR_ORDER_SET (0xffffull & ~(RA_BIT(AF_RSP) | RA_BIT(AF_RBP)))
#define RA_XMM_ORDER_SET (0xffffull << AF_XMM0)

uint64_t ra_allocatable(const ra_opts *o, ra_class cls) {
  if (cls == RA_CLASS_NONE) return 0;
  int cap = cls == RA_CLASS_GPR ? o->max_gpr : o->max_xmm;
  if (cap <= 0) /* no cap: the order's set minus scratch and reserved, without the walk */
    return (cls == RA_CLASS_GPR ? RA_GPR_ORDER_SET : RA_XMM_ORDER_SET) &
           ~(o->scratch | RA_RESERVED);
  const af_reg *order = cls == RA_CLASS_GPR ? gpr_order : xmm_order;
  int n = cls == RA_CLASS_GPR ? NGPR_ORDER : NXMM_ORDER;
  uint64_t m = 0;
  int taken = 0;
  for (int i = 0; i < n && taken < cap; i++) {
    uint64_t b = RA_BIT(order[i]);
    if ((o->scratch | RA_RESERVED) & b) continue;
    m |= b;
    taken++;
  }
  return m;
}

/* The kind of an instruction's scalar type, or AF_T_NSCALAR for aggregates. */
static af_kind kind_of(const af_case *c, int type) {
  if (type < 0 || type >= c->ntypes) return AF_T_NSCALAR;
  return c->types[type].kind;
}

/* 1 if a GET/SET path ends on a bit-field (walks struct/union fields and array
 * elements; complex parts and vector lanes are never bit-fields). */
static int leaf_is_bitfield(const af_case *c, int type, const af_inst *in) {
  for (int i = 0; i < in->npath && i < AF_MAX_PATH; i++) {
    if (type < 0 || type >= c->ntypes) return 0;
    const af_type *t = &c->types[type];
    if (t->kind == AF_T_ARRAY) {
      type = t->elem;
    } else if (t->kind == AF_T_STRUCT || t->kind == AF_T_UNION) {
      int k = in->path[i];
      if (k < 0 || k >= t->nfields) return 0;
      if (i == in->npath - 1) return t->fields[k].bits >= 0;
      type = t->fields[k].type;
    } else {
      return 0;
    }
  }
  return 0;
}

/* ra_default_clobber with the conventions' callee-saved masks given (cs[cc]): build_intervals
 * looks them up once per function instead of at every call and MIX. */
static inline __attribute__((always_inline)) ra_clobber
default_clobber(const af_case *c, const af_func *f, const af_inst *in, const uint64_t *cs) {
  ra_clobber r = {RA_CLOB_NONE, 0};
  /* the operation first: most instructions never call anything, and the type lookups below
   * only matter for the few that may (ra_op_may_clobber, regalloc.h) */
  if (!ra_op_may_clobber(in->op)) return r;
  if (in->op == AF_OP_MIX) /* helper calls and inline folds (SURVIVE: see below) */
    return (ra_clobber){RA_CLOB_SURVIVE, cs[AF_CC_SYSV]};
  if (in->op == AF_OP_CALL) {
    if (in->imm >= 0 && in->imm < c->nfuncs) {
      r.kind = RA_CLOB_CALL;
      unsigned cc = (unsigned)c->funcs[in->imm].sig.cc;
      r.preserved = cc < AF_CC_COUNT ? cs[cc] : af_abi_get((af_cc)cc)->callee_saved;
    }
    return r;
  }
  /* the types each op's rule looks at, and only those (kind_of(in->type) is t below; a is
   * the first operand's kind) */
#define RA_T kind_of(c, in->type)
#define RA_A                                                                                       \
  (in->nargs > 0 && in->args[0] >= 0 && in->args[0] < f->nvalues && f->value_type                  \
       ? kind_of(c, f->value_type[in->args[0]])                                                    \
       : AF_T_NSCALAR)
  switch (in->op) {
  case AF_OP_FCONV: {
    af_kind t = RA_T, a = RA_A;
    if (t == AF_T_F16 || a == AF_T_F16) r.kind = RA_CLOB_CALL;
    break;
  }
  case AF_OP_ITOF: { /* integer a -> float t */
    af_kind t = RA_T, a = RA_A;
    if (t == AF_T_F16 || t == AF_T_F80 || a == AF_T_I128 || a == AF_T_U128 || a == AF_T_U64)
      r.kind = RA_CLOB_CALL;
    break;
  }
  case AF_OP_FTOI: { /* float a -> integer t */
    af_kind t = RA_T, a = RA_A;
    if (a == AF_T_F16 || a == AF_T_F80 || t == AF_T_I128 || t == AF_T_U128 || t == AF_T_U64)
      r.kind = RA_CLOB_CALL;
    break;
  }
  case AF_OP_MUL:
  case AF_OP_SHL:
  case AF_OP_LSHR:
  case AF_OP_ASHR: {
    af_kind t = RA_T;
    if (t == AF_T_I128 || t == AF_T_U128) r.kind = RA_CLOB_CALL;
    break;
  }
  case AF_OP_CMP: { /* 128-bit compares go through the same helper as 128-bit MUL */
    af_kind a = RA_A;
    if (a == AF_T_I128 || a == AF_T_U128) r.kind = RA_CLOB_CALL;
    break;
  }
  case AF_OP_GET:
  case AF_OP_SET: /* bit-fields the lowering cannot do inline: jit_rt_bf_get/set */
    if (in->nargs > 0 && leaf_is_bitfield(c, f->value_type[in->args[0]], in)) r.kind = RA_CLOB_CALL;
    break;
  default: break;
  }
#undef RA_T
#undef RA_A
  /* lower_ops*.c loads the helper's arguments (RDI = &result, RSI = &operand ...) before it
   * has read every operand: the operands must survive those writes, hence SURVIVE; the
   * helpers are SysV (lower.h) */
  if (r.kind != RA_CLOB_NONE) r.kind = RA_CLOB_SURVIVE, r.preserved = cs[AF_CC_SYSV];
  return r;
}

/* The conventions' callee-saved masks, indexed by af_cc. */
static void callee_saved_masks(uint64_t cs[AF_CC_COUNT]) {
  for (int k = 0; k < AF_CC_COUNT; k++)
    cs[k] = af_abi_get((af_cc)k)->callee_saved;
}

ra_clobber ra_default_clobber(void *user, const af_case *c, const af_func *f, const af_inst *in) {
  (void)user;
  if (!ra_op_may_clobber(in->op)) return (ra_clobber){RA_CLOB_NONE, 0};
  uint64_t cs[AF_CC_COUNT];
  callee_saved_masks(cs);
  return default_clobber(c, f, in, cs);
}

/* Work state of one allocation (on the stack: no heap). */
typedef struct {
  int nkinds;
  ra_clobber kinds[RA_MAX_CLOBBER_KINDS];
  uint64_t all_and;                    /* AND of every kind's preserved mask */
  uint64_t lost;                       /* OR of every clobber's ~preserved (ra_result) */
  int8_t kind_at[AF_MAX_INSTS];        /* instruction i's clobber kind index, -1 if none */
  int16_t next_clob[AF_MAX_INSTS + 1]; /* first clobbering instruction >= i, ninsts if none
                                          (build_next_clob: scan, scan_any_order) */
  /* the clobbering instructions in order, then INT16_MAX (a sentinel for scan_lean), and each
   * one's kind index; kind_at is made from them for scan and scan_any_order (build_kind_at) */
  int16_t clob_pos[AF_MAX_INSTS + 1];
  /* 1: every instruction's result is the next value id and every value is defined, so the
   * values come in start order (the lean scan then checks nothing: build_intervals has) */
  int in_order;
  int8_t clob_kind[AF_MAX_INSTS + 1];
  int nclob;
  int16_t start[RA_MAX_VALUES]; /* intervals (Positions), INT16_MAX: not yet defined */
  int16_t end[RA_MAX_VALUES];
  /* The values holding a register are tracked per register (regval, regend) and, for their
   * expiry, in one list per interval end: ends[e + 1] heads the values ending at position e,
   * chained through next_end. A value evicted from its register stays in its list, marked
   * by its kind (RA_SPILL). Expiring walks the positions once in order, which replaces an
   * active list kept sorted by end (inserting there shifted ~4 entries per value). */
  int16_t ends[2 * AF_MAX_INSTS + 3];
  int16_t next_end[RA_MAX_VALUES];
  int16_t regval[AF_REG_COUNT], regend[AF_REG_COUNT];
  /* scan_any_order only: the values holding a register, by ascending end */
  int16_t active[RA_MAX_VALUES], aend[RA_MAX_VALUES];
} ra_work;

/* The AND of the preserved masks of every clobber the interval [s, e] crosses
 * (regalloc.h, Positions and Clobbers); ~0 if it crosses none. *crosses set to 0/1. */
static inline uint64_t crossed_mask(const ra_work *w, int ninsts, int s, int e, int *crosses) {
  uint64_t m = ~0ull;
  *crosses = 0;
  int lo = (s + 1) / 2; /* first instruction whose clobber comes after the definition */
  if (e < 0 || lo >= ninsts) return m;
  int hi_call = e / 2;     /* CALL at i: 2i+1 < e */
  int hi_surv = e / 2 + 1; /* SURVIVE at i: its operand read <= e */
  if (hi_call > ninsts) hi_call = ninsts;
  if (hi_surv > ninsts) hi_surv = ninsts;
  /* walk the clobbering instructions in [lo, hi_surv) (CALL kinds only below hi_call); stop
   * once the mask is as small as any set of kinds can make it */
  for (int j = w->next_clob[lo]; j < hi_surv; j = w->next_clob[j + 1]) {
    const ra_clobber *k = &w->kinds[w->kind_at[j]];
    if (k->kind != RA_CLOB_SURVIVE && j >= hi_call) continue;
    m &= k->preserved;
    *crosses = 1;
    if (m == w->all_and) break;
  }
  return m;
}

/* A value's location: kind RA_REG with its register, or RA_NONE / RA_SPILL with AF_REG_NONE. */
static inline ra_loc make_loc(ra_kind kind, ra_class cls, int crosses, int reg, int s, int e,
                              uint64_t allowed) {
  return (ra_loc){.kind = (uint8_t)kind,
                  .cls = (uint8_t)cls,
                  .crosses = (uint8_t)crosses,
                  .reg = (int8_t)reg,
                  .start = (int16_t)s,
                  .end = (int16_t)e,
                  .allowed = allowed};
}

/* Whether a value of a register class stays in its slot under ra_opts.slot_rule `rule`
 * (regalloc.h, Slot rule), its interval [s, e] crossing a clobber or not. A value's start is
 * its definition, 2i + 1 for instruction i (Positions; -1 for a parameter), so whether it is a
 * CONST's result is read from that instruction, and only when the rule asks. */
static inline int stays_in_slot(int rule, const af_inst *insts, int crosses, int s, int e) {
  if (crosses && !(rule & RA_SLOT_CONST_ALL)) return 0;
  if (!crosses && (rule & RA_SLOT_SHORT) && e - s <= 2) return 1;
  if (!(rule & (RA_SLOT_CONST | RA_SLOT_CONST_ALL)) || s < 0) return 0;
  return insts[s >> 1].op == AF_OP_CONST && ((rule & RA_SLOT_CONST_ALL) || !crosses);
}

/* The first register of m in the class's canonical order (regalloc.h), AF_REG_NONE if none.
 * The order as bit groups: GPR RSI, RDI, RBX, R12-R15, R8-R11, RAX RCX RDX (ascending bits
 * within each group); XMM XMM6-XMM15, XMM0-XMM5. */
static inline int first_in_order(ra_class cls, uint64_t m) {
  if (cls == RA_CLASS_GPR) {
    if (m & RA_BIT(AF_RSI)) return AF_RSI;
    if (m & RA_BIT(AF_RDI)) return AF_RDI;
    if (m & RA_BIT(AF_RBX)) return AF_RBX;
    uint64_t g = m & (0xfull << AF_R12);
    if (g) return __builtin_ctzll(g);
    g = m & (0xfull << AF_R8);
    if (g) return __builtin_ctzll(g);
    g = m & (RA_BIT(AF_RAX) | RA_BIT(AF_RCX) | RA_BIT(AF_RDX));
    return g ? __builtin_ctzll(g) : AF_REG_NONE;
  }
  uint64_t x = m & (0x3ffull << AF_XMM6);
  if (x) return __builtin_ctzll(x);
  x = m & (0x3full << AF_XMM0);
  return x ? __builtin_ctzll(x) : AF_REG_NONE;
}

/* The best free register for a value (lower rank wins, ties by canonical order), rank being
 *   2 * (0 not own-callee-saved, 1 own-callee-saved and used, 2 own-callee-saved and new)
 *   + (1 if the value crosses no clobber and a call preserves the register)
 * (regalloc.h, Algorithm): the six rank classes as masks, the first non-empty one wins. */
static inline int pick_reg(ra_class cls, uint64_t cands, uint64_t own_saved, uint64_t used,
                           uint64_t call_preserved, int crosses) {
  uint64_t late = crosses ? 0 : call_preserved; /* the +1 of the rank */
  uint64_t tier[3] = {cands & ~own_saved, cands & own_saved & used, cands & own_saved & ~used};
  for (int k = 0; k < 3; k++) {
    if (!tier[k]) continue;
    uint64_t early = tier[k] & ~late;
    return first_in_order(cls, early ? early : tier[k]);
  }
  return AF_REG_NONE;
}

/* A clobber of some instruction into w's kinds (survive: a CALL that is SURVIVE instead,
 * ra_opts.call_args_survive): its kind's index, -1 beyond RA_MAX_CLOBBER_KINDS. */
static inline int add_clobber(ra_work *w, ra_clobber cl, int survive) {
  w->lost |= ~cl.preserved;
  if (survive) cl.kind = RA_CLOB_SURVIVE;
  int kk = -1;
  for (int k = 0; k < w->nkinds; k++)
    if (w->kinds[k].kind == cl.kind && w->kinds[k].preserved == cl.preserved) kk = k;
  if (kk >= 0) return kk;
  if (w->nkinds == RA_MAX_CLOBBER_KINDS) return -1;
  kk = w->nkinds++;
  w->kinds[kk] = cl;
  w->all_and &= cl.preserved;
  return kk;
}

/* What build_intervals' loop needs of the clobber rule. */
typedef struct {
  ra_clobber_fn clob;
  void *clob_user;
  const ra_clobber *clobs;
  int survive;
  uint64_t cs[AF_CC_COUNT];
} clob_rule;

/* Instruction i's clobber cl (not RA_CLOB_NONE) into w's kinds and clobber list: -1 beyond
 * RA_MAX_CLOBBER_KINDS, else 0. */
static __attribute__((noinline)) int note_clobber(ra_work *w, ra_clobber cl, const af_inst *in,
                                                  int i, int survive) {
  int kk = add_clobber(w, cl, in->op == AF_OP_CALL && cl.kind == RA_CLOB_CALL && survive);
  if (kk < 0) return -1;
  w->clob_pos[w->nclob] = (int16_t)i, w->clob_kind[w->nclob++] = (int8_t)kk;
  return 0;
}

/* The loop of build_intervals; generic: any instruction may clobber (a rule other than the
 * default, or the clobbers given), else only ra_op_may_clobber's ops may; reuse:
 * ra_opts.reuse_operand (0 or 1). Few values live across the loop (note_clobber is a call):
 * what the common path needs in registers. */
static inline __attribute__((always_inline)) af_status
interval_loop(const af_case *c, const af_func *f, ra_work *w, int fn, af_error *err,
              const clob_rule *cr, const int generic, const int reuse) {
  const int nv = f->nvalues, ni = f->ninsts;
  int16_t *const start = w->start, *const end = w->end;
  const af_inst *in = f->insts;
  /* the result id expected next (w->in_order): one that is valid, or -2 when none is left */
  int next = f->sig.nparams < nv ? f->sig.nparams : -2;
  int disorder = 0;
  for (int i = 0; i < ni; i++, in++) {
    int16_t def = (int16_t)(2 * i + 1), use = (int16_t)(def - reuse);
    int n = in->nargs;
    if ((unsigned)n > AF_MAX_OPERANDS)
      return ra_fail(err, AF_ERR_INVALID, "function %d instruction %d: bad operand count", fn, i);
    for (int k = 0; k < n; k++) {
      int a = in->args[k];
      if ((unsigned)a >= (unsigned)nv || start[a] >= def)
        return ra_fail(err, AF_ERR_INVALID, "function %d instruction %d: bad operand v%d", fn, i,
                       a);
      end[a] = use;
    }
    int d = in->dst;
    if (d >= 0) {
      if (d != next) { /* (next is in [np, nv), or -2 once every id is used) */
        if (d < f->sig.nparams || d >= nv)
          return ra_fail(err, AF_ERR_INVALID, "function %d instruction %d: bad result v%d", fn, i,
                         d);
        disorder = 1;
      }
      start[d] = end[d] = def;
      next = d + 1 < nv ? d + 1 : -2;
    }
    /* clobber kinds (few instructions have one: their bookkeeping is note_clobber's, out of
     * this loop, whose state then fits in registers) */
    if (generic || ra_op_may_clobber(in->op)) {
      ra_clobber cl = cr->clobs ? cr->clobs[i]
                      : generic ? cr->clob(cr->clob_user, c, f, in)
                                : default_clobber(c, f, in, cr->cs);
      if (cl.kind != RA_CLOB_NONE && note_clobber(w, cl, in, i, cr->survive) < 0)
        return ra_fail(err, AF_ERR_LIMIT, "function %d: more than %d kinds of clobber", fn,
                       RA_MAX_CLOBBER_KINDS);
    }
  }
  w->clob_pos[w->nclob] = INT16_MAX;
  w->in_order = !disorder && next == -2;
  return AF_OK;
}

/* Intervals of every value and the clobbering instructions (their kinds, in order); the
 * locations are written by scan. */
static __attribute__((noinline)) af_status build_intervals(const af_case *c, const af_func *f,
                                                           const ra_opts *o, ra_work *w, int fn,
                                                           af_error *err) {
  clob_rule cr;
  cr.clob = o->clobber ? o->clobber : ra_default_clobber;
  cr.clob_user = o->clobber_user;
  cr.clobs = o->clobbers;
  cr.survive = o->call_args_survive;
  const int np = f->sig.nparams, nv = f->nvalues;
  int16_t *const start = w->start, *const end = w->end;
  for (int v = 0; v < np; v++)
    start[v] = end[v] = -1;
  { /* start[np..nv) = INT16_MAX (each end is set with its definition), four at a time */
    const uint64_t four = 0x7fff7fff7fff7fffull;
    int v = np;
    for (; v + 4 <= nv; v += 4)
      memcpy(&start[v], &four, 8);
    for (; v < nv; v++)
      start[v] = INT16_MAX;
  }
  w->nkinds = 0;
  w->nclob = 0;
  w->all_and = ~0ull;
  w->lost = 0;
  callee_saved_masks(cr.cs);
  /* the default rule: only ra_op_may_clobber's ops may clobber (regalloc.h) */
  if (!cr.clobs && !o->clobber && !o->reuse_operand)
    return interval_loop(c, f, w, fn, err, &cr, 0, 0);
  return interval_loop(c, f, w, fn, err, &cr, 1, o->reuse_operand != 0);
}

/* kind_at from the clobber list, for scan and scan_any_order (scan_lean walks the list). */
static void build_kind_at(ra_work *w, int ni) {
  memset(w->kind_at, 0xff, (size_t)ni);
  for (int k = 0; k < w->nclob; k++)
    w->kind_at[w->clob_pos[k]] = w->clob_kind[k];
}

/* next_clob from kind_at, for scan and scan_any_order (scan_lean walks clob_pos). */
static void build_next_clob(ra_work *w, int ni) {
  if (!w->nkinds) return;
  int16_t next = (int16_t)ni, *const next_clob = w->next_clob;
  const int8_t *const kind_at = w->kind_at;
  next_clob[ni] = next;
  for (int i = ni - 1; i >= 0; i--)
    next_clob[i] = next = kind_at[i] >= 0 ? (int16_t)i : next;
}

/* A value's class and its allowed registers (class, options, crossed clobbers). */
static inline ra_class value_class(const af_case *c, int t) {
  unsigned k = (unsigned)t < (unsigned)c->ntypes ? (unsigned)c->types[t].kind : AF_T_NSCALAR;
  return k <= AF_T_ARRAY ? (ra_class)class_of_kind[k] : RA_CLASS_NONE;
}

/* The scan for intervals out of definition order, which only a function defining a value
 * twice has (the verifier rejects it; ra_allocate does not): an active list sorted by end,
 * expired from the front, as scan below was before it kept values per register. */
static uint64_t scan_any_order(const af_case *c, const af_func *f, const ra_opts *o, ra_work *w,
                               ra_loc *loc, uint64_t own_saved, uint64_t call_preserved, int *bad) {
  const uint64_t alloc_gpr = ra_allocatable(o, RA_CLASS_GPR);
  const uint64_t alloc_xmm = ra_allocatable(o, RA_CLASS_XMM);
  const int8_t *hint = o->hint;
  for (int v = 0; v < f->nvalues; v++) {
    if (w->start[v] == INT16_MAX) {
      *bad = v;
      return 0;
    }
    ra_class cls = value_class(c, f->value_type[v]);
    int crosses = 0;
    uint64_t allowed = cls == RA_CLASS_GPR ? alloc_gpr : cls == RA_CLASS_XMM ? alloc_xmm : 0;
    if (cls != RA_CLASS_NONE && w->nkinds)
      allowed &= crossed_mask(w, f->ninsts, w->start[v], w->end[v], &crosses);
    loc[v] = make_loc(RA_NONE, cls, crosses, AF_REG_NONE, w->start[v], w->end[v], allowed);
  }
  uint64_t used = 0, busy = 0;
  int lo = 0, nactive = 0;
  for (int v = 0; v < f->nvalues; v++) {
    ra_loc *l = &loc[v];
    if (l->cls == RA_CLASS_NONE ||
        stays_in_slot(o->slot_rule, f->insts, l->crosses, l->start, l->end))
      continue;                                    /* RA_NONE */
    while (lo < nactive && w->aend[lo] < l->start) /* expire */
      busy &= ~RA_BIT(loc[w->active[lo++]].reg);
    int r;
    if (hint && hint[v] >= 0 && hint[v] < AF_REG_COUNT && (l->allowed & ~busy & RA_BIT(hint[v])))
      r = hint[v];
    else
      r = pick_reg((ra_class)l->cls, l->allowed & ~busy, own_saved, used, call_preserved,
                   l->crosses);
    if (r == AF_REG_NONE) {
      int vi = -1;
      for (int i = nactive - 1; i >= lo; i--)
        if (l->allowed & RA_BIT(loc[w->active[i]].reg)) {
          vi = i;
          break;
        }
      if (vi < 0 || w->aend[vi] <= l->end) {
        l->kind = RA_SPILL;
        continue;
      }
      ra_loc *victim = &loc[w->active[vi]];
      r = victim->reg;
      victim->kind = RA_SPILL;
      victim->reg = AF_REG_NONE;
      for (int i = vi + 1; i < nactive; i++)
        w->active[i - 1] = w->active[i], w->aend[i - 1] = w->aend[i];
      nactive--;
    }
    l->kind = RA_REG;
    l->reg = (int8_t)r;
    busy |= RA_BIT(r);
    used |= RA_BIT(r);
    int i = nactive++;
    while (i > lo && w->aend[i - 1] > l->end) {
      w->active[i] = w->active[i - 1];
      w->aend[i] = w->aend[i - 1];
      i--;
    }
    w->active[i] = (int16_t)v;
    w->aend[i] = l->end;
  }
  return used;
}

/* The register a value that found none takes over: among m (the usable registers that live
 * values hold), the one whose value ends furthest, the latest defined among equal ends; -1 when
 * m is empty. regend / regval: each register's holder's end and value number. */
static inline int spill_victim(uint64_t m, const int16_t *regend, const int16_t *regval) {
  int vr = -1;
  for (; m; m &= m - 1) {
    int q = __builtin_ctzll(m);
    if (vr < 0 || regend[q] > regend[vr] || (regend[q] == regend[vr] && regval[q] > regval[vr]))
      vr = q;
  }
  return vr;
}

/* The scans' check of value v's start s: every value is defined (INT16_MAX: never; *bad = v)
 * and the values come in start order (*bad = -2). 1 and *last = s when both hold. */
static inline int start_ok(int v, int s, int *last, int *bad) {
  if (s == INT16_MAX) {
    *bad = v;
    return 0;
  }
  if (s < *last) {
    *bad = -2;
    return 0;
  }
  *last = s;
  return 1;
}

/* The linear scan proper, writing every value's location (and its allowed mask, from the
 * clobbers its interval crosses). Returns the registers given (regs_used), or sets *bad to
 * the first value never defined, or *bad to -2 when a value starts before an earlier one
 * (then scan_any_order does the work). */
static uint64_t scan(const af_func *f, const ra_opts *o, ra_work *w, ra_loc *loc,
                     uint64_t own_saved, uint64_t call_preserved, int *bad) {
  const int8_t *const hint = o->hint;
  const uint64_t alloc_gpr = ra_allocatable(o, RA_CLASS_GPR);
  const uint64_t alloc_xmm = ra_allocatable(o, RA_CLASS_XMM);
  const int nv = f->nvalues, ni = f->ninsts, nkinds = w->nkinds;
  const int *const vtype = f->value_type;
  const int16_t *const start = w->start, *const end = w->end;
  int16_t *const ends = w->ends, *const next_end = w->next_end;
  int16_t *const regval = w->regval, *const regend = w->regend;
  /* crossed_mask's walk (inline below), its arrays in locals */
  const int16_t *const next_clob = w->next_clob;
  const int8_t *const kind_at = w->kind_at;
  const ra_clobber *const kinds = w->kinds;
  const uint64_t all_and = w->all_and;
  const int slot_rule = o->slot_rule;
  memset(ends, 0xff, (size_t)(2 * ni + 3) * sizeof *ends); /* every list empty (-1) */
  uint64_t used = 0;
  uint64_t busy = 0; /* registers held by values live at the current position */
  int xp = 0;        /* ends[] lists below xp are expired */
  int last = -1;     /* the previous value's start */
  for (int v = 0; v < nv; v++) {
    int s = start[v], e = end[v];
    if (!start_ok(v, s, &last, bad)) return 0;
    /* ra_value_class without the type table: a scalar's type id is its kind (gen.h, Types:
     * every case's table starts with one entry per scalar kind), and no other type (struct,
     * union, array, or none) has a class */
    unsigned t = (unsigned)vtype[v];
    ra_class cls = t < AF_T_NSCALAR ? (ra_class)class_of_kind[t] : RA_CLASS_NONE;
    ra_loc *l = &loc[v];
    if (cls == RA_CLASS_NONE) {
      *l = (ra_loc){.kind = RA_NONE, .reg = AF_REG_NONE, .start = (int16_t)s, .end = (int16_t)e};
      continue;
    }
    uint64_t allowed = cls == RA_CLASS_GPR ? alloc_gpr : alloc_xmm;
    int crosses = 0;
    /* crossed_mask (above), inline */
    int lo = (s + 1) / 2;
    if (nkinds && e >= 0 && lo < ni) {
      int hi_call = e / 2, hi_surv = e / 2 + 1;
      if (hi_call > ni) hi_call = ni;
      if (hi_surv > ni) hi_surv = ni;
      uint64_t m = ~0ull;
      for (int j = next_clob[lo]; j < hi_surv; j = next_clob[j + 1]) {
        const ra_clobber *kd = &kinds[kind_at[j]];
        if (kd->kind != RA_CLOB_SURVIVE && j >= hi_call) continue;
        m &= kd->preserved;
        crosses = 1;
        if (m == all_and) break;
      }
      allowed &= m;
    }
    if (slot_rule && stays_in_slot(slot_rule, f->insts, crosses, s, e)) {
      *l = make_loc(RA_NONE, cls, crosses, AF_REG_NONE, s, e, allowed);
      continue;
    }
    /* expire: every value ending before s frees its register (unless evicted: then the
     * register went to the value that took it) */
    for (; xp <= s; xp++)
      for (int u = ends[xp]; u >= 0; u = next_end[u])
        if (loc[u].kind == RA_REG) busy &= ~RA_BIT(loc[u].reg);
    int r;
    if (hint && hint[v] >= 0 && hint[v] < AF_REG_COUNT && (allowed & ~busy & RA_BIT(hint[v])))
      r = hint[v];
    else
      r = pick_reg(cls, allowed & ~busy, own_saved, used, call_preserved, crosses);
    if (r == AF_REG_NONE) {
      /* spill the live value ending furthest (the latest defined among equal ends) among
       * those holding a usable register, if it ends after this one */
      int vr = spill_victim(busy & allowed, regend, regval);
      if (vr < 0 || regend[vr] <= e) {
        *l = make_loc(RA_SPILL, cls, crosses, AF_REG_NONE, s, e, allowed);
        continue;
      }
      ra_loc *victim = &loc[regval[vr]];
      r = vr;
      victim->kind = RA_SPILL;
      victim->reg = AF_REG_NONE;
    }
    *l = make_loc(RA_REG, cls, crosses, r, s, e, allowed);
    busy |= RA_BIT(r);
    used |= RA_BIT(r);
    regval[r] = (int16_t)v;
    regend[r] = (int16_t)e;
    next_end[v] = ends[e + 1];
    ends[e + 1] = (int16_t)v;
  }
  return used;
}

/* Lean mode's register numbering: bit k of a "canonical" mask is register canon_reg[k], so that
 * ascending bits follow each class's canonical order (regalloc.h): GPRs in bits 0-15 (RSP and
 * RBP, never allocatable, last), XMMs in bits 16-31. The first register of a set in canonical
 * order is then its lowest bit (first_in_order without its branches). */
static const int8_t canon_reg[32] = {
    AF_RSI,   AF_RDI,   AF_RBX,  AF_R12,  AF_R13,   AF_R14,   AF_R15,   AF_R8,
    AF_R9,    AF_R10,   AF_R11,  AF_RAX,  AF_RCX,   AF_RDX,   AF_RSP,   AF_RBP,
    AF_XMM6,  AF_XMM7,  AF_XMM8, AF_XMM9, AF_XMM10, AF_XMM11, AF_XMM12, AF_XMM13,
    AF_XMM14, AF_XMM15, AF_XMM0, AF_XMM1, AF_XMM2,  AF_XMM3,  AF_XMM4,  AF_XMM5};
_Static_assert(AF_RAX == 0 && AF_RSP == 4 && AF_RSI == 6 && AF_R8 == 8 && AF_R12 == 12 &&
                   AF_XMM0 == 16 && AF_XMM6 == 22 && AF_ST0 == 32,
               "canon_reg, reg_canon, to_canon and from_canon assume af_reg's numbering");
/* canon_reg's inverse, for hints (AF_ST0 and beyond: never allocatable) */
static const int8_t reg_canon[32] = {11, 12, 13, 2,  14, 15, 0,  1,  7,  8,  9,
                                     10, 3,  4,  5,  6,  26, 27, 28, 29, 30, 31,
                                     16, 17, 18, 19, 20, 21, 22, 23, 24, 25};

/* A register mask (bit per af_reg) as a canonical one (bits of AF_ST0 and beyond dropped: no
 * value is ever given them), and back. */
static inline uint32_t to_canon(uint64_t m) {
  uint32_t g = (uint32_t)m;
  return (g >> AF_RSI & 3) | (g >> AF_RBX & 1) << 2 | (g >> AF_R12 & 0xf) << 3 |
         (g >> AF_R8 & 0xf) << 7 | (g & 7) << 11 | (g >> AF_RSP & 3) << 14 |
         (g >> AF_XMM6 & 0x3ff) << 16 | (g >> AF_XMM0 & 0x3f) << 26;
}
static inline uint64_t from_canon(uint32_t c) {
  uint64_t m = (c & 3u) << AF_RSI | (c >> 2 & 1) << AF_RBX | (c >> 3 & 0xf) << AF_R12 |
               (c >> 7 & 0xf) << AF_R8 | (c >> 11 & 7) | (c >> 14 & 3) << AF_RSP |
               (uint64_t)(c >> 16 & 0x3ff) << AF_XMM6 | (uint64_t)(c >> 26 & 0x3f) << AF_XMM0;
  return m;
}

/* scan in lean mode (ra_opts.vreg_out): the same allocation, step for step, with each value's
 * register written to vreg and the lowering's counts kept as registers are given and taken,
 * instead of a location per value (most values have no register class: for them, one byte).
 * Register sets are canonical masks (canon_reg): pick_reg's rank classes are then a few ANDs
 * and conditional moves, and its first in canonical order the lowest bit. */
static inline __attribute__((always_inline)) uint64_t
scan_lean_body(const af_func *f, const ra_opts *o, ra_work *w, ra_result *out, uint64_t own_saved,
               const int8_t *const hint, const int slot_rule) {
  int8_t *const vreg = o->vreg_out;
  /* the allocatable registers by class (ra_allocatable; the lowering's options: constants) */
  uint32_t cls_allowed[3] = {0};
  if (o->max_gpr <= 0 && o->max_xmm <= 0 && o->scratch == RA_SCRATCH_DEFAULT) {
    cls_allowed[RA_CLASS_GPR] = to_canon(RA_GPR_ORDER_SET & ~(RA_SCRATCH_DEFAULT | RA_RESERVED));
    cls_allowed[RA_CLASS_XMM] = to_canon(RA_XMM_ORDER_SET & ~(RA_SCRATCH_DEFAULT | RA_RESERVED));
  } else {
    cls_allowed[RA_CLASS_GPR] = to_canon(ra_allocatable(o, RA_CLASS_GPR));
    cls_allowed[RA_CLASS_XMM] = to_canon(ra_allocatable(o, RA_CLASS_XMM));
  }
  const uint32_t own = to_canon(own_saved);
  const int nv = f->nvalues;
  const int *const vtype = f->value_type;
  const int16_t *const start = w->start, *const end = w->end;
  /* per canonical register: its holder's end, (end, value) as one key for the spill victim,
   * whether it crosses a clobber; per af_reg, what the values in it that cross count
   * (out->lean_crossing). A holder expires when regend[r] < s, compared for all 32 at once: no
   * list of ends. */
  int16_t regend[32] __attribute__((aligned(16))) = {0};
  int32_t regkey[32];
  int16_t crossing[32] = {0};
  int8_t regcross[32];
  /* the clobbers: positions (INT16_MAX after the last), and per kind its preserved registers
   * (canonical) and whether it is SURVIVE */
  const int16_t *const clob_pos = w->clob_pos;
  const int8_t *const clob_kind = w->clob_kind;
  /* (one more kind for the sentinel's clob_kind: preserves all, not SURVIVE) */
  uint32_t kpres[RA_MAX_CLOBBER_KINDS + 1];
  uint8_t ksurv[RA_MAX_CLOBBER_KINDS + 1];
  kpres[w->nkinds] = ~0u, ksurv[w->nkinds] = 0;
  w->clob_kind[w->nclob] = (int8_t)w->nkinds;
  uint32_t cp = 0, all_and = ~0u; /* call_preserved and w->all_and, canonical */
  for (int k = 0; k < w->nkinds; k++) {
    /* (most kinds preserve the own convention's callee-saved registers: already converted) */
    uint64_t pres = w->kinds[k].preserved;
    kpres[k] = pres == own_saved ? own : to_canon(pres);
    ksurv[k] = w->kinds[k].kind == RA_CLOB_SURVIVE;
    cp |= kpres[k];
    all_and &= kpres[k];
  }
  int cc = 0; /* clob_pos[cc]: the first clobber at or after the current value's lo (the
                 values come in start order: it only moves forward) */
  uint32_t used = 0;
  uint32_t busy = 0; /* registers held by values live at the current position */
  int in_reg = 0;
  memset(vreg, AF_REG_NONE, (size_t)nv); /* values given a register overwrite theirs */
  for (int v = 0; v < nv; v++) {
    unsigned t = (unsigned)vtype[v]; /* the class as scan finds it */
    ra_class cls = t < AF_T_NSCALAR ? (ra_class)class_of_kind[t] : RA_CLASS_NONE;
    uint32_t allowed = cls_allowed[cls];
    /* no register class, or none allowed (then scan spills it: the same vreg, no counts) */
    if (!allowed) continue;
    int s = start[v], e = end[v];
    /* crossed_mask, inline, over clob_pos. A clobber at instruction j is crossed when
     * lo <= j < hi_call, or j == hi_call for SURVIVE (hi_call = e / 2; e = -1 for an unused
     * parameter: none); clob_pos < ninsts, so crossed_mask's caps at ninsts never bind. The
     * first clobber from lo without a branch (whether a value crosses one is the case's coin
     * toss, and mispredicted as such); the rest only when its mask is not yet all_and, which
     * takes two kinds of clobber */
    int lo = (s + 1) >> 1, h = e >> 1;
    while (clob_pos[cc] < lo)
      cc++;
    int j0 = clob_pos[cc], k0 = clob_kind[cc]; /* (the sentinel's kind past the last) */
    int crosses = (j0 < h) | ((j0 == h) & ksurv[k0]);
    uint32_t m = crosses ? kpres[k0] : ~0u;
    if (__builtin_expect(crosses && m != all_and, 0)) {
      for (int k = cc + 1, j; (j = clob_pos[k]) <= h; k++) {
        int kd = clob_kind[k];
        if (j == h && !ksurv[kd]) break; /* a CALL at the last use (the last j <= h) */
        m &= kpres[kd];
        if (m == all_and) break;
      }
    }
    allowed &= m;
    if (slot_rule && stays_in_slot(slot_rule, f->insts, crosses, s, e))
      continue; /* vreg stays AF_REG_NONE */
    /* expire: the holders ending before s free their registers; only the value's class's
     * (the other class's expire when a value of theirs comes: s only grows, so each class's
     * registers are as free then as they would be now) */
    const int half = cls == RA_CLASS_GPR ? 0 : 16;
    if (busy >> half & 0xffff) {
      const __m128i sv = _mm_set1_epi16((short)s);
      const __m128i *re = (const __m128i *)(regend + half);
      unsigned x = (unsigned)_mm_movemask_epi8(
          _mm_packs_epi16(_mm_cmplt_epi16(re[0], sv), _mm_cmplt_epi16(re[1], sv)));
      busy &= ~(x << half);
    }
    uint32_t cands = allowed & ~busy;
    int rc;
    if (hint && hint[v] >= 0 && hint[v] < 32 && (cands >> reg_canon[hint[v]] & 1)) {
      rc = reg_canon[hint[v]];
    } else {
      /* pick_reg: the first non-empty of not own-callee-saved, own-callee-saved and used,
       * own-callee-saved and new; in it, those no call preserves first unless the value
       * crosses a clobber; the lowest bit */
      uint32_t late = crosses ? 0 : cp;
      uint32_t t0 = cands & ~own, t1 = cands & own & used, t2 = cands & own & ~used;
      uint32_t tier = t0 ? t0 : t1 ? t1 : t2;
      uint32_t early = tier & ~late;
      tier = early ? early : tier;
      rc = tier ? __builtin_ctz(tier) : -1;
    }
    if (rc < 0) {
      /* spill_victim: the holder of a usable register ending furthest, the latest defined
       * among equal ends (the larger key) */
      uint32_t m = busy & allowed;
      if (!m) continue; /* spilled: vreg stays AF_REG_NONE */
      int vr = __builtin_ctz(m);
      int32_t best = regkey[vr];
      for (m &= m - 1; m; m &= m - 1) {
        int q = __builtin_ctz(m);
        if (regkey[q] > best) best = regkey[q], vr = q;
      }
      if ((best >> 16) <= e) continue; /* spilled */
      rc = vr;
      vreg[best & 0xffff] = AF_REG_NONE; /* the victim */
      in_reg--;
      crossing[canon_reg[rc]] -= regcross[rc];
    }
    int r = canon_reg[rc];
    vreg[v] = (int8_t)r;
    in_reg++;
    crossing[r] += (int16_t)crosses;
    regcross[rc] = (int8_t)crosses;
    busy |= 1u << rc;
    used |= 1u << rc;
    regkey[rc] = e * 65536 + v; /* (end, value): e >= -1, v < 65536 */
    regend[rc] = (int16_t)e;
  }
  out->lean_in_reg = in_reg;
  memcpy(out->lean_crossing, crossing, sizeof crossing);
  for (int k = 32; k < AF_REG_COUNT; k++)
    out->lean_crossing[k] = 0;
  return from_canon(used);
}

/* scan_lean_body without hints (the lowering's case) and with them, and with the default slot
 * rule or another; w->in_order holds */
static uint64_t scan_lean(const af_func *f, const ra_opts *o, ra_work *w, ra_result *out,
                          uint64_t own_saved) {
  if (o->hint) return scan_lean_body(f, o, w, out, own_saved, o->hint, o->slot_rule);
  /* the lowering's rule as a constant: stays_in_slot's tests of it fold away */
  if (o->slot_rule == RA_SLOT_DEFAULT)
    return scan_lean_body(f, o, w, out, own_saved, NULL, RA_SLOT_DEFAULT);
  return scan_lean_body(f, o, w, out, own_saved, NULL, o->slot_rule);
}

/* Lean mode's outputs from the locations (after scan_any_order). */
static void lean_from_loc(const ra_result *r, int nv, int8_t *vreg, int *in_reg,
                          int16_t *crossing) {
  *in_reg = 0;
  for (int k = 0; k < AF_REG_COUNT; k++)
    crossing[k] = 0;
  for (int v = 0; v < nv; v++) {
    const ra_loc *l = &r->loc[v];
    vreg[v] = l->kind == RA_REG ? l->reg : (int8_t)AF_REG_NONE;
    if (l->kind != RA_REG) continue;
    ++*in_reg;
    crossing[l->reg] += l->crosses;
  }
}

af_status ra_allocate(const af_case *c, int fn, const ra_opts *o, ra_result *out, af_error *err) {
  ra_opts def;
  if (!o) {
    ra_opts_default(&def);
    o = &def;
  }
  memset(&out->stats, 0, sizeof out->stats);
  out->fn = fn;
  out->nvalues = 0;
  out->regs_used = out->callee_saved_used = out->clobbered = 0;
  if (fn < 0 || fn >= c->nfuncs)
    return ra_fail(err, AF_ERR_INVALID, "no function %d in the case", fn);
  const af_func *f = &c->funcs[fn];
  if (!f->value_type || f->nvalues < f->sig.nparams)
    return ra_fail(err, AF_ERR_INVALID, "function %d: value types not computed", fn);
  if (f->nvalues > RA_MAX_VALUES || f->ninsts > AF_MAX_INSTS)
    return ra_fail(err, AF_ERR_LIMIT, "function %d: too many values", fn);
  ra_work w;
  af_status s = build_intervals(c, f, o, &w, fn, err);
  if (s != AF_OK) return s;
  uint64_t own_saved = af_abi_get(f->sig.cc)->callee_saved;
  uint64_t call_preserved = 0;
  for (int k = 0; k < w.nkinds; k++)
    call_preserved |= w.kinds[k].preserved;
  const int lean = o->vreg_out != NULL;
  /* -2: the reference scan, which lean mode also takes for values out of start order or never
   * defined (then scan_any_order names the first value never defined, as scan would) */
  int bad = o->reference_scan || (lean && !w.in_order) ? -2 : -1;
  if (!lean || bad == -2) build_kind_at(&w, f->ninsts), build_next_clob(&w, f->ninsts);
  uint64_t used = bad == -2 ? 0
                  : lean    ? scan_lean(f, o, &w, out, own_saved)
                            : scan(f, o, &w, out->loc, own_saved, call_preserved, &bad);
  if (bad == -2) {
    bad = -1;
    used = scan_any_order(c, f, o, &w, out->loc, own_saved, call_preserved, &bad);
    if (bad < 0 && lean)
      lean_from_loc(out, f->nvalues, o->vreg_out, &out->lean_in_reg, out->lean_crossing);
  }
  if (bad >= 0) return ra_fail(err, AF_ERR_INVALID, "function %d: v%d is never defined", fn, bad);
  out->nvalues = f->nvalues;
  /* every register scan gave is held by a value at the end: an evicted value's register
   * passes to the value that evicted it */
  out->regs_used = used;
  out->callee_saved_used = used & own_saved;
  out->clobbered = w.lost;
  if (o->no_stats || lean) return AF_OK;
  ra_stats *st = &out->stats;
  for (int v = 0; v < f->nvalues; v++) {
    const ra_loc *l = &out->loc[v];
    /* a value keeps RA_NONE when its class has no register (then it never crosses) or the
     * slot rule leaves it in its slot; scan gives every other one RA_REG or RA_SPILL */
    if (l->cls == RA_CLASS_NONE) {
      st->slot_class++;
      continue;
    }
    st->values_gpr += l->cls == RA_CLASS_GPR;
    st->values_xmm += l->cls == RA_CLASS_XMM;
    if (l->crosses) {
      st->crossing++;
      st->crossing_in_reg += l->kind == RA_REG;
      st->crossing_callee_saved += l->kind == RA_REG && (own_saved & RA_BIT(l->reg));
    }
    if (l->kind == RA_NONE) /* left in its slot by the slot rule */
      st->slot_class++;
    else if (l->kind == RA_REG)
      st->in_reg++;
    else
      st->spilled++;
  }
  return AF_OK;
}

void ra_print(const af_case *c, const ra_result *r, FILE *out) {
  static const char *kinds[] = {"slot", "reg", "spill"};
  char tb[32];
  for (int v = 0; v < r->nvalues; v++) {
    const ra_loc *l = &r->loc[v];
    fprintf(out, "v%-4d %-6s [%5d,%5d] %-5s %s%s\n", v,
            af_type_name(c, c->funcs[r->fn].value_type[v], tb, sizeof tb), l->start, l->end,
            kinds[l->kind], l->kind == RA_REG ? af_reg_name((af_reg)l->reg) : "",
            l->crosses ? " (crosses a call)" : "");
  }
  fprintf(out, "in_reg %d spilled %d slot %d crossing %d (in reg %d, callee-saved %d) saves:",
          r->stats.in_reg, r->stats.spilled, r->stats.slot_class, r->stats.crossing,
          r->stats.crossing_in_reg, r->stats.crossing_callee_saved);
  for (int i = 0; i < AF_REG_COUNT; i++)
    if (r->callee_saved_used & RA_BIT(i)) fprintf(out, " %s", af_reg_name((af_reg)i));
  fputc('\n', out);
}
