#!/bin/sh
# Installs the Debian packages finsent needs to build, test and run, when missing.
# Uses sudo when not root. Idempotent: does nothing when everything is present.
set -eu

# build
PKGS="build-essential pkg-config libcurl4-openssl-dev libxml2-dev libsqlite3-dev
libjansson-dev libnotify-dev libopenblas-dev sqlite3"
# tests: real servers and reference implementations
PKGS="$PKGS python3 python3-numpy python3-torch python3-sklearn python3-feedparser
python3-aiosmtpd dbus dbus-x11 xvfb dunst libnotify-bin chromium clang
libclang-rt-14-dev time"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
