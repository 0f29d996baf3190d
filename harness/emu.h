/* emu.h - the emulation legs' engine: JIT code run instruction by instruction (xi or Unicorn),
 * checked. */
#ifndef ABIFUZZ_HARNESS_EMU_H
#define ABIFUZZ_HARNESS_EMU_H

/* One engine per worker process (issue 5, doc/emulator.md). It runs a case's JIT-compiled entry
 * in an emulator (xi, harness/xi.h, or Unicorn: af_emu_cfg.engine) with host memory mapped at the
 * same addresses (uc_mem_map_ptr: the code, the objects, a stack of its own), entered with the
 * registers and stack af_classify gives, and returning to a sentinel address. Host functions are
 * trap addresses in a page of the engine's own: a hook there checks the call like the native
 * callout probe and answers it from the interpreter's trace. Between the calls it checks every call
 * site's RSP alignment, every write to the stack (below RSP, beyond the red zone, into the caller's
 * frame), every read of stack bytes nothing wrote, and at the return the callee-saved registers,
 * RSP, DF and MXCSR.
 *
 * Without Unicorn and Capstone (AF_HAVE_UNICORN, AF_HAVE_CAPSTONE) af_emu_new returns
 * AF_ERR_UNSUPPORTED. Not thread-safe: one engine per thread. */

#include <stdint.h>

#include "gen.h"
#include "legs.h"

typedef struct af_emu af_emu;

#define AF_EMU_OFF UINT64_MAX /* a budget switched off (benchmarks; a hang then hangs) */

/* Which emulator runs the code (doc/emulator.md "The engines"). Both run the same hooks and
 * checks and give the same findings on the JIT's code (tests/test_emu_engines.c):
 *   AF_EMU_XI       xi (harness/xi.h), an interpreter of the JIT's instruction set: no
 *                   translation, an exact instruction count; the `emu` leg. An instruction it
 *                   does not have stops the run as a "crash" (UC_ERR_INSN_INVALID).
 *   AF_EMU_UNICORN  Unicorn 2 (QEMU's TCG): any x86-64 code but AVX; `emu-unicorn` (the
 *                   cross-check) and `emu-cc` (compiled C). */
typedef enum { AF_EMU_XI = 0, AF_EMU_UNICORN = 1 } af_emu_engine;

typedef struct {
  uint64_t max_insns;  /* instruction budget per run; 0: 4,000,000; AF_EMU_OFF: none */
  uint64_t timeout_us; /* wall-clock limit per run; 0: 2 s; AF_EMU_OFF: none */
  uint64_t garbage;    /* seed of the garbage in every undefined register and stack byte */
  uint64_t recycle;    /* runs per Unicorn engine before a fresh one; 0: 256 (xi: unused) */
  int engine;          /* af_emu_engine; 0: AF_EMU_XI */
} af_emu_cfg;

/* Opens the engine (xi or Unicorn, and Capstone), maps its stack, object area and trap page, saves
 * the initial CPU context. cfg may be NULL (defaults). AF_ERR_UNSUPPORTED: built without
 * Unicorn/Capstone, or they failed to open (err says why). */
af_status af_emu_new(const af_emu_cfg *cfg, af_emu **out, af_error *err);
void af_emu_free(af_emu *e);

/* Runs job j once: compiles it (j->cfg->inject; the native legs' shared compile,
 * af_leg_compile_native) with every host function replaced by a trap,
 * maps the code, marshals the entry's inputs, calls sink->begin(sink->u, j, leg) just before
 * the run starts, runs, and checks. Findings go to fs (leg name `leg`); the caller calls
 * sink->end. AF_ERR_UNSUPPORTED with *skip (a constant sentence) when the case cannot be
 * emulated (AVX code, __m256 values, a case the JIT refuses); then begin was not called.
 * sink may be NULL. */
af_status af_emu_run(af_emu *e, const af_job *j, const af_leg_sink *sink, const char *leg,
                     af_findings *fs, const char **skip);

/* emu-cc (the sanity leg, doc/emulator.md "emu-cc"): as af_emu_run, but the entry is called by
 * `call`, a compiled caller stub S_call(fn, args, ret) of the entry's signature (oracle.h's
 * af_stub_call_fn), and the whole call runs in the engine: the stub's code, the JIT code, the
 * host calls at their traps. The stub's shared object is mapped at its host addresses (nothing
 * else of the process is); its frame is held to SysV's rules (red zone, its frame and its
 * return buffer), the entry to its convention's at its return; after the stub's return the
 * SysV callee-saved registers, RSP, DF, MXCSR, and the value the stub stored vs the
 * interpreter. AF_ERR_UNSUPPORTED with *skip as af_emu_run, or when the stub calls outside
 * its own code ("emu-cc: the stub calls outside its code"). */
af_status af_emu_run_stub(af_emu *e, const af_job *j, void (*call)(void *, void *const *, void *),
                          const af_leg_sink *sink, const char *leg, af_findings *fs,
                          const char **skip);

/* Counters over the engine's life, for benchmarks. */
typedef struct {
  uint64_t runs, skips;
  uint64_t insns_budget_hit; /* runs that hit the instruction budget or the timeout */
  uint64_t host_calls, helper_calls, call_sites;
} af_emu_stats;
void af_emu_stats_get(const af_emu *e, af_emu_stats *out);

#endif
