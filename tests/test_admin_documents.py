"""The versioned documents of the admin area: imported from the files, published with validation at
the line, conflicts between two admins, every worker switching, conversations keeping their version,
the audit log."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lotsa import appkeys
from lotsa.admin.bundle import Invalid, validate
from lotsa.admin.documents import DocumentStore, file_documents
from lotsa.models import AuditEntry, Conversation
from lotsa.settings import default_config_dir
from lotsa_testing.clients import ConsoleClient
from lotsa_testing.server import RunningServer, make_settings, start_server

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = (ROOT / "config" / "triage" / "default.yaml").read_text(encoding="utf-8")
FILES = file_documents(default_config_dir())
OLD_THANKS = "Thank you. We are now connecting you with a counsellor."
NEW_THANKS = "Thanks! A counsellor from the new version will answer you soon."


async def call(client: ConsoleClient, verb: str, path: str, body: Any = None) -> tuple[int, dict[str, Any]]:
    async with client.session.request(verb, f"{server_url(client)}{path}", json=body,
                                      headers={"X-CSRF-Token": client.csrf, "Origin": server_url(client)}) as r:
        return r.status, await r.json()


def server_url(client: ConsoleClient) -> str:
    return str(client.base).rstrip("/")


async def said_to(server: RunningServer, address: str, until: str) -> str:
    """Everything sent to `address` (through the outbox), once a message containing `until` arrived."""
    for _ in range(100):
        said = " ".join(m.text for m in server.memory.sent[address])
        if until in said:
            return said
        await asyncio.sleep(0.05)
    raise AssertionError(f"nothing with {until!r} reached {address}")


def problems_of(kind: str, name: str, draft: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(Invalid) as raised:
        validate(kind, name, draft, FILES)
    return [(p.line, p.key, p.message) for p in raised.value.problems]


def line_with(text: str, needle: str, nth: int = 0) -> int:
    return [n for n, line in enumerate(text.splitlines(), start=1) if needle in line][nth]


def test_every_configuration_file_is_a_document() -> None:
    kinds = {kind for kind, _ in FILES}
    assert kinds == {"triage_script", "phrases", "texts", "canned_replies", "referrals", "queues"}
    assert ("triage_script", "default") in FILES and ("texts", "sv") in FILES and ("phrases", "suicide") in FILES
    for (kind, name), content in FILES.items():
        validate(kind, name, content, FILES)  # the shipped files are valid documents


def test_a_wrong_step_name_is_reported_at_its_line_and_key() -> None:
    draft = SCRIPT.replace("        next: tell_or_handoff\n", "        next: tell_or_handof\n", 1)
    [(line, key, message)] = problems_of("triage_script", "default", draft)
    assert key == "steps.who.choices.sells.next" and "no step named 'tell_or_handof'" in message
    assert line == line_with(draft, "next: tell_or_handof")


def test_a_step_nobody_reaches_is_refused_with_the_reason() -> None:
    draft = SCRIPT.replace("      - if: {group: other, need: information}\n        next: information\n", "")
    [(line, key, message)] = problems_of("triage_script", "default", draft)
    assert key == "steps.information" and "unreachable" in message
    assert line == line_with(draft, "  information:")


def test_a_half_translated_language_is_refused_with_the_reason() -> None:
    draft = SCRIPT.replace("      en: What fits you best?", "      de: Was passt am besten zu dir?\n"
                                                            "      en: What fits you best?", 1)
    [(line, key, message)] = problems_of("triage_script", "default", draft)
    assert key == "steps.who.text.de" and "half-translated" in message
    assert line == line_with(draft, "de: Was passt")


def test_a_yaml_syntax_error_and_a_bad_text_are_at_their_lines() -> None:
    broken = SCRIPT.replace("start: language", "start: [language", 1)
    [(line, _, _)] = problems_of("triage_script", "default", broken)
    assert line is not None and line > 1
    texts = FILES["texts", "en"].replace("  send: Send", "  send: Send {who}", 1)
    [(line, key, message)] = problems_of("texts", "en", texts)
    assert key == "chat.send" and "placeholders" in message and line == line_with(texts, "send: Send {who}")
    queues = FILES["queues", "queues"].replace("groups: [sells]", "groups: [sellers]", 1)
    assert any("sellers" in m for _, _, m in problems_of("queues", "queues", queues))


async def test_the_files_are_the_first_version_and_publishing_switches_new_conversations(
        server: RunningServer) -> None:
    store = DocumentStore(server.app[appkeys.DB])
    active = await store.active()
    assert set(active) == set(FILES) and {d.version for d in active.values()} == {1}
    ada = await server.logged_in("ada", "admin")
    memory = server.memory
    await memory.write("+46700000001", choice="en")      # a conversation under way, on version 1
    draft = SCRIPT.replace(OLD_THANKS, NEW_THANKS)
    status, answer = await call(ada, "POST", "/api/admin/documents/triage_script/default/publish",
                                {"content": draft, "comment": "warmer thanks", "base_version": 1})
    assert status == 201 and answer["version"]["version"] == 2
    await memory.write("+46700000002", choice="en")       # a new conversation: version 2
    for address in ("+46700000001", "+46700000002"):
        await memory.write(address, choice="sells")
        await memory.write(address, choice="skip")
    said = {a: await said_to(server, a, "Thank") for a in ("+46700000001", "+46700000002")}
    assert OLD_THANKS in said["+46700000001"] and NEW_THANKS not in said["+46700000001"]
    assert NEW_THANKS in said["+46700000002"]
    async with server.app[appkeys.DB].read() as session:
        versions = (await session.execute(select(Conversation.script_version).order_by(Conversation.id))).scalars()
        first, second = list(versions)
        assert first != second
        entry = (await session.execute(select(AuditEntry).where(AuditEntry.action == "config.published"))).scalar()
    assert entry is not None and entry.actor == "ada" and entry.target == "triage_script:default"
    assert entry.detail["before"].startswith("v1 ") and entry.detail["after"].startswith("v2 ")
    assert entry.detail["comment"] == "warmer thanks" and entry.detail["lines_changed"] == 4


async def test_two_admins_publishing_at_once_do_not_lose_one(any_server: RunningServer) -> None:
    server = any_server
    ada, bea = await server.logged_in("ada", "admin"), await server.logged_in("bea", "admin")
    path = "/api/admin/documents/canned_replies/canned_replies/publish"
    base = FILES["canned_replies", "canned_replies"]
    drafts = [base.replace("canned_replies:", f"# {who}'s edit\ncanned_replies:", 1) for who in ("ada", "bea")]
    answers = await asyncio.gather(*(call(client, "POST", path, {"content": d, "comment": "edit", "base_version": 1})
                                     for client, d in zip((ada, bea), drafts, strict=True)))
    assert sorted(status for status, _ in answers) == [201, 409]
    conflict = next(body for status, body in answers if status == 409)
    assert conflict["error"] == "conflict" and conflict["active"]["version"] == 2
    assert any(line.startswith("-# ") for line in conflict["diff"]) and any(
        line.startswith("+# ") for line in conflict["diff"])
    versions = await DocumentStore(server.app[appkeys.DB]).versions("canned_replies", "canned_replies")
    assert [v.version for v in versions] == [2, 1]


async def test_a_refused_publish_saves_nothing_and_says_where(server: RunningServer) -> None:
    ada = await server.logged_in("ada", "admin")
    draft = SCRIPT.replace("start: language", "start: nowhere", 1)
    status, answer = await call(ada, "POST", "/api/admin/documents/triage_script/default/publish",
                                {"content": draft, "comment": "oops", "base_version": 1})
    assert status == 422 and answer["problems"][0]["line"] == line_with(draft, "start: nowhere")
    status, answer = await call(ada, "POST", "/api/admin/documents/triage_script/default/publish",
                                {"content": SCRIPT + "\n", "comment": " ", "base_version": 1})
    assert status == 400 and "comment" in answer["message"]
    versions = await DocumentStore(server.app[appkeys.DB]).versions("triage_script", "default")
    assert len(versions) == 1


async def test_a_rollback_publishes_the_old_version_again(server: RunningServer) -> None:
    ada = await server.logged_in("ada", "admin")
    texts = FILES["texts", "en"].replace("  send: Send", "  send: Send it", 1)
    status, _ = await call(ada, "POST", "/api/admin/documents/texts/en/publish",
                           {"content": texts, "comment": "longer", "base_version": 1})
    assert status == 201
    assert server.app[appkeys.TEXTS].text("chat.send", "en") == "Send it"   # every part holding the texts
    status, diff = await call(ada, "GET", "/api/admin/documents/texts/en/diff?from=1&to=2")
    assert status == 200 and "+  send: Send it" in diff["diff"]
    status, answer = await call(ada, "POST", "/api/admin/documents/texts/en/rollback", {"version": 1})
    assert status == 201 and answer["version"]["version"] == 3
    assert answer["version"]["comment"] == "rollback to version 1"
    assert server.app[appkeys.TEXTS].text("chat.send", "en") == "Send"


async def test_another_worker_switches_within_seconds(server: RunningServer, tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "second", server.settings.database_url)
    second, running = await start_server(settings)
    try:
        ada = await server.logged_in("ada", "admin")
        draft = SCRIPT.replace(OLD_THANKS, NEW_THANKS)
        status, _ = await call(ada, "POST", "/api/admin/documents/triage_script/default/publish",
                               {"content": draft, "comment": "warmer thanks", "base_version": 1})
        assert status == 201
        mine = server.app[appkeys.PIPELINE].scripts.for_new_conversation().script.version
        theirs = running.app[appkeys.PIPELINE].scripts
        for _ in range(100):
            if theirs.for_new_conversation().script.version == mine:
                break
            await asyncio.sleep(0.1)
        assert theirs.for_new_conversation().script.version == mine
    finally:
        await second.close()


async def test_the_simulator_runs_the_draft_and_the_sample_table_compares(server: RunningServer) -> None:
    ada = await server.logged_in("ada", "admin")
    draft = SCRIPT.replace(OLD_THANKS, NEW_THANKS).replace(
        "      - if: {risk: acute}\n        next: handoff\n",
        "      - if: {risk: acute}\n        next: handoff\n      - if: {group: buys}\n        next: buyers\n", 1)
    draft += "  buyers:\n    text: {sv: Tack., en: Thanks.}\n    end: handoff\n    queue: general\n"
    frame: dict[str, Any] = {}
    for step in ({"state": None, "lang": "en"}, {"choice": "en"}, {"choice": "sells"},
                 {"text": "he took my passport and says I owe him money"}):
        body = {"content": draft, **step} if "state" in step else {
            "content": draft, "state": frame["state"], "record": frame["record"], **step}
        status, frame = await call(ada, "POST", "/api/admin/simulate", body)
        assert status == 200, frame
    assert "trafficking" in frame["verdict"]["flags"] and frame["verdict"]["flag_words"]
    assert frame["end"]["kind"] == "handoff" and frame["end"]["risk"] == "acute"
    assert frame["end"]["queue"] == "acute" and "112" in frame["replies"][0]["text"]   # acute: at once
    status, table = await call(ada, "POST", "/api/admin/sample", {
        "kind": "triage_script", "name": "default", "content": draft,
        "messages": ["I pay for sex and want to stop", "jag säljer sex och behöver prata"]})
    assert status == 200
    buyer, seller = table["rows"]
    assert buyer["changed"] and buyer["draft"]["queue"] == "general" and buyer["active"]["queue"] != "general"
    assert not seller["changed"]
    async with server.app[appkeys.DB].read() as session:
        assert (await session.execute(select(Conversation))).first() is None   # nothing written


async def test_after_a_restart_the_published_version_is_active_and_a_conversation_keeps_its_own(
        tmp_path: Path, database_url: str) -> None:
    settings = make_settings(tmp_path, database_url)
    first, running = await start_server(settings)
    try:
        ada = await running.logged_in("ada", "admin")
        await running.memory.write("+46700000009", choice="en")              # started on version 1
        status, _ = await call(ada, "POST", "/api/admin/documents/triage_script/default/publish",
                               {"content": SCRIPT.replace(OLD_THANKS, NEW_THANKS), "comment": "warmer",
                                "base_version": 1})
        assert status == 201
        published = running.app[appkeys.PIPELINE].scripts.for_new_conversation().script.version
    finally:
        await running.close_consoles()
        await first.close()
    second, running = await start_server(settings)                            # the same files, restarted
    try:
        assert running.app[appkeys.PIPELINE].scripts.for_new_conversation().script.version == published
        versions = await DocumentStore(running.app[appkeys.DB]).versions("triage_script", "default")
        assert [v.version for v in versions] == [2, 1]                       # the files were not imported again
        await running.memory.write("+46700000009", choice="sells")
        await running.memory.write("+46700000009", choice="skip")
        said = await said_to(running, "+46700000009", "Thank")
        assert OLD_THANKS in said and NEW_THANKS not in said
    finally:
        await second.close()


async def test_the_queue_preview_routes_every_group_under_the_draft(server: RunningServer) -> None:
    ada = await server.logged_in("ada", "admin")
    draft = FILES["queues", "queues"].replace("groups: [buys]", "groups: [buys]\n    languages: [en]", 1)
    status, preview = await call(ada, "POST", "/api/admin/queues/preview", {"content": draft})
    assert status == 200 and preview["late"].endswith("23:00")
    where = {(r["group"], r["language"], r["acute"]): r for r in preview["rows"]}
    assert where["buys", "en", False]["queue"] == "buys" and where["sells", "sv", False]["queue"] == "sells"
    assert where["other", "en", True]["queue"] == "acute" and where["other", "en", True]["open_late"]
    status, refused = await call(ada, "POST", "/api/admin/queues/preview", {"content": "queues: []"})
    assert status == 422 and refused["error"] == "invalid"
