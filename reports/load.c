/* load.c - campaign output directories read back into buckets and findings (several merge). */
#define _GNU_SOURCE /* asprintf, vasprintf */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "reports.h"
#include "rp_internal.h"
#include "rp_json.h"

void rp_init(rp_report *r) { memset(r, 0, sizeof *r); }

void rp_free(rp_report *r) {
  for (int i = 0; i < r->ndirs; i++)
    free(r->dirs[i]), rj_free(r->summaries[i]);
  free(r->dirs), free(r->summaries);
  for (int i = 0; i < r->nf; i++)
    free(r->f[i].dir), free(r->f[i].id), rj_free(r->f[i].json);
  free(r->f);
  for (int i = 0; i < r->nb; i++) {
    rp_bucket *b = &r->b[i];
    free(b->key), free(b->known_text), free(b->find);
    free(b->sig_c), free(b->disasm), free(b->disasm_note), free(b->repro);
  }
  free(r->b);
  for (int i = 0; i < r->nlegs; i++)
    free(r->legs[i].off);
  free(r->legs);
  for (int i = 0; i < r->nproblems; i++)
    free(r->problems[i]);
  free(r->problems);
  free(r->injects);
  memset(r, 0, sizeof *r);
}

/* Grows *arr (of elem bytes) to hold n + 1 entries; 0 ok. */
static int grow(void *arr, int n, size_t elem) {
  void **p = arr;
  if (n & (n - 1) && n) return 0; /* capacity is the next power of two */
  size_t cap = n ? (size_t)n * 2 : 4;
  void *q = realloc(*p, cap * elem);
  if (!q) return -1;
  *p = q;
  return 0;
}

int rp_problem(rp_report *r, const char *fmt, ...) {
  char *s = NULL;
  va_list ap;
  va_start(ap, fmt);
  int n = vasprintf(&s, fmt, ap);
  va_end(ap);
  if (n < 0 || grow(&r->problems, r->nproblems, sizeof *r->problems)) return free(s), -1;
  r->problems[r->nproblems++] = s;
  return 0;
}

static const char *str_or(const struct rj *o, const char *key, const char *dflt) {
  const char *s = rj_str(o, key);
  return s ? s : dflt;
}

/* The fallback key, when no part wrote one: the campaign's own bucket tuple. */
static char *tuple_key(const char *leg, const char *check, const char *abi, const char *what) {
  char *k = NULL;
  if (asprintf(&k, "%s/%s %s: %s", leg, check, abi, what) < 0) return NULL;
  return k;
}

/* "known" as text: a string as is, {rule, reason} as "rule: reason", anything else as JSON. */
static char *known_text(const struct rj *v) {
  const char *rule = rj_str(v, "rule"), *why = rj_str(v, "reason");
  char *s = NULL;
  if (rule || why) {
    if (asprintf(&s, "%s%s%s", rule ? rule : "", rule && why ? ": " : "", why ? why : "") < 0)
      return NULL;
    return s;
  }
  if (v->kind == RJ_BOOL) return strdup("labelled known");
  return rj_text(v);
}

static rp_bucket *bucket_find(rp_report *r, const char *key) {
  for (int i = 0; i < r->nb; i++)
    if (!strcmp(r->b[i].key, key)) return &r->b[i];
  return NULL;
}

static rp_bucket *bucket_new(rp_report *r, char *key) {
  if (!key || grow(&r->b, r->nb, sizeof *r->b)) return free(key), NULL;
  rp_bucket *b = &r->b[r->nb++];
  memset(b, 0, sizeof *b);
  b->key = key;
  b->first_s = -1;
  b->rep = -1;
  b->leg = b->check = b->abi = b->what = "";
  return b;
}

/* v: a "known" value; rule: a "known_rule" string next to it, or NULL. */
static void set_known(rp_bucket *b, const struct rj *v, const char *rule) {
  if (!rj_truthy(v) || b->known) return;
  b->known = 1;
  if (rule && (v->kind != RJ_OBJ || !rj_str(v, "rule")))
    b->known_text = strdup(rule);
  else
    b->known_text = known_text(v);
}

/* One summary.json bucket object. */
static int add_summary_bucket(rp_report *r, const struct rj *o) {
  const char *leg = str_or(o, "leg", ""), *check = str_or(o, "check", "");
  const char *abi = str_or(o, "abi", ""), *what = str_or(o, "what", "");
  const char *k = rj_str(o, "key");
  char *key = k ? strdup(k) : tuple_key(leg, check, abi, what);
  if (!key) return -1;
  rp_bucket *b = bucket_find(r, key);
  if (b)
    free(key);
  else {
    if (!(b = bucket_new(r, key))) return -1;
    b->leg = leg, b->check = check, b->abi = abi, b->what = what;
    b->summary = o;
  }
  if (!b->shape) b->shape = rj_str(o, "shape");
  uint64_t n = 0;
  if (!rj_u64(o, "count", &n)) b->count += n;
  const struct rj *fs = rj_get(o, "first_s");
  if (fs && fs->kind == RJ_NUM && (b->first_s < 0 || fs->num < b->first_s)) b->first_s = fs->num;
  set_known(b, rj_get(o, "known"), rj_str(o, "known_rule"));
  return 0;
}

static int add_leg(rp_report *r, const char *name, const struct rj *o) {
  rp_leg *l = NULL;
  for (int i = 0; i < r->nlegs; i++)
    if (!strcmp(r->legs[i].name, name)) l = &r->legs[i];
  if (!l) {
    if (grow(&r->legs, r->nlegs, sizeof *r->legs)) return -1;
    l = &r->legs[r->nlegs++];
    memset(l, 0, sizeof *l);
    snprintf(l->name, sizeof l->name, "%s", name);
  }
  uint64_t x;
  if (!rj_u64(o, "ran", &x)) l->ran += x;
  if (!rj_u64(o, "pass", &x)) l->pass += x;
  if (!rj_u64(o, "fail", &x)) l->fail += x;
  if (!rj_u64(o, "skip", &x)) l->skip += x;
  const char *off = rj_str(o, "off");
  if (off && !l->off && !(l->off = strdup(off))) return -1;
  return 0;
}

static int add_inject(rp_report *r, const char *m) {
  if (!m || !*m) return 0;
  if (r->injects) { /* already listed? (", "-separated) */
    size_t n = strlen(m);
    for (const char *p = r->injects; (p = strstr(p, m)); p += n)
      if ((p == r->injects || p[-1] == ' ') && (p[n] == ',' || !p[n])) return 0;
  }
  char *s = NULL;
  if (asprintf(&s, "%s%s%s", r->injects ? r->injects : "", r->injects ? ", " : "", m) < 0)
    return -1;
  free(r->injects);
  r->injects = s;
  return 0;
}

static int load_summary(rp_report *r, const struct rj *s) {
  uint64_t x;
  if (!rj_u64(s, "cases", &x)) r->cases += x;
  if (!rj_u64(s, "findings", &x)) r->findings += x;
  if (!rj_u64(s, "crashes", &x)) r->crashes += x;
  if (!rj_u64(s, "timeouts", &x)) r->timeouts += x;
  const struct rj *e = rj_get(s, "elapsed_s");
  if (e && e->kind == RJ_NUM && e->num > r->elapsed_s) r->elapsed_s = e->num; /* shards: parallel */
  if (add_inject(r, rj_str(s, "inject"))) return -1;
  const struct rj *pl = rj_get(s, "per_leg");
  if (pl && pl->kind == RJ_OBJ)
    for (int i = 0; i < pl->n; i++)
      if (add_leg(r, pl->keys[i], pl->items[i])) return -1;
  const struct rj *bs = rj_get(s, "buckets");
  if (bs && bs->kind == RJ_ARR)
    for (int i = 0; i < bs->n; i++)
      if (bs->items[i]->kind == RJ_OBJ && add_summary_bucket(r, bs->items[i])) return -1;
  return 0;
}

/* The bucket a finding belongs to: its "bucket" key; a summary bucket naming it as its first
 * finding; the (leg, check, abi, what) tuple; else a bucket of its own. */
static rp_bucket *bucket_of(rp_report *r, const rp_finding *f) {
  rp_bucket *b;
  if (f->key && (b = bucket_find(r, f->key))) return b;
  for (int i = 0; i < r->nb; i++) {
    const char *ff = rj_str(r->b[i].summary, "first_finding");
    if (ff && !strcmp(ff, f->id)) return &r->b[i];
  }
  for (int i = 0; i < r->nb; i++) {
    b = &r->b[i];
    if (!strcmp(b->leg, f->leg) && !strcmp(b->check, f->check) && !strcmp(b->abi, f->abi) &&
        !strcmp(b->what, f->what) && (!f->key || !b->summary || !rj_get(b->summary, "key")))
      return b;
  }
  char *key = f->key ? strdup(f->key) : tuple_key(f->leg, f->check, f->abi, f->what);
  if (!(b = bucket_new(r, key))) return NULL;
  b->leg = f->leg, b->check = f->check, b->abi = f->abi, b->what = f->what;
  b->shape = rj_str(f->json, "shape");
  b->from_findings = 1;
  return b;
}

static int path_size(const char *path, long *size) {
  struct stat sb;
  if (stat(path, &sb) || !S_ISREG(sb.st_mode)) return -1;
  *size = (long)sb.st_size;
  return 0;
}

static int load_finding(rp_report *r, int d, const char *fdir, const char *name) {
  char path[4200], err[200];
  if (snprintf(path, sizeof path, "%s/report.json", fdir) >= (int)sizeof path)
    return rp_problem(r, "%s: path too long: skipped", fdir);
  long sz;
  if (path_size(path, &sz)) return rp_problem(r, "%s: no report.json: skipped", fdir);
  struct rj *j = rj_parse_file(path, err, sizeof err);
  if (!j) return rp_problem(r, "%s: %s: skipped", path, err);
  if (j->kind != RJ_OBJ || !rj_str(j, "leg") || !rj_str(j, "check")) {
    rj_free(j);
    return rp_problem(r, "%s: not a finding report (no leg or check): skipped", path);
  }
  if (grow(&r->f, r->nf, sizeof *r->f)) return rj_free(j), -1;
  rp_finding *f = &r->f[r->nf];
  memset(f, 0, sizeof *f);
  f->json = j;
  f->outdir = d;
  if (!(f->dir = strdup(fdir)) || !(f->id = strdup(name))) {
    free(f->dir), free(f->id), rj_free(j);
    return -1;
  }
  r->nf++;
  f->leg = rj_str(j, "leg"), f->check = rj_str(j, "check");
  f->what = str_or(j, "what", ""), f->detail = str_or(j, "detail", "");
  f->abi = str_or(j, "abi", ""), f->inject = str_or(j, "inject", "");
  f->key = rj_str(j, "bucket");
  if (rj_u64(j, "seed", &f->seed)) f->seed = 0;
  if (rj_u64(j, "index", &f->index)) f->index = 0;
  f->case_file = rj_str(j, "case_file");
  if (snprintf(path, sizeof path, "%s/case.case", fdir) >= (int)sizeof path ||
      path_size(path, &f->case_size)) {
    f->case_size = -1;
    if (rp_problem(r, "%s: no case.case: no signature or disassembly for it", fdir)) return -1;
  }
  f->has_min =
      snprintf(path, sizeof path, "%s/min.case", fdir) < (int)sizeof path && !path_size(path, &sz);
  rp_bucket *b = bucket_of(r, f);
  if (!b || grow(&b->find, b->nfind, sizeof *b->find)) return -1;
  b->find[b->nfind++] = r->nf - 1;
  if (b->from_findings) b->count++;
  if (!b->shape) b->shape = rj_str(j, "shape");
  set_known(b, rj_get(j, "known"), rj_str(j, "known_rule"));
  return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b) {
  return strcmp((*a)->d_name, (*b)->d_name);
}

af_status rp_load_dir(rp_report *r, const char *dir, af_error *err) {
  struct stat sb;
  if (stat(dir, &sb) || !S_ISDIR(sb.st_mode)) {
    snprintf(err->msg, sizeof err->msg, "%.200s: %s", dir,
             errno == ENOENT || !errno ? "no such directory" : strerror(errno));
    if (!stat(dir, &sb) && !S_ISDIR(sb.st_mode))
      snprintf(err->msg, sizeof err->msg, "%.200s: not a directory", dir);
    return AF_ERR_IO;
  }
  char path[4200], perr[200];
  snprintf(path, sizeof path, "%s/findings", dir);
  int have_findings = !stat(path, &sb) && S_ISDIR(sb.st_mode);
  snprintf(path, sizeof path, "%s/summary.json", dir);
  struct rj *s = NULL;
  if (!stat(path, &sb)) {
    if (!(s = rj_parse_file(path, perr, sizeof perr))) {
      snprintf(err->msg, sizeof err->msg, "%.120s: %.120s", path, perr);
      return AF_ERR_PARSE;
    }
    if (s->kind != RJ_OBJ) {
      rj_free(s);
      snprintf(err->msg, sizeof err->msg, "%.200s: not a JSON object", path);
      return AF_ERR_PARSE;
    }
  } else if (!have_findings) {
    snprintf(err->msg, sizeof err->msg,
             "%.160s: not a campaign output directory (no summary.json, no findings/)", dir);
    return AF_ERR_IO;
  }
  if (grow(&r->dirs, r->ndirs, sizeof *r->dirs) ||
      grow(&r->summaries, r->ndirs, sizeof *r->summaries))
    return rj_free(s), AF_ERR_NOMEM;
  int d = r->ndirs;
  if (!(r->dirs[d] = strdup(dir))) return rj_free(s), AF_ERR_NOMEM;
  r->summaries[d] = s;
  r->ndirs++;
  if (!s && rp_problem(r, "%s: no summary.json: buckets from the finding directories only", dir))
    return AF_ERR_NOMEM;
  if (s && load_summary(r, s)) return AF_ERR_NOMEM;
  if (s && !rj_truthy(rj_get(s, "done")) &&
      rp_problem(r, "%s: summary.json says the campaign had not finished (\"done\": false)", dir))
    return AF_ERR_NOMEM;
  if (!have_findings) return AF_OK;
  struct dirent **names = NULL;
  snprintf(path, sizeof path, "%s/findings", dir);
  int n = scandir(path, &names, NULL, by_name);
  if (n < 0) {
    snprintf(err->msg, sizeof err->msg, "%.200s: %s", path, strerror(errno));
    return AF_ERR_IO;
  }
  af_status st = AF_OK;
  for (int i = 0; i < n; i++) {
    const char *nm = names[i]->d_name;
    char fdir[4200];
    snprintf(fdir, sizeof fdir, "%s/findings/%s", dir, nm);
    if (st == AF_OK && nm[0] != '.' && !stat(fdir, &sb) && S_ISDIR(sb.st_mode) &&
        load_finding(r, d, fdir, nm))
      st = AF_ERR_NOMEM;
    free(names[i]);
  }
  free(names);
  return st;
}
