#!/usr/bin/env bash
# The CUDA backend without a GPU: cuda/emu/run.sh compiles cuda/*.cu against a
# CPU emulation of the CUDA runtime and cuBLAS (cuda/emu/cuda_emu.h, with ASan
# and UBSan) and runs tests/test_cuda.c on it, so every kernel, cuBLAS call and
# transfer is executed and compared with the CPU backend. Then the same build
# with no device checks the fallback path. One line per case.
set -u
cd "${FINSENT_ROOT:-$(dirname "$0")/..}"
if ! command -v g++ >/dev/null || ! command -v python3 >/dev/null; then
    echo "SKIP cuda_emu: missing dependency: g++ and python3 (make deps)"
    exit 0
fi
dir=$(mktemp -d /tmp/finsent-cuda-emu.XXXXXX)
trap 'rm -rf "$dir"' EXIT
rename() { sed -n "s#^\(PASS\|FAIL\|SKIP\) tests/test_cuda.c:\([a-z_]*\)#\1 $1:\2#p"; }

CUDA_EMU_DIR=$dir cuda/emu/run.sh >"$dir/log" 2>&1
rc=$?
rename cuda_emu <"$dir/log"
if [ "$rc" -ne 0 ]; then
    grep -q '^FAIL ' "$dir/log" || echo "FAIL cuda_emu: build or run failed (status $rc)"
    tail -n 40 "$dir/log" | sed 's/^/    | /'
    exit 1
fi
[ -x "$dir/test_cuda_emu" ] || exit 1
CUDA_EMU_NO_DEVICE=1 "$dir/test_cuda_emu" >"$dir/log2" 2>&1
rc=$?
rename cuda_emu_no_device <"$dir/log2" | grep -v '^SKIP '
[ "$rc" -eq 0 ]
