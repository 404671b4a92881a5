"""What the service answers to a person's channel commands (STOP, RADERA, /kodord …), per language.

Words a frightened person on a shared phone understands; nothing that names the service's subject.
"""
from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "text_only": {
        "sv": "Jag kan bara läsa text. Skriv gärna med ord.",
        "en": "I can only read text. Please write in words.",
    },
    "erased": {
        "sv": "Klart. Ditt samtal är raderat hos oss. Du kan skriva igen när du vill.",
        "en": "Done. Your conversation has been deleted on our side. You can write again whenever you want.",
    },
    "stopped": {
        "sv": "Du får inga fler meddelanden från oss. Skriv START om du vill börja igen.",
        "en": "You will get no more messages from us. Write START if you want to begin again.",
    },
    "started": {
        "sv": "Välkommen tillbaka. Skriv när du vill.",
        "en": "Welcome back. Write whenever you want.",
    },
    "help": {
        "sv": ("Du kan skriva anonymt till oss. Svara med en siffra för att välja. 0 = prata med någon. "
               "RADERA tar bort samtalet. STOP: inga fler sms. KODORD ord: vi skriver bara ordet först. "
               "TYST 22-07: inga sms de timmarna. I fara? Ring 112."),
        "en": ("You can write to us anonymously. Reply with a number to choose. 0 = talk to someone. "
               "DELETE removes the conversation. STOP: no more texts. CODEWORD word: we first send only "
               "that word. QUIET 22-07: no texts in those hours. In danger? Call 112."),
    },
    "code_word_set": {
        "sv": "Kodordet är sparat. Innan vi skriver efter en paus skickar vi bara kodordet, och väntar på svar.",
        "en": "Your code word is saved. Before we write after a pause we send only the code word and wait "
              "for your answer.",
    },
    "code_word_cleared": {
        "sv": "Kodordet är borttaget.",
        "en": "Your code word has been removed.",
    },
    "quiet_set": {
        "sv": "Sparat. Vi skriver inte mellan {start}:00 och {end}:00.",
        "en": "Saved. We will not write between {start}:00 and {end}:00.",
    },
    "quiet_cleared": {
        "sv": "Sparat. Vi kan skriva när som helst.",
        "en": "Saved. We may write at any time.",
    },
    "quiet_bad": {
        "sv": "Skriv tiden som två timmar, till exempel TYST 22-07. TYST AV tar bort den.",
        "en": "Write the time as two hours, for example QUIET 22-07. QUIET OFF removes it.",
    },
    "safe_check": {
        "sv": "Hej! Är det ok att skriva nu? Svara när det passar dig.",
        "en": "Hi! Is it ok to write now? Answer when it suits you.",
    },
}


def text(name: str, language: str | None) -> str:
    table = TEXTS[name]
    return table.get(language or "sv", table["en"])


def text_only(language: str | None) -> str:
    return text("text_only", language)


def erased(language: str | None) -> str:
    return text("erased", language)
