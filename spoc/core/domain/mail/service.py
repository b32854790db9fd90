"""Inbound mail: each mail received once, and landed on its request.

:meth:`MailService.receive` is what ``spoc mail serve`` (LMTP/SMTP) and ``spoc mail fetch``
(IMAP) call with each raw message. The mail's row in ``inbound_mails`` commits in the same
transaction as what the mail caused — the message on its request, the new request and its
acknowledgement, the held mail and the owner's notice — and its ``dedupe_key`` is unique, so a
mail delivered twice (a retry, two workers, a worker that died after the commit and before
its server heard) is acted on once: the second delivery finds the row, or loses the race on
the unique key, and is answered as a duplicate.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Sequence
from datetime import timedelta
from email.parser import BytesHeaderParser
from email.utils import parseaddr

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from spoc.core.domain.attachments import Upload
from spoc.core.domain.mail.held import HeldMail
from spoc.core.domain.mail.parse import ParsedMail, automatic_reason, parse
from spoc.core.domain.mail.threads import MailAddressing, Thread
from spoc.core.domain.models import (
    Agent,
    Contact,
    InboundMail,
    Message,
    OutboxMessage,
    Request,
    RequestCc,
)
from spoc.core.domain.notifications import Notifier
from spoc.core.domain.requests import RequestService
from spoc.core.domain.writes import ServiceDeps
from spoc.core.kernel.errors import (
    IllegalTransition,
    ServiceError,
    StartupError,
    ValidationFailed,
)
from spoc.core.kernel.mail import InboundMail as MailView
from spoc.core.kernel.mail import MailAction, MailOutcome, MailVerdict, Receipt
from spoc.core.kernel.types import Actor, RequestType
from spoc.core.platform import hookspecs

REFERENCE_CANDIDATE = re.compile(r"\b[A-Za-z0-9][A-Za-z0-9/_-]{2,39}\b")
MAIL_ACTOR = Actor.system("Mail")


class MailService(HeldMail):
    def __init__(
        self,
        deps: ServiceDeps,
        *,
        requests: RequestService,
        notifier: Notifier,
        addressing: MailAddressing,
    ) -> None:
        super().__init__(deps)
        self.requests = requests
        self.notifier = notifier
        self.addressing = addressing

    def check_types(self) -> None:
        """Refuse to take mail in when an address (or the default) files a type that does not
        exist or takes no mail: :class:`StartupError` naming the setting."""
        wanted = {"SPOC_MAIL_DEFAULT_TYPE": self.settings.mail_default_type}
        wanted |= {f"SPOC_MAIL_ADDRESSES ({a})": t for a, t in self.settings.mail_addresses.items()}
        for setting, type_key in wanted.items():
            request_type = self.host.request_types.get(type_key)
            if request_type is None:
                raise StartupError(f"{setting}: no enabled plugin has request type {type_key!r}")
            if request_type.mail_fields is None:
                raise StartupError(f"{setting}: request type {type_key!r} takes no mail")

    # --- receiving ------------------------------------------------------------------------

    def receive(
        self, raw: bytes, *, envelope_to: Sequence[str], source: str, bounce: bool = True
    ) -> Receipt:
        """Take one mail in. Never raises for what the mail says; a database failure raises,
        so the server answers "try again later" and nothing is lost. ``bounce=False``: the
        caller answers a refused mail's sender itself (LMTP's ``552``)."""
        settings = self.settings
        recipient = next((a.strip().lower() for a in envelope_to if a.strip()), "")
        if len(raw) > settings.mail_max_bytes:
            return self._too_large(raw, recipient, source, bounce=bounce)
        mail = parse(raw, settings.mail_authserv_id)
        key = (mail.message_id or f"sha256:{mail.digest}")[:320]
        with self.db.reader() as session:
            if session.scalar(select(InboundMail.id).where(InboundMail.dedupe_key == key)):
                return Receipt(True, duplicate=True, reason="received before", outcome="")
        row = InboundMail(
            dedupe_key=key,
            message_id=mail.message_id,
            digest=mail.digest,
            source=source[:100],
            envelope_to=recipient[:320],
            sender=mail.sender[:320],
            sender_name=mail.sender_name,
            subject=mail.subject,
            outcome="",
            reason="",
            auth=mail.auth.as_dict(),
            size=len(raw),
            raw=base64.b64encode(raw).decode("ascii"),
            text=mail.text,
            html=mail.html,
            received_at=self.clock.now(),
        )
        try:
            return self._land(mail, row, [recipient, *mail.recipients])
        except IntegrityError:
            # Another worker stored the same mail between our look and our write.
            return Receipt(True, duplicate=True, reason="received before")

    def _land(self, mail: ParsedMail, row: InboundMail, addresses: list[str]) -> Receipt:
        if mail.bounce is not None:
            return self._bounced(mail, row)
        if mail.automatic is not None:
            return self._store(row, MailOutcome.IGNORED, mail.automatic)
        if self.addressing.is_ours(mail.sender):
            return self._store(row, MailOutcome.IGNORED, "sent by SPOC itself")
        if self._over_limit(mail.sender):
            return self._store(
                row, MailOutcome.LIMITED, f"more than {self.settings.mail_sender_limit} an hour"
            )
        with self.db.reader() as session:
            thread = self.addressing.thread(
                session, mail.in_reply_to, addresses, mail.subject, self.parse_reference
            )
            target = session.get(Request, thread.request_id) if thread else None
            if target is not None:
                session.expunge(target)
        type_key = self._type_for(row.envelope_to) if target is None else target.type_key
        verdict = self._verdict(mail, target, type_key)
        if verdict is not None and verdict.action is MailAction.REFUSE:
            return self._refused(mail, row, target, verdict.reason)
        if verdict is not None and verdict.action is MailAction.CLAIM:
            return self._store(row, MailOutcome.CLAIMED, verdict.reason, apply=verdict.apply)
        if target is not None and thread is not None and not target.status.is_final:
            return self._threaded(mail, row, target, thread)
        if verdict is not None and verdict.type_key:
            type_key = verdict.type_key
        return self._file(mail, row, type_key, closed=target)

    def _verdict(
        self, mail: ParsedMail, target: Request | None, type_key: str | None
    ) -> MailVerdict | None:
        view = MailView(
            message_id=mail.message_id or "",
            sender=mail.sender,
            sender_name=mail.sender_name,
            recipients=mail.recipients,
            subject=mail.subject,
            text=mail.reply,
            headers=mail.headers,
            attachment_names=tuple(a.filename for a in mail.attachments),
            request_id=target.id if target is not None else None,
            request_type=type_key,
        )
        answers = self.hooks.each(hookspecs.spoc_inbound_mail, mail=view, spoc=self.hooks.spoc)
        refusals = [a.value for a in answers if a.value.action is MailAction.REFUSE]
        return refusals[0] if refusals else (answers[0].value if answers else None)

    # --- outcomes -------------------------------------------------------------------------

    def _store(
        self,
        row: InboundMail,
        outcome: MailOutcome,
        reason: str,
        *,
        apply: Callable[[Session], None] | None = None,
        then: Callable[[Session], None] | None = None,
    ) -> Receipt:
        row.outcome, row.reason = outcome.value, reason[:500]
        with self.db.transaction() as session:
            session.add(row)
            session.flush()  # the unique key: a second delivery stops here
            if apply is not None:
                apply(session)
            if then is not None:
                then(session)
        return Receipt(True, reason=reason, outcome=outcome.value, request_id=row.request_id)

    def _threaded(
        self, mail: ParsedMail, row: InboundMail, target: Request, thread: Thread
    ) -> Receipt:
        with self.db.reader() as session:
            requester = session.get(Contact, target.contact_id)
            is_requester = requester is not None and requester.email == mail.sender
            # Someone copied on the request answers as themselves.
            copied = (
                None
                if is_requester
                else session.scalar(
                    select(Contact)
                    .join(RequestCc, RequestCc.contact_id == Contact.id)
                    .where(RequestCc.request_id == target.id, Contact.email == mail.sender)
                )
            )
        contact = requester if is_requester else copied
        row.request_id = target.id
        if contact is None or mail.auth.failed:
            why = (
                "the sender's domain says this mail is not theirs (DMARC)"
                if contact is not None
                else f"{mail.sender or 'an unknown sender'} is neither the requester nor a CC"
            )
            return self._store(
                row,
                MailOutcome.HELD,
                why,
                then=lambda session: self.notifier.tell_owner(
                    session,
                    session.get(Request, target.id) or target,
                    "A mail is waiting for you to accept",
                    f"From {mail.sender}: {why}. Accept it, file it as a new request, or "
                    "dismiss it on the request's page.",
                ),
            )
        assert contact is not None
        row.outcome, row.reason = MailOutcome.THREADED.value, f"by {thread.how}"

        def record(session: Session, message: Message) -> None:
            session.add(row)
            session.flush()
            row.message_row_id = message.id
            if contact.mail_bounced_at is not None:
                found = session.get(Contact, contact.id)
                if found is not None:  # they wrote: the address works again
                    found.mail_bounced_at, found.mail_bounce_reason = None, None

        files, refused = self._files(mail)
        try:
            self.requests.post_message(
                target.id,
                Actor.requester(contact.id, mail.sender_name or contact.name),
                (mail.reply or ("" if files else "(empty message)")) + refused,
                on_message=record,
                attachments=files,
            )
        except IllegalTransition:
            return self._file(mail, row, target.type_key, closed=target)
        if is_requester:
            self._copy_ccs(mail, target, contact)
        return Receipt(True, reason=row.reason, outcome=row.outcome, request_id=target.id)

    def _copy_ccs(self, mail: ParsedMail, target: Request, requester: Contact) -> None:
        """The requester copied people on their mail: they are copied on the request too
        (never SPOC's own addresses, staff, or the requester)."""
        wanted = [(n, a) for n, a in mail.cc if not self.addressing.is_ours(a)]
        if not wanted:
            return
        with self.db.reader() as session:
            staff = set(
                session.scalars(select(Agent.email).where(Agent.email.in_([a for _, a in wanted])))
            )
            known = set(
                session.scalars(
                    select(Contact.email)
                    .join(RequestCc, RequestCc.contact_id == Contact.id)
                    .where(RequestCc.request_id == target.id)
                )
            )
        actor = Actor.requester(requester.id, requester.name)
        for name, address in wanted:
            if address in staff or address in known or address == requester.email:
                continue
            try:
                self.requests.add_cc(target.id, actor, address, name)
            except ServiceError:
                continue  # a private type, too many CCs, a bad address: the message stands

    def _file(
        self, mail: ParsedMail, row: InboundMail, type_key: str | None, *, closed: Request | None
    ) -> Receipt:
        request_type = self._mail_type(type_key)
        if request_type is None or request_type.mail_fields is None:
            return self._store(
                row, MailOutcome.REFUSED, f"no request type takes mail at {row.envelope_to}"
            )
        body = mail.reply if closed is not None else mail.text
        if closed is not None:
            ended = f"{self.reference(closed.id)}, which is {closed.status.value}"
            body = f"(A reply to {ended}.)\n\n{body}"
        files, refused = self._files(mail)
        fields = dict(request_type.mail_fields(mail.subject, body + refused))
        subject_id, claimed = self._subject_of(mail, request_type)
        name = mail.sender_name or mail.sender.partition("@")[0] or "Unknown"
        row.outcome, row.reason = MailOutcome.FILED.value, f"to {row.envelope_to or 'SPOC'}"

        def acknowledge(session: Session, created: Request, token: str) -> None:
            session.add(row)
            row.request_id = created.id
            session.flush()
            self.notifier.mail(
                session,
                created,
                mail.sender,
                "We have your request",
                "received",
                auto_submitted="auto-replied",
                answering=mail.message_id,
                name=name,
                link=f"{self.settings.base_url.rstrip('/')}/track/{token}",
            )

        try:
            created, _ = self.requests.create_with_tracking_link(
                type_key=request_type.key,
                fields=fields,
                requester={"name": name[:200], "email": mail.sender},
                subject_id=subject_id,
                on_issued=acknowledge,
                claimed_reference=claimed,
                attachments=files,
                via="email",
            )
        except ValidationFailed as exc:
            row.request_id = None
            return self._store(row, MailOutcome.REFUSED, f"cannot be filed: {exc}")
        return Receipt(True, reason=row.reason, outcome=row.outcome, request_id=created.id)

    def _refused(
        self, mail: ParsedMail, row: InboundMail, target: Request | None, reason: str
    ) -> Receipt:
        # The content must not be kept: only that a mail came, from whom.
        row.raw = row.text = row.html = None
        row.subject = ""
        row.request_id = target.id if target is not None else None

        def answer(session: Session) -> None:
            self._answer_sender(session, mail, "Your mail could not be taken", reason, target)
            if target is not None:
                self.notifier.tell_owner(
                    session,
                    session.get(Request, target.id) or target,
                    "A mail came for this request",
                    "Its content was not kept; the requester was asked to use their link.",
                )

        return self._store(row, MailOutcome.REFUSED, reason, then=answer)

    def _bounced(self, mail: ParsedMail, row: InboundMail) -> Receipt:
        bounce = mail.bounce
        assert bounce is not None

        def mark(session: Session) -> None:
            contact = session.scalar(select(Contact).where(Contact.email == bounce.recipient))
            if contact is not None:
                contact.mail_bounced_at = self.clock.now()
                contact.mail_bounce_reason = bounce.reason[:500]
            if bounce.original_message_id:
                local = bounce.original_message_id.lower().partition("@")[0]
                row.request_id = session.scalar(
                    select(OutboxMessage.request_id).where(OutboxMessage.idempotency_key == local)
                )

        return self._store(
            row, MailOutcome.BOUNCE, f"{bounce.recipient}: {bounce.reason}", apply=mark
        )

    def _too_large(self, raw: bytes, recipient: str, source: str, *, bounce: bool) -> Receipt:
        """Refused unread: the headers only, to answer the sender (never an automatic one)."""
        limit = self.settings.mail_max_bytes
        reason = (
            f"the mail is {len(raw) / 1_048_576:.1f} MB; the largest we accept is "
            f"{limit / 1_048_576:.1f} MB — send files as links, or fewer at a time"
        )
        headers = BytesHeaderParser().parsebytes(raw[:65536])
        sender = parseaddr(str(headers.get("From", "")))[1].strip().lower()
        found_ids = re.findall(r"<([^<>\s]+)>", str(headers.get("Message-ID", "")))
        message_id: str | None = found_ids[0][:300] if found_ids else None
        digest = hashlib.sha256(raw).hexdigest()
        row = InboundMail(
            dedupe_key=(message_id or f"sha256:{digest}")[:320],
            message_id=message_id,
            digest=digest,
            source=source[:100],
            envelope_to=recipient[:320],
            sender=sender[:320],
            subject="",
            auth={},
            size=len(raw),
            received_at=self.clock.now(),
        )
        automatic = automatic_reason(headers, sender) or self.addressing.is_ours(sender)

        def answer(session: Session) -> None:
            if bounce and not automatic:
                self.notifier.mail(
                    session,
                    None,
                    sender,
                    "Your mail was too large",
                    "mail_refused",
                    auto_submitted="auto-replied",
                    answering=message_id,
                    reason=reason,
                )

        try:
            receipt = self._store(row, MailOutcome.REFUSED, reason, then=answer)
        except IntegrityError:  # refused before: refused again, and not bounced twice
            return Receipt(False, reason=reason, outcome=MailOutcome.REFUSED)
        return Receipt(False, reason=reason, outcome=receipt.outcome)

    def _answer_sender(
        self, session: Session, mail: ParsedMail, headline: str, reason: str, about: Request | None
    ) -> None:
        self.notifier.mail(
            session,
            session.get(Request, about.id) if about is not None else None,
            mail.sender,
            headline,
            "mail_refused",
            auto_submitted="auto-replied",
            answering=mail.message_id,
            reason=reason,
        )

    # --- helpers --------------------------------------------------------------------------

    def _files(self, mail: ParsedMail) -> tuple[list[Upload], str]:
        """The mail's files the attachment rules accept, and a line naming those they do not:
        a refused file does not cost the requester their message."""
        rules = self.requests.attachments
        accepted: list[Upload] = []
        problems: list[str] = []
        for part in mail.attachments:
            upload = Upload(part.filename, part.data, part.content_type)
            try:
                rules.check([upload])
            except ValidationFailed as exc:
                problems.append(exc.errors.get("attachments", str(exc)))
                continue
            accepted.append(upload)
        try:
            rules.check(accepted)
        except ValidationFailed as exc:
            problems.append(exc.errors.get("attachments", str(exc)))
            accepted = []
        if not problems:
            return accepted, ""
        return accepted, "\n\n(Files not accepted: " + "; ".join(problems) + ")"

    def _over_limit(self, sender: str) -> bool:
        since = self.clock.now() - timedelta(hours=1)
        with self.db.reader() as session:
            count = session.scalar(
                select(func.count())
                .select_from(InboundMail)
                .where(InboundMail.sender == sender, InboundMail.received_at > since)
            )
        return (count or 0) >= self.settings.mail_sender_limit

    def _mail_type(self, type_key: str | None) -> RequestType | None:
        return self.host.request_types.get(type_key) if type_key else None

    def _subject_of(
        self, mail: ParsedMail, request_type: RequestType
    ) -> tuple[int | None, str | None]:
        """The subject a reference in the mail's subject line names (an order number, a
        project code), by the same rules as a reference typed on the portal: a claim, never
        proof; a private record is never reached this way (it is kept as a claim to check)."""
        if not request_type.subject_kinds:
            return None, None
        claimed: str | None = None
        for found in REFERENCE_CANDIDATE.finditer(mail.subject):
            word = found.group(0)
            if not any(c.isdigit() for c in word):
                continue
            try:
                subject_id = self.requests.resolve_subject_reference(word, request_type)
            except ValidationFailed:
                continue
            except ServiceError:
                continue
            if subject_id is not None:
                return subject_id, None
            claimed = claimed or word
        return None, claimed
