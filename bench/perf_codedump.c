/* perf_codedump.c - prints the JIT's code for generated cases, addresses masked, to diff builds. */
#include <capstone/capstone.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "jit.h"
#include "lower.h"

/* A speed-up of the JIT must not change its code: this prints every function (and the runner)
 * of cases START..START+N of SEED, disassembled, with every immediate or displacement above
 * 0xffff replaced by "A" (heap and code addresses differ between runs and builds), once without
 * options and once with each of the harness's options (rt_probe and host_fns change the code).
 * Two builds' outputs must be identical (doc/benchmarks.md). With "cases" as a fourth
 * argument it prints each case's .case text instead (af_print): a faster generator must
 * generate the same cases.
 *
 *   perf_codedump N [SEED [START [cases|code [divergent]]]] > out.txt */

static void dump(csh cs, const af_jit *j, int k) {
  const jit_fn_record *r = jit_record(j, k);
  if (!r || !r->size) return;
  cs_insn *ins;
  size_t n = cs_disasm(cs, (const uint8_t *)(uintptr_t)r->addr, r->size, 0, 0, &ins);
  printf(" f%d %zu insns, %llu bytes\n", k, n, (unsigned long long)r->size);
  for (size_t i = 0; i < n; i++) {
    char ops[160];
    snprintf(ops, sizeof ops, "%s", ins[i].op_str);
    /* mask long hex numbers (addresses): 0x followed by 5+ hex digits */
    char out[200];
    size_t o = 0;
    for (size_t p = 0; ops[p] && o < sizeof out - 2;) {
      if (ops[p] == '0' && ops[p + 1] == 'x') {
        size_t q = p + 2;
        while ((ops[q] >= '0' && ops[q] <= '9') || (ops[q] >= 'a' && ops[q] <= 'f'))
          q++;
        if (q - p - 2 >= 5) {
          out[o++] = 'A';
          p = q;
          continue;
        }
      }
      out[o++] = ops[p++];
    }
    out[o] = 0;
    printf("  %s %s\n", ins[i].mnemonic, out);
  }
  cs_free(ins, n);
}

static void sysv_dummy(void) {}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 100;
  uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 1;
  uint64_t start = argc > 3 ? strtoull(argv[3], NULL, 0) : 0;
  csh cs;
  if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK) return 2;
  af_gen_opts go;
  af_gen_opts_default(&go);
  go.allow_divergent = argc > 5 && !strcmp(argv[5], "divergent");
  for (uint64_t i = start; i < start + (uint64_t)n; i++) {
    af_case c;
    af_error err = {{0}};
    go.cc = (i & 1) ? AF_CC_WIN64 : AF_CC_SYSV;
    if (af_gen_case(&go, seed, i, &c, NULL, &err) != AF_OK) {
      printf("case %llu: gen failed\n", (unsigned long long)i);
      continue;
    }
    if (argc > 4 && !strcmp(argv[4], "cases")) {
      af_print(&c, stdout);
      af_case_free(&c);
      continue;
    }
    const void *host[AF_MAX_FUNCS] = {0};
    for (int k = 0; k < c.nfuncs; k++)
      if (c.funcs[k].host) host[k] = (const void *)sysv_dummy;
    for (int variant = 0; variant < 3; variant++) {
      af_jit_opts o = {0};
      if (variant >= 1) o.rt_probe = (const void *)sysv_dummy;
      if (variant == 2) o.host_fns = host;
      af_jit *j = NULL;
      af_status s = af_jit_compile(&c, &o, &j, &err);
      printf("case %llu variant %d: %s\n", (unsigned long long)i, variant, af_strerror(s));
      if (s == AF_OK) {
        for (int k = -1; k < c.nfuncs; k++)
          dump(cs, j, k);
        af_jit_free(j);
      }
    }
    af_case_free(&c);
  }
  cs_close(&cs);
  return 0;
}
