"""A real clamd, started as the current user on a temporary socket with a signature database
written here (this machine's clamd has no virus database and no internet): the scanner finds
what the signature describes, passes the rest, and an upload it flags is refused."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from spoc import ValidationFailed
from spoc.core.domain.attachments import Upload
from spoc.core.domain.models import Attachment
from spoc.core.services import spoc_of
from spoc.core.storage.clamav import ClamdScanner, ScanUnavailable
from tests.conftest import AppFactory, build_org

CLAMD = shutil.which("clamd") or "/usr/sbin/clamd"
MARKER = b"SPOC-CLAMAV-TEST-PAYLOAD"
SIGNATURE = "Spoc.Test.Payload"
FOUND = f"{SIGNATURE}.UNOFFICIAL"  # clamd's name for a signature from an unsigned database
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CLAMD).exists(), reason="clamav-daemon is not installed"),
]


def _answers_ping(path: str) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(2)
            conn.connect(path)
            conn.sendall(b"zPING\0")
            return conn.recv(16).startswith(b"PONG")
    except OSError:
        return False


@pytest.fixture(scope="module")
def clamd_socket() -> Iterator[str]:
    # A short folder: a unix socket path must stay under about 100 bytes.
    folder = Path(tempfile.mkdtemp(prefix="spoc-clamd-"))
    (folder / "db").mkdir()
    # A body signature (.ndb): any file holding MARKER, at any offset.
    (folder / "db" / "spoc.ndb").write_text(f"{SIGNATURE}:0:*:{MARKER.hex()}\n")
    sock = str(folder / "clamd.sock")
    (folder / "clamd.conf").write_text(
        f"LocalSocket {sock}\nDatabaseDirectory {folder / 'db'}\nForeground yes\n"
        f"TemporaryDirectory {folder}\nLogFile {folder / 'clamd.log'}\n"
    )
    proc = subprocess.Popen(
        [CLAMD, "-c", str(folder / "clamd.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(600):  # loading one signature takes well under a second
            if proc.poll() is not None:
                log = (folder / "clamd.log").read_text(errors="replace")
                pytest.fail(f"clamd exited with {proc.returncode}: {log[-2000:]}")
            if _answers_ping(sock):
                break
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=0.05)  # wait on the process, not a bare sleep
        else:
            pytest.fail("clamd did not answer PING")
        yield sock
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)


def test_clamd_names_the_signature_it_finds_and_passes_clean_content(clamd_socket: str) -> None:
    scanner = ClamdScanner(clamd_socket)
    assert scanner.scan(b"a letter from the hospital\n" * 10_000) is None
    assert scanner.scan(b"prefix " + MARKER + b" suffix") == FOUND


def test_an_unreachable_clamd_is_reported_not_taken_for_clean(tmp_path: Path) -> None:
    with pytest.raises(ScanUnavailable):
        ClamdScanner(str(tmp_path / "nobody.sock")).scan(b"hello")
    with pytest.raises(ScanUnavailable):
        ClamdScanner("127.0.0.1:1").scan(b"hello")


def test_an_upload_clamd_flags_is_refused_and_a_clean_one_is_marked_clean(
    make_app: AppFactory, clamd_socket: str
) -> None:
    org = build_org(spoc_of(make_app(clamav_socket=clamd_socket)))
    request_id = org.file()
    dana = org.actor(org.dana)
    with pytest.raises(ValidationFailed) as caught:
        org.spoc.requests.post_message(
            request_id, dana, "x", attachments=[Upload("notes.txt", b"see " + MARKER)]
        )
    assert caught.value.errors == {
        "attachments": f"notes.txt: a virus scan found {FOUND}; the file was not accepted"
    }
    org.spoc.requests.post_message(
        request_id, dana, "x", attachments=[Upload("notes.txt", b"all fine\n")]
    )
    detail = org.spoc.requests.detail(request_id, dana, channel="console")
    assert [a.filename for e in detail.timeline for a in e.attachments] == ["notes.txt"]
    with org.spoc.db.reader() as session:
        assert list(session.scalars(select(Attachment.scan_verdict))) == ["clean"]


def test_scanning_when_clamd_is_down_refuses_the_file(make_app: AppFactory, tmp_path: Path) -> None:
    org = build_org(spoc_of(make_app(clamav_socket=str(tmp_path / "down.sock"))))
    with pytest.raises(ValidationFailed, match="could not be scanned"):
        org.spoc.requests.post_message(
            org.file(), org.actor(org.dana), "x", attachments=[Upload("a.txt", b"hello\n")]
        )
