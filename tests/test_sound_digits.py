"""The digit layer, rendered by pyo: ten voices on their configured pitches, as loud as their digits' shares."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from daemon.config import ConfigInvalid, parse
from daemon.config.schema import MappingEntry, SpaceLayer
from daemon.mapping import element_mappings
from daemon.metrics import VECTOR_STREAMS, stream_names
from daemon.recording.reader import Recording
from daemon.sound.digits import TWIN_BEAT_HZ, VOICE_GAIN, DigitVoices, digit_frequencies
from daemon.sound.engine import SoundEngine
from daemon.sound.key import key_ratio
from daemon.sound.master import db_to_gain
from daemon.sound.server import ManualServer, pyo
from daemon.targets import SOUND_PARAMETERS, VECTOR_TARGETS, mapping_targets
from daemon.testing import render_audio

SR = 48_000
OTHER_LAYERS = ("sound.drone.level", "sound.grains.level", "sound.glitch.level", "sound.noise.level")
WINDOW_SECONDS = 2.0
ACTIVE_DB = 20.0  # a voice within this of the loudest one in a window is heard


def voice_levels_db(mono: np.ndarray, pitches: list[float], window_seconds: float = WINDOW_SECONDS) -> np.ndarray:
    """(windows, 10): the power (dB) of each voice's pitch, ±3 Hz, in successive windows."""
    size = int(SR * window_seconds)
    frames = mono[: len(mono) // size * size].reshape(-1, size) * np.hanning(size)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    freqs = np.fft.rfftfreq(size, 1 / SR)
    bands = [(freqs > f - 3) & (freqs < f + 3.5) for f in pitches]
    return 10 * np.log10(np.stack([power[:, band].sum(axis=1) for band in bands], axis=1) + 1e-20)


def active_voices(levels_db: np.ndarray, within_db: float = ACTIVE_DB) -> np.ndarray:
    """Per window: the voices within `within_db` of the loudest, as a boolean (windows, 10)."""
    return levels_db > levels_db.max(axis=1, keepdims=True) - within_db


def engine_alone(config, values: dict[str, float], seconds: float, channels: int = 2, retune=None) -> np.ndarray:
    """The engine with every layer but the digits silent, `seconds` after a settling second: (frames, channels)."""
    server = ManualServer(channels, SR, 1024, 1)
    try:
        engine = SoundEngine(config.audio, config.space, config.digits, channels, SR, Path("."))
        engine.set(dict.fromkeys(OTHER_LAYERS, 0.0) | {"sound.overdrive.drive": 0.0} | values)
        if retune:
            engine.retune(retune, 0.0)
        engine.fade_to(1.0, 0.0)
        for _ in range(47):
            server.block()
        return np.concatenate([server.block().copy() for _ in range(int(seconds * SR / 1024))])
    finally:
        server.close()


def test_the_default_pitches_are_a_chord_on_the_fundamental_and_the_artist_may_give_hz():
    config = parse("[audio]\nfundamental_hz = 55.0\n")
    pitches = digit_frequencies(config.digits, 55.0)
    assert [round(f) for f in pitches] == [220, 247, 277, 330, 370, 440, 494, 554, 659, 740]
    assert digit_frequencies(config.digits, 82.5)[0] == pytest.approx(330.0)  # the chord follows the drone
    given = [300.0 + 50 * d for d in range(10)]
    assert digit_frequencies(parse(f"[digits]\nfrequencies_hz = {given}\n").digits, 55.0) == given


@pytest.mark.parametrize("lit", [(2, 7), (0,), (1, 4, 8, 9), tuple(range(10))])
def test_the_voices_sound_on_their_pitches_and_only_the_lit_ones(lit):
    config = parse("[audio]\nstartup_ramp_seconds = 0.0\n")
    pitches = digit_frequencies(config.digits, config.audio.fundamental_hz)
    values = {"sound.digits.level": 1.0} | {f"sound.digits.voice_{d}": 1.0 if d in lit else 0.0 for d in range(10)}
    mono = engine_alone(config, values, 4.0).mean(axis=1)
    heard = np.flatnonzero(active_voices(voice_levels_db(mono, pitches)).all(axis=0))
    assert tuple(heard) == lit


@pytest.mark.parametrize("contrast", [0.0, 1.0, 2.0, 4.0])
def test_contrast_pushes_the_quieter_voices_back_and_keeps_the_loudest(contrast):
    """Voice 2 at 1.0, voice 7 at 0.5: 7 sounds (0.5 / 1) ^ contrast further down, 2 stays where it was."""
    config = parse(f"[audio]\nstartup_ramp_seconds = 0.0\n[digits]\ncontrast = {contrast}\n")
    pitches = digit_frequencies(config.digits, config.audio.fundamental_hz)
    values = {"sound.digits.level": 1.0, "sound.digits.voice_2": 1.0, "sound.digits.voice_7": 0.5}
    # A whole beat of the voices' twin sines per window: their levels without the shimmer.
    window = 2 / TWIN_BEAT_HZ
    levels = voice_levels_db(engine_alone(config, values, 2 * window).mean(axis=1), pitches, window).mean(axis=0)
    expected = 20 * math.log10(0.5) * (1 + contrast)
    assert levels[7] - levels[2] == pytest.approx(expected, abs=0.5)
    alone = voice_levels_db(
        engine_alone(parse("[audio]\nstartup_ramp_seconds = 0.0\n"), values, 2 * window).mean(axis=1), pitches, window
    )
    assert levels[2] == pytest.approx(alone.mean(axis=0)[2], abs=0.3)  # the loudest is untouched


def test_a_voice_is_a_pair_of_sines_twin_beat_apart():
    """One lit voice alone, sample for sample: VOICE_GAIN × (sin 2πft + sin 2π(f + TWIN_BEAT_HZ)t), over a
    whole beat, within 1 % of its peak (the voices are built as one sine under the pair's shimmer)."""
    pitch, lit = 247.0, 1
    server = ManualServer(1, SR, 1024, 1)
    try:
        voices = [pyo.Sig(1.0 if d == lit else 0.0) for d in range(10)]
        layout = SpaceLayer(position=0.0, rotation_hz=0.0, spread=1.0)
        digits = DigitVoices(
            [pitch if d == lit else 100.0 for d in range(10)], voices, pyo.Sig(1.0), pyo.Sig(1.0), 1, layout
        )
        digits.output.out()
        out = np.concatenate([server.block()[:, 0].copy() for _ in range(int(SR / TWIN_BEAT_HZ / 1024) + 4)])
    finally:
        server.close()
    t = np.arange(out.size) / SR
    pair = VOICE_GAIN * (np.sin(2 * np.pi * pitch * t) + np.sin(2 * np.pi * (pitch + TWIN_BEAT_HZ) * t))
    settled = slice(4 * 1024, None)  # after the placement's glide in from silence
    assert np.abs(out[settled] - pair[settled]).max() < 0.01 * 2 * VOICE_GAIN


def test_ten_silent_voices_under_contrast_are_silence_not_nan():
    config = parse("[audio]\nstartup_ramp_seconds = 0.0\n[digits]\ncontrast = 8.0\n")
    out = engine_alone(config, {"sound.digits.level": 1.0} | {f"sound.digits.voice_{d}": 0.0 for d in range(10)}, 1.0)
    assert np.isfinite(out).all() and np.abs(out).max() < 1e-6


def test_the_artists_frequencies_are_where_the_voices_sound():
    given = [150.0 + 97.0 * d for d in range(10)]
    config = parse(f"[audio]\nstartup_ramp_seconds = 0.0\n[digits]\nfrequencies_hz = {given}\n")
    mono = engine_alone(config, {"sound.digits.level": 1.0, "sound.digits.voice_3": 1.0}, 4.0).mean(axis=1)
    levels = voice_levels_db(mono, given)
    assert np.flatnonzero(active_voices(levels).all(axis=0)).tolist() == [3]


def test_the_key_moves_every_voice_with_the_drone():
    config = parse("[audio]\nstartup_ramp_seconds = 0.0\n")
    pitches = digit_frequencies(config.digits, config.audio.fundamental_hz)
    ratio = 2 ** (1.5 / 12)
    values = {"sound.digits.level": 1.0, "sound.digits.voice_5": 1.0}
    mono = engine_alone(config, values, 4.0, retune=ratio).mean(axis=1)
    moved = voice_levels_db(mono, [f * ratio for f in pitches])
    still = voice_levels_db(mono, pitches)
    assert moved[:, 5].min() > still[:, 5].max() + 20


def test_the_ceiling_holds_with_every_voice_and_every_layer_at_full():
    config = parse("[audio]\nstartup_ramp_seconds = 0.0\nmax_gain_db = 12.0\n")
    full = {name: p.high for name, p in SOUND_PARAMETERS.items() if name.endswith(("level", "gain"))}
    full |= {f"sound.digits.voice_{d}": 1.0 for d in range(10)} | {"sound.overdrive.drive": 0.99}
    server = ManualServer(8, SR, 1024, 1)
    try:
        engine = SoundEngine(config.audio, config.space, config.digits, 8, SR, Path("."))
        engine.set(full)
        engine.fade_to(1.0, 0.0)
        peak = max(float(np.abs(server.block()).max()) for _ in range(150))
    finally:
        server.close()
    assert peak <= db_to_gain(config.audio.ceiling_dbfs) + 1e-6
    assert peak > db_to_gain(config.audio.ceiling_dbfs) * 0.5  # it was really driven hard


def _mapping(source: str, target: str) -> str:
    return f'[[mapping]]\nsource = "{source}"\ntarget = "{target}"\n'


def test_every_mapping_of_the_wrong_length_is_an_error_naming_both_lengths():
    """Generated: every scalar stream onto every vector target, every vector stream onto every scalar target
    (elements included), each after a few valid mappings and with its other keys drawn at random."""
    rng = np.random.default_rng(13)
    scalars = list(mapping_targets())
    wrong = [(s, t) for s in stream_names() for t in VECTOR_TARGETS] + [(v, t) for v in VECTOR_STREAMS for t in scalars]
    valid = [(f"class_{d}", f"sound.digits.voice_{d}") for d in range(10)] + [("progress", "visual.data.speed")]
    cases = 0
    for source, target in wrong * 4:
        before = [valid[i] for i in rng.choice(len(valid), size=int(rng.integers(0, 4)), replace=False)]
        before = [(s, t) for s, t in before if t not in VECTOR_TARGETS.get(target, (target,))]
        extra = f'curve = "{rng.choice(["linear", "exponential", "logarithmic", "steps"])}"\n'
        extra += f"invert = {str(bool(rng.integers(2))).lower()}\nsmoothing_seconds = {rng.uniform(0, 10):.2f}\n"
        text = "".join(_mapping(s, t) for s, t in before) + _mapping(source, target) + extra
        with pytest.raises(ConfigInvalid) as caught:
            parse(text)
        (error,) = caught.value.errors
        n_source = len(VECTOR_STREAMS.get(source, (source,)))
        n_target = len(VECTOR_TARGETS.get(target, (target,)))
        assert error.key == f"mapping[{len(before)}].target", (source, target, error)
        assert f"takes {n_target} value" in error.message and f"gives {n_source}" in error.message, error.message
        assert "Fix:" in error.message
        cases += 1
    assert cases > 250


def test_a_vector_mapping_goes_element_by_element_and_an_element_is_driven_once():
    (entry,) = parse(_mapping("class_histogram", "sound.digits.voices")).mapping
    elements = element_mappings([entry])
    assert [(e.source, e.target) for e in elements] == [(f"class_{d}", f"sound.digits.voice_{d}") for d in range(10)]
    assert all(e.curve == entry.curve and e.smoothing_seconds == entry.smoothing_seconds for e in elements)
    parse(_mapping("class_3", "sound.digits.voice_3") + _mapping("class_7", "sound.digits.voice_7"))
    with pytest.raises(ConfigInvalid, match="already driven by mapping"):
        parse(_mapping("class_histogram", "sound.digits.voices") + _mapping("similarity", "sound.digits.voice_4"))


@pytest.mark.parametrize("key", ["intervals_semitones", "frequencies_hz"])
@pytest.mark.parametrize("count", [0, 1, 9, 11, 30])
def test_the_pitches_must_be_ten(key, count):
    if key == "frequencies_hz" and count == 0:
        return  # [] means: use the intervals
    with pytest.raises(ConfigInvalid) as caught:
        parse(f"[digits]\n{key} = {[300.0] * count}\n")
    (error,) = caught.value.errors
    assert error.key == f"digits.{key}" and f"got {count}" in error.message, error


def test_each_run_draws_its_key_within_the_drift_and_keeps_it():
    audio = parse('[audio]\nfundamental_drift = "run"\nfundamental_drift_semitones = 3.0\n').audio
    ratios = [key_ratio(audio, f"run-{n}", 0.0) for n in range(500)]
    semitones = [12 * math.log2(r) for r in ratios]
    assert max(semitones) <= 3.0 and min(semitones) >= -3.0
    assert max(semitones) > 2.5 and min(semitones) < -2.5  # the whole range is used
    assert key_ratio(audio, "run-7", 0.0) == ratios[7]  # a replay keeps its key
    day = audio.model_copy(update={"fundamental_drift": "day"})
    noon, evening, tomorrow = 1_800_000_000.0, 1_800_000_000.0 + 6 * 3600, 1_800_000_000.0 + 86_400
    assert key_ratio(day, "a", noon) == key_ratio(day, "b", evening) != key_ratio(day, "a", tomorrow)
    assert key_ratio(audio.model_copy(update={"fundamental_drift": "none"}), "run-1", 0.0) == 1.0


# Real short runs (tests/conftest.py): the digit layer alone, re-timed to the gallery's pace. The
# windows are a second long: a collapsed run hops every few seconds, and a longer window hears the
# voices before and after a hop at once. (Every voice's twin sines beat in step, so the beat moves
# all of them alike and leaves their levels against each other as they are.)
DIGIT_RUN_SECONDS = 40.0
RUN_WINDOW_SECONDS = 1.0
# In a run's chord a voice counts when it is within 15 dB of the loudest (a third of its loudness
# or more) and above −60 dBFS (in a Hann window |X| = A·N/4 at its bin): quieter is not heard.
CHORD_DB = 15.0


HEARD_FLOOR_DB = 20 * math.log10(db_to_gain(-60.0) * SR * RUN_WINDOW_SECONDS / 4)


def _alone(loaded):
    """The shipped composition with every other layer held silent by mappings of its own, in a fixed key.

    The key a run draws comes from its run id, a time stamp (fundamental_drift = "run"): the same
    training rendered in another key counts a voice more or less in a few windows. A fixed key makes
    the measure the same on every run of the suite, as the training already is for its seed.
    """
    silent = [
        MappingEntry(source="progress", target=name, output_min=0.0, output_max=0.0, smoothing_seconds=0.0)
        for name in (*OTHER_LAYERS, "sound.overdrive.drive")
    ]
    kept = [e for e in loaded.config.mapping if e.target.startswith("sound.digits")]
    audio = loaded.config.audio.model_copy(update={"fundamental_drift": "none"})
    config = loaded.config.model_copy(update={"mapping": kept + silent, "audio": audio})
    return type(loaded)(config, loaded.source, loaded.base_dir, loaded.text)


@pytest.fixture(scope="module")
def digit_renders(short_runs):
    """{preset: (voice levels (windows, 10) over the second half, the histograms shown in each window)}."""
    renders = {}
    for preset in ("healthy", "collapsed"):
        run = short_runs[preset]
        recording = Recording(run.folder).at_pace(DIGIT_RUN_SECONDS)
        frames = list(recording.frames(with_grids=False))
        alone = _alone(run.loaded)
        audio = alone.config.audio
        key = key_ratio(audio, frames[0].run_id, frames[0].time_unix_seconds)  # 1: the fixed key
        pitches = [f * key for f in digit_frequencies(alone.config.digits, audio.fundamental_hz)]
        stereo = render_audio(recording, alone, 2, seconds=DIGIT_RUN_SECONDS)
        # Power summed over the speakers: what the room hears, wherever on the ring a voice stands.
        half = stereo[len(stereo) // 2 :]
        per_channel = [voice_levels_db(half[:, c], pitches, RUN_WINDOW_SECONDS) for c in range(2)]
        levels = 10 * np.log10(sum(10 ** (level / 10) for level in per_channel))
        measured = [f for f in frames if f.class_histogram]
        shown = []  # per window: the histogram current at its start and any measured during it
        for index in range(len(levels)):
            start = DIGIT_RUN_SECONDS / 2 + index * RUN_WINDOW_SECONDS
            current = [f for f in measured if f.elapsed_seconds <= start][-1:]
            during = [f for f in measured if start < f.elapsed_seconds <= start + RUN_WINDOW_SECONDS]
            shown.append([np.array(f.class_histogram) for f in current + during])
        renders[preset] = (levels, shown)
    return renders


def heard_voices(levels: np.ndarray) -> list[int]:
    """Per window where the layer plays: the voices above the floor and within CHORD_DB of the loudest."""
    playing = levels.max(axis=1) > HEARD_FLOOR_DB
    return [int(n) for n in (active_voices(levels, CHORD_DB) & (levels > HEARD_FLOOR_DB)).sum(axis=1)[playing]]


def test_healthy_sounds_many_digits_and_collapsed_few(digit_renders):
    counts = {}
    for preset, (levels, _) in digit_renders.items():
        heard = heard_voices(levels)
        assert len(heard) >= len(levels) // 2, (preset, levels.max(axis=1))  # the layer really plays
        # The mean over the windows: a count moves by whole voices, and a median jumps with one window.
        counts[preset] = float(np.mean(heard))
    assert counts["healthy"] >= 5 and counts["collapsed"] <= 3, counts


def test_collapsed_voices_follow_its_top_class_as_it_hops(digit_renders):
    levels, shown = digit_renders["collapsed"]
    playing = levels.max(axis=1) > HEARD_FLOOR_DB
    loudest = [int(np.argmax(window)) for window in levels[playing]]
    assert len(set(loudest)) >= 3, loudest  # its set changes as it hops (seed 1 hops every few seconds)
    # Each window's loudest voice is one of the top three digits of a histogram shown in that window or
    # the one before: the mapping's 0.5 s smoothing carries a hop over into the next window, and a
    # histogram measured late in a window is heard mostly in the next.
    for index in np.flatnonzero(playing):
        histograms = shown[index] + (shown[index - 1] if index else [])
        tops = {int(d) for h in histograms for d in np.argsort(h)[-3:] if h[d] > 0}
        voice = int(np.argmax(levels[index]))
        assert voice in tops, (voice, [np.round(h, 2) for h in histograms])


def _speaker_levels_db(space_toml: str, voice: int, turns_seconds: float = 0.0, channels: int = 8) -> np.ndarray:
    """Per speaker: the RMS (dB) of the digit layer with one voice lit, after the ring turned for `turns_seconds`."""
    config = parse("[audio]\nstartup_ramp_seconds = 0.0\n" + space_toml)
    server = ManualServer(channels, SR, 1024, 1)
    try:
        engine = SoundEngine(config.audio, config.space, config.digits, channels, SR, Path("."))
        engine.set(dict.fromkeys(OTHER_LAYERS, 0.0) | {"sound.overdrive.drive": 0.0, "sound.digits.level": 1.0})
        engine.set({f"sound.digits.voice_{voice}": 1.0})
        engine.fade_to(1.0, 0.0)
        for _ in range(round(turns_seconds * SR / 1024)):
            engine.advance(1024 / SR)  # as the conductor does each block
            server.block()
        for _ in range(10):  # the matrix's glide settles; the ring stays where it is
            server.block()
        out = np.concatenate([server.block().copy() for _ in range(24)])
    finally:
        server.close()
    return 20 * np.log10(np.sqrt((out.astype(np.float64) ** 2).mean(axis=0)) + 1e-12)


@pytest.mark.parametrize("voice", [0, 3, 5, 8])
def test_each_digit_voice_stands_its_tenth_of_the_ring_further_and_turns_with_it(voice):
    still = _speaker_levels_db("[space.digits]\nposition = 0.0\nrotation_hz = 0.0\nspread = 0.0\n", voice)
    assert int(np.argmax(still)) == round(voice * 8 / 10) % 8, still.round(1)
    # A quarter turn a second for two seconds (94 blocks): about half the ring further on.
    turned = _speaker_levels_db("[space.digits]\nposition = 0.0\nrotation_hz = 0.25\nspread = 0.0\n", voice, 2.0)
    assert int(np.argmax(turned)) == round((voice / 10 + 0.25 * 94 * 1024 / SR) * 8) % 8, turned.round(1)
    # Spread 1: every speaker alike, and as loud in all as the voice on one speaker (equal power).
    wide = _speaker_levels_db("[space.digits]\nposition = 0.0\nrotation_hz = 0.0\nspread = 1.0\n", voice)
    assert wide.max() - wide.min() < 1.0, wide.round(1)
    total = lambda levels: 10 * np.log10((10 ** (levels / 10)).sum())  # noqa: E731
    assert abs(total(wide) - total(still)) < 0.5
