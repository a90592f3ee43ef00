"""The projectors whose power the installation keeps ([[video.projector]] pjlink), and a one-off look at them."""

from __future__ import annotations

import asyncio

from daemon.config import LoadedConfig
from daemon.equipment.pjlink import DEFAULT_PORT, PjlinkClient, PjlinkTarget, ProjectorError, ProjectorReading
from daemon.logs import get_logger

__all__ = ["describe_power", "pjlink_targets"]


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


def describe_power(loaded: LoadedConfig, timeout_seconds: float) -> list[str]:
    """A line per projector with a PJLink address, as projector-test prints it: power, lamp, flags, or the trouble.

    Every projector is read at once, each within `timeout_seconds`.
    """
    targets = pjlink_targets(loaded)
    readings = asyncio.run(_read_all(targets, timeout_seconds)) if targets else []
    lines = []
    for target, reading in zip(targets, readings, strict=True):
        where = f"{target.name}: PJLink {target.host}:{target.port}"
        if isinstance(reading, ProjectorError):
            lines.append(f"{where}: {reading}")
            continue
        flags = ", ".join(f"{part} {level}" for part, level in reading.errors.items() if level != "ok") or "flags ok"
        lamp = f", lamp {reading.lamp_hours} h" if reading.lamp_hours is not None else ""
        lines.append(f"{where}: {reading.power.value}{lamp}, {flags}")
    return lines


async def _read_all(targets: list[PjlinkTarget], timeout_seconds: float) -> list[ProjectorReading | ProjectorError]:
    async def one(target: PjlinkTarget) -> ProjectorReading | ProjectorError:
        try:
            return await PjlinkClient(target, timeout_seconds).read()
        except ProjectorError as problem:
            return problem

    return list(await asyncio.gather(*(one(target) for target in targets)))
