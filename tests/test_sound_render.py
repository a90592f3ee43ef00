"""Offline renders of real recordings: every speaker plays, none above the ceiling, regimes audibly apart."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from daemon.config.schema import MappingEntry
from daemon.recording.reader import Recording
from daemon.sound.master import db_to_gain
from daemon.testing import render_audio
from tests.conftest import run_cli

SR = 48_000
RUN_SECONDS = 12.0  # past the run fade-in (5 s), with 4 s of each run's late state to measure


def spectra(samples: np.ndarray, seconds: float = 4.0) -> np.ndarray:
    """Magnitude spectra (2048-point frames) of the downmix's last `seconds` before the fade-out."""
    mono = samples.mean(axis=1)[-int(SR * seconds) :]
    frames = mono[: len(mono) // 2048 * 2048].reshape(-1, 2048) * np.hanning(2048)
    return np.abs(np.fft.rfft(frames, axis=1))


def high_frequency_share(samples: np.ndarray) -> float:
    """Energy above 2 kHz / all energy: clicks and open noise (random) against filtered drone."""
    power = spectra(samples) ** 2
    return float(power[:, np.fft.rfftfreq(2048, 1 / SR) > 2000].sum() / power.sum())


def spectral_steadiness(samples: np.ndarray) -> float:
    """Mean correlation of successive spectra (300–4000 Hz): high when the grains loop on one spot and pitch."""
    freqs = np.fft.rfftfreq(2048, 1 / SR)
    band = spectra(samples)[:, (freqs > 300) & (freqs < 4000)]
    a = band[:-1] - band[:-1].mean(axis=1, keepdims=True)
    b = band[1:] - band[1:].mean(axis=1, keepdims=True)
    return float(((a * b).sum(axis=1) / np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))).mean())


@pytest.fixture(scope="module")
def renders(short_runs):
    """Each regime's run as 8 channels, up to the end of its training (the fade-out not included).

    The flat-out runs are re-timed to RUN_SECONDS each: recorded times depend on how fast the
    machine trains (a 50-step random run lasted 5 s on one machine, 1.4 s on another, inside the
    5 s fade-in), so the renders must not.
    """
    return {
        preset: render_audio(Recording(run.folder).at_pace(RUN_SECONDS), run.loaded, 8, seconds=RUN_SECONDS)
        for preset, run in short_runs.items()
    }


def test_every_channel_plays_and_channels_differ(renders):
    for preset, samples in renders.items():
        rms = np.sqrt((samples[SR:] ** 2).mean(axis=0))
        assert (rms > 1e-3).all(), (preset, rms)
        for a in range(8):
            for b in range(a + 1, 8):
                assert np.abs(samples[:, a] - samples[:, b]).max() > 1e-3, (preset, a, b)


def test_no_sample_exceeds_the_ceiling(renders, short_runs):
    ceiling = db_to_gain(short_runs["healthy"].loaded.config.audio.ceiling_dbfs)
    for samples in renders.values():
        assert np.abs(samples).max() <= ceiling + 1e-6


def test_random_is_brighter_than_healthy_and_underfit_stays_filtered(renders):
    # The mapping opens the noise floor's filter and the click rate when no digit is in sight.
    assert high_frequency_share(renders["random"]) > 5 * high_frequency_share(renders["healthy"])
    assert high_frequency_share(renders["underfit"]) < high_frequency_share(renders["random"]) / 5


def test_collapsed_is_spectrally_steadier_than_healthy(renders):
    # Collapse locks the grains' read position, narrows their pitch and brings them forward:
    # the spectrum repeats itself block after block (full 2000-step runs: 0.93 against 0.79).
    assert spectral_steadiness(renders["collapsed"]) > spectral_steadiness(renders["healthy"]) + 0.05


def test_a_deliberately_hot_mapping_never_passes_the_ceiling(short_runs):
    run = short_runs["random"]
    loaded = run.loaded
    hot = [
        MappingEntry(
            source="progress",
            target=target,
            input_min=0,
            input_max=0.01,
            output_min=hi,
            output_max=hi,
            smoothing_seconds=0.0,
        )
        for target, hi in [
            ("sound.drone.level", 1.0),
            ("sound.noise.level", 1.0),
            ("sound.glitch.level", 1.0),
            ("sound.grains.level", 1.0),
            ("sound.overdrive.drive", 0.99),
        ]
    ]
    audio = loaded.config.audio.model_copy(update={"max_gain_db": 12.0, "ceiling_dbfs": -6.0})
    config = loaded.config.model_copy(update={"mapping": hot, "audio": audio})
    samples = render_audio(Recording(run.folder).at_pace(RUN_SECONDS), dataclasses.replace(loaded, config=config), 4)
    peak = np.abs(samples).max()
    assert peak <= db_to_gain(-6.0) + 1e-6
    assert peak > 0.9 * db_to_gain(-6.0)  # the mapping really was hot: the limiter worked for it


def test_render_audio_command_is_byte_identical_and_writes_a_stereo_preview(short_runs, tmp_path):
    import soundfile

    run = short_runs["collapsed"]
    outs = [tmp_path / "a.wav", tmp_path / "b.wav"]
    for out in outs:
        result = run_cli(
            "render-audio",
            str(run.folder),
            "--out",
            str(out),
            "--channels",
            "4",
            "--downmix",
            str(out.with_suffix(".stereo.wav")),
            "--config",
            run.loaded.source,
        )
        assert result.returncode == 0, result.stderr
    assert outs[0].read_bytes() == outs[1].read_bytes()
    info = soundfile.info(str(outs[0]))
    assert info.channels == 4 and info.samplerate == SR
    four, _ = soundfile.read(str(outs[0]), dtype="float32")
    stereo, _ = soundfile.read(str(outs[0].with_suffix(".stereo.wav")), dtype="float32")
    assert stereo.shape == (len(four), 2)
    assert np.abs(stereo).max() <= db_to_gain(run.loaded.config.audio.ceiling_dbfs) + 1e-4
    assert np.sqrt((stereo**2).mean(axis=0)).min() > 1e-3 and np.abs(stereo[:, 0] - stereo[:, 1]).max() > 1e-3


def test_render_audio_re_times_a_flat_out_run_and_refuses_a_bad_pace(short_runs, tmp_path):
    import soundfile

    run = short_runs["random"]
    out = tmp_path / "paced.wav"
    result = run_cli(
        "render-audio",
        str(run.folder),
        "--out",
        str(out),
        "--channels",
        "2",
        "--run-seconds",
        "3",
        "--config",
        run.loaded.source,
    )
    assert result.returncode == 0, result.stderr
    audio = run.loaded.config.audio  # the run, its fade-out, a second of tail
    assert soundfile.info(str(out)).duration == pytest.approx(3 + audio.run_fade_out_seconds + 1, abs=0.03)
    bad = run_cli(
        "render-audio", str(run.folder), "--out", str(out), "--run-seconds", "fast", "--config", run.loaded.source
    )
    assert bad.returncode == 3 and "--run-seconds fast" in bad.stderr and "'preset'" in bad.stderr


def test_the_artists_drone_recording_sounds_in_the_drone_layer(short_runs, tmp_path):
    """A 1 kHz recording, with the grains (which also read it) silenced: the peak must come from the drone."""
    import soundfile

    (tmp_path / "drones").mkdir()
    t = np.arange(SR * 2) / SR
    soundfile.write(tmp_path / "drones" / "tone.wav", 0.5 * np.sin(2 * np.pi * 1000 * t), SR)
    run = short_runs["healthy"]
    silence_grains = MappingEntry(source="progress", target="sound.grains.level", output_min=0.0, output_max=0.0)
    mapping = [m for m in run.loaded.config.mapping if m.target != "sound.grains.level"] + [silence_grains]

    def peak_share(drone_recordings_path: str) -> float:
        audio = run.loaded.config.audio.model_copy(update={"drone_recordings_path": drone_recordings_path})
        config = run.loaded.config.model_copy(update={"audio": audio, "mapping": mapping})
        loaded = dataclasses.replace(run.loaded, config=config, base_dir=tmp_path)
        power = spectra(render_audio(Recording(run.folder), loaded, 2, seconds=8.0)) ** 2
        freqs = np.fft.rfftfreq(2048, 1 / SR)
        return float(power[:, (freqs > 980) & (freqs < 1020)].sum() / power.sum())

    with_recording, organ_only = peak_share("drones"), peak_share("")
    assert with_recording > 0.1 and with_recording > 20 * organ_only, (with_recording, organ_only)


def test_the_drone_sits_on_the_configured_fundamental():
    """The organ alone (other layers silent), rendered by pyo: its strongest low pipe moves with the fundamental."""
    from daemon.config import parse
    from daemon.sound.engine import SoundEngine
    from daemon.sound.server import ManualServer

    peaks = {}
    for fundamental in (55.0, 82.5):
        config = parse(f"[audio]\nfundamental_hz = {fundamental}\nstartup_ramp_seconds = 0.0\n")
        audio = config.audio
        server = ManualServer(2, audio.sample_rate_hz, 1024, 1)
        try:
            engine = SoundEngine(audio, config.space, config.digits, 2, audio.sample_rate_hz, Path("."))
            engine.set(
                {"sound.drone.level": 1.0, "sound.drone.brightness": 0.0, "sound.drone.wind": 0.0}
                | dict.fromkeys(("sound.grains.level", "sound.glitch.level", "sound.noise.level"), 0.0)
            )
            engine.fade_to(1.0, 0.0)
            for _ in range(47):  # about a second to settle
                server.block()
            mono = np.concatenate([server.block()[:, 0].copy() for _ in range(94)])
        finally:
            server.close()
        spectrum = np.abs(np.fft.rfft(mono * np.hanning(mono.size)))
        frequencies = np.fft.rfftfreq(mono.size, 1 / audio.sample_rate_hz)
        low = frequencies < 400
        peaks[fundamental] = float(frequencies[low][np.argmax(spectrum[low])])
    harmonic = round(peaks[55.0] / 55.0)
    assert harmonic >= 1 and abs(peaks[55.0] - 55.0 * harmonic) < 2.0, peaks  # a pipe of A = 55 Hz…
    assert abs(peaks[82.5] - 82.5 * harmonic) < 2.0, peaks  # …and the same pipe of E = 82.5 Hz
