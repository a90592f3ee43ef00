"""Scene programs from shaders/*.frag: compiled per GL context, hot-reloaded, the last good one kept.

A scene file may also hold a pre-pass: the code under `#ifdef PREPASS` is compiled a second time
with PREPASS defined, and drawn before the scene at the size of the input texture it reads (see
SceneRenderer). Work that follows that texture rather than the screen's pixels is then done once
per texel: on llvmpipe a fragment's every operation counts, two million times a frame at 1080p.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import moderngl

from daemon.logs import get_logger

__all__ = ["FALLBACK_SCENE", "VERTEX_SHADER", "ShaderLibrary", "compile_error_line", "prepass_source"]

# One triangle that covers the screen; `uv` runs 0–1 across it, bottom-up as GL's y.
VERTEX_SHADER = """
#version 330 core
out vec2 uv;
void main() {
    vec2 corner = vec2(float((gl_VertexID << 1) & 2), float(gl_VertexID & 2));
    uv = corner;
    gl_Position = vec4(corner * 2.0 - 1.0, 0.0, 1.0);
}
"""

# Shown when a scene has never compiled: the sample grid, plain, so the room never goes dark by mistake.
FALLBACK_SCENE = """
#version 330 core
uniform sampler2D samples;
uniform vec2 resolution;
in vec2 uv;
out vec4 colour;
void main() {
    vec2 q = (uv - 0.5) * vec2(resolution.x / resolution.y, 1.0) + 0.5;
    float inside = step(0.0, q.x) * step(q.x, 1.0) * step(0.0, q.y) * step(q.y, 1.0);
    colour = vec4(vec3(texture(samples, vec2(q.x, 1.0 - q.y)).r * inside), 1.0);
}
"""


# A preprocessor line that tests PREPASS: `#ifdef PREPASS`, `#if defined(PREPASS)`, `#ifndef PREPASS`.
_PREPASS_TEST = re.compile(r"^[ \t]*#[ \t]*(?:if|ifdef|ifndef|elif)\b.*\bPREPASS\b", re.MULTILINE)
_VERSION = re.compile(r"^[ \t]*#[ \t]*version\b.*$", re.MULTILINE)


def prepass_source(source: str) -> str | None:
    """The source with PREPASS defined after its `#version` line (a `#line` keeps error lines the
    file's own), or None when the file has no pre-pass."""
    version = _VERSION.search(source)
    if not _PREPASS_TEST.search(source) or version is None:
        return None
    next_line = source.count("\n", 0, version.end()) + 2
    return f"{source[: version.end()]}\n#define PREPASS\n#line {next_line}{source[version.end() :]}"


def compile_error_line(message: str) -> int | None:
    """The source line of the first error in a GLSL compiler log (Mesa: `0:12(5): error: …`)."""
    match = re.search(r"^\s*\d+:(\d+)\(\d+\): error", message, re.MULTILINE) or re.search(r"ERROR: \d+:(\d+):", message)
    return int(match.group(1)) if match else None


@dataclass
class _Compiled:
    program: moderngl.Program
    vertex_array: moderngl.VertexArray
    mtime_ns: int
    prepass: tuple[moderngl.Program, moderngl.VertexArray] | None = None

    def release(self) -> None:
        self.vertex_array.release()
        self.program.release()
        if self.prepass is not None:
            self.prepass[1].release()
            self.prepass[0].release()


class ShaderLibrary:
    """Programs by scene name for one GL context.

    `program(name)` compiles `folder/name.frag` on first use; `reload_changed()` recompiles files
    whose modification time moved. A file that fails to compile is logged with its file and line
    and the last good program stays; a scene that never compiled shows FALLBACK_SCENE.
    """

    def __init__(self, ctx: moderngl.Context, folder: Path):
        self.ctx, self.folder = ctx, folder
        self.log = get_logger("image")
        self.compiled: dict[str, _Compiled] = {}
        self.failed_mtimes: dict[str, int] = {}
        self.errors: dict[str, str] = {}
        self.fallback = self._build(FALLBACK_SCENE, 0)

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.frag"

    def program(self, name: str) -> tuple[moderngl.Program, moderngl.VertexArray]:
        entry = self._entry(name)
        return entry.program, entry.vertex_array

    def prepass(self, name: str) -> tuple[moderngl.Program, moderngl.VertexArray] | None:
        """The scene's pre-pass program (its `#ifdef PREPASS` part), or None."""
        return self._entry(name).prepass

    def _entry(self, name: str) -> _Compiled:
        if name not in self.compiled and name not in self.failed_mtimes:
            self._load(name)
        return self.compiled.get(name, self.fallback)

    def reload_changed(self) -> list[str]:
        """Recompile every used scene whose file changed; returns the names that were reloaded."""
        reloaded = []
        for name in set(self.compiled) | set(self.failed_mtimes):
            mtime = self._mtime(name)
            known = self.compiled[name].mtime_ns if name in self.compiled else None
            if mtime != known and mtime != self.failed_mtimes.get(name) and self._load(name):
                reloaded.append(name)
        return reloaded

    def _mtime(self, name: str) -> int:
        try:
            return self.path(name).stat().st_mtime_ns
        except OSError:
            return -1

    def _load(self, name: str) -> bool:
        path = self.path(name)
        mtime = self._mtime(name)
        try:
            source = path.read_text(encoding="utf-8")
            compiled = self._build(source, mtime)
        except (OSError, UnicodeDecodeError, moderngl.Error) as exc:
            message = str(exc).strip()
            line = compile_error_line(message)
            self.failed_mtimes[name] = mtime
            self.errors[name] = message
            keeping = "the last good version" if name in self.compiled else "a plain sample grid"
            self.log.error(
                "shader_error",
                file=str(path),
                line=line,
                error=_first_error(message),
                showing=keeping,
                fix="correct the file; it reloads when saved",
            )
            return False
        old = self.compiled.pop(name, None)
        if old is not None:
            old.release()
        self.compiled[name] = compiled
        self.failed_mtimes.pop(name, None)
        self.errors.pop(name, None)
        self.log.info("shader_loaded", file=str(path))
        return True

    def _build(self, fragment_source: str, mtime: int) -> _Compiled:
        program = self.ctx.program(vertex_shader=VERTEX_SHADER, fragment_shader=fragment_source)
        compiled = _Compiled(program, self.ctx.vertex_array(program, []), mtime)
        prepass = prepass_source(fragment_source)
        if prepass is not None:
            try:
                program = self.ctx.program(vertex_shader=VERTEX_SHADER, fragment_shader=prepass)
            except moderngl.Error:
                compiled.release()
                raise
            compiled.prepass = (program, self.ctx.vertex_array(program, []))
        return compiled

    def release(self) -> None:
        for entry in [*self.compiled.values(), self.fallback]:
            entry.release()
        self.compiled.clear()


def _first_error(message: str) -> str:
    lines = [line.strip() for line in message.splitlines() if "error" in line.lower() and ":" in line]
    return lines[0] if lines else message.splitlines()[-1] if message else "unknown error"
