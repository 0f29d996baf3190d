/* xi.h - an interpreting x86-64 emulator with Unicorn's API shape, for the JIT's instruction set.
 */
#ifndef ABIFUZZ_HARNESS_XI_H
#define ABIFUZZ_HARNESS_XI_H

/* Why: a case's JIT code is straight-line, so every instruction runs about once. Unicorn
 * translates each one with TCG before running it (~2 ms a case, 91% of the emulation leg,
 * doc/benchmarks.md); an interpreter decodes and executes it in place. xi runs exactly the
 * instruction set the JIT's encoder can emit (jit/x86_table.c: integer, SSE/SSE2 scalar and the
 * moves, x87) plus the trap page's `ret` and `int3`; anything else stops the run with
 * UC_ERR_INSN_INVALID at that instruction. The Unicorn engine stays: emu-cc runs compiled C in
 * it, and it is the cross-check (doc/emulator.md).
 *
 * The API mirrors the part of Unicorn's the emulation leg uses (harness/emu*.c), with Unicorn's
 * own constants (uc_err, UC_HOOK_*, UC_X86_REG_*, UC_PROT_*, uc_mem_type), so the leg drives
 * either engine through one thin switch. Semantics that matter, as in Unicorn 2.0.1:
 *
 * - Memory: guest address = the host pointer of a mapped region plus the offset (the leg maps
 *   host memory at its own address). An access is valid when every byte lies in mapped regions
 *   with the permission; otherwise the UC_HOOK_MEM_INVALID hooks run (type UC_MEM_READ_UNMAPPED,
 *   UC_MEM_WRITE_UNMAPPED, UC_MEM_FETCH_UNMAPPED or the *_PROT one) and, as none of ours returns
 *   true, xi_emu_start returns UC_ERR_READ_UNMAPPED / WRITE_UNMAPPED / FETCH_UNMAPPED /
 *   READ_PROT / WRITE_PROT / FETCH_PROT with RIP at the faulting instruction; nothing of that
 *   instruction is committed.
 * - UC_HOOK_CODE [begin, end] (begin > end: every address): called before the instruction at
 *   that address runs, with its length. If a hook writes RIP or calls xi_emu_stop, the
 *   instruction is not executed (the leg performs calls and x87 loads itself this way).
 * - UC_HOOK_MEM_READ / UC_HOOK_MEM_WRITE [begin, end]: called before each data access that
 *   overlaps the range, with the access's address and size (and the value for writes), with
 *   RIP = the accessing instruction and the registers as before it (a push's write is seen with
 *   the old RSP). An instruction's own accesses, in order (movs: read then write).
 * - UC_HOOK_BLOCK: called when a run starts and after every control transfer (jmp, jcc taken
 *   or not, call, ret, a hook's RIP write), with size 0.
 * - xi_emu_start(begin, until, timeout_us, count): runs from begin until RIP == until (not
 *   executed), xi_emu_stop, an error, `count` instructions executed (0: no limit) or
 *   timeout_us microseconds of wall clock (0: none; checked every few thousand instructions).
 *   Hitting count or the timeout returns UC_ERR_OK with RIP at the next instruction, as in
 *   Unicorn; xi_stats tells which. int3 returns UC_ERR_EXCEPTION, ud2 and undecodable bytes
 *   UC_ERR_INSN_INVALID, a division fault UC_ERR_EXCEPTION; RIP at the instruction.
 * - Registers: UC_X86_REG_RAX..R15 (64-bit ids), RIP, RFLAGS/EFLAGS (8 bytes), XMM0-15 (16
 *   bytes), MXCSR (4 bytes), FPSW (2 bytes, TOP in bits 11-13), FPCW (2), FPTAG (2), ST0-ST7
 *   (10 bytes, relative to TOP; a write tags the register valid), FP0-FP7 (10 bytes, physical).
 *   Others: UC_ERR_ARG.
 * - Floating point runs on the host's units with the guest's control words loaded around each
 *   instruction (MXCSR, x87 CW), so results, rounding, NaN quieting and the sticky exception
 *   flags are the hardware's; x87 stack faults are not modelled (as in QEMU).
 *
 * Where xi deliberately differs from Unicorn 2.0.1 (tests/test_xi.c checks each; the hardware
 * is the reference where there is one, tests/test_xi_diff.c):
 * - results and flags are the hardware's: Unicorn differs on the SDM's undefined flags (imul,
 *   mul, div, shifts, shld/shrd, bt), MXCSR's sticky flags, DAZ/FTZ, x87 C1, FLDCW's reserved
 *   bits, FUCOMIP's flags, sNaN loads (FLD m32/m64 quiets them);
 * - the hardware's faults: movaps/movapd/movdqa and m128 operands of the other legacy SSE
 *   instructions misaligned (#GP), LDMXCSR with reserved bits (#GP), an SSE exception unmasked
 *   in MXCSR (#XM), #DE: UC_ERR_EXCEPTION at the instruction; Unicorn runs them on;
 * - RIP in a memory hook is the accessing instruction (Unicorn's is stale after SSE, x87 and
 *   xchg accesses); int3 leaves RIP at the int3 (Unicorn: after it);
 * - a fetch fault is precise: the instructions before it run, RIP is the first byte that cannot
 *   be fetched (Unicorn faults at the block's start before running any of it);
 * - UC_HOOK_BLOCK gets size 0 (Unicorn: the translation block's size), and none when a
 *   transfer lands on `until`; a hook that deletes itself is not called again (Unicorn keeps
 *   calling it for blocks it translated); no code hook for bytes xi does not decode (Unicorn
 *   calls it with a garbage size);
 * - a new engine is the hardware after reset: FPCW 0x37f, MXCSR 0x1f80, every x87 register
 *   empty (Unicorn: 0, 0, all tagged valid); an ST write tags the register valid (Unicorn
 *   leaves the tags); MXCSR writes keep the low 16 bits;
 * - instructions: the table's, plus std (the df-left-set mutant's); no VEX (__m256 parts).
 * Invalid-access hooks returning true do not retry the access (the leg's never do).
 *
 * Not thread-safe: one engine per thread. */

#include <stddef.h>
#include <stdint.h>

#include <unicorn/unicorn.h>

typedef struct xi xi;
typedef struct xi_context xi_context;

uc_err xi_open(xi **out);
void xi_close(xi *x);

/* Maps [addr, addr + size) of the guest onto host memory ptr (page-aligned addr and size, as
 * Unicorn), prot a UC_PROT_* mask. Overlapping an existing mapping: UC_ERR_MAP. */
uc_err xi_mem_map_ptr(xi *x, uint64_t addr, size_t size, uint32_t perms, void *ptr);
/* Removes a mapping made with exactly that range. */
uc_err xi_mem_unmap(xi *x, uint64_t addr, size_t size);

uc_err xi_reg_read(xi *x, int regid, void *value);
uc_err xi_reg_write(xi *x, int regid, const void *value);

/* xi only (no Unicorn equivalent): the engine's register file itself, for a caller that reads
 * or writes many registers at a time, or one register at every memory access (the emulation
 * leg: all GPRs and XMMs at a call, RSP at every stack access), where xi_reg_read/xi_reg_write
 * cost a call and a switch per register. Valid until xi_close; read and write it wherever
 * xi_reg_read/xi_reg_write may be called (between runs, from hooks), with their meaning: a code
 * hook that changes rip skips the instruction. What xi_reg_write would enforce is then the
 * caller's: rflags bit 1 set, mxcsr's bits 16-31 clear. The x87 fields are xi's internal form
 * (physical registers, TOP in fsw bits 11-13, fempty bit i: FPi empty): use xi_reg_read /
 * xi_reg_write (ST0-7, FPSW, FPTAG) for them. */
typedef struct {
  uint64_t gpr[16]; /* RAX RCX RDX RBX RSP RBP RSI RDI R8-R15: the encoding's order */
  uint64_t rip;
  uint64_t rflags;
  uint8_t xmm[16][16] __attribute__((aligned(16)));
  uint32_t mxcsr;
  uint16_t fcw, fsw;                              /* fsw holds TOP in bits 11-13 */
  uint8_t fempty;                                 /* bit i: physical register i is empty (tag 11) */
  uint8_t st[8][16] __attribute__((aligned(16))); /* FP0-FP7, 10 bytes each */
} xi_regs;
xi_regs *xi_regs_get(xi *x);

/* Callbacks have Unicorn's types (uc_cb_hookcode_t, uc_cb_hookmem_t, uc_cb_eventmem_t); their
 * uc_engine argument is NULL. type: UC_HOOK_CODE, UC_HOOK_BLOCK, UC_HOOK_MEM_READ,
 * UC_HOOK_MEM_WRITE, or a mask of the invalid-access kinds (UC_HOOK_MEM_INVALID). Cheap with
 * a few hundred one-address code hooks. */
uc_err xi_hook_add(xi *x, uc_hook *hh, int type, void *callback, void *user_data, uint64_t begin,
                   uint64_t end);
uc_err xi_hook_del(xi *x, uc_hook hh);
/* xi only (no Unicorn equivalent): code hook hh (UC_HOOK_CODE) is called only before the
 * instructions whose opcode is one of ops[0..n): a one-byte-map opcode (the byte after the
 * prefix and REX) as 0x00-0xFF, a 0F-map one as 0x100 | its second byte. For a hook that does
 * nothing on other instructions (the emulation leg's one hook on every address, which only
 * acts on calls and returns): a run then skips the call and the check on the rest. Calling it
 * again replaces the set. UC_ERR_ARG: hh is no code hook of x, or an opcode is over 0x1FF. */
uc_err xi_hook_code_ops(xi *x, uc_hook hh, const uint16_t *ops, size_t n);

uc_err xi_emu_start(xi *x, uint64_t begin, uint64_t until, uint64_t timeout_us, size_t count);
void xi_emu_stop(xi *x); /* from a hook: the run stops before the next instruction */

/* The whole CPU state (registers, flags, x87, MXCSR), as uc_context_*. */
uc_err xi_context_alloc(xi *x, xi_context **ctx);
uc_err xi_context_save(xi *x, xi_context *ctx);
uc_err xi_context_restore(xi *x, const xi_context *ctx);
void xi_context_free(xi_context *ctx);

typedef struct {
  uint64_t insns;     /* instructions executed over the engine's life */
  uint64_t runs;      /* xi_emu_start calls */
  int last_timed_out; /* the last run stopped on its timeout */
  int last_count_hit; /* the last run stopped on its instruction count */
} xi_stats;
void xi_stats_get(const xi *x, xi_stats *out);

#endif
