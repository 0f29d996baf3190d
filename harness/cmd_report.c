/* cmd_report.c - `abifuzz report`: a campaign's output directories as report.md, report.html,
 * junit.xml and findings.sarif (reports/, doc/reports.md). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "debug.h"
#include "jit.h"
#include "repro.h"
#include "reports.h"

#ifdef AF_HAVE_CAPSTONE
#include <capstone/capstone.h>
#endif

static const char report_usage[] =
    "usage: abifuzz report OUT_DIR [OUT_DIR...] [-o REPORT_DIR] [--no-disasm] [--max-insns N]\n"
    "                      [--repro]\n"
    "Reads campaign output directories (summary.json, findings/*/report.json and case.case;\n"
    "several are merged, e.g. the shards of one nightly campaign) and writes report.md,\n"
    "report.html (one self-contained page), junit.xml and findings.sarif (SARIF 2.1.0) into\n"
    "REPORT_DIR (default: the first OUT_DIR). Each bucket shows what broke, the signature in\n"
    "C, expected vs actual and the JIT code of the function the finding names, disassembled\n"
    "(Intel syntax, Capstone; --no-disasm skips the re-compile). --repro also writes a\n"
    "reproducer of each bucket's finding into REPORT_DIR/repro/bucket-N (build.sh builds and\n"
    "runs it). Exit 0 when the reports are written (whatever they contain), 2 for bad input,\n"
    "3 when they cannot be written.\n";

/* Reads exactly n bytes (EOF early: -1). */
static int read_all(int fd, void *buf, size_t n) {
  for (uint8_t *p = buf; n;) {
    ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    p += r, n -= (size_t)r;
  }
  return 0;
}

static int write_all(int fd, const void *buf, size_t n) {
  for (const uint8_t *p = buf; n;) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w, n -= (size_t)w;
  }
  return 0;
}

/* Where function fn's code calls the case's functions: the lowering calls through R11,
 * `movabs r11, X` then `call r11` (X the target) or `call qword ptr [r11]` (X a slot of the call
 * table, read here: the JIT is live in this process). */
static void find_calls(const af_case *c, const af_jit *j, const jit_debug_fn *d, rp_code *out) {
  out->ncalls = 0;
#ifdef AF_HAVE_CAPSTONE
  csh h;
  if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK) return;
  cs_option(h, CS_OPT_SYNTAX, CS_OPT_SYNTAX_INTEL);
  cs_insn *in = NULL;
  size_t n = cs_disasm(h, (const uint8_t *)(uintptr_t)d->addr, d->size, d->addr, 0, &in);
  for (size_t i = 1; i < n && out->ncalls < RP_MAX_CALLS; i++) {
    unsigned long long x;
    if (strcmp(in[i].mnemonic, "call") || strcmp(in[i - 1].mnemonic, "movabs") ||
        sscanf(in[i - 1].op_str, "r11, 0x%llx", &x) != 1)
      continue;
    uint64_t target = x;
    if (!strcmp(in[i].op_str, "qword ptr [r11]"))
      memcpy(&target, (const void *)(uintptr_t)x, 8);
    else if (strcmp(in[i].op_str, "r11"))
      continue;
    char name[64];
    int k;
    if (jit_debug_symbolize(c, j, target, name, sizeof name) &&
        sscanf(name, "abifuzz_f%d", &k) == 1) {
      out->call_off[out->ncalls] = (uint32_t)(in[i].address - d->addr);
      out->call_fn[out->ncalls++] = k;
    }
  }
  if (n) cs_free(in, n);
  cs_close(&h);
#else
  (void)c, (void)j, (void)d;
#endif
}

/* Where every function lies, from the page boundary below the lowest one. */
static void layout(const af_case *c, const af_jit *j, rp_code *out) {
  jit_debug_fn d[AF_MAX_FUNCS];
  uint64_t lo = UINT64_MAX;
  out->nfns = 0;
  for (int k = 0; k < c->nfuncs; k++) {
    af_error err;
    if (jit_debug_describe(j, k, &d[k], &err) != AF_OK) return;
    if (d[k].addr < lo) lo = d[k].addr;
  }
  lo &= ~(uint64_t)(RP_PAGE - 1);
  for (int k = 0; k < c->nfuncs; k++)
    out->fn_start[k] = d[k].addr - lo, out->fn_size[k] = d[k].size;
  out->nfns = c->nfuncs;
}

/* The child: compile, send [u64 size][bytes][rp_code: calls and layout; its pointer is
 * meaningless], or [u64 ~0][error text]. */
static void compile_child(int fd, const af_case *c, const char *inject, int fn) {
  af_jit_opts o = {0};
  o.inject = inject;
  af_jit *j = NULL;
  af_error err = {{0}};
  af_status s = af_jit_compile(c, &o, &j, &err);
  jit_debug_fn d;
  if (s == AF_OK) s = jit_debug_describe(j, fn, &d, &err);
  uint64_t n;
  if (s != AF_OK) {
    if (!err.msg[0]) snprintf(err.msg, sizeof err.msg, "%s", af_strerror(s));
    n = ~0ull;
    write_all(fd, &n, 8);
    write_all(fd, err.msg, strlen(err.msg));
  } else {
    n = d.size;
    rp_code meta = {0}; /* everything but the bytes */
    find_calls(c, j, &d, &meta);
    layout(c, j, &meta);
    write_all(fd, &n, 8);
    write_all(fd, (const void *)(uintptr_t)d.addr, d.size);
    write_all(fd, &meta, sizeof meta);
  }
  _exit(0);
}

/* rp_code_fn: the JIT compile runs in a child process, so that a mutant that crashes or loops
 * in the compiler costs a note in the report, not the report. */
static af_status jit_code(void *u, const af_case *c, const char *inject, int fn, rp_code *out,
                          af_error *err) {
  (void)u;
  int p[2];
  if (pipe(p)) return snprintf(err->msg, sizeof err->msg, "pipe: %s", strerror(errno)), AF_ERR_IO;
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    close(p[0]), close(p[1]);
    snprintf(err->msg, sizeof err->msg, "fork: %s", strerror(errno));
    return AF_ERR_IO;
  }
  if (pid == 0) {
    close(p[0]);
    alarm(20);
    compile_child(p[1], c, inject, fn);
  }
  close(p[1]);
  uint64_t n = 0;
  af_status s = AF_OK;
  if (read_all(p[0], &n, 8)) {
    s = AF_ERR_RUNTIME;
  } else if (n == ~0ull) {
    ssize_t r = read(p[0], err->msg, sizeof err->msg - 1);
    err->msg[r > 0 ? r : 0] = 0;
    s = AF_ERR_UNSUPPORTED;
  } else if (n > (1u << 24) || !(out->bytes = malloc(n ? n : 1))) {
    s = AF_ERR_NOMEM;
  } else if (read_all(p[0], out->bytes, n)) {
    free(out->bytes), out->bytes = NULL;
    s = AF_ERR_RUNTIME;
  } else {
    uint8_t *bytes = out->bytes;
    if (read_all(p[0], out, sizeof *out) || out->ncalls < 0 || out->ncalls > RP_MAX_CALLS ||
        out->nfns < 0 || out->nfns > AF_MAX_FUNCS) {
      free(bytes);
      memset(out, 0, sizeof *out);
      s = AF_ERR_RUNTIME;
    } else
      out->bytes = bytes, out->size = n;
  }
  close(p[0]);
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (s == AF_ERR_RUNTIME)
    snprintf(err->msg, sizeof err->msg, "the JIT compile died (%s)",
             WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "no output");
  return s;
}

/* --repro: REPORT_DIR/repro/bucket-N for every bucket whose shown finding has its case. A
 * failure costs that bucket its reproducer (one line on stderr), not the report. */
static void write_repros(rp_report *r, const char *outdir) {
  char dir[4200];
  snprintf(dir, sizeof dir, "%.4000s/repro", outdir);
  if (mkdir(outdir, 0777) && errno != EEXIST) return;
  if (mkdir(dir, 0777) && errno != EEXIST) return;
  for (int i = 0; i < r->nb; i++) {
    rp_bucket *b = &r->b[i];
    const rp_finding *f = b->rep >= 0 ? &r->f[b->rep] : NULL;
    if (!f || f->case_size < 0) continue;
    char path[4300], bdir[4300];
    af_case c;
    af_error err = {{0}};
    snprintf(path, sizeof path, "%.4200s/case.case", f->dir);
    snprintf(bdir, sizeof bdir, "%.4200s/bucket-%d", dir, i + 1);
    if (af_parse_file(path, &c, &err) == AF_OK &&
        repro_write(&c, f->leg, f->check, f->inject[0] ? f->inject : NULL, bdir, &err) == AF_OK)
      b->repro = strdup(bdir);
    else
      cli_error("report: no reproducer for bucket %d: %s", i + 1, err.msg);
    af_case_free(&c);
  }
}

int cmd_report(int argc, char **argv) {
  static const struct option lo[] = {{"out", required_argument, 0, 'o'},
                                     {"no-disasm", no_argument, 0, 'n'},
                                     {"max-insns", required_argument, 0, 'm'},
                                     {"repro", no_argument, 0, 'r'},
                                     {"help", no_argument, 0, 'h'},
                                     {0, 0, 0, 0}};
  const char *outdir = NULL;
  rp_opts opts = {jit_code, NULL, 0};
  int repro = 0;
  optind = 1;
  opterr = 0;
  for (int o; (o = getopt_long(argc, argv, ":o:h", lo, NULL)) != -1;) {
    switch (o) {
    case 'o': outdir = optarg; break;
    case 'n': opts.code = NULL; break;
    case 'r': repro = 1; break;
    case 'm': {
      uint64_t v;
      if (cli_u64(optarg, &v) || v == 0 || v > 100000) {
        cli_error("report: bad --max-insns '%s' (1..100000)", optarg);
        return CLI_USAGE;
      }
      opts.max_insns = (int)v;
      break;
    }
    case 'h': fputs(report_usage, stdout); return CLI_OK;
    case ':': cli_error("report: option '%s' needs a value", argv[optind - 1]); return CLI_USAGE;
    default:
      cli_error("report: unknown option '%s' (see abifuzz report --help)", argv[optind - 1]);
      return CLI_USAGE;
    }
  }
  if (optind >= argc) {
    cli_error("report: expected an OUT_DIR argument (see abifuzz report --help)");
    return CLI_USAGE;
  }
  rp_report r;
  rp_init(&r);
  af_error err = {{0}};
  for (int i = optind; i < argc; i++) {
    af_status s = rp_load_dir(&r, argv[i], &err);
    if (s != AF_OK) {
      cli_error("report: %s", s == AF_ERR_NOMEM ? "out of memory" : err.msg);
      rp_free(&r);
      return s == AF_ERR_NOMEM ? CLI_ERROR : CLI_USAGE;
    }
  }
  if (!outdir) outdir = argv[optind];
  if (rp_prepare(&r, &opts) != AF_OK) {
    cli_error("report: out of memory");
    rp_free(&r);
    return CLI_ERROR;
  }
  if (repro) write_repros(&r, outdir);
  af_status s = rp_write_all(&r, outdir, &err);
  if (s != AF_OK) {
    cli_error("report: %s", err.msg);
    rp_free(&r);
    return CLI_ERROR;
  }
  int nfail = 0;
  for (int i = 0; i < r.nb; i++)
    nfail += !r.b[i].known;
  printf("report: %d bucket%s failing, %d known, %d finding director%s read%s%d problem%s -> "
         "%s/{report.md,report.html,junit.xml,findings.sarif}\n",
         nfail, nfail == 1 ? "" : "s", r.nb - nfail, r.nf, r.nf == 1 ? "y" : "ies", ", ",
         r.nproblems, r.nproblems == 1 ? "" : "s", outdir);
  rp_free(&r);
  return CLI_OK;
}
