"""Web forms generated from a request type's pydantic model.

The model's JSON Schema is the single description of a form: the HTML carries the same
constraints (required, maxlength, min/max, pattern, type) that pydantic enforces on the
server, and the API publishes the same schema. A plugin customises a field without writing
HTML through ``json_schema_extra``::

    details: str = Field(max_length=500, json_schema_extra={"widget": "textarea"})
    service: Service = Field(json_schema_extra={"widget": "radio", "group": "What you need"})
    tier: Tier = Field(json_schema_extra={"labels": {"gold": "Gold (round the clock)"}})

Widgets: text, textarea, email, tel, number, checkbox, date, datetime-local, time, select,
radio, checkboxes, file. Groups are shown as fieldsets, in the order fields first name them.

A file field is typed :data:`Files`: the form shows a file input, the files become the
request's attachments (checked and stored by the domain, see
:mod:`spoc.core.domain.attachments`), and the field's value is the list of their names.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Annotated, Any, Protocol

from pydantic import BaseModel, Field, ValidationError

LONG_TEXT = 200  # a str allowed to be longer than this gets a textarea

Phone = Annotated[
    str,
    Field(
        min_length=5,
        max_length=32,
        pattern=r"^\+?[0-9 ()./-]{5,32}$",
        json_schema_extra={"widget": "tel"},
    ),
]
"""A telephone number field: ``<input type=tel>``, digits, spaces and + ( ) . / -."""

Files = Annotated[
    list[Annotated[str, Field(max_length=200)]],
    Field(max_length=100, json_schema_extra={"widget": "file"}),
]
"""A file field: ``<input type=file multiple>``. Its value is the names of the files sent,
which are stored as the request's attachments; give it a default (``= []``) to make it
optional, or ``Field(min_length=1)`` to ask for at least one file."""


class FormData(Protocol):
    """What the forms need of a submitted form: werkzeug's MultiDict fits."""

    def get(self, key: str, /) -> Any: ...
    def getlist(self, key: str) -> list[str]: ...


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    widget: str
    required: bool
    help: str = ""
    default: Any = None
    choices: tuple[Choice, ...] = ()
    group: str | None = None
    attrs: Mapping[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"f-{self.name}"


@dataclass(frozen=True)
class FormSpec:
    fields: tuple[FormField, ...]

    def groups(self) -> list[tuple[str | None, list[FormField]]]:
        ordered: dict[str | None, list[FormField]] = {}
        for item in self.fields:
            ordered.setdefault(item.group, []).append(item)
        return list(ordered.items())

    def by_name(self, name: str) -> FormField | None:
        return next((f for f in self.fields if f.name == name), None)


def humanise(name: str) -> str:
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _resolve(schema: Mapping[str, Any], defs: Mapping[str, Any]) -> dict[str, Any]:
    """Inline ``$ref`` and unwrap ``Optional[...]`` (``anyOf [X, null]``)."""
    resolved = dict(schema)
    if "$ref" in resolved:
        target = defs[resolved.pop("$ref").rsplit("/", 1)[-1]]
        resolved = {**target, **resolved}
    if "anyOf" in resolved:
        options = [o for o in resolved["anyOf"] if o.get("type") != "null"]
        if len(options) == 1:
            inner = _resolve(options[0], defs)
            rest = {k: v for k, v in resolved.items() if k != "anyOf"}
            resolved = {**inner, **rest}
    if resolved.get("type") == "array" and isinstance(resolved.get("items"), dict):
        resolved["items"] = _resolve(resolved["items"], defs)
    return resolved


def _choices(schema: Mapping[str, Any]) -> tuple[Choice, ...]:
    labels = schema.get("labels", {})
    return tuple(Choice(str(v), labels.get(str(v), humanise(str(v)))) for v in schema["enum"])


def _widget_and_attrs(prop: Mapping[str, Any]) -> tuple[str, dict[str, str], tuple[Choice, ...]]:
    kind, fmt = prop.get("type"), prop.get("format")
    attrs: dict[str, str] = {}
    choices: tuple[Choice, ...] = ()
    if kind == "array" and "enum" in prop.get("items", {}):
        return "checkboxes", attrs, _choices(prop["items"])
    if "enum" in prop:
        choices = _choices(prop)
        return ("radio" if len(choices) <= 4 else "select"), attrs, choices
    if kind == "boolean":
        return "checkbox", attrs, choices
    if kind in ("integer", "number"):
        attrs["step"] = "1" if kind == "integer" else "any"
        for key, html in (("minimum", "min"), ("maximum", "max")):
            if key in prop:
                attrs[html] = str(prop[key])
        # HTML has no exclusive bounds; the server still enforces them exactly.
        for key, html in (("exclusiveMinimum", "min"), ("exclusiveMaximum", "max")):
            if key in prop:
                attrs[html] = str(prop[key])
        return "number", attrs, choices
    widget = {
        "date": "date",
        "date-time": "datetime-local",
        "time": "time",
        "email": "email",
    }.get(str(fmt), "text")
    if "maxLength" in prop:
        attrs["maxlength"] = str(prop["maxLength"])
    if "minLength" in prop:
        attrs["minlength"] = str(prop["minLength"])
    if "pattern" in prop:
        attrs["pattern"] = str(prop["pattern"]).removeprefix("^").removesuffix("$")
    if widget == "text" and int(prop.get("maxLength", 10_000)) > LONG_TEXT:
        widget = "textarea"
    return widget, attrs, choices


_SPECS: weakref.WeakKeyDictionary[type[BaseModel], FormSpec] = weakref.WeakKeyDictionary()


def form_spec(model: type[BaseModel]) -> FormSpec:
    """Describe ``model`` as form fields, in declaration order. Built once per model: pydantic
    rebuilds the JSON schema on every call, which cost a twelfth of each form GET and POST."""
    spec = _SPECS.get(model)
    if spec is None:
        spec = _SPECS[model] = _build_form_spec(model)
    return spec


def _build_form_spec(model: type[BaseModel]) -> FormSpec:
    schema = model.model_json_schema()
    defs = schema.get("$defs", {})
    required = set(schema.get("required", []))
    fields = []
    for name, raw in schema.get("properties", {}).items():
        prop = _resolve(raw, defs)
        widget, attrs, choices = _widget_and_attrs(prop)
        widget = str(prop.get("widget", widget))
        if widget in ("radio", "select") and not choices and "enum" in prop:
            choices = _choices(prop)
        info = model.model_fields[name]
        fields.append(
            FormField(
                name=name,
                label=info.title or humanise(name),
                widget=widget,
                required=name in required,
                help=str(prop.get("description", "")),
                default=prop.get("default"),
                choices=choices,
                group=prop.get("group"),
                attrs=MappingProxyType(attrs),  # shared by every request: read-only
            )
        )
    return FormSpec(tuple(fields))


TRUTHY = {"on", "true", "1", "yes"}


def read_form(
    spec: FormSpec, form: FormData, files: Mapping[str, Sequence[str]] | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """Turn submitted strings into model input. Returns (values, errors for missing fields).

    Blank optional fields are left out so the model's default applies; a blank required field
    is reported here with the same words the browser would use. ``files`` holds the names of
    the files sent in each file field.
    """
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for item in spec.fields:
        if item.widget == "file":
            names = list((files or {}).get(item.name, ()))
            if names or item.required:
                values[item.name] = names
            if item.required and not names:
                errors[item.name] = "Choose a file"
            continue
        if item.widget == "checkbox":
            values[item.name] = str(form.get(item.name) or "").lower() in TRUTHY
            continue
        if item.widget == "checkboxes":
            chosen = [v for v in form.getlist(item.name) if v]
            if chosen or item.required:
                values[item.name] = chosen
            if item.required and not chosen:
                errors[item.name] = "Choose at least one"
            continue
        raw = form.get(item.name)
        text = str(raw).strip() if raw is not None else ""
        if text:
            values[item.name] = text
        elif item.required:
            errors[item.name] = "This field is required"
    return values, errors


def validate_form(
    model: type[BaseModel], form: FormData, files: Mapping[str, Sequence[str]] | None = None
) -> tuple[BaseModel | None, dict[str, Any], dict[str, str]]:
    """Validate a submitted form. Returns (instance or None, values to re-display, errors)."""
    spec = form_spec(model)
    values, errors = read_form(spec, form, files)
    try:
        instance = model.model_validate(values)
    except ValidationError as exc:
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "__all__"
            errors.setdefault(name, error["msg"].removeprefix("Value error, "))
        return None, values, errors
    if errors:
        return None, values, errors
    return instance, values, errors
