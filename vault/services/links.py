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


class LinkProblem(Enum):
    INVALID = "invalid"
    EXPIRED = "expired"


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
                    clock: Callable[[], datetime]) -> str:
    return _serializer(secret_keys, purpose, clock).dumps({"p": public_id})


def read_link_token(secret_keys: Sequence[str], purpose: str, token: str, *, max_age_days: int,
                    clock: Callable[[], datetime]) -> str:
    """The public id a valid token names; LinkError(INVALID|EXPIRED) otherwise."""
    try:
        payload: Any = _serializer(secret_keys, purpose, clock).loads(
            token, max_age=max_age_days * 86400)
    except SignatureExpired:
        raise LinkError(LinkProblem.EXPIRED) from None
    except BadData:
        raise LinkError(LinkProblem.INVALID) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("p"), str):
        raise LinkError(LinkProblem.INVALID)
    return payload["p"]
