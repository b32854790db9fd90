"""The access log: every staff read of a patient's record, append-only and hash-chained.

Each row's hash is an HMAC-SHA256, under a key that is not in the database (derived from
SPOC_SECRET_KEY, or SPOC_HEALTHCARE__AUDIT_KEY, label ``spoc/healthcare/access-log/v1``), over
the previous row's hash and the row's own content in a fixed, canonical form. Someone who can
write the database but has no key cannot recompute the chain after editing a row. The head is
anchored outside the table too: every append writes the last id and hash, with their own HMAC,
to an anchor file in the instance folder, so cutting the tail (and fixing the head row) is
caught. Appends lock the head (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite serialises
writers), so concurrent readers still produce one unbroken chain.

Rows from before the chain was keyed keep their plain SHA-256 hash and no key id (a chain
epoch): the first keyed row links to the last of them, so they too are fixed from then on.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import hashlib
import hmac
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from spoc import Database, Spoc, StaffAccess
from spoc.plugins.healthcare.models import AccessEntry, ChainHead
from spoc.plugins.healthcare.settings import HealthcareSettings

KEY_LABEL = "spoc/healthcare/access-log/v1"

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


def legacy_hash(prev_hash: str, entry: AccessEntry) -> str:
    """The unkeyed SHA-256 of rows written before the chain was keyed."""
    canonical = json.dumps(_content(entry), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


@dataclass(frozen=True)
class Chain:
    """The key and the anchor of one app's access log."""

    key: bytes
    anchor_path: str

    @property
    def key_id(self) -> str:
        return hmac.new(self.key, b"spoc key id", hashlib.sha256).hexdigest()[:16]

    def row_hash(self, prev_hash: str, entry: AccessEntry) -> str:
        content = {**_content(entry), "key_id": entry.key_id}
        canonical = json.dumps(content, sort_keys=True, separators=(",", ":"))
        message = f"{prev_hash}\n{canonical}".encode()
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()

    def _anchor_mac(self, last_id: int, last_hash: str) -> str:
        message = f"anchor\n{self.key_id}\n{last_id}\n{last_hash}".encode()
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()

    def advance_anchor(self, last_id: int, last_hash: str) -> None:
        """Record the new head outside the database; never moves it back (appends from
        several processes may finish in any order)."""
        os.makedirs(os.path.dirname(self.anchor_path), exist_ok=True)
        with open(self.anchor_path + ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            current = self.read_anchor()
            if isinstance(current, tuple) and current[0] >= last_id:
                return
            record = {
                "last_id": last_id,
                "last_hash": last_hash,
                "key_id": self.key_id,
                "mac": self._anchor_mac(last_id, last_hash),
            }
            temporary = f"{self.anchor_path}.{os.getpid()}.tmp"
            with open(temporary, "w") as out:
                json.dump(record, out)
            os.replace(temporary, self.anchor_path)

    def read_anchor(self) -> tuple[int, str] | str | None:
        """``(last_id, last_hash)``; ``None`` when there is no anchor; a problem as text."""
        try:
            with open(self.anchor_path) as found:
                record = json.load(found)
            last_id, last_hash = int(record["last_id"]), str(record["last_hash"])
            mac = str(record["mac"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            return f"the anchor {self.anchor_path} cannot be read ({exc})"
        if not hmac.compare_digest(mac, self._anchor_mac(last_id, last_hash)):
            return f"the anchor {self.anchor_path} was altered, or written with another key"
        return last_id, last_hash

    def forget_anchor(self) -> None:
        """For a database made anew (the demo): its log starts again from nothing."""
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.anchor_path)


def chain_of(spoc: Spoc) -> Chain:
    chain = spoc.state.get("healthcare.chain")
    if isinstance(chain, Chain):
        return chain
    section = spoc.host.settings_sections.get("healthcare")
    audit_key = section.audit_key if isinstance(section, HealthcareSettings) else None
    key = spoc.keys.derive(KEY_LABEL, audit_key.get_secret_value() if audit_key else None)
    # One anchor per database (by URL, password hidden) and key.
    url = spoc.db.engine.url.render_as_string(hide_password=True)
    name = hmac.new(key, url.encode(), hashlib.sha256).hexdigest()[:16]
    chain = Chain(key, str(spoc.instance_path / f"healthcare-access-log-{name}.anchor"))
    spoc.state["healthcare.chain"] = chain
    return chain


def purpose_of(access: StaffAccess) -> str:
    if access.reason:
        return f"break-glass: {access.reason}"
    return "care coordination (responsible)" if access.own else "care coordination"


def append(spoc: Spoc, access: StaffAccess) -> AccessEntry:
    """Write one read to the log, in its own transaction (a failure fails the read), then
    move the anchor to it."""
    assert access.actor.id is not None
    chain = chain_of(spoc)
    with spoc.db.transaction() as session:
        head = _locked_head(session)
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
            key_id=chain.key_id,
        )
        entry.row_hash = chain.row_hash(head.last_hash, entry)
        session.add(entry)
        head.last_id, head.last_hash = entry.id, entry.row_hash
    # After the commit: an anchor ahead of the table would be a false alarm. A crash between
    # the two leaves the anchor one row behind, which verify accepts.
    chain.advance_anchor(entry.id, entry.row_hash)
    return entry


def _locked_head(session: Session) -> ChainHead:
    head = session.scalar(select(ChainHead).where(ChainHead.id == 1).with_for_update())
    if head is not None:
        return head
    # The migration writes the head; should it be missing, the first appenders race to
    # write it and the losers wait for the winner's row (the primary key serialises them).
    try:
        with session.begin_nested():
            session.add(ChainHead(id=1, last_id=0, last_hash=GENESIS))
    except IntegrityError:
        pass
    head = session.scalar(select(ChainHead).where(ChainHead.id == 1).with_for_update())
    assert head is not None
    return head


@dataclass(frozen=True)
class Verdict:
    rows: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(spoc: Spoc) -> Verdict:
    """Walk the whole chain in batches; report every altered, missing or re-linked row, and
    a table that ends before its anchor."""
    chain = chain_of(spoc)
    anchor = chain.read_anchor()
    problems: list[str] = [anchor] if isinstance(anchor, str) else []
    prev_hash, expected_id, rows, keyed = GENESIS, 1, 0, False
    other_key: list[int] = []
    at_anchor: str | None = None
    with spoc.db.reader() as session:
        for entry in _rows(session):
            rows += 1
            if entry.id != expected_id:
                problems.append(f"rows {expected_id} to {entry.id - 1} are missing")
            if entry.prev_hash != prev_hash:
                problems.append(f"row {entry.id}: does not follow the row before it")
            if entry.key_id is None:
                if keyed:
                    problems.append(f"row {entry.id}: unkeyed, after the chain was keyed")
                elif legacy_hash(entry.prev_hash, entry) != entry.row_hash:
                    problems.append(f"row {entry.id}: content was altered")
            elif entry.key_id != chain.key_id:
                keyed = True
                other_key.append(entry.id)
            else:
                keyed = True
                if not hmac.compare_digest(chain.row_hash(entry.prev_hash, entry), entry.row_hash):
                    problems.append(f"row {entry.id}: content was altered")
            if isinstance(anchor, tuple) and entry.id == anchor[0]:
                at_anchor = entry.row_hash
            prev_hash, expected_id = entry.row_hash, entry.id + 1
        head = session.get(ChainHead, 1)
        last_id, last_hash = (head.last_id, head.last_hash) if head else (0, GENESIS)
    if other_key:
        problems.append(
            f"{len(other_key)} rows (from row {other_key[0]}) carry another key's HMAC: is "
            "SPOC_HEALTHCARE__AUDIT_KEY (or SPOC_SECRET_KEY) the one they were written with?"
        )
    if last_id != expected_id - 1 or last_hash != prev_hash:
        problems.append(
            f"the chain ends at row {expected_id - 1} but its head records row {last_id}: "
            "rows were removed from the end, or the head was altered"
        )
    if anchor is None and keyed:
        problems.append(f"no anchor at {chain.anchor_path}: the end of the log cannot be proven")
    elif isinstance(anchor, tuple):
        if anchor[0] > expected_id - 1:
            problems.append(
                f"the log ends at row {expected_id - 1} but its anchor records row {anchor[0]}: "
                "rows were removed from the end"
            )
        elif at_anchor is not None and not hmac.compare_digest(at_anchor, anchor[1]):
            problems.append(f"row {anchor[0]} is not the row its anchor records: rewritten")
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
