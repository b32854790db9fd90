"""A plugin that claims a request type key the generic plugin already owns."""

from pydantic import BaseModel

from spoc import RequestType, hookimpl


class Fields(BaseModel):
    summary: str


@hookimpl
def spoc_request_types() -> list[RequestType]:
    return [RequestType("generic.question", "Clash", "Same key as generic", Fields)]
