"""The answer a person gets when their queue is closed: emergency numbers first when the risk is
acute, then when the queue opens, then the configured referrals."""
from __future__ import annotations

from datetime import datetime

from handoff.directory import Directory
from handoff.queues import QueueDirectory

EMERGENCY = {
    "sv": "Är du i fara just nu: ring 112.",
    "en": "If you are in danger right now, call 112.",
}
OPENS = {"sv": "Vi öppnar igen {when}.", "en": "We open again {when}."}
WEEKDAY_NAMES = {
    "sv": ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}


class OutOfHours:
    def __init__(self, queues: QueueDirectory, directory: Directory) -> None:
        self.queues = queues
        self.directory = directory

    def answer(self, queue_id: str | None, language: str | None, acute: bool, now: datetime) -> str | None:
        """The text to send when the queue is closed at `now`; None while it is open."""
        queue = self.queues.get(queue_id)
        if queue is None or queue.hours.is_open(now):
            return None
        lang = language if language in ("sv", "en") else "en"
        lines = [EMERGENCY[lang]] if acute else []
        lines.append(queue.out_of_hours_text.get(lang) or queue.out_of_hours_text.get("en", ""))
        opens = queue.hours.next_opening(now)
        if opens is not None:
            local = opens.astimezone(queue.hours.zone)
            lines.append(OPENS[lang].format(when=f"{WEEKDAY_NAMES[lang][local.weekday()]} {local:%H:%M}"))
        for ref_id in queue.out_of_hours_referrals:
            referral = self.directory.referrals.get(ref_id)
            if referral is not None and not (acute and ref_id == "emergency_112"):
                lines.append("• " + referral.localised(lang)["text"])
        return "\n".join(line for line in lines if line)
