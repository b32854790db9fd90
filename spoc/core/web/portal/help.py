"""The portal's help: the plugins' articles and the ones written in the console, as one list
and one article page, and the "did this answer your question?" answers.

Answers are counted once per article per browser session (the keys answered are kept in the
signed session cookie) and the endpoint is limited per client like the portal's other actions
(``SPOC_PORTAL_ACTION_LIMIT``): one person cannot inflate a count by clicking, and a script
must also change address to do it.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import request, session
from markupsafe import Markup

from spoc.core.kernel.types import KnowledgeArticle
from spoc.core.services import Spoc

ANSWERED = "answered_articles"
MAX_REMEMBERED = 50  # the session cookie stays small


@dataclass(frozen=True)
class ArticlePage:
    """What the article page shows: ``html`` is escaped text or sanitised Markdown."""

    key: str
    title: str
    summary: str
    html: Markup
    request_types: tuple[str, ...]
    language: str | None = None


def reader_languages(spoc: Spoc) -> list[str]:
    """The reader's languages, best first: ``?lang=``, then the browser's."""
    wanted = [request.args.get("lang", "").strip()[:16]]
    wanted += [lang for lang, _ in request.accept_languages]
    return [lang for lang in wanted if lang]


def help_articles(
    spoc: Spoc, *, query: str = "", request_type: str | None = None, limit: int = 8
) -> list[KnowledgeArticle]:
    """The plugins' and the console's published articles in one list, by ``order`` then key."""
    plugin = [
        a
        for a in spoc.host.articles
        if (not query or a.matches(query))
        and (request_type is None or request_type in a.request_types)
    ]
    written = spoc.articles.portal_list(
        query=query, request_type=request_type, languages=reader_languages(spoc), limit=limit
    )
    return sorted([*plugin, *written], key=lambda a: (a.order, a.key))[:limit]


def article_page(spoc: Spoc, key: str) -> ArticlePage | None:
    """The article ``key`` as the page shows it, or ``None`` when the portal has none."""
    plugin = spoc.host.articles.get(key)
    if plugin is not None:
        paragraphs = [p.strip() for p in plugin.body.split("\n\n") if p.strip()]
        html = Markup("").join(Markup("<p>{}</p>\n").format(p) for p in paragraphs)
        return ArticlePage(key, plugin.title, plugin.summary, html, plugin.request_types)
    written = spoc.articles.published(key, reader_languages(spoc))
    if written is None:
        return None
    return ArticlePage(
        key,
        written.title,
        written.summary,
        # Sanitised by nh3 in the domain (see spoc.core.domain.knowledge.markdown).
        Markup(written.html),  # noqa: S704
        written.request_types,
        written.language,
    )


def already_answered(key: str) -> bool:
    return key in session.get(ANSWERED, [])


def remember_answer(key: str) -> None:
    answered = [k for k in session.get(ANSWERED, []) if isinstance(k, str) and k != key]
    session[ANSWERED] = [*answered, key][-MAX_REMEMBERED:]
