"""The scenes through real GL (Mesa llvmpipe over EGL, no X server): they compile, render and respond."""

from __future__ import annotations

import dataclasses
import os
import shutil
import time

import numpy as np
import pytest
from PIL import Image
from structlog.testing import capture_logs

from daemon.config.loader import SHIPPED_SHADERS
from daemon.config.schema import Video
from daemon.messages import StreamFrame
from daemon.metrics import VECTOR_STREAMS
from daemon.recording.reader import Recording
from daemon.targets import VISUAL_PARAMETERS
from daemon.testing import feed
from daemon.visuals.director import DIGIT_SMOOTHING_SECONDS, VisualDirector
from daemon.visuals.headless import HeadlessCanvas
from daemon.visuals.shaders import ShaderLibrary

WIDTH, HEIGHT = 320, 180
SCENES = ["samples", "data", "inside", "passthrough", "test_pattern"]
CALM = {
    "visual.samples.tear": 0.0,
    "visual.samples.rgb_split": 0.0,
    "visual.samples.scanlines": 0.0,
    "visual.samples.smear": 0.0,
    "visual.samples.feedback": 0.0,
    "visual.samples.noise": 0.0,
}


@pytest.fixture(scope="module")
def canvas():
    canvas = HeadlessCanvas(SHIPPED_SHADERS, WIDTH, HEIGHT)
    yield canvas
    canvas.release()


def director_with(frames=(), **values) -> VisualDirector:
    """A director without mappings (values stay where the test puts them), faded fully in."""
    director = VisualDirector([], Video())
    feed(director, frames)
    director.fade(1.0, 0.0)
    director.tick(0.1)
    director.values.update(values)
    return director


def recorded(short_runs, preset: str) -> list:
    return list(Recording(short_runs[preset].folder).frames())


def entropy_bits(image: np.ndarray) -> float:
    counts = np.bincount(image.mean(axis=2).astype(np.uint8).ravel(), minlength=256)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum())


def test_every_shipped_scene_compiles_and_draws(canvas, short_runs):
    director = director_with(recorded(short_runs, "healthy"))
    for scene in SCENES:
        image = canvas.draw(scene, director)
        assert scene in canvas.library.compiled, canvas.library.errors.get(scene)
        assert image.shape == (HEIGHT, WIDTH, 3) and image.max() > 50, scene


def test_the_sample_grid_visibly_appears(canvas, short_runs):
    frames = recorded(short_runs, "healthy")
    grid = next(f.grid for f in reversed(frames) if f.grid is not None)
    director = director_with(frames, **CALM)
    director.digits[:] = 0.0  # the digit columns beside the grid: their own test below
    image = canvas.draw("samples", director).mean(axis=2)
    # The grid is a square as tall as the screen, centred: compare it with the source, resized.
    left = (WIDTH - HEIGHT) // 2
    shown = image[:, left : left + HEIGHT]
    source = np.asarray(Image.fromarray(grid).resize((HEIGHT, HEIGHT), Image.BILINEAR), float)
    correlation = np.corrcoef(shown.ravel(), source.ravel())[0, 1]
    assert correlation > 0.9, correlation
    assert image[:, : left - 2].max() < 10  # black beside it


def test_tear_and_noise_raise_the_image_entropy(canvas, short_runs):
    frames = recorded(short_runs, "healthy")
    calm = canvas.draw("samples", director_with(frames, **CALM))
    torn = canvas.draw(
        "samples", director_with(frames, **{**CALM, "visual.samples.tear": 1.0, "visual.samples.noise": 1.0})
    )
    assert entropy_bits(torn) > entropy_bits(calm) + 1.0, (entropy_bits(torn), entropy_bits(calm))


def test_feature_maps_drive_the_inside_scene(canvas, short_runs):
    early = next(f for f in recorded(short_runs, "healthy") if f.insides is not None)
    late = [f for f in recorded(short_runs, "healthy") if f.insides is not None][-1]
    first = canvas.draw("inside", director_with([early])).astype(float)
    second = canvas.draw("inside", director_with([late])).astype(float)
    assert np.abs(first - second).mean() > 5


def test_the_data_lanes_follow_the_streams(canvas, short_runs):
    frames = recorded(short_runs, "random")
    director = director_with(frames[:10], **{"visual.data.flicker": 0.0})
    before = canvas.draw("data", director).astype(float)
    feed(director, frames[10:])
    after = canvas.draw("data", director).astype(float)
    numerals = slice(0, int(WIDTH * 0.14))
    assert np.abs(before[:, numerals] - after[:, numerals]).mean() > 1  # the values changed
    lanes = director.inputs.lanes
    assert lanes.shape == (len(director.inputs.names), Video().history_steps + 1)
    assert lanes[:, :-1].min() >= 0 and lanes[:, :-1].max() <= 1


def test_blackout_is_black_and_fades_are_gradual(canvas, short_runs):
    director = director_with(recorded(short_runs, "random"))
    assert canvas.draw("samples", director).max() > 100
    director.fade(0.0, 0.0)  # at once
    director.tick(0.0)
    assert canvas.draw("samples", director).max() == 0
    director.fade(1.0, 2.0)
    director.tick(1.0)
    assert director.brightness == pytest.approx(0.5)


def test_a_crossfade_blends_one_runs_grid_into_the_next(canvas, short_runs):
    healthy, random = recorded(short_runs, "healthy"), recorded(short_runs, "random")
    director = director_with(healthy)
    old = canvas.draw("passthrough", director).astype(float)
    director.crossfade(4.0)
    feed(director, random)
    director.tick(0.01)
    assert np.abs(canvas.draw("passthrough", director).astype(float) - old).mean() < 2  # no jump to the new grid
    director.tick(2.0)
    halfway = canvas.draw("passthrough", director).astype(float)
    director.tick(2.0)
    new = canvas.draw("passthrough", director).astype(float)
    assert np.abs(old - new).mean() > 20  # two different pictures
    assert np.abs(halfway - (old + new) / 2).mean() < 3  # halfway is half of each
    feed(director, healthy[-1:])  # after the crossfade, new grids show at once again
    assert np.abs(canvas.draw("passthrough", director).astype(float) - old).mean() < 2


def test_crop_and_rotation(canvas, short_runs):
    canvas_square = HeadlessCanvas(SHIPPED_SHADERS, 96, 96)
    try:
        director = director_with(recorded(short_runs, "healthy"))
        upright = canvas_square.draw("passthrough", director).astype(float)
        turned = canvas_square.draw("passthrough", director, rotation_degrees=90).astype(float)
        assert np.abs(turned - np.rot90(upright, k=-1)).mean() < 2  # clockwise
        half = canvas_square.draw("passthrough", director, crop=(0.0, 0.0, 0.5, 1.0)).astype(float)
        stretched = np.repeat(upright[:, :48], 2, axis=1)
        assert np.abs(half - stretched).mean() < 12
    finally:
        canvas_square.release()


SPLIT_LINE = "float split = rgb_split * 0.02 * (resolution.x / resolution.y) / zoom;"  # in the pre-pass


def test_a_broken_shader_keeps_the_last_good_program(tmp_path, canvas, short_runs):
    shutil.copy(SHIPPED_SHADERS / "samples.frag", tmp_path / "samples.frag")
    library = ShaderLibrary(canvas.ctx, tmp_path)
    good, _ = library.program("samples")
    broken = (tmp_path / "samples.frag").read_text().replace(SPLIT_LINE, "float split = ;")
    (tmp_path / "samples.frag").write_text(broken)
    os.utime(tmp_path / "samples.frag", ns=(time.time_ns(), time.time_ns() + 1_000_000))
    with capture_logs() as logs:
        assert library.reload_changed() == []
    assert library.program("samples")[0] is good
    error = next(e for e in logs if e["event"] == "shader_error")
    # The error is in the pre-pass's part: compiled with PREPASS defined, its lines are still the file's.
    expected_line = broken.splitlines().index("    float split = ;") + 1
    assert error["file"] == str(tmp_path / "samples.frag") and error["line"] == expected_line, error
    assert library.reload_changed() == []  # the same broken file is not recompiled every poll
    (tmp_path / "samples.frag").write_text(broken.replace("float split = ;", "float split = rgb_split * 0.03;"))
    os.utime(tmp_path / "samples.frag", ns=(time.time_ns(), time.time_ns() + 2_000_000))
    assert library.reload_changed() == ["samples"]
    assert library.program("samples")[0] is not good
    library.release()


# The samples scene's RGB split as it was drawn before the pre-pass: three fetches of the grid per pixel.
THREE_FETCH_SPLIT = """
#version 330 core
uniform sampler2D samples;
uniform vec2 resolution;
uniform float rgb_split;
uniform float smear;
uniform float zoom;
in vec2 uv;
out vec4 colour;
float grid(vec2 p) {
    vec2 q = (p - 0.5) * vec2(resolution.x / resolution.y, 1.0) / zoom + 0.5;
    vec2 ink = texture(samples, vec2(q.x, 1.0 - q.y)).rg;
    return mix(ink.r, ink.g, smear);
}
void main() {
    float split = rgb_split * 0.02;
    colour = vec4(grid(uv + vec2(split, 0.0)), grid(uv), grid(uv - vec2(split, 0.0)), 1.0);
}
"""


@pytest.mark.parametrize(
    ("split", "smear", "zoom"), [(0.1, 0.2, 1.0), (1.0, 0.6, 1.0), (0.4, 0.0, 0.5), (0.3, 0.5, 3.0)]
)
def test_the_pre_pass_splits_the_grid_as_three_fetches_did(tmp_path, short_runs, split, smear, zoom):
    """Red and blue pulled apart once per grid texel look as when every pixel fetched the grid three times,
    beyond the grid's edges too."""
    (tmp_path / "samples.frag").write_text(THREE_FETCH_SPLIT)
    values = {**CALM, "visual.samples.rgb_split": split, "visual.samples.smear": smear, "visual.samples.zoom": zoom}
    director = director_with(recorded(short_runs, "healthy"), **values)
    director.digits[:] = 0.0
    images = []
    for folder in (tmp_path, SHIPPED_SHADERS):
        canvas = HeadlessCanvas(folder, 960, 540)
        try:
            images.append(canvas.draw("samples", director).astype(float))
        finally:
            canvas.release()
    reference, drawn = images
    assert reference.max() > 200
    difference = np.abs(reference - drawn)
    assert difference.mean() < 1.0 and np.percentile(difference, 99.9) < 40, (difference.mean(), difference.max())


PREPASS_SCENE = """
#version 330 core
uniform sampler2D inside;
uniform sampler2D prepass;
uniform ivec2 prepass_margin = ivec2(3, 1);
uniform float digits[10];
in vec2 uv;
out vec4 colour;
#ifdef PREPASS
void main() { colour = vec4(0.2, 0.6, digits[2], 1.0); }
#else
void main() { colour = vec4(texture(prepass, uv).rgb * step(0.0, texture(inside, uv).r), 1.0); }
#endif
"""


def test_a_scene_file_with_a_pre_pass(tmp_path):
    """The `#ifdef PREPASS` part is drawn first, at the size of the texture it reads and its margin;
    the scene reads it as `prepass`. A float array the shader reads only in part is set all the same."""
    reads_inside = PREPASS_SCENE.replace("digits[2], 1.0)", "digits[2] + min(texture(inside, uv).r, 0.0), 1.0)")
    (tmp_path / "two.frag").write_text(reads_inside)
    (tmp_path / "one.frag").write_text(PREPASS_SCENE)
    canvas = HeadlessCanvas(tmp_path, 64, 36)
    try:
        director = director_with(frames=())
        director.digits[:] = np.linspace(0.0, 0.9, 10)
        for scene in ("one", "two"):
            image = canvas.draw(scene, director)
            assert scene in canvas.library.compiled, canvas.library.errors.get(scene)
            assert image[18, 32].tolist() == pytest.approx([51, 153, 51], abs=1), scene  # digits[2] = 0.2
        inside = canvas.textures.textures["inside"].size
        assert canvas.renderers["two"].prepass_target[0].size == (inside[0] + 6, inside[1] + 2)
        assert canvas.renderers["one"].prepass_target[0].size == (64 + 6, 36 + 2)  # it reads no input: the scene's size
    finally:
        canvas.release()


def test_visual_targets_join_the_mapping_registry():
    from daemon.config import parse

    config = parse('[[mapping]]\nsource = "similarity"\ntarget = "visual.samples.feedback"\n')
    assert config.mapping[0].target in VISUAL_PARAMETERS


def test_the_test_patterns_label_fits_above_the_bars_at_1080p():
    """projector-test's label at 1920×1080: wholly on screen, and the colour bars below it untouched."""
    from daemon.visuals.label import label_picture
    from daemon.visuals.scene import SceneRenderer

    width, height = 1920, 1080
    canvas = HeadlessCanvas(SHIPPED_SHADERS, width, height)
    try:
        # The lines ProjectorWall writes for a projector (daemon/visuals/projectors.py).
        picture = label_picture(["projector 0", "monitor DUMMY0 [0]", f"{width} x {height}", "scene samples"])
        label = canvas.ctx.texture((picture.shape[1], picture.shape[0]), 1, picture.tobytes(), alignment=1)
        renderer = SceneRenderer(canvas.ctx, canvas.library, "test_pattern", (width, height))
        drawn = renderer.render({**canvas.textures.textures, "label": label}, {}, 0.0)
        canvas.presenter.present(drawn, canvas.output, (0.0, 0.0, 1.0, 1.0), 0, 1.0)
        image = np.frombuffer(canvas.output.read(components=3, alignment=1), np.uint8).reshape(height, width, 3)[::-1]
        renderer.release()
        label.release()
    finally:
        canvas.release()
    # The bars (uv.y 0.3-0.45: rows 594-756 from the top), every row of them, in their eight colours.
    expected = [(255, 255, 255), (0, 0, 255), (0, 255, 0), (0, 255, 255), (255, 0, 0), (255, 0, 255), (255, 255, 0)]
    centres = [int((bar + 0.5) * width / 8) for bar in range(7)]  # the eighth is black, like the label's ground
    for row in range(600, 752, 8):
        assert [tuple(int(c) for c in image[row, x]) for x in centres] == expected, f"bars covered at row {row}"
    # Above the label the grid shows (a vertical line at x = 960): the label does not run off the top.
    assert tuple(image[20, 960]) == (153, 153, 153)
    # And the label is there, whole: its white text lies between the top and the bars.
    text_rows = np.flatnonzero((image[:, 600:1320] == 255).all(axis=2).any(axis=1))
    assert text_rows.size and text_rows.min() > 30 and text_rows.max() < 590, (text_rows.min(), text_rows.max())


def histogram_frame(run_id: str, shares) -> StreamFrame:
    return StreamFrame(run_id, "healthy", 1, 10, 0.0, 0.0, {}, tuple(float(v) for v in shares))


def digit_column_heights(image: np.ndarray) -> list[float]:
    """The lit fraction of each digit's column in the samples scene's margins (0–4 left, 5–9 right)."""
    grey = image.mean(axis=2)
    margin = (WIDTH - HEIGHT) // 2
    heights = []
    for digit in range(10):
        side = 0 if digit < 5 else WIDTH - margin
        centre = side + int((digit % 5 + 0.5) * margin / 5)
        heights.append(float((grey[:, centre] > 40).mean()))
    return heights


@pytest.fixture
def fresh_canvas():
    """A canvas of its own: nothing of the grids earlier tests uploaded."""
    canvas = HeadlessCanvas(SHIPPED_SHADERS, WIDTH, HEIGHT)
    yield canvas
    canvas.release()


@pytest.mark.parametrize("shape", ["collapsed", "healthy", "none"])
def test_the_samples_scene_shows_the_digits_beside_the_grid(fresh_canvas, shape):
    draw = np.random.default_rng(3)
    if shape == "collapsed":
        shares = np.zeros(10)
        shares[[2, 7]] = [0.3, 0.7]
    elif shape == "healthy":
        shares = draw.dirichlet(np.full(10, 20.0))
    else:
        shares = np.zeros(10)
    director = director_with(**CALM)
    director.on_frame(histogram_frame("run-a", shares))
    director.tick(30.0)  # long past the smoothing
    director.values.update(CALM)  # tick() let the values follow their (absent) mappings again
    assert director.uniforms("samples")["digits"] == pytest.approx(tuple(shares), abs=1e-6)
    heights = digit_column_heights(fresh_canvas.draw("samples", director))
    assert heights == pytest.approx(np.minimum(1.0, 2 * shares), abs=0.03), (shares, heights)


def test_the_digits_glide_to_each_histogram_and_a_new_run_starts_from_none():
    director = director_with()
    one = np.eye(10)[4]
    director.on_frame(histogram_frame("run-a", one))
    director.tick(DIGIT_SMOOTHING_SECONDS)
    assert director.digits[4] == pytest.approx(1 - np.exp(-1), abs=0.02)  # one time constant
    director.tick(20.0)
    director.on_frame(histogram_frame("run-b", ()))  # the next run, before its classifier ran
    director.tick(20.0)
    assert director.digits.max() < 1e-3


def test_the_data_scene_has_ten_lanes_of_digit_shares():
    director = director_with()
    shares = np.linspace(0.0, 0.18, 10)
    frame = histogram_frame("run-a", shares)
    streams = dict(zip(VECTOR_STREAMS["class_histogram"], shares, strict=True))
    for value in (0.0, 0.5):  # another stream moves: it is stretched to its range, the shares are not
        director.on_frame(dataclasses.replace(frame, streams={**streams, "pixel_entropy": value}))
    lanes = director.inputs.lanes
    rows = [director.inputs.names.index(name) for name in VECTOR_STREAMS["class_histogram"]]
    assert lanes[rows, -2] == pytest.approx(shares)
    assert lanes[director.inputs.names.index("pixel_entropy"), -2] == 1.0
