"""A plugin whose structure hangs under a subject kind nobody offers."""

from pydantic import BaseModel

from spoc import Saved, Structure, StructureItem, hookimpl


class Desk(BaseModel):
    code: str


def _save(item: StructureItem) -> Saved:
    return Saved.CREATED


@hookimpl
def spoc_structures() -> list[Structure]:
    return [
        Structure(
            "stray_structure.desk",
            "Desk",
            Desk,
            _save,
            parent_kind="nobody.site",
            key_fields=("code",),
        )
    ]
