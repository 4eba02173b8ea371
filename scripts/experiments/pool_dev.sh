#!/usr/bin/env bash
# pool_dev.sh — how the fine-tuned base should pool its tokens: mean, [CLS] or
# attention, measured on the development split (scripts/dev_split.py: the tweet
# training sets less a tenth held out by hash, plus the default's news sentences),
# never on the validation sets. Each pool is trained with each seed at the
# default's other settings; one line per run, then the means over the seeds.
# Meant for a lent GPU, through scripts/gpu-check.sh:
#   GPU_CHECK_EXPERIMENT=scripts/experiments/pool_dev.sh bash scripts/gpu-check.sh
#
# Environment: BIN (finsent), BASE (the base), WORK (a scratch directory);
# DEVICE (cuda), POOLS ("mean cls attention"), SEEDS ("1 2 3"), TRAIN_ARGS (more
# `finsent train` options, e.g. "--max-examples 300 --epochs 1" for a dry run).
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=scripts/experiments/lib.sh
. scripts/experiments/lib.sh
DEVICE=${DEVICE:-cuda} POOLS=${POOLS:-mean cls attention} SEEDS=${SEEDS:-1 2 3}
dev=$WORK/dev
mkdir -p "$dev"
python3 scripts/dev_split.py --out "$dev" || exit 1
summary=$WORK/pool_dev.tsv
: >"$summary"
for pool in $POOLS; do
    for seed in $SEEDS; do
        log=$WORK/pool-$pool-$seed.log
        # shellcheck disable=SC2086 # TRAIN_ARGS: options, split on purpose
        "$BIN" train --base "$BASE" --device "$DEVICE" --pool "$pool" --seed "$seed" \
            --sentiment-data "$dev/sentiment_train.csv" --topic-data "$dev/topic_train.csv" \
            --sentiment-val "$dev/sentiment_dev.csv" --topic-val "$dev/topic_dev.csv" \
            --news-data data/news_train/all.csv --out "$WORK/m-pool" ${TRAIN_ARGS:-} >"$log" 2>&1
        rc=$?
        rm -rf "$WORK/m-pool"
        figs=$(val_figs "pool $pool seed $seed" "$log" $rc) || { echo "$figs"; exit 1; }
        read -r t s <<<"$figs"
        echo "pool $pool seed $seed: dev topic $t sentiment $s ($(grep -o 'trained in [0-9]* s' "$log"))"
        printf '%s\t%s\t%s\n' "$pool" "$t" "$s" >>"$summary"
    done
done
awk -F '\t' '{ n[$1]++; t[$1] += $2; s[$1] += $3; if (!($1 in seen)) { seen[$1] = 1; o[++k] = $1 } }
    END { printf "dev means over the seeds:"
          for (i = 1; i <= k; i++) printf "%s %s topic %.4f sentiment %.4f", (i > 1 ? ";" : ""), o[i],
              t[o[i]] / n[o[i]], s[o[i]] / n[o[i]]
          printf "\n" }' "$summary"
