"""``/api/v1/healthcare/…``: discharges from the hospital's ADT feed."""

from __future__ import annotations

from flask import request
from pydantic import BaseModel, ValidationError

from spoc import ApiRoute, ValidationFailed, api_agent, spoc_of
from spoc.plugins.healthcare.patients import Discharge, record_discharge


class DischargeOut(BaseModel):
    reference: str
    created: bool


def post_discharge() -> tuple[dict[str, object], int]:
    """POST /api/v1/healthcare/discharges: open the post-discharge follow-up."""
    actor = api_agent()
    try:
        body = Discharge.model_validate(request.get_json(silent=True) or {})
    except ValidationError as exc:
        errors = {".".join(str(p) for p in e["loc"]) or "body": e["msg"] for e in exc.errors()}
        raise ValidationFailed("the discharge is invalid", errors) from None
    spoc = spoc_of()
    created_request, created = record_discharge(spoc, actor, body)
    out = DischargeOut(reference=spoc.requests.reference(created_request.id), created=created)
    return out.model_dump(), 201 if created else 200


def routes() -> list[ApiRoute]:
    return [
        ApiRoute(
            "POST",
            "/discharges",
            post_discharge,
            "Record a discharge; opens the follow-up call (idempotent per patient and time)",
            response=DischargeOut,
            body=Discharge,
            status=201,
        )
    ]
