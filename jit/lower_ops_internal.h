/* lower_ops_internal.h - shared by the op-lowering files (lower_ops*.c), private to them. */
#ifndef ABIFUZZ_JIT_LOWER_OPS_INTERNAL_H
#define ABIFUZZ_JIT_LOWER_OPS_INTERNAL_H

#include "lower.h"

/* Bytes of a value of `type` in its slot (a pointer: its 8-byte address). */
uint32_t lo_size(const lower_ctx *L, int type);
/* Type of value id v in the function being lowered. */
int lo_vtype(const lower_ctx *L, int v);
/* lea r, [slot(v) + off]: a helper's pointer argument. */
void lo_lea(lower_ctx *L, af_reg r, int v, int32_t off);
/* Float instructions: FADD FSUB FMUL FCONV FTOI ITOF (lower_ops_float.c). */
af_status lo_float(lower_ctx *L, const af_inst *in);

#endif
