"""`vault import`: records of the export schema, the way in from another system.

It reads exactly what the exports write (import_file): export.json as a whole (the
pretty-printed document), JSON Lines (one RECORD of docs/export-schema.md per line),
and export.zip, whose CV files (documents[].zip_path) come in with their records.
Every record is validated before anything is written, and the whole file goes in as
one transaction: a file with one bad record imports nothing, and the report names each
bad line (or record) by number with a reason that never repeats its content (the
content is personal data).

What a line's fields become:
- contact, position, personal, interests, education: the new record's data, checked
  by the same rules as the application form;
- documents[].content (base64 PDF or DOCX, at most one per line): the CV, inspected
  exactly like an upload;
- consents: the ledger as it was, event by event (purpose, event, time, privacy-notice
  version, source, end), so that what the person agreed to, on which notice and when,
  travels with their data; without an application event, an import one is added;
- talent_pool_until (or, without it, the last talent-pool event in consents): a live
  talent-pool consent, kept with its own end date but never longer than this
  controller's pool period (a shorter end is recorded as an import event);
- companies: the companies the record is for (among COMPANIES): their recruiters see
  it and set its status, as for a spontaneous application naming them (services.access);
  an unknown name refuses the line, since it would show the record to nobody it was
  meant for;
- public_id, created_at, source, status, vacancy, notes, staff_access, requests:
  ignored. The record gets a new random public id, source "import", status "new".

An imported record's address is another system's word, not its owner's: the record is
created unconfirmed, a person of its own, and joins the records of its address (and
their self-service view) only once the address confirms by the link `vault import`
mails to it (services.identity). An address another person already uses is therefore
never merged into on the file's say-so.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, BinaryIO

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.orm import Session

from vault.config import DEFAULTS
from vault.keys import VaultKeys
from vault.services import audit, bulkload, consent
from vault.services import candidates as rules  # the field rules the forms check too
from vault.services.candidates import (
    CandidateInput,
    DocumentInput,
    EducationInput,
    UnknownCompany,
    chosen_companies,
    create_candidate,
)
from vault.services.indexing import TokenMemo

SOURCE = "import"
MAX_FILENAME = 200
MAX_CONSENT_EVENTS = 1000
MAX_NOTICE_VERSION = 20  # the ledger's columns
MAX_CONSENT_SOURCE = 20
CONSENT_PURPOSES = (consent.APPLICATION, consent.TALENT_POOL)
CONSENT_EVENTS = (consent.GRANTED, consent.RENEWED, consent.WITHDRAWN, consent.EXPIRED)
SCHEMA_VERSION = 1  # the export schema versions this import reads
ZIP_MAGIC = b"PK\x03\x04"
ZIP_DOCUMENT = "export.json"
# export.zip names its CV files cv/<public_id>-<stored name> (exports._cv_path): only
# such a name is ever looked up, so a record cannot point the import at another entry.
ZIP_CV_PATH = re.compile(r"cv/[A-Za-z0-9_-]{1,64}-[A-Za-z0-9._-]{1,128}")
MAX_FILE = 512 * 1024 * 1024
MAX_DOCUMENT = 256 * 1024 * 1024  # export.json inside a ZIP, before it is unpacked
MAX_CV_BYTES = DEFAULTS["MAX_CONTENT_LENGTH"]
# A base64 CV of MAX_CV_BYTES plus the text fields; checked before parsing the JSON.
MAX_LINE = MAX_CV_BYTES * 4 // 3 + 1024 * 1024
PHONE = re.compile(rules.PHONE_PATTERN)
YEAR = re.compile(rules.YEAR_PATTERN)


class LineRejected(ValueError):
    """Why a line was refused. Names fields only, never their values."""


class FileRejected(ValueError):
    """Why a whole file was refused (not a ZIP, no export.json, another schema version).
    Names the problem only, never the file's content."""


@dataclass
class ImportReport:
    imported: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    public_ids: list[str] = field(default_factory=list)  # the new records, unconfirmed
    unit: str = "line"  # what the numbers of `rejected` count: "line" or "record"
    # import_jsonl_stream with Confirmations: the records asked, in the same transaction,
    # to confirm their address (each with its pending change and its mail queued)
    queued: int = 0


@dataclass(frozen=True)
class ConsentEvent:
    purpose: str
    event: str
    at: datetime
    notice_version: str
    source: str
    expires_at: datetime | None


@dataclass(frozen=True)
class ParsedRecord:
    data: CandidateInput
    pool_until: datetime | None
    companies: tuple[str, ...] = ()
    consents: tuple[ConsentEvent, ...] = ()


# A CV file of the archive by its zip_path, or None when the archive has none so named.
CvFiles = Callable[[str], bytes | None]


def _text(value: Any, name: str, *, limit: int, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise LineRejected(f"{name} must be a string")
    value = value.strip()
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            # JSON may escape a lone surrogate (\ud800), which no UTF-8 text holds:
            # refused here, as bad input of the line, not later when it is sealed.
            raise LineRejected(f"{name} is not valid text") from None
    if required and not value:
        raise LineRejected(f"{name} is required")
    if len(value) > limit:
        raise LineRejected(f"{name} is longer than {limit} characters")
    return value


def _number_text(value: Any, name: str, *, limit: int) -> str:
    # Another system may write an age or a year as a JSON number; this one keeps text.
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return _text(value, name, limit=limit)


def _section(record: dict[str, Any], name: str) -> dict[str, Any]:
    value = record.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise LineRejected(f"{name} must be an object")
    return value


def _list_of_objects(record: dict[str, Any], name: str) -> list[dict[str, Any]]:
    value = record.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise LineRejected(f"{name} must be a list of objects")
    return value


def _companies(record: dict[str, Any], known: Sequence[str]) -> tuple[str, ...]:
    value = record.get("companies")
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise LineRejected("companies must be a list of company names")
    if not value:
        return ()
    try:
        return chosen_companies(value, known)
    except UnknownCompany:
        raise LineRejected(f"companies may name only {', '.join(known)}") from None
    except ValueError:
        return ()  # only empty names: the record names no company


def _email(contact: dict[str, Any]) -> str:
    email = _text(contact.get("email"), "contact.email", limit=rules.MAX_EMAIL, required=True)
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        raise LineRejected("contact.email is not a valid e-mail address") from None
    return email


def _personal(personal: dict[str, Any]) -> tuple[str, str]:
    age = _number_text(personal.get("age"), "personal.age", limit=3)
    if age and not (age.isdigit() and rules.MIN_AGE <= int(age) <= rules.MAX_AGE):
        raise LineRejected(
            f"personal.age must be a whole number from {rules.MIN_AGE} to {rules.MAX_AGE}")
    gender = _text(personal.get("gender"), "personal.gender", limit=40)
    if gender and gender not in rules.GENDERS:
        raise LineRejected("personal.gender must be one of: " + ", ".join(rules.GENDERS))
    return age, gender


def _education(record: dict[str, Any]) -> tuple[EducationInput, ...]:
    rows = _list_of_objects(record, "education")
    if len(rows) > rules.MAX_EDUCATION:
        raise LineRejected(f"more than {rules.MAX_EDUCATION} education entries")
    entries = []
    for number, row in enumerate(rows, start=1):
        name = f"education[{number}]"
        degree, field_, institution = (
            _text(row.get(key), f"{name}.{key}", limit=rules.MAX_EDUCATION_FIELD)
            for key in ("degree", "field", "institution"))
        year = _number_text(row.get("year"), f"{name}.year", limit=4)
        if not (degree or field_ or institution or year):
            continue  # an empty row says nothing
        if not (degree and field_ and institution):
            raise LineRejected(f"{name} needs a degree, a field and an institution")
        if year and not YEAR.fullmatch(year):
            raise LineRejected(f"{name}.year must be a year such as 2019")
        entries.append(EducationInput(degree, field_, institution, year))
    return tuple(entries)


def _zip_content(document: dict[str, Any], cv_files: CvFiles, max_cv_bytes: int) -> bytes:
    path = document.get("zip_path")
    if not isinstance(path, str) or not ZIP_CV_PATH.fullmatch(path):
        raise LineRejected("documents.zip_path is not a CV file name of export.zip")
    content = cv_files(path)
    if content is None:
        raise LineRejected("documents.zip_path names no file in the archive")
    if len(content) > max_cv_bytes:
        raise LineRejected(f"documents.content is larger than {max_cv_bytes} bytes")
    return content


def _cv(record: dict[str, Any], max_cv_bytes: int,
        cv_files: CvFiles | None = None) -> DocumentInput | None:
    # Imported lazily: the upload inspector pulls in the PDF and DOCX parsers.
    from vault.uploads import UploadRejected, inspect_upload

    # From a ZIP, a document without content is the file its zip_path names.
    with_content = [d for d in _list_of_objects(record, "documents")
                    if d.get("content") is not None
                    or (cv_files is not None and d.get("zip_path") is not None)]
    if not with_content:
        return None  # documents listed without their bytes: there is nothing to import
    if len(with_content) > 1:
        raise LineRejected("only one document per line may carry content")
    document = with_content[0]
    if document.get("content") is None and cv_files is not None:
        content = _zip_content(document, cv_files, max_cv_bytes)
    else:
        content = _base64_content(document["content"], max_cv_bytes)
    filename = _text(document.get("filename"), "documents.filename", limit=MAX_FILENAME,
                     required=True)
    try:
        # The same inspection as an upload: type from the bytes, no active content.
        return inspect_upload(content, filename)
    except UploadRejected as exc:  # its reason never holds the file's name or content
        raise LineRejected(f"documents.content refused: {exc.reason}") from None


def _base64_content(encoded: Any, max_cv_bytes: int) -> bytes:
    if not isinstance(encoded, str):
        raise LineRejected("documents.content must be a base64 string")
    if len(encoded) > max_cv_bytes * 4 // 3 + 4:
        raise LineRejected(f"documents.content is larger than {max_cv_bytes} bytes")
    try:
        content = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise LineRejected("documents.content is not valid base64") from None
    if len(content) > max_cv_bytes:
        raise LineRejected(f"documents.content is larger than {max_cv_bytes} bytes")
    return content


def _moment(value: Any, name: str) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise LineRejected(f"{name} is not an ISO 8601 date-time")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise LineRejected(f"{name} is not an ISO 8601 date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _pool_until(record: dict[str, Any], *, now: datetime, pool_months: int) -> datetime | None:
    """The end of a live talent-pool consent the line carries, or None.

    The line says so by talent_pool_until (as export.json writes it) or, lacking that
    field, by its last talent-pool event being a grant or renewal with an end date.
    """
    events = _list_of_objects(record, "consents")
    if len(events) > MAX_CONSENT_EVENTS:
        raise LineRejected(f"more than {MAX_CONSENT_EVENTS} consent events")
    if "talent_pool_until" in record:
        raw = record["talent_pool_until"]
        until = None if raw is None else _moment(raw, "talent_pool_until")
    else:
        pool = [e for e in events if e.get("purpose") == consent.TALENT_POOL]
        last = pool[-1] if pool else None
        if last is None or last.get("event") not in (consent.GRANTED, consent.RENEWED):
            return None
        raw = last.get("expires_at")
        until = None if raw is None else _moment(raw, "consents.expires_at")
    if until is None or until <= now:
        return None  # consent that has run out (or never had an end) does not come along
    # Never longer than this controller's notice promises, whatever the other system said.
    return min(until, consent.add_months(now, pool_months))


def _consents(record: dict[str, Any], *, now: datetime) -> tuple[ConsentEvent, ...]:
    """The consent ledger the record carries, checked event by event, in time order."""
    events = _list_of_objects(record, "consents")
    if len(events) > MAX_CONSENT_EVENTS:
        raise LineRejected(f"more than {MAX_CONSENT_EVENTS} consent events")
    ledger = []
    for number, event in enumerate(events, start=1):
        name = f"consents[{number}]"
        if event.get("purpose") not in CONSENT_PURPOSES:
            raise LineRejected(f"{name}.purpose must be one of: " + ", ".join(CONSENT_PURPOSES))
        if event.get("event") not in CONSENT_EVENTS:
            raise LineRejected(f"{name}.event must be one of: " + ", ".join(CONSENT_EVENTS))
        at = _moment(event.get("at"), f"{name}.at")
        if at > now:
            # A consent cannot have been given after the file was made.
            raise LineRejected(f"{name}.at is in the future")
        raw_end = event.get("expires_at")
        ledger.append(ConsentEvent(
            purpose=event["purpose"], event=event["event"], at=at,
            notice_version=_text(event.get("notice_version"), f"{name}.notice_version",
                                 limit=MAX_NOTICE_VERSION, required=True),
            source=_text(event.get("source"), f"{name}.source",
                         limit=MAX_CONSENT_SOURCE) or SOURCE,
            expires_at=None if raw_end is None else _moment(raw_end, f"{name}.expires_at")))
    return tuple(sorted(ledger, key=lambda e: e.at))  # stable: equal times keep their order


def parse_record(record: Any, *, now: datetime, pool_months: int,
                 max_cv_bytes: int = MAX_CV_BYTES,
                 companies: Sequence[str] = DEFAULTS["COMPANIES"],
                 cv_files: CvFiles | None = None) -> ParsedRecord:
    """One RECORD (already parsed JSON) to the input of create_candidate, or LineRejected.

    cv_files: the CV files of export.zip, when the record comes from one."""
    if not isinstance(record, dict):
        raise LineRejected("a line must be one JSON object (a record of the export schema)")
    contact = _section(record, "contact")
    age, gender = _personal(_section(record, "personal"))
    data = CandidateInput(
        full_name=_text(contact.get("full_name"), "contact.full_name", limit=rules.MAX_NAME,
                        required=True),
        email=_email(contact),
        phone=_text(contact.get("phone"), "contact.phone", limit=rules.MAX_PHONE),
        position=_text(record.get("position"), "position", limit=rules.MAX_POSITION),
        age=age, gender=gender,
        interests=_text(record.get("interests"), "interests", limit=rules.MAX_INTERESTS),
        education=_education(record),
        cv=_cv(record, max_cv_bytes, cv_files))
    if data.phone and not PHONE.fullmatch(data.phone):
        raise LineRejected("contact.phone may hold digits, spaces and + ( ) . / - only")
    ledger = _consents(record, now=now)  # first: it names the event that is wrong
    return ParsedRecord(data, _pool_until(record, now=now, pool_months=pool_months),
                        _companies(record, companies), ledger)


def parse_line(line: str | bytes, *, now: datetime, pool_months: int,
               max_cv_bytes: int = MAX_CV_BYTES,
               companies: Sequence[str] = DEFAULTS["COMPANIES"]) -> ParsedRecord:
    """One line of JSON Lines to the input of create_candidate, or LineRejected."""
    if len(line) > MAX_LINE:
        raise LineRejected("the line is too long")
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):  # JSON syntax, bad UTF-8, absurd nesting
        raise LineRejected("not valid JSON") from None
    return parse_record(record, now=now, pool_months=pool_months, max_cv_bytes=max_cv_bytes,
                        companies=companies)


def _create(session: Session, keys: VaultKeys, parsed: list[ParsedRecord], report: ImportReport,
            *, now: datetime, notice_version: str) -> None:
    memo = TokenMemo()  # search-token memo for this run (see record_tokens)
    for item in parsed:
        candidate = create_candidate(session, keys, item.data, now=now, source=SOURCE,
                                     token_memo=memo, email_confirmed=False,
                                     companies=item.companies)
        report.public_ids.append(candidate.public_id)
        # The ledger as the other vault kept it: each event on its own notice and date.
        for event in item.consents:
            consent.record_consent(session, candidate, event.purpose, event.event,
                                   notice_version=event.notice_version, source=event.source,
                                   now=event.at, expires_at=event.expires_at)
        if not any(event.purpose == consent.APPLICATION for event in item.consents):
            consent.record_consent(session, candidate, consent.APPLICATION, consent.GRANTED,
                                   notice_version=notice_version, source=SOURCE, now=now)
        carried_until = candidate.pool_consent_until
        if item.pool_until is not None and item.pool_until != carried_until:
            # Live consent the ledger does not end where this controller does (a shorter
            # pool period, or only talent_pool_until given): recorded as of the import.
            consent.record_consent(session, candidate, consent.TALENT_POOL, consent.GRANTED,
                                   notice_version=notice_version, source=SOURCE, now=now,
                                   expires_at=item.pool_until)
        elif item.pool_until is None:
            candidate.pool_consent_until = None  # consent that has run out stays out
        audit.record(session, audit.CLI, audit.CANDIDATE_CREATED, now=now,
                     subject=candidate.public_id, detail=SOURCE)
    report.imported = len(parsed)


def import_jsonl(session: Session, keys: VaultKeys, lines: Iterable[str | bytes], *,
                 now: datetime, pool_months: int, notice_version: str,
                 max_cv_bytes: int = MAX_CV_BYTES,
                 companies: Sequence[str] = DEFAULTS["COMPANIES"]) -> ImportReport:
    """Validate every line, then create every record, or none (the caller commits).

    When the report lists rejected lines nothing was added to the session.
    """
    report = ImportReport()
    parsed: list[ParsedRecord] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            parsed.append(parse_line(line, now=now, pool_months=pool_months,
                                     max_cv_bytes=max_cv_bytes, companies=companies))
        except LineRejected as exc:
            report.rejected.append((number, str(exc)))
    if not report.rejected:
        _create(session, keys, parsed, report, now=now, notice_version=notice_version)
    return report


def _import_records(session: Session, keys: VaultKeys, records: list[Any], *, now: datetime,
                    pool_months: int, notice_version: str, max_cv_bytes: int,
                    companies: Sequence[str], cv_files: CvFiles | None = None) -> ImportReport:
    report = ImportReport(unit="record")
    parsed: list[ParsedRecord] = []
    for number, record in enumerate(records, start=1):
        try:
            parsed.append(parse_record(record, now=now, pool_months=pool_months,
                                       max_cv_bytes=max_cv_bytes, companies=companies,
                                       cv_files=cv_files))
        except LineRejected as exc:
            report.rejected.append((number, str(exc)))
    if not report.rejected:
        _create(session, keys, parsed, report, now=now, notice_version=notice_version)
    return report


def _document_records(document: Any) -> list[Any]:
    """The records of an export.json document, once its version is one this reads."""
    if document.get("schema_version", SCHEMA_VERSION) != SCHEMA_VERSION:
        raise FileRejected(f"this vault reads export schema version {SCHEMA_VERSION} only")
    records = document.get("records")
    if not isinstance(records, list):
        raise FileRejected("records must be a list of records")
    return records


def _whole_json(data: bytes) -> Any:
    """The file as one JSON value (export.json, pretty-printed), or None: JSON Lines."""
    if not data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return None
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return None  # several values, one a line: JSON Lines (or not JSON at all)


def _zip_reader(archive: zipfile.ZipFile, max_cv_bytes: int) -> CvFiles:
    # Every file is held in memory until the run commits: each may be read once (an
    # export names a CV file for one document), and all of them together at most MAX_FILE,
    # so a small archive naming one well-compressed CV from many records is no bomb.
    taken: set[str] = set()
    unpacked = 0

    def read(path: str) -> bytes | None:
        nonlocal unpacked
        try:
            info = archive.getinfo(path)
        except KeyError:
            return None
        # The declared size first, so an archive cannot unpack a bomb into memory.
        if info.file_size > max_cv_bytes:
            raise LineRejected(f"documents.content is larger than {max_cv_bytes} bytes")
        if info.filename in taken:
            raise LineRejected("documents.zip_path names a file another document uses")
        unpacked += info.file_size
        if unpacked > MAX_FILE:
            raise FileRejected(f"the archive unpacks to more than {MAX_FILE // (1024 * 1024)} MiB")
        taken.add(info.filename)
        try:
            return archive.read(info)
        except (zipfile.BadZipFile, RuntimeError, ValueError, OSError):
            raise LineRejected("documents.zip_path names a damaged file") from None
    return read


def _import_zip(session: Session, keys: VaultKeys, data: bytes, **options: Any) -> ImportReport:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise FileRejected("the file is not a readable ZIP archive") from None
    with archive:
        try:
            info = archive.getinfo(ZIP_DOCUMENT)
        except KeyError:
            raise FileRejected(f"the ZIP archive holds no {ZIP_DOCUMENT}") from None
        if info.file_size > MAX_DOCUMENT:
            raise FileRejected(f"{ZIP_DOCUMENT} in the archive is too large")
        try:
            document = json.loads(archive.read(info))
        except (zipfile.BadZipFile, RuntimeError, ValueError, OSError, RecursionError):
            raise FileRejected(f"{ZIP_DOCUMENT} in the archive is not valid JSON") from None
        if not isinstance(document, dict):
            raise FileRejected(f"{ZIP_DOCUMENT} in the archive is not an export document")
        return _import_records(session, keys, _document_records(document),
                               cv_files=_zip_reader(archive, options["max_cv_bytes"]),
                               **options)


def import_file(session: Session, keys: VaultKeys, data: bytes, *, now: datetime,
                pool_months: int, notice_version: str, max_cv_bytes: int = MAX_CV_BYTES,
                companies: Sequence[str] = DEFAULTS["COMPANIES"]) -> ImportReport:
    """Import what an export wrote: export.zip (its CV files with their records),
    export.json as one document, or JSON Lines. All or nothing, as import_jsonl; a
    file that is none of these raises FileRejected, and nothing is added."""
    if len(data) > MAX_FILE:
        raise FileRejected(f"the file is larger than {MAX_FILE // (1024 * 1024)} MiB")
    options: dict[str, Any] = {"now": now, "pool_months": pool_months,
                               "notice_version": notice_version,
                               "max_cv_bytes": max_cv_bytes, "companies": companies}
    if data.startswith(ZIP_MAGIC):
        return _import_zip(session, keys, data, **options)
    whole = _whole_json(data)
    if isinstance(whole, dict) and "records" in whole:
        return _import_records(session, keys, _document_records(whole), **options)
    if isinstance(whole, dict) and len(data.strip().splitlines()) > 1:
        return _import_records(session, keys, [whole], **options)  # one pretty record
    return import_jsonl(session, keys, data.splitlines(), **options)


# -- The bulk path: JSON Lines as a stream (vault import of a large file) ----------------
# The same checks and the same rows as import_jsonl, written by services.bulkload: the
# file is read line by line and never held whole, and the run is one transaction, all or
# nothing as import_jsonl (the report then names every bad line).

LINES_PER_BATCH = bulkload.BATCH
BYTES_PER_BATCH = 32 * 1024 * 1024  # a batch of long lines (large CVs) is cut sooner


def plan_import(item: ParsedRecord, *, now: datetime, notice_version: str
                ) -> bulkload.PlannedRecord:
    """What _create writes for a parsed line, as rows: the consent ledger it carries, the
    events this import adds, and where Candidate.pool_consent_until ends up."""
    events = [bulkload.ConsentRow(e.purpose, e.event, e.notice_version, e.source, e.at,
                                  e.expires_at) for e in item.consents]
    if not any(e.purpose == consent.APPLICATION for e in item.consents):
        events.append(bulkload.ConsentRow(consent.APPLICATION, consent.GRANTED, notice_version,
                                          SOURCE, now))
    until: datetime | None = None  # services.consent.record_consent, event by event
    for e in item.consents:
        if e.purpose == consent.TALENT_POOL:
            until = e.expires_at if e.event in (consent.GRANTED, consent.RENEWED) else None
    if item.pool_until is not None and item.pool_until != until:
        events.append(bulkload.ConsentRow(consent.TALENT_POOL, consent.GRANTED, notice_version,
                                          SOURCE, now, item.pool_until))
        until = item.pool_until
    elif item.pool_until is None:
        until = None  # consent that has run out stays out
    return bulkload.PlannedRecord(data=item.data, source=SOURCE, consents=tuple(events),
                                  pool_consent_until=until, companies=item.companies,
                                  email_confirmed=False, audit_detail=SOURCE)


@dataclass(frozen=True)
class _LineBatch:
    # (line number, line); None for a line longer than MAX_LINE, never read whole
    lines: tuple[tuple[int, bytes | None], ...]
    build: bool  # False once a bad line was seen: only check, nothing will be written
    now: datetime
    pool_months: int
    notice_version: str
    max_cv_bytes: int
    companies: tuple[str, ...]
    token_arrays: bool = False  # PostgreSQL: token_ids made by the workers
    confirmations: bulkload.Confirmations | None = None


@dataclass
class _BatchResult:
    rejected: list[tuple[int, str]]
    built: list[bulkload.BuiltRecord]


def _parse_batch(keys: VaultKeys, batch: _LineBatch, memo: TokenMemo) -> _BatchResult:
    planned, rejected = [], []
    for number, line in batch.lines:
        try:
            if line is None:
                raise LineRejected("the line is too long")
            item = parse_line(line, now=batch.now, pool_months=batch.pool_months,
                              max_cv_bytes=batch.max_cv_bytes, companies=batch.companies)
        except LineRejected as exc:
            rejected.append((number, str(exc)))
            continue
        planned.append(plan_import(item, now=batch.now, notice_version=batch.notice_version))
    if rejected or not batch.build:
        return _BatchResult(rejected, [])
    return _BatchResult([], bulkload.build_batch(
        keys, planned, now=batch.now, memo=memo, token_arrays=batch.token_arrays,
        confirmations=batch.confirmations, secret_keys=bulkload.run_secret_keys()))


def read_lines(stream: BinaryIO) -> Iterator[tuple[int, bytes | None]]:
    """(number, line) of every non-blank line, without its line ending, read with a
    bounded buffer: a line longer than MAX_LINE comes as None, its rest skipped unread."""
    number = 0
    while True:
        line = stream.readline(MAX_LINE + 3)
        if not line:
            return
        number += 1
        ended = line.endswith(b"\n")
        line = line.rstrip(b"\r\n") if ended else line
        if len(line) > MAX_LINE:
            # The rest of this line is skipped unread, and only it: a line whose ending
            # was already read must not take the next line with it.
            while not ended:
                rest = stream.readline(1024 * 1024)
                ended = not rest or rest.endswith(b"\n")
            yield number, None
            continue
        if line.strip():
            yield number, line


def is_json_lines(stream: BinaryIO) -> bool:
    """Whether a file is JSON Lines (its first line one record), not export.json (a
    document, pretty-printed or on one line) nor export.zip. Leaves the stream at 0."""
    try:
        start = stream.read(4096)
        if start.startswith(ZIP_MAGIC):
            return False  # export.zip, whatever its first "line" looks like
        stream.seek(0)
        for _number, line in read_lines(stream):
            if line is None:
                # Too long to parse: a whole export.json on one line (a CV makes it
                # megabytes) names its schema in its first bytes; a record does not.
                return b'"schema_version"' not in start
            try:
                first = json.loads(line)
            except (ValueError, RecursionError):
                return False
            return isinstance(first, dict) and "records" not in first
        return False
    finally:
        stream.seek(0)


def _line_batches(lines: Iterable[tuple[int, bytes | None]], state: dict[str, bool],
                  **options: Any) -> Iterator[_LineBatch]:
    batch: list[tuple[int, bytes | None]] = []
    size = 0
    for number, line in lines:
        batch.append((number, line))
        size += len(line or b"")
        if len(batch) >= LINES_PER_BATCH or size >= BYTES_PER_BATCH:
            yield _LineBatch(tuple(batch), not state["failed"], **options)
            batch, size = [], 0
    if batch:
        yield _LineBatch(tuple(batch), not state["failed"], **options)


def import_jsonl_stream(session: Session, keys: VaultKeys, stream: BinaryIO, *, now: datetime,
                        pool_months: int, notice_version: str,
                        max_cv_bytes: int = MAX_CV_BYTES,
                        companies: Sequence[str] = DEFAULTS["COMPANIES"],
                        workers: int = 0,
                        progress: Callable[[int], None] | None = None,
                        confirmations: bulkload.Confirmations | None = None,
                        secret_keys: Sequence[str] = ()) -> ImportReport:
    """import_jsonl for a file of any size, through the database's bulk path (the caller
    commits, or rolls back when the report lists rejected lines: from the first bad line
    on nothing more is written, and every line is still checked so the report names
    them all). report.public_ids stays empty (it would grow with the file). With
    confirmations, every new record is asked to confirm its address in the same
    transaction (its link signed with secret_keys): report.queued counts them.
    """
    report = ImportReport()
    state = {"failed": False}
    batches = _line_batches(read_lines(stream), state, now=now, pool_months=pool_months,
                            notice_version=notice_version, max_cv_bytes=max_cv_bytes,
                            companies=tuple(companies),
                            token_arrays=bulkload.token_arrays_for(session),
                            confirmations=confirmations)

    def built() -> Iterator[list[bulkload.BuiltRecord]]:
        for result in bulkload.run_jobs(keys, _parse_batch, batches, workers=workers,
                                        secret_keys=secret_keys):
            if result.rejected:
                state["failed"] = True
                report.rejected.extend(result.rejected)
            elif not state["failed"]:
                report.queued += sum(1 for record in result.built
                                     if record.confirmation is not None)
                yield result.built

    report.imported = bulkload.load(session, keys, built(), now=now, progress=progress)
    if report.rejected:
        report.imported = report.queued = 0
    return report
