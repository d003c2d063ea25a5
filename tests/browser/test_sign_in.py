"""Chromium signs in as the demo scheduler and sees the home page."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in_as


def test_scheduler_signs_in_and_sees_home(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/")
    expect(page).to_have_url(f"{base_url}/login?next=%2F")
    sign_in_as(page, base_url, "scheduler")
    expect(page).to_have_url(f"{base_url}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Today is")
    expect(page.locator(".who")).to_contain_text("Jonas Weber")
    expect(page.locator(".who")).to_contain_text("scheduler")
    expect(page.get_by_role("link", name="Schedule").first).to_be_visible()
    expect(page.get_by_role("link", name="Patients").first).to_be_visible()
    expect(page.get_by_role("link", name="Protocols").first).to_be_visible()


def test_wrong_password_shows_one_generic_message(page: Page, base_url: str) -> None:
    sign_in_as(page, base_url, "scheduler", password="wrong-password")
    expect(page.get_by_role("alert")).to_have_text("Invalid username or password.")


def test_patient_search_in_the_browser(page: Page, base_url: str) -> None:
    sign_in_as(page, base_url, "nurse")
    page.get_by_label("Find a patient").fill("RIC-100101")
    page.keyboard.press("Enter")
    expect(page.locator("table.list tbody tr")).to_have_count(1)
    page.locator("table.list tbody a").first.click()
    expect(page.get_by_role("heading", name="Diagnoses")).to_be_visible()
