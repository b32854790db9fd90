"""A plugin implementing a hook that does not exist (a typo of spoc_request_types)."""

from spoc import hookimpl


@hookimpl
def spoc_request_typez() -> list[object]:
    return []
