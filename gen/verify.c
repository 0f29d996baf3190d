/* verify.c - af_verify: every rule of the case model (types, signatures, entry, inputs). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "verify_internal.h"

/* The interpreter, the JIT and the C emitter trust a verified case
 * completely, so every rule of gen.h is checked here, and nothing is mutated
 * (af_layout must already have run). Function bodies: verify_body.c. */

af_status vfy_fail(af_error *err, const char *prefix, const char *fmt, ...) {
  if (!err) return AF_ERR_INVALID;
  char body[224];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(body, sizeof body, fmt, ap);
  va_end(ap);
  snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, body);
  return AF_ERR_INVALID;
}

char *vfy_put_int(char *p, int v) {
  char d[12];
  int n = 0;
  unsigned u = v < 0 ? 0u - (unsigned)v : (unsigned)v;
  do
    d[n++] = (char)('0' + u % 10);
  while (u /= 10);
  if (v < 0) *p++ = '-';
  while (n)
    *p++ = d[--n];
  return p;
}

/* buf = a, x in decimal, then b and y when b is not NULL: "type t12 field 3". What
 * snprintf(buf, n, "%s%d%s%d", ...) makes, without its cost: the verifier runs on every
 * generated case (a tenth of generating one went to formatting prefixes no message used).
 * The per-type and per-field checks call it only in the failing vfy_fail's arguments.
 * buf holds at least 48 bytes; a and b are short. */
static const char *pfx(char buf[48], const char *a, int x, const char *b, int y) {
  char *p = buf;
  for (int part = 0; part < 2; part++) {
    const char *w = part ? b : a;
    int v = part ? y : x;
    if (!w) break;
    while (*w)
      *p++ = *w++;
    p = vfy_put_int(p, v);
  }
  *p = 0;
  return buf;
}

/* The place names of the type checks, made only for the message of a failing check. */
static const char *tp(char buf[48], int id) { return pfx(buf, "type t", id, NULL, 0); }
static const char *tfp(char buf[48], int id, int i) { return pfx(buf, "type t", id, " field ", i); }

const char *vfy_tname(const af_case *c, int type, char *buf, size_t n) {
  if (type < 0 || type >= c->ntypes) {
    snprintf(buf, n, "type#%d", type);
    return buf;
  }
  return af_type_name(c, type, buf, n);
}

int vfy_is_value_type(const af_case *c, int type) {
  if (type <= AF_T_VOID || type >= c->ntypes) return 0;
  return type < AF_T_NSCALAR || c->types[type].kind != AF_T_ARRAY;
}

static int pow2_upto64(int a) { return a >= 1 && a <= 64 && (a & (a - 1)) == 0; }

static int is_bitfield_type(int t) { return t == AF_T_BOOL || (t >= AF_T_I8 && t <= AF_T_U64); }

/* gen.h: union members (recursively) admit every bit pattern: integers,
 * f16 f32 f64, complex, vectors, bit-fields; no bool (except as a 1-bit
 * bit-field), no f80 (and never a pointer). */
static int union_member_ok(const af_case *c, int type) {
  if (type < AF_T_NSCALAR) {
    switch (type) {
    case AF_T_VOID:
    case AF_T_BOOL:
    case AF_T_F80:
    case AF_T_PTR: return 0;
    default: return 1;
    }
  }
  const af_type *t = &c->types[type];
  if (t->kind == AF_T_ARRAY) return union_member_ok(c, t->elem);
  for (int i = 0; i < t->nfields; i++)
    if (t->fields[i].bits < 0 && !union_member_ok(c, t->fields[i].type)) return 0;
  return 1;
}

static af_status shape_field(const af_case *c, int id, int i, const af_field *f, af_error *err) {
  char p[48], b[32];
  const af_type *t = &c->types[id];
  if (f->type <= AF_T_VOID || f->type >= id)
    return vfy_fail(err, tfp(p, id, i), "field type %s is not an earlier non-void type",
                    vfy_tname(c, f->type, b, sizeof b));
  if (f->type == AF_T_PTR) return vfy_fail(err, tfp(p, id, i), "pointers are never fields");
  if (f->bits < -1) return vfy_fail(err, tfp(p, id, i), "bad bit-field width %d", f->bits);
  if (f->bits >= 0) {
    if (!is_bitfield_type(f->type))
      return vfy_fail(err, tfp(p, id, i), "bit-field of type %s (only bool and i8..u64)",
                      vfy_tname(c, f->type, b, sizeof b));
    int w = f->type == AF_T_BOOL ? 1 : 8 * af_scalar((af_kind)f->type)->size;
    if (f->bits > w)
      return vfy_fail(err, tfp(p, id, i), "bit-field width %d exceeds %d bits of %s", f->bits, w,
                      vfy_tname(c, f->type, b, sizeof b));
    if (f->align != 0) return vfy_fail(err, tfp(p, id, i), "a bit-field cannot have an alignment");
  } else if (f->align != 0 && !pow2_upto64(f->align)) {
    return vfy_fail(err, tfp(p, id, i), "field alignment %d is not a power of two in 1..64",
                    f->align);
  }
  if (t->kind == AF_T_UNION && f->bits < 0 && !union_member_ok(c, f->type))
    return vfy_fail(err, tfp(p, id, i),
                    "union member %s does not admit every bit pattern (bool, f80 inside)",
                    vfy_tname(c, f->type, b, sizeof b));
  return AF_OK;
}

af_status af_verify_types_shape(const af_case *c, af_error *err) {
  if (c->ntypes < AF_T_NSCALAR || c->ntypes > AF_MAX_TYPES)
    return vfy_fail(err, "types", "%d types (must be %d..%d)", c->ntypes, AF_T_NSCALAR,
                    AF_MAX_TYPES);
  for (int k = 0; k < AF_T_NSCALAR; k++) {
    const af_type *t = &c->types[k];
    const af_scalar_info *s = af_scalar((af_kind)k);
    if ((int)t->kind != k || t->size != s->size || t->alignment != s->align)
      return vfy_fail(err, "types", "scalar entry %d (%s) is not the scalar table's", k, s->name);
  }
  for (int id = AF_T_NSCALAR; id < c->ntypes; id++) {
    const af_type *t = &c->types[id];
    char p[48], b[32];
    if (t->kind == AF_T_ARRAY) {
      if (t->elem <= AF_T_VOID || t->elem >= id)
        return vfy_fail(err, tp(p, id), "array element %s is not an earlier non-void type",
                        vfy_tname(c, t->elem, b, sizeof b));
      if (t->elem == AF_T_PTR)
        return vfy_fail(err, tp(p, id), "arrays of pointers are not allowed");
      if (t->count < 1 || t->count > AF_MAX_TYPE_SIZE)
        return vfy_fail(err, tp(p, id), "array count %u out of 1..%d", t->count, AF_MAX_TYPE_SIZE);
      continue;
    }
    if (t->kind != AF_T_STRUCT && t->kind != AF_T_UNION)
      return vfy_fail(err, tp(p, id), "kind %d is not struct, union or array", (int)t->kind);
    if (t->nfields < 0 || t->nfields > AF_MAX_FIELDS)
      return vfy_fail(err, tp(p, id), "%d fields (max %d)", t->nfields, AF_MAX_FIELDS);
    if (t->nfields && !t->fields) return vfy_fail(err, tp(p, id), "fields missing");
    if (t->packed != 0 && t->packed != 1) return vfy_fail(err, tp(p, id), "packed must be 0 or 1");
    if (t->align != 0 && !pow2_upto64(t->align))
      return vfy_fail(err, tp(p, id), "alignment %d is not a power of two in 1..64", t->align);
    for (int i = 0; i < t->nfields; i++) {
      af_status s = shape_field(c, id, i, &t->fields[i], err);
      if (s != AF_OK) return s;
    }
  }
  return AF_OK;
}

/* The layout must be computed and self-consistent: every field inside its
 * aggregate, sizes within AF_MAX_TYPE_SIZE and multiples of the alignment. */
static af_status check_layout(const af_case *c, af_error *err) {
  for (int id = AF_T_NSCALAR; id < c->ntypes; id++) {
    const af_type *t = &c->types[id];
    char p[48];
    if (!pow2_upto64((int)(t->alignment > 64 ? 0 : t->alignment)))
      return vfy_fail(err, tp(p, id), "alignment %u: layout not computed?", t->alignment);
    if (t->size > AF_MAX_TYPE_SIZE)
      return vfy_fail(err, tp(p, id), "size %u exceeds %d bytes", t->size, AF_MAX_TYPE_SIZE);
    if (t->size % t->alignment)
      return vfy_fail(err, tp(p, id), "size %u is not a multiple of alignment %u", t->size,
                      t->alignment);
    if (t->kind == AF_T_ARRAY) {
      const af_type *e = &c->types[t->elem];
      if ((uint64_t)t->size != (uint64_t)e->size * t->count || t->alignment != e->alignment)
        return vfy_fail(err, tp(p, id),
                        "array layout is not count x element: layout not computed?");
      continue;
    }
    for (int i = 0; i < t->nfields; i++) {
      const af_field *f = &t->fields[i];
      const af_type *ft = &c->types[f->type];
      if (f->offset != f->bit_offset / 8)
        return vfy_fail(err, tp(p, id), "field %d: offset %u does not match bit offset %u", i,
                        f->offset, f->bit_offset);
      if (t->kind == AF_T_UNION && f->bit_offset != 0)
        return vfy_fail(err, tp(p, id), "union member %d not at offset 0", i);
      if (f->bits < 0) {
        if (f->bit_offset % 8 || (uint64_t)f->offset + ft->size > t->size)
          return vfy_fail(err, tp(p, id), "field %d at %u (size %u) outside the %u bytes", i,
                          f->offset, ft->size, t->size);
        /* C11 6.7.5p5: _Alignas cannot make a member less aligned than its type. */
        if (f->align != 0 && (uint32_t)f->align < ft->alignment)
          return vfy_fail(err, tp(p, id), "field %d: alignment %d is less than its type's %u", i,
                          f->align, ft->alignment);
      } else if ((uint64_t)f->bit_offset + (uint64_t)f->bits > 8ull * t->size) {
        return vfy_fail(err, tp(p, id), "bit-field %d at bit %u outside the %u bytes", i,
                        f->bit_offset, t->size);
      }
    }
  }
  return AF_OK;
}

/* The layout must be exactly what af_layout computes (a stale layout, e.g.
 * after a field changed, would make the printed text describe another
 * case). af_layout runs on a scratch copy of the type table: the case itself
 * is never written. */
static af_status check_layout_fresh(const af_case *c, af_error *err) {
  size_t nf = 0;
  for (int id = AF_T_NSCALAR; id < c->ntypes; id++)
    if (c->types[id].kind != AF_T_ARRAY) nf += (size_t)c->types[id].nfields;
  af_case *s = malloc(sizeof *s);
  af_field *fs = malloc(sizeof(af_field) * (nf ? nf : 1));
  af_status st = AF_OK;
  if (!s || !fs) {
    if (err) snprintf(err->msg, sizeof err->msg, "out of memory");
    st = AF_ERR_NOMEM;
    goto done;
  }
  /* af_layout reads only ntypes and types[0, ntypes): the rest of the scratch case
   * (20 KB) is never read, so it is not cleared. */
  s->ntypes = c->ntypes;
  memcpy(s->types, c->types, sizeof(af_type) * (size_t)c->ntypes);
  size_t k = 0;
  for (int id = AF_T_NSCALAR; id < c->ntypes; id++) {
    af_type *t = &s->types[id];
    if (t->kind == AF_T_ARRAY || !t->nfields) continue;
    memcpy(fs + k, t->fields, sizeof(af_field) * (size_t)t->nfields);
    t->fields = fs + k;
    k += (size_t)t->nfields;
  }
  af_status ls = af_layout(s);
  if (ls != AF_OK) {
    st = vfy_fail(err, "types", "af_layout fails on this type table: %s", af_strerror(ls));
    goto done;
  }
  for (int id = AF_T_NSCALAR; id < c->ntypes && st == AF_OK; id++) {
    const af_type *a = &c->types[id], *b = &s->types[id];
    char p[48];
    if (a->size != b->size || a->alignment != b->alignment) {
      st = vfy_fail(err, tp(p, id),
                    "size %u align %u, but af_layout computes size %u align %u (stale layout?)",
                    a->size, a->alignment, b->size, b->alignment);
      break;
    }
    for (int i = 0; a->kind != AF_T_ARRAY && i < a->nfields; i++)
      if (a->fields[i].offset != b->fields[i].offset ||
          a->fields[i].bit_offset != b->fields[i].bit_offset) {
        st = vfy_fail(err, tp(p, id),
                      "field %d at bit %u, but af_layout puts it at bit %u (stale layout?)", i,
                      a->fields[i].bit_offset, b->fields[i].bit_offset);
        break;
      }
  }
done:
  free(fs);
  free(s);
  return st;
}

/* Default argument promotions (C11 6.5.2.2p7): what a variadic call passes. */
static int promoted(int type) {
  switch (type) {
  case AF_T_BOOL:
  case AF_T_I8:
  case AF_T_U8:
  case AF_T_I16:
  case AF_T_U16:
  case AF_T_F16:
  case AF_T_F32: return 0;
  default: return 1;
  }
}

static af_status check_sig(const af_case *c, const af_sig *s, int fn, af_error *err) {
  char b[32], pb[48];
  /* the place name "f<fn>", made only for a failing check's message */
#define P pfx(pb, "f", fn, NULL, 0)
  if ((unsigned)s->cc >= AF_CC_COUNT) return vfy_fail(err, P, "bad calling convention %d", s->cc);
  if (s->nparams < 0 || s->nparams > AF_MAX_PARAMS)
    return vfy_fail(err, P, "%d parameters (max %d)", s->nparams, AF_MAX_PARAMS);
  if (s->ret != AF_T_VOID && !vfy_is_value_type(c, s->ret))
    return vfy_fail(err, P, "return type %s is not a value type",
                    vfy_tname(c, s->ret, b, sizeof b));
  for (int i = 0; i < s->nparams; i++)
    if (!vfy_is_value_type(c, s->params[i]))
      return vfy_fail(err, P, "parameter %d: type %s is not a value type", i,
                      vfy_tname(c, s->params[i], b, sizeof b));
  if (s->variadic != 0 && s->variadic != 1) return vfy_fail(err, P, "variadic must be 0 or 1");
  if (!s->variadic) {
    if (s->nfixed != s->nparams)
      return vfy_fail(err, P, "nfixed %d != nparams %d in a non-variadic signature", s->nfixed,
                      s->nparams);
    return AF_OK;
  }
  if (s->nfixed < 1 || s->nfixed > s->nparams)
    return vfy_fail(err, P, "variadic with nfixed %d (must be 1..%d)", s->nfixed, s->nparams);
  /* C11 7.16.1.4p4: va_start is undefined when the last named parameter's type
   * changes under the default promotions (clang rejects it under -Werror). */
  if (!promoted(s->params[s->nfixed - 1]))
    return vfy_fail(err, P,
                    "last named parameter %d of a variadic signature has type %s, "
                    "which is not default-promoted",
                    s->nfixed - 1, vfy_tname(c, s->params[s->nfixed - 1], b, sizeof b));
  for (int i = s->nfixed; i < s->nparams; i++)
    if (!promoted(s->params[i]))
      return vfy_fail(err, P, "variadic argument %d of type %s is not default-promoted", i,
                      vfy_tname(c, s->params[i], b, sizeof b));
  return AF_OK;
#undef P
}

/* x87 80-bit: the explicit integer bit (bit 63) is set iff the biased
 * exponent is non-zero; the other encodings (pseudo-denormals, unnormals,
 * pseudo-NaNs) are not produced by any arithmetic and trap or differ. */
static int f80_canonical(const uint8_t *b) {
  unsigned exp = (unsigned)(b[8] | (b[9] << 8)) & 0x7fffu;
  int ibit = (b[7] >> 7) & 1;
  return ibit == (exp != 0);
}

static af_status check_bytes(const af_case *c, int type, const uint8_t *b, uint32_t off,
                             const char *where, af_error *err) {
  if (type == AF_T_BOOL && b[off] > 1)
    return vfy_fail(err, where, "bool byte at offset %u is %u (must be 0 or 1)", off, b[off]);
  if (type == AF_T_F80 && !f80_canonical(b + off))
    return vfy_fail(err, where, "f80 at offset %u is not a canonical x87 encoding", off);
  if (type < AF_T_NSCALAR) return AF_OK;
  const af_type *t = &c->types[type];
  if (t->kind == AF_T_ARRAY) {
    uint32_t es = c->types[t->elem].size;
    for (uint32_t i = 0; i < t->count && es; i++) {
      af_status s = check_bytes(c, t->elem, b, off + i * es, where, err);
      if (s != AF_OK) return s;
    }
  } else if (t->kind == AF_T_STRUCT) { /* unions admit every pattern */
    for (int i = 0; i < t->nfields; i++) {
      if (t->fields[i].bits >= 0) continue; /* a 1-bit bool bit-field has no bad pattern */
      af_status s = check_bytes(c, t->fields[i].type, b, off + t->fields[i].offset, where, err);
      if (s != AF_OK) return s;
    }
  }
  return AF_OK;
}

af_status vfy_value(const af_case *c, const af_value *v, int allow_ptr, const char *where,
                    af_error *err) {
  char b[32], b2[32];
  if (!vfy_is_value_type(c, v->type))
    return vfy_fail(err, where, "type %s is not a value type", vfy_tname(c, v->type, b, sizeof b));
  if (v->type == AF_T_PTR) {
    if (!allow_ptr) return vfy_fail(err, where, "pointers are never constants");
    if (v->size != 0) return vfy_fail(err, where, "a ptr value has no bytes (size %u)", v->size);
    if (v->obj < 0 || v->obj >= c->nobjects)
      return vfy_fail(err, where, "ptr names object %d, but the case has %d", v->obj, c->nobjects);
    return AF_OK;
  }
  if (v->size != c->types[v->type].size)
    return vfy_fail(err, where, "%u bytes for %s of size %u", v->size,
                    vfy_tname(c, v->type, b2, sizeof b2), c->types[v->type].size);
  if (v->size && !v->bytes) return vfy_fail(err, where, "bytes missing");
  if (v->type == AF_T_F80)
    for (int i = 10; i < 16; i++)
      if (v->bytes[i]) return vfy_fail(err, where, "f80 padding byte %d is not zero", i);
  return check_bytes(c, v->type, v->bytes, 0, where, err);
}

static af_status check_entry(const af_case *c, af_error *err) {
  char b[32], b2[32];
  if (c->entry < 0 || c->entry >= c->nfuncs)
    return vfy_fail(err, "entry", "entry f%d does not exist (%d functions)", c->entry, c->nfuncs);
  const af_func *f = &c->funcs[c->entry];
  if (f->host) return vfy_fail(err, "entry", "entry f%d is a host function", c->entry);
  if (c->cc != f->sig.cc)
    return vfy_fail(err, "entry", "case convention %s is not the entry's %s", af_cc_name(c->cc),
                    af_cc_name(f->sig.cc));
  if (c->ninputs != f->sig.nparams)
    return vfy_fail(err, "entry", "%d inputs for f%d's %d parameters", c->ninputs, c->entry,
                    f->sig.nparams);
  for (int i = 0; i < c->ninputs; i++) {
    char p[48];
    if (c->inputs[i].type != f->sig.params[i])
      return vfy_fail(err, pfx(p, "input ", i, NULL, 0), "type %s, but parameter %d is %s",
                      vfy_tname(c, c->inputs[i].type, b, sizeof b), i,
                      vfy_tname(c, f->sig.params[i], b2, sizeof b2));
    /* checked without a message first: the place is named only for a bad input */
    if (vfy_value(c, &c->inputs[i], 1, "", NULL) == AF_OK) continue;
    return vfy_value(c, &c->inputs[i], 1, pfx(p, "input ", i, NULL, 0), err);
  }
  return AF_OK;
}

af_status af_verify(const af_case *c, af_error *err) { return vfy_case(c, err, 1); }

af_status vfy_case(const af_case *c, af_error *err, int check_fresh) {
  af_status s = af_verify_types_shape(c, err);
  if (s == AF_OK) s = check_layout(c, err);
  if (s == AF_OK && check_fresh) s = check_layout_fresh(c, err);
  if (s != AF_OK) return s;
  if (c->nobjects < 0 || c->nobjects > AF_MAX_OBJECTS)
    return vfy_fail(err, "case", "%d objects (max %d)", c->nobjects, AF_MAX_OBJECTS);
  if (c->nfuncs < 1 || c->nfuncs > AF_MAX_FUNCS)
    return vfy_fail(err, "case", "%d functions (must be 1..%d)", c->nfuncs, AF_MAX_FUNCS);
  if (c->ninputs < 0 || c->ninputs > AF_MAX_PARAMS)
    return vfy_fail(err, "case", "%d inputs (max %d)", c->ninputs, AF_MAX_PARAMS);
  if ((unsigned)c->cc >= AF_CC_COUNT) return vfy_fail(err, "case", "bad convention %d", c->cc);
  for (int i = 0; i < c->nfuncs; i++) {
    char p[48];
    if (c->funcs[i].host != 0 && c->funcs[i].host != 1)
      return vfy_fail(err, pfx(p, "f", i, NULL, 0), "host must be 0 or 1");
    s = check_sig(c, &c->funcs[i].sig, i, err);
    if (s != AF_OK) return s;
  }
  s = check_entry(c, err);
  if (s != AF_OK) return s;
  return vfy_bodies(c, err);
}
