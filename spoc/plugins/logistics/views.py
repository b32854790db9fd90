"""Pages: the public tracking page (``/p/logistics/track``) and the requester's shipment panel
on their request's tracking page.

Privacy (DOMAINS.md): someone holding only a tracking number sees status, ETA and city-level
events; the consignee, the full address, the carrier's notes and proof of delivery only the
verified account — a contact signed in through the portal's magic link whose identity the SPOC
verified for the shipment's account, or staff signed in to the console. The email typed into
a request never counts: anyone can type a customer's address. ``tracking.shipment_view``
decides what is masked; :func:`_sees_all` decides who is verified, for both pages.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy.orm import Session

from spoc import (
    AccessReasonRequired,
    Actor,
    ConsolePanel,
    Contact,
    Request,
    Spoc,
    check_staff_access,
    rate_limit,
    signed_in_agent,
    signed_in_contact,
    spoc_of,
)
from spoc.plugins.logistics.models import Order
from spoc.plugins.logistics.tracking import (
    ShipmentView,
    StatusView,
    find_shipments,
    is_verified,
    order_by_number,
    shipment_view,
    shipments_of_order,
    status_view,
)

bp = Blueprint("tracking", __name__, template_folder="templates")

HISTORY = 50  # events shown per shipment
# Tracking numbers are guessable: a lookup gets a stricter limit than other plugin pages.
TRACK_LIMIT = "20 per minute;200 per hour"


def _signed_in() -> tuple[Actor | None, Contact | None]:
    """Who is looking: a console agent, or a portal contact signed in by magic link."""
    staff = signed_in_agent()
    return (staff, None) if staff is not None else (None, signed_in_contact())


def _sees_all(
    session: Session, staff: Actor | None, contact: Contact | None, account: int | None
) -> bool:
    """Staff (the read reported to ``spoc_staff_access``), or a contact proven by magic link
    who is a verified contact of the account."""
    if account is None:
        return False
    if staff is not None:
        try:
            check_staff_access(staff, "subject", subject_id=account)
        except AccessReasonRequired:
            return False  # another plugin wants a reason: show the public view
        return True
    return contact is not None and is_verified(session, account, contact.email)


@bp.get("/track")
def track_form() -> str:
    return render_template("logistics/track.html", number="", searched=False, views=[])


@bp.post("/track")
@rate_limit(TRACK_LIMIT)
def track() -> str:
    """A tracking number in, what its holder may see out. POST, so tracking numbers stay out
    of URLs, logs and referrers; rate-limited per client by the core like every plugin page."""
    spoc = spoc_of()
    number = request.form.get("number", "").strip()[:60]
    staff, contact = _signed_in()
    views: list[ShipmentView] = []
    if number:
        with spoc.db.reader() as session:
            for shipment in find_shipments(session, number):
                order = session.get(Order, shipment.order_id)
                account = order.account_id if order is not None else None
                verified = _sees_all(session, staff, contact, account)
                views.append(shipment_view(session, shipment, verified=verified))
    return render_template(
        "logistics/track.html",
        number=number,
        searched=bool(number),
        views=views,
        history=HISTORY,
        sign_in_url=url_for("portal.my_requests_form"),
    )


def _request_shipments(found: Request, spoc: Spoc) -> list[ShipmentView | StatusView]:
    """The shipments a logistics request names (tracking number, else order number), as the
    person looking at its tracking page may see them. That page opens with the request's
    token, and the request's email was merely typed into a form: in full only for staff or a
    magic-link-proven verified contact of the account. With an order number alone, others see
    each shipment's status and ETA — no tracking numbers, no route."""
    fields = found.fields or {}
    number = str(fields.get("tracking_number") or "").strip()
    order_number = str(fields.get("order_number") or "").strip()
    staff, contact = _signed_in()
    with spoc.db.reader() as session:
        if number:
            views: list[ShipmentView | StatusView] = []
            for shipment in find_shipments(session, number):
                order = session.get(Order, shipment.order_id)
                verified = _sees_all(session, staff, contact, order.account_id if order else None)
                views.append(shipment_view(session, shipment, verified=verified))
            return views
        if not order_number or (order := order_by_number(session, order_number)) is None:
            return []
        shipments = shipments_of_order(session, order.id, limit=10)
        if _sees_all(session, staff, contact, order.account_id):
            return [shipment_view(session, s, verified=True) for s in shipments]
        return [status_view(s, i, len(shipments)) for i, s in enumerate(shipments, 1)]


def portal_panels(found: Request, spoc: Spoc) -> list[ConsolePanel]:
    """On the requester's tracking page: status, ETA and event history of the shipments
    their request is about (where is my order, an exception, a claim...)."""
    panels = []
    for view in _request_shipments(found, spoc):
        if isinstance(view, StatusView):
            title = f"Shipment {view.position} of {view.count}"
            html = render_template("logistics/shipment_status.html", view=view)
        else:
            title = f"Shipment {view.tracking_number}"
            html = render_template(
                "logistics/shipment.html", view=view, history=HISTORY, sign_in_url=None
            )
        panels.append(ConsolePanel(title, Markup(html), order=10))  # noqa: S704
    return panels
