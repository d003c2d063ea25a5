"""Chromium: the demo nurse opens today's flags from the nav and acknowledges one."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import Page, expect

from clinic.demo_data import SITE
from clinic.domain.calendar import format_day
from clinic.extensions import db
from clinic.scheduling.models import INACTIVE_STATUSES, Appointment
from tests.browser.conftest import sign_in_as


def first_busy_day_from_today(app: Flask) -> str:
    """Return the first local day from today on with an active demo appointment (ISO)."""
    zone = ZoneInfo(SITE["timezone"])
    start_of_today = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    with app.app_context():
        first = db.session.scalar(
            sa.select(Appointment.start_at)
            .where(Appointment.status.not_in(INACTIVE_STATUSES), Appointment.start_at >= start_of_today)
            .order_by(Appointment.start_at)
            .limit(1)
        )
        db.session.remove()
    assert first is not None, "the demo books doses this week and later"
    return first.astimezone(zone).date().isoformat()


def test_nurse_acknowledges_a_flag(page: Page, base_url: str, live_app: Flask) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in_as(page, base_url, "nurse")
    page.locator(".topbar").get_by_role("link", name=re.compile(r"^Flags\b")).click()
    today = datetime.now(ZoneInfo(SITE["timezone"])).date()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(format_day(today))
    expect(heading).to_contain_text("today")
    buttons = page.get_by_role("button", name=re.compile(r"^Acknowledge"))
    if buttons.count() == 0:  # a weekend or a closed day: go to the next day with doses
        page.get_by_label("Date").fill(first_busy_day_from_today(live_app))
        page.get_by_role("button", name="Show").click()
    expect(buttons.first).to_be_visible()
    expect(page.locator("section.flags-group h2").first).to_contain_text(re.compile("Critical|Warning|Information"))
    before = buttons.count()
    message = page.locator("tr.flag-row").filter(has=buttons.first).first.locator("td").nth(4).inner_text()
    buttons.first.click()

    expect(page.get_by_role("status")).to_contain_text("Acknowledged:")
    expect(page.get_by_role("status")).to_contain_text(message.split(":", 1)[-1].strip()[:30])
    expect(buttons).to_have_count(before - 1)
    expect(page.locator("tr.flag-row", has_text="Miriam Schulz, RN").first).to_be_visible()
    page.screenshot(path="/tmp/flags.png")
    assert errors == []
