"""Logs: JSON lines for journald with time, level, event and component; run ids on run events."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import datetime

from structlog.testing import capture_logs

from daemon.logs import configure, get_logger
from daemon.runs import Instrument
from tests.conftest import REPO


def test_json_lines_carry_utc_time_level_event_and_component():
    stream = io.StringIO()
    configure("info", "auto", stream=stream)  # a StringIO is no terminal: JSON
    get_logger("trainer", run_id="r1", preset="healthy").info("run_started", steps=10)
    get_logger("trainer").debug("too_quiet")
    [line] = stream.getvalue().splitlines()
    event = json.loads(line)
    assert event["event"] == "run_started" and event["level"] == "info"
    assert event["component"] == "trainer" and event["run_id"] == "r1" and event["preset"] == "healthy"
    assert datetime.fromisoformat(event["time"]).utcoffset().total_seconds() == 0


def test_console_format_is_readable_not_json():
    stream = io.StringIO()
    configure("info", "console", stream=stream)
    get_logger("cli").info("hello", who="technician")
    text = stream.getvalue()
    assert "hello" in text and "who=technician" in text and not text.startswith("{")


def test_log_file_rotates_by_size(tmp_path):
    log_file = tmp_path / "logs" / "installation.log"
    configure("info", "json", file=log_file, file_max_megabytes=1, file_backups=2, stream=io.StringIO())
    log = get_logger("test")
    for index in range(12000):  # about 3.5 MB
        log.info("filler", index=index, padding="x" * 200)
    rotated = sorted(p.name for p in log_file.parent.iterdir())
    assert rotated == ["installation.log", "installation.log.1", "installation.log.2"]
    assert all(p.stat().st_size <= 1024 * 1024 for p in log_file.parent.iterdir())
    json.loads(log_file.read_text().splitlines()[-1])


def test_run_events_carry_run_id_and_preset(loaded):
    run = Instrument(loaded).start("random", seed=2, steps=3, flat_out=True)
    with capture_logs() as events:
        list(run)
    names = {e["event"]: e for e in events}
    for name in ("run_started", "run_ended"):
        assert names[name]["run_id"] == run.spec.run_id
        assert names[name]["preset"] == "random" and names[name]["component"] == "trainer"
    assert names["run_ended"]["status"] == "completed" and names["run_ended"]["steps_done"] == 3


WRITER = """
import sys, time
from pathlib import Path
from daemon.logs import configure, get_logger, rotate_log_file_if_due
owner = sys.argv[2] == "owner"
configure("info", "json", file=Path(sys.argv[1]), file_max_megabytes=1, file_backups=100, stream=open("/dev/null", "w"),
          file_owner=owner)
log = get_logger(sys.argv[2])
for index in range(int(sys.argv[3])):
    log.info("filler", index=index, padding="x" * 300)
    if owner and index % 50 == 0:
        rotate_log_file_if_due()
while owner and not Path(sys.argv[1] + ".done").exists():  # as the supervisor does, while its children write
    rotate_log_file_if_due()
    time.sleep(0.01)
"""


def test_processes_sharing_a_log_file_lose_no_line_while_one_rotates_it(tmp_path):
    """The supervisor (owner) and two children append to one file at once; only the owner rotates."""
    log_file = tmp_path / "installation.log"
    lines = 6000  # 3 × ~2.3 MB: several rotations while all three write
    owner, *children = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(log_file), role, str(lines)], cwd=REPO)
        for role in ("owner", "child-a", "child-b")
    ]
    assert [child.wait(120) for child in children] == [0, 0]
    (tmp_path / "installation.log.done").touch()
    assert owner.wait(30) == 0
    files = sorted(p for p in tmp_path.glob("installation.log*") if p.suffix != ".done")
    assert len(files) >= 5, [f.name for f in files]
    seen: dict[str, set] = {"owner": set(), "child-a": set(), "child-b": set()}
    for path in files:
        for line in path.read_text().splitlines():
            event = json.loads(line)  # never two lines run into each other
            seen[event["component"]].add(event["index"])
    assert {role: len(indexes) for role, indexes in seen.items()} == dict.fromkeys(seen, lines)
    assert all(p.stat().st_size <= 1.2 * 1024 * 1024 for p in files)  # rotated near the limit, not only by its owner
