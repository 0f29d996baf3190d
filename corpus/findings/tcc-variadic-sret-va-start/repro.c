/* repro.c - a variadic function returning a struct in memory (a hidden pointer in RDI):
 * tcc's va_start does not count the hidden pointer. Compiled whole by one compiler. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
typedef struct { int64_t a, b, c; } Big;
__attribute__((noinline)) Big f(int n, ...) {
  va_list ap;
  va_start(ap, n);
  long a = va_arg(ap, long), b = va_arg(ap, long), c = va_arg(ap, long);
  va_end(ap);
  Big r = {a, b, c};
  return r;
}
int main(void) {
  Big r = f(7, 1L, 2L, 3L);
  int ok = r.a == 1 && r.b == 2 && r.c == 3;
  printf("va_arg read %ld %ld %ld; want 1 2 3: %s\n", (long)r.a, (long)r.b, (long)r.c,
         ok ? "ok" : "MISMATCH");
  return ok ? 0 : 1;
}
