"""Signing in on the console and calling the API as a staff member, the way a browser and an
integration do."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask.testing import FlaskClient
from sqlalchemy import update

from spoc.core.domain.models import Agent
from spoc.core.kernel.passwords import hash_password
from spoc.core.kernel.types import Actor
from spoc.core.services import Spoc

PASSWORD = "correct horse battery staple"  # noqa: S105 (a test password, by design)
"""The password :func:`give_password` sets (and :func:`sign_in` types)."""

_PASSWORD_HASH: list[str] = []


def csrf_token(client: FlaskClient, url: str = "/my-requests") -> str:
    """The CSRF token of the client's session, read from a real form on ``url``."""
    html = client.get(url).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, f"no CSRF token on {url}"
    return found.group(1)


def give_password(spoc: Spoc, agent: Agent) -> None:
    """Set the agent's password to :data:`PASSWORD`."""
    if not _PASSWORD_HASH:
        _PASSWORD_HASH.append(hash_password(PASSWORD))  # argon2 is slow on purpose: hash once
    with spoc.db.transaction() as session:
        session.execute(
            update(Agent).where(Agent.id == agent.id).values(password_hash=_PASSWORD_HASH[0])
        )


def sign_in(client: FlaskClient, spoc: Spoc, agent: Agent) -> None:
    """Sign ``agent`` in on the console through the real sign-in form."""
    give_password(spoc, agent)
    token = csrf_token(client, "/console/login")
    response = client.post(
        "/console/login", data={"csrf_token": token, "email": agent.email, "password": PASSWORD}
    )
    assert response.status_code == 303, response.get_data(as_text=True)


@dataclass(frozen=True)
class ApiToken:
    """A bearer token of the REST API and the agent it acts as."""

    agent: Agent
    secret: str

    @property
    def headers(self) -> dict[str, str]:
        """``Authorization`` header for ``client.get(url, headers=token.headers)``."""
        return {"Authorization": f"Bearer {self.secret}"}


def issue_api_token(spoc: Spoc, agent: Agent, name: str = "tests") -> ApiToken:
    """A new API token acting as ``agent``, issued by the system administrator."""
    _, secret = spoc.tokens.create(Actor.system("spoc.testing"), agent.email, name)
    return ApiToken(agent, secret)
