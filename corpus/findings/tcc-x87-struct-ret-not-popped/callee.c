/* callee.c - compiled by gcc: returns struct { long double } in ST0 (psABI 3.2.3: class X87),
 * and measures the x87 stack depth for the caller. */
struct L { long double x; };
struct L f1(void) { struct L r = {1.25L}; return r; }
int x87_depth(void) {
  unsigned short sw;
  __asm__ volatile("fnstsw %0" : "=m"(sw)::"memory");
  return (8 - ((sw >> 11) & 7)) & 7;
}
