#!/usr/bin/env bash
# Runs every test program (build/tests/test_*) and every integration test
# (tests/it_*.sh, tests/it_*.py) from the repository root, then prints one
# closing line: "N passed, N failed, N skipped".
#
# Protocol: each test prints "PASS name", "FAIL name[: why]" or "SKIP name: why"
# on stdout. A program that exits non-zero without printing FAIL counts as one
# failure. TESTS=pattern runs only matching files.
#
# A test that cannot run because something `make deps` installs is missing says
# "SKIP name: missing dependency: ..." (SKIP_MISSING in tests/check.h,
# missing_line and Case.missing in tests/lib/fstest.py). Under CI=true (or CI=1)
# every such line counts as a failure: there, all dependencies must be present.
#
# The Python tests run under .venv/bin/python, the reference environment that
# 'make deps' (scripts/deps.sh) builds from requirements-ref.txt; it still sees
# Debian's python3-torch, -sklearn, -feedparser and -aiosmtpd.
set -u
cd "$(dirname "$0")/.."
B=${B:-build}
PY="$PWD/.venv/bin/python"
if compgen -G "tests/it_*.py" >/dev/null && [ ! -x "$PY" ]; then
    echo "run.sh: $PY is missing: run 'make deps' to create the Python reference environment" >&2
    echo "0 passed, 1 failed, 0 skipped"
    exit 1
fi
export FINSENT_BIN="${FINSENT_BIN:-$PWD/finsent}"
export FINSENT_ROOT="$PWD"
pass=0; fail=0; skip=0; failed_names=()
logdir=$(mktemp -d /tmp/finsent-tests.XXXXXX)

run_one() {
    local name=$1; shift
    [ -n "${TESTS:-}" ] && [[ "$name" != *${TESTS}* ]] && return
    local log="$logdir/$(basename "$name").log"
    local start=$SECONDS
    "$@" >"$log" 2>&1
    local rc=$?
    if [ "${CI:-}" = true ] || [ "${CI:-}" = 1 ]; then
        sed -i 's/^SKIP \(.*missing dependency.*\)$/FAIL \1 [CI=true: a missing dependency fails]/' "$log"
    fi
    local p f s
    p=$(grep -c '^PASS ' "$log"); f=$(grep -c '^FAIL ' "$log"); s=$(grep -c '^SKIP ' "$log")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1; echo "FAIL $name: exited with status $rc" >>"$log"
    fi
    pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
    printf '%-40s %3d passed %3d failed %3d skipped  (%ds)\n' "$(basename "$name")" "$p" "$f" "$s" $((SECONDS - start))
    grep -E '^SKIP ' "$log" | sed 's/^/    /'
    if [ "$f" -gt 0 ]; then
        failed_names+=("$name")
        sed 's/^/    | /' "$log" | tail -n 60
    fi
}

for t in "$B"/tests/test_*; do
    [ -x "$t" ] || continue
    run_one "$t" "$t"
done
for t in tests/it_*.sh; do
    [ -f "$t" ] || continue
    run_one "$t" bash "$t"
done
for t in tests/it_*.py; do
    [ -f "$t" ] || continue
    run_one "$t" "$PY" "$t"
done

echo
if [ "${#failed_names[@]}" -gt 0 ]; then
    echo "failed: ${failed_names[*]}"
    # the FAIL lines again, last, where a CI log's tail shows them
    for n in "${failed_names[@]}"; do
        grep -h '^FAIL ' "$logdir/$(basename "$n").log" | head -n 10 | cut -c1-400 | sed 's/^/    /'
    done
fi
echo "logs: $logdir"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
