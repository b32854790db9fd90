"""Which of a request's fields a reader sees.

A reader who *opens* a request — its requester, or staff whose read was reported to
``spoc_staff_access`` and allowed — sees every field. A list is not reported as a read of each
record, so it shows none of a private type's fields (nor of a type no enabled plugin offers)
and none marked ``sensitive`` of the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from spoc.core.kernel.types import RequestType


def sensitive_fields(model: type[BaseModel]) -> frozenset[str]:
    """Form fields marked ``json_schema_extra={"sensitive": True}`` (clinical detail, …)."""
    return frozenset(
        name
        for name, info in model.model_fields.items()
        if isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("sensitive")
    )


def listed_fields(request_type: RequestType | None, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields a list shows of a request of ``request_type`` (``None``: no enabled plugin
    offers it any more, so nothing says which of its fields are safe)."""
    if request_type is None or request_type.private:
        return {}
    hidden = sensitive_fields(request_type.fields_model)
    return {key: value for key, value in fields.items() if key not in hidden}
