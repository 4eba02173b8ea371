#!/usr/bin/env bash
# `make fuzz`: builds each fuzz/fuzz_*.c with clang's libFuzzer (+ ASan, UBSan)
# against the crawler sources and runs it for FUZZ_SECONDS (default 30), seeded
# from the fixtures. New corpus entries go to build/fuzz/corpus-<target>;
# crashes are written to build/fuzz/ as crash-*.
#
#   FUZZ_SECONDS=60 scripts/fuzz.sh            all targets
#   FUZZ_MAX_LEN=200000 scripts/fuzz.sh        larger inputs (default 65536;
#                                              tokenizer and MIME 4096, HTML and
#                                              model file 16384)
#   FUZZ_SECONDS=10 scripts/fuzz.sh fuzz_html   one target
#   FUZZ_RUNS=1000000 scripts/fuzz.sh fuzz_html a campaign: stops after that many
#                                              executions (FUZZ_SECONDS is ignored)
set -eu
cd "$(dirname "$0")/.."
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
FUZZ_RUNS=${FUZZ_RUNS:-}
CLANG=${CLANG:-clang}
OUT=build/fuzz
mkdir -p "$OUT"
command -v "$CLANG" >/dev/null || { echo "fuzz: $CLANG not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }

# Every target links these sources (fuzz_alerts_mime includes the alert code itself,
# as it checks static helpers).
SRCS="crawler/feed.c crawler/html.c crawler/text.c crawler/url.c crawler/dedupe.c
classify/tokenizer.c classify/vocab_text.c classify/ngram.c classify/wordpiece.c
common/common.c common/strbuf.c common/util.c"
CFLAGS="-g -O1 -std=c11 -D_GNU_SOURCE -I. $(pkg-config --cflags libxml-2.0 jansson)"
LIBS="$(pkg-config --libs libxml-2.0 jansson) -lm"

seeds_for() {
    case "$1" in
    fuzz_feed) echo "tests/fixtures/feeds tests/fixtures/crafted" ;;
    fuzz_html) echo "tests/fixtures/pages tests/fixtures/crafted" ;;
    fuzz_wordpiece) echo "tests/fixtures/crafted tests/fixtures/feeds" ;;
    fuzz_hf_bert) echo "fuzz/seeds-hf_bert" ;;
    fuzz_model_file) echo "$OUT/seeds-fuzz_model_file" ;;
    *) echo "tests/fixtures" ;;
    esac
}

# The largest input a target is given: the tokenizer's n-gram features, the
# HTML extractor's three parses and the MIME checks cost time in proportion to
# the input, and no path of theirs needs more; the model file seeds are 5-9 KiB
# (the targets cut longer inputs to the same bounds). FUZZ_MAX_LEN overrides.
max_len_for() {
    case "$1" in
    fuzz_tokenizer | fuzz_alerts_mime) echo "${FUZZ_MAX_LEN:-4096}" ;;
    fuzz_html | fuzz_model_file) echo "${FUZZ_MAX_LEN:-16384}" ;;
    *) echo "${FUZZ_MAX_LEN:-65536}" ;;
    esac
}

# Sources and libraries a target needs beyond SRCS.
MODEL_SRCS="classify/hf_bert.c classify/model.c classify/safetensors.c classify/backend_cpu.c"
MODEL_FILE_SRCS="$MODEL_SRCS classify/model_file.c classify/infer.c classify/text_tok.c
classify/parallel.c classify/dataset.c common/csv.c"
extra_for() {
    case "$1" in
    fuzz_hf_bert) echo "$MODEL_SRCS -lopenblas -lpthread" ;;
    fuzz_model_file) echo "$MODEL_FILE_SRCS -lopenblas -lpthread" ;;
    esac
}

# fuzz_model_file's seeds: tiny model files written by fuzz/model_seeds.c
# (the test suite's tiny classifier, tests/tiny_classifier.h).
make_seeds() {
    case "$1" in
    fuzz_model_file)
        mkdir -p "$OUT/seeds-$1"
        # shellcheck disable=SC2086
        "$CLANG" $CFLAGS -o "$OUT/model_seeds" fuzz/model_seeds.c $SRCS $MODEL_FILE_SRCS \
            $LIBS -lopenblas -lpthread
        "$OUT/model_seeds" "$OUT/seeds-$1"
        ;;
    esac
}

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for f in fuzz/fuzz_*.c; do targets+=("$(basename "$f" .c)"); done
fi

status=0
for t in "${targets[@]}"; do
    echo "fuzz: building $t"
    # shellcheck disable=SC2086
    "$CLANG" $CFLAGS -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        -o "$OUT/$t" "fuzz/$t.c" $SRCS $(extra_for "$t") $LIBS
    make_seeds "$t"
    corpus="$OUT/corpus-$t"
    mkdir -p "$corpus"
    if [ -n "$FUZZ_RUNS" ]; then
        limit="-runs=$FUZZ_RUNS"
        echo "fuzz: running $t for $FUZZ_RUNS executions"
    else
        limit="-max_total_time=$FUZZ_SECONDS"
        echo "fuzz: running $t for ${FUZZ_SECONDS}s"
    fi
    # The log ends with the target's CPU time ("cpu: USER SYS"): on a shared
    # machine exec/s is wall-clock and says more about the load than the target.
    # shellcheck disable=SC2046
    if ! (cd "$OUT" && "./$t" "$limit" -timeout=10 -rss_limit_mb=2048 -max_len="$(max_len_for "$t")" \
        -dict=../../fuzz/markup.dict -print_final_stats=1 "corpus-$t" \
        $(for d in $(seeds_for "$t"); do echo "../../$d"; done) 2>"$t.log"
        rc=$?
        times >"$t.times" # not in a pipe: its subshell would have no children
        echo "cpu: $(tail -n 1 "$t.times")" >>"$t.log"
        exit $rc); then
        echo "fuzz: $t FAILED (see $OUT/$t.log and $OUT/crash-*)" >&2
        tail -n 30 "$OUT/$t.log" >&2
        status=1
        continue
    fi
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)|^#[0-9]+.*DONE|^cpu: ' "$OUT/$t.log" | sed "s/^/fuzz: $t: /"
done
exit $status
