"""A coordinator opens a Romanian evening queue in the browser, without YAML: adds the queue, makes a
mistake in its hours and sees it at the field, moves the queue above the one for everyone from the
keyboard, sees who would land where now and at 23:00 under the draft next to the active version,
publishes with a comment and sees the routing change. axe-core checks the form (with a problem, with
the preview, and read-only for a supervisor). Headless Debian chromium.

Screenshots: test-artifacts/admin-queues-form-error.png, admin-queues-preview.png,
admin-queues-published.png."""
from __future__ import annotations

import re

import pytest
from test_browser_a11y import audit, axe_source, report  # noqa: F401 (axe_source: the fixture)

from lotsa_testing.browser import ARTIFACTS, LAPTOP, collect_errors, console_login
from lotsa_testing.server import RunningServer

pytestmark = pytest.mark.browser

WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def ro_row(page: object) -> object:
    return page.locator("#preview-rows tr[data-group=sells][data-language=ro]")


async def test_a_coordinator_opens_a_romanian_evening_queue(server: RunningServer, browser: object,
                                                            axe_source: str) -> None:  # noqa: F811
    from playwright.async_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    await server.add_staff("ada", "admin")
    await server.add_staff("sven", "supervisor")
    errors: list[str] = []
    ada = await (await browser.new_context(viewport={"width": 1366, "height": 1000}, locale="en-GB")).new_page()
    collect_errors(ada, errors)
    await console_login(ada, server.url, "ada")
    await ada.goto(f"{server.url}/admin?lang=en")
    await ada.locator("nav.admin-nav").get_by_role("link", name="Queues and hours").click()
    await expect(ada.locator("h1")).to_have_text("Queues and hours")
    await expect(ada.locator("#active-info")).to_contain_text("version 1")
    await expect(ada.locator("#preview-intro")).to_contain_text("active version")
    await expect(ro_row(ada)).to_have_count(0)                       # nobody routes by Romanian yet

    await ada.click("#add-queue")
    await expect(ada.locator("#q6-id")).to_be_focused()              # the new queue, ready to type in
    await ada.keyboard.type("ro-evening")
    await ada.fill("#q6-name-sv", "Rumänska kvällar")
    await ada.fill("#q6-name-en", "Romanian evenings")
    await ada.fill("#q6-name-ro", "Seri în limba română")
    await ada.check("#q6-groups-sells")
    await ada.check("#q6-groups-other")
    await ada.fill("#q6-languages", "ro")
    await ada.check("#q6-own_hours")
    for day in WEEK:
        await ada.fill(f"#q6-hours-{day}", "18:00-24:00")
    await ada.fill("#q6-hours-fri", "18:00-25:00")                   # a slip of the finger
    await ada.fill("#q6-holidays", "18:00-24:00")
    await expect(ada.locator("#q6-own_holidays")).to_be_checked()   # typed: its own, not the defaults'
    await ada.fill("#q6-max_wait", "10")
    await ada.fill("#q6-ooh-ro", "Suntem închiși acum. Rămâi în coadă; răspundem de la ora 18.")
    await ada.click("#preview-top")
    problem = ada.locator("#q6-hours-problem")
    await expect(problem).to_contain_text("fri: 18:00-25:00")
    await expect(ada.locator("#form-problems")).to_be_focused()      # the summary first, linked to the field
    await expect(ada.locator("#form-problems a[href='#q6-hours-problem']")).to_be_visible()
    await expect(ada.locator("#q6-name-ro")).to_have_value("Seri în limba română")    # nothing typed is lost
    await problem.scroll_into_view_if_needed()
    await ada.screenshot(path=ARTIFACTS / "admin-queues-form-error.png", full_page=True)
    found = await audit(ada, axe_source, "queues form, a problem shown (en)")

    await ada.fill("#q6-hours-fri", "18:00-24:00")
    await ada.click("#preview-top")
    await expect(ada.locator("#preview-intro")).to_contain_text("Under your draft")
    await expect(ro_row(ada).locator("td.queue").first).to_have_attribute("data-queue", "sells")  # last in line

    for index in (6, 5, 4, 3, 2):                                     # up above the sells queue, by keyboard
        button = ada.locator(f"#q{index}-up")
        if index < 6:
            await expect(button).to_be_focused()
        else:
            await button.focus()
        await ada.keyboard.press("Enter")
    await expect(ada.locator("#q1-id")).to_have_value("ro-evening")
    await expect(ada.locator("#q2-id")).to_have_value("sells")

    await ada.click("#preview-top")
    row = ro_row(ada)
    await expect(row).to_have_class(re.compile(r"\bchanged\b"))
    await expect(row.locator("td.queue").nth(0)).to_have_text("Romanian evenings (ro-evening)")
    await expect(row.locator("td.queue").nth(1)).to_have_text("Sells or has sold sex (sells)")
    await expect(row.locator("td").nth(4)).to_have_text("open")      # at 23:00, under the draft
    await expect(ada.locator("#preview-rows tr[data-group=sells][data-language=sv]")).not_to_have_class(
        re.compile(r"\bchanged\b"))
    await row.scroll_into_view_if_needed()
    await ada.screenshot(path=ARTIFACTS / "admin-queues-preview.png", full_page=True)
    found += await audit(ada, axe_source, "queues form, the draft's preview (en)")

    await ada.focus("#comment")                                       # publish from the keyboard
    await ada.keyboard.type("Romanian-speaking evenings from December")
    await ada.keyboard.press("Tab")
    await expect(ada.locator("#publish")).to_be_focused()
    await ada.keyboard.press("Enter")
    await expect(ada.locator("#published")).to_contain_text("Published as version 2")
    await expect(ada.locator("#active-info")).to_contain_text("version 2, published by ada")
    await expect(ro_row(ada).locator("td.queue")).to_have_text("Romanian evenings (ro-evening)")  # routed so now
    await expect(ada.locator("details#q1 summary")).to_contain_text("Queue Romanian evenings")
    await ada.screenshot(path=ARTIFACTS / "admin-queues-published.png", full_page=True)

    await ada.click("#advanced")                                      # the same document, its history
    await expect(ada.locator("#history tbody tr").first).to_contain_text("Romanian-speaking evenings from December")
    await expect(ada.locator("#draft")).to_have_value(re.compile(r"- id: ro-evening\n    name: \{sv: Rumänska"))

    sven = await (await browser.new_context(viewport=LAPTOP, locale="sv-SE")).new_page()
    collect_errors(sven, errors)
    await console_login(sven, server.url, "sven")
    await sven.goto(f"{server.url}/admin/queues")
    await expect(sven.locator("h1")).to_have_text("Köer och öppettider")
    await expect(sven.locator("#q1-id")).to_be_disabled()
    await expect(sven.locator("#publish")).to_have_count(0)
    found += await audit(sven, axe_source, "queues form, read-only (sv)")
    assert not found, report(found)
    assert not [e for e in errors if "Content Security Policy" in e or "Uncaught" in e], errors
