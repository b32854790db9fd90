"""Every hook a SPOC plugin can implement, grouped by lifecycle phase.

This module is the contract for plugin authors: ``docs/hooks.md`` is generated from it
(``spoc docs hooks``), and the test suite fails when a hook here lacks a docstring, lacks a
test named ``test_hook_<name>``, or when the generated reference is stale.

Conventions:

* Hooks are plain functions decorated with ``spoc.hookimpl``; an implementation may accept
  any subset of the arguments, by name.
* No hook is ``firstresult``: where several plugins answer, the core combines their answers by
  a rule stated in the docstring (most urgent priority wins, lowest ``order`` then plugin name
  wins), so the outcome never depends on the order plugins were registered in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime
    from pathlib import Path

    import click
    from flask import Blueprint
    from pydantic import BaseModel
    from sqlalchemy.orm import Session

    from spoc.core.domain.demo import DemoContext
    from spoc.core.domain.models import Request, Watch
    from spoc.core.domain.outbox import NotificationChannel
    from spoc.core.domain.reports.filters import ReportFilter
    from spoc.core.kernel.assist import SentenceEncoder
    from spoc.core.kernel.mail import InboundMail, MailVerdict
    from spoc.core.kernel.reports import ReportSection
    from spoc.core.kernel.structures import Structure
    from spoc.core.kernel.types import (
        AccessRefused,
        ApiRoute,
        ConsolePanel,
        EscalationCheck,
        Export,
        KnowledgeArticle,
        Priority,
        RequestEvent,
        RequestType,
        Routing,
        ScanFinding,
        SlaPolicy,
        StaffAccess,
        SubjectInfo,
        SubjectKind,
        Triage,
        WatchOutcome,
    )
    from spoc.core.services import Spoc

PROJECT = "spoc"

hookspec = pluggy.HookspecMarker(PROJECT)

# Phases, in the order a plugin meets them; ``spoc docs hooks`` groups the reference by these.
PHASES: dict[str, tuple[str, ...]] = {
    "Start-up: what a plugin contributes": (
        "spoc_settings_model",
        "spoc_request_types",
        "spoc_subject_kinds",
        "spoc_structures",
        "spoc_migrations",
        "spoc_cli_commands",
        "spoc_knowledge_articles",
        "spoc_notification_channels",
        "spoc_api_routes",
        "spoc_blueprints",
        "spoc_assist_engines",
    ),
    "Intake: deciding priority and owner of a new request": (
        "spoc_resolve_subject",
        "spoc_contact_subjects",
        "spoc_classify_request",
        "spoc_triage_request",
        "spoc_route_request",
        "spoc_request_filed",
        "spoc_sla_policy",
    ),
    "Inbound mail: claiming and classifying what arrives": ("spoc_inbound_mail",),
    "After commit: reacting to what happened": ("spoc_request_event",),
    "The sweep: domain triggers": (
        "spoc_sweep_tasks",
        "spoc_escalation_checks",
        "spoc_watch_due",
        "spoc_keep_open",
    ),
    "Console: what agents see": (
        "spoc_console_panels",
        "spoc_staff_access",
        "spoc_request_exports",
        "spoc_report_sections",
    ),
    "Portal: what requesters see": ("spoc_portal_panels", "spoc_form_defaults"),
    "Attachments: files people send": ("spoc_scan_attachment",),
    "Demo data": ("spoc_demo_data",),
}


# --- Start-up -----------------------------------------------------------------------------


@hookspec
def spoc_settings_model() -> type[BaseModel] | None:
    """The pydantic model of this plugin's settings section.

    Values come from ``SPOC_<PLUGIN>__<FIELD>`` environment variables (or ``.env``), where
    ``<PLUGIN>`` is the plugin's entry-point name. The section is validated at start-up; a
    validation error stops start-up with a message naming the plugin and the field, and so does
    a variable for a field the model does not have. Type a field that names a team as
    :data:`spoc.TeamKey`: start-up refuses a value that is not a known team, and its default
    is a team the plugin brings. The validated object is available as
    ``app.extensions["spoc"].plugin_settings(name)``.

    Arguments: none.

    Returns: a pydantic ``BaseModel`` subclass whose fields all have defaults, or ``None``.

    firstresult: no — each plugin answers for its own section only.
    """


@hookspec
def spoc_request_types(  # type: ignore[empty-body]
    settings_sections: Mapping[str, BaseModel],
) -> Sequence[RequestType]:
    """Request types this plugin offers to stakeholders.

    Called once at start-up. Keys are namespaced by the plugin (``<plugin>.<name>``) and
    unique across all enabled plugins; a duplicate stops start-up with a message naming both
    plugins. The subject kinds, ``specialist_team`` and SLA calendar a type names must be
    known (declared by an enabled plugin, a known team, a defined calendar), or start-up
    stops naming the plugin and the field. Request types are listed by ``order``, then
    ``key``.

    Arguments:
        settings_sections: every plugin's validated settings section, by plugin name (a
            plugin reads its own, e.g. for the specialist team a type escalates to).

    Returns: a sequence of :class:`spoc.RequestType` (may be empty).

    firstresult: no — the contributions of all plugins are collected.
    """


@hookspec
def spoc_subject_kinds() -> Sequence[SubjectKind]:  # type: ignore[empty-body]
    """Kinds of subject a SPOC can be accountable for (patient, project, event, account).

    Called once at start-up. Keys are namespaced by the plugin (``<plugin>.<name>``) and
    unique across plugins; a duplicate stops start-up naming both plugins.

    Arguments: none.

    Returns: a sequence of :class:`spoc.SubjectKind` (may be empty).

    firstresult: no — the contributions of all plugins are collected.
    """


@hookspec
def spoc_structures() -> Sequence[Structure]:  # type: ignore[empty-body]
    """The plugin's own rows that the console, ``spoc structures import`` / ``spoc subjects
    import`` and the batch API create and change, as they do subjects.

    A :class:`spoc.Structure` either completes a subject kind (``subject_kind``: a project's
    reporting row, an event's dates; its fields join the kind's form, CSV columns and the API
    item's ``details``) or holds items under a parent subject (``parent_kind``: an event's
    sessions and vendors, an account's verified contacts; ``spoc structures import KEY FILE``,
    ``POST /api/v1/structures/{key}``, the subject page's "Add" links). Every surface calls
    ``save`` twice per item: first with ``check_only`` in a reading session (raise
    :class:`spoc.ValidationFailed` naming the fields, write nothing), then in the transaction
    that writes the subject, so the plugin's rows commit with it or not at all. Make ``save``
    idempotent: a completing structure finds its row by the subject's id, a child by its
    ``key_fields`` under the parent, so an import run twice creates nothing twice.

    Called once at start-up. Keys are namespaced by the plugin and unique across plugins; a
    duplicate stops start-up naming both plugins, and so do an unknown ``subject_kind`` or
    ``parent_kind``, a second structure completing the same kind, or a field named like one
    of the kind's attributes or the core's columns.

    Arguments: none.

    Returns: a sequence of :class:`spoc.Structure` (may be empty).

    firstresult: no — every plugin's structures are collected, listed by ``order`` then key.
    """


@hookspec
def spoc_migrations() -> Path | None:
    """The folder of this plugin's Alembic revisions, for plugins that own tables.

    The folder holds one Alembic branch: its first revision sets ``branch_labels`` to the
    plugin name and ``depends_on`` the core revision it needs. Tables are named
    ``<plugin>_...``; plugins never alter core tables. ``spoc db upgrade`` applies the
    branches of enabled plugins.

    Arguments: none.

    Returns: a ``pathlib.Path`` to the versions folder, or ``None`` for no tables.

    firstresult: no — every enabled plugin's folder is used.
    """


@hookspec
def spoc_cli_commands() -> Sequence[click.Command]:  # type: ignore[empty-body]
    """Commands to add to the ``spoc`` command line.

    Give a plugin's commands a group named after the plugin (``spoc facilities ...``); a
    command named neither ``<plugin>`` nor ``<plugin>-<name>`` stops start-up, and so does a
    name another plugin has (naming both).

    Arguments: none.

    Returns: a sequence of ``click.Command`` (or ``click.Group``) objects.

    firstresult: no — all plugins' commands are added.
    """


@hookspec
def spoc_knowledge_articles(  # type: ignore[empty-body]
    settings_sections: Mapping[str, BaseModel],
) -> Sequence[KnowledgeArticle]:
    """Self-help articles for the portal, shown beside the request types they may answer.

    A stakeholder who finds the answer does not need to file. Keys are namespaced by the
    plugin and unique across plugins; a duplicate stops start-up naming both plugins, and an
    article naming an unknown request type stops it too. Articles an organisation adds (a folder
    named in the plugin's settings) are read here, once, at start-up.

    Arguments:
        settings_sections: every plugin's validated settings section, by plugin name (a
            plugin reads its own: ``settings_sections["healthcare"]``).

    Returns: a sequence of :class:`spoc.KnowledgeArticle` (may be empty).

    firstresult: no — all plugins' articles are collected, listed by ``order`` then key.
    """


@hookspec
def spoc_notification_channels() -> Sequence[NotificationChannel]:  # type: ignore[empty-body]
    """Ways to deliver notifications besides email and webhooks (SMS, chat, a pager).

    Messages reach a channel through the outbox: enqueue them with
    ``spoc.core.domain.outbox.enqueue`` (``channel=<name>``) in the same transaction as their
    cause; the worker calls the channel's ``send`` with retries and backoff, and dead-letters
    after repeated failure.
    ``send`` must be idempotent per ``Outgoing.idempotency_key``.

    Arguments: none.

    Returns: a sequence of :class:`spoc.NotificationChannel`; names are unique.

    firstresult: no — all plugins' channels are available.
    """


@hookspec
def spoc_api_routes() -> Sequence[ApiRoute]:  # type: ignore[empty-body]
    """JSON endpoints this plugin adds under ``/api/v1/<plugin>/``.

    They get the API's bearer authentication (call ``require_agent()`` from
    ``spoc.core.web.api.base`` in the view), its problem-details errors and rate limit, and they
    appear in ``/api/v1/openapi.json`` and the reference page.

    Arguments: none.

    Returns: a sequence of :class:`spoc.ApiRoute` (paths in OpenAPI syntax, ``/things/{id}``).

    firstresult: no — every enabled plugin's routes are mounted.
    """


@hookspec
def spoc_blueprints() -> Sequence[Blueprint]:  # type: ignore[empty-body]
    """Flask blueprints with the plugin's own pages (a public tracking page, a portfolio view).

    Each is mounted under ``/p/<plugin>/``. Staff pages call ``spoc.console_agent()`` first (it
    redirects to sign-in or refuses); public pages are rate-limited by the core like the portal.
    Forms must carry ``csrf_token()``; templates may extend ``layout.html`` or
    ``console/layout.html``.

    Arguments: none.

    Returns: a sequence of :class:`flask.Blueprint`.

    firstresult: no — every enabled plugin's blueprints are mounted.
    """


@hookspec
def spoc_assist_engines(spoc: Spoc) -> Sequence[SentenceEncoder]:  # type: ignore[empty-body]
    """Semantic engines for assist besides the core's (``lexical``, and ``wordllama`` when
    the ``spoc[assist]`` extra is installed): an organisation's own local embedding model.

    ``SPOC_ASSIST_ENGINE=<name>`` makes one the engine of the portal's and the console's
    suggestions; the worker then embeds every request with it, and ``spoc assist evaluate``
    measures it beside the core's. The model must run on this machine: every request's text
    is given to it.

    Arguments:
        spoc: the app's services (read settings with ``spoc.plugin_settings``).

    Returns: a sequence of :class:`spoc.SentenceEncoder`; names are unique and none is a
    core engine's.

    firstresult: no — every plugin's engines are available.
    """


# --- Intake -------------------------------------------------------------------------------


@hookspec
def spoc_resolve_subject(reference: str, request_type: RequestType, spoc: Spoc) -> int | None:
    """Find the subject a stakeholder means by a reference they know (order number, project
    code), when they file without a subject intake link.

    The core first matches ``Subject.external_ref`` among the subject kinds the request type
    applies to; this hook is asked only when that finds nothing. Must not write.

    Arguments:
        reference: what the stakeholder typed, stripped of surrounding spaces.
        request_type: the :class:`spoc.RequestType` being filed.
        spoc: the application's :class:`spoc.Spoc`, for reading the plugin's own tables.

    Returns: the subject's id, or ``None`` when the reference means nothing to this plugin.

    firstresult: no — if plugins disagree the reference is refused as ambiguous; if none
    knows it, the stakeholder is asked to check it (or to leave it empty for desk triage).
    """


@hookspec
def spoc_contact_subjects(email: str, kinds: Sequence[str], spoc: Spoc) -> Sequence[int]:  # type: ignore[empty-body]
    """The subjects a requester belongs to by this plugin's own records: a customer account's
    verified contacts, a project's sponsor, an event's attendees.

    Asked when a contact signed in by magic link (so ``email`` is proven, never typed) opens a
    form: the subjects named here, with those of their own earlier requests, are offered as
    "which one is it about?", and a choice among them files the request there — also for a
    private kind, so answer only from records the organisation keeps, never from what a
    requester typed. Must not write.

    Arguments:
        email: the signed-in contact's address, lower case.
        kinds: the subject kinds the request type applies to (empty: any kind).
        spoc: the application's :class:`spoc.Spoc`, for reading the plugin's own tables.

    Returns: subject ids (the core keeps those of ``kinds`` and offers at most 20).

    firstresult: no — every plugin's subjects are offered together.
    """


@hookspec
def spoc_classify_request(
    request_type: RequestType, fields: BaseModel, subject: SubjectInfo | None, spoc: Spoc
) -> Priority | None:
    """Propose a priority for a new request, e.g. P1 on a red-flag phrase.

    Called inside the intake transaction, after the fields validated and the request type's
    own ``priority_rule`` ran. Must not write to the database.

    Arguments:
        request_type: the :class:`spoc.RequestType` being filed.
        fields: the validated instance of ``request_type.fields_model``.
        subject: the subject the request is about, or ``None``.
        spoc: the application's :class:`spoc.Spoc` (settings: ``spoc.plugin_settings``).

    Returns: a :class:`spoc.Priority`, or ``None`` to have no opinion.

    firstresult: no — the most urgent of the request type's priority and every plugin's
    answer wins, and the timeline names the plugin that raised it.
    """


@hookspec
def spoc_triage_request(
    request_type: RequestType, fields: BaseModel, subject: SubjectInfo | None, spoc: Spoc
) -> Triage | None:
    """Judge a new request at intake: red-flag words, an emergency, a dispute right.

    Called inside the intake transaction after ``spoc_classify_request``. A returned
    :class:`spoc.Triage` may raise the priority, show the requester a notice at once, and
    escalate the request to a team in the same transaction (so it cannot be lost). Must not
    write to the database.

    Arguments:
        request_type: the :class:`spoc.RequestType` being filed.
        fields: the validated instance of ``request_type.fields_model``.
        subject: the subject the request is about, or ``None``.
        spoc: the application's :class:`spoc.Spoc` (settings: ``spoc.plugin_settings``).

    Returns: a :class:`spoc.Triage`, or ``None`` when there is nothing to say.

    firstresult: no — every notice is shown; the most urgent priority wins; escalations are
    opened in plugin-name order while levels remain.
    """


@hookspec
def spoc_route_request(
    request_type: RequestType,
    fields: BaseModel,
    subject: SubjectInfo | None,
    proposed: Routing,
    spoc: Spoc,
) -> Routing | None:
    """Override who acts for a new request (a team or an agent instead of the acting SPOC).

    ``proposed`` is the core's choice: the subject's SPOC, the first deputy who is not away,
    or the desk team. Must not write to the database.

    Arguments:
        request_type: the :class:`spoc.RequestType` being filed.
        fields: the validated instance of ``request_type.fields_model``.
        subject: the subject the request is about, or ``None``.
        proposed: the core's :class:`spoc.Routing`.
        spoc: the application's :class:`spoc.Spoc` (settings: ``spoc.plugin_settings``).

    Returns: a :class:`spoc.Routing` whose ``reason`` explains the choice, or ``None``.

    firstresult: no — among the overrides, the lowest ``Routing.order`` wins, then the
    plugin name; the winning reason goes into the timeline.
    """


@hookspec
def spoc_request_filed(request: Request, fields: BaseModel, session: Session, spoc: Spoc) -> None:
    """Add the plugin's own rows for a new request inside the intake transaction.

    The request row exists (``request.id`` is set) and is routed; ``session`` is the intake's
    transaction: ``session.add`` rows to the plugin's own tables (an appointment, a deadline to
    watch) and they commit with the request, or not at all. Never change core tables here; an
    exception rolls back the whole intake.

    Arguments:
        request: the new :class:`spoc.core.domain.models.Request` (read-only).
        fields: the validated instance of the request type's ``fields_model``.
        session: the SQLAlchemy session of the intake transaction.
        spoc: the application's :class:`spoc.Spoc`.

    Returns: nothing.

    firstresult: no — every plugin is called, in plugin-name order.
    """


@hookspec
def spoc_sla_policy(
    request: Request, policy: SlaPolicy, at: datetime, session: Session, spoc: Spoc
) -> SlaPolicy | None:
    """Choose the SLA policy for one request at the moment its clocks start (event-day minutes).

    The core picks a policy per request type (with the admin's ``SPOC_SLA_OVERRIDES``); this
    hook lets a plugin choose another for a particular request, e.g. minutes instead of hours
    while the request's event is under way. Called inside the intake transaction when the
    first-response and resolution clocks start, and again when the priority changes (with the
    instant the clock started, so a clock keeps the policy it started under). Must not write.

    Arguments:
        request: the :class:`spoc.core.domain.models.Request` (read-only; ``subject_id`` and
            ``priority`` are set, ``id`` may not be yet).
        policy: the :class:`spoc.SlaPolicy` the core would use.
        at: the instant the clocks start (UTC).
        session: the transaction's SQLAlchemy session, for reading the plugin's own tables.
        spoc: the application's :class:`spoc.Spoc`.

    Returns: a :class:`spoc.SlaPolicy` (its calendar must be defined), or ``None``.

    firstresult: no — the first answer in plugin-name order is used.
    """


# --- After commit -------------------------------------------------------------------------


@hookspec
def spoc_request_event(event: RequestEvent, spoc: Spoc) -> None:
    """React to something that happened to a request: created, status_changed, message…

    Called after the transaction that made the change has committed, once per timeline event.
    An exception here is logged with the plugin's name and does not undo the change. To change
    the request, call the service layer (``app.extensions["spoc"].requests``) — never write to
    core tables directly.

    Arguments:
        event: the :class:`spoc.RequestEvent`; ``event.kind`` is one of ``created``,
            ``status_changed``, ``message``, ``assigned``, ``priority_changed``,
            ``subject_linked``, ``escalated``, ``handed_back``, ``feedback``.
        spoc: the application's :class:`spoc.Spoc`: ``spoc.db`` for the plugin's own
            tables, ``spoc.requests`` / ``spoc.escalations`` for changes to requests.

    Returns: nothing.

    firstresult: no — every plugin is told.
    """


# --- The sweep ----------------------------------------------------------------------------


@hookspec
def spoc_sweep_tasks(spoc: Spoc, now: datetime, limit: int) -> int | None:
    """Do the plugin's periodic work at the start of every sweep pass, and it may write.

    For conditions nobody reported: open a request for a shipment with no scan for a day, an
    update that did not arrive. Runs on every worker, possibly at once: make each step
    idempotent (a unique row per thing and cause, written in the same transaction as the
    request it opens) and bounded by ``limit`` using indexed queries. An exception is logged
    and reported in the pass's errors; the pass goes on.

    Arguments:
        spoc: the application's :class:`spoc.Spoc` (services and the plugin's tables).
        now: the sweep's current instant (UTC, from the injected clock).
        limit: the most items to handle in this pass; the next pass picks up the rest.

    Returns: how many things it did (counted in the pass's report), or ``None``.

    firstresult: no — every plugin's tasks run, in plugin-name order.
    """


@hookspec
def spoc_escalation_checks(  # type: ignore[empty-body]
    spoc: Spoc, now: datetime, limit: int
) -> Sequence[EscalationCheck]:
    """Find requests a domain rule says must be escalated now (ETA slip, missing update).

    Called by every sweep pass (``spoc sweep``, ``spoc worker``), possibly on several machines at
    once. Must use indexed queries bounded by ``limit`` — never a scan of all requests — and must
    not write: the sweep escalates each returned request to ``team_key``, at most once per
    request and ``cause`` (recorded as trigger ``plugin:<name>:<cause>``), under a row lock.

    Arguments:
        spoc: the application's :class:`spoc.Spoc`, for reading the plugin's own tables.
        now: the sweep's current instant (UTC, from the injected clock).
        limit: the most checks to return in one pass; the next pass picks up the rest.

    Returns: a sequence of :class:`spoc.EscalationCheck` (may be empty).

    firstresult: no — every plugin's checks are processed.
    """


@hookspec
def spoc_watch_due(
    watch: Watch, session: Session, spoc: Spoc, now: datetime
) -> WatchOutcome | None:
    """Act on one of the plugin's watches that has fallen due (see ``spoc.watches.arm``).

    Called by the sweep for each due watch, only on the plugin that armed it (the namespace of
    its cause), at most once per firing: inside the transaction that claims the watch — for a
    request's watch, under the request's row lock — and that then does what the answer says
    and settles (or re-arms) it. Whatever the hook writes in ``session`` commits together with
    that; if it raises or answers wrongly, all of it rolls back, the error is reported in the
    pass and the watch stays due for the next pass. Watches armed with ``escalate_to`` alone
    need no implementation. Do not open another transaction here (intake, another request's
    write), and keep the work small and bounded (one watch, its own rows).

    Arguments:
        watch: the :class:`spoc.Watch` falling due (``cause``, ``request_id`` or
            ``subject_id``, ``due_at``, ``escalate_to``, ``reason``); do not settle or move it
            yourself, answer instead.
        session: the sweep's transaction, for the plugin's own rows (a request's watch: the
            request is locked; ``session.get(spoc.Request, watch.request_id)`` reads it).
        spoc: the application's :class:`spoc.Spoc`.
        now: the sweep's current instant (UTC, from the injected clock).

    Returns: ``None`` to settle the watch as armed: the request is escalated to the watch's
    ``escalate_to`` if it has one (once per request and cause, trigger ``plugin:<cause>``;
    skipped when the request is final or at the top level). Or a :class:`spoc.WatchOutcome`
    that decides for this firing: ``escalate`` — the team to escalate the request to now, or
    ``None`` for no escalation at all (the armed ``escalate_to`` is not used), with
    ``reason`` replacing the watch's reason; ``rearm_at`` — instead of settling, the same
    watch falls due again then (later than ``now``: a repeating or moving deadline; its
    escalation still happens once per request and cause). A subject's watch cannot escalate;
    ``escalate`` there, a ``rearm_at`` not after ``now``, or any other answer is refused with
    a :class:`spoc.PluginContractError` naming the plugin.

    firstresult: no — called on the owning plugin only.
    """


@hookspec
def spoc_keep_open(request: Request, session: Session, spoc: Spoc) -> str | None:
    """Say that a request must never be resolved or closed automatically (a medical incident).

    Asked before the system (not a person) resolves or closes a request: the sweep's close
    after ``SPOC_AUTO_CLOSE_DAYS`` of a resolved request and after an unanswered reminder, and
    any plugin that transitions a request as the system. When a plugin answers, the sweep
    leaves the request as it is (the housekeeping clock ends, an internal note says why) and
    a system transition is refused; staff still resolve and close it themselves. Must not
    write.

    Arguments:
        request: the :class:`spoc.core.domain.models.Request` (read-only, row locked).
        session: the transaction's SQLAlchemy session, for reading the plugin's own tables.
        spoc: the application's :class:`spoc.Spoc`.

    Returns: the reason it stays open (shown to staff), or ``None`` to allow.

    firstresult: no — any answer keeps the request open; the reasons are joined.
    """


# --- Console ------------------------------------------------------------------------------


@hookspec
def spoc_console_panels(request: Request, spoc: Spoc) -> Sequence[ConsolePanel] | None:
    """Boxes to show on the console's request page (an appointment, a shipment's tracking).

    Called while rendering, for an agent allowed to see ``request``. Must not write.

    Arguments:
        request: the :class:`spoc.core.domain.models.Request` being shown (read-only).
        spoc: the application's :class:`spoc.Spoc`.

    Returns: a sequence of :class:`spoc.ConsolePanel`, or ``None``.

    firstresult: no — all panels are shown, by ``order`` then title.
    """


@hookspec
def spoc_staff_access(access: StaffAccess, spoc: Spoc) -> AccessRefused | None:
    """A staff member is about to read a request or a subject's record: log it, or ask why.

    Called before the console, the API or the CLI shows a request, its timeline, an export or a
    subject. A plugin may write to its own tables here (an access log) in its own transaction;
    if that fails the read fails. Returning :class:`spoc.AccessRefused` asks the reader for a
    break-glass reason: the console shows a form, the API answers 403 and accepts the reason
    in the ``SPOC-Access-Reason`` header; the next call carries it in ``access.reason``.

    Arguments:
        access: the :class:`spoc.StaffAccess` (who, what, through which channel, whether it is
            theirs, the break-glass reason if given).
        spoc: the application's :class:`spoc.Spoc`.

    Returns: :class:`spoc.AccessRefused` to demand a reason, or ``None`` to allow.

    firstresult: no — every plugin is asked; any refusal refuses.
    """


@hookspec
def spoc_request_exports(request: Request, spoc: Spoc) -> Sequence[Export] | None:
    """Documents a request can be downloaded as (an iCalendar invitation, a FHIR resource).

    Called when a request page is shown (to list them) and when one is downloaded. Must not
    write; ``Export.render`` runs only on download, after the core's authorisation.

    Arguments:
        request: the :class:`spoc.core.domain.models.Request` (read-only).
        spoc: the application's :class:`spoc.Spoc`.

    Returns: a sequence of :class:`spoc.Export`, or ``None``.

    firstresult: no — all plugins' exports are offered; keys must not collide.
    """


@hookspec
def spoc_report_sections(
    report_filter: ReportFilter, session: Session, spoc: Spoc
) -> Sequence[ReportSection] | None:
    """Sections of the console's Reports page about the plugin's own work (follow-up calls
    made in time, exceptions by carrier), shown after the core's, also in the API and as CSV.

    Called for a reader who may read reports. Read only indexed rows of the plugin's own
    tables (or the core's report facts) for ``report_filter.period``; never scan every
    request. Must not write. Build figures with :class:`spoc.Figure` (``Figure.count(n)``,
    or a value with the ``n`` it is made from): any figure from fewer than three requests is
    shown as "fewer than 3" everywhere. Give private request types counts only: no names,
    no summaries.

    Arguments:
        report_filter: the :class:`spoc.ReportFilter`: ``period`` (organisation days, both
            ends included) and the narrowings chosen (type, plugin, team, agent, subject,
            priority, channel); ``previous()`` is the period before, for comparison.
        session: a read-only SQLAlchemy session.
        spoc: the application's :class:`spoc.Spoc`.

    Returns: a sequence of :class:`spoc.ReportSection` (keys unique within the plugin; the
    core prefixes them with the plugin's name), or ``None``.

    firstresult: no — every plugin's sections are shown, by plugin name.
    """


# --- Portal -------------------------------------------------------------------------------


@hookspec
def spoc_portal_panels(request: Request, spoc: Spoc) -> Sequence[ConsolePanel] | None:
    """Boxes to show the requester on their tracking page (a shipment's progress).

    Called while rendering the page for the holder of the request's tracking link. Show only
    what that requester may see. Must not write.

    Arguments:
        request: the :class:`spoc.core.domain.models.Request` (read-only).
        spoc: the application's :class:`spoc.Spoc`.

    Returns: a sequence of :class:`spoc.ConsolePanel`, or ``None``.

    firstresult: no — all panels are shown, by ``order`` then title.
    """


@hookspec
def spoc_form_defaults(
    request_type: RequestType, subject: SubjectInfo | None, spoc: Spoc
) -> Mapping[str, Any] | None:
    """Values to pre-fill a new request's portal form with (the period a report is due for).

    Called when the portal shows an empty form, with the subject of the intake link it was
    opened from (``/s/<token>``), or ``None``. Only the form's own field names count; the
    requester can change every value, and the submission is validated as usual. Must not write.

    Arguments:
        request_type: the :class:`spoc.RequestType` whose form is shown.
        subject: the subject of the intake link, or ``None`` without one.
        spoc: the application's :class:`spoc.Spoc`, for reading the plugin's own tables.

    Returns: a mapping of field name to value, or ``None``.

    firstresult: no — all answers are merged; for a field several plugins fill, the first
    plugin by name wins.
    """


# --- Inbound mail -----------------------------------------------------------------------------


@hookspec
def spoc_inbound_mail(mail: InboundMail, spoc: Spoc) -> MailVerdict | None:
    """Claim, classify or refuse a mail that arrived (``spoc mail serve`` / ``fetch``).

    Called for every mail a person sent (never for automatic mail, bounces, or mail over the
    sender's limit), after threading: ``mail.request_id`` and ``mail.request_type`` name the
    request it answers, or the type its receiving address would file.

    Arguments:
        mail: a :class:`spoc.InboundMail` (sender, recipients, subject, the reply's text).
        spoc: the app's services.

    Returns: ``None`` to let the core thread or file it, or a :class:`spoc.MailVerdict`:
    ``MailVerdict.claim(apply)`` (the plugin handles it; ``apply(session)`` runs in the
    transaction that records the mail, so it happens once), ``MailVerdict.file_as(type_key)``
    (file a new request of this type instead of the address's), ``MailVerdict.refuse(reason)``
    (the content is not stored; the sender is answered with ``reason`` and the owner told that a
    mail came — for private types, whose details must not travel by mail).

    firstresult: no — the first plugin by name that answers decides; ``refuse`` from any
    plugin wins over the others, so a plugin guarding private data is never overruled.
    """


# --- Attachments --------------------------------------------------------------------------


@hookspec
def spoc_scan_attachment(
    filename: str, content_type: str, data: bytes, spoc: Spoc
) -> ScanFinding | None:
    """Scan a file someone attached, before it is stored: answer what was found, or nothing.

    Called for every file that passed the size and type checks, on every channel (portal form,
    tracking-page reply, console reply or note, API, inbound mail), before the request or
    message is written; when ``SPOC_CLAMAV_SOCKET`` is set the core's ClamAV scan has already
    passed. A finding refuses the whole submission with an error on ``attachments`` naming the
    file, and nothing is written. Must not write; never log ``data``.

    Arguments:
        filename: the sanitised file name (no folders).
        content_type: the type detected from the content (``application/pdf``).
        data: the file's bytes.
        spoc: the application's :class:`spoc.Spoc`.

    Returns: a :class:`spoc.ScanFinding` naming what was found, or ``None`` when clean.

    firstresult: no — every plugin is asked, in plugin-name order; the first finding refuses.
    """


# --- Demo data ----------------------------------------------------------------------------


@hookspec
def spoc_demo_data(demo: DemoContext) -> None:
    """Add this plugin's demo data to a fresh demo database (``spoc demo``).

    The core has already created the demo agents and teams (``demo.agents``,
    ``demo.teams``). Create subjects with ``demo.add_subject`` and requests through
    ``demo.requests`` (the service layer), so demo data obeys the same rules as real data.

    Arguments:
        demo: the :class:`spoc.core.domain.demo.DemoContext`.

    Returns: nothing.

    firstresult: no — every enabled plugin adds its data.
    """


def hook_names() -> list[str]:
    return [name for names in PHASES.values() for name in names]


def _all_specs() -> dict[str, Any]:
    return {name: obj for name, obj in globals().items() if name.startswith("spoc_")}
