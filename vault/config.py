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
    # Secret key file written by 'vault init' when VAULT_SECRET_KEY is not set.
    "SECRET_KEY_FILE": None,
    "SECRET_KEY_FALLBACKS": [],
    # Authoritative erasure ledger, outside the database so that a restore cannot undo it.
    "ERASURE_LEDGER": None,
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
    "COMPANIES": ["Ingenium", "Hoptimize"],
    # Links mailed to candidates start with this, never with the request's Host header.
    "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
    # Personal links (self-service) expire after this many days.
    "LINK_MAX_AGE_DAYS": 30,
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
    "MAIL_SMTP_TIMEOUT": 20,
    # Rate limits (Flask-Limiter). VAULT_RATELIMIT_ENABLED=0 turns them off for load tests.
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_HEADERS_ENABLED": True,
    "RATELIMIT_APPLY": "20 per hour",
    "RATELIMIT_LINK_REQUEST": "5 per hour",
    "RATELIMIT_LOGIN": "10 per minute",
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_LOCK_MINUTES": 15,
    # Exports and erasure by staff need a login younger than this.
    "FRESH_LOGIN_MINUTES": 15,
    "SEARCH_PAGE_SIZE": 20,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "WTF_CSRF_TIME_LIMIT": 3600 * 8,
}
