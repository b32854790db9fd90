"""Structures: the rows a plugin keeps in its own tables, onboarded the way subjects are.

A plugin returns :class:`Structure` objects from ``spoc_structures``. The core's subject form,
CSV import and batch API then write the plugin's rows in the same transaction as the subject
(a structure that *completes* a subject kind: a project's reporting row, an event's dates), or
rows of their own under a parent subject (an event's sessions and vendors, an account's
verified contacts), with the same two passes, errors by field and line, and idempotency.

These are part of the public plugin API and re-exported from :mod:`spoc`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from spoc.core.kernel.types import KEY_PATTERN, Actor

PARENT_COLUMN = "parent"  # a child structure's CSV column: the parent subject's external_ref
_FIELD = re.compile(r"^[a-z][a-z0-9_]*$")


class Saved(StrEnum):
    """What a structure's ``save`` did (or, checking, would do) with one item."""

    CREATED = "created"
    UPDATED = "updated"


@dataclass(frozen=True)
class StructureItem:
    """One item handed to a structure's ``save``.

    ``check_only``: the import's first pass (and a form's check): ``session`` only reads, and
    ``save`` must raise :class:`spoc.ValidationFailed` for what it would refuse (a project
    naming no portfolio) and write nothing. Otherwise ``session`` is the transaction that
    writes the subject too; rows added there commit with it or not at all.

    ``subject_id`` is the subject being saved (a completing structure; ``None`` while checking
    a subject not created yet) or the parent subject (a child structure). ``name``,
    ``external_ref`` and ``attributes`` are the subject's, validated (for a child structure,
    its parent's)."""

    session: Any
    spoc: Any
    actor: Actor
    fields: BaseModel
    subject_id: int | None
    name: str
    external_ref: str | None
    attributes: Mapping[str, Any]
    check_only: bool


@dataclass(frozen=True)
class Structure:
    """Rows of a plugin's own tables, created and changed through the core's onboarding.

    Exactly one of ``subject_kind`` and ``parent_kind`` is set:

    * ``subject_kind``: the structure completes each subject of that kind. Its
      ``fields_model`` adds fields to the kind's form, CSV columns and the API item's
      ``details``, beside the kind's attributes (names must differ from them). ``save`` runs
      for every subject of the kind saved, created or updated, after the subject's row is
      written (its id known).
    * ``parent_kind``: the structure's items belong to a subject of that kind, named in a CSV
      by its ``external_ref`` (column ``parent``). ``save`` finds its row by the item's own
      natural key (``key_fields``, unique under one parent) and creates or updates it, so an
      import run twice changes nothing more.

    ``save`` returns :class:`Saved` (what it did or would do), raises
    :class:`spoc.ValidationFailed` naming fields of ``fields_model`` or of the attributes, and
    never writes core tables. ``values`` reads what the console's edit form starts with: a
    completing structure's fields of a subject (by its id), or a child's (by ``item_id``).
    ``items`` lists a parent's child items for the console as (id, label), at most 100.
    """

    key: str
    title: str
    fields_model: type[BaseModel]
    save: Callable[[StructureItem], Saved]
    subject_kind: str | None = None
    parent_kind: str | None = None
    key_fields: tuple[str, ...] = ()
    values: Callable[[Any, int], Mapping[str, Any] | None] | None = None
    items: Callable[[Any, int], list[tuple[int, str]]] | None = None
    description: str = ""
    order: int = 100

    def __post_init__(self) -> None:
        if not KEY_PATTERN.match(self.key):
            raise ValueError(f"structure key {self.key!r} must look like 'plugin.name'")
        if (self.subject_kind is None) == (self.parent_kind is None):
            raise ValueError(
                f"structure {self.key!r}: set exactly one of subject_kind, parent_kind"
            )
        names = set(self.fields_model.model_fields)
        if self.parent_kind is not None and not self.key_fields:
            raise ValueError(f"structure {self.key!r}: a child structure needs key_fields")
        if not set(self.key_fields) <= names:
            raise ValueError(f"structure {self.key!r}: key_fields must be fields of its model")
        bad = sorted(n for n in names if not _FIELD.match(n) or n == PARENT_COLUMN)
        if bad:
            raise ValueError(f"structure {self.key!r}: field names not allowed: {bad}")

    @property
    def field_names(self) -> list[str]:
        return list(self.fields_model.model_fields)
