"""Settings from the environment (prefix ``SPOC_``), a ``.env`` file, or keyword arguments.

Plugin sections are nested: ``SPOC_HEALTHCARE__RED_FLAGS='["chest pain"]'`` lands in
``plugin_settings["healthcare"]["red_flags"]`` and is validated by the plugin's own model
when the plugin is enabled.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from spoc.core.kernel.errors import StartupError
from spoc.core.kernel.types import TEAM_KEY_PATTERN
from spoc.core.platform.mailboxes import ImapMailbox, unique_names

ENV_PREFIX = "SPOC_"
NESTED = "__"

Environment = Literal["production", "dev", "demo", "test"]

DEFAULT_ATTACHMENT_TYPES = (
    "application/pdf",
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "text/plain",
)
"""What an attachment may be unless ``SPOC_ATTACHMENTS_ALLOWED_TYPES`` says otherwise: documents
and pictures no browser runs (no HTML, SVG, scripts or archives)."""


def _coerce(raw: str) -> Any:
    """Env values are strings; JSON lists and objects are decoded, the rest kept as text."""
    text = raw.strip()
    if text[:1] in "[{":
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return raw
    return raw


def collect_plugin_sections(environ: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Group ``SPOC_<PLUGIN>__<KEY>[__<SUBKEY>...]`` variables by plugin name."""
    sections: dict[str, dict[str, Any]] = {}
    for key, value in environ.items():
        upper = key.upper()
        if not upper.startswith(ENV_PREFIX) or NESTED not in upper:
            continue
        parts = key[len(ENV_PREFIX) :].lower().split(NESTED)
        if len(parts) < 2 or not all(parts):
            continue
        node = sections.setdefault(parts[0], {})
        for part in parts[1:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                break
            node = child
        else:
            node[parts[-1]] = _coerce(value)
    return sections


class PluginSectionsSource(PydanticBaseSettingsSource):
    """Feeds nested plugin sections from the environment and the ``.env`` file."""

    def __init__(self, settings_cls: type[BaseSettings], env_file: str | None) -> None:
        super().__init__(settings_cls)
        self._env_file = env_file

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        environ: dict[str, str] = {}
        if self._env_file and Path(self._env_file).is_file():
            environ.update({k: v for k, v in dotenv_values(self._env_file).items() if v})
        environ.update(os.environ)
        sections = collect_plugin_sections(environ)
        return {"plugin_settings": sections} if sections else {}


class Settings(BaseSettings):
    """Everything an operator can set. See README "Configuration"."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    env: Environment = Field(
        default="production",
        description="production, dev, demo or test; only production insists on a secret key.",
    )
    secret_key: SecretStr | None = Field(
        default=None, description="Signs sessions and tokens. Required in production."
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL. Default: a SQLite file spoc.sqlite in the instance folder.",
    )
    instance_path: Path | None = Field(
        default=None, description="Folder for the SQLite file and local state."
    )
    plugins: Annotated[list[str] | None, NoDecode] = Field(
        default=None,
        description="Enabled plugins, comma-separated. Default: every bundled plugin.",
    )
    timezone: str = Field(default="UTC", description="The organisation's IANA time zone.")
    base_url: str = Field(
        default="http://127.0.0.1:5000", description="Public URL used in links and mails."
    )
    org_name: str = Field(default="SPOC", max_length=80, description="Name shown on every page.")
    desk_team: str = Field(
        default="desk",
        description="Key of the team that receives requests nobody else is acting for.",
    )
    reference_prefix: str = Field(
        default="REQ", pattern=r"^[A-Z]{2,8}$", description="Prefix of public references."
    )
    smtp_host: str | None = Field(
        default=None, description="SMTP server for mail; unset = mails are written to the log."
    )
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = Field(
        default=False, description="Same as SPOC_SMTP_SECURITY=starttls (kept for old configs)."
    )
    smtp_security: Literal["none", "starttls", "tls"] | None = Field(
        default=None,
        description="none, starttls, or tls (implicit TLS, usually port 465). "
        "Default: starttls if SPOC_SMTP_STARTTLS is set, else none.",
    )
    smtp_ca_file: Path | None = Field(
        default=None,
        description="CA certificates to trust for the SMTP server's TLS instead of the system's.",
    )
    mail_from: str = Field(default="SPOC <spoc@localhost>", description="From: of SPOC's mails")
    mail_domain: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9.-]+$",
        description="Domain of SPOC's Message-IDs and reply addresses. Default: the domain of "
        "SPOC_MAIL_FROM.",
    )
    mail_reply_address: str | None = Field(
        default=None,
        description="Reply address of mails about a request, with {token} where the request's "
        "reply token goes, e.g. reply+{token}@help.example.org. Default: the From address "
        "with +{token} added to its local part.",
    )
    mail_addresses: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict,
        description="Receiving address -> request type of new requests by mail, as "
        "address=type pairs separated by commas; other addresses file SPOC_MAIL_DEFAULT_TYPE.",
    )
    mail_default_type: str = Field(
        default="generic.question", description="Request type of new requests by mail."
    )
    mail_max_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=64 * 1024,
        description="Largest inbound mail accepted, in bytes (refused with a bounce).",
    )
    mail_sender_limit: int = Field(
        default=20,
        ge=1,
        description="Mails one sender may send in an hour; more are stored, not filed or answered.",
    )
    demo_mailbox: Path | None = Field(
        default=None,
        description="The demo's mail sink (a Maildir) shown on the console; set by spoc demo.",
    )
    demo_inbound_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="The demo's LMTP server on 127.0.0.1, for replying as the requester.",
    )
    mail_authserv_id: str | None = Field(
        default=None,
        description="Trust only Authentication-Results headers of this authserv-id (your MTA's "
        "host name). Default: the topmost such header.",
    )
    cover_returns: bool = Field(
        default=True,
        description="When an absence ends, the requests its cover still holds go back.",
    )
    tracking_link_days: int = Field(
        default=180, ge=1, description="How long a requester's private tracking link works."
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis for rate-limit counts shared by several servers "
        "(redis://host:6379/0); unset: a SQLite file in the instance folder, shared by the "
        "workers of one server.",
    )
    proxy_hops: int = Field(
        default=0, ge=0, le=5, description="Reverse proxies in front (trust X-Forwarded-For)."
    )
    portal_submit_limit: str = Field(default="10 per minute;50 per hour")
    portal_action_limit: str = Field(default="30 per minute")
    portal_magic_link_limit: str = Field(default="5 per minute;20 per hour")
    login_limit: str = Field(default="10 per minute")
    plugin_page_limit: str = Field(
        default="120 per minute", description="Per client IP on each plugin page (/p/...)."
    )
    api_limit: str = Field(default="600 per minute", description="Per client IP on /api/v1.")
    login_lockout_after: int = Field(
        default=5, ge=1, description="Failed sign-ins for one address from one client: pause."
    )
    login_lockout_minutes: int = Field(default=15, ge=1, le=24 * 60)
    session_idle_minutes: int = Field(
        default=60, ge=1, le=7 * 24 * 60, description="A console session ends after this idle."
    )
    session_max_hours: int = Field(
        default=12, ge=1, le=31 * 24, description="A console session ends this long after sign-in."
    )
    password_reset_minutes: int = Field(
        default=30, ge=5, le=24 * 60, description="How long a mailed password-reset link works."
    )
    require_2fa_for_admins: bool = Field(
        default=False,
        description="Admins without two-factor are sent to enrolment and reach no other page.",
    )
    two_factor_pending_minutes: int = Field(
        default=5, ge=1, le=30, description="How long the code may follow a right password."
    )
    oidc_issuer: str | None = Field(
        default=None,
        description="OpenID Connect issuer URL (discovery at /.well-known/openid-configuration); "
        "unset: no single sign-on.",
    )
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_provider_name: str = Field(
        default="single sign-on", max_length=60, description='Shown as "Sign in with <name>".'
    )
    oidc_allowed_domains: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated email domains that may sign in by SSO; empty: any domain.",
    )
    oidc_create_agents_as: Literal["agent", "specialist", "viewer"] | None = Field(
        default=None,
        description="Role of an agent created at first SSO sign-in; unset: only existing "
        "active agents may sign in by SSO. Never admin.",
    )
    oidc_trusts_provider_mfa: bool = Field(
        default=False,
        description="Skip SPOC's TOTP after SSO when the ID token says the provider did MFA.",
    )
    calendars: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Named business calendars (JSON). Default: Mon-Fri 09:00-17:00 in timezone.",
    )
    sla_overrides: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Per request type SLA overrides (JSON)."
    )
    sla_specialist_team: str = Field(
        default="specialists", description="Level 1 on breach, when the type names no team."
    )
    sla_authority_team: str = Field(
        default="management", description="Level 2: who hears when a specialist team is late."
    )
    teams: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated keys of the deployment's own teams that plugin settings "
        "may name, besides the core's three above and the teams the enabled plugins bring.",
    )
    ola_hours: float = Field(default=4, gt=0, description="Business hours a team has to answer.")
    auto_close_days: int = Field(default=7, ge=1, description="Resolved requests close after.")
    waiting_reminder_days: int = Field(default=3, ge=1)
    waiting_close_days: int = Field(default=7, ge=1)
    sweep_batch: int = Field(default=200, ge=1, le=10_000)
    assist_engine: str = Field(
        default="auto",
        pattern=r"^[a-z][a-z0-9_.-]{0,63}$",
        description="What ranks suggestions: lexical, wordllama (the spoc[assist] extra), a "
        "plugin's engine, or auto (wordllama when installed, else lexical).",
    )
    webhook_urls: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated URLs that receive signed events."
    )
    webhook_secret: SecretStr | None = Field(
        default=None, description="HMAC-SHA256 key for the X-Spoc-Signature header."
    )
    outbox_max_attempts: int = Field(default=8, ge=1, le=50)
    outbox_backoff_seconds: int = Field(default=30, ge=1, description="First retry delay.")
    outbox_backoff_cap_seconds: int = Field(default=3600, ge=1)
    outbox_lease_seconds: int = Field(
        default=120,
        ge=30,
        le=3600,
        description="How long a worker holds the message it is sending; longer than one send.",
    )
    mail_mailboxes: list[ImapMailbox] = Field(
        default_factory=list,
        description="IMAP mailboxes `spoc mail fetch` and `spoc worker` read (JSON list; "
        "see README).",
    )
    mail_fetch_batch: int = Field(
        default=50, ge=1, le=10_000, description="Messages taken from one mailbox per pass."
    )
    # Attachments (see spoc.core.domain.attachments and spoc.core.storage.files).
    attachments_path: Path | None = Field(
        default=None,
        description="Folder for attachment contents. Default: attachments/ in the instance folder.",
    )
    attachments_max_file_mb: float = Field(
        default=10, gt=0, le=1024, description="Largest attachment accepted, in MB."
    )
    attachments_max_total_mb: float = Field(
        default=25, gt=0, le=4096, description="Most MB of attachments on one message or request."
    )
    attachments_max_count: int = Field(
        default=10, ge=0, le=100, description="Most files on one message or request; 0 turns off."
    )
    attachments_allowed_types: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_ATTACHMENT_TYPES),
        description="Content types accepted (detected from the content, not the name).",
    )
    attachments_s3_bucket: str | None = Field(
        default=None, description="Store attachments in this S3-compatible bucket (spoc[s3])."
    )
    attachments_s3_prefix: str = Field(default="", description="Key prefix inside the bucket.")
    attachments_s3_endpoint_url: str | None = Field(
        default=None, description="The S3 endpoint, for a service other than AWS."
    )
    attachments_s3_region: str | None = Field(default=None)
    attachments_s3_access_key_id: str | None = Field(default=None)
    attachments_s3_secret_access_key: SecretStr | None = Field(default=None)
    clamav_socket: str | None = Field(
        default=None,
        description="clamd to scan attachments with: a unix socket path, or host:port.",
    )
    plugin_settings: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Nested plugin sections (SPOC_<PLUGIN>__<KEY>).",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        env_file = settings_cls.model_config.get("env_file")
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            PluginSectionsSource(settings_cls, env_file if isinstance(env_file, str) else None),
            file_secret_settings,
        )

    @field_validator(
        "plugins",
        "webhook_urls",
        "oidc_allowed_domains",
        "teams",
        "attachments_allowed_types",
        mode="before",
    )
    @classmethod
    def _split_plugins(cls, value: object) -> object:
        if isinstance(value, str):
            return [name.strip() for name in value.split(",") if name.strip()]
        return value

    @field_validator("mail_addresses", mode="before")
    @classmethod
    def _address_map(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        pairs: dict[str, str] = {}
        for item in filter(None, (part.strip() for part in value.split(","))):
            address, sep, type_key = item.partition("=")
            if not sep or "@" not in address or not type_key.strip():
                raise ValueError(f"{item!r}: write address=request.type")
            pairs[address.strip().lower()] = type_key.strip()
        return pairs

    @property
    def smtp_mode(self) -> str:
        """How SPOC talks to its SMTP server: none, starttls or tls."""
        if self.smtp_security is not None:
            return self.smtp_security
        return "starttls" if self.smtp_starttls else "none"

    @field_validator("mail_mailboxes")
    @classmethod
    def _mailbox_names(cls, value: list[ImapMailbox]) -> list[ImapMailbox]:
        return unique_names(value)

    @field_validator("teams")
    @classmethod
    def _team_keys(cls, value: list[str]) -> list[str]:
        for key in value:
            if not re.fullmatch(TEAM_KEY_PATTERN, key):
                raise ValueError(f"{key!r} is not a team key (lower case letters, digits, _)")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from exc
        return value

    @model_validator(mode="after")
    def _webhooks_are_signed(self) -> Settings:
        if self.webhook_urls and not self.webhook_secret:
            raise ValueError("SPOC_WEBHOOK_URLS needs SPOC_WEBHOOK_SECRET to sign what it sends")
        return self

    @field_validator("oidc_allowed_domains")
    @classmethod
    def _lower_domains(cls, value: list[str]) -> list[str]:
        return [domain.lower().lstrip("@") for domain in value]

    @model_validator(mode="after")
    def _oidc_is_complete(self) -> Settings:
        if self.oidc_issuer and not (self.oidc_client_id and self.oidc_client_secret):
            raise ValueError(
                "SPOC_OIDC_ISSUER needs SPOC_OIDC_CLIENT_ID and SPOC_OIDC_CLIENT_SECRET"
            )
        production = self.env == "production"
        if self.oidc_issuer and production and not self.oidc_issuer.startswith("https://"):
            raise ValueError("SPOC_OIDC_ISSUER must be an https:// URL in production")
        return self

    @model_validator(mode="after")
    def _secret_required_in_production(self) -> Settings:
        if self.env == "production" and not self.secret_key:
            raise ValueError(
                "SPOC_SECRET_KEY is not set: production needs a long random secret "
                "(or set SPOC_ENV=dev for local development)"
            )
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def calendar_names(self) -> set[str]:
        """The calendars an SLA policy may name: those of ``SPOC_CALENDARS`` (``default`` when
        none is set) and ``always_open``, which always exists."""
        return {*(self.calendars or ("default",)), "always_open"}

    @property
    def core_teams(self) -> set[str]:
        """The teams the core's settings name, and the deployment's own (``SPOC_TEAMS``)."""
        return {self.desk_team, self.sla_specialist_team, self.sla_authority_team, *self.teams}

    @property
    def is_development(self) -> bool:
        return self.env in ("dev", "demo", "test")


def load_settings(**overrides: Any) -> Settings:
    """Build settings, turning a validation failure into a one-line :class:`StartupError`."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = ".".join(str(p) for p in error["loc"])
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"{ENV_PREFIX}{field.upper()}: {message}" if field else message)
        raise StartupError("invalid settings: " + "; ".join(problems)) from None
