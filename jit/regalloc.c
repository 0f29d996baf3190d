/* regalloc.c - linear-scan register allocation of one case function (design: regalloc.h). */
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

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

ra_clobber ra_default_clobber(void *user, const af_case *c, const af_func *f, const af_inst *in) {
  (void)user;
  ra_clobber r = {RA_CLOB_NONE, 0};
  /* the operation first: most instructions never call anything, and the type lookups below
   * only matter for the few that may (ra_op_may_clobber, regalloc.h) */
  if (!ra_op_may_clobber(in->op)) return r;
  if (in->op == AF_OP_CALL) {
    if (in->imm >= 0 && in->imm < c->nfuncs) {
      r.kind = RA_CLOB_CALL;
      r.preserved = af_abi_get(c->funcs[in->imm].sig.cc)->callee_saved;
    }
    return r;
  }
  af_kind t = kind_of(c, in->type);
  af_kind a = in->nargs > 0 && in->args[0] >= 0 && in->args[0] < f->nvalues && f->value_type
                  ? kind_of(c, f->value_type[in->args[0]])
                  : AF_T_NSCALAR;
  int wide_t = t == AF_T_I128 || t == AF_T_U128;
  switch (in->op) {
  case AF_OP_MIX: r.kind = RA_CLOB_SURVIVE; break; /* one jit_rt_fold call per operand */
  case AF_OP_FCONV:
    if (t == AF_T_F16 || a == AF_T_F16) r.kind = RA_CLOB_CALL;
    break;
  case AF_OP_ITOF: /* integer a -> float t */
    if (t == AF_T_F16 || t == AF_T_F80 || a == AF_T_I128 || a == AF_T_U128 || a == AF_T_U64)
      r.kind = RA_CLOB_CALL;
    break;
  case AF_OP_FTOI: /* float a -> integer t */
    if (a == AF_T_F16 || a == AF_T_F80 || wide_t || t == AF_T_U64) r.kind = RA_CLOB_CALL;
    break;
  case AF_OP_MUL:
  case AF_OP_SHL:
  case AF_OP_LSHR:
  case AF_OP_ASHR:
    if (wide_t) r.kind = RA_CLOB_CALL;
    break;
  case AF_OP_CMP: /* 128-bit compares go through the same helper as 128-bit MUL */
    if (a == AF_T_I128 || a == AF_T_U128) r.kind = RA_CLOB_CALL;
    break;
  case AF_OP_GET:
  case AF_OP_SET: /* bit-fields the lowering cannot do inline: jit_rt_bf_get/set */
    if (in->nargs > 0 && leaf_is_bitfield(c, f->value_type[in->args[0]], in)) r.kind = RA_CLOB_CALL;
    break;
  default: break;
  }
  /* lower_ops*.c loads the helper's arguments (RDI = &result, RSI = &operand ...) before it
   * has read every operand: the operands must survive those writes, hence SURVIVE; the
   * helpers are SysV (lower.h) */
  if (r.kind != RA_CLOB_NONE)
    r.kind = RA_CLOB_SURVIVE, r.preserved = af_abi_get(AF_CC_SYSV)->callee_saved;
  return r;
}

/* Work state of one allocation (on the stack: no heap). */
typedef struct {
  int nkinds;
  ra_clobber kinds[RA_MAX_CLOBBER_KINDS];
  uint64_t all_and;                    /* AND of every kind's preserved mask */
  int8_t kind_at[AF_MAX_INSTS];        /* instruction i's clobber kind index, -1 if none */
  int16_t next_clob[AF_MAX_INSTS + 1]; /* first clobbering instruction >= i, ninsts if none */
  /* value ids holding a register, by ascending end: active[lo .. nactive). Expired values
   * leave from the front by moving lo (the array never shifts for them): room for every
   * value of a function. */
  int16_t active[RA_MAX_VALUES];
  int16_t aend[RA_MAX_VALUES]; /* aend[i] = loc[active[i]].end (one load less per compare) */
  int lo, nactive;
} ra_work;

/* The AND of the preserved masks of every clobber the interval [s, e] crosses
 * (regalloc.h, Positions and Clobbers); ~0 if it crosses none. *crosses set to 0/1. */
static uint64_t crossed_mask(const ra_work *w, int ninsts, int s, int e, int *crosses) {
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

/* The first register of m in the class's canonical order (regalloc.h), AF_REG_NONE if none.
 * The order as bit groups: GPR RSI, RDI, RBX, R12-R15, R8-R11, RAX RCX RDX (ascending bits
 * within each group); XMM XMM6-XMM15, XMM0-XMM5. */
static int first_in_order(ra_class cls, uint64_t m) {
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
static int pick_reg(ra_class cls, uint64_t cands, uint64_t own_saved, uint64_t used,
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

static void active_insert(ra_work *w, const ra_loc *loc, int v) {
  int i = w->nactive++;
  int16_t end = loc[v].end;
  while (i > w->lo && w->aend[i - 1] > end) {
    w->active[i] = w->active[i - 1];
    w->aend[i] = w->aend[i - 1];
    i--;
  }
  w->active[i] = (int16_t)v;
  w->aend[i] = end;
}

static void active_remove(ra_work *w, int idx) {
  /* a few entries: a loop, not a memmove call */
  for (int i = idx + 1; i < w->nactive; i++)
    w->active[i - 1] = w->active[i], w->aend[i - 1] = w->aend[i];
  w->nactive--;
}

/* Intervals, classes and allowed masks of every value. */
static af_status build_intervals(const af_case *c, const af_func *f, const ra_opts *o, ra_work *w,
                                 ra_result *out, af_error *err) {
  ra_clobber_fn clob = o->clobber ? o->clobber : ra_default_clobber;
  int np = f->sig.nparams;
  uint64_t alloc_gpr = ra_allocatable(o, RA_CLASS_GPR), alloc_xmm = ra_allocatable(o, RA_CLASS_XMM);
  for (int v = 0; v < f->nvalues; v++) {
    ra_loc *l = &out->loc[v];
    l->cls = (uint8_t)ra_value_class(c, f->value_type[v]);
    l->kind = RA_NONE;
    l->reg = AF_REG_NONE;
    l->crosses = 0;
    l->start = l->end = (int16_t)(v < np ? -1 : INT16_MAX); /* defs fixed below */
    l->allowed = l->cls == RA_CLASS_GPR ? alloc_gpr : l->cls == RA_CLASS_XMM ? alloc_xmm : 0;
  }
  w->nkinds = 0;
  w->all_and = ~0ull;
  for (int i = 0; i < f->ninsts; i++) {
    const af_inst *in = &f->insts[i];
    int16_t def = (int16_t)(2 * i + 1), use = (int16_t)(o->reuse_operand ? 2 * i : 2 * i + 1);
    if (in->nargs < 0 || in->nargs > AF_MAX_OPERANDS)
      return ra_fail(err, AF_ERR_INVALID, "function %d instruction %d: bad operand count", out->fn,
                     i);
    for (int k = 0; k < in->nargs; k++) {
      int a = in->args[k];
      if (a < 0 || a >= f->nvalues || out->loc[a].start >= def)
        return ra_fail(err, AF_ERR_INVALID, "function %d instruction %d: bad operand v%d", out->fn,
                       i, a);
      out->loc[a].end = use;
    }
    if (in->dst >= 0) {
      if (in->dst < np || in->dst >= f->nvalues)
        return ra_fail(err, AF_ERR_INVALID, "function %d instruction %d: bad result v%d", out->fn,
                       i, in->dst);
      out->loc[in->dst].start = out->loc[in->dst].end = def;
    }
    /* clobber kinds and their prefix counts */
    ra_clobber cl = o->clobbers ? o->clobbers[i] : clob(o->clobber_user, c, f, in);
    if (in->op == AF_OP_CALL && cl.kind == RA_CLOB_CALL && o->call_args_survive)
      cl.kind = RA_CLOB_SURVIVE;
    int kk = -1;
    if (cl.kind != RA_CLOB_NONE) {
      for (int k = 0; k < w->nkinds; k++)
        if (w->kinds[k].kind == cl.kind && w->kinds[k].preserved == cl.preserved) kk = k;
      if (kk < 0) {
        if (w->nkinds == RA_MAX_CLOBBER_KINDS)
          return ra_fail(err, AF_ERR_LIMIT, "function %d: more than %d kinds of clobber", out->fn,
                         RA_MAX_CLOBBER_KINDS);
        kk = w->nkinds++;
        w->kinds[kk] = cl;
        w->all_and &= cl.preserved;
      }
    }
    w->kind_at[i] = (int8_t)kk;
  }
  if (w->nkinds) {
    w->next_clob[f->ninsts] = (int16_t)f->ninsts;
    for (int i = f->ninsts - 1; i >= 0; i--)
      w->next_clob[i] = w->kind_at[i] >= 0 ? (int16_t)i : w->next_clob[i + 1];
  }
  for (int v = 0; v < f->nvalues; v++) {
    ra_loc *l = &out->loc[v];
    if (l->start == INT16_MAX)
      return ra_fail(err, AF_ERR_INVALID, "function %d: v%d is never defined", out->fn, v);
    if (l->cls == RA_CLASS_NONE || !w->nkinds) continue; /* no clobber: nothing crossed */
    int crosses;
    l->allowed &= crossed_mask(w, f->ninsts, l->start, l->end, &crosses);
    l->crosses = (uint8_t)crosses;
  }
  return AF_OK;
}

/* The linear scan proper. */
static void scan(const af_func *f, ra_work *w, ra_result *out, uint64_t own_saved,
                 uint64_t call_preserved, const int8_t *hint) {
  ra_loc *loc = out->loc;
  uint64_t used = 0;
  uint64_t busy = 0; /* registers held by active values */
  w->lo = w->nactive = 0;
  for (int v = 0; v < f->nvalues; v++) {
    ra_loc *l = &loc[v];
    if (l->cls == RA_CLASS_NONE) continue;
    while (w->lo < w->nactive && w->aend[w->lo] < l->start) { /* expire */
      busy &= ~RA_BIT(loc[w->active[w->lo]].reg);
      w->lo++;
    }
    int r = AF_REG_NONE;
    if (hint && hint[v] >= 0 && hint[v] < AF_REG_COUNT && (l->allowed & ~busy & RA_BIT(hint[v])))
      r = hint[v];
    else
      r = pick_reg((ra_class)l->cls, l->allowed & ~busy, own_saved, used, call_preserved,
                   l->crosses);
    if (r == AF_REG_NONE) {
      /* spill the active value ending furthest among those holding a usable register */
      int vi = -1;
      for (int i = w->nactive - 1; i >= w->lo; i--)
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
      active_remove(w, vi);
    }
    l->kind = RA_REG;
    l->reg = (int8_t)r;
    busy |= RA_BIT(r);
    used |= RA_BIT(r);
    active_insert(w, loc, v);
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
  out->regs_used = out->callee_saved_used = 0;
  if (fn < 0 || fn >= c->nfuncs)
    return ra_fail(err, AF_ERR_INVALID, "no function %d in the case", fn);
  const af_func *f = &c->funcs[fn];
  if (!f->value_type || f->nvalues < f->sig.nparams)
    return ra_fail(err, AF_ERR_INVALID, "function %d: value types not computed", fn);
  if (f->nvalues > RA_MAX_VALUES || f->ninsts > AF_MAX_INSTS)
    return ra_fail(err, AF_ERR_LIMIT, "function %d: too many values", fn);
  ra_work w;
  af_status s = build_intervals(c, f, o, &w, out, err);
  if (s != AF_OK) return s;
  out->nvalues = f->nvalues;
  uint64_t own_saved = af_abi_get(f->sig.cc)->callee_saved;
  uint64_t call_preserved = 0;
  for (int k = 0; k < w.nkinds; k++)
    call_preserved |= w.kinds[k].preserved;
  scan(f, &w, out, own_saved, call_preserved, o->hint);
  ra_stats *st = &out->stats;
  for (int v = 0; v < f->nvalues; v++) {
    const ra_loc *l = &out->loc[v];
    /* a value keeps RA_NONE exactly when its class has no register (scan gives every other
     * one RA_REG or RA_SPILL), and only those others may cross */
    if (l->cls == RA_CLASS_NONE) {
      st->slot_class++;
      continue;
    }
    st->values_gpr += l->cls == RA_CLASS_GPR;
    st->values_xmm += l->cls == RA_CLASS_XMM;
    if (l->kind == RA_REG) {
      out->regs_used |= RA_BIT(l->reg);
      st->in_reg++;
    } else {
      st->spilled++;
    }
    if (l->crosses) {
      st->crossing++;
      st->crossing_in_reg += l->kind == RA_REG;
      st->crossing_callee_saved += l->kind == RA_REG && (own_saved & RA_BIT(l->reg));
    }
  }
  out->callee_saved_used = out->regs_used & own_saved;
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
