"""Scanning bytes with ClamAV's daemon (clamd) over its socket, with the INSTREAM command.

``SPOC_CLAMAV_SOCKET`` names the daemon: a unix socket path (``/run/clamav/clamd.ctl``) or
``host:port``. The content is streamed in chunks and never written to disk by SPOC.
"""

from __future__ import annotations

import socket
import struct

CHUNK = 64 * 1024


class ScanUnavailable(Exception):
    """clamd could not be reached, or could not scan (an error, a stream over its limit)."""


class ClamdScanner:
    """One clamd; :meth:`scan` opens a connection per call, so it is safe from any thread."""

    def __init__(self, address: str, *, timeout: float = 30.0) -> None:
        self.address = address
        self.timeout = timeout

    def _connect(self) -> socket.socket:
        host, sep, port = self.address.rpartition(":")
        if sep and port.isdigit() and not self.address.startswith("/"):
            return socket.create_connection((host, int(port)), timeout=self.timeout)
        unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            unix.settimeout(self.timeout)
            unix.connect(self.address)
        except OSError:
            unix.close()
            raise
        return unix

    def scan(self, data: bytes) -> str | None:
        """The name of the signature ``data`` matches, or ``None`` when clamd finds nothing;
        :class:`ScanUnavailable` when it cannot say."""
        try:
            with self._connect() as conn:
                conn.sendall(b"zINSTREAM\0")
                for start in range(0, len(data), CHUNK):
                    chunk = data[start : start + CHUNK]
                    conn.sendall(struct.pack("!L", len(chunk)) + chunk)
                conn.sendall(struct.pack("!L", 0))
                reply = b""
                while not reply.endswith(b"\0"):
                    more = conn.recv(4096)
                    if not more:
                        break
                    reply += more
        except OSError as exc:
            raise ScanUnavailable(f"clamd at {self.address}: {exc}") from exc
        text = reply.rstrip(b"\0").decode("utf-8", "replace").strip()
        verdict = text.partition(": ")[2] if ": " in text else text
        if verdict == "OK":
            return None
        if verdict.endswith(" FOUND"):
            return verdict.removesuffix(" FOUND").strip() or "unnamed signature"
        raise ScanUnavailable(f"clamd at {self.address} answered {text!r}")
