"""The service's way to the speakers and the projectors, the guide's default, done as a booted gallery PC does it.

install-service.sh (with --session gallery) writes an image; then, with no systemd running here, the test does
what systemd and the desktop session would: the JACK unit's ExecStart (from the installed unit and its
jack.env, the driver swapped to `-d dummy` for want of a sound card) as the unit's user; an X server with a
cookie for gallery's session; the main unit's ExecStart as twos-and-sevens, with the unit's environment; then
the session's autostart file, as gallery. The daemon's sound must reach JACK's playback ports, and its
image child must be refused the display before the grant and come up on it after.

Differences from the booted PC, each said where it is made: the unit's user and the names in the grant are
the image's accounts, by its /etc/passwd mounted in a private namespace (no account is made on this
machine); DISPLAY is the test's X server (a drop-in's job on a PC whose display is not :0); the JACK server
has a name of its own (JACK_DEFAULT_SERVER), so that two test runs never meet; the config's relative paths
are made absolute into the state directory (the loader's rule for /etc/twos-and-sevens, which is not where
the image's config lies here), its retry after a missing display shortened and its HTTP port left to the
system; LimitRTPRIO= and LimitMEMLOCK= are not applied (raising them needs CAP_SYS_RESOURCE, which a
container lacks), so jackd runs without real-time scheduling here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from daemon.testing.service import GalleryPC, RunningService, ServiceUnit, image_with_accounts, session_display
from tests.conftest import REPO
from tests.test_service import stand_in_venv

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 and not os.environ.get("CI"),
    reason="mount namespaces and setpriv need root (CI runs as root)",
)

UNIT_DIR = "etc/systemd/system"


def with_dummy_driver(argv: list[str], channels: int) -> list[str]:
    """jackd's command with the driver swapped for the dummy one: the server's options, rate and period kept."""
    split = argv.index("-d")
    driver = argv[split + 2 :]
    kept = [option for flag in ("-r", "-p") if flag in driver for option in (flag, driver[driver.index(flag) + 1])]
    return [*argv[:split], "-d", "dummy", *kept, "-C", "0", "-P", str(channels)]


def set_key(toml: str, section: str, key: str, value: str) -> str:
    """`key = value` in [section] of a TOML text, in place of the line that is there."""
    head = toml.index(f"\n[{section}]\n")
    end = toml.find("\n[", head + 1)
    end = len(toml) if end < 0 else end
    body, count = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", toml[head:end], count=1)
    assert count == 1, f"no {key} in [{section}]"
    return toml[:head] + body + toml[end:]


def user_and_groups(pid: int) -> tuple[int, set[int]]:
    """A process's real uid and its groups (primary and supplementary), from /proc."""
    fields = dict(
        line.split(":\t", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":\t" in line
    )
    return int(fields["Uid"].split()[0]), {int(fields["Gid"].split()[0]), *map(int, fields["Groups"].split())}


def connections(listing: str) -> dict[str, list[str]]:
    """`jack_lsp -c`'s output as {port: [ports it is connected to]}."""
    found: dict[str, list[str]] = {}
    port = ""
    for line in listing.splitlines():
        if line.startswith((" ", "\t")):
            found[port].append(line.strip())
        elif line:
            port = line
            found[port] = []
    return found


@pytest.fixture
def gallery_pc(mnist_root, classifier_file):
    """A fresh install (system unit, --session gallery) in a short temp root, and a GalleryPC over it."""
    top = Path(tempfile.mkdtemp(prefix="tas-pc-"))  # short: the control socket's path is at most 108 bytes
    top.chmod(0o755)  # the service user passes through to its state
    root = image_with_accounts(top / "root")
    install = subprocess.run(
        [str(REPO / "scripts" / "install-service.sh"), "--root", str(root), "--session", "gallery"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    stand_in_venv(root)
    scratch = top / "scratch"
    scratch.mkdir()
    pc = GalleryPC(
        root,
        {"%E": str(root / "etc"), "%S": str(root / "var/lib"), "%t": str(root / "run")},
        scratch,
        reachable=(Path(sys.executable), Path(sys.base_prefix), REPO, mnist_root),
    )
    try:
        yield pc
    finally:
        pc.close()
        shutil.rmtree(top)


def test_the_service_plays_into_its_jack_unit_and_shows_on_the_display_its_session_grants(
    gallery_pc, mnist_root, classifier_file
):
    began = time.monotonic()
    pc = gallery_pc
    service = pc.account("twos-and-sevens")
    jack_unit = ServiceUnit.read(pc.root / UNIT_DIR / "twos-and-sevens-jack.service")
    main_unit = ServiceUnit.read(pc.root / UNIT_DIR / "twos-and-sevens.service")
    # Enabled: the main unit wants the JACK unit (its .wants link) and the JACK unit starts first.
    wants = pc.root / UNIT_DIR / "twos-and-sevens.service.wants" / "twos-and-sevens-jack.service"
    assert os.readlink(wants) == "/etc/systemd/system/twos-and-sevens-jack.service"

    # The state systemd would make (StateDirectory=, RuntimeDirectory=), and the installed config as the test
    # needs it: relative paths into the state directory, the display retried every 2 s, any free HTTP port.
    state = Path(pc.path("%S/twos-and-sevens"))
    runtime = Path(pc.path("%t/twos-and-sevens"))
    runtime.mkdir(parents=True)
    os.chown(runtime, service.uid, service.gid)
    (state / "var").mkdir()
    (state / "var" / "mnist").symlink_to(mnist_root)
    shutil.copy(classifier_file, state / "var" / "classifier.pt")
    for path in (state / "var", state / "var" / "classifier.pt"):
        os.chown(path, service.uid, service.gid)
    config = Path(pc.path("%E/twos-and-sevens/installation.toml"))
    text = config.read_text().replace('= "var/', f'= "{state}/var/')
    assert 'route = "jack"' in text  # what install-service wrote: the system unit plays into its JACK unit
    text = set_key(text, "supervision", "unavailable_retry_seconds", "2.0")
    config.write_text(set_key(text, "http", "port", "0"))
    channels = 8

    # The JACK unit, as systemd runs it: its command and environment from the unit and jack.env, as its user.
    server = f"tas-{uuid.uuid4().hex[:8]}"
    jack_env = pc.environment(jack_unit, service) | {"JACK_DEFAULT_SERVER": server}
    jackd = with_dummy_driver(pc.command(jack_unit, jack_env), channels)
    assert jackd[:2] == ["/usr/bin/jackd", "-R"] and "-r" in jackd and "48000" in jackd, jackd
    jack_log = pc.scratch / "jackd.log"
    with jack_log.open("w") as log:
        jack = pc.start(pc.unit_process(jack_unit, jackd), jack_env, stdout=log, stderr=subprocess.STDOUT)

    def jack_ports() -> dict[str, list[str]]:
        """What the technician's check shows: `sudo -u twos-and-sevens jack_lsp -c`."""
        lsp = subprocess.run(
            pc.as_account(service, ["jack_lsp", "-c"]),
            env={"PATH": "/usr/bin:/bin", "HOME": service.home, "JACK_DEFAULT_SERVER": server},
            capture_output=True,
            text=True,
            timeout=20,
        )
        return connections(lsp.stdout) if lsp.returncode == 0 else {}

    playback = [f"system:playback_{k + 1}" for k in range(channels)]
    deadline = time.monotonic() + 15
    while not set(playback) <= set(jack_ports()):
        assert time.monotonic() < deadline, f"the JACK unit's server did not come up: {jack_log.read_text()}"
        time.sleep(0.2)
    assert user_and_groups(jack.pid) == (service.uid, {service.gid, pc.group_id("audio"), pc.group_id("video")})

    def as_technician(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        """The guide's checks: `sudo -u twos-and-sevens [env DISPLAY=:0] twos-and-sevens ARGS --config …`."""
        sudo_env = {"PATH": "/usr/bin:/bin", "HOME": service.home, "USER": service.name, "LOGNAME": service.name}
        command = ["/opt/twos-and-sevens/.venv/bin/twos-and-sevens", *args, "--config", str(config)]
        run = subprocess.run(
            pc.as_account(service, command), env=sudo_env | env, capture_output=True, text=True, timeout=60, cwd="/"
        )
        assert run.returncode == 0, run.stdout + run.stderr
        return run

    # The guide's sound check, the service stopped and its JACK server up: a burst on each speaker.
    tested = as_technician("speaker-test", "--seconds-per-channel", "0.1", "--rounds", "1", JACK_DEFAULT_SERVER=server)
    assert f"channel {channels} of {channels} playing" in tested.stdout, tested.stdout

    with session_display(pc, "gallery") as session:
        # The main unit, as systemd runs it: ExecStart as twos-and-sevens, the unit's environment, in its
        # WorkingDirectory; DISPLAY is this X server's (a drop-in on a PC whose projectors are not on :0).
        env = pc.environment(main_unit, service) | {"JACK_DEFAULT_SERVER": server, "DISPLAY": session.env["DISPLAY"]}
        assert "XAUTHORITY" not in env  # the session's grant stands in for a cookie
        command = pc.unit_process(main_unit, pc.command(main_unit, env))
        daemon = RunningService(command, env, pc.path(main_unit.one("WorkingDirectory")))
        try:
            # Before the session grants its display: the picture is refused, and says why.
            refused = daemon.wait_for(lambda e: e["event"] == "image_unavailable", 90, "image_unavailable")
            assert f"cannot open the X display ({session.env['DISPLAY']})" in refused["error"], refused
            # The sound is there all the same: the daemon's JACK client on every speaker.
            daemon.wait_for(lambda e: e["event"] == "sound_ready", 60, "sound_ready")
            assert user_and_groups(daemon.process.pid)[0] == service.uid  # setpriv has long become the daemon
            deadline = time.monotonic() + 10
            while True:
                ports = jack_ports()
                wired = {p: ports.get(p, []) for p in playback}
                if all(f"twos-and-sevens:output_{k + 1}" in wired[p] for k, p in enumerate(playback)):
                    break
                assert time.monotonic() < deadline, wired
                time.sleep(0.2)
            # The session logs in: its autostart file, as gallery, lets the service onto the display.
            grant = pc.root / "home/gallery/.config/autostart/twos-and-sevens-display.desktop"
            granted = session.autostart(grant)
            assert granted.returncode == 0, granted.stderr
            ready = daemon.wait_for(
                lambda e: e["event"] == "image_ready" and e["time"] > refused["time"], 60, "image_ready after the grant"
            )
            assert ready["projectors"] >= 1, ready
        finally:
            stopped = daemon.stop()
        assert stopped == 0, daemon.stderr[-20:]
        # The guide's picture check, the service stopped: the test pattern on the granted display.
        shown = as_technician("projector-test", "--seconds", "1", DISPLAY=session.env["DISPLAY"])
        assert "monitors here:" in shown.stdout and "none" not in shown.stdout, shown.stdout
    print(f"the service's sound and picture, from install to both checked: {time.monotonic() - began:.1f} s")
