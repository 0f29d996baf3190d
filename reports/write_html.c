/* write_html.c - report.html: one self-contained page (inline CSS, no script, nothing fetched). */
#include <string.h>

#include "rp_internal.h"
#include "rp_json.h"

static const char css[] =
    "body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:70em;padding:0 1em;"
    "color:#1b1b1b;background:#fff}\n"
    "h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;margin-top:2em}\n"
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.2em .6em;"
    "text-align:left;vertical-align:top}th{background:#f3f3f3}\n"
    "td.n{text-align:right}\n"
    "section.bucket{border:1px solid #d0d0d0;border-left:6px solid #c62828;border-radius:4px;"
    "padding:.2em 1em 1em;margin:1.2em 0}\n"
    "section.bucket.known{border-left-color:#9e9e9e}\n"
    "section.bucket h3{margin:.6em 0}.key{font-family:ui-monospace,monospace;font-size:.95em}\n"
    "dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}dt{font-weight:600}\n"
    "dd{margin:0}pre{background:#f6f8fa;border:1px solid #e1e4e8;padding:.6em;overflow-x:auto;"
    "font:12.5px/1.35 ui-monospace,monospace}\n"
    "code{font-family:ui-monospace,monospace}.mark{background:#ffe0e0;font-weight:700}\n"
    ".problems li{color:#8a4b00}\n";

/* The disassembly with the "=> " line highlighted. */
static void disasm_html(FILE *out, const char *text) {
  fputs("<pre class=\"disasm\">", out);
  for (const char *p = text; *p;) {
    const char *e = strchr(p, '\n');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    char line[512];
    snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1), p);
    int mark = !strncmp(line, "=> ", 3);
    if (mark) fputs("<span class=\"mark\">", out);
    rp_html(out, line);
    if (mark) fputs("</span>", out);
    fputc('\n', out);
    p += n + (e ? 1 : 0);
  }
  fputs("</pre>\n", out);
}

static void bucket_html(const rp_report *r, const rp_bucket *b, int num, FILE *out) {
  fprintf(out, "<section class=\"bucket%s\" id=\"bucket-%d\">\n<h3>Bucket %d: <span class=\"key\">",
          b->known ? " known" : "", num, num);
  rp_html(out, b->key);
  fputs("</span></h3>\n<dl>\n", out);
  rp_fact facts[RP_MAX_FACTS];
  int nf = rp_bucket_facts(r, b, facts);
  for (int i = 0; i < nf; i++) {
    fprintf(out, "<dt>%s</dt><dd>%s", facts[i].label, facts[i].code ? "<code>" : "");
    rp_html(out, facts[i].text);
    fprintf(out, "%s</dd>\n", facts[i].code ? "</code>" : "");
  }
  rp_facts_free(facts, nf);
  fputs("</dl>\n", out);
  if (b->sig_c) {
    fputs("<p>The signature in C:</p>\n<pre class=\"sig\">", out);
    rp_html(out, b->sig_c);
    fputs("</pre>\n", out);
  }
  fputs("<p>Disassembly: ", out);
  rp_html(out, b->disasm_note ? b->disasm_note : "none");
  fputs("</p>\n", out);
  if (b->disasm) disasm_html(out, b->disasm);
  fputs("</section>\n", out);
}

af_status rp_write_html(const rp_report *r, FILE *out) {
  int nfail = rp_nfailing(r);
  fprintf(out,
          "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<title>abifuzz report: %d failing bucket%s</title>\n<style>\n%s</style>\n"
          "</head>\n<body>\n<h1>abifuzz report</h1>\n",
          nfail, nfail == 1 ? "" : "s", css);
  fprintf(out,
          "<p id=\"totals\">%d bucket%s failing, %d known; %llu findings in %llu cases "
          "(%llu crashes, %llu timeouts)",
          nfail, nfail == 1 ? "" : "s", r->nb - nfail, (unsigned long long)r->findings,
          (unsigned long long)r->cases, (unsigned long long)r->crashes,
          (unsigned long long)r->timeouts);
  if (r->injects) fputs("; JIT mutant: ", out), rp_html(out, r->injects);
  fputs(".<br>From:", out);
  for (int d = 0; d < r->ndirs; d++)
    fputs(" <code>", out), rp_html(out, r->dirs[d]), fputs("</code>", out);
  fputs("</p>\n", out);
  if (r->nb) {
    fputs("<table id=\"buckets\">\n<tr><th>#</th><th>bucket</th><th>leg</th><th>check</th>"
          "<th>abi</th><th>findings</th></tr>\n",
          out);
    for (int i = 0; i < r->nb; i++) {
      const rp_bucket *b = &r->b[i];
      fprintf(out, "<tr%s><td><a href=\"#bucket-%d\">%d</a></td><td class=\"key\">",
              b->known ? " class=\"known\"" : "", i + 1, i + 1);
      rp_html(out, b->key);
      fputs("</td><td>", out), rp_html(out, b->leg);
      fputs("</td><td>", out), rp_html(out, b->check);
      fputs("</td><td>", out), rp_html(out, b->abi);
      fprintf(out, "</td><td class=\"n\">%llu</td></tr>\n", (unsigned long long)b->count);
    }
    fputs("</table>\n", out);
  }
  fputs("<h2 id=\"failures\">Failures</h2>\n", out);
  if (!nfail) fputs("<p>None.</p>\n", out);
  for (int i = 0; i < r->nb; i++)
    if (!r->b[i].known) bucket_html(r, &r->b[i], i + 1, out);
  if (nfail < r->nb) {
    fputs("<h2 id=\"known\">Known divergences</h2>\n<p>Labelled \"known\" by the rules file: not "
          "failures.</p>\n",
          out);
    for (int i = 0; i < r->nb; i++)
      if (r->b[i].known) bucket_html(r, &r->b[i], i + 1, out);
  }
  if (r->nlegs) {
    fputs("<h2 id=\"legs\">Legs</h2>\n<table>\n<tr><th>leg</th><th>ran</th><th>pass</th>"
          "<th>fail</th><th>skip</th><th>note</th></tr>\n",
          out);
    for (int i = 0; i < r->nlegs; i++) {
      const rp_leg *l = &r->legs[i];
      fputs("<tr><td>", out), rp_html(out, l->name);
      fprintf(out,
              "</td><td class=\"n\">%llu</td><td class=\"n\">%llu</td><td class=\"n\">%llu</td>"
              "<td class=\"n\">%llu</td><td>",
              (unsigned long long)l->ran, (unsigned long long)l->pass, (unsigned long long)l->fail,
              (unsigned long long)l->skip);
      if (l->off) fputs("off: ", out), rp_html(out, l->off);
      fputs("</td></tr>\n", out);
    }
    fputs("</table>\n", out);
  }
  if (r->nproblems) {
    fputs("<h2 id=\"problems\">Problems with the input</h2>\n<ul class=\"problems\">\n", out);
    for (int i = 0; i < r->nproblems; i++)
      fputs("<li>", out), rp_html(out, r->problems[i]), fputs("</li>\n", out);
    fputs("</ul>\n", out);
  }
  fputs("</body>\n</html>\n", out);
  return ferror(out) ? AF_ERR_IO : AF_OK;
}
