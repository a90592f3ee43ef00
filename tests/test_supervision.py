"""The supervisor with real child processes and real signals: kill -9, SIGSTOP, no devices, systemd's socket."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from daemon.testing import RunningDaemon, config_for, jack_dummy_server, xvfb_server
from daemon.testing import gallery as playing_gallery

CHANNELS = 8
SHORT_CYCLE = (
    '[cycle]\npresets = ["random", "healthy"]\n[runs.random]\nsteps = 3000\nlr_generator = 0.0\n'
    "duration_seconds = 300.0\n[runs.healthy]\nsteps = 3000\nduration_seconds = 300.0\n"
    "[supervision]\nheartbeat_timeout_seconds = 3.0\nunavailable_retry_seconds = 2.0\n"
    "stop_fade_seconds = 0.5\n[http]\nport = 0\n"
)


@pytest.fixture
def gallery(tmp_path, mnist_root, classifier_file):
    """JACK (8 speakers) and an X screen, as the gallery PC has them, and a running daemon."""
    loaded = config_for(tmp_path, mnist_root, classifier_file, SHORT_CYCLE)
    with playing_gallery(loaded.source, CHANNELS) as (daemon, recorder):
        daemon.wait_for(lambda e: e["event"] == "installation_ready", 120, "installation_ready")
        yield daemon, recorder
    assert daemon.exit_code == 0, daemon.stderr[-20:]


def image_brightness(daemon) -> float:
    return json.loads(daemon.http_get("/status")[1])["children"]["image"]["heartbeat"].get("brightness", 0.0)


def loads_torch(pid: int) -> bool:
    return "libtorch" in Path(f"/proc/{pid}/maps").read_text()


def test_each_child_killed_comes_back_within_5_s_and_the_others_play_on(gallery):
    daemon, recorder = gallery
    daemon.wait_for(lambda e: e["event"] == "run_started", 60, "a run")
    recorder.connect_from("PortAudio")
    # Only the trainer carries torch (~0.5 GB each, a second more per restart): frames travel without it.
    assert loads_torch(daemon.pid("trainer"))
    assert not any(loads_torch(pid) for pid in (daemon.process.pid, daemon.pid("sound"), daemon.pid("image")))
    # Each sense reports how late frames reach it (benchmarks/frame_delay.py measures it; here: it is reported).
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not all(
        "frame_delay_ms" in child["heartbeat"]
        for role, child in json.loads(daemon.http_get("/status")[1])["children"].items()
        if role != "trainer"
    ):
        time.sleep(0.3)
    delays = {
        role: child["heartbeat"]["frame_delay_ms"]
        for role, child in json.loads(daemon.http_get("/status")[1])["children"].items()
        if role != "trainer"
    }
    assert all(d["frames"] > 0 and 0 <= d["mean"] <= d["max"] for d in delays.values()), delays
    assert 'twos_and_sevens_frame_delay_seconds{role="sound"}' in daemon.http_get("/metrics")[1]
    for role in ("trainer", "sound", "image"):
        others = {r: daemon.pid(r) for r in ("trainer", "sound", "image") if r != role}
        victim, count = daemon.pid(role), len(daemon.events)
        killed = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        if role != "sound":  # the sound plays on through the other child's death
            audio = recorder.record(2.0)
            assert np.sqrt((audio**2).mean()) > 1e-4, f"silence while the {role} was down"
        ready = daemon.wait_for(
            lambda e, n=count, r=role: e["event"] == f"{r}_ready" and daemon.events.index(e) >= n, 30, f"{role} back"
        )
        back = time.monotonic() - killed
        assert ready["pid"] != victim and back < 5.0 + (2.0 if role != "sound" else 0.0), (role, back)
        assert {r: daemon.pid(r) for r in others} == others, f"killing the {role} touched another child"
        died = [e for e in daemon.events[count:] if e["event"] == "child_died"]
        assert [(e["role"], e["cause"]) for e in died] == [(role, "signal SIGKILL")]
        if role == "sound":
            recorder.connect_from("PortAudio")  # the new sound child is a new JACK client
        if role == "image":  # it rejoins lit, mid-run (not black until the next run's fade-in)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and image_brightness(daemon) < 0.9:
                time.sleep(0.5)
            assert image_brightness(daemon) >= 0.9
    audio = recorder.record(2.0)
    assert (np.sqrt((audio**2).mean(axis=0)) > 1e-4).all()  # every speaker plays after it all


def test_a_stopped_child_is_found_hung_and_replaced(gallery):
    daemon, _ = gallery
    victim, count = daemon.pid("image"), len(daemon.events)
    os.kill(victim, signal.SIGSTOP)
    hung = daemon.wait_for(lambda e: e["event"] == "child_hung", 10, "child_hung")
    assert hung["role"] == "image" and hung["pid"] == victim
    daemon.wait_for(lambda e, n=count: e["event"] == "image_ready" and daemon.events.index(e) >= n, 30, "image back")
    assert daemon.pid("image") != victim
    with pytest.raises(ProcessLookupError):
        os.kill(victim, 0)


def test_no_audio_device_and_no_display_the_trainer_plays_and_systemd_is_told(tmp_path, mnist_root, classifier_file):
    """systemd stands in as a datagram socket the test binds (NOTIFY_SOCKET), with a 2 s watchdog."""
    loaded = config_for(tmp_path, mnist_root, classifier_file, SHORT_CYCLE)
    address = str(tmp_path / "notify")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as systemd:
        systemd.bind(address)
        systemd.settimeout(1.0)
        env = {
            "NOTIFY_SOCKET": address,
            "WATCHDOG_USEC": "2000000",
            "JACK_DEFAULT_SERVER": "nobody-here",
            "JACK_NO_START_SERVER": "1",
            "DISPLAY": "",
        }
        daemon = RunningDaemon(loaded.source, env)
        messages: list[str] = []
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and (
                sum(m == "WATCHDOG=1" for m in messages) < 3 or "READY=1" not in messages
            ):
                with contextlib.suppress(TimeoutError):
                    messages.extend(systemd.recv(4096).decode().splitlines())
            daemon.wait_for(lambda e: e["event"] == "run_started", 60, "a run despite no devices")
        finally:
            code = daemon.stop()
        while True:
            try:
                messages.extend(systemd.recv(4096).decode().splitlines())
            except TimeoutError:
                break
    assert code == 0, daemon.stderr[-20:]
    # READY=1 once both senses have said why they cannot play; the watchdog is fed from the start.
    assert messages.index("READY=1") + 1 == messages.index("STATUS=sound missing, image missing")
    events = [e["event"] for e in daemon.events]
    assert events.index("installation_ready") > max(
        events.index("sound_unavailable"), events.index("image_unavailable")
    )
    assert messages[-1] == "STOPPING=1"
    assert "sound_unavailable" in events and "image_unavailable" in events
    waits = [e for e in daemon.events if e["event"] == "child_waiting_for_device"]
    assert {e["role"] for e in waits} == {"sound", "image"}
    assert "child_died" not in events  # a missing device is not a crash


def test_health_status_and_metrics_say_what_plays_and_what_is_missing(tmp_path, mnist_root, classifier_file):
    extra = SHORT_CYCLE.replace("port = 0", 'port = 0\ntoken = "s3cret"').replace(
        "unavailable_retry_seconds = 2.0", "unavailable_retry_seconds = 120.0"
    )  # no retry mid-test
    loaded = config_for(tmp_path, mnist_root, classifier_file, extra)
    daemon = RunningDaemon(
        loaded.source, {"JACK_DEFAULT_SERVER": "nobody-here", "JACK_NO_START_SERVER": "1", "DISPLAY": ""}
    )
    try:
        daemon.wait_for(lambda e: e["event"] == "installation_ready", 120, "installation_ready")
        daemon.wait_for(lambda e: e["event"] == "run_started", 60, "a run")
        time.sleep(2.0)
        assert daemon.http_get("/health")[0] == 401  # no token, no answer
        code, body = daemon.http_get("/health", "s3cret")
        health = json.loads(body)
        assert code == 503 and not health["healthy"]
        assert any(p.startswith("sound: unavailable (") for p in health["problems"]), health
        assert any(p.startswith("image: unavailable (cannot open the X display") for p in health["problems"])
        status = json.loads(daemon.http_get("/status", "s3cret")[1])
        playing = [e["preset"] for e in daemon.events if e["event"] == "programme_playing"]
        assert status["children"]["trainer"]["state"] == "playing" and status["run"]["preset"] == playing[-1]
        assert status["frames"] > 0 and 0 < status["streams"]["progress"] <= 1
        code, metrics = daemon.http_get("/metrics", "s3cret")
        assert code == 200 and 'twos_and_sevens_child_up{role="trainer"} 1.0' in metrics
        assert 'twos_and_sevens_child_up{role="sound"} 0.0' in metrics
        assert 'twos_and_sevens_stream{stream="loss_discriminator"}' in metrics
        assert daemon.http_get("/nothing", "s3cret")[0] == 404
    finally:
        assert daemon.stop() == 0


def test_kill_9_of_the_supervisor_loses_no_history_and_leaves_no_child(tmp_path, mnist_root, classifier_file):
    from daemon.recording.files import read_json_lines
    from tests.conftest import run_cli

    # Day-long slots: the restart cannot fall across a slot boundary (except at midnight). Ten steps
    # in a slot of hours: the trainer waits minutes between steps, and must still go at once.
    loaded = config_for(
        tmp_path,
        mnist_root,
        classifier_file,
        SHORT_CYCLE.replace("duration_seconds = 300.0", "duration_seconds = 86400.0").replace(
            "steps = 3000", "steps = 10"
        ),
    )
    env = {"JACK_DEFAULT_SERVER": "nobody-here", "JACK_NO_START_SERVER": "1", "DISPLAY": ""}
    first = RunningDaemon(loaded.source, env)
    try:
        first.wait_for(lambda e: e["event"] == "run_started", 120, "a run")
        time.sleep(2.0)
        children = [e["pid"] for e in first.events if e["event"] == "child_started"]
        first.process.kill()
        first.process.wait(10)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(_exists(pid) for pid in children):
            time.sleep(0.2)
        assert not any(_exists(pid) for pid in children), "children outlived their supervisor"
    finally:
        if first.process.poll() is None:
            first.process.kill()
    second = RunningDaemon(loaded.source, env)
    try:
        second.wait_for(lambda e: e["event"] == "run_started", 120, "a run after the restart")
        time.sleep(2.0)
    finally:
        assert second.stop() == 0
    import sqlite3

    rows = (
        sqlite3.connect(loaded.history_path)
        .execute("SELECT run_id, preset, status, steps_done FROM runs ORDER BY started_unix_seconds")
        .fetchall()
    )
    assert len(rows) == 2, rows
    (run_id, preset, status, steps), (_, second_preset, second_status, _) = rows
    whole_frames = len(read_json_lines(loaded.recordings_path / run_id / "frames.jsonl"))
    # Killed with its supervisor, not stopped by anyone; as far as the frames on disk say.
    assert status == "interrupted" and steps == whole_frames > 0 and second_status == "stopped", (rows, whole_frames)
    listed = run_cli("runs", "--config", loaded.source).stdout
    assert f"{run_id}  {preset:<10} interrupted {whole_frames}/10 steps" in listed, listed
    # The schedule resumed where the clock says: the same slot, so the same preset.
    from daemon.schedule.plan import Plan

    slot = Plan(loaded.config.cycle, loaded.config.hours, loaded.config.runs).at(datetime.now())
    assert preset == second_preset == slot.preset, (rows, slot)


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended


def test_override_skip_pause_and_garbage_on_the_control_socket(tmp_path, mnist_root, classifier_file):
    import tempfile

    from daemon.supervision.control import MAX_REQUEST_BYTES, ask
    from tests.conftest import run_cli

    socket_path = Path(tempfile.mkdtemp(prefix="tas-")) / "control.sock"  # Unix socket paths are short
    loaded = config_for(
        tmp_path, mnist_root, classifier_file, SHORT_CYCLE + f'[control]\nsocket_path = "{socket_path}"\n'
    )
    daemon = RunningDaemon(
        loaded.source, {"JACK_DEFAULT_SERVER": "nobody-here", "JACK_NO_START_SERVER": "1", "DISPLAY": ""}
    )
    try:
        first = daemon.wait_for(lambda e: e["event"] == "programme_playing", 120, "the schedule's run")
        daemon.wait_for(lambda e: e["event"] == "run_started", 60, "a run")
        assert os.stat(socket_path).st_mode & 0o777 == 0o600
        other = "random" if first["preset"] != "random" else "healthy"
        result = run_cli("override", other, "--minutes", "1", "--config", loaded.source)
        assert result.returncode == 0 and f"preset: {other}" in result.stdout, result.stderr
        run = daemon.wait_for(lambda e: e["event"] == "run_started" and e["preset"] == other, 10, "the override's run")
        started = next(e for e in daemon.events if e["event"] == "override_started")
        assert started["by"] and started["preset"] == other
        took = datetime.fromisoformat(run["time"]) - datetime.fromisoformat(started["time"])
        assert took.total_seconds() < 2.0, took  # from the request reaching the daemon to the new run
        # Garbage, oversized and unknown requests get error replies; the daemon keeps playing.
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as raw:
            raw.connect(str(socket_path))
            raw.sendall(b"\xff\xfe not json\n")
            assert b'"ok": false' in raw.recv(4096)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as raw:
            raw.connect(str(socket_path))
            raw.sendall(b"x" * (MAX_REQUEST_BYTES * 4))
            assert b"longer than" in raw.recv(4096)
        assert "Did you mean 'pause'?" in ask(socket_path, {"command": "paus"})["error"]
        assert "no preset named" in ask(socket_path, {"command": "override", "preset": "helthy"})["error"]
        assert ask(socket_path, {"command": "pause"}) == {"ok": True, "paused": True}
        status = json.loads(run_cli("status", "--config", loaded.source).stdout)
        assert status["paused"] and status["override"]["preset"] == other
        assert status["schedule"]["open"] and status["schedule"]["playing"] == other  # what the technician reads
        assert next(e for e in daemon.events if e["event"] == "cycle_started")["mode"] == "schedule"
        assert ask(socket_path, {"command": "resume"})["paused"] is False
        skipped = ask(socket_path, {"command": "skip"})
        assert skipped["ok"] and skipped["skipped"] == other
        daemon.wait_for(lambda e: e["event"] == "run_started" and e["preset"] == skipped["playing"], 10, "skip")
        assert daemon.process.poll() is None
    finally:
        assert daemon.stop() == 0
    no_daemon = run_cli("status", "--config", loaded.source)
    assert no_daemon.returncode == 3 and "no daemon answers" in no_daemon.stderr


def test_jack_and_x_servers_dying_and_coming_back(tmp_path, mnist_root, classifier_file):
    """X killed: the image child dies with it (Xlib exits), trainer and sound untouched, the image returns
    with X. JACK killed: the sound child goes (found hung or dead), the others play on, sound returns with JACK."""
    loaded = config_for(tmp_path, mnist_root, classifier_file, SHORT_CYCLE)
    jack, x = contextlib.ExitStack(), contextlib.ExitStack()
    jack_env = jack.enter_context(jack_dummy_server(CHANNELS))
    x_env = x.enter_context(xvfb_server(320, 180))
    daemon = RunningDaemon(loaded.source, {**jack_env, **x_env})
    try:
        daemon.wait_for(lambda e: e["event"] == "installation_ready", 120, "installation_ready")
        pids = {role: daemon.pid(role) for role in ("trainer", "sound", "image")}

        count = len(daemon.events)
        x.close()  # the X server goes (SIGTERM, as when a session ends)
        died = daemon.wait_for(
            lambda e: e["event"] == "child_died" and daemon.events.index(e) >= count, 20, "the image child dying with X"
        )
        assert died["role"] == "image", died
        x.enter_context(xvfb_server(320, 180, display=x_env["DISPLAY"]))
        daemon.wait_for(lambda e: e["event"] == "image_ready" and daemon.events.index(e) >= count, 30, "image back")
        assert daemon.pid("trainer") == pids["trainer"] and daemon.pid("sound") == pids["sound"]

        count = len(daemon.events)
        jack.close()  # the JACK server goes
        lost = daemon.wait_for(
            lambda e: e["event"] in ("child_died", "child_hung") and daemon.events.index(e) >= count,
            20,
            "the sound child going with JACK",
        )
        assert lost["role"] == "sound", lost
        jack.enter_context(jack_dummy_server(CHANNELS, name=jack_env["JACK_DEFAULT_SERVER"]))
        daemon.wait_for(lambda e: e["event"] == "sound_ready" and daemon.events.index(e) >= count, 30, "sound back")
        assert daemon.pid("trainer") == pids["trainer"]
        assert not [
            e for e in daemon.events[count:] if e["event"] in ("child_died", "child_hung") and e["role"] != "sound"
        ]
    finally:
        assert daemon.stop() == 0
        x.close()
        jack.close()


def test_reload_applies_a_valid_file_and_keeps_the_old_on_errors(tmp_path, mnist_root, classifier_file):
    import tempfile

    from daemon.supervision.control import ask
    from tests.conftest import run_cli

    socket_path = Path(tempfile.mkdtemp(prefix="tas-")) / "control.sock"
    loaded = config_for(
        tmp_path, mnist_root, classifier_file, SHORT_CYCLE + f'[control]\nsocket_path = "{socket_path}"\n'
    )
    config = Path(loaded.source)
    daemon = RunningDaemon(
        loaded.source, {"JACK_DEFAULT_SERVER": "nobody-here", "JACK_NO_START_SERVER": "1", "DISPLAY": ""}
    )
    try:
        daemon.wait_for(lambda e: e["event"] == "run_started", 120, "a run")
        trainer = daemon.pid("trainer")
        original = config.read_text()
        config.write_text(
            original.replace("heartbeat_timeout_seconds = 3.0", "heartbeat_timeout_seconds = 3.5")
            + "[audio]\nchanels = 4\n"
        )
        refused = run_cli("reload", "--config", loaded.source)  # the CLI reads the file first: every error, exit 2
        assert refused.returncode == 2 and "audio.chanels: unknown key. Did you mean 'channels'?" in refused.stderr
        rejected = ask(socket_path, {"command": "reload"})  # and the daemon refuses it the same way
        assert not rejected["ok"] and "Did you mean 'channels'?" in rejected["error"]
        assert any(e["event"] == "config_reload_rejected" for e in daemon.events)
        os.kill(daemon.process.pid, signal.SIGHUP)  # `systemctl reload` with the same bad file: refused, not fatal
        daemon.wait_for(lambda e: e["event"] == "config_reload_rejected" and e["by"] == "SIGHUP", 30, "SIGHUP refused")
        time.sleep(1.0)
        assert daemon.process.poll() is None and daemon.pid("trainer") == trainer
        # A child that restarts now still plays: on the running config, not the broken file.
        count = len(daemon.events)
        os.kill(trainer, signal.SIGKILL)
        daemon.wait_for(lambda e: e["event"] == "trainer_ready" and daemon.events.index(e) >= count, 60, "a trainer")
        assert not [e for e in daemon.events[count:] if e["event"] == "child_died" and e["cause"] == "exit code 2"]
        trainer = daemon.pid("trainer")
        config.write_text(original.replace("heartbeat_timeout_seconds = 3.0", "heartbeat_timeout_seconds = 3.5"))
        reply = ask(socket_path, {"command": "reload"})
        assert reply["ok"] and reply["changed"] == ["supervision"] and reply["restarted"] == [], reply
        assert daemon.pid("trainer") == trainer  # nothing of the trainer's changed: it played on
        config.write_text(original.replace("[runs.random]\n", "[runs.random]\nbatch_size = 32\n"))
        os.kill(daemon.process.pid, signal.SIGHUP)
        reloaded = daemon.wait_for(lambda e: e["event"] == "config_reloaded" and e["by"] == "SIGHUP", 30, "SIGHUP")
        assert reloaded["restarted"] == ["trainer"]
        daemon.wait_for(lambda e: e["event"] == "trainer_ready" and e["pid"] != trainer, 30, "a new trainer")
        assert daemon.process.poll() is None
        counts = ask(socket_path, {"command": "status"})["children"]["trainer"]
        assert counts["reloads"] == 1 and counts["restarts"] == 1  # the reload is not a fault; the SIGKILL was
    finally:
        assert daemon.stop() == 0


def test_a_child_given_up_in_a_crash_loop_comes_back_by_itself_and_on_request(tmp_path, mnist_root, classifier_file):
    """The crash-loop guard slows restarts down, never stops them for good: a season is not lost to one bad minute."""
    from tests.conftest import run_cli

    socket_path = Path(tempfile.mkdtemp(prefix="tas-")) / "control.sock"
    extra = (
        SHORT_CYCLE.replace(
            "unavailable_retry_seconds = 2.0",
            "unavailable_retry_seconds = 600.0\ncrash_loop_deaths = 2\ncrash_loop_window_seconds = 600.0\n"
            "given_up_retry_seconds = 8.0",
        )
        + f'[control]\nsocket_path = "{socket_path}"\n'
    )
    loaded = config_for(tmp_path, mnist_root, classifier_file, extra)
    daemon = RunningDaemon(
        loaded.source, {"JACK_DEFAULT_SERVER": "nobody-here", "JACK_NO_START_SERVER": "1", "DISPLAY": ""}
    )

    def ready_trainer() -> int:
        """The pid of the newest trainer once it has said it is ready."""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            events = list(daemon.events)
            changes = [
                i
                for i, e in enumerate(events)
                if e.get("role") == "trainer"
                and e["event"] in ("child_started", "child_died", "child_given_up", "child_retrying", "child_revived")
            ]
            ready = [i for i, e in enumerate(events) if e["event"] == "trainer_ready"]
            if changes and ready and ready[-1] > changes[-1]:
                return events[ready[-1]]["pid"]
            time.sleep(0.1)
        raise AssertionError("no trainer ready within 120 s")

    def crash_twice() -> dict:
        """SIGKILL the trainer twice, each time once it is ready: the guard (2 deaths) gives it up."""
        for _ in range(2):
            victim, since = ready_trainer(), len(daemon.events)
            os.kill(victim, signal.SIGKILL)
            death = daemon.wait_for(
                lambda e, n=since: e["event"] in ("child_died", "child_given_up") and daemon.events.index(e) >= n,
                30,
                "its death",
            )
        return death

    try:
        given_up = crash_twice()
        assert given_up["role"] == "trainer" and given_up["retry_in_seconds"] == 8.0
        count = len(daemon.events)
        retrying = daemon.wait_for(
            lambda e: e["event"] == "child_retrying" and daemon.events.index(e) >= count, 30, "the slow retry"
        )
        assert retrying["role"] == "trainer"
        daemon.wait_for(
            lambda e: e["event"] == "trainer_ready" and daemon.events.index(e) >= count,
            120,
            "the trainer back by itself",
        )
        status = json.loads(daemon.http_get("/status")[1])
        assert status["children"]["trainer"]["state"] == "playing"
        # Given up again: `restart-child` brings it back at once, without waiting for the retry.
        assert crash_twice()["event"] == "child_given_up"
        count = len(daemon.events)
        result = run_cli("restart-child", "trainer", "--config", loaded.source)
        assert result.returncode == 0 and "restarted: trainer" in result.stdout, result.stderr
        revived = daemon.wait_for(
            lambda e: e["event"] == "child_revived" and daemon.events.index(e) >= count, 5, "child_revived"
        )
        assert revived["was"] == "failed" and "restart-child" in revived["by"]
        daemon.wait_for(
            lambda e: e["event"] == "trainer_ready" and daemon.events.index(e) >= count,
            120,
            "the trainer back on request",
        )
        bad = run_cli("restart-child", "organ", "--config", loaded.source)
        assert bad.returncode == 2 and "invalid choice" in bad.stderr
    finally:
        assert daemon.stop() == 0


def test_a_trainer_wedged_in_its_work_is_found_hung_and_replaced(tmp_path, mnist_root, classifier_file):
    """Its process lives and its threads run, but its training does not advance: that is hung, not alive."""
    from daemon.supervision.roles import WEDGE_ENV

    loaded = config_for(tmp_path, mnist_root, classifier_file, SHORT_CYCLE)
    daemon = RunningDaemon(
        loaded.source,
        {"JACK_DEFAULT_SERVER": "nobody-here", "JACK_NO_START_SERVER": "1", "DISPLAY": "", WEDGE_ENV: "5"},
    )
    try:
        daemon.wait_for(lambda e: e["event"] == "run_started", 120, "a run")
        wedged = daemon.pid("trainer")
        hung = daemon.wait_for(lambda e: e["event"] == "child_hung", 60, "child_hung")
        assert hung["role"] == "trainer" and hung["pid"] == wedged and hung["silent_seconds"] >= 3.0
        run_ended = [e for e in daemon.events if e["event"] == "run_ended" and e.get("component") == "trainer"]
        assert run_ended == []  # it never got to end its run: it was wedged, and killed
        daemon.wait_for(lambda e: e["event"] == "trainer_ready" and e["pid"] != wedged, 120, "a new trainer")
    finally:
        assert daemon.stop() == 0


def test_a_trainer_training_the_classifier_ends_with_its_supervisor(tmp_path, mnist_root):
    """First start (no cached classifier): kill -9 of the supervisor mid-training leaves no trainer behind."""
    loaded = config_for(tmp_path, mnist_root, tmp_path / "no-classifier-yet.pt", SHORT_CYCLE)
    daemon = RunningDaemon(
        loaded.source, {"JACK_DEFAULT_SERVER": "nobody-here", "JACK_NO_START_SERVER": "1", "DISPLAY": ""}
    )
    try:
        daemon.wait_for(lambda e: e["event"] == "classifier_training", 120, "the classifier's training")
        trainer = daemon.pid("trainer")
        time.sleep(1.0)
        daemon.process.kill()
        daemon.process.wait(10)
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline and _exists(trainer):
            time.sleep(0.2)
        assert not _exists(trainer), "the trainer trained on with its supervisor gone"
    finally:
        if daemon.process.poll() is None:
            daemon.process.kill()


def test_reload_applies_http_and_control_it_reports_as_changed(tmp_path, mnist_root, classifier_file):
    """A new token takes effect and a new socket path is listened on: reload does what it says it did."""
    from daemon.supervision.control import ask

    first_socket = Path(tempfile.mkdtemp(prefix="tas-")) / "control.sock"
    second_socket = first_socket.with_name("moved.sock")
    extra = SHORT_CYCLE.replace("port = 0", 'port = 0\ntoken = "old-token"')
    loaded = config_for(tmp_path, mnist_root, classifier_file, extra + f'[control]\nsocket_path = "{first_socket}"\n')
    config = Path(loaded.source)
    daemon = RunningDaemon(
        loaded.source, {"JACK_DEFAULT_SERVER": "nobody-here", "JACK_NO_START_SERVER": "1", "DISPLAY": ""}
    )
    try:
        daemon.wait_for(lambda e: e["event"] == "run_started", 120, "a run")
        assert daemon.http_get("/health", "old-token")[0] in (200, 503)
        config.write_text(
            config.read_text().replace("old-token", "new-token").replace(str(first_socket), str(second_socket))
        )
        reply = ask(first_socket, {"command": "reload"})
        assert reply["ok"] and {"http", "control"} <= set(reply["changed"]), reply
        daemon.wait_for(
            lambda e: e["event"] == "control_listening" and e["path"] == str(second_socket), 10, "the new socket"
        )
        assert daemon.http_get("/health", "old-token")[0] == 401  # the old token no longer opens it
        assert daemon.http_get("/health", "new-token")[0] in (200, 503)
        assert ask(second_socket, {"command": "status"})["ok"]
        assert not first_socket.exists()
    finally:
        assert daemon.stop() == 0


def test_the_status_log_carries_the_childrens_warnings_too(tmp_path, mnist_root, classifier_file):
    """The sound child logs drone_recordings_unusable in its own process; /status's log (the status page's) shows
    it with its role, once, beside the supervisor's own problems."""
    (tmp_path / "no-drones").mkdir()
    audio = f'[audio]\nroute = "jack"\nchannels = 2\ndrone_recordings_path = "{tmp_path / "no-drones"}"\n'
    loaded = config_for(tmp_path, mnist_root, classifier_file, SHORT_CYCLE + audio)
    with jack_dummy_server(2) as env:
        daemon = RunningDaemon(loaded.source, env, ("--no-image",))
        try:
            daemon.wait_for(lambda e: e["event"] == "sound_ready", 120, "the sound")
            deadline, log = time.monotonic() + 15, []
            while time.monotonic() < deadline:
                log = json.loads(daemon.http_get("/status")[1])["log"]
                if any(entry["event"] == "drone_recordings_unusable" for entry in log):
                    break
                time.sleep(0.5)
            time.sleep(2.0)  # more heartbeats resend it: it must still be there once
            log = json.loads(daemon.http_get("/status")[1])["log"]
        finally:
            daemon.stop()
    unusable = [entry for entry in log if entry["event"] == "drone_recordings_unusable"]
    assert len(unusable) == 1, log
    assert unusable[0]["role"] == "sound" and unusable[0]["level"] == "error" and "WAV" in unusable[0]["fix"]
    assert log == sorted(log, key=lambda entry: entry["time"])


def _anything(draw: random.Random, depth: int = 0) -> object:
    kinds = ["none", "str", "int", "float", "list", "dict"] if depth < 3 else ["none", "str", "int"]
    kind = draw.choice(kinds)
    if kind == "list":
        return [_anything(draw, depth + 1) for _ in range(draw.randrange(4))]
    if kind == "dict":
        keys = ["time", "level", "event", "role", "fix", "problems", "x"]
        return {draw.choice(keys): _anything(draw, depth + 1) for _ in range(draw.randrange(4))}
    return {
        "none": None,
        "str": draw.choice(["", "2026-12-07T10:00:00Z", "error", "shader_error"]),
        "int": draw.randrange(-3, 3),
        "float": draw.uniform(-1, 1),
    }[kind]


@pytest.mark.parametrize("seed", range(300))
def test_whatever_a_child_puts_in_its_heartbeats_problems_the_status_log_is_whole(seed):
    """Generated: heartbeats carrying any JSON as `problems`. The log keeps only the children's dicts of strings,
    each marked with its child's role (not one it claims), once, ordered by time, at most 20."""
    from daemon.supervision.supervisor import merged_problems

    draw = random.Random(seed)
    own = [{"time": f"2026-12-07T09:{m:02d}:00Z", "event": "child_died", "level": "error"} for m in range(3)]
    heartbeats: dict[str, object] = {}
    for role in ("trainer", "sound", "image"):
        problems = [_anything(draw) for _ in range(draw.randrange(6))]
        if draw.random() < 0.5:  # and some well-formed ones, resent as a child does
            good = {"time": f"2026-12-07T10:{draw.randrange(60):02d}:00Z", "event": "shader_error", "level": "error"}
            problems += [good, dict(good)]
        heartbeats[role] = {"problems": problems} if draw.random() < 0.9 else _anything(draw)
    log = merged_problems(own, heartbeats)
    expected = {tuple(sorted(p.items())) for p in own}
    for role, status in heartbeats.items():
        sent = status.get("problems") if isinstance(status, dict) else None
        for problem in sent if isinstance(sent, list) else []:
            if isinstance(problem, dict) and all(type(v) is str for v in problem.values()):
                expected.add(tuple(sorted({**problem, "role": role}.items())))
    assert len(log) == min(20, len(expected))
    assert {tuple(sorted(p.items())) for p in log} <= expected
    assert [str(p.get("time", "")) for p in log] == sorted(str(p.get("time", "")) for p in log)
    assert all(p["role"] in heartbeats for p in log if p not in own)


@pytest.mark.parametrize("seed", range(300))
def test_whatever_the_trainer_puts_in_its_heartbeats_pace_status_shows_only_its_runs_plan(seed):
    """Generated: trainer heartbeats carrying any JSON as, or in place of, `pace`. /status's run gains
    the plan only when it is a dict for the run now playing (its run_id dropped), and stays JSON."""
    from types import SimpleNamespace

    from daemon.supervision.supervisor import Supervisor

    draw = random.Random(seed)
    run = {"run_id": "r1", "preset": "healthy", "step": 3} if draw.random() < 0.8 else {}
    pace = _anything(draw)
    if draw.random() < 0.5:
        pace = {**(pace if isinstance(pace, dict) else {}), "run_id": draw.choice(["r1", "r2", 7, None])}
    status = {"pace": pace} if draw.random() < 0.9 else _anything(draw)
    children = {"trainer": SimpleNamespace(status=status)} if draw.random() < 0.9 else {}
    shown = Supervisor._run_status(SimpleNamespace(current_run=run, children=children))
    ours = bool(run) and children and isinstance(pace, dict) and isinstance(status, dict) and status.get("pace") is pace
    if ours and pace.get("run_id") == "r1":
        assert shown == {**run, "pace": {k: v for k, v in pace.items() if k != "run_id"}}
    else:
        assert shown == run
    json.dumps(shown)
