"""The role matrix: every route of the real application × every role (and anonymous) gets exactly
what the table below says.

The routes are read from the router of the running application (every channel switched on), so a
route added later without an entry in MATRIX fails `test_every_route_is_in_the_matrix`: it has to be
added to the table deliberately, with what each role may do there.

Every request carries same-origin headers and, for a logged-in role, its valid CSRF token: what is
tested is the role check, not CSRF (the bad-input corpus attacks CSRF). HEAD routes are GET's twins
and are tested with the GET expectations (or the `head` override of the entry).

Access kinds, for the reader of the table:
- public: for anyone by design (the web chat, the health check, the neutral page, static files);
- webhook: public by design, authenticated by the provider's signature or secret, never by a
  staff session: a staff cookie gains nothing there;
- monitoring: `/metrics`, for the monitoring addresses (127.0.0.1 by default) or a bearer token,
  never by a staff session: a staff cookie neither opens nor is needed;
- login: the log-in and log-out forms (anyone may post; log-out ends only the sender's session);
- staff: counsellors, supervisors and admins; anonymous gets 401 `login_required` (JSON API) or the
  log-in page (the console page itself shows the log-in form to anyone not logged in);
- supervisor: supervisors and admins; counsellors get 403 `role`;
- admin: admins only; supervisors and counsellors get 403 `role` (everything that changes the
  configuration; the admin area's pages and reads are `supervisor`: supervisors look, read-only).
Some staff routes answer per conversation: a counsellor may open, annotate, transfer and close only
conversations they hold (or that wait in the queue), a supervisor any: those rows are tested on a
conversation held by someone else ("other") as well as on one's own ("mine").
"""
from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from sqlalchemy import func, select, update

from lotsa import appkeys
from lotsa.models import Contact, Conversation, OutboxItem, OutboxState, StaffUser
from lotsa.settings import default_config_dir
from lotsa_testing.clients import ConsoleClient
from lotsa_testing.every_channel import SECRET_HEADER, TELEGRAM_SECRET, ProviderRig, provider_server
from lotsa_testing.server import PASSWORD

pytestmark = pytest.mark.asyncio(loop_scope="module")

ANON, COUNSELLOR, SUPERVISOR, ADMIN = ROLES = ("anonymous", "counsellor", "supervisor", "admin")
ACCOUNTS = {COUNSELLOR: "cara", SUPERVISOR: "sven", ADMIN: "ada"}
HOLDER = "olle"
"""A second counsellor, who holds the conversations that are someone else's."""
SV_ONLY = "svea"
"""A counsellor who takes Swedish conversations only (the world's conversations are in English)."""


@dataclass(frozen=True)
class Want:
    status: int
    error: str | None = None
    """The JSON answer's "error" code."""
    has: str | None = None
    """A key of the JSON answer (or WebSocket frame), or a text the page contains."""
    lacks: str | None = None
    """A key the JSON answer (or frame) must not have, or a text the page must not contain."""
    location: str | None = None


LOGIN_REQUIRED = Want(401, "login_required")
ROLE = Want(403, "role")


def everyone(want: Want) -> dict[str, Want]:
    return dict.fromkeys(ROLES, want)


def staff(want: Want, **per_role: Want) -> dict[str, Want]:
    return {ANON: LOGIN_REQUIRED, COUNSELLOR: want, SUPERVISOR: want, ADMIN: want} | per_role


def supervisors(want: Want) -> dict[str, Want]:
    return {ANON: LOGIN_REQUIRED, COUNSELLOR: ROLE, SUPERVISOR: want, ADMIN: want}


def admins(want: Want) -> dict[str, Want]:
    return {ANON: LOGIN_REQUIRED, COUNSELLOR: ROLE, SUPERVISOR: ROLE, ADMIN: want}


@dataclass(frozen=True)
class Probe:
    access: str
    """public | webhook | login | staff | supervisor | admin (see the module docstring)."""
    expect: dict[str, Want]
    path: str
    """The concrete path; `{id}` is filled in from `target`."""
    target: str | None = None
    """What `{id}` is: `queued` (a waiting conversation), `mine` (held by the role), `other` (held by
    another counsellor), `dead` (a dead letter), `account` (a fresh counsellor's staff account)."""
    body: Any = None
    """A JSON body; a dict of strings with `form=True`."""
    form: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    ws: bool = False
    """Open it as a WebSocket: `has`/`lacks` apply to the first frame."""
    head: dict[str, int] | None = None
    """The HEAD twin's statuses per role, when they differ from GET's."""
    note: str = ""


def page(status: int = 200, **kw: Any) -> Want:
    return Want(status, **kw)


SMS_FORM = {"MessageSid": "SM" + "1" * 32, "From": "+46701110000", "To": "+46766860000", "Body": "hej"}
VOICE_FORM = {"CallSid": "CA" + "1" * 32, "From": "+46701110000", "To": "+46766860000"}
UNSIGNED = "unsigned: refused whoever sends it, a staff cookie is worth nothing here"


def _webhook(path: str) -> Probe:
    form = VOICE_FORM if "/voice" in path else SMS_FORM
    return Probe("webhook", everyone(Want(403)), path, body=form, form=True, note=UNSIGNED)


PAGES = {"/console", "/admin/audit", "/admin/statistics", "/admin/staff", "/admin", "/admin/documents/{kind}",
         "/admin/documents/{kind}/{name}", "/admin/queues"}
"""Staff pages (GET): anonymous gets the log-in form (/console) or is sent to it, not a JSON 401.
Their forms' POSTs answer anonymous with the JSON 401 like any other route."""
STAFF_DONE = "/admin/staff?lang=sv&done="
WAIT_FREE = {"outcome": "supported", "referrals": [], "needs": []}
CONFIG = default_config_dir()
SCRIPT = (CONFIG / "triage" / "default.yaml").read_text(encoding="utf-8")
CANNED = (CONFIG / "canned_replies.yaml").read_text(encoding="utf-8")
QUEUES = (CONFIG / "queues.yaml").read_text(encoding="utf-8")


def _admin_page(has: str, **per_role: Want) -> dict[str, Want]:
    """An admin-area page: anonymous is sent to the log-in, counsellors refused."""
    return {ANON: Want(303, location="/console"), COUNSELLOR: ROLE, SUPERVISOR: page(has=has),
            ADMIN: page(has=has)} | per_role
MATRIX: dict[tuple[str, str], list[Probe]] = {
    # -- public by design ------------------------------------------------------------------------
    ("GET", "/"): [Probe("public", everyone(Want(302, location="/chat")), "/")],
    ("GET", "/healthz"): [Probe("public", everyone(Want(200, has="status")), "/healthz")],
    # -- monitoring: by address or token, not by role ----------------------------------------------
    ("GET", "/metrics"): [
        Probe("monitoring", everyone(page(has="lotsa_contacts_waiting")), "/metrics",
              note="from 127.0.0.1, a monitoring address by default: the same for every role"),
        Probe("monitoring", everyone(Want(403, "forbidden")), "/metrics", headers={"X-Forwarded-For": "203.0.113.7"},
              note="forwarded by a proxy Lotsa does not trust: not local, and a staff session opens nothing"),
    ],
    ("GET", "/neutral"): [Probe("public", everyone(page(has="Väder")), "/neutral")],
    ("GET", "/favicon.ico"): [Probe("public", everyone(Want(204)), "/favicon.ico",
                                    note="no icon: no logo on a shared screen")],
    # -- admins only -----------------------------------------------------------------------------
    ("GET", "/api/admin/audit"): [Probe("admin", admins(Want(200, has="entries")), "/api/admin/audit")],
    ("GET", "/admin/audit"): [Probe("admin", {ANON: Want(303, location="/console"), COUNSELLOR: ROLE,
                                              SUPERVISOR: ROLE, ADMIN: page(has="audit-table")},
                                    "/admin/audit")],
    # -- supervisors read, admins own: the anonymous statistics ------------------------------------
    ("GET", "/admin/statistics"): [
        Probe("supervisor", {ANON: Want(303, location="/console"), COUNSELLOR: ROLE, SUPERVISOR: page(has="stats-section"),
                             ADMIN: page(has="stats-section")}, "/admin/statistics"),
        Probe("supervisor", {ANON: Want(303, location="/console"), COUNSELLOR: ROLE,
                             SUPERVISOR: page(has="table,dimension_1"), ADMIN: page(has="table,dimension_1")},
              "/admin/statistics?format=csv", note="the same figures as `lotsa report`, as a download")],
    ("GET", "/admin/staff"): [Probe(
        "supervisor", {ANON: Want(303, location="/console"), COUNSELLOR: ROLE,
                       SUPERVISOR: page(has="staff-table", lacks="<form"), ADMIN: page(has='id="create-form"')},
        "/admin/staff", note="supervisors read the staff list; only admins get its forms")],
    ("POST", "/admin/staff"): [Probe(
        "admin", admins(page(has='id="new-password"')), "/admin/staff", form=True,
        body={"name": "newcomer", "role": "counsellor", "max_chats": "3"},
        note="the generated password is in this answer only")],
    ("POST", "/admin/staff/{id}"): [Probe(
        "admin", admins(Want(303, location=STAFF_DONE + "changed")), "/admin/staff/{id}", target="account",
        form=True, body={"role": "counsellor", "languages": "sv", "max_chats": "4"})],
    ("POST", "/admin/staff/{id}/disable"): [Probe(
        "admin", admins(Want(303, location=STAFF_DONE + "disabled")), "/admin/staff/{id}/disable",
        target="account")],
    ("POST", "/admin/staff/{id}/enable"): [Probe(
        "admin", admins(Want(303, location=STAFF_DONE + "enabled")), "/admin/staff/{id}/enable",
        target="account")],
    ("POST", "/admin/staff/{id}/password"): [Probe(
        "admin", admins(page(has='id="new-password"')), "/admin/staff/{id}/password", target="account")],
    ("GET", "/chat"): [Probe("public", everyone(page(has="data-quick-exit")), "/chat")],
    ("GET", "/chat/ws"): [
        Probe("public", everyone(Want(101, has="token")), "/chat/ws", ws=True, head=dict.fromkeys(ROLES, 400)),
        Probe("public", everyone(Want(403)), "/chat/ws", headers={
            "Origin": "https://evil.example", "Connection": "Upgrade", "Upgrade": "websocket",
            "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="},
            note="another site's page may not open the chat socket (unless configured to embed it)"),
    ],
    ("GET", "/static/chat"): [Probe("public", everyone(page(has="sessionStorage")), "/static/chat/chat.js")],
    ("GET", "/static/console"): [Probe("public", everyone(page(has="textContent")), "/static/console/console.js",
                                       note="the console's code is public; its data is not")],
    ("GET", "/static/common"): [Probe("public", everyone(page(has="reconnectingSocket")), "/static/common/common.js",
                                      note="what the chat and the console share")],
    # -- webhooks: public by design, the provider's signature is the credential ------------------
    ("POST", "/hooks/telegram"): [
        Probe("webhook", everyone(Want(403)), "/hooks/telegram", body={"update_id": 1}, note=UNSIGNED),
        Probe("webhook", everyone(Want(200, has="ok")), "/hooks/telegram", target="telegram",
              headers={SECRET_HEADER: TELEGRAM_SECRET}, note="with Telegram's secret: taken from anyone"),
    ],
    ("POST", "/hooks/twilio/sms"): [
        _webhook("/hooks/twilio/sms"),
        Probe("webhook", everyone(page(has="<Response")), "/hooks/twilio/sms", target="signed-sms", form=True,
              note="signed by Twilio: taken from anyone"),
    ],
    ("POST", "/hooks/twilio/sms/status"): [_webhook("/hooks/twilio/sms/status")],
    ("POST", "/hooks/twilio/voice"): [_webhook("/hooks/twilio/voice")],
    ("POST", "/hooks/twilio/voice/gather"): [_webhook("/hooks/twilio/voice/gather")],
    ("POST", "/hooks/twilio/voice/wait"): [_webhook("/hooks/twilio/voice/wait")],
    ("POST", "/hooks/twilio/voice/hold"): [_webhook("/hooks/twilio/voice/hold")],
    ("POST", "/hooks/twilio/voice/callback"): [_webhook("/hooks/twilio/voice/callback")],
    ("POST", "/hooks/twilio/voice/status"): [_webhook("/hooks/twilio/voice/status")],
    ("GET", "/hooks/twilio/voice/hold.wav"): [Probe("public", everyone(Want(200)), "/hooks/twilio/voice/hold.wav",
                                                    note="the hold tone Twilio plays: Lotsa's own, it carries nothing")],
    # -- log-in and log-out ----------------------------------------------------------------------
    ("GET", "/console"): [Probe(
        "staff", staff(page(has='name="csrf-token"'),
                       **{ANON: page(has='action="/console/login"', lacks="csrf-token")}), "/console",
        note="the page shows the log-in form to anyone not logged in (no redirect), the console to staff")],
    ("POST", "/console/login"): [
        Probe("login", everyone(Want(303, location="/console")), "/console/login", target="own-credentials",
              form=True, note="anonymous logs in as a fresh counsellor; staff as themselves"),
        Probe("login", everyone(page(401, has="wrong name or password")), "/console/login",
              body={"name": "nobody-here", "password": "not the password"}, form=True),
    ],
    ("POST", "/console/logout"): [Probe(
        "login", everyone(Want(303, location="/console")), "/console/logout", target="own-session", form=True,
        note="staff: their own session ends (checked); anonymous: nothing to end")],
    # -- staff -----------------------------------------------------------------------------------
    ("GET", "/console/ws"): [Probe(
        "staff", staff(Want(101, has="waiting", lacks="supervisor"),
                       **{ANON: Want(401), SUPERVISOR: Want(101, has="supervisor"),
                          ADMIN: Want(101, has="supervisor")}),
        "/console/ws", ws=True, head={ANON: 401, COUNSELLOR: 400, SUPERVISOR: 400, ADMIN: 400},
        note="supervisors' queue frames carry the overview, counsellors' do not")],
    ("GET", "/api/console/queue"): [Probe("staff", staff(Want(200, has="waiting")), "/api/console/queue")],
    ("GET", "/api/console/directory"): [Probe("staff", staff(Want(200, has="canned")), "/api/console/directory")],
    ("GET", "/api/console/conversations/{id}"): [
        Probe("staff", staff(Want(200, has="messages")), "/api/console/conversations/{id}", target="queued"),
        Probe("staff", staff(Want(200, has="messages"), **{COUNSELLOR: Want(403, "not_yours")}),
              "/api/console/conversations/{id}", target="other"),
    ],
    ("POST", "/api/console/conversations/{id}/claim"): [
        Probe("staff", staff(Want(200, has="conversation")), "/api/console/conversations/{id}/claim",
              target="queued")],
    ("POST", "/api/console/conversations/{id}/messages"): [
        Probe("staff", staff(Want(201, has="message")), "/api/console/conversations/{id}/messages",
              target="mine", body={"text": "Hej, jag finns här."}),
        Probe("staff", staff(Want(409, "not_yours")), "/api/console/conversations/{id}/messages",
              target="other", body={"text": "Hej"}, note="nobody writes in a chat someone else holds"),
    ],
    ("POST", "/api/console/conversations/{id}/close"): [
        Probe("staff", staff(Want(200, has="conversation")), "/api/console/conversations/{id}/close",
              target="mine", body=WAIT_FREE),
        Probe("staff", staff(Want(200, has="conversation"), **{COUNSELLOR: Want(409, "not_yours")}),
              "/api/console/conversations/{id}/close", target="other", body=WAIT_FREE),
    ],
    ("POST", "/api/console/conversations/{id}/notes"): [
        Probe("staff", staff(Want(201, has="note")), "/api/console/conversations/{id}/notes", target="mine",
              body={"text": "en anteckning"}),
        Probe("staff", staff(Want(201, has="note"), **{COUNSELLOR: Want(403, "not_yours")}),
              "/api/console/conversations/{id}/notes", target="other", body={"text": "en anteckning"}),
    ],
    ("POST", "/api/console/conversations/{id}/transfer"): [
        Probe("staff", staff(Want(200, has="conversation")), "/api/console/conversations/{id}/transfer",
              target="mine", body={"queue": "general", "note": "vidare"}),
        Probe("staff", staff(Want(200, has="conversation"), **{COUNSELLOR: Want(403, "not_yours")}),
              "/api/console/conversations/{id}/transfer", target="other", body={"queue": "general", "note": "x"},
              note="a supervisor reassigns anyone's conversation; a counsellor only their own"),
        Probe("staff", staff(Want(200, has="outside_skills"), **{COUNSELLOR: Want(403, "not_skilled")}),
              "/api/console/conversations/{id}/transfer", target="mine", body={"to": SV_ONLY, "note": "x"},
              note="an English chat to a colleague who takes Swedish only: a supervisor may, and is told so"),
    ],
    ("POST", "/api/console/next"): [Probe("staff", staff(Want(200, has="conversation")), "/api/console/next",
                                          target="queued")],
    ("POST", "/api/console/presence"): [Probe("staff", staff(Want(200, has="presence")), "/api/console/presence",
                                              body={"presence": "available"})],
    # -- supervisors -----------------------------------------------------------------------------
    ("GET", "/api/console/overview"): [Probe("supervisor", supervisors(Want(200, has="staff")),
                                             "/api/console/overview")],
    ("GET", "/api/console/outbox/dead"): [Probe("supervisor", supervisors(Want(200, has="dead")),
                                                "/api/console/outbox/dead")],
    ("POST", "/api/console/outbox/{id}/retry"): [Probe(
        "supervisor", supervisors(Want(200, has="state")), "/api/console/outbox/{id}/retry", target="dead")],
    ("POST", "/api/console/conversations/{id}/block"): [Probe(
        "supervisor", supervisors(Want(200, has="blocked_until")), "/api/console/conversations/{id}/block",
        target="queued", body={"hours": 1})],
    ("POST", "/api/console/conversations/{id}/unblock"): [Probe(
        "supervisor", supervisors(Want(200, has="blocked_until")), "/api/console/conversations/{id}/unblock",
        target="queued")],
    # -- the admin area: supervisors read, admins change ----------------------------------------
    ("GET", "/admin"): [Probe("supervisor", _admin_page("admin-nav"), "/admin")],
    ("GET", "/admin/documents/{kind}"): [Probe("supervisor", _admin_page('id="documents"'),
                                               "/admin/documents/triage_script")],
    ("GET", "/admin/documents/{kind}/{name}"): [Probe(
        "supervisor", _admin_page('id="draft"', supervisor=page(has='id="draft"', lacks='id="publish"'),
                                  admin=page(has='id="publish"')),
        "/admin/documents/triage_script/default", note="supervisors see the editor read-only, no publish")],
    ("GET", "/admin/queues"): [Probe(
        "supervisor", _admin_page('id="queues-form"', supervisor=page(has='<fieldset class="plain" disabled>',
                                                                      lacks='id="publish"'),
                                  admin=page(has='id="publish"')),
        "/admin/queues", note="supervisors see the queues form disabled, no publish")],
    ("POST", "/admin/queues"): [Probe(
        "admin", admins(page(has='id="q0-id"')), "/admin/queues", form=True, body={"action": "add"},
        note="adding a blank queue to an empty draft changes nothing until a publish")],
    ("GET", "/api/admin/documents/{kind}/{name}"): [Probe(
        "supervisor", supervisors(Want(200, has="active")), "/api/admin/documents/queues/queues")],
    ("GET", "/api/admin/documents/{kind}/{name}/versions/{version}"): [Probe(
        "supervisor", supervisors(Want(200, has="content")), "/api/admin/documents/queues/queues/versions/1")],
    ("GET", "/api/admin/documents/{kind}/{name}/diff"): [Probe(
        "supervisor", supervisors(Want(200, has="diff")), "/api/admin/documents/queues/queues/diff?from=1&to=1")],
    ("POST", "/api/admin/documents/{kind}/{name}/check"): [Probe(
        "admin", admins(Want(200, has="problems")), "/api/admin/documents/triage_script/default/check",
        body={"content": "name: default"})],
    ("POST", "/api/admin/documents/{kind}/{name}/publish"): [Probe(
        "admin", admins(Want(201, has="version")), "/api/admin/documents/canned_replies/canned_replies/publish",
        body={"content": CANNED + "# edited in the role matrix\n", "comment": "matrix", "base_version": 1})],
    ("POST", "/api/admin/documents/{kind}/{name}/rollback"): [Probe(
        "admin", admins(Want(201, has="version")), "/api/admin/documents/canned_replies/canned_replies/rollback",
        body={"version": 1}, note="after the publish row above: version 1 again, as version 3")],
    ("POST", "/api/admin/simulate"): [Probe("admin", admins(Want(200, has="replies")), "/api/admin/simulate",
                                            body={"content": SCRIPT, "state": None, "lang": "en"})],
    ("POST", "/api/admin/sample"): [Probe("admin", admins(Want(200, has="rows")), "/api/admin/sample", body={
        "kind": "queues", "name": "queues", "content": QUEUES, "messages": ["jag säljer sex"]})],
    ("POST", "/api/admin/queues/preview"): [Probe("admin", admins(Want(200, has="rows")),
                                                  "/api/admin/queues/preview", body={"content": QUEUES})],
    ("GET", "/static/admin"): [Probe("public", everyone(page(has="sim-start")), "/static/admin/admin.js",
                                     note="the admin pages' code is public; their data is not")],
    ("POST", "/api/console/acute-hold"): [Probe(
        "supervisor", supervisors(Want(200, has="held")), "/api/console/acute-hold", body={"hold": False},
        note="during a surge: hold (or release) the acute lane for those who answered a second question")],
}


def _cells() -> list[Any]:
    cells = []
    for (method, route), probes in MATRIX.items():
        for n, probe in enumerate(probes):
            scenario = f" [{probe.target}]" if probe.target else (f" [{n + 1}]" if len(probes) > 1 else "")
            methods = [method] + (["HEAD"] if method == "GET" else [])
            for verb, role in itertools.product(methods, ROLES):
                if verb == "HEAD" and n > 0:
                    continue
                cells.append(pytest.param(verb, route, probe, role, id=f"{verb} {route}{scenario} | {role}"))
    return cells


CELLS = _cells()


@dataclass
class World:
    rig: ProviderRig
    clients: dict[str, ConsoleClient]
    holder: ConsoleClient
    addresses: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    telegram_updates: itertools.count[int] = field(default_factory=lambda: itertools.count(5000))

    @property
    def url(self) -> str:
        return self.rig.url

    async def queued(self) -> int:
        """A person on the in-memory channel answers the triage and waits in the queue."""
        memory = self.rig.server.memory
        address = f"+4670900{next(self.addresses):04d}"
        for text in ("hej", "2", "1", "skip"):
            accepted = await memory.write(address, text)
        return accepted.conversation_id

    async def held_by(self, client: ConsoleClient) -> int:
        conversation_id = await self.queued()
        assert await client.claim(conversation_id) == 200
        return conversation_id

    async def account(self) -> int:
        """A fresh counsellor's account, for the admin's forms to change."""
        name = f"acct{next(self.addresses)}"
        await self.rig.server.add_staff(name)
        async with self.rig.server.app[appkeys.DB].read() as session:
            return (await session.execute(select(StaffUser.id).where(StaffUser.name == name))).scalar_one()

    async def dead_letter(self) -> int:
        """A message the provider refused: one of a fresh conversation's outbox items, marked dead."""
        conversation_id = await self.queued()
        db = self.rig.server.app[appkeys.DB]
        for _ in range(250):   # not while the relay is sending it: its "sent" would overwrite "dead"
            async with db.read() as session:
                sending = await session.scalar(select(func.count()).select_from(OutboxItem).where(
                    OutboxItem.conversation_id == conversation_id, OutboxItem.state == OutboxState.PENDING))
            if not sending:
                break
            await asyncio.sleep(0.02)
        async with db.write() as session:
            item = (await session.execute(select(OutboxItem).where(OutboxItem.conversation_id == conversation_id)
                                          .order_by(OutboxItem.id).limit(1))).scalar_one()
            await session.execute(update(OutboxItem).where(OutboxItem.id == item.id).values(
                state=OutboxState.DEAD, last_error="twilio refused: 400 code 21211", leased_until=None))
        return item.id


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    async with provider_server(tmp_path_factory.mktemp("roles")) as rig:
        for role, name in [*ACCOUNTS.items(), (COUNSELLOR, HOLDER)]:
            await rig.server.add_staff(name, role, max_chats=50)
        await rig.server.add_staff(SV_ONLY, COUNSELLOR, max_chats=50, languages=["sv"])
        clients = {ANON: ConsoleClient(rig.url)}
        for role, name in ACCOUNTS.items():
            clients[role] = ConsoleClient(rig.url)
            await clients[role].login(name, PASSWORD)
        holder = ConsoleClient(rig.url)
        await holder.login(HOLDER, PASSWORD)
        try:
            yield World(rig, clients, holder)
        finally:
            for client in [*clients.values(), holder]:
                await client.close()


async def test_the_matrix_is_consistent() -> None:
    """The table itself keeps the rules: staff routes refuse anonymous, supervisor routes refuse
    counsellors, admin routes refuse supervisors."""
    for (method, route), probes in MATRIX.items():
        for probe in probes:
            assert set(probe.expect) == set(ROLES), route
            page_view = method == "GET" and route in PAGES
            if probe.access in ("staff", "supervisor", "admin") and not probe.ws and not page_view:
                assert probe.expect[ANON] == LOGIN_REQUIRED, (method, route)
            if page_view and route != "/console":
                assert probe.expect[ANON] == Want(303, location="/console"), (method, route)
            if probe.access in ("supervisor", "admin"):
                assert probe.expect[COUNSELLOR] == ROLE, (method, route)
            if probe.access == "admin":
                assert probe.expect[SUPERVISOR] == ROLE, (method, route)
            if probe.access == "webhook":
                assert route.startswith("/hooks/"), route
            if probe.access == "monitoring":
                assert len(set(probe.expect.values())) == 1, (method, route)


async def test_every_route_is_in_the_matrix(world: World) -> None:
    routes = {(route.method, route.resource.canonical) for route in world.rig.server.app.router.routes()
              if route.resource is not None}
    gets = {path for method, path in routes if method == "GET"}
    heads = {path for method, path in routes if method == "HEAD"}
    assert heads == gets, "every HEAD route is a GET's twin (tested with the GET's expectations)"
    actual = {(method, path) for method, path in routes if method != "HEAD"}
    missing = sorted(actual - set(MATRIX))
    assert not missing, f"routes without a row in MATRIX (add each deliberately, with its roles): {missing}"
    stale = sorted(set(MATRIX) - actual)
    assert not stale, f"rows in MATRIX for routes the application does not have: {stale}"
    print(f"\nrole matrix: {len(actual)} routes ({len(heads)} with a HEAD twin), {len(CELLS)} cells "
          f"over {len(ROLES)} roles")


async def _target_path(world: World, probe: Probe, role: str) -> tuple[str, int | None]:
    if probe.target is None or "{id}" not in probe.path:
        return probe.path, None
    client = world.clients[role]
    if probe.target == "queued" or (probe.target == "mine" and role == ANON):
        ident = await world.queued()
    elif probe.target == "mine":
        ident = await world.held_by(client)
    elif probe.target == "other":
        ident = await world.held_by(world.holder)
    elif probe.target == "dead":
        ident = await world.dead_letter()
    elif probe.target == "account":
        ident = await world.account()
    else:
        raise AssertionError(probe.target)
    return probe.path.replace("{id}", str(ident)), ident


async def _snapshot(world: World, probe: Probe, ident: int | None) -> tuple[Any, ...] | None:
    """What a refused request must leave as it was: the conversation (state, holder, queue, its
    contact's block) or the dead letter's state."""
    if ident is None:
        return None
    async with world.rig.server.app[appkeys.DB].read() as session:
        if probe.target == "dead":
            return (await session.get(OutboxItem, ident)).state,
        if probe.target == "account":
            account = await session.get(StaffUser, ident)
            return account.active, account.role, account.max_chats, account.password_hash
        conversation = await session.get(Conversation, ident)
        contact = await session.get(Contact, conversation.contact_id)
        return conversation.state, conversation.counsellor_id, conversation.queue, contact.blocked_until


async def _open_socket(world: World, client: ConsoleClient, path: str, role: str) -> tuple[int, Any]:
    try:
        ws = await client.session.ws_connect(f"{world.url}{path}", origin=world.url)
    except aiohttp.WSServerHandshakeError as e:
        return e.status, None
    try:
        if path == "/chat/ws":
            await ws.send_json({"type": "hello", "token": None, "after": 0, "lang": "en"})
        return 101, await ws.receive_json(timeout=10)
    finally:
        await ws.close()


async def _request(world: World, session: aiohttp.ClientSession, csrf: str, verb: str, path: str,
                   probe: Probe, body: Any) -> tuple[int, str, Any, aiohttp.typedefs.LooseHeaders]:
    headers = {"Origin": world.url, "X-CSRF-Token": csrf, **probe.headers}
    kwargs: dict[str, Any] = {}
    if body is not None:
        kwargs["data" if probe.form else "json"] = body
    async with session.request(verb, f"{world.url}{path}", headers=headers, allow_redirects=False, **kwargs) as r:
        text = (await r.read()).decode(errors="replace")
        try:
            parsed = json.loads(text) if r.content_type == "application/json" else None
        except ValueError:
            parsed = None
        return r.status, text, parsed, r.headers


async def _special(world: World, probe: Probe, role: str, verb: str, path: str) -> tuple[int, str, Any, Any]:
    """Log-in, log-out and signed webhooks: their own sessions and bodies."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        if probe.target == "own-credentials":
            name = ACCOUNTS.get(role)
            if name is None:
                name = f"fresh{next(world.addresses)}"
                await world.rig.server.add_staff(name)
            answer = await _request(world, session, "", verb, path, probe, {"name": name, "password": PASSWORD})
            assert any(c.key == "lotsa_staff" for c in session.cookie_jar) == (answer[0] == 303)
            return answer
        if probe.target == "own-session":
            csrf = ""
            if role != ANON:
                mine = ConsoleClient(world.url)
                mine.session = session
                await mine.login(ACCOUNTS[role], PASSWORD)
                csrf = mine.csrf
            answer = await _request(world, session, csrf, verb, path, probe, {"csrf": csrf})
            async with session.get(f"{world.url}/api/console/queue") as r:
                assert r.status == 401, "after log-out the session is gone"
            return answer
        if probe.target == "signed-sms":
            form = {**SMS_FORM, "MessageSid": f"SM{next(world.addresses):032d}"}
            headers = {"X-Twilio-Signature": world.rig.sign(path, form)}
            probe = Probe(probe.access, probe.expect, path, body=form, form=True, headers=headers)
            return await _request(world, world.clients[role].session, world.clients[role].csrf, verb, path, probe,
                                  form)
        if probe.target == "telegram":
            update_id = next(world.telegram_updates)
            body = {"update_id": update_id, "message": {
                "message_id": update_id, "date": 1_700_000_000, "text": "hej",
                "chat": {"id": 777000 + update_id, "type": "private"},
                "from": {"id": 777000 + update_id, "is_bot": False, "first_name": "A"}}}
            client = world.clients[role]
            return await _request(world, client.session, client.csrf, verb, path, probe, body)
    raise AssertionError(probe.target)


@pytest.mark.parametrize("verb, route, probe, role", CELLS)
async def test_role_matrix(world: World, verb: str, route: str, probe: Probe, role: str) -> None:
    want = probe.expect[role]
    if verb == "HEAD":
        want = Want(probe.head[role]) if probe.head else Want(want.status, location=want.location)
    client = world.clients[role]
    if verb != "HEAD" and probe.ws:
        status, frame = await _open_socket(world, client, probe.path, role)
        assert status == want.status, f"{role} opening {probe.path}: {status}"
        if want.has:
            assert want.has in frame, frame
        if want.lacks:
            assert want.lacks not in frame, frame
        return
    if probe.target in ("own-credentials", "own-session", "signed-sms", "telegram"):
        status, text, body, headers = await _special(world, probe, role, verb, probe.path)
    else:
        path, ident = await _target_path(world, probe, role)
        before = await _snapshot(world, probe, ident)
        status, text, body, headers = await _request(world, client.session, client.csrf, verb, path, probe,
                                                     probe.body)
        if status >= 400:
            assert await _snapshot(world, probe, ident) == before, "a refused request changed something"
    assert status == want.status, f"{role}: {verb} {route} answered {status}: {text[:300]}"
    if want.error is not None:
        assert isinstance(body, dict) and body.get("error") == want.error, text[:300]
    if want.location is not None:
        assert headers.get("Location") == want.location
    if want.has is not None:
        assert (want.has in body) if isinstance(body, dict) else (want.has in text), text[:300]
    if want.lacks is not None:
        assert (want.lacks not in body) if isinstance(body, dict) else (want.lacks not in text), text[:300]
    if verb == "HEAD":
        assert text == ""
