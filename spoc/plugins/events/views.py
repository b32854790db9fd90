"""Pages under /p/events/: the public event page (schema.org JSON-LD) and its calendar, the
vendor portal (secret link), the live event board and the event overview for staff, and the
accessibility coordinator's list of needs."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from markupsafe import Markup
from pydantic import ValidationError
from sqlalchemy import select
from werkzeug.wrappers import Response

from spoc import (
    ConsolePanel,
    Export,
    NotFoundError,
    Ordering,
    Page,
    Request,
    RequestState,
    Role,
    ServiceError,
    Spoc,
    Status,
    check_staff_access,
    console_agent,
    request_matches,
    request_states,
    signed_in_agent,
    spoc_of,
)
from spoc.plugins.events import attendees, vendors
from spoc.plugins.events import exports as documents
from spoc.plugins.events.forms import NEED_LABELS, NeedType, VendorRequestForm
from spoc.plugins.events.models import Attendee, Event, Incident, RequestLink, Vendor
from spoc.plugins.events.program import (
    EVENTS,
    SESSIONS,
    event_by_code,
    event_of_subject,
    is_under_way,
    programme,
    sessions_of,
)
from spoc.plugins.events.settings import EventsSettings, is_coordinator

bp = Blueprint("events", __name__, template_folder="templates")
PAGE = 50
OPEN = (Status.NEW, Status.OPEN, Status.WAITING)
CHECK_IN_ROLES = (Role.ADMIN, Role.AGENT)
BOARD_ROLES = (Role.ADMIN, Role.AGENT, Role.VIEWER)


BOARD = Ordering("events:board", Incident.location, Incident.reported_at, Incident.request_id)
"""The live board by location, oldest first: ``ix_events_incidents_board``."""


def _page(statement: Any, ordering: Ordering, name: str = "cursor") -> Page[Any]:
    """One page of a list of this plugin, its cursor in the query argument ``name``."""
    spoc = spoc_of()
    with spoc.db.reader() as session:
        found = spoc.pager.page(
            session, statement, ordering, limit=PAGE, cursor=request.args.get(name), field=name
        )
        session.expunge_all()  # the rows outlive the session in the template
    return found


def _event_or_404(code: str) -> Event:
    with spoc_of().db.reader() as session:
        try:
            event = event_by_code(session, code)
        except NotFoundError:
            abort(404)
        session.expunge(event)
        return event


def _host(spoc: Spoc) -> str:
    return urlsplit(spoc.settings.base_url).hostname or "spoc.invalid"


def _settings(spoc: Spoc) -> EventsSettings:
    return spoc.plugin_settings("events", EventsSettings)


# --- public ----------------------------------------------------------------------------------


@bp.get("/e/<code>")
def event_page(code: str) -> str:
    spoc = spoc_of()
    event = _event_or_404(code)
    page = _page(programme(event.id), SESSIONS)
    sessions = page.items
    url = spoc.settings.base_url.rstrip("/") + url_for(".event_page", code=code)
    return render_template(
        "events/event.html",
        event=event,
        sessions=sessions,
        page=page,
        jsonld=Markup(documents.event_jsonld(event, sessions, url)),  # noqa: S704 - escaped JSON
        under_way=is_under_way(event, spoc.clock.now()),
    )


@bp.get("/e/<code>/calendar.ics")
def event_calendar(code: str) -> Response:
    spoc = spoc_of()
    event = _event_or_404(code)
    with spoc.db.reader() as session:
        sessions = sessions_of(session, event.id, limit=1000)
    body = documents.event_ics(event, sessions, _host(spoc))
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{event.code}.ics"'},
    )


# --- the vendor portal -------------------------------------------------------------------------


def _vendor_or_404(token: str) -> tuple[Vendor, Event]:
    spoc = spoc_of()
    with spoc.db.reader() as session:
        vendor = vendors.vendor_for_token(session, token, spoc.clock.now())
        if vendor is None:
            abort(404)
        event = session.get(Event, vendor.event_id)
        assert event is not None
        session.expunge_all()
        return vendor, event


def _vendor_page(
    token: str, errors: dict[str, str] | None = None, status: int = 200
) -> tuple[str, int]:
    spoc = spoc_of()
    vendor, event = _vendor_or_404(token)
    with spoc.db.reader() as session:
        deliverables = vendors.deliverables_of(session, vendor.id)
        minimum = _settings(spoc).vendor_count_minimum
        counts = vendors.needs_per_session(session, event.id, minimum)
        session.expunge_all()
    return (
        render_template(
            "events/vendor.html",
            token=token,
            vendor=vendor,
            event=event,
            deliverables=deliverables,
            counts=counts,
            minimum=minimum,
            need_labels={k.value: v for k, v in NEED_LABELS.items()},
            now=spoc.clock.now(),
            errors=errors or {},
            values=request.form if errors else {},
        ),
        status,
    )


@bp.get("/v/<token>")
def vendor_portal(token: str) -> tuple[str, int]:
    return _vendor_page(token)


@bp.post("/v/<token>/requests")
def vendor_request(token: str) -> Response | tuple[str, int]:
    spoc = spoc_of()
    vendor, event = _vendor_or_404(token)
    form = request.form
    raw = {
        "vendor_code": vendor.code,  # from the link, never from the form
        "kind": form.get("kind", ""),
        "what": form.get("what", ""),
        "cost_impact": form.get("cost_impact") or 0,
        **({"needed_at": form["needed_at"]} if form.get("needed_at") else {}),
    }
    try:
        fields = VendorRequestForm.model_validate(raw)
    except ValidationError as exc:
        errors = {".".join(str(p) for p in e["loc"]) or "form": e["msg"] for e in exc.errors()}
        return _vendor_page(token, errors, 422)
    try:
        _, tracking = spoc.requests.create_with_tracking_link(
            type_key="events.vendor_request",
            fields=fields.model_dump(mode="json"),
            requester={"name": vendor.onsite_name or vendor.name, "email": vendor.onsite_email},
            subject_id=event.subject_id,
        )
    except ServiceError as exc:
        return _vendor_page(token, {"form": str(exc)}, 422)
    flash("Your request is with the event desk. Keep this page to follow it.", "success")
    return redirect(url_for("portal.track", token=tracking), code=303)


# --- staff -------------------------------------------------------------------------------------


@bp.get("/")
def events_list() -> str:
    actor = console_agent()
    spoc = spoc_of()
    page = _page(select(Event), EVENTS)
    return render_template(
        "events/events.html",
        events=page.items,
        page=page,
        now=spoc.clock.now(),
        can_see_board=actor.role in BOARD_ROLES,
    )


@bp.get("/e/<code>/manage")
def event_manage(code: str) -> str:
    # Attendees' names and emails: the staff who run events, not specialists (who see only
    # the requests escalated to their team).
    actor = console_agent(*BOARD_ROLES)
    spoc = spoc_of()
    event = _event_or_404(code)
    check_staff_access(actor, "subject", subject_id=event.subject_id)
    # Two lists, each paged on its own: a cursor for each, the other's kept in the links.
    vendor_page = _page(vendors.vendors_of(event.id), vendors.VENDORS, "vendors")
    people = _page(attendees.attendees_of(event.id), attendees.ATTENDEES, "attendees")
    return render_template(
        "events/manage.html",
        event=event,
        vendors=vendor_page.items,
        attendees=people.items,
        vendor_page=vendor_page,
        attendee_page=people,
        cursors={k: request.args.get(k) for k in ("vendors", "attendees")},
        now=spoc.clock.now(),
        coordinator=is_coordinator(spoc, actor.id),
        can_check_in=actor.role in CHECK_IN_ROLES,
        can_see_board=actor.role in BOARD_ROLES,
    )


@bp.post("/vendors/<int:vendor_id>/check-in")
def vendor_check_in(vendor_id: int) -> Response:
    # Checking in clears the not-checked-in trigger: desk staff only, and who did is kept.
    actor = console_agent(*CHECK_IN_ROLES)
    spoc = spoc_of()
    try:
        vendor = vendors.check_in(spoc, vendor_id, actor)
    except NotFoundError:
        abort(404)
    with spoc.db.reader() as session:
        event = session.get(Event, vendor.event_id)
        assert event is not None
        code = event.code
    flash(f"{vendor.name} checked in.", "success")
    return redirect(url_for(".event_manage", code=code), code=303)


@bp.get("/board/<code>")
def board(code: str) -> str:
    # Every incident of the event (references, categories, places): the desk's view. The
    # core shows specialists only their teams' escalations, so they are not let in here.
    console_agent(*BOARD_ROLES)
    spoc = spoc_of()
    event = _event_or_404(code)
    page = _page(
        select(Incident).where(
            Incident.event_id == event.id, request_matches(Incident.request_id, status=OPEN)
        ),
        BOARD,
    )
    with spoc.db.reader() as session:
        states = request_states(session, (incident.request_id for incident in page.items))
    now = spoc.clock.now()
    by_location: dict[str, list[tuple[Incident, RequestState, str, int]]] = {}
    for incident in page.items:
        found = states.get(incident.request_id)
        if found is None:
            continue  # erased between the two reads
        reference = spoc.requests.reference(found.id)
        minutes = int((now - incident.reported_at).total_seconds() // 60)
        by_location.setdefault(incident.location, []).append((incident, found, reference, minutes))
    refresh = request.args.get("refresh", "1") != "0"
    return render_template(
        "events/board.html",
        event=event,
        by_location=by_location,
        page=page,
        cursor=request.args.get("cursor"),
        now=now,
        refresh=refresh,
        seconds=_settings(spoc).board_refresh_seconds,
        under_way=is_under_way(event, now),
    )


@bp.get("/e/<code>/needs")
def needs(code: str) -> str:
    actor = console_agent()
    spoc = spoc_of()
    if not is_coordinator(spoc, actor.id):
        abort(403)
    event = _event_or_404(code)
    page = _page(attendees.needs_of(event.id), attendees.NEEDS)
    references = {n.id: spoc.requests.reference(n.request_id) for n, _ in page.items}
    return render_template(
        "events/needs.html",
        event=event,
        rows=page.items,
        references=references,
        page=page,
        labels={k.value: v for k, v in NEED_LABELS.items()},
        kinds=list(NeedType),
    )


# --- panels and exports --------------------------------------------------------------------------


def console_panels(found: Request, spoc: Spoc) -> list[ConsolePanel]:
    with spoc.db.reader() as session:
        link = session.get(RequestLink, found.id)
        if link is None:
            return []
        event = session.get(Event, link.event_id)
        vendor = session.get(Vendor, link.vendor_id) if link.vendor_id else None
        attendee = None
        if link.attendee_id:
            attendee = session.get(Attendee, link.attendee_id)
        html = render_template(
            "events/request_panel.html",
            event=event,
            vendor=vendor,
            attendee=attendee,
            under_way=event is not None and is_under_way(event, spoc.clock.now()),
            can_see_board=_viewer_role() in BOARD_ROLES,
        )
    return [ConsolePanel("Event", Markup(html), order=5)]  # noqa: S704


def _viewer_role() -> Role | None:
    agent = signed_in_agent()
    return agent.role if agent is not None else None


def exports(found: Request, spoc: Spoc) -> list[Export]:
    host = _host(spoc)
    with spoc.db.reader() as session:
        event = event_of_subject(session, found.subject_id)
        if event is None:
            return []
        sessions = sessions_of(session, event.id, limit=1000)
        session.expunge_all()
    return [
        Export(
            "event.ics",
            "The event and its sessions (iCalendar)",
            "text/calendar",
            f"{event.code}.ics",
            lambda: documents.event_ics(event, sessions, host),
        )
    ]


def _when(value: datetime, event: Event) -> str:
    return value.astimezone(ZoneInfo(event.timezone)).strftime("%a %d %b %Y, %H:%M")


@bp.app_template_filter("event_time")
def event_time(value: datetime | None, event: Event) -> str:
    return _when(value, event) if value is not None else "—"
