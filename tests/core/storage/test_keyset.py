"""The keyset pager: every row exactly once, in order, both ways, on SQLite and PostgreSQL;
a cursor it did not make is refused naming its field."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Column, Date, Integer, MetaData, Numeric, String, Table, select
from sqlalchemy.orm import Session

from spoc import CursorRejected, Ordering, Page, Pager
from spoc.core.storage.db import Database, UTCDateTime

metadata = MetaData()
rows = Table(
    "test_keyset_rows",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("score", Integer, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("day", Date, nullable=False),
    Column("name", String(20), nullable=False),
    Column("amount", Numeric(10, 2), nullable=False),
)
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
N = 23
PAGER = Pager(b"k" * 32)


def _row(i: int) -> dict[str, Any]:
    # Few distinct values per column, so the first key ties a lot.
    return {
        "id": i,
        "score": i % 4,
        "at": T0 + timedelta(hours=i % 3),
        "day": date(2026, 3, 1) + timedelta(days=i % 5),
        "name": "abc"[i % 3] * (1 + i % 2),
        "amount": Decimal(i % 6) / 4,
    }


DATA = [_row(i) for i in range(1, N + 1)]


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    db = Database(database_url)
    metadata.create_all(db.engine)
    try:
        with db.transaction() as s:
            s.execute(rows.insert(), DATA)
        with db.reader() as s:
            yield s
    finally:
        metadata.drop_all(db.engine)
        db.dispose()


def _sorted(keys: list[tuple[str, bool]]) -> list[int]:
    """The ids in the order ``keys`` (column, descending) says, computed in Python."""
    ordered = list(DATA)
    for name, descending in reversed(keys):
        ordered.sort(key=lambda r: r[name], reverse=descending)
    return [r["id"] for r in ordered]


def _ordering(name: str, keys: list[tuple[str, bool]]) -> Ordering:
    columns = [rows.c[k].desc() if down else rows.c[k] for k, down in keys]
    return Ordering(name, *columns)


ORDERINGS = {
    "id": [("id", False)],
    "id desc": [("id", True)],
    "score, id": [("score", False), ("id", False)],
    "at desc, id desc": [("at", True), ("id", True)],
    "day desc, id": [("day", True), ("id", False)],
    "name, score desc, id": [("name", False), ("score", True), ("id", False)],
    "amount, at desc, id": [("amount", False), ("at", True), ("id", False)],
}


def _walk(session: Session, ordering: Ordering, limit: int, **kw: Any) -> list[Page[Any]]:
    pages = [PAGER.page(session, select(rows.c.id), ordering, limit=limit, **kw)]
    while pages[-1].next is not None:
        pages.append(
            PAGER.page(session, select(rows.c.id), ordering, limit=limit, cursor=pages[-1].next)
        )
        assert len(pages) <= N + 1, "the walk does not end"
    return pages


@pytest.mark.parametrize("name", list(ORDERINGS))
def test_walking_forward_sees_every_row_once_in_order(session: Session, name: str) -> None:
    ordering = _ordering(name, ORDERINGS[name])
    for limit in (1, 4, 7, N - 1, N, N + 5):
        pages = _walk(session, ordering, limit)
        seen = [i for p in pages for i in p.items]
        assert seen == _sorted(ORDERINGS[name]), limit
        assert all(len(p.items) == limit for p in pages[:-1])
        assert 0 < len(pages[-1].items) <= limit
        assert pages[0].previous is None and all(p.previous for p in pages[1:])


@pytest.mark.parametrize("name", list(ORDERINGS))
def test_walking_back_from_the_last_page_sees_the_same_pages(session: Session, name: str) -> None:
    ordering = _ordering(name, ORDERINGS[name])
    for limit in (1, 3, 5):
        forward = _walk(session, ordering, limit)
        back = [forward[-1]]
        while back[-1].previous is not None:
            back.append(
                PAGER.page(
                    session, select(rows.c.id), ordering, limit=limit, cursor=back[-1].previous
                )
            )
            assert len(back) <= N + 1
        assert [p.items for p in reversed(back)] == [p.items for p in forward], limit
        # And forward again from a page reached backwards.
        again = PAGER.page(session, select(rows.c.id), ordering, limit=limit, cursor=back[-1].next)
        assert again.items == forward[1].items


def test_going_back_past_the_start_gives_the_full_first_page(session: Session) -> None:
    ordering = _ordering("score, id", ORDERINGS["score, id"])
    first = PAGER.page(session, select(rows.c.id), ordering, limit=5)
    # A page starting one row in: its previous page holds a single row, so the pager shows
    # the first page, full, rather than a page of one.
    shifted = PAGER.page(
        session,
        select(rows.c.id),
        ordering,
        limit=5,
        cursor=PAGER.cursor_after(ordering, (DATA[first.items[0] - 1]["score"], first.items[0])),
    )
    assert shifted.items == _sorted(ORDERINGS["score, id"])[1:6]
    back = PAGER.page(session, select(rows.c.id), ordering, limit=5, cursor=shifted.previous)
    assert back.items == first.items and back.previous is None


def test_page_boundaries_and_the_empty_list(session: Session) -> None:
    ordering = Ordering("t", rows.c.id)
    exact = PAGER.page(session, select(rows.c.id), ordering, limit=N)
    assert len(exact.items) == N and exact.next is None and exact.previous is None
    short = PAGER.page(session, select(rows.c.id), ordering, limit=N - 1)
    assert short.next is not None
    last = PAGER.page(session, select(rows.c.id), ordering, limit=N - 1, cursor=short.next)
    assert last.items == [N] and last.next is None and last.previous is not None
    none = PAGER.page(session, select(rows.c.id).where(rows.c.id > N), ordering, limit=5)
    assert none.items == [] and none.next is None and none.previous is None
    past = PAGER.page(
        session, select(rows.c.id), ordering, limit=5, cursor=PAGER.cursor_after(ordering, (N,))
    )
    assert past.items == [] and past.next is None


def test_filters_joins_and_several_columns_are_kept(session: Session) -> None:
    ordering = Ordering("t", rows.c.at.desc(), rows.c.id.desc())
    statement = select(rows.c.id, rows.c.name).where(rows.c.score == 1).order_by(rows.c.name)
    first = PAGER.page(session, statement, ordering, limit=2)
    rest = PAGER.page(session, statement, ordering, limit=50, cursor=first.next)
    items = first.items + rest.items
    expected = [i for i in _sorted([("at", True), ("id", True)]) if DATA[i - 1]["score"] == 1]
    assert [i for i, _ in items] == expected  # the statement's own ORDER BY is replaced
    assert all(name == DATA[i - 1]["name"] for i, name in items)


def test_datetime_keys_stay_timezone_aware(session: Session) -> None:
    ordering = Ordering("t", rows.c.at, rows.c.id)
    first = PAGER.page(session, select(rows.c.id), ordering, limit=3)
    assert first.next is not None
    payload = json.loads(_unb64(first.next.split(".")[1]))
    (kind, stamp), (_, ident) = payload[2]
    assert kind == "t" and datetime.fromisoformat(stamp).tzinfo is not None
    assert ident == first.items[-1]
    with pytest.raises(TypeError, match="naive"):
        PAGER.cursor_after(ordering, (datetime(2026, 1, 1), 1))


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def test_a_cursor_it_did_not_make_is_refused_naming_the_field(session: Session) -> None:
    ordering = Ordering("mine", rows.c.score, rows.c.id)
    good = PAGER.page(session, select(rows.c.id), ordering, limit=3).next
    assert good is not None
    version, payload, tag = good.split(".")
    forged_payload = json.loads(_unb64(payload))
    forged_payload[2][1][1] = 1  # another id, same shape
    cases = {
        "garbage": "garbled",
        "": None,  # no cursor: the first page
        good[:-3]: "altered",
        f"2.{payload}.{tag}": "garbled",
        f"{version}.{payload}": "garbled",
        f"{version}.{payload}.{tag}.x": "garbled",
        f"{version}.{payload}!.{tag}": "garbled",
        f"{version}.{_b64(json.dumps(forged_payload).encode())}.{tag}": "altered",
        Pager(b"x" * 32).cursor_after(ordering, (1, 5)): "altered",  # another key: forged
        PAGER.cursor_after(Ordering("theirs", rows.c.score, rows.c.id), (1, 5)): "another list",
        PAGER.cursor_after(Ordering("mine", rows.c.score.desc(), rows.c.id), (1, 5)): "altered",
        "1." + "A" * 2000 + ".x": "garbled",
        "1.ñ.x": "garbled",
        base64.urlsafe_b64encode(b"2026-01-01T00:00:00+00:00~5").decode(): "garbled",  # old
    }
    for cursor, problem in cases.items():
        if problem is None:
            assert PAGER.page(session, select(rows.c.id), ordering, limit=3, cursor=cursor).items
            continue
        with pytest.raises(CursorRejected) as caught:
            PAGER.page(
                session, select(rows.c.id), ordering, limit=3, cursor=cursor, field="query.cursor"
            )
        assert caught.value.errors == {"query.cursor": caught.value.message}, cursor
        assert problem in str(caught.value), (cursor, str(caught.value))


def test_an_ordering_refuses_what_it_cannot_page_by() -> None:
    with pytest.raises(ValueError, match="asc"):
        Ordering("t", rows.c.id.desc().nulls_last())
    with pytest.raises(ValueError, match="at least one column"):
        Ordering("t")
    with pytest.raises(ValueError, match="not a column"):
        Ordering("t", "id")
