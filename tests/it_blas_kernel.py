#!/usr/bin/env python3
"""Integration test of the OpenBLAS kernel choice (common/cpu_features.h)
through ./finsent: a tiny model is trained, then 'finsent predict' gives the
same probabilities (within 1e-5) under the fallback kernel (Prescott), under
the kernel this machine runs unaided, and after finsent re-executed itself
from Prescott into the kernel the CPU's features support. The last case plays
a CPU that OpenBLAS does not recognise: a preloaded shim removes
OPENBLAS_CORETYPE=Prescott after the library has read it, so finsent finds
the weak kernel and no user setting. --verbose names the kernel each time.

Where the environment already sets OPENBLAS_CORETYPE (this workplace does on
processors where some OpenBLAS kernels misbehave), no other kernel is run:
only the report of the preset kernel is checked."""
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

BIN = os.environ.get("FINSENT_BIN", "./finsent")
TOL = 1e-5
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from fstest import Report, missing_line  # noqa: E402

report = Report()

TEXTS = ["$ACME Acme record profit", "$HOOL Hooli files for bankruptcy",
         "Initech to report results on tuesday", "Globex says opec outlook changes",
         "Umbrella misses estimates as powell speaks"]
SHIM = r"""
#include <stdlib.h>
/* Linked against libopenblas, so its constructor runs after the library's:
 * the kernel stays as OPENBLAS_CORETYPE chose it and the variable disappears. */
__attribute__((constructor)) static void forget_coretype(void) { unsetenv("OPENBLAS_CORETYPE"); }
"""


def skip(name, why):
    print(f"SKIP {name}: {why}")


def run(args, env_changes):
    env = dict(os.environ)
    for k, v in env_changes.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    env.pop("FINSENT_BLAS_REEXEC", None)
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=300, env=env)


def cpuinfo_kernel():
    """The kernel /proc/cpuinfo's flags imply, '' for none, None without flags."""
    try:
        with open("/proc/cpuinfo") as f:
            line = next((l for l in f if l.startswith("flags")), None)
    except OSError:
        return None
    if line is None:
        return None
    flags = set(line.split(":", 1)[1].split())
    if {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= flags:
        return "SkylakeX"
    if {"avx2", "fma"} <= flags:
        return "Haswell"
    return "Sandybridge" if "avx" in flags else ""


def train_tiny(d):
    rng = random.Random(3)
    words = {0: ["plunges", "misses estimates", "files for bankruptcy"],
             1: ["soars", "beats estimates", "record profit"],
             2: ["to report results on tuesday", "schedules annual meeting"]}
    topics = {6: ["oil", "opec"], 1: ["fed", "powell"], 5: ["earnings", "eps"]}
    sent, topic = os.path.join(d, "sent.csv"), os.path.join(d, "topic.csv")
    with open(sent, "w") as f:
        f.write("text,label\n")
        for _ in range(120):
            lab = rng.choice([0, 1, 2])
            f.write(f"Acme {rng.choice(words[lab])},{lab}\n")
    with open(topic, "w") as f:
        f.write("text,label\n")
        for _ in range(120):
            lab = rng.choice(list(topics))
            f.write(f"Hooli says {rng.choice(topics[lab])} outlook changes,{lab}\n")
    model = os.path.join(d, "model.safetensors")
    p = run(["--db", os.path.join(d, "train.db"), "train", "--out", model, "--epochs", "2",
             "--seed", "1", "--width", "32", "--layers", "1", "--heads", "2", "--ffn", "64",
             "--vocab", "300", "--max-len", "16", "--batch", "16", "--device", "cpu",
             "--sentiment-data", sent, "--topic-data", topic], {})
    return model, p


def asan_runtime():
    """[path of the ASan runtime] when finsent is built with it (make SAN=1): a
    preloaded library must then come after it, or the binary refuses to start."""
    p = subprocess.run(["ldd", BIN], capture_output=True, text=True)
    for line in p.stdout.splitlines():
        if "libasan" in line and "=>" in line:
            return [line.split("=>")[1].split()[0]]
    return []


def predict(model, env_changes):
    """(kernel line from --verbose, list of probability vectors) or (None, why)."""
    p = run(["--verbose", "predict", "--json", "--model", model, *TEXTS], env_changes)
    m = re.search(r"blas: (OpenBLAS kernel .*)", p.stderr)
    try:
        rows = [json.loads(l) for l in p.stdout.splitlines()]
        vec = [[r["score"], *r["topic_probs"].values(), *r["sentiment_probs"].values()]
               for r in rows]
    except (ValueError, KeyError) as e:
        return None, f"exit {p.returncode} {e}: {p.stdout[:200]} {p.stderr[-300:]}"
    if p.returncode != 0 or len(vec) != len(TEXTS) or not m:
        return None, f"exit {p.returncode}: {p.stderr[-300:]}"
    return m.group(1), vec


def max_diff(a, b):
    return max(abs(x - y) for ra, rb in zip(a, b) for x, y in zip(ra, rb))


def build_shim(d):
    src, lib = os.path.join(d, "shim.c"), os.path.join(d, "shim.so")
    with open(src, "w") as f:
        f.write(SHIM)
    cc = os.environ.get("CC", "cc")
    try:
        p = subprocess.run([cc, "-shared", "-fPIC", "-o", lib, src, "-lopenblas"],
                           capture_output=True, text=True, timeout=120)
    except OSError:
        return None
    return lib if p.returncode == 0 else None


def main():
    d = tempfile.mkdtemp(prefix="finsent-it-blas-")
    try:
        check_all(d)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def check_all(d):
    model, p = train_tiny(d)
    report(p.returncode == 0 and os.path.exists(model), "train_tiny",
           f"exit {p.returncode}: {p.stderr.strip()[-300:]}")
    if p.returncode != 0:
        return
    preset = os.environ.get("OPENBLAS_CORETYPE")
    if preset:
        line, vec = predict(model, {})
        report(line is not None and "set in the environment" in line, "preset_coretype_respected",
               str(line or vec))
        for name in ["predict_same_under_prescott_and_auto", "reexec_from_prescott"]:
            skip(name, f"OPENBLAS_CORETYPE={preset} is set in the environment")
        return
    want = cpuinfo_kernel()
    base_line, base = predict(model, {"OPENBLAS_CORETYPE": "Prescott"})
    auto_line, auto = predict(model, {"OPENBLAS_CORETYPE": None})
    report(base_line is not None and base_line.startswith("OpenBLAS kernel Prescott "),
           "verbose_names_forced_kernel", str(base_line or base))
    ok = auto_line is not None and (not want or "kernel Prescott " not in auto_line)
    report(ok, "verbose_names_auto_kernel", str(auto_line or auto))
    print(f"  # {auto_line}")
    if base_line and auto_line:
        diff = max_diff(base, auto)
        report(diff < TOL, "predict_same_under_prescott_and_auto",
               f"max |diff| {diff:.3g} ({auto_line})")
        print(f"  # max |diff| of scores and probabilities, Prescott vs auto: {diff:.3g}")
    if not want:
        skip("reexec_from_prescott", "the CPU supports no kernel above Prescott")
        return
    shim = build_shim(d)
    if not shim:
        print(missing_line("reexec_from_prescott",
                           "cc and libopenblas-dev to build the preload shim"), flush=True)
        return
    line, vec = predict(model, {"OPENBLAS_CORETYPE": "Prescott",
                                "LD_PRELOAD": ":".join(asan_runtime() + [shim])})
    ok = (line is not None and line.startswith(f"OpenBLAS kernel {want} (chosen by finsent") and
          "picked Prescott" in line)
    report(ok, "reexec_from_prescott", str(line or vec))
    if line and base_line:
        diff = max_diff(base, vec)
        report(diff < TOL, "predict_same_after_reexec", f"max |diff| {diff:.3g}")


if __name__ == "__main__":
    main()
    sys.exit(report.exit_code())
