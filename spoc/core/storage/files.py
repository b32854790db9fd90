"""Where attachment contents live: a folder by default, an S3-compatible bucket as an option.

Objects are named by the SHA-256 of their content, so the same file stored twice is one object
and a name never changes meaning. The database holds only the name (``attachments.storage_key``);
:mod:`spoc.core.domain.attachments` deletes an object only when no row refers to it any more.

The S3 backend needs the optional extra ``spoc[s3]`` (boto3). It is not tested against a real
server here: no S3 implementation installs from the registries this project uses.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Protocol

from spoc.core.platform.settings import Settings

KEY_PATTERN = re.compile(r"^[0-9a-f]{64}$")


def content_key(data: bytes) -> str:
    """The storage name of ``data``: its SHA-256, in hex."""
    return hashlib.sha256(data).hexdigest()


class FileMissing(LookupError):
    """No object of that name in the store."""


class FileStore(Protocol):
    """A place for attachment contents, addressed by :func:`content_key`."""

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` as ``key``; storing what is already there is a no-op."""

    def open(self, key: str) -> bytes:
        """The content stored as ``key``; :class:`FileMissing` when there is none."""

    def delete(self, key: str) -> None:
        """Remove ``key``; removing what is not there is a no-op."""


def _checked(key: str) -> str:
    if not KEY_PATTERN.fullmatch(key):
        raise ValueError(f"not a content key: {key!r}")
    return key


class LocalFileStore:
    """A folder: ``<root>/<ab>/<abcdef…>``, written to a temporary file then renamed, so a
    reader never sees half a file and a crash leaves no partial object."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str) -> Path:
        key = _checked(key)
        return self.root / key[:2] / key

    def put(self, key: str, data: bytes) -> None:
        target = self.path(key)
        if target.exists():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def open(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            raise FileMissing(key) from None

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)


class S3FileStore:
    """An S3-compatible bucket (AWS, Ceph, Garage, …) through boto3, under a key prefix."""

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    def _name(self, key: str) -> str:
        return f"{self.prefix}{_checked(key)}"

    def put(self, key: str, data: bytes) -> None:
        # Same name, same bytes: writing it again is harmless, and cheaper than asking first.
        self.client.put_object(Bucket=self.bucket, Key=self._name(key), Body=data)

    def open(self, key: str) -> bytes:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._name(key))
        except self.client.exceptions.NoSuchKey:
            raise FileMissing(key) from None
        body: bytes = answer["Body"].read()
        return body

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))


def file_store_from(settings: Settings, instance_path: Path) -> FileStore:
    """The store the settings choose: ``SPOC_ATTACHMENTS_S3_BUCKET`` when set, else the folder
    ``SPOC_ATTACHMENTS_PATH`` (default ``attachments/`` in the instance folder)."""
    if settings.attachments_s3_bucket:
        # Imported here to keep start-up light: boto3 is the optional extra spoc[s3].
        import boto3

        secret = settings.attachments_s3_secret_access_key
        client = boto3.client(
            "s3",
            endpoint_url=settings.attachments_s3_endpoint_url,
            region_name=settings.attachments_s3_region,
            aws_access_key_id=settings.attachments_s3_access_key_id,
            aws_secret_access_key=secret.get_secret_value() if secret else None,
        )
        return S3FileStore(client, settings.attachments_s3_bucket, settings.attachments_s3_prefix)
    return LocalFileStore(settings.attachments_path or instance_path / "attachments")
