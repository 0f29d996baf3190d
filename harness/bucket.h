/* bucket.h - triage inside the campaign: a finding's shape and bucket, the legs' consensus on a
 * case, and the known-divergence rules (doc/triage.md). Pure functions over a case and a
 * finding, so that they can be tested without running a campaign. */
#ifndef ABIFUZZ_BUCKET_H
#define ABIFUZZ_BUCKET_H

#include <stddef.h>

#include "campaign.h"

/* ---- shape and bucket key -------------------------------------------------------------- */
/* The part of finding f's signature that matters, in words: which argument or return value
 * (its type class and where af_classify puts it), which register, which signal. Examples:
 *   "aggregate 9-16 bytes arg on the stack, only r9 left"   (SysV, 2 INTEGER eightbytes)
 *   "variadic double arg in xmm+gpr copy"                    (Win64)
 *   "aggregate 17+ bytes returned via sret"
 *   "rbx clobbered", "xmm6-15 clobbered", "SIGSEGV, rip in JIT code", "object memory"
 * Numbers that differ from case to case (call and argument indices, byte offsets, function
 * numbers) never appear, so one bug gives one or a few shapes. c: the case (NULL: shapes that
 * need it fall back to the finding's `what` with every number replaced by N); cr: the crash
 * record of a crash/timeout finding (NULL otherwise). */
void camp_shape(const af_case *c, const af_finding *f, const camp_crash *cr, char *out, size_t n);

/* 1 for the checks that see a consequence, not a cause (result, objects, checksum, host-calls,
 * calls): the campaign buckets them under the cause another check named on the same case. */
int camp_check_is_consequence(const char *check);

/* The case's first argument at a register boundary, the place ABI bugs cluster: a SysV value
 * that went to the stack with fewer registers left than it needs ("..., only r9 left"), or one
 * that back-filled a register after it. 1 and its shape (as camp_shape writes it), or 0. The
 * campaign blames a consequence with no cause of its own on it. */
int camp_case_suspect(const af_case *c, char *out, size_t n);

/* 1 for the checks that see one argument's value (arg, arg-ext, vararg-dup): after the first
 * fault on a case (another shape), the campaign buckets them under that fault. */
int camp_check_is_value(const char *check);

/* "leg/check/abi: shape", what buckets are keyed on. */
void camp_bucket_key(const char *leg, const char *check, int cc, const char *shape, char *out,
                     size_t n);

/* ---- the campaign's compilers ------------------------------------------------------------- */
#define CAMP_MAX_CC 4
typedef struct {
  char name[64]; /* as given (--oracle-cc) or the default */
  char id[32];   /* "clang-19", "gcc-12" (af_cc_identify); name when unidentified */
  af_family family;
  int major; /* 0: not identified */
} camp_compiler;

/* Which compilers `what` names (bit k: ccs[k]), by the name given or by the id. */
unsigned camp_compilers_named(const camp_compiler *ccs, int n, const char *what);

/* The divergence-table ids (gen/abi.c) case c hits: af_abi_divergences on each function's
 * signature, and af_abi_deviates for each identified compiler. At most max; returns the number. */
int camp_case_divergences(const af_case *c, const camp_compiler *ccs, int ncc, const char **ids,
                          int max);

/* ---- known divergences ------------------------------------------------------------------- */
typedef struct camp_rules camp_rules;
/* The rules file (format in doc/triage.md, "Known divergences"). AF_ERR_IO: unreadable;
 * AF_ERR_PARSE: err = "file:line: message". */
af_status camp_rules_load(const char *path, camp_rules **out, af_error *err);
af_status camp_rules_parse(const char *name, const char *text, camp_rules **out, af_error *err);
void camp_rules_free(camp_rules *r);
int camp_rules_count(const camp_rules *r);
/* corpus/known-divergences.rules in the source tree abifuzz was built from. */
const char *camp_rules_default_path(void);

typedef struct {
  const char *leg, *check, *what, *shape;
  const char *inject; /* the campaign's mutant or NULL */
  const camp_compiler *ccs;
  int ncc;
  unsigned cc_mask;        /* the compilers the finding involves (camp_compilers_named) */
  const char *const *divs; /* the case's divergence ids */
  int ndivs;
  const af_case *c;    /* for case-shape rules; NULL: they do not match */
  const char *backend; /* the campaign's --backend spec; NULL: builtin */
} camp_known_query;

/* The first rule that matches q: 1 and its id and reason (pointers into r), or 0. */
int camp_rules_match(const camp_rules *r, const camp_known_query *q, const char **id,
                     const char **reason);

/* ---- consensus --------------------------------------------------------------------------- */
/* One leg's verdict on a case. ccs: the compilers its findings name (0: all of them). */
typedef struct {
  const char *leg;
  int verdict; /* af_leg_verdict; -1: no verdict (lost with a worker) */
  unsigned ccs;
} camp_vote;

/* The implementations a leg exercises, written as names into names[] (at most max): "jit",
 * "libffi", the compilers' ids (the ones in mask; all when mask is 0). */
int camp_leg_impls(const char *leg, unsigned mask, const camp_compiler *ccs, int ncc,
                   const char **names, int max);

/* The consensus of a case (doc/triage.md, "Consensus"). Each leg's verdict is a ballot on
 * the implementations it pairs (a compiler leg: one ballot per compiler, failing for those its
 * findings name, passing for the others). The candidates are the implementations in every
 * failing ballot; the outlier (out) is the one among them that passed the smallest share of
 * its ballots ("a+b" on a tie of some, "" when all tie or nothing is in every failing ballot).
 * agree[] receives the implementations that passed a ballot together with another one (runner
 * and c-oracle, one implementation against itself, vouch for nothing) and are not the outlier;
 * returns their number. */
int camp_outlier(const camp_vote *v, int n, const camp_compiler *ccs, int ncc, char *out,
                 size_t nout, const char **agree, int max_agree);

#endif
