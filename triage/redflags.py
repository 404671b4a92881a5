"""Red flags from rules: phrases per flag and language (spaCy Matcher) and a reader for ages.

Every rule runs on the folded text (triage.normalize.fold), in all languages at once, because
people mix languages and short messages defeat language detection. A match preceded closely by a
negation ("inte", "not", "nu", "не", …) does not count; an age counts only when it is under 18, is
the person's age now (not "when I was 15") and is not minutes, money or a date.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass, field
from datetime import date

from spacy.language import Language
from spacy.tokens import Doc

from triage.explain import Evidence, Span
from triage.phrasebook import CONTEXT_KINDS, FLAG_FILES, PhraseBook
from triage.phrases import PhraseSet

NEGATORS = frozenset({
    "inte", "ej", "aldrig", "ingen", "inget", "not", "never", "no", "dont", "don't", "nobody", "noone", "isnt",
    "isn't", "wasnt", "arent", "inga", "niciun", "nicio", "никакви", "nimeni", "niciodata", "не", "никой", "никога", "нет", "ні", "nunca",
    "nadie", "nie", "nigdy", "ne", "pas", "jamais", "nao", "nicht", "kein", "keine", "nem", "لا", "ليس",
    "didnt", "didn't", "doesnt", "doesn't", "hasnt", "hasn't", "havent", "haven't", "hadnt", "hadn't",
})
NEGATION_WINDOW = 3
PARTICLES = frozenset({"sa", "ma", "mai", "да", "се", "ще", "to", "att", "vreau", "искам", "мисля", "смятам", "want",
                       "wanna", "gonna", "going", "planning", "vill", "tanker", "ska", "am", "de"})
LONG_AGO = frozenset({("ar", "sen"), ("ar", "sedan"), ("years", "ago"), ("year", "ago"), ("yrs", "ago"),
                      ("forra", "aret"), ("last", "year"), ("anul", "trecut"), ("миналата", "година"),
                      ("when", "i"), ("nar", "jag"), ("as", "a"), ("som", "tonaring"), ("i", "tonaren"),
                      ("cand", "aveam"), ("cand", "eram"), ("когато", "бях"), ("cuando", "tenia"), ("cuando", "era"),
                      ("kiedy", "mialam"), ("kiedy", "bylam"), ("когда", "была"), ("когда", "мне")})
"""Next to a suicide phrase these place it in the past ("försökte ta livet av mig för 3 år sen")."""
WHEN_I = frozenset({("when", "i"), ("nar", "jag")})
"""Of LONG_AGO, these place a phrase in the past only before a verb in the past ("när jag var 15", "when I
tried"), not in the present ("när jag vägrar ta kunder slår han mig")."""
PAST_ENDINGS = ("ed", "de", "te", "dde", "tte")
ARRIVAL = frozenset({"arrived", "came", "landed", "kom", "landade", "anlande", "got"})
"""After "when I" / "när jag", the moment of coming here: control that began then goes on ("they took my
passport when I arrived"), so it is not placed in the past."""
CURRENCIES = frozenset({"euro", "eur", "euros", "евро", "kr", "kronor", "sek", "dollars", "usd", "lei", "лв", "лева",
                        "zl", "zloty", "ft", "forint", "рублей", "гривень", "baht", "бат", "pounds", "gbp", "€", "$"})
"""A four-digit number before one of these is a sum of money, not a year ("I owe 2000 euro")."""


def _past_form(word: str) -> bool:
    """A verb in the past tense, roughly: "was", "var", "hade", or a word with a Swedish or English past ending."""
    return word in PAST_VERBS or word in ("had", "hade", "did", "gjorde", "got", "fick") or word.endswith(PAST_ENDINGS)
AGAIN = frozenset({"igen", "again", "iar", "пак", "still", "fortfarande", "inca", "още", "tonight", "ikvall", "inatt",
                   "diseara", "довечера"})
"""Next to a past time, these bring the matter back to now ("tried two years ago and will again tonight")."""
LONG_AGO_STARTS = frozenset({"acum", "преди"})
LONG_AGO_UNITS = frozenset({"ani", "години", "godini"})
CLAUSE_OPENERS = frozenset({"att", "that", "ca", "ce", "че", "что", "що", "que", "ze", "że", "dass", "an", "ان", "إن"})
"""Words that open a that-clause: a negation before one is about the verb it follows, not what comes after."""
SENTENCE_END = frozenset({".", "!", "?", ";", ":", "\n", "..", "...", "!!", "??", ",", "-", "–"})
JOKE_MARKERS = frozenset({"lol", "haha", "hahaha", "xd", "😂", "🤣", "jk", "skamt", "skojar"})
"""Where these stand, "he's gonna kill me" is a figure of speech: no danger flag from phrases."""

NUMBER_WORDS = {
    "tio": 10, "elva": 11, "tolv": 12, "tretton": 13, "fjorton": 14, "femton": 15, "sexton": 16, "sjutton": 17,
    "arton": 18, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "doisprezece": 12, "treisprezece": 13, "paisprezece": 14,
    "cincisprezece": 15, "saisprezece": 16, "saptesprezece": 17, "optsprezece": 18, "дванайсет": 12,
    "тринайсет": 13, "тринадесет": 13, "четиринайсет": 14, "четиринадесет": 14, "петнайсет": 15, "петнадесет": 15,
    "шестнайсет": 16, "шестнадесет": 16, "седемнайсет": 17, "седемнадесет": 17, "осемнайсет": 18,
    "quince": 15, "dieciseis": 16, "diecisiete": 17, "пятнадцать": 15, "шестнадцать": 16, "семнадцать": 17,
}
AGE_UNITS = frozenset({
    "ar", "argammal", "years", "year", "yrs", "yr", "yo", "y/o", "y.o", "y.o.", "ani", "anisori", "години",
    "годишна", "годишен", "годинки", "god", "godini", "лет", "года", "год", "років", "роки", "рокiв", "anos", "ans",
    "an", "lat", "jahre", "jahr", "eves", "yasinda", "yasindayim", "bast", "sano", "sanad", "سنة", "سنوات", "عاما",
    "ปี", "سال", "سالمه", "ساله", "سالشه", "سالم", "سالهام", "سالهاش", "سالش", "years-old", "year-old", "yearold", "yearsold", "y", "sym", "jir", "jiro", "godin", "godina",
})
FUSED_AGE = re.compile(
    r"^(?:(\d{1,2})-?(?:ar(?:ing\w*|ig\w*|s)?|yo|y/o|y\.o\.?|yrs?|years?|f|m|ani|годишн\w*|годишен|year-?old|years-?old|"
    r"eves|ans|lat|anos|jahre?)|[fm](\d{1,2}))$")
LEADS = frozenset({
    ("jag", "ar"), ("jag", "e"), ("ja", "e"), ("jag", "är"), ("hon", "ar"), ("hon", "e"), ("han", "ar"), ("han", "e"),
    ("i", "am"), ("she", "is"), ("he", "is"), ("she", "s"), ("he", "s"), ("she", "'s"), ("he", "'s"), ("i", "'m"), ("i", "m"), ("im",), ("i'm",), ("iam",), ("she's",),
    ("he's",), ("shes",), ("hes",), ("am",), ("aged",), ("age",), ("ålder",), ("alder",), ("на",), ("мне",),
    ("имам",), ("tengo",), ("mam",), ("ich", "bin"), ("sunt",), ("are",), ("e",), ("ar",), ("is",), ("was",),
    ("este",), ("е",), ("be",), ("съм",), ("ma",), ("na",), ("мені",), ("мне",), ("(",), (",",),
    ("ему",), ("ей",), ("йому",), ("ій",), ("عمري",), ("عمره",), ("عمرها",), ("عمر",), ("بعمر",),
})
PERSON_NOUNS = frozenset({
    "dotter", "dottern", "son", "sonen", "syster", "systern", "lillasyster", "storasyster", "bror", "brorsan", "lillebror",
    "tjej", "tjejen", "kille", "killen", "flicka", "flickan", "pojke", "pojken", "elev", "eleven", "kompis", "van",
    "daughter", "sister", "brother", "girl", "boy", "kid", "child", "niece", "nephew", "pupil", "student",
    "friend", "cousin", "kusin", "fiica", "fiul", "sora", "fratele", "fata", "baiatul", "nepoata", "eleva",
    "дъщеря", "дъщеря ми", "син", "сестра", "брат", "момиче", "момче", "племенница", "hija", "hijo",
    "дочь", "дочка", "сын", "донька", "córka", "corka", "fille", "filha", "tochter", "flickor", "flickorna",
    "tjejer", "tjejerna", "killar", "killarna", "ungdomar", "ungdomarna", "ungdom", "ungdomen", "patient",
    "patienten", "girls", "boys", "kids", "teens", "youth", "client", "klient", "klienten", "brukare", "elever",
    "eleverna", "barn", "barnen", "momiche", "момичета", "момчета", "fete", "fetele", "gabar", "wiil", "graders",
    "племяннице", "племянница", "дочери", "дочке", "сыну", "внучке", "сестре", "брату", "подруге", "сестрі", "братові", "bratanica", "siostrzenica", "sobrina", "sobrino",
    "племінниці", "доньці", "niece's", "nepotica", "barnbarn", "barnbarnet", "grandchild", "granddaughter", "grandson",
    "nepoata mea", "внучка", "внучку", "wnuczka", "nieta", "nieto",
})
PAST_MARKERS = frozenset({
    "started", "borjade", "since", "sedan", "sen", "from", "began", "when", "nar", "cand", "когато", "cuando",
    "kiedy", "als", "quand", "desde", "at",
})
PAST_VERBS = frozenset({"var", "was", "were", "aveam", "avea", "era", "бях", "bqh", "bях"})
FIRST_PERSON = frozenset({"jag", "ja", "i", "eu", "аз", "az", "yo", "я"})
DURATION_LEADS = frozenset({"i", "in", "for", "pa", "sedan", "since", "od", "от", "за", "efter", "after", "inom",
                            "within", "over", "przez", "durante", "pendant", "течение", "протягом"})
"""Before a number of years these make a duration ("köpt sex i 10 år", "in sweden 6 years"), not an age."""
PLURAL_AGE = re.compile(r"^\d{1,2}-?(aringar\w*|year-olds|yearolds|latkow|latki|latkami)$")
"""An age group named in the plural ("14-åringar", "15-year-olds"): a class of people, not a person."""
ORDINAL_AGE = re.compile(r"^(1[0-7])(th|e|:e|-arsdag\w*|arsdag\w*)$")
AGE_RANGE = re.compile(r"^(1[0-7])[-–](1[0-7])$")
GUESS_LEADS = frozenset({
    "maybe", "looked", "looks", "look", "seemed", "seems", "around", "ut", "verkar", "kanske", "typ", "like",
    "fyllde", "turned", "implinit", "навърши", "cumplio",
})
FILLERS = frozenset({
    "only", "just", "bara", "typ", "like", "nastan", "almost", "nearly", "about", "ca", "cirka", "doar", "само",
    "actually", "really", "egentligen", "faktiskt", "de fapt", "всъщност",
    "около", "aprox", "around", "approx", "kanske", "maybe", "probably", "nog", "literally", "barely", "knappt",
})
FUTURE_MARKERS = frozenset({"fyller", "turning", "turn", "implinesc", "împlinesc", "навърша", "навършвам", "cumplo"})
NOT_AGE_UNITS = frozenset({
    "min", "minuter", "minutes", "mins", "minute", "kr", "sek", "kronor", "euro", "eur", "lei", "лв", "%", "timmar",
    "tim", "hours", "hrs", "h", "dagar", "days", "veckor", "weeks", "manader", "months", "luni", "zile", "ore", "минути",
    "часа", "дни", "st", "stycken", "ggr", "ganger", "times", "km", "mil", "kg", "kilo", "procent", "tusen", "000",
    "clients", "kunder", "man", "killar", "guys", "men", "barbati", "мъже", "pm", "am",
    "pers", "personer", "people", "persons", "deltagare", "participants", "elever", "students", "kollegor",
    "colleagues", "persoane", "oameni", "души", "человек", "osob", "osoby", "personas", "fo", "szemely",
    "lax", "lakan", "papp", "k", "tkr",
})
"""After a number, words that make it a count or a sum, not an age ("vi är 8 pers", "a group of 12 students",
"15 lax": 15,000 kronor in slang)."""


@dataclass
class Flags:
    flags: set[str] = field(default_factory=set)
    words: list[str] = field(default_factory=list)
    cues: dict[str, int] = field(default_factory=dict)
    """Group cue hits (the phrase book's cues), filled in by the featurizer."""
    exchange: list[str] = field(default_factory=list)
    """Words that speak of sex or images for money, goods or a bed (the phrase book's exchange)."""
    exchange_spans: list[Span] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    """Why each flag was raised: a reason key and the spans of folded text (triage.explain)."""
    support: dict[str, list[Span]] = field(default_factory=dict)
    """Per flag, words that back the model's say on it without being enough alone."""
    needs: set[str] = field(default_factory=set)
    """Needs said in the phrase book's words (`needs`), filled in by the featurizer."""
    topic: bool = False
    """The message asks about a subject (context `topic`): the model's say is only "possible"."""
    reassured: bool = False
    """The message reassures about control by others (context `reassuring`)."""
    denied: set[str] = field(default_factory=set)
    """Flags whose words the message has but that do not count: negated ("I don't have thoughts of hurting
    myself"), over, an everyday use, a subject asked about. The classifier's say on them is only "possible"."""

    def add(self, flag: str, words: str, reason: str = "", spans: tuple[Span, ...] = ()) -> None:
        self.flags.add(flag)
        if words not in self.words:
            self.words.append(words)
        if reason:
            self.evidence.append(Evidence(flag, reason, spans))

    def back(self, flag: str, span: Span) -> None:
        self.support.setdefault(flag, []).append(span)


FLAG_LABELS = frozenset(FLAG_FILES)
DENIES = {**{flag: (flag,) for flag in FLAG_FILES}, "taken": ("suicide", "immediate_danger"),
          "support_trafficking": ("trafficking",), "support_minor": ("minor",)}
"""The flags a match that does not count speaks against. A backing word of trafficking or minor that is an
everyday use ("my passport expires", "a debt to the bank") leaves the classifier's say on it only possible;
one of suicide or danger never does (a missed person at risk costs more than a false alarm)."""
ROLE = "role"
"""A work role the writer states (context `role`): with it, a `subject` word ("människohandel", "åk 9")
in a question is a subject asked about, not an indicator."""
REASON_OF = {"minor": "minor_stated", "trafficking": "control_by_others", "immediate_danger": "danger_words",
             "suicide": "suicide_words"}
"""The reason key of a flag raised by one of its phrases."""
SINGLE_PERSON = frozenset({"jag", "mig", "mej", "min", "mitt", "mina", "me", "my", "im", "i'm", "hon", "henne",
                           "hennes", "han", "honom", "hans", "she", "her", "he", "him", "his", "eu", "ea", "el", "mea",
                           "meu", "аз", "тя", "той", "ми", "ме", "я", "она", "он", "yo", "ella", "ja", "ona", "moja"})
"""Where one of these stands in the sentence, a phrase after "women who" is about someone in particular. Not
"i": in Swedish and Romanian it is "in" ("offer för människohandel i Sverige")."""
SELF_LEADS = frozenset({"i'm", "im", "am", "'m", "jag", "ja", "eu", "sunt", "аз", "съм", "yo", "я", "ich"})
INCIDENTAL_REACH = 6
"""An everyday use ("gambling debt", "passport office") covers a flag phrase it overlaps or that follows
within this many words in the same sentence ("skulder hos kronofogden ... betala av")."""
ANIMAL_REACH = 3
"""Words allowed between an animal and the verb of swallowing ("the dog might have eaten")."""


def _chars(doc: Doc, start: int, end: int) -> Span:
    """The folded-text character offsets of tokens start..end."""
    end = min(end, len(doc))
    return (doc[start].idx, doc[end - 1].idx + len(doc[end - 1].text)) if end > start else (0, 0)


def _near(s: int, e: int, start: int, end: int) -> bool:
    """Whether a match start..end overlaps s..e or lies within INCIDENTAL_REACH words of it."""
    return start < e + INCIDENTAL_REACH and s < end + INCIDENTAL_REACH


def _same_sentence(lowered: list[str], a: int, b: int) -> bool:
    low, high = min(a, b), max(a, b)
    return not any(t in SENTENCE_STOPS for t in lowered[low:high])


@dataclass
class Context:
    """The context spans of a message (phrase book `context`) and the idioms, by kind."""

    spans: dict[str, list[tuple[int, int]]]
    idioms: list[tuple[int, int]]
    lowered: list[str]

    @classmethod
    def of(cls, matches: list[tuple[str, int, int]], lowered: list[str], negated: Callable[[int], bool]) -> Context:
        """The context spans among a message's matches; reassurance or an end of danger that is itself
        negated ("nu am pașaportul meu", "I'm not safe now") does not count."""
        spans: dict[str, list[tuple[int, int]]] = {kind: [] for kind in CONTEXT_KINDS}
        for label, start, end in matches:
            kind = label.removeprefix("ctx_")
            if label.startswith("ctx_") and not (kind in ("reassuring", "over") and negated(start)):
                spans[kind].append((start, end))
        return cls(spans, [(s, e) for label, s, e in matches if label == "idiom"], lowered)

    def cancels(self, label: str, start: int, end: int) -> bool:
        """A flag phrase or signal that is an everyday use, a subject asked about, reassured against
        (trafficking) or said of a class of people."""
        if self.near("incidental", start, end):
            return True
        if _inside(self.spans["subject"], start, end) and not self._own(label, start) and (
                self.spans["topic"] or (self.spans[ROLE] and self._question(end))):
            return True
        if label == "minor" and self.spans["topic"] and PLURAL_AGE.match(self.lowered[start]):
            return True  # an age group in a message about a topic ("material som passar 14-åringar")
        if label == "trafficking" and any(_same_sentence(self.lowered, s, start) for s, _ in self.spans["reassuring"]):
            return True
        if label == "trafficking" and self._over_in_sentence(start, end):
            return True
        if label == "trafficking" and self.near("client", start, end):
            return True
        return any(s < start and _same_sentence(self.lowered, s, start) and not self._someone(s, end)
                   for s, _ in self.spans["class"])

    def near(self, kind: str, start: int, end: int) -> bool:
        """Whether a span of this kind overlaps start..end or lies within INCIDENTAL_REACH words of it, in the
        same sentence."""
        return any(_near(s, e, start, end) and _same_sentence(self.lowered, min(s, start), max(e, end) - 1)
                   for s, e in self.spans[kind])

    def _question(self, end: int) -> bool:
        """Whether the sentence a match is in ends with a question mark ("Kan det vara människohandel?")."""
        for token in self.lowered[end:]:
            if token in SENTENCE_STOPS:
                return "?" in token
        return False

    def _over_in_sentence(self, start: int, end: int) -> bool:
        """Control by others told as over in its own sentence ("my ex who sold me has moved away", "in jail
        for pimping"), with nothing in the sentence saying it goes on now."""
        return any(_same_sentence(self.lowered, min(s, start), max(e, end) - 1) for s, e in self.spans["over"]) and \
            self.over_now(start, end)

    def swallowed_by_animal(self, start: int) -> bool:
        """A pet or an animal (context `animal`) ends at most ANIMAL_REACH words before an overdose or poison
        taken (or pills swallowed), in its sentence: "my dog ate rat poison", "hunden har ätit råttgift".
        Whoever swallowed it is no person at risk."""
        return any(start - ANIMAL_REACH <= e <= start and _same_sentence(self.lowered, s, start)
                   for s, e in self.spans["animal"])

    def _own(self, label: str, start: int) -> bool:
        """A school year said of oneself ("I'm in year 9", "jag går i nian"): a minor writing, topic or not."""
        return label == "minor" and any(t in SELF_LEADS for t in self.lowered[max(0, start - 3):start])

    def _someone(self, start: int, end: int) -> bool:
        """A particular person in the sentence around start..end ("the men who took MY passport")."""
        return any(t in SINGLE_PERSON for t in _sentence(self.lowered, start, end, 12))

    def over_now(self, start: int, end: int) -> bool:
        """Danger that is over (context `over`) in the message, and nothing in the match's sentence says
        it is happening now."""
        if not self.spans["over"]:
            return False
        sentence = _sentence(self.lowered, start, end, 8)
        return not any(t in URGENT_WORDS - {"nu", "now"} or t in PRESENT_PLACES for t in sentence)

    def age_is_subject(self, i: int) -> bool:
        """In a message about a topic, an age followed by a subject word ("16-year-old character", "16 people"),
        or an age group in the plural ("material for 14-year-olds", "passar 14-åringar")."""
        if not self.spans["topic"]:
            return False
        return bool(PLURAL_AGE.match(self.lowered[i])) or any(s <= i + 3 and e > i - 4 and not s <= i < e
                                                              for s, e in self.spans["subject"] + self.spans["topic"])


def _danger_now(found: Flags, doc: Doc, lowered: list[str], signals: list[tuple[int, int, str]],
                context: Context) -> None:
    """Urgency and a threat in one message are danger, unless the danger is over; a threat alone, a weak
    sign or a means of suicide backs the classifier's say on its flag."""
    urgent = [(s, e) for s, e, label in signals if label == "urgent"]
    threats = [(s, e) for s, e, label in signals if label == "threat" and not _in_the_past(lowered, s, e)]
    for s, e, label in signals:
        if label != "urgent":
            found.back("immediate_danger" if label == "threat" else "suicide", _chars(doc, s, e))
    if urgent and threats and not context.over_now(*threats[0]):
        (us, ue), (ts, te) = urgent[0], threats[0]
        found.add("immediate_danger", f"{doc[us:ue].text} + {doc[ts:te].text}", "threat_now",
                  (_chars(doc, us, ue), _chars(doc, ts, te)))


def add_exploited_minor(found: Flags) -> None:
    """`trafficking` for a minor in an exchange (exploited_minor), with the words of both as the reason."""
    words = exploited_minor(found.flags, found.exchange)
    if words:
        ages = tuple(s for e in found.evidence if e.flag == "minor" for s in e.spans)[:1]
        found.add("trafficking", words, "paid_meetings", ages + tuple(found.exchange_spans[:1]))


def exploited_minor(flags: Set[str], exchange: Sequence[str]) -> str | None:
    """A minor in an exchange of sex for money or goods is a trafficking victim (no coercion needs to
    be shown for a child): the words to report when this makes `trafficking`, else None. The rules apply it to their own flags (so the
    classifier sees it among the rule flags) and the assessor again once the model may have added `minor`."""
    if "minor" in flags and exchange and "trafficking" not in flags:
        return f"minor + {exchange[0]}"
    return None


class RedFlagRules:
    """Compiled once per tokenizer and phrase book; `find(doc)` returns the flags and the words that fired."""

    def __init__(self, nlp: Language, phrases: PhraseBook) -> None:
        labelled = {flag: phrases.flag_phrases(flag) for flag in FLAG_FILES}
        exchange = [p for ps in phrases.exchange.values() for p in ps]
        labelled["suicide"] = labelled["suicide"] + list(phrases.signs)
        self.substrings = phrases.substrings
        self.exchange_substrings = phrases.exchange_substrings
        self.taken_substrings = phrases.taken_substrings
        context = {f"ctx_{kind}": list(found) for kind, found in phrases.context.items()}
        support = {f"support_{flag}": list(found) for flag, found in phrases.support.items()}
        self.matcher = PhraseSet(nlp, {**labelled, "urgent": phrases.urgent, "threat": phrases.threat,
                                       "exchange": exchange, "idiom": phrases.idioms, "weak": phrases.weak,
                                       "means": phrases.means, "taken": phrases.taken, **context, **support})

    def find(self, doc: Doc, language: str | None = None, words: list[str] | None = None) -> Flags:
        """Flags in a folded doc (`words`: its lower-case tokens, if the caller has them). In Romanian "nu"
        means "not" (a negation, never "now")."""
        found = Flags()
        lowered = words if words is not None else [t.lower_ for t in doc]
        negators = NEGATORS | {"nu"} if language == "ro" else NEGATORS
        matches = sorted(self.matcher(doc, lowered), key=lambda m: (m[1], m[2]))
        context = Context.of(matches, lowered, lambda i: self._negated(lowered, i, negators))
        found.topic, found.reassured = bool(context.spans["topic"]), bool(context.spans["reassuring"])
        signals: list[tuple[int, int, str]] = []
        for label, start, end in matches:
            if label.startswith("ctx_"):
                continue
            if not self._counts(label, start, end, lowered, negators, context, language):
                if not (label in ("trafficking", "support_trafficking") and self._negated(lowered, start, negators)):
                    found.denied.update(DENIES.get(label, ()))  # "not my passport" is no reassurance
                continue
            if label.startswith("support_"):
                found.back(label.removeprefix("support_"), _chars(doc, start, end))
            elif label == "exchange":
                if context.near("paying", start, end):
                    found.denied.add("trafficking")  # a minor who pays, a parent who sells: no exploited minor
                    continue
                found.exchange.append(doc[start:end].text)
                found.exchange_spans.append(_chars(doc, start, end))
            elif label in ("urgent", "threat", "weak", "means"):
                signals.append((start, end, label))
            elif label == "taken":
                for flag in ("suicide", "immediate_danger"):
                    found.add(flag, doc[start:end].text, "overdose_taken", (_chars(doc, start, end),))
            else:
                found.add(label, doc[start:end].text, REASON_OF[label], (_chars(doc, start, end),))
        _danger_now(found, doc, lowered, signals, context)
        _unspoken_suicide(found, doc, signals)
        for flag in ("suicide", "immediate_danger"):
            if context.idioms and flag not in found.flags and not found.support.get(flag):
                found.denied.add(flag)  # "dying of laughter": the model's say there is the idiom's words
        if "immediate_danger" in found.flags and JOKE_MARKERS & set(lowered):
            found.flags.discard("immediate_danger")
        if not all(w.isascii() for w in lowered):
            self._substrings(doc.text, found)
        for i, age_words in self._ages_under_18(lowered) + _born_under_18(lowered):
            if not self._negated(lowered, i, negators, CLAUSE_OPENERS) and not context.age_is_subject(i):
                found.add("minor", age_words, "age_under_18", (_chars(doc, max(0, i - 2), i + 1),))
        add_exploited_minor(found)
        return found

    def _counts(self, label: str, start: int, end: int, lowered: list[str], negators: frozenset[str],
                context: Context, language: str | None) -> bool:
        """Whether a match counts: not negated, not inside an idiom or an everyday use, not past, not a
        topic asked about, not reassured against, not said of a class of people."""
        if label == "idiom" or self._negated(lowered, start, negators):
            return False
        if label in ("suicide", "immediate_danger") and _inside(context.idioms, start, end):
            return False
        if label in ("suicide", "trafficking", "taken") and _long_ago(lowered, start, end):
            return False
        if label in ("taken", "suicide") and context.swallowed_by_animal(start):
            return False
        if label == "immediate_danger" and (_over(lowered, start, end) or context.over_now(start, end)):
            return False
        if label == "urgent" and language == "ro" and lowered[start] == "nu":
            return False
        if label in FLAG_LABELS or label in ("threat", "weak", "means", "taken"):
            return not context.cancels(label, start, end)
        if label.startswith("support_"):
            return not context.cancels(label.removeprefix("support_"), start, end)
        return True

    def _substrings(self, text: str, found: Flags) -> None:
        """Scripts written without spaces (Thai); none of these phrases is ASCII, so ASCII text is skipped."""
        for flag, substrings in self.substrings.items():
            for sub in substrings:
                at = text.find(sub)
                if at >= 0:
                    found.add(flag, sub, REASON_OF[flag], ((at, at + len(sub)),))
        for sub in self.taken_substrings:
            at = text.find(sub)
            if at >= 0:
                for flag in ("suicide", "immediate_danger"):
                    found.add(flag, sub, "overdose_taken", ((at, at + len(sub)),))
        for sub in self.exchange_substrings:
            at = text.find(sub)
            if at >= 0:
                found.exchange.append(sub)
                found.exchange_spans.append((at, at + len(sub)))

    @staticmethod
    def _negated(lowered: list[str], start: int, negators: frozenset[str],
                 clause: frozenset[str] = frozenset()) -> bool:
        """A negation among the few words before, within the same sentence; particles and verbs of
        wanting do not count towards the few ("nu vreau să mă sinucid", "не мисля да се самоубивам").
        A word in `clause` ends the negation's reach: for an age, "they don't know that I am 14"
        negates the knowing, not the age."""
        counted = 0
        for token in reversed(lowered[:start]):
            if token in SENTENCE_END or token in clause:
                return False
            if token in negators:
                return True
            if token not in PARTICLES:
                counted += 1
            if counted >= NEGATION_WINDOW:
                return False
        return False

    @staticmethod
    def _ages_under_18(lowered: list[str]) -> list[tuple[int, str]]:
        ages = []
        n = len(lowered)
        for i, token in enumerate(lowered):
            age, explicit = _age_value(token)
            if age is None:
                continue
            before = [t for t in lowered[max(0, i - 5):i] if t not in FILLERS][-4:]
            rest = [t for t in lowered[i + 1:i + 4] if t not in ("-", "de")]
            after = rest[0] if rest else ""
            if after in NOT_AGE_UNITS or (after and after[0].isdigit() and not (after.isdigit() and len(after) <= 2)):
                continue
            if any(t in PAST_MARKERS for t in before[-3:]):
                continue
            if len(before) >= 2 and before[-1] in PAST_VERBS and before[-2] in FIRST_PERSON and not _reported(before):
                continue
            if _duration(before, after) or (len(rest) > 1 and rest[1] in AGO_AFTER):
                continue
            future = any(t in FUTURE_MARKERS for t in before[-2:])
            limit = 18 if future else 17
            if not 6 <= age <= limit:
                continue
            unit = explicit or after in AGE_UNITS or (after == "år" or after.startswith("ani"))
            lead = (tuple(before[-2:]) in LEADS or tuple(before[-1:]) in LEADS or _reported(before)
                    or (bool(before) and before[-1].endswith(THAI_AGE))
                    or any(t in PERSON_NOUNS for t in before) or (before and before[-1] in GUESS_LEADS)
                    or (after and after.isdigit() and len(after) <= 2))
            if unit or lead or future:
                context = " ".join(lowered[max(0, i - 2):min(n, i + 2)])
                ages.append((i, context))
        return ages


REPORTED = frozenset({"att", "that", "sa", "said", "says", "sager", "uppgav", "claimed", "told"})
THIRD_SINGULAR = frozenset({"hon", "han", "she", "he"})
THAI_AGE = "อาย"
"""Thai อายุ ("age") as folded (its vowel mark is a combining mark): the number after it is an age."""


def _reported(before: list[str]) -> bool:
    """"said that she was 16": an age told in reported speech is the person's age now."""
    return len(before) >= 3 and before[-1] in PAST_VERBS and before[-2] in THIRD_SINGULAR and before[-3] in REPORTED


AGO_AFTER = frozenset({"ago", "sen", "sedan", "назад", "temu", "tidigare", "earlier"})
"""After a number and a unit these make a time ago ("bought sex once 6 years ago"), not an age."""
PAST_TIME = frozenset({"yesterday", "igar", "ago", "ieri", "вчера", "aseara", "forra", "forrgar", "tidigare",
                       "earlier", "innan", "before", "sedan", "ayer", "wczoraj", "hier"})
CONJUNCTIONS = frozenset({"да", "att", "i", "you", "he", "she", "han", "hon", "sa", "ca"})
"""After these, "before" starts a clause ("преди да тръгна", "before he comes"): no time in the past."""
SAFE_NOW = frozenset({("ok", "now"), ("okay", "now"), ("fine", "now"), ("safe", "now"), ("bra", "nu"), ("okej", "nu"),
                      ("trygg", "nu"), ("съм", "добре"), ("sunt", "bine"), ("in", "siguranta"), ("i", "sakerhet")})
"""Said next to violence, these tell it is over ("strangled me last night, I'm ok now")."""
PRESENT_PLACES = frozenset({"utanfor", "outside", "afara", "отвън", "usa", "usii", "dorren", "door", "вратата"})
PAST_WORDS = frozenset({"forra", "julas", "преди", "миналата", "миналия", "aseara", "trecuta", "trecut", "was"})
URGENT_WORDS = frozenset({"nu", "now", "tonight", "ikvall", "inatt", "acum", "сега", "довечера", "igen", "again",
                          "iar", "пак", "still", "fortfarande", "inca", "още", "rn"})
AGO_UNITS = frozenset({"ar", "halvar", "manader", "manad", "veckor", "vecka", "dagar"})
"""Before "sen"/"sedan" these make a time ago ("för ett halvår sen")."""
PAST_PERIODS = frozenset({"night", "week", "weekend", "year", "month", "time", "summer", "winter"})


def _in_the_past(lowered: list[str], start: int, end: int) -> bool:
    """A threat word with a past time next to it ("strangled me last night") is not happening now."""
    window = lowered[max(0, start - 3):end + 4]
    if any(t in PAST_TIME for t in window):
        return True
    if _ago(_sentence(lowered, start, end, 8)):
        return True
    return any(a == "last" and b in PAST_PERIODS for a, b in zip(window, window[1:], strict=False))


BIRTH_LEADS = frozenset({"fodd", "born", "nascut", "nascuta", "роден", "родена", "urodzona", "urodzony", "geboren",
                         "nacida", "nacido", "née", "nee"})


def _born_under_18(lowered: list[str], this_year: int | None = None) -> list[tuple[int, str]]:
    """"född 2010", "born 2009": a birth year that makes the person under 18 now."""
    year = this_year or date.today().year
    found = []
    for i, token in enumerate(lowered[1:], start=1):
        if lowered[i - 1] in BIRTH_LEADS and token.isdigit() and len(token) == 4 and year - 17 <= int(token) <= year:
            found.append((i, f"{lowered[i - 1]} {token}"))
    return found


def _unspoken_suicide(found: Flags, doc: Doc, signals: list[tuple[int, int, str]]) -> None:
    """Two weak signs of suicide ("I've decided", "sorry for everything"), or one with a means or a time."""
    kept: list[tuple[int, int]] = []
    for s, e, label in signals:  # overlapping signs are one sign ("said goodbye to my" and "goodbye")
        if label == "weak" and not any(s < ke and ks < e for ks, ke in kept):
            kept.append((s, e))
    weak = [doc[s:e].text for s, e in kept]
    means = [doc[s:e].text for s, e, label in signals if label == "means"]
    if len(set(weak)) >= 2 or (weak and means):
        spans = [_chars(doc, s, e) for s, e, label in signals if label in ("weak", "means")]
        found.add("suicide", " + ".join(sorted(set(weak))[:2] + means[:1]), "suicide_signs", tuple(spans[:3]))


def _over(lowered: list[str], start: int, end: int) -> bool:
    """Violence told as past ("ме би преди десетина дни", "strangled me last night"), with nothing urgent by it."""
    window = _sentence(lowered, start, end, 8)
    pairs = list(zip(window, window[1:], strict=False))
    if any(pair in SAFE_NOW for pair in pairs):
        return True
    if any(t in URGENT_WORDS or t in PRESENT_PLACES for t in window):
        return False
    if _ago(window):
        return True
    if any((t in PAST_TIME or t in PAST_WORDS) and nxt not in CONJUNCTIONS
           for t, nxt in zip(window, window[1:] + [""], strict=True)):
        return True
    return any(a == "last" and b in PAST_PERIODS for a, b in pairs)


def _duration(before: list[str], after: str) -> bool:
    """"köpt sex i 10 år", "in sweden 6 years": a number of years that is a time span, not an age."""
    if not (after in AGE_UNITS or after == "år") or not before:
        return False
    if before[-1] in DURATION_LEADS:
        return not (before[-1] == "pa" and len(before) >= 2 and before[-2] in PERSON_NOUNS)
    return len(before) >= 2 and before[-2] in DURATION_LEADS and before[-1] not in AGE_VERBS


AGE_VERBS = frozenset({"am", "m", "'m", "was", "e", "ar", "är", "is", "s", "'s", "sunt", "съм", "е", "blir", "fyller"})


def _ago(window: list[str]) -> bool:
    """"för ett halvår sen", "3 veckor sedan": a time ago in these words."""
    return any(a in AGO_UNITS and b in ("sen", "sedan") for a, b in zip(window, window[1:], strict=False))


def _inside(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(s <= start and end <= e or start <= s < end for s, e in spans)


def _long_ago(lowered: list[str], start: int, end: int, this_year: int | None = None) -> bool:
    """A suicide phrase said of a time long past: "years ago", "acum 2 ani", "in 2019"."""
    year = this_year or date.today().year
    window = _sentence(lowered, start, end, 8)
    if any(t in AGAIN for t in window):
        return False
    if any(pair in LONG_AGO and (pair not in WHEN_I or (_past_form(after) and after not in ARRIVAL))
           for pair, after in zip(zip(window, window[1:], strict=False), window[2:] + [""], strict=False)):
        return True
    if any(a in LONG_AGO_STARTS and c in LONG_AGO_UNITS for a, c in zip(window, window[2:], strict=False)):
        return True
    return any(t.isdigit() and len(t) == 4 and 1950 < int(t) < year and after not in CURRENCIES
               for t, after in zip(window, window[1:] + [""], strict=True))


def _sentence(lowered: list[str], start: int, end: int, reach: int) -> list[str]:
    """Up to `reach` words on either side of a match, not past the end of its sentence."""
    before: list[str] = []
    for token in reversed(lowered[max(0, start - reach):start]):
        if token in SENTENCE_STOPS:
            break
        before.insert(0, token)
    after: list[str] = []
    for token in lowered[end:end + reach]:
        if token in SENTENCE_STOPS:
            break
        after.append(token)
    return before + lowered[start:end] + after


SENTENCE_STOPS = frozenset({".", "!", "?", "\n", "..", "...", "!!", "??"})


def _age_value(token: str) -> tuple[int | None, bool]:
    """A number a token may state as an age, and whether the token itself says it is an age."""
    if token.isdigit() and len(token) <= 2:
        return int(token), False
    if token in NUMBER_WORDS:
        return NUMBER_WORDS[token], False
    fused = FUSED_AGE.match(token)
    if fused:
        return int(fused.group(1) or fused.group(2)), True
    ordinal = ORDINAL_AGE.match(token)
    if ordinal:
        return int(ordinal.group(1)), True
    ranged = AGE_RANGE.match(token)
    if ranged:
        return int(ranged.group(1)), False
    return None, False
