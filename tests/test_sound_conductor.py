"""When frames stop (trainer gone) the sound holds, then drifts to the idle state: it never stops."""

from __future__ import annotations

import numpy as np
import pytest

from daemon.recording.reader import Recording
from daemon.sound.conductor import IDLE, Conductor
from daemon.sound.engine import SoundEngine
from daemon.sound.server import ManualServer
from daemon.testing import feed


def test_frames_stop_sound_holds_then_drifts_to_idle(short_runs):
    run = short_runs["random"]
    config = run.loaded.config
    audio = config.audio.model_copy(
        update={"hold_seconds": 6.0, "idle_drift_seconds": 3.0, "startup_ramp_seconds": 0.1}
    )
    server = ManualServer(4, audio.sample_rate_hz, 1024, audio.seed)
    try:
        engine = SoundEngine(audio, config.space, config.digits, 4, audio.sample_rate_hz, run.loaded.base_dir)
        conductor = Conductor(engine, config.mapping, audio)
        feed(conductor, Recording(run.folder).frames(with_grids=False))
        clicks = "sound.glitch.click_rate_hz"

        def play(seconds: float) -> np.ndarray:
            blocks = []
            for _ in range(int(seconds / server.block_seconds)):
                conductor.tick(server.block_seconds)
                blocks.append(server.block().copy())
            return np.concatenate(blocks)

        play(5.0)  # the trainer has gone quiet from here on; the mapped values settle
        mapped = conductor.mapper.values[clicks]
        assert mapped > 3 * IDLE[clicks]  # random: no digit in sight, dense clicks
        held = play(0.5)
        assert conductor.mapper.values[clicks] == pytest.approx(mapped, rel=0.02)
        drifting = play(0.5 + 3.2)  # hold ends at 6 s; the drift is 95 % done 3 s later
        assert abs(conductor.mapper.values[clicks] - IDLE[clicks]) < 0.05 * (mapped - IDLE[clicks])
        for samples in (held, drifting[-48_000:]):
            assert (np.sqrt((samples**2).mean(axis=0)) > 1e-3).all()  # never silence
    finally:
        server.close()
