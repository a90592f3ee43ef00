#!/usr/bin/env bash
# Sets up (idempotently), lints, type-checks and runs the whole test suite; extra arguments go to pytest.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$repo/scripts/setup.sh" --test
cd "$repo"
# The house's checks come first: each fails the script when it finds anything (pyproject.toml configures them).
echo "test: ruff check daemon tests benchmarks"
.venv/bin/ruff check daemon tests benchmarks
echo "test: ruff format --check daemon tests benchmarks"
.venv/bin/ruff format --check daemon tests benchmarks
echo "test: mypy (the daemon package)"
.venv/bin/mypy
# Tests read MNIST from $TWOS_AND_SEVENS_MNIST, else the copy beside the repository (../shared/data/mnist).
exec .venv/bin/python -m pytest "$@"
