"""Schema migrations: the core's Alembic history, and one history per plugin with tables.

Each history keeps its own version table (``alembic_version`` for the core,
``alembic_version_<plugin>`` for a plugin), as Indico does. So a plugin can be disabled and
enabled again without the core's history tripping over revisions it cannot see, and the core
is always migrated first, before any plugin table that references it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from spoc.core.kernel.errors import DatabaseNotReadyError
from spoc.core.platform.plugins import PluginHost
from spoc.core.storage.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"
CORE_VERSION_TABLE = "alembic_version"


@dataclass(frozen=True)
class History:
    owner: str  # "core" or the plugin name
    versions: Path
    version_table: str

    def config(self) -> Config:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.set_main_option("path_separator", "newline")
        config.set_main_option("version_locations", str(self.versions))
        config.attributes["version_table"] = self.version_table
        config.attributes["table_prefix"] = None if self.owner == "core" else f"{self.owner}_"
        return config

    def heads(self) -> set[str]:
        return set(ScriptDirectory.from_config(self.config()).get_heads())


def histories(host: PluginHost) -> list[History]:
    found = [History("core", MIGRATIONS / "versions", CORE_VERSION_TABLE)]
    for plugin, path in sorted(host.migration_dirs.items()):
        found.append(History(plugin, path, f"{CORE_VERSION_TABLE}_{plugin}"))
    return found


def applied(db: Database, history: History) -> set[str]:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"version_table": history.version_table}
        )
        return set(context.get_current_heads())


def upgrade(db: Database, host: PluginHost) -> None:
    """Bring the core, then every enabled plugin, to its latest revision."""
    for history in histories(host):
        config = history.config()
        with db.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "heads")


def check_up_to_date(db: Database, host: PluginHost) -> None:
    """Refuse to serve a database that is behind the code, saying how to fix it."""
    behind = [h.owner for h in histories(host) if h.heads() - applied(db, h)]
    if behind:
        raise DatabaseNotReadyError(
            f"the database at {db.engine.url.render_as_string(hide_password=True)} is not up "
            f"to date ({', '.join(behind)} behind); run: spoc db upgrade"
        )
