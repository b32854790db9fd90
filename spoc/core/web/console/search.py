"""The console's search: the box in the header and ``/console/search?q=``, 20 hits a page,
best first, over what the signed-in agent may read (:mod:`spoc.core.domain.search`)."""

from __future__ import annotations

from flask import render_template, request, url_for

from spoc.core.domain.search import KINDS, SearchHit
from spoc.core.kernel.errors import ValidationFailed
from spoc.core.services import spoc_of
from spoc.core.web.console.auth import EVERYONE, actor, bp, role_required

PAGE = 20
KIND_LABELS = {
    "request": "Request",
    "contact": "Contact",
    "subject": "Subject",
    "article": "Article",
}


@bp.get("/search")
@role_required(*EVERYONE)
def search() -> str | tuple[str, int]:
    text = request.args.get("q", "")
    kind = request.args.get("kind", "")
    hits: list[SearchHit] = []
    next_url, error = None, None
    if text.strip():
        try:
            page = spoc_of().search.query(
                actor(),
                text,
                kinds=[kind] if kind in KINDS else KINDS,
                limit=PAGE,
                cursor=request.args.get("after"),
            )
        except ValidationFailed as exc:
            error = next(iter(exc.errors.values()), str(exc))
        else:
            hits = page.hits
            if page.next:
                next_url = url_for("console.search", q=text, kind=kind, after=page.next)
    page_html = render_template(
        "console/search.html",
        q=text[:200],
        kind=kind,
        kinds=KIND_LABELS,
        hits=hits,
        links=[_link(hit) for hit in hits],
        next_url=next_url,
        error=error,
    )
    return (page_html, 422) if error else page_html


def _link(hit: SearchHit) -> str:
    if hit.kind == "request" and hit.id is not None:
        return url_for("console.request_detail", request_id=hit.id)
    if hit.kind == "subject" and hit.id is not None:
        return url_for("console.subject_detail", subject_id=hit.id)
    if hit.kind == "contact":
        return url_for("console.admin_contacts", email=hit.snippet.text)
    if hit.key.startswith("console:") and hit.key[8:].isdigit():
        # An article written in the console: its portal page, in its language.
        line = spoc_of().articles.get(int(hit.key[8:]))
        return url_for("portal.article", key=line.key, lang=line.language)
    return url_for("portal.article", key=hit.key)
