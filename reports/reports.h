/* reports.h - the reports module's public header: campaign output directories read back and
 * written as Markdown, HTML, JUnit XML and SARIF 2.1.0 (doc/reports.md). */
#ifndef ABIFUZZ_REPORTS_H
#define ABIFUZZ_REPORTS_H

#include <stdint.h>
#include <stdio.h>

#include "gen.h"

/* How to use it (harness/cmd_report.c):
 *   rp_report r; rp_init(&r);
 *   rp_load_dir(&r, dir, &err) for each OUT_DIR (several = one sharded campaign, merged);
 *   rp_prepare(&r, &opts)      signatures in C, disassembly (needs opts.code for the latter);
 *   rp_write_all(&r, outdir, &err); rp_free(&r);
 * The JSON files stay the machine format; what this module reads of them, and what it writes,
 * is in doc/reports.md. Keys that another part adds later ("key", "shape", "known",
 * "consensus", "smallest", "rip_fn", "rip_off") are used when present, never required. */

struct rj; /* a parsed JSON value (rp_json.h, private) */

/* One finding directory: OUT_DIR/findings/<id>/{report.json, case.case[, min.case]}. */
typedef struct {
  char *dir;  /* the directory's path */
  char *id;   /* its name */
  int outdir; /* which loaded OUT_DIR (index into rp_report.dirs) */
  const char *leg, *check, *what, *detail, *abi, *inject; /* from report.json ("" if absent) */
  const char *key; /* report.json "bucket" (a key string), NULL if absent */
  uint64_t seed, index;
  const char *case_file; /* report.json "case_file": the case came from this file; NULL */
  long case_size;  /* bytes of case.case, -1 when missing */
  int has_min;     /* a min.case (abifuzz reduce) lies next to it */
  struct rj *json; /* the whole report.json */
} rp_finding;

/* One bucket: findings that are probably one bug. */
typedef struct {
  char *key; /* identity and label: summary/report "key"/"bucket", else "leg/check abi: what" */
  const char *leg, *check, *abi, *what;
  const char *shape;        /* "shape" when some input has one, else NULL */
  uint64_t count;           /* findings in it (summed over the directories) */
  double first_s;           /* earliest first_s; -1 unknown */
  int known;                /* labelled "known": its own section, not a failure */
  char *known_text;         /* why (rule and reason), malloc'd; NULL */
  const struct rj *summary; /* the first summary.json bucket object it came from, or NULL */
  int nfind;
  int *find;         /* indices into rp_report.f */
  int rep;           /* the finding shown: smallest case.case (or "smallest"); -1: none */
  int from_findings; /* no summary.json bucket: made from findings, count = theirs */
  /* filled by rp_prepare (malloc'd text, NULL when not available): */
  char *sig_c;       /* the signature in C: type definitions and prototypes */
  char *disasm;      /* Capstone disassembly of the function the finding names */
  char *disasm_note; /* why there is no disassembly, or what it shows */
  char *repro;       /* a reproducer directory the caller wrote for it (malloc'd), or NULL */
} rp_bucket;

/* Per-leg counters summed over the directories (summary.json per_leg). */
typedef struct {
  char name[32];
  uint64_t ran, pass, fail, skip;
  char *off; /* why the leg was off, or NULL */
} rp_leg;

typedef struct {
  int ndirs;
  char **dirs;
  struct rj **summaries; /* [ndirs], NULL where summary.json was absent */
  int nf;
  rp_finding *f;
  int nb;
  rp_bucket *b;
  int nlegs;
  rp_leg *legs;
  int nproblems;
  char **problems; /* one line each: what was missing or malformed and skipped */
  uint64_t cases, findings, crashes, timeouts;
  double elapsed_s;
  char *injects; /* "m1, m2" (the mutants of the directories), or NULL */
} rp_report;

void rp_init(rp_report *r);
void rp_free(rp_report *r);

/* Adds one campaign output directory. AF_ERR_IO: no such directory, or neither summary.json
 * nor findings/ in it; AF_ERR_PARSE: summary.json is malformed (err: file and position). A
 * finding directory missing a file, or with a malformed report.json, is recorded in
 * r->problems and skipped (a missing case.case only loses the signature and disassembly). */
af_status rp_load_dir(rp_report *r, const char *dir, af_error *err);

/* The JIT code of one function, for the disassembly: a copy of its bytes, and where it calls the
 * case's functions (so the call a finding names can be marked). */
#define RP_MAX_CALLS 64
typedef struct {
  uint8_t *bytes; /* malloc'd by the hook; rp_prepare frees it */
  size_t size;
  int ncalls;                      /* call instructions into the case's functions, in order */
  uint32_t call_off[RP_MAX_CALLS]; /* offset of each call instruction from the start */
  int call_fn[RP_MAX_CALLS];       /* the function it calls */
  /* The layout of the whole compiled case (0 functions: unknown), for a crash whose report has
   * only the RIP: function k's code at fn_start[k] bytes from the page boundary below the
   * lowest function, fn_size[k] bytes long. */
  int nfns;
  uint64_t fn_start[AF_MAX_FUNCS], fn_size[AF_MAX_FUNCS];
} rp_code;
#define RP_PAGE 4096 /* code memory starts on a page boundary (mmap) */
/* Compiles c with the mutant `inject` (NULL: none) and copies function fn's code. Errors make a
 * note in the report, never a failure. */
typedef af_status (*rp_code_fn)(void *u, const af_case *c, const char *inject, int fn, rp_code *out,
                                af_error *err);

typedef struct {
  rp_code_fn code; /* NULL: no disassembly */
  void *code_u;
  int max_insns; /* instructions shown per bucket (0: 160): around the mark, else the
                    prologue and the epilogue (rp_disasm) */
} rp_opts;

/* Orders the buckets (failures by count, then known ones), picks each one's finding to show,
 * and computes its C signature and disassembly. AF_ERR_NOMEM only. */
af_status rp_prepare(rp_report *r, const rp_opts *o);

/* The outputs (each a complete document on out). */
af_status rp_write_md(const rp_report *r, FILE *out);
af_status rp_write_html(const rp_report *r, FILE *out);
af_status rp_write_junit(const rp_report *r, FILE *out);
/* Artifact URIs are relative to their OUT_DIR, named by originalUriBaseIds "OUTDIR<i>" (an
 * absolute file: URI each). */
af_status rp_write_sarif(const rp_report *r, FILE *out);
/* report.md, report.html, junit.xml and findings.sarif into dir (created if missing). */
af_status rp_write_all(const rp_report *r, const char *dir, af_error *err);

/* ---- pieces, public for the tests ------------------------------------------------------ */
/* The function a finding's `what` names (gen.h function index): "fK+0xOFF" -> K (and *off),
 * "in fK" -> K, "[arg I of | return of] call N to fK" -> the JIT function making that call (the
 * N-th call in the run's order: bodies are straight-line, so the order is static), else the
 * entry. *off = -1 when no offset is known. */
int rp_named_function(const af_case *c, const char *what, long *off);
/* For "call N to fK": the caller, and which of the caller's calls to fK it is (0 = its first
 * CALL instruction to fK). 0 when what names a call, -1 otherwise. */
int rp_named_call(const af_case *c, const char *what, int *caller, int *callee, int *nth);
/* The entry's prototype in C (and those of functions also and also2, when >= 0 and different:
 * the function a finding names and, for a call, its callee) with the convention attribute,
 * preceded by the definitions of every type they use, and each parameter's location
 * (af_classify) as a comment. malloc'd; NULL on OOM. */
char *rp_signature_c(const af_case *c, int also, int also2);
/* Capstone disassembly (Intel syntax) of code->bytes as offsets from its start; calls into the
 * case's functions annotated "; fK"; the instruction at byte offset mark (>= 0) flagged "=>". At
 * most max instructions (0: 160): a window around the mark, else the first and the last max / 2.
 * malloc'd text; NULL and a note in *why (static string) when Capstone is not in the build or
 * fails. */
char *rp_disasm(const rp_code *code, long mark, int max, const char **why);
/* 1 if byte offset off starts an instruction of code (Capstone's decoding from offset 0). */
int rp_insn_at(const rp_code *code, long off);
/* A crash's general registers (report.json crash.regs), by name ("rax", "r11"). */
typedef struct {
  int n;
  const char *name[24];
  uint64_t val[24];
  uint64_t rip; /* the crashed RIP (its process's address) */
} rp_regs;
/* Whether the instruction at off has a memory operand whose address, computed from regs, lies at
 * or up to 63 bytes below fault: 1 yes, 0 no, -1 cannot tell (a register not recorded, a
 * segment base). */
int rp_insn_touches(const rp_code *code, long off, const rp_regs *regs, uint64_t fault);

#endif
