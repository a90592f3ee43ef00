"""One scene drawn into its own framebuffers (two, for feedback), and presented with crop and rotation.

A scene with a pre-pass (`#ifdef PREPASS` in its file, see shaders.py) has it drawn first, at the
size of the input texture the pre-pass reads, into a texture the scene reads as `prepass`.
"""

from __future__ import annotations

from collections.abc import Mapping

import moderngl

from daemon.visuals.shaders import ShaderLibrary

__all__ = ["Presenter", "SceneRenderer", "UniformValue"]

# A float uniform, or a float array uniform (`digits[10]`) as a tuple of its elements.
UniformValue = float | tuple[float, ...]


def _bind(program: moderngl.Program, textures: dict[str, moderngl.Texture], values: Mapping) -> None:
    """Samplers by name onto texture units, then every uniform the program has."""
    unit = 0
    for name, texture in textures.items():
        if name in program:
            texture.use(unit)
            program[name] = unit  # Program.__setitem__ sets the uniform's value
            unit += 1
    for name, value in values.items():
        if name in program:
            program[name] = _fitted(program[name], value)


def _fitted(uniform, value: UniformValue) -> UniformValue:
    """A float array's value cut to the uniform's length: the compiler trims an array to the
    elements the shader reads (a scene that reads only `digits[2]` has a float[3], or `digits[0]`
    a plain float)."""
    if not isinstance(value, tuple) or not isinstance(uniform, moderngl.Uniform) or uniform.dimension != 1:
        return value
    return value[0] if uniform.array_length == 1 else value[: uniform.array_length]


def _prepass_margin(program: moderngl.Program) -> tuple[int, int]:
    """The texels a pre-pass adds each side (`uniform ivec2 prepass_margin = ivec2(x, y);`, an int for
    both), read from the program: a uniform's initial value is the shader's."""
    uniform = program.get("prepass_margin", None)
    if not isinstance(uniform, moderngl.Uniform):
        return 0, 0
    value = uniform.value
    x, y = (value, value) if isinstance(value, int | float) else tuple(value)[:2]
    return max(0, int(x)), max(0, int(y))


class SceneRenderer:
    """Renders `scene` at `size`; `previous` is the scene's own last frame (feedback trails)."""

    def __init__(self, ctx: moderngl.Context, library: ShaderLibrary, scene: str, size: tuple[int, int]):
        self.ctx, self.library, self.scene, self.size = ctx, library, scene, size
        self.targets = [ctx.texture(size, 4) for _ in range(2)]
        for texture in self.targets:
            texture.repeat_x = texture.repeat_y = False
        self.framebuffers = [ctx.framebuffer(color_attachments=[t]) for t in self.targets]
        for framebuffer in self.framebuffers:
            framebuffer.clear(0.0, 0.0, 0.0, 1.0)
        self.current = 0
        self.prepass_target: tuple[moderngl.Texture, moderngl.Framebuffer] | None = None

    def render(
        self, textures: dict[str, moderngl.Texture], uniforms: Mapping[str, UniformValue], time: float
    ) -> moderngl.Texture:
        previous, self.current = self.current, 1 - self.current
        program, vertex_array = self.library.program(self.scene)
        values = {**uniforms, "resolution": tuple(float(v) for v in self.size), "time": time}
        prepass = self.library.prepass(self.scene)
        if prepass is not None:
            textures = {**textures, "prepass": self._prepass(*prepass, textures, values)}
        self.framebuffers[self.current].use()
        _bind(program, {**textures, "previous": self.targets[previous]}, values)
        vertex_array.render(moderngl.TRIANGLES, vertices=3)
        return self.targets[self.current]

    def _prepass(
        self,
        program: moderngl.Program,
        vertex_array: moderngl.VertexArray,
        textures: dict[str, moderngl.Texture],
        values: Mapping[str, UniformValue],
    ) -> moderngl.Texture:
        """Draws the pre-pass at the size of the (first) input texture it reads, plus `prepass_margin`
        texels each side if the scene declares it (`uniform ivec2 prepass_margin = ivec2(x, y);`);
        `resolution` stays the scene's."""
        read = [texture for name, texture in textures.items() if name in program]
        width, height = read[0].size if read else self.size
        margin_x, margin_y = _prepass_margin(program)
        size = (width + 2 * margin_x, height + 2 * margin_y)
        if self.prepass_target is None or self.prepass_target[0].size != size:
            self._release_prepass()
            texture = self.ctx.texture(size, 4)
            texture.repeat_x = texture.repeat_y = False
            self.prepass_target = texture, self.ctx.framebuffer(color_attachments=[texture])
        texture, framebuffer = self.prepass_target
        framebuffer.use()
        _bind(program, textures, values)
        vertex_array.render(moderngl.TRIANGLES, vertices=3)
        return texture

    def _release_prepass(self) -> None:
        if self.prepass_target is not None:
            self.prepass_target[1].release()
            self.prepass_target[0].release()
            self.prepass_target = None

    def release(self) -> None:
        for framebuffer, texture in zip(self.framebuffers, self.targets, strict=True):
            framebuffer.release()
            texture.release()
        self._release_prepass()


class Presenter:
    """Puts a rendered scene onto a framebuffer (a window or an offscreen target): crop, rotation, brightness."""

    def __init__(self, library: ShaderLibrary):
        self.library = library

    def present(
        self,
        scene: moderngl.Texture,
        framebuffer,
        crop: tuple[float, float, float, float],
        rotation_degrees: int,
        brightness: float,
    ) -> None:
        program, vertex_array = self.library.program("present")
        framebuffer.use()
        _bind(
            program,
            {"scene": scene},
            {"crop": tuple(crop), "quarter_turns": rotation_degrees // 90, "brightness": brightness},
        )
        vertex_array.render(moderngl.TRIANGLES, vertices=3)
