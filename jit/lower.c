/* lower.c - the baseline lowering driver: a function's frame, then prologue, body, epilogue. */
#include <stdlib.h>
#include <string.h>

#include "lower.h"
#include "mutants.h"

static uint32_t round16(uint32_t n) { return (n + 15u) & ~15u; }

/* Frame layout (lower.h): Win64 saves at the top, then value slots, LOCAL areas, the sret
 * pointer, the SysV register save area, the by-reference copy area, and the outgoing
 * argument area at [rsp]. Displacements are negative from rbp. */
static af_status layout_frame(lower_ctx *L, lower_frame *fr) {
  const af_case *c = L->c;
  const af_func *f = L->f;
  int64_t off = 0;
  if (f->sig.cc == AF_CC_WIN64) off -= LOWER_W64_SAVE;
  fr->w64_save = (int32_t)-off;
  for (int v = 0; v < f->nvalues; v++) {
    int t = f->value_type[v];
    uint32_t size = t == AF_T_PTR ? 8 : t == AF_T_VOID ? 0 : c->types[t].size;
    off -= round16(size ? size : 1);
    L->slot[v] = (int32_t)off;
  }
  fr->slots_end = (int32_t)off;
  uint32_t out = 0, copy = 0;
  for (int i = 0; i < f->ninsts; i++) {
    const af_inst *in = &f->insts[i];
    L->local_area[i] = 0;
    if (in->op == AF_OP_CALL) {
      uint32_t o, k;
      af_status s = lower_call_need(L, (int)in->imm, &o, &k);
      if (s != AF_OK) return lw_fail(L, s, "cannot classify the callee of instruction %d", i);
      if (o > out) out = o;
      if (k > copy) copy = k;
      continue;
    }
    uint32_t need = lower_inst_frame_need(L, in);
    if (need) {
      off -= round16(need);
      L->local_area[i] = (int32_t)off;
      fr->nlocals++;
    }
  }
  fr->locals_end = (int32_t)off;
  if (L->ci.sret) {
    off -= 16;
    L->sret_save = (int32_t)off;
  }
  if (f->sig.cc == AF_CC_SYSV && f->sig.variadic) {
    off -= LOWER_VA_SAVE;
    L->va_save = (int32_t)off;
  }
  off -= copy;
  L->copy_area = (int32_t)off;
  L->copy_size = (int32_t)copy;
  L->out_size = (int32_t)round16(out);
  off -= L->out_size;
  if (L->mutant == MUT_MISALIGNED_CALLS) off -= 8; /* odd frame: RSP = 8 mod 16 at calls */
  if (off < -(int64_t)0x40000000)
    return lw_fail(L, AF_ERR_LIMIT, "frame of %lld bytes", -(long long)off);
  L->frame = (int32_t)-off;
  /* Win64 mutant: the first two values live in the outgoing home space [rsp, rsp+32), which
   * every callee owns (Microsoft "x64 calling convention", home space). */
  if (L->mutant == MUT_W64_LOCALS_IN_HOME && f->sig.cc == AF_CC_WIN64 && L->out_size >= 32)
    for (int v = 0; v < 2 && v < f->nvalues; v++) {
      int t = f->value_type[v];
      uint32_t size = t == AF_T_PTR ? 8 : t == AF_T_VOID ? 0 : c->types[t].size;
      if (size <= 16) L->slot[v] = -L->frame + 16 * v;
    }
  return AF_OK;
}

af_status lower_function(const af_case *c, int fn, const af_jit_opts *o, jit_rt *rt,
                         const uint64_t *fn_table, x86_buf *b, lower_frame *fr, af_error *err) {
  lower_ctx L = {0};
  lower_frame dummy;
  if (!fr) fr = &dummy;
  memset(fr, 0, sizeof *fr);
  L.c = c;
  L.fn = fn;
  L.f = &c->funcs[fn];
  L.b = b;
  L.o = o;
  L.rt = rt;
  L.fn_table = fn_table;
  L.err = err;
  L.mutant = o ? mutant_resolve(o->inject) : MUT_NONE;
  if (L.mutant < 0) return lw_fail(&L, AF_ERR_INVALID, "unknown mutant %s", o->inject);
  af_error e;
  af_status s = af_classify(c, &L.f->sig, &L.ci, &e);
  if (s != AF_OK) return lw_fail(&L, s, "af_classify: %s", e.msg);
  L.slot = calloc((size_t)L.f->nvalues + 1, sizeof *L.slot);
  L.local_area = calloc((size_t)L.f->ninsts + 1, sizeof *L.local_area);
  if (!L.slot || !L.local_area) {
    s = lw_fail(&L, AF_ERR_NOMEM, "out of memory");
    goto out;
  }
  if ((s = layout_frame(&L, fr)) != AF_OK) goto out;
  L.epilogue = x86_label(b);
  if ((s = lower_prologue(&L)) != AF_OK) goto out;
  for (int i = 0; i < L.f->ninsts && s == AF_OK; i++) {
    const af_inst *in = &L.f->insts[i];
    if (in->op == AF_OP_CALL)
      s = lower_call(&L, in);
    else if (in->op == AF_OP_RET)
      s = lower_ret(&L, in);
    else
      s = lower_inst(&L, in, i);
    if (s == AF_OK && b->err != AF_OK) s = b->err;
    if (s != AF_OK) lw_fail(&L, s, "instruction %d (%s)", i, af_op_name(in->op));
  }
  if (s == AF_OK) s = lower_epilogue(&L);
  if (s == AF_OK) s = x86_buf_finish(b);
  if (s != AF_OK) lw_fail(&L, s, "encoding failed");
  /* the rest of the layout, as the code used it */
  fr->frame = L.frame;
  fr->sret_save = L.sret_save;
  fr->va_save = L.va_save;
  fr->copy_area = L.copy_area;
  fr->copy_size = L.copy_size;
  fr->out_size = L.out_size;
out:
  free(L.slot);
  free(L.local_area);
  return s;
}
