"""A real IMAP server for tests: Debian's dovecot, started as the current user on 127.0.0.1.

One server (per test session) serves plain IMAP and STARTTLS on one port and implicit TLS on
another, with a self-signed certificate made at start. Each test takes a fresh account
(:meth:`ImapServer.new_account`), so tests share the server but never a mailbox. Messages go
in by IMAP APPEND, as another mail client would file them.
"""

from __future__ import annotations

import getpass
import grp
import ipaddress
import os
import pwd
import select
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from imapclient import IMAPClient

from spoc.testing.mail import free_port

DOVECOT = "dovecot"
# Dovecot refuses to run its login processes, and to open mail, as root. Started by root (CI),
# those run as this unprivileged user instead; started by anyone else, everything runs as them.
UNPRIVILEGED = "nobody"
ACCOUNTS = 2000  # per server: one for each test that asks
# What dovecot 2.3 announces after sign-in; ``without_capabilities`` announces less.
DOVECOT_CAPABILITIES = (
    "IMAP4rev1", "SASL-IR", "LOGIN-REFERRALS", "ID", "ENABLE", "IDLE", "SORT", "SORT=DISPLAY",
    "THREAD=REFERENCES", "THREAD=REFS", "THREAD=ORDEREDSUBJECT", "MULTIAPPEND", "URL-PARTIAL",
    "CATENATE", "UNSELECT", "CHILDREN", "NAMESPACE", "UIDPLUS", "LIST-EXTENDED", "I18NLEVEL=1",
    "CONDSTORE", "QRESYNC", "ESEARCH", "ESORT", "SEARCHRES", "WITHIN", "CONTEXT=SEARCH",
    "LIST-STATUS", "BINARY", "MOVE", "SNIPPET=FUZZY", "PREVIEW=FUZZY", "PREVIEW", "STATUS=SIZE",
    "SAVEDATE", "LITERAL+",
)  # fmt: skip

CONFIG = """\
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{base}/cert.pem
ssl_key = <{base}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
# A wrong password is answered at once (the default waits 2 s against guessing).
auth_failure_delay = 0
login_trusted_networks = 127.0.0.0/8
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
first_valid_uid = {mail_uid}
last_valid_uid = {mail_uid}
mail_location = maildir:{base}/mail/%u
{capability}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
service anvil {{
  chroot =
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {base}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={base}/mail/%u
}}
"""


class DovecotUnavailable(RuntimeError):
    """dovecot is not installed here (Debian: ``apt-get install dovecot-imapd``)."""


def dovecot_path() -> str | None:
    """Where the dovecot binary is (``/usr/sbin`` is not always on a user's PATH)."""
    return shutil.which(DOVECOT) or shutil.which(DOVECOT, path="/usr/sbin:/usr/local/sbin")


@dataclass(frozen=True)
class ImapAccount:
    """One mailbox on the server: sign in with ``username``/``password``."""

    server: ImapServer
    username: str
    password: str

    @property
    def address(self) -> str:
        return f"{self.username}@example.org"

    def mailbox_settings(self, name: str = "support", **overrides: Any) -> dict[str, Any]:
        """An entry of ``SPOC_MAIL_MAILBOXES`` reading this account (plain IMAP)."""
        entry: dict[str, Any] = {
            "name": name,
            "host": self.server.host,
            "port": self.server.port,
            "security": "plain",
            "username": self.username,
            "password": self.password,
            "address": self.address,
        }
        if overrides.get("security") == "tls":
            entry["port"] = self.server.tls_port
        if overrides.get("security") in ("tls", "starttls"):
            entry.update(ca_file=str(self.server.ca_file), host="localhost")
        entry.update(overrides)
        return entry

    @contextmanager
    def client(self) -> Iterator[IMAPClient]:
        """A signed-in IMAP connection (plain, on loopback)."""
        client = IMAPClient(self.server.host, self.server.port, ssl=False, timeout=30)
        try:
            client.login(self.username, self.password)
            yield client
        finally:
            try:
                client.logout()
            except (IMAPClient.Error, OSError):
                client.shutdown()

    def append(self, *messages: bytes, folder: str = "INBOX") -> None:
        """File messages in ``folder`` (creating it), as a mail client does."""
        with self.client() as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            for raw in messages:
                client.append(folder, raw)

    def messages(self, folder: str = "INBOX") -> list[bytes]:
        """The raw messages in ``folder``, oldest first; none when it does not exist."""
        with self.client() as client:
            if not client.folder_exists(folder):
                return []
            client.select_folder(folder, readonly=True)
            uids = sorted(client.search(["ALL"]))
            fetched = client.fetch(uids, ["BODY.PEEK[]"]) if uids else {}
            return [fetched[uid][b"BODY[]"] for uid in uids]


@dataclass
class ImapServer:
    """A running dovecot: plain and STARTTLS on ``port``, implicit TLS on ``tls_port``."""

    base: Path
    port: int
    tls_port: int
    host: str = "127.0.0.1"
    _numbers: Iterator[int] = field(default_factory=lambda: count(1))

    @property
    def ca_file(self) -> Path:
        """The server's self-signed certificate: trust it to verify TLS."""
        return self.base / "cert.pem"

    @property
    def log(self) -> str:
        path = self.base / "dovecot.log"
        return path.read_text(encoding="utf-8") if path.exists() else ""

    def new_account(self) -> ImapAccount:
        """A fresh, empty mailbox (one of the accounts the passwd-file was written with:
        dovecot does not always see a change made within the second it last read it)."""
        number = next(self._numbers)
        if number > ACCOUNTS:
            raise RuntimeError(f"the test server has only {ACCOUNTS} accounts")
        username = f"user{number}"
        return ImapAccount(self, username, _password(self.base, username))


def _password(base: Path, username: str) -> str:
    return f"{base.name}-{username}"


def _self_signed_certificate(base: Path) -> None:
    """A certificate for localhost and 127.0.0.1 that is its own CA (for ``ca_file``)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    (base / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (base / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


@contextmanager
def dovecot_server(*, without_capabilities: Sequence[str] = ()) -> Iterator[ImapServer]:
    """A real dovecot on free ports of 127.0.0.1 for as long as the block runs.

    ``without_capabilities`` leaves those out of what the server announces after sign-in
    (``("MOVE",)`` makes a client take the COPY + EXPUNGE path). Raises
    :class:`DovecotUnavailable` when dovecot is not installed."""
    binary = dovecot_path()
    if binary is None:
        raise DovecotUnavailable("dovecot is not installed (apt-get install dovecot-imapd)")
    # Not the test's tmp_path: unix sockets need a short path, and the unprivileged processes
    # must be able to reach their sockets, which a 0700 pytest folder would stop.
    base = Path(tempfile.mkdtemp(prefix="spoc-dovecot-"))
    base.chmod(0o755)
    me = pwd.getpwuid(os.getuid())
    mail_user = pwd.getpwnam(UNPRIVILEGED) if me.pw_uid == 0 else me
    (base / "mail").mkdir()
    os.chown(base / "mail", mail_user.pw_uid, mail_user.pw_gid)
    (base / "passwd").write_text(
        "".join(f"user{n}:{_password(base, f'user{n}')}::::::\n" for n in range(1, ACCOUNTS + 1)),
        encoding="utf-8",
    )
    (base / "passwd").chmod(0o644)
    _self_signed_certificate(base)
    capability = ""
    if without_capabilities:
        capability = "imap_capability = " + " ".join(
            c for c in DOVECOT_CAPABILITIES if c not in without_capabilities
        )
    server = ImapServer(base, free_port(), free_port())
    config = base / "dovecot.conf"
    config.write_text(
        CONFIG.format(
            base=base,
            port=server.port,
            tls_port=server.tls_port,
            internal_user=getpass.getuser(),
            internal_group=_group_name(me.pw_gid),
            login_user=mail_user.pw_name,
            mail_uid=mail_user.pw_uid,
            mail_gid=mail_user.pw_gid,
            capability=capability,
        ),
        encoding="utf-8",
    )
    # Without -F, dovecot returns once it listens: no waiting for the port. Its output goes
    # to a file: the daemon keeps what it inherits open, so a pipe would never reach EOF.
    with (base / "start.log").open("w+", encoding="utf-8") as output:
        started = subprocess.run(  # noqa: S603 (the installed dovecot, our own config)
            [binary, "-c", str(config)], stdout=output, stderr=output, check=False
        )
        output.seek(0)
        said = output.read().strip()
    if started.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        raise RuntimeError(f"dovecot did not start: {said}")
    try:
        yield server
    finally:
        _stop(base)
        shutil.rmtree(base, ignore_errors=True)


def _stop(base: Path) -> None:
    """Stop the master and every process it started (they share its process group)."""
    try:
        master = int((base / "run" / "master.pid").read_text(encoding="ascii").strip())
        # The master daemonised itself, so it is not our child: a pidfd tells when it is gone.
        gone = os.pidfd_open(master)
    except (OSError, ValueError):
        return
    try:
        os.killpg(master, signal.SIGKILL)
        select.select([gone], [], [], 10)
    except ProcessLookupError:
        pass
    finally:
        os.close(gone)


def _group_name(gid: int) -> str:
    return grp.getgrgid(gid).gr_name
