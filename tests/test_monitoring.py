"""monitoring/: the alert rules and the Grafana dashboard, checked by the real promtool and a live /metrics."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import REPO

MONITORING = REPO / "monitoring"
NAME = re.compile(r"\b(twos_and_sevens_[a-z_]+|up|ALERTS)\b")
PLAYING = (
    '[cycle]\npresets = ["random", "healthy"]\n[runs.random]\nsteps = 3000\nlr_generator = 0.0\n'
    "duration_seconds = 300.0\n[runs.healthy]\nsteps = 3000\nduration_seconds = 300.0\n"
    "[supervision]\nstop_fade_seconds = 0.5\n[http]\nport = 0\n"
)


def promtool(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    found = shutil.which("promtool")
    if found is None:
        pytest.fail("these tests need promtool (Debian package prometheus; scripts/setup.sh installs it)")
    return subprocess.run([found, *args], input=stdin, capture_output=True, text=True, timeout=120)


def alert_names() -> list[str]:
    return re.findall(r"^\s*- alert: (\w+)$", (MONITORING / "alerts.yml").read_text(), flags=re.M)


def dashboard_queries() -> list[tuple[str, str]]:
    """(panel title, PromQL) of every query in the dashboard."""
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    return [(panel["title"], target["expr"]) for panel in dashboard["panels"] for target in panel.get("targets", [])]


def names_in(text: str) -> set[str]:
    return set(NAME.findall(text))


def arriving_later() -> set[str]:
    """The metrics monitoring/README.md lists as not yet exported (the rules over them wait for them)."""
    readme = (MONITORING / "README.md").read_text()
    if "## Metrics that arrive later" not in readme:
        return set()
    section = readme.split("## Metrics that arrive later", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"`(twos_and_sevens_[a-z_]+)", section))


def test_rules_pass_promtool_and_each_alert_fires_in_its_unit_test_and_stays_quiet_when_healthy():
    check = promtool("check", "rules", str(MONITORING / "alerts.yml"))
    assert check.returncode == 0 and f"SUCCESS: {len(alert_names())} rules found" in check.stdout, check
    tests = promtool("test", "rules", str(MONITORING / "alerts_test.yml"))
    assert tests.returncode == 0 and "SUCCESS" in tests.stdout, tests.stdout + tests.stderr
    # Each alert has a case where it must fire and a time where it must not: a new rule needs both.
    text = (MONITORING / "alerts_test.yml").read_text()
    for name in alert_names():
        cases = re.findall(rf"- alertname: {name}\n\s+eval_time: \w+\n\s+exp_alerts:( \[\])?", text)
        assert " []" in cases and "" in cases, f"{name}: alerts_test.yml needs a firing and a quiet case"


def test_dashboard_queries_are_promql_that_promtool_accepts(tmp_path):
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)) and dashboard["uid"] == "twos-and-sevens"
    assert all(p["gridPos"]["x"] + p["gridPos"]["w"] <= 24 for p in dashboard["panels"])
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    assert variables == {"datasource", "instance"}
    queries = dashboard_queries()
    assert len(queries) >= 15
    # Each query as a recording rule: promtool parses the PromQL (the variables as Grafana fills them).
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"dashboard:query_{n}", "expr": expr.replace("$instance", ".+")}
                    for n, (_, expr) in enumerate(queries)
                ],
            }
        ]
    }
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(json.dumps(rules))  # JSON is YAML
    check = promtool("check", "rules", str(path))
    assert check.returncode == 0, check.stdout + check.stderr
    # The alerts and the dashboard speak of the same metrics.
    assert names_in((MONITORING / "alerts.yml").read_text()) - {"ALERTS"} <= names_in(json.dumps(queries))


def _scrape(daemon) -> str:
    code, text = daemon.http_get("/metrics")
    assert code == 200
    return text


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _playing(scrape: str) -> bool:
    levels = [v for (name, _), v in _samples(scrape).items() if name == "twos_and_sevens_output_level_dbfs"]
    reported = "twos_and_sevens_xruns_total" in scrape and "twos_and_sevens_projector_frames_presented_total" in scrape
    return reported and len(levels) == 8 and min(levels) > -80


def _series(name: str, labels: tuple, first: float, per_minute: float) -> dict:
    """A series in promtool's notation: `first`, then `per_minute` more each minute for 30 minutes."""
    shown = ", ".join([f'{key}="{value}"' for key, value in labels] + ['job="twos-and-sevens"', 'instance="live"'])
    start = ("-Inf" if first < 0 else "Inf") if math.isinf(first) else repr(first)
    return {"series": f"{name}{{{shown}}}", "values": f"{start}+{max(per_minute, 0.0)!r}x30"}


def test_a_live_scrape_passes_promtool_check_metrics_and_trips_no_alert(tmp_path, mnist_root, classifier_file):
    """The daemon plays on JACK (dummy, 8 speakers) and Xvfb: its /metrics is linted by promtool, names every
    metric the rules and the dashboard use (or monitoring/README.md says it arrives later), and, held for
    half an hour at the pace it moves now, fires none of the alerts."""
    from daemon.testing import config_for
    from daemon.testing.gallery import gallery

    loaded = config_for(tmp_path, mnist_root, classifier_file, PLAYING)
    with gallery(loaded.source) as (daemon, _recorder):
        daemon.wait_for(lambda e: e["event"] == "installation_ready", 120, "installation_ready")
        daemon.wait_for(lambda e: e["event"] == "run_started", 60, "a run")
        deadline = time.monotonic() + 30  # until both senses report, and every speaker is past the run's fade-in
        first = _scrape(daemon)
        while time.monotonic() < deadline and not _playing(first):
            time.sleep(0.5)
            first = _scrape(daemon)
        started = time.monotonic()
        time.sleep(10)
        second = _scrape(daemon)
        seconds = time.monotonic() - started
    assert daemon.exit_code == 0

    lint = promtool("check", "metrics", stdin=second)
    assert lint.returncode == 0 and not (lint.stdout + lint.stderr).strip(), lint.stdout + lint.stderr

    # A family with no sample now (frame delay: no frame within the last second on a busy machine) still counts.
    exported = {name for name, _ in _samples(second)} | {f.name for f in text_string_to_metric_families(second)}
    for name in ("twos_and_sevens_child_state", "twos_and_sevens_xruns_total", "twos_and_sevens_paused"):
        assert name in exported, sorted(exported)
    samples = _samples(second)
    assert all(samples[("twos_and_sevens_child_up", (("role", role),))] == 1 for role in ("trainer", "sound", "image"))
    used = names_in((MONITORING / "alerts.yml").read_text()) | names_in(json.dumps(dashboard_queries()))
    later = arriving_later()
    assert used - exported - later - {"up", "ALERTS"} == set(), "used, but neither exported nor listed in README.md"
    assert later & exported == set(), "monitoring/README.md lists as arriving later what /metrics now exports"

    # The installation as it plays now, held for 30 minutes: counters climb at the pace they climbed.
    # Except xruns: here the dummy JACK shares 2 busy cores with training and tests (a few a minute under
    # load, none idle), which says more of this machine than of the rule; alerts_test.yml covers its sums.
    before = _samples(first)
    series = [_series("up", (), 1.0, 0.0)]
    for (name, labels), value in samples.items():
        climbs = name.endswith("_total") and name != "twos_and_sevens_xruns_total"
        pace = (value - before.get((name, labels), value)) / seconds * 60 if climbs else 0.0
        series.append(_series(name, labels, value, pace))
    unit_test = {
        "rule_files": [str(MONITORING / "alerts.yml")],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": series,
                "alert_rule_test": [
                    {"alertname": name, "eval_time": when, "exp_alerts": []}
                    for name in alert_names()
                    for when in ("5m", "29m")
                ],
            }
        ],
    }
    path = tmp_path / "live_test.yml"
    path.write_text(json.dumps(unit_test))
    quiet = promtool("test", "rules", str(path))
    assert quiet.returncode == 0, quiet.stdout[-3000:]
    assert samples[("twos_and_sevens_frames_total", ())] > before[("twos_and_sevens_frames_total", ())]


def test_every_alert_is_in_the_readme():
    readme = (MONITORING / "README.md").read_text()
    assert all(f"`{name}`" in readme for name in alert_names())
    assert Path(MONITORING / "alerts_test.yml").exists()
