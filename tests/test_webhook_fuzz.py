"""Hypothesis throws malformed bodies at every webhook: the answer is a clear 4xx (or 200 for an
update that is well-formed but of no interest), never a 500, and the server stays up.

The server runs on its own event loop in a thread so hypothesis can drive it from plain tests."""
from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from lotsa.db import upgrade
from lotsa_testing.fake_providers import FakeTelegram, FakeTwilio
from lotsa_testing.server import make_settings, start_server

PUBLIC = "https://lotsa.example.org"
SECRET = "fuzz-secret-" + "y" * 20
OK = {200, 204, 400, 403, 404, 405, 413, 415}


class ThreadedServer:
    def __init__(self, tmp_path: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.url = ""
        self.tmp_path = tmp_path
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.stop_event: asyncio.Event | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        telegram, twilio = FakeTelegram(), FakeTwilio()
        await telegram.start()
        await twilio.start()
        database = f"sqlite+aiosqlite:///{self.tmp_path / 'fuzz.db'}"
        await asyncio.to_thread(upgrade, database)
        self.settings = make_settings(
            self.tmp_path, database, telegram_token=telegram.token, telegram_webhook_secret=SECRET,
            telegram_api_url=telegram.url, twilio_account_sid=twilio.account_sid,
            twilio_auth_token=twilio.auth_token, twilio_from_number="+46766860000", twilio_api_url=twilio.url,
            public_url=PUBLIC, twilio_segments_per_second=100.0)
        self.auth_token = twilio.auth_token
        server, running = await start_server(self.settings)
        self.url = running.url
        self.stop_event = asyncio.Event()
        self.ready.set()
        await self.stop_event.wait()
        await server.close()
        await telegram.stop()
        await twilio.stop()

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        request = urllib.request.Request(self.url + path, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as e:
            return e.code

    def healthy(self) -> bool:
        with urllib.request.urlopen(self.url + "/healthz", timeout=10) as response:
            return response.status == 200

    def sign(self, path: str, params: dict[str, str]) -> str:
        return RequestValidator(self.auth_token).compute_signature(PUBLIC + path, params)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    server = ThreadedServer(tmp_path_factory.mktemp("fuzz"))
    server.thread.start()
    assert server.ready.wait(30)
    yield server
    assert server.stop_event is not None
    server.loop.call_soon_threadsafe(server.stop_event.set)
    server.thread.join(30)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20)
update_like = st.fixed_dictionaries(
    {"update_id": st.integers() | st.text(max_size=5)},
    optional={"message": json_values, "callback_query": json_values, "edited_message": json_values})
fuzz = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@fuzz
@given(body=st.one_of(st.binary(max_size=300), json_values.map(lambda v: json.dumps(v).encode()),
                      update_like.map(lambda v: json.dumps(v).encode())))
def test_telegram_webhook_never_answers_500(live: ThreadedServer, body: bytes) -> None:
    status = live.post("/hooks/telegram", body, {"Content-Type": "application/json",
                                                  "X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert status in OK


@fuzz
@given(body=st.binary(max_size=300),
       secret=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=40))
def test_telegram_webhook_with_wrong_secret_is_always_403(live: ThreadedServer, body: bytes, secret: str) -> None:
    if secret == SECRET:
        return
    status = live.post("/hooks/telegram", body, {"Content-Type": "application/json",
                                                  "X-Telegram-Bot-Api-Secret-Token": secret})
    assert status == 403


form_params = st.dictionaries(
    st.sampled_from(["MessageSid", "From", "To", "Body", "NumMedia", "CallSid", "Digits", "CallStatus",
                     "MessageStatus", "AccountSid"]) | st.text(min_size=1, max_size=10),
    st.text(max_size=60), max_size=8)
paths = st.sampled_from(["/hooks/twilio/sms", "/hooks/twilio/sms/status", "/hooks/twilio/voice",
                         "/hooks/twilio/voice/gather?step=1", "/hooks/twilio/voice/wait",
                         "/hooks/twilio/voice/hold", "/hooks/twilio/voice/callback", "/hooks/twilio/voice/status"])


@fuzz
@given(path=paths, params=form_params)
def test_signed_but_malformed_twilio_forms_never_answer_500(live: ThreadedServer, path: str,
                                                           params: dict[str, str]) -> None:
    body = urllib.parse.urlencode(params).encode()
    status = live.post(path, body, {"Content-Type": "application/x-www-form-urlencoded",
                                    "X-Twilio-Signature": live.sign(path, params)})
    assert status in OK


@fuzz
@given(path=paths, body=st.binary(max_size=300),
       content_type=st.sampled_from(["application/x-www-form-urlencoded", "application/json", "text/plain",
                                     "multipart/form-data; boundary=x", ""]))
def test_unsigned_or_binary_twilio_bodies_are_refused(live: ThreadedServer, path: str, body: bytes,
                                                      content_type: str) -> None:
    status = live.post(path, body, {"Content-Type": content_type, "X-Twilio-Signature": "bm9wZQ=="})
    assert status in {400, 403, 415}


Post = tuple[str, bytes, dict[str, str], dict[str, str] | None]
"""(path, body, headers, the form to sign for Twilio or None)."""


@st.composite
def any_webhook_post(draw: st.DrawFn) -> Post:
    """A malformed post to any webhook: Telegram with the right secret, Twilio signed or not."""
    kind = draw(st.sampled_from(["telegram", "twilio signed", "twilio unsigned"]))
    if kind == "telegram":
        body = draw(st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode()))
        return "/hooks/telegram", body, {"Content-Type": "application/json",
                                         "X-Telegram-Bot-Api-Secret-Token": SECRET}, None
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    if kind == "twilio unsigned":
        return draw(paths), draw(st.binary(max_size=300)), {**form, "X-Twilio-Signature": "bm9wZQ=="}, None
    params = draw(form_params)
    return draw(paths), urllib.parse.urlencode(params).encode(), form, params


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(post=any_webhook_post())
def test_the_server_stays_up_through_malformed_webhook_posts(live: ThreadedServer, post: Post) -> None:
    """Sends its own malformed posts and asks /healthz after each one, so it proves the server
    survives them whichever tests ran before it on the shared server, or none (it used to only ask
    /healthz, which proved something only when it happened to run after the fuzz tests above)."""
    path, body, headers, signed = post
    if signed is not None:
        headers = {**headers, "X-Twilio-Signature": live.sign(path, signed)}
    assert live.post(path, body, headers) < 500
    assert live.healthy()
