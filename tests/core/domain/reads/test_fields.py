"""Which fields a list shows: none of a private type's, none marked sensitive."""

from __future__ import annotations

from pydantic import BaseModel, Field

from spoc import RequestType
from spoc.core.domain.reads.fields import listed_fields, sensitive_fields


class Visit(BaseModel):
    summary: str
    reason: str = Field(json_schema_extra={"sensitive": True})


FIELDS = {"summary": "Check-up", "reason": "chest pain"}


def _type(private: bool) -> RequestType:
    return RequestType("clinic.visit", "Visit", "", Visit, private=private)


def test_sensitive_fields_are_those_marked_so() -> None:
    assert sensitive_fields(Visit) == {"reason"}


def test_a_list_hides_sensitive_fields() -> None:
    assert listed_fields(_type(private=False), FIELDS) == {"summary": "Check-up"}


def test_a_list_shows_no_field_of_a_private_type_or_of_an_unknown_one() -> None:
    assert listed_fields(_type(private=True), FIELDS) == {}
    assert listed_fields(None, FIELDS) == {}
