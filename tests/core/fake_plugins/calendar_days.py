"""A plugin whose SLA says "five days" with a plain timedelta: five times 24 business hours."""

from datetime import timedelta

from pydantic import BaseModel

from spoc import Priority, RequestType, SlaPolicy, hookimpl


class Fields(BaseModel):
    summary: str


@hookimpl
def spoc_request_types() -> list[RequestType]:
    sla = SlaPolicy(
        first_response={Priority.P3: timedelta(hours=4)},
        resolution={Priority.P3: timedelta(days=5)},
    )
    return [RequestType("calendar_days.ask", "Ask", "Five days, said wrongly", Fields, sla=sla)]
