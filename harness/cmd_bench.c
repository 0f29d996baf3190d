/* cmd_bench.c - `abifuzz bench`: cases/s of every stage and leg, end to end, and against a
 * compile-per-case baseline; a table on stdout, JSON for trend tracking (doc/benchmarks.md). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "cli.h"
#include "oracle.h"

#ifndef AF_DEFAULT_CLANG
#define AF_DEFAULT_CLANG ""
#endif

/* The JSON's schema version (doc/benchmarks.md "abifuzz bench"): bump when a field changes
 * meaning or goes away; adding fields keeps it. */
#define BENCH_JSON_VERSION 1

/* The legs bench runs alone when --legs is not given: every leg of a campaign but cross-cc
 * (two compilers; cc-caller stands for the stub legs), plus the emulator on both engines (xi,
 * Unicorn) and c-oracle. */
static const char *const default_legs[] = {"native",      "garbage",    "runner",
                                           "ffi-caller",  "ffi-callee", "emu",
                                           "emu-unicorn", "cc-caller",  "c-oracle"};

/* Legs whose cost is the compiled-stub cache: timed warm and cold. */
static int stub_leg(const char *name) {
  return !strcmp(name, "cc-caller") || !strcmp(name, "cc-callee") || !strcmp(name, "cross-cc") ||
         !strcmp(name, "emu-cc");
}

static const char help[] =
    "usage: abifuzz bench [--abi sysv|win64|both] [--time SEC] [--seed S] [--json FILE|-]\n"
    "                     [--legs LIST] [--oracle-cc CC[,CC]] [--pool N] [--no-baseline]\n"
    "                     [--no-e2e] [-v]\n"
    "Measures cases per second and microseconds per case of each stage, each for --time\n"
    "seconds (default 2) over cases (seed, 0..): gen, interp, jit, every leg alone (the\n"
    "compiled-stub legs with the stub cache warm and cold), the pipeline (gen + interp +\n"
    "native + runner + ffi-caller + ffi-callee, one core; and + emu (xi), + emu-unicorn),\n"
    "the campaign end to end with 1 and 2 workers, and a compile-per-case baseline (each\n"
    "case as C, compiled, linked, run and compared, as Quest and abi-cafe do), then the\n"
    "ratio of abifuzz's rate to the baseline's. --legs restricts the legs timed alone and\n"
    "the end-to-end campaign's legs; --pool N cases are generated ahead for the stages\n"
    "(default 1024); --json writes the figures as JSON (- : on stdout, the table then goes\n"
    "to stderr).\n"
    "Exit 0; 1 when a stage crashed or found a mismatch; 2 on a usage error.\n";

/* ---- host and build --------------------------------------------------------------------- */
static void cpu_model(char *buf, size_t n) {
  snprintf(buf, n, "unknown");
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f) return;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "model name", 10)) continue;
    char *p = strchr(line, ':');
    if (!p) continue;
    for (p++; *p == ' ' || *p == '\t'; p++)
      ;
    p[strcspn(p, "\n")] = 0;
    snprintf(buf, n, "%s", p);
    break;
  }
  fclose(f);
}

/* `git describe` of the source tree abifuzz was built from (tests/bench.cmake passes its
 * path); "" when unknown (no git, not a checkout, installed elsewhere). */
static void git_describe(char *buf, size_t n) {
  buf[0] = 0;
#ifdef AF_BENCH_SOURCE_DIR
  int fd[2];
  if (pipe(fd)) return;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fd[1], 1);
  posix_spawn_file_actions_addclose(&fa, fd[0]);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  char *argv[] = {"git",    "-C", AF_BENCH_SOURCE_DIR, "describe", "--always", "--dirty",
                  "--tags", NULL};
  extern char **environ;
  pid_t pid;
  int ok = posix_spawnp(&pid, "git", &fa, NULL, argv, environ) == 0;
  posix_spawn_file_actions_destroy(&fa);
  close(fd[1]);
  size_t have = 0;
  ssize_t r;
  while (ok && have + 1 < n && (r = read(fd[0], buf + have, n - 1 - have)) != 0) {
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) break;
    have += (size_t)r;
  }
  buf[have] = 0;
  close(fd[0]);
  int status = 1;
  if (ok)
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
      ;
  if (!ok || !WIFEXITED(status) || WEXITSTATUS(status)) buf[0] = 0;
  buf[strcspn(buf, "\n")] = 0;
#else
  (void)n;
#endif
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  remove(path);
  return 0;
}

/* ---- the table ---------------------------------------------------------------------------- */
static const char *status_name(int s) {
  switch (s) {
  case BENCH_OK: return "ok";
  case BENCH_OFF: return "off";
  case BENCH_CRASHED: return "crashed";
  default: return "error";
  }
}

static double rate(const bench_row *r) {
  return r->status == BENCH_OK && r->seconds > 0 ? (double)r->cases / r->seconds : 0;
}

static void print_header(FILE *f) {
  /* "µs" is two bytes, one column */
  fprintf(f, "%-20s %9s %8s %11s %10s %12s %8s  %s\n", "stage", "cases", "seconds", "cases/s",
          "µs/case", "cpu µs/case", "skips", "notes");
}

static void print_row(FILE *f, const bench_row *r) {
  if (r->status == BENCH_OK && r->seconds > 0) {
    fprintf(f, "%-20s %9llu %8.2f %11.1f ", r->name, (unsigned long long)r->cases, r->seconds,
            rate(r));
    if (r->cases)
      fprintf(f, "%9.1f %11.1f", r->seconds * 1e6 / (double)r->cases,
              r->cpu_s * 1e6 / (double)r->cases);
    else
      fprintf(f, "%9s %11s", "-", "-");
    fprintf(f, " %8llu  %s\n", (unsigned long long)r->skips, r->note);
  } else {
    fprintf(f, "%-20s %9s %8s %11s %9s %11s %8s  %s%s%s\n", r->name, "-", "-", "-", "-", "-", "-",
            r->status == BENCH_OFF ? "" : status_name(r->status),
            r->status == BENCH_OFF ? "" : ": ", r->note);
  }
  fflush(f);
}

/* "ratio vs compile-per-case baseline: N.Nx (WHAT X cases/s / baseline Y cases/s)"; n/a, with
 * why, when either rate is missing. Returns the ratio (0: none). */
static double print_ratio(FILE *f, const char *what, const bench_row *r, const bench_row *base) {
  double a = rate(r), z = rate(base);
  if (a > 0 && z > 0) {
    fprintf(f,
            "ratio vs compile-per-case baseline: %.1fx (%s %.1f cases/s / baseline %.2f cases/s)\n",
            a / z, what, a, z);
    return a / z;
  }
  char why[480];
  if (!(z > 0))
    snprintf(why, sizeof why, "baseline %s",
             base->status == BENCH_OK ? "ran no case"
             : base->note[0]          ? base->note
                                      : status_name(base->status));
  else
    snprintf(why, sizeof why, "%s %s", what,
             r->status == BENCH_OK ? "ran no case" : status_name(r->status));
  fprintf(f, "ratio vs compile-per-case baseline: n/a (%s)\n", why);
  return 0;
}

/* The same ratio by CPU time per case (the compiler's processes counted for the baseline),
 * which a machine shared with other work disturbs less than wall time. */
static double cpu_ratio(FILE *f, const bench_row *r, const bench_row *base) {
  if (r->status != BENCH_OK || base->status != BENCH_OK || !r->cases || !base->cases ||
      !(r->cpu_s > 0) || !(base->cpu_s > 0))
    return 0;
  double a = r->cpu_s / (double)r->cases, z = base->cpu_s / (double)base->cases;
  fprintf(f, "  by CPU time per case: %.1fx (pipeline %.1f µs / baseline %.1f µs)\n", z / a,
          a * 1e6, z * 1e6);
  return z / a;
}

/* ---- JSON ----------------------------------------------------------------------------------- */
static void json_row(FILE *f, const bench_row *r) {
  fputs("{\"name\": ", f);
  camp_json_str(f, r->name);
  fprintf(f, ", \"status\": \"%s\", \"cases\": %llu, \"seconds\": %.4f, \"cases_per_s\": %.2f, ",
          status_name(r->status), (unsigned long long)r->cases, r->seconds, rate(r));
  fprintf(f, "\"cpu_s\": %.4f, ", r->cpu_s);
  if (r->status == BENCH_OK && r->cases)
    fprintf(f, "\"us_per_case\": %.3f, \"cpu_us_per_case\": %.3f, ",
            r->seconds * 1e6 / (double)r->cases, r->cpu_s * 1e6 / (double)r->cases);
  else
    fputs("\"us_per_case\": null, \"cpu_us_per_case\": null, ", f);
  fprintf(f, "\"fails\": %llu, \"skips\": %llu, \"pending\": %llu, ", (unsigned long long)r->fails,
          (unsigned long long)r->skips, (unsigned long long)r->pending);
  if (r->jobs) fprintf(f, "\"jobs\": %d, ", r->jobs);
  fputs("\"note\": ", f);
  camp_json_str(f, r->note);
  fputc('}', f);
}

typedef struct {
  const bench_ctx *b;
  const char *abi, *legs, *json, *baseline_cc;
  int baseline, e2e;
  bench_row *stages;
  int nstages;
  bench_row e2e_rows[2];
  bench_row base;
  double ratio_pipe, ratio_e2e, ratio_pipe_cpu;
} bench_out;

static void json_write(FILE *f, const bench_out *o) {
  char cpu[256], git[128], date[32];
  cpu_model(cpu, sizeof cpu);
  git_describe(git, sizeof git);
  time_t now = time(NULL);
  strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
  double load[1] = {0};
  if (getloadavg(load, 1) < 1) load[0] = -1;
  fprintf(f,
          "{\n  \"version\": %d,\n  \"abifuzz\": {\"version\": \"%s\", \"gen_version\": %d, "
          "\"git\": ",
          BENCH_JSON_VERSION, AF_VERSION, AF_GEN_VERSION);
  if (git[0])
    camp_json_str(f, git);
  else
    fputs("null", f);
  fprintf(f, "},\n  \"date\": \"%s\",\n  \"host\": {\"cpu\": ", date);
  camp_json_str(f, cpu);
  fprintf(f, ", \"cores\": %ld, \"load1\": %.2f},\n", sysconf(_SC_NPROCESSORS_ONLN), load[0]);
  fprintf(f,
          "  \"options\": {\"abi\": \"%s\", \"time_s\": %.3f, \"seed\": %llu, \"legs\": ", o->abi,
          o->b->time_s, (unsigned long long)o->b->camp.seed);
  if (o->legs)
    camp_json_str(f, o->legs);
  else
    fputs("null", f);
  fputs(", \"oracle_cc\": [", f);
  const af_legs_cfg *lc = &o->b->camp.legs_cfg;
  for (int k = 0; k < lc->ncc; k++) {
    fputs(k ? ", " : "", f);
    camp_json_str(f, lc->cc[k]);
  }
  fputs("], \"baseline_cc\": ", f);
  camp_json_str(f, o->baseline_cc ? o->baseline_cc : "");
  fprintf(f, ", \"baseline\": %s, \"e2e\": %s, \"pool\": %d},\n  \"stages\": [",
          o->baseline ? "true" : "false", o->e2e ? "true" : "false", o->b->npool);
  for (int i = 0; i < o->nstages; i++) {
    fputs(i ? ",\n    " : "\n    ", f);
    json_row(f, &o->stages[i]);
  }
  fputs("\n  ],\n  \"e2e\": [", f);
  for (int i = 0; o->e2e && i < 2; i++) {
    fputs(i ? ",\n    " : "\n    ", f);
    json_row(f, &o->e2e_rows[i]);
  }
  fputs(o->e2e ? "\n  ],\n  \"baseline\": " : "],\n  \"baseline\": ", f);
  if (o->baseline) {
    json_row(f, &o->base);
  } else {
    fputs("null", f);
  }
  fputs(",\n  \"ratio\": {\"pipeline\": ", f);
  if (o->ratio_pipe > 0)
    fprintf(f, "%.2f", o->ratio_pipe);
  else
    fputs("null", f);
  fputs(", \"pipeline_cpu\": ", f);
  if (o->ratio_pipe_cpu > 0)
    fprintf(f, "%.2f", o->ratio_pipe_cpu);
  else
    fputs("null", f);
  fputs(", \"e2e_j1\": ", f);
  if (o->ratio_e2e > 0)
    fprintf(f, "%.2f", o->ratio_e2e);
  else
    fputs("null", f);
  fputs("}\n}\n", f);
}

/* ---- the command ---------------------------------------------------------------------------- */
static int parse_time(const char *s, double *out) {
  if (!s || !*s || *s == '-' || *s == ' ') return -1;
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || *end || !(v > 0) || v > 1e5) return -1;
  *out = v;
  return 0;
}

static void say_start(int verbose, const bench_row *r) {
  if (verbose) fprintf(stderr, "bench: %s ...\n", r->name);
}

int cmd_bench(int argc, char **argv) {
  enum { O_ABI = 256, O_TIME, O_SEED, O_JSON, O_LEGS, O_ORACLE, O_POOL, O_NO_BASE, O_NO_E2E };
  static const struct option lo[] = {
      {"abi", required_argument, 0, O_ABI},   {"time", required_argument, 0, O_TIME},
      {"seed", required_argument, 0, O_SEED}, {"json", required_argument, 0, O_JSON},
      {"legs", required_argument, 0, O_LEGS}, {"oracle-cc", required_argument, 0, O_ORACLE},
      {"pool", required_argument, 0, O_POOL}, {"no-baseline", no_argument, 0, O_NO_BASE},
      {"no-e2e", no_argument, 0, O_NO_E2E},   {"verbose", no_argument, 0, 'v'},
      {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
  bench_ctx b;
  memset(&b, 0, sizeof b);
  camp_cfg *o = &b.camp;
  o->seed = 1, o->jobs = 1, o->timeout_ms = 2000, o->abi = CAMP_ABI_BOTH, o->quiet = 1;
  af_gen_opts_default(&o->gen);
  b.time_s = 2;
  bench_out out;
  memset(&out, 0, sizeof out);
  out.b = &b, out.abi = "both", out.baseline = 1, out.e2e = 1;
  uint64_t pool = 1024;
  char *legs = NULL;
  optind = 1;
  for (int c; (c = getopt_long(argc, argv, ":hv", lo, NULL)) != -1;) {
    switch (c) {
    case O_ABI:
      if (!strcmp(optarg, "both"))
        o->abi = CAMP_ABI_BOTH;
      else if (!strcmp(optarg, "sysv"))
        o->abi = CAMP_ABI_SYSV;
      else if (!strcmp(optarg, "win64"))
        o->abi = CAMP_ABI_WIN64;
      else
        return cli_error("--abi %s: unknown convention (sysv, win64 or both)", optarg), CLI_USAGE;
      out.abi = camp_abi_name(o->abi);
      break;
    case O_TIME:
      if (parse_time(optarg, &b.time_s))
        return cli_error("--time %s: not a positive number of seconds", optarg), CLI_USAGE;
      break;
    case O_SEED:
      if (cli_u64(optarg, &o->seed)) return cli_error("--seed %s: not a number", optarg), CLI_USAGE;
      break;
    case O_JSON: out.json = optarg; break;
    case O_LEGS: legs = optarg; break;
    case O_ORACLE:
      for (char *tok = strtok(optarg, ","); tok; tok = strtok(NULL, ",")) {
        if (o->legs_cfg.ncc == AF_MAX_ORACLE_CC)
          return cli_error("--oracle-cc: at most %d compilers", AF_MAX_ORACLE_CC), CLI_USAGE;
        if (!af_cc_available(tok))
          return cli_error("--oracle-cc: compiler '%s' not found", tok), CLI_USAGE;
        o->legs_cfg.cc[o->legs_cfg.ncc++] = tok;
      }
      if (!o->legs_cfg.ncc) return cli_error("--oracle-cc: no compiler named"), CLI_USAGE;
      break;
    case O_POOL:
      if (cli_u64(optarg, &pool) || !pool || pool > 1000000)
        return cli_error("--pool %s: not a number of cases (1 to 1000000)", optarg), CLI_USAGE;
      break;
    case O_NO_BASE: out.baseline = 0; break;
    case O_NO_E2E: out.e2e = 0; break;
    case 'v': b.verbose = 1; break;
    case 'h': fputs(help, stdout); return CLI_OK;
    case ':': return cli_error("option '%s' needs a value", argv[optind - 1]), CLI_USAGE;
    default:
      return cli_error("unknown option '%s' (see abifuzz bench --help)", argv[optind - 1]),
             CLI_USAGE;
    }
  }
  if (optind < argc)
    return cli_error("unexpected argument '%s' (see abifuzz bench --help)", argv[optind]),
           CLI_USAGE;

  /* the legs timed alone: --legs (checked here, in registry order) or the defaults */
  const af_leg *sel[CAMP_MAX_LEGS];
  int nsel = 0, want_emu = 0, want_emu_unicorn = 0;
  {
    int n;
    const af_leg *const *all = af_legs_all(&n);
    const af_leg *named[CAMP_MAX_LEGS];
    int nn = 0;
    if (legs) {
      char *copy = strdup(legs);
      if (!copy) return cli_error("out of memory"), CLI_ERROR;
      for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ",")) {
        const af_leg *l = af_leg_find(tok);
        if (!l) {
          cli_error("--legs %s: unknown leg (see abifuzz --list-legs)", tok);
          free(copy);
          return CLI_USAGE;
        }
        if (nn < CAMP_MAX_LEGS) named[nn++] = l;
      }
      free(copy);
      if (!nn) return cli_error("--legs: no leg named"), CLI_USAGE;
    } else {
      for (size_t i = 0; i < sizeof default_legs / sizeof default_legs[0]; i++) {
        const af_leg *l = af_leg_find(default_legs[i]);
        if (l) named[nn++] = l;
      }
    }
    for (int i = 0; i < n; i++)
      for (int k = 0; k < nn; k++)
        if (named[k] == all[i]) {
          sel[nsel++] = all[i];
          want_emu |= !strcmp(all[i]->name, "emu");
          want_emu_unicorn |= !strcmp(all[i]->name, "emu-unicorn");
          break;
        }
  }
  out.legs = legs;
  b.e2e_legs = legs;
  o->legs_cfg.seed = o->seed;
  af_weights *w = cli_weights(NULL);
  if (!w) return CLI_ERROR;
  o->gen.weights = w;
  out.baseline_cc = o->legs_cfg.ncc ? o->legs_cfg.cc[0] : AF_DEFAULT_CLANG;

  char tmpl[4096];
  const char *td = getenv("TMPDIR");
  snprintf(tmpl, sizeof tmpl, "%s/abifuzz-bench-XXXXXX", td && *td ? td : "/tmp");
  if (!mkdtemp(tmpl)) {
    cli_error("cannot create a temporary directory in %s: %s", td && *td ? td : "/tmp",
              strerror(errno));
    af_weights_free(w);
    return CLI_ERROR;
  }
  b.tmpdir = tmpl;

  FILE *tab = out.json && !strcmp(out.json, "-") ? stderr : stdout;
  char cpu[256];
  cpu_model(cpu, sizeof cpu);
  double t0 = camp_now();
  if (bench_pool_make(&b, (int)pool)) {
    cli_error("could not generate the cases (out of memory?)");
    nftw(tmpl, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    af_weights_free(w);
    return CLI_ERROR;
  }
  double load[1] = {0};
  if (getloadavg(load, 1) < 1) load[0] = -1;
  fprintf(tab,
          "abifuzz bench: seed %llu, abi %s, %.2g s per stage, %d cases generated ahead "
          "(%.1f s); %s, %ld cores, load %.2f\n",
          (unsigned long long)o->seed, out.abi, b.time_s, b.npool, camp_now() - t0, cpu,
          sysconf(_SC_NPROCESSORS_ONLN), load[0]);
  print_header(tab);

  /* stages in the order they print */
  int cap = 3 + 2 * nsel + 3;
  out.stages = calloc((size_t)cap, sizeof *out.stages);
  if (!out.stages) return cli_error("out of memory"), CLI_ERROR;
  int bad = 0;
#define ROW(...)                                                                                   \
  bench_row *r = &out.stages[out.nstages++];                                                       \
  snprintf(r->name, sizeof r->name, __VA_ARGS__);                                                  \
  say_start(b.verbose, r)
  for (int s = 0; s < 3; s++) {
    static const char *const names[] = {"gen", "interp", "jit"};
    ROW("%s", names[s]);
    if (s == 0) bench_gen(&b, r);
    if (s == 1) bench_interp(&b, r);
    if (s == 2) bench_jit(&b, r);
    print_row(tab, r);
  }
  for (int i = 0; i < nsel; i++) {
    const af_leg *l = sel[i];
    for (int pass = 0; pass < (stub_leg(l->name) ? 2 : 1); pass++) {
      bench_cache cache = !stub_leg(l->name) ? BENCH_CACHE_NONE
                          : pass == 0        ? BENCH_CACHE_WARM
                                             : BENCH_CACHE_COLD;
      ROW("%s%s", l->name,
          cache == BENCH_CACHE_WARM   ? "-warm"
          : cache == BENCH_CACHE_COLD ? "-cold"
                                      : "");
      char dir[4200];
      snprintf(dir, sizeof dir, "%s/stubs-%s", tmpl, r->name);
      if (mkdir(dir, 0777) && errno != EEXIST) dir[0] = 0;
      bench_leg(&b, l, cache, dir[0] ? dir : NULL, r);
      print_row(tab, r);
    }
  }
  static const char pipe_legs[] = "native,runner,ffi-caller,ffi-callee";
  {
    ROW("pipeline");
    bench_pipeline(&b, pipe_legs, r);
    print_row(tab, r);
  }
  bench_row *pipe_row = &out.stages[out.nstages - 1];
  if (want_emu) { /* the ">= 5,000 cases/s with the emulator on every case" */
    ROW("pipeline+emu");
    bench_pipeline(&b, "native,runner,ffi-caller,ffi-callee,emu", r);
    print_row(tab, r);
  }
  if (want_emu_unicorn) { /* the same with Unicorn as the engine, for comparison */
    ROW("pipeline+emu-unicorn");
    bench_pipeline(&b, "native,runner,ffi-caller,ffi-callee,emu-unicorn", r);
    print_row(tab, r);
  }
#undef ROW
  for (int i = 0; out.e2e && i < 2; i++) {
    bench_row *r = &out.e2e_rows[i];
    snprintf(r->name, sizeof r->name, "e2e-j%d", i + 1);
    say_start(b.verbose, r);
    bench_e2e(&b, i + 1, r);
    print_row(tab, r);
  }
  snprintf(out.base.name, sizeof out.base.name, "baseline");
  if (out.baseline) {
    say_start(b.verbose, &out.base);
    bench_baseline(&b, out.baseline_cc, &out.base);
    print_row(tab, &out.base);
  } else {
    out.base.status = BENCH_OFF;
    snprintf(out.base.note, sizeof out.base.note, "--no-baseline");
  }
  out.ratio_pipe = print_ratio(tab, "pipeline", pipe_row, &out.base);
  out.ratio_pipe_cpu = cpu_ratio(tab, pipe_row, &out.base);
  if (out.e2e) out.ratio_e2e = print_ratio(tab, "end-to-end -j 1", &out.e2e_rows[0], &out.base);
  fflush(tab);

  for (int i = 0; i < out.nstages; i++)
    bad |= out.stages[i].status == BENCH_CRASHED || out.stages[i].fails;
  for (int i = 0; out.e2e && i < 2; i++)
    bad |= out.e2e_rows[i].status == BENCH_CRASHED || out.e2e_rows[i].fails;
  bad |= out.base.status == BENCH_CRASHED || out.base.fails;

  int rc = bad ? CLI_FINDING : CLI_OK;
  if (out.json) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f) {
      json_write(f, &out);
      fclose(f);
    }
    if (!buf) {
      cli_error("out of memory");
      rc = CLI_ERROR;
    } else if (!strcmp(out.json, "-")) {
      fwrite(buf, 1, len, stdout);
      fflush(stdout);
    } else if (camp_write_atomic(out.json, buf, len)) {
      cli_error("cannot write '%s': %s", out.json, strerror(errno));
      rc = CLI_ERROR;
    }
    free(buf);
  }
  free(out.stages);
  bench_pool_free(&b);
  nftw(tmpl, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  af_weights_free(w);
  return rc;
}
