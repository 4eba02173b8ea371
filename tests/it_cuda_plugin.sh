#!/usr/bin/env bash
# The CUDA backend is a plugin (libfinsent-cuda.so) loaded only where a driver
# exists. Checks: finsent itself does not link cuBLAS; `--device cuda` trains on
# a GPU, or fails with one line naming the missing driver or device; the plugin
# loads into the real binary with every symbol resolved (RTLD_NOW) and reaches
# the CUDA runtime; `--device auto` trains (on the CPU without a GPU).
# The loader's search for the plugin's own libraries (cuBLAS, the CUDA runtime)
# when the dynamic linker does not find them is checked with a stand-in plugin
# built here, whose two libraries live only under $CUDA_HOME (or $CUDA_PATH):
# found there through two levels of missing libraries, or one line naming the
# missing library and the directories tried.
set -u
cd "${FINSENT_ROOT:-$(dirname "$0")/..}"
BIN=${FINSENT_BIN:-./finsent}
PLUGIN=$PWD/${B:-build}/libfinsent-cuda.so
if [ ! -f "$PLUGIN" ]; then
    echo "SKIP cuda_plugin: built without CUDA (no $PLUGIN)"
    exit 0
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
printf 'text,label\nshares rally up,positive\nshares crash down,negative\n' >"$T/s.csv"
printf 'text,label\ncrude oil output,Energy | Oil\nfed rates,Fed | Central Banks\n' >"$T/t.csv"
train() { "$BIN" train --sentiment-data "$T/s.csv" --topic-data "$T/t.csv" --out "$T/m" \
    --epochs 1 --width 16 --layers 1 --heads 2 --vocab 64 --max-len 16 "$@"; }
fail=0
check() { # name condition-status message
    if [ "$2" -eq 0 ]; then echo "PASS $1"; else echo "FAIL $1: $3"; fail=1; fi
}
one_line() { [ "$(printf '%s\n' "$1" | grep -c .)" -eq 1 ]; }
# A usable GPU: the driver answers and lists one (the same test as a person's)
gpu=0
command -v nvidia-smi >/dev/null && nvidia-smi -L 2>/dev/null | grep -q '^GPU ' && gpu=1

ldd "$BIN" | grep -q libcublas
check finsent_does_not_link_cublas $((1 - $?)) "ldd lists libcublas: $(ldd "$BIN" | grep cublas)"

err=$(train --device cuda 2>&1 >/dev/null); rc=$?
if [ $gpu -eq 1 ]; then
    [ $rc -eq 0 ]
    check device_cuda_trains_on_the_gpu $? "exit $rc: $err"
else
    [ $rc -ne 0 ] && one_line "$err" && [[ "$err" == *"no CUDA device"* ]]
    check device_cuda_fails_in_one_line $? "exit $rc: $err"
fi

err=$(FINSENT_CUDA_LIB="$PLUGIN" train --device cuda 2>&1 >/dev/null); rc=$?
# the runtime answered (a device, or none here): neither the driver check nor
# dlopen stopped it
if [ $gpu -eq 1 ]; then
    [ $rc -eq 0 ]
else
    [ $rc -ne 0 ] && [[ "$err" == *"cuda: no CUDA device"* ]] &&
        [[ "$err" != *"libcuda.so.1 not found"* && "$err" != *"not loadable"* ]]
fi
check plugin_loads_with_every_symbol $? "exit $rc: $err"

train --device auto >/dev/null 2>"$T/auto.err"; rc=$?
check device_auto_trains $rc "exit $rc: $(cat "$T/auto.err")"

# ---- the loader's library search, with a stand-in plugin ----------------------
if ! command -v cc >/dev/null; then
    echo "SKIP plugin_library_search: missing dependency: cc (make deps)"
    exit $fail
fi
case "$(uname -m)" in aarch64) target=sbsa-linux ;; *) target=x86_64-linux ;; esac
cuda=$T/cuda
mkdir -p "$cuda/lib64" "$cuda/targets/$target/lib" "$T/plugin"
# libfstest_cublas.so needs libfstest_cublaslt.so: two levels of missing libraries
cat >"$T/lt.c" <<'EOF'
int fstest_lt_value(void) { return 42; }
EOF
cat >"$T/blas.c" <<'EOF'
int fstest_lt_value(void);
int fstest_blas_value(void) { return fstest_lt_value() + 1; }
EOF
cat >"$T/plugin.c" <<'EOF'
#include <stdio.h>
struct backend;
int fstest_blas_value(void);
/* err is a struct fs_error: a char[512] first */
int cuda_plugin_create(struct backend **out, void *err)
{
    *out = 0;
    snprintf((char *)err, 512, "cuda: stand-in plugin loaded, its library says %d",
             fstest_blas_value());
    return -1;
}
EOF
# (with sonames, as real libraries have: the dynamic linker matches them)
cc -shared -fPIC -Wl,-soname,libfstest_cublaslt.so -o "$cuda/targets/$target/lib/libfstest_cublaslt.so" \
    "$T/lt.c" &&
    cc -shared -fPIC -Wl,-soname,libfstest_cublas.so -o "$cuda/lib64/libfstest_cublas.so" "$T/blas.c" \
        -L"$cuda/targets/$target/lib" -lfstest_cublaslt &&
    cc -shared -fPIC -o "$T/plugin/libfinsent-cuda.so" "$T/plugin.c" \
        -L"$cuda/lib64" -lfstest_cublas
check stand_in_plugin_builds $? "cc failed"

# stand_in [VAR=VALUE]: --device cuda with the stand-in plugin, CUDA_HOME and
# CUDA_PATH unset unless given
stand_in() {
    (
        unset CUDA_HOME CUDA_PATH
        [ $# -gt 0 ] && export "${1?}"
        FINSENT_CUDA_LIB="$T/plugin/libfinsent-cuda.so" train --device cuda
    )
}
for var in CUDA_HOME CUDA_PATH; do
    err=$(stand_in "$var=$cuda" 2>&1 >/dev/null); rc=$?
    [ $rc -ne 0 ] && one_line "$err" && [[ "$err" == *"stand-in plugin loaded, its library says 43"* ]]
    check "plugin_libraries_found_through_$var" $? "exit $rc: $err"
done

err=$(stand_in 2>&1 >/dev/null); rc=$?
[ $rc -ne 0 ] && one_line "$err" && [[ "$err" == *"libfstest_cublas.so not found (looked in "* ]] &&
    [[ "$err" == *"ld.so cache"* && "$err" == *"not loadable"* ]]
check plugin_missing_library_in_one_line $? "exit $rc: $err"

# the library is there but its own library is not: that one is named
mv "$cuda/targets/$target/lib/libfstest_cublaslt.so" "$T/"
err=$(stand_in "CUDA_HOME=$cuda" 2>&1 >/dev/null); rc=$?
[ $rc -ne 0 ] && one_line "$err" && [[ "$err" == *"libfstest_cublaslt.so not found"* ]] &&
    [[ "$err" == *"$cuda/lib64"* ]]
check plugin_missing_library_of_a_library_named $? "exit $rc: $err"
exit $fail
