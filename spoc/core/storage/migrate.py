"""Schema migrations: the core's Alembic history, and one history per plugin with tables.

Each history keeps its own version table (``alembic_version`` for the core,
``alembic_version_<plugin>`` for a plugin), as Indico does. So a plugin can be disabled and
enabled again without the core's history tripping over revisions it cannot see, and the core
is always migrated first, before any plugin table that references it.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text

from spoc.core.kernel.errors import DatabaseNotReadyError
from spoc.core.platform.plugins import PluginHost
from spoc.core.storage.db import Database

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
CORE_VERSION_TABLE = "alembic_version"
# A revision file's own ``revision = "..."`` and ``down_revision = ...`` lines (module level,
# annotated or not), as Alembic's templates write them.
_REVISION_LINE = re.compile(r"^(revision|down_revision)\b[^=\n]*=\s*(.+?)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class History:
    owner: str  # "core" or the plugin name
    versions: Path
    version_table: str

    def config(self) -> Config:
        # Imported here to keep start-up light: Alembic (with Mako) costs a tenth of a second
        # and is needed only to upgrade; checking the version reads the files and one table.
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.set_main_option("path_separator", "newline")
        config.set_main_option("version_locations", str(self.versions))
        config.attributes["version_table"] = self.version_table
        config.attributes["table_prefix"] = None if self.owner == "core" else f"{self.owner}_"
        return config

    def heads(self) -> set[str]:
        """The revisions no other revision builds on, read from the version files' own
        ``revision`` / ``down_revision`` lines (what Alembic's ``get_heads`` answers)."""
        revisions: set[str] = set()
        parents: set[str] = set()
        for path in self.versions.glob("*.py"):
            found = dict(_REVISION_LINE.findall(path.read_text(encoding="utf-8")))
            if "revision" not in found:
                continue
            revisions.add(ast.literal_eval(found["revision"]))
            down = ast.literal_eval(found.get("down_revision", "None"))
            parents.update([down] if isinstance(down, str) else (down or ()))
        return revisions - parents


def histories(host: PluginHost) -> list[History]:
    found = [History("core", MIGRATIONS / "versions", CORE_VERSION_TABLE)]
    for plugin, path in sorted(host.migration_dirs.items()):
        found.append(History(plugin, path, f"{CORE_VERSION_TABLE}_{plugin}"))
    return found


def applied(db: Database, history: History) -> set[str]:
    """The revisions the database is at for ``history`` (none before its first upgrade)."""
    with db.engine.connect() as connection:
        if not inspect(connection).has_table(history.version_table):
            return set()
        # The table name is the history's own (core or a plugin's name), never input.
        rows = connection.execute(text(f"SELECT version_num FROM {history.version_table}"))  # noqa: S608
        return {row[0] for row in rows}


def upgrade(db: Database, host: PluginHost) -> None:
    """Bring the core, then every enabled plugin, to its latest revision."""
    # Imported here: see History.config.
    from alembic import command

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
