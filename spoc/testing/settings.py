"""The settings every test app starts from."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
"""Where the frozen clock starts: Monday 2 March 2026, 09:00 in London (GMT), opening time."""

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
BUSINESS_CALENDARS: dict[str, dict[str, Any]] = {
    "default": {"timezone": "Europe/London", "hours": {d: ["09:00-17:00"] for d in WEEKDAYS}}
}
"""The test apps' business calendar: Monday to Friday, 09:00-17:00 in London."""


def test_settings(database_url: str, instance_path: Path) -> dict[str, Any]:
    """The kit's defaults: the generic plugin, London time, a real business calendar."""
    return {
        "env": "test",
        "database_url": database_url,
        "plugins": ["generic"],
        "instance_path": instance_path,
        "timezone": "Europe/London",
        "calendars": BUSINESS_CALENDARS,
    }


# pytest would collect a module-level ``test_*`` function imported into a test module.
test_settings.__test__ = False  # type: ignore[attr-defined]
