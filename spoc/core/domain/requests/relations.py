"""Requests and each other, and who follows them: merge a duplicate, parent and child for a
major incident, related links; CCs (contacts copied on a request) and watchers (agents).

A merge or a link changes both requests in one transaction (``changing_together``). The
duplicate is cancelled with the reason "merged into REQ-…", which is the one message its
requester gets; its old tracking link leads to the survivor, where a requester who is not the
survivor's is a CC. Resolving a parent resolves each open child, the resolution's words the
one public message each child's requester gets.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from spoc.core.domain.links import add_tracking_token
from spoc.core.domain.models import (
    Agent,
    Contact,
    Request,
    RequestCc,
    RequestLink,
    RequestWatcher,
    Visibility,
)
from spoc.core.domain.models.relations import CHILD_OF, MERGED_INTO, RELATED
from spoc.core.domain.requests.fields import STAFF, ContactDetails
from spoc.core.domain.requests.intake import RequestIntake
from spoc.core.kernel.errors import IllegalTransition, PermissionDenied, ValidationFailed
from spoc.core.kernel.types import Actor, ActorKind, Role, Status

CHILDREN_BATCH = 100
MAX_CCS = 20


@dataclass(frozen=True)
class RelatedLine:
    id: int
    reference: str
    summary: str
    status: Status
    kind: str  # merged_from, merged_into, parent, child, related


@dataclass(frozen=True)
class FollowerLine:
    id: int  # contact id (a CC) or agent id (a watcher)
    name: str
    email: str


@dataclass(frozen=True)
class Relations:
    """A request's relations, as staff who may read it see them (at most 50 of each kind)."""

    related: tuple[RelatedLine, ...]
    ccs: tuple[FollowerLine, ...]
    watchers: tuple[FollowerLine, ...]


class RequestRelations(RequestIntake):
    # --- merge and links --------------------------------------------------------------------

    def merge(
        self, duplicate_id: int, survivor_id: int, actor: Actor, *, reason: str | None = None
    ) -> Request:
        """Merge ``duplicate_id`` into ``survivor_id``: the duplicate is cancelled, saying where
        it went; its timeline stays and shows on the survivor; its requester follows the
        survivor (as a CC when not the survivor's requester). Returns the survivor."""
        self.require_staff(actor, "merge requests", STAFF)
        if duplicate_id == survivor_id:
            raise ValidationFailed("a request cannot be merged into itself", {"into": "another"})
        with self.changing_together([duplicate_id, survivor_id], actor) as (dup, survivor):
            session = dup.session
            for write in (dup, survivor):
                if write.request.status.is_final:
                    raise IllegalTransition(
                        f"{self.reference(write.request.id)} is {write.request.status.value}"
                    )
                if self._link_from(session, write.request.id, MERGED_INTO) is not None:
                    raise IllegalTransition(f"{self.reference(write.request.id)} was merged")
            same_requester = dup.request.contact_id == survivor.request.contact_id
            if not same_requester and self._private(dup.request, survivor.request):
                raise PermissionDenied(
                    "requests of a private type are merged only with the same requester's"
                )
            if not same_requester:
                self._add_cc_row(session, survivor.request.id, dup.request.contact_id, actor)
            token = add_tracking_token(
                session,
                survivor.request.id,
                dup.now,
                self.settings,
                contact_id=None if same_requester else dup.request.contact_id,
            )
            session.add(
                RequestLink(
                    from_request_id=dup.request.id,
                    to_request_id=survivor.request.id,
                    kind=MERGED_INTO,
                    created_at=dup.now,
                    created_by_agent_id=actor.id,
                    survivor_token=token,
                )
            )
            into = self.reference(survivor.request.id)
            dup.record("merged", f"Merged into {into}", {"into": survivor.request.id})
            self.set_status(
                dup,
                Status.CANCELLED,
                f"Merged into {into}"
                + (f": {reason.strip()[:300]}" if reason else "")
                + ". Your link now shows it.",
            )
            survivor.record(
                "merged_from",
                f"{self.reference(dup.request.id)} was merged into this request",
                {"from": dup.request.id},
                visibility=Visibility.INTERNAL,
            )
        return survivor.request

    def link(self, request_id: int, other_id: int, kind: str, actor: Actor) -> None:
        """``kind`` ``child_of`` (``request_id`` becomes a child of the major incident
        ``other_id``) or ``related``."""
        self.require_staff(actor, "link requests", STAFF)
        if kind not in (CHILD_OF, RELATED):
            raise ValidationFailed("unknown link", {"kind": "child_of or related"})
        if request_id == other_id:
            raise ValidationFailed("a request cannot be linked to itself", {"to": "another"})
        with self.changing_together([request_id, other_id], actor) as (one, other):
            session = one.session
            a, b = (request_id, other_id) if kind == CHILD_OF else sorted((request_id, other_id))
            if session.scalar(
                select(
                    exists().where(
                        RequestLink.from_request_id == a,
                        RequestLink.to_request_id == b,
                        RequestLink.kind == kind,
                    )
                )
            ):
                raise IllegalTransition("they are linked already")
            if kind == CHILD_OF:
                if self._link_from(session, request_id, CHILD_OF) is not None:
                    raise IllegalTransition(f"{self.reference(request_id)} has a parent already")
                if self._link_from(session, other_id, CHILD_OF) is not None or session.scalar(
                    select(
                        exists().where(
                            RequestLink.to_request_id == request_id, RequestLink.kind == CHILD_OF
                        )
                    )
                ):
                    raise IllegalTransition("a major incident's children have no children")
            session.add(
                RequestLink(
                    from_request_id=a,
                    to_request_id=b,
                    kind=kind,
                    created_at=one.now,
                    created_by_agent_id=actor.id,
                )
            )
            words = "a child of" if kind == CHILD_OF else "related to"
            one.record(
                "linked",
                f"Now {words} {self.reference(other_id)}",
                {"kind": kind, "to": other_id},
                visibility=Visibility.INTERNAL,
            )
            other.record(
                "linked",
                f"{self.reference(request_id)} is now "
                + ("a child of this request" if kind == CHILD_OF else "related to this request"),
                {"kind": kind, "from": request_id},
                visibility=Visibility.INTERNAL,
            )

    def transition(
        self,
        request_id: int,
        target: Status | str,
        actor: Actor,
        *,
        expected_version: int | None = None,
        reason: str | None = None,
    ) -> Request:
        """As :meth:`RequestStatus.transition`; a CC decides no status, and resolving a major
        incident resolves its open children, each with the resolution's words."""
        if actor.kind is ActorKind.REQUESTER:
            self._require_the_requester(request_id, actor)
        request = super().transition(
            request_id, target, actor, expected_version=expected_version, reason=reason
        )
        if Status(target) is Status.RESOLVED:
            self._resolve_children(request_id, actor, reason)
        return request

    def resolve(
        self,
        request_id: int,
        actor: Actor,
        *,
        expected_version: int | None = None,
        reason: str | None = None,
    ) -> Request:
        """Resolve in one step, also a request nobody has opened yet (new → open → resolved in
        one write): the "Resolve" button, and a major incident's children."""
        with self.changing(request_id, actor, expected_version) as write:
            if write.request.status is Status.NEW:
                self.set_status(write, Status.OPEN, None)
            self.set_status(write, Status.RESOLVED, reason)
        self._resolve_children(request_id, actor, reason)
        return write.request

    def _resolve_children(self, parent_id: int, actor: Actor, reason: str | None) -> int:
        words = f"Resolved with {self.reference(parent_id)}" + (f": {reason}" if reason else "")
        resolved, after = 0, 0
        while True:
            with self.db.reader() as session:
                children = list(
                    session.scalars(
                        select(RequestLink.from_request_id)
                        .join(Request, Request.id == RequestLink.from_request_id)
                        .where(
                            RequestLink.to_request_id == parent_id,
                            RequestLink.kind == CHILD_OF,
                            RequestLink.from_request_id > after,
                            Request.status.in_(sorted(Status.unresolved())),
                        )
                        .order_by(RequestLink.from_request_id)
                        .limit(CHILDREN_BATCH)
                    )
                )
            for child in children:
                self.resolve(child, Actor.system("Major incident"), reason=words[:500])
                resolved += 1
            if len(children) < CHILDREN_BATCH:
                return resolved
            after = children[-1]

    # --- CCs and watchers ---------------------------------------------------------------------

    def add_cc(self, request_id: int, actor: Actor, email: str, name: str = "") -> int:
        """Copy a contact on the request (its requester or staff add them): they get its public
        replies and their own tracking link, and may answer. Returns the contact id."""
        if actor.kind is ActorKind.REQUESTER:
            self._require_the_requester(request_id, actor)
        else:
            self.require_staff(actor, "add a CC", STAFF)
        try:
            details = ContactDetails.model_validate(
                {"email": email, "name": name.strip() or email.strip().partition("@")[0] or "CC"}
            )
        except ValueError:
            raise ValidationFailed("invalid address", {"email": "enter an email address"}) from None
        with self.changing(request_id, actor, None) as write:
            if self._private(write.request):
                raise PermissionDenied("a private request's details are not shared by copying")
            contact = self._contact(write.session, details, write.now)
            if contact.id == write.request.contact_id:
                raise ValidationFailed("that is the requester", {"email": "someone else"})
            count = write.session.query(RequestCc).filter_by(request_id=request_id).count()
            if count >= MAX_CCS:
                raise ValidationFailed("too many CCs", {"email": f"at most {MAX_CCS}"})
            self._add_cc_row(write.session, request_id, contact.id, actor)
            token = add_tracking_token(
                write.session, request_id, write.now, self.settings, contact_id=contact.id
            )
            write.record(
                "cc_added", f"{details.name} copied on the request", {"contact_id": contact.id}
            )
            self.notifier.mail(
                write.session,
                write.request,
                contact.email,
                "You were copied on a request",
                "cc_added",
                auto_submitted="auto-generated",
                name=details.name,
                by=actor.name or "the service desk",
                link=f"{self.settings.base_url.rstrip('/')}/track/{token}",
            )
        return contact.id

    def remove_cc(self, request_id: int, actor: Actor, contact_id: int) -> None:
        """Stop copying a contact (the requester, staff, or the CC themselves)."""
        if actor.kind is ActorKind.REQUESTER:
            if actor.id != contact_id:
                self._require_the_requester(request_id, actor)
        else:
            self.require_staff(actor, "remove a CC", STAFF)
        with self.changing(request_id, actor, None) as write:
            row = write.session.scalar(
                select(RequestCc).where(
                    RequestCc.request_id == request_id, RequestCc.contact_id == contact_id
                )
            )
            if row is None:
                raise ValidationFailed("not a CC", {"contact_id": "not copied on this request"})
            write.session.delete(row)
            write.record("cc_removed", "A CC was removed", {"contact_id": contact_id})

    def watch(self, request_id: int, actor: Actor, *, watching: bool = True) -> None:
        """Follow (or stop following) the request's internal events, as an agent."""
        if actor.kind is not ActorKind.AGENT or actor.role is Role.VIEWER:
            raise PermissionDenied("only staff who work requests watch them")
        with self.db.transaction() as session:
            self.load_visible(session, request_id, actor)
            row = session.scalar(
                select(RequestWatcher).where(
                    RequestWatcher.request_id == request_id, RequestWatcher.agent_id == actor.id
                )
            )
            if watching and row is None:
                session.add(
                    RequestWatcher(
                        request_id=request_id, agent_id=actor.id, added_at=self.clock.now()
                    )
                )
            elif not watching and row is not None:
                session.delete(row)

    def relations(self, request_id: int, actor: Actor) -> Relations:
        """Merged, parent, children, related; CCs and watchers (at most 50 of each)."""
        with self.db.reader() as session:
            self.load_visible(session, request_id, actor)
            lines: list[RelatedLine] = []
            queries = (
                (
                    "merged_from",
                    RequestLink.from_request_id,
                    RequestLink.to_request_id,
                    MERGED_INTO,
                ),
                (
                    "merged_into",
                    RequestLink.to_request_id,
                    RequestLink.from_request_id,
                    MERGED_INTO,
                ),
                ("parent", RequestLink.to_request_id, RequestLink.from_request_id, CHILD_OF),
                ("child", RequestLink.from_request_id, RequestLink.to_request_id, CHILD_OF),
                ("related", RequestLink.to_request_id, RequestLink.from_request_id, RELATED),
                ("related", RequestLink.from_request_id, RequestLink.to_request_id, RELATED),
            )
            for label, other, this, kind in queries:
                rows = session.execute(
                    select(Request.id, Request.summary, Request.status)
                    .join(RequestLink, other == Request.id)
                    .where(this == request_id, RequestLink.kind == kind)
                    .order_by(Request.id)
                    .limit(50)
                )
                lines += [
                    RelatedLine(i, self.reference(i), summary, status, label)
                    for i, summary, status in rows
                ]
            ccs = session.execute(
                select(Contact.id, Contact.name, Contact.email)
                .join(RequestCc, RequestCc.contact_id == Contact.id)
                .where(RequestCc.request_id == request_id)
                .order_by(Contact.id)
                .limit(50)
            )
            watchers = session.execute(
                select(Agent.id, Agent.name, Agent.email)
                .join(RequestWatcher, RequestWatcher.agent_id == Agent.id)
                .where(RequestWatcher.request_id == request_id)
                .order_by(Agent.id)
                .limit(50)
            )
            return Relations(
                related=tuple(lines),
                ccs=tuple(FollowerLine(*row) for row in ccs),
                watchers=tuple(FollowerLine(*row) for row in watchers),
            )

    def merged_into(self, request_id: int) -> tuple[int, str | None] | None:
        """Where a merged request went: the survivor's id and its tracking secret for the
        duplicate's requester (``None`` when the request was not merged)."""
        with self.db.reader() as session:
            row = session.execute(
                select(RequestLink.to_request_id, RequestLink.survivor_token).where(
                    RequestLink.from_request_id == request_id, RequestLink.kind == MERGED_INTO
                )
            ).first()
        return (row[0], row[1]) if row is not None else None

    # --- helpers ------------------------------------------------------------------------------

    @staticmethod
    def _link_from(session: Session, request_id: int, kind: str) -> int | None:
        return session.scalar(
            select(RequestLink.to_request_id).where(
                RequestLink.from_request_id == request_id, RequestLink.kind == kind
            )
        )

    def _private(self, *requests: Request) -> bool:
        return any(
            (t := self.host.request_types.get(r.type_key)) is not None and t.private
            for r in requests
        )

    def _add_cc_row(self, session: Session, request_id: int, contact_id: int, actor: Actor) -> None:
        if session.scalar(
            select(
                exists().where(
                    RequestCc.request_id == request_id, RequestCc.contact_id == contact_id
                )
            )
        ):
            raise ValidationFailed("copied already", {"email": "already copied on this request"})
        session.add(
            RequestCc(
                request_id=request_id,
                contact_id=contact_id,
                added_by=(actor.name or actor.kind.value)[:200],
                added_at=self.clock.now(),
            )
        )

    def _require_the_requester(self, request_id: int, actor: Actor) -> None:
        """A CC may not decide; anyone else does not see the request at all (404)."""
        with self.db.reader() as session:
            contact_id = self.load_visible(session, request_id, actor).contact_id
        if contact_id != actor.id:
            raise PermissionDenied("only the requester decides this; a CC follows and answers")
