"""The Staff page in headless Debian chromium: an admin disables a counsellor whose console is open
(the console is logged out, the person's chat is back in the queue first in line), creates an
account, resets a password, and cannot disable the last admin; all from the keyboard.

Screenshots go to test-artifacts/admin-staff-*.png."""
from __future__ import annotations

import pytest

from lotsa_testing.browser import ARTIFACTS, LAPTOP, PHONE, collect_errors, console_login, contact_waiting
from lotsa_testing.server import RunningServer

pytestmark = pytest.mark.browser


async def test_an_admin_disables_an_open_console_creates_an_account_and_keeps_the_last_admin(
        server: RunningServer, browser: object) -> None:
    from playwright.async_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    await server.add_staff("ada", "admin")
    await server.add_staff("anna", languages=["sv", "en"])
    errors: list[str] = []
    person = await (await browser.new_context(viewport=PHONE, locale="en-GB")).new_page()
    anna = await (await browser.new_context(viewport=LAPTOP, locale="en-GB")).new_page()
    ada = await (await browser.new_context(viewport=LAPTOP, locale="en-GB")).new_page()
    for page in (person, anna, ada):
        collect_errors(page, errors)

    await contact_waiting(person, server.url, "He took my passport and I cannot leave")
    await console_login(anna, server.url, "anna")
    await anna.keyboard.press("Alt+n")                                  # anna takes the chat
    await expect(anna.locator("#console-transcript")).to_contain_text("took my passport")
    await expect(person.locator("#status")).to_contain_text("A counsellor is here")

    await console_login(ada, server.url, "ada")
    await ada.goto(f"{server.url}/admin/staff")
    await expect(ada.locator("h1")).to_have_text("Staff")
    await expect(ada.locator("tr[data-name=anna]")).to_contain_text("Active")
    await ada.screenshot(path=ARTIFACTS / "admin-staff-list.png", full_page=True)
    await ada.focus("button[aria-label='Disable anna']")                # from the keyboard
    await ada.keyboard.press("Enter")
    await expect(ada.locator("[role=status][data-done=disabled]")).to_be_visible()
    await expect(ada.locator("tr[data-name=anna]")).to_contain_text("Disabled")

    await expect(anna.locator("form[action='/console/login']")).to_be_visible(timeout=5000)   # logged out
    await expect(person.locator("#status")).to_contain_text("number 1 in the queue")
    await expect(person.locator(".msg-system").last).to_contain_text("You are first in the queue")

    await ada.focus("#create-name")                                     # a new account, by keyboard
    await ada.keyboard.type("nora")
    await ada.keyboard.press("Tab")
    await ada.keyboard.press("Tab")
    await ada.keyboard.type("sv,en")
    await ada.fill("#create-max", "2")
    await ada.press("#create-max", "Enter")
    created = ada.locator("#new-password")
    await expect(created).to_be_visible()
    await expect(ada.locator("#new-password-title")).to_contain_text("nora")
    first = await created.text_content()
    await expect(ada.locator("tr[data-name=nora]")).to_contain_text("sv,en")
    await ada.screenshot(path=ARTIFACTS / "admin-staff-created.png", full_page=True)

    await ada.click("button[aria-label='Reset password for nora']")
    await expect(ada.locator("#new-password-title")).to_contain_text("nora")
    second = await ada.locator("#new-password").text_content()
    assert first and second and first != second
    nora = await (await browser.new_context(viewport=LAPTOP, locale="en-GB")).new_page()
    collect_errors(nora, errors)
    await nora.goto(f"{server.url}/console")
    await nora.fill("#name", "nora")
    await nora.fill("#password", second)
    await nora.click("#login")
    await nora.wait_for_selector("#conn[data-state=online]")           # the reset password works

    await ada.click("button[aria-label='Disable ada']")                 # the last admin
    alert = ada.locator("[role=alert][data-error=last_admin]")
    await expect(alert).to_contain_text("last admin")
    await expect(ada.locator("tr[data-name=ada]")).to_contain_text("Active")
    await ada.screenshot(path=ARTIFACTS / "admin-staff-last-admin.png", full_page=True)
    # As intended: the refused form's page (409), and anna's console asking after her session ended (401).
    expected = ("the server responded with a status of 409", "the server responded with a status of 401")
    assert [e for e in errors if not any(text in e for text in expected)] == [], errors
