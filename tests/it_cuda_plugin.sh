#!/usr/bin/env bash
# The CUDA backend is a plugin (libfinsent-cuda.so) loaded only where a driver
# exists. Checks, on this machine without a GPU: finsent itself does not link
# cuBLAS; `--device cuda` fails with one line naming the missing driver; the
# plugin loads into the real binary with every symbol resolved (RTLD_NOW) and
# reaches the CUDA runtime, which reports no device; `--device auto` trains on
# the CPU.
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

ldd "$BIN" | grep -q libcublas
check finsent_does_not_link_cublas $((1 - $?)) "ldd lists libcublas: $(ldd "$BIN" | grep cublas)"

err=$(train --device cuda 2>&1 >/dev/null); rc=$?
[ $rc -ne 0 ] && [ "$(printf '%s\n' "$err" | grep -c .)" -eq 1 ] && [[ "$err" == *"no CUDA device"* ]]
check device_cuda_fails_in_one_line $? "exit $rc: $err"

err=$(FINSENT_CUDA_LIB="$PLUGIN" train --device cuda 2>&1 >/dev/null); rc=$?
# the runtime answered (no device here): neither the driver check nor dlopen stopped it
[ $rc -ne 0 ] && [[ "$err" == *"cuda: no CUDA device"* ]] &&
    [[ "$err" != *"libcuda.so.1 not found"* && "$err" != *"not loadable"* ]]
check plugin_loads_with_every_symbol $? "exit $rc: $err"

train --device auto >/dev/null 2>"$T/auto.err"; rc=$?
check device_auto_falls_back_to_cpu $rc "exit $rc: $(cat "$T/auto.err")"
exit $fail
