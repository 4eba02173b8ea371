#!/usr/bin/env python3
"""Rewrites a .cu file for the CPU emulation (cuda_emu.h).

- `k<<<g, b, shmem, stream>>>(args);` becomes `emu_launch(g, b, shmem, stream,
  [=] { k(args); });`, or emu_launch_plain(...) when the kernel's body has no
  barrier or shuffle (directly or through the reductions of cuda_impl.cuh):
  its threads then run one after another without fibers, much faster.
- `extern __shared__ T name[];` becomes a pointer to the block's dynamic
  shared memory.

Usage: preprocess.py IN.cu OUT.cc"""
import re
import sys

COOPERATIVE = re.compile(r"__syncthreads|__shfl|warp_sum|warp_max|block_sum|block_max")


def kernel_bodies(src):
    """Yields (name, body) of every __global__ function."""
    for m in re.finditer(r"__global__\s+(?:static\s+)?void\s+(\w+)\s*\(", src):
        i = src.index("{", m.end())
        depth = 0
        for j in range(i, len(src)):
            depth += {"{": 1, "}": -1}.get(src[j], 0)
            if depth == 0:
                yield m.group(1), src[i:j + 1]
                break


src = open(sys.argv[1]).read()
plain = {name for name, body in kernel_bodies(src) if not COOPERATIVE.search(body)}
src = re.sub(r"extern __shared__ (\w+) (\w+)\[\];", r"\1 *\2 = (\1 *)emu_dyn_shared;", src)


def launch(m):
    name = m.group(1)
    base = name.split("<")[0]
    fn = "emu_launch_plain" if base in plain else "emu_launch"
    return "%s(%s, [=] { %s(%s); });" % (fn, m.group(2), name, m.group(3))


src = re.sub(r"([A-Za-z_]\w*(?:<[^<>;]*>)?)<<<(.*?)>>>\((.*?)\);", launch, src, flags=re.S)
if "<<<" in src:
    sys.exit("preprocess.py: a launch was not rewritten in " + sys.argv[1])
open(sys.argv[2], "w").write('#line 1 "%s"\n' % sys.argv[1] + src)
