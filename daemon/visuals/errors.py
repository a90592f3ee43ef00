"""What can keep the image from showing, each with the fix in its message."""

from __future__ import annotations

__all__ = ["NoDisplay", "NoGraphics"]


class NoGraphics(Exception):
    """No OpenGL 3.3 here (EGL or GLX); the message says what to install."""


class NoDisplay(Exception):
    """No X display to open projector windows on; the message says what to check."""
