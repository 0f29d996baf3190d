/* test_crash_where.c - camp_crash_where names the file mapping of an address (harness/worker.c):
 * what a crash outside the JIT's code reports instead of "outside JIT code". */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "check.h"
#include "worker.h"

/* The expected "NAME+0xOFF" from the dynamic loader: for the text of a shared object whose
 * segments are mapped at their file offsets (every object the linker lays out by default),
 * the offset in the file is addr - dli_fbase. */
static int expect_of(const void *p, char *out, size_t n) {
  Dl_info di;
  if (!dladdr(p, &di) || !di.dli_fname || !di.dli_fbase) return -1;
  const char *base = strrchr(di.dli_fname, '/');
  base = base ? base + 1 : di.dli_fname;
  snprintf(out, n, "%s+0x%llx", base, (unsigned long long)((uintptr_t)p - (uintptr_t)di.dli_fbase));
  return 0;
}

int main(void) {
  char got[96], want[96];
  /* a function of libc and one of libdl's users (dladdr itself): text of two shared objects */
  const void *fns[] = {(const void *)&qsort, (const void *)&dladdr, (const void *)&snprintf};
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    camp_crash_where((uint64_t)(uintptr_t)fns[i], got, sizeof got);
    CHECKF(!expect_of(fns[i], want, sizeof want), "dladdr knows function %zu", i);
    CHECKF(!strcmp(got, want), "function %zu: got '%s', want '%s'", i, got, want);
  }
  /* no module: the stack, anonymous memory, an unmapped address */
  int local = 0;
  camp_crash_where((uint64_t)(uintptr_t)&local, got, sizeof got);
  CHECKF(!got[0], "a stack address: got '%s', want nothing", got);
  void *anon = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(anon != MAP_FAILED);
  camp_crash_where((uint64_t)(uintptr_t)anon + 100, got, sizeof got);
  CHECKF(!got[0], "anonymous code (as JIT code is): got '%s', want nothing", got);
  munmap(anon, 4096);
  camp_crash_where(16, got, sizeof got);
  CHECKF(!got[0], "address 16: got '%s', want nothing", got);
  /* a short buffer: the name cut, never overrun */
  char tiny[6];
  memset(tiny, 'x', sizeof tiny);
  camp_crash_where((uint64_t)(uintptr_t)&qsort, tiny, sizeof tiny);
  CHECKF(strlen(tiny) < sizeof tiny, "the short buffer is terminated ('%.6s')", tiny);
  return check_done();
}
