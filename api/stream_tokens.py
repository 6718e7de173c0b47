"""Stream tokens: what a browser's ``EventSource`` sends instead of the API key.

``EventSource`` cannot set an ``Authorization`` header, and the long-lived API key must never go
into a URL (it would end up in access logs, proxies and browser history). So an authenticated
call (``POST /v1/jobs/{id}/stream-token``) hands out a token that

- opens the event stream of **that job only** (the job id is in the signed payload),
- acts with **that key's role and scope**, checked again when the stream opens (a key revoked in
  between makes its tokens worthless at once),
- **expires** after ``STREAM_TOKEN_TTL_S`` seconds (60 by default): it is checked when the stream
  opens, a stream already open runs to its end;
- is **signed** (itsdangerous, HMAC-SHA256 with a timestamp). The signing key of a token is
  derived from the issuing key's stored salted hash and the optional server secret
  ``ROTATION_STREAM_SECRET``: nothing secret is in the repository, every server sharing the
  database accepts the tokens of the others, and a database dump alone does not mint tokens
  when the secret is set.

Nothing is stored: a token is checked from itself and the key row.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from itsdangerous.timed import TimestampSigner

from .models import ApiKey

SALT = "rotation.job-events"
"""Binds a token to its use (opening a job's event stream), never accepted for anything else."""
PREFIX = "st1."
"""Tokens start with this, so a log line shows at a glance that no API key is in a URL."""


class TokenError(Exception):
    """A token refused: ``status`` 401 (not a token of ours, tampered, expired, key gone) or
    403 (a good token for another job)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class StreamToken:
    token: str
    expires_in_s: int
    expires_at: float
    """Unix time (seconds)."""


def _signing_key(row: ApiKey, server_secret: str) -> bytes:
    """The key that signs this API key's tokens: HMAC(server secret, the key's stored hash)."""
    material = f"{row.id}:{row.salt}:{row.hash}".encode()
    return hmac.new(server_secret.encode(), material, hashlib.sha256).digest()


def _serializer(secret: bytes, clock: Callable[[], float]) -> URLSafeTimedSerializer:
    class Signer(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(clock())

    return URLSafeTimedSerializer(
        secret, salt=SALT, signer=Signer, signer_kwargs={"digest_method": hashlib.sha256}
    )


def issue(
    row: ApiKey,
    job_id: str,
    ttl_s: int,
    server_secret: str = "",
    clock: Callable[[], float] = time.time,
) -> StreamToken:
    """A token for ``job_id``'s event stream on behalf of the key ``row``."""
    now = clock()
    body = _serializer(_signing_key(row, server_secret), clock).dumps({"k": row.id, "j": job_id})
    return StreamToken(token=PREFIX + str(body), expires_in_s=ttl_s, expires_at=now + ttl_s)


def key_id_of(token: str) -> str:
    """The key id a token claims (not yet verified: only to find the key row that signed it)."""
    if not token.startswith(PREFIX):
        raise TokenError(401, "not a stream token (an API key is never accepted in a URL)")
    ok, payload = _serializer(b"", time.time).loads_unsafe(token[len(PREFIX) :])
    del ok  # the signature is checked in verify(), with the claimed key's signing key
    if not isinstance(payload, dict) or not isinstance(payload.get("k"), str):
        raise TokenError(401, "malformed stream token")
    return str(payload["k"])


def verify(
    token: str,
    row: ApiKey | None,
    job_id: str,
    ttl_s: int,
    server_secret: str = "",
    clock: Callable[[], float] = time.time,
) -> None:
    """Accept ``token`` for ``job_id``'s stream, or raise :class:`TokenError`. ``row`` is the
    (unrevoked) key the token names, None when there is none."""
    if row is None:
        raise TokenError(401, "the stream token's key is unknown or revoked")
    serializer = _serializer(_signing_key(row, server_secret), clock)
    try:
        payload: Any = serializer.loads(token[len(PREFIX) :], max_age=ttl_s)
    except SignatureExpired:
        raise TokenError(
            401, f"stream token expired (valid {ttl_s} s); ask for a new one"
        ) from None
    except BadSignature:
        raise TokenError(401, "invalid stream token") from None
    if payload.get("k") != row.id:
        raise TokenError(401, "invalid stream token")
    if payload.get("j") != job_id:
        raise TokenError(403, "this stream token is for another job")
