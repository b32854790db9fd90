"""The portal's "check for answers": before filing, a requester describes the problem and
sees the articles and the replies to similar resolved requests that may answer it, and the
request types it sounds like.

Without JavaScript ``/ask`` is a plain GET form and its result page; with it
(``static/portal-assist.js``) the same suggestions follow the typing, from
``/ask/suggestions`` (JSON), on that page and beside a request form's first text box.

The public sees no private request at all, and of the others only what an agent replied
publicly: never the request's own text, its reference or who asked (see
:mod:`spoc.core.domain.assist.service`). "This answered my question" on a reply is counted
once per browser session, as articles' answers are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import flash, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from spoc.core.domain.assist.service import ArticleSuggestion
from spoc.core.domain.assist.suggestions import Guess, PastAnswer
from spoc.core.kernel.errors import ValidationFailed
from spoc.core.services import Spoc, spoc_of
from spoc.core.web.portal.help import already_answered, reader_languages, remember_answer
from spoc.core.web.portal.views import bp

SHOWN = 3  # articles, replies and types each
REPLY_KEY = "assist.reply:"  # + the request's id: what the session remembers as answered


@dataclass
class Found:
    """What ``/ask`` shows for one description."""

    text: str = ""
    articles: list[ArticleSuggestion] = field(default_factory=list)
    answers: list[PastAnswer] = field(default_factory=list)
    types: list[Guess] = field(default_factory=list)
    error: str | None = None

    @property
    def nothing(self) -> bool:
        return bool(self.text) and not (self.articles or self.answers or self.types)


def language(spoc: Spoc) -> str | None:
    """The reader's first language's primary tag (``pt-BR`` is ``pt``), or ``None``."""
    wanted = reader_languages(spoc)
    return wanted[0].split("-")[0].lower() if wanted else None


def suggestions_for(spoc: Spoc, text: str) -> Found:
    """The public's suggestions for ``text``; a text assist cannot use gives ``error``."""
    if not text.strip():
        return Found()
    spoken = language(spoc)
    try:
        return Found(
            text,
            spoc.assist.articles(text, limit=SHOWN, language=spoken),
            spoc.suggestions.answers(None, text, limit=SHOWN, language=spoken),
            spoc.suggestions.types(None, text, limit=SHOWN),
        )
    except ValidationFailed as exc:
        return Found(text, error=next(iter(exc.errors.values()), str(exc)))


@bp.get("/ask")
def ask() -> str:
    spoc = spoc_of()
    found = suggestions_for(spoc, request.args.get("q", "")[:2000])
    answered = {
        a.request.id for a in found.answers if already_answered(REPLY_KEY + str(a.request.id))
    }
    return render_template(
        "portal/ask.html", found=found, answered=answered, titles=_type_titles(spoc)
    )


@bp.get("/ask/suggestions")
def ask_suggestions() -> Response:
    """The same as ``/ask``, as JSON for the page's script."""
    spoc = spoc_of()
    found = suggestions_for(spoc, request.args.get("q", "")[:2000])
    titles = _type_titles(spoc)
    body: dict[str, Any] = {
        "error": found.error,
        "articles": [
            {"title": a.title, "summary": a.summary, "url": url_for("portal.article", key=a.key)}
            for a in found.articles
        ],
        "answers": [
            {
                "id": a.request.id,
                "type": titles.get(a.request.type_key, ""),
                "body": a.body,
                "answered": already_answered(REPLY_KEY + str(a.request.id)),
            }
            for a in found.answers
        ],
        "types": [
            {
                "title": g.label,
                "url": url_for("portal.new_request", key=g.value),
            }
            for g in found.types
        ],
    }
    response = jsonify(body)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/ask/answered")
def ask_answered() -> Response:
    """ "This answered my question" on a past reply: a deflection, once per session."""
    given = request.form.get("answer", "")
    if not given.isdigit():
        raise ValidationFailed("which answer?", {"answer": "the number of the answer shown"})
    key = REPLY_KEY + given
    if not already_answered(key):
        spoc_of().articles.record_reply_answer()
        remember_answer(key)
    flash("Thank you: glad it helped.", "success")
    return redirect(url_for("portal.ask", q=request.form.get("q", "")[:2000]), code=303)


def _type_titles(spoc: Spoc) -> dict[str, str]:
    return {t.key: t.title for t in spoc.host.request_types}
