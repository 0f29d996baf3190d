/* caller.c - compiled by gcc: the psABI reference caller. */
#include <stdint.h>
typedef struct { int64_t f0; double f1; } T;
void f0(int32_t v0, float v1, uint64_t v2, uint8_t v3, int16_t v4, double v5, float v6, float v7,
        double v8, float v9, float v10, float v11, T v12, float v13, void *v14);
int main(void) {
  T t = {7, 8.5};
  f0(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, t, 13.5f, (void *)0x1234);
  return 2; /* not reached: the callee exits */
}
