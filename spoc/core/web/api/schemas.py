"""Request and response bodies of the API: the OpenAPI schemas are generated from these."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, RootModel

from spoc.core.kernel.types import Priority, Status


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RequesterIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr


class RequestCreate(Strict):
    type: str = Field(min_length=3, max_length=100, description="A request type key")
    fields: dict[str, Any] = Field(description="Validated by the request type's JSON Schema")
    requester: RequesterIn
    subject_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class TransitionIn(Strict):
    to: Status
    reason: str | None = Field(default=None, max_length=500)


class MessageIn(Strict):
    body: str = Field(min_length=1, max_length=20_000)
    internal: bool = False


class EscalationIn(Strict):
    team: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=2000)
    answer_within_hours: float | None = Field(default=None, gt=0, le=720)


class HandBackIn(Strict):
    note: str | None = Field(default=None, max_length=2000)


class RequestOut(BaseModel):
    reference: str
    type: str
    summary: str
    status: Status
    priority: Priority
    fields: dict[str, Any]
    subject_id: int | None
    owner_agent_id: int | None
    owner_team_id: int | None
    escalation_level: int
    version: int
    created_at: datetime
    updated_at: datetime
    deadline_at: datetime | None


NEXT_CURSOR = "Pass as ``cursor`` for the next page; null on the last page"


def cursor_field() -> Any:
    """The ``cursor`` of a list's query: what the previous page gave as ``next_cursor``."""
    return Field(
        default=None,
        max_length=1000,
        description="The previous page's next_cursor (opaque); none for the first page",
    )


class RequestPage(BaseModel):
    items: list[RequestOut]
    next_cursor: str | None = Field(description=NEXT_CURSOR)


class RequestQuery(Strict):
    status: Status | None = None
    type: str | None = Field(default=None, max_length=100)
    priority: Priority | None = None
    subject_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    owner_agent_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    queue: str = Field(
        default="visible",
        max_length=32,
        description=(
            "A named queue, as in the console: mine, covering, escalations, triage, all; "
            "visible (the default): every request the caller may list"
        ),
    )
    cursor: str | None = cursor_field()
    limit: int = Field(default=25, ge=1, le=100)


class PageQuery(Strict):
    cursor: str | None = cursor_field()
    limit: int = Field(default=25, ge=1, le=100)


class AttachmentOut(BaseModel):
    id: int
    filename: str
    content_type: str = Field(description="Detected from the content when it was stored")
    size: int = Field(description="In bytes")
    href: str = Field(description="GET it with the same token: the file, as a download")


class TimelineEventOut(BaseModel):
    seq: int
    kind: str
    visibility: Literal["public", "internal"]
    summary: str
    actor: str
    at: datetime
    message: str | None
    data: dict[str, Any]
    attachments: list[AttachmentOut] = Field(
        default_factory=list, description="The files that came with this entry"
    )


class ExportOut(BaseModel):
    key: str
    title: str
    media_type: str
    filename: str
    href: str = Field(description="GET it with the same token")


class ExportList(BaseModel):
    items: list[ExportOut]


class TimelineOut(BaseModel):
    items: list[TimelineEventOut]


class ContactOut(BaseModel):
    id: int
    name: str
    email: str | None  # None in a list whose reader may not see this contact
    language: str


class ContactPage(BaseModel):
    items: list[ContactOut]
    next_cursor: str | None = Field(description=NEXT_CURSOR)


class PersonOut(BaseModel):
    id: int
    name: str


class SubjectOut(BaseModel):
    id: int
    kind: str
    name: str
    external_ref: str | None
    spoc: PersonOut | None
    deputies: list[PersonOut]


class SubjectPage(BaseModel):
    items: list[SubjectOut]
    next_cursor: str | None = Field(description=NEXT_CURSOR)


class SubjectIn(Strict):
    """One subject of a batch: found by (kind, external_ref), created when it is new."""

    kind: str = Field(max_length=64, description="An enabled subject kind, e.g. generic.account")
    name: str = Field(max_length=200)
    external_ref: str = Field(
        min_length=1, max_length=100, description="Your reference: a rerun updates, never doubles"
    )
    spoc: str | None = Field(
        default=None, max_length=320, description="The SPOC's email; null keeps it as it is"
    )
    deputies: list[Annotated[str, Field(max_length=320)]] | None = Field(
        default=None, max_length=3, description="Deputies' emails in order; null keeps them"
    )
    attributes: dict[str, Any] = Field(
        default_factory=dict, description="Checked against the kind's attributes model"
    )
    details: dict[str, Any] = Field(
        default_factory=dict,
        description="The fields of the plugin structure completing the kind (its own rows)",
    )


class SubjectBatch(RootModel[list[SubjectIn]]):
    """Up to 1,000 subjects, checked all before any is written."""

    root: list[SubjectIn] = Field(min_length=1, max_length=1000)


class ContactIn(Strict):
    """One contact of a batch: found by email, created when it is new."""

    name: str = Field(max_length=200)
    email: str = Field(max_length=320, description="Finds the contact: a rerun updates")
    phone: str | None = Field(default=None, max_length=40, description="null removes it")
    language: str | None = Field(default=None, max_length=16, description="null keeps it")


class ContactBatch(RootModel[list[ContactIn]]):
    """Up to 1,000 contacts, checked all before any is written."""

    root: list[ContactIn] = Field(min_length=1, max_length=1000)


class StructureBatch(RootModel[list[dict[str, Any]]]):
    """Up to 1,000 items of a plugin structure: ``parent`` (the parent subject's
    external_ref) and the structure's fields; checked all before any is written."""

    root: list[dict[str, Any]] = Field(min_length=1, max_length=1000)


class SubjectBatchQuery(Strict):
    dry_run: bool = Field(default=False, description="Check every item and change nothing")


class SubjectBatchOut(BaseModel):
    dry_run: bool
    created: int = Field(description="Created (or, in a dry run, that would be)")
    updated: int = Field(description="Updated (or, in a dry run, that would be)")


class RequestTypeOut(BaseModel):
    key: str
    title: str
    description: str
    group: str
    subject_kinds: list[str]
    fields_schema: dict[str, Any] = Field(description="JSON Schema of the type's fields")


class RequestTypeList(BaseModel):
    items: list[RequestTypeOut]


class TeamOut(BaseModel):
    id: int
    key: str
    name: str
    member_ids: list[int]


class TeamList(BaseModel):
    items: list[TeamOut]


class AgentOut(BaseModel):
    id: int
    name: str
    email: str
    role: str
    active: bool


class AgentPage(BaseModel):
    items: list[AgentOut]
    next_cursor: str | None = Field(description=NEXT_CURSOR)


class EscalationOut(BaseModel):
    id: int
    level: int
    team_id: int | None
    reason: str
    trigger: str
    opened_at: datetime
    handed_back_at: datetime | None


class AuditQuery(Strict):
    action: str | None = Field(default=None, max_length=64, description="One action")
    actor_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    target_kind: str | None = Field(default=None, max_length=32)
    target_id: int | None = Field(default=None, ge=0, le=2**31 - 1)
    since: datetime | None = Field(default=None, description="At or after (ISO 8601)")
    until: datetime | None = Field(default=None, description="Before (ISO 8601)")
    cursor: str | None = cursor_field()
    limit: int = Field(default=50, ge=1, le=200)


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor_kind: str
    actor_id: int | None
    actor_name: str
    action: str
    target_kind: str
    target_id: int | None
    summary: str
    before: dict[str, Any]
    after: dict[str, Any]


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next_cursor: str | None = Field(description=NEXT_CURSOR)


class SearchQuery(Strict):
    q: str = Field(min_length=1, max_length=200, description="The words to look for")
    kind: str | None = Field(
        default=None,
        max_length=100,
        description="Comma-separated kinds to search: request, contact, subject, article "
        "(default: all the caller may search)",
    )
    cursor: str | None = cursor_field()
    limit: int = Field(default=20, ge=1, le=100)


class SnippetPart(BaseModel):
    text: str
    match: bool = Field(description="Whether this part matched a word of the query")


class SearchHitOut(BaseModel):
    kind: str = Field(description="request, contact, subject or article")
    id: int | None = Field(description="The row's id; null for an article (see key)")
    key: str = Field(description="The row's id as text, or an article's key")
    reference: str | None = Field(description="A request's reference; null for other kinds")
    title: list[SnippetPart]
    snippet: list[SnippetPart] = Field(description="Plain text parts: never markup")


class SearchPage(BaseModel):
    items: list[SearchHitOut] = Field(description="Best match first; no total is given")
    next_cursor: str | None = Field(description=NEXT_CURSOR)
