"""The console's assist page on a request: duplicates with merge, past replies as drafts,
the suggested type, priority and team with their evidence, articles to link (both backends)."""

from __future__ import annotations

from flask.testing import FlaskClient

from spoc.core.kernel.types import Status
from tests.conftest import Org, csrf_token, login


def embed_all(org: Org) -> None:
    while org.spoc.assist.embed_pending():
        pass


def test_the_assist_page_lists_duplicates_answers_and_suggestions(
    client: FlaskClient, org: Org
) -> None:
    spoc, dana = org.spoc, org.actor(org.dana)
    done = org.file(fields={"summary": "Printer on floor two jams on every page"})
    spoc.requests.post_message(done, dana, "Open tray 2 and pull out the torn sheet.")
    spoc.requests.transition(done, Status.RESOLVED, dana)
    twin = org.file(fields={"summary": "The printer on the second floor keeps jamming"})
    new = org.file(fields={"summary": "The printer on floor two is broken and keeps jamming"})
    embed_all(org)
    login(client, spoc, org.dana)
    page = client.get(f"/console/requests/{new}/assist").get_data(as_text=True)
    twin_ref, done_ref = spoc.requests.reference(twin), spoc.requests.reference(done)
    assert f"Merge this request into {twin_ref}" in page
    assert "Open tray 2 and pull out the torn sheet." in page
    assert f"draft={done}" in page
    assert "Ask a question" in page and done_ref in page  # the type, with its evidence
    assert "/help/generic.before_reporting" in page
    assert "/assist" in client.get(f"/console/requests/{new}").get_data(as_text=True)
    # "Use as a draft" starts the reply box from that reply, without JavaScript.
    drafted = client.get(f"/console/requests/{new}?draft={done}").get_data(as_text=True)
    assert ">Open tray 2 and pull out the torn sheet.</textarea>" in drafted
    # The merge button merges, through the console's own merge.
    token = csrf_token(client, f"/console/requests/{new}/assist")
    merged = client.post(
        f"/console/requests/{new}/relate/merge", data={"csrf_token": token, "into": twin_ref}
    )
    assert merged.status_code == 303
    assert spoc.requests.merged_into(new) is not None


def test_a_draft_from_a_request_the_agent_may_not_read_is_not_offered(
    client: FlaskClient, org: Org
) -> None:
    spoc = org.spoc
    new = org.file(fields={"summary": "Printer jams"})
    login(client, spoc, org.dana)
    page = client.get(f"/console/requests/{new}?draft=999999").get_data(as_text=True)
    assert 'maxlength="20000"></textarea>' in page
    assert client.get("/console/requests/999999/assist").status_code == 404
