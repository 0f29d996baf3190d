/* campaign.h - private to the campaign: its configuration, its counters and its findings. */
#ifndef ABIFUZZ_CAMPAIGN_H
#define ABIFUZZ_CAMPAIGN_H

#include <stdint.h>
#include <stdio.h>

#include "gen.h"
#include "legs.h"

/* How a campaign picks each case's convention (--abi). */
typedef enum {
  CAMP_ABI_SYSV,  /* every case System V */
  CAMP_ABI_WIN64, /* every case Microsoft x64 */
  CAMP_ABI_BOTH,  /* by index parity: even -> sysv, odd -> win64 (the default) */
  CAMP_ABI_DRAWN, /* the generator's own cc draw from the weights (--abi all, the old default) */
} camp_abi;

#define CAMP_MAX_LEGS 16
struct camp_stats;

/* Everything a campaign was asked to do; built by cmd_campaign, read by the supervisor and
 * (a copy in each forked process) by every worker. */
typedef struct {
  uint64_t seed, start;
  uint64_t cases; /* cases to run; 0: no limit (with --time) */
  double time_s;  /* --time; 0: none */
  int jobs;       /* -j: worker processes */
  int timeout_ms; /* per (case, leg) */
  const char *outdir;
  camp_abi abi;
  int quiet;
  af_gen_opts gen; /* weights loaded, cc per case set by camp_gen */
  af_legs_cfg legs_cfg;
  int nlegs;
  const af_leg *legs[CAMP_MAX_LEGS]; /* enabled, in registry order */
  int ncase_files; /* > 0: run these .case files (index i = case_files[i]), not gen */
  char *const *case_files;
  int silent;            /* no status line and no summary on stdout (abifuzz mutants) */
  uint64_t max_findings; /* --max-findings: stop (workers killed at once) after this many; 0 none */
  /* Called with the final counters before camp_run returns (abifuzz mutants reads the first
   * bucket's time to detect); NULL: nothing. */
  void (*on_done)(void *u, const struct camp_stats *st);
  void *on_done_u;
  /* Known divergences (--known, bucket.h): a matching finding is labelled known and does not
   * fail the campaign. NULL: no rules. */
  const struct camp_rules *known;
  /* --shard K/N (1 <= K <= N; N 0: no sharding): this process runs the blocks of CAMP_BLOCK
   * consecutive indices (counted from start) whose number b has b % N == K - 1. */
  int shard_k, shard_n;
  /* The campaign's own options (argv after the program name, before getopt permutes it), kept
   * in OUT/campaign.state so that --resume runs the rest with the same ones. */
  int nargs;
  char **args;
  /* --resume: the state read from OUT/campaign.state (camp_state.c); NULL for a new campaign */
  const struct camp_resume *resume;
} camp_cfg;

/* Cases are handed out (and sharded) in blocks of this many consecutive indices. */
#define CAMP_BLOCK 64

/* Case `index` of the campaign (its convention per cfg->abi): what workers run and what the
 * supervisor writes as a finding's case.case. */
af_status camp_gen(const camp_cfg *cfg, uint64_t index, af_case *out, int *axes, af_error *err);
const char *camp_abi_name(camp_abi a);
/* The path of the case file run as case `index` (abifuzz FILE.case...), NULL for a generated
 * case. */
const char *camp_case_file(const camp_cfg *cfg, uint64_t index);
/* --legs LIST (comma-separated, modified by strtok) or, list NULL, the default legs into
 * cfg->legs; -1 after a one-line error. */
int camp_select_legs(camp_cfg *cfg, char *list);

/* ---- counters (summary.c) ----------------------------------------------------------- */
#define CAMP_MAX_REASONS 24
typedef struct {
  char name[24];
  uint64_t ran, pass, fail, skip, crash, timeout; /* ran = pass + fail (crash, timeout in fail) */
  uint64_t lost; /* batched leg: cases pending in a worker that died, never ended */
  int nreasons;
  char reason[CAMP_MAX_REASONS][96];
  uint64_t reason_n[CAMP_MAX_REASONS];
  uint64_t reason_other; /* reasons beyond CAMP_MAX_REASONS */
  char off[256];         /* init said AF_ERR_UNSUPPORTED: why (leg off); "" when on */
} camp_leg_stats;

/* A bucket: findings that are probably one bug, keyed on (leg, check, convention, shape)
 * (bucket.h camp_shape: the part of the signature that matters, e.g. "struct 9-16 bytes arg on
 * the stack, only r9 left"). `what` is the first finding's. */
typedef struct {
  char leg[24], check[32], what[64];
  int cc;
  uint64_t count, first_index;
  double first_s;     /* campaign seconds when it was first seen (time to detect) */
  char first_id[256]; /* the first finding's directory name ("" without --out) */
  int written;        /* finding directories written for it */
  char key[224];      /* "leg/check/abi: shape" */
  char shape[160];
  uint64_t smallest_index; /* the case with the shortest .case text in the bucket */
  uint64_t smallest_size;  /* its af_print size in bytes (0: unknown) */
  char smallest_id[256];   /* its finding directory ("" without --out or not written) */
  uint64_t known;          /* findings a known-divergence rule matched */
  char known_rule[64];     /* the first such rule's id */
  /* the consensus of the bucket's cases (bucket.h camp_outlier): how often each implementation
   * was the outlier ("" when none was) */
  int noutliers;
  char outlier[4][32];
  uint64_t outlier_n[4];
} camp_bucket;

typedef struct camp_stats {
  double t0;      /* monotonic start */
  uint64_t cases; /* cases finished (crashed ones included) */
  uint64_t by_cc[AF_CC_COUNT];
  uint64_t findings, crashes, timeouts, internal_errors, restarts;
  uint64_t known; /* findings labelled known (bucket.h rules): they do not fail the campaign */
  double t_gen, t_interp; /* summed over workers */
  int nlegs;
  camp_leg_stats legs[CAMP_MAX_LEGS + 4]; /* enabled legs first, then any other name seen */
  int nbuckets, capbuckets;
  camp_bucket *buckets;
  uint64_t *axis_hits; /* [naxes * 64] */
  int naxes;
  struct camp_triage *tri; /* findings_out.c: compilers, case cache, verdicts of open cases */
} camp_stats;

double camp_now(void); /* monotonic seconds */
int camp_stats_init(camp_stats *st, const camp_cfg *cfg);
void camp_stats_free(camp_stats *st);
camp_leg_stats *camp_leg(camp_stats *st, const char *name); /* found or added; NULL if full */
void camp_count_skip(camp_leg_stats *l, const char *reason);
/* The one-line status (stderr): "#N  Ts  cases/s R  findings F  legs runner N ...". */
void camp_status_line(const camp_stats *st, FILE *out);
/* OUT/summary.json, atomically (tmp + fsync + rename). done: the campaign is over. */
int camp_write_summary(const camp_cfg *cfg, const camp_stats *st, int done);
/* The human summary on stdout at the end. */
void camp_print_summary(const camp_cfg *cfg, const camp_stats *st);

/* ---- findings (findings_out.c) -------------------------------------------------------- */
/* Signal data of a crash finding (NULL for other findings). */
typedef struct {
  int sig, code;
  uint64_t addr, rip;
  uint64_t gregs[23]; /* the ucontext's gregs, glibc's REG_* order */
  int have_regs;      /* 0: no crash record arrived (SIGKILL, rlimit, ...) */
  int rip_in_jit, addr_in_jit;
  char rip_where[96]; /* RIP outside JIT code: the mapped file and offset ("libc.so.6+0x8c753") */
} camp_crash;

/* Counts the finding in its bucket; writes OUT/findings/<id>/ (at most CAMP_KEEP per bucket)
 * or prints one line on stdout without --out. cc: the case's convention. */
#define CAMP_KEEP 3
void camp_record_finding(const camp_cfg *cfg, camp_stats *st, uint64_t index, int cc,
                         const af_finding *f, const camp_crash *crash);
/* Every leg's verdict on every case, for the consensus in the findings' report.json: the
 * supervisor calls it for each END (and for the crash/timeout it blames), and camp_case_done
 * for each CASE_DONE. Once every leg that is on has a verdict on a case with findings, their
 * report.json files are rewritten with "consensus". camp_triage_init before the first, and
 * camp_triage_finish at the end (cases still open, e.g. lost with a worker, are written with
 * what arrived). */
int camp_triage_init(const camp_cfg *cfg, camp_stats *st);
void camp_note_end(const camp_cfg *cfg, camp_stats *st, uint64_t index, int cc, const char *leg,
                   int verdict, const af_finding *f, int nf);
void camp_case_done(const camp_cfg *cfg, camp_stats *st, uint64_t index, int submitted);
void camp_triage_finish(const camp_cfg *cfg, camp_stats *st);
/* JSON string (quoted, escaped) on out. */
void camp_json_str(FILE *out, const char *s);
/* Writes `len` bytes to path atomically: path.tmp, fsync, rename. 0 ok, -1 errno. */
int camp_write_atomic(const char *path, const char *data, size_t len);

/* ---- resume (camp_state.c) ------------------------------------------------------------ */
/* What OUT/campaign.state holds: the campaign's options, where it was (the next index never
 * handed out, and the ranges handed out but not finished), and its counters and buckets. The
 * file is binary and only read by the same abifuzz build (version and struct sizes checked). */
typedef struct camp_resume {
  int nargs;
  char **args; /* the stored options (pointers into argbuf) */
  char *argbuf;
  uint64_t next; /* the first index never handed out */
  int npend;
  uint64_t *pend; /* [npend][2]: [from, to) handed out but not done */
  double elapsed; /* campaign seconds before the kill */
  int done;       /* the campaign had ended (nothing left to resume) */
  camp_stats st;  /* the counters (buckets and axis_hits allocated, tri NULL) */
} camp_resume;

/* Writes OUT/campaign.state atomically (no-op without --out). pend: [npend][2]. */
int camp_state_write(const camp_cfg *cfg, const camp_stats *st, uint64_t next, const uint64_t *pend,
                     int npend, int done);
/* Reads OUT/campaign.state; -1 with a message in err (not found, other build, truncated). */
int camp_state_read(const char *outdir, camp_resume *r, char *err, size_t nerr);
void camp_resume_free(camp_resume *r);
/* Puts the resumed counters into st (fresh from camp_stats_init): the campaign goes on from them.
 */
int camp_state_restore(const camp_resume *r, camp_stats *st);

/* ---- the supervisor (supervisor.c) ------------------------------------------------------ */
/* Runs the campaign with cfg->jobs workers; returns a CLI_* exit code. */
int camp_run(const camp_cfg *cfg);
const char *camp_signame(int sig); /* "SIGSEGV"; "signal N" for others (static buffer-free) */

#endif
