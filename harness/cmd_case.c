/* cmd_case.c - the one-case subcommands: gen, interp, emit, abi, weights. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "oracle.h"

/* getopt_long with one-line errors of our own (opterr = 0). Returns the
 * option, or -2 after printing the error for an unknown flag / missing value. */
static int next_opt(int argc, char **argv, const char *sopts, const struct option *lopts,
                    const char *cmd) {
  opterr = 0;
  int o = getopt_long(argc, argv, sopts, lopts, NULL);
  if (o == '?' || o == ':') {
    const char *arg = argv[optind - 1];
    if (optopt && o == ':')
      cli_error("%s: option '%s' needs a value", cmd, arg);
    else if (optopt && strchr(sopts, optopt) && strchr(sopts, optopt)[1] == ':')
      cli_error("%s: option '%s' needs a value", cmd, arg);
    else
      cli_error("%s: unknown option '%s' (see abifuzz %s --help)", cmd, arg, cmd);
    return -2;
  }
  return o;
}

static int load_case(const char *path, af_case *c) {
  af_error err = {{0}};
  af_status s = af_parse_file(path, c, &err);
  if (s != AF_OK) {
    cli_error("%s", err.msg[0] ? err.msg : af_strerror(s));
    return s == AF_ERR_NOMEM ? CLI_ERROR : CLI_USAGE;
  }
  return CLI_OK;
}

static int one_file_arg(int argc, char **argv, const char *cmd) {
  if (optind != argc - 1) {
    if (optind < argc - 1)
      cli_error("%s: unexpected argument '%s' (one FILE.case only)", cmd, argv[optind + 1]);
    else
      cli_error("%s: expected a FILE.case argument", cmd);
    return -1;
  }
  return optind;
}

/* ---- gen ---- */
static const char gen_usage[] =
    "usage: abifuzz gen --seed S --index I [--count N] [--abi sysv|win64]\n"
    "                   [--emit case|c] [--weights FILE] [--f16] [--divergent] [-o FILE]\n"
    "Prints case I of seed S (and the N-1 after it) as .case text or as C.\n";

int cmd_gen(int argc, char **argv) {
  static const struct option lo[] = {{"seed", required_argument, 0, 's'},
                                     {"index", required_argument, 0, 'i'},
                                     {"count", required_argument, 0, 'n'},
                                     {"abi", required_argument, 0, 'a'},
                                     {"emit", required_argument, 0, 'e'},
                                     {"weights", required_argument, 0, 'w'},
                                     {"f16", no_argument, 0, 'F'},
                                     {"divergent", no_argument, 0, 'D'},
                                     {"output", required_argument, 0, 'o'},
                                     {"help", no_argument, 0, 'h'},
                                     {0, 0, 0, 0}};
  uint64_t seed = 1, index = 0, count = 1;
  const char *weights = NULL, *outpath = NULL;
  int emit_c = 0;
  af_gen_opts opts;
  af_gen_opts_default(&opts);
  optind = 1;
  for (int o; (o = next_opt(argc, argv, ":s:i:n:a:e:w:o:h", lo, "gen")) != -1;) {
    switch (o) {
    case 's':
      if (cli_u64(optarg, &seed)) return cli_error("gen: bad --seed '%s'", optarg), CLI_USAGE;
      break;
    case 'i':
      if (cli_u64(optarg, &index)) return cli_error("gen: bad --index '%s'", optarg), CLI_USAGE;
      break;
    case 'n':
      if (cli_u64(optarg, &count) || count == 0)
        return cli_error("gen: bad --count '%s'", optarg), CLI_USAGE;
      break;
    case 'a': {
      af_cc cc;
      if (af_cc_parse(optarg, &cc))
        return cli_error("gen: bad --abi '%s' (sysv or win64)", optarg), CLI_USAGE;
      opts.cc = cc;
      break;
    }
    case 'e':
      if (!strcmp(optarg, "c"))
        emit_c = 1;
      else if (!strcmp(optarg, "case"))
        emit_c = 0;
      else
        return cli_error("gen: bad --emit '%s' (case or c)", optarg), CLI_USAGE;
      break;
    case 'w': weights = optarg; break;
    case 'F': opts.allow_f16 = 1; break;
    case 'D': opts.allow_divergent = 1; break;
    case 'o': outpath = optarg; break;
    case 'h': fputs(gen_usage, stdout); return CLI_OK;
    default: return CLI_USAGE;
    }
  }
  if (optind != argc) return cli_error("gen: unexpected argument '%s'", argv[optind]), CLI_USAGE;
  af_weights *w = cli_weights(weights);
  if (!w) return CLI_USAGE;
  opts.weights = w;
  FILE *out = stdout;
  if (outpath && !(out = fopen(outpath, "w"))) {
    af_weights_free(w);
    return cli_error("gen: cannot write '%s'", outpath), CLI_ERROR;
  }
  int rc = CLI_OK;
  for (uint64_t i = 0; i < count && rc == CLI_OK; i++) {
    af_case c;
    af_error err = {{0}};
    af_status s = af_gen_case(&opts, seed, index + i, &c, NULL, &err);
    if (s != AF_OK) {
      cli_error("gen: seed %llu index %llu: %s", (unsigned long long)seed,
                (unsigned long long)(index + i), err.msg[0] ? err.msg : af_strerror(s));
      rc = CLI_ERROR;
    } else {
      if (i) fputc('\n', out);
      af_emit_opts eo;
      af_emit_opts_default(&eo);
      s = emit_c ? af_emit_c(&c, &eo, out, &err) : af_print(&c, out);
      if (s != AF_OK) {
        cli_error("gen: %s", err.msg[0] ? err.msg : af_strerror(s));
        rc = CLI_ERROR;
      }
    }
    af_case_free(&c);
  }
  if (out != stdout && fclose(out)) {
    cli_error("gen: cannot write '%s'", outpath);
    rc = CLI_ERROR;
  }
  af_weights_free(w);
  return rc;
}

/* ---- interp ---- */

int cmd_interp(int argc, char **argv) {
  static const struct option lo[] = {
      {"trace", no_argument, 0, 't'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  int trace = 0;
  optind = 1;
  for (int o; (o = next_opt(argc, argv, ":th", lo, "interp")) != -1;) {
    if (o == 't')
      trace = 1;
    else if (o == 'h') {
      fputs("usage: abifuzz interp [--trace] FILE.case\n"
            "Runs the case's entry in the reference interpreter; prints the return value\n"
            "(bytes in memory order), with --trace every host call, and the checksum last.\n",
            stdout);
      return CLI_OK;
    } else
      return CLI_USAGE;
  }
  if (one_file_arg(argc, argv, "interp") < 0) return CLI_USAGE;
  af_case c;
  int rc = load_case(argv[optind], &c);
  if (rc == CLI_OK) {
    af_interp_result r;
    af_error err = {{0}};
    af_status s = af_interp(&c, 0, &r, &err);
    if (s != AF_OK) {
      cli_error("interp: %s: %s", argv[optind], err.msg[0] ? err.msg : af_strerror(s));
      rc = CLI_ERROR;
    } else {
      if (trace)
        for (int i = 0; i < r.nhost_calls; i++) {
          const af_host_call *hc = &r.host_calls[i];
          printf("call f%d\n", hc->callee);
          for (int a = 0; a < hc->nargs; a++) {
            char lb[32];
            snprintf(lb, sizeof lb, "  arg %d", a);
            cli_print_value(&c, lb, &hc->args[a]);
          }
          if (hc->ret.type != AF_T_VOID) cli_print_value(&c, "  ret", &hc->ret);
        }
      if (r.ret.type != AF_T_VOID) cli_print_value(&c, "ret", &r.ret);
      printf(AF_CHECKSUM_FMT, (unsigned long long)r.checksum);
      af_interp_result_free(&r);
    }
  }
  af_case_free(&c);
  return rc;
}

/* ---- emit ---- */
int cmd_emit(int argc, char **argv) {
  static const struct option lo[] = {{"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  optind = 1;
  for (int o; (o = next_opt(argc, argv, ":h", lo, "emit")) != -1;) {
    if (o == 'h') {
      fputs("usage: abifuzz emit FILE.case\n"
            "Prints the case as one C11 file: every function with sysv_abi/ms_abi and a\n"
            "main that prints the same checksum line as `abifuzz interp`.\n",
            stdout);
      return CLI_OK;
    }
    return CLI_USAGE;
  }
  if (one_file_arg(argc, argv, "emit") < 0) return CLI_USAGE;
  af_case c;
  int rc = load_case(argv[optind], &c);
  if (rc == CLI_OK) {
    af_emit_opts eo;
    af_emit_opts_default(&eo);
    af_error err = {{0}};
    af_status s = af_emit_c(&c, &eo, stdout, &err);
    if (s != AF_OK) {
      cli_error("emit: %s", err.msg[0] ? err.msg : af_strerror(s));
      rc = CLI_ERROR;
    }
  }
  af_case_free(&c);
  return rc;
}

/* ---- abi ---- */
static void print_loc(const char *label, const af_loc *l) {
  printf("  %-6s", label);
  switch (l->kind) {
  case AF_LOC_NONE: printf(" none"); break;
  case AF_LOC_REG:
    for (int i = 0; i < l->nparts; i++)
      printf(" %s[%u..%u)", af_reg_name(l->parts[i].reg), l->parts[i].offset,
             l->parts[i].offset + l->parts[i].size);
    if (l->dup != AF_REG_NONE) printf(" dup %s", af_reg_name(l->dup));
    break;
  case AF_LOC_STACK:
    printf(" stack [rsp+%d] size %u align %u", l->stack_offset, l->stack_size, l->stack_align);
    break;
  case AF_LOC_REF:
    if (l->nparts)
      printf(" ref in %s", af_reg_name(l->parts[0].reg));
    else
      printf(" ref at [rsp+%d]", l->stack_offset);
    break;
  case AF_LOC_SRET: printf(" sret"); break;
  case AF_LOC_X87: printf(" st0"); break;
  }
  if (l->ncls) {
    printf("  (");
    for (int i = 0; i < l->ncls; i++)
      printf("%s%s", i ? " " : "", af_class_name(l->cls[i]));
    printf(")");
  }
  putchar('\n');
}

int cmd_abi(int argc, char **argv) {
  static const struct option lo[] = {{"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  optind = 1;
  for (int o; (o = next_opt(argc, argv, ":h", lo, "abi")) != -1;) {
    if (o == 'h') {
      fputs("usage: abifuzz abi FILE.case\n"
            "For every function of the case, where the classifier puts each argument and\n"
            "the return value: registers (with the bytes each holds), stack offsets from\n"
            "RSP at the call, by-reference copies, the hidden sret pointer.\n",
            stdout);
      return CLI_OK;
    }
    return CLI_USAGE;
  }
  if (one_file_arg(argc, argv, "abi") < 0) return CLI_USAGE;
  af_case c;
  int rc = load_case(argv[optind], &c);
  for (int f = 0; rc == CLI_OK && f < c.nfuncs; f++) {
    const af_sig *sig = &c.funcs[f].sig;
    af_callinfo ci;
    af_error err = {{0}};
    if (af_classify(&c, sig, &ci, &err) != AF_OK) {
      cli_error("abi: f%d: %s", f, err.msg);
      rc = CLI_ERROR;
      break;
    }
    char tb[16];
    printf("f%d %s%s (", f, c.funcs[f].host ? "host " : "", af_cc_name(sig->cc));
    for (int i = 0; i < sig->nparams; i++)
      printf("%s%s%s", i ? ", " : "", sig->variadic && i == sig->nfixed ? "... " : "",
             af_type_name(&c, sig->params[i], tb, sizeof tb));
    printf(") -> %s%s\n", af_type_name(&c, sig->ret, tb, sizeof tb),
           ci.divergent ? "   [gcc/clang divergent]" : "");
    for (int i = 0; i < ci.nargs; i++) {
      char lb[16];
      snprintf(lb, sizeof lb, "arg %d", i);
      print_loc(lb, &ci.args[i]);
    }
    print_loc("ret", &ci.ret);
    printf("  stack %u bytes, %d int and %d sse registers\n", ci.stack_bytes, ci.int_used,
           ci.sse_used);
  }
  af_case_free(&c);
  return rc;
}

/* ---- weights ---- */
int cmd_weights(int argc, char **argv) {
  static const struct option lo[] = {
      {"weights", required_argument, 0, 'w'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  const char *path = NULL;
  optind = 1;
  for (int o; (o = next_opt(argc, argv, ":w:h", lo, "weights")) != -1;) {
    if (o == 'w')
      path = optarg;
    else if (o == 'h') {
      fputs("usage: abifuzz weights [--weights FILE]\n"
            "Prints the generator's weights table (defaults, or FILE applied on top) in\n"
            "the format --weights reads.\n",
            stdout);
      return CLI_OK;
    } else
      return CLI_USAGE;
  }
  if (optind != argc)
    return cli_error("weights: unexpected argument '%s'", argv[optind]), CLI_USAGE;
  af_weights *w = cli_weights(path);
  if (!w) return CLI_USAGE;
  af_weights_print(w, stdout);
  af_weights_free(w);
  return CLI_OK;
}
