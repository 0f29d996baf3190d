/* abi_testlib.h - the tiny type/signature notation and row checker of the layout and ABI tests. */
#ifndef ABIFUZZ_ABI_TESTLIB_H
#define ABIFUZZ_ABI_TESTLIB_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gen.h"

/* Type definitions:
 *   def    := ("S" | "U") ["p"] ["aN"] ":" field*      struct / union, packed, aligned(N)
 *   field  := ["aN/"] base [":" bits] ["*" count]      _Alignas(N), bit-field, array
 *   base   := scalar name ("i32", "f80", ...) | "$k"   (the k-th def of the row) */
static inline int scalar_by_name(const char *s, size_t n) {
  for (int k = 0; k < AF_T_NSCALAR; k++) {
    const char *nm = af_scalar((af_kind)k)->name;
    if (strlen(nm) == n && strncmp(nm, s, n) == 0) return k;
  }
  return -1;
}

/* Parses one def into case c; returns the new type id or -1. */
static inline int parse_def(af_case *c, const char *d, const int *ids) {
  af_kind kind = d[0] == 'U' ? AF_T_UNION : AF_T_STRUCT;
  int packed = 0, align = 0;
  const char *p = d + 1;
  while (*p && *p != ':') {
    if (*p == 'p') packed = 1;
    if (*p == 'a')
      align = (int)strtol(p + 1, (char **)&p, 10);
    else
      p++;
  }
  if (*p == ':') p++;
  af_field fs[AF_MAX_FIELDS];
  int n = 0;
  for (;;) {
    while (*p == ' ')
      p++;
    if (!*p) break;
    af_field *f = &fs[n++];
    memset(f, 0, sizeof *f);
    f->bits = -1;
    if (*p == 'a') {
      f->align = (int)strtol(p + 1, (char **)&p, 10);
      p++; /* '/' */
    }
    if (*p == '$') {
      f->type = ids[strtol(p + 1, (char **)&p, 10)];
    } else {
      const char *q = p;
      while ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
        p++;
      f->type = scalar_by_name(q, (size_t)(p - q));
      if (f->type < 0) return -1;
    }
    if (*p == ':') f->bits = (int)strtol(p + 1, (char **)&p, 10);
    if (*p == '*')
      f->type = af_type_add_array(c, f->type, (uint32_t)strtoul(p + 1, (char **)&p, 10));
  }
  return af_type_add_struct(c, kind, n, fs, packed, align);
}

/* ---- C spelling of a case's types: struct/union r<r>_t<id>, fields f<i> ---- */
/* Declarators are short; gcc's -O2 truncation analysis cannot see that. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-truncation"
static inline void c_decl(const af_case *c, int r, int type, const char *name, char *out,
                          size_t n) {
  char buf[160];
  const af_type *t = &c->types[type];
  int w;
  if (t->kind == AF_T_ARRAY) {
    w = snprintf(buf, sizeof buf, "%s[%u]", name, t->count);
    if (w > 0 && (size_t)w < sizeof buf) c_decl(c, r, t->elem, buf, out, n);
  } else if (type < AF_T_NSCALAR) {
    w = snprintf(out, n, "%s %s", af_scalar((af_kind)type)->c, name);
  } else {
    w = snprintf(out, n, "%s r%d_t%d %s", t->kind == AF_T_UNION ? "union" : "struct", r, type,
                 name);
  }
  (void)w;
}
#pragma GCC diagnostic pop

static inline void c_types(FILE *o, const af_case *c, int r) {
  for (int id = AF_T_NSCALAR; id < c->ntypes; id++) {
    const af_type *t = &c->types[id];
    if (t->kind == AF_T_ARRAY) continue;
    fprintf(o, "%s", t->kind == AF_T_UNION ? "union" : "struct");
    if (t->packed && t->align)
      fprintf(o, " __attribute__((packed, aligned(%d)))", t->align);
    else if (t->packed)
      fprintf(o, " __attribute__((packed))");
    else if (t->align)
      fprintf(o, " __attribute__((aligned(%d)))", t->align);
    fprintf(o, " r%d_t%d {", r, id);
    for (int i = 0; i < t->nfields; i++) {
      const af_field *f = &t->fields[i];
      char nm[16], d[256];
      snprintf(nm, sizeof nm, "f%d", i);
      c_decl(c, r, f->type, f->bits == 0 ? "" : nm, d, sizeof d);
      if (f->align) fprintf(o, " _Alignas(%d)", f->align);
      if (f->bits >= 0)
        fprintf(o, " %s:%d;", d, f->bits);
      else
        fprintf(o, " %s;", d);
    }
    fprintf(o, " };\n");
  }
}

/* Signatures: "ret(p0 p1 ... v0 v1)": types as in a field base; "..." starts
 * the variadic arguments. Returns 0 on success. */
static inline int parse_sig(const char *s, const int *ids, af_cc cc, af_sig *sig) {
  memset(sig, 0, sizeof *sig);
  sig->cc = cc;
  int *slot = &sig->ret;
  const char *p = s;
  for (;;) {
    while (*p == ' ' || *p == '(' || *p == ')')
      p++;
    if (!*p) break;
    if (strncmp(p, "...", 3) == 0) {
      sig->variadic = 1;
      sig->nfixed = sig->nparams;
      p += 3;
      continue;
    }
    int t;
    if (*p == '$') {
      t = ids[strtol(p + 1, (char **)&p, 10)];
    } else {
      const char *q = p;
      while ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
        p++;
      t = scalar_by_name(q, (size_t)(p - q));
      if (t < 0) return -1;
    }
    if (slot == &sig->ret) {
      sig->ret = t;
      slot = NULL;
    } else {
      if (sig->nparams >= AF_MAX_PARAMS) return -1;
      sig->params[sig->nparams++] = t;
    }
  }
  if (!sig->variadic) sig->nfixed = sig->nparams;
  return 0;
}

/* An ABI row: type defs, a signature, the expected locations:
 *   "RET | A0 A1 ... | key=value ..."
 * where a location is
 *   none            AF_LOC_NONE
 *   st0             AF_LOC_X87
 *   sret            AF_LOC_SRET
 *   sN              AF_LOC_STACK at offset N (optional "/size")
 *   &reg  &sN       AF_LOC_REF with the pointer in reg / at stack offset N
 *   p,p             AF_LOC_REG parts; p = reg or reg@off:size
 * an argument may end in "|reg" inside its token as "xmm1^rdx" for dup.
 * keys: stack (stack_bytes) int (int_used) sse (sse_used) div (0/1;
 * default 0, always checked). */
typedef struct {
  int line;
  const char *defs[4];
  const char *sig;
  const char *expect;
} abi_row;

#define ABI_ROW(...)                                                                               \
  { __LINE__, __VA_ARGS__ }

static inline int reg_by_name(const char *s, size_t n) {
  for (int r = 0; r < AF_REG_COUNT; r++) {
    const char *nm = af_reg_name((af_reg)r);
    if (strlen(nm) == n && strncmp(nm, s, n) == 0) return r;
  }
  return -2;
}

static inline size_t tok_len(const char *p) {
  size_t n = 0;
  while (p[n] && p[n] != ' ' && p[n] != '|')
    n++;
  return n;
}

/* Checks one location against token tok[0..n). */
static inline void check_loc(int line, const char *what, const af_loc *l, const char *tok,
                             size_t n) {
  char t[128];
  if (n >= sizeof t) n = sizeof t - 1;
  memcpy(t, tok, n);
  t[n] = 0;
  char *dup = strchr(t, '^');
  if (dup) {
    *dup++ = 0;
    int r = reg_by_name(dup, strlen(dup));
    CHECKF(l->dup == r, "line %d %s: dup %s, expected %s", line, what, af_reg_name(l->dup), dup);
  } else {
    CHECKF(l->dup == AF_REG_NONE, "line %d %s: unexpected dup %s", line, what, af_reg_name(l->dup));
  }
  if (strcmp(t, "none") == 0) {
    CHECKF(l->kind == AF_LOC_NONE, "line %d %s: kind %d, expected none", line, what, l->kind);
  } else if (strcmp(t, "st0") == 0) {
    CHECKF(l->kind == AF_LOC_X87, "line %d %s: kind %d, expected st0", line, what, l->kind);
  } else if (strcmp(t, "sret") == 0) {
    CHECKF(l->kind == AF_LOC_SRET, "line %d %s: kind %d, expected sret", line, what, l->kind);
  } else if (t[0] == 's' && t[1] >= '0' && t[1] <= '9') {
    char *e;
    long off = strtol(t + 1, &e, 10);
    CHECKF(l->kind == AF_LOC_STACK && l->stack_offset == off,
           "line %d %s: kind %d offset %d, expected stack %ld", line, what, l->kind,
           (int)l->stack_offset, off);
    if (*e == '/')
      CHECKF(l->stack_size == (uint32_t)strtoul(e + 1, NULL, 10), "line %d %s: stack size %u", line,
             what, l->stack_size);
  } else if (t[0] == '&' && t[1] == 's') {
    long off = strtol(t + 2, NULL, 10);
    CHECKF(l->kind == AF_LOC_REF && l->nparts == 0 && l->stack_offset == off,
           "line %d %s: kind %d nparts %d offset %d, expected ref on stack %ld", line, what,
           l->kind, l->nparts, (int)l->stack_offset, off);
  } else if (t[0] == '&') {
    int r = reg_by_name(t + 1, strlen(t + 1));
    CHECKF(l->kind == AF_LOC_REF && l->nparts == 1 && (int)l->parts[0].reg == r,
           "line %d %s: kind %d nparts %d reg %s, expected ref in %s", line, what, l->kind,
           l->nparts, l->nparts ? af_reg_name(l->parts[0].reg) : "-", t + 1);
  } else {
    int np = 0;
    CHECKF(l->kind == AF_LOC_REG, "line %d %s: kind %d, expected registers %s", line, what, l->kind,
           t);
    for (char *p = t; *p && l->kind == AF_LOC_REG; np++) {
      char *comma = strchr(p, ',');
      if (comma) *comma = 0;
      char *at = strchr(p, '@');
      if (at) *at = 0;
      int r = reg_by_name(p, strlen(p));
      CHECKF(np < l->nparts && (int)l->parts[np].reg == r, "line %d %s part %d: %s, expected %s",
             line, what, np, np < l->nparts ? af_reg_name(l->parts[np].reg) : "(none)", p);
      if (at && np < l->nparts) {
        unsigned off = (unsigned)strtoul(at + 1, &at, 10);
        unsigned sz = (unsigned)strtoul(at + 1, NULL, 10);
        CHECKF(l->parts[np].offset == off && l->parts[np].size == sz,
               "line %d %s part %d: bytes %u+%u, expected %u+%u", line, what, np,
               l->parts[np].offset, l->parts[np].size, off, sz);
      }
      if (!comma) {
        np++;
        break;
      }
      p = comma + 1;
    }
    if (l->kind == AF_LOC_REG)
      CHECKF(np == l->nparts, "line %d %s: %d parts, expected %d", line, what, l->nparts, np);
  }
}

static inline void check_abi_row(const abi_row *row, af_cc cc) {
  af_case c;
  af_case_init(&c);
  int ids[4] = {0};
  for (int n = 0; n < 4 && row->defs[n]; n++) {
    ids[n] = parse_def(&c, row->defs[n], ids);
    CHECKF(ids[n] >= 0, "line %d: bad def %s", row->line, row->defs[n]);
  }
  CHECKF(af_layout(&c) == AF_OK, "line %d: layout", row->line);
  af_sig sig;
  CHECKF(parse_sig(row->sig, ids, cc, &sig) == 0, "line %d: bad signature", row->line);
  af_callinfo ci;
  af_error err = {{0}};
  af_status s = af_classify(&c, &sig, &ci, &err);
  CHECKF(s == AF_OK, "line %d: %s: %s", row->line, af_strerror(s), err.msg);
  if (s != AF_OK) {
    af_case_free(&c);
    return;
  }
  const char *p = row->expect;
  int want_div = 0;
  CHECK(ci.nargs == sig.nparams && ci.cc == cc);
  /* return */
  while (*p == ' ')
    p++;
  check_loc(row->line, "ret", &ci.ret, p, tok_len(p));
  p += tok_len(p);
  while (*p == ' ')
    p++;
  if (*p == '|') p++;
  /* arguments */
  for (int i = 0;; i++) {
    while (*p == ' ')
      p++;
    if (!*p || *p == '|') {
      CHECKF(i == sig.nparams, "line %d: %d locations for %d args", row->line, i, sig.nparams);
      break;
    }
    char what[16];
    snprintf(what, sizeof what, "arg %d", i);
    if (i < sig.nparams) check_loc(row->line, what, &ci.args[i], p, tok_len(p));
    p += tok_len(p);
  }
  if (*p == '|') p++;
  /* keys */
  for (;;) {
    while (*p == ' ')
      p++;
    if (!*p) break;
    const char *key = p, *eq = strchr(p, '=');
    if (!eq) break;
    size_t kn = (size_t)(eq - key);
    long v = strtol(eq + 1, (char **)&p, 10);
    if (kn == 5 && strncmp(key, "stack", 5) == 0)
      CHECKF(ci.stack_bytes == (uint32_t)v, "line %d: stack_bytes %u, expected %ld", row->line,
             ci.stack_bytes, v);
    else if (kn == 3 && strncmp(key, "int", 3) == 0)
      CHECKF(ci.int_used == v, "line %d: int_used %d, expected %ld", row->line, ci.int_used, v);
    else if (kn == 3 && strncmp(key, "sse", 3) == 0)
      CHECKF(ci.sse_used == v, "line %d: sse_used %d, expected %ld", row->line, ci.sse_used, v);
    else if (kn == 3 && strncmp(key, "div", 3) == 0)
      want_div = (int)v;
    else
      CHECKF(0, "line %d: unknown key %.*s", row->line, (int)kn, key);
  }
  CHECKF(ci.divergent == want_div, "line %d: divergent %d, expected %d", row->line, ci.divergent,
         want_div);
  CHECKF(ci.sret == (ci.ret.kind == AF_LOC_SRET), "line %d: sret flag", row->line);
  af_case_free(&c);
}

#endif
