"""The guided assistant: a chat-style page over the same forms.

From a free-text description it shows what may already answer it (articles and replies to
similar resolved requests, each cited; or says it has none), proposes the request type, then
asks that type's fields one at a time, each checked with the form's own validation, and ends
on the request form's own submit (``portal.submit_request``), so the request is filed, its
files stored and its requester told exactly as from the form.

Nothing is kept on the server between steps: the description, the type and the answers so
far travel in the page's hidden inputs, so the page works without JavaScript and in several
tabs. Files are asked for on the last step, in the form that files the request (a browser
cannot carry a chosen file from one page to the next).
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from werkzeug.datastructures import MultiDict

from spoc.core.kernel.types import RequestType
from spoc.core.services import spoc_of
from spoc.core.web.forms import FormField, form_spec, validate_form
from spoc.core.web.portal.assist import suggestions_for
from spoc.core.web.portal.views import bp

ANSWER = "a."  # the prefix of the answers carried in hidden inputs


def _asked(request_type: RequestType) -> list[FormField]:
    """The fields asked one at a time: all but the file fields (asked when filing)."""
    return [f for f in form_spec(request_type.fields_model).fields if f.widget != "file"]


def _answers(form: MultiDict[str, str]) -> MultiDict[str, str]:
    """The answers so far, under their field names."""
    found: MultiDict[str, str] = MultiDict()
    for key in form:
        if key.startswith(ANSWER):
            for value in form.getlist(key):
                found.add(key.removeprefix(ANSWER), value)
    return found


def _first_text_field(fields: list[FormField]) -> FormField | None:
    return next((f for f in fields if f.widget in ("text", "textarea")), None)


@bp.route("/assistant", methods=["GET", "POST"])
def assistant() -> str | tuple[str, int]:
    spoc = spoc_of()
    form: MultiDict[str, str] = request.form if request.method == "POST" else MultiDict()
    description = form.get("description", "").strip()[:2000]
    context: dict[str, Any] = {"description": description, "answers": MultiDict(), "step": None}
    if not description:
        return render_template("portal/assistant.html", **context, stage="describe")
    found = suggestions_for(spoc, description)
    context.update(found=found, titles={t.key: t.title for t in spoc.host.request_types})
    if found.error:
        return render_template("portal/assistant.html", **context, stage="describe"), 422
    chosen = spoc.host.request_types.get(form.get("type", ""))
    if chosen is None:
        return render_template("portal/assistant.html", **context, stage="choose")
    fields = _asked(chosen)
    answers = _answers(form)
    step = int(form.get("step", "0")) if form.get("step", "0").isdigit() else 0
    step = min(step, len(fields))
    if "step" not in form:  # the type was just chosen: start from what was described
        first = _first_text_field(fields)
        if first is not None and first.name not in answers:
            limit = int(first.attrs.get("maxlength", "2000") or 2000)
            answers[first.name] = description[:limit]
    context.update(request_type=chosen, fields=fields, answers=answers, step=step, errors={})
    if request.form.get("answered") == "yes" and step < len(fields):
        # The field just answered: checked with the form's own rules, the others left alone.
        current = fields[step]
        answers.setlist(current.name, [v for v in form.getlist(current.name) if v != ""])
        _, _, errors = validate_form(chosen.fields_model, answers)
        if current.name in errors:
            context["errors"] = {current.name: errors[current.name]}
            return render_template("portal/assistant.html", **context, stage="field"), 422
        step += 1
        context["step"] = step
    if step < len(fields):
        return render_template("portal/assistant.html", **context, stage="field")
    _, values, errors = validate_form(chosen.fields_model, answers, _no_files(chosen))
    if errors:
        # An earlier answer the form refuses as a whole (fields checked together): ask again.
        name = next(iter(errors))
        at = next((i for i, f in enumerate(fields) if f.name == name), len(fields) - 1)
        context.update(step=at, errors={name: errors[name]})
        return render_template("portal/assistant.html", **context, stage="field"), 422
    files = [f for f in form_spec(chosen.fields_model).fields if f.widget == "file"]
    context.update(files=files, values=values)
    return render_template("portal/assistant.html", **context, stage="file")


def _no_files(request_type: RequestType) -> dict[str, list[str]]:
    """File fields count as answered here: the last step's form sends them, and the request
    form's own submit checks them."""
    return {
        f.name: ["(chosen when filing)"]
        for f in form_spec(request_type.fields_model).fields
        if f.widget == "file" and f.required
    }
