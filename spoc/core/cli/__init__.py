"""The ``spoc`` command line.

Core commands are defined in this package, one module per area; enabled plugins add theirs
through ``spoc_cli_commands``. A start-up problem (bad settings, broken plugin, database behind)
prints one line and exits 1.
"""

from __future__ import annotations

from spoc.core.cli import (
    accounts,
    assist,
    docs,
    mail,
    operations,
    reports,
    scaffold,
    search,
    subjects,
)
from spoc.core.cli.base import main

__all__ = [
    "accounts",
    "assist",
    "docs",
    "mail",
    "main",
    "operations",
    "reports",
    "scaffold",
    "search",
    "subjects",
]
