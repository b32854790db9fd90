"""Subject attributes and the forms workstream leads, sponsors and stakeholders fill in."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from spoc import RecordId

PERIOD = r"^\d{4}-(0[1-9]|1[0-2]|W\d{2})$"
TEXT: dict[str, Any] = {"widget": "textarea"}


class _Form(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")


class Rag(StrEnum):
    """Red, Amber, Green: ordered from best to worst."""

    GREEN = "green"
    AMBER = "amber"
    RED = "red"

    @property
    def rank(self) -> int:
        return ("green", "amber", "red").index(self.value)

    @property
    def label(self) -> str:
        return self.value.title()


def worst(rags: list[Rag]) -> Rag | None:
    """The worst of ``rags`` (Red over Amber over Green), or ``None`` for none."""
    return max(rags, key=lambda r: r.rank) if rags else None


RAG_LABELS: dict[str, Any] = {"labels": {"green": "Green", "amber": "Amber", "red": "Red"}}


class Cadence(StrEnum):
    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"
    MONTHLY = "monthly"


# --- subject attributes ----------------------------------------------------------------------


class PortfolioDetails(_Form):
    code: str = Field(default="", max_length=40)
    description: str = Field(default="", max_length=2000)


class ProjectDetails(_Form):
    portfolio_id: RecordId
    code: str = Field(default="", max_length=40)
    cadence: Cadence = Cadence.MONTHLY
    deadline_business_days: int = Field(
        default=2, ge=0, le=20, description="Updates are due this many business days after"
    )
    reporting_starts: date
    sponsor_team: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]*$")


class WorkstreamDetails(_Form):
    project_id: RecordId
    lead_name: str = Field(min_length=1, max_length=200)
    lead_email: EmailStr
    owner_team: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]*$")


# --- request forms ---------------------------------------------------------------------------


class Milestone(_Form):
    name: str = Field(min_length=1, max_length=120)
    baseline: date
    forecast: date | None = None
    actual: date | None = None

    @property
    def slip_days(self) -> int:
        """Days later than the baseline (actual if done, else forecast); 0 if on time."""
        when = self.actual or self.forecast
        return max(0, (when - self.baseline).days) if when else 0


def parse_milestones(value: Any) -> Any:
    """The form sends one milestone per line, ``name | baseline | forecast | actual``; the API
    sends a list of objects. Both end as a list of :class:`Milestone`."""
    if not isinstance(value, str):
        return value
    rows = []
    for number, line in enumerate(value.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) < 2 or len(parts) > 4:
            raise ValueError(f"line {number}: write name | baseline | forecast | actual")
        parts += [""] * (4 - len(parts))
        name, baseline, forecast, actual = parts
        rows.append(
            {
                "name": name,
                "baseline": baseline,
                "forecast": forecast or None,
                "actual": actual or None,
            }
        )
    return rows


class StatusUpdateForm(_Form):
    period: str = Field(
        pattern=PERIOD,
        max_length=8,
        description="The reporting period: 2026-03 (monthly) or 2026-W10 (weekly)",
    )
    summary: str = Field(default="", max_length=200, description="Your headline in one line")
    overall: Rag = Field(description="Overall status", json_schema_extra={**RAG_LABELS})
    schedule: Rag = Field(json_schema_extra={**RAG_LABELS, "group": "By dimension"})
    cost: Rag = Field(json_schema_extra={**RAG_LABELS, "group": "By dimension"})
    scope: Rag = Field(json_schema_extra={**RAG_LABELS, "group": "By dimension"})
    quality: Rag = Field(json_schema_extra={**RAG_LABELS, "group": "By dimension"})
    risk: Rag = Field(json_schema_extra={**RAG_LABELS, "group": "By dimension"})
    percent_complete: int = Field(ge=0, le=100, json_schema_extra={"group": "Progress"})
    milestones: list[Milestone] = Field(
        default_factory=list,
        max_length=30,
        description="One per line: name | baseline date | forecast date | actual date "
        "(YYYY-MM-DD; leave forecast or actual empty)",
        json_schema_extra={**TEXT, "group": "Progress"},
    )
    done: str = Field(
        min_length=1, max_length=3000, description="Done this period", json_schema_extra=TEXT
    )
    next: str = Field(
        min_length=1, max_length=3000, description="Next period", json_schema_extra=TEXT
    )
    blockers: str = Field(
        default="", max_length=3000, description="What stops you", json_schema_extra=TEXT
    )

    _milestones = field_validator("milestones", mode="before")(parse_milestones)

    @field_validator("milestones")
    @classmethod
    def _unique_names(cls, value: list[Milestone]) -> list[Milestone]:
        names = [m.name.lower() for m in value]
        if len(names) != len(set(names)):
            raise ValueError("each milestone once")
        return value


class Response(StrEnum):
    AVOID = "avoid"
    REDUCE = "reduce"
    TRANSFER = "transfer"
    ACCEPT = "accept"
    SHARE = "share"


class RiskForm(_Form):
    summary: str = Field(min_length=3, max_length=200, description="The risk in one line")
    cause: str = Field(min_length=1, max_length=1000, description="Because of…")
    event: str = Field(min_length=1, max_length=1000, description="…this may happen…")
    effect: str = Field(min_length=1, max_length=1000, description="…with this effect")
    probability: int = Field(ge=1, le=5, description="1 rare … 5 almost certain")
    impact: int = Field(ge=1, le=5, description="1 minimal … 5 severe")
    proximity: date = Field(description="When it could happen")
    owner: str = Field(min_length=1, max_length=200, description="Who owns the response")
    response: Response = Field(default=Response.REDUCE)
    response_plan: str = Field(default="", max_length=2000, json_schema_extra=TEXT)

    @property
    def score(self) -> int:
        return self.probability * self.impact


class DecisionKind(StrEnum):
    ISSUE = "issue"
    DECISION = "decision"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class DecisionForm(_Form):
    kind: DecisionKind = Field(default=DecisionKind.DECISION, description="An issue or a decision")
    summary: str = Field(min_length=3, max_length=200)
    details: str = Field(default="", max_length=3000, json_schema_extra=TEXT)
    severity: Severity = Field(default=Severity.MEDIUM)
    owner: str = Field(min_length=1, max_length=200, description="Who owns it")
    decider: str = Field(default="", max_length=200, description="Who must decide")
    needed_by: date = Field(description="Decided or solved by")
    options: str = Field(default="", max_length=3000, json_schema_extra=TEXT)


class ChangeRequestForm(_Form):
    summary: str = Field(min_length=3, max_length=200)
    description: str = Field(min_length=1, max_length=3000, json_schema_extra=TEXT)
    impact_days: int = Field(default=0, ge=-3650, le=3650, description="Impact on time (days)")
    impact_cost: float = Field(default=0, ge=-1e12, le=1e12, description="Impact on cost")
    impact_scope: str = Field(default="", max_length=2000, description="Impact on scope")
    options: str = Field(default="", max_length=3000, json_schema_extra=TEXT)
    recommendation: str = Field(min_length=1, max_length=3000, json_schema_extra=TEXT)


class QuestionForm(_Form):
    summary: str = Field(min_length=3, max_length=200, description="Your question in a line")
    question: str = Field(default="", max_length=5000, json_schema_extra=TEXT)


class SystemForm(_Form):
    """The fields of requests the project office opens itself (report cycle, update chase)."""

    summary: str = Field(min_length=3, max_length=200)
    period: str = Field(pattern=PERIOD, max_length=8)
