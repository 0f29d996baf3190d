/* repro_segv.c - libgccjit 12 segfaults (in RTL expand) compiling an __int128 -> long double
 * conversion:  long double f(__int128 x) { return (long double)x; }
 * gcc's C front end compiles the same C fine (a call of libgcc's __floattixf).
 * Build: gcc repro_segv.c -lgccjit && ./a.out (prints "compiled" when it does not crash;
 * `./a.out double` converts to double instead, which compiles). */
#include <libgccjit.h>
#include <stdio.h>

int main(int argc, char **argv) {
  gcc_jit_context *c = gcc_jit_context_acquire();
  gcc_jit_context_set_int_option(c, GCC_JIT_INT_OPTION_OPTIMIZATION_LEVEL, 0);
  gcc_jit_type *i128 = gcc_jit_context_get_type(c, GCC_JIT_TYPE_INT128_T);
  gcc_jit_type *to =
      gcc_jit_context_get_type(c, argc > 1 ? GCC_JIT_TYPE_DOUBLE : GCC_JIT_TYPE_LONG_DOUBLE);
  gcc_jit_param *x = gcc_jit_context_new_param(c, NULL, i128, "x");
  gcc_jit_function *fn =
      gcc_jit_context_new_function(c, NULL, GCC_JIT_FUNCTION_EXPORTED, to, "f", 1, &x, 0);
  gcc_jit_block *b = gcc_jit_function_new_block(fn, "entry");
  gcc_jit_block_end_with_return(
      b, NULL, gcc_jit_context_new_cast(c, NULL, gcc_jit_param_as_rvalue(x), to));
  gcc_jit_result *r = gcc_jit_context_compile(c);
  printf("compiled: %s\n", r ? "ok" : gcc_jit_context_get_first_error(c));
  return 0;
}
