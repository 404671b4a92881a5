"""What triage decides about a conversation."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from triage.vocabulary import risk_for


@dataclass(frozen=True)
class TriageResult:
    group: str = "other"
    flags: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    language: str = "sv"
    queue: str = ""
    confidence: float = 1.0
    flag_words: tuple[str, ...] = ()
    source: str | None = None

    @property
    def risk(self) -> str:
        return risk_for(self.flags)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["risk"] = self.risk
        for key in ("flags", "needs", "flag_words"):
            data[key] = list(data[key])
        return data
