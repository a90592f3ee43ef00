"""installation.toml: the shipped file, and every kind of mistake a technician can make."""

from __future__ import annotations

import re
import tomllib

import pytest
from pydantic import BaseModel

from daemon.config import ConfigInvalid, InstallationConfig, load, parse
from daemon.config.schema import DEFAULT_MAPPING
from daemon.mapping import element_mappings
from daemon.targets import mapping_targets
from tests.conftest import REPO, run_cli

SHIPPED = REPO / "installation.toml"


def errors_of(text: str) -> list:
    with pytest.raises(ConfigInvalid) as caught:
        parse(text, "installation.toml")
    return caught.value.errors


def test_shipped_file_is_valid_and_equals_the_embedded_defaults():
    shipped = load(SHIPPED).config
    assert shipped == InstallationConfig()


def test_shipped_file_has_every_key_with_a_comment_above_it():
    text = SHIPPED.read_text()
    raw = tomllib.loads(text)
    lines = text.splitlines()

    def walk(model, table: dict, path: str):
        for name in type(model).model_fields:
            assert name in table, f"{path}.{name} is missing from installation.toml"
            value = getattr(model, name)
            if isinstance(value, BaseModel):
                walk(value, table[name], f"{path}.{name}")
            elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
                for index, entry in enumerate(value):
                    walk(entry, table[name][index], f"{path}.{name}[{index}]")
            elif isinstance(value, dict):
                for key, preset in value.items():
                    walk(preset, table[name][key], f"{path}.{name}.{key}")

    walk(load(SHIPPED).config, raw, "")
    seen_arrays: dict[str, int] = {}
    table = ""
    for number, line in enumerate(lines):
        if line.startswith("["):
            table = line.strip()
            seen_arrays[table] = seen_arrays.get(table, 0) + table.startswith("[[")
        # The first entry of an array of tables ([[mapping]], [[video.projector]]) explains every key;
        # later [[mapping]] tables carry one comment saying why.
        if re.match(r"^[a-z_]+ = ", line) and seen_arrays.get(table, 0) <= 1:
            assert lines[number - 1].startswith("#"), f"line {number + 1} ({line!r}) has no comment above it"
        if line.startswith("[[mapping]]"):
            assert lines[number - 1].startswith("#"), f"mapping at line {number + 1} has no comment"


def test_typo_gets_did_you_mean_with_file_key_and_line():
    [error] = errors_of('[compute]\ndevice = "cpu"\ncpu_thread = 2\n')
    assert error.key == "compute.cpu_thread"
    assert "Did you mean 'cpu_threads'?" in error.message
    assert error.line == 3
    assert str(error).startswith("installation.toml:3: compute.cpu_thread:")


def test_unknown_section_gets_did_you_mean():
    [error] = errors_of('[loging]\nlevel = "info"\n')
    assert error.key == "loging" and "Did you mean 'logging'?" in error.message and error.line == 1


def test_wrong_type_says_what_was_expected_and_the_range():
    [error] = errors_of('[compute]\ncpu_threads = "two"\n')
    assert error.key == "compute.cpu_threads"
    assert "expected a whole number" in error.message and "0 to 256" in error.message
    assert error.line == 2


def test_out_of_range_value_says_the_allowed_range():
    [error] = errors_of("[runs.healthy]\nsteps = 100\nlr_generator = 3.0\n")
    assert error.key == "runs.healthy.lr_generator"
    assert "3.0 is out of range; allowed: 0.0 to 1.0" in error.message
    assert error.line == 3


def test_missing_required_preset_field_names_the_table():
    [error] = errors_of("[runs.mine]\nbatch_size = 32\n[cycle]\npresets = ['mine']\n")
    assert error.key == "runs.mine.steps"
    assert "required key is missing" in error.message and "[runs.mine]" in error.message
    assert error.line == 1


def test_malformed_toml_gives_the_line():
    [error] = errors_of('[data]\nmnist_path = "unterminated\n')
    assert "not valid TOML" in error.message and error.line == 2


def test_every_error_is_reported_at_once():
    text = (
        "[installation]\nnme = 'x'\n"
        "[compute]\ndevice = 'gpu'\ncpu_threads = -1\n"
        "[runs.mine]\nsteps = 'many'\n"
        "[cycle]\npresets = ['mine', 'helthy']\n"
    )
    errors = errors_of(text)
    keys = [e.key for e in errors]
    assert keys == ["installation.nme", "compute.device", "compute.cpu_threads", "runs.mine.steps", "cycle.presets[1]"]
    assert [e.line for e in errors] == [2, 4, 5, 7, 9]


def test_cycle_naming_an_unknown_preset_suggests_one():
    [error] = errors_of("[cycle]\npresets = ['healthy', 'colapsed']\n")
    assert error.key == "cycle.presets[1]" and "Did you mean 'collapsed'?" in error.message


def test_check_config_cli_valid_file_prints_one_line_and_exits_zero():
    result = run_cli("check-config", str(SHIPPED))
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.strip().splitlines()) == 1 and "ok" in result.stdout


def test_check_config_cli_lists_every_error_without_a_traceback(tmp_path):
    bad = tmp_path / "installation.toml"
    bad.write_text("[compute]\ndevice = 'gpu'\ncpu_thread = 1\n[data]\nkeep_recordings_count = 0\n")
    result = run_cli("check-config", str(bad))
    assert result.returncode == 2
    assert "3 errors" in result.stderr
    assert f"{bad}:2: compute.device" in result.stderr
    assert "Did you mean 'cpu_threads'?" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_unreadable_and_non_utf8_files_are_config_errors(tmp_path):
    binary = tmp_path / "installation.toml"
    binary.write_bytes(b"\xff\xfe[data]")
    result = run_cli("check-config", str(binary))
    assert result.returncode == 2 and "UTF-8" in result.stderr and "Traceback" not in result.stderr
    missing = run_cli("check-config", str(tmp_path / "nope.toml"))
    assert missing.returncode == 2 and "cannot read the file" in missing.stderr


def test_mapping_mistakes_name_the_stream_or_parameter_meant():
    errors = errors_of(
        '[[mapping]]\nsource = "sharpnes"\ntarget = "sound.drone.levl"\n'
        '[[mapping]]\nsource = "rms"\ntarget = "sound.noise.level"\n'
        '[[mapping]]\nsource = "rms"\ntarget = "sound.noise.level"\ncurve = "cubic"\n'
    )
    messages = {e.key: (e.line, e.message) for e in errors}
    assert "Did you mean 'sharpness'?" in messages["mapping[0].source"][1]
    assert "Did you mean 'sound.drone.level'?" in messages["mapping[0].target"][1]
    assert messages["mapping[2].target"][0] == 7 and "already driven by mapping [1]" in messages["mapping[2].target"][1]
    assert "'cubic' is not allowed" in messages["mapping[2].curve"][1]


TARGETS = mapping_targets()


def _one_mapping(target: str, output_min: float, output_max: float) -> str:
    # Two tables before it, so the error must name mapping[2] and the key's own line, not the first header.
    fits_defaults = [name for name, p in sorted(TARGETS.items()) if name != target and p.low <= 0 and p.high >= 1]
    first, second = fits_defaults[:2]
    return (
        f'[[mapping]]\nsource = "rms"\ntarget = "{first}"\n'
        f'[[mapping]]\nsource = "rms"\ntarget = "{second}"\n'
        f'[[mapping]]\nsource = "similarity"\ntarget = "{target}"\n'
        f"output_min = {output_min!r}\noutput_max = {output_max!r}\n"
    )


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_every_targets_output_range_is_checked_against_its_own(target):
    parameter = TARGETS[target]
    low, high, span = parameter.low, parameter.high, parameter.high - parameter.low
    allowed = f"allowed {low:g} to {high:g} ({parameter.unit})"
    # Inside the range (both ends, and a reversed range for an inverted feel) is fine.
    for output_min, output_max in ((low, high), (high, low), (low + span / 4, high - span / 4)):
        config = parse(_one_mapping(target, output_min, output_max))
        assert (config.mapping[2].output_min, config.mapping[2].output_max) == (output_min, output_max)
    # Above high: today it would be clamped without a word; now it is a config error that says the range.
    [above] = errors_of(_one_mapping(target, low, high + max(span, 1.0)))
    assert above.key == "mapping[2].output_max" and above.line == 11
    assert target in above.message and allowed in above.message and "Fix:" in above.message
    assert str(above).startswith("installation.toml:11: mapping[2].output_max: ")
    # Below low, likewise, on output_min's line.
    [below] = errors_of(_one_mapping(target, low - max(span, 1.0), high))
    assert below.key == "mapping[2].output_min" and below.line == 10
    assert target in below.message and allowed in below.message and "Fix:" in below.message


def test_a_wrongly_typed_output_is_left_to_the_schema():
    errors = errors_of('[[mapping]]\nsource = "rms"\ntarget = "sound.drone.level"\noutput_max = "loud"\n')
    assert [e.key for e in errors] == ["mapping[0].output_max"]


def test_the_embedded_default_mapping_keeps_inside_every_targets_range():
    for index, entry in enumerate(element_mappings(DEFAULT_MAPPING)):
        parameter = TARGETS[entry.target]
        for key in ("output_min", "output_max"):
            value = getattr(entry, key)
            assert parameter.low <= value <= parameter.high, (index, entry.target, key, value)


def test_projector_mistakes_name_the_scene_meant_and_the_crop_allowed(tmp_path):
    errors = errors_of(
        '[[video.projector]]\nmonitor = "0"\nscene = "sample"\n'
        '[[video.projector]]\nmonitor = "HDMI"\nscene = "data"\ncrop = [0.5, 0.0, 0.8, 1.0]\nrotation_degrees = 45\n'
        '[[mapping]]\nsource = "rms"\ntarget = "visual.samples.tare"\n'
    )
    messages = {e.key: (e.line, e.message) for e in errors}
    assert messages["video.projector[0].scene"][0] == 1
    assert "Did you mean 'samples'?" in messages["video.projector[0].scene"][1]
    assert "must lie inside [0, 1]" in messages["video.projector[1].crop"][1]
    assert "video.projector[1].rotation_degrees" in messages
    assert "Did you mean 'visual.samples.tear'?" in messages["mapping[0].target"][1]
    # An artist's own shader folder: its scenes are the ones allowed; a missing folder says so.
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "rain.frag").write_text("#version 330 core\n")
    config = tmp_path / "installation.toml"
    config.write_text('[video]\nshaders_path = "mine"\n[[video.projector]]\nscene = "rain"\n')
    assert load(config).shaders_path == tmp_path / "mine"
    config.write_text('[video]\nshaders_path = "theirs"\n')
    with pytest.raises(ConfigInvalid, match=r"no folder .*theirs"):
        load(config)


def test_http_off_loopback_needs_a_token():
    [error] = errors_of('[http]\naddress = "0.0.0.0"\n')
    assert error.key == "http" and "set a token" in error.message
    assert parse('[http]\naddress = "0.0.0.0"\ntoken = "s3cret"\n').http.token == "s3cret"


def test_shuffle_weights_name_presets():
    [error] = errors_of('[cycle]\norder = "shuffle"\nweights = { helthy = 2.0 }\n')
    assert error.key == "cycle.weights.helthy" and "Did you mean 'healthy'?" in error.message


def test_osc_targets_and_prefix_say_the_form_expected():
    target, prefix = errors_of('[osc]\ntargets = ["127.0.0.1:9000", "localhost"]\nprefix = "twos and sevens"\n')
    assert target.key == "osc.targets" and "'localhost' is not \"host:port\"" in target.message and target.line == 2
    assert prefix.key == "osc.prefix" and 'is not of the form "/name"' in prefix.message
    [port] = errors_of('[osc]\ntargets = ["studio.local:70000"]\n')
    assert "port 1–65535" in port.message
    assert (
        parse('[osc]\nenabled = true\ntargets = ["[::1]:9000", "lights.local:7000"]\n').osc.targets[1]
        == "lights.local:7000"
    )


def test_opening_hours_in_the_wrong_form_show_the_right_one():
    [error] = errors_of('[hours]\nmonday = "9-17"\n')
    assert error.key == "hours.monday" and '"HH:MM-HH:MM"' in error.message and "'9-17'" in error.message


def test_a_relative_mnist_path_in_the_environment_means_the_working_directory(tmp_path, monkeypatch):
    from daemon.config.loader import MNIST_ENV

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    config = elsewhere / "x.toml"
    config.write_text('[data]\nmnist_path = "var/mnist"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(MNIST_ENV, "shared/data/mnist")
    assert load(config).mnist_path == tmp_path / "shared" / "data" / "mnist"  # as the shell user meant it
    monkeypatch.delenv(MNIST_ENV)
    assert load(config).mnist_path == elsewhere / "var" / "mnist"  # the file's own paths: its folder
