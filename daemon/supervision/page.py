"""The technician's status page: its files (served by the daemon itself, no CDN) and the latest sample grid."""

from __future__ import annotations

from pathlib import Path

__all__ = ["PAGE_FILES", "latest_grid", "page_file"]

_FOLDER = Path(__file__).with_name("page")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PAGE_FILES = {  # what GET may ask for, and as what
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/page.js": ("page.js", "text/javascript; charset=utf-8"),
    "/page.css": ("page.css", "text/css; charset=utf-8"),
}


def page_file(path: str) -> tuple[bytes, str] | None:
    """The page file at `path` and its content type; None when `path` is not one of them."""
    if path not in PAGE_FILES:
        return None
    name, kind = PAGE_FILES[path]
    return (_FOLDER / name).read_bytes(), kind


def latest_grid(recordings: Path | None, run_id: str) -> bytes | None:
    """The newest sample grid of the run playing (its PNG on disk), None before its first."""
    if recordings is None or not run_id or "/" in run_id or run_id.startswith("."):
        return None
    # step-NNNNNNN.png only: the recorder writes each to step-NNNNNNN.png.partial.png first, then renames it.
    grids = sorted((recordings / run_id / "grids").glob("step-[0-9][0-9][0-9][0-9][0-9][0-9][0-9].png"))
    for newest in reversed(grids):
        try:
            content = newest.read_bytes()
        except OSError:  # pruned between the listing and the read
            continue
        if content.startswith(PNG_SIGNATURE):
            return content
    return None
