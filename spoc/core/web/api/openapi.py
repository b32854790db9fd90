"""The OpenAPI 3.1 document, generated from the registered operations and their pydantic
models — never written by hand — and a browsable reference page."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, current_app, render_template
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from spoc.core.kernel.version import VERSION
from spoc.core.web.api.base import REGISTRY, Operation, api_bp

REASONS = {
    400: "Bad request",
    401: "Missing or invalid token",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict (stale version, or not allowed in this state)",
    406: "Not acceptable",
    413: "Request body too large (more than 2 MB)",
    414: "URL too long (more than 2048 characters)",
    415: "Unsupported media type",
    422: "Validation failed",
    429: "Too many requests",
    500: "Server error",
}
REASON_REQUIRED = (
    "Forbidden; with reason_required true, the record is private and the call needs a "
    "break-glass reason in the SPOC-Access-Reason header"
)


def operations() -> list[Operation]:
    """The core's operations and those of this app's enabled plugins."""
    return [*REGISTRY.operations, *current_app.extensions.get("spoc.api_ops", [])]


def _models() -> list[type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}
    for op in operations():
        for model in (op.body, op.response):
            if model is not None:
                found[model.__name__] = model
    return list(found.values())


def document() -> dict[str, Any]:
    models = _models()
    _, top = models_json_schema(
        [(m, "validation") for m in models], ref_template="#/components/schemas/{model}"
    )
    schemas = dict(top.get("$defs", {}))
    schemas["Problem"] = {
        "type": "object",
        "required": ["type", "title", "status"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                },
            },
            "current_version": {"type": ["integer", "null"]},
            "reason_required": {"type": "boolean"},
        },
    }
    paths: dict[str, dict[str, Any]] = {}
    for op in sorted(operations(), key=lambda o: (o.path, o.method)):
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "SPOC API",
            "version": VERSION,
            "description": "Single point of contact service desk. "
            "Errors are RFC 9457 problem details.",
        },
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token (spoc_…), or a requester's tracking "
                    "token for their own request",
                }
            },
        },
    }


def _operation(op: Operation) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "operationId": op.endpoint.replace(".", "_"),
        "summary": op.summary,
        "tags": [op.tag],
    }
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
        for name in _path_params(op.path)
    ]
    if op.query is not None:
        for name, prop in op.query.model_json_schema()["properties"].items():
            parameters.append(
                {"name": name, "in": "query", "required": False, "schema": _inline(prop, op.query)}
            )
    if op.idempotent:
        parameters.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "minLength": 1, "maxLength": 200},
            }
        )
    if op.method in ("POST",) and "/requests/{reference}" in op.path:
        parameters.append(
            {
                "name": "If-Match",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "pattern": '^"[0-9]+"$'},
            }
        )
    if parameters:
        spec["parameters"] = parameters
    if op.body is not None:
        body_ref = {"$ref": f"#/components/schemas/{op.body.__name__}"}
        spec["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body_ref}},
        }
        if op.multipart:
            spec["requestBody"]["content"]["multipart/form-data"] = _multipart(body_ref)
    responses: dict[str, Any] = {}
    ok: dict[str, Any] = {"description": "OK"}
    if op.response is not None:
        ok["content"] = {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{op.response.__name__}"}}
        }
    responses[str(op.status)] = ok
    # Every operation can be limited, refused a too-long URL, or fail; every authenticated one
    # can be forbidden (a role, or a private record without a reason); a body can be too big.
    # (400: a NUL character in any parameter; 404: a path naming nothing.)
    codes = set(op.errors) | {400, 414, 429, 500}
    if _path_params(op.path):
        codes |= {404}
    if op.auth != "none":
        codes |= {401, 403}
    if op.body is not None or op.query is not None:
        codes |= {400, 422}
    if op.body is not None:
        codes |= {413}
    if op.idempotent:
        codes |= {409}
    for code in sorted(codes):
        responses[str(code)] = {
            "description": REASON_REQUIRED if code == 403 else REASONS[code],
            "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            },
        }
    spec["responses"] = responses
    if op.auth != "none":
        spec["security"] = [{"bearer": []}]
    return spec


def _multipart(body_ref: dict[str, Any]) -> dict[str, Any]:
    """The same body as the part ``body`` (JSON), with files in ``attachments``."""
    return {
        "schema": {
            "type": "object",
            "required": ["body"],
            "properties": {
                "body": body_ref,
                "attachments": {
                    "type": "array",
                    "items": {"type": "string", "contentMediaType": "application/octet-stream"},
                    "description": "Files to attach (limits and types: SPOC_ATTACHMENTS_*)",
                },
            },
        },
        "encoding": {"body": {"contentType": "application/json"}},
    }


def _inline(prop: dict[str, Any], model: type[BaseModel]) -> dict[str, Any]:
    defs = model.model_json_schema().get("$defs", {})
    if "$ref" in prop:
        return dict(defs[prop["$ref"].rsplit("/", 1)[-1]])
    if "anyOf" in prop:
        return {"anyOf": [_inline(p, model) for p in prop["anyOf"]]}
    return {k: v for k, v in prop.items() if k not in ("title", "default")}


def _path_params(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


@api_bp.get("/openapi.json")
def openapi_json() -> Response:
    return Response(json.dumps(document()), mimetype="application/json")


@api_bp.get("/docs")
def reference_page() -> str:
    return render_template(
        "api/docs.html", operations=sorted(operations(), key=lambda o: (o.tag, o.path, o.method))
    )
