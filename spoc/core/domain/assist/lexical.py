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

CANDIDATES = 2000
"""At most this many matching requests are ranked (see :func:`ranked`)."""
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
    through ``exists``), best first; a higher score is better.

    Only :data:`CANDIDATES` documents are ranked, as search ranks a broad query: for articles,
    every article (they are few); for requests, the newest that match, which the index hands
    over in id order without scoring the rest. A description shares a common word with half
    the desk's requests; ranking them all would cost what this bound avoids (bench/assist.py),
    and the newest are the likeliest duplicates."""
    if not terms:
        return []
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        query = func.to_tsquery(
            literal_column("'simple'::regconfig"),
            bindparam("assist_terms", " | ".join(terms)),
        )
        tsv: Any = literal_column("search_documents.tsv")
        matches = tsv.op("@@")(query)
        score: Any = cast(func.ts_rank(tsv, query), Float(53))
    else:
        match = " OR ".join(f'"{t}"' for t in terms)
        matches = literal_column("search_fts").op("MATCH")(bindparam("assist_terms", match))
        # bm25 is lower for better matches; a title word weighs as ten body words.
        score = -func.bm25(literal_column("search_fts"), 10.0, 1.0)
    if kind == "article":
        candidates = session.scalars(select(documents.c.id).where(documents.c.kind == kind)).all()
    elif postgres:
        candidates = session.scalars(
            select(documents.c.id)
            .where(documents.c.kind == kind, matches)
            .order_by(documents.c.id.desc())
            .limit(CANDIDATES)
        ).all()
    else:
        candidates = session.scalars(
            select(literal_column("search_fts.rowid"))
            .select_from(_FTS)
            .where(matches)
            .order_by(literal_column("search_fts.rowid").desc())
            .limit(CANDIDATES)
        ).all()
    if not candidates:
        return []
    scored = score.label("score")
    query_rows = select(documents.c.key, documents.c.ref_id, scored)
    if not postgres:
        rowid: Any = literal_column("search_fts.rowid")
        query_rows = query_rows.select_from(_FTS.join(documents, documents.c.id == rowid))
        if kind != "article":
            # Stated on the index's own rowid too, so FTS5 itself skips what is older.
            query_rows = query_rows.where(rowid >= min(candidates))
    # The candidates are every match from the lowest of them up (they were taken newest
    # first): a range FTS5 seeks to in its lists, where an IN list would be one query each.
    within = (
        documents.c.id.in_(list(candidates))
        if kind == "article"
        else documents.c.id >= min(candidates)
    )
    rows = session.execute(
        query_rows.where(within, documents.c.kind == kind, matches, *where)
        .order_by(scored.desc(), documents.c.id.desc())
        .limit(limit)
    ).all()
    return [(key, ref_id, float(s)) for key, ref_id, s in rows]
