"""Pacing: the laws over generated cases, the Pacer on a fake clock and on real steps; a slow machine."""

from __future__ import annotations

import dataclasses
import itertools
import json
import random
import time
from datetime import datetime
from pathlib import Path

import pytest
import torch

from daemon.config import parse
from daemon.gan.dataset import load_images
from daemon.gan.pacing import CATCH_UP_MARGIN, PLAN_AFTER_STEPS, Pacer, PacingLaw, pacing_law
from daemon.gan.trainer import GanTrainer, RunSpec


class FakeTime:
    def __init__(self):
        self.now = 100.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def run(pacer: Pacer, time: FakeTime, steps: int, step_seconds: float) -> None:
    for _ in range(steps):
        pacer.before_step()
        time.now += step_seconds
        pacer.after_step()


def test_fast_machine_is_held_so_the_run_fills_its_duration():
    time = FakeTime()
    pacer = Pacer(60.0, 600, time.clock, time.sleep)
    run(pacer, time, 600, step_seconds=0.01)
    # The last of 600 steps starts at 599/600 of the duration less its 1.5 % slack (0.9 s).
    assert pacer.finish_seconds == pytest.approx(59.1)
    assert time.now - 100.0 == pytest.approx(59.1 * 599 / 600 + 0.01)
    assert pacer.machine_steps_per_second == pytest.approx(100.0)
    assert pacer.projected_seconds == pytest.approx(60.0)


def test_slow_machine_is_fitted_to_its_time_and_its_overrun_is_projected():
    time = FakeTime()
    pacer = Pacer(10.0, 100, time.clock, time.sleep)
    run(pacer, time, PLAN_AFTER_STEPS, step_seconds=0.5)
    # 2 steps a second against the 10 all the preset's steps need: after 5 s, 4.85 s (less the slack)
    # are left, 8 more steps with the margin.
    assert pacer.slept_seconds == 0.0
    assert pacer.projected_seconds == pytest.approx(50.0)
    assert pacer.fitted and pacer.steps == PLAN_AFTER_STEPS + 8 and pacer.preset_steps == 100
    assert pacer.planned_steps_per_second == pytest.approx(1.8)
    while not pacer.finished:
        run(pacer, time, 1, step_seconds=0.5)
    assert 10.0 - 0.5 <= time.now - 100.0 <= 10.0  # on time, to within a step


def last_step_share(law: PacingLaw, steps: int) -> float:
    """The share of the duration a law gives the last of `steps` steps (the smallest, the law being concave)."""
    return 1.0 - law(1 - 1 / steps)


def generated_cases(count: int, seed: int = 13):
    """(duration_seconds, steps, exponent) over the schema's ranges, its edges included."""
    draw = random.Random(seed)
    edges = [(1.0, 1, 0.05), (1.0, 1, 1.0), (86_400.0, 1_000_000, 0.05), (86_400.0, 1_000_000, 1.0), (240.0, 2, 0.05)]
    yield from edges
    for _ in range(count - len(edges)):
        steps = draw.choice([1, 2, 3, 10, 100, 2000]) if draw.random() < 0.3 else int(10 ** draw.uniform(0, 6))
        exponent = draw.choice([0.05, 1.0]) if draw.random() < 0.2 else draw.uniform(0.05, 1.0)
        yield 10 ** draw.uniform(0, 4.9), steps, exponent


def test_every_law_starts_at_zero_ends_at_one_and_never_runs_backwards():
    for _, steps, exponent in generated_cases(400):
        law = pacing_law("arc", exponent)
        xs = [k / min(steps, 5000) for k in range(min(steps, 5000) + 1)]
        times = [law(x) for x in xs]
        assert times[0] == 0.0 and times[-1] == pytest.approx(1.0)
        assert all(b >= a for a, b in itertools.pairwise(times))
        # Concave: each step is given no more time than the one before it (early steps slowest).
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert all(b <= a + 1e-12 for a, b in itertools.pairwise(gaps))
        # Never behind linear: a step comes no earlier than a linear run would reach it.
        assert all(t >= x - 1e-12 for t, x in zip(times, xs, strict=False))


def test_the_first_step_is_held_a_bounded_time_however_many_steps():
    """What the visitor meets first: frames keep coming. The first step's share of the run is at most
    what a linear run of ARC_START_FRACTION … of its steps would give it (an unshifted power law would
    hold a 2000-step, 240 s run's first step for 11 s)."""
    for _, steps, exponent in generated_cases(400):
        law = pacing_law("arc", exponent)
        # The law's slope at 0 is at most gamma·a^(gamma−1)/((1+a)^gamma − a^gamma) ≤ 1/a over 0.05 ≤ gamma ≤ 1.
        assert law(1 / steps) <= min(1.0, 100.0 / steps) + 1e-12
        assert last_step_share(law, steps) > 0.0 or steps == 1


def test_linear_ignores_the_exponent_and_an_exponent_of_one_is_linear():
    for _, steps, exponent in generated_cases(200):
        x = 1 / steps
        assert pacing_law("linear", exponent)(x) == x
        assert PacingLaw("arc", 1.0)(x) == x


@pytest.mark.parametrize("exponent", [0.0, -0.1, 1.01, float("nan")])
def test_an_exponent_outside_its_range_is_refused_with_its_range(exponent):
    with pytest.raises(ValueError, match="above 0 and at most 1"):
        PacingLaw("arc", exponent)


def run_recording_starts(pacer: Pacer, time: FakeTime, step_seconds) -> list[float]:
    starts = []
    for index in range(pacer.steps):
        pacer.before_step()
        starts.append(time.now - 100.0)
        time.now += step_seconds(index)
        pacer.after_step()
    return starts


def test_a_fast_machine_releases_every_step_at_the_laws_time_and_ends_on_time():
    draw = random.Random(5)
    for duration, steps, exponent in generated_cases(300):
        steps = min(steps, 3000)
        law = pacing_law("arc", exponent)
        # A machine at least 20× as fast as the law's fastest step needs; its steps vary ±50 %.
        fastest = duration * last_step_share(law, steps)
        base = fastest / 20
        time = FakeTime()
        pacer = Pacer(duration, steps, time.clock, time.sleep, law)
        starts = run_recording_starts(pacer, time, lambda _, base=base: base * draw.uniform(0.5, 1.5))
        finish = pacer.finish_seconds
        assert duration * 0.985 <= finish < duration and duration - finish <= 2.0
        assert starts == pytest.approx([finish * law(k / steps) for k in range(steps)], abs=duration * 1e-9)
        ended = time.now - 100.0
        assert ended <= duration * 1.02
        assert ended >= finish * law((steps - 1) / steps)


def test_a_machine_too_slow_for_the_arcs_late_steps_still_ends_on_time():
    """The arc asks for late steps faster than the mean pace; a machine fast enough for the mean but not
    for them is held less near the end, so the run still ends within 2 % of its duration."""
    draw = random.Random(7)
    for duration, steps, exponent in generated_cases(300):
        steps = max(min(steps, 3000), 200)
        law = pacing_law("arc", min(exponent, 0.6))
        mean = duration / steps
        # Between 1.05× and 2× as fast as the preset's mean pace, slower than the arc's last steps need.
        base = mean / draw.uniform(1.05, 2.0)
        if base < duration * last_step_share(law, steps):
            continue  # fast enough for every step: the test above
        time = FakeTime()
        pacer = Pacer(duration, steps, time.clock, time.sleep, law)
        starts = run_recording_starts(pacer, time, lambda _, base=base: base * draw.uniform(0.9, 1.1))
        assert time.now - 100.0 == pytest.approx(duration, rel=0.02)
        # Never released before the law's time: it only ever holds a step less.
        assert all(s <= pacer.finish_seconds * law(k / steps) + 1e-9 for k, s in enumerate(starts))


def run_until_planned_steps(pacer: Pacer, time: FakeTime, step_seconds) -> list[float]:
    """Steps until the pacer's plan (which may change as it goes) is done; each step's start."""
    starts = []
    while not pacer.finished:
        pacer.before_step()
        starts.append(time.now - 100.0)
        time.now += step_seconds(len(starts) - 1)
        pacer.after_step()
    return starts


def slow_cases(count: int, seed: int):
    """(duration, preset steps, law, seconds a step takes) for machines slower than the preset's mean pace."""
    draw = random.Random(seed)
    for duration, steps, exponent in generated_cases(count, seed):
        steps = max(min(steps, 3000), 100)
        law = draw.choice([pacing_law("linear", 1.0), pacing_law("arc", exponent)])
        # From a tenth to 0.95 of the mean pace, but at least 100 steps in the time: a run worth fitting.
        rate = steps / duration * draw.uniform(0.1, 0.95)
        if rate * duration < 100:
            continue
        yield duration, steps, law, 1.0 / rate


def test_a_slow_machine_plays_fewer_steps_and_ends_on_time_under_either_law():
    """The run is fitted to the machine: the steps it can do in the time, the law spread over them,
    and it ends on time (within 2 %) instead of being cut by its slot."""
    draw = random.Random(3)
    checked = 0
    for duration, steps, law, step_seconds in slow_cases(300, seed=21):
        time = FakeTime()
        pacer = Pacer(duration, steps, time.clock, time.sleep, law)
        run_until_planned_steps(pacer, time, lambda _, s=step_seconds: s * draw.uniform(0.9, 1.1))
        assert time.now - 100.0 == pytest.approx(duration, rel=0.02), (duration, steps, law)
        can_do = duration / step_seconds
        # What fits in the time left once measured: early steps the law held leave a little less than all of it.
        assert pacer.fitted and can_do / CATCH_UP_MARGIN * 0.8 <= pacer.steps <= can_do
        assert pacer.projected_seconds == pytest.approx(steps * step_seconds, rel=0.1)
        assert pacer.replans <= 3  # one plan, give or take what a wavering rate moves
        checked += 1
    assert checked > 150


def test_a_fast_machine_is_never_fitted():
    for duration, steps, exponent in generated_cases(100, seed=4):
        steps = min(steps, 3000)
        time = FakeTime()
        pacer = Pacer(duration, steps, time.clock, time.sleep, pacing_law("arc", exponent))
        run(pacer, time, steps, step_seconds=duration / steps / 3)
        assert pacer.steps == steps and pacer.replans == 0 and not pacer.fitted


@pytest.mark.parametrize("law", [PacingLaw("linear", 1.0), PacingLaw("arc", 0.25)])
def test_a_machine_that_slows_or_speeds_up_mid_run_is_replanned_and_still_ends_on_time(law):
    # Another program takes the machine a quarter of the way in (20 → 5 steps/s), or lets it go (4 → 50).
    for before, after, expected in ((20.0, 5.0, (0.45, 0.75)), (4.0, 50.0, (0.95, 1.0))):
        time = FakeTime()
        pacer = Pacer(240.0, 2000, time.clock, time.sleep, law)
        run_until_planned_steps(pacer, time, lambda k, b=before, a=after, t=time: 1 / (b if t.now < 160.0 else a))
        assert time.now - 100.0 == pytest.approx(240.0, rel=0.02)
        assert expected[0] * 2000 <= pacer.steps <= expected[1] * 2000
        assert 1 <= pacer.replans <= 15


def test_a_run_given_less_time_than_its_preset_plans_what_fits():
    """An override or a skip leaves a run less time than its preset's duration: it is fitted, not rushed."""
    time = FakeTime()
    pacer = Pacer(60.0, 2000, time.clock, time.sleep, PacingLaw("arc", 0.25))  # 240 s of steps in 60 s
    run_until_planned_steps(pacer, time, lambda _: 1 / 8.0)  # a machine at the preset's own mean pace
    assert time.now - 100.0 == pytest.approx(60.0, rel=0.02)
    assert 400 <= pacer.steps <= 480  # 60 s × 8 steps a second, less the margin


def test_a_real_run_paced_by_the_arc_follows_the_law_and_ends_on_time(loaded):
    """Real torch steps paced in wall time. The machine is measured first and the run given three times
    the time it needs flat out: fast enough for the preset's mean pace, too slow for a steep arc's last
    steps, so the early steps follow the law and the late ones are bent to end on time."""
    config = parse(
        "[runs.small]\nsteps = 200\nbatch_size = 16\ngenerator_width = 4\ndiscriminator_width = 4\n"
        'latent_size = 8\npacing = "arc"\npacing_exponent = 0.1\n'
    )
    preset = config.runs["small"]
    data = load_images(loaded.mnist_path, True)
    spec = RunSpec("pacing-test", "small", preset, 1, preset.steps)
    probe = GanTrainer(spec, data, torch.device("cpu"), config.streams)
    began = time.monotonic()
    for _ in range(preset.steps):
        probe.step()
    flat_out = time.monotonic() - began
    duration = 3 * flat_out
    law = pacing_law(preset.pacing, preset.pacing_exponent)
    assert duration * last_step_share(law, preset.steps) < flat_out / preset.steps  # the bend is exercised
    trainer = GanTrainer(spec, data, torch.device("cpu"), config.streams)
    pacer = Pacer(duration, preset.steps, law=law)
    starts, ends = [], []
    for _ in range(preset.steps):
        pacer.before_step()
        starts.append(time.monotonic() - pacer.start)
        trainer.step()
        pacer.after_step()
        ends.append(time.monotonic() - pacer.start)
    assert ends[-1] == pytest.approx(duration, rel=0.02)
    # No step is held past its time (or past the end of the step before it, if that ran late). A few
    # slow warm-up steps can make the rate look low and release an early step a little early: the
    # law's hold shows over the first fifth as a whole (below), not step by step.
    for index, started in enumerate(starts):
        due = max(pacer.release_seconds(index), ends[index - 1] if index else 0.0)
        assert started <= due + 0.05 * duration, (index, started, due)
    # The arc's point: the first fifth of the steps took about half of the time, not a fifth.
    assert starts[preset.steps // 5] > duration * 0.45


def test_the_daemon_paces_each_preset_by_its_own_law(loaded):
    from daemon.runs import Instrument

    text = Path(loaded.source).read_text() + (
        '[runs.healthy]\nsteps = 20\nduration_seconds = 2.0\npacing = "arc"\npacing_exponent = 0.5\n'
        "[runs.random]\nsteps = 20\nduration_seconds = 2.0\n"
    )
    instrument = Instrument(dataclasses.replace(loaded, config=parse(text, loaded.source), text=text))
    for preset, expected in (("healthy", PacingLaw("arc", 0.5)), ("random", PacingLaw("linear", 1.0))):
        run = instrument.start(preset, seed=1)
        assert run.pacer is not None and run.pacer.law == expected
        # Every planned step: the preset's 20, or fewer on a machine too slow to do them in 2 s.
        steps = [frame.step for frame in run]
        assert steps == list(range(1, run.pacer.steps + 1)) and run.pacer.steps <= 20
        # Held by its law: the last step came no earlier than the law releases it (a slower machine is later).
        assert run.pacer.clock() - run.pacer.start >= run.pacer.release_seconds(steps[-1] - 1) - 0.01


def test_on_a_machine_too_slow_for_the_preset_the_run_is_fitted_to_its_slot(tmp_path, mnist_root, classifier_file):
    """What docs/technician.md says of a slow machine: the shortfall is logged with its numbers, the run
    plans the steps the machine can do, /status shows that plan against the measured rate, the run
    completes as its slot ends, and the next slot's run plays."""
    from daemon.testing import RunningDaemon, config_for

    steps = 3000  # in 20 s: 150 steps a second, beyond any CPU
    cycle = (
        '[cycle]\npresets = ["random", "healthy"]\ncrossfade_seconds = 2.0\n'
        f"[runs.random]\nsteps = {steps}\nlr_generator = 0.0\nduration_seconds = 20.0\n"
        f"[runs.healthy]\nsteps = {steps}\nduration_seconds = 20.0\n"
        "[supervision]\nstop_fade_seconds = 0.5\n[http]\nport = 0\n"
    )
    loaded = config_for(tmp_path, mnist_root, classifier_file, cycle)
    daemon = RunningDaemon(loaded.source, {}, ("--no-sound", "--no-image"))
    try:
        slow = daemon.wait_for(lambda e: e["event"] == "run_slower_than_preset", 120, "run_slower_than_preset")
        # The daemon starts anywhere in a 20 s slot: its first run is given what is left of it (10 to 20 s).
        assert steps / 20.0 * 0.99 <= slow["preset_steps_per_second"] <= steps / 10.0 * 1.01
        assert slow["machine_steps_per_second"] < slow["preset_steps_per_second"]
        assert slow["projected_seconds"] > 20 and slow["preset_steps"] == steps
        assert slow["planned_steps"] <= PLAN_AFTER_STEPS + slow["machine_steps_per_second"] * slow["seconds"]
        pace = _paced_run_status(daemon, slow["run_id"])
        assert pace["preset_steps"] == steps and pace["pacing"] == "linear"
        assert 0 < pace["measured_steps_per_second"] < pace["preset_steps"] / pace["seconds"]
        assert pace["planned_steps"] < steps
        ended = daemon.wait_for(lambda e: e["event"] == "run_ended" and e["run_id"] == slow["run_id"], 40, "the end")
        assert ended["status"] == "completed" and 10 < ended["steps_done"] < steps
        following = daemon.wait_for(
            lambda e: e["event"] == "run_started" and e["run_id"] != slow["run_id"], 40, "the next slot's run"
        )
        # Slots lie on a 20 s grid. The run completed as its slot ended (not cut by it, and not long
        # before: a step that stalls near the end can end the plan a step or two early on a busy
        # machine; the fake-clock tests above hold it to 2 %), and the next one began as its slot did.
        in_slot = [datetime.fromisoformat(e["time"]).timestamp() % 20.0 for e in (ended, following)]
        assert in_slot[0] > 17.5, ended["time"]
        assert in_slot[1] < 2.0, following["time"]
    finally:
        assert daemon.stop() == 0


def _paced_run_status(daemon, run_id: str) -> dict:
    """/status's plan of run `run_id`, once the trainer's heartbeat carries it fitted (a beat a second)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        code, body = daemon.http_get("/status")
        run = json.loads(body).get("run", {}) if code == 200 else {}
        if run.get("run_id") == run_id and run.get("pace", {}).get("fitted"):
            return run["pace"]
        time.sleep(0.3)
    raise AssertionError(f"/status never showed the plan of {run_id}")
