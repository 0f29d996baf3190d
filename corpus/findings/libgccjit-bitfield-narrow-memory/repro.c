/* repro_bitfield.c - libgccjit 12 passes struct { uint8_t a; int32_t b : 8; } in memory;
 * gcc's C front end (and the psABI) pass it in RDI. Build: gcc repro.c -lgccjit (run.sh).
 * Exit 1: the mismatch shows. */
#include <libgccjit.h>
#include <stdint.h>
#include <stdio.h>

struct s { uint8_t a; int32_t b : 8; };

int main(void) {
  gcc_jit_context *c = gcc_jit_context_acquire();
  gcc_jit_context_set_int_option(c, GCC_JIT_INT_OPTION_OPTIMIZATION_LEVEL, 2);
  gcc_jit_type *u8 = gcc_jit_context_get_type(c, GCC_JIT_TYPE_UINT8_T);
  gcc_jit_type *i32 = gcc_jit_context_get_type(c, GCC_JIT_TYPE_INT32_T);
  gcc_jit_field *f[2] = {gcc_jit_context_new_field(c, NULL, u8, "a"),
                         gcc_jit_context_new_bitfield(c, NULL, i32, 8, "b")};
  gcc_jit_struct *st = gcc_jit_context_new_struct_type(c, NULL, "s", 2, f);
  gcc_jit_param *p = gcc_jit_context_new_param(c, NULL, gcc_jit_struct_as_type(st), "v");
  gcc_jit_function *fn =
      gcc_jit_context_new_function(c, NULL, GCC_JIT_FUNCTION_EXPORTED, i32, "get_b", 1, &p, 0);
  gcc_jit_block *b = gcc_jit_function_new_block(fn, "entry");
  gcc_jit_block_end_with_return(
      b, NULL,
      gcc_jit_lvalue_as_rvalue(gcc_jit_lvalue_access_field(gcc_jit_param_as_lvalue(p), NULL, f[1])));
  gcc_jit_result *r = gcc_jit_context_compile(c);
  int32_t (*get_b)(struct s) = (int32_t(*)(struct s))gcc_jit_result_get_code(r, "get_b");
  struct s v = {1, -16};
  int32_t got = get_b(v);
  printf("libgccjit's get_b({1, -16}) = %d, want -16: %s\n", got, got == -16 ? "ok" : "MISMATCH");
  gcc_jit_result_release(r);
  gcc_jit_context_release(c);
  return got == -16 ? 0 : 1;
}
