"""One query API over both backends: ranked hits of what the reader may read, page by page.

The reader filter is part of the SQL, so a page is always full when more hits exist and no
hit is dropped after the fact; no total is ever counted or returned (a count of hits the reader
may not see would tell them those exist).

Who finds what:

* requests: staff who may see them (a specialist only those they own or that were escalated to
  one of their teams, like :meth:`ServiceBase.can_see`); a private request (private type or
  private subject kind) only when the reader is responsible for it — its owner, on its owning
  team, on a team it was escalated to, or its subject's SPOC or deputy — whatever their role.
  Private hits show their reference and type title only (nothing else is indexed). A reader
  who would need a break-glass reason gets no hit at all, not a "needs a reason" stub: a stub
  would show that the record exists and matches the words.
* subjects: admins, agents and viewers; a private subject kind only for its SPOC, deputies and
  the owners of requests about it;
* contacts: admins (the console's contact directory is theirs);
* articles: all staff.

Requesters do not use this search.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    and_,
    bindparam,
    case,
    cast,
    column,
    exists,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
    true,
)
from sqlalchemy.orm import Session, aliased

from spoc.core.domain.models import (
    Contact,
    Escalation,
    Request,
    Subject,
    SubjectDeputy,
    TeamMember,
)
from spoc.core.domain.models.knowledge import KbArticle, KbArticleVersion
from spoc.core.domain.search.index import BATCH, SearchIndex
from spoc.core.domain.search.tables import KINDS, documents
from spoc.core.domain.search.text import QUERY_MAX, TERMS_MAX, Snippet, snippet, words
from spoc.core.kernel.errors import PermissionDenied, ValidationFailed
from spoc.core.kernel.types import Actor, ActorKind, Role
from spoc.core.storage.db import Database
from spoc.core.storage.keyset import Ordering, Pager

LIMIT_MAX = 100
CANDIDATES = 1000  # the matches a query ranks, newest first (see SearchService._hits)
RECENCY = 10**12  # above any document id: a broad query's score is -(weight * RECENCY) - id
_FTS = table("search_fts", column("rowid"))
_WORDS = table("search_words", column("word"))
EXPANSION_MAX = 32  # words a prefix is expanded to; beyond, FTS5's own prefix query
LAST_CHARACTER = chr(0x10FFFF)  # sorts after every character: term…term+this is the prefix
_TSV: Any = literal_column("search_documents.tsv")


@dataclass(frozen=True)
class SearchHit:
    """One thing found: its ``kind``, the row's ``id`` (``None`` for an article: see ``key``),
    its title and a snippet of its text, both as structured parts with the matches marked."""

    kind: str
    id: int | None
    key: str
    title: Snippet
    snippet: Snippet


@dataclass(frozen=True)
class SearchPage:
    """A page of hits, best first, and the cursor of the next page (``None``: the last)."""

    hits: list[SearchHit]
    next: str | None = None


def clean_query(given: object, *, field: str = "q") -> list[str]:
    """The words to look for in ``given``, or :class:`ValidationFailed` naming ``field``."""
    if not isinstance(given, str) or not given.strip():
        raise ValidationFailed("nothing to search for", {field: "type a word to look for"})
    if "\x00" in given:
        raise ValidationFailed("cannot search for that", {field: "contains a NUL character"})
    if len(given) > QUERY_MAX:
        raise ValidationFailed("the search is too long", {field: f"at most {QUERY_MAX} characters"})
    found = list(dict.fromkeys(words(given)))[:TERMS_MAX]
    if not found:
        raise ValidationFailed("nothing to search for", {field: "type a letter or a digit"})
    return found


def kinds_for(reader: Actor) -> tuple[str, ...]:
    """What ``reader`` may search at all."""
    if reader.kind is ActorKind.SYSTEM:
        return KINDS
    if reader.kind is not ActorKind.AGENT or reader.id is None:
        raise PermissionDenied("search is for staff")
    if reader.role is Role.ADMIN:
        return KINDS
    if reader.role is Role.SPECIALIST:
        return ("request", "article")
    return ("request", "subject", "article")


class SearchService:
    """``spoc.search``: :meth:`query` for readers, :meth:`rebuild` for the CLI."""

    def __init__(self, db: Database, index: SearchIndex, pager: Pager, prefix: str) -> None:
        self.db = db
        self.index = index
        self.pager = pager
        # The deployment's reference prefix ("REQ"): a word every reference has, so it
        # finds nothing on its own and is left out when other words are given.
        self.prefix = words(prefix)
        self._articles_synced = False

    def query(
        self,
        reader: Actor,
        text: str,
        *,
        kinds: Sequence[str] = KINDS,
        limit: int = 20,
        cursor: str | None = None,
    ) -> SearchPage:
        """Hits for ``text`` that ``reader`` may read, best first. ``kinds`` narrows them
        (``request``, ``contact``, ``subject``, ``article``); ``cursor`` is a page's ``next``.
        Bad input is :class:`ValidationFailed` naming ``q``, ``kind``, ``limit`` or
        ``cursor``; a requester is :class:`PermissionDenied`."""
        terms = clean_query(text)
        unknown = [k for k in kinds if k not in KINDS]
        if unknown or not kinds:
            raise ValidationFailed("cannot search that", {"kind": f"one of {', '.join(KINDS)}"})
        if not 1 <= limit <= LIMIT_MAX:
            raise ValidationFailed("bad page size", {"limit": f"between 1 and {LIMIT_MAX}"})
        allowed = [k for k in kinds_for(reader) if k in kinds]
        if len(terms) > 1 and terms[0] in self.prefix:
            terms = [t for t in terms if t not in self.prefix] or terms
        if not self._articles_synced:
            with self.db.transaction() as session:
                self.index.sync_plugin_articles(session)
            self._articles_synced = True
        with self.db.reader() as session:
            postgres = session.get_bind().dialect.name == "postgresql"
            visible = or_(*(_visible(kind, reader) for kind in allowed)) if allowed else false()
            found = self._hits(session, terms, postgres, visible).subquery("hits")
            signature = hashlib.sha256(
                "\x00".join([*terms, "|", *sorted(kinds)]).encode()
            ).hexdigest()[:16]
            ordering = Ordering(f"search:{signature}", found.c.score, found.c.id)
            page = self.pager.page(
                session,
                select(found.c.kind, found.c.ref_id, found.c.key, found.c.title, found.c.body),
                ordering,
                limit=limit,
                cursor=cursor,
            )
        return SearchPage(
            [
                SearchHit(kind, ref_id, key, snippet(title, terms, 300), snippet(body, terms))
                for kind, ref_id, key, title, body in page.items
            ],
            page.next,
        )

    @staticmethod
    def _hits(
        session: Session, terms: Sequence[str], postgres: bool, visible: ColumnElement[bool]
    ) -> Any:
        """The documents matching all ``terms`` (each a word prefix) that pass ``visible``,
        with their ``score``: lower is better, so (score, id) ascending is best first on both
        backends. A title match weighs more than a body match.

        Only the newest :data:`CANDIDATES` such documents are ranked (the index hands them over
        in id order, newest first, without scoring the rest): a query matching fewer is ranked
        in full, a broad one ranks its most recently indexed matches, so its cost stays flat
        however many documents share its words. On SQLite a broad query is ranked by title
        match (checked here on the candidates' titles), then recency: BM25 would first count
        every match of each word across the index (the cost this bound avoids)."""
        columns = [
            documents.c.id,
            documents.c.kind,
            documents.c.ref_id,
            documents.c.key,
            documents.c.title,
            documents.c.body,
        ]
        if postgres:
            query = func.to_tsquery(
                literal_column("'simple'::regconfig"),
                bindparam("search_terms", " & ".join(f"{t}:*" for t in terms)),
            )
            newest = (
                select(*columns, _TSV.label("tsv"))
                .where(_TSV.op("@@")(query), visible)
                .order_by(documents.c.id.desc())
                .limit(CANDIDATES)
                .subquery("newest")
            )
            # float8, so the cursor carries the very value compared (a real would round).
            score = cast(-func.ts_rank(newest.c.tsv, query), Float(53)).label("score")
            return select(*(newest.c[c.name] for c in columns), score)
        match = " AND ".join(_expanded(session, t) for t in terms)
        matching = literal_column("search_fts").op("MATCH")
        ids = session.scalars(
            select(_FTS.c.rowid)
            .select_from(_FTS.join(documents, documents.c.id == _FTS.c.rowid))
            .where(matching(bindparam("search_terms", match)), visible)
            .order_by(_FTS.c.rowid.desc())
            .limit(CANDIDATES + 1)
        ).all()
        if len(ids) <= CANDIDATES:
            score = func.bm25(literal_column("search_fts"), 10.0, 1.0).label("score")
            return (
                select(*columns, score)
                .select_from(_FTS.join(documents, documents.c.id == _FTS.c.rowid))
                .where(_FTS.c.rowid.in_(ids))
                .where(matching(bindparam("search_terms", match)))
            )
        ids = ids[:CANDIDATES]
        titles = session.execute(
            select(documents.c.id, documents.c.title).where(documents.c.id.in_(ids))
        ).all()
        titled = [i for i, title in titles if _names_all(title, terms)]
        # Title matches first, then the newest: -(2 or 1) * 10^12 - id, exact in a float8.
        weight = case((documents.c.id.in_(titled), literal(-2 * RECENCY)), else_=literal(-RECENCY))
        score = cast(weight - documents.c.id, Float(53)).label("score")
        return select(*columns, score).where(documents.c.id.in_(ids))

    # --- rebuilding ------------------------------------------------------------------------

    def _rebuild_console_articles(self, batch: int) -> int:
        """Index every article published in the console, by id in batches."""
        written, after = 0, 0
        while True:
            with self.db.transaction() as session:
                rows = session.execute(
                    select(
                        KbArticle.id,
                        KbArticleVersion.title,
                        KbArticleVersion.summary,
                        KbArticleVersion.body,
                    )
                    .join(KbArticleVersion, KbArticleVersion.id == KbArticle.published_version_id)
                    .where(KbArticle.id > after)
                    .order_by(KbArticle.id)
                    .limit(batch)
                ).all()
                for row in rows:
                    self.index.put_article(
                        session, f"console:{row.id}", row.title, f"{row.summary}\n{row.body}"
                    )
            written += len(rows)
            if len(rows) < batch:
                return written
            after = rows[-1].id

    def rebuild(self, batch: int = BATCH, progress: Any = None) -> dict[str, int]:
        """Rewrite every document from the rows, in batches of ``batch`` rows by id (one
        transaction each, never all rows at once), then drop documents whose row is gone.
        Safe while the app runs: each batch rewrites its rows' documents as they are then.
        Returns how many documents of each kind were written."""
        done = {kind: 0 for kind in KINDS}
        for kind, model in (("request", Request), ("contact", Contact), ("subject", Subject)):
            after = 0
            while True:
                with self.db.transaction() as session:
                    rows: list[Any] = list(
                        session.scalars(
                            select(model).where(model.id > after).order_by(model.id).limit(batch)
                        )
                    )
                    if not rows:
                        break
                    if kind == "request":
                        self.index.index_requests(session, rows)
                    elif kind == "contact":
                        self.index.index_contacts(session, rows)
                    else:
                        self.index.index_subjects(session, rows)
                after = rows[-1].id
                done[kind] += len(rows)
                if progress is not None:
                    progress(kind, done[kind])
        done["article"] = len(self.index.host.articles) + self._rebuild_console_articles(batch)
        with self.db.transaction() as session:
            self.index.sync_plugin_articles(session)
            published = select(KbArticle.id).where(KbArticle.published_version_id.is_not(None))
            stale = [
                key
                for key in session.scalars(
                    select(documents.c.key).where(
                        documents.c.kind == "article", documents.c.key.like("console:%")
                    )
                )
                if not key[8:].isdigit()
                or not session.scalar(select(exists(published.where(KbArticle.id == int(key[8:])))))
            ]
            self.index.remove(session, "article", stale)
            for kind, model in (("request", Request), ("contact", Contact), ("subject", Subject)):
                gone = session.scalars(
                    select(documents.c.key).where(
                        documents.c.kind == kind,
                        ~exists().where(model.id == documents.c.ref_id),
                    )
                ).all()
                self.index.remove(session, kind, list(gone))
        self._articles_synced = True
        return done


# --- who may read which hit ---------------------------------------------------------------


def _visible(kind: str, reader: Actor) -> ColumnElement[bool]:
    is_kind = documents.c.kind == kind
    if reader.kind is ActorKind.SYSTEM:
        return is_kind
    agent_id = reader.id
    assert agent_id is not None
    if kind == "request":
        request = aliased(Request)
        rule = request_rule(reader, request, documents.c.private)
        return and_(is_kind, exists().where(request.id == documents.c.ref_id, rule))
    if kind == "subject":
        return and_(
            is_kind,
            or_(~documents.c.private, _responsible_for_subject(documents.c.ref_id, agent_id)),
        )
    if kind == "contact":
        return and_(is_kind, true() if reader.role is Role.ADMIN else false())
    return is_kind


def request_rule(reader: Actor, request: Any, private: ColumnElement[bool]) -> ColumnElement[bool]:
    """SQL: may staff ``reader`` find the request row ``request`` (an entity or an alias), whose
    privacy ``private`` says? The rule of this module's docstring, shared with assist."""
    if reader.kind is ActorKind.SYSTEM:
        return true()
    agent_id = reader.id
    if reader.kind is not ActorKind.AGENT or agent_id is None:
        return false()
    if reader.role is Role.SPECIALIST:
        # Their own or their teams' escalations; all of those they are responsible for.
        return or_(request.owner_agent_id == agent_id, _escalated_to(request, agent_id))
    return or_(~private, _responsible_for_request(request, agent_id))


def _teams(agent_id: int) -> Any:
    return select(TeamMember.team_id).where(TeamMember.agent_id == agent_id)


def _escalated_to(request: Any, agent_id: int) -> ColumnElement[bool]:
    return exists().where(
        Escalation.request_id == request.id, Escalation.to_team_id.in_(_teams(agent_id))
    )


def _responsible_for_request(request: Any, agent_id: int) -> ColumnElement[bool]:
    """SQL for :func:`spoc.core.domain.access.responsible_for_request`."""
    return or_(
        request.owner_agent_id == agent_id,
        request.owner_team_id.in_(_teams(agent_id)),
        _escalated_to(request, agent_id),
        and_(
            request.subject_id.is_not(None),
            _responsible_for_subject(request.subject_id, agent_id),
        ),
    )


def _responsible_for_subject(subject_id: Any, agent_id: int) -> ColumnElement[bool]:
    """SQL for :func:`spoc.core.domain.access.responsible_for_subject`."""
    about = aliased(Request)
    return or_(
        exists().where(Subject.id == subject_id, Subject.spoc_agent_id == agent_id),
        exists().where(SubjectDeputy.subject_id == subject_id, SubjectDeputy.agent_id == agent_id),
        exists().where(
            about.subject_id == subject_id,
            or_(about.owner_agent_id == agent_id, about.owner_team_id.in_(_teams(agent_id))),
        ),
    )


def _expanded(session: Session, term: str) -> str:
    """An FTS5 expression for the words starting with ``term``: the words themselves, from
    the vocabulary (``("refund" OR "refunds")``, merged lazily, so a page stops early), or the
    native prefix query when more than :data:`EXPANSION_MAX` words start so."""
    found = session.scalars(
        select(_WORDS.c.word)
        .where(_WORDS.c.word >= term, _WORDS.c.word < term + LAST_CHARACTER)
        .order_by(_WORDS.c.word)
        .limit(EXPANSION_MAX + 1)
    ).all()
    if len(found) > EXPANSION_MAX:
        return f'"{term}"*'
    if not found:
        return f'"{term}"'  # no indexed word starts so: matches nothing, at once
    return "(" + " OR ".join(f'"{word}"' for word in found) + ")"


def _names_all(title: str, terms: Sequence[str]) -> bool:
    """Does every term start a word of ``title`` (as the index matches a word prefix)?"""
    found = words(title)
    return all(any(word.startswith(term) for word in found) for term in terms)


def searchable(kinds: Iterable[str]) -> tuple[str, ...]:
    """``kinds`` in the order of :data:`KINDS`, unknown ones dropped."""
    wanted = set(kinds)
    return tuple(k for k in KINDS if k in wanted)
