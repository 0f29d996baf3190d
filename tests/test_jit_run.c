/* test_jit_run.c - the JIT against the interpreter: hand-built ABI cases, then generated ones. */
#include <ctype.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <immintrin.h>
#include <unistd.h>

#include "check.h"
#include "jit.h"

/* ---- running the JIT in a child, so that a crash of generated code is a finding ---- */

typedef struct {
  int status; /* af_status of compile/run */
  uint64_t checksum;
  af_jit_ra_info ra; /* what the register allocator did */
  char msg[256];
} child_out;

typedef enum { RUN_OK, RUN_UNSUPPORTED, RUN_ERROR, RUN_CRASH } run_kind;

/* Compiles (options jo, may be NULL) and runs c (with `inputs`, NULL: the case's) in a forked
 * child. */
static run_kind run_jit_opts(const af_case *c, const af_jit_opts *jo, const af_value *inputs,
                             child_out *o, int *sig) {
  int fd[2];
  memset(o, 0, sizeof *o);
  *sig = 0;
  if (pipe(fd) != 0) return RUN_ERROR;
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) return RUN_ERROR;
  if (pid == 0) {
    close(fd[0]);
    alarm(20);
    child_out r;
    memset(&r, 0, sizeof r);
    af_error err = {{0}};
    af_jit *j = NULL;
    r.status = af_jit_compile(c, jo, &j, &err);
    if (r.status == AF_OK) {
      af_jit_ra_info_get(j, &r.ra);
      af_jit_result res;
      r.status = af_jit_run(j, inputs, &res, &err);
      r.checksum = res.checksum;
      af_jit_result_free(&res);
      af_jit_free(j);
    }
    snprintf(r.msg, sizeof r.msg, "%s", err.msg);
    ssize_t n = write(fd[1], &r, sizeof r);
    _exit(n == (ssize_t)sizeof r ? 0 : 1);
  }
  close(fd[1]);
  size_t got = 0;
  while (got < sizeof *o) {
    ssize_t n = read(fd[0], (char *)o + got, sizeof *o - got);
    if (n <= 0) break;
    got += (size_t)n;
  }
  close(fd[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  if (WIFSIGNALED(st)) {
    *sig = WTERMSIG(st);
    return RUN_CRASH;
  }
  if (got != sizeof *o) return RUN_ERROR;
  if (o->status == AF_ERR_UNSUPPORTED) return RUN_UNSUPPORTED;
  return o->status == AF_OK ? RUN_OK : RUN_ERROR;
}

static run_kind run_jit(const af_case *c, const af_value *inputs, child_out *o, int *sig) {
  return run_jit_opts(c, NULL, inputs, o, sig);
}

/* ---- (a) hand-built cases: every argument location, through a chain of calls ---- */

static const char *types_text = "type t21 = struct { f32, f32 }\n"
                                "type t22 = struct { f64, i32 }\n"
                                "type t23 = struct { i64, f64 }\n"
                                "type t24 = struct { i64, i64, i64 }\n"
                                "type t25 = struct { u8, u8, u8 }\n"
                                "type t26 = struct { }\n";

/* Input spelling of a parameter type; n makes values differ between parameters. */
static void input_text(char *buf, size_t cap, const char *t, int n) {
  static const struct {
    const char *t;
    int size; /* > 0: hex bytes of this size */
  } hex[] = {{"t21", 8}, {"t22", 16},  {"t23", 16},  {"t24", 24},
             {"t25", 3}, {"cf64", 16}, {"m128", 16}, {"cf32", 8}};
  for (size_t i = 0; i < sizeof hex / sizeof hex[0]; i++)
    if (!strcmp(t, hex[i].t)) {
      size_t p = 0;
      for (int b = 0; b < hex[i].size && p + 3 < cap; b++)
        p += (size_t)snprintf(buf + p, cap - p, "%02x", (unsigned)((n * 37 + b * 11 + 5) & 0xff));
      return;
    }
  if (!strcmp(t, "t26"))
    snprintf(buf, cap, "{}");
  else if (!strcmp(t, "bool"))
    snprintf(buf, cap, "%d", n & 1);
  else if (!strcmp(t, "i8"))
    snprintf(buf, cap, "%d", -100 + n);
  else if (!strcmp(t, "u8"))
    snprintf(buf, cap, "%d", 200 + n);
  else if (!strcmp(t, "i16"))
    snprintf(buf, cap, "%d", -30000 + n);
  else if (!strcmp(t, "u16"))
    snprintf(buf, cap, "%d", 65000 + n);
  else if (!strcmp(t, "i32"))
    snprintf(buf, cap, "%d", -2000000000 + n);
  else if (!strcmp(t, "u32"))
    snprintf(buf, cap, "%u", 4000000000u + (unsigned)n);
  else if (!strcmp(t, "i64"))
    snprintf(buf, cap, "%lld", -1234567890123456789ll + n);
  else if (!strcmp(t, "u64"))
    snprintf(buf, cap, "%llu", 18446744073709551000ull + (unsigned)n);
  else if (!strcmp(t, "i128"))
    snprintf(buf, cap, "-1234567890123456789012345%02d", n);
  else if (!strcmp(t, "f32"))
    snprintf(buf, cap, "0x%08x", 0x3fc00000u + (unsigned)n * 0x1000u);
  else if (!strcmp(t, "f64"))
    snprintf(buf, cap, "0x%016llx",
             0x400921fb54442d18ull + (unsigned long long)n * 0x10000000000ull);
  else if (!strcmp(t, "f80"))
    snprintf(buf, cap, "0xc000c90fdaa22168c0%02x", n);
  else if (!strcmp(t, "ptr"))
    snprintf(buf, cap, "obj %d", n & 1);
  else
    snprintf(buf, cap, "?");
}

typedef struct {
  const char *name;
  int variadic_after; /* -1: not variadic; else number of fixed parameters */
  int n;
  const char *p[16];
} hsig;

static const hsig hsigs[] = {
    {"ints", -1, 8, {"i32", "u8", "i16", "i64", "bool", "u32", "i8", "u64"}},
    {"floats", -1, 10, {"f64", "f32", "f64", "f32", "f64", "f64", "f64", "f64", "f32", "f64"}},
    {"mixed", -1, 8, {"i32", "f64", "i64", "f32", "ptr", "f64", "u16", "ptr"}},
    {"aggregates",
     -1,
     12,
     {"t21", "t22", "t23", "i128", "f80", "t24", "t25", "cf64", "m128", "cf32", "t26", "i64"}},
    {"variadic",
     1,
     12,
     {"i64", "f64", "i32", "t22", "f64", "i64", "f64", "t24", "f64", "f64", "f64", "f80"}},
};

static const char *hex_obj = "  000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
                             "  202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f\n"
                             "  404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f\n"
                             "  606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f\n";

/* f0 (cc) -> f1 (other cc) -> f2 (cc): every function passes all parameters on; f2 returns
 * parameter k (the checksum folds it), or with mix, a hash of all of them. */
static size_t build_chain(char *buf, size_t cap, const hsig *s, int k, af_cc cc, int mix) {
  size_t p = 0;
  const char *ccs[2] = {af_cc_name(cc), af_cc_name(cc == AF_CC_SYSV ? AF_CC_WIN64 : AF_CC_SYSV)};
  const char *rt = mix ? "u64" : s->p[k];
  p += (size_t)snprintf(buf + p, cap - p,
                        "# abifuzz case, generator 1\n# seed 0 index 0 abi %s\n\n%s", ccs[0],
                        types_text);
  p += (size_t)snprintf(buf + p, cap - p, "object 0 =\n%sobject 1 =\n%s", hex_obj, hex_obj);
  char params[512] = "", args[256] = "";
  size_t pp = 0, ap = 0;
  for (int i = 0; i < s->n; i++) {
    if (i == s->variadic_after) pp += (size_t)snprintf(params + pp, sizeof params - pp, ", ...");
    pp += (size_t)snprintf(params + pp, sizeof params - pp, "%s%s", i ? ", " : "", s->p[i]);
    ap += (size_t)snprintf(args + ap, sizeof args - ap, "%sv%d", i ? ", " : "", i);
  }
  for (int f = 0; f < 3; f++) {
    p +=
        (size_t)snprintf(buf + p, cap - p, "func f%d %s (%s) -> %s {\n", f, ccs[f & 1], params, rt);
    if (f < 2)
      p += (size_t)snprintf(buf + p, cap - p, "  v%d = call %s f%d (%s)\n  ret %s v%d\n}\n\n", s->n,
                            rt, f + 1, args, rt, s->n);
    else if (mix)
      p += (size_t)snprintf(buf + p, cap - p, "  v%d = mix u64 0x1234 (%s)\n  ret u64 v%d\n}\n\n",
                            s->n, args, s->n);
    else
      p += (size_t)snprintf(buf + p, cap - p, "  ret %s v%d\n}\n\n", rt, k);
  }
  p += (size_t)snprintf(buf + p, cap - p, "entry f0\n");
  for (int i = 0; i < s->n; i++) {
    char v[128];
    input_text(v, sizeof v, s->p[i], i + 1);
    p += (size_t)snprintf(buf + p, cap - p, "input %s %s\n", s->p[i], v);
  }
  return p;
}

static int hand_ok, hand_unsup;

/* Parses, interprets and JIT-runs one text case; they must agree. Returns the case's
 * interpreter checksum via *sum (for the corruption test). */
static void check_text(const char *what, const char *text, size_t len) {
  af_case c;
  af_error err = {{0}};
  af_status s = af_parse(what, text, len, &c, &err);
  CHECKF(s == AF_OK, "%s: parse: %s\n%s", what, err.msg, text);
  if (s != AF_OK) {
    af_case_free(&c);
    return;
  }
  af_interp_result ir;
  memset(&ir, 0, sizeof ir);
  s = af_interp(&c, 0, &ir, &err);
  CHECKF(s == AF_OK, "%s: interp: %s", what, err.msg);
  child_out o;
  int sig;
  run_kind k = run_jit(&c, NULL, &o, &sig);
  if (k == RUN_UNSUPPORTED) {
    hand_unsup++;
    printf("  %s: unsupported: %s\n", what, o.msg);
  } else {
    CHECKF(k == RUN_OK, "%s: jit: kind %d signal %d status %d: %s", what, k, sig, o.status, o.msg);
    CHECKF(k != RUN_OK || o.checksum == ir.checksum, "%s: jit 0x%016llx interp 0x%016llx\n%s", what,
           (unsigned long long)o.checksum, (unsigned long long)ir.checksum, text);
    if (k == RUN_OK && o.checksum == ir.checksum) hand_ok++;
  }
  af_interp_result_free(&ir);
  af_case_free(&c);
}

static void hand_cases(void) {
  static char buf[16384];
  for (size_t si = 0; si < sizeof hsigs / sizeof hsigs[0]; si++)
    for (int cc = 0; cc < AF_CC_COUNT; cc++) {
      for (int k = 0; k < hsigs[si].n; k++) {
        size_t n = build_chain(buf, sizeof buf, &hsigs[si], k, (af_cc)cc, 0);
        char what[64];
        snprintf(what, sizeof what, "%s-%s-ret%d", hsigs[si].name, af_cc_name((af_cc)cc), k);
        check_text(what, buf, n);
      }
      size_t n = build_chain(buf, sizeof buf, &hsigs[si], 0, (af_cc)cc, 1);
      char what[64];
      snprintf(what, sizeof what, "%s-%s-mix", hsigs[si].name, af_cc_name((af_cc)cc));
      check_text(what, buf, n);
    }
  printf("hand-built: %d agree, %d unsupported\n", hand_ok, hand_unsup);
}

/* The test can fail: the same case with one input byte poked must disagree. */
static void corrupted_input(void) {
  static char buf[16384];
  const hsig *s = &hsigs[0];
  for (int cc = 0; cc < AF_CC_COUNT; cc++) {
    size_t n = build_chain(buf, sizeof buf, s, 6, (af_cc)cc, 0); /* i8 on the stack */
    af_case c;
    af_error err = {{0}};
    CHECK(af_parse("corrupt", buf, n, &c, &err) == AF_OK);
    af_interp_result ir;
    memset(&ir, 0, sizeof ir);
    CHECK(af_interp(&c, 0, &ir, &err) == AF_OK);
    af_value in[AF_MAX_PARAMS];
    memcpy(in, c.inputs, sizeof in);
    uint8_t b = in[6].bytes[0] ^ 0x40;
    in[6].bytes = &b;
    child_out o;
    int sig;
    run_kind k = run_jit(&c, in, &o, &sig);
    CHECKF(k == RUN_OK, "corrupt: kind %d: %s", k, o.msg);
    CHECKF(o.checksum != ir.checksum, "a poked input byte went unnoticed (%s)",
           af_cc_name((af_cc)cc));
    /* and unpoked it agrees */
    k = run_jit(&c, NULL, &o, &sig);
    CHECK(k == RUN_OK && o.checksum == ir.checksum);
    af_interp_result_free(&ir);
    af_case_free(&c);
  }
}

/* ---- (c) JIT code called directly from gcc-compiled C: the real ABI, not JIT against JIT ---- */

typedef struct {
  float a, b;
} c_t21;
typedef struct {
  double a;
  int32_t b;
} c_t22;
typedef struct {
  int64_t a;
  double b;
} c_t23;
typedef struct {
  int64_t a, b, c;
} c_t24;
typedef struct {
  uint8_t a, b, c;
} c_t25;
typedef struct {
} c_t26;

/* "got / want" in hex, for a failure message */
static const char *hexdiff(const void *got, const void *want, size_t n) {
  static char buf[256];
  size_t p = 0;
  for (size_t i = 0; i < n && p + 3 < sizeof buf; i++)
    p += (size_t)snprintf(buf + p, sizeof buf - p, "%02x", ((const uint8_t *)got)[i]);
  p += (size_t)snprintf(buf + p, sizeof buf - p, " / ");
  for (size_t i = 0; i < n && p + 3 < sizeof buf; i++)
    p += (size_t)snprintf(buf + p, sizeof buf - p, "%02x", ((const uint8_t *)want)[i]);
  return buf;
}

#define AGG_PARAMS                                                                                 \
  c_t21, c_t22, c_t23, __int128, long double, c_t24, c_t25, _Complex double, __m128,               \
      _Complex float, c_t26, int64_t
#define AGG_ARGS a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11
#define LOADARG(T, v, i)                                                                           \
  T v;                                                                                             \
  memcpy(&v, c->inputs[i].bytes, sizeof v)

/* Calls f2 of the aggregates chain (it returns parameter k) through a C function pointer of
 * convention ABI; the result must equal the interpreter's bytes. One function per convention:
 * gcc 12 -O2 merges two indirect calls that differ only in sysv_abi/ms_abi (it emitted the
 * ms_abi sequence for both when they were the two arms of one if). */
#define DIRECT(ABI, RT, n)                                                                         \
  do {                                                                                             \
    RT r = ((RT(__attribute__((ABI)) *)(AGG_PARAMS))fp)(AGG_ARGS);                                 \
    CHECKF(memcmp(&r, ir->ret.bytes, n) == 0, "direct %s ret%d differs: %s", #ABI, k,              \
           hexdiff(&r, ir->ret.bytes, n));                                                         \
  } while (0)

#define DIRECT_FN(name, ABI)                                                                       \
  static __attribute__((noinline)) void name(const af_case *c, const af_interp_result *ir,         \
                                             const void *fp, int k) {                              \
    LOADARG(c_t21, a0, 0);                                                                         \
    LOADARG(c_t22, a1, 1);                                                                         \
    LOADARG(c_t23, a2, 2);                                                                         \
    LOADARG(__int128, a3, 3);                                                                      \
    LOADARG(long double, a4, 4);                                                                   \
    LOADARG(c_t24, a5, 5);                                                                         \
    LOADARG(c_t25, a6, 6);                                                                         \
    LOADARG(_Complex double, a7, 7);                                                               \
    LOADARG(__m128, a8, 8);                                                                        \
    LOADARG(_Complex float, a9, 9);                                                                \
    c_t26 a10 = {};                                                                                \
    LOADARG(int64_t, a11, 11);                                                                     \
    switch (k) {                                                                                   \
    case 0: DIRECT(ABI, c_t21, 8); break;                                                          \
    case 1: DIRECT(ABI, c_t22, 12); break;                                                         \
    case 2: DIRECT(ABI, c_t23, 16); break;                                                         \
    case 3: DIRECT(ABI, __int128, 16); break;                                                      \
    case 4: DIRECT(ABI, long double, 10); break;                                                   \
    case 5: DIRECT(ABI, c_t24, 24); break;                                                         \
    case 6: DIRECT(ABI, c_t25, 3); break;                                                          \
    case 7: DIRECT(ABI, _Complex double, 16); break;                                               \
    case 8: DIRECT(ABI, __m128, 16); break;                                                        \
    case 9: DIRECT(ABI, _Complex float, 8); break;                                                 \
    case 11: DIRECT(ABI, int64_t, 8); break;                                                       \
    default: break;                                                                                \
    }                                                                                              \
  }

DIRECT_FN(direct_sysv, sysv_abi)
DIRECT_FN(direct_ms, ms_abi)

static void direct_calls(void) {
  static char buf[16384];
  int ran = 0, skipped = 0;
  pid_t pid;
  fflush(stdout);
  fflush(stderr);
  if ((pid = fork()) == 0) {
    for (int cc = 0; cc < AF_CC_COUNT; cc++)
      for (int k = 0; k < 12; k++) {
        if (k == 10) continue; /* an empty struct returned: nothing to compare */
        size_t n = build_chain(buf, sizeof buf, &hsigs[3], k, (af_cc)cc, 0);
        af_case c;
        af_error err = {{0}};
        af_interp_result ir;
        memset(&ir, 0, sizeof ir);
        CHECK(af_parse("direct", buf, n, &c, &err) == AF_OK);
        CHECK(af_interp(&c, 0, &ir, &err) == AF_OK);
        const char *why = NULL;
        if (af_abi_deviates(&c, &c.funcs[2].sig, AF_FAMILY_GCC, __GNUC__, &why)) {
          skipped++; /* gcc lowers this signature differently (abi.c's table) */
        } else {
          af_jit *j = NULL;
          CHECKF(af_jit_compile(&c, NULL, &j, &err) == AF_OK, "direct: %s", err.msg);
          if (j && cc == AF_CC_SYSV) direct_sysv(&c, &ir, af_jit_fn(j, 2), k);
          if (j && cc == AF_CC_WIN64) direct_ms(&c, &ir, af_jit_fn(j, 2), k);
          af_jit_free(j);
          ran++;
        }
        af_interp_result_free(&ir);
        af_case_free(&c);
      }
    printf("direct calls from gcc: %d ran, %d skipped (gcc deviates)\n", ran, skipped);
    fflush(stdout);
    _exit(check_failed ? 1 : 0);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "direct calls: status 0x%x (signal %d)", st,
         WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

/* ---- (d) callee-saved registers survive a call into JIT code ---- */

/* probe(fp, out): sets RBX RSI RDI R12-R15 and XMM6-XMM15 (both halves) to patterns, calls
 * fp() with 32 bytes of home space (it suits both conventions), and stores what those
 * registers hold afterwards: out[0..6] the GPRs, then 2 words per XMM. */
__asm__(".text\n"
        ".p2align 4\n"
        "f1_probe:\n"
        ".intel_syntax noprefix\n"
        "  push rbp\n  mov rbp, rsp\n"
        "  push rbx\n  push r12\n  push r13\n  push r14\n  push r15\n  push rsi\n"
        "  sub rsp, 32\n"
        "  mov rax, rdi\n"
        "  mov rbx, 0x1111111111111101\n  mov rsi, 0x1111111111111102\n"
        "  mov rdi, 0x1111111111111103\n  mov r12, 0x1111111111111104\n"
        "  mov r13, 0x1111111111111105\n  mov r14, 0x1111111111111106\n"
        "  mov r15, 0x1111111111111107\n"
        "  mov r11, 0x2222222222222206\n  movq xmm6, r11\n  punpcklqdq xmm6, xmm6\n"
        "  mov r11, 0x2222222222222207\n  movq xmm7, r11\n  punpcklqdq xmm7, xmm7\n"
        "  mov r11, 0x2222222222222208\n  movq xmm8, r11\n  punpcklqdq xmm8, xmm8\n"
        "  mov r11, 0x2222222222222209\n  movq xmm9, r11\n  punpcklqdq xmm9, xmm9\n"
        "  mov r11, 0x222222222222220a\n  movq xmm10, r11\n  punpcklqdq xmm10, xmm10\n"
        "  mov r11, 0x222222222222220b\n  movq xmm11, r11\n  punpcklqdq xmm11, xmm11\n"
        "  mov r11, 0x222222222222220c\n  movq xmm12, r11\n  punpcklqdq xmm12, xmm12\n"
        "  mov r11, 0x222222222222220d\n  movq xmm13, r11\n  punpcklqdq xmm13, xmm13\n"
        "  mov r11, 0x222222222222220e\n  movq xmm14, r11\n  punpcklqdq xmm14, xmm14\n"
        "  mov r11, 0x222222222222220f\n  movq xmm15, r11\n  punpcklqdq xmm15, xmm15\n"
        "  call rax\n"
        "  add rsp, 32\n"
        "  pop r11\n"
        "  mov [r11], rbx\n  mov [r11+8], rsi\n  mov [r11+16], rdi\n  mov [r11+24], r12\n"
        "  mov [r11+32], r13\n  mov [r11+40], r14\n  mov [r11+48], r15\n"
        "  movups [r11+56], xmm6\n  movups [r11+72], xmm7\n  movups [r11+88], xmm8\n"
        "  movups [r11+104], xmm9\n  movups [r11+120], xmm10\n  movups [r11+136], xmm11\n"
        "  movups [r11+152], xmm12\n  movups [r11+168], xmm13\n  movups [r11+184], xmm14\n"
        "  movups [r11+200], xmm15\n"
        "  pop r15\n  pop r14\n  pop r13\n  pop r12\n  pop rbx\n  pop rbp\n  ret\n"
        ".att_syntax prefix\n");
void f1_probe(const void *fp, uint64_t out[27]);

/* f0 (cc) () calls f1 sysv with 6 integer and 8 double arguments (RDI RSI ... XMM0-7 are
 * clobbered by the call) and folds its result with MIX (a runtime helper call). */
static void callee_saved(void) {
  static char buf[4096];
  for (int cc = 0; cc < AF_CC_COUNT; cc++) {
    size_t p = (size_t)snprintf(buf, sizeof buf,
                                "# abifuzz case, generator 1\n# seed 0 index 0 abi %s\n\n"
                                "func f0 %s () -> u64 {\n  v0 = const u64 5\n"
                                "  v1 = const f64 0x3ff0000000000000\n",
                                af_cc_name((af_cc)cc), af_cc_name((af_cc)cc));
    p += (size_t)snprintf(buf + p, sizeof buf - p,
                          "  v2 = call u64 f1 (v0, v0, v0, v0, v0, v0, v1, v1, v1, v1, v1, v1, "
                          "v1, v1)\n  v3 = mix u64 0x9 (v2, v1)\n  ret u64 v3\n}\n\n"
                          "func f1 sysv (u64, u64, u64, u64, u64, u64, f64, f64, f64, f64, f64, "
                          "f64, f64, f64) -> u64 {\n  v14 = mix u64 0x7 (v0, v5, v6, v13)\n"
                          "  ret u64 v14\n}\n\nentry f0\n");
    af_case c;
    af_error err = {{0}};
    CHECKF(af_parse("saved", buf, p, &c, &err) == AF_OK, "%s", err.msg);
    af_jit *j = NULL;
    CHECKF(af_jit_compile(&c, NULL, &j, &err) == AF_OK, "saved: %s", err.msg);
    if (j) {
      uint64_t out[27];
      f1_probe(af_jit_fn(j, 0), out);
      static const int gpr_saved[2][7] = {{1, 0, 0, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 1, 1}};
      for (int r = 0; r < 7; r++)
        if (gpr_saved[cc][r])
          CHECKF(out[r] == 0x1111111111111101ull + (uint64_t)r, "%s: gpr %d not preserved",
                 af_cc_name((af_cc)cc), r);
      if (cc == AF_CC_WIN64)
        for (int x = 0; x < 10; x++)
          CHECKF(out[7 + 2 * x] == 0x2222222222222206ull + (uint64_t)x &&
                     out[8 + 2 * x] == 0x2222222222222206ull + (uint64_t)x,
                 "win64: xmm%d not preserved", 6 + x);
    }
    af_jit_free(j);
    af_case_free(&c);
  }
}

/* ---- (b) the differential test on generated cases ---- */

#define NREASONS 64
typedef struct {
  char why[128];
  int n;
} reason;

static void normalize(char *out, size_t cap, const char *msg) {
  /* drop the "fN: " prefix and turn digit runs into '#' so reasons group */
  if (msg[0] == 'f' && isdigit((unsigned char)msg[1])) {
    const char *p = strstr(msg, ": ");
    if (p) msg = p + 2;
  }
  size_t j = 0;
  int keep = 0; /* inside a digit run glued to a name (m256, f16): kept */
  for (size_t i = 0; msg[i] && j + 1 < cap; i++) {
    int d = isdigit((unsigned char)msg[i]);
    if (d && i > 0 && isalpha((unsigned char)msg[i - 1])) keep = 1;
    if (!d) keep = 0;
    if (d && !keep) {
      if (j == 0 || out[j - 1] != '#') out[j++] = '#';
    } else {
      out[j++] = msg[i];
    }
  }
  out[j] = 0;
}

/* no_regalloc 0: the register allocator on (the default), 1: every value in its slot. */
static void differential(int ncases, int all, int no_regalloc) {
  reason rs[NREASONS];
  int nrs = 0;
  int total = 0, agree = 0, unsup = 0, interp_skip = 0;
  long in_reg = 0, crossing = 0;
  int saving = 0, saving_ra = 0, cases_crossing = 0, nfuncs = 0;
  af_jit_opts jo;
  memset(&jo, 0, sizeof jo);
  jo.no_regalloc = no_regalloc;
  for (int cc = 0; cc < AF_CC_COUNT; cc++) {
    af_gen_opts go;
    af_gen_opts_default(&go);
    go.cc = cc;
    go.allow_f16 = go.allow_m256 = go.allow_divergent = all; /* "all": the optional kinds too */
    for (int i = 0; i < ncases; i++) {
      af_case c;
      af_error err = {{0}};
      total++;
      af_status s = af_gen_case(&go, 0x5eed, (uint64_t)i, &c, NULL, &err);
      CHECKF(s == AF_OK, "gen %s %d: %s", af_cc_name((af_cc)cc), i, err.msg);
      if (s != AF_OK) {
        af_case_free(&c);
        continue;
      }
      af_interp_result ir;
      memset(&ir, 0, sizeof ir);
      if (af_interp(&c, 0, &ir, &err) != AF_OK) {
        interp_skip++;
        af_case_free(&c);
        continue;
      }
      child_out o;
      int sig;
      run_kind k = run_jit_opts(&c, &jo, NULL, &o, &sig);
      if (k == RUN_OK) {
        nfuncs += c.nfuncs;
        in_reg += o.ra.values_in_reg;
        crossing += o.ra.values_crossing;
        saving += o.ra.funcs_saving;
        saving_ra += o.ra.funcs_saving_ra;
        cases_crossing += o.ra.values_crossing > 0;
      }
      if (k == RUN_UNSUPPORTED) {
        unsup++;
        char why[128];
        normalize(why, sizeof why, o.msg);
        int r = 0;
        while (r < nrs && strcmp(rs[r].why, why))
          r++;
        if (r == nrs && nrs < NREASONS) {
          snprintf(rs[nrs].why, sizeof rs[nrs].why, "%s", why);
          rs[nrs++].n = 0;
        }
        if (r < nrs) rs[r].n++;
      } else if (k == RUN_CRASH) {
        CHECKF(0, "case %s %d crashed with signal %d", af_cc_name((af_cc)cc), i, sig);
      } else {
        CHECKF(k == RUN_OK, "case %s %d: status %d: %s", af_cc_name((af_cc)cc), i, o.status, o.msg);
        CHECKF(k != RUN_OK || o.checksum == ir.checksum,
               "case %s %d (seed 0x5eed): jit 0x%016llx interp 0x%016llx", af_cc_name((af_cc)cc), i,
               (unsigned long long)o.checksum, (unsigned long long)ir.checksum);
        if (k == RUN_OK && o.checksum == ir.checksum) agree++;
      }
      af_interp_result_free(&ir);
      af_case_free(&c);
    }
  }
  printf("generated (%s): %d cases, %d agree, %d unsupported, %d skipped (interpreter)\n",
         no_regalloc ? "no_regalloc" : "register allocator", total, agree, unsup, interp_skip);
  printf("  %ld values register-homed, %ld of them across a call in a callee-saved register "
         "(%d cases); %d of %d functions save callee-saved registers, %d for allocated values\n",
         in_reg, crossing, cases_crossing, saving, nfuncs, saving_ra);
  if (no_regalloc) {
    CHECKF(in_reg == 0 && saving_ra == 0, "no_regalloc: %ld values in registers", in_reg);
  } else if (ncases >= 50) {
    /* the allocator must really be used: values in registers, some across calls in
     * callee-saved ones (saved by the prologue) */
    CHECKF(in_reg > 0, "no value was register-homed");
    CHECKF(cases_crossing > 0 && saving_ra > 0,
           "no case keeps a value in a callee-saved register across a call");
  }
  printf("supported fraction: %.1f%%\n", total ? 100.0 * (total - unsup) / total : 0.0);
  printf("unsupported reasons:\n");
  for (int r = 0; r < nrs; r++)
    printf("  %5d  %s\n", rs[r].n, rs[r].why);
}

int main(int argc, char **argv) {
  /* test_jit_run [ncases [all]] */
  int n = argc > 1 ? atoi(argv[1]) : 300;
  hand_cases();
  corrupted_input();
  direct_calls();
  callee_saved();
  differential(n, argc > 2 && !strcmp(argv[2], "all"), 0);
  differential(n, argc > 2 && !strcmp(argv[2], "all"), 1);
  return check_done();
}
