"""Signed, purpose-bound, expiring personal links (the candidate's only credential).

itsdangerous signs with the newest secret key and verifies with every key in
SECRET_KEY_FALLBACKS too, so the key can rotate without breaking links already sent.
The salt binds a token to its purpose: a renewal link cannot open the data page. The
clock is injectable so expiry is tested without waiting. Signatures are compared in
constant time by itsdangerous (hmac.compare_digest).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from enum import Enum
from typing import Any

from itsdangerous import BadData, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

SELF_SERVICE = "vault.link.self-service"
RENEW_CONSENT = "vault.link.renew-consent"
EMAIL_CHANGE = "vault.link.email-change"


class LinkProblem(Enum):
    INVALID = "invalid"
    EXPIRED = "expired"
    REVOKED = "revoked"  # a newer link was issued to the person (services.identity)


class LinkError(Exception):
    def __init__(self, problem: LinkProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


def _signer_with_clock(clock: Callable[[], datetime]) -> type[TimestampSigner]:
    class ClockSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(clock().timestamp())

    return ClockSigner


def _serializer(secret_keys: Sequence[str], purpose: str,
                clock: Callable[[], datetime]) -> URLSafeTimedSerializer:
    # itsdangerous takes keys oldest first and signs with the last one.
    return URLSafeTimedSerializer(list(secret_keys), salt=purpose,
                                  signer=_signer_with_clock(clock))


def make_link_token(secret_keys: Sequence[str], purpose: str, public_id: str, *,
                    clock: Callable[[], datetime], generation: int = 0) -> str:
    """A link to one record, issued under the person's current link generation (a newer
    generation revokes it: see services.identity)."""
    return _serializer(secret_keys, purpose, clock).dumps({"p": public_id, "g": generation})


def _load(secret_keys: Sequence[str], purpose: str, token: str, *, max_age_seconds: int,
          clock: Callable[[], datetime]) -> dict[str, Any]:
    try:
        payload: Any = _serializer(secret_keys, purpose, clock).loads(
            token, max_age=max_age_seconds)
    except SignatureExpired:
        raise LinkError(LinkProblem.EXPIRED) from None
    except BadData:
        raise LinkError(LinkProblem.INVALID) from None
    if not isinstance(payload, dict):
        raise LinkError(LinkProblem.INVALID)
    return payload


def read_link(secret_keys: Sequence[str], purpose: str, token: str, *, max_age_days: int,
              clock: Callable[[], datetime]) -> tuple[str, int]:
    """(public id, link generation) of a valid token; LinkError(INVALID|EXPIRED) otherwise.
    Links issued before generations existed count as generation 0."""
    payload = _load(secret_keys, purpose, token, max_age_seconds=max_age_days * 86400,
                    clock=clock)
    generation = payload.get("g", 0)
    if not isinstance(payload.get("p"), str) or type(generation) is not int:
        raise LinkError(LinkProblem.INVALID)
    return payload["p"], generation


def read_link_token(secret_keys: Sequence[str], purpose: str, token: str, *, max_age_days: int,
                    clock: Callable[[], datetime]) -> str:
    """The public id a valid token names; LinkError(INVALID|EXPIRED) otherwise."""
    return read_link(secret_keys, purpose, token, max_age_days=max_age_days, clock=clock)[0]


def make_confirmation_token(secret_keys: Sequence[str], change_uid: str, nonce: str, *,
                            clock: Callable[[], datetime]) -> str:
    """The link that confirms a new e-mail address: names the pending change and carries
    the nonce whose hash the change row holds (the row goes when the link is used)."""
    return confirmation_signer(secret_keys, clock=clock)(change_uid, nonce)


def confirmation_signer(secret_keys: Sequence[str], *,
                        clock: Callable[[], datetime]) -> Callable[[str, str], str]:
    """make_confirmation_token(change uid, nonce) with one serializer for many (a batch of
    an import's confirmations)."""
    serializer = _serializer(secret_keys, EMAIL_CHANGE, clock)
    return lambda change_uid, nonce: serializer.dumps({"c": change_uid, "n": nonce})


def read_confirmation_token(secret_keys: Sequence[str], token: str, *, max_age_hours: int,
                            clock: Callable[[], datetime]) -> tuple[str, str]:
    """(change uid, nonce) of a valid confirmation token; LinkError otherwise."""
    payload = _load(secret_keys, EMAIL_CHANGE, token, max_age_seconds=max_age_hours * 3600,
                    clock=clock)
    change_uid, nonce = payload.get("c"), payload.get("n")
    if not isinstance(change_uid, str) or not isinstance(nonce, str):
        raise LinkError(LinkProblem.INVALID)
    return change_uid, nonce
