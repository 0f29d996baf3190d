/* lower.c - the baseline lowering driver: a function's frame, then prologue, body, epilogue. */
#include <stdlib.h>
#include <string.h>

#include "lower.h"
#include "mutants.h"
#include "regalloc.h"

static uint32_t round16(uint32_t n) { return (n + 15u) & ~15u; }

/* Frame layout (lower.h): Win64 saves at the top, then value slots, LOCAL areas, the sret
 * pointer, the SysV register save area, the by-reference copy area, and the outgoing
 * argument area at [rsp]. Displacements are negative from rbp. */
static af_status layout_frame(lower_ctx *L, lower_frame *fr) {
  const af_case *c = L->c;
  const af_func *f = L->f;
  int64_t off = -lower_save_size(L->save_regs);
  fr->w64_save = (int32_t)-off;
  fr->saved = L->save_regs;
  /* (the bounds, tables and slot array in locals: each int32_t store to a slot may alias
   * them, so the loop would read them again every time) */
  const int *const vtype = f->value_type;
  const af_type *const types = c->types;
  int32_t *const slot = L->slot;
  for (int v = 0, nv = f->nvalues; v < nv; v++) {
    int t = vtype[v];
    /* the scalars before M256 (void and ptr included) are at most 16 bytes: one 16-byte slot,
     * no load from the type table (gen.h, Types: the table's first entries are the scalars) */
    if ((unsigned)t < AF_T_M256) {
      off -= 16;
    } else {
      uint32_t size = t == AF_T_PTR ? 8 : t == AF_T_VOID ? 0 : types[t].size;
      off -= round16(size ? size : 1);
    }
    slot[v] = (int32_t)off;
  }
  fr->slots_end = (int32_t)off;
  uint32_t out = 0, copy = 0;
  int realign = 0;
  /* only CALL and LOCAL need anything here, and they are neighbours in af_op: one compare
   * passes over every other instruction */
  _Static_assert(AF_OP_CALL == AF_OP_LOCAL + 1, "layout_frame's test of CALL and LOCAL");
  for (int i = 0, ni = f->ninsts; i < ni; i++) {
    const af_inst *in = &f->insts[i];
    if ((unsigned)in->op - (unsigned)AF_OP_LOCAL > 1u) continue;
    /* (local_area[i] is read for LOCALs only: lower_mem) */
    if (in->op == AF_OP_CALL) {
      uint32_t o, k, a;
      af_status s = lower_call_need(L, (int)in->imm, &o, &k, &a);
      if (s != AF_OK) return lw_fail(L, s, "cannot classify the callee of instruction %d", i);
      if (o > out) out = o;
      if (k > copy) copy = k;
      realign |= a > 16; /* lower_call_align */
      continue;
    }
    uint32_t need = lower_inst_frame_need(L, in); /* a LOCAL's */
    if (need) {
      off -= round16(need);
      L->local_area[i] = (int32_t)off;
      fr->nlocals++;
    }
  }
  fr->locals_end = (int32_t)off;
  if (L->ci->sret) {
    off -= 16;
    L->sret_save = (int32_t)off;
  }
  if (f->sig.cc == AF_CC_SYSV && f->sig.variadic) {
    off -= LOWER_VA_SAVE;
    L->va_save = (int32_t)off;
  }
  if (realign) { /* one 8-byte slot (16-rounded) for the RSP an over-aligned call saves */
    off -= 16;
    L->rsp_save = (int32_t)off;
  }
  off -= copy;
  L->copy_area = (int32_t)off;
  L->copy_size = (int32_t)copy;
  L->out_size = (int32_t)round16(out);
  off -= L->out_size;
  if (L->mutant == MUT_MISALIGNED_CALLS) off -= 8; /* odd frame: RSP = 8 mod 16 at calls */
  if (off < -(int64_t)0x40000000)
    return lw_fail(L, AF_ERR_LIMIT, "frame of %lld bytes", -(long long)off);
  L->frame = (int32_t)-off;
  /* Win64 mutant: the first two values live in the outgoing home space [rsp, rsp+32), which
   * every callee owns (Microsoft "x64 calling convention", home space). */
  if (L->mutant == MUT_W64_LOCALS_IN_HOME && f->sig.cc == AF_CC_WIN64 && L->out_size >= 32)
    for (int v = 0; v < 2 && v < f->nvalues; v++) {
      int t = f->value_type[v];
      uint32_t size = t == AF_T_PTR ? 8 : t == AF_T_VOID ? 0 : c->types[t].size;
      if (size <= 16) L->slot[v] = -L->frame + 16 * v;
    }
  return AF_OK;
}

/* The callee-saved registers (own convention) function L->f must save: those the allocator
 * gave values (ra NULL: none), plus those some call or runtime helper of the body clobbers
 * (the clobber rule regalloc uses: a Win64 function calling SysV code, a callee or a
 * lower_rt.c helper, loses RSI, RDI and XMM6-XMM15 there). Save-dropping mutants then act on
 * this exact set: they use the registers (mutant_prologue_tail) and drop, or shorten, the
 * saves. */
static uint64_t save_set(const lower_ctx *L, const ra_result *ra, uint64_t lost) {
  const af_func *f = L->f;
  uint64_t own = af_abi_get(f->sig.cc)->callee_saved & ~(uint64_t)RA_RESERVED;
  uint64_t set = ra ? ra->callee_saved_used & own : 0;
  set |= own & lost; /* lost: the registers some clobbering instruction does not preserve */
  const uint64_t xmm_hi = 0x3ffull << AF_XMM6, rsi_rdi = RA_BIT(AF_RSI) | RA_BIT(AF_RDI);
  const uint64_t r12_15 = RA_BIT(AF_R12) | RA_BIT(AF_R13) | RA_BIT(AF_R14) | RA_BIT(AF_R15);
  int w64 = f->sig.cc == AF_CC_WIN64;
  switch (L->mutant) {
  case MUT_W64_XMM_UNSAVED: set &= ~xmm_hi; break;
  case MUT_W64_XMM_LOW64:
    if (w64) set |= xmm_hi; /* used as scratch, saved 8 bytes only */
    break;
  case MUT_W64_RSI_RDI_VOLATILE:
    if (w64) set &= ~rsi_rdi;
    break;
  case MUT_RBX_CLOBBERED: set &= ~RA_BIT(AF_RBX); break;
  case MUT_R12_R15_CLOBBERED: set &= ~r12_15; break;
  default: break;
  }
  return set;
}

/* Runs the allocator for L's function (o->no_regalloc off); lower_function fills vreg[] from
 * it once the frame is laid out. On any allocator failure the function simply keeps every
 * value in its slot (ra stays unused: returns NULL). */
static const ra_result *allocate(lower_ctx *L, ra_result *ra, int8_t *vreg) {
  if (!ra || !vreg || (L->o && L->o->no_regalloc)) return NULL;
  ra_opts ro;
  ra_opts_default(&ro); /* the default clobber rule, which save_set's lost registers follow */
  ro.no_stats = 1;      /* lower_frame counts what it reports itself */
  /* vreg[] and lower_frame's counts straight from the allocator (lean mode), unless the mutant
   * that moves values into the home space takes some registers back (lower_function) */
  if (L->mutant != MUT_W64_LOCALS_IN_HOME) ro.vreg_out = vreg;
  if (ra_allocate(L->c, L->fn, &ro, ra, NULL) != AF_OK) return NULL;
  return ra;
}

/* Stores a register-homed value from its register into its slot, or loads it back: lower.h's
 * lower_home_store_reg / lower_home_load_reg, inline (the lowering does this around most
 * instructions). */
static inline __attribute__((always_inline)) void home_store(lower_ctx *L, int v, af_reg r) {
  lower_home_store_reg(L, v, r);
}
static inline __attribute__((always_inline)) void home_load(lower_ctx *L, int v, af_reg r) {
  lower_home_load_reg(L, v, r);
}
static void home_move_reg(lower_ctx *L, int v, int store, af_reg r) {
  if (store)
    home_store(L, v, r);
  else
    home_load(L, v, r);
}

/* Whether value v is register-homed: its register, else AF_REG_NONE. */
static inline af_reg home_reg(const lower_ctx *L, int v) {
  if (!L->vreg || v < 0 || v >= L->f->nvalues) return AF_REG_NONE;
  return (af_reg)L->vreg[v];
}

void lower_home_store(lower_ctx *L, int v) {
  af_reg r = home_reg(L, v);
  if (r != AF_REG_NONE) home_move_reg(L, v, 1, r);
}
void lower_home_load(lower_ctx *L, int v) {
  af_reg r = home_reg(L, v);
  if (r != AF_REG_NONE) home_move_reg(L, v, 0, r);
}

af_status lower_function(const af_case *c, int fn, const af_jit_opts *o, jit_rt *rt,
                         const uint64_t *fn_table, x86_buf *b, lower_frame *fr, af_error *err) {
  lower_ctx L = {0};
  lower_frame dummy;
  ra_result *ra = NULL;
  int8_t *vreg = NULL;
  /* Work arrays on the stack when the function is within the IR's limits (it always is once
   * verified), else on the heap: a compile lowers every function, and four allocations per
   * function were a measurable part of it. */
  int32_t slot_st[RA_MAX_VALUES + 1], local_st[AF_MAX_INSTS + 1];
  int8_t vreg_st[RA_MAX_VALUES + 1];
  ra_result ra_st;
  int heap = 0;
  if (!fr) fr = &dummy;
  memset(fr, 0, sizeof *fr);
  L.c = c;
  L.fn = fn;
  L.f = &c->funcs[fn];
  L.b = b;
  L.o = o;
  L.rt = rt;
  L.fn_table = fn_table;
  L.err = err;
  L.mutant = o ? mutant_resolve(o->inject) : MUT_NONE;
  if (L.mutant < 0) return lw_fail(&L, AF_ERR_INVALID, "unknown mutant %s", o->inject);
  af_error e;
  af_callinfo own_ci; /* used only without the compile's cache */
  af_status s;
  if (!(L.ci = lower_classify_ref(&L, fn, &own_ci, &s, &e)))
    return lw_fail(&L, s, "af_classify: %s", e.msg);
  heap = L.f->nvalues < 0 || L.f->nvalues > RA_MAX_VALUES || L.f->ninsts < 0 ||
         L.f->ninsts > AF_MAX_INSTS;
  if (!heap) {
    L.slot = slot_st;
    L.local_area = local_st;
  } else {
    L.slot = calloc((size_t)L.f->nvalues + 1, sizeof *L.slot);
    L.local_area = calloc((size_t)L.f->ninsts + 1, sizeof *L.local_area);
    if (!L.slot || !L.local_area) {
      s = lw_fail(&L, AF_ERR_NOMEM, "out of memory");
      goto out;
    }
  }
  if (!(o && o->no_regalloc)) {
    if (!heap) {
      ra = &ra_st;
      vreg = vreg_st;
    } else {
      ra = malloc(sizeof *ra);
      vreg = malloc((size_t)L.f->nvalues + 1);
    }
  }
  const ra_result *used = allocate(&L, ra, vreg);
  /* the registers some clobbering instruction destroys (save_set): the allocator's walk over
   * the instructions found them (ra_result.clobbered), else this one */
  uint64_t lost = 0;
  if (used) {
    lost = used->clobbered;
  } else {
    for (int i = 0; i < L.f->ninsts; i++) {
      const af_inst *in = &L.f->insts[i];
      if (!ra_op_may_clobber(in->op)) continue;
      ra_clobber cl = ra_default_clobber(NULL, c, L.f, in);
      if (cl.kind != RA_CLOB_NONE) lost |= ~cl.preserved;
    }
  }
  L.save_regs = save_set(&L, used, lost);
  if ((s = layout_frame(&L, fr)) != AF_OK) goto out;
  if (used) { /* vreg[] from the allocation, and what lower_frame reports of it */
    uint64_t ra_saved = L.save_regs & used->callee_saved_used;
    fr->ra_saved = ra_saved;
    /* mutant: a value moved into the outgoing home space must really live there */
    int32_t home_top = L.mutant == MUT_W64_LOCALS_IN_HOME ? -L.frame + 32 : INT32_MIN;
    int in_reg = 0, crossing = 0;
    if (L.mutant != MUT_W64_LOCALS_IN_HOME) { /* lean mode: vreg[] is written */
      in_reg = used->lean_in_reg;
      for (uint64_t m = ra_saved; m; m &= m - 1)
        crossing += used->lean_crossing[__builtin_ctzll(m)];
    } else {
      for (int v = 0, n = L.f->nvalues; v < n; v++) {
        const ra_loc *l = &used->loc[v];
        int8_t r = l->kind == RA_REG && L.slot[v] >= home_top ? l->reg : (int8_t)AF_REG_NONE;
        vreg[v] = r;
        if (r != AF_REG_NONE) in_reg++, crossing += l->crosses && (ra_saved >> r & 1);
      }
    }
    fr->ra_in_reg = in_reg;
    fr->ra_crossing_cs = crossing;
    L.vreg = vreg;
  }
  L.epilogue = x86_label(b);
  if ((s = lower_prologue(&L)) != AF_OK) goto out;
  /* (locals: L's address escapes into every call, so its fields would be read again each time) */
  const int8_t *vr = L.vreg;
  const af_inst *insts = L.f->insts;
  for (int i = 0, n = L.f->ninsts; i < n && s == AF_OK; i++) {
    const af_inst *in = &insts[i];
    /* register-homed operands into their slots, where the instruction reads them */
    /* (with vreg set, ra_allocate has checked every operand and result index) */
    if (vr)
      for (int k = 0; k < in->nargs; k++)
        if (vr[in->args[k]] != AF_REG_NONE) home_store(&L, in->args[k], (af_reg)vr[in->args[k]]);
    /* the result's register, read before the instruction is lowered (after it, every field
     * would be read again: the emitters' stores may alias *in) */
    int op = in->op, dst = in->dst;
    int8_t dr = op != AF_OP_RET && vr && dst >= 0 ? vr[dst] : (int8_t)AF_REG_NONE;
    if (op == AF_OP_CALL)
      s = lower_call(&L, in);
    else if (op == AF_OP_RET)
      s = lower_ret(&L, in);
    else
      s = lower_inst(&L, in, i);
    if (dr != AF_REG_NONE) home_load(&L, dst, (af_reg)dr); /* the result into its register */
    if (s == AF_OK && b->err != AF_OK) s = b->err;
    if (s != AF_OK) lw_fail(&L, s, "instruction %d (%s)", i, af_op_name(in->op));
  }
  if (s == AF_OK) s = lower_epilogue(&L);
  if (s == AF_OK) s = x86_buf_finish(b);
  if (s != AF_OK) lw_fail(&L, s, "encoding failed");
  /* the rest of the layout, as the code used it */
  fr->frame = L.frame;
  fr->sret_save = L.sret_save;
  fr->va_save = L.va_save;
  fr->copy_area = L.copy_area;
  fr->copy_size = L.copy_size;
  fr->out_size = L.out_size;
  fr->rsp_save = L.rsp_save;
out:
  if (heap) {
    free(ra);
    free(vreg);
    free(L.slot);
    free(L.local_area);
  }
  return s;
}
