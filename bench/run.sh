#!/usr/bin/env bash
# `make bench`: runs every benchmark and prints its figures (nothing is asserted).
set -u
cd "$(dirname "$0")/.."
B=${B:-build}
for b in "$B"/bench/bench_*; do
    [ -x "$b" ] || continue
    echo "== $(basename "$b")"
    "$b"
done
for b in bench/bench_*.sh bench/bench_*.py; do
    [ -f "$b" ] || continue
    echo "== $(basename "$b")"
    [ "$b" = bench/bench_encoder.py ] && [ -x .venv/bin/python ] && { .venv/bin/python "$b" --finsent "$B/finsent"; continue; }
    case "$b" in *.py) /usr/bin/python3 "$b" ;; *) bash "$b" ;; esac
done
