"""The request service: the only writer of request state.

Views, CLI, API and plugins all call these methods; each call is one transaction that also
appends the timeline, and an illegal or stale call is refused with nothing changed."""

from __future__ import annotations

from spoc.core.domain.reads.fields import sensitive_fields
from spoc.core.domain.requests.fields import (
    ContactDetails,
    contact_on_record,
    subject_info,
    validation_errors,
)
from spoc.core.domain.requests.relations import RequestRelations


class RequestService(RequestRelations):
    """Everything done to requests: intake, the conversation, status, ownership, reading.

    One service, assembled from one module per responsibility (``intake``, ``conversation``,
    ``status``, ``ownership``, ``base`` for reads); every change goes through the write path
    of :class:`~spoc.core.domain.writes.ServiceBase`."""


__all__ = [
    "ContactDetails",
    "RequestService",
    "contact_on_record",
    "sensitive_fields",
    "subject_info",
    "validation_errors",
]
