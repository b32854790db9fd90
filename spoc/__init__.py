"""SPOC: a single-point-of-contact service desk.

This module is the public plugin API. Plugin authors import from here only::

    from spoc import hookimpl, RequestType, Priority

Anything not re-exported here may change without notice.
"""

from __future__ import annotations

import pluggy

from spoc.core.app import Spoc, create_app, spoc_of
from spoc.core.clock import Clock, FrozenClock, SystemClock
from spoc.core.db import Database, JSONType, Model, UTCDateTime
from spoc.core.demo import DemoContext
from spoc.core.errors import (
    ConflictError,
    IllegalTransition,
    NotFoundError,
    PermissionDenied,
    PluginError,
    ServiceError,
    StartupError,
    ValidationFailed,
)
from spoc.core.forms import Phone
from spoc.core.hookspecs import PROJECT
from spoc.core.models import Request
from spoc.core.outbox import NotificationChannel, Outgoing
from spoc.core.types import (
    Actor,
    ActorKind,
    ApiRoute,
    ConsolePanel,
    EscalationCheck,
    KnowledgeArticle,
    Priority,
    RequestEvent,
    RequestType,
    Role,
    Routing,
    SlaPolicy,
    Status,
    SubjectInfo,
    SubjectKind,
)

__version__ = "0.1.0"

hookimpl = pluggy.HookimplMarker(PROJECT)
"""Decorator marking a plugin function as a SPOC hook implementation."""


def api_agent() -> Actor:
    """In a plugin's API view: the staff member the bearer token acts as (401/403 otherwise)."""
    from spoc.core.api.base import require_agent

    return require_agent()


__all__ = [
    "Actor",
    "ActorKind",
    "ApiRoute",
    "Clock",
    "ConflictError",
    "ConsolePanel",
    "Database",
    "DemoContext",
    "EscalationCheck",
    "FrozenClock",
    "IllegalTransition",
    "JSONType",
    "KnowledgeArticle",
    "Model",
    "NotFoundError",
    "NotificationChannel",
    "Outgoing",
    "PermissionDenied",
    "Phone",
    "PluginError",
    "Priority",
    "Request",
    "RequestEvent",
    "RequestType",
    "Role",
    "Routing",
    "ServiceError",
    "SlaPolicy",
    "Spoc",
    "StartupError",
    "Status",
    "SubjectInfo",
    "SubjectKind",
    "SystemClock",
    "UTCDateTime",
    "ValidationFailed",
    "__version__",
    "api_agent",
    "create_app",
    "hookimpl",
    "spoc_of",
]
