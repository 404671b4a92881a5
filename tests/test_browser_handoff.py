"""A counsellor's shift and a supervisor's alert, clicked through in headless Debian chromium.

Screenshots go to test-artifacts/handoff-*.png."""
from __future__ import annotations

import re

import pytest
from conftest import PASSWORD, RunningServer
from test_browser import ARTIFACTS, LAPTOP, PHONE, _collect_errors, browser  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser


async def _login(page: object, url: str, name: str) -> None:
    await page.goto(f"{url}/console")
    await page.fill("#name", name)
    await page.fill("#password", PASSWORD)
    await page.click("#login")
    await page.wait_for_selector("#conn[data-state=online]")


async def _contact_waiting(page: object, url: str, text: str) -> None:
    from playwright.async_api import expect

    await page.goto(f"{url}/chat?lang=en")
    await page.click(".choice[data-choice=en]")
    await page.click(".choice[data-choice=sells]")
    await page.click(".choice[data-choice=skip]")
    await expect(page.locator("#status")).to_contain_text("112")
    await page.fill("#input", text)
    await page.press("#input", "Enter")
    await expect(page.locator(".msg-contact").last).not_to_have_class(re.compile(r"\bpending\b"))


async def test_a_counsellor_shift(server: RunningServer, browser: object) -> None:  # noqa: F811
    from playwright.async_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    await server.add_staff("anna", languages=["sv", "en"])
    await server.add_staff("bo")
    errors: list[str] = []
    person = await (await browser.new_context(viewport=PHONE, locale="en-GB")).new_page()
    anna = await (await browser.new_context(viewport=LAPTOP, locale="en-GB")).new_page()
    bo = await (await browser.new_context(viewport=LAPTOP, locale="en-GB")).new_page()
    for page in (person, anna, bo):
        _collect_errors(page, errors)

    await _contact_waiting(person, server.url, "I owe him money and he keeps my phone")
    await expect(person.locator("#status")).to_contain_text("number 1 in the queue")
    await person.screenshot(path=ARTIFACTS / "handoff-contact-waiting.png", full_page=True)

    await _login(anna, server.url, "anna")
    await _login(bo, server.url, "bo")
    await expect(anna.locator("#waiting .conv")).to_have_count(1)
    await expect(anna.locator("#capacity")).to_contain_text("0 of 3")
    await anna.keyboard.press("Alt+n")                                  # take next, from the keyboard
    transcript = anna.locator("#console-transcript")
    await expect(transcript).to_contain_text("he keeps my phone")
    await expect(anna.locator("#capacity")).to_contain_text("1 of 3")
    await expect(person.locator("#status")).to_contain_text("A counsellor is here")

    await anna.fill("#reply", "Hi, I am here. Are you safe where you are now?")
    await anna.press("#reply", "Enter")
    await expect(person.locator(".msg-counsellor")).to_contain_text("Are you safe")
    # Typing frames go out at most every 2 s: each side types for longer than that.
    await person.type("#input", "yes, I am safe now", delay=150)
    await expect(anna.locator("#console-typing")).to_be_visible()     # the person is typing
    await person.press("#input", "Enter")
    await expect(transcript.locator(".msg-contact .msg-text").last).to_have_text("yes, I am safe now")
    await anna.type("#reply", "Good, thank you for telling me.", delay=100)
    await expect(person.locator("#typing")).to_be_visible()           # the counsellor is typing
    await anna.fill("#reply", "")

    await anna.type("#reply", "/anonym")                                # canned reply: shortcut + Tab
    await anna.press("#reply", "Tab")
    await expect(anna.locator("#reply")).to_have_value("You are anonymous here. You do not need to tell me your "
                                                       "name or where you live.")
    await anna.press("#reply", "Enter")
    await expect(person.locator(".msg-counsellor").last).to_contain_text("You are anonymous here")

    await anna.keyboard.press("Alt+3")                                  # the referral directory
    await anna.fill("#referral-search", "debt")
    await expect(anna.locator("#referral-list .pick")).to_have_count(1)
    await anna.click("#referral-list button[data-id=kronofogden]")
    await expect(anna.locator("#reply")).to_have_value(
        "If you have debts, the municipal budget and debt advice can help, and Kronofogden decides on debt relief.")
    await anna.press("#reply", "Enter")
    await expect(person.locator(".msg-counsellor").last).to_contain_text("Kronofogden")

    await anna.keyboard.press("Alt+1")                                  # a private note
    await anna.fill("#note-text", "Debt to a man who keeps her phone: trafficking indicators?")
    await anna.click("#note-add")
    await expect(anna.locator("#notes-list .note")).to_contain_text("trafficking indicators?")
    await anna.screenshot(path=ARTIFACTS / "handoff-console-shift.png", full_page=True)

    await anna.reload()                                                 # a reloaded console restores its state
    await expect(anna.locator("#console-transcript")).to_contain_text("Kronofogden")
    await expect(anna.locator("#notes-list")).to_contain_text("trafficking indicators?")
    await expect(anna.locator("#tab-notes")).to_have_attribute("aria-selected", "true")

    await anna.keyboard.press("Alt+4")                                  # transfer to a colleague
    await anna.select_option("#transfer-target", "to:bo")
    await anna.fill("#transfer-note", "She may need the regional coordinator; I go off shift.")
    await anna.click("#transfer-submit")
    await expect(anna.locator("#mine .conv")).to_have_count(0)
    await expect(bo.locator("#mine .conv")).to_have_count(1)
    await bo.locator("#mine .conv-open").first.click()
    await expect(bo.locator("#console-transcript")).to_contain_text("Kronofogden")
    await expect(bo.locator("#notes-list")).to_contain_text("regional coordinator")
    await expect(bo.locator("#notes-list")).to_contain_text("trafficking indicators?")
    await bo.screenshot(path=ARTIFACTS / "handoff-transfer-received.png", full_page=True)

    await bo.click("#close-conv")                                       # closing needs the wrap-up
    await expect(bo.locator("#panel-wrapup")).to_be_visible()
    await bo.click("#wrapup-submit")
    await expect(bo.locator("#wrapup-error")).to_be_visible()
    await bo.select_option("#wrapup-outcome", "referred")
    await bo.check("#wrap-ref-kronofogden")
    await bo.check("#wrap-need-economy")
    await bo.screenshot(path=ARTIFACTS / "handoff-wrapup.png", full_page=True)
    await bo.click("#wrapup-submit")
    await expect(person.locator("#status")).to_contain_text("ended")
    await expect(bo.locator("#chat-empty")).to_be_visible()

    texts = await person.locator(".msg").all_inner_texts()
    assert not any("trafficking indicators" in t or "off shift" in t for t in texts)  # notes stay private
    assert not [e for e in errors if "Content Security Policy" in e or "Uncaught" in e], errors


async def test_a_supervisor_sees_an_acute_contact_arrive_and_is_alerted(
        server: RunningServer, browser: object) -> None:  # noqa: F811
    from playwright.async_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    await server.add_staff("sara", "supervisor")
    await server.add_staff("anna")
    errors: list[str] = []
    sara = await (await browser.new_context(viewport=LAPTOP, locale="en-GB")).new_page()
    person = await (await browser.new_context(viewport=PHONE, locale="en-GB")).new_page()
    for page in (sara, person):
        _collect_errors(page, errors)

    await sara.clock.install()   # the page's own clock: a long wait is fast-forwarded, not waited for
    await _login(sara, server.url, "sara")
    await expect(sara.locator("#supervisor")).to_be_visible()
    await expect(sara.locator("#staff")).to_contain_text("anna")
    await expect(sara.locator("#alert-banner")).to_be_hidden()

    await person.goto(f"{server.url}/chat?lang=en")
    await person.wait_for_selector(".choice")
    await person.fill("#input", "he is hitting me right now, please help")
    await person.press("#input", "Enter")
    await expect(person.locator(".msg-bot").last).to_contain_text("112")

    banner = sara.locator("#alert-banner")
    await expect(banner).to_be_visible()
    await expect(banner).to_contain_text("ACUTE: 1 acute contact waiting")
    await expect(banner).not_to_have_attribute("data-sounds", "0")     # the alert sound was played
    item = sara.locator("#waiting .conv-acute")
    await expect(item).to_contain_text("Acute")
    await expect(item).to_contain_text("hitting")                        # the red-flag words
    await sara.screenshot(path=ARTIFACTS / "handoff-supervisor-acute-alert.png", full_page=True)
    await expect(banner).not_to_contain_text("longer than")
    await sara.clock.fast_forward("03:00")                              # past the acute queue's 2 minutes
    await expect(banner).to_contain_text("1 waited longer than their queue's limit")
    await sara.screenshot(path=ARTIFACTS / "handoff-supervisor-wait-alert.png", full_page=True)

    await item.locator(".conv-open").click()                             # a supervisor reassigns it
    await sara.keyboard.press("Alt+4")
    await sara.select_option("#transfer-target", "to:anna")
    await sara.click("#transfer-submit")
    await expect(sara.locator("#all-active .conv")).to_contain_text("anna")
    await expect(banner).to_be_hidden()
    assert not [e for e in errors if "Content Security Policy" in e or "Uncaught" in e], errors


async def test_the_console_speaks_swedish(server: RunningServer, browser: object) -> None:  # noqa: F811
    from playwright.async_api import expect

    await server.add_staff("anna")
    errors: list[str] = []
    page = await (await browser.new_context(viewport=LAPTOP, locale="sv-SE")).new_page()
    _collect_errors(page, errors)
    await _login(page, server.url, "anna")
    await expect(page.locator("#take-next")).to_contain_text("Ta nästa")
    await expect(page.locator("#capacity")).to_contain_text("tillgänglig · 0 av 3 samtal")
    await expect(page.locator("#tab-referrals")).to_have_text("Hänvisning")
    await page.keyboard.press("Alt+5")
    await expect(page.locator("#wrapup-outcome option[value=referred]")).to_have_text("Hänvisad vidare")
    await page.keyboard.press("Alt+n")
    await expect(page.locator("#console-alert")).to_contain_text("Ingen väntar som du kan ta just nu.")
    await page.select_option("#presence", "away")
    await expect(page.locator("#capacity")).to_contain_text("borta")
    assert not [e for e in errors if "Content Security Policy" in e or "Uncaught" in e], errors
