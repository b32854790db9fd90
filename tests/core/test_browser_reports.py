"""End to end in a real headless Chromium: a viewer signs in, lands on Reports, sees the
charts with their tables, and axe-core finds nothing serious on the page.

Needs Debian's ``chromium`` (``apt-get install chromium``); ``.ci/run`` installs it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from spoc import Status
from spoc.core.services import spoc_of
from tests.browser import chromium_page, org_served
from tests.conftest import PASSWORD

pytestmark = pytest.mark.slow

BLOCKING = {"serious", "critical"}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with org_served(tmp_path_factory.mktemp("reports-e2e"), "val") as (url, app, org):
        spoc = spoc_of(app)
        dana = org.actor(org.dana)
        for n in range(4):
            rid = org.file(fields={"summary": f"Where is invoice {n}?"})
            spoc.requests.post_message(rid, dana, "Here it is")
            if n < 3:
                spoc.requests.transition(rid, Status.RESOLVED, dana)
                spoc.requests.give_feedback(rid, org.requester(rid), 4 + n % 2, "Quick, thank you")
        yield url


def test_a_viewer_lands_on_reports_and_reads_the_charts(base: str) -> None:
    with chromium_page() as page:
        page.goto(f"{base}/console/login")
        page.get_by_label("Email").fill("val@example.org")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(f"{base}/console/reports")
        expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
        # The charts are images with names, each followed by its table.
        charts = page.get_by_role("img")
        assert charts.count() >= 4
        expect(page.get_by_role("img", name="New and resolved by day")).to_be_visible()
        expect(page.get_by_role("table", name="New and resolved by day")).to_be_attached()
        expect(page.get_by_text("Quick, thank you").first).to_be_visible()
        results = Axe().run(page)
        serious = [
            f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"]
            if v.get("impact") in BLOCKING
        ]
        assert serious == []
        # Printed, the page keeps its figures and drops the navigation and forms.
        page.emulate_media(media="print")
        expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
        expect(page.get_by_role("img", name="New and resolved by day")).to_be_visible()
