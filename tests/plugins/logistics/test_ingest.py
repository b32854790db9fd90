"""Tracking events in: out of order, replayed, and from a CSV with bad rows."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from spoc.core.cli import main
from spoc.plugins.logistics.cli import import_events
from spoc.plugins.logistics.models import TrackingEvent
from tests.plugins.logistics.conftest import AIR, ROAD, D, H, Tower


def count_events(tower: Tower) -> int:
    with tower.spoc.db.reader() as session:
        return session.scalar(select(func.count()).select_from(TrackingEvent)) or 0


def test_out_of_order_events_status_and_eta_follow_event_time(tower: Tower) -> None:
    now = tower.clock.now()
    late = tower.event(at=now, status="out_for_delivery", city="Munich", eta=now + 4 * H)
    early = tower.event(at=now - D, status="in_transit", city="Hamburg", eta=now + 3 * D)
    tower.feed(late)
    tower.feed(early)  # arrives last, happened first
    shipment = tower.shipment()
    assert (shipment.status, shipment.status_at) == ("out_for_delivery", now)
    assert shipment.eta == now + 4 * H
    assert shipment.last_scan_at == now
    # Both are in the history, in event time.
    from spoc.plugins.logistics.tracking import public_tracking

    history = public_tracking(tower.spoc, ROAD)[0].events
    assert [e.city for e in history] == ["Munich", "Hamburg"]


def test_a_replayed_batch_changes_nothing(tower: Tower) -> None:
    batch = [
        tower.event(status="delivery_failed", city="Munich"),
        tower.event(tracking=AIR, status="on_hold", reason_code="CUSTOMS"),
    ]
    first = tower.feed(*batch)
    before = (tower.shipment(), tower.shipment(AIR))
    again = tower.feed(*batch)
    assert (first.accepted, first.duplicates) == (2, 0)
    assert (again.accepted, again.duplicates, again.shipments_moved) == (0, 2, 0)
    after = (tower.shipment(), tower.shipment(AIR))
    assert after[0].failed_attempts == 1  # a replayed failed attempt is not a second one
    assert [s.revision for s in after] == [s.revision for s in before]
    assert after[1].customs_hold is True
    assert count_events(tower) == 2


def test_events_for_unknown_shipments_are_rejected_and_the_rest_land(tower: Tower) -> None:
    report = tower.feed(tower.event(), tower.event(tracking="NOPE"), tower.event())
    assert report.accepted == 2
    assert [(r.index, r.reason) for r in report.rejected] == [
        (1, "unknown shipment (carrier, tracking number)")
    ]


CSV = """event_id,carrier,tracking_number,occurred_at,status,city,country,reason_code,damage,eta
c1,DHL,JD0001,2026-03-01T08:00:00+01:00,in_transit,Hamburg,DE,,no,
c2,DHL,JD0001,2026-03-01T09:00:00,in_transit,Hamburg,DE,,,
c3,DHL,JD0001,2026-03-01T10:00:00Z,teleported,Hamburg,DE,,,
c4,DHL,UNKNOWN1,2026-03-01T11:00:00Z,in_transit,Kassel,DE,,,
c5,DHL,JD0001,2026-03-02T07:00:00Z,out_for_delivery,Munich,de,,maybe,
c6,DHL,JD0001,2026-03-02T08:00:00Z,delivery_failed,Munich,DE,RECIPIENT_ABSENT,,2026-03-03T10:00:00Z
"""


def test_csv_with_bad_rows_lands_the_good_ones_and_lists_the_bad(
    tower: Tower, tmp_path: Path
) -> None:
    path = tmp_path / "events.csv"
    path.write_text(CSV)
    with path.open(newline="") as stream:
        summary = import_events(tower.spoc, stream, batch_size=2)
    assert (summary.rows, summary.accepted) == (6, 2)
    lines = dict(summary.rejected)
    assert sorted(lines) == [3, 4, 5, 6]
    assert "occurred_at" in lines[3] and "timezone" in lines[3]
    assert "status" in lines[4]
    assert lines[5] == "unknown shipment (carrier, tracking number)"
    assert "damage" in lines[6]
    shipment = tower.shipment()
    assert (shipment.status, shipment.failed_attempts) == ("delivery_failed", 1)
    assert count_events(tower) == 2


def test_import_events_command_prints_a_summary(tower: Tower, tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(CSV)
    env = {
        "SPOC_ENV": "test",
        "SPOC_DATABASE_URL": tower.spoc.db.url,
        "SPOC_PLUGINS": "generic,logistics",
    }
    result = CliRunner().invoke(main, ["logistics", "import-events", str(path)], env=env)
    assert result.exit_code == 1, result.output  # some rows were rejected
    assert "6 rows: 2 accepted, 0 duplicates (already imported), 4 rejected" in result.output
    assert "line 5: unknown shipment (carrier, tracking number)" in result.output
    again = CliRunner().invoke(main, ["logistics", "import-events", str(path)], env=env)
    assert "6 rows: 0 accepted, 2 duplicates" in again.output
