#!/usr/bin/env bash
# gpu-check-prepare.sh — makes .gpu-carry/, what scripts/gpu-check.sh needs on a
# lent GPU machine besides the working tree. That machine reaches no package
# registry and no model hub, and what travels (tracked and untracked files plus
# carried paths) is limited to 64 MiB, so:
#
#   .gpu-carry/base.tar.xz  the base model (default: all-MiniLM-L6-v2 as installed
#                           by `make base-model`) with its weights as F16 (finsent
#                           reads F16 as F32), and the embedding rows of tokens
#                           that no bundled validation text uses set to zero: the
#                           6,505 validation texts then compute exactly what the
#                           F16 base computes, and the file compresses to ~26 MiB
#                           instead of 87 MiB. CPU-vs-CUDA parity is measured on
#                           these weights on both devices. --train-rows keeps the
#                           rows of the bundled training texts' tokens too (18,695
#                           rows, ~31 MiB), so that training on the device reads
#                           what the F16 base reads. --full-base keeps every row
#                           (~40 MiB; then use --no-deps).
#   .gpu-carry/deps.tar.xz  the build dependencies' headers and shared libraries
#                           from this machine (Debian 12: libcurl, libxml2,
#                           sqlite3, jansson, libnotify, OpenBLAS and what they
#                           need, minus glibc and libstdc++; glibc 2.34 or later
#                           required) and GNU make, for a GPU machine without them
#                           (~22 MiB). gpu-check.sh uses it only when pkg-config
#                           there misses one of them. --no-deps leaves it out.
#   .gpu-carry/COMMIT       the commit it was made at (the device's copy of the
#                           tree may lack .git)
#
# .gpu-carry/ is ignored through .git/info/exclude; the device tool's run takes it
# with carry: [".gpu-carry"]. Needs the .venv of `make deps` (safetensors, torch,
# transformers for the tokenizer), xz, and for the bundle the -dev packages of
# `make deps`. Prints the sizes, the estimate of what travels, and the run call.
#
#   scripts/gpu-check-prepare.sh [--no-deps] [--full-base | --train-rows] [BASE_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CARRY=.gpu-carry
LIMIT_MIB=64
deps=1
prune=1
base=""
for a in "$@"; do
    case "$a" in
    --no-deps) deps=0 ;;
    --full-base) prune=0 ;;
    --train-rows) prune=2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "gpu-check-prepare: unknown option $a" >&2; exit 2 ;;
    *) base=$a ;;
    esac
done
BASE=${base:-${XDG_DATA_HOME:-$HOME/.local/share}/finsent/base/sentence-transformers/all-MiniLM-L6-v2}
PY=$ROOT/.venv/bin/python
die() { echo "gpu-check-prepare: $*" >&2; exit 1; }
[ -f "$BASE/model.safetensors" ] || die "no base model at $BASE (run 'make base-model')"
[ -x "$PY" ] || die "$PY is missing (run 'make deps')"
command -v xz >/dev/null || die "xz is missing (apt-get install xz-utils)"

mkdir -p .git/info
grep -qx '/.gpu-carry/' .git/info/exclude 2>/dev/null || echo '/.gpu-carry/' >>.git/info/exclude
rm -rf "$CARRY"
mkdir -p "$CARRY"
rev=$(git rev-parse --short HEAD)
[ -n "$(git status --porcelain --untracked-files=no)" ] && rev="$rev+changes"
echo "$rev" >"$CARRY/COMMIT"
tmp=$(mktemp -d /tmp/finsent-gpu-prepare.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# ---- the base ----------------------------------------------------------------------
mkdir -p "$tmp/base"
echo "gpu-check-prepare: converting $BASE to F16$([ $prune != 0 ] && echo ', unused embedding rows zeroed')"
"$PY" - "$BASE" "$tmp/base" "$prune" "$ROOT" <<'EOF'
import csv, glob, os, sys

import torch
from safetensors.torch import load_file, save_file

src, dst, prune, root = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
sets = ["data/*/validation.csv"]
if prune == 2:  # --train-rows
    sets += ["data/*/train.csv", "data/news_train/all.csv"]
tensors = load_file(os.path.join(src, "model.safetensors"))
out = {k: (v.to(torch.float16) if v.is_floating_point() else v).contiguous()
       for k, v in tensors.items()}
note = "all embedding rows kept"
if prune:
    from transformers import BertTokenizerFast
    lower = True  # all-MiniLM-L6-v2 and BERT uncased; tokenizer_config.json says
    try:
        import json
        with open(os.path.join(src, "tokenizer_config.json")) as f:
            lower = json.load(f).get("do_lower_case", True)
    except OSError:
        pass
    tok = BertTokenizerFast(os.path.join(src, "vocab.txt"), do_lower_case=lower)
    used = set(range(1000))  # [PAD], [unused*], [UNK], [CLS], [SEP], [MASK]
    n = 0
    for path in sorted(p for g in sets for p in glob.glob(os.path.join(root, g))):
        with open(path, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                text = row["text"].replace("\r", " ").replace("\n", " ")
                used.update(tok(text, truncation=True, max_length=512)["input_ids"])
                n += 1
    key = next(k for k in out if k.endswith("word_embeddings.weight"))
    emb = out[key]
    keep = torch.zeros(emb.shape[0], dtype=torch.bool)
    keep[sorted(i for i in used if i < emb.shape[0])] = True
    emb[~keep] = 0
    note = (f"{int(keep.sum())} of {emb.shape[0]} embedding rows kept (the tokens of the "
            f"{n} bundled {'training and ' if prune == 2 else ''}validation texts and ids "
            f"below 1000), the others zero")
save_file(out, os.path.join(dst, "model.safetensors"), metadata={"format": "pt"})
with open(os.path.join(dst, "CARRIED.md"), "w") as f:
    f.write(f"Made by scripts/gpu-check-prepare.sh from {src}: every float tensor as F16; "
            f"{note}.\n")
print("gpu-check-prepare: " + note)
EOF
for f in config.json vocab.txt tokenizer_config.json SOURCE.md; do
    [ -f "$BASE/$f" ] && cp "$BASE/$f" "$tmp/base/"
done
(cd "$tmp/base" && sha256sum model.safetensors >SHA256SUMS)
tar -C "$tmp" -cf - base | xz -T0 -6 >"$CARRY/base.tar.xz"

# ---- the build dependencies ---------------------------------------------------------
# Headers: every header the sources include (gcc -M) that belongs to neither
# glibc, the kernel's headers nor gcc. Libraries: the -l libraries of pkg-config
# and OpenBLAS, with what they need (ldd) except glibc and the C++ runtime.
make_deps_bundle() {
    local d=$1 cflags libs os
    local pkgs=(libcurl libxml-2.0 sqlite3 jansson libnotify)
    cflags=$(pkg-config --cflags "${pkgs[@]}") || die "pkg-config misses some of ${pkgs[*]} (make deps)"
    libs=$(pkg-config --libs "${pkgs[@]}")
    # shellcheck disable=SC1091
    os=$(. /etc/os-release && echo "$PRETTY_NAME")
    mkdir -p "$d/root" "$d/lib" "$d/bin"
    local srcs
    srcs=$(git ls-files -co --exclude-standard '*.c' | grep -v '^fuzz/')
    # shellcheck disable=SC2086
    for f in $srcs; do
        gcc -M -std=c11 -D_GNU_SOURCE -I. $cflags -DFINSENT_HAVE_CUDA "$f" 2>/dev/null || true
    done | tr -s "\\\\ " '\n' | grep '^/' | sort -u >"$d/headers.all"
    # owned by a package other than glibc's, the kernel's or gcc's; or by none
    # (/usr/include/<triple>/cblas.h is an alternatives link)
    xargs dpkg -S <"$d/headers.all" 2>/dev/null |
        grep -vE '^(libc6-dev|linux-libc-dev|libgcc-[0-9]+-dev|gcc-[0-9]+)[:,]' |
        sed 's/^.*: //' >"$d/headers" || true
    xargs dpkg -S <"$d/headers.all" 2>&1 >/dev/null |
        sed -n 's/^dpkg-query: no path found matching pattern //p' >>"$d/headers" || true
    while read -r h; do
        mkdir -p "$d/root$(dirname "$h")"
        cp -L "$h" "$d/root$h"
    done <"$d/headers"
    rm -f "$d/headers.all" "$d/headers"

    local names="" n path real soname
    for n in $libs -lopenblas; do
        n=${n#-l}
        path=$(gcc -print-file-name="lib$n.so")
        real=$(readlink -f "$path")
        [ -f "$real" ] || die "lib$n.so not found"
        soname=$(objdump -p "$real" | awk '/SONAME/ {print $2}')
        cp -L "$real" "$d/lib/$soname"
        ln -sf "$soname" "$d/lib/lib$n.so"
        names="$names $d/lib/$soname"
    done
    # shellcheck disable=SC2086
    ldd $names | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' | sort -u |
        while read -r so p; do
            case "$so" in
            libc.so.* | libm.so.* | libpthread.so.* | libdl.so.* | librt.so.* | libresolv.so.* | \
                ld-linux* | libstdc++.so.* | libgcc_s.so.*) continue ;;
            esac
            [ -e "$d/lib/$so" ] || cp -L "$p" "$d/lib/$so"
        done
    cp "$(command -v make)" "$d/bin/make"
    local glibc triple
    glibc=$(for f in "$d"/lib/*.so.* "$d/bin/make"; do objdump -T "$f" 2>/dev/null; done |
        grep -o 'GLIBC_2\.[0-9]*' | sort -t. -k2,2n -u | tail -n 1)
    triple=$(gcc -print-multiarch)
    # shellcheck disable=SC2001
    {
        echo "# made by scripts/gpu-check-prepare.sh on $os"
        echo "BUNDLE_FROM='$os'"
        echo "BUNDLE_GLIBC='${glibc#GLIBC_}'"
        echo "BUNDLE_CFLAGS='$(echo "$cflags" | sed 's#-I/#-I@SR@/root/#g') -idirafter @SR@/root/usr/include -idirafter @SR@/root/usr/include/$triple'"
        # DT_RPATH (not RUNPATH): it also serves the libraries' own dependencies
        echo "BUNDLE_LIBS='-L@SR@/lib -Wl,-rpath-link,@SR@/lib -Wl,--disable-new-dtags,-rpath,@SR@/lib $libs'"
    } >"$d/flags.sh"
}
if [ $deps = 1 ]; then
    echo "gpu-check-prepare: bundling the build dependencies (headers, libraries, make)"
    make_deps_bundle "$tmp/deps"
    tar -C "$tmp" -cf - deps | xz -T0 -6 >"$CARRY/deps.tar.xz"
fi

# ---- sizes ----------------------------------------------------------------------------
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
tree=$(git ls-files -z -co --exclude-standard | du -cb --files0-from=- 2>/dev/null | tail -n 1 | cut -f1)
shared=0
[ -d shared ] && shared=$(du -sb shared | cut -f1)
carry=$(du -sb "$CARRY" | cut -f1)
total=$((tree + shared + carry))
for f in "$CARRY"/*; do echo "  $f  $(mib "$(stat -c %s "$f")")"; done
echo "  travels: working tree $(mib "$tree") + shared/ $(mib "$shared") + $CARRY $(mib "$carry") = $(mib $total) (limit $LIMIT_MIB MiB)"
if [ "$total" -gt $((LIMIT_MIB * 1048576)) ]; then
    die "over the $LIMIT_MIB MiB limit: try --no-deps, or fewer untracked files"
fi
echo 'carry: [".gpu-carry"]'
echo 'run:   command "GPU_CHECK_BUDGET=300 bash scripts/gpu-check.sh", carry [".gpu-carry"], timeout_s 340'
