"""Offline rendering: a recorded run's sonification to a multichannel WAV, faster than real time."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import soundfile

from daemon.config import LoadedConfig
from daemon.recording.reader import Recording
from daemon.senses.timeline import Timeline, footage_seconds
from daemon.sound.conductor import Conductor
from daemon.sound.downmix import downmix_matrix
from daemon.sound.engine import SoundEngine
from daemon.sound.server import ManualServer

__all__ = ["render_blocks", "render_recording"]


def render_blocks(
    recording: Recording, loaded: LoadedConfig, channels: int, block_frames: int = 1024, seconds: float | None = None
):
    """Yield (blocks done, blocks in all, samples (frames, channels)) for the whole recorded run.

    The run's timeline (frames at their recorded times, a fade in at its start and out at its
    end) drives the conductor block by block. The same recording, config and block size give the
    same samples, bit for bit.
    """
    audio = loaded.config.audio
    frames = list(recording.frames(with_grids=False))
    if not frames:
        raise ValueError(f"{recording.folder} holds no frames to render")
    if seconds is None:  # as long as the image's render of the same run
        seconds = footage_seconds(frames, audio.run_fade_out_seconds, loaded.config.video.fade_seconds)
    timeline = Timeline(frames, audio.run_fade_in_seconds, audio.run_fade_out_seconds, seconds)
    server = ManualServer(channels, audio.sample_rate_hz, block_frames, audio.seed)
    try:
        engine = SoundEngine(
            audio, loaded.config.space, loaded.config.digits, channels, audio.sample_rate_hz, loaded.base_dir
        )
        conductor = Conductor(engine, loaded.config.mapping, audio)
        for done, blocks in timeline.play(conductor, server.block_seconds):
            yield done, blocks, server.block()
    finally:
        server.close()


def render_recording(
    recording: Recording,
    loaded: LoadedConfig,
    out: Path,
    channels: int,
    progress: Callable[[int, int], None] | None = None,
    downmix: Path | None = None,
    seconds: float | None = None,
) -> Path:
    """Write the render as 24-bit WAV (to a temporary name, then renamed), `seconds` long (as `render_blocks`).

    24-bit PCM rather than float: libsndfile stamps float WAVs with the time of writing (PEAK
    chunk), and the same recording must give the same bytes. The ceiling keeps samples in range.
    """
    rate = loaded.config.audio.sample_rate_hz
    targets = [(out, channels)] + ([(downmix, 2)] if downmix else [])
    partials = [path.with_name(path.name + ".partial") for path, _ in targets]
    files = [
        soundfile.SoundFile(p, "w", rate, n, subtype="PCM_24", format="WAV")
        for p, (_, n) in zip(partials, targets, strict=False)
    ]
    matrix = downmix_matrix(channels)
    try:
        for done, total, samples in render_blocks(recording, loaded, channels, seconds=seconds):
            files[0].write(samples)
            if downmix:
                files[1].write(samples @ matrix)
            if progress:
                progress(done, total)
    finally:
        for file in files:
            file.close()
    for partial, (path, _) in zip(partials, targets, strict=False):
        partial.replace(path)
    return out
