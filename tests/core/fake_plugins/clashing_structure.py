"""A plugin whose structure completing its own kind repeats one of the kind's attributes."""

from pydantic import BaseModel

from spoc import Saved, Structure, StructureItem, SubjectKind, hookimpl


class SiteDetails(BaseModel):
    floor: int = 0


class SiteRow(BaseModel):
    floor: int = 0


def _save(item: StructureItem) -> Saved:
    return Saved.CREATED


@hookimpl
def spoc_subject_kinds() -> list[SubjectKind]:
    return [SubjectKind("clashing_structure.site", "Site", attributes_model=SiteDetails)]


@hookimpl
def spoc_structures() -> list[Structure]:
    return [
        Structure(
            "clashing_structure.row", "Row", SiteRow, _save, subject_kind="clashing_structure.site"
        )
    ]
