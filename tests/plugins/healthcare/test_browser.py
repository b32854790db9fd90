"""The patient and the navigator in a real headless Chromium, with axe-core on every page:
a red-flag request shows the emergency notice, the navigator books the slot on the panel,
the patient sees it; a stranger meets the break-glass form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from spoc import create_app
from spoc.core.services import spoc_of
from tests.browser import console_sign_in, served
from tests.conftest import give_password
from tests.core.test_browser_journey import accessible, browser_page
from tests.plugins.healthcare.conftest import Hospital, make_hospital

__all__ = ["browser_page"]
pytestmark = pytest.mark.slow  # a real browser against a server


@pytest.fixture(scope="module")
def hospital_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, Flask, Hospital]]:
    folder = tmp_path_factory.mktemp("e2e-healthcare")
    app = create_app(
        env="test",
        database_url=f"sqlite:///{folder / 'e2e.sqlite'}",
        plugins=["generic", "healthcare"],
        instance_path=Path(folder),
        base_url="http://127.0.0.1",
        timezone="UTC",
    )
    spoc = spoc_of(app)
    spoc.upgrade_database()
    hospital = make_hospital(app)
    give_password(spoc, hospital.org.dana)
    give_password(spoc, hospital.org.sam)
    with served(app) as base:
        yield base, app, hospital
    spoc.db.dispose()


def sign_in(page: Page, base: str, email: str) -> None:
    console_sign_in(page, base, email)
    expect(page.get_by_role("heading", name="My requests")).to_be_visible()


def test_red_flag_booking_and_break_glass_in_the_browser(
    hospital_server: tuple[str, Flask, Hospital], browser_page: Page
) -> None:
    base, _, hospital = hospital_server
    page = browser_page
    scans: list[tuple[str, list[str]]] = []

    # The patient follows their navigator's link and asks for an appointment.
    link = hospital.spoc.links.create_intake_link(hospital.patient.id)
    page.goto(f"{base}/s/{link}")
    accessible(page, scans)
    page.get_by_role("link", name="Book, move or cancel an appointment").click()
    accessible(page, scans)
    page.get_by_label("Your name").fill("Maria Anders")
    page.get_by_label("Your email").fill("maria@example.com")
    page.get_by_label("Book", exact=True).check()
    page.get_by_label("Service").fill("Cardiology")
    page.get_by_label("What it is for").fill("Chest pain when I climb the stairs")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_role("alert").first).to_contain_text("emergency number")
    expect(page.get_by_text("Your appointment")).to_be_visible()
    accessible(page, scans)
    tracking_url = page.url.split("?")[0]

    # Her navigator sees the patient panel and books the slot.
    sign_in(page, base, hospital.org.dana.email)
    page.get_by_role("link", name="REQ-00001").click()
    expect(page.get_by_text("No details in voicemail or email")).to_be_visible()
    accessible(page, scans)
    page.get_by_label("Action").select_option("confirm")
    page.get_by_label("Start (local time)").fill("2026-03-10T09:30")
    page.get_by_label("End (local time)").fill("2026-03-10T10:00")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("Appointment updated.")).to_be_visible()
    accessible(page, scans)

    # A navigator who does not look after her must say why.
    sign_in(page, base, hospital.org.sam.email)
    page.goto(f"{base}/console/requests/1")
    expect(page.get_by_role("heading", name="Why do you need this record?")).to_be_visible()
    accessible(page, scans)
    page.get_by_label("Reason").fill("Patient on the phone while Dana is away")
    page.get_by_role("button", name="Open the record").click()
    expect(page.get_by_text(re.compile(r"^APT-[0-9A-Z]{10}$"))).to_be_visible()

    # The patient sees the booked time and can download the invitation.
    page.context.clear_cookies()
    page.goto(tracking_url)
    expect(page.get_by_text("Tuesday 10 March 2026, 09:30")).to_be_visible()
    expect(page.get_by_role("link", name="Calendar invitation (iCalendar)")).to_be_visible()
    accessible(page, scans)

    failures = [f"{url}: {problem}" for url, problems in scans for problem in problems]
    assert not failures, "axe-core found serious or critical violations:\n" + "\n".join(failures)
    assert len(scans) >= 7
