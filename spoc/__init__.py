"""SPOC: a single-point-of-contact service desk.

This module is the public plugin API. Plugin authors import from here only::

    from spoc import hookimpl, RequestType, Priority

Anything not re-exported here may change without notice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import pluggy

from spoc.core.domain.access import AccessReasonRequired
from spoc.core.domain.access import check_staff_access as _check_staff_access
from spoc.core.domain.attachments import Upload
from spoc.core.domain.demo import DemoContext
from spoc.core.domain.models import Contact, Request, RequestFact, Subject, Watch
from spoc.core.domain.outbox import NotificationChannel, Outgoing
from spoc.core.domain.reads.detail import RequestDetail
from spoc.core.domain.reads.queues import RequestFilter
from spoc.core.domain.reads.states import (
    RequestState,
    open_requests_for,
    request_matches,
    request_states,
)
from spoc.core.domain.reports.filters import ReportFilter
from spoc.core.domain.reports.plugin_facts import ReportFacts
from spoc.core.kernel.assist import SentenceEncoder
from spoc.core.kernel.clock import Clock, FrozenClock, SystemClock
from spoc.core.kernel.clocks import ClockEventKind, ClockKind, ClockState
from spoc.core.kernel.deprecation import SpocDeprecationWarning, deprecated, warn_deprecated
from spoc.core.kernel.durations import BusinessDays, BusinessHours
from spoc.core.kernel.errors import (
    ConflictError,
    IllegalTransition,
    NotFoundError,
    PermissionDenied,
    PluginContractError,
    PluginError,
    ServiceError,
    StartupError,
    ValidationFailed,
)
from spoc.core.kernel.mail import InboundMail, MailOutcome, MailVerdict
from spoc.core.kernel.reports import (
    Cell,
    Figure,
    Headline,
    ReportPeriod,
    ReportSection,
    ReportTable,
    Unit,
)
from spoc.core.kernel.structures import Saved, Structure, StructureItem
from spoc.core.kernel.types import (
    AccessRefused,
    Actor,
    ActorKind,
    ApiRoute,
    ConsolePanel,
    EscalationCheck,
    Export,
    KnowledgeArticle,
    Priority,
    RecordId,
    RequestEvent,
    RequestType,
    Role,
    Routing,
    ScanFinding,
    SlaPolicy,
    StaffAccess,
    Status,
    SubjectInfo,
    SubjectKind,
    TeamKey,
    Triage,
    WatchOutcome,
)
from spoc.core.kernel.version import VERSION
from spoc.core.platform.hookspecs import PROJECT
from spoc.core.services import Spoc, spoc_of
from spoc.core.storage.db import Database, JSONType, Model, UTCDateTime
from spoc.core.storage.keyset import CursorRejected, Ordering, Page, Pager
from spoc.core.web.forms import Files, Phone

if TYPE_CHECKING:
    from spoc.core.app import create_app

__version__ = VERSION
F = TypeVar("F", bound=Callable[..., Any])

hookimpl = pluggy.HookimplMarker(PROJECT)
"""Decorator marking a plugin function as a SPOC hook implementation."""


def __getattr__(name: str) -> Any:
    if name == "create_app":
        # Imported here to keep start-up light: the factory imports every web view, and
        # ``from spoc import hookimpl`` in a plugin should not.
        from spoc.core.app import create_app

        return create_app
    raise AttributeError(f"module 'spoc' has no attribute {name!r}")


def console_agent(*roles: Role) -> Actor:
    """In a plugin's staff page: the signed-in agent (any role unless ``roles`` are given).

    Aborts with a redirect to the sign-in page when nobody is signed in, and with 403 when the
    agent's role is not among ``roles``.
    """
    # Imported here to keep start-up light: this and the web helpers below load their views
    # only when called, so a plugin's ``from spoc import hookimpl`` loads no Flask view.
    from flask import abort, redirect, request, url_for

    from spoc.core.web.console.auth import actor, current_agent, must_enrol

    agent = current_agent()
    if agent is None:
        abort(redirect(url_for("console.login", next=request.full_path), code=303))
    if must_enrol(agent):
        abort(redirect(url_for("console.account"), code=303))
    if roles and agent.role not in roles:
        abort(403)
    return actor()


def console_access(
    what: str,
    *,
    request: Request | None = None,
    subject_id: int | None = None,
    next_url: str | None = None,
) -> Any:
    """In a plugin's staff page, before showing or changing a record: report the read to
    ``spoc_staff_access`` with the break-glass reason the agent gave on the console. Returns
    ``None`` to go on, or the break-glass form (a 403 response) to return instead; once a
    reason is given the agent is sent to ``next_url`` (default: this page — give a page to
    GET when this is a POST)."""
    # Imported here to keep start-up light: no Flask view before a plugin page asks.
    from spoc.core.web.console.access import guard

    return guard(what, request_obj=request, subject_id=subject_id, next_url=next_url)


def signed_in_agent() -> Actor | None:
    """In a plugin's page: the console agent signed in on this browser, or ``None``."""
    # Imported here to keep start-up light: no Flask view before a plugin page asks.
    from spoc.core.web.console.auth import actor, current_agent

    return actor() if current_agent() is not None else None


def signed_in_contact() -> Contact | None:
    """In a plugin's page: the stakeholder signed in by the portal's magic link (their email
    proven), or ``None``."""
    # Imported here to keep start-up light: no Flask view before a plugin page asks.
    from spoc.core.web.portal.views import signed_in_contact as contact

    return contact()


def rate_limit(limit: str) -> Callable[[F], F]:
    """Give one plugin page its own per-client limit (``"10 per minute;100 per hour"``)
    instead of ``SPOC_PLUGIN_PAGE_LIMIT``: a lookup by a guessable number wants a strict one."""

    def mark(view: F) -> F:
        view.spoc_rate_limit = limit  # type: ignore[attr-defined]
        return view

    return mark


def check_staff_access(
    actor: Actor,
    what: str,
    *,
    request: Request | None = None,
    subject_id: int | None = None,
    channel: str = "console",
    reason: str | None = None,
) -> None:
    """Report a staff read made by a plugin's own page or command to ``spoc_staff_access``.

    Raises :class:`AccessReasonRequired` when a plugin asks for a break-glass reason."""
    _check_staff_access(
        spoc_of(), actor, what, channel, request=request, subject_id=subject_id, reason=reason
    )


def api_agent() -> Actor:
    """In a plugin's API view: the staff member the bearer token acts as (401/403 otherwise)."""
    # Imported here to keep start-up light: no API view before a plugin endpoint asks.
    from spoc.core.web.api.base import require_agent

    return require_agent()


__all__ = [
    "AccessReasonRequired",
    "AccessRefused",
    "Actor",
    "ActorKind",
    "ApiRoute",
    "BusinessDays",
    "BusinessHours",
    "Cell",
    "Clock",
    "ClockEventKind",
    "ClockKind",
    "ClockState",
    "ConflictError",
    "ConsolePanel",
    "Contact",
    "CursorRejected",
    "Database",
    "DemoContext",
    "EscalationCheck",
    "Export",
    "Figure",
    "Files",
    "FrozenClock",
    "Headline",
    "IllegalTransition",
    "InboundMail",
    "JSONType",
    "KnowledgeArticle",
    "MailOutcome",
    "MailVerdict",
    "Model",
    "NotFoundError",
    "NotificationChannel",
    "Ordering",
    "Outgoing",
    "Page",
    "Pager",
    "PermissionDenied",
    "Phone",
    "PluginContractError",
    "PluginError",
    "Priority",
    "RecordId",
    "ReportFacts",
    "ReportFilter",
    "ReportPeriod",
    "ReportSection",
    "ReportTable",
    "Request",
    "RequestDetail",
    "RequestEvent",
    "RequestFact",
    "RequestFilter",
    "RequestState",
    "RequestType",
    "Role",
    "Routing",
    "Saved",
    "ScanFinding",
    "SentenceEncoder",
    "ServiceError",
    "SlaPolicy",
    "Spoc",
    "SpocDeprecationWarning",
    "StaffAccess",
    "StartupError",
    "Status",
    "Structure",
    "StructureItem",
    "Subject",
    "SubjectInfo",
    "SubjectKind",
    "SystemClock",
    "TeamKey",
    "Triage",
    "UTCDateTime",
    "Unit",
    "Upload",
    "ValidationFailed",
    "Watch",
    "WatchOutcome",
    "__version__",
    "api_agent",
    "check_staff_access",
    "console_access",
    "console_agent",
    "create_app",
    "deprecated",
    "hookimpl",
    "open_requests_for",
    "rate_limit",
    "request_matches",
    "request_states",
    "signed_in_agent",
    "signed_in_contact",
    "spoc_of",
    "warn_deprecated",
]
