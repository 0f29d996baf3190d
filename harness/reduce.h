/* reduce.h - private to abifuzz reduce: the finding predicate, the case edits, the driver. */
#ifndef ABIFUZZ_REDUCE_H
#define ABIFUZZ_REDUCE_H

#include <stdint.h>
#include <stdio.h>

#include "gen.h"
#include "legs.h"

/* The finding a reduction preserves: a case "fires" when running it through `leg` (with the
 * mutant and compilers of legs_cfg) reports a finding of `leg` and `check`; for a crash or
 * timeout, also the same `what` (the signal name). */
typedef struct {
  char leg[24], check[32], what[64];
  af_legs_cfg legs_cfg; /* inject, oracle compilers */
  char legs[256];       /* the legs each candidate runs (comma-separated); "": `leg` alone */
  int timeout_ms;       /* per candidate run (the campaign's --timeout) */
  const char *tmpdir;   /* where candidate files are written (must exist) */
  int quiet_runs;       /* 1: the candidate campaigns' stderr goes to /dev/null */
  FILE *log;            /* progress lines (NULL: none) */
} red_cfg;

/* What a reduction did. */
typedef struct {
  int funcs[2], insts[2], params[2], types[2]; /* before, after */
  size_t bytes[2];                             /* text bytes before, after */
  int tries, accepted, invalid;                /* candidates run, kept, refused by af_verify */
  double secs;
} red_stats;

/* 1 if the case fires the finding, 0 if not, -1 on an error (err says why). */
int red_fires(const red_cfg *cfg, const af_case *c, af_error *err);

/* Shrinks *c in place (it stays a verified case that fires). AF_ERR_INVALID with err "does
 * not fire" when the input does not fire to begin with. */
af_status red_reduce(const red_cfg *cfg, af_case *c, red_stats *st, af_error *err);

/* Case size counters (reduce_ops.c). */
int red_count_insts(const af_case *c);
int red_count_params(const af_case *c);
/* Types beyond the scalar table. */
int red_count_types(const af_case *c);

/* ---- edits (reduce_ops.c) ---------------------------------------------------------------
 * Every edit works on a private copy of the case and leaves it laid out and finished (but not
 * verified); 0 if the edit applied (something changed), -1 if it does not apply here. */
typedef enum {
  RED_DROP_FUNC,    /* a: function; its calls become constants (void: removed) */
  RED_INSTS,        /* a: function, b: first inst, n: count; values -> constants, stores and
                       void calls removed */
  RED_FORWARD,      /* a: function, b: inst, n: operand; the inst's value replaced by it */
  RED_MIX_OPS,      /* a: function, b: inst, n: first operand, m: count dropped */
  RED_DROP_PARAM,   /* a: function, b: parameter */
  RED_NONVARIADIC,  /* a: function */
  RED_ZERO_CONST,   /* a: function, b: inst */
  RED_ZERO_INPUT,   /* a: input */
  RED_ZERO_OBJECT,  /* a: object */
  RED_DROP_OBJECT,  /* a: object (the last one, when no input points to it) */
  RED_DROP_FIELD,   /* a: type, b: field */
  RED_SHRINK_ARRAY, /* a: type: count halved (or to 1) */
  RED_UNWRAP,       /* a: type: a struct of one scalar field becomes that scalar */
  RED_REENTRY,      /* a: function: becomes the entry (inputs: the arguments of its first call
                       in the interpreter's run); what it does not reach is dropped */
  RED_NKINDS
} red_kind;

typedef struct {
  red_kind kind;
  int a, b, n, m;
} red_edit;

const char *red_kind_name(red_kind k);
/* Applies e to c (a copy the caller owns). */
int red_apply(af_case *c, const red_edit *e);
/* Deep copy through the text format (dst is initialised; free it with af_case_free). */
af_status red_clone(const af_case *src, af_case *dst, af_error *err);

#endif
