/* campaign.c - the campaign command line: options, leg selection, --list-legs; then run. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bucket.h"
#include "campaign.h"
#include "cli.h"
#include "oracle.h"

static void list_legs(int verbose) {
  int n;
  const af_leg *const *all = af_legs_all(&n);
  for (int i = 0; i < n; i++)
    if (verbose)
      printf("%-13s %s%s\n", all[i]->name, all[i]->desc ? all[i]->desc : "",
             all[i]->default_on ? "" : " (off by default)");
    else
      printf("%s\n", all[i]->name);
}

static int leg_index(const camp_cfg *o, const af_leg *l) {
  for (int i = 0; i < o->nlegs; i++)
    if (o->legs[i] == l) return i;
  return -1;
}

/* Enabled legs, in registry order: the --legs list, else every default leg plus c-oracle
 * when --oracle-cc names a compiler. */
int camp_select_legs(camp_cfg *o, char *list) {
  int n;
  const af_leg *const *all = af_legs_all(&n);
  const af_leg *want[CAMP_MAX_LEGS];
  int nw = 0;
  if (list) {
    for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
      const af_leg *l = af_leg_find(tok);
      if (!l) return cli_error("--legs %s: unknown leg (see abifuzz --list-legs)", tok), -1;
      if (nw < CAMP_MAX_LEGS) want[nw++] = l;
    }
    if (!nw) return cli_error("--legs: no leg named"), -1;
  } else {
    for (int i = 0; i < n && nw < CAMP_MAX_LEGS; i++)
      if (all[i]->default_on || (o->legs_cfg.ncc && !strcmp(all[i]->name, "c-oracle")))
        want[nw++] = all[i];
    if (!nw) return cli_error("no leg is on by default in this build (use --legs)"), -1;
  }
  o->nlegs = 0;
  for (int i = 0; i < n; i++)
    for (int k = 0; k < nw; k++)
      if (want[k] == all[i] && leg_index(o, all[i]) < 0) o->legs[o->nlegs++] = all[i];
  return 0;
}

static int parse_ccs(camp_cfg *o, char *list) {
  for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
    if (o->legs_cfg.ncc == AF_MAX_ORACLE_CC) return -1;
    o->legs_cfg.cc[o->legs_cfg.ncc++] = tok;
  }
  return o->legs_cfg.ncc ? 0 : -1;
}

static int parse_seconds(const char *s, double *out) {
  if (!s || !*s || *s == '-' || *s == ' ') return -1;
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || *end || !(v > 0) || v > 1e9) return -1;
  *out = v;
  return 0;
}

static const char campaign_help[] =
    "usage: abifuzz --arch x64 --abi sysv|win64|both [--seed S] [--cases N | --time SEC]\n"
    "               [-j N] [--out DIR] [--legs LIST] [--inject MUTANT] [--oracle-cc CC,..]\n"
    "               [--cache-dir DIR] [--timeout MS] [--max-findings N] [--weights FILE]\n"
    "               [--known FILE|none] [--shard K/N] [--backend SPEC] [--quiet]\n"
    "       abifuzz --resume DIR   (go on with a killed or stopped campaign's --out DIR)\n"
    "       abifuzz [OPTIONS] FILE.case...   (run these cases through the legs)\n"
    "       abifuzz --list-legs [--verbose]\n"
    "       abifuzz --list-backends\n"
    "See doc/campaign.md and abifuzz --help.\n";

/* abifuzz --list-backends: every kind, whether this build has it. */
static void list_backends(void) {
  int n;
  const af_backend_info *in = af_backend_kinds(&n);
  for (int i = 0; i < n; i++)
    printf("%-21s %-12s %s\n", in[i].usage, in[i].available ? "" : "(not built)", in[i].desc);
}

/* --backend: opened once here so that a bad spec or a missing compiler is a usage error now,
 * not a lost campaign (each worker opens its own). The builtin one is spelt as no backend. */
static int check_backend(camp_cfg *o) {
  const char *spec = o->legs_cfg.backend_spec;
  if (!spec) return 0;
  af_backend *b = NULL;
  af_error e = {{0}};
  if (af_backend_open(spec, &b, &e) != AF_OK) return cli_error("--backend: %s", e.msg), -1;
  int rc = 0;
  if (af_backend_is_builtin(b)) {
    o->legs_cfg.backend_spec = NULL;
  } else if (o->legs_cfg.inject) {
    cli_error("--inject mutates our JIT: it needs the builtin backend, not %s", spec);
    rc = -1;
  } else if ((o->abi == CAMP_ABI_SYSV && !af_backend_supports_cc(b, AF_CC_SYSV)) ||
             (o->abi == CAMP_ABI_WIN64 && !af_backend_supports_cc(b, AF_CC_WIN64))) {
    cli_error("--backend %s has no %s convention", spec,
              o->abi == CAMP_ABI_SYSV ? "SysV" : "Win64");
    rc = -1;
  }
  af_backend_close(b);
  return rc;
}

static int parse_shard(const char *s, camp_cfg *o) {
  unsigned k, n;
  char tail;
  if (sscanf(s, "%u/%u%c", &k, &n, &tail) != 2 || !n || !k || k > n || n > 1000000) return -1;
  o->shard_k = (int)k, o->shard_n = (int)n;
  return 0;
}

static int run_campaign(int argc, char **argv, const camp_resume *resume);

/* abifuzz --resume DIR: the options stored in DIR/campaign.state, the counters and buckets
 * from there, and the cases not done yet. */
static int resume_campaign(int argc, char **argv) {
  const char *dir = NULL;
  int quiet = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--resume") && i + 1 < argc)
      dir = argv[++i];
    else if (!strncmp(argv[i], "--resume=", 9))
      dir = argv[i] + 9;
    else if (!strcmp(argv[i], "--quiet"))
      quiet = 1;
    else
      return cli_error("--resume DIR takes no other option than --quiet (the campaign's own "
                       "are in DIR/campaign.state): '%s'",
                       argv[i]),
             CLI_USAGE;
  }
  if (!dir) return cli_error("option '--resume' needs a value"), CLI_USAGE;
  camp_resume r;
  char err[512];
  if (camp_state_read(dir, &r, err, sizeof err)) return cli_error("--resume: %s", err), CLI_USAGE;
  if (r.done) {
    camp_resume_free(&r);
    return cli_error("--resume: the campaign in '%s' is complete", dir), CLI_USAGE;
  }
  /* the stored options, --out replaced by DIR (the stored one may be relative to another cwd) */
  char **av = calloc((size_t)r.nargs + 5, sizeof *av);
  if (!av) return camp_resume_free(&r), cli_error("out of memory"), CLI_ERROR;
  int n = 0;
  av[n++] = argv[0];
  for (int i = 0; i < r.nargs; i++)
    av[n++] = r.args[i];
  av[n++] = "--out";
  av[n++] = (char *)dir;
  if (quiet) av[n++] = "--quiet";
  int rc = run_campaign(n, av, &r);
  free(av);
  camp_resume_free(&r);
  return rc;
}

int cmd_campaign(int argc, char **argv) {
  for (int i = 1; i < argc; i++)
    if (!strcmp(argv[i], "--resume") || !strncmp(argv[i], "--resume=", 9))
      return resume_campaign(argc, argv);
  return run_campaign(argc, argv, NULL);
}

static int run_campaign(int argc, char **argv, const camp_resume *resume) {
  enum {
    O_ARCH = 256,
    O_ABI,
    O_SEED,
    O_CASES,
    O_START,
    O_TIME,
    O_OUT,
    O_LEGS,
    O_INJECT,
    O_ORACLE,
    O_CACHE,
    O_TIMEOUT,
    O_WEIGHTS,
    O_F16,
    O_DIVERGENT,
    O_QUIET,
    O_VERBOSE,
    O_LIST_LEGS,
    O_MAX_FINDINGS,
    O_KNOWN,
    O_SHARD,
    O_BACKEND,
    O_LIST_BACKENDS
  };
  static const struct option lo[] = {{"arch", required_argument, 0, O_ARCH},
                                     {"abi", required_argument, 0, O_ABI},
                                     {"seed", required_argument, 0, O_SEED},
                                     {"cases", required_argument, 0, O_CASES},
                                     {"count", required_argument, 0, O_CASES},
                                     {"start", required_argument, 0, O_START},
                                     {"time", required_argument, 0, O_TIME},
                                     {"jobs", required_argument, 0, 'j'},
                                     {"out", required_argument, 0, O_OUT},
                                     {"legs", required_argument, 0, O_LEGS},
                                     {"inject", required_argument, 0, O_INJECT},
                                     {"oracle-cc", required_argument, 0, O_ORACLE},
                                     {"cache-dir", required_argument, 0, O_CACHE},
                                     {"timeout", required_argument, 0, O_TIMEOUT},
                                     {"weights", required_argument, 0, O_WEIGHTS},
                                     {"f16", no_argument, 0, O_F16},
                                     {"divergent", no_argument, 0, O_DIVERGENT},
                                     {"quiet", no_argument, 0, O_QUIET},
                                     {"verbose", no_argument, 0, O_VERBOSE},
                                     {"list-legs", no_argument, 0, O_LIST_LEGS},
                                     {"max-findings", required_argument, 0, O_MAX_FINDINGS},
                                     {"known", required_argument, 0, O_KNOWN},
                                     {"shard", required_argument, 0, O_SHARD},
                                     {"backend", required_argument, 0, O_BACKEND},
                                     {"list-backends", no_argument, 0, O_LIST_BACKENDS},
                                     {"help", no_argument, 0, 'h'},
                                     {0, 0, 0, 0}};
  camp_cfg o;
  memset(&o, 0, sizeof o);
  o.seed = 1, o.cases = 1000, o.jobs = 1, o.timeout_ms = 2000, o.abi = CAMP_ABI_BOTH;
  af_gen_opts_default(&o.gen);
  int cases_given = 0, list = 0, verbose = 0;
  char *legs = NULL;
  const char *weights = NULL, *known = NULL;
  uint64_t v;
  /* the options as given, for OUT/campaign.state (getopt_long permutes argv); a resumed
   * campaign keeps the stored ones (without the --out DIR appended after them) */
  char *args[argc + 1];
  o.nargs = resume ? resume->nargs : argc - 1;
  for (int i = 1; i <= o.nargs; i++)
    args[i - 1] = argv[i];
  o.args = args;
  o.resume = resume;
  optind = 1;
  for (int c; (c = getopt_long(argc, argv, ":hj:", lo, NULL)) != -1;) {
    switch (c) {
    case O_ARCH:
      if (strcmp(optarg, "x64") && strcmp(optarg, "x86-64") && strcmp(optarg, "x86_64"))
        return cli_error("--arch %s: not supported (only x64)", optarg), CLI_USAGE;
      break;
    case O_ABI:
      if (!strcmp(optarg, "both"))
        o.abi = CAMP_ABI_BOTH;
      else if (!strcmp(optarg, "all"))
        o.abi = CAMP_ABI_DRAWN;
      else if (!strcmp(optarg, "sysv"))
        o.abi = CAMP_ABI_SYSV;
      else if (!strcmp(optarg, "win64"))
        o.abi = CAMP_ABI_WIN64;
      else
        return cli_error("--abi %s: unknown convention (sysv, win64 or both)", optarg), CLI_USAGE;
      break;
    case O_SEED:
      if (cli_u64(optarg, &o.seed)) return cli_error("--seed %s: not a number", optarg), CLI_USAGE;
      break;
    case O_CASES:
      if (cli_u64(optarg, &o.cases) || !o.cases)
        return cli_error("--cases %s: not a positive number", optarg), CLI_USAGE;
      cases_given = 1;
      break;
    case O_START:
      if (cli_u64(optarg, &o.start))
        return cli_error("--start %s: not a number", optarg), CLI_USAGE;
      break;
    case O_TIME:
      if (parse_seconds(optarg, &o.time_s))
        return cli_error("--time %s: not a positive number of seconds", optarg), CLI_USAGE;
      break;
    case 'j':
      if (cli_u64(optarg, &v) || !v || v > 256)
        return cli_error("-j %s: not a number of workers (1 to 256)", optarg), CLI_USAGE;
      o.jobs = (int)v;
      break;
    case O_OUT: o.outdir = optarg; break;
    case O_LEGS: legs = optarg; break;
    case O_INJECT:
      if (af_jit_mutant_find(optarg) < 0)
        return cli_error("--inject %s: unknown mutant (see abifuzz --list-mutants)", optarg),
               CLI_USAGE;
      o.legs_cfg.inject = optarg;
      break;
    case O_ORACLE:
      if (parse_ccs(&o, optarg))
        return cli_error("--oracle-cc: 1 to %d compilers, comma-separated", AF_MAX_ORACLE_CC),
               CLI_USAGE;
      break;
    case O_CACHE: o.legs_cfg.cache_dir = optarg; break;
    case O_TIMEOUT:
      if (cli_u64(optarg, &v) || !v || v > 3600000)
        return cli_error("--timeout %s: not a number of milliseconds", optarg), CLI_USAGE;
      o.timeout_ms = (int)v;
      break;
    case O_WEIGHTS: weights = optarg; break;
    case O_F16: o.gen.allow_f16 = 1; break;
    case O_DIVERGENT: o.gen.allow_divergent = 1; break;
    case O_QUIET: o.quiet = 1; break;
    case O_VERBOSE: verbose = 1; break;
    case O_LIST_LEGS: list = 1; break;
    case O_MAX_FINDINGS:
      if (cli_u64(optarg, &o.max_findings) || !o.max_findings)
        return cli_error("--max-findings %s: not a positive number", optarg), CLI_USAGE;
      break;
    case O_KNOWN: known = optarg; break;
    case O_SHARD:
      if (parse_shard(optarg, &o))
        return cli_error("--shard %s: not K/N with 1 <= K <= N", optarg), CLI_USAGE;
      break;
    case O_BACKEND: o.legs_cfg.backend_spec = optarg; break;
    case O_LIST_BACKENDS: list = 2; break;
    case 'h': fputs(campaign_help, stdout); return CLI_OK;
    case ':': return cli_error("option '%s' needs a value", argv[optind - 1]), CLI_USAGE;
    default:
      return cli_error("unknown option '%s' (see abifuzz --help)", argv[optind - 1]), CLI_USAGE;
    }
  }
  if (optind < argc) { /* abifuzz [options] FILE.case...: those cases instead of generated ones */
    o.case_files = argv + optind;
    o.ncase_files = argc - optind;
    for (int i = 0; i < o.ncase_files; i++) {
      af_case c;
      af_error e = {{0}};
      af_status st = af_parse_file(o.case_files[i], &c, &e);
      af_case_free(&c);
      if (st != AF_OK) return cli_error("%s", e.msg), CLI_USAGE;
    }
    o.start = 0;
    o.cases = (uint64_t)o.ncase_files;
    cases_given = 1;
  }
  if (list == 2) {
    list_backends();
    return CLI_OK;
  }
  if (list) {
    list_legs(verbose);
    return CLI_OK;
  }
  if (check_backend(&o)) return CLI_USAGE;
  if (o.time_s > 0 && !cases_given) o.cases = 0; /* --time alone: as many as fit */
  for (int k = 0; k < o.legs_cfg.ncc; k++)
    if (!af_cc_available(o.legs_cfg.cc[k]))
      return cli_error("--oracle-cc: compiler '%s' not found", o.legs_cfg.cc[k]), CLI_USAGE;
  if (camp_select_legs(&o, legs)) return CLI_USAGE;
  o.legs_cfg.seed = o.seed;
  o.legs_cfg.verbose = verbose;
  if (o.outdir && mkdir(o.outdir, 0777) && errno != EEXIST)
    return cli_error("cannot create '%s': %s", o.outdir, strerror(errno)), CLI_ERROR;

  /* known divergences: --known FILE (must exist), --known none, else the source tree's file
   * when it is there */
  camp_rules *rules = NULL;
  if (!known || strcmp(known, "none")) {
    af_error e = {{0}};
    const char *path = known ? known : camp_rules_default_path();
    af_status st = camp_rules_load(path, &rules, &e);
    if (st == AF_ERR_IO && !known)
      rules = NULL; /* no rules file in this tree: no rules */
    else if (st != AF_OK)
      return cli_error("--known: %s", e.msg), CLI_USAGE;
  }
  o.known = rules;
  af_weights *w = cli_weights(weights);
  if (!w) return camp_rules_free(rules), CLI_USAGE;
  o.gen.weights = w;
  if (o.shard_n && o.ncase_files) o.shard_k = o.shard_n = 0; /* given files: all of them */
  int rc = camp_run(&o);
  af_weights_free(w);
  camp_rules_free(rules);
  return rc;
}
