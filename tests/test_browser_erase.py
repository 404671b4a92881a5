"""The person deletes their conversation from the web chat page (two presses), in chromium."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from lotsa import appkeys
from lotsa.models import Contact, Message
from lotsa_testing.browser import ARTIFACTS, PHONE, collect_errors
from lotsa_testing.server import RunningServer

pytestmark = pytest.mark.browser


async def test_person_deletes_their_conversation(server: RunningServer, browser: object) -> None:
    from playwright.async_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    errors: list[str] = []
    context = await browser.new_context(viewport=PHONE, locale="sv-SE")
    page = await context.new_page()
    collect_errors(page, errors)
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    await page.goto(f"{server.url}/chat?lang=sv")
    await page.get_by_role("button", name="Svenska").click()
    await page.fill("#input", "jag vill prata om något svårt")
    await page.press("#input", "Enter")
    await expect(page.locator("#transcript")).to_contain_text("jag vill prata om något svårt")
    await expect(page.locator(".msg-contact").last).not_to_have_class(re.compile(r"\bpending\b"))  # stored
    token_before = await page.evaluate("sessionStorage.getItem('lotsa.token')")
    async with server.app[appkeys.DB].read() as session:
        assert await session.scalar(select(func.count()).select_from(Message)) > 0

    await page.click("#erase")
    await expect(page.locator("#erase")).to_have_text("Tryck igen för att radera allt")
    await page.click("#erase")
    await expect(page.locator("#alert")).to_contain_text("Ditt samtal är raderat")
    await expect(page.locator("#transcript")).not_to_contain_text("jag vill prata om något svårt")
    await page.screenshot(path=str(ARTIFACTS / "webchat-erased.png"))
    token_after = await page.evaluate("sessionStorage.getItem('lotsa.token')")
    assert token_after != token_before

    async with server.app[appkeys.DB].read() as session:
        texts = (await session.execute(select(Message.text))).scalars().all()
        keys = (await session.execute(select(Contact.key))).scalars().all()
    assert "jag vill prata om något svårt" not in texts
    assert any(k.startswith("erased:") for k in keys)
    assert errors == [] and missing == [], (errors, missing)
    await context.close()
