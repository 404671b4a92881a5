"""What a person clicks, in headless Debian chromium driven by Playwright.

Screenshots go to test-artifacts/ (kept by CI as artifacts)."""
from __future__ import annotations

import re

import pytest

from lotsa_testing.browser import ARTIFACTS, LAPTOP, PHONE, collect_errors, console_login
from lotsa_testing.server import RunningServer

pytestmark = pytest.mark.browser


async def test_contact_and_counsellor_talk_in_two_browsers(server: RunningServer, browser: object) -> None:
    from playwright.async_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    await server.add_staff("anna")
    await server.add_staff("bo")
    errors: list[str] = []
    person_ctx = await browser.new_context(viewport=PHONE, locale="en-GB")
    staff_ctx = await browser.new_context(viewport=LAPTOP, locale="en-GB")
    other_ctx = await browser.new_context(viewport=LAPTOP, locale="en-GB")
    person, anna, bo = await person_ctx.new_page(), await staff_ctx.new_page(), await other_ctx.new_page()
    for page in (person, anna, bo):
        collect_errors(page, errors)

    await person.goto(f"{server.url}/chat?lang=en")
    await expect(person.locator("#quick-exit")).to_be_visible()
    await person.click(".choice[data-choice=en]")
    await person.click(".choice[data-choice=sells]")
    await person.click(".choice[data-choice=skip]")
    await expect(person.locator("#status")).to_contain_text("1")
    await person.fill("#input", "I need help, can someone talk to me?")
    await person.press("#input", "Enter")
    await expect(person.locator(".msg-contact").last).not_to_have_class(re.compile(r"\bpending\b"))

    await console_login(anna, server.url, "anna")
    await console_login(bo, server.url, "bo")
    item = anna.locator("#waiting .conv").first
    await expect(item).to_contain_text("Kontakt")
    await item.locator(".claim").click()
    transcript = anna.locator("#console-transcript")
    await expect(transcript).to_contain_text("I need help, can someone talk to me?")
    await expect(bo.locator("#waiting .conv")).to_have_count(0)  # gone from the colleague's list, live

    conversation_id = await anna.locator("#mine .conv").first.get_attribute("data-id")
    status = await bo.evaluate(
        """async (id) => (await fetch(`/api/console/conversations/${id}/claim`, {method: 'POST',
             headers: {'X-CSRF-Token': document.querySelector('meta[name=csrf-token]').content}})).status""",
        conversation_id)
    assert status == 409

    await anna.fill("#reply", "Hi, I am Anna. I am here for you.")
    await anna.press("#reply", "Enter")
    await expect(person.locator(".msg-counsellor")).to_contain_text("I am here for you")
    await person.fill("#input", "<b>thank you</b>")
    await person.press("#input", "Enter")
    await expect(transcript).to_contain_text("<b>thank you</b>")  # shown as text, not markup
    assert await transcript.locator("b").count() == 0

    await person.screenshot(path=ARTIFACTS / "spine-contact-phone.png", full_page=True)
    await anna.screenshot(path=ARTIFACTS / "spine-console.png", full_page=True)

    await person.reload()
    await expect(person.locator(".msg-counsellor")).to_contain_text("I am here for you")
    await expect(person.locator(".msg-contact")).to_have_count(await person.locator(".msg-contact").count())
    assert await person.locator(".msg-contact", has_text="I need help").count() == 1

    await anna.click("#close-conv")  # opens the wrap-up form: an outcome is required before closing
    await anna.select_option("#wrapup-outcome", "supported")
    await anna.click("#wrapup-submit")
    await expect(person.locator("#status")).to_contain_text("ended")
    assert not [e for e in errors if "Content Security Policy" in e or "Uncaught" in e], errors


async def test_quick_exit_leaves_no_trace(server: RunningServer, browser: object) -> None:
    from playwright.async_api import expect

    context = await browser.new_context(viewport=PHONE)
    page = await context.new_page()
    await page.goto(f"{server.url}/neutral")
    await page.goto(f"{server.url}/chat?lang=sv")
    await page.click(".choice[data-choice=sv]")
    await expect(page.locator(".msg-bot")).to_have_count(2)
    assert await page.evaluate("sessionStorage.getItem('lotsa.token')")
    cookies_before = await context.cookies()

    await page.click("#quick-exit")
    await page.wait_for_url(f"{server.url}/neutral")
    assert await page.evaluate("sessionStorage.length") == 0
    await page.go_back()
    assert "/chat" not in page.url  # the chat was replaced in the history, not left behind
    assert cookies_before == [] and await context.cookies() == []


async def test_escape_key_is_a_quick_exit(server: RunningServer, browser: object) -> None:
    context = await browser.new_context(viewport=PHONE)
    page = await context.new_page()
    await page.goto(f"{server.url}/chat")
    await page.wait_for_selector(".choice")
    await page.keyboard.press("Escape")
    await page.wait_for_url(f"{server.url}/neutral")
