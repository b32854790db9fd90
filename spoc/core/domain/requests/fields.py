"""What a request is made of: the contact's details, validated fields, the summary."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from spoc.core.domain.models import (
    Request,
    Subject,
)
from spoc.core.domain.reads.fields import sensitive_fields
from spoc.core.kernel.types import (
    RequestType,
    Role,
    SubjectInfo,
)


class ContactDetails(BaseModel):
    """Who is asking. An existing contact is matched by email (case-insensitive)."""

    model_config = ConfigDict(str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    phone: str | None = Field(default=None, max_length=40)
    language: str = Field(default="en", min_length=2, max_length=16)


def validation_errors(exc: ValidationError, prefix: str) -> dict[str, str]:
    errors = {}
    for error in exc.errors():
        path = ".".join(str(p) for p in (prefix, *error["loc"]) if p != "")
        errors[path] = error["msg"]
    return errors


def nul_errors(value: Any, path: str) -> dict[str, str]:
    """Field paths of strings that contain NUL, which no database column accepts."""
    if isinstance(value, str):
        return {path: "contains a NUL character"} if "\x00" in value else {}
    found: dict[str, str] = {}
    if isinstance(value, Mapping):
        for key, item in value.items():
            found.update(nul_errors(item, f"{path}.{key}"))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found.update(nul_errors(item, f"{path}.{index}"))
    return found


def contact_on_record(session: Session, contact_id: int, subject_id: int) -> bool:
    """Is this contact on record for the subject: does the subject's record already hold a
    request they filed? Requests reach a private record only through an intake link, staff or
    a contact proven this way, so the address on record is never one a stranger typed."""
    found = session.scalar(
        select(Request.id)
        .where(Request.subject_id == subject_id, Request.contact_id == contact_id)
        .limit(1)
    )
    return found is not None


def number_errors(value: Any, path: str) -> dict[str, str]:
    """Field paths of numbers no column or JSON document can hold: NaN, infinities, and
    integers beyond 64 bits."""
    if isinstance(value, bool):
        return {}
    if isinstance(value, float):
        return {} if math.isfinite(value) else {path: "must be a finite number"}
    if isinstance(value, int):
        return {} if -(2**63) < value < 2**63 else {path: "is out of range"}
    found: dict[str, str] = {}
    if isinstance(value, Mapping):
        for key, item in value.items():
            found.update(number_errors(item, f"{path}.{key}"))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found.update(number_errors(item, f"{path}.{index}"))
    return found


def subject_info(subject: Subject | None) -> SubjectInfo | None:
    if subject is None:
        return None
    return SubjectInfo(
        subject.id, subject.kind, subject.name, subject.external_ref, dict(subject.attributes)
    )


def summary_of(fields: Mapping[str, Any], request_type: RequestType) -> str:
    if request_type.private:
        return request_type.title[:SUMMARY_MAX]
    hidden = sensitive_fields(request_type.fields_model)
    for key in ("summary", "subject", "title"):
        if key in hidden:
            continue
        value = fields.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:SUMMARY_MAX]
    return request_type.title[:SUMMARY_MAX]


STAFF = (Role.ADMIN, Role.AGENT)


SUMMARY_MAX = 200


EVENT_KIND_MAX = 32  # timeline_events.kind
