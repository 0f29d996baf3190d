/* case.c - the case model: arena, scalar table, type/function/instruction builders. */
#include <stdlib.h>
#include <string.h>

#include "case_internal.h"

/* ---- arena: every variable-sized part of a case lives here (struct af_arena:
 * case_internal.h) ---- */

/* n bytes of the case's arena, not cleared: for a block the caller fills before anything
 * reads it (an instruction array grows by copying: its free tail is written before it is
 * read; clearing it was a tenth of generating a case). */
static void *case_alloc_raw(af_case *c, size_t n) {
  n = (n + 15) & ~(size_t)15;
  struct af_arena *a = c->arena;
  if (!a || a->cap - a->used < n) {
    /* 120 KB: most generated cases in one block (a JIT body reserves 128 instructions, 27 KB;
     * with 64 KB blocks a case took 2.2 mallocs and frees), below glibc's 128 KB mmap
     * threshold (a block of its own mapping per case would be two system calls) */
    size_t cap = n > 120 * 1024 ? n : 120 * 1024;
    struct af_arena *b = malloc(sizeof *b + cap);
    if (!b) return NULL;
    b->next = a;
    b->used = 0;
    b->cap = cap;
    c->arena = a = b;
  }
  void *p = a->data + a->used;
  a->used += n;
  return p;
}

void *af_case_alloc(af_case *c, size_t n) {
  void *p = case_alloc_raw(c, n);
  if (p) memset(p, 0, n);
  return p;
}

void af_case_free(af_case *c) {
  struct af_arena *a = c->arena;
  while (a) {
    struct af_arena *n = a->next;
    free(a);
    a = n;
  }
  c->arena = NULL;
}

/* ---- status and names ---- */
const char *af_strerror(af_status s) {
  switch (s) {
  case AF_OK: return "ok";
  case AF_ERR_NOMEM: return "out of memory";
  case AF_ERR_PARSE: return "parse error";
  case AF_ERR_INVALID: return "invalid case";
  case AF_ERR_IO: return "i/o error";
  case AF_ERR_UNSUPPORTED: return "unsupported";
  case AF_ERR_LIMIT: return "limit exceeded";
  case AF_ERR_RUNTIME: return "runtime error";
  }
  return "unknown status";
}

static const char *const cc_names[AF_CC_COUNT] = {"sysv", "win64"};

const char *af_cc_name(af_cc cc) { return (unsigned)cc < AF_CC_COUNT ? cc_names[cc] : "?"; }

int af_cc_parse(const char *s, af_cc *out) {
  for (int i = 0; i < AF_CC_COUNT; i++)
    if (strcmp(s, cc_names[i]) == 0) {
      *out = (af_cc)i;
      return 0;
    }
  return -1;
}

/* Sizes and alignments are those of the x86-64 psABI, Figure 3.1 "Scalar
 * Types"; they hold for ms_abi functions on Linux too (the attribute changes
 * the calling convention, never the layout). */
const af_scalar_info case_scalars[AF_T_NSCALAR] = {
    [AF_T_VOID] = {"void", "void", 0, 1, 0, 0, 0},
    [AF_T_BOOL] = {"bool", "_Bool", 1, 1, 0, 0, 0},
    [AF_T_I8] = {"i8", "int8_t", 1, 1, 1, 1, 0},
    [AF_T_U8] = {"u8", "uint8_t", 1, 1, 1, 0, 0},
    [AF_T_I16] = {"i16", "int16_t", 2, 2, 1, 1, 0},
    [AF_T_U16] = {"u16", "uint16_t", 2, 2, 1, 0, 0},
    [AF_T_I32] = {"i32", "int32_t", 4, 4, 1, 1, 0},
    [AF_T_U32] = {"u32", "uint32_t", 4, 4, 1, 0, 0},
    [AF_T_I64] = {"i64", "int64_t", 8, 8, 1, 1, 0},
    [AF_T_U64] = {"u64", "uint64_t", 8, 8, 1, 0, 0},
    [AF_T_I128] = {"i128", "__int128", 16, 16, 1, 1, 0},
    [AF_T_U128] = {"u128", "unsigned __int128", 16, 16, 1, 0, 0},
    [AF_T_F16] = {"f16", "_Float16", 2, 2, 0, 0, 1},
    [AF_T_F32] = {"f32", "float", 4, 4, 0, 0, 1},
    [AF_T_F64] = {"f64", "double", 8, 8, 0, 0, 1},
    [AF_T_F80] = {"f80", "long double", 16, 16, 0, 0, 1},
    [AF_T_CF32] = {"cf32", "_Complex float", 8, 4, 0, 0, 0},
    [AF_T_CF64] = {"cf64", "_Complex double", 16, 8, 0, 0, 0},
    [AF_T_PTR] = {"ptr", "void *", 8, 8, 0, 0, 0},
    [AF_T_M128] = {"m128", "__m128", 16, 16, 0, 0, 0},
    [AF_T_M256] = {"m256", "__m256", 32, 32, 0, 0, 0},
};

const af_scalar_info *af_scalar(af_kind k) {
  return (unsigned)k < AF_T_NSCALAR ? &case_scalars[k] : NULL;
}

static const char *const op_names[AF_OP_COUNT] = {
    [AF_OP_CONST] = "const",     [AF_OP_ADD] = "add",     [AF_OP_SUB] = "sub",
    [AF_OP_MUL] = "mul",         [AF_OP_AND] = "and",     [AF_OP_OR] = "or",
    [AF_OP_XOR] = "xor",         [AF_OP_SHL] = "shl",     [AF_OP_LSHR] = "lshr",
    [AF_OP_ASHR] = "ashr",       [AF_OP_CMP] = "cmp",     [AF_OP_SELECT] = "select",
    [AF_OP_SEXT] = "sext",       [AF_OP_ZEXT] = "zext",   [AF_OP_TRUNC] = "trunc",
    [AF_OP_FADD] = "fadd",       [AF_OP_FSUB] = "fsub",   [AF_OP_FMUL] = "fmul",
    [AF_OP_FCONV] = "fconv",     [AF_OP_FTOI] = "ftoi",   [AF_OP_ITOF] = "itof",
    [AF_OP_BITCAST] = "bitcast", [AF_OP_GET] = "get",     [AF_OP_SET] = "set",
    [AF_OP_LOAD] = "load",       [AF_OP_STORE] = "store", [AF_OP_LOCAL] = "local",
    [AF_OP_CALL] = "call",       [AF_OP_MIX] = "mix",     [AF_OP_RET] = "ret",
};

const char *af_op_name(af_op op) { return (unsigned)op < AF_OP_COUNT ? op_names[op] : "?"; }

static const char *const reg_names[AF_REG_COUNT] = {
    "rax",  "rcx",  "rdx",  "rbx",  "rsp",   "rbp",   "rsi",   "rdi",   "r8",    "r9",    "r10",
    "r11",  "r12",  "r13",  "r14",  "r15",   "xmm0",  "xmm1",  "xmm2",  "xmm3",  "xmm4",  "xmm5",
    "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "st0",
};

const char *af_reg_name(af_reg r) { return (unsigned)r < AF_REG_COUNT ? reg_names[r] : "none"; }

/* ---- case and types ---- */
/* The scalar row k of every type table. */
static af_type scalar_type(int k) {
  af_type t;
  memset(&t, 0, sizeof t);
  t.kind = (af_kind)k;
  t.size = case_scalars[k].size;
  t.alignment = case_scalars[k].align;
  return t;
}

af_status af_case_init(af_case *c) {
  memset(c, 0, sizeof *c);
  c->gen_version = AF_GEN_VERSION;
  c->entry = -1;
  for (int k = 0; k < AF_T_NSCALAR; k++)
    c->types[k] = scalar_type(k);
  c->ntypes = AF_T_NSCALAR;
  return AF_OK;
}

void case_init_lean(af_case *c) {
  c->seed = 0;
  c->index = 0;
  c->gen_version = AF_GEN_VERSION;
  c->cc = AF_CC_SYSV;
  c->nobjects = 0;
  c->nfuncs = 0;
  c->entry = -1;
  c->ninputs = 0;
  c->arena = NULL;
  for (int k = 0; k < AF_T_NSCALAR; k++)
    c->types[k] = scalar_type(k);
  c->ntypes = AF_T_NSCALAR;
}

int af_type_add_struct(af_case *c, af_kind kind, int nfields, const af_field *fields, int packed,
                       int align) {
  if ((kind != AF_T_STRUCT && kind != AF_T_UNION) || c->ntypes >= AF_MAX_TYPES || nfields < 0 ||
      nfields > AF_MAX_FIELDS)
    return -1;
  af_type *t = &c->types[c->ntypes];
  memset(t, 0, sizeof *t);
  t->kind = kind;
  t->nfields = nfields;
  t->packed = packed;
  t->align = align;
  if (nfields) {
    t->fields = case_alloc_raw(c, sizeof(af_field) * (size_t)nfields); /* all copied below */
    if (!t->fields) return -1;
    memcpy(t->fields, fields, sizeof(af_field) * (size_t)nfields);
  }
  return c->ntypes++;
}

int af_type_add_array(af_case *c, int elem, uint32_t count) {
  if (c->ntypes >= AF_MAX_TYPES || elem < 0 || elem >= c->ntypes || count == 0) return -1;
  af_type *t = &c->types[c->ntypes];
  memset(t, 0, sizeof *t);
  t->kind = AF_T_ARRAY;
  t->elem = elem;
  t->count = count;
  return c->ntypes++;
}

const char *af_type_name(const af_case *c, int type, char *buf, size_t n) {
  if (type >= 0 && type < AF_T_NSCALAR) return case_scalars[type].name;
  (void)c;
  snprintf(buf, n, "t%d", type);
  return buf;
}

int af_type_is_int(const af_case *c, int type) {
  (void)c;
  return type >= AF_T_I8 && type <= AF_T_U128;
}

int af_type_is_float(const af_case *c, int type) {
  (void)c;
  return type >= AF_T_F16 && type <= AF_T_F80;
}

int af_type_is_aggregate(const af_case *c, int type) {
  if (type < AF_T_NSCALAR || type >= c->ntypes) return 0;
  af_kind k = c->types[type].kind;
  return k == AF_T_STRUCT || k == AF_T_UNION;
}

/* af_type_has of a composite type id (its own function: the scalar case, most calls, then
 * needs no frame). */
static int type_has_composite(const af_case *c, int type, af_kind k) {
  if (type < 0 || type >= c->ntypes) return 0;
  const af_type *t = &c->types[type];
  if (type < AF_T_NSCALAR) return t->kind == k;
  if (t->kind == k) return 1;
  if (t->kind == AF_T_ARRAY) return type_has_composite(c, t->elem, k);
  for (int i = 0; i < t->nfields; i++) {
    int ft = t->fields[i].type;
    /* a scalar field: the recursion's first two tests, without the call (the probes ask this
     * of every parameter of every function) */
    if ((unsigned)ft < AF_T_NSCALAR && ft < c->ntypes ? c->types[ft].kind == k
                                                      : type_has_composite(c, ft, k))
      return 1;
  }
  return 0;
}

int af_type_has(const af_case *c, int type, af_kind k) {
  if ((unsigned)type < AF_T_NSCALAR) return type < c->ntypes && c->types[type].kind == k;
  return type_has_composite(c, type, k);
}

/* ---- functions and instructions ---- */
int af_func_add(af_case *c, const af_sig *sig, int host) {
  if (c->nfuncs >= AF_MAX_FUNCS || sig->nparams < 0 || sig->nparams > AF_MAX_PARAMS) return -1;
  af_func *f = &c->funcs[c->nfuncs];
  memset(f, 0, sizeof *f);
  f->sig = *sig;
  f->host = host;
  f->nvalues = sig->nparams;
  return c->nfuncs++;
}

/* Moves f's instructions to a block of cap slots, not cleared: a slot is written in full
 * before anything reads it (af_inst_add copies a whole instruction into it). The old block
 * stays in the arena. */
static af_status insts_grow(af_case *c, af_func *f, int cap) {
  af_inst *n = case_alloc_raw(c, sizeof(af_inst) * (size_t)cap);
  if (!n) return AF_ERR_NOMEM;
  if (f->ninsts) memcpy(n, f->insts, sizeof(af_inst) * (size_t)f->ninsts);
  f->insts = n;
  f->cap_insts = cap;
  return AF_OK;
}

af_status case_reserve_insts(af_case *c, int func, int cap) {
  if (func < 0 || func >= c->nfuncs) return AF_ERR_INVALID;
  af_func *f = &c->funcs[func];
  if (cap > AF_MAX_INSTS) cap = AF_MAX_INSTS;
  if (cap <= f->cap_insts) return AF_OK;
  return insts_grow(c, f, cap);
}

int af_inst_add(af_case *c, int func, const af_inst *inst) {
  if (func < 0 || func >= c->nfuncs) return -2;
  af_func *f = &c->funcs[func];
  if (f->ninsts >= AF_MAX_INSTS) return -2;
  if (f->ninsts == f->cap_insts && insts_grow(c, f, f->cap_insts ? f->cap_insts * 2 : 32) != AF_OK)
    return -2;
  af_inst *in = &f->insts[f->ninsts];
  *in = *inst;
  if (inst->op == AF_OP_CONST && inst->cst.size) {
    in->cst.bytes = case_alloc_raw(c, inst->cst.size); /* every byte copied below */
    if (!in->cst.bytes) return -2;
    memcpy(in->cst.bytes, inst->cst.bytes, inst->cst.size);
  }
  in->dst = case_inst_defines(in) ? f->nvalues++ : -1;
  f->ninsts++;
  return in->dst >= 0 ? in->dst : -1;
}

void *case_alloc_block(af_case *c, size_t n) { return case_alloc_raw(c, n); }

af_inst *case_inst_slot_grow(af_case *c, int func) {
  if (func < 0 || func >= c->nfuncs) return NULL;
  af_func *f = &c->funcs[func];
  if (f->ninsts >= AF_MAX_INSTS) return NULL;
  if (f->ninsts == f->cap_insts && insts_grow(c, f, f->cap_insts ? f->cap_insts * 2 : 32) != AF_OK)
    return NULL;
  return &f->insts[f->ninsts];
}

af_status af_fn_finish(af_case *c, int func) {
  if (func < 0 || func >= c->nfuncs) return AF_ERR_INVALID;
  af_func *f = &c->funcs[func];
  f->value_type = af_case_alloc(c, sizeof(int) * (size_t)(f->nvalues + 1));
  if (!f->value_type) return AF_ERR_NOMEM;
  for (int i = 0; i < f->sig.nparams; i++)
    f->value_type[i] = f->sig.params[i];
  for (int i = 0; i < f->ninsts; i++)
    if (f->insts[i].dst >= 0 && f->insts[i].dst < f->nvalues)
      f->value_type[f->insts[i].dst] = f->insts[i].type;
  return AF_OK;
}

af_status af_value_init(af_case *c, af_value *v, int type) {
  memset(v, 0, sizeof *v);
  if (type < 0 || type >= c->ntypes) return AF_ERR_INVALID;
  v->type = type;
  v->obj = -1;
  v->size = type == AF_T_PTR ? 0 : c->types[type].size;
  if (type != AF_T_PTR) {
    /* an empty struct's value has size 0 but, as the generator makes it, real bytes: every
     * consumer may test bytes for NULL */
    v->bytes = af_case_alloc(c, v->size ? v->size : 1);
    if (!v->bytes) return AF_ERR_NOMEM;
  }
  return AF_OK;
}

/* ---- GET / SET paths ---- */
af_status af_path_leaf(const af_case *c, int type, const int *path, int npath, af_leaf *out) {
  uint32_t off = 0;
  out->bits = -1;
  out->bit_offset = 0;
  for (int i = 0; i < npath; i++) {
    int k = path[i];
    if (type < 0 || type >= c->ntypes || k < 0 || out->bits >= 0) return AF_ERR_INVALID;
    const af_type *t = &c->types[type];
    if (type == AF_T_CF32 || type == AF_T_CF64) {
      if (k > 1) return AF_ERR_INVALID;
      type = type == AF_T_CF32 ? AF_T_F32 : AF_T_F64;
      off += (uint32_t)k * c->types[type].size;
    } else if (type == AF_T_M128 || type == AF_T_M256) {
      if ((uint32_t)k >= t->size / 4) return AF_ERR_INVALID;
      type = AF_T_F32;
      off += 4u * (uint32_t)k;
    } else if (type >= AF_T_NSCALAR && t->kind == AF_T_ARRAY) {
      if ((uint32_t)k >= t->count) return AF_ERR_INVALID;
      type = t->elem;
      off += (uint32_t)k * c->types[type].size;
    } else if (type >= AF_T_NSCALAR && (t->kind == AF_T_STRUCT || t->kind == AF_T_UNION)) {
      if (k >= t->nfields || t->fields[k].bits == 0) return AF_ERR_INVALID;
      const af_field *f = &t->fields[k];
      type = f->type;
      if (f->bits > 0) {
        out->bits = f->bits;
        out->bit_offset = off * 8 + f->bit_offset;
      } else {
        off += f->offset;
      }
    } else {
      return AF_ERR_INVALID;
    }
  }
  out->type = type;
  out->offset = off;
  return AF_OK;
}
