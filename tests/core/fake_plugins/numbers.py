"""A request type with numbers that have no bounds of their own."""

from __future__ import annotations

from pydantic import BaseModel, Field

from spoc import RequestType, hookimpl


class Numbers(BaseModel):
    summary: str = Field(min_length=2, max_length=80)
    amount: float | None = None
    units: int | None = None


@hookimpl
def spoc_request_types() -> list[RequestType]:
    return [RequestType("numbers.order", "Order", "Numbers without bounds", Numbers)]
