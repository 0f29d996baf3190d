/* fuzz_case.c - libFuzzer target: input bytes -> case -> the native and garbage legs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "legs.h"
#include "mutator.h"
#include "probe.h"

/* libFuzzer's entry points take no context, so the target's configuration and the legs'
 * states live here, set once by LLVMFuzzerInitialize (the target is single-threaded: -jobs
 * and -workers run separate processes). */
static struct {
  af_legs_cfg cfg;
  int cc; /* -1: drawn from the bytes; else ABIFUZZ_ABI */
  const char *dir;
  int verbose;
  int print; /* ABIFUZZ_PRINT=1: every case to stdout before it runs */
  const af_leg *legs[2];
  void *state[2];
  int nlegs;
} g;

/* Environment: ABIFUZZ_ABI=sysv|win64, ABIFUZZ_INJECT=<mutant>, ABIFUZZ_FINDINGS_DIR=<dir>,
 * ABIFUZZ_VERBOSE=1 (one line per skipped leg), ABIFUZZ_PRINT=1 (every case to stdout before
 * it runs: how a saved input that crashed the process, not a check, becomes a .case file). */
int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  g.cc = -1;
  const char *abi = getenv("ABIFUZZ_ABI");
  if (abi && *abi && strcmp(abi, "both") && strcmp(abi, "all")) {
    af_cc cc;
    if (af_cc_parse(abi, &cc)) {
      fprintf(stderr, "fuzz_case: ABIFUZZ_ABI=%s: not sysv or win64\n", abi);
      exit(2);
    }
    g.cc = (int)cc;
  }
  const char *inject = getenv("ABIFUZZ_INJECT");
  if (inject && *inject) {
    if (af_jit_mutant_find(inject) < 0) {
      fprintf(stderr, "fuzz_case: ABIFUZZ_INJECT=%s: unknown mutant (abifuzz --list-mutants)\n",
              inject);
      exit(2);
    }
    g.cfg.inject = inject;
  }
  g.dir = getenv("ABIFUZZ_FINDINGS_DIR");
  if (!g.dir || !*g.dir) g.dir = ".";
  g.verbose = getenv("ABIFUZZ_VERBOSE") && atoi(getenv("ABIFUZZ_VERBOSE")) > 0;
  g.cfg.verbose = g.verbose;
  g.print = getenv("ABIFUZZ_PRINT") && atoi(getenv("ABIFUZZ_PRINT")) > 0;
  const af_leg *want[2] = {af_leg_find("native"), af_leg_find("garbage")};
  for (int i = 0; i < 2; i++) {
    af_error err = {{0}};
    if (!want[i]) continue;
    if (want[i]->init(&g.cfg, &g.state[g.nlegs], &err) != AF_OK) {
      fprintf(stderr, "fuzz_case: leg %s off: %s\n", want[i]->name, err.msg);
      continue;
    }
    g.legs[g.nlegs++] = want[i];
  }
  if (!g.nlegs) {
    fprintf(stderr, "fuzz_case: no leg could start\n");
    exit(2);
  }
  fprintf(stderr, "fuzz_case: abi %s, mutant %s, legs native+garbage, findings in %s\n",
          g.cc < 0 ? "from the bytes" : af_cc_name((af_cc)g.cc),
          g.cfg.inject ? g.cfg.inject : "none", g.dir);
  return 0;
}

/* The sink: collects every finding of one case (the legs run it in-process, one at a time). */
typedef struct {
  int n;
  af_finding f[2 * AF_FINDINGS_MAX];
} collected;

static void sink_begin(void *u, const af_job *j, const char *leg) {
  (void)u;
  (void)j;
  (void)leg;
}

static void sink_end(void *u, const af_job *j, const char *leg, af_leg_verdict v,
                     const char *reason, const af_finding *f, int nf) {
  (void)j;
  collected *col = u;
  if (v == AF_LEG_SKIP && g.verbose) fprintf(stderr, "fuzz_case: %s skipped: %s\n", leg, reason);
  for (int i = 0; i < nf && col->n < (int)(sizeof col->f / sizeof col->f[0]); i++)
    col->f[col->n++] = f[i];
}

/* A finding: the case next to the crash, the findings on stderr, then abort() so libFuzzer
 * records the input (crash-<sha1>) and minimisation / -merge treat it as a crash. */
static void report(const af_case *c, const collected *col) {
  char *text = NULL;
  size_t len = 0;
  char path[4096] = "";
  if (af_print_str(c, &text, &len) == AF_OK) {
    uint64_t h = 0;
    for (size_t i = 0; i < len; i++)
      h = af_fold_u64(h, (uint8_t)text[i]);
    snprintf(path, sizeof path, "%s/abifuzz-finding-%016llx.case", g.dir, (unsigned long long)h);
    FILE *f = fopen(path, "w");
    if (f) {
      fwrite(text, 1, len, f);
      fclose(f);
    } else {
      fprintf(stderr, "fuzz_case: cannot write %s\n", path);
      path[0] = 0;
    }
    free(text);
  }
  fprintf(stderr, "==abifuzz== %d finding%s (abi %s, mutant %s)\n", col->n, col->n == 1 ? "" : "s",
          af_cc_name(c->cc), g.cfg.inject ? g.cfg.inject : "none");
  for (int i = 0; i < col->n; i++)
    fprintf(stderr, "==abifuzz== %s %s %s: %s\n", col->f[i].leg, col->f[i].check, col->f[i].what,
            col->f[i].detail);
  if (path[0])
    fprintf(stderr, "==abifuzz== case written to %s (abifuzz%s%s %s replays it)\n", path,
            g.cfg.inject ? " --inject " : "", g.cfg.inject ? g.cfg.inject : "", path);
  fflush(stderr);
  abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  af_job *j = calloc(1, sizeof *j);
  if (!j) return 0;
  j->refs = 1;
  j->cfg = &g.cfg;
  af_error err = {{0}};
  if (af_fuzz_decode(data, size, g.cc, &j->c, &err) != AF_OK ||
      (g.cc >= 0 && (int)j->c.cc != g.cc)) {
    af_case_free(&j->c);
    free(j);
    return -1; /* not a usable input: libFuzzer keeps it out of the corpus */
  }
  if (g.print) {
    af_print(&j->c, stdout);
    fflush(stdout);
  }
  /* The interpreter's outcome is the reference; a case it refuses (step budget) is not run. */
  if (af_interp(&j->c, 0, &j->want, &err) != AF_OK) {
    if (g.verbose) fprintf(stderr, "fuzz_case: interp: %s\n", err.msg);
    af_interp_result_free(&j->want);
    af_case_free(&j->c);
    free(j);
    return 0;
  }
  collected col = {0};
  af_leg_sink sink = {&col, sink_begin, sink_end};
  for (int i = 0; i < g.nlegs; i++)
    g.legs[i]->submit(g.state[i], j, &sink);
  if (col.n) report(&j->c, &col);
  af_job_unref(j);
  return 0;
}

/* Structure-aware mutation (mutator.c); raw byte mutation when it cannot produce a case, and
 * one time in four anyway, so generator-byte inputs keep exploring the generator's choices. */
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max);

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max, unsigned int seed) {
  if (seed % 4 != 0) {
    size_t n = af_fuzz_mutate(data, size, max, seed, g.cc);
    if (n) return n;
  }
  return LLVMFuzzerMutate(data, size, max);
}
