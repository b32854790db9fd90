"""Who is told what: a write observer that turns timeline events into outbox messages.

The table below is the single statement of the rules (docs/notifications.md shows it too).
Requesters never receive internal events; messages carry the minimum: what happened, the
reference, the public reply text, where to follow it.

Templates live in ``templates/mail/<name>.txt`` and ``.html``; a plugin overrides one by
shipping a file of the same name in a ``templates/mail/`` folder of its package.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from email.utils import formataddr
from typing import TYPE_CHECKING, Any

from jinja2 import Template
from sqlalchemy import select
from sqlalchemy.orm import Session

from spoc.core.domain.audiences import (
    latest_inbound,
    latest_key,
    latest_one,
    owner_addresses,
    owners_key,
    team_addresses,
    team_key,
    watchers,
    watchers_key,
)
from spoc.core.domain.mail.templates import mail_environment
from spoc.core.domain.mail.threads import MailAddressing
from spoc.core.domain.models import (
    Agent,
    Contact,
    Request,
    RequestCc,
    TimelineEvent,
    Visibility,
)
from spoc.core.domain.notice_rules import REQUESTER_STATUSES
from spoc.core.domain.outbox import enqueue, outbox_row, webhook_body
from spoc.core.domain.reports.rating import RatingLinks
from spoc.core.domain.writes import WriteContext
from spoc.core.kernel.clock import Clock
from spoc.core.kernel.types import ActorKind, Status
from spoc.core.platform.settings import Settings

if TYPE_CHECKING:
    from spoc.core.platform.plugins import PluginHost


WEBHOOK_WITHHELD = frozenset({"reason", "priority_reason", "routing_reason", "note"})


class Notifier:
    def __init__(
        self,
        settings: Settings,
        host: PluginHost,
        reference: Any,
        clock: Clock,
        addressing: MailAddressing,
        rating_links: RatingLinks | None = None,
    ) -> None:
        self.settings = settings
        self.rating_links = rating_links  # the "resolved" mail's one-click rating
        self.clock = clock
        self.env = mail_environment(host)
        self.reference = reference
        self.types = host.request_types
        self.addressing = addressing
        self._last_rendered: tuple[object, str, str] | None = None
        self._templates: dict[str, Template] = {}
        self._last_thread: tuple[tuple[int, str | bool | None], dict[str, str]] | None = None

    # --- the observer -------------------------------------------------------------------

    def __call__(self, write: WriteContext) -> None:
        for event in write.events:
            self._plan(write, event)

    def _plan(self, write: WriteContext, event: TimelineEvent) -> None:
        request, data = write.request, event.data
        kind, by = event.kind, event.actor_kind
        public = event.visibility is Visibility.PUBLIC
        for url in self.settings.webhook_urls:
            self._webhook(write, event, url)
        if kind == "created":
            self._staff(write, self._owners(write), "New request for you", event)
        elif kind == "message":
            body = event.message.body if event.message is not None else ""
            if public and by is ActorKind.AGENT:
                # A person's words: their name on From, and no Auto-Submitted (RFC 3834).
                self._requester(
                    write, "You have a reply", body, sender_name=write.actor.name, auto=None
                )
                self._ccs(write, body, sender_name=write.actor.name)
            elif public and by is ActorKind.SYSTEM:
                self._requester(write, "You have a reply", body)
            elif by is ActorKind.REQUESTER or write.actor.id != request.owner_agent_id:
                self._staff(write, self._owners(write), "New message", event, body)
        elif kind == "status_changed":
            target = Status(data["to"])
            if target in REQUESTER_STATUSES and by is not ActorKind.REQUESTER:
                label = self._label(request, target)
                rate = self._rate_url(request) if target is Status.RESOLVED else None
                reason = data.get("reason") or ""
                self._requester(write, f"Your request is now: {label}", reason, rate_url=rate)
        elif kind == "assigned" and write.events[0].kind != "created":
            self._staff(write, self._owners(write), "A request was assigned to you", event)
        elif kind == "escalated":
            team_members = self._team(write, data["to_team_id"])
            self._staff(
                write,
                team_members,
                "A request was escalated to your team",
                event,
                data.get("reason", ""),
            )
        elif kind == "clock":
            self._staff(write, self._owners(write), event.summary, event)
        elif kind == "reminder":
            self._requester(write, "We are still waiting for your reply", "")

    # --- audiences ----------------------------------------------------------------------

    def _owners(self, write: WriteContext) -> list[str]:
        if (key := owners_key(write.request)) not in write.memo:
            write.memo[key] = owner_addresses(write.session, write.request)
        return list(write.memo[key])

    def _team(self, write: WriteContext, team_id: int) -> list[str]:
        if (key := team_key(team_id)) not in write.memo:
            write.memo[key] = team_addresses(write.session, [team_id])[team_id]
        return list(write.memo[key])

    def _label(self, request: Request, status: Status) -> str:
        request_type = self.types.get(request.type_key)
        return request_type.label_for(status) if request_type else status.value

    # --- messages -----------------------------------------------------------------------

    @staticmethod
    def latest_inbound(session: Session, request_ids: Sequence[int]) -> dict[int, str]:
        """For each request, the Message-ID of its requester's latest mail (one query), for
        callers mailing many requests at once."""
        return latest_inbound(session, request_ids)

    def _thread(
        self, session: Session, request: Request, latest: str | bool | None = True
    ) -> dict[str, str]:
        """Threading headers of a mail about ``request``: every mail of a request refers to
        its root Message-ID, and to the requester's latest mail when they wrote one, so mail
        clients show the whole conversation as one thread; replies go to the request's reply
        address."""
        if latest is True:
            latest = latest_one(session, request.id)
        key = (request.id, latest)
        last = self._last_thread  # the notices of one write go out one after the other
        if last is not None and last[0] == key:
            return dict(last[1])
        root = self.addressing.root_id(request.id)
        parent = f"<{latest}>" if latest else root
        headers = {
            "In-Reply-To": parent,
            "References": root if parent == root else f"{root} {parent}",
            "Reply-To": self.addressing.reply_address(request.id),
        }
        self._last_thread = (key, headers)
        return dict(headers)

    def mail(
        self,
        session: Session,
        request: Request | None,
        to: str,
        subject: str,
        template: str,
        *,
        auto_submitted: str | None = "auto-generated",
        sender_name: str | None = None,
        answering: str | None = None,
        latest: str | bool | None = True,
        into: list[dict[str, Any]] | None = None,
        **context: Any,
    ) -> None:
        """Render ``mail/<template>.txt`` and ``.html`` and queue them in ``session`` — or,
        given ``into``, add the outbox row to it for :func:`enqueue_rows` (``request`` must then
        have its id).

        ``auto_submitted`` is the mail's Auto-Submitted (RFC 3834): ``auto-generated`` for
        notices, ``auto-replied`` for answers to a mail, ``None`` for a person's words (a
        staff reply). ``sender_name`` is the display name of From (the agent who wrote);
        ``answering`` the Message-ID (without brackets) of the mail this one answers."""
        key = f"ntf-{uuid.uuid4().hex}"
        if request is not None:
            subject = f"[{self.reference(request.id)}] {subject}"
            context.setdefault("reference", self.reference(request.id))
        text, html = self._render(template, context)
        headers = {"Message-ID": self.addressing.message_id(key)}
        if request is not None:
            if request.id is None:
                session.flush()  # the id goes into the thread headers and reply address
            headers.update(self._thread(session, request, latest))
        if answering is not None:
            headers["In-Reply-To"] = f"<{answering}>"
            headers["References"] = " ".join(
                dict.fromkeys([*headers.get("References", "").split(), f"<{answering}>"])
            )
        if auto_submitted:
            headers["Auto-Submitted"] = auto_submitted
        if sender_name:
            headers["From"] = formataddr((sender_name, self.addressing.from_address))
        if into is not None:
            into.append(
                outbox_row(
                    channel="email",
                    recipient=to,
                    subject=subject,
                    body_text=text,
                    body_html=html,
                    headers=headers,
                    request_id=request.id if request is not None else None,
                    now=self.clock.now(),
                    key=key,
                )
            )
            return
        enqueue(
            session,
            channel="email",
            recipient=to,
            subject=subject,
            body_text=text,
            body_html=html,
            headers=headers,
            request=request,
            now=self.clock.now(),
            key=key,
        )

    def _render(self, template: str, context: dict[str, Any]) -> tuple[str, str]:
        """The text and HTML bodies. The same notice to each member of a team is rendered
        once: the last rendering is kept (one entry, replaced whole, so threads may share)."""
        try:
            key = (template, tuple(sorted(context.items())))
            hash(key)
        except TypeError:  # an unhashable value in the context: render, keep nothing
            key = None
        last = self._last_rendered
        if key is not None and last is not None and last[0] == key:
            return last[1], last[2]
        text = self._template(f"mail/{template}.txt").render(**context)
        html = self._template(f"mail/{template}.html").render(**context)
        if key is not None:
            self._last_rendered = (key, text, html)
        return text, html

    def _template(self, name: str) -> Template:
        """A mail template, looked up once (they ship with the code: no reloading)."""
        if (found := self._templates.get(name)) is None:
            found = self._templates[name] = self.env.get_template(name)
        return found

    def tell_owner(self, session: Session, request: Request, headline: str, body: str) -> None:
        """Mail a request's owner (or owning team) outside a write: a held mail, a refused
        mail channel. For private types the body is left out, as in every staff notice."""
        self._staff_mails(session, request, owner_addresses(session, request), headline, body)

    def _staff_mails(
        self,
        session: Session,
        request: Request,
        recipients: Iterable[str],
        headline: str,
        body: str,
        *,
        latest: str | bool | None = True,
        into: list[dict[str, Any]] | None = None,
    ) -> None:
        """The staff notice, once to each address; private types' notices carry no details.
        ``latest`` and ``into`` as for :meth:`mail` (``True``: look the latest mail up)."""
        private = self._private(request)
        for email in sorted(set(recipients)):
            self.mail(
                session,
                request,
                email,
                headline,
                "staff_update",
                latest=latest,
                into=into,
                headline=headline,
                summary="(details in the console)" if private else request.summary,
                priority=request.priority.value,
                body="" if private else body,
                console_url=f"{self.settings.base_url.rstrip('/')}/console/requests/{request.id}",
            )

    def _private(self, request: Request) -> bool:
        request_type = self.types.get(request.type_key)
        return request_type is not None and request_type.private

    def requester_notice(
        self,
        session: Session,
        request: Request,
        email: str,
        name: str,
        headline: str,
        *,
        latest: str | bool | None = True,
        into: list[dict[str, Any]] | None = None,
    ) -> None:
        """Tell a requester something outside a write (a cover starting): ``headline`` only,
        and for private types only that there is an update. ``into``: see :meth:`mail`."""
        if self._private(request):
            headline = "There is an update on your request"
        self.mail(
            session,
            request,
            email,
            headline,
            "requester_update",
            latest=latest,
            into=into,
            name=name,
            headline=headline,
            body="",
            my_requests_url=f"{self.settings.base_url.rstrip('/')}/my-requests",
        )

    def _requester(
        self,
        write: WriteContext,
        headline: str,
        body: str,
        *,
        sender_name: str | None = None,
        auto: str | None = "auto-generated",
        rate_url: str | None = None,
    ) -> None:
        contact = write.session.get(Contact, write.request.contact_id)
        if contact is None:
            return
        if self._private(write.request):
            # Health and other special-category requests: that there is news, never what.
            headline, body, rate_url = "There is an update on your request", "", None
        self.mail(
            write.session,
            write.request,
            contact.email,
            headline,
            "requester_update",
            latest=self._latest(write),
            into=write.outbox,
            auto_submitted=auto,
            sender_name=sender_name or None,
            name=contact.name,
            headline=headline,
            body=body,
            rate_url=rate_url,
            my_requests_url=f"{self.settings.base_url.rstrip('/')}/my-requests",
        )

    def _rate_url(self, request: Request) -> str | None:
        if self.rating_links is None or request.id is None:
            return None
        token = self.rating_links.token(request.id, request.contact_id)
        return f"{self.settings.base_url.rstrip('/')}/rate/{token}"

    def _ccs(self, write: WriteContext, body: str, *, sender_name: str | None) -> None:
        """Contacts copied on the request get its public replies (private types have none)."""
        rows = write.session.execute(
            select(Contact.name, Contact.email)
            .join(RequestCc, RequestCc.contact_id == Contact.id)
            .where(RequestCc.request_id == write.request.id)
            .order_by(Contact.id)
        )
        for name, email in rows:
            self.mail(
                write.session,
                write.request,
                email,
                "You have a reply",
                "requester_update",
                latest=self._latest(write),
                into=write.outbox,
                auto_submitted=None,
                sender_name=sender_name or None,
                name=name,
                headline="You have a reply",
                body=body,
                my_requests_url=f"{self.settings.base_url.rstrip('/')}/my-requests",
            )

    @staticmethod
    def _watchers(write: WriteContext) -> list[str]:
        if (key := watchers_key(write.request.id)) not in write.memo:
            write.memo[key] = watchers(write.session, [write.request.id])[write.request.id]
        return list(write.memo[key])

    @staticmethod
    def _latest(write: WriteContext) -> str | None:
        """The requester's latest mail on the request (its Message-ID), once per write."""
        if (key := latest_key(write.request.id)) not in write.memo:
            write.memo[key] = latest_one(write.session, write.request.id)
        return write.memo[key]  # type: ignore[no-any-return]

    def _staff(
        self,
        write: WriteContext,
        recipients: Iterable[str],
        headline: str,
        event: TimelineEvent,
        body: str = "",
    ) -> None:
        # Watchers follow every staff notice of the request, internal events included.
        recipients = [*recipients, *self._watchers(write)]
        request = write.request
        skip = (
            {a.email for a in [write.session.get(Agent, write.actor.id)] if a}
            if write.actor.kind is ActorKind.AGENT
            else set()
        )
        self._staff_mails(
            write.session,
            request,
            set(recipients) - skip,
            headline,
            body,
            latest=self._latest(write) if recipients else None,
            into=write.outbox,
        )

    def _webhook(self, write: WriteContext, event: TimelineEvent, url: str) -> None:
        request = write.request
        payload = {
            "event": event.kind,
            "visibility": event.visibility.value,
            "request": {
                "id": request.id,
                "type": request.type_key,
                "status": request.status.value,
                "priority": request.priority.value,
            },
            "at": event.at.isoformat(),
            # Receivers get what happened, never what was said: no reasons; for private types
            # (health, special-category data) and plugins' own events, only the kind of event.
            "data": {}
            if self._private(request) or "." in event.kind
            else {k: v for k, v in event.data.items() if k not in WEBHOOK_WITHHELD},
        }
        if write.outbox is not None:
            write.outbox.append(
                outbox_row(
                    channel="webhook",
                    recipient=url,
                    body_text=webhook_body(payload),
                    request_id=request.id,
                    now=write.now,
                )
            )
            return
        enqueue(
            write.session,
            channel="webhook",
            recipient=url,
            body_text=webhook_body(payload),
            request=request,
            now=write.now,
        )
