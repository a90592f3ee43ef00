"""The scenes' input textures on the GPU: uploaded once per change, shareable between contexts by GL name."""

from __future__ import annotations

import moderngl
import numpy as np

from daemon.visuals.inputs import PictureInputs

__all__ = ["InputTextures"]


class InputTextures:
    """`samples` (RG8: grid, smear), `inside` (R8), linear; `lanes` (R32F, nearest), in the owning context.

    Other contexts that share objects with it (glfw's `share`) see the same textures through
    `views(ctx)`: moderngl refuses another context's objects, so they are wrapped by GL name.
    """

    def __init__(self, ctx: moderngl.Context):
        self.ctx = ctx
        self.textures: dict[str, moderngl.Texture] = {}
        self.uploaded: dict[str, int] = {}
        self._views: dict[tuple[int, int], moderngl.Texture] = {}

    def upload(self, inputs: PictureInputs) -> None:
        pictures = {"samples": inputs.grid, "inside": inputs.insides, "lanes": inputs.lanes}
        for name, array in pictures.items():
            if self.uploaded.get(name) == inputs.versions[name]:
                continue
            self._write(name, np.ascontiguousarray(array))
            self.uploaded[name] = inputs.versions[name]

    def _write(self, name: str, array: np.ndarray) -> None:
        height, width = array.shape[:2]
        components = array.shape[2] if array.ndim == 3 else 1
        dtype = "f4" if array.dtype == np.float32 else "f1"
        texture = self.textures.get(name)
        if texture is None or (texture.size, texture.components, texture.dtype) != ((width, height), components, dtype):
            if texture is not None:
                texture.release()
            texture = self.ctx.texture((width, height), components, dtype=dtype, alignment=1)
            texture.filter = (
                (moderngl.NEAREST, moderngl.NEAREST) if dtype == "f4" else (moderngl.LINEAR, moderngl.LINEAR)
            )
            texture.repeat_x = texture.repeat_y = False
            self.textures[name] = texture
        texture.write(array.tobytes())

    def views(self, ctx: moderngl.Context) -> dict[str, moderngl.Texture]:
        """The textures as objects of `ctx` (the owner's own, or wrappers around the shared GL names)."""
        if ctx is self.ctx:
            return self.textures
        views = {}
        for name, texture in self.textures.items():
            key = (id(ctx), texture.glo)
            if key not in self._views:
                view = ctx.external_texture(texture.glo, texture.size, texture.components, 0, texture.dtype)
                view.filter, view.repeat_x, view.repeat_y = texture.filter, False, False
                self._views[key] = view
            views[name] = self._views[key]
        return views

    def release(self) -> None:
        for texture in self.textures.values():
            texture.release()
        self.textures.clear()
