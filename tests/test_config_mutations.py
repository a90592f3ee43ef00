"""The shipped installation.toml, mutated hundreds of ways: each mistake is named, never a traceback, exit 2."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest

from daemon.cli import main
from daemon.config import InstallationConfig

SHIPPED = Path(__file__).resolve().parents[1] / "installation.toml"
KEY_LINE = re.compile(r"^([a-z_]+) = (.+)$")
HEADER = re.compile(r"^\[\[?([a-z_.]+)\]\]?$")
CASES_IN_THE_SUITE = 600  # of all the mutations generated (about 2,000): benchmarks/config_fuzz.py runs them all


@dataclass(frozen=True)
class Mutation:
    """The file's text after one mistake, and what its error must name: a key or the line number."""

    name: str
    text: bytes
    names: tuple[str, ...]


def _field(table: str, key: str) -> Any:
    """The schema field for `key` in the table `table` ("audio", "runs.healthy", "video.projector")."""
    model: Any = InstallationConfig
    parts = table.split(".")
    while parts:
        info = model.model_fields[parts.pop(0)]
        annotation = info.annotation
        if get_origin(annotation) is dict:
            parts.pop(0)  # a preset's name
            annotation = get_args(annotation)[1]
        elif get_origin(annotation) is list:
            annotation = get_args(annotation)[0]
        model = annotation
    return model.model_fields[key]


def _wrong_values(field: Any) -> list[str]:
    """TOML values that no field of this type accepts, and numbers just outside its range."""
    annotation = field.annotation
    values = ['[1, "x"]', "{ a = 1 }"]
    values.append("12345" if annotation is str else '"?not-a-value"')
    if annotation in (int, float):
        low = next((m.ge for m in field.metadata if getattr(m, "ge", None) is not None), None)
        high = next((m.le for m in field.metadata if getattr(m, "le", None) is not None), None)
        if low is not None and high is not None:
            span = high - low
            values += [str(type(low)(low - span - 1)), str(type(high)(high + span + 1))]
            if annotation is int:
                values.append(f"{low}.5")  # a number, but not a whole one
    return values


def mutations() -> list[Mutation]:
    lines = SHIPPED.read_text().splitlines()
    found, table = [], ""
    for number, line in enumerate(lines, 1):
        header = HEADER.match(line)
        if header:
            table = header.group(1)
            if "." not in table:
                broken = lines.copy()
                broken[number - 1] = line.replace(table, table + "s")
                found.append(Mutation(f"table {table} misspelt", "\n".join(broken).encode(), (table + "s",)))
            continue
        match = KEY_LINE.match(line)
        if not match:
            continue
        key = match.group(1)
        field = _field(table, key)
        for value in _wrong_values(field):
            broken = lines.copy()
            broken[number - 1] = f"{key} = {value}"
            found.append(Mutation(f"{table}.{key} = {value}", "\n".join(broken).encode(), (key, f":{number}:")))
        misspelt = key[:-1] + ("y" if key.endswith("x") else "x")
        broken = lines.copy()
        broken[number - 1] = line.replace(key, misspelt, 1)
        found.append(Mutation(f"{table}.{key} misspelt", "\n".join(broken).encode(), (misspelt,)))
    draw = random.Random(7)
    for index in range(100):  # garbage bytes, and text that is not UTF-8, somewhere in the file
        at = draw.randrange(len(lines))
        junk = bytes(draw.randrange(1, 256) for _ in range(draw.randrange(3, 40)))
        broken_bytes = "\n".join(lines[:at]).encode() + b"\n" + junk + b"\n" + "\n".join(lines[at:]).encode()
        named = (f":{at + 1}:", "UTF-8", "TOML")
        found.append(Mutation(f"garbage {index} at line {at + 1}", broken_bytes, named))
    unique = {mutation.text: mutation for mutation in found}  # a wrong value may equal the one written
    return [mutation for mutation in unique.values() if mutation.text != "\n".join(lines).encode()]


ALL = mutations()
SAMPLE = random.Random(11).sample(ALL, CASES_IN_THE_SUITE)


def test_enough_mutations_are_generated():
    assert len(ALL) >= 2_000


@pytest.mark.parametrize("mutation", SAMPLE, ids=lambda m: m.name[:60])
def test_every_mutation_is_named_with_exit_2_and_no_traceback(mutation, tmp_path, capsys):
    path = tmp_path / "installation.toml"
    path.write_bytes(mutation.text)
    try:
        code = main(["check-config", str(path)])
    except Exception as exc:  # the technician would have seen a traceback
        pytest.fail(f"{mutation.name}: {type(exc).__name__}: {exc}")
    err = capsys.readouterr().err
    assert code == 2, (mutation.name, err)
    assert "Traceback" not in err
    assert any(name in err for name in mutation.names), (mutation.name, err)


def test_the_shipped_file_itself_passes(capsys):
    assert main(["check-config", str(SHIPPED)]) == 0, capsys.readouterr().err
