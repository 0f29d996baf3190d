/* repro.c - writes a finding's reproducer directory: the case, the oracle's C, a C caller, a
 * main that runs the JIT (with the mutant) against them, a CMakeLists.txt and build.sh. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "oracle.h"
#include "repro.h"

/* The source tree this file was compiled from (the reproducer builds against it):
 * $ABIFUZZ_SOURCE_DIR, else __FILE__ without "/harness/repro.c". */
static void source_dir(char *out, size_t n) {
  const char *env = getenv("ABIFUZZ_SOURCE_DIR");
  if (env && *env) {
    snprintf(out, n, "%s", env);
    return;
  }
  snprintf(out, n, "%s", __FILE__);
  char *p = strstr(out, "/harness/repro.c");
  if (p)
    *p = 0;
  else
    snprintf(out, n, ".");
}

static FILE *open_in(const char *dir, const char *name, af_error *err) {
  char path[4400];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (!f) snprintf(err->msg, sizeof err->msg, "cannot write '%.180s': %s", path, strerror(errno));
  return f;
}

static af_status close_file(FILE *f, af_status s, af_error *err) {
  if (fclose(f) && s == AF_OK) {
    snprintf(err->msg, sizeof err->msg, "write error: %s", strerror(errno));
    return AF_ERR_IO;
  }
  return s;
}

/* A C string literal's contents (the names written are [a-z0-9-] but stay safe). */
static void put_str(FILE *f, const char *s) {
  for (; s && *s; s++)
    if (*s == '"' || *s == '\\')
      fprintf(f, "\\%c", *s);
    else if ((unsigned char)*s >= 32 && (unsigned char)*s < 127)
      fputc(*s, f);
}

static const char main_head[] =
    "#include <signal.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n"
    "#include <unistd.h>\n\n#include \"gen.h\"\n#include \"jit.h\"\n#include \"legs.h\"\n\n"
    "#ifndef REPRO_DIR\n#define REPRO_DIR \".\"\n#endif\n";

static const char main_body[] =
    "uint64_t oracle_run(void);  /* oracle.c: the case compiled as C */\n"
    "uint64_t caller_run(void);  /* caller.c: the C caller, through caller_entry_ptr */\n"
    "extern void *caller_entry_ptr;\n"
    "unsigned char *caller_objects(int k);\n\n"
    "static uint64_t want;\n\n"
    "/* A crash or a hang of the code under test is the mismatch. */\n"
    "static void on_signal(int sig) {\n"
    "  char buf[200];\n"
    "  int n = snprintf(buf, sizeof buf, \"mismatch: expected checksum 0x%016llx got %s (signal "
    "%d)\\n\",\n"
    "                   (unsigned long long)want, sig == SIGALRM ? \"a hang\" : \"a crash\", "
    "sig);\n"
    "  if (write(1, buf, (size_t)n) < 0) _exit(1);\n"
    "  _exit(1);\n"
    "}\n\n"
    "static void guard(int on) {\n"
    "  int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGALRM};\n"
    "  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)\n"
    "    signal(sigs[i], on ? on_signal : SIG_DFL);\n"
    "  alarm(on ? 10 : 0);\n"
    "}\n\n"
    "static void sk_begin(void *u, const af_job *j, const char *leg) { (void)u, (void)j, "
    "(void)leg; }\n"
    "static void sk_end(void *u, const af_job *j, const char *leg, af_leg_verdict v,\n"
    "                   const char *reason, const af_finding *f, int nf) {\n"
    "  (void)j;\n"
    "  if (v == AF_LEG_SKIP) printf(\"leg %s skipped the case: %s\\n\", leg, reason ? reason : "
    "\"\");\n"
    "  for (int i = 0; i < nf; i++)\n"
    "    printf(\"mismatch: %s %s %s: %s\\n\", f[i].leg, f[i].check, f[i].what, f[i].detail);\n"
    "  if (nf > 0) *(int *)u = 1;\n"
    "}\n\n"
    "int main(int argc, char **argv) {\n"
    "  const char *path = argc > 1 ? argv[1] : REPRO_DIR \"/case.case\";\n"
    "  if (argc > 2) inject = argv[2]; /* \"\": the correct JIT */\n"
    "  setvbuf(stdout, NULL, _IOLBF, 0);\n"
    "  af_case c;\n"
    "  af_error err = {{0}};\n"
    "  if (af_parse_file(path, &c, &err) != AF_OK) {\n"
    "    fprintf(stderr, \"%s\\n\", err.msg);\n"
    "    return 2;\n"
    "  }\n"
    "  want = oracle_run();\n"
    "  printf(\"finding: %s %s%s%s\\n\", leg_name, check_name, *inject ? \", JIT mutant \" : \"\", "
    "inject);\n"
    "  printf(\"oracle (the case as C): checksum 0x%016llx\\n\", (unsigned long long)want);\n"
    "  af_jit_opts o;\n"
    "  memset(&o, 0, sizeof o);\n"
    "  o.inject = *inject ? inject : NULL;\n"
    "  af_jit *jit = NULL;\n"
    "  if (af_jit_compile(&c, &o, &jit, &err) != AF_OK) {\n"
    "    fprintf(stderr, \"the JIT refused the case: %s\\n\", err.msg);\n"
    "    return 2;\n"
    "  }\n"
    "  uint8_t *objs[AF_MAX_OBJECTS] = {0};\n"
    "  for (int k = 0; k < c.nobjects; k++) objs[k] = caller_objects(k);\n"
    "  af_jit_set_objects(jit, objs, c.nobjects);\n"
    "  caller_entry_ptr = (void *)af_jit_fn(jit, c.entry);\n"
    "  int fail = 0;\n"
    "  guard(1);\n"
    "  uint64_t got = caller_run();\n"
    "  guard(0);\n"
    "  if (got != want) {\n"
    "    printf(\"mismatch: expected checksum 0x%016llx got 0x%016llx (C caller -> JIT "
    "entry)\\n\",\n"
    "           (unsigned long long)want, (unsigned long long)got);\n"
    "    fail = 1;\n"
    "  } else {\n"
    "    printf(\"C caller -> JIT entry: checksum 0x%016llx, as the oracle\\n\", (unsigned long "
    "long)got);\n"
    "  }\n"
    "  af_jit_set_objects(jit, NULL, 0);\n"
    "  af_jit_free(jit);\n"
    "  /* the leg that found it, in this process: its own checks (registers, canaries...) */\n"
    "  const af_leg *leg = af_leg_find(leg_name);\n"
    "  af_legs_cfg lc;\n"
    "  memset(&lc, 0, sizeof lc);\n"
    "  lc.inject = o.inject;\n"
    "  lc.seed = 1;\n"
    "  for (int k = 0; k < (int)(sizeof ccs / sizeof ccs[0]) && k < AF_MAX_ORACLE_CC; k++)\n"
    "    if (ccs[k][0]) lc.cc[lc.ncc++] = ccs[k];\n"
    "  void *state = NULL;\n"
    "  if (leg && leg->init(&lc, &state, &err) == AF_OK) {\n"
    "    af_job *jb = calloc(1, sizeof *jb);\n"
    "    if (!jb) return 3;\n"
    "    jb->refs = 1;\n"
    "    jb->seed = 1;\n"
    "    jb->cfg = &lc;\n"
    "    if (af_parse_file(path, &jb->c, &err) != AF_OK ||\n"
    "        af_interp(&jb->c, 0, &jb->want, &err) != AF_OK) {\n"
    "      fprintf(stderr, \"%s\\n\", err.msg);\n"
    "      return 2;\n"
    "    }\n"
    "    int hit = 0;\n"
    "    af_leg_sink sk = {&hit, sk_begin, sk_end};\n"
    "    guard(1);\n"
    "    leg->submit(state, jb, &sk);\n"
    "    if (leg->poll) leg->poll(state, &sk, 1);\n"
    "    guard(0);\n"
    "    af_job_unref(jb);\n"
    "    if (leg->fini) leg->fini(state);\n"
    "    fail |= hit;\n"
    "  } else {\n"
    "    printf(\"leg %s is not available here: %s\\n\", leg_name, err.msg);\n"
    "  }\n"
    "  af_case_free(&c);\n"
    "  if (!fail) printf(\"ok\\n\");\n"
    "  return fail;\n"
    "}\n";

static af_status write_main(const af_case *c, const char *dir, const char *leg, const char *check,
                            const char *inject, af_error *err) {
  (void)c;
  FILE *f = open_in(dir, "main.c", err);
  if (!f) return AF_ERR_IO;
  fprintf(f, "/* main.c - reproducer of an abifuzz finding (written by abifuzz reduce --repro): "
             "the JIT-compiled\n * case called from a C caller, against the case compiled as C; "
             "then the leg that found it. */\n");
  fputs(main_head, f);
  fputs("static const char *leg_name = \"", f), put_str(f, leg);
  fputs("\", *check_name = \"", f), put_str(f, check);
  fputs("\";\nstatic const char *inject = \"", f), put_str(f, inject ? inject : "");
  fputs("\";\n/* compilers of the compiled-C legs */\nstatic const char *const ccs[] = {\"", f);
  put_str(f, AF_DEFAULT_CLANG);
  fputs("\", \"", f), put_str(f, AF_DEFAULT_GCC);
  fputs("\"};\n\n", f);
  fputs(main_body, f);
  return close_file(f, AF_OK, err);
}

static const char cmake_text[] =
    "cmake_minimum_required(VERSION 3.25)\n"
    "project(abifuzz_repro C ASM)\n"
    "set(CMAKE_C_STANDARD 11)\n"
    "set(CMAKE_C_EXTENSIONS ON)\n"
    "if(NOT CMAKE_BUILD_TYPE)\n  set(CMAKE_BUILD_TYPE RelWithDebInfo)\nendif()\n"
    "# ABIFUZZ_BINARY_DIR: link the libraries of an existing abifuzz build (fast); otherwise\n"
    "# they are compiled here from the sources.\n"
    "set(ABIFUZZ_BINARY_DIR \"\" CACHE PATH \"an abifuzz build directory (optional)\")\n"
    "set(S ${ABIFUZZ_SOURCE_DIR})\n"
    "find_package(PkgConfig REQUIRED)\n"
    "find_package(Threads REQUIRED)\n"
    "pkg_check_modules(FFI REQUIRED libffi IMPORTED_TARGET)\n"
    "pkg_check_modules(CAPSTONE capstone IMPORTED_TARGET)\n"
    "pkg_check_modules(UNICORN unicorn IMPORTED_TARGET)\n"
    "set(AF_INC ${S}/gen ${S}/jit ${S}/oracle ${S}/harness ${S}/reports ${S}/backend\n"
    "  ${S}/include)\n"
    "# backend/: only its dispatcher and the import table (the builtin backend, our JIT)\n"
    "set(AF_BE_SRC ${S}/backend/backend.c ${S}/backend/imports.c)\n"
    "if(ABIFUZZ_BINARY_DIR)\n"
    "  add_library(abifuzz_be STATIC ${AF_BE_SRC})\n"
    "  target_include_directories(abifuzz_be PRIVATE ${AF_INC})\n"
    "  set(AF_LIBS)\n"
    "  foreach(l afharness afreports)\n"
    "    if(EXISTS ${ABIFUZZ_BINARY_DIR}/lib${l}.a)\n"
    "      list(APPEND AF_LIBS ${ABIFUZZ_BINARY_DIR}/lib${l}.a)\n"
    "    endif()\n"
    "  endforeach()\n"
    "  list(APPEND AF_LIBS abifuzz_be)\n"
    "  foreach(l afjit aforacle afgen)\n"
    "    if(EXISTS ${ABIFUZZ_BINARY_DIR}/lib${l}.a)\n"
    "      list(APPEND AF_LIBS ${ABIFUZZ_BINARY_DIR}/lib${l}.a)\n"
    "    endif()\n"
    "  endforeach()\n"
    "else()\n"
    "  file(GLOB AF_SRC ${S}/gen/*.c ${S}/jit/*.c ${S}/oracle/*.c ${S}/reports/*.c\n"
    "       ${S}/harness/*.c ${S}/harness/*.S ${AF_BE_SRC})\n"
    "  list(REMOVE_ITEM AF_SRC ${S}/harness/main.c)\n"
    "  add_library(abifuzz_libs STATIC ${AF_SRC})\n"
    "  target_include_directories(abifuzz_libs PRIVATE ${AF_INC})\n"
    "  target_compile_definitions(abifuzz_libs PRIVATE AF_DEFAULT_CLANG=\"${AF_CLANG}\"\n"
    "    AF_DEFAULT_GCC=\"${AF_GCC}\")\n"
    "  target_link_libraries(abifuzz_libs PUBLIC PkgConfig::FFI Threads::Threads)\n"
    "  if(CAPSTONE_FOUND)\n"
    "    target_compile_definitions(abifuzz_libs PRIVATE AF_HAVE_CAPSTONE=1)\n"
    "    target_link_libraries(abifuzz_libs PUBLIC PkgConfig::CAPSTONE)\n"
    "  endif()\n"
    "  if(UNICORN_FOUND)\n"
    "    target_compile_definitions(abifuzz_libs PRIVATE AF_HAVE_UNICORN=1)\n"
    "    target_link_libraries(abifuzz_libs PUBLIC PkgConfig::UNICORN)\n"
    "  endif()\n"
    "  set(AF_LIBS abifuzz_libs)\n"
    "endif()\n"
    "add_executable(repro main.c oracle.c caller.c)\n"
    "target_include_directories(repro PRIVATE ${AF_INC})\n"
    "target_compile_definitions(repro PRIVATE REPRO_DIR=\"${CMAKE_CURRENT_SOURCE_DIR}\")\n"
    "set_source_files_properties(oracle.c caller.c PROPERTIES COMPILE_OPTIONS\n"
    "  \"-Wno-psabi;-ffp-contract=off${AF_EXTRA_FLAGS}\")\n"
    "target_link_libraries(repro PRIVATE ${AF_LIBS} PkgConfig::FFI Threads::Threads\n"
    "  ${CMAKE_DL_LIBS} m)\n"
    "if(CAPSTONE_FOUND)\n  target_link_libraries(repro PRIVATE PkgConfig::CAPSTONE)\nendif()\n"
    "if(UNICORN_FOUND)\n  target_link_libraries(repro PRIVATE PkgConfig::UNICORN)\nendif()\n";

static af_status write_jit_repro(const af_case *c, const char *leg, const char *check,
                                 const char *inject, const char *dir, af_error *err) {
  af_emit_opts eo;
  af_emit_opts_default(&eo);
  eo.emit_main = 0;
  eo.prefix = "oracle_";
  FILE *f = open_in(dir, "oracle.c", err);
  if (!f) return AF_ERR_IO;
  af_status s = close_file(f, af_emit_c(c, &eo, f, err), err);
  if (s != AF_OK) return s;
  eo.prefix = "caller_";
  eo.extern_entry = 1;
  if (!(f = open_in(dir, "caller.c", err))) return AF_ERR_IO;
  s = close_file(f, af_emit_c(c, &eo, f, err), err);
  if (s != AF_OK) return s;
  if ((s = write_main(c, dir, leg, check, inject, err)) != AF_OK) return s;

  char src[4096];
  source_dir(src, sizeof src);
  if (!(f = open_in(dir, "CMakeLists.txt", err))) return AF_ERR_IO;
  fprintf(f, "# CMakeLists.txt - builds the reproducer of an abifuzz finding: %s %s%s%s.\n", leg,
          check, inject ? ", mutant " : "", inject ? inject : "");
  fprintf(f, "# Written by abifuzz reduce --repro; sh build.sh configures, builds and runs it.\n");
  fprintf(f, "set(ABIFUZZ_SOURCE_DIR \"%s\" CACHE PATH \"the abifuzz source tree\")\n", src);
  fprintf(f, "set(AF_CLANG \"%s\" CACHE STRING \"\")\nset(AF_GCC \"%s\" CACHE STRING \"\")\n",
          AF_DEFAULT_CLANG, AF_DEFAULT_GCC);
  fprintf(f, "set(AF_EXTRA_FLAGS \"%s\")\n", af_case_needs_avx(c) ? ";-mavx" : "");
  fputs(cmake_text, f);
  if ((s = close_file(f, AF_OK, err)) != AF_OK) return s;

  if (!(f = open_in(dir, "build.sh", err))) return AF_ERR_IO;
  fprintf(f, "#!/bin/sh\n# configure, build and run the reproducer (extra cmake flags: "
             "-DABIFUZZ_BINARY_DIR=... to reuse a build)\n");
  fprintf(f, "d=$(cd \"$(dirname \"$0\")\" && pwd) && cmake -S \"$d\" -B \"$d/build\" \"$@\" "
             ">/dev/null && cmake --build \"$d/build\" >/dev/null && \"$d/build/repro\"\n");
  return close_file(f, AF_OK, err);
}

/* c-oracle / cross-cc: the whole case as one C program per compiler; its checksum must be
 * the interpreter's. */
static af_status write_c_repro(const af_case *c, const char *leg, const char *check,
                               const char *dir, af_error *err) {
  af_interp_result res;
  memset(&res, 0, sizeof res);
  af_status s = af_interp(c, 0, &res, err);
  uint64_t want = res.checksum;
  af_interp_result_free(&res);
  if (s != AF_OK) return s;
  af_emit_opts eo;
  af_emit_opts_default(&eo);
  FILE *f = open_in(dir, "case.c", err);
  if (!f) return AF_ERR_IO;
  if ((s = close_file(f, af_emit_c(c, &eo, f, err), err)) != AF_OK) return s;
  if (!(f = open_in(dir, "build.sh", err))) return AF_ERR_IO;
  fprintf(f,
          "#!/bin/sh\n# %s %s: builds case.c with each compiler and compares its checksum "
          "with the interpreter's\n",
          leg, check);
  fprintf(f,
          "d=$(cd \"$(dirname \"$0\")\" && pwd); rc=0; for cc in ${CCS:-%s %s}; do $cc %s%s "
          "-O1 -ffp-contract=off \"$d/case.c\" -o \"$d/case-${cc##*/}\" || exit 3; got=$(\"$d/"
          "case-${cc##*/}\" | tail -n 1); if [ \"$got\" = \"checksum 0x%016llx\" ]; then echo "
          "\"$cc: ok\"; else echo \"mismatch: $cc: expected checksum 0x%016llx got $got\"; "
          "rc=1; fi; done; exit $rc\n",
          AF_DEFAULT_CLANG, AF_DEFAULT_GCC, AF_CC_BASE_FLAGS, af_case_needs_avx(c) ? " -mavx" : "",
          (unsigned long long)want, (unsigned long long)want);
  return close_file(f, AF_OK, err);
}

af_status repro_write(const af_case *c, const char *leg, const char *check, const char *inject,
                      const char *dir, af_error *err) {
  af_error e = {{0}};
  if (!err) err = &e;
  if (!c || !leg || !check || !dir) {
    snprintf(err->msg, sizeof err->msg, "repro_write: missing argument");
    return AF_ERR_INVALID;
  }
  if (mkdir(dir, 0777) && errno != EEXIST) {
    snprintf(err->msg, sizeof err->msg, "cannot create '%s': %s", dir, strerror(errno));
    return AF_ERR_IO;
  }
  FILE *f = open_in(dir, "case.case", err);
  if (!f) return AF_ERR_IO;
  af_status s = close_file(f, af_print(c, f), err);
  if (s != AF_OK) return s;
  if (!strcmp(leg, "c-oracle") || !strcmp(leg, "cross-cc"))
    return write_c_repro(c, leg, check, dir, err);
  return write_jit_repro(c, leg, check, inject, dir, err);
}
