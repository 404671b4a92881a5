"""The bad-input corpus: a table of hostile or broken inputs thrown at every surface of the running
service (every channel switched on): the web chat's WebSocket, the Telegram and Twilio webhooks,
the console's JSON API, log-in form and WebSocket, and the supervisor routes.

Every case gets a clear answer, pinned in its row: a 4xx with its code, an error frame on the
socket (the connection stays open, checked by a message that still gets through), a protocol close
(1007 invalid UTF-8, 1009 too big, 4400 no hello), or a handled 2xx (a provider retries anything
else; a text is stored as text). Never a 500, never an error logged by the server, and the worker
stays up: /healthz answers after the corpus, and the last test prints how many cases ran and held.
(tests/test_bad_input.py and tests/test_webhook_fuzz.py hold the older cases; not repeated here.)
"""
from __future__ import annotations

import asyncio
import json
import logging
import urllib.parse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from lotsa import appkeys
from lotsa.db import upgrade
from lotsa.models import Message
from lotsa.settings import default_config_dir
from lotsa_testing.clients import ConsoleClient
from lotsa_testing.every_channel import PUBLIC, SECRET_HEADER, TELEGRAM_SECRET, ProviderRig, provider_server
from lotsa_testing.server import PASSWORD, POSTGRES_URL, create_postgres_database, drop_postgres_database

pytestmark = pytest.mark.asyncio(loop_scope="module")

DEEP = "[" * 5000 + "]" * 5000
"""Nesting deeper than any JSON parser's recursion limit, well under every size limit."""
BIDI = "\u202egnp.exe\u202c \u2066isolated\u2069 \u200f"
CONTROL = "\u0007bell \u001b[31mred\u001b[0m \u0008\u007f"
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
PUBLISH = "/api/admin/documents/triage_script/default/publish"
DEFAULT_SCRIPT = (default_config_dir() / "triage" / "default.yaml").read_text(encoding="utf-8")
LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + n)}: &{chr(98 + n)} [{', '.join([f'*{chr(97 + n)}'] * 10)}]\n" for n in range(8))
"""Nine levels of ten aliases each: a billion strings if anything expanded it."""
UPGRADE = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
           "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}


@dataclass(frozen=True)
class Frame:
    """A frame on a WebSocket: `/chat/ws` (after hello unless `hello` is False) or `/console/ws`
    (as a logged-in counsellor)."""
    socket: str
    data: str | bytes
    answer: str
    """`error:CODE` (an error frame, then the connection still works), `ack` (stored; the connection
    still works), `welcome` (hello taken), `silent` (ignored; the connection still works),
    `close:CODE` (closed with that code)."""
    binary: bool = False
    """Send `data` as a binary frame; bytes in a text frame are sent unchecked (invalid UTF-8)."""
    hello: bool = True


@dataclass(frozen=True)
class Http:
    method: str
    path: str
    status: int
    body: bytes | str | dict[str, Any] | list[Any] | None = None
    """bytes/str as they are; a dict or list as JSON, or as a form when `content_type` is a form."""
    content_type: str | None = None
    who: str | None = None
    """None (anonymous), `counsellor`, `supervisor` or `admin`."""
    csrf: str = "valid"
    """valid | missing | wrong | foreign (a valid token of another session)."""
    origin: str | None = "self"
    sign: str | None = None
    """Twilio: valid | forged | other-path | host-url | tampered | garbage. Telegram: the secret header."""
    error: str | None = None
    """The JSON answer's "error" code."""
    contains: str | None = None
    lacks: str | None = None
    repeat: int = 1
    """Send it this many times (a replay): every answer must be `status`."""
    stored_once: str | None = None
    """After a replay: exactly one message with this provider id is stored."""
    headers: dict[str, str] = field(default_factory=dict)


FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
CHAT, CONSOLE = "chat", "console"
SAY = '{{"type": "say", "text": {text}, "cid": "{cid}"}}'


def say(text: str, cid: str) -> str:
    return SAY.format(text=json.dumps(text, ensure_ascii=False), cid=cid)


def update(update_id: int, text: str = "hej", chat: int = 880001) -> dict[str, Any]:
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": 1_700_000_000, "text": text, "chat": {"id": chat, "type": "private"},
        "from": {"id": chat, "is_bot": False, "first_name": "A", "language_code": "sv"}}}


def sms(sid: str, body: str = "hej", sender: str = "+46701230001") -> dict[str, str]:
    return {"MessageSid": sid, "AccountSid": "AC" + "0" * 32, "From": sender, "To": "+46766860000",
            "Body": body, "NumMedia": "0"}


def call(sid: str, **extra: str) -> dict[str, str]:
    return {"CallSid": sid, "AccountSid": "AC" + "0" * 32, "From": "+46701230002", "To": "+46766860000",
            "CallStatus": "ringing", **extra}


TG, SMS_HOOK, VOICE = "/hooks/telegram", "/hooks/twilio/sms", "/hooks/twilio/voice"
SEND, NOTE = "/api/console/conversations/{held}/messages", "/api/console/conversations/{held}/notes"
BLOCK = "/api/console/conversations/{queued}/block"
HOLD, STAFF, QUEUES_FORM = "/api/console/acute-hold", "/admin/staff", "/admin/queues"
NEW = {"name": "newbie", "role": "counsellor", "max_chats": "3", "languages": "sv", "queues": "general"}
ONE_QUEUE = {"timezone": "Europe/Stockholm", "queue_count": "1", "q0-id": "all", "q0-name-sv": "Alla",
             "q0-groups": "other", "base_version": "1", "action": "preview"}
"""An account the admin's form would create: each case spoils one field (none is created)."""

CASES: dict[str, Frame | Http] = {
    # -- web chat: the first frame ---------------------------------------------------------------
    "chat/hello as a binary frame": Frame(CHAT, b'{"type": "hello"}', "close:4400", binary=True, hello=False),
    "chat/hello nested 5000 deep": Frame(CHAT, DEEP, "close:4400", hello=False),
    "chat/hello with invalid UTF-8": Frame(CHAT, b'{"type": "hello", "lang": "\xff\xfe"}', "close:1007",
                                           hello=False),
    "chat/hello over 16 KiB": Frame(CHAT, json.dumps({"type": "hello", "pad": "x" * 17000}), "close:1009",
                                    hello=False),
    "chat/hello with every field of the wrong type": Frame(
        CHAT, '{"type": "hello", "token": 12345, "after": "zero", "lang": ["en"], "source": {"x": 1}}', "welcome",
        hello=False),
    "chat/hello with markup, null bytes and a negative after": Frame(
        CHAT, json.dumps({"type": "hello", "token": "<script>\u0000" + "a" * 35, "after": -5, "lang": "\u202een",
                          "source": "<b>x</b>"}), "welcome", hello=False),
    "chat/hello with after 1e308": Frame(CHAT, '{"type": "hello", "token": null, "after": 1e308}', "welcome",
                                         hello=False),
    # -- web chat: frames after hello ------------------------------------------------------------
    "chat/say with invalid UTF-8 in a text frame": Frame(
        CHAT, b'{"type": "say", "text": "\xc3\x28 \xff", "cid": "corpus0001"}', "close:1007"),
    "chat/binary frame holding a valid say": Frame(CHAT, say("hej", "corpus0002").encode(), "error:bad_frame",
                                                   binary=True),
    "chat/empty binary frame": Frame(CHAT, b"", "error:bad_frame", binary=True),
    "chat/binary frame over 16 KiB": Frame(CHAT, b"\x00" * 17000, "close:1009", binary=True),
    "chat/JSON object over 16 KiB": Frame(CHAT, json.dumps({f"k{n}": n for n in range(2000)}), "close:1009"),
    "chat/empty text frame": Frame(CHAT, "", "error:bad_frame"),
    "chat/NaN": Frame(CHAT, "NaN", "error:bad_frame"),
    "chat/null": Frame(CHAT, "null", "error:bad_frame"),
    "chat/a bare number": Frame(CHAT, "123", "error:bad_frame"),
    "chat/a list of frames": Frame(CHAT, '[{"type": "say", "text": "hi", "cid": "corpus0003"}]', "error:bad_frame"),
    "chat/trailing garbage after the object": Frame(CHAT, '{"type": "typing"} <script>', "error:bad_frame"),
    "chat/nested 5000 deep": Frame(CHAT, DEEP, "error:bad_frame"),
    "chat/say with a field nested 5000 deep": Frame(
        CHAT, '{"type": "say", "text": "x", "cid": "corpus0004", "x": ' + DEEP + "}", "error:bad_frame"),
    "chat/large JSON under the limit (1000 extra keys)": Frame(
        CHAT, json.dumps({"type": "say", "text": "stor", "cid": "corpus0005", **{f"k{n}": n for n in range(1000)}}),
        "ack"),
    "chat/raw null byte inside a JSON string": Frame(CHAT, '{"type": "say", "text": "a\x00b", "cid": "corpus0006"}',
                                                     "error:bad_frame"),
    "chat/null byte in the cid": Frame(CHAT, say("hej", "corpus\\u00000007"), "error:bad_frame"),
    "chat/null byte in the type": Frame(CHAT, '{"type": "say\\u0000", "text": "x", "cid": "corpus0008"}',
                                        "error:bad_frame"),
    "chat/lone surrogate in the text": Frame(CHAT, '{"type": "say", "text": "a \\ud800 b", "cid": "corpus0009"}',
                                             "error:bad_text"),
    "chat/control characters in the text": Frame(CHAT, say(CONTROL, "corpus0010"), "ack"),
    "chat/bidi overrides and isolates in the text": Frame(CHAT, say(BIDI, "corpus0011"), "ack"),
    "chat/only zero-width and bidi marks": Frame(CHAT, say("\u200b\u2066\u2069\u200f", "corpus0012"), "ack"),
    "chat/only whitespace and newlines": Frame(CHAT, say("\n\r\n\t  \u3000", "corpus0013"), "error:empty"),
    "chat/script tag": Frame(CHAT, say(SCRIPT, "corpus0014"), "ack"),
    "chat/img onerror": Frame(CHAT, say(IMG, "corpus0015"), "ack"),
    "chat/text 4001 two-byte letters": Frame(CHAT, say("ä" * 4001, "corpus0016"), "error:too_long"),
    "chat/text is an object": Frame(CHAT, '{"type": "say", "text": {"a": 1}, "cid": "corpus0017"}', "error:bad_frame"),
    "chat/text is a list": Frame(CHAT, '{"type": "say", "text": ["a"], "cid": "corpus0018"}', "error:bad_frame"),
    "chat/cid is a number": Frame(CHAT, '{"type": "say", "text": "x", "cid": 1234567890}', "error:bad_frame"),
    "chat/cid of 65 characters": Frame(CHAT, say("x", "c" * 65), "error:bad_frame"),
    "chat/choice is null": Frame(CHAT, '{"type": "choose", "choice": null, "cid": "corpus0019"}', "error:bad_frame"),
    "chat/choice in capitals": Frame(CHAT, '{"type": "choose", "choice": "HUMAN", "cid": "corpus0020"}',
                                     "error:bad_frame"),
    "chat/type is null": Frame(CHAT, '{"type": null, "text": "x", "cid": "corpus0021"}', "error:bad_frame"),
    "chat/a second hello": Frame(CHAT, '{"type": "hello", "token": null, "after": 0}', "error:bad_frame"),
    "chat/typing with junk fields": Frame(CHAT, json.dumps({"type": "typing", "conversation": "x" * 1000}), "silent"),
    "chat/erase with junk fields": Frame(CHAT, json.dumps({"type": "erase", "everything": ["x"] * 100}), "silent"),
    "chat/erase with markup in the type's neighbours": Frame(CHAT, json.dumps({"type": "erase", "x": SCRIPT}),
                                                             "silent"),
    # -- /metrics: read from 127.0.0.1, so only a forwarded request is someone else -------------
    "metrics/POST": Http("POST", "/metrics", 405, body="x", content_type="text/plain"),
    "metrics/forwarded by a proxy not trusted": Http("GET", "/metrics", 403, error="forbidden",
                                                     headers={"X-Forwarded-For": "203.0.113.7"}),
    "metrics/forwarded, with a long bogus token": Http(
        "GET", "/metrics", 403, error="forbidden",
        headers={"X-Real-IP": "203.0.113.7", "Authorization": "Bearer " + "x" * 4000}),
    "metrics/Accept with a version that is not one": Http("GET", "/metrics", 200, contains="lotsa_outbox_backlog",
                                                          headers={"Accept": "text/plain; version=abc"}),
    "metrics/Accept OpenMetrics with a broken version": Http(
        "GET", "/metrics", 200, contains="lotsa_open_sockets",
        headers={"Accept": "application/openmetrics-text; version=x.y; escaping=nonsense"}),
    "metrics/query string of filters and junk": Http("GET", "/metrics?name[]=lotsa_x&name[]=%00&debug=%ff", 200,
                                                     contains="lotsa_contacts_waiting"),
    "chat/cross-site origin": Http("GET", "/chat/ws", 403, origin="https://evil.example", headers=UPGRADE),
    "chat/Origin null": Http("GET", "/chat/ws", 403, origin="null", headers=UPGRADE),
    # -- console socket ------------------------------------------------------------------------
    "console-ws/not JSON": Frame(CONSOLE, "{oops", "silent"),
    "console-ws/binary frame": Frame(CONSOLE, b"\x00\xff binary", "silent", binary=True),
    "console-ws/nested 5000 deep": Frame(CONSOLE, DEEP, "silent"),
    "console-ws/typing for a conversation not held": Frame(CONSOLE, '{"type": "typing", "conversation": 999999}',
                                                           "silent"),
    "console-ws/typing with the conversation as markup": Frame(
        CONSOLE, json.dumps({"type": "typing", "conversation": SCRIPT}), "silent"),
    "console-ws/invalid UTF-8": Frame(CONSOLE, b'{"type": "typing", "x": "\xff"}', "close:1007"),
    "console-ws/over 16 KiB": Frame(CONSOLE, json.dumps({"type": "typing", "pad": "x" * 17000}), "close:1009"),
    "console-ws/cross-site origin": Http("GET", "/console/ws", 403, who="counsellor", origin="https://evil.example",
                                         headers=UPGRADE),
    "console-ws/typing for a conversation held, with junk": Frame(
        CONSOLE, json.dumps({"type": "typing", "conversation": "{held}", "flood": "x" * 1000}), "silent"),
    # -- Telegram webhook ----------------------------------------------------------------------
    "telegram/no secret": Http("POST", TG, 403, update(9001), JSON),
    "telegram/wrong secret": Http("POST", TG, 403, update(9002), JSON, sign="not-the-secret"),
    "telegram/secret in other case": Http("POST", TG, 403, update(9003), JSON, sign=TELEGRAM_SECRET.upper()),
    "telegram/secret missing its last letter": Http("POST", TG, 403, update(9004), JSON, sign=TELEGRAM_SECRET[:-1]),
    "telegram/malformed JSON": Http("POST", TG, 400, "{update_id: 1,", JSON, sign=TELEGRAM_SECRET,
                                    error="bad_update"),
    "telegram/truncated JSON": Http("POST", TG, 400, json.dumps(update(9005))[:-7], JSON, sign=TELEGRAM_SECRET),
    "telegram/empty body": Http("POST", TG, 400, b"", JSON, sign=TELEGRAM_SECRET),
    "telegram/invalid UTF-8": Http("POST", TG, 400, b'{"update_id": 9006, "x": "\xff\xfe"}', JSON,
                                   sign=TELEGRAM_SECRET),
    "telegram/a JSON list": Http("POST", TG, 400, [update(9007)], JSON, sign=TELEGRAM_SECRET),
    "telegram/nested 5000 deep": Http("POST", TG, 400, DEEP, JSON, sign=TELEGRAM_SECRET, error="bad_update"),
    "telegram/over 64 KiB": Http("POST", TG, 413, update(9008, "x" * 70000), JSON, sign=TELEGRAM_SECRET),
    "telegram/update_id is text": Http("POST", TG, 400, {**update(9009), "update_id": "abc"}, JSON,
                                       sign=TELEGRAM_SECRET),
    "telegram/text/plain content type": Http("POST", TG, 200, update(9010), "text/plain", sign=TELEGRAM_SECRET),
    "telegram/null byte in the text": Http("POST", TG, 200, update(9011, "a\u0000b", chat=880002), JSON,
                                           sign=TELEGRAM_SECRET, contains="refused"),
    "telegram/lone surrogate in the text": Http("POST", TG, 200, '{"update_id": 9014, "message": {"message_id": 1, '
                                                '"date": 1700000000, "text": "\\ud800", "chat": {"id": 880005, '
                                                '"type": "private"}}}', JSON, sign=TELEGRAM_SECRET,
                                                contains="refused"),
    "telegram/markup and bidi in the text": Http("POST", TG, 200, update(9012, SCRIPT + BIDI, chat=880003), JSON,
                                                 sign=TELEGRAM_SECRET),
    "telegram/replayed update": Http("POST", TG, 200, update(9013, "replay", chat=880004), JSON,
                                     sign=TELEGRAM_SECRET, repeat=3, stored_once="u9013"),
    "telegram/GET instead of POST": Http("GET", TG, 405, sign=TELEGRAM_SECRET),
    # -- Twilio SMS and voice ------------------------------------------------------------------
    "twilio/no signature": Http("POST", SMS_HOOK, 403, sms("SMcorpus01"), FORM),
    "twilio/forged signature (another auth token)": Http("POST", SMS_HOOK, 403, sms("SMcorpus02"), FORM,
                                                         sign="forged"),
    "twilio/signature for another path": Http("POST", SMS_HOOK, 403, sms("SMcorpus03"), FORM, sign="other-path"),
    "twilio/signature over the Host header URL": Http("POST", SMS_HOOK, 403, sms("SMcorpus04"), FORM,
                                                      sign="host-url"),
    "twilio/signed body then tampered": Http("POST", SMS_HOOK, 403, sms("SMcorpus05"), FORM, sign="tampered"),
    "twilio/signature that is not base64": Http("POST", SMS_HOOK, 403, sms("SMcorpus06"), FORM, sign="garbage"),
    "twilio/replayed signed SMS": Http("POST", SMS_HOOK, 200, sms("SMcorpusreplay", "replay me"), FORM,
                                       sign="valid", repeat=3, stored_once="SMcorpusreplay"),
    "twilio/JSON content type": Http("POST", SMS_HOOK, 415, sms("SMcorpus07"), JSON, sign="valid"),
    "twilio/text/plain content type": Http("POST", SMS_HOOK, 415, "Body=hej", "text/plain", sign="valid"),
    "twilio/multipart form": Http("POST", SMS_HOOK, 415, b"--x\r\n\r\n--x--\r\n", "multipart/form-data; boundary=x",
                                  sign="valid"),
    "twilio/no content type": Http("POST", SMS_HOOK, 415, b"Body=hej", None, sign="valid"),
    "twilio/raw invalid UTF-8 form": Http("POST", SMS_HOOK, 400, b"MessageSid=SMx&Body=\xff\xfe\xfd", FORM,
                                          sign="valid"),
    # Read with replacement characters, so the signature (over the parameters as sent) cannot hold.
    "twilio/percent-encoded invalid UTF-8": Http("POST", SMS_HOOK, 403, b"MessageSid=SMx&Body=%FF%FE", FORM,
                                                 sign="valid"),
    "twilio/201 parameters": Http("POST", SMS_HOOK, 400, {f"p{n}": "x" for n in range(201)}, FORM, sign="valid"),
    "twilio/over 64 KiB": Http("POST", SMS_HOOK, 413, sms("SMcorpus08", "x" * 70000), FORM, sign="valid"),
    "twilio/signed empty form": Http("POST", SMS_HOOK, 400, {}, FORM, sign="valid"),
    "twilio/From is markup": Http("POST", SMS_HOOK, 400, sms("SMcorpus09", sender=SCRIPT), FORM, sign="valid"),
    "twilio/MessageSid of 100 characters": Http("POST", SMS_HOOK, 400, sms("SM" + "9" * 98), FORM, sign="valid"),
    "twilio/null byte in the Body": Http("POST", SMS_HOOK, 200, sms("SMcorpus10", "a\u0000b", "+46701230010"), FORM,
                                         sign="valid", contains="<Message>"),
    "twilio/markup and bidi in the Body": Http("POST", SMS_HOOK, 200, sms("SMcorpus11", IMG + BIDI, "+46701230011"),
                                               FORM, sign="valid", lacks="<img"),
    "twilio/status report for an unknown message": Http(
        "POST", "/hooks/twilio/sms/status", 204, {"MessageSid": "SMunknown", "MessageStatus": "failed",
                                                  "ErrorCode": SCRIPT}, FORM, sign="valid"),
    "twilio/signed SMS with a null byte in the MessageSid": Http(
        "POST", SMS_HOOK, 400, sms("SMcorpus\u000012", "hej", "+46701230012"), FORM, sign="valid"),
    "twilio/signed status report with a null byte in the MessageSid": Http(
        "POST", "/hooks/twilio/sms/status", 400, {"MessageSid": "SM\u0000x", "MessageStatus": "failed"}, FORM,
        sign="valid"),
    "twilio/signed call with a null byte in the CallSid": Http("POST", VOICE, 400, call("CAcorpus\u000006"), FORM,
                                                               sign="valid"),
    "twilio/voice call unsigned": Http("POST", VOICE, 403, call("CAcorpus01"), FORM),
    "twilio/voice replayed incoming call": Http("POST", VOICE, 200, call("CAcorpus02"), FORM, sign="valid",
                                                repeat=2, contains="<Response"),
    "twilio/voice gather, step out of range, markup digits": Http(
        "POST", "/hooks/twilio/voice/gather?step=999999999", 200, call("CAcorpus03", Digits=SCRIPT), FORM,
        sign="valid", lacks="<script"),
    "twilio/voice gather, step in superscript digits": Http(
        "POST", "/hooks/twilio/voice/gather?step=²", 200, call("CAcorpus05", Digits="1"), FORM, sign="valid",
        contains="<Response"),
    "twilio/voice status with a junk state": Http("POST", "/hooks/twilio/voice/status", 200,
                                                  call("CAcorpus04", CallStatus="\u202e" + SCRIPT), FORM,
                                                  sign="valid"),
    # -- console log-in form -------------------------------------------------------------------
    "login/an unknown name answers as a wrong password does": Http(
        "POST", "/console/login", 401, {"name": "nobody-at-all", "password": "x"}, FORM,
        contains="wrong name or password", lacks="too many"),
    "login/a forged X-Forwarded-For is ignored": Http(
        "POST", "/console/login", 401, {"name": "kim", "password": "wrong"}, FORM,
        headers={"X-Forwarded-For": "<script>, 999.1.1.1, ::ffff:zz, "}, contains="wrong name or password"),
    "login/JSON instead of a form": Http("POST", "/console/login", 401, {"name": "kim", "password": PASSWORD}, JSON),
    "login/empty body": Http("POST", "/console/login", 401, b"", FORM),
    "login/invalid UTF-8 form": Http("POST", "/console/login", 400, b"name=\xff\xfe&password=x", FORM),
    "login/null byte in the name": Http("POST", "/console/login", 401, {"name": "kim\u0000", "password": PASSWORD},
                                        FORM),
    "login/markup in the name is echoed escaped": Http(
        "POST", "/console/login", 401, {"name": IMG, "password": "x"}, FORM, contains="&lt;img src=x", lacks=IMG),
    "login/over 64 KiB": Http("POST", "/console/login", 413, {"name": "kim", "password": "x" * 70000}, FORM),
    "login/no Origin": Http("POST", "/console/login", 403, {"name": "kim", "password": PASSWORD}, FORM, origin=None),
    "login/Origin null": Http("POST", "/console/login", 403, {"name": "kim", "password": PASSWORD}, FORM,
                              origin="null"),
    "login/password sent as a file upload": Http(
        "POST", "/console/login", 401,
        b'--b\r\nContent-Disposition: form-data; name="name"\r\n\r\nkim\r\n--b\r\nContent-Disposition: form-data; '
        b'name="password"; filename="p.txt"\r\nContent-Type: text/plain\r\n\r\nsecret\r\n--b--\r\n',
        "multipart/form-data; boundary=b"),
    "logout/CSRF missing": Http("POST", "/console/logout", 403, {}, FORM, who="counsellor"),
    "logout/invalid UTF-8 form": Http("POST", "/console/logout", 400, b"csrf=\xff\xfe", FORM, who="counsellor"),
    # -- console JSON API ----------------------------------------------------------------------
    "api/empty JSON body": Http("POST", SEND, 400, b"", JSON, who="counsellor", error="bad_json"),
    "api/invalid UTF-8 JSON": Http("POST", SEND, 400, b'{"text": "\xff\xfe"}', JSON, who="counsellor",
                                   error="bad_json"),
    "api/nested 5000 deep": Http("POST", SEND, 400, DEEP, JSON, who="counsellor", error="bad_json"),
    "api/huge JSON list over 64 KiB": Http("POST", SEND, 413, list(range(20000)), JSON, who="counsellor"),
    "api/form content type": Http("POST", SEND, 415, {"text": "hej"}, FORM, who="counsellor", error="json_expected"),
    "api/null byte in the text": Http("POST", SEND, 400, {"text": "a\u0000b"}, JSON, who="counsellor",
                                      error="bad_text"),
    "api/lone surrogate in the text": Http("POST", SEND, 400, '{"text": "a \\udc00 b"}', JSON, who="counsellor",
                                           error="bad_json"),
    "api/note with a lone surrogate": Http("POST", NOTE, 400, '{"text": "\\ud800"}', JSON, who="counsellor",
                                           error="bad_json"),
    "api/transfer to a colleague named with a lone surrogate": Http(
        "POST", "/api/console/conversations/{held}/transfer", 400, '{"to": "\\ud800", "note": "x"}', JSON,
        who="counsellor", error="bad_json"),
    "api/text of 4001 characters": Http("POST", SEND, 400, {"text": "x" * 4001}, JSON, who="counsellor",
                                        error="too_long"),
    "api/text is a number": Http("POST", SEND, 400, {"text": 5}, JSON, who="counsellor", error="bad_text"),
    "api/markup is stored and answered as text": Http("POST", SEND, 201, {"text": SCRIPT + IMG}, JSON,
                                                      who="counsellor", contains="<script>alert(1)</script>"),
    "api/CSRF missing": Http("POST", SEND, 403, {"text": "hej"}, JSON, who="counsellor", csrf="missing",
                             error="csrf"),
    "api/CSRF wrong": Http("POST", SEND, 403, {"text": "hej"}, JSON, who="counsellor", csrf="wrong", error="csrf"),
    "api/CSRF of another session": Http("POST", SEND, 403, {"text": "hej"}, JSON, who="counsellor",
                                        csrf="foreign", error="csrf"),
    "api/note with a null byte": Http("POST", NOTE, 400, {"text": "\u0000"}, JSON, who="counsellor",
                                      error="bad_text"),
    "api/note with markup and bidi": Http("POST", NOTE, 201, {"text": IMG + BIDI}, JSON, who="counsellor",
                                          contains="<img src=x onerror=alert(1)>"),
    "api/transfer to a colleague who does not take the conversation's language": Http(
        "POST", "/api/console/conversations/{held}/transfer", 403, {"to": "siv", "note": "x"}, JSON,
        who="counsellor", error="not_skilled"),
    "api/transfer with the queue as a list": Http("POST", "/api/console/conversations/{held}/transfer", 400,
                                                  {"queue": ["general"], "note": "x"}, JSON, who="counsellor",
                                                  error="bad_target"),
    "api/transfer to a colleague named with markup": Http(
        "POST", "/api/console/conversations/{held}/transfer", 400, {"to": SCRIPT, "note": "x"}, JSON,
        who="counsellor", error="unknown_colleague"),
    "api/transfer to a colleague whose name has a null byte": Http(
        "POST", "/api/console/conversations/{held}/transfer", 400, {"to": "kai\u0000", "note": "x"}, JSON,
        who="counsellor", error="unknown_colleague"),
    "api/presence as a list": Http("POST", "/api/console/presence", 400, {"presence": ["available"]}, JSON,
                                   who="counsellor", error="bad_presence"),
    "api/presence as an object": Http("POST", "/api/console/presence", 400, {"presence": {"a": 1}}, JSON,
                                      who="counsellor", error="bad_presence"),
    "api/close with a wrap-up of wrong types": Http(
        "POST", "/api/console/conversations/{held}/close", 400, {"outcome": 5, "referrals": "x", "needs": None}, JSON,
        who="counsellor", error="wrapup_required"),
    "api/close with a text body": Http("POST", "/api/console/conversations/{held}/close", 415, "outcome=x",
                                       "text/plain", who="counsellor"),
    "api/conversation id in superscript digits": Http("GET", "/api/console/conversations/%C2%B2", 404,
                                                      who="counsellor"),
    # -- supervisor routes ---------------------------------------------------------------------
    "supervisor/block for 1e400 hours": Http("POST", BLOCK, 400, '{"hours": 1e400}', JSON, who="supervisor",
                                             error="bad_hours"),
    "supervisor/block for true hours": Http("POST", BLOCK, 400, {"hours": True}, JSON, who="supervisor",
                                            error="bad_hours"),
    "supervisor/block with a form body": Http("POST", BLOCK, 400, {"hours": "24"}, FORM, who="supervisor",
                                              error="bad_json"),
    "supervisor/block nested 5000 deep": Http("POST", BLOCK, 400, DEEP, JSON, who="supervisor", error="bad_json"),
    "supervisor/block with CSRF missing": Http("POST", BLOCK, 403, {"hours": 1}, JSON, who="supervisor",
                                               csrf="missing", error="csrf"),
    "supervisor/block a conversation id in superscript digits": Http(
        "POST", "/api/console/conversations/%C2%B2/block", 404, {"hours": 1}, JSON, who="supervisor"),
    "supervisor/unblock an unknown conversation": Http("POST", "/api/console/conversations/999999/unblock", 404,
                                                       who="supervisor", error="not_found"),
    "supervisor/retry a dead letter id in superscript digits": Http(
        "POST", "/api/console/outbox/%C2%B2/retry", 404, who="supervisor"),
    "supervisor/retry a dead letter id in full-width digits": Http(
        "POST", "/api/console/outbox/%EF%BC%91%EF%BC%92/retry", 404, who="supervisor"),
    "supervisor/retry with CSRF wrong": Http("POST", "/api/console/outbox/1/retry", 403, who="supervisor",
                                             csrf="wrong", error="csrf"),
    # -- the statistics page: the period and format are checked, never a 500 -------------------------
    "statistics/31 February": Http("GET", "/admin/statistics?from=2026-02-31&to=2026-03-31", 400, who="supervisor",
                                   contains="stats-error"),
    "statistics/to before from": Http("GET", "/admin/statistics?from=2026-03-01&to=2026-01-01", 400,
                                      who="supervisor", contains="stats-error"),
    "statistics/thirty years": Http("GET", "/admin/statistics?from=1996-01-01&to=2026-01-01", 400, who="supervisor"),
    "statistics/a NUL in the date": Http("GET", "/admin/statistics?from=2026-01-01%00&to=2026-02-01", 400,
                                         who="supervisor"),
    "statistics/a year 99999": Http("GET", "/admin/statistics?from=99999-01-01&to=2026-02-01", 400, who="supervisor"),
    "statistics/an unknown format": Http("GET", "/admin/statistics?format=xlsx", 400, who="supervisor"),
    "statistics/markup in the date is not echoed": Http(
        "GET", "/admin/statistics?from=%3Cscript%3Ex&to=2026-02-01", 400, who="supervisor", lacks="<script>x"),

    # -- admin routes ----------------------------------------------------------------------------
    "admin/publish with the content as a list": Http("POST", PUBLISH, 400, {
        "content": ["name: default"], "comment": "c", "base_version": 1}, JSON, who="admin", error="bad_content"),
    "admin/publish based on version true": Http("POST", PUBLISH, 400, {
        "content": "x", "comment": "c", "base_version": True}, JSON, who="admin", error="bad_base_version"),
    "admin/publish based on version 1e400": Http("POST", PUBLISH, 400, '{"content": "x", "comment": "c", '
                                                 '"base_version": 1e400}', JSON, who="admin",
                                                 error="bad_base_version"),
    "admin/publish what is not YAML": Http("POST", PUBLISH, 422, {"content": "steps: {{{", "comment": "c",
                                                                  "base_version": 1}, JSON, who="admin",
                                           error="invalid"),
    "admin/publish YAML that is a list": Http("POST", PUBLISH, 422, {"content": "- a\n- b", "comment": "c",
                                                                     "base_version": 1}, JSON, who="admin",
                                              error="invalid"),
    "admin/publish without a comment": Http("POST", PUBLISH, 400, {"content": "name: default", "comment": "",
                                                                   "base_version": 1}, JSON, who="admin",
                                            error="refused"),
    "admin/publish nested 5000 deep": Http("POST", PUBLISH, 400, DEEP, JSON, who="admin", error="bad_json"),
    "admin/publish with CSRF missing": Http("POST", PUBLISH, 403, {"content": "x", "comment": "c",
                                                                   "base_version": 1}, JSON, who="admin",
                                            csrf="missing", error="csrf"),
    "admin/publish as a supervisor": Http("POST", PUBLISH, 403, {"content": "x", "comment": "c", "base_version": 1},
                                          JSON, who="supervisor", error="role"),
    "admin/publish a document of no such kind": Http("POST", "/api/admin/documents/nope/x/publish", 404,
                                                     {"content": "x"}, JSON, who="admin", error="not_found"),
    "admin/publish a document named with markup": Http(
        "POST", "/api/admin/documents/texts/%3Cscript%3E/publish", 404, {"content": "x"}, JSON, who="admin",
        error="not_found"),
    "admin/check a billion-laughs YAML": Http("POST", "/api/admin/documents/phrases/suicide/check", 200,
                                              {"content": LAUGHS}, JSON, who="admin", contains='"ok": false'),
    "admin/check a YAML with a python tag": Http("POST", "/api/admin/documents/queues/queues/check", 200, {
        "content": "!!python/object/apply:os.system ['true']"}, JSON, who="admin", contains='"ok": false'),
    "admin/simulate with a forged state": Http("POST", "/api/admin/simulate", 400, {
        "content": DEFAULT_SCRIPT, "state": {"step": "nowhere", "fields": {}, "language": "en"}, "text": "hej"},
        JSON, who="admin", error="bad_state"),
    "admin/simulate with the state as a list": Http("POST", "/api/admin/simulate", 400, {
        "content": DEFAULT_SCRIPT, "state": [1], "text": "hej"}, JSON, who="admin", error="bad_state"),
    "admin/simulate with a choice as a number": Http("POST", "/api/admin/simulate", 400, {
        "content": DEFAULT_SCRIPT, "state": {"step": "who", "fields": {}, "language": "en"}, "choice": 2},
        JSON, who="admin", error="bad_choice"),
    "admin/simulate a script that does not validate": Http("POST", "/api/admin/simulate", 422, {
        "content": "name: default", "state": None}, JSON, who="admin", error="invalid"),
    "admin/sample with the messages as a text": Http("POST", "/api/admin/sample", 400, {
        "kind": "triage_script", "name": "default", "content": DEFAULT_SCRIPT, "messages": "hej"}, JSON,
        who="admin", error="bad_messages"),
    "admin/sample of the texts": Http("POST", "/api/admin/sample", 400, {
        "kind": "texts", "name": "sv", "content": "x", "messages": ["hej"]}, JSON, who="admin", error="bad_kind"),
    "admin/diff from a version in superscript digits": Http(
        "GET", "/api/admin/documents/queues/queues/diff?from=%C2%B2&to=1", 400, who="admin", error="bad_from"),
    "admin/a version in full-width digits": Http(
        "GET", "/api/admin/documents/queues/queues/versions/%EF%BC%91", 400, who="admin", error="bad_version"),
    "admin/roll back to version 0": Http("POST", "/api/admin/documents/queues/queues/rollback", 400,
                                         {"version": 0}, JSON, who="admin", error="bad_version"),
    "admin/roll back to a version that does not exist": Http(
        "POST", "/api/admin/documents/queues/queues/rollback", 400, {"version": 999}, JSON, who="admin",
        error="refused"),

    "supervisor/acute-hold as a string": Http("POST", HOLD, 400, {"hold": "yes"}, JSON, who="supervisor",
                                              error="bad_hold"),
    "supervisor/acute-hold as null": Http("POST", HOLD, 400, {"hold": None}, JSON, who="supervisor",
                                          error="bad_hold"),
    "supervisor/acute-hold nested 5000 deep": Http("POST", HOLD, 400, DEEP, JSON, who="supervisor",
                                                   error="bad_json"),
    "supervisor/acute-hold with a form body": Http("POST", HOLD, 415, {"hold": "true"}, FORM, who="supervisor",
                                                   error="json_expected"),
    "supervisor/acute-hold with CSRF missing": Http("POST", HOLD, 403, {"hold": True}, JSON, who="supervisor",
                                                    csrf="missing", error="csrf"),
    # -- the admin's Staff page forms (a refused form shows the page again, its code in data-error) --
    "admin/create named with markup": Http("POST", STAFF, 400, {**NEW, "name": SCRIPT}, FORM, who="admin",
                                           contains='data-error="bad_name"', lacks=SCRIPT),
    "admin/create named with a null byte": Http("POST", STAFF, 400, {**NEW, "name": "kim\u0000"}, FORM, who="admin",
                                                contains='data-error="bad_form"'),
    "admin/create named with bidi overrides": Http("POST", STAFF, 400, {**NEW, "name": "\u202eanna"}, FORM,
                                                   who="admin", contains='data-error="bad_name"'),
    "admin/create named with full-width letters": Http("POST", STAFF, 400, {**NEW, "name": "ａｎｎａ"}, FORM,
                                                       who="admin", contains='data-error="bad_name"'),
    "admin/create with a name of 65 characters": Http("POST", STAFF, 400, {**NEW, "name": "a" * 65}, FORM,
                                                      who="admin", contains='data-error="bad_form"'),
    "admin/create with an existing name": Http("POST", STAFF, 409, {**NEW, "name": "kim"}, FORM, who="admin",
                                               contains='data-error="name_taken"'),
    "admin/create with the role root": Http("POST", STAFF, 400, {**NEW, "role": "root"}, FORM, who="admin",
                                            contains='data-error="bad_role"'),
    "admin/create with most chats 1e400": Http("POST", STAFF, 400, {**NEW, "max_chats": "1e400"}, FORM,
                                               who="admin", contains='data-error="bad_form"'),
    "admin/create with most chats in superscript digits": Http("POST", STAFF, 400, {**NEW, "max_chats": "²"}, FORM,
                                                               who="admin", contains='data-error="bad_max_chats"'),
    "admin/create with most chats 0": Http("POST", STAFF, 400, {**NEW, "max_chats": "0"}, FORM, who="admin",
                                           contains='data-error="bad_max_chats"'),
    "admin/create with a phone of letters": Http("POST", STAFF, 400, {**NEW, "phone": "+46abcdefgh"}, FORM,
                                                 who="admin", contains='data-error="bad_phone"'),
    "admin/create with a phone in full-width digits": Http("POST", STAFF, 400, {**NEW, "phone": "+４６７０１２３４５６７"},
                                                           FORM, who="admin", contains='data-error="bad_phone"'),
    "admin/create with markup as languages": Http("POST", STAFF, 400, {**NEW, "languages": IMG}, FORM, who="admin",
                                                  contains='data-error="bad_languages"', lacks=IMG),
    "admin/create with a language that is not a code": Http("POST", STAFF, 400, {**NEW, "languages": "svenska"},
                                                            FORM, who="admin", contains='data-error="bad_languages"'),
    "admin/create with an unknown queue": Http("POST", STAFF, 400, {**NEW, "queues": "../etc"}, FORM, who="admin",
                                               contains='data-error="bad_queues"'),
    "admin/create with invalid UTF-8": Http("POST", STAFF, 400, b"name=\xff\xfe&role=counsellor", FORM,
                                            who="admin", error="bad_form"),
    "admin/create with a JSON body": Http("POST", STAFF, 400, NEW, JSON, who="admin",
                                          contains='data-error="bad_name"'),
    "admin/create with CSRF missing": Http("POST", STAFF, 403, NEW, FORM, who="admin", csrf="missing",
                                           error="csrf"),
    "admin/create with the CSRF of another session": Http("POST", STAFF, 403, NEW, FORM, who="admin",
                                                          csrf="foreign", error="csrf"),
    "admin/create from another site": Http("POST", STAFF, 403, NEW, FORM, who="admin",
                                           origin="https://evil.example", error="cross_site"),
    "admin/create as a supervisor": Http("POST", STAFF, 403, NEW, FORM, who="supervisor", error="role"),
    "admin/create anonymously": Http("POST", STAFF, 401, NEW, FORM, error="login_required"),
    "admin/change an account id in superscript digits": Http("POST", STAFF + "/%C2%B2", 404, NEW, FORM,
                                                             who="admin", contains='data-error="not_found"'),
    "admin/disable an unknown account": Http("POST", STAFF + "/999999/disable", 404, {}, FORM, who="admin",
                                             contains='data-error="not_found"'),
    "admin/reset the password of an account id of 13 digits": Http(
        "POST", STAFF + "/1234567890123/password", 404, {}, FORM, who="admin", contains='data-error="not_found"'),
    "admin/enable an account id with a sign": Http("POST", STAFF + "/-1/enable", 404, {}, FORM, who="admin",
                                                   contains='data-error="not_found"'),
    # -- the admin's queues form (a refused form shows the page again, the problem at its field) ----
    "admin/queues form with markup as a queue's name": Http(
        "POST", QUEUES_FORM, 200, {**ONE_QUEUE, "q0-name-en": SCRIPT}, FORM, who="admin", contains='id="preview"',
        lacks=SCRIPT),
    "admin/queues form with markup as hours": Http(
        "POST", QUEUES_FORM, 422, {**ONE_QUEUE, "q0-own_hours": "1", "q0-hours-mon": IMG}, FORM, who="admin",
        contains='id="q0-hours-problem"', lacks=IMG),
    "admin/queues form with a queue count of 1e400": Http(
        "POST", QUEUES_FORM, 422, {**ONE_QUEUE, "queue_count": "1e400"}, FORM, who="admin",
        contains='id="form-problems"'),
    "admin/queues form with a wait in superscript digits": Http(
        "POST", QUEUES_FORM, 422, {**ONE_QUEUE, "q0-max_wait": "²"}, FORM, who="admin",
        contains='id="q0-max_wait-problem"'),
    "admin/queues form publishing from version ²": Http(
        "POST", QUEUES_FORM, 400, {**ONE_QUEUE, "action": "publish", "comment": "x", "base_version": "²"}, FORM,
        who="admin", error="bad_form"),
    "admin/queues form with invalid UTF-8": Http("POST", QUEUES_FORM, 400, b"q0-id=\xff\xfe&action=preview", FORM,
                                                 who="admin", error="bad_form"),
    "admin/queues form with CSRF missing": Http("POST", QUEUES_FORM, 403, ONE_QUEUE, FORM, who="admin",
                                                csrf="missing", error="csrf"),
    "admin/queues form as a supervisor": Http("POST", QUEUES_FORM, 403, ONE_QUEUE, FORM, who="supervisor",
                                              error="role"),
}


class ErrorLog(logging.Handler):
    """Every record at ERROR or above the service logs: a handled bad input logs none. (Not asyncio's
    own reports, e.g. a database connection's close task collected late: no input causes those.)"""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.split(".")[0] in SERVICE_LOGGERS:
            self.records.append(record)


SERVICE_LOGGERS = {"lotsa", "bot", "handoff", "triage", "aiohttp"}


@dataclass
class Corpus:
    rig: ProviderRig
    staff: dict[str, ConsoleClient]
    other: ConsoleClient
    held: int
    queued: int
    errors: ErrorLog
    ran: list[str] = field(default_factory=list)


async def _queued(rig: ProviderRig, address: str) -> int:
    for text in ("hej", "2", "1", "skip"):
        accepted = await rig.server.memory.write(address, text)
    return accepted.conversation_id


@asynccontextmanager
async def _database(kind: str) -> AsyncIterator[str | None]:
    if kind == "sqlite":
        yield None
        return
    if not POSTGRES_URL:
        pytest.skip("LOTSA_TEST_POSTGRES_URL is not set")
    url, name = await create_postgres_database()
    try:
        await asyncio.to_thread(upgrade, url)
        yield url
    finally:
        await drop_postgres_database(name)


@pytest_asyncio.fixture(scope="module", loop_scope="module",
                        params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def corpus(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Corpus]:
    errors = ErrorLog()
    logging.getLogger().addHandler(errors)
    async with _database(request.param) as database, \
            provider_server(tmp_path_factory.mktemp("corpus"), database) as rig:
        await rig.server.add_staff("kim", "counsellor", max_chats=20)
        await rig.server.add_staff("kai", "counsellor")
        await rig.server.add_staff("sam", "supervisor")
        await rig.server.add_staff("siv", "counsellor", languages=["sv"])
        await rig.server.add_staff("ana", "admin")

        await rig.server.add_staff("ada", "admin")
        staff = {"counsellor": ConsoleClient(rig.url), "supervisor": ConsoleClient(rig.url),
                 "admin": ConsoleClient(rig.url)}
        other = ConsoleClient(rig.url)
        try:
            await staff["counsellor"].login("kim", PASSWORD)
            await staff["supervisor"].login("sam", PASSWORD)
            await staff["admin"].login("ana", PASSWORD)

            await staff["admin"].login("ada", PASSWORD)
            await other.login("kai", PASSWORD)
            held = await _queued(rig, "+46700000501")
            assert await staff["counsellor"].claim(held) == 200
            queued = await _queued(rig, "+46700000502")
            yield Corpus(rig, staff, other, held, queued, errors)
        finally:
            for client in [*staff.values(), other]:
                await client.close()
            logging.getLogger().removeHandler(errors)


async def _alive_chat(ws: aiohttp.ClientWebSocketResponse, cid: str) -> None:
    """A frame after the bad one is still taken: the connection survived."""
    await ws.send_json({"type": "choose", "choice": "en", "cid": cid})
    while True:
        frame = await ws.receive_json(timeout=10)
        if frame["type"] == "ack" and frame["cid"] == cid:
            return


async def _next_frame(ws: aiohttp.ClientWebSocketResponse, wanted: set[str]) -> aiohttp.WSMessage | dict[str, Any]:
    """The next error/ack frame, or the close."""
    while True:
        msg = await ws.receive(timeout=10)
        if msg.type != aiohttp.WSMsgType.TEXT:
            return msg
        frame = json.loads(msg.data)
        if frame["type"] in wanted:
            return frame


async def _send(ws: aiohttp.ClientWebSocketResponse, case: Frame) -> None:
    if case.binary:
        assert isinstance(case.data, bytes)
        await ws.send_bytes(case.data)
    elif isinstance(case.data, bytes):
        await ws.send_frame(case.data, aiohttp.WSMsgType.TEXT)
    else:
        await ws.send_str(case.data)


async def _chat_frame(corpus: Corpus, case: Frame, n: int) -> None:
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(f"{corpus.rig.url}/chat/ws", origin=corpus.rig.url)
        if case.hello:
            await ws.send_json({"type": "hello", "token": None, "after": 0, "lang": "en"})
            assert (await ws.receive_json(timeout=10))["type"] == "welcome"
        await _send(ws, case)
        kind, _, code = case.answer.partition(":")
        if kind == "close":
            msg = await _next_frame(ws, set())
            assert isinstance(msg, aiohttp.WSMessage) and msg.type in (aiohttp.WSMsgType.CLOSE,
                                                                       aiohttp.WSMsgType.CLOSED), msg
            assert ws.close_code == int(code)
        elif kind == "welcome":
            frame = await ws.receive_json(timeout=10)
            assert frame["type"] == "welcome" and len(frame["token"]) == 43, frame
            await _alive_chat(ws, f"alive{n:05d}")
        elif kind == "silent":
            await _alive_chat(ws, f"alive{n:05d}")
        else:
            frame = await _next_frame(ws, {"error", "ack"})
            assert isinstance(frame, dict), frame
            if kind == "ack":
                assert frame["type"] == "ack", frame
            else:
                assert frame["type"] == "error" and frame["code"] == code and frame["message"], frame
            await _alive_chat(ws, f"alive{n:05d}")
        await ws.close()


async def _console_frame(corpus: Corpus, case: Frame) -> None:
    client = corpus.staff["counsellor"]
    ws = await client.session.ws_connect(f"{corpus.rig.url}/console/ws", origin=corpus.rig.url)
    try:
        assert (await ws.receive_json(timeout=10))["type"] == "queue"
        if isinstance(case.data, str):
            case = replace(case, data=case.data.replace('"{held}"', str(corpus.held)))
        await _send(ws, case)
        kind, _, code = case.answer.partition(":")
        if kind == "close":
            msg = await _next_frame(ws, set())
            assert isinstance(msg, aiohttp.WSMessage) and msg.type in (aiohttp.WSMsgType.CLOSE,
                                                                       aiohttp.WSMsgType.CLOSED), msg
            assert ws.close_code == int(code)
            return
        assert kind == "silent"
        # Still connected and served: a presence change sends everyone a fresh queue frame.
        status, _ = await client.set_presence("available")
        assert status == 200
        while (await ws.receive_json(timeout=10))["type"] != "queue":
            pass
    finally:
        await ws.close()


def _encode(case: Http, corpus: Corpus) -> tuple[bytes | None, dict[str, str] | None]:
    """The body as bytes, and the form parameters when it is a form (for signing)."""
    if case.body is None:
        return None, None
    if isinstance(case.body, bytes):
        return case.body, None
    if isinstance(case.body, str):
        return case.body.encode(), None
    if case.content_type == FORM and isinstance(case.body, dict):
        return urllib.parse.urlencode(case.body).encode(), case.body
    return json.dumps(case.body).encode(), None


def _twilio_signature(corpus: Corpus, case: Http, params: dict[str, str] | None) -> str:
    params = params or {}
    token = corpus.rig.twilio.auth_token
    if case.sign == "valid":
        return RequestValidator(token).compute_signature(PUBLIC + case.path, params)
    if case.sign == "forged":
        return RequestValidator("not-the-auth-token").compute_signature(PUBLIC + case.path, params)
    if case.sign == "other-path":
        return RequestValidator(token).compute_signature(PUBLIC + "/hooks/twilio/voice", params)
    if case.sign == "host-url":
        return RequestValidator(token).compute_signature(corpus.rig.url + case.path, params)
    if case.sign == "tampered":
        return RequestValidator(token).compute_signature(PUBLIC + case.path, {**params, "Body": "something else"})
    assert case.sign == "garbage"
    return "!!not base64!!"


async def _http(corpus: Corpus, case: Http) -> None:
    path = case.path.replace("{held}", str(corpus.held)).replace("{queued}", str(corpus.queued))
    body, params = _encode(case, corpus)
    headers = dict(case.headers)
    if case.content_type is not None:
        headers["Content-Type"] = case.content_type
    if case.origin is not None:
        headers["Origin"] = corpus.rig.url if case.origin == "self" else case.origin
    client = corpus.staff.get(case.who or "")
    if client is not None:
        headers["X-CSRF-Token"] = {"valid": client.csrf, "missing": "", "wrong": "x" * len(client.csrf),
                                   "foreign": corpus.other.csrf}[case.csrf]
        if case.csrf == "missing":
            del headers["X-CSRF-Token"]
    if case.sign is not None and path.startswith("/hooks/telegram"):
        headers[SECRET_HEADER] = case.sign
    elif case.sign is not None:
        headers["X-Twilio-Signature"] = _twilio_signature(corpus, case, params)
    session = client.session if client is not None else aiohttp.ClientSession()
    try:
        for attempt in range(case.repeat):
            async with session.request(case.method, f"{corpus.rig.url}{path}", data=body, headers=headers,
                                       allow_redirects=False, skip_auto_headers=["Content-Type"]) as r:
                text = await r.text()
                assert r.status == case.status, f"attempt {attempt + 1}: {r.status} {text[:300]}"
                if case.error is not None:
                    assert (await r.json())["error"] == case.error, text[:300]
                if case.contains is not None:
                    assert case.contains in text, text[:300]
                if case.lacks is not None:
                    assert case.lacks not in text, text[:300]
    finally:
        if client is None:
            await session.close()
    if case.stored_once is not None:
        async with corpus.rig.server.app[appkeys.DB].read() as s:
            stored = await s.scalar(select(func.count()).select_from(Message).where(
                Message.provider_message_id == case.stored_once))
        assert stored == 1, f"a replayed request was stored {stored} times"


CASE_IDS = list(CASES)


@pytest.mark.parametrize("name", CASE_IDS, ids=CASE_IDS)
async def test_bad_input(corpus: Corpus, name: str) -> None:
    case = CASES[name]
    logged = len(corpus.errors.records)
    if isinstance(case, Frame):
        if case.socket == CHAT:
            await _chat_frame(corpus, case, CASE_IDS.index(name))
        else:
            await _console_frame(corpus, case)
    else:
        await _http(corpus, case)
    new = [f"{r.name}: {r.getMessage()}" for r in corpus.errors.records[logged:]]
    assert not new, f"the server logged errors for this input: {new}"
    corpus.ran.append(name)


async def test_the_worker_is_up_after_the_corpus(corpus: Corpus, request: pytest.FixtureRequest) -> None:
    database = request.node.callspec.params["corpus"]
    selected = [item for item in request.session.items if getattr(item, "originalname", "") == "test_bad_input"
                and item.callspec.params["corpus"] == database]
    surfaces: dict[str, int] = {}
    for name in corpus.ran:
        surfaces[name.split("/")[0]] = surfaces.get(name.split("/")[0], 0) + 1
    print(f"\nbad-input corpus on {database}: {len(corpus.ran)} of {len(CASES)} cases ran and held "
          f"({', '.join(f'{k} {v}' for k, v in surfaces.items())})")
    assert len(CASES) >= 60
    assert len(corpus.ran) == len(selected), "some cases did not hold"
    assert await corpus.rig.healthy()
