"""The stakeholder portal: no account, a private link per request."""

from spoc.core.portal.views import bp

__all__ = ["bp"]
