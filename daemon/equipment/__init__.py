"""Gallery equipment the daemon switches over the network: projectors' power over PJLink."""

from daemon.equipment.pjlink import (
    PjlinkClient,
    PjlinkTarget,
    PowerState,
    ProjectorAuthFailed,
    ProjectorBusy,
    ProjectorError,
    ProjectorFault,
    ProjectorProtocolError,
    ProjectorReading,
    ProjectorUnreachable,
)
from daemon.equipment.power import PowerKeeper

__all__ = [
    "PjlinkClient",
    "PjlinkTarget",
    "PowerKeeper",
    "PowerState",
    "ProjectorAuthFailed",
    "ProjectorBusy",
    "ProjectorError",
    "ProjectorFault",
    "ProjectorProtocolError",
    "ProjectorReading",
    "ProjectorUnreachable",
]
