/* regalloc.h - private to jit/: a linear-scan register allocator for one function of a case. */
#ifndef ABIFUZZ_JIT_REGALLOC_H
#define ABIFUZZ_JIT_REGALLOC_H

#include <stdint.h>
#include <stdio.h>

#include "gen.h"

/* Design
 * ======
 * Input: a case, a function index and options (ra_opts). The function's own convention
 * (af_abi_get(f->sig.cc)) decides which registers cost a prologue save; the convention of
 * each callee decides which registers survive its call. Output (ra_result): for every
 * IR value one location for its whole life (no splitting):
 *   RA_NONE   the value's class has no register, or the slot rule leaves it in its slot (it
 *             keeps its slot, as in the baseline);
 *   RA_REG    in register `reg` from its definition to its last use;
 *   RA_SPILL  a GPR/XMM-class value that got no register: it keeps its slot.
 * plus the callee-saved registers (own convention) that the prologue must save, and stats.
 *
 * Classes (ra_value_class): GPR for bool, i8..u64, ptr; XMM for f32, f64, m128, cf32 (the
 * two floats in the low 8 bytes); NONE for i128/u128, f16, f80, cf64, m256 and aggregates.
 *
 * Slot rule (ra_opts.slot_rule, session 9). A register only pays for a value the lowering reads
 * more than once from it, or that lives across a clobber in it: every instruction reads its
 * operands from their slots and writes its result there (lower.c stores a register-homed
 * operand to its slot before the instruction and loads a result into its register after it).
 * A CONST writes its bytes straight into the result's slot (lower_ops.c, lower_const), so a
 * constant in a register costs a load after the CONST and a store before each use, and its
 * interval costs the scan; 29% of the generated instructions are CONSTs, most used once by
 * the next instruction. So, of the values of a register class,
 *   RA_SLOT_CONST      a CONST's result that crosses no clobber,
 *   RA_SLOT_CONST_ALL  every CONST's result,
 *   RA_SLOT_SHORT      a value whose last use is at most the next instruction (interval end
 *                      - start <= 2: an unused value, or one only the next instruction reads)
 *                      and that crosses no clobber,
 * are left in their slots (RA_NONE, reg AF_REG_NONE; loc keeps cls, crosses and allowed) and
 * take no part in the scan: they hold no register and evict none. Values crossing a clobber
 * (a call, MIX, a runtime helper) still get the callee-saved registers the callee-saved
 * checks and mutants need. ra_opts_default sets RA_SLOT_DEFAULT, CONST | SHORT (callgrind,
 * tests/perf_pipeline 300, per case against the rule before: CONST -5.2 k, CONST_ALL -5.5 k,
 * SHORT -11.0 k, CONST | SHORT -12.1 k; every non-crossing value in its slot would be -14 k
 * but leave long-lived values no register at all); 0 is the rule before session 9 (every
 * value of a class is given a register or spilled). Whether a value is a CONST's result is
 * read from its defining instruction, insts[start >> 1], only when the rule needs it.
 *
 * Registers. RSP and RBP are never allocated (frame). `opts.scratch` (default
 * RA_SCRATCH_DEFAULT = RAX RCX RDX R8-R11, XMM0-XMM5, lower.h's scratch rule) stays the
 * lowering's. What remains, in this canonical order (the order ties are broken in, and
 * the order `max_gpr` / `max_xmm` cut the set to its first N for tests):
 *   GPR: RSI RDI RBX R12 R13 R14 R15 [R8 R9 R10 R11 RAX RCX RDX if not scratch]
 *   XMM: XMM6 .. XMM15 [XMM0 .. XMM5 if not scratch]
 * RSI RDI are callee-saved under Win64 and caller-saved under SysV (psABI 3.2.1 fig. 3.4;
 * Microsoft "x64 calling convention", Callee/caller saved registers); XMM6-XMM15 likewise.
 *
 * Positions. Doubled, so that an operand read and a result write of one instruction can be
 * told apart: parameters are defined at -1, instruction i defines its result at 2i+1 and
 * reads its operands at 2i+1 (default) or at 2i (opts.reuse_operand). An interval is
 * [definition, last use] closed; an unused value's interval is [def, def] (it still gets a
 * location: the lowering writes it). Two values share a register only if their intervals
 * are disjoint. So by default an instruction's result never shares a register with one of
 * its operands (the lowering may write the result before it has read every operand); with
 * reuse_operand it may share with an operand whose last use is that instruction (the
 * lowering must then read every operand before writing the result).
 *
 * Clobbers. A clobbering instruction destroys every register not in its `preserved` mask:
 *   RA_CLOB_CALL     the registers die after the operands are read and before the result
 *                    is written: AF_OP_CALL (preserved = callee_saved of the CALLEE's
 *                    convention). A value crosses it iff defined before instruction i and
 *                    used after it. The call sequence may then find an argument in a
 *                    register it is about to load another argument into (RSI, RDI, XMM6,
 *                    XMM7 under SysV): it must move arguments as a parallel move. With
 *                    opts.call_args_survive, CALLs are SURVIVE instead: no argument is then
 *                    ever in a register the callee may clobber, which includes every
 *                    argument register (each is caller-saved in its own convention).
 *   RA_CLOB_SURVIVE  the registers die while operands are still needed: the operands of i
 *                    cross it too. MIX (jit/lower_mix.c: a jit_rt_fold call per aggregate,
 *                    pointer or f80 operand, the others folded inline in the registers such
 *                    a call clobbers) and every runtime helper, whose argument registers
 *                    (RDI, RSI ...) lower_ops*.c loads before it has read every operand.
 * ra_default_clobber is the conservative rule: CALL (callee's convention); MIX; FCONV/ITOF/
 * FTOI touching f16; ITOF/FTOI with an i128/u128/u64 integer side or an f80 float side;
 * MUL/SHL/LSHR/ASHR/CMP of i128/u128; GET/SET of a bit-field (SURVIVE, SysV: lower.h's
 * helpers are SysV): a superset of what lower_ops*.c hands to lower_rt.c. The lowering
 * may pass its exact rule as opts.clobber. A value that crosses clobbers is only given a
 * register in the AND of their preserved masks; values in a caller-saved register never
 * cross a call, so the lowering needs no caller-save code around calls. A result is
 * written after the call (a CALL's from RAX/XMM0..., a helper's from its memory). So
 * call-crossing values always sit in registers the callee preserves (callee-saved in ITS
 * convention), and the ranks below keep the others in caller-saved ones where they can.
 *
 * Algorithm: linear scan (Poletto & Sarkar, TOPLAS 1999). Values are already in start
 * order (SSA ids follow definitions), so there is no sort. For each value: expire active
 * intervals that ended; take its hint (opts.hint) if that is free and allowed, else pick
 * a free register in its allowed mask by rank
 *   0 not callee-saved in the own convention (free of prologue cost),
 *   1 own-callee-saved and already used,  2 own-callee-saved and new;
 * a value that crosses no clobber prefers, at equal rank, a register no call preserves
 * (keeping preserved ones for values that cross calls). If none is free: among active
 * values holding a register it may use, the one ending furthest (of equal ends, the latest
 * defined) is spilled and its register taken if it ends after the current value; else the current
 * value is spilled. No spilled value could have had a register without moving another one: for
 * every register r it may use, some value in r meets its interval. (A value evicted by w has w
 * inside its interval, so every clobber w crosses it crosses too and w may use all it may; when a
 * value is spilled or evicted, every holder of such an r ends no later than it, and a holder
 * evicted later hands r to a value starting before that end.) The sweep in tests/test_regalloc.c
 * checks this on every function.
 *
 * Cost: O(V + I) for the scan (live values are kept per register, and expire through one
 * list per interval end, walked once in position order; only a spill looks at the <= R = 30
 * registers, for the victim) and O(I) to index the clobbering instructions (each one's kind
 * among K <= RA_MAX_CLOBBER_KINDS distinct kind/preserved pairs, 3 with the default rule, and
 * the next clobbering instruction from each position); a value's crossed mask walks the
 * clobbers in its interval, stopping once the mask is the AND of all K (every function with a
 * MIX has a clobber). The pick in the canonical order is a few mask tests. No heap
 * allocation: the work arrays live on the stack (~20 KB) and the result (~17 KB) is the
 * caller's, fixed-size.
 * Lean mode (ra_opts.vreg_out, what the lowering uses): the same allocation, but the scan
 * writes one register byte per value instead of a location, keeps the lowering's counts as it
 * gives and takes registers, expires the holders of the value's class's 16 registers with one
 * SSE2 compare of their ends instead of per-end lists (the other class's when a value of
 * theirs comes), and walks the clobbers as a list (values come in start order, so its cursor
 * only moves forward). Its register sets number the registers in canonical order (regalloc.c,
 * canon_reg), so the pick's first in canonical order is the lowest bit. The interval walk
 * notes whether every result is the next value id (w->in_order); if not (values defined twice,
 * never, or out of order: the verifier rejects all three), lean mode takes the reference scan,
 * which names the first value never defined as the scan would. tests/test_regalloc.c checks
 * lean mode against the locations on every allocation it compares, and its errors against
 * the full mode's.
 *
 * What the lowering must respect:
 * - parameters arrive in argument registers that may be allocated to other values (a
 *   SysV parameter in RDI may be given RSI and the one in RSI RDI): the prologue moves
 *   them as a parallel move; so must a CALL's argument setup unless call_args_survive;
 * - a CALL's result is written to its register after the call returns;
 * - no instruction may touch an allocatable register implicitly: RSI/RDI are allocatable,
 *   so no rep movs/stos (or pass them in opts.scratch); every helper call must be one
 *   the clobber rule declares;
 * - the allocator fixes where a value lives, not how its bits lie in the register: a
 *   narrow integer is best kept as lw_load_int leaves it (extended to 64 bits), an f32 /
 *   cf32 / f64 in the low bytes of its XMM register;
 * - the prologue saves exactly callee_saved_used (Win64 XMM6-XMM15: all 128 bits, since
 *   m128 values live there and Microsoft requires the low 128 bits preserved) and the
 *   epilogue restores them; scratch registers stay free between instructions. */

typedef enum { RA_NONE = 0, RA_REG, RA_SPILL } ra_kind;
typedef enum { RA_CLASS_NONE = 0, RA_CLASS_GPR, RA_CLASS_XMM } ra_class;
typedef enum { RA_CLOB_NONE = 0, RA_CLOB_CALL, RA_CLOB_SURVIVE } ra_clob_kind;
/* ra_opts.slot_rule's bits (see Slot rule) */
enum { RA_SLOT_CONST = 1, RA_SLOT_CONST_ALL = 2, RA_SLOT_SHORT = 4 };
#define RA_SLOT_DEFAULT (RA_SLOT_CONST | RA_SLOT_SHORT)

#define RA_BIT(r) (1ull << (r))
#define RA_SCRATCH_DEFAULT                                                                         \
  (RA_BIT(AF_RAX) | RA_BIT(AF_RCX) | RA_BIT(AF_RDX) | RA_BIT(AF_R8) | RA_BIT(AF_R9) |              \
   RA_BIT(AF_R10) | RA_BIT(AF_R11) | RA_BIT(AF_XMM0) | RA_BIT(AF_XMM1) | RA_BIT(AF_XMM2) |         \
   RA_BIT(AF_XMM3) | RA_BIT(AF_XMM4) | RA_BIT(AF_XMM5))
/* Never allocated, whatever the options say. */
#define RA_RESERVED          (RA_BIT(AF_RSP) | RA_BIT(AF_RBP) | RA_BIT(AF_ST0))
#define RA_MAX_VALUES        (AF_MAX_PARAMS + AF_MAX_INSTS)
#define RA_MAX_CLOBBER_KINDS 8 /* distinct (kind, preserved) pairs in one function */

/* What one instruction does to registers. */
typedef struct {
  ra_clob_kind kind;
  uint64_t preserved; /* registers that survive it (bit per af_reg) */
} ra_clobber;

typedef ra_clobber (*ra_clobber_fn)(void *user, const af_case *c, const af_func *f,
                                    const af_inst *in);

typedef struct {
  uint64_t scratch;      /* the lowering's registers: never allocated */
  int max_gpr, max_xmm;  /* 0: no cap; N: only the first N allocatable (tests) */
  int reuse_operand;     /* see Positions above */
  int call_args_survive; /* see Clobbers above */
  /* NULL, or [nvalues] a preferred af_reg per value (-1: none), taken when it is free
   * and allowed: e.g. a parameter's incoming register, to spare the prologue a move */
  const int8_t *hint;
  uint32_t mutants;      /* reserved for injectable allocator bugs (doc/mutants.md) */
  ra_clobber_fn clobber; /* NULL: ra_default_clobber */
  void *clobber_user;
  /* NULL, or [ninsts] every instruction's clobber, already computed (the lowering computes
   * them once for itself too): used instead of calling `clobber` */
  const ra_clobber *clobbers;
  /* 1: leave ra_result.stats zero (the lowering never reads them; tests and ra_print do) */
  int no_stats;
  /* tests: 1 runs the reference scan (an active list sorted by end, the one intervals out of
   * definition order take) instead of the per-register one; both must give the same result */
  int reference_scan;
  /* NULL, or [nvalues]: the lowering's compact result (lean mode). Each value's register
   * (loc[v].reg of a RA_REG value) or AF_REG_NONE is written here, and ra_result's lean_*
   * counts are filled, instead of ra_result.loc (left unwritten) and the stats (zero, as with
   * no_stats). The allocation is the same; only what is written differs. */
  int8_t *vreg_out;
  /* RA_SLOT_* bits: which values of a register class stay in their slots (see Slot rule) */
  int slot_rule;
} ra_opts;

typedef struct {
  uint8_t kind;       /* ra_kind */
  uint8_t cls;        /* ra_class */
  uint8_t crosses;    /* 1: live across at least one clobbering instruction */
  int8_t reg;         /* af_reg when kind == RA_REG, else AF_REG_NONE */
  int16_t start, end; /* interval, in doubled positions (see Positions) */
  uint64_t allowed;   /* registers it may use (class, options, crossed clobbers) */
} ra_loc;

typedef struct {
  int values_gpr, values_xmm; /* values of each class */
  int in_reg;                 /* values given a register */
  int spilled;                /* GPR/XMM values left in their slot */
  int slot_class;             /* RA_NONE values */
  int crossing;               /* GPR/XMM values live across a clobber */
  int crossing_in_reg;        /* ... of them in a register preserved by those clobbers */
  int crossing_callee_saved;  /* ... of them in an own-convention callee-saved register */
} ra_stats;

typedef struct {
  int fn;
  int nvalues;
  ra_loc loc[RA_MAX_VALUES];
  uint64_t regs_used;         /* every register some value was given */
  uint64_t callee_saved_used; /* regs_used & own convention's callee_saved: save these */
  ra_stats stats;
  /* registers some clobbering instruction destroys (the OR of their ~preserved): what the
   * lowering's save set needs of the clobbers */
  uint64_t clobbered;
  /* lean mode only (ra_opts.vreg_out): the values given a register, and per register r the
   * values in r that cross a clobber (loc's kind == RA_REG, reg == r, crosses) */
  int lean_in_reg;
  int16_t lean_crossing[AF_REG_COUNT];
} ra_result;

void ra_opts_default(ra_opts *o);
ra_class ra_value_class(const af_case *c, int type);
/* The registers values of class `cls` may get under `o` (cap applied). */
uint64_t ra_allocatable(const ra_opts *o, ra_class cls);
/* The conservative clobber rule (see Clobbers); `user` is unused. */
ra_clobber ra_default_clobber(void *user, const af_case *c, const af_func *f, const af_inst *in);
/* Whether ra_default_clobber may give an instruction of this op anything but RA_CLOB_NONE: the
 * ops that call, or may call a runtime helper. Inline, so that a caller walking every
 * instruction (lower.c) calls ra_default_clobber only for those. */
static inline int ra_op_may_clobber(int op) {
  /* the ops below as one mask (a switch on the op was a few instructions more per
   * instruction, and the lowering's walks ask for every one) */
  const uint64_t may = 1ull << AF_OP_CALL | 1ull << AF_OP_MIX | 1ull << AF_OP_FCONV |
                       1ull << AF_OP_ITOF | 1ull << AF_OP_FTOI | 1ull << AF_OP_MUL |
                       1ull << AF_OP_SHL | 1ull << AF_OP_LSHR | 1ull << AF_OP_ASHR |
                       1ull << AF_OP_CMP | 1ull << AF_OP_GET | 1ull << AF_OP_SET;
  _Static_assert(AF_OP_COUNT <= 64, "ra_op_may_clobber's mask");
  return (unsigned)op < 64 && (may >> op & 1);
}
/* Allocates registers for function `fn` of `c` (af_fn_finish done). AF_OK; AF_ERR_INVALID
 * for a bad function index or operand; AF_ERR_LIMIT beyond RA_MAX_CLOBBER_KINDS. err may
 * be NULL. */
af_status ra_allocate(const af_case *c, int fn, const ra_opts *o, ra_result *out, af_error *err);
/* One line per value and a summary (debugging). */
void ra_print(const af_case *c, const ra_result *r, FILE *out);

#endif
