"""The acknowledgement a requester gets when a request is filed for them: "We have your
request", with their private tracking link. The portal sends it when they file; the console
sends the same when an agent files for a caller, as if the caller had filed it."""

from __future__ import annotations

from collections.abc import Callable

from flask import url_for
from sqlalchemy.orm import Session

from spoc.core.domain.models import Request
from spoc.core.domain.requests import ContactDetails
from spoc.core.services import spoc_of


def acknowledgement(details: ContactDetails) -> Callable[[Session, Request, str], None]:
    """The ``on_issued`` of ``create_with_tracking_link``: queues the mail in the request's own
    transaction, so the link is never lost and never sent for a request that was not filed."""
    spoc = spoc_of()

    def confirm(session: Session, created: Request, token: str) -> None:
        link = spoc.settings.base_url.rstrip("/") + url_for("portal.track", token=token)
        spoc.notifier.mail(
            session,
            created,
            details.email,
            "We have your request",
            "received",
            name=details.name,
            link=link,
        )

    return confirm
