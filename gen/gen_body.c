/* gen_body.c - generator bodies: random IR, calls under pressure, a MIX of every parameter. */
#include <string.h>

#include "case_internal.h"
#include "gen_private.h"

#define BODY_MAX_VALUES (AF_MAX_PARAMS + AF_MAX_INSTS)
#define BODY_MAX_LIVE   24
/* Soft instruction budget of one JIT body: past it, arguments and results
 * come from cheap constants and existing values, so functions stay near
 * ~60 instructions and a case runs well under a millisecond. */
#define BODY_BUDGET 60

typedef struct {
  gen_state *g;
  af_case *c;
  af_func *f; /* &c->funcs[fn] (the array is part of the case: the pointer stays valid) */
  int fn, host;
  /* The function's instruction array as the body builds it: next = the next slot, end = the
   * end of the slots usable without growing (AF_MAX_INSTS at most), ni = f->ninsts, kept here
   * until body_finish writes it back (nothing reads it meanwhile but over_budget and the
   * growth, which syncs it). */
  af_inst *next, *end;
  int ni;
  int vt[BODY_MAX_VALUES]; /* type of every value id so far */
  int nv;
  /* The values of each type, in id order, as linked lists (find draws among them without
   * scanning every value): head/tail per type id, -1 = none; same_next[v + 1] = the next value
   * of v's type. */
  int type_head[AF_MAX_TYPES], type_tail[AF_MAX_TYPES];
  int type_count[AF_MAX_TYPES]; /* values on the list (0 while the head is -1) */
  unsigned nlists; /* type ids below this have lists (the case's types when the body began:
                      only those are cleared); a value of another type is found by the scan */
  /* same_next[0], the slot of tail -1, is written and never read (add_value) */
  int same_next[BODY_MAX_VALUES + 1];
  int live[BODY_MAX_LIVE]; /* values folded by the final MIX (besides the params) */
  int nlive;
  int locals[8]; /* LOCAL results, re-read after calls */
  int nlocals;
  int local_align; /* alignment of the first LOCAL (local_align axis), 0 = none yet */
  int seed_mix;    /* an early MIX of a few parameters, source of derived values */
} body;

/* af_type_is_int without the call. */
static inline int body_is_int(int t) { return t >= AF_T_I8 && t <= AF_T_U128; }

/* Records value id (the next one) of `type`. */
static inline __attribute__((always_inline)) void add_value(body *b, int id, int type) {
  b->vt[id] = type;
  b->nv = id + 1;
  if ((unsigned)type >= b->nlists) return; /* find's fallback scan covers it */
  /* Without a branch on whether the list is empty (a mispredicted one, ~45 a case): an empty
   * list has tail -1, whose link is the spare same_next[0], and count 0 (gen_body). */
  int h = b->type_head[type];
  b->same_next[id + 1] = -1;
  b->same_next[b->type_tail[type] + 1] = id;
  b->type_head[type] = h < 0 ? id : h;
  b->type_count[type]++;
  b->type_tail[type] = id;
}

static void inst_init(af_inst *in, af_op op, int type) {
  /* Every field but dst (icommit's), the operands and the path: the caller writes the
   * operands and path it counts, and nothing reads args[nargs..] or path[npath..] (every
   * reader goes by the counts): a few stores instead of clearing 216 bytes. */
  in->op = op;
  in->type = type;
  in->nargs = 0;
  in->imm = 0;
  in->npath = 0;
  memset(&in->cst, 0, sizeof in->cst);
}

/* The array's usable slots (f->insts and its capacity, AF_MAX_INSTS at most) into b. */
static void body_cursor(body *b) {
  af_func *f = b->f;
  if (!f->insts) { /* no array yet (a host body's start): the first islot grows it */
    b->next = b->end = NULL;
    return;
  }
  b->next = f->insts + f->ninsts;
  b->end = f->insts + (f->cap_insts < AF_MAX_INSTS ? f->cap_insts : AF_MAX_INSTS);
}

/* Instructions in the array so far (f->ninsts as af_inst_add would have it). */
static inline int body_ninsts(const body *b) { return b->ni; }

/* case_inst_slot_grow with the count synced (out of line: a host body's first instruction,
 * or a JIT body past its reserve). */
static __attribute__((noinline)) af_inst *islot_grow(body *b) {
  b->f->ninsts = body_ninsts(b);
  af_inst *in = case_inst_slot_grow(b->c, b->fn);
  body_cursor(b);
  return in;
}

/* The in-place emit (case_internal.h): islot gives the function's next slot with op and type
 * and the other fields but the operands and the path cleared (inst_init); icommit adds it as
 * af_inst_add would. For instructions whose operands are all known before the slot is taken
 * (a nested emit would take the same slot). */
static inline __attribute__((always_inline)) af_inst *islot(body *b, af_op op, int type) {
  /* No test of g->st here: after a failure the body may add a few more instructions (within
   * the array's bounds, value ids checked by icommit) before its loops stop on g->st, and the
   * case is then discarded whole (gen_body returns the first failure). */
  /* case_inst_slot with the array at hand (fn is valid: gen_body's) */
  af_inst *in = b->next < b->end ? b->next : islot_grow(b);
  if (!in) {
    gen_fail(b->g, AF_ERR_LIMIT, "f%d: cannot add an instruction", b->fn);
    return NULL;
  }
  inst_init(in, op, type);
  return in;
}

/* case_inst_commit for an instruction of op `op` (what islot was given: whether it defines a
 * value is known without reading it back). */
static inline __attribute__((always_inline)) int icommit(body *b, af_inst *in, af_op op, int type) {
  b->next = in + 1; /* in is islot's: the slot at b->next */
  b->ni++;
  int defines = op == AF_OP_CALL ? type != AF_T_VOID : op != AF_OP_STORE && op != AF_OP_RET;
  int id = in->dst = defines ? b->nv : -1; /* the next value id (f->nvalues: body_finish) */
  if (id >= 0) {
    if (id >= BODY_MAX_VALUES) {
      gen_fail(b->g, AF_ERR_LIMIT, "f%d: too many values", b->fn);
      return -1;
    }
    add_value(b, id, type);
  }
  return id;
}

/* In place: an instruction whose operands (and path) are all computed already. */
static inline __attribute__((always_inline)) int emit_n(body *b, af_op op, int type, int nargs,
                                                        const int *args, int64_t imm) {
  af_inst *in = islot(b, op, type);
  if (!in) return -1;
  in->nargs = nargs;
  for (int k = 0; k < nargs; k++)
    in->args[k] = args[k];
  in->imm = imm;
  return icommit(b, in, op, type);
}

static inline __attribute__((always_inline)) int
emit_path(body *b, af_op op, int type, int nargs, const int *args, const int *path, int npath) {
  af_inst *in = islot(b, op, type);
  if (!in) return -1;
  in->nargs = nargs;
  for (int k = 0; k < nargs; k++)
    in->args[k] = args[k];
  in->npath = npath;
  for (int k = 0; k < npath; k++)
    in->path[k] = path[k];
  return icommit(b, in, op, type);
}

static inline __attribute__((always_inline)) int emit1(body *b, af_op op, int type, int a) {
  af_inst *in = islot(b, op, type);
  if (!in) return -1;
  in->nargs = 1;
  in->args[0] = a;
  return icommit(b, in, op, type);
}

static inline __attribute__((always_inline)) int emit2(body *b, af_op op, int type, int a, int x) {
  af_inst *in = islot(b, op, type);
  if (!in) return -1;
  in->nargs = 2;
  in->args[0] = a;
  in->args[1] = x;
  return icommit(b, in, op, type);
}

static int over_budget(const body *b) { return body_ninsts(b) >= BODY_BUDGET; }

static inline __attribute__((always_inline)) void keep(body *b, int v) {
  if (v < 0) return;
  if (b->nlive < BODY_MAX_LIVE)
    b->live[b->nlive++] = v;
  else
    b->live[gen_below(b->g, BODY_MAX_LIVE)] = v;
}

static int const_mode(body *b) {
  /* r < 5 edge, r < 8 random, else graffiti: a lookup, not two unpredictable branches */
  static const uint8_t mode[10] = {GV_EDGE,   GV_EDGE,   GV_EDGE,   GV_EDGE,     GV_EDGE,
                                   GV_RANDOM, GV_RANDOM, GV_RANDOM, GV_GRAFFITI, GV_GRAFFITI};
  return mode[gen_below(b->g, 10)];
}

/* A CONST slot whose bytes (size of type, in the arena, at least one byte so that they are
 * never NULL) the caller fills; NULL after a failure. */
static inline __attribute__((always_inline)) af_inst *const_slot(body *b, int type) {
  af_inst *in = islot(b, AF_OP_CONST, type);
  if (!in) return NULL;
  uint32_t n = b->c->types[type].size;
  in->cst.type = type;
  in->cst.obj = -1;
  in->cst.size = n;
  in->cst.bytes = case_alloc_uncleared(b->c, n ? n : 1);
  if (!in->cst.bytes) {
    gen_fail(b->g, AF_ERR_LIMIT, "f%d: cannot add an instruction", b->fn);
    return NULL;
  }
  return in;
}

static inline __attribute__((always_inline)) int emit_const(body *b, int type) {
  int mode = const_mode(b); /* drawn before the value, as ever */
  af_inst *in = const_slot(b, type);
  if (!in) return -1;
  gen_fill(b->g, type, in->cst.bytes, mode);
  return icommit(b, in, AF_OP_CONST, type);
}

static int emit_const_u(body *b, int type, uint64_t v) {
  af_inst *in = const_slot(b, type);
  if (!in) return -1;
  /* u64, or i128/u128 (16 bytes: v, then zeros), little-endian */
  uint8_t *p = in->cst.bytes;
  for (int i = 0; i < 8; i++)
    p[i] = (uint8_t)(v >> (8 * i));
  if (in->cst.size == 16) memset(p + 8, 0, 8);
  return icommit(b, in, AF_OP_CONST, type);
}

/* A random existing value of `type`, -1 if none. */
static inline __attribute__((always_inline)) int find(body *b, int type) {
  int cand[64], n = 0;
  if ((unsigned)type < b->nlists) {
    int v = b->type_head[type];
    if (v < 0) return -1;
    int cnt = b->type_count[type];
    if (cnt <= 64) { /* the loop below's draw of cand[k], the k-th value of the list */
      for (int k = (int)gen_below(b->g, (uint64_t)cnt); k > 0; k--)
        v = b->same_next[v + 1];
      return v;
    }
    /* the values of this type in id order: the candidates (and draws) of the scan below */
    for (v = b->type_head[type]; v >= 0; v = b->same_next[v + 1]) {
      if (n < 64)
        cand[n++] = v;
      else
        cand[gen_below(b->g, 64)] = v;
    }
    return n ? cand[gen_below(b->g, (uint64_t)n)] : -1;
  }
  for (int v = 0; v < b->nv; v++)
    if (b->vt[v] == type) {
      if (n < 64)
        cand[n++] = v;
      else
        cand[gen_below(b->g, 64)] = v;
    }
  return n ? cand[gen_below(b->g, (uint64_t)n)] : -1;
}

static int emit_local(body *b) {
  if (b->host) return -1;
  int a = b->local_align;
  if (!a) {
    int row = gen_pick(b->g, GA_local_align, GEN_ALL & ~gen_bit(b->g, GR_local_align_none));
    gen_note(b->g, row);
    a = b->local_align = 16 << (row - GR_local_align_a16);
  }
  int v = emit_n(b, AF_OP_LOCAL, AF_T_PTR, 0, NULL, a);
  if (v >= 0 && b->nlocals < 8) b->locals[b->nlocals++] = v;
  return v;
}

static int get_ptr(body *b) {
  int p = find(b, AF_T_PTR);
  return p >= 0 && (b->host || gen_chance(b->g, 85)) ? p : emit_local(b);
}

/* An operand of `type`: usually an existing value, else a constant. */
static int operand(body *b, int type) {
  if (type == AF_T_PTR) return get_ptr(b);
  int v = gen_chance(b->g, 70) ? find(b, type) : -1;
  return v >= 0 ? v : emit_const(b, type);
}

static int int_kind(body *b) { return AF_T_I8 + (int)gen_below(b->g, AF_T_U128 - AF_T_I8 + 1); }

static int float_kind(body *b, int arith) {
  static const int all[] = {AF_T_F32, AF_T_F64, AF_T_F80, AF_T_F16};
  int n = arith || !b->g->o->allow_f16 ? 3 : 4;
  return all[gen_below(b->g, (uint64_t)n)];
}

static int existing_int_type(body *b) {
  int v = gen_below(b->g, 2) && b->nv ? (int)gen_below(b->g, (uint64_t)b->nv) : -1;
  return v >= 0 && body_is_int(b->vt[v]) ? b->vt[v] : int_kind(b);
}

/* ---- deriving a value of any type from a u64 (so it depends on the mix) ---- */
static int derive(body *b, int m, int type, int depth);

static int derive_agg(body *b, int m, int type, int depth) {
  int v = emit_const(b, type);
  if (!gen_path_ok(b->g, type) || depth > 2) return v;
  int nset = over_budget(b) ? 1 : 1 + (int)gen_below(b->g, 3);
  for (int k = 0; k < nset && v >= 0; k++) {
    int path[AF_MAX_PATH], npath;
    int leaf = gen_path(b->g, type, path, &npath, 1);
    if (leaf < 0) break;
    int mk = k == 0 ? m
                    : emit2(b, AF_OP_MUL, AF_T_U64, m,
                            emit_const_u(b, AF_T_U64, 0x9e3779b97f4a7c15ull + 2ull * (uint64_t)k));
    int x = derive(b, mk, leaf, depth + 1);
    if (x < 0) return -1;
    int ops[2] = {v, x};
    v = emit_path(b, AF_OP_SET, type, 2, ops, path, npath);
  }
  return v;
}

static int derive(body *b, int m, int type, int depth) {
  switch (type) {
  case AF_T_U64:
    return gen_chance(b->g, 50) ? m : emit2(b, AF_OP_XOR, AF_T_U64, m, emit_const(b, AF_T_U64));
  case AF_T_BOOL:
  case AF_T_I8:
  case AF_T_U8:
  case AF_T_I16:
  case AF_T_U16:
  case AF_T_I32:
  case AF_T_U32:
  case AF_T_I64: return emit1(b, AF_OP_TRUNC, type, m);
  case AF_T_I128:
  case AF_T_U128: {
    int z = emit1(b, gen_chance(b->g, 50) ? AF_OP_SEXT : AF_OP_ZEXT, type, m);
    int s = emit2(b, AF_OP_SHL, type, z, emit_const_u(b, type, 64));
    return emit2(b, AF_OP_XOR, type, z, s);
  }
  case AF_T_F16:
  case AF_T_F32:
  case AF_T_F64:
    if (gen_chance(b->g, 30)) return emit1(b, AF_OP_ITOF, type, m);
    if (type != AF_T_F64) m = emit1(b, AF_OP_TRUNC, type == AF_T_F16 ? AF_T_U16 : AF_T_U32, m);
    return emit1(b, AF_OP_BITCAST, type, m);
  case AF_T_F80:
    if (gen_chance(b->g, 50)) return emit1(b, AF_OP_ITOF, type, m);
    return emit1(b, AF_OP_FCONV, type, emit1(b, AF_OP_BITCAST, AF_T_F64, m));
  case AF_T_PTR:
  case AF_T_VOID: return -1;
  default: return derive_agg(b, m, type, depth);
  }
}

/* ---- random instructions, one op-axis draw each ---- */
static void random_op(body *b) {
  gen_state *g = b->g;
  int row = gen_pick(g, GA_op, GEN_ALL);
  gen_note(g, row);
  int v = -1;
  switch (row) {
  case GR_op_int_:
  case GR_op_shift: {
    int t = existing_int_type(b);
    int x = operand(b, t), y = operand(b, t);
    static const af_op ar[] = {AF_OP_ADD, AF_OP_SUB, AF_OP_MUL, AF_OP_AND, AF_OP_OR, AF_OP_XOR};
    static const af_op sh[] = {AF_OP_SHL, AF_OP_LSHR, AF_OP_ASHR};
    af_op op = row == GR_op_int_ ? ar[gen_below(g, 6)] : sh[gen_below(g, 3)];
    v = emit2(b, op, t, x, y);
    break;
  }
  case GR_op_cmp_select: {
    int t = gen_chance(g, 15) ? AF_T_BOOL : existing_int_type(b);
    int ab[2];
    ab[0] = operand(b, t);
    ab[1] = operand(b, t);
    int cnd = emit_n(b, AF_OP_CMP, AF_T_BOOL, 2, ab, (int64_t)gen_below(g, AF_CMP_COUNT));
    if (cnd < 0 || !b->nv) return;
    int x = (int)gen_below(g, (uint64_t)b->nv);
    int ty = b->vt[x];
    int y = operand(b, ty);
    if (y < 0) y = x;
    int sel[3] = {cnd, x, y};
    v = emit_n(b, AF_OP_SELECT, ty, 3, sel, 0);
    break;
  }
  case GR_op_ext: {
    int from = gen_chance(g, 10) ? AF_T_BOOL : int_kind(b), to = int_kind(b);
    uint32_t fs = b->c->types[from].size, ts = b->c->types[to].size;
    if (from != AF_T_BOOL && fs > ts) { /* narrowing: trunc (maybe to bool) */
      if (gen_chance(g, 15)) to = AF_T_BOOL;
      v = emit1(b, AF_OP_TRUNC, to, operand(b, from));
    } else {
      af_op op = from == AF_T_BOOL || gen_chance(g, 50) ? AF_OP_ZEXT : AF_OP_SEXT;
      v = emit1(b, op, to, operand(b, from));
    }
    break;
  }
  case GR_op_float_: {
    static const af_op fo[] = {AF_OP_FADD, AF_OP_FSUB, AF_OP_FMUL};
    int t = float_kind(b, 1);
    int x = operand(b, t), y = operand(b, t);
    v = emit2(b, fo[gen_below(g, 3)], t, x, y);
    break;
  }
  case GR_op_conv:
    switch (gen_below(g, 3)) {
    case 0: v = emit1(b, AF_OP_FCONV, float_kind(b, 0), operand(b, float_kind(b, 0))); break;
    case 1: v = emit1(b, AF_OP_FTOI, int_kind(b), operand(b, float_kind(b, 0))); break;
    default: v = emit1(b, AF_OP_ITOF, float_kind(b, 0), operand(b, int_kind(b))); break;
    }
    break;
  case GR_op_bitcast: {
    int w = (int)gen_below(g, g->o->allow_f16 ? 3 : 2); /* 0: 32, 1: 64, 2: 16 bits */
    int it = w == 0 ? AF_T_U32 : w == 1 ? AF_T_I64 : AF_T_I16;
    int ft = w == 0 ? AF_T_F32 : w == 1 ? AF_T_F64 : AF_T_F16;
    if (gen_chance(g, 50))
      v = emit1(b, AF_OP_BITCAST, ft, operand(b, it));
    else
      v = emit1(b, AF_OP_BITCAST, it, operand(b, ft));
    break;
  }
  case GR_op_get_set: {
    int cand[64], n = 0;
    for (int x = 0; x < b->nv && n < 64; x++)
      if (gen_path_ok(b->g, b->vt[x])) cand[n++] = x;
    int agg;
    if (n && gen_chance(g, 85))
      agg = cand[gen_below(g, (uint64_t)n)];
    else {
      int t = AF_T_CF64;
      for (int tries = 0; tries < 4; tries++) {
        int k = AF_T_NSCALAR + (int)gen_below(g, (uint64_t)(b->c->ntypes - AF_T_NSCALAR + 1));
        if (k < b->c->ntypes && b->c->types[k].kind != AF_T_ARRAY && gen_path_ok(b->g, k)) {
          t = k;
          break;
        }
      }
      agg = emit_const(b, t);
    }
    if (agg < 0) return;
    int at = b->vt[agg], path[AF_MAX_PATH], npath;
    int leaf = gen_path(g, at, path, &npath, 0);
    if (leaf < 0) return;
    int ops[2] = {agg, -1};
    if (gen_chance(g, 50)) {
      v = emit_path(b, AF_OP_GET, leaf, 1, ops, path, npath);
    } else {
      ops[1] = operand(b, leaf);
      v = emit_path(b, AF_OP_SET, at, 2, ops, path, npath);
    }
    break;
  }
  default: { /* mem */
    static const int lt[] = {AF_T_I8,   AF_T_U16,  AF_T_I32, AF_T_U32, AF_T_I64,
                             AF_T_U64,  AF_T_I128, AF_T_F32, AF_T_F64, AF_T_CF32,
                             AF_T_CF64, AF_T_M128, AF_T_F16, AF_T_M256};
    int n = 12 + (g->o->allow_f16 ? 1 : 0);
    int t = lt[gen_below(g, (uint64_t)n)];
    if (g->o->allow_m256 && gen_chance(g, 5)) t = AF_T_M256;
    int p = get_ptr(b);
    if (p < 0) return;
    int size = (int)b->c->types[t].size;
    int64_t off = (int64_t)gen_below(g, (uint64_t)(AF_REGION_SIZE - size + 1));
    if (gen_chance(g, 50)) off &= ~(int64_t)(size - 1);
    int ops[2] = {p, -1};
    if (gen_chance(g, 50)) {
      v = emit_n(b, AF_OP_LOAD, t, 1, ops, off);
    } else {
      ops[1] = operand(b, t);
      v = emit_n(b, AF_OP_STORE, t, 2, ops, off);
    }
    break;
  }
  }
  if (v >= 0 && gen_chance(g, 50)) keep(b, v);
}

/* ---- calls ---- */
/* A value of int/float type t that depends on the inputs (never a constant a
 * compiler could fold and rematerialise): a parameter of that kind, or the
 * early mix scrambled with a fresh constant. */
static int input_value(body *b, int t) {
  const af_sig *s = &b->c->funcs[b->fn].sig;
  int src = s->nparams ? (int)gen_below(b->g, (uint64_t)s->nparams) : -1;
  int pt = src >= 0 ? s->params[src] : AF_T_VOID;
  if (body_is_int(t) && body_is_int(pt))
    return emit1(b, b->c->types[pt].size <= b->c->types[t].size ? AF_OP_SEXT : AF_OP_TRUNC, t, src);
  if (pt == t) return src;
  int m = emit2(b, AF_OP_XOR, AF_T_U64, b->seed_mix, emit_const(b, AF_T_U64));
  return body_is_int(t) ? emit1(b, AF_OP_TRUNC, t, m) : emit1(b, AF_OP_ITOF, t, m);
}

static void pressure_values(body *b, int first) {
  /* Values computed before the call and folded after it: they must survive
   * the call (and every later one) in callee-saved registers or spill slots
   * (XMM6-15 on Win64 for the floats). Most are made before the first call;
   * later calls add a few. */
  int n = first ? 8 + (int)gen_below(b->g, 5) : 2;
  if (over_budget(b)) n = first ? 4 : 0;
  for (int i = 0; i < n; i++) {
    int v;
    if (gen_chance(b->g, 60)) {
      int t = gen_chance(b->g, 70) ? AF_T_I64 : AF_T_I32;
      static const af_op ops[] = {AF_OP_ADD, AF_OP_MUL, AF_OP_XOR, AF_OP_SUB};
      v = emit2(b, ops[gen_below(b->g, 4)], t, input_value(b, t), input_value(b, t));
    } else {
      int t = gen_chance(b->g, 50) ? AF_T_F64 : AF_T_F32;
      v = emit2(b, gen_chance(b->g, 50) ? AF_OP_FMUL : AF_OP_FADD, t, input_value(b, t),
                input_value(b, t));
    }
    keep(b, v);
  }
}

static void emit_call(body *b, int callee) {
  gen_state *g = b->g;
  const af_sig *s = &b->c->funcs[callee].sig;
  int av[AF_MAX_PARAMS];
  for (int i = 0; i < s->nparams; i++) {
    int t = s->params[i], v;
    if (t == AF_T_PTR)
      v = get_ptr(b);
    else {
      uint64_t r = gen_below(g, 10);
      if (over_budget(b)) r = 9; /* cheap: an existing value or a constant */
      v = r < 4 || r == 9 ? find(b, t) : -1;
      if (v < 0 && r < 7) v = derive(b, b->seed_mix, t, 0);
      if (v < 0) v = emit_const(b, t);
    }
    if (v < 0) {
      gen_fail(g, AF_ERR_INVALID, "f%d: no value for argument %d of f%d", b->fn, i, callee);
      return;
    }
    av[i] = v;
  }
  int r = emit_n(b, AF_OP_CALL, s->ret, s->nparams, av, callee);
  if (r >= 0) {
    keep(b, r);
    if (gen_path_ok(b->g, s->ret) && gen_chance(g, 40)) { /* use a field of the result */
      int path[AF_MAX_PATH], npath;
      int leaf = gen_path(g, s->ret, path, &npath, 0);
      if (leaf >= 0) keep(b, emit_path(b, AF_OP_GET, leaf, 1, &r, path, npath));
    }
  }
  /* The callee may have written our locals: read them back. */
  for (int k = 0; k < b->nlocals; k++)
    keep(b, emit_n(b, AF_OP_LOAD, AF_T_U64, 1, &b->locals[k],
                   8 * (int64_t)gen_below(g, AF_REGION_SIZE / 8)));
}

/* ---- the final fold and the return ---- */
static int final_mix(body *b) {
  const af_sig *s = &b->c->funcs[b->fn].sig;
  int ops[AF_MAX_PARAMS + BODY_MAX_LIVE + 2], n = 0;
  for (int i = 0; i < s->nparams; i++)
    ops[n++] = i; /* EVERY parameter */
  if (b->seed_mix >= 0) ops[n++] = b->seed_mix;
  for (int i = 0; i < b->nlive; i++)
    ops[n++] = b->live[i];
  if (!n) ops[n++] = emit_const(b, AF_T_U64);
  int acc = -1, at = 0;
  while (at < n) {
    int64_t seed = (int64_t)(gen_next(b->g) & 0x7fffffff);
    int args[AF_MAX_OPERANDS], na = 0;
    if (acc >= 0) args[na++] = acc;
    while (at < n && na < AF_MAX_OPERANDS)
      args[na++] = ops[at++];
    acc = emit_n(b, AF_OP_MIX, AF_T_U64, na, args, seed);
    if (acc < 0) return -1;
  }
  return acc;
}

static void store_mix(body *b, int m) {
  const af_sig *s = &b->c->funcs[b->fn].sig;
  for (int i = 0; i < s->nparams; i++)
    if (s->params[i] == AF_T_PTR) {
      int ops[2] = {i, m};
      emit_n(b, AF_OP_STORE, AF_T_U64, 2, ops, 8 * (int64_t)gen_below(b->g, AF_REGION_SIZE / 8));
      return;
    }
}

static void emit_ret(body *b, int m) {
  const af_sig *s = &b->c->funcs[b->fn].sig;
  int nargs = 0, arg = -1; /* built in place at the end (emit_n), after what it uses */
  if (s->ret == AF_T_VOID) {
    store_mix(b, m);
  } else if (s->ret == AF_T_PTR) {
    /* Only parameters: never a pointer derived from this function's LOCAL. */
    int p[AF_MAX_PARAMS], n = 0;
    for (int i = 0; i < s->nparams; i++)
      if (s->params[i] == AF_T_PTR) p[n++] = i;
    if (!n) {
      gen_fail(b->g, AF_ERR_INVALID, "f%d returns ptr without a ptr parameter", b->fn);
      return;
    }
    int v = p[gen_below(b->g, (uint64_t)n)];
    if (n > 1) {
      int sel[3];
      sel[0] = emit1(b, AF_OP_TRUNC, AF_T_BOOL, m);
      sel[1] = v;
      sel[2] = p[gen_below(b->g, (uint64_t)n)];
      v = emit_n(b, AF_OP_SELECT, AF_T_PTR, 3, sel, 0);
    }
    nargs = 1;
    arg = v;
  } else {
    if (gen_chance(b->g, 20)) store_mix(b, m);
    nargs = 1;
    arg = derive(b, m, s->ret, 0);
  }
  emit_n(b, AF_OP_RET, s->ret, nargs, &arg, 0);
}

/* f->value_type as af_fn_finish computes it (the parameters' types, then each defined value's
 * type, one slot more, zeroed): b->vt holds exactly that. */
static af_status body_finish(body *b) {
  af_func *f = &b->c->funcs[b->fn];
  f->ninsts = body_ninsts(b);
  if (b->g->st) return b->g->st;
  f->nvalues = b->nv; /* what af_inst_add would have counted: the ids icommit gave, in order */
  int *vt = af_case_alloc(b->c, sizeof(int) * (size_t)(b->nv + 1));
  if (!vt) return gen_fail(b->g, AF_ERR_NOMEM, "f%d: value types", b->fn);
  memcpy(vt, b->vt, sizeof(int) * (size_t)b->nv);
  f->value_type = vt;
  return AF_OK;
}

GEN_FN af_status gen_body(gen_state *g, int fn, const int *callees, int ncallees) {
  body b; /* vt, live and locals are read only below nv, nlive, nlocals: not cleared */
  b.nv = b.nlive = b.nlocals = b.local_align = 0;
  b.g = g;
  b.c = g->c;
  b.fn = fn;
  af_func *f = b.f = &g->c->funcs[fn];
  b.host = f->host;
  b.ni = f->ninsts;
  body_cursor(&b);
  b.seed_mix = -1;
  /* -1: no value of any type yet (the case's types: the only ones a body's values take) */
  b.nlists = g->c->ntypes > 0 && g->c->ntypes <= AF_MAX_TYPES ? (unsigned)g->c->ntypes : 0;
  memset(b.type_head, 0xff, sizeof b.type_head[0] * b.nlists);
  memset(b.type_tail, 0xff, sizeof b.type_tail[0] * b.nlists);
  memset(b.type_count, 0, sizeof b.type_count[0] * b.nlists);
  for (int i = 0; i < f->sig.nparams; i++)
    add_value(&b, i, f->sig.params[i]);
  b.nv = f->sig.nparams;
  if (b.host) {
    /* Host bodies: MIX of all arguments, the return built from it. */
    int m = final_mix(&b);
    if (m >= 0 && gen_chance(g, 30)) store_mix(&b, m);
    if (m >= 0) emit_ret(&b, m);
    return body_finish(&b);
  }
  /* JIT bodies end near BODY_BUDGET, rarely past twice it: one array, no growth. */
  if (case_reserve_insts(g->c, fn, 2 * BODY_BUDGET + 8) != AF_OK)
    return gen_fail(g, AF_ERR_NOMEM, "f%d: instruction array", fn);
  body_cursor(&b);
  /* A few parameters mixed early: the source of derived values and arguments. */
  int64_t seed = (int64_t)(gen_next(g) & 0x7fffffff);
  int margs[3], nm = 0;
  for (int k = 0; k < 3 && f->sig.nparams; k++)
    margs[nm++] = (int)gen_below(g, (uint64_t)f->sig.nparams);
  if (!nm) margs[nm++] = emit_const(&b, AF_T_U64); /* added before the MIX, as ever */
  b.seed_mix = emit_n(&b, AF_OP_MIX, AF_T_U64, nm, margs, seed);
  /* An over-aligned local, written now and read back after the calls. */
  int la = gen_pick(g, GA_local_align, GEN_ALL);
  gen_note(g, la);
  if (la != GR_local_align_none) {
    b.local_align = 16 << (la - GR_local_align_a16);
    int p = emit_local(&b);
    if (p >= 0) {
      int ops[2] = {p, b.seed_mix};
      emit_n(&b, AF_OP_STORE, AF_T_U64, 2, ops, 8 * (int64_t)gen_below(g, AF_REGION_SIZE / 8));
    }
  }
  int nops = 3 + (int)gen_below(g, 10);
  int pr = ncallees ? gen_pick(g, GA_pressure, GEN_ALL) : -1;
  if (pr >= 0) gen_note(g, pr);
  int done = 0;
  for (int k = 0; k < ncallees && !g->st; k++) {
    int before = (nops * (k + 1)) / (ncallees + 1);
    for (; done < before && !g->st; done++)
      if (!over_budget(&b)) random_op(&b);
    if (pr == GR_pressure_high) pressure_values(&b, k == 0);
    emit_call(&b, callees[k]);
  }
  for (; done < nops && !g->st; done++)
    if (!over_budget(&b)) random_op(&b);
  if (g->st) return g->st;
  int m = final_mix(&b);
  if (m >= 0) emit_ret(&b, m);
  return body_finish(&b);
}
