/* bucket.c - a finding's shape and bucket key, the legs' consensus, known-divergence rules. */
#include "bucket.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- shapes ------------------------------------------------------------------------------ */
static void cat(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void cat(char *out, size_t n, const char *fmt, ...) {
  size_t len = strlen(out);
  if (len + 1 >= n) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(out + len, n - len, fmt, ap);
  va_end(ap);
}

/* A type as its class for the ABI: the scalar, or "aggregate 9-16 bytes" (sizes grouped the way
 * the conventions group them: SysV passes up to 16 bytes in registers, Win64 up to 8). */
static void type_shape(const af_case *c, int t, char *out, size_t n) {
  static const char *const scalar[AF_T_NSCALAR] = {
      [AF_T_VOID] = "void",       [AF_T_BOOL] = "bool",          [AF_T_I8] = "int8",
      [AF_T_U8] = "int8",         [AF_T_I16] = "int16",          [AF_T_U16] = "int16",
      [AF_T_I32] = "int32",       [AF_T_U32] = "int32",          [AF_T_I64] = "int64",
      [AF_T_U64] = "int64",       [AF_T_I128] = "__int128",      [AF_T_U128] = "__int128",
      [AF_T_F16] = "_Float16",    [AF_T_F32] = "float",          [AF_T_F64] = "double",
      [AF_T_F80] = "long double", [AF_T_CF32] = "complex float", [AF_T_CF64] = "complex double",
      [AF_T_PTR] = "pointer",     [AF_T_M128] = "__m128",        [AF_T_M256] = "__m256"};
  if (t < 0 || t >= c->ntypes) {
    snprintf(out, n, "type?");
    return;
  }
  if (t < AF_T_NSCALAR) {
    snprintf(out, n, "%s", scalar[t]);
    return;
  }
  /* structs and unions are classified by one algorithm (psABI 3.2.3, MS "Parameter passing"):
   * one word for both, so that one bug is one bucket */
  uint32_t s = c->types[t].size;
  if (s == 0)
    snprintf(out, n, "empty aggregate");
  else
    snprintf(out, n, "aggregate %s bytes", s <= 8 ? "1-8" : s <= 16 ? "9-16" : "17+");
}

/* The same, coarser for a wrong return value of the entry (a consequence more often than not):
 * every integer width and pointers are "integer". */
static void type_shape_coarse(const af_case *c, int t, char *out, size_t n) {
  if (t == AF_T_BOOL || t == AF_T_PTR || (t >= AF_T_I8 && t <= AF_T_U64))
    snprintf(out, n, "integer");
  else
    type_shape(c, t, out, n);
}

static int is_gpr(af_reg r) { return r >= AF_RAX && r <= AF_R15; }

/* The registers of a location as classes: "gpr", "xmm", "ymm" (a __m256 in one part), "st0". */
static void parts_shape(const af_loc *l, char *out, size_t n) {
  for (int p = 0; p < l->nparts && p < 2; p++) {
    af_reg r = l->parts[p].reg;
    cat(out, n, "%s%s", p ? "+" : "",
        is_gpr(r)               ? "gpr"
        : r == AF_ST0           ? "st0"
        : l->parts[p].size > 16 ? "ymm"
                                : "xmm");
  }
}

/* Argument i of sig (classified as ci) as "TYPE arg WHERE". Where a SysV value went to the
 * stack because fewer registers were left than it needs (the split-at-R9 family of bugs,
 * llvm #41784), or a register argument came after such a value (the back-fill, llvm #123935),
 * the shape says so: those are the places ABI bugs cluster. */
/* full: always name the type (case-shape rules), not only where registers are involved. */
static void arg_shape(const af_case *c, const af_sig *sig, const af_callinfo *ci, int i, int full,
                      char *out, size_t n) {
  const af_abi *abi = af_abi_get(sig->cc);
  const af_loc *l = &ci->args[i];
  /* registers used before argument i, and whether an INTEGER value went to the stack while
   * general registers were still free */
  int gpr = ci->sret && sig->cc == AF_CC_SYSV ? 1 : 0, sse = 0, skipped = 0;
  for (int a = 0; a < i; a++) {
    const af_loc *b = &ci->args[a];
    if (b->kind == AF_LOC_REG || b->kind == AF_LOC_REF)
      for (int p = 0; p < b->nparts; p++)
        is_gpr(b->parts[p].reg) ? gpr++ : sse++;
    if (sig->cc == AF_CC_SYSV && b->kind == AF_LOC_STACK && b->ncls > 0 &&
        b->cls[0] == AF_CLS_INTEGER && gpr < abi->n_int_args)
      skipped = 1;
  }
  char where[96] = "";
  int typed = 1; /* the type matters where registers are involved */
  switch (l->kind) {
  case AF_LOC_NONE: cat(where, sizeof where, "ignored"); break;
  case AF_LOC_REG:
    cat(where, sizeof where, "in ");
    parts_shape(l, where, sizeof where);
    if (l->dup != AF_REG_NONE) cat(where, sizeof where, "+gpr copy");
    if (skipped && is_gpr(l->parts[0].reg))
      cat(where, sizeof where, ", back-filled after a stack arg");
    break;
  case AF_LOC_STACK: {
    /* on the stack only the slot's alignment matters, unless registers were left over */
    cat(where, sizeof where, "on the stack");
    typed = 0;
    if (sig->cc != AF_CC_SYSV) break;
    int need_gpr = 0, need_sse = 0, memory = 0;
    for (int k = 0; k < l->ncls; k++) {
      if (l->cls[k] == AF_CLS_INTEGER) need_gpr++;
      if (l->cls[k] == AF_CLS_SSE) need_sse++;
      if (l->cls[k] == AF_CLS_MEMORY || l->cls[k] == AF_CLS_X87) memory = 1;
    }
    int free_gpr = abi->n_int_args - gpr, free_sse = abi->n_sse_args - sse;
    if (!memory && need_gpr > free_gpr && free_gpr > 0)
      cat(where, sizeof where, ", only %s left", free_gpr == 1 ? "r9" : "some gprs"), typed = 1;
    else if (!memory && need_sse > free_sse && free_sse > 0)
      cat(where, sizeof where, ", only %s left", free_sse == 1 ? "xmm7" : "some xmms"), typed = 1;
    break;
  }
  case AF_LOC_REF:
    cat(where, sizeof where, "by reference %s", l->nparts ? "in gpr" : "on the stack");
    typed = 0;
    break;
  default: cat(where, sizeof where, "?"); break;
  }
  if (typed || full) {
    char ts[48];
    type_shape(c, sig->params[i], ts, sizeof ts);
    cat(out, n, "%s%s arg %s", sig->variadic && i >= sig->nfixed ? "variadic " : "", ts, where);
  } else {
    cat(out, n, "%sarg %s", l->kind == AF_LOC_STACK && l->stack_align >= 16 ? "16-aligned " : "",
        where);
  }
}

static void ret_shape(const af_case *c, const af_sig *sig, const af_callinfo *ci, int coarse,
                      char *out, size_t n) {
  char ts[48];
  (coarse ? type_shape_coarse : type_shape)(c, sig->ret, ts, sizeof ts);
  cat(out, n, "%s returned ", ts);
  switch (ci->ret.kind) {
  case AF_LOC_NONE: cat(out, n, "nowhere"); break;
  case AF_LOC_REG:
    cat(out, n, "in ");
    parts_shape(&ci->ret, out, n);
    break;
  case AF_LOC_SRET: cat(out, n, "via sret"); break;
  case AF_LOC_X87: cat(out, n, "in st0"); break;
  default: cat(out, n, "in memory"); break;
  }
}

/* `what` with every run of digits (hex after 0x too) replaced by N: the generic shape. */
static void normalise(const char *what, char *out, size_t n) {
  size_t o = 0;
  for (const char *p = what; *p && o + 2 < n;) {
    if (p[0] == '0' && p[1] == 'x' && isxdigit((unsigned char)p[2])) {
      p += 2;
      while (isxdigit((unsigned char)*p))
        p++;
      out[o++] = 'N';
    } else if (isdigit((unsigned char)*p)) {
      while (isdigit((unsigned char)*p))
        p++;
      out[o++] = 'N';
    } else {
      out[o++] = *p++;
    }
  }
  out[o] = 0;
}

/* The function a `what` names: "... to f5", "of f3 (clang-19 -> gcc-12)", "f2". -1: none. */
static int named_func(const char *what) {
  for (const char *p = what; *p; p++)
    if (*p == 'f' && (p == what || p[-1] == ' ') && isdigit((unsigned char)p[1])) {
      char *end;
      long k = strtol(p + 1, &end, 10);
      if (!*end || *end == ' ' || *end == ')' || *end == ',' || *end == ':') return (int)k;
    }
  return -1;
}

static int starts(const char *s, const char *prefix) { return !strncmp(s, prefix, strlen(prefix)); }

/* The compiler a compiler leg's finding names, for its shape: "clang-19" in "arg 2 of call 0
 * to f1 (clang-19)", "clang-19 -> gcc-12". Copies the parenthesised tail or, for a `what`
 * without one, nothing. */
static void compiler_tail(const char *what, char *out, size_t n) {
  const char *l = strrchr(what, '(');
  const char *r = l ? strchr(l, ')') : NULL;
  /* "(i64)" in a value-diff `where` is a type, not a compiler */
  if (l && r && r > l + 1 && (strstr(l, "clang") || strstr(l, "gcc")))
    cat(out, n, " [%.*s]", (int)(r - l - 1), l + 1);
}

static int is_compiler_leg(const char *leg) {
  return !strcmp(leg, "cc-caller") || !strcmp(leg, "cc-callee") || !strcmp(leg, "cross-cc") ||
         !strcmp(leg, "c-oracle");
}

void camp_shape(const af_case *c, const af_finding *f, const camp_crash *cr, char *out, size_t n) {
  if (!n) return;
  out[0] = 0;
  const char *ck = f->check, *what = f->what;
  if (!strcmp(ck, "crash") || !strcmp(ck, "timeout")) {
    const char *sig = !strcmp(ck, "timeout") ? "hang"
                      : cr && cr->sig > 0    ? camp_signame(cr->sig)
                      : what[0]              ? what
                                             : "died";
    if (!strcmp(sig, "signal") && cr) {
      snprintf(out, n, "signal %d", cr->sig);
    } else {
      snprintf(out, n, "%s", sig);
    }
    if (cr && cr->have_regs)
      cat(out, n, ", rip %s JIT code", cr->rip_in_jit ? "in" : "outside");
    else if (!strcmp(f->leg, "emu") || !strcmp(f->leg, "emu-unicorn"))
      cat(out, n, " (emulated)");
    else
      cat(out, n, " (no crash record)");
    return;
  }
  if (!strcmp(ck, "callee-saved")) {
    /* the register, wherever `what` names it ("rbx", "xmm6 in f2", the emulator's "f3 rbx"),
     * without the function. The Win64 callee-saved XMM registers are one group: a JIT that
     * does not save them loses all. */
    char reg[16] = "";
    for (const char *p = what; *p;) {
      size_t len = strcspn(p, " ");
      int fn = p[0] == 'f' && len > 1 && isdigit((unsigned char)p[1]);
      if (len && len < sizeof reg && !fn && strncmp(p, "in ", 3) && !reg[0])
        snprintf(reg, sizeof reg, "%.*s", (int)len, p);
      p += len;
      while (*p == ' ')
        p++;
    }
    snprintf(out, n, "%s clobbered",
             !strncmp(reg, "xmm", 3) ? "xmm6-15"
             : reg[0]                ? reg
                                     : "register");
    return;
  }
  int k = named_func(what);
  int at_call = starts(what, "call ") || strstr(what, " call ") != NULL;
  if (c && k >= 0 && k < c->nfuncs) {
    const af_sig *sig = &c->funcs[k].sig;
    af_callinfo ci;
    if (af_classify(c, sig, &ci, NULL) == AF_OK) {
      const char *pre =
          sig->cc != c->cc ? (sig->cc == AF_CC_SYSV ? "sysv callee: " : "win64 callee: ") : "";
      cat(out, n, "%s", pre);
      int i;
      if ((!strcmp(ck, "arg") || !strcmp(ck, "arg-ext") || !strcmp(ck, "vararg-dup")) &&
          sscanf(what, "arg %d", &i) == 1 && i >= 0 && i < sig->nparams) {
        arg_shape(c, sig, &ci, i, 0, out, n);
        compiler_tail(what, out, n);
        return;
      }
      if (!strcmp(ck, "result") && starts(what, "return of")) {
        ret_shape(c, sig, &ci, 0, out, n);
        compiler_tail(what, out, n);
        return;
      }
      if (!strcmp(ck, "sret-ptr") || !strcmp(ck, "sret-rax") || (!strcmp(ck, "arg") && ci.sret)) {
        ret_shape(c, sig, &ci, 0, out, n);
        return;
      }
      if (!strcmp(ck, "vararg-al")) {
        cat(out, n, "AL at a variadic call");
        return;
      }
      out[0] = 0;
    }
  }
  if (!strcmp(ck, "stack-align") || !strcmp(ck, "df") || !strcmp(ck, "mxcsr") ||
      !strcmp(ck, "x87cw") || !strcmp(ck, "rsp") || !strcmp(ck, "x87-stack")) {
    const char *thing = !strcmp(ck, "stack-align") ? "rsp misaligned"
                        : !strcmp(ck, "df")        ? "DF set"
                        : !strcmp(ck, "mxcsr")     ? "MXCSR changed"
                        : !strcmp(ck, "x87cw")     ? "x87 control word changed"
                        : !strcmp(ck, "rsp")       ? "rsp wrong"
                                                   : "x87 stack not empty";
    snprintf(out, n, "%s %s", thing, at_call ? "at a call" : "after the return");
    return;
  }
  if (c && (!strcmp(ck, "result") || !strcmp(ck, "sret-rax") || !strcmp(ck, "sret-ptr")) &&
      c->entry >= 0 && c->entry < c->nfuncs) {
    const af_sig *sig = &c->funcs[c->entry].sig;
    af_callinfo ci;
    if (af_classify(c, sig, &ci, NULL) == AF_OK) {
      ret_shape(c, sig, &ci, !strcmp(ck, "result"), out, n);
      if (is_compiler_leg(f->leg) && (strstr(what, "clang") || strstr(what, "gcc")))
        cat(out, n, " [%s]", what);
      return;
    }
  }
  if (!strcmp(ck, "objects")) {
    snprintf(out, n, "object memory");
    compiler_tail(what, out, n);
    if (!strchr(out, '[') && is_compiler_leg(f->leg) &&
        (strstr(what, "clang") || strstr(what, "gcc")))
      cat(out, n, " [%s]", what);
    return;
  }
  if (!strcmp(ck, "checksum") && !strcmp(f->leg, "c-oracle")) {
    snprintf(out, n, "checksum [%s]", what);
    const char *why = NULL;
    if (c)
      for (int fn = 0; fn < c->nfuncs && !why; fn++)
        af_abi_divergences(c, &c->funcs[fn].sig, &why);
    if (why) cat(out, n, ", divergent construct %s", why);
    return;
  }
  if (!strcmp(ck, "garbage")) {
    snprintf(out, n, "outcome depends on undefined bits");
    return;
  }
  normalise(what[0] ? what : ck, out, n);
}

int camp_case_suspect(const af_case *c, char *out, size_t n) {
  out[0] = 0;
  for (int f = 0; f < c->nfuncs; f++) {
    const af_sig *sig = &c->funcs[f].sig;
    af_callinfo ci;
    if (af_classify(c, sig, &ci, NULL) != AF_OK) continue;
    for (int i = 0; i < sig->nparams; i++) {
      char sh[160] = "";
      if (sig->cc != c->cc)
        snprintf(sh, sizeof sh, "%s callee: ", sig->cc == AF_CC_SYSV ? "sysv" : "win64");
      arg_shape(c, sig, &ci, i, 0, sh, sizeof sh);
      if (strstr(sh, " left") || strstr(sh, "back-filled")) {
        snprintf(out, n, "%s", sh);
        return 1;
      }
    }
  }
  return 0;
}

int camp_check_is_consequence(const char *check) {
  static const char *const c[] = {"result", "objects", "checksum", "host-calls", "calls"};
  for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
    if (!strcmp(check, c[i])) return 1;
  return 0;
}

int camp_check_is_value(const char *check) {
  return !strcmp(check, "arg") || !strcmp(check, "arg-ext") || !strcmp(check, "vararg-dup");
}

void camp_bucket_key(const char *leg, const char *check, int cc, const char *shape, char *out,
                     size_t n) {
  snprintf(out, n, "%s/%s/%s: %s", leg, check, af_cc_name((af_cc)cc), shape);
}

/* ---- compilers and divergences --------------------------------------------------------------- */
/* 1 if `name` occurs in s as a whole word (not "clang-19" inside "clang-190"). */
static int has_word(const char *s, const char *name) {
  size_t n = strlen(name);
  if (!n) return 0;
  for (const char *p = strstr(s, name); p; p = strstr(p + 1, name)) {
    int before = p == s || !(isalnum((unsigned char)p[-1]) || p[-1] == '-' || p[-1] == '.');
    int after = !(isalnum((unsigned char)p[n]) || p[n] == '-' || p[n] == '.');
    if (before && after) return 1;
  }
  return 0;
}

unsigned camp_compilers_named(const camp_compiler *ccs, int n, const char *what) {
  unsigned m = 0;
  for (int k = 0; k < n && k < 32; k++) {
    const char *base = strrchr(ccs[k].name, '/');
    if (has_word(what, ccs[k].name) || has_word(what, ccs[k].id) ||
        (base && has_word(what, base + 1)))
      m |= 1u << k;
  }
  return m;
}

static int add_id(const char **ids, int n, int max, const char *id) {
  if (!id) return n;
  for (int i = 0; i < n; i++)
    if (!strcmp(ids[i], id)) return n;
  if (n < max) ids[n++] = id;
  return n;
}

int camp_case_divergences(const af_case *c, const camp_compiler *ccs, int ncc, const char **ids,
                          int max) {
  int n = 0;
  for (int f = 0; f < c->nfuncs; f++) {
    const af_sig *sig = &c->funcs[f].sig;
    const char *why = NULL;
    if (af_abi_divergences(c, sig, &why)) n = add_id(ids, n, max, why);
    for (int k = 0; k < ncc; k++) {
      why = NULL;
      if (ccs[k].major && af_abi_deviates(c, sig, ccs[k].family, ccs[k].major, &why))
        n = add_id(ids, n, max, why);
    }
    for (int fam = 0; fam < AF_FAMILY_COUNT; fam++) { /* any version of either family */
      why = NULL;
      if (af_abi_deviates(c, sig, (af_family)fam, 0, &why)) n = add_id(ids, n, max, why);
    }
  }
  return n;
}

/* ---- known-divergence rules ---------------------------------------------------------------- */
typedef struct {
  char id[64];
  char legs[256], checks[256], divs[256]; /* space-separated lists; "" = any */
  int has_cc;
  af_family family;
  int lo, hi; /* major versions, inclusive; 0 = unbounded */
  char shape[128], what[128], inject[64];
  char case_shape[128]; /* some argument or return of the case has this shape */
  char backend[128];    /* a substring of the campaign's --backend spec ("builtin": ours) */
  char reason[320];
} rule;

struct camp_rules {
  int n, cap;
  rule *r;
};

int camp_rules_count(const camp_rules *r) { return r ? r->n : 0; }
void camp_rules_free(camp_rules *r) {
  if (r) free(r->r), free(r);
}

const char *camp_rules_default_path(void) {
#ifdef AF_KNOWN_RULES_PATH
  return AF_KNOWN_RULES_PATH;
#else
  /* __FILE__ is the absolute path of this source (CMake compiles absolute paths): the rules
   * file sits at ../corpus/ from harness/ */
  static char path[4096];
  if (!path[0]) {
    snprintf(path, sizeof path, "%s", __FILE__);
    char *slash = strrchr(path, '/');
    if (slash) *slash = 0;
    slash = strrchr(path, '/');
    if (slash)
      *slash = 0;
    else
      snprintf(path, sizeof path, ".");
    cat(path, sizeof path, "/corpus/known-divergences.rules");
  }
  return path;
#endif
}

static char *trim(char *s) {
  while (isspace((unsigned char)*s))
    s++;
  char *e = s + strlen(s);
  while (e > s && isspace((unsigned char)e[-1]))
    *--e = 0;
  return s;
}

/* "gcc", "clang 14", "clang <= 17", "clang >= 20", "clang 18-19", "any". 0 ok. */
static int parse_compiler(char *v, rule *r) {
  if (!strcmp(v, "any") || !strcmp(v, "*")) return 0;
  if (!strncmp(v, "gcc", 3))
    r->family = AF_FAMILY_GCC, v += 3;
  else if (!strncmp(v, "clang", 5))
    r->family = AF_FAMILY_CLANG, v += 5;
  else
    return -1;
  r->has_cc = 1, r->lo = r->hi = 0;
  v = trim(v);
  if (*v == '-') v = trim(v + 1); /* "clang-14" */
  if (!*v) return 0;
  int a, b, used = 0;
  if (sscanf(v, "<= %d%n", &a, &used) == 1 && !v[used])
    r->hi = a;
  else if (sscanf(v, ">= %d%n", &a, &used) == 1 && !v[used])
    r->lo = a;
  else if (sscanf(v, "%d - %d%n", &a, &b, &used) == 2 && !v[used] && a <= b)
    r->lo = a, r->hi = b;
  else if (sscanf(v, "%d%n", &a, &used) == 1 && !v[used])
    r->lo = r->hi = a;
  else
    return -1;
  return (r->lo < 0 || r->hi < 0) ? -1 : 0;
}

/* A list value: commas become spaces. */
static void set_list(char *dst, size_t n, const char *v) {
  snprintf(dst, n, "%s", v);
  for (char *p = dst; *p; p++)
    if (*p == ',') *p = ' ';
}

af_status camp_rules_parse(const char *name, const char *text, camp_rules **out, af_error *err) {
  camp_rules *rs = calloc(1, sizeof *rs);
  *out = NULL;
  if (!rs) return AF_ERR_NOMEM;
  char line[1024];
  int lineno = 0;
  rule *cur = NULL;
  for (const char *p = text; *p;) {
    const char *e = strchr(p, '\n');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    lineno++;
    snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1), p);
    p += len + (e ? 1 : 0);
    char *s = trim(line);
    if (!*s || *s == '#') continue; /* whole-line comments only: reasons cite "llvm #41784" */
#define FAIL(...)                                                                                  \
  do {                                                                                             \
    if (err) {                                                                                     \
      int o_ = snprintf(err->msg, sizeof err->msg, "%s:%d: ", name, lineno);                       \
      if (o_ > 0 && (size_t)o_ < sizeof err->msg)                                                  \
        snprintf(err->msg + o_, sizeof err->msg - (size_t)o_, __VA_ARGS__);                        \
    }                                                                                              \
    camp_rules_free(rs);                                                                           \
    return AF_ERR_PARSE;                                                                           \
  } while (0)
    if (*s == '[') {
      char *end = strchr(s, ']');
      if (!end || end[1] || end == s + 1) FAIL("expected [rule-id]");
      if (cur && !cur->reason[0]) FAIL("rule '%s' has no reason", cur->id);
      if (rs->n == rs->cap) {
        int cap = rs->cap ? rs->cap * 2 : 16;
        rule *nr = realloc(rs->r, (size_t)cap * sizeof *nr);
        if (!nr) {
          camp_rules_free(rs);
          return AF_ERR_NOMEM;
        }
        rs->r = nr, rs->cap = cap;
      }
      cur = &rs->r[rs->n++];
      memset(cur, 0, sizeof *cur);
      snprintf(cur->id, sizeof cur->id, "%.*s", (int)(end - s - 1), s + 1);
      continue;
    }
    char *eq = strchr(s, '=');
    if (!eq) FAIL("expected 'key = value' or [rule-id]");
    *eq = 0;
    char *k = trim(s), *v = trim(eq + 1);
    if (!cur) FAIL("'%s' before the first [rule-id]", k);
    if (!strcmp(k, "legs") || !strcmp(k, "leg"))
      set_list(cur->legs, sizeof cur->legs, v);
    else if (!strcmp(k, "checks") || !strcmp(k, "check"))
      set_list(cur->checks, sizeof cur->checks, v);
    else if (!strcmp(k, "divergence") || !strcmp(k, "divergences")) {
      set_list(cur->divs, sizeof cur->divs, v);
      char tmp[256];
      snprintf(tmp, sizeof tmp, "%s", cur->divs);
      for (char *t = strtok(tmp, " "); t; t = strtok(NULL, " ")) {
        int found = !strcmp(t, "any") || !strcmp(t, "*");
        for (int d = 0; d < af_divergence_count() && !found; d++)
          found = !strcmp(af_divergence_get(d)->id, t);
        if (!found) FAIL("divergence '%s' is not in the table (gen/abi.c)", t);
      }
    } else if (!strcmp(k, "compiler")) {
      if (parse_compiler(v, cur))
        FAIL("compiler '%s': expected gcc|clang [N | N-M | <= N | >= N]", v);
    } else if (!strcmp(k, "shape"))
      snprintf(cur->shape, sizeof cur->shape, "%s", v);
    else if (!strcmp(k, "case-shape"))
      snprintf(cur->case_shape, sizeof cur->case_shape, "%s", v);
    else if (!strcmp(k, "what"))
      snprintf(cur->what, sizeof cur->what, "%s", v);
    else if (!strcmp(k, "inject"))
      snprintf(cur->inject, sizeof cur->inject, "%s", v);
    else if (!strcmp(k, "backend"))
      snprintf(cur->backend, sizeof cur->backend, "%s", v);
    else if (!strcmp(k, "reason"))
      snprintf(cur->reason, sizeof cur->reason, "%s", v);
    else
      FAIL("unknown key '%s' (legs, checks, compiler, divergence, shape, case-shape, what, inject, "
           "backend, reason)",
           k);
  }
  if (cur && !cur->reason[0]) FAIL("rule '%s' has no reason", cur->id);
#undef FAIL
  *out = rs;
  return AF_OK;
}

af_status camp_rules_load(const char *path, camp_rules **out, af_error *err) {
  *out = NULL;
  FILE *f = fopen(path, "r");
  if (!f) {
    if (err) snprintf(err->msg, sizeof err->msg, "cannot read '%s'", path);
    return AF_ERR_IO;
  }
  char *buf = NULL;
  size_t cap = 0, len = 0;
  for (;;) {
    if (cap - len < 4096) {
      char *nb = realloc(buf, cap = cap ? cap * 2 : 16384);
      if (!nb) return free(buf), fclose(f), AF_ERR_NOMEM;
      buf = nb;
    }
    size_t r = fread(buf + len, 1, cap - len - 1, f);
    len += r;
    if (r == 0) break;
  }
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    free(buf);
    if (err) snprintf(err->msg, sizeof err->msg, "cannot read '%s'", path);
    return AF_ERR_IO;
  }
  buf[len] = 0;
  af_status s = camp_rules_parse(path, buf, out, err);
  free(buf);
  return s;
}

/* 1 if the space-separated list is empty, "*", or holds word. */
static int in_list(const char *list, const char *word) {
  if (!list[0]) return 1;
  size_t n = strlen(word);
  for (const char *p = list; *p;) {
    while (*p == ' ')
      p++;
    const char *e = p;
    while (*e && *e != ' ')
      e++;
    if ((e - p == 1 && *p == '*') || ((size_t)(e - p) == n && !strncmp(p, word, n))) return 1;
    p = e;
  }
  return 0;
}

/* 1 if some argument or return value of some function of c has a shape containing sub. */
static int case_has_shape(const af_case *c, const char *sub) {
  for (int f = 0; f < c->nfuncs; f++) {
    const af_sig *sig = &c->funcs[f].sig;
    af_callinfo ci;
    if (af_classify(c, sig, &ci, NULL) != AF_OK) continue;
    char sh[160];
    for (int i = 0; i < sig->nparams; i++) {
      sh[0] = 0;
      arg_shape(c, sig, &ci, i, 1, sh, sizeof sh);
      if (strstr(sh, sub)) return 1;
    }
    sh[0] = 0;
    ret_shape(c, sig, &ci, 0, sh, sizeof sh);
    if (strstr(sh, sub)) return 1;
  }
  return 0;
}

static int rule_matches(const rule *r, const camp_known_query *q) {
  if (!in_list(r->legs, q->leg) || !in_list(r->checks, q->check)) return 0;
  if (r->shape[0] && (!q->shape || !strstr(q->shape, r->shape))) return 0;
  if (r->what[0] && (!q->what || !strstr(q->what, r->what))) return 0;
  if (r->inject[0] && (!q->inject || strcmp(q->inject, r->inject))) return 0;
  if (r->backend[0] && !strstr(q->backend ? q->backend : "builtin", r->backend)) return 0;
  if (r->case_shape[0] && (!q->c || !case_has_shape(q->c, r->case_shape))) return 0;
  if (r->divs[0]) {
    int hit = 0;
    for (int d = 0; d < q->ndivs && !hit; d++)
      hit = in_list(r->divs, q->divs[d]) || in_list(r->divs, "any");
    if (!hit) return 0;
  }
  if (r->has_cc) {
    /* a finding that names no compiler (a crash of a compiler leg) is blamed on one only when
     * the campaign has just one */
    if (!q->cc_mask && q->ncc != 1) return 0;
    int hit = 0;
    for (int k = 0; k < q->ncc && !hit; k++) {
      if (q->cc_mask && !((q->cc_mask >> k) & 1)) continue;
      const camp_compiler *cc = &q->ccs[k];
      if (cc->family != r->family) continue;
      if ((r->lo || r->hi) && !cc->major) continue; /* version unknown */
      hit = (!r->lo || cc->major >= r->lo) && (!r->hi || cc->major <= r->hi);
    }
    if (!hit) return 0;
  }
  return 1;
}

int camp_rules_match(const camp_rules *r, const camp_known_query *q, const char **id,
                     const char **reason) {
  for (int i = 0; r && i < r->n; i++)
    if (rule_matches(&r->r[i], q)) {
      if (id) *id = r->r[i].id;
      if (reason) *reason = r->r[i].reason;
      return 1;
    }
  return 0;
}

/* ---- consensus ------------------------------------------------------------------------------ */
int camp_leg_impls(const char *leg, unsigned mask, const camp_compiler *ccs, int ncc,
                   const char **names, int max) {
  int n = 0, jit = 1, ffi = 0, comp = 0;
  if (!strcmp(leg, "ffi-caller") || !strcmp(leg, "ffi-callee"))
    ffi = 1;
  else if (!strcmp(leg, "cc-caller") || !strcmp(leg, "cc-callee"))
    comp = 1;
  else if (!strcmp(leg, "cross-cc") || !strcmp(leg, "c-oracle"))
    comp = 1, jit = 0;
  else if (!strcmp(leg, "interp"))
    jit = 0;
  else if (strcmp(leg, "runner") && strcmp(leg, "native") && strcmp(leg, "garbage") &&
           strcmp(leg, "emu") && strcmp(leg, "emu-unicorn"))
    jit = 0; /* a leg this table does not know: it stands for itself */
  if (jit && n < max) names[n++] = "jit";
  if (ffi && n < max) names[n++] = "libffi";
  if (comp)
    for (int k = 0; k < ncc && n < max; k++)
      if (!mask || ((mask >> k) & 1)) names[n++] = ccs[k].id;
  if (!jit && !comp && n < max) names[n++] = !strcmp(leg, "interp") ? "interp" : leg;
  return n;
}

static int name_in(const char *const *set, int n, const char *x) {
  for (int i = 0; i < n; i++)
    if (!strcmp(set[i], x)) return 1;
  return 0;
}

/* A vote as the consensus counts it: the implementations that took part, and the verdict. A
 * compiler leg's verdict is split per compiler: a failing cc-caller whose findings name
 * clang-14 only passed with the others. */
typedef struct {
  const char *im[8];
  int n, pass;
} ballot;

static int is_cc_leg(const char *leg) {
  return !strcmp(leg, "cc-caller") || !strcmp(leg, "cc-callee") || !strcmp(leg, "c-oracle");
}

static int ballots(const camp_vote *v, int n, const camp_compiler *ccs, int ncc, ballot *b,
                   int max) {
  int nb = 0;
  for (int i = 0; i < n; i++) {
    if (v[i].verdict != AF_LEG_PASS && v[i].verdict != AF_LEG_FAIL) continue;
    int pass = v[i].verdict == AF_LEG_PASS;
    if (is_cc_leg(v[i].leg) && ncc > 0) {
      for (int k = 0; k < ncc && k < 32 && nb < max; k++) {
        int named = (v[i].ccs >> k) & 1;
        ballot *x = &b[nb++];
        x->n = camp_leg_impls(v[i].leg, 1u << k, ccs, ncc, x->im, 8);
        /* failing with named compilers: those failed, the rest passed; none named: all failed */
        x->pass = pass || (v[i].ccs && !named);
      }
      continue;
    }
    if (nb == max) break;
    ballot *x = &b[nb++];
    x->n = camp_leg_impls(v[i].leg, pass ? 0 : v[i].ccs, ccs, ncc, x->im, 8);
    x->pass = pass;
  }
  return nb;
}

int camp_outlier(const camp_vote *v, int n, const camp_compiler *ccs, int ncc, char *out,
                 size_t nout, const char **agree, int max_agree) {
  enum { MAXB = 64, MAXI = 8 };
  ballot b[MAXB];
  int nb = ballots(v, n, ccs, ncc, b, MAXB);
  const char *cand[MAXI];
  int ncand = -1; /* -1: no failing ballot yet */
  out[0] = 0;
  for (int i = 0; i < nb; i++) {
    if (b[i].pass) continue;
    if (ncand < 0) {
      memcpy(cand, b[i].im, (size_t)b[i].n * sizeof *cand);
      ncand = b[i].n;
      continue;
    }
    int k = 0;
    for (int c = 0; c < ncand; c++)
      if (name_in(b[i].im, b[i].n, cand[c])) cand[k++] = cand[c];
    ncand = k;
  }
  /* vouched: took part in a passing ballot with another implementation (a leg that checks one
   * implementation against itself, runner or c-oracle, vouches for nothing) */
  const char *vouched[32];
  int nv = 0;
  for (int i = 0; i < nb; i++)
    if (b[i].pass && b[i].n >= 2)
      for (int k = 0; k < b[i].n; k++)
        if (!name_in(vouched, nv, b[i].im[k]) && nv < 32) vouched[nv++] = b[i].im[k];
  if (ncand > 0) {
    /* the candidates that passed the smallest share of their ballots */
    double share[MAXI], best = 2;
    for (int c = 0; c < ncand; c++) {
      int p = 0, all = 0;
      for (int i = 0; i < nb; i++)
        if (name_in(b[i].im, b[i].n, cand[c])) all++, p += b[i].pass;
      share[c] = all ? (double)p / all : 0;
      if (share[c] < best) best = share[c];
    }
    int nr = 0;
    for (int c = 0; c < ncand; c++)
      if (share[c] == best) cand[nr++] = cand[c];
    if (nr < ncand || ncand == 1)
      for (int c = 0; c < nr; c++)
        cat(out, nout, "%s%s", c ? "+" : "", cand[c]);
  }
  int na = 0;
  for (int k = 0; k < nv && na < max_agree; k++) {
    int in_out = 0;
    for (const char *p = out; *p && !in_out;) {
      size_t len = strcspn(p, "+");
      in_out = len == strlen(vouched[k]) && !strncmp(p, vouched[k], len);
      p += len + (p[len] == '+');
    }
    if (!in_out) agree[na++] = vouched[k];
  }
  return na;
}
