"""Pacing with a fake clock: steps spread over the duration; a slow machine is measured, not assumed."""

from __future__ import annotations

import pytest

from daemon.gan.pacing import Pacer


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
    # The last of 600 steps starts at 599/600 of the duration.
    assert time.now - 100.0 == pytest.approx(59.9 + 0.01)
    assert pacer.machine_steps_per_second == pytest.approx(100.0)
    assert pacer.projected_seconds == pytest.approx(60.0)


def test_slow_machine_is_never_held_and_its_overrun_is_projected():
    time = FakeTime()
    pacer = Pacer(10.0, 100, time.clock, time.sleep)
    run(pacer, time, 20, step_seconds=0.5)
    assert pacer.slept_seconds == 0.0
    assert pacer.projected_seconds == pytest.approx(50.0)


def test_on_a_machine_too_slow_for_the_preset_the_slot_ends_the_run(tmp_path, mnist_root, classifier_file):
    """What docs/technician.md says of a slow machine: the shortfall is logged with its numbers, the run
    is cut when its slot ends (recorded as stopped, short of its steps) and the next slot's run plays."""
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
        assert slow["projected_seconds"] > 20
        cut = daemon.wait_for(lambda e: e["event"] == "run_ended" and e["run_id"] == slow["run_id"], 40, "the cut")
        assert cut["status"] == "stopped" and cut["steps_done"] < steps
        daemon.wait_for(
            lambda e: e["event"] == "run_started" and e["run_id"] != slow["run_id"], 40, "the next slot's run"
        )
    finally:
        assert daemon.stop() == 0
