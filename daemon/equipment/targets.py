"""The projectors whose power the installation keeps, read from [[video.projector]] pjlink keys."""

from __future__ import annotations

from daemon.config import LoadedConfig
from daemon.equipment.pjlink import DEFAULT_PORT, PjlinkTarget
from daemon.logs import get_logger

__all__ = ["pjlink_targets"]


def pjlink_targets(loaded: LoadedConfig) -> list[PjlinkTarget]:
    """One target per projector with a PJLink address, named as /status and the logs name it.

    A password file that cannot be read is logged with its fix; the projector is still tried (without a
    password), so the log then says plainly that the projector refused it.
    """
    targets = []
    for index, projector in enumerate(loaded.config.video.projector):
        if not projector.pjlink:
            continue
        host, _, port = projector.pjlink.partition(":")
        name = f"projector {index} (monitor {projector.monitor})"
        password = _password(loaded, projector, name)
        targets.append(PjlinkTarget(name, host, int(port) if port else DEFAULT_PORT, password))
    return targets


def _password(loaded: LoadedConfig, projector, name: str) -> str | None:
    if not projector.pjlink_password_file:
        return projector.pjlink_password or None
    path = loaded.path(projector.pjlink_password_file)
    try:
        return path.read_text().strip() or None
    except OSError as exc:
        get_logger("projectors").error(
            "projector_password_unreadable",
            projector=name,
            path=str(path),
            error=exc.strerror or str(exc),
            fix="put the password in that file, readable by the daemon's user, or set pjlink_password",
        )
        return None
