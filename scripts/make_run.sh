#!/bin/sh
# `make run`: sets finsent up for this user and runs one cycle.
#   - writes the default config (finsent init) when there is none,
#   - trains the default model when there is none (fine-tunes the base that
#     make deps installed; a progress bar, or a line per minute in a log),
#   - runs one full cycle (crawl, classify, trends, alerts).
# Without internet access each unreachable source is reported and the cycle
# still completes (exit status 3, "partial failure", is not an error here).
set -u
cd "$(dirname "$0")/.."
BIN=./finsent
CONFIG_HOME=${XDG_CONFIG_HOME:-$HOME/.config}
DATA_HOME=${XDG_DATA_HOME:-$HOME/.local/share}
CONF=${FINSENT_CONFIG:-$CONFIG_HOME/finsent/finsent.conf}
MODEL=$DATA_HOME/finsent/model.safetensors  # finsent's default ([model] path unset)

if [ ! -f "$CONF" ]; then
    $BIN --config "$CONF" init || exit $?
fi
if [ ! -f "$MODEL" ]; then
    echo "make run: no model at $MODEL; training the default model (fine-tuning the base:" \
         "21 to 26 minutes on 2 cores)"
    $BIN --config "$CONF" train --out "$MODEL" || exit $?
fi
$BIN --config "$CONF" run
rc=$?
case $rc in
    0) echo "make run: cycle complete" ;;
    3) echo "make run: cycle complete; some sources or deliveries failed (see above)"; rc=0 ;;
    *) echo "make run: cycle failed (exit status $rc)" ;;
esac
exit $rc
