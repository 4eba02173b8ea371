#!/usr/bin/env bash
# Under CI=true a test that lacks something `make deps` installs must fail, not
# skip (issue 14). Checks the three places that rule lives: tests/run.sh (every
# "SKIP ...: missing dependency" line of any test), SKIP_MISSING in
# tests/check.h and missing_line / Case.missing in tests/lib/fstest.py, and one
# real case: test_feed with feedparser hidden. Other skips (no GPU, not root)
# stay skips. One line per case.
set -u
cd "${FINSENT_ROOT:-$(dirname "$0")/..}"
B=${B:-build}
T=$(mktemp -d /tmp/finsent-ci-deps.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0
check() { # name, condition status, why
    if [ "$2" -eq 0 ]; then echo "PASS $1"; else echo "FAIL $1: $3"; fail=1; fi
}
summary() { tail -n 1 "$1"; }

# ---- run.sh: a stand-in test program with one dependency skip and one other ------
mkdir -p "$T/b/tests"
cat >"$T/b/tests/test_zz_fake_dep" <<'SH'
#!/bin/sh
echo "SKIP zz:needs_tool: missing dependency: sometool (make deps)"
echo "SKIP zz:needs_gpu: no CUDA device"
SH
chmod +x "$T/b/tests/test_zz_fake_dep"
env -u CI B="$T/b" TESTS=test_zz_fake_dep tests/run.sh >"$T/plain" 2>&1
out=$(summary "$T/plain")
check run_sh_skips_without_ci "$([ "$out" = "0 passed, 0 failed, 2 skipped" ]; echo $?)" "$out"
CI=true B="$T/b" TESTS=test_zz_fake_dep tests/run.sh >"$T/ci" 2>&1
rc=$?
out=$(summary "$T/ci")
check run_sh_fails_missing_dependency_under_ci \
    "$([ "$out" = "0 passed, 1 failed, 1 skipped" ] && [ "$rc" -ne 0 ]; echo $?)" "exit $rc: $out"

# ---- check.h: SKIP_MISSING ----------------------------------------------------------
cat >"$T/skip_missing.c" <<'C'
#include "tests/check.h"
static void test_needs_tool(void) { SKIP_MISSING("sometool"); }
int main(void) { RUN(test_needs_tool); return check_summary(); }
C
if cc -I. -o "$T/skip_missing" "$T/skip_missing.c" 2>"$T/cc.err"; then
    env -u CI "$T/skip_missing" >"$T/c1"; rc1=$?
    CI=true "$T/skip_missing" >"$T/c2"; rc2=$?
    check check_h_skip_missing \
        "$(grep -q '^SKIP .*missing dependency: sometool' "$T/c1" && [ $rc1 -eq 0 ] &&
           grep -q '^FAIL .*test_needs_tool' "$T/c2" && grep -q 'missing dependency: sometool' "$T/c2" &&
           [ $rc2 -ne 0 ]; echo $?)" "plain: $(cat "$T/c1") | CI: $(cat "$T/c2")"
else
    check check_h_skip_missing 1 "cannot compile: $(head -c 300 "$T/cc.err")"
fi

# ---- fstest.py: missing_line and Case.missing -------------------------------------------
PY=${PY:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
cat >"$T/fs.py" <<'PYEOF'
import sys
sys.path.insert(0, "tests/lib")
from fstest import Suite, missing_line
print(missing_line("line_case", "sometool"))
t = Suite()
with t.case("case_missing") as c:
    c.missing("sometool")
PYEOF
env -u CI "$PY" "$T/fs.py" >"$T/p1" 2>&1
CI=true "$PY" "$T/fs.py" >"$T/p2" 2>&1
check fstest_missing \
    "$([ "$(grep -c '^SKIP .*missing dependency: sometool' "$T/p1")" -eq 2 ] &&
       [ "$(grep -c '^FAIL .*missing dependency: sometool' "$T/p2")" -eq 2 ]; echo $?)" \
    "plain: $(tr '\n' '|' <"$T/p1") CI: $(tr '\n' '|' <"$T/p2")"

# ---- a real one: test_feed's comparison with feedparser, feedparser hidden ------------
if [ -x "$B/tests/test_feed" ]; then
    mkdir -p "$T/hide"
    echo 'raise ImportError("hidden by it_ci_deps")' >"$T/hide/feedparser.py"
    env -u CI PYTHONPATH="$T/hide" "$B/tests/test_feed" >"$T/f1" 2>&1
    CI=true PYTHONPATH="$T/hide" "$B/tests/test_feed" >"$T/f2" 2>&1; rc=$?
    check test_feed_without_feedparser \
        "$(grep -q '^SKIP .*test_agrees_with_feedparser: missing dependency' "$T/f1" &&
           grep -q '^FAIL .*test_agrees_with_feedparser' "$T/f2" && [ $rc -ne 0 ]; echo $?)" \
        "plain: $(grep feedparser "$T/f1" | head -2) | CI: $(grep -B1 'FAIL' "$T/f2" | head -2)"
else
    check test_feed_without_feedparser 1 "$B/tests/test_feed not built"
fi
exit $fail
