"""API operation on full-text search (``spoc.core.domain.search``)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, request

import spoc.core.web.api.schemas as s
from spoc.core.domain.search import KINDS, SearchHit, Snippet
from spoc.core.kernel.errors import ValidationFailed
from spoc.core.services import spoc_of
from spoc.core.web.api.base import ProblemError, operation, parse, require_agent, respond


@operation(
    "GET",
    "/search",
    summary="Search requests, contacts, subjects and articles the caller may read",
    tag="search",
    query=s.SearchQuery,
    response=s.SearchPage,
    errors=(401, 403, 422),
)
def search() -> Response:
    actor = require_agent()
    query: s.SearchQuery = parse(s.SearchQuery, request.args.to_dict(), "query")
    kinds = [k.strip() for k in query.kind.split(",")] if query.kind else list(KINDS)
    spoc = spoc_of()
    try:
        page = spoc.search.query(
            actor, query.q, kinds=kinds, limit=query.limit, cursor=query.cursor
        )
    except ValidationFailed as exc:
        # The domain names its arguments; the API names them where they came from.
        errors = [{"field": f"query.{k}", "message": v} for k, v in exc.errors.items()]
        raise ProblemError(422, "Validation failed", str(exc), errors=errors) from None
    items = [_hit(hit, spoc.requests.reference) for hit in page.hits]
    return respond(s.SearchPage(items=items, next_cursor=page.next))


def _hit(hit: SearchHit, reference: Callable[[int], str]) -> s.SearchHitOut:
    return s.SearchHitOut(
        kind=hit.kind,
        id=hit.id,
        key=hit.key,
        reference=reference(hit.id) if hit.kind == "request" and hit.id is not None else None,
        title=_parts(hit.title),
        snippet=_parts(hit.snippet),
    )


def _parts(snippet: Snippet) -> list[s.SnippetPart]:
    return [s.SnippetPart(text=text, match=match) for text, match in snippet.parts]
