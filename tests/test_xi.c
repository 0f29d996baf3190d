/* test_xi.c - xi's API semantics against Unicorn's, control flow, random programs, and its speed.
 */
#include <stdlib.h>
#include <time.h>

#include "check.h"
#include "x86_enc_internal.h"
#include "xi_prog.h"
#include "xi_testlib.h"

/* Every test runs the same code with the same hooks in xi and in Unicorn (the engine the
 * emulation leg used so far, whose semantics the leg relies on) and compares what the hooks
 * saw, the error, RIP and the registers: code hooks before the instruction, a RIP write or a
 * stop in a hook skipping it, until, count, timeout, the memory hooks' order, address, size,
 * value, RIP and RSP, invalid and protected accesses and fetches, contexts, int3, ud2, bytes
 * outside the table, #DE. Then the stack and control-flow rows of the table (which the native
 * runner of test_xi_diff cannot run) against Unicorn, and random straight-line programs
 * against the hardware (every row) and against Unicorn (the rows whose results Unicorn gets
 * right).
 *
 *   test_xi                 the tests
 *   test_xi bench [N [hooks|nohooks [MIX]]]  speed: a long random program with a read and a
 *                           write hook over its data and 100 one-address code hooks elsewhere
 *                           (or none), N runs of each mix (MIX 0 every row, 1 integer/moves
 *                           rows, 2 JIT-like; default all three) */

/* ---- one API over both engines ------------------------------------------------------------ */
typedef struct {
  int is_xi;
  xi *x;
  uc_engine *uc;
  /* the hook log */
  char log[8192];
  size_t loglen;
  uint64_t skip_at, skip_to, stop_at; /* code-hook actions (0: none) */
  int del_self;                       /* the code hook deletes itself on its first call */
  uc_hook hh_code;
  int log_rip; /* memory hooks log RIP (Unicorn's is stale after SSE/x87/xchg accesses) */
} eng;

static void e_open(eng *e, int is_xi) {
  memset(e, 0, sizeof *e);
  e->is_xi = is_xi;
  if (is_xi)
    xi_open(&e->x);
  else
    uc_open(UC_ARCH_X86, UC_MODE_64, &e->uc);
}
static void e_close(eng *e) {
  if (e->is_xi)
    xi_close(e->x);
  else
    uc_close(e->uc);
}
static uc_err e_map(eng *e, uint64_t a, size_t n, uint32_t p, void *ptr) {
  return e->is_xi ? xi_mem_map_ptr(e->x, a, n, p, ptr) : uc_mem_map_ptr(e->uc, a, n, p, ptr);
}
static uint64_t e_rd(eng *e, int id) {
  uint64_t v = 0;
  if (e->is_xi)
    xi_reg_read(e->x, id, &v);
  else
    uc_reg_read(e->uc, id, &v);
  return v;
}
static void e_wr(eng *e, int id, uint64_t v) {
  if (e->is_xi)
    xi_reg_write(e->x, id, &v);
  else
    uc_reg_write(e->uc, id, &v);
}
static uc_err e_hook(eng *e, uc_hook *hh, int type, void *cb, uint64_t b, uint64_t end) {
  uc_hook tmp;
  if (!hh) hh = &tmp; /* Unicorn needs one */
  return e->is_xi ? xi_hook_add(e->x, hh, type, cb, e, b, end)
                  : uc_hook_add(e->uc, hh, type, cb, e, b, end);
}
static uc_err e_start(eng *e, uint64_t b, uint64_t until, uint64_t t, size_t n) {
  return e->is_xi ? xi_emu_start(e->x, b, until, t, n) : uc_emu_start(e->uc, b, until, t, n);
}
static void e_stop(eng *e) {
  if (e->is_xi)
    xi_emu_stop(e->x);
  else
    uc_emu_stop(e->uc);
}

static void logf_(eng *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(eng *e, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (e->loglen < sizeof e->log)
    e->loglen += (size_t)vsnprintf(e->log + e->loglen, sizeof e->log - e->loglen, fmt, ap);
  va_end(ap);
}

static uint64_t base_a; /* addresses are logged relative to this */

static void cb_code(uc_engine *uc, uint64_t a, uint32_t size, void *u) {
  (void)uc;
  eng *e = u;
  logf_(e, "code +%llx %u rax=%llx\n", (unsigned long long)(a - base_a), size,
        (unsigned long long)e_rd(e, UC_X86_REG_RAX));
  if (e->skip_at && a == e->skip_at) e_wr(e, UC_X86_REG_RIP, e->skip_to);
  if (e->stop_at && a == e->stop_at) e_stop(e);
  if (e->del_self) {
    e->del_self = 0;
    if (e->is_xi)
      xi_hook_del(e->x, e->hh_code);
    else
      uc_hook_del(e->uc, e->hh_code);
  }
}
static void cb_block(uc_engine *uc, uint64_t a, uint32_t size, void *u) {
  (void)uc;
  eng *e = u;
  (void)size; /* Unicorn passes the translation block's size, xi 0 (xi.h) */
  logf_(e, "block +%llx\n", (unsigned long long)(a - base_a));
}
static void cb_mem(uc_engine *uc, uc_mem_type t, uint64_t a, int size, int64_t v, void *u) {
  (void)uc;
  eng *e = u;
  logf_(e, "%s +%llx %d v=%llx rsp=+%llx", t == UC_MEM_READ ? "read" : "write",
        (unsigned long long)(a - base_a), size, t == UC_MEM_WRITE ? (unsigned long long)v : 0ull,
        (unsigned long long)(e_rd(e, UC_X86_REG_RSP) - base_a));
  if (e->log_rip) logf_(e, " rip=+%llx", (unsigned long long)(e_rd(e, UC_X86_REG_RIP) - base_a));
  logf_(e, "\n");
}
static bool cb_inv(uc_engine *uc, uc_mem_type t, uint64_t a, int size, int64_t v, void *u) {
  (void)uc, (void)v;
  eng *e = u;
  logf_(e, "invalid %d +%llx %d rip=+%llx\n", (int)t, (unsigned long long)(a - base_a), size,
        (unsigned long long)(e_rd(e, UC_X86_REG_RIP) - base_a));
  return false;
}

/* ---- a memory layout both engines map: code (RX), stack+data (RW), read-only, write-only,
 * non-executable (R) pages, then an unmapped page ------------------------------------------- */
enum { P_CODE = 0, P_STACK = 2, P_RO = 4, P_WO = 5, P_NX = 6, P_HOLE = 7, NPAGES = 8 };
static uint8_t *mem;
static uint64_t mem_a;
#define PG(i) (mem_a + 4096u * (i))

static void map_all(eng *e) {
  CHECK(e_map(e, PG(P_CODE), 8192, UC_PROT_READ | UC_PROT_EXEC, mem) == UC_ERR_OK);
  CHECK(e_map(e, PG(P_STACK), 8192, UC_PROT_READ | UC_PROT_WRITE, mem + 4096 * P_STACK) ==
        UC_ERR_OK);
  CHECK(e_map(e, PG(P_RO), 4096, UC_PROT_READ, mem + 4096 * P_RO) == UC_ERR_OK);
  CHECK(e_map(e, PG(P_WO), 4096, UC_PROT_WRITE, mem + 4096 * P_WO) == UC_ERR_OK);
  CHECK(e_map(e, PG(P_NX), 4096, UC_PROT_READ, mem + 4096 * P_NX) == UC_ERR_OK);
}

/* Code: the program of the current test at page P_CODE (or at `at`). */
static x86_buf cb_;
static void code_begin(size_t off) {
  x86_buf_free(&cb_); /* the labels of the last program (its bytes are mem's) */
  x86_buf_init_fixed(&cb_, mem + off, 8192 - off);
}
static uint64_t here(size_t off) { return PG(P_CODE) + off + cb_.len; }

/* Runs the program in both engines with the same setup; compares logs, errors, RIP, GPRs.
 * setup(e) adds the hooks and registers. */
typedef void (*setup_fn)(eng *e);
enum { CMP_LOG = 1, CMP_RIP = 2, CMP_ALL = 3 };
static uint64_t last_rip;
static eng last_xi; /* the xi side of the last both() (closed), for its log */
static void both(const char *name, setup_fn setup, uint64_t begin, uint64_t until, uint64_t timeout,
                 size_t count, int cmp) {
  static uint8_t snap[4096 * NPAGES];
  memcpy(snap, mem, sizeof snap);
  eng e[2];
  uc_err err[2];
  uint64_t gpr[2][17];
  for (int k = 0; k < 2; k++) {
    memcpy(mem, snap, sizeof snap);
    e_open(&e[k], k);
    map_all(&e[k]);
    e_wr(&e[k], UC_X86_REG_RSP, PG(P_STACK) + 4096);
    e_wr(&e[k], UC_X86_REG_RBX, PG(P_STACK) + 4096 + 256);
    setup(&e[k]);
    err[k] = e_start(&e[k], begin, until, timeout, count);
    for (int i = 0; i < 16; i++)
      gpr[k][i] = e_rd(&e[k], ts_uc_gpr[i]);
    gpr[k][16] = e_rd(&e[k], UC_X86_REG_RIP);
  }
  CHECKF(err[0] == err[1], "%s: unicorn %d, xi %d", name, err[0], err[1]);
  if (!(cmp & CMP_RIP)) gpr[0][16] = gpr[1][16];
  CHECKF(!memcmp(gpr[0], gpr[1], sizeof gpr[0]), "%s: registers differ (rip uc +%llx xi +%llx)",
         name, (unsigned long long)(gpr[0][16] - base_a),
         (unsigned long long)(gpr[1][16] - base_a));
  if (cmp & CMP_LOG)
    CHECKF(!strcmp(e[0].log, e[1].log), "%s: hook logs differ:\n-- unicorn\n%s-- xi\n%s", name,
           e[0].log, e[1].log);
  for (int k = 0; k < 2; k++)
    e_close(&e[k]);
  last_xi = e[1];
  last_rip = gpr[1][16];
}

/* ---- the semantics tests -------------------------------------------------------------------- */
static uint64_t a1, a2, a3, a4; /* instruction addresses of the current program */

static void setup_code(eng *e) {
  e_hook(e, NULL, UC_HOOK_CODE, cb_code, 1, 0);
  e_hook(e, NULL, UC_HOOK_BLOCK, cb_block, 1, 0);
}
static void setup_one(eng *e) { e_hook(e, NULL, UC_HOOK_CODE, cb_code, a2, a2); }
static void setup_skip(eng *e) {
  e->skip_at = a2, e->skip_to = a3;
  setup_code(e);
}
static void setup_stop(eng *e) {
  e->stop_at = a3;
  setup_code(e);
}
static void setup_del(eng *e) {
  e->del_self = 1;
  e_hook(e, &e->hh_code, UC_HOOK_CODE, cb_code, 1, 0);
}
static void setup_mem(eng *e) {
  e_hook(e, NULL, UC_HOOK_MEM_READ, cb_mem, PG(P_STACK), PG(P_STACK) + 8191);
  e_hook(e, NULL, UC_HOOK_MEM_WRITE, cb_mem, PG(P_STACK), PG(P_STACK) + 8191);
  e_hook(e, NULL, UC_HOOK_MEM_INVALID, cb_inv, 1, 0);
  e_wr(e, UC_X86_REG_RAX, 0x1122334455667788ull);
  e_wr(e, UC_X86_REG_RCX, 0x0102030405060708ull);
}
/* Two read and two write hooks (xi walks its list instead of calling its one hook of a kind
 * directly), then, after a deletion, one of each again. */
static void setup_mem2(eng *e) {
  uc_hook del;
  e_hook(e, NULL, UC_HOOK_MEM_READ, cb_mem, PG(P_STACK), PG(P_STACK) + 8191);
  e_hook(e, NULL, UC_HOOK_MEM_WRITE, cb_mem, PG(P_STACK), PG(P_STACK) + 8191);
  e_hook(e, NULL, UC_HOOK_MEM_READ, cb_mem, PG(P_STACK) + 4096 + 240, PG(P_STACK) + 4096 + 263);
  e_hook(e, &del, UC_HOOK_MEM_WRITE, cb_mem, 1, 0);
  e_hook(e, NULL, UC_HOOK_MEM_INVALID, cb_inv, 1, 0);
  e_wr(e, UC_X86_REG_RAX, 0x1122334455667788ull);
  e_wr(e, UC_X86_REG_RCX, 0x0102030405060708ull);
}
static void setup_mem_del(eng *e) {
  uc_hook del;
  e_hook(e, NULL, UC_HOOK_MEM_READ, cb_mem, PG(P_STACK), PG(P_STACK) + 8191);
  e_hook(e, &del, UC_HOOK_MEM_WRITE, cb_mem, 1, 0);
  e_hook(e, NULL, UC_HOOK_MEM_WRITE, cb_mem, PG(P_STACK) + 4096, PG(P_STACK) + 8191);
  if (e->is_xi)
    xi_hook_del(e->x, del);
  else
    uc_hook_del(e->uc, del);
  e_wr(e, UC_X86_REG_RAX, 0x1122334455667788ull);
  e_wr(e, UC_X86_REG_RCX, 0x0102030405060708ull);
}
static void setup_inv(eng *e) {
  e_hook(e, NULL, UC_HOOK_MEM_INVALID, cb_inv, 1, 0);
  e_hook(e, NULL, UC_HOOK_CODE, cb_code, 1, 0);
  e_wr(e, UC_X86_REG_RSI, PG(P_RO) + 8);
  e_wr(e, UC_X86_REG_RDI, PG(P_WO) + 8);
  e_wr(e, UC_X86_REG_R8, PG(P_HOLE) + 8);
  e_wr(e, UC_X86_REG_R9, PG(P_NX));
}

static void semantics(void) {
  base_a = mem_a;
  /* a straight run: mov eax,1 / mov eax,2 (a2) / add eax,3 (a3) / nop (a4) / nop */
  code_begin(0);
  a1 = here(0);
  x86_emit2(&cb_, X86_MOV, x86_gpr(AF_RAX, 4), x86_imm(1));
  a2 = here(0);
  x86_emit2(&cb_, X86_MOV, x86_gpr(AF_RAX, 4), x86_imm(2));
  a3 = here(0);
  x86_emit2(&cb_, X86_ADD, x86_gpr(AF_RAX, 4), x86_imm(3));
  a4 = here(0);
  x86_emit0(&cb_, X86_NOP);
  uint64_t end = here(0);
  x86_emit0(&cb_, X86_NOP);
  both("code hooks before each instruction", setup_code, a1, end, 0, 0, CMP_ALL);
  both("one-address code hook", setup_one, a1, end, 0, 0, CMP_ALL);
  both("a RIP write in a hook skips the instruction", setup_skip, a1, end, 0, 0, CMP_ALL);
  both("stop in a hook", setup_stop, a1, end, 0, 0, CMP_ALL);
  both("until is not executed", setup_code, a1, a3, 0, 0, CMP_ALL);
  both("count", setup_code, a1, end, 0, 2, CMP_ALL);
  /* Unicorn 2.0.1 keeps calling a hook that deleted itself (for the blocks it translated
   * already); xi stops at once */
  both("a hook deleting itself", setup_del, a1, end, 0, 0, CMP_RIP);
  CHECKF(!strcmp(last_xi.log, "code +0 5 rax=0\n"), "xi: %s", last_xi.log);
  {
    /* the xi-only parts: stats, and that the run above really skipped (rax 1 + 3) */
    eng e;
    e_open(&e, 1);
    map_all(&e);
    setup_skip(&e);
    CHECK(e_start(&e, a1, end, 0, 0) == UC_ERR_OK);
    CHECK(e_rd(&e, UC_X86_REG_RAX) == 4);
    xi_stats st;
    xi_stats_get(e.x, &st);
    CHECK(st.runs == 1 && st.insns == 3 && !st.last_count_hit && !st.last_timed_out);
    CHECK(e_start(&e, a1, end, 0, 2) == UC_ERR_OK);
    xi_stats_get(e.x, &st);
    CHECK(st.last_count_hit == 1 && e_rd(&e, UC_X86_REG_RIP) == a3);
    e_close(&e);
  }

  /* the same on the movs xi runs through its fast path (xi.c fast_path: 89/8B/8D/B8+r) */
  code_begin(0);
  a1 = here(0);
  x86_emit_movimm(&cb_, AF_RAX, 8, 0x123456789abcll);
  a2 = here(0);
  x86_emit2(&cb_, X86_MOV, x86_gpr(AF_RCX, 8), x86_gpr(AF_RAX, 8));
  a3 = here(0);
  x86_emit2(&cb_, X86_MOV, x86_base(8, AF_RBX, -16), x86_gpr(AF_RCX, 8));
  x86_emit2(&cb_, X86_MOV, x86_gpr(AF_RDX, 4), x86_base(4, AF_RBX, -14));
  x86_emit2(&cb_, X86_MOV, x86_base(4, AF_RBX, -40), x86_gpr(AF_RDX, 4));
  x86_emit2(&cb_, X86_LEA, x86_gpr(AF_RSI, 8), x86_mem(0, AF_RBX, AF_RCX, 2, 8));
  x86_emit2(&cb_, X86_LEA, x86_gpr(AF_RDI, 4), x86_rip(0, -100));
  x86_emit2(&cb_, X86_MOV, x86_gpr(AF_R9, 4), x86_gpr(AF_RSI, 4));
  x86_emit2(&cb_, X86_MOV, x86_gpr(AF_R8, 4), x86_imm(-5));
  a4 = here(0);
  x86_emit2(&cb_, X86_MOV, x86_gpr(AF_R10, 8), x86_mem(8, AF_REG_NONE, AF_RBX, 1, -8));
  end = here(0);
  x86_emit0(&cb_, X86_NOP);
  both("fast-path movs: code hooks", setup_code, a1, end, 0, 0, CMP_ALL);
  both("fast-path movs: a RIP write skips", setup_skip, a1, end, 0, 0, CMP_ALL);
  both("fast-path movs: stop", setup_stop, a1, end, 0, 0, CMP_ALL);
  both("fast-path movs: count", setup_code, a1, end, 0, 5, CMP_ALL);
  both("fast-path movs: memory hooks", setup_mem, a1, end, 0, 0, CMP_ALL);

  /* timeout: jmp $ */
  code_begin(0);
  a1 = here(0);
  x86_emit1(&cb_, X86_JMP, x86_rel(1, -2));
  {
    eng e;
    e_open(&e, 1);
    map_all(&e);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK(e_start(&e, a1, 0, 20000, 0) == UC_ERR_OK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    xi_stats st;
    xi_stats_get(e.x, &st);
    CHECKF(st.last_timed_out == 1 && ms >= 20 && ms < 2000, "timeout after %.1f ms", ms);
    CHECK(e_rd(&e, UC_X86_REG_RIP) == a1);
    e_close(&e);
  }

  /* memory hooks: push rax / pop rdx / mov [rbx - 8], rcx / add [rbx - 8], rax /
   * movups [rbx], xmm0 / call l / l: add rsp, 8 / xchg [rbx], eax / fld + fstp m80 */
  code_begin(0);
  uint64_t at[16];
  int na = 0;
#define AT at[na++] = here(0)
  a1 = here(0);
  AT, x86_emit1(&cb_, X86_PUSH, x86_gpr(AF_RAX, 8));
  AT, x86_emit1(&cb_, X86_POP, x86_gpr(AF_RDX, 8));
  AT, x86_emit2(&cb_, X86_MOV, x86_base(8, AF_RBX, -8), x86_gpr(AF_RCX, 8));
  AT, x86_emit2(&cb_, X86_ADD, x86_base(8, AF_RBX, -8), x86_gpr(AF_RAX, 8));
  AT, x86_emit2(&cb_, X86_MOVUPS, x86_base(16, AF_RBX, 0), x86_xmm(AF_XMM0));
  int l = x86_label(&cb_);
  AT, x86_call_label(&cb_, l);
  x86_bind(&cb_, l);
  AT, x86_emit2(&cb_, X86_ADD, x86_gpr(AF_RSP, 8), x86_imm(8));
  AT, x86_emit2(&cb_, X86_XCHG, x86_base(4, AF_RBX, 0), x86_gpr(AF_RAX, 4));
  AT, x86_emit1(&cb_, X86_PUSH, x86_base(8, AF_RBX, -8));
  AT, x86_emit1(&cb_, X86_FLD, x86_base(10, AF_RBX, 16));
  AT, x86_emit1(&cb_, X86_FSTP, x86_base(10, AF_RBX, 32));
  AT, x86_emit2(&cb_, X86_MOVQ, x86_base(8, AF_RBX, 48), x86_xmm(AF_XMM1));
#undef AT
  end = here(0);
  x86_emit0(&cb_, X86_NOP);
  both("memory hooks", setup_mem, a1, end, 0, 0, CMP_ALL);
  both("memory hooks, two of each kind", setup_mem2, a1, end, 0, 0, CMP_ALL);
  both("memory hooks, one write hook left after a deletion", setup_mem_del, a1, end, 0, 0, CMP_ALL);
  {
    /* xi's RIP in each access's hook: its instruction (accesses per instruction, in order) */
    static const int per[] = {1, 1, 1, 2, 2, 1, 0, 2, 2, 2, 2, 1};
    char want[2048] = "", *p = want;
    for (int i = 0; i < 12; i++)
      for (int k = 0; k < per[i]; k++)
        p += sprintf(p, "rip=+%llx\n", (unsigned long long)(at[i] - base_a));
    eng e;
    e_open(&e, 1);
    map_all(&e);
    e_wr(&e, UC_X86_REG_RSP, PG(P_STACK) + 4096);
    e_wr(&e, UC_X86_REG_RBX, PG(P_STACK) + 4096 + 256);
    setup_mem(&e);
    e.log_rip = 1;
    CHECK(e_start(&e, a1, end, 0, 0) == UC_ERR_OK);
    char got[2048] = "", *q = got;
    for (char *line = strstr(e.log, "rip="); line; line = strstr(line + 1, "rip=")) {
      size_t n = strcspn(line, "\n");
      memcpy(q, line, n), q += n, *q++ = '\n', *q = 0;
    }
    CHECKF(!strcmp(want, got), "xi's RIP in memory hooks:\n%s-- want\n%s", got, want);
    e_close(&e);
  }

  /* invalid accesses, each its own run */
  struct {
    const char *name;
    x86_inst in;
  } bad[] = {
      {"read of an unmapped page", x86_inst2(X86_MOV, x86_gpr(AF_RAX, 8), x86_base(8, AF_R8, 0))},
      {"write to an unmapped page", x86_inst2(X86_MOV, x86_base(4, AF_R8, 0), x86_gpr(AF_RAX, 4))},
      {"write to a read-only page", x86_inst2(X86_MOV, x86_base(8, AF_RSI, 0), x86_gpr(AF_RAX, 8))},
      {"read of a write-only page", x86_inst2(X86_MOV, x86_gpr(AF_RAX, 8), x86_base(8, AF_RDI, 0))},
      {"read-modify-write of a read-only page",
       x86_inst2(X86_ADD, x86_base(8, AF_RSI, 0), x86_gpr(AF_RAX, 8))},
      {"an access straddling into a hole",
       x86_inst2(X86_MOV, x86_gpr(AF_RAX, 8), x86_base(8, AF_R8, -4100))},
      {"pop from an unmapped stack", x86_inst1(X86_POP, x86_gpr(AF_RAX, 8))},
      {"push to a read-only stack", x86_inst1(X86_PUSH, x86_gpr(AF_RAX, 8))},
      {"fetch from a non-executable page", x86_inst1(X86_JMP, x86_gpr(AF_R9, 8))},
      {"fetch from an unmapped page", x86_inst1(X86_JMP, x86_gpr(AF_R8, 8))},
      {"int3", x86_inst0(X86_INT3)},
      {"ud2", x86_inst0(X86_UD2)},
      {"div by zero", x86_inst1(X86_DIV, x86_gpr(AF_R10, 8))},
      {"idiv overflow", x86_inst1(X86_IDIV, x86_gpr(AF_R11, 1))},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    code_begin(0);
    a1 = here(0);
    x86_emit2(&cb_, X86_MOV, x86_gpr(AF_R10, 4), x86_imm(0));
    x86_emit2(&cb_, X86_MOV, x86_gpr(AF_R11, 4), x86_imm(-1));
    x86_emit2(&cb_, X86_MOV, x86_gpr(AF_RAX, 4), x86_imm(-128));
    if (strstr(bad[i].name, "stack")) /* rsp at the read-only page or the hole */
      x86_emit2(&cb_, X86_MOV, x86_gpr(AF_RSP, 8),
                x86_gpr(strstr(bad[i].name, "pop") ? AF_R8 : AF_RSI, 8));
    x86_emit(&cb_, &bad[i].in);
    end = here(0);
    x86_emit0(&cb_, X86_NOP);
    /* int3: Unicorn leaves RIP after it (the trap's), xi at it (xi.h); ud2: Unicorn calls the
     * code hook with a garbage size, xi calls none for bytes it does not decode */
    bool i3 = bad[i].in.op == X86_INT3, u2 = bad[i].in.op == X86_UD2;
    both(bad[i].name, setup_inv, a1, end, 0, 0, i3 ? CMP_LOG : u2 ? CMP_RIP : CMP_ALL);
    if (i3 || u2)
      CHECKF(last_rip == end - (i3 ? 1 : 2), "%s: xi rip +%llx", bad[i].name,
             (unsigned long long)(last_rip - base_a));
  }
  /* a fetch running off the end of the code into the hole: code at the end of P_CODE + 1 */
  memset(mem + 8192 - 3, 0x90, 3);
  /* Unicorn translates the block first and faults at its start before running any of it; xi
   * runs the three nops and faults at the first byte it cannot fetch (the hardware's) */
  both("fetch running into an unmapped page", setup_inv, PG(P_CODE) + 8192 - 3, 0, 0, 0, 0);
  CHECKF(last_rip == PG(P_CODE) + 8192 && strstr(last_xi.log, "code +1fff 1") &&
             strstr(last_xi.log, "invalid 24 +2000 1 rip=+2000"),
         "fetch into the hole: %s", last_xi.log);
  /* bytes outside the table: syscall, a lock prefix, 16-bit push, rcl */
  static const uint8_t outside[][4] = {
      {0x0F, 0x05}, {0xF0, 0x01, 0xC0}, {0x66, 0x50}, {0xD1, 0xD0}, {0x0F, 0xA2}};
  for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++) {
    memset(mem, 0x90, 16);
    memcpy(mem + 4, outside[i], 4);
    eng e;
    e_open(&e, 1);
    map_all(&e);
    uc_err er = e_start(&e, PG(P_CODE), PG(P_CODE) + 15, 0, 0);
    CHECKF(er == UC_ERR_INSN_INVALID && e_rd(&e, UC_X86_REG_RIP) == PG(P_CODE) + 4,
           "bytes %02x %02x: err %d", outside[i][0], outside[i][1], er);
    e_close(&e);
  }

  /* jumps, jcc both ways, call/ret: block hooks after each transfer */
  code_begin(0);
  a1 = here(0);
  int l1 = x86_label(&cb_), l2 = x86_label(&cb_), fn = x86_label(&cb_);
  x86_emit2(&cb_, X86_CMP, x86_gpr(AF_RAX, 4), x86_gpr(AF_RAX, 4));
  x86_jcc_label(&cb_, X86_CC_NE, l1); /* not taken */
  x86_jcc_label(&cb_, X86_CC_E, l1);  /* taken */
  x86_emit0(&cb_, X86_UD2);
  x86_bind(&cb_, l1);
  x86_call_label(&cb_, fn);
  x86_jmp_label(&cb_, l2);
  x86_bind(&cb_, fn);
  x86_emit2(&cb_, X86_MOV, x86_gpr(AF_RAX, 4), x86_imm(7));
  x86_emit0(&cb_, X86_RET);
  x86_bind(&cb_, l2);
  end = here(0);
  x86_emit0(&cb_, X86_NOP);
  CHECK(x86_buf_finish(&cb_) == AF_OK);
  both("control transfers and block hooks", setup_code, a1, end, 0, 0, CMP_ALL);

  /* std (the df-left-set mutant's, outside the table) and cld */
  code_begin(0);
  a1 = here(0);
  x86_emit_bytes(&cb_, "\xFD", 1);
  a2 = here(0);
  x86_emit0(&cb_, X86_CLD);
  end = here(0);
  {
    eng e;
    e_open(&e, 1);
    map_all(&e);
    CHECK(e_start(&e, a1, a2, 0, 0) == UC_ERR_OK && (e_rd(&e, UC_X86_REG_RFLAGS) & 0x400));
    CHECK(e_start(&e, a2, end, 0, 0) == UC_ERR_OK && !(e_rd(&e, UC_X86_REG_RFLAGS) & 0x400));
    e_close(&e);
  }

  /* contexts */
  {
    eng e;
    e_open(&e, 1);
    xi_context *c;
    CHECK(xi_context_alloc(e.x, &c) == UC_ERR_OK);
    e_wr(&e, UC_X86_REG_RAX, 5);
    e_wr(&e, UC_X86_REG_FPCW, 0x27f);
    uint8_t st[16] = {1, 2, 3, 4, 5, 6, 7, 0x80, 0xff, 0x3f};
    xi_reg_write(e.x, UC_X86_REG_ST0, st);
    CHECK(xi_context_save(e.x, c) == UC_ERR_OK);
    e_wr(&e, UC_X86_REG_RAX, 6);
    e_wr(&e, UC_X86_REG_FPCW, 0x37f);
    e_wr(&e, UC_X86_REG_FPTAG, 0xffff);
    CHECK(xi_context_restore(e.x, c) == UC_ERR_OK);
    uint8_t back[16] = {0};
    xi_reg_read(e.x, UC_X86_REG_ST0, back);
    CHECK(e_rd(&e, UC_X86_REG_RAX) == 5 && e_rd(&e, UC_X86_REG_FPCW) == 0x27f);
    CHECK(!memcmp(st, back, 10) && e_rd(&e, UC_X86_REG_FPTAG) == 0xfffc);
    CHECK(xi_reg_read(e.x, UC_X86_REG_CR0, back) == UC_ERR_ARG);
    xi_context_free(c);
    e_close(&e);
  }
  /* registers as Unicorn keeps them: RFLAGS bit 1, FPSW TOP, FPTAG classes, ST vs FP */
  {
    eng e[2];
    for (int k = 0; k < 2; k++) {
      e_open(&e[k], k);
      /* a fresh Unicorn has FPCW 0, MXCSR 0 and every x87 register tagged valid; xi starts as
       * the hardware after reset (0x37f, 0x1f80, all empty): set them alike first */
      e_wr(&e[k], UC_X86_REG_FPCW, 0x37f);
      e_wr(&e[k], UC_X86_REG_MXCSR, 0x1f80);
      e_wr(&e[k], UC_X86_REG_FPTAG, 0xffff);
      e_wr(&e[k], UC_X86_REG_RFLAGS, 0x8d5);
      e_wr(&e[k], UC_X86_REG_FPSW, 0x3000 | 0x21);
      uint8_t v[4][16] = {{0},
                          {0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f},
                          {1},
                          {0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0x7f}};
      for (int i = 0; i < 4; i++) {
        if (k)
          xi_reg_write(e[k].x, UC_X86_REG_ST0 + i, v[i]);
        else
          uc_reg_write(e[k].uc, UC_X86_REG_ST0 + i, v[i]);
      }
    }
    /* (FPTAG: Unicorn's ST writes leave the tags alone, xi's tag the register valid) */
    static const int ids[] = {UC_X86_REG_RFLAGS, UC_X86_REG_FPSW, UC_X86_REG_FPCW,
                              UC_X86_REG_MXCSR};
    CHECKF(e_rd(&e[1], UC_X86_REG_FPTAG) == 0x1ffa, "xi fptag %llx",
           (unsigned long long)e_rd(&e[1], UC_X86_REG_FPTAG));
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
      CHECKF(e_rd(&e[0], ids[i]) == e_rd(&e[1], ids[i]), "reg %d: unicorn %llx xi %llx", ids[i],
             (unsigned long long)e_rd(&e[0], ids[i]), (unsigned long long)e_rd(&e[1], ids[i]));
    for (int i = 0; i < 8; i++) {
      uint8_t p[16] = {0}, q[16] = {0};
      uc_reg_read(e[0].uc, UC_X86_REG_FP0 + i, p);
      xi_reg_read(e[1].x, UC_X86_REG_FP0 + i, q);
      CHECKF(!memcmp(p, q, 10), "fp%d", i);
    }
    for (int k = 0; k < 2; k++)
      e_close(&e[k]);
  }
}

/* ---- xi's own API: opcode-filtered code hooks, the register file ----------------------------- */
static int hook_calls; /* cb_count's (the speed section's) */
static void cb_count(uc_engine *uc, uint64_t a, uint32_t size, void *u);
static char ops_log[1024];
static void cb_ops(uc_engine *uc, uint64_t a, uint32_t size, void *u) {
  (void)uc, (void)u;
  size_t n = strlen(ops_log);
  snprintf(ops_log + n, sizeof ops_log - n, "+%llx/%u ", (unsigned long long)(a - base_a), size);
}
static xi_regs *skip_regs;
static uint64_t skip_from, skip_to;
static void cb_regs_skip(uc_engine *uc, uint64_t a, uint32_t size, void *u) {
  (void)uc, (void)size, (void)u;
  if (a == skip_from) skip_regs->rip = skip_to; /* through the register file: skips it */
}

static void xi_api(void) {
  base_a = mem_a;
  /* mov eax, 1 (B8: the fast path) / add eax, 2 (83) / movups xmm0, [rbx] (0F 10: fast) /
   * mov ecx, eax (89: fast) / add eax, 3 / nop */
  code_begin(0);
  uint64_t at[6];
  at[0] = here(0);
  x86_emit2(&cb_, X86_MOV, x86_gpr(AF_RAX, 4), x86_imm(1));
  at[1] = here(0);
  x86_emit2(&cb_, X86_ADD, x86_gpr(AF_RAX, 4), x86_imm(2));
  at[2] = here(0);
  x86_emit2(&cb_, X86_MOVUPS, x86_xmm(AF_XMM0), x86_base(16, AF_RBX, 0));
  at[3] = here(0);
  x86_emit2(&cb_, X86_MOV, x86_gpr(AF_RCX, 4), x86_gpr(AF_RAX, 4));
  at[4] = here(0);
  x86_emit2(&cb_, X86_ADD, x86_gpr(AF_RAX, 4), x86_imm(3));
  at[5] = here(0);
  x86_emit0(&cb_, X86_NOP);
  uint64_t end = here(0);
  uint8_t op_add = mem[at[1] - mem_a], op_mov = mem[at[0] - mem_a];
  CHECK(op_add == 0x83 && op_mov == 0xB8);
  struct {
    const char *name;
    uint16_t ops[4];
    size_t n;
    uint64_t begin, hend;
    int expect[6]; /* which instructions the hook sees */
  } t[] = {
      {"every address, the add opcode", {0x83}, 1, 1, 0, {0, 1, 0, 0, 1, 0}},
      {"every address, mov imm and movups (0F 10)", {0xB8, 0x110}, 2, 1, 0, {1, 0, 1, 0, 0, 0}},
      {"every address, mov r/m and nop", {0x89, 0x90}, 2, 1, 0, {0, 0, 0, 1, 0, 1}},
      {"every address, no opcode", {0}, 0, 1, 0, {0, 0, 0, 0, 0, 0}},
      {"a range, the add opcode", {0x83}, 1, 0, 0, {0, 0, 0, 0, 1, 0}},
      {"one address, the add opcode", {0x83}, 1, 0, 0, {0, 1, 0, 0, 0, 0}},
  };
  t[4].begin = at[2], t[4].hend = at[5];
  t[5].begin = t[5].hend = at[1];
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    eng e;
    e_open(&e, 1);
    map_all(&e);
    e_wr(&e, UC_X86_REG_RBX, PG(P_STACK) + 256);
    uc_hook hh;
    CHECK(xi_hook_add(e.x, &hh, UC_HOOK_CODE, cb_ops, NULL, t[i].begin, t[i].hend) == UC_ERR_OK);
    CHECK(xi_hook_code_ops(e.x, hh, (const uint16_t[]){0x90}, 1) == UC_ERR_OK); /* replaced: */
    CHECK(xi_hook_code_ops(e.x, hh, t[i].ops, t[i].n) == UC_ERR_OK);
    ops_log[0] = 0;
    CHECK(e_start(&e, at[0], end, 0, 0) == UC_ERR_OK);
    char want[1024] = "";
    for (int k = 0; k < 6; k++)
      if (t[i].expect[k])
        snprintf(want + strlen(want), sizeof want - strlen(want), "+%llx/%u ",
                 (unsigned long long)(at[k] - base_a),
                 (unsigned)((k < 5 ? at[k + 1] : end) - at[k]));
    CHECKF(!strcmp(ops_log, want), "%s: hook saw %s, want %s", t[i].name, ops_log, want);
    CHECK(e_rd(&e, UC_X86_REG_RAX) == 6 && e_rd(&e, UC_X86_REG_RCX) == 3);
    e_close(&e);
  }
  {
    /* the errors: not a code hook, an opcode past 0x1FF, an unknown or deleted handle; an
     * unfiltered hook next to a filtered one still sees everything */
    eng e;
    e_open(&e, 1);
    map_all(&e);
    uc_hook hm, hc, hd, hall;
    CHECK(xi_hook_add(e.x, &hm, UC_HOOK_MEM_READ, cb_mem, &e, 1, 0) == UC_ERR_OK);
    CHECK(xi_hook_add(e.x, &hc, UC_HOOK_CODE, cb_ops, NULL, 1, 0) == UC_ERR_OK);
    CHECK(xi_hook_add(e.x, &hd, UC_HOOK_CODE, cb_ops, NULL, 1, 0) == UC_ERR_OK);
    CHECK(xi_hook_code_ops(e.x, hm, (const uint16_t[]){0x83}, 1) == UC_ERR_ARG);
    CHECK(xi_hook_code_ops(e.x, hc, (const uint16_t[]){0x200}, 1) == UC_ERR_ARG);
    CHECK(xi_hook_code_ops(e.x, (uc_hook)12345, (const uint16_t[]){0x83}, 1) == UC_ERR_ARG);
    CHECK(xi_hook_del(e.x, hd) == UC_ERR_OK);
    CHECK(xi_hook_code_ops(e.x, hd, (const uint16_t[]){0x83}, 1) == UC_ERR_ARG);
    CHECK(xi_hook_code_ops(e.x, hc, (const uint16_t[]){0x83}, 1) == UC_ERR_OK);
    CHECK(xi_hook_add(e.x, &hall, UC_HOOK_CODE, cb_count, NULL, 1, 0) == UC_ERR_OK);
    hook_calls = 0;
    ops_log[0] = 0;
    e_wr(&e, UC_X86_REG_RBX, PG(P_STACK) + 256);
    CHECK(e_start(&e, at[0], end, 0, 0) == UC_ERR_OK);
    CHECKF(hook_calls == 6, "the unfiltered hook: %d calls", hook_calls);
    int nfiltered = 0;
    for (const char *c = ops_log; (c = strchr(c, '/')); c++)
      nfiltered++;
    CHECKF(nfiltered == 2, "the filtered hook: %s", ops_log);
    hook_calls = 0;
    e_close(&e);
  }
  {
    /* the register file: the same registers as xi_reg_read / xi_reg_write, and a RIP written
     * through it from a code hook skips the instruction */
    eng e;
    e_open(&e, 1);
    map_all(&e);
    xi_regs *r = xi_regs_get(e.x);
    CHECK(r != NULL);
    for (int i = 0; i < 16; i++) {
      e_wr(&e, ts_uc_gpr[i], 0x1000 + (uint64_t)i);
      CHECKF(r->gpr[i] == 0x1000 + (uint64_t)i, "gpr %d", i);
      r->gpr[i] = 0x2000 + (uint64_t)i;
      CHECKF(e_rd(&e, ts_uc_gpr[i]) == 0x2000 + (uint64_t)i, "gpr %d", i);
    }
    uint8_t x16[16], y16[16];
    for (int i = 0; i < 16; i++)
      x16[i] = (uint8_t)(0xa0 + i);
    CHECK(xi_reg_write(e.x, UC_X86_REG_XMM7, x16) == UC_ERR_OK);
    CHECK(!memcmp(r->xmm[7], x16, 16));
    r->xmm[3][5] = 0x5a;
    CHECK(xi_reg_read(e.x, UC_X86_REG_XMM3, y16) == UC_ERR_OK && y16[5] == 0x5a);
    CHECK(r->rflags == 2 && r->mxcsr == 0x1f80 && r->fcw == 0x37f);
    e_wr(&e, UC_X86_REG_RBX, PG(P_STACK) + 256);
    skip_regs = r, skip_from = at[1], skip_to = at[2]; /* skip add eax, 2 */
    CHECK(xi_hook_add(e.x, NULL, UC_HOOK_CODE, cb_regs_skip, NULL, 1, 0) == UC_ERR_OK);
    CHECK(e_start(&e, at[0], end, 0, 0) == UC_ERR_OK);
    CHECKF(e_rd(&e, UC_X86_REG_RAX) == 4 && r->rip == end, "rax %llu",
           (unsigned long long)e_rd(&e, UC_X86_REG_RAX));
    e_close(&e);
  }
}

/* ---- stack and control-flow rows against Unicorn -------------------------------------------- */
static void cf_rows(int iters) {
  base_a = mem_a;
  int cases = 0;
  for (size_t ri = 0; ri < x86_nrows; ri++) {
    const x86_row *r = &x86_rows[ri];
    if (r->op != X86_PUSH && r->op != X86_POP && r->op != X86_CALL && r->op != X86_JMP &&
        r->op != X86_JCC && r->op != X86_RET && r->op != X86_UD2 && r->op != X86_INT3)
      continue;
    int done = 0;
    for (int it = 0; it < iters; it++) {
      x86_inst in = {.op = r->op, .cond = (uint8_t)(trnd() % 16)};
      uint64_t gpr[16];
      for (int i = 0; i < 16; i++)
        gpr[i] = trnd();
      gpr[AF_RSP] = PG(P_STACK) + 2048 + 8 * (trnd() % 64);
      size_t off = 2048 + 16 * (trnd() % 64); /* where the instruction goes */
      uint64_t target = PG(P_CODE) + 16 * (trnd() % 256);
      int f = r->form[0];
      if (f == XF_R64) {
        in.nops = 1, in.o[0] = x86_gpr((af_reg)(trnd() % 16), 8);
        if (in.op != X86_PUSH && in.o[0].reg != AF_RSP) gpr[in.o[0].reg] = target;
      } else if (f == XF_RM64 || f == XF_M64) {
        in.nops = 1;
        if (f == XF_RM64 && trnd() % 2) {
          int reg = (int)(trnd() % 16);
          if (reg == AF_RSP) continue;
          in.o[0] = x86_gpr((af_reg)reg, 8), gpr[reg] = target;
        } else {
          int base = (int)(trnd() % 16);
          int32_t disp = (int32_t)(8 * (trnd() % 32)) - 128;
          uint64_t at = PG(P_STACK) + 1024 + 8 * (trnd() % 256);
          if (base != AF_RSP)
            gpr[base] = at - (uint64_t)(int64_t)disp;
          else
            at = gpr[AF_RSP] + (uint64_t)(int64_t)disp;
          in.o[0] = x86_base(8, (af_reg)base, disp);
          memcpy(mem + (at - mem_a), &target, 8);
        }
      } else if (f == XF_REL8 || f == XF_REL32) {
        in.nops = 1;
        in.o[0] = x86_rel(f == XF_REL8 ? 1 : 4, f == XF_REL8 ? (int32_t)(trnd() % 200) - 100
                                                             : (int32_t)(trnd() % 3000) - 1500);
      }
      if (in.op == X86_RET) memcpy(mem + (gpr[AF_RSP] - mem_a), &target, 8);
      if (x86_match(&in) != r) continue;
      uint8_t bytes[15];
      size_t len;
      if (x86_encode(&in, bytes, &len) != AF_OK) continue;
      memset(mem, 0x90, 8192); /* nops around: a target lands on one */
      memcpy(mem + off, bytes, len);
      static uint8_t snap[4096 * NPAGES];
      memcpy(snap, mem, sizeof snap);
      eng e[2];
      uc_err err[2];
      uint64_t out[2][18];
      static uint8_t after[2][8192];
      uint64_t fl = 0x202 | (trnd() & 0x8d5);
      for (int k = 0; k < 2; k++) {
        memcpy(mem, snap, sizeof snap);
        e_open(&e[k], k);
        map_all(&e[k]);
        for (int i = 0; i < 16; i++)
          e_wr(&e[k], ts_uc_gpr[i], gpr[i]);
        e_wr(&e[k], UC_X86_REG_RFLAGS, fl);
        err[k] = e_start(&e[k], PG(P_CODE) + off, 0, 0, 1);
        for (int i = 0; i < 16; i++)
          out[k][i] = e_rd(&e[k], ts_uc_gpr[i]);
        out[k][16] = e_rd(&e[k], UC_X86_REG_RIP);
        out[k][17] = e_rd(&e[k], UC_X86_REG_RFLAGS) & 0xcd5;
        memcpy(after[k], mem + 4096 * P_STACK, 8192);
        e_close(&e[k]);
      }
      char dis[64];
      x86_format(&in, dis, sizeof dis);
      if (in.op == X86_INT3) { /* Unicorn: RIP after it; xi: at it (xi.h) */
        CHECK(out[1][16] == PG(P_CODE) + off);
        out[1][16] = out[0][16];
      }
      CHECKF(err[0] == err[1] && !memcmp(out[0], out[1], sizeof out[0]) &&
                 !memcmp(after[0], after[1], 8192),
             "row %zu %s: unicorn err %d rip +%llx rsp +%llx, xi err %d rip +%llx rsp +%llx", ri,
             dis, err[0], (unsigned long long)(out[0][16] - mem_a),
             (unsigned long long)(out[0][4] - mem_a), err[1],
             (unsigned long long)(out[1][16] - mem_a), (unsigned long long)(out[1][4] - mem_a));
      done++, cases++;
    }
    CHECKF(done > 0, "row %zu (%s) not generated", ri, x86_op_name((x86_op)r->op));
  }
  printf("control flow: %d cases against Unicorn\n", cases);
}

/* Programs against the hardware (every row) and against Unicorn (the rows it gets right). */
static void programs(int nprog, int len) {
  native nt;
  CHECK(native_init(&nt) == 0);
  /* the native runner's code page holds the program: a bigger one */
  munmap(nt.code, 4096);
  size_t cap = 65536;
  nt.code = mmap(NULL, cap, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(nt.code != MAP_FAILED);
  static uint8_t prog[60000];
  uint64_t code_a = (uint64_t)(uintptr_t)nt.code;
  static uint8_t data0[8192], data_hw[8192];
  int hw_bad = 0, uc_bad = 0;
  for (int p = 0; p < nprog; p++) {
    bool uc_ok = p % 2 == 1;
    int depth = (int)(trnd() % 4);
    tstate s;
    rnd_tstate(&s, depth);
    /* the snippet's prologue is as long for every state: find where the program goes */
    native_build_cap(&nt, (const uint8_t *)"\x90", 1, cap);
    size_t n = prog_build(prog, sizeof prog, code_a + nt.insn_off, len, uc_ok, depth);
    CHECK(n > 0);
    nt.in.rflags = s.rflags;
    memcpy(nt.in.gpr, s.gpr, sizeof s.gpr);
    memcpy(nt.in.fx, s.fx, sizeof s.fx);
    CHECK(native_build_cap(&nt, prog, n, cap) == 0);
    uint64_t begin = code_a + nt.insn_off, end = begin + n;
    rnd_data(mem + 4096 * P_STACK, 8192);
    memcpy(data0, mem + 4096 * P_STACK, 8192);
    int sig = native_run(&nt);
    CHECKF(sig == 0, "program %d: native signal %d", p, sig);
    memcpy(data_hw, mem + 4096 * P_STACK, 8192);
    for (int k = 0; k < 2; k++) {
      if (k == 0 && !uc_ok) continue;
      memcpy(mem + 4096 * P_STACK, data0, 8192);
      eng e;
      e_open(&e, k);
      CHECK(e_map(&e, code_a, cap, UC_PROT_READ | UC_PROT_EXEC, nt.code) == UC_ERR_OK);
      CHECK(e_map(&e, PG(P_STACK), 8192, UC_PROT_READ | UC_PROT_WRITE, mem + 4096 * P_STACK) ==
            UC_ERR_OK);
      ts_load(k ? (void *)e.x : (void *)e.uc, k ? ts_xi_wr : ts_uc_wr, &s);
      uc_err er = e_start(&e, begin, end, 0, 0);
      tstate out;
      ts_save(k ? (void *)e.x : (void *)e.uc, k ? ts_xi_rd : ts_uc_rd, &out);
      char why[1200];
      bool d = ts_diff(&nt.out, &out, why, sizeof why);
      bool md = memcmp(mem + 4096 * P_STACK, data_hw, 8192) != 0;
      if (k == 0 && uc_ok) {
        /* xi against Unicorn: Unicorn's FSW/MXCSR/undefined flags are not compared */
        d = false;
        for (int i = 0; i < 16; i++)
          d |= nt.out.gpr[i] != out.gpr[i];
        d |= memcmp(nt.out.fx + FX_XMM, out.fx + FX_XMM, 256) != 0;
      }
      CHECKF(er == UC_ERR_OK && !d && !md, "program %d (%s, %s): err %d,%s%s", p,
             uc_ok ? "Unicorn's rows" : "all rows", k ? "xi vs hardware" : "unicorn vs hardware",
             er, why, md ? " memory" : "");
      if (er != UC_ERR_OK || d || md) {
        if (k)
          hw_bad++;
        else
          uc_bad++;
      }
      e_close(&e);
    }
  }
  printf("programs: %d of %d instructions; xi differs from the hardware in %d, Unicorn in %d\n",
         nprog, len, hw_bad, uc_bad);
  munmap(nt.code, cap);
}

/* ---- speed -------------------------------------------------------------------------------- */
static int hook_calls;
static void cb_count(uc_engine *uc, uint64_t a, uint32_t size, void *u) {
  (void)uc, (void)a, (void)size, (void)u;
  hook_calls++;
}
static void cb_mcount(uc_engine *uc, uc_mem_type t, uint64_t a, int size, int64_t v, void *u) {
  (void)uc, (void)t, (void)a, (void)size, (void)v, (void)u;
  hook_calls++;
}

static int bench1(int runs, bool hooks, int mix) {
  bool moves = mix == 1;
  jit_mix = mix == 2;
  size_t cap = 1 << 20;
  uint8_t *code = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  uint64_t code_a = (uint64_t)(uintptr_t)code;
  int n = 20000;
  size_t len = prog_build(code, cap - 16, code_a, n, moves, 0);
  code[len] = 0x90;
  xi *x;
  xi_open(&x);
  xi_mem_map_ptr(x, code_a, cap, UC_PROT_READ | UC_PROT_EXEC, code);
  xi_mem_map_ptr(x, PG(P_STACK), 8192, UC_PROT_READ | UC_PROT_WRITE, mem + 4096 * P_STACK);
  if (hooks) {
    xi_hook_add(x, NULL, UC_HOOK_MEM_READ, cb_mcount, NULL, PG(P_STACK), PG(P_STACK) + 8191);
    xi_hook_add(x, NULL, UC_HOOK_MEM_WRITE, cb_mcount, NULL, PG(P_STACK), PG(P_STACK) + 8191);
  }
  for (int i = 0; hooks && i < 100; i++) /* one-address code hooks, none on the program */
    xi_hook_add(x, NULL, UC_HOOK_CODE, cb_count, NULL, code_a + cap - 4096 + 8 * (uint64_t)i,
                code_a + cap - 4096 + 8 * (uint64_t)i);
  tstate s;
  rnd_tstate(&s, 0);
  /* the shared machine's wall clock is noisy: the best run and the mean */
  double best = 1e30, total = 0;
  uint64_t insns = 0;
  for (int r = 0; r < runs; r++) {
    struct timespec t0, t1;
    ts_load(x, ts_xi_wr, &s);
    xi_stats st0, st1;
    xi_stats_get(x, &st0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uc_err e = xi_emu_start(x, code_a, code_a + len, 0, 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (e != UC_ERR_OK) {
      printf("bench: run stopped with %d\n", e);
      return 1;
    }
    xi_stats_get(x, &st1);
    double ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
    double per = ns / (double)(st1.insns - st0.insns);
    best = per < best ? per : best;
    total += ns;
    insns += st1.insns - st0.insns;
  }
  printf("xi bench (%s, %s): %d runs of %d instructions (%zu bytes), %d hook calls: %.1f ns per "
         "instruction (best run; mean %.1f), %llu instructions\n",
         mix == 2 ? "JIT-like mix"
         : moves  ? "integer/moves rows"
                  : "every row",
         hooks ? "hooks" : "no hooks", runs, n, len, hook_calls, best, total / (double)insns,
         (unsigned long long)insns);
  hook_calls = 0;
  jit_mix = false;

  xi_close(x);
  munmap(code, cap);
  return 0;
}

/* Host instructions per guest instruction of one mix: this program's bench under callgrind,
 * counting inside xi_emu_start only (the Ir it collected over the instructions it ran); -1 when
 * valgrind cannot be run. */
static double bench_ir(const char *self, bool hooks, int mix) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd,
           "valgrind --tool=callgrind --callgrind-out-file=/dev/null --collect-atstart=no "
           "--toggle-collect=xi_emu_start '%s' bench 3 %s %d 2>&1",
           self, hooks ? "hooks" : "nohooks", mix);
  FILE *f = popen(cmd, "r");
  if (!f) return -1;
  char line[512];
  unsigned long long ir = 0, insns = 0;
  while (fgets(line, sizeof line, f)) {
    char *c = strstr(line, "Collected : ");
    if (c) {
      ir = 0;
      for (c += 12; *c; c++)
        if (*c >= '0' && *c <= '9') ir = ir * 10 + (unsigned long long)(*c - '0');
    }
    char *i = strstr(line, " instructions\n");
    if (strstr(line, "xi bench") && i) {
      while (i > line && i[-1] >= '0' && i[-1] <= '9')
        i--;
      insns = strtoull(i, NULL, 10);
    }
  }
  if (pclose(f) != 0 || !ir || !insns) return -1;
  return (double)ir / (double)insns;
}

/* Three mixes: every row of the table (SSE arithmetic and x87 load their control words around
 * each instruction), the integer/moves rows, and a mix like the JIT's code (jit_inst). */
static int bench(const char *self, int runs, bool hooks, int only) {
  int r = 0;
  for (int mix = 0; mix < 3; mix++)
    if (only < 0 || only == mix) r |= bench1(runs, hooks, mix);
  if (only >= 0) return r; /* a single mix: also what bench_ir runs under callgrind */
  for (int mix = 0; mix < 3; mix++) {
    double ir = bench_ir(self, hooks, mix);
    if (ir < 0) {
      printf("host instructions per instruction: valgrind did not run\n");
      break;
    }
    printf("host instructions per instruction (callgrind, inside xi_emu_start), %s: %.0f\n",
           mix == 2   ? "JIT-like mix"
           : mix == 1 ? "integer/moves rows"
                      : "every row",
           ir);
  }
  return r;
}

int main(int argc, char **argv) {
  mem = mmap(NULL, 4096 * NPAGES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(mem != MAP_FAILED);
  mem_a = (uint64_t)(uintptr_t)mem;
  prog_data = PG(P_STACK) + 4096;
  if (argc > 1 && !strcmp(argv[1], "bench"))
    return bench(argv[0], argc > 2 ? atoi(argv[2]) : 20, !(argc > 3 && !strcmp(argv[3], "nohooks")),
                 argc > 4 ? atoi(argv[4]) : -1);
  int scale = argc > 1 ? atoi(argv[1]) : 1;
  semantics();
  xi_api();
  x86_buf_free(&cb_);
  cf_rows(100 * scale);
  programs(40 * scale, 300);
  return check_done();
}
