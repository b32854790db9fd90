"""Admin: a contact's data — look them up by email, export it as JSON, or erase it."""

from __future__ import annotations

import json

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from spoc.core.domain.models import Request
from spoc.core.kernel.errors import NotFoundError, ServiceError, ValidationFailed
from spoc.core.kernel.types import Role
from spoc.core.services import spoc_of
from spoc.core.web.console.auth import actor, bp, role_required


@bp.get("/admin/contacts")
@role_required(Role.ADMIN)
def admin_contacts() -> str | tuple[str, int]:
    email = request.args.get("email", "").strip()
    found, count, error = None, 0, None
    if email:
        try:
            found = spoc_of().privacy.find_contact(email)
        except (NotFoundError, ValidationFailed) as exc:
            error = str(exc)
        else:
            with spoc_of().db.reader() as db:
                count = (
                    db.scalar(
                        select(func.count())
                        .select_from(Request)
                        .where(Request.contact_id == found.id)
                    )
                    or 0
                )
    page = render_template(
        "console/admin_contacts.html", email=email, contact=found, count=count, error=error
    )
    return (page, 404) if error else page


@bp.post("/admin/contacts/export")
@role_required(Role.ADMIN)
def admin_contact_export() -> Response:
    privacy = spoc_of().privacy
    try:
        found = privacy.find_contact(request.form.get("email", ""))
        document = privacy.export_contact(actor(), found.id)
    except ServiceError as exc:
        flash(f"Not exported: {exc}", "error")
        return redirect(url_for("console.admin_contacts"), code=303)
    response = Response(json.dumps(document, indent=2, sort_keys=True), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="contact-{found.id}.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/admin/contacts/erase")
@role_required(Role.ADMIN)
def admin_contact_erase() -> Response | tuple[str, int]:
    privacy = spoc_of().privacy
    email = request.form.get("email", "")
    try:
        found = privacy.find_contact(email)
        if request.form.get("confirm") != "erase":
            raise ValidationFailed("confirm the erasure", {"confirm": "type erase to confirm"})
        count = privacy.erase_contact(actor(), found.id, reason=request.form.get("reason", ""))
    except ValidationFailed as exc:
        errors = "; ".join(f"{k}: {v}" for k, v in exc.errors.items()) or str(exc)
        page = render_template(
            "console/admin_contacts.html", email=email, contact=None, count=0, error=errors
        )
        return page, 422
    except ServiceError as exc:
        page = render_template(
            "console/admin_contacts.html", email=email, contact=None, count=0, error=str(exc)
        )
        return page, 404
    flash(f"Contact erased: {count} requests anonymised, figures kept.", "success")
    return redirect(url_for("console.admin_contacts"), code=303)
