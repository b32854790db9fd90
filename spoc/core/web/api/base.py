"""Operation registry, authentication, problem details and idempotency for the API."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, g, request
from pydantic import BaseModel, RootModel, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from spoc.core.domain.access import REASON_HEADER, AccessReasonRequired, clean_reason
from spoc.core.domain.models import IdempotencyRecord
from spoc.core.kernel.errors import (
    ConflictError,
    IllegalTransition,
    NotFoundError,
    PermissionDenied,
    ServiceError,
    ValidationFailed,
)
from spoc.core.kernel.types import Actor, ActorKind
from spoc.core.services import spoc_of
from spoc.core.web.webinput import JsonRejected, loads_json

api_bp = Blueprint("api", __name__, url_prefix="/api/v1")
PROBLEM = "application/problem+json"


@dataclass(frozen=True)
class Operation:
    """One API operation; the OpenAPI document is generated from these."""

    method: str
    path: str  # OpenAPI style: /requests/{reference}
    endpoint: str
    summary: str
    tag: str
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    query: type[BaseModel] | None = None
    auth: str = "agent"  # agent | requester | none
    idempotent: bool = False
    errors: tuple[int, ...] = ()
    plugin: str | None = None
    multipart: bool = False  # the body may also come as multipart/form-data, with files


@dataclass
class Registry:
    operations: list[Operation] = field(default_factory=list)


REGISTRY = Registry()


class ProblemError(Exception):
    def __init__(self, status: int, title: str, detail: str = "", **extra: Any) -> None:
        super().__init__(detail or title)
        self.status, self.title, self.detail, self.extra = status, title, detail, extra


def problem(status: int, title: str, detail: str = "", **extra: Any) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="spoc"'
    return response


def operation(
    method: str,
    path: str,
    *,
    summary: str,
    tag: str,
    body: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    query: type[BaseModel] | None = None,
    auth: str = "agent",
    idempotent: bool = False,
    errors: tuple[int, ...] = (),
    blueprint: Blueprint | None = None,
    plugin: str | None = None,
    multipart: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a view as an API operation (path in OpenAPI syntax: ``/things/{id}``)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        target = blueprint or api_bp
        rule = path.replace("{", "<").replace("}", ">")
        target.add_url_rule(rule, view.__name__, view, methods=[method])
        prefix = "" if target is api_bp else f"/{plugin}"
        REGISTRY.operations.append(
            Operation(
                method,
                prefix + path,
                f"{target.name}.{view.__name__}",
                summary,
                tag,
                body,
                response,
                status,
                query,
                auth,
                idempotent,
                errors,
                plugin,
                multipart,
            )
        )
        return view

    return decorate


# --- authentication -------------------------------------------------------------------------


def bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def current_actor(allow_requester_for: int | None = None) -> Actor:
    """The caller: an agent by API token, or (where allowed) a requester by tracking token."""
    secret = bearer()
    if secret is None:
        raise ProblemError(401, "Authentication required", "send Authorization: Bearer <token>")
    spoc = spoc_of()
    actor = spoc.tokens.authenticate(secret)
    if actor is None and allow_requester_for is not None:
        request_id = spoc.links.request_for_tracking_token(secret)
        if request_id is not None:
            if request_id != allow_requester_for:
                # Another request's token: indistinguishable from a missing request.
                raise ProblemError(404, "Not found", "no such request")
            found = spoc.requests.get(request_id, Actor.system())
            actor = Actor.requester(found.contact_id)
    if actor is None:
        raise ProblemError(401, "Invalid token", "the token is unknown, revoked or expired")
    g.api_actor = actor
    return actor


def require_agent() -> Actor:
    actor = current_actor()
    if actor.kind is not ActorKind.AGENT:
        raise ProblemError(403, "Forbidden", "staff token required")
    return actor


# --- errors ---------------------------------------------------------------------------------


@api_bp.errorhandler(ProblemError)
def _problem(exc: ProblemError) -> Response:
    return problem(exc.status, exc.title, exc.detail, **exc.extra)


@api_bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError) -> Response:
    if isinstance(exc, AccessReasonRequired):
        return problem(
            403,
            "Reason required",
            f"{exc.message} Send the reason in the SPOC-Access-Reason header.",
            reason_required=True,
        )
    if isinstance(exc, NotFoundError):
        return problem(404, "Not found", str(exc))
    if isinstance(exc, ConflictError):
        return problem(409, "Conflict", str(exc), current_version=exc.current_version)
    if isinstance(exc, ValidationFailed):
        errors = [{"field": k, "message": v} for k, v in exc.errors.items()]
        return problem(422, "Validation failed", str(exc), errors=errors)
    if isinstance(exc, PermissionDenied):
        return problem(403, "Forbidden", str(exc))
    if isinstance(exc, IllegalTransition):
        return problem(409, "Not allowed now", str(exc))
    return problem(400, "Bad request", str(exc))


def parse(model: type[BaseModel], data: Any, where: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in (where, *e["loc"])), "message": e["msg"]}
            for e in exc.errors()
        ]
        raise ProblemError(
            422, "Validation failed", f"the {where} has errors", errors=errors
        ) from None


def json_body(model: type[BaseModel], *, multipart: bool = False) -> Any:
    """The request's JSON body as ``model``; with ``multipart`` it may instead be the part
    named ``body`` of a multipart/form-data request, whose other parts are files."""
    data: Any = None
    raw: bytes | None = request.get_data() if request.is_json else None
    if multipart and request.mimetype == "multipart/form-data":
        # The JSON body travels as the part named "body", files beside it (see docs/api.md).
        part = request.files.get("body")
        text = part.read() if part is not None else request.form.get("body", "").encode()
        raw = text or None
    if raw is not None:
        try:
            data = loads_json(raw)
        except JsonRejected as exc:
            raise ProblemError(
                400,
                "Bad request",
                f"the body: {exc}",
                errors=[{"field": "body", "message": str(exc)}],
            ) from None
        except ValueError:
            data = None
    if issubclass(model, RootModel):  # a batch: the body is a JSON array
        if not isinstance(data, list):
            raise ProblemError(400, "Bad request", "the body must be a JSON array")
    elif not isinstance(data, dict):
        raise ProblemError(400, "Bad request", "the body must be a JSON object")
    return parse(model, data, "body")


def expected_version() -> int | None:
    header = request.headers.get("If-Match")
    if header is None:
        return None
    text = header.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise ProblemError(400, "Bad request", 'If-Match must be an ETag like "3"')
    return int(text)


def respond(model: BaseModel, status: int = 200, version: int | None = None) -> Response:
    response = Response(model.model_dump_json(), status=status, mimetype="application/json")
    if version is not None:
        response.headers["ETag"] = f'"{version}"'
    return response


# --- idempotency ----------------------------------------------------------------------------


def idempotent(principal: str, run: Callable[[], Response]) -> Response:
    """Replay the first answer to a retried call with the same Idempotency-Key.

    The key is reserved before the work runs (a unique row), so two concurrent retries cannot
    both create: the second is told the first is still in progress."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return run()
    if not 1 <= len(key) <= 200:
        raise ProblemError(400, "Bad request", "Idempotency-Key must be 1 to 200 characters")
    fingerprint = hashlib.sha256(
        f"{request.method} {request.path}\n".encode() + request.get_data()
    ).hexdigest()
    spoc = spoc_of()
    try:
        with spoc.db.transaction() as session:
            record = IdempotencyRecord(
                principal=principal,
                key=key,
                fingerprint=fingerprint,
                status=0,
                body={},
                created_at=spoc.clock.now(),
            )
            session.add(record)
    except IntegrityError:
        with spoc.db.reader() as session:
            seen = session.scalar(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.principal == principal, IdempotencyRecord.key == key
                )
            )
        if seen is None or seen.fingerprint != fingerprint:
            raise ProblemError(
                422, "Idempotency-Key reused", "this key was used for another request"
            ) from None
        if seen.status == 0:
            raise ProblemError(
                409, "In progress", "a request with this key is still running"
            ) from None
        return Response(json.dumps(seen.body), status=seen.status, mimetype="application/json")
    try:
        response = run()
    except BaseException:
        _forget(record.id)
        raise
    if response.status_code >= 500:
        _forget(record.id)
        return response
    with spoc.db.transaction() as session:
        stored = session.get(IdempotencyRecord, record.id)
        if stored is not None:
            stored.status = response.status_code
            stored.body = response.get_json(silent=True) or {}
    return response


def _forget(record_id: int) -> None:
    with spoc_of().db.transaction() as session:
        stored = session.get(IdempotencyRecord, record_id)
        if stored is not None:
            session.delete(stored)


def access_reason() -> str | None:
    """The break-glass reason in ``SPOC-Access-Reason``: the same rule as the console's form
    (trimmed, at least 10 characters); too short is a 422 naming the header."""
    return clean_reason(request.headers.get(REASON_HEADER), field=REASON_HEADER)
