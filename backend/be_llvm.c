/* be_llvm.c - the llvm backend kind: one ORC LLJIT per backend, one resource tracker per case. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Error.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Object.h>
#include <llvm-c/Orc.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include "be_llvm_internal.h"

/* The optimisation level comes from ABIFUZZ_LLVM_OPT (0-3; the kind takes no argument):
 * the IR pipeline default<ON> (LLVMRunPasses) and the code generator's level. Measured on
 * default-weight cases (test_backend_llvm bench, 2 busy cores): -O0 ~200 cases/s, -O1 ~60,
 * -O2 ~53, -O3 ~44 (compile only; link and run add ~0.3 ms). Default 2: the level clang users
 * ship, where SROA/instcombine rewrite the coerced argument copies and calls are lowered by
 * SelectionDAG; -O0 (4x faster) lowers simple calls with FastISel instead, another
 * implementation of the same conventions: worth a campaign of its own. */
#define LLVM_OPT_DEFAULT 2

typedef struct {
  LLVMOrcLLJITRef jit;
  LLVMOrcJITDylibRef jd;
  LLVMTargetMachineRef tm; /* the pass pipeline's (TargetTransformInfo) */
  int opt;
  unsigned long serial; /* symbol prefix c<serial>_: one per case */
  char reported[256];   /* the last error ORC reported outside a returned LLVMErrorRef */
  /* the case being compiled: its prefix, and its functions' sizes from the object's symbol
   * table (seen by the object transform, which runs inside the lookup that compiles) */
  char prefix[32];
  size_t size[AF_MAX_FUNCS];
} llvm_state;

typedef struct {
  LLVMOrcResourceTrackerRef rt;
} llvm_unit;

/* Takes (consumes) e; 1 if it was an error, its text in err. */
static int take_error(LLVMErrorRef e, af_error *err, const char *what) {
  if (!e) return 0;
  char *msg = LLVMGetErrorMessage(e);
  if (err) snprintf(err->msg, sizeof err->msg, "llvm: %s: %.180s", what, msg ? msg : "?");
  LLVMDisposeErrorMessage(msg);
  return 1;
}

static void on_report(void *ctx, LLVMErrorRef e) {
  llvm_state *st = ctx;
  af_error tmp;
  take_error(e, &tmp, "orc");
  snprintf(st->reported, sizeof st->reported, "%s", tmp.msg);
}

/* Reads the ELF symbol sizes of the case's functions (<prefix>f<k>) from the object ORC is
 * about to link; the object itself is left as it is. */
static LLVMErrorRef on_object(void *ctx, LLVMMemoryBufferRef *obj) {
  llvm_state *st = ctx;
  char *msg = NULL;
  LLVMBinaryRef bin = LLVMCreateBinary(*obj, NULL, &msg);
  LLVMDisposeMessage(msg);
  if (!bin) return NULL; /* no sizes: af_jit_ext.size stays 0 */
  size_t pl = strlen(st->prefix);
  LLVMSymbolIteratorRef si = LLVMObjectFileCopySymbolIterator(bin);
  for (; si && !LLVMObjectFileIsSymbolIteratorAtEnd(bin, si); LLVMMoveToNextSymbol(si)) {
    const char *name = LLVMGetSymbolName(si);
    if (!name || strncmp(name, st->prefix, pl) || name[pl] != 'f') continue;
    char *end;
    long k = strtol(name + pl + 1, &end, 10);
    if (!*end && end != name + pl + 1 && k >= 0 && k < AF_MAX_FUNCS)
      st->size[k] = (size_t)LLVMGetSymbolSize(si);
  }
  if (si) LLVMDisposeSymbolIterator(si);
  LLVMDisposeBinary(bin);
  return NULL;
}

static LLVMTargetMachineRef make_tm(int opt, af_error *err) {
  char *triple = LLVMGetDefaultTargetTriple(), *msg = NULL;
  LLVMTargetRef target;
  LLVMTargetMachineRef tm = NULL;
  if (LLVMGetTargetFromTriple(triple, &target, &msg)) {
    snprintf(err->msg, sizeof err->msg, "llvm: no target for %s: %s", triple, msg ? msg : "?");
  } else {
    static const LLVMCodeGenOptLevel lv[4] = {LLVMCodeGenLevelNone, LLVMCodeGenLevelLess,
                                              LLVMCodeGenLevelDefault, LLVMCodeGenLevelAggressive};
    /* generic x86-64 (SSE2), as clang without -march: functions with __m256 get +avx */
    tm = LLVMCreateTargetMachine(target, triple, "x86-64", "", lv[opt], LLVMRelocDefault,
                                 LLVMCodeModelJITDefault);
    if (!tm) snprintf(err->msg, sizeof err->msg, "llvm: cannot create a target machine");
  }
  LLVMDisposeMessage(msg);
  LLVMDisposeMessage(triple);
  return tm;
}

static void llvm_close(void *state) {
  llvm_state *st = state;
  if (!st) return;
  if (st->jit) LLVMConsumeError(LLVMOrcDisposeLLJIT(st->jit));
  if (st->tm) LLVMDisposeTargetMachine(st->tm);
  free(st);
}

/* Libcalls the code generator may emit (memcpy, __truncxfhf2, __floattisf ...) resolve
 * against this process and libgcc_s (which has the _Float16 conversions since gcc 12). */
static af_status add_generators(llvm_state *st, af_error *err) {
  char gp = LLVMOrcLLJITGetGlobalPrefix(st->jit);
  LLVMOrcDefinitionGeneratorRef g = NULL;
  if (take_error(LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(&g, gp, NULL, NULL), err,
                 "process symbols"))
    return AF_ERR_UNSUPPORTED;
  LLVMOrcJITDylibAddGenerator(st->jd, g);
  g = NULL;
  LLVMErrorRef e =
      LLVMOrcCreateDynamicLibrarySearchGeneratorForPath(&g, "libgcc_s.so.1", gp, NULL, NULL);
  if (e)
    LLVMConsumeError(e); /* without it: only what the process has */
  else
    LLVMOrcJITDylibAddGenerator(st->jd, g);
  return AF_OK;
}

static af_status llvm_open(const char *arg, void **state, af_error *err) {
  (void)arg;
  *state = NULL;
  if (LLVMInitializeNativeTarget() || LLVMInitializeNativeAsmPrinter()) {
    snprintf(err->msg, sizeof err->msg, "llvm: the native target is not available");
    return AF_ERR_UNSUPPORTED;
  }
  llvm_state *st = calloc(1, sizeof *st);
  if (!st) {
    snprintf(err->msg, sizeof err->msg, "llvm: out of memory");
    return AF_ERR_NOMEM;
  }
  st->opt = LLVM_OPT_DEFAULT;
  const char *o = getenv("ABIFUZZ_LLVM_OPT");
  if (o && o[0] >= '0' && o[0] <= '3' && !o[1]) st->opt = o[0] - '0';
  LLVMTargetMachineRef jtm = NULL;
  if (!(st->tm = make_tm(st->opt, err)) || !(jtm = make_tm(st->opt, err))) {
    llvm_close(st);
    return AF_ERR_UNSUPPORTED;
  }
  LLVMOrcLLJITBuilderRef jb = LLVMOrcCreateLLJITBuilder();
  LLVMOrcLLJITBuilderSetJITTargetMachineBuilder(
      jb, LLVMOrcJITTargetMachineBuilderCreateFromTargetMachine(jtm));
  if (take_error(LLVMOrcCreateLLJIT(&st->jit, jb), err, "cannot create the LLJIT")) {
    st->jit = NULL;
    llvm_close(st);
    return AF_ERR_UNSUPPORTED;
  }
  LLVMOrcExecutionSessionSetErrorReporter(LLVMOrcLLJITGetExecutionSession(st->jit), on_report, st);
  st->jd = LLVMOrcLLJITGetMainJITDylib(st->jit);
  LLVMOrcObjectTransformLayerSetTransform(LLVMOrcLLJITGetObjTransformLayer(st->jit), on_object, st);
  af_status s = add_generators(st, err);
  if (s != AF_OK) {
    llvm_close(st);
    return s;
  }
  *state = st;
  return AF_OK;
}

static void llvm_release(af_backend_code *code) {
  llvm_unit *u = code->priv;
  if (!u) return;
  if (u->rt) {
    LLVMConsumeError(LLVMOrcResourceTrackerRemove(u->rt));
    LLVMOrcReleaseResourceTracker(u->rt);
  }
  free(u);
  code->priv = NULL;
}

static af_status optimise(llvm_state *st, LLVMModuleRef mod, af_error *err) {
  if (st->opt == 0) return AF_OK;
  static const char *const pipe[4] = {"", "default<O1>", "default<O2>", "default<O3>"};
  LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
  LLVMErrorRef e = LLVMRunPasses(mod, pipe[st->opt], st->tm, po);
  LLVMDisposePassBuilderOptions(po);
  return take_error(e, err, "the pass pipeline failed") ? AF_ERR_INVALID : AF_OK;
}

static af_status llvm_compile(void *state, const af_case *c, af_backend_code *code,
                              const char **skip, af_error *err) {
  llvm_state *st = state;
  char *prefix = st->prefix;
  snprintf(st->prefix, sizeof st->prefix, "c%lu_", ++st->serial);
  memset(st->size, 0, sizeof st->size);
  LLVMOrcThreadSafeContextRef tsc = LLVMOrcCreateNewThreadSafeContext();
  bl_mod m;
  memset(&m, 0, sizeof m);
  m.err = err;
  LLVMModuleRef mod = NULL;
  af_status s = bl_build(&m, c, code, LLVMOrcThreadSafeContextGetContext(tsc), prefix, &mod);
  if (s == AF_OK) {
    LLVMSetTarget(mod, LLVMOrcLLJITGetTripleString(st->jit));
    LLVMSetDataLayout(mod, LLVMOrcLLJITGetDataLayoutStr(st->jit));
    s = optimise(st, mod, err);
    if (s != AF_OK) LLVMDisposeModule(mod);
  }
  if (s != AF_OK) {
    *skip = m.skip;
    LLVMOrcDisposeThreadSafeContext(tsc);
    return s;
  }
  LLVMOrcThreadSafeModuleRef tsm = LLVMOrcCreateNewThreadSafeModule(mod, tsc);
  LLVMOrcDisposeThreadSafeContext(tsc); /* the module keeps its own reference */
  llvm_unit *u = calloc(1, sizeof *u);
  if (!u) {
    LLVMOrcDisposeThreadSafeModule(tsm);
    snprintf(err->msg, sizeof err->msg, "llvm: out of memory");
    return AF_ERR_NOMEM;
  }
  u->rt = LLVMOrcJITDylibCreateResourceTracker(st->jd);
  code->priv = u;
  code->release = llvm_release;
  if (take_error(LLVMOrcLLJITAddLLVMIRModuleWithRT(st->jit, u->rt, tsm), err, "adding the module"))
    return AF_ERR_INVALID;
  st->reported[0] = 0;
  for (int k = 0; k < c->nfuncs; k++) {
    if (c->funcs[k].host) continue;
    char name[64];
    snprintf(name, sizeof name, "%sf%d", prefix, k);
    LLVMOrcExecutorAddress addr = 0;
    if (take_error(LLVMOrcLLJITLookup(st->jit, &addr, name), err, "compiling the case")) {
      if (st->reported[0]) snprintf(err->msg, sizeof err->msg, "%s", st->reported);
      return AF_ERR_INVALID;
    }
    code->ext.fn[k] = (const void *)(uintptr_t)addr;
    code->ext.size[k] = st->size[k]; /* 0 if the object did not say */
  }
  return AF_OK;
}

const be_kind be_kind_llvm = {
    .kind = "llvm",
    .usage = "llvm",
    .desc = "LLVM ORC (LLJIT) through the LLVM C API (llvm-19-dev); ABIFUZZ_LLVM_OPT=0-3",
    .has_arg = 0,
    .open = llvm_open,
    .close = llvm_close,
    .supports_cc = NULL,
    .compile = llvm_compile,
    .prefetch = NULL,
};
