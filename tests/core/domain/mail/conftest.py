from __future__ import annotations

import pytest

from spoc.core.services import spoc_of
from tests.conftest import AppFactory, Org, build_org


@pytest.fixture
def mailroom(make_app: AppFactory) -> Org:
    """An organisation whose mail comes from, and goes back to, help@example.org."""
    app = make_app(mail_from="Northwind help <help@example.org>")
    return build_org(spoc_of(app))
