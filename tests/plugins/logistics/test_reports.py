"""The logistics section of Reports: exceptions by carrier and cause, proactive or not."""

from __future__ import annotations

from spoc import Actor
from tests.plugins.logistics.conftest import H, Tower


def test_a_quiet_shipment_is_counted_as_found_by_the_control_tower(tower: Tower) -> None:
    tower.feed(tower.event())
    tower.clock.advance(25 * H)
    tower.spoc.sweep()
    spoc = tower.spoc
    sections = spoc.reports.report(Actor.system(), spoc.reports.parse({}))
    section = next(s for s in sections if s.key == "logistics-shipments")
    figures = {h.label: h.figure for h in section.headlines}
    assert figures["Found by the control tower"].value == 1
    assert figures["Reported by customers"].value == 0
    [(carrier, cause, exceptions)] = section.tables[0].rows
    assert (carrier, cause, exceptions.value) == ("DHL", "stale", 1)
