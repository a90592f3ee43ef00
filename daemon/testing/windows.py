"""Windows for tests: close an X window as a window manager's close button does (plain Xlib through ctypes)."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Iterator

__all__ = ["close_window"]

CLIENT_MESSAGE = 33  # the X event type


class ClientMessage(ctypes.Structure):
    """XClientMessageEvent, padded to the size of an XEvent."""

    _fields_ = [
        ("type", ctypes.c_int),
        ("serial", ctypes.c_ulong),
        ("send_event", ctypes.c_int),
        ("display", ctypes.c_void_p),
        ("window", ctypes.c_ulong),
        ("message_type", ctypes.c_ulong),
        ("format", ctypes.c_int),
        ("data", ctypes.c_long * 5),
        ("pad", ctypes.c_long * 12),
    ]


def close_window(env: dict, title_part: str) -> bool:
    """Ask the X window whose title holds `title_part` to close, as a window manager's close button does
    (a WM_DELETE_WINDOW client message); True when one was found."""
    xlib = _xlib()
    display = xlib.XOpenDisplay(env["DISPLAY"].encode())
    if not display:
        raise RuntimeError(f"cannot open X display {env['DISPLAY']}")
    try:
        for window in _windows(xlib, display, xlib.XDefaultRootWindow(display)):
            if title_part in _title(xlib, display, window):
                event = ClientMessage(
                    type=CLIENT_MESSAGE,
                    window=window,
                    format=32,
                    message_type=xlib.XInternAtom(display, b"WM_PROTOCOLS", 0),
                )
                event.data[0] = xlib.XInternAtom(display, b"WM_DELETE_WINDOW", 0)
                xlib.XSendEvent(display, window, 0, 0, ctypes.byref(event))
                xlib.XFlush(display)
                return True
        return False
    finally:
        xlib.XCloseDisplay(display)


@functools.cache
def _xlib() -> ctypes.CDLL:
    """libX11 with the prototypes used here (loaded on first use: importing this needs no X)."""
    c = ctypes
    xlib = c.CDLL(c.util.find_library("X11") or "libX11.so.6")
    xlib.XOpenDisplay.restype = c.c_void_p
    xlib.XOpenDisplay.argtypes = [c.c_char_p]
    xlib.XDefaultRootWindow.restype = c.c_ulong
    xlib.XDefaultRootWindow.argtypes = [c.c_void_p]
    xlib.XInternAtom.restype = c.c_ulong
    xlib.XInternAtom.argtypes = [c.c_void_p, c.c_char_p, c.c_int]
    out = c.POINTER  # an argument Xlib writes into
    tree = (out(c.c_ulong), out(c.c_ulong), out(out(c.c_ulong)), out(c.c_uint))  # root, parent, children, count
    xlib.XQueryTree.argtypes = (c.c_void_p, c.c_ulong, *tree)
    # display, window, property, offset, length, delete, type wanted; then type, format, items, bytes left, data
    ask = (c.c_void_p, c.c_ulong, c.c_ulong, c.c_long, c.c_long, c.c_int, c.c_ulong)
    answer = (out(c.c_ulong), out(c.c_int), out(c.c_ulong), out(c.c_ulong), out(c.c_char_p))
    xlib.XGetWindowProperty.argtypes = (*ask, *answer)
    xlib.XSendEvent.argtypes = [c.c_void_p, c.c_ulong, c.c_int, c.c_long, c.c_void_p]
    xlib.XFlush.argtypes = xlib.XCloseDisplay.argtypes = xlib.XFree.argtypes = [c.c_void_p]
    return xlib


def _windows(xlib: ctypes.CDLL, display: int, parent: int) -> Iterator[int]:
    """Every window under `parent`, depth first."""
    root, up, children, count = ctypes.c_ulong(), ctypes.c_ulong(), ctypes.POINTER(ctypes.c_ulong)(), ctypes.c_uint()
    xlib.XQueryTree(display, parent, ctypes.byref(root), ctypes.byref(up), ctypes.byref(children), ctypes.byref(count))
    found = [children[k] for k in range(count.value)]
    if children:
        xlib.XFree(children)
    for window in found:
        yield window
        yield from _windows(xlib, display, window)


def _title(xlib: ctypes.CDLL, display: int, window: int) -> str:
    """The window's _NET_WM_NAME (UTF-8, as GLFW sets it); "" when it has none."""
    answer = ctypes.c_ulong(), ctypes.c_int(), ctypes.c_ulong(), ctypes.c_ulong(), ctypes.c_char_p()
    name = xlib.XInternAtom(display, b"_NET_WM_NAME", 0)
    xlib.XGetWindowProperty(display, window, name, 0, 1024, 0, 0, *map(ctypes.byref, answer))
    data = answer[-1]
    text = (data.value or b"").decode(errors="replace")
    if data:
        xlib.XFree(data)
    return text
