# shellcheck shell=bash
# lib.sh — sourced by the scripts of scripts/experiments/.
#
# Checks that BIN, BASE and WORK are set (gpu-check.sh sets them).
: "${BIN:?BIN: the finsent binary}" "${BASE:?BASE: the base}" "${WORK:?WORK: a scratch directory}"

# val_figs LABEL LOG RC: "topic sentiment", the validation accuracies a
# `finsent train` run wrote to LOG; when RC is not 0 or a figure is missing,
# prints "LABEL: failed (exit RC): LOG's last line" and returns 1.
val_figs() {
    local t s
    t=$(sed -n 's/^validation topic *accuracy \([0-9.]*\).*/\1/p' "$2")
    s=$(sed -n 's/^validation sentiment *accuracy \([0-9.]*\).*/\1/p' "$2")
    if [ "$3" -ne 0 ] || [ -z "$t" ] || [ -z "$s" ]; then
        echo "$1: failed (exit $3): $(tail -n 1 "$2")"
        return 1
    fi
    echo "$t $s"
}
