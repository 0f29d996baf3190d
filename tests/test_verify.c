/* test_verify.c - af_verify accepts a valid case and rejects each broken rule with a message. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gen.h"

/* One valid base case, built with the case.c builders and af_layout; every
 * test below breaks exactly one rule of gen.h in a fresh copy and checks that
 * af_verify says so, with a message naming the place. */

static int add(af_case *c, int fn, af_op op, int type, int nargs, int a0, int a1, int a2,
               int64_t imm) {
  af_inst in;
  memset(&in, 0, sizeof in);
  in.op = op;
  in.type = type;
  in.nargs = nargs;
  in.args[0] = a0;
  in.args[1] = a1;
  in.args[2] = a2;
  in.imm = imm;
  return af_inst_add(c, fn, &in);
}

static int add_path(af_case *c, int fn, af_op op, int type, int nargs, int a0, int a1, int p0) {
  af_inst in;
  memset(&in, 0, sizeof in);
  in.op = op;
  in.type = type;
  in.nargs = nargs;
  in.args[0] = a0;
  in.args[1] = a1;
  in.npath = 1;
  in.path[0] = p0;
  return af_inst_add(c, fn, &in);
}

static af_sig sig(af_cc cc, int ret, int variadic, int nfixed, int n, ...) {
  af_sig s;
  memset(&s, 0, sizeof s);
  s.cc = cc;
  s.ret = ret;
  s.nparams = n;
  va_list ap;
  va_start(ap, n);
  for (int i = 0; i < n; i++)
    s.params[i] = va_arg(ap, int);
  va_end(ap);
  s.variadic = variadic;
  s.nfixed = variadic ? nfixed : n;
  return s;
}

/* Types: t21 struct { i32, u8:3, u32:0, bool:1, f64 }   t22 union { u32, f32 }
 *        t23 array 4 x u16                               t24 struct { t23, bool, f80 }
 * f0 sysv (i32, t21, ptr, t24, f80) -> u64     the entry
 *   0 v5 = const i32 3        1 v6 = add i32 v0 v5     2 v7 = local ptr 16
 *   3 v8 = call ptr f1 (v7, v2)                        4 v9 = load u32 v8 +4
 *   5 store u32 v2 +0 v9      6 v10 = get f64 v1 [4]   7 v11 = cmp bool lt v6 v0
 *   8 v12 = select ptr v11 v2 v8                       9 v13 = call f64 f2 (v10, v0, v10)
 *  10 v14 = mix u64 7 (v6, v9, v13, v12)              11 ret u64 v14
 * f1 sysv (ptr, ptr) -> ptr { ret ptr v1 }
 * f2 host sysv (f64, ..., i32, f64) -> f64 { v3 = fadd f64 v0 v2; ret f64 v3 } */
static void build(af_case *c) {
  af_case_init(c);
  af_field f21[5] = {{AF_T_I32, -1, 0, 0, 0},
                     {AF_T_U8, 3, 0, 0, 0},
                     {AF_T_U32, 0, 0, 0, 0},
                     {AF_T_BOOL, 1, 0, 0, 0},
                     {AF_T_F64, -1, 0, 0, 0}};
  af_field f22[2] = {{AF_T_U32, -1, 0, 0, 0}, {AF_T_F32, -1, 0, 0, 0}};
  CHECK(af_type_add_struct(c, AF_T_STRUCT, 5, f21, 0, 0) == 21);
  CHECK(af_type_add_struct(c, AF_T_UNION, 2, f22, 0, 0) == 22);
  CHECK(af_type_add_array(c, AF_T_U16, 4) == 23);
  af_field f24[3] = {{23, -1, 0, 0, 0}, {AF_T_BOOL, -1, 0, 0, 0}, {AF_T_F80, -1, 0, 0, 0}};
  CHECK(af_type_add_struct(c, AF_T_STRUCT, 3, f24, 0, 0) == 24);
  CHECK(af_layout(c) == AF_OK);
  c->nobjects = 2;
  c->objects[1].init[5] = 9;

  af_sig s0 = sig(AF_CC_SYSV, AF_T_U64, 0, 0, 5, AF_T_I32, 21, AF_T_PTR, 24, AF_T_F80);
  af_sig s1 = sig(AF_CC_SYSV, AF_T_PTR, 0, 0, 2, AF_T_PTR, AF_T_PTR);
  af_sig s2 = sig(AF_CC_SYSV, AF_T_F64, 1, 1, 3, AF_T_F64, AF_T_I32, AF_T_F64);
  CHECK(af_func_add(c, &s0, 0) == 0);
  CHECK(af_func_add(c, &s1, 0) == 1);
  CHECK(af_func_add(c, &s2, 1) == 2);

  af_inst k;
  memset(&k, 0, sizeof k);
  k.op = AF_OP_CONST;
  k.type = AF_T_I32;
  af_value_init(c, &k.cst, AF_T_I32);
  k.cst.bytes[0] = 3;
  CHECK(af_inst_add(c, 0, &k) == 5);
  CHECK(add(c, 0, AF_OP_ADD, AF_T_I32, 2, 0, 5, 0, 0) == 6);
  CHECK(add(c, 0, AF_OP_LOCAL, AF_T_PTR, 0, 0, 0, 0, 16) == 7);
  CHECK(add(c, 0, AF_OP_CALL, AF_T_PTR, 2, 7, 2, 0, 1) == 8);
  CHECK(add(c, 0, AF_OP_LOAD, AF_T_U32, 1, 8, 0, 0, 4) == 9);
  CHECK(add(c, 0, AF_OP_STORE, AF_T_U32, 2, 2, 9, 0, 0) == -1);
  CHECK(add_path(c, 0, AF_OP_GET, AF_T_F64, 1, 1, 0, 4) == 10);
  CHECK(add(c, 0, AF_OP_CMP, AF_T_BOOL, 2, 6, 0, 0, AF_CMP_LT) == 11);
  CHECK(add(c, 0, AF_OP_SELECT, AF_T_PTR, 3, 11, 2, 8, 0) == 12);
  CHECK(add(c, 0, AF_OP_CALL, AF_T_F64, 3, 10, 0, 10, 2) == 13);
  af_inst m;
  memset(&m, 0, sizeof m);
  m.op = AF_OP_MIX;
  m.type = AF_T_U64;
  m.nargs = 4;
  m.args[0] = 6, m.args[1] = 9, m.args[2] = 13, m.args[3] = 12;
  m.imm = 7;
  CHECK(af_inst_add(c, 0, &m) == 14);
  CHECK(add(c, 0, AF_OP_RET, AF_T_U64, 1, 14, 0, 0, 0) == -1);
  CHECK(add(c, 1, AF_OP_RET, AF_T_PTR, 1, 1, 0, 0, 0) == -1);
  CHECK(add(c, 2, AF_OP_FADD, AF_T_F64, 2, 0, 2, 0, 0) == 3);
  CHECK(add(c, 2, AF_OP_RET, AF_T_F64, 1, 3, 0, 0, 0) == -1);
  for (int i = 0; i < 3; i++)
    CHECK(af_fn_finish(c, i) == AF_OK);

  c->entry = 0;
  c->cc = AF_CC_SYSV;
  c->ninputs = 5;
  int types[5] = {AF_T_I32, 21, AF_T_PTR, 24, AF_T_F80};
  for (int i = 0; i < 5; i++)
    CHECK(af_value_init(c, &c->inputs[i], types[i]) == AF_OK);
  c->inputs[0].bytes[0] = 42;
  c->inputs[2].obj = 1;
  c->inputs[3].bytes[8] = 1;     /* the bool of t24 */
  c->inputs[3].bytes[23] = 0x80; /* t24's f80 = 1.0 at offset 16 */
  c->inputs[3].bytes[24] = 0xff;
  c->inputs[3].bytes[25] = 0x3f;
  c->inputs[4].bytes[7] = 0x80; /* f80 -2.0 */
  c->inputs[4].bytes[8] = 0x00;
  c->inputs[4].bytes[9] = 0xc0;
}

#define I0(k) (&c->funcs[0].insts[k])

/* ---- one mutation per rule ---- */
#define MUT(name, ...)                                                                             \
  static void name(af_case *c) { __VA_ARGS__; }

MUT(m_ntypes, c->ntypes = 5)
MUT(m_scalar, c->types[AF_T_I32].size = 8)
MUT(m_field_fwd, c->types[21].fields[0].type = 22)
MUT(m_field_void, c->types[21].fields[0].type = AF_T_VOID)
MUT(m_field_ptr, c->types[21].fields[0].type = AF_T_PTR)
MUT(m_bf_float, c->types[21].fields[1].type = AF_T_F32)
MUT(m_bf_wide, c->types[21].fields[1].bits = 9)
MUT(m_bf_bool2, c->types[21].fields[3].bits = 2)
MUT(m_bf_align, c->types[21].fields[1].align = 4)
MUT(m_bf_neg, c->types[21].fields[1].bits = -2)
MUT(m_field_align3, c->types[21].fields[0].align = 3)
MUT(m_struct_align, c->types[21].align = 128)
MUT(m_packed2, c->types[21].packed = 2)
MUT(m_union_bool, c->types[22].fields[1].type = AF_T_BOOL)
MUT(m_union_f80, c->types[22].fields[1].type = AF_T_F80)
MUT(m_union_nested, c->types[21].fields[3].bits = -1; c->types[22].fields[0].type = 21)
MUT(m_arr_ptr, c->types[23].elem = AF_T_PTR)
MUT(m_arr_count, c->types[23].count = 0)
MUT(m_arr_fwd, c->types[23].elem = 23)
MUT(m_kind, c->types[21].kind = AF_T_I32)
MUT(m_nfields, c->types[21].nfields = AF_MAX_FIELDS + 1)
MUT(m_no_layout, c->types[21].alignment = 0)
MUT(m_field_out, c->types[21].fields[4].offset = 100; c->types[21].fields[4].bit_offset = 800)
MUT(m_bit_offset, c->types[21].fields[4].offset = 9)
MUT(m_size_limit, c->types[24].size = 1024)
MUT(m_size_mult, c->types[24].size = 33)
MUT(m_arr_layout, c->types[23].size = 6)
MUT(m_align_less, c->types[24].fields[2].align = 8)
MUT(m_union_off, c->types[22].fields[1].offset = 1; c->types[22].fields[1].bit_offset = 8)
MUT(m_stale_packed, c->types[21].packed = 1)
MUT(m_stale_align, c->types[21].fields[4].align = 32)
MUT(m_nobjects, c->nobjects = AF_MAX_OBJECTS + 1)
MUT(m_nfuncs0, c->nfuncs = 0)
MUT(m_nfuncs_big, c->nfuncs = AF_MAX_FUNCS + 1)
MUT(m_host2, c->funcs[1].host = 2)
MUT(m_cc, c->funcs[1].sig.cc = (af_cc)5)
MUT(m_param_void, c->funcs[1].sig.params[0] = AF_T_VOID)
MUT(m_param_array, c->funcs[1].sig.params[0] = 23)
MUT(m_param_undef, c->funcs[1].sig.params[0] = 99)
MUT(m_ret_array, c->funcs[1].sig.ret = 23)
MUT(m_nparams, c->funcs[1].sig.nparams = AF_MAX_PARAMS + 1)
MUT(m_variadic_nfixed0, c->funcs[2].sig.nfixed = 0)
MUT(m_variadic_f32, c->funcs[2].sig.params[2] = AF_T_F32)
MUT(m_variadic_u8, c->funcs[2].sig.params[1] = AF_T_U8)
MUT(m_variadic_last_named, c->funcs[2].sig.params[0] = AF_T_F32)
MUT(m_variadic_flag, c->funcs[2].sig.variadic = 3)
MUT(m_nfixed, c->funcs[1].sig.nfixed = 1)
MUT(m_entry_range, c->entry = 7)
MUT(m_entry_host, c->entry = 2)
MUT(m_case_cc, c->cc = AF_CC_WIN64)
MUT(m_ninputs, c->ninputs = 4)
MUT(m_input_type, c->inputs[0].type = AF_T_U32)
MUT(m_input_obj, c->inputs[2].obj = 2)
MUT(m_input_ptr_bytes, c->inputs[2].size = 8)
MUT(m_input_size, c->inputs[0].size = 2)
MUT(m_input_bool, c->inputs[3].bytes[8] = 2)
MUT(m_input_f80, c->inputs[4].bytes[7] = 0x00)
MUT(m_input_f80_agg, c->inputs[3].bytes[23] = 0x00)
MUT(m_input_f80_pseudo, c->inputs[4].bytes[8] = 0; c->inputs[4].bytes[9] = 0)
MUT(m_input_f80_pad, c->inputs[4].bytes[12] = 1)
MUT(m_undef_operand, I0(1)->args[1] = 20)
MUT(m_forward_operand, I0(1)->args[1] = 6)
MUT(m_operand_type, I0(1)->args[1] = 4)
MUT(m_add_float, I0(1)->type = AF_T_F64)
MUT(m_nargs, I0(1)->nargs = 3)
MUT(m_dst_order, I0(0)->dst = 9)
MUT(m_store_dst, I0(5)->dst = 9)
MUT(m_ret_early, I0(5)->op = AF_OP_RET)
MUT(m_no_ret, c->funcs[0].ninsts = 11)
MUT(m_ret_type, I0(11)->type = AF_T_U32)
MUT(m_ret_operand, I0(11)->args[0] = 6)
MUT(m_ret_void_value, I0(11)->type = AF_T_VOID; c->funcs[0].sig.ret = AF_T_VOID)
MUT(m_load_oob, I0(4)->imm = 125)
MUT(m_load_neg, I0(4)->imm = -1)
MUT(m_load_bool, I0(4)->type = AF_T_BOOL)
MUT(m_load_f80, I0(4)->type = AF_T_F80)
MUT(m_load_agg, I0(4)->type = 21)
MUT(m_load_nonptr, I0(4)->args[0] = 0)
MUT(m_store_oob, I0(5)->imm = 126)
MUT(m_store_ptr, I0(5)->type = AF_T_PTR; I0(5)->args[1] = 8)
MUT(m_local_align, I0(2)->imm = 8)
MUT(m_local_type, I0(2)->type = AF_T_U64)
MUT(m_call_back, I0(3)->imm = 0)
MUT(m_call_range, I0(3)->imm = 3)
MUT(m_call_nargs, I0(3)->nargs = 1)
MUT(m_call_argtype, I0(3)->args[1] = 0)
MUT(m_call_rettype, I0(3)->type = AF_T_U64)
MUT(m_call_variadic_all, I0(9)->nargs = 1)
MUT(m_host_local, {
  af_inst *in = &c->funcs[2].insts[0];
  memset(in, 0, sizeof *in);
  in->op = AF_OP_LOCAL;
  in->type = AF_T_PTR;
  in->imm = 16;
  in->dst = 3;
})
MUT(m_host_call, {
  af_inst *in = &c->funcs[2].insts[0];
  in->op = AF_OP_CALL;
  in->imm = 3;
})
MUT(m_mix_type, I0(10)->type = AF_T_I64)
MUT(m_mix_empty, I0(10)->nargs = 0)
MUT(m_bitcast_f80, I0(6)->op = AF_OP_BITCAST; I0(6)->type = AF_T_I64; I0(6)->args[0] = 4;
    I0(6)->npath = 0)
MUT(m_bitcast_size, I0(6)->op = AF_OP_BITCAST; I0(6)->type = AF_T_F64; I0(6)->args[0] = 0;
    I0(6)->npath = 0)
MUT(m_get_index, I0(6)->path[0] = 9)
MUT(m_get_zero_width, I0(6)->path[0] = 2; I0(6)->type = AF_T_U32)
MUT(m_get_type, I0(6)->type = AF_T_F32)
MUT(m_get_empty, I0(6)->npath = 0)
MUT(m_get_long, I0(6)->npath = AF_MAX_PATH + 1)
MUT(m_get_scalar, I0(6)->args[0] = 0)
MUT(m_cmp_pred, I0(7)->imm = 7)
MUT(m_cmp_type, I0(7)->type = AF_T_I32)
MUT(m_cmp_mixed, I0(7)->args[1] = 5; I0(7)->args[0] = 4)
MUT(m_select_cond, I0(8)->args[0] = 0)
MUT(m_ret_local, c->funcs[0].sig.ret = AF_T_PTR; I0(11)->type = AF_T_PTR; I0(11)->args[0] = 7)
MUT(m_ret_local_call, c->funcs[0].sig.ret = AF_T_PTR; I0(11)->type = AF_T_PTR; I0(11)->args[0] = 8)
MUT(m_ret_local_select, c->funcs[0].sig.ret = AF_T_PTR; I0(11)->type = AF_T_PTR;
    I0(11)->args[0] = 12)
MUT(m_const_ptr, I0(0)->type = AF_T_PTR; I0(0)->cst.type = AF_T_PTR; I0(0)->cst.size = 0)
MUT(m_const_cst_type, I0(0)->cst.type = AF_T_U32)
MUT(m_const_size, I0(0)->cst.size = 8)
MUT(m_value_type, c->funcs[0].value_type[6] = AF_T_F32)
MUT(m_nvalues, c->funcs[0].nvalues = 14)
MUT(m_imm_unused, I0(1)->imm = 1)
MUT(m_path_unused, I0(1)->npath = 1)
MUT(m_op_unknown, I0(1)->op = (af_op)99)
MUT(m_sext_narrow, I0(1)->op = AF_OP_SEXT; I0(1)->type = AF_T_I8; I0(1)->nargs = 1)
MUT(m_trunc_wide, I0(1)->op = AF_OP_TRUNC; I0(1)->type = AF_T_I64; I0(1)->nargs = 1)
MUT(m_ftoi_bool, I0(6)->op = AF_OP_FTOI; I0(6)->type = AF_T_BOOL; I0(6)->args[0] = 4;
    I0(6)->npath = 0)
MUT(m_itof_float, I0(6)->op = AF_OP_ITOF; I0(6)->type = AF_T_F64; I0(6)->args[0] = 4;
    I0(6)->npath = 0)
MUT(m_fadd_f16, c->funcs[2].insts[0].type = AF_T_F16)
MUT(m_type_range, I0(1)->type = 300)
MUT(m_ninsts0, c->funcs[1].ninsts = 0)
MUT(m_void_result, I0(1)->type = AF_T_VOID)

typedef struct {
  const char *name;
  void (*mut)(af_case *);
  const char *frag; /* the message must contain this */
} rule;

static const rule rules[] = {
    {"ntypes", m_ntypes, "types (must be"},
    {"scalar table", m_scalar, "scalar entry 6"},
    {"field forward ref", m_field_fwd, "type t21 field 0: field type t22 is not an earlier"},
    {"field void", m_field_void, "field type void"},
    {"field ptr", m_field_ptr, "pointers are never fields"},
    {"bit-field float", m_bf_float, "bit-field of type f32"},
    {"bit-field too wide", m_bf_wide, "width 9 exceeds 8 bits"},
    {"bool bit-field 2", m_bf_bool2, "width 2 exceeds 1 bits of bool"},
    {"bit-field align", m_bf_align, "bit-field cannot have an alignment"},
    {"bit-field width -2", m_bf_neg, "bad bit-field width -2"},
    {"field align 3", m_field_align3, "field alignment 3"},
    {"struct align 128", m_struct_align, "type t21: alignment 128"},
    {"packed 2", m_packed2, "packed must be 0 or 1"},
    {"union bool", m_union_bool, "union member bool"},
    {"union f80", m_union_f80, "union member f80"},
    {"union nested bool", m_union_nested, "union member t21"},
    {"array of ptr", m_arr_ptr, "arrays of pointers"},
    {"array count 0", m_arr_count, "array count 0"},
    {"array forward", m_arr_fwd, "array element t23"},
    {"kind", m_kind, "is not struct, union or array"},
    {"nfields", m_nfields, "65 fields"},
    {"layout missing", m_no_layout, "layout not computed"},
    {"field outside", m_field_out, "field 4 at 100"},
    {"offset vs bit offset", m_bit_offset, "does not match bit offset"},
    {"size limit", m_size_limit, "size 1024 exceeds"},
    {"size multiple", m_size_mult, "not a multiple of alignment"},
    {"array layout", m_arr_layout, "count x element"},
    {"_Alignas less", m_align_less, "alignment 8 is less than its type's 16"},
    {"union offset", m_union_off, "union member 1 not at offset 0"},
    {"stale layout: packed", m_stale_packed,
     "type t21: size 24 align 8, but af_layout computes size 17 align 1"},
    {"stale layout: field align", m_stale_align, "but af_layout computes size"},
    {"nobjects", m_nobjects, "17 objects"},
    {"no functions", m_nfuncs0, "0 functions"},
    {"too many functions", m_nfuncs_big, "17 functions"},
    {"host flag", m_host2, "f1: host must be 0 or 1"},
    {"cc", m_cc, "f1: bad calling convention 5"},
    {"param void", m_param_void, "f1: parameter 0: type void is not a value type"},
    {"param array", m_param_array, "parameter 0: type t23 is not a value type"},
    {"param undefined", m_param_undef, "type type#99 is not a value type"},
    {"ret array", m_ret_array, "return type t23"},
    {"nparams", m_nparams, "33 parameters"},
    {"variadic nfixed 0", m_variadic_nfixed0, "variadic with nfixed 0"},
    {"variadic f32", m_variadic_f32, "variadic argument 2 of type f32 is not default-promoted"},
    {"variadic u8", m_variadic_u8, "variadic argument 1 of type u8"},
    {"variadic last named", m_variadic_last_named, "last named parameter 0 of a variadic"},
    {"variadic flag", m_variadic_flag, "variadic must be 0 or 1"},
    {"nfixed", m_nfixed, "nfixed 1 != nparams 2"},
    {"entry range", m_entry_range, "entry f7 does not exist"},
    {"entry host", m_entry_host, "entry f2 is a host function"},
    {"case cc", m_case_cc, "case convention win64 is not the entry's sysv"},
    {"ninputs", m_ninputs, "4 inputs for f0's 5 parameters"},
    {"input type", m_input_type, "input 0: type u32, but parameter 0 is i32"},
    {"input object", m_input_obj, "input 2: ptr names object 2"},
    {"input ptr bytes", m_input_ptr_bytes, "a ptr value has no bytes"},
    {"input size", m_input_size, "input 0: 2 bytes for i32"},
    {"input bool", m_input_bool, "input 3: bool byte at offset 8 is 2"},
    {"input f80", m_input_f80, "input 4: f80 at offset 0 is not a canonical"},
    {"input f80 in struct", m_input_f80_agg, "f80 at offset 16 is not a canonical"},
    {"input f80 pseudo-denormal", m_input_f80_pseudo, "input 4: f80 at offset 0"},
    {"input f80 padding", m_input_f80_pad, "f80 padding byte 12"},
    {"undefined operand", m_undef_operand, "f0 inst 1 (v6 = add): operand v20 is not defined"},
    {"self operand", m_forward_operand, "operand v6 is not defined before"},
    {"operand type", m_operand_type, "f0 inst 1 (v6 = add): operand v4 is f80, expected i32"},
    {"add float", m_add_float, "type f64 is not an integer type"},
    {"operand count", m_nargs, "3 operands, expected 2"},
    {"dst order", m_dst_order, "f0 inst 0 (v5 = const): defines v9, expected v5"},
    {"store dst", m_store_dst, "f0 inst 5 (store): defines v9 but has no value"},
    {"ret early", m_ret_early, "ret is not the last instruction"},
    {"no ret", m_no_ret, "f0: the last instruction is not ret"},
    {"ret type", m_ret_type, "type u32, but f0 returns u64"},
    {"ret operand", m_ret_operand, "f0 inst 11 (ret): operand v6 is i32, expected u64"},
    {"ret void with value", m_ret_void_value, "f0 inst 11 (ret): 1 operands, expected 0"},
    {"load bounds", m_load_oob, "offset 125 + 4 bytes of u32 outside the 128-byte region"},
    {"load negative", m_load_neg, "offset -1"},
    {"load bool", m_load_bool, "type bool is not loadable"},
    {"load f80", m_load_f80, "type f80 is not loadable"},
    {"load struct", m_load_agg, "type t21 is not loadable"},
    {"load from non-ptr", m_load_nonptr, "operand v0 is i32, expected ptr"},
    {"store bounds", m_store_oob, "offset 126 + 4 bytes"},
    {"store ptr", m_store_ptr, "type ptr is not loadable"},
    {"local align", m_local_align, "alignment 8 is not 16, 32 or 64"},
    {"local type", m_local_type, "(v7 = local): type u64 is not ptr"},
    {"call backwards", m_call_back, "callee f0 must be in f1..f2"},
    {"call range", m_call_range, "callee f3 must be in"},
    {"call nargs", m_call_nargs, "1 arguments, but f1 takes 2"},
    {"call arg type", m_call_argtype, "(v8 = call): operand v0 is i32, expected ptr"},
    {"call ret type", m_call_rettype, "type u64, but f1 returns ptr"},
    {"variadic call passes all", m_call_variadic_all, "1 arguments, but f2 takes 3"},
    {"host local", m_host_local, "host functions contain no local"},
    {"host call", m_host_call, "host functions contain no call"},
    {"mix type", m_mix_type, "type i64 is not u64"},
    {"mix empty", m_mix_empty, "at least one operand"},
    {"bitcast f80", m_bitcast_f80, "bitcast f80 to i64"},
    {"bitcast size", m_bitcast_size, "bitcast i32 to f64"},
    {"get index", m_get_index, "field 9 of t21 out of 0..4"},
    {"get zero-width", m_get_zero_width, "unnamed zero-width bit-field"},
    {"get type", m_get_type, "type f32, but the path leads to f64"},
    {"get empty path", m_get_empty, "path of 0 indices"},
    {"get long path", m_get_long, "path of 9 indices"},
    {"get into scalar", m_get_scalar, "cannot index into i32"},
    {"cmp predicate", m_cmp_pred, "bad comparison 7"},
    {"cmp result", m_cmp_type, "type i32 is not bool"},
    {"cmp mixed", m_cmp_mixed, "operand v4 is f80, expected an integer or bool"},
    {"select cond", m_select_cond, "(v12 = select): operand v0 is i32, expected bool"},
    {"ret local", m_ret_local, "returns v7, a pointer derived from this function's local"},
    {"ret local via call", m_ret_local_call, "returns v8, a pointer derived"},
    {"ret local via select", m_ret_local_select, "returns v12, a pointer derived"},
    {"const ptr", m_const_ptr, "type ptr is not a constant type"},
    {"const cst type", m_const_cst_type, "constant of type u32 in a i32"},
    {"const size", m_const_size, "8 bytes for i32"},
    {"value_type", m_value_type, "value_type of v6 is f32, expected i32"},
    {"nvalues", m_nvalues, "nvalues 14, but the body defines 15"},
    {"imm unused", m_imm_unused, "immediate 1 on an op that takes none"},
    {"path unused", m_path_unused, "path on an op that takes none"},
    {"unknown op", m_op_unknown, "unknown op 99"},
    {"sext narrower", m_sext_narrow, "expected an integer or bool no wider than the result"},
    {"trunc wider", m_trunc_wide, "expected an integer at least as wide"},
    {"ftoi bool", m_ftoi_bool, "type bool is not an integer type (not bool)"},
    {"itof float", m_itof_float, "operand v4 is f80, expected an integer"},
    {"fadd f16", m_fadd_f16, "f2 inst 0 (v3 = fadd): type f16 is not f32, f64 or f80"},
    {"type range", m_type_range, "type type#300 is not defined"},
    {"no instructions", m_ninsts0, "f1: 0 instructions"},
    {"void result", m_void_result, "void result"},
};

/* ---- random single-field mutations: af_verify never crashes, and what it
 * accepts is exactly what the text format shows (print, parse, print) ---- */

static uint64_t rng = 0x243f6a8885a308d3ull;
static int rnd(int n) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (int)(rng % (uint64_t)n);
}

static int pick(void) {
  static const int vals[] = {-1, 0,  1,  2,  3,  4,  5,  7,  8,  9,   12,  16,  17,  18, 20,
                             21, 22, 23, 24, 25, 31, 32, 33, 64, 100, 124, 127, 128, 255};
  return rnd(3) ? vals[rnd((int)(sizeof vals / sizeof vals[0]))] : rnd(40) - 5;
}

static void mutate(af_case *c) {
  af_func *f = &c->funcs[rnd(c->nfuncs)];
  af_inst *in = &f->insts[rnd(f->ninsts)];
  af_type *t = &c->types[AF_T_NSCALAR + rnd(c->ntypes - AF_T_NSCALAR)];
  af_field *fd = t->nfields ? &t->fields[rnd(t->nfields)] : NULL;
  int v = pick();
  switch (rnd(24)) {
  case 0: in->op = (af_op)(v < 0 ? 0 : v % (AF_OP_COUNT + 1)); break;
  case 1: in->type = v; break;
  case 2: in->args[rnd(3)] = v; break;
  case 3: in->nargs = v < 0 || v > AF_MAX_OPERANDS ? 0 : v; break;
  case 4: in->imm = v; break;
  case 5: in->npath = v < 0 || v > AF_MAX_PATH ? 1 : v; break;
  case 6: in->path[rnd(2)] = v; break;
  case 7: in->dst = v; break;
  case 8: f->sig.params[rnd(f->sig.nparams ? f->sig.nparams : 1)] = v; break;
  case 9: f->sig.ret = v; break;
  case 10: f->sig.nfixed = v; break;
  case 11: f->sig.variadic = v & 1; break;
  case 12: f->host = v & 1; break;
  case 13: c->entry = v; break;
  case 14: c->inputs[rnd(c->ninputs)].obj = v; break;
  case 15: c->inputs[rnd(c->ninputs)].type = v; break;
  case 16:
    if (fd) fd->type = v;
    break;
  case 17:
    if (fd) fd->bits = v;
    break;
  case 18:
    if (fd) fd->align = v;
    break;
  case 19:
    if (t->kind == AF_T_ARRAY)
      t->elem = v;
    else
      t->packed = v & 1;
    break;
  case 20:
    if (t->kind == AF_T_ARRAY)
      t->count = (uint32_t)v;
    else
      t->align = v;
    break;
  case 21: f->ninsts = 1 + rnd(f->ninsts); break;
  case 22: c->nobjects = v < 0 || v > AF_MAX_OBJECTS ? 0 : v; break;
  default: {
    af_value *x = &c->inputs[rnd(c->ninputs)];
    if (x->size) x->bytes[rnd((int)x->size)] ^= (uint8_t)(1u << rnd(8));
    break;
  }
  }
  if (rnd(2)) af_layout(c); /* sometimes a fresh layout, sometimes a stale one */
}

static void test_mutations(int n) {
  int accepted = 0;
  for (int i = 0; i < n; i++) {
    af_case c, d;
    af_error err = {{0}};
    build(&c);
    int edits = 1 + rnd(2);
    for (int e = 0; e < edits; e++)
      mutate(&c);
    af_status s = af_verify(&c, &err);
    CHECKF(s == AF_OK || s == AF_ERR_INVALID, "mutation %d: status %d", i, (int)s);
    CHECKF(s == AF_OK || err.msg[0], "mutation %d: no message", i);
    if (s == AF_OK) {
      accepted++;
      char *a = NULL, *b = NULL;
      size_t na = 0, nb = 0;
      CHECK(af_print_str(&c, &a, &na) == AF_OK);
      af_status ps = af_parse("mutant", a, na, &d, &err);
      CHECKF(ps == AF_OK, "mutation %d: a verified case does not parse back: %s", i, err.msg);
      if (ps == AF_OK) {
        CHECK(af_print_str(&d, &b, &nb) == AF_OK);
        CHECKF(na == nb && memcmp(a, b, na) == 0, "mutation %d: text changed", i);
      }
      af_case_free(&d);
      free(a);
      free(b);
    }
    af_case_free(&c);
  }
  printf("%d random mutations, %d still valid\n", n, accepted);
}

int main(void) {
  af_case c;
  af_error err = {{0}};
  build(&c);
  af_status s = af_verify(&c, &err);
  CHECKF(s == AF_OK, "base case: %s", err.msg);

  /* af_verify changes nothing. */
  static af_case copy;
  memcpy(&copy, &c, sizeof c);
  af_verify(&c, &err);
  CHECK(memcmp(&copy, &c, sizeof c) == 0);

  /* Returning a pointer parameter (not a local) is fine. */
  c.funcs[0].sig.ret = AF_T_PTR;
  c.funcs[0].insts[11].type = AF_T_PTR;
  c.funcs[0].insts[11].args[0] = 2;
  s = af_verify(&c, &err);
  CHECKF(s == AF_OK, "returning a parameter pointer: %s", err.msg);
  af_case_free(&c);

  int n = (int)(sizeof rules / sizeof rules[0]), rejected = 0;
  for (int i = 0; i < n; i++) {
    build(&c);
    rules[i].mut(&c);
    memset(&err, 0, sizeof err);
    s = af_verify(&c, &err);
    int ok = s == AF_ERR_INVALID && strstr(err.msg, rules[i].frag) != NULL;
    CHECKF(ok, "rule '%s': status %d, message '%s', expected '%s'", rules[i].name, (int)s, err.msg,
           rules[i].frag);
    rejected += ok;
    af_case_free(&c);
  }
  printf("%d of %d broken rules rejected\n", rejected, n);
  CHECK(rejected >= 40);
  test_mutations(20000);
  return check_done();
}
