"""An admin changes the triage script in the browser: a validation error at its line, the fix, the
simulator, the sample table, publish; a new web chat follows the new version while one under way
keeps the old; a rollback restores the old behaviour. Headless Debian chromium.

Screenshots: test-artifacts/admin-editor-error.png, admin-simulator.png, admin-sample-table.png,
admin-history-diff.png."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from lotsa.admin.sections import visible
from lotsa.models import Role
from lotsa_testing.browser import ARTIFACTS, LAPTOP, PHONE, collect_errors, console_login
from lotsa_testing.server import RunningServer

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = (ROOT / "config" / "triage" / "default.yaml").read_text(encoding="utf-8")
OLD_THANKS = "Thank you. We are now connecting you with a counsellor."
NEW_THANKS = "Thanks! A counsellor from the new version will answer you soon."
BUYERS = ("      - if: {risk: acute}\n        next: handoff\n",
          "      - if: {risk: acute}\n        next: handoff\n      - if: {group: buys}\n        next: buyers\n")
BUYERS_STEP = "  buyers:\n    text: {sv: Tack för att du skrev., en: Thanks for writing to us.}\n    end: handoff\n" \
              "    queue: general\n"
FIXED = SCRIPT.replace(OLD_THANKS, NEW_THANKS).replace(*BUYERS) + BUYERS_STEP
BROKEN = FIXED.replace("next: buyers\n", "next: buyer\n")


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if needle in line)


async def chat_at_who(browser: object, url: str) -> object:
    """A person in the web chat who chose English and is asked who they are."""
    page = await (await browser.new_context(viewport=PHONE, locale="en-GB")).new_page()
    await page.goto(f"{url}/chat?lang=en")
    await page.click(".choice[data-choice=en]")
    await page.wait_for_selector(".choice[data-choice=sells]")
    return page


async def finish_triage(page: object) -> str:
    """Sells, skip: what the bot says when triage ends."""
    from playwright.async_api import expect

    await page.click(".choice[data-choice=sells]")
    await page.click(".choice[data-choice=skip]")
    await expect(page.locator("#status")).to_contain_text("112")
    return " ".join(await page.locator(".msg-bot").all_inner_texts())


async def test_an_admin_edits_simulates_publishes_and_rolls_back_a_triage_script(
        server: RunningServer, browser: object) -> None:
    from playwright.async_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    await server.add_staff("ada", "admin")
    errors: list[str] = []
    before = await chat_at_who(browser, server.url)              # under way on the old version
    ada = await (await browser.new_context(viewport={"width": 1366, "height": 1400}, locale="en-GB")).new_page()
    collect_errors(ada, errors)
    await console_login(ada, server.url, "ada")
    await ada.goto(f"{server.url}/admin")
    nav = ada.locator("nav.admin-nav")
    await expect(nav.locator("a")).to_have_count(len(visible(Role.ADMIN)))
    await nav.get_by_role("link", name="Triage scripts").click()
    await ada.get_by_role("link", name="default").click()
    await expect(ada.locator("h1")).to_have_text("Triage script: default")
    await expect(ada.locator("#active-info")).to_contain_text("version 1")

    await ada.fill("#draft", BROKEN)                               # a mistake: checked as it is typed
    problem = ada.locator("#problems .problem-jump")
    await expect(problem).to_contain_text(f"Line {line_of(BROKEN, 'next: buyer')}")
    await expect(problem).to_contain_text("steps.route.branch.1.next")
    await expect(problem).to_contain_text("no step named 'buyer'")
    await expect(ada.locator(".gl-problem")).to_have_text(str(line_of(BROKEN, "next: buyer")))
    await problem.click()                                          # to the line, in the editor
    await expect(ada.locator("#draft")).to_be_focused()
    assert await ada.evaluate("document.getElementById('draft').value.substring("
                              "document.getElementById('draft').selectionStart,"
                              "document.getElementById('draft').selectionEnd)") == "        next: buyer"
    await ada.locator("#editor").screenshot(path=ARTIFACTS / "admin-editor-error-only.png")
    await ada.screenshot(path=ARTIFACTS / "admin-editor-error.png", full_page=True)

    await ada.fill("#draft", FIXED)
    await expect(ada.locator("#problems-status")).to_have_text("The draft is valid.")
    await expect(ada.locator("#problems li")).to_have_count(0)

    await ada.select_option("#sim-lang", "en")                     # the simulator runs the draft
    await ada.click("#sim-start")
    await ada.click("#sim-choices .choice[data-choice=en]")
    await ada.click("#sim-choices .choice[data-choice=buys]")
    await ada.fill("#sim-input", "I pay for sex and want to stop")
    await ada.press("#sim-input", "Enter")
    transcript = ada.locator("#sim-transcript")
    await expect(transcript.locator(".verdict")).to_contain_text("group buys")
    await expect(transcript.locator(".msg-bot").last).to_have_text("Thanks for writing to us.")
    await expect(ada.locator("#sim-end")).to_contain_text("queue general")
    await expect(ada.locator("#sim-input")).to_be_disabled()
    await ada.click("#sim-start")                                  # again, with words that fire
    await ada.click("#sim-choices .choice[data-choice=en]")
    await ada.click("#sim-choices .choice[data-choice=sells]")
    await ada.fill("#sim-input", "he keeps my passport and says I owe him money")
    await ada.press("#sim-input", "Enter")
    await expect(transcript.locator(".verdict")).to_contain_text("trafficking")
    await expect(transcript.locator(".verdict")).to_contain_text("“owe him”")
    await expect(ada.locator("#sim-end")).to_contain_text("queue sells")    # trafficking alone: elevated
    await expect(ada.locator("#sim-end")).to_contain_text("risk elevated")
    await ada.locator("#sim-heading").scroll_into_view_if_needed()
    await ada.screenshot(path=ARTIFACTS / "admin-simulator.png", full_page=True)

    await ada.fill("#sample-input", "I pay for sex and want to stop\njag säljer sex och behöver prata\n"
                                    "he keeps my passport and says I owe him money")
    await ada.click("#sample-run")
    rows = ada.locator("#sample-rows tr")
    await expect(rows).to_have_count(3)
    await expect(ada.locator("#sample-rows tr.changed")).to_have_count(1)
    await expect(rows.nth(0)).to_have_class(re.compile(r"\bchanged\b"))
    await expect(rows.nth(0).locator("td.side-draft").nth(3)).to_have_text("general")
    await expect(rows.nth(0).locator("td.side-active").nth(3)).to_have_text("buys")
    await expect(ada.locator("#sample-status")).to_have_text("3 messages, 1 changed.")
    await ada.locator("#sample-table").screenshot(path=ARTIFACTS / "admin-sample-table-only.png")
    await ada.screenshot(path=ARTIFACTS / "admin-sample-table.png", full_page=True)

    await ada.focus("#comment")                                    # publish from the keyboard
    await ada.keyboard.type("Warmer thanks; buyers go to the general queue")
    await ada.keyboard.press("Enter")
    await expect(ada.locator("#active-info")).to_contain_text("version 2, published by ada")

    after = await chat_at_who(browser, server.url)
    assert NEW_THANKS in await finish_triage(after)                # a new chat: the new version
    said = await finish_triage(before)                             # the one under way: the old
    assert OLD_THANKS in said and NEW_THANKS not in said

    await ada.check("input[name=diff-from][value='1']")
    await ada.check("input[name=diff-to][value='2']")
    await ada.click("#diff-show")
    diff = ada.locator("#diff-view")
    await expect(diff.locator(".diff-add").first).to_be_visible()
    await expect(diff).to_contain_text(f"+      en: {NEW_THANKS}")
    await expect(diff).to_contain_text("+        next: buyers")
    await diff.scroll_into_view_if_needed()
    await ada.screenshot(path=ARTIFACTS / "admin-history-diff.png", full_page=True)

    await ada.click("button.rollback[data-version='1']")
    await expect(ada.locator("#active-info")).to_contain_text("version 3, published by ada")
    await expect(ada.locator("#history tbody tr").first).to_contain_text("rollback to version 1")
    again = await chat_at_who(browser, server.url)
    said = await finish_triage(again)
    assert OLD_THANKS in said and NEW_THANKS not in said
    assert not [e for e in errors if "Content Security Policy" in e or "Uncaught" in e], errors


async def test_a_supervisor_reads_the_admin_area_but_cannot_change_it(server: RunningServer,
                                                                       browser: object) -> None:
    from playwright.async_api import expect

    await server.add_staff("sven", "supervisor")
    page = await (await browser.new_context(viewport=LAPTOP, locale="sv-SE")).new_page()
    await console_login(page, server.url, "sven")
    await page.goto(f"{server.url}/admin")
    await expect(page.locator("h1")).to_have_text("Administration")
    await expect(page.locator(".read-only-note")).to_be_visible()
    await expect(page.locator("nav.admin-nav a")).to_have_count(len(visible(Role.SUPERVISOR)))  # no audit log
    await page.goto(f"{server.url}/admin/documents/queues/queues")
    await expect(page.locator("#draft")).to_have_attribute("readonly", "")
    await expect(page.locator("#publish")).to_have_count(0)
    await expect(page.locator("button.rollback")).to_have_count(0)


async def test_an_admin_sees_who_would_land_where_now_and_at_23(server: RunningServer, browser: object) -> None:
    from playwright.async_api import expect

    await server.add_staff("ada", "admin")
    page = await (await browser.new_context(viewport=LAPTOP, locale="sv-SE")).new_page()
    await console_login(page, server.url, "ada")
    await page.goto(f"{server.url}/admin")
    await page.get_by_role("link", name="Köer och öppettider").first.click()
    await page.click("#advanced")                                        # the YAML editor's own preview
    await page.click("#preview-run")
    rows = page.locator("#preview-rows tr")
    await expect(rows.first).to_be_visible()
    acute = page.locator("#preview-rows tr.acute")
    await expect(acute).to_contain_text("Akut (acute)")
    await expect(acute.locator("td").nth(4)).to_have_text("öppen")           # the acute queue never closes
    await expect(page.locator("#preview-late")).to_contain_text("23:00")
    await page.screenshot(path=ARTIFACTS / "admin-queue-preview.png", full_page=True)
