"""The access log: every staff read of a patient's record, append-only and hash-chained.

Each row's hash is SHA-256 over the previous row's hash and the row's own content in a fixed,
canonical form. Altering a row breaks its hash; deleting a row breaks the next row's link;
cutting the tail is caught by the chain head, which holds the last id and hash. Appends lock
the head (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite serialises writers), so concurrent
readers still produce one unbroken chain.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from spoc import Database, StaffAccess
from spoc.plugins.healthcare.models import AccessEntry, ChainHead

GENESIS = "0" * 64
FIELDS = (
    "id",
    "at",
    "agent_id",
    "agent_name",
    "role",
    "what",
    "channel",
    "request_id",
    "subject_id",
    "purpose",
    "break_glass",
)
BATCH = 1000


def _content(entry: AccessEntry) -> dict[str, object]:
    return {
        "id": entry.id,
        "at": entry.at.isoformat(),
        "agent_id": entry.agent_id,
        "agent_name": entry.agent_name,
        "role": entry.role,
        "what": entry.what,
        "channel": entry.channel,
        "request_id": entry.request_id,
        "subject_id": entry.subject_id,
        "purpose": entry.purpose,
        "break_glass": bool(entry.break_glass),
    }


def row_hash(prev_hash: str, entry: AccessEntry) -> str:
    canonical = json.dumps(_content(entry), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


def purpose_of(access: StaffAccess) -> str:
    if access.reason:
        return f"break-glass: {access.reason}"
    return "care coordination (responsible)" if access.own else "care coordination"


def append(db: Database, access: StaffAccess) -> AccessEntry:
    """Write one read to the log, in its own transaction (a failure fails the read)."""
    assert access.actor.id is not None
    with db.transaction() as session:
        head = session.scalar(select(ChainHead).where(ChainHead.id == 1).with_for_update())
        if head is None:
            head = ChainHead(id=1, last_id=0, last_hash=GENESIS)
            session.add(head)
        entry = AccessEntry(
            id=head.last_id + 1,
            at=access.at,
            agent_id=access.actor.id,
            agent_name=access.actor.name[:200],
            role=access.actor.role_name,
            what=access.what[:60],
            channel=access.channel,
            request_id=access.request_id,
            subject_id=access.subject_id,
            purpose=purpose_of(access),
            break_glass=access.reason is not None and not access.own,
            prev_hash=head.last_hash,
            row_hash="",
        )
        entry.row_hash = row_hash(head.last_hash, entry)
        session.add(entry)
        head.last_id, head.last_hash = entry.id, entry.row_hash
    return entry


@dataclass(frozen=True)
class Verdict:
    rows: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(db: Database) -> Verdict:
    """Walk the whole chain in batches; report every altered, missing or re-linked row."""
    problems: list[str] = []
    prev_hash, expected_id, rows = GENESIS, 1, 0
    with db.reader() as session:
        for entry in _rows(session):
            rows += 1
            if entry.id != expected_id:
                problems.append(f"rows {expected_id} to {entry.id - 1} are missing")
            if entry.prev_hash != prev_hash:
                problems.append(f"row {entry.id}: does not follow the row before it")
            if row_hash(entry.prev_hash, entry) != entry.row_hash:
                problems.append(f"row {entry.id}: content was altered")
            prev_hash, expected_id = entry.row_hash, entry.id + 1
        head = session.get(ChainHead, 1)
        last_id, last_hash = (head.last_id, head.last_hash) if head else (0, GENESIS)
    if last_id != expected_id - 1 or last_hash != prev_hash:
        problems.append(
            f"the chain ends at row {expected_id - 1} but its head records row {last_id}: "
            "rows were removed from the end, or the head was altered"
        )
    return Verdict(rows, problems)


def _rows(session: Session, **filters: object) -> Iterator[AccessEntry]:
    after = 0
    while True:
        query = select(AccessEntry).where(AccessEntry.id > after)
        for name, value in filters.items():
            if value is not None:
                query = query.where(getattr(AccessEntry, name) == value)
        batch = list(session.scalars(query.order_by(AccessEntry.id).limit(BATCH)))
        yield from batch
        if len(batch) < BATCH:
            return
        after = batch[-1].id


def export(
    db: Database,
    fmt: str,
    *,
    subject_id: int | None = None,
    since: datetime | None = None,
) -> Iterator[str]:
    """The log (or one patient's part of it) as CSV or a JSON array, streamed in batches."""
    with db.reader() as session:
        rows = (r for r in _rows(session, subject_id=subject_id) if since is None or r.at >= since)
        if fmt == "csv":
            out = io.StringIO()
            writer = csv.writer(out)
            writer.writerow([*FIELDS, "prev_hash", "row_hash"])
            for entry in rows:
                content = _content(entry)
                writer.writerow([*(content[f] for f in FIELDS), entry.prev_hash, entry.row_hash])
                yield out.getvalue()
                out.seek(0)
                out.truncate()
            yield out.getvalue()
        elif fmt == "json":
            yield "["
            for index, entry in enumerate(rows):
                record = {**_content(entry), "prev_hash": entry.prev_hash, "hash": entry.row_hash}
                yield ("," if index else "") + "\n" + json.dumps(record, sort_keys=True)
            yield "\n]\n"
        else:
            raise ValueError(f"unknown format {fmt!r}: csv or json")
