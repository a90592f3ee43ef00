"""Test helpers that ship with the product: real training, offline audio, real servers, the daemon itself."""

from __future__ import annotations

import importlib

__all__ = [
    "JackRecorder",
    "OpenPage",
    "RunningDaemon",
    "close_window",
    "config_for",
    "feed",
    "gallery",
    "jack_dummy_server",
    "paced_batches",
    "page_dom",
    "page_screenshot",
    "render_audio",
    "set_monitor",
    "train_frames",
    "xorg_dummy_config",
    "xorg_dummy_server",
    "xvfb_server",
]

# Each name is imported from its module on first use (PEP 562), so a sound- or image-only test that
# takes xvfb_server does not pay for torch (training), pyo (audio) or the others it never touches.
_HOMES = {
    "config_for": "config",
    "page_dom": "browser",
    "page_screenshot": "browser",
    "OpenPage": "browser",
    "train_frames": "training",
    "render_audio": "audio",
    "JackRecorder": "audio",
    "jack_dummy_server": "servers",
    "xvfb_server": "servers",
    "xorg_dummy_server": "servers",
    "xorg_dummy_config": "servers",
    "set_monitor": "servers",
    "close_window": "windows",
    "RunningDaemon": "daemon_process",
    "feed": "senses",
    "paced_batches": "senses",
    "gallery": "gallery",
}


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
