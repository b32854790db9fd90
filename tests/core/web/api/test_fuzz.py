"""Schemathesis against the OpenAPI document, in process (WSGI), as a staff member with data."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from spoc import Actor
from spoc.core.services import spoc_of
from tests.conftest import AppFactory, build_org

EXAMPLES_PER_OPERATION = 35  # the CLI run in test_openapi.py does 10
ALL_PLUGINS = ["generic", "healthcare", "projects", "events", "logistics"]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.mark.slow
def test_fuzzed_api_calls_get_no_server_error_and_keep_the_contract(
    make_app: AppFactory,
) -> None:
    app = make_app(plugins=ALL_PLUGINS, api_limit="1000000 per minute")
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash must show as a 500, not a traceback
    spoc = spoc_of(app)
    org = build_org(spoc)
    for i in range(4):
        org.file(fields={"summary": f"Question {i}"})
    _, secret = spoc.tokens.create(Actor.system(), org.ada.email, "fuzz")
    auth = {"Authorization": f"Bearer {secret}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    ran: dict[str, int] = {}
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]
        label = f"{operation.method.upper()} {operation.path}"
        _fuzz(operation.as_strategy(), label, auth, ran)()
    total = sum(ran.values())
    print(f"schemathesis: {total} calls over {len(ran)} operations, 0 server errors")
    assert len(ran) >= 15 and total >= 15 * 20


def _fuzz(
    strategy: st.SearchStrategy[schemathesis.Case[Any]],
    label: str,
    auth: dict[str, str],
    ran: dict[str, int],
) -> Callable[[], None]:
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def call(case: schemathesis.Case[Any]) -> None:
        response = case.call(headers=auth)
        ran[label] = ran.get(label, 0) + 1
        case.validate_response(response, checks=CHECKS, headers=auth)

    return call
