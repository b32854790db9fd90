"""Sending mail over SMTP.

Without ``SPOC_SMTP_HOST``, development and demo mode write mails to the log (they carry
links, so never in production); production refuses to pretend it sent anything."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from email.utils import make_msgid

from spoc.core.settings import Settings

log = logging.getLogger(__name__)


class MailError(Exception):
    """The mail could not be handed to the SMTP server."""


def send_mail(settings: Settings, to: str, subject: str, text: str) -> str:
    """Send a plain-text mail; returns its Message-ID. Raises :class:`MailError`."""
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="spoc")
    message.set_content(text)
    if not settings.smtp_host:
        if not settings.is_development:
            raise MailError("no SMTP server is configured (set SPOC_SMTP_HOST)")
        log.info("mail (no SPOC_SMTP_HOST set) to=%s subject=%r\n%s", to, subject, text)
        return str(message["Message-ID"])
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username and settings.smtp_password:
                smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"could not send mail to {to}: {exc}") from exc
    return str(message["Message-ID"])
