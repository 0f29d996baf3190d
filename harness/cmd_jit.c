/* cmd_jit.c - the `abifuzz jit` subcommand: compile a case with the JIT, disassemble it, run it. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "debug.h"
#include "jit.h"

#ifdef AF_HAVE_CAPSTONE
#include <capstone/capstone.h>
#endif

static const char jit_usage[] =
    "usage: abifuzz jit [--disasm] [--run] [--inject MUTANT] [--abi sysv|win64] FILE.case\n"
    "Compiles the case with the JIT. --disasm prints every function: its name, convention\n"
    "and signature, address range, frame layout and disassembly (Intel syntax, Capstone).\n"
    "--run runs the entry and prints the return value and the checksum line, like\n"
    "`abifuzz interp`. The code is registered with gdb's JIT interface (functions are\n"
    "abifuzz_f0, abifuzz_f1, ...); ABIFUZZ_PERF_MAP=1 also writes /tmp/perf-PID.map.\n"
    "--abi moves every function of the case to that convention first (same bodies, same\n"
    "checksum); --inject compiles it with one ABI bug (abifuzz --list-mutants).\n";

static void print_sig(const af_case *c, int k) {
  const af_func *f = &c->funcs[k];
  const af_sig *sig = &f->sig;
  char tb[16];
  printf("f%d %s %s (", k, f->host ? "host" : "jit", af_cc_name(sig->cc));
  for (int i = 0; i < sig->nparams; i++)
    printf("%s%s%s", i ? ", " : "", sig->variadic && i == sig->nfixed ? "... " : "",
           af_type_name(c, sig->params[i], tb, sizeof tb));
  printf(") -> %s", af_type_name(c, sig->ret, tb, sizeof tb));
}

/* One line of the frame picture: [rbp+lo, rbp+hi) and what lives there. */
static void frame_row(int32_t lo, int32_t hi, const char *what) {
  char r[48];
  snprintf(r, sizeof r, "[rbp%+d, rbp%+d)", lo, hi);
  printf("    %-24s %s\n", r, what);
}

static void print_frame(const jit_debug_fn *d) {
  printf("  frame: push rbp; mov rbp, rsp; sub rsp, %d (rsp %s16-aligned in the body)\n", d->frame,
         d->frame % 16 ? "NOT " : "");
  /* frame_code is -1 when there is no `sub rsp` at all, which is right for an empty frame */
  if (d->frame_code != d->frame && !(d->frame == 0 && d->frame_code == -1))
    printf("  note: the prologue reserves %d bytes, not %d (a frame mutant?): the picture below "
           "is what lower.c laid out\n",
           d->frame_code, d->frame);
  printf("    %-24s %s\n", "[rbp+16, ...)", "incoming stack arguments (Win64: home space first)");
  printf("    %-24s %s\n", "[rbp+8]", "return address");
  printf("    %-24s %s\n", "[rbp+0]", "caller's rbp");
  if (d->w64_save) {
    char w[200];
    size_t n = (size_t)snprintf(w, sizeof w, "saved:");
    for (int r = 0; r < 32 && n < sizeof w; r++) /* GPRs by 8 bytes, then XMMs by 16 */
      if ((d->saved >> r) & 1)
        n += (size_t)snprintf(w + n, sizeof w - n, " %s", af_reg_name((af_reg)r));
    frame_row(-d->w64_save, 0, w);
  }
  frame_row(d->slots_end, -d->w64_save, "value slots, 16*ceil(size/16) bytes each, v0 highest");
  if (d->nlocals) {
    char w[64];
    snprintf(w, sizeof w, "%d LOCAL region(s), aligned at run time", d->nlocals);
    frame_row(d->locals_end, d->slots_end, w);
  }
  if (d->sret_save) frame_row(d->sret_save, d->sret_save + 8, "saved incoming sret pointer");
  if (d->va_save) frame_row(d->va_save, d->va_save + 176, "SysV register save area (6 GPR, 8 XMM)");
  if (d->copy_size) frame_row(d->copy_area, d->copy_area + d->copy_size, "by-reference copies");
  if (d->out_size) {
    char w[64];
    snprintf(w, sizeof w, "outgoing arguments = [rsp, rsp+%d)", d->out_size);
    frame_row(-d->frame, -d->frame + d->out_size, w);
  }
}

/* A comment for the instruction pair (a, b): calls go `movabs r11, X; call r11` (a helper, X
 * its address) or `movabs r11, X; call qword ptr [r11]` (X the function table's slot of the
 * callee, read at run time: name what it holds now). */
static void call_note(const af_case *c, const af_jit *j, const char *a_mn, const char *a_ops,
                      const char *b_mn, const char *b_ops, char *note, size_t n) {
  unsigned long long x;
  char nm[64];
  note[0] = 0;
  if (strcmp(a_mn, "movabs") || sscanf(a_ops, "r11, 0x%llx", &x) != 1 || strcmp(b_mn, "call"))
    return;
  if (!strcmp(b_ops, "r11")) {
    if (jit_debug_symbolize(c, j, x, nm, sizeof nm)) snprintf(note, n, "  ; %s", nm);
  } else if (!strcmp(b_ops, "qword ptr [r11]")) {
    uint64_t target;
    memcpy(&target, (const void *)(uintptr_t)x, 8); /* the table is live while j is */
    if (jit_debug_symbolize(c, j, target, nm, sizeof nm))
      snprintf(note, n, "  ; table slot -> %s", nm);
  }
}

static int disasm(const af_case *c, const af_jit *j, const uint8_t *code, uint64_t size,
                  uint64_t addr) {
#ifdef AF_HAVE_CAPSTONE
  csh h;
  if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK) return -1;
  cs_option(h, CS_OPT_SYNTAX, CS_OPT_SYNTAX_INTEL);
  cs_insn *insn = NULL;
  size_t n = cs_disasm(h, code, size, addr, 0, &insn);
  uint64_t done = 0;
  char note[96] = "";
  for (size_t i = 0; i < n; i++) {
    printf("  %llx:  %-8s %s%s\n", (unsigned long long)insn[i].address, insn[i].mnemonic,
           insn[i].op_str, note);
    note[0] = 0;
    if (i + 1 < n)
      call_note(c, j, insn[i].mnemonic, insn[i].op_str, insn[i + 1].mnemonic, insn[i + 1].op_str,
                note, sizeof note);
    done += insn[i].size;
  }
  if (n) cs_free(insn, n);
  cs_close(&h);
  if (done != size) printf("  %llx:  (undecodable bytes)\n", (unsigned long long)(addr + done));
  return 0;
#else
  (void)c, (void)j, (void)code, (void)size, (void)addr;
  return -1;
#endif
}

int cmd_jit(int argc, char **argv) {
  static const struct option lo[] = {
      {"disasm", no_argument, 0, 'd'},       {"run", no_argument, 0, 'r'},
      {"inject", required_argument, 0, 'i'}, {"abi", required_argument, 0, 'a'},
      {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
  int want_disasm = 0, want_run = 0, retarget = -1;
  af_jit_opts opts = {0};
  optind = 1;
  opterr = 0;
  for (int o; (o = getopt_long(argc, argv, ":dri:a:h", lo, NULL)) != -1;) {
    switch (o) {
    case 'd': want_disasm = 1; break;
    case 'r': want_run = 1; break;
    case 'i': opts.inject = optarg; break;
    case 'a': {
      af_cc cc;
      if (af_cc_parse(optarg, &cc)) {
        cli_error("jit: bad --abi '%s' (sysv or win64)", optarg);
        return CLI_USAGE;
      }
      retarget = cc;
      break;
    }
    case 'h': fputs(jit_usage, stdout); return CLI_OK;
    case ':': cli_error("jit: option '%s' needs a value", argv[optind - 1]); return CLI_USAGE;
    default:
      cli_error("jit: unknown option '%s' (see abifuzz jit --help)", argv[optind - 1]);
      return CLI_USAGE;
    }
  }
  if (optind != argc - 1) {
    if (optind < argc - 1)
      cli_error("jit: unexpected argument '%s' (one FILE.case only)", argv[optind + 1]);
    else
      cli_error("jit: expected a FILE.case argument");
    return CLI_USAGE;
  }
#ifndef AF_HAVE_CAPSTONE
  if (want_disasm) {
    cli_error("jit: --disasm needs Capstone, which this build lacks (apt-get install "
              "libcapstone-dev and rebuild)");
    return CLI_USAGE;
  }
#endif
  const char *path = argv[optind];
  af_case c;
  af_error err = {{0}};
  af_status s = af_parse_file(path, &c, &err);
  if (s != AF_OK) {
    cli_error("%s", err.msg[0] ? err.msg : af_strerror(s));
    af_case_free(&c); /* as cmd_case.c's load_case does */
    return s == AF_ERR_NOMEM ? CLI_ERROR : CLI_USAGE;
  }
  if (retarget >= 0) {
    /* The same bodies under the other convention: the interpreter's result does not
     * depend on it, so --run's checksum must not change. */
    for (int k = 0; k < c.nfuncs; k++)
      c.funcs[k].sig.cc = (af_cc)retarget;
    c.cc = (af_cc)retarget;
    if ((s = af_verify(&c, &err)) != AF_OK) {
      cli_error("jit: %s under --abi %s: %s", path, af_cc_name(c.cc), err.msg);
      af_case_free(&c);
      return CLI_USAGE;
    }
  }
  int rc = CLI_OK;
  af_jit *j = NULL;
  s = af_jit_compile(&c, &opts, &j, &err);
  if (s != AF_OK) {
    cli_error("jit: %s: %s", path, err.msg[0] ? err.msg : af_strerror(s));
    rc = s == AF_ERR_NOMEM ? CLI_ERROR : CLI_USAGE;
    goto out;
  }
  /* af_jit_compile registered the code with gdb (and the perf map) */
  for (int k = 0; k < c.nfuncs; k++) {
    jit_debug_fn d;
    if ((s = jit_debug_describe(j, k, &d, &err)) != AF_OK) {
      cli_error("jit: f%d: %s", k, err.msg[0] ? err.msg : af_strerror(s));
      rc = CLI_ERROR;
      goto out;
    }
    print_sig(&c, k);
    printf("%s\n", k == c.entry ? "  [entry]" : "");
    printf("  %s [%llx, %llx) %llu bytes\n", d.name, (unsigned long long)d.addr,
           (unsigned long long)(d.addr + d.size), (unsigned long long)d.size);
    if (want_disasm) {
      print_frame(&d);
      if (disasm(&c, j, (const uint8_t *)(uintptr_t)d.addr, d.size, d.addr) != 0) {
        cli_error("jit: Capstone failed to open");
        rc = CLI_ERROR;
        goto out;
      }
    }
  }
  if (want_disasm) {
    jit_debug_fn d;
    if (jit_debug_runner(j, &d, &err) == AF_OK) {
      printf("runner thunk (sysv: void run(const uint8_t *in, uint8_t *ret))\n");
      printf("  %s [%llx, %llx) %llu bytes\n", d.name, (unsigned long long)d.addr,
             (unsigned long long)(d.addr + d.size), (unsigned long long)d.size);
      disasm(&c, j, (const uint8_t *)(uintptr_t)d.addr, d.size, d.addr);
    }
  }
  if (want_run) {
    af_jit_result r;
    fflush(stdout); /* the code may crash: keep what is printed */
    if ((s = af_jit_run(j, NULL, &r, &err)) != AF_OK) {
      cli_error("jit: run: %s", err.msg[0] ? err.msg : af_strerror(s));
      rc = CLI_ERROR;
      goto out;
    }
    if (r.ret.type != AF_T_VOID) cli_print_value(&c, "ret", &r.ret);
    printf(AF_CHECKSUM_FMT, (unsigned long long)r.checksum);
    af_jit_result_free(&r);
  }
out:
  af_jit_free(j);
  af_case_free(&c);
  return rc;
}
