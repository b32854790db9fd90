"""``spoc assist evaluate``: each engine's figures on the labelled set (tests/data).

The set lists requests across the bundled plugins, each with its true request type, the
request it duplicates (if any) and the article that answers it (if any), and the
organisation's own articles beside the plugins'. :func:`seed` writes them into an empty
database (requests straight into their tables, resolved, the text as the requester's message:
the service path would ask each type's form for fields a one-line description has not got;
articles through the knowledge base, published), then builds the real search index and each
engine's vectors. :func:`evaluate` asks the real services, as the system (who may read all):

* top-1 type accuracy: for each request, is the first type :meth:`Suggestions.types`
  proposes (the request itself left out) its true type?
* duplicate recall@5: for each known pair, in both directions, is the other one among the five
  most similar requests?
* article recall@3: for each request with an answering article, is it among the three
  articles proposed?
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spoc.core.domain.knowledge.lines import PREFIX, ArticleDraft
from spoc.core.domain.models import Contact, Message, Request
from spoc.core.domain.models.columns import Visibility
from spoc.core.kernel.clock import Clock
from spoc.core.kernel.errors import ValidationFailed
from spoc.core.kernel.types import Actor, ActorKind, Priority, Role, Status

if TYPE_CHECKING:
    from spoc.core.services import Spoc

MINIMUM_REQUESTS = 200


@dataclass(frozen=True)
class Labelled:
    """One labelled request: ``name`` is its id in the set (``l01``)."""

    name: str
    text: str
    type_key: str
    article: str | None
    duplicate_of: str | None


@dataclass(frozen=True)
class LabelledSet:
    requests: tuple[Labelled, ...]
    articles: tuple[dict[str, Any], ...]

    def pairs(self) -> list[tuple[str, str]]:
        return [(r.name, r.duplicate_of) for r in self.requests if r.duplicate_of]


@dataclass(frozen=True)
class Figures:
    """One engine's figures on the set, each a share between 0 and 1."""

    engine: str
    type_accuracy: float
    duplicate_recall: float
    article_recall: float
    requests: int
    pairs: int
    answered: int

    def line(self) -> str:
        return (
            f"{self.engine:<12} type top-1 {self.type_accuracy:6.1%}   "
            f"duplicates recall@5 {self.duplicate_recall:6.1%}   "
            f"articles recall@3 {self.article_recall:6.1%}"
        )


def load_set(path: Path, known_types: Sequence[str], known_articles: Sequence[str]) -> LabelledSet:
    """The labelled set at ``path``, checked: every type and article exists, every duplicate
    names a request of the set, at least :data:`MINIMUM_REQUESTS` requests.
    :class:`ValidationFailed` names the entry that is wrong."""
    data = json.loads(path.read_text(encoding="utf-8"))
    articles = tuple(data.get("articles", ()))
    own = {PREFIX + a["slug"] for a in articles}
    found: list[Labelled] = []
    for entry in data["requests"]:
        found.append(
            Labelled(
                entry["id"], entry["text"], entry["type"], entry["article"], entry["duplicate_of"]
            )
        )
    names = {r.name for r in found}
    for r in found:
        problem = (
            f"unknown request type {r.type_key}"
            if r.type_key not in known_types
            else f"unknown article {r.article}"
            if r.article and r.article not in own and r.article not in known_articles
            else f"duplicates {r.duplicate_of}, not in the set"
            if r.duplicate_of and r.duplicate_of not in names
            else None
        )
        if problem:
            raise ValidationFailed("the labelled set is wrong", {r.name: problem})
    if len(names) != len(found) or len(found) < MINIMUM_REQUESTS:
        raise ValidationFailed(
            "the labelled set is too small",
            {"requests": f"at least {MINIMUM_REQUESTS} with unique ids, not {len(names)}"},
        )
    return LabelledSet(tuple(found), articles)


def seed(spoc: Spoc, labelled: LabelledSet, clock: Clock) -> dict[str, int]:
    """Write the set into ``spoc``'s (empty) database; the request id of each name."""
    now = clock.now()
    ids: dict[str, int] = {}
    with spoc.db.transaction() as session:
        contact = Contact(
            name="Evaluation", email="evaluation@example.invalid", language="en", created_at=now
        )
        session.add(contact)
        session.flush()
        for item in labelled.requests:
            row = Request(
                type_key=item.type_key,
                summary=item.text[:200],
                fields={},
                priority=Priority.P3,
                status=Status.RESOLVED,
                contact_id=contact.id,
                escalation_level=0,
                version=1,
                created_at=now,
                updated_at=now,
                resolved_at=now,
            )
            session.add(row)
            session.flush()
            session.add(
                Message(
                    request_id=row.id,
                    visibility=Visibility.PUBLIC,
                    author_kind=ActorKind.REQUESTER,
                    author_contact_id=contact.id,
                    body=item.text,
                    created_at=now,
                )
            )
            ids[item.name] = row.id
    author = spoc.directory.add_agent(
        email="evaluation-author@example.invalid", name="Evaluation author", role=Role.ADMIN
    )
    actor = Actor.agent(author.id, author.role, author.name)
    for article in labelled.articles:
        draft = ArticleDraft(
            article["title"], article["summary"], article["body"], tuple(article["request_types"])
        )
        line = spoc.articles.create(actor, article["slug"], "en", draft)
        spoc.articles.publish(actor, line.id)
    spoc.search.rebuild()
    for engine in spoc.assist.encoders:
        spoc.assist.rebuild(engine)
    return ids


def evaluate(
    spoc: Spoc,
    labelled: LabelledSet,
    ids: dict[str, int],
    engines: Sequence[str],
    progress: Callable[[str], None] | None = None,
) -> list[Figures]:
    """Each engine's :class:`Figures` on the seeded set."""
    system = Actor.system()
    results = []
    for engine in engines:
        right = 0
        for item in labelled.requests:
            guesses = spoc.suggestions.types(
                system, item.text, exclude=[ids[item.name]], engine=engine, limit=1
            )
            right += bool(guesses) and guesses[0].value == item.type_key
        texts = {r.name: r.text for r in labelled.requests}
        pairs = labelled.pairs()
        recalled = 0
        for one, other in pairs:
            for asked, wanted in ((one, other), (other, one)):
                similar = spoc.assist.similar_requests(
                    system, texts[asked], exclude=[ids[asked]], limit=5, engine=engine
                )
                recalled += ids[wanted] in [s.id for s in similar]
        answered = [r for r in labelled.requests if r.article]
        found = 0
        for item in answered:
            articles = spoc.assist.articles(item.text, limit=3, engine=engine)
            found += item.article in [a.key for a in articles]
        figures = Figures(
            engine,
            right / len(labelled.requests),
            recalled / (2 * len(pairs)) if pairs else 0.0,
            found / len(answered) if answered else 0.0,
            len(labelled.requests),
            len(pairs),
            len(answered),
        )
        if progress is not None:
            progress(figures.line())
        results.append(figures)
    return results
