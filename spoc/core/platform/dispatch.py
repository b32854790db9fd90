"""The one way the core calls plugins: typed, checked, and naming the plugin when it is wrong.

A call site names the hook by its specification — ``hooks.each(hookspecs.spoc_triage_request,
request=..., ...)`` — so mypy checks the arguments against the spec and knows the answer's
type. At run time each answer is checked against the spec's declared return type; a wrong one
raises :class:`~spoc.core.kernel.errors.PluginContractError` naming the plugin, the hook, what
was expected and what came back, instead of failing later somewhere else.

Implementations run in plugin-name order, so an outcome never depends on registration order
(pluggy's ``tryfirst``/``trylast``/wrappers are refused at load, see
:mod:`spoc.core.platform.plugins`). With ``isolate=True`` (the sweep, after-commit events) a
plugin that raises or answers wrongly is logged and reported, and the others still run.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import logging
import sys
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from types import NoneType, UnionType
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, ParamSpec, TypeVar

import pluggy

from spoc.core.kernel.errors import PluginContractError
from spoc.core.platform import hookspecs

if TYPE_CHECKING:
    from spoc.core.services import Spoc

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")


class Answer(NamedTuple, Generic[R]):
    """One plugin's non-``None`` answer to a hook: ``for plugin, value in hooks.each(...)``."""

    plugin: str
    value: R


@dataclass
class Failure:
    """A plugin that failed in an isolated call: what it was and why."""

    plugin: str
    hook: str
    error: Exception

    def __str__(self) -> str:
        return f"{self.plugin}: {type(self.error).__name__}: {self.error}"


@dataclass
class Dispatcher:
    """Calls hooks on the enabled plugins (at start-up, before the services exist)."""

    pm: pluggy.PluginManager
    # At start-up, a contribution that refuses to be built (a RequestType with a bad key, an
    # SlaPolicy given a timedelta) raises TypeError/ValueError inside the plugin's hook:
    # reported as a PluginContractError naming the plugin and the hook.
    startup: bool = field(default=False, kw_only=True)

    def each(
        self, spec: Callable[P, R | None], *args: P.args, **kwargs: P.kwargs
    ) -> list[Answer[R]]:
        """Every plugin's non-``None`` answer, in plugin-name order; the first failure
        propagates (a :class:`PluginContractError` for a wrong answer)."""
        assert not args, "hooks take keyword arguments only"
        return list(self._answers(spec, kwargs, isolate=False))

    def each_isolated(
        self, spec: Callable[P, R | None], *args: P.args, **kwargs: P.kwargs
    ) -> tuple[list[Answer[R]], list[Failure]]:
        """Like :meth:`each`, but a plugin that raises or answers wrongly is logged and
        returned as a :class:`Failure`; the other plugins still run."""
        assert not args, "hooks take keyword arguments only"
        failures: list[Failure] = []
        answers = list(self._answers(spec, kwargs, isolate=True, failures=failures))
        return answers, failures

    def first(
        self, spec: Callable[P, R | None], *args: P.args, **kwargs: P.kwargs
    ) -> Answer[R] | None:
        """The first plugin's (by name) non-``None`` answer, or ``None``; later plugins are
        not called."""
        assert not args, "hooks take keyword arguments only"
        return next(iter(self._answers(spec, kwargs, isolate=False)), None)

    def notify(self, spec: Callable[P, None], *args: P.args, **kwargs: P.kwargs) -> list[Failure]:
        """Tell every plugin; each failure is logged by plugin and hook and returned."""
        assert not args, "hooks take keyword arguments only"
        failures: list[Failure] = []
        for _ in self._answers(spec, kwargs, isolate=True, failures=failures):
            pass
        return failures

    def ask(
        self, plugin: str, spec: Callable[P, R | None], *args: P.args, **kwargs: P.kwargs
    ) -> R | None:
        """Only ``plugin``'s answer (a hook addressed to one plugin, as a watch's cause names
        its plugin); ``None`` if it does not implement the hook."""
        assert not args, "hooks take keyword arguments only"
        answers = self._answers(spec, kwargs, isolate=False, only=plugin)
        found = next(iter(answers), None)
        return found.value if found is not None else None

    def implemented(self, spec: Callable[..., Any]) -> bool:
        """Whether any enabled plugin implements the hook (to skip work nobody listens to)."""
        return bool(self._caller(spec).get_hookimpls())

    def implementers(self, spec: Callable[..., Any]) -> list[str]:
        return sorted(impl.plugin_name for impl in self._caller(spec).get_hookimpls())

    # --- internals -----------------------------------------------------------------------

    def _caller(self, spec: Callable[..., Any]) -> pluggy.HookCaller:
        name = spec.__name__
        if getattr(hookspecs, name, None) is not spec:
            raise TypeError(f"{name} is not a SPOC hook specification")
        caller: pluggy.HookCaller = getattr(self.pm.hook, name)
        return caller

    def _answers(
        self,
        spec: Callable[..., Any],
        kwargs: Mapping[str, Any],
        *,
        isolate: bool,
        failures: list[Failure] | None = None,
        only: str | None = None,
    ) -> Iterator[Answer[Any]]:
        name = spec.__name__
        given = dict(kwargs)
        for impl in sorted(self._caller(spec).get_hookimpls(), key=lambda i: i.plugin_name):
            if only is not None and impl.plugin_name != only:
                continue
            try:
                try:
                    result = impl.function(**{arg: given[arg] for arg in impl.argnames})
                except (TypeError, ValueError) as exc:
                    if not self.startup:
                        raise
                    raise PluginContractError(impl.plugin_name, name, str(exc)) from exc
                if result is None:
                    continue
                check_answer(spec, impl.plugin_name, result)
            except Exception as exc:
                if not isolate:
                    raise
                log.exception("plugin %r failed in %s", impl.plugin_name, name)
                failure = Failure(impl.plugin_name, name, exc)
                if failures is not None:
                    failures.append(failure)
                continue
            yield Answer(impl.plugin_name, result)


@dataclass
class Hooks(Dispatcher):
    """Calls hooks on the enabled plugins of one app.

    ``spoc`` is the container plugins receive as their ``spoc`` argument: a service passes
    ``spoc=hooks.spoc`` on and never uses the container itself."""

    spoc: Spoc


def check_answer(spec: Callable[..., Any], plugin: str, answer: object) -> None:
    """Raise :class:`PluginContractError` unless ``answer`` fits ``spec``'s return type."""
    expected = _return_type(spec)
    if not _conforms(answer, expected):
        expected_text, got = _mismatch(answer, expected)
        raise PluginContractError(plugin, spec.__name__, expected=expected_text, got=got)


class _NotLoaded:
    """Stands for a class whose module is not imported: no object can be an instance of it."""


class _Names(dict[str, Any]):
    """The names in the hookspecs' annotations. Those imported only for type checking are
    looked up in modules already imported — never importing one, so the platform layer does
    not load the layers above it; a class from a module nobody imported has no instances."""

    def __init__(self) -> None:
        super().__init__(vars(hookspecs))
        self.update(vars(typing))
        self.deferred = _type_checking_imports()

        self.incomplete = False

    def __missing__(self, key: str) -> Any:
        if key not in self.deferred and hasattr(builtins, key):
            return getattr(builtins, key)
        module_name, attr = self.deferred.get(key, (key, None))
        module = sys.modules.get(module_name)
        if module is None:
            self.incomplete = True
            return _NotLoaded if attr else _UnloadedModule()
        return getattr(module, attr) if attr else module


class _UnloadedModule:
    def __getattr__(self, name: str) -> type[_NotLoaded]:
        return _NotLoaded


@cache
def _type_checking_imports() -> dict[str, tuple[str, str | None]]:
    tree = ast.parse(inspect.getsource(hookspecs))
    found: dict[str, tuple[str, str | None]] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for statement in node.body:
                if isinstance(statement, ast.ImportFrom) and statement.module:
                    for alias in statement.names:
                        found[alias.asname or alias.name] = (statement.module, alias.name)
                elif isinstance(statement, ast.Import):
                    for alias in statement.names:
                        found[alias.asname or alias.name] = (alias.name, None)
    return found


_RESOLVED: dict[str, Any] = {}


def _return_type(spec: Callable[..., Any]) -> Any:
    resolved = _RESOLVED.get(spec.__name__)
    if resolved is not None:
        return resolved
    annotation = spec.__annotations__.get("return", "Any")
    if not isinstance(annotation, str):
        return annotation
    names = _Names()
    resolved = eval(annotation, {}, names)  # noqa: S307 - our own hookspecs' annotations
    if not names.incomplete:  # else a module imported later may resolve a name: ask again
        _RESOLVED[spec.__name__] = resolved
    return resolved


def _conforms(value: object, expected: Any) -> bool:
    if expected is Any or expected is object:
        return True
    if expected is None or expected is NoneType:
        return value is None
    origin = typing.get_origin(expected)
    arguments = typing.get_args(expected)
    if origin in (typing.Union, UnionType):
        return any(_conforms(value, option) for option in arguments)
    if origin is type:
        return isinstance(value, type) and (
            not arguments or (_is_class(arguments[0]) and issubclass(value, arguments[0]))
        )
    if origin is not None and _is_class(origin):
        if not isinstance(value, origin):
            return False
        if origin in (str, bytes) or not arguments:
            return True
        if issubclass(origin, Mapping):
            assert isinstance(value, Mapping)
            key, item = arguments
            return all(_conforms(k, key) and _conforms(v, item) for k, v in value.items())
        if issubclass(origin, Sequence):
            if isinstance(value, str | bytes):
                return False  # text is a sequence of characters, never a list of answers
            return all(_conforms(item, arguments[0]) for item in value)
        return True
    if _is_class(expected):
        if expected is _NotLoaded:
            return False
        if expected in (Sequence, list, tuple) and isinstance(value, str | bytes):
            return False
        return isinstance(value, expected)
    return True  # a form this checker does not know is not refused


def _is_class(candidate: Any) -> bool:
    return isinstance(candidate, type)


def _mismatch(value: object, expected: Any) -> tuple[str, str]:
    """(what was expected, what came) — for a list, the first item that does not fit."""
    options = [o for o in typing.get_args(expected) if o is not NoneType] or [expected]
    if typing.get_origin(expected) in (typing.Union, UnionType) and len(options) == 1:
        expected = options[0]
    origin = typing.get_origin(expected)
    if (
        origin is not None
        and _is_class(origin)
        and issubclass(origin, Sequence)
        and isinstance(value, Sequence)
        and not isinstance(value, str | bytes)
    ):
        (item_type,) = typing.get_args(expected) or (Any,)
        for item in value:
            if not _conforms(item, item_type):
                return f"{_describe(item_type)} items", f"a list holding {_got(item)}"
    return _describe(expected), _got(value)


def _describe(expected: Any) -> str:
    """A type as a plugin author writes it: ``Sequence[RequestType]``, ``Priority | None``."""
    if expected is None or expected is NoneType:
        return "None"
    origin = typing.get_origin(expected)
    arguments = typing.get_args(expected)
    if origin in (typing.Union, UnionType):
        return " | ".join(_describe(option) for option in arguments)
    if origin is not None:
        name = getattr(origin, "__name__", str(origin))
        return f"{name}[{', '.join(_describe(a) for a in arguments)}]" if arguments else name
    if expected is Any:
        return "Any"
    return str(getattr(expected, "__name__", expected))


def _got(value: object) -> str:
    return type(value).__name__
