/* lower_call.c - the ABI-facing lowering: prologue, incoming arguments, calls, returns. */
#include <string.h>

#include "lower.h"
#include "mutants.h"

/* Every location comes from af_classify (gen/classify_*.c); this file only moves bytes
 * between those locations and value slots. Value slots (and the runner's buffers) are
 * 16-rounded, so a part (offset 0 or 8, at most 8 bytes unless SSEUP) may be moved as a
 * whole 8-byte word even when the value's last eightbyte is shorter. */

static uint32_t type_size(const af_case *c, int t) {
  return t == AF_T_PTR ? 8 : t == AF_T_VOID ? 0 : c->types[t].size;
}

static int is_xmm(af_reg r) { return r >= AF_XMM0 && r <= AF_XMM15; }

static uint32_t round16(uint32_t n) { return (n + 15u) & ~15u; }

/* A type's alignment (ptr 8). */
static uint32_t type_align(const af_case *c, int t) {
  return t == AF_T_PTR ? 8 : t == AF_T_VOID ? 1 : c->types[t].alignment;
}

/* Bytes of the copy area a caller-made copy of type t takes: 16-rounded, plus room to align
 * it at run time when the type wants more than the frame's 16 (a compiled callee may use
 * aligned loads and stores through the pointer: vmovaps for __m256, over-aligned aggregates). */
static uint32_t copy_room(const af_case *c, int t) {
  uint32_t size = type_size(c, t), a = type_align(c, t);
  return round16(size ? size : 1) + (a > 16 ? a - 16 : 0);
}

/* r = rbp + disp rounded up to the type's alignment (at least 16: the copy area is). */
static void lea_aligned(lower_ctx *L, af_reg r, int32_t disp, uint32_t a) {
  x86_emit2(L->b, X86_LEA, x86_gpr(r, 8), x86_base(0, AF_RBP, disp));
  if (a <= 16) return;
  x86_emit2(L->b, X86_ADD, x86_gpr(r, 8), x86_imm((int64_t)a - 1));
  x86_emit2(L->b, X86_AND, x86_gpr(r, 8), x86_imm(-(int64_t)a));
}

/* Register parts are at most 16 bytes, or 32 for a YMM register (__m256): the size of the
 * first part that is not, 0 if all are. */
static inline unsigned bad_part_of(const af_loc *l) {
  for (int k = 0; k < l->nparts; k++) {
    const af_part *p = &l->parts[k];
    if (p->size > 16 && !(p->size == 32 && is_xmm(p->reg))) return p->size;
  }
  return 0;
}
static unsigned bad_part(const af_callinfo *ci) {
  unsigned size = bad_part_of(&ci->ret);
  for (int i = 0; i < ci->nargs && !size; i++)
    size = bad_part_of(&ci->args[i]);
  return size;
}
static af_status check_sig(lower_ctx *L, const af_sig *sig, const af_callinfo *ci) {
  (void)sig;
  /* the compile's cached classification of a function was checked when it was made */
  const lower_cls *cache = L->rt ? L->rt->cls : NULL;
  if (cache && ci >= cache->ci && ci < cache->ci + AF_MAX_FUNCS &&
      (cache->parts_ok >> (ci - cache->ci) & 1))
    return AF_OK;
  unsigned size = bad_part(ci);
  if (size) return lw_fail(L, AF_ERR_UNSUPPORTED, "a %u-byte register part", size);
  return AF_OK;
}

/* vmovups ymm, [base+disp32] / vmovups [base+disp32], ymm (VEX.256.0F 10 /r, 11 /r; Intel
 * SDM Vol. 2, 2.3): the encoder has no VEX rows, and only __m256 parts need one. */
static void vmovups_ymm(lower_ctx *L, int store, af_reg y, af_reg base, int32_t disp) {
  int r = y - AF_XMM0, b = base;
  uint8_t code[10];
  size_t n = 0;
  code[n++] = 0xC4;
  code[n++] = (uint8_t)((((~r >> 3) & 1) << 7) | (1 << 6) | (((~b >> 3) & 1) << 5) | 0x01);
  code[n++] = 0x7C; /* W0, vvvv = 1111 (none), L = 1 (256), pp = none */
  code[n++] = store ? 0x11 : 0x10;
  code[n++] = (uint8_t)(0x80 | ((r & 7) << 3) | (b & 7)); /* mod 10: disp32 */
  if ((b & 7) == 4) code[n++] = 0x24;                     /* rsp/r12 base needs a SIB */
  memcpy(code + n, &disp, 4);
  n += 4;
  x86_emit_bytes(L->b, code, n);
}

/* Function k's classification without a copy: the cached one (L->rt->cls, filled on a miss),
 * else af_classify into *tmp. NULL on failure (*st says why; e may be NULL). Callers that let
 * a mutant adjust the locations copy it first. */
const af_callinfo *lower_classify_ref(const lower_ctx *L, int k, af_callinfo *tmp, af_status *st,
                                      af_error *e) {
  lower_cls *cache = L->rt && k >= 0 && k < AF_MAX_FUNCS ? L->rt->cls : NULL;
  *st = AF_OK;
  if (cache && (cache->done >> k & 1)) return &cache->ci[k];
  af_callinfo *ci = cache ? &cache->ci[k] : tmp;
  if ((*st = af_classify(L->c, &L->c->funcs[k].sig, ci, e)) != AF_OK) return NULL;
  if (cache) {
    cache->done |= 1u << k;
    cache->parts_ok = (cache->parts_ok & ~(1u << k)) | (uint32_t)(bad_part(ci) == 0) << k;
  }
  return ci;
}

af_status lower_classify(const lower_ctx *L, int k, af_callinfo *ci, af_error *e) {
  af_status s;
  const af_callinfo *p = lower_classify_ref(L, k, ci, &s, e);
  if (!p) return s;
  if (p != ci) *ci = *p;
  return AF_OK;
}

static af_status classify(lower_ctx *L, int k, af_callinfo *ci) {
  af_error e;
  e.msg[0] = 0;
  af_status s = lower_classify(L, k, ci, &e);
  if (s != AF_OK) return lw_fail(L, s, "af_classify: %s", e.msg);
  return check_sig(L, &L->c->funcs[k].sig, ci);
}

/* Stores register part p to [base+off] (off = the part's place in the value). */
static inline __attribute__((always_inline)) void store_part(lower_ctx *L, af_reg base, int32_t off,
                                                             const af_part *p) {
  if (is_xmm(p->reg)) {
    if (p->size == 32)
      vmovups_ymm(L, 1, p->reg, base, off);
    else if (p->size == 4 || p->size == 16)
      lw_store_xmm(L, base, off, p->reg, p->size);
    else
      x86_emit2(L->b, X86_MOVQ, x86_base(8, base, off), x86_xmm(p->reg)); /* 2, 6, 8 */
  } else if (p->size == 1 || p->size == 2 || p->size == 4 || p->size == 8) {
    lw_store_int(L, base, off, p->reg, p->size);
  } else { /* 3, 5, 6, 7: the tail padding of the slot absorbs the rest */
    lw_store_int(L, base, off, p->reg, 8);
  }
}

/* Loads register part p of a value of type t from [base+off]. A whole narrow scalar integer
 * is extended to 64 bits by its signedness (bool zero-extends): that meets SysV's
 * extend-to-32 rule (af_abi.narrow_ext) and costs nothing on Win64. */
static inline __attribute__((always_inline)) void load_part(lower_ctx *L, af_reg base, int32_t off,
                                                            const af_part *p, int t) {
  if (is_xmm(p->reg)) {
    if (p->size == 32)
      vmovups_ymm(L, 0, p->reg, base, off);
    else if (p->size == 4 || p->size == 16)
      lw_load_xmm(L, p->reg, base, off, p->size);
    else
      x86_emit2(L->b, X86_MOVQ, x86_xmm(p->reg), x86_base(8, base, off));
    return;
  }
  /* an integer scalar of at most 8 bytes (af_scalar's is_int and size): bool, i8..u64 */
  if (t >= AF_T_BOOL && t <= AF_T_U64) {
    lw_load_int(L, p->reg, base, off, t);
  } else if (p->size == 1 || p->size == 2) {
    x86_emit2(L->b, X86_MOVZX, x86_gpr(p->reg, 4), x86_base(p->size, base, off));
  } else if (p->size == 4) {
    x86_emit2(L->b, X86_MOV, x86_gpr(p->reg, 4), x86_base(4, base, off));
  } else {
    x86_emit2(L->b, X86_MOV, x86_gpr(p->reg, 8), x86_base(8, base, off));
  }
}

static void lea(lower_ctx *L, af_reg r, af_reg base, int32_t off) {
  x86_emit2(L->b, X86_LEA, x86_gpr(r, 8), x86_base(0, base, off));
}

/* ---- the save area (lower.h) ----------------------------------------------------------- */

static const af_reg save_gpr_order[] = {AF_RSI, AF_RDI, AF_RBX, AF_R12, AF_R13, AF_R14, AF_R15};

/* The bits set in a 32-bit mask (bit arithmetic: without -mpopcnt, __builtin_popcount is a
 * libgcc call, and every function's frame layout counts its saves). */
static inline int32_t bits32(uint32_t v) {
  v = v - (v >> 1 & 0x55555555u);
  v = (v & 0x33333333u) + (v >> 2 & 0x33333333u);
  return (int32_t)(((v + (v >> 4)) & 0x0f0f0f0fu) * 0x01010101u >> 24);
}

int32_t lower_save_size(uint64_t set) {
  const uint64_t gprs = 1ull << AF_RSI | 1ull << AF_RDI | 1ull << AF_RBX | 0xfull << AF_R12;
  int32_t n = bits32((uint32_t)(set & gprs)), x = bits32((uint32_t)(set >> AF_XMM0 & 0xffff));
  return (int32_t)round16((uint32_t)(8 * n)) + 16 * x;
}

int32_t lower_save_disp(uint64_t set, af_reg r) {
  if (!((set >> r) & 1)) return 0;
  int32_t n = 0;
  for (size_t i = 0; i < sizeof save_gpr_order / sizeof *save_gpr_order; i++) {
    if (!((set >> save_gpr_order[i]) & 1)) continue;
    n++;
    if (save_gpr_order[i] == r) return -8 * n;
  }
  int32_t at = (int32_t)round16((uint32_t)(8 * n));
  for (int x = AF_XMM0; x <= AF_XMM15; x++)
    if ((set >> x) & 1) {
      at += 16;
      if (x == (int)r) return -at;
    }
  return 0;
}

/* lower_save_disp of every register of set at once (d[r] for r in set; others untouched):
 * the prologue and the epilogue walk the whole set. */
static void save_disps(uint64_t set, int32_t d[AF_REG_COUNT]) {
  int32_t n = 0;
  /* save_gpr_order, unrolled: the prologue and the epilogue of every function come here */
  if (set >> AF_RSI & 1) d[AF_RSI] = -8 * ++n;
  if (set >> AF_RDI & 1) d[AF_RDI] = -8 * ++n;
  if (set >> AF_RBX & 1) d[AF_RBX] = -8 * ++n;
  for (int r = AF_R12; r <= AF_R15; r++)
    if (set >> r & 1) d[r] = -8 * ++n;
  int32_t at = (int32_t)round16((uint32_t)(8 * n));
  for (uint64_t x = (set >> AF_XMM0) & 0xffff; x; x &= x - 1) {
    at += 16;
    d[AF_XMM0 + __builtin_ctzll(x)] = -at;
  }
}

/* The prologue's saves (load 0) or the epilogue's restores (load 1) of set, ascending, with
 * the bytes written in place after one room check: mov [rbp + d], r64 / mov r64, [rbp + d]
 * (REX.W [R] 89 / 8B) and movups [rbp + d], xmm / movups xmm, [rbp + d] ([REX.R] 0F 11 / 10),
 * ModRM 45 + disp8 or 85 + disp32: what xd_store / xd_load / xd_xmm_mem write for them (a
 * Win64 function calling SysV code saves twelve). 0 (nothing written) without the room. */
static int save_moves(x86_buf *b, uint64_t set, const int32_t *disp, int load) {
  set &= 0xffffffffull;
  if (b->len + 12 * (size_t)bits32((uint32_t)set) + 16 > b->cap) return 0;
  uint8_t *q = b->data + b->len;
  for (; set; set &= set - 1) {
    unsigned r = (unsigned)__builtin_ctzll(set);
    int32_t d = disp[r];
    if (r >= AF_XMM0) {
      unsigned x = r - AF_XMM0;
      if (x & 8) *q++ = 0x44;
      q[0] = 0x0F, q[1] = load ? 0x10 : 0x11;
      q += 2;
      r = x;
    } else {
      q[0] = (uint8_t)(0x48 | (r & 8) >> 1), q[1] = load ? 0x8B : 0x89;
      q += 2;
    }
    if (d == (int8_t)d) {
      q[0] = (uint8_t)(0x45 | (r & 7) << 3), q[1] = (uint8_t)d;
      q += 2;
    } else {
      q[0] = (uint8_t)(0x85 | (r & 7) << 3);
      memcpy(q + 1, &d, 4);
      q += 5;
    }
  }
  b->len = (size_t)(q - b->data);
  return 1;
}

/* ---- prologue and incoming arguments -------------------------------------------------- */

/* Callee-side mutants at the end of the prologue: the "scratch use" of registers the function
 * should have saved, and the control-state changes it never undoes. */
static void mutant_prologue_tail(lower_ctx *L) {
  x86_buf *b = L->b;
  int w64 = L->f->sig.cc == AF_CC_WIN64;
  switch (L->mutant) {
  case MUT_W64_XMM_UNSAVED:
  case MUT_W64_XMM_LOW64:
    for (int k = 6; k < 16 && w64; k++)
      x86_emit2(b, X86_PXOR, x86_xmm((af_reg)(AF_XMM0 + k)), x86_xmm((af_reg)(AF_XMM0 + k)));
    break;
  case MUT_RBX_CLOBBERED: xd_movimm(b, AF_RBX, 8, (int64_t)0x5a5a5a5a5a5a5a01ll); break;
  case MUT_R12_R15_CLOBBERED:
    for (int r = AF_R12; r <= AF_R15; r++)
      xd_movimm(b, (af_reg)r, 8, (int64_t)0x5a5a5a5a5a5a5a00ll + r);
    break;
  case MUT_W64_RSI_RDI_VOLATILE:
    if (!w64) break;
    xd_movimm(b, AF_RSI, 8, (int64_t)0x5a5a5a5a5a5a5a06ll);
    xd_movimm(b, AF_RDI, 8, (int64_t)0x5a5a5a5a5a5a5a07ll);
    break;
  case MUT_DF_SET: {
    static const uint8_t std_insn = 0xFD; /* std: the encoder has no row for it */
    x86_emit_bytes(b, &std_insn, 1);
    break;
  }
  /* crash mutants, in the entry only (a host peer or the runner thunk calls it): the
   * harness's crash isolation must report them and carry on */
  case MUT_JIT_SEGV: /* a spill slot addressed off a register that holds 0, not RBP */
    if (L->fn != L->c->entry) break;
    x86_emit2(b, X86_XOR, x86_gpr(AF_R11, 4), x86_gpr(AF_R11, 4));
    x86_emit2(b, X86_MOV, x86_base(8, AF_R11, 0x38), x86_gpr(AF_R11, 8));
    break;
  case MUT_JIT_HANG: { /* jmp . */
    if (L->fn != L->c->entry) break;
    int self = x86_label(b);
    x86_bind(b, self);
    x86_jmp_label(b, self);
    break;
  }
  case MUT_JIT_WILD_JUMP: /* a call through an absolute address never relocated */
    if (L->fn != L->c->entry) break;
    xd_movimm(b, AF_R11, 8, (int64_t)0x5a5a5a5a5a40ll);
    x86_emit1(b, X86_CALL, x86_gpr(AF_R11, 8));
    break;
  case MUT_MXCSR_ROUNDING: /* RC (bits 13-14) = 11: toward zero */
    x86_emit1(b, X86_PUSH, x86_gpr(AF_RAX, 8));
    x86_emit1(b, X86_STMXCSR, x86_base(4, AF_RSP, 0));
    x86_emit2(b, X86_OR, x86_base(4, AF_RSP, 0), x86_imm(0x6000));
    x86_emit1(b, X86_LDMXCSR, x86_base(4, AF_RSP, 0));
    x86_emit1(b, X86_POP, x86_gpr(AF_RAX, 8));
    break;
  default: break;
  }
}

af_status lower_prologue(lower_ctx *L) {
  const af_abi *abi = af_abi_get(L->f->sig.cc);
  const af_sig *sig = &L->f->sig;
  const af_callinfo *ci = L->ci;
  if (check_sig(L, sig, ci) != AF_OK) return L->b->err;
  int m = L->mutant;
  if (L->o && L->o->check_stack) {
    /* test instrumentation: RSP+8 must be 16-aligned at entry (psABI 3.2.2), else SIGILL */
    int ok = x86_label(L->b);
    x86_emit2(L->b, X86_LEA, x86_gpr(AF_R11, 8), x86_base(0, AF_RSP, 8));
    x86_emit2(L->b, X86_TEST, x86_gpr(AF_R11, 4), x86_imm(15));
    x86_jcc_label(L->b, X86_CC_E, ok);
    x86_emit0(L->b, X86_UD2);
    x86_bind(L->b, ok);
  }
  xd_push_pop(L->b, X86_PUSH, AF_RBP);
  x86_emit2(L->b, X86_MOV, x86_gpr(AF_RBP, 8), x86_gpr(AF_RSP, 8));
  /* Win64 variadic: spill the four register slots to their home slots, where va_arg finds
   * them ("x64 calling convention", Varargs). */
  if (sig->cc == AF_CC_WIN64 && sig->variadic)
    for (int i = 0; i < abi->n_int_args; i++)
      lw_store_int(L, AF_RBP, 16 + 8 * i, abi->int_args[i], 8);
  int32_t below = 0; /* mutants: bytes of the frame left below RSP */
  if (m == MUT_W64_BELOW_RSP && sig->cc == AF_CC_WIN64) below = 128;
  if (m == MUT_SYSV_REDZONE_OVERRUN && sig->cc == AF_CC_SYSV) below = 256;
  if (below > (L->frame & ~15)) below = L->frame & ~15;
  if (L->frame - below > 0) x86_emit2(L->b, X86_SUB, x86_gpr(AF_RSP, 8), x86_imm(L->frame - below));
  /* The callee-saved registers this function uses or loses to SysV code (lower.c's
   * save_set; a save-dropping mutant already left them out), XMMs in full: Microsoft "x64
   * calling convention", Callee/caller saved registers, requires their low 128 bits. */
  int32_t *disp = L->save_disp; /* save_disps sets those of the set, the only ones read */
  save_disps(L->save_regs, disp);
  if (m == MUT_W64_XMM_LOW64 || !save_moves(L->b, L->save_regs, disp, 0))
    for (uint64_t set = L->save_regs & 0xffffffffull; set; set &= set - 1) { /* ascending */
      int r = __builtin_ctzll(set);
      int32_t d = disp[r];
      if (!is_xmm((af_reg)r))
        lw_store_int(L, AF_RBP, d, (af_reg)r, 8);
      else if (m == MUT_W64_XMM_LOW64)
        lw_store_xmm(L, AF_RBP, d, (af_reg)r, 8);
      else /* lw_store_xmm of 16 bytes, inline (Win64 functions save up to ten) */
        xd_xmm_mem(L->b, X86_MOVUPS, 1, (af_reg)r, AF_RBP, d, 16);
    }
  if (sig->cc == AF_CC_SYSV && sig->variadic) {
    for (int i = 0; i < abi->n_int_args; i++)
      lw_store_int(L, AF_RBP, L->va_save + 8 * i, abi->int_args[i], 8);
    for (int i = 0; i < abi->n_sse_args; i++)
      lw_store_xmm(L, AF_RBP, L->va_save + 48 + 16 * i, abi->sse_args[i], 16);
  }
  if (ci->sret) lw_store_int(L, AF_RBP, L->sret_save, abi->sret_in, 8);
  /* Parameters into their slots. Variadic ones too: the caller put each where the full
   * signature's classification says, which is where va_arg would read it. */
  for (int i = 0; i < sig->nparams; i++) {
    const af_loc *l = &ci->args[i];
    int32_t slot = L->slot[i];
    uint32_t size = type_size(L->c, sig->params[i]);
    switch (l->kind) {
    case AF_LOC_NONE: break;
    case AF_LOC_REG:
      if (m == MUT_CALLEE_READS_64 && l->nparts == 1 && !is_xmm(l->parts[0].reg) &&
          (sig->params[i] == AF_T_I32 || sig->params[i] == AF_T_U32)) {
        lw_store_int(L, AF_RBP, slot, l->parts[0].reg, 8); /* keeps the upper half too */
        break;
      }
      for (int k = 0; k < l->nparts; k++)
        store_part(L, AF_RBP, slot + l->parts[k].offset, &l->parts[k]);
      break;
    case AF_LOC_STACK: /* [rsp+8+stack_offset] at entry = [rbp+16+stack_offset] */
      lw_copy(L, AF_RBP, slot, AF_RBP, 16 + l->stack_offset, size);
      break;
    case AF_LOC_REF: {
      af_reg p = AF_R10; /* not an argument register in either convention */
      if (l->nparts == 1)
        p = l->parts[0].reg;
      else
        x86_emit2(L->b, X86_MOV, x86_gpr(p, 8), x86_base(8, AF_RBP, 16 + l->stack_offset));
      lw_copy(L, AF_RBP, slot, p, 0, size);
      break;
    }
    default: return lw_fail(L, AF_ERR_UNSUPPORTED, "parameter %d: location kind %d", i, l->kind);
    }
  }
  if (m) mutant_prologue_tail(L);
  /* Register-homed parameters from their slots into their registers: every parameter is in
   * its slot by now, so this is the parallel move regalloc.h asks for. */
  for (int i = 0; i < sig->nparams && L->vreg; i++) {
    int t = sig->params[i];
    if (m == MUT_CALLEE_READS_64 && L->vreg[i] != AF_REG_NONE && !is_xmm((af_reg)L->vreg[i]) &&
        (t == AF_T_I32 || t == AF_T_U32)) /* the upper half as the caller left it */
      x86_emit2(L->b, X86_MOV, x86_gpr((af_reg)L->vreg[i], 8), x86_base(8, AF_RBP, L->slot[i]));
    else if (L->vreg[i] != AF_REG_NONE) /* lower_home_load, inline */
      lower_home_load_reg(L, i, (af_reg)L->vreg[i]);
  }
  return L->b->err;
}

/* ---- calls ------------------------------------------------------------------------------ */

static uint32_t call_align(const af_callinfo *ci);

af_status lower_call_need(const lower_ctx *L, int callee, uint32_t *out_bytes, uint32_t *copy_bytes,
                          uint32_t *align) {
  af_callinfo tmp;
  const af_sig *sig = &L->c->funcs[callee].sig;
  *out_bytes = *copy_bytes = 0;
  af_status s;
  const af_callinfo *ci = lower_classify_ref(L, callee, &tmp, &s, NULL);
  if (!ci) return s;
  uint32_t stack_bytes = ci->stack_bytes;
  if (L->mutant) {
    int32_t split_hi[AF_MAX_PARAMS];
    uint32_t full = ci->stack_bytes;
    if (ci != &tmp) tmp = *ci;
    ci = &tmp;
    mutant_adjust_callinfo(L->mutant, L->c, sig, &tmp, split_hi);
    if (tmp.stack_bytes < full) tmp.stack_bytes = full;
    if (L->mutant == MUT_W64_NO_HOME && sig->cc == AF_CC_WIN64)
      tmp.stack_bytes = full >= 32 ? full - 32 : 0; /* no home space reserved */
    stack_bytes = tmp.stack_bytes;
  }
  *out_bytes = stack_bytes;
  for (int i = 0; i < sig->nparams; i++)
    if (ci->args[i].kind == AF_LOC_REF) *copy_bytes += copy_room(L->c, sig->params[i]);
  /* an over-aligned sret buffer: built aligned in the copy area, then copied to the slot */
  if (ci->sret && type_align(L->c, sig->ret) > 16) *copy_bytes += copy_room(L->c, sig->ret);
  /* lower_call_align's answer: the same adjusted locations (the mutant's stack_bytes changes
   * above do not enter it) */
  if (align) *align = call_align(ci);
  return AF_OK;
}

/* The RSP alignment a call with these locations needs: the largest slot alignment of a stack
 * argument, at least 16 (psABI 3.2.2: "the end of the input argument area shall be aligned on
 * a 16 (32 or 64, if __m256 or __m512 is passed on stack) byte boundary"; over-aligned
 * aggregates likewise). Arguments by reference leave only a pointer on the stack. */
static uint32_t call_align(const af_callinfo *ci) {
  uint32_t a = 16;
  for (int i = 0; i < ci->nargs; i++)
    if (ci->args[i].kind == AF_LOC_STACK && ci->args[i].stack_align > a)
      a = ci->args[i].stack_align;
  return a;
}

uint32_t lower_call_align(const lower_ctx *L, int callee) {
  if (callee < 0 || callee >= L->c->nfuncs) return 16;
  const af_sig *sig = &L->c->funcs[callee].sig;
  af_callinfo tmp;
  af_status s;
  const af_callinfo *ci = lower_classify_ref(L, callee, &tmp, &s, NULL);
  if (!ci) return 16;
  if (L->mutant) {
    int32_t split_hi[AF_MAX_PARAMS];
    if (ci != &tmp) tmp = *ci;
    ci = &tmp;
    mutant_adjust_callinfo(L->mutant, L->c, sig, &tmp, split_hi);
  }
  return call_align(ci);
}

af_status lower_call_site(lower_ctx *L, const lower_site *s) {
  const af_case *c = L->c;
  if (s->callee < 0 || s->callee >= c->nfuncs)
    return lw_fail(L, AF_ERR_INVALID, "call of function %d", s->callee);
  const af_sig *sig = &c->funcs[s->callee].sig;
  const af_abi *abi = af_abi_get(sig->cc);
  int m = L->mutant;
  af_callinfo tmp; /* a mutant adjusts a copy; else the cached classification is read */
  const af_callinfo *cp = &tmp;
  if (m) {
    if (classify(L, s->callee, &tmp) != AF_OK) return L->b->err;
  } else {
    af_error e;
    af_status st;
    e.msg[0] = 0;
    if (!(cp = lower_classify_ref(L, s->callee, &tmp, &st, &e)))
      return lw_fail(L, st, "af_classify: %s", e.msg);
    if (check_sig(L, sig, cp) != AF_OK) return L->b->err;
  }
  int32_t split_hi[AF_MAX_PARAMS];
  if (m) mutant_adjust_callinfo(m, c, sig, &tmp, split_hi);
  const af_callinfo *ci = cp;
  if ((int32_t)ci->stack_bytes > L->out_size)
    return lw_fail(L, AF_ERR_INVALID, "outgoing area %d < %u", L->out_size, ci->stack_bytes);
  /* A 32- or 64-aligned stack argument: the frame keeps RSP only 16-aligned, so this call
   * saves RSP, aligns it down to A and builds its argument area below it (RSP stays A-aligned:
   * the area is rounded up to A), so that [rsp + stack_offset] has the slot's alignment, as a
   * compiled callee's aligned loads (vmovaps, movaps) require. The stack arguments are read
   * through abase (RBP or R10), never RSP. */
  uint32_t align = call_align(ci);
  if (align > 16) {
    if (!L->rsp_save) return lw_fail(L, AF_ERR_INVALID, "no RSP save slot for a realigned call");
    uint32_t area = (ci->stack_bytes + align - 1) & ~(align - 1);
    lw_store_int(L, AF_RBP, L->rsp_save, AF_RSP, 8);
    x86_emit2(L->b, X86_AND, x86_gpr(AF_RSP, 8), x86_imm(-(int64_t)align));
    if (m == MUT_MISALIGNED_CALLS) area += 8; /* the mutant's RSP = 8 mod 16, here too */
    if (area) x86_emit2(L->b, X86_SUB, x86_gpr(AF_RSP, 8), x86_imm(area));
  }

  /* 1. Stack arguments, 2. by-reference copies: both only use R11 and RAX (and read through
   * abase), so no argument register is live yet. */
  int32_t ref_at[AF_MAX_PARAMS];
  int32_t acc = 0;
  for (int i = 0; i < sig->nparams; i++) {
    const af_loc *l = &ci->args[i];
    int t = sig->params[i];
    uint32_t size = type_size(c, t);
    int32_t src = s->adisp[i];
    if (m && split_hi[i] >= 0) /* mutant: the high eightbyte of a split argument */
      lw_copy(L, AF_RSP, split_hi[i], s->abase, src + 8, 8);
    if (l->kind == AF_LOC_STACK) {
      /* bool, i8..u32: an integer scalar narrower than 8 bytes */
      if (t >= AF_T_BOOL && t <= AF_T_U32 && m != MUT_NARROW_NOT_EXTENDED) {
        /* a narrow integer on the stack: extended like in a register */
        lw_load_int(L, AF_R11, s->abase, src, t);
        lw_store_int(L, AF_RSP, l->stack_offset, AF_R11, 8);
      } else {
        lw_copy(L, AF_RSP, l->stack_offset, s->abase, src, size);
      }
    } else if (l->kind == AF_LOC_REF && m == MUT_W64_BYREF_NO_COPY) {
      ref_at[i] = 0; /* the caller's own value, no copy */
      if (l->nparts == 0) {
        lea(L, AF_R11, s->abase, src);
        lw_store_int(L, AF_RSP, l->stack_offset, AF_R11, 8);
      }
    } else if (l->kind == AF_LOC_REF) {
      /* Win64: a copy the callee may modify ("x64 calling convention", Parameter passing),
       * aligned like its type (the copy area is 16-aligned; beyond that at run time). */
      ref_at[i] = L->copy_area + acc;
      acc += (int32_t)copy_room(c, t);
      if (acc > L->copy_size)
        return lw_fail(L, AF_ERR_INVALID, "copy area %d too small", L->copy_size);
      /* the copy aligned like its type (RAX: no argument register is live yet) */
      lea_aligned(L, AF_RAX, ref_at[i], type_align(c, t));
      lw_copy(L, AF_RAX, 0, s->abase, src, size);
      if (l->nparts == 0) lw_store_int(L, AF_RSP, l->stack_offset, AF_RAX, 8);
    } else if (l->kind != AF_LOC_REG && l->kind != AF_LOC_NONE) {
      return lw_fail(L, AF_ERR_UNSUPPORTED, "argument %d: location kind %d", i, l->kind);
    }
  }
  /* 3. Register arguments last: each load writes only its own register. */
  for (int i = 0; i < sig->nparams; i++) {
    const af_loc *l = &ci->args[i];
    if (l->kind == AF_LOC_REG) {
      for (int k = 0; k < l->nparts; k++) {
        const af_part *p = &l->parts[k];
        int t = l->nparts == 1 ? sig->params[i] : AF_T_STRUCT;
        int32_t at = s->adisp[i] + p->offset;
        if (m == MUT_NARROW_NOT_EXTENDED && !is_xmm(p->reg) &&
            (t == AF_T_BOOL || t == AF_T_I8 || t == AF_T_U8 || t == AF_T_I16 || t == AF_T_U16)) {
          /* only the declared bits written into a dirty register */
          int n = t == AF_T_I16 || t == AF_T_U16 ? 2 : 1;
          xd_movimm(L->b, p->reg, 8, (int64_t)0xa5a5a5a5a5a5a5a5ull);
          x86_emit2(L->b, X86_MOV, x86_gpr(p->reg, n), x86_base(n, s->abase, at));
          continue;
        }
        load_part(L, s->abase, at, p, t);
        if (m == MUT_FLOAT_AS_DOUBLE && t == AF_T_F32 && is_xmm(p->reg))
          x86_emit2(L->b, X86_CVTSS2SD, x86_xmm(p->reg), x86_xmm(p->reg));
      }
      /* Win64 variadic float: also in the slot's GPR (abi->vararg_dup_float) */
      if (l->dup != AF_REG_NONE && l->nparts == 1 && is_xmm(l->parts[0].reg) &&
          m != MUT_W64_VARARG_NO_DUP)
        x86_emit2(L->b, X86_MOVQ, x86_gpr(l->dup, 8), x86_xmm(l->parts[0].reg));
    } else if (l->kind == AF_LOC_REF && l->nparts == 1) {
      if (m == MUT_W64_BYREF_NO_COPY)
        lea(L, l->parts[0].reg, s->abase, s->adisp[i]);
      else
        lea_aligned(L, l->parts[0].reg, ref_at[i], type_align(c, sig->params[i]));
    }
  }
  /* sret: the result slot, or for an over-aligned type an aligned buffer in the copy area */
  uint32_t ret_align = ci->sret ? type_align(c, sig->ret) : 0;
  int32_t sret_at = s->rdisp;
  if (ret_align > 16) {
    sret_at = L->copy_area + acc;
    acc += (int32_t)copy_room(c, sig->ret);
    if (acc > L->copy_size)
      return lw_fail(L, AF_ERR_INVALID, "copy area %d too small", L->copy_size);
  }
  if (ci->sret) lea_aligned(L, m == MUT_SRET_IN_RAX ? AF_RAX : abi->sret_in, sret_at, ret_align);
  /* SysV variadic: AL bounds the vector registers used (psABI 3.5.7) */
  if (sig->variadic && abi->vararg_al && m != MUT_SYSV_NO_AL)
    xd_movimm(L->b, AF_RAX, 4, ci->sse_used);
  af_reg rbase = AF_RBP; /* where the result goes: [rbase + rd] */
  int32_t rd = s->rdisp;
  if (m == MUT_VOLATILE_ACROSS_CALL) {
    /* the result address computed before the call, kept in volatile R11 across it */
    lea(L, AF_R11, AF_RBP, s->rdisp);
    xd_movimm(L->b, AF_R10, 8, (int64_t)(uintptr_t)&L->fn_table[s->callee]);
    xd_call_mem(L->b, AF_R10, 0);
    rbase = AF_R11;
    rd = 0;
  } else {
    xd_movimm(L->b, AF_R11, 8, (int64_t)(uintptr_t)&L->fn_table[s->callee]);
    xd_call_mem(L->b, AF_R11, 0);
  }
  /* the frame's RSP back (a load: RAX, RDX, XMM0/1 and ST0 keep the result) */
  if (align > 16) x86_emit2(L->b, X86_MOV, x86_gpr(AF_RSP, 8), x86_base(8, AF_RBP, L->rsp_save));

  /* The result into its slot. */
  const af_loc *r = &ci->ret;
  switch (r->kind) {
  case AF_LOC_NONE: break;
  case AF_LOC_SRET: /* the callee wrote the slot, or the aligned buffer: copied to the slot */
    if (ret_align > 16) {
      lea_aligned(L, AF_R10, sret_at, ret_align);
      lw_copy(L, AF_RBP, s->rdisp, AF_R10, 0, type_size(c, sig->ret));
    }
    break;
  case AF_LOC_REG:
    for (int k = 0; k < r->nparts; k++)
      store_part(L, rbase, rd + r->parts[k].offset, &r->parts[k]);
    break;
  case AF_LOC_X87:
    xd_x87_mem(L->b, X86_FSTP, rbase, rd, 10);
    x86_emit2(L->b, X86_MOV, x86_base(2, rbase, rd + 10), x86_imm(0));
    x86_emit2(L->b, X86_MOV, x86_base(4, rbase, rd + 12), x86_imm(0));
    break;
  default: return lw_fail(L, AF_ERR_UNSUPPORTED, "return location kind %d", r->kind);
  }
  return L->b->err;
}

af_status lower_call(lower_ctx *L, const af_inst *in) {
  int32_t adisp[AF_MAX_PARAMS];
  int callee = (int)in->imm;
  if (callee < 0 || callee >= L->c->nfuncs)
    return lw_fail(L, AF_ERR_INVALID, "call of function %d", callee);
  const af_sig *sig = &L->c->funcs[callee].sig;
  if (in->nargs != sig->nparams)
    return lw_fail(L, AF_ERR_INVALID, "call with %d of %d arguments", in->nargs, sig->nparams);
  if (sig->ret != AF_T_VOID && in->dst < 0)
    return lw_fail(L, AF_ERR_INVALID, "a call whose result has no value");
  for (int i = 0; i < in->nargs; i++)
    adisp[i] = L->slot[in->args[i]];
  lower_site s = {callee, AF_RBP, adisp, in->dst >= 0 ? L->slot[in->dst] : 0};
  return lower_call_site(L, &s);
}

/* ---- returns and the epilogue ----------------------------------------------------------- */

af_status lower_ret(lower_ctx *L, const af_inst *in) {
  const af_loc *r = &L->ci->ret;
  int t = L->f->sig.ret;
  if (r->kind != AF_LOC_NONE) {
    if (in->nargs < 1) return lw_fail(L, AF_ERR_INVALID, "ret without a value");
    int32_t slot = L->slot[in->args[0]];
    switch (r->kind) {
    case AF_LOC_REG:
      for (int k = 0; k < r->nparts; k++)
        load_part(L, AF_RBP, slot + r->parts[k].offset, &r->parts[k],
                  r->nparts == 1 ? t : AF_T_STRUCT);
      break;
    case AF_LOC_X87:
      if (L->mutant == MUT_F80_IN_XMM0)
        lw_load_xmm(L, AF_XMM0, AF_RBP, slot, 16);
      else
        xd_x87_mem(L->b, X86_FLD, AF_RBP, slot, 10);
      break;
    case AF_LOC_SRET: {
      /* copy into the caller's buffer and return its address (sret_out) */
      const af_abi *abi = af_abi_get(L->f->sig.cc);
      af_reg to = L->mutant == MUT_SRET_NOT_RETURNED ? AF_R10 : abi->sret_out;
      x86_emit2(L->b, X86_MOV, x86_gpr(to, 8), x86_base(8, AF_RBP, L->sret_save));
      lw_copy(L, to, 0, AF_RBP, slot, type_size(L->c, t));
      break;
    }
    default: return lw_fail(L, AF_ERR_UNSUPPORTED, "return location kind %d", r->kind);
    }
  }
  if (in != &L->f->insts[L->f->ninsts - 1]) x86_jmp_label(L->b, L->epilogue);
  return L->b->err;
}

af_status lower_epilogue(lower_ctx *L) {
  x86_bind(L->b, L->epilogue);
  int m = L->mutant;
  const int32_t *disp = L->save_disp; /* as the prologue computed them */
  if (m == MUT_W64_XMM_LOW64 || !save_moves(L->b, L->save_regs, disp, 1))
    for (uint64_t set = L->save_regs & 0xffffffffull; set; set &= set - 1) {
      int r = __builtin_ctzll(set);
      int32_t d = disp[r];
      if (is_xmm((af_reg)r) && m == MUT_W64_XMM_LOW64) /* movq: the upper half comes back 0 */
        x86_emit2(L->b, X86_MOVQ, x86_xmm((af_reg)r), x86_base(8, AF_RBP, d));
      else if (is_xmm((af_reg)r)) /* lw_load_xmm of 16 bytes, inline */
        xd_xmm_mem(L->b, X86_MOVUPS, 0, (af_reg)r, AF_RBP, d, 16);
      else
        x86_emit2(L->b, X86_MOV, x86_gpr((af_reg)r, 8), x86_base(8, AF_RBP, d));
    }
  if (m == MUT_RBP_NOT_RESTORED) { /* the saved rbp is skipped, not popped */
    x86_emit2(L->b, X86_LEA, x86_gpr(AF_RSP, 8), x86_base(0, AF_RBP, 8));
    xd_ret(L->b);
    return L->b->err;
  }
  x86_emit2(L->b, X86_MOV, x86_gpr(AF_RSP, 8), x86_gpr(AF_RBP, 8));
  xd_push_pop(L->b, X86_POP, AF_RBP);
  xd_ret(L->b);
  return L->b->err;
}

/* ---- the runner thunk ------------------------------------------------------------------- */

af_status lower_runner(lower_ctx *L, int callee, const int32_t *in_off) {
  if (callee < 0 || callee >= L->c->nfuncs)
    return lw_fail(L, AF_ERR_INVALID, "runner of function %d", callee);
  const af_sig *sig = &L->c->funcs[callee].sig;
  uint32_t out, copy, align;
  af_status st = lower_call_need(L, callee, &out, &copy, &align);
  if (st != AF_OK) return lw_fail(L, st, "af_classify failed for the entry");
  uint32_t rsize = type_size(L->c, sig->ret);
  /* [rbp-8] in, [rbp-16] ret, [rbp-24] the saved RSP of a realigned call (lower_call_align),
   * then the result, the copy area, the outgoing area */
  int realign = align > 16;
  L->rsp_save = realign ? -24 : 0;
  int32_t rdisp = (realign ? -32 : -16) - (int32_t)round16(rsize ? rsize : 1);
  L->copy_size = (int32_t)copy;
  L->copy_area = rdisp - (int32_t)copy;
  L->out_size = (int32_t)round16(out);
  L->frame = -L->copy_area + L->out_size;
  xd_push_pop(L->b, X86_PUSH, AF_RBP);
  x86_emit2(L->b, X86_MOV, x86_gpr(AF_RBP, 8), x86_gpr(AF_RSP, 8));
  x86_emit2(L->b, X86_SUB, x86_gpr(AF_RSP, 8), x86_imm(L->frame));
  lw_store_int(L, AF_RBP, -8, AF_RDI, 8);
  lw_store_int(L, AF_RBP, -16, AF_RSI, 8);
  x86_emit2(L->b, X86_MOV, x86_gpr(AF_R10, 8), x86_gpr(AF_RDI, 8));
  lower_site s = {callee, AF_R10, in_off, rdisp};
  if (lower_call_site(L, &s) != AF_OK) return L->b->err;
  if (rsize) {
    x86_emit2(L->b, X86_MOV, x86_gpr(AF_R10, 8), x86_base(8, AF_RBP, -16));
    lw_copy(L, AF_R10, 0, AF_RBP, rdisp, rsize);
  }
  x86_emit2(L->b, X86_MOV, x86_gpr(AF_RSP, 8), x86_gpr(AF_RBP, 8));
  xd_push_pop(L->b, X86_POP, AF_RBP);
  xd_ret(L->b);
  return L->b->err;
}
