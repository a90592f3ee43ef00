"""Mapping curves and smoothing: the artist's instrument between streams and parameters."""

from __future__ import annotations

import math

import pytest

from daemon.config.schema import MappingEntry
from daemon.mapping import Mapper, curve_value
from daemon.targets import mapping_targets


def entry(**overrides) -> MappingEntry:
    values = dict(
        source="rms",
        target="sound.noise.level",
        input_min=0.0,
        input_max=1.0,
        output_min=10.0,
        output_max=20.0,
        smoothing_seconds=0.0,
    )
    return MappingEntry(**{**values, **overrides})


def test_linear_clamps_scales_and_inverts():
    assert curve_value(entry(), 0.5) == 15.0
    assert curve_value(entry(), -3.0) == 10.0 and curve_value(entry(), 9.0) == 20.0
    assert curve_value(entry(invert=True), 0.25) == 17.5


def test_exponential_starts_slow_and_logarithmic_starts_fast():
    assert curve_value(entry(curve="exponential"), 0.5) < 15.0 < curve_value(entry(curve="logarithmic"), 0.5)
    for curve in ("exponential", "logarithmic"):
        assert curve_value(entry(curve=curve), 0.0) == pytest.approx(10.0)
        assert curve_value(entry(curve=curve), 1.0) == pytest.approx(20.0)


def test_steps_quantise_to_levels():
    values = {curve_value(entry(curve="steps", steps=3), x / 100) for x in range(101)}
    assert values == {10.0, 15.0, 20.0}


def test_smoothing_glides_with_its_time_constant_and_nan_holds():
    mapper = Mapper([entry(smoothing_seconds=2.0)], {"sound.noise.level": 10.0})
    mapper.update({"rms": 1.0})
    assert mapper.advance(2.0)["sound.noise.level"] == pytest.approx(10.0 + 10.0 * (1 - math.exp(-1)))
    mapper.update({"rms": math.nan})
    assert mapper.advance(100.0)["sound.noise.level"] == pytest.approx(20.0)


def test_drift_to_idle_moves_goals_not_values():
    mapper = Mapper([entry(smoothing_seconds=1.0)], {"sound.noise.level": 10.0})
    mapper.update({"rms": 1.0})
    mapper.advance(50.0)
    mapper.drift_to({"sound.noise.level": 12.0})
    assert mapper.values["sound.noise.level"] == pytest.approx(20.0)
    assert mapper.advance(50.0)["sound.noise.level"] == pytest.approx(12.0)


def test_a_crossfade_glide_slows_every_value_for_its_length_then_lets_go():
    mapper = Mapper([entry(smoothing_seconds=0.1)], {"sound.noise.level": 10.0})
    mapper.glide(6.0)  # the next run's values arrive: they take ≈6 s to come, not 0.1 s
    mapper.update({"rms": 1.0})
    after_one = mapper.advance(1.0)["sound.noise.level"]
    assert after_one == pytest.approx(10.0 + 10.0 * (1 - math.exp(-1.0 / 2.0)))
    for _ in range(5):
        mapper.advance(1.0)
    assert 19.0 < mapper.values["sound.noise.level"] < 20.0  # 95 % there after the crossfade
    mapper.update({"rms": 0.0})
    assert mapper.advance(1.0)["sound.noise.level"] == pytest.approx(10.0, abs=1e-3)  # its own 0.1 s again


def test_every_mapping_target_is_documented_for_the_artist():
    from tests.conftest import REPO

    docs = {"sound": (REPO / "docs" / "sound.md").read_text(), "visual": (REPO / "docs" / "visuals.md").read_text()}
    for name, parameter in mapping_targets().items():
        row = f"| `{name}` | {parameter.default:g} | {parameter.low:g}–{parameter.high:g} | {parameter.unit} |"
        assert row in docs[name.split(".")[0]], f"{name}: no row {row!r} in its doc"
