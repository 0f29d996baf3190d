/* stubs.c - a signature's caller and callee stubs as C text, named by a content hash. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "emit_internal.h"
#include "oracle.h"

/* Every stub file starts with this. The two structs must be the same as oracle.h's
 * af_stub_call / af_stub_ctx (test_stubs checks sizeof and offsets through a compiled
 * probe). Stub functions are noinline (gcc: noipa) so that every call is a real call
 * through the convention under test. */
static const char stub_prelude[] = "#if defined(__clang__)\n"
                                   "#define AF_FN __attribute__((noinline))\n"
                                   "#else\n"
                                   "#define AF_FN __attribute__((noinline, noipa))\n"
                                   "#endif\n"
                                   "#include <stdarg.h>\n"
                                   "#include <stddef.h>\n"
                                   "#include <stdint.h>\n"
                                   "#include <string.h>\n"
                                   "#define AF_REGION_SIZE 128\n"
                                   "typedef float af_m128 __attribute__((vector_size(16)));\n"
                                   "typedef float af_m256 __attribute__((vector_size(32)));\n"
                                   "typedef struct {\n"
                                   "  uint64_t id;\n"
                                   "  int32_t nargs;\n"
                                   "  int32_t overflow;\n"
                                   "  uint64_t ext[32];\n"
                                   "  unsigned char *args;\n"
                                   "  uint32_t cap;\n"
                                   "  int32_t ret_arg;\n"
                                   "  const unsigned char *ret;\n"
                                   "  const unsigned char *after;\n"
                                   "} af_stub_call;\n"
                                   "typedef struct {\n"
                                   "  int32_t ncalls;\n"
                                   "  int32_t max;\n"
                                   "  af_stub_call *calls;\n"
                                   "} af_stub_ctx;\n"
                                   "size_t af_stub_layout(int k) {\n"
                                   "  switch (k) {\n"
                                   "  case 0: return sizeof(af_stub_call);\n"
                                   "  case 1: return offsetof(af_stub_call, args);\n"
                                   "  case 2: return offsetof(af_stub_call, after);\n"
                                   "  case 3: return sizeof(af_stub_ctx);\n"
                                   "  default: return 0;\n"
                                   "  }\n"
                                   "}\n";

_Static_assert(AF_MAX_PARAMS == 32, "stub_prelude spells ext[32]");

af_status af_stub_prelude(FILE *out) {
  fputs(stub_prelude, out);
  return ferror(out) ? AF_ERR_IO : AF_OK;
}

static uint32_t arg_size(const af_case *c, int t) { return t == AF_T_PTR ? 8 : c->types[t].size; }

uint32_t af_stub_arg_offset(const af_case *c, const af_sig *sig, int i) {
  uint32_t off = 0;
  for (int k = 0; k < i && k < sig->nparams; k++)
    off += (arg_size(c, sig->params[k]) + 15u) & ~15u;
  return off;
}

/* ---- the text ---- */
typedef struct {
  const af_case *c;
  FILE *o;
  const char *p;           /* symbol prefix */
  int local[AF_MAX_TYPES]; /* type id -> local type number, -1 not (yet) written */
  int nlocal;
  af_status st;
} stub_emitter;

static const char *ctype(const stub_emitter *E, int t, char *buf, size_t n) {
  switch (t) {
  case AF_T_M128: return "af_m128";
  case AF_T_M256: return "af_m256";
  case AF_T_PTR: return "void *";
  default: break;
  }
  if (t < AF_T_NSCALAR) return af_scalar((af_kind)t)->c;
  snprintf(buf, n, "%st%d", E->p, E->local[t]);
  return buf;
}

/* Writes type t after every composite type it contains (post-order), numbered in the order
 * of first use, so that the text depends on the signature's shape, not on the case's ids. */
static const char *ctype_any(const void *E, int t, char *buf, size_t n) {
  return ctype(E, t, buf, n);
}

static void emit_type(stub_emitter *E, int t) {
  const af_case *c = E->c;
  if (t < AF_T_NSCALAR || E->local[t] >= 0) return;
  const af_type *ty = &c->types[t];
  if (ty->kind == AF_T_ARRAY) {
    emit_type(E, ty->elem);
  } else {
    for (int i = 0; i < ty->nfields; i++)
      emit_type(E, ty->fields[i].type);
  }
  E->local[t] = E->nlocal++;
  char b1[48];
  const char *name = ctype(E, t, b1, sizeof b1);
  emit_type_def(E->o, E->c, t, name, ctype_any, E);
  /* the compiler checks af_layout's numbers: a stub must see the case's layout */
  fprintf(E->o, "_Static_assert(sizeof(%s) == %u && _Alignof(%s) == %u, \"layout\");\n", name,
          ty->size, name, ty->alignment);
  if (ty->kind != AF_T_ARRAY)
    for (int i = 0; i < ty->nfields; i++)
      if (ty->fields[i].bits < 0)
        fprintf(E->o, "_Static_assert(offsetof(%s, f%d) == %u, \"offset\");\n", name, i,
                ty->fields[i].offset);
}

/* The stubs of sig with prefix p (id: the constant the callee records). */
static void emit_stubs(stub_emitter *E, const af_sig *sig, uint64_t id) {
  const af_case *c = E->c;
  FILE *o = E->o;
  const char *p = E->p;
  const char *attr = sig->cc == AF_CC_WIN64 ? "ms_abi" : "sysv_abi";
  int ms = sig->cc == AF_CC_WIN64;
  int named = sig->variadic ? sig->nfixed : sig->nparams;
  int rt = sig->ret;
  char b[48];
  for (int i = 0; i < AF_MAX_TYPES; i++)
    E->local[i] = -1;
  E->nlocal = 0;
  if (rt >= AF_T_NSCALAR && c->types[rt].kind == AF_T_ARRAY) E->st = AF_ERR_UNSUPPORTED;
  emit_type(E, rt);
  for (int i = 0; i < sig->nparams; i++) {
    int t = sig->params[i];
    if (t == AF_T_VOID || (t >= AF_T_NSCALAR && c->types[t].kind == AF_T_ARRAY))
      E->st = AF_ERR_UNSUPPORTED;
    emit_type(E, t);
  }
  /* the function type */
  fprintf(o, "typedef %s %sfn(", ctype(E, rt, b, sizeof b), p);
  if (named == 0) fprintf(o, "void");
  for (int i = 0; i < named; i++)
    fprintf(o, "%s%s", i ? ", " : "", ctype(E, sig->params[i], b, sizeof b));
  fprintf(o, "%s) __attribute__((%s));\n", sig->variadic ? ", ..." : "", attr);

  /* caller: arguments from args[i], the result to ret */
  fprintf(o, "void %scall(void *fn, void *const *args, void *ret) {\n", p);
  for (int i = 0; i < sig->nparams; i++)
    fprintf(o, "  %s a%d; memcpy(&a%d, args[%d], sizeof a%d);\n",
            ctype(E, sig->params[i], b, sizeof b), i, i, i, i);
  fprintf(o, "  ");
  if (rt != AF_T_VOID) fprintf(o, "%s r = ", ctype(E, rt, b, sizeof b));
  fprintf(o, "((%sfn *)fn)(", p);
  for (int i = 0; i < sig->nparams; i++)
    fprintf(o, "%sa%d", i ? ", " : "", i);
  fprintf(o, ");\n");
  if (rt != AF_T_VOID)
    fprintf(o, "  memcpy(ret, &r, sizeof r);\n");
  else
    fprintf(o, "  (void)ret;\n");
  fprintf(o, "}\n");

  /* callee: record, apply the memory effects, return the context's value */
  fprintf(o, "af_stub_ctx *%sctx;\n", p);
  fprintf(o, "AF_FN __attribute__((%s)) %s %scallee(", attr, ctype(E, rt, b, sizeof b), p);
  if (named == 0) fprintf(o, "void");
  for (int i = 0; i < named; i++)
    fprintf(o, "%s%s v%d", i ? ", " : "", ctype(E, sig->params[i], b, sizeof b), i);
  fprintf(o, "%s) {\n", sig->variadic ? ", ..." : "");
  /* The compiler's own widening of a narrow argument, first thing: clang relies on the
   * caller's extension (psABI de facto, gen.h AF_EXT_TO_32) only where it still knows the
   * argument came from a register, i.e. in the entry block; the volatile store keeps it
   * there instead of sinking it into the block that records. */
  for (int i = 0; i < sig->nparams; i++) {
    int t = sig->params[i];
    if (!af_ext_narrow(t)) continue;
    int sg = af_scalar((af_kind)t)->is_signed;
    fprintf(o, "  volatile uint64_t e%d = (uint64_t)%sv%d;\n", i, sg ? "(int64_t)" : "", i);
  }
  if (sig->variadic) {
    /* the variadic arguments, in order on entry (as emit_c.c reads them) */
    fprintf(o, "  %s ap;\n  %s(ap, v%d);\n", ms ? "__builtin_ms_va_list" : "va_list",
            ms ? "__builtin_ms_va_start" : "va_start", named - 1);
    for (int i = named; i < sig->nparams; i++) {
      const char *t = ctype(E, sig->params[i], b, sizeof b);
      uint32_t sz = arg_size(c, sig->params[i]);
      if (ms && sz != 1 && sz != 2 && sz != 4 && sz != 8)
        /* Win64 passes it by reference; gcc 12's __builtin_va_arg on an ms_va_list misreads
         * such types (see emit_c.c) */
        fprintf(o, "  %s v%d = *__builtin_va_arg(ap, %s *);\n", t, i, t);
      else
        fprintf(o, "  %s v%d = %s(ap, %s);\n", t, i, ms ? "__builtin_va_arg" : "va_arg", t);
    }
    fprintf(o, "  %s(ap);\n", ms ? "__builtin_ms_va_end" : "va_end");
  }
  fprintf(o, "  af_stub_ctx *x = %sctx;\n", p);
  fprintf(o, "  int n = x ? x->ncalls++ : 0;\n");
  fprintf(o, "  af_stub_call *k = x && n < x->max ? &x->calls[n] : 0;\n");
  fprintf(o, "  if (k) {\n    k->id = 0x%016" PRIx64 "ull;\n    k->nargs = %d;\n", id,
          sig->nparams);
  fprintf(o, "    if (k->args && k->cap >= %uu) {\n", af_stub_arg_offset(c, sig, sig->nparams));
  for (int i = 0; i < sig->nparams; i++)
    fprintf(o, "      memcpy(k->args + %uu, &v%d, sizeof v%d);\n", af_stub_arg_offset(c, sig, i), i,
            i);
  fprintf(o, "    } else {\n      k->overflow = 1;\n    }\n");
  for (int i = 0; i < sig->nparams; i++)
    if (af_ext_narrow(sig->params[i])) fprintf(o, "    k->ext[%d] = e%d;\n", i, i);
  for (int i = 0; i < sig->nparams; i++)
    if (sig->params[i] == AF_T_PTR)
      fprintf(o, "    if (k->after) memcpy(v%d, k->after + %d * AF_REGION_SIZE, AF_REGION_SIZE);\n",
              i, i);
  fprintf(o, "  }\n");
  if (rt != AF_T_VOID) {
    fprintf(o, "  %s r;\n  memset(&r, 0, sizeof r);\n", ctype(E, rt, b, sizeof b));
    fprintf(o, "  if (k && k->ret_arg < 0 && k->ret) memcpy(&r, k->ret, sizeof r);\n");
    if (rt == AF_T_PTR)
      for (int i = 0; i < sig->nparams; i++)
        if (sig->params[i] == AF_T_PTR) fprintf(o, "  if (k && k->ret_arg == %d) r = v%d;\n", i, i);
    fprintf(o, "  return r;\n");
  }
  fprintf(o, "}\n");
}

/* FNV-1a, 64 bits: the stub's name. */
static uint64_t fnv(const char *s, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++) {
    h ^= (uint8_t)s[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

static af_status emit_to(const af_case *c, const af_sig *sig, const char *prefix, uint64_t id,
                         char **text, size_t *len) {
  *text = NULL;
  *len = 0;
  FILE *m = open_memstream(text, len);
  if (!m) return AF_ERR_NOMEM;
  stub_emitter *E = calloc(1, sizeof *E);
  if (!E) {
    fclose(m);
    free(*text);
    *text = NULL;
    return AF_ERR_NOMEM;
  }
  E->c = c;
  E->o = m;
  E->p = prefix;
  E->st = AF_OK;
  fprintf(m, "/* stub %s %s */\n", prefix, af_cc_name(sig->cc));
  emit_stubs(E, sig, id);
  af_status st = E->st;
  if (ferror(m) && st == AF_OK) st = AF_ERR_IO;
  fclose(m);
  free(E);
  if (st != AF_OK) {
    free(*text);
    *text = NULL;
  }
  return st;
}

af_status af_stub_emit(const af_case *c, const af_sig *sig, af_stub_src *out, af_error *err) {
  memset(out, 0, sizeof *out);
  if (sig->nparams < 0 || sig->nparams > AF_MAX_PARAMS || sig->ret < 0 || sig->ret >= c->ntypes ||
      (sig->variadic && (sig->nfixed < 1 || sig->nfixed > sig->nparams))) {
    if (err) snprintf(err->msg, sizeof err->msg, "stubs: bad signature");
    return AF_ERR_INVALID;
  }
  for (int i = 0; i < sig->nparams; i++)
    if (sig->params[i] < 0 || sig->params[i] >= c->ntypes) {
      if (err) snprintf(err->msg, sizeof err->msg, "stubs: bad parameter type");
      return AF_ERR_INVALID;
    }
  /* the name is the hash of the text with a neutral prefix and id */
  char *neutral;
  size_t nlen;
  af_status st = emit_to(c, sig, "S_", 0, &neutral, &nlen);
  if (st != AF_OK) {
    if (err)
      snprintf(err->msg, sizeof err->msg, "stubs: %s",
               st == AF_ERR_UNSUPPORTED ? "a type C cannot pass" : af_strerror(st));
    return st;
  }
  out->hash = fnv(neutral, nlen);
  free(neutral);
  snprintf(out->prefix, sizeof out->prefix, "s%016" PRIx64 "_", out->hash);
  st = emit_to(c, sig, out->prefix, out->hash, &out->text, &out->len);
  if (st != AF_OK) {
    if (err) snprintf(err->msg, sizeof err->msg, "stubs: %s", af_strerror(st));
    return st;
  }
  out->needs_avx = af_type_has(c, sig->ret, AF_T_M256);
  out->needs_f16 = af_type_has(c, sig->ret, AF_T_F16);
  for (int i = 0; i < sig->nparams; i++) {
    out->needs_avx |= af_type_has(c, sig->params[i], AF_T_M256);
    out->needs_f16 |= af_type_has(c, sig->params[i], AF_T_F16);
  }
  return AF_OK;
}

void af_stub_src_free(af_stub_src *s) {
  free(s->text);
  s->text = NULL;
  s->len = 0;
}
