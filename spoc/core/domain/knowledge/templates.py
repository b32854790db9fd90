"""Saved-reply templates: ``{{ requester.first_name }}`` and friends, and nothing else.

A template is written by staff and rendered for a request, so it must not be able to run
code or read what its variables do not offer. Three walls, each failing closed:

* **what it may say**: before anything renders, the parsed template is checked against a
  short list of allowed constructs — text, the listed variables (a group and one of its
  parts: ``request.reference``), ``if``/``else``, comparisons, ``~`` and a few text filters.
  Calls, loops, assignments, macros, includes, arithmetic and any other name are refused;
* **what it may reach**: Jinja's :class:`~jinja2.sandbox.SandboxedEnvironment` with no
  globals (no ``cycler``, ``range``, ``lipsum``…), calls refused outright, a variable's parts
  looked up as dict keys only (never attributes), and
  :class:`~jinja2.StrictUndefined`, so an unknown name or part is an error, never empty text;
* **what it holds**: the values are plain dicts of strings built for the purpose (never ORM
  rows or services), so even an attribute the sandbox let through has nothing behind it.

Autoescape is off: the body is plain text for a reply box, escaped where it is shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined, TemplateError, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from spoc.core.kernel.errors import ValidationFailed

MAX_TEMPLATE = 10_000
MAX_OUTPUT = 20_000  # what a message may hold
SAFE_FILTERS = frozenset({"upper", "lower", "title", "capitalize", "trim"})
ALLOWED_NODES: tuple[type[nodes.Node], ...] = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.If,
    nodes.Name,
    nodes.Getattr,
    nodes.Getitem,
    nodes.Const,
    nodes.Concat,
    nodes.Compare,
    nodes.Operand,
    nodes.And,
    nodes.Or,
    nodes.Not,
    nodes.CondExpr,
    nodes.Filter,
    nodes.Test,
)
SAFE_TESTS = frozenset({"defined", "undefined", "none", "string"})

# What a template may name, with the sample values a template is tried on when it is saved.
SAMPLE: dict[str, dict[str, str]] = {
    "requester": {"first_name": "Maria", "name": "Maria Anders"},
    "request": {
        "reference": "REQ-00042",
        "summary": "Where is my invoice?",
        "type": "General question",
        "status": "In progress",
    },
    "spoc": {"name": "Dana Reyes"},
    "agent": {"name": "Lee Chen", "first_name": "Lee"},
}
VARIABLES = tuple(f"{group}.{name}" for group, names in SAMPLE.items() for name in names)


class TemplateRefused(ValidationFailed):
    """A saved reply's template that cannot be used; ``errors`` names ``body``."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"the saved reply cannot be used: {reason}", {"body": reason})


class _ClosedSandbox(SandboxedEnvironment):
    """The sandbox with calls refused: a saved reply never calls anything, even a method the
    default sandbox thinks is safe (``'x'.format``)."""

    def call(self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        raise SecurityError("a saved reply cannot call anything")

    # A part of a variable is a key of its dict, never an attribute of any object.
    def getattr(self, obj: Any, attribute: str) -> Any:
        return self.getitem(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(obj, dict) and isinstance(argument, str) and argument in obj:
            return obj[argument]
        return self.undefined(obj=obj, name=argument)


def _environment() -> SandboxedEnvironment:
    env = _ClosedSandbox(autoescape=False, undefined=StrictUndefined, keep_trailing_newline=True)
    env.globals.clear()
    env.filters = {name: env.filters[name] for name in SAFE_FILTERS}
    env.tests = {name: env.tests[name] for name in SAFE_TESTS}
    return env


_ENV = _environment()


def _check(tree: nodes.Template) -> None:
    # Every name is one of the groups, followed by one of its parts: nothing else reaches
    # the values, not even a dict's own methods (``request.items``) or ``self``.
    parts: dict[int, str] = {}
    for part in tree.find_all((nodes.Getattr, nodes.Getitem)):
        if isinstance(part, nodes.Getattr):
            parts[id(part.node)] = part.attr
        elif (
            isinstance(part, nodes.Getitem)
            and isinstance(part.arg, nodes.Const)
            and isinstance(part.arg.value, str)
        ):
            parts[id(part.node)] = part.arg.value
        else:
            raise TemplateRefused("only names may follow a variable (requester.name)")
        if not isinstance(part.node, nodes.Name):
            raise TemplateRefused(f"'{parts[id(part.node)]}' is not a variable; use {_variables()}")
    for node in tree.find_all(nodes.Node):
        if not isinstance(node, ALLOWED_NODES):
            raise TemplateRefused(f"{_describe(node)} is not allowed; use {_variables()}")
        if isinstance(node, nodes.Name):
            if node.ctx != "load":
                raise TemplateRefused("assignments are not allowed")
            named = parts.get(id(node))
            if node.name not in SAMPLE or named not in SAMPLE[node.name]:
                name = node.name if named is None else f"{node.name}.{named}"
                raise TemplateRefused(f"'{name}' is not a variable; use {_variables()}")
        if isinstance(node, nodes.Filter) and (
            node.name not in SAFE_FILTERS or node.args or node.kwargs or node.dyn_args
        ):
            allowed = ", ".join(sorted(SAFE_FILTERS))
            raise TemplateRefused(f"the filter '{node.name}' is not allowed; use {allowed}")
        if isinstance(node, nodes.Test) and node.name not in SAFE_TESTS:
            raise TemplateRefused(f"the test '{node.name}' is not allowed")


def _describe(node: nodes.Node) -> str:
    words = {
        "Call": "calling a function or method",
        "For": "a loop",
        "Assign": "an assignment",
        "AssignBlock": "an assignment",
        "Macro": "a macro",
        "Include": "an include",
        "Import": "an import",
        "FromImport": "an import",
        "Extends": "extends",
        "Add": "arithmetic",
        "Sub": "arithmetic",
        "Mul": "arithmetic",
        "Div": "arithmetic",
        "FloorDiv": "arithmetic",
        "Mod": "arithmetic",
        "Pow": "arithmetic",
    }
    return words.get(type(node).__name__, f"'{type(node).__name__}'")


def _variables() -> str:
    return ", ".join("{{ " + v + " }}" for v in VARIABLES)


def check_template(body: str) -> None:
    """Refuse (``TemplateRefused`` naming ``body``) a template that does not parse, uses
    anything but the allowed constructs, or fails on the sample values."""
    render_template(body, SAMPLE)


def render_template(body: str, values: Mapping[str, Mapping[str, str]]) -> str:
    """``body`` rendered with ``values`` (plain dicts of strings), or ``TemplateRefused``."""
    if len(body) > MAX_TEMPLATE:
        raise TemplateRefused(f"at most {MAX_TEMPLATE:,} characters")
    try:
        tree = _ENV.parse(body)
    except TemplateError as exc:
        raise TemplateRefused(f"line {getattr(exc, 'lineno', '?')}: {exc.message}") from None
    _check(tree)
    plain = {group: {k: str(v) for k, v in names.items()} for group, names in values.items()}
    try:
        text = _ENV.from_string(body).render(plain)
    except SecurityError as exc:
        raise TemplateRefused(f"not allowed: {exc}") from None
    except TemplateError as exc:
        raise TemplateRefused(f"{exc.message}; use {_variables()}") from None
    if len(text) > MAX_OUTPUT:
        raise TemplateRefused(f"the reply would be longer than {MAX_OUTPUT:,} characters")
    return text
