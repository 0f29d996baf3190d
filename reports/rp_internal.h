/* rp_internal.h - private to reports/: what the loader, the preparation and the writers share. */
#ifndef ABIFUZZ_RP_INTERNAL_H
#define ABIFUZZ_RP_INTERNAL_H

#include "reports.h"

/* Appends a problem line (printf-style); -1 on OOM. */
int rp_problem(rp_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The finding a bucket shows, or NULL. */
static inline const rp_finding *rp_rep(const rp_report *r, const rp_bucket *b) {
  return b->rep >= 0 ? &r->f[b->rep] : NULL;
}

/* Number of buckets that are failures (not known). */
int rp_nfailing(const rp_report *r);

/* Short descriptions of the checks (legs.h), for SARIF rules and the report's legend. */
const char *rp_check_desc(const char *check);

/* One line of what the report says about a bucket (the Markdown and HTML writers render the
 * same list). code: show as code. */
typedef struct {
  const char *label;
  char *text; /* malloc'd */
  int code;
} rp_fact;
#define RP_MAX_FACTS 16
/* Fills out[] (at most RP_MAX_FACTS); returns how many. */
int rp_bucket_facts(const rp_report *r, const rp_bucket *b, rp_fact *out);
void rp_facts_free(rp_fact *f, int n);

#endif
