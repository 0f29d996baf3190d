/* test_probe.c - the native probes and the native / garbage legs on hand-built, generated and
 * mutant cases. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "jit.h"
#include "legs.h"
#include "probe.h"

#define SEED   0x9b0be5ull
#define NCASES 2000 /* generated cases per convention through native and garbage */
#define NMUT   300  /* generated cases per convention and mutant */

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* ---- jobs ------------------------------------------------------------------------------ */
static af_job *job_from_case(af_case *c, uint64_t seed, uint64_t index, const af_legs_cfg *cfg) {
  af_job *j = calloc(1, sizeof *j);
  if (!j) return NULL;
  j->refs = 1;
  j->seed = seed;
  j->index = index;
  j->c = *c;
  j->cfg = cfg;
  af_error err = {{0}};
  if (af_interp(&j->c, 0, &j->want, &err) != AF_OK) {
    af_case_free(&j->c);
    free(j);
    return NULL;
  }
  return j;
}

static int allow_divergent; /* investigation mode only (argv) */
static int seed_given;      /* investigation: the campaign's seed instead of SEED + cc */
static uint64_t seed_arg;

static af_job *job_gen(af_cc cc, uint64_t index, const af_legs_cfg *cfg) {
  af_gen_opts o;
  af_gen_opts_default(&o);
  o.cc = (int)cc;
  o.allow_divergent = allow_divergent;
  af_case c;
  af_error err = {{0}};
  uint64_t seed = seed_given ? seed_arg : SEED + (uint64_t)cc;
  if (af_gen_case(&o, seed, index, &c, NULL, &err) != AF_OK) {
    af_case_free(&c);
    return NULL;
  }
  return job_from_case(&c, seed, index, cfg);
}

static af_job *job_parse(const char *text, const af_legs_cfg *cfg) {
  af_case c;
  af_error err = {{0}};
  if (af_parse("hand", text, strlen(text), &c, &err) != AF_OK) {
    fprintf(stderr, "parse: %s\n", err.msg);
    af_case_free(&c);
    return NULL;
  }
  return job_from_case(&c, 0, 0, cfg);
}

/* ---- a sink that collects verdicts (in-process) ------------------------------------------- */
typedef struct {
  int verdict, nf, begun;
  char reason[96];
  af_finding f[AF_FINDINGS_MAX];
} collect;

static void c_begin(void *u, const af_job *j, const char *leg) {
  (void)j;
  (void)leg;
  ((collect *)u)->begun++;
}

static void c_end(void *u, const af_job *j, const char *leg, af_leg_verdict v, const char *reason,
                  const af_finding *f, int nf) {
  (void)j;
  (void)leg;
  collect *k = u;
  k->verdict = (int)v;
  k->nf = nf;
  snprintf(k->reason, sizeof k->reason, "%s", reason ? reason : "");
  memcpy(k->f, f, sizeof *f * (size_t)(nf < AF_FINDINGS_MAX ? nf : AF_FINDINGS_MAX));
}

static void run_leg(const af_leg *leg, void *st, af_job *j, collect *k) {
  memset(k, 0, sizeof *k);
  k->verdict = -1;
  af_leg_sink sink = {k, c_begin, c_end};
  leg->submit(st, j, &sink);
}

static void print_findings(const char *name, const collect *k) {
  for (int i = 0; i < k->nf; i++)
    printf("  %s: %s %s %s: %s\n", name, k->f[i].leg, k->f[i].check, k->f[i].what, k->f[i].detail);
}

/* ---- hand-built cases ------------------------------------------------------------------- */
#define HDR "# abifuzz case, generator 1\n# seed 0 index 0 abi %s\n\n"

/* SysV: narrow, mixed-class struct, f80 and ptr arguments, a 24-byte sret return, and a host
 * call with stack arguments and an x87 return. */
static const char *hand_sysv =
    HDR "type t21 = struct { f64, i32 }\n"
        "type t22 = struct { i64, u64, i64 }\n"
        "object 0 =\n"
        "  000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
        "  202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f\n"
        "  404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f\n"
        "  606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f\n"
        "func f0 sysv (i8, t21, f80, ptr, u16, bool) -> t22 {\n"
        "  v6 = const i64 7\n"
        "  v7 = call f80 f1 (v6, v6, v6, v6, v6, v6, v0, v1, v2, v3, v4, v5)\n"
        "  v8 = mix u64 0x11 (v0, v1, v2, v3, v4, v5, v7)\n"
        "  v9 = const t22 000000000000000000000000000000000000000000000000\n"
        "  v10 = set t22 v9 v8 [1]\n"
        "  ret t22 v10\n}\n\n"
        "func f1 host sysv (i64, i64, i64, i64, i64, i64, i8, t21, f80, ptr, u16, bool) -> f80 {\n"
        "  v12 = mix u64 0x22 (v0, v6, v7, v8, v9, v10, v11)\n"
        "  store u64 v9 +8 v12\n"
        "  v13 = fmul f80 v8 v8\n"
        "  ret f80 v13\n}\n\n"
        "entry f0\n"
        "input i8 -5\n"
        "input t21 000000000000f03f2a000000a5a5a5a5\n"
        "input f80 0xc000c90fdaa22168c000\n"
        "input ptr obj 0\n"
        "input u16 65000\n"
        "input bool 1\n";

/* Win64: by-reference and stack arguments, a variadic host call with f64 varargs (GPR
 * duplicates), an sret host return, and an f80 (ST0) entry return. */
static const char *hand_w64 =
    HDR "type t21 = struct { i32, i32, i32 }\n"
        "object 0 =\n"
        "  000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
        "  202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f\n"
        "  404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f\n"
        "  606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f\n"
        "func f0 win64 (t21, f32, ptr, i16, t21, f64) -> f80 {\n"
        "  v6 = sext i32 v3\n"
        "  v7 = fconv f64 v1\n"
        "  v8 = call t21 f1 (v6, v5, v0, v5, v7)\n"
        "  v9 = mix u64 0x33 (v0, v1, v2, v3, v4, v5, v8)\n"
        "  store u64 v2 +16 v9\n"
        "  v10 = itof f80 v9\n"
        "  ret f80 v10\n}\n\n"
        "func f1 host win64 (i32, ..., f64, t21, f64, f64) -> t21 {\n"
        "  v5 = mix u64 0x44 (v0, v1, v2, v3, v4)\n"
        "  v6 = trunc i32 v5\n"
        "  v7 = set t21 v2 v6 [1]\n"
        "  ret t21 v7\n}\n\n"
        "entry f0\n"
        "input t21 010000000200000003000000\n"
        "input f32 0x3fc00000\n"
        "input ptr obj 0\n"
        "input i16 -300\n"
        "input t21 0a0000000b0000000c000000\n"
        "input f64 0x400921fb54442d18\n";

/* SysV variadic host call (AL), doubles through "...". */
static const char *hand_vararg = HDR "func f0 sysv (f64, i32) -> u64 {\n"
                                     "  v2 = call u64 f1 (v1, v0, v0, v1)\n"
                                     "  ret u64 v2\n}\n\n"
                                     "func f1 host sysv (i32, ..., f64, f64, i32) -> u64 {\n"
                                     "  v4 = mix u64 0x55 (v0, v1, v2, v3)\n"
                                     "  ret u64 v4\n}\n\n"
                                     "entry f0\n"
                                     "input f64 0x400921fb54442d18\n"
                                     "input i32 -9\n";

static void test_hand(const af_legs_cfg *cfg) {
  struct {
    const char *name, *text, *cc;
  } hs[] = {
      {"sysv", hand_sysv, "sysv"}, {"win64", hand_w64, "win64"}, {"vararg", hand_vararg, "sysv"}};
  void *st = NULL, *gst = NULL;
  af_error err = {{0}};
  CHECK(af_leg_native.init(cfg, &st, &err) == AF_OK);
  CHECK(af_leg_garbage.init(cfg, &gst, &err) == AF_OK);
  for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++) {
    char text[8192];
    snprintf(text, sizeof text, hs[i].text, hs[i].cc);
    af_job *j = job_parse(text, cfg);
    CHECKF(j != NULL, "hand case %s", hs[i].name);
    if (!j) continue;
    collect k;
    run_leg(&af_leg_native, st, j, &k);
    print_findings(hs[i].name, &k);
    CHECKF(k.verdict == AF_LEG_PASS && k.begun == 1, "hand case %s: native verdict %d (%s)",
           hs[i].name, k.verdict, k.reason);
    CHECKF(j->want.nhost_calls == 1, "hand case %s: %d host calls", hs[i].name,
           j->want.nhost_calls);
    run_leg(&af_leg_garbage, gst, j, &k);
    print_findings(hs[i].name, &k);
    CHECKF(k.verdict == AF_LEG_PASS, "hand case %s: garbage verdict %d", hs[i].name, k.verdict);
    /* the probe's own outcome equals the interpreter's checksum (same fold) */
    af_probe *p = NULL;
    CHECK(af_probe_new(&p) == AF_OK);
    const void *host_fns[AF_MAX_FUNCS] = {0};
    for (int f = 0; f < j->c.nfuncs; f++)
      if (j->c.funcs[f].host) host_fns[f] = af_callouts[f];
    af_jit *jit = NULL;
    CHECK(af_leg_compile(j, host_fns, &jit, &err) == AF_OK);
    if (jit && p) {
      uint8_t *mem = aligned_alloc(64, AF_MAX_OBJECTS * AF_REGION_SIZE);
      uint8_t *objs[AF_MAX_OBJECTS];
      const void *real[AF_MAX_FUNCS] = {0};
      for (int f = 0; f < j->c.nfuncs; f++)
        real[f] = af_jit_code(jit, f);
      for (int o = 0; o < j->c.nobjects; o++) {
        objs[o] = mem + o * AF_REGION_SIZE;
        memcpy(objs[o], j->c.objects[o].init, AF_REGION_SIZE);
      }
      af_jit_set_objects(jit, objs, j->c.nobjects);
      af_probe_opts o = {&j->c, &j->want, af_jit_fn(jit, j->c.entry), real, objs, 1, "t", NULL,
                         NULL,  0};
      af_findings fs = {0};
      af_probe_outcome out;
      CHECK(af_probe_run(p, &o, &fs, &out, &err) == AF_OK);
      CHECKF(out.checksum == j->want.checksum, "hand case %s: checksum %llx vs %llx", hs[i].name,
             (unsigned long long)out.checksum, (unsigned long long)j->want.checksum);
      CHECK(fs.n == 0 && out.nhost_calls == 1);
      /* a wrong trace: the callout's argument check must see it */
      af_interp_result w2 = j->want;
      af_host_call hc = w2.host_calls[0];
      af_value a0 = hc.args[0];
      uint8_t flip[AF_MAX_TYPE_SIZE];
      memcpy(flip, a0.bytes, a0.size);
      flip[0] ^= 1;
      a0.bytes = flip;
      hc.args[0] = a0;
      w2.host_calls = &hc;
      o.want = &w2;
      for (int ob = 0; ob < j->c.nobjects; ob++)
        memcpy(objs[ob], j->c.objects[ob].init, AF_REGION_SIZE);
      memset(&fs, 0, sizeof fs);
      CHECK(af_probe_run(p, &o, &fs, &out, &err) == AF_OK);
      CHECKF(fs.n == 1 && !strcmp(fs.f[0].check, "arg") && strstr(fs.f[0].what, "arg 0 of call 0"),
             "hand case %s: %d findings, first %s", hs[i].name, fs.n, fs.n ? fs.f[0].check : "-");
      /* the same run with the interposer between the call probe and the entry */
      o.want = &j->want;
      o.entry = (const void *)af_probe_enter;
      af_findings ifs = {0};
      af_probe_interpose_arm(j->c.funcs[j->c.entry].sig.cc, af_jit_fn(jit, j->c.entry), &ifs, "ip");
      for (int ob = 0; ob < j->c.nobjects; ob++)
        memcpy(objs[ob], j->c.objects[ob].init, AF_REGION_SIZE);
      memset(&fs, 0, sizeof fs);
      CHECK(af_probe_run(p, &o, &fs, &out, &err) == AF_OK);
      CHECK(af_probe_interpose_disarm() == 1);
      CHECKF(fs.n == 0 && ifs.n == 0 && out.checksum == j->want.checksum,
             "hand case %s interposed: %d + %d findings", hs[i].name, fs.n, ifs.n);
      af_jit_set_objects(jit, NULL, 0);
      free(mem);
    }
    af_jit_free(jit);
    af_probe_free(p);
    af_job_unref(j);
  }
  af_leg_native.fini(st);
  af_leg_garbage.fini(gst);
}

/* ---- the nested interposers: calls between JIT functions -------------------------------- */
/* f0 -> f1 (win64, stack arguments) -> f2 (sysv, sret) -> host f3; f0 -> f2 again. */
static const char *hand_nested =
    HDR "type t21 = struct { i64, i64, i64 }\n"
        "object 0 =\n"
        "  000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
        "  202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f\n"
        "  404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f\n"
        "  606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f\n"
        "func f0 sysv (i8, ptr, f64) -> u64 {\n"
        "  v3 = sext i64 v0\n"
        "  v4 = call u64 f1 (v3, v2, v1, v3, v0, v2)\n"
        "  v5 = call t21 f2 (v4, v1)\n"
        "  v6 = mix u64 0x66 (v4, v5)\n"
        "  ret u64 v6\n}\n\n"
        "func f1 win64 (i64, f64, ptr, i64, i8, f64) -> u64 {\n"
        "  v6 = mix u64 0x77 (v0, v1, v3, v4, v5)\n"
        "  v7 = call t21 f2 (v6, v2)\n"
        "  v8 = mix u64 0x78 (v7)\n"
        "  ret u64 v8\n}\n\n"
        "func f2 sysv (u64, ptr) -> t21 {\n"
        "  v2 = call i32 f3 (v0, v1)\n"
        "  v3 = sext i64 v2\n"
        "  v4 = const t21 000000000000000000000000000000000000000000000000\n"
        "  v5 = set t21 v4 v3 [1]\n"
        "  ret t21 v5\n}\n\n"
        "func f3 host sysv (u64, ptr) -> i32 {\n"
        "  v2 = mix u64 0x88 (v0, v1)\n"
        "  store u64 v1 +24 v2\n"
        "  v3 = trunc i32 v2\n"
        "  ret i32 v3\n}\n\n"
        "entry f0\n"
        "input i8 -3\n"
        "input ptr obj 0\n"
        "input f64 0x400921fb54442d18\n";

__asm__(".text\n.intel_syntax noprefix\n"
        "ipz_bad_rbx: mov rbx, 5\n xor eax, eax\n ret\n"
        "ipz_bad_rsp: pop rdx\n push 0\n push rdx\n ret\n"
        ".att_syntax prefix\n");
void ipz_bad_rbx(void), ipz_bad_rsp(void);

/* One run of hand_nested through af_probe_run with interposers; code[1] may be replaced. */
static void nested_run(af_job *j, af_jit *jit, uint8_t *const *objs, const af_interp_result *w,
                       const void *code1, af_findings *fs, af_probe_outcome *out) {
  const void *real[AF_MAX_FUNCS] = {0}, *code[AF_MAX_FUNCS] = {0};
  for (int f = 0; f < j->c.nfuncs; f++) {
    if (j->c.funcs[f].host)
      real[f] = af_jit_code(jit, f);
    else if (f != j->c.entry)
      code[f] = af_jit_code(jit, f);
  }
  if (code1) code[1] = code1;
  for (int o = 0; o < j->c.nobjects; o++)
    memcpy(objs[o], j->c.objects[o].init, AF_REGION_SIZE);
  af_probe *p = NULL;
  CHECK(af_probe_new(&p) == AF_OK);
  af_probe_opts o = {&j->c, w, af_jit_fn(jit, j->c.entry), real, objs, 3, "t", code, NULL, 0};
  af_error err = {{0}};
  memset(fs, 0, sizeof *fs);
  CHECK(p && af_probe_run(p, &o, fs, out, &err) == AF_OK);
  af_probe_check_outcome(&o, out, fs);
  af_probe_free(p);
}

static int has_finding(const af_findings *fs, const char *check, const char *what) {
  for (int i = 0; i < fs->n; i++)
    if (!strcmp(fs->f[i].check, check) && (!what || strstr(fs->f[i].what, what))) return 1;
  return 0;
}

static int has_exact(const af_findings *fs, const char *check, const char *what) {
  for (int i = 0; i < fs->n; i++)
    if (!strcmp(fs->f[i].check, check) && !strcmp(fs->f[i].what, what)) return 1;
  return 0;
}

static void test_nested(const af_legs_cfg *cfg) {
  char text[8192];
  snprintf(text, sizeof text, hand_nested, "sysv");
  af_job *j = job_parse(text, cfg);
  CHECK(j != NULL);
  if (!j) return;
  CHECKF(j->want.ncalls == 5 && j->want.nhost_calls == 2, "nested: %d calls, %d host",
         j->want.ncalls, j->want.nhost_calls);
  /* the leg: passes, and its garbage twin too */
  void *st = NULL;
  af_error err = {{0}};
  CHECK(af_leg_native.init(cfg, &st, &err) == AF_OK);
  collect k;
  run_leg(&af_leg_native, st, j, &k);
  print_findings("nested", &k);
  CHECKF(k.verdict == AF_LEG_PASS, "nested: native verdict %d (%s)", k.verdict, k.reason);
  /* the leg interposes f1 and f2: a wrong record of call 0 (f0 -> f1) shows */
  af_value *a1 = &j->want.calls[0].args[1];
  a1->bytes[7] ^= 0x40;
  run_leg(&af_leg_native, st, j, &k);
  a1->bytes[7] ^= 0x40;
  CHECKF(k.verdict == AF_LEG_FAIL && k.nf >= 1 && !strcmp(k.f[0].check, "arg") &&
             strstr(k.f[0].what, "arg 1 of call 0 to f1"),
         "nested: the leg does not interpose f1 (%d findings, first %s %s)", k.nf,
         k.nf ? k.f[0].check : "-", k.nf ? k.f[0].what : "-");
  af_leg_native.fini(st);
  /* by hand: every call through a probe, in the trace's order */
  const void *host_fns[AF_MAX_FUNCS] = {0};
  for (int f = 0; f < j->c.nfuncs; f++)
    host_fns[f] = j->c.funcs[f].host ? af_callouts[f] : f != j->c.entry ? af_interposers[f] : NULL;
  af_jit *jit = NULL;
  CHECK(af_leg_compile(j, host_fns, &jit, &err) == AF_OK);
  uint8_t *mem = aligned_alloc(64, AF_MAX_OBJECTS * AF_REGION_SIZE);
  uint8_t *objs[AF_MAX_OBJECTS];
  for (int o = 0; o < AF_MAX_OBJECTS; o++)
    objs[o] = mem + o * AF_REGION_SIZE;
  if (jit) {
    af_jit_set_objects(jit, objs, j->c.nobjects);
    af_findings fs;
    af_probe_outcome out;
    nested_run(j, jit, objs, &j->want, NULL, &fs, &out);
    for (int i = 0; i < fs.n; i++)
      printf("  nested: %s %s: %s\n", fs.f[i].check, fs.f[i].what, fs.f[i].detail);
    CHECKF(fs.n == 0 && out.ncalls == 5 && out.nhost_calls == 2 && out.checksum == j->want.checksum,
           "nested: %d findings, %d calls, checksum %llx vs %llx", fs.n, out.ncalls,
           (unsigned long long)out.checksum, (unsigned long long)j->want.checksum);
    /* a wrong trace: argument 1 (f64) of call 0 (f0 -> f1), and the return of call 1 (f1 ->
     * f2): the interposer compares both with the trace, names them, and the run goes on */
    af_interp_result w2 = j->want;
    af_host_call calls[8];
    memcpy(calls, j->want.calls, sizeof *calls * (size_t)j->want.ncalls);
    uint8_t flip[16], flip2[32];
    memcpy(flip, calls[0].args[1].bytes, 8);
    flip[7] ^= 0x40;
    calls[0].args[1].bytes = flip;
    memcpy(flip2, calls[1].ret.bytes, 24);
    flip2[8] ^= 1;
    calls[1].ret.bytes = flip2;
    w2.calls = calls;
    nested_run(j, jit, objs, &w2, NULL, &fs, &out);
    for (int i = 0; i < fs.n; i++)
      printf("  nested, wrong trace: %s %s: %s\n", fs.f[i].check, fs.f[i].what, fs.f[i].detail);
    CHECKF(has_finding(&fs, "arg", "arg 1 of call 0 to f1") &&
               has_finding(&fs, "result", "return of call 1 to f2") && out.ncalls == 5,
           "nested, wrong trace: %d findings, first %s %s", fs.n, fs.n ? fs.f[0].check : "-",
           fs.n ? fs.f[0].what : "-");
    /* the trace's call 2 to another function */
    memcpy(calls, j->want.calls, sizeof *calls * (size_t)j->want.ncalls);
    calls[2].callee = 1;
    nested_run(j, jit, objs, &w2, NULL, &fs, &out);
    CHECKF(has_finding(&fs, "host-calls", "call 2 to f3"), "nested, wrong callee: %d findings",
           fs.n);
    /* broken callees behind the interposer of f1: named, and repaired for the caller */
    nested_run(j, jit, objs, &j->want, (const void *)ipz_bad_rbx, &fs, &out);
    for (int i = 0; i < fs.n; i++)
      printf("  nested, bad f1: %s %s: %s\n", fs.f[i].check, fs.f[i].what, fs.f[i].detail);
    CHECKF(has_finding(&fs, "callee-saved", "rbx in f1") &&
               has_finding(&fs, "result", "return of call 0 to f1") &&
               !has_exact(&fs, "callee-saved", "rbx"),
           "nested, rbx clobbered in f1: %d findings, first %s %s", fs.n,
           fs.n ? fs.f[0].check : "-", fs.n ? fs.f[0].what : "-");
    /* f1 made none of its 2 calls: named at its return, the count back in step with the trace
     * (no finding on the calls after it, no "calls" / "host-calls" count at the end) */
    CHECKF(has_finding(&fs, "calls", "call 0 to f1") && out.ncalls == 5 && out.nhost_calls == 2 &&
               !has_finding(&fs, "arg", NULL) && !has_exact(&fs, "calls", "calls") &&
               !has_finding(&fs, "host-calls", NULL),
           "nested: calls %d, %d findings", out.ncalls, fs.n);
    nested_run(j, jit, objs, &j->want, (const void *)ipz_bad_rsp, &fs, &out);
    CHECKF(has_finding(&fs, "rsp", "call 0 to f1"), "nested, rsp moved in f1: %d findings", fs.n);
    af_jit_set_objects(jit, NULL, 0);
  }
  free(mem);
  af_jit_free(jit);
  af_job_unref(j);
}

/* ---- the call probe against broken hand-written callees ------------------------------- */
__asm__(".text\n.intel_syntax noprefix\n"
        "bad_rbx: mov rbx, 1\n ret\n"
        "bad_r12: xor r12d, r12d\n ret\n"
        "bad_xmm6: pxor xmm6, xmm6\n ret\n"
        "bad_rsi: mov rsi, 3\n ret\n"
        "bad_df: std\n ret\n"
        "bad_mxcsr: sub rsp, 8\n stmxcsr [rsp]\n or dword ptr [rsp], 0x6000\n ldmxcsr [rsp]\n"
        "  add rsp, 8\n ret\n"
        "bad_fcw: sub rsp, 8\n fnstcw [rsp]\n and word ptr [rsp], 0xfcff\n fldcw [rsp]\n"
        "  add rsp, 8\n ret\n"
        "bad_x87: fld1\n ret\n"
        "bad_rsp: pop rax\n add rsp, 8\n jmp rax\n"
        "good: ret\n"
        ".att_syntax prefix\n");
void bad_rbx(void), bad_r12(void), bad_xmm6(void), bad_rsi(void), bad_df(void), bad_mxcsr(void),
    bad_fcw(void), bad_x87(void), bad_rsp(void), good(void);

static void test_bad_callees(void) {
  struct {
    void (*fn)(void);
    const char *cc, *check, *what;
  } bs[] = {
      {good, "sysv", NULL, NULL},
      {good, "win64", NULL, NULL},
      {bad_rbx, "sysv", "callee-saved", "rbx"},
      {bad_r12, "win64", "callee-saved", "r12"},
      {bad_xmm6, "win64", "callee-saved", "xmm6"},
      {bad_xmm6, "sysv", NULL, NULL}, /* volatile under SysV */
      {bad_rsi, "win64", "callee-saved", "rsi"},
      {bad_rsi, "sysv", NULL, NULL},
      {bad_df, "sysv", "df", NULL},
      {bad_mxcsr, "win64", "mxcsr", NULL},
      {bad_fcw, "sysv", "x87cw", NULL},
      {bad_x87, "sysv", "x87-stack", NULL},
      {bad_rsp, "sysv", "rsp", NULL},
  };
  af_probe *p = NULL;
  CHECK(af_probe_new(&p) == AF_OK);
  for (size_t i = 0; i < sizeof bs / sizeof bs[0]; i++) {
    char text[512];
    snprintf(text, sizeof text, HDR "func f0 %s () -> void {\n  ret void\n}\n\nentry f0\n",
             bs[i].cc, bs[i].cc);
    af_job *j = job_parse(text, NULL);
    if (!j || !p) continue;
    af_probe_opts o = {&j->c, &j->want, (const void *)bs[i].fn, NULL, NULL, 7, "t", NULL, NULL, 0};
    af_findings fs = {0};
    af_probe_outcome out;
    af_error err = {{0}};
    CHECK(af_probe_run(p, &o, &fs, &out, &err) == AF_OK);
    int ok = bs[i].check ? fs.n == 1 && !strcmp(fs.f[0].check, bs[i].check) &&
                               (!bs[i].what || !strcmp(fs.f[0].what, bs[i].what))
                         : fs.n == 0;
    CHECKF(ok, "bad callee %zu (%s): %d findings, first %s %s: %s", i, bs[i].cc, fs.n,
           fs.n ? fs.f[0].check : "-", fs.n ? fs.f[0].what : "-", fs.n ? fs.f[0].detail : "-");
    /* the same callee behind the interposer: it sees what the call probe saw (but the x87
     * stack) and repairs it, so the outer call probe sees nothing */
    af_findings ifs = {0};
    memset(&fs, 0, sizeof fs);
    o.entry = (const void *)af_probe_enter;
    af_probe_interpose_arm(j->c.cc, (const void *)bs[i].fn, &ifs, "ip");
    CHECK(af_probe_run(p, &o, &fs, &out, &err) == AF_OK);
    CHECK(af_probe_interpose_disarm() == 1);
    int x87 = bs[i].check && !strcmp(bs[i].check, "x87-stack");
    ok = bs[i].check && !x87 ? ifs.n == 1 && !strcmp(ifs.f[0].check, bs[i].check) &&
                                   (!bs[i].what || !strcmp(ifs.f[0].what, bs[i].what))
                             : ifs.n == 0;
    CHECKF(ok, "interposed bad callee %zu (%s): %d findings, first %s %s: %s", i, bs[i].cc, ifs.n,
           ifs.n ? ifs.f[0].check : "-", ifs.n ? ifs.f[0].what : "-",
           ifs.n ? ifs.f[0].detail : "-");
    CHECKF(fs.n == x87, "interposed bad callee %zu: the outer probe saw %d findings (%s)", i, fs.n,
           fs.n ? fs.f[0].check : "-");
    af_job_unref(j);
  }
  af_probe_free(p);
}

/* ---- marshalling, seen by hand-written entries ------------------------------------------ */
/* Each entry reads one argument where the convention puts it and returns it; the case's body
 * computes the same, so the probe's result check passes only if the probe placed it there. */
__asm__(".text\n.intel_syntax noprefix\n"
        "rd_edi: mov eax, edi\n ret\n"             /* SysV i8: relies on the extension */
        "rd_rcx_byref: mov eax, [rcx + 4]\n ret\n" /* Win64 12-byte struct by reference */
        "rd_stack7: mov rax, [rsp + 8]\n ret\n"    /* SysV 7th integer argument */
        "rd_stack5: mov rax, [rsp + 40]\n ret\n"   /* Win64 5th argument, above home space */
        "rd_sret: mov rax, rdi\n mov [rdi + 16], rsi\n mov qword ptr [rdi], 0\n"
        "  mov qword ptr [rdi + 8], 0\n ret\n" /* SysV sret */
        "rd_x87: fld1\n ret\n"                 /* long double in ST0 */
        "rd_xmm1: movaps xmm0, xmm1\n ret\n"   /* 2nd double */
        "rd_al: movzx eax, al\n ret\n"         /* SysV variadic AL */
        ".att_syntax prefix\n");
void rd_edi(void), rd_rcx_byref(void), rd_stack7(void), rd_stack5(void), rd_sret(void),
    rd_x87(void), rd_xmm1(void), rd_al(void);

static void test_marshal(void) {
  struct {
    void (*fn)(void);
    const char *text;
  } ms[] = {
      {rd_edi, HDR "func f0 sysv (i8) -> i32 {\n  v1 = sext i32 v0\n  ret i32 v1\n}\n\nentry "
                   "f0\ninput i8 -5\n"},
      {rd_rcx_byref, HDR "type t21 = struct { i32, i32, i32 }\nfunc f0 win64 (t21) -> i32 {\n"
                         "  v1 = get i32 v0 [1]\n  ret i32 v1\n}\n\nentry f0\n"
                         "input t21 010000000200000003000000\n"},
      {rd_stack7, HDR "func f0 sysv (i64, i64, i64, i64, i64, i64, i64) -> i64 {\n  ret i64 v6\n"
                      "}\n\nentry f0\ninput i64 1\ninput i64 2\ninput i64 3\ninput i64 4\n"
                      "input i64 5\ninput i64 6\ninput i64 -77\n"},
      {rd_stack5, HDR "func f0 win64 (i64, f64, i64, i64, i64) -> i64 {\n  ret i64 v4\n"
                      "}\n\nentry f0\ninput i64 1\ninput f64 0x4000000000000000\ninput i64 3\n"
                      "input i64 4\ninput i64 -55\n"},
      {rd_sret, HDR "type t21 = struct { i64, i64, i64 }\nfunc f0 sysv (i64) -> t21 {\n"
                    "  v1 = const t21 000000000000000000000000000000000000000000000000\n"
                    "  v2 = set t21 v1 v0 [2]\n  ret t21 v2\n}\n\nentry f0\ninput i64 99\n"},
      {rd_x87, HDR "func f0 sysv () -> f80 {\n  v0 = const f80 0x3fff8000000000000000\n"
                   "  ret f80 v0\n}\n\nentry f0\n"},
      {rd_xmm1, HDR "func f0 sysv (i32, f64, i32, f64) -> f64 {\n  ret f64 v3\n}\n\nentry f0\n"
                    "input i32 1\ninput f64 0x4000000000000000\ninput i32 2\n"
                    "input f64 0x4008000000000000\n"},
      {rd_al, HDR "func f0 sysv (i32, ..., f64, f64, i64) -> u64 {\n  v4 = const u64 2\n"
                  "  ret u64 v4\n}\n\nentry f0\ninput i32 1\ninput f64 0x4000000000000000\n"
                  "input f64 0x4000000000000000\ninput i64 3\n"},
  };
  af_probe *p = NULL;
  CHECK(af_probe_new(&p) == AF_OK);
  for (size_t i = 0; p && i < sizeof ms / sizeof ms[0]; i++) {
    char text[1024];
    snprintf(text, sizeof text, ms[i].text, strstr(ms[i].text, "win64") ? "win64" : "sysv");
    af_job *j = job_parse(text, NULL);
    CHECKF(j != NULL, "marshal case %zu", i);
    if (!j) continue;
    for (uint64_t g = 1; g <= 3; g++) { /* several garbage patterns */
      af_probe_opts o = {&j->c, &j->want, (const void *)ms[i].fn, NULL, NULL, g, "t", NULL,
                         NULL,  0};
      af_findings fs = {0};
      af_probe_outcome out;
      af_error err = {{0}};
      CHECK(af_probe_run(p, &o, &fs, &out, &err) == AF_OK);
      af_probe_check_outcome(&o, &out, &fs);
      CHECKF(fs.n == 0, "marshal case %zu pattern %llu: %d findings, first %s %s: %s", i,
             (unsigned long long)g, fs.n, fs.n ? fs.f[0].check : "-", fs.n ? fs.f[0].what : "-",
             fs.n ? fs.f[0].detail : "-");
    }
    af_job_unref(j);
  }
  af_probe_free(p);
}

/* ---- generated cases in forked children ----------------------------------------------- */
#define MAXCHK 24
static const char *const check_names[MAXCHK] = {
    "result",    "objects",    "host-calls", "callee-saved", "stack-align", "arg",   "arg-ext",
    "vararg-al", "vararg-dup", "sret-rax",   "rsp",          "df",          "mxcsr", "x87cw",
    "x87-stack", "garbage",    "sret-ptr",   "calls",        "other"};

static int check_id(const char *s) {
  int i = 0;
  for (; i < MAXCHK && check_names[i] && strcmp(check_names[i], "other"); i++)
    if (!strcmp(check_names[i], s)) return i;
  return i; /* "other" */
}

/* One record per (case, leg): begun (verdict -1) or ended. */
typedef struct {
  int32_t idx, leg, verdict, nf;
  uint32_t checks; /* bit per check_names */
  float us;
  char reason[64];
  char first[256];
} rec;

typedef struct {
  int fd;
  int idx, leg;
  double t0;
} child_sink;

static void put(int fd, const rec *r) {
  if (write(fd, r, sizeof *r) != (ssize_t)sizeof *r) _exit(3);
}

static void s_begin(void *u, const af_job *j, const char *leg) {
  (void)j;
  (void)leg;
  child_sink *s = u;
  rec r = {0};
  r.idx = s->idx;
  r.leg = s->leg;
  r.verdict = -1;
  put(s->fd, &r);
}

static void s_end(void *u, const af_job *j, const char *leg, af_leg_verdict v, const char *reason,
                  const af_finding *f, int nf) {
  (void)j;
  (void)leg;
  child_sink *s = u;
  rec r = {0};
  r.idx = s->idx;
  r.leg = s->leg;
  r.verdict = (int)v;
  r.nf = nf;
  r.us = (float)((now() - s->t0) * 1e6);
  snprintf(r.reason, sizeof r.reason, "%s", reason ? reason : "");
  for (int i = 0; i < nf && i < AF_FINDINGS_MAX; i++)
    r.checks |= 1u << check_id(f[i].check);
  if (nf) snprintf(r.first, sizeof r.first, "%s %s: %.140s", f[0].check, f[0].what, f[0].detail);
  put(s->fd, &r);
}

typedef struct {
  int ran[2], skipped[2], failed[2], crashed, gen_fail;
  uint32_t checks; /* union of checks fired */
  int check_count[MAXCHK];
  double us[2];
  int first_fail; /* index of the first failing case, -1 */
  char first[256];
} tally;

/* Runs legs (bit 0 native, bit 1 garbage) over cases [0, n) of cc in forked children. */
static void run_cases(af_cc cc, int n, int legs, const af_legs_cfg *cfg, int max_crashes,
                      tally *t) {
  memset(t, 0, sizeof *t);
  t->first_fail = -1;
  const af_leg *L[2] = {&af_leg_native, &af_leg_garbage};
  int from = 0;
  while (from < n) {
    int fd[2];
    if (pipe(fd) != 0) return;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
      close(fd[0]);
      void *st[2] = {NULL, NULL};
      af_error err = {{0}};
      for (int l = 0; l < 2; l++)
        if ((legs >> l) & 1 && L[l]->init(cfg, &st[l], &err) != AF_OK) _exit(4);
      for (int i = from; i < n; i++) {
        /* a hang (a mutant's broken frame) ends the child like a crash */
        struct itimerval it = {{0, 0}, {0, 200000}};
        setitimer(ITIMER_REAL, &it, NULL);
        af_job *j = job_gen(cc, (uint64_t)i, cfg);
        if (!j) {
          rec r = {0};
          r.idx = i;
          r.leg = -1;
          put(fd[1], &r);
          continue;
        }
        for (int l = 0; l < 2; l++) {
          if (!((legs >> l) & 1)) continue;
          child_sink cs = {fd[1], i, l, now()};
          af_leg_sink sink = {&cs, s_begin, s_end};
          L[l]->submit(st[l], j, &sink);
        }
        af_job_unref(j);
      }
      _exit(0);
    }
    close(fd[1]);
    rec r;
    int open_idx = -1, last = from - 1;
    while (read(fd[0], &r, sizeof r) == (ssize_t)sizeof r) {
      last = r.idx;
      if (r.leg < 0) {
        t->gen_fail++;
        continue;
      }
      if (r.verdict < 0) {
        open_idx = r.idx;
        continue;
      }
      open_idx = -1;
      t->us[r.leg] += r.us;
      if (r.verdict == AF_LEG_SKIP) {
        t->skipped[r.leg]++;
        continue;
      }
      t->ran[r.leg]++;
      if (r.verdict == AF_LEG_FAIL) {
        t->failed[r.leg]++;
        t->checks |= r.checks;
        for (int c = 0; c < MAXCHK; c++)
          if ((r.checks >> c) & 1) t->check_count[c]++;
        if (t->first_fail < 0) {
          t->first_fail = r.idx;
          snprintf(t->first, sizeof t->first, "%s", r.first);
        }
      }
    }
    close(fd[0]);
    int stt = 0;
    waitpid(pid, &stt, 0);
    if (WIFEXITED(stt) && WEXITSTATUS(stt) == 0) break;
    /* the child died: in the case it had begun (or the one after the last record) */
    int dead = open_idx >= 0 ? open_idx : last + 1;
    t->crashed++;
    if (t->first_fail < 0) {
      t->first_fail = dead;
      snprintf(t->first, sizeof t->first, "crash (status 0x%x)", stt);
    }
    from = dead + 1;
    if (t->crashed >= max_crashes) break; /* a crashing mutant: shown often enough */
  }
}

static void test_generated(void) {
  af_legs_cfg cfg = {0};
  cfg.seed = 42;
  for (int cc = 0; cc < AF_CC_COUNT; cc++) {
    tally t;
    double t0 = now();
    run_cases((af_cc)cc, NCASES, 3, &cfg, NCASES, &t);
    double dt = now() - t0;
    printf("%s: %d cases in %.1f s: native ran %d skipped %d failed %d (%.0f us/case), garbage "
           "ran %d skipped %d failed %d (%.0f us/case), crashes %d, gen failures %d\n",
           af_cc_name((af_cc)cc), NCASES, dt, t.ran[0], t.skipped[0], t.failed[0],
           t.us[0] / (t.ran[0] + t.skipped[0] + 1e-9), t.ran[1], t.skipped[1], t.failed[1],
           t.us[1] / (t.ran[1] + t.skipped[1] + 1e-9), t.crashed, t.gen_fail);
    if (t.first_fail >= 0)
      printf("  first failure: case %d (seed 0x%llx): %s\n", t.first_fail,
             (unsigned long long)(SEED + (uint64_t)cc), t.first);
    CHECKF(t.failed[0] == 0 && t.failed[1] == 0 && t.crashed == 0, "%s: findings on a correct JIT",
           af_cc_name((af_cc)cc));
    CHECKF(t.skipped[0] * 100 < NCASES && t.skipped[1] * 100 < NCASES, "%s: too many skips",
           af_cc_name((af_cc)cc));
    CHECK(t.ran[0] + t.skipped[0] + t.gen_fail == NCASES);
  }
}

/* ---- every mutant ---------------------------------------------------------------------- */
static void test_mutants(void) {
  static const struct {
    const char *mutant, *check;
  } want[] = {
      {"w64-xmm-unsaved", "callee-saved"},
      {"w64-xmm-low64", "callee-saved"},
      {"rbx-clobbered", "callee-saved"},
      {"r12-r15-clobbered", "callee-saved"},
      {"w64-rsi-rdi-volatile", "callee-saved"},
      {"df-left-set", "df"},
      {"mxcsr-rounding", "mxcsr"},
      {"misaligned-calls", "stack-align"},
      {"sysv-vararg-no-al", "vararg-al"},
      {"w64-vararg-no-dup", "vararg-dup"},
      {"sret-not-returned", "sret-rax"},
      {"narrow-not-extended", "arg-ext"},
      /* calls between JIT functions (the nested interposers) */
      {"rbp-not-restored", "callee-saved"},
      {"volatile-across-call", "result"},
      {"stack-args-reversed", "arg"},
      {"stack16-unaligned", "arg"},
      {"sysv-struct-split", "arg"},
      {"w64-float-index", "arg"},
      {"float-as-double", "arg"},
      {"sret-passed-in-rax", "sret-ptr"},
      {"w64-struct16-in-rax-rdx", "sret-ptr"},
      {"long-double-in-xmm0", "x87-stack"},
  };
  int nm = af_jit_mutant_count();
  printf("mutant: checks fired over %d cases per convention (crashes)\n", NMUT);
  for (int m = 0; m < nm; m++) {
    af_legs_cfg cfg = {0};
    cfg.inject = af_jit_mutant_name(m);
    uint32_t checks = 0;
    int crashed = 0, failed = 0;
    for (int cc = 0; cc < AF_CC_COUNT; cc++) {
      tally t;
      run_cases((af_cc)cc, NMUT, 3, &cfg, 8, &t);
      checks |= t.checks;
      crashed += t.crashed;
      failed += t.failed[0];
    }
    char list[400] = "";
    for (int c = 0; c < MAXCHK && check_names[c]; c++)
      if ((checks >> c) & 1) {
        strcat(list, " ");
        strcat(list, check_names[c]);
      }
    printf("  %-26s failed %4d crashed %3d:%s\n", cfg.inject, failed, crashed, list);
    for (size_t w = 0; w < sizeof want / sizeof want[0]; w++)
      if (!strcmp(want[w].mutant, cfg.inject))
        CHECKF((checks >> check_id(want[w].check)) & 1, "mutant %s never fired %s", cfg.inject,
               want[w].check);
  }
}

/* One mutant over n cases of one convention (investigation:
 * `test_probe 4 MUTANT|none N CC [divergent]`). */
static void one_mutant(const char *name, int n, af_cc cc) {
  af_legs_cfg cfg = {0};
  cfg.inject = strcmp(name, "none") ? name : NULL;
  tally t;
  run_cases(cc, n, 3, &cfg, n, &t);
  printf("%s %s: %d cases: native failed %d, garbage failed %d, crashed %d", name, af_cc_name(cc),
         n, t.failed[0], t.failed[1], t.crashed);
  for (int c = 0; c < MAXCHK && check_names[c]; c++)
    if (t.check_count[c]) printf(" %s:%d", check_names[c], t.check_count[c]);
  printf("\n");
  if (t.first_fail >= 0) printf("  first: case %d: %s\n", t.first_fail, t.first);
}

/* One case in this process, native leg, findings printed (investigation under gdb:
 * `test_probe 5 MUTANT|none INDEX CC [SEED]`; abifuzz's campaign: SEED 1, CC by parity). */
static void one_case(const char *name, int index, af_cc cc) {
  af_legs_cfg cfg = {0};
  cfg.inject = strcmp(name, "none") ? name : NULL;
  void *st = NULL;
  af_error err = {{0}};
  if (af_leg_native.init(&cfg, &st, &err) != AF_OK) return;
  af_job *j = job_gen(cc, (uint64_t)index, &cfg);
  if (j) {
    collect k;
    run_leg(&af_leg_native, st, j, &k);
    printf("case %d: verdict %d %s, %d calls (%d host)\n", index, k.verdict, k.reason,
           j->want.ncalls, j->want.nhost_calls);
    print_findings(name, &k);
    af_job_unref(j);
  }
  af_leg_native.fini(st);
}

int main(int argc, char **argv) {
  int only = argc > 1 ? atoi(argv[1]) : 0; /* 1 hand, 2 generated, 3 mutants; 0 all */
  if (only == 4 && argc > 4) {
    af_cc cc = AF_CC_SYSV;
    af_cc_parse(argv[4], &cc);
    allow_divergent = argc > 5 && !strcmp(argv[5], "divergent");
    one_mutant(argv[2], atoi(argv[3]), cc);
    return 0;
  }
  if (only == 5 && argc > 4) {
    af_cc cc = AF_CC_SYSV;
    af_cc_parse(argv[4], &cc);
    seed_given = argc > 5;
    seed_arg = seed_given ? strtoull(argv[5], NULL, 0) : 0;
    one_case(argv[2], atoi(argv[3]), cc);
    return 0;
  }
  af_legs_cfg cfg = {0};
  double t0 = now();
  if (!only || only == 1) {
    test_hand(&cfg);
    test_nested(&cfg);
    test_bad_callees();
    test_marshal();
  }
  if (!only || only == 2) test_generated();
  if (!only || only == 3) test_mutants();
  printf("%.1f s\n", now() - t0);
  return check_done();
}
