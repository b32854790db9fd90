"""Mail on the console: a request's held mails, and any mail as it came."""

from __future__ import annotations

from email import policy
from email.parser import BytesHeaderParser

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from spoc.core.domain.access import AccessReasonRequired
from spoc.core.domain.models import InboundMail
from spoc.core.kernel.errors import NotFoundError, ServiceError
from spoc.core.kernel.mail import MailOutcome
from spoc.core.kernel.types import Role
from spoc.core.services import spoc_of
from spoc.core.storage.keyset import Ordering
from spoc.core.web.console.access import break_glass_form, given_reason, request_target
from spoc.core.web.console.auth import EVERYONE, actor, bp, role_required

HELD_ACTIONS = {"accept": "accept_held", "file": "file_held", "dismiss": "dismiss_held"}
PAGE = 50
MAIL_LOG = Ordering("console:mail", InboundMail.id.desc())  # ix_inbound_outcome (outcome, id)


@bp.get("/admin/mail")
@role_required(Role.ADMIN)
def admin_mail() -> str:
    """Every inbound mail of one outcome, newest first: what was filed, held, ignored..."""
    outcome = request.args.get("outcome", MailOutcome.HELD.value)
    if outcome not in {o.value for o in MailOutcome}:
        abort(404)
    spoc = spoc_of()
    query = select(InboundMail).where(InboundMail.outcome == outcome)
    with spoc.db.reader() as session:
        found = spoc.pager.page(
            session, query, MAIL_LOG, limit=PAGE, cursor=request.args.get("before"), field="before"
        )
        session.expunge_all()
    return render_template(
        "console/admin_mail.html",
        rows=found.items,
        outcome=outcome,
        outcomes=[o.value for o in MailOutcome],
        next_before=found.next,
    )


@bp.post("/requests/<int:request_id>/mail/<int:mail_id>/<action>")
@role_required(Role.ADMIN, Role.AGENT)
def held_mail(request_id: int, mail_id: int, action: str) -> Response:
    if action not in HELD_ACTIONS:
        abort(404)
    spoc = spoc_of()
    try:
        result = getattr(spoc.mail, HELD_ACTIONS[action])(mail_id, actor())
    except NotFoundError:
        abort(404)
    except ServiceError as exc:
        flash(f"Not changed: {exc}", "error")
        return redirect(url_for("console.request_detail", request_id=request_id), code=303)
    if action == "file":
        flash(f"Filed as {spoc.requests.reference(result)}.", "success")
        return redirect(url_for("console.request_detail", request_id=result), code=303)
    flash(
        "The mail is on the timeline as a note." if action == "accept" else "Dismissed.", "success"
    )
    return redirect(url_for("console.request_detail", request_id=request_id), code=303)


@bp.get("/mail/<int:mail_id>")
@role_required(*EVERYONE)
def mail_original(mail_id: int) -> str | Response:
    """A mail as it came: its headers, sender checks, text, and its HTML made safe."""
    spoc = spoc_of()
    me = actor()
    try:
        row, raw = spoc.mail.original(mail_id, me)
        if row.request_id is not None:
            # Read like the request itself: the same guard, and a read of a private
            # request's mail is logged as a read of the request.
            target = request_target(row.request_id)
            try:
                spoc.requests.detail(
                    row.request_id, me, channel="console", reason=given_reason(target)
                )
            except AccessReasonRequired as refused:
                return break_glass_form(refused, target)
    except NotFoundError:
        abort(404)
    headers = BytesHeaderParser(policy=policy.default).parsebytes(raw)
    return render_template(
        "console/mail.html",
        mail=row,
        size=len(raw),
        headers=[(name, str(value)) for name, value in headers.items()][:60],
        reference=spoc.requests.reference(row.request_id) if row.request_id else None,
    )
