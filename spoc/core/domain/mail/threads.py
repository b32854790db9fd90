"""Which request a mail answers, and the addresses and Message-IDs that let us tell.

In this order: the In-Reply-To and References of our own Message-IDs; a reply address carrying
the request's token (``reply+<token>@…``); the request's reference in the subject. The token
is an HMAC of the request id under a key derived from ``SPOC_SECRET_KEY``: nothing is stored,
and nobody can make a token for a request they were not mailed about.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.utils import parseaddr

from sqlalchemy import select
from sqlalchemy.orm import Session

from spoc.core.domain.models import OutboxMessage
from spoc.core.platform.settings import Settings

TOKEN_LABEL = "spoc/mail/reply-token/v1"  # noqa: S105 - a key label, not a secret
TOKEN = re.compile(r"^(\d{1,10})-([a-z2-7]{16})$")
ROOT = re.compile(r"^req-(\d{1,10})$")


@dataclass(frozen=True)
class Thread:
    request_id: int
    how: str  # "message-id", "reply-address" or "subject"


class MailAddressing:
    """The organisation's mail domain, reply addresses and Message-IDs."""

    def __init__(self, settings: Settings, key: bytes) -> None:
        self.settings = settings
        self._key = key
        from_address = parseaddr(settings.mail_from)[1] or "spoc@localhost"
        self.from_address = from_address
        self.domain = (settings.mail_domain or from_address.rpartition("@")[2]).lower()
        template = settings.mail_reply_address
        if template is None:
            local, _, domain = from_address.partition("@")
            template = f"{local}+{{token}}@{domain}"
        self.reply_template = template
        before, _, after = template.lower().partition("{token}")
        self._reply_pattern = re.compile(
            "^" + re.escape(before) + r"([0-9a-z-]+)" + re.escape(after) + "$"
        )

    # --- tokens and addresses -------------------------------------------------------------

    def token(self, request_id: int) -> str:
        """The request's reply token: its id and an HMAC of it (cannot be guessed)."""
        mac = hmac.new(self._key, str(request_id).encode(), hashlib.sha256).digest()
        return f"{request_id}-{base64.b32encode(mac[:10]).decode().lower()}"

    def request_for_token(self, token: str) -> int | None:
        """The request a reply token names, or ``None`` for a forged or malformed one."""
        found = TOKEN.match(token.strip().lower())
        if found is None:
            return None
        request_id = int(found.group(1))
        return request_id if hmac.compare_digest(self.token(request_id), found.group(0)) else None

    def reply_address(self, request_id: int) -> str:
        """The Reply-To of mails about the request (``help+<token>@example.org``)."""
        return self.reply_template.replace("{token}", self.token(request_id))

    def request_for_address(self, address: str) -> int | None:
        """The request a reply address names, or ``None`` when it is not one of ours."""
        found = self._reply_pattern.match(address.strip().lower())
        return self.request_for_token(found.group(1)) if found else None

    def message_id(self, key: str) -> str:
        """A Message-ID in the organisation's mail domain: ``<key@domain>``."""
        return f"<{key}@{self.domain}>"

    def root_id(self, request_id: int) -> str:
        """The Message-ID every mail about the request refers to, so clients thread them."""
        return f"<req-{request_id}@{self.domain}>"

    # --- threading ------------------------------------------------------------------------

    def thread(
        self,
        session: Session,
        referenced: Iterable[str],
        addresses: Iterable[str],
        subject: str,
        parse_reference: Callable[[str], int | None],
    ) -> Thread | None:
        """The request this mail answers, found the first of the three ways that works."""
        for message_id in referenced:
            local, _, domain = message_id.lower().partition("@")
            if domain != self.domain:
                continue
            root = ROOT.match(local)
            if root is not None:
                return Thread(int(root.group(1)), "message-id")
            request_id = session.scalar(
                select(OutboxMessage.request_id).where(OutboxMessage.idempotency_key == local)
            )
            if request_id is not None:
                return Thread(request_id, "message-id")
        for address in addresses:
            request_id = self.request_for_address(address)
            if request_id is not None:
                return Thread(request_id, "reply-address")
        prefix = re.escape(self.settings.reference_prefix)
        for found in re.finditer(rf"\b{prefix}-\d{{1,10}}\b", subject, re.I):
            request_id = parse_reference(found.group(0))
            if request_id is not None:
                return Thread(request_id, "subject")
        return None

    def is_ours(self, address: str) -> bool:
        """A reply address, or the From address: mail SPOC sent itself."""
        address = address.strip().lower()
        return address == self.from_address.lower() or bool(self._reply_pattern.match(address))
