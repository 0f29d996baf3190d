/* facts.c - what the report says about one bucket, as labelled lines both the Markdown and the
 * HTML writers render. */
#define _GNU_SOURCE /* asprintf, vasprintf */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "rp_internal.h"
#include "rp_json.h"

static void add(rp_fact *out, int *n, const char *label, int code, char *text) {
  if (!text) return;
  if (*n >= RP_MAX_FACTS) return free(text);
  out[(*n)++] = (rp_fact){label, text, code};
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...) {
  char *s = NULL;
  va_list ap;
  va_start(ap, f);
  if (vasprintf(&s, f, ap) < 0) s = NULL;
  va_end(ap);
  return s;
}

/* One item of a list: a string as is, a {leg, check} verdict as "leg (check)", else JSON. */
static void item_text(FILE *f, const struct rj *v) {
  const char *leg = rj_str(v, "leg"), *check = rj_str(v, "check");
  if (v->kind == RJ_STR)
    fputs(v->s, f);
  else if (leg)
    fprintf(f, "%s%s%s%s", leg, check ? " (" : "", check ? check : "", check ? ")" : "");
  else
    rj_write(v, f);
}

/* "key: a, b; key2: c" for an object of lists (the consensus). */
static char *members_text(const struct rj *o) {
  if (!o || o->kind != RJ_OBJ) return rj_text(o);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) return NULL;
  for (int i = 0; i < o->n; i++) {
    const struct rj *v = o->items[i];
    fprintf(f, "%s%s: ", i ? "; " : "", o->keys[i]);
    if (v->kind == RJ_ARR) {
      for (int k = 0; k < v->n; k++)
        fputs(k ? ", " : "", f), item_text(f, v->items[k]);
      if (!v->n) fputs("(none)", f);
    } else
      item_text(f, v);
  }
  if (fclose(f)) return free(buf), NULL;
  return buf;
}

static char *crash_text(const struct rj *cr) {
  const char *sig = rj_str(cr, "signal"), *fa = rj_str(cr, "fault_addr"), *rip = rj_str(cr, "rip");
  const struct rj *ri = rj_get(cr, "rip_in_jit"), *ai = rj_get(cr, "addr_in_jit");
  const char *mod = rj_str(cr, "rip_module");
  return fmt("%s%s%s%s%s%s%s%s%s%s", sig ? sig : "killed (no signal record)",
             fa ? ", fault address " : "", fa ? fa : "", rip ? ", RIP " : "", rip ? rip : "",
             ri ? (rj_truthy(ri) ? " (in JIT code)" : " (outside JIT code)") : "",
             mod ? ", in " : "", mod ? mod : "",
             ai && rj_truthy(ai) ? ", the address is JIT code" : "",
             rj_get(cr, "regs") ? "; every register in report.json" : "");
}

int rp_bucket_facts(const rp_report *r, const rp_bucket *b, rp_fact *out) {
  int n = 0;
  const rp_finding *f = rp_rep(r, b);
  add(out, &n, "what broke", 0,
      fmt("%s: leg %s, check %s, %s convention, %s", rp_check_desc(b->check), b->leg, b->check,
          b->abi, b->what));
  if (b->shape) add(out, &n, "shape", 0, strdup(b->shape));
  if (b->known) add(out, &n, "known", 0, strdup(b->known_text ? b->known_text : "labelled known"));
  char first[48] = "";
  if (b->first_s >= 0) snprintf(first, sizeof first, ", first after %.2f s", b->first_s);
  add(out, &n, "count", 0,
      fmt("%llu finding%s%s", (unsigned long long)b->count, b->count == 1 ? "" : "s", first));
  if (f) {
    add(out, &n, "expected vs actual", 1, strdup(f->detail[0] ? f->detail : "(no detail)"));
    if (strcmp(f->what, b->what))
      add(out, &n, "this finding", 0, fmt("%s %s: %s", f->leg, f->check, f->what));
    const struct rj *cr = rj_get(f->json, "crash");
    if (cr) add(out, &n, "crash", 0, crash_text(cr));
    if (f->case_file)
      add(out, &n, "case", 0,
          fmt("case file %s (%s)%s%s: %s/case.case (%ld bytes)", f->case_file, f->abi,
              f->inject[0] ? ", mutant " : "", f->inject, f->dir, f->case_size));
    else
      add(out, &n, "case", 0,
          fmt("seed %llu index %llu (%s)%s%s: %s/case.case (%ld bytes)",
              (unsigned long long)f->seed, (unsigned long long)f->index, f->abi,
              f->inject[0] ? ", mutant " : "", f->inject, f->dir, f->case_size));
    if (f->has_min) add(out, &n, "reduced", 0, fmt("%s/min.case", f->dir));
    if (b->repro) add(out, &n, "reproducer", 1, fmt("cd %s && sh build.sh", b->repro));
    const char *rp = rj_str(f->json, "replay");
    if (rp) add(out, &n, "replay", 1, fmt("cd %s && %s", f->dir, rp));
    const struct rj *cons = rj_get(f->json, "consensus");
    if (!cons) cons = rj_get(b->summary, "consensus");
    if (cons) add(out, &n, "consensus", 0, members_text(cons));
  }
  const struct rj *sm = rj_get(b->summary, "smallest");
  if (sm) add(out, &n, "smallest", 0, members_text(sm));
  if (b->nfind) {
    char *buf = NULL;
    size_t len = 0;
    FILE *fl = open_memstream(&buf, &len);
    if (fl) {
      for (int i = 0; i < b->nfind; i++)
        fprintf(fl, "%s%s", i ? ", " : "", r->f[b->find[i]].id);
      if (fclose(fl)) free(buf), buf = NULL;
      add(out, &n, "finding directories", 0, buf);
    }
  } else
    add(out, &n, "finding directories", 0, strdup("none kept (the campaign ran without --out?)"));
  return n;
}

void rp_facts_free(rp_fact *f, int n) {
  for (int i = 0; i < n; i++)
    free(f[i].text);
}
