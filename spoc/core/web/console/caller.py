"""Filing on behalf of a caller: an agent on the phone (or at the desk) picks the request type,
fills the generated form with the caller's name and email, and files it. The request is routed
exactly as the portal's, the caller gets the same acknowledgement with their tracking link, and
the timeline credits the agent and the channel."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from pydantic import ValidationError
from sqlalchemy import select
from werkzeug.wrappers import Response

from spoc.core.domain.models import Subject
from spoc.core.domain.requests import ContactDetails, validation_errors
from spoc.core.domain.requests.intake import CALLER_CHANNELS
from spoc.core.kernel.errors import ValidationFailed
from spoc.core.kernel.types import RequestType
from spoc.core.services import spoc_of
from spoc.core.web.acknowledge import acknowledgement
from spoc.core.web.console.auth import STAFF, actor, bp, role_required
from spoc.core.web.forms import form_spec, validate_form


def _type_or_404(key: str) -> RequestType:
    found = spoc_of().host.request_types.get(key)
    if found is None:
        abort(404)
    return found


@bp.get("/file-for-caller")
@role_required(*STAFF)
def caller_types() -> str:
    return render_template(
        "console/caller_types.html", request_types=list(spoc_of().host.request_types)
    )


def _render(
    request_type: RequestType, values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> tuple[str, int]:
    page = render_template(
        "console/caller_form.html",
        request_type=request_type,
        spec=form_spec(request_type.fields_model),
        values=values,
        errors=errors,
        channels=CALLER_CHANNELS,
    )
    return page, status


@bp.route("/file-for-caller/<key>", methods=["GET", "POST"])
@role_required(*STAFF)
def caller_form(key: str) -> Response | tuple[str, int]:
    spoc = spoc_of()
    request_type = _type_or_404(key)
    if request.method == "GET":
        return _render(request_type, {"channel": "phone"}, {})
    form = request.form
    fields, values, errors = validate_form(request_type.fields_model, form)
    caller = {"name": form.get("caller_name", "").strip(), "email": form.get("caller_email", "")}
    values.update(
        caller_name=caller["name"],
        caller_email=caller["email"].strip(),
        channel=form.get("channel", ""),
        reference=form.get("reference", "").strip(),
    )
    about: dict[str, str] = {}
    details = None
    try:
        details = ContactDetails.model_validate(caller)
    except ValidationError as exc:
        about = {f"caller_{k.split('.', 1)[-1]}": v for k, v in validation_errors(exc, "").items()}
    if values["channel"] not in CALLER_CHANNELS:
        about["channel"] = f"one of {', '.join(CALLER_CHANNELS)}"
    subject_id = None
    if values["reference"]:
        subject_id = _subject_by_reference(request_type, values["reference"])
        if subject_id is None:
            about["reference"] = "no subject of this kind has that reference"
    errors = {**about, **errors}
    if errors or fields is None or details is None:
        return _render(request_type, values, errors, 422)
    try:
        created, _ = spoc.requests.create_with_tracking_link(
            type_key=request_type.key,
            fields=fields.model_dump(mode="json"),
            requester=details,
            subject_id=subject_id,
            actor=actor(),
            channel=values["channel"],
            on_issued=acknowledgement(details),
        )
    except ValidationFailed as exc:
        mapped = {k.split(".", 1)[-1]: v for k, v in exc.errors.items()}
        return _render(request_type, values, mapped or {"__all__": str(exc)}, 422)
    flash(f"Filed for {details.name}; they have their tracking link by email.", "success")
    return redirect(url_for("console.request_detail", request_id=created.id), code=303)


def _subject_by_reference(request_type: RequestType, reference: str) -> int | None:
    """Staff may file about any subject of the type's kinds, private ones too: they know
    who is on the phone, which a typed reference in the portal never proves."""
    query = select(Subject.id).where(Subject.external_ref == reference[:100])
    if request_type.subject_kinds:
        query = query.where(Subject.kind.in_(request_type.subject_kinds))
    with spoc_of().db.reader() as db:
        return db.scalar(query.order_by(Subject.id).limit(1))
