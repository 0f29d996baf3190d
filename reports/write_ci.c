/* write_ci.c - junit.xml and findings.sarif (SARIF 2.1.0) for CI dashboards and code-scanning
 * UIs, and rp_write_all, which writes every output. */
#define _GNU_SOURCE /* asprintf, vasprintf */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rp_internal.h"
#include "rp_json.h"

static void plain(FILE *out, const char *s) { fputs(s, out); }

/* "check: what: detail", the one-line failure message. */
static void message(FILE *out, const rp_report *r, const rp_bucket *b,
                    void (*esc)(FILE *, const char *)) {
  const rp_finding *f = rp_rep(r, b);
  char *s = NULL;
  if (asprintf(&s, "%s: %s: %s", f ? f->check : b->check, f ? f->what : b->what,
               f && f->detail[0] ? f->detail : rp_check_desc(b->check)) < 0)
    return;
  esc(out, s);
  free(s);
}

/* ---- JUnit ------------------------------------------------------------------------------ */
static int leg_has_failure(const rp_report *r, const char *leg) {
  for (int i = 0; i < r->nb; i++)
    if (!r->b[i].known && !strcmp(r->b[i].leg, leg)) return 1;
  return 0;
}

af_status rp_write_junit(const rp_report *r, FILE *out) {
  int nfail = rp_nfailing(r), nskip = r->nb - nfail, tests = r->nb;
  for (int i = 0; i < r->nlegs; i++) {
    if (leg_has_failure(r, r->legs[i].name)) continue;
    tests++; /* its passing (or skipped, when it ran nothing) testcase */
    nskip += r->legs[i].off || !r->legs[i].ran;
  }
  fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
  fprintf(out,
          "<testsuites name=\"abifuzz\" tests=\"%d\" failures=\"%d\" errors=\"0\" "
          "skipped=\"%d\" time=\"%.3f\">\n",
          tests, nfail, nskip, r->elapsed_s);
  fprintf(out,
          "  <testsuite name=\"abifuzz\" tests=\"%d\" failures=\"%d\" errors=\"0\" "
          "skipped=\"%d\" time=\"%.3f\">\n",
          tests, nfail, nskip, r->elapsed_s);
  fprintf(out,
          "    <properties>\n      <property name=\"cases\" value=\"%llu\"/>\n"
          "      <property name=\"findings\" value=\"%llu\"/>\n",
          (unsigned long long)r->cases, (unsigned long long)r->findings);
  if (r->injects)
    fputs("      <property name=\"inject\" value=\"", out), rp_xml(out, r->injects),
        fputs("\"/>\n", out);
  fputs("    </properties>\n", out);
  for (int i = 0; i < r->nb; i++) {
    const rp_bucket *b = &r->b[i];
    fputs("    <testcase classname=\"abifuzz.", out);
    rp_xml(out, b->leg[0] ? b->leg : "unknown");
    fprintf(out, "\" name=\"bucket %d: ", i + 1);
    rp_xml(out, b->key);
    fputs("\" time=\"0\">\n", out);
    if (b->known) {
      fputs("      <skipped message=\"known: ", out);
      rp_xml(out, b->known_text ? b->known_text : "labelled known");
      fputs("\"/>\n", out);
    } else {
      fputs("      <failure message=\"", out);
      message(out, r, b, rp_xml);
      fputs("\" type=\"", out);
      rp_xml(out, b->check);
      fputs("\">", out);
      rp_fact facts[RP_MAX_FACTS];
      int nf = rp_bucket_facts(r, b, facts);
      for (int k = 0; k < nf; k++) {
        fprintf(out, "%s: ", facts[k].label);
        rp_xml(out, facts[k].text);
        fputc('\n', out);
      }
      rp_facts_free(facts, nf);
      if (b->sig_c) fputs("signature in C:\n", out), rp_xml(out, b->sig_c);
      fputs("</failure>\n", out);
    }
    fputs("    </testcase>\n", out);
  }
  /* a testcase per leg that found nothing, so a dashboard sees the legs that ran */
  for (int i = 0; i < r->nlegs; i++) {
    const rp_leg *l = &r->legs[i];
    if (leg_has_failure(r, l->name)) continue;
    fputs("    <testcase classname=\"abifuzz.", out);
    rp_xml(out, l->name);
    fputs("\" name=\"leg ", out);
    rp_xml(out, l->name);
    fprintf(out, ": %llu cases, no finding\" time=\"0\"", (unsigned long long)l->ran);
    if (l->off || !l->ran) {
      fputs(">\n      <skipped message=\"", out);
      rp_xml(out, l->off ? l->off : "ran no case");
      fputs("\"/>\n    </testcase>\n", out);
    } else
      fputs("/>\n", out);
  }
  if (r->nproblems) {
    fputs("    <system-err>", out);
    for (int i = 0; i < r->nproblems; i++)
      rp_xml(out, r->problems[i]), fputc('\n', out);
    fputs("</system-err>\n", out);
  }
  fputs("  </testsuite>\n</testsuites>\n", out);
  return ferror(out) ? AF_ERR_IO : AF_OK;
}

/* ---- SARIF 2.1.0 ------------------------------------------------------------------------- */
/* A URI reference (RFC 3986): unreserved characters and '/' as they are, the rest %XX. */
static void uri(FILE *out, const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
        strchr("-._~/", *p))
      fputc(*p, out);
    else
      fprintf(out, "%%%02X", *p);
  }
}

static int rule_index(const char **rules, int n, const char *check) {
  for (int i = 0; i < n; i++)
    if (!strcmp(rules[i], check)) return i;
  return -1;
}

af_status rp_write_sarif(const rp_report *r, FILE *out) {
  const char **rules = calloc((size_t)r->nb + 1, sizeof *rules);
  if (!rules) return AF_ERR_NOMEM;
  int nrules = 0;
  for (int i = 0; i < r->nb; i++)
    if (rule_index(rules, nrules, r->b[i].check) < 0) rules[nrules++] = r->b[i].check;
  fputs("{\n  \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n"
        "  \"version\": \"2.1.0\",\n  \"runs\": [\n    {\n",
        out);
  fprintf(out,
          "      \"tool\": {\"driver\": {\"name\": \"abifuzz\", \"version\": \"%s\", "
          "\"semanticVersion\": \"%s\",\n        \"rules\": [",
          AF_VERSION, AF_VERSION);
  for (int i = 0; i < nrules; i++) {
    fputs(i ? ",\n          " : "\n          ", out);
    fputs("{\"id\": ", out), rp_json_str(out, rules[i]);
    fputs(", \"name\": ", out), rp_json_str(out, rules[i]);
    fputs(", \"shortDescription\": {\"text\": ", out), rp_json_str(out, rp_check_desc(rules[i]));
    fputs("}, \"defaultConfiguration\": {\"level\": \"error\"}}", out);
  }
  fputs(nrules ? "\n        ]}},\n" : "]}},\n", out);
  fputs("      \"originalUriBaseIds\": {", out);
  for (int d = 0; d < r->ndirs; d++) {
    char abs[PATH_MAX];
    const char *p = realpath(r->dirs[d], abs) ? abs : r->dirs[d];
    fprintf(out, "%s\n        \"OUTDIR%d\": {\"uri\": \"file://", d ? "," : "", d);
    uri(out, p);
    fprintf(out, "%s\", \"description\": {\"text\": \"campaign output directory %d\"}}",
            p[strlen(p) - 1] == '/' ? "" : "/", d);
  }
  fputs(r->ndirs ? "\n      },\n" : "},\n", out);
  fputs("      \"results\": [", out);
  for (int i = 0; i < r->nb; i++) {
    const rp_bucket *b = &r->b[i];
    const rp_finding *f = rp_rep(r, b);
    fputs(i ? ",\n        {" : "\n        {", out);
    fputs("\"ruleId\": ", out), rp_json_str(out, b->check);
    fprintf(out, ", \"ruleIndex\": %d, \"kind\": \"fail\", \"level\": \"%s\",\n",
            rule_index(rules, nrules, b->check), b->known ? "note" : "error");
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (m) {
      fprintf(m, "bucket %d: %s: ", i + 1, b->key);
      message(m, r, b, plain);
      fclose(m);
    }
    fputs("         \"message\": {\"text\": ", out), rp_json_str(out, text ? text : b->key);
    free(text);
    fputs("},\n", out);
    if (f) {
      fprintf(out, "         \"locations\": [{\"physicalLocation\": {\"artifactLocation\": "
                   "{\"uri\": \"findings/");
      uri(out, f->id);
      fprintf(out, "/%s\", \"uriBaseId\": \"OUTDIR%d\"}}}],\n",
              f->case_size >= 0 ? "case.case" : "report.json", f->outdir);
    }
    fputs("         \"partialFingerprints\": {\"abifuzzBucket/v1\": ", out),
        rp_json_str(out, b->key);
    fputs("},\n         \"properties\": {\"bucket\": ", out);
    fprintf(out, "%d, \"key\": ", i + 1), rp_json_str(out, b->key);
    fputs(", \"leg\": ", out), rp_json_str(out, b->leg);
    fputs(", \"abi\": ", out), rp_json_str(out, b->abi);
    fputs(", \"what\": ", out), rp_json_str(out, b->what);
    if (b->shape) fputs(", \"shape\": ", out), rp_json_str(out, b->shape);
    fprintf(out, ", \"count\": %llu, \"known\": %s}", (unsigned long long)b->count,
            b->known ? "true" : "false");
    if (b->known) {
      fputs(",\n         \"suppressions\": [{\"kind\": \"external\", \"justification\": ", out);
      rp_json_str(out, b->known_text ? b->known_text : "labelled known");
      fputs("}]", out);
    }
    fputc('}', out);
  }
  fputs(r->nb ? "\n      ]\n    }\n  ]\n}\n" : "]\n    }\n  ]\n}\n", out);
  free(rules);
  return ferror(out) ? AF_ERR_IO : AF_OK;
}

/* ---- every output ------------------------------------------------------------------------ */
static af_status write_one(const rp_report *r, const char *dir, const char *name,
                           af_status (*fn)(const rp_report *, FILE *), af_error *err) {
  char path[4200], tmp[4300];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  if (!f) {
    snprintf(err->msg, sizeof err->msg, "cannot write %.200s: %s", tmp, strerror(errno));
    return AF_ERR_IO;
  }
  af_status s = fn(r, f);
  if (fclose(f) && s == AF_OK) s = AF_ERR_IO;
  if (s == AF_OK && rename(tmp, path)) s = AF_ERR_IO;
  if (s != AF_OK) {
    unlink(tmp);
    snprintf(err->msg, sizeof err->msg, "cannot write %.200s: %s", path,
             s == AF_ERR_NOMEM ? "out of memory" : strerror(errno));
  }
  return s;
}

af_status rp_write_all(const rp_report *r, const char *dir, af_error *err) {
  if (mkdir(dir, 0777) && errno != EEXIST) {
    snprintf(err->msg, sizeof err->msg, "cannot create %.200s: %s", dir, strerror(errno));
    return AF_ERR_IO;
  }
  af_status s;
  if ((s = write_one(r, dir, "report.md", rp_write_md, err)) != AF_OK) return s;
  if ((s = write_one(r, dir, "report.html", rp_write_html, err)) != AF_OK) return s;
  if ((s = write_one(r, dir, "junit.xml", rp_write_junit, err)) != AF_OK) return s;
  return write_one(r, dir, "findings.sarif", rp_write_sarif, err);
}
