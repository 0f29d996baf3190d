/* be_csrc.c - the ext_code C of a case for the C-source backends, and the skip rules of the
 * compilers they drive (gcc, clang, tcc), each found by trying (doc/backends.md). */
#define _GNU_SOURCE /* open_memstream */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "be_csrc.h"
#include "oracle.h"

const char *be_cc_family_name(be_cc_family f) {
  switch (f) {
  case BE_CC_GCC: return "gcc";
  case BE_CC_CLANG: return "clang";
  case BE_CC_TCC: return "tcc";
  default: return "cc";
  }
}

af_status be_csrc_text(const af_case *c, const char *prefix, int prelude, char **out, size_t *len,
                       af_error *err) {
  char *buf = NULL;
  size_t n = 0;
  *out = NULL;
  FILE *f = open_memstream(&buf, &n);
  if (!f) {
    if (err) snprintf(err->msg, sizeof err->msg, "out of memory");
    return AF_ERR_NOMEM;
  }
  af_emit_opts o;
  af_emit_opts_default(&o);
  o.emit_prelude = prelude;
  o.emit_main = 0;
  o.prefix = prefix;
  o.ext_code = 1;
  af_status s = af_emit_c(c, &o, f, err);
  if (fclose(f) != 0 && s == AF_OK) {
    if (err) snprintf(err->msg, sizeof err->msg, "out of memory");
    s = AF_ERR_NOMEM;
  }
  if (s != AF_OK) {
    free(buf);
    return s;
  }
  *out = buf;
  *len = n;
  return AF_OK;
}

uint64_t be_csrc_hash(const void *p, size_t n) {
  const unsigned char *b = p;
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++) {
    h ^= b[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

/* tcc 0.9.27 (Debian's 0.9.27+git20200814), found by compiling small files:
 * - no __int128, _Float16, _Complex (nor __real__/__imag__); vector_size is accepted and
 *   silently ignored (sizeof a "vector" is its element's);
 * - __attribute__((ms_abi)) is accepted and silently ignored: the function keeps the SysV
 *   convention (RDI, RSI...), so a Win64 case would only test tcc against a wrong
 *   declaration (backend's supports_cc says so before this is reached);
 * - __attribute__((aligned(N))) after a struct's closing brace is ignored (sizeof and
 *   _Alignof stay the natural ones; _Alignas on a member works), and so is packed, in any
 *   position (struct {char; int;} packed has size 8);
 * - an unnamed bit-field whose type is a typedef name (`uint64_t : 0;`) is a syntax error. */
static const char *tcc_skip(const af_case *c, unsigned needs) {
  if (needs & AF_NEED_INT128) return "tcc has no __int128";
  if (needs & AF_NEED_F16) return "tcc has no _Float16";
  if (needs & AF_NEED_COMPLEX) return "tcc has no _Complex";
  if (needs & AF_NEED_VECTOR) return "tcc has no vector types";
  if (needs & AF_NEED_MS_ABI) return "tcc ignores ms_abi";
  for (int t = AF_T_NSCALAR; t < c->ntypes; t++) {
    const af_type *ty = &c->types[t];
    if (ty->kind == AF_T_ARRAY) continue;
    if (ty->align) return "tcc ignores aligned(N) on a struct";
    if (ty->packed) return "tcc ignores packed";
    for (int i = 0; i < ty->nfields; i++)
      if (ty->fields[i].bits == 0) return "tcc cannot parse an unnamed bit-field of a typedef";
  }
  return NULL;
}

/* A signature the external code and the JIT both see: the JIT's runner calls the entry,
 * the external code calls the host functions. gen/abi.c's table lists what this compiler
 * does differently from af_classify (which the runner and the host code follow). */
static const char *divergent(const be_cc_id *id, const af_case *c) {
  if (id->family != BE_CC_GCC && id->family != BE_CC_CLANG) return NULL;
  af_family fam = id->family == BE_CC_GCC ? AF_FAMILY_GCC : AF_FAMILY_CLANG;
  for (int k = 0; k < c->nfuncs; k++) {
    if (k != c->entry && !c->funcs[k].host) continue;
    if (af_abi_deviates(c, &c->funcs[k].sig, fam, id->major, NULL))
      return "the compiler lowers this signature differently (known, gen/abi.c)";
  }
  return NULL;
}

const char *be_csrc_skip(const be_cc_id *id, const af_case *c) {
  unsigned needs = af_emit_c_needs(c);
  if (id->family == BE_CC_TCC) return tcc_skip(c, needs);
  if ((needs & AF_NEED_M256) && !id->has_avx) return "__m256 needs AVX: the command has no -mavx";
  if ((needs & AF_NEED_F16) && id->family == BE_CC_CLANG && id->major > 0 && id->major < 15)
    return "clang < 15 has no _Float16 on x86-64";
  return divergent(id, c);
}
