"""A plugin with an old-style pluggy hookwrapper, which SPOC does not honour."""

from collections.abc import Generator

from spoc import hookimpl


@hookimpl(hookwrapper=True)
def spoc_request_event() -> Generator[None, object, None]:
    yield
