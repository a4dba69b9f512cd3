"""Who may call what: the admin token on admin endpoints, API keys on /predict/ when set.

Credentials travel as `Authorization: Bearer <secret>`. No credential: 401 with a
WWW-Authenticate challenge; a wrong one: 403. Every refusal is counted by endpoint and
reason; no credential, right or wrong, is ever logged or echoed.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from proyecto4_common.names import ADMIN_TOKEN_ENV

from inference_api.settings import ApiSettings

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="proyecto4"'}

# auto_error=False: a missing header reaches our check, which answers and counts it.
admin_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="AdminToken",
    description="The API's admin token (INFERENCE_API_ADMIN_TOKEN), as a bearer token",
)


class Refused(HTTPException):
    def __init__(self, status: int, detail: str, reason: str):
        super().__init__(status, detail, headers=CHALLENGE if status == 401 else None)
        self.reason = reason


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


class Guard:
    """The credentials of one app, and the counter of its refusals."""

    def __init__(self, settings: ApiSettings, refusals):
        settings.check_secrets()
        token = settings.admin_token_value
        self._admin = _digest(token) if token else None
        # Keyed by the key itself: a dict lookup hashes with Python's per-process random
        # SipHash key, so its timing says nothing an attacker can steer; the found key is then
        # compared in constant time. No hashing per request: this is on the one-row path.
        keys = settings.api_key_list
        self.api_keys: dict[str, bytes] | None = {k: k.encode() for k in keys} if keys else None
        self._refusals = refusals

    def refuse(self, endpoint: str, status: int, detail: str, reason: str) -> Refused:
        self._refusals.labels(endpoint, reason).inc()
        return Refused(status, detail, reason)

    def check_admin(self, endpoint: str, credentials: HTTPAuthorizationCredentials | None) -> None:
        if self._admin is None:
            raise self.refuse(
                endpoint,
                403,
                f"admin endpoints are disabled: the API was started without {ADMIN_TOKEN_ENV}",
                "not_configured",
            )
        if credentials is None:
            raise self.refuse(
                endpoint,
                401,
                f"{endpoint} needs the admin token: send 'Authorization: Bearer <admin token>'",
                "missing",
            )
        # Both sides hashed first: compare_digest is constant-time only for equal lengths.
        if not hmac.compare_digest(_digest(credentials.credentials), self._admin):
            raise self.refuse(endpoint, 403, "wrong admin token", "wrong")

    def api_key_refusal(self, endpoint: str, authorization: str | None) -> Refused | None:
        """None when the request may go on; called only while API keys are on."""
        scheme, _, key = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not key:
            return self.refuse(
                endpoint,
                401,
                f"{endpoint} needs an API key: send 'Authorization: Bearer <API key>'",
                "missing",
            )
        key = key.strip()
        found = self.api_keys.get(key)  # type: ignore[union-attr]
        if found is None or not hmac.compare_digest(found, key.encode()):
            return self.refuse(endpoint, 403, "unknown API key", "wrong")
        return None


async def require_admin(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(admin_bearer)],
) -> None:
    # The route's path, not the URL's: a bounded label set whatever the client sends.
    request.app.state.services.guard.check_admin(request.scope["route"].path, credentials)
