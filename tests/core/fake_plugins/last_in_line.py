"""A plugin that asks pluggy to run its classifier last, which SPOC does not honour."""

from spoc import Priority, hookimpl


@hookimpl(trylast=True)
def spoc_classify_request() -> Priority | None:
    return None
