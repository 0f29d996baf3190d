/* disasm.c - Capstone disassembly (Intel syntax) of a function's JIT code for the reports. */
#include <stdlib.h>
#include <string.h>

#include "reports.h"

#ifdef AF_HAVE_CAPSTONE
#include <capstone/capstone.h>

/* One line per instruction: "=> " on the marked one, its offset from the function's start
 * (absolute addresses mean nothing outside the process that ran it), the bytes, the text. */
static void put_insn(FILE *out, const cs_insn *in, int marked, const rp_code *code) {
  char note[24] = "";
  for (int i = 0; i < code->ncalls; i++)
    if (code->call_off[i] == in->address) snprintf(note, sizeof note, "  ; f%d", code->call_fn[i]);
  char hex[3 * 16 + 1] = "";
  for (int i = 0; i < in->size && i < 12; i++)
    snprintf(hex + 3 * i, 4, "%02x ", in->bytes[i]);
  fprintf(out, "%s%5llx:  %-30s %-8s %s%s%s\n", marked ? "=> " : "   ",
          (unsigned long long)in->address, hex, in->mnemonic, in->op_str, note,
          marked ? "   <- here" : "");
}

char *rp_disasm(const rp_code *code, long mark, int max, const char **why) {
  csh h;
  *why = NULL;
  if (max <= 0) max = 160;
  if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
    return *why = "Capstone failed to open", NULL;
  cs_option(h, CS_OPT_SYNTAX, CS_OPT_SYNTAX_INTEL);
  cs_insn *insn = NULL;
  size_t size = code->size, n = cs_disasm(h, code->bytes, size, 0, 0, &insn);
  size_t done = n ? insn[n - 1].address + insn[n - 1].size : 0;
  long at = -1; /* the marked instruction's index */
  for (size_t i = 0; i < n && mark >= 0; i++)
    if ((uint64_t)mark >= insn[i].address && (uint64_t)mark < insn[i].address + insn[i].size)
      at = (long)i;
  /* Too long: a window around the mark; unmarked, the prologue and the epilogue (where a
   * frame or callee-saved register bug shows), max / 2 instructions each. */
  size_t lo = 0, hi = n, tail = n; /* shown: [lo, hi) and [tail, n) */
  if (n > (size_t)max && at >= 0) {
    lo = at > max / 2 ? (size_t)at - (size_t)max / 2 : 0;
    if (lo + (size_t)max > n) lo = n - (size_t)max;
    hi = lo + (size_t)max;
  } else if (n > (size_t)max) {
    hi = (size_t)max / 2;
    tail = n - ((size_t)max - hi);
  }
  char *buf = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&buf, &len);
  if (!out) {
    if (n) cs_free(insn, n);
    cs_close(&h);
    return *why = "out of memory", NULL;
  }
  if (lo) fprintf(out, "   ... %zu instructions before\n", lo);
  for (size_t i = lo; i < hi; i++)
    put_insn(out, &insn[i], (long)i == at, code);
  if (tail < n) {
    fprintf(out, "   ... %zu instructions\n", tail - hi);
    for (size_t i = tail; i < n; i++)
      put_insn(out, &insn[i], 0, code);
  } else if (hi < n)
    fprintf(out, "   ... %zu instructions after\n", n - hi);
  if (done < size) fprintf(out, "   %5zx:  (%zu undecodable bytes)\n", done, size - done);
  if (mark >= 0 && at < 0)
    fprintf(out, "   (offset 0x%lx is not the start or middle of a decoded instruction)\n", mark);
  if (n) cs_free(insn, n);
  cs_close(&h);
  if (fclose(out)) return free(buf), *why = "out of memory", NULL;
  return buf;
}

int rp_insn_at(const rp_code *code, long off) {
  csh h;
  if (off < 0 || (size_t)off >= code->size || cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
    return 0;
  cs_insn *insn = NULL;
  size_t n = cs_disasm(h, code->bytes, code->size, 0, 0, &insn);
  int hit = 0;
  for (size_t i = 0; i < n && !hit; i++)
    hit = insn[i].address == (uint64_t)off;
  if (n) cs_free(insn, n);
  cs_close(&h);
  return hit;
}

/* The value of a 64-bit register by name, from the crash's registers; -1 when unknown. */
static int reg_value(const char *name, const rp_regs *r, uint64_t *v) {
  for (int i = 0; i < r->n; i++)
    if (!strcmp(r->name[i], name)) return *v = r->val[i], 0;
  return -1;
}

int rp_insn_touches(const rp_code *code, long off, const rp_regs *regs, uint64_t fault) {
  csh h;
  if (off < 0 || (size_t)off >= code->size || cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
    return -1;
  cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
  cs_insn *in = NULL;
  int res = -1;
  if (cs_disasm(h, code->bytes + off, code->size - (size_t)off, 0, 1, &in) == 1) {
    const cs_x86 *x = &in->detail->x86;
    res = 0;
    for (int i = 0; i < x->op_count && res == 0; i++) {
      const x86_op_mem *m = &x->operands[i].mem;
      if (x->operands[i].type != X86_OP_MEM) continue;
      uint64_t a = (uint64_t)m->disp, b = 0, ix = 0;
      if (m->segment != X86_REG_INVALID) { /* fs:/gs: bases are not in the record */
        res = -1;
        break;
      }
      if (m->base == X86_REG_RIP) /* the old RIP: the record's, at this instruction */
        b = regs->rip + in->size;
      else if (m->base != X86_REG_INVALID && reg_value(cs_reg_name(h, m->base), regs, &b)) {
        res = -1;
        break;
      }
      if (m->index != X86_REG_INVALID && reg_value(cs_reg_name(h, m->index), regs, &ix)) {
        res = -1;
        break;
      }
      a += b + ix * (uint64_t)m->scale;
      if (fault >= a && fault - a < 64) res = 1; /* within the access (at most 64 bytes) */
    }
    cs_free(in, 1);
  }
  cs_close(&h);
  return res;
}

#else

int rp_insn_touches(const rp_code *code, long off, const rp_regs *regs, uint64_t fault) {
  (void)code, (void)off, (void)regs, (void)fault;
  return -1;
}

int rp_insn_at(const rp_code *code, long off) {
  (void)code, (void)off;
  return 0;
}

char *rp_disasm(const rp_code *code, long mark, int max, const char **why) {
  (void)code, (void)mark, (void)max;
  *why = "this build has no Capstone (apt-get install libcapstone-dev and rebuild)";
  return NULL;
}

#endif
