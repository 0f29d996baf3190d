#!/usr/bin/env bash
# report_test.sh - `abifuzz report` end to end: short campaigns with three JIT mutants, each
# reported alone and all merged; every bucket of every summary.json must be in report.md,
# report.html, junit.xml and findings.sarif, junit and sarif well-formed (SARIF 2.1.0's required
# properties), bad input is one line and exit 2. With --chromium: report.html rendered by
# headless Chromium must show every bucket (exit 77 = skipped when chromium is absent).
# Usage: report_test.sh PATH/TO/abifuzz [--chromium]
set -u
af=$1
mode=${2:-}
if [ "$mode" = --chromium ] && ! command -v chromium >/dev/null 2>&1; then
  echo "SKIP: chromium is not installed (ci/deps.sh installs it)"
  exit 77
fi
tmp=$(mktemp -d)
export XDG_CACHE_HOME="$tmp/cache" # the oracle stub cache stays out of $HOME
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }

# expect CODE CMD... : exit code CODE; on exit 2, exactly one "abifuzz: " line on stderr
expect() {
  local want=$1; shift
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ "$got" != "$want" ]; then bad "exit $got, want $want: $*"; head -n 5 "$tmp/err" >&2; return 1; fi
  if [ "$want" = 2 ]; then
    local n; n=$(wc -l <"$tmp/err")
    if [ "$n" != 1 ]; then bad "want one error line, got $n: $*"; cat "$tmp/err" >&2; return 1; fi
    if ! grep -q '^abifuzz: ' "$tmp/err"; then bad "error not prefixed: $*"; return 1; fi
  fi
  ok
}

# ---- campaigns: three mutants of different kinds ---------------------------------------
have_emu=0
"$af" --list-legs | grep -qx emu && have_emu=1
campaign() { # NAME ARGS...: a campaign that must find something (exit 1)
  local name=$1; shift
  "$af" "$@" --out "$tmp/$name" --quiet >"$tmp/camp.out" 2>"$tmp/camp.err"
  local rc=$?
  if [ $rc = 1 ] && [ -f "$tmp/$name/summary.json" ]; then ok; else
    bad "campaign $name exit $rc: $*"; tail -n 3 "$tmp/camp.err" >&2
  fi
}
campaign split --inject sysv-struct-split --cases 80
campaign rbx --inject rbx-clobbered --cases 40 --legs native,runner,ffi-caller
if [ $have_emu = 1 ]; then
  campaign segv --inject jit-segv --cases 4 --legs runner,emu
else
  campaign segv --inject jit-segv --cases 4 --legs runner
fi
dirs=("$tmp/split" "$tmp/rbx" "$tmp/segv")
if [ $fail != 0 ]; then
  echo "report_test: the campaigns failed: nothing to report ($pass passed, $fail failed)"
  exit 1
fi

# check.py REPORT_DIR OUT_DIR...: every bucket of the summaries in every output
cat >"$tmp/check.py" <<'EOF'
import html.parser, json, os, sys, urllib.parse, xml.etree.ElementTree as ET
rep, outs = sys.argv[1], sys.argv[2:]
errors = []
def err(m): errors.append(m)

keys, known = [], set()
for d in outs:
    s = json.load(open(os.path.join(d, "summary.json")))
    for b in s["buckets"]:
        k = b.get("key") or "%s/%s %s: %s" % (b["leg"], b["check"], b["abi"], b["what"])
        if k not in keys: keys.append(k)
        if b.get("known"): known.add(k)
if not keys: err("the campaigns found nothing: nothing to check")

md = open(os.path.join(rep, "report.md")).read()
for k in keys:
    if ("`%s`" % k) not in md: err("report.md lacks bucket %r" % k)

class Sections(html.parser.HTMLParser):
    """text of every element with id bucket-N, and what a page must not have"""
    def __init__(s):
        super().__init__(); s.stack = []; s.text = {}; s.bad = []
    def handle_starttag(s, tag, attrs):
        a = dict(attrs)
        if tag == "script": s.bad.append("a <script>")
        for at in ("src", "href"):
            v = a.get(at) or ""
            if at in a and not v.startswith("#"): s.bad.append("%s=%r" % (at, v))
        if tag == "link": s.bad.append("a <link>")
        s.stack.append((tag, a.get("id", "")))
        if a.get("id", "").startswith("bucket-"): s.text[a["id"]] = ""
    def handle_endtag(s, tag):
        while s.stack:
            t, _ = s.stack.pop()
            if t == tag: break
    def handle_data(s, data):
        for _, i in s.stack:
            if i.startswith("bucket-"): s.text[i] += data

def check_html(text, what):
    p = Sections(); p.feed(text)
    if p.bad: err("%s: %s" % (what, ", ".join(p.bad[:3])))
    if "url(" in text or "@import" in text: err("%s: CSS fetches something" % what)
    if len(p.text) != len(keys): err("%s: %d bucket elements, %d buckets" % (what, len(p.text), len(keys)))
    for k in keys:
        if not any(k in t for t in p.text.values()): err("%s lacks bucket %r" % (what, k))
    for n in range(1, len(keys) + 1):
        if "bucket-%d" % n not in p.text: err("%s: no element id=bucket-%d" % (what, n))

if len(sys.argv) > 1 and os.environ.get("DOM"):
    check_html(open(os.environ["DOM"]).read(), "the page Chromium rendered")
else:
    check_html(open(os.path.join(rep, "report.html")).read(), "report.html")

    root = ET.parse(os.path.join(rep, "junit.xml")).getroot()
    cases = root.findall(".//testcase")
    fails = [c for c in cases if c.find("failure") is not None]
    if len(fails) != len(keys) - len(known): err("junit: %d failures, %d failing buckets" % (len(fails), len(keys) - len(known)))
    if int(root.get("failures")) != len(fails): err("junit: failures attribute %s" % root.get("failures"))
    if int(root.get("tests")) != len(cases): err("junit: tests attribute %s, %d testcases" % (root.get("tests"), len(cases)))
    for k in keys:
        if not any(k in (c.get("name") or "") for c in cases): err("junit lacks bucket %r" % k)
    for c in fails:
        m = c.find("failure").get("message") or ""
        if m.count(": ") < 2: err("junit: failure message not check: what: detail: %r" % m)
    legs = set()
    for d in outs:
        legs |= set(json.load(open(os.path.join(d, "summary.json")))["per_leg"])
    failing = {c.get("classname") for c in fails}
    for l in legs:
        if "abifuzz." + l not in failing and not any((c.get("name") or "").startswith("leg %s:" % l) for c in cases):
            err("junit: no testcase for leg %s, which has no failing bucket" % l)

    s = json.load(open(os.path.join(rep, "findings.sarif")))
    def need(obj, props, where):
        for p in props:
            if p not in obj: err("sarif: %s lacks required %r" % (where, p))
    # SARIF 2.1.0 schema: sarifLog {version, runs}, run {tool}, tool {driver}, toolComponent
    # {name}, reportingDescriptor {id}, result {message}, message {text | id},
    # suppression {kind}, physicalLocation {artifactLocation | address}
    def only(obj, allowed, where):  # the schema's "additionalProperties": false
        for p in obj:
            if p not in allowed.split(): err("sarif: %s has %r, which the schema does not define" % (where, p))
    only(s, "$schema version runs inlineExternalProperties properties", "the log")
    need(s, ["version", "runs"], "the log")
    if s.get("version") != "2.1.0": err("sarif: version %r" % s.get("version"))
    for run in s["runs"]:
        need(run, ["tool"], "run"); need(run["tool"], ["driver"], "tool"); need(run["tool"]["driver"], ["name"], "driver")
        rules = run["tool"]["driver"].get("rules", [])
        for r in rules:
            need(r, ["id"], "rule")
            only(r, "id deprecatedIds guid deprecatedGuids name deprecatedNames shortDescription "
                 "fullDescription messageStrings defaultConfiguration helpUri help relationships properties", "rule")
        ids = [r["id"] for r in rules]
        if len(set(ids)) != len(ids): err("sarif: a rule twice")
        bases = run.get("originalUriBaseIds", {})
        res = run.get("results", [])
        if len(res) != len(keys): err("sarif: %d results, %d buckets" % (len(res), len(keys)))
        for r in res:
            need(r, ["message"], "result")
            only(r, "guid correlationGuid ruleId ruleIndex rule kind level message analysisTarget locations "
                 "webRequest webResponse fingerprints partialFingerprints codeFlows graphs graphTraversals "
                 "stacks relatedLocations suppressions baselineState rank attachments hostedViewerUri "
                 "workItemUris provenance fixes taxa properties", "result")
            if r.get("kind", "fail") not in ("notApplicable", "pass", "fail", "review", "open", "informational"):
                err("sarif: kind %r" % r.get("kind"))
            if "text" not in r["message"] and "id" not in r["message"]: err("sarif: message without text or id")
            if r.get("ruleId") not in ids: err("sarif: result of unknown rule %r" % r.get("ruleId"))
            elif ids.index(r["ruleId"]) != r.get("ruleIndex"): err("sarif: ruleIndex wrong")
            if r.get("level") not in ("none", "note", "warning", "error"): err("sarif: level %r" % r.get("level"))
            for sup in r.get("suppressions", []): need(sup, ["kind"], "suppression")
            for loc in r.get("locations", []):
                pl = loc.get("physicalLocation", {})
                if "artifactLocation" not in pl and "address" not in pl: err("sarif: physicalLocation empty")
                al = pl.get("artifactLocation", {})
                base = bases.get(al.get("uriBaseId"), {}).get("uri", "")
                path = urllib.parse.unquote(urllib.parse.urlparse(base + al.get("uri", "")).path)
                if not os.path.isfile(path): err("sarif: artifact %s does not exist" % path)
        for k in keys:
            if not any(r.get("properties", {}).get("key") == k for r in res): err("sarif lacks bucket %r" % k)
        checks = {r.get("ruleId") for r in res}
        if checks != set(ids): err("sarif: rules %s, checks of the results %s" % (ids, checks))
for e in errors[:20]: print("  " + e, file=sys.stderr)
sys.exit(1 if errors else 0)
EOF

if [ "$mode" = --chromium ]; then
  expect 0 "$af" report "${dirs[@]}" -o "$tmp/all"
  # --headless=new is the default headless mode of current Chromium; --dump-dom prints the DOM
  # after load. A fresh profile directory keeps it away from $HOME.
  timeout 60 chromium --headless --no-sandbox --disable-gpu --user-data-dir="$tmp/profile" \
    --dump-dom "file://$tmp/all/report.html" >"$tmp/dom.html" 2>"$tmp/chromium.err"
  rc=$?
  if [ $rc != 0 ] || [ ! -s "$tmp/dom.html" ]; then
    bad "chromium exit $rc, $(wc -c <"$tmp/dom.html") bytes of DOM"; tail -n 5 "$tmp/chromium.err" >&2
  elif DOM="$tmp/dom.html" python3 "$tmp/check.py" "$tmp/all" "${dirs[@]}"; then ok; else
    bad "the page Chromium rendered lacks buckets"
  fi
  echo "report_test (chromium): $pass passed, $fail failed"
  [ $fail = 0 ]
  exit
fi

# ---- each campaign alone (into its own directory), then merged --------------------------
for d in "${dirs[@]}"; do
  expect 0 "$af" report "$d"
  for f in report.md report.html junit.xml findings.sarif; do
    [ -s "$d/$f" ] && ok || bad "$d/$f missing or empty"
  done
  python3 "$tmp/check.py" "$d" "$d" && ok || bad "report of $d"
done
expect 0 "$af" report "${dirs[@]}" -o "$tmp/all"
python3 "$tmp/check.py" "$tmp/all" "${dirs[@]}" && ok || bad "merged report"
grep -q "JIT mutant: sysv-struct-split, rbx-clobbered, jit-segv" "$tmp/all/report.md" && ok ||
  bad "merged report does not name the three mutants"

# disassembly: in a build with Capstone (abifuzz jit --disasm works) every report shows some
one=$(ls -d "$tmp"/split/findings/*/ | head -n 1)
if "$af" jit --disasm "$one/case.case" >/dev/null 2>&1; then
  grep -q "Intel syntax (Capstone)" "$tmp/split/report.md" && ok || bad "no disassembly in report.md"
  grep -q "__attribute__((sysv_abi))" "$tmp/split/report.md" && ok || bad "no C signature"
  # "arg I of call N to fK" findings: the call instruction marked in the caller
  grep -qE '^=> .*call .*; f[0-9]+   <- here' "$tmp/split/report.md" && ok || bad "no call marked"
  if [ $have_emu = 1 ]; then # the emulator names the faulting instruction (f0+0x..)
    grep -q '^=> .*<- here' "$tmp/segv/report.md" && ok || bad "no faulting instruction marked"
  fi
  # a runner crash has only the absolute RIP: found from its page offset and the registers
  grep -q 'faulting instruction, found from the crashed RIP' "$tmp/segv/report.md" && ok ||
    bad "no faulting instruction inferred for a runner crash"
else
  grep -q "no disassembly" "$tmp/split/report.md" && ok || bad "no note on the missing disassembly"
fi

# --repro: a reproducer directory per bucket (tests/reduce_test.sh builds and runs them)
expect 0 "$af" report "$tmp/rbx" -o "$tmp/rr" --repro
nb=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["buckets"]))' "$tmp/rbx/summary.json")
nr=$(ls -d "$tmp"/rr/repro/bucket-*/ 2>/dev/null | wc -l)
[ "$nr" = "$nb" ] && ok || bad "--repro: $nr reproducer directories, $nb buckets"
for r in "$tmp"/rr/repro/bucket-*/; do
  [ -f "$r/build.sh" ] && [ -f "$r/case.case" ] || { bad "$r: no build.sh or case.case"; break; }
done
[ "$(grep -c '^- \*\*reproducer\*\*: `cd .*/repro/bucket-[0-9]* && sh build.sh`' "$tmp/rr/report.md")" = "$nb" ] &&
  ok || bad "report.md does not name every reproducer"

# ---- bad input -----------------------------------------------------------------------
expect 2 "$af" report
expect 2 "$af" report "$tmp/no-such-dir"
expect 2 "$af" report "$tmp/split" --bogus
mkdir -p "$tmp/empty"
expect 2 "$af" report "$tmp/empty"
cp -r "$tmp/split" "$tmp/broken"
printf '{"cases": 3, "buckets": [' >"$tmp/broken/summary.json"
expect 2 "$af" report "$tmp/broken"
grep -q "summary.json: line 1 col" "$tmp/err" && ok || bad "malformed JSON error: $(cat "$tmp/err")"

# a finding directory missing a file: reported in the output and skipped, never a crash
cp -r "$tmp/split" "$tmp/holes"
ids=($(ls "$tmp/holes/findings"))
rm "$tmp/holes/findings/${ids[0]}/case.case"
rm "$tmp/holes/findings/${ids[1]}/report.json"
echo '{"leg": ' >"$tmp/holes/findings/${ids[2]}/report.json"
expect 0 "$af" report "$tmp/holes" -o "$tmp/holes-report"
grep -q "Problems with the input" "$tmp/holes-report/report.md" && ok || bad "no problems section"
grep -q "${ids[0]}: no case.case" "$tmp/holes-report/report.md" && ok || bad "missing case.case not reported"
grep -q "${ids[1]}: no report.json" "$tmp/holes-report/report.md" && ok || bad "missing report.json not reported"
grep -q "${ids[2]}/report.json: line 2 col 1" "$tmp/holes-report/report.md" && ok || bad "malformed report.json not reported"
python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' "$tmp/holes-report/junit.xml" && ok || bad "junit of holes"

echo "report_test: $pass passed, $fail failed"
[ $fail = 0 ]
