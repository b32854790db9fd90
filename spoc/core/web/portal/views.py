"""Portal pages: catalogue, generated forms, confirmation, tracking, "all my requests".

A requester is identified only by a secret: the tracking token of one request, or a magic
link that signs them in to the list of their own requests for a short while.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from pydantic import ValidationError
from sqlalchemy import select
from werkzeug.wrappers import Response

from spoc.core.domain.attachments import FIELD as ATTACHMENTS
from spoc.core.domain.attachments import Upload, safe_filename
from spoc.core.domain.links import MagicLinkState
from spoc.core.domain.models import Contact, Request, Subject
from spoc.core.domain.requests import ContactDetails, subject_info, validation_errors
from spoc.core.kernel.errors import NotFoundError, ServiceError, ValidationFailed
from spoc.core.kernel.types import RequestType
from spoc.core.platform import hookspecs
from spoc.core.services import Spoc, spoc_of
from spoc.core.storage.keyset import CursorRejected, Ordering
from spoc.core.web.acknowledge import acknowledgement
from spoc.core.web.exports import export_response, find_export
from spoc.core.web.files import uploads_from
from spoc.core.web.forms import FormSpec, form_spec, validate_form
from spoc.core.web.portal.help import (
    already_answered,
    article_page,
    help_articles,
    remember_answer,
)
from spoc.core.web.portal.tracking import (
    download_attachment,
    render_tracking,
    requester_action,
    requester_of,
)
from spoc.core.web.webinput import cursor_rejected

bp = Blueprint("portal", __name__)

HONEYPOT = "website"  # humans never see it; bots fill it
MY_REQUESTS_PAGE = 20
MY_REQUESTS = Ordering("portal:my-requests", Request.id.desc())  # ix_requests_contact
CONTACT_SESSION_HOURS = 2


def _spoc() -> Spoc:
    return spoc_of()


def _intake_subject(token: str | None) -> Subject | None:
    return _spoc().links.subject_for_intake(token) if token else None


def _types_for(subject: Subject | None) -> list[RequestType]:
    types = list(_spoc().host.request_types)
    if subject is None:
        return types
    return [t for t in types if not t.subject_kinds or subject.kind in t.subject_kinds]


@bp.get("/")
def catalogue() -> str:
    return _catalogue(None, None)


@bp.get("/s/<token>")
def intake(token: str) -> str:
    subject = _intake_subject(token)
    if subject is None:
        abort(404)
    return _catalogue(subject, token)


def _catalogue(subject: Subject | None, intake_token: str | None) -> str:
    spoc = _spoc()
    query = request.args.get("q", "").strip()[:100]
    types = _types_for(subject)
    articles = help_articles(spoc, query=query)
    if query:
        words = query.lower().split()
        types = [t for t in types if all(w in f"{t.title} {t.description}".lower() for w in words)]
    groups: dict[str, list[RequestType]] = {}
    for request_type in sorted(types, key=lambda t: (t.group, t.order, t.key)):
        groups.setdefault(request_type.group, []).append(request_type)
    return render_template(
        "portal/catalogue.html",
        groups=list(groups.items()),
        articles=articles,
        query=query,
        subject=subject,
        intake=intake_token,
    )


@bp.get("/help/<key>")
def article(key: str) -> Response:
    spoc = _spoc()
    item = article_page(spoc, key)
    if item is None:
        abort(404)
    related = [t for k in item.request_types if (t := spoc.host.request_types.get(k))]
    spoc.articles.record_view(key)  # the reports weigh views against requests filed
    response = make_response(
        render_template(
            "portal/article.html",
            article=item,
            related=related,
            answered=already_answered(key),
        )
    )
    # The page carries this session's CSRF token (the "did this answer" form): a browser may
    # keep it but asks again each time, and no shared cache keeps it.
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.post("/help/<key>/answer")
def article_answer(key: str) -> Response:
    """ "Did this answer your question?": counted once per article per session."""
    answer = request.form.get("helpful")
    if answer not in ("yes", "no"):
        raise ValidationFailed("choose yes or no", {"helpful": "yes or no"})
    if not already_answered(key):
        try:
            _spoc().articles.record_answer(key, answer == "yes")
        except NotFoundError:
            abort(404)
        remember_answer(key)
    flash("Thank you for telling us.", "success")
    return redirect(url_for("portal.article", key=key), code=303)


def _request_type_or_404(key: str) -> RequestType:
    request_type = _spoc().host.request_types.get(key)
    if request_type is None:
        abort(404)
    return request_type


def _render_form(
    request_type: RequestType,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    intake_token = request.values.get("intake") or None
    subject = _intake_subject(intake_token)
    related = help_articles(_spoc(), request_type=request_type.key)
    spec = form_spec(request_type.fields_model)
    contact = signed_in_contact()
    if values is None:
        values = _form_defaults(request_type, subject, spec)
        if contact is not None:
            values.update(requester_name=contact.name, requester_email=contact.email)
    choices = (
        _spoc().requests.subjects_of_contact(contact.id, request_type.subject_kinds)
        if contact is not None and subject is None
        else []
    )
    return (
        render_template(
            "portal/form.html",
            request_type=request_type,
            spec=spec,
            values=values,
            errors=errors or {},
            subject=subject,
            intake=intake_token if subject else None,
            articles=related,
            choices=choices,
            what=_what_it_is_about(request_type),
        ),
        status,
    )


def _what_it_is_about(request_type: RequestType) -> str | None:
    """ "project", "account or order": the kinds a request type is about, for "Which …?"."""
    kinds = _spoc().host.subject_kinds
    found = [kinds.get(key) for key in request_type.subject_kinds]
    titles = [kind.title.lower() for kind in found if kind is not None]
    titles = list(dict.fromkeys(titles))
    if len(titles) > 1:
        return f"{', '.join(titles[:-1])} or {titles[-1]}"
    return titles[0] if titles else None


def _form_defaults(
    request_type: RequestType, subject: Subject | None, spec: FormSpec
) -> dict[str, Any]:
    """What plugins pre-fill (``spoc_form_defaults``): only the form's own fields, as text."""
    spoc = _spoc()
    values: dict[str, Any] = {}
    answers = spoc.hooks.each(
        hookspecs.spoc_form_defaults,
        request_type=request_type,
        subject=subject_info(subject),
        spoc=spoc,
    )
    for _, defaults in answers:
        for name, value in defaults.items():
            if spec.by_name(name) is not None and value is not None:
                values.setdefault(name, value if isinstance(value, list) else str(value))
    return values


@bp.get("/new/<key>")
def new_request(key: str) -> tuple[str, int]:
    return _render_form(_request_type_or_404(key))


@bp.post("/new/<key>")
def submit_request(key: str) -> Response | tuple[str, int]:
    spoc = _spoc()
    request_type = _request_type_or_404(key)
    form = request.form
    if form.get(HONEYPOT):
        # Looks accepted to a bot, creates nothing.
        return _render_form(
            request_type, errors={"__all__": "Your request could not be sent."}, status=400
        )
    file_fields = [
        f.name for f in form_spec(request_type.fields_model).fields if f.widget == "file"
    ]
    sent = {name: uploads_from(name) for name in file_fields}
    uploads: list[Upload] = [u for name in file_fields for u in sent[name]]
    names = {name: [safe_filename(u.filename) for u in sent[name]] for name in file_fields}
    fields, values, errors = validate_form(request_type.fields_model, form, names)
    requester_values = {
        "name": form.get("requester_name", "").strip(),
        "email": form.get("requester_email", "").strip(),
    }
    values.update({f"requester_{k}": v for k, v in requester_values.items()})
    values["reference"] = form.get("reference", "").strip()
    about_you: dict[str, str] = {}
    details: ContactDetails | None = None
    try:
        details = ContactDetails.model_validate(requester_values)
    except ValidationError as exc:
        for path, message in validation_errors(exc, "requester").items():
            key = path.replace(".", "_")
            blank = not requester_values.get(key.removeprefix("requester_"))
            about_you.setdefault(key, "This field is required" if blank else message)
    subject = _intake_subject(form.get("intake") or None)
    subject_id = subject.id if subject else None
    claimed: str | None = None
    values["subject_choice"] = choice = form.get("subject_choice", "").strip()
    if subject is None and choice:
        # Only one of the signed-in contact's own subjects, whatever the form sent.
        proven = _proven_contact_id(requester_values["email"])
        mine = (
            {c.id for c in spoc.requests.subjects_of_contact(proven, request_type.subject_kinds)}
            if proven is not None
            else set()
        )
        if choice.isdigit() and int(choice) in mine:
            subject_id = int(choice)
        else:
            about_you["subject_choice"] = "Choose one of yours from the list, or type its reference"
    elif subject is None and values["reference"]:
        try:
            subject_id = spoc.requests.resolve_subject_reference(
                values["reference"],
                request_type,
                proven_contact_id=_proven_contact_id(requester_values["email"]),
            )
        except ValidationFailed as exc:
            about_you["reference"] = exc.errors.get("reference", str(exc))
        if subject_id is None:
            # Not proof: filed without the record, the same answer whether it exists or not.
            claimed = values["reference"]
    # In page order: about you first, then the request's own fields.
    errors = {**about_you, **errors}
    if errors or fields is None or details is None:
        return _render_form(request_type, values=values, errors=errors, status=422)

    try:
        _, token = spoc.requests.create_with_tracking_link(
            type_key=request_type.key,
            fields=fields.model_dump(mode="json"),
            requester=details,
            subject_id=subject_id,
            on_issued=acknowledgement(details),
            claimed_reference=claimed,
            attachments=uploads,
        )
    except ValidationFailed as exc:
        mapped = {k.split(".", 1)[-1]: v for k, v in exc.errors.items()}
        if ATTACHMENTS in mapped and file_fields:
            # Shown at the file input: the files are chosen again (a browser never keeps them).
            mapped[file_fields[0]] = mapped.pop(ATTACHMENTS)
        return _render_form(
            request_type, values=values, errors=mapped or {"__all__": str(exc)}, status=422
        )
    return redirect(url_for("portal.track", token=token, new=1), code=303)


def _proven_contact_id(typed_email: str) -> int | None:
    """The contact signed in by magic link, if this request is filed with their address."""
    contact = signed_in_contact()
    if contact is None or contact.email != typed_email.strip().lower():
        return None
    return contact.id


def _holder(token: str) -> tuple[int, int | None]:
    """The request a tracking link opens, and the CC whose own link it is (or ``None``)."""
    found = _spoc().links.tracking_holder(token)
    if found is None:
        abort(404)
    return found


@bp.get("/track/<token>")
def track(token: str) -> str | Response:
    request_id, cc = _holder(token)
    merged = _spoc().requests.merged_into(request_id)
    if merged is not None and merged[1]:
        # A merged duplicate's link leads to the request it was merged into.
        return redirect(url_for("portal.track", token=merged[1]), code=303)
    just_filed = request.args.get("new") == "1"
    return render_tracking(request_id, token=token, just_filed=just_filed, cc=cc)


@bp.post("/track/<token>/<action>")
def track_action(token: str, action: str) -> Response:
    request_id, cc = _holder(token)
    requester_action(request_id, action, cc=cc)
    return redirect(url_for("portal.track", token=token), code=303)


@bp.get("/track/<token>/exports/<key>")
def track_export(token: str, key: str) -> Response:
    request_id, _ = _holder(token)
    return _export(request_id, key)


@bp.get("/track/<token>/files/<int:attachment_id>")
def track_attachment(token: str, attachment_id: int) -> Response:
    request_id, cc = _holder(token)
    return download_attachment(request_id, attachment_id, cc=cc)


def _export(request_id: int, key: str, contact_id: int | None = None) -> Response:
    found, _ = requester_of(request_id, contact_id)
    export = find_export(_spoc(), found, key, requester=True)
    if export is None:
        abort(404)
    return export_response(export)


# --- all my requests ---------------------------------------------------------------------


@bp.get("/my-requests")
def my_requests_form() -> str:
    return render_template("portal/my_requests_form.html", sent=False, errors={}, email="")


@bp.post("/my-requests")
def send_my_requests_link() -> tuple[str, int]:
    spoc = _spoc()
    email = request.form.get("email", "").strip()
    if request.form.get(HONEYPOT):
        return render_template("portal/my_requests_form.html", sent=True, errors={}, email=""), 200
    try:
        ContactDetails.model_validate({"name": "x", "email": email})
    except Exception:
        errors = {"email": "Enter an email address like name@example.com"}
        return render_template(
            "portal/my_requests_form.html", sent=False, errors=errors, email=email
        ), 422

    spoc.links.request_magic_link(email)
    # The same answer whether or not we know the address: no probing who filed requests.
    return render_template("portal/my_requests_form.html", sent=True, errors={}, email=""), 200


@bp.get("/my/<token>")
def magic(token: str) -> Response:
    contact = _spoc().links.use_magic_link(token)
    if contact is MagicLinkState.USED:
        flash(
            "That link was used already: each link signs in once. Ask for a new one below.", "error"
        )
        return redirect(url_for("portal.my_requests_form"), code=303)
    if not isinstance(contact, Contact):
        flash("That link has expired. Ask for a new one below.", "error")
        return redirect(url_for("portal.my_requests_form"), code=303)
    session["contact_id"] = contact.id
    session["contact_until"] = (
        _spoc().clock.now() + timedelta(hours=CONTACT_SESSION_HOURS)
    ).isoformat()
    return redirect(url_for("portal.my_requests"), code=303)


def signed_in_contact() -> Contact | None:
    contact_id, until = session.get("contact_id"), session.get("contact_until")
    if not contact_id or not until or datetime.fromisoformat(until) <= _spoc().clock.now():
        return None
    with _spoc().db.reader() as db:
        return db.get(Contact, contact_id)


@bp.get("/my")
def my_requests() -> Response | str:
    contact = signed_in_contact()
    if contact is None:
        return redirect(url_for("portal.my_requests_form"), code=303)
    query = select(Request).where(Request.contact_id == contact.id)
    try:
        with _spoc().db.reader() as db:
            found = _spoc().pager.page(
                db,
                query,
                MY_REQUESTS,
                limit=MY_REQUESTS_PAGE,
                cursor=request.args.get("before"),
                field="before",
            )
    except CursorRejected as exc:
        raise cursor_rejected(exc) from None  # a 400 naming the field, not this page's 409
    return render_template(
        "portal/my_requests.html", contact=contact, rows=found.items, next_before=found.next
    )


@bp.get("/my/requests/<int:request_id>")
def my_request(request_id: int) -> str:
    contact = signed_in_contact()
    if contact is None:
        abort(404)
    return render_tracking(request_id, contact_id=contact.id)


@bp.get("/my/requests/<int:request_id>/exports/<key>")
def my_request_export(request_id: int, key: str) -> Response:
    contact = signed_in_contact()
    if contact is None:
        abort(404)
    return _export(request_id, key, contact.id)


@bp.get("/my/requests/<int:request_id>/files/<int:attachment_id>")
def my_request_attachment(request_id: int, attachment_id: int) -> Response:
    contact = signed_in_contact()
    if contact is None:
        abort(404)
    return download_attachment(request_id, attachment_id, contact.id)


@bp.post("/my/requests/<int:request_id>/<action>")
def my_request_action(request_id: int, action: str) -> Response:
    contact = signed_in_contact()
    if contact is None:
        abort(404)
    requester_action(request_id, action, contact_id=contact.id)
    return redirect(url_for("portal.my_request", request_id=request_id), code=303)


@bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError) -> tuple[str, int]:
    return render_template("portal/error.html", message=str(exc)), 409


RATE_LIMITED = {
    "portal.submit_request": "portal_submit_limit",
    "portal.track_action": "portal_action_limit",
    "portal.article_answer": "portal_action_limit",
    "portal.ask_answered": "portal_action_limit",
    "portal.rate_submit": "portal_action_limit",
    "portal.my_request_action": "portal_action_limit",
    "portal.send_my_requests_link": "portal_magic_link_limit",
}
