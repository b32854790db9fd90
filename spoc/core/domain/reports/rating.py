"""The one-click rating link in the "resolved" mail: a signed token naming the request and
its requester, so the link needs no sign-in and names nobody else.

Following the link never records anything by itself (mail scanners and link previews open
links): it shows a small form with the chosen rating ticked; sending that form, with the
page's CSRF token, records the rating once. A second send, or a link for a request not
resolved, says so and changes nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

LABEL = "spoc/reports/rating-link/v1"
_SHAPE = re.compile(r"^(\d{1,10})\.(\d{1,10})\.([A-Za-z0-9_-]{22})$")


class RatingLinks:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, request_id: int, contact_id: int) -> str:
        digest = hmac.new(self._key, f"{request_id}:{contact_id}".encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(digest.digest()[:16]).decode().rstrip("=")

    def token(self, request_id: int, contact_id: int) -> str:
        """The link's token for this request's requester."""
        return f"{request_id}.{contact_id}.{self._mac(request_id, contact_id)}"

    def read(self, token: str) -> tuple[int, int] | None:
        """``(request_id, contact_id)`` of a token this deployment signed, else ``None``."""
        found = _SHAPE.match(token)
        if found is None:
            return None
        request_id, contact_id = int(found.group(1)), int(found.group(2))
        if not hmac.compare_digest(self._mac(request_id, contact_id), found.group(3)):
            return None
        return request_id, contact_id
