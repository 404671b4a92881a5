"""Markup a contact writes is shown as text in the console (and markup a counsellor writes, as
text in the chat), checked in headless Debian chromium.

The Content-Security-Policy would stop inline handlers even if markup were rendered, so "no
dialog" alone proves little: the test also checks that no element was made from the text, that
the page never fetched `src=x`, that the browser reported no CSP violation (what rendered markup
would cause), and that the text is visible literally, character for character.
Screenshots go to test-artifacts/injection-*.png."""
from __future__ import annotations

import asyncio
import re

import pytest

from lotsa_testing.browser import ARTIFACTS, LAPTOP, PHONE, collect_errors, console_login, contact_waiting
from lotsa_testing.server import RunningServer

pytestmark = pytest.mark.browser

FROM_CONTACT = [
    "<img src=x onerror=alert(1)>",
    "<script>alert(2)</script>",
    "<svg onload=alert(3)><b id=injected>fet</b>",
    '"><a href="javascript:alert(4)">klicka</a><iframe src="javascript:alert(5)">',
    "&lt;i&gt; is not <i>italic</i> & {{ 7*7 }} ${7*7}",
]
FROM_COUNSELLOR = "<img src=x onerror=alert(6)> <script>alert(7)</script>"
NOTE = "<b id=injected-note>note</b><img src=x onerror=alert(8)>"
TRIAGE_ANSWERS = 3
"""The buttons the person pressed before writing (language, who they are, skip): shown first."""


def _watch(page: object, dialogs: list[str], fetched: list[str]) -> None:
    def on_dialog(dialog: object) -> None:
        dialogs.append(dialog.message)
        asyncio.ensure_future(dialog.dismiss())

    page.on("dialog", on_dialog)
    page.on("request", lambda r: fetched.append(r.url) if r.url.rstrip("/").endswith("/x") else None)


async def _send(page: object, text: str) -> None:
    from playwright.async_api import expect

    await page.fill("#input", text)
    await page.press("#input", "Enter")
    await expect(page.locator(".msg-contact").last).not_to_have_class(re.compile(r"\bpending\b"))


async def test_markup_from_a_contact_is_shown_as_text_in_the_console(server: RunningServer,
                                                                      browser: object) -> None:
    from playwright.async_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    await server.add_staff("anna", languages=["sv", "en"])
    errors: list[str] = []
    dialogs: list[str] = []
    fetched: list[str] = []
    person = await (await browser.new_context(viewport=PHONE, locale="en-GB")).new_page()
    anna = await (await browser.new_context(viewport=LAPTOP, locale="en-GB")).new_page()
    for page in (person, anna):
        collect_errors(page, errors)
        _watch(page, dialogs, fetched)

    await contact_waiting(person, server.url, FROM_CONTACT[0])
    for text in FROM_CONTACT[1:]:
        await _send(person, text)

    await console_login(anna, server.url, "anna")
    await expect(anna.locator("#waiting .conv")).to_have_count(1)
    await anna.keyboard.press("Alt+n")
    shown = anna.locator("#console-transcript .msg-contact .msg-text")
    await expect(shown).to_have_count(TRIAGE_ANSWERS + len(FROM_CONTACT))
    for n, text in enumerate(FROM_CONTACT, start=TRIAGE_ANSWERS):   # literally, in order, and visible
        await expect(shown.nth(n)).to_have_text(text)
        await expect(shown.nth(n)).to_be_visible()
    await expect(anna.locator("#console-transcript .msg-text *")).to_have_count(0)   # text nodes only
    for selector in ("#injected", "#console-transcript img", "#console-transcript script", "svg[onload]",
                     "iframe", "a[href^=javascript]", "#console-transcript i"):
        await expect(anna.locator(selector)).to_have_count(0)

    await anna.fill("#reply", FROM_COUNSELLOR)                          # and the other way round
    await anna.press("#reply", "Enter")
    answer = person.locator(".msg-counsellor .msg-text")
    await expect(answer).to_have_text([FROM_COUNSELLOR])
    await expect(person.locator("#transcript .msg-text *")).to_have_count(0)
    await expect(person.locator("#transcript img, #transcript script")).to_have_count(0)

    await anna.keyboard.press("Alt+1")                                  # a private note with markup
    await anna.fill("#note-text", NOTE)
    await anna.click("#note-add")
    await expect(anna.locator("#notes-list .note")).to_contain_text(NOTE)
    await expect(anna.locator("#injected-note, #notes-list img")).to_have_count(0)
    await anna.screenshot(path=ARTIFACTS / "injection-console.png", full_page=True)
    await person.screenshot(path=ARTIFACTS / "injection-chat.png", full_page=True)

    # Nothing ran and nothing was fetched from the markup, and the policy never had to step in.
    assert dialogs == []
    assert fetched == []
    assert not [e for e in errors if "Content Security Policy" in e or "Uncaught" in e], errors


async def test_markup_in_a_log_in_name_is_echoed_as_text(server: RunningServer, browser: object) -> None:
    from playwright.async_api import expect

    errors: list[str] = []
    dialogs: list[str] = []
    fetched: list[str] = []
    page = await (await browser.new_context(viewport=LAPTOP, locale="en-GB")).new_page()
    collect_errors(page, errors)
    _watch(page, dialogs, fetched)
    name = '"><img src=x onerror=alert(9)><script>alert(10)</script>'
    await page.goto(f"{server.url}/console")
    await page.fill("#name", name)
    await page.fill("#password", "not the password at all")
    await page.click("#login")
    await expect(page.locator("#error")).to_be_visible()
    await expect(page.locator("#name")).to_have_value(name)             # the attribute held it, as text
    await expect(page.locator("img, body script")).to_have_count(0)
    assert dialogs == [] and fetched == []
    assert not [e for e in errors if "Content Security Policy" in e or "Uncaught" in e], errors
