"""The projectors: one fullscreen GLFW window per [[video.projector]], all drawn from one thread.

Contexts share objects with an invisible hub window that owns the input textures (uploaded
once per frame, seen by every window by GL name); each window has its own programs, vertex
arrays and framebuffers. Frames are paced here, not by vsync. A monitor that is missing is
logged and its window opens when it appears (GLFW's monitor callback); the others play on.
Windowed (`run --preview`, `show --windowed`): one ordinary window per projector, side by side,
on whatever screen there is; closing one ends the preview.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import glfw
import moderngl

from daemon.config import LoadedConfig
from daemon.config.loader import SHIPPED_SHADERS
from daemon.config.schema import Projector
from daemon.logs import get_logger
from daemon.senses import deliver
from daemon.visuals.director import VisualDirector
from daemon.visuals.errors import NoDisplay, NoGraphics
from daemon.visuals.label import label_picture
from daemon.visuals.looks import LOOK_EVERY_SECONDS, Look, Looker
from daemon.visuals.scene import Presenter, SceneRenderer
from daemon.visuals.shaders import ShaderLibrary
from daemon.visuals.textures import InputTextures

if TYPE_CHECKING:
    import ctypes

    from glfw import _GLFWmonitor
    from glfw import _GLFWwindowPointerT as Window

    Monitor = ctypes._Pointer[_GLFWmonitor]

__all__ = ["ProjectorWall", "describe_monitors"]
RELOAD_POLL_SECONDS = 0.5
REPORT_EVERY_SECONDS = 10.0
PREVIEW_ROW_PIXELS = 1800  # the preview windows share a row this wide (a laptop screen)
PREVIEW_HEIGHT_PIXELS = 540


def describe_monitors() -> list[str]:
    """One line per monitor GLFW sees (after glfw.init): index, name, resolution, position."""
    lines = []
    for index, monitor in enumerate(glfw.get_monitors() or []):
        mode, (x, y) = glfw.get_video_mode(monitor), glfw.get_monitor_pos(monitor)
        name = _monitor_name(monitor)
        lines.append(f"[{index}] {name}  {mode.size.width}×{mode.size.height} at ({x}, {y}), {mode.refresh_rate} Hz")
    return lines


@dataclass
class _Drawing:
    """An open projector window and what draws into it, in the window's own context."""

    window: Window
    ctx: moderngl.Context
    library: ShaderLibrary
    presenter: Presenter
    renderer: SceneRenderer
    looker: Looker
    own_textures: dict[str, moderngl.Texture] = field(default_factory=dict)


@dataclass
class _Output:
    """One projector: its window and what draws into it (`drawing`, None while its monitor is missing)."""

    index: int
    projector: Projector
    drawing: _Drawing | None = None
    monitor_name: str = ""
    bound_name: str = ""  # an index resolves to a name once: when monitors come and go, indexes shift
    next_due: float = 0.0
    presented: int = 0
    presented_at_report: int = 0
    look: Look | None = None  # the latest thumbnail, every LOOK_EVERY_SECONDS (two frames after it was drawn)
    looked_at: float = 0.0
    fps: float = 0.0  # frames presented per second between the last two looks
    presented_at_look: int = 0

    @property
    def window(self) -> Window | None:
        return self.drawing.window if self.drawing is not None else None


def _monitor_name(monitor: Monitor) -> str:
    name: str | bytes = glfw.get_monitor_name(monitor)  # bytes at run time, whatever glfw's stubs say
    return name.decode(errors="replace") if isinstance(name, bytes) else name


class ProjectorWall:
    """Opens the windows; `run()` plays frames from a queue until `stop` is set."""

    def __init__(
        self, loaded: LoadedConfig, director: VisualDirector, test_pattern: bool = False, windowed: bool = False
    ):
        self.loaded, self.director, self.test_pattern, self.windowed = loaded, director, test_pattern, windowed
        self.video = loaded.config.video
        self.log = get_logger("image")
        glfw.ERROR_REPORTING = "ignore"
        if not glfw.init():
            display = os.environ.get("DISPLAY") or "none: DISPLAY is not set"
            raise NoDisplay(
                f"cannot open the X display ({display}): is the X server running, and is this user let onto it? "
                "Fix: start the graphical session the projectors belong to (and its grant for the service's "
                "user), or render-video for footage."
            )
        self._hints(visible=False)
        self.hub = glfw.create_window(16, 16, "twos-and-sevens hub", None, None)
        if not self.hub:
            glfw.terminate()
            raise NoGraphics(
                "no OpenGL 3.3 core context through GLX. Fix: install Mesa (libgl1-mesa-dri) or the GPU's driver."
            )
        glfw.make_context_current(self.hub)
        self.hub_ctx = moderngl.create_context(require=330)
        self.textures = InputTextures(self.hub_ctx)
        self.outputs = [_Output(index, projector) for index, projector in enumerate(self.video.projector)]
        self.closed_by_hand = False
        if windowed:
            self.monitors_changed = False
            for output in self.outputs:
                self._open(output, None, "window")
        else:
            self.monitors_changed = True
            glfw.set_monitor_callback(self._on_monitor)
            self._sync_monitors()

    @staticmethod
    def _hints(visible: bool, windowed: bool = False) -> None:
        glfw.default_window_hints()
        glfw.window_hint(glfw.CONTEXT_VERSION_MAJOR, 3)
        glfw.window_hint(glfw.CONTEXT_VERSION_MINOR, 3)
        glfw.window_hint(glfw.OPENGL_PROFILE, glfw.OPENGL_CORE_PROFILE)
        glfw.window_hint(glfw.OPENGL_FORWARD_COMPAT, True)
        glfw.window_hint(glfw.VISIBLE, visible)
        glfw.window_hint(glfw.AUTO_ICONIFY, False)  # several fullscreen windows: focus moves, none may vanish
        glfw.window_hint(glfw.DECORATED, windowed)
        glfw.window_hint(glfw.RESIZABLE, windowed)

    def _on_monitor(self, monitor, event) -> None:
        self.monitors_changed = True

    def _find_monitor(self, spec: str, monitors: list):
        names = [_monitor_name(m) for m in monitors]
        if spec in names:
            return monitors[names.index(spec)], spec
        if spec.strip().isdigit():
            index = int(spec)
            return (monitors[index], names[index]) if index < len(monitors) else (None, "")
        for monitor, name in zip(monitors, names, strict=False):
            if spec.lower() in name.lower():
                return monitor, name
        return None, ""

    def _sync_monitors(self) -> None:
        """Close windows whose monitor went away; open those whose monitor is here now."""
        self.monitors_changed = False
        monitors = list(glfw.get_monitors() or [])
        present = [_monitor_name(m) for m in monitors]
        if not monitors:
            self.log.error("no_monitors", fix="connect and power the projectors; windows open when they appear")
        for output in self.outputs:
            monitor, name = self._find_monitor(output.bound_name or output.projector.monitor, monitors)
            if output.window is not None and (monitor is None or name != output.monitor_name):
                self.log.error(
                    "monitor_lost",
                    projector=output.index,
                    monitor=output.monitor_name,
                    fix="check the projector's cable and power; its window reopens when it is back",
                )
                self._close(output)
            if output.window is None:
                if monitor is None:
                    self.log.error(
                        "monitor_missing",
                        projector=output.index,
                        monitor=output.projector.monitor,
                        monitors_here=present,
                        fix="connect it, or set [[video.projector]] monitor to one of monitors_here",
                    )
                else:
                    self._open(output, monitor, name)

    def _window_size(self, monitor) -> tuple[int, int]:
        if monitor is not None:
            mode = glfw.get_video_mode(monitor)
            return mode.size.width, mode.size.height
        width = min(PREVIEW_HEIGHT_PIXELS * 16 // 9, PREVIEW_ROW_PIXELS // max(len(self.outputs), 1))
        return width, width * 9 // 16

    def _open(self, output: _Output, monitor, name: str) -> None:
        """A fullscreen window on `monitor`, or (monitor None) a preview window beside the others."""
        width, height = self._window_size(monitor)
        self._hints(visible=True, windowed=monitor is None)
        window = glfw.create_window(width, height, f"Twos and Sevens — projector {output.index}", monitor, self.hub)
        if not window:
            self.log.error("projector_window_failed", projector=output.index, monitor=name)
            return
        if monitor is None:
            glfw.set_window_pos(window, 20 + output.index * (width + 10), 60)
        else:
            glfw.set_input_mode(window, glfw.CURSOR, glfw.CURSOR_HIDDEN)
        glfw.make_context_current(window)
        output.monitor_name = output.bound_name = name
        ctx = moderngl.create_context(require=330)
        library = ShaderLibrary(ctx, self.loaded.shaders_path)
        size = glfw.get_framebuffer_size(window)
        scene = "test_pattern" if self.test_pattern else output.projector.scene
        drawing = _Drawing(
            window,
            ctx,
            library,
            Presenter(ShaderLibrary(ctx, SHIPPED_SHADERS)),
            SceneRenderer(ctx, library, scene, size),
            Looker(ctx),
        )
        if self.test_pattern:
            lines = [
                f"projector {output.index}",
                f"monitor {name} [{self._monitor_index(name)}]",
                f"{size[0]} x {size[1]}",
                f"scene {output.projector.scene}",
            ]
            picture = label_picture(lines)
            texture = ctx.texture((picture.shape[1], picture.shape[0]), 1, picture.tobytes(), alignment=1)
            drawing.own_textures = {"label": texture}
            print(f"projector {output.index}: monitor {name}, {size[0]}×{size[1]}: test pattern", flush=True)
        output.drawing = drawing
        output.next_due = time.monotonic()
        self.log.info(
            "projector_opened",
            projector=output.index,
            monitor=name,
            width=size[0],
            height=size[1],
            scene=scene,
            fps=output.projector.fps,
            windowed=monitor is None,
        )

    @staticmethod
    def _monitor_index(name: str) -> int:
        names = [_monitor_name(m) for m in glfw.get_monitors() or []]
        return names.index(name) if name in names else -1

    def _close(self, output: _Output) -> None:
        drawing = output.drawing
        if drawing is None:
            return
        glfw.make_context_current(drawing.window)
        drawing.renderer.release()
        drawing.library.release()
        drawing.presenter.library.release()
        for texture in drawing.own_textures.values():
            texture.release()
        drawing.looker.release()
        glfw.make_context_current(self.hub)
        glfw.destroy_window(drawing.window)
        output.drawing = None

    def _draw(self, output: _Output, drawing: _Drawing) -> None:
        glfw.make_context_current(drawing.window)
        if self.windowed:  # the artist may resize a preview window: draw to all of it
            drawing.ctx.screen.viewport = (0, 0, *glfw.get_framebuffer_size(drawing.window))
        seen = drawing.looker.advance()  # before this frame's drawing: nothing of it is flushed
        if seen is not None:
            output.look = seen
        textures = {**self.textures.views(drawing.ctx), **drawing.own_textures}
        renderer = drawing.renderer
        scene = renderer.render(textures, self.director.uniforms(renderer.scene), self.director.time)
        left, top, right, bottom = output.projector.crop
        crop, rotation = (left, top, right, bottom), output.projector.rotation_degrees
        brightness = 1.0 if self.test_pattern else self.director.brightness
        drawing.presenter.present(scene, drawing.ctx.screen, crop, rotation, brightness)
        now = time.monotonic()
        if now - output.looked_at >= LOOK_EVERY_SECONDS:
            drawing.looker.begin(lambda target: drawing.presenter.present(scene, target, crop, rotation, brightness))
            if output.looked_at:
                output.fps = (output.presented - output.presented_at_look) / (now - output.looked_at)
            output.looked_at, output.presented_at_look = now, output.presented
        glfw.swap_buffers(drawing.window)
        output.presented += 1

    def run(self, inbox: queue.Queue, stop: threading.Event, on_loop=None) -> None:
        """Draw until `stop`: sense messages (frames, fades…) are taken from `inbox` as they come.

        `on_loop()` is called once per pass of the loop (the supervisor's heartbeat watches it).
        """
        last = last_poll = last_report = time.monotonic()
        while not stop.is_set():
            if on_loop is not None:
                on_loop()
            self._take(inbox)
            now = time.monotonic()
            self.director.tick(now - last)
            last = now
            glfw.poll_events()
            if self.windowed and any(
                o.drawing is not None and glfw.window_should_close(o.drawing.window) for o in self.outputs
            ):
                self.closed_by_hand = True
                self.log.info("preview_window_closed")
                break
            if self.monitors_changed:
                self._sync_monitors()
            if self.video.hot_reload and now - last_poll >= RELOAD_POLL_SECONDS:
                last_poll = now
                for output in self.outputs:
                    if output.drawing is not None:
                        glfw.make_context_current(output.drawing.window)
                        output.drawing.library.reload_changed()
            glfw.make_context_current(self.hub)
            self.textures.upload(self.director.inputs)
            self.hub_ctx.finish()  # uploads complete before other contexts sample them
            for output in self.outputs:
                if output.drawing is not None and now >= output.next_due:
                    self._draw(output, output.drawing)
                    period = 1.0 / output.projector.fps
                    output.next_due = max(output.next_due + period, now)  # late: skip ahead, never burst
            if now - last_report >= REPORT_EVERY_SECONDS:
                self._report(now - last_report)
                last_report = now
            due = [o.next_due for o in self.outputs if o.window is not None]
            stop.wait(max(0.0, min(due, default=now + 0.1) - time.monotonic()))
        self._report(max(time.monotonic() - last_report, 1e-3))

    def play(self, inbox: queue.Queue, stop: threading.Event, on_loop=None) -> None:
        """`run()`, then close the windows whatever happened."""
        try:
            self.run(inbox, stop, on_loop)
        finally:
            self.close()

    def _take(self, inbox: queue.Queue) -> None:
        while True:
            try:
                message = inbox.get_nowait()
            except queue.Empty:
                return
            deliver(self.director, message)

    def _report(self, seconds: float) -> None:
        for output in self.outputs:
            if output.window is not None:
                fps = (output.presented - output.presented_at_report) / seconds
                self.log.info(
                    "frames_presented",
                    projector=output.index,
                    monitor=output.monitor_name,
                    frames=output.presented,
                    fps=round(fps, 1),
                )
                output.presented_at_report = output.presented

    def close(self) -> None:
        for output in self.outputs:
            if output.window is not None:
                self._close(output)
        self.textures.release()
        glfw.destroy_window(self.hub)
        glfw.terminate()
