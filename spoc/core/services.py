"""The services one SPOC app owns, built once per app and kept in ``app.extensions["spoc"]``.

Plugins receive this object as ``spoc`` in their hooks; in a request, :func:`spoc_of` finds it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, current_app
from pydantic import BaseModel

from spoc.core.accounts.auth import AuthService
from spoc.core.accounts.oidc import OidcClient
from spoc.core.accounts.tokens import TokenService
from spoc.core.accounts.two_factor import SEAL_LABEL as TWO_FACTOR_LABEL
from spoc.core.accounts.two_factor import TwoFactorService
from spoc.core.domain.assignment import AssignmentService
from spoc.core.domain.assist.service import AssistService
from spoc.core.domain.assist.suggestions import Suggestions
from spoc.core.domain.assist.vectors import PendingMarker
from spoc.core.domain.contacts import ContactDirectory
from spoc.core.domain.cover import CoverService
from spoc.core.domain.directory import DirectoryService
from spoc.core.domain.escalation import EscalationService
from spoc.core.domain.import_jobs import ImportJobs
from spoc.core.domain.knowledge.articles import ArticleService
from spoc.core.domain.knowledge.replies import SavedReplyService
from spoc.core.domain.links import LinkService
from spoc.core.domain.mail.service import MailService
from spoc.core.domain.mail.threads import TOKEN_LABEL, MailAddressing
from spoc.core.domain.notifications import Notifier
from spoc.core.domain.onboarding import Onboarding
from spoc.core.domain.outbox import Deliverer
from spoc.core.domain.privacy import ContactPrivacyService
from spoc.core.domain.reads.queues import QueueService
from spoc.core.domain.reports.facts import FactFolder, FactKeeper
from spoc.core.domain.reports.rating import LABEL as RATING_LABEL
from spoc.core.domain.reports.rating import RatingLinks
from spoc.core.domain.reports.service import ReportService
from spoc.core.domain.requests import RequestService
from spoc.core.domain.search import SearchIndex, SearchService
from spoc.core.domain.sla import SlaEngine, build_calendars
from spoc.core.domain.structures import StructureService
from spoc.core.domain.sweep import Sweeper, SweepReport
from spoc.core.domain.watches import WatchService
from spoc.core.domain.writes import ServiceDeps, request_reference
from spoc.core.kernel.clock import Clock
from spoc.core.platform import hookspecs
from spoc.core.platform.dispatch import Hooks
from spoc.core.platform.plugins import PluginHost
from spoc.core.platform.settings import Settings
from spoc.core.storage import migrate
from spoc.core.storage.db import Database
from spoc.core.storage.files import file_store_from
from spoc.core.storage.keys import Keys, Sealer
from spoc.core.storage.keyset import CURSOR_KEY_LABEL, Pager

EXTENSION = "spoc"
log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)


@dataclass
class Spoc:
    """Everything the core owns for one app: settings, plugins, database, clock, services."""

    settings: Settings
    host: PluginHost
    db: Database
    clock: Clock
    instance_path: Path = field(default_factory=lambda: Path("instance"))
    keys: Keys = field(init=False)
    pager: Pager = field(init=False)
    # Per-app objects of plugins, by plugin name (never module globals: one app per test).
    state: dict[str, Any] = field(default_factory=dict)
    requests: RequestService = field(init=False)
    escalations: EscalationService = field(init=False)
    directory: DirectoryService = field(init=False)
    onboarding: Onboarding = field(init=False)  # subjects from forms, CSV and the API
    privacy: ContactPrivacyService = field(init=False)
    contacts: ContactDirectory = field(init=False)  # contacts from forms, CSV and the API
    structures: StructureService = field(init=False)  # plugins' own rows, the same way
    imports: ImportJobs = field(init=False)  # large console uploads, run by the worker
    links: LinkService = field(init=False)
    watches: WatchService = field(init=False)
    queues: QueueService = field(init=False)
    auth: AuthService = field(init=False)
    tokens: TokenService = field(init=False)
    two_factor: TwoFactorService = field(init=False)
    oidc: OidcClient | None = field(init=False)  # single sign-on, when configured
    sla: SlaEngine = field(init=False)
    outbox: Deliverer = field(init=False)
    notifier: Notifier = field(init=False)
    addressing: MailAddressing = field(init=False)  # reply addresses, Message-IDs
    mail: MailService = field(init=False)  # inbound mail
    cover: CoverService = field(init=False)  # acting owners while an agent is away
    assignment: AssignmentService = field(init=False)  # teams' rules: who gets the next
    saved_replies: SavedReplyService = field(init=False)
    articles: ArticleService = field(init=False)  # the knowledge base written in the console
    search: SearchService = field(init=False)  # full-text search (spoc.search.query)
    reports: ReportService = field(init=False)  # the Reports page, its exports and digest
    assist: AssistService = field(init=False)  # similar requests and articles (issue 19)
    suggestions: Suggestions = field(init=False)  # types, past answers, the console's box
    hooks: Hooks = field(init=False)
    schema_checked: bool = False

    def __post_init__(self) -> None:
        # Built bottom-up: each service receives the collaborators it uses, by name.
        self.keys = Keys(self.settings)
        self.pager = Pager(self.keys.derive(CURSOR_KEY_LABEL))
        self.hooks = Hooks(self.host.pm, self)
        self.sla = SlaEngine(
            self.settings, build_calendars(self.settings), self.host.request_types, self.hooks
        )
        self.addressing = MailAddressing(self.settings, self.keys.derive(TOKEN_LABEL))
        self.notifier = Notifier(
            self.settings,
            self.host,
            partial(request_reference, self.settings),
            self.clock,
            self.addressing,
            RatingLinks(self.keys.derive(RATING_LABEL)),
        )
        # Kept current inside each write: after the flush, like the outbox (ids are known).
        index = SearchIndex(self.host, partial(request_reference, self.settings))
        # Report facts, likewise re-folded inside each write from its timeline and clock log.
        folder = FactFolder(self.settings.tz, self.sla.calendar, self.host.request_types)
        deps = ServiceDeps(
            self.db,
            self.hooks,
            self.host,
            self.settings,
            self.clock,
            file_store_from(self.settings, self.instance_path),
            observers=(self.sla,),
            late_observers=(self.notifier, index, FactKeeper(folder), PendingMarker()),
            search=index,
        )
        self.escalations = EscalationService(deps)
        self.requests = RequestService(deps, escalations=self.escalations, notifier=self.notifier)
        self.directory = DirectoryService(deps)
        self.onboarding = Onboarding(deps, directory=self.directory)
        self.privacy = ContactPrivacyService(deps)
        self.contacts = ContactDirectory(deps)
        self.structures = StructureService(deps)
        self.imports = ImportJobs(
            deps,
            onboarding=self.onboarding,
            contacts=self.contacts,
            structures=self.structures,
        )
        self.links = LinkService(deps)
        self.watches = WatchService(self.host, self.clock)
        self.search = SearchService(self.db, index, self.pager, self.settings.reference_prefix)
        self.assist = AssistService(
            self.db,
            self.host,
            self.hooks,
            self.settings,
            partial(request_reference, self.settings),
            index,
        )
        self.suggestions = Suggestions(self.assist)
        self.queues = QueueService(self.db, self.host, self.settings.desk_team, self.pager)
        self.auth = AuthService(deps)
        self.tokens = TokenService(deps)
        self.two_factor = TwoFactorService(
            deps, Sealer(self.keys.derive(TWO_FACTOR_LABEL)), self.auth
        )
        self.oidc = OidcClient(self.settings, self.clock) if self.settings.oidc_issuer else None
        self.outbox = self.deliverer()
        self.cover = CoverService(deps, notifier=self.notifier, pager=self.pager)
        self.assignment = AssignmentService(deps)
        self.mail = MailService(
            deps, requests=self.requests, notifier=self.notifier, addressing=self.addressing
        )
        self.saved_replies = SavedReplyService(deps)
        self.articles = ArticleService(deps, self.pager)
        self.reports = ReportService(
            self.db,
            self.settings,
            self.clock,
            self.host,
            self.hooks,
            folder,
            partial(request_reference, self.settings),
            self.notifier,
        )
        # Fail fast: an unknown SPOC_ASSIST_ENGINE, or a plugin's engine taking a used name,
        # stops start-up naming it (the model itself loads on first use).
        _ = self.assist.engine

    def plugin_settings(self, plugin: str, model: type[M]) -> M:
        """The validated settings section of ``plugin`` (see ``spoc_settings_model``)."""
        section = self.host.settings_sections.get(plugin)
        if not isinstance(section, model):
            raise LookupError(f"plugin {plugin!r} has no settings section of type {model.__name__}")
        return section

    def business_add(
        self, start: datetime, duration: timedelta, calendar: str = "default"
    ) -> datetime:
        """``start`` plus ``duration`` of business time on a named calendar (SPOC_CALENDARS)."""
        return self.sla.calendar(calendar).add(start, duration)

    def deliverer(self) -> Deliverer:
        """A delivery worker for the outbox (``spoc.outbox`` is this app's)."""
        return Deliverer(
            self.db,
            self.settings,
            self.clock,
            self.links.issue_magic_link,
            self.notifier.env,
            self.hooks.each(hookspecs.spoc_notification_channels),
            self.addressing.domain,
        )

    def sweeper(self) -> Sweeper:
        """A sweep worker (``spoc.sweep()`` runs one pass)."""
        return Sweeper(
            self.db,
            self.settings,
            self.clock,
            self.hooks,
            self.requests,
            self.escalations,
            self.sla,
            self.host.request_types,
            self.cover,
        )

    def sweep(self, limit: int | None = None) -> SweepReport:
        """One pass of the sweep (see :mod:`spoc.core.domain.sweep`)."""
        return self.sweeper().run_once(limit)

    def upgrade_database(self) -> None:
        """Bring the database to the latest schema: the core's history first, then each enabled
        plugin's (``spoc_migrations``)."""
        migrate.upgrade(self.db, self.host)
        # Rows written before bodies were sealed: the schema is the same, the data is not.
        self.outbox.seal_stored_bodies()
        self.schema_checked = True

    def check_database(self) -> None:
        """Refuse to go on when the database is behind the code: raises ``DatabaseNotReadyError`` (a
        ``StartupError``) naming the history (core or plugin) to upgrade."""
        migrate.check_up_to_date(self.db, self.host)
        self.schema_checked = True


def spoc_of(app: Flask | None = None) -> Spoc:
    """The :class:`Spoc` of ``app`` (default: the app handling this request)."""
    ext = (app or current_app).extensions[EXTENSION]
    assert isinstance(ext, Spoc)
    return ext


ROLL_UP_DAYS = 60
"""Days of report roll-ups rebuilt per worker pass at most."""


def run_forever(
    spoc: Spoc,
    interval: timedelta,
    passes: int | None = None,
    also: Sequence[Callable[[], bool]] = (),
) -> None:
    """``spoc worker``: sweep (and deliver notifications, run queued imports, embed requests
    for assist, housekeeping) in a loop. ``also``
    are further tasks of each pass, built above this layer (the mail fetch of every
    mailbox); each answers whether more is waiting."""
    sweeper = spoc.sweeper()
    done = 0
    while passes is None or done < passes:
        # A failing pass (the database away for a moment, a plugin bug) is logged and retried
        # on the next one; sweeping, delivering and fetching never block each other.
        more = False
        try:
            more = sweeper.run_once().due >= spoc.settings.sweep_batch
        except Exception:
            log.exception("sweep pass failed; the next pass retries")
        try:
            # The days whose report facts changed since the last pass (a full batch: more).
            more = spoc.reports.roll_up(ROLL_UP_DAYS) >= ROLL_UP_DAYS or more
        except Exception:
            log.exception("report roll-up failed; the next pass retries")
        try:
            spoc.reports.send_digests()  # once a week per subscriber; a cheap check otherwise
        except Exception:
            log.exception("weekly digest failed; the next pass retries")
        try:
            spoc.outbox.deliver_due()
        except Exception:
            log.exception("delivery pass failed; the next pass retries")
        try:
            more = spoc.imports.run_next() or more
        except Exception:
            log.exception("import job failed; the next pass retries")
        try:
            more = spoc.assist.embed_pending() or more
        except Exception:
            log.exception("embedding requests failed; the next pass retries")
        for task in also:
            try:
                more = task() or more
            except Exception:
                log.exception("worker task failed; the next pass retries")
        done += 1
        if passes is not None and done >= passes:
            break
        if not more:  # a full batch means more is waiting
            time.sleep(interval.total_seconds())
