"""The healthcare section of the Reports page: follow-up calls after discharge made within
their two business days, referral turnaround, and red flags. Health requests are private:
counts and times only."""

from __future__ import annotations

from sqlalchemy.orm import Session

from spoc import Figure, Headline, ReportFacts, ReportFilter, ReportSection, ReportTable
from spoc.plugins.healthcare.records import FOLLOW_UP, REFERRAL

TRIGGERS = "plugin:healthcare:"


def sections(report_filter: ReportFilter, session: Session) -> list[ReportSection]:
    facts = ReportFacts(session, report_filter)
    call_time, calls_in_time = facts.first_response([FOLLOW_UP])
    turnaround, referrals_in_time = facts.resolution([REFERRAL])
    causes = facts.escalations_by_trigger(TRIGGERS)
    red_flags = dict(causes).get("red_flag", Figure.count(0))
    return [
        ReportSection(
            "care",
            "Healthcare",
            (
                Headline("Follow-up calls due after discharge", facts.filed([FOLLOW_UP])),
                Headline("Follow-up calls made within 2 business days", calls_in_time),
                Headline("Follow-up call: median time to first contact", call_time),
                Headline("Referral turnaround: median", turnaround),
                Headline("Referrals closed within target", referrals_in_time),
                Headline("Red flags escalated at intake", red_flags),
            ),
            (
                ReportTable(
                    "care-escalations",
                    "Healthcare escalations by cause",
                    ("Cause", "Escalations"),
                    [[cause.replace("_", " "), n] for cause, n in causes],
                    chart="bars",
                    text="Escalations the healthcare rules opened in the period, by cause.",
                ),
            ),
            note="Health requests are private: counts and times only.",
        )
    ]
