"""A recorded run for a festival: the speakers' WAV, its stereo downmix and an MP4 carrying that stereo, one length."""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from functools import partial
from pathlib import Path
from typing import Final

import av
import numpy as np
import soundfile

from daemon.config import LoadedConfig
from daemon.recording.reader import Recording
from daemon.senses.timeline import footage_seconds
from daemon.sound.render import render_recording
from daemon.visuals.video import render_video

__all__ = ["AUDIO_CODEC", "STAGES", "Footage", "NothingToRender", "mux_stereo", "render_footage"]

# AAC rather than FLAC: FFmpeg's own AAC encoder is in every PyAV wheel, and AAC in MP4 plays wherever a
# festival may play the file — browsers, QuickTime, the media players inside projectors and screens. FLAC in
# MP4 is lossless but many of those refuse it; the lossless sound is the WAV beside the MP4.
AUDIO_CODEC: Final = "aac"  # Final: the literal name, so the type checker knows it adds an audio stream
AUDIO_BIT_RATE = 256_000  # stereo AAC at 256 kb/s: transparent for most listening, under 2 MB a minute
AUDIO_RATE_HZ = 48_000  # video's usual rate; AAC stops at 96 kHz, and [audio] sample_rate_hz may be 192 kHz
WAV_BLOCK_FRAMES = 4096

STAGES = {"sound": "block", "picture": "frame", "mp4": "block"}  # progress(stage, done, in all): each one's unit
Progress = Callable[[str, int, int], None]
StageProgress = Callable[[int, int], None]  # (done, in all) within one stage


class NothingToRender(ValueError):
    """The recording holds no frame: there is no run to hear or see."""


@dataclass(frozen=True)
class Footage:
    """The three files of a festival render, in `folder`."""

    folder: Path
    channels: int

    @property
    def sound(self) -> Path:
        """Every speaker, 24-bit: what the gallery plays."""
        return self.folder / f"sound-{self.channels}ch.wav"

    @property
    def stereo(self) -> Path:
        return self.folder / "stereo.wav"

    @property
    def video(self) -> Path:
        """H.264 with the stereo as AAC."""
        return self.folder / "footage.mp4"


def render_footage(
    recording: Recording,
    loaded: LoadedConfig,
    footage: Footage,
    scenes: list[str],
    width: int,
    height: int,
    fps: float,
    progress: Progress | None = None,
) -> Footage:
    """Render the sound (both WAVs at once), then the picture, then put the stereo into the picture's MP4.

    Both renders walk the run's timeline from 0 for the same `footage_seconds`, so a frame's sound
    and its picture fall at the same moment of the files: each within one audio block or video
    frame of the frame's recorded time.
    """
    frames = list(recording.frames(with_grids=False))
    if not frames:
        raise NothingToRender(f"{recording.folder} holds no frames to render")
    config = loaded.config
    seconds = footage_seconds(frames, config.audio.run_fade_out_seconds, config.video.fade_seconds)
    footage.folder.mkdir(parents=True, exist_ok=True)

    def stage(name: str) -> StageProgress | None:
        return partial(progress, name) if progress else None

    render_recording(recording, loaded, footage.sound, footage.channels, stage("sound"), footage.stereo, seconds)
    picture = footage.folder / (footage.video.stem + ".picture-only.mp4")
    try:
        render_video(recording, loaded, picture, scenes, width, height, fps, stage("picture"), seconds)
        mux_stereo(picture, footage.stereo, footage.video, stage("mp4"))
    finally:
        picture.unlink(missing_ok=True)
    return footage


def mux_stereo(picture: Path, stereo: Path, out: Path, progress: StageProgress | None = None) -> None:
    """`picture`'s video copied as it is (no second encode) with `stereo` encoded beside it, into `out`.

    Packets go in by time, so a player streaming the file finds sound and picture close together;
    faststart puts the index first, so a browser starts playing before the whole file has arrived.
    """
    partial_out = out.with_name(out.name + ".partial.mp4")
    with (
        av.open(str(picture)) as source,
        av.open(str(partial_out), "w", container_options={"movflags": "+faststart"}) as target,
    ):
        video = target.add_stream_from_template(source.streams.video[0])
        audio = target.add_stream(AUDIO_CODEC, rate=AUDIO_RATE_HZ, layout="stereo")
        audio.bit_rate = AUDIO_BIT_RATE
        for packet in heapq.merge(_copied(source, video), _encoded(stereo, audio, progress), key=_dts_seconds):
            target.mux(packet)
    partial_out.replace(out)


def _copied(source: av.container.InputContainer, stream: av.VideoStream) -> Iterator[av.Packet]:
    for packet in source.demux(source.streams.video[0]):
        if packet.dts is not None:  # the demuxer's closing empty packet carries nothing
            packet.stream = stream
            yield packet


def _encoded(wav_path: Path, stream: av.AudioStream, progress: StageProgress | None) -> Iterator[av.Packet]:
    """The WAV as packets; the encoder converts rate and sample format and cuts its own frame sizes."""
    with soundfile.SoundFile(wav_path) as wav:
        time_base, blocks = Fraction(1, wav.samplerate), math.ceil(wav.frames / WAV_BLOCK_FRAMES)
        blocks_read = wav.blocks(WAV_BLOCK_FRAMES, dtype="float32", always_2d=True)
        for done, block in enumerate(blocks_read, 1):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(block.T), format="fltp", layout="stereo")
            frame.sample_rate, frame.pts, frame.time_base = wav.samplerate, (done - 1) * WAV_BLOCK_FRAMES, time_base
            yield from stream.encode(frame)
            if progress:
                progress(done, blocks)
    yield from stream.encode(None)


def _dts_seconds(packet: av.Packet) -> float:
    return float(packet.dts * packet.time_base) if packet.dts is not None and packet.time_base else 0.0
