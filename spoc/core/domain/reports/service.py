"""``spoc.reports``: the Reports page's sections, their tables as CSV, the one-row-per-request
export, the facts' rebuild and the weekly digest.

Who may read reports: admins, agents and viewers (and the system). A specialist sees only
the requests escalated to their teams, so desk-wide figures are not theirs to read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select, true, tuple_, update
from sqlalchemy.orm import Session

from spoc.core.domain.knowledge.articles import REPLIES_KEY
from spoc.core.domain.models import Agent, DigestSubscription, RequestFact, Team
from spoc.core.domain.notifications import Notifier
from spoc.core.domain.reports import people
from spoc.core.domain.reports.cube import roll_up
from spoc.core.domain.reports.dirty import mark_all_dirty
from spoc.core.domain.reports.facts import FactFolder, rebuild
from spoc.core.domain.reports.filters import ReportFilter, in_days, parse_filter
from spoc.core.domain.reports.metrics import Metrics
from spoc.core.kernel.clock import Clock
from spoc.core.kernel.errors import NotFoundError, PermissionDenied
from spoc.core.kernel.reports import ReportPeriod, ReportSection, ReportTable
from spoc.core.kernel.types import Actor, ActorKind, Role
from spoc.core.platform import hookspecs
from spoc.core.platform.dispatch import Hooks
from spoc.core.platform.plugins import PluginHost
from spoc.core.platform.settings import Settings
from spoc.core.storage.db import Database

READERS = (Role.ADMIN, Role.AGENT, Role.VIEWER)
EXPORT_PAGE = 1000
EXPORT_COLUMNS = (
    "reference", "type", "plugin", "channel", "priority", "status", "team", "owner",
    "created_at", "resolved_at", "first_response_seconds", "first_response_target",
    "first_response_breached", "resolution_seconds", "resolution_target", "resolution_breached",
    "escalations", "max_level", "specialist_seconds", "reopens", "first_contact", "rating",
)  # fmt: skip
FIGURES = EXPORT_COLUMNS[EXPORT_COLUMNS.index("created_at") :]
"""The export's columns read from the facts as they are."""
EXPORTED = (
    "request_id", "created_day", "private", "owner_team_id", "owner_agent_id", "type_key",
    "plugin", "channel", "priority", "status", *FIGURES,
)  # fmt: skip
"""The facts the export reads."""
TABLES = {
    "volume-by-day": "volume",
    "volume-by-week": "volume",
    "backlog-by-age": "volume",
    "times-by-priority": "times",
    "escalations-by-level-team": "escalations",
    "channel-mix": "quality",
    "load-by-spoc": "load",
    "away-now": "load",
    "csat-distribution": "csat",
    "csat-comments": "csat",
    "knowledge-by-article": "knowledge",
}
"""The core's tables and the section each belongs to."""
DIGEST_HOUR = 7
"""The weekly digest goes out with the first worker pass from Monday 07:00 (organisation time)."""


class ReportService:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        clock: Clock,
        host: PluginHost,
        hooks: Hooks,
        folder: FactFolder,
        reference: Callable[[int], str],
        notifier: Notifier,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.host = host
        self.hooks = hooks
        self.folder = folder
        self.reference = reference
        self.notifier = notifier

    # --- who, and what about ---------------------------------------------------------

    @staticmethod
    def require_reader(actor: Actor) -> None:
        """``PermissionDenied`` unless ``actor`` may read reports (admin, agent, viewer)."""
        if actor.kind is ActorKind.SYSTEM:
            return
        if actor.kind is not ActorKind.AGENT or actor.role not in READERS:
            raise PermissionDenied(f"a {actor.role_name} may not read reports")

    def today(self) -> date:
        """Today in the organisation's time zone."""
        return self.clock.now().astimezone(self.settings.tz).date()

    def parse(self, args: Mapping[str, str]) -> ReportFilter:
        """A filter from query arguments (``from``, ``to``, ``type``, ``plugin``, ``team``,
        ``agent``, ``subject``, ``priority``, ``channel``); ``ValidationFailed`` names each bad
        field."""
        types = set(self.host.request_types.names())
        plugins = {key.partition(".")[0] for key in types}
        return parse_filter(args, self.today(), types, plugins)

    # --- the report ------------------------------------------------------------------

    def report(
        self, actor: Actor, chosen: ReportFilter, only: str | None = None
    ) -> list[ReportSection]:
        """Every section, the core's then the plugins' (``spoc_report_sections``); with
        ``only``, just the section of that key (the others are not computed)."""
        self.require_reader(actor)
        with self.db.reader() as session:
            metrics = Metrics(session, chosen, self.clock.now(), self.settings.tz)
            builders: dict[str, Callable[[], ReportSection]] = {
                "volume": metrics.volume,
                "times": metrics.times,
                "escalations": metrics.escalations,
                "quality": metrics.quality,
                "load": lambda: people.load(metrics, self.today()),
                "csat": lambda: people.csat(metrics, self.reference),
                "knowledge": lambda: people.knowledge(metrics, self._article_title),
            }
            sections = [build() for key, build in builders.items() if only in (None, key)]
            answers = []
            if only is None or only not in builders:
                answers = self.hooks.each(
                    hookspecs.spoc_report_sections,
                    report_filter=chosen,
                    session=session,
                    spoc=self.hooks.spoc,
                )
        for plugin, contributed in answers:
            for section in contributed or ():
                key = f"{plugin}-{section.key}"
                if only in (None, key):
                    sections.append(
                        ReportSection(
                            key,
                            section.title,
                            section.headlines,
                            section.tables,
                            section.note,
                            plugin,
                        )
                    )
        return sections

    def section(self, actor: Actor, chosen: ReportFilter, key: str) -> ReportSection:
        """One section by key; ``NotFoundError`` for a key no section has."""
        for section in self.report(actor, chosen, only=key):
            if section.key == key:
                return section
        raise NotFoundError(f"no report section {key}")

    def table(self, actor: Actor, chosen: ReportFilter, key: str) -> ReportTable:
        """One table by key (its CSV's name); ``NotFoundError`` for a key no table has."""
        home = TABLES.get(key)  # a core table: only its section is computed
        for section in self.report(actor, chosen, only=home):
            for table in section.tables:
                if table.key == key:
                    return table
        raise NotFoundError(f"no report table {key}")

    def _article_title(self, key: str) -> str:
        plugin = self.host.articles.get(key)
        if key == REPLIES_KEY:
            return "Replies to similar requests (assist)"
        return plugin.title if plugin is not None else key

    # --- the per-request export ------------------------------------------------------

    def export_rows(self, actor: Actor, chosen: ReportFilter) -> Iterator[list[str]]:
        """One row per request filed in the period (header first), read page by page along
        the ``created_day`` index, so memory stays flat at any size. Private types' rows
        carry no team or owner name: counts and clock figures only."""
        self.require_reader(actor)
        yield list(EXPORT_COLUMNS)
        after: tuple[date, int] | None = None
        f = RequestFact
        columns = [f.__table__.c[name] for name in EXPORTED]
        while True:
            with self.db.reader() as session:
                query = select(*columns).where(
                    in_days(f.created_day, chosen.period), *chosen.narrowing()
                )
                if after is not None:
                    query = query.where(tuple_(f.created_day, f.request_id) > tuple_(*after))
                # Plain rows through the core connection: no ORM objects for a bulk read.
                rows = [
                    dict(zip(EXPORTED, row, strict=True))
                    for row in session.connection().execute(
                        query.order_by(f.created_day, f.request_id).limit(EXPORT_PAGE)
                    )
                ]
                named = [r for r in rows if not r["private"]]
                teams = _names(session, Team, {r["owner_team_id"] for r in named})
                agents = _names(session, Agent, {r["owner_agent_id"] for r in named})
            for row in rows:
                yield _export_row(row, self.reference(row["request_id"]), teams, agents)
            if len(rows) < EXPORT_PAGE:
                return
            after = (rows[-1]["created_day"], rows[-1]["request_id"])

    # --- facts -----------------------------------------------------------------------

    def rebuild(self, batch: int = 500) -> int:
        """Recompute every request's facts from its timeline and clock log, then every day's
        roll-ups (``spoc reports rebuild``); how many requests were written."""
        written = rebuild(self.db, self.folder, batch=batch)
        mark_all_dirty(self.db)
        roll_up(self.db, max_days=None)
        return written

    def roll_up(self, max_days: int | None) -> int:
        """Rebuild the day roll-ups whose facts changed (each worker pass); how many days."""
        return roll_up(self.db, max_days=max_days)

    # --- the weekly digest -----------------------------------------------------------

    def subscribed(self, agent_id: int) -> bool:
        """Whether the agent gets the weekly digest."""
        with self.db.reader() as session:
            return session.get(DigestSubscription, agent_id) is not None

    def subscribe(self, actor: Actor, on: bool) -> None:
        """Turn the agent's own weekly digest on or off (an agent who may read reports)."""
        self.require_reader(actor)
        assert actor.id is not None
        with self.db.transaction() as session:
            row = session.get(DigestSubscription, actor.id)
            if on and row is None:
                session.add(DigestSubscription(agent_id=actor.id, subscribed_at=self.clock.now()))
            elif not on and row is not None:
                session.delete(row)

    def send_digests(self) -> int:
        """Mail this week's digest (last Monday to Sunday) to each subscriber not yet sent it,
        through the outbox. Each subscriber is claimed in the transaction that queues the mail,
        so several workers send it once per week; how many were queued."""
        now = self.clock.now().astimezone(self.settings.tz)
        monday = now.date() - timedelta(days=now.weekday())
        if now < datetime.combine(monday, time(DIGEST_HOUR), now.tzinfo):
            monday -= timedelta(days=7)  # before Monday morning: last week's is still due
        week = f"{monday.isocalendar().year}-W{monday.isocalendar().week:02d}"
        period = ReportPeriod(monday - timedelta(days=7), monday - timedelta(days=1))
        with self.db.reader() as session:
            due = list(
                session.execute(
                    select(DigestSubscription.agent_id, Agent.email, Agent.name, Agent.role)
                    .join(Agent, Agent.id == DigestSubscription.agent_id)
                    .where(
                        Agent.active == true(),
                        (DigestSubscription.last_week.is_(None))
                        | (DigestSubscription.last_week != week),
                    )
                )
            )
        if not due:
            return 0
        sections = self.report(Actor.system("weekly digest"), ReportFilter(period))
        sent = 0
        for agent_id, email, name, role in due:
            if role not in READERS:
                continue
            with self.db.transaction() as session:
                claimed = session.execute(
                    update(DigestSubscription)
                    .where(
                        DigestSubscription.agent_id == agent_id,
                        (DigestSubscription.last_week.is_(None))
                        | (DigestSubscription.last_week != week),
                    )
                    .values(last_week=week)
                )
                if not claimed.rowcount:  # type: ignore[attr-defined]
                    continue  # another worker sent it
                self.notifier.mail(
                    session,
                    None,
                    email,
                    f"Your weekly report: {period.start:%d %b} to {period.end:%d %b}",
                    "report_digest",
                    name=name,
                    period=period,
                    sections=[s for s in sections if s.plugin is None],
                    reports_url=f"{self.settings.base_url.rstrip('/')}/console/reports",
                )
                sent += 1
        return sent


def _names(
    session: Session, model: type[Team] | type[Agent], ids: set[int | None]
) -> dict[int, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    query = select(model.id, model.name).where(model.id.in_(wanted))
    return {row_id: name for row_id, name in session.execute(query)}


def _export_row(
    row: Mapping[str, Any], reference: str, teams: Mapping[int, str], agents: Mapping[int, str]
) -> list[str]:
    def text(value: object) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, datetime):
            return value.isoformat()
        return str(value)

    hidden = row["private"]
    values: Sequence[object] = (
        reference, row["type_key"], row["plugin"], row["channel"], row["priority"], row["status"],
        "" if hidden else teams.get(row["owner_team_id"] or 0, ""),
        "" if hidden else agents.get(row["owner_agent_id"] or 0, ""),
        *(row[name] for name in FIGURES),
    )  # fmt: skip
    return [text(v) for v in values]
