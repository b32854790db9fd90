"""What assist proposes from similar requests and articles: the request type, priority and
team (each with the requests that voted for it), the replies that answered similar requests,
and the console's bundle for one request.

A request type is proposed from two signals: the types of the nearest requests the reader may
read (each votes with weight ``1 / rank``) and how close the text is to each type's own title
and description (the catalogue everyone sees). The votes never come from a request the reader
may not read, so a private request cannot steer what the public is offered; a private type is
still proposed from the catalogue, where the portal lists it anyway.

Every answer is an existing one: an article, or what an agent wrote publicly on a resolved
request. Nothing is generated; with nothing close enough, nothing is proposed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

import numpy as np
from sqlalchemy import select

from spoc.core.domain.assist.encoders import encode
from spoc.core.domain.assist.lexical import description_terms
from spoc.core.domain.assist.service import (
    OPEN,
    RESOLVED,
    ArticleSuggestion,
    AssistService,
    SimilarRequest,
    clean_text,
)
from spoc.core.domain.assist.vectors import request_texts
from spoc.core.domain.models import Message, Request, Team
from spoc.core.domain.models.columns import Visibility
from spoc.core.domain.search.text import words
from spoc.core.kernel.assist import SentenceEncoder
from spoc.core.kernel.errors import NotFoundError
from spoc.core.kernel.types import Actor, ActorKind, RequestType

NEIGHBOURS = 10
"""How many similar requests vote for a type, priority or team."""
VOTE_SHARPNESS = 1.0
"""How much more a closer neighbour's vote counts (its closeness, relative to the closest
one's, to this power)."""
CATALOGUE_WEIGHT = 0.6
"""How much the catalogue's closeness weighs beside the neighbours' votes (which sum to 1)."""
SEMANTIC_FLOOR = 0.3
"""A past answer is offered only from a request at least this close (cosine). On the labelled
set, nine duplicate pairs in ten score above 0.35 and nine pairs of different types in ten
below 0.15."""


@dataclass(frozen=True)
class Guess:
    """A proposed value (a type key, a priority, a team key) with its label, its weight and
    the references of the similar requests that voted for it (the evidence)."""

    value: str
    label: str
    score: float
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class PastAnswer:
    """A reply an agent sent publicly on a resolved request like the text."""

    request: SimilarRequest
    body: str
    sent_at: datetime


@dataclass(frozen=True)
class RequestAssist:
    """The console's assist box for one request."""

    duplicates: list[SimilarRequest] = field(default_factory=list)
    answers: list[PastAnswer] = field(default_factory=list)
    types: list[Guess] = field(default_factory=list)
    priority: Guess | None = None
    team: Guess | None = None
    articles: list[ArticleSuggestion] = field(default_factory=list)


class Suggestions:
    """``spoc.assist.suggest``: types, answers and the console's bundle."""

    def __init__(self, assist: AssistService) -> None:
        self.assist = assist

    def types(
        self,
        reader: Actor | None,
        text: str,
        *,
        exclude: Collection[int] = (),
        limit: int = 3,
        engine: str | None = None,
        neighbours: Sequence[SimilarRequest] | None = None,
    ) -> list[Guess]:
        """The request types most likely meant by ``text``, best first."""
        text = clean_text(text)
        if neighbours is None:
            neighbours = self.assist.similar_requests(
                reader, text, exclude=exclude, limit=NEIGHBOURS, engine=engine
            )
        types = list(self.assist.host.request_types)
        votes, evidence = _votes(neighbours, lambda r: r.type_key)
        closeness = self._catalogue(types, text, engine)
        scored = {
            t.key: votes.get(t.key, 0.0) + CATALOGUE_WEIGHT * closeness.get(t.key, 0.0)
            for t in types
        }
        best = sorted(types, key=lambda t: (-scored[t.key], t.key))[:limit]
        return [
            Guess(t.key, t.title, scored[t.key], tuple(evidence.get(t.key, ())))
            for t in best
            if scored[t.key] > 0
        ]

    def _catalogue(
        self, types: Sequence[RequestType], text: str, engine: str | None
    ) -> dict[str, float]:
        """Each type's closeness to ``text``, scaled so the closest is 1."""
        encoder = self.assist.encoder_for(engine)
        if encoder is None:
            wanted = set(description_terms(text, self.assist.prefix))
            raw = {
                t.key: float(len(wanted & set(words(f"{t.title} {t.description}")))) for t in types
            }
        else:
            matrix = _type_matrix(encoder, tuple((t.key, self._type_text(t)) for t in types))
            scores = matrix @ encode(encoder, [text])[0]
            raw = {t.key: max(0.0, float(s)) for t, s in zip(types, scores, strict=True)}
        top = max(raw.values(), default=0.0)
        return {k: v / top for k, v in raw.items()} if top > 0 else {}

    def _type_text(self, request_type: RequestType) -> str:
        """A type as the catalogue describes it: title, description, and the titles and
        summaries of the plugins' articles about it."""
        about = [
            f"{a.title}. {a.summary}"
            for a in self.assist.host.articles
            if request_type.key in a.request_types
        ]
        return " ".join([f"{request_type.title}. {request_type.description}", *about])

    def priority_and_team(
        self, neighbours: Sequence[SimilarRequest]
    ) -> tuple[Guess | None, Guess | None]:
        """The priority and the team the nearest requests had most, with their references."""
        priority = _best(*_votes(neighbours, lambda r: r.priority.value), label=str)
        teams = {r.owner_team_id for r in neighbours if r.owner_team_id is not None}
        with self.assist.db.reader() as session:
            known = {t.id: t for t in session.scalars(select(Team).where(Team.id.in_(teams)))}
        votes, evidence = _votes(
            [r for r in neighbours if r.owner_team_id in known],
            lambda r: known[r.owner_team_id].key,
        )
        names = {t.key: t.name for t in known.values()}
        team = _best(votes, evidence, label=lambda key: names.get(key, key))
        return priority, team

    def answers(
        self,
        reader: Actor | None,
        text: str,
        *,
        exclude: Collection[int] = (),
        limit: int = 3,
        language: str | None = None,
        engine: str | None = None,
    ) -> list[PastAnswer]:
        """What agents replied publicly on the resolved requests most like ``text`` (the
        latest public reply of each), best first; a request without one offers nothing, and
        a private one never does (not even to its own staff, whose reads are recorded on its
        page)."""
        similar = self.assist.similar_requests(
            reader,
            text,
            statuses=RESOLVED,
            exclude=exclude,
            limit=limit * 2,
            language=language,
            engine=engine,
        )
        if self.assist.encoder_for(engine) is not None:
            similar = [s for s in similar if s.score >= SEMANTIC_FLOOR]
        # A private request's replies are read on its page, where the read is recorded.
        similar = [s for s in similar if not s.private]
        replies = self.public_replies([s.id for s in similar])
        return [PastAnswer(s, *replies[s.id]) for s in similar if s.id in replies][:limit]

    def public_replies(self, request_ids: Sequence[int]) -> dict[int, tuple[str, datetime]]:
        """The latest public reply an agent wrote on each of these requests, and when (the
        caller has checked who may read them)."""
        if not request_ids:
            return {}
        found: dict[int, tuple[str, datetime]] = {}
        with self.assist.db.reader() as session:
            for request_id, body, at in session.execute(
                select(Message.request_id, Message.body, Message.created_at)
                .where(
                    Message.request_id.in_(request_ids),
                    Message.visibility == Visibility.PUBLIC,
                    Message.author_kind == ActorKind.AGENT,
                )
                .order_by(Message.request_id, Message.id)
            ):
                found[request_id] = (body, at)  # the latest wins
        return found

    def for_request(self, reader: Actor, request_id: int) -> RequestAssist:
        """The console's box: possible duplicates among open requests, resolved ones'
        public replies as drafts, the type, priority and team the similar ones had, and
        articles to link. The caller has checked that ``reader`` may open the request."""
        with self.assist.db.reader() as session:
            request = session.get(Request, request_id)
            if request is None:
                raise NotFoundError(f"no request {request_id}")
            text = request_texts(session, self.assist.host, [request])[request_id]
        if not words(text):
            return RequestAssist()
        text = text[:2000]
        alike = self.assist.similar_requests(reader, text, exclude=[request_id], limit=NEIGHBOURS)
        duplicates = self.assist.similar_requests(
            reader, text, statuses=OPEN, exclude=[request_id], limit=5
        )
        priority, team = self.priority_and_team(alike)
        return RequestAssist(
            duplicates=duplicates,
            answers=self.answers(reader, text, exclude=[request_id]),
            types=self.types(reader, text, neighbours=alike),
            priority=priority,
            team=team,
            articles=self.assist.articles(text),
        )


def _votes(
    neighbours: Sequence[SimilarRequest], value: object
) -> tuple[dict[str, float], dict[str, list[str]]]:
    """Each value's share of the rank-weighted votes (summing to 1), and who voted."""
    assert callable(value)
    votes: dict[str, float] = defaultdict(float)
    evidence: dict[str, list[str]] = defaultdict(list)
    top = max((n.score for n in neighbours), default=0.0)
    for rank, neighbour in enumerate(neighbours):
        key = value(neighbour)
        votes[key] += _weight(rank, neighbour.score, top)
        evidence[key].append(neighbour.reference)
    total = sum(votes.values())
    return ({k: v / total for k, v in votes.items()} if total else {}), dict(evidence)


def _weight(rank: int, score: float, top: float) -> float:
    """A neighbour's vote: by rank, and by how close it is next to the closest one."""
    closeness = max(score, 0.0) / top if top > 0 else 0.0
    return float(closeness**VOTE_SHARPNESS) / (rank + 1)


def _best(
    votes: dict[str, float], evidence: dict[str, list[str]], *, label: object
) -> Guess | None:
    assert callable(label)
    if not votes:
        return None
    key = max(sorted(votes), key=lambda k: votes[k])
    return Guess(key, label(key), votes[key], tuple(evidence[key]))


@cache
def _type_matrix(encoder: SentenceEncoder, types: tuple[tuple[str, str], ...]) -> np.ndarray:
    """The types' catalogue texts embedded once per engine and catalogue."""
    return encode(encoder, [text for _, text in types])
