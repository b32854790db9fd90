"""Rate limits hold for the whole server (every worker) and, with Redis, for every server."""

from __future__ import annotations

import http.client
import os
import random
import re
import socket
import string
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from flask import Flask

from spoc.core.web.ratelimit_store import SqliteStorage, storage_uri
from tests.conftest import AppFactory, csrf_token

SECRET = "a-long-random-secret-for-the-test-server-only"


def _sign_in_attempt(app: Flask) -> int:
    client = app.test_client()
    token = csrf_token(client, "/console/login")
    return client.post(
        "/console/login", data={"csrf_token": token, "email": "x@example.org", "password": "no"}
    ).status_code


def test_workers_of_one_server_share_the_sign_in_limit_without_redis(
    make_app: AppFactory,
) -> None:
    """Two apps on one instance folder are what two gunicorn workers of one server are."""
    first, second = make_app(), make_app()  # default limit: 10 per minute
    codes = [_sign_in_attempt(first if i % 2 else second) for i in range(11)]
    assert codes == [401] * 10 + [429]


def test_servers_share_the_sign_in_limit_through_redis(make_app: AppFactory) -> None:
    prefix = "".join(random.choices(string.ascii_uppercase, k=8))  # a fresh count in Redis
    settings = {"redis_url": "redis://127.0.0.1:6379/0", "reference_prefix": prefix}
    first, second = make_app(**settings), make_app(**settings)
    codes = [_sign_in_attempt(first if i % 2 else second) for i in range(11)]
    assert codes == [401] * 10 + [429]


def test_the_store_takes_no_slot_twice(tmp_path: Path) -> None:
    """Many threads racing for the last slots of one key: exactly ``limit`` get in."""
    uri = storage_uri(tmp_path / "limits.sqlite")
    stores = [SqliteStorage(uri), SqliteStorage(uri)]
    with ThreadPoolExecutor(8) as pool:
        granted = list(
            pool.map(lambda i: stores[i % 2].acquire_entry("k", 25, 60), range(60), timeout=60)
        )
    assert granted.count(True) == 25
    start, count = stores[0].get_moving_window("k", 25, 60)
    assert count == 25 and start <= time.time()
    stores[1].clear("k")
    assert stores[0].get_moving_window("k", 25, 60)[1] == 0
    assert stores[0].incr("c", 60) == 1 and stores[1].incr("c", 60, 2) == 3
    assert stores[0].get("c") == 3 and stores[0].get_expiry("c") > time.time()
    assert stores[0].check() and stores[1].reset() == 1  # the one counter left


# --- a real gunicorn server with two workers -------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """``spoc serve`` in production mode, two workers, on loopback, a migrated SQLite file."""
    spoc = str(Path(sys.executable).with_name("spoc"))
    env = {
        **os.environ,
        "SPOC_ENV": "production",
        "SPOC_SECRET_KEY": SECRET,
        "SPOC_DATABASE_URL": f"sqlite:///{tmp_path / 'spoc.sqlite'}",
        "SPOC_INSTANCE_PATH": str(tmp_path / "instance"),
        "SPOC_PLUGINS": "generic",
    }
    env.pop("SPOC_REDIS_URL", None)
    subprocess.run([spoc, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120)
    port = _free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [spoc, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:  # bounded: until the server answers or the deadline passes
            assert server.poll() is None, log.read_text()
            try:
                if _request(port, "GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "spoc serve did not start:\n" + log.read_text()
            time.sleep(0.1)
        yield port, log
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def _request(
    port: int, method: str, path: str, body: str = "", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body or None, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        connection.close()


def _login_attempt(port: int) -> int:
    # The session cookie is Secure in production: carry it by hand over plain loopback HTTP.
    _, headers, html = _request(port, "GET", "/console/login")
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html
    body = f"csrf_token={found.group(1)}&email=x%40example.org&password=no"
    status, _, _ = _request(
        port,
        "POST",
        "/console/login",
        body,
        {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
    )
    return status


@pytest.mark.slow
def test_ten_sign_ins_a_minute_hold_across_two_gunicorn_workers(
    served: tuple[int, Path],
) -> None:
    port, log = served
    with ThreadPoolExecutor(2) as pool:  # two at a time, so both workers answer
        first_ten = list(pool.map(lambda _: _login_attempt(port), range(10), timeout=120))
    eleventh = _login_attempt(port)
    assert first_ten == [401] * 10
    assert eleventh == 429
    workers = set(re.findall(r'"POST /console/login[^"]*".*pid=<?(\d+)', log.read_text()))
    print(f"11 sign-in attempts answered by {len(workers)} workers: 10 allowed, the 11th 429")
    assert len(workers) == 2, log.read_text()
