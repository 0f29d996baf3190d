/* case_internal.h - private: case-building helpers for the generator (case.c). */
#ifndef ABIFUZZ_CASE_INTERNAL_H
#define ABIFUZZ_CASE_INTERNAL_H

#include "gen.h"

/* Makes room for `cap` instructions in function `func` up front, so af_inst_add does not
 * grow (copy) the array on the way: the generator knows its bodies stay near BODY_BUDGET
 * (gen_body.c), and the copies of a doubling array were 6% of generating a case.
 * AF_OK, AF_ERR_INVALID (bad func) or AF_ERR_NOMEM; nothing changes if cap is not larger. */
af_status case_reserve_insts(af_case *c, int func, int cap);

/* The arena every variable-sized part of a case lives in (case.c): blocks of 120 KB or more,
 * the newest first. Here so that the generator's allocations are inline. */
struct af_arena {
  struct af_arena *next;
  size_t used, cap;
  _Alignas(16) unsigned char data[];
};

/* af_case_alloc without the clearing: n bytes of the arena, 16-aligned, NULL on OOM. The
 * current block inline; a new block out of line (case_alloc_block). */
void *case_alloc_block(af_case *c, size_t n);
static inline void *case_alloc_uncleared(af_case *c, size_t n) {
  n = (n + 15) & ~(size_t)15;
  struct af_arena *a = c->arena;
  if (a && a->cap - a->used >= n) {
    void *p = a->data + a->used;
    a->used += n;
    return p;
  }
  return case_alloc_block(c, n);
}

/* af_inst_add in two halves, for the generator to build an instruction where it will stay
 * (an af_inst is 216 bytes: building it on the stack and copying it was a fifth of adding
 * one). case_inst_slot returns the next, uncounted slot of function func's array (grown like
 * af_inst_add grows it), its contents undefined, or NULL (bad func, AF_MAX_INSTS reached, out
 * of memory). The caller fills every field but dst (a CONST's cst.bytes pointing into the
 * arena: case_alloc_uncleared), then case_inst_commit counts it and assigns dst: the value id
 * defined, -1 if none, exactly as af_inst_add. Both inline but the growth
 * (case_inst_slot_grow). (The generator's bodies, gen_body.c, leave args[nargs..] and
 * path[npath..] unwritten too: every reader goes by those counts.) */
af_inst *case_inst_slot_grow(af_case *c, int func);
static inline af_inst *case_inst_slot(af_case *c, int func) {
  if ((unsigned)func < (unsigned)c->nfuncs) {
    af_func *f = &c->funcs[func];
    if (f->ninsts < f->cap_insts && f->ninsts < AF_MAX_INSTS) return &f->insts[f->ninsts];
  }
  return case_inst_slot_grow(c, func);
}

/* 1 if the instruction defines a value (what af_inst_add assigns dst by). */
static inline int case_inst_defines(const af_inst *in) {
  return in->op == AF_OP_CALL ? in->type != AF_T_VOID
                              : in->op != AF_OP_STORE && in->op != AF_OP_RET;
}

static inline int case_inst_commit(af_case *c, int func) {
  af_func *f = &c->funcs[func];
  af_inst *in = &f->insts[f->ninsts++];
  in->dst = case_inst_defines(in) ? f->nvalues++ : -1;
  return in->dst;
}

/* af_case_init without clearing the arrays beyond their counts (types past ntypes, funcs past
 * nfuncs, objects, inputs: 16 KB, a tenth of generating a case). For the generator only: it
 * writes every entry it counts (af_type_add_*, af_func_add, gen_inputs clear or fill theirs),
 * and nothing reads an entry past its count. */
void case_init_lean(af_case *c);

/* The scalar table af_scalar returns entries of (case.c), for hot paths that index it
 * directly: case_scalar(k) is af_scalar(k) for a scalar kind k (never a composite one). */
extern const af_scalar_info case_scalars[AF_T_NSCALAR];
static inline const af_scalar_info *case_scalar(int k) { return &case_scalars[k]; }

#endif /* ABIFUZZ_CASE_INTERNAL_H */
