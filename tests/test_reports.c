/* test_reports.c - the reports module: its JSON reader, the function a finding names, the C
 * signature, the disassembly, and loading, merging and writing hand-made campaign directories. */
#define _GNU_SOURCE /* mkdtemp, asprintf */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "reports.h"
#include "rp_json.h"

/* ---- the JSON reader ------------------------------------------------------------------- */
static void test_json(void) {
  char err[200];
  const char *ok =
      " {\"a\": [1, -2.5e3, true, false, null], \"s\": \"x\\u00e9\\ud83d\\ude00\\n\\\"\","
      " \"big\": 18446744073709551615, \"o\": {}} ";
  rj *v = rj_parse(ok, strlen(ok), err, sizeof err);
  CHECKF(v && v->kind == RJ_OBJ && v->n == 4, "%s", err);
  if (v) {
    const rj *a = rj_get(v, "a");
    CHECK(a && a->kind == RJ_ARR && a->n == 5);
    CHECK(a && a->items[1]->num == -2500 && a->items[2]->b == 1 && a->items[4]->kind == RJ_NULL);
    const char *s = rj_str(v, "s");
    CHECKF(s && !strcmp(s, "x\xc3\xa9\xf0\x9f\x98\x80\n\""), "%s", s ? s : "(null)");
    uint64_t big = 0;
    CHECK(!rj_u64(v, "big", &big) && big == UINT64_MAX);
    CHECK(rj_u64(v, "s", &big) == -1 && rj_u64(v, "none", &big) == -1);
    CHECK(rj_get(v, "o") && rj_get(v, "o")->kind == RJ_OBJ && rj_get(v, "o")->n == 0);
    CHECK(!rj_truthy(rj_get(v, "none")) && rj_truthy(rj_get(v, "o")));
  }
  rj_free(v);
  static const struct {
    const char *text, *where;
  } bad[] = {
      {"{", "line 1 col 2"},         {"[1,]", "line 1 col 4"},
      {"{\"a\" 1}", "line 1 col 6"}, {"01", "leading zero"},
      {"\"\\x\"", "bad escape"},     {"[1] 2", "text after"},
      {"\n\n  tru", "line 3 col 3"}, {"\"a\nb\"", "control"},
      {"", "end of input"},          {"{\"a\":1,}", "expected a key"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    v = rj_parse(bad[i].text, strlen(bad[i].text), err, sizeof err);
    CHECKF(!v && strstr(err, bad[i].where), "'%s': got '%s', want '%s'", bad[i].text, err,
           bad[i].where);
    rj_free(v);
  }
  char deep[200];
  memset(deep, '[', 70), memset(deep + 70, ']', 70);
  v = rj_parse(deep, 140, err, sizeof err);
  CHECKF(!v && strstr(err, "deeper than 64"), "%s", err);
  rj_free(v);
}

/* f0 (entry, sysv) calls f2 (host), f1 (win64), f2; f1 calls f2. In the order made: f0->f2,
 * f0->f1, f1->f2, f0->f2; among host calls only: 0 f0->f2, 1 f1->f2, 2 f0->f2. */
static const char small_case[] = "# abifuzz case, generator 1\n# seed 5 index 9 abi sysv\n\n"
                                 "type t21 = struct { i64, f64 }\n"
                                 "type t22 = struct { u8, u16 }\n\n"
                                 "func f0 sysv (t21, i32) -> t22 {\n"
                                 "  call void f2 (v1)\n"
                                 "  v2 = call i32 f1 (v1)\n"
                                 "  call void f2 (v2)\n"
                                 "  v3 = const t22 01000200\n"
                                 "  ret t22 v3\n}\n\n"
                                 "func f1 win64 (i32) -> i32 {\n"
                                 "  call void f2 (v0)\n"
                                 "  ret i32 v0\n}\n\n"
                                 "func f2 host sysv (i32) -> void {\n  ret void\n}\n\n"
                                 "entry f0\ninput t21 0100000000000000000000000000f03f\n"
                                 "input i32 7\n";

static void test_named(const af_case *c) {
  static const struct {
    const char *what;
    int fn;
    long off;
  } t[] = {
      {"call 1 to f2", 1, -1},          /* host numbering: f1's call */
      {"arg 0 of call 2 to f2", 0, -1}, /* host numbering: f0's second call */
      {"return of call 0 to f2", 0, -1},
      {"call 1 to f1", 0, -1}, /* not host call 1: call 1 of all, f0 -> f1 */
      {"f1+0x10", 1, 16},
      {"in f1", 1, -1},
      {"rbx", 0, -1},
      {"call 9 to f7", 0, -1}, /* no such function: the entry */
      {"", 0, -1},
  };
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    long off;
    int fn = rp_named_function(c, t[i].what, &off);
    CHECKF(fn == t[i].fn && off == t[i].off, "'%s': f%d off %ld, want f%d off %ld", t[i].what, fn,
           off, t[i].fn, t[i].off);
  }
}

static void test_named_call(const af_case *c) {
  int caller = -1, callee = -1, nth = -1;
  CHECK(!rp_named_call(c, "arg 0 of call 2 to f2", &caller, &callee, &nth) && caller == 0 &&
        callee == 2 && nth == 1); /* f0's second call to f2 */
  CHECK(!rp_named_call(c, "call 1 to f2", &caller, &callee, &nth) && caller == 1 && nth == 0);
  CHECK(!rp_named_call(c, "call 1 to f1", &caller, &callee, &nth) && caller == 0 && nth == 0);
  CHECK(rp_named_call(c, "xmm7", &caller, &callee, &nth) == -1);
  CHECK(rp_named_call(c, "call 0 to f9", &caller, &callee, &nth) == -1);
}

static void test_signature(const af_case *c) {
  char *s = rp_signature_c(c, 1, 2);
  CHECK(s != NULL);
  if (!s) return;
  static const char *const want[] = {
      "typedef struct t21 {",
      "int64_t f0; /* byte 0 */",
      "double f1; /* byte 8 */",
      "} t21; /* size 16 align 8 */",
      "typedef struct t22 {",
      "uint16_t f1; /* byte 2 */",
      "__attribute__((sysv_abi)) t22 f0(",
      "t21 a0 /* rdi [bytes 0-7] + xmm0 [bytes 8-15]",
      "(INTEGER, SSE)",    /* wrong order would be the classes of another struct */
      "int32_t a1 /* rsi", /* after the struct took rdi */
      "__attribute__((ms_abi)) int32_t f1(",
      "int32_t a0 /* rcx */",
      "returns in rax",
      "f2: called (host function), sysv",
      "__attribute__((sysv_abi)) void f2(",
      "int32_t a0 /* rdi (INTEGER) */",
      "32 bytes of argument area",
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
    CHECKF(strstr(s, want[i]), "signature lacks '%s':\n%s", want[i], s);
  /* t21 = {i64, f64}: INTEGER then SSE, so rdi holds bytes 0-7 and xmm0 bytes 8-15 */
  CHECKF(!strstr(s, "xmm0 [bytes 0-7]"), "t21's first eightbyte is INTEGER:\n%s", s);
  free(s);
}

static void test_disasm(void) {
  /* push rbp; mov rbp, rsp; pop rbp; ret */
  static const uint8_t code[] = {0x55, 0x48, 0x89, 0xe5, 0x5d, 0xc3};
  const char *why = NULL;
  rp_code rc = {.bytes = (uint8_t *)code, .size = sizeof code, .ncalls = 1};
  rc.call_off[0] = 4, rc.call_fn[0] = 3; /* "pop rbp" annotated as a call to f3 */
#ifdef AF_HAVE_CAPSTONE
  CHECK(rp_insn_at(&rc, 1) == 1 && rp_insn_at(&rc, 2) == 0 && rp_insn_at(&rc, 6) == 0);
  /* mov qword ptr [r11 + 0x38], r11 (the jit-segv mutant's store); mov rax, [rip + 0x10] */
  static const uint8_t st[] = {0x4d, 0x89, 0x5b, 0x38, 0x48, 0x8b, 0x05, 0x10, 0x00, 0x00, 0x00};
  rp_code sc = {.bytes = (uint8_t *)st, .size = sizeof st};
  rp_regs rg = {.n = 2, .name = {"rax", "r11"}, .val = {5, 0}, .rip = 0x1000};
  CHECK(rp_insn_touches(&sc, 0, &rg, 0x38) == 1);
  CHECK(rp_insn_touches(&sc, 0, &rg, 0x78) == 0);
  CHECK(rp_insn_touches(&sc, 4, &rg, 0x1000 + 7 + 0x10) == 1); /* rip-relative: next insn + disp */
  rg.n = 1;                                                    /* no r11 recorded */
  CHECK(rp_insn_touches(&sc, 0, &rg, 0x38) == -1);
#endif
  char *d = rp_disasm(&rc, 2, 0, &why);
#ifdef AF_HAVE_CAPSTONE
  CHECKF(d && strstr(d, "=> ") && strstr(d, "push"), "%s", d ? d : why);
  if (d) {
    const char *m = strstr(d, "=> ");
    CHECKF(m && strstr(m, "mov") && strstr(m, "rbp, rsp") < strchr(m, '\n'), "%s", d);
    CHECK(strstr(d, "ret") != NULL);
    const char *p = strstr(d, "pop");
    CHECKF(p && strstr(p, "; f3") && strstr(p, "; f3") < strchr(p, '\n'), "%s", d);
  }
  free(d);
  d = rp_disasm(&rc, -1, 2, &why); /* at most 2: the first and the last */
  CHECKF(d && !strstr(d, "=> ") && strstr(d, "push") && strstr(d, "... 2 instructions\n") &&
             strstr(d, "ret") && !strstr(d, "pop"),
         "%s", d ? d : why);
  free(d);
  d = rp_disasm(&rc, 5, 2, &why); /* a window of 2 around the mark (ret) */
  CHECKF(d && strstr(d, "... 2 instructions before") && strstr(d, "pop") && strstr(d, "=> ") &&
             !strstr(d, "push"),
         "%s", d ? d : why);
#else
  CHECK(!d && why && strstr(why, "Capstone"));
#endif
  free(d);
}

/* ---- hand-made campaign directories ---------------------------------------------------- */
static void put(const char *dir, const char *name, const char *fmt, ...) {
  char path[600];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  CHECKF(f != NULL, "cannot write %s", path);
  if (!f) return;
  va_list ap;
  va_start(ap, fmt);
  vfprintf(f, fmt, ap);
  va_end(ap);
  fclose(f);
}

static char *sub(const char *dir, const char *name) {
  char *p = NULL;
  if (asprintf(&p, "%s/%s", dir, name) < 0) abort();
  mkdir(p, 0777);
  return p;
}

static char *slurp(const char *dir, const char *name) {
  char path[600];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "r");
  if (!f) return NULL;
  char *buf = calloc(1, 1 << 22);
  size_t n = buf ? fread(buf, 1, (1 << 22) - 1, f) : 0;
  (void)n;
  fclose(f);
  return buf;
}

typedef struct {
  int calls, last_fn;
  char last_inject[64];
} hook_log;

static af_status fake_code(void *u, const af_case *c, const char *inject, int fn, rp_code *out,
                           af_error *err) {
  hook_log *h = u;
  (void)c, (void)err;
  static const uint8_t code[] = {0x55, 0x48, 0x89, 0xe5, 0x5d, 0xc3};
  h->calls++, h->last_fn = fn;
  snprintf(h->last_inject, sizeof h->last_inject, "%s", inject ? inject : "(none)");
  out->bytes = malloc(sizeof code);
  if (!out->bytes) return AF_ERR_NOMEM;
  memcpy(out->bytes, code, sizeof code);
  out->size = sizeof code;
  out->ncalls = 2; /* as if "pop rbp" called f2 and "ret" called f1 */
  out->call_off[0] = 4, out->call_fn[0] = 2;
  out->call_off[1] = 5, out->call_fn[1] = 1;
  out->nfns = 3; /* f0 at the page start, f1 at 0x100, f2 at 0x1ff0 (the next page) */
  out->fn_start[0] = 0, out->fn_start[1] = 0x100, out->fn_start[2] = 0x1ff0;
  out->fn_size[0] = out->fn_size[1] = out->fn_size[2] = sizeof code;
  return AF_OK;
}

static const char key2[] = "native/arg/sysv: <i32> & \\\"quoted\\\""; /* as JSON text */

static void make_dirs(const char *a, const char *b) {
  put(a, "summary.json",
      "{\"version\": \"0.1.0\", \"done\": true, \"cases\": 10, \"findings\": 5, \"crashes\": 0,\n"
      " \"timeouts\": 0, \"elapsed_s\": 1.5, \"inject\": \"rbx-clobbered\",\n"
      " \"per_leg\": {\"native\": {\"ran\": 10, \"pass\": 8, \"fail\": 2, \"skip\": 0, \"off\": "
      "null},\n   \"runner\": {\"ran\": 10, \"pass\": 10, \"fail\": 0, \"skip\": 0, \"off\": "
      "null},\n"
      "   \"emu\": {\"ran\": 0, \"pass\": 0, \"fail\": 0, \"skip\": 0, \"off\": \"no unicorn\"}},\n"
      " \"buckets\": [\n"
      "  {\"leg\": \"native\", \"check\": \"callee-saved\", \"abi\": \"sysv\", \"what\": \"rbx\", "
      "\"count\": 3, \"first_s\": 0.1, \"first_finding\": \"5-9-native-callee-saved\", \"key\": "
      "\"native/callee-saved/sysv: rbx\", \"shape\": \"callee-saved rbx\", \"smallest\": "
      "{\"index\": 9, \"size\": 100, \"finding\": \"5-9-native-callee-saved\"}, \"known\": 0},\n"
      "  {\"leg\": \"native\", \"check\": \"arg\", \"abi\": \"sysv\", \"what\": \"arg 0 of call 1 "
      "to f2\", \"count\": 1, \"first_finding\": \"5-10-native-arg\", \"key\": \"%s\", \"known\": "
      "1, \"known_rule\": \"clang-i128-r9\"}\n ]}\n",
      key2);
  char *f;
  f = sub(a, "findings");
  free(f);
  f = sub(a, "findings/5-9-native-callee-saved");
  put(f, "report.json",
      "{\"id\": \"5-9-native-callee-saved\", \"leg\": \"native\", \"check\": \"callee-saved\", "
      "\"what\": \"rbx\", \"detail\": \"canary 0x1111, got 0x2222\", \"seed\": 5, \"index\": 9, "
      "\"abi\": \"sysv\", \"inject\": \"rbx-clobbered\", \"bucket\": \"native/callee-saved/sysv: "
      "rbx\", \"rip_fn\": 0, \"rip_off\": \"0x1\", \"consensus\": {\"pass\": [\"ffi-caller\"], "
      "\"fail\": [{\"leg\": \"native\", \"check\": \"callee-saved\"}], \"outlier\": \"jit\"}}\n");
  put(f, "case.case", "%s", small_case);
  free(f);
  f = sub(a, "findings/5-11-native-callee-saved"); /* no case.case */
  put(f, "report.json",
      "{\"id\": \"5-11-native-callee-saved\", \"leg\": \"native\", \"check\": \"callee-saved\", "
      "\"what\": \"rbx\", \"detail\": \"d\", \"seed\": 5, \"index\": 11, \"abi\": \"sysv\", "
      "\"inject\": \"rbx-clobbered\", \"bucket\": \"native/callee-saved/sysv: rbx\"}\n");
  free(f);
  f = sub(a, "findings/5-10-native-arg");
  put(f, "report.json",
      "{\"id\": \"5-10-native-arg\", \"leg\": \"native\", \"check\": \"arg\", \"what\": \"arg 0 "
      "of call 1 to f2\", \"detail\": \"expected 07, got 00\", \"seed\": 5, \"index\": 10, "
      "\"abi\": \"sysv\", \"inject\": \"rbx-clobbered\", \"bucket\": \"%s\", \"known\": "
      "{\"rule\": \"clang-i128-r9\", \"reason\": \"clang <= 17 splits\"}}\n",
      key2);
  put(f, "case.case", "%s", small_case);
  free(f);
  f = sub(a, "findings/5-12-broken");
  put(f, "report.json", "{\"leg\": \"native\",\n  \"check\": }\n");
  put(f, "case.case", "%s", small_case);
  free(f);
  f = sub(a, "findings/5-13-empty");
  free(f);
  f = sub(a, "findings/.tmp-5-14-native-arg"); /* a campaign killed while writing it */
  free(f);

  /* b: the campaign before the triage keys (no key, shape, known, bucket) */
  put(b, "summary.json",
      "{\"done\": true, \"cases\": 4, \"findings\": 2, \"inject\": \"sysv-struct-split\",\n"
      " \"per_leg\": {\"native\": {\"ran\": 4, \"pass\": 4, \"fail\": 0, \"skip\": 0, \"off\": "
      "null}, \"runner\": {\"ran\": 4, \"pass\": 2, \"fail\": 2, \"skip\": 0}},\n"
      " \"buckets\": [{\"leg\": \"runner\", \"check\": \"result\", \"abi\": \"sysv\", \"what\": "
      "\"(i32) at byte 0\", \"count\": 2, \"first_s\": 0.5, \"first_finding\": "
      "\"6-1-runner-result\", \"written\": 1}]}\n");
  f = sub(b, "findings");
  free(f);
  f = sub(b, "findings/6-1-runner-result");
  put(f, "report.json",
      "{\"id\": \"6-1-runner-result\", \"leg\": \"runner\", \"check\": \"result\", \"what\": "
      "\"(i32) at byte 0\", \"detail\": \"expected 07, got 08\", \"seed\": 6, \"index\": 1, "
      "\"abi\": \"sysv\", \"inject\": \"sysv-struct-split\"}\n");
  put(f, "case.case", "%s", small_case);
  free(f);
  /* a crash with only an absolute RIP: page offset 0xff1 fits f2 (0x1ff0 + 1) alone */
  f = sub(b, "findings/6-2-runner-crash");
  put(f, "report.json",
      "{\"id\": \"6-2-runner-crash\", \"leg\": \"runner\", \"check\": \"crash\", \"what\": "
      "\"SIGSEGV\", \"detail\": \"SIGSEGV at address 0x38\", \"seed\": 6, \"index\": 2, \"abi\": "
      "\"sysv\", \"inject\": \"jit-segv\", \"crash\": {\"signal\": \"SIGSEGV\", \"rip\": "
      "\"0x7f1234567ff1\", \"rip_in_jit\": 1, \"fault_addr\": \"0x38\"}}\n");
  put(f, "case.case", "%s", small_case);
  free(f);
}

static const rp_bucket *by_key(const rp_report *r, const char *key) {
  for (int i = 0; i < r->nb; i++)
    if (!strcmp(r->b[i].key, key)) return &r->b[i];
  return NULL;
}

static void test_dirs(const char *tmp) {
  char *a = sub(tmp, "a"), *b = sub(tmp, "b"), *out = NULL;
  make_dirs(a, b);
  rp_report r;
  rp_init(&r);
  af_error err = {{0}};
  CHECKF(rp_load_dir(&r, a, &err) == AF_OK, "%s", err.msg);
  CHECKF(rp_load_dir(&r, b, &err) == AF_OK, "%s", err.msg);
  CHECKF(r.nb == 4 && r.nf == 5, "%d buckets, %d findings", r.nb, r.nf);
  CHECKF(r.nproblems == 3, "%d problems", r.nproblems); /* no case, no report, malformed */
  CHECK(r.cases == 14 && r.findings == 7);
  CHECKF(r.injects && !strcmp(r.injects, "rbx-clobbered, sysv-struct-split"), "%s", r.injects);
  const rp_bucket *b4 = by_key(&r, "runner/crash sysv: SIGSEGV"); /* from its finding alone */
  CHECK(b4 && b4->count == 1 && b4->nfind == 1 && b4->from_findings);
  const rp_bucket *b1 = by_key(&r, "native/callee-saved/sysv: rbx");
  const rp_bucket *b2 = by_key(&r, "native/arg/sysv: <i32> & \"quoted\"");
  const rp_bucket *b3 = by_key(&r, "runner/result sysv: (i32) at byte 0");
  CHECK(b1 && b1->count == 3 && b1->nfind == 2 && !b1->known && b1->shape &&
        !strcmp(b1->shape, "callee-saved rbx"));
  CHECK(b2 && b2->known && b2->known_text && strstr(b2->known_text, "clang-i128-r9"));
  CHECK(b3 && b3->count == 2 && b3->nfind == 1 && !b3->known);
  hook_log h = {0};
  rp_opts o = {fake_code, &h, 0};
  CHECK(rp_prepare(&r, &o) == AF_OK);
  /* failures by count, then the known one */
  CHECKF(r.nb == 4 && !strcmp(r.b[0].key, "native/callee-saved/sysv: rbx") &&
             !strcmp(r.b[1].key, "runner/result sysv: (i32) at byte 0") &&
             !strcmp(r.b[2].key, "runner/crash sysv: SIGSEGV") && r.b[3].known,
         "order: %s | %s | %s | %s", r.b[0].key, r.b[1].key, r.b[2].key, r.b[3].key);
  /* one per bucket, and the crash's function again: its RIP lies in f2, not the entry */
  CHECKF(h.calls == 5, "%d code calls", h.calls);
  /* the last bucket (known) names "arg 0 of call 1 to f2": host call 1 is made by f1 */
  CHECKF(h.last_fn == 1 && !strcmp(h.last_inject, "rbx-clobbered"), "f%d inject %s", h.last_fn,
         h.last_inject);
  const rp_finding *rep = r.b[0].rep >= 0 ? &r.f[r.b[0].rep] : NULL;
  CHECK(rep && !strcmp(rep->id, "5-9-native-callee-saved"));
#ifdef AF_HAVE_CAPSTONE
  CHECKF(r.b[0].disasm && strstr(r.b[0].disasm, "=> ") && strstr(r.b[0].disasm, "rbp, rsp"), "%s",
         r.b[0].disasm ? r.b[0].disasm : r.b[0].disasm_note);
  CHECKF(r.b[1].disasm && !strstr(r.b[1].disasm, "=> "), "%s", r.b[1].disasm_note);
  /* the crash: RIP page offset 0xff1 = f2 (at 0x1ff0) + 1, "mov rbp, rsp" */
  const char *ck = r.b[2].disasm ? strstr(r.b[2].disasm, "=> ") : NULL;
  CHECKF(ck && strstr(ck, "rbp, rsp") < strchr(ck, '\n') && r.b[2].disasm_note &&
             strstr(r.b[2].disasm_note, "f2 (host function") &&
             strstr(r.b[2].disasm_note, "offset in its page"),
         "%s\n%s", r.b[2].disasm ? r.b[2].disasm : "", r.b[2].disasm_note);
  /* the known bucket names call 1 to f2, f1's first call to f2: marked */
  const char *mk = r.b[3].disasm ? strstr(r.b[3].disasm, "=> ") : NULL;
  CHECKF(mk && strstr(mk, "pop") && strstr(mk, "; f2") < strchr(mk, '\n'), "%s",
         r.b[3].disasm ? r.b[3].disasm : r.b[3].disasm_note);
  CHECK(r.b[3].disasm_note && strstr(r.b[3].disasm_note, "marks the call"));
#endif
  CHECK(r.b[0].sig_c && strstr(r.b[0].sig_c, "__attribute__((sysv_abi)) t22 f0("));
  if (asprintf(&out, "%s/out", tmp) < 0) abort();
  CHECKF(rp_write_all(&r, out, &err) == AF_OK, "%s", err.msg);
  char *md = slurp(out, "report.md"), *html = slurp(out, "report.html");
  char *junit = slurp(out, "junit.xml"), *sarif = slurp(out, "findings.sarif");
  CHECK(md && html && junit && sarif);
  if (md && html && junit && sarif) {
    for (int i = 0; i < r.nb; i++)
      CHECKF(strstr(md, r.b[i].key), "md lacks %s", r.b[i].key);
    CHECK(strstr(md, "## Known divergences") && strstr(md, "no report.json") &&
          strstr(md, "no case.case") && strstr(md, "pass: ffi-caller") &&
          strstr(md, "native (callee-saved)") && strstr(md, "outlier: jit"));
    for (int i = 1; i <= 4; i++) {
      char id[32];
      snprintf(id, sizeof id, "id=\"bucket-%d\"", i);
      CHECKF(strstr(html, id), "html lacks %s", id);
    }
    CHECK(strstr(html, "&lt;i32&gt; &amp; &quot;quoted&quot;") && !strstr(html, "<i32>"));
    CHECK(!strstr(html, "<script") && !strstr(html, "src=") && !strstr(html, "http"));
    CHECK(strstr(junit, "failures=\"3\"") && strstr(junit, "<skipped message=\"known: "));
    CHECK(strstr(junit, "name=\"leg emu: 0 cases, no finding\"") &&
          !strstr(junit, "name=\"leg native")); /* native has failing buckets */
    CHECK(strstr(sarif, "\"version\": \"2.1.0\"") && strstr(sarif, "\"suppressions\"") &&
          strstr(sarif, "\"uriBaseId\": \"OUTDIR1\"") &&
          strstr(sarif, "findings/5-9-native-callee-saved/case.case"));
    rj *sv = rj_parse(sarif, strlen(sarif), NULL, 0);
    CHECK(sv && rj_get(sv, "runs") && rj_get(sv, "runs")->n == 1);
    rj_free(sv);
  }
  free(md), free(html), free(junit), free(sarif);
  rp_free(&r);

  /* bad input */
  rp_init(&r);
  char *nodir = NULL;
  if (asprintf(&nodir, "%s/no-such-dir", tmp) < 0) abort();
  CHECK(rp_load_dir(&r, nodir, &err) == AF_ERR_IO && strstr(err.msg, "no such directory"));
  char *empty = sub(tmp, "empty");
  CHECK(rp_load_dir(&r, empty, &err) == AF_ERR_IO && strstr(err.msg, "not a campaign"));
  put(empty, "summary.json", "{\"cases\": 1,\n \"buckets\": [}\n");
  CHECKF(rp_load_dir(&r, empty, &err) == AF_ERR_PARSE && strstr(err.msg, "line 2 col 14"), "%s",
         err.msg);
  rp_free(&r);
  free(nodir), free(empty), free(a), free(b), free(out);
}

int main(void) {
  test_json();
  af_case c;
  af_error err = {{0}};
  af_status s = af_parse("small", small_case, sizeof small_case - 1, &c, &err);
  CHECKF(s == AF_OK, "%s", err.msg);
  if (s == AF_OK) test_named(&c), test_named_call(&c), test_signature(&c);
  af_case_free(&c);
  test_disasm();
  char tmp[] = "/tmp/test_reports.XXXXXX";
  if (!mkdtemp(tmp)) return perror("mkdtemp"), 1;
  test_dirs(tmp);
  if (!check_failed) {
    char cmd[100];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", tmp);
  } else
    fprintf(stderr, "left %s for inspection\n", tmp);
  return check_done();
}
