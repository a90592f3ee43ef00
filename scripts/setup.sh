#!/usr/bin/env bash
# Installs what Twos and Sevens needs, idempotently: Debian packages, then .venv with the project.
# --test (scripts/test.sh) adds what only the tests use; a gallery PC never gets those.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

# System packages: a Python able to make a venv, PortAudio for sounddevice, JACK (the
# tests play into its dummy backend; galleries may route through it),
# Mesa/EGL for headless GL, X servers for projector windows (Xvfb: one screen; Xorg's dummy
# driver: several monitors, as a gallery PC has), xrandr to lay those monitors out, and systemd
# (its systemd-analyze checks the shipped units offline), tzdata (the zones [hours] timezone names) and
# systemd-journal-remote (journal-upload forwards the journal off the PC; the tests make real journal
# files with it).
apt_packages=(tzdata python3 python3-venv python3-dev libportaudio2 jackd2 libegl1 libegl-mesa0 libgl1 libgl1-mesa-dri
              xvfb xserver-xorg-core xserver-xorg-video-dummy x11-xserver-utils systemd systemd-journal-remote)
# For the tests only: prometheus for its promtool (checks monitoring/ and a live /metrics) and chromium
# (the status page in a real headless browser). Without their Recommends: Debian's prometheus would
# otherwise bring and enable prometheus-node-exporter and its timers on the machine.
test_packages=(prometheus chromium)

missing() {
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || echo "$pkg"
    done
}

apt_install() {  # apt_install [apt-get options] -- packages (only the missing ones are installed)
    local options=()
    while [ "$1" != "--" ]; do options+=("$1"); shift; done
    shift
    local wanted
    mapfile -t wanted < <(missing "$@")
    ((${#wanted[@]})) || return 0
    local sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    echo "setup: installing system packages: ${wanted[*]}"
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${options[@]}" "${wanted[@]}"
}

apt_install -- "${apt_packages[@]}"
if [ "${1:-}" = "--test" ]; then
    apt_install --no-install-recommends -- "${test_packages[@]}"
fi

python="${PYTHON:-python3}"
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || { echo "setup: Python >= 3.11 is needed; found $("$python" --version)" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv"
    "$python" -m venv .venv
fi

# Reinstall only when the dependency list changed: a second run is quick.
stamp=.venv/.twos-and-sevens-installed
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "setup: installing Python dependencies into .venv (torch is large: a few minutes the first time)"
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e ".[test]"
    echo "$want" > "$stamp"
fi
