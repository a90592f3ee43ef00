"""`twos-and-sevens logs` on lines no daemon should write: garbage, cut, huge, hostile; and a file that rotates."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from daemon.log_reader import (
    MAX_LINE_BYTES,
    Journal,
    JournalFailed,
    LogFile,
    Selection,
    as_json,
    parse_line,
    parse_since,
    render,
)
from tests.conftest import REPO, run_cli

REAL = (
    '{"event": "run_started", "level": "info", "time": "2026-12-02T06:00:00.123456Z", "component": "trainer", '
    '"run_id": "r1", "preset": "healthy", "steps": 3000}'
)
WEIRD_VALUES: list[object] = [
    None,
    True,
    0,
    -1,
    1e308,
    "",
    "WARNING",
    "warn",
    "nonsense",
    "\x1b[2J\x1b]0;pwned\x07",
    "\u202eevil",
    "2026-13-45T99:00:00",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-12:00",
    "x" * 5000,
    [],
    [1, [2, [3]]],
    {},
    {"nested": {"deeper": ["\x00"]}},
]


def generated_lines(seed: int = 12, count: int = 600) -> list[str]:
    """Lines of every kind a damaged, cut or foreign log may hold (no newlines inside: one case a line)."""
    rng = random.Random(seed)
    real = json.loads(REAL)
    cases: list[str] = []
    while len(cases) < count:
        kind = rng.randrange(7)
        if kind == 0:  # a real event with a field of the wrong type or meaning
            event = dict(real)
            event[rng.choice(["level", "time", "event", "component", "run_id", "exception", "extra"])] = rng.choice(
                WEIRD_VALUES
            )
            cases.append(json.dumps(event))
        elif kind == 1:  # cut short: a crash mid-write, a truncated copy
            cases.append(REAL[: rng.randrange(len(REAL))])
        elif kind == 2:  # bytes that are not text (read with replacement characters), control codes
            raw = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))).replace(b"\n", b"")
            cases.append(raw.decode("utf-8", errors="surrogateescape"))
        elif kind == 3:  # JSON that is not an event object
            cases.append(rng.choice(["null", "3", '"text"', "[1, 2]", "NaN", "-Infinity", "1e999", '{"no": "event"}']))
        elif kind == 4:  # nested deeper than any parser should follow
            depth = rng.choice([10, 1000, 100_000])
            cases.append('{"event": "x", "a": ' + "[" * depth + "]" * rng.choice([0, depth]) + "}")
        elif kind == 5:  # foreign lines: tracebacks, JACK and Mesa chatter, blank lines
            cases.append(rng.choice(["", "   ", "\r", "Traceback (most recent call last):", "jackd: xrun!", "\t\t"]))
        else:  # one of ours, intact
            cases.append(REAL)
    cases.append('{"event": "huge", "level": "info", "pad": "' + "y" * (MAX_LINE_BYTES + 10) + '"}')
    cases.append("z" * (3 * MAX_LINE_BYTES))
    return cases


def _write(path, lines: list[str]) -> None:
    path.write_bytes(b"\n".join(line.encode("utf-8", errors="surrogateescape") for line in lines) + b"\n")


def test_every_generated_line_is_read_filtered_and_shown_without_a_traceback():
    """Each case goes through parse, the filters, both renderings and --json, in process."""
    lines = generated_lines()
    selections = [
        Selection(),
        Selection(level="warning"),
        Selection(since=datetime(2026, 12, 1, tzinfo=UTC)),
        Selection(run_id="r1"),
        Selection("error", datetime(2030, 1, 1, tzinfo=UTC), "r2"),
    ]
    ours = 0
    for line in lines:
        text = line.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="replace")
        entry = parse_line(text)
        ours += entry.event is not None
        for selection in selections:
            selection.keep(entry)
        plain = render(entry, colour=False)
        assert "\x1b" not in plain and "\x07" not in plain and "\u202e" not in plain, plain[:200]
        assert all(c.isprintable() or c in " \n" for c in plain[:10_000])
        coloured = render(entry, colour=True)
        assert coloured.count("\x1b[") == 2 * coloured.count("\x1b[0m")  # only our own colours, each closed
        again = json.loads(as_json(entry))
        assert again == (entry.event if entry.event is not None else {"text": text, "time": None, "level": None})
    assert 100 < ours < len(lines) - 100  # both kinds were generated, in numbers


def test_the_command_reads_a_file_of_garbage_whole_in_every_mode(tmp_path):
    lines = generated_lines(seed=13, count=400)
    log = tmp_path / "garbage.log"
    _write(log, lines)
    for options in ([], ["--json"], ["--level", "warning"], ["--since", "1h"], ["--run", "r1"], ["-n", "5"]):
        result = run_cli("logs", "--file", str(log), *options, timeout=120)
        assert result.returncode == 0 and "Traceback" not in result.stderr, (options, result.stderr[-2000:])
        if options == ["--json"]:
            records = [json.loads(record) for record in result.stdout.splitlines()]
            assert len(records) == len(lines)  # one record a line; the huge ones cut, not lost or split
            assert sum("cut at" in record.get("text", "") for record in records) == 2
        if options == ["-n", "5"]:
            assert result.stdout.count("\n") >= 5 and "z" * 1000 in result.stdout


class Follower:
    """`twos-and-sevens logs --follow ARGS` in a child process: its lines as they come, stopped by `stop()`."""

    def __init__(self, *args: str):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "daemon", "logs", "--follow", *args],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self.errors: list[str] = []
        stdout, stderr = self.process.stdout, self.process.stderr
        assert stdout is not None and stderr is not None  # both PIPE
        self.readers = [
            threading.Thread(target=self.lines.extend, args=(stdout,), daemon=True),
            threading.Thread(target=self.errors.extend, args=(stderr,), daemon=True),
        ]
        for reader in self.readers:
            reader.start()

    def wait_for_the_file(self, seconds: float = 60) -> None:
        """Until it says it waits for a log file that is not there yet (it has started, read nothing)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not any("waiting for" in line for line in self.errors):
            time.sleep(0.1)

    def wait_for(self, count: int, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and len(self.lines) < count:
            time.sleep(0.2)

    def stop(self) -> tuple[int, str]:
        """SIGTERM (as Ctrl-C or a service manager would end it): (its exit code, its stderr)."""
        self.process.terminate()
        code = self.process.wait(10)
        for reader in self.readers:
            reader.join(5)
        return code, "".join(self.errors)


def test_follow_reads_lines_appended_across_a_rotation_and_stops_on_sigterm(tmp_path):
    """A writer logs through the product's rotating handler (1 MB files) while `logs --follow --json` reads."""
    log = tmp_path / "installation.log"
    config = tmp_path / "installation.toml"
    config.write_text(f'[logging]\nfile = "{log}"\nfile_backups = 10\n')
    follower = Follower("--config", str(config), "--json", "--level", "warning")
    try:
        follower.wait_for_the_file()
        writer = (
            "import time\nfrom pathlib import Path\nfrom daemon.logs import configure, get_logger\n"
            f"configure('info', 'json', file=Path({str(log)!r}), file_max_megabytes=1, file_backups=10, "
            "stream=open('/dev/null', 'w'))\nlog = get_logger('writer')\n"
            "for index in range(6000):\n"
            "    (log.warning if index % 3 == 0 else log.info)('filler', index=index, padding='x' * 300)\n"
            "    time.sleep(0.001)\n"
        )
        subprocess.run([sys.executable, "-c", writer], cwd=REPO, check=True, timeout=120)
        assert log.with_name("installation.log.1").exists()  # it did rotate under the follower
        follower.wait_for(2000, 30)
    finally:
        code, errors = follower.stop()
    assert code == 0 and "Traceback" not in errors
    seen = [json.loads(line) for line in follower.lines]
    assert [event["index"] for event in seen] == list(range(0, 6000, 3))  # every warning, in order, once
    assert all(event["level"] == "warning" for event in seen)


def test_since_reads_durations_and_times_and_refuses_the_rest():
    now = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)
    assert parse_since("1h", now) == now - timedelta(hours=1)
    assert parse_since("90s", now) == now - timedelta(seconds=90)
    assert parse_since("2d", now) == now - timedelta(days=2)
    assert parse_since("2026-12-02T13:00+00:00", now) == now - timedelta(hours=1)
    for bad in ("1x", "yesterday", "", "-1h"):
        try:
            parse_since(bad, now)
        except ValueError:
            continue
        raise AssertionError(f"--since {bad!r} was taken")


def test_a_missing_log_says_which_and_how_to_have_one(tmp_path):
    config = tmp_path / "installation.toml"
    config.write_text("")
    result = run_cli("logs", "--config", str(config), env={"TWOS_AND_SEVENS_CONFIG": ""})
    assert result.returncode == 3 and "[logging] file is empty" in result.stderr and "systemd" in result.stderr
    config.write_text('[logging]\nfile = "logs/installation.log"\n')
    result = run_cli("logs", "--config", str(config))
    assert result.returncode == 3 and str(tmp_path / "logs" / "installation.log") in result.stderr
    assert "Traceback" not in result.stderr


def test_log_file_history_reads_rotated_backups_oldest_first(tmp_path):
    log = tmp_path / "installation.log"
    for number, index in ((2, 0), (1, 1)):
        log.with_name(f"installation.log.{number}").write_text(json.dumps({"event": "e", "index": index}) + "\n")
    log.write_text(json.dumps({"event": "e", "index": 2}) + "\n" + '{"event": "cut')
    source = LogFile(log, backups=5)
    try:
        entries = [*source.history(), *source.last_line()]
    finally:
        source.close()
    assert [e.event["index"] for e in entries if e.event] == [0, 1, 2] and entries[-1].text == '{"event": "cut'


# --- against a real daemon ---------------------------------------------------------------------

TWO_SHORT_RUNS = (
    '[cycle]\npresets = ["random", "healthy"]\n[runs.random]\nsteps = 20\nlr_generator = 0.0\n'
    "duration_seconds = 60.0\n[runs.healthy]\nsteps = 20\nduration_seconds = 60.0\n"
    "[supervision]\nunavailable_retry_seconds = 2.0\nstop_fade_seconds = 0.5\n[http]\nport = 0\n"
)
NO_DEVICES = {"JACK_DEFAULT_SERVER": "nobody-here", "JACK_NO_START_SERVER": "1", "DISPLAY": ""}


@pytest.fixture(scope="module")
def played(tmp_path_factory, mnist_root, classifier_file):
    """A real daemon that played two short runs (no sound card, no display: warnings) into [logging] file,
    with two `logs --follow` started before it, and stopped by the test once it had exited."""
    from daemon.testing import RunningDaemon, config_for

    folder = tmp_path_factory.mktemp("played")
    log = folder / "logs" / "installation.log"
    loaded = config_for(folder, mnist_root, classifier_file, TWO_SHORT_RUNS + f'[logging]\nfile = "{log}"\n')
    followers = [
        Follower("--config", loaded.source, "--json"),
        Follower("--config", loaded.source, "--level", "warning"),
    ]
    for follower in followers:
        follower.wait_for_the_file()
    daemon = RunningDaemon(loaded.source, NO_DEVICES, ("--runs", "2", "--flat-out"))
    try:
        assert daemon.process.wait(300) == 0, daemon.stderr[-20:]
        time.sleep(2.0)  # a poll or two for the followers
    finally:
        if daemon.process.poll() is None:
            daemon.stop()
        stopped = [follower.stop() for follower in followers]
    file_events = [json.loads(line) for line in log.read_text().splitlines()]
    return {
        "config": loaded.source,
        "log": log,
        "daemon": daemon,
        "events": file_events,
        "followed": [
            (code, follower.lines, errors) for (code, errors), follower in zip(stopped, followers, strict=True)
        ],
    }


def test_the_log_of_a_real_daemon_reads_as_lines_and_filters(played):
    events = played["events"]
    names = [e["event"] for e in events]
    assert names.count("run_started") == 2 and "sound_unavailable" in names, names
    result = run_cli("logs", "--config", played["config"])
    assert result.returncode == 0, result.stderr
    shown = result.stdout.splitlines()
    assert len(shown) >= len(events) and not any(line.startswith("{") for line in shown)
    assert "\x1b" not in result.stdout  # no colour off a terminal
    assert any(" info     trainer    run_started run_id=" in line for line in shown), shown[:5]

    warnings = run_cli("logs", "--config", played["config"], "--level", "warning").stdout.splitlines()
    expected = [e for e in events if e["level"] in ("warning", "error", "critical")]
    assert expected and len(warnings) >= len(expected)
    assert all(line[20:28].strip() in ("warning", "error", "critical") for line in warnings if line[:4].isdigit())

    as_json = run_cli("logs", "--config", played["config"], "--json").stdout.splitlines()
    assert [json.loads(line) for line in as_json] == events


def test_run_and_since_pick_out_one_run_and_the_recent_lines(played):
    events = played["events"]
    first, second = [e["run_id"] for e in events if e["event"] == "run_started"]
    picked = [
        json.loads(line)
        for line in run_cli("logs", "--config", played["config"], "--run", first, "--json").stdout.splitlines()
    ]
    assert picked[0]["event"] == "run_started" and picked[0]["run_id"] == first
    assert any(e["event"] == "run_ended" and e.get("run_id") == first for e in picked)
    assert not any(e.get("run_id") == second for e in picked)
    start = events.index(picked[0])
    assert picked == events[start : start + len(picked)]  # one stretch of the log, in order

    middle = events[len(events) // 2]["time"]
    recent = run_cli("logs", "--config", played["config"], "--since", middle, "--json").stdout.splitlines()
    assert [json.loads(line) for line in recent] == [e for e in events if e["time"] >= middle]
    assert len(run_cli("logs", "--config", played["config"], "--since", "1h", "--json").stdout.splitlines()) == len(
        events
    )
    assert run_cli("logs", "--config", played["config"], "--since", "-1h").returncode == 2


def test_follow_started_before_the_daemon_saw_every_line_it_wrote(played):
    (json_code, json_lines, json_err), (warn_code, warn_lines, warn_err) = played["followed"]
    assert json_code == 0 and warn_code == 0 and "Traceback" not in json_err + warn_err
    assert "waiting for" in json_err  # the file did not exist yet when it started
    assert [json.loads(line) for line in json_lines] == played["events"]
    expected = [e for e in played["events"] if e["level"] in ("warning", "error", "critical")]
    assert len([line for line in warn_lines if line[:4].isdigit()]) == len(expected)


def _journal_remote() -> str:
    for candidate in ("/lib/systemd/systemd-journal-remote", "/usr/lib/systemd/systemd-journal-remote"):
        if Path(candidate).exists():
            return candidate
    pytest.fail("the journal tests need systemd-journal-remote (Debian package; scripts/setup.sh installs it)")


def _export(entries: list[dict]) -> bytes:
    """The journal export format (as systemd-journal-upload sends it), one entry a block."""
    blocks = []
    for number, fields in enumerate(entries):
        fields = {"__MONOTONIC_TIMESTAMP": fields["__REALTIME_TIMESTAMP"], "_BOOT_ID": "0123456789abcdef" * 2, **fields}
        fields.setdefault("__CURSOR", f"s=0;i={number}")
        blocks.append("".join(f"{key}={value}\n" for key, value in fields.items()))
    return "\n".join(blocks).encode() + b"\n"


def _as_journald_keeps_it(line: str, micros: int) -> dict:
    """What journald stores of one line the unit printed on stdout or stderr."""
    return {
        "__REALTIME_TIMESTAMP": micros,
        "_SYSTEMD_UNIT": "twos-and-sevens.service",
        "_TRANSPORT": "stdout",
        "PRIORITY": 6,
        "SYSLOG_IDENTIFIER": "twos-and-sevens",
        "MESSAGE": line,
    }


def test_the_journal_of_the_unit_is_read_with_journalctl_filtered_and_followed(played, tmp_path):
    """No systemd runs here: journald stands in as systemd-journal-remote writing a real journal file from
    what the daemon printed (stdout JSON, stderr text) plus systemd's own line about the unit, and a line of
    another unit. `logs --journal-file` reads it through the real journalctl."""
    events = played["daemon"].events
    micros = [int(datetime.fromisoformat(e["time"]).timestamp() * 1e6) for e in events]
    entries = [_as_journald_keeps_it(json.dumps(e), t) for e, t in zip(events, micros, strict=True)]
    entries.append(_as_journald_keeps_it("Traceback (most recent call last):", micros[-1] + 1))
    entries.append(
        {
            "__REALTIME_TIMESTAMP": micros[-1] + 2,
            "_PID": 1,
            "UNIT": "twos-and-sevens.service",
            "PRIORITY": 4,
            "_TRANSPORT": "journal",
            "MESSAGE": "twos-and-sevens.service: Watchdog timeout (limit 30s)!",
        }
    )
    entries.append(
        {
            "__REALTIME_TIMESTAMP": micros[-1] + 3,
            "_SYSTEMD_UNIT": "cron.service",
            "PRIORITY": 3,
            "_TRANSPORT": "stdout",
            "MESSAGE": "not ours",
        }
    )
    journal = tmp_path / "remote.journal"
    (tmp_path / "first.export").write_bytes(_export(entries))
    subprocess.run([_journal_remote(), f"--output={journal}", str(tmp_path / "first.export")], check=True, timeout=60)

    result = run_cli("logs", "--journal-file", str(journal), "--json")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records[: len(events)] == events
    assert [r.get("text") for r in records[len(events) :]] == [
        "Traceback (most recent call last):",
        "twos-and-sevens.service: Watchdog timeout (limit 30s)!",
    ]  # the other unit's line is not shown
    assert records[-1]["level"] == "warning" and records[-2]["level"] is None  # systemd's priority; stdout has none

    warned = run_cli("logs", "--journal-file", str(journal), "--level", "warning").stdout
    assert "Watchdog timeout" in warned and "run_started" not in warned and "not ours" not in warned

    follower = Follower("--journal-file", str(journal), "--json", "-n", "0")
    try:
        time.sleep(3.0)
        later = [
            _as_journald_keeps_it(json.dumps({"event": "appended", "level": "error", "n": n}), micros[-1] + 10 + n)
            for n in range(3)
        ]
        (tmp_path / "later.export").write_bytes(_export(later))
        subprocess.run(
            [_journal_remote(), f"--output={journal}", str(tmp_path / "later.export")], check=True, timeout=60
        )
        follower.wait_for(3, 20)
    finally:
        code, errors = follower.stop()
    assert code == 0 and "Traceback" not in errors
    assert [json.loads(line)["n"] for line in follower.lines] == [0, 1, 2]  # only what came after, once each


def test_a_journal_that_cannot_be_read_is_said_not_raised(tmp_path):
    with pytest.raises(JournalFailed, match="cannot run /nowhere/journalctl"):
        list(
            Journal(
                "twos-and-sevens.service", files=[tmp_path / "x.journal"], journalctl="/nowhere/journalctl"
            ).history()
        )
    result = run_cli("logs", "--journal-file", str(tmp_path / "none.journal"))
    assert "Traceback" not in result.stderr and (result.returncode == 3 or result.stdout == "")
