/* test_jit_share.c - one compile shared by several users: af_jit_retain and af_jit_set_fns. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "gen.h"
#include "jit.h"

#define SEED   0x5ea7e
#define NCASES 60

/* Stands in for every function in the table; if a compile still called it after its table was
 * set back, the checksum would (almost always) differ from the interpreter's. */
static uint64_t bogus(void) { return 0x5a5a5a5a5a5a5a5aull; }

static int run_ok(af_jit *j, const af_case *c, const af_interp_result *want, int i) {
  af_jit_result res;
  memset(&res, 0, sizeof res);
  af_error err = {{0}};
  af_status s = af_jit_run(j, NULL, &res, &err);
  int ok = s == AF_OK && res.checksum == want->checksum;
  CHECKF(ok, "case %d: %s, checksum %llx want %llx", i, af_strerror(s),
         (unsigned long long)res.checksum, (unsigned long long)want->checksum);
  af_jit_result_free(&res);
  (void)c;
  return ok;
}

int main(void) {
  af_gen_opts go;
  af_gen_opts_default(&go);
  int ran = 0;
  for (int i = 0; i < NCASES; i++) {
    af_case c;
    af_error err = {{0}};
    if (af_gen_case(&go, SEED, (uint64_t)i, &c, NULL, &err) != AF_OK) {
      af_case_free(&c);
      continue;
    }
    af_interp_result want;
    memset(&want, 0, sizeof want);
    af_jit *j = NULL;
    if (af_interp(&c, 0, &want, &err) != AF_OK || af_jit_compile(&c, NULL, &j, &err) != AF_OK) {
      af_interp_result_free(&want);
      af_case_free(&c);
      continue;
    }
    ran++;
    /* a compile made with host_fns, and one made without whose table is then set */
    const void *host[AF_MAX_FUNCS] = {0};
    for (int k = 0; k < c.nfuncs; k++)
      host[k] = (const void *)bogus;
    af_jit_opts o = {0};
    o.host_fns = host;
    af_jit *h = NULL;
    CHECK(af_jit_compile(&c, &o, &h, &err) == AF_OK);
    af_jit_set_fns(j, host);
    for (int k = 0; k < c.nfuncs; k++) {
      CHECKF(af_jit_fn(j, k) == (const void *)bogus, "case %d f%d: set_fns(host)", i, k);
      CHECKF(af_jit_fn(h, k) == (const void *)bogus, "case %d f%d: compile(host)", i, k);
      CHECKF(af_jit_code(j, k) != (const void *)bogus, "case %d f%d: code", i, k);
    }
    /* back to no host code: the JIT's own code, as a fresh compile has it */
    af_jit_set_fns(j, NULL);
    for (int k = 0; k < c.nfuncs; k++)
      CHECKF(af_jit_fn(j, k) == af_jit_code(j, k), "case %d f%d: set_fns(NULL)", i, k);
    run_ok(j, &c, &want, i);
    if (h) {
      af_jit_set_fns(h, NULL); /* a compile made with host_fns serves without them too */
      run_ok(h, &c, &want, i);
    }
    /* a second reference keeps the code alive after the first is dropped */
    CHECK(af_jit_retain(j) == j);
    af_jit_free(j);
    run_ok(j, &c, &want, i);
    af_jit_free(j);
    af_jit_free(h);
    CHECK(af_jit_retain(NULL) == NULL);
    af_interp_result_free(&want);
    af_case_free(&c);
  }
  CHECKF(ran >= NCASES / 2, "only %d of %d cases ran", ran, NCASES);
  return check_done();
}
