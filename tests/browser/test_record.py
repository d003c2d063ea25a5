"""Chromium on a 10" tablet: the demo nurse fills an infusion record; the next dose shows the reaction."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import Page, expect

from clinic.demo_data import SITE
from clinic.extensions import db
from clinic.protocols.models import Protocol
from clinic.scheduling.models import Appointment
from tests.browser.conftest import sign_in_as

TABLET = {"width": 1024, "height": 768}
ZONE = ZoneInfo(SITE["timezone"])


def appointment_with_a_next_dose(app: Flask) -> tuple[int, int, str]:
    """Return a scheduled appointment from today on, the patient's next dose of the drug, and the drug."""
    today = datetime.now(ZONE).date()
    from_today = datetime.combine(today, time(0), ZONE).astimezone(UTC)
    from_tomorrow = from_today + timedelta(days=1)
    with app.app_context():
        rows = db.session.execute(
            sa.select(Appointment.id, Appointment.patient_id, Appointment.start_at, Protocol.drug)
            .join(Protocol, Appointment.protocol_id == Protocol.id)
            .where(Appointment.status == "scheduled", Appointment.start_at >= from_today,
                   Appointment.observation_minutes > 0)
            .order_by(Appointment.start_at)
        ).all()
        for appointment_id, patient_id, start_at, drug in rows:
            following = db.session.execute(
                sa.select(Appointment.id, Appointment.start_at)
                .join(Protocol, Appointment.protocol_id == Protocol.id)
                .where(Appointment.patient_id == patient_id, Protocol.drug == drug,
                       Appointment.status == "scheduled", Appointment.start_at > start_at)
                .order_by(Appointment.start_at).limit(1)
            ).first()
            if following is not None and following.start_at >= from_tomorrow:
                db.session.remove()
                return appointment_id, following.id, drug
        db.session.remove()
    raise AssertionError("the demo books later doses for its series")


def acknowledge_critical_flags(page: Page) -> None:
    """Click Acknowledge on every critical flag, one page load at a time."""
    buttons = page.locator(".flag-critical").get_by_role("button", name="Acknowledge")
    while buttons.count():
        buttons.first.click()
        expect(page.get_by_role("status").first).to_contain_text("Acknowledged")


def test_nurse_records_an_infusion_with_a_grade_2_reaction(page: Page, base_url: str, live_app: Flask) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    appointment_id, next_id, drug = appointment_with_a_next_dose(live_app)
    page.set_viewport_size(TABLET)
    sign_in_as(page, base_url, "nurse")
    page.goto(f"{base_url}/appointments/{appointment_id}")

    page.locator("#step-check_in").get_by_role("button", name=re.compile("^Check in")).click()
    expect(page.get_by_role("status").first).to_contain_text("Checked in at")

    precheck = page.locator("#step-precheck")
    page.screenshot(path="/tmp/record-precheck.png", full_page=True)
    precheck.get_by_role("group", name="Active infection or fever in the last days?").get_by_text("No").click()
    for label, value in (("Temperature (°C)", "36.7"), ("Heart rate (/min)", "76"), ("Systolic BP (mmHg)", "128"),
                         ("Diastolic BP (mmHg)", "79"), ("Respiratory rate (/min)", "15"), ("SpO₂ (%)", "98")):
        precheck.get_by_label(label).fill(value)
    precheck.get_by_role("button", name="Save pre-check").click()
    expect(page.get_by_role("status").first).to_contain_text("Pre-check recorded")

    acknowledge_critical_flags(page)
    page.locator("#step-start").get_by_role("button", name="Start the infusion").click()
    expect(page.get_by_role("status").first).to_contain_text("Infusion started at")

    during = page.locator("#step-during")
    during.get_by_label("Heart rate (/min)").fill("82")
    during.get_by_label("SpO₂ (%)").fill("97")
    during.get_by_role("button", name="Add vitals").click()
    expect(page.locator("#step-during table.obs tbody tr")).to_have_count(1)

    page.locator("#step-end").get_by_role("button", name="End the infusion").click()
    expect(page.locator(".timer")).to_contain_text("of observation left")

    post = page.locator("#step-post")
    page.screenshot(path="/tmp/record-post-form.png", full_page=True)
    post.get_by_text(re.compile(r"^Grade 2 \(moderate\)")).click()
    post.get_by_text("Flushing").click()
    post.get_by_label("Actions taken").fill("Infusion paused 10 min, cetirizine 10 mg given")
    post.get_by_role("button", name="Save observation").click()
    expect(page.locator("#step-post table.obs")).to_contain_text("Grade 2")
    page.screenshot(path="/tmp/record-tablet.png", full_page=True)

    complete = page.locator("#step-complete")
    complete.get_by_label("Lot number").fill("DEMO-LOT-0042")
    complete.get_by_role("button", name="Complete and discharge").click()
    expect(page.locator("#complete-override_reason-errors")).to_contain_text("give a reason to discharge early")
    expect(complete.get_by_label("Lot number")).to_have_value("DEMO-LOT-0042")
    complete.get_by_label("Reason to discharge early").fill("Reviewed by the prescriber; symptoms settled")
    complete.get_by_role("button", name="Complete and discharge").click()
    expect(page.get_by_role("status").first).to_contain_text("Completed")
    expect(page.locator(".page-head .status")).to_have_text("completed")

    page.goto(f"{base_url}/appointments/{next_id}")
    reaction = page.locator("#flags .flag-warning", has_text="infusion reaction")
    expect(reaction).to_contain_text(f"Grade 2 infusion reaction to {drug}")
    expect(reaction).to_contain_text("premedicate and use a slower rate")
    assert errors == []
