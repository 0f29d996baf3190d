/* campaign.c - the campaign loop: generate cases over a seed range, check each, summarise. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "oracle.h"

#define MAX_CCS   4
#define BATCH_MAX 100 /* cases per compiler run */

typedef struct {
  uint64_t seed, start, count;
  const char *weights, *outdir;
  const char *ccs[MAX_CCS];
  af_family ccfam[MAX_CCS];
  int ccver[MAX_CCS]; /* major version; 0 = not identified */
  int nccs;
  int quiet;
  af_gen_opts gen;
} campaign_opts;

typedef struct {
  uint64_t generated, interpreted, findings, by_cc[AF_CC_COUNT];
  uint64_t compiled[MAX_CCS], mismatches[MAX_CCS], cc_failures[MAX_CCS], known[MAX_CCS];
  double t_gen, t_interp, t_oracle;
  long *axis_hits; /* [naxes * 64] */
} campaign_stats;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Records a finding: the case file first (a finding is never lost), then one line. */
static void record_finding(const campaign_opts *o, campaign_stats *st, const af_case *c,
                           const char *what) {
  st->findings++;
  printf("finding: seed %llu index %llu (%s): %s\n", (unsigned long long)c->seed,
         (unsigned long long)c->index, af_cc_name(c->cc), what);
  fflush(stdout);
  if (!o->outdir) return;
  /* the case exactly as printed (it replays with `abifuzz interp`), the verdict
   * beside it; several verdicts on one case append to the same .txt */
  char path[4096];
  for (int part = 0; part < 2; part++) {
    snprintf(path, sizeof path, "%s/finding-%llu-%llu.%s", o->outdir, (unsigned long long)c->seed,
             (unsigned long long)c->index, part ? "txt" : "case");
    FILE *f = fopen(path, part ? "a" : "w");
    if (!f) {
      cli_error("cannot write '%s': %s", path, strerror(errno));
      return;
    }
    if (part)
      fprintf(f, "%s\n", what);
    else
      af_print(c, f);
    if (fclose(f)) cli_error("cannot write '%s': %s", path, strerror(errno));
  }
}

/* A known gcc/clang divergence (gen/abi.c's table) that compiler k has on some
 * signature of the case: its id, or NULL. Such a disagreement is labelled and
 * counted, not reported as a finding. */
static const char *known_divergence(const campaign_opts *o, int k, const af_case *c) {
  if (!o->ccver[k]) return NULL;
  for (int f = 0; f < c->nfuncs; f++) {
    const char *why = NULL;
    if (af_abi_deviates(c, &c->funcs[f].sig, o->ccfam[k], o->ccver[k], &why)) return why;
  }
  return NULL;
}

/* Runs cases[0..n) through compiler k as one program. When that program does
 * not build or run, the batch is split in halves until the culprits stand
 * alone: one case that breaks the compiler or its own compiled code is a
 * finding, and must not hide the verdict on the others. */
static void oracle_range(const campaign_opts *o, campaign_stats *st, int k, af_case *cases,
                         const uint64_t *want, int n) {
  const af_case *ptrs[BATCH_MAX];
  uint64_t got[BATCH_MAX];
  for (int i = 0; i < n; i++)
    ptrs[i] = &cases[i];
  af_error err = {{0}};
  double t0 = now();
  af_status s = af_cc_run_batch(o->ccs[k], ptrs, n, got, &err);
  st->t_oracle += now() - t0;
  if (s != AF_OK) {
    if (n > 1) {
      oracle_range(o, st, k, cases, want, n / 2);
      oracle_range(o, st, k, cases + n / 2, want + n / 2, n - n / 2);
      return;
    }
    const char *why = known_divergence(o, k, &cases[0]);
    if (why) {
      st->known[k]++;
      return;
    }
    char what[512];
    snprintf(what, sizeof what, "%s %s: %s", o->ccs[k],
             s == AF_ERR_IO ? "does not compile the emitted C" : "compiled program failed",
             err.msg[0] ? err.msg : af_strerror(s));
    st->cc_failures[k]++;
    record_finding(o, st, &cases[0], what);
    return;
  }
  st->compiled[k] += (uint64_t)n;
  for (int i = 0; i < n; i++)
    if (got[i] != want[i]) {
      if (known_divergence(o, k, &cases[i])) {
        st->known[k]++;
        continue;
      }
      char what[256];
      snprintf(what, sizeof what, "%s checksum 0x%016llx, interpreter 0x%016llx", o->ccs[k],
               (unsigned long long)got[i], (unsigned long long)want[i]);
      st->mismatches[k]++;
      record_finding(o, st, &cases[i], what);
    }
}

static void summary(const campaign_opts *o, campaign_stats *st, const af_weights *w) {
  double n = st->generated ? (double)st->generated : 1;
  printf("abifuzz %s: seed %llu, cases %llu..%llu\n", AF_VERSION, (unsigned long long)o->seed,
         (unsigned long long)o->start, (unsigned long long)(o->start + o->count - 1));
  printf("  generated   %8llu cases (sysv %llu, win64 %llu)  %8.1f us/case\n",
         (unsigned long long)st->generated, (unsigned long long)st->by_cc[AF_CC_SYSV],
         (unsigned long long)st->by_cc[AF_CC_WIN64], st->t_gen * 1e6 / n);
  printf("  interpreted %8llu cases                        %8.1f us/case\n",
         (unsigned long long)st->interpreted, st->t_interp * 1e6 / n);
  for (int k = 0; k < o->nccs; k++)
    printf("  oracle %-10s %llu compiled and run, %llu mismatches, %llu compiler/run failures, "
           "%llu known divergences\n",
           o->ccs[k], (unsigned long long)st->compiled[k], (unsigned long long)st->mismatches[k],
           (unsigned long long)st->cc_failures[k], (unsigned long long)st->known[k]);
  if (o->nccs)
    printf("  oracle time %.1f s (%.1f ms/case per compiler)\n", st->t_oracle,
           st->generated ? st->t_oracle * 1e3 / (double)st->generated / o->nccs : 0.0);
  if (!o->quiet) {
    printf("  axis coverage (cases exercising each value):\n");
    for (int a = 0; a < af_weights_naxes(w); a++) {
      printf("    %-14s", af_weights_axis(w, a));
      for (int v = 0; v < af_weights_nvalues(w, a) && v < 64; v++)
        printf(" %s=%ld", af_weights_value(w, a, v), st->axis_hits[a * 64 + v]);
      putchar('\n');
    }
  }
  printf("%llu cases, %llu findings\n", (unsigned long long)st->generated,
         (unsigned long long)st->findings);
}

static int parse_ccs(campaign_opts *o, char *list) {
  for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
    if (o->nccs == MAX_CCS) return -1;
    o->ccs[o->nccs++] = tok;
  }
  return o->nccs ? 0 : -1;
}

int cmd_campaign(int argc, char **argv) {
  static const struct option lo[] = {{"arch", required_argument, 0, 'A'},
                                     {"abi", required_argument, 0, 'a'},
                                     {"seed", required_argument, 0, 's'},
                                     {"count", required_argument, 0, 'n'},
                                     {"start", required_argument, 0, 'i'},
                                     {"weights", required_argument, 0, 'w'},
                                     {"oracle-cc", required_argument, 0, 'c'},
                                     {"out", required_argument, 0, 'o'},
                                     {"f16", no_argument, 0, 'F'},
                                     {"quiet", no_argument, 0, 'q'},
                                     {"divergent", no_argument, 0, 'D'},
                                     {"help", no_argument, 0, 'h'},
                                     {0, 0, 0, 0}};
  campaign_opts o = {.seed = 1, .start = 0, .count = 1000};
  af_gen_opts_default(&o.gen);
  opterr = 0;
  optind = 1;
  for (int c; (c = getopt_long(argc, argv, ":h", lo, NULL)) != -1;) {
    switch (c) {
    case 'A':
      if (strcmp(optarg, "x64") && strcmp(optarg, "x86-64") && strcmp(optarg, "x86_64"))
        return cli_error("unsupported --arch '%s' (only x64)", optarg), CLI_USAGE;
      break;
    case 'a':
      if (!strcmp(optarg, "all")) {
        o.gen.cc = -1;
      } else {
        af_cc cc;
        if (af_cc_parse(optarg, &cc))
          return cli_error("bad --abi '%s' (sysv, win64 or all)", optarg), CLI_USAGE;
        o.gen.cc = cc;
      }
      break;
    case 's':
      if (cli_u64(optarg, &o.seed)) return cli_error("bad --seed '%s'", optarg), CLI_USAGE;
      break;
    case 'n':
      if (cli_u64(optarg, &o.count) || !o.count)
        return cli_error("bad --count '%s'", optarg), CLI_USAGE;
      break;
    case 'i':
      if (cli_u64(optarg, &o.start)) return cli_error("bad --start '%s'", optarg), CLI_USAGE;
      break;
    case 'w': o.weights = optarg; break;
    case 'c':
      if (parse_ccs(&o, optarg))
        return cli_error("bad --oracle-cc '%s' (1 to %d compilers)", optarg, MAX_CCS), CLI_USAGE;
      break;
    case 'o': o.outdir = optarg; break;
    case 'F': o.gen.allow_f16 = 1; break;
    case 'D': o.gen.allow_divergent = 1; break;
    case 'q': o.quiet = 1; break;
    case 'h': fputs("see abifuzz --help\n", stdout); return CLI_OK;
    case ':': return cli_error("option '%s' needs a value", argv[optind - 1]), CLI_USAGE;
    default:
      return cli_error("unknown option '%s' (see abifuzz --help)", argv[optind - 1]), CLI_USAGE;
    }
  }
  if (optind != argc) return cli_error("unexpected argument '%s'", argv[optind]), CLI_USAGE;
  for (int k = 0; k < o.nccs; k++) {
    if (!af_cc_available(o.ccs[k]))
      return cli_error("oracle compiler '%s' not found", o.ccs[k]), CLI_USAGE;
    af_error err = {{0}};
    if (af_cc_identify(o.ccs[k], &o.ccfam[k], &o.ccver[k], &err) != AF_OK) {
      o.ccver[k] = 0; /* still usable; its known divergences just are not labelled */
      fprintf(stderr, "abifuzz: note: %s\n", err.msg);
    }
  }
  if (o.outdir && mkdir(o.outdir, 0777) && errno != EEXIST)
    return cli_error("cannot create '%s': %s", o.outdir, strerror(errno)), CLI_ERROR;

  af_weights *w = cli_weights(o.weights);
  if (!w) return CLI_USAGE;
  o.gen.weights = w;
  int naxes = af_weights_naxes(w);
  campaign_stats st = {0};
  st.axis_hits = calloc((size_t)naxes * 64 + 1, sizeof(long));
  int *axes = calloc((size_t)naxes + 1, sizeof(int));
  af_case *batch = calloc(BATCH_MAX, sizeof(af_case));
  uint64_t *want = calloc(BATCH_MAX, sizeof(uint64_t));
  if (!st.axis_hits || !axes || !batch || !want) {
    free(st.axis_hits), free(axes), free(batch), free(want), af_weights_free(w);
    return cli_error("out of memory"), CLI_ERROR;
  }
  int rc = CLI_OK, nb = 0;
  for (uint64_t i = 0; i < o.count && rc == CLI_OK; i++) {
    af_case *c = &batch[nb];
    af_error err = {{0}};
    double t0 = now();
    af_status s = af_gen_case(&o.gen, o.seed, o.start + i, c, axes, &err);
    st.t_gen += now() - t0;
    if (s != AF_OK) {
      cli_error("generator failed on seed %llu index %llu: %s", (unsigned long long)o.seed,
                (unsigned long long)(o.start + i), err.msg[0] ? err.msg : af_strerror(s));
      af_case_free(c);
      rc = CLI_ERROR;
      break;
    }
    st.generated++;
    st.by_cc[c->cc]++;
    for (int a = 0; a < naxes; a++)
      if (axes[a] >= 0 && axes[a] < 64) st.axis_hits[a * 64 + axes[a]]++;
    af_interp_result r;
    t0 = now();
    s = af_interp(c, 0, &r, &err);
    st.t_interp += now() - t0;
    if (s != AF_OK) {
      char what[300];
      snprintf(what, sizeof what, "interpreter: %s", err.msg[0] ? err.msg : af_strerror(s));
      record_finding(&o, &st, c, what);
      af_case_free(c);
    } else {
      st.interpreted++;
      want[nb++] = r.checksum;
      af_interp_result_free(&r);
    }
    if (nb == BATCH_MAX || (nb && i + 1 == o.count)) {
      for (int k = 0; k < o.nccs; k++)
        oracle_range(&o, &st, k, batch, want, nb);
      for (int k = 0; k < nb; k++)
        af_case_free(&batch[k]);
      nb = 0;
    }
  }
  for (int k = 0; k < nb; k++)
    af_case_free(&batch[k]);
  summary(&o, &st, w);
  if (rc == CLI_OK && st.findings) rc = CLI_FINDING;
  free(st.axis_hits), free(axes), free(batch), free(want);
  af_weights_free(w);
  return rc;
}
