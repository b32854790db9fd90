"""The plugin's migrations build exactly the tables its models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask import Flask

from spoc.core.services import spoc_of
from spoc.core.storage.db import Model


def test_the_migrations_match_the_models(expo_app: Flask) -> None:
    def ours(name: str | None) -> bool:
        return bool(name and name.startswith("events_"))

    def include_name(name: str | None, type_: str, parent: object) -> bool:
        return type_ != "table" or ours(name)

    def include_object(obj: object, name: str | None, type_: str, *_: object) -> bool:
        return type_ != "table" or ours(name)

    spoc = spoc_of(expo_app)
    with spoc.db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "include_name": include_name,
                "include_object": include_object,
            },
        )
        diff = compare_metadata(context, Model.metadata)
    assert diff == []
