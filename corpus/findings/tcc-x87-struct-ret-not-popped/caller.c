/* caller.c - compiled by tcc: calls f1 and reads the struct it returns. */
#include <stdio.h>
struct L { long double x; };
struct L f1(void);
int x87_depth(void);
static long double got(void) { struct L r = f1(); return r.x; }
int main(void) {
  f1(); /* result unused: the callee's ST0 must still be popped */
  int depth = x87_depth();
  long double v = got();
  int ok = v == 1.25L && depth == 0;
  printf("caller got %Lg, %d x87 register(s) left in use; want 1.25 and 0: %s\n", v, depth,
         ok ? "ok" : "MISMATCH");
  return ok ? 0 : 1;
}
