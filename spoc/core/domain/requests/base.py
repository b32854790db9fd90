"""Reading requests: one request, its timeline, its type."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from spoc.core.domain.escalation import EscalationService
from spoc.core.domain.models import (
    Request,
    Subject,
    TimelineEvent,
    Visibility,
)
from spoc.core.domain.writes import ServiceBase, ServiceDeps
from spoc.core.kernel.errors import (
    NotFoundError,
    ValidationFailed,
)
from spoc.core.kernel.types import (
    Actor,
    ActorKind,
    RequestType,
)


class RequestReads(ServiceBase):
    def __init__(self, deps: ServiceDeps, *, escalations: EscalationService) -> None:
        super().__init__(deps)
        self.escalations = escalations

    def get(self, request_id: int, actor: Actor) -> Request:
        """The request, if ``actor`` may see it; ``NotFoundError`` otherwise (missing and invisible
        look the same, so references cannot be probed)."""
        with self.db.reader() as session:
            return self.load_visible(session, request_id, actor)

    def timeline(self, request_id: int, actor: Actor) -> list[TimelineEvent]:
        """The request's events in order; requesters see only public ones."""
        with self.db.reader() as session:
            self.load_visible(session, request_id, actor)
            query = (
                select(TimelineEvent)
                .where(TimelineEvent.request_id == request_id)
                .order_by(TimelineEvent.seq)
            )
            if actor.kind is ActorKind.REQUESTER:
                query = query.where(TimelineEvent.visibility == Visibility.PUBLIC)
            events = list(session.scalars(query))
            for event in events:
                _ = event.message  # load while the session is open
            return events

    def request_type(self, type_key: str) -> RequestType:
        """The enabled request type ``type_key``; ``ValidationFailed`` when no enabled plugin offers
        it."""
        request_type = self.host.request_types.get(type_key)
        if request_type is None:
            raise ValidationFailed(
                "unknown request type", {"type": f"no request type {type_key!r}"}
            )
        return request_type

    def is_private_subject_kind(self, kind: str) -> bool:
        """Whether subjects of ``kind`` are private (their requests hidden from the portal's public
        lists)."""
        found = self.host.subject_kinds.get(kind)
        return found is not None and found.private

    def may_reach_private(self, request_type: RequestType) -> bool:
        """Could a reference typed for this type mean a private subject (a patient)?"""
        kinds = request_type.subject_kinds or tuple(k.key for k in self.host.subject_kinds)
        return any(self.is_private_subject_kind(kind) for kind in kinds)

    def find_by_reference(self, reference: str, actor: Actor) -> Request:
        """The request a reference such as ``SPOC-00042`` names, as :meth:`get` does;
        ``NotFoundError`` when it is not a reference or the actor cannot see it."""
        request_id = self.parse_reference(reference)
        if request_id is None:
            raise NotFoundError(f"{reference!r} is not a request reference")
        return self.get(request_id, actor)

    def subject_for(
        self, session: Session, request_type: RequestType, subject_id: int | None
    ) -> Subject | None:
        if subject_id is None:
            return None
        subject = session.get(Subject, subject_id)
        if subject is None:
            raise ValidationFailed("unknown subject", {"subject_id": f"no subject {subject_id}"})
        if request_type.subject_kinds and subject.kind not in request_type.subject_kinds:
            raise ValidationFailed(
                "subject does not fit the request type",
                {
                    "subject_id": f"{request_type.title} is about "
                    f"{', '.join(request_type.subject_kinds)}, not {subject.kind}"
                },
            )
        return subject
