"""gunicorn's access log without secret links: tracking, magic, intake and share links carry
their secret in the path, and a log line is not sealed like the database."""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

# SPOC's link secrets are 32 random bytes, URL-safe (43 characters); nothing else in a path is
# that long a run of those characters.
SECRET = re.compile(r"[A-Za-z0-9_-]{32,}")
REDACTED = "[secret]"


def redact(text: str) -> str:
    return SECRET.sub(REDACTED, text)


class RedactingLogger(Logger):  # type: ignore[misc]
    """The request line, path, query and referer of each access-log line, secrets removed."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        for name in ("r", "U", "q", "f"):
            if isinstance(atoms.get(name), str):
                atoms[name] = redact(atoms[name])
        return atoms
