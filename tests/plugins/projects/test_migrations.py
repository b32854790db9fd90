"""The plugin's own deadlines move into the core's watches, carried over with real rows."""

from __future__ import annotations

from pathlib import Path

from spoc import FrozenClock
from tests.plugins.carry_over import check_watches_carry_over, empty_database_url

__all__ = ["empty_database_url"]


def test_projects_watches_are_carried_over_into_the_core_and_fire_once(
    empty_database_url: str, clock: FrozenClock, tmp_path: Path
) -> None:
    check_watches_carry_over(
        empty_database_url, clock, tmp_path, "projects", "p002_chase_links_revoked", "sponsors"
    )
