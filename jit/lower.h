/* lower.h - private to jit/: the lowering of case IR to x86-64 (slots, plus allocated registers).
 */
#ifndef ABIFUZZ_JIT_LOWER_H
#define ABIFUZZ_JIT_LOWER_H

#include "jit.h"
#include "x86.h"

/* The baseline lowering keeps every IR value in a stack slot of its function's
 * frame; an instruction loads its operands into scratch registers, computes, and
 * stores the result into its own slot. Argument and return locations come only
 * from af_classify (gen/). The register allocator (regalloc.h; off with
 * af_jit_opts.no_regalloc) makes some values register-homed (lower_ctx.vreg): such a value
 * lives in its register between instructions and is copied into its slot only around the
 * instructions that read it (lower.c), so the op and call lowering below still see slots.
 *
 * Frame, rbp-based (rbp is 16-aligned: RSP+8 is 16-aligned at entry, psABI
 * 3.2.2 and Microsoft "x64 stack usage"):
 *
 *   [rbp+16 ...]   incoming stack arguments (Win64: the 32-byte home space first,
 *                  which the callee owns; variadic Win64 functions spill RCX..R9
 *                  there)
 *   [rbp+8]        return address
 *   [rbp+0]        caller's rbp
 *   [rbp-8 ...]    saved callee-saved registers: exactly those the allocator used plus
 *                  (Win64) those SysV callees and helpers clobber (lower.c save_set;
 *                  XMMs in full); see lower_save_size
 *   ...            value slots (16-aligned, 16*ceil(size/16) bytes each),
 *                  LOCAL regions (align-1 + AF_REGION_SIZE bytes, aligned at run
 *                  time), the incoming sret pointer, the SysV register save
 *                  area of a variadic function, the saved RSP of over-aligned calls,
 *                  by-reference copies for calls
 *   [rsp ...]      the outgoing argument area (Win64: home space first); RSP is
 *                  16-aligned at every call. A call passing a 32- or 64-aligned stack
 *                  argument (lower_call_align) instead saves RSP, aligns it down and
 *                  builds its own argument area below the frame (psABI 3.2.2)
 *
 * Scratch registers the op lowering may use freely between instructions:
 * RAX RCX RDX R8 R9 R10 R11 and XMM0-XMM5 (volatile in both conventions) and
 * the x87 stack, which is empty between instructions. Only register-homed values
 * (never in those scratch registers) live in a register across an IR instruction. */

/* Runtime helpers the JIT code may call for what SSE2 lacks (f16 conversions,
 * i128 <-> float, saturating float -> i128) and for MIX's fold. They are
 * ordinary sysv_abi C functions (lower_rt.c); calls to them follow SysV. */
typedef struct jit_rt {
  const af_case *c;
  uint8_t *objects[AF_MAX_OBJECTS]; /* the run's object regions, for pointer ids */
  /* Compile time only (the code never reads it): each function's af_classify result, computed
   * once per compile instead of at every prologue, call site and frame layout (a classification
   * costs thousands of instructions). NULL: no cache (lower_classify classifies each time). */
  struct lower_cls *cls;
} jit_rt;

/* Function k's classification, kept once computed (bit k of done); bit k of parts_ok (valid
 * where done is set) says its register parts passed lower_call.c's size check. */
typedef struct lower_cls {
  uint32_t done, parts_ok;
  af_callinfo ci[AF_MAX_FUNCS];
} lower_cls;

typedef struct lower_ctx {
  const af_case *c;
  int fn; /* function index */
  const af_func *f;
  const af_callinfo *ci;    /* the function's own classification (lower_function: the
                               compile's cache, or a copy of its own) */
  x86_buf *b;               /* where the code goes */
  const af_jit_opts *o;     /* options (mutants) */
  jit_rt *rt;               /* runtime context, passed to helpers */
  const uint64_t *fn_table; /* fn_table[k]: entry address of function k (filled
                               after placement; code calls through it) */
  int32_t *slot;            /* [nvalues] rbp displacement of every value's slot */
  int32_t *local_area;      /* [ninsts] rbp displacement of a LOCAL's raw area */
  int32_t frame;            /* bytes reserved below rbp, a multiple of 16 */
  int32_t sret_save;        /* rbp displacement of the saved incoming sret pointer */
  int32_t va_save;          /* SysV variadic: rbp displacement of the register
                               save area (6 GPRs then 8 XMMs, psABI 3.5.7) */
  int32_t copy_area;        /* rbp displacement of the by-reference copy area */
  int32_t copy_size;
  int32_t out_size; /* outgoing argument area at [rsp] */
  int32_t rsp_save; /* rbp displacement of the RSP saved around a call whose stack arguments
                       need more than 16-byte alignment (lower_call_align), 0 if none */
  int epilogue;     /* label */
  af_error *err;
  int mutant; /* mutants.h mutant_id resolved from o->inject (helper M) */
  /* Register allocation (regalloc.h; helper W). NULL: every value lives in its slot (the
   * baseline; test_jit_ops). Else [nvalues]: the register of a register-homed value, or
   * AF_REG_NONE. A register-homed value's slot is stale between instructions: lower.c stores
   * it there before an instruction that reads it and loads it back after the instruction
   * that defines it, so lower_ops*.c and lower_call.c keep reading and writing slots. */
  const int8_t *vreg;
  uint64_t save_regs; /* callee-saved registers the prologue saves (lower_save_set) */
  /* lower_prologue: the rbp displacement of each register of save_regs (lower_save_disp; the
   * others unset), which lower_epilogue restores from */
  int32_t save_disp[AF_REG_COUNT];
} lower_ctx;

/* ---- lower_util.c: operands and moves every part uses ---- */
/* Records the first error (sticky) and returns it. */
af_status lw_fail(lower_ctx *L, af_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* [rbp + slot(v) + off], an operand of `size` bytes (0 for lea). */
static inline x86_operand lw_slot(const lower_ctx *L, int value, int32_t off, int size) {
  return x86_base(size, AF_RBP, L->slot[value] + off);
}
/* Loads an integer-like scalar (bool, i8..u64, ptr) of `type` from [base+off]
 * into r, extended to 64 bits by the type's signedness (bool zero-extends): movzx / movsx from
 * 1 and 2 bytes, movsxd or a 32-bit mov from 4, a 64-bit mov from 8. lw_load_int_any does any
 * base and type (lower_util.c); lw_load_int writes a slot load (base rbp, the common case)
 * itself with the bytes xd_load / xd_load_ext write, from lw_slot_loads. */
void lw_load_int_any(lower_ctx *L, af_reg r, af_reg base, int32_t off, int type);
typedef struct {
  uint32_t head; /* REX.W (if w) and the opcode, little-endian; 0: not a slot-load type */
  uint8_t hl, w; /* bytes of head; REX.W */
} lw_slot_load;
extern const lw_slot_load lw_slot_loads[AF_T_PTR + 1]; /* lower_util.c */
static inline __attribute__((always_inline)) void lw_load_int(lower_ctx *L, af_reg r, af_reg base,
                                                              int32_t off, int type) {
  x86_buf *b = L->b;
  unsigned reg = (unsigned)r;
  if (base == AF_RBP && reg <= 15 && (unsigned)type <= AF_T_PTR && lw_slot_loads[type].hl &&
      xd_room(b)) {
    const lw_slot_load *f = &lw_slot_loads[type];
    uint32_t h = f->head;
    unsigned hl = f->hl;
    if (reg & 8) { /* REX.R: in the REX.W byte, or a REX of its own */
      if (f->w)
        h |= 4;
      else
        h = h << 8 | 0x44, hl++;
    }
    uint8_t *q = b->data + b->len;
    memcpy(q, &h, 4);
    q += hl;
    if (off == (int8_t)off) { /* ModRM mod 1 (rbp never takes mod 0), disp8 */
      q[0] = (uint8_t)(0x45 | (reg & 7) << 3), q[1] = (uint8_t)off;
      q += 2;
    } else { /* mod 2, disp32 */
      q[0] = (uint8_t)(0x85 | (reg & 7) << 3);
      memcpy(q + 1, &off, 4);
      q += 5;
    }
    b->len = (size_t)(q - b->data);
    return;
  }
  lw_load_int_any(L, r, base, off, type);
}
/* Stores the low `size` bytes (1, 2, 4, 8) of r to [base+off]. */
static inline __attribute__((always_inline)) void lw_store_int(lower_ctx *L, af_reg base,
                                                               int32_t off, af_reg r, int size) {
  switch (size) { /* a constant size for the emitter (folds away when the caller's is one) */
  case 8: xd_store(L->b, base, off, r, 8); break;
  case 4: xd_store(L->b, base, off, r, 4); break;
  case 2: xd_store(L->b, base, off, r, 2); break;
  case 1: xd_store(L->b, base, off, r, 1); break;
  default: xd_store(L->b, base, off, r, size); break; /* the table's error */
  }
}
/* Copies n bytes [sbase+soff] -> [dbase+doff] through R11 (8/4/2/1 chunks).
 * The areas may not overlap; neither base may be R11. */
void lw_copy(lower_ctx *L, af_reg dbase, int32_t doff, af_reg sbase, int32_t soff, uint32_t n);
/* Loads / stores the `size` (4, 8 or 16) low bytes of an XMM register. */
static inline __attribute__((always_inline)) void lw_load_xmm(lower_ctx *L, af_reg x, af_reg base,
                                                              int32_t off, int size) {
  switch (size) { /* constants for the emitter, as lw_store_int */
  case 4: xd_xmm_mem(L->b, X86_MOVSS, 0, x, base, off, 4); break;
  case 8: xd_xmm_mem(L->b, X86_MOVSD, 0, x, base, off, 8); break;
  default: xd_xmm_mem(L->b, X86_MOVUPS, 0, x, base, off, size); break;
  }
}
static inline __attribute__((always_inline)) void lw_store_xmm(lower_ctx *L, af_reg base,
                                                               int32_t off, af_reg x, int size) {
  switch (size) {
  case 4: xd_xmm_mem(L->b, X86_MOVSS, 1, x, base, off, 4); break;
  case 8: xd_xmm_mem(L->b, X86_MOVSD, 1, x, base, off, 8); break;
  default: xd_xmm_mem(L->b, X86_MOVUPS, 1, x, base, off, size); break;
  }
}
/* Calls a sysv_abi C function at `fn` through R11 (RSP is 16-aligned in a body). */
void lw_call_abs(lower_ctx *L, const void *fn);

/* ---- lower_ops.c: every instruction but CALL and RET ---- */
/* Bytes of frame an instruction needs besides its value slot (LOCAL: its
 * region; others 0); lower.c reserves them and fills local_area. */
uint32_t lower_inst_frame_need(const lower_ctx *L, const af_inst *in);
af_status lower_inst(lower_ctx *L, const af_inst *in, int index);

/* ---- lower_call.c: the ABI-facing part ---- */
af_status lower_prologue(lower_ctx *L); /* save, frame, incoming args -> slots */
af_status lower_call(lower_ctx *L, const af_inst *in);
af_status lower_ret(lower_ctx *L, const af_inst *in);
af_status lower_epilogue(lower_ctx *L);

/* ---- lower_rt.c: the runtime helpers (sysv_abi C) ---- */
uint64_t jit_rt_fold(const jit_rt *rt, uint64_t h, const void *value, int type);
/* Added by lower_ops (F2): what the op lowering calls instead of inlining. Pointers are
 * slot addresses; every helper repeats gen/interp.c's C expressions exactly. */
void jit_rt_fconv(void *d, const void *a, int from, int to); /* float -> float */
void jit_rt_itof(void *d, const void *a, int from, int to);  /* integer -> float */
void jit_rt_ftoi(void *d, const void *a, int from, int to);  /* float -> integer, saturating */
/* Bit-field GET (d gets the leaf of `type`) / SET (d already holds the aggregate copy). */
void jit_rt_bf_get(void *d, const void *agg, uint32_t bit_offset, int bits, int type);
void jit_rt_bf_set(void *d, const void *val, uint32_t bit_offset, int bits, int type);

/* ---- lower_call.c / lower.c additions (helper F1) ---- */
/* The save area at the top of the frame: the saved GPRs of lower_ctx.save_regs in the order
 * RSI RDI RBX R12 R13 R14 R15 at [rbp-8], [rbp-16] ..., then (16-aligned) the saved XMMs in
 * order, 16 bytes each (all 128 bits). With every Win64 register saved (RSI RDI XMM6-XMM15)
 * it is LOWER_W64_SAVE bytes: RSI [rbp-8], RDI [rbp-16], XMM6+k [rbp-32-16*k]. */
#define LOWER_W64_SAVE 176
/* Bytes of the save area for `set`; the rbp displacement of register r's save (0 if r is not
 * in set). */
int32_t lower_save_size(uint64_t set);
int32_t lower_save_disp(uint64_t set, af_reg r);
/* SysV variadic register save area: 6 GPRs, then 8 XMMs (psABI 3.5.7, Figure 3.33). */
#define LOWER_VA_SAVE 176
/* One call: an IR CALL or the runner thunk's call of the entry. */
typedef struct {
  int callee;           /* function index */
  af_reg abase;         /* argument i lies at [abase + adisp[i]]: RBP or R10 */
  const int32_t *adisp; /* [callee's nparams] */
  int32_t rdisp;        /* the result goes to [rbp + rdisp] (16-rounded room) */
} lower_site;
af_status lower_call_site(lower_ctx *L, const lower_site *s);
/* What a call of function `callee` needs in the caller's frame: the outgoing argument area
 * (home space included) and the by-reference copy area; align (may be NULL) receives
 * lower_call_align(L, callee), computed from the same classification. */
af_status lower_call_need(const lower_ctx *L, int callee, uint32_t *out_bytes, uint32_t *copy_bytes,
                          uint32_t *align);
/* The alignment (32 or 64) a call of `callee` needs RSP to have at the call instruction when
 * it passes a stack argument whose slot is more than 16-aligned (psABI 3.2.2: the end of the
 * argument area is then 32- or 64-byte aligned); 16 otherwise (the frame keeps RSP 16-aligned).
 * Such a call realigns RSP below the frame and restores it from lower_ctx.rsp_save. */
uint32_t lower_call_align(const lower_ctx *L, int callee);
/* The runner thunk, a SysV function `void run(const uint8_t *in, uint8_t *ret)`: calls
 * function `callee` with argument i read from in + in_off[i] (pointers as addresses) and
 * stores its return value (type size bytes) at ret. L needs c, b, fn_table, err. */
af_status lower_runner(lower_ctx *L, int callee, const int32_t *in_off);
/* What lower.c laid out for one function's frame (displacements from rbp, negative), as
 * reported by lower_function; the one description of the layout debug.c shows. */
typedef struct {
  int32_t frame;     /* bytes below rbp the layout reserves (lower_ctx.frame; a multiple of
                        16 unless a mutant makes it odd) */
  int32_t w64_save;  /* bytes of the callee-saved register save area (lower_save_size) */
  int32_t slots_end; /* displacement of the lowest value slot */
  int32_t sret_save; /* saved incoming sret pointer, 0 if none */
  int32_t va_save;   /* SysV variadic register save area, 0 if none */
  int32_t copy_area; /* by-reference copy area (displacement, bytes) */
  int32_t copy_size;
  int32_t out_size;   /* outgoing argument area at [rsp] */
  int32_t rsp_save;   /* RSP saved around over-aligned calls (lower_call_align), 0 if none */
  int nlocals;        /* LOCAL regions */
  int32_t locals_end; /* displacement of the lowest LOCAL region (slots_end if none) */
  uint64_t saved;     /* the callee-saved registers the prologue saves (bit per af_reg) */
  int ra_in_reg;      /* values the register allocator kept in a register (0: allocator off) */
  int ra_crossing_cs; /* ... of them live across a call in an own callee-saved register */
  uint64_t ra_saved;  /* saved registers the allocator gave values (subset of saved) */
} lower_frame;

/* lower_call.c: af_classify of function k's signature, through L->rt->cls when there is one.
 * e may be NULL. */
af_status lower_classify(const lower_ctx *L, int k, af_callinfo *ci, af_error *e);
/* The same without a copy: a pointer into L->rt->cls (classified into it on a miss), or, with
 * no cache, to *tmp classified there. NULL on failure, with *st the af_classify status. */
const af_callinfo *lower_classify_ref(const lower_ctx *L, int k, af_callinfo *tmp, af_status *st,
                                      af_error *e);
/* A register-homed value v (in register r) from its register into its slot (the whole GPR:
 * the slot is 16 bytes and a narrow integer is kept extended, as lw_load_int leaves it; an
 * XMM's low 4, 8 or 16 bytes by the type), or back. Inline: the lowering does this around most
 * instructions and for the register-homed parameters. */
static inline int lower_home_xmm_size(int t) {
  return t == AF_T_F32 ? 4 : t == AF_T_F64 || t == AF_T_CF32 ? 8 : 16;
}
static inline __attribute__((always_inline)) void lower_home_store_reg(lower_ctx *L, int v,
                                                                       af_reg r) {
  if (r >= AF_XMM0 && r <= AF_XMM15)
    lw_store_xmm(L, AF_RBP, L->slot[v], r, lower_home_xmm_size(L->f->value_type[v]));
  else
    xd_store(L->b, AF_RBP, L->slot[v], r, 8);
}
static inline __attribute__((always_inline)) void lower_home_load_reg(lower_ctx *L, int v,
                                                                      af_reg r) {
  int t = L->f->value_type[v];
  if (r >= AF_XMM0 && r <= AF_XMM15)
    lw_load_xmm(L, r, AF_RBP, L->slot[v], lower_home_xmm_size(t));
  else
    lw_load_int(L, r, AF_RBP, L->slot[v], t);
}
/* lower.c: a register-homed value (lower_ctx.vreg) from its register into its slot / back;
 * nothing for other values (or v < 0). */
void lower_home_store(lower_ctx *L, int v);
void lower_home_load(lower_ctx *L, int v);
/* lower.c: lowers function fn of c into b (prologue, body, epilogue). fr (may be NULL)
 * receives the frame layout. */
af_status lower_function(const af_case *c, int fn, const af_jit_opts *o, jit_rt *rt,
                         const uint64_t *fn_table, x86_buf *b, lower_frame *fr, af_error *err);

/* ---- jit.c: what a compiled case keeps about its code, for debug.c ---- */
typedef struct {
  uint64_t addr;  /* where the JIT code lies (for a host_fns function: the unused JIT code) */
  uint64_t size;  /* bytes of code (the lowering's buffer length; int3 fill follows) */
  int host;       /* 1: host_fns replaces this function, the code never runs */
  lower_frame fr; /* the frame layout (zero for the runner) */
} jit_fn_record;
/* Function k's record, k = -1 for the runner thunk; NULL out of range. */
const jit_fn_record *jit_record(const af_jit *j, int k);
/* The case j was compiled from. */
const af_case *jit_case(const af_jit *j);

#endif
