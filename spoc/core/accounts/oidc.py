"""OpenID Connect single sign-on for agents: the authorization-code flow with PKCE (S256).

:class:`OidcClient` speaks to the provider named by ``SPOC_OIDC_ISSUER`` (its discovery
document at ``/.well-known/openid-configuration``): :meth:`~OidcClient.begin` makes the
provider URL with a fresh ``state``, ``nonce`` and PKCE verifier (the console keeps them in the
browser's signed session); :meth:`~OidcClient.finish` trades the code for tokens (Authlib) and
verifies the ID token (joserfc) against the provider's JWKS: signature, ``iss``, ``aud``
(and ``azp`` when there are several audiences), ``exp`` and ``iat`` on SPOC's clock, and the
``nonce``. Only then is the email in it believed, and only when ``email_verified`` is true.

Who may sign in is :meth:`spoc.core.accounts.auth.AuthService.agent_for_sso`'s business, not this
module's.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from spoc.core.kernel.clock import Clock
from spoc.core.platform.settings import Settings

DISCOVERY_PATH = "/.well-known/openid-configuration"
SCOPE = "openid email profile"
TIMEOUT_SECONDS = 10
LEEWAY_SECONDS = 60  # clock skew between SPOC and the provider
ALGORITHMS = ("RS256", "PS256", "ES256")

if TYPE_CHECKING:
    from authlib.integrations.requests_client import OAuth2Session


class OidcError(Exception):
    """Single sign-on did not go through; the message can be shown to the person."""


@dataclass(frozen=True)
class Authorization:
    """Where to send the browser, and what to keep until it comes back."""

    url: str
    state: str
    nonce: str
    verifier: str


@dataclass(frozen=True)
class Identity:
    subject: str
    email: str
    name: str
    amr: tuple[str, ...]


class OidcClient:
    def __init__(self, settings: Settings, clock: Clock) -> None:
        if not (settings.oidc_issuer and settings.oidc_client_id and settings.oidc_client_secret):
            raise ValueError("single sign-on is not configured")
        self.issuer = settings.oidc_issuer.rstrip("/")
        self._client_id = settings.oidc_client_id
        self._client_secret = settings.oidc_client_secret.get_secret_value()
        self._clock = clock
        self._metadata: dict[str, Any] | None = None

    def _get_json(self, url: str) -> dict[str, Any]:
        # Imported here, as are Authlib and joserfc below: the HTTP client and the JOSE
        # libraries cost a tenth of a second at start-up, and most desks have no sign-on.
        import requests

        try:
            response = requests.get(url, timeout=TIMEOUT_SECONDS)
            response.raise_for_status()
            data = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise OidcError(f"the sign-in provider did not answer ({type(exc).__name__})") from exc
        if not isinstance(data, dict):
            raise OidcError("the sign-in provider answered with something else than JSON")
        return data

    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (fetched once per app)."""
        if self._metadata is None:
            found = self._get_json(self.issuer + DISCOVERY_PATH)
            # OpenID Connect Discovery 1.0, 4.3: the document must name the issuer asked for.
            if str(found.get("issuer", "")).rstrip("/") != self.issuer:
                raise OidcError("the provider's discovery document names another issuer")
            for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(found.get(key), str):
                    raise OidcError(f"the provider's discovery document has no {key}")
            self._metadata = found
        return self._metadata

    def _session(self, redirect_uri: str) -> OAuth2Session:
        # Imported here: see _get_json.
        from authlib.integrations.requests_client import OAuth2Session

        return OAuth2Session(
            self._client_id,
            self._client_secret,
            scope=SCOPE,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
        )

    def begin(self, redirect_uri: str) -> Authorization:
        """Start a single sign-on: the identity provider's authorisation URL and the state, nonce
        and PKCE verifier to keep in the session until the callback."""
        # Imported here: see _get_json.
        from authlib.common.security import generate_token

        meta = self.metadata()
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
        with self._session(redirect_uri) as oauth:
            url, _ = oauth.create_authorization_url(
                meta["authorization_endpoint"], state=state, code_verifier=verifier, nonce=nonce
            )
        return Authorization(str(url), state, nonce, verifier)

    def finish(
        self,
        *,
        code: str,
        state: str,
        expected_state: str,
        verifier: str,
        nonce: str,
        redirect_uri: str,
    ) -> Identity:
        """The verified identity behind ``code``; :class:`OidcError` otherwise."""
        if not code or not hmac.compare_digest(state.encode(), expected_state.encode()):
            raise OidcError("the sign-in answer does not belong to this browser (state)")
        meta = self.metadata()
        try:
            with self._session(redirect_uri) as oauth:
                tokens = oauth.fetch_token(
                    meta["token_endpoint"],
                    code=code,
                    code_verifier=verifier,
                    timeout=TIMEOUT_SECONDS,
                )
        except Exception as exc:  # Authlib raises OAuthError, requests its own, JSON ValueError
            raise OidcError(
                f"the provider refused the sign-in code ({type(exc).__name__})"
            ) from exc
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise OidcError("the provider sent no ID token")
        claims = self._verify(id_token, nonce)
        email = claims.get("email")
        if not isinstance(email, str) or "@" not in email:
            raise OidcError("the provider did not tell the email address")
        if claims.get("email_verified") not in (True, "true"):
            raise OidcError("the provider has not verified that email address")
        amr = claims.get("amr")
        return Identity(
            subject=str(claims["sub"]),
            email=email.strip().lower(),
            name=str(claims.get("name") or email.split("@")[0])[:200],
            amr=tuple(str(a) for a in amr) if isinstance(amr, list) else (),
        )

    def _verify(self, id_token: str, nonce: str) -> dict[str, Any]:
        # Imported here: see _get_json.
        from joserfc import jwt
        from joserfc.errors import JoseError
        from joserfc.jwk import KeySet

        keys = KeySet.import_key_set(self._get_json(self.metadata()["jwks_uri"]))  # type: ignore[arg-type]
        registry = jwt.JWTClaimsRegistry(
            now=int(self._clock.now().timestamp()),
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self._client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        try:
            token = jwt.decode(id_token, keys, algorithms=list(ALGORITHMS))
            registry.validate(token.claims)
        except (JoseError, ValueError) as exc:
            raise OidcError(f"the provider's ID token did not verify ({exc})") from exc
        claims = dict(token.claims)
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self._client_id:
            raise OidcError("the provider's ID token was issued to another client (azp)")
        return claims
