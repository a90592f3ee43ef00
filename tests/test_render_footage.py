"""render: one command writes a run's speakers, stereo and MP4, with a click heard where its flash is seen."""

from __future__ import annotations

import json
import logging
import math
import random
import time
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile
import structlog

from daemon.cli import main
from daemon.metrics import MetricFrame
from tests.conftest import run_cli

FPS, WIDTH, HEIGHT, CHANNELS = 25, 160, 90, 4
STEPS, STEP_SECONDS = 30, 0.1
# The pulse's first frame: off the video's frame grid (2.04 s) and the sound's block grid (2.048 s),
# so each render has to round it to its own next step, as it does with any recorded frame.
FLASH_SECONDS, FLASH_STEP, PULSE_STEPS = 2.03, 21, 5

# White where the image is lit: what the image shows is then the mapped visual.master.brightness alone.
FLASH_SCENE = "#version 330 core\nin vec2 uv;\nout vec4 colour;\nvoid main() { colour = vec4(1.0); }\n"

# One stream, d_accuracy_real (0, then 1 for PULSE_STEPS steps, then 0), opens the whole sound (the master,
# and the noise floor made loud and bright: a broadband burst) and the whole picture, with no smoothing.
CONFIG = """
[data]
recordings_path = "{folder}"
[audio]
run_fade_in_seconds = 0.5
run_fade_out_seconds = 0.5
[video]
shaders_path = "{folder}/shaders"
fade_seconds = 0.5
[[video.projector]]
monitor = "0"
scene = "flash"
[[mapping]]
source = "d_accuracy_real"
target = "sound.master.gain"
smoothing_seconds = 0
[[mapping]]
source = "d_accuracy_real"
target = "sound.noise.level"
smoothing_seconds = 0
[[mapping]]
source = "d_accuracy_real"
target = "sound.noise.cutoff_hz"
output_min = 18000
output_max = 18000
smoothing_seconds = 0
[[mapping]]
source = "d_accuracy_real"
target = "visual.master.brightness"
smoothing_seconds = 0
"""


def write_pulse_recording(folder: Path) -> Path:
    """A three-second run in the recorder's format whose d_accuracy_real is 1 from FLASH_SECONDS for half a second."""
    recording = folder / "run-pulse"
    recording.mkdir(parents=True)
    with (recording / "frames.jsonl").open("w") as out:
        for step in range(1, STEPS + 1):
            seconds = FLASH_SECONDS + (step - FLASH_STEP) * STEP_SECONDS
            pulse = 1.0 if FLASH_STEP <= step < FLASH_STEP + PULSE_STEPS else 0.0
            frame = MetricFrame(
                "run-pulse", "healthy", step, STEPS, 1.7e9 + seconds, seconds,
                loss_generator=1.0, loss_discriminator=1.3, d_accuracy_real=pulse, d_accuracy_fake=0.5,
                grad_norm_generator=1.0, grad_norm_discriminator=1.0,
                update_ratio_generator=1e-3, update_ratio_discriminator=1e-3,
            )  # fmt: skip
            out.write(json.dumps(frame.to_record()) + "\n")
    return recording


@pytest.fixture(scope="module")
def installation(tmp_path_factory) -> tuple[Path, Path]:
    """(installation.toml, the pulse recording) in a temp folder with its flash scene."""
    folder = tmp_path_factory.mktemp("festival")
    (folder / "shaders").mkdir()
    (folder / "shaders" / "flash.frag").write_text(FLASH_SCENE)
    config = folder / "installation.toml"
    config.write_text(CONFIG.format(folder=folder))
    return config, write_pulse_recording(folder)


@pytest.fixture(scope="module")
def rendered(installation, tmp_path_factory) -> tuple[Path, float]:
    """The real `render` command, run once: (its output folder, its wall seconds)."""
    config, recording = installation
    out = tmp_path_factory.mktemp("rendered") / "festival"
    args = ["--channels", str(CHANNELS), "--scenes", "flash", "--width", str(WIDTH), "--height", str(HEIGHT)]
    started = time.monotonic()
    result = run_cli("render", str(recording), "--config", str(config), "--out", str(out), *args, "--fps", str(FPS))
    wall = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert f"sound-{CHANNELS}ch.wav ({CHANNELS} channels)" in result.stdout and "stereo AAC" in result.stdout
    return out, wall


def decoded(mp4: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(each video frame's time in seconds, its mean brightness 0–255, the audio (channels, samples), its rate)."""
    with av.open(str(mp4)) as container:
        pictures = [(f.time, f.to_ndarray(format="rgb24").mean()) for f in container.decode(video=0)]
    with av.open(str(mp4)) as container:
        chunks = list(container.decode(audio=0))
    assert chunks[0].time == pytest.approx(0.0, abs=1e-6)  # the encoder's priming samples are hidden by the file
    times, brightness = (np.array(column) for column in zip(*pictures, strict=True))
    return times, brightness, np.concatenate([c.to_ndarray() for c in chunks], axis=1), chunks[0].sample_rate


def onset_seconds(samples: np.ndarray, rate: int) -> float:
    """When the sound first passes a tenth of its loudest, after its first second (the silence before the click)."""
    level = np.abs(samples).max(axis=0)[rate:]
    return 1.0 + int(np.argmax(level > 0.1 * level.max())) / rate


def test_the_three_files_last_as_long_as_each_other(rendered):
    out, wall = rendered
    assert sorted(p.name for p in out.iterdir()) == ["footage.mp4", f"sound-{CHANNELS}ch.wav", "stereo.wav"]
    speakers, stereo = soundfile.info(str(out / f"sound-{CHANNELS}ch.wav")), soundfile.info(str(out / "stereo.wav"))
    assert (speakers.channels, speakers.subtype, stereo.channels, stereo.subtype) == (CHANNELS, "PCM_24", 2, "PCM_24")
    assert speakers.duration == stereo.duration
    with av.open(str(out / "footage.mp4")) as container:
        video, audio = container.streams.video, container.streams.audio
        assert (len(video), len(audio), video[0].codec_context.name, audio[0].codec_context.name) == (
            1,
            1,
            "h264",
            "aac",
        )
        assert (video[0].width, video[0].height, audio[0].channels) == (WIDTH, HEIGHT, 2)
        lengths = [float(s.duration * s.time_base) for s in (video[0], audio[0])]
    assert lengths == pytest.approx([speakers.duration] * 2, abs=1 / FPS), (lengths, speakers.duration)
    print(f"\n{speakers.duration:.2f} s of footage in {wall:.2f} s: {speakers.duration / wall:.1f}× real time")


def test_the_sound_is_what_render_audio_writes(installation, rendered, tmp_path):
    (config, recording), (out, _) = installation, rendered
    wav, stereo = tmp_path / "alone.wav", tmp_path / "alone-stereo.wav"
    args = ["--config", str(config), "--channels", str(CHANNELS), "--out", str(wav), "--downmix", str(stereo)]
    assert run_cli("render-audio", str(recording), *args).returncode == 0
    assert wav.read_bytes() == (out / f"sound-{CHANNELS}ch.wav").read_bytes()
    assert stereo.read_bytes() == (out / "stereo.wav").read_bytes()


def test_the_click_is_heard_where_the_flash_is_seen(rendered):
    out, _ = rendered
    times, brightness, audio, rate = decoded(out / "footage.mp4")
    flash = float(times[np.argmax(brightness > 128)])
    before = brightness[(times > 1.0) & (times < flash)]
    assert before.max() < 10 and brightness.max() > 240  # black, then a white flash
    click = onset_seconds(audio, rate)
    wav, wav_rate = soundfile.read(str(out / "stereo.wav"), always_2d=True)
    assert onset_seconds(wav.T, wav_rate) == pytest.approx(click, abs=1e-3)  # the MP4's sound is the WAV's, in time
    # Each render meets the pulse at its first step on or after FLASH_SECONDS (a frame, a 21 ms block).
    assert flash == pytest.approx(math.ceil(FLASH_SECONDS * FPS) / FPS)
    assert FLASH_SECONDS <= click <= FLASH_SECONDS + 0.08  # its next block, then the engine's 50 ms dezipper ramp
    print(f"\nclick {click * 1000:.1f} ms, flash {flash * 1000:.1f} ms: {(click - flash) * 1000:+.1f} ms apart")
    assert abs(click - flash) <= 1 / FPS


# Wrong values for each option, as a technician might type them: (option, value).
WRONG = {
    "--scenes": ["flsh", "FLASH", "samples", "flash,nosuch", ",", " ", "", "flash/../x"],
    "--width": ["0", "-1", "15", "8193", "1000000000"],
    "--height": ["0", "-720", "8", "99999"],
    "--fps": ["0", "-25", "0.5", "241", "1e9", "nan", "inf"],
    "--channels": ["0", "-2", "33", "1024"],
}
NOT_NUMBERS = {
    "--width": ["wide", "1e3", "12.5", ""],
    "--height": ["tall", "0x10"],
    "--fps": ["fast", "1/2", "", "-inf"],
}
NOT_NUMBERS["--channels"] = ["eight", "2.0", "八"]
WRONG_PACE = ["0", "-1", "soon", "preset", "86401", "nan"]  # 'preset': the hand-made recording names none
RIGHT = {"--scenes": "flash", "--width": "32", "--height": "18", "--fps": "5", "--channels": "2"}


def wrong_invocation(
    draw: random.Random, config: Path, recording: Path, spare: Path
) -> tuple[list[str], set[str], bool]:
    """(argv, the wrong things, whether every one must be named): one to four wrong things, the rest right or absent.

    The options checked together (scenes, sizes, rate, channels, --out) are each named; argparse stops at a value
    it cannot read, and a wrong recording or --run-seconds is said before the options are looked at. `spare` is a
    fresh folder each time, for paths that must not exist yet (the --out the refusal must not make).
    """
    out, wrong, together = spare / "out", set(), True
    args = {option: value for option, value in RIGHT.items() if draw.random() < 0.5}
    for option in draw.sample(sorted(WRONG), draw.randint(1, 3)):
        args[option] = draw.choice(WRONG[option])
        wrong.add(option)
    if draw.random() < 0.15:  # a value argparse cannot read
        option = draw.choice(sorted(NOT_NUMBERS))
        args[option], together = draw.choice(NOT_NUMBERS[option]), False
        wrong.add(option)
    if draw.random() < 0.15:
        args["--run-seconds"], together = draw.choice(WRONG_PACE), False
        wrong.add("--run-seconds")
    if draw.random() < 0.1:  # a file where the folder should be, or above it
        (spare / "file").write_text("not a folder")
        out = spare / "file" / ("sub" if draw.random() < 0.5 else "")
        wrong.add("--out")
    if draw.random() < 0.1:  # not a recording: an empty folder, a file, nothing at all
        recording, together = draw.choice([spare, config, spare / "missing"]), False
        wrong.add(str(recording))
    argv = ["render", str(recording), "--config", str(config), "--out", str(out)]
    return argv + [part for option, value in args.items() for part in (option, value)], wrong, together


@pytest.fixture
def cli_in_this_process():
    """main() sets the process's logging up as the command would: put the test session's back afterwards."""
    root = logging.getLogger()
    handlers, level, structured = root.handlers[:], root.level, structlog.get_config()
    yield main
    for handler in root.handlers[:]:
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    structlog.configure(**structured)


def test_every_wrong_option_is_named_and_nothing_is_written(installation, cli_in_this_process, tmp_path, capsys):
    """300 generated wrong invocations through the real entry point (in this process: a child each would take
    minutes): each exits non-zero, names what is wrong on stderr, shows no traceback and writes nothing."""
    config, recording = installation
    draw = random.Random("render-options")
    for case in range(300):
        spare = tmp_path / str(case)
        spare.mkdir()
        argv, wrong, together = wrong_invocation(draw, config, recording, spare)
        try:
            code = cli_in_this_process(argv)
        except SystemExit as exit:  # argparse's refusal of a value it cannot read
            code = exit.code
        err = capsys.readouterr().err
        assert code not in (0, None), argv
        assert "Traceback" not in err and any(name in err for name in wrong), (argv, err)
        assert not together or all(name in err for name in wrong), (argv, err)
        assert not (spare / "out").exists(), argv


def test_a_refusal_from_the_command_line_is_one_line_per_problem(installation, tmp_path):
    config, recording = installation
    args = ["render", str(recording), "--config", str(config), "--out", str(tmp_path / "out")]
    typo = run_cli(*args, "--scenes", "flsh")
    assert typo.returncode == 2 and typo.stderr.startswith("twos-and-sevens: --scenes flsh: no scene named 'flsh'")
    assert "Did you mean 'flash'?" in typo.stderr and "Traceback" not in typo.stderr
    several = run_cli(*args, "--width", "0", "--fps", "0", "--channels", "40")
    lines = [line.strip() for line in several.stderr.splitlines()]
    assert several.returncode == 2 and lines == [
        "twos-and-sevens: render: 3 problems:",
        "--channels 40: give 1 to 32 speakers.",
        "--width 0: give 16 to 8192 pixels.",
        "--fps 0: give 1 to 240 frames per second.",
    ], several.stderr
    empty = tmp_path / "empty-run"
    empty.mkdir()
    (empty / "frames.jsonl").write_text("")
    nothing = run_cli("render", str(empty), "--config", str(config), "--out", str(tmp_path / "out"))
    assert nothing.returncode == 3 and "holds no frames" in nothing.stderr and "Traceback" not in nothing.stderr
    assert not (tmp_path / "out").exists()
