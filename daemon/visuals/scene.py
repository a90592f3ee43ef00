"""One scene drawn into its own framebuffers (two, for feedback), and presented with crop and rotation."""

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
            program[name] = value


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

    def render(
        self, textures: dict[str, moderngl.Texture], uniforms: Mapping[str, UniformValue], time: float
    ) -> moderngl.Texture:
        previous, self.current = self.current, 1 - self.current
        program, vertex_array = self.library.program(self.scene)
        framebuffer = self.framebuffers[self.current]
        framebuffer.use()
        _bind(
            program,
            {**textures, "previous": self.targets[previous]},
            {**uniforms, "resolution": tuple(float(v) for v in self.size), "time": time},
        )
        vertex_array.render(moderngl.TRIANGLES, vertices=3)
        return self.targets[self.current]

    def release(self) -> None:
        for framebuffer, texture in zip(self.framebuffers, self.targets, strict=True):
            framebuffer.release()
            texture.release()


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
