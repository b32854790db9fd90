"""Attachments in the domain: checked before anything is written, stored in the same write as
their message or request, named by content, shown to those who may read them, erased."""

from __future__ import annotations

import base64
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from spoc import Actor, ValidationFailed
from spoc.core.domain.attachments import Upload, detect_type, safe_filename
from spoc.core.domain.models import Attachment, Message
from spoc.core.platform.plugins import ENTRY_POINT_GROUP, installed_entry_points
from spoc.core.services import spoc_of
from spoc.core.storage.files import LocalFileStore, content_key
from tests.conftest import AppFactory, Org, build_org
from tests.core.fake_plugins import scanner

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03" + b"\x00" * 200


def _store(org: Org) -> LocalFileStore:
    store = org.spoc.requests.deps.files
    assert isinstance(store, LocalFileStore)
    return store


def _count(org: Org, model: type[Attachment] | type[Message]) -> int:
    with org.spoc.db.reader() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_types_come_from_the_content_not_the_name() -> None:
    assert detect_type(PNG) == "image/png"
    assert detect_type(PDF) == "application/pdf"
    assert detect_type("Grüße, plain text\n".encode()) == "text/plain"
    assert detect_type(b"<html><script>alert(1)</script></html>") == "text/html"
    assert detect_type(b"\x00\x01\x02binary") is None


def test_file_names_lose_their_folders_and_controls() -> None:
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("C:\\Users\\me\\photo.png") == "photo.png"
    assert safe_filename('bad"\r\nname.pdf') == "badname.pdf"
    assert safe_filename("") == "file"
    long = safe_filename("x" * 500 + ".pdf")
    assert len(long) == 200 and long.endswith(".pdf")


def test_a_reply_with_files_stores_them_with_the_message_and_notes_them(org: Org) -> None:
    request_id = org.file()
    dana = org.actor(org.dana)
    org.spoc.requests.post_message(
        request_id,
        dana,
        "The label, attached",
        attachments=[Upload("label.pdf", PDF), Upload("parcel.png", PNG, "image/png")],
    )
    detail = org.spoc.requests.detail(request_id, dana, channel="console")
    entry = next(e for e in detail.timeline if e.kind == "message")
    assert [(a.filename, a.content_type, a.size) for a in entry.attachments] == [
        ("label.pdf", "application/pdf", len(PDF)),
        ("parcel.png", "image/png", len(PNG)),
    ]
    assert entry.summary.endswith("with 2 files")
    assert entry.data["attachments"] == ["label.pdf", "parcel.png"]
    with org.spoc.db.reader() as session:
        row = session.scalars(select(Attachment).order_by(Attachment.id)).first()
        assert row is not None and row.message_id is not None
        assert row.sha256 == content_key(PDF) and row.uploaded_by_id == org.dana.id
        assert row.scan_verdict == "not scanned"
    assert _store(org).open(content_key(PDF)) == PDF


def test_a_request_is_filed_with_its_files_in_one_transaction(org: Org) -> None:
    request = org.spoc.requests.create(
        type_key="generic.question",
        fields={"summary": "Damaged parcel"},
        requester={"name": "Maria Anders", "email": "maria@example.com"},
        attachments=[Upload("damage.png", PNG)],
    )
    detail = org.spoc.requests.detail(request.id, org.requester(request.id), channel="portal")
    assert [a.filename for a in detail.attachments] == ["damage.png"]
    assert detail.attachment(detail.attachments[0].id) is not None
    assert request.version == 1


@pytest.mark.parametrize(
    ("upload", "problem"),
    [
        (Upload("setup.exe", EXE), "setup.exe: this type of file is not accepted"),
        (Upload("page.png", b"<html><body>hi</body></html>"), "this type of file is not"),
        (Upload("empty.txt", b""), "empty.txt: the file is empty"),
        (Upload("big.txt", b"a" * (1024 * 1024 + 1)), "big.txt: larger than 1 MB"),
    ],
)
def test_a_refused_file_names_the_field_and_changes_nothing(
    make_app: AppFactory, upload: Upload, problem: str
) -> None:
    org = build_org(spoc_of(make_app(attachments_max_file_mb=1)))
    request_id = org.file()
    before = org.spoc.requests.get(request_id, Actor.system()).version
    with pytest.raises(ValidationFailed) as caught:
        org.spoc.requests.post_message(
            request_id,
            org.actor(org.dana),
            "See attached",
            attachments=[Upload("ok.pdf", PDF), upload],
        )
    assert problem in caught.value.errors["attachments"]
    assert org.spoc.requests.get(request_id, Actor.system()).version == before
    assert _count(org, Attachment) == 0 and _count(org, Message) == 0
    assert not any(_store(org).root.rglob("*")) if _store(org).root.exists() else True


def test_too_many_files_or_too_much_in_all_is_refused(make_app: AppFactory) -> None:
    org = build_org(spoc_of(make_app(attachments_max_count=2, attachments_max_total_mb=0.001)))
    request_id = org.file()
    dana = org.actor(org.dana)
    with pytest.raises(ValidationFailed, match="at most 2 files"):
        org.spoc.requests.post_message(
            request_id, dana, "x", attachments=[Upload("a.pdf", PDF)] * 3
        )
    with pytest.raises(ValidationFailed, match="MB of files at a time"):
        org.spoc.requests.post_message(
            request_id, dana, "x", attachments=[Upload("a.txt", b"a" * 800)] * 2
        )


def test_the_same_file_twice_is_one_object_deleted_only_with_its_last_row(org: Org) -> None:
    first, second = org.file(), org.file(fields={"summary": "Another"})
    dana = org.actor(org.dana)
    for request_id in (first, second):
        org.spoc.requests.post_message(request_id, dana, "Form", attachments=[Upload("f.pdf", PDF)])
    store = _store(org)
    assert len([p for p in store.root.rglob("*") if p.is_file()]) == 1
    admin = org.actor(org.ada)
    org.spoc.directory.erase_request_details(admin, [first])
    assert store.path(content_key(PDF)).exists()  # the second request still has it
    org.spoc.directory.erase_request_details(admin, [second])
    assert not store.path(content_key(PDF)).exists()
    assert _count(org, Attachment) == 0


def test_erasing_a_contact_removes_their_files(org: Org) -> None:
    request_id = org.file()
    maria = org.requester(request_id)
    org.spoc.requests.post_message(request_id, maria, "Photo", attachments=[Upload("me.png", PNG)])
    org.spoc.privacy.erase_contact(org.actor(org.ada), maria.id or 0, reason="Asked to be erased")
    assert _count(org, Attachment) == 0
    assert not _store(org).path(content_key(PNG)).exists()


def test_the_requester_never_sees_the_files_of_an_internal_note(org: Org) -> None:
    request_id = org.file()
    org.spoc.requests.post_message(
        request_id,
        org.actor(org.dana),
        "Their ID scan",
        internal=True,
        attachments=[Upload("id.png", PNG)],
    )
    staff = org.spoc.requests.detail(request_id, org.actor(org.dana), channel="console")
    line = next(a for e in staff.timeline for a in e.attachments)
    mine = org.spoc.requests.detail(request_id, org.requester(request_id), channel="portal")
    assert mine.attachment(line.id) is None
    assert staff.attachment(line.id) == line


def test_files_alone_make_a_message(org: Org) -> None:
    request_id = org.file()
    maria = org.requester(request_id)
    org.spoc.requests.post_message(request_id, maria, "  ", attachments=[Upload("a.pdf", PDF)])
    detail = org.spoc.requests.detail(request_id, maria, channel="portal")
    assert detail.timeline[-1].message == "Sent a.pdf"


@pytest.fixture
def scanning_app(make_app: AppFactory, tmp_path: Path) -> Flask:
    scanner.SEEN.clear()
    fake = EntryPoint("scanner", "tests.core.fake_plugins.scanner", ENTRY_POINT_GROUP)
    return make_app(
        plugins=["generic", "scanner"], plugin_entry_points=[*installed_entry_points(), fake]
    )


def test_hook_scan_attachment_refuses_what_a_plugin_finds_and_marks_the_rest_clean(
    scanning_app: Flask,
) -> None:
    org = build_org(spoc_of(scanning_app))
    request_id = org.file()
    dana = org.actor(org.dana)
    with pytest.raises(ValidationFailed) as caught:
        org.spoc.requests.post_message(
            request_id, dana, "x", attachments=[Upload("bad.txt", b"hello " + scanner.MARKER)]
        )
    assert caught.value.errors == {
        "attachments": "bad.txt: a virus scan found Fake.Marker; the file was not accepted"
    }
    assert _count(org, Attachment) == 0
    org.spoc.requests.post_message(request_id, dana, "x", attachments=[Upload("ok.pdf", PDF)])
    assert ("ok.pdf", "application/pdf") in scanner.SEEN
    with org.spoc.db.reader() as session:
        assert session.scalar(select(Attachment.scan_verdict)) == "clean"
