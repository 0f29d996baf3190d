/* test_codemem.c - W^X executable memory, both modes: encode small functions, seal, call them,
 * check permissions in /proc/self/maps, int3 before sealing and after freeing, code written in
 * place in the stage, and fork. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "jit.h"
#include "x86.h"

#define R32(r) x86_gpr(AF_##r, 4)
#define R64(r) x86_gpr(AF_##r, 8)
#define XMM(n) x86_xmm(AF_XMM##n)

typedef int(__attribute__((sysv_abi)) * sysv_ii)(int, int);
typedef int(__attribute__((ms_abi)) * ms_ii)(int, int);
typedef double(__attribute__((sysv_abi)) * sysv_dd)(double, double);
typedef float(__attribute__((ms_abi)) * ms_ff)(float, float);
typedef long double(__attribute__((sysv_abi)) * sysv_ll)(long double, long double);
typedef long(__attribute__((sysv_abi)) * sysv_l)(long);
typedef int(__attribute__((sysv_abi)) * sysv_v)(void);

/* The mode every codemem of the current pass is made in (main runs each test in both). */
static codemem_mode MODE;
static const char *mode_name(void) { return MODE == CODEMEM_DUAL ? "dual" : "flip"; }
static codemem *new_mem(size_t batch) {
  codemem *m = NULL;
  CHECK(codemem_new_mode(&m, batch, MODE) == AF_OK && codemem_get_mode(m) == MODE);
  return m;
}

/* Permissions of the mapping holding p, from /proc/self/maps ("r-xp"), or "" if none. */
static void perms_of(const void *p, char out[5]) {
  out[0] = 0;
  FILE *f = fopen("/proc/self/maps", "r");
  if (!f) return;
  char line[512];
  uintptr_t a = (uintptr_t)p;
  while (fgets(line, sizeof line, f)) {
    unsigned long lo, hi;
    char pr[5];
    if (sscanf(line, "%lx-%lx %4s", &lo, &hi, pr) == 3 && a >= lo && a < hi) {
      memcpy(out, pr, 5);
      break;
    }
  }
  fclose(f);
}

/* Runs fn(p) in a child; returns the signal that killed it, or 0 if it exited. */
static int child_signal(void (*fn)(void *), void *p) {
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    signal(SIGSEGV, SIG_DFL); /* no sanitizer handler: the plain fault is the answer */
    fn(p);
    _exit(0);
  }
  int st = 0;
  if (pid < 0 || waitpid(pid, &st, 0) != pid) return -1;
  return WIFSIGNALED(st) ? WTERMSIG(st) : 0;
}
static void write_to(void *p) { *(volatile uint8_t *)p = 0xC3; }
/* What executing a batch that holds no code yet (open, or freed) does: DUAL it holds int3,
 * FLIP it is not executable. */
static int no_code_signal(void) { return MODE == CODEMEM_DUAL ? SIGTRAP : SIGSEGV; }

/* The number of mappings in the process that are both writable and executable (never any). */
static int wx_mappings(void) {
  FILE *f = fopen("/proc/self/maps", "r");
  if (!f) return -1;
  char line[512];
  int n = 0;
  while (fgets(line, sizeof line, f)) {
    unsigned long lo, hi;
    char pr[5];
    if (sscanf(line, "%lx-%lx %4s", &lo, &hi, pr) == 3 && pr[1] == 'w' && pr[2] == 'x') n++;
  }
  fclose(f);
  return n;
}
static void exec_at(void *p) { ((sysv_v)p)(); }

/* Encodes with the growable buffer and copies into code memory. */
static void *add_code(codemem *m, x86_buf *b) {
  void *fn = NULL;
  CHECK(x86_buf_finish(b) == AF_OK);
  CHECK(codemem_add(m, b->data, b->len, &fn) == AF_OK);
  CHECK(fn && (uintptr_t)fn % CODEMEM_ALIGN == 0);
  x86_buf_free(b);
  return fn;
}

static void test_calls(void) {
  codemem *m = new_mem(0);
  x86_buf b;

  /* int add(int a, int b) under SysV: a in edi, b in esi. */
  x86_buf_init(&b);
  x86_emit2(&b, X86_MOV, R32(RAX), R32(RDI));
  x86_emit2(&b, X86_ADD, R32(RAX), R32(RSI));
  x86_emit0(&b, X86_RET);
  sysv_ii add_sysv = (sysv_ii)add_code(m, &b);

  /* The same under Win64: a in ecx, b in edx. */
  x86_buf_init(&b);
  x86_emit2(&b, X86_MOV, R32(RAX), R32(RCX));
  x86_emit2(&b, X86_SUB, R32(RAX), R32(RDX));
  x86_emit0(&b, X86_RET);
  ms_ii sub_ms = (ms_ii)add_code(m, &b);

  /* double add under SysV: xmm0 + xmm1. */
  x86_buf_init(&b);
  x86_emit2(&b, X86_ADDSD, XMM(0), XMM(1));
  x86_emit0(&b, X86_RET);
  sysv_dd addsd = (sysv_dd)add_code(m, &b);

  /* float mul under Win64, through a high register and the stack: movss [rsp-8]. */
  x86_buf_init(&b);
  x86_emit2(&b, X86_MOVSS, XMM(9), XMM(0));
  x86_emit2(&b, X86_MOVSS, x86_mem(4, AF_RSP, AF_REG_NONE, 1, -8), XMM(1));
  x86_emit2(&b, X86_MULSS, XMM(9), x86_mem(4, AF_RSP, AF_REG_NONE, 1, -8));
  x86_emit2(&b, X86_MOVAPS, XMM(0), XMM(9));
  x86_emit0(&b, X86_RET);
  ms_ff mulss = (ms_ff)add_code(m, &b);

  /* long double add under SysV: both arguments in memory at [rsp+8] and [rsp+24], the result
   * in st(0) (psABI 3.2.3, class X87). */
  x86_buf_init(&b);
  x86_emit1(&b, X86_FLD, x86_base(10, AF_RSP, 8));
  x86_emit1(&b, X86_FLD, x86_base(10, AF_RSP, 24));
  x86_emit1(&b, X86_FADDP, x86_st(1));
  x86_emit0(&b, X86_RET);
  sysv_ll addl = (sysv_ll)add_code(m, &b);

  /* x87 subtraction direction (SDM: FSUBP ST(i),ST(0) computes ST(i) - ST(0); FSUBRP the
   * reverse): st0 = b, st1 = a after the two loads. */
  x86_buf_init(&b);
  x86_emit1(&b, X86_FLD, x86_base(10, AF_RSP, 8));
  x86_emit1(&b, X86_FLD, x86_base(10, AF_RSP, 24));
  x86_emit1(&b, X86_FSUBP, x86_st(1));
  x86_emit0(&b, X86_RET);
  sysv_ll subl = (sysv_ll)add_code(m, &b);
  x86_buf_init(&b);
  x86_emit1(&b, X86_FLD, x86_base(10, AF_RSP, 8));
  x86_emit1(&b, X86_FLD, x86_base(10, AF_RSP, 24));
  x86_emit1(&b, X86_FSUBRP, x86_st(1));
  x86_emit0(&b, X86_RET);
  sysv_ll subrl = (sysv_ll)add_code(m, &b);

  /* long -> double -> long through cvtsi2sd / mulsd / cvttsd2si, with xmm13 and r11. */
  x86_buf_init(&b);
  x86_emit2(&b, X86_MOV, R64(R11), R64(RDI));
  x86_emit2(&b, X86_CVTSI2SD, XMM(13), R64(R11));
  x86_emit2(&b, X86_MULSD, XMM(13), XMM(13));
  x86_emit2(&b, X86_CVTTSD2SI, R64(RAX), XMM(13));
  x86_emit0(&b, X86_RET);
  sysv_l square = (sysv_l)add_code(m, &b);

  /* 128-bit shift left by cl through shld: (rsi:rdi) << cl, high half returned. */
  x86_buf_init(&b);
  x86_emit2(&b, X86_MOV, R64(RAX), R64(RSI));
  x86_emit2(&b, X86_MOV, R64(RCX), R64(RDX));
  x86_emit3(&b, X86_SHLD, R64(RAX), R64(RDI), x86_gpr(AF_RCX, 1));
  x86_emit0(&b, X86_RET);
  long (*__attribute__((sysv_abi)) shl128hi)(long, long, long) = (void *)add_code(m, &b);

  /* A loop with labels: sum of 1..n (n in rdi), using jcc forward and backward. */
  x86_buf_init(&b);
  int top = x86_label(&b), done = x86_label(&b);
  x86_emit2(&b, X86_XOR, R32(RAX), R32(RAX));
  x86_bind(&b, top);
  x86_emit2(&b, X86_TEST, R64(RDI), R64(RDI));
  x86_jcc_label(&b, X86_CC_E, done);
  x86_emit2(&b, X86_ADD, R64(RAX), R64(RDI));
  x86_emit2(&b, X86_SUB, R64(RDI), x86_imm(1));
  x86_jmp_label(&b, top);
  x86_bind(&b, done);
  x86_emit0(&b, X86_RET);
  sysv_l sum = (sysv_l)add_code(m, &b);

  /* Before sealing: no code runs there yet. DUAL: int3 where the code will run (read+execute,
   * never writable); FLIP: read+write, not executable. */
  char pr[5];
  perms_of((void *)add_sysv, pr);
  const char *open_perms = MODE == CODEMEM_DUAL ? "r-xs" : "rw-p";
  /* (a DUAL batch open across a fork, as child_signal's, is sealed as a private one) */
  const char *sealed_perms = MODE == CODEMEM_DUAL ? "r-x" : "r-xp";
  CHECKF(!strcmp(pr, open_perms), "%s: open batch is %s", mode_name(), pr);
  CHECK(!codemem_is_sealed(m, (void *)add_sysv));
  if (MODE == CODEMEM_DUAL) {
    CHECKF(*(volatile uint8_t *)add_sysv == 0xCC, "staged code visible before the seal");
    CHECK(child_signal(write_to, (void *)add_sysv) == SIGSEGV); /* never writable */
  }
  CHECK(child_signal(exec_at, (void *)add_sysv) == no_code_signal()); /* no code runs yet */
  CHECKF(wx_mappings() == 0, "%s: a mapping is writable and executable", mode_name());

  CHECK(codemem_seal(m) == AF_OK);
  CHECKF(wx_mappings() == 0, "%s: a mapping is writable and executable", mode_name());
  perms_of((void *)add_sysv, pr);
  CHECKF(!strncmp(pr, sealed_perms, strlen(sealed_perms)), "%s: sealed batch is %s", mode_name(),
         pr);
  CHECK(codemem_is_sealed(m, (void *)add_sysv));
  CHECK(child_signal(write_to, (void *)add_sysv) == SIGSEGV); /* never writable again */
  CHECK(codemem_seal(m) == AF_OK);                            /* nothing open: no-op */

  volatile int a = 40, c = 2; /* volatile: the compiler cannot fold the calls' results */
  CHECK(add_sysv(a, c) == 42);
  CHECK(add_sysv(-7, a) == 33);
  CHECK(sub_ms(a, c) == 38);
  volatile double x = 1.25, y = 2.5;
  CHECK(addsd(x, y) == 3.75);
  volatile float f = 1.5f, g = -4.0f;
  CHECK(mulss(f, g) == -6.0f);
  volatile long double la = 1.0L, lb = 0x1p-63L; /* needs the 64-bit x87 mantissa */
  CHECK(addl(la, lb) == 1.0L + 0x1p-63L && addl(la, lb) != 1.0L);
  CHECK(subl(5.0L, 2.0L) == 3.0L && subrl(5.0L, 2.0L) == -3.0L);
  CHECK(square(-94906265L) == 9007199136250225L && square(12) == 144);
  CHECK(shl128hi((long)0x8000000000000001ull, 1, 4) == 0x18);
  volatile long n = 100;
  CHECK(sum(n) == 5050 && sum(0) == 0);

  /* New code after a seal goes to a fresh mapping. */
  size_t before = codemem_nbatches(m);
  x86_buf_init(&b);
  x86_emit2(&b, X86_MOV, R32(RAX), x86_imm(7));
  x86_emit0(&b, X86_RET);
  sysv_v seven = (sysv_v)add_code(m, &b);
  CHECK(codemem_nbatches(m) == before + 1);
  perms_of((void *)seven, pr);
  CHECKF(!strcmp(pr, open_perms), "%s: fresh batch is %s", mode_name(), pr);
  CHECK(codemem_seal(m) == AF_OK);
  perms_of((void *)seven, pr); /* no fork in between: DUAL stays the shared mapping */
  CHECKF(!strcmp(pr, MODE == CODEMEM_DUAL ? "r-xs" : "r-xp"), "%s: sealed fresh batch is %s",
         mode_name(), pr);
  CHECK(seven() == 7 && add_sysv(1, 2) == 3);
  codemem_free(m);
}

/* Many functions in many batches (small batches, one seal every few functions), one larger
 * than a batch, all called after every seal. */
static void test_many(void) {
  enum { NFN = 600 };
  codemem *m = new_mem(4096);
  static sysv_v fns[NFN];
  for (int i = 0; i < NFN; i++) {
    x86_buf b;
    x86_buf_init(&b);
    x86_emit2(&b, X86_MOV, R32(RAX), x86_imm(i * 3 + 1));
    if (i % 7 == 0) /* some longer ones: padding with 100 nops */
      for (int k = 0; k < 100; k++)
        x86_emit0(&b, X86_NOP);
    x86_emit0(&b, X86_RET);
    fns[i] = (sysv_v)add_code(m, &b);
    if (i % 50 == 49) CHECK(codemem_seal(m) == AF_OK);
  }
  CHECK(codemem_seal(m) == AF_OK);
  int bad = 0;
  for (int i = 0; i < NFN; i++)
    bad += fns[i]() != i * 3 + 1 || !codemem_is_sealed(m, (void *)fns[i]);
  CHECKF(bad == 0, "%d functions wrong", bad);
  CHECKF(codemem_nbatches(m) >= NFN / 50, "%zu batches", codemem_nbatches(m));

  /* An allocation larger than the batch size gets its own mapping. */
  static uint8_t nops[3 * 4096 + 5];
  memset(nops, 0x90, sizeof nops - 1);
  nops[sizeof nops - 1] = 0xC3;
  void *big;
  CHECK(codemem_add(m, nops, sizeof nops, &big) == AF_OK && (uintptr_t)big % 16 == 0);
  CHECK(codemem_seal(m) == AF_OK);
  ((sysv_v)big)();
  CHECK(codemem_is_sealed(m, (uint8_t *)big + 3 * 4096));
  codemem_free(m);
  codemem_free(NULL);
}

/* A freed batch holds int3 over its old code at once (a stale pointer into it traps), goes to
 * the pool, and comes back to the next codemem: int3 until that one seals, then, as a fresh
 * batch, its code and int3 wherever no code was put (the alignment gaps, the tail). */
static void test_reuse(void) {
  static uint8_t nops[3000];
  uint8_t ret2[10], ret3[5], ret4[50];
  memset(nops, 0x90, sizeof nops);
  nops[sizeof nops - 1] = 0xC3;
  memset(ret2, 0xC3, sizeof ret2);
  memset(ret3, 0xC3, sizeof ret3);
  memset(ret4, 0xC3, sizeof ret4);
  codemem *m = new_mem(0);
  void *p1 = NULL, *p2 = NULL, *p3 = NULL, *p4 = NULL;
  CHECK(codemem_add(m, nops, sizeof nops, &p1) == AF_OK);
  CHECK(codemem_seal(m) == AF_OK);
  ((sysv_v)p1)();
  codemem_free(m);
  if (MODE == CODEMEM_DUAL) {
    const volatile uint8_t *q = p1;
    int stale = 0;
    for (size_t i = 0; i < sizeof nops; i++)
      stale += q[i] != 0xCC;
    CHECKF(stale == 0, "%d bytes of freed code left", stale);
  }
  /* a stale pointer traps (a forked child has no DUAL pooled batch mapped at all: SIGSEGV) */
  int sig = child_signal(exec_at, p1);
  CHECKF(sig == no_code_signal() || sig == SIGSEGV, "%s: a stale call ended with %d", mode_name(),
         sig);
  m = new_mem(0);
  CHECK(codemem_add(m, ret2, sizeof ret2, &p2) == AF_OK);
  CHECK(codemem_add(m, ret3, sizeof ret3, &p3) == AF_OK);
  CHECK(codemem_add(m, ret4, sizeof ret4, &p4) == AF_OK);
  CHECKF(p2 == p1, "%s: the freed batch is reused (%p, %p)", mode_name(), p1, p2);
  CHECK((uint8_t *)p3 == (uint8_t *)p2 + 16 && (uint8_t *)p4 == (uint8_t *)p2 + 32);
  CHECK(child_signal(exec_at, p2) == no_code_signal()); /* not sealed: no code yet */
  CHECK(codemem_seal(m) == AF_OK);
  const uint8_t *b = p2;
  int bad = 0;
  for (int i = 0; i < 3200; i++) {
    int code = i < 10 || (i >= 16 && i < 21) || (i >= 32 && i < 82);
    bad += code ? b[i] != 0xC3 : b[i] != 0xCC;
  }
  CHECKF(bad == 0, "%s: %d bytes differ from code / int3 after reuse", mode_name(), bad);
  ((sysv_v)p3)();
  codemem_free(m);
}

/* Code spread over several batches before one seal (the second allocation does not fit in
 * the first batch): every batch is sealed, and every function runs. */
static void test_spill_batches(void) {
  static uint8_t f1[3000], f2[3000];
  memset(f1, 0x90, sizeof f1);
  memset(f2, 0x90, sizeof f2);
  f1[sizeof f1 - 1] = f2[sizeof f2 - 1] = 0xC3;
  codemem *m = new_mem(4096);
  void *p1 = NULL, *p2 = NULL;
  CHECK(codemem_add(m, f1, sizeof f1, &p1) == AF_OK);
  CHECK(codemem_add(m, f2, sizeof f2, &p2) == AF_OK);
  CHECK(codemem_nbatches(m) == 2);
  CHECK(codemem_seal(m) == AF_OK);
  CHECK(codemem_is_sealed(m, p1) && codemem_is_sealed(m, p2));
  CHECK(af_jit_addr_is_code(p1) == 1 && af_jit_addr_is_code(p2) == 1);
  ((sysv_v)p1)();
  ((sysv_v)p2)();
  codemem_free(m);
}

/* Code written in place in the stage (codemem_next), as af_jit_compile lowers it: no copy when
 * it lands where codemem_next said, moved within the stage when it opens a fresh batch instead,
 * the stage on lent memory until it outgrows it (then the heap) and until the seal (then given
 * back: codemem never writes there again). Every function runs with exactly the bytes written. */
static void put_ret_imm(uint8_t *p, size_t n, int v) { /* n - 6 nops, mov eax, v; ret */
  memset(p, 0x90, n - 6);
  p[n - 6] = 0xB8;
  memcpy(p + n - 5, &v, 4);
  p[n - 1] = 0xC3;
}
static void test_in_place(void) {
  uint8_t lent[512];
  /* the codemem itself in the caller's memory too (codemem_new_in; freeing it must not free
   * that: an invalid free would abort) */
  codemem_storage st;
  codemem *m = NULL;
  CHECK(codemem_new_in(&m, &st, 4096, MODE) == AF_OK && (void *)m == (void *)&st &&
        codemem_get_mode(m) == MODE);
  codemem_stage_lend(m, lent, sizeof lent);
  uint8_t *p = NULL;
  size_t room = 0;
  void *w1 = NULL, *w2 = NULL, *w3 = NULL, *w4 = NULL;
  /* 1: in the lent stage, placed without a copy */
  CHECK(codemem_next(m, 64, &p, &room) == AF_OK && room >= 64);
  CHECKF(p >= lent && p + room <= lent + sizeof lent, "%s: the stage is not the lent memory",
         mode_name());
  put_ret_imm(p, 6, 101);
  CHECK(codemem_add(m, p, 6, &w1) == AF_OK);
  /* 2: more than the lent memory holds: the stage moves to the heap, code staged so far too */
  CHECK(codemem_next(m, 2001, &p, &room) == AF_OK && room >= 2001);
  CHECK(p < lent || p >= lent + sizeof lent);
  put_ret_imm(p, 2001, 102);
  CHECK(codemem_add(m, p, 2001, &w2) == AF_OK);
  CHECK((uint8_t *)w2 == (uint8_t *)w1 + 16 && codemem_nbatches(m) == 1);
  /* 3: written where the open batch would take it, but too long for it: a fresh batch, the
   * code moved within the stage (to the end of the last one's image, 2017, from 2032) */
  CHECK(codemem_next(m, 3000, &p, &room) == AF_OK && room >= 3000);
  put_ret_imm(p, 3000, 103);
  CHECK(codemem_add(m, p, 3000, &w3) == AF_OK);
  CHECK(codemem_nbatches(m) == 2);
  /* 4: a copy from outside the stage, as before */
  uint8_t out[6];
  put_ret_imm(out, 6, 104);
  CHECK(codemem_add(m, out, 6, &w4) == AF_OK && (uint8_t *)w4 == (uint8_t *)w3 + 3008);
  CHECK(child_signal(exec_at, w3) == no_code_signal()); /* not sealed: int3 */
  CHECK(codemem_seal(m) == AF_OK);
  CHECK(((sysv_v)w1)() == 101 && ((sysv_v)w2)() == 102 && ((sysv_v)w3)() == 103 &&
        ((sysv_v)w4)() == 104);
  CHECK(((uint8_t *)w1)[6] == 0xCC && ((uint8_t *)w2)[2000] == 0xC3);
  /* given back at the seal: staging more never touches the lent memory again */
  memset(lent, 0x5A, sizeof lent);
  codemem_stage_lend(m, NULL, 0); /* no-op */
  CHECK(codemem_next(m, 64, &p, &room) == AF_OK && (p < lent || p >= lent + sizeof lent));
  put_ret_imm(p, 6, 105);
  void *w5 = NULL;
  CHECK(codemem_add(m, p, 6, &w5) == AF_OK && codemem_seal(m) == AF_OK);
  CHECK(((sysv_v)w5)() == 105);
  int touched = 0;
  for (size_t i = 0; i < sizeof lent; i++)
    touched += lent[i] != 0x5A;
  CHECKF(touched == 0, "%s: %d bytes of the given-back stage written", mode_name(), touched);
  codemem_free(m);
  /* a lent stage freed without a seal is the lender's: codemem_free leaves it */
  m = new_mem(0);
  codemem_stage_lend(m, lent, sizeof lent);
  CHECK(codemem_next(m, 64, &p, &room) == AF_OK && p == lent);
  codemem_free(m);
}

/* fork(): what either process does to its code memory afterwards never shows in the other's,
 * in either mode (a DUAL batch is a shared mapping: codemem stops writing to those from
 * before the fork). The parent keeps a sealed function, a pooled (freed) batch, and an open
 * batch with staged code; the child frees the live codemem, seals the open one with code of
 * its own, and compiles more. Back in the parent, all three are as they were. */
static uint8_t ret_imm_code[6] = {0xB8, 0, 0, 0, 0, 0xC3}; /* mov eax, imm32; ret */
static void *ret_imm(codemem *m, int v) {
  memcpy(ret_imm_code + 1, &v, 4);
  void *p = NULL;
  CHECK(codemem_add(m, ret_imm_code, sizeof ret_imm_code, &p) == AF_OK);
  return p;
}

static void test_fork(void) {
  codemem *live = new_mem(0), *open = new_mem(0), *freed = new_mem(0);
  void *pl = ret_imm(live, 2);
  CHECK(codemem_seal(live) == AF_OK);
  void *po = ret_imm(open, 3); /* staged, not sealed */
  void *pf = ret_imm(freed, 1);
  CHECK(codemem_seal(freed) == AF_OK);
  codemem_free(freed); /* pf's batch is now in the pool */
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    int ok = 1;
    codemem_free(live);          /* inherited: must not touch the parent's pages */
    void *pc = ret_imm(open, 4); /* the inherited open batch, sealed here */
    ok &= codemem_seal(open) == AF_OK;
    ok &= ((sysv_v)po)() == 3 && ((sysv_v)pc)() == 4;
    codemem *mine = new_mem(0); /* new code: never in a batch the parent holds */
    void *pm = ret_imm(mine, 5);
    ok &= codemem_seal(mine) == AF_OK && ((sysv_v)pm)() == 5;
    _exit(ok ? 0 : 1);
  }
  int st = -1;
  CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
  CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: the child's code did not run right",
         mode_name());
  CHECKF(((sysv_v)pl)() == 2, "%s: the parent's live code changed", mode_name());
  if (MODE == CODEMEM_DUAL) {
    CHECKF(*(volatile uint8_t *)pf == 0xCC, "%s: the parent's pooled batch was written",
           mode_name());
    CHECKF(*(volatile uint8_t *)po == 0xCC && *((volatile uint8_t *)po + 16) == 0xCC,
           "%s: the child's seal wrote into the parent's open batch", mode_name());
  }
  void *p6 = ret_imm(open, 6);
  CHECK(codemem_seal(open) == AF_OK);
  CHECK(((sysv_v)po)() == 3 && ((sysv_v)p6)() == 6);
  CHECKF(wx_mappings() == 0, "%s: a mapping is writable and executable", mode_name());
  codemem_free(open);
  codemem_free(live);
  /* and later compiles work as before (the pool refills) */
  for (int i = 0; i < 40; i++) {
    codemem *m = new_mem(0);
    void *p = ret_imm(m, i);
    CHECK(codemem_seal(m) == AF_OK && ((sysv_v)p)() == i);
    codemem_free(m);
  }
}

int main(void) {
  codemem *probe = NULL;
  /* Debian 12's kernel has memfd_create: DUAL works there (the default unless a debugger,
   * Valgrind or ABIFUZZ_CODEMEM=flip says otherwise); FLIP is the fallback */
  int dual = codemem_new_mode(&probe, 0, CODEMEM_DUAL) == AF_OK;
  CHECKF(dual, "DUAL code memory does not work here (memfd_create failed?)");
  codemem_free(probe);
  CHECK(codemem_new_mode(&probe, 0, (codemem_mode)7) == AF_ERR_INVALID && !probe);
  codemem_mode modes[] = {CODEMEM_DUAL, CODEMEM_FLIP};
  for (int i = dual ? 0 : 1; i < 2; i++) {
    MODE = modes[i];
    test_calls();
    test_many();
    test_reuse();
    test_spill_batches();
    test_in_place();
    test_fork();
  }
  return check_done();
}
