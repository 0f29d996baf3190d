/* emit_c.c - the C emitter: a case as one C11 (gnu11) file whose checksum must equal the
 * reference interpreter's (gen/interp.c implements the same semantics independently). */
#include <inttypes.h>
#include <string.h>

#include "emit_internal.h"
#include "oracle.h"

/* Why the prelude looks the way it does:
 * - `#pragma STDC FP_CONTRACT OFF` (clang only; gcc ignores the pragma and
 *   warns about it, so it is guarded): every FADD/FSUB/FMUL must round on
 *   its own, as the interpreter does. Bodies are one operation per
 *   statement, which already stops clang's default `-ffp-contract=on`; the
 *   pragma makes it explicit. gcc contracts across statements under its
 *   default -ffp-contract=fast when FMA is enabled (-march=native): compile
 *   with -ffp-contract=off there.
 * - Functions are extern, noinline and (gcc) noipa so that every CALL is a
 *   real call through the convention under test, not propagated away.
 * - Floats are folded through pointers and memcpy: their bits are never
 *   moved through an arithmetic or x87 conversion before folding.
 * - The prelude also compiles under tcc 0.9.27 (the tcc backends): what tcc
 *   lacks is guarded by the compilers' own macros (__int128 by
 *   __SIZEOF_INT128__, vector types and __builtin_isnan by __GNUC__, which
 *   tcc does not define). A case that needs one of them is refused before
 *   it reaches tcc (af_emit_c_needs). */
static const char prelude[] =
    "#if defined(__clang__)\n"
    "#pragma STDC FP_CONTRACT OFF\n"
    "#define AF_FN __attribute__((noinline))\n"
    "#elif defined(__GNUC__)\n"
    "#define AF_FN __attribute__((noinline, noipa))\n"
    "#else\n"
    "#define AF_FN\n"
    "#endif\n"
    "#include <stdarg.h>\n"
    "#include <stddef.h>\n"
    "#include <stdint.h>\n"
    "#include <stdio.h>\n"
    "#include <string.h>\n"
    "#define AF_U __attribute__((unused))\n"
    "#define AF_REGION_SIZE 128\n"
    "#ifdef __GNUC__\n"
    "#define AF_ISNAN(x) __builtin_isnan(x)\n"
    "typedef float af_m128 __attribute__((vector_size(16)));\n"
    "typedef float af_m256 __attribute__((vector_size(32)));\n"
    "#else\n"
    "#define AF_ISNAN(x) ((x) != (x))\n"
    "#endif\n"
    "/* gen.h af_fold_u64, verbatim */\n"
    "AF_U static inline uint64_t af_fold_u64(uint64_t h, uint64_t x) {\n"
    "  h ^= x + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);\n"
    "  h ^= h >> 31;\n"
    "  h *= 0xbf58476d1ce4e5b9ull;\n"
    "  h ^= h >> 29;\n"
    "  return h;\n"
    "}\n"
    "#ifdef __SIZEOF_INT128__\n"
    "AF_U static inline uint64_t af_fold_u128(uint64_t h, unsigned __int128 x) {\n"
    "  return af_fold_u64(af_fold_u64(h, (uint64_t)x), (uint64_t)(x >> 64));\n"
    "}\n"
    "#endif\n"
    "/* floats fold their bits; a NaN folds as the canonical quiet NaN */\n"
    "AF_U static inline uint64_t af_fold_f16(uint64_t h, const void *p) {\n"
    "  uint16_t b; memcpy(&b, p, 2);\n"
    "  if ((b & 0x7c00) == 0x7c00 && (b & 0x3ff)) b = 0x7e00;\n"
    "  return af_fold_u64(h, b);\n"
    "}\n"
    "AF_U static inline uint64_t af_fold_f32(uint64_t h, const void *p) {\n"
    "  uint32_t b; memcpy(&b, p, 4);\n"
    "  if ((b & 0x7f800000u) == 0x7f800000u && (b & 0x7fffffu)) b = 0x7fc00000u;\n"
    "  return af_fold_u64(h, b);\n"
    "}\n"
    "AF_U static inline uint64_t af_fold_f64(uint64_t h, const void *p) {\n"
    "  uint64_t b; memcpy(&b, p, 8);\n"
    "  if ((b & 0x7ff0000000000000ull) == 0x7ff0000000000000ull && (b & 0xfffffffffffffull))\n"
    "    b = 0x7ff8000000000000ull;\n"
    "  return af_fold_u64(h, b);\n"
    "}\n"
    "AF_U static inline uint64_t af_fold_f80(uint64_t h, const void *p) {\n"
    "  uint64_t m; uint16_t se;\n"
    "  memcpy(&m, p, 8); memcpy(&se, (const unsigned char *)p + 8, 2);\n"
    "  if ((se & 0x7fff) == 0x7fff && (m << 1)) { m = 0xc000000000000000ull; se = 0x7fff; }\n"
    "  return af_fold_u64(af_fold_u64(h, m), se);\n"
    "}\n"
    "AF_U static inline uint64_t af_fold_cf32(uint64_t h, const void *p) {\n"
    "  return af_fold_f32(af_fold_f32(h, p), (const unsigned char *)p + 4);\n"
    "}\n"
    "AF_U static inline uint64_t af_fold_cf64(uint64_t h, const void *p) {\n"
    "  return af_fold_f64(af_fold_f64(h, p), (const unsigned char *)p + 8);\n"
    "}\n"
    "AF_U static inline uint64_t af_fold_raw(uint64_t h, const void *p, int n) {\n"
    "  for (int i = 0; i < n; i += 8) { uint64_t x; memcpy(&x, (const unsigned char *)p + i, 8);"
    " h = af_fold_u64(h, x); }\n"
    "  return h;\n"
    "}\n"
    "/* saturating float -> integer (af_ftoi_<type>): compare the exactly\n"
    "   widened value with the type's bounds first, so that the conversion is\n"
    "   never out of range */\n";

/* The af_ftoi_* helpers, one per integer type. */
static void put_ftoi_helpers(FILE *out) {
  for (int t = AF_T_I8; t <= AF_T_U128; t++) {
    const af_scalar_info *si = af_scalar((af_kind)t);
    int bits = 8 * si->size;
    char mx[64], mn[64];
    if (bits == 128) {
      snprintf(mx, sizeof mx, "%s",
               si->is_signed ? "(__int128)(~(unsigned __int128)0 >> 1)" : "~(unsigned __int128)0");
      snprintf(mn, sizeof mn, "%s",
               si->is_signed ? "(-(__int128)(~(unsigned __int128)0 >> 1) - 1)" : "0");
    } else {
      snprintf(mx, sizeof mx, "%s%d_MAX", si->is_signed ? "INT" : "UINT", bits);
      snprintf(mn, sizeof mn, "%s", si->is_signed ? "" : "0");
      if (si->is_signed) snprintf(mn, sizeof mn, "INT%d_MIN", bits);
    }
    if (bits == 128) fprintf(out, "#ifdef __SIZEOF_INT128__\n");
    fprintf(out, "AF_U static inline %s af_ftoi_%s(long double x) {\n", si->c, si->name);
    fprintf(out, "  if (AF_ISNAN(x)) return 0;\n");
    if (si->is_signed)
      fprintf(out, "  if (x <= -0x1p%dL) return %s;\n  if (x >= 0x1p%dL) return %s;\n", bits - 1,
              mn, bits - 1, mx);
    else
      fprintf(out, "  if (x <= -1.0L) return 0;\n  if (x >= 0x1p%dL) return %s;\n", bits, mx);
    fprintf(out, "  return (%s)x;\n}\n", si->c);
    if (bits == 128) fprintf(out, "#endif\n");
  }
}

typedef struct {
  const af_case *c;
  FILE *out;
  const char *p; /* symbol prefix */
  af_error *err;
  af_status st;
  int extern_entry; /* af_emit_opts.extern_entry */
  int ext_code;     /* af_emit_opts.ext_code */
} emitter;

static af_status eerr(emitter *E, af_status s, const char *msg, int fn, int inst) {
  if (E->err) snprintf(E->err->msg, sizeof E->err->msg, "emit_c: f%d inst %d: %s", fn, inst, msg);
  if (E->st == AF_OK) E->st = s;
  return s;
}

static int type_uses(const af_case *c, af_kind k) {
  for (int t = 0; t < c->ntypes; t++)
    if (t >= AF_T_NSCALAR && af_type_has(c, t, k)) return 1;
  for (int fi = 0; fi < c->nfuncs; fi++) {
    const af_func *f = &c->funcs[fi];
    for (int v = 0; v < f->sig.nparams; v++)
      if (f->sig.params[v] == (int)k) return 1;
    if (f->sig.ret == (int)k) return 1;
    for (int i = 0; i < f->ninsts; i++) {
      const af_inst *in = &f->insts[i];
      if (in->type == (int)k) return 1;
      for (int a = 0; a < in->nargs && f->value_type; a++)
        if (in->args[a] >= 0 && in->args[a] < f->nvalues && f->value_type[in->args[a]] == (int)k)
          return 1;
    }
  }
  return 0;
}

int af_case_needs_avx(const af_case *c) { return type_uses(c, AF_T_M256); }
int af_case_needs_f16(const af_case *c) { return type_uses(c, AF_T_F16); }

unsigned af_emit_c_needs(const af_case *c) {
  unsigned m = 0;
  if (type_uses(c, AF_T_I128) || type_uses(c, AF_T_U128)) m |= AF_NEED_INT128;
  if (type_uses(c, AF_T_F16)) m |= AF_NEED_F16;
  if (type_uses(c, AF_T_M256)) m |= AF_NEED_M256 | AF_NEED_VECTOR;
  if (type_uses(c, AF_T_M128)) m |= AF_NEED_VECTOR;
  if (type_uses(c, AF_T_CF32) || type_uses(c, AF_T_CF64)) m |= AF_NEED_COMPLEX;
  if (type_uses(c, AF_T_F80)) m |= AF_NEED_LONG_DOUBLE;
  for (int t = AF_T_NSCALAR; t < c->ntypes; t++) {
    const af_type *ty = &c->types[t];
    if (ty->kind == AF_T_ARRAY) continue;
    if (ty->kind == AF_T_UNION) m |= AF_NEED_UNION;
    if (ty->packed) m |= AF_NEED_PACKED;
    if (ty->align) m |= AF_NEED_OVERALIGNED;
    if (ty->size == 0) m |= AF_NEED_EMPTY_STRUCT;
    for (int i = 0; i < ty->nfields; i++) {
      if (ty->fields[i].bits >= 0) m |= AF_NEED_BITFIELD;
      if (ty->fields[i].align) m |= AF_NEED_OVERALIGNED;
    }
  }
  for (int fi = 0; fi < c->nfuncs; fi++) {
    const af_func *f = &c->funcs[fi];
    if (f->sig.cc == AF_CC_WIN64) m |= AF_NEED_MS_ABI;
    if (f->sig.variadic && !f->host) m |= AF_NEED_VA_CALLEE;
    for (int i = 0; i < f->ninsts; i++)
      if (f->insts[i].op == AF_OP_CALL && f->insts[i].imm > fi && f->insts[i].imm < c->nfuncs &&
          c->funcs[f->insts[i].imm].sig.variadic)
        m |= AF_NEED_VA_CALLER;
  }
  return m;
}

const char *af_emit_c_need_name(unsigned need) {
  static const char *const names[AF_NEED_COUNT] = {
      "__int128",       "_Float16",       "vector types",    "__m256",        "_Complex",
      "long double",    "ms_abi",         "variadic callee", "variadic call", "bit-fields",
      "packed structs", "over-alignment", "unions",          "empty structs",
  };
  for (int i = 0; i < AF_NEED_COUNT; i++)
    if (need == 1u << i) return names[i];
  return "?";
}

/* C spelling of a type id (composite: the prefixed typedef name). */
static const char *ctype(const emitter *E, int t, char *buf, size_t n) {
  switch (t) {
  case AF_T_M128: return "af_m128";
  case AF_T_M256: return "af_m256";
  case AF_T_PTR: return "void *";
  default: break;
  }
  if (t < AF_T_NSCALAR) return af_scalar((af_kind)t)->c;
  snprintf(buf, n, "%st%d", E->p, t);
  return buf;
}

/* Unsigned type wrapping arithmetic is done in: at least unsigned int, so
 * that integer promotion never makes a signed int out of a narrow type. */
static const char *arith_utype(int t) {
  int sz = af_scalar((af_kind)t)->size;
  return sz <= 4 ? "uint32_t" : sz == 8 ? "uint64_t" : "unsigned __int128";
}

static const char *exact_utype(int t) {
  switch (af_scalar((af_kind)t)->size) {
  case 1: return "uint8_t";
  case 2: return "uint16_t";
  case 4: return "uint32_t";
  case 8: return "uint64_t";
  default: return "unsigned __int128";
  }
}

static const char *exact_stype(int t) {
  switch (af_scalar((af_kind)t)->size) {
  case 1: return "int8_t";
  case 2: return "int16_t";
  case 4: return "int32_t";
  case 8: return "int64_t";
  default: return "__int128";
  }
}

static void put_bytes(emitter *E, const uint8_t *b, uint32_t n) {
  fprintf(E->out, "(const unsigned char[%u]){", n ? n : 1);
  for (uint32_t i = 0; i < n; i++)
    fprintf(E->out, "%s0x%02x", i ? "," : "", b[i]);
  if (!n) fprintf(E->out, "0");
  fprintf(E->out, "}");
}

/* After a memcpy of constant bytes into a value holding a long double: an
 * empty asm that may change it, so that the compiler cannot fold the bytes
 * into an x86_fp80 constant. clang 14 and 19 fold such a load wrongly at -O1
 * and above when the exponent's low byte is 0 (0x4000 becomes 0x4001; seen,
 * see the report of this module), which would make the oracle disagree
 * with the interpreter for no ABI reason. */
static void put_f80_barrier(emitter *E, int t, const char *v, int id) {
  if (af_type_has(E->c, t, AF_T_F80)) fprintf(E->out, "  __asm__(\"\" : \"+m\"(%s%d));\n", v, id);
}

/* ---- types ---- */
static const char *ctype_any(const void *E, int t, char *buf, size_t n) {
  return ctype(E, t, buf, n);
}

void emit_type_def(FILE *o, const af_case *c, int t, const char *name, emit_ctype_fn ctype,
                   const void *emitter) {
  const af_type *ty = &c->types[t];
  char b[64];
  if (ty->kind == AF_T_ARRAY) {
    fprintf(o, "typedef %s %s[%u];\n", ctype(emitter, ty->elem, b, sizeof b), name, ty->count);
    return;
  }
  const char *kw = ty->kind == AF_T_UNION ? "union" : "struct";
  fprintf(o, "typedef %s %s %s;\n%s %s {\n", kw, name, name, kw, name);
  for (int i = 0; i < ty->nfields; i++) {
    const af_field *f = &ty->fields[i];
    const char *ft = ctype(emitter, f->type, b, sizeof b);
    if (f->bits == 0)
      fprintf(o, "  %s : 0;\n", ft);
    else if (f->bits > 0)
      fprintf(o, "  %s f%d : %d;\n", ft, i, f->bits);
    else if (f->align)
      fprintf(o, "  _Alignas(%d) %s f%d;\n", f->align, ft, i);
    else
      fprintf(o, "  %s f%d;\n", ft, i);
  }
  fprintf(o, "}");
  if (ty->packed) fprintf(o, " __attribute__((packed))");
  if (ty->align) fprintf(o, " __attribute__((aligned(%d)))", ty->align);
  fprintf(o, ";\n");
}

static void emit_types(emitter *E) {
  const af_case *c = E->c;
  char b1[64];
  for (int t = AF_T_NSCALAR; t < c->ntypes; t++) {
    const af_type *ty = &c->types[t];
    const char *name = ctype(E, t, b1, sizeof b1);
    emit_type_def(E->out, c, t, name, ctype_any, E);
    /* the compiler checks af_layout's numbers */
    fprintf(E->out, "_Static_assert(sizeof(%s) == %u, \"size of t%d\");\n", name, ty->size, t);
    fprintf(E->out, "_Static_assert(_Alignof(%s) == %u, \"alignment of t%d\");\n", name,
            ty->alignment, t);
    if (ty->kind != AF_T_ARRAY)
      for (int i = 0; i < ty->nfields; i++)
        if (ty->fields[i].bits < 0)
          fprintf(E->out, "_Static_assert(offsetof(%s, f%d) == %u, \"offset of t%d.f%d\");\n", name,
                  i, ty->fields[i].offset, t, i);
  }
}

/* Writes the statement folding a leaf of type t into h: `val` is its value
 * (integers), `addr` its address (everything else; any alignment). */
static void emit_fold_leaf(emitter *E, const char *ind, int t, const char *val, const char *addr) {
  const af_case *c = E->c;
  static const char *const fl[AF_T_NSCALAR] = {
      [AF_T_F16] = "f16", [AF_T_F32] = "f32",   [AF_T_F64] = "f64",
      [AF_T_F80] = "f80", [AF_T_CF32] = "cf32", [AF_T_CF64] = "cf64",
  };
  if (t == AF_T_BOOL || (af_type_is_int(c, t) && !af_scalar((af_kind)t)->is_signed &&
                         af_scalar((af_kind)t)->size <= 8))
    fprintf(E->out, "%sh = af_fold_u64(h, (uint64_t)%s);\n", ind, val);
  else if (af_type_is_int(c, t) && af_scalar((af_kind)t)->size <= 8)
    fprintf(E->out, "%sh = af_fold_u64(h, (uint64_t)(int64_t)%s);\n", ind, val);
  else if (t == AF_T_I128 || t == AF_T_U128)
    fprintf(E->out, "%sh = af_fold_u128(h, (unsigned __int128)%s);\n", ind, val);
  else if (t < AF_T_NSCALAR && fl[t])
    fprintf(E->out, "%sh = af_fold_%s(h, %s);\n", ind, fl[t], addr);
  else if (t == AF_T_M128 || t == AF_T_M256)
    fprintf(E->out, "%sh = af_fold_raw(h, %s, %u);\n", ind, addr, c->types[t].size);
  else if (t == AF_T_PTR)
    fprintf(E->out, "%sh = af_fold_u64(h, %sptr_id(%s));\n", ind, E->p, val);
  else if (t >= AF_T_NSCALAR)
    fprintf(E->out, "%sh = %sfold_t%d(h, %s);\n", ind, E->p, t, addr);
}

/* A value's own leaf fold: `v` is a variable. */
static void emit_fold_var(emitter *E, const char *ind, int t, const char *v) {
  char addr[80];
  snprintf(addr, sizeof addr, "&%.64s", v);
  emit_fold_leaf(E, ind, t, v, addr);
}

/* One fold function per composite type: every leaf in field order, unions
 * every member, padding and zero-width bit-fields never. The value is
 * copied first: a member of a packed struct may be misaligned for its type,
 * so members are read by name (integers) or through byte addresses. */
/* Marks type t and every composite type inside it (fold functions are
 * written only for the types some MIX or the checksum folds). */
static void mark_folded(const af_case *c, int t, uint8_t *need) {
  if (t < AF_T_NSCALAR || t >= c->ntypes || need[t]) return;
  const af_type *ty = &c->types[t];
  need[t] = 1;
  if (ty->kind == AF_T_ARRAY) {
    mark_folded(c, ty->elem, need);
    return;
  }
  for (int i = 0; i < ty->nfields; i++)
    if (ty->fields[i].bits < 0) mark_folded(c, ty->fields[i].type, need);
}

static void emit_fold_funcs(emitter *E) {
  const af_case *c = E->c;
  char b1[64], val[64], addr[96];
  uint8_t need[AF_MAX_TYPES] = {0};
  mark_folded(c, c->funcs[c->entry].sig.ret, need);
  for (int fi = 0; fi < c->nfuncs; fi++) {
    const af_func *f = &c->funcs[fi];
    for (int i = 0; i < f->ninsts; i++)
      if (f->insts[i].op == AF_OP_MIX)
        for (int k = 0; k < f->insts[i].nargs; k++)
          if (f->insts[i].args[k] >= 0 && f->insts[i].args[k] < f->nvalues)
            mark_folded(c, f->value_type[f->insts[i].args[k]], need);
  }
  for (int t = AF_T_NSCALAR; t < c->ntypes; t++) {
    const af_type *ty = &c->types[t];
    if (!need[t]) continue;
    const char *tn = ctype(E, t, b1, sizeof b1);
    fprintf(E->out, "AF_U static uint64_t %sfold_t%d(uint64_t h, const void *px) {\n", E->p, t);
    fprintf(E->out, "  %s x;\n  memcpy(&x, px, sizeof x);\n", tn);
    if (ty->kind == AF_T_ARRAY) {
      fprintf(E->out, "  for (unsigned i = 0; i < %uu; i++) {\n", ty->count);
      snprintf(addr, sizeof addr, "(const unsigned char *)&x + i * %uu", c->types[ty->elem].size);
      emit_fold_leaf(E, "    ", ty->elem, "x[i]", addr);
      fprintf(E->out, "  }\n");
    } else {
      for (int i = 0; i < ty->nfields; i++) {
        const af_field *f = &ty->fields[i];
        if (f->bits == 0) continue;
        if (f->bits > 0) {
          /* the bit-field's value as its declared type, then as for that type */
          fprintf(E->out, "  h = af_fold_u64(h, (uint64_t)(%s)(%s)x.f%d);\n",
                  af_scalar((af_kind)f->type)->is_signed ? "int64_t" : "uint64_t",
                  af_scalar((af_kind)f->type)->c, i);
          continue;
        }
        snprintf(val, sizeof val, "x.f%d", i);
        snprintf(addr, sizeof addr, "(const unsigned char *)&x + %u", f->offset);
        emit_fold_leaf(E, "  ", f->type, val, addr);
      }
    }
    fprintf(E->out, "  return h;\n}\n");
  }
}

/* ---- bodies ---- */
/* The C expression of `path` applied to `base` (a value of type t); also
 * returns the leaf type and whether it is a bit-field. -1 on a bad path. */
static int path_expr(const emitter *E, const char *base, int t, const int *path, int npath,
                     char *buf, size_t n, int *leaf) {
  const af_case *c = E->c;
  char cur[512], tmp[512];
  size_t len = (size_t)snprintf(cur, sizeof cur, "%.32s", base);
  int bitfield = 0;
  for (int i = 0; i < npath; i++) {
    int k = path[i];
    if (t < 0 || t >= c->ntypes || k < 0 || bitfield || len + 32 >= sizeof cur) return -1;
    const af_type *ty = &c->types[t];
    if (t == AF_T_CF32 || t == AF_T_CF64) {
      if (k > 1 || i + 1 != npath) return -1;
      memcpy(tmp, cur, sizeof tmp);
      len = (size_t)snprintf(cur, sizeof cur, "%s (%.470s)", k ? "__imag__" : "__real__", tmp);
      t = t == AF_T_CF32 ? AF_T_F32 : AF_T_F64;
    } else if (t == AF_T_M128 || t == AF_T_M256) {
      if ((uint32_t)k >= ty->size / 4 || i + 1 != npath) return -1;
      len += (size_t)snprintf(cur + len, sizeof cur - len, "[%d]", k);
      t = AF_T_F32;
    } else if (t >= AF_T_NSCALAR && ty->kind == AF_T_ARRAY) {
      if ((uint32_t)k >= ty->count) return -1;
      len += (size_t)snprintf(cur + len, sizeof cur - len, "[%d]", k);
      t = ty->elem;
    } else if (t >= AF_T_NSCALAR) {
      if (k >= ty->nfields || ty->fields[k].bits == 0) return -1;
      len += (size_t)snprintf(cur + len, sizeof cur - len, ".f%d", k);
      bitfield = ty->fields[k].bits > 0;
      t = ty->fields[k].type;
    } else {
      return -1;
    }
  }
  if (len >= n) return -1;
  memcpy(buf, cur, len + 1);
  *leaf = t;
  return 0;
}

/* Writes an integer constant as a C literal of type t (no conversion of an
 * out-of-range value, which compilers warn about). */
static void put_int_literal(emitter *E, int t, const uint8_t *b) {
  uint64_t x = 0;
  int sz = af_scalar((af_kind)t)->size;
  for (int i = 0; i < sz; i++)
    x |= (uint64_t)b[i] << (8 * i);
  const char *ct = af_scalar((af_kind)t)->c;
  if (t == AF_T_BOOL) {
    fprintf(E->out, "%d", (int)(x & 1));
  } else if (af_scalar((af_kind)t)->is_signed) {
    int64_t s = sz == 1 ? (int8_t)x : sz == 2 ? (int16_t)x : sz == 4 ? (int32_t)x : (int64_t)x;
    if (s == INT64_MIN)
      fprintf(E->out, "INT64_MIN");
    else
      fprintf(E->out, "(%s)(%" PRId64 "ll)", ct, s);
  } else {
    fprintf(E->out, "(%s)0x%" PRIx64 "ull", ct, x);
  }
}

/* extern_entry: the entry's type as a pointer variable (the convention on the pointed-to
 * function type), defined here so that the loader can set it through dlsym. */
static void emit_entry_ptr(emitter *E) {
  const af_func *f = &E->c->funcs[E->c->entry];
  char b[64];
  fprintf(E->out, "typedef %s %sentry_fn(", ctype(E, f->sig.ret, b, sizeof b), E->p);
  int named = f->sig.variadic ? f->sig.nfixed : f->sig.nparams;
  if (named == 0) fprintf(E->out, "void");
  for (int i = 0; i < named; i++)
    fprintf(E->out, "%s%s", i ? ", " : "", ctype(E, f->sig.params[i], b, sizeof b));
  if (f->sig.variadic) fprintf(E->out, ", ...");
  fprintf(E->out, ") __attribute__((%s));\n%sentry_fn *%sentry_ptr;\n",
          f->sig.cc == AF_CC_WIN64 ? "ms_abi" : "sysv_abi", E->p, E->p);
}

static void emit_sig(emitter *E, int fi, int proto) {
  const af_func *f = &E->c->funcs[fi];
  char b[64];
  /* ext_code: a host function is an import, declared only (the loader resolves it to the
   * harness's stub), so every call of it is a real call through its convention */
  fprintf(E->out, "%s __attribute__((%s)) %s %sf%d(", E->ext_code && f->host ? "extern" : "AF_FN",
          f->sig.cc == AF_CC_WIN64 ? "ms_abi" : "sysv_abi", ctype(E, f->sig.ret, b, sizeof b), E->p,
          fi);
  int named = f->sig.variadic ? f->sig.nfixed : f->sig.nparams;
  if (named == 0) fprintf(E->out, "void");
  for (int i = 0; i < named; i++)
    fprintf(E->out, "%s%s v%d", i ? ", " : "", ctype(E, f->sig.params[i], b, sizeof b), i);
  if (f->sig.variadic) fprintf(E->out, ", ...");
  fprintf(E->out, ")%s", proto ? ";\n" : " {\n");
}

static int vtype(const af_func *f, int id) { return f->value_type[id]; }

static void emit_inst(emitter *E, int fi, int ii) {
  const af_case *c = E->c;
  const af_func *f = &c->funcs[fi];
  const af_inst *in = &f->insts[ii];
  FILE *o = E->out;
  char tb[64], eb[600];
  int T = in->type, d = in->dst;
  const char *ct = ctype(E, T, tb, sizeof tb);
  int a0 = in->nargs > 0 ? in->args[0] : -1, a1 = in->nargs > 1 ? in->args[1] : -1;
  for (int k = 0; k < in->nargs; k++)
    if (in->args[k] < 0 || in->args[k] >= f->nvalues || (d >= 0 && in->args[k] >= d)) {
      eerr(E, AF_ERR_INVALID, "bad operand", fi, ii);
      return;
    }
  if (T >= AF_T_NSCALAR && c->types[T].kind == AF_T_ARRAY) {
    eerr(E, AF_ERR_UNSUPPORTED, "array-typed value", fi, ii);
    return;
  }
  switch (in->op) {
  case AF_OP_CONST:
    if (!in->cst.bytes || in->cst.size != c->types[T].size || T == AF_T_PTR || T == AF_T_VOID) {
      eerr(E, AF_ERR_INVALID, "bad constant", fi, ii);
      return;
    }
    if (T != AF_T_BOOL && !af_type_is_int(c, T)) {
      fprintf(o, "  AF_U %s v%d; memcpy(&v%d, ", ct, d, d);
      put_bytes(E, in->cst.bytes, in->cst.size);
      fprintf(o, ", sizeof v%d);\n", d);
      put_f80_barrier(E, T, "v", d);
    } else if (T == AF_T_I128 || T == AF_T_U128) {
      fprintf(o, "  AF_U %s v%d; memcpy(&v%d, ", ct, d, d);
      put_bytes(E, in->cst.bytes, 16);
      fprintf(o, ", 16);\n");
    } else {
      fprintf(o, "  AF_U %s v%d = ", ct, d);
      put_int_literal(E, T, in->cst.bytes);
      fprintf(o, ";\n");
    }
    return;
  case AF_OP_ADD:
  case AF_OP_SUB:
  case AF_OP_MUL:
  case AF_OP_AND:
  case AF_OP_OR:
  case AF_OP_XOR: {
    static const char ops[] = {[AF_OP_ADD] = '+', [AF_OP_SUB] = '-', [AF_OP_MUL] = '*',
                               [AF_OP_AND] = '&', [AF_OP_OR] = '|',  [AF_OP_XOR] = '^'};
    const char *ut = arith_utype(T);
    fprintf(o, "  AF_U %s v%d = (%s)((%s)v%d %c (%s)v%d);\n", ct, d, ct, ut, a0, ops[in->op], ut,
            a1);
    return;
  }
  case AF_OP_SHL:
  case AF_OP_LSHR:
  case AF_OP_ASHR: {
    const char *ut = arith_utype(T);
    int w = 8 * af_scalar((af_kind)T)->size;
    char s[96];
    snprintf(s, sizeof s, "(unsigned)((%s)v%d & %du)", ut, a1, w - 1);
    if (in->op == AF_OP_SHL)
      fprintf(o, "  AF_U %s v%d = (%s)((%s)v%d << %s);\n", ct, d, ct, ut, a0, s);
    else if (in->op == AF_OP_LSHR)
      fprintf(o, "  AF_U %s v%d = (%s)((%s)(%s)v%d >> %s);\n", ct, d, ct, ut, exact_utype(T), a0,
              s);
    else /* arithmetic for unsigned types too; no right shift of a negative value */
      fprintf(o,
              "  AF_U %s v%d; { %s a = (%s)v%d; unsigned s = %s; v%d = (%s)(a < 0 ? ~(~a >> s) : "
              "a >> s); }\n",
              ct, d, exact_stype(T), exact_stype(T), a0, s, d, ct);
    return;
  }
  case AF_OP_CMP: {
    static const char *const ops[AF_CMP_COUNT] = {"==", "!=", "<", "<="};
    if (in->imm < 0 || in->imm >= AF_CMP_COUNT) break;
    if (a0 == a1) /* x OP x: compilers warn about self-comparison */
      fprintf(o, "  AF_U _Bool v%d = %d;\n", d, in->imm == AF_CMP_EQ || in->imm == AF_CMP_LE);
    else
      fprintf(o, "  AF_U _Bool v%d = v%d %s v%d;\n", d, a0, ops[in->imm], a1);
    return;
  }
  case AF_OP_SELECT:
    fprintf(o, "  AF_U %s v%d; if (v%d) v%d = v%d; else v%d = v%d;\n", ct, d, a0, d, a1, d,
            in->args[2]);
    return;
  case AF_OP_SEXT:
  case AF_OP_ZEXT: {
    int A = vtype(f, a0);
    if (A == AF_T_BOOL)
      fprintf(o, "  AF_U %s v%d = (%s)v%d;\n", ct, d, ct, a0);
    else
      fprintf(o, "  AF_U %s v%d = (%s)(%s)v%d;\n", ct, d, ct,
              in->op == AF_OP_SEXT ? exact_stype(A) : exact_utype(A), a0);
    return;
  }
  case AF_OP_TRUNC:
    if (T == AF_T_BOOL)
      fprintf(o, "  AF_U _Bool v%d = (_Bool)(v%d & 1);\n", d, a0);
    else
      fprintf(o, "  AF_U %s v%d = (%s)v%d;\n", ct, d, ct, a0);
    return;
  case AF_OP_FADD:
  case AF_OP_FSUB:
  case AF_OP_FMUL:
    /* Operands through an empty asm: the operation runs on the hardware,
     * whose NaN results (sign, payload) the interpreter reproduces. A
     * compiler folding constants picks its own NaN: clang folds inf - inf
     * to 0x7fc00000 where SSE gives 0xffc00000 (seen), and the bits show
     * through bitcasts, stores, vector lanes and union members. */
    fprintf(o,
            "  AF_U %s v%d;\n  { %s a = v%d, b = v%d; __asm__(\"\" : \"+m\"(a), \"+m\"(b)); "
            "v%d = a %c b; }\n",
            ct, d, ct, a0, a1, d,
            in->op == AF_OP_FADD   ? '+'
            : in->op == AF_OP_FSUB ? '-'
                                   : '*');
    return;
  case AF_OP_FCONV: /* the same for conversions of NaNs (quieting, payload) */
    fprintf(o, "  AF_U %s v%d;\n  { %s a = v%d; __asm__(\"\" : \"+m\"(a)); v%d = (%s)a; }\n", ct, d,
            ctype(E, vtype(f, a0), eb, sizeof eb), a0, d, ct);
    return;
  case AF_OP_ITOF: fprintf(o, "  AF_U %s v%d = (%s)v%d;\n", ct, d, ct, a0); return;
  case AF_OP_FTOI:
    fprintf(o, "  AF_U %s v%d = af_ftoi_%s((long double)%sv%d);\n", ct, d,
            af_scalar((af_kind)T)->name, vtype(f, a0) == AF_T_F16 ? "(float)" : "", a0);
    return;
  case AF_OP_BITCAST:
    fprintf(o, "  AF_U %s v%d; memcpy(&v%d, &v%d, sizeof v%d);\n", ct, d, d, a0, d);
    return;
  case AF_OP_GET:
  case AF_OP_SET: {
    char base[32];
    int leaf;
    snprintf(base, sizeof base, in->op == AF_OP_GET ? "v%d" : "v%d", in->op == AF_OP_GET ? a0 : d);
    if (path_expr(E, base, vtype(f, a0), in->path, in->npath, eb, sizeof eb, &leaf) != 0) {
      eerr(E, AF_ERR_INVALID, "bad path", fi, ii);
      return;
    }
    if (in->op == AF_OP_GET)
      fprintf(o, "  AF_U %s v%d = %s;\n", ct, d, eb);
    else
      fprintf(o, "  AF_U %s v%d = v%d; %s = v%d;\n", ct, d, a0, eb, a1);
    return;
  }
  case AF_OP_LOAD:
    fprintf(o,
            "  AF_U %s v%d; memcpy(&v%d, (const unsigned char *)v%d + %" PRId64 ", sizeof v%d);\n",
            ct, d, d, a0, in->imm, d);
    return;
  case AF_OP_STORE:
    fprintf(o, "  memcpy((unsigned char *)v%d + %" PRId64 ", &v%d, sizeof v%d);\n", a0, in->imm, a1,
            a1);
    return;
  case AF_OP_LOCAL:
    fprintf(o,
            "  _Alignas(%" PRId64 ") unsigned char l%d[AF_REGION_SIZE] = {0};\n"
            "  AF_U void *v%d = l%d;\n",
            in->imm, d, d, d);
    return;
  case AF_OP_CALL:
    if (in->imm <= fi || in->imm >= c->nfuncs) break;
    if (d >= 0)
      fprintf(o, "  AF_U %s v%d = %sf%d(", ct, d, E->p, (int)in->imm);
    else
      fprintf(o, "  %sf%d(", E->p, (int)in->imm);
    for (int k = 0; k < in->nargs; k++)
      fprintf(o, "%sv%d", k ? ", " : "", in->args[k]);
    fprintf(o, ");\n");
    return;
  case AF_OP_MIX:
    fprintf(o, "  AF_U uint64_t v%d;\n  {\n    uint64_t h = 0x%" PRIx64 "ull;\n", d,
            (uint64_t)in->imm);
    for (int k = 0; k < in->nargs; k++) {
      snprintf(eb, sizeof eb, "v%d", in->args[k]);
      emit_fold_var(E, "    ", vtype(f, in->args[k]), eb);
    }
    fprintf(o, "    v%d = h;\n  }\n", d);
    return;
  case AF_OP_RET:
    if (T == AF_T_VOID)
      fprintf(o, "  return;\n");
    else
      fprintf(o, "  return v%d;\n", a0);
    return;
  default: break;
  }
  eerr(E, AF_ERR_INVALID, "bad instruction", fi, ii);
}

static void emit_func(emitter *E, int fi) {
  const af_func *f = &E->c->funcs[fi];
  char b[64];
  fprintf(E->out, "/* f%d: %s%s */\n", fi, f->host ? "host, " : "", af_cc_name(f->sig.cc));
  emit_sig(E, fi, 0);
  if (f->sig.variadic) {
    /* the variadic arguments are read in order on entry */
    int last = f->sig.nfixed - 1;
    int ms = f->sig.cc == AF_CC_WIN64;
    fprintf(E->out, "  %s ap;\n  %s(ap, v%d);\n", ms ? "__builtin_ms_va_list" : "va_list",
            ms ? "__builtin_ms_va_start" : "va_start", last);
    for (int i = f->sig.nfixed; i < f->sig.nparams; i++) {
      const char *t = ctype(E, f->sig.params[i], b, sizeof b);
      uint32_t sz = E->c->types[f->sig.params[i]].size;
      if (ms && sz != 1 && sz != 2 && sz != 4 && sz != 8)
        /* Win64 passes this type by reference: its slot holds a pointer to
         * the caller's copy. Read that pointer ourselves: gcc 12's
         * __builtin_va_arg on an ms_va_list reads such types as if they
         * were passed by value (wrong data, and 16 bytes consumed for
         * 16-byte types), while its callers pass them by reference (seen
         * with gcc 12.2; clang's va_arg does the same as this line). */
        fprintf(E->out, "  AF_U %s v%d = *__builtin_va_arg(ap, %s *);\n", t, i, t);
      else
        fprintf(E->out, "  AF_U %s v%d = %s(ap, %s);\n", t, i, ms ? "__builtin_va_arg" : "va_arg",
                t);
    }
    fprintf(E->out, "  %s(ap);\n", ms ? "__builtin_ms_va_end" : "va_end");
  }
  for (int ii = 0; ii < f->ninsts && E->st == AF_OK; ii++)
    emit_inst(E, fi, ii);
  fprintf(E->out, "}\n");
}

/* The objects, the ptr-id helper and the fold functions (used by bodies). ext_code: no
 * objects, only the table of their addresses the harness fills (backend_internal.h). */
static void emit_objects(emitter *E) {
  const af_case *c = E->c;
  const char *p = E->p;
  int no = c->nobjects;
  const char *tab = E->ext_code ? "af_objects" : "obj";
  /* weak: a position-independent compile then reaches the table through the GOT, wherever
   * the loader's answer lies (gcc's -fpie default assumes a defined extern object is within
   * 2 GB, a copy relocation, which an object loaded into a running process cannot have) */
  if (E->ext_code)
    fprintf(E->out, "extern unsigned char *%saf_objects[%d] __attribute__((weak));\n", p,
            AF_MAX_OBJECTS);
  else if (no) {
    fprintf(E->out, "static _Alignas(64) unsigned char %sobj[%d][AF_REGION_SIZE];\n", p, no);
    fprintf(E->out, "static const unsigned char %sobj_init[%d][AF_REGION_SIZE] = {\n", p, no);
    for (int k = 0; k < no; k++) {
      fprintf(E->out, "  {");
      for (int i = 0; i < AF_REGION_SIZE; i++)
        fprintf(E->out, "%s0x%02x", i ? "," : "", c->objects[k].init[i]);
      fprintf(E->out, "},\n");
    }
    fprintf(E->out, "};\n");
  }
  /* ptr ids (gen.h): object k -> (k+1) << 32; anything else (LOCAL) -> ~0 << 32 */
  fprintf(E->out, "AF_U static uint64_t %sptr_id(const void *p) {\n", p);
  if (no)
    fprintf(E->out,
            "  for (int k = 0; k < %d; k++)\n"
            "    if (p == (const void *)%s%s[k]) return (uint64_t)(k + 1) << 32;\n",
            no, p, tab);
  else
    fprintf(E->out, "  (void)p;\n");
  fprintf(E->out, "  return 0xffffffff00000000ull;\n}\n");
  emit_fold_funcs(E);
}

/* The entry's caller: objects reset, inputs built, checksum folded. */
static void emit_run(emitter *E) {
  const af_case *c = E->c;
  const af_func *e = &c->funcs[c->entry];
  char b[64];
  const char *p = E->p;
  int no = c->nobjects;
  fprintf(E->out, "uint64_t %srun(void) {\n", p);
  if (no) fprintf(E->out, "  memcpy(%sobj, %sobj_init, sizeof %sobj);\n", p, p, p);
  for (int i = 0; i < c->ninputs; i++) {
    const af_value *v = &c->inputs[i];
    const char *t = ctype(E, v->type, b, sizeof b);
    if (v->type == AF_T_PTR) {
      if (v->obj < 0 || v->obj >= no) {
        eerr(E, AF_ERR_INVALID, "pointer input names no object", c->entry, -1);
        return;
      }
      fprintf(E->out, "  void *a%d = %sobj[%d];\n", i, p, v->obj);
    } else {
      fprintf(E->out, "  %s a%d; memcpy(&a%d, ", t, i, i);
      put_bytes(E, v->bytes, v->size);
      fprintf(E->out, ", sizeof a%d);\n", i);
      put_f80_barrier(E, v->type, "a", i);
    }
  }
  int rt = e->sig.ret;
  char callee[48];
  if (E->extern_entry)
    snprintf(callee, sizeof callee, "%.32sentry_ptr", p);
  else
    snprintf(callee, sizeof callee, "%.32sf%d", p, c->entry);
  if (rt != AF_T_VOID)
    fprintf(E->out, "  %s r = %s(", ctype(E, rt, b, sizeof b), callee);
  else
    fprintf(E->out, "  %s(", callee);
  for (int i = 0; i < c->ninputs; i++)
    fprintf(E->out, "%sa%d", i ? ", " : "", i);
  fprintf(E->out, ");\n  uint64_t h = 0;\n");
  if (rt != AF_T_VOID) emit_fold_var(E, "  ", rt, "r");
  if (no)
    fprintf(E->out,
            "  for (int k = 0; k < %d; k++) h = af_fold_raw(h, %sobj[k], AF_REGION_SIZE);\n", no,
            p);
  fprintf(E->out, "  return h;\n}\n");
}

void af_emit_opts_default(af_emit_opts *o) {
  o->emit_prelude = 1;
  o->emit_main = 1;
  o->prefix = NULL;
  o->extern_entry = 0;
  o->ext_code = 0;
}

af_status af_emit_prelude(FILE *out) {
  fputs(prelude, out);
  put_ftoi_helpers(out);
  return ferror(out) ? AF_ERR_IO : AF_OK;
}

/* The printf format string of AF_CHECKSUM_FMT as a C literal. */
static void put_checksum_fmt(FILE *out) {
  for (const char *s = AF_CHECKSUM_FMT; *s; s++) {
    if (*s == '\n')
      fputs("\\n", out);
    else if (*s == '"' || *s == '\\')
      fprintf(out, "\\%c", *s);
    else
      fputc(*s, out);
  }
}

af_status af_emit_c(const af_case *c, const af_emit_opts *o, FILE *out, af_error *err) {
  af_emit_opts def;
  if (!o) {
    af_emit_opts_default(&def);
    o = &def;
  }
  emitter E = {c, out, o->prefix ? o->prefix : "", err, AF_OK, o->extern_entry, o->ext_code};
  if (o->ext_code && o->extern_entry)
    return eerr(&E, AF_ERR_INVALID, "ext_code and extern_entry exclude each other", c->entry, -1);
  if (c->entry < 0 || c->entry >= c->nfuncs || c->ninputs != c->funcs[c->entry].sig.nparams)
    return eerr(&E, AF_ERR_INVALID, "bad entry or inputs", c->entry, -1);
  for (int fi = 0; fi < c->nfuncs; fi++)
    if (!c->funcs[fi].value_type)
      return eerr(&E, AF_ERR_INVALID, "function not finished (af_fn_finish)", fi, -1);
  fprintf(out, "/* abifuzz case: seed 0x%016" PRIx64 " index %" PRIu64 " abi %s gen %d */\n",
          c->seed, c->index, af_cc_name(c->cc), c->gen_version);
  if (o->ext_code)
    fprintf(out, "/* external code: host functions and %saf_objects are imports */\n", E.p);
  else if (o->emit_main)
    fprintf(out, "/* build: cc %s%s%s case.c && ./a.out */\n", AF_CC_BASE_FLAGS,
            af_case_needs_avx(c) ? " -mavx" : "", " -ffp-contract=off");
  if (o->emit_prelude) af_emit_prelude(out);
  if (af_case_needs_avx(c))
    fprintf(out, "#ifndef __AVX__\n#error \"this case uses __m256: compile with -mavx\"\n#endif\n");
  if (af_case_needs_f16(c))
    fprintf(out, "#ifndef __FLT16_MAX__\n#error \"this case uses _Float16: clang >= 15 or gcc >= "
                 "12\"\n#endif\n");
  emit_types(&E);
  emit_objects(&E);
  if (o->extern_entry) {
    /* the functions are native code from elsewhere: only what run needs */
    emit_entry_ptr(&E);
    fprintf(out, "unsigned char *%sobjects(int k) {\n", E.p);
    if (c->nobjects)
      fprintf(out, "  return k >= 0 && k < %d ? %sobj[k] : NULL;\n}\n", c->nobjects, E.p);
    else
      fprintf(out, "  (void)k;\n  return NULL;\n}\n");
  } else {
    for (int fi = 0; fi < c->nfuncs; fi++)
      emit_sig(&E, fi, 1);
    for (int fi = c->nfuncs - 1; fi >= 0 && E.st == AF_OK; fi--)
      if (!o->ext_code || !c->funcs[fi].host) emit_func(&E, fi);
  }
  if (o->ext_code) return E.st == AF_OK && ferror(out) ? AF_ERR_IO : E.st;
  if (E.st == AF_OK) emit_run(&E);
  if (E.st == AF_OK && o->emit_main) {
    fprintf(out, "int main(void) {\n  printf(\"");
    put_checksum_fmt(out);
    fprintf(out, "\", (unsigned long long)%srun());\n  return 0;\n}\n", E.p);
  }
  if (E.st == AF_OK && ferror(out)) E.st = AF_ERR_IO;
  return E.st;
}

af_status af_emit_batch(const af_case *const *cases, int n, FILE *out, af_error *err) {
  af_status s = af_emit_prelude(out);
  char pre[32];
  for (int i = 0; i < n && s == AF_OK; i++) {
    af_emit_opts o = {0, 0, pre, 0, 0};
    snprintf(pre, sizeof pre, "c%d_", i);
    s = af_emit_c(cases[i], &o, out, err);
  }
  if (s != AF_OK) return s;
  fprintf(out, "int main(void) {\n");
  for (int i = 0; i < n; i++) {
    fprintf(out, "  printf(\"case %d ", i);
    put_checksum_fmt(out);
    fprintf(out, "\", (unsigned long long)c%d_run());\n", i);
  }
  fprintf(out, "  return 0;\n}\n");
  return ferror(out) ? AF_ERR_IO : AF_OK;
}
