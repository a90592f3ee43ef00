"""Every generated mutation of the shipped installation.toml through `check-config`: how many are named well.

    .venv/bin/python benchmarks/config_fuzz.py

The suite (tests/test_config_mutations.py) runs a fixed sample of 600; this runs all of them
(about 2,500: every key with wrong types and out-of-range numbers, misspelt keys and tables,
garbage bytes and non-UTF-8 text) and prints the count, the time per check and any that were
not exit 2 with the mistake named.
"""

from __future__ import annotations

import contextlib
import io
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from daemon.cli import main as cli
from tests.test_config_mutations import ALL


def main() -> None:
    failures = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "installation.toml"
        for mutation in ALL:
            path.write_bytes(mutation.text)
            err = io.StringIO()
            try:
                with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                    code = cli(["check-config", str(path)])
            except Exception as exc:
                failures.append(f"{mutation.name}: {type(exc).__name__}: {exc}")
                continue
            text = err.getvalue()
            if code != 2 or "Traceback" in text or not any(name in text for name in mutation.names):
                failures.append(f"{mutation.name}: exit {code}: {text.strip()[:200]}")
    seconds = time.perf_counter() - started
    print(
        f"{len(ALL)} mutations, {len(ALL) - len(failures)} named with exit 2, {len(failures)} not; "
        f"{1000 * seconds / len(ALL):.1f} ms per check"
    )
    for failure in failures[:50]:
        print("  " + failure)


if __name__ == "__main__":
    main()
