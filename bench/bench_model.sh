#!/usr/bin/env bash
# bench_model.sh — the model's figures (printed, never asserted):
#   - training time of the default model ('finsent train' with its defaults),
#     when no model exists yet or BENCH_TRAIN=1 (then into a temp dir);
#   - validation accuracy and macro-F1 of both tasks ('finsent eval --json');
#   - inference throughput on the validation texts, finsent vs PyTorch running
#     the same architecture with the same weights on the same CPU;
#   - peak RSS of 'finsent classify' over those texts stored as documents.
# The machine may be shared: the load average is printed beside the timings.
set -u
cd "$(dirname "$0")/.."
B=${B:-build}
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
[ -x .venv/bin/python ] && PY=.venv/bin/python  # transformers, for a fine-tuned model
MODEL=${FINSENT_MODEL:-${XDG_DATA_HOME:-$HOME/.local/share}/finsent/model.safetensors}
tmp=$(mktemp -d /tmp/finsent-bench-model.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
if [ ! -f "$MODEL" ] || [ -n "${BENCH_TRAIN:-}" ]; then
    [ -f "$MODEL" ] && MODEL=$tmp/model.safetensors
    echo "training the default model: finsent train --out $MODEL"
    /usr/bin/time -f "%e %M" -o "$tmp/train.time" ./finsent train --out "$MODEL" | sed 's/^/  /'
    read -r secs rss <"$tmp/train.time"
    echo "training time: ${secs} s wall (target <= 1800 s), peak RSS $((rss / 1024)) MB (target <= 1536);" \
         "load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
else
    echo "training time: not measured (model exists at $MODEL; BENCH_TRAIN=1 retrains)"
fi
[ -f "$MODEL" ] || { echo "no model: nothing else measured"; exit 0; }

echo "validation (finsent eval --json):"
for task in topic sentiment; do
    ./finsent eval --json --task $task --data data/twitter_financial_news_$task/validation.csv \
        --model "$MODEL" | $PY -c "import json,sys; r=json.load(sys.stdin); print(f'  $task: accuracy {r[\"accuracy\"]:.4f}  macro-F1 {r[\"macro_f1\"]:.4f}  (n={r[\"n\"]})')"
done

echo "inference throughput on the validation texts (length-bucketed batches):"
"$B"/bench/bench_model --infer "$MODEL" "$tmp/ids.safetensors" | tee "$tmp/c.txt" | sed 's/^/  /'
if $PY -c "import torch" 2>/dev/null; then
    $PY tests/torch_parity.py --bench "$MODEL" "$tmp/ids.safetensors" --threads "$(nproc)" | tee "$tmp/t.txt" | sed 's/^/  /'
    c=$(awk '/docs\/s/ {print $3}' "$tmp/c.txt"); t=$(awk '/docs\/s/ {print $3}' "$tmp/t.txt")
    awk -v c="$c" -v t="$t" 'BEGIN { if (t > 0) printf "  finsent / torch: %.2fx (target >= 1.5x)\n", c / t }'
else
    echo "  torch: skipped (python3-torch missing)"
fi

echo "peak RSS of 'finsent classify' over the validation texts as documents:"
./finsent --db "$tmp/b.db" classify --model "$MODEL" >/dev/null
$PY - "$tmp/b.db" <<'PYEOF'
import csv, sqlite3, sys
con = sqlite3.connect(sys.argv[1])
n = 0
for f in ["data/twitter_financial_news_topic/validation.csv",
          "data/twitter_financial_news_sentiment/validation.csv"]:
    for r in csv.DictReader(open(f, newline="", encoding="utf-8")):
        con.execute("INSERT INTO documents (dedupe_hash, text, kind, fetched_at) "
                    "VALUES (?, ?, 'article', 0)", (f"h{n}", r["text"]))
        n += 1
con.commit()
PYEOF
/usr/bin/time -f "%M %e" -o "$tmp/cls.time" ./finsent --db "$tmp/b.db" classify --model "$MODEL" | sed 's/^/  /'
read -r rss secs <"$tmp/cls.time"
echo "  peak RSS $((rss / 1024)) MB (target <= 500 MB), ${secs} s wall including the database writes"
