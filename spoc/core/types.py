"""Typed contributions and values that plugins and the core exchange.

These are part of the public plugin API and re-exported from :mod:`spoc`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


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
        return self in (Status.CLOSED, Status.CANCELLED)


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

    ``first_response`` and ``resolution`` map each priority to a target; a missing priority
    has no such clock. The warning fires at ``warn_ratio`` of the target (0.75 = 75 %).
    """

    first_response: Mapping[Priority, timedelta]
    resolution: Mapping[Priority, timedelta]
    warn_ratio: float = 0.75
    calendar: str = "default"

    def __post_init__(self) -> None:
        if not 0 < self.warn_ratio < 1:
            raise ValueError("warn_ratio must be between 0 and 1")
        for target in (*self.first_response.values(), *self.resolution.values()):
            if target <= timedelta(0):
                raise ValueError("SLA targets must be positive")


@dataclass(frozen=True)
class RequestType:
    """A kind of request a stakeholder can file; its form is generated from ``fields_model``.

    ``key`` is namespaced by the plugin (``healthcare.appointment``). ``priority_rule`` maps
    the validated fields to a priority (``None`` = use ``default_priority``). ``subject_kinds``
    lists the subject kinds it applies to; empty means any subject, or none.
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
    """What a SPOC can be accountable for: a patient, a project, an account…"""

    key: str
    title: str
    description: str = ""
    order: int = 100

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
    it at most once. ``team_key`` is the team to escalate to.
    """

    request_id: int
    cause: str
    team_key: str
    reason: str


@dataclass(frozen=True)
class ApiRoute:
    """An endpoint a plugin adds under ``/api/v1/<plugin>/`` (``spoc_api_routes``).

    ``view`` is a Flask view; inside it call ``spoc.api_actor()`` (or
    ``spoc.core.api.base.require_agent``) to authenticate. ``response`` and ``body`` are
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
