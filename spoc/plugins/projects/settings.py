"""The projects plugin's settings: ``SPOC_PROJECTS__<KEY>``. Every threshold lives here."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from spoc import TeamKey


class ProjectsSettings(BaseModel):
    """Teams escalations go to, the reporting cycle's timing and the escalation rules."""

    model_config = ConfigDict(extra="forbid")

    # Escalation targets (core escalations go to teams). A project or workstream may name its
    # own sponsor or owner team; these are the defaults.
    sponsor_team: TeamKey = "sponsors"
    workstream_owner_team: TeamKey = "workstream_owners"
    steering_team: TeamKey = "steering_committee"
    board_team: TeamKey = "change_board"
    # Reporting cycle: hours in a business day, to turn "N business days" into business time.
    business_day_hours: int = Field(default=8, ge=1, le=24)
    # A missing update is escalated to the workstream's owner this long after the deadline.
    escalate_after_business_days: int = Field(default=1, ge=0, le=20)
    # Rollup: Amber this many periods running escalates to the sponsor (Red always does).
    amber_periods_to_escalate: int = Field(default=2, ge=1, le=12)
    # Risks: score (probability x impact, 1-25) and proximity that put one on the agenda.
    agenda_min_score: int = Field(default=15, ge=1, le=25)
    agenda_proximity_days: int = Field(default=30, ge=0, le=3650)
    # Change requests beyond the project manager's tolerance go to the board at intake.
    change_tolerance_days: int = Field(default=10, ge=0)
    change_tolerance_cost: float = Field(default=10_000.0, ge=0)
    # Views and reports.
    trend_periods: int = Field(default=6, ge=2, le=24)
    share_link_days: int = Field(default=30, ge=1, le=365)
    # Upper bound on workstreams per project read in one query (the rollup, the chase).
    max_workstreams: int = Field(default=100, ge=1, le=1000)
