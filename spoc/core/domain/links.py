"""Secret links: a requester's tracking link, subject intake links (``/s/<token>``) and magic
sign-in links for contacts.

Tokens are 32 random bytes (URL-safe); only their SHA-256 digest is stored, so the database
never holds a working link.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from spoc.core.domain.models import Contact, MagicLink, Subject, SubjectIntakeLink, TrackingToken
from spoc.core.domain.outbox import MAGIC_LINK_CHANNEL, enqueue
from spoc.core.domain.writes import ServiceBase
from spoc.core.platform.settings import Settings

MAGIC_LINK_LIFETIME = timedelta(minutes=30)


class MagicLinkState(Enum):
    EXPIRED = "expired"
    USED = "used"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_tracking_token(
    session: Session,
    request_id: int,
    now: datetime,
    settings: Settings,
    *,
    contact_id: int | None = None,
) -> str:
    """Add a tracking token to ``session``'s transaction; returns the secret (never stored).
    ``contact_id``: a CC's own link (the requester's links name nobody)."""
    token = new_token()
    session.add(
        TrackingToken(
            request_id=request_id,
            token_hash=digest(token),
            created_at=now,
            expires_at=now + timedelta(days=settings.tracking_link_days),
            contact_id=contact_id,
        )
    )
    return token


class LinkService(ServiceBase):
    def create_tracking_token(self, request_id: int) -> str:
        """A new private tracking link secret for ``request_id`` (older ones keep working)."""
        with self.db.transaction() as session:
            return add_tracking_token(session, request_id, self.clock.now(), self.settings)

    def tracking_holder(self, token: str) -> tuple[int, int | None] | None:
        """The request a tracking token opens and the CC who holds it (``None``: the
        requester's link), or ``None`` if unknown or expired."""
        with self.db.reader() as session:
            row = session.execute(
                select(TrackingToken.request_id, TrackingToken.contact_id).where(
                    TrackingToken.token_hash == digest(token),
                    TrackingToken.expires_at > self.clock.now(),
                )
            ).first()
        return (row[0], row[1]) if row is not None else None

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
        """A new secret intake link for the subject (returned once, stored only as a digest):
        requests filed through it are about that subject. ``LookupError`` for an unknown subject."""
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
        """The subject a live intake link's token is for, or ``None``."""
        with self.db.reader() as session:
            link = session.scalar(
                select(SubjectIntakeLink).where(
                    SubjectIntakeLink.token_hash == digest(token),
                    SubjectIntakeLink.revoked_at.is_(None),
                )
            )
            return session.get(Subject, link.subject_id) if link else None

    def revoke_intake_link(self, subject_id: int) -> int:
        """Revoke every live intake link of the subject; returns how many were revoked."""
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

    def request_magic_link(self, email: str) -> None:
        """Queue "email this address a link to its requests". The same single outbox row
        whether or not anyone has that address: the worker decides (see
        :meth:`issue_magic_link`), so the answer and its timing tell a prober nothing."""
        now = self.clock.now()
        with self.db.transaction() as session:
            enqueue(
                session,
                channel=MAGIC_LINK_CHANNEL,
                recipient=email.strip().lower(),
                subject="Your requests",
                body_text="",
                now=now,
            )

    def issue_magic_link(self, email: str) -> tuple[Contact, str] | None:
        """At delivery: a sign-in token for the contact with ``email``, or ``None`` (nothing
        is mailed) when there is no such contact."""
        now = self.clock.now()
        token = new_token()
        with self.db.transaction() as session:
            session.execute(delete(MagicLink).where(MagicLink.expires_at < now))
            contact = session.scalar(select(Contact).where(Contact.email == email.strip().lower()))
            if contact is None:
                return None
            session.add(
                MagicLink(
                    contact_id=contact.id,
                    token_hash=digest(token),
                    created_at=now,
                    expires_at=now + MAGIC_LINK_LIFETIME,
                )
            )
            session.flush()
            session.expunge(contact)
        return contact, token

    def use_magic_link(self, token: str) -> Contact | MagicLinkState:
        """Sign in with a magic link: the first use returns the contact and spends the link;
        later uses return :attr:`MagicLinkState.USED`, unknown or expired ones ``EXPIRED``."""
        now = self.clock.now()
        with self.db.transaction() as session:
            link = session.scalar(
                select(MagicLink).where(
                    MagicLink.token_hash == digest(token), MagicLink.expires_at > now
                )
            )
            if link is None:
                return MagicLinkState.EXPIRED
            # One UPDATE guarded by used_at: of two concurrent uses only one signs in.
            spent = session.execute(
                update(MagicLink)
                .where(MagicLink.id == link.id, MagicLink.used_at.is_(None))
                .values(used_at=now)
            )
            if spent.rowcount != 1:  # type: ignore[attr-defined]
                return MagicLinkState.USED
            contact = session.get(Contact, link.contact_id)
            if contact is None:
                return MagicLinkState.EXPIRED
            session.flush()
            session.expunge(contact)
            return contact
