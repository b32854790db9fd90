"""The kit's own tests run on its defaults (a real business calendar), not the round-the-clock
calendar the rest of the project's tests use."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def spoc_app_settings() -> dict[str, Any]:
    return {}
