"""Customer accounts' verified contacts created from the console, a CSV or the API.

Accounts themselves are core subjects (the generic onboarding path); the people at an account
whose identity the SPOC has checked are items under it, found again by email, written as
``verify_contact`` writes them (who verified, how, when).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from spoc import Saved, Structure, StructureItem
from spoc.plugins.logistics.forms import ACCOUNT
from spoc.plugins.logistics.models import VerifiedContact


class AccountContact(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    email: EmailStr = Field(max_length=254)
    method: str = Field(
        min_length=3,
        max_length=200,
        description="How the identity was checked (call-back on file…)",
    )


def _save(item: StructureItem) -> Saved:
    session: Session = item.session
    fields = item.fields
    assert isinstance(fields, AccountContact)
    email = str(fields.email).lower()
    row = session.scalar(
        select(VerifiedContact).where(
            VerifiedContact.account_id == item.subject_id, VerifiedContact.email == email
        )
    )
    if item.check_only:
        return Saved.UPDATED if row is not None else Saved.CREATED
    who = (item.actor.name or item.actor.kind.value)[:200]
    now = item.spoc.clock.now()
    if row is None:
        session.add(
            VerifiedContact(
                account_id=item.subject_id,
                email=email,
                method=fields.method,
                verified_by=who,
                verified_at=now,
            )
        )
        return Saved.CREATED
    if row.method != fields.method:  # verified again, another way
        row.method, row.verified_by, row.verified_at = fields.method, who, now
    return Saved.UPDATED


def _values(session: Session, contact_id: int) -> Mapping[str, Any] | None:
    row = session.get(VerifiedContact, contact_id)
    return {"email": row.email, "method": row.method} if row is not None else None


def _items(session: Session, account_id: int) -> list[tuple[int, str]]:
    rows = session.scalars(
        select(VerifiedContact)
        .where(VerifiedContact.account_id == account_id)
        .order_by(VerifiedContact.email)
        .limit(100)
    )
    return [(r.id, f"{r.email} ({r.method})") for r in rows]


def structures() -> list[Structure]:
    return [
        Structure(
            "logistics.account_contact",
            "Verified contact",
            AccountContact,
            _save,
            parent_kind=ACCOUNT,
            key_fields=("email",),
            values=_values,
            items=_items,
            description="Someone at the account whose identity was checked: they may change "
            "delivery addresses and see proof of delivery. Found again by email.",
        )
    ]
