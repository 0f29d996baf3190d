/* csig.c - a finding's signature in C (types, prototypes, where each argument goes) and the
 * function its `what` names. */
#include <stdlib.h>
#include <string.h>

#include "reports.h"

/* ---- which function a finding names ----------------------------------------------------- */
typedef struct {
  int caller, callee, inst; /* inst: the CALL's instruction index in the caller */
} call_rec;

/* Every call a run makes, in the order made (a call before the calls its callee makes): the
 * bodies are straight-line (gen.h), so this order is static and matches the interpreter's
 * trace. Host functions contain no CALL. */
static void walk_calls(const af_case *c, int f, call_rec *out, int *n, int cap, int depth) {
  if (f < 0 || f >= c->nfuncs || depth > AF_MAX_FUNCS) return;
  const af_func *fn = &c->funcs[f];
  for (int i = 0; i < fn->ninsts && *n < cap; i++) {
    const af_inst *in = &fn->insts[i];
    if (in->op != AF_OP_CALL) continue;
    out[(*n)++] = (call_rec){f, (int)in->imm, i};
    walk_calls(c, (int)in->imm, out, n, cap, depth + 1);
  }
}

/* The record of call n to k. Legs number calls either among host calls only (the callout
 * probes, the cc and ffi callees, the emulator) or among all calls (the interposer): take the
 * numbering under which call n goes to k; failing both, the first call to k. 0 when found. */
static int call_n(const af_case *c, int n, int k, call_rec *rec) {
  enum { CAP = 4096 };
  call_rec *all = malloc(CAP * sizeof *all);
  if (!all) return -1;
  int na = 0, nh = 0, found = -1;
  walk_calls(c, c->entry, all, &na, CAP, 0);
  for (int i = 0; i < na && found < 0; i++) {
    int host = c->funcs[all[i].callee].host;
    if (host && nh++ == n && all[i].callee == k) found = i;
  }
  if (found < 0 && n < na && all[n].callee == k) found = n;
  for (int i = 0; i < na && found < 0; i++)
    if (all[i].callee == k) found = i;
  if (found >= 0) *rec = all[found];
  free(all);
  return found >= 0 ? 0 : -1;
}

static int fn_ok(const af_case *c, long k) { return k >= 0 && k < c->nfuncs; }

int rp_named_function(const af_case *c, const char *what, long *off) {
  *off = -1;
  if (!what) return c->entry;
  for (const char *p = what; (p = strchr(p, 'f')); p++) { /* "f3+0x1a" (the emulator) */
    int k, used = 0;
    unsigned long o;
    if ((p == what || p[-1] == ' ') && sscanf(p, "f%d+0x%lx%n", &k, &o, &used) == 2 && used &&
        fn_ok(c, k)) {
      *off = (long)o;
      return k;
    }
  }
  int caller, k, nth;
  if (!rp_named_call(c, what, &caller, &k, &nth)) return caller;
  const char *q;
  if ((q = strstr(what, "in f")) && sscanf(q, "in f%d", &k) == 1 && fn_ok(c, k)) return k;
  if (sscanf(what, "f%d", &k) == 1 && fn_ok(c, k)) return k;
  return c->entry;
}

int rp_named_call(const af_case *c, const char *what, int *caller, int *callee, int *nth) {
  const char *q = what ? strstr(what, "call ") : NULL;
  int n, k;
  call_rec rec;
  if (!q || sscanf(q, "call %d to f%d", &n, &k) != 2 || !fn_ok(c, k) || n < 0 ||
      call_n(c, n, k, &rec))
    return -1;
  *caller = rec.caller, *callee = k, *nth = 0;
  const af_func *fn = &c->funcs[rec.caller];
  for (int i = 0; i < rec.inst && i < fn->ninsts; i++)
    *nth += fn->insts[i].op == AF_OP_CALL && fn->insts[i].imm == k;
  return 0;
}

/* ---- the signature in C ---------------------------------------------------------------- */
static const char *ctype(const af_case *c, int t, char *buf, size_t n) {
  const af_scalar_info *si = af_scalar((af_kind)t);
  if (t < AF_T_NSCALAR && si) return si->c;
  snprintf(buf, n, "t%d", t);
  (void)c;
  return buf;
}

/* Post-order: a type's parts are defined before it. */
static void visit_type(const af_case *c, int t, unsigned char *seen, int *order, int *n) {
  if (t < AF_T_NSCALAR || t >= c->ntypes || seen[t]) return;
  seen[t] = 1;
  const af_type *ty = &c->types[t];
  if (ty->kind == AF_T_ARRAY)
    visit_type(c, ty->elem, seen, order, n);
  else
    for (int i = 0; i < ty->nfields; i++)
      visit_type(c, ty->fields[i].type, seen, order, n);
  order[(*n)++] = t;
}

static void put_type(const af_case *c, int t, FILE *out) {
  const af_type *ty = &c->types[t];
  char b1[24], b2[24];
  const char *name = ctype(c, t, b1, sizeof b1);
  if (ty->kind == AF_T_ARRAY) {
    fprintf(out, "typedef %s %s[%u]; /* size %u align %u */\n", ctype(c, ty->elem, b2, sizeof b2),
            name, ty->count, ty->size, ty->alignment);
    return;
  }
  const char *kw = ty->kind == AF_T_UNION ? "union" : "struct";
  fprintf(out, "typedef %s %s {\n", kw, name);
  for (int i = 0; i < ty->nfields; i++) {
    const af_field *f = &ty->fields[i];
    const char *ft = ctype(c, f->type, b2, sizeof b2);
    if (f->bits == 0)
      fprintf(out, "  %s : 0;\n", ft);
    else if (f->bits > 0)
      fprintf(out, "  %s f%d : %d; /* bit %u */\n", ft, i, f->bits, f->bit_offset);
    else
      fprintf(out, "  %s%.0d%s%s f%d; /* byte %u */\n", f->align ? "_Alignas(" : "", f->align,
              f->align ? ") " : "", ft, i, f->offset);
  }
  fputs("}", out);
  if (ty->packed) fputs(" __attribute__((packed))", out);
  if (ty->align) fprintf(out, " __attribute__((aligned(%d)))", ty->align);
  fprintf(out, " %s; /* size %u align %u */\n", name, ty->size, ty->alignment);
}

static void put_loc(const af_loc *l, af_cc cc, FILE *out) {
  switch (l->kind) {
  case AF_LOC_NONE: fputs("nothing (empty)", out); break;
  case AF_LOC_REG:
    for (int i = 0; i < l->nparts; i++) {
      const af_part *p = &l->parts[i];
      const char *rn = af_reg_name(p->reg);
      if (p->size == 32 && p->reg >= AF_XMM0 && p->reg <= AF_XMM15)
        fprintf(out, "%sy%s", i ? " + " : "", rn + 1); /* __m256: YMMn */
      else
        fprintf(out, "%s%s", i ? " + " : "", rn);
      if (l->nparts > 1) fprintf(out, " [bytes %u-%u]", p->offset, p->offset + p->size - 1);
    }
    break;
  case AF_LOC_STACK:
    fprintf(out, "stack [rsp+%d] at the call, %u bytes", (int)l->stack_offset, l->stack_size);
    break;
  case AF_LOC_REF:
    if (l->nparts)
      fprintf(out, "by reference, pointer in %s", af_reg_name(l->parts[0].reg));
    else
      fprintf(out, "by reference, pointer at stack [rsp+%d]", (int)l->stack_offset);
    break;
  case AF_LOC_SRET:
    fprintf(out, "memory: the caller's buffer, its address passed in %s and returned in %s",
            af_reg_name(af_abi_get(cc)->sret_in), af_reg_name(af_abi_get(cc)->sret_out));
    break;
  case AF_LOC_X87: fputs("st0", out); break;
  }
  if (l->dup != AF_REG_NONE && l->kind == AF_LOC_REG)
    fprintf(out, ", also %s", af_reg_name(l->dup));
  if (l->ncls > 0 && (l->kind == AF_LOC_REG || l->kind == AF_LOC_STACK)) {
    fputs(" (", out);
    for (int i = 0; i < l->ncls; i++)
      fprintf(out, "%s%s", i ? ", " : "", af_class_name(l->cls[i]));
    fputs(")", out);
  }
}

static void put_proto(const af_case *c, int k, FILE *out) {
  const af_func *fn = &c->funcs[k];
  const af_sig *s = &fn->sig;
  char b[24];
  af_callinfo ci;
  af_error err = {{0}};
  int have_ci = af_classify(c, s, &ci, &err) == AF_OK;
  fprintf(out, "/* f%d: %s%s, %s", k, k == c->entry ? "the entry" : "called",
          fn->host ? " (host function)" : " (JIT code)", af_cc_name(s->cc));
  if (!have_ci) fprintf(out, "; af_classify: %s", err.msg);
  fputs(" */\n", out);
  fprintf(out, "__attribute__((%s)) %s f%d(", s->cc == AF_CC_WIN64 ? "ms_abi" : "sysv_abi",
          ctype(c, s->ret, b, sizeof b), k);
  int nshown = s->variadic ? s->nfixed : s->nparams;
  if (!s->nparams) fputs("void", out);
  for (int i = 0; i < s->nparams; i++) {
    int fixed = i < nshown;
    if (i == nshown) fputs(",\n    ... /* the call sites pass: */", out);
    fprintf(out, "%s\n    %s%s a%d%s", i && fixed ? "," : "", fixed ? "" : "/* ",
            ctype(c, s->params[i], b, sizeof b), i, fixed ? "" : " */");
    if (have_ci) fputs(" /* ", out), put_loc(&ci.args[i], s->cc, out), fputs(" */", out);
  }
  fputs(");\n", out);
  if (have_ci && s->ret != AF_T_VOID) fputs("/* returns in ", out), put_loc(&ci.ret, s->cc, out);
  if (have_ci && s->ret != AF_T_VOID) fputs(" */\n", out);
  if (have_ci && ci.stack_bytes)
    fprintf(out, "/* a call to it needs %u bytes of argument area%s */\n", ci.stack_bytes,
            s->cc == AF_CC_WIN64 ? " (home space included)" : "");
}

char *rp_signature_c(const af_case *c, int also, int also2) {
  char *buf = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&buf, &len);
  if (!out) return NULL;
  unsigned char seen[AF_MAX_TYPES] = {0};
  int order[AF_MAX_TYPES], n = 0;
  int fns[3] = {c->entry, also, also2};
  for (int j = 1; j < 3; j++) /* each function once, valid ones only */
    if (fns[j] < 0 || fns[j] >= c->nfuncs || fns[j] == fns[0] || (j == 2 && fns[2] == fns[1]))
      fns[j] = -1;
  for (int j = 0; j < 3; j++) {
    if (fns[j] < 0) continue;
    const af_sig *s = &c->funcs[fns[j]].sig;
    visit_type(c, s->ret, seen, order, &n);
    for (int i = 0; i < s->nparams; i++)
      visit_type(c, s->params[i], seen, order, &n);
  }
  for (int i = 0; i < n; i++)
    put_type(c, order[i], out);
  if (n) fputc('\n', out);
  for (int j = 0; j < 3; j++)
    if (fns[j] >= 0) put_proto(c, fns[j], out);
  if (fclose(out)) return free(buf), NULL;
  return buf;
}
