"""The conversation: messages, plugin-recorded events, and the requester's feedback."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from spoc.core.domain.attachments import Upload, describe_files
from spoc.core.domain.models import (
    Feedback,
    Message,
    Request,
    Visibility,
)
from spoc.core.domain.requests.fields import (
    EVENT_KIND_MAX,
    nul_errors,
)
from spoc.core.domain.requests.status import RequestStatus, _status_after_message
from spoc.core.domain.writes import WriteContext
from spoc.core.kernel.errors import (
    IllegalTransition,
    PermissionDenied,
    ValidationFailed,
)
from spoc.core.kernel.types import (
    Actor,
    ActorKind,
    Role,
    Status,
    Triage,
)


class RequestConversation(RequestStatus):
    def post_message(
        self,
        request_id: int,
        actor: Actor,
        body: str,
        *,
        internal: bool = False,
        expected_version: int | None = None,
        apply: Callable[[Session, Request], None] | None = None,
        on_message: Callable[[Session, Message], None] | None = None,
        attachments: Sequence[Upload] = (),
    ) -> Request:
        """A public reply or an internal note. Replies move the status where people expect:
        staff replying to a new request takes it into work; a requester replying to a request
        that waits on them (or was resolved) puts it back in progress.

        ``apply`` runs in the same write (a plugin marks "customer told" on its own row), so
        the message, its mail in the outbox and the plugin's mark commit together.
        ``on_message`` runs in that write too, once the message is added (the mail channel
        links the mail it came in to it).

        ``attachments`` are checked before anything is written (``ValidationFailed`` on
        ``attachments``) and stored in the same write as the message. A message may be files
        alone: its body then says what was sent."""
        text = body.strip()
        if "\x00" in text:
            raise ValidationFailed("the message cannot be stored", nul_errors(text, "body"))
        files = self.attachments.check(attachments)
        if not text and files:
            text = "Sent " + ", ".join(f.filename for f in files)
        if not text:
            raise ValidationFailed("the message is empty", {"body": "write a message"})
        if len(text) > 20_000:
            raise ValidationFailed("the message is too long", {"body": "at most 20,000 characters"})
        with self.changing(request_id, actor, expected_version) as write:
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
            if on_message is not None:
                on_message(write.session, message)
            self.attachments.store(
                write.session, request.id, files, actor, write.now, message=message
            )
            data: dict[str, Any] = {"visibility": visibility.value}
            if files:
                data["attachments"] = [f.filename for f in files]
            write.record(
                "message",
                ("Internal note" if internal else "Reply")
                + f" by {actor.name or actor.kind}"
                + describe_files(files),
                data,
                visibility=visibility,
                message=message,
            )
            follow_up = _status_after_message(request.status, actor, internal)
            if follow_up is not None:
                self.set_status(write, follow_up, None)
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
        with self.changing(request_id, actor, expected_version) as write:
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
        request = write.request
        if verdict.escalate_to is not None:
            # Escalate before touching the request row: the escalation flushes for its id,
            # and a dirty request would be written (and versioned) twice.
            self.escalations.escalate_once(
                write, verdict.escalate_to, verdict.reason, f"plugin:{plugin}:{verdict.cause}"
            )
        if verdict.priority is not None and verdict.priority.rank < request.priority.rank:
            self.set_priority(write, verdict.priority, verdict.reason)

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
        with self.changing(request_id, actor, None) as write:
            if write.request.contact_id != actor.id:
                raise PermissionDenied("only the requester rates a request, not a CC")
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
