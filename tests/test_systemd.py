"""The shipped systemd units, checked offline by `systemd-analyze verify` (no systemd running here)."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from daemon.config import InstallationConfig
from daemon.testing.service import ServiceUnit
from tests.conftest import REPO

UNITS = {
    "system": REPO / "systemd" / "twos-and-sevens.service",
    "user": REPO / "systemd" / "user" / "twos-and-sevens.service",
}
INSTALLED_COMMAND = "/opt/twos-and-sevens/.venv/bin/twos-and-sevens"


def verify(unit: Path, scope: str, opt: Path, runtime: Path) -> str:
    """systemd-analyze's complaints about `unit` (it exits 0 even on some; silence means clean), checked with
    `opt` mounted on /opt in a private mount namespace: the unit's text as it is, its command where it says.

    The namespace needs root (as CI runs); the host's /opt is untouched.
    """
    if shutil.which("systemd-analyze") is None:
        pytest.fail("systemd-analyze is missing: run scripts/setup.sh (it installs the systemd package)")
    if os.geteuid() != 0:
        pytest.skip("verifying a unit with its /opt in place needs a mount namespace, so root (CI runs as root)")
    runtime.mkdir(mode=0o700, exist_ok=True)  # --user initialises a manager: it needs $XDG_RUNTIME_DIR
    scope_flag = "--user" if scope == "user" else ""
    script = f'mount --bind "$1" /opt && exec systemd-analyze {scope_flag} verify "$2"'
    result = subprocess.run(
        ["unshare", "--mount", "sh", "-c", script, "verify", str(opt), str(unit)],
        capture_output=True,
        text=True,
        env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)},
    )
    return (result.stdout + result.stderr).strip() + ("" if result.returncode == 0 else f" (exit {result.returncode})")


def checkout_in_opt(tmp_path: Path) -> Path:
    """A folder to mount on /opt that holds this checkout as /opt/twos-and-sevens (venv included)."""
    opt = tmp_path / "opt"
    opt.mkdir(exist_ok=True)
    (opt / "twos-and-sevens").symlink_to(REPO)
    return opt


@pytest.mark.parametrize("scope", list(UNITS))
def test_shipped_unit_verifies_clean_as_shipped(scope, tmp_path):
    opt = checkout_in_opt(tmp_path)
    assert verify(UNITS[scope], scope, opt, tmp_path / "runtime") == ""
    broken = tmp_path / "twos-and-sevens.service"  # and the check can fail: a typo is found
    broken.write_text(UNITS[scope].read_text().replace("Type=notify", "Type=notiffy"))
    assert "Failed to parse service type" in verify(broken, scope, opt, tmp_path / "runtime")


def test_verify_finds_a_command_that_is_not_there(tmp_path):
    empty_opt = tmp_path / "empty"
    empty_opt.mkdir()
    assert f"Command {INSTALLED_COMMAND} is not executable" in verify(
        UNITS["system"], "system", empty_opt, tmp_path / "runtime"
    )


@pytest.mark.parametrize("scope", list(UNITS))
def test_unit_runs_the_daemon_the_way_the_supervisor_expects(scope):
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read_string(UNITS[scope].read_text())
    service = unit["Service"]
    assert service["Type"] == "notify" and service["NotifyAccess"] == "main" and service["Restart"] == "always"
    # %E is /etc for the system unit and ~/.config for the user unit: where the config loader maps the state.
    assert service["ExecStart"] == INSTALLED_COMMAND + " run --config %E/twos-and-sevens/installation.toml"
    for kind in ("Configuration", "State", "Runtime"):
        assert service[f"{kind}Directory"] == "twos-and-sevens"
    assert service["WorkingDirectory"] == "%S/twos-and-sevens"
    stop_fade = InstallationConfig().supervision.stop_fade_seconds
    assert float(service["TimeoutStopSec"]) > stop_fade + 10  # fades out and exits well inside the timeout
    assert float(service["WatchdogSec"]) >= 2 * InstallationConfig().supervision.heartbeat_timeout_seconds
    assert "StartLimitBurst" in unit["Unit"]


# The system unit's sound and picture: its JACK server's unit, that unit's settings, the session's grant.

JACK_UNIT = REPO / "systemd" / "twos-and-sevens-jack.service"
JACK_ENV = REPO / "systemd" / "jack.env"
DISPLAY_GRANT = REPO / "systemd" / "autostart" / "twos-and-sevens-display.desktop"


def test_the_jack_unit_verifies_clean_and_a_typo_is_found(tmp_path):
    assert verify(JACK_UNIT, "system", checkout_in_opt(tmp_path), tmp_path / "runtime") == ""
    broken = tmp_path / "twos-and-sevens-jack.service"
    broken.write_text(JACK_UNIT.read_text().replace("LimitRTPRIO=95", "LimitRTPRIO=lots"))
    assert "Failed to parse resource value" in verify(broken, "system", tmp_path / "opt", tmp_path / "runtime")


def unit_sections(path: Path) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]  # systemd's keys are case-sensitive
    unit.read_string(path.read_text())
    return unit


def test_the_jack_unit_serves_the_system_unit_as_its_own_user():
    jack, main = unit_sections(JACK_UNIT), unit_sections(UNITS["system"])
    # A JACK server is reachable only by its own user: the same one as the daemon's.
    assert jack["Service"]["User"] == main["Service"]["User"] == "twos-and-sevens"
    # Pulled in by the main unit once enabled, and up before it.
    assert jack["Install"]["WantedBy"] == "twos-and-sevens.service"
    assert "twos-and-sevens.service" in jack["Unit"]["Before"].split()
    service = jack["Service"]
    assert service["EnvironmentFile"] == "%E/twos-and-sevens/jack.env"
    assert service["ExecStart"] == "/usr/bin/jackd $JACKD_OPTIONS $JACK_DRIVER"
    assert service["Restart"] == "always" and service["LimitRTPRIO"] == "95"


def test_the_shipped_jack_settings_match_the_shipped_config():
    settings = {}
    for line in JACK_ENV.read_text().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            settings[key] = value.strip('"').split()
    driver = settings["JACK_DRIVER"]
    assert driver[:2] == ["-d", "alsa"] and settings["JACKD_OPTIONS"] == ["-R"]
    audio = InstallationConfig().audio
    assert int(driver[driver.index("-r") + 1]) == audio.sample_rate_hz
    assert int(driver[driver.index("-p") + 1]) == audio.block_frames


def test_the_session_grants_the_display_to_the_system_units_user():
    entry = unit_sections(DISPLAY_GRANT)["Desktop Entry"]
    assert entry["Type"] == "Application" and entry["NoDisplay"] == "true"
    assert entry["Exec"] == f"xhost +SI:localuser:{unit_sections(UNITS['system'])['Service']['User']}"
    # The grant is the display's way in: the unit names the display and no X authority file.
    environment = ServiceUnit.read(UNITS["system"]).settings["Environment"]
    assert "DISPLAY=:0" in environment and not any(e.startswith("XAUTHORITY=") for e in environment)
