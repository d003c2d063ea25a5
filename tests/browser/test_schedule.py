"""Chromium opens the day schedule, follows a block and prints the day."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import Page, expect

from clinic.demo_data import SITE
from clinic.domain.calendar import format_day
from clinic.extensions import db
from clinic.scheduling.models import INACTIVE_STATUSES, Appointment
from tests.browser.conftest import sign_in_as


def busy_day(app: Flask) -> date:
    """Return the local day holding the most active demo appointments."""
    zone = ZoneInfo(SITE["timezone"])
    with app.app_context():
        starts = db.session.scalars(
            sa.select(Appointment.start_at).where(Appointment.status.not_in(INACTIVE_STATUSES))
        ).all()
        db.session.remove()
    days = Counter(start.astimezone(zone).date() for start in starts)
    assert days, "the demo seeds appointments"
    return days.most_common(1)[0][0]


def test_scheduler_opens_the_day_and_follows_a_block(page: Page, base_url: str, live_app: Flask) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in_as(page, base_url, "scheduler")
    page.locator(".topbar").get_by_role("link", name="Schedule").click()
    today = datetime.now(ZoneInfo(SITE["timezone"])).date()
    expect(page.get_by_role("heading", level=1)).to_contain_text(format_day(today))
    expect(page.locator(".timeline, .closed-banner")).to_have_count(1)

    day = busy_day(live_app)
    page.get_by_label("Date").fill(day.isoformat())
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(format_day(day))
    blocks = page.locator(".timeline a.block")
    expect(blocks.first).to_be_visible()
    expect(page.locator(".lane-chair")).to_have_count(12)
    expect(page.locator(".lane-load").first).to_contain_text("Starts")
    expect(page.locator(".day-summary")).to_contain_text("% used")
    page.screenshot(path="/tmp/schedule.png")

    patient = blocks.first.locator("strong").first.inner_text()
    blocks.first.click()
    expect(page).to_have_url(re.compile(r"/appointments/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(patient)
    assert errors == []


def test_print_view_has_the_day_and_no_navigation(page: Page, base_url: str, live_app: Flask) -> None:
    day = busy_day(live_app)
    sign_in_as(page, base_url, "nurse")
    page.goto(f"{base_url}/schedule/?date={day.isoformat()}")
    page.get_by_role("link", name="Print view").click()
    expect(page).to_have_url(re.compile(rf"/schedule/print\?site_id=\d+&date={day.isoformat()}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{SITE['name']} — {format_day(day)}")
    expect(page.locator("table.sheet tbody tr").first).to_contain_text("RIC-")
    expect(page.locator("table.sheet td.status-cell").first).to_have_text(
        re.compile("SCHEDULED|CHECKED IN|IN CHAIR|COMPLETED|HELD|CANCELLED|NO-SHOW")
    )
    assert page.locator("nav").count() == 0 and page.locator(".topbar").count() == 0
