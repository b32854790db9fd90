"""Files in and out of the web: uploads read from a multipart form, downloads served safely.

Every surface (portal, console, API) reads uploads with :func:`uploads_from` and serves an
attachment with :func:`attachment_response`: always as a download (``Content-Disposition:
attachment``), with the type detected when it was stored, and ``nosniff`` (the site's
CSP applies too), so no file is ever rendered as a page of this site.
"""

from __future__ import annotations

from flask import Flask, abort, request
from werkzeug.wrappers import Response

from spoc.core.domain.attachments import MB, AttachmentLine, Upload
from spoc.core.platform.settings import Settings

FIELD = "attachments"
FORM_ALLOWANCE = 2 * MB  # the rest of a form beside its files


def allow_uploads(app: Flask, settings: Settings) -> None:
    """Raise the request size limit to what the attachment settings allow, for multipart
    forms only: anything else (JSON, plain forms) stays at 2 MB."""
    files = int(settings.attachments_max_total_mb * MB) if settings.attachments_max_count else 0
    small = int(app.config.get("MAX_CONTENT_LENGTH") or FORM_ALLOWANCE)
    app.config["MAX_CONTENT_LENGTH"] = max(small, files + FORM_ALLOWANCE)

    @app.before_request
    def _only_files_are_big() -> None:
        if request.mimetype != "multipart/form-data" and (request.content_length or 0) > small:
            abort(413)


def uploads_from(field: str = FIELD) -> list[Upload]:
    """The files sent in the form field ``field``; an empty file input sends nothing."""
    uploads = []
    for item in request.files.getlist(field):
        data = item.read()
        if not item.filename and not data:
            continue  # the browser's empty file input
        uploads.append(Upload(item.filename or "file", data, item.mimetype or None))
    return uploads


def attachment_response(line: AttachmentLine, data: bytes) -> Response:
    response = Response(data, mimetype=line.content_type)
    if line.content_type.startswith("text/"):
        response.content_type = f"{line.content_type}; charset=utf-8"
    response.headers.set("Content-Disposition", "attachment", filename=line.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
