/* findings_out.c - findings into buckets, and each kept one as OUT/findings/<id>/, atomically. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bucket.h"
#include "campaign.h"
#include "cli.h"
#include "oracle.h"

int camp_write_atomic(const char *path, const char *data, size_t len) {
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) return -1;
  while (len) {
    ssize_t w = write(fd, data, len);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      int e = errno;
      close(fd), unlink(tmp);
      errno = e;
      return -1;
    }
    data += w, len -= (size_t)w;
  }
  if (fsync(fd) || close(fd)) {
    unlink(tmp);
    return -1;
  }
  return rename(tmp, path);
}

/* ---- the triage state: compilers, the last case, open cases ------------------------------ */
#define MAX_IDS 8 /* written finding directories remembered per open case */
typedef struct {
  uint64_t index;
  int cc;
  int8_t verdict[CAMP_MAX_LEGS + 1]; /* per enabled leg, then any other (interp); -1 none */
  char other[24];                    /* the name of that other leg */
  char check[CAMP_MAX_LEGS + 1][32]; /* a failing leg's first check */
  unsigned ccs[CAMP_MAX_LEGS + 1];   /* compilers its findings name */
  int findings, nids;
  char ids[MAX_IDS][256];
  char cause[160]; /* the shape of the case's first finding of a precise check */
  int nbuckets;
  int buckets[16]; /* the buckets its findings went into (indices into st->buckets) */
} open_case;

struct camp_triage {
  camp_compiler ccs[CAMP_MAX_CC];
  int ncc;
  /* the case of the last finding (findings of one case arrive together) */
  int have_case;
  uint64_t case_index;
  af_case c;
  char *case_text; /* af_print_str of c, NULL if that failed */
  uint64_t case_size;
  const char *divs[16];
  int ndivs;
  int nopen, capopen;
  open_case *open;
};

static int is_cc_leg(const char *leg) {
  return !strcmp(leg, "cc-caller") || !strcmp(leg, "cc-callee") || !strcmp(leg, "cross-cc") ||
         !strcmp(leg, "c-oracle");
}

int camp_triage_init(const camp_cfg *cfg, camp_stats *st) {
  struct camp_triage *t = calloc(1, sizeof *t);
  if (!t) return -1;
  st->tri = t;
  int want = 0, cross = 0;
  for (int l = 0; l < cfg->nlegs; l++)
    want |= is_cc_leg(cfg->legs[l]->name), cross |= !strcmp(cfg->legs[l]->name, "cross-cc");
  if (!want) return 0;
  const char *names[AF_MAX_ORACLE_CC + 2];
  int n = 0;
  for (int k = 0; k < cfg->legs_cfg.ncc && n < CAMP_MAX_CC; k++)
    names[n++] = cfg->legs_cfg.cc[k];
    /* no --oracle-cc: the compiler legs' defaults (leg_cc.c, leg_coracle.c) */
#ifdef AF_DEFAULT_CLANG
  const char *def_clang = AF_DEFAULT_CLANG;
  if (!n && def_clang[0]) names[n++] = def_clang;
#endif
#ifdef AF_DEFAULT_GCC
  const char *def_gcc = AF_DEFAULT_GCC;
  if (n == 1 && !cfg->legs_cfg.ncc && cross && def_gcc[0]) names[n++] = def_gcc; /* cross-cc */
#endif
  for (int k = 0; k < n && k < CAMP_MAX_CC; k++) {
    camp_compiler *cc = &t->ccs[t->ncc++];
    snprintf(cc->name, sizeof cc->name, "%s", names[k]);
    af_error err = {{0}};
    if (af_cc_identify(names[k], &cc->family, &cc->major, &err) == AF_OK && cc->major > 0) {
      snprintf(cc->id, sizeof cc->id, "%s-%d", af_family_name(cc->family), cc->major);
    } else {
      const char *base = strrchr(names[k], '/');
      snprintf(cc->id, sizeof cc->id, "%s", base ? base + 1 : names[k]);
      cc->major = 0;
    }
  }
  return 0;
}

/* The case `index` (regenerated once for all the findings of a case), its .case size and the
 * divergence ids it hits. NULL when it cannot be regenerated. */
static const af_case *case_of(const camp_cfg *cfg, struct camp_triage *t, uint64_t index) {
  if (t->have_case && t->case_index == index) return &t->c;
  if (t->have_case) af_case_free(&t->c);
  t->have_case = 0;
  af_error err = {{0}};
  if (camp_gen(cfg, index, &t->c, NULL, &err) != AF_OK) {
    af_case_free(&t->c);
    return NULL;
  }
  t->have_case = 1, t->case_index = index;
  size_t len = 0;
  free(t->case_text);
  t->case_text = NULL;
  if (af_print_str(&t->c, &t->case_text, &len) != AF_OK) free(t->case_text), t->case_text = NULL;
  t->case_size = t->case_text ? len : 0;
  t->ndivs = camp_case_divergences(&t->c, t->ccs, t->ncc, t->divs, 16);
  return &t->c;
}

static int leg_slot(const camp_cfg *cfg, const char *leg) {
  for (int l = 0; l < cfg->nlegs; l++)
    if (!strcmp(cfg->legs[l]->name, leg)) return l;
  return cfg->nlegs;
}

static open_case *open_get(const camp_cfg *cfg, struct camp_triage *t, uint64_t index, int cc) {
  for (int i = 0; i < t->nopen; i++)
    if (t->open[i].index == index) return &t->open[i];
  if (t->nopen == t->capopen) {
    int cap = t->capopen ? t->capopen * 2 : 64;
    open_case *n = realloc(t->open, (size_t)cap * sizeof *n);
    if (!n) return NULL;
    t->open = n, t->capopen = cap;
  }
  open_case *o = &t->open[t->nopen++];
  memset(o, 0, sizeof *o);
  o->index = index, o->cc = cc;
  for (int l = 0; l <= CAMP_MAX_LEGS; l++)
    o->verdict[l] = -1;
  (void)cfg;
  return o;
}

static camp_bucket *bucket_for(camp_stats *st, const af_finding *f, int cc, const char *key,
                               const char *shape) {
  for (int i = 0; i < st->nbuckets; i++)
    if (!strcmp(st->buckets[i].key, key)) return &st->buckets[i];
  if (st->nbuckets == st->capbuckets) {
    int cap = st->capbuckets ? st->capbuckets * 2 : 64;
    camp_bucket *nb = realloc(st->buckets, (size_t)cap * sizeof *nb);
    if (!nb) return NULL;
    st->buckets = nb, st->capbuckets = cap;
  }
  camp_bucket *b = &st->buckets[st->nbuckets++];
  memset(b, 0, sizeof *b);
  snprintf(b->leg, sizeof b->leg, "%s", f->leg);
  snprintf(b->check, sizeof b->check, "%s", f->check);
  snprintf(b->what, sizeof b->what, "%s", f->what);
  snprintf(b->key, sizeof b->key, "%s", key);
  snprintf(b->shape, sizeof b->shape, "%s", shape);
  b->cc = cc;
  return b;
}

static const char *const reg_names[23] = {
    "r8",  "r9",  "r10", "r11", "r12", "r13",    "r14",    "r15", "rdi",    "rsi",     "rbp", "rbx",
    "rdx", "rax", "rcx", "rsp", "rip", "eflags", "csgsfs", "err", "trapno", "oldmask", "cr2"};

/* What triage adds to a finding's report.json. */
typedef struct {
  const char *key, *shape;
  const char *known_id, *known_reason; /* NULL: not known */
} triage_info;

static void report_json(FILE *f, const camp_cfg *cfg, uint64_t index, int cc, const char *id,
                        const af_finding *fd, const camp_crash *cr, const triage_info *ti) {
  fputs("{\n  \"id\": ", f), camp_json_str(f, id);
  fputs(",\n  \"leg\": ", f), camp_json_str(f, fd->leg);
  fputs(",\n  \"check\": ", f), camp_json_str(f, fd->check);
  fputs(",\n  \"what\": ", f), camp_json_str(f, fd->what);
  fputs(",\n  \"detail\": ", f), camp_json_str(f, fd->detail);
  /* seed and index are the run's (the garbage patterns derive from them, so replay needs
   * them); a case read from a file is named by its path too */
  fprintf(f, ",\n  \"seed\": %llu,\n  \"index\": %llu,", (unsigned long long)cfg->seed,
          (unsigned long long)index);
  if (camp_case_file(cfg, index))
    fputs("\n  \"case_file\": ", f), camp_json_str(f, camp_case_file(cfg, index)), fputc(',', f);
  fprintf(f, "\n  \"abi\": \"%s\",\n  \"inject\": ", af_cc_name((af_cc)cc));
  if (cfg->legs_cfg.inject)
    camp_json_str(f, cfg->legs_cfg.inject);
  else
    fputs("null", f);
  fputs(",\n  \"backend\": ", f);
  camp_json_str(f, cfg->legs_cfg.backend_spec ? cfg->legs_cfg.backend_spec : "builtin");
  fprintf(f, ",\n  \"version\": \"%s\",\n  \"gen_version\": %d,\n", AF_VERSION, AF_GEN_VERSION);
  if (cfg->legs_cfg.backend_spec) {
    /* the shell-quoted spec inside a JSON string: camp_json_str escapes it */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "abifuzz replay --backend '%s' case.case",
             cfg->legs_cfg.backend_spec);
    fputs("  \"replay\": ", f);
    camp_json_str(f, cmd);
  } else {
    fprintf(f, "  \"replay\": \"abifuzz interp case.case; abifuzz jit case.case --run%s%s\"",
            cfg->legs_cfg.inject ? " --inject " : "",
            cfg->legs_cfg.inject ? cfg->legs_cfg.inject : "");
  }
  fputs(",\n  \"bucket\": ", f), camp_json_str(f, ti->key);
  fputs(",\n  \"shape\": ", f), camp_json_str(f, ti->shape);
  fputs(",\n  \"known\": ", f);
  if (ti->known_id) {
    fputs("{\"rule\": ", f), camp_json_str(f, ti->known_id);
    fputs(", \"reason\": ", f), camp_json_str(f, ti->known_reason);
    fputc('}', f);
  } else {
    fputs("null", f);
  }
  if (cr) {
    fputs(",\n  \"crash\": {\"signal\": ", f);
    if (cr->sig > 0)
      camp_json_str(f, camp_signame(cr->sig));
    else
      fputs("null", f);
    fprintf(f, ", \"signo\": %d", cr->sig);
    if (cr->have_regs) {
      fprintf(f,
              ", \"si_code\": %d, \"fault_addr\": \"0x%llx\", \"rip\": \"0x%llx\", "
              "\"rip_in_jit\": %d, \"addr_in_jit\": %d",
              cr->code, (unsigned long long)cr->addr, (unsigned long long)cr->rip, cr->rip_in_jit,
              cr->addr_in_jit);
      if (cr->rip_where[0]) fputs(", \"rip_module\": ", f), camp_json_str(f, cr->rip_where);
      fputs(",\n    \"regs\": {", f);
      for (int r = 0; r < 23; r++)
        fprintf(f, "%s\"%s\": \"0x%llx\"", r ? ", " : "", reg_names[r],
                (unsigned long long)cr->gregs[r]);
      fputc('}', f);
    }
    fputc('}', f);
  }
  fputs("\n}\n", f);
}

/* OUT/findings/<id>/ with case.case and report.json: both files are written into
 * OUT/findings/.tmp-<id>/ (each fsync'd) and the directory renamed into place, so a finding
 * directory is never seen half-written. */
static int write_finding_dir(const camp_cfg *cfg, struct camp_triage *t, uint64_t index, int cc,
                             const af_finding *fd, const camp_crash *cr, const triage_info *ti,
                             char *id, size_t nid) {
  char base[4096], dir[4400], tmpdir[4400], path[4600];
  snprintf(base, sizeof base, "%s/findings", cfg->outdir);
  if (mkdir(base, 0777) && errno != EEXIST) return -1;
  struct stat sb;
  for (int n = 1;; n++) {
    if (n == 1)
      snprintf(id, nid, "%llu-%llu-%s-%s", (unsigned long long)cfg->seed, (unsigned long long)index,
               fd->leg, fd->check);
    else
      snprintf(id, nid, "%llu-%llu-%s-%s-%d", (unsigned long long)cfg->seed,
               (unsigned long long)index, fd->leg, fd->check, n);
    for (char *p = id; *p; p++)
      if (*p == '/' || *p == ' ') *p = '_';
    snprintf(dir, sizeof dir, "%s/%s", base, id);
    if (stat(dir, &sb)) break;
  }
  snprintf(tmpdir, sizeof tmpdir, "%s/.tmp-%s", base, id);
  if (mkdir(tmpdir, 0777) && errno != EEXIST) return -1;

  if (!case_of(cfg, t, index) || !t->case_text) return -1;
  snprintf(path, sizeof path, "%s/case.case", tmpdir);
  if (camp_write_atomic(path, t->case_text, t->case_size)) return -1;
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (!f) return -1;
  report_json(f, cfg, index, cc, id, fd, cr, ti);
  if (fclose(f)) return free(text), -1;
  snprintf(path, sizeof path, "%s/report.json", tmpdir);
  int rc = camp_write_atomic(path, text, len);
  free(text);
  if (rc) return -1;
  if (rename(tmpdir, dir)) return -1;
  int dfd = open(base, O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) fsync(dfd), close(dfd);
  return 0;
}

void camp_record_finding(const camp_cfg *cfg, camp_stats *st, uint64_t index, int cc,
                         const af_finding *f, const camp_crash *crash) {
  st->findings++;
  if (!st->tri) camp_triage_init(cfg, st);
  struct camp_triage *t = st->tri;
  const af_case *c = t ? case_of(cfg, t, index) : NULL;
  char shape[160], key[224];
  camp_shape(c, f, crash, shape, sizeof shape);
  /* A wrong result, object byte or checksum is a consequence: when a check that names its
   * cause (an argument, a register, a rule) fired on the same case before, the consequence
   * goes into a bucket of that cause, not one per return type. */
  open_case *oc = t ? open_get(cfg, t, index, cc) : NULL;
  if (oc && camp_check_is_consequence(f->check)) {
    char suspect[160];
    if (oc->cause[0] || (c && camp_case_suspect(c, suspect, sizeof suspect))) {
      char sh[160];
      snprintf(sh, sizeof sh, "consequence of: %.140s", oc->cause[0] ? oc->cause : suspect);
      memcpy(shape, sh, sizeof shape);
    }
  } else if (oc && oc->cause[0] && camp_check_is_value(f->check) && strcmp(oc->cause, shape)) {
    /* a wrong argument after the case's first fault: one wrong register or slot moves the
     * arguments after it (w64-float-index, stack-args-reversed) */
    char sh[160];
    snprintf(sh, sizeof sh, "consequence of: %.140s", oc->cause);
    memcpy(shape, sh, sizeof shape);
  } else if (oc && !oc->cause[0] && strcmp(f->check, "crash") && strcmp(f->check, "timeout")) {
    snprintf(oc->cause, sizeof oc->cause, "%s", shape);
  }
  camp_bucket_key(f->leg, f->check, cc, shape, key, sizeof key);
  triage_info ti = {key, shape, NULL, NULL};
  if (cfg->known && t) {
    camp_known_query q = {f->leg,
                          f->check,
                          f->what,
                          shape,
                          cfg->legs_cfg.inject,
                          t->ccs,
                          t->ncc,
                          camp_compilers_named(t->ccs, t->ncc, f->what),
                          c ? t->divs : NULL,
                          c ? t->ndivs : 0,
                          c,
                          cfg->legs_cfg.backend_spec};
    if (camp_rules_match(cfg->known, &q, &ti.known_id, &ti.known_reason)) st->known++;
  }
  camp_bucket *b = bucket_for(st, f, cc, key, shape);
  int first = b && b->count == 0;
  uint64_t size = c ? t->case_size : 0;
  int smaller = b && size && (!b->smallest_size || size < b->smallest_size);
  if (b) {
    if (!b->count) b->first_index = index, b->first_s = camp_now() - st->t0;
    b->count++;
    if (ti.known_id && !b->known++)
      snprintf(b->known_rule, sizeof b->known_rule, "%s", ti.known_id);
    if (smaller || !b->smallest_size) {
      b->smallest_index = index, b->smallest_size = size;
      b->smallest_id[0] = 0;
    }
  }
  if (oc) {
    oc->findings++;
    int bi = b ? (int)(b - st->buckets) : -1, dup = bi < 0;
    for (int i = 0; i < oc->nbuckets && !dup; i++)
      dup = oc->buckets[i] == bi;
    if (!dup && oc->nbuckets < 16) oc->buckets[oc->nbuckets++] = bi;
  }
  if (!cfg->outdir) {
    if (cfg->silent) return;
    char where[64];
    const char *file = camp_case_file(cfg, index);
    snprintf(where, sizeof where, "seed %llu index %llu", (unsigned long long)cfg->seed,
             (unsigned long long)index);
    printf("finding: %s%s (%s) %s %s %s: %s%s%s%s\n", file ? "case file " : "", file ? file : where,
           af_cc_name((af_cc)cc), f->leg, f->check, f->what, f->detail,
           ti.known_id ? "  [known: " : "", ti.known_id ? ti.known_id : "", ti.known_id ? "]" : "");
    fflush(stdout);
    return;
  }
  /* the first CAMP_KEEP of a bucket, and any case smaller than every earlier one (so that the
   * bucket's smallest case is always on disk) */
  if (b && b->written >= CAMP_KEEP && !smaller) return;
  char id[256];
  if (!t || write_finding_dir(cfg, t, index, cc, f, crash, &ti, id, sizeof id)) {
    cli_error("cannot write the finding of case %llu under '%s/findings': %s",
              (unsigned long long)index, cfg->outdir, strerror(errno));
    return;
  }
  if (b) {
    if (!b->written) snprintf(b->first_id, sizeof b->first_id, "%s", id);
    if (b->smallest_index == index && !b->smallest_id[0])
      snprintf(b->smallest_id, sizeof b->smallest_id, "%s", id);
    b->written++;
  }
  if (oc && oc->nids < MAX_IDS) snprintf(oc->ids[oc->nids++], sizeof oc->ids[0], "%s", id);
  if (first && !cfg->quiet) {
    printf("new bucket: %s (index %llu): %s: %s%s%s%s  -> findings/%s\n", key,
           (unsigned long long)index, f->what, f->detail, ti.known_id ? "  [known: " : "",
           ti.known_id ? ti.known_id : "", ti.known_id ? "]" : "", id);
    fflush(stdout);
  }
}

/* ---- consensus --------------------------------------------------------------------------------
 */
static const char *verdict_leg(const camp_cfg *cfg, const open_case *o, int l) {
  return l < cfg->nlegs ? cfg->legs[l]->name : o->other;
}

/* The "consensus" object of an open case. */
/* The outlier of an open case and who agrees (camp_outlier over its verdicts). */
static int case_outlier(const camp_cfg *cfg, const struct camp_triage *t, const open_case *o,
                        char *out, size_t n, const char **agree, int max) {
  camp_vote v[CAMP_MAX_LEGS + 1];
  int nv = 0;
  for (int l = 0; l <= cfg->nlegs && l <= CAMP_MAX_LEGS; l++)
    if (o->verdict[l] == AF_LEG_PASS || o->verdict[l] == AF_LEG_FAIL)
      v[nv++] = (camp_vote){verdict_leg(cfg, o, l), o->verdict[l], o->ccs[l]};
  return camp_outlier(v, nv, t->ccs, t->ncc, out, n, agree, max);
}

static void consensus_json(FILE *f, const camp_cfg *cfg, const camp_stats *st, const open_case *o) {
  const struct camp_triage *t = st->tri;
  static const char *const lists[] = {"pass", "fail", "skip", "missing"};
  fputs("{", f);
  for (int which = 0; which < 4; which++) {
    fprintf(f, "%s\"%s\": [", which ? ", " : "", lists[which]);
    int n = 0;
    for (int l = 0; l <= cfg->nlegs && l <= CAMP_MAX_LEGS; l++) {
      int vd = o->verdict[l];
      if (l == cfg->nlegs && vd < 0) continue; /* no other leg */
      if (l < cfg->nlegs) {
        const camp_leg_stats *ls = NULL;
        for (int i = 0; i < st->nlegs; i++)
          if (!strcmp(st->legs[i].name, cfg->legs[l]->name)) ls = &st->legs[i];
        if (ls && ls->off[0]) continue; /* off in this campaign: no verdict expected */
      }
      int mine = which == 0   ? vd == AF_LEG_PASS
                 : which == 1 ? vd == AF_LEG_FAIL
                 : which == 2 ? vd == AF_LEG_SKIP
                              : vd < 0;
      if (!mine) continue;
      fputs(n++ ? ", " : "", f);
      if (which == 1) {
        fputs("{\"leg\": ", f), camp_json_str(f, verdict_leg(cfg, o, l));
        fputs(", \"check\": ", f), camp_json_str(f, o->check[l]);
        fputc('}', f);
      } else {
        camp_json_str(f, verdict_leg(cfg, o, l));
      }
    }
    fputc(']', f);
  }
  /* who agrees with whom: the implementations vouched for, and the outlier */
  char outlier[128];
  const char *agree[32];
  int na = case_outlier(cfg, t, o, outlier, sizeof outlier, agree, 32);
  fputs(", \"agree\": [", f);
  for (int i = 0; i < na; i++) {
    fputs(i ? ", " : "", f);
    camp_json_str(f, agree[i]);
  }
  fputs("], \"outlier\": ", f);
  if (outlier[0])
    camp_json_str(f, outlier);
  else
    fputs("null", f);
  fputs("}", f);
}

/* Rewrites each written finding of o with its consensus: the report.json as written, with
 * "consensus" added as its last key, atomically. */
static void write_consensus(const camp_cfg *cfg, const camp_stats *st, const open_case *o) {
  if (!cfg->outdir || !o->nids) return;
  char *cons = NULL;
  size_t clen = 0;
  FILE *m = open_memstream(&cons, &clen);
  if (!m) return;
  consensus_json(m, cfg, st, o);
  if (fclose(m)) return free(cons);
  for (int i = 0; i < o->nids; i++) {
    char path[4400];
    snprintf(path, sizeof path, "%s/findings/%s/report.json", cfg->outdir, o->ids[i]);
    FILE *f = fopen(path, "r");
    if (!f) continue;
    char *old = NULL;
    size_t cap = 0;
    ssize_t len = getdelim(&old, &cap, 0, f);
    fclose(f);
    /* the file ends with "\n}\n" (report_json) */
    if (len < 3 || strcmp(old + len - 3, "\n}\n") || strstr(old, "\"consensus\"")) {
      free(old);
      continue;
    }
    char *text = NULL;
    size_t tlen = 0;
    FILE *w = open_memstream(&text, &tlen);
    if (w) {
      fwrite(old, 1, (size_t)len - 3, w);
      fprintf(w, ",\n  \"consensus\": %s\n}\n", cons);
      if (!fclose(w) && camp_write_atomic(path, text, tlen))
        cli_error("cannot rewrite '%s': %s", path, strerror(errno));
    }
    free(text);
    free(old);
  }
  free(cons);
}

/* 1 when every leg that is on has its verdict on o. */
static int complete(const camp_cfg *cfg, const camp_stats *st, const open_case *o) {
  for (int l = 0; l < cfg->nlegs && l < CAMP_MAX_LEGS; l++) {
    if (o->verdict[l] >= 0) continue;
    for (int i = 0; i < st->nlegs; i++)
      if (!strcmp(st->legs[i].name, cfg->legs[l]->name) && !st->legs[i].off[0]) return 0;
  }
  return 1;
}

/* Counts the case's outlier in each of its buckets (the first 4 names a bucket sees). */
static void tally_outlier(const camp_cfg *cfg, camp_stats *st, const open_case *o) {
  char out[128];
  const char *agree[1];
  case_outlier(cfg, st->tri, o, out, sizeof out, agree, 0);
  for (int i = 0; i < o->nbuckets; i++) {
    if (o->buckets[i] < 0 || o->buckets[i] >= st->nbuckets) continue;
    camp_bucket *b = &st->buckets[o->buckets[i]];
    int k = 0;
    while (k < b->noutliers && strcmp(b->outlier[k], out))
      k++;
    if (k == b->noutliers) {
      if (k == 4) continue;
      snprintf(b->outlier[k], sizeof b->outlier[k], "%.31s", out);
      b->outlier_n[k] = 0, b->noutliers++;
    }
    b->outlier_n[k]++;
  }
}

static void close_case(const camp_cfg *cfg, camp_stats *st, int i) {
  struct camp_triage *t = st->tri;
  if (t->open[i].findings) {
    write_consensus(cfg, st, &t->open[i]);
    tally_outlier(cfg, st, &t->open[i]);
  }
  t->open[i] = t->open[--t->nopen];
}

static int open_find(const struct camp_triage *t, uint64_t index) {
  for (int i = 0; i < t->nopen; i++)
    if (t->open[i].index == index) return i;
  return -1;
}

void camp_note_end(const camp_cfg *cfg, camp_stats *st, uint64_t index, int cc, const char *leg,
                   int verdict, const af_finding *f, int nf) {
  struct camp_triage *t = st->tri;
  if (!t) return;
  open_case *o = open_get(cfg, t, index, cc);
  if (!o) return;
  int l = leg_slot(cfg, leg);
  if (l == cfg->nlegs) snprintf(o->other, sizeof o->other, "%s", leg);
  if (l > CAMP_MAX_LEGS) return;
  o->verdict[l] = (int8_t)(verdict == AF_LEG_PASS && nf > 0 ? AF_LEG_FAIL : verdict);
  for (int i = 0; i < nf; i++) {
    if (!o->check[l][0]) snprintf(o->check[l], sizeof o->check[l], "%s", f[i].check);
    o->ccs[l] |= camp_compilers_named(t->ccs, t->ncc, f[i].what);
  }
  if (l < cfg->nlegs && complete(cfg, st, o)) close_case(cfg, st, open_find(t, index));
}

void camp_case_done(const camp_cfg *cfg, camp_stats *st, uint64_t index, int submitted) {
  struct camp_triage *t = st->tri;
  if (!t) return;
  int i = open_find(t, index);
  if (i < 0) return;
  if (!submitted || complete(cfg, st, &t->open[i])) close_case(cfg, st, i);
}

void camp_triage_finish(const camp_cfg *cfg, camp_stats *st) {
  struct camp_triage *t = st->tri;
  if (!t) return;
  while (t->nopen)
    close_case(cfg, st, t->nopen - 1);
  if (t->have_case) af_case_free(&t->c);
  free(t->case_text);
  free(t->open);
  free(t);
  st->tri = NULL;
}
