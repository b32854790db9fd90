"""The healthcare section of Reports: red flags, follow-up calls and referrals, as counts and
times only (health requests are private)."""

from __future__ import annotations

from spoc import Actor
from tests.plugins.healthcare.conftest import Hospital


def test_the_section_counts_red_flags_and_names_nobody(hospital: Hospital) -> None:
    for reason in ("chest pain", "I can't breathe", "chest pain again"):
        hospital.book(reason=f"I have {reason} since this morning")
    spoc = hospital.spoc
    sections = spoc.reports.report(Actor.system(), spoc.reports.parse({}))
    care = next(s for s in sections if s.key == "healthcare-care")
    figures = {h.label: h.figure for h in care.headlines}
    assert figures["Red flags escalated at intake"].value == 3
    assert figures["Red flags escalated at intake"].shown == "3"
    assert [row[0] for row in care.tables[0].rows] == ["red flag"]
    text = repr(sections)
    assert "chest pain" not in text and "breathe" not in text
