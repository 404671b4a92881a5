"""Phrases that hint at who is writing, per group (folded text; syntax as in redflag_phrases).

They do not decide anything: each hit becomes a token (`zzcue_<group>`) that the classifier learns
to weigh from the examples, so a buyer's "köpa sex" in a language the examples have little of
still points the right way.
"""
from __future__ import annotations

CUES: dict[str, list[str]] = {
    "buys": [
        "kopa sex", "kopt sex", "koper sex", "kopte sex", "kopa~ sex", "sexkop~", "kopare", "sexkopare", "kast",
        "betalat for sex", "betala for sex", "betalar for sex", "betalade for sex", "kopt en tjej", "kopa en tjej",
        "sluta kopa", "slutat kopa", "koper tjejer", "kopa tjanster", "koper tjanster", "bordell~", "massageinstitut",
        "sexmissbruk~", "sexberoende", "porrberoende", "porrmissbruk~", "torskarna",
        "buy sex", "buying sex", "bought sex", "buys sex", "sex buyer", "buyer", "paid for sex", "pay for sex",
        "paying for sex", "paid an escort", "paid a girl", "paid women", "pay women", "stop buying", "stop paying",
        "hooker~", "prostitutes", "massage parlor~", "happy ending", "brothel~", "punter", "porn addict~",
        "sex addict~", "visit escorts", "visited escorts", "hired an escort", "booked an escort", "book escorts",
        "cumpar sex", "am platit pentru sex", "platesc pentru sex", "platit o femeie", "clientul",
        "плащам за секс", "платих за секс", "купувам секс", "купих секс", "плащах за секс",
        "pago por sexo", "pagar por sexo", "плачу за секс", "place za seks", "paye pour du sexe",
        "min fru", "min hustru", "frun", "my wife", "wife found", "sotia mea", "nevasta", "жена ми", "съпругата ми",
        "ertappad", "tagen pa bar garning", "blev tagen", "blev haffad", "forhort mig", "forhor", "polisen ringde",
        "brev fran polisen", "got caught", "caught me", "was caught", "police called me", "letter from the police",
        "scrisoare de la", "am fost la fete", "la fete pe strada", "fete pe strada", "the girl i booked",
        "the girl i see", "the girl i saw", "the woman i visited", "tjejen jag traffade", "tjej jag kopt",
        "kopt sex av", "escort site", "escortsajt~", "escortsida~", "sexkopen", "kastmottagning~", "quit this",
        "pagado por sexo", "he pagado", "am platit", "платих", "момиче в сайт", "ходя при проститутки",
        "dom~ for kop", "koparen", "kop av sexuell~"],
    "sells": [
        "saljer sex", "salt sex", "salja sex", "saljer min kropp", "salja min kropp", "saljer mig", "kunder~", "kund",
        "torsk~", "sugardaddy~", "sugar daddy", "sugardejt~", "sugardating", "onlyfans", "traffar man for pengar",
        "sex mot pengar", "sex for pengar", "sex mot ersattning", "mot ersattning", "eskort~", "annons~", "strippa",
        "knullar for", "ligger med man for", "ligga med nan for", "tar betalt", "for pengar", "mot knark", "for knark",
        "for att fa sova", "for att fa bo", "sover hos", "hallick~",
        "sell sex", "selling sex", "sold sex", "sell my body", "selling my body", "escorting", "escort work",
        "clients", "customers", "johns", "tricks", "sex work~", "for money", "for drugs", "for a place to sleep",
        "my ads", "my pimp", "bookings", "outcall", "incall", "cam girl", "webcam", "trick~",
        "clienti~", "fac sex pentru bani", "vand sex", "pe strada", "ma prostituez", "ma culc cu", "pentru bani",
        "клиенти~", "на улицата", "продавам секс", "за пари", "проституира~", "с клиенти",
        "clientes", "por dinero", "клиенты", "за деньги", "klienci", "za pieniadze", "pour de l'argent",
    ],
    "relative": [
        "min dotter", "min son", "min syster", "min lillasyster", "min storasyster", "min bror", "min man", "min pojkvan", "min flickvan", "min kompis", "min van", "min vaninna", "min mamma", "min pappa",
        "mitt barn", "mina barn", "var dotter", "var son", "min tjej", "min kille", "min partner", "min exfru",
        "min exman", "barnbarn", "anhorig~", "hon saljer", "han koper",
        "my daughter", "my son", "my sister", "my little sister", "my brother", "my husband",
        "my boyfriend", "my friend", "my best friend", "my mom", "my mother",
        "my dad", "my father", "my child", "my kid", "my niece", "my cousin", "my fiance", "family member",
        "she sells", "he buys", "i found out he", "i found out she",
        "fiica mea", "fiul meu", "sora mea", "fratele meu", "sotul meu", "prietena mea", "iubitul meu",
        "iubita mea", "mama mea", "nepoata mea", "copilul meu",
        "дъщеря ми", "сина ми", "синът ми", "сестра ми", "брат ми", "мъжът ми", "съпругът ми", "приятелката ми", "гаджето ми", "детето ми", "племенницата ми",
        "mi hija", "mi hermana", "mi esposo", "моя дочь", "моя сестра", "мой муж", "moja corka", "ma fille",
    ],
    "professional": [
        "jobbar som", "arbetar som", "jag jobbar pa", "jag arbetar pa", "jobbar pa en", "socialsekreterare",
        "kurator~", "skolkurator", "skolskoterska", "larare", "mentor", "fritidsledare", "polis", "poliser",
        "sjukskoterska", "barnmorska", "ungdomsmottagning~", "boendepersonal", "personal", "hvb", "handlaggare",
        "min klient", "var klient", "en klient", "klienten", "en elev", "eleven", "elever", "en brukare", "brukare",
        "var verksamhet", "verksamhet~", "orosanmal~", "rutin~", "kollega~", "vart boende", "enheten", "arendet",
        "handledning", "i tjansten", "yrkes~", "myndighet~", "vi pa", "vi har en tjej", "vi har en kille",
        "i work as", "i work at", "i work with", "social worker", "caseworker", "case worker", "teacher",
        "school nurse", "counselor at", "counsellor at", "police officer", "nurse", "my client", "our client",
        "a client of", "client of ours", "a student of mine", "one of our", "my colleague", "colleagues",
        "our unit", "our clinic", "our organisation", "our organization", "ngo", "outreach", "referral", "refer her",
        "refer him", "protocol", "routines", "the case", "a case", "our staff", "staff", "professional~",
        "lucrez ca", "lucrez la", "asistent social", "asistenta sociala", "asistentă", "profesor", "profesoara",
        "ong", "clienta noastra", "beneficiar~", "colega", "работя като", "работя в", "социален работник",
        "социална работничка", "учител~", "нашата организация", "наша клиентка", "колега",
    ],
    "other": [
        "test", "testar", "testing", "journalist", "reporter", "artikel", "uppsats", "essay", "skolarbete",
        "school project", "research", "forskning", "oppettider", "opening hours", "vilka tider", "fel nummer",
        "wrong number", "wrong chat", "reklam", "lol", "haha", "hahaha", "podcast", "dokumentar", "documentary",
        "podd", "avsnitt", "vad betyder", "vad ar kast", "vad e kast", "what is kast", "feminister", "thank you",
        "tack for", "affisch", "😂", "skola~ ... uppgift", "grupparbete", "studerar", "student at", "i study"],
}
