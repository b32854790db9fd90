"""A plugin using the record-keeping surfaces: triage, staff access, exports, portal panels,
its own pages. What it saw is kept in module lists the tests read."""

from __future__ import annotations

from flask import Blueprint
from pydantic import BaseModel

from spoc import (
    AccessRefused,
    ConsolePanel,
    Export,
    Priority,
    Request,
    RequestType,
    Spoc,
    StaffAccess,
    SubjectInfo,
    Triage,
    console_agent,
    hookimpl,
)

READS: list[StaffAccess] = []
pages = Blueprint("pages", __name__)


@pages.get("/hello")
def hello() -> str:
    return f"Hello {console_agent().name}"


@hookimpl
def spoc_blueprints() -> list[Blueprint]:
    return [pages]


@hookimpl
def spoc_triage_request(
    request_type: RequestType, fields: BaseModel, subject: SubjectInfo | None, spoc: Spoc
) -> Triage | None:
    text = " ".join(str(v) for v in fields.model_dump().values()).lower()
    if "on fire" in text:
        return Triage(
            "the word 'on fire'",
            priority=Priority.P1,
            notice="Leave the building and call the fire brigade now.",
            escalate_to="specialists",
            cause="fire",
        )
    return None


@hookimpl
def spoc_staff_access(access: StaffAccess) -> AccessRefused | None:
    if not access.own and access.reason is None:
        return AccessRefused("This record is not yours.")
    READS.append(access)
    return None


@hookimpl
def spoc_request_exports(request: Request) -> list[Export]:
    return [
        Export(
            "summary.txt",
            "Summary as text",
            "text/plain",
            f"{request.id}.txt",
            lambda: f"Request {request.id}: {request.summary}",
        ),
        Export(
            "internal",
            "Internal sheet",
            "text/plain",
            "internal.txt",
            lambda: "staff only",
            requester=False,
        ),
    ]


@hookimpl
def spoc_portal_panels(request: Request) -> list[ConsolePanel]:
    return [ConsolePanel("Progress", f"<b>{request.priority.value}</b> step 2 of 3")]


FILED: list[int] = []


@hookimpl
def spoc_request_filed(request: Request, fields: BaseModel, session: object) -> None:
    if "explode" in str(fields.model_dump()):
        raise RuntimeError("the plugin's own row could not be written")
    assert session is not None
    FILED.append(request.id)


@hookimpl
def spoc_form_defaults(request_type: RequestType, subject: SubjectInfo | None) -> dict[str, str]:
    if subject is None or request_type.key != "generic.question":
        return {}
    return {"summary": f"About {subject.name}", "not_a_field": "ignored"}
