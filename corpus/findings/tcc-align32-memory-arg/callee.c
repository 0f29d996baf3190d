/* callee.c - compiled by tcc: a 64-byte struct of alignment 32 passed by value (MEMORY). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
struct t29 { double f0; _Alignas(32) uint32_t f1; };
void f2(struct t29 v0, void *v1, _Bool v2, uint32_t v4, int64_t v5) {
  int ok = v0.f0 == 1.5 && v0.f1 == 7 && v1 == (void *)0x1234 && v2 && v4 == 99 && v5 == -5;
  printf("callee got {%g, %u} %p %d %u %lld; want {1.5, 7} 0x1234 1 99 -5: %s\n", v0.f0, v0.f1,
         v1, v2, v4, (long long)v5, ok ? "ok" : "MISMATCH");
  exit(ok ? 0 : 1);
}
