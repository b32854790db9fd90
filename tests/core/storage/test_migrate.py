from __future__ import annotations

from pathlib import Path

import pytest

from spoc import create_app
from spoc.core.kernel.errors import DatabaseNotReadyError
from spoc.core.services import spoc_of
from spoc.core.storage.db import Model


def test_app_refuses_to_serve_a_database_that_is_behind(tmp_path: Path) -> None:
    app = create_app(env="dev", database_url=f"sqlite:///{tmp_path / 'old.sqlite'}")
    response = app.test_client().get("/")
    assert response.status_code == 503
    assert "run: spoc db upgrade" in response.get_data(as_text=True)
    spoc_of(app).upgrade_database()
    assert app.test_client().get("/").status_code == 200


def test_enabling_a_plugin_with_tables_needs_an_upgrade_and_disabling_it_does_not(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'p.sqlite'}"
    spoc_of(create_app(env="dev", database_url=url, plugins=["generic"])).upgrade_database()
    with_plugin = spoc_of(
        create_app(env="dev", database_url=url, plugins=["generic", "facilities"])
    )
    with pytest.raises(DatabaseNotReadyError, match="facilities behind"):
        with_plugin.check_database()
    with_plugin.upgrade_database()
    with_plugin.check_database()
    # Disabled again: the plugin's history is ignored, the core's is still current.
    without = spoc_of(create_app(env="dev", database_url=url, plugins=["generic"]))
    without.check_database()
    without.upgrade_database()


def test_migrations_match_the_models(database_url: str) -> None:
    """Autogenerate against a migrated database finds nothing to do: models == migrations."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    core_tables = {t for t in Model.metadata.tables if not t.startswith("facilities_")}

    def include_name(name: str | None, type_: str, parent: object) -> bool:
        return type_ != "table" or name in core_tables

    def include_object(obj: object, name: str | None, type_: str, *_: object) -> bool:
        return type_ != "table" or name in core_tables

    spoc = spoc_of(create_app(env="test", database_url=database_url, plugins=["generic"]))
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
    spoc.db.dispose()
    assert diff == []
