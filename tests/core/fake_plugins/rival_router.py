"""A second router, to show that overrides are combined by order then plugin name."""

from spoc import Routing, hookimpl


@hookimpl
def spoc_route_request(proposed: Routing) -> Routing:
    return Routing(None, "rivals", "the rival router wants it", order=50)
