/* test_reduce.c - the edits of abifuzz reduce on generated cases: none crashes, and every kind
 * yields cases that af_verify accepts and that print and parse back. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "reduce.h"
#include "repro.h"

/* 1 if the interpreter runs the case (an edited case stays runnable). */
static int af_interp_ok(const af_case *c) {
  af_interp_result r;
  af_error err = {{0}};
  memset(&r, 0, sizeof r);
  af_status s = af_interp(c, 0, &r, &err);
  af_interp_result_free(&r);
  CHECKF(s == AF_OK, "an edited case does not run: %s", err.msg);
  return s == AF_OK;
}

/* repro_write: every file of both kinds of reproducer; the plain-C one builds and agrees with
 * the interpreter (a correct case: "ok"). */
static void test_repro(void) {
  af_gen_opts o;
  af_gen_opts_default(&o);
  o.cc = AF_CC_SYSV;
  af_case c;
  af_error err = {{0}};
  CHECK(af_gen_case(&o, 3, 4, &c, NULL, &err) == AF_OK);
  char dir[] = "/tmp/test_reduce-XXXXXX", path[256], cmd[600];
  CHECK(mkdtemp(dir) != NULL);
  snprintf(path, sizeof path, "%s/jit", dir);
  CHECKF(repro_write(&c, "native", "callee-saved", "rbx-clobbered", path, &err) == AF_OK, "%s",
         err.msg);
  static const char *const jit_files[] = {"case.case", "oracle.c",       "caller.c",
                                          "main.c",    "CMakeLists.txt", "build.sh"};
  for (size_t i = 0; i < sizeof jit_files / sizeof jit_files[0]; i++) {
    snprintf(cmd, sizeof cmd, "%s/%s", path, jit_files[i]);
    FILE *f = fopen(cmd, "r");
    CHECKF(f != NULL, "reproducer lacks %s", jit_files[i]);
    if (f) fclose(f);
  }
  af_case back;
  snprintf(cmd, sizeof cmd, "%s/case.case", path);
  CHECK(af_parse_file(cmd, &back, &err) == AF_OK);
  af_case_free(&back);
  snprintf(path, sizeof path, "%s/c", dir);
  CHECKF(repro_write(&c, "c-oracle", "checksum", NULL, path, &err) == AF_OK, "%s", err.msg);
  if (AF_CLANG[0]) {
    snprintf(cmd, sizeof cmd, "CCS=%s sh %s/build.sh > %s/out 2>&1", AF_CLANG, path, path);
    int rc = system(cmd);
    snprintf(cmd, sizeof cmd, "%s/out", path);
    FILE *f = fopen(cmd, "r");
    char line[256] = "";
    if (f) {
      if (!fgets(line, sizeof line, f)) line[0] = 0;
      fclose(f);
    }
    CHECKF(rc == 0 && strstr(line, ": ok"), "plain-C reproducer: exit %d: %s", rc, line);
  }
  CHECK(repro_write(&c, "native", "x", NULL, "/proc/no/such/dir", &err) == AF_ERR_IO);
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd)) printf("could not remove %s\n", dir);
  af_case_free(&c);
}

static int valid[RED_NKINDS], applied[RED_NKINDS];

/* Applies e to a copy of c; counts it; a candidate that verifies must also round-trip. */
static void try_one(const af_case *c, red_edit e) {
  af_case k;
  af_error err = {{0}};
  if (red_clone(c, &k, &err) != AF_OK) {
    CHECKF(0, "clone: %s", err.msg);
    af_case_free(&k);
    return;
  }
  if (!red_apply(&k, &e)) {
    applied[e.kind]++;
    if (af_verify(&k, &err) == AF_OK) {
      valid[e.kind]++;
      char *text = NULL;
      size_t len = 0;
      af_case back;
      CHECK(af_print_str(&k, &text, &len) == AF_OK);
      af_status s = af_parse("edited", text ? text : "", text ? len : 0, &back, &err);
      CHECKF(s == AF_OK, "%s: an edited case does not parse back: %s", red_kind_name(e.kind),
             err.msg);
      af_case_free(&back);
      free(text);
    }
  }
  af_case_free(&k);
}

/* Chains of edits, as a reduction makes them (a random predicate): each kept step must verify
 * and the walk must never crash; it ends smaller than it started. */
static void test_walks(void) {
  af_gen_opts o;
  af_gen_opts_default(&o);
  o.allow_f16 = 1;
  af_rng rng;
  af_rng_seed(&rng, 11, 0);
  int steps = 0;
  for (uint64_t idx = 0; idx < 12; idx++) {
    af_case c;
    af_error err = {{0}};
    o.cc = (int)(idx % 2);
    if (af_gen_case(&o, 21, idx, &c, NULL, &err) != AF_OK) {
      af_case_free(&c);
      continue;
    }
    int insts0 = red_count_insts(&c);
    for (int step = 0; step < 150; step++) {
      red_edit e = {(red_kind)af_rng_below(&rng, RED_NKINDS), 0, 0, 1, 1};
      int nf = c.nfuncs;
      e.a = (int)af_rng_below(&rng, 16);
      if (e.kind >= RED_DROP_FIELD) e.a = (int)af_rng_below(&rng, (uint64_t)c.ntypes);
      if (e.kind <= RED_ZERO_CONST && e.kind != RED_DROP_FUNC)
        e.a = (int)af_rng_below(&rng, (uint64_t)nf);
      e.b = (int)af_rng_below(&rng, 40);
      e.n = 1 + (int)af_rng_below(&rng, 8);
      e.m = 1 + (int)af_rng_below(&rng, 3);
      af_case k;
      if (red_clone(&c, &k, &err) != AF_OK) {
        af_case_free(&k);
        break;
      }
      if (!red_apply(&k, &e) && af_verify(&k, &err) == AF_OK && af_interp_ok(&k)) {
        af_case_free(&c);
        c = k;
        steps++;
      } else {
        af_case_free(&k);
      }
    }
    CHECKF(red_count_insts(&c) <= insts0, "case %llu grew", (unsigned long long)idx);
    af_case_free(&c);
  }
  printf("%d chained edits kept\n", steps);
  CHECK(steps > 50);
}

int main(void) {
  test_repro();
  test_walks();
  af_gen_opts o;
  af_gen_opts_default(&o);
  for (uint64_t idx = 0; idx < 24; idx++) {
    af_case c;
    af_error err = {{0}};
    o.cc = (int)(idx % 2);
    if (af_gen_case(&o, 7, idx, &c, NULL, &err) != AF_OK) {
      CHECKF(0, "gen %llu: %s", (unsigned long long)idx, err.msg);
      af_case_free(&c);
      continue;
    }
    for (int f = 0; f < c.nfuncs; f++) {
      try_one(&c, (red_edit){RED_DROP_FUNC, f, 0, 0, 0});
      try_one(&c, (red_edit){RED_NONVARIADIC, f, 0, 0, 0});
      try_one(&c, (red_edit){RED_REENTRY, f, 0, 0, 0});
      int n = c.funcs[f].ninsts;
      try_one(&c, (red_edit){RED_INSTS, f, 0, n, 0});
      for (int i = 0; i < n; i += 3) {
        try_one(&c, (red_edit){RED_INSTS, f, i, 1, 0});
        try_one(&c, (red_edit){RED_FORWARD, f, i, 0, 0});
        try_one(&c, (red_edit){RED_FORWARD, f, i, 1, 0});
        try_one(&c, (red_edit){RED_MIX_OPS, f, i, 0, 1});
        try_one(&c, (red_edit){RED_ZERO_CONST, f, i, 0, 0});
      }
      for (int p = 0; p < c.funcs[f].sig.nparams; p++)
        try_one(&c, (red_edit){RED_DROP_PARAM, f, p, 0, 0});
    }
    for (int t = AF_T_NSCALAR; t < c.ntypes; t++) {
      try_one(&c, (red_edit){RED_UNWRAP, t, 0, 0, 0});
      try_one(&c, (red_edit){RED_SHRINK_ARRAY, t, 0, 0, 0});
      for (int fl = 0; fl < c.types[t].nfields; fl++)
        try_one(&c, (red_edit){RED_DROP_FIELD, t, fl, 0, 0});
    }
    for (int p = 0; p < c.ninputs; p++)
      try_one(&c, (red_edit){RED_ZERO_INPUT, p, 0, 0, 0});
    for (int k = 0; k < c.nobjects; k++) {
      try_one(&c, (red_edit){RED_ZERO_OBJECT, k, 0, 0, 0});
      try_one(&c, (red_edit){RED_DROP_OBJECT, k, 0, 0, 0});
    }
    /* out-of-range edits are refused, never a crash */
    try_one(&c, (red_edit){RED_DROP_FUNC, -1, 0, 0, 0});
    try_one(&c, (red_edit){RED_INSTS, 99, 0, 5, 0});
    try_one(&c, (red_edit){RED_DROP_PARAM, 0, 999, 0, 0});
    try_one(&c, (red_edit){RED_DROP_FIELD, 999, 0, 0, 0});
    try_one(&c, (red_edit){RED_NKINDS, 0, 0, 0, 0});
    af_case_free(&c);
  }
  for (int k = 0; k < RED_NKINDS; k++)
    printf("%-22s applied %5d, verified %5d\n", red_kind_name((red_kind)k), applied[k], valid[k]);
  /* the edits the reduction relies on most must produce valid cases */
  static const red_kind core[] = {RED_DROP_FUNC,  RED_INSTS,      RED_FORWARD,
                                  RED_MIX_OPS,    RED_DROP_PARAM, RED_ZERO_CONST,
                                  RED_ZERO_INPUT, RED_DROP_FIELD, RED_REENTRY};
  for (size_t i = 0; i < sizeof core / sizeof core[0]; i++)
    CHECKF(valid[core[i]] > 0, "%s never gave a valid case", red_kind_name(core[i]));
  return check_done();
}
