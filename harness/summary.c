/* summary.c - the campaign's counters: the status line, OUT/summary.json, the final summary. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "campaign.h"

double camp_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

const char *camp_abi_name(camp_abi a) {
  switch (a) {
  case CAMP_ABI_SYSV: return "sysv";
  case CAMP_ABI_WIN64: return "win64";
  case CAMP_ABI_BOTH: return "both";
  case CAMP_ABI_DRAWN: return "all";
  }
  return "?";
}

const char *camp_case_file(const camp_cfg *cfg, uint64_t index) {
  return cfg->ncase_files && index < (uint64_t)cfg->ncase_files ? cfg->case_files[index] : NULL;
}

af_status camp_gen(const camp_cfg *cfg, uint64_t index, af_case *out, int *axes, af_error *err) {
  if (cfg->ncase_files) { /* abifuzz [options] FILE.case...: the files, in order */
    if (axes)
      for (int a = 0; a < af_weights_naxes(cfg->gen.weights); a++)
        axes[a] = -1;
    if (index >= (uint64_t)cfg->ncase_files) {
      af_case_init(out);
      snprintf(err->msg, sizeof err->msg, "no case file %llu", (unsigned long long)index);
      return AF_ERR_INVALID;
    }
    return af_parse_file(cfg->case_files[index], out, err);
  }
  af_gen_opts o = cfg->gen;
  switch (cfg->abi) {
  case CAMP_ABI_SYSV: o.cc = AF_CC_SYSV; break;
  case CAMP_ABI_WIN64: o.cc = AF_CC_WIN64; break;
  case CAMP_ABI_BOTH: o.cc = (index & 1) ? AF_CC_WIN64 : AF_CC_SYSV; break;
  case CAMP_ABI_DRAWN: o.cc = -1; break;
  }
  return af_gen_case(&o, cfg->seed, index, out, axes, err);
}

int camp_stats_init(camp_stats *st, const camp_cfg *cfg) {
  memset(st, 0, sizeof *st);
  st->t0 = camp_now();
  for (int l = 0; l < cfg->nlegs; l++)
    camp_leg(st, cfg->legs[l]->name);
  st->naxes = af_weights_naxes(cfg->gen.weights);
  st->axis_hits = calloc((size_t)st->naxes * 64 + 1, sizeof *st->axis_hits);
  return st->axis_hits ? 0 : -1;
}

void camp_stats_free(camp_stats *st) {
  free(st->buckets);
  free(st->axis_hits);
  st->buckets = NULL, st->axis_hits = NULL;
}

camp_leg_stats *camp_leg(camp_stats *st, const char *name) {
  for (int i = 0; i < st->nlegs; i++)
    if (!strcmp(st->legs[i].name, name)) return &st->legs[i];
  if (st->nlegs == (int)(sizeof st->legs / sizeof st->legs[0])) return NULL;
  camp_leg_stats *l = &st->legs[st->nlegs++];
  memset(l, 0, sizeof *l);
  snprintf(l->name, sizeof l->name, "%s", name);
  return l;
}

void camp_count_skip(camp_leg_stats *l, const char *reason) {
  l->skip++;
  if (!reason || !*reason) reason = "(no reason given)";
  for (int i = 0; i < l->nreasons; i++)
    if (!strcmp(l->reason[i], reason)) {
      l->reason_n[i]++;
      return;
    }
  if (l->nreasons == CAMP_MAX_REASONS) {
    l->reason_other++;
    return;
  }
  snprintf(l->reason[l->nreasons], sizeof l->reason[0], "%s", reason);
  l->reason_n[l->nreasons++] = 1;
}

static double elapsed(const camp_stats *st) { return camp_now() - st->t0; }

static double rate(const camp_stats *st) {
  double e = elapsed(st);
  return e > 0 ? (double)st->cases / e : 0;
}

void camp_status_line(const camp_stats *st, FILE *out) {
  fprintf(out, "#%llu  %.1fs  cases/s %.0f  findings %llu", (unsigned long long)st->cases,
          elapsed(st), rate(st), (unsigned long long)st->findings);
  if (st->crashes) fprintf(out, "  crashes %llu", (unsigned long long)st->crashes);
  if (st->timeouts) fprintf(out, "  timeouts %llu", (unsigned long long)st->timeouts);
  fputs("  legs", out);
  for (int i = 0; i < st->nlegs; i++)
    if (!st->legs[i].off[0])
      fprintf(out, " %s %llu", st->legs[i].name, (unsigned long long)st->legs[i].ran);
  fputc('\n', out);
  fflush(out);
}

void camp_json_str(FILE *out, const char *s) {
  fputc('"', out);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      fprintf(out, "\\%c", *p);
    else if (*p == '\n')
      fputs("\\n", out);
    else if (*p < 0x20 || *p >= 0x7f)
      fprintf(out, "\\u%04x", *p); /* bytes above ASCII never occur in our texts; keep it valid */
    else
      fputc(*p, out);
  }
  fputc('"', out);
}

static void write_summary(FILE *f, const camp_cfg *cfg, const camp_stats *st, int done) {
  fprintf(f, "{\n  \"version\": \"%s\",\n  \"gen_version\": %d,\n", AF_VERSION, AF_GEN_VERSION);
  fprintf(f, "  \"done\": %s,\n  \"seed\": %llu,\n  \"start\": %llu,\n", done ? "true" : "false",
          (unsigned long long)cfg->seed, (unsigned long long)cfg->start);
  fprintf(f, "  \"abi\": \"%s\",\n  \"inject\": ", camp_abi_name(cfg->abi));
  if (cfg->legs_cfg.inject)
    camp_json_str(f, cfg->legs_cfg.inject);
  else
    fputs("null", f);
  fputs(",\n  \"backend\": ", f);
  camp_json_str(f, cfg->legs_cfg.backend_spec ? cfg->legs_cfg.backend_spec : "builtin");
  fputs(",\n  \"legs\": [", f);
  for (int l = 0; l < cfg->nlegs; l++) {
    fputs(l ? ", " : "", f);
    camp_json_str(f, cfg->legs[l]->name);
  }
  fputs("],\n  \"oracle_cc\": [", f);
  for (int k = 0; k < cfg->legs_cfg.ncc; k++) {
    fputs(k ? ", " : "", f);
    camp_json_str(f, cfg->legs_cfg.cc[k]);
  }
  fprintf(f, "],\n  \"jobs\": %d,\n  \"timeout_ms\": %d,\n", cfg->jobs, cfg->timeout_ms);
  /* --shard K/N: {"k": K, "n": N, "block": CAMP_BLOCK}; null when not sharded */
  if (cfg->shard_n)
    fprintf(f, "  \"shard\": {\"k\": %d, \"n\": %d, \"block\": %d},\n", cfg->shard_k, cfg->shard_n,
            CAMP_BLOCK);
  else
    fputs("  \"shard\": null,\n", f);
  fprintf(f, "  \"resumed\": %s,\n", cfg->resume ? "true" : "false");
  fprintf(f, "  \"cases\": %llu,\n  \"cases_by_abi\": {\"sysv\": %llu, \"win64\": %llu},\n",
          (unsigned long long)st->cases, (unsigned long long)st->by_cc[AF_CC_SYSV],
          (unsigned long long)st->by_cc[AF_CC_WIN64]);
  fprintf(f,
          "  \"findings\": %llu,\n  \"crashes\": %llu,\n  \"timeouts\": %llu,\n"
          "  \"internal_errors\": %llu,\n  \"worker_restarts\": %llu,\n  \"known\": %llu,\n",
          (unsigned long long)st->findings, (unsigned long long)st->crashes,
          (unsigned long long)st->timeouts, (unsigned long long)st->internal_errors,
          (unsigned long long)st->restarts, (unsigned long long)st->known);
  fprintf(f, "  \"elapsed_s\": %.3f,\n  \"cases_per_s\": %.1f,\n", elapsed(st), rate(st));
  fprintf(f, "  \"gen_s\": %.3f,\n  \"interp_s\": %.3f,\n", st->t_gen, st->t_interp);
  fputs("  \"per_leg\": {", f);
  for (int i = 0; i < st->nlegs; i++) {
    const camp_leg_stats *l = &st->legs[i];
    fputs(i ? ",\n    " : "\n    ", f);
    camp_json_str(f, l->name);
    fprintf(f,
            ": {\"ran\": %llu, \"pass\": %llu, \"fail\": %llu, \"skip\": %llu, \"crash\": %llu, "
            "\"timeout\": %llu, \"lost\": %llu, \"off\": ",
            (unsigned long long)l->ran, (unsigned long long)l->pass, (unsigned long long)l->fail,
            (unsigned long long)l->skip, (unsigned long long)l->crash,
            (unsigned long long)l->timeout, (unsigned long long)l->lost);
    if (l->off[0])
      camp_json_str(f, l->off);
    else
      fputs("null", f);
    fputs(", \"skip_reasons\": {", f);
    for (int r = 0; r < l->nreasons; r++) {
      fputs(r ? ", " : "", f);
      camp_json_str(f, l->reason[r]);
      fprintf(f, ": %llu", (unsigned long long)l->reason_n[r]);
    }
    if (l->reason_other)
      fprintf(f, "%s\"(other)\": %llu", l->nreasons ? ", " : "",
              (unsigned long long)l->reason_other);
    fputs("}}", f);
  }
  fputs("\n  },\n  \"buckets\": [", f);
  for (int b = 0; b < st->nbuckets; b++) {
    const camp_bucket *k = &st->buckets[b];
    fputs(b ? ",\n    {" : "\n    {", f);
    fputs("\"leg\": ", f), camp_json_str(f, k->leg);
    fputs(", \"check\": ", f), camp_json_str(f, k->check);
    fprintf(f, ", \"abi\": \"%s\", \"what\": ", af_cc_name((af_cc)k->cc));
    camp_json_str(f, k->what);
    fprintf(f, ", \"count\": %llu, \"first_index\": %llu, \"first_s\": %.3f, \"first_finding\": ",
            (unsigned long long)k->count, (unsigned long long)k->first_index, k->first_s);
    if (k->first_id[0])
      camp_json_str(f, k->first_id);
    else
      fputs("null", f);
    fprintf(f, ", \"written\": %d, \"key\": ", k->written);
    camp_json_str(f, k->key);
    fputs(", \"shape\": ", f), camp_json_str(f, k->shape);
    fprintf(f, ", \"smallest\": {\"index\": %llu, \"size\": %llu, \"finding\": ",
            (unsigned long long)k->smallest_index, (unsigned long long)k->smallest_size);
    if (k->smallest_id[0])
      camp_json_str(f, k->smallest_id);
    else
      fputs("null", f);
    fprintf(f, "}, \"known\": %llu, \"known_rule\": ", (unsigned long long)k->known);
    if (k->known_rule[0])
      camp_json_str(f, k->known_rule);
    else
      fputs("null", f);
    fputs(", \"outliers\": {", f); /* "" (no outlier) as "none" */
    for (int o = 0; o < k->noutliers; o++) {
      fputs(o ? ", " : "", f);
      camp_json_str(f, k->outlier[o][0] ? k->outlier[o] : "none");
      fprintf(f, ": %llu", (unsigned long long)k->outlier_n[o]);
    }
    fputs("}}", f);
  }
  fputs(st->nbuckets ? "\n  ],\n" : "],\n", f);
  fputs("  \"axes\": {", f);
  for (int a = 0; a < st->naxes; a++) {
    fputs(a ? ",\n    " : "\n    ", f);
    camp_json_str(f, af_weights_axis(cfg->gen.weights, a));
    fputs(": {", f);
    for (int v = 0; v < af_weights_nvalues(cfg->gen.weights, a) && v < 64; v++) {
      fputs(v ? ", " : "", f);
      camp_json_str(f, af_weights_value(cfg->gen.weights, a, v));
      fprintf(f, ": %llu", (unsigned long long)st->axis_hits[a * 64 + v]);
    }
    fputc('}', f);
  }
  fputs(st->naxes ? "\n  }\n}\n" : "}\n}\n", f);
}

int camp_write_summary(const camp_cfg *cfg, const camp_stats *st, int done) {
  if (!cfg->outdir) return 0;
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) return -1;
  write_summary(f, cfg, st, done);
  if (fclose(f)) {
    free(buf);
    return -1;
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/summary.json", cfg->outdir);
  int rc = camp_write_atomic(path, buf, len);
  free(buf);
  return rc;
}

void camp_print_summary(const camp_cfg *cfg, const camp_stats *st) {
  printf("abifuzz %s: seed %llu, abi %s, %d worker%s, %.1f s, %.0f cases/s%s%s%s%s\n", AF_VERSION,
         (unsigned long long)cfg->seed, camp_abi_name(cfg->abi), cfg->jobs,
         cfg->jobs == 1 ? "" : "s", elapsed(st), rate(st), cfg->legs_cfg.inject ? ", inject " : "",
         cfg->legs_cfg.inject ? cfg->legs_cfg.inject : "",
         cfg->legs_cfg.backend_spec ? ", backend " : "",
         cfg->legs_cfg.backend_spec ? cfg->legs_cfg.backend_spec : "");
  printf("  generated %llu cases (sysv %llu, win64 %llu)\n", (unsigned long long)st->cases,
         (unsigned long long)st->by_cc[AF_CC_SYSV], (unsigned long long)st->by_cc[AF_CC_WIN64]);
  for (int i = 0; i < st->nlegs; i++) {
    const camp_leg_stats *l = &st->legs[i];
    if (l->off[0]) {
      printf("  %-12s off: %s\n", l->name, l->off);
      continue;
    }
    printf("  %-12s ran %llu, pass %llu, fail %llu (crash %llu, timeout %llu), skip %llu\n",
           l->name, (unsigned long long)l->ran, (unsigned long long)l->pass,
           (unsigned long long)l->fail, (unsigned long long)l->crash,
           (unsigned long long)l->timeout, (unsigned long long)l->skip);
    if (l->lost)
      printf("  %-12s   lost %8llu  pending in a worker that died\n", "",
             (unsigned long long)l->lost);
    if (!cfg->quiet)
      for (int r = 0; r < l->nreasons; r++)
        printf("  %-12s   skip %8llu  %s\n", "", (unsigned long long)l->reason_n[r], l->reason[r]);
  }
  if (!cfg->quiet) {
    /* the biggest buckets first, at most SHOW (summary.json has them all) */
    enum { SHOW = 20 };
    int shown[SHOW], nshown = 0;
    for (; nshown < SHOW && nshown < st->nbuckets; nshown++) {
      int best = -1;
      for (int b = 0; b < st->nbuckets; b++) {
        int taken = 0;
        for (int i = 0; i < nshown; i++)
          taken |= shown[i] == b;
        if (!taken && (best < 0 || st->buckets[b].count > st->buckets[best].count)) best = b;
      }
      shown[nshown] = best;
      const camp_bucket *k = &st->buckets[best];
      printf("  bucket %s: %llu (smallest: index %llu, %llu bytes%s%s)", k->key,
             (unsigned long long)k->count, (unsigned long long)k->smallest_index,
             (unsigned long long)k->smallest_size, k->smallest_id[0] ? ", findings/" : "",
             k->smallest_id);
      int top = -1; /* the most frequent outlier */
      for (int o = 0; o < k->noutliers; o++)
        if (k->outlier[o][0] && (top < 0 || k->outlier_n[o] > k->outlier_n[top])) top = o;
      if (top >= 0) printf(" outlier %s", k->outlier[top]);
      if (k->known) printf(" known %s%s", k->known_rule, k->known < k->count ? " (some)" : "");
      putchar('\n');
    }
    if (st->nbuckets > nshown) printf("  ... %d more buckets\n", st->nbuckets - nshown);
  }
  if (st->internal_errors)
    printf("  internal errors %llu (see stderr)\n", (unsigned long long)st->internal_errors);
  printf("%llu cases, %llu findings in %d buckets (%llu crashes, %llu timeouts",
         (unsigned long long)st->cases, (unsigned long long)st->findings, st->nbuckets,
         (unsigned long long)st->crashes, (unsigned long long)st->timeouts);
  if (st->known) printf(", %llu known", (unsigned long long)st->known);
  printf(")\n");
  fflush(stdout);
}
