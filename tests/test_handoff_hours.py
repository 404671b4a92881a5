"""Opening hours (Europe/Stockholm, Swedish public holidays, exceptions), queue configuration
validation, the out-of-hours answer and wait estimates: pure functions, no server."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from handoff.directory import Directory
from handoff.out_of_hours import OutOfHours
from handoff.queues import QueueConfigError, QueueDirectory
from handoff.waits import MIN_CLAIMS, estimate_wait
from lotsa.settings import default_config_dir
from lotsa.texts import Catalogue

CONFIG = default_config_dir()


def stockholm(*args: int) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(*args, tzinfo=ZoneInfo("Europe/Stockholm"))


@pytest.fixture(scope="module")
def queues() -> QueueDirectory:
    return QueueDirectory.load(CONFIG / "queues.yaml")


def test_weekday_hours_are_local_time(queues: QueueDirectory) -> None:
    sells = queues.get("sells")
    assert sells is not None
    assert sells.hours.is_open(stockholm(2026, 11, 25, 9, 0))        # a Wednesday, opening minute
    assert not sells.hours.is_open(stockholm(2026, 11, 25, 8, 59))
    assert not sells.hours.is_open(stockholm(2026, 11, 25, 21, 0))   # the end is exclusive
    # 20:30 UTC in winter is 21:30 in Stockholm: closed; in summer 20:30 UTC is 22:30, also closed,
    # while 18:30 UTC in summer is 20:30 local: open.
    assert not sells.hours.is_open(datetime(2026, 11, 25, 20, 30, tzinfo=UTC))
    assert sells.hours.is_open(datetime(2026, 6, 10, 18, 30, tzinfo=UTC))
    assert not sells.hours.is_open(stockholm(2026, 11, 29, 13, 0))   # Sunday: not listed, closed


def test_public_holidays_and_exceptions(queues: QueueDirectory) -> None:
    sells = queues.get("sells")
    assert sells is not None
    # Good Friday 2026 (a Friday, normally 09-21) keeps holiday hours 12-18.
    assert sells.hours.holiday_name(stockholm(2026, 4, 3).date()) is not None
    assert not sells.hours.is_open(stockholm(2026, 4, 3, 10, 0))
    assert sells.hours.is_open(stockholm(2026, 4, 3, 12, 30))
    # Midsummer Day, National Day and Christmas Day are holidays too.
    for day in ((2026, 6, 20), (2026, 6, 6), (2026, 12, 25)):
        assert sells.hours.holiday_name(stockholm(*day).date()) is not None
    # Christmas Eve is an exception: 10-14 only.
    assert sells.hours.is_open(stockholm(2026, 12, 24, 11, 0))
    assert not sells.hours.is_open(stockholm(2026, 12, 24, 15, 0))


def test_acute_queue_is_always_open(queues: QueueDirectory) -> None:
    acute = queues.get("acute")
    assert acute is not None and acute.hours.always
    for when in (stockholm(2026, 12, 25, 3, 0), stockholm(2026, 12, 24, 23, 59), stockholm(2026, 11, 29, 4, 0)):
        assert acute.hours.is_open(when)


def test_next_opening_skips_closed_days(queues: QueueDirectory) -> None:
    sells = queues.get("sells")
    assert sells is not None
    saturday_night = stockholm(2026, 11, 28, 22, 0)
    assert sells.hours.next_opening(saturday_night) == stockholm(2026, 11, 30, 9, 0)   # Sunday closed
    assert sells.hours.next_opening(stockholm(2026, 11, 25, 10, 0)) == stockholm(2026, 11, 25, 10, 0)


def test_queue_limits_and_defaults(queues: QueueDirectory) -> None:
    assert queues.get("acute").max_wait == timedelta(minutes=2)
    assert queues.get("sells").max_wait == timedelta(minutes=15)
    assert queues.get("professionals").max_wait == timedelta(minutes=30)
    assert "mikamottagning" in queues.get("sells").out_of_hours_referrals
    assert queues.get("relatives").out_of_hours_referrals[0] == "emergency_112"


@pytest.mark.parametrize(("edit", "names"), [
    (lambda t: t.replace('mon: ["09:00-21:00"]', 'mon: ["21:00-09:00"]', 1), "defaults.hours"),
    (lambda t: t.replace("holiday_calendar: SE", "holiday_calendar: XX"), "holiday_calendar"),
    (lambda t: t.replace("timezone: Europe/Stockholm", "timezone: Mars/Olympus"), "timezone"),
    (lambda t: t.replace("groups: [buys]", "groups: [buys, sells]"), "never mixed"),
    (lambda t: t.replace("    max_wait_minutes: 2\n", "    max_wait_minutes: 0\n"), "queues.0.max_wait_minutes"),
    (lambda t: t.replace("      referrals: [emergency_112, kast]", "      referrals: [emergency_112, nowhere]"),
     "queues.buys.out_of_hours.referrals"),
])
def test_invalid_queue_file_names_the_file_and_key(tmp_path: Path, edit: object, names: str) -> None:
    path = tmp_path / "queues.yaml"
    path.write_text(edit((CONFIG / "queues.yaml").read_text(encoding="utf-8")), encoding="utf-8")
    known = set(Directory.load(CONFIG).referrals)
    with pytest.raises(QueueConfigError) as error:
        QueueDirectory.load(path, known_referrals=known)
    assert str(path) in str(error.value) and names in str(error.value)


def test_out_of_hours_answer_puts_emergency_first_when_acute(queues: QueueDirectory) -> None:
    answer = OutOfHours(queues, Directory.load(CONFIG), Catalogue.load(CONFIG / "texts"))
    night = stockholm(2026, 11, 25, 23, 30)
    assert answer.answer("sells", "en", False, stockholm(2026, 11, 25, 12, 0)) is None   # open
    routine = answer.answer("sells", "en", False, night)
    acute = answer.answer("sells", "sv", True, night)
    assert routine is not None and acute is not None
    assert routine.startswith("We are closed right now.") and "Thursday 09:00" in routine
    assert "Mika" in routine and "112" in routine
    assert acute.splitlines()[0] == "Är du i fara just nu: ring 112."
    assert "Samtalet är gratis" not in acute   # 112 comes first, not again as a referral


def test_wait_estimate_from_recent_claims() -> None:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    every_four_minutes = [now - timedelta(minutes=4 * k) for k in range(1, 6)]   # 5 claims in 20 min
    assert estimate_wait(1, every_four_minutes, now) == timedelta(minutes=4)
    assert estimate_wait(3, every_four_minutes, now) == timedelta(minutes=12)
    # Too few recent claims: no honest estimate.
    assert estimate_wait(1, every_four_minutes[:MIN_CLAIMS - 1], now) is None
    # Claims older than the window do not count.
    assert estimate_wait(1, [now - timedelta(hours=3, minutes=k) for k in range(5)], now) is None
