"""Chromium: the demo admin changes a site's capacity and closes a day."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from clinic.demo_data import SITE
from tests.browser.conftest import sign_in_as


def open_site_page(page: Page, base_url: str, link: str) -> None:
    """Sign in as the demo admin and open one of the demo site's admin pages."""
    sign_in_as(page, base_url, "admin")
    page.get_by_role("link", name="Admin", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Admin")
    page.get_by_role("link", name=f"{link} of {SITE['name']}").click()


def test_admin_changes_max_starts_per_slot(page: Page, base_url: str) -> None:
    open_site_page(page, base_url, "Settings")
    capacity = page.get_by_label("Max infusion starts per slot")
    expect(capacity).to_have_value(str(SITE["max_starts_per_slot"]))
    capacity.fill("0")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#max_starts_per_slot-errors")).to_have_text("Max starts per slot must be 1–50.")
    expect(page.get_by_label("Max infusion starts per slot")).to_have_value("0")  # input kept
    page.get_by_label("Max infusion starts per slot").fill("3")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status")).to_contain_text("max infusion starts per slot updated")
    expect(page.get_by_label("Max infusion starts per slot")).to_have_value("3")
    # Put the demo value back: other browser tests share this clinic.
    page.get_by_label("Max infusion starts per slot").fill(str(SITE["max_starts_per_slot"]))
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status")).to_contain_text("updated")


def test_admin_adds_and_removes_a_manual_closure(page: Page, base_url: str) -> None:
    # Beyond the 12 months of demo holidays, so the day is free.
    day = datetime.now(ZoneInfo(SITE["timezone"])).date() + timedelta(days=400)
    open_site_page(page, base_url, "Closures")
    page.get_by_label("Date").fill(day.isoformat())
    page.get_by_label("Reason").fill("Ventilation maintenance")
    page.get_by_role("button", name="Add closure").click()
    expect(page.get_by_role("status").first).to_contain_text("(Ventilation maintenance)")
    row = page.locator("table.admin-closures tr", has_text="Ventilation maintenance")
    expect(row).to_contain_text("Manual")
    expect(row.get_by_role("link")).to_have_attribute("href", re.compile(rf"date={day.isoformat()}"))
    page.get_by_label("Date").fill(day.isoformat())
    page.get_by_label("Reason").fill("Twice")
    page.get_by_role("button", name="Add closure").click()
    expect(page.locator("#day-errors")).to_contain_text("already closed")
    row.get_by_role("button", name=re.compile("^Remove")).click()
    expect(page.get_by_role("status").first).to_contain_text("removed")
    expect(page.locator("table.admin-closures tr", has_text="Ventilation maintenance")).to_have_count(0)
