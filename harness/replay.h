/* replay.h - private to abifuzz replay: one case re-run in the foreground, everything shown. */
#ifndef ABIFUZZ_HARNESS_REPLAY_H
#define ABIFUZZ_HARNESS_REPLAY_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "gen.h"
#include "jit.h"
#include "legs.h"

#define RP_MAX_LEGS 16

/* A hang: the child's own per-leg timer (SIGALRM) or the parent's last resort (SIGUSR1). */
#define REPLAY_IS_TIMEOUT(sig) ((sig) == SIGALRM || (sig) == SIGUSR1)

/* What the child sends the parent when code under test faults or hangs (one fixed record on a
 * pipe, written by the signal handler). */
typedef struct {
  int valid;
  int signo, si_code;
  uint64_t addr, rip, rsp;
  int rip_in_jit, addr_in_jit; /* af_jit_addr_is_code: 1, 0, -1 unknown */
  int rip_fn;                  /* af_jit_which on the replay's own compile (-1 runner, -2 none) */
  int64_t rip_off;             /* RIP - start of that function's code */
  int rip_jit; /* which compile RIP lies in: 1 the probed one, 2 the plain one, 0 neither */
  int addr_fn;
  int64_t addr_off;
  char leg[24]; /* the leg running when it happened */
} replay_crash;

/* One replay: the case, the reference outcome, the compiles the detail runs use. */
typedef struct {
  const char *input; /* as given */
  af_case c;
  af_interp_result want;
  int have_want;
  /* from report.json (a finding directory), "" otherwise */
  char r_leg[24], r_check[32], r_what[64], r_detail[400];
  uint64_t seed, index; /* report.json's (the garbage leg's pattern derives from them) */
  const char *inject;   /* --inject, else report.json's, else NULL */
  char inject_buf[64];
  int nlegs;
  const char *legs[RP_MAX_LEGS];
  int ncc; /* --oracle-cc, else the compiler a compiler leg's finding names */
  const char *cc[AF_MAX_ORACLE_CC];
  char cc_buf[256];
  int pause_on_crash;
  int timeout_ms;
  /* the compiles (made in the parent, inherited by the child): `probe` as the native leg
   * compiles (host functions -> callouts, other functions -> interposers, with the mutant),
   * `plain` as the runner leg does (the mutant, no replacement), `ref` without the mutant (the
   * real host implementations). Any may be NULL when the JIT refuses the case. */
  af_jit *probe, *plain, *ref;
  /* --backend (or report.json's): another backend's code under test, compiled once per
   * compile above that runs it (each binds its own imports) and once for the legs' job */
  af_backend *backend;
  af_backend_code *bc_probe, *bc_plain, *bc_job;
  const char *backend_spec;
  char backend_buf[512];
  const void *real[AF_MAX_FUNCS];
  const void *code[AF_MAX_FUNCS];
  char compile_err[256];
  int crash_fd; /* the child's end of the crash pipe (-1: none) */
} replay;

/* replay_run.c: the child's side. Runs every leg of r in order, printing as it goes; returns
 * the number of findings. Faults and SIGUSR1 (the parent's timeout) are caught, reported on
 * stdout and on r->crash_fd, and end the process. */
int replay_run_legs(replay *r);
/* Compiles r->probe, r->plain, r->ref (the parent, before forking). */
void replay_compile(replay *r);
void replay_release(replay *r);

/* replay_show.c: printing. */
void replay_show_sig(const replay *r); /* the signature(s) in C and every location */
void replay_show_regs(const char *title, const void *regs); /* an af_probe_regs */
/* The callee-saved registers of convention cc: the canary the callee got (in) and what it left
 * (out), each "ok" or "CHANGED"; also RSP, DF, MXCSR and the x87 CW. */
void replay_show_canaries(af_cc cc, const void *in, const void *out);
/* Where argument i (i < 0: the return value) of sig goes, one short phrase. */
void replay_loc_str(const af_case *c, const af_sig *sig, int i, char *buf, size_t n);
void replay_show_bytes(const char *label, const uint8_t *b, uint32_t n);
void replay_show_value(const af_case *c, const char *label, const af_value *v);
/* Capstone disassembly of function fn's code in compile j (r->probe or r->plain) with the
 * instruction at offset mark (>= 0) marked (else what the report's check points at); title says
 * why. */
void replay_show_disasm(const replay *r, const af_jit *j, int fn, long mark, const char *title);
/* The crash record, as the parent received it. */
void replay_show_crash(const replay *r, const replay_crash *k);

#endif
