#!/usr/bin/env bash
# seeds_val.sh — how far the default's figures move with the seed alone: the
# default's whole fine-tuning (every bundled example, default settings) with
# each seed, then validation accuracy (as train reports it) and the news check
# set (finsent eval). Nothing is chosen from it: the default stays seed 1; it
# sizes the noise around the README's single-seed figures. Meant for a lent GPU:
#   GPU_CHECK_EXPERIMENT=scripts/experiments/seeds_val.sh bash scripts/gpu-check.sh
#
# Environment: BIN (finsent), BASE (the base), WORK (a scratch directory);
# DEVICE (cuda), SEEDS ("1 2 3 4 5"), TRAIN_ARGS (more `finsent train` options,
# e.g. "--max-examples 300 --epochs 1" for a dry run).
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=scripts/experiments/lib.sh
. scripts/experiments/lib.sh
DEVICE=${DEVICE:-cuda} SEEDS=${SEEDS:-1 2 3 4 5}
summary=$WORK/seeds_val.tsv
: >"$summary"
# news TASK MODEL: "accuracy negative-recall" on the news check set
news() {
    "$BIN" eval --device "$DEVICE" --json --task "$1" --data "data/news_check/$1.csv" \
        --model "$2" | python3 -c 'import json, sys
r = json.load(sys.stdin)
neg = [c["recall"] for c in r["per_class"] if c["label"] == "negative"]
print("%.4f %.3f" % (r["accuracy"], neg[0] if neg else 0))'
}
for seed in $SEEDS; do
    log=$WORK/seed-$seed.log model=$WORK/m-seed
    # shellcheck disable=SC2086 # TRAIN_ARGS: options, split on purpose
    "$BIN" train --base "$BASE" --device "$DEVICE" --seed "$seed" --out "$model" \
        ${TRAIN_ARGS:-} >"$log" 2>&1
    rc=$?
    figs=$(val_figs "seed $seed" "$log" $rc) || { echo "$figs"; exit 1; }
    read -r t s <<<"$figs"
    read -r nt _ <<<"$(news topic "$model")"
    read -r ns nr <<<"$(news sentiment "$model")"
    rm -rf "$model"
    echo "seed $seed: validation topic $t sentiment $s; news check topic ${nt:-?} sentiment ${ns:-?} negative recall ${nr:-?}"
    printf '%s\t%s\t%s\t%s\t%s\n' "$seed" "$t" "$s" "${ns:-0}" "${nr:-0}" >>"$summary"
done
awk -F '\t' '{ n++; t += $2; s += $3; ns += $4; nr += $5
               if (n == 1 || $3 < smin) smin = $3; if (n == 1 || $3 > smax) smax = $3 }
    END { printf "%d seeds: validation topic %.4f, sentiment %.4f (%.4f to %.4f); news check sentiment %.4f, negative recall %.3f (means)\n",
                 n, t / n, s / n, smin, smax, ns / n, nr / n }' "$summary"
