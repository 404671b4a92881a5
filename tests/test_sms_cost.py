"""What the automatic SMS texts cost: the segment counter against the carriers' rules, and the
segments of every text the service sends by itself, pinned per language.

A pinned count that changes fails here on purpose: a longer text, or one letter outside GSM-7 in
a Swedish or English text, can double what each conversation costs and halve how many people the
sending number reaches per second (`twilio_segments_per_second`). Update the pin when the change
is meant; `python benchmarks/sms_cost.py` prints the segments of whole conversations.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.sms_segments import GSM7_BASIC, GSM7_EXTENSION, sms_cost
from bot.twilio_sms import bodies
from handoff.directory import Directory
from handoff.out_of_hours import OutOfHours
from handoff.queues import QueueDirectory
from lotsa.settings import default_config_dir
from lotsa.texts import Catalogue
from triage.runner import TriageRunner
from triage.script import load_scripts

CONFIG = default_config_dir()
LANGUAGES = ("sv", "en", "ro", "bg")
CLOSED = datetime(2026, 12, 6, 3, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
"""A Sunday night: every queue but the acute one is closed (it opens Monday 09:00)."""
CATALOGUE_KEYS = ("commands.text_only", "commands.erased", "commands.stopped", "commands.started",
                  "commands.help", "commands.code_word_set", "commands.code_word_cleared", "commands.quiet_set",
                  "commands.quiet_cleared", "commands.quiet_bad", "commands.safe_check", "handoff.surge",
                  "handoff.claimed", "handoff.closed", "handoff.transferred", "handoff.reassigned",
                  "handoff.returned")

# Segments of each automatic SMS (all its bodies together) in sv, en, ro, bg. Swedish and English are
# GSM-7 throughout (checked below); Romanian and Bulgarian need UCS-2 for their own letters.
PINNED: dict[str, tuple[int, int, int, int]] = {
    "step.language": (2, 2, 3, 4),
    "step.who": (2, 2, 4, 4),
    "step.tell": (1, 1, 3, 3),
    "step.information": (2, 2, 4, 4),
    "step.goodbye": (1, 1, 1, 1),
    "step.handoff": (1, 1, 2, 2),
    "not_understood.who": (2, 2, 4, 4),
    "acute_handoff": (1, 1, 2, 2),
    "human_handoff": (1, 1, 2, 1),
    "commands.text_only": (1, 1, 1, 1),
    "commands.erased": (1, 1, 2, 2),
    "commands.stopped": (1, 1, 2, 2),
    "commands.started": (1, 1, 1, 1),
    "commands.help": (2, 2, 4, 4),
    "commands.code_word_set": (1, 1, 2, 2),
    "commands.code_word_cleared": (1, 1, 1, 1),
    "commands.quiet_set": (1, 1, 1, 1),
    "commands.quiet_cleared": (1, 1, 1, 1),
    "commands.quiet_bad": (1, 1, 2, 2),
    "commands.safe_check": (1, 1, 1, 2),
    "handoff.surge": (1, 1, 3, 3),
    "handoff.claimed": (1, 1, 1, 1),
    "handoff.closed": (1, 1, 2, 2),
    "handoff.transferred": (1, 1, 2, 2),
    "handoff.reassigned": (1, 1, 1, 1),
    "handoff.returned": (1, 1, 2, 2),
    "out_of_hours.sells": (4, 4, 4, 4),
    "out_of_hours.sells.acute": (4, 3, 3, 3),
    "out_of_hours.buys": (3, 3, 3, 3),
    "out_of_hours.buys.acute": (2, 2, 2, 2),
    "out_of_hours.relatives": (3, 3, 3, 3),
    "out_of_hours.relatives.acute": (3, 3, 3, 3),
    "out_of_hours.professionals": (3, 3, 3, 3),
    "out_of_hours.professionals.acute": (3, 3, 3, 3),
    "out_of_hours.general": (3, 3, 3, 3),
    "out_of_hours.general.acute": (3, 3, 3, 3),
}


def automatic_texts(lang: str) -> dict[str, list[str]]:
    """Every text the service sends by itself to a person on SMS in `lang`, as the SMS bodies it
    goes out as (numbered choices included)."""
    script = load_scripts(CONFIG / "triage")["default"]
    runner, spec = TriageRunner(script), script.spec
    catalogue = Catalogue.load(CONFIG / "texts")
    texts: dict[str, list[str]] = {}
    for step_id, step in spec.steps.items():
        if step.choices or step.free_text:
            prompt = runner.prompt_for({"step": step_id, "language": lang, "channel": "sms"})
            texts[f"step.{step_id}"] = bodies(prompt.text, prompt.choices)
        elif step.end:
            texts[f"step.{step_id}"] = bodies(spec.text(step.text, lang, "sms"))
    who = runner.prompt_for({"step": "who", "language": lang, "channel": "sms"})
    texts["not_understood.who"] = bodies(spec.text(spec.not_understood, lang, "sms"), who.choices)
    for key in ("acute_handoff", "human_handoff"):
        texts[key] = bodies(spec.text(getattr(spec, key), lang, "sms"))
    for key in CATALOGUE_KEYS:
        texts[key] = bodies(catalogue.text(key, lang, start="22", end="07"))
    directory = Directory.load(CONFIG)
    queues = QueueDirectory.load(CONFIG / "queues.yaml", known_referrals=set(directory.referrals))
    out_of_hours = OutOfHours(queues, directory, catalogue)
    for queue in queues.queues:
        for acute in (False, True):
            answer = out_of_hours.answer(queue, lang, acute, CLOSED)
            if answer is not None:
                texts[f"out_of_hours.{queue}" + (".acute" if acute else "")] = bodies(answer)
    return texts


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_automatic_sms_costs_the_pinned_segments(lang: str) -> None:
    column = LANGUAGES.index(lang)
    found = {name: sum(sms_cost(body).segments for body in parts) for name, parts in automatic_texts(lang).items()}
    assert found == {name: counts[column] for name, counts in PINNED.items()}


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_swedish_and_english_automatic_sms_are_gsm7(lang: str) -> None:
    forcing = {name: sms_cost(body).offending for name, parts in automatic_texts(lang).items() for body in parts
               if sms_cost(body).encoding != "GSM-7"}
    assert forcing == {}, "these texts need UCS-2 because of the characters shown"


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_the_greeting_with_its_language_menu_fits_two_segments(lang: str) -> None:
    [greeting] = automatic_texts(lang)["step.language"]
    assert "\n3 Romana\n4 Balgarski\n" in greeting
    assert sms_cost(greeting).encoding == "GSM-7" and sms_cost(greeting).segments <= 2


# -- the counter against the carriers' rules -------------------------------------------------------

@pytest.mark.parametrize(("text", "encoding", "units", "segments"), [
    ("", "GSM-7", 0, 1),
    ("a" * 160, "GSM-7", 160, 1),
    ("a" * 161, "GSM-7", 161, 2),
    ("a" * 306, "GSM-7", 306, 2),
    ("a" * 307, "GSM-7", 307, 3),
    ("Hej! Här är åäöÅÄÖ é ü ñ ß @£$¥ §¿¡ _\n", "GSM-7", 38, 1),
    ("€" * 80, "GSM-7", 160, 1),            # an extension character costs two septets
    ("€" + "a" * 159, "GSM-7", 161, 2),
    ("a" * 152 + "€" + "a" * 10, "GSM-7", 164, 2),   # the escape pair is never split: 152 | 2 + 10
    ("a" * 152 + "€" + "a" * 152, "GSM-7", 306, 3),  # so 306 septets can need three segments
    ("ă" + "a" * 69, "UCS-2", 70, 1),
    ("ă" + "a" * 70, "UCS-2", 71, 2),
    ("Б" * 134, "UCS-2", 134, 2),
    ("Б" * 135, "UCS-2", 135, 3),
    ("•" + "a" * 60, "UCS-2", 61, 1),        # one bullet makes the whole text UCS-2
    ("\U0001F600" * 35, "UCS-2", 70, 1),     # a surrogate pair is two code units
    ("a" * 66 + "\U0001F600" + "a", "UCS-2", 69, 1),
    ("a" * 66 + "\U0001F600" + "a" * 2, "UCS-2", 70, 1),
    ("a" * 66 + "\U0001F600" + "a" * 3, "UCS-2", 71, 2),  # 66 | 2 + 3: the pair is not split
    ("a" * 66 + "\U0001F600" + "a" * 65, "UCS-2", 133, 2),
    ("a" * 66 + "\U0001F600" + "a" * 66, "UCS-2", 134, 3),
    ("ç", "UCS-2", 1, 1),                    # GSM-7 has the capital Ç only
])
def test_segments_are_counted_as_carriers_do(text: str, encoding: str, units: int, segments: int) -> None:
    cost = sms_cost(text)
    assert (cost.encoding, cost.units, cost.segments) == (encoding, units, segments)


def test_the_alphabet_has_the_128_basic_characters_less_the_escape_and_the_extension_table() -> None:
    assert len(GSM7_BASIC) == 127 and "\x1b" not in GSM7_BASIC
    assert GSM7_EXTENSION == set("\f^{}\\[~]|€") and not GSM7_BASIC & GSM7_EXTENSION


@given(st.text(alphabet=sorted(GSM7_BASIC | GSM7_EXTENSION) + ["ă", "Б", "\U0001F600"], max_size=700))
def test_segments_hold_the_text_and_no_more_than_needed(text: str) -> None:
    cost = sms_cost(text)
    single, part = (160, 153) if cost.encoding == "GSM-7" else (70, 67)
    if cost.units <= single:
        assert cost.segments == 1
    else:
        # Enough room for every unit, and at most one unit lost at each boundary (a split pair).
        assert cost.segments * part >= cost.units
        assert cost.units > (cost.segments - 1) * (part - 1)

