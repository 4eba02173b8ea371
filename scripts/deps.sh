#!/bin/sh
# Installs what finsent needs to build, test and run, when missing:
#   1. the Debian packages (apt-get; sudo when not root);
#   2. the Python reference environment .venv at the repository root
#      (python3 -m venv --system-site-packages, so Debian's python3-torch,
#      -numpy, -sklearn, -feedparser and -aiosmtpd stay visible) with the pinned
#      packages of requirements-ref.txt. It is rebuilt when that file changes
#      (.venv/.finsent-requirements.sha256 records the installed one's hash).
# Idempotent: does nothing when everything is present.
set -eu
cd "$(dirname "$0")/.."

# build
PKGS="build-essential pkg-config libcurl4-openssl-dev libxml2-dev libsqlite3-dev
libjansson-dev libnotify-dev libopenblas-dev sqlite3"
# tests: real servers and reference implementations
PKGS="$PKGS python3 python3-venv python3-numpy python3-torch python3-sklearn
python3-feedparser python3-aiosmtpd dbus dbus-x11 xvfb dunst libnotify-bin chromium
clang libclang-rt-14-dev time"

apt_missing() {
    missing=""
    for p in $PKGS; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
            missing="$missing $p"
        fi
    done
    [ -z "$missing" ] && return 0
    echo "deps: installing:$missing"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -qq --no-install-recommends $missing
}

# The venv uses Debian's interpreter (/usr/bin/python3), never a python3 that
# happens to come first on PATH: python3-torch and friends are built for it.
venv_ready() {
    want=$(sha256sum requirements-ref.txt | cut -d' ' -f1)
    stamp=.venv/.finsent-requirements.sha256
    if [ -x .venv/bin/python ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    echo "deps: creating .venv (Python reference environment, requirements-ref.txt)"
    rm -rf .venv
    /usr/bin/python3 -m venv --system-site-packages .venv
    .venv/bin/pip install -q --disable-pip-version-check -r requirements-ref.txt
    echo "$want" >"$stamp"
}

apt_missing
venv_ready
