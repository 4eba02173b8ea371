#!/usr/bin/env python3
"""Rewrites a .cu file for the CPU emulation (cuda_emu.h): kernel launches
`k<<<g, b, shmem, stream>>>(args);` become `emu_launch(g, b, shmem, stream,
[=] { k(args); });` and `extern __shared__ T name[];` becomes a pointer to the
block's dynamic shared memory. Usage: preprocess.py IN.cu OUT.cc"""
import re
import sys

src = open(sys.argv[1]).read()
src, n_shared = re.subn(r"extern __shared__ (\w+) (\w+)\[\];",
                        r"\1 *\2 = (\1 *)emu_dyn_shared;", src)
launch = re.compile(r"([A-Za-z_]\w*(?:<[^<>;]*>)?)<<<(.*?)>>>\((.*?)\);", re.S)
src, n_launch = launch.subn(r"emu_launch(\2, [=] { \1(\3); });", src)
if "<<<" in src:
    sys.exit("preprocess.py: a launch was not rewritten in " + sys.argv[1])
open(sys.argv[2], "w").write('#line 1 "%s"\n' % sys.argv[1] + src)
