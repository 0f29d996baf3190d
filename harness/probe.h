/* probe.h - the native probes: an assembly caller and callout stubs that check the convention. */
#ifndef ABIFUZZ_HARNESS_PROBE_H
#define ABIFUZZ_HARNESS_PROBE_H

/* Two probes (harness/probe.S, doc/probes.md):
 *
 *  - af_probe_call: calls code under test as a correct caller of its convention would, from a
 *    register image and a stack image built from af_classify (canaries in the callee-saved
 *    registers, garbage everywhere the convention leaves undefined), on a probe stack of its
 *    own, and records every register, the flags, MXCSR and the x87 state after the return.
 *  - af_callout_K (K < AF_MAX_FUNCS): what code under test calls instead of host function K.
 *    It records the registers at the call, checks them and the arguments against the
 *    interpreter's trace of that call, calls the real implementation with the same registers
 *    and stack, then returns with every volatile register garbage and the callee-saved ones as
 *    they were at the call.
 *  - af_interpose_K: what code under test calls instead of JIT function K (every function but
 *    the entry and the host ones): the callout's checks at the call, then the call probe's
 *    around the real code of K, and back to the caller repaired.
 *
 * af_probe_run ties them together for one run of a case's entry. The probes use one global
 * state (the worker is single-threaded per process): the frame of the af_probe_call in flight,
 * the callout's register image, the interposers' shadow stack of frames and the af_probe of
 * the run in flight. Nothing here is thread-safe; one af_probe_run at a time per process. */

#include <stdint.h>

#include "gen.h"
#include "legs.h"

/* ---- the register image the assembly reads and writes (offsets fixed: probe.S) ---------- */
typedef struct {
  uint64_t gpr[16];    /*   0: indexed by af_reg AF_RAX..AF_R15 */
  uint8_t xmm[16][16]; /* 128: XMM0-15, 128 bits each */
  uint64_t rflags;     /* 384 */
  uint32_t mxcsr;      /* 392 */
  uint16_t fcw;        /* 396: x87 control word */
  uint16_t pad;
} af_probe_regs; /* 400 bytes */

/* One call by af_probe_call. `in.gpr[AF_RSP]` is RSP at the call instruction (the stack image
 * must already lie there); `in.rflags` is ignored (DF is cleared). */
typedef struct {
  af_probe_regs in;    /*   0: registers at the call (MXCSR and x87 CW included) */
  af_probe_regs out;   /* 400: after the return (out.gpr[AF_RSP]: RSP after it) */
  const void *target;  /* 800 */
  uint64_t x87_ret;    /* 808: 1: the target returns in ST0, popped into st0 */
  uint8_t fenv[32];    /* 816: fnstenv after the return (28 bytes: CW, SW, TW at 0, 4, 8) */
  uint8_t st0[16];     /* 848: fstpt of ST0 (x87_ret) */
  uint64_t host_rsp;   /* 864: the probe's own */
  uint32_t host_mxcsr; /* 872 */
  uint16_t host_fcw;   /* 876 */
  uint16_t pad;
} af_probe_frame;

/* Calls f->target from the register image (SysV-callable from C). Saves and restores the
 * host's callee-saved registers, MXCSR and x87 control word; leaves the x87 stack empty. */
void af_probe_call(af_probe_frame *f);

/* The garbage patterns of the native and garbage legs (af_probe_opts.garbage), here so that
 * replay re-runs a case with exactly what the leg used: the native leg's fixed pattern, and the
 * garbage leg's second one, derived from (campaign seed, case index). */
#define AF_PROBE_NATIVE_GARBAGE 0x6a7ba6e5eedull
static inline uint64_t af_probe_garbage_seed(uint64_t seed, uint64_t index) {
  return af_fold_u64(af_fold_u64(0x9a5ba9e, seed), index);
}

/* The runtime-helper probe (af_jit_opts.rt_probe): counts the helper calls made with RSP
 * misaligned (af_rt_probe_bad; the last one's RSP at the call in af_rt_probe_rsp) and runs
 * the helper on an aligned stack. af_probe_run resets and checks them (`stack-align`). */
void af_rt_probe(void);
extern uint64_t af_rt_probe_bad, af_rt_probe_rsp;

/* The callout entry points, af_callout_0 .. af_callout_15 (harness/probe.S): a table. */
extern const void *const af_callouts[AF_MAX_FUNCS];

/* The nested interposers af_interpose_0 .. af_interpose_15 (probe.S, probe_interpose.c): what
 * code under test calls instead of JIT function K (every function but the entry and the host
 * ones). Entered by the JIT caller's call, af_interpose_K checks the call as a callout does
 * (and every argument against the trace's record of it, want->calls[m]), calls the real code
 * of K (af_probe_opts.code[K]) at the same RSP with canaries in the callee-saved registers of
 * its convention and garbage in every other undefined bit, then checks what the callee owed
 * its caller (as the call probe does, "REG in fK") and its return value, and returns to the
 * caller with its callee-saved registers restored and every volatile one garbage but the
 * return value. They nest (a shadow stack of frames: f0 -> f1 -> f2 -> a callout). */
extern const void *const af_interposers[AF_MAX_FUNCS];

/* ---- one run of a case's entry through both probes ------------------------------------ */
typedef struct af_probe af_probe;

/* A probe: its 256 KiB stack and scratch memory, allocated once. */
af_status af_probe_new(af_probe **out);
void af_probe_free(af_probe *p);

/* Why this probe cannot run case c (a short constant sentence), NULL if it can. */
const char *af_probe_unsupported(const af_case *c);

typedef struct {
  const af_case *c;
  const af_interp_result *want; /* the trace (calls) the callouts and interposers compare with */
  const void *entry;            /* code of c->entry to call */
  const void *const *real;      /* [c->nfuncs]: real implementation of each host function */
  uint8_t *const *objects;      /* [c->nobjects]: the object regions (64-aligned) */
  uint64_t garbage;             /* seed of the garbage pattern in every undefined bit */
  const char *leg;              /* the leg name findings carry */
  const void *const *code;      /* [c->nfuncs] or NULL: the code under test of each function the
                                   run calls through af_interposers (NULL where not) */
  /* [c->nfuncs] or NULL: af_classify's answer for every signature of c, when the caller has it
   * already (a compile of the same case classified them all): the run reads it (unchanged,
   * for the whole run) instead of classifying again (~2.5 k instructions a signature). NULL:
   * the run classifies. (Added in session 6 by helper PRB; read in place, not copied, since
   * session 9.) */
  const af_callinfo *ci;
  /* 1: the caller found af_probe_unsupported(c) NULL already (the native legs ask before they
   * compile): the run does not ask again. 0: the run asks. (Added in session 7 by helper RUN.) */
  int supported;
} af_probe_opts;

typedef struct {
  uint8_t ret[AF_MAX_TYPE_SIZE + 16]; /* the entry's return value as decoded (model bytes) */
  int nhost_calls;                    /* host calls the code under test made */
  int ncalls;        /* calls it made through the probes (callouts and interposers) */
  uint64_t checksum; /* gen.h's checksum of ret and the objects' bytes */
} af_probe_outcome;

/* Classifies every signature of c, marshals the entry's inputs (c->inputs; a ptr: the
 * address of its object), calls o->entry through af_probe_call and checks what the
 * convention requires of the callee ("callee-saved", "rsp", "df", "mxcsr", "x87cw",
 * "x87-stack", "sret-rax"); every host call goes through a callout, whose checks
 * ("stack-align", "df", "mxcsr", "x87cw", "vararg-al", "vararg-dup", "arg", "arg-ext",
 * "sret-ptr", "host-calls" for a call to another function than the trace's) are added to fs
 * too; with o->code, so does every call the JIT code makes to a function compiled to
 * af_interposers[K] (the callout's checks, "calls" for another callee than the trace's or for a
 * callee that made fewer / more calls than its body, then the call probe's on the callee,
 * "REG in fK", and "result" for its return value; what they name they repair). The call
 * index M in findings ("arg I of call M to fK") counts every call the run made through a probe,
 * in order: want->calls[M] with o->code, want->host_calls[M] without. Every caller frame lies in
 * the probe's own stack (sret and by-reference pointers must point there). The objects must hold
 * their initial contents; the caller compares ret and objects with the interpreter
 * (af_probe_check_outcome). AF_ERR_UNSUPPORTED: af_probe_unsupported. */
af_status af_probe_run(af_probe *p, const af_probe_opts *o, af_findings *fs, af_probe_outcome *out,
                       af_error *err);

/* The outcome's checks against the interpreter: "result" (return value), "objects" (final
 * bytes, "object K byte B"), "host-calls" (how many), "calls" (how many, with o->code). */
void af_probe_check_outcome(const af_probe_opts *o, const af_probe_outcome *out, af_findings *fs);

/* ---- mode "interpose": entered as the target of someone else's call ------------------- */
/* af_probe_enter stands where the code under test would be called (a compiled caller stub,
 * libffi): it pops the return address, calls `target` with the same registers and RSP but
 * canaries in the callee-saved registers of convention cc, checks them ("callee-saved"), RSP,
 * DF, MXCSR and the x87 CW after the return (findings into fs, named `leg`), restores the
 * callee-saved registers as the caller had them and returns to the caller with the target's
 * results. Arm it before each call; disarm returns how often it was entered since (global
 * state, like the other probes: its state is separate from theirs, so it may run under
 * af_probe_run, and then the target's host calls may be callouts; it never nests in itself). */
void af_probe_enter(void);
void af_probe_interpose_arm(af_cc cc, const void *target, af_findings *fs, const char *leg);
int af_probe_interpose_disarm(void);

/* ---- observing a run (abifuzz replay; added by helper R1) ------------------------------ */
/* What the probes saw, reported as it happens (so a run that crashes has shown every call up to
 * the crash). Off (NULL) unless set; af_probe_new leaves it off. */
typedef enum {
  AF_PROBE_EV_CALL,   /* a call reached a probe: regs = at the callee's entry (gpr[AF_RSP]:
                         the return address's slot), before any repair */
  AF_PROBE_EV_ARG,    /* argument `arg` of that call as the probe read it (got, size bytes;
                         NULL: a by-reference pointer outside the caller's stack), want: the
                         trace's value (NULL: no record) */
  AF_PROBE_EV_RETURN, /* the callee returned: regs = after its return (a callout: only RAX, RDX,
                         XMM0, XMM1 are filled, the rest are as at the call), got = the decoded
                         return value (NULL for an x87 return of a host function: not read),
                         want = the trace's */
} af_probe_ev_kind;

typedef struct {
  af_probe_ev_kind kind;
  int k, m;       /* the callee, the call's index among the run's probed calls */
  int interposed; /* 1: a JIT function behind af_interposers[k]; 0: a host callout */
  int depth;      /* interposer: shadow-stack depth; callout: -1 */
  int arg;        /* AF_PROBE_EV_ARG */
  const af_probe_regs *regs;
  const af_probe_regs *call; /* EV_RETURN of an interposed callee: what the callee got */
  const uint8_t *got;
  uint32_t size;
  const af_value *want;
  const af_host_call *rec; /* the trace's record of the call (NULL: none or another callee) */
} af_probe_event;

typedef void (*af_probe_observer)(void *u, const af_probe_event *ev);
/* Sets (fn NULL: clears) the observer of p's runs. */
void af_probe_set_observer(af_probe *p, af_probe_observer fn, void *u);
/* The last af_probe_run's entry call: registers at the call (in) and after the return (out),
 * fenv, st0. Valid until the next run or af_probe_free. */
const af_probe_frame *af_probe_last_frame(const af_probe *p);
/* The classification of function k the last run used (NULL out of range / before a run); with
 * af_probe_opts.ci, that array's entry (valid while it is), not a copy. */
const af_callinfo *af_probe_callinfo(const af_probe *p, int k);

/* The legs built on the probes (leg_native.c; registered in legs.c). */
extern const af_leg af_leg_native, af_leg_garbage;

#endif
