"""Attachments: files that come with a request or a message, checked before anything is written.

Every channel hands files over as :class:`Upload` (a name, the bytes, the type the sender
declared). :meth:`AttachmentRules.check` refuses — with :class:`ValidationFailed` naming the
field ``attachments``, before the write begins — a file that is empty, too big, one too many,
of a type not accepted (detected from the content with puremagic, never from the name or the
declared type), or that a virus scan flags (clamd when ``SPOC_CLAMAV_SOCKET`` is set, and every
plugin's ``spoc_scan_attachment``). :meth:`AttachmentRules.store` then writes the contents to
the file store and the rows into the caller's transaction, so the files commit with their
message or request.

Contents are kept as they came (not sealed), like the fields and messages of the same request
in the database; nothing here logs a file's content.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import puremagic
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from spoc.core.domain.models import Attachment, Message
from spoc.core.kernel.errors import ValidationFailed
from spoc.core.kernel.types import Actor
from spoc.core.platform import hookspecs
from spoc.core.platform.dispatch import Hooks
from spoc.core.platform.settings import Settings
from spoc.core.storage.clamav import ClamdScanner, ScanUnavailable
from spoc.core.storage.files import FileMissing, FileStore, content_key

log = logging.getLogger(__name__)
FIELD = "attachments"
MB = 1024 * 1024
NAME_MAX = 200
CLEAN = "clean"
NOT_SCANNED = "not scanned"


@dataclass(frozen=True)
class Upload:
    """A file as a channel received it: ``declared_type`` is what the sender claimed, kept for
    nothing but comparison — the stored type is detected from ``data``."""

    filename: str
    data: bytes
    declared_type: str | None = None

    def __repr__(self) -> str:  # never the content, in a log or a traceback
        return f"Upload({self.filename!r}, {len(self.data)} bytes)"


@dataclass(frozen=True)
class CheckedFile:
    """An upload that passed every check, ready to store."""

    filename: str
    content_type: str
    data: bytes
    sha256: str
    verdict: str

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class AttachmentLine:
    """An attachment as a page shows it: name, type, size, and the id its download link uses."""

    id: int
    filename: str
    content_type: str
    size: int
    message_id: int | None

    @property
    def size_label(self) -> str:
        if self.size < 1024:
            return f"{self.size} bytes"
        if self.size < MB:
            return f"{self.size / 1024:.0f} KB"
        return f"{self.size / MB:.1f} MB"


def safe_filename(name: str) -> str:
    """The last path part of ``name``, without control characters or quotes, at most
    :data:`NAME_MAX` characters, its extension kept; ``"file"`` when nothing is left."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = unicodedata.normalize("NFC", base)
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C" and c not in '"<>:|?*')
    base = base.strip().lstrip(".").strip() or "file"
    if len(base) > NAME_MAX:
        stem, dot, ext = base.rpartition(".")
        ext = ext[:20] if dot else ""
        base = (stem or base)[: NAME_MAX - len(ext) - 1] + (f".{ext}" if ext else "")
    return base


def detect_type(data: bytes) -> str | None:
    """The content type of ``data`` from its bytes: a known signature (puremagic), else
    ``text/plain`` for UTF-8 text without control characters; ``None`` when unknown."""
    try:
        found = str(puremagic.from_string(data, mime=True))
    except (puremagic.PureError, ValueError):
        found = ""
    if found:
        return found
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(unicodedata.category(c) == "Cc" and c not in "\t\n\r\f" for c in text):
        return None
    return "text/plain"


class AttachmentRules:
    """The limits, the type check, the virus scan, and where contents go."""

    def __init__(self, settings: Settings, hooks: Hooks, files: FileStore) -> None:
        self.settings = settings
        self.hooks = hooks
        self.files = files
        self.scanner = ClamdScanner(settings.clamav_socket) if settings.clamav_socket else None

    def check(self, uploads: Sequence[Upload]) -> list[CheckedFile]:
        """Every upload checked, or :class:`ValidationFailed` on ``attachments`` naming each
        refused file and why (nothing is stored either way)."""
        if not uploads:
            return []
        limit = self.settings
        if len(uploads) > limit.attachments_max_count:
            raise _refused(f"at most {limit.attachments_max_count} files at a time")
        total = sum(len(u.data) for u in uploads)
        if total > limit.attachments_max_total_mb * MB:
            raise _refused(f"at most {limit.attachments_max_total_mb:g} MB of files at a time")
        problems: list[str] = []
        checked: list[CheckedFile] = []
        for upload in uploads:
            name = safe_filename(upload.filename)
            problem, kind = self._problem(upload.data)
            if problem is None:
                problem, verdict = self._scan(name, kind, upload.data)
            if problem is not None:
                problems.append(f"{name}: {problem}")
                continue
            digest = hashlib.sha256(upload.data).hexdigest()
            checked.append(CheckedFile(name, kind, upload.data, digest, verdict))
        if problems:
            raise _refused("; ".join(problems))
        return checked

    def _problem(self, data: bytes) -> tuple[str | None, str]:
        if not data:
            return "the file is empty", ""
        if len(data) > self.settings.attachments_max_file_mb * MB:
            return f"larger than {self.settings.attachments_max_file_mb:g} MB", ""
        kind = detect_type(data)
        if kind is None or kind not in self.settings.attachments_allowed_types:
            return "this type of file is not accepted", ""
        return None, kind

    def _scan(self, name: str, kind: str, data: bytes) -> tuple[str | None, str]:
        verdict = NOT_SCANNED
        if self.scanner is not None:
            try:
                found = self.scanner.scan(data)
            except ScanUnavailable as exc:
                # Fail closed: an unscanned file is not stored when scanning is configured.
                log.warning("virus scan unavailable for an attachment: %s", exc)
                return "could not be scanned for viruses just now; try again later", verdict
            if found is not None:
                log.warning("virus scan refused attachment %r: %s", name, found)
                return f"a virus scan found {found}; the file was not accepted", verdict
            verdict = CLEAN
        for plugin, finding in self.hooks.each(
            hookspecs.spoc_scan_attachment,
            filename=name,
            content_type=kind,
            data=data,
            spoc=self.hooks.spoc,
        ):
            log.warning("plugin %s refused attachment %r: %s", plugin, name, finding.name)
            return f"a virus scan found {finding.name}; the file was not accepted", verdict
        if self.hooks.implemented(hookspecs.spoc_scan_attachment):
            verdict = CLEAN
        return None, verdict

    def store(
        self,
        session: Session,
        request_id: int,
        files: Iterable[CheckedFile],
        actor: Actor,
        now: datetime,
        *,
        message: Message | None = None,
    ) -> list[Attachment]:
        """Put the contents in the file store and add their rows to ``session``'s transaction.

        A store write that commits no row (the transaction fails later) leaves an object no row
        names: harmless, and never served; see docs/decisions.md on attachments."""
        rows = []
        for item in files:
            key = content_key(item.data)
            self.files.put(key, item.data)
            row = Attachment(
                request_id=request_id,
                filename=item.filename,
                content_type=item.content_type,
                size=item.size,
                sha256=item.sha256,
                storage_key=key,
                scan_verdict=item.verdict,
                uploaded_by_kind=actor.kind,
                uploaded_by_id=actor.id,
                created_at=now,
            )
            if message is not None:
                row.message = message
            session.add(row)
            rows.append(row)
        return rows

    def read(self, storage_key: str) -> bytes | None:
        """The content of an attachment, or ``None`` when its object is gone."""
        try:
            return self.files.open(storage_key)
        except FileMissing:
            log.error("attachment object %s is missing from the file store", storage_key)
            return None


def erase_attachments(session: Session, request_ids: Sequence[int], files: FileStore) -> int:
    """Delete the attachments of ``request_ids`` and every object no other row still names.
    Runs inside the erasure's transaction; returns how many files were removed."""
    keys = set(
        session.scalars(
            select(Attachment.storage_key).where(Attachment.request_id.in_(request_ids))
        )
    )
    if not keys:
        return 0
    session.execute(delete(Attachment).where(Attachment.request_id.in_(request_ids)))
    kept = set(
        session.scalars(
            select(Attachment.storage_key).where(Attachment.storage_key.in_(keys)).distinct()
        )
    )
    for key in keys - kept:
        files.delete(key)
    return len(keys - kept)


def attachment_lines(
    session: Session, request_id: int
) -> dict[int | None, tuple[AttachmentLine, ...]]:
    """A request's attachments by the message they came with (``None``: with the request)."""
    grouped: dict[int | None, list[AttachmentLine]] = {}
    rows = session.execute(
        select(
            Attachment.id,
            Attachment.filename,
            Attachment.content_type,
            Attachment.size,
            Attachment.message_id,
        )
        .where(Attachment.request_id == request_id)
        .order_by(Attachment.id)
    )
    for row in rows:
        line = AttachmentLine(*row)
        grouped.setdefault(line.message_id, []).append(line)
    return {key: tuple(lines) for key, lines in grouped.items()}


def _refused(problem: str) -> ValidationFailed:
    return ValidationFailed("an attachment was refused", {FIELD: problem})


def describe_files(files: Sequence[CheckedFile]) -> str:
    """`` with 2 files`` for a timeline summary; empty without files."""
    if not files:
        return ""
    return f" with {len(files)} file{'s' if len(files) != 1 else ''}"
