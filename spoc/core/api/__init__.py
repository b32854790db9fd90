"""The JSON API under ``/api/v1``: the same service layer as the web, bearer tokens, RFC 9457
problem details, optimistic locking with ETag/If-Match, idempotent creates, and an OpenAPI
3.1 document generated from the operations registered here (plugins' included)."""

from spoc.core.api import openapi as openapi
from spoc.core.api import routes as routes
from spoc.core.api.base import Operation, ProblemError, api_bp, operation

__all__ = ["Operation", "ProblemError", "api_bp", "operation"]
