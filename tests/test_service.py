"""scripts/install-service.sh run for real into a temporary root: users, files, owners, modes, the units
verified as installed, a second run changing nothing, the technician's config kept, and the uninstall.

What cannot run here, and so is not tested: systemctl talking to a running manager (daemon-reload,
start, `--user` for a logged-in account: no systemd runs on these machines; the script enables
offline, as `systemctl --root` does), and scripts/setup.sh into the root (apt and a 5.5 GB venv:
under --root the script makes none, and a link to this checkout's venv stands in for it when the
unit is verified). Users and groups are real: useradd and usermod write the root's /etc files.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from daemon.testing.service import image_with_accounts
from tests.conftest import REPO
from tests.test_systemd import DISPLAY_GRANT, JACK_ENV, JACK_UNIT, UNITS, verify

# CI runs as root: there a missing root fails loudly rather than skipping; elsewhere it is skipped, and said.
pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 and not os.environ.get("CI"), reason="the install script needs root (CI runs as root)"
)

OPT = "opt/twos-and-sevens"


@pytest.fixture
def clone(tmp_path) -> Path:
    """This working tree copied as a fresh clone is (no venv, no var/): what a technician installs from."""
    source = tmp_path / "clone"
    shutil.copytree(
        REPO, source, symlinks=True, ignore=shutil.ignore_patterns(".venv", "var", "__pycache__", ".*_cache")
    )
    return source


@pytest.fixture
def root(tmp_path) -> Path:
    """A root with the machine's accounts in it (useradd --root edits these copies) and a desktop account."""
    return image_with_accounts(tmp_path / "root", "gallery")


def install(clone: Path, root: Path, *options: str) -> str:
    result = subprocess.run(
        [str(clone / "scripts" / "install-service.sh"), "--root", str(root), *options],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def account(root: Path, name: str) -> tuple[int, int]:
    """(uid, gid) of `name` in the root's passwd."""
    for line in (root / "etc" / "passwd").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == name:
            return int(fields[2]), int(fields[3])
    raise AssertionError(f"no account {name} in {root}/etc/passwd")


def members(root: Path, group: str) -> list[str]:
    line = next(g for g in (root / "etc" / "group").read_text().splitlines() if g.startswith(f"{group}:"))
    return line.split(":")[3].split(",")


def owner_and_mode(path: Path) -> tuple[int, int, int]:
    info = path.lstat()
    return info.st_uid, info.st_gid, info.st_mode & 0o7777


def snapshot(root: Path) -> dict[str, tuple]:
    """Every path under the root: owner, mode, and the content's hash or the link's target."""
    seen = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if path.is_symlink():
            seen[key] = (*owner_and_mode(path), os.readlink(path))
        elif path.is_file():
            seen[key] = (*owner_and_mode(path), hashlib.sha256(path.read_bytes()).hexdigest())
        else:
            seen[key] = owner_and_mode(path)
    return seen


def stand_in_venv(root: Path) -> None:
    """setup.sh's venv, which --root does not make: this checkout's, linked where setup.sh would put it."""
    venv = root / OPT / ".venv"
    (venv / "bin").mkdir(parents=True, exist_ok=True)
    (venv / "bin" / "twos-and-sevens").symlink_to(REPO / ".venv" / "bin" / "twos-and-sevens")


def with_route(toml: str, route: str) -> str:
    """An installation.toml's text with its [audio] route = `route` (the line the install script rewrites)."""
    audio = toml.index("\n[audio]\n")
    line = toml.index("\nroute = ", audio)
    end = toml.index("\n", line + 1)
    return f'{toml[:line]}\nroute = "{route}"{toml[end:]}'


def test_system_install_twice_keeps_the_config_and_uninstalls(clone, root, tmp_path):
    said = install(clone, root, "--session", "gallery")
    uid, gid = account(root, "twos-and-sevens")
    assert "twos-and-sevens" in members(root, "audio") and "twos-and-sevens" in members(root, "video")
    passwd_line = next(
        x for x in (root / "etc" / "passwd").read_text().splitlines() if x.startswith("twos-and-sevens:")
    )
    assert passwd_line.endswith(":/var/lib/twos-and-sevens:/usr/sbin/nologin")

    # The checkout: root's, readable by all, with its .git (updates are `git pull` there); no var/ or venv copied.
    opt = root / OPT
    assert (opt / "daemon" / "cli.py").read_bytes() == (clone / "daemon" / "cli.py").read_bytes()
    assert (opt / ".git").is_dir() and not (opt / "var").exists()
    assert owner_and_mode(opt / "daemon" / "cli.py") == (0, 0, 0o644)
    assert owner_and_mode(opt / "scripts" / "install-service.sh") == (0, 0, 0o755)
    assert os.readlink(root / "usr/local/bin/twos-and-sevens") == "/opt/twos-and-sevens/.venv/bin/twos-and-sevens"

    # The config: the shipped file, playing into the JACK unit, readable by the service's group only ([http]
    # token); the state: the service's.
    config = root / "etc/twos-and-sevens/installation.toml"
    assert config.read_text() == with_route((clone / "installation.toml").read_text(), "jack")
    assert owner_and_mode(config) == (0, gid, 0o640)
    assert owner_and_mode(root / "var/lib/twos-and-sevens") == (uid, gid, 0o755)

    # The unit: byte for byte the shipped one, enabled, and clean to systemd-analyze where it lies.
    unit = root / "etc/systemd/system/twos-and-sevens.service"
    assert unit.read_bytes() == UNITS["system"].read_bytes() and owner_and_mode(unit) == (0, 0, 0o644)
    wants = root / "etc/systemd/system/graphical.target.wants/twos-and-sevens.service"
    assert os.readlink(wants) == "/etc/systemd/system/twos-and-sevens.service"
    stand_in_venv(root)
    assert verify(unit, "system", root / "opt", tmp_path / "runtime") == ""
    assert "config: wrote /etc/twos-and-sevens/installation.toml" in said and "sudo systemctl start" in said

    # Its JACK server: the unit, enabled as the main unit's want; its settings, the technician's from now on.
    jack_unit = root / "etc/systemd/system/twos-and-sevens-jack.service"
    assert jack_unit.read_bytes() == JACK_UNIT.read_bytes() and owner_and_mode(jack_unit) == (0, 0, 0o644)
    jack_wants = root / "etc/systemd/system/twos-and-sevens.service.wants/twos-and-sevens-jack.service"
    assert os.readlink(jack_wants) == "/etc/systemd/system/twos-and-sevens-jack.service"
    assert verify(jack_unit, "system", root / "opt", tmp_path / "runtime") == ""
    jack_env = root / "etc/twos-and-sevens/jack.env"
    assert jack_env.read_bytes() == JACK_ENV.read_bytes() and owner_and_mode(jack_env) == (0, 0, 0o644)
    # The display: gallery's session grants it at each login, by a file of gallery's own.
    gallery = account(root, "gallery")
    grant = root / "home/gallery/.config/autostart/twos-and-sevens-display.desktop"
    assert grant.read_bytes() == DISPLAY_GRANT.read_bytes() and owner_and_mode(grant) == (*gallery, 0o644)
    assert owner_and_mode(grant.parent)[:2] == owner_and_mode(grant.parent.parent)[:2] == gallery
    assert "enabled twos-and-sevens-jack" in said and "display: wrote" in said

    # The route decides whether the JACK unit holds the card: a rerun follows a changed route, either way.
    config.write_text(with_route(config.read_text(), "sounddevice"))
    assert 'disabled twos-and-sevens-jack: installation.toml\'s route is "sounddevice"' in install(clone, root)
    assert not jack_wants.is_symlink() and jack_unit.exists()
    config.write_text(with_route(config.read_text(), "jack"))
    assert "enabled twos-and-sevens-jack" in install(clone, root) and jack_wants.is_symlink()
    jack_env.write_text(jack_env.read_text().replace("hw:0", "hw:CARD=UMC1820"))

    # The technician edits the config; a second run changes nothing at all, and says so.
    config.write_text(config.read_text().replace('name = "Twos and Sevens"', 'name = "Room 3"'))
    before = snapshot(root)
    again = install(clone, root)
    assert snapshot(root) == before
    for line in ("checkout: /opt/twos-and-sevens unchanged", "installation.toml kept as it is", "unchanged"):
        assert line in again
    assert "jack.env kept as it is" in again and "twos-and-sevens-jack enabled" in again
    assert "created" not in again and "wrote" not in again

    # An update of the clone reaches /opt, the config still untouched.
    (clone / "docs" / "technician.md").write_text("updated\n")
    assert "checkout: copied" in install(clone, root)
    assert (opt / "docs" / "technician.md").read_text() == "updated\n" and 'name = "Room 3"' in config.read_text()

    said = install(clone, root, "--uninstall")
    assert not unit.exists() and not wants.is_symlink() and not opt.exists()
    assert not jack_unit.exists() and not jack_wants.is_symlink() and not grant.exists()
    assert "hw:CARD=UMC1820" in jack_env.read_text()  # the technician's settings stay, with the config
    assert not (root / "usr/local/bin/twos-and-sevens").is_symlink()
    assert 'name = "Room 3"' in config.read_text() and (root / "var/lib/twos-and-sevens").is_dir()
    assert account(root, "twos-and-sevens") == (uid, gid) and "userdel twos-and-sevens" in said
    assert "nothing to disable" in install(clone, root, "--uninstall")  # and again: nothing left to do


def test_user_install_is_the_accounts_own(clone, root, tmp_path):
    said = install(clone, root, "--user", "gallery")
    uid, gid = account(root, "gallery")
    assert "gallery" in members(root, "audio") and "gallery" in members(root, "video")
    assert not any(line.startswith("twos-and-sevens:") for line in (root / "etc" / "passwd").read_text().splitlines())
    home = root / "home" / "gallery"
    config = home / ".config/twos-and-sevens/installation.toml"
    unit = home / ".config/systemd/user/twos-and-sevens.service"
    wants = home / ".config/systemd/user/graphical-session.target.wants/twos-and-sevens.service"
    assert owner_and_mode(config) == (uid, gid, 0o640)
    for folder in (home / ".config", home / ".config/systemd", unit.parent, wants.parent, config.parent):
        assert owner_and_mode(folder)[:2] == (uid, gid), folder
    assert unit.read_bytes() == UNITS["user"].read_bytes() and owner_and_mode(unit) == (uid, gid, 0o644)
    assert os.readlink(wants) == "/home/gallery/.config/systemd/user/twos-and-sevens.service"
    assert "systemctl --user start twos-and-sevens" in said
    stand_in_venv(root)
    assert verify(unit, "user", root / "opt", tmp_path / "runtime") == ""

    before = snapshot(root)
    install(clone, root, "--user", "gallery")
    assert snapshot(root) == before

    # Uninstalling the user unit keeps /opt while the system unit still runs from it.
    install(clone, root)
    said = install(clone, root, "--user", "gallery", "--uninstall")
    assert not unit.exists() and not wants.is_symlink() and config.is_file()
    assert (root / OPT).is_dir() and "still runs from it" in said


def test_refuses_what_it_cannot_do(clone, root):
    nobody = subprocess.run(
        [str(clone / "scripts/install-service.sh"), "--root", str(root), "--user", "nosuchaccount"],
        capture_output=True,
        text=True,
    )
    assert nobody.returncode == 2 and "no account 'nosuchaccount'" in nobody.stderr
    assert not (root / "opt").exists()
    typo = subprocess.run([str(clone / "scripts/install-service.sh"), "--unistall"], capture_output=True, text=True)
    assert typo.returncode == 2 and "unknown option --unistall" in typo.stderr
    for options, said in (
        (["--user", "gallery", "--session", "gallery"], "--session is for the system unit"),
        (["--session", "nosuchaccount"], "no account 'nosuchaccount'"),
    ):
        refused = subprocess.run(
            [str(clone / "scripts/install-service.sh"), "--root", str(root), *options], capture_output=True, text=True
        )
        assert refused.returncode == 2 and said in refused.stderr, refused.stderr
    assert not (root / "opt").exists()


# Where an installed daemon keeps its state and its socket, and how the commands find it.


def test_installed_configs_keep_their_state_where_the_units_state_directory_is(tmp_path, monkeypatch):
    from daemon.config import loader

    system_config, system_state = tmp_path / "etc" / "twos-and-sevens", tmp_path / "var-lib"
    monkeypatch.setattr(loader, "SYSTEM_CONFIG_DIR", system_config)
    monkeypatch.setattr(loader, "SYSTEM_STATE_DIR", system_state)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    user_config = tmp_path / "config" / "twos-and-sevens"
    elsewhere = tmp_path / "gallery"
    for folder in (system_config, user_config, elsewhere):
        folder.mkdir(parents=True)
        (folder / "installation.toml").write_text('[data]\nclassifier_path = "/abs/classifier.pt"\n')
    expected = {system_config: system_state, user_config: tmp_path / "state" / "twos-and-sevens", elsewhere: elsewhere}
    for folder, state in expected.items():
        loaded = loader.load(folder / "installation.toml")
        assert loaded.recordings_path == state / "var" / "recordings"
        assert loaded.history_path == state / "var" / "history.sqlite"
        assert loaded.classifier_path == Path("/abs/classifier.pt")  # absolute paths stay as written
    monkeypatch.chdir(tmp_path)  # no ./installation.toml here: the user unit's config is found before /etc's
    assert loader.default_config_path() == user_config / "installation.toml"


def test_the_commands_look_for_the_socket_in_a_known_order(tmp_path, monkeypatch):
    from daemon.config import loader

    for name in ("XDG_RUNTIME_DIR", "RUNTIME_DIRECTORY", loader.CONTROL_SOCKET_ENV):
        monkeypatch.delenv(name, raising=False)
    checkout = loader.LoadedConfig(loader.parse(""), str(tmp_path / "installation.toml"), tmp_path)
    by_hand = tmp_path / "var" / "control.sock"
    assert checkout.control_path == by_hand  # a daemon started by hand: beside its state
    assert loader.control_socket_candidates(checkout) == [Path("/run/twos-and-sevens/control.sock"), by_hand]
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/run/user/1000")
    assert loader.control_socket_candidates(checkout)[0] == Path("/run/user/1000/twos-and-sevens/control.sock")
    monkeypatch.setenv("RUNTIME_DIRECTORY", "/run/twos-and-sevens")  # what systemd gives the unit
    assert checkout.control_path == Path("/run/twos-and-sevens/control.sock")

    named = loader.LoadedConfig(
        loader.parse('[control]\nsocket_path = "sockets/c.sock"\n'), str(tmp_path / "x.toml"), tmp_path
    )
    assert named.control_path == tmp_path / "sockets" / "c.sock"  # the config's own, wherever it runs
    assert loader.control_socket_candidates(named) == [tmp_path / "sockets" / "c.sock"]
    monkeypatch.setenv(loader.CONTROL_SOCKET_ENV, str(tmp_path / "env.sock"))  # the override, for both sides
    assert named.control_path == tmp_path / "env.sock"
    assert loader.control_socket_candidates(checkout) == [tmp_path / "env.sock"]


@pytest.fixture
def short_home():
    """A folder with a short path (a Unix socket's path is at most 108 bytes), removed afterwards."""
    home = Path(tempfile.mkdtemp(prefix="tas-"))
    yield home
    shutil.rmtree(home, ignore_errors=True)


def test_status_override_skip_from_another_folder_reach_the_user_units_daemon(
    tmp_path, short_home, mnist_root, classifier_file
):
    import json

    from daemon.testing import RunningDaemon
    from tests.conftest import run_cli
    from tests.test_supervision import SHORT_CYCLE

    home = short_home
    runtime = home / "run"
    xdg = {
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_RUNTIME_DIR": str(runtime),
    }
    folder = home / "config" / "twos-and-sevens"
    folder.mkdir(parents=True)
    (runtime / "twos-and-sevens").mkdir(parents=True, mode=0o700)
    (folder / "installation.toml").write_text(
        f'[data]\nmnist_path = "{mnist_root}"\nclassifier_path = "{classifier_file}"\n{SHORT_CYCLE}'
    )
    # As the user unit starts it: its config under %E, RUNTIME_DIRECTORY set by RuntimeDirectory=.
    unit_environment = {**xdg, "RUNTIME_DIRECTORY": str(runtime / "twos-and-sevens")}
    daemon = RunningDaemon(str(folder / "installation.toml"), unit_environment, ("--no-sound", "--no-image"))
    elsewhere = tmp_path / "somewhere-else"
    elsewhere.mkdir()
    try:
        started = daemon.wait_for(lambda e: e["event"] == "run_started", 180, "the first run")
        # The guide's check finds the child by the name it gives itself.
        ps = subprocess.run(["ps", "-ef"], capture_output=True, text=True, check=True).stdout.splitlines()
        trainer = next(line for line in ps if line.split()[1] == str(daemon.pid("trainer")))
        assert trainer.endswith("twos-and-sevens: trainer"), trainer
        socket = runtime / "twos-and-sevens" / "control.sock"
        listening = daemon.wait_for(lambda e: e["event"] == "control_listening", 10, "control_listening")
        assert listening["path"] == str(socket)
        status = run_cli("status", cwd=elsewhere, env=xdg)  # no --config, not the config's folder
        assert status.returncode == 0, status.stderr
        body = json.loads(status.stdout)
        assert body["socket"] == str(socket) and body["run"]["preset"] == started["preset"]
        other = next(p for p in ("random", "healthy") if p != started["preset"])
        override = run_cli("override", other, "--minutes", "5", cwd=elsewhere, env=xdg)
        assert override.returncode == 0 and other in override.stdout, override.stderr
        daemon.wait_for(lambda e: e["event"] == "override_started" and e["preset"] == other, 10, "override")
        skip = run_cli("skip", cwd=elsewhere, env=xdg)
        assert skip.returncode == 0, skip.stderr
        daemon.wait_for(lambda e: e["event"] == "run_skipped", 10, "run_skipped")
        # The config's relative paths went to the state directory, not beside the config.
        assert (home / "state" / "twos-and-sevens" / "var" / "recordings").is_dir()
        assert not (folder / "var").exists()
    finally:
        assert daemon.stop() == 0
    gone = run_cli("status", cwd=elsewhere, env=xdg)
    assert gone.returncode == 3 and str(runtime / "twos-and-sevens" / "control.sock") in gone.stderr
