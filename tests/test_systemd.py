"""The shipped systemd units, checked offline by `systemd-analyze verify` (no systemd running here)."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess

import pytest

from daemon.config import InstallationConfig
from tests.conftest import REPO

UNITS = {
    "system": REPO / "systemd" / "twos-and-sevens.service",
    "user": REPO / "systemd" / "user" / "twos-and-sevens.service",
}
INSTALLED_COMMAND = "/opt/twos-and-sevens/.venv/bin/twos-and-sevens"


def verify(unit_text: str, scope: str, tmp_path) -> str:
    """systemd-analyze's complaints (it exits 0 even on some; silence means clean)."""
    if shutil.which("systemd-analyze") is None:
        pytest.fail("systemd-analyze is missing: run scripts/setup.sh (it installs the systemd package)")
    path = tmp_path / "twos-and-sevens.service"
    # verify checks that ExecStart exists: point it at this checkout's command.
    path.write_text(unit_text.replace(INSTALLED_COMMAND, str(REPO / ".venv" / "bin" / "twos-and-sevens")))
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    command = ["systemd-analyze", *(["--user"] if scope == "user" else []), "verify", str(path)]
    environment = {**os.environ, "XDG_RUNTIME_DIR": str(runtime)}
    result = subprocess.run(command, capture_output=True, text=True, env=environment)
    return (result.stdout + result.stderr).strip() + ("" if result.returncode == 0 else f" (exit {result.returncode})")


@pytest.mark.parametrize("scope", list(UNITS))
def test_shipped_unit_verifies_clean(scope, tmp_path):
    text = UNITS[scope].read_text()
    assert verify(text, scope, tmp_path) == ""
    assert "Failed to parse service type" in verify(text.replace("Type=notify", "Type=notiffy"), scope, tmp_path)


@pytest.mark.parametrize("scope", list(UNITS))
def test_unit_runs_the_daemon_the_way_the_supervisor_expects(scope):
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read_string(UNITS[scope].read_text())
    service = unit["Service"]
    assert service["Type"] == "notify" and service["NotifyAccess"] == "main" and service["Restart"] == "always"
    assert service["ExecStart"].startswith(INSTALLED_COMMAND + " run --config ")
    stop_fade = InstallationConfig().supervision.stop_fade_seconds
    assert float(service["TimeoutStopSec"]) > stop_fade + 10  # fades out and exits well inside the timeout
    assert float(service["WatchdogSec"]) >= 2 * InstallationConfig().supervision.heartbeat_timeout_seconds
    assert "StartLimitBurst" in unit["Unit"]
