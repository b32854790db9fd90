"""Typed contributions and values that plugins and the core exchange.

These are part of the public plugin API and re-exported from :mod:`spoc`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, Field

from spoc.core.kernel.clocks import ClockKind
from spoc.core.kernel.durations import BusinessDuration, business_duration

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
TEAM_KEY_PATTERN = r"^[a-z][a-z0-9_]*$"


class _NamesATeam:
    """Marks a settings field whose value is a team key (see :data:`TeamKey`)."""

    def __repr__(self) -> str:
        return "NamesATeam"


NAMES_A_TEAM = _NamesATeam()

TeamKey = Annotated[str, Field(pattern=TEAM_KEY_PATTERN, max_length=64), NAMES_A_TEAM]
"""A setting whose value is a team's key (``safety_team: TeamKey = "safety"``).

Start-up refuses a value that names no known team, naming the plugin and the setting. Team
keys are the deployment's, shared by every plugin, so they are not namespaced; the default
of a plugin's ``TeamKey`` setting is a team that plugin brings."""

MAX_RECORD_ID = 2**31 - 1
RecordId = Annotated[int, Field(ge=1, le=MAX_RECORD_ID)]
"""The id of a stored record in a form or JSON body: an INTEGER column is 32 bits on PostgreSQL,
so a bigger number is a validation error naming the field, not a database error."""


class Priority(StrEnum):
    """P1 is the most urgent."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"

    @property
    def rank(self) -> int:
        return int(self.value[1])

    @classmethod
    def most_urgent(cls, *priorities: Priority) -> Priority:
        return min(priorities, key=lambda p: p.rank)


class Status(StrEnum):
    NEW = "new"
    OPEN = "open"
    WAITING = "waiting"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        """Closed or cancelled: nothing more happens to the request."""
        return self in (Status.CLOSED, Status.CANCELLED)

    @property
    def is_unresolved(self) -> bool:
        """New, open or waiting: someone still has to resolve it."""
        return self in (Status.NEW, Status.OPEN, Status.WAITING)

    @classmethod
    def final(cls) -> frozenset[Status]:
        """The statuses a request ends in: closed, cancelled."""
        return frozenset(s for s in cls if s.is_final)

    @classmethod
    def unresolved(cls) -> frozenset[Status]:
        """The statuses of a request still to be resolved: new, open, waiting."""
        return frozenset(s for s in cls if s.is_unresolved)


REQUESTER_STATUS_LABELS: Mapping[Status, str] = {
    Status.NEW: "Received",
    Status.OPEN: "In progress",
    Status.WAITING: "Waiting for you",
    Status.RESOLVED: "Resolved — please confirm",
    Status.CLOSED: "Closed",
    Status.CANCELLED: "Cancelled",
}


class Role(StrEnum):
    """Staff roles. ``requester`` and ``system`` are actor kinds, not staff roles."""

    ADMIN = "admin"
    AGENT = "agent"
    SPECIALIST = "specialist"
    VIEWER = "viewer"


class ActorKind(StrEnum):
    AGENT = "agent"
    REQUESTER = "requester"
    SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    """Who is doing something: a staff agent (with a role), the requester, or the system."""

    kind: ActorKind
    id: int | None = None
    role: Role | None = None
    name: str = ""

    @classmethod
    def agent(cls, agent_id: int, role: Role, name: str = "") -> Actor:
        return cls(ActorKind.AGENT, agent_id, role, name)

    @classmethod
    def requester(cls, contact_id: int, name: str = "") -> Actor:
        return cls(ActorKind.REQUESTER, contact_id, None, name)

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(ActorKind.SYSTEM, None, None, name)

    @property
    def role_name(self) -> str:
        """The role the lifecycle guards check: a staff role, ``requester`` or ``system``."""
        if self.kind is ActorKind.AGENT:
            assert self.role is not None
            return self.role.value
        return self.kind.value


PriorityRule = Callable[[BaseModel], "Priority | None"]


@dataclass(frozen=True)
class SlaPolicy:
    """Service-level targets for a request type, in business time on a named calendar.

    ``first_response`` and ``resolution`` map each priority to a target, a
    :class:`~spoc.BusinessHours` or :class:`~spoc.BusinessDays` (a business day is the
    calendar's own working day); a plain ``timedelta`` is refused. A missing priority has no
    such clock. The warning fires at ``warn_ratio`` of the target (0.75 = 75 %).
    """

    first_response: Mapping[Priority, BusinessDuration]
    resolution: Mapping[Priority, BusinessDuration]
    warn_ratio: float = 0.75
    calendar: str = "default"

    def __post_init__(self) -> None:
        if not 0 < self.warn_ratio < 1:
            raise ValueError("warn_ratio must be between 0 and 1")
        for name, targets in (
            (ClockKind.FIRST_RESPONSE.value, self.first_response),
            (ClockKind.RESOLUTION.value, self.resolution),
        ):
            for priority, target in targets.items():
                business_duration(target, f"SLA target {name}[{Priority(priority).value}]")


@dataclass(frozen=True)
class RequestType:
    """A kind of request a stakeholder can file; its form is generated from ``fields_model``.

    ``private`` types (health, special-category data) keep every detail out of notifications:
    the requester is only told that there is an update, and staff mails carry the reference
    and priority but neither the summary nor the message. Independently, a form field marked
    ``Field(json_schema_extra={"sensitive": True})`` is never used as the request's summary.

    ``key`` is namespaced by the plugin (``healthcare.appointment``). ``priority_rule`` maps
    the validated fields to a priority (``None`` = use ``default_priority``). ``subject_kinds``
    lists the subject kinds it applies to; empty means any subject, or none.
    ``mail_fields(subject, body)`` builds the fields of a request filed by mail; a type
    without it is never filed by mail (``SPOC_MAIL_ADDRESSES`` may not name it).
    """

    key: str
    title: str
    description: str
    fields_model: type[BaseModel]
    group: str = "General"
    subject_kinds: tuple[str, ...] = ()
    default_priority: Priority = Priority.P3
    priority_rule: PriorityRule | None = None
    specialist_team: str | None = None
    sla: SlaPolicy | None = None
    status_labels: Mapping[Status, str] = field(default_factory=dict)
    order: int = 100
    private: bool = False
    mail_fields: Callable[[str, str], Mapping[str, Any]] | None = None

    def __post_init__(self) -> None:
        if not KEY_PATTERN.match(self.key):
            raise ValueError(
                f"request type key {self.key!r} must look like 'plugin.name' (lower case)"
            )
        if not (isinstance(self.fields_model, type) and issubclass(self.fields_model, BaseModel)):
            raise TypeError(f"request type {self.key!r}: fields_model must be a pydantic model")

    def label_for(self, status: Status) -> str:
        return self.status_labels.get(status, REQUESTER_STATUS_LABELS[status])

    def priority_for(self, fields: BaseModel) -> Priority:
        if self.priority_rule is not None:
            ruled = self.priority_rule(fields)
            if ruled is not None:
                return ruled
        return self.default_priority


@dataclass(frozen=True)
class SubjectKind:
    """What a SPOC can be accountable for: a patient, a project, an account…

    ``attributes_model`` (a pydantic model) validates a subject's attributes whenever the
    core stores them; without it attributes are free-form JSON.

    A ``private`` kind (a patient) holds special-category data:

    * no typed reference may reach its record: a reference typed in the portal never files a
      request into it and never unlocks anything about it; only an intake link, a contact proven
      by magic link to be on record for the subject, or staff put a request there;
    * only an admin or its current SPOC may change its SPOC, deputies or the owner of its
      requests, and lists show it only to those responsible (see ``spoc.core.domain.access``).
    """

    key: str
    title: str
    description: str = ""
    order: int = 100
    attributes_model: type[BaseModel] | None = None
    private: bool = False

    def __post_init__(self) -> None:
        if not KEY_PATTERN.match(self.key):
            raise ValueError(
                f"subject kind key {self.key!r} must look like 'plugin.name' (lower case)"
            )


@dataclass(frozen=True)
class SubjectInfo:
    """A read-only view of a subject, handed to hooks."""

    id: int
    kind: str
    name: str
    external_ref: str | None
    attributes: Mapping[str, Any]


@dataclass(frozen=True)
class Routing:
    """Who acts for a new request, and why (the why goes into the timeline verbatim).

    Exactly one of ``agent_id`` / ``team_key`` is set. ``covering_for`` and ``until`` are set
    when a deputy acts for an absent SPOC. ``order`` breaks ties between plugin overrides
    (lower wins, then the plugin name).
    """

    agent_id: int | None
    team_key: str | None
    reason: str
    covering_for: int | None = None
    until: date | None = None
    order: int = 100

    def __post_init__(self) -> None:
        if (self.agent_id is None) == (self.team_key is None):
            raise ValueError("a Routing names exactly one of agent_id or team_key")


@dataclass(frozen=True)
class RequestEvent:
    """Something that happened to a request, delivered to plugins after it was committed."""

    kind: str
    request_id: int
    reference: str
    type_key: str
    status: Status
    priority: Priority
    version: int
    actor: Actor
    at: datetime
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class KnowledgeArticle:
    """A self-help article shown in the portal beside the request types it may answer.

    ``body`` is plain text; blank lines separate paragraphs (it is escaped, never raw HTML).
    ``request_types`` lists the keys of the request types it relates to (shown on their forms).
    """

    key: str
    title: str
    summary: str
    body: str
    request_types: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    order: int = 100

    def __post_init__(self) -> None:
        if not KEY_PATTERN.match(self.key):
            raise ValueError(f"article key {self.key!r} must look like 'plugin.name'")

    def matches(self, query: str) -> bool:
        text = " ".join((self.title, self.summary, self.body, *self.keywords)).lower()
        return all(word in text for word in query.lower().split())


@dataclass(frozen=True)
class ConsolePanel:
    """A box a plugin adds to the console's request page.

    ``body`` is escaped unless it is ``markupsafe.Markup`` (which the plugin then vouches for).
    """

    title: str
    body: str
    order: int = 100


@dataclass(frozen=True)
class EscalationCheck:
    """A domain trigger a plugin's ``spoc_escalation_checks`` found: escalate this request.

    ``cause`` names the trigger within the plugin (``eta_slip``); the request is escalated for
    it at most once. ``team_key`` is the team to escalate to. ``settle``, if given, runs inside
    the sweep's transaction once the check is dealt with (escalated, or moot because the
    request is closed, already escalated for this cause or at the top level): the plugin marks
    its own row done there, atomically, so the next pass does not return it again.
    """

    request_id: int
    cause: str
    team_key: str
    reason: str
    settle: Callable[[Any], None] | None = None


@dataclass(frozen=True)
class ApiRoute:
    """An endpoint a plugin adds under ``/api/v1/<plugin>/`` (``spoc_api_routes``).

    ``view`` is a Flask view; inside it call ``spoc.api_actor()`` (or
    ``spoc.core.web.api.base.require_agent``) to authenticate. ``response`` and ``body`` are
    pydantic models; they and ``summary`` go into the OpenAPI document.
    """

    method: str
    path: str
    view: Callable[..., Any]
    summary: str
    response: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    status: int = 200
    auth: str = "agent"


@dataclass(frozen=True)
class Triage:
    """A plugin's verdict on a new request (``spoc_triage_request``), applied at intake.

    ``priority`` raises the priority (the most urgent answer wins). ``notice`` is shown to the
    requester at once, above everything on their tracking page (an emergency-number notice).
    ``escalate_to`` names a team the request is escalated to in the intake transaction itself,
    for ``reason``; ``cause`` names the trigger (``plugin:<name>:<cause>``).
    """

    reason: str
    priority: Priority | None = None
    notice: str | None = None
    escalate_to: str | None = None
    cause: str = "triage"

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise ValueError("a Triage says why (reason)")


@dataclass(frozen=True)
class Export:
    """A document a plugin offers for a request (``spoc_request_exports``).

    The core serves it, after its own authorisation, from the console, from the requester's
    tracking page (when ``requester`` is true) and from the API at
    ``/api/v1/requests/{id}/exports/{key}``. ``render`` is called only when it is downloaded.
    """

    key: str
    title: str
    media_type: str
    filename: str
    render: Callable[[], bytes | str]
    requester: bool = True

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*", self.key):
            raise ValueError(f"export key {self.key!r} must be lower case letters, digits, -_.")


@dataclass(frozen=True)
class StaffAccess:
    """A staff member about to read a request or a subject's record (``spoc_staff_access``).

    ``what`` is ``request``, ``subject``, ``timeline`` or ``export:<key>``. ``own`` is true
    when the reader is responsible for it: the request's owner (or on its owning team), on a
    team it is escalated to, or the subject's SPOC or a deputy. ``reason`` is the break-glass
    reason the reader gave, if any. ``channel`` is ``console``, ``api`` or ``cli``.
    """

    actor: Actor
    what: str
    channel: str
    own: bool
    at: datetime
    request_id: int | None = None
    subject_id: int | None = None
    subject_kind: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class AccessRefused:
    """``spoc_staff_access``'s answer when a reader must give a break-glass reason first."""

    message: str


@dataclass(frozen=True)
class ScanFinding:
    """``spoc_scan_attachment``'s answer when a file must not be stored: what was found
    (``"Eicar-Test-Signature"``); the uploader is told the file was refused and why."""

    name: str


@dataclass(frozen=True)
class WatchOutcome:
    """What the sweep does with a watch that fell due: ``spoc_watch_due``'s answer.

    Answering ``None`` settles the watch as it was armed (escalating its request to the
    watch's ``escalate_to``, if any). An outcome decides instead, for this firing:

    * ``escalate``: the team key to escalate the watch's request to now, or ``None`` for no
      escalation (also when the watch was armed with an ``escalate_to``). Once per request and
      cause (trigger ``plugin:<cause>``), skipped when the request is final or at the top
      level. ``reason`` replaces the watch's reason for it. A subject's watch cannot escalate.
    * ``rearm_at``: instead of settling, arm the same watch again to fall due then (a time
      with a zone, later than the sweep's now): a repeating or moving deadline. Its escalation,
      if any, still happens at most once per request and cause.
    """

    escalate: str | None = None
    rearm_at: datetime | None = None
    reason: str | None = None

    def __post_init__(self) -> None:
        if self.escalate is not None and not self.escalate.strip():
            raise ValueError("WatchOutcome.escalate: give a team key, or None")
        if self.rearm_at is not None and self.rearm_at.tzinfo is None:
            raise ValueError("WatchOutcome.rearm_at: give the time zone")
