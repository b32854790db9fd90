"""A deprecated public name keeps working and says what replaces it, and when it goes."""

from __future__ import annotations

import pytest

from spoc import SpocDeprecationWarning, deprecated, warn_deprecated


def test_a_deprecated_function_still_works_and_names_its_replacement() -> None:
    @deprecated(since="0.2", removed_in="0.3", use="spoc.requests.create()")
    def file_request(summary: str) -> str:
        return summary.upper()

    with pytest.warns(SpocDeprecationWarning) as caught:
        assert file_request("leak") == "LEAK"
    message = str(caught[0].message)
    assert message == (
        "test_a_deprecated_function_still_works_and_names_its_replacement.<locals>.file_request()"
        " is deprecated since SPOC 0.2 and will be removed in 0.3;"
        " use spoc.requests.create() instead"
    )
    # The warning points at the plugin's call, not at SPOC's wrapper.
    assert caught[0].filename == __file__


def test_warn_deprecated_is_a_deprecation_warning_at_the_callers_line() -> None:
    def old_setting() -> None:
        warn_deprecated("SPOC_OLD", since="0.2", removed_in="0.3", use="SPOC_NEW")

    with pytest.warns(DeprecationWarning, match="SPOC_OLD is deprecated since SPOC 0.2") as caught:
        old_setting()
    assert caught[0].filename == __file__
