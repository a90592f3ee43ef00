#!/usr/bin/env bash
# Sets up (idempotently) and starts the installation; extra arguments go to `twos-and-sevens run`.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$repo/scripts/setup.sh"
cd "$repo"
exec .venv/bin/twos-and-sevens run "$@"
