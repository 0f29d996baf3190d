/* write_md.c - report.md: the campaign for a person, bucket by bucket. */
#include <string.h>

#include "rp_internal.h"
#include "rp_json.h"

/* A fenced block whose fence is longer than any backtick run inside. */
static void fenced(FILE *out, const char *lang, const char *text) {
  int run = 0, longest = 0;
  for (const char *p = text; *p; p++) {
    run = *p == '`' ? run + 1 : 0;
    if (run > longest) longest = run;
  }
  int n = longest >= 3 ? longest + 1 : 3;
  for (int i = 0; i < n; i++)
    fputc('`', out);
  fprintf(out, "%s\n%s", lang, text);
  if (*text && text[strlen(text) - 1] != '\n') fputc('\n', out);
  for (int i = 0; i < n; i++)
    fputc('`', out);
  fputc('\n', out);
}

static void bucket_md(const rp_report *r, const rp_bucket *b, int num, FILE *out) {
  fprintf(out, "<a id=\"bucket-%d\"></a>\n### Bucket %d: ", num, num);
  if (strchr(b->key, '`') || strchr(b->key, '\n'))
    rp_md_inline(out, b->key);
  else
    fprintf(out, "`%s`", b->key); /* the key verbatim: a code span needs no escapes */
  fputs("\n\n", out);
  rp_fact facts[RP_MAX_FACTS];
  int nf = rp_bucket_facts(r, b, facts);
  for (int i = 0; i < nf; i++) {
    fprintf(out, "- **%s**: ", facts[i].label);
    if (facts[i].code && !strchr(facts[i].text, '`'))
      fprintf(out, "`%s`", facts[i].text);
    else
      rp_md_inline(out, facts[i].text);
    fputc('\n', out);
  }
  rp_facts_free(facts, nf);
  if (b->sig_c) {
    fputs("\nThe signature in C:\n\n", out);
    fenced(out, "c", b->sig_c);
  }
  fputs("\nDisassembly: ", out);
  rp_md_inline(out, b->disasm_note ? b->disasm_note : "none");
  fputs("\n\n", out);
  if (b->disasm) fenced(out, "", b->disasm), fputc('\n', out);
}

static void table_row(const rp_report *r, const rp_bucket *b, int num, FILE *out) {
  (void)r;
  fprintf(out, "| [%d](#bucket-%d) | ", num, num);
  rp_md_inline(out, b->key);
  fprintf(out, " | %s | %s | %s | %llu |\n", b->leg, b->check, b->abi,
          (unsigned long long)b->count);
}

af_status rp_write_md(const rp_report *r, FILE *out) {
  int nfail = rp_nfailing(r);
  fputs("# abifuzz report\n\n", out);
  fprintf(out,
          "%d bucket%s failing, %d known; %llu findings in %llu cases (%llu crashes, %llu "
          "timeouts)",
          nfail, nfail == 1 ? "" : "s", r->nb - nfail, (unsigned long long)r->findings,
          (unsigned long long)r->cases, (unsigned long long)r->crashes,
          (unsigned long long)r->timeouts);
  if (r->injects) fprintf(out, "; JIT mutant: %s", r->injects);
  fputs(".\n\nFrom:", out);
  for (int d = 0; d < r->ndirs; d++)
    fprintf(out, " `%s`", r->dirs[d]);
  fputs("\n\n", out);
  if (r->nb) {
    fputs("| # | bucket | leg | check | abi | findings |\n|---|---|---|---|---|---|\n", out);
    for (int i = 0; i < r->nb; i++)
      table_row(r, &r->b[i], i + 1, out);
    fputc('\n', out);
  }
  fputs("## Failures\n\n", out);
  if (!nfail) fputs("None.\n\n", out);
  for (int i = 0; i < r->nb; i++)
    if (!r->b[i].known) bucket_md(r, &r->b[i], i + 1, out);
  if (nfail < r->nb) {
    fputs("## Known divergences\n\nLabelled \"known\" by the rules file: not failures.\n\n", out);
    for (int i = 0; i < r->nb; i++)
      if (r->b[i].known) bucket_md(r, &r->b[i], i + 1, out);
  }
  if (r->nlegs) {
    fputs("## Legs\n\n| leg | ran | pass | fail | skip | note |\n|---|---|---|---|---|---|\n", out);
    for (int i = 0; i < r->nlegs; i++) {
      const rp_leg *l = &r->legs[i];
      fprintf(out, "| %s | %llu | %llu | %llu | %llu | ", l->name, (unsigned long long)l->ran,
              (unsigned long long)l->pass, (unsigned long long)l->fail,
              (unsigned long long)l->skip);
      if (l->off) fputs("off: ", out), rp_md_inline(out, l->off);
      fputs(" |\n", out);
    }
    fputc('\n', out);
  }
  if (r->nproblems) {
    fputs("## Problems with the input\n\n", out);
    for (int i = 0; i < r->nproblems; i++)
      fputs("- ", out), rp_md_inline(out, r->problems[i]), fputc('\n', out);
    fputc('\n', out);
  }
  return ferror(out) ? AF_ERR_IO : AF_OK;
}
