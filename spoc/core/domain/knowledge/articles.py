"""The knowledge base written in the console: articles in Markdown, drafts and published
versions, one article per language with translations sharing a slug.

An article's portal key is ``kb.<slug>``: ``/help/kb.<slug>`` shows the published version in
the reader's language (else English, else the first written). Saving an article whose latest
version is published starts a new draft; saving again changes that draft; publishing it
replaces what the portal shows. Every published version is kept, with who published it when.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, Table, and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from spoc.core.domain.knowledge.lines import (
    PREFIX,
    ArticleDraft,
    ArticleLine,
    PublishedArticle,
    VersionLine,
)
from spoc.core.domain.knowledge.markdown import article_html
from spoc.core.domain.models import (
    ArticleFeedbackDay,
    KbArticle,
    KbArticleRequestType,
    KbArticleVersion,
)
from spoc.core.domain.writes import ServiceDeps
from spoc.core.kernel.errors import NotFoundError, PermissionDenied, ValidationFailed
from spoc.core.kernel.types import Actor, ActorKind, KnowledgeArticle, Role

__all__ = ["ArticleDraft", "ArticleLine", "ArticleService", "PublishedArticle", "VersionLine"]
from spoc.core.storage.keyset import Ordering, Page, Pager

SLUG = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
DEFAULT_LANGUAGE = "en"
MAX_TITLE, MAX_SUMMARY, MAX_BODY = 200, 500, 50_000
WRITERS = (Role.ADMIN, Role.AGENT)
PUBLISHED = Ordering("kb:published", KbArticle.id)
CONSOLE_LIST = Ordering("kb:console", KbArticle.id.desc())
REPLIES_KEY = "assist.replies"
"""Where the answers counted for assist's past replies go (no article has a key without a
plugin's prefix that could clash: the assist "plugin" is the core's)."""


class ArticleService:
    def __init__(self, deps: ServiceDeps, pager: Pager) -> None:
        self.db = deps.db
        self.clock = deps.clock
        self.host = deps.host
        self.pager = pager
        self.search = deps.search  # published articles are found by full-text search

    # --- writing ------------------------------------------------------------------------

    def create(self, actor: Actor, slug: str, language: str, draft: ArticleDraft) -> ArticleLine:
        """A new article (its first version a draft). ``slug`` makes the key ``kb.<slug>``;
        another language of the same slug is a translation. ``ValidationFailed`` names the
        field: ``slug``, ``language``, ``title``, ``summary``, ``body``, ``request_types``,
        ``plugin``."""
        _may_write(actor)
        slug, language = slug.strip().lower(), language.strip()
        if not SLUG.match(slug):
            raise ValidationFailed(
                "the slug is not valid",
                {"slug": "lower-case letters, digits and _, starting with a letter"},
            )
        if not LANGUAGE.match(language):
            raise ValidationFailed(
                "unknown language", {"language": "a language tag: en, fr, pt-BR"}
            )
        if self.host.articles.get(PREFIX + slug) is not None:
            raise ValidationFailed(
                "the key is taken", {"slug": f"a plugin's article is {PREFIX}{slug}"}
            )
        self._check(draft)
        now = self.clock.now()
        with self.db.transaction() as session:
            taken = session.scalar(
                select(KbArticle.id).where(KbArticle.slug == slug, KbArticle.language == language)
            )
            if taken is not None:
                raise ValidationFailed(
                    "the article exists", {"slug": f"{slug} is already written in {language}"}
                )
            article = KbArticle(
                slug=slug,
                language=language,
                plugin=draft.plugin,
                order=draft.order,
                published_version_id=None,
                created_at=now,
                updated_at=now,
            )
            session.add(article)
            session.flush()
            self._write_version(session, article, actor, draft, now)
            article_id = article.id
        return self.get(article_id)

    def save(self, actor: Actor, article_id: int, draft: ArticleDraft) -> ArticleLine:
        """Save an article's text: a new draft when the latest version is published (the portal
        still shows it), else the draft changes. Checked as :meth:`create` checks."""
        _may_write(actor)
        self._check(draft)
        now = self.clock.now()
        with self.db.transaction() as session:
            article = _article(session, article_id)
            article.plugin, article.order, article.updated_at = draft.plugin, draft.order, now
            self._write_version(session, article, actor, draft, now)
        return self.get(article_id)

    def publish(self, actor: Actor, article_id: int) -> ArticleLine:
        """Publish the latest draft: the portal shows it from now on. ``ValidationFailed``
        when there is no draft."""
        _may_write(actor)
        now = self.clock.now()
        with self.db.transaction() as session:
            article = _article(session, article_id)
            latest = _latest(session, article.id)
            if latest.published_at is not None:
                raise ValidationFailed("nothing to publish", {"version": "no draft to publish"})
            latest.published_at = now
            latest.published_by_agent_id = actor.id
            article.published_version_id = latest.id
            article.updated_at = now
            if self.search is not None:  # in the same transaction: found once it is shown
                self.search.put_article(
                    session,
                    f"console:{article.id}",
                    latest.title,
                    f"{latest.summary}\n{latest.body}",
                )
        return self.get(article_id)

    def unpublish(self, actor: Actor, article_id: int) -> ArticleLine:
        """Take the article off the portal; its versions stay."""
        _may_write(actor)
        with self.db.transaction() as session:
            article = _article(session, article_id)
            article.published_version_id = None
            article.updated_at = self.clock.now()
            if self.search is not None:
                self.search.remove_article(session, f"console:{article.id}")
        return self.get(article_id)

    # --- reading in the console --------------------------------------------------------

    def get(self, article_id: int) -> ArticleLine:
        """One article with its latest version's text and its history (newest first)."""
        with self.db.reader() as session:
            article = _article(session, article_id)
            versions = list(
                session.scalars(
                    select(KbArticleVersion)
                    .where(KbArticleVersion.article_id == article.id)
                    .order_by(KbArticleVersion.number.desc())
                )
            )
            types = _types_of(session, [article.id]).get(article.id, ())
        latest = versions[0]
        return ArticleLine(
            id=article.id,
            key=PREFIX + article.slug,
            slug=article.slug,
            language=article.language,
            plugin=article.plugin,
            order=article.order,
            request_types=types,
            title=latest.title,
            summary=latest.summary,
            body=latest.body,
            draft=latest.published_at is None,
            published=article.published_version_id is not None,
            versions=tuple(
                VersionLine(
                    v.id,
                    v.number,
                    v.title,
                    v.created_at,
                    v.published_at,
                    v.id == article.published_version_id,
                )
                for v in versions
            ),
        )

    def console_page(self, *, cursor: str | None = None, limit: int = 50) -> Page[ArticleLine]:
        """The console's list of articles, newest first (keyset pages)."""
        with self.db.reader() as session:
            found = self.pager.page(
                session, select(KbArticle.id), CONSOLE_LIST, limit=limit, cursor=cursor
            )
        return Page([self.get(i) for i in found.items], found.next, found.previous)

    # --- reading on the portal ---------------------------------------------------------

    def published(self, key: str, languages: Sequence[str] = ()) -> PublishedArticle | None:
        """The published article ``key`` (``kb.<slug>``) in the first of ``languages`` it is
        published in, else English, else the first written; ``None`` when none is."""
        if not key.startswith(PREFIX):
            return None
        with self.db.reader() as session:
            rows = _published_rows(session).where(KbArticle.slug == key[len(PREFIX) :])
            found = {a.language: (a, v) for a, v in session.execute(rows.order_by(KbArticle.id))}
            if not found:
                return None
            order = [*languages, DEFAULT_LANGUAGE, *found]
            language = next(lang for lang in order if lang in found)
            article, version = found[language]
            types = _types_of(session, [article.id]).get(article.id, ())
        return _published(article, version, types, tuple(found))

    def portal_list(
        self,
        *,
        query: str = "",
        request_type: str | None = None,
        languages: Sequence[str] = (),
        limit: int = 8,
    ) -> list[KnowledgeArticle]:
        """Published articles for the portal's lists, one per key (in the reader's language
        when written in it), ordered by ``order`` then key; those matching every word of
        ``query``, those for ``request_type``. At most ``limit``."""
        with self.db.reader() as session:
            rows = _published_rows(session)
            for word in query.lower().split()[:10]:
                pattern = (
                    "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
                )
                rows = rows.where(
                    or_(
                        func.lower(KbArticleVersion.title).like(pattern, escape="\\"),
                        func.lower(KbArticleVersion.summary).like(pattern, escape="\\"),
                        func.lower(KbArticleVersion.body).like(pattern, escape="\\"),
                    )
                )
            if request_type is not None:
                rows = rows.where(
                    KbArticle.id.in_(
                        select(KbArticleRequestType.article_id).where(
                            KbArticleRequestType.type_key == request_type
                        )
                    )
                )
            # A bounded read: languages of one key are few, so limit * 5 rows suffice.
            found = list(
                session.execute(
                    rows.order_by(KbArticle.order, KbArticle.slug, KbArticle.id).limit(limit * 5)
                )
            )
            types = _types_of(session, [a.id for a, _ in found])
        chosen: dict[str, tuple[KbArticle, KbArticleVersion]] = {}
        rank = {lang: i for i, lang in enumerate([*languages, DEFAULT_LANGUAGE])}
        for article, version in found:
            current = chosen.get(article.slug)
            if current is None or rank.get(article.language, 99) < rank.get(
                current[0].language, 99
            ):
                chosen[article.slug] = (article, version)
        return [
            _published(a, v, types.get(a.id, ()), ()).as_knowledge_article()
            for a, v in list(chosen.values())[:limit]
        ]

    def published_page(
        self, *, cursor: str | None = None, limit: int = 100
    ) -> Page[PublishedArticle]:
        """Every published article, every language, by id, in keyset pages: what a search
        index reads (``cursor`` is the previous page's ``next``)."""
        with self.db.reader() as session:
            found = self.pager.page(
                session, _published_rows(session), PUBLISHED, limit=limit, cursor=cursor
            )
            types = _types_of(session, [a.id for a, _ in found.items])
        return Page(
            [_published(a, v, types.get(a.id, ()), ()) for a, v in found.items],
            found.next,
            found.previous,
        )

    # --- "did this answer your question?" ---------------------------------------------

    def record_answer(self, key: str, helpful: bool) -> None:
        """Count one answer for the article ``key`` (a plugin's or ``kb.<slug>``), on today's
        row. ``NotFoundError`` for an article the portal does not show."""
        if self.host.articles.get(key) is None and self.published(key) is None:
            raise NotFoundError(f"no article {key}")
        self._count(key, ArticleFeedbackDay.yes if helpful else ArticleFeedbackDay.no)

    def record_reply_answer(self) -> None:
        """Count one "this answered my question" for a reply assist showed (a resolved similar
        request's): a deflection like an article's, on the row :data:`REPLIES_KEY`."""
        self._count(REPLIES_KEY, ArticleFeedbackDay.yes)

    def record_view(self, key: str) -> None:
        """Count one view of the article ``key`` on today's row (the reports' deflection
        figures); the caller has just shown the article."""
        self._count(key, ArticleFeedbackDay.views)

    def _count(self, key: str, column: Any) -> None:
        day = self.clock.now().date()
        table = ArticleFeedbackDay.__table__
        assert isinstance(table, Table)
        for attempt in (1, 2):
            try:
                with self.db.transaction() as session:
                    # One statement adds the answer; the day's row is made by its first one
                    # (two first answers at once: the loser's insert fails, its retry adds).
                    counted = session.execute(
                        update(table)
                        .where(table.c.article_key == key, table.c.day == day)
                        .values({column.key: column + 1})
                    )
                    if not counted.rowcount:  # type: ignore[attr-defined]
                        counts = {"yes": 0, "no": 0, "views": 0, column.key: 1}
                        session.add(ArticleFeedbackDay(article_key=key, day=day, **counts))
                return
            except IntegrityError:
                if attempt == 2:
                    raise

    def answer_counts(self, key: str, since: date | None = None) -> list[tuple[date, int, int]]:
        """``(day, yes, no)`` for the article ``key``, oldest first (the reports read it)."""
        with self.db.reader() as session:
            query = select(ArticleFeedbackDay).where(ArticleFeedbackDay.article_key == key)
            if since is not None:
                query = query.where(ArticleFeedbackDay.day >= since)
            return [
                (r.day, r.yes, r.no)
                for r in session.scalars(query.order_by(ArticleFeedbackDay.day))
            ]

    # --- helpers -----------------------------------------------------------------------

    def _check(self, draft: ArticleDraft) -> None:
        errors: dict[str, str] = {}
        if not draft.title.strip():
            errors["title"] = "give the article a title"
        elif len(draft.title) > MAX_TITLE:
            errors["title"] = f"at most {MAX_TITLE} characters"
        if len(draft.summary) > MAX_SUMMARY:
            errors["summary"] = f"at most {MAX_SUMMARY} characters"
        if not draft.body.strip():
            errors["body"] = "write the article"
        elif len(draft.body) > MAX_BODY:
            errors["body"] = f"at most {MAX_BODY:,} characters"
        if any("\x00" in text for text in (draft.title, draft.summary, draft.body)):
            errors["body"] = "no NUL characters"
        unknown = [k for k in draft.request_types if self.host.request_types.get(k) is None]
        if unknown:
            errors["request_types"] = "unknown request type " + ", ".join(unknown)
        if draft.plugin is not None and draft.plugin not in self.host.enabled:
            errors["plugin"] = f"no enabled plugin {draft.plugin!r}"
        if errors:
            raise ValidationFailed("the article was not saved", errors)

    def _write_version(
        self,
        session: Session,
        article: KbArticle,
        actor: Actor,
        draft: ArticleDraft,
        now: datetime,
    ) -> None:
        latest = session.scalar(
            select(KbArticleVersion)
            .where(KbArticleVersion.article_id == article.id)
            .order_by(KbArticleVersion.number.desc())
            .limit(1)
        )
        if latest is None or latest.published_at is not None:
            latest = KbArticleVersion(
                article_id=article.id,
                number=(latest.number + 1) if latest else 1,
                created_at=now,
            )
            session.add(latest)
        latest.title = draft.title.strip()
        latest.summary = draft.summary.strip()
        latest.body = draft.body
        latest.author_agent_id = actor.id
        latest.updated_at = now
        session.execute(
            delete(KbArticleRequestType).where(KbArticleRequestType.article_id == article.id)
        )
        session.add_all(
            KbArticleRequestType(article_id=article.id, type_key=k)
            for k in dict.fromkeys(draft.request_types)
        )


def _may_write(actor: Actor) -> None:
    if actor.kind is not ActorKind.AGENT or actor.role not in WRITERS:
        raise PermissionDenied("only admins and agents write knowledge articles")


def _article(session: Session, article_id: int) -> KbArticle:
    article = session.get(KbArticle, article_id)
    if article is None:
        raise NotFoundError(f"no article {article_id}")
    return article


def _latest(session: Session, article_id: int) -> KbArticleVersion:
    latest = session.scalar(
        select(KbArticleVersion)
        .where(KbArticleVersion.article_id == article_id)
        .order_by(KbArticleVersion.number.desc())
        .limit(1)
    )
    assert latest is not None  # an article is created with its first version
    return latest


def _published_rows(session: Session) -> Select[KbArticle, KbArticleVersion]:
    return select(KbArticle, KbArticleVersion).join(
        KbArticleVersion,
        and_(
            KbArticleVersion.id == KbArticle.published_version_id,
            KbArticleVersion.article_id == KbArticle.id,
        ),
    )


def _types_of(session: Session, ids: Iterable[int]) -> dict[int, tuple[str, ...]]:
    wanted = list(ids)
    if not wanted:
        return {}
    found: dict[int, list[str]] = {}
    rows = session.execute(
        select(KbArticleRequestType.article_id, KbArticleRequestType.type_key)
        .where(KbArticleRequestType.article_id.in_(wanted))
        .order_by(KbArticleRequestType.type_key)
    )
    for article_id, type_key in rows:
        found.setdefault(article_id, []).append(type_key)
    return {k: tuple(v) for k, v in found.items()}


def _published(
    article: KbArticle,
    version: KbArticleVersion,
    types: tuple[str, ...],
    languages: tuple[str, ...],
) -> PublishedArticle:
    assert version.published_at is not None
    return PublishedArticle(
        id=article.id,
        key=PREFIX + article.slug,
        language=article.language,
        title=version.title,
        summary=version.summary,
        body=version.body,
        html=article_html(version.body),
        request_types=types,
        plugin=article.plugin,
        order=article.order,
        published_at=version.published_at,
        languages=languages,
    )
