#!/usr/bin/env bash
# Builds tests/test_cuda.c against the CUDA backend compiled for the CPU
# emulation (cuda_emu.h) and runs it: every kernel, cuBLAS call and transfer
# of cuda/*.cu executes on the CPU and is compared with the CPU backend.
# No GPU, driver or nvcc needed (g++ and OpenBLAS are). The emulated backend
# and the program are built with ASan and UBSan, so a kernel reading or
# writing outside its buffers fails loudly. The other modules come from the
# libraries of the build directory $B (default build: run make tests-build first).
#
#   cuda/emu/run.sh                      run the emulated device tests
#   CUDA_EMU_NO_DEVICE=1 cuda/emu/run.sh the same, with no device (fallback path)
#   cuda/emu/run.sh PROG.c [ARGS...]     any program using the backends, e.g.
#                                        bench/bench_cuda.c (its figures mean
#                                        nothing here: it checks that it runs)
#
# Prints the program's output; exits with its status.
set -eu
cd "$(dirname "$0")/../.."
B=${B:-build}
out=${CUDA_EMU_DIR:-$(mktemp -d /tmp/finsent-cuda-emu.XXXXXX)}
mkdir -p "$out"
CC=${CC:-cc}
CXX=${CXX:-g++}
PKGS="libcurl libxml-2.0 sqlite3 jansson libnotify"
libs=()
for m in alerts trends classify crawler db common; do
    if [ ! -f "$B/lib$m.a" ]; then
        echo "cuda/emu/run.sh: $B/lib$m.a is missing (run make tests-build first)" >&2
        exit 1
    fi
    libs+=("$B/lib$m.a")
done
# nvcc contracts a * b + c into one FMA by default (-fmad=true) where the host
# compiler rounds the product first; where this CPU has FMA the emulated kernels
# are contracted too (gcc does so from -O2), so that the tests' tolerances meet
# the device's rounding here: it reproduces what an H200 gave, to the last bit.
# CUDA_EMU_CXXFLAGS overrides it ("" for the host's own rounding).
if [ -z "${CUDA_EMU_CXXFLAGS+set}" ] && grep -qw fma /proc/cpuinfo 2>/dev/null; then
    CUDA_EMU_CXXFLAGS="-O2 -mfma -ffp-contract=fast"
fi
SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
CFLAGS="-O1 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -pthread -I. -DFINSENT_HAVE_CUDA $SAN"
CXXFLAGS="-O1 -g -std=c++17 -Wall -Wextra -pthread -I cuda/emu -I. -D__CUDACC__ \
  -include cuda/emu/cuda_emu.h -Wno-unused-function $SAN ${CUDA_EMU_CXXFLAGS:-} \
  -Dcuda_plugin_create=backend_cuda_create"  # no plugin loader here: link the entry directly

main_src=${1:-tests/test_cuda.c}
prog="$out/$(basename "$main_src" .c)_emu"
objs=("$out/main.o")
$CC $CFLAGS -c -o "$out/main.o" "$main_src" &
pids=($!)
for cu in cuda/*.cu; do
    cc_src="$out/$(basename "$cu" .cu).cc"
    python3 cuda/emu/preprocess.py "$cu" "$cc_src"
    objs+=("$cc_src.o")
    $CXX $CXXFLAGS -c -o "$cc_src.o" "$cc_src" &
    pids+=($!)
    if [ "${#pids[@]}" -ge 2 ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p"; done
# shellcheck disable=SC2046
$CXX $SAN -pthread -o "$prog" "${objs[@]}" "${libs[@]}" $(pkg-config --libs $PKGS) \
    -lopenblas -lm
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} "$prog" "${@:2}"
