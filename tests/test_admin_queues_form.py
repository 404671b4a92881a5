"""The queues form at /admin/queues through the real server: the page's own fields read back as a
browser would send them, changed and posted. A new Romanian evening queue is previewed next to the
active version, refused with the problem next to its field, published with a comment as a new
version of the same queues document (history, diff and rollback are the YAML editor's), and the
live routing follows it; supervisors read the form but cannot post it; a post without the CSRF
token or from another site is refused."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import yaml

from lotsa import appkeys
from lotsa.admin.documents import DocumentStore
from lotsa_testing.clients import ConsoleClient
from lotsa_testing.server import RunningServer
from triage.result import TriageResult
from triage.routing import pick_queue


class FormFields(HTMLParser):
    """The fields of the page's form as a browser submits them: checked boxes only, no buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self.textarea: str | None = None
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "input" and a.get("name") and a.get("type") not in ("submit",):
            if a.get("type") != "checkbox" or "checked" in a:
                self.fields.append((a["name"], a.get("value", "")))
        elif tag == "textarea":
            self.textarea, self.text = a.get("name"), ""

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self.textarea:
            self.fields.append((self.textarea, self.text))
            self.textarea = None


def fields_of(page: str) -> list[tuple[str, str]]:
    parser = FormFields()
    parser.feed(page)
    return parser.fields


def changed(fields: list[tuple[str, str]], values: dict[str, str | list[str]]) -> list[tuple[str, str]]:
    """The fields with `values` in place of theirs (a list: the checked boxes of that name)."""
    kept = [(k, v) for k, v in fields if k not in values]
    for key, value in values.items():
        kept += [(key, v) for v in value] if isinstance(value, list) else [(key, value)]
    return kept


async def get(client: ConsoleClient, path: str = "/admin/queues?lang=en") -> tuple[int, str]:
    async with client.session.get(f"{str(client.base).rstrip('/')}{path}") as r:
        return r.status, await r.text()


async def post(client: ConsoleClient, fields: list[tuple[str, str]], action: str, *, csrf: bool = True,
               origin: str | None = None) -> tuple[int, str, str | None]:
    data = [(k, v) for k, v in fields if k != "csrf"] + ([("csrf", client.csrf)] if csrf else [])
    async with client.session.post(f"{str(client.base).rstrip('/')}/admin/queues?lang=en", data=[*data, ("action", action)],
                                   headers={"Origin": origin or str(client.base).rstrip("/")},
                                   allow_redirects=False) as r:
        return r.status, await r.text(), r.headers.get("Location")


def problem_at(page: str, field: str) -> str:
    found = re.search(rf'<p class="field-problem" id="{field}-problem">([^<]*)</p>', page)
    assert found, f"no problem shown at {field}"
    return found.group(1)


def routed(server: RunningServer, group: str, language: str) -> str:
    return pick_queue(TriageResult(group=group, language=language), server.app[appkeys.QUEUES].rules())


def preview_queue(page: str, group: str, language: str, side: int = 0) -> str:
    row = re.search(rf'<tr class="[^"]*" data-group="{group}" data-language="{language}" data-acute="0">(.*?)</tr>',
                    page, re.S)
    assert row, f"no preview row for {group}/{language}"
    return re.findall(r'<td class="queue" data-queue="([^"]+)"', row.group(1))[side]


ROMANIAN = {"q6-id": "ro-evening", "q6-name-sv": "Rumänska kvällar", "q6-name-en": "Romanian evenings",
            "q6-name-ro": "Seri în limba română", "q6-groups": ["sells", "other"], "q6-languages": "ro",
            "q6-own_hours": "1", "q6-own_holidays": "1",
            **{f"q6-hours-{day}": "18:00-24:00" for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
            "q6-holidays": "18:00-24:00", "q6-max_wait": "10",
            "q6-ooh-ro": "Suntem închiși acum. Rămâi în coadă; răspundem de la ora 18."}


async def test_an_admin_creates_previews_and_publishes_a_romanian_evening_queue(server: RunningServer) -> None:
    ada = await server.logged_in("ada", "admin")
    status, page = await get(ada)
    assert status == 200 and 'id="queues-form"' in page and "Sells or has sold sex" in page
    assert preview_queue(page, "sells", "en") == "sells"                  # who lands where, as it is
    fields = fields_of(page)
    assert ("queue_count", "6") in fields and ("q1-id", "sells") in fields

    status, page, _ = await post(ada, fields, "add")                        # a blank queue to fill in
    assert status == 200 and 'id="q6-id"' in page and "autofocus" in page
    draft = changed(fields_of(page), {**ROMANIAN, "q6-hours-fri": "18:00-25:00"})
    status, page, _ = await post(ada, draft, "preview")                     # a mistake, shown at its field
    assert status == 422
    assert "18:00-25:00" in problem_at(page, "q6-hours")
    draft = changed(fields_of(page), {"q6-hours-fri": "18:00-24:00"})
    status, page, _ = await post(ada, draft, "preview")                     # last in line: nobody lands there
    assert status == 200 and preview_queue(page, "sells", "ro") == "sells"
    for index in (6, 5, 4, 3, 2):                                           # up, above the sells queue
        status, page, _ = await post(ada, fields_of(page), f"up:{index}")
        assert status == 200
    assert ("q1-id", "ro-evening") in fields_of(page) and ("q2-id", "sells") in fields_of(page)
    status, page, _ = await post(ada, fields_of(page), "preview")
    assert status == 200 and 'data-draft="1"' in page
    assert preview_queue(page, "sells", "ro", 0) == "ro-evening" and preview_queue(page, "sells", "ro", 1) == "sells"
    assert preview_queue(page, "sells", "sv", 0) == "sells"                 # Swedish speakers: as before
    assert re.search(r'<tr class=" changed" data-group="sells" data-language="ro"', page)

    status, page, _ = await post(ada, fields_of(page), "publish")           # no comment: refused there
    assert status == 422 and "Say what changed" in problem_at(page, "comment")
    assert routed(server, "sells", "ro") == "sells"
    status, _, location = await post(ada, changed(fields_of(page), {"comment": "Romanian evenings from December"}),
                                     "publish")
    assert (status, location) == (303, "/admin/queues?lang=en&published=2")
    assert routed(server, "sells", "ro") == "ro-evening" and routed(server, "sells", "sv") == "sells"

    versions = await DocumentStore(server.app[appkeys.DB]).versions("queues", "queues")
    assert [(v.version, v.author, v.comment) for v in versions][0] == (2, "ada", "Romanian evenings from December")
    document = yaml.safe_load(versions[0].content)
    queue = document["queues"][1]
    assert queue["id"] == "ro-evening" and queue["languages"] == ["ro"] and queue["max_wait_minutes"] == 10
    assert queue["hours"]["sun"] == ["18:00-24:00"] and "exceptions" not in queue     # the defaults' exceptions
    assert yaml.safe_load(versions[1].content)["defaults"] == document["defaults"]
    status, page = await get(ada, "/admin/queues?lang=en&published=2")
    assert 'id="published"' in page and preview_queue(page, "sells", "ro") == "ro-evening"
    status, history = await get(ada, "/admin/documents/queues/queues?lang=en")   # the same history
    assert status == 200 and "Romanian evenings from December" in history

    fields = changed(fields_of(page), {"q1-closed": "1", "comment": "Romanian evenings paused"})
    status, _, location = await post(ada, fields, "publish")                 # closed: routing passes it by
    assert status == 303 and routed(server, "sells", "ro") == "sells"
    status, page = await get(ada)
    assert 'name="q1-closed" id="q1-closed" value="1" checked' in page and "Seri în limba română" in page


async def test_the_form_refuses_what_the_document_would_refuse_next_to_the_field(server: RunningServer) -> None:
    ada = await server.logged_in("ada", "admin")
    _, page = await get(ada)
    fields = fields_of(page)
    status, page, _ = await post(ada, changed(fields, {"q1-closed": "1"}), "preview")   # sells has no other queue
    assert status == 422 and "no open queue would serve sells" in problem_at(page, "q1-closed")
    status, page, _ = await post(ada, changed(fields, {"q2-groups": ["buys", "sells"]}), "preview")
    assert status == 422 and "never mixed" in problem_at(page, "q2-groups")
    status, page, _ = await post(ada, changed(fields, {"q3-languages": "ro, xx", "d-max_wait": "0",
                                                       "q4-own_exceptions": "1", "q4-exceptions": "24/12 10:00-14:00"}),
                                   "preview")
    assert status == 422 and "xx" in problem_at(page, "q3-languages")
    assert "0" in problem_at(page, "d-max_wait") and "24/12" in problem_at(page, "q4-exceptions")
    status, page, _ = await post(ada, changed(fields, {"timezone": "Mars/Olympus"}), "preview")
    assert status == 422 and "Mars/Olympus" in problem_at(page, "timezone")
    status, page, _ = await post(ada, changed(fields, {"comment": "nothing"}), "publish")
    assert status == 422 and "Nothing changed" in problem_at(page, "comment")
    status, page, _ = await post(ada, fields, "add")                         # added, then thought better of
    assert ("queue_count", "7") in fields_of(page) and 'id="q6-remove"' in page and 'id="q5-remove"' not in page
    status, page, _ = await post(ada, fields_of(page), "remove:6")
    assert status == 200 and ("queue_count", "6") in fields_of(page) and 'id="q6-id"' not in page
    status, page, _ = await post(ada, fields_of(page), "remove:5")          # a published queue: closed, not removed
    assert ("queue_count", "6") in fields_of(page)


async def test_a_second_admin_publishing_meanwhile_is_a_conflict_not_a_loss(server: RunningServer) -> None:
    ada = await server.logged_in("ada", "admin")
    bea = await server.logged_in("bea", "admin")
    _, page = await get(ada)
    mine = fields_of(page)
    _, page = await get(bea)
    status, _, _ = await post(bea, changed(fields_of(page), {"q3-name-en": "Family and friends",
                                                             "comment": "kinder name"}), "publish")
    assert status == 303
    status, page, _ = await post(ada, changed(mine, {"q5-max_wait": "20", "comment": "shorter wait"}), "publish")
    assert status == 409 and 'id="conflict"' in page and "bea" in page and "Family and friends" in page
    assert ('base_version', '2') in fields_of(page)
    status, _, _ = await post(ada, fields_of(page), "publish")               # knowingly, over it
    assert status == 303
    versions = await DocumentStore(server.app[appkeys.DB]).versions("queues", "queues")
    assert [v.version for v in versions] == [3, 2, 1]


async def test_supervisors_read_the_form_and_no_one_posts_it_without_the_token(server: RunningServer) -> None:
    sven = await server.logged_in("sven", "supervisor")
    status, page = await get(sven)
    assert status == 200 and '<fieldset class="plain" disabled>' in page and 'id="publish"' not in page
    status, _, _ = await post(sven, changed(fields_of(page), {"comment": "mine"}), "publish")
    assert status == 403
    anna = await server.logged_in("anna", "counsellor")
    status, _ = await get(anna)
    assert status == 403
    ada = await server.logged_in("ada", "admin")
    _, page = await get(ada)
    fields = changed(fields_of(page), {"q3-name-en": "Family", "comment": "x"})
    assert (await post(ada, fields, "publish", csrf=False))[0] == 403
    assert (await post(ada, fields, "publish", origin="https://elsewhere.example"))[0] == 403
    versions = await DocumentStore(server.app[appkeys.DB]).versions("queues", "queues")
    assert [v.version for v in versions] == [1]
