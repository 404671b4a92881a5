"""Headless Debian chromium for the browser tests, driven by Playwright (no downloaded browser builds).

LOTSA_TEST_CHROMIUM names the binary (default /usr/bin/chromium); screenshots go to
LOTSA_TEST_ARTIFACTS (default test-artifacts/ in the folder the tests run from, kept by CI)."""
from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from lotsa_testing.server import PASSWORD

CHROMIUM = os.environ.get("LOTSA_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("LOTSA_TEST_ARTIFACTS", "test-artifacts")).resolve()
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
PHONE = {"width": 360, "height": 740}
LAPTOP = {"width": 1366, "height": 768}


@asynccontextmanager
async def chromium() -> AsyncIterator[object]:
    """A launched Playwright browser; skips the test when there is no chromium."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM} (scripts/test.sh installs Debian's)")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            yield browser
        finally:
            await browser.close()


def collect_errors(page: object, errors: list[str]) -> None:
    """Gather the page's console errors and uncaught exceptions into `errors`."""
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))


async def console_login(page: object, url: str, name: str) -> None:
    """Log `name` in to the console (password PASSWORD) and wait until its socket is online."""
    await page.goto(f"{url}/console")
    await page.fill("#name", name)
    await page.fill("#password", PASSWORD)
    await page.click("#login")
    await page.wait_for_selector("#conn[data-state=online]")


async def contact_waiting(page: object, url: str, text: str) -> None:
    """A person in the web chat, through triage (English, sells, no more questions) and waiting,
    who then writes `text` and sees it sent."""
    from playwright.async_api import expect

    await page.goto(f"{url}/chat?lang=en")
    await page.click(".choice[data-choice=en]")
    await page.click(".choice[data-choice=sells]")
    await page.click(".choice[data-choice=skip]")
    await expect(page.locator("#status")).to_contain_text("112")
    await page.fill("#input", text)
    await page.press("#input", "Enter")
    await expect(page.locator(".msg-contact").last).not_to_have_class(re.compile(r"\bpending\b"))
