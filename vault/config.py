"""All defaults in one table. Environment variables VAULT_<KEY> and instance/config.py
override them. Secrets have no default at all: SECRET_KEY and the keyring come from
the environment or from files that 'vault init' creates."""

from __future__ import annotations

from typing import Any

MiB = 1024 * 1024

DEFAULTS: dict[str, Any] = {
    # Where the database lives; None means the SQLite file instance/vault.db.
    "DATABASE_URL": None,
    # Keyring: VAULT_KEYRING (base64 JSON) wins over the file instance/keyring.
    "KEYRING": None,
    "KEYRING_FILE": None,
    # How often a worker compares its keyring with the generation in the database (one
    # primary-key read of one row, at most once per request). 0: on every request, so a
    # rotation or retirement by another process applies from the next request on.
    "KEYRING_CHECK_SECONDS": 0,
    # Where the KEKs live: "file" (the keyring above, the default for 'make run') or
    # "transit" (OpenBao / HashiCorp Vault Transit; the KEKs never leave it). The token
    # comes from VAULT_TRANSIT_TOKEN or the file VAULT_TRANSIT_TOKEN_FILE, never argv.
    "KEK_BACKEND": "file",
    "TRANSIT_ADDR": None,
    "TRANSIT_TOKEN": None,
    "TRANSIT_TOKEN_FILE": None,
    # Or an AppRole login (the token is then renewed, and replaced by a new login when
    # it expires): VAULT_TRANSIT_ROLE_ID and VAULT_TRANSIT_SECRET_ID, each also from a
    # file (..._FILE), never argv.
    "TRANSIT_ROLE_ID": None,
    "TRANSIT_ROLE_ID_FILE": None,
    "TRANSIT_SECRET_ID": None,
    "TRANSIT_SECRET_ID_FILE": None,
    "TRANSIT_APPROLE_MOUNT": "approle",
    "TRANSIT_MOUNT": "transit",
    # The KEK key (rotated and trimmed) and the key wrapping the blind-index and audit
    # root keys (never rotated: the audit chain's key must never change).
    "TRANSIT_KEY": "vault-kek",
    "TRANSIT_ROOTS_KEY": "vault-roots",
    # The wrapped root keys; None: instance/keyring.transit.
    "TRANSIT_ROOTS_FILE": None,
    "TRANSIT_TIMEOUT_SECONDS": 5,
    # After the key manager failed to answer, calls fail at once (503) for this long
    # instead of each request waiting for the timeout again; /readyz still asks it.
    "KEY_MANAGER_DOWN_SECONDS": 5,
    # "pkcs11": a hardware security module. The PIN comes from VAULT_PKCS11_PIN or the
    # file VAULT_PKCS11_PIN_FILE, never argv.
    "PKCS11_MODULE": None,
    "PKCS11_TOKEN_LABEL": "vault",
    "PKCS11_PIN": None,
    "PKCS11_PIN_FILE": None,
    "PKCS11_KEY": "vault-kek",
    "PKCS11_ROOTS_KEY": "vault-roots",
    # The wrapped root keys; None: instance/keyring.pkcs11.
    "PKCS11_ROOTS_FILE": None,
    # Secret key file written by 'vault init' when VAULT_SECRET_KEY is not set.
    "SECRET_KEY_FILE": None,
    "SECRET_KEY_FALLBACKS": [],
    # Authoritative erasure ledger, outside the database so that a restore cannot undo it.
    "ERASURE_LEDGER": None,
    # Anchors of the audit chain's head, outside the database like the ledger: deleting
    # the newest events or restoring an old backup shows against them in 'vault check'.
    "AUDIT_ANCHOR": None,
    "BLIND_INDEX_BITS": 32,
    # Served behind HTTPS: Secure cookies. 'make run' on http://127.0.0.1 turns it off.
    "HTTPS": True,
    # Reverse proxies in front of the app (0: none). Set it to their number in production,
    # or every client shares the proxy's address for rate limits.
    "PROXY_HOPS": 0,
    "MAX_CONTENT_LENGTH": 10 * MiB,
    # Hard limits of one upload's inspection and text extraction (OCR included), which
    # run in a child process (vault/sandbox.py): past them the file is refused. 2.8 s, so
    # that with killing and reaping the child every upload is answered within 3 s.
    "UPLOAD_INSPECT_SECONDS": 2.8,
    "UPLOAD_INSPECT_MEMORY_MB": 200,
    # Read scanned PDFs with Tesseract (Dutch, French, English) when it is installed.
    "UPLOAD_OCR": True,
    # A CV accepted while the rest of the form had an error is held (sealed) this long,
    # so the applicant need not choose it again (vault/services/held_uploads.py).
    "HELD_UPLOAD_MINUTES": 30,
    "COMPANIES": ["Ingenium", "Hoptimize"],
    # Links mailed to candidates start with this, never with the request's Host header.
    # Its origin is also the one whose pages may post forms (see vault/csrf.py).
    "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
    # Other origins whose pages may post forms, e.g. ["https://staff.example.com"] when
    # staff use a host of their own.
    "TRUSTED_ORIGINS": [],
    # Personal links (self-service) expire after this many days.
    "LINK_MAX_AGE_DAYS": 30,
    # A link confirming a new e-mail address works once, for this many hours.
    "EMAIL_CHANGE_MAX_AGE_HOURS": 24,
    # Retention (see README "Retention"): application data 180 days after the vacancy
    # closes or the application ends; talent-pool consent 24 months; reminders 30 and
    # 7 days before it expires; 7 days' grace after expiry, then shredding.
    "APPLICATION_RETENTION_DAYS": 180,
    "TALENT_POOL_MONTHS": 24,
    "REMINDER_DAYS": [30, 7],
    "GRACE_DAYS": 7,
    # Data-subject requests must be answered within 4 weeks.
    "REQUEST_DUE_DAYS": 28,
    # Mail: .eml files in instance/outbox unless MAIL_BACKEND is "smtp".
    "MAIL_BACKEND": "outbox",
    "MAIL_SENDER": "privacy@ingenium-group.example",
    "MAIL_SMTP_HOST": "localhost",
    "MAIL_SMTP_PORT": 587,
    "MAIL_SMTP_STARTTLS": True,
    "MAIL_SMTP_USERNAME": None,
    "MAIL_SMTP_PASSWORD": None,
    # A private CA bundle for the SMTP server's certificate (None: the system's CAs).
    "MAIL_SMTP_CAFILE": None,
    # Seconds for each SMTP connect/read: a server that accepts and never answers costs a
    # sender this much, never a request (requests only enqueue).
    "MAIL_SMTP_TIMEOUT": 20,
    # The durable mail queue (vault/services/mail_queue.py). A failed delivery is retried
    # after MAIL_RETRY_BASE_SECONDS, doubling up to MAIL_RETRY_MAX_SECONDS; after
    # MAIL_MAX_ATTEMPTS the message stays in the queue as failed (the officer's desk and
    # the metrics count it) and is never deleted unsent.
    "MAIL_RETRY_BASE_SECONDS": 60,
    "MAIL_RETRY_MAX_SECONDS": 6 * 3600,
    "MAIL_MAX_ATTEMPTS": 12,
    # How long a sender holds a message it took (longer than one SMTP conversation), so
    # two senders never deliver the same message; messages taken per run.
    "MAIL_CLAIM_SECONDS": 300,
    "MAIL_FLUSH_BATCH": 100,
    # After a response that queued mail, deliver it in a background thread of this
    # process (the response never waits). The worker (`vault send-mail --loop`) or the
    # retention job retries whatever that leaves behind. Tests turn it off and flush.
    "MAIL_FLUSH_AFTER_RESPONSE": True,
    # Seconds between runs of `vault send-mail --loop`.
    "MAIL_WORKER_INTERVAL": 30,
    # Erasure notices to API clients (vault.services.webhooks, `vault send-webhooks`):
    # each POST waits at most WEBHOOK_TIMEOUT_SECONDS; a failure is retried after
    # WEBHOOK_RETRY_BASE_SECONDS, doubling up to WEBHOOK_RETRY_MAX_SECONDS; after
    # WEBHOOK_MAX_ATTEMPTS the notice stays in the delivery log as failed.
    "WEBHOOK_TIMEOUT_SECONDS": 10,
    "WEBHOOK_RETRY_BASE_SECONDS": 60,
    "WEBHOOK_RETRY_MAX_SECONDS": 6 * 3600,
    "WEBHOOK_MAX_ATTEMPTS": 10,
    "WEBHOOK_CLAIM_SECONDS": 120,
    "WEBHOOK_FLUSH_BATCH": 100,
    "WEBHOOK_WORKER_INTERVAL": 30,
    # After a request that erased someone, post the notices in a background thread of
    # this process (like MAIL_FLUSH_AFTER_RESPONSE); tests turn it off and send.
    "WEBHOOK_SEND_AFTER_RESPONSE": True,
    # Webhook URLs naming a loopback, private or link-local address (or a name that
    # resolves to one at sending) are refused: the sender would otherwise reach the
    # vault's own network (SSRF). True only for a receiver inside that network on purpose.
    "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": False,
    # Rate limits (Flask-Limiter). VAULT_RATELIMIT_ENABLED=0 turns them off for load tests.
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "memory://",
    # When the shared store (Redis) is down, limits keep being enforced per worker in
    # memory (logged as an error) instead of every limited page failing with a 500.
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
    # A store that does not answer must not hold a request for long (redis-py waits
    # forever by default); memory:// ignores these.
    "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    "RATELIMIT_HEADERS_ENABLED": True,
    "RATELIMIT_APPLY": "20 per hour",
    "RATELIMIT_LINK_REQUEST": "5 per hour",
    # Personal links that fail (invalid, expired, replaced), per client: guessing is
    # stopped while a person opening their own valid link is never counted.
    "RATELIMIT_BAD_LINK": "20 per hour",
    "RATELIMIT_LOGIN": "10 per minute",
    # Requests for a password reset link, per client.
    "RATELIMIT_PASSWORD_RESET": "5 per hour",
    # /api/v1: each API client's budget over all operations (vault.api.auth), and the
    # calls refused for their token (401), per calling address, before any token lookup.
    "RATELIMIT_API": "120 per minute",
    "RATELIMIT_API_AUTH_FAILURES": "30 per minute",
    # Failed logins (ASVS 2.2.1, no lock-out by strangers): the pair (account, client) is
    # refused after LOGIN_MAX_FAILURES within LOGIN_LOCK_MINUTES; the account as a whole
    # is only slowed down: past LOGIN_ACCOUNT_SOFT_FAILURES (from any clients) each login
    # waits a growing delay (LOGIN_DELAY_SECONDS doubling, at most LOGIN_DELAY_MAX_SECONDS),
    # so its owner still gets in.
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_LOCK_MINUTES": 15,
    "LOGIN_ACCOUNT_SOFT_FAILURES": 10,
    "LOGIN_DELAY_SECONDS": 0.25,
    "LOGIN_DELAY_MAX_SECONDS": 4,
    # Staff sessions end after this long without a request, and this long after login
    # whatever happens (ASVS 3.3.1, 3.3.2); both enforced on the server.
    "SESSION_IDLE_MINUTES": 30,
    "SESSION_ABSOLUTE_HOURS": 12,
    # Password links: a reset link works once for this many minutes; the link a new
    # account gets to set its first password, this many hours.
    "PASSWORD_RESET_MINUTES": 30,
    "PASSWORD_SETUP_HOURS": 72,
    # Second factor (TOTP or passkey): always for the privacy officer; for recruiters
    # unless VAULT_REQUIRE_2FA=0.
    "REQUIRE_2FA": True,
    # How long a password accepted at login waits for its second factor.
    "SECOND_FACTOR_MINUTES": 5,
    # The name authenticator apps and passkey dialogs show.
    "TOTP_ISSUER": "Ingenium group vault",
    # WebAuthn relying party: the host name of PUBLIC_BASE_URL unless set.
    "WEBAUTHN_RP_ID": None,
    # Exports and erasure by staff need a login younger than this.
    "FRESH_LOGIN_MINUTES": 15,
    "SEARCH_PAGE_SIZE": 20,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "WTF_CSRF_TIME_LIMIT": 3600 * 8,
    # Flask-WTF's HTTPS check wants a Referer naming the request's Host: browsers that
    # strip the Referer, and every request behind a proxy, would fail it. The origin
    # check of vault/csrf.py replaces it (Origin and Sec-Fetch-Site against the
    # configured origins); the token check stays.
    "WTF_CSRF_SSL_STRICT": False,
    # Logs: JSON lines on stderr (LOG_JSON=0 leaves logging to the host application).
    "LOG_JSON": True,
    "LOG_LEVEL": "INFO",
    # Who writes the one line per request: "app" (make run, tests) or "server" (gunicorn's
    # access log, from the fields the app hands it; gunicorn.conf.py sets it).
    "REQUEST_LOG": "app",
    # /metrics answers only clients in these networks (others get a 404). Behind the
    # reverse proxy the client address is the forwarded one (PROXY_HOPS).
    "METRICS_ALLOWED_NETWORKS": ["127.0.0.1/32", "::1/128"],
    # /readyz fails when the mail queue holds more than this many messages, or its
    # oldest one has waited longer than this (checked once the queue registers a probe).
    "READY_MAIL_BACKLOG_MAX": 500,
    "READY_MAIL_MAX_AGE_MINUTES": 30,
}
