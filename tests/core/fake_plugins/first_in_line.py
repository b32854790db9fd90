"""A plugin that asks pluggy to run its router first, which SPOC does not honour."""

from spoc import Routing, hookimpl


@hookimpl(tryfirst=True)
def spoc_route_request(proposed: Routing) -> Routing | None:
    return None
