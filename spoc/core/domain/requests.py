"""The request service: the only writer of request state.

Views, CLI, API and plugins all call these methods; each call is one transaction that also
appends the timeline, and an illegal or stale call is refused with nothing changed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from spoc.core.domain.access import may_change_people, private_request
from spoc.core.domain.audit import AuditAction, record_admin_change
from spoc.core.domain.lifecycle import check_transition
from spoc.core.domain.models import (
    Agent,
    Contact,
    Escalation,
    Feedback,
    Message,
    Request,
    Subject,
    TimelineEvent,
    Visibility,
)
from spoc.core.domain.routing import acting_spoc
from spoc.core.domain.writes import ServiceBase, WriteContext
from spoc.core.kernel.errors import (
    IllegalTransition,
    NotFoundError,
    PermissionDenied,
    ValidationFailed,
)
from spoc.core.kernel.types import (
    Actor,
    ActorKind,
    Priority,
    RequestType,
    Role,
    Routing,
    Status,
    SubjectInfo,
    Triage,
)

STAFF = (Role.ADMIN, Role.AGENT)
SUMMARY_MAX = 200


class ContactDetails(BaseModel):
    """Who is asking. An existing contact is matched by email (case-insensitive)."""

    model_config = ConfigDict(str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    phone: str | None = Field(default=None, max_length=40)
    language: str = Field(default="en", min_length=2, max_length=16)


def validation_errors(exc: ValidationError, prefix: str) -> dict[str, str]:
    errors = {}
    for error in exc.errors():
        path = ".".join(str(p) for p in (prefix, *error["loc"]) if p != "")
        errors[path] = error["msg"]
    return errors


def nul_errors(value: Any, path: str) -> dict[str, str]:
    """Field paths of strings that contain NUL, which no database column accepts."""
    if isinstance(value, str):
        return {path: "contains a NUL character"} if "\x00" in value else {}
    found: dict[str, str] = {}
    if isinstance(value, Mapping):
        for key, item in value.items():
            found.update(nul_errors(item, f"{path}.{key}"))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found.update(nul_errors(item, f"{path}.{index}"))
    return found


def contact_on_record(session: Session, contact_id: int, subject_id: int) -> bool:
    """Is this contact on record for the subject: does the subject's record already hold a
    request they filed? Requests reach a private record only through an intake link, staff or
    a contact proven this way, so the address on record is never one a stranger typed."""
    found = session.scalar(
        select(Request.id)
        .where(Request.subject_id == subject_id, Request.contact_id == contact_id)
        .limit(1)
    )
    return found is not None


def number_errors(value: Any, path: str) -> dict[str, str]:
    """Field paths of numbers no column or JSON document can hold: NaN, infinities, and
    integers beyond 64 bits."""
    if isinstance(value, bool):
        return {}
    if isinstance(value, float):
        return {} if math.isfinite(value) else {path: "must be a finite number"}
    if isinstance(value, int):
        return {} if -(2**63) < value < 2**63 else {path: "is out of range"}
    found: dict[str, str] = {}
    if isinstance(value, Mapping):
        for key, item in value.items():
            found.update(number_errors(item, f"{path}.{key}"))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found.update(number_errors(item, f"{path}.{index}"))
    return found


def subject_info(subject: Subject | None) -> SubjectInfo | None:
    if subject is None:
        return None
    return SubjectInfo(
        subject.id, subject.kind, subject.name, subject.external_ref, dict(subject.attributes)
    )


class RequestService(ServiceBase):
    # --- reading -------------------------------------------------------------------------

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
            answers = self.host.call_each(
                "spoc_resolve_subject",
                reference=text,
                request_type=request_type,
                spoc=self.deps.owner,
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
        return None

    # --- intake --------------------------------------------------------------------------

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
    ) -> tuple[Request, str]:
        """File a request and issue the requester's private tracking token in the same
        transaction: a request never exists without the link its requester was promised.
        ``on_issued`` runs in that transaction too (the portal queues the confirmation mail)."""
        from spoc.core.domain.links import add_tracking_token

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

        now = self.clock.now()
        if clocks_from is not None and (clocks_from.tzinfo is None or clocks_from > now):
            raise ValidationFailed(
                "cannot start the clocks then",
                {"clocks_from": "must be a time with a zone, not in the future"},
            )
        with self.db.transaction() as session:
            subject = self._subject_for(session, request_type, subject_id)
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
            stored = validated.model_dump(mode="json")
            request = Request(
                type_key=request_type.key,
                summary=_summary(stored, request_type),
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
            write.record(
                "created",
                f"{request_type.title} filed by {details.name}",
                {
                    "status": Status.NEW.value,
                    "priority": priority.value,
                    "priority_reason": priority_reason,
                    "owner_agent_id": routing.agent_id,
                    "owner_team_id": request.owner_team_id,
                    "subject_id": request.subject_id,
                    "routing_reason": routing.reason,
                    "covering_for": routing.covering_for,
                    "until": routing.until.isoformat() if routing.until else None,
                    **({"clocks_from": clocks_from.isoformat()} if clocks_from else {}),
                },
            )
            write.record(
                "assigned",
                routing.reason,
                {"to_agent_id": routing.agent_id, "to_team_id": request.owner_team_id},
                visibility=Visibility.INTERNAL,
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
            self.host.call_each(
                "spoc_request_filed",
                request=request,
                fields=validated,
                session=session,
                spoc=self.deps.owner,
            )
            self.observe_late(write)
            if _in_transaction is not None:
                _in_transaction(session, request)
        self.emit(request, write.events, who)
        return request

    def _subject_for(
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
        answers = self.host.call_each(
            "spoc_classify_request",
            request_type=request_type,
            fields=fields,
            subject=subject,
            spoc=self.deps.owner,
        )
        for plugin, proposed in answers:
            proposed = Priority(proposed)
            if proposed.rank < priority.rank:
                priority, reason = proposed, f"{proposed.value} set by plugin {plugin}"
        return priority, reason

    def _triage(
        self, request_type: RequestType, fields: BaseModel, subject: SubjectInfo | None
    ) -> list[tuple[str, Triage]]:
        answers = self.host.call_each(
            "spoc_triage_request",
            request_type=request_type,
            fields=fields,
            subject=subject,
            spoc=self.deps.owner,
        )
        for plugin, verdict in answers:
            if not isinstance(verdict, Triage):
                raise TypeError(f"plugin {plugin!r}: spoc_triage_request must return a Triage")
        return answers

    def _escalate_at_intake(self, write: WriteContext, triage: list[tuple[str, Triage]]) -> None:
        from spoc.core.domain.escalation import MAX_LEVEL

        escalations = self.deps.owner.escalations
        for plugin, verdict in triage:
            if verdict.escalate_to is None or write.request.escalation_level >= MAX_LEVEL:
                continue
            team = self.team_by_key(write.session, verdict.escalate_to, create=True)
            assert team is not None
            escalations.open_escalation(
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
        overrides = self.host.call_each(
            "spoc_route_request",
            request_type=request_type,
            fields=fields,
            subject=info,
            proposed=proposed,
            spoc=self.deps.owner,
        )
        if not overrides:
            return proposed
        plugin, chosen = min(overrides, key=lambda answer: (answer[1].order, answer[0]))
        if not isinstance(chosen, Routing):
            raise TypeError(f"plugin {plugin!r}: spoc_route_request must return a Routing")
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

    # --- status --------------------------------------------------------------------------

    def transition(
        self,
        request_id: int,
        target: Status | str,
        actor: Actor,
        *,
        expected_version: int | None = None,
        reason: str | None = None,
    ) -> Request:
        """Move the request to status ``target`` by the lifecycle's rules for ``actor``'s role;
        ``IllegalTransition`` when the move is not allowed, ``ConflictError`` when
        ``expected_version`` is stale. ``reason`` is recorded on the timeline."""
        target = Status(target)
        with self._changing(request_id, actor, expected_version) as write:
            self._set_status(write, target, reason)
        return write.request

    def kept_open(self, session: Session, request: Request) -> str | None:
        """Why plugins say ``request`` must not be resolved or closed automatically, if so."""
        reasons = self.host.call_each(
            "spoc_keep_open", request=request, session=session, spoc=self.deps.owner
        )
        return "; ".join(str(reason) for _, reason in reasons) or None

    def _set_status(self, write: WriteContext, target: Status, reason: str | None) -> None:
        request, actor = write.request, write.actor
        current = request.status
        check_transition(current, target, actor)
        automatic = actor.kind is ActorKind.SYSTEM and target in (Status.RESOLVED, Status.CLOSED)
        if automatic and (held := self.kept_open(write.session, request)):
            raise IllegalTransition(f"only a person may resolve or close this request: {held}")
        request.status = target
        if target is Status.RESOLVED:
            request.resolved_at = write.now
        elif target is Status.OPEN and current is Status.RESOLVED:
            request.resolved_at = None
        if target.is_final:
            request.closed_at = write.now
            request.closed_by = write.actor.name or actor.kind.value
            request.close_reason = reason or _default_close_reason(target, actor)
        write.record(
            "status_changed",
            f"{current.value} → {target.value}" + (f": {reason}" if reason else ""),
            {"from": current.value, "to": target.value, "reason": reason},
        )
        if target.is_final:
            for escalation in self._open_escalations(write):
                escalation.handed_back_at = write.now
                request.escalation_level = 0
                write.record(
                    "handed_back",
                    f"Escalation level {escalation.level} closed with the request",
                    {"escalation_id": escalation.id, "level": 0, "auto": True},
                    visibility=Visibility.INTERNAL,
                )

    @staticmethod
    def _open_escalations(write: WriteContext) -> list[Escalation]:
        return list(
            write.session.scalars(
                select(Escalation)
                .where(
                    Escalation.request_id == write.request.id, Escalation.handed_back_at.is_(None)
                )
                .order_by(Escalation.level.desc(), Escalation.id.desc())
            )
        )

    # --- conversation --------------------------------------------------------------------

    def post_message(
        self,
        request_id: int,
        actor: Actor,
        body: str,
        *,
        internal: bool = False,
        expected_version: int | None = None,
        apply: Callable[[Session, Request], None] | None = None,
    ) -> Request:
        """A public reply or an internal note. Replies move the status where people expect:
        staff replying to a new request takes it into work; a requester replying to a request
        that waits on them (or was resolved) puts it back in progress.

        ``apply`` runs in the same write (a plugin marks "customer told" on its own row), so
        the message, its mail in the outbox and the plugin's mark commit together."""
        text = body.strip()
        if "\x00" in text:
            raise ValidationFailed("the message cannot be stored", nul_errors(text, "body"))
        if not text:
            raise ValidationFailed("the message is empty", {"body": "write a message"})
        if len(text) > 20_000:
            raise ValidationFailed("the message is too long", {"body": "at most 20,000 characters"})
        with self._changing(request_id, actor, expected_version) as write:
            request = write.request
            if request.status.is_final:
                raise IllegalTransition(
                    f"{self.reference(request_id)} is {request.status.value}; "
                    "file a new request instead"
                )
            self._check_may_post(actor, internal)
            if apply is not None:
                apply(write.session, write.request)
            visibility = Visibility.INTERNAL if internal else Visibility.PUBLIC
            message = Message(
                request_id=request.id,
                visibility=visibility,
                author_kind=actor.kind,
                author_agent_id=actor.id if actor.kind is ActorKind.AGENT else None,
                author_contact_id=actor.id if actor.kind is ActorKind.REQUESTER else None,
                body=text,
                created_at=write.now,
            )
            write.session.add(message)
            write.record(
                "message",
                ("Internal note" if internal else "Reply") + f" by {actor.name or actor.kind}",
                {"visibility": visibility.value},
                visibility=visibility,
                message=message,
            )
            follow_up = _status_after_message(request.status, actor, internal)
            if follow_up is not None:
                self._set_status(write, follow_up, None)
        return write.request

    def record_event(
        self,
        request_id: int,
        actor: Actor,
        *,
        kind: str,
        summary: str,
        data: Mapping[str, Any] | None = None,
        public: bool = False,
        apply: Callable[[Session, Request], Triage | None] | None = None,
        expected_version: int | None = None,
    ) -> Request:
        """A plugin's change to its own records, on the request's timeline, in one write.

        ``apply`` runs inside the request's write transaction (with the request row locked and
        its version checked), so the plugin's own rows and the timeline event commit or fail
        together. If it returns a :class:`spoc.Triage`, that verdict is applied in the same
        write: the priority raised, and the request escalated to ``escalate_to`` once per
        ``cause`` (a second time the same cause is a no-op; so is an escalation past the top
        level or of a closed request). ``kind`` is namespaced by the plugin
        (``healthcare.apt_confirm``). Viewers cannot record; requesters only when ``public``."""
        if "." not in kind or len(kind) > EVENT_KIND_MAX:
            raise ValueError(
                f"plugin event kinds are namespaced ('plugin.what') and at most "
                f"{EVENT_KIND_MAX} characters, not {kind!r}"
            )
        if not summary.strip():
            raise ValidationFailed("nothing to record", {"summary": "required"})
        with self._changing(request_id, actor, expected_version) as write:
            if actor.kind is ActorKind.AGENT and actor.role is Role.VIEWER:
                raise PermissionDenied("a viewer may not change requests")
            if actor.kind is ActorKind.REQUESTER and not public:
                raise PermissionDenied("a requester cannot write internal events")
            verdict = apply(write.session, write.request) if apply is not None else None
            write.record(
                kind,
                summary.strip(),
                dict(data or {}),
                visibility=Visibility.PUBLIC if public else Visibility.INTERNAL,
            )
            if isinstance(verdict, Triage):
                self._apply_verdict(write, kind.split(".", 1)[0], verdict)
        return write.request

    def _apply_verdict(self, write: WriteContext, plugin: str, verdict: Triage) -> None:
        from spoc.core.domain.escalation import MAX_LEVEL
        from spoc.core.domain.models import EscalationTrigger

        request = write.request
        trigger = f"plugin:{plugin}:{verdict.cause}"
        if (
            verdict.escalate_to is not None
            and not request.status.is_final
            and request.escalation_level < MAX_LEVEL
            and write.session.get(EscalationTrigger, (request.id, trigger)) is None
        ):
            # Escalate before touching the request row: the escalation flushes for its id,
            # and a dirty request would be written (and versioned) twice.
            write.session.add(
                EscalationTrigger(request_id=request.id, trigger=trigger, fired_at=write.now)
            )
            team = self.team_by_key(write.session, verdict.escalate_to, create=True)
            assert team is not None
            self.deps.owner.escalations.open_escalation(write, team, verdict.reason, trigger)
        if verdict.priority is not None and verdict.priority.rank < request.priority.rank:
            self._set_priority(write, verdict.priority, verdict.reason)

    @staticmethod
    def _check_may_post(actor: Actor, internal: bool) -> None:
        if actor.kind is ActorKind.REQUESTER and internal:
            raise PermissionDenied("a requester cannot write internal notes")
        if actor.kind is ActorKind.AGENT:
            if actor.role is Role.VIEWER:
                raise PermissionDenied("a viewer may not post messages")
            if actor.role is Role.SPECIALIST and not internal:
                # The SPOC keeps the stakeholder-facing voice; specialists answer the SPOC.
                raise PermissionDenied("a specialist answers the SPOC with internal notes")

    # --- ownership, priority, subject ----------------------------------------------------

    def assign(
        self,
        request_id: int,
        actor: Actor,
        *,
        agent_id: int | None = None,
        team_key: str | None = None,
        expected_version: int | None = None,
        reason: str | None = None,
    ) -> Request:
        """Give the request to an agent (``agent_id``) or a team (``team_key``), exactly one; staff
        only. ``expected_version`` refuses a stale write with ``ConflictError``;
        ``NotFoundError`` when the actor cannot see the request."""
        if (agent_id is None) == (team_key is None):
            raise ValidationFailed("assign to an agent or a team", {"owner": "choose exactly one"})
        with self._changing(request_id, actor, expected_version) as write:
            self.require_staff(actor, "reassign requests", STAFF)
            session, request = write.session, write.request
            if agent_id is not None:
                agent = session.get(Agent, agent_id)
                if agent is None or not agent.active or agent.role not in STAFF:
                    raise ValidationFailed(
                        "cannot assign", {"agent_id": "not an active agent who can be a SPOC"}
                    )
                team_id, label = None, agent.name
            else:
                assert team_key is not None
                team = self.team_by_key(session, team_key)
                if team is None:
                    raise ValidationFailed("cannot assign", {"team": f"no team {team_key!r}"})
                team_id, label, agent_id = team.id, team.name, None
            subject = session.get(Subject, request.subject_id) if request.subject_id else None
            if private_request(
                self.host, request.type_key, subject.kind if subject else None
            ) and not may_change_people(session, actor, subject):
                raise PermissionDenied(
                    "only an admin or the subject's SPOC may reassign a private request"
                )
            self._audit_owner(write, actor, agent_id, team_id, f"Assigned to {label}")
            request.owner_agent_id, request.owner_team_id = agent_id, team_id
            write.record(
                "assigned",
                f"Assigned to {label}" + (f": {reason}" if reason else ""),
                {"to_agent_id": agent_id, "to_team_id": team_id, "reason": reason},
                visibility=Visibility.INTERNAL,
            )
        return write.request

    def _audit_owner(
        self,
        write: WriteContext,
        actor: Actor,
        agent_id: int | None,
        team_id: int | None,
        summary: str,
    ) -> None:
        """An owner change is a change of who may see the request: the admin audit trail."""
        request = write.request
        before = {"owner_agent_id": request.owner_agent_id, "owner_team_id": request.owner_team_id}
        after = {"owner_agent_id": agent_id, "owner_team_id": team_id}
        if before == after:
            return
        record_admin_change(
            write.session,
            actor,
            AuditAction.REQUEST_OWNER,
            "request",
            request.id,
            f"{self.reference(request.id)}: {summary}",
            at=self.clock.now(),
            before={**before, "subject_id": request.subject_id},
            after={**after, "subject_id": request.subject_id},
        )

    def change_priority(
        self,
        request_id: int,
        actor: Actor,
        priority: Priority | str,
        *,
        reason: str,
        expected_version: int | None = None,
    ) -> Request:
        """Set the request's priority, saying why (``reason`` is required and recorded on the
        timeline); staff only. The SLA clocks follow the new priority."""
        target = Priority(priority)
        if not reason.strip():
            raise ValidationFailed("say why the priority changes", {"reason": "required"})
        with self._changing(request_id, actor, expected_version) as write:
            self.require_staff(actor, "change priority", STAFF)
            if write.request.priority is target:
                raise ValidationFailed("nothing to change", {"priority": f"already {target}"})
            self._set_priority(write, target, reason)
        return write.request

    @staticmethod
    def _set_priority(write: WriteContext, target: Priority, reason: str) -> None:
        current = write.request.priority
        write.request.priority = target
        write.record(
            "priority_changed",
            f"Priority {current.value} → {target.value}: {reason.strip()}",
            {"from": current.value, "to": target.value, "reason": reason.strip()},
            visibility=Visibility.INTERNAL,
        )

    def link_subject(
        self,
        request_id: int,
        actor: Actor,
        subject_id: int,
        *,
        expected_version: int | None = None,
    ) -> Request:
        """Triage: attach a request to its subject; the subject's acting SPOC takes it over."""
        with self._changing(request_id, actor, expected_version) as write:
            self.require_staff(actor, "link requests to subjects", STAFF)
            request = write.request
            request_type = self.host.request_types.get(request.type_key)
            if request_type is not None:
                subject = self._subject_for(write.session, request_type, subject_id)
            else:
                subject = write.session.get(Subject, subject_id)
            if subject is None:
                raise ValidationFailed(
                    "unknown subject", {"subject_id": f"no subject {subject_id}"}
                )
            before = request.subject_id
            request.subject_id = subject.id
            if self.is_private_subject_kind(subject.kind):
                # Staff verified who the requester is: it opens the record to them.
                record_admin_change(
                    write.session,
                    actor,
                    AuditAction.REQUEST_SUBJECT_VERIFIED,
                    "request",
                    request.id,
                    f"{self.reference(request.id)} linked to the private record of "
                    f"subject {subject.id}: the requester's identity was checked",
                    at=write.now,
                    before={"subject_id": before},
                    after={"subject_id": subject.id},
                )
            write.record(
                "subject_linked",
                f"Linked to {subject.name}",
                {"subject_id": subject.id},
                visibility=Visibility.INTERNAL,
            )
            routing = acting_spoc(write.session, subject, self.today(), self.settings.desk_team)
            team = (
                self.team_by_key(write.session, routing.team_key, create=True)
                if routing.team_key
                else None
            )
            self._audit_owner(
                write, actor, routing.agent_id, team.id if team else None, routing.reason
            )
            request.owner_agent_id = routing.agent_id
            request.owner_team_id = team.id if team else None
            write.record(
                "assigned",
                routing.reason,
                {"to_agent_id": routing.agent_id, "to_team_id": request.owner_team_id},
                visibility=Visibility.INTERNAL,
            )
        return write.request

    # --- feedback ------------------------------------------------------------------------

    def give_feedback(
        self, request_id: int, actor: Actor, rating: int, comment: str = ""
    ) -> Request:
        """The requester's rating (1 to 5) and comment on a resolved or closed request, once;
        ``PermissionDenied`` for anyone but the requester, ``IllegalTransition`` before it is
        resolved."""
        if actor.kind is not ActorKind.REQUESTER:
            raise PermissionDenied("only the requester rates a request")
        if not 1 <= rating <= 5:
            raise ValidationFailed("invalid rating", {"rating": "choose 1 to 5"})
        with self._changing(request_id, actor, None) as write:
            if write.request.status not in (Status.RESOLVED, Status.CLOSED):
                raise IllegalTransition("a request can be rated once it is resolved")
            existing = write.session.scalar(
                select(Feedback).where(Feedback.request_id == request_id)
            )
            if existing is not None:
                raise IllegalTransition("this request has already been rated")
            write.session.add(
                Feedback(
                    request_id=request_id,
                    rating=rating,
                    comment=comment.strip()[:5000],
                    created_at=write.now,
                )
            )
            write.record("feedback", f"Rated {rating}/5", {"rating": rating})
        return write.request

    def find_by_reference(self, reference: str, actor: Actor) -> Request:
        """The request a reference such as ``SPOC-00042`` names, as :meth:`get` does;
        ``NotFoundError`` when it is not a reference or the actor cannot see it."""
        request_id = self.parse_reference(reference)
        if request_id is None:
            raise NotFoundError(f"{reference!r} is not a request reference")
        return self.get(request_id, actor)


EVENT_KIND_MAX = 32  # timeline_events.kind


def sensitive_fields(model: type[BaseModel]) -> frozenset[str]:
    """Form fields marked ``json_schema_extra={"sensitive": True}`` (clinical detail, …)."""
    return frozenset(
        name
        for name, info in model.model_fields.items()
        if isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("sensitive")
    )


def _summary(fields: Mapping[str, Any], request_type: RequestType) -> str:
    if request_type.private:
        return request_type.title[:SUMMARY_MAX]
    hidden = sensitive_fields(request_type.fields_model)
    for key in ("summary", "subject", "title"):
        if key in hidden:
            continue
        value = fields.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:SUMMARY_MAX]
    return request_type.title[:SUMMARY_MAX]


def _default_close_reason(target: Status, actor: Actor) -> str:
    if target is Status.CANCELLED:
        return "cancelled by the requester" if actor.kind is ActorKind.REQUESTER else "cancelled"
    if actor.kind is ActorKind.REQUESTER:
        return "confirmed resolved by the requester"
    if actor.kind is ActorKind.SYSTEM:
        return "closed automatically after resolution"
    return "closed by staff"


def _status_after_message(current: Status, actor: Actor, internal: bool) -> Status | None:
    if internal:
        return None
    if actor.kind in (ActorKind.AGENT, ActorKind.SYSTEM) and current is Status.NEW:
        return Status.OPEN
    if actor.kind is ActorKind.REQUESTER and current in (Status.WAITING, Status.RESOLVED):
        return Status.OPEN
    return None
