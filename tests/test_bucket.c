/* test_bucket.c - bucket shapes and keys of hand-made findings on a hand-made case, the rules
 * file, the consensus, and one mutant campaign that must give few buckets (harness/bucket.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bucket.h"
#include "campaign.h"
#include "check.h"
#include "cli.h"

/* f1: five integers, then a 16-byte INTEGER struct and an __int128 that no longer fit (only R9
 * left), then an i64 that back-fills R9; f2: a Win64 variadic double; f3: an sret return; f4:
 * Win64 by-reference arguments and an x87 return; f5: plain stack arguments. */
static const char hand_case[] =
    "# abifuzz case, generator 1\n"
    "# seed 0 index 0 abi sysv\n"
    "type t21 = struct { i64, i64 }\n"
    "type t22 = struct { i64, i64, i64 }\n"
    "func f0 sysv () -> void {\n  ret void\n}\n"
    "func f1 host sysv (i64, i64, i64, i64, i64, t21, i128, i64) -> void {\n  ret void\n}\n"
    "func f2 host win64 (i32, ..., f64) -> void {\n  ret void\n}\n"
    "func f3 host sysv (i64) -> t22 {\n"
    "  v1 = const t22 000000000000000000000000000000000000000000000000\n  ret t22 v1\n}\n"
    "func f4 host win64 (f32, t21, i128) -> f80 {\n"
    "  v3 = const f80 0xc000c90fdaa22168c000\n  ret f80 v3\n}\n"
    "func f5 host sysv (i64, i64, i64, i64, i64, i64, i32, f80) -> void {\n  ret void\n}\n"
    "entry f0\n";

static void shape_of(const af_case *c, const char *leg, const char *check, const char *what,
                     const camp_crash *cr, char *out, size_t n) {
  af_finding f;
  af_finding_set(&f, leg, check, what, "detail");
  camp_shape(c, &f, cr, out, n);
}

#define SHAPE_IS(c, check, what, want)                                                             \
  do {                                                                                             \
    char s_[160];                                                                                  \
    shape_of(c, "native", check, what, NULL, s_, sizeof s_);                                       \
    CHECKF(!strcmp(s_, want), "%s '%s': shape '%s', want '%s'", check, what, s_, want);            \
  } while (0)

static void test_shapes(const af_case *c) {
  SHAPE_IS(c, "arg", "arg 0 of call 0 to f1", "int64 arg in gpr");
  SHAPE_IS(c, "arg", "arg 5 of call 3 to f1",
           "aggregate 9-16 bytes arg on the stack, only r9 left");
  SHAPE_IS(c, "arg", "arg 6 of call 3 to f1", "__int128 arg on the stack, only r9 left");
  SHAPE_IS(c, "arg", "arg 7 of call 1 to f1", "int64 arg in gpr, back-filled after a stack arg");
  SHAPE_IS(c, "vararg-dup", "arg 1 of call 2 to f2",
           "win64 callee: variadic double arg in xmm+gpr copy");
  SHAPE_IS(c, "arg", "arg 1 of call 0 to f4", "win64 callee: arg by reference in gpr");
  SHAPE_IS(c, "arg", "arg 2 of call 0 to f4", "win64 callee: arg by reference in gpr");
  /* on the stack, away from a register boundary, only the slot's alignment matters */
  SHAPE_IS(c, "arg", "arg 6 of call 0 to f5", "arg on the stack");
  SHAPE_IS(c, "arg", "arg 7 of call 0 to f5", "16-aligned arg on the stack");
  SHAPE_IS(c, "sret-ptr", "call 4 to f3", "aggregate 17+ bytes returned via sret");
  SHAPE_IS(c, "result", "return of call 0 to f4", "win64 callee: long double returned in st0");
  SHAPE_IS(c, "callee-saved", "rbx", "rbx clobbered");
  SHAPE_IS(c, "callee-saved", "xmm7", "xmm6-15 clobbered");
  SHAPE_IS(c, "callee-saved", "f3 r12", "r12 clobbered");         /* the emulator's `what` */
  SHAPE_IS(c, "callee-saved", "xmm9 in f2", "xmm6-15 clobbered"); /* the interposer's */
  SHAPE_IS(c, "callee-saved", "rbp in f4", "rbp clobbered");
  SHAPE_IS(c, "objects", "object 3 byte 17", "object memory");
  SHAPE_IS(c, "stack-align", "call 2 to f3", "rsp misaligned at a call");
  SHAPE_IS(c, "df", "rflags", "DF set after the return");
  SHAPE_IS(c, "host-calls", "call 12 to f3", "call N to fN"); /* the generic fallback */
  /* the entry (f0) returns void: a result finding names its return */
  SHAPE_IS(c, "result", "(i64) at byte 0", "void returned nowhere");
  /* a compiler leg keeps the compiler apart */
  char s[160];
  shape_of(c, "cc-callee", "arg", "arg 6 of call 3 to f1 (clang-14)", NULL, s, sizeof s);
  CHECKF(!strcmp(s, "__int128 arg on the stack, only r9 left [clang-14]"), "cc shape '%s'", s);
  /* crashes: the signal and whether RIP was JIT code */
  camp_crash cr;
  memset(&cr, 0, sizeof cr);
  cr.sig = 11, cr.have_regs = 1, cr.rip_in_jit = 1;
  shape_of(c, "runner", "crash", "SIGSEGV", &cr, s, sizeof s);
  CHECKF(!strcmp(s, "SIGSEGV, rip in JIT code"), "crash shape '%s'", s);
  cr.rip_in_jit = 0;
  shape_of(c, "runner", "timeout", "", &cr, s, sizeof s);
  CHECKF(!strcmp(s, "hang, rip outside JIT code"), "timeout shape '%s'", s);
  /* without the case: the numbers of `what` go */
  shape_of(NULL, "native", "arg", "arg 5 of call 3 to f1", NULL, s, sizeof s);
  CHECKF(!strcmp(s, "arg N of call N to fN"), "no-case shape '%s'", s);
}

/* The same argument reached through different calls is one bucket; another argument is not. */
static void test_keys(const af_case *c) {
  char a[160], b[160], ka[224], kb[224];
  shape_of(c, "native", "arg", "arg 5 of call 3 to f1", NULL, a, sizeof a);
  shape_of(c, "native", "arg", "arg 5 of call 9 to f1", NULL, b, sizeof b);
  camp_bucket_key("native", "arg", AF_CC_SYSV, a, ka, sizeof ka);
  camp_bucket_key("native", "arg", AF_CC_SYSV, b, kb, sizeof kb);
  CHECKF(!strcmp(ka, kb), "'%s' vs '%s'", ka, kb);
  CHECKF(!strcmp(ka, "native/arg/sysv: aggregate 9-16 bytes arg on the stack, only r9 left"),
         "key %s", ka);
  shape_of(c, "native", "arg", "arg 0 of call 3 to f1", NULL, b, sizeof b);
  camp_bucket_key("native", "arg", AF_CC_SYSV, b, kb, sizeof kb);
  CHECK(strcmp(ka, kb) != 0);
  camp_bucket_key("native", "arg", AF_CC_WIN64, a, kb, sizeof kb);
  CHECK(strcmp(ka, kb) != 0); /* the convention is part of the key */
  CHECK(camp_check_is_consequence("result") && camp_check_is_consequence("objects"));
  CHECK(!camp_check_is_consequence("arg") && !camp_check_is_consequence("callee-saved"));
  CHECK(camp_check_is_value("arg") && camp_check_is_value("vararg-dup"));
  CHECK(!camp_check_is_value("result") && !camp_check_is_value("callee-saved"));
}

static const camp_compiler ccs[3] = {{"clang-14", "clang-14", AF_FAMILY_CLANG, 14},
                                     {"gcc", "gcc-12", AF_FAMILY_GCC, 12},
                                     {"/usr/bin/clang-19", "clang-19", AF_FAMILY_CLANG, 19}};

static void test_rules(const af_case *c) {
  camp_rules *r = NULL;
  af_error err = {{0}};
  static const char text[] = "# comment\n"
                             "[old-clang]\n"
                             "legs = cc-caller, cc-callee\n"
                             "compiler = clang <= 17\n"
                             "divergence = sysv-i128-last-gpr\n"
                             "reason = clang <= 17 splits it (llvm #41784)\n"
                             "\n"
                             "[gcc-12-only]\n"
                             "compiler = gcc 12\n"
                             "checks = result\n"
                             "reason = gcc\n"
                             "[stack-i128]\n"
                             "compiler = clang 18-19\n"
                             "case-shape = __int128 arg on the stack\n"
                             "reason = shape of the case\n"
                             "[mutant]\n"
                             "inject = sysv-struct-split\n"
                             "shape = only r9 left\n"
                             "reason = synthetic\n";
  CHECKF(camp_rules_parse("t.rules", text, &r, &err) == AF_OK, "%s", err.msg);
  CHECK(camp_rules_count(r) == 4);
  const char *divs[8];
  int nd = camp_case_divergences(c, ccs, 3, divs, 8);
  int has = 0;
  for (int i = 0; i < nd; i++)
    has |= !strcmp(divs[i], "sysv-i128-last-gpr");
  CHECKF(has, "the hand case hits sysv-i128-last-gpr (%d ids)", nd);
  const char *id = NULL, *reason = NULL;
  camp_known_query q = {
      "cc-callee", "arg", "arg 6 of call 0 to f1 (clang-14)", "x", NULL, ccs, 3, 0, divs, nd,
      c,           NULL};
  q.cc_mask = camp_compilers_named(ccs, 3, q.what);
  CHECK(q.cc_mask == 1u);
  CHECK(camp_rules_match(r, &q, &id, &reason) && !strcmp(id, "old-clang"));
  CHECK(strstr(reason, "#41784") != NULL); /* '#' inside a value is not a comment */
  q.leg = "runner";                        /* not in legs */
  CHECK(!camp_rules_match(r, &q, &id, &reason));
  q.leg = "cc-callee", q.ndivs = 0; /* the case does not hit the divergence */
  CHECK(!camp_rules_match(r, &q, &id, &reason));
  q.ndivs = nd;
  q.what = "arg 6 of call 0 to f1 (clang-19)", q.cc_mask = camp_compilers_named(ccs, 3, q.what);
  CHECK(q.cc_mask == 4u); /* by the id, though the name is a path */
  CHECK(camp_rules_match(r, &q, &id, &reason) && !strcmp(id, "stack-i128"));
  q.c = NULL; /* case-shape rules need the case */
  CHECK(!camp_rules_match(r, &q, &id, &reason));
  q.c = c;
  q.what = "gcc-12", q.check = "result", q.cc_mask = camp_compilers_named(ccs, 3, q.what);
  CHECK(camp_rules_match(r, &q, &id, &reason) && !strcmp(id, "gcc-12-only"));
  q.what = "SIGSEGV", q.check = "crash", q.cc_mask = 0; /* names no compiler: not blamed */
  CHECK(!camp_rules_match(r, &q, &id, &reason));
  camp_known_query m = {"runner",
                        "arg",
                        "arg 5",
                        "aggregate 9-16 bytes arg on the stack, only r9 left",
                        "sysv-struct-split",
                        ccs,
                        0,
                        0,
                        NULL,
                        0,
                        NULL,
                        NULL};
  CHECK(camp_rules_match(r, &m, &id, &reason) && !strcmp(id, "mutant"));
  m.inject = NULL;
  CHECK(!camp_rules_match(r, &m, &id, &reason));
  camp_rules_free(r);

  /* backend: a substring of the campaign's --backend spec; no --backend is "builtin" */
  af_error be = {{0}};
  CHECK(camp_rules_parse("b.rules",
                         "[tcc-bug]\nbackend = tcc\nchecks = result\nreason = r1\n"
                         "[ours]\nbackend = builtin\nreason = r2\n",
                         &r, &be) == AF_OK);
  camp_known_query b = {"native", "result", "", "x", NULL, ccs, 0, 0, NULL, 0, NULL, NULL};
  CHECK(camp_rules_match(r, &b, &id, &reason) && !strcmp(id, "ours"));
  b.backend = "cc:tcc -c {src} -o {obj}";
  CHECK(camp_rules_match(r, &b, &id, &reason) && !strcmp(id, "tcc-bug"));
  b.backend = "llvm";
  CHECK(!camp_rules_match(r, &b, &id, &reason));
  camp_rules_free(r);

  static const struct {
    const char *text, *msg;
  } bad[] = {
      {"[a]\nlegs = x\n", "t.rules:2: rule 'a' has no reason"},
      {"[a]\nreason = r\nfrob = 1\n", "t.rules:3: unknown key 'frob'"},
      {"legs = x\n", "t.rules:1: 'legs' before the first [rule-id]"},
      {"[a]\ncompiler = icc\nreason = r\n", "t.rules:2: compiler 'icc'"},
      {"[a]\ncompiler = clang <= x\nreason = r\n", "t.rules:2: compiler"},
      {"[a]\ndivergence = no-such-id\nreason = r\n", "t.rules:2: divergence 'no-such-id'"},
      {"[a\nreason = r\n", "t.rules:1: expected [rule-id]"},
      {"[a]\njunk\n", "t.rules:2: expected 'key = value'"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    af_error e = {{0}};
    camp_rules *x = (camp_rules *)1;
    CHECKF(camp_rules_parse("t.rules", bad[i].text, &x, &e) == AF_ERR_PARSE, "bad %zu parsed", i);
    CHECKF(!strncmp(e.msg, bad[i].msg, strlen(bad[i].msg)), "bad %zu: '%s'", i, e.msg);
    CHECK(x == NULL);
  }
  /* the committed rules file parses and has the table's entries */
  camp_rules *def = NULL;
  af_error e = {{0}};
  CHECKF(camp_rules_load(camp_rules_default_path(), &def, &e) == AF_OK, "%s", e.msg);
  CHECKF(camp_rules_count(def) >= 10, "%d rules", camp_rules_count(def));
  camp_rules_free(def);
  CHECK(camp_rules_load("/nonexistent/x.rules", &def, &e) == AF_ERR_IO && !def);
}

static void outlier(const camp_vote *v, int n, const char *want, const char *agree_has) {
  char out[64];
  const char *agree[16];
  int na = camp_outlier(v, n, ccs, 3, out, sizeof out, agree, 16);
  CHECKF(!strcmp(out, want), "outlier '%s', want '%s'", out, want);
  if (agree_has) {
    int found = 0;
    for (int i = 0; i < na; i++)
      found |= !strcmp(agree[i], agree_has);
    CHECKF(found, "'%s' not among those who agree", agree_has);
  }
  for (int i = 0; i < na; i++)
    CHECKF(strcmp(agree[i], want), "the outlier %s agrees", want);
}

static void test_consensus(void) {
  /* the JIT disagrees with every peer: jit */
  camp_vote a[] = {{"native", AF_LEG_FAIL, 0},
                   {"runner", AF_LEG_FAIL, 0},
                   {"ffi-caller", AF_LEG_FAIL, 0},
                   {"cc-caller", AF_LEG_FAIL, 0}};
  outlier(a, 4, "jit", NULL);
  /* clang-14 alone disagrees: the JIT passes with gcc and clang-19 in the same leg */
  camp_vote b[] = {{"runner", AF_LEG_PASS, 0},
                   {"cc-callee", AF_LEG_FAIL, 1u},
                   {"cc-caller", AF_LEG_PASS, 0},
                   {"c-oracle", AF_LEG_PASS, 0}};
  outlier(b, 4, "clang-14", "gcc-12");
  /* c-oracle: gcc's whole-case checksum is wrong, clang's are right */
  camp_vote c[] = {{"c-oracle", AF_LEG_FAIL, 2u}, {"runner", AF_LEG_PASS, 0}};
  outlier(c, 2, "gcc-12", NULL);
  /* nothing failed: no outlier */
  camp_vote d[] = {{"runner", AF_LEG_PASS, 0}, {"native", AF_LEG_SKIP, 0}};
  outlier(d, 2, "", NULL);
  /* two disjoint failures: nothing explains both */
  camp_vote e[] = {{"c-oracle", AF_LEG_FAIL, 2u}, {"runner", AF_LEG_FAIL, 0}};
  outlier(e, 2, "", NULL);
  /* libffi and the JIT fail together and nothing else ran: a tie, no outlier */
  camp_vote f[] = {{"ffi-caller", AF_LEG_FAIL, 0}, {"ffi-callee", AF_LEG_FAIL, 0}};
  outlier(f, 2, "", NULL);
  const char *im[8];
  CHECK(camp_leg_impls("cross-cc", 0, ccs, 3, im, 8) == 3 && !strcmp(im[0], "clang-14"));
  CHECK(camp_leg_impls("cc-caller", 4u, ccs, 3, im, 8) == 2 && !strcmp(im[1], "clang-19"));
}

/* ---- one mutant campaign, in-process --------------------------------------------------------- */
typedef struct {
  int nbuckets, arg_buckets, all_r9;
  uint64_t findings, known;
} seen;

static void on_done(void *u, const camp_stats *st) {
  seen *s = u;
  s->nbuckets = st->nbuckets, s->findings = st->findings, s->known = st->known;
  s->all_r9 = 1;
  for (int i = 0; i < st->nbuckets; i++)
    if (!strcmp(st->buckets[i].check, "arg")) {
      s->arg_buckets++;
      s->all_r9 &= strstr(st->buckets[i].shape, "only r9 left") != NULL;
    }
}

static int campaign(const char *outdir, const camp_rules *known, seen *s) {
  camp_cfg o;
  memset(&o, 0, sizeof o);
  o.seed = 1, o.cases = 400, o.jobs = 2, o.timeout_ms = 5000, o.abi = CAMP_ABI_SYSV;
  o.quiet = 1, o.silent = 1, o.outdir = outdir, o.known = known;
  af_gen_opts_default(&o.gen);
  af_weights *w = af_weights_default();
  o.gen.weights = w;
  o.legs_cfg.inject = "sysv-struct-split";
  o.legs_cfg.seed = o.seed;
  /* the legs by hand (camp_select_legs lives with the command line) */
  const char *names[] = {"native", "runner"};
  for (int i = 0; i < 2; i++)
    if ((o.legs[o.nlegs] = af_leg_find(names[i])) != NULL) o.nlegs++;
  if (!o.nlegs) return -1;
  memset(s, 0, sizeof *s);
  o.on_done = on_done, o.on_done_u = s;
  int rc = camp_run(&o);
  af_weights_free(w);
  return rc;
}

static void test_campaign(void) {
  char dir[] = "/tmp/test_bucket.XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  seen s;
  int rc = campaign(dir, NULL, &s);
  CHECKF(rc == CLI_FINDING, "rc %d", rc);
  /* the old key (what verbatim) gave one bucket per finding */
  CHECKF(s.findings >= 20, "%llu findings", (unsigned long long)s.findings);
  CHECKF(s.nbuckets <= 12 && (uint64_t)s.nbuckets * 3 <= s.findings, "%d buckets for %llu findings",
         s.nbuckets, (unsigned long long)s.findings);
  CHECKF(s.arg_buckets >= 1 && s.arg_buckets <= 4 && s.all_r9, "%d arg buckets (all at r9: %d)",
         s.arg_buckets, s.all_r9);
  /* every report.json has its bucket and, its case done, the consensus naming the JIT */
  char cmd[2048];
  snprintf(
      cmd, sizeof cmd,
      "python3 - %s <<'EOF'\n"
      "import json, glob, sys\n"
      "s = json.load(open(sys.argv[1] + '/summary.json'))\n"
      "assert all(b['key'] and b['shape'] and b['smallest']['size'] > 0 for b in s['buckets'])\n"
      "assert all(b['smallest']['finding'] for b in s['buckets'])\n"
      "assert all(0 < b['outliers'].get('jit', 0) <= b['count'] for b in s['buckets'])\n"
      "n = 0\n"
      "for p in glob.glob(sys.argv[1] + '/findings/*/report.json'):\n"
      "    d = json.load(open(p)); n += 1\n"
      "    assert d['bucket'].endswith(d['shape']) and d['known'] is None, p\n"
      "    c = d['consensus']\n"
      "    assert c['outlier'] == 'jit' and c['fail'], (p, c)\n"
      "    assert d['leg'] in [f['leg'] for f in c['fail']], (p, c)\n"
      "assert n >= 3\n"
      "EOF",
      dir);
  CHECKF(system(cmd) == 0, "report.json / summary.json of %s", dir);
  /* a rule matching every finding of the mutant: known, and the campaign passes */
  camp_rules *r = NULL;
  af_error e = {{0}};
  CHECK(camp_rules_parse("syn", "[syn]\ninject = sysv-struct-split\nreason = synthetic\n", &r,
                         &e) == AF_OK);
  rc = campaign(NULL, r, &s);
  CHECKF(rc == CLI_OK && s.known == s.findings && s.findings > 0, "rc %d, known %llu of %llu", rc,
         (unsigned long long)s.known, (unsigned long long)s.findings);
  camp_rules_free(r);
  /* a rule matching only the argument findings: the others still fail it */
  CHECK(camp_rules_parse("syn", "[syn]\ninject = sysv-struct-split\nchecks = arg\nreason = s\n", &r,
                         &e) == AF_OK);
  rc = campaign(NULL, r, &s);
  CHECKF(rc == CLI_FINDING && s.known > 0 && s.known < s.findings, "rc %d, known %llu of %llu", rc,
         (unsigned long long)s.known, (unsigned long long)s.findings);
  camp_rules_free(r);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  CHECK(system(cmd) == 0);
}

int main(void) {
  af_case c;
  af_error err = {{0}};
  af_status st = af_parse("hand.case", hand_case, sizeof hand_case - 1, &c, &err);
  CHECKF(st == AF_OK, "%s", err.msg);
  if (st == AF_OK) {
    test_shapes(&c);
    test_keys(&c);
    test_rules(&c);
  }
  af_case_free(&c);
  test_consensus();
  test_campaign();
  return check_done();
}
