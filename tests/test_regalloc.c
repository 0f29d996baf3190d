/* test_regalloc.c - the linear-scan register allocator: invariants, recomputed here from the IR. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "oracle_testlib.h"
#include "regalloc.h"

#define BIT(r) (1ull << (r))

/* ---- an invariant checker that shares no code with the allocator ---- */

/* Register class of a type, from the scalar table (not ra_value_class). */
static int t_class(const af_case *c, int type) {
  if (type < 0 || type >= AF_T_NSCALAR) return RA_CLASS_NONE;
  if (type == AF_T_PTR || (type >= AF_T_BOOL && type <= AF_T_U64)) return RA_CLASS_GPR;
  if (type == AF_T_F32 || type == AF_T_F64 || type == AF_T_M128 || type == AF_T_CF32)
    return RA_CLASS_XMM;
  (void)c;
  return RA_CLASS_NONE;
}

static uint64_t t_class_regs(int cls) {
  uint64_t m = 0;
  if (cls == RA_CLASS_GPR)
    for (int r = AF_RAX; r <= AF_R15; r++)
      m |= BIT(r);
  if (cls == RA_CLASS_XMM)
    for (int r = AF_XMM0; r <= AF_XMM15; r++)
      m |= BIT(r);
  return m & ~(BIT(AF_RSP) | BIT(AF_RBP));
}

typedef struct {
  int def, last; /* instruction indices; parameters -1; last == def if unused */
  int is_const;  /* defined by a CONST */
  int lo, hi;    /* doubled positions, as the header's contract defines them */
} t_val;

typedef struct {
  int kind; /* 0 none, RA_CLOB_CALL, RA_CLOB_SURVIVE */
  uint64_t preserved;
} t_clob;

typedef struct {
  long functions, values, in_reg, spilled, crossing, crossing_in_reg, xmm_cross_in_reg, saves;
  long in_slot;            /* values of a register class the slot rule left in their slots */
  long const_in_reg;       /* CONST results in registers ... */
  long const_cross_in_reg; /* ... of them crossing a clobber */
} t_totals;

/* Checks every invariant of one allocation; returns the number of violations. */
static int check_alloc(const af_case *c, int fn, const ra_opts *o, const ra_result *r,
                       const char *ctx, t_totals *tot) {
  static t_val tv[RA_MAX_VALUES];
  static t_clob cl[AF_MAX_INSTS];
  const af_func *f = &c->funcs[fn];
  const uint64_t own = af_abi_get(f->sig.cc)->callee_saved;
  int bad = 0;
#define T_FAIL(...)                                                                                \
  do {                                                                                             \
    CHECKF(0, __VA_ARGS__);                                                                        \
    if (++bad > 3) return bad;                                                                     \
  } while (0)
  if (r->nvalues != f->nvalues) T_FAIL("%s: nvalues %d != %d", ctx, r->nvalues, f->nvalues);
  /* liveness: definitions and last uses */
  for (int v = 0; v < f->nvalues; v++)
    tv[v].def = tv[v].last = -1, tv[v].is_const = 0;
  for (int i = 0; i < f->ninsts; i++) {
    const af_inst *in = &f->insts[i];
    for (int k = 0; k < in->nargs; k++)
      tv[in->args[k]].last = i;
    if (in->dst >= 0) { /* operands come first */
      tv[in->dst].def = tv[in->dst].last = i;
      tv[in->dst].is_const = in->op == AF_OP_CONST;
    }
    if (in->op == AF_OP_CALL) {
      cl[i].kind = o->call_args_survive ? RA_CLOB_SURVIVE : RA_CLOB_CALL;
      cl[i].preserved = af_abi_get(c->funcs[in->imm].sig.cc)->callee_saved;
    } else {
      ra_clobber x = (o->clobber ? o->clobber : ra_default_clobber)(o->clobber_user, c, f, in);
      cl[i].kind = x.kind;
      cl[i].preserved = x.preserved;
    }
  }
  for (int v = 0; v < f->nvalues; v++) {
    tv[v].lo = tv[v].def < 0 ? -1 : 2 * tv[v].def + 1;
    tv[v].hi = tv[v].last == tv[v].def ? tv[v].lo
                                       : (o->reuse_operand ? 2 * tv[v].last : 2 * tv[v].last + 1);
  }
  /* per value: class, location kind, allowed registers */
  uint64_t regs = 0;
  long in_reg = 0, spilled = 0, crossing = 0, in_slot = 0, no_class = 0;
  for (int v = 0; v < f->nvalues; v++) {
    const ra_loc *l = &r->loc[v];
    int cls = t_class(c, f->value_type[v]);
    if (cls == RA_CLASS_NONE) {
      if (l->kind != RA_NONE) T_FAIL("%s: v%d has no register class but kind %d", ctx, v, l->kind);
      no_class++;
      continue;
    }
    uint64_t allowed = t_class_regs(cls) & ~o->scratch;
    if (o->max_gpr || o->max_xmm) allowed &= ra_allocatable(o, (ra_class)cls);
    int crosses = 0;
    for (int i = tv[v].def + 1; i < f->ninsts && i <= tv[v].last; i++)
      if (cl[i].kind != RA_CLOB_NONE &&
          (tv[v].last > i || (cl[i].kind == RA_CLOB_SURVIVE && tv[v].last == i))) {
        crosses = 1;
        allowed &= cl[i].preserved;
      }
    crossing += crosses;
    if (l->crosses != crosses)
      T_FAIL("%s: v%d crosses=%d, recomputed %d", ctx, v, l->crosses, crosses);
    /* the slot rule (regalloc.h): such values take no register, whatever is free */
    int rule = o->slot_rule, k = tv[v].is_const;
    int next_only = tv[v].last <= tv[v].def + 1; /* unused, or read by the next instruction */
    int stays =
        (k && (rule & RA_SLOT_CONST_ALL)) ||
        (!crosses && ((k && (rule & RA_SLOT_CONST)) || ((rule & RA_SLOT_SHORT) && next_only)));
    if (stays != (l->kind == RA_NONE))
      T_FAIL("%s: v%d (%s, crosses %d, defined %d, last used %d) has kind %d under slot rule %d",
             ctx, v, k ? "const" : "not const", crosses, tv[v].def, tv[v].last, l->kind, rule);
    if (stays) {
      in_slot++;
      if (l->reg != AF_REG_NONE) T_FAIL("%s: v%d stays in its slot but has a register", ctx, v);
      continue;
    }
    if (l->kind == RA_SPILL) {
      spilled++;
      /* no spill a free register could have avoided: every register it may use is held
       * by some value whose interval meets its own */
      for (int reg = 0; reg < AF_REG_COUNT; reg++) {
        if (!(allowed & BIT(reg))) continue;
        int taken = 0;
        for (int u = 0; u < f->nvalues && !taken; u++)
          taken = r->loc[u].kind == RA_REG && r->loc[u].reg == reg && tv[u].lo <= tv[v].hi &&
                  tv[v].lo <= tv[u].hi;
        if (!taken)
          T_FAIL("%s: v%d spilled while %s was free over its life", ctx, v,
                 af_reg_name((af_reg)reg));
      }
      continue;
    }
    if (l->kind != RA_REG) T_FAIL("%s: v%d of a register class has kind %d", ctx, v, l->kind);
    in_reg++;
    tot->const_in_reg += k;
    tot->const_cross_in_reg += k && crosses;
    regs |= BIT(l->reg);
    tot->crossing_in_reg += crosses;
    tot->xmm_cross_in_reg += crosses && cls == RA_CLASS_XMM;
    if (!(allowed & BIT(l->reg)))
      T_FAIL("%s: v%d in %s, outside its allowed set (class, scratch, crossed calls)", ctx, v,
             af_reg_name((af_reg)l->reg));
  }
  /* no two values whose intervals meet share a register: per register, in definition
   * order (value ids), each interval starts after every earlier one ended */
  for (int reg = 0; reg < AF_REG_COUNT; reg++) {
    if (!(regs & BIT(reg))) continue;
    int maxhi = -100, prev = -1;
    for (int v = 0; v < f->nvalues; v++) {
      if (r->loc[v].kind != RA_REG || r->loc[v].reg != reg) continue;
      if (tv[v].lo <= maxhi)
        T_FAIL("%s: v%d and v%d overlap in %s", ctx, prev, v, af_reg_name((af_reg)reg));
      if (tv[v].hi > maxhi) maxhi = tv[v].hi, prev = v;
    }
  }
  if (r->regs_used != regs)
    T_FAIL("%s: regs_used %llx != %llx", ctx, (unsigned long long)r->regs_used,
           (unsigned long long)regs);
  if (r->callee_saved_used != (regs & own))
    T_FAIL("%s: callee_saved_used %llx, assigned callee-saved %llx", ctx,
           (unsigned long long)r->callee_saved_used, (unsigned long long)(regs & own));
  uint64_t lost = 0; /* what save sets need: every register some clobber destroys */
  for (int i = 0; i < f->ninsts; i++)
    if (cl[i].kind != 0) lost |= ~cl[i].preserved;
  if (r->clobbered != lost)
    T_FAIL("%s: clobbered %llx, recomputed %llx", ctx, (unsigned long long)r->clobbered,
           (unsigned long long)lost);
  if (r->stats.in_reg != in_reg || r->stats.spilled != spilled || r->stats.crossing != crossing ||
      r->stats.slot_class != no_class + in_slot)
    T_FAIL("%s: stats in_reg %d spilled %d crossing %d slot %d, recounted %ld %ld %ld %ld", ctx,
           r->stats.in_reg, r->stats.spilled, r->stats.crossing, r->stats.slot_class, in_reg,
           spilled, crossing, no_class + in_slot);
  tot->functions++;
  tot->values += f->nvalues;
  tot->in_reg += in_reg;
  tot->spilled += spilled;
  tot->in_slot += in_slot;
  tot->crossing += crossing;
  tot->saves += __builtin_popcountll(regs & own);

  return bad;
#undef T_FAIL
}

static ra_result res; /* large: not on the stack */
static ra_result res2;

/* Allocates and checks; returns the status. */
static af_status alloc_check(const af_case *c, int fn, const ra_opts *o, const char *ctx,
                             t_totals *tot) {
  af_error err = {{0}};
  af_status s = ra_allocate(c, fn, o, &res, &err);
  CHECKF(s == AF_OK, "%s: %s", ctx, err.msg);
  if (s == AF_OK && check_alloc(c, fn, o, &res, ctx, tot)) ra_print(c, &res, stderr);
  return s;
}

static int count_in(uint64_t mask, const ra_result *r, int crossing_only) {
  int n = 0;
  for (int v = 0; v < r->nvalues; v++)
    n += r->loc[v].kind == RA_REG && (mask & BIT(r->loc[v].reg)) &&
         (!crossing_only || r->loc[v].crosses);
  return n;
}

/* ---- hand-built functions ---- */

/* A case with f0 (cc0) calling f1 (cc1, void(void)): `n` values of type T live across the
 * call, summed (or mixed, for floats: FADD) after it. */
static void build_cross(af_case *c, af_cc cc0, af_cc cc1, int T, int n) {
  af_case_init(c);
  int f0 = tb_func(c, cc0, 0, T, 0);
  int f1 = tb_func(c, cc1, 1, AF_T_VOID, 0);
  tb_ret(c, f1, AF_T_VOID, -1);
  int v[64];
  for (int i = 0; i < n; i++)
    v[i] = T == AF_T_F64 ? tb_f64(c, f0, 1.5 * i) : tb_int(c, f0, T, (uint64_t)i * 7);
  tb_call(c, f0, f1, 0, NULL);
  int acc = v[0];
  for (int i = 1; i < n; i++)
    acc = tb_op(c, f0, T == AF_T_F64 ? AF_OP_FADD : AF_OP_ADD, T, acc, v[i]);
  tb_ret(c, f0, T, acc);
  c->entry = f0;
  c->cc = cc0;
  CHECK(tb_finish(c) == AF_OK);
  af_error e;
  CHECKF(af_verify(c, &e) == AF_OK, "%s", e.msg);
}

static void test_no_calls(void) {
  t_totals tot = {0};
  ra_opts o;
  ra_opts_default(&o);
  o.slot_rule = 0; /* the scan's mechanics: every value of a class competes */
  af_case c;
  /* SysV, two integer and one float value live at once: caller-saved RSI/RDI, XMM6+ */
  af_case_init(&c);
  int f = tb_func(&c, AF_CC_SYSV, 0, AF_T_I64, 2, AF_T_I64, AF_T_F64);
  int a = tb_op(&c, f, AF_OP_ADD, AF_T_I64, 0, 0);
  int d = tb_op(&c, f, AF_OP_FADD, AF_T_F64, 1, 1);
  int b = tb_op(&c, f, AF_OP_FTOI, AF_T_I64, d, -1);
  int s = tb_op(&c, f, AF_OP_ADD, AF_T_I64, a, b);
  tb_ret(&c, f, AF_T_I64, s);
  CHECK(tb_finish(&c) == AF_OK);
  o.reuse_operand = 1;
  alloc_check(&c, f, &o, "nocall-sysv", &tot);
  CHECK(res.stats.spilled == 0 && res.stats.in_reg == 6);
  CHECK(res.callee_saved_used == 0);
  CHECK((res.regs_used & ~(BIT(AF_RSI) | BIT(AF_RDI) | BIT(AF_XMM6) | BIT(AF_XMM7))) == 0);
  /* without result/operand sharing, s meets a and b: a third GPR, callee-saved */
  o.reuse_operand = 0;
  alloc_check(&c, f, &o, "nocall-sysv-noreuse", &tot);
  CHECK(res.stats.spilled == 0 && res.callee_saved_used == BIT(AF_RBX));
  /* three integers at once: the third has to take a callee-saved one */
  af_case_free(&c);
  af_case_init(&c);
  f = tb_func(&c, AF_CC_SYSV, 0, AF_T_I64, 3, AF_T_I64, AF_T_I64, AF_T_I64);
  a = tb_op(&c, f, AF_OP_ADD, AF_T_I64, 0, 1);
  s = tb_op(&c, f, AF_OP_ADD, AF_T_I64, a, 2);
  tb_ret(&c, f, AF_T_I64, s);
  CHECK(tb_finish(&c) == AF_OK);
  o.reuse_operand = 1;
  alloc_check(&c, f, &o, "nocall-sysv3", &tot);
  o.reuse_operand = 0;
  CHECK(res.stats.spilled == 0);
  CHECK(__builtin_popcountll(res.callee_saved_used) == 1);
  CHECK((res.regs_used & (BIT(AF_RSI) | BIT(AF_RDI))) == (BIT(AF_RSI) | BIT(AF_RDI)));
  /* Win64 with R8-R11 handed to the allocator: those (caller-saved) come first */
  af_case_free(&c);
  af_case_init(&c);
  f = tb_func(&c, AF_CC_WIN64, 0, AF_T_I64, 3, AF_T_I64, AF_T_I64, AF_T_I64);
  a = tb_op(&c, f, AF_OP_ADD, AF_T_I64, 0, 1);
  s = tb_op(&c, f, AF_OP_ADD, AF_T_I64, a, 2);
  tb_ret(&c, f, AF_T_I64, s);
  CHECK(tb_finish(&c) == AF_OK);
  o.scratch &= ~(BIT(AF_R8) | BIT(AF_R9) | BIT(AF_R10) | BIT(AF_R11));
  alloc_check(&c, f, &o, "nocall-win64", &tot);
  CHECK(res.stats.spilled == 0 && res.callee_saved_used == 0);
  CHECK((res.regs_used & ~(BIT(AF_R8) | BIT(AF_R9) | BIT(AF_R10) | BIT(AF_R11))) == 0);
  /* default Win64: every allocatable register is callee-saved, and is reported */
  ra_opts_default(&o);
  o.slot_rule = 0; /* the scan's mechanics: every value of a class competes */
  alloc_check(&c, f, &o, "nocall-win64-default", &tot);
  CHECK(res.stats.spilled == 0 && res.callee_saved_used == res.regs_used &&
        res.callee_saved_used != 0);
  af_case_free(&c);
}

static void test_pressure(void) {
  t_totals tot = {0};
  ra_opts o;
  ra_opts_default(&o);
  o.slot_rule = 0; /* the scan's mechanics: every value of a class competes */
  af_case c;
  const uint64_t sysv = af_abi_get(AF_CC_SYSV)->callee_saved;
  const uint64_t win = af_abi_get(AF_CC_WIN64)->callee_saved;
  /* results share a dying operand's register, so that the sums after the call need no
   * register of their own and only the twelve values compete */
  o.reuse_operand = 1;
  int ngpr_sysv = __builtin_popcountll(ra_allocatable(&o, RA_CLASS_GPR) & sysv); /* RBX R12-15 */
  CHECK(ngpr_sysv == 5);
  /* 12 integers across a SysV call: exactly the surplus spills */
  build_cross(&c, AF_CC_SYSV, AF_CC_SYSV, AF_T_I64, 12);
  alloc_check(&c, 0, &o, "pressure-sysv-i64", &tot);
  CHECK(res.stats.crossing == 12);
  CHECK(res.stats.crossing_in_reg == ngpr_sysv);
  CHECK(res.stats.spilled == 12 - ngpr_sysv);
  CHECK(count_in(sysv, &res, 1) == ngpr_sysv);
  CHECK(res.callee_saved_used ==
        (BIT(AF_RBX) | BIT(AF_R12) | BIT(AF_R13) | BIT(AF_R14) | BIT(AF_R15)));
  af_case_free(&c);
  /* the same under Win64: RSI RDI survive too */
  build_cross(&c, AF_CC_WIN64, AF_CC_WIN64, AF_T_I64, 12);
  alloc_check(&c, 0, &o, "pressure-win64-i64", &tot);
  int ngpr_win = __builtin_popcountll(ra_allocatable(&o, RA_CLASS_GPR) & win);
  CHECK(ngpr_win == 7);
  CHECK(res.stats.crossing_in_reg == ngpr_win && res.stats.spilled == 12 - ngpr_win);
  /* without sharing, the first sum meets all twelve: 13 values live, one more spill */
  o.reuse_operand = 0;
  alloc_check(&c, 0, &o, "pressure-win64-i64-noreuse", &tot);
  CHECK(res.stats.spilled == 13 - ngpr_win);
  o.reuse_operand = 1;
  af_case_free(&c);
  /* floats across a Win64 call from a Win64 function: XMM6-XMM15, saved in the prologue */
  build_cross(&c, AF_CC_WIN64, AF_CC_WIN64, AF_T_F64, 12);
  alloc_check(&c, 0, &o, "pressure-win64-f64", &tot);
  uint64_t x6_15 = 0;
  for (int r = AF_XMM6; r <= AF_XMM15; r++)
    x6_15 |= BIT(r);
  CHECK(res.stats.crossing == 12 && res.stats.crossing_in_reg == 10 && res.stats.spilled == 2);
  CHECK(count_in(x6_15, &res, 1) == 10);
  CHECK((res.callee_saved_used & x6_15) == x6_15);
  af_case_free(&c);
  /* floats across a SysV call: no XMM survives, all spill */
  build_cross(&c, AF_CC_SYSV, AF_CC_SYSV, AF_T_F64, 4);
  alloc_check(&c, 0, &o, "cross-sysv-f64", &tot);
  CHECK(res.stats.crossing == 4 && res.stats.crossing_in_reg == 0 && res.stats.spilled == 4);
  af_case_free(&c);
  /* a SysV function calling a Win64 callee: XMM6-15 and RSI/RDI survive the call and cost
   * the SysV caller no save */
  build_cross(&c, AF_CC_SYSV, AF_CC_WIN64, AF_T_F64, 4);
  alloc_check(&c, 0, &o, "sysv-calls-win64-f64", &tot);
  CHECK(res.stats.crossing_in_reg == 4 && res.callee_saved_used == 0);
  af_case_free(&c);
  build_cross(&c, AF_CC_SYSV, AF_CC_WIN64, AF_T_I64, 2);
  alloc_check(&c, 0, &o, "sysv-calls-win64-i64", &tot);
  CHECK(res.stats.crossing_in_reg == 2 && res.callee_saved_used == 0);
  CHECK(count_in(BIT(AF_RSI) | BIT(AF_RDI), &res, 1) == 2);
  af_case_free(&c);
  /* a Win64 function calling a SysV callee: only RBX R12-R15 survive */
  build_cross(&c, AF_CC_WIN64, AF_CC_SYSV, AF_T_I64, 8);
  alloc_check(&c, 0, &o, "win64-calls-sysv-i64", &tot);
  CHECK(res.stats.crossing_in_reg == ngpr_sysv && res.stats.spilled == 8 - ngpr_sysv);
  CHECK(count_in(BIT(AF_RSI) | BIT(AF_RDI), &res, 1) == 0);
  af_case_free(&c);
  /* a register cap forces spills even without calls */
  o.max_gpr = 2;
  build_cross(&c, AF_CC_WIN64, AF_CC_WIN64, AF_T_I64, 6);
  alloc_check(&c, 0, &o, "cap2", &tot);
  CHECK(__builtin_popcountll(res.regs_used) <= 2 && res.stats.spilled >= 4);
  af_case_free(&c);
}

/* MIX folds its operands through SysV helper calls: operands must survive them. */
static void test_mix(void) {
  t_totals tot = {0};
  ra_opts o;
  ra_opts_default(&o);
  o.slot_rule = 0; /* the scan's mechanics: every value of a class competes */
  af_case c;
  af_case_init(&c);
  int f = tb_func(&c, AF_CC_SYSV, 0, AF_T_U64, 2, AF_T_I64, AF_T_F64);
  int a = tb_op(&c, f, AF_OP_ADD, AF_T_I64, 0, 0);
  int d = tb_op(&c, f, AF_OP_FADD, AF_T_F64, 1, 1);
  int args[2] = {a, d};
  int m = tb_mix(&c, f, 5, 2, args);
  tb_ret(&c, f, AF_T_U64, m);
  CHECK(tb_finish(&c) == AF_OK);
  alloc_check(&c, f, &o, "mix", &tot);
  CHECK(res.loc[a].crosses && res.loc[d].crosses && !res.loc[m].crosses);
  CHECK(res.loc[a].kind == RA_REG && (BIT(res.loc[a].reg) & af_abi_get(AF_CC_SYSV)->callee_saved));
  CHECK(res.loc[d].kind == RA_SPILL); /* no XMM survives a SysV helper */
  /* the default rule flags what the lowering calls a helper for */
  af_inst in;
  memset(&in, 0, sizeof in);
  const af_func *fn = &c.funcs[f];
  in.op = AF_OP_MIX;
  in.type = AF_T_U64;
  CHECK(ra_default_clobber(NULL, &c, fn, &in).kind == RA_CLOB_SURVIVE);
  in.op = AF_OP_ADD;
  in.type = AF_T_I64;
  in.nargs = 2;
  CHECK(ra_default_clobber(NULL, &c, fn, &in).kind == RA_CLOB_NONE);
  in.type = AF_T_U128;
  CHECK(ra_default_clobber(NULL, &c, fn, &in).kind == RA_CLOB_NONE);
  in.op = AF_OP_MUL;
  CHECK(ra_default_clobber(NULL, &c, fn, &in).kind == RA_CLOB_SURVIVE);
  in.op = AF_OP_SHL;
  CHECK(ra_default_clobber(NULL, &c, fn, &in).kind == RA_CLOB_SURVIVE);
  in.op = AF_OP_ITOF; /* v0 is i64 */
  in.type = AF_T_F80;
  in.nargs = 1;
  CHECK(ra_default_clobber(NULL, &c, fn, &in).kind == RA_CLOB_SURVIVE);
  in.type = AF_T_F16;
  CHECK(ra_default_clobber(NULL, &c, fn, &in).kind == RA_CLOB_SURVIVE);
  in.type = AF_T_F64;
  CHECK(ra_default_clobber(NULL, &c, fn, &in).kind == RA_CLOB_NONE);
  in.op = AF_OP_FTOI; /* v1 is f64 */
  in.args[0] = 1;
  in.type = AF_T_I128;
  ra_clobber x = ra_default_clobber(NULL, &c, fn, &in);
  CHECK(x.kind == RA_CLOB_SURVIVE && x.preserved == af_abi_get(AF_CC_SYSV)->callee_saved);
  in.type = AF_T_I32;
  CHECK(ra_default_clobber(NULL, &c, fn, &in).kind == RA_CLOB_NONE);
  /* 128-bit compares and bit-field leaves go through helpers too */
  af_field fl[2] = {{.type = AF_T_U32, .bits = 3}, {.type = AF_T_U32, .bits = -1}};
  int st = af_type_add_struct(&c, AF_T_STRUCT, 2, fl, 0, 0);
  CHECK(st > 0 && af_layout(&c) == AF_OK);
  int g = tb_func(&c, AF_CC_SYSV, 0, AF_T_VOID, 2, AF_T_U128, st);
  tb_ret(&c, g, AF_T_VOID, -1);
  CHECK(af_fn_finish(&c, g) == AF_OK);
  fn = &c.funcs[g];
  memset(&in, 0, sizeof in);
  in.op = AF_OP_CMP;
  in.type = AF_T_BOOL;
  in.nargs = 2;
  in.args[1] = 0;
  CHECK(ra_default_clobber(NULL, &c, fn, &in).kind == RA_CLOB_SURVIVE);
  in.op = AF_OP_GET;
  in.type = AF_T_U32;
  in.nargs = 1;
  in.args[0] = 1;
  in.npath = 1;
  in.path[0] = 0;
  CHECK(ra_default_clobber(NULL, &c, fn, &in).kind == RA_CLOB_SURVIVE);
  in.path[0] = 1;
  CHECK(ra_default_clobber(NULL, &c, fn, &in).kind == RA_CLOB_NONE);
  af_case_free(&c);
}

/* An argument dying at its CALL does not cross it, unless call_args_survive. */
static void test_call_args(void) {
  t_totals tot = {0};
  ra_opts o;
  ra_opts_default(&o);
  o.slot_rule = 0; /* the scan's mechanics: every value of a class competes */
  af_case c;
  af_case_init(&c);
  int f0 = tb_func(&c, AF_CC_SYSV, 0, AF_T_I64, 1, AF_T_I64);
  int f1 = tb_func(&c, AF_CC_SYSV, 1, AF_T_I64, 1, AF_T_I64);
  tb_ret(&c, f1, AF_T_I64, 0);
  int x = tb_op(&c, f0, AF_OP_ADD, AF_T_I64, 0, 0);
  int r = tb_call(&c, f0, f1, 1, &x);
  tb_ret(&c, f0, AF_T_I64, r);
  c.entry = f0;
  CHECK(tb_finish(&c) == AF_OK);
  alloc_check(&c, f0, &o, "call-arg", &tot);
  CHECK(!res.loc[x].crosses && res.loc[x].kind == RA_REG && res.callee_saved_used == 0);
  o.call_args_survive = 1;
  alloc_check(&c, f0, &o, "call-arg-survive", &tot);
  CHECK(res.loc[x].crosses && res.loc[x].kind == RA_REG);
  CHECK(res.callee_saved_used == BIT(res.loc[x].reg)); /* RBX or R12-R15 */
  af_case_free(&c);
}

/* reuse_operand: a result may take the register of an operand that dies there. */
static void test_reuse_and_errors(void) {
  t_totals tot = {0};
  ra_opts o;
  ra_opts_default(&o);
  o.slot_rule = 0; /* the scan's mechanics: every value of a class competes */
  af_case c;
  af_case_init(&c);
  int f = tb_func(&c, AF_CC_SYSV, 0, AF_T_I64, 1, AF_T_I64);
  int v = 0;
  for (int i = 0; i < 20; i++)
    v = tb_op(&c, f, AF_OP_ADD, AF_T_I64, v, v);
  tb_ret(&c, f, AF_T_I64, v);
  CHECK(tb_finish(&c) == AF_OK);
  alloc_check(&c, f, &o, "chain", &tot);
  CHECK(__builtin_popcountll(res.regs_used) == 2 && res.callee_saved_used == 0);
  o.reuse_operand = 1;
  alloc_check(&c, f, &o, "chain-reuse", &tot);
  CHECK(__builtin_popcountll(res.regs_used) == 1);
  /* hints: SysV parameters in their incoming registers (p0 RDI), when allowed */
  int8_t hint[RA_MAX_VALUES];
  memset(hint, -1, sizeof hint);
  hint[0] = AF_RDI;
  hint[1] = AF_RCX; /* scratch: not allowed, ignored */
  o.hint = hint;
  alloc_check(&c, f, &o, "chain-hint", &tot);
  CHECK(res.loc[0].reg == AF_RDI && res.loc[1].kind == RA_REG && res.loc[1].reg != AF_RCX);
  o.hint = NULL;
  /* status codes */
  af_error e;
  CHECK(ra_allocate(&c, 7, &o, &res, &e) == AF_ERR_INVALID);
  CHECK(ra_allocate(&c, -1, NULL, &res, NULL) == AF_ERR_INVALID);
  c.funcs[f].insts[3].args[0] = 10; /* an operand defined later */
  CHECK(ra_allocate(&c, f, &o, &res, &e) == AF_ERR_INVALID);
  af_case_free(&c);
  /* lean mode (ra_opts.vreg_out) checks what the full mode checks, with the same status and
   * message: bad operands and results (its interval walk), values defined twice or never
   * (then it takes the reference scan), and takes the same allocation when values are defined
   * out of order */
  af_case_init(&c);
  f = tb_func(&c, AF_CC_SYSV, 0, AF_T_I64, 2, AF_T_I64, AF_T_I64);
  int a = tb_op(&c, f, AF_OP_ADD, AF_T_I64, 0, 1);
  int b = tb_op(&c, f, AF_OP_SUB, AF_T_I64, a, 0);
  int d = tb_op(&c, f, AF_OP_XOR, AF_T_I64, a, 1);
  int g = tb_op(&c, f, AF_OP_SUB, AF_T_I64, d, a);
  tb_ret(&c, f, AF_T_I64, g);
  CHECK(tb_finish(&c) == AF_OK && b == a + 1);
  static int8_t vreg[RA_MAX_VALUES];
  for (int m = 0; m < 8; m++) {
    af_inst *in = c.funcs[f].insts;
    af_inst saved[4];
    memcpy(saved, in, sizeof saved);
    const char *what[] = {"none",       "operand later", "operand range", "result range",
                          "result low", "twice, never",  "out of order",  "nargs"};
    switch (m) {
    case 1: in[1].args[1] = g; break;
    case 2: in[2].args[1] = 99; break;
    case 3: in[2].dst = 99; break;
    case 4: in[2].dst = 1; break;
    case 5: in[1].dst = a, in[2].args[0] = in[3].args[1] = 0; break; /* b never defined */
    case 6: in[1].dst = d, in[2].dst = b, in[3].args[0] = b; break;  /* b, d swapped */
    case 7: in[3].nargs = AF_MAX_OPERANDS + 1; break;
    default: break;
    }
    af_error e1 = {0}, e2 = {0};
    ra_opts_default(&o);
    o.slot_rule = 0; /* the scan's mechanics: every value of a class competes */
    af_status s1 = ra_allocate(&c, f, &o, &res, &e1);
    o.vreg_out = vreg;
    af_status s2 = ra_allocate(&c, f, &o, &res2, &e2);
    CHECKF(s1 == s2 && !strcmp(e1.msg, e2.msg), "lean errors, %s: %d %d '%s' '%s'", what[m], s1, s2,
           e1.msg, e2.msg);
    CHECKF((m == 0 || m == 6) == (s1 == AF_OK), "lean errors, %s: status %d", what[m], s1);
    if (s1 == AF_OK)
      for (int v = 0; v < res.nvalues; v++)
        CHECKF(vreg[v] == (res.loc[v].kind == RA_REG ? res.loc[v].reg : AF_REG_NONE),
               "lean errors, %s: v%d", what[m], v);
    memcpy(in, saved, sizeof saved);
  }
  af_case_free(&c);
}

/* A lowering's own clobber rule, through opts.clobber: here every ADD calls a helper that
 * preserves only the registers in *user, and XORs a helper with a mask of their own. */
static ra_clobber odd_clobber(void *user, const af_case *c, const af_func *f, const af_inst *in) {
  ra_clobber r = {RA_CLOB_NONE, 0};
  if (in->op == AF_OP_ADD) {
    r.kind = RA_CLOB_CALL;
    r.preserved = *(const uint64_t *)user;
  } else if (in->op == AF_OP_XOR) { /* a different mask per instruction */
    r.kind = RA_CLOB_SURVIVE;
    r.preserved = BIT(AF_R12 + (int)((in - f->insts) % 4)) | BIT(AF_RBX);
  } else if (in->op == AF_OP_CALL || in->op == AF_OP_MIX) {
    r = ra_default_clobber(NULL, c, f, in);
  }
  return r;
}

static ra_clobber many_clobber(void *user, const af_case *c, const af_func *f, const af_inst *in) {
  (void)user, (void)c;
  ra_clobber r = {RA_CLOB_CALL, BIT(AF_RBX) | (uint64_t)(in - f->insts) << 40};
  return r;
}

static void test_custom_clobber(void) {
  t_totals tot = {0};
  uint64_t keep = BIT(AF_RBX);
  ra_opts o;
  ra_opts_default(&o);
  o.clobber = odd_clobber;
  o.clobber_user = &keep;
  af_case c;
  af_case_init(&c);
  int f = tb_func(&c, AF_CC_WIN64, 0, AF_T_I64, 3, AF_T_I64, AF_T_I64, AF_T_I64);
  int a = tb_op(&c, f, AF_OP_SUB, AF_T_I64, 0, 1);
  int b = tb_op(&c, f, AF_OP_ADD, AF_T_I64, 1, 2); /* clobbers all but RBX: a, p2 cross */
  int d = tb_op(&c, f, AF_OP_SUB, AF_T_I64, a, b);
  int e = tb_op(&c, f, AF_OP_SUB, AF_T_I64, d, 2);
  tb_ret(&c, f, AF_T_I64, e);
  CHECK(tb_finish(&c) == AF_OK);
  alloc_check(&c, f, &o, "custom", &tot);
  CHECK(res.loc[a].crosses && res.loc[2].crosses && !res.loc[b].crosses && !res.loc[d].crosses);
  CHECK(res.stats.crossing == 2 && res.stats.crossing_in_reg == 1 && res.stats.spilled == 1);
  CHECK(count_in(BIT(AF_RBX), &res, 1) == 1);
  af_case_free(&c);
  /* more distinct clobber kinds than the allocator tracks: a status, not a crash */
  af_case_init(&c);
  f = tb_func(&c, AF_CC_SYSV, 0, AF_T_I64, 1, AF_T_I64);
  int v = 0;
  for (int i = 0; i < 12; i++)
    v = tb_op(&c, f, i % 3 ? AF_OP_XOR : AF_OP_ADD, AF_T_I64, v, 0);
  tb_ret(&c, f, AF_T_I64, v);
  CHECK(tb_finish(&c) == AF_OK);
  alloc_check(&c, f, &o, "custom-kinds", &tot); /* 5 kinds (4 XOR masks, 1 ADD): fine */
  CHECK(res.stats.crossing > 0);
  o.clobber = many_clobber; /* 12 kinds */
  CHECK(ra_allocate(&c, f, &o, &res, NULL) == AF_ERR_LIMIT);
  af_case_free(&c);
}

/* ---- the two scans and the statistics switch agree, field for field ---- */
static int same_result(const ra_result *a, const ra_result *b, int stats) {
  if (a->fn != b->fn || a->nvalues != b->nvalues || a->regs_used != b->regs_used ||
      a->callee_saved_used != b->callee_saved_used || a->clobbered != b->clobbered)
    return 0;
  if (memcmp(a->loc, b->loc, sizeof a->loc[0] * (size_t)a->nvalues)) return 0;
  return !stats || !memcmp(&a->stats, &b->stats, sizeof a->stats);
}

/* Lean mode (ra_opts.vreg_out) must give what the locations say: each value's register (or
 * none), the count of values in registers and, per register, of those crossing a clobber.
 * Returns 1 when it does (and both calls agree on the status). */
static int lean_agrees(const af_case *c, int fn, ra_opts o, af_status s_full,
                       const ra_result *full) {
  static ra_result lean;
  static int8_t vreg[RA_MAX_VALUES];
  memset(vreg, 0x5a, sizeof vreg);
  o.vreg_out = vreg;
  o.no_stats = 0;
  af_status s = ra_allocate(c, fn, &o, &lean, NULL);
  if (s != s_full) return 0;
  if (s != AF_OK) return 1;
  if (lean.regs_used != full->regs_used || lean.callee_saved_used != full->callee_saved_used ||
      lean.clobbered != full->clobbered || lean.nvalues != full->nvalues)
    return 0;
  int in_reg = 0;
  int16_t crossing[AF_REG_COUNT] = {0};
  for (int v = 0; v < full->nvalues; v++) {
    const ra_loc *l = &full->loc[v];
    int8_t want = l->kind == RA_REG ? l->reg : (int8_t)AF_REG_NONE;
    if (vreg[v] != want) return 0;
    if (l->kind == RA_REG) in_reg++, crossing[l->reg] += l->crosses;
  }
  ra_stats zero = {0};
  return lean.lean_in_reg == in_reg && !memcmp(lean.lean_crossing, crossing, sizeof crossing) &&
         !memcmp(&lean.stats, &zero, sizeof zero);
}

/* ra_allocate keeps live values per register (its fast scan); reference_scan runs the sorted
 * active list that intervals out of definition order need: on every function and option set
 * they must give the same locations. no_stats must change nothing but the statistics. */
static const int slot_rules[4] = {RA_SLOT_DEFAULT, 0, RA_SLOT_CONST,
                                  RA_SLOT_CONST_ALL | RA_SLOT_SHORT};

static void test_scans_agree(int ncases) {
  af_gen_opts g;
  af_gen_opts_default(&g);
  g.allow_f16 = 1;
  g.allow_m256 = 1;
  g.allow_divergent = 1;
  long compared = 0, differ = 0, spills = 0, reorders = 0, leans = 0;
  static int8_t hints[RA_MAX_VALUES];
  for (int v = 0; v < RA_MAX_VALUES; v++)
    hints[v] = (int8_t)(v % 4 == 0 ? AF_RSI : v % 4 == 1 ? AF_XMM9 : v % 4 == 2 ? AF_RAX : -1);
  for (int i = 0; i < ncases; i++) {
    af_case c;
    af_error e;
    g.cc = i % 2;
    if (af_gen_case(&g, 0xa11c, (uint64_t)i, &c, NULL, &e) != AF_OK) {
      CHECKF(0, "case %d: %s", i, e.msg);
      af_case_free(&c);
      continue;
    }
    for (int fn = 0; fn < c.nfuncs; fn++)
      for (int var = 0; var < 9; var++) {
        ra_opts o;
        ra_opts_default(&o);
        o.reuse_operand = var & 1;
        o.call_args_survive = var == 2;
        if (var >= 3) o.max_gpr = 1 + (i + var) % 4, o.max_xmm = 1 + i % 3; /* spills, evictions */
        if (var == 4) o.hint = hints;
        if (var == 5) o.scratch = RA_BIT(AF_RAX) | RA_BIT(AF_XMM0);
        /* every register allocatable (lean mode numbers them in its own order: all 30) */
        if (var == 6) o.scratch = 0, o.max_gpr = o.max_xmm = 0, o.hint = i % 2 ? hints : NULL;
        /* a rule of the lowering's own (masks with bits beyond the 32 registers too), and the
         * clobbers given per instruction */
        static const uint64_t keep =
            BIT(AF_RBX) | BIT(AF_RSI) | BIT(AF_XMM7) | BIT(AF_XMM0) | BIT(AF_ST0) | 1ull << 40;
        if (var == 7) o.clobber = odd_clobber, o.clobber_user = (void *)&keep;
        static ra_clobber clobs[AF_MAX_INSTS];
        if (var == 8) {
          for (int k = 0; k < c.funcs[fn].ninsts; k++)
            clobs[k] = k % 5 == 3
                           ? (ra_clobber){RA_CLOB_SURVIVE, keep >> (k % 3)}
                           : ra_default_clobber(NULL, &c, &c.funcs[fn], &c.funcs[fn].insts[k]);
          o.clobbers = clobs;
        }
        o.slot_rule = slot_rules[(i + var) % 4];
        af_status s1 = ra_allocate(&c, fn, &o, &res, NULL);
        o.reference_scan = 1;
        af_status s2 = ra_allocate(&c, fn, &o, &res2, NULL);
        compared++;
        spills += res.stats.spilled;
        if (s1 != s2 || (s1 == AF_OK && !same_result(&res, &res2, 1))) {
          if (++differ <= 3) CHECKF(0, "case %d fn %d options %d: the scans differ", i, fn, var);
          continue;
        }
        o.reference_scan = 0;
        if (!lean_agrees(&c, fn, o, s1, &res)) {
          if (++differ <= 3) CHECKF(0, "case %d fn %d options %d: lean mode differs", i, fn, var);
        } else {
          leans++;
        }
        o.no_stats = 1;
        af_status s3 = ra_allocate(&c, fn, &o, &res2, NULL);
        ra_stats zero = {0};
        if (s3 != s1 || (s1 == AF_OK && (!same_result(&res, &res2, 0) ||
                                         memcmp(&res2.stats, &zero, sizeof zero)))) {
          if (++differ <= 3) CHECKF(0, "case %d fn %d options %d: no_stats differs", i, fn, var);
        }
      }
    /* two results swapped (the verifier rejects it, ra_allocate does not): the later value id
     * is defined first, so the intervals are out of definition order, which the fast scan must
     * notice and hand to the reference scan. Swapped: an instruction's result u and that of an
     * instruction before u's first use (every use still follows its definition). */
    for (int fn = 0; fn < c.nfuncs; fn++) {
      af_func *f = &c.funcs[fn];
      int first = -1, later = -1;
      for (int k = 0; k < f->ninsts && later < 0; k++) {
        int u = f->insts[k].dst, use = f->ninsts;
        if (u < 0) continue;
        for (int j = k + 1; j < f->ninsts && use == f->ninsts; j++)
          for (int a = 0; a < f->insts[j].nargs; a++)
            if (f->insts[j].args[a] == u) use = j;
        for (int j = k + 1; j < use && later < 0; j++)
          if (f->insts[j].dst >= 0) first = k, later = j;
      }
      if (later < 0) continue;
      int u = f->insts[first].dst, v = f->insts[later].dst;
      f->insts[first].dst = v, f->insts[later].dst = u;
      ra_opts o;
      ra_opts_default(&o);
      o.slot_rule = slot_rules[(i + fn) % 4];
      af_status s1 = ra_allocate(&c, fn, &o, &res, NULL);
      o.reference_scan = 1;
      af_status s2 = ra_allocate(&c, fn, &o, &res2, NULL);
      reorders += s1 == AF_OK;
      if (s1 != s2 || (s1 == AF_OK && !same_result(&res, &res2, 1)))
        if (++differ <= 3) CHECKF(0, "case %d fn %d: out-of-order values differ", i, fn);
      o.reference_scan = 0;
      if (!lean_agrees(&c, fn, o, s1, &res))
        if (++differ <= 3) CHECKF(0, "case %d fn %d: out-of-order lean mode differs", i, fn);
      f->insts[first].dst = u, f->insts[later].dst = v;
    }
    af_case_free(&c);
  }
  printf("scans: %ld allocations compared (%ld in lean mode too), %ld reordered, %ld differ, "
         "%ld values spilled\n",
         compared, leans, reorders, differ, spills);
  CHECK(leans == compared);
  CHECK(reorders > 0);
  CHECK(differ == 0 && compared > 0 && spills > 0);
}

/* The slot rule (regalloc.h): CONST results that cross no clobber stay in their slots, the
 * values that do cross (constants among them) still get callee-saved registers; lean mode
 * agrees with the locations under every rule. */
static void test_slot_rule(void) {
  t_totals tot = {0};
  ra_opts o;
  ra_opts_default(&o);
  CHECK(o.slot_rule == (RA_SLOT_CONST | RA_SLOT_SHORT));
  o.slot_rule = RA_SLOT_CONST; /* constants alone first */
  af_case c;
  af_case_init(&c);
  int f = tb_func(&c, AF_CC_SYSV, 0, AF_T_I64, 1, AF_T_I64);
  int k1 = tb_int(&c, f, AF_T_I64, 5);              /* read by the next and the fifth */
  int a = tb_op(&c, f, AF_OP_ADD, AF_T_I64, 0, k1); /* the parameter, read here only */
  int k2 = tb_int(&c, f, AF_T_I64, 7);              /* read by the next only */
  int b = tb_op(&c, f, AF_OP_XOR, AF_T_I64, a, k2);
  int d = tb_op(&c, f, AF_OP_ADD, AF_T_I64, b, k1);
  tb_ret(&c, f, AF_T_I64, d);
  CHECK(tb_finish(&c) == AF_OK);
  alloc_check(&c, f, &o, "slot-const", &tot);
  CHECK(lean_agrees(&c, f, o, AF_OK, &res));
  CHECK(res.loc[k1].kind == RA_NONE && res.loc[k2].kind == RA_NONE);
  CHECK(res.loc[k1].reg == AF_REG_NONE && res.loc[k1].cls == RA_CLASS_GPR);
  CHECK(res.loc[0].kind == RA_REG && res.loc[a].kind == RA_REG && res.loc[b].kind == RA_REG &&
        res.loc[d].kind == RA_REG);
  CHECK(res.stats.in_reg == 4 && res.stats.slot_class == 2 && res.stats.spilled == 0);
  o.slot_rule = 0; /* the rule before: constants in registers too */
  alloc_check(&c, f, &o, "slot-none", &tot);
  CHECK(lean_agrees(&c, f, o, AF_OK, &res));
  CHECK(res.loc[k1].kind == RA_REG && res.loc[k2].kind == RA_REG && res.stats.in_reg == 6);
  o.slot_rule = RA_SLOT_SHORT; /* values the next instruction alone reads */
  alloc_check(&c, f, &o, "slot-short", &tot);
  CHECK(lean_agrees(&c, f, o, AF_OK, &res));
  CHECK(res.loc[k1].kind == RA_REG && res.loc[a].kind == RA_REG && res.loc[k2].kind == RA_NONE &&
        res.loc[b].kind == RA_NONE && res.loc[d].kind == RA_NONE);
  o.slot_rule = RA_SLOT_DEFAULT; /* both: the parameter and a keep their registers */
  alloc_check(&c, f, &o, "slot-default", &tot);
  CHECK(lean_agrees(&c, f, o, AF_OK, &res));
  CHECK(res.loc[0].kind == RA_REG && res.loc[a].kind == RA_REG && res.loc[k1].kind == RA_NONE &&
        res.loc[k2].kind == RA_NONE && res.loc[b].kind == RA_NONE && res.loc[d].kind == RA_NONE);
  CHECK(res.stats.in_reg == 2 && res.stats.slot_class == 4);
  af_case_free(&c);
  /* three constants live across a SysV call: in RBX and R12-R15 under the default rule */
  const uint64_t sysv = af_abi_get(AF_CC_SYSV)->callee_saved;
  build_cross(&c, AF_CC_SYSV, AF_CC_SYSV, AF_T_I64, 3);
  ra_opts_default(&o);
  alloc_check(&c, 0, &o, "slot-cross", &tot);
  CHECK(lean_agrees(&c, 0, o, AF_OK, &res));
  for (int v = 0; v < 3; v++) {
    CHECK(c.funcs[0].insts[v].op == AF_OP_CONST && c.funcs[0].insts[v].dst == v);
    CHECK(res.loc[v].kind == RA_REG && res.loc[v].crosses && (sysv & BIT(res.loc[v].reg)));
  }
  CHECK(res.stats.crossing_in_reg == 3 && __builtin_popcountll(res.callee_saved_used) == 3);
  o.slot_rule = RA_SLOT_CONST_ALL; /* every constant in its slot: no save left */
  alloc_check(&c, 0, &o, "slot-const-all", &tot);
  CHECK(lean_agrees(&c, 0, o, AF_OK, &res));
  CHECK(res.stats.crossing == 3 && res.stats.crossing_in_reg == 0 && res.callee_saved_used == 0);
  af_case_free(&c);
}

/* ---- generated cases, both conventions ---- */
static void test_sweep(int ncases) {
  t_totals tot = {0}, totcap = {0};
  af_gen_opts g;
  af_gen_opts_default(&g);
  g.allow_f16 = 1;
  g.allow_m256 = 1;
  int ok = 0;
  static int8_t hints[RA_MAX_VALUES]; /* arbitrary preferences: the invariants still hold */
  for (int v = 0; v < RA_MAX_VALUES; v++)
    hints[v] = (int8_t)(v % 3 == 0 ? AF_RDI : v % 3 == 1 ? AF_XMM7 : -1);
  for (int i = 0; i < ncases; i++) {
    af_case c;
    af_error e;
    g.cc = i % 2;
    if (af_gen_case(&g, 0x5eed, (uint64_t)i, &c, NULL, &e) != AF_OK) {
      CHECKF(0, "case %d: %s", i, e.msg);
      af_case_free(&c);
      continue;
    }
    ok++;
    for (int fn = 0; fn < c.nfuncs; fn++) {
      char ctx[64];
      ra_opts o;
      ra_opts_default(&o);
      snprintf(ctx, sizeof ctx, "case %d fn %d", i, fn);
      alloc_check(&c, fn, &o, ctx, &tot);
      /* under pressure: few registers, sometimes result/operand sharing */
      o.max_gpr = 1 + i % 4;
      o.max_xmm = 1 + i % 3;
      o.reuse_operand = i % 2;
      o.call_args_survive = (i >> 1) & 1;
      o.hint = i % 3 == 0 ? hints : NULL;
      o.slot_rule = slot_rules[(i + fn) % 4];
      snprintf(ctx, sizeof ctx, "case %d fn %d capped", i, fn);
      alloc_check(&c, fn, &o, ctx, &totcap);
    }
    af_case_free(&c);
  }
  printf("sweep: %d cases, %ld functions, %ld values: %ld in registers, %ld spilled, %ld cross "
         "calls (%ld in registers, %ld of them XMM), %ld callee-saved saves\n",
         ok, tot.functions, tot.values, tot.in_reg, tot.spilled, tot.crossing, tot.crossing_in_reg,
         tot.xmm_cross_in_reg, tot.saves);
  printf("capped: %ld in registers, %ld spilled\n", totcap.in_reg, totcap.spilled);
  printf("slot rule: %ld values left in their slots, %ld CONST results in registers, all %ld "
         "crossing a clobber\n",
         tot.in_slot, tot.const_in_reg, tot.const_cross_in_reg);
  /* the sweep must have exercised the interesting paths */
  CHECK(ok == ncases);
  CHECK(tot.crossing_in_reg > 0 && tot.xmm_cross_in_reg > 0 && tot.in_reg > 0);
  CHECK(totcap.spilled > 0);
  /* the default rule: constants stay in their slots unless they cross a clobber, and those
   * that do still get (callee-saved) registers */
  CHECK(tot.in_slot > 0 && tot.const_cross_in_reg > 0 &&
        tot.const_in_reg == tot.const_cross_in_reg);
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 2000;
  test_no_calls();
  test_pressure();
  test_mix();
  test_call_args();
  test_reuse_and_errors();
  test_custom_clobber();
  test_scans_agree(n / 4);
  test_slot_rule();
  test_sweep(n);
  return check_done();
}
