"""Loading installation.toml: parse, validate against the schema, report every error at once."""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from daemon.config.errors import ConfigError, ConfigInvalid, did_you_mean, line_of_key
from daemon.config.schema import DEFAULT_PRESETS, Cycle, InstallationConfig
from daemon.targets import VECTOR_TARGETS, Parameter, mapping_targets

__all__ = [
    "LoadedConfig",
    "control_socket_candidates",
    "default_config_path",
    "load",
    "load_running",
    "parse",
    "state_folder",
]

CONFIG_ENV = "TWOS_AND_SEVENS_CONFIG"
MNIST_ENV = "TWOS_AND_SEVENS_MNIST"
RUNNING_CONFIG_ENV = "TWOS_AND_SEVENS_RUNNING_CONFIG"  # set by the supervisor for its children
CONTROL_SOCKET_ENV = "TWOS_AND_SEVENS_CONTROL_SOCKET"  # where the control socket is, for the daemon and the CLI
SHIPPED_SHADERS = Path(__file__).resolve().parents[2] / "shaders"
# The system unit's directories (ConfigurationDirectory=, StateDirectory=, RuntimeDirectory= twos-and-sevens).
SYSTEM_CONFIG_DIR = Path("/etc/twos-and-sevens")
SYSTEM_STATE_DIR = Path("/var/lib/twos-and-sevens")
SYSTEM_RUNTIME_DIR = Path("/run/twos-and-sevens")
SOCKET_NAME = "control.sock"
FALLBACK_SOCKET = "var/control.sock"  # outside a unit, beside the state, as before


def user_config_dir() -> Path:
    """The user unit's ConfigurationDirectory: $XDG_CONFIG_HOME/twos-and-sevens (~/.config/…)."""
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "twos-and-sevens"


def user_state_dir() -> Path:
    """The user unit's StateDirectory: $XDG_STATE_HOME/twos-and-sevens (~/.local/state/…)."""
    return Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "twos-and-sevens"


def state_folder(config_file: Path) -> Path:
    """Where a config's relative paths lead: for the two installed configs, the unit's state directory
    (/etc/twos-and-sevens/ → /var/lib/twos-and-sevens/, ~/.config/twos-and-sevens/ → ~/.local/state/twos-and-sevens/),
    as systemd maps them; for any other file, its own folder (a checkout's installation.toml and its var/)."""
    folder = Path(config_file).resolve().parent
    if folder == SYSTEM_CONFIG_DIR.resolve():
        return SYSTEM_STATE_DIR
    if folder == user_config_dir().resolve():
        return user_state_dir()
    return folder


@dataclass(frozen=True)
class LoadedConfig:
    """A validated config and where it came from; relative paths resolve against `base_dir`."""

    config: InstallationConfig
    source: str
    base_dir: Path
    text: str = ""  # the TOML it was read from ("" for the embedded defaults)

    def path(self, value: str) -> Path:
        return (self.base_dir / Path(value).expanduser()).resolve()

    @property
    def mnist_path(self) -> Path:
        # The environment wins so a machine without the data can point at a copy elsewhere; a relative
        # path there is a shell user's, so it means the working directory, not the config's folder.
        given = os.environ.get(MNIST_ENV)
        return Path(given).expanduser().resolve() if given else self.path(self.config.data.mnist_path)

    @property
    def recordings_path(self) -> Path:
        return self.path(self.config.data.recordings_path)

    @property
    def classifier_path(self) -> Path:
        return self.path(self.config.data.classifier_path)

    @property
    def control_path(self) -> Path:
        """Where the daemon listens: $TWOS_AND_SEVENS_CONTROL_SOCKET, else [control] socket_path, else the unit's
        runtime directory ($RUNTIME_DIRECTORY: /run/twos-and-sevens or $XDG_RUNTIME_DIR/twos-and-sevens), else
        var/control.sock beside the state (a daemon started by hand)."""
        runtime = os.environ.get("RUNTIME_DIRECTORY", "").split(":")[0]
        return self.named_socket() or (Path(runtime) / SOCKET_NAME if runtime else self.path(FALLBACK_SOCKET))

    def named_socket(self) -> Path | None:
        given = os.environ.get(CONTROL_SOCKET_ENV)
        if given:
            return Path(given).expanduser().resolve()
        return self.path(self.config.control.socket_path) if self.config.control.socket_path else None

    @property
    def history_path(self) -> Path:
        return self.path(self.config.data.history_path)

    @property
    def state_path(self) -> Path:
        """The programme's kept state (override, pause, volume trims), beside the run history."""
        return self.history_path.with_name("state.json")

    @property
    def shaders_path(self) -> Path:
        return shaders_folder(self.config.video.shaders_path, self.base_dir)


def shaders_folder(setting: str, base_dir: Path) -> Path:
    """`[video] shaders_path` resolved: relative to the config's folder, or the shipped shaders/."""
    return (base_dir / Path(setting).expanduser()).resolve() if setting else SHIPPED_SHADERS


def control_socket_candidates(loaded: LoadedConfig) -> list[Path]:
    """Where the CLI looks for a daemon, in order: the one socket named by $TWOS_AND_SEVENS_CONTROL_SOCKET or
    [control] socket_path; else the user unit's ($XDG_RUNTIME_DIR/twos-and-sevens), the system unit's
    (/run/twos-and-sevens), and var/control.sock beside the config's state (a daemon started by hand)."""
    chosen = loaded.named_socket()
    if chosen is not None:
        return [chosen]
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    candidates = [Path(runtime) / "twos-and-sevens" / SOCKET_NAME] if runtime else []
    candidates += [SYSTEM_RUNTIME_DIR / SOCKET_NAME, loaded.path(FALLBACK_SOCKET)]
    return list(dict.fromkeys(candidates))


def default_config_path() -> Path | None:
    """$TWOS_AND_SEVENS_CONFIG, ./installation.toml, ~/.config/twos-and-sevens/installation.toml (the user unit's),
    /etc/twos-and-sevens/installation.toml (the system unit's)."""
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    search = (
        Path("installation.toml"),
        user_config_dir() / "installation.toml",
        SYSTEM_CONFIG_DIR / "installation.toml",
    )
    return next((p for p in search if p.is_file()), None)


def load(path: Path | None = None) -> LoadedConfig:
    """Load a file (or the embedded defaults when there is none); raise ConfigInvalid on mistakes."""
    path = path if path is not None else default_config_path()
    if path is None:
        return LoadedConfig(InstallationConfig(), "(embedded defaults)", Path.cwd())
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigInvalid([ConfigError(str(path), "", f"cannot read the file: {exc.strerror}")]) from None
    except UnicodeDecodeError:
        raise ConfigInvalid([ConfigError(str(path), "", "not UTF-8 text; save it as UTF-8")]) from None
    return LoadedConfig(parse(text, str(path)), str(path), state_folder(Path(path)), text)


def load_running(path: Path | None) -> LoadedConfig:
    """A child's config: the text its supervisor validated and runs on ($TWOS_AND_SEVENS_RUNNING_CONFIG),
    not the file as it is now, so a child restarted after someone saved a broken file still plays."""
    text = os.environ.get(RUNNING_CONFIG_ENV)
    if not text or path is None:
        return load(path)
    return LoadedConfig(parse(text, str(path)), str(path), state_folder(Path(path)), text)


def parse(text: str, file: str = "installation.toml") -> InstallationConfig:
    """Validate TOML text; every mistake is collected into one ConfigInvalid."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = _line_from_decode_error(str(exc))
        raise ConfigInvalid([ConfigError(file, "", f"not valid TOML: {exc}", line)]) from None
    errors = _cross_references(raw, text, file)
    config: InstallationConfig | None = None
    try:
        config = InstallationConfig.model_validate(raw)
    except ValidationError as exc:
        errors += [_explain(err, text, file) for err in exc.errors()]
    if errors or config is None:
        raise ConfigInvalid(sorted(errors, key=lambda e: (e.line or 0, e.key)))
    return config


def _line_from_decode_error(message: str) -> int | None:
    marker = "(at line "
    if marker not in message:
        return None
    return int(message.split(marker, 1)[1].split(",", 1)[0].rstrip(")"))


def _cross_references(raw: dict, text: str, file: str) -> list[ConfigError]:
    """Names that must point at a [runs.*] table; checked on the raw file so they join the other errors."""
    runs = raw.get("runs", dict.fromkeys(DEFAULT_PRESETS))
    presets = raw.get("cycle", {}).get("presets", Cycle().presets) if isinstance(raw.get("cycle"), dict) else []
    if not isinstance(runs, dict) or not isinstance(presets, list):
        return []  # wrong types: the schema reports those
    names = sorted(runs)
    errors = _mapping_references(raw, text, file) + _projector_scenes(raw, text, file)
    for index, name in enumerate(presets):
        if isinstance(name, str) and name not in runs:
            errors.append(
                ConfigError(
                    file,
                    f"cycle.presets[{index}]",
                    f"no preset named '{name}' in [runs].{did_you_mean(name, names)} "
                    f"Presets defined: {', '.join(names)}.",
                    line_of_key(text, ("cycle", "presets")),
                )
            )
    weights = raw.get("cycle", {}).get("weights", {}) if isinstance(raw.get("cycle"), dict) else {}
    for name in weights if isinstance(weights, dict) else []:
        if name not in runs:
            errors.append(
                ConfigError(
                    file,
                    f"cycle.weights.{name}",
                    f"no preset named '{name}' in [runs]."
                    f"{did_you_mean(name, names)} Presets defined: {', '.join(names)}.",
                    line_of_key(text, ("cycle", "weights")),
                )
            )
    return errors


def _mapping_references(raw: dict, text: str, file: str) -> list[ConfigError]:
    """Each [[mapping]] must read a stream that exists and drive a parameter that exists, once, within its range;
    a vector stream drives a vector target of its own length."""
    entries = raw.get("mapping", [])
    if not isinstance(entries, list):
        return []
    from daemon.metrics import VECTOR_STREAMS, stream_names

    parameters = mapping_targets()
    streams, targets = [*stream_names(), *VECTOR_STREAMS], sorted([*parameters, *VECTOR_TARGETS])
    errors: list[ConfigError] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue
        line = _line_of_array_entry(text, "mapping", index)
        source, target = entry.get("source"), entry.get("target")
        if isinstance(source, str) and source not in streams:
            errors.append(
                ConfigError(
                    file,
                    f"mapping[{index}].source",
                    f"no stream named '{source}'."
                    f"{did_you_mean(source, streams)} Streams are listed in docs/streams.md.",
                    line,
                )
            )
        if not isinstance(target, str):
            continue
        if target not in parameters and target not in VECTOR_TARGETS:
            errors.append(
                ConfigError(
                    file,
                    f"mapping[{index}].target",
                    f"no parameter named '{target}'."
                    f"{did_you_mean(target, targets)} Parameters are listed in docs/sound.md "
                    f"and docs/visuals.md.",
                    line,
                )
            )
            continue
        elements = VECTOR_TARGETS.get(target, (target,))
        if isinstance(source, str) and source in streams:
            errors += _lengths(source, VECTOR_STREAMS.get(source, (source,)), target, elements, index, line, file)
        taken = next((seen[e] for e in elements if e in seen), None)
        if taken is not None:
            errors.append(
                ConfigError(
                    file,
                    f"mapping[{index}].target",
                    f"'{target}' is already driven by mapping [{taken}]; one mapping per parameter.",
                    line,
                )
            )
        errors += _output_range(entry, index, target, parameters[elements[0]], text, file)
        for element in elements:
            seen.setdefault(element, index)
    return errors


def _lengths(
    source: str, sources: tuple[str, ...], target: str, targets: tuple[str, ...], index: int, line, file: str
) -> list[ConfigError]:
    """A mapping is element by element: the stream must carry as many values as the target takes."""
    if len(sources) == len(targets):
        return []
    if len(targets) > 1:
        fix = f"drive one of its elements by name (e.g. '{targets[0]}') or read a vector stream of {len(targets)}"
    else:
        fix = f"read one of its elements by name (e.g. '{sources[0]}') or drive a vector target of {len(sources)}"
    return [
        ConfigError(
            file,
            f"mapping[{index}].target",
            f"'{target}' takes {len(targets)} value{'s' * (len(targets) > 1)} but '{source}' gives "
            f"{len(sources)}: a mapping goes element by element. Fix: {fix} (docs/artist.md, vector mappings).",
            line,
        )
    ]


def _output_range(
    entry: dict, index: int, target: str, parameter: Parameter, text: str, file: str
) -> list[ConfigError]:
    """A written output_min or output_max must lie in the target's [low, high]: beyond it the value is clamped,
    silently, so the mapping does not do what it says."""
    errors = []
    allowed = f"{parameter.low:g} to {parameter.high:g} ({parameter.unit})"
    doc = "docs/sound.md" if target.startswith("sound.") else "docs/visuals.md"
    for key in ("output_min", "output_max"):
        value = entry.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            continue  # not written, or not a number (nan, inf, a string): the schema reports wrong ones
        if parameter.low <= value <= parameter.high:
            continue
        errors.append(
            ConfigError(
                file,
                f"mapping[{index}].{key}",
                f"{value:g} is outside the range of {target}: allowed {allowed}; beyond it the value would be "
                f"clamped without a word. Fix: set {key} to a value from {parameter.low:g} to {parameter.high:g} "
                f"({doc} lists each parameter's range).",
                _line_in_array_entry(text, "mapping", index, key),
            )
        )
    return errors


def _projector_scenes(raw: dict, text: str, file: str) -> list[ConfigError]:
    """Each [[video.projector]] scene must be a shader file in [video] shaders_path."""
    video = raw.get("video", {})
    if not isinstance(video, dict) or not isinstance(video.get("shaders_path", ""), str):
        return []
    folder = shaders_folder(video.get("shaders_path", ""), state_folder(Path(file)))
    if not folder.is_dir():
        line = line_of_key(text, ("video", "shaders_path"))
        return [
            ConfigError(
                file,
                "video.shaders_path",
                f"no folder {folder}. Fix: point it at a folder of .frag "
                f'files, or set it to "" for the shipped shaders.',
                line,
            )
        ]
    scenes = sorted(p.stem for p in folder.glob("*.frag") if p.stem != "present")
    errors = []
    projectors = video.get("projector", [])
    for index, projector in enumerate(projectors if isinstance(projectors, list) else []):
        scene = projector.get("scene") if isinstance(projector, dict) else None
        if isinstance(scene, str) and scene not in scenes:
            errors.append(
                ConfigError(
                    file,
                    f"video.projector[{index}].scene",
                    f"no scene named '{scene}' in {folder}."
                    f"{did_you_mean(scene, scenes)} Scenes there: {', '.join(scenes)}.",
                    _line_of_array_entry(text, "video.projector", index),
                )
            )
    return errors


def _line_of_array_entry(text: str, name: str, index: int) -> int | None:
    """The header line of the index-th [[name]] table."""
    headers = [n for n, line in enumerate(text.splitlines(), 1) if line.strip().startswith(f"[[{name}]]")]
    return headers[index] if index < len(headers) else None


def _line_in_array_entry(text: str, name: str, index: int, key: str) -> int | None:
    """The line of `key = …` inside the index-th [[name]] table, else that table's header line."""
    header = _line_of_array_entry(text, name, index)
    if header is None:
        return header
    lines = text.splitlines()
    for number in range(header + 1, len(lines) + 1):
        line = lines[number - 1].strip()
        if line.startswith("["):
            break  # the next table: the key is not written in this one
        if line.split("=", 1)[0].strip().strip("\"'") == key and "=" in line:
            return number
    return header


def _explain(err: ErrorDetails, text: str, file: str) -> ConfigError:
    loc = tuple(str(p) for p in err["loc"])
    key = "".join(f"[{part}]" if part.isdigit() else f".{part}" for part in loc).lstrip(".")
    line = _line_of_location(text, loc)
    kind = err["type"]
    field = _field_at(loc)
    if kind == "extra_forbidden":
        siblings = _siblings(loc)
        hint = did_you_mean(loc[-1], siblings)
        return ConfigError(file, key, f"unknown key.{hint or ' Valid keys: ' + ', '.join(siblings) + '.'}", line)
    if kind == "missing":
        return ConfigError(file, key, f"required key is missing: add `{loc[-1]} = …` to [{'.'.join(loc[:-1])}].", line)
    given = err.get("input")
    if kind in {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}:
        return ConfigError(file, key, f"{given!r} is out of range; allowed: {_range(field)}.", line)
    if kind in {"too_short", "string_too_short"}:
        return ConfigError(file, key, f"must not be empty ({err['msg'].lower()}).", line)
    if kind == "literal_error":
        return ConfigError(file, key, f"{given!r} is not allowed; {err['msg'].lower()}.", line)
    if kind == "string_pattern_mismatch" and field is not None:  # the description shows the form
        return ConfigError(file, key, f"{given!r} is not of the form {field.description}", line)
    if kind == "value_error":  # a validator's own explanation (e.g. a projector's crop)
        shown = repr(given) if len(repr(given)) <= 80 else repr(given)[:77] + "..."
        return ConfigError(file, key, f"{err['msg'].removeprefix('Value error, ')} (got {shown}).", line)
    expected = _type_name(field)
    message = f"expected {expected}, got {type(given).__name__} {given!r}"
    if field is not None and _range(field) != "any value":
        message += f"; allowed: {_range(field)}"
    return ConfigError(file, key, message + ".", line)


def _line_of_location(text: str, loc: tuple[str, ...]) -> int | None:
    """The line of a key: a table's key, or one inside an array table ([[mapping]], [[video.projector]])."""
    index = next((k for k, part in enumerate(loc) if part.isdigit()), None)
    if index is None or index == 0:
        return line_of_key(text, loc)
    key = loc[index + 1] if index + 1 < len(loc) else ""
    return _line_in_array_entry(text, ".".join(loc[:index]), int(loc[index]), key)


def _model_at(loc: tuple[str, ...]) -> type[BaseModel] | None:
    """The schema model that owns the last key of `loc` (walking dict-valued tables such as runs, and arrays)."""
    model: Any = InstallationConfig
    parts = list(loc[:-1])
    while parts and model is not None:
        part = parts.pop(0)
        info = model.model_fields.get(part)
        if info is None:
            return None
        annotation = info.annotation
        args: tuple = getattr(annotation, "__args__", ())
        if getattr(annotation, "__origin__", None) is dict:
            if not parts:
                return None
            parts.pop(0)  # the preset's own name
            annotation = args[1]
        elif getattr(annotation, "__origin__", None) is list and parts and parts[0].isdigit():
            parts.pop(0)  # the entry's index in an array of tables
            annotation = args[0]
        model = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    return model


def _field_at(loc: tuple[str, ...]):
    model = _model_at(loc)
    return model.model_fields.get(loc[-1]) if model else None


def _siblings(loc: tuple[str, ...]) -> list[str]:
    model = _model_at(loc)
    return sorted(model.model_fields) if model else []


def _range(field) -> str:
    if field is None:
        return "any value"
    low = high = None
    for meta in field.metadata:
        low = getattr(meta, "ge", low) if getattr(meta, "ge", None) is not None else low
        high = getattr(meta, "le", high) if getattr(meta, "le", None) is not None else high
    if low is None and high is None:
        return "any value"
    if high is None:
        return f"{low} or more"
    if low is None:
        return f"{high} or less"
    return f"{low} to {high}"


def _type_name(field) -> str:
    if field is None:
        return "a different value"
    names = {int: "a whole number", float: "a number", bool: "true or false", str: "a quoted string"}
    annotation = field.annotation
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)).lower())
