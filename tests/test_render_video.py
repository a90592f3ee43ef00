"""render-video: a recorded run to footage through EGL, and the regimes visibly apart in it."""

from __future__ import annotations

import av
import numpy as np
from PIL import Image

from daemon.recording.reader import Recording
from daemon.visuals.video import render_frames
from tests.conftest import run_cli


def test_render_video_writes_an_mp4_and_a_png_sequence(short_runs, tmp_path):
    run = short_runs["collapsed"]
    args = [
        str(run.folder),
        "--config",
        run.loaded.source,
        "--width",
        "160",
        "--height",
        "90",
        "--fps",
        "10",
        "--seconds",
        "3",
    ]
    result = run_cli("render-video", *args, "--out", str(tmp_path / "run.mp4"))
    assert result.returncode == 0, result.stderr
    assert "samples | data | inside, 480×90 at 10 fps" in result.stdout
    with av.open(str(tmp_path / "run.mp4")) as container:
        decoded = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    assert len(decoded) == 30 and decoded[0].shape == (90, 480, 3)
    assert decoded[0].max() < 40 and decoded[-1].mean() > decoded[0].mean() + 5  # a fade in from black
    result = run_cli("render-video", *args, "--scene", "data", "--out", str(tmp_path / "frames"))
    assert result.returncode == 0, result.stderr
    pngs = sorted((tmp_path / "frames").glob("frame-*.png"))
    assert len(pngs) == 30 and Image.open(pngs[-1]).size == (160, 90)


def test_a_scene_that_does_not_exist_is_refused(short_runs, tmp_path):
    run = short_runs["random"]
    result = run_cli(
        "render-video",
        str(run.folder),
        "--config",
        run.loaded.source,
        "--scene",
        "sampels",
        "--out",
        str(tmp_path / "x.mp4"),
    )
    assert result.returncode == 2 and "samples" in result.stderr and not (tmp_path / "x.mp4").exists()


def test_each_wrong_option_is_named_with_its_fix(tmp_path):
    recording = tmp_path / "run"  # the options are checked before a frame is read: an empty recording will do
    recording.mkdir()
    (recording / "frames.jsonl").write_text("")
    one = run_cli("render-video", str(recording), "--scene", "nosuch", "--out", str(tmp_path / "x.mp4"))
    assert one.returncode == 2 and "--scene nosuch: no scene named 'nosuch'" in one.stderr
    assert "Scenes there: " in one.stderr and "present" not in one.stderr.split("Scenes there: ")[1]
    assert "--width" not in one.stderr and "--fps" not in one.stderr  # only what is wrong
    typo = run_cli("render-video", str(recording), "--scene", "sampels", "--out", str(tmp_path / "x.mp4"))
    assert "Did you mean 'samples'?" in typo.stderr
    several = run_cli(
        "render-video", str(recording), "--scene", "nosuch", "--width", "8", "--fps", "0", "--out", str(tmp_path / "x")
    )
    lines = [line.strip() for line in several.stderr.splitlines() if line.strip()]
    assert several.returncode == 2 and lines[0] == "twos-and-sevens: render-video: 3 problems:", several.stderr
    assert len(lines) == 4 and lines[1].startswith("--scene nosuch: ")  # one line each
    assert lines[2] == "--width 8: give 16 to 8192 pixels." and lines[3] == "--fps 0: give 1 to 240 frames per second."
    assert not (tmp_path / "x.mp4").exists() and not (tmp_path / "x").exists()


def test_the_regimes_look_different(short_runs):
    """The samples scene at each run's end: how much of the source grid survives, and how torn it is.

    Healthy shows its grid nearly as it is (tear follows low confidence); random and underfit
    are torn and noised (correlation with their own grid drops); collapsed burns in (feedback
    follows similarity) and repeats one shape: its tiles correlate with each other far more.
    """
    kept, repetition = {}, {}
    for preset, run in short_runs.items():
        recording = Recording(run.folder).at_pace(12.0)  # not the flat-out times: they vary with the machine
        frames = list(recording.frames())
        grid = next(f.grid for f in reversed(frames) if f.grid is not None)
        end = frames[-1].elapsed_seconds
        *_, (_, _, image) = render_frames(recording, run.loaded, ["samples"], 320, 180, fps=4, seconds=end)
        shown = image.mean(axis=2)[:, 70:250]
        source = np.asarray(Image.fromarray(grid).resize((180, 180), Image.BILINEAR), float)
        kept[preset] = np.corrcoef(shown.ravel(), source.ravel())[0, 1]
        tiles = grid[2:, 2:].reshape(8, 30, 8, 30).transpose(0, 2, 1, 3).reshape(64, -1).astype(float)
        repetition[preset] = np.corrcoef(tiles)[np.triu_indices(64, 1)].mean()
    assert kept["healthy"] > 0.6, kept
    assert max(kept["random"], kept["underfit"], kept["collapsed"]) < kept["healthy"] - 0.2, kept
    assert repetition["collapsed"] > repetition["healthy"] + 0.1, repetition
