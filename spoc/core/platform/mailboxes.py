"""The IMAP mailboxes ``spoc mail fetch`` reads (``SPOC_MAIL_MAILBOXES``, a JSON list)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, SecretStr, model_validator

# Plain IMAP sends the password in clear: only to this machine, where nothing is on the wire.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
DEFAULT_PORTS = {"tls": 993, "starttls": 143, "plain": 143}


class ImapMailbox(BaseModel):
    """One mailbox: where it is, how to sign in, and which folders SPOC uses there."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(
        pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$",
        description="Short name for logs and `--mailbox` (lower case, digits, - and _).",
    )
    host: str = Field(min_length=1)
    port: int | None = Field(
        default=None, ge=1, le=65535, description="Default: 993 for tls, 143 otherwise."
    )
    security: Literal["tls", "starttls", "plain"] = Field(
        default="tls",
        description="tls: implicit TLS; starttls: upgrade before sign-in; plain: no TLS, "
        "allowed only to 127.0.0.1, ::1 or localhost.",
    )
    ca_file: Path | None = Field(
        default=None, description="CA certificates to trust for this server (default: system)."
    )
    username: str = Field(min_length=1)
    password: SecretStr | None = None
    password_env: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Name of an environment variable holding the password (instead of it).",
    )
    address: EmailStr = Field(description="The address this mailbox receives for.")
    folder: str = Field(default="INBOX", min_length=1)
    processed_folder: str = Field(default="Processed", min_length=1)
    failed_folder: str = Field(default="Failed", min_length=1)
    search: Literal["all", "unseen"] = Field(
        default="all",
        description="all: every message in the folder (processed mail leaves it); unseen: "
        "leave alone what someone has read in a mail client.",
    )
    timeout_seconds: float = Field(default=30, gt=0, le=600)

    @model_validator(mode="after")
    def _one_password(self) -> ImapMailbox:
        if (self.password is None) == (self.password_env is None):
            raise ValueError("set exactly one of password and password_env")
        if self.password_env is not None and self.password_env not in os.environ:
            raise ValueError(f"password_env: environment variable {self.password_env} is not set")
        return self

    @model_validator(mode="after")
    def _plain_only_here(self) -> ImapMailbox:
        if self.security == "plain" and self.host.lower() not in LOOPBACK_HOSTS:
            raise ValueError(
                f"security: plain sends the password in clear; it is allowed only to "
                f"127.0.0.1, ::1 or localhost, not {self.host!r} (use tls or starttls)"
            )
        if len({self.folder, self.processed_folder, self.failed_folder}) < 3:
            raise ValueError("folder, processed_folder and failed_folder must differ")
        return self

    @property
    def server_port(self) -> int:
        return self.port or DEFAULT_PORTS[self.security]

    @property
    def source(self) -> str:
        """How the receiver names this channel: ``imap:<name>``."""
        return f"imap:{self.name}"

    def secret(self) -> str:
        """The password, read when signing in (``password_env`` may be rotated meanwhile)."""
        if self.password is not None:
            return self.password.get_secret_value()
        return os.environ[self.password_env or ""]


def unique_names(mailboxes: list[ImapMailbox]) -> list[ImapMailbox]:
    """``SPOC_MAIL_MAILBOXES`` refuses two mailboxes of one name."""
    seen: set[str] = set()
    for mailbox in mailboxes:
        if mailbox.name in seen:
            raise ValueError(f"two mailboxes are named {mailbox.name!r}")
        seen.add(mailbox.name)
    return mailboxes
