"""Every app of these tests enables the plugin (the fixtures come from spoc.testing)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def spoc_app_settings() -> dict[str, Any]:
    return {"plugins": ["generic", "facilities"]}
