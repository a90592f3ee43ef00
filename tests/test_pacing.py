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
