"""A plugin that wraps intake with a pluggy new-style wrapper, which SPOC does not honour."""

from collections.abc import Generator

from spoc import Priority, hookimpl


@hookimpl(wrapper=True)
def spoc_classify_request() -> Generator[None, Priority | None, Priority | None]:
    answer = yield
    return answer
