/* test_seeds.c - the seed corpus (corpus/seeds) covers every generator axis and replays. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gen.h"

/* The options the generated seeds were drawn with: everything the JIT legs take (f16, the
 * constructs gcc and clang disagree on), SSE level (no __m256) so the emulator runs them. */
static void seed_opts(af_gen_opts *o, af_cc cc) {
  af_gen_opts_default(o);
  o->allow_f16 = 1;
  o->allow_divergent = 1;
  o->cc = (int)cc;
}

#define MAXAX 32
#define MAXVAL 64

static int reachable(const af_weights *w, int a, int v) {
  return !(!strcmp(af_weights_axis(w, a), "scalar") && !strcmp(af_weights_value(w, a, v), "m256"));
}

/* test_seeds --make DIR N: a greedy cover of every axis value over N cases of seed 1. */
static int make(const char *dir, int n) {
  af_weights *w = af_weights_default();
  int naxes = af_weights_naxes(w);
  static int seen[MAXAX][MAXVAL];
  int left = 0, written = 0;
  for (int a = 0; a < naxes; a++)
    for (int v = 0; v < af_weights_nvalues(w, a); v++)
      left += reachable(w, a, v);
  for (int pass = 0; pass < 4 && left; pass++) { /* each pass takes the case adding the most */
    for (int i = 0; i < n && left; i++) {
      af_case c;
      af_gen_opts o;
      af_error e = {{0}};
      int axes[MAXAX];
      seed_opts(&o, (i & 1) ? AF_CC_WIN64 : AF_CC_SYSV);
      if (af_gen_case(&o, 1, (uint64_t)i, &c, axes, &e) != AF_OK) {
        af_case_free(&c);
        continue;
      }
      int gain = 0;
      for (int a = 0; a < naxes; a++)
        gain += axes[a] >= 0 && !seen[a][axes[a]] && reachable(w, a, axes[a]);
      if (gain >= 4 - pass) {
        for (int a = 0; a < naxes; a++)
          if (axes[a] >= 0 && !seen[a][axes[a]]) {
            seen[a][axes[a]] = 1;
            left -= reachable(w, a, axes[a]);
          }
        char path[4096];
        snprintf(path, sizeof path, "%s/gen-1-%d.case", dir, i);
        FILE *f = fopen(path, "w");
        if (f) {
          af_print(&c, f);
          fclose(f);
          written++;
        }
      }
      af_case_free(&c);
    }
  }
  printf("%d seed cases written, %d axis values left uncovered\n", written, left);
  af_weights_free(w);
  return left ? 1 : 0;
}

int main(int argc, char **argv) {
  if (argc == 4 && !strcmp(argv[1], "--make")) return make(argv[2], atoi(argv[3]));
  const char *dir = argc > 1 ? argv[1] : AF_SOURCE_DIR "/corpus/seeds";
  af_weights *w = af_weights_default();
  int naxes = af_weights_naxes(w);
  static int seen[MAXAX][MAXVAL];
  DIR *d = opendir(dir);
  CHECKF(d != NULL, "cannot open %s", dir);
  int files = 0, generated = 0;
  for (struct dirent *de; d && (de = readdir(d));) {
    size_t len = strlen(de->d_name);
    if (len < 6 || strcmp(de->d_name + len - 5, ".case")) continue;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
    af_case c;
    af_error e = {{0}};
    af_status s = af_parse_file(path, &c, &e);
    CHECKF(s == AF_OK, "%s: %s", path, e.msg);
    files++;
    if (s == AF_OK && !strncmp(de->d_name, "gen-", 4)) {
      /* a generated seed replays from its header, so its axes are known */
      af_case g;
      af_gen_opts o;
      int axes[MAXAX];
      seed_opts(&o, c.cc);
      s = af_gen_case(&o, c.seed, c.index, &g, axes, &e);
      char *a = NULL, *b = NULL;
      size_t na = 0, nb = 0;
      int same = s == AF_OK && af_print_str(&c, &a, &na) == AF_OK &&
                 af_print_str(&g, &b, &nb) == AF_OK && na == nb && !memcmp(a, b, na);
      CHECKF(same, "%s: not what gen(seed %llu, index %llu) makes now (generator %d)", path,
             (unsigned long long)c.seed, (unsigned long long)c.index, AF_GEN_VERSION);
      if (same) {
        generated++;
        for (int k = 0; k < naxes; k++)
          if (axes[k] >= 0 && axes[k] < MAXVAL) seen[k][axes[k]] = 1;
      }
      free(a);
      free(b);
      af_case_free(&g);
    }
    af_case_free(&c);
  }
  if (d) closedir(d);
  int missing = 0;
  for (int a = 0; a < naxes; a++)
    for (int v = 0; v < af_weights_nvalues(w, a); v++)
      if (reachable(w, a, v) && !seen[a][v]) {
        printf("  not covered: %s.%s\n", af_weights_axis(w, a), af_weights_value(w, a, v));
        missing++;
      }
  printf("%d seed files (%d generated), %d axis values not covered\n", files, generated, missing);
  CHECKF(missing == 0, "the seed corpus misses %d axis values", missing);
  af_weights_free(w);
  return check_done();
}
