"""Which subjects a requester belongs to, so the form can ask "which one is it about?".

A contact signed in by magic link (their address proven) is offered the subjects of their own
earlier requests and those a plugin's records tie them to (``spoc_contact_subjects``). A
choice among those is proof enough to file into the subject, private kinds included; a
choice outside them is refused, whatever the form sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from spoc.core.domain.models import Contact, Request, Subject
from spoc.core.domain.requests.ownership import RequestOwnership
from spoc.core.platform import hookspecs

CHOICES_MAX = 20
EARLIER_MAX = 200  # distinct subjects of a contact's earlier requests looked at


@dataclass(frozen=True)
class SubjectChoice:
    """A subject a requester may pick on the form: its id, kind, name and reference."""

    id: int
    kind: str
    name: str
    reference: str | None


class RequestSubjects(RequestOwnership):
    def subjects_of_contact(
        self, contact_id: int, kinds: Sequence[str] = ()
    ) -> list[SubjectChoice]:
        """The subjects a proven contact belongs to — their earlier requests' and those the
        plugins name (``spoc_contact_subjects``) — of ``kinds`` (empty: any), at most
        :data:`CHOICES_MAX`, by name. Only for a contact signed in by magic link."""
        with self.db.reader() as session:
            contact = session.get(Contact, contact_id)
            if contact is None:
                return []
            ids: set[int] = set(
                session.scalars(
                    select(Request.subject_id)
                    .where(Request.contact_id == contact_id, Request.subject_id.is_not(None))
                    .distinct()
                    .limit(EARLIER_MAX)
                )
            )
            email = contact.email
        for _, answer in self.hooks.each(
            hookspecs.spoc_contact_subjects, email=email, kinds=tuple(kinds), spoc=self.hooks.spoc
        ):
            ids.update(int(subject_id) for subject_id in answer)
        if not ids:
            return []
        with self.db.reader() as session:
            query = select(Subject).where(Subject.id.in_(sorted(ids)))
            if kinds:
                query = query.where(Subject.kind.in_(list(kinds)))
            subjects = session.scalars(query.order_by(Subject.name, Subject.id).limit(CHOICES_MAX))
            return [SubjectChoice(s.id, s.kind, s.name, s.external_ref) for s in subjects]

    def contact_belongs_to(self, contact_id: int, subject_id: int) -> bool:
        """Is the subject among those :meth:`subjects_of_contact` offers this contact?"""
        with self.db.reader() as session:
            kind = session.scalar(select(Subject.kind).where(Subject.id == subject_id))
        if kind is None:
            return False
        return any(c.id == subject_id for c in self.subjects_of_contact(contact_id, (kind,)))
