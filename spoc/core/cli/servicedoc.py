"""Render docs/services.md from the ``Spoc`` container's services and their docstrings, so
the reference a plugin author reads is the code's own and cannot drift.

What counts: every attribute of :class:`~spoc.core.services.Spoc` whose annotated type is a
SPOC class (``spoc.requests``, ``spoc.db``, ``spoc.clock``, ...), except the internals listed
in :data:`INTERNAL`, and every public method and property of that class. A base class that
several services share is documented once. The errors a method raises itself (``raise X``
in its body, for X a :class:`~spoc.core.kernel.errors.SpocError`) are listed after its
docstring; a docstring says which others can reach the caller.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import textwrap
import types
import typing
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from spoc.core.domain.reads import states
from spoc.core.kernel import errors
from spoc.core.services import Spoc

INTERNAL = {
    "host": "plugin loading; a plugin gets what it contributes through its hooks",
    "hooks": "the typed dispatcher through which the core calls plugins' hooks",
    "settings": "the core's settings; a plugin reads its own with ``spoc.plugin_settings``",
    "state": "a plugin's per-app objects, a plain dict keyed by plugin name",
}
"""Attributes of ``Spoc`` that are not services a plugin calls."""

NOT_FOR_PLUGINS = {
    "ServiceBase.can_see": "a session-level check the services make before every read",
    "ServiceBase.emit": "how a write announces its timeline events (``spoc_request_event``)",
    "ServiceBase.load_visible": "a session-level read behind ``spoc.requests.get``",
    "ServiceBase.observe": "how a write reaches its observers (the SLA engine)",
    "ServiceBase.observe_late": "how a write reaches its after-commit observers",
    "ServiceBase.require_staff": "the services' own role check",
    "ServiceBase.team_by_key": "a session-level lookup inside a write",
    "RequestReads.subject_for": "a session-level check inside intake",
    "RequestStatus.set_status": "the one writer of a request's status, inside a write",
    "RequestStatus.set_priority": "the one writer of a request's priority, inside a write",
    "AuthService.clear_failures": "part of console sign-in, inside its transaction",
    "SlaEngine.start_waiting_close": "called by the lifecycle inside a status change",
}
"""Public methods that are plumbing between the core's own modules, by ``Class.method``: left
out of the reference (an entry whose method is gone is ignored, so renames stay cheap)."""

READ_FUNCTIONS: tuple[Callable[..., Any], ...] = (
    states.request_states,
    states.open_requests_for,
    states.request_matches,
)
"""Functions of ``spoc`` (not of a service) that plugins read request state with; they take
the caller's session, so they work inside a hook's transaction too."""

ERRORS = {
    name
    for name, value in vars(errors).items()
    if isinstance(value, type) and issubclass(value, errors.SpocError)
}


@dataclasses.dataclass(frozen=True)
class Member:
    name: str
    signature: str
    doc: str
    raises: tuple[str, ...]
    is_property: bool = False


def service_classes() -> dict[str, type]:
    """The services of ``Spoc``, by attribute name, in declaration order."""
    hints = typing.get_type_hints(Spoc)
    found: dict[str, type] = {}
    for field in dataclasses.fields(Spoc):
        if field.name in INTERNAL or field.name.startswith("_"):
            continue
        cls = _spoc_class(hints.get(field.name))
        if cls is not None:
            found[field.name] = cls
    return found


def _spoc_class(hint: Any) -> type | None:
    candidates = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    for candidate in candidates:
        if isinstance(candidate, type) and candidate.__module__.startswith("spoc."):
            return candidate
    return None


def _own_classes(cls: type) -> list[type]:
    return [c for c in cls.__mro__ if c.__module__.startswith("spoc.")]


def shared_bases(classes: dict[str, type]) -> list[type]:
    """Base classes that more than one service inherits from."""
    counts = Counter(base for cls in classes.values() for base in _own_classes(cls)[1:])
    return [base for base, n in counts.items() if n > 1]


def members(cls: type, skip: tuple[type, ...] = ()) -> Iterator[Member]:
    """The public methods and properties ``cls`` defines (itself or through a base not in
    ``skip``), sorted by name."""
    seen: dict[str, Any] = {}
    for owner in reversed(_own_classes(cls)):
        if owner in skip:
            continue
        for name, value in vars(owner).items():
            internal = f"{owner.__name__}.{name}" in NOT_FOR_PLUGINS
            if not name.startswith("_") and not internal and _is_member(value):
                seen[name] = value
    for name in sorted(seen):
        value = seen[name]
        if isinstance(value, property):
            target: Callable[..., Any] | None = value.fget
            signature = ""
        else:
            target = value.__func__ if isinstance(value, staticmethod | classmethod) else value
            signature = _signature(target)
        yield Member(
            name,
            signature,
            inspect.cleandoc(inspect.getdoc(value) or ""),
            _raised(target),
            isinstance(value, property),
        )


def _is_member(value: Any) -> bool:
    return isinstance(value, property | staticmethod | classmethod) or inspect.isfunction(value)


def _signature(function: Any) -> str:
    """The signature as written, without ``self``: annotations are the source's strings (this
    codebase postpones them), defaults their ``repr``."""
    signature = inspect.signature(function)
    parts: list[str] = []
    star_done = False
    for parameter in list(signature.parameters.values()):
        if parameter.name in {"self", "cls"} and not parts:
            continue
        if parameter.kind is parameter.KEYWORD_ONLY and not star_done:
            parts.append("*")
            star_done = True
        prefix = {"VAR_POSITIONAL": "*", "VAR_KEYWORD": "**"}.get(parameter.kind.name, "")
        star_done = star_done or parameter.kind is parameter.VAR_POSITIONAL
        text = prefix + parameter.name
        if parameter.annotation is not parameter.empty:
            text += f": {_annotation(parameter.annotation)}"
        if parameter.default is not parameter.empty:
            text += f" = {parameter.default!r}"
        parts.append(text)
    returns = ""
    if signature.return_annotation is not signature.empty:
        returns = f" -> {_annotation(signature.return_annotation)}"
    return f"({', '.join(parts)}){returns}"


def _annotation(annotation: Any) -> str:
    return annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)


def _raised(function: Any) -> tuple[str, ...]:
    if function is None:
        return ()
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        return ()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and node.exc is not None:
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(target, ast.Name) and target.id in ERRORS:
                names.add(target.id)
    return tuple(sorted(names))


def read_functions() -> list[Member]:
    """The read functions of ``spoc`` (:data:`READ_FUNCTIONS`), as they are documented."""
    return [
        Member(
            f.__name__,
            _signature(f),
            inspect.cleandoc(inspect.getdoc(f) or ""),
            _raised(f),
        )
        for f in READ_FUNCTIONS
    ]


def undocumented() -> list[str]:
    """``attribute.method`` for every member in the reference that has no docstring."""
    missing = [f"Spoc.{m.name}" for m in members(Spoc) if not m.doc]
    missing += [f"spoc.{m.name}" for m in read_functions() if not m.doc]
    classes = service_classes()
    for base in shared_bases(classes):
        missing += [f"{base.__name__}.{m.name}" for m in members(base) if not m.doc]
    skip = tuple(shared_bases(classes))
    for attribute, cls in classes.items():
        missing += [f"spoc.{attribute}.{m.name}" for m in members(cls, skip) if not m.doc]
    return missing


def _render_member(prefix: str, member: Member) -> list[str]:
    if member.is_property:
        lines = [f"### `{prefix}{member.name}` (property)", ""]
    else:
        lines = [
            f"### `{prefix}{member.name}`",
            "",
            "```python",
            f"{prefix}{member.name}{member.signature}",
            "```",
            "",
        ]
    lines += [member.doc or "*Undocumented.*", ""]
    if member.raises:
        lines += ["Raises: " + ", ".join(f"`{name}`" for name in member.raises) + ".", ""]
    return lines


def _render_read_functions() -> list[str]:
    state = states.RequestState
    lines = [
        "## Reading the state of requests: `spoc.request_states` and friends",
        "",
        inspect.cleandoc(states.__doc__ or ""),
        "",
        "They are functions of the `spoc` module (`from spoc import request_states`), not of"
        " the container, and take the caller's SQLAlchemy session.",
        "",
        f"`{state.__name__}`: {inspect.cleandoc(state.__doc__ or '')}",
        "",
        "| Field | Type |",
        "| --- | --- |",
    ]
    pipe = "\\|"  # a "|" inside a table cell
    lines += [
        f"| `{f.name}` | `{str(f.type).replace('|', pipe)}` |" for f in dataclasses.fields(state)
    ]
    properties = [n for n, v in vars(state).items() if isinstance(v, property)]
    lines += ["", "Properties: " + ", ".join(f"`{n}`" for n in properties) + ".", ""]
    for member in read_functions():
        lines += _render_member("spoc.", member)
    return lines


def render_services_reference() -> str:
    classes = service_classes()
    bases = shared_bases(classes)
    lines = [
        "# Services reference",
        "",
        "<!-- Generated from the `Spoc` container's services by `spoc docs services`;"
        " do not edit. -->",
        "",
        "Every hook that takes `spoc` receives the app's `Spoc` container; in a page or command,"
        " `spoc.spoc_of()` finds it. These are the methods a plugin may call on it and on its"
        " services; anything not listed here (a name starting with `_`, `spoc.host`,"
        " `spoc.settings`) may change without notice. Errors are those of `spoc`"
        " (`ValidationFailed`, `PermissionDenied`, `NotFoundError`, `IllegalTransition`,"
        " `ConflictError`, all `ServiceError`s); each method lists those it raises itself.",
        "",
        "## `spoc` — the container",
        "",
        inspect.cleandoc(Spoc.__doc__ or ""),
        "",
        "| Attribute | Service |",
        "| --- | --- |",
    ]
    lines += [
        f"| `spoc.{name}` | [`{cls.__name__}`](#spoc{name}) |" for name, cls in classes.items()
    ]
    lines += [f"| `spoc.{name}` | not a service: {why} |" for name, why in INTERNAL.items()]
    lines.append("")
    for member in members(Spoc):
        lines += _render_member("spoc.", member)
    for base in bases:
        users = ", ".join(f"`spoc.{a}`" for a, c in classes.items() if base in c.__mro__)
        about = inspect.cleandoc(base.__doc__ or "Methods each of these services has.")
        lines += [f"## Common to {users}", "", about, ""]
        for member in members(base):
            lines += _render_member("service.", member)
    for attribute, cls in classes.items():
        lines += [f"## `spoc.{attribute}`", "", f"`{cls.__name__}`.", ""]
        doc = inspect.getdoc(cls)
        if doc and cls.__doc__ is not None:
            lines += [inspect.cleandoc(cls.__doc__), ""]
        for member in members(cls, tuple(bases)):
            lines += _render_member(f"spoc.{attribute}.", member)
    lines += _render_read_functions()
    return "\n".join(line.rstrip() for line in lines).rstrip() + "\n"
