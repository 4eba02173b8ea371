#!/usr/bin/env bash
# gpu-check.sh — the CUDA backend's check on a real GPU, in one pass of under 8
# minutes (an H100 machine of the device tool: one prepared command, nothing
# outside reachable). Each step is time-boxed, prints its figure, and ends in one
# summary line PASS, FAIL or SKIP; a failing GPU step is run once more with
# CUDA_LAUNCH_BLOCKING=1 (its log kept). The summary at the end is a Markdown
# block ready for the README. Exit status 0 only when no step failed.
#
#   1  facts: nvidia-smi (name, driver, compute capability), nvcc, CPUs
#   2  deps + build: CUDA=1, NVARCH=-arch=sm_XY of this card only, in B=build-gpu;
#      missing build dependencies come from the carried bundle
#      (.gpu-carry/deps.tar.xz, scripts/gpu-check-prepare.sh), else apt when it
#      reaches a mirror; else the step names each missing one and the run stops
#   3  plugin: ldd of libfinsent-cuda.so (cuBLAS, the runtime), driver >= R580
#      for a CUDA 13 runtime (R525 for 12)
#   4  tests: test_cuda on the device, every other test program,
#      tests/it_cuda_plugin.sh; compute-sanitizer memcheck, synccheck and
#      racecheck on test_cuda (last, with the time left)
#   5  parity: `finsent embed --device cpu` against `--device cuda` on 500 bundled
#      validation texts with the carried base (max abs difference)
#   6  timings: embed of all 6,505 validation texts on cuda and cpu (texts/s,
#      model load excluded), `finsent train --device cuda` from scratch (and cpu
#      on the same data), fine-tuning the base with --device cuda where `train
#      --base` exists (a short run, then the default's whole fine-tuning within
#      GPU_CHECK_DEFAULT_S), bench/bench_cuda
#   7  summary
# Without a GPU it says so in one line, builds (GPU_CHECK_NVARCH, default
# -arch=sm_90), runs the emulated CUDA tests (tests/it_cuda_emu.sh), the CPU
# sides and the host checks, and exits 1.
#
# Environment:
#   B                 build directory (build-gpu)
#   OUT               when set (the device tool brings it back): gpu-check.log
#                     (this output), summary.md and logs.tar.gz (every step's log)
#   FINSENT_GPU_BASE  the base: a directory or a .tar.xz of one
#                     (.gpu-carry/base.tar.xz, else the installed all-MiniLM-L6-v2)
#   GPU_CHECK_DEPS    auto (system, else the bundle, else apt), system or bundle
#   GPU_CHECK_NVARCH  nvcc's architecture flag when no GPU gives one (-arch=sm_90)
#   GPU_CHECK_BUDGET  seconds for the whole run (450)
#   GPU_CHECK_DEFAULT_S  seconds for the default's whole fine-tuning on cuda (180)
#   GPU_CHECK_TOL     parity tolerance, max abs difference (1e-4)
#   GPU_CHECK_EXPERIMENT  a script to run after the timings, e.g.
#                     scripts/experiments/pool_dev.sh (GPU_CHECK_EXPERIMENT_S: 240)
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
B=${B:-build-gpu}
BUDGET=${GPU_CHECK_BUDGET:-450}
TOL=${GPU_CHECK_TOL:-1e-4}
RESERVE=10 # seconds kept for the summary
START=$SECONDS
DEADLINE=$((START + BUDGET))
WORK=$(mktemp -d /tmp/finsent-gpu-check.XXXXXX)
LOGS=$WORK/logs
mkdir -p "$LOGS"
CONSOLE=$LOGS/gpu-check.log
[ -n "${OUT:-}" ] && mkdir -p "$OUT"

# ---- reporting ------------------------------------------------------------------------
S_NAME=() S_STATUS=() S_FIG=()
say() { printf '%s\n' "$*" | tee -a "$CONSOLE"; }
record() { # NAME PASS|FAIL|SKIP FIGURE
    S_NAME+=("$1") S_STATUS+=("$2") S_FIG+=("$3")
    say "$2 $1: $3"
}
indent() { sed 's/^/    | /' | tee -a "$CONSOLE"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
left() { echo $((DEADLINE - SECONDS)); }
# the commit: the one gpu-check-prepare.sh noted, else git's (the device tool's
# copy of the tree has a .git of its own, at an older commit plus the changes)
if [ -s .gpu-carry/COMMIT ]; then
    git_rev=$(cat .gpu-carry/COMMIT)
elif git_rev=$(git rev-parse --short HEAD 2>/dev/null); then
    [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] && git_rev="$git_rev+changes"
else
    git_rev=unknown
fi

# run_step NAME LIMIT CMD...: CMD's output to $LOGS/NAME.log, at most LIMIT
# seconds and never past the deadline; sets RC (124: timed out, 125: no time
# left) and DUR (seconds).
run_step() {
    local name=$1 limit=$2 t0
    shift 2
    local room=$(($(left) - RESERVE))
    [ "$room" -lt "$limit" ] && limit=$room
    if [ "$limit" -lt 5 ]; then
        RC=125 DUR=0
        echo "not run: no time left" >"$LOGS/$name.log"
        return
    fi
    # a shell function runs in a child bash (timeout runs programs only)
    if declare -F "$1" >/dev/null; then
        set -- bash -c "$(declare -f "$1"); $1 \"\$@\"" "$1" "${@:2}"
    fi
    t0=$(now)
    timeout -k 5 "$limit" "$@" >"$LOGS/$name.log" 2>&1
    RC=$?
    [ $RC -eq 137 ] && RC=124
    DUR=$(secs "$t0" "$(now)")
}
why_rc() { # a few words for RC
    case $RC in
    0) echo "ok" ;; 124) echo "timed out after ${DUR}s" ;; 125) echo "not run: no time left" ;;
    *) echo "exit $RC" ;;
    esac
}
# after a failed GPU step: the same command with CUDA_LAUNCH_BLOCKING=1, log kept
blocking_rerun() { # NAME CMD...
    local name=$1 rc=$RC dur=$DUR
    shift
    [ "$GPU" = 1 ] || return 0
    [ $rc -ne 0 ] && [ $rc -ne 124 ] && [ $rc -ne 125 ] || return 0
    say "    rerun of $name with CUDA_LAUNCH_BLOCKING=1 (log $name.blocking.log):"
    CUDA_LAUNCH_BLOCKING=1 run_step "$name.blocking" 120 "$@"
    grep -E 'FAIL|rror|cuda' "$LOGS/$name.blocking.log" | head -n 15 | indent
    RC=$rc DUR=$dur
}
last_line() { [ "$RC" = 125 ] || echo ": $(tail -n 1 "$LOGS/$1.log")"; } # ": why", from NAME.log
fail_or_skip() { [ "$RC" = 125 ] && echo SKIP || echo FAIL; } # not run for lack of time: SKIP
tail_log() { grep -v '^PASS ' "$LOGS/$1.log" | tail -n "${2:-15}" | indent; }

finish() {
    local i n_pass=0 n_fail=0 n_skip=0 md=$LOGS/summary.md
    for i in "${!S_STATUS[@]}"; do
        case ${S_STATUS[$i]} in PASS) n_pass=$((n_pass + 1)) ;; FAIL) n_fail=$((n_fail + 1)) ;;
        *) n_skip=$((n_skip + 1)) ;; esac
    done
    {
        echo "#### GPU check, $(date -u +%Y-%m-%d) (commit $git_rev)"
        echo
        echo "$CARD_LINE"
        echo
        echo '| step | result | figure |'
        echo '|---|---|---|'
        for i in "${!S_NAME[@]}"; do
            echo "| ${S_NAME[$i]} | ${S_STATUS[$i]} | ${S_FIG[$i]//|/\\|} |"
        done
        echo
        echo "Command: \`${GPU_CHECK_EXPERIMENT:+GPU_CHECK_EXPERIMENT=$GPU_CHECK_EXPERIMENT }bash scripts/gpu-check.sh\` (device tool: carry \`.gpu-carry\` from" \
            "\`scripts/gpu-check-prepare.sh\`), $((SECONDS - START)) s."
    } >"$md"
    say ""
    say "== summary (Markdown, for the README) =="
    tee -a "$CONSOLE" <"$md"
    say ""
    say "gpu-check: $n_pass passed, $n_fail failed, $n_skip skipped"
    if [ -n "${OUT:-}" ]; then
        cp "$md" "$OUT/summary.md"
        cp "$CONSOLE" "$OUT/gpu-check.log"
        tar -C "$WORK" -czf "$OUT/logs.tar.gz" logs 2>/dev/null
        echo "logs: \$OUT/gpu-check.log, summary.md, logs.tar.gz"
    else
        echo "logs: $LOGS"
    fi
    rm -rf "$WORK/deps" "$WORK/base-x" "$WORK"/m-* "$WORK"/*.txt "$WORK"/*.csv # logs stay
    [ "$n_fail" -eq 0 ]
    exit $?
}
# skip_rest WHY: every step not run yet is SKIP, then the summary
skip_rest() {
    local s
    for s in "$@"; do record "$s" SKIP "not run: $STOP_WHY"; done
    finish
}

say "finsent GPU check: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $git_rev, budget ${BUDGET}s"

# ---- 1. facts -------------------------------------------------------------------------
NCPU=$(nproc 2>/dev/null || echo 1)
GPU=0 GPU_NAME="" DRIVER="" CAP="" GPU_MEM=""
if ! command -v nvidia-smi >/dev/null; then
    gpu_why="nvidia-smi not found"
elif ! q=$(timeout 30 nvidia-smi --query-gpu=name,driver_version,compute_cap,memory.total \
    --format=csv,noheader 2>&1) || [ -z "$q" ]; then
    gpu_why="nvidia-smi failed: $(echo "$q" | head -n 1)"
else
    IFS=',' read -r GPU_NAME DRIVER CAP GPU_MEM <<<"$(echo "$q" | head -n 1)"
    GPU_NAME=$(echo "$GPU_NAME" | xargs) DRIVER=$(echo "$DRIVER" | xargs)
    CAP=$(echo "$CAP" | xargs) GPU_MEM=$(echo "$GPU_MEM" | xargs)
    GPU=1
fi
(nvidia-smi 2>&1 || true) >"$LOGS/nvidia-smi.log"
NVCC=${NVCC:-}
for c in ${CUDA_HOME:+$CUDA_HOME/bin/nvcc} /usr/local/cuda/bin/nvcc "$(command -v nvcc)"; do
    [ -z "$NVCC" ] && [ -x "$c" ] && NVCC=$c
done
NVCC_VER=""
[ -n "$NVCC" ] && NVCC_VER=$("$NVCC" --version 2>/dev/null | sed -n 's/.*release \([0-9.]*\), V\([0-9.]*\).*/\2/p')
CUDA_MAJOR=${NVCC_VER%%.*}
if [ "$GPU" = 1 ]; then
    NVARCH="-arch=sm_${CAP//./}"
    CARD_LINE="$GPU_NAME (compute capability $CAP, $GPU_MEM), driver $DRIVER, nvcc ${NVCC_VER:-none}, $NCPU CPUs"
    record facts PASS "$GPU_NAME, driver $DRIVER, compute capability $CAP, $GPU_MEM; nvcc ${NVCC_VER:-not found}; $NCPU CPUs"
else
    NVARCH=${GPU_CHECK_NVARCH:--arch=sm_90}
    CARD_LINE="no GPU ($gpu_why), nvcc ${NVCC_VER:-none}, $NCPU CPUs"
    say "no GPU here: $gpu_why; GPU steps are skipped, $NVARCH is built"
    record facts FAIL "no GPU ($gpu_why); nvcc ${NVCC_VER:-not found}; $NCPU CPUs"
fi
[ -n "${GPU_CHECK_NVARCH:-}" ] && NVARCH=$GPU_CHECK_NVARCH

# ---- 2. dependencies and build ----------------------------------------------------------
STEPS_AFTER_BUILD=(plugin test_cuda tests it_cuda_plugin parity embed_throughput train_scratch
    train_base train_default bench_cuda sanitizer)
PKGS=(libcurl libxml-2.0 sqlite3 jansson libnotify)
MAKE_ARGS=()
MAKE="make"
missing_deps() { # prints what is missing for the build, one name per line
    local p
    command -v pkg-config >/dev/null || echo "pkg-config"
    for p in "${PKGS[@]}"; do
        command -v pkg-config >/dev/null && pkg-config --exists "$p" 2>/dev/null || echo "$p (pkg-config)"
    done
    printf '#include <cblas.h>\nint main(void) { return (int)cblas_sdot(0, 0, 1, 0, 1); }\n' |
        cc -x c - -o "$WORK/blas-probe" -lopenblas >/dev/null 2>&1 || echo "openblas (cblas.h, -lopenblas)"
}
tools_missing=()
for t in cc g++ ldd timeout; do command -v $t >/dev/null || tools_missing+=("$t"); done
[ -z "$NVCC" ] && tools_missing+=("nvcc (CUDA toolkit)")
command -v make >/dev/null || tools_missing+=("make")
mapfile -t deps_missing < <(missing_deps)
mode=${GPU_CHECK_DEPS:-auto}
bundle=${GPU_CHECK_BUNDLE:-$ROOT/.gpu-carry/deps.tar.xz}
use_bundle=0
if [ "$mode" = bundle ] || { [ "$mode" = auto ] && [ $((${#deps_missing[@]} + ${#tools_missing[@]})) -gt 0 ] && [ -f "$bundle" ]; }; then
    use_bundle=1
fi
deps_note="system packages"
apt_note=""
untar() { # FILE DIR: tar xJ, or Python's tarfile where xz is missing
    if command -v xz >/dev/null; then
        tar -C "$2" -xJf "$1"
    else
        python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$1" "$2"
    fi
}
if [ $use_bundle = 1 ]; then
    [ ${#deps_missing[@]} -gt 0 ] && say "missing build dependencies: ${deps_missing[*]}; using $bundle"
    SR=$WORK/deps
    if [ ! -f "$bundle" ] || ! untar "$bundle" "$WORK" || [ ! -f "$SR/flags.sh" ]; then
        record deps FAIL "bundle $bundle missing or unreadable"
        STOP_WHY="no build dependencies"
        skip_rest build "${STEPS_AFTER_BUILD[@]}"
    fi
    # shellcheck disable=SC1091
    . "$SR/flags.sh"
    have_glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}')
    if [ -n "$have_glibc" ] && [ "$(printf '%s\n%s\n' "$BUNDLE_GLIBC" "$have_glibc" | sort -V | head -n 1)" != "$BUNDLE_GLIBC" ]; then
        record deps FAIL "the bundle ($BUNDLE_FROM) needs glibc $BUNDLE_GLIBC, this machine has $have_glibc"
        STOP_WHY="no build dependencies"
        skip_rest build "${STEPS_AFTER_BUILD[@]}"
    fi
    MAKE_ARGS=("PKG_CFLAGS=${BUNDLE_CFLAGS//@SR@/$SR}" "PKG_LIBS=${BUNDLE_LIBS//@SR@/$SR}")
    command -v make >/dev/null || MAKE=$SR/bin/make
    tools_missing=("${tools_missing[@]/make/}")
    deps_note="carried bundle ($BUNDLE_FROM libraries, glibc >= $BUNDLE_GLIBC, this machine ${have_glibc:-?})"
    deps_missing=()
elif [ ${#deps_missing[@]} -gt 0 ] && [ "$mode" != system ] && command -v apt-get >/dev/null; then
    say "missing build dependencies: ${deps_missing[*]}; no bundle ($bundle): trying apt"
    run_step apt-update 40 apt-get update -qq
    if [ $RC -eq 0 ] && apt-cache policy libjansson-dev 2>/dev/null | grep -q 'Candidate: [0-9]'; then
        DEBIAN_FRONTEND=noninteractive run_step apt-install 180 apt-get install -y -qq \
            --no-install-recommends pkg-config libcurl4-openssl-dev libxml2-dev libsqlite3-dev \
            libjansson-dev libnotify-dev libopenblas-dev
        mapfile -t deps_missing < <(missing_deps)
        deps_note="installed with apt"
    else
        apt_note="apt reaches no mirror ($(why_rc))"
        say "    $apt_note"
    fi
fi
mapfile -t tools_missing < <(printf '%s\n' "${tools_missing[@]}" | grep .)
if [ ${#deps_missing[@]} -gt 0 ] || [ ${#tools_missing[@]} -gt 0 ]; then
    what=$(printf '%s, ' "${tools_missing[@]}" "${deps_missing[@]}" | sed 's/^, //; s/, $//')
    if [ "$mode" = system ]; then
        how="GPU_CHECK_DEPS=system"
    elif [ ! -f "$bundle" ]; then
        how="no carried bundle at $bundle: run scripts/gpu-check-prepare.sh and carry .gpu-carry${apt_note:+; $apt_note}"
    else
        how="with the carried bundle"
    fi
    record deps FAIL "missing: $what ($how)"
    STOP_WHY="build dependencies missing"
    skip_rest build "${STEPS_AFTER_BUILD[@]}"
fi
record deps PASS "$deps_note"

TESTS=()
for t in tests/test_*.c; do TESTS+=("$B/tests/$(basename "$t" .c)"); done
say "building: $MAKE -k -j$NCPU B=$B CUDA=1 NVARCH=$NVARCH (log build.log)"
run_step build 300 "$MAKE" -k -j"$NCPU" B="$B" CUDA=1 NVCC="$NVCC" NVARCH="$NVARCH" "${MAKE_ARGS[@]}" \
    "$B/finsent" "$B/libfinsent-cuda.so" "${TESTS[@]}" "$B/bench/bench_cuda"
not_built=()
for f in "$B/finsent" "$B/libfinsent-cuda.so" "${TESTS[@]}" "$B/bench/bench_cuda"; do
    [ -e "$f" ] || not_built+=("${f#"$B"/}")
done
if [ ! -x "$B/finsent" ] || [ ! -f "$B/libfinsent-cuda.so" ] || [ ! -x "$B/tests/test_cuda" ]; then
    record build FAIL "$(why_rc); not built: ${not_built[*]}"
    grep -E 'error|Error|undefined reference' "$LOGS/build.log" | head -n 20 | indent
    STOP_WHY="build failed"
    skip_rest "${STEPS_AFTER_BUILD[@]}"
fi
build_fig="NVARCH=$NVARCH, ${DUR}s with $NCPU jobs"
[ ${#not_built[@]} -gt 0 ] && build_fig="$build_fig; not built: ${not_built[*]}"
if [ ${#not_built[@]} -gt 0 ]; then record build FAIL "$build_fig"; else record build PASS "$build_fig"; fi
BIN=$ROOT/$B/finsent
PLUGIN=$ROOT/$B/libfinsent-cuda.so

# ---- 3. the plugin's libraries and the driver ---------------------------------------------
{
    echo "== ldd $PLUGIN"
    ldd "$PLUGIN"
    echo "== readelf -d (RUNPATH)"
    readelf -d "$PLUGIN" 2>/dev/null | grep -E 'RUNPATH|RPATH|NEEDED'
    echo "== ldd $BIN"
    ldd "$BIN"
} >"$LOGS/ldd.log" 2>&1
libs=$(ldd "$PLUGIN" 2>&1 | awk '/libcublas\.|libcudart\./ {print $1 " => " $3}' | tr '\n' ';' | sed 's/;$//; s/;/; /g')
nf=$(ldd "$PLUGIN" "$BIN" 2>&1 | awk '/not found/ {print $1}' | sort -u | tr '\n' ' ')
need=""
case "$CUDA_MAJOR" in 13) need=580 ;; 12) need=525 ;; 11) need=450 ;; esac
drv_note="no driver"
drv_ok=1
if [ -n "$DRIVER" ] && [ -n "$need" ]; then
    if [ "${DRIVER%%.*}" -ge "$need" ]; then
        drv_note="driver $DRIVER >= R$need needed by the CUDA $CUDA_MAJOR runtime"
    else
        drv_note="driver $DRIVER < R$need needed by the CUDA $CUDA_MAJOR runtime: too old"
        drv_ok=0
    fi
fi
if [ -n "$nf" ]; then
    record plugin FAIL "not found: $nf; $drv_note (ldd.log)"
elif [ $drv_ok = 0 ]; then
    record plugin FAIL "$libs; $drv_note"
else
    record plugin PASS "$libs; $drv_note"
fi

# ---- 4. tests ---------------------------------------------------------------------------
count() { grep -c "^$1 " "$LOGS/$2.log"; }
run_step test_cuda 120 "$ROOT/$B/tests/test_cuda"
blocking_rerun test_cuda "$ROOT/$B/tests/test_cuda"
dev=$(sed -n 's/^  # device: //p' "$LOGS/test_cuda.log" | head -n 1)
cuda_err=$(sed -n 's/^  # \(cuda: .*\)/\1/p' "$LOGS/test_cuda.log" | head -n 1)
p=$(count PASS test_cuda) f=$(count FAIL test_cuda)
if [ "$GPU" = 1 ]; then
    if [ $RC -eq 0 ] && [ "$f" -eq 0 ] && [ -n "$dev" ]; then
        record test_cuda PASS "$p passed on $dev (${DUR}s)"
    else
        if [ $RC -eq 0 ] && [ -z "$dev" ]; then
            record test_cuda FAIL "the device tests did not run: ${cuda_err:-no device line}"
        else
            record test_cuda "$(fail_or_skip)" "$(why_rc), $p passed, $f failed${cuda_err:+; $cuda_err}${dev:+; $dev}"
        fi
        tail_log test_cuda
    fi
else
    if [ $RC -eq 0 ]; then
        record test_cuda SKIP "no device: ${cuda_err:-?} (host-side test passed)"
    else
        record test_cuda FAIL "$(why_rc) without a device"
        tail_log test_cuda
    fi
fi

tp=0 tf=0 progs=0 failed=()
for t in "${TESTS[@]}"; do
    n=$(basename "$t")
    [ "$n" = test_cuda ] && continue
    [ -x "$t" ] || continue
    run_step "$n" 60 env FINSENT_ROOT="$ROOT" FINSENT_BIN="$BIN" "$ROOT/$t"
    progs=$((progs + 1))
    p=$(count PASS "$n") f=$(count FAIL "$n")
    [ $RC -ne 0 ] && [ "$f" -eq 0 ] && f=1
    tp=$((tp + p)) tf=$((tf + f))
    [ "$f" -gt 0 ] && failed+=("$n ($(why_rc))")
done
if [ $tf -eq 0 ]; then
    record tests PASS "$tp passed in $progs programs of the CUDA build"
else
    record tests FAIL "$tp passed, $tf failed: ${failed[*]}"
fi

run_step it_cuda_plugin 90 env FINSENT_ROOT="$ROOT" FINSENT_BIN="$BIN" B="$B" bash tests/it_cuda_plugin.sh
p=$(count PASS it_cuda_plugin) f=$(count FAIL it_cuda_plugin)
if [ $RC -eq 0 ]; then
    record it_cuda_plugin PASS "$p passed"
else
    record it_cuda_plugin FAIL "$(why_rc), $p passed, $f failed"
    tail_log it_cuda_plugin
fi

if [ "$GPU" = 0 ]; then # the kernels on the CPU emulation instead
    run_step it_cuda_emu 200 bash tests/it_cuda_emu.sh
    p=$(count PASS it_cuda_emu) f=$(count FAIL it_cuda_emu)
    if [ $RC -eq 0 ]; then record cuda_emu PASS "$p passed on the CPU emulation (${DUR}s)"; else
        record cuda_emu FAIL "$(why_rc), $p passed, $f failed"
        tail_log it_cuda_emu
    fi
fi

# ---- 5. parity on the pretrained base ---------------------------------------------------------
base_src=${FINSENT_GPU_BASE:-}
if [ -z "$base_src" ]; then
    for c in "$ROOT/.gpu-carry/base.tar.xz" "$ROOT/.gpu-carry/base" \
        "${XDG_DATA_HOME:-$HOME/.local/share}/finsent/base/sentence-transformers/all-MiniLM-L6-v2"; do
        [ -z "$base_src" ] && [ -e "$c" ] && base_src=$c
    done
fi
BASE=""
case "$base_src" in
"") base_why="no base: run scripts/gpu-check-prepare.sh and carry .gpu-carry" ;;
*.tar.xz | *.txz)
    mkdir -p "$WORK/base-x"
    if untar "$base_src" "$WORK/base-x"; then
        BASE=$(dirname "$(find "$WORK/base-x" -name config.json | head -n 1)")
    fi
    base_why="cannot unpack $base_src"
    ;;
*) [ -f "$base_src/config.json" ] && BASE=$base_src || base_why="no config.json in $base_src" ;;
esac
[ "$BASE" = . ] && BASE=""
base_note=""
[ -n "$BASE" ] && [ -f "$BASE/CARRIED.md" ] &&
    base_note=" (carried base: F16$(sed -n 's/.*; \([0-9]* of [0-9]* embedding rows\) kept.*/, \1 kept/p' "$BASE/CARRIED.md"))"
[ -n "$BASE" ] && say "base: $BASE${base_note}"

texts_ok=0
if command -v python3 >/dev/null && python3 - "$WORK" <<'EOF' >"$LOGS/texts.log" 2>&1; then texts_ok=1; fi
import csv, glob, sys
texts = []
for path in sorted(glob.glob("data/*/validation.csv")):
    with open(path, newline="", encoding="utf-8") as f:
        texts += [r["text"].replace("\r", " ").replace("\n", " ") for r in csv.DictReader(f)]
with open(sys.argv[1] + "/val_all.txt", "w", encoding="utf-8") as f:
    f.write("".join(t + "\n" for t in texts))
with open(sys.argv[1] + "/val_500.txt", "w", encoding="utf-8") as f:
    f.write("".join(t + "\n" for t in texts[::13][:500]))
with open(sys.argv[1] + "/one.txt", "w", encoding="utf-8") as f:
    f.write(texts[0] + "\n")
print(len(texts), "texts")
EOF
N_ALL=$( [ $texts_ok = 1 ] && wc -l <"$WORK/val_all.txt" || echo 0)

# max |a - b| over two embedding files (one text a line); "rows max" or why not
compare() {
    awk 'NR == FNR { a[FNR] = $0; n = FNR; next }
         { if (!(FNR in a)) { bad = "more lines in the second"; exit }
           k = split(a[FNR], x, " "); m = split($0, y, " ");
           if (k != m) { bad = "line " FNR ": " k " against " m " values"; exit }
           for (i = 1; i <= k; i++) {
               if (tolower(x[i] y[i]) ~ /nan|inf/) { bad = "line " FNR ": not a number"; exit }
               d = x[i] - y[i]; if (d < 0) d = -d; if (d > mx) mx = d }
           rows = FNR; dim = k }
         END { if (bad) print "bad " bad; else if (rows != n) print "bad " rows " of " n " lines";
               else printf "%d %d %.3g\n", rows, dim, mx }' "$1" "$2"
}
export BIN BASE
# shellcheck disable=SC2317 # run through run_step
embed() { # DEVICE TEXTS OUTFILE
    "$BIN" embed --base "$BASE" --device "$1" <"$2" >"$3"
}
if [ -z "$BASE" ] || [ $texts_ok = 0 ]; then
    STOP_WHY=${base_why:-no texts (python3 missing?)}
    record parity SKIP "$STOP_WHY"
elif [ "$GPU" = 0 ]; then
    record parity SKIP "no GPU"
else
    run_step parity_cpu 120 embed cpu "$WORK/val_500.txt" "$WORK/e500_cpu.txt"
    rc_cpu=$RC
    run_step parity_cuda 120 embed cuda "$WORK/val_500.txt" "$WORK/e500_cuda.txt"
    blocking_rerun parity_cuda embed cuda "$WORK/val_500.txt" "$WORK/e500_cuda.txt"
    if [ $rc_cpu -ne 0 ] || [ $RC -ne 0 ]; then
        record parity "$(fail_or_skip)" "cpu exit $rc_cpu, cuda $(why_rc)$(last_line parity_cuda)"
    else
        read -r rows dim mx <<<"$(compare "$WORK/e500_cpu.txt" "$WORK/e500_cuda.txt")"
        if [ "$rows" = bad ]; then
            record parity FAIL "outputs differ in shape: $dim $mx"
        elif awk -v m="$mx" -v t="$TOL" 'BEGIN { exit !(m <= t) }'; then
            record parity PASS "max |cpu - cuda| = $mx over $rows texts x $dim (tolerance $TOL)$base_note"
        else
            record parity FAIL "max |cpu - cuda| = $mx over $rows texts x $dim > $TOL$base_note"
        fi
    fi
fi

# ---- 6. timings -----------------------------------------------------------------------------
rate() { awk -v n="$1" -v t="$2" 'BEGIN { if (t > 0) printf "%.0f", n / t; else print "?" }'; }
if [ -z "$BASE" ] || [ $texts_ok = 0 ]; then
    record embed_throughput SKIP "${base_why:-no texts}"
else
    fig="" ok=1 devs="cpu"
    [ "$GPU" = 1 ] && devs="cuda cpu"
    declare -A tput
    for d in $devs; do
        run_step "embed_one_$d" 60 embed "$d" "$WORK/one.txt" "$WORK/one_$d.txt"
        load=$DUR
        run_step "embed_all_$d" 150 embed "$d" "$WORK/val_all.txt" "$WORK/eall_$d.txt"
        [ "$d" = cuda ] && blocking_rerun "embed_all_$d" embed "$d" "$WORK/val_all.txt" "$WORK/eall_$d.txt"
        if [ $RC -ne 0 ]; then
            fig="$fig $d: $(why_rc);"
            [ $RC -eq 125 ] && [ $ok = 1 ] && ok=125
            [ $RC -ne 125 ] && ok=0
            continue
        fi
        net=$(awk -v a="$DUR" -v l="$load" 'BEGIN { printf "%.2f", a - l }')
        tput[$d]=$(rate "$N_ALL" "$net")
        fig="$fig $d ${tput[$d]} texts/s (${DUR}s for $N_ALL, ${load}s of it loading);"
    done
    if [ -n "${tput[cuda]:-}" ] && [ -n "${tput[cpu]:-}" ]; then
        fig="$fig speed-up $(awk -v a="${tput[cuda]}" -v b="${tput[cpu]}" 'BEGIN { printf "%.1f", a / b }')x;"
        read -r rows dim mx <<<"$(compare "$WORK/eall_cpu.txt" "$WORK/eall_cuda.txt")"
        [ "$rows" != bad ] && fig="$fig max |cpu - cuda| $mx over all $rows"
    fi
    fig=${fig# }
    fig=${fig%;}
    if [ $ok = 0 ]; then record embed_throughput FAIL "$fig"
    elif [ $ok = 125 ]; then record embed_throughput SKIP "$fig"
    elif [ "$GPU" = 0 ]; then record embed_throughput SKIP "no GPU; $fig"
    else record embed_throughput PASS "$fig"; fi
fi

# finsent's own encoder from scratch (--base none where train has --base) on
# the first 4,000 examples of each bundled training set
train_help=$("$BIN" train --help 2>&1)
train_fig() { # LOG: "N examples/s, T s" from train's last line
    local f
    f=$(sed -n 's/.*trained in \([0-9.]* s\) (\([0-9.]* examples\/s\).*/\2, \1/p' "$LOGS/$1.log" | tail -n 1)
    echo "${f:-? examples/s (no 'trained in' line: $1.log)}"
}
head_csv() { # SRC DST N: the header and N records (quoted newlines kept)
    python3 - "$1" "$2" "$3" <<'EOF'
import csv, sys
with open(sys.argv[1], newline="", encoding="utf-8") as f, \
        open(sys.argv[2], "w", newline="", encoding="utf-8") as g:
    r, w = csv.reader(f), csv.writer(g)
    for i, row in enumerate(r):
        if i > int(sys.argv[3]):
            break
        w.writerow(row)
EOF
}
N_TRAIN=${GPU_CHECK_TRAIN_N:-4000}
if head_csv data/twitter_financial_news_sentiment/train.csv "$WORK/s.csv" "$N_TRAIN" 2>/dev/null &&
    head_csv data/twitter_financial_news_topic/train.csv "$WORK/t.csv" "$N_TRAIN" 2>/dev/null; then
    data=(--sentiment-data "$WORK/s.csv" --topic-data "$WORK/t.csv")
else
    data=() # the whole bundled data, and its validation after training
fi
scratch=(train "${data[@]}" --epochs 1)
grep -q -- '--base [^ ]*none' <<<"$train_help" && scratch+=(--base none)
fig=""
if [ "$GPU" = 1 ]; then
    run_step train_scratch_cuda 150 "$BIN" "${scratch[@]}" --device cuda --out "$WORK/m-cuda"
    blocking_rerun train_scratch_cuda "$BIN" "${scratch[@]}" --device cuda --out "$WORK/m-cuda"
    rc_cuda=$RC
    fig="cuda $(train_fig train_scratch_cuda)"
    [ $rc_cuda -ne 0 ] && fig="cuda $(why_rc)$(last_line train_scratch_cuda)"
fi
run_step train_scratch_cpu 90 "$BIN" "${scratch[@]}" --device cpu --out "$WORK/m-cpu"
cpu_fig="cpu $(train_fig train_scratch_cpu)"
[ $RC -ne 0 ] && cpu_fig="cpu $(why_rc)"
what="1 epoch, $((2 * N_TRAIN)) examples, finsent's own encoder"
if [ "$GPU" = 0 ]; then
    record train_scratch SKIP "no GPU; $cpu_fig ($what)"
elif [ "$rc_cuda" -eq 0 ]; then
    record train_scratch PASS "$fig; $cpu_fig ($what)"
else
    RC=$rc_cuda
    record train_scratch "$(fail_or_skip)" "$fig; $cpu_fig"
    tail_log train_scratch_cuda 5
fi

# fine-tuning the base, where `train --base` exists: cuda on N_FT examples, cpu
# on N_FT_CPU for the comparison
N_FT=${GPU_CHECK_FT_N:-2000}
N_FT_CPU=${GPU_CHECK_FT_CPU_N:-400}
if ! grep -q -- '--base' <<<"$train_help"; then
    record train_base SKIP "'finsent train --help' has no --base yet"
elif [ -z "$BASE" ]; then
    record train_base SKIP "${base_why:-no base}"
elif [ "$GPU" = 0 ]; then # the command line, on the CPU
    run_step train_base_cpu 75 "$BIN" train --base "$BASE" "${data[@]}" --epochs 1 --device cpu \
        --max-examples "$N_FT_CPU" --out "$WORK/m-ft-cpu"
    cpu_fig="cpu $(train_fig train_base_cpu) on $N_FT_CPU examples"
    [ $RC -ne 0 ] && cpu_fig="cpu on $N_FT_CPU examples: $(why_rc): $(tail -n 1 "$LOGS/train_base_cpu.log")"
    record train_base SKIP "no GPU; $cpu_fig"
else
    ft=(train --base "$BASE" "${data[@]}" --epochs 1)
    run_step train_base 180 "$BIN" "${ft[@]}" --device cuda --max-examples "$N_FT" --out "$WORK/m-ft"
    blocking_rerun train_base "$BIN" "${ft[@]}" --device cuda --max-examples "$N_FT" --out "$WORK/m-ft"
    rc_ft=$RC dur_ft=$DUR
    run_step train_base_cpu 75 "$BIN" "${ft[@]}" --device cpu --max-examples "$N_FT_CPU" --out "$WORK/m-ft-cpu"
    cpu_fig="cpu $(train_fig train_base_cpu) on $N_FT_CPU examples"
    [ $RC -ne 0 ] && cpu_fig="cpu on $N_FT_CPU examples: $(why_rc)"
    RC=$rc_ft DUR=$dur_ft
    if [ $RC -eq 0 ]; then
        record train_base PASS "cuda $(train_fig train_base) on $N_FT examples (${DUR}s in all); $cpu_fig; 1 epoch"
    else
        record train_base "$(fail_or_skip)" "$(why_rc)$(last_line train_base)"
        tail_log train_base 5
    fi
fi

# the default's whole fine-tuning (every bundled example, the default epochs) on
# cuda, where the short run above passed: the issue's "<= 2 minutes on a GPU".
# Timed out, it reports train's last progress line (its own estimate of the rest).
# The carried base's unused embedding rows are zero, so its validation figures
# are not the default's; the time is.
N_DEFAULT_S=${GPU_CHECK_DEFAULT_S:-180}
if [ -z "${rc_ft:-}" ]; then # set only where the short run went on a GPU
    record train_default SKIP "needs the short fine-tuning run on a GPU"
elif [ "$rc_ft" -ne 0 ]; then
    record train_default SKIP "the short fine-tuning run failed"
else
    run_step train_default "$N_DEFAULT_S" "$BIN" train --base "$BASE" --device cuda --out "$WORK/m-default"
    if [ $RC -eq 0 ]; then
        val=$(sed -n 's/^validation \([a-z]*\) *accuracy \([0-9.]*\).*/\1 \2/p' \
            "$LOGS/train_default.log" | tr '\n' ' ')
        record train_default PASS "cuda $(train_fig train_default), ${DUR}s wall with loading and validation; validation on the carried base: ${val:-none}"
    elif [ $RC -eq 124 ]; then
        last=$(grep '^train: epoch' "$LOGS/train_default.log" | tail -n 1)
        record train_default FAIL "not done in ${N_DEFAULT_S}s; last progress: ${last:-none}"
    else
        record train_default "$(fail_or_skip)" "$(why_rc)$(last_line train_default)"
        tail_log train_default 5
    fi
fi

# an experiment of the caller's, where GPU_CHECK_EXPERIMENT names a bash script
# (scripts/experiments/): run with BIN, BASE and WORK in its environment, at most
# GPU_CHECK_EXPERIMENT_S seconds; its output is shown, its last line is the figure
if [ -n "${GPU_CHECK_EXPERIMENT:-}" ]; then
    if [ -z "$BASE" ]; then
        record experiment SKIP "no base: $base_why"
    else
        run_step experiment "${GPU_CHECK_EXPERIMENT_S:-240}" env WORK="$WORK" \
            bash "$ROOT/$GPU_CHECK_EXPERIMENT"
        indent <"$LOGS/experiment.log"
        fig="$(basename "$GPU_CHECK_EXPERIMENT"): $(tail -n 1 "$LOGS/experiment.log")"
        if [ $RC -eq 0 ]; then record experiment PASS "$fig"; else
            record experiment "$(fail_or_skip)" "$(why_rc); $fig"
        fi
    fi
fi

# bench_cuda: op timings beside the CPU (and documents/s with the scratch model)
if [ "$GPU" = 0 ]; then
    record bench_cuda SKIP "no GPU"
elif [ ! -x "$B/bench/bench_cuda" ]; then
    record bench_cuda FAIL "not built"
else
    model=$WORK/m-cuda
    [ -e "$model" ] || model=$WORK/m-cpu
    bench=(env BENCH_CUDA_REPS=5 FINSENT_MODEL="$model" "$ROOT/$B/bench/bench_cuda")
    run_step bench_cuda 120 "${bench[@]}"
    blocking_rerun bench_cuda "${bench[@]}"
    # rows "  what  cpu  cuda  N.Nx  unit" -> "what: cpu X, cuda Y unit (N.Nx)"
    fig=$(awk 'NF >= 5 && $(NF - 1) ~ /^[0-9.]+x$/ {
                   w = $1; for (i = 2; i <= NF - 4; i++) w = w " " $i
                   printf "%s%s: cpu %s, cuda %s %s (%s)", sep, w, $(NF - 3), $(NF - 2), $NF, $(NF - 1)
                   sep = "; " }' "$LOGS/bench_cuda.log")
    if [ $RC -eq 0 ] && grep -q '^skipped' "$LOGS/bench_cuda.log"; then
        record bench_cuda FAIL "$(head -n 1 "$LOGS/bench_cuda.log")"
    elif [ $RC -eq 0 ]; then
        record bench_cuda PASS "${fig:-no figures: see bench_cuda.log}"
        grep -E '^(load|  )' "$LOGS/bench_cuda.log" | indent
    else
        record bench_cuda "$(fail_or_skip)" "$(why_rc)"
    fi
fi

# ---- 4b. compute-sanitizer, last: it takes what time is left ----------------------------------
SAN=""
for c in ${CUDA_HOME:+$CUDA_HOME/bin/compute-sanitizer} "$(dirname "${NVCC:-/x/x}")/compute-sanitizer" \
    /usr/local/cuda/bin/compute-sanitizer "$(command -v compute-sanitizer)"; do
    [ -z "$SAN" ] && [ -x "$c" ] && SAN=$c
done
if [ "$GPU" = 0 ]; then
    record sanitizer SKIP "no GPU${SAN:+ (compute-sanitizer at $SAN)}"
elif [ -z "$SAN" ]; then
    record sanitizer SKIP "compute-sanitizer not found"
else
    for tool in memcheck synccheck racecheck; do
        run_step "sanitizer_$tool" 120 "$SAN" --tool "$tool" --error-exitcode 99 "$ROOT/$B/tests/test_cuda"
        summ=$(grep -o 'ERROR SUMMARY: .*' "$LOGS/sanitizer_$tool.log" | tail -n 1)
        p=$(count PASS "sanitizer_$tool")
        grep -q '^  # device: ' "$LOGS/sanitizer_$tool.log" || [ $RC -ne 0 ] || RC=98
        case $RC in
        0) record "sanitizer $tool" PASS "${summ:-no errors}; test_cuda $p passed (${DUR}s)" ;;
        98) record "sanitizer $tool" FAIL "test_cuda found no device under compute-sanitizer" ;;
        124) record "sanitizer $tool" SKIP "$(why_rc) (test_cuda $p passed so far)" ;;
        125) record "sanitizer $tool" SKIP "$(why_rc)" ;;
        *)
            record "sanitizer $tool" FAIL "$(why_rc): ${summ:-see sanitizer_$tool.log}"
            grep -E '^=========' "$LOGS/sanitizer_$tool.log" | head -n 12 | indent
            ;;
        esac
    done
fi

finish
