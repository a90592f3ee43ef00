#!/usr/bin/env bash
# Sets up (idempotently) and runs the whole test suite; extra arguments go to pytest.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$repo/scripts/setup.sh"
cd "$repo"
# Tests read MNIST from $TWOS_AND_SEVENS_MNIST, else the copy beside the repository (../shared/data/mnist).
exec .venv/bin/python -m pytest "$@"
