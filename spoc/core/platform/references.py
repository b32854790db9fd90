"""What start-up checks in the enabled plugins' settings and contributions.

A contribution that names something nobody declared is otherwise found out late or never: an
escalation to a mistyped team creates that team, empty, and the request waits there for
nobody; a setting for a plugin that reads none is silently ignored. So before the app is
built, every key a plugin contributes must be namespaced by the plugin (``<plugin>.<name>``),
and every team, subject kind, calendar and request type it names must be known. Each refusal
is a :class:`~spoc.core.kernel.errors.PluginError` naming the plugin, the contribution and the
field.

Known teams are the core's (``SPOC_DESK_TEAM``, ``SPOC_SLA_SPECIALIST_TEAM``,
``SPOC_SLA_AUTHORITY_TEAM``), the deployment's own (``SPOC_TEAMS``), and the teams the enabled
plugins bring: the defaults of their :data:`~spoc.core.kernel.types.TeamKey` settings.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Annotated, Any, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from spoc.core.kernel.errors import PluginError
from spoc.core.kernel.types import NAMES_A_TEAM
from spoc.core.platform.settings import ENV_PREFIX, NESTED, Settings

if TYPE_CHECKING:
    from spoc.core.platform.plugins import PluginHost


def check_settings_sections(
    sections: Mapping[str, Mapping[str, Any]],
    installed: Iterable[str],
    enabled: Iterable[str],
    models: Mapping[str, type[BaseModel]],
) -> None:
    """Refuse a settings section nobody reads: for a plugin that is not installed, for an
    enabled plugin without settings, or a key that is not one of the plugin's settings. A
    section of an installed but disabled plugin waits, unread, for the plugin to be enabled."""
    installed, enabled = set(installed), set(enabled)
    for plugin, section in sorted(sections.items()):
        first = _env_name(plugin, (min(section) if section else "*",))
        if plugin not in installed:
            raise PluginError(
                plugin,
                f"{first} is set, but no plugin {plugin!r} is installed "
                f"(installed: {', '.join(sorted(installed)) or 'none'})",
            )
        if plugin not in enabled:
            continue
        model = models.get(plugin)
        if model is None:
            raise PluginError(plugin, f"{first} is set, but the plugin has no settings")
        if model.model_config.get("extra") == "allow":
            continue
        names = {n for name, f in model.model_fields.items() for n in (name, f.alias) if n}
        for key in sorted(section):
            if key not in names:
                raise PluginError(
                    plugin,
                    f"{_env_name(plugin, (key,))} is not one of the plugin's settings "
                    f"(its settings: {', '.join(sorted(model.model_fields))})",
                )


def check_contributions(host: PluginHost, settings: Settings) -> None:
    """Refuse un-namespaced keys and names of unknown teams, subject kinds, calendars and
    request types in the enabled plugins' contributions. The first problem stops start-up:
    settings first, then subject kinds, request types, articles and commands, each in
    plugin-name order."""
    teams = known_teams(host, settings)
    for plugin, section in sorted(host.settings_sections.items()):
        for path, key in team_settings(section):
            if key not in teams:
                raise PluginError(
                    plugin,
                    f"setting {'.'.join(path)!r} ({_env_name(plugin, path)}) names unknown "
                    f"team {key!r} ({_known('teams', teams)}; a team of the deployment's own "
                    "goes in SPOC_TEAMS)",
                )

    kinds = host.subject_kinds
    for kind in sorted(kinds, key=lambda k: (kinds.owner(k.key) or "", k.key)):
        _namespaced(kinds.owner(kind.key), "subject kind", kind.key)

    types = host.request_types
    calendars = settings.calendar_names
    for request_type in sorted(types, key=lambda t: (types.owner(t.key) or "", t.key)):
        plugin = types.owner(request_type.key) or "?"
        what = f"request type {request_type.key!r}"
        _namespaced(plugin, "request type", request_type.key)
        for kind_key in request_type.subject_kinds:
            if kind_key not in kinds:
                raise PluginError(
                    plugin,
                    f"{what} field 'subject_kinds' names unknown subject kind {kind_key!r} "
                    f"({_known('subject kinds', kinds.names())})",
                )
        team = request_type.specialist_team
        if team is not None and team not in teams:
            raise PluginError(
                plugin,
                f"{what} field 'specialist_team' names unknown team {team!r} "
                f"({_known('teams', teams)}; make it a TeamKey setting of the plugin, or "
                "list it in SPOC_TEAMS)",
            )
        if request_type.sla is not None and request_type.sla.calendar not in calendars:
            raise PluginError(
                plugin,
                f"{what} field 'sla.calendar' names unknown calendar "
                f"{request_type.sla.calendar!r} ({_known('calendars', calendars)}; "
                "see SPOC_CALENDARS)",
            )

    articles = host.articles
    for article in sorted(articles, key=lambda a: (articles.owner(a.key) or "", a.key)):
        plugin = articles.owner(article.key) or "?"
        _namespaced(plugin, "knowledge article", article.key)
        for type_key in article.request_types:
            if type_key not in types:
                raise PluginError(
                    plugin,
                    f"knowledge article {article.key!r} field 'request_types' names unknown "
                    f"request type {type_key!r} ({_known('request types', types.names())})",
                )

    for plugin, command in host.cli_commands:
        name = command.name or ""
        if name != plugin and not name.startswith(f"{plugin}-"):
            raise PluginError(
                plugin,
                f"CLI command {name!r} is not namespaced by its plugin: name it {plugin!r} "
                f"(a group) or '{plugin}-<name>'",
            )


def known_teams(host: PluginHost, settings: Settings) -> set[str]:
    """The teams contributions may name: the core's, ``SPOC_TEAMS`` and those the enabled
    plugins bring (the defaults of their ``TeamKey`` settings)."""
    teams = set(settings.core_teams)
    for section in host.settings_sections.values():
        try:
            defaults = type(section).model_validate({})
        except ValidationError:
            continue  # a model with required fields declares no defaults
        teams.update(key for _, key in team_settings(defaults))
    return teams


def team_settings(
    section: BaseModel, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], str]]:
    """``(field path, team key)`` for each team a settings section names through ``TeamKey``
    fields (also inside lists, mappings and nested models)."""
    for name, info in type(section).model_fields.items():
        value = getattr(section, name)
        where = (*path, name)
        if _names_a_team(info):
            for key in _strings(value):
                yield where, key
        elif isinstance(value, BaseModel):
            yield from team_settings(value, where)


def _names_a_team(info: FieldInfo) -> bool:
    return NAMES_A_TEAM in info.metadata or _annotation_names_a_team(info.annotation)


def _annotation_names_a_team(annotation: Any) -> bool:
    if get_origin(annotation) is Annotated and NAMES_A_TEAM in annotation.__metadata__:
        return True
    return any(_annotation_names_a_team(arg) for arg in get_args(annotation))


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _strings(item)


def _namespaced(plugin: str | None, kind: str, key: str) -> None:
    if plugin is not None and key.split(".", 1)[0] != plugin:
        raise PluginError(
            plugin,
            f"{kind} {key!r} field 'key' is not namespaced by its plugin: "
            f"write '{plugin}.{key.split('.', 1)[-1]}'",
        )


def _env_name(plugin: str, path: Iterable[str]) -> str:
    return (ENV_PREFIX + NESTED.join((plugin, *path))).upper()


def _known(what: str, names: Iterable[str]) -> str:
    listed = sorted(names)
    return f"known {what}: {', '.join(listed)}" if listed else f"no {what} are declared"
