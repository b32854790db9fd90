"""Discovering, loading and calling plugins.

Plugins are found through the ``spoc.plugins`` entry-point group — the bundled ones too, so
they get no privileges a third-party plugin would not. Installed is not enabled: settings
name the enabled plugins. Every failure at load time stops start-up with a
:class:`~spoc.core.kernel.errors.PluginError` naming the plugin and the cause.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

import click
import pluggy
from pydantic import BaseModel, ValidationError

from spoc.core.kernel.errors import (
    DuplicateContributionError,
    PluginContractError,
    PluginError,
)
from spoc.core.kernel.structures import Structure
from spoc.core.kernel.types import KnowledgeArticle, RequestType, SubjectKind
from spoc.core.platform import hookspecs, references
from spoc.core.platform.dispatch import Dispatcher
from spoc.core.platform.registry import Registry
from spoc.core.platform.settings import Settings

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "spoc.plugins"
BUNDLED_DISTRIBUTION = "spoc"


@dataclass(frozen=True)
class PluginInfo:
    name: str
    module: str
    distribution: str
    version: str
    bundled: bool
    enabled: bool
    hooks: tuple[str, ...] = ()


def installed_entry_points() -> list[EntryPoint]:
    return sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)


def _distribution(ep: EntryPoint) -> tuple[str, str]:
    dist = ep.dist
    if dist is None:
        return "unknown", "unknown"
    return dist.name, dist.version


@dataclass
class PluginHost:
    """The plugin manager and everything the enabled plugins contributed."""

    pm: pluggy.PluginManager
    plugins: list[PluginInfo]
    request_types: Registry[RequestType] = field(
        default_factory=lambda: Registry("request type", lambda t: t.key, lambda t: t.order)
    )
    subject_kinds: Registry[SubjectKind] = field(
        default_factory=lambda: Registry("subject kind", lambda k: k.key, lambda k: k.order)
    )
    structures: Registry[Structure] = field(
        default_factory=lambda: Registry("structure", lambda s: s.key, lambda s: s.order)
    )
    articles: Registry[KnowledgeArticle] = field(
        default_factory=lambda: Registry("knowledge article", lambda a: a.key, lambda a: a.order)
    )
    settings_sections: dict[str, BaseModel] = field(default_factory=dict)
    migration_dirs: dict[str, Path] = field(default_factory=dict)
    cli_commands: list[tuple[str, click.Command]] = field(default_factory=list)

    def completing(self, kind: str) -> Structure | None:
        """The structure that completes subjects of ``kind``, if a plugin declares one."""
        return next((s for s in self.structures if s.subject_kind == kind), None)

    @property
    def enabled(self) -> list[str]:
        return [p.name for p in self.plugins if p.enabled]

    @property
    def calls(self) -> Dispatcher:
        """Typed hook calls for start-up work (the app's services use :class:`Hooks`)."""
        return Dispatcher(self.pm, startup=True)


def load_plugins(settings: Settings, available: Iterable[EntryPoint] | None = None) -> PluginHost:
    """Load the enabled plugins and collect their contributions. Raises :class:`PluginError`."""
    installed: dict[str, EntryPoint] = {}
    for ep in available if available is not None else installed_entry_points():
        if ep.name in installed:
            first, second = _distribution(installed[ep.name])[0], _distribution(ep)[0]
            raise PluginError(
                ep.name, f"installed twice, by distributions {first!r} and {second!r}"
            )
        installed[ep.name] = ep

    bundled = {n for n, ep in installed.items() if _distribution(ep)[0] == BUNDLED_DISTRIBUTION}
    wanted = settings.plugins if settings.plugins is not None else sorted(bundled)
    for name in wanted:
        if name not in installed:
            raise PluginError(
                name,
                "is enabled in SPOC_PLUGINS but not installed "
                f"(installed: {', '.join(sorted(installed)) or 'none'})",
            )

    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    enabled = set(wanted)
    for name in sorted(enabled):
        ep = installed[name]
        try:
            module = ep.load()
        except Exception as exc:
            raise PluginError(
                name, f"failed to import {ep.value!r}: {type(exc).__name__}: {exc}"
            ) from exc
        try:
            pm.register(module, name=name)
        except (ValueError, pluggy.PluginValidationError) as exc:
            raise PluginError(name, str(exc)) from exc
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        name = pm.get_name(exc.plugin) or "unknown"
        callers = pm.get_hookcallers(exc.plugin) or []
        unknown = sorted(c.name for c in callers if not c.has_spec()) or ["?"]
        raise PluginError(name, f"implements unknown hook {', '.join(unknown)}") from exc
    for name in sorted(enabled):
        _refuse_ordering_options(pm, name)

    infos = []
    for name, ep in sorted(installed.items()):
        dist, version = _distribution(ep)
        plugin = pm.get_plugin(name)
        hooks = (
            tuple(sorted(c.name for c in pm.get_hookcallers(plugin) or []))
            if plugin is not None
            else ()
        )
        infos.append(
            PluginInfo(name, ep.value, dist, version, name in bundled, name in enabled, hooks)
        )

    host = PluginHost(pm=pm, plugins=infos)
    _collect(host, settings)
    references.check_contributions(host, settings)
    return host


# pluggy options the core does not honour, and what a plugin does instead.
_UNHONOURED = {
    "wrapper": "SPOC calls every implementation itself, in plugin-name order, so a wrapper "
    "never wraps anything; return a plain answer (or None) instead",
    "hookwrapper": "SPOC calls every implementation itself, in plugin-name order, so a "
    "hookwrapper never wraps anything; return a plain answer (or None) instead",
    "tryfirst": "SPOC orders plugins by name, and by the answer's own `order` where the hook "
    "has one (Routing.order); set that instead",
    "trylast": "SPOC orders plugins by name, and by the answer's own `order` where the hook "
    "has one (Routing.order); set that instead",
}


def _refuse_ordering_options(pm: pluggy.PluginManager, name: str) -> None:
    """Refuse pluggy options that would be silently ignored (see docs/decisions.md)."""
    plugin = pm.get_plugin(name)
    for caller in sorted(pm.get_hookcallers(plugin) or [], key=lambda c: c.name):
        for impl in caller.get_hookimpls():
            if impl.plugin is not plugin:
                continue
            for option, instead in _UNHONOURED.items():
                if getattr(impl, option, False):
                    raise PluginContractError(
                        name, caller.name, f"@hookimpl({option}=True) is not supported: {instead}"
                    )


def _collect(host: PluginHost, settings: Settings) -> None:
    calls = host.calls
    models = dict(calls.each(hookspecs.spoc_settings_model))
    references.check_settings_sections(
        settings.plugin_settings, [p.name for p in host.plugins], host.enabled, models
    )
    for plugin, model in models.items():
        try:
            host.settings_sections[plugin] = model.model_validate(
                settings.plugin_settings.get(plugin, {})
            )
        except ValidationError as exc:
            problems = "; ".join(
                f"SPOC_{plugin.upper()}__{'__'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
                for e in exc.errors()
            )
            raise PluginError(plugin, f"invalid settings: {problems}") from None

    sections = host.settings_sections
    for plugin, types in calls.each(hookspecs.spoc_request_types, settings_sections=sections):
        for request_type in types:
            host.request_types.add(request_type, plugin)
    for plugin, kinds in calls.each(hookspecs.spoc_subject_kinds):
        for kind in kinds:
            host.subject_kinds.add(kind, plugin)
    for plugin, structures in calls.each(hookspecs.spoc_structures):
        for structure in structures:
            host.structures.add(structure, plugin)
            _check_structure(host, plugin, structure)
    for plugin, articles in calls.each(
        hookspecs.spoc_knowledge_articles, settings_sections=sections
    ):
        for article in articles:
            host.articles.add(article, plugin)

    for plugin, folder in calls.each(hookspecs.spoc_migrations):
        path = Path(folder)
        if not path.is_dir():
            raise PluginError(plugin, f"migrations folder {path} does not exist")
        host.migration_dirs[plugin] = path

    seen: dict[str, str] = {}
    for plugin, commands in calls.each(hookspecs.spoc_cli_commands):
        for command in commands:
            if not command.name:
                raise PluginError(plugin, "spoc_cli_commands must return named click commands")
            if command.name in seen:
                raise DuplicateContributionError(
                    "CLI command", command.name, seen[command.name], plugin
                )
            seen[command.name] = plugin
            host.cli_commands.append((plugin, command))


SUBJECT_COLUMNS = ("name", "external_ref", "spoc", "deputies", "subject_name")


def _check_structure(host: PluginHost, plugin: str, structure: Structure) -> None:
    kind_key = structure.subject_kind or structure.parent_kind or ""
    kind = host.subject_kinds.get(kind_key)
    if kind is None:
        raise PluginError(
            plugin, f"structure {structure.key} names unknown subject kind {kind_key}"
        )
    if structure.subject_kind is None:
        return
    others = [s.key for s in host.structures if s.subject_kind == kind_key]
    if len(others) > 1:
        raise PluginError(plugin, f"subject kind {kind_key} is completed twice: {others}")
    attributes = set(kind.attributes_model.model_fields) if kind.attributes_model else set()
    clash = sorted(set(structure.field_names) & (attributes | set(SUBJECT_COLUMNS)))
    if clash:
        raise PluginError(
            plugin, f"structure {structure.key} fields clash with the kind's: {', '.join(clash)}"
        )
