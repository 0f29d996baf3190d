/* repro.c - libgccjit 12 builds `int call(int x) { return g((signed char)x); }` and calls
 * clang's g. gcc's C front end extends the char argument to 32 bits (promote_prototypes);
 * libgccjit passes it as is, so g sees the stale upper bits. Exit 1: the mismatch shows. */
#include <libgccjit.h>
#include <stdio.h>

int g(signed char c);

int main(void) {
  gcc_jit_context *c = gcc_jit_context_acquire();
  gcc_jit_context_set_int_option(c, GCC_JIT_INT_OPTION_OPTIMIZATION_LEVEL, 2);
  gcc_jit_type *i32 = gcc_jit_context_get_type(c, GCC_JIT_TYPE_INT);
  gcc_jit_type *i8 = gcc_jit_context_get_type(c, GCC_JIT_TYPE_SIGNED_CHAR);
  gcc_jit_type *gt = gcc_jit_context_new_function_ptr_type(c, NULL, i32, 1, &i8, 0);
  gcc_jit_param *x = gcc_jit_context_new_param(c, NULL, i32, "x");
  gcc_jit_function *fn =
      gcc_jit_context_new_function(c, NULL, GCC_JIT_FUNCTION_EXPORTED, i32, "call", 1, &x, 0);
  gcc_jit_block *b = gcc_jit_function_new_block(fn, "entry");
  gcc_jit_rvalue *arg = gcc_jit_context_new_cast(c, NULL, gcc_jit_param_as_rvalue(x), i8);
  gcc_jit_rvalue *gp = gcc_jit_context_new_rvalue_from_ptr(c, gt, (void *)g);
  gcc_jit_block_end_with_return(b, NULL,
                                gcc_jit_context_new_call_through_ptr(c, NULL, gp, 1, &arg));
  gcc_jit_result *r = gcc_jit_context_compile(c);
  if (!r) {
    printf("compile failed: %s\n", gcc_jit_context_get_first_error(c));
    return 2;
  }
  int (*call)(int) = (int (*)(int))gcc_jit_result_get_code(r, "call");
  int got = call(0x1ff);
  printf("g((signed char)0x1ff) through libgccjit's call = %d, want -1: %s\n", got,
         got == -1 ? "ok" : "MISMATCH");
  gcc_jit_result_release(r);
  gcc_jit_context_release(c);
  return got == -1 ? 0 : 1;
}
