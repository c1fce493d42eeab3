"""`vault import`: JSON Lines in the export schema, the way in from another system.

Every line is validated before anything is written, and the whole file goes in as
one transaction: a file with one bad line imports nothing, and the report names each
bad line by number with a reason that never repeats its content.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.orm import Session

from vault.keys import VaultKeys
from vault.services import audit, consent
from vault.services.candidates import (
    MAX_EDUCATION,
    CandidateInput,
    DocumentInput,
    EducationInput,
    create_candidate,
)
from vault.uploads import UploadRejected, inspect_upload

MAX_FIELD = 2000
MAX_LINE = 20 * 1024 * 1024  # a base64 CV of 10 MiB and some text


class LineRejected(ValueError):
    pass


@dataclass
class ImportReport:
    imported: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True)
class _Parsed:
    data: CandidateInput
    pool_until: datetime | None


def _text(value: Any, name: str, *, required: bool = False, limit: int = MAX_FIELD) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise LineRejected(f"{name} must be a string")
    value = value.strip()
    if required and not value:
        raise LineRejected(f"{name} is required")
    if len(value) > limit:
        raise LineRejected(f"{name} is longer than {limit} characters")
    return value


def _section(record: dict[str, Any], name: str) -> dict[str, Any]:
    value = record.get(name) or {}
    if not isinstance(value, dict):
        raise LineRejected(f"{name} must be an object")
    return value


def _document(record: dict[str, Any]) -> DocumentInput | None:
    documents = record.get("documents") or []
    if not isinstance(documents, list):
        raise LineRejected("documents must be a list")
    with_content = [d for d in documents if isinstance(d, dict) and d.get("content")]
    if not with_content:
        return None
    doc = with_content[-1]
    try:
        content = base64.b64decode(doc["content"], validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise LineRejected("documents.content is not base64") from None
    try:
        return inspect_upload(content, _text(doc.get("filename"), "documents.filename",
                                             required=True, limit=200))
    except UploadRejected as exc:
        raise LineRejected(f"CV refused: {exc.reason}") from None


def _pool_until(record: dict[str, Any], now: datetime) -> datetime | None:
    until = record.get("talent_pool_until")
    if until is None:
        return None
    try:
        moment = datetime.fromisoformat(until)
    except (TypeError, ValueError):
        raise LineRejected("talent_pool_until is not an ISO date-time") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment if moment > now else None  # consent that has run out does not come along


def parse_line(line: str | bytes, now: datetime) -> _Parsed:
    if len(line) > MAX_LINE:
        raise LineRejected("line too long")
    try:
        record = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise LineRejected("not valid JSON") from None
    if not isinstance(record, dict):
        raise LineRejected("a line must be one JSON object (a record of the export schema)")
    contact = _section(record, "contact")
    personal = _section(record, "personal")
    email = _text(contact.get("email"), "contact.email", required=True, limit=254)
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        raise LineRejected("contact.email is not a valid e-mail address") from None
    education = record.get("education") or []
    if not isinstance(education, list) or not all(isinstance(e, dict) for e in education):
        raise LineRejected("education must be a list of objects")
    if len(education) > MAX_EDUCATION:
        raise LineRejected(f"more than {MAX_EDUCATION} education entries")
    data = CandidateInput(
        full_name=_text(contact.get("full_name"), "contact.full_name", required=True, limit=200),
        email=email, phone=_text(contact.get("phone"), "contact.phone", limit=40),
        position=_text(record.get("position"), "position", limit=200),
        age=_text(personal.get("age"), "personal.age", limit=3),
        gender=_text(personal.get("gender"), "personal.gender", limit=40),
        interests=_text(record.get("interests"), "interests"),
        education=tuple(EducationInput(
            _text(e.get("degree"), "education.degree", limit=200),
            _text(e.get("field"), "education.field", limit=200),
            _text(e.get("institution"), "education.institution", limit=200),
            _text(e.get("year"), "education.year", limit=4)) for e in education),
        cv=_document(record))
    return _Parsed(data, _pool_until(record, now))


def import_jsonl(session: Session, keys: VaultKeys, lines: Iterable[str | bytes], *,
                 now: datetime, notice_version: str) -> ImportReport:
    report = ImportReport()
    parsed: list[_Parsed] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            parsed.append(parse_line(line, now))
        except LineRejected as exc:
            report.rejected.append((number, str(exc)))
    if report.rejected:
        return report
    memo: dict[str, str] = {}
    for item in parsed:
        candidate = create_candidate(session, keys, item.data, now=now, source="import",
                                     token_memo=memo)
        consent.record_consent(session, candidate, consent.APPLICATION, consent.GRANTED,
                               notice_version=notice_version, source="import", now=now)
        if item.pool_until is not None:
            # The consent given elsewhere, kept with its own end date, never extended.
            consent.record_consent(session, candidate, consent.TALENT_POOL, consent.GRANTED,
                                   notice_version=notice_version, source="import", now=now,
                                   expires_at=item.pool_until)
        audit.record(session, audit.CLI, audit.CANDIDATE_CREATED, now=now,
                     subject=candidate.public_id, detail="import")
    report.imported = len(parsed)
    return report
