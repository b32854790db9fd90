"""Who owns a request, its priority, and the subject it is about."""

from __future__ import annotations

from spoc.core.domain.access import may_change_people, private_request
from spoc.core.domain.audit import AuditAction, record_admin_change
from spoc.core.domain.models import (
    Agent,
    Request,
    Subject,
    Visibility,
)
from spoc.core.domain.requests.conversation import RequestConversation
from spoc.core.domain.requests.fields import (
    STAFF,
)
from spoc.core.domain.routing import acting_spoc
from spoc.core.domain.writes import WriteContext
from spoc.core.kernel.errors import (
    PermissionDenied,
    ValidationFailed,
)
from spoc.core.kernel.types import (
    Actor,
    Priority,
)


class RequestOwnership(RequestConversation):
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
        with self.changing(request_id, actor, expected_version) as write:
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
            # Reassigned by hand: no cover to end, the new owner keeps it.
            request.covering_for_agent_id, request.cover_until = None, None
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
        with self.changing(request_id, actor, expected_version) as write:
            self.require_staff(actor, "change priority", STAFF)
            if write.request.priority is target:
                raise ValidationFailed("nothing to change", {"priority": f"already {target}"})
            self.set_priority(write, target, reason)
        return write.request

    def link_subject(
        self,
        request_id: int,
        actor: Actor,
        subject_id: int,
        *,
        expected_version: int | None = None,
    ) -> Request:
        """Triage: attach a request to its subject; the subject's acting SPOC takes it over."""
        with self.changing(request_id, actor, expected_version) as write:
            self.require_staff(actor, "link requests to subjects", STAFF)
            request = write.request
            request_type = self.host.request_types.get(request.type_key)
            if request_type is not None:
                subject = self.subject_for(write.session, request_type, subject_id)
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
