/* leg_coracle.c - the "c-oracle" leg: the whole case as C, compiled and run, vs the checksum. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "legs.h"
#include "oracle.h"

/* No JIT here: the oracle checking itself (and gcc and clang checking each other through the
 * interpreter). A batched leg: jobs wait until CORACLE_BATCH of them are pending, then one C
 * file holds them all (af_cc_run_batch: one compiler start-up for a hundred cases). */
#define CORACLE_BATCH 100

typedef struct {
  int ncc;
  const char *cc[AF_MAX_ORACLE_CC];
  af_family fam[AF_MAX_ORACLE_CC];
  int ver[AF_MAX_ORACLE_CC]; /* major version; 0: not identified (no divergence labels) */
  int npending;
  af_job *pending[CORACLE_BATCH];
} coracle;

/* What one job got from one compiler. */
typedef struct {
  af_findings fs;
  const char *known; /* a known divergence explains a disagreement */
} verdict;

static af_status coracle_init(const af_legs_cfg *cfg, void **state, af_error *err) {
  coracle *o = calloc(1, sizeof *o);
  if (!o) return AF_ERR_NOMEM;
  if (cfg->ncc) {
    o->ncc = cfg->ncc;
    memcpy(o->cc, cfg->cc, sizeof o->cc);
  } else {
    o->ncc = 1; /* --legs c-oracle without --oracle-cc: the default clang */
    o->cc[0] = AF_DEFAULT_CLANG;
  }
  for (int k = 0; k < o->ncc; k++) {
    if (!af_cc_available(o->cc[k])) {
      snprintf(err->msg, sizeof err->msg, "compiler '%s' not found", o->cc[k]);
      free(o);
      return AF_ERR_UNSUPPORTED;
    }
    af_error e = {{0}};
    if (af_cc_identify(o->cc[k], &o->fam[k], &o->ver[k], &e) != AF_OK) o->ver[k] = 0;
  }
  *state = o;
  return AF_OK;
}

/* A known gcc/clang divergence (gen/abi.c) compiler k has on some signature of the case. */
static const char *known_divergence(const coracle *o, int k, const af_case *c) {
  if (!o->ver[k]) return NULL;
  for (int f = 0; f < c->nfuncs; f++) {
    const char *why = NULL;
    if (af_abi_deviates(c, &c->funcs[f].sig, o->fam[k], o->ver[k], &why)) return why;
  }
  return NULL;
}

/* Runs jobs[0..n) through compiler k as one program. When it does not build or run, the batch
 * is split in halves until the culprits stand alone: one case that breaks the compiler or its
 * own compiled code is a finding, and must not hide the verdict on the others. */
static void run_range(const coracle *o, int k, af_job **jobs, verdict *v, int n) {
  const af_case *ptrs[CORACLE_BATCH] = {0};
  uint64_t got[CORACLE_BATCH];
  for (int i = 0; i < n; i++)
    ptrs[i] = &jobs[i]->c;
  af_error err = {{0}};
  af_status s = af_cc_run_batch(o->cc[k], ptrs, n, got, &err);
  if (s != AF_OK) {
    if (n > 1) {
      run_range(o, k, jobs, v, n / 2);
      run_range(o, k, jobs + n / 2, v + n / 2, n - n / 2);
      return;
    }
    const char *why = known_divergence(o, k, &jobs[0]->c);
    if (why) {
      v[0].known = why;
      return;
    }
    af_findings_add(&v[0].fs, "c-oracle", s == AF_ERR_IO ? "build" : "run", o->cc[k], "%s: %s",
                    s == AF_ERR_IO ? "does not compile the emitted C" : "the program failed",
                    err.msg[0] ? err.msg : af_strerror(s));
    return;
  }
  for (int i = 0; i < n; i++) {
    if (got[i] == jobs[i]->want.checksum) continue;
    const char *why = known_divergence(o, k, &jobs[i]->c);
    if (why) {
      v[i].known = why;
      continue;
    }
    af_findings_add(&v[i].fs, "c-oracle", "checksum", o->cc[k],
                    "expected 0x%016llx (interpreter), got 0x%016llx",
                    (unsigned long long)jobs[i]->want.checksum, (unsigned long long)got[i]);
  }
}

static void flush(coracle *o, const af_leg_sink *sink) {
  int n = o->npending;
  if (!n) return;
  verdict *v = calloc((size_t)n, sizeof *v);
  if (!v) return; /* the jobs stay pending; the next poll retries */
  for (int k = 0; k < o->ncc; k++)
    run_range(o, k, o->pending, v, n);
  for (int i = 0; i < n; i++) {
    af_job *j = o->pending[i];
    /* the compiled program ran in its own process: no code under test runs in the worker, but
     * begin/end still frame the verdict so the supervisor's bookkeeping is uniform */
    sink->begin(sink->u, j, "c-oracle");
    if (v[i].fs.n) {
      sink->end(sink->u, j, "c-oracle", AF_LEG_FAIL, NULL, v[i].fs.f, v[i].fs.n);
    } else if (v[i].known) {
      char reason[96];
      snprintf(reason, sizeof reason, "known divergence %s", v[i].known);
      sink->end(sink->u, j, "c-oracle", AF_LEG_SKIP, reason, NULL, 0);
    } else {
      sink->end(sink->u, j, "c-oracle", AF_LEG_PASS, NULL, NULL, 0);
    }
    af_job_unref(j);
  }
  o->npending = 0;
  free(v);
}

static void coracle_submit(void *state, af_job *j, const af_leg_sink *sink) {
  coracle *o = state;
  if (o->npending == CORACLE_BATCH) flush(o, sink);
  o->pending[o->npending++] = af_job_ref(j);
}

static void coracle_poll(void *state, const af_leg_sink *sink, int block) {
  coracle *o = state;
  if (o->npending == CORACLE_BATCH || (block && o->npending)) flush(o, sink);
}

static void coracle_fini(void *state) {
  coracle *o = state;
  if (!o) return;
  for (int i = 0; i < o->npending; i++)
    af_job_unref(o->pending[i]);
  free(o);
}

const af_leg af_leg_c_oracle = {
    .name = "c-oracle",
    .desc = "the whole case as C, compiled by each --oracle-cc compiler and run: its checksum "
            "must equal the interpreter's (no JIT)",
    .default_on = 0,
    .init = coracle_init,
    .submit = coracle_submit,
    .poll = coracle_poll,
    .fini = coracle_fini,
};
