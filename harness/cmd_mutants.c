/* cmd_mutants.c - `abifuzz mutants`: a campaign per JIT mutant, time to the first finding. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "campaign.h"
#include "cli.h"
#include "jit.h"

/* For every mutant, the checks whose firing counts as catching it for the right reason
 * (doc/mutants.md "Caught by"). The check that names the bug precisely comes first; the
 * consequences (result, objects, arg) are accepted where the bug moves or corrupts a value
 * and has no register or rule of its own to watch. */
static const struct {
  const char *mutant, *checks;
} expected[] = {
    {"w64-xmm-unsaved", "callee-saved"},
    {"w64-xmm-low64", "callee-saved"},
    {"rbx-clobbered", "callee-saved"},
    {"r12-r15-clobbered", "callee-saved"},
    {"w64-rsi-rdi-volatile", "callee-saved"},
    {"rbp-not-restored", "callee-saved,rsp"},
    {"df-left-set", "df"},
    {"mxcsr-rounding", "mxcsr"},
    {"volatile-across-call", "result,objects,arg,host-calls"},
    {"w64-no-home-space", "arg,result,objects,caller-frame,crash"},
    {"w64-locals-in-home-space", "result,objects,arg,caller-frame"},
    {"misaligned-calls", "stack-align"},
    {"w64-float-index", "arg,result,objects"},
    {"w64-vararg-no-dup", "vararg-dup"},
    {"sysv-vararg-no-al", "vararg-al"},
    {"sret-not-returned", "sret-rax"},
    {"sret-passed-in-rax", "sret-ptr,arg,result,objects,crash"},
    {"w64-struct16-in-rax-rdx", "sret-ptr,result,objects,crash"},
    {"sysv-float-int-as-sse", "arg,result,objects"},
    {"sysv-struct-split", "arg,result,objects"},
    {"sysv-i128-split", "arg,result,objects"},
    {"sysv-i128-no-r9-backfill", "arg,result,objects"},
    {"narrow-not-extended", "arg-ext"},
    {"callee-reads-64-of-32", "result,objects,garbage"},
    {"w64-stores-below-rsp", "below-rsp,result,objects,callee-saved,arg"},
    {"sysv-redzone-overrun", "red-zone,result,objects,arg"},
    {"w64-byref-no-copy", "result,objects,arg"},
    {"stack-args-reversed", "arg,result,objects"},
    {"stack16-unaligned", "arg,result,objects"},
    {"float-as-double", "arg,result,objects"},
    {"long-double-in-xmm0", "result,x87-stack"},
    {"jit-segv", "crash"},
    {"jit-hang", "timeout"},
    {"jit-wild-jump", "crash"},
};

/* The accepted checks of mutant m ("" when the table has no entry: any check counts). */
static const char *accepted(const char *m) {
  for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
    if (!strcmp(expected[i].mutant, m)) return expected[i].checks;
  return "";
}

static int in_list(const char *list, const char *check) {
  size_t n = strlen(check);
  for (const char *p = list; *p;) {
    const char *e = strchr(p, ',');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len == n && !strncmp(p, check, n)) return 1;
    if (!e) break;
    p = e + 1;
  }
  return 0;
}

/* What one campaign reported: the case it was first caught on and the check that fired there
 * (an expected one when several fired on that case). */
typedef struct {
  const char *mutant;
  int caught;
  double secs;
  uint64_t cases, index;
  char leg[24], check[32], what[64];
} score;

static void on_done(void *u, const camp_stats *st) {
  score *s = u;
  s->cases = st->cases;
  const camp_bucket *first = NULL;
  for (int i = 0; i < st->nbuckets; i++)
    if (!first || st->buckets[i].first_s < first->first_s) first = &st->buckets[i];
  if (!first) return;
  for (int i = 0; i < st->nbuckets; i++) {
    const camp_bucket *b = &st->buckets[i];
    if (b->first_index == first->first_index && in_list(accepted(s->mutant), b->check)) {
      first = b;
      break;
    }
  }
  s->caught = 1;
  s->secs = first->first_s;
  s->index = first->first_index;
  snprintf(s->leg, sizeof s->leg, "%s", first->leg);
  snprintf(s->check, sizeof s->check, "%s", first->check);
  snprintf(s->what, sizeof s->what, "%s", first->what);
}

static const char help[] =
    "usage: abifuzz mutants [--abi sysv|win64|both] [--time-per SEC] [-j N] [--seed S]\n"
    "                       [--legs LIST] [--mutants NAME,..] [--oracle-cc CC,..] [--out DIR]\n"
    "Without --legs: the campaign's default legs plus the emulator (emu).\n"
    "Runs a campaign per JIT mutant (abifuzz --list-mutants) until its first finding or\n"
    "--time-per seconds (default 60), and prints: mutant, caught, seconds and cases to the\n"
    "first finding, the leg and check that fired, and whether that check is one that names\n"
    "the bug (doc/mutants.md); --out DIR keeps each campaign's findings in DIR/MUTANT/.\n"
    "Ends with `caught N/M`. Exit 0 when every mutant was caught by\n"
    "an expected check, 1 otherwise, 2 on a usage error.\n";

int cmd_mutants(int argc, char **argv) {
  camp_cfg o;
  memset(&o, 0, sizeof o);
  o.seed = 1, o.jobs = 1, o.timeout_ms = 2000, o.abi = CAMP_ABI_BOTH, o.quiet = 1;
  o.time_s = 60, o.max_findings = 1, o.silent = 1;
  af_gen_opts_default(&o.gen);
  /* constructs gcc and clang lower differently are where a JIT most needs the psABI text
   * (an __int128 when only R9 is left: the sysv-i128-* mutants); the legs here follow
   * af_classify, and the compiler legs skip known divergences */
  o.gen.allow_divergent = 1;
  char *legs = NULL, *only = NULL;
  const char *out = NULL;
  uint64_t v;
  for (int i = 1; i < argc; i += 2) { /* every option takes a value */
    const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
    int takes = strcmp(a, "--help") && strcmp(a, "-h");
    if (takes && !val) return cli_error("option '%s' needs a value", a), CLI_USAGE;
    if (!takes) {
      fputs(help, stdout);
      return CLI_OK;
    } else if (!strcmp(a, "--abi")) {
      if (!strcmp(val, "both"))
        o.abi = CAMP_ABI_BOTH;
      else if (!strcmp(val, "sysv"))
        o.abi = CAMP_ABI_SYSV;
      else if (!strcmp(val, "win64"))
        o.abi = CAMP_ABI_WIN64;
      else
        return cli_error("--abi %s: unknown convention (sysv, win64 or both)", val), CLI_USAGE;
    } else if (!strcmp(a, "--time-per")) {
      char *end;
      o.time_s = strtod(val, &end);
      if (*end || !(o.time_s > 0) || o.time_s > 1e6)
        return cli_error("--time-per %s: not a positive number of seconds", val), CLI_USAGE;
    } else if (!strcmp(a, "-j")) {
      if (cli_u64(val, &v) || !v || v > 256)
        return cli_error("-j %s: not a number of workers (1 to 256)", val), CLI_USAGE;
      o.jobs = (int)v;
    } else if (!strcmp(a, "--seed")) {
      if (cli_u64(val, &o.seed)) return cli_error("--seed %s: not a number", val), CLI_USAGE;
    } else if (!strcmp(a, "--legs")) {
      legs = argv[i + 1];
    } else if (!strcmp(a, "--out")) {
      out = val;
      if (mkdir(out, 0777) && errno != EEXIST)
        return cli_error("cannot create '%s': %s", out, strerror(errno)), CLI_ERROR;
    } else if (!strcmp(a, "--mutants")) {
      only = argv[i + 1];
    } else if (!strcmp(a, "--oracle-cc")) {
      for (char *tok = strtok(argv[i + 1], ","); tok; tok = strtok(NULL, ","))
        if (o.legs_cfg.ncc < AF_MAX_ORACLE_CC) o.legs_cfg.cc[o.legs_cfg.ncc++] = tok;
    } else {
      return cli_error("unknown option '%s' (see abifuzz mutants --help)", a), CLI_USAGE;
    }
  }
  int default_legs = legs == NULL;
  if (camp_select_legs(&o, legs)) return CLI_USAGE;
  /* the emulator is off in campaigns for its cost, but it is the precise check for stores
   * below RSP and into the caller's frame: on here, it runs only until the first finding */
  const af_leg *emu = af_leg_find("emu");
  if (default_legs && emu && o.nlegs < CAMP_MAX_LEGS) {
    int have = 0;
    for (int i = 0; i < o.nlegs; i++)
      have |= o.legs[i] == emu;
    if (!have) o.legs[o.nlegs++] = emu;
  }
  o.legs_cfg.seed = o.seed;
  af_weights *w = cli_weights(NULL);
  if (!w) return CLI_ERROR;
  o.gen.weights = w;

  int n = af_jit_mutant_count(), tried = 0, caught = 0, right = 0;
  printf("%-26s %-6s %8s %8s  %-12s %-13s %s\n", "mutant", "caught", "seconds", "cases", "leg",
         "check", "expected check");
  for (int m = 0; m < n; m++) {
    const char *name = af_jit_mutant_name(m);
    if (only && !in_list(only, name)) continue;
    score s;
    memset(&s, 0, sizeof s);
    s.mutant = name;
    o.legs_cfg.inject = name;
    char dir[4096];
    if (out) {
      snprintf(dir, sizeof dir, "%s/%s", out, name);
      if (mkdir(dir, 0777) && errno != EEXIST)
        return cli_error("cannot create '%s': %s", dir, strerror(errno)), CLI_ERROR;
      o.outdir = dir;
    }
    o.on_done = on_done, o.on_done_u = &s;
    fflush(stdout);
    camp_run(&o);
    tried++;
    caught += s.caught;
    const char *acc = accepted(name);
    int ok = s.caught && (!*acc || in_list(acc, s.check));
    right += ok;
    if (s.caught)
      printf("%-26s %-6s %8.2f %8llu  %-12s %-13s %s\n", name, "yes", s.secs,
             (unsigned long long)(s.index - o.start + 1), s.leg, s.check,
             ok ? "yes" : "NO (expected one of: ");
    else
      printf("%-26s %-6s %8s %8llu  %-12s %-13s %s\n", name, "NO", "-", (unsigned long long)s.cases,
             "-", "-", "-");
    if (s.caught && !ok) printf("%28s%s)\n", "", acc);
  }
  printf("caught %d/%d (%d by an expected check)\n", caught, tried, right);
  af_weights_free(w);
  return right == tried && tried ? CLI_OK : CLI_FINDING;
}
