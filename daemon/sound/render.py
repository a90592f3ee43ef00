"""Offline rendering: a recorded run's sonification to a multichannel WAV, faster than real time."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile

from daemon.config import LoadedConfig
from daemon.recording.reader import Recording
from daemon.sound.conductor import Conductor
from daemon.sound.downmix import downmix_matrix
from daemon.sound.engine import SoundEngine
from daemon.sound.server import ManualServer

__all__ = ["render_blocks", "render_recording"]

TAIL_SECONDS = 1.0


def render_blocks(recording: Recording, loaded: LoadedConfig, channels: int, block_frames: int = 1024,
                  seconds: float | None = None):
    """Yield (blocks done, blocks in all, samples (frames, channels)) for the whole recorded run.

    Frames are applied at their recorded times; the run fades in at its start and out at its end.
    The same recording, config and block size give the same samples, bit for bit.
    """
    audio = loaded.config.audio
    frames = list(recording.frames(with_grids=False))
    if not frames:
        raise ValueError(f"{recording.folder} holds no frames to render")
    end = frames[-1].elapsed_seconds
    total_seconds = seconds if seconds is not None else end + audio.run_fade_out_seconds + TAIL_SECONDS
    server = ManualServer(channels, audio.sample_rate_hz, block_frames, audio.seed)
    try:
        engine = SoundEngine(audio, loaded.config.space, channels, audio.sample_rate_hz, loaded.base_dir)
        conductor = Conductor(engine, loaded.config.mapping, audio)
        engine.fade_to(1.0, audio.run_fade_in_seconds)
        blocks = int(np.ceil(total_seconds / server.block_seconds))
        next_frame, faded_out = 0, False
        for index in range(blocks):
            now = index * server.block_seconds
            while next_frame < len(frames) and frames[next_frame].elapsed_seconds <= now:
                conductor.on_frame(frames[next_frame])
                next_frame += 1
            if not faded_out and now >= end:
                engine.fade_to(0.0, audio.run_fade_out_seconds)
                faded_out = True
            conductor.tick(server.block_seconds)
            yield index + 1, blocks, server.block()
    finally:
        server.close()


def render_recording(recording: Recording, loaded: LoadedConfig, out: Path, channels: int,
                     progress: Callable[[int, int], None] | None = None, downmix: Path | None = None) -> Path:
    """Write the render as 24-bit WAV (to a temporary name, then renamed).

    24-bit PCM rather than float: libsndfile stamps float WAVs with the time of writing (PEAK
    chunk), and the same recording must give the same bytes. The ceiling keeps samples in range.
    """
    rate = loaded.config.audio.sample_rate_hz
    targets = [(out, channels)] + ([(downmix, 2)] if downmix else [])
    partials = [path.with_name(path.name + ".partial") for path, _ in targets]
    files = [soundfile.SoundFile(p, "w", rate, n, subtype="PCM_24", format="WAV")
             for p, (_, n) in zip(partials, targets)]
    matrix = downmix_matrix(channels)
    try:
        for done, total, samples in render_blocks(recording, loaded, channels):
            files[0].write(samples)
            if downmix:
                files[1].write(samples @ matrix)
            if progress:
                progress(done, total)
    finally:
        for file in files:
            file.close()
    for partial, (path, _) in zip(partials, targets):
        partial.replace(path)
    return out
