"""Alembic environment: runs on the connection handed over by :mod:`spoc.core.storage.migrate`."""

from __future__ import annotations

from typing import Any

from alembic import context

from spoc.core.domain import models  # noqa: F401  (registers core tables on the metadata)
from spoc.core.storage.db import Model

config = context.config
connection = config.attributes["connection"]
prefix = config.attributes.get("table_prefix")
core_tables = {
    mapper.local_table.name
    for mapper in Model.registry.mappers
    if mapper.class_.__module__.startswith("spoc.core.")
}


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    # A plugin's autogenerate sees only its own tables; the core's sees only core tables.
    if type_ != "table" or name is None:
        return True
    return name.startswith(prefix) if prefix else name in core_tables


context.configure(
    connection=connection,
    target_metadata=Model.metadata,
    version_table=config.attributes.get("version_table", "alembic_version"),
    render_as_batch=connection.dialect.name == "sqlite",
    include_name=include_name,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
