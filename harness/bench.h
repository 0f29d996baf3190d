/* bench.h - private to `abifuzz bench`: its context, one stage's result row, the stage runners. */
#ifndef ABIFUZZ_BENCH_H
#define ABIFUZZ_BENCH_H

#include <stdint.h>

#include "campaign.h"
#include "legs.h"

/* What a stage came to. */
typedef enum {
  BENCH_OK,      /* ran for its time */
  BENCH_OFF,     /* not run: the leg is not in this build / no compiler (note says why) */
  BENCH_CRASHED, /* the child running it died (note: the signal) or hung */
  BENCH_ERROR,   /* it could not start (out of memory, no temporary directory) */
} bench_status;

/* One row of the table (and of the JSON's stages[] / e2e[] / baseline). A stage runs in a
 * forked child and sends this struct back through a pipe: plain data only. */
typedef struct {
  char name[32];
  int status;       /* bench_status */
  uint64_t cases;   /* cases the stage completed (legs: checked, pass + fail; not skips) */
  uint64_t fails;   /* of them, with findings (a correct JIT has none) */
  uint64_t skips;   /* cases a leg skipped (reasons in note) */
  uint64_t pending; /* batched legs: submitted, not finished when the time was up (uncounted) */
  double seconds;   /* wall time of the timed part */
  double cpu_s;     /* CPU time (user + system) of the same, processes it waited for included */
  int jobs;         /* e2e: worker processes; else 0 */
  char note[400];
} bench_row;

/* The benchmark's configuration and its pre-generated cases. */
typedef struct {
  camp_cfg camp;  /* seed, abi, generator options, oracle compilers; the e2e campaign's base */
  char *e2e_legs; /* --legs as given (the e2e campaign's --legs), NULL: default legs */
  double time_s;  /* per stage */
  int verbose;
  const char *tmpdir; /* the benchmark's scratch directory (stub caches, campaign --out) */
  int npool;
  af_job **pool; /* cases (seed, 0..npool) with the interpreter's outcome, in index order */
} bench_ctx;

/* How a leg stage treats the compiled-stub cache. */
typedef enum {
  BENCH_CACHE_NONE, /* a leg without one */
  BENCH_CACHE_WARM, /* a first pass over the same cases fills a fresh cache, then timed */
  BENCH_CACHE_COLD, /* a fresh empty cache: every signature compiles inside the timed part */
} bench_cache;

/* ---- bench_stages.c ---------------------------------------------------------------------- */
/* CPU seconds (user + system) this process and the children it waited for used so far. */
double bench_cpu_now(void);
/* Appends printf-style text to r->note, "; "-separated (truncated when full). */
void bench_note(bench_row *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Generates and interprets cases (seed, 0..n) into b->pool (in this process, before any stage
 * forks, so that children share them). Cases the generator or interpreter refuses are left out.
 * 0 ok, -1 out of memory. */
int bench_pool_make(bench_ctx *b, int n);
void bench_pool_free(bench_ctx *b);

/* Stages; each fills r (name set by the caller) and runs in a forked child (a leg crash is a
 * "crashed" row, not the end of bench). */
void bench_gen(bench_ctx *b, bench_row *r);
void bench_interp(bench_ctx *b, bench_row *r);
void bench_jit(bench_ctx *b, bench_row *r);
/* One leg alone through its af_leg interface. cache_dir: the stub cache (NULL: none given). */
void bench_leg(bench_ctx *b, const af_leg *leg, bench_cache cache, const char *cache_dir,
               bench_row *r);
/* gen + interp + the legs named (comma-separated) on each case, as a worker runs them. */
void bench_pipeline(bench_ctx *b, const char *legs, bench_row *r);

/* ---- bench_baseline.c -------------------------------------------------------------------- */
/* The real campaign (camp_run) for b->time_s with `jobs` workers: its own cases/s. */
void bench_e2e(bench_ctx *b, int jobs, bench_row *r);
/* Compile-per-case: each case as C, compiled and linked by cc, run, checksum compared. */
void bench_baseline(bench_ctx *b, const char *cc, bench_row *r);

/* Runs fn(b, arg, r) in a forked child and copies its row back; a child that dies or runs past
 * `limit_s` seconds makes the row BENCH_CRASHED. */
typedef void (*bench_fn)(bench_ctx *b, const void *arg, bench_row *r);
void bench_forked(bench_ctx *b, bench_fn fn, const void *arg, double limit_s, bench_row *r);

#endif
