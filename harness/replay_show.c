/* replay_show.c - abifuzz replay's printing: signatures, locations, registers, disassembly. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "debug.h"
#include "probe.h"
#include "replay.h"
#include "reports.h"

#ifdef AF_HAVE_CAPSTONE
#include <capstone/capstone.h>
#endif

void replay_loc_str(const af_case *c, const af_sig *sig, int i, char *buf, size_t n) {
  af_callinfo ci;
  af_error err = {{0}};
  buf[0] = 0;
  if (af_classify(c, sig, &ci, &err) != AF_OK) {
    snprintf(buf, n, "?");
    return;
  }
  const af_loc *l = i < 0 ? &ci.ret : &ci.args[i];
  size_t k = 0;
#define PUT(...) k += (size_t)snprintf(buf + k, k < n ? n - k : 0, __VA_ARGS__)
  switch (l->kind) {
  case AF_LOC_NONE: PUT("nowhere"); break;
  case AF_LOC_REG:
    for (int q = 0; q < l->nparts; q++)
      PUT("%s%s[%u..%u)", q ? " " : "", af_reg_name(l->parts[q].reg), l->parts[q].offset,
          l->parts[q].offset + l->parts[q].size);
    if (l->dup != AF_REG_NONE) PUT(" dup %s", af_reg_name(l->dup));
    break;
  case AF_LOC_STACK: PUT("stack [rsp+%d] size %u", l->stack_offset, l->stack_size); break;
  case AF_LOC_REF:
    if (l->nparts)
      PUT("by reference, pointer in %s", af_reg_name(l->parts[0].reg));
    else
      PUT("by reference, pointer at [rsp+%d]", l->stack_offset);
    break;
  case AF_LOC_SRET:
    PUT("sret: buffer pointer in %s, returned in %s", af_reg_name(af_abi_get(sig->cc)->sret_in),
        af_reg_name(af_abi_get(sig->cc)->sret_out));
    break;
  case AF_LOC_X87: PUT("st0"); break;
  }
#undef PUT
}

void replay_show_sig(const replay *r) {
  const af_case *c = &r->c;
  long off = -1;
  int fn = -1, caller = -1, callee = -1, nth = 0;
  if (r->r_what[0]) {
    fn = rp_named_function(c, r->r_what, &off);
    if (rp_named_call(c, r->r_what, &caller, &callee, &nth) != 0) callee = -1;
  }
  char *sig = rp_signature_c(c, fn, callee);
  printf("\n== signature%s in C ==\n", fn >= 0 && fn != c->entry ? "s" : "");
  if (sig) fputs(sig, stdout);
  free(sig);
  printf("\n== where every argument and return value goes (af_classify) ==\n");
  for (int f = 0; f < c->nfuncs; f++) {
    const af_sig *s = &c->funcs[f].sig;
    char tb[16], loc[96];
    printf("f%d%s %s%s (", f, f == c->entry ? " entry" : "", c->funcs[f].host ? "host " : "",
           af_cc_name(s->cc));
    for (int i = 0; i < s->nparams; i++)
      printf("%s%s%s", i ? ", " : "", s->variadic && i == s->nfixed ? "... " : "",
             af_type_name(c, s->params[i], tb, sizeof tb));
    printf(") -> %s%s\n", af_type_name(c, s->ret, tb, sizeof tb),
           f == fn || f == callee ? "   <- named by the finding" : "");
    for (int i = 0; i < s->nparams; i++) {
      replay_loc_str(c, s, i, loc, sizeof loc);
      printf("    arg %-2d %-6s %s\n", i, af_type_name(c, s->params[i], tb, sizeof tb), loc);
    }
    replay_loc_str(c, s, -1, loc, sizeof loc);
    printf("    ret    %-6s %s\n", af_type_name(c, s->ret, tb, sizeof tb), loc);
  }
}

void replay_show_regs(const char *title, const void *regs) {
  const af_probe_regs *x = regs;
  printf("    %s:\n", title);
  static const int order[16] = {AF_RAX, AF_RBX, AF_RCX, AF_RDX, AF_RSI, AF_RDI, AF_RBP, AF_RSP,
                                AF_R8,  AF_R9,  AF_R10, AF_R11, AF_R12, AF_R13, AF_R14, AF_R15};
  for (int i = 0; i < 16; i++)
    printf("%s%-4s 0x%016llx%s", i % 4 ? "  " : "      ", af_reg_name((af_reg)order[i]),
           (unsigned long long)x->gpr[order[i]], i % 4 == 3 ? "\n" : "");
  printf("      rflags 0x%08llx (DF %d)  mxcsr 0x%08x  x87cw 0x%04x\n",
         (unsigned long long)x->rflags, (int)((x->rflags >> 10) & 1), x->mxcsr, x->fcw);
  for (int i = 0; i < 16; i++) {
    printf("%sxmm%-2d ", i % 2 ? "  " : "      ", i);
    for (int b = 15; b >= 0; b--)
      printf("%02x", x->xmm[i][b]);
    if (i % 2) putchar('\n');
  }
}

void replay_show_canaries(af_cc cc, const void *in_, const void *out_) {
  const af_probe_regs *in = in_, *out = out_;
  const af_abi *abi = af_abi_get(cc);
  printf("    what the callee owed its caller (%s):\n", af_cc_name(cc));
  for (int r = AF_RAX; r <= AF_R15; r++)
    if (r != AF_RSP && ((abi->callee_saved >> r) & 1))
      printf("      %-5s canary 0x%016llx  after 0x%016llx  %s\n", af_reg_name((af_reg)r),
             (unsigned long long)in->gpr[r], (unsigned long long)out->gpr[r],
             in->gpr[r] == out->gpr[r] ? "ok" : "CHANGED");
  for (int x = 0; x < 16; x++)
    if ((abi->callee_saved >> (AF_XMM0 + x)) & 1)
      printf("      %-5s %s\n", af_reg_name((af_reg)(AF_XMM0 + x)),
             memcmp(in->xmm[x], out->xmm[x], 16) ? "CHANGED" : "ok");
  printf("      rsp   %s, DF %s, MXCSR control %s, x87 CW %s\n",
         in->gpr[AF_RSP] == out->gpr[AF_RSP] ? "ok" : "CHANGED",
         out->rflags & 0x400 ? "SET" : "clear",
         (in->mxcsr ^ out->mxcsr) & 0xffc0u ? "CHANGED" : "ok",
         (in->fcw ^ out->fcw) & 0x1f3fu ? "CHANGED" : "ok");
}

void replay_show_bytes(const char *label, const uint8_t *b, uint32_t n) {
  printf("%s", label);
  for (uint32_t i = 0; i < n && i < 64; i++)
    printf(" %02x", b[i]);
  if (n > 64) printf(" ... (%u bytes)", n);
  putchar('\n');
}

void replay_show_value(const af_case *c, const char *label, const af_value *v) {
  cli_print_value(c, label, v);
}

/* 1 if the Intel-syntax instruction writes register reg (its 64/32/16/8-bit names; XMM: the
 * register): a destination operand that is the register, or a pop into it. */
static int writes_reg(const char *mn, const char *ops, const char *reg) {
  static const char *const gpr[][4] = {
      {"rax", "eax", "ax", "al"},      {"rbx", "ebx", "bx", "bl"},
      {"rcx", "ecx", "cx", "cl"},      {"rdx", "edx", "dx", "dl"},
      {"rsi", "esi", "si", "sil"},     {"rdi", "edi", "di", "dil"},
      {"rbp", "ebp", "bp", "bpl"},     {"r8", "r8d", "r8w", "r8b"},
      {"r9", "r9d", "r9w", "r9b"},     {"r10", "r10d", "r10w", "r10b"},
      {"r11", "r11d", "r11w", "r11b"}, {"r12", "r12d", "r12w", "r12b"},
      {"r13", "r13d", "r13w", "r13b"}, {"r14", "r14d", "r14w", "r14b"},
      {"r15", "r15d", "r15w", "r15b"}};
  if (!strcmp(mn, "cmp") || !strcmp(mn, "test") || !strcmp(mn, "push") ||
      !strncmp(mn, "ucomis", 6) || !strncmp(mn, "comis", 5))
    return 0;
  const char *names[4] = {reg, NULL, NULL, NULL};
  for (size_t i = 0; i < sizeof gpr / sizeof gpr[0]; i++)
    if (!strcmp(gpr[i][0], reg))
      for (int k = 0; k < 4; k++)
        names[k] = gpr[i][k];
  for (int k = 0; k < 4 && names[k]; k++) {
    size_t n = strlen(names[k]);
    if (!strncmp(ops, names[k], n) && (ops[n] == ',' || (ops[n] == 0 && !strcmp(mn, "pop"))))
      return 1;
  }
  return 0;
}

/* Where fn's code calls the case's functions (the lowering calls through R11: `movabs r11, X`
 * then `call r11` or `call qword ptr [r11]`, X a call-table slot; cmd_report.c reads them the
 * same way), and the first instruction the check points at: a write of the register `reg`, or
 * the mnemonic `mn` (std, ldmxcsr, fldcw). */
static void scan_code(const replay *r, const af_jit *j, const jit_debug_fn *d, rp_code *out,
                      const char *reg, const char *mn, long *hit) {
  out->ncalls = 0;
  *hit = -1;
#ifdef AF_HAVE_CAPSTONE
  csh h;
  if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK) return;
  cs_option(h, CS_OPT_SYNTAX, CS_OPT_SYNTAX_INTEL);
  cs_insn *in = NULL;
  size_t n = cs_disasm(h, (const uint8_t *)(uintptr_t)d->addr, d->size, d->addr, 0, &in);
  for (size_t i = 0; i < n; i++) {
    long off = (long)(in[i].address - d->addr);
    if (*hit < 0 && ((reg && writes_reg(in[i].mnemonic, in[i].op_str, reg) && off > 0) ||
                     (mn && !strcmp(in[i].mnemonic, mn))))
      *hit = off;
    unsigned long long x;
    if (!i || out->ncalls >= RP_MAX_CALLS || strcmp(in[i].mnemonic, "call") ||
        strcmp(in[i - 1].mnemonic, "movabs") || sscanf(in[i - 1].op_str, "r11, 0x%llx", &x) != 1)
      continue;
    uint64_t target = x;
    if (!strcmp(in[i].op_str, "qword ptr [r11]"))
      memcpy(&target, (const void *)(uintptr_t)x, 8);
    else if (strcmp(in[i].op_str, "r11"))
      continue;
    char name[64];
    int k = -1;
    for (int q = 0; q < r->c.nfuncs && k < 0; q++) /* the probed compile calls the probes */
      if (target == (uint64_t)(uintptr_t)af_callouts[q] ||
          target == (uint64_t)(uintptr_t)af_interposers[q])
        k = q;
    if (k >= 0 || (jit_debug_symbolize(&r->c, j, target, name, sizeof name) &&
                   sscanf(name, "abifuzz_f%d", &k) == 1)) {
      out->call_off[out->ncalls] = (uint32_t)off;
      out->call_fn[out->ncalls++] = k;
    }
  }
  if (n) cs_free(in, n);
  cs_close(&h);
#else
  (void)r, (void)j, (void)d, (void)reg, (void)mn;
#endif
}

void replay_show_disasm(const replay *r, const af_jit *j, int fn, long mark, const char *title) {
  printf("\n== disassembly: %s ==\n", title);
  if (!j || fn < 0 || fn >= r->c.nfuncs) {
    printf("  (no code: %s)\n", !j ? "the JIT does not compile the case" : "no function named");
    return;
  }
  jit_debug_fn d;
  af_error err = {{0}};
  if (jit_debug_describe(j, fn, &d, &err) != AF_OK) {
    /* a function the probed compile reaches through an interposer has no debug record: its
     * code runs from af_jit_code up to where af_jit_which stops naming it */
    memset(&d, 0, sizeof d);
    d.addr = (uint64_t)(uintptr_t)af_jit_code(j, fn);
    if (!d.addr) {
      printf("  (f%d: %s)\n", fn, err.msg);
      return;
    }
    snprintf(d.name, sizeof d.name, "abifuzz_f%d", fn);
    while (d.size < (1u << 20) && af_jit_which(j, (const void *)(uintptr_t)(d.addr + d.size)) == fn)
      d.size++;
  }
  rp_code code;
  memset(&code, 0, sizeof code);
  code.bytes = malloc(d.size ? d.size : 1);
  if (!code.bytes) return;
  memcpy(code.bytes, (const void *)(uintptr_t)d.addr, d.size);
  code.size = d.size;
  /* what the check points at, when the caller gave no offset: the call the finding names, the
   * first write of the register it names, the instruction that sets what it names */
  const char *reg = NULL, *mn = NULL, *why = "";
  char regbuf[16] = "";
  const char *check = r->r_check, *what = r->r_what;
  if (!strcmp(check, "callee-saved") && sscanf(what, "%15[a-z0-9]", regbuf) == 1)
    reg = regbuf, why = "the first write of the register";
  else if (!strcmp(check, "df"))
    mn = "std", why = "the first std";
  else if (!strcmp(check, "mxcsr"))
    mn = "ldmxcsr", why = "the first ldmxcsr";
  else if (!strcmp(check, "x87cw"))
    mn = "fldcw", why = "the first fldcw";
  long hit;
  scan_code(r, j, &d, &code, reg, mn, &hit);
  int caller, callee, nth;
  if (mark < 0 && what[0] && rp_named_call(&r->c, what, &caller, &callee, &nth) == 0 &&
      caller == fn) {
    for (int i = 0, seen = 0; i < code.ncalls; i++)
      if (code.call_fn[i] == callee && seen++ == nth) {
        mark = code.call_off[i];
        why = "the call the finding names";
        break;
      }
  }
  if (mark < 0 && hit >= 0)
    mark = hit;
  else if (mark >= 0 && !*why)
    why = "the instruction";
  const char *cwhy = NULL;
  char *text = rp_disasm(&code, mark, 60, &cwhy);
  printf("  %s (%s%s; %s), %llu bytes%s%s\n", d.name, r->inject ? "mutant " : "no mutant",
         r->inject ? r->inject : "",
         j == r->probe ? "the probed compile: calls go to the probes" : "the plain compile",
         (unsigned long long)d.size, mark >= 0 ? "; => marks " : "", mark >= 0 ? why : "");
  if (text)
    fputs(text, stdout);
  else
    printf("  (%s)\n", cwhy ? cwhy : "no disassembly");
  free(text);
  free(code.bytes);
}

void replay_show_crash(const replay *r, const replay_crash *k) {
  const char *yn[3] = {"unknown", "no", "yes"};
  char sig[32];
  if (REPLAY_IS_TIMEOUT(k->signo))
    snprintf(sig, sizeof sig, "timeout");
  else
    snprintf(sig, sizeof sig, "SIG%s", sigabbrev_np(k->signo) ? sigabbrev_np(k->signo) : "?");
  printf("\n== %s ==\n", REPLAY_IS_TIMEOUT(k->signo) ? "hang" : "crash");
  if (!k->valid) {
    printf("finding: %s crash %s: no record (killed)\n", k->leg[0] ? k->leg : "?", sig);
    return;
  }
  if (REPLAY_IS_TIMEOUT(k->signo)) {
    printf("finding: %s timeout: no return within %d ms, rip 0x%llx (rip in JIT code: %s)\n",
           k->leg, r->timeout_ms, (unsigned long long)k->rip, yn[k->rip_in_jit + 1]);
  } else
    printf("finding: %s crash %s: %s si_code %d at address 0x%llx, rip 0x%llx (rip in JIT code: "
           "%s, address in JIT code: %s)\n",
           k->leg, sig, sig, k->si_code, (unsigned long long)k->addr, (unsigned long long)k->rip,
           yn[k->rip_in_jit + 1], yn[k->addr_in_jit + 1]);
  printf("  RIP 0x%016llx %s JIT code", (unsigned long long)k->rip,
         k->rip_in_jit == 1   ? "in"
         : k->rip_in_jit == 0 ? "not in"
                              : "unknown whether in");
  if (k->rip_fn >= 0)
    printf(": f%d+0x%llx", k->rip_fn, (unsigned long long)k->rip_off);
  else if (k->rip_fn == -1)
    printf(": the runner thunk");
  putchar('\n');
  if (REPLAY_IS_TIMEOUT(k->signo)) return;
  printf("  fault address 0x%016llx %s JIT code", (unsigned long long)k->addr,
         k->addr_in_jit == 1   ? "in"
         : k->addr_in_jit == 0 ? "not in"
                               : "unknown whether in");
  if (k->addr_fn >= 0) printf(": f%d+0x%llx", k->addr_fn, (unsigned long long)k->addr_off);
  putchar('\n');
}
