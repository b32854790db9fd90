"""A plugin whose hook returns the wrong kind of object."""

from spoc import hookimpl


@hookimpl
def spoc_request_types() -> list[object]:
    return ["not a request type"]
