"""The queues form ↔ the queues document: the shipped document survives the round trip (same queues,
its explanation kept), typed values are read into the document or refused at their field, the
model's problems are placed at theirs, and a closed queue is passed by in routing."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import yaml
from multidict import MultiDict

from handoff.queues import QueueDirectory, QueuesFile
from lotsa.admin import queue_form, queue_preview
from lotsa.admin.bundle import Invalid, validate
from lotsa.admin.documents import file_documents
from lotsa.admin.queue_form import FieldProblem, QueueForm, SettingsForm
from lotsa.settings import default_config_dir
from triage.result import TriageResult
from triage.routing import pick_queue

CONFIG = default_config_dir()
SHIPPED = (CONFIG / "queues.yaml").read_text(encoding="utf-8")
FILES = file_documents(CONFIG)


def model(content: str) -> QueuesFile:
    return QueuesFile.model_validate(yaml.safe_load(content))


def written(form: queue_form.QueuesForm) -> str:
    text, problems = queue_form.to_document(form)
    assert text is not None, problems
    return text


def test_the_shipped_document_comes_back_as_the_same_queues_with_its_explanation() -> None:
    form = queue_form.from_document(SHIPPED)
    sells = form.queues[1]
    assert (sells.id, sells.names["sv"], sells.groups) == ("sells", "Säljer eller har sålt sex", ["sells"])
    assert not sells.own_hours and sells.settings.hours["mon"] == "09:00-21:00"    # shown: the defaults'
    assert sells.settings.hours["sun"] == "" and sells.settings.referrals[1] == "mikamottagning"
    acute = form.queues[0]
    assert acute.acute and acute.own_exceptions and acute.settings.exceptions == ""    # its own: none
    assert form.defaults.exceptions == "2026-12-24 10:00-14:00\n2026-12-31 10:00-14:00"
    text = written(form)
    assert model(text) == model(SHIPPED)
    assert text.startswith("# Staffed queues.") and queue_form.header_of(text) == queue_form.header_of(SHIPPED)
    assert "  - id: sells\n    name: {sv: Säljer eller har sålt sex, en: Sells or has sold sex}\n" in text
    assert queue_form.same_queues(text, SHIPPED)
    validate("queues", "queues", text, FILES)                   # the real loaders accept it


def test_a_document_without_hours_is_open_around_the_clock_in_the_form_too() -> None:
    content = "queues:\n  - {id: all, name: {sv: Alla}, groups: [sells]}\n  - {id: b, name: {sv: B}, groups: [buys]}\n"
    form = queue_form.from_document(content)
    assert form.defaults.hours["sun"] == "00:00-24:00" and form.defaults.holidays == "00:00-24:00"
    when = datetime(2026, 12, 25, 3, 0, tzinfo=UTC)             # Christmas Day, at night
    before, after = (QueueDirectory(model(c).queues, model(c)) for c in (content, written(form)))
    assert before.is_open("all", when) and after.is_open("all", when)


@pytest.mark.parametrize("value", ["Köer: \"akut\" #1", "yes", "12:30", "- list?", "{not: a map}", "  spaced  ",
                                   "Seri în limba română", "@home", "null"])
def test_any_typed_name_is_written_so_that_it_reads_back_the_same(value: str) -> None:
    form = queue_form.from_document(SHIPPED)
    form.queues[3].names["en"] = value
    form.defaults.ooh["sv"] = value + " — ring 112"
    document = model(written(form))
    assert document.queues[3].name["en"] == value.strip()
    assert document.defaults.out_of_hours is not None
    assert document.defaults.out_of_hours.text["sv"] == (value + " — ring 112").strip()


def test_typed_hours_exceptions_and_limits_become_the_document() -> None:
    form = queue_form.from_document(SHIPPED)
    relatives = form.queues[3]
    relatives.own_hours, relatives.own_exceptions = True, True
    relatives.settings.hours = {**relatives.settings.hours, "mon": "09:00 - 12:00, 13:00-21:00", "sat": ""}
    relatives.settings.exceptions = "2026-06-19: 10:00-14:00\n\n2026-06-20\n"
    relatives.settings.max_wait = "45"
    relatives.languages = "RO, bg"
    relatives.closed = False
    data, problems = queue_form.to_data(form)
    assert problems == {}
    queue = data["queues"][3]
    assert queue["hours"]["mon"] == ["09:00-12:00", "13:00-21:00"] and "sat" not in queue["hours"]
    assert queue["exceptions"] == {"2026-06-19": ["10:00-14:00"], "2026-06-20": []}    # a date alone: closed
    assert queue["max_wait_minutes"] == 45 and queue["languages"] == ["ro", "bg"]
    assert "holidays" not in queue                               # not its own: the defaults'
    relatives.own_hours = False
    assert "hours" not in queue_form.to_data(form)[0]["queues"][3]


def test_typed_mistakes_are_refused_at_their_field() -> None:
    form = queue_form.from_document(SHIPPED)
    buys = form.queues[2]
    buys.own_hours = buys.own_exceptions = True
    buys.settings.hours["tue"] = "9-17"
    buys.settings.exceptions = "christmas 10:00-14:00\n2026-02-30"
    buys.settings.max_wait = "1441"
    buys.languages = "ro, klingon"
    form.defaults.holidays = "18:00-12:00"
    text, problems = queue_form.to_document(form)
    assert text is None
    assert problems == {
        "q2-hours": FieldProblem("bad_span", {"value": "tue: 9-17"}),
        "q2-exceptions": FieldProblem("bad_date", {"value": "christmas 10:00-14:00"}),
        "q2-max_wait": FieldProblem("bad_minutes", {"value": "1441"}),
        "q2-languages": FieldProblem("bad_language", {"value": "klingon", "known": ", ".join(queue_form.KNOWN_LANGUAGES)}),
        "d-holidays": FieldProblem("bad_span", {"value": "18:00-12:00"}),
    }


def test_what_the_form_ignores_it_does_not_refuse() -> None:
    """Hours typed for a queue that keeps the defaults' are not its own: nothing to refuse there."""
    form = queue_form.from_document(SHIPPED)
    form.queues[2].settings.hours["tue"] = "9-17"
    assert queue_form.to_document(form)[1] == {}


def problems_of(form: queue_form.QueuesForm) -> dict[str, str]:
    """The real validation's problems, placed at the fields the page shows them next to."""
    try:
        validate("queues", "queues", written(form), FILES)
    except Invalid as e:
        return {str(queue_form.field_of(p.key, p.message, form)): p.message for p in e.problems}
    return {}


@pytest.mark.parametrize(("change", "field", "says"), [
    (lambda f: setattr(f.queues[1], "closed", True), "q1-closed", "no open queue would serve sells"),
    (lambda f: setattr(f.queues[0], "closed", True), "q0-closed", "the acute queue is never closed"),
    (lambda f: setattr(f.queues[4], "acute", True), "q4-acute", "at most one queue is acute"),
    (lambda f: setattr(f.queues[5], "id", "sells"), "q5-id", "used twice"),
    (lambda f: setattr(f.queues[5], "id", "Not An Id"), "q5-id", "pattern"),
    (lambda f: setattr(f.queues[2], "groups", ["buys", "sells"]), "q2-groups", "never mixed"),
    (lambda f: setattr(f.queues[3], "groups", []), "q3-groups", "at least 1"),
    (lambda f: setattr(f.queues[3], "names", {"sv": " ", "en": ""}), "q3-names", "name in at least one language"),
    (lambda f: setattr(f.queues[1].settings, "referrals", ["nowhere"]), "q1-referrals", "not in referrals.yaml"),
    (lambda f: setattr(f, "timezone", "Mars/Olympus"), "timezone", "Mars/Olympus"),
    (lambda f: setattr(f, "holiday_calendar", "XX"), "holiday_calendar", "XX"),
])
def test_the_documents_own_rules_are_shown_at_their_field(change: Any, field: str, says: str) -> None:
    form = queue_form.from_document(SHIPPED)
    change(form)
    problems = problems_of(form)
    assert field in problems and says in problems[field], problems


def test_posted_fields_are_read_as_typed() -> None:
    posted = MultiDict([("timezone", " Europe/Stockholm "), ("holiday_calendar", "SE"), ("queue_count", "1"),
                        ("q0-id", "ro-evening"), ("q0-name-ro", "Seri"), ("q0-name-sv", ""), ("q0-groups", "sells"),
                        ("q0-groups", "other"), ("q0-own_hours", "1"), ("q0-hours-mon", "18:00-24:00\r\n"),
                        ("q0-referrals", "kast"), ("q0-referrals", "emergency_112"), ("q0-new", "1"),
                        ("q0-ooh-ro", "Suntem închiși."), ("d-max_wait", "15"), ("q0-closed", "0"),
                        ("q1-id", "beyond the count")])
    form = queue_form.from_post(posted, ["sv", "en", "ro"])
    assert form.timezone == "Europe/Stockholm" and len(form.queues) == 1
    queue = form.queues[0]
    assert queue.id == "ro-evening" and queue.names == {"sv": "", "en": "", "ro": "Seri"} and queue.new
    assert queue.groups == ["sells", "other"] and queue.own_hours and not queue.own_holidays and not queue.closed
    assert queue.settings.referrals == ["kast", "emergency_112"]           # in the order given
    assert queue.settings.ooh["ro"] == "Suntem închiși." and form.defaults.max_wait == "15"
    data, problems = queue_form.to_data(form)
    assert problems == {} and data["queues"][0]["name"] == {"ro": "Seri"}
    assert data["queues"][0]["hours"] == {"mon": ["18:00-24:00"]}


def test_a_new_queue_starts_from_the_defaults_hours() -> None:
    defaults = SettingsForm(hours={"mon": "09:00-17:00"}, holidays="10:00-12:00", exceptions="2026-12-24")
    queue = queue_form.blank_queue(defaults)
    assert queue.new and not queue.own_hours and queue.settings.hours == {"mon": "09:00-17:00"}
    assert queue.settings.exceptions == "2026-12-24" and queue == QueueForm(settings=queue.settings, new=True)


def test_problem_keys_map_to_fields() -> None:
    form = queue_form.from_document(SHIPPED)
    assert queue_form.field_of("queues.3.hours.mon", "", form) == "q3-hours"
    assert queue_form.field_of("queues.sells.out_of_hours.referrals", "", form) == "q1-referrals"
    assert queue_form.field_of("queues.general.out_of_hours.text", "", form) == "q5-ooh"
    assert queue_form.field_of("defaults.max_wait_minutes", "", form) == "d-max_wait"
    assert queue_form.field_of("defaults.exceptions.2026-12-24", "", form) == "d-exceptions"
    assert queue_form.field_of("queues.2", "groups: ['pimps'] not in …", form) == "q2-groups"
    assert queue_form.field_of("queues.2", "name: give the queue a name", form) == "q2-names"
    assert queue_form.field_of("queues.9.id", "", form) is None and queue_form.field_of("", "x", form) is None


def ro_evening(shipped: QueuesFile, closed: bool = False) -> QueueDirectory:
    extra = shipped.queues[0].model_copy(update={
        "id": "ro-evening", "name": {"en": "Romanian evenings"}, "acute": False, "groups": ["sells"],
        "languages": ["ro"], "closed": closed})
    queues = [shipped.queues[0], extra, *shipped.queues[1:]]
    config = shipped.model_copy(update={"queues": queues})
    return QueueDirectory(queues, config)


def test_a_closed_queue_is_passed_by_and_the_preview_shows_the_change() -> None:
    shipped = model(SHIPPED)
    active = QueueDirectory(shipped.queues, shipped)
    opened, closed = ro_evening(shipped), ro_evening(shipped, closed=True)
    romanian = TriageResult(group="sells", language="ro")
    assert pick_queue(romanian, opened.rules()) == "ro-evening"
    assert pick_queue(romanian, closed.rules()) == "sells" and not closed.takes_new("ro-evening")
    assert closed.takes_new("sells") and not closed.takes_new("nowhere")
    night = datetime(2026, 12, 2, 22, 30, tzinfo=UTC)                       # a Wednesday, 23:30 in Stockholm
    rows = {(r["group"], r["language"], r["acute"]): r for r in queue_preview.preview(opened, night, "en", active)["rows"]}
    changed = rows["sells", "ro", False]
    assert changed["changed"] and changed["queue"] == "ro-evening" and changed["active"]["queue"] == "sells"
    assert changed["open_late"] and not changed["active"]["open_late"]       # open all day vs closed at 23:00
    assert not rows["sells", "sv", False]["changed"] and not rows["other", "en", True]["changed"]
