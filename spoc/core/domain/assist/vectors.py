"""Vectors beside their rows: which requests to embed, the worker that embeds them, the
articles kept in step, and the brute-force nearest-neighbour search over them.

A write that changes what a request says (the same writes that rewrite its search document)
marks it in ``assist_pending``, in the write's transaction; the worker embeds the marked
requests in batches with the chosen engine and replaces their vectors. Erasure deletes a
request's vectors of every engine in the erasure's own transaction (:func:`forget_requests`).

What is embedded is what the requester told us: the summary, the form's values (never a field
marked ``sensitive``) and the requester's own messages; never internal notes. Private requests
are embedded too, and marked ``private``: the search leaves them out for the public and asks
the database whether a staff reader is responsible for each (see
:mod:`spoc.core.domain.assist.service`).

The search is exact: every vector of the engine and kind is compared with the query (one
matrix product over NumPy arrays kept in memory, refreshed from the rows written since the last
load). bench/assist.py measures it at 100,000 requests.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from spoc.core.domain.access import private_request
from spoc.core.domain.assist.encoders import encode
from spoc.core.domain.models import (
    AssistPending,
    AssistVector,
    Contact,
    KbArticle,
    Message,
    Request,
    Subject,
)
from spoc.core.domain.models.columns import Visibility
from spoc.core.domain.reads.fields import sensitive_fields
from spoc.core.domain.search.index import UNSEARCHED_EVENTS, flatten_values
from spoc.core.domain.search.tables import documents
from spoc.core.kernel.assist import SentenceEncoder
from spoc.core.kernel.types import ActorKind
from spoc.core.storage.db import Database

if TYPE_CHECKING:
    from spoc.core.domain.writes import WriteContext
    from spoc.core.platform.plugins import PluginHost

BATCH = 500
"""Requests embedded per worker transaction."""
TEXT_MAX = 4000
"""Characters of a request's text given to the engine (a long thread's beginning)."""
ARTICLE_LANGUAGE = "en"
"""The language of the plugins' articles (written in English)."""


def mark(session: Session, request_ids: Iterable[int]) -> None:
    """Queue these requests for the worker, in the caller's transaction."""
    rows = [{"request_id": i, "token": secrets.token_hex(8)} for i in request_ids]
    if not rows:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(AssistPending)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["request_id"], set_={"token": statement.excluded.token}
        ),
        rows,
    )


def forget_requests(session: Session, request_ids: Sequence[int]) -> None:
    """Every engine's vectors of these requests, and their place in the queue, go (erasure)."""
    for start in range(0, len(request_ids), BATCH):
        chunk = list(request_ids[start : start + BATCH])
        session.execute(
            delete(AssistVector).where(
                AssistVector.kind == "request", AssistVector.ref_id.in_(chunk)
            )
        )
        session.execute(delete(AssistPending).where(AssistPending.request_id.in_(chunk)))


class PendingMarker:
    """Late write observer: a write that changes what a request says queues it."""

    def __call__(self, write: WriteContext) -> None:
        if all(e.kind in UNSEARCHED_EVENTS and e.message is None for e in write.events):
            return
        mark(write.session, [write.request.id])


@dataclass
class Matrix:
    """One engine's vectors of one kind, in memory: row ``i`` is ``keys[i]``."""

    keys: list[str] = field(default_factory=list)
    ref_ids: list[int | None] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    private: list[bool] = field(default_factory=list)
    rows: list[np.ndarray] = field(default_factory=list)
    positions: dict[str, int] = field(default_factory=dict)
    count: int = 0
    max_id: int = 0
    _arrays: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def put(self, key: str, ref_id: int | None, language: str, private: bool, vector: Any) -> None:
        row = np.frombuffer(vector, dtype="<f4")
        at = self.positions.get(key)
        if at is None:
            self.positions[key] = len(self.keys)
            self.keys.append(key)
            self.ref_ids.append(ref_id)
            self.languages.append(language)
            self.private.append(private)
            self.rows.append(row)
        else:
            self.ref_ids[at], self.languages[at], self.private[at] = ref_id, language, private
            self.rows[at] = row
        self._arrays = None

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The vectors stacked, the rows' languages and their private flags."""
        if self._arrays is None:
            width = len(self.rows[0]) if self.rows else 0
            stacked = np.vstack(self.rows) if self.rows else np.zeros((0, width), np.float32)
            self._arrays = (
                stacked,
                np.array(self.languages, dtype=object),
                np.array(self.private, dtype=bool),
            )
        return self._arrays


@dataclass(frozen=True)
class Neighbour:
    """A vector near the query: its row's key, the request's id, whether it is private, and
    the cosine similarity (1 is the same direction)."""

    key: str
    ref_id: int | None
    private: bool
    score: float


class VectorStore:
    """``spoc.assist.vectors``: embeds what the worker finds queued, answers nearest rows."""

    def __init__(self, db: Database, host: PluginHost) -> None:
        self.db = db
        self.host = host
        self._matrices: dict[tuple[str, str], Matrix] = {}
        self._lock = threading.Lock()

    # --- embedding ---------------------------------------------------------------------------

    def embed_pending(self, encoder: SentenceEncoder, limit: int = BATCH) -> bool:
        """Embed up to ``limit`` queued requests; whether more are waiting. Several workers
        may run it at once: on PostgreSQL each takes rows the others have not locked."""
        with self.db.transaction() as session:
            query = select(AssistPending.request_id, AssistPending.token).order_by(
                AssistPending.request_id
            )
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            queued = session.execute(query.limit(limit + 1)).all()
            taken = queued[:limit]
            if not taken:
                return False
            self.embed_requests(session, encoder, [request_id for request_id, _ in taken])
            for request_id, token in taken:
                session.execute(
                    delete(AssistPending).where(
                        AssistPending.request_id == request_id, AssistPending.token == token
                    )
                )
        return len(queued) > limit

    def embed_requests(
        self, session: Session, encoder: SentenceEncoder, request_ids: Sequence[int]
    ) -> int:
        """(Re)write ``encoder``'s vectors of these requests from what they say now, in the
        caller's transaction; how many were written (a request that is gone has none)."""
        requests = session.scalars(select(Request).where(Request.id.in_(request_ids))).all()
        if not requests:
            return 0
        texts = request_texts(session, self.host, requests)
        languages = dict(
            session.execute(
                select(Contact.id, Contact.language).where(
                    Contact.id.in_({r.contact_id for r in requests})
                )
            ).all()
        )
        kinds = dict(
            session.execute(
                select(Subject.id, Subject.kind).where(
                    Subject.id.in_({r.subject_id for r in requests if r.subject_id})
                )
            ).all()
        )
        ordered = [r for r in requests if r.id in texts]
        matrix = encode(encoder, [texts[r.id] for r in ordered])
        rows = [
            {
                "engine": encoder.name,
                "kind": "request",
                "key": str(r.id),
                "ref_id": r.id,
                "language": (languages.get(r.contact_id) or "en")[:16],
                "private": private_request(
                    self.host, r.type_key, kinds.get(r.subject_id) if r.subject_id else None
                ),
                "text_hash": _hash(texts[r.id]),
                "vector": matrix[i].astype("<f4").tobytes(),
            }
            for i, r in enumerate(ordered)
        ]
        self._replace(session, encoder.name, "request", rows)
        return len(rows)

    def sync_articles(self, session: Session, encoder: SentenceEncoder) -> int:
        """Make ``encoder``'s article vectors those of the articles search holds (the plugins'
        and the console's published ones); how many were (re)embedded."""
        found = session.execute(
            select(documents.c.key, documents.c.title, documents.c.body).where(
                documents.c.kind == "article", ~documents.c.private
            )
        ).all()
        wanted = {key: f"{title}\n{body}"[:TEXT_MAX] for key, title, body in found}
        stored = dict(
            session.execute(
                select(AssistVector.key, AssistVector.text_hash).where(
                    AssistVector.engine == encoder.name, AssistVector.kind == "article"
                )
            ).all()
        )
        gone = [key for key in stored if key not in wanted]
        if gone:
            session.execute(
                delete(AssistVector).where(
                    AssistVector.engine == encoder.name,
                    AssistVector.kind == "article",
                    AssistVector.key.in_(gone),
                )
            )
        changed = [k for k, text in wanted.items() if stored.get(k) != _hash(text)]
        if not changed:
            return 0
        console = {int(k[8:]) for k in changed if k.startswith("console:") and k[8:].isdigit()}
        languages = dict(
            session.execute(
                select(KbArticle.id, KbArticle.language).where(KbArticle.id.in_(console))
            ).all()
        )
        matrix = encode(encoder, [wanted[k] for k in changed])
        rows = [
            {
                "engine": encoder.name,
                "kind": "article",
                "key": key,
                "ref_id": None,
                "language": languages.get(int(key[8:]), ARTICLE_LANGUAGE)
                if key.startswith("console:") and key[8:].isdigit()
                else ARTICLE_LANGUAGE,
                "private": False,
                "text_hash": _hash(wanted[key]),
                "vector": matrix[i].astype("<f4").tobytes(),
            }
            for i, key in enumerate(changed)
        ]
        self._replace(session, encoder.name, "article", rows)
        return len(rows)

    @staticmethod
    def _replace(session: Session, engine: str, kind: str, rows: list[dict[str, Any]]) -> None:
        # Delete and insert (not update): a new row's id is above every loaded one, which is
        # how the in-memory matrices find what changed.
        keys = [r["key"] for r in rows]
        session.execute(
            delete(AssistVector).where(
                AssistVector.engine == engine,
                AssistVector.kind == kind,
                AssistVector.key.in_(keys),
            )
        )
        session.execute(insert(AssistVector), rows)

    # --- searching ---------------------------------------------------------------------------

    def matrix(self, session: Session, engine: str, kind: str) -> Matrix:
        """The engine's vectors of ``kind`` as stored now: rows written since the last call
        are added; a row deleted since (an erasure) makes it load them all again."""
        count, top = session.execute(
            select(func.count(), func.coalesce(func.max(AssistVector.id), 0)).where(
                AssistVector.engine == engine, AssistVector.kind == kind
            )
        ).one()
        with self._lock:
            loaded = self._matrices.get((engine, kind))
            if loaded is not None and (loaded.count, loaded.max_id) == (count, top):
                return loaded
            fresh = loaded if loaded is not None and count >= loaded.count else Matrix()
            newer = session.execute(
                select(
                    AssistVector.key,
                    AssistVector.ref_id,
                    AssistVector.language,
                    AssistVector.private,
                    AssistVector.vector,
                ).where(
                    AssistVector.engine == engine,
                    AssistVector.kind == kind,
                    AssistVector.id > fresh.max_id,
                    AssistVector.id <= top,
                )
            ).all()
            for row in newer:
                fresh.put(row.key, row.ref_id, row.language, row.private, row.vector)
            fresh.max_id = top
            fresh.count = len(fresh.keys)
            if fresh.count != count:  # rows were replaced and others deleted meanwhile
                self._matrices.pop((engine, kind), None)
                fresh = Matrix()
                for row in session.execute(
                    select(
                        AssistVector.key,
                        AssistVector.ref_id,
                        AssistVector.language,
                        AssistVector.private,
                        AssistVector.vector,
                    ).where(AssistVector.engine == engine, AssistVector.kind == kind)
                ):
                    fresh.put(row.key, row.ref_id, row.language, row.private, row.vector)
                fresh.max_id, fresh.count = top, len(fresh.keys)
            fresh.arrays()
            self._matrices[(engine, kind)] = fresh
            return fresh

    def nearest(
        self,
        session: Session,
        encoder: SentenceEncoder,
        kind: str,
        text: str,
        *,
        language: str | None,
        public_only: bool,
        k: int,
    ) -> list[Neighbour]:
        """The ``k`` rows nearest ``text``, best first: only ``language``'s when given (and
        any of them exist), never a private one when ``public_only``."""
        matrix = self.matrix(session, encoder.name, kind)
        stacked, languages, private = matrix.arrays()
        if not len(stacked):
            return []
        query = encode(encoder, [text])[0]
        if query.shape[0] != stacked.shape[1]:
            return []
        scores = stacked @ query
        allowed = np.ones(len(scores), dtype=bool)
        if language is not None:
            same = languages == language
            if same.any():
                allowed &= same
        if public_only:
            allowed &= ~private
        scores = np.where(allowed, scores, -np.inf)
        k = min(k, int(allowed.sum()))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [
            Neighbour(matrix.keys[i], matrix.ref_ids[i], bool(private[i]), float(scores[i]))
            for i in top
        ]


def request_texts(
    session: Session, host: PluginHost, requests: Sequence[Request]
) -> dict[int, str]:
    """What each request's requester told us, as one text (see the module's docstring)."""
    said: dict[int, list[str]] = {r.id: [] for r in requests}
    for request_id, body in session.execute(
        select(Message.request_id, Message.body)
        .where(
            Message.request_id.in_(said),
            Message.author_kind == ActorKind.REQUESTER,
            Message.visibility == Visibility.PUBLIC,
        )
        .order_by(Message.request_id, Message.id)
    ):
        said[request_id].append(body)
    texts: dict[int, str] = {}
    for request in requests:
        request_type = host.request_types.get(request.type_key)
        hidden = sensitive_fields(request_type.fields_model) if request_type else set()
        values = [v for k, v in request.fields.items() if k not in hidden]
        texts[request.id] = "\n".join(
            [request.summary, *flatten_values(values), *said[request.id]]
        )[:TEXT_MAX]
    return texts


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
