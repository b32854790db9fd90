"""The access log's chain is keyed and anchored outside the table: a forger with the database
but not the key can neither rewrite rows nor cut the tail unseen."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from flask import Flask
from sqlalchemy import delete, select, update

from spoc.plugins.healthcare import audit
from spoc.plugins.healthcare.models import AccessEntry, ChainHead
from tests.conftest import AppFactory
from tests.plugins.healthcare.conftest import Hospital, grow_log, make_hospital, run_cli

SECRET = "a-production-like-secret-key-for-the-access-log"


@pytest.fixture
def keyed(make_app: AppFactory) -> Hospital:
    app: Flask = make_app(plugins=["generic", "healthcare"], secret_key=SECRET)
    return make_hospital(app)


def forge_all(hospital: Hospital, key: bytes) -> None:
    """What a careful forger does: recompute every hash in order, head row included."""
    forger = audit.Chain(key, "/nonexistent")
    with hospital.spoc.db.transaction() as session:
        prev = audit.GENESIS
        for entry in session.scalars(select(AccessEntry).order_by(AccessEntry.id)):
            entry.prev_hash = prev
            entry.row_hash = forger.row_hash(prev, entry)
            prev = entry.row_hash
        session.flush()
        session.execute(update(ChainHead).values(last_hash=prev))


def test_a_clean_chain_verifies(keyed: Hospital) -> None:
    grow_log(keyed, 5)
    verdict = audit.verify(keyed.spoc)
    assert verdict.ok, verdict.problems
    result = run_cli(keyed, "healthcare", "audit", "verify")
    assert result.exit_code == 0 and "intact: 5 rows" in result.output


@pytest.mark.parametrize("forger_key", [b"", b"a guess at the key"])
def test_an_edited_row_with_every_hash_recomputed_is_caught(
    keyed: Hospital, forger_key: bytes
) -> None:
    grow_log(keyed, 5)
    with keyed.spoc.db.transaction() as session:
        session.execute(update(AccessEntry).where(AccessEntry.id == 3).values(agent_name="Nobody"))
    forge_all(keyed, forger_key)
    verdict = audit.verify(keyed.spoc)
    assert "row 3: content was altered" in verdict.problems
    assert "row 5 is not the row its anchor records: rewritten" in verdict.problems
    assert run_cli(keyed, "healthcare", "audit", "verify").exit_code == 1


def test_rows_relabelled_as_unkeyed_with_sha256_recomputed_are_caught(keyed: Hospital) -> None:
    grow_log(keyed, 4)
    with keyed.spoc.db.transaction() as session:
        prev = audit.GENESIS
        for entry in session.scalars(select(AccessEntry).order_by(AccessEntry.id)):
            entry.key_id, entry.prev_hash = None, prev
            entry.row_hash = prev = audit.legacy_hash(prev, entry)
        session.execute(update(ChainHead).values(last_hash=prev))
    assert "row 4 is not the row its anchor records: rewritten" in audit.verify(keyed.spoc).problems


def test_a_cut_tail_with_the_head_fixed_is_caught(keyed: Hospital) -> None:
    grow_log(keyed, 6)
    with keyed.spoc.db.transaction() as session:
        last = session.get(AccessEntry, 4)
        assert last is not None
        session.execute(delete(AccessEntry).where(AccessEntry.id > 4))
        session.execute(update(ChainHead).values(last_id=4, last_hash=last.row_hash))
    verdict = audit.verify(keyed.spoc)
    assert verdict.problems == [
        "the log ends at row 4 but its anchor records row 6: rows were removed from the end"
    ]
    with keyed.spoc.db.transaction() as session:  # the whole log wiped, head reset
        session.execute(delete(AccessEntry))
        session.execute(update(ChainHead).values(last_id=0, last_hash=audit.GENESIS))
    assert not audit.verify(keyed.spoc).ok


def test_an_altered_or_deleted_anchor_is_reported(keyed: Hospital) -> None:
    grow_log(keyed, 2)
    chain = audit.chain_of(keyed.spoc)
    with open(chain.anchor_path) as found:
        text = found.read()
    with open(chain.anchor_path, "w") as out:
        out.write(text.replace('"last_id": 2', '"last_id": 1'))
    assert any("was altered" in p for p in audit.verify(keyed.spoc).problems)
    chain.forget_anchor()
    assert any("no anchor" in p for p in audit.verify(keyed.spoc).problems)


def test_rows_from_before_the_key_are_an_epoch_the_keyed_rows_then_fix(keyed: Hospital) -> None:
    grow_log(keyed, 3)
    with keyed.spoc.db.transaction() as session:  # as the unkeyed version wrote them
        prev = audit.GENESIS
        for entry in session.scalars(select(AccessEntry).order_by(AccessEntry.id)):
            entry.key_id, entry.prev_hash = None, prev
            entry.row_hash = prev = audit.legacy_hash(prev, entry)
        session.execute(update(ChainHead).values(last_hash=prev))
    audit.chain_of(keyed.spoc).forget_anchor()
    assert audit.verify(keyed.spoc).ok  # legacy only: nothing to anchor yet
    grow_log(keyed, 2)  # the upgrade's first keyed rows link to the last legacy one
    verdict = audit.verify(keyed.spoc)
    assert verdict.ok and verdict.rows == 5, verdict.problems
    with keyed.spoc.db.transaction() as session:  # now a legacy row cannot be rewritten
        row = session.get(AccessEntry, 2)
        assert row is not None
        row.agent_name = "Nobody"
        session.flush()
        prev = row.prev_hash
        for entry in session.scalars(
            select(AccessEntry).where(AccessEntry.id.in_([2, 3])).order_by(AccessEntry.id)
        ):
            entry.prev_hash = prev
            entry.row_hash = prev = audit.legacy_hash(prev, entry)
    assert "row 4: does not follow the row before it" in audit.verify(keyed.spoc).problems


def test_the_chain_key_is_not_the_secret_and_not_in_the_database(keyed: Hospital) -> None:
    grow_log(keyed, 1)
    key = audit.chain_of(keyed.spoc).key
    assert key != SECRET.encode()
    with keyed.spoc.db.reader() as session:
        entry = session.scalars(select(AccessEntry)).one()
    plain = hmac.new(SECRET.encode(), b"", hashlib.sha256).hexdigest()
    assert entry.row_hash != plain and key.hex() not in str(vars(entry))
