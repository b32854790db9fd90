"""A plugin with its own virus scan: it refuses any file holding its test marker."""

from __future__ import annotations

from spoc import ScanFinding, hookimpl

MARKER = b"FAKE-SCANNER-MARKER"
SEEN: list[tuple[str, str]] = []


@hookimpl
def spoc_scan_attachment(filename: str, content_type: str, data: bytes) -> ScanFinding | None:
    SEEN.append((filename, content_type))
    return ScanFinding("Fake.Marker") if MARKER in data else None
