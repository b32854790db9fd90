"""Reading requests: one request, its timeline, its type."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from spoc.core.domain.access import clean_reason, report_staff_read
from spoc.core.domain.attachments import AttachmentLine, AttachmentRules
from spoc.core.domain.escalation import EscalationService
from spoc.core.domain.models import (
    Attachment,
    Request,
    Subject,
    TimelineEvent,
    Visibility,
)
from spoc.core.domain.notifications import Notifier
from spoc.core.domain.reads.detail import RequestDetail, request_detail
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
    def __init__(
        self, deps: ServiceDeps, *, escalations: EscalationService, notifier: Notifier
    ) -> None:
        super().__init__(deps)
        self.escalations = escalations
        self.notifier = notifier  # mails a write composes itself (a CC's own link)
        self.attachments = AttachmentRules(deps.settings, deps.hooks, deps.files)

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
            # The messages in one query while the session is open, not one per event.
            return list(session.scalars(query.options(selectinload(TimelineEvent.message))))

    def detail(
        self,
        request_id: int,
        reader: Actor,
        *,
        channel: str,
        what: str = "request",
        reason: str | None = None,
        reason_field: str = "reason",
    ) -> RequestDetail:
        """The request as ``reader`` may see it, for its page: the console's, the portal's
        tracking page or the API's (see :class:`~spoc.RequestDetail` for who sees what).

        The access rules run here, once: a request the reader may not see is
        ``NotFoundError``; a staff read is reported to ``spoc_staff_access`` as ``what`` on
        ``channel`` (``console``, ``api``, ``cli``) with the break-glass ``reason`` they gave,
        and :class:`~spoc.AccessReasonRequired` when a plugin wants one first (a reason too
        short is ``ValidationFailed`` naming ``reason_field``)."""
        with self.db.reader() as session:
            found = self.load_visible(session, request_id, reader)
        reason = clean_reason(reason, field=reason_field)
        report_staff_read(
            self.db,
            self.hooks,
            self.clock,
            reader,
            what,
            channel,
            request=found,
            reason=reason,
        )
        with self.db.reader() as session:
            found = self.load_visible(session, request_id, reader)
            return request_detail(
                session, found, reader, host=self.host, settings=self.settings, today=self.today()
            )

    def attachment_content(
        self,
        request_id: int,
        attachment_id: int,
        reader: Actor,
        *,
        channel: str,
        reason: str | None = None,
        reason_field: str = "reason",
    ) -> tuple[AttachmentLine, bytes]:
        """One attachment and its content, for a download: read through :meth:`detail` (the
        same access rules, and a staff read reported as ``attachment``), so a file the reader
        does not see on the request's page — another request's, an internal note's for the
        requester — is ``NotFoundError`` like a missing one."""
        detail = self.detail(
            request_id,
            reader,
            channel=channel,
            what="attachment",
            reason=reason,
            reason_field=reason_field,
        )
        line = detail.attachment(attachment_id)
        with self.db.reader() as session:
            key = session.scalar(
                select(Attachment.storage_key).where(
                    Attachment.id == attachment_id, Attachment.request_id == request_id
                )
            )
        data = self.attachments.read(key) if line is not None and key is not None else None
        if line is None or data is None:
            raise NotFoundError(f"no attachment {attachment_id} on {self.reference(request_id)}")
        return line, data

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
