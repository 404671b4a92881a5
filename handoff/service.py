"""The handoff parts the app factory wires together: queues, directory, wait estimates, drop-off."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from handoff.directory import Directory
from handoff.queues import QueueDirectory
from handoff.waits import WaitInfo


@dataclass(frozen=True)
class Handoff:
    queues: QueueDirectory
    directory: Directory
    waits: WaitInfo
    drop_after: timedelta
    sweep_every: float

    @property
    def heartbeat_every(self) -> float:
        """Console sockets stamp their presence this often: well inside the drop-off time."""
        return max(1.0, min(30.0, self.drop_after.total_seconds() / 4))
