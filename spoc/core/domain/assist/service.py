"""``spoc.assist``: similar requests and articles for a text, by the chosen engine, showing
exactly what the reader may read.

Readers: an agent sees what search would show them (:func:`request_rule`: a private request
only when they are responsible for it); the system sees everything (the evaluation); ``None``
is the public — the portal's requester, who sees no private request at all and, of the others,
only what an agent said publicly (see :mod:`spoc.core.domain.assist.suggestions`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, exists, false, select, true
from sqlalchemy.orm import Session

from spoc.core.domain.access import private_request
from spoc.core.domain.assist.encoders import LEXICAL, chosen_engine, encoders
from spoc.core.domain.assist.lexical import description_terms, ranked
from spoc.core.domain.assist.vectors import BATCH, VectorStore
from spoc.core.domain.knowledge.lines import PREFIX
from spoc.core.domain.models import KbArticle, KbArticleVersion, Request, Subject
from spoc.core.domain.search.query import request_rule
from spoc.core.domain.search.tables import documents
from spoc.core.domain.search.text import words
from spoc.core.kernel.assist import SentenceEncoder
from spoc.core.kernel.errors import ValidationFailed
from spoc.core.kernel.types import Actor, ActorKind, Priority, Status
from spoc.core.storage.db import Database

if TYPE_CHECKING:
    from spoc.core.domain.search.index import SearchIndex
    from spoc.core.platform.dispatch import Hooks
    from spoc.core.platform.plugins import PluginHost
    from spoc.core.platform.settings import Settings

TEXT_MAX = 2000
"""The longest description accepted, in characters."""
ARTICLE_FLOOR = 0.12
"""A semantic engine's article is proposed only this close (cosine) or closer: on the labelled
set 97 % of the right articles score above it, unrelated words (``zebra quartz``) 0.09."""
OPEN = (Status.NEW, Status.OPEN, Status.WAITING)
RESOLVED = (Status.RESOLVED, Status.CLOSED)


@dataclass(frozen=True)
class SimilarRequest:
    """A request like the text: higher ``score`` is closer (comparable within one engine).
    A ``private`` one's ``summary`` is its type's title, as search shows it: what it says is
    read on its own page, where the read is recorded (``spoc_staff_access``)."""

    id: int
    reference: str
    type_key: str
    summary: str
    status: Status
    priority: Priority
    owner_team_id: int | None
    score: float
    private: bool = False


@dataclass(frozen=True)
class ArticleSuggestion:
    """An article that may answer the text: ``key`` is its portal key (``/help/<key>``)."""

    key: str
    title: str
    summary: str
    score: float


def clean_text(given: object, *, field: str = "text") -> str:
    """A description to match, or :class:`ValidationFailed` naming ``field``."""
    if not isinstance(given, str) or not words(given):
        raise ValidationFailed("nothing to match", {field: "describe the problem in a few words"})
    if "\x00" in given:
        raise ValidationFailed("cannot match that", {field: "contains a NUL character"})
    if len(given) > TEXT_MAX:
        raise ValidationFailed("the text is too long", {field: f"at most {TEXT_MAX} characters"})
    return given.strip()


class AssistService:
    def __init__(
        self,
        db: Database,
        host: PluginHost,
        hooks: Hooks,
        settings: Settings,
        reference: Callable[[int], str],
        index: SearchIndex,
    ) -> None:
        self.db = db
        self.index = index
        self._articles_synced = False
        self._article_vectors: set[str] = set()  # engines whose article vectors are synced
        self.host = host
        self.hooks = hooks
        self.settings = settings
        self.reference = reference
        self.vectors = VectorStore(db, host)
        self._encoders: dict[str, SentenceEncoder] | None = None
        self.prefix = words(settings.reference_prefix)

    # --- engines -----------------------------------------------------------------------------

    @property
    def encoders(self) -> dict[str, SentenceEncoder]:
        """The semantic engines available, by name (built on first use: plugins answer)."""
        if self._encoders is None:
            self._encoders = encoders(self.hooks)
        return self._encoders

    @property
    def engine(self) -> str:
        """The engine suggestions use (``SPOC_ASSIST_ENGINE``)."""
        return chosen_engine(self.settings.assist_engine, self.encoders)

    def engines(self) -> list[str]:
        """Every engine's name: ``lexical`` first, then the semantic ones."""
        return [LEXICAL, *self.encoders]

    def encoder_for(self, engine: str | None) -> SentenceEncoder | None:
        """The semantic engine named ``engine`` (the chosen one for ``None``); ``None`` for
        ``lexical``. An unknown name is :class:`ValidationFailed` naming ``engine``."""
        name = engine or self.engine
        if name == LEXICAL:
            return None
        found = self.encoders.get(name)
        if found is None:
            raise ValidationFailed("unknown engine", {"engine": f"one of {self.engines()}"})
        return found

    def _sync_plugin_articles(self) -> None:
        """The index holds the enabled plugins' articles (once per process, as search does)."""
        if not self._articles_synced:
            with self.db.transaction() as session:
                self.index.sync_plugin_articles(session)
            self._articles_synced = True

    # --- the worker --------------------------------------------------------------------------

    def embed_pending(self) -> bool:
        """The worker's share: articles kept in step, then a batch of queued requests; whether
        more requests are waiting. Nothing to do when suggestions are lexical."""
        encoder = self.encoder_for(None)
        if encoder is None:
            return False
        self._sync_plugin_articles()
        with self.db.transaction() as session:
            self.vectors.sync_articles(session, encoder)
        return self.vectors.embed_pending(encoder, BATCH)

    def rebuild(self, engine: str | None = None, progress: Any = None) -> int:
        """Embed every request and article now with ``engine`` (the chosen one by default),
        in batches by id; how many requests were embedded."""
        encoder = self.encoder_for(engine)
        if encoder is None:
            return 0
        self._sync_plugin_articles()
        with self.db.transaction() as session:
            self.vectors.sync_articles(session, encoder)
        done, after = 0, 0
        while True:
            with self.db.transaction() as session:
                ids = list(
                    session.scalars(
                        select(Request.id)
                        .where(Request.id > after)
                        .order_by(Request.id)
                        .limit(BATCH)
                    )
                )
                if not ids:
                    return done
                done += self.vectors.embed_requests(session, encoder, ids)
            after = ids[-1]
            if progress is not None:
                progress(done)

    # --- similar requests --------------------------------------------------------------------

    def similar_requests(
        self,
        reader: Actor | None,
        text: str,
        *,
        statuses: Collection[Status] | None = None,
        exclude: Collection[int] = (),
        limit: int = 5,
        language: str | None = None,
        engine: str | None = None,
    ) -> list[SimilarRequest]:
        """The requests most like ``text`` that ``reader`` may read, best first; only of
        ``statuses`` when given, never those of ``exclude``."""
        text = clean_text(text)
        encoder = self.encoder_for(engine)
        with self.db.reader() as session:
            if encoder is None:
                found = self._lexical_requests(session, reader, text, statuses, exclude, limit)
            else:
                found = self._semantic_requests(
                    session, encoder, reader, text, statuses, exclude, limit, language
                )
            rows = {r.id: r for r in session.scalars(select(Request).where(Request.id.in_(found)))}
            kinds = dict(
                session.execute(
                    select(Subject.id, Subject.kind).where(
                        Subject.id.in_({r.subject_id for r in rows.values() if r.subject_id})
                    )
                ).all()
            )
        similar = []
        for request_id, score in found.items():
            r = rows.get(request_id)
            if r is None:
                continue
            kind = kinds.get(r.subject_id) if r.subject_id else None
            private = private_request(self.host, r.type_key, kind)
            request_type = self.host.request_types.get(r.type_key)
            shown = (request_type.title if request_type else "Request") if private else r.summary
            similar.append(
                SimilarRequest(
                    r.id,
                    self.reference(r.id),
                    r.type_key,
                    shown,
                    r.status,
                    r.priority,
                    r.owner_team_id,
                    score,
                    private,
                )
            )
        return similar

    def _lexical_requests(
        self,
        session: Session,
        reader: Actor | None,
        text: str,
        statuses: Collection[Status] | None,
        exclude: Collection[int],
        limit: int,
    ) -> dict[int, float]:
        rule = _rule(reader, Request, documents.c.private)
        if statuses is not None:
            rule = rule & Request.status.in_(list(statuses))
        where: list[ColumnElement[bool]] = [exists().where(Request.id == documents.c.ref_id, rule)]
        if exclude:
            where.append(documents.c.ref_id.not_in(list(exclude)))
        terms = description_terms(text, self.prefix)
        hits = ranked(session, "request", terms, where, limit)
        return {ref_id: score for _, ref_id, score in hits if ref_id is not None}

    def _semantic_requests(
        self,
        session: Session,
        encoder: SentenceEncoder,
        reader: Actor | None,
        text: str,
        statuses: Collection[Status] | None,
        exclude: Collection[int],
        limit: int,
        language: str | None,
    ) -> dict[int, float]:
        public = reader is None or reader.kind is ActorKind.REQUESTER
        wanted = limit * 4 + len(exclude)
        while True:
            near = self.vectors.nearest(
                session,
                encoder,
                "request",
                text,
                language=language,
                public_only=public,
                k=wanted,
            )
            ids = [n.ref_id for n in near if n.ref_id is not None and n.ref_id not in exclude]
            # Privacy as the rows say now (a vector's flag may predate the request's move to
            # a private subject, until the worker embeds it again), and as the vector says.
            private = self._private_now(session, ids) | {n.ref_id for n in near if n.private}
            rule = _rule(reader, Request, Request.id.in_(private) if private else false())
            if statuses is not None:
                rule = rule & Request.status.in_(list(statuses))
            allowed = set(session.scalars(select(Request.id).where(Request.id.in_(ids), rule)))
            kept = [n for n in near if n.ref_id in allowed][:limit]
            if len(kept) >= limit or len(near) < wanted:
                return {n.ref_id: n.score for n in kept if n.ref_id is not None}
            wanted *= 4

    def _private_now(self, session: Session, ids: Sequence[int]) -> set[int | None]:
        """Which of these requests are private by their type and subject's kind now."""
        rows = session.execute(
            select(Request.id, Request.type_key, Subject.kind)
            .outerjoin(Subject, Subject.id == Request.subject_id)
            .where(Request.id.in_(ids))
        ).all()
        return {i for i, type_key, kind in rows if private_request(self.host, type_key, kind)}

    # --- articles ----------------------------------------------------------------------------

    def articles(
        self,
        text: str,
        *,
        limit: int = 3,
        language: str | None = None,
        engine: str | None = None,
    ) -> list[ArticleSuggestion]:
        """The published articles most like ``text``, best first (everyone may read them)."""
        text = clean_text(text)
        encoder = self.encoder_for(engine)
        self._sync_plugin_articles()
        if encoder is not None and encoder.name not in self._article_vectors:
            # Once per process (the worker keeps them in step afterwards): the articles are
            # few, and a fresh deployment has them before its worker's first pass.
            with self.db.transaction() as session:
                self.vectors.sync_articles(session, encoder)
            self._article_vectors.add(encoder.name)
        with self.db.reader() as session:
            if encoder is None:
                terms = description_terms(text, self.prefix)
                hits = [
                    (key, score)
                    for key, _, score in ranked(
                        session, "article", terms, [~documents.c.private], limit
                    )
                ]
            else:
                hits = [
                    (n.key, n.score)
                    for n in self.vectors.nearest(
                        session,
                        encoder,
                        "article",
                        text,
                        language=language,
                        public_only=True,
                        k=limit,
                    )
                    if n.score >= ARTICLE_FLOOR
                ]
            return self._article_lines(session, hits)

    def _article_lines(
        self, session: Session, hits: Sequence[tuple[str, float]]
    ) -> list[ArticleSuggestion]:
        console = [int(k[8:]) for k, _ in hits if k.startswith("console:") and k[8:].isdigit()]
        written = {
            a.id: (a.slug, v.title, v.summary)
            for a, v in session.execute(
                select(KbArticle, KbArticleVersion)
                .join(KbArticleVersion, KbArticleVersion.id == KbArticle.published_version_id)
                .where(KbArticle.id.in_(console))
            ).all()
        }
        found: list[ArticleSuggestion] = []
        for key, score in hits:
            plugin = self.host.articles.get(key)
            if plugin is not None:
                found.append(ArticleSuggestion(key, plugin.title, plugin.summary, score))
            elif key.startswith("console:") and key[8:].isdigit() and int(key[8:]) in written:
                slug, title, summary = written[int(key[8:])]
                if all(a.key != PREFIX + slug for a in found):  # one per translation set
                    found.append(ArticleSuggestion(PREFIX + slug, title, summary, score))
        return found


def _rule(reader: Actor | None, request: Any, private: ColumnElement[bool]) -> ColumnElement[bool]:
    """Who may see a request among the suggestions (see the module's docstring)."""
    if reader is None or reader.kind is ActorKind.REQUESTER:
        return ~private
    if reader.kind is ActorKind.SYSTEM:
        return true()
    return request_rule(reader, request, private)
