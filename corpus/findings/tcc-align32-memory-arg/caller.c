/* caller.c - compiled by gcc: the psABI reference caller (the slot 32-aligned, 3.2.3). */
#include <stdint.h>
struct t29 { double f0; _Alignas(32) uint32_t f1; };
void f2(struct t29 v0, void *v1, _Bool v2, uint32_t v4, int64_t v5);
int main(void) {
  struct t29 a = {1.5, 7};
  f2(a, (void *)0x1234, 1, 99, -5);
  return 2; /* not reached */
}
