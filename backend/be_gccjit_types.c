/* be_gccjit_types.c - the gccjit backend's context set-up and a case's types as libgccjit types,
 * with the layout attributes gcc 12's API lacks (packed, aligned structs) expressed exactly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "be_gccjit_internal.h"
#include "oracle.h"

/* ---- what cannot be expressed --------------------------------------------------------- */

/* The alignment a field takes in its aggregate (af_layout's rule, gen/layout.c). */
static uint32_t field_align(const af_case *c, const af_type *t, const af_field *f) {
  uint32_t a = t->packed ? 1 : c->types[f->type].alignment;
  return (uint32_t)f->align > a ? (uint32_t)f->align : a;
}

/* Where the field before i ends, in bits (struct layout). */
static uint64_t end_bits(const af_case *c, const af_type *t, int i) {
  if (i <= 0) return 0;
  const af_field *p = &t->fields[i - 1];
  if (p->bits >= 0) return (uint64_t)p->bit_offset + (uint64_t)(p->bits > 0 ? p->bits : 0);
  return ((uint64_t)p->offset + c->types[p->type].size) * 8;
}

/* libgccjit has no unnamed (zero-width) bit-field. One that changes nothing can be left out:
 * in a union (af_layout: it contributes nothing), or in a struct when the position is already
 * on its boundary, or when the next field is an ordinary one aligned at least as much (it
 * rounds up to the same place). A zero-width bit-field never raises the alignment (psABI
 * 3.1.2 "Bit-Fields"), so leaving it out keeps size and alignment. */
static int zero_width_droppable(const af_case *c, const af_type *t, int i) {
  if (t->kind == AF_T_UNION) return 1;
  uint64_t unit = 8u * c->types[t->fields[i].type].alignment;
  if (end_bits(c, t, i) % unit == 0) return 1;
  if (i + 1 < t->nfields && t->fields[i + 1].bits < 0 &&
      8u * field_align(c, t, &t->fields[i + 1]) >= unit)
    return 1;
  return 0;
}

/* The field that carries a struct's aligned(N) when N is more than its members' alignment:
 * gcc_jit_type_get_aligned on the struct itself would make a variant whose size is not rounded
 * up to N and that calls do not use (gcc passes TYPE_MAIN_VARIANT), so the alignment goes on
 * an ordinary member whose offset is already a multiple of N; that raises the struct's
 * alignment and size exactly as the attribute does, at no other member's expense. -1: none. */
static int carrier(const af_case *c, const af_type *t) {
  uint32_t natural = 1;
  for (int i = 0; i < t->nfields; i++)
    if (t->fields[i].bits != 0) {
      uint32_t a = field_align(c, t, &t->fields[i]);
      if (a > natural) natural = a;
    }
  if ((uint32_t)t->align <= natural) return -2; /* nothing to carry */
  for (int i = 0; i < t->nfields; i++)
    if (t->fields[i].bits < 0 && t->fields[i].offset % (uint32_t)t->align == 0) return i;
  return -1;
}

/* A zero-width bit-field that is not droppable moves the next member (or the end) to its
 * boundary. Named padding bit-fields (u8, so they raise no alignment) up to that boundary do
 * the same, and are classified INTEGER (psABI 3.2.3: bit-fields are INTEGER) like the
 * eightbyte they lie in when the member before them is itself a bit-field or an integer:
 * the padding never leaves that member's eightbyte (the boundary is at most 8 bytes away and
 * the eightbyte's end is a boundary too). gcc 12 ignores zero-width bit-fields when it
 * classifies a C struct (the GCC 12.1 psABI change), so the classes agree. */
static int zero_width_paddable(const af_case *c, const af_type *t, int i) {
  if (i == 0) return 0;
  const af_field *p = &t->fields[i - 1];
  return p->bits > 0 || (p->bits < 0 && (af_type_is_int(c, p->type) || p->type == AF_T_BOOL) &&
                         c->types[p->type].size <= 8);
}

static const char *type_unsupported(const af_case *c, int id) {
  const af_type *t = &c->types[id];
  if (t->kind == AF_T_ARRAY) return NULL;
  for (int i = 0; i < t->nfields; i++) {
    const af_field *f = &t->fields[i];
    if (t->packed && f->bits >= 0 && t->kind == AF_T_STRUCT)
      return "gccjit: packed struct with bit-fields (no packed attribute in libgccjit 12)";
    if (f->bits == 0 && !zero_width_droppable(c, t, i) && !zero_width_paddable(c, t, i))
      return "gccjit: zero-width bit-field (libgccjit has no unnamed bit-field)";
  }
  if (carrier(c, t) == -1) return "gccjit: aligned struct without an ordinary member to carry it";
  return NULL;
}

const char *gj_unsupported(const af_case *c) {
  if (af_case_needs_f16(c)) return "gccjit: no _Float16 type in libgccjit 12";
  for (int t = AF_T_NSCALAR; t < c->ntypes; t++) {
    const char *why = type_unsupported(c, t);
    if (why) return why;
  }
  for (int fi = 0; fi < c->nfuncs; fi++) {
    const af_func *f = &c->funcs[fi];
    if (f->host) continue;
    if (f->sig.variadic) return "gccjit: variadic callee (libgccjit has no va_arg)";
    for (int i = 0; i < f->ninsts; i++)
      if (f->insts[i].op == AF_OP_CALL && f->insts[i].imm > fi && f->insts[i].imm < c->nfuncs &&
          c->funcs[f->insts[i].imm].sig.cc != AF_CC_SYSV)
        return "gccjit: call of a Win64 function (no ms_abi in libgccjit 12)";
  }
  return NULL;
}

/* ---- the context ---------------------------------------------------------------------- */

af_status gj_check(gj_unit *u, const char *what, af_error *err) {
  const char *e = gcc_jit_context_get_first_error(u->ctx);
  if (!e) return AF_OK;
  if (err) snprintf(err->msg, sizeof err->msg, "gccjit: %s: %s", what, e);
  return AF_ERR_RUNTIME;
}

af_status gj_unit_init(gj_unit *u, int needs_avx, af_error *err) {
  memset(u, 0, sizeof *u);
  gcc_jit_context *x = gcc_jit_context_acquire();
  if (!x) {
    if (err) snprintf(err->msg, sizeof err->msg, "gccjit: cannot acquire a context");
    return AF_ERR_NOMEM;
  }
  u->ctx = x;
  gcc_jit_context_set_int_option(x, GCC_JIT_INT_OPTION_OPTIMIZATION_LEVEL, 2);
#ifdef LIBGCCJIT_HAVE_gcc_jit_context_set_bool_print_errors_to_stderr
  gcc_jit_context_set_bool_print_errors_to_stderr(x, 0); /* errors become af_error */
#endif
  /* -fno-strict-aliasing: values are read and written through byte pointers (GET, SET,
   * constants). -ffp-contract=off: every FADD/FSUB/FMUL rounds on its own (gen.h). -fno-inline,
   * -fno-ipa-*: every CALL between the case's functions stays a real call that follows the
   * convention (like the emitted C's noinline, noipa). -fno-tree-sra: gcc 12's early SRA dies
   * (internal compiler error, exit(4) of the whole process) on a union whose bit-field member
   * libgccjit wrote after a byte copy into the union (found with this backend). -w: warnings would
   * become context errors. (-Wno-psabi is a C-family option libgccjit rejects: the psABI notes are
   * handled by be_gccjit.c's retry.) */
  static const char *const opts[] = {"-fno-strict-aliasing", "-ffp-contract=off", "-fno-inline",
                                     "-fno-ipa-ra",          "-fno-ipa-sra",      "-fno-ipa-cp",
                                     "-fno-ipa-icf",         "-fno-tree-sra",     "-w"};
  for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
    gcc_jit_context_add_command_line_option(x, opts[i]);
  if (needs_avx) gcc_jit_context_add_command_line_option(x, "-mavx"); /* __m256 in YMM */
  u->void_t = gcc_jit_context_get_type(x, GCC_JIT_TYPE_VOID);
  u->bool_t = gcc_jit_context_get_type(x, GCC_JIT_TYPE_BOOL);
  u->u8 = gcc_jit_context_get_type(x, GCC_JIT_TYPE_UINT8_T);
  u->u8p = gcc_jit_type_get_pointer(u->u8);
  u->vp = gcc_jit_context_get_type(x, GCC_JIT_TYPE_VOID_PTR);
  u->vpp = gcc_jit_type_get_pointer(u->vp);
  u->size_t_ = gcc_jit_context_get_type(x, GCC_JIT_TYPE_SIZE_T);
  u->int_t = gcc_jit_context_get_type(x, GCC_JIT_TYPE_INT);
  u->u64 = gcc_jit_context_get_type(x, GCC_JIT_TYPE_UINT64_T);
  u->ld = gcc_jit_context_get_type(x, GCC_JIT_TYPE_LONG_DOUBLE);
  static const enum gcc_jit_types us[5] = {GCC_JIT_TYPE_UINT8_T, GCC_JIT_TYPE_UINT16_T,
                                           GCC_JIT_TYPE_UINT32_T, GCC_JIT_TYPE_UINT64_T,
                                           GCC_JIT_TYPE_UINT128_T};
  static const enum gcc_jit_types ss[5] = {GCC_JIT_TYPE_INT8_T, GCC_JIT_TYPE_INT16_T,
                                           GCC_JIT_TYPE_INT32_T, GCC_JIT_TYPE_INT64_T,
                                           GCC_JIT_TYPE_INT128_T};
  for (int i = 0; i < 5; i++) {
    u->uint[1 << i] = gcc_jit_context_get_type(x, us[i]);
    u->sint[1 << i] = gcc_jit_context_get_type(x, ss[i]);
  }
  u->memcpy_fn = gcc_jit_context_get_builtin_function(x, "__builtin_memcpy");
  u->memset_fn = gcc_jit_context_get_builtin_function(x, "__builtin_memset");
  gcc_jit_type *mp[5] = {u->vp, u->vp, u->vp, u->vp, u->vp};
  u->mix_t = gcc_jit_context_new_function_ptr_type(x, NULL, u->u64, 5, mp, 0);
  u->mix = gcc_jit_context_new_rvalue_from_ptr(x, u->mix_t, (void *)(uintptr_t)be_gj_mix);
  gcc_jit_type *ip[4] = {u->vp, u->vp, u->int_t, u->int_t};
  u->itof = gcc_jit_context_new_rvalue_from_ptr(
      x, gcc_jit_context_new_function_ptr_type(x, NULL, u->void_t, 4, ip, 0),
      (void *)(uintptr_t)be_gj_itof);
  return gj_check(u, "set-up", err);
}

/* ---- types ------------------------------------------------------------------------------ */

static gcc_jit_type *scalar_type(gj_unit *u, int t) {
  gcc_jit_context *x = u->ctx;
  switch (t) {
  case AF_T_VOID: return u->void_t;
  case AF_T_BOOL: return u->bool_t;
  case AF_T_I8: return u->sint[1];
  case AF_T_U8: return u->uint[1];
  case AF_T_I16: return u->sint[2];
  case AF_T_U16: return u->uint[2];
  case AF_T_I32: return u->sint[4];
  case AF_T_U32: return u->uint[4];
  case AF_T_I64: return u->sint[8];
  case AF_T_U64: return u->uint[8];
  case AF_T_I128: return u->sint[16];
  case AF_T_U128: return u->uint[16];
  case AF_T_F32: return gcc_jit_context_get_type(x, GCC_JIT_TYPE_FLOAT);
  case AF_T_F64: return gcc_jit_context_get_type(x, GCC_JIT_TYPE_DOUBLE);
  case AF_T_F80: return u->ld; /* x87 80-bit, size 16 align 16 on x86-64 */
  case AF_T_CF32: return gcc_jit_context_get_type(x, GCC_JIT_TYPE_COMPLEX_FLOAT);
  case AF_T_CF64: return gcc_jit_context_get_type(x, GCC_JIT_TYPE_COMPLEX_DOUBLE);
  case AF_T_PTR: return u->vp;
  /* __m128 / __m256 are float vectors (vector_size 16 / 32), as the emitted C's af_m128 */
  case AF_T_M128:
    return gcc_jit_type_get_vector(gcc_jit_context_get_type(x, GCC_JIT_TYPE_FLOAT), 4);
  case AF_T_M256:
    return gcc_jit_type_get_vector(gcc_jit_context_get_type(x, GCC_JIT_TYPE_FLOAT), 8);
  default: return NULL; /* f16: gj_unsupported said so */
  }
}

/* A struct or union: every member as C declares it. packed: each member's type made
 * 1-aligned (an aligned(1) variant, which gcc lays out like a packed member, psABI
 * classification included: it looks at offsets, not at the attribute) unless the member has
 * its own _Alignas; aligned(N): carried by one member (carrier()). */
static af_status aggregate_type(gj_unit *u, gj_case *k, int id, af_error *err) {
  const af_case *c = k->c;
  const af_type *t = &c->types[id];
  gcc_jit_context *x = u->ctx;
  gcc_jit_field *fl[AF_MAX_FIELDS * 9]; /* a zero-width bit-field: up to 8 paddings */
  int n = 0, carry = carrier(c, t);
  k->field[id] = calloc((size_t)(t->nfields ? t->nfields : 1), sizeof *k->field[id]);
  if (!k->field[id]) return AF_ERR_NOMEM;
  for (int i = 0; i < t->nfields; i++) {
    const af_field *f = &t->fields[i];
    char name[16];
    snprintf(name, sizeof name, "f%d", i);
    if (f->bits == 0) {
      if (zero_width_droppable(c, t, i)) continue;
      /* padding up to the boundary af_layout computed (zero_width_paddable) */
      uint64_t pos = end_bits(c, t, i), to = f->bit_offset;
      for (int j = 0; pos < to && n < AF_MAX_FIELDS * 9; j++) {
        int w = (int)(8 - pos % 8);
        if ((uint64_t)w > to - pos) w = (int)(to - pos);
        snprintf(name, sizeof name, "z%d_%d", i, j);
        fl[n++] = gcc_jit_context_new_bitfield(x, NULL, u->u8, w, name);
        pos += (uint64_t)w;
      }
      continue;
    }
    gcc_jit_type *ft = k->type[f->type];
    if (f->bits > 0) {
      fl[n] = gcc_jit_context_new_bitfield(x, NULL, ft, f->bits, name);
    } else {
      uint32_t want = field_align(c, t, f);
      if (i == carry) want = (uint32_t)t->align > want ? (uint32_t)t->align : want;
      if (want != c->types[f->type].alignment) ft = gcc_jit_type_get_aligned(ft, want);
      fl[n] = gcc_jit_context_new_field(x, NULL, ft, name);
    }
    k->field[id][i] = fl[n++];
  }
  char name[32];
  snprintf(name, sizeof name, "%st%d", k->prefix, id);
  if (t->kind == AF_T_UNION)
    k->type[id] = gcc_jit_context_new_union_type(x, NULL, name, n, n ? fl : NULL);
  else
    k->type[id] =
        gcc_jit_struct_as_type(gcc_jit_context_new_struct_type(x, NULL, name, n, n ? fl : NULL));
  return gj_check(u, name, err);
}

af_status gj_types(gj_unit *u, gj_case *k, af_error *err) {
  const af_case *c = k->c;
  for (int t = 0; t < AF_T_NSCALAR; t++)
    k->type[t] = scalar_type(u, t);
  for (int t = AF_T_NSCALAR; t < c->ntypes; t++) {
    const af_type *ty = &c->types[t];
    if (ty->kind == AF_T_ARRAY) {
      k->type[t] = gcc_jit_context_new_array_type(u->ctx, NULL, k->type[ty->elem], (int)ty->count);
      continue;
    }
    af_status s = aggregate_type(u, k, t, err);
    if (s != AF_OK) return s;
  }
  return gj_check(u, "types", err);
}

void gj_case_free(gj_case *k) {
  for (int t = 0; t < AF_MAX_TYPES; t++) {
    free(k->field[t]);
    k->field[t] = NULL;
  }
}
