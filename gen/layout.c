/* layout.c - sizes, alignments and field offsets of composite types (gcc/clang x86-64 layout). */
#include "case_internal.h"
#include "layout_internal.h"

/* The layout rules are those of the x86-64 psABI, 3.1.2 "Data Representation"
 * (Figure 3.1 scalar sizes, "Aggregates and Unions", "Bit-Fields"), plus the
 * GNU extensions gcc and clang implement identically on x86-64 Linux:
 * __attribute__((packed)), __attribute__((aligned(N))), empty structs (size
 * 0) and zero-width bit-fields. ms_abi functions on Linux use the same
 * layouts: the attribute changes the calling convention, never the layout
 * (no -mms-bitfields). */

static int layout_pow2_ok(int a) { return a >= 1 && a <= 64 && (a & (a - 1)) == 0; }

static uint64_t layout_round(uint64_t x, uint64_t a) { return layout_round_up(x, a); }

/* Bit-fields may only have type bool or i8..u64 (the model; C also allows
 * __int128 bit-fields in gcc, which we leave out). */
static int layout_bitfield_type_ok(int type) {
  return type == AF_T_BOOL || (type >= AF_T_I8 && type <= AF_T_U64);
}

static unsigned layout_type_bits(int type) { /* type: bool or i8..u64 (checked first) */
  return type == AF_T_BOOL ? 1u : 8u * case_scalar(type)->size;
}

/* Checks one field of type `id` and returns its alignment in the aggregate
 * (0 on an invalid field). */
static inline __attribute__((always_inline)) uint32_t
layout_field_align(const af_case *c, int id, const af_type *t, const af_field *f, int check) {
  if (!check) { /* a valid field (layout_type_gen): its alignment only */
    uint32_t a = t->packed ? 1 : c->types[f->type].alignment;
    return (uint32_t)f->align > a ? (uint32_t)f->align : a;
  }
  if (f->type <= AF_T_VOID || f->type >= id) return 0; /* only earlier types */
  if (f->align != 0 && !layout_pow2_ok(f->align)) return 0;
  /* C11 6.7.5p4: _Alignas cannot make a member less aligned than its type. */
  if (f->align != 0 && (uint32_t)f->align < c->types[f->type].alignment) return 0;
  if (f->bits >= 0) {
    if (!layout_bitfield_type_ok(f->type) || f->align != 0)
      return 0; /* no _Alignas on bit-fields (C11 6.7.5) */
    if ((unsigned)f->bits > layout_type_bits(f->type)) return 0;
  } else if (f->bits != -1) {
    return 0;
  }
  /* packed: every member aligned to 1, but an explicit aligned/_Alignas on a
   * member still applies (gcc and clang agree; checked with both). */
  uint32_t a = t->packed ? 1 : c->types[f->type].alignment;
  if ((uint32_t)f->align > a) a = (uint32_t)f->align;
  return a;
}

/* check: validate the type and its fields (0: layout_type_gen's, valid by construction). */
static inline __attribute__((always_inline)) af_status layout_struct(af_case *c, int id,
                                                                     int check) {
  af_type *t = &c->types[id];
  uint64_t pos = 0; /* next free bit */
  uint32_t align = 1;
  uint64_t size = 0; /* unions: largest member in bytes */
  if (check && (t->nfields < 0 || t->nfields > AF_MAX_FIELDS || (t->nfields && !t->fields)))
    return AF_ERR_INVALID;
  if (check && t->align != 0 && !layout_pow2_ok(t->align)) return AF_ERR_INVALID;
  for (int i = 0; i < t->nfields; i++) {
    af_field *f = &t->fields[i];
    uint32_t fa = layout_field_align(c, id, t, f, check);
    if (!fa) return AF_ERR_INVALID;
    const af_type *ft = &c->types[f->type];
    if (t->kind == AF_T_UNION) {
      /* Every member at offset 0. A zero-width bit-field contributes nothing;
       * a named bit-field needs ceil(bits/8) bytes and its type's alignment. */
      f->offset = 0;
      f->bit_offset = 0;
      if (f->bits == 0) continue;
      uint64_t sz = f->bits > 0 ? ((uint64_t)f->bits + 7) / 8 : ft->size;
      if (sz > size) size = sz;
      if (fa > align) align = fa;
      continue;
    }
    if (f->bits == 0) {
      /* Unnamed zero-width bit-field: next alignof(T) boundary; it does not
       * raise the aggregate's alignment (psABI 3.1.2 "Bit-Fields": "unnamed
       * bit-fields' types do not affect the alignment"), even when packed. */
      pos = layout_round(pos, 8u * ft->alignment);
      f->bit_offset = (uint32_t)pos;
      f->offset = (uint32_t)(pos / 8);
    } else if (f->bits > 0) {
      if (!t->packed) {
        /* psABI 3.1.2: "bit-fields must be contained in a storage unit
         * appropriate for its declared type": a field that would straddle an
         * alignof(T) boundary starts at the next one. */
        uint64_t unit = 8u * ft->alignment;
        if (layout_div(pos, unit) != layout_div(pos + (uint64_t)f->bits - 1, unit))
          pos = layout_round(pos, unit);
      }
      /* packed: bit-contiguous, no unit rule (gcc and clang). */
      f->bit_offset = (uint32_t)pos;
      f->offset = (uint32_t)(pos / 8);
      pos += (uint64_t)f->bits;
      if (fa > align) align = fa;
      continue;
    } else {
      uint64_t off = layout_round((pos + 7) / 8, fa);
      f->offset = (uint32_t)off;
      f->bit_offset = (uint32_t)(off * 8);
      pos = (off + ft->size) * 8;
      if (fa > align) align = fa;
    }
    if (pos > 8u * (uint64_t)AF_MAX_TYPE_SIZE * 2) return AF_ERR_LIMIT;
  }
  if (t->kind == AF_T_STRUCT) size = (pos + 7) / 8;
  if ((uint32_t)t->align > align) align = (uint32_t)t->align;
  size = layout_round(size, align);
  if (size > AF_MAX_TYPE_SIZE) return AF_ERR_LIMIT;
  t->size = (uint32_t)size;
  t->alignment = align;
  return AF_OK;
}

af_status af_layout(af_case *c) { return layout_types_from(c, AF_T_NSCALAR); }

af_status layout_types_from(af_case *c, int first) {
  if (c->ntypes < AF_T_NSCALAR || c->ntypes > AF_MAX_TYPES) return AF_ERR_INVALID;
  if (first < AF_T_NSCALAR) first = AF_T_NSCALAR;
  for (int id = first; id < c->ntypes; id++) {
    af_type *t = &c->types[id];
    if (t->kind == AF_T_ARRAY) {
      if (t->elem <= AF_T_VOID || t->elem >= id || t->count < 1) return AF_ERR_INVALID;
      const af_type *e = &c->types[t->elem];
      uint64_t size = (uint64_t)e->size * t->count;
      if (size > AF_MAX_TYPE_SIZE) return AF_ERR_LIMIT;
      t->size = (uint32_t)size;
      t->alignment = e->alignment;
    } else if (t->kind == AF_T_STRUCT || t->kind == AF_T_UNION) {
      af_status s = layout_struct(c, id, 1);
      if (s != AF_OK) return s;
    } else {
      return AF_ERR_INVALID;
    }
  }
  return AF_OK;
}

af_status layout_type_gen(af_case *c, int id) {
  af_type *t = &c->types[id];
  if (t->kind == AF_T_ARRAY) { /* layout_types_from's array case: only the size can fail */
    uint64_t size = (uint64_t)c->types[t->elem].size * t->count;
    if (size > AF_MAX_TYPE_SIZE) return AF_ERR_LIMIT;
    t->size = (uint32_t)size;
    t->alignment = c->types[t->elem].alignment;
    return AF_OK;
  }
  return layout_struct(c, id, 0);
}
