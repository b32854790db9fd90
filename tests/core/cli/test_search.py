"""`spoc search rebuild` fills the index from the rows, in batches."""

from __future__ import annotations

from collections.abc import Callable

from click.testing import Result

from spoc import Actor
from tests.conftest import Org


def test_rebuild_fills_a_lost_index_from_the_rows(
    org: Org, spoc_cli: Callable[..., Result]
) -> None:
    spoc = org.spoc
    ids = [org.file(fields={"summary": f"Kettle leak {i}"}) for i in range(3)]
    with spoc.db.transaction() as session:
        spoc.search.index.remove(session, "request", [str(i) for i in ids])
    assert spoc.search.query(Actor.system(), "kettle").hits == []
    result = spoc_cli("search", "rebuild", "--batch", "2")
    assert result.exit_code == 0, result.output
    assert "Search index rebuilt: 3 requests, 1 contacts, 1 subjects" in result.output
    assert sorted(h.id for h in spoc.search.query(Actor.system(), "kettle").hits) == ids
    bad = spoc_cli("search", "rebuild", "--batch", "0")
    assert bad.exit_code == 2 and "--batch" in bad.output
