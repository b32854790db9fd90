"""A request type with every kind of form field the portal generates."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from spoc import Phone, RequestType, hookimpl


class Colour(StrEnum):
    RED = "red"
    GREEN = "green"
    BLUE = "blue"
    CYAN = "cyan"
    MAGENTA = "magenta"


class Need(StrEnum):
    STEP_FREE = "step_free"
    CAPTIONS = "captions"
    QUIET_ROOM = "quiet_room"


class Everything(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    title: str = Field(min_length=2, max_length=80, description="A short line")
    story: str = Field(default="", max_length=2000, description="As long as you like")
    code: str = Field(pattern=r"^[A-Z]{2}-[0-9]{3}$", max_length=6, description="Like AB-123")
    count: int = Field(ge=1, le=10, description="Between 1 and 10")
    ratio: float | None = Field(default=None, ge=0, le=1)
    agree: bool = Field(default=False, description="Tick if you agree")
    day: date
    when: datetime | None = None
    at: time | None = None
    colour: Colour = Field(json_schema_extra={"group": "Choices"})
    size: Literal["s", "m", "l"] = Field(
        default="m",
        json_schema_extra={"group": "Choices", "widget": "select", "labels": {"s": "Small"}},
    )
    needs: list[Need] = Field(default_factory=list, json_schema_extra={"group": "Choices"})
    email: EmailStr | None = None
    phone: Phone | None = None
    notes: str = Field(default="", max_length=100, json_schema_extra={"widget": "textarea"})


@hookimpl
def spoc_request_types() -> list[RequestType]:
    return [RequestType("allkinds.everything", "Everything", "Every field kind", Everything)]
