/* callee.c - compiled by tcc: receives a {INTEGER, SSE} struct after eight float arguments. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
typedef struct { int64_t f0; double f1; } T;
void f0(int32_t v0, float v1, uint64_t v2, uint8_t v3, int16_t v4, double v5, float v6, float v7,
        double v8, float v9, float v10, float v11, T v12, float v13, void *v14) {
  (void)v0, (void)v1, (void)v2, (void)v3, (void)v4, (void)v5, (void)v6, (void)v7, (void)v8;
  (void)v9, (void)v10, (void)v11;
  int ok = v12.f0 == 7 && v12.f1 == 8.5 && v13 == 13.5f && v14 == (void *)0x1234;
  printf("callee got v12 = {%lld, %g}, v13 = %g, v14 = %p; want {7, 8.5}, 13.5, 0x1234: %s\n",
         (long long)v12.f0, v12.f1, v13, v14, ok ? "ok" : "MISMATCH");
  exit(ok ? 0 : 1);
}
