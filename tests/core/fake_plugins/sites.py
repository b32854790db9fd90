"""A plugin whose subject kind is completed by a structure that can stop the worker: the
tests arm ``STOP_AFTER`` writes, after which ``save`` raises ``SystemExit``, as a worker
killed mid-import would stop."""

from __future__ import annotations

from pydantic import BaseModel, Field

from spoc import Saved, Structure, StructureItem, SubjectKind, hookimpl

WRITES: list[int] = []  # the subject ids saved (not checked)
STOP_AFTER: list[int] = []  # armed: stop the process after this many writes


class SiteRow(BaseModel):
    floor: int = Field(default=0, ge=0, le=200)


def _save(item: StructureItem) -> Saved:
    if not item.check_only:
        if STOP_AFTER and len(WRITES) >= STOP_AFTER[0]:
            raise SystemExit("the worker was stopped")
        WRITES.append(item.subject_id or 0)
    return Saved.CREATED if item.subject_id is None else Saved.UPDATED


@hookimpl
def spoc_subject_kinds() -> list[SubjectKind]:
    return [SubjectKind("sites.site", "Site")]


@hookimpl
def spoc_structures() -> list[Structure]:
    return [Structure("sites.row", "Site", SiteRow, _save, subject_kind="sites.site")]
