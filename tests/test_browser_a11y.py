"""Accessibility measured: axe-core (WCAG 2.1 A and AA rules) on the web chat, the log-in page and
the console, as a person and a counsellor use them, in headless Debian chromium.

axe-core is a test tool, not part of the product: scripts/test.sh installs it from the npm registry
into .cache/axe. It is evaluated in the page through the DevTools protocol, which the page's CSP
(`script-src 'self'`) does not govern, so the CSP stays as strict as in production."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from lotsa_testing.browser import LAPTOP, PHONE, collect_errors, console_login, contact_waiting
from lotsa_testing.server import RunningServer

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parent.parent / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
RUN = """async (tags) => {
  const result = await axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
  return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => n.target.join(" ") + ": " + n.failureSummary.replace(/\\s+/g, " ")) }));
}"""


@pytest.fixture
def axe_source() -> str:
    if not AXE.exists():
        if os.environ.get("CI"):
            pytest.fail(f"axe-core is missing at {AXE}: scripts/test.sh installs it")
        pytest.skip(f"no axe-core at {AXE} (scripts/test.sh installs it from the npm registry)")
    return AXE.read_text(encoding="utf-8")


async def audit(page: object, axe_source: str, where: str) -> list[str]:
    """axe's violations on the page as it is now, one line per violation and node."""
    if not await page.evaluate("typeof axe !== 'undefined'"):
        await page.evaluate(axe_source)
    violations = await page.evaluate(RUN, TAGS)
    lines = []
    for v in violations:
        lines.append(f"[{where}] {v['id']} ({v['impact']}): {v['help']}")
        lines.extend(f"    {node}" for node in v["nodes"])
    return lines


def report(found: list[str]) -> str:
    return "axe found accessibility violations:\n" + "\n".join(found)


async def test_the_web_chat_passes_axe(server: RunningServer, browser: object, axe_source: str) -> None:  # noqa: F811
    from playwright.async_api import expect

    errors: list[str] = []
    page = await (await browser.new_context(viewport=PHONE, locale="sv-SE")).new_page()
    collect_errors(page, errors)
    await page.goto(f"{server.url}/chat")
    await page.wait_for_selector(".choice")
    found = await audit(page, axe_source, "chat, greeting (sv)")
    await page.click("#lang-toggle")                         # the other language, from the page data
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.locator("#lang-toggle-name")).to_have_attribute("lang", "sv")
    await expect(page.locator("#lang-toggle")).to_have_text("Svenska change language to Swedish")
    await expect(page.locator("#send")).to_have_text("Send")
    found += await audit(page, axe_source, "chat, greeting (en)")
    await contact_waiting(page, server.url, "I need someone to talk to")
    found += await audit(page, axe_source, "chat, in the queue (en)")
    await page.click("#erase")
    found += await audit(page, axe_source, "chat, erase armed")
    assert not found, report(found)
    assert not [e for e in errors if "Content Security Policy" in e or "Uncaught" in e], errors


async def test_the_log_in_page_passes_axe(server: RunningServer, browser: object, axe_source: str) -> None:  # noqa: F811
    page = await (await browser.new_context(viewport=LAPTOP, locale="en-GB")).new_page()
    await page.goto(f"{server.url}/console")
    found = await audit(page, axe_source, "log-in")
    await page.fill("#name", "nobody")
    await page.fill("#password", "wrong password")
    await page.click("#login")
    await page.wait_for_selector("#error")
    found += await audit(page, axe_source, "log-in, refused")
    assert not found, report(found)


async def test_the_console_passes_axe(server: RunningServer, browser: object, axe_source: str) -> None:  # noqa: F811
    from playwright.async_api import expect

    await server.add_staff("anna")
    await server.add_staff("sara", "supervisor")
    errors: list[str] = []
    person = await (await browser.new_context(viewport=PHONE, locale="en-GB")).new_page()
    anna = await (await browser.new_context(viewport=LAPTOP, locale="en-GB")).new_page()
    sara = await (await browser.new_context(viewport=LAPTOP, locale="sv-SE")).new_page()
    for page in (person, anna, sara):
        collect_errors(page, errors)
    await contact_waiting(person, server.url, "he keeps my phone and says I owe him money")
    await console_login(anna, server.url, "anna")
    await expect(anna.locator("#waiting .conv")).to_have_count(1)
    found = await audit(anna, axe_source, "console, one waiting")
    await anna.locator("#waiting .claim").first.click()
    await expect(anna.locator("#console-transcript")).to_contain_text("he keeps my phone")
    for n, tab in enumerate(["notes", "replies", "referrals", "transfer", "wrap-up"], start=1):
        await anna.keyboard.press(f"Alt+{n}")
        found += await audit(anna, axe_source, f"console, conversation open, {tab}")

    acute = await (await browser.new_context(viewport=PHONE, locale="en-GB")).new_page()
    await acute.goto(f"{server.url}/chat?lang=en")
    await acute.wait_for_selector(".choice")
    await acute.fill("#input", "he is hitting me right now, please help")
    await acute.press("#input", "Enter")
    await expect(acute.locator(".msg-bot").last).to_contain_text("112")
    found += await audit(acute, axe_source, "chat, told to call 112")
    await expect(anna.locator("#alert-banner")).to_be_visible()
    found += await audit(anna, axe_source, "console, acute alert")

    await console_login(sara, server.url, "sara")
    await expect(sara.locator("#all-active .conv")).to_have_count(1)
    await expect(sara.locator("#waiting .conv-acute")).to_have_count(1)
    await sara.locator("#all-active .conv-open").first.click()
    await expect(sara.locator("#console-transcript")).to_contain_text("he keeps my phone")
    found += await audit(sara, axe_source, "supervisor (sv), conversation open")
    assert not found, report(found)
    assert not [e for e in errors if "Content Security Policy" in e or "Uncaught" in e], errors


async def test_the_admin_pages_pass_axe(server: RunningServer, browser: object, axe_source: str) -> None:  # noqa: F811
    """The index, a list of documents and a script's page with a problem, the simulator, the sample
    table and a diff shown, in both languages."""
    from playwright.async_api import expect

    await server.add_staff("ada", "admin")
    errors: list[str] = []
    page = await (await browser.new_context(viewport=LAPTOP, locale="en-GB")).new_page()
    collect_errors(page, errors)
    await console_login(page, server.url, "ada")
    found: list[str] = []
    for lang in ("en", "sv"):
        await page.goto(f"{server.url}/admin?lang={lang}")
        found += await audit(page, axe_source, f"admin index ({lang})")
        await page.goto(f"{server.url}/admin/documents/texts?lang={lang}")
        found += await audit(page, axe_source, f"admin texts ({lang})")
    await page.goto(f"{server.url}/admin/documents/triage_script/default?lang=en")
    draft = await page.input_value("#draft")
    await page.fill("#draft", draft.replace("start: language", "start: nowhere"))
    await expect(page.locator("#problems .problem-jump")).to_have_count(1)
    found += await audit(page, axe_source, "admin script, a problem shown")
    await page.fill("#draft", draft)
    await page.click("#sim-start")
    await page.click("#sim-choices .choice[data-choice=en]")
    await page.click("#sim-choices .choice[data-choice=sells]")
    await page.fill("#sim-input", "he keeps my passport")
    await page.press("#sim-input", "Enter")
    await expect(page.locator("#sim-end")).not_to_be_empty()
    await page.fill("#sample-input", "jag säljer sex\nI pay for sex")
    await page.click("#sample-run")
    await expect(page.locator("#sample-rows tr")).to_have_count(2)
    await page.click("#diff-show")
    await expect(page.locator("#diff-view")).to_be_visible()
    found += await audit(page, axe_source, "admin script, simulator, sample table and diff")
    assert not found, report(found)
    assert not [e for e in errors if "Content Security Policy" in e or "Uncaught" in e], errors


async def test_the_staff_page_passes_axe(server: RunningServer, browser: object, axe_source: str) -> None:  # noqa: F811
    from playwright.async_api import expect

    await server.add_staff("ada", "admin")
    await server.add_staff("anna", phone="+46709876543")
    await server.add_staff("sara", "supervisor")
    ada = await (await browser.new_context(viewport=LAPTOP, locale="en-GB")).new_page()
    await console_login(ada, server.url, "ada")
    await ada.goto(f"{server.url}/admin/staff")
    await ada.click("summary:has-text('Change anna')")
    found = await audit(ada, axe_source, "staff page (en), a change form open")
    await ada.fill("#create-name", "nora")
    await ada.press("#create-name", "Enter")
    await expect(ada.locator("#new-password")).to_be_visible()
    found += await audit(ada, axe_source, "staff page, a password shown")
    await ada.click("button[aria-label='Disable ada']")
    await expect(ada.locator("[data-error=last_admin]")).to_be_visible()
    found += await audit(ada, axe_source, "staff page, a refused form")
    sara = await (await browser.new_context(viewport=LAPTOP, locale="sv-SE")).new_page()
    await console_login(sara, server.url, "sara")
    await sara.goto(f"{server.url}/admin/staff")
    found += await audit(sara, axe_source, "staff page (sv), read-only")
    assert not found, report(found)
