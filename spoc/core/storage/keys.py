"""Keys derived from ``SPOC_SECRET_KEY``, and sealing text at rest with one of them.

Every use of the secret gets its own key, derived with HKDF-SHA256 and a label naming the use
(``spoc/outbox/v1``, ``spoc/healthcare/access-log/v1``): a key for one purpose never works for
another, and none of them is the secret itself. Production refuses to start without
``SPOC_SECRET_KEY``; dev, demo and test may run without it and then derive from
:data:`DEVELOPMENT_MATERIAL`, which is published here and so protects nothing — fine for demo
data, never for real data.

:class:`Sealer` encrypts text with AES-256-GCM (authenticated: a changed byte fails to open)
before it reaches the database, so a copy of the database — a backup, a replica, a read-only
leak — holds no working secret link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from spoc.core.platform.settings import Settings

DEVELOPMENT_MATERIAL = b"spoc development key material: published, protects nothing"
SEALED = "sealed:v1:"
NONCE_BYTES = 12


def derive(material: bytes, label: str) -> bytes:
    """A 32-byte key for the use ``label``, from ``material`` (HKDF-SHA256)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label.encode()).derive(
        material
    )


def key_id(key: bytes) -> str:
    """A short public name of ``key`` (not enough to find the key): tells which key sealed."""
    return hmac.new(key, b"spoc key id", hashlib.sha256).hexdigest()[:16]


class Keys:
    """The app's key material; :meth:`derive` hands out one key per purpose."""

    def __init__(self, settings: Settings) -> None:
        secret = settings.secret_key.get_secret_value() if settings.secret_key else None
        self.development = secret is None
        self._material = secret.encode() if secret else DEVELOPMENT_MATERIAL

    def derive(self, label: str, material: str | None = None) -> bytes:
        """The key for ``label``; from ``material`` instead of the secret key when given (a
        dedicated key such as ``SPOC_HEALTHCARE__AUDIT_KEY``)."""
        return derive(material.encode() if material else self._material, label)


class Unreadable(Exception):
    """Sealed text that this key cannot open: sealed with another key, or altered."""


class Sealer:
    """Seal and open text with AES-256-GCM; ``purpose`` is bound as associated data, so text
    sealed for one column does not open as another."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)
        self.key_id = key_id(key)

    def seal(self, text: str, purpose: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        box = self._aead.encrypt(nonce, text.encode("utf-8"), purpose.encode())
        return f"{SEALED}{self.key_id}:{base64.urlsafe_b64encode(nonce + box).decode('ascii')}"

    @staticmethod
    def is_sealed(value: str) -> bool:
        return value.startswith(SEALED)

    def open(self, value: str, purpose: str) -> str:
        """The text ``value`` holds; text stored before sealing existed is returned as is."""
        if not self.is_sealed(value):
            return value
        named, _, payload = value[len(SEALED) :].partition(":")
        if named != self.key_id:
            raise Unreadable(f"sealed with key {named}, not with this SPOC_SECRET_KEY")
        try:
            raw = base64.urlsafe_b64decode(payload)
            return self._aead.decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], purpose.encode()
            ).decode("utf-8")
        except (InvalidTag, ValueError) as exc:
            raise Unreadable("the sealed text was altered") from exc
