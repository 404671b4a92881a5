"""/admin/statistics on a year of demo data, in headless Debian chromium: the charts are there, each
with its title and a table beside it; the HTML report opens from a file without a
single network request. Screenshots: test-artifacts/statistics-page.png, statistics-report.png."""
from __future__ import annotations

from datetime import datetime

import pytest

from handoff.report import as_html
from handoff.statistics import load_records, report
from handoff.statistics_page import default_period
from lotsa import appkeys
from lotsa.demo_statistics import seed_statistics
from lotsa.statistics_records import ZONE
from lotsa_testing.browser import ARTIFACTS, LAPTOP, collect_errors, console_login
from lotsa_testing.server import RunningServer

pytestmark = pytest.mark.browser
CHARTS = ("chart-trend", "chart-groups", "chart-flags", "chart-heatmap", "chart-waits")


async def test_statistics_page_shows_the_charts_on_demo_data(server: RunningServer, browser: object) -> None:
    from playwright.async_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    today = datetime.now(ZONE).date()
    assert await seed_statistics(server.app[appkeys.DB], today, seed=5) > 2500
    await server.add_staff("ada", "admin")
    errors: list[str] = []
    page = await (await browser.new_context(viewport=LAPTOP, locale="sv-SE")).new_page()
    collect_errors(page, errors)
    await console_login(page, server.url, "ada")
    await page.goto(f"{server.url}/admin/statistics")
    await expect(page.locator("h1")).to_have_text("Statistik")
    for chart in CHARTS:
        svg = page.locator(f"svg#{chart}")
        await expect(svg).to_be_visible()
        assert await svg.get_attribute("role") == "img"
        assert (await page.locator(f"#{chart}-t").text_content() or "").strip()
        assert await svg.locator("rect").count() > 3, chart
    assert await page.locator("#stats-contacts table.stats-table th[scope=row]").count() >= 12
    assert await page.locator("text=<5").count() > 0, "protected cells show as <5"
    await page.screenshot(path=ARTIFACTS / "statistics-page.png", full_page=True)
    assert not errors, errors

    start, end = default_period(today)
    html = as_html(report(await load_records(server.app[appkeys.DB], start, end), start, end),
                   server.app[appkeys.TEXTS])
    path = ARTIFACTS / "statistics-report.html"
    path.write_text(html, encoding="utf-8")
    requests: list[str] = []
    file_page = await (await browser.new_context(viewport=LAPTOP)).new_page()
    file_page.on("request", lambda r: requests.append(r.url))
    await file_page.goto(path.as_uri())
    for chart in CHARTS:
        await expect(file_page.locator(f"svg#{chart}")).to_be_visible()
    await file_page.screenshot(path=ARTIFACTS / "statistics-report.png", full_page=True)
    assert requests == [path.as_uri()], f"the report fetched something: {requests}"
