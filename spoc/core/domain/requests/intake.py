"""Intake: a new request validated, classified, triaged, routed and filed in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from spoc.core.domain.assignment import pick_member
from spoc.core.domain.attachments import Upload, describe_files
from spoc.core.domain.escalation import MAX_LEVEL
from spoc.core.domain.links import add_tracking_token
from spoc.core.domain.models import (
    Agent,
    Contact,
    Request,
    Subject,
    Visibility,
)
from spoc.core.domain.requests.belonging import RequestSubjects
from spoc.core.domain.requests.fields import (
    STAFF,
    ContactDetails,
    contact_on_record,
    nul_errors,
    number_errors,
    subject_info,
    summary_of,
    validation_errors,
)
from spoc.core.domain.routing import acting_spoc
from spoc.core.domain.writes import WriteContext
from spoc.core.kernel.errors import (
    ValidationFailed,
)
from spoc.core.kernel.types import (
    Actor,
    ActorKind,
    Priority,
    RequestType,
    Routing,
    Status,
    SubjectInfo,
    Triage,
)
from spoc.core.platform import hookspecs

ROUTING = Actor.system("Routing")


class RequestIntake(RequestSubjects):
    def resolve_subject_reference(
        self,
        reference: str,
        request_type: RequestType,
        *,
        proven_contact_id: int | None = None,
    ) -> int | None:
        """The subject a stakeholder means by a reference they know (see spoc_resolve_subject).

        A typed reference is a claim, never proof. Where it could mean a private subject
        (see :attr:`SubjectKind.private`) the answer is ``None``
        — file without a subject — unless ``proven_contact_id`` (a contact signed in by magic
        link) is on record for that subject; unknown and ambiguous references give ``None``
        too, so the answer never tells whether a record number exists.

        Elsewhere raises :class:`ValidationFailed` on ``reference`` when nobody knows it or
        plugins disagree."""
        text = reference.strip()
        if not text or len(text) > 100 or "\x00" in text:
            raise ValidationFailed(
                "unknown reference", {"reference": "Enter the reference you were given"}
            )
        guarded = self.may_reach_private(request_type)
        with self.db.reader() as session:
            query = select(Subject.id).where(Subject.external_ref == text)
            if request_type.subject_kinds:
                query = query.where(Subject.kind.in_(request_type.subject_kinds))
            matches = set(session.scalars(query.limit(2)))
        if not matches:
            answers = self.hooks.each(
                hookspecs.spoc_resolve_subject,
                reference=text,
                request_type=request_type,
                spoc=self.hooks.spoc,
            )
            matches = {int(subject_id) for _, subject_id in answers}
        if len(matches) != 1:
            if guarded:
                return None
            problem = (
                "We could not find that reference" if not matches else "That reference is ambiguous"
            )
            raise ValidationFailed(
                "unknown reference",
                {"reference": f"{problem}; check it, or leave it empty and we will find it"},
            )
        subject_id = matches.pop()
        with self.db.reader() as session:
            subject = session.get(Subject, subject_id)
            if subject is None:
                return None
            if not self.is_private_subject_kind(subject.kind):
                return subject_id
            if proven_contact_id is not None and contact_on_record(
                session, proven_contact_id, subject_id
            ):
                return subject_id
        if proven_contact_id is not None and self.contact_belongs_to(proven_contact_id, subject_id):
            return subject_id
        return None

    def create_with_tracking_link(
        self,
        *,
        type_key: str,
        fields: Mapping[str, Any],
        requester: ContactDetails | Mapping[str, Any],
        subject_id: int | None = None,
        actor: Actor | None = None,
        on_issued: Callable[[Session, Request, str], None] | None = None,
        claimed_reference: str | None = None,
        attachments: Sequence[Upload] = (),
        channel: str | None = None,
        via: str | None = None,
    ) -> tuple[Request, str]:
        """File a request and issue the requester's private tracking token in the same
        transaction: a request never exists without the link its requester was promised.
        ``on_issued`` runs in that transaction too (the portal queues the confirmation mail)."""
        issued: list[str] = []

        def issue(session: Session, request: Request) -> None:
            token = add_tracking_token(session, request.id, self.clock.now(), self.settings)
            issued.append(token)
            if on_issued is not None:
                on_issued(session, request, token)

        request = self.create(
            type_key=type_key,
            fields=fields,
            requester=requester,
            subject_id=subject_id,
            actor=actor,
            claimed_reference=claimed_reference,
            attachments=attachments,
            channel=channel,
            via=via,
            _in_transaction=issue,
        )
        return request, issued[0]

    def create(
        self,
        *,
        type_key: str,
        fields: Mapping[str, Any],
        requester: ContactDetails | Mapping[str, Any],
        subject_id: int | None = None,
        actor: Actor | None = None,
        clocks_from: datetime | None = None,
        claimed_reference: str | None = None,
        attachments: Sequence[Upload] = (),
        channel: str | None = None,
        via: str | None = None,
        _in_transaction: Callable[[Session, Request], None] | None = None,
    ) -> Request:
        """File a request: validate, classify, triage, route to the acting SPOC, start the
        timeline.

        ``clocks_from`` starts the SLA clocks when the need arose rather than now (a discharge
        recorded the next morning still owes its first call two business days after the
        discharge); it may not lie in the future.

        ``claimed_reference`` is a reference the requester typed that was not accepted as
        proof (see :meth:`resolve_subject_reference`): staff see it on the timeline as an
        unverified claim to check; the requester never sees it echoed back.

        ``channel`` (``phone`` or ``walk-in``) is how a caller reached the agent who files for
        them: the agent is the ``actor``, and the timeline credits them ("filed by Dana Reyes
        for Maria Anders by phone").

        ``via`` (``email``, ``api``) is the channel a request came through when its filer is
        not the one saying so: the reports' channel mix (the portal, and the system opening
        one itself, are told by who files).

        The requester is matched to a contact by email, but that contact's stored name and
        details are never changed by intake, and the timeline names the requester as they
        typed it here: an email address proves nothing about who typed it."""
        request_type = self.request_type(type_key)
        raw_requester = requester.model_dump() if isinstance(requester, BaseModel) else requester
        if bad := {
            **nul_errors(dict(fields), "fields"),
            **nul_errors(dict(raw_requester), "requester"),
        }:
            raise ValidationFailed("the request contains characters we cannot store", bad)
        try:
            details = (
                requester
                if isinstance(requester, ContactDetails)
                else ContactDetails.model_validate(dict(requester))
            )
        except ValidationError as exc:
            raise ValidationFailed(
                "requester details are invalid", validation_errors(exc, "requester")
            ) from None
        try:
            validated = request_type.fields_model.model_validate(dict(fields))
        except ValidationError as exc:
            raise ValidationFailed(
                "the form has errors", validation_errors(exc, "fields")
            ) from None
        if bad := number_errors(validated.model_dump(), "fields"):
            raise ValidationFailed("the form has errors", bad)
        if actor is not None and actor.kind is ActorKind.AGENT:
            self.require_staff(actor, "file a request", STAFF)
        if channel is not None and (
            channel not in CALLER_CHANNELS or actor is None or actor.kind is not ActorKind.AGENT
        ):
            raise ValidationFailed(
                "invalid channel",
                {"channel": f"one of {', '.join(CALLER_CHANNELS)}, by an agent filing for them"},
            )
        files = self.attachments.check(attachments)

        now = self.clock.now()
        if clocks_from is not None and (clocks_from.tzinfo is None or clocks_from > now):
            raise ValidationFailed(
                "cannot start the clocks then",
                {"clocks_from": "must be a time with a zone, not in the future"},
            )
        with self.db.transaction() as session:
            subject = self.subject_for(session, request_type, subject_id)
            contact = self._contact(session, details, now)
            who = actor or Actor.requester(contact.id, details.name)
            info = subject_info(subject)
            priority, priority_reason = self._classify(request_type, validated, info)
            triage = self._triage(request_type, validated, info)
            for plugin, verdict in triage:
                if verdict.priority is not None and verdict.priority.rank < priority.rank:
                    priority = verdict.priority
                    priority_reason = f"{priority.value} set by plugin {plugin}: {verdict.reason}"
            routing = self._route(session, request_type, validated, subject, info)
            owner_team = (
                self.team_by_key(session, routing.team_key, create=True)
                if routing.team_key
                else None
            )
            # A team with an assignment rule gives the request to one of its members.
            picked = pick_member(session, owner_team, self.today()) if owner_team else None
            if picked is not None:
                routing = Routing(picked.agent_id, None, f"{routing.reason}; {picked.reason}")
                owner_team = None
            stored = validated.model_dump(mode="json")
            request = Request(
                type_key=request_type.key,
                summary=summary_of(stored, request_type),
                fields=stored,
                priority=priority,
                status=Status.NEW,
                contact_id=contact.id,
                subject_id=subject.id if subject else None,
                owner_agent_id=routing.agent_id,
                owner_team_id=owner_team.id if owner_team else None,
                escalation_level=0,
                created_at=now,
                updated_at=now,
            )
            session.add(request)
            write = WriteContext(session, request, who, now, 1)
            write.clocks_from = clocks_from
            write.record(
                "created",
                _filed_by(request_type.title, details.name, who, channel) + describe_files(files),
                {
                    **({"channel": channel, "filed_by_agent_id": who.id} if channel else {}),
                    **({"via": via} if via in VIA else {}),
                    **({"attachments": [f.filename for f in files]} if files else {}),
                    "status": Status.NEW.value,
                    "priority": priority.value,
                    "priority_reason": priority_reason,
                    "owner_agent_id": routing.agent_id,
                    "owner_team_id": request.owner_team_id,
                    "subject_id": request.subject_id,
                    "routing_reason": routing.reason,
                    "covering_for": routing.covering_for,
                    "until": routing.until.isoformat() if routing.until else None,
                },
            )
            write.record(
                "assigned",
                routing.reason,
                {"to_agent_id": routing.agent_id, "to_team_id": request.owner_team_id},
                visibility=Visibility.INTERNAL,
                by=ROUTING,  # the routing rules chose, not the requester
            )
            if claimed_reference:
                write.record(
                    "reference_claimed",
                    f"The requester typed the reference “{claimed_reference[:100]}”. Not "
                    "verified, so this request is in no record: check who they are before "
                    "linking it.",
                    {"reference": claimed_reference[:100]},
                    visibility=Visibility.INTERNAL,
                )
            for plugin, verdict in triage:
                if verdict.notice:
                    write.record("notice", verdict.notice, {"plugin": plugin})
            if any(verdict.escalate_to for _, verdict in triage):
                session.flush()  # the escalation rows need the request's id
                self._escalate_at_intake(write, triage)
            self.observe(write)
            session.flush()  # one INSERT with the observers' changes: version 1
            self.attachments.store(session, request.id, files, who, now)
            self.hooks.each(
                hookspecs.spoc_request_filed,
                request=request,
                fields=validated,
                session=session,
                spoc=self.hooks.spoc,
            )
            self.observe_late(write)
            if _in_transaction is not None:
                _in_transaction(session, request)
        self.emit(request, write.events, who)
        return request

    def _contact(self, session: Session, details: ContactDetails, now: Any) -> Contact:
        email = details.email.lower()
        contact = session.scalar(select(Contact).where(Contact.email == email))
        if contact is not None:
            return contact
        try:
            # A savepoint, so a concurrent intake creating the same contact is not an error.
            with session.begin_nested():
                contact = Contact(
                    email=email,
                    name=details.name,
                    phone=details.phone,
                    language=details.language,
                    attributes={},
                    created_at=now,
                )
                session.add(contact)
        except IntegrityError:
            contact = session.scalar(select(Contact).where(Contact.email == email))
            if contact is None:
                raise
        return contact

    def _classify(
        self, request_type: RequestType, fields: BaseModel, subject: SubjectInfo | None
    ) -> tuple[Priority, str]:
        priority = request_type.priority_for(fields)
        reason = f"{priority.value} by the {request_type.title} rules"
        answers = self.hooks.each(
            hookspecs.spoc_classify_request,
            request_type=request_type,
            fields=fields,
            subject=subject,
            spoc=self.hooks.spoc,
        )
        for plugin, proposed in answers:
            proposed = Priority(proposed)
            if proposed.rank < priority.rank:
                priority, reason = proposed, f"{proposed.value} set by plugin {plugin}"
        return priority, reason

    def _triage(
        self, request_type: RequestType, fields: BaseModel, subject: SubjectInfo | None
    ) -> list[tuple[str, Triage]]:
        answers = self.hooks.each(
            hookspecs.spoc_triage_request,
            request_type=request_type,
            fields=fields,
            subject=subject,
            spoc=self.hooks.spoc,
        )
        return [(plugin, verdict) for plugin, verdict in answers]

    def _escalate_at_intake(self, write: WriteContext, triage: list[tuple[str, Triage]]) -> None:
        for plugin, verdict in triage:
            if verdict.escalate_to is None or write.request.escalation_level >= MAX_LEVEL:
                continue
            team = self.team_by_key(write.session, verdict.escalate_to, create=True)
            assert team is not None
            self.escalations.open_escalation(
                write, team, verdict.reason, f"plugin:{plugin}:{verdict.cause}"
            )

    def _route(
        self,
        session: Session,
        request_type: RequestType,
        fields: BaseModel,
        subject: Subject | None,
        info: SubjectInfo | None,
    ) -> Routing:
        proposed = acting_spoc(session, subject, self.today(), self.settings.desk_team)
        overrides = self.hooks.each(
            hookspecs.spoc_route_request,
            request_type=request_type,
            fields=fields,
            subject=info,
            proposed=proposed,
            spoc=self.hooks.spoc,
        )
        if not overrides:
            return proposed
        plugin, chosen = min(overrides, key=lambda answer: (answer[1].order, answer[0]))
        if chosen.agent_id is not None and session.get(Agent, chosen.agent_id) is None:
            raise ValueError(f"plugin {plugin!r} routed to unknown agent {chosen.agent_id}")
        return Routing(
            chosen.agent_id,
            chosen.team_key,
            f"{chosen.reason} (routing by plugin {plugin})",
            chosen.covering_for,
            chosen.until,
            chosen.order,
        )


CALLER_CHANNELS = ("phone", "walk-in")
VIA = ("email", "api")
"""How a caller reaches an agent who files a request for them."""


def _filed_by(title: str, requester: str, who: Actor, channel: str | None) -> str:
    if channel is None:
        return f"{title} filed by {requester}"
    how = "by phone" if channel == "phone" else "in person (walk-in)"
    return f"{title} filed by {who.name} for {requester} {how}"
