"""The sound engine: every layer built once on a pyo server, driven by named parameters."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from daemon.config.schema import Audio, Digits, Space
from daemon.logs import get_logger
from daemon.sound.digits import DigitVoices, contrasted, digit_frequencies
from daemon.sound.glitch import Clicks, Crusher, Stutter
from daemon.sound.grains import GranularCloud
from daemon.sound.master import Master
from daemon.sound.noise import NoiseFloor
from daemon.sound.organ import Organ, RecordedDrone, organ_material
from daemon.sound.server import pyo
from daemon.sound.space import Placement
from daemon.targets import SOUND_PARAMETERS, VECTOR_TARGETS

__all__ = ["SoundEngine"]

DEZIPPER_SECONDS = 0.05
MATERIAL_SECONDS = 6.0
SOUND_FILES = {".wav", ".aif", ".aiff"}


class SoundEngine:
    """Drone, grains, glitch, noise and the digits on `channels` speakers, through the master's safety chain.

    Build it after the pyo server has booted; `set()` and `retune()` may be called from any thread.
    """

    def __init__(self, audio: Audio, space: Space, digits: Digits, channels: int, sample_rate_hz: int, base_dir: Path):
        self.params = {
            name: pyo.SigTo(p.default, time=DEZIPPER_SECONDS, init=p.default) for name, p in SOUND_PARAMETERS.items()
        }
        # Set on their one stream each: SigTo.setValue's checks and list handling (it serves any number of
        # streams) cost more than the change itself, for thirty parameters at every block.
        self.setters = {name: param.getBaseObjects()[0].setValue for name, param in self.params.items()}
        p = lambda name: self.params[f"sound.{name}"]  # noqa: E731
        # The key: a ratio to fundamental_hz that every pitched layer follows (the drift of the fundamental).
        self.pitch = pyo.SigTo(1.0, time=DEZIPPER_SECONDS, init=1.0)
        self.table, recorded = self._material(audio, sample_rate_hz, base_dir)
        # One pink noise for the organ's wind and the noise floor: pyo's random numbers cost a layer's worth.
        self.pink = pyo.PinkNoise()
        self.organ = Organ(
            audio.fundamental_hz,
            self.pitch,
            p("drone.level"),
            p("drone.brightness"),
            p("drone.beating_hz"),
            p("drone.wind"),
            self.pink,
        )
        # With the artist's recording, the drone layer is the organ and the recording, looped.
        self.recorded = RecordedDrone(self.table, p("drone.level"), p("drone.brightness")) if recorded else None
        drone = self.organ.output + self.recorded.output if self.recorded else self.organ.output
        self.grains = GranularCloud(
            self.table,
            p("grains.level"),
            p("grains.density"),
            p("grains.duration_seconds"),
            p("grains.position"),
            p("grains.position_jitter"),
            p("grains.pitch_spread"),
            self.pitch,
        )
        self.clicks = Clicks(p("glitch.level"), p("glitch.click_rate_hz"))
        self.stutter = Stutter(drone + self.grains.output, p("glitch.stutter"))
        bits, rate = p("glitch.crush_bits"), p("glitch.downsample")
        self.crushed_grains = Crusher(self.grains.output, bits, rate)
        self.crushed_glitch = Crusher(self.clicks.output + self.stutter.output, bits, rate)
        self.noise = NoiseFloor(p("noise.level"), p("noise.cutoff_hz"), self.pink)
        self.digits = DigitVoices(
            digit_frequencies(digits, audio.fundamental_hz),
            [self.params[name] for name in VECTOR_TARGETS["sound.digits.voices"]],
            p("digits.level"),
            self.pitch,
            channels,
            space.digits,
        )
        self.contrast = digits.contrast
        self.voice_names = VECTOR_TARGETS["sound.digits.voices"]
        self.voice_index = {name: index for index, name in enumerate(self.voice_names)}
        self.voice_targets = np.array([SOUND_PARAMETERS[name].default for name in self.voice_names])
        self.placements = [
            Placement([drone], channels, space.drone),
            Placement([self.crushed_grains.output], channels, space.grains),
            Placement([self.crushed_glitch.output], channels, space.glitch),
            Placement([self.noise.output], channels, space.noise),
            self.digits.placement,
        ]
        # One stream per speaker, or .out() would wrap extra streams onto channels and sum them.
        outputs = [placement.output for placement in self.placements]
        assert all(len(output) == channels for output in outputs), [len(output) for output in outputs]
        mix = sum(outputs[1:], outputs[0])
        self.drive = pyo.Disto(mix, drive=p("overdrive.drive"), slope=0.7)
        self.master = Master(self.drive, p("master.gain"), audio)
        self.master.output.out()

    def set(self, values: dict[str, float]) -> None:
        """New parameter values (clamped to each parameter's range); they glide over 50 ms.

        The digit voices' levels go through [digits] contrast together: each depends on the loudest.
        """
        voices_moved = False
        for name, value in values.items():
            spec = SOUND_PARAMETERS.get(name)
            if spec is None:
                continue
            value = min(spec.high, max(spec.low, float(value)))
            if name in self.voice_index:
                self.voice_targets[self.voice_index[name]] = value
                voices_moved = True
            else:
                self.setters[name](value)
        if voices_moved:
            for name, level in zip(self.voice_names, contrasted(self.voice_targets, self.contrast), strict=True):
                self.setters[name](float(level))

    def retune(self, ratio: float, seconds: float) -> None:
        """Glide every pitched layer to `ratio` × its configured pitch over `seconds`."""
        self.pitch.time = max(seconds, DEZIPPER_SECONDS)
        self.pitch.value = ratio

    def fade_to(self, level: float, seconds: float) -> None:
        self.master.fade_to(level, seconds)

    def trim(self, gains: tuple[float, ...]) -> None:
        self.master.set_trim(gains)

    def advance(self, seconds: float) -> None:
        """Control-rate motion that pyo does not do by itself: the layers' and the digit voices' rings turning."""
        for placement in self.placements:
            placement.turn(seconds)

    @staticmethod
    def _material(audio: Audio, sample_rate_hz: int, base_dir: Path):
        """(table, from a recording?): the artist's drone when one is configured and readable, else the organ's tone."""
        if audio.drone_recordings_path:
            folder = (base_dir / audio.drone_recordings_path).resolve()
            files = sorted(f for f in folder.glob("*") if f.suffix.lower() in SOUND_FILES) if folder.is_dir() else []
            for file in files:
                table = pyo.SndTable(str(file), chnl=0)
                if table.getSize() > 0:
                    return table, True
            get_logger("sound").error(
                "drone_recordings_unusable",
                path=str(folder),
                fix='put WAV or AIFF files there or set [audio] drone_recordings_path = ""',
                using="the embedded organ",
            )
        material = organ_material(sample_rate_hz, MATERIAL_SECONDS, audio.seed, audio.fundamental_hz)
        return pyo.DataTable(size=material.size, init=material.tolist()), False
