"""Set-based writes: rows written by COPY or executemany read back as the ORM wrote them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, text

from spoc.core.domain.models import OutboxMessage
from spoc.core.domain.outbox import enqueue_rows, outbox_row
from spoc.core.services import spoc_of
from spoc.core.storage.bulk import Ids, among
from tests.conftest import AppFactory

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_bulk_rows_are_sealed_typed_and_read_back(make_app: AppFactory) -> None:
    spoc = spoc_of(make_app(plugins=["generic"]))
    rows = [
        outbox_row(
            channel="email",
            recipient=f"p{n}@example.com",
            subject=f"Notice {n}",
            body_text=f"Your link https://spoc.example/track/secret{n}",
            body_html=None if n % 2 else f"<p>secret{n}</p>",
            headers={"Message-ID": f"<m{n}@spoc.example>", "n": n},
            now=NOW,
        )
        for n in range(5)
    ]
    with spoc.db.transaction() as session:
        enqueue_rows(session, rows)
    with spoc.db.reader() as session:
        stored = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        raw = session.execute(text("SELECT body_text FROM outbox_messages")).scalars().all()
    assert [m.recipient for m in stored] == [f"p{n}@example.com" for n in range(5)]
    assert stored[3].body_text == "Your link https://spoc.example/track/secret3"
    assert stored[0].body_html == "<p>secret0</p>" and stored[1].body_html is None
    assert stored[4].headers == {"Message-ID": "<m4@spoc.example>", "n": 4}
    assert stored[2].next_attempt_at == NOW and stored[2].status == "pending"
    assert not any("secret" in body for body in raw)  # sealed at rest, as enqueue seals


def test_a_bulk_write_is_part_of_the_transaction(make_app: AppFactory) -> None:
    spoc = spoc_of(make_app(plugins=["generic"]))
    row = outbox_row(channel="email", recipient="a@example.com", body_text="x", now=NOW)
    try:
        with spoc.db.transaction() as session:
            enqueue_rows(session, [row])
            raise RuntimeError("the cause fails after the mails were queued")
    except RuntimeError:
        pass
    with spoc.db.reader() as session:
        assert session.scalars(select(OutboxMessage)).all() == []


def test_among_selects_exactly_the_ids_given(make_app: AppFactory) -> None:
    spoc = spoc_of(make_app(plugins=["generic"]))
    with spoc.db.transaction() as session:
        enqueue_rows(
            session,
            [
                outbox_row(channel="email", recipient=f"{n}@example.com", body_text="x", now=NOW)
                for n in range(6)
            ],
        )
    with spoc.db.reader() as session:
        ids = session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)).all()
        wanted = [ids[1], ids[4]]
        found = session.scalars(
            select(OutboxMessage.id).where(among(session, OutboxMessage.id, wanted))
        ).all()
        none = session.scalars(select(OutboxMessage.id).where(among(session, OutboxMessage.id, [])))
        assert sorted(found) == wanted
        assert none.all() == []


def test_reserved_ids_are_new_distinct_and_the_database_numbers_on_after_them(
    make_app: AppFactory,
) -> None:
    spoc = spoc_of(make_app(plugins=["generic"]))
    table = OutboxMessage.__table__
    with spoc.db.transaction() as session:
        enqueue_rows(
            session, [outbox_row(channel="email", recipient="a@x.org", body_text="a", now=NOW)]
        )
    with spoc.db.transaction() as session:
        ids = Ids(session, table)  # type: ignore[arg-type]
        taken = [ids.take(3) for _ in range(5)]  # reserves 3, then 3 more
        rows = [
            {**outbox_row(channel="email", recipient=f"{n}@x.org", body_text="b", now=NOW), "id": n}
            for n in taken
        ]
        enqueue_rows(session, rows)
        session.add(
            OutboxMessage(
                **outbox_row(channel="email", recipient="c@x.org", body_text="c", now=NOW)
            )
        )
    with spoc.db.reader() as session:
        stored = dict(session.execute(select(OutboxMessage.recipient, OutboxMessage.id)).all())
    assert len(set(taken)) == 5 and taken == sorted(taken)
    assert stored["a@x.org"] < min(taken)
    assert stored["c@x.org"] > max(taken)  # the sequence (or SQLite's max id) moved past them
