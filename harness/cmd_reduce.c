/* cmd_reduce.c - `abifuzz reduce`: shrinks a failing case while the same finding (leg and
 * check) still fires, writes MIN.case and optionally a reproducer directory. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "jit.h"
#include "oracle.h"
#include "reduce.h"
#include "repro.h"

static const char help[] =
    "usage: abifuzz reduce FINDING_DIR|FILE.case [-o MIN.case] [--leg L] [--check C]\n"
    "                      [--inject M] [--legs LIST] [--oracle-cc CC,..] [--timeout MS]\n"
    "                      [--backend SPEC]\n"
    "                      [--repro DIR] [-v]\n"
    "Shrinks a failing case while the same finding (same leg and check; a crash: the same\n"
    "signal) still fires: drops functions, instructions, call arguments, fields and array\n"
    "elements, unwraps one-field structs and zeroes values (delta debugging, each candidate\n"
    "verified and run through the leg in a crash-isolated worker). From a finding directory\n"
    "the leg, check and mutant come from report.json; from a .case file from --leg, --check\n"
    "and --inject (--backend too: from report.json, else builtin). Writes MIN.case (default:\n"
    "min.case next to the input) and prints what it removed. --legs LIST: the legs every\n"
    "candidate runs (default: the finding's leg alone).\n"
    "--repro DIR also writes a self-contained reproducer (doc/triage.md).\n"
    "Exit 0 reduced, 2 usage error or a case that does not fire to begin with, 3 error.\n";

/* The string value of "key" in a flat JSON object (report.json), unescaped; 0 found. */
static int json_get(const char *json, const char *key, char *out, size_t n) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\"", key);
  const char *p = strstr(json, pat);
  if (!p) return -1;
  p += strlen(pat);
  while (*p == ' ' || *p == ':' || *p == '\n' || *p == '\t')
    p++;
  if (*p != '"') return -1; /* null or a number */
  size_t k = 0;
  for (p++; *p && *p != '"' && k + 1 < n; p++) {
    if (*p == '\\' && p[1]) p++;
    out[k++] = *p;
  }
  out[k] = 0;
  return 0;
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len + 4096 + 1 > cap) {
      cap = (cap + 4096) * 2;
      char *nb = realloc(buf, cap);
      if (!nb) return free(buf), fclose(f), NULL;
      buf = nb;
    }
    size_t r = fread(buf + len, 1, 4096, f);
    len += r;
    if (r < 4096) break;
  }
  fclose(f);
  buf[len] = 0;
  return buf;
}

/* The compilers a compiler leg needs: --oracle-cc, else the one its `what` names, else the
 * defaults (cross-cc needs two). */
static void default_cc(red_cfg *cfg) {
  static const char clang[] = AF_DEFAULT_CLANG, gcc[] = AF_DEFAULT_GCC;
  const char *leg = cfg->leg;
  if (cfg->legs_cfg.ncc ||
      (strncmp(leg, "cc-", 3) && strcmp(leg, "cross-cc") && strcmp(leg, "c-oracle")))
    return;
  /* the compiler named by `what`: all of it ("clang-19") or its last "(...)" */
  static char named[64];
  const char *w = cfg->what, *open = strrchr(w, '(');
  size_t n = strlen(w);
  if (open && n && w[n - 1] == ')') w = open + 1, n = strlen(w) - 1;
  int plain = n > 0 && n < sizeof named && (strstr(w, "clang") == w || strstr(w, "gcc") == w);
  for (size_t i = 0; plain && i < n; i++)
    plain =
        strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-", w[i]) != NULL;
  if (plain) {
    memcpy(named, w, n);
    named[n] = 0;
  }
  if (strcmp(leg, "cross-cc") && plain && af_cc_available(named)) {
    cfg->legs_cfg.cc[cfg->legs_cfg.ncc++] = named;
    return;
  }
  if (clang[0]) cfg->legs_cfg.cc[cfg->legs_cfg.ncc++] = clang;
  if (gcc[0] && (!strcmp(leg, "cross-cc") || !clang[0]))
    cfg->legs_cfg.cc[cfg->legs_cfg.ncc++] = gcc;
}

int cmd_reduce(int argc, char **argv) {
  red_cfg cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.timeout_ms = 1000;
  cfg.quiet_runs = 1;
  const char *input = NULL, *out = NULL, *repro = NULL, *leg = NULL, *check = NULL;
  char inject[64] = "", ccs[256] = "";
  static char backend[512];
  int verbose = 0;
  uint64_t v;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      fputs(help, stdout);
      return CLI_OK;
    }
    if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
      verbose = 1;
      continue;
    }
    if (a[0] != '-') {
      if (input) return cli_error("reduce: one input only ('%s' and '%s')", input, a), CLI_USAGE;
      input = a;
      continue;
    }
    const char *val = i + 1 < argc ? argv[++i] : NULL;
    if (!val) return cli_error("option '%s' needs a value", a), CLI_USAGE;
    if (!strcmp(a, "-o"))
      out = val;
    else if (!strcmp(a, "--leg"))
      leg = val;
    else if (!strcmp(a, "--check"))
      check = val;
    else if (!strcmp(a, "--inject")) {
      if (af_jit_mutant_find(val) < 0)
        return cli_error("--inject %s: unknown mutant (see abifuzz --list-mutants)", val),
               CLI_USAGE;
      snprintf(inject, sizeof inject, "%s", val);
    } else if (!strcmp(a, "--oracle-cc"))
      snprintf(ccs, sizeof ccs, "%s", val);
    else if (!strcmp(a, "--backend"))
      snprintf(backend, sizeof backend, "%s", val);
    else if (!strcmp(a, "--legs"))
      snprintf(cfg.legs, sizeof cfg.legs, "%s", val);
    else if (!strcmp(a, "--repro"))
      repro = val;
    else if (!strcmp(a, "--timeout")) {
      if (cli_u64(val, &v) || !v || v > 3600000)
        return cli_error("--timeout %s: not a number of milliseconds", val), CLI_USAGE;
      cfg.timeout_ms = (int)v;
    } else
      return cli_error("unknown option '%s' (see abifuzz reduce --help)", a), CLI_USAGE;
  }
  if (!input) return cli_error("reduce: no input (FINDING_DIR or FILE.case)"), CLI_USAGE;

  /* the case and the finding it fires */
  char casepath[4200], base[4200];
  struct stat sb;
  if (stat(input, &sb))
    return cli_error("reduce: cannot read '%s': %s", input, strerror(errno)), CLI_USAGE;
  if (S_ISDIR(sb.st_mode)) {
    snprintf(casepath, sizeof casepath, "%s/case.case", input);
    snprintf(base, sizeof base, "%s", input);
    char rp[4300];
    snprintf(rp, sizeof rp, "%s/report.json", input);
    char *json = slurp(rp);
    if (!json) return cli_error("reduce: cannot read '%s'", rp), CLI_USAGE;
    json_get(json, "leg", cfg.leg, sizeof cfg.leg);
    json_get(json, "check", cfg.check, sizeof cfg.check);
    json_get(json, "what", cfg.what, sizeof cfg.what);
    if (!inject[0]) json_get(json, "inject", inject, sizeof inject);
    if (!backend[0]) json_get(json, "backend", backend, sizeof backend);
    free(json);
  } else {
    snprintf(casepath, sizeof casepath, "%s", input);
    snprintf(base, sizeof base, "%s", input);
    char *slash = strrchr(base, '/');
    if (slash)
      *slash = 0;
    else
      snprintf(base, sizeof base, ".");
  }
  if (leg) snprintf(cfg.leg, sizeof cfg.leg, "%s", leg);
  if (check) snprintf(cfg.check, sizeof cfg.check, "%s", check);
  if (!cfg.leg[0] || !cfg.check[0])
    return cli_error("reduce: which finding? give --leg and --check (or a finding directory)"),
           CLI_USAGE;
  if (!af_leg_find(cfg.leg))
    return cli_error("reduce: leg '%s' is not in this build (see abifuzz --list-legs)", cfg.leg),
           CLI_USAGE;
  if (cfg.legs[0]) { /* every name known, and the finding's leg among them */
    char list[sizeof cfg.legs];
    snprintf(list, sizeof list, "%s", cfg.legs);
    int has = 0;
    for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
      if (!af_leg_find(tok))
        return cli_error("--legs %s: unknown leg (see abifuzz --list-legs)", tok), CLI_USAGE;
      has |= !strcmp(tok, cfg.leg);
    }
    if (!has)
      return cli_error("--legs %s: does not include the finding's leg %s", cfg.legs, cfg.leg),
             CLI_USAGE;
  }
  if (inject[0] && af_jit_mutant_find(inject) < 0)
    return cli_error("reduce: unknown mutant '%s'", inject), CLI_USAGE;
  cfg.legs_cfg.inject = inject[0] ? inject : NULL;
  if (backend[0] && strcmp(backend, "builtin")) { /* the campaign's workers open it */
    af_backend *b = NULL;
    af_error be = {{0}};
    if (af_backend_open(backend, &b, &be) != AF_OK)
      return cli_error("reduce: --backend: %s", be.msg), CLI_USAGE;
    af_backend_close(b);
    if (cfg.legs_cfg.inject)
      return cli_error("reduce: --inject needs the builtin backend, not %s", backend), CLI_USAGE;
    cfg.legs_cfg.backend_spec = backend;
  }
  for (char *tok = strtok(ccs, ","); tok; tok = strtok(NULL, ","))
    if (cfg.legs_cfg.ncc < AF_MAX_ORACLE_CC) cfg.legs_cfg.cc[cfg.legs_cfg.ncc++] = tok;
  default_cc(&cfg);
  if (check && (!strcmp(check, "crash") || !strcmp(check, "timeout"))) cfg.what[0] = 0;

  af_case c;
  af_error err = {{0}};
  if (af_parse_file(casepath, &c, &err) != AF_OK) {
    af_case_free(&c);
    return cli_error("%s", err.msg), CLI_USAGE;
  }
  char tmpl[4096];
  const char *td = getenv("TMPDIR");
  snprintf(tmpl, sizeof tmpl, "%.4000s/abifuzz-reduce-XXXXXX", td && *td ? td : "/tmp");
  if (!mkdtemp(tmpl)) {
    af_case_free(&c);
    return cli_error("reduce: cannot create a temporary directory: %s", strerror(errno)), CLI_ERROR;
  }
  cfg.tmpdir = tmpl;
  cfg.log = verbose ? stdout : NULL;
  if (verbose) {
    printf("reduce: %s: %s %s%s%s%s%s\n", casepath, cfg.leg, cfg.check, cfg.what[0] ? " " : "",
           cfg.what, inject[0] ? ", inject " : "", inject);
    fflush(stdout);
  }
  red_stats st;
  af_status s = red_reduce(&cfg, &c, &st, &err);
  char cand[4300];
  snprintf(cand, sizeof cand, "%s/candidate.case", tmpl);
  unlink(cand);
  rmdir(tmpl);
  if (s == AF_ERR_INVALID) {
    af_case_free(&c);
    return cli_error("reduce: %s", err.msg), CLI_USAGE;
  }
  if (s != AF_OK) {
    af_case_free(&c);
    return cli_error("reduce: %s", err.msg[0] ? err.msg : af_strerror(s)), CLI_ERROR;
  }
  if (!verbose)
    printf("reduce: %s: %s %s%s%s%s%s\n", casepath, cfg.leg, cfg.check, cfg.what[0] ? " " : "",
           cfg.what, inject[0] ? ", inject " : "", inject);
  fflush(stdout);
  char outpath[4300];
  if (out)
    snprintf(outpath, sizeof outpath, "%s", out);
  else
    snprintf(outpath, sizeof outpath, "%s/min.case", base);
  FILE *f = fopen(outpath, "w");
  if (!f || af_print(&c, f) != AF_OK || fclose(f)) {
    af_case_free(&c);
    return cli_error("reduce: cannot write '%s': %s", outpath, strerror(errno)), CLI_ERROR;
  }
  printf("removed: %d of %d functions, %d of %d instructions, %d of %d params, %d of %d types\n",
         st.funcs[0] - st.funcs[1], st.funcs[0], st.insts[0] - st.insts[1], st.insts[0],
         st.params[0] - st.params[1], st.params[0], st.types[0] - st.types[1], st.types[0]);
  printf("text: %zu -> %zu bytes; %d runs (%d kept, %d candidates refused by af_verify) in "
         "%.1f s\n",
         st.bytes[0], st.bytes[1], st.tries, st.accepted, st.invalid, st.secs);
  printf("wrote %s\n", outpath);
  int rc = CLI_OK;
  if (repro) {
    if (repro_write(&c, cfg.leg, cfg.check, cfg.legs_cfg.inject, repro, &err) != AF_OK) {
      cli_error("reduce: reproducer: %s", err.msg);
      rc = CLI_ERROR;
    } else {
      printf("reproducer: %s (sh %s/build.sh)\n", repro, repro);
    }
  }
  af_case_free(&c);
  return rc;
}
