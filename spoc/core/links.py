"""Secret links: a requester's tracking link, subject intake links (``/s/<token>``) and magic
sign-in links for contacts.

Tokens are 32 random bytes (URL-safe); only their SHA-256 digest is stored, so the database
never holds a working link.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from spoc.core.models import Contact, MagicLink, Subject, SubjectIntakeLink, TrackingToken
from spoc.core.settings import Settings
from spoc.core.writes import ServiceBase

MAGIC_LINK_LIFETIME = timedelta(minutes=30)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_tracking_token(session: Session, request_id: int, now: datetime, settings: Settings) -> str:
    """Add a tracking token to ``session``'s transaction; returns the secret (never stored)."""
    token = new_token()
    session.add(
        TrackingToken(
            request_id=request_id,
            token_hash=digest(token),
            created_at=now,
            expires_at=now + timedelta(days=settings.tracking_link_days),
        )
    )
    return token


class LinkService(ServiceBase):
    def create_tracking_token(self, request_id: int) -> str:
        """A new private tracking link secret for ``request_id`` (older ones keep working)."""
        with self.db.transaction() as session:
            return add_tracking_token(session, request_id, self.clock.now(), self.settings)

    def request_for_tracking_token(self, token: str) -> int | None:
        """The request a tracking token opens, or ``None`` if unknown or expired."""
        with self.db.reader() as session:
            return session.scalar(
                select(TrackingToken.request_id).where(
                    TrackingToken.token_hash == digest(token),
                    TrackingToken.expires_at > self.clock.now(),
                )
            )

    def create_intake_link(self, subject_id: int, label: str = "") -> str:
        token = new_token()
        with self.db.transaction() as session:
            if session.get(Subject, subject_id) is None:
                raise LookupError(f"no subject {subject_id}")
            session.add(
                SubjectIntakeLink(
                    subject_id=subject_id,
                    token_hash=digest(token),
                    label=label,
                    created_at=self.clock.now(),
                )
            )
        return token

    def subject_for_intake(self, token: str) -> Subject | None:
        with self.db.reader() as session:
            link = session.scalar(
                select(SubjectIntakeLink).where(
                    SubjectIntakeLink.token_hash == digest(token),
                    SubjectIntakeLink.revoked_at.is_(None),
                )
            )
            return session.get(Subject, link.subject_id) if link else None

    def revoke_intake_link(self, subject_id: int) -> int:
        with self.db.transaction() as session:
            links = session.scalars(
                select(SubjectIntakeLink).where(
                    SubjectIntakeLink.subject_id == subject_id,
                    SubjectIntakeLink.revoked_at.is_(None),
                )
            ).all()
            for link in links:
                link.revoked_at = self.clock.now()
            return len(links)

    def create_magic_link(
        self, email: str, on_created: Callable[[Session, Contact, str], None] | None = None
    ) -> tuple[Contact, str] | None:
        """A sign-in token for the contact with ``email``; ``None`` if there is no such contact.
        ``on_created`` runs in the same transaction (the portal queues the mail there)."""
        now = self.clock.now()
        token = new_token()
        with self.db.transaction() as session:
            contact = session.scalar(select(Contact).where(Contact.email == email.strip().lower()))
            if contact is None:
                return None
            session.execute(delete(MagicLink).where(MagicLink.expires_at < now))
            session.add(
                MagicLink(
                    contact_id=contact.id,
                    token_hash=digest(token),
                    created_at=now,
                    expires_at=now + MAGIC_LINK_LIFETIME,
                )
            )
            if on_created is not None:
                on_created(session, contact, token)
        return contact, token

    def contact_for_magic_link(self, token: str) -> Contact | None:
        with self.db.reader() as session:
            link = session.scalar(
                select(MagicLink).where(
                    MagicLink.token_hash == digest(token),
                    MagicLink.expires_at > self.clock.now(),
                )
            )
            return session.get(Contact, link.contact_id) if link else None
