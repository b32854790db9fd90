"""The requester's view of one request, and what they can do there."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, flash, render_template, request, url_for
from markupsafe import Markup, escape
from sqlalchemy import select

from spoc.core.domain.lifecycle import allowed_targets
from spoc.core.domain.models import Agent, Feedback, Request, SlaClock, Subject, Team, TimelineEvent
from spoc.core.domain.routing import acting_spoc, human_date
from spoc.core.domain.sla import SERVICE_LEVELS
from spoc.core.kernel.errors import ConflictError, ServiceError, ValidationFailed
from spoc.core.kernel.types import Actor, ActorKind, ClockKind, ClockState, ConsolePanel, Status
from spoc.core.platform import hookspecs
from spoc.core.services import spoc_of
from spoc.core.web.exports import exports_for


@dataclass(frozen=True)
class ContactLine:
    """ "Your single point of contact": who, and whether they are covering for someone."""

    name: str
    covering: str | None


def requester_of(request_id: int, contact_id: int | None) -> tuple[Request, Actor]:
    spoc = spoc_of()
    with spoc.db.reader() as session:
        found = session.get(Request, request_id)
        if found is None or (contact_id is not None and found.contact_id != contact_id):
            abort(404)
        # The name typed when this request was filed, never the one stored for the address:
        # whoever holds the link may have typed someone else's email.
        typed = session.scalar(
            select(TimelineEvent.actor_name).where(
                TimelineEvent.request_id == found.id,
                TimelineEvent.kind == "created",
                TimelineEvent.actor_kind == ActorKind.REQUESTER,
            )
        )
        return found, Actor.requester(found.contact_id, typed or "the requester")


def contact_line(found: Request) -> ContactLine:
    spoc = spoc_of()
    with spoc.db.reader() as session:
        if found.owner_agent_id is None:
            team = session.get(Team, found.owner_team_id) if found.owner_team_id else None
            return ContactLine(f"The {team.name if team else 'service desk'}", None)
        owner = session.get(Agent, found.owner_agent_id)
        assert owner is not None
        subject = session.get(Subject, found.subject_id) if found.subject_id else None
        if subject is None:
            return ContactLine(owner.name, None)
        today = spoc.requests.today()
        routing = acting_spoc(session, subject, today, spoc.settings.desk_team)
        if routing.agent_id == owner.id and routing.covering_for and routing.until:
            absent = session.get(Agent, routing.covering_for)
            assert absent is not None
            until = human_date(routing.until, today)
            return ContactLine(owner.name, f"{owner.name} covers for {absent.name} until {until}")
        return ContactLine(owner.name, None)


def expected_answer(request_id: int) -> str | None:
    """ "Expect a first answer by …" / "Expect a resolution by …" from the running clocks."""
    spoc = spoc_of()
    with spoc.db.reader() as session:
        running = {
            c.kind: c
            for c in session.scalars(
                select(SlaClock).where(
                    SlaClock.request_id == request_id,
                    SlaClock.state == ClockState.RUNNING,
                    SlaClock.kind.in_(SERVICE_LEVELS),
                )
            )
        }
    clock = running.get(ClockKind.FIRST_RESPONSE) or running.get(ClockKind.RESOLUTION)
    if clock is None:
        return None
    what = "a first answer" if clock.kind is ClockKind.FIRST_RESPONSE else "a resolution"
    when = clock.due_at.astimezone(spoc.settings.tz).strftime("%a %d %b, %H:%M")
    return f"Expect {what} by {when}"


def render_tracking(
    request_id: int,
    *,
    token: str | None = None,
    contact_id: int | None = None,
    just_filed: bool = False,
) -> str:
    spoc = spoc_of()
    found, requester = requester_of(request_id, contact_id)
    request_type = spoc.host.request_types.get(found.type_key)
    events = spoc.requests.timeline(request_id, requester)
    with spoc.db.reader() as session:
        rated = session.scalar(select(Feedback.rating).where(Feedback.request_id == request_id))
        agent_ids = {e.actor_id for e in events if e.actor_kind is ActorKind.AGENT}
        rows = session.execute(select(Agent.id, Agent.name).where(Agent.id.in_(agent_ids)))
        names = {agent_id: name for agent_id, name in rows}

    def label(status: Status) -> str:
        return request_type.label_for(status) if request_type else status.value.title()

    def action_url(action: str) -> str:
        if token is not None:
            return url_for("portal.track_action", token=token, action=action)
        return url_for("portal.my_request_action", request_id=request_id, action=action)

    def export_url(key: str) -> str:
        if token is not None:
            return url_for("portal.track_export", token=token, key=key)
        return url_for("portal.my_request_export", request_id=request_id, key=key)

    panels: list[ConsolePanel] = []
    for _, answer in spoc.hooks.each(hookspecs.spoc_portal_panels, request=found, spoc=spoc):
        panels.extend(answer)

    targets = allowed_targets(found.status, requester)
    expect = expected_answer(request_id)
    return render_template(
        "portal/track.html",
        req=found,
        reference=spoc.requests.reference(request_id),
        type_title=request_type.title if request_type else found.type_key,
        status_label=label(found.status),
        label=label,
        events=events,
        agent_names=names,
        contact=contact_line(found),
        can_reply=not found.status.is_final,
        can_cancel=Status.CANCELLED in targets,
        can_confirm=Status.CLOSED in targets,
        can_reopen=found.status is Status.RESOLVED and Status.OPEN in targets,
        can_rate=found.status in (Status.RESOLVED, Status.CLOSED) and rated is None,
        rated=rated,
        action_url=action_url,
        export_url=export_url,
        exports=exports_for(spoc, found, requester=True),
        panels=[
            (p.title, p.body if isinstance(p.body, Markup) else escape(p.body))
            for p in sorted(panels, key=lambda p: (p.order, p.title))
        ],
        notices=[e.summary for e in events if e.kind == "notice"],
        just_filed=just_filed,
        expect=expect,
        track_url=(
            spoc.settings.base_url.rstrip("/") + url_for("portal.track", token=token)
            if token and just_filed
            else None
        ),
    )


ACTIONS = {"reply", "cancel", "confirm", "reopen", "rate"}


def requester_action(request_id: int, action: str, *, contact_id: int | None = None) -> None:
    if action not in ACTIONS:
        abort(404)
    spoc = spoc_of()
    _, requester = requester_of(request_id, contact_id)
    form = request.form
    version = form.get("version", type=int)
    requests = spoc.requests
    try:
        if action == "reply":
            requests.post_message(
                request_id, requester, form.get("body", ""), expected_version=version
            )
            flash("Your message was sent.", "success")
        elif action == "cancel":
            requests.transition(
                request_id,
                Status.CANCELLED,
                requester,
                expected_version=version,
                reason=form.get("reason", "").strip()[:500] or None,
            )
            flash("Your request is cancelled.", "success")
        elif action == "confirm":
            requests.transition(request_id, Status.CLOSED, requester, expected_version=version)
            flash("Thank you — your request is closed.", "success")
        elif action == "reopen":
            body = form.get("body", "").strip()
            if body:
                requests.post_message(request_id, requester, body, expected_version=version)
            else:
                requests.transition(request_id, Status.OPEN, requester, expected_version=version)
            flash("Your request is open again; your contact has been told.", "success")
        else:
            rating = form.get("rating", type=int)
            if rating is None:
                raise ValidationFailed("choose a rating", {"rating": "choose 1 to 5"})
            requests.give_feedback(request_id, requester, rating, form.get("comment", ""))
            flash("Thank you for your feedback.", "success")
    except ConflictError:
        flash(
            "This request changed while you were reading it. Please check and try again.", "error"
        )
    except ServiceError as exc:
        flash(str(exc)[:1].upper() + str(exc)[1:], "error")
