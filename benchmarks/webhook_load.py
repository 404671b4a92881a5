"""The HTTP side of `lotsa bench`: signed Twilio SMS webhooks and Telegram updates from several
client processes, and the bare aiohttp handler that is the machine's ceiling.

Every request is what the provider would send: a Twilio form post signed by the rules of the twilio
library's `RequestValidator` (HMAC-SHA1 over the public URL and the sorted parameters) with a
distinct `MessageSid`, from a pool of distinct phone numbers; a Telegram update with the webhook's
secret header. The client runs in `processes` separate processes (multiprocessing), so that the
Python client is not what limits the figure; each reports its latencies back to the parent.

Two ways to drive a target:
- closed loop (`concurrency` requests in flight per process, each sent when the previous answered):
  the most the target takes, messages per second;
- open loop (`rate` requests per second in total, each sent at its scheduled time whether or not the
  earlier ones were answered): acknowledgement times at a given offered load, measured from the
  scheduled time, so a stalled server is not hidden by a client that waits for it.
"""
from __future__ import annotations

import asyncio
import json
import multiprocessing
import time
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from twilio.request_validator import RequestValidator

SMS_PATH = "/hooks/twilio/sms"
TELEGRAM_PATH = "/hooks/telegram"
TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "bench-auth-token"
TELEGRAM_TOKEN = "123456:TEST-token"
TELEGRAM_SECRET = "bench-telegram-secret"
WORDS = ("hej", "jag behöver prata med någon", "är det här anonymt?", "kan ni hjälpa mig", "tack",
         "jag vet inte vad jag ska göra", "min kompis behöver hjälp", "hello, is anyone there")


@dataclass
class Load:
    """What one run of the client does (picklable: it goes to each client process)."""

    base_url: str
    """Where the requests go; also the public URL the signatures are computed over."""
    seconds: float
    processes: int = 2
    concurrency: int = 32
    """Closed loop: requests in flight in all (split over the processes)."""
    rate: float | None = None
    """Open loop: requests per second offered in all; None for the closed loop."""
    telegram_share: float = 0.0
    """Open loop: the share of requests that are Telegram updates instead of SMS."""
    numbers: int = 2000
    """Distinct phone numbers (and Telegram chats) in all; each writes again in turn."""
    first_number: int = 0
    """Offset into the phone-number space, so that each phase can bring new people."""
    sid_prefix: str = "A"
    only_new: bool = False
    """Closed loop: stop after each number wrote once (to open `numbers` conversations)."""


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0
    telegram_latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def merge(self, other: Outcome) -> None:
        self.latencies += other.latencies
        self.telegram_latencies += other.telegram_latencies
        self.statuses.update(other.statuses)
        self.errors += other.errors
        self.seconds = max(self.seconds, other.seconds)

    @property
    def answered(self) -> int:
        return self.statuses.get(200, 0)


def phone(index: int) -> str:
    """A Swedish mobile number, distinct for every index below ten million."""
    return f"+4670{index:07d}"


class Requests:
    """Builds one process's requests: its slice of the numbers, its own sids."""

    def __init__(self, load: Load, process: int) -> None:
        self.load = load
        self.validator = RequestValidator(AUTH_TOKEN)
        self.sms_url = load.base_url.rstrip("/") + SMS_PATH
        per_process = max(1, load.numbers // load.processes)
        self.numbers = range(load.first_number + process * per_process, load.first_number + (process + 1) * per_process)
        self.process = process
        self.sent = 0

    def next_index(self) -> int:
        index = self.numbers[self.sent % len(self.numbers)]
        self.sent += 1
        return index

    def sms(self, index: int) -> tuple[bytes, dict[str, str]]:
        params = {"MessageSid": f"SM{self.load.sid_prefix}{self.process:02d}{self.sent:09d}{index:07d}",
                  "AccountSid": ACCOUNT_SID, "From": phone(index), "To": "+46700000000",
                  "Body": WORDS[self.sent % len(WORDS)], "NumMedia": "0"}
        signature = self.validator.compute_signature(self.sms_url, params)
        return urlencode(params).encode(), {"X-Twilio-Signature": signature,
                                            "Content-Type": "application/x-www-form-urlencoded"}

    def telegram(self, index: int) -> tuple[bytes, dict[str, str]]:
        update_id = self.process * 10**9 + self.sent
        chat = 10**9 + index
        update = {"update_id": update_id, "message": {
            "message_id": self.sent, "date": int(time.time()), "text": WORDS[self.sent % len(WORDS)],
            "chat": {"id": chat, "type": "private"},
            "from": {"id": chat, "is_bot": False, "first_name": "A", "language_code": "sv"}}}
        return json.dumps(update).encode(), {TELEGRAM_SECRET_HEADER: TELEGRAM_SECRET,
                                             "Content-Type": "application/json"}


async def _post(session: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str],
                started: float, outcome: Outcome, into: list[float]) -> None:
    try:
        async with session.post(url, data=body, headers=headers) as response:
            await response.read()
            outcome.statuses[response.status] += 1
    except (TimeoutError, aiohttp.ClientError, OSError):
        outcome.errors += 1
    # A refusal or a time-out counts at the time it took: a p99 of the successes alone would hide it.
    into.append(time.perf_counter() - started)


async def _closed(load: Load, process: int) -> Outcome:
    requests, outcome = Requests(load, process), Outcome()
    workers = max(1, load.concurrency // load.processes)
    started = time.perf_counter()
    deadline = started + load.seconds
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=workers), timeout=timeout) as session:
        async def worker() -> None:
            while time.perf_counter() < deadline:
                if load.only_new and requests.sent >= len(requests.numbers):
                    return
                body, headers = requests.sms(requests.next_index())
                await _post(session, requests.sms_url, body, headers, time.perf_counter(), outcome, outcome.latencies)
        await asyncio.gather(*(worker() for _ in range(workers)))
    outcome.seconds = time.perf_counter() - started
    return outcome


async def _open(load: Load, process: int) -> Outcome:
    assert load.rate is not None
    requests, outcome = Requests(load, process), Outcome()
    interval = load.processes / load.rate
    telegram_url = load.base_url.rstrip("/") + TELEGRAM_PATH
    every = round(1 / load.telegram_share) if load.telegram_share else 0
    tasks: set[asyncio.Task[None]] = set()
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=512), timeout=timeout) as session:
        started = time.perf_counter() + interval * process / load.processes
        count = int(load.seconds / interval)
        for n in range(count):
            scheduled = started + n * interval
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            index = requests.next_index()
            if every and n % every == 0:
                body, headers = requests.telegram(index)
                coro = _post(session, telegram_url, body, headers, scheduled, outcome, outcome.telegram_latencies)
            else:
                body, headers = requests.sms(index)
                coro = _post(session, requests.sms_url, body, headers, scheduled, outcome, outcome.latencies)
            task = asyncio.create_task(coro)
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks)
    outcome.seconds = time.perf_counter() - started
    return outcome


def _client_process(load: Load, process: int, pipe: Connection) -> None:
    outcome = asyncio.run(_open(load, process) if load.rate is not None else _closed(load, process))
    pipe.send(outcome)
    pipe.close()


async def drive(load: Load) -> Outcome:
    """Run the load from `load.processes` client processes at once; their outcomes merged."""
    context = multiprocessing.get_context("spawn")
    pipes, processes = [], []
    for process in range(load.processes):
        parent, child = context.Pipe(duplex=False)
        worker = context.Process(target=_client_process, args=(load, process, child), daemon=True)
        worker.start()
        child.close()
        pipes.append(parent)
        processes.append(worker)
    total = Outcome()
    loop = asyncio.get_running_loop()
    for pipe, worker in zip(pipes, processes, strict=True):
        total.merge(await loop.run_in_executor(None, pipe.recv))
        await loop.run_in_executor(None, worker.join)
    return total


# -- the ceiling: a bare handler that parses and validates the same webhook ---------------------

def ceiling_app(public_url: str) -> web.Application:
    """Parses the form, checks the signature as Lotsa does, answers an empty TwiML 200."""
    validator = RequestValidator(AUTH_TOKEN)
    url = public_url.rstrip("/") + SMS_PATH

    async def sms(request: web.Request) -> web.Response:
        form = await request.post()
        params = {k: str(v) for k, v in form.items()}
        if not validator.validate(url, params, request.headers.get("X-Twilio-Signature", "")):
            raise web.HTTPForbidden(text="forbidden")
        return web.Response(text='<?xml version="1.0" encoding="UTF-8"?><Response />', content_type="text/xml")

    app = web.Application()
    app.router.add_post(SMS_PATH, sms)
    return app


def _ceiling_process(port: int) -> None:
    web.run_app(ceiling_app(f"http://127.0.0.1:{port}"), host="127.0.0.1", port=port, print=None,
                access_log=None)


def start_ceiling(port: int) -> multiprocessing.process.BaseProcess:
    """The bare handler in a process of its own (one worker, like Lotsa)."""
    process = multiprocessing.get_context("spawn").Process(target=_ceiling_process, args=(port,), daemon=True)
    process.start()
    return process
