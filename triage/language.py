"""Offline language detection: lingua (its small models, which load in a tenth of a second),
helped by the script (Cyrillic letters tell Bulgarian, Russian and Ukrainian apart) and by a vote
of very common words, since one- or two-word messages ("hej", "buna", "hello??") defeat n-grams."""
from __future__ import annotations

import re

from lingua import Language, LanguageDetectorBuilder

from triage.normalize import fold

LANGUAGES = {
    Language.SWEDISH: "sv", Language.ENGLISH: "en", Language.ROMANIAN: "ro", Language.BULGARIAN: "bg",
    Language.SPANISH: "es", Language.RUSSIAN: "ru", Language.POLISH: "pl", Language.ARABIC: "ar", Language.THAI: "th",
    Language.UKRAINIAN: "uk", Language.HUNGARIAN: "hu", Language.SOMALI: "so", Language.PORTUGUESE: "pt",
    Language.FRENCH: "fr", Language.GERMAN: "de", Language.PERSIAN: "fa", Language.TURKISH: "tr",
    Language.FINNISH: "fi", Language.DANISH: "da", Language.BOKMAL: "nb", Language.ALBANIAN: "sq",
    Language.CROATIAN: "hr", Language.LITHUANIAN: "lt", Language.TAGALOG: "tl", Language.VIETNAMESE: "vi",
    Language.ITALIAN: "it", Language.DUTCH: "nl", Language.ESTONIAN: "et", Language.LATVIAN: "lv",
}
# Common words (folded) of the languages the hotline answers in or hears most.
LEXICON: dict[str, frozenset[str]] = {
    "sv": frozenset("""jag ar e och o inte int det en ett att som pa med hej hallo hallå nan nagon min mig mitt har
        vill kan hjalp tack vad hur for om du ni vi dom typ assa ba sen saljer koper hon han mamma pappa kille tjej
        nar varfor bara ocksa eller nagot kanner vet hjalpa snalla jobbigt heej hejsan tjena""".split()),
    "en": frozenset("""i im i'm am is the and a to my me you help please pls plz hi hello hey what how can want need
        he she it of in for with this that dont don't do he's she's u ur idk someone anyone thanks thank who is are
        was have has been about just know hello?? hi??""".split()),
    "ro": frozenset("""si eu nu sunt am ma buna ajutor vreau pot te rog ce cu la pe un este sa meu mea imi mi nu-mi
        aici cineva acum bani plec casa mama fata va multumesc alo salut""".split()),
    "bg": frozenset("""аз съм не да и на за ме ми искам помощ здравей здравейте какво как той тя с в от е ще моля
        тук някой сега пари мама добре благодаря ало zdravei zdraveite pomosht iskam""".split()),
    "es": frozenset("hola ayuda por favor tengo quiero estoy soy necesito gracias que mi".split()),
}
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


class LanguageDetector:
    def __init__(self) -> None:
        self._detector = (LanguageDetectorBuilder.from_languages(*LANGUAGES)
                          .with_low_accuracy_mode().with_preloaded_language_models().build())

    def detect(self, text: str) -> str | None:
        """ISO 639-1 code, or None when there is nothing to go on (digits, emoji)."""
        words = WORD.findall(fold(text))
        if not words:
            return None
        cyrillic = sum(1 for w in words if CYRILLIC.search(w))
        if cyrillic * 2 >= len(words):
            return self._cyrillic(words)
        votes = {lang: sum(w in lexicon for w in words) for lang, lexicon in LEXICON.items()}
        best = max(votes, key=lambda lang: votes[lang])
        ranked = sorted(votes.values(), reverse=True)
        if ranked[0] > ranked[1] and (len(words) <= 3 or ranked[0] >= max(2, len(words) * 0.3)):
            return best
        detected = self._detector.detect_language_of(text)
        if detected is None:
            return best if ranked[0] > 0 else None
        return LANGUAGES[detected]

    def _cyrillic(self, words: list[str]) -> str:
        """Ukrainian has і ї є ґ; Russian ы э and a soft sign ь (Bulgarian only in "ьо");
        Bulgarian writes ъ as a vowel."""
        letters = " ".join(words)
        if re.search("[іїєґ]", letters):
            return "uk"
        if re.search("[ыэ]|ь(?!о)", letters):
            return "ru"
        if "ъ" in letters or any(w in LEXICON["bg"] for w in words):
            return "bg"
        detected = self._detector.detect_language_of(letters)
        return LANGUAGES.get(detected, "bg") if detected in (Language.RUSSIAN, Language.UKRAINIAN) else "bg"
