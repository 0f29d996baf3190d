/* bench_baseline.c - `abifuzz bench`: the end-to-end campaign, and the compile-per-case baseline
 * (how Quest and abi-cafe test a convention: C source per case, compiler, link, run). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench.h"
#include "cli.h"
#include "oracle.h"

/* ---- end to end -------------------------------------------------------------------------- */
/* The campaign's own counters when it is done: cases finished over its wall time, worker
 * start-up and the final wait for the compiler legs included (what its summary prints). */
static void on_done(void *u, const camp_stats *st) {
  bench_row *r = u;
  r->cases = st->cases;
  r->seconds = camp_now() - st->t0;
  r->fails = st->findings;
  for (int i = 0; i < st->nlegs; i++) {
    const camp_leg_stats *l = &st->legs[i];
    if (l->off[0]) {
      bench_note(r, "%s off", l->name);
      continue;
    }
    r->skips += l->skip;
    for (int k = 0; k < l->nreasons; k++)
      if (!strcmp(l->reason[k], "oracle backlog"))
        bench_note(r, "%s skip %llu: oracle backlog", l->name, (unsigned long long)l->reason_n[k]);
  }
  if (st->crashes || st->timeouts || st->internal_errors)
    bench_note(r, "%llu crashes, %llu timeouts, %llu internal errors",
               (unsigned long long)st->crashes, (unsigned long long)st->timeouts,
               (unsigned long long)st->internal_errors);
}

static void do_e2e(bench_ctx *b, const void *arg, bench_row *r) {
  int jobs = *(const int *)arg;
  camp_cfg o = b->camp;
  o.jobs = jobs;
  /* a worker takes a few tenths of a second to start (the stub legs identify their
   * compilers): a campaign shorter than a second measures mostly that */
  o.time_s = b->time_s < 1 ? 1 : b->time_s;
  o.cases = 0;
  o.silent = 1, o.quiet = 1;
  o.nargs = 0, o.args = NULL;
  o.on_done = on_done, o.on_done_u = r;
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/e2e-j%d", b->tmpdir, jobs);
  if (mkdir(dir, 0777) && errno != EEXIST) {
    r->status = BENCH_ERROR;
    bench_note(r, "cannot create %s: %s", dir, strerror(errno));
    return;
  }
  o.outdir = dir; /* findings (none expected) go there, not to stdout */
  char *list = b->e2e_legs ? strdup(b->e2e_legs) : NULL;
  if (camp_select_legs(&o, list)) {
    free(list);
    r->status = BENCH_ERROR;
    bench_note(r, "no legs");
    return;
  }
  char legs[160] = "";
  for (int l = 0; l < o.nlegs; l++)
    snprintf(legs + strlen(legs), sizeof legs - strlen(legs), "%s%s", l ? "," : "",
             o.legs[l]->name);
  bench_note(r, "legs %s%s", legs, o.time_s > b->time_s ? "; --time 1 (the shortest)" : "");
  double c0 = bench_cpu_now();
  int rc = camp_run(&o);
  r->cpu_s = bench_cpu_now() - c0; /* the supervisor and its workers, start-up included */
  free(list);
  if (rc == CLI_ERROR || rc == CLI_USAGE) bench_note(r, "the campaign exited with %d", rc);
  if (!r->seconds) r->status = BENCH_ERROR;
}

void bench_e2e(bench_ctx *b, int jobs, bench_row *r) {
  r->jobs = jobs;
  /* the campaign's end waits for its compiler legs' queues: allow for it */
  bench_forked(b, do_e2e, &jobs, b->time_s * 4 + 300, r);
}

/* ---- the compile-per-case baseline ----------------------------------------------------------- */
/* Per case: the whole case as one C file (af_emit_c: the callee functions, the caller and a
 * main printing the checksum), one compiler run that compiles and links it, the program run,
 * its checksum compared with the interpreter's. Quest and abi-cafe write the caller and the
 * callee to two files and compile each; one file is one compiler run fewer, so this baseline
 * is, if anything, faster than theirs. Generation and the interpreter are not timed here (the
 * pipeline times them). At least 3 cases, however short --time is. */
static void do_baseline(bench_ctx *b, const void *arg, bench_row *r) {
  const char *cc = arg;
  int i = 0;
  char first[160] = "";
  double t0 = camp_now(), c0 = bench_cpu_now(), t = 0;
  while (i < b->npool && (t < b->time_s || r->cases < 3)) {
    const af_job *j = b->pool[i++];
    uint64_t sum = 0;
    af_error err = {{0}};
    af_status s = af_cc_case_checksum(&j->c, cc, AF_CC_BATCH_FLAGS, &sum, &err);
    if (s == AF_ERR_UNSUPPORTED) {
      r->skips++;
    } else {
      r->cases++;
      if (s != AF_OK || sum != j->want.checksum) {
        r->fails++;
        if (!first[0])
          snprintf(first, sizeof first, "case %llu: %s", (unsigned long long)j->index,
                   s != AF_OK ? (err.msg[0] ? err.msg : af_strerror(s)) : "checksum differs");
      }
    }
    t = camp_now() - t0;
  }
  r->seconds = t, r->cpu_s = bench_cpu_now() - c0; /* the compiler and the program included */
  bench_note(r, "%s %s: emit C, compile + link, run, compare", cc, AF_CC_BATCH_FLAGS);
  if (r->fails) bench_note(r, "%llu mismatches, first %s", (unsigned long long)r->fails, first);
  if (r->skips) bench_note(r, "%llu cases C cannot express", (unsigned long long)r->skips);
}

void bench_baseline(bench_ctx *b, const char *cc, bench_row *r) {
  if (!cc || !cc[0] || !af_cc_available(cc)) {
    r->status = BENCH_OFF;
    bench_note(r, "off: no compiler%s%s", cc && cc[0] ? " " : "", cc ? cc : "");
    return;
  }
  bench_forked(b, do_baseline, cc, b->time_s * 4 + 120, r);
}
