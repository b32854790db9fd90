"""Documents plugins offer for a request (``spoc_request_exports``), served by the core.

The console, the requester's tracking page and the API each authorise the reader first, then
call :func:`export_response`; plugins never see an unauthorised download.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Response

from spoc.core.domain.models import Request
from spoc.core.kernel.errors import PluginError
from spoc.core.kernel.types import Export
from spoc.core.platform import hookspecs

if TYPE_CHECKING:
    from spoc.core.services import Spoc


def exports_for(spoc: Spoc, request: Request, *, requester: bool = False) -> list[Export]:
    """Every export plugins offer for ``request`` (only those meant for requesters if asked)."""
    found: dict[str, tuple[str, Export]] = {}
    for plugin, answer in spoc.hooks.each(
        hookspecs.spoc_request_exports, request=request, spoc=spoc
    ):
        for export in answer:
            if export.key in found:
                raise PluginError(
                    plugin, f"export key {export.key!r} is also used by {found[export.key][0]}"
                )
            found[export.key] = (plugin, export)
    exports = [e for _, e in found.values() if e.requester or not requester]
    return sorted(exports, key=lambda e: e.title)


def find_export(
    spoc: Spoc, request: Request, key: str, *, requester: bool = False
) -> Export | None:
    return next((e for e in exports_for(spoc, request, requester=requester) if e.key == key), None)


def export_response(export: Export) -> Response:
    body = export.render()
    response = Response(body, mimetype=export.media_type)
    safe_name = "".join(c for c in export.filename if c.isalnum() or c in "._-") or "export"
    response.headers["Content-Disposition"] = f'attachment; filename="{safe_name}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
