"""The console's assist page for one request: possible duplicates among the open requests
(with "merge"), the public replies of similar resolved ones (each a draft for the reply box),
the type, priority and team the similar requests had with the requests that say so, and
articles to link. Everything listed is what the agent may read (see
:mod:`spoc.core.domain.assist.service`)."""

from __future__ import annotations

from flask import render_template
from werkzeug.wrappers import Response

from spoc.core.domain.access import AccessReasonRequired
from spoc.core.domain.reads.detail import RequestDetail
from spoc.core.kernel.errors import NotFoundError
from spoc.core.services import spoc_of
from spoc.core.web.console.access import opened_detail
from spoc.core.web.console.auth import EVERYONE, actor, bp, role_required


@bp.get("/requests/<int:request_id>/assist")
@role_required(*EVERYONE)
def request_assist(request_id: int) -> str | Response:
    spoc = spoc_of()
    detail = opened_detail(request_id)
    if isinstance(detail, Response):
        return detail
    found = spoc.suggestions.for_request(actor(), request_id)
    return render_template(
        "console/request_assist.html",
        req=detail,
        found=found,
        type_titles={t.key: t.title for t in spoc.host.request_types},
        base_url=spoc.settings.base_url.rstrip("/"),
    )


def drafted_reply(detail: RequestDetail, given: str) -> str | None:
    """``?draft=<id>``: the latest public reply of request ``id`` (one the agent may read),
    to start the reply box from; ``None`` when there is none to use."""
    if not given.isdigit() or not detail.may.reply:
        return None
    spoc = spoc_of()
    try:
        source = spoc.requests.detail(int(given), actor(), channel="console")
    except (NotFoundError, AccessReasonRequired):
        return None
    if source.private:  # its replies are read on its own page
        return None
    found = spoc.suggestions.public_replies([int(given)]).get(int(given))
    return found[0] if found else None
