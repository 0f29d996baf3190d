/* abi_internal.h - private declarations shared by abi.c and the two classifiers. */
#ifndef ABIFUZZ_ABI_INTERNAL_H
#define ABIFUZZ_ABI_INTERNAL_H

#include "gen.h"

/* af_divergence.match: which construct an entry is about. */
typedef enum {
  ABI_MATCH_RET_F80,            /* return type long double */
  ABI_MATCH_RET_M256,           /* return type __m256 */
  ABI_MATCH_RET_EMPTY,          /* return type a size-0 struct/union */
  ABI_MATCH_RET_I128,           /* return type __int128 / unsigned __int128 */
  ABI_MATCH_F16,                /* _Float16 argument or return */
  ABI_MATCH_I128_LAST_GPR,      /* SysV: i128 on the stack with only R9 free */
  ABI_MATCH_I128_VARARG_STACK,  /* SysV: an unnamed i128 passed in memory */
  ABI_MATCH_I128_STACK_PAD,     /* SysV: a named i128 on the stack after an 8-byte pad */
  ABI_MATCH_NAMED_YMM_VARIADIC, /* SysV: a named 32-byte YMM argument of a variadic function */
  ABI_MATCH_GCC_ARRAY_ALIGN,    /* SysV: misaligned field in a later array element */
  ABI_MATCH_GCC_UNION_ZW,       /* SysV: zero-width bit-field member of a union */
} abi_match_kind;

/* Counts the divergence entries a classified signature hits (abi.c). */
int abi_divergences_scan(const af_case *c, const af_sig *sig, const af_callinfo *ci,
                         const char **why);
/* The same with classify_sysv_quirks_reach(c, sig) known (*quirks; NULL: computed here). */
int abi_divergences_scan_q(const af_case *c, const af_sig *sig, const af_callinfo *ci,
                           const char **why, const unsigned *quirks);

/* The same count by every entry's matcher, without the scan's shortcut (abi_may_match): the
 * plain reference test_gen_fast compares the scan with. */
int abi_divergences_scan_plain(const af_case *c, const af_sig *sig, const af_callinfo *ci);

/* af_classify for the generator, which reads only args[0, nparams) of the result: those, ret
 * and the counts are as af_classify leaves them; args[nparams..] are not cleared (af_classify
 * clears all 32, most of its own cost for a short signature). */
af_status abi_classify_lean(const af_case *c, const af_sig *sig, af_callinfo *out);
/* abi_classify_lean without classify_check_sig, for signatures that pass it by construction:
 * the generator's (nparams <= AF_MAX_PARAMS, nfixed consistent, every type id a non-void
 * scalar or a laid-out struct/union of the case; the return also void). The same result as
 * abi_classify_lean on those (test_gen_fast compares them on generated signatures). */
af_status abi_classify_gen(const af_case *c, const af_sig *sig, af_callinfo *out);

/* The two classifiers (classify_sysv.c, classify_win64.c); out is zeroed and
 * out->cc set by af_classify; they fill the rest except `divergent`. classify_sysv's quirks
 * (NULL: not wanted) receives classify_sysv_quirks_reach(c, sig), found on the walk. */
af_status classify_sysv(const af_case *c, const af_sig *sig, af_callinfo *out, af_error *err,
                        unsigned *quirks);
af_status classify_win64(const af_case *c, const af_sig *sig, af_callinfo *out, af_error *err);

/* Ways gcc's classify_argument departs from the model (classify_sysv.c). */
#define CLASSIFY_GCC_ARRAY    1u /* alignment checked in the first array element only */
#define CLASSIFY_GCC_UNION_ZW 2u /* a union's zero-width bit-field counts as INTEGER */
#define CLASSIFY_NO_ALIGN     4u /* (internal) skip the misaligned-field check */
int classify_sysv_quirk_differs(const af_case *c, const af_sig *sig, unsigned quirks);
/* The quirks (CLASSIFY_GCC_*) that can change the walk of the return or a parameter type:
 * classify_sysv_quirk_differs(c, sig, q) is 0 for a quirk q outside this mask. */
unsigned classify_sysv_quirks_reach(const af_case *c, const af_sig *sig);

/* Shared checks: a signature's type ids and counts (classify_sysv.c). */
af_status classify_check_sig(const af_case *c, const af_sig *sig, af_error *err);
void classify_err(af_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
