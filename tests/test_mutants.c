/* test_mutants.c - every injectable ABI bug (jit/mutants.c) must be observable: live mutants. */
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

/* For each mutant, the correct JIT and the mutant JIT run the same cases in forked children
 * (a timer ends a hang: the crash mutants jit-segv, jit-hang, jit-wild-jump die in every case);
 * the mutant is live when some observable differs: a crash (SIGILL from the alignment check
 * the test turns on, SIGSEGV...), the checksum (return value and objects), or, around a direct
 * call of the entry, the callee-saved registers, RBP, the return registers, DF, MXCSR or an
 * sret buffer. The correct JIT must also agree with the interpreter (0 differences). */

/* ---- the probe: canaries in callee-saved registers around a direct call ----------------- */

/* p[0] fp, p[1..6] RDI RSI RDX RCX R8 R9 at the call. After it: p[8] RAX, p[9] RDX, p[10..13]
 * XMM0-1, p[14] RBX, p[15] RSI, p[16] RDI, p[17..20] R12-R15, p[21] RBP, p[22..41] XMM6-15,
 * p[42] RFLAGS, p[43] MXCSR; p[48..63] a 128-byte buffer (sret target). 32 bytes of home
 * space suit both conventions; RSP+8 is 16-aligned at the callee's entry. */
__asm__(".text\n"
        ".p2align 4\n"
        "mut_probe:\n"
        ".intel_syntax noprefix\n"
        "  push rbp\n  push rbx\n  push r12\n  push r13\n  push r14\n  push r15\n  push rdi\n"
        "  sub rsp, 32\n"
        "  mov rax, rdi\n  mov r11, [rax]\n"
        "  mov rsi, [rax+16]\n  mov rdx, [rax+24]\n  mov rcx, [rax+32]\n  mov r8, [rax+40]\n"
        "  mov r9, [rax+48]\n  mov rdi, [rax+8]\n"
        "  mov rbx, 0x1111111111111101\n  mov r12, 0x1111111111111104\n"
        "  mov r13, 0x1111111111111105\n  mov r14, 0x1111111111111106\n"
        "  mov r15, 0x1111111111111107\n  mov rbp, 0x1111111111111108\n"
        "  mov r10, 0x2222222222222206\n  movq xmm6, r10\n  punpcklqdq xmm6, xmm6\n"
        "  mov r10, 0x2222222222222207\n  movq xmm7, r10\n  punpcklqdq xmm7, xmm7\n"
        "  mov r10, 0x2222222222222208\n  movq xmm8, r10\n  punpcklqdq xmm8, xmm8\n"
        "  mov r10, 0x2222222222222209\n  movq xmm9, r10\n  punpcklqdq xmm9, xmm9\n"
        "  mov r10, 0x222222222222220a\n  movq xmm10, r10\n  punpcklqdq xmm10, xmm10\n"
        "  mov r10, 0x222222222222220b\n  movq xmm11, r10\n  punpcklqdq xmm11, xmm11\n"
        "  mov r10, 0x222222222222220c\n  movq xmm12, r10\n  punpcklqdq xmm12, xmm12\n"
        "  mov r10, 0x222222222222220d\n  movq xmm13, r10\n  punpcklqdq xmm13, xmm13\n"
        "  mov r10, 0x222222222222220e\n  movq xmm14, r10\n  punpcklqdq xmm14, xmm14\n"
        "  mov r10, 0x222222222222220f\n  movq xmm15, r10\n  punpcklqdq xmm15, xmm15\n"
        "  cld\n  xor eax, eax\n"
        "  call r11\n"
        "  add rsp, 32\n"
        "  pop r11\n"
        "  mov [r11+64], rax\n  mov [r11+72], rdx\n  movups [r11+80], xmm0\n"
        "  movups [r11+96], xmm1\n  mov [r11+112], rbx\n  mov [r11+120], rsi\n"
        "  mov [r11+128], rdi\n  mov [r11+136], r12\n  mov [r11+144], r13\n"
        "  mov [r11+152], r14\n  mov [r11+160], r15\n  mov [r11+168], rbp\n"
        "  movups [r11+176], xmm6\n  movups [r11+192], xmm7\n  movups [r11+208], xmm8\n"
        "  movups [r11+224], xmm9\n  movups [r11+240], xmm10\n  movups [r11+256], xmm11\n"
        "  movups [r11+272], xmm12\n  movups [r11+288], xmm13\n  movups [r11+304], xmm14\n"
        "  movups [r11+320], xmm15\n"
        "  pushfq\n  pop rax\n  mov [r11+336], rax\n  cld\n"
        "  stmxcsr [r11+344]\n  mov dword ptr [r11+352], 0x1f80\n  ldmxcsr [r11+352]\n"
        "  pop r15\n  pop r14\n  pop r13\n  pop r12\n  pop rbx\n  pop rbp\n  ret\n"
        /* host peers standing in for gcc/clang-compiled code with a stricter reading: */
        "mut_host_zext_sysv:\n  mov eax, edi\n  ret\n" /* trusts the caller's extension */
        "mut_host_zext_w64:\n  mov eax, ecx\n  ret\n"
        "mut_host_byref_w64:\n  mov rax, [rcx]\n  add qword ptr [rcx], 1\n  ret\n" /* owns it */
        "mut_host_vararg_w64:\n  mov rax, rdx\n  ret\n" /* va_arg reads the GPR copy */
        "mut_host_al_sysv:\n  movzx eax, al\n  ret\n"   /* what the prologue tests */
        ".att_syntax prefix\n");
void mut_probe(uint64_t *p);
void mut_host_zext_sysv(void);
void mut_host_zext_w64(void);
void mut_host_byref_w64(void);
void mut_host_vararg_w64(void);
void mut_host_al_sysv(void);

#define BUF   UINT64_C(0xb0ffb0ffb0ffb0ff) /* a probe register input: the buffer's address */
#define DIRTY UINT64_C(0xa5a5a5a580000005)

/* ---- hand-built cases -------------------------------------------------------------------- */

#define HDR "# abifuzz case, generator 1\n# seed 0 index 0 abi %s\n\n"
#define T24 "type t21 = struct { i64, i64, i64 }\n"
#define T31 "type t21 = struct { i64, i64 }\n"
#define T32 "type t21 = struct { f32, i32 }\n"
#define C24 "0102030405060708111213141516171821222324252627f8"

typedef struct {
  const char *name;
  const char *text;      /* %s: the convention, where a case exists for both */
  int both;              /* instantiate for sysv and win64 */
  int probe;             /* entry has register parameters only: call it directly too */
  uint64_t regs[6];      /* probe inputs RDI RSI RDX RCX R8 R9 (BUF: the buffer) */
  int host_fn;           /* function index replaced by a host peer, -1 none */
  void (*host[2])(void); /* [sysv, win64] */
  int cc;                /* the convention when not both */
} hcase;

static const hcase hcases[] = {
    {"saved",
     HDR "func f0 %s () -> u64 {\n  v0 = const u64 5\n  v1 = const f64 0x3ff199999999999a\n"
         "  v2 = call u64 f1 (v0, v0, v0, v0, v0, v0, v1, v1, v1, v1, v1, v1, v1, v1)\n"
         "  v3 = fmul f64 v1 v1\n  v4 = fmul f64 v3 v1\n  v5 = mix u64 0x9 (v2, v4)\n  ret u64 "
         "v5\n}\n\n"
         "func f1 sysv (u64, u64, u64, u64, u64, u64, f64, f64, f64, f64, f64, f64, f64, f64) -> "
         "u64 {\n"
         "  v14 = fmul f64 v6 v13\n  v15 = mix u64 0x7 (v0, v5, v14, v13)\n  ret u64 "
         "v15\n}\n\nentry f0\n",
     1,
     1,
     {0, 0, 0, 0, 0, 0},
     -1,
     {0, 0},
     0},
    {"stackargs",
     HDR T24
     "type t22 = struct { u8, u8, u8 }\n"
     "func f0 %s () -> u64 {\n  v0 = const i64 -3\n  v1 = const i128 -12345678901234567890123\n"
     "  v2 = const f80 0xc000c90fdaa22168c000\n  v3 = const f32 0x3fc00000\n"
     "  v4 = const f64 0x400921fb54442d18\n  v5 = const t21 " C24 "\n  v6 = const i8 -7\n"
     "  v7 = const t22 a1b2c3\n  v8 = const i64 99\n"
     "  v9 = call u64 f1 (v0, v8, v0, v8, v0, v8, v8, v1, v2, v0, v3, v4, v5, v6, v7, v8)\n"
     "  ret u64 v9\n}\n\n"
     "func f1 %s (i64, i64, i64, i64, i64, i64, i64, i128, f80, i64, f32, f64, t21, i8, t22, i64)"
     " -> u64 {\n  v16 = mix u64 0x3 (v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13,"
     " v14, v15)\n  ret u64 v16\n}\n\nentry f0\n",
     1,
     1,
     {0, 0, 0, 0, 0, 0},
     -1,
     {0, 0},
     0},
    {"split",
     HDR T31 "func f0 sysv () -> u64 {\n  v0 = const i64 11\n"
             "  v1 = const i128 -98765432109876543210987\n  v2 = const t21 "
             "0102030405060708a1a2a3a4a5a6a7a8\n"
             "  v3 = const i64 77\n  v4 = call u64 f1 (v0, v0, v0, v0, v0, v1, v3)\n"
             "  v5 = call u64 f2 (v0, v0, v0, v0, v0, v2, v3)\n  v6 = mix u64 0x5 (v4, v5)\n  ret "
             "u64 v6\n}\n\n"
             "func f1 sysv (i64, i64, i64, i64, i64, i128, i64) -> u64 {\n"
             "  v7 = mix u64 0x1 (v4, v5, v6)\n  ret u64 v7\n}\n\n"
             "func f2 sysv (i64, i64, i64, i64, i64, t21, i64) -> u64 {\n"
             "  v7 = mix u64 0x2 (v4, v5, v6)\n  ret u64 v7\n}\n\nentry f0\n",
     0,
     1,
     {0, 0, 0, 0, 0, 0},
     -1,
     {0, 0},
     0},
    {"floatint",
     HDR T32
     "func f0 sysv () -> u64 {\n  v0 = const t21 0000c03f2a000000\n"
     "  v1 = const f64 0x400921fb54442d18\n  v2 = call u64 f1 (v0, v1, v0)\n  ret u64 v2\n}\n\n"
     "func f1 sysv (t21, f64, t21) -> u64 {\n  v3 = mix u64 0x4 (v0, v1, v2)\n  ret u64 v3\n}\n\n"
     "entry f0\n",
     0,
     1,
     {0, 0, 0, 0, 0, 0},
     -1,
     {0, 0},
     0},
    {"floats",
     HDR "func f0 %s () -> u64 {\n  v0 = const i32 5\n  v1 = const f64 0x400921fb54442d18\n"
         "  v2 = const i64 -9\n  v3 = const f32 0x3fc00000\n  v4 = call u64 f1 (v0, v1, v2, v3)\n"
         "  ret u64 v4\n}\n\nfunc f1 %s (i32, f64, i64, f32) -> u64 {\n"
         "  v4 = mix u64 0x6 (v0, v1, v2, v3)\n  ret u64 v4\n}\n\nentry f0\n",
     1,
     1,
     {0, 0, 0, 0, 0, 0},
     -1,
     {0, 0},
     0},
    {"sret",
     HDR T24 "func f0 %s () -> t21 {\n  v0 = const t21 " C24 "\n  ret t21 v0\n}\n\nentry f0\n",
     1,
     1,
     {BUF, 0, 0, BUF, 0, 0},
     -1,
     {0, 0},
     0},
    {"struct16",
     HDR T31 "func f0 win64 () -> u64 {\n  v0 = call t21 f1 ()\n"
             "  v1 = mix u64 0x8 (v0)\n  ret u64 v1\n}\n\nfunc f1 win64 () -> t21 {\n"
             "  v0 = const t21 0102030405060708a1a2a3a4a5a6a7a8\n  ret t21 v0\n}\n\nentry f0\n",
     0,
     1,
     {0, 0, 0, 0, 0, 0},
     -1,
     {0, 0},
     1},
    {"f80ret",
     HDR "func f0 %s () -> f80 {\n  v0 = const f80 0xc000c90fdaa22168c000\n"
         "  ret f80 v0\n}\n\nentry f0\n",
     1,
     1,
     {BUF, 0, 0, BUF, 0, 0},
     -1,
     {0, 0},
     0},
    {"narrow",
     HDR "func f0 %s () -> u32 {\n  v0 = const u8 200\n  v1 = call u32 f1 (v0)\n"
         "  ret u32 v1\n}\n\nfunc f1 %s (u8) -> u32 {\n  v1 = zext u32 v0\n  ret u32 "
         "v1\n}\n\nentry f0\n",
     1,
     1,
     {0, 0, 0, 0, 0, 0},
     1,
     {mut_host_zext_sysv, mut_host_zext_w64},
     0},
    {"byref",
     HDR T24 "func f0 win64 () -> u64 {\n  v0 = const t21 " C24 "\n"
             "  v1 = call i64 f1 (v0)\n  v2 = call i64 f1 (v0)\n  v3 = mix u64 0xa (v1, v2)\n  ret "
             "u64 v3\n}\n\n"
             "func f1 win64 (t21) -> i64 {\n  v1 = get i64 v0 [0]\n  ret i64 v1\n}\n\nentry f0\n",
     0,
     1,
     {0, 0, 0, 0, 0, 0},
     1,
     {NULL, mut_host_byref_w64},
     1},
    {"vararg-w64",
     HDR
     "func f0 win64 () -> u64 {\n  v0 = const i64 7\n"
     "  v1 = const f64 0x400921fb54442d18\n  v2 = call u64 f1 (v0, v1)\n  ret u64 v2\n}\n\n"
     "func f1 win64 (i64, ..., f64) -> u64 {\n  v2 = bitcast u64 v1\n  ret u64 v2\n}\n\nentry f0\n",
     0,
     1,
     {0, 0, 0, 0, 0, 0},
     1,
     {NULL, mut_host_vararg_w64},
     1},
    {"vararg-al",
     HDR "func f0 sysv () -> u64 {\n  v0 = const i64 7\n"
         "  v1 = const f64 0x400921fb54442d18\n  v2 = call u64 f1 (v0, v1)\n  ret u64 v2\n}\n\n"
         "func f1 sysv (i64, ..., f64) -> u64 {\n  v2 = const u64 1\n  ret u64 v2\n}\n\nentry f0\n",
     0,
     1,
     {0, 0, 0, 0, 0, 0},
     1,
     {mut_host_al_sysv, NULL},
     0},
    {"home",
     HDR "func f0 win64 (i64, i64) -> u64 {\n  v2 = const i64 3\n"
         "  v3 = call u64 f1 (v2, v2, v2)\n  v4 = mix u64 0xb (v0, v1, v3)\n  ret u64 v4\n}\n\n"
         "func f1 win64 (i64, ..., i64, i64) -> u64 {\n  v3 = mix u64 0xc (v0, v1, v2)\n"
         "  ret u64 v3\n}\n\nentry f0\ninput i64 -1111\ninput i64 2222\n",
     0,
     1,
     {0, 0, 0x1234, 0x5678, 0, 0},
     -1,
     {0, 0},
     1},
    {"frame",
     HDR
     "func f0 %s (i64) -> u64 {\n"
     "  v1 = const i64 1\n  v2 = const i64 2\n  v3 = const i64 3\n  v4 = const i64 4\n"
     "  v5 = const i64 5\n  v6 = const i64 6\n  v7 = const i64 7\n  v8 = const i64 8\n"
     "  v9 = const i64 9\n  v10 = const i64 10\n  v11 = const i64 11\n  v12 = const i64 12\n"
     "  v13 = const i64 13\n  v14 = const i64 14\n  v15 = const i64 15\n  v16 = const i64 16\n"
     "  v17 = const i64 17\n  v18 = const i64 18\n  v19 = const i64 19\n  v20 = const i64 20\n"
     "  v21 = call u64 f1 (v0)\n  v22 = mix u64 0xd (v0, v1, v2, v3, v4, v5, v6, v7, v8, v9,"
     " v10, v11, v12, v13, v14, v15, v16, v17, v18, v19, v20, v21)\n  ret u64 v22\n}\n\n"
     "func f1 %s (i64) -> u64 {\n  v1 = const i64 -1\n  v2 = add i64 v0 v1\n  v3 = add i64 v2 v1\n"
     "  v4 = add i64 v3 v1\n  v5 = add i64 v4 v1\n  v6 = add i64 v5 v1\n  v7 = add i64 v6 v1\n"
     "  v8 = mix u64 0xe (v2, v3, v4, v5, v6, v7)\n  ret u64 v8\n}\n\nentry f0\ninput i64 -5\n",
     1,
     1,
     {5, 0, 0, 5, 0, 0},
     -1,
     {0, 0},
     0},
    {"reads64",
     HDR "func f0 %s (i32) -> i64 {\n  v1 = sext i64 v0\n  ret i64 v1\n}\n\n"
         "entry f0\ninput i32 -5\n",
     1,
     1,
     {DIRTY, 0, 0, DIRTY, 0, 0},
     -1,
     {0, 0},
     0},
};
#define NHC (sizeof hcases / sizeof hcases[0])

/* ---- one run in a child ------------------------------------------------------------------ */

typedef struct {
  int stage; /* bits: S_COMPILED, S_PROBED, S_RAN */
  int status;
  uint64_t checksum;
  uint64_t p[64];
  char msg[160];
} mout;

enum { S_COMPILED = 1, S_PROBED = 2, S_RAN = 4 };

typedef struct {
  int sig; /* signal that ended the child, 0 none */
  mout o;
} mrun;

static void child_write(int fd, const mout *o) {
  ssize_t n = write(fd, o, sizeof *o);
  (void)n;
}

/* Compiles c with `inject` (NULL: correct); with probe, calls the entry directly between
 * canaries (first: the probe keeps the host's registers safe); then runs it (af_jit_run). */
static void run_child(const af_case *c, const char *inject, const void *const *host, int probe,
                      const uint64_t regs[6], mrun *r) {
  int fd[2];
  memset(r, 0, sizeof *r);
  if (pipe(fd) != 0) return;
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    close(fd[0]);
    /* a hang (rbp-not-restored loops through stale frames) ends in SIGALRM; the correct JIT
     * gets more time, so that a loaded machine cannot fail the test */
    struct itimerval it = {{0, 0}, {inject ? 0 : 3, inject ? 500000 : 0}};
    setitimer(ITIMER_REAL, &it, NULL);
    mout o;
    memset(&o, 0, sizeof o);
    af_jit_opts opts = {0};
    opts.inject = inject;
    opts.check_stack = 1;
    opts.host_fns = host;
    af_error err = {{0}};
    af_jit *j = NULL;
    o.status = af_jit_compile(c, &opts, &j, &err);
    snprintf(o.msg, sizeof o.msg, "%s", err.msg);
    if (o.status == AF_OK) {
      o.stage = S_COMPILED;
      child_write(fd[1], &o);
      if (probe) {
        o.p[0] = (uint64_t)(uintptr_t)af_jit_fn(j, c->entry);
        for (int i = 0; i < 6; i++)
          o.p[1 + i] = regs[i] == BUF ? (uint64_t)(uintptr_t)&o.p[48] : regs[i];
        mut_probe(o.p);
        o.stage |= S_PROBED;
        child_write(fd[1], &o);
      }
      af_jit_result res;
      o.status = af_jit_run(j, NULL, &res, &err);
      o.checksum = res.checksum;
      af_jit_result_free(&res);
      if (o.status == AF_OK) o.stage |= S_RAN;
    }
    child_write(fd[1], &o);
    _exit(0);
  }
  close(fd[1]);
  mout tmp;
  size_t got = 0;
  for (;;) {
    ssize_t n = read(fd[0], (char *)&tmp + got, sizeof tmp - got);
    if (n <= 0) break;
    got += (size_t)n;
    if (got == sizeof tmp) {
      r->o = tmp;
      got = 0;
    }
  }
  close(fd[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  if (WIFSIGNALED(st)) r->sig = WTERMSIG(st);
}

/* Why b (mutant) differs from a (correct), or NULL. The entry's convention decides which
 * registers the probe holds to account. */
static const char *differs(const mrun *a, const mrun *b, af_cc cc_of_entry, char *buf, size_t cap) {
  static const char *gpr[] = {"rbx", "rsi", "rdi", "r12", "r13", "r14", "r15", "rbp"};
  if (b->sig && !a->sig && !(b->o.stage & S_PROBED)) {
    snprintf(buf, cap, "crash%s (%s)", (a->o.stage & S_PROBED) ? " in the probe" : "",
             b->sig == SIGILL ? "SIGILL: alignment check" : strsignal(b->sig));
    return buf;
  }
  if ((a->o.stage & S_COMPILED) && !(b->o.stage & S_COMPILED)) {
    snprintf(buf, cap, "compile error: %s", b->o.msg);
    return buf;
  }
  const uint64_t *p = a->o.p, *q = b->o.p;
  int probed = (a->o.stage & b->o.stage & S_PROBED) != 0;
  if (probed) {
    /* only what the entry's convention makes callee-saved (psABI 3.2.1, MS "x64 calling
     * convention"): RBX RBP R12-R15; Win64 also RSI RDI and XMM6-15 */
    int w64 = cc_of_entry == AF_CC_WIN64;
    for (int i = 0; i < 8; i++)
      if (p[14 + i] != q[14 + i] && (w64 || (i != 1 && i != 2))) {
        snprintf(buf, cap, "probe: %s not preserved", gpr[i]);
        return buf;
      }
    for (int x = 0; x < 20 && w64; x++)
      if (p[22 + x] != q[22 + x]) {
        snprintf(buf, cap, "probe: xmm%d %s half not preserved", 6 + x / 2, x & 1 ? "high" : "low");
        return buf;
      }
    if ((p[42] ^ q[42]) & 0x400) return "probe: DF set after the call";
    if ((p[43] ^ q[43]) & 0xffc0) return "probe: MXCSR control bits changed";
  }
  if (b->sig && !a->sig) {
    snprintf(buf, cap, "crash in af_jit_run (%s)",
             b->sig == SIGILL ? "SIGILL: alignment check" : strsignal(b->sig));
    return buf;
  }
  if ((a->o.stage & b->o.stage & S_RAN) && a->o.checksum != b->o.checksum) return "checksum";
  if (probed) {
    if (p[8] != q[8] || p[9] != q[9]) return "probe: RAX/RDX at return";
    if (memcmp(p + 10, q + 10, 32)) return "probe: XMM0/XMM1 at return";
    if (memcmp(p + 48, q + 48, 128)) return "probe: sret buffer";
  }
  if (a->o.stage != b->o.stage) {
    snprintf(buf, cap, "stopped at stage %d (status %d)", b->o.stage, b->o.status);
    return buf;
  }
  return NULL;
}

/* ---- the liveness table ------------------------------------------------------------------ */

typedef struct {
  int live, tried, gen_tried, gen_live;
  char how[160];
} mstat;

static int parse_hand(const hcase *h, int cc, af_case *c) {
  char text[8192];
  const char *ccn = af_cc_name((af_cc)cc);
  snprintf(text, sizeof text, h->text, ccn, ccn, ccn, ccn);
  af_error err = {{0}};
  af_status s = af_parse(h->name, text, strlen(text), c, &err);
  CHECKF(s == AF_OK, "%s/%s: parse: %s", h->name, ccn, err.msg);
  return s == AF_OK;
}

int main(int argc, char **argv) {
  int ngen = argc > 1 ? atoi(argv[1]) : 250; /* generated cases per convention, at most */
  int nm = af_jit_mutant_count();
  time_t t0 = time(NULL);
  mstat *ms = calloc((size_t)nm, sizeof *ms);
  CHECK(nm >= 30);

  /* the public table */
  for (int i = 0; i < nm; i++) {
    CHECKF(af_jit_mutant_name(i) && af_jit_mutant_desc(i) && af_jit_mutant_mimics(i) &&
               af_jit_mutant_side(i),
           "mutant %d incomplete", i);
    CHECKF(af_jit_mutant_find(af_jit_mutant_name(i)) == i, "mutant %d not found by name", i);
  }
  CHECK(af_jit_mutant_name(nm) == NULL && af_jit_mutant_find("no-such-mutant") == -1);
  {
    af_case c;
    CHECK(parse_hand(&hcases[0], AF_CC_SYSV, &c));
    af_jit_opts o = {0};
    o.inject = "no-such-mutant";
    af_jit *j = NULL;
    af_error err = {{0}};
    CHECK(af_jit_compile(&c, &o, &j, &err) == AF_ERR_INVALID && j == NULL);
    CHECKF(strstr(err.msg, "unknown mutant no-such-mutant") != NULL, "msg: %s", err.msg);
    af_case_free(&c);
  }

  /* (1) hand-built cases: correct vs interpreter, then every mutant */
  int hand_agree = 0, hand_total = 0;
  for (size_t h = 0; h < NHC; h++)
    for (int cc = 0; cc < AF_CC_COUNT; cc++) {
      const hcase *hc = &hcases[h];
      if (!hc->both && cc != hc->cc) continue;
      af_case c;
      if (!parse_hand(hc, cc, &c)) continue;
      const void *host[AF_MAX_FUNCS] = {0};
      const void *const *hp = NULL;
      if (hc->host_fn >= 0) {
        af_cc fcc = c.funcs[hc->host_fn].sig.cc;
        host[hc->host_fn] = (const void *)hc->host[fcc == AF_CC_WIN64];
        hp = host;
      }
      af_cc ecc = c.funcs[c.entry].sig.cc;
      af_interp_result ir;
      memset(&ir, 0, sizeof ir);
      af_error err = {{0}};
      CHECKF(af_interp(&c, 0, &ir, &err) == AF_OK, "%s: interp: %s", hc->name, err.msg);
      mrun good, again;
      run_child(&c, NULL, hp, hc->probe, hc->regs, &good);
      run_child(&c, NULL, hp, hc->probe, hc->regs, &again);
      char why[200];
      hand_total++;
      CHECKF(good.sig == 0 && good.o.stage == (S_COMPILED | S_RAN | (hc->probe ? S_PROBED : 0)) &&
                 good.o.status == AF_OK,
             "%s/%s: correct JIT: signal %d stage %d: %s", hc->name, af_cc_name((af_cc)cc),
             good.sig, good.o.stage, good.o.msg);
      CHECKF(good.o.checksum == ir.checksum, "%s/%s: correct JIT disagrees with the interpreter",
             hc->name, af_cc_name((af_cc)cc));
      CHECKF(!differs(&good, &again, ecc, why, sizeof why), "%s/%s: correct JIT not repeatable: %s",
             hc->name, af_cc_name((af_cc)cc), why);
      if (good.o.checksum == ir.checksum) hand_agree++;
      for (int m = 0; m < nm; m++) {
        mrun bad;
        /* a crash mutant (jit-segv, jit-hang, jit-wild-jump) dies on every case: once seen,
         * more hand cases only cost time (a hang takes the whole 0.5 s timer) */
        if (ms[m].live && !strncmp(af_jit_mutant_name(m), "jit-", 4)) continue;
        ms[m].tried++;
        run_child(&c, af_jit_mutant_name(m), hp, hc->probe, hc->regs, &bad);
        /* a mutant changes code, never whether it compiles */
        CHECKF(!(good.o.stage & S_COMPILED) || (bad.o.stage & S_COMPILED) || bad.sig,
               "%s on %s/%s: compile error: %s", af_jit_mutant_name(m), hc->name,
               af_cc_name((af_cc)cc), bad.o.msg);
        const char *d = differs(&good, &bad, ecc, why, sizeof why);
        if (d && (bad.o.stage & S_COMPILED) && !ms[m].live) {
          ms[m].live = 1;
          snprintf(ms[m].how, sizeof ms[m].how, "%s [hand %s/%s]", d, hc->name,
                   af_cc_name((af_cc)cc));
        }
      }
      af_interp_result_free(&ir);
      af_case_free(&c);
    }
  printf("hand-built: %d cases, correct JIT agrees with the interpreter on %d\n", hand_total,
         hand_agree);

  /* (2) generated cases: correct vs interpreter (must be 0 differences), mutants vs correct */
  int gen_total = 0, gen_agree = 0, gen_unsup = 0;
  for (int i = 0; i < ngen && time(NULL) - t0 < 45; i++)
    for (int cc = 0; cc < AF_CC_COUNT; cc++) {
      af_gen_opts go;
      af_gen_opts_default(&go);
      go.cc = cc;
      go.allow_divergent = 1;
      af_case c;
      af_error err = {{0}};
      if (af_gen_case(&go, 0x3a7a, (uint64_t)i, &c, NULL, &err) != AF_OK) {
        af_case_free(&c);
        continue;
      }
      af_interp_result ir;
      memset(&ir, 0, sizeof ir);
      if (af_interp(&c, 0, &ir, &err) != AF_OK) {
        af_case_free(&c);
        continue;
      }
      mrun good;
      uint64_t noregs[6] = {0};
      af_cc ecc = c.funcs[c.entry].sig.cc;
      run_child(&c, NULL, NULL, 0, noregs, &good);
      if (good.o.status == AF_ERR_UNSUPPORTED) {
        gen_unsup++;
      } else {
        gen_total++;
        CHECKF(good.sig == 0 && good.o.stage == (S_COMPILED | S_RAN) && good.o.status == AF_OK,
               "gen %s %d: correct JIT signal %d stage %d: %s", af_cc_name((af_cc)cc), i, good.sig,
               good.o.stage, good.o.msg);
        CHECKF(good.o.checksum == ir.checksum, "gen %s %d: correct JIT disagrees with interp",
               af_cc_name((af_cc)cc), i);
        if (good.o.checksum == ir.checksum && good.o.stage == (S_COMPILED | S_RAN)) {
          gen_agree++;
          for (int m = 0; m < nm; m++) {
            if (ms[m].gen_live || ms[m].gen_tried >= 1000) continue;
            mrun bad;
            char why[200];
            ms[m].gen_tried++;
            run_child(&c, af_jit_mutant_name(m), NULL, 0, noregs, &bad);
            CHECKF((bad.o.stage & S_COMPILED) || bad.sig,
                   "%s on generated %s %d: compile error: %s", af_jit_mutant_name(m),
                   af_cc_name((af_cc)cc), i, bad.o.msg);
            const char *d = differs(&good, &bad, ecc, why, sizeof why);
            if (d && (bad.o.stage & S_COMPILED)) {
              ms[m].gen_live = 1;
              if (!ms[m].live)
                snprintf(ms[m].how, sizeof ms[m].how, "%s [generated %s %d]", d,
                         af_cc_name((af_cc)cc), i);
              ms[m].live = 1;
            }
          }
        }
      }
      af_interp_result_free(&ir);
      af_case_free(&c);
    }
  printf("generated: %d cases run, correct JIT agrees with the interpreter on %d (%d "
         "unsupported)\n",
         gen_total, gen_agree, gen_unsup);
  CHECKF(gen_total == gen_agree, "%d generated cases disagree", gen_total - gen_agree);

  printf("\n%-26s %-4s %-5s %-9s %s\n", "mutant", "live", "hand", "generated", "how it showed");
  int dead = 0;
  for (int m = 0; m < nm; m++) {
    char g[32];
    snprintf(g, sizeof g, "%s/%d", ms[m].gen_live ? "yes" : "no", ms[m].gen_tried);
    printf("%-26s %-4s %-5d %-9s %s\n", af_jit_mutant_name(m), ms[m].live ? "yes" : "NO",
           ms[m].tried, g, ms[m].live ? ms[m].how : "-");
    if (!ms[m].live) dead++;
    CHECKF(ms[m].live, "mutant %s is dead", af_jit_mutant_name(m));
  }
  printf("%d of %d mutants live, %ld s\n", nm - dead, nm, (long)(time(NULL) - t0));
  free(ms);
  return check_done();
}
