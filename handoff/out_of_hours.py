"""The answer a person gets when their queue is closed: emergency numbers first when the risk is
acute, then when the queue opens, then the configured referrals."""
from __future__ import annotations

from datetime import datetime

from handoff.directory import Directory
from handoff.queues import QueueDirectory
from lotsa.texts import Catalogue


class OutOfHours:
    def __init__(self, queues: QueueDirectory, directory: Directory, texts: Catalogue) -> None:
        self.queues = queues
        self.directory = directory
        self.texts = texts

    def answer(self, queue_id: str | None, language: str | None, acute: bool, now: datetime) -> str | None:
        """The text to send when the queue is closed at `now`; None while it is open."""
        queue = self.queues.get(queue_id)
        if queue is None or queue.hours.is_open(now):
            return None
        lang = language if language in ("sv", "en") else "en"
        lines = [self.texts.text("out_of_hours.emergency", lang)] if acute else []
        lines.append(queue.out_of_hours_text.get(lang) or queue.out_of_hours_text.get("en", ""))
        opens = queue.hours.next_opening(now)
        if opens is not None:
            local = opens.astimezone(queue.hours.zone)
            day = self.texts.text(f"out_of_hours.weekday_{local.weekday()}", lang)
            lines.append(self.texts.text("out_of_hours.opens", lang, when=f"{day} {local:%H:%M}"))
        for ref_id in queue.out_of_hours_referrals:
            referral = self.directory.referrals.get(ref_id)
            if referral is not None and not (acute and ref_id == "emergency_112"):
                lines.append("- " + referral.localised(lang)["text"])
        return "\n".join(line for line in lines if line)
