"""Erasure notices: signed webhooks telling API clients that a public id was erased.

GDPR article 19: the controller tells every recipient of personal data about its
erasure. The recipients here are the API clients (HR systems, job boards) of the
erased record's company that hold the `erasures:read` scope and registered a webhook
URL. Companies, not the whole group: a client only ever received records of its own
company through the API (vault.api), so only those clients can hold a copy.

The notice, the body of an HTTPS POST (compact JSON, UTF-8), holds the public id and
the time only; never anything the person typed:

    {"type":"candidate.erased","public_id":"…","erased_at":"2026-11-27T10:00:00Z"}

Headers (Stripe's and Standard Webhooks' scheme, with our own names):

    Vault-Event-Id:  the event id (a UUID, the same for every client and every retry:
                     receivers de-duplicate on it)
    Vault-Timestamp: Unix time in seconds when this attempt was signed
    Vault-Signature: v1=<hex HMAC-SHA256(secret, f"{timestamp}.{body}")>

The secret is the whole string shown once on the desk (`whsec_…`), used as UTF-8
bytes; the body is the exact bytes received. A receiver recomputes the HMAC, compares
in constant time, rejects a timestamp more than 5 minutes from its clock (replay), and
remembers event ids it has handled (verify() below is the reference; docs/api.md has a
receiver).

Durability: the notice is a row of `webhook_delivery` added in the erasure's own
transaction (vault.services.erasure), so an erasure and its notices are committed
together or not at all. `vault send-webhooks` (a systemd timer, like the mail queue)
posts them with a timeout and retries with exponential backoff; after
WEBHOOK_MAX_ATTEMPTS a notice stays as failed in the desk's delivery log. The sender
claims rows like the mail queue does (SKIP LOCKED and a lease), so several senders
never post the same notice at once; a sender dying between the POST and recording it
posts it again later (at least once: hence the event id).

The signing secret is not hashed (the sender needs it): it is sealed under a key
derived from the primary KEK and sealed again by `vault rotate-kek` (reseal_stale).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import ssl
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, after_this_request, current_app, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from vault.crypto import DecryptionError, KeyringError, derived_data_key, key_id_of
from vault.crypto.kek_backend import KeyManagerUnavailable
from vault.keys import KeysChanged, VaultKeys
from vault.models import ApiClient, Candidate, WebhookDelivery, WebhookEndpoint
from vault.services import api_clients, audit, retry
from vault.services.sealing import Sealer

log = logging.getLogger(__name__)

ERASED = "candidate.erased"
SENDER_THREAD = "vault-webhook-sender"
SCOPE = api_clients.ERASURES_READ
QUEUED, DELIVERED, FAILED, CANCELLED = "queued", "delivered", "failed", "cancelled"
STATUSES = (QUEUED, DELIVERED, FAILED, CANCELLED)
REVOKED = "client revoked"  # why a notice was cancelled (the delivery log shows it)
ID_HEADER = "Vault-Event-Id"
TIMESTAMP_HEADER = "Vault-Timestamp"
SIGNATURE_HEADER = "Vault-Signature"
SIGNATURE_VERSION = "v1"
# How far a receiver lets a timestamp lie from its clock (replay protection).
TOLERANCE_SECONDS = 300
SECRET_PREFIX = "whsec_"  # noqa: S105 (the prefix of a generated secret, not a secret)
# Purpose of the key (derived from the KEK) that seals the signing secrets.
SECRET_KEY_PURPOSE = "webhook-secret"  # noqa: S105
TABLE = "webhook_endpoint"
MAX_URL = 2000
USER_AGENT = "ingenium-vault-webhooks/1"
# Event ids are UUIDv5 of the event under this namespace: the same erasure (replayed
# after a restore, or notified to several clients) always carries the same id.
EVENT_NAMESPACE = uuid.UUID("5f0e8a6c-3c7e-4d55-9a0b-7f1f3c2d9e41")


class WebhookError(ValueError):
    """A clear reason why nothing was changed (shown on the desk)."""


# --- signing (what the sender does and what a receiver checks) -----------------------


def new_secret() -> str:
    """A fresh signing secret: 256 random bits."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of f"{timestamp}.{body}" under the secret's UTF-8 bytes."""
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signed_headers(secret: str, event_id: str, body: bytes, timestamp: int) -> dict[str, str]:
    return {
        ID_HEADER: event_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: f"{SIGNATURE_VERSION}={sign(secret, timestamp, body)}",
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """The receiver's check (a reference for docs/api.md and the tests): the signature
    matches (constant-time) and the timestamp is within `tolerance` of `now`. Several
    `v1=` values (comma-separated) are accepted, for a receiver changing secrets."""
    try:
        timestamp = int(headers.get(TIMESTAMP_HEADER, ""))
    except ValueError:
        return False
    # Replay protection: an old (or future) signed request is refused even if genuine.
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body)
    given = [
        part.strip().removeprefix(f"{SIGNATURE_VERSION}=")
        for part in headers.get(SIGNATURE_HEADER, "").split(",")
        if part.strip().startswith(f"{SIGNATURE_VERSION}=")
    ]
    return any(hmac.compare_digest(expected, value) for value in given)


def event_id_for(public_id: str) -> str:
    return str(uuid.uuid5(EVENT_NAMESPACE, f"{ERASED}:{public_id}"))


def erasure_payload(public_id: str, erased_at: datetime) -> str:
    """The notice's body: the public id and the time, nothing else."""
    moment = erased_at.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return json.dumps(
        {"type": ERASED, "public_id": public_id, "erased_at": moment}, separators=(",", ":")
    )


# --- the endpoint and its secret -----------------------------------------------------


IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _literal_address(host: str) -> IpAddress | None:
    """The address a host name stands for by itself, without DNS: "10.0.0.1", "::1",
    and the old IPv4 spellings the resolver also takes ("2130706433", "0x7f.1")."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def is_public_address(address: IpAddress) -> bool:
    """Whether notices may go to this address without WEBHOOK_ALLOW_PRIVATE_ADDRESSES."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    # SSRF: the sender runs inside the vault's network. A webhook pointed at loopback,
    # a private range or link-local (the cloud metadata service at 169.254.169.254)
    # would let whoever sets the URL make the vault call its own internal services.
    return address.is_global and not address.is_multicast


def _local_test(scheme: str, host: str | None, testing: bool) -> bool:
    return testing and scheme == "http" and host == "127.0.0.1"


def check_url(url: str, *, testing: bool = False, allow_private: bool = False) -> str:
    """The URL as stored, or WebhookError. HTTPS only: the notice and its signature
    must not travel in clear. Plain http is accepted for 127.0.0.1 in testing only.
    A host that is (or names) a loopback, private or link-local address is refused
    unless allow_private (WEBHOOK_ALLOW_PRIVATE_ADDRESSES); names are resolved again,
    and checked, at every sending (post)."""
    url = url.strip()
    if not url or len(url) > MAX_URL or any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise WebhookError(_l("Enter the webhook URL, starting with https://."))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookError(_l("Enter the webhook URL, starting with https://.")) from None
    local_test = _local_test(parts.scheme, parts.hostname, testing)
    if not ((parts.scheme == "https" or local_test) and parts.hostname):
        raise WebhookError(_l("The webhook URL must start with https://."))
    # Credentials in the URL would be shown on the desk and kept in plaintext.
    if parts.username is not None or parts.password is not None or parts.fragment:
        raise WebhookError(_l("The webhook URL may not hold a user name, password or #part."))
    if port == 0:
        raise WebhookError(_l("Enter the webhook URL, starting with https://."))
    host = (parts.hostname or "").rstrip(".")
    literal = _literal_address(host)
    internal = host == "localhost" or host.endswith(".localhost")
    if not (local_test or allow_private) and (
        internal or (literal is not None and not is_public_address(literal))
    ):
        raise WebhookError(
            _l("The webhook URL must point to a public address, not to an internal one.")
        )
    return url


def _sealer(keys: VaultKeys, version: int | None = None) -> Sealer:
    return Sealer(derived_data_key(keys.keyring, SECRET_KEY_PURPOSE, version), "")


def _seal_secret(keys: VaultKeys, endpoint: WebhookEndpoint, secret: str) -> None:
    # The client id is in the associated data: a secret copied to another row fails.
    endpoint.secret = _sealer(keys).seal(TABLE, "secret", secret, str(endpoint.client_id))


def open_secret(keys: VaultKeys, endpoint: WebhookEndpoint) -> str:
    if endpoint.secret is None:
        raise DecryptionError
    return _sealer(keys, key_id_of(endpoint.secret)).open(
        TABLE, "secret", endpoint.secret, str(endpoint.client_id)
    )


def endpoint_of(session: Session, client_id: int) -> WebhookEndpoint | None:
    return session.get(WebhookEndpoint, client_id)


def set_url(
    session: Session,
    keys: VaultKeys,
    client: ApiClient,
    url: str,
    *,
    now: datetime,
    actor: audit.Actor,
    testing: bool = False,
    allow_private: bool = False,
) -> str | None:
    """Set (or with "" remove) the client's webhook URL. Returns the new signing
    secret when one was made (the first URL): the caller shows it once. Flushes."""
    endpoint = endpoint_of(session, client.id)
    if not url.strip():
        if endpoint is not None:
            session.delete(endpoint)
            audit.record(
                session, actor, audit.WEBHOOK_CHANGED, now=now, detail=f"client={client.id} removed"
            )
            session.flush()
        return None
    if client.revoked_at is not None:
        raise WebhookError(_l("This client is revoked."))
    stored = check_url(url, testing=testing, allow_private=allow_private)
    secret = None
    if endpoint is None:
        endpoint = WebhookEndpoint(client_id=client.id, url=stored, created_at=now)
        session.add(endpoint)
    endpoint.url = stored
    if endpoint.secret is None:
        secret = new_secret()
        _seal_secret(keys, endpoint, secret)
        endpoint.secret_set_at = now
    # The host only in the trail: a path could carry a receiver's own token.
    audit.record(
        session,
        actor,
        audit.WEBHOOK_CHANGED,
        now=now,
        detail=f"client={client.id} host={urlsplit(stored).hostname}",
    )
    session.flush()
    return secret


def rotate_secret(
    session: Session, keys: VaultKeys, client: ApiClient, *, now: datetime, actor: audit.Actor
) -> str:
    """A new signing secret (the old one stops at once); returned to be shown once."""
    endpoint = endpoint_of(session, client.id)
    if endpoint is None:
        raise WebhookError(_l("Set a webhook URL first."))
    if client.revoked_at is not None:
        raise WebhookError(_l("This client is revoked."))
    secret = new_secret()
    _seal_secret(keys, endpoint, secret)
    endpoint.secret_set_at = now
    audit.record(session, actor, audit.WEBHOOK_SECRET_SET, now=now, detail=f"client={client.id}")
    session.flush()
    return secret


def reseal_stale(session: Session, keys: VaultKeys) -> int:
    """Seal every signing secret not under the primary KEK again under it (KEK
    rotation, with the data keys); the number resealed. Clients are few: one pass."""
    count = 0
    for endpoint in session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.secret.is_not(None))
    ):
        version = key_id_of(endpoint.secret or b"")
        if version != keys.keyring.primary and version in keys.keyring.versions:
            _seal_secret(keys, endpoint, open_secret(keys, endpoint))
            count += 1
    return count


def sealed_under(session: Session, version: int) -> int:
    """How many signing secrets a KEK version still seals (it may not be retired then)."""
    return sum(
        1
        for secret in session.scalars(
            select(WebhookEndpoint.secret).where(WebhookEndpoint.secret.is_not(None))
        )
        if key_id_of(secret or b"") == version
    )


# --- the outbox ------------------------------------------------------------------------


def _record_companies(record: Candidate) -> set[str]:
    return ({record.vacancy.company} if record.vacancy is not None else set()) | {
        c.company for c in record.named_companies
    }


def subscribers(
    session: Session, companies: Iterable[str], *, now: datetime
) -> list[tuple[int, str]]:
    """(id, company) of the clients to tell: live (not revoked, not expired), with the
    scope and a webhook URL with a secret, of one of these companies."""
    wanted = sorted(set(companies))
    if not wanted:
        return []
    rows = session.execute(
        select(ApiClient.id, ApiClient.company, ApiClient.scopes)
        .join(WebhookEndpoint, WebhookEndpoint.client_id == ApiClient.id)
        .where(
            ApiClient.company.in_(wanted),
            ApiClient.revoked_at.is_(None),
            or_(ApiClient.expires_at.is_(None), ApiClient.expires_at > now),
            WebhookEndpoint.secret.is_not(None),
        )
        .order_by(ApiClient.id)
    ).all()
    return [(cid, company) for cid, company, scopes in rows if SCOPE in (scopes or "").split()]


def enqueue_erasure_notices(
    session: Session, records: Sequence[Candidate], *, now: datetime
) -> int:
    """Add a notice per erased record and subscribed client, in the caller's (the
    erasure's) transaction; the number added. A notice already there for the same
    client and event (a replay) is not added again. One look-up of the subscribers and
    one of the notices already there, for the whole batch."""
    companies = {record.public_id: _record_companies(record) for record in records}
    subscribed = subscribers(session, set().union(*companies.values()), now=now)
    if not subscribed:
        return 0
    wanted: list[tuple[int, str, str]] = []  # (client, event, public id)
    for public_id, theirs in companies.items():
        event_id = event_id_for(public_id)
        wanted += [(cid, event_id, public_id) for cid, company in subscribed if company in theirs]
    if not wanted:
        return 0
    # Served by the unique (client_id, event_id) index.
    known: set[tuple[int, str]] = {
        (cid, event)
        for cid, event in session.execute(
            select(WebhookDelivery.client_id, WebhookDelivery.event_id).where(
                WebhookDelivery.client_id.in_(sorted({cid for cid, _c in subscribed})),
                WebhookDelivery.event_id.in_(sorted({event for _c, event, _p in wanted})),
            )
        )
    }
    added = 0
    for client_id, event_id, public_id in wanted:
        if (client_id, event_id) in known:
            continue
        known.add((client_id, event_id))
        session.add(
            WebhookDelivery(
                client_id=client_id,
                event_id=event_id,
                event_type=ERASED,
                payload=erasure_payload(public_id, now),
                status=QUEUED,
                attempts=0,
                created_at=now,
                next_attempt_at=now,
            )
        )
        added += 1
    session.flush()
    return added


@dataclass(frozen=True)
class DeliveryPage:
    rows: list[WebhookDelivery]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def delivery_page(session: Session, client_id: int, *, page: int, page_size: int) -> DeliveryPage:
    """A client's delivery log, newest first."""
    where = WebhookDelivery.client_id == client_id
    total = int(session.scalar(select(func.count()).select_from(WebhookDelivery).where(where)) or 0)
    rows = list(
        session.scalars(
            select(WebhookDelivery)
            .where(where)
            .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
            .offset((page - 1) * page_size)
            .limit(page_size)
        )
    )
    return DeliveryPage(rows, total, page, page_size)


def cancel_queued(session: Session, client_id: int, *, now: datetime, reason: str) -> int:
    """Cancel a client's queued notices (it was revoked): the delivery log shows them as
    cancelled at once, not as waiting until a sender gets to them. A notice a sender is
    posting right now (its lease running) is left to that sender. Flushes."""
    result = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.client_id == client_id,
            WebhookDelivery.status == QUEUED,
            or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until <= now),
        )
        .values(status=CANCELLED, last_error=reason, claim=None, claimed_until=None)
    )
    session.flush()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def retry_failed(session: Session, *, now: datetime) -> int:
    """Queue notices that gave up again (after the receiver was fixed). Their last error
    goes: the desk would show a notice waiting anew as still failing."""
    result = session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.status == FAILED)
        .values(
            status=QUEUED, attempts=0, next_attempt_at=now, last_error=None, last_status_code=None
        )
    )
    session.flush()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- the sender ------------------------------------------------------------------------


@dataclass
class SendResult:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0  # attempts used up
    cancelled: int = 0  # the client was revoked, or its webhook removed
    unreachable: int = 0  # clients that did not answer: their other notices wait

    def line(self) -> str:
        text = (
            f"webhooks delivered: {self.delivered}, to retry: {self.retrying}, "
            f"failed: {self.failed}, cancelled: {self.cancelled}"
        )
        if self.unreachable:
            text += f" ({self.unreachable} receiver(s) unreachable; their notices wait)"
        return text


@dataclass(frozen=True)
class Outcome:
    status_code: int | None  # None: no HTTP answer
    error: str | None  # our words: an error class, or "HTTP 500"

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


ADDRESS_REFUSED = "address not allowed"


class _RefusedAddress(Exception):
    pass


def _lookup(host: str, port: int, timeout: float) -> list[Any]:
    """getaddrinfo within `timeout`: the resolver has no timeout of its own, and a name
    server that does not answer would hold the sender (and every notice after this
    one) for as long as the system's resolver keeps retrying. The lookup goes on in a
    daemon thread after the timeout; its answer is dropped."""
    done = threading.Event()
    answer: dict[str, Any] = {}

    def run() -> None:
        try:
            answer["found"] = socket.getaddrinfo(
                host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
            )
        except (OSError, ValueError) as exc:  # ValueError: a name IDNA cannot encode
            answer["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name="vault-webhook-dns", daemon=True).start()
    if not done.wait(timeout):
        raise TimeoutError("name lookup")
    if "error" in answer:
        raise answer["error"]
    return list(answer["found"])


def _resolve(host: str, port: int, allow_private: bool, timeout: float) -> tuple[str, int]:
    """The address to connect to: every address the name has must be allowed, not only
    the first (a name could hold a public and an internal one)."""
    found = _lookup(host, port, timeout)
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found]
    if not addresses:
        raise OSError("no address")
    if not allow_private and not all(is_public_address(a) for a in addresses):
        raise _RefusedAddress
    return str(addresses[0]), port


# Per run of the sender: (host, port, private allowed) -> the checked address, or the
# exception its resolution ended with.
Resolved = dict[tuple[str, int, bool], "tuple[str, int] | Exception"]


def _resolve_once(
    host: str, port: int, allow_private: bool, timeout: float, resolved: Resolved | None
) -> tuple[str, int]:
    """_resolve, once per run for each host: a run posting many notices to one receiver
    asks the name servers once (and pins every connection of the run to that answer)."""
    key = (host, port, allow_private)
    if resolved is None or key not in resolved:
        try:
            answer: tuple[str, int] | Exception = _resolve(host, port, allow_private, timeout)
        except (_RefusedAddress, OSError, ValueError) as exc:
            answer = exc
        if resolved is None:
            if isinstance(answer, Exception):
                raise answer
            return answer
        resolved[key] = answer
    answer = resolved[key]
    if isinstance(answer, Exception):
        raise answer
    return answer


def _pinned(connection: http.client.HTTPConnection, address: tuple[str, int]) -> None:
    # Connect to the address that was checked, not to whatever a second DNS lookup
    # answers (DNS rebinding); TLS still verifies the certificate for the host name.
    def connect(_where: tuple[str, int], timeout: Any = None, source: Any = None) -> socket.socket:
        return socket.create_connection(address, timeout, source)

    connection._create_connection = connect  # type: ignore[attr-defined]


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
    *,
    allow_private: bool = False,
    testing: bool = False,
    resolved: Resolved | None = None,
) -> Outcome:
    """One POST with a timeout, to an address checked after resolving the name (see
    check_url; the name lookup has the same timeout, and with `resolved` it is done
    once per run for each host); certificates are verified. A redirect is not followed
    (an answer that is not 2xx): following it could send the notice to plain http or to
    a host the officer never entered. The answer's body is never read."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        # The scheme was checked when the URL was entered (check_url): https only.
        if parts.scheme != "https" and not _local_test(parts.scheme, host, testing):
            return Outcome(None, "not https")
        allowed = allow_private or _local_test(parts.scheme, host, testing)
        address = _resolve_once(host, port, allowed, timeout, resolved)
    except _RefusedAddress:
        return Outcome(None, ADDRESS_REFUSED)
    except (OSError, ValueError) as exc:
        return Outcome(None, exc.__class__.__name__)
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(
            host, port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
    _pinned(connection, address)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    # The socket timeout bounds each read, not the whole answer: a receiver sending its
    # status line a byte at a time would hold the sender for ever. The watchdog ends the
    # exchange once `timeout` has passed in all.
    watchdog = threading.Timer(timeout, _abort, args=(connection,))
    watchdog.daemon = True
    watchdog.start()
    code: int | None = None
    error = ""
    try:
        connection.request("POST", path, body=body, headers=headers)
        code = int(connection.getresponse().status)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        error = exc.__class__.__name__
    finally:
        watchdog.cancel()
        connection.close()
    if _aborted(connection):
        return Outcome(None, "TimeoutError")
    if code is None:
        return Outcome(None, error)
    return Outcome(code, None if 200 <= code < 300 else f"HTTP {code}")


def _abort(connection: http.client.HTTPConnection) -> None:
    connection._vault_aborted = True  # type: ignore[attr-defined]
    sock = connection.sock
    if sock is not None:
        try:
            # shutdown, not close: it wakes a read blocked in another thread.
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _aborted(connection: http.client.HTTPConnection) -> bool:
    return bool(getattr(connection, "_vault_aborted", False))


def backoff(attempts: int, config: Mapping[str, Any]) -> timedelta:
    return retry.backoff(attempts, config, "WEBHOOK")


OUTBOX = retry.Outbox(WebhookDelivery, "WEBHOOK")
_Claim = retry.Claim


def _record(
    session: Session,
    claim: _Claim,
    outcome: Outcome,
    *,
    now: datetime,
    config: Mapping[str, Any],
    result: SendResult,
    cancel: bool = False,
) -> None:
    row = OUTBOX.claimed(session, claim)
    if row is None:
        return
    error = outcome.error[:80] if outcome.error else None
    if cancel:
        OUTBOX.release(row)
        row.last_error = error
        row.status = CANCELLED
        result.cancelled += 1
    elif outcome.ok:
        OUTBOX.release(row)
        row.attempts += 1
        row.last_error = None
        row.status = DELIVERED
        row.delivered_at = now
        result.delivered += 1
    # Kept in the delivery log when it gives up; `vault send-webhooks --retry-failed`.
    elif OUTBOX.count_failure(row, error or "", now=now, config=config):
        result.failed += 1
    else:
        result.retrying += 1
    if not cancel:
        row.last_attempt_at = now
        row.last_status_code = outcome.status_code
    session.commit()


Target = tuple[str, str] | str  # (url, secret) to post to, or why notices are cancelled


def _target(session: Session, keys: VaultKeys, client_id: int) -> Target:
    client = session.get(ApiClient, client_id)
    # Checked again at sending: a client revoked after the erasure hears nothing more.
    if client is None or client.revoked_at is not None:
        return REVOKED
    endpoint = endpoint_of(session, client_id)
    if endpoint is None or endpoint.secret is None:
        return "webhook removed"
    return endpoint.url, open_secret(keys, endpoint)


def _target_in_run(
    session: Session, keys: VaultKeys, client_id: int, targets: dict[int, Target | Exception]
) -> Target:
    """_target, looked up (and the secret opened) once per run for each client, not for
    every notice. A revocation or a new secret during a run counts from the next run."""
    if client_id not in targets:
        try:
            targets[client_id] = _target(session, keys, client_id)
        except (DecryptionError, KeysChanged, KeyManagerUnavailable) as exc:
            targets[client_id] = exc
    found = targets[client_id]
    if isinstance(found, Exception):
        raise found
    return found


def flush(
    session: Session,
    keys: VaultKeys,
    *,
    now: datetime,
    config: Mapping[str, Any],
    clock: Callable[[], datetime] | None = None,
) -> SendResult:
    """Post due notices (at most WEBHOOK_FLUSH_BATCH). Commits: it owns its protocol;
    call it with no transaction of the caller's open. `now` is when the run starts;
    `clock` (the app's clock) gives the time of each claim, signature and outcome (when
    not given: `now` plus the time elapsed)."""
    allow_private = bool(config.get("WEBHOOK_ALLOW_PRIVATE_ADDRESSES"))
    testing = bool(config.get("TESTING"))
    resolved: Resolved = {}
    tick = retry.run_clock(now, clock)
    result = SendResult()
    # Clients whose receiver gave no answer in this run (refused, timed out, no such
    # name): their other notices are not taken in this run, so one receiver that is
    # down costs one timeout per run, not one per notice, and does not hold up the
    # others. They stay queued, untouched, for the next run.
    down: set[int] = set()
    targets: dict[int, Target | Exception] = {}
    session.commit()
    for _ in range(int(config["WEBHOOK_FLUSH_BATCH"])):
        skip = (WebhookDelivery.client_id.not_in(sorted(down)),) if down else ()
        claim = OUTBOX.claim_next(session, now=tick(), config=config, where=skip)
        if claim is None:
            break
        row = OUTBOX.claimed(session, claim)
        if row is None:
            continue
        client_id, event_id, body = row.client_id, row.event_id, row.payload.encode("utf-8")
        try:
            target = _target_in_run(session, keys, client_id, targets)
        except (DecryptionError, KeysChanged, KeyManagerUnavailable) as exc:
            # The secret cannot be opened now (a retired KEK: set a new secret; or a key
            # manager away): counted as a failed attempt, retried with backoff.
            session.commit()
            _record(
                session,
                claim,
                Outcome(None, exc.__class__.__name__),
                now=tick(),
                config=config,
                result=result,
            )
            continue
        # No lock is held while the receiver is spoken to.
        session.commit()
        if isinstance(target, str):
            _record(
                session,
                claim,
                Outcome(None, target),
                now=tick(),
                config=config,
                result=result,
                cancel=True,
            )
            continue
        url, secret = target
        outcome = post(
            url,
            body,
            signed_headers(secret, event_id, body, int(tick().timestamp())),
            float(config["WEBHOOK_TIMEOUT_SECONDS"]),
            allow_private=allow_private,
            testing=testing,
            resolved=resolved,
        )
        _record(session, claim, outcome, now=tick(), config=config, result=result)
        if outcome.status_code is None:
            down.add(client_id)
    result.unreachable = len(down)
    return result


def stats(session: Session) -> dict[str, int]:
    """Notices per status (for `vault send-webhooks` and the desk): no personal data."""
    rows = session.execute(
        select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)
    ).all()
    counts = dict.fromkeys(STATUSES, 0)
    counts.update({status: int(n) for status, n in rows})
    return counts


def _send_in_thread(app: Flask) -> None:
    from vault.appctx import now, vault_keys
    from vault.extensions import db

    with app.app_context():
        try:
            flush(db.session, vault_keys(), now=now(), config=app.config, clock=now)
        except (SQLAlchemyError, DecryptionError, KeyringError, OSError) as exc:
            # The notices stay queued: the timer (or --loop) tries again.
            log.warning("webhook run stopped: %s", exc.__class__.__name__)
        finally:
            db.session.remove()


def send_after_response() -> None:
    """Post the notices this request's erasure queued once its response has gone, in a
    daemon thread (as the mail queue does): `make run` needs no timer, and the person
    erasing never waits on a receiver. The timer retries whatever this leaves."""
    if not has_request_context() or not current_app.config["WEBHOOK_SEND_AFTER_RESPONSE"]:
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    @after_this_request
    def start_sender(response: Response) -> Response:
        response.call_on_close(
            lambda: threading.Thread(
                target=_send_in_thread, args=(app,), name=SENDER_THREAD, daemon=True
            ).start()
        )
        return response
