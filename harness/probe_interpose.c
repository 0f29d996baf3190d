/* probe_interpose.c - mode "interpose": canaries around a call someone else makes (probe.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "probe_internal.h"

af_probe_ip_state af_probe_ip;

/* What the armed interposer checks for and reports to (global: see probe.h). */
static struct {
  af_cc cc;
  af_findings *fs;
  const char *leg;
  int entered;
} ip;

#define IP_CANARY_GPR 0x1c7e5a11ed000000ull
#define IP_CANARY_XMM 0x1c7ec5c500000000ull

void af_probe_interpose_arm(af_cc cc, const void *target, af_findings *fs, const char *leg) {
  ip.cc = cc;
  ip.fs = fs;
  ip.leg = leg;
  ip.entered = 0;
  af_probe_ip.target = target;
}

int af_probe_interpose_disarm(void) {
  int n = ip.entered;
  ip.fs = NULL;
  af_probe_ip.target = NULL;
  return n;
}

void af_probe_enter_pre(af_probe_ip_state *s) {
  const af_abi *abi = af_abi_get(ip.cc);
  ip.entered++;
  s->call = s->entry;
  for (int r = AF_RAX; r <= AF_R15; r++)
    if (r != AF_RSP && (abi->callee_saved >> r) & 1)
      s->call.gpr[r] = IP_CANARY_GPR | (uint64_t)(ip.entered << 8) | (uint64_t)r;
  for (int x = 0; x < 16; x++)
    if ((abi->callee_saved >> (AF_XMM0 + x)) & 1) {
      uint64_t lo = IP_CANARY_XMM | (uint64_t)x, hi = IP_CANARY_XMM | (uint64_t)(0x80 + x);
      memcpy(s->call.xmm[x], &lo, 8);
      memcpy(s->call.xmm[x] + 8, &hi, 8);
    }
}

static void ip_add(const char *check, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void ip_add(const char *check, const char *what, const char *fmt, ...) {
  if (!ip.fs) return;
  char d[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(d, sizeof d, fmt, ap);
  va_end(ap);
  af_findings_add(ip.fs, ip.leg ? ip.leg : "interpose", check, what, "%s", d);
}

void af_probe_enter_post(af_probe_ip_state *s) {
  const af_abi *abi = af_abi_get(ip.cc);
  af_probe_regs *x = &s->call; /* becomes the exit image */
  for (int r = AF_RAX; r <= AF_R15; r++) {
    if (r == AF_RSP) continue;
    int saved = (abi->callee_saved >> r) & 1;
    if (saved && s->out.gpr[r] != x->gpr[r])
      ip_add("callee-saved", af_reg_name((af_reg)r), "canary 0x%016llx, got 0x%016llx",
             (unsigned long long)x->gpr[r], (unsigned long long)s->out.gpr[r]);
    x->gpr[r] = saved ? s->entry.gpr[r] : s->out.gpr[r];
  }
  for (int v = 0; v < 16; v++) {
    int saved = (abi->callee_saved >> (AF_XMM0 + v)) & 1;
    if (saved && memcmp(s->out.xmm[v], x->xmm[v], 16)) {
      uint64_t a, b;
      memcpy(&a, x->xmm[v], 8);
      memcpy(&b, s->out.xmm[v], 8);
      ip_add("callee-saved", af_reg_name((af_reg)(AF_XMM0 + v)),
             "canary (low half) 0x%016llx, got 0x%016llx", (unsigned long long)a,
             (unsigned long long)b);
    }
    memcpy(x->xmm[v], saved ? s->entry.xmm[v] : s->out.xmm[v], 16);
  }
  /* the target returned to RSP at entry + 8 (the return address popped) */
  if (s->out.gpr[AF_RSP] != s->entry.gpr[AF_RSP] + 8)
    ip_add("rsp", "rsp", "expected 0x%llx after the return, got 0x%llx",
           (unsigned long long)(s->entry.gpr[AF_RSP] + 8), (unsigned long long)s->out.gpr[AF_RSP]);
  if (s->out.rflags & 0x400) ip_add("df", "rflags", "DF set after the return (psABI 3.2.1)");
  if ((s->out.mxcsr ^ s->entry.mxcsr) & 0xffc0u)
    ip_add("mxcsr", "mxcsr", "0x%04x at the call, 0x%04x after", s->entry.mxcsr, s->out.mxcsr);
  if ((s->out.fcw ^ s->entry.fcw) & 0x1f3fu)
    ip_add("x87cw", "fcw", "0x%04x at the call, 0x%04x after", s->entry.fcw, s->out.fcw);
  x->rflags = s->out.rflags & ~0x400ull;
  x->mxcsr = s->entry.mxcsr;
  x->fcw = s->entry.fcw;
}
