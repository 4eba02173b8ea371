#!/usr/bin/env bash
# Builds tests/test_cuda.c against the CUDA backend compiled for the CPU
# emulation (cuda_emu.h) and runs it: every kernel, cuBLAS call and transfer
# of cuda/*.cu executes on the CPU and is compared with the CPU backend.
# No GPU, driver or nvcc needed (g++ and OpenBLAS are). Built with ASan and
# UBSan, so a kernel reading or writing outside its buffers fails loudly.
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
out=${CUDA_EMU_DIR:-$(mktemp -d /tmp/finsent-cuda-emu.XXXXXX)}
mkdir -p "$out"
CC=${CC:-cc}
CXX=${CXX:-g++}
SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
PKG_CFLAGS=$(pkg-config --cflags libcurl libxml-2.0 sqlite3 jansson 2>/dev/null || true)
PKG_LIBS=$(pkg-config --libs libcurl libxml-2.0 sqlite3 jansson 2>/dev/null || true)
CFLAGS="-O1 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -pthread -I. $PKG_CFLAGS -DFINSENT_HAVE_CUDA $SAN"
CXXFLAGS="-O1 -g -std=c++17 -Wall -Wextra -pthread -I cuda/emu -I. -D__CUDACC__ \
  -include cuda/emu/cuda_emu.h -Wno-unused-function $SAN"

objs=()
pids=()
compile_c() { # src obj
    $CC $CFLAGS -c -o "$2" "$1"
}
main_src=${1:-tests/test_cuda.c}
prog="$out/$(basename "$main_src" .c)_emu"
for src in common/*.c db/*.c classify/*.c "$main_src"; do
    obj="$out/$(echo "$src" | tr / _).o"
    objs+=("$obj")
    compile_c "$src" "$obj" &
    pids+=($!)
    if [ "${#pids[@]}" -ge 2 ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
for cu in cuda/*.cu; do
    cc_src="$out/$(basename "$cu" .cu).cc"
    python3 cuda/emu/preprocess.py "$cu" "$cc_src"
    obj="$cc_src.o"
    objs+=("$obj")
    $CXX $CXXFLAGS -c -o "$obj" "$cc_src" &
    pids+=($!)
    if [ "${#pids[@]}" -ge 2 ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p"; done
$CXX $SAN -pthread -o "$prog" "${objs[@]}" $PKG_LIBS -lopenblas -lm
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} "$prog" "${@:2}"
