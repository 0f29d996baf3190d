/* prepare.c - orders the buckets, picks the finding each one shows, and computes its signature
 * in C and the disassembly of the code under test. */
#define _GNU_SOURCE /* asprintf, vasprintf */
#include <stdlib.h>
#include <string.h>

#include "reports.h"
#include "rp_internal.h"
#include "rp_json.h"

int rp_nfailing(const rp_report *r) {
  int n = 0;
  for (int i = 0; i < r->nb; i++)
    n += !r->b[i].known;
  return n;
}

static const struct {
  const char *check, *desc;
} checks[] = {
    {"result", "the return value differs from the reference interpreter's"},
    {"objects", "memory the code under test wrote differs from the interpreter's"},
    {"garbage", "the outcome depends on bits the convention leaves undefined"},
    {"host-calls", "the calls to host functions differ from the interpreter's trace"},
    {"calls", "the calls to host functions differ from the interpreter's trace"},
    {"callee-saved", "a callee-saved register was not preserved across a call"},
    {"rsp", "RSP after the return differs from before the call"},
    {"df", "the direction flag was left set"},
    {"mxcsr", "MXCSR control bits changed across a call"},
    {"x87cw", "the x87 control word changed across a call"},
    {"x87-stack", "the x87 register stack was left unbalanced"},
    {"sret-rax", "a memory-returning function did not return the buffer's address in RAX"},
    {"sret-ptr", "the hidden return-buffer pointer is wrong"},
    {"stack-align", "RSP was not aligned as the convention requires at a call"},
    {"arg", "an argument arrived with the wrong value or in the wrong place"},
    {"arg-ext", "a narrow integer argument was not extended as callers must"},
    {"vararg-al", "AL does not bound the vector registers used by a variadic call"},
    {"vararg-dup", "a Win64 variadic float is not duplicated in its integer register"},
    {"below-rsp", "the code touched memory below RSP outside the red zone"},
    {"red-zone", "the red zone was used where the convention has none"},
    {"caller-frame", "the callee wrote into its caller's frame"},
    {"uninit-read", "the code read memory nothing had written"},
    {"checksum", "the compiled C oracle's checksum differs from the interpreter's"},
    {"build", "the emitted C did not compile"},
    {"run", "the compiled C oracle did not run to completion"},
    {"crash", "the code under test crashed (a signal in the worker)"},
    {"timeout", "the code under test did not return in time"},
    {"jit-compile", "the JIT refused or failed the case"},
    {"interp", "the reference interpreter failed the case"},
};

const char *rp_check_desc(const char *check) {
  for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++)
    if (!strcmp(checks[i].check, check)) return checks[i].desc;
  return "a check of the differential test fired";
}

/* Failures first, the biggest first; known ones last; ties keep the input order. */
static int cmp_bucket(const void *pa, const void *pb) {
  const rp_bucket *a = pa, *b = pb;
  if (a->known != b->known) return a->known - b->known;
  if (a->count != b->count) return a->count > b->count ? -1 : 1;
  return a->rep < b->rep ? -1 : a->rep > b->rep; /* rep holds the input order while sorting */
}

/* The smallest case.case of the bucket (over every directory merged); on a tie the one the
 * summary's "smallest" names. */
static int pick_rep(const rp_report *r, const rp_bucket *b) {
  const struct rj *sm = rj_get(b->summary, "smallest");
  const char *sid = rj_str(sm, "finding");
  uint64_t six;
  int have_ix = !rj_u64(sm, "index", &six);
  int best = -1;
  for (int i = 0; i < b->nfind; i++) {
    const rp_finding *f = &r->f[b->find[i]];
    if (f->case_size < 0) continue;
    int named = sid ? !strcmp(sid, f->id) : have_ix && six == f->index;
    if (best < 0 || f->case_size < r->f[best].case_size ||
        (f->case_size == r->f[best].case_size && named))
      best = b->find[i];
  }
  return best >= 0 ? best : b->nfind ? b->find[0] : -1;
}

/* rip_fn / rip_off, at the top of report.json or in its "crash" object; numbers or "f3",
 * "0x1a" strings. 0 when found. */
static int num_of(const struct rj *v, long *out) {
  if (!v) return -1;
  if (v->kind == RJ_NUM && v->num >= 0) return *out = (long)v->num, 0;
  if (v->kind != RJ_STR) return -1;
  const char *s = v->s[0] == 'f' ? v->s + 1 : v->s;
  char *e;
  long x = strtol(s, &e, 0);
  return *e || e == s || x < 0 ? -1 : (*out = x, 0);
}

static int rip_of(const struct rj *j, long *fn, long *off) {
  const struct rj *cr = rj_get(j, "crash");
  if (!num_of(rj_get(j, "rip_fn"), fn) && !num_of(rj_get(j, "rip_off"), off)) return 0;
  if (!num_of(rj_get(cr, "rip_fn"), fn) && !num_of(rj_get(cr, "rip_off"), off)) return 0;
  return -1;
}

static void note(rp_bucket *b, const char *fmt, const char *a, const char *c) {
  char *s = NULL;
  if (asprintf(&s, fmt, a, c) < 0) s = NULL;
  free(b->disasm_note); /* after the format: a or c may be the old note */
  b->disasm_note = s;
}

static int hex_of(const struct rj *v, uint64_t *out) {
  if (!v || v->kind != RJ_STR) return -1;
  char *e;
  *out = strtoull(v->s, &e, 0);
  return *e || e == v->s ? -1 : 0;
}

/* A crash without rip_fn/rip_off: the JIT lays a case out the same way in every compile, in
 * memory that starts on a page boundary, so the crashed RIP's offset in its page, matched
 * against this compile's layout, leaves one place per page of code. Kept: the candidates that
 * start an instruction; with several, those whose memory operand, computed from the crash's
 * registers, is the fault address. 0 when exactly one remains: *fn, *off, and *other (malloc'd
 * bytes of *fn when it is not `code`'s function fn0; else untouched). */
enum { MAX_CAND = 8 };
static int infer_rip(const rp_finding *f, const af_case *c, const rp_opts *o, int fn0,
                     const rp_code *code, int *fn, long *off, rp_code *other) {
  const struct rj *cr = rj_get(f->json, "crash"), *regs = rj_get(cr, "regs");
  rp_regs rr = {0};
  uint64_t fault = 0;
  int have_fault = !hex_of(rj_get(cr, "fault_addr"), &fault);
  if (hex_of(rj_get(cr, "rip"), &rr.rip) || !rj_truthy(rj_get(cr, "rip_in_jit")) || !code->nfns)
    return -1;
  for (int i = 0; regs && regs->kind == RJ_OBJ && i < regs->n && rr.n < 24; i++)
    if (!hex_of(regs->items[i], &rr.val[rr.n])) rr.name[rr.n++] = regs->keys[i];
  const char *inject = f->inject && *f->inject ? f->inject : NULL;
  rp_code cc[MAX_CAND] = {{0}}; /* the code of each candidate's function (fetched once) */
  int cfn[MAX_CAND], nc = 0, touch[MAX_CAND];
  long coff[MAX_CAND];
  for (int k = 0; k < code->nfns && k < c->nfuncs && nc < MAX_CAND; k++) {
    uint64_t o0 = (rr.rip - code->fn_start[k]) & (RP_PAGE - 1);
    if (o0 >= code->fn_size[k]) continue;
    rp_code ck = {0};
    af_error err;
    if (k != fn0 && o->code(o->code_u, c, inject, k, &ck, &err) != AF_OK) continue;
    const rp_code *kc = k != fn0 ? &ck : code;
    int used = 0;
    for (uint64_t x = o0; x < code->fn_size[k] && nc < MAX_CAND; x += RP_PAGE)
      if (rp_insn_at(kc, (long)x)) {
        cfn[nc] = k, coff[nc] = (long)x;
        touch[nc] = have_fault ? rp_insn_touches(kc, (long)x, &rr, fault) : -1;
        if (!used && k != fn0) cc[nc] = ck, used = 1;
        nc++;
      }
    if (!used) free(ck.bytes);
  }
  int pick = nc == 1 ? 0 : -1, ntouch = 0;
  for (int i = 0; i < nc && nc > 1; i++)
    if (touch[i] == 1) ntouch++, pick = i;
  if (nc > 1 && ntouch != 1) pick = -1;
  if (pick >= 0) {
    *fn = cfn[pick], *off = coff[pick];
    if (cfn[pick] != fn0) /* the fetched copy of that function */
      for (int i = 0; i < nc; i++)
        if (cfn[i] == cfn[pick] && cc[i].bytes) *other = cc[i], cc[i].bytes = NULL;
  }
  for (int i = 0; i < nc; i++)
    free(cc[i].bytes);
  return pick >= 0 ? 0 : -1;
}

/* The disassembly of the function the finding names, with what it marks. fn may change (a
 * crash whose RIP is inferred to lie in another function). */
static void disassemble(rp_bucket *b, const rp_finding *f, const af_case *c, const rp_opts *o,
                        int *fn, long off) {
  af_error err = {{0}};
  rp_code code = {0};
  const char *inject = f->inject && *f->inject ? f->inject : NULL;
  af_status s = o->code(o->code_u, c, inject, *fn, &code, &err);
  const char *marks = off >= 0 ? "; => marks the faulting instruction" : "", *why = NULL;
  int caller, callee, nth, k;
  long ioff;
  rp_code other = {0};
  if (s == AF_OK && off < 0 && !strcmp(f->check, "crash") &&
      !infer_rip(f, c, o, *fn, &code, &k, &ioff, &other)) {
    if (k != *fn) free(code.bytes), code = other, *fn = k; /* the function it lies in */
    off = ioff;
    marks = "; => marks the faulting instruction, found from the crashed RIP's offset in its page "
            "(the JIT lays a case out the same way in every compile)";
  } else
    free(other.bytes);
  if (s == AF_OK && off < 0 && !rp_named_call(c, f->what, &caller, &callee, &nth) &&
      caller == *fn) {
    for (int i = 0; i < code.ncalls && off < 0; i++) /* the nth call to callee */
      if (code.call_fn[i] == callee && nth-- == 0) off = code.call_off[i];
    if (off >= 0) marks = "; => marks the call the finding names";
  }
  if (s != AF_OK) {
    note(b, "no disassembly: the JIT: %s%s", err.msg[0] ? err.msg : af_strerror(s), "");
  } else if (!(b->disasm = rp_disasm(&code, off, o->max_insns, &why))) {
    note(b, "no disassembly: %s%s", why, "");
  } else {
    char hdr[600];
    snprintf(hdr, sizeof hdr,
             "f%d (%s, %s), %zu bytes of JIT code%s%s, Intel syntax (Capstone); offsets from the "
             "function's start; \"; fK\": a call to function K%s",
             *fn, c->funcs[*fn].host ? "host function" : "JIT function",
             af_cc_name(c->funcs[*fn].sig.cc), code.size, inject ? " compiled with --inject " : "",
             inject ? inject : "", marks);
    note(b, "%s%s", hdr,
         off < 0 && !strcmp(f->check, "crash")
             ? "; the crash's RIP is an address of the worker that ran it and report.json has no "
               "rip_fn/rip_off: no instruction marked"
             : "");
  }
  free(code.bytes);
}

static void prepare_one(rp_bucket *b, const rp_finding *f, const rp_opts *o) {
  char path[4200];
  af_case c, m;
  af_error err = {{0}};
  if (!f || f->case_size < 0) {
    note(b, "no case.case in %s%s", f ? f->dir : "any finding directory of this bucket", "");
    return;
  }
  snprintf(path, sizeof path, "%s/case.case", f->dir);
  if (af_parse_file(path, &c, &err) != AF_OK) {
    note(b, "%s does not parse: %s", path, err.msg);
    af_case_free(&c);
    return;
  }
  long off = -1, rfn = -1, roff = -1;
  int fn = rp_named_function(&c, f->what, &off);
  if (!rip_of(f->json, &rfn, &roff) && rfn >= 0 && rfn < c.nfuncs) fn = (int)rfn, off = roff;
  if (!o || !o->code)
    note(b, "no disassembly: %s%s", "not asked for (--no-disasm, or no JIT hook)", "");
  else
    disassemble(b, f, &c, o, &fn, off);
  /* the signature: from min.case when abifuzz reduce left one (its function numbering need not
   * be the original's: its entry only) */
  snprintf(path, sizeof path, "%s/min.case", f->dir);
  if (f->has_min && af_parse_file(path, &m, &err) == AF_OK) {
    char *s = rp_signature_c(&m, -1, -1);
    if (s && asprintf(&b->sig_c, "/* the reduced case (min.case) */\n%s", s) < 0) b->sig_c = NULL;
    free(s);
  } else {
    int caller, callee = -1, nth;
    if (rp_named_call(&c, f->what, &caller, &callee, &nth)) callee = -1;
    b->sig_c = rp_signature_c(&c, fn, callee);
  }
  if (f->has_min) af_case_free(&m);
  af_case_free(&c);
}

af_status rp_prepare(rp_report *r, const rp_opts *o) {
  for (int i = 0; i < r->nb; i++)
    r->b[i].rep = i;
  qsort(r->b, (size_t)r->nb, sizeof *r->b, cmp_bucket);
  for (int i = 0; i < r->nb; i++) {
    rp_bucket *b = &r->b[i];
    b->rep = pick_rep(r, b);
    prepare_one(b, rp_rep(r, b), o);
  }
  return AF_OK;
}
