"""The lexical engine: the full-text index ranks documents sharing any of a description's
words (BM25 on SQLite's FTS5, ``ts_rank`` on PostgreSQL), filtered by who may read them.

Search proper asks for every word (a person types a few, and wants all of them); a
description is sentences, so here any word counts and the ranking weighs the rare ones
(BM25's inverse document frequency). Words that carry no topic ("the", "my", "please") and
the reference prefix are left out before the query is built.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Float, bindparam, cast, func, literal_column, select, table
from sqlalchemy.orm import Session

from spoc.core.domain.search.tables import documents
from spoc.core.domain.search.text import words

TERMS_MAX = 24
"""At most this many distinct words of a description are looked up."""

_STOPWORDS = """a about above after again all also am an and any are as at be because been
    before being
    below between both but by can could did do does doing done down during each few for from
    further get got had has have having he her here hers him his how i if in into is it its
    just me more most my myself no nor not now of off on once only or other our ours out over
    own please same she should so some still such than thank thanks that the their them then
    there these they this those through to too under until up very was we were what when where
    which while who whom why will with would yes you your yours hello hi dear regards"""
STOPWORDS = frozenset(_STOPWORDS.split())

_FTS: Any = table("search_fts")


def description_terms(text: str, prefix: Sequence[str] = ()) -> list[str]:
    """The words of a description worth looking up, in order, at most :data:`TERMS_MAX`."""
    skip = STOPWORDS | set(prefix)
    found = [w for w in dict.fromkeys(words(text)) if len(w) > 1 and w not in skip]
    return found[:TERMS_MAX]


def ranked(
    session: Session,
    kind: str,
    terms: Sequence[str],
    where: Sequence[ColumnElement[bool]],
    limit: int,
) -> list[tuple[str, int | None, float]]:
    """``(key, ref_id, score)`` of the ``limit`` best documents of ``kind`` matching any of
    ``terms`` and all of ``where`` (conditions on ``search_documents`` and whatever they join
    through ``exists``), best first; a higher score is better."""
    if not terms:
        return []
    if session.get_bind().dialect.name == "postgresql":
        query = func.to_tsquery(
            literal_column("'simple'::regconfig"),
            bindparam("assist_terms", " | ".join(terms)),
        )
        tsv: Any = literal_column("search_documents.tsv")
        score = cast(func.ts_rank(tsv, query), Float(53)).label("score")
        rows = session.execute(
            select(documents.c.key, documents.c.ref_id, score)
            .where(documents.c.kind == kind, tsv.op("@@")(query), *where)
            .order_by(score.desc(), documents.c.id.desc())
            .limit(limit)
        ).all()
        return [(key, ref_id, float(s)) for key, ref_id, s in rows]
    match = " OR ".join(f'"{t}"' for t in terms)
    # bm25 is lower for better matches; a title word weighs as ten body words.
    bm25 = func.bm25(literal_column("search_fts"), 10.0, 1.0).label("score")
    rows = session.execute(
        select(documents.c.key, documents.c.ref_id, bm25)
        .select_from(_FTS.join(documents, documents.c.id == literal_column("search_fts.rowid")))
        .where(
            literal_column("search_fts").op("MATCH")(bindparam("assist_terms", match)),
            documents.c.kind == kind,
            *where,
        )
        .order_by(bm25, documents.c.id.desc())
        .limit(limit)
    ).all()
    return [(key, ref_id, -float(s)) for key, ref_id, s in rows]
