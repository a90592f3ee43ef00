"""Rendering without a display: an EGL context (Mesa, no X server) drawing scenes into numpy images."""

from __future__ import annotations

from pathlib import Path

import moderngl
import numpy as np

from daemon.config.loader import SHIPPED_SHADERS
from daemon.visuals.director import VisualDirector
from daemon.visuals.errors import NoGraphics
from daemon.visuals.scene import Presenter, SceneRenderer
from daemon.visuals.shaders import ShaderLibrary
from daemon.visuals.textures import InputTextures

__all__ = ["HeadlessCanvas", "egl_context"]


def egl_context() -> moderngl.Context:
    try:
        # moderngl's stubs type every **settings value as a dict; backend takes a str (moderngl's docs).
        return moderngl.create_standalone_context(backend="egl", require=330)  # type: ignore[arg-type]
    except Exception as exc:  # moderngl/glcontext raise several types for a missing or old libEGL
        raise NoGraphics(
            f"no OpenGL 3.3 through EGL ({exc}). Fix: install Mesa's EGL "
            "(apt-get install libegl1 libegl-mesa0 libgl1 libgl1-mesa-dri) or a GPU driver."
        ) from exc


class HeadlessCanvas:
    """Draws any scene at (width, height) and reads it back as uint8 RGB, top row first."""

    def __init__(self, shaders_folder: Path, width: int, height: int):
        self.size = (width, height)
        self.ctx = egl_context()
        self.library = ShaderLibrary(self.ctx, shaders_folder)
        self.presenter = Presenter(ShaderLibrary(self.ctx, SHIPPED_SHADERS))
        self.textures = InputTextures(self.ctx)
        self.renderers: dict[str, SceneRenderer] = {}
        self.output = self.ctx.framebuffer(color_attachments=[self.ctx.texture(self.size, 3)])

    def draw(
        self,
        scene: str,
        director: VisualDirector,
        crop=(0.0, 0.0, 1.0, 1.0),
        rotation_degrees: int = 0,
        read: bool = True,
    ) -> np.ndarray | None:
        self.textures.upload(director.inputs)
        if scene not in self.renderers:
            self.renderers[scene] = SceneRenderer(self.ctx, self.library, scene, self.size)
        texture = self.renderers[scene].render(self.textures.textures, director.uniforms(scene), director.time)
        self.presenter.present(texture, self.output, crop, rotation_degrees, director.brightness)
        if not read:
            self.ctx.finish()
            return None
        data = self.output.read(components=3, alignment=1)
        return np.frombuffer(data, np.uint8).reshape(self.size[1], self.size[0], 3)[::-1]

    def release(self) -> None:
        for renderer in self.renderers.values():
            renderer.release()
        self.textures.release()
        self.library.release()
        self.presenter.library.release()
        self.output.release()
        self.ctx.release()
