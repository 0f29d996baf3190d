/* mutants.h - private to jit/: the injectable ABI bugs ("mutants") and their hooks. */
#ifndef ABIFUZZ_JIT_MUTANTS_H
#define ABIFUZZ_JIT_MUTANTS_H

#include "gen.h"

/* One deliberate ABI bug each; af_jit_opts.inject names one (doc/mutants.md). The lowering
 * tests lower_ctx.mutant (resolved once per compilation); MUT_NONE costs nothing. */
typedef enum {
  MUT_NONE = 0,
  MUT_W64_XMM_UNSAVED,       /* callee: XMM6-15 used as scratch, not saved */
  MUT_W64_XMM_LOW64,         /* callee: only the low 64 bits of XMM6-15 saved */
  MUT_RBX_CLOBBERED,         /* callee: RBX used as scratch, not saved */
  MUT_R12_R15_CLOBBERED,     /* callee: R12-R15 used as scratch, not saved */
  MUT_W64_RSI_RDI_VOLATILE,  /* callee: Win64 RSI/RDI treated as volatile */
  MUT_RBP_NOT_RESTORED,      /* callee: epilogue drops the saved RBP */
  MUT_DF_SET,                /* callee: returns with DF set */
  MUT_MXCSR_ROUNDING,        /* callee: MXCSR rounding changed, not restored */
  MUT_VOLATILE_ACROSS_CALL,  /* caller: result address kept in R11 across the call */
  MUT_W64_NO_HOME,           /* caller: no 32-byte home space */
  MUT_W64_LOCALS_IN_HOME,    /* frame: values placed in the outgoing home space */
  MUT_MISALIGNED_CALLS,      /* frame: odd frame, RSP = 8 mod 16 at calls */
  MUT_W64_FLOAT_INDEX,       /* caller: Win64 XMM numbered by float index */
  MUT_W64_VARARG_NO_DUP,     /* caller: Win64 vararg float not copied to the GPR */
  MUT_SYSV_NO_AL,            /* caller: AL not set for a SysV variadic call */
  MUT_SRET_NOT_RETURNED,     /* callee: sret pointer not returned in RAX */
  MUT_SRET_IN_RAX,           /* caller: sret pointer passed in RAX */
  MUT_W64_STRUCT16_RAX_RDX,  /* caller: Win64 9-16 byte struct expected in RAX:RDX */
  MUT_SYSV_FLOAT_INT_SSE,    /* caller: {float,int} eightbyte classified SSE */
  MUT_SYSV_STRUCT_SPLIT,     /* caller: two-eightbyte struct split R9 / stack */
  MUT_SYSV_I128_SPLIT,       /* caller: __int128 split R9 / stack */
  MUT_SYSV_I128_NO_BACKFILL, /* caller: R9 unused after an __int128 went to the stack */
  MUT_NARROW_NOT_EXTENDED,   /* caller: bool/char/short not extended */
  MUT_CALLEE_READS_64,       /* callee: widens a 32-bit argument from all 64 bits */
  MUT_W64_BELOW_RSP,         /* frame: Win64 keeps 128 bytes of frame below RSP */
  MUT_SYSV_REDZONE_OVERRUN,  /* frame: SysV keeps 256 bytes of frame below RSP */
  MUT_W64_BYREF_NO_COPY,     /* caller: Win64 by-reference aggregate without a copy */
  MUT_STACK_ARGS_REVERSED,   /* caller: stack arguments in reverse order */
  MUT_STACK16_UNALIGNED,     /* caller: 16-aligned stack slots only 8-aligned */
  MUT_FLOAT_AS_DOUBLE,       /* caller: float argument passed as double */
  MUT_F80_IN_XMM0,           /* callee: long double returned in XMM0 */
  /* crash mutants: the entry itself dies, hangs or goes astray (crash isolation must report it
   * and carry on) */
  MUT_JIT_SEGV,      /* callee: the entry stores through a null base register */
  MUT_JIT_HANG,      /* callee: the entry loops forever (jmp .) */
  MUT_JIT_WILD_JUMP, /* callee: the entry calls a garbage absolute address */
  MUT_COUNT
} mutant_id;

typedef struct {
  const char *name;
  const char *desc;   /* what the JIT does wrong */
  const char *mimics; /* the real bug (project + issue) */
  const char *side;   /* "caller", "callee" or "frame" */
} mutant_info;

/* Entry m (1..MUT_COUNT-1); NULL otherwise. */
const mutant_info *mutant_info_get(int m);
/* NULL or "" -> MUT_NONE; an unknown name -> -1. */
int mutant_resolve(const char *name);

/* Caller side of a call to sig: applies a classification mutant to ci (af_classify's answer)
 * in one place. split_hi[i] >= 0 (else -1): argument i is split, its bytes 8..15 go to
 * [rsp + split_hi[i]] (the rest is in ci->args[i]'s registers). Nothing for other mutants. */
void mutant_adjust_callinfo(int m, const af_case *c, const af_sig *sig, af_callinfo *ci,
                            int32_t split_hi[AF_MAX_PARAMS]);

#endif
