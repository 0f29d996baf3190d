/* ffi.c - libffi as an independent caller and callee of code under test: signatures as cifs. */
#include <ffi.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "oracle.h"

/* libffi builds its own struct layouts from element lists (ffi_type.elements) and
 * classifies them itself (src/x86/ffi64.c for FFI_UNIX64, ffiw64.c for FFI_WIN64).
 * That is what makes it an independent caller, and also what limits it: it has no
 * __int128, _Float16 or vector types, no packed, bit-field, union or empty layouts,
 * and no explicit alignment (abi-notes "libffi 3.4 blind spots"). Anything it
 * cannot spell is refused with a skip reason, never approximated: a layout we
 * build is checked against af_layout's (size, alignment, every element offset). */

/* The libffi state behind af_ffi_sig.priv. ffi_type values must stay put (the
 * cif points at them), so they live in separately malloc'd blocks. */
typedef struct {
  ffi_cif cif;
  ffi_abi abi;
  ffi_type *args[AF_MAX_PARAMS];
  ffi_type *ret;
  ffi_type *built[AF_MAX_TYPES]; /* memo: af type id -> its ffi_type */
  void **blocks;                 /* every malloc'd block, for af_ffi_free */
  int nblocks, capblocks;
  /* the first blocks (a struct's ffi_type and element list) come from here, not from malloc:
   * a malloc and a free per block were a fifth of preparing a cif */
  size_t pool_used;
  _Alignas(16) unsigned char pool[2048];
} ffi_state;

static void *st_alloc(ffi_state *st, size_t n) {
  size_t r = (n + 15) & ~(size_t)15;
  if (r <= sizeof st->pool - st->pool_used) {
    void *p = st->pool + st->pool_used;
    st->pool_used += r ? r : 16;
    return p;
  }
  if (st->nblocks == st->capblocks) {
    int cap = st->capblocks ? 2 * st->capblocks : 32;
    void **b = realloc(st->blocks, (size_t)cap * sizeof *b);
    if (!b) return NULL;
    st->blocks = b;
    st->capblocks = cap;
  }
  void *p = malloc(n ? n : 1); /* not zeroed: the callers set what libffi reads */
  if (p) st->blocks[st->nblocks++] = p;
  return p;
}

static void st_free(ffi_state *st) {
  if (!st) return;
  for (int i = 0; i < st->nblocks; i++)
    free(st->blocks[i]);
  free(st->blocks);
  free(st);
}

/* The ffi_type of a scalar kind; NULL with *why set when libffi has none. */
static ffi_type *scalar_type(af_kind k, const char **why) {
  switch (k) {
  case AF_T_BOOL: return &ffi_type_uint8; /* one byte 0/1; libffi widens it like u8 */
  case AF_T_I8: return &ffi_type_sint8;
  case AF_T_U8: return &ffi_type_uint8;
  case AF_T_I16: return &ffi_type_sint16;
  case AF_T_U16: return &ffi_type_uint16;
  case AF_T_I32: return &ffi_type_sint32;
  case AF_T_U32: return &ffi_type_uint32;
  case AF_T_I64: return &ffi_type_sint64;
  case AF_T_U64: return &ffi_type_uint64;
  case AF_T_F32: return &ffi_type_float;
  case AF_T_F64: return &ffi_type_double;
  case AF_T_F80: return &ffi_type_longdouble; /* size 16 align 16 on x86-64 Linux */
  case AF_T_PTR: return &ffi_type_pointer;
#ifdef FFI_TARGET_HAS_COMPLEX_TYPE
  case AF_T_CF32: return &ffi_type_complex_float;
  case AF_T_CF64: return &ffi_type_complex_double;
#else
  case AF_T_CF32:
  case AF_T_CF64: *why = "complex (libffi built without complex types)"; return NULL;
#endif
  case AF_T_I128:
  case AF_T_U128: *why = "__int128 (no libffi type)"; return NULL;
  case AF_T_F16: *why = "_Float16 (no libffi type)"; return NULL;
  case AF_T_M128:
  case AF_T_M256: *why = "vector type (no libffi type)"; return NULL;
  default: *why = "unknown scalar kind"; return NULL;
  }
}

/* Expected element offsets of an expanded struct, from af_layout. */
typedef struct {
  ffi_type **elems;
  size_t *offs;
  int n, cap;
} elem_list;

static af_status map_type(ffi_state *st, const af_case *c, int t, ffi_type **out, const char **why);

/* Appends the elements of field type t at byte offset off: an array becomes
 * `count` copies of its element (libffi has no array type; C lays out an array
 * exactly like that many consecutive elements). */
static af_status append_elems(ffi_state *st, const af_case *c, int t, size_t off, elem_list *l,
                              const char **why) {
  const af_type *ty = &c->types[t];
  if (t >= AF_T_NSCALAR && ty->kind == AF_T_ARRAY) {
    size_t esz = c->types[ty->elem].size;
    for (uint32_t i = 0; i < ty->count; i++) {
      af_status s = append_elems(st, c, ty->elem, off + i * esz, l, why);
      if (s != AF_OK) return s;
    }
    return AF_OK;
  }
  ffi_type *ft;
  af_status s = map_type(st, c, t, &ft, why);
  if (s != AF_OK) return s;
  if (l->n == l->cap) {
    *why = "struct too large for libffi expansion";
    return AF_ERR_UNSUPPORTED;
  }
  l->elems[l->n] = ft;
  l->offs[l->n++] = off;
  return AF_OK;
}

/* Why libffi cannot take aggregate ty whatever its fields' types are, or NULL: map_struct's
 * first rules, which quick_refuse also asks before anything is allocated. */
static const char *shape_refusal(const af_type *ty) {
  if (ty->kind == AF_T_UNION) return "union (libffi has no union layout)";
  if (ty->kind != AF_T_STRUCT) return "array outside a struct";
  if (ty->packed) return "packed struct";
  if (ty->nfields == 0 || ty->size == 0) return "empty struct";
  for (int i = 0; i < ty->nfields; i++)
    if (ty->fields[i].bits >= 0) return "bit-field";
  return NULL;
}

/* FFI_WIN64 and FFI_GNUW64 differ only in a long double return: ST0 vs a hidden pointer.
 * af_classify follows clang (ST0, "win64-f80-ret"), and libffi 3.4's FFI_WIN64 aborts in
 * ffi_call on that return type. */
static const char *const win64_f80_ret = "win64 long double return (FFI_WIN64 aborts)";
static int is_win64_f80_ret(const af_sig *sig) {
  return sig->cc == AF_CC_WIN64 && sig->ret == AF_T_F80;
}

/* Builds the ffi_type of struct t and checks that libffi's own layout of it is
 * af_layout's: size, alignment and the offset of every element. */
static af_status map_struct(ffi_state *st, const af_case *c, int t, ffi_type **out,
                            const char **why) {
  const af_type *ty = &c->types[t];
  const char *refused = shape_refusal(ty);
  if (refused) {
    *why = refused;
    return AF_ERR_UNSUPPORTED;
  }
  /* every element has size >= 1 and elements do not overlap (no unions, no bit-fields) */
  int cap = (int)ty->size + 1;
  elem_list l = {NULL, NULL, 0, cap};
  l.elems = st_alloc(st, (size_t)(cap + 1) * sizeof *l.elems); /* NULL-terminated */
  /* the expected offsets and libffi's: on the stack for every size the model allows (a
   * malloc and a free each were a fifth of mapping a struct) */
  size_t offs_buf[AF_MAX_TYPE_SIZE + 1], got_buf[AF_MAX_TYPE_SIZE + 1];
  int small = cap <= AF_MAX_TYPE_SIZE + 1;
  l.offs = small ? offs_buf : malloc((size_t)cap * sizeof *l.offs);
  ffi_type *ft = st_alloc(st, sizeof *ft);
  size_t *got = small ? got_buf : malloc((size_t)cap * sizeof *got);
  af_status s = AF_OK;
  if (!l.elems || !l.offs || !ft || !got) {
    s = AF_ERR_NOMEM;
    goto out;
  }
  for (int i = 0; i < ty->nfields && s == AF_OK; i++) {
    const af_field *f = &ty->fields[i];
    if (f->align > (int)c->types[f->type].alignment) {
      *why = "over-aligned field (_Alignas)";
      s = AF_ERR_UNSUPPORTED;
    } else {
      s = append_elems(st, c, f->type, f->offset, &l, why);
    }
  }
  if (s != AF_OK) goto out;
  l.elems[l.n] = NULL;
  *ft = (ffi_type){0}; /* size and alignment 0: libffi computes them */
  ft->type = FFI_TYPE_STRUCT;
  ft->elements = l.elems;
  if (ffi_get_struct_offsets(st->abi, ft, got) != FFI_OK) {
    *why = "libffi rejects the struct";
    s = AF_ERR_UNSUPPORTED;
    goto out;
  }
  if (ft->size != ty->size || ft->alignment != ty->alignment) {
    *why = ty->align ? "over-aligned struct (aligned(N))" : "layout libffi cannot express";
    s = AF_ERR_UNSUPPORTED;
    goto out;
  }
  for (int i = 0; i < l.n; i++)
    if (got[i] != l.offs[i]) {
      *why = "layout libffi cannot express";
      s = AF_ERR_UNSUPPORTED;
      goto out;
    }
  *out = ft;
out:
  if (!small) {
    free(l.offs);
    free(got);
  }
  return s;
}

/* ---- the reasons known before any allocation, in the order af_ffi_prepare meets them ---- */

/* What quick_type found: FAIL with *why set (the reason map_type gives first for t), OK (a
 * scalar libffi has), or ASK (anything else: map_type decides, after its allocations). */
enum { QUICK_OK, QUICK_FAIL, QUICK_ASK };

/* map_type's answer for t when map_type would give it before looking at any field type: a
 * scalar, or a struct refused by one of map_struct's first rules (union, packed, empty,
 * bit-field). No recursion: a walk of the fields cost more than the refusals it saved. */
static inline int quick_type(const af_case *c, int t, const char **why) {
  if (t <= AF_T_VOID || t >= c->ntypes) return QUICK_ASK;
  if (t < AF_T_NSCALAR) return scalar_type((af_kind)t, why) ? QUICK_OK : QUICK_FAIL;
  const char *w = shape_refusal(&c->types[t]);
  if (!w) return QUICK_ASK;
  *why = w;
  return QUICK_FAIL;
}

/* 1 with *why set when af_ffi_prepare would refuse sig, with the same reason, for a type met
 * before the first one map_type must map (the return, then every parameter in order): then the
 * cif's state is not allocated and freed for nothing (most refusals: an __int128, a union, a
 * bit-field ...). 0: prepare it. */
static int quick_refuse(const af_case *c, const af_sig *sig, const char **why) {
  if (sig->ret != AF_T_VOID) {
    if (is_win64_f80_ret(sig)) {
      *why = win64_f80_ret;
      return 1;
    }
    int q = quick_type(c, sig->ret, why);
    if (q != QUICK_OK) return q == QUICK_FAIL;
  }
  for (int i = 0; i < sig->nparams; i++) {
    int q = quick_type(c, sig->params[i], why);
    if (q != QUICK_OK) return q == QUICK_FAIL;
  }
  return 0;
}

static af_status map_type(ffi_state *st, const af_case *c, int t, ffi_type **out,
                          const char **why) {
  if (t <= AF_T_VOID || t >= c->ntypes) {
    *why = "bad type id";
    return AF_ERR_INVALID;
  }
  if (st->built[t]) {
    *out = st->built[t];
    return AF_OK;
  }
  af_status s = AF_OK;
  ffi_type *ft = NULL;
  if (t < AF_T_NSCALAR) {
    ft = scalar_type((af_kind)t, why);
    if (!ft) s = AF_ERR_UNSUPPORTED;
  } else {
    s = map_struct(st, c, t, &ft, why);
  }
  if (s == AF_OK) st->built[t] = *out = ft;
  return s;
}

/* libffi 3.4.4's ffi_call (src/x86/ffi64.c) copies the INTEGER eightbyte of a
 * struct argument into its register save area with memcpy(&gpr[n], a, size),
 * size being the bytes left of the struct (up to 16), not 8. Into R9 (gpr[5])
 * the excess spills into sse[0]: a 9-16 byte {INTEGER, SSE} struct in R9 and
 * XMMn overwrites the low bytes of XMM0 that an earlier argument loaded (seen
 * here: f(5 x long, struct{float,float}, struct{float,char,float}) gets the
 * first float replaced by the second struct's last one). Elsewhere the excess
 * lands in the next GPR slot, which a later argument or nothing uses. The
 * closure side is not affected. */
static int r9_clobbers_xmm0(const af_case *c, const af_sig *sig) {
  /* Only a struct argument has an {INTEGER, SSE} pair of eightbytes (no scalar type has), and
   * its INTEGER one lands in R9 only after five GPRs went to earlier arguments (an sret
   * pointer included): two at least, each taking at most two. Without such an argument the
   * answer is 0 without classifying (af_classify was most of preparing a cif). */
  int candidate = 0;
  for (int i = 2; i < sig->nparams && !candidate; i++)
    candidate = sig->params[i] >= AF_T_NSCALAR;
  if (!candidate) return 0;
  af_callinfo ci;
  if (af_classify(c, sig, &ci, NULL) != AF_OK) return 0;
  for (int i = 0; i < ci.nargs; i++) {
    const af_loc *l = &ci.args[i];
    if (l->kind == AF_LOC_REG && l->nparts == 2 && l->parts[0].reg == AF_R9 &&
        l->parts[1].cls == AF_CLS_SSE && l->parts[1].reg != AF_XMM0)
      return 1;
  }
  return 0;
}

af_status af_ffi_prepare(const af_case *c, const af_sig *sig, af_ffi_sig *out,
                         const char **skip_reason) {
  const char *why = NULL;
  memset(out, 0, sizeof *out);
  if (skip_reason) *skip_reason = NULL;
  if (sig->nparams < 0 || sig->nparams > AF_MAX_PARAMS) return AF_ERR_INVALID;
  if (c->ntypes < 0 || c->ntypes > AF_MAX_TYPES) return AF_ERR_INVALID;
  if (quick_refuse(c, sig, &why)) {
    if (skip_reason) *skip_reason = why;
    return AF_ERR_UNSUPPORTED;
  }
  /* zeroed up to the case's own types: the memo has AF_MAX_TYPES entries, a case uses a few */
  ffi_state *st = malloc(sizeof *st);
  if (!st) return AF_ERR_NOMEM;
  memset(st, 0, offsetof(ffi_state, built) + (size_t)c->ntypes * sizeof st->built[0]);
  st->blocks = NULL;
  st->nblocks = st->capblocks = 0;
  st->pool_used = 0;
  st->abi = sig->cc == AF_CC_WIN64 ? FFI_WIN64 : FFI_UNIX64;
  af_status s = AF_OK;
  if (sig->ret == AF_T_VOID) {
    st->ret = &ffi_type_void;
  } else if (is_win64_f80_ret(sig)) {
    why = win64_f80_ret;
    s = AF_ERR_UNSUPPORTED;
  } else {
    s = map_type(st, c, sig->ret, &st->ret, &why);
    /* psABI 3.2.3: a struct whose only eightbytes are X87, X87UP ({long
     * double}) is returned in ST0 like a long double (gcc and clang agree);
     * libffi 3.4.4 reads such a struct return from RAX/RDX instead (seen
     * here: struct{long double} f(long double) returns 0 through ffi_call). */
    if (s == AF_OK && sig->cc == AF_CC_SYSV && st->ret->type == FFI_TYPE_STRUCT &&
        af_type_has(c, sig->ret, AF_T_F80)) { /* X87 classes come from a long double only */
      af_callinfo ci;
      if (af_classify(c, sig, &ci, NULL) == AF_OK && ci.ret.kind == AF_LOC_X87) {
        why = "sysv struct{long double} return (libffi reads RAX, not ST0)";
        s = AF_ERR_UNSUPPORTED;
      }
    }
  }
  for (int i = 0; i < sig->nparams && s == AF_OK; i++)
    s = map_type(st, c, sig->params[i], &st->args[i], &why);
  if (s == AF_OK && sig->cc == AF_CC_SYSV && r9_clobbers_xmm0(c, sig)) {
    why = "sysv INTEGER+SSE struct in R9 (libffi clobbers XMM0)";
    s = AF_ERR_UNSUPPORTED;
  }
  if (s == AF_OK) {
    ffi_status fs;
    /* Variadic: ffi_prep_cif_var, nfixed named; the generator passes only
     * default-promoted types through "...", as libffi requires. */
    if (sig->variadic)
      fs = ffi_prep_cif_var(&st->cif, st->abi, (unsigned)sig->nfixed, (unsigned)sig->nparams,
                            st->ret, st->args);
    else
      fs = ffi_prep_cif(&st->cif, st->abi, (unsigned)sig->nparams, st->ret, st->args);
    if (fs != FFI_OK) {
      why = fs == FFI_BAD_ABI ? "libffi: bad ABI" : "libffi: ffi_prep_cif failed";
      s = AF_ERR_UNSUPPORTED;
    }
  }
  if (s != AF_OK) {
    if (skip_reason) *skip_reason = why ? why : af_strerror(s);
    st_free(st);
    return s;
  }
  out->cc = sig->cc;
  out->ret = sig->ret;
  out->nargs = sig->nparams;
  memcpy(out->params, sig->params, sizeof out->params);
  out->ret_size = sig->ret == AF_T_VOID ? 0 : sig->ret == AF_T_PTR ? 8 : c->types[sig->ret].size;
  out->priv = st;
  return AF_OK;
}

void af_ffi_free(af_ffi_sig *s) {
  if (!s) return;
  st_free(s->priv);
  s->priv = NULL;
}

af_status af_ffi_call(const af_ffi_sig *s, void *fn, const af_value *args, const af_case *c,
                      void **objects, uint8_t *ret_bytes) {
  ffi_state *st = s->priv;
  if (!st || !fn) return AF_ERR_INVALID;
  /* Every argument gets its own 64-aligned copy: libffi may pass a pointer to
   * it (Win64 by reference; libffi 3.4.4 passes 3/5/6/7-byte structs by
   * reference without a copy of its own), and the callee may write there. */
  _Alignas(64) uint8_t buf[AF_MAX_PARAMS][AF_MAX_TYPE_SIZE];
  void *argp[AF_MAX_PARAMS];
  for (int i = 0; i < s->nargs; i++) {
    const af_value *v = &args[i];
    if (v->type != s->params[i]) return AF_ERR_INVALID;
    if (v->type == AF_T_PTR && v->obj < 0 && v->bytes && v->size == 8) {
      memcpy(buf[i], v->bytes, 8); /* a raw address, as a closure receives it */
    } else if (v->type == AF_T_PTR) {
      if (v->obj < 0 || v->obj >= c->nobjects || !objects) return AF_ERR_INVALID;
      void *p = objects[v->obj];
      memcpy(buf[i], &p, sizeof p);
    } else {
      if (v->size > AF_MAX_TYPE_SIZE || v->size != c->types[v->type].size) return AF_ERR_INVALID;
      memset(buf[i], 0, sizeof buf[i]);
      if (v->size) memcpy(buf[i], v->bytes, v->size);
    }
    argp[i] = buf[i];
  }
  /* libffi widens integer returns narrower than ffi_arg to a full ffi_arg and
   * may write a whole register pair: the buffer is AF_FFI_RET_BYTES. */
  _Alignas(64) uint8_t rbuf[AF_FFI_RET_BYTES];
  memset(rbuf, 0, sizeof rbuf);
  af_cpu_state cpu;
  af_cpu_state_save(&cpu);
  ffi_call(&st->cif, FFI_FN(fn), rbuf, argp);
  af_cpu_state_restore(&cpu);
  memcpy(ret_bytes, rbuf, sizeof rbuf);
  return AF_OK;
}

/* ---- closures: libffi as the callee ---- */

struct af_ffi_closure {
  ffi_closure *cl;
  void *code;
  const af_ffi_sig *s;
  af_ffi_handler handler;
  void *user;
};

/* libffi's side of a closure call: arguments as af_values, the handler's
 * return bytes widened the way libffi wants them (an integer narrower than
 * ffi_arg fills a whole ffi_arg, sign- or zero-extended by its type). */
static void closure_entry(ffi_cif *cif, void *ret, void **args, void *user) {
  struct af_ffi_closure *cl = user;
  const af_ffi_sig *s = cl->s;
  af_value v[AF_MAX_PARAMS];
  for (int i = 0; i < s->nargs && i < (int)cif->nargs; i++) {
    memset(&v[i], 0, sizeof v[i]);
    v[i].type = s->params[i];
    v[i].obj = -1;
    v[i].size = s->params[i] == AF_T_PTR ? 8 : (uint32_t)cif->arg_types[i]->size;
    v[i].bytes = args[i];
  }
  _Alignas(64) uint8_t rb[AF_FFI_RET_BYTES];
  memset(rb, 0, sizeof rb);
  cl->handler(cl->user, v, s->nargs, rb);
  if (s->ret == AF_T_VOID) return;
  ffi_type *rt = cif->rtype;
  if (rt->size < sizeof(ffi_arg) && rt->type != FFI_TYPE_STRUCT && rt->type != FFI_TYPE_FLOAT &&
      rt->type != FFI_TYPE_COMPLEX) {
    uint64_t x = 0;
    for (size_t b = 0; b < rt->size; b++)
      x |= (uint64_t)rb[b] << (8 * b);
    int sign =
        rt->type == FFI_TYPE_SINT8 || rt->type == FFI_TYPE_SINT16 || rt->type == FFI_TYPE_SINT32;
    if (sign && (x >> (8 * rt->size - 1)) & 1) x |= ~(uint64_t)0 << (8 * rt->size);
    ffi_arg a = (ffi_arg)x;
    memcpy(ret, &a, sizeof a);
  } else {
    memcpy(ret, rb, s->ret_size);
  }
}

af_status af_ffi_closure_new(const af_ffi_sig *s, af_ffi_handler handler, void *user,
                             af_ffi_closure **out, void **code) {
  *out = NULL;
  *code = NULL;
  ffi_state *st = s->priv;
  if (!st || !handler) return AF_ERR_INVALID;
  struct af_ffi_closure *cl = calloc(1, sizeof *cl);
  if (!cl) return AF_ERR_NOMEM;
  cl->s = s;
  cl->handler = handler;
  cl->user = user;
  cl->cl = ffi_closure_alloc(sizeof(ffi_closure), &cl->code);
  if (!cl->cl) {
    free(cl);
    return AF_ERR_NOMEM;
  }
  if (ffi_prep_closure_loc(cl->cl, &st->cif, closure_entry, cl, cl->code) != FFI_OK) {
    ffi_closure_free(cl->cl);
    free(cl);
    return AF_ERR_UNSUPPORTED;
  }
  *out = cl;
  *code = cl->code;
  return AF_OK;
}

void af_ffi_closure_free(af_ffi_closure *cl) {
  if (!cl) return;
  ffi_closure_free(cl->cl);
  free(cl);
}
