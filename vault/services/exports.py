"""Exports: everything held on a person, as JSON (versioned schema), CSV and ZIP.

One document describes a person: every record sharing their e-mail's blind index.
The same document backs the self-service page, the privacy officer's export and
`vault export`, so what a person sees and what they can download never differ.
The schema is documented in docs/export-schema.md; `vault import` reads its records.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from vault.keys import VaultKeys
from vault.local_zone import LOCAL_ZONE
from vault.models import AuditEvent, Candidate, DataRequest, Note
from vault.services import audit, json_resume, staff_names, transfers
from vault.services.candidates import open_candidate, open_document

SCHEMA_ID = "https://schemas.ingenium-group.example/vault/export/v1"
# docs/export-schema.json: the JSON Schema of export.json, validated in the tests.
SCHEMA_VERSION = 1
RESUME = "resume.json"  # the format's name, and the download's extension
# The files' names inside the ZIP (the formats offered); a download is named by
# download_filename().
EXPORT_FILENAMES = {"json": "export.json", "csv": "export.csv", "zip": "export.zip",
                    # JSON Resume, the open CV format (services.json_resume), beside ours.
                    RESUME: "export.resume.json"}
# Full Content-Type values: send them as `content_type=` (Werkzeug appends a second
# charset to a text/* `mimetype=` that already names one).
MEDIA_TYPES = {"json": "application/json", "csv": "text/csv; charset=utf-8",
               "zip": "application/zip", RESUME: "application/json"}
# A download names the company the person applied to. When their records name several
# companies (or none: an old import), the file is the group's, the one controller.
GROUP_FILE_NAME = "ingenium-group"
SAFE_FILENAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,120}")
# Cells a spreadsheet would read as a formula (OWASP "CSV injection"), full-width too.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")

README = """Your data from the Ingenium group recruitment vault
=================================================

Exported at {exported_at}.

export.json  Everything we hold on you. The "schema" field names the format
             (version {version}). "records" has one entry per application or
             profile, each with its reference ("public_id") and these parts:
             contact, position, personal (age, gender), interests, education,
             documents (your CV files: name, type, whether text could be read),
             vacancy and status, consents (every grant, renewal, withdrawal or
             expiry, with the version of the privacy notice), notes (what our
             staff wrote about you), staff_access (when our staff opened your
             data, and in which role) and requests (what you asked of us, when
             it was due and when it was done).
export.csv   The same data as tables, one after the other, a blank line between
             them: your details, education, CV files, consents, notes, who
             opened your data, your requests. Each table has a title row, a row
             of column names (those of export.json), then one row per entry;
             "public_id" says which record a row belongs to. A value that a
             spreadsheet could run as a formula starts with a quote (').
             UTF-8 with a byte-order mark, so spreadsheets show accents right.
export.resume.json
             Your details, education and interests as JSON Resume
             (https://jsonresume.org/schema), the open format many CV tools
             read. It holds only what that format has a place for: your
             consents, our notes and who opened your data are in export.json.
cv/          Your CV files, byte for byte as you sent them, named
             <public_id>-<our file name>; export.json gives each one's original
             name under documents[].filename and its place here under zip_path.

The format is described in full in the vault's docs/export-schema.md. You can hand
export.json to another recruiting system: the vault imports records of this shape.
Questions: the privacy officer, as the privacy statement says.
"""


def companies_of(records: Iterable[Candidate]) -> set[str]:
    """The companies a person applied to: each vacancy's, and those a spontaneous
    application names."""
    return {company for record in records for company in record.companies}


def _slug(name: str, max_length: int = 40) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower())[:max_length].strip("-")


def download_filename(records: Iterable[Candidate], fmt: str, *, now: datetime) -> str:
    """`<company>-my-data-<YYYY-MM-DD>.<ext>`, e.g. ingenium-my-data-2026-11-27.zip."""
    if fmt not in EXPORT_FILENAMES:
        raise ValueError("unknown export format")
    companies = companies_of(records)
    company = _slug(next(iter(companies))) if len(companies) == 1 else ""
    day = now.astimezone(LOCAL_ZONE).date().isoformat()
    return f"{company or GROUP_FILE_NAME}-my-data-{day}.{fmt}"


def staff_filename(record: Candidate, fmt: str, *, now: datetime) -> str:
    """`candidate-<public id>-<YYYY-MM-DD>.<ext>`: a recruiter downloads many candidates,
    and each file must say whose it is without a name (the public id is no personal
    data; it is already in the page's address)."""
    if fmt not in EXPORT_FILENAMES:
        raise ValueError("unknown export format")
    day = now.astimezone(LOCAL_ZONE).date().isoformat()
    return f"candidate-{record.public_id}-{day}.{fmt}"


def staff_document_filename(record: Candidate, stored_name: str) -> str:
    """`candidate-<public id>-<stored name>`: the app's own name for a document handed
    over (the original name could carry a path or a trick). Starts with a letter: a
    public id may start with "_", which content_disposition refuses first."""
    return f"candidate-{record.public_id}-{stored_name}"


def content_disposition(filename: str) -> str:
    """The attachment header. Only a plain ASCII name is ever put in it: a quote, a
    path or a line break from a company's name must not reach the header."""
    if not SAFE_FILENAME.fullmatch(filename):
        raise ValueError("unsafe download file name")
    return f'attachment; filename="{filename}"'


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _cv_path(record: Candidate, stored_name: str) -> str:
    # The app's own names only: an original name could carry a path or a trick.
    return f"cv/{record.public_id}-{stored_name}"


def _no_note(_note: Note) -> bool:
    return False


def _staff_access(session: Session, record: Candidate) -> list[dict[str, Any]]:
    rows = session.execute(
        select(AuditEvent.created_at, AuditEvent.actor_role, AuditEvent.action,
               AuditEvent.actor_id, AuditEvent.actor_type)
        .where(AuditEvent.subject_public_id == record.public_id,
               AuditEvent.action.in_(audit.STAFF_ACCESS_ACTIONS))
        .order_by(AuditEvent.id)).all()
    # Staff are named by their employer; an API client (an HR system) by its company.
    # The two kinds of actor ids are different tables' ids, so never mixed up.
    employers = staff_names.companies(
        session, (row.actor_id for row in rows if row.actor_type != audit.API_ACTOR))
    systems = transfers.client_companies(
        session, [row.actor_id for row in rows if row.actor_type == audit.API_ACTOR])
    # Who opened the data stays inside the company: the person sees the role and the
    # company, never the staff member.
    return [{"at": _iso(at), "role": role or "staff",
             "company": (systems if kind == audit.API_ACTOR else employers).get(actor_id)
             if actor_id else None,
             "action": action}
            for at, role, action, actor_id, kind in rows]


def _requests(session: Session, record: Candidate) -> list[dict[str, Any]]:
    found = session.scalars(select(DataRequest).where(
        DataRequest.subject_public_id == record.public_id).order_by(DataRequest.id)).all()
    return [{"kind": r.kind, "channel": r.channel, "received_at": _iso(r.received_at),
             "due_at": _iso(r.due_at), "status": r.status,
             "fulfilled_at": _iso(r.fulfilled_at)} for r in found]


def _record(session: Session, keys: VaultKeys, record: Candidate,
            note_filter: Callable[[Note], bool] | None,
            transfer_to: str | None = None) -> dict[str, Any]:
    """transfer_to (see build_export): the record as that company's HR system receives
    it: the person's own data and this application. Notes are the recruiters' work, not
    the employer's file; staff_access (who in the group opened the data) and requests
    (what the person asked the controller) are about the recruitment, not the
    employment; the other companies a spontaneous application named are none of this
    company's business. The schema requires those keys: they are there, empty."""
    transfer = transfer_to is not None
    opened = open_candidate(keys, record, note_filter=_no_note if transfer else note_filter)
    vacancy = record.vacancy
    return {
        "public_id": record.public_id,
        "created_at": _iso(record.created_at),
        "source": record.source,
        "status": record.status,
        "vacancy": None if vacancy is None else {
            "title": vacancy.title, "company": vacancy.company, "slug": vacancy.slug,
            "status": vacancy.status, "closed_at": _iso(vacancy.closed_at)},
        # What a record without a vacancy is for: the companies whose recruiters see it.
        "companies": [c.company for c in record.named_companies
                      if not transfer or c.company == transfer_to],
        "contact": {"full_name": opened.full_name, "email": opened.email,
                    "phone": opened.phone},
        "position": opened.position,
        "personal": {"age": opened.age, "gender": opened.gender},
        "interests": opened.interests,
        "education": [{"degree": e.degree, "field": e.field, "institution": e.institution,
                       "year": e.year} for e in opened.education],
        "documents": [{"kind": d.kind, "filename": d.filename, "media_type": d.media_type,
                       "text_extracted": d.has_text, "uploaded_at": _iso(d.created_at),
                       "zip_path": _cv_path(record, d.stored_name)}
                      for d in opened.documents],
        "talent_pool_until": _iso(record.pool_consent_until),
        "consents": [{"purpose": c.purpose, "event": c.event, "at": _iso(c.created_at),
                      "notice_version": c.notice_version, "source": c.source,
                      "expires_at": _iso(c.expires_at)} for c in record.consents],
        # Who wrote a note stays inside the company: the person sees the company only.
        "notes": [{"written_at": _iso(n.created_at), "author": "staff",
                   "company": n.company, "body": n.body} for n in opened.notes],
        "staff_access": [] if transfer else _staff_access(session, record),
        "requests": [] if transfer else _requests(session, record),
    }


def build_export(session: Session, keys: VaultKeys, records: list[Candidate], *,
                 now: datetime,
                 note_filter: Callable[[Note], bool] | None = None,
                 transfer_to: str | None = None) -> dict[str, Any]:
    """note_filter: the notes a staff reader may take out (vault.services.access.
    note_reader); None, every note: the person's own export and the officer's.
    transfer_to: a company, for a transfer to its HR system (vault.services.transfers):
    only the records that are that company's applications, each cut down to what the
    company receives (_record); note_filter does not apply (no note goes)."""
    if transfer_to is not None:
        # A record for another company never leaves in this company's transfer, even if
        # a caller passes one.
        records = [r for r in records if transfer_to in r.companies]
    return {"schema": SCHEMA_ID, "schema_version": SCHEMA_VERSION, "exported_at": _iso(now),
            "records": [_record(session, keys, r, note_filter, transfer_to) for r in records]}


def export_json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=2).encode()


def neutralise_cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):  # the companies a spontaneous application names
        return "; ".join(_text(item) for item in value)
    return str(value)


@dataclass(frozen=True)
class CsvSection:
    """One table of the CSV: a title row, a header row, then one row per entry.

    The column names are export.json's field names (docs/export-schema.md), so both
    files read the same; `public_id` first says which record a row belongs to."""

    key: str  # the list in each record (export.json), or "details" for the record itself
    title: LazyString
    columns: tuple[str, ...]


# Details: the record's own fields, its vacancy's as vacancy_<field>, its contact and
# personal parts flattened; every other section is one of the record's lists.
DETAIL_COLUMNS = (
    "public_id", "created_at", "source", "status", "vacancy_title", "vacancy_company",
    "vacancy_slug", "vacancy_status", "vacancy_closed_at", "companies", "full_name",
    "email", "phone", "position", "age", "gender", "interests", "talent_pool_until")
CSV_SECTIONS = (
    CsvSection("details", _l("Your details"), DETAIL_COLUMNS),
    CsvSection("education", _l("Education"),
               ("public_id", "degree", "field", "institution", "year")),
    CsvSection("documents", _l("CV files"),
               ("public_id", "kind", "filename", "media_type", "text_extracted",
                "uploaded_at", "zip_path")),
    CsvSection("consents", _l("Consents"),
               ("public_id", "purpose", "event", "at", "notice_version", "source",
                "expires_at")),
    CsvSection("notes", _l("Notes our staff wrote about you"),
               ("public_id", "written_at", "author", "body")),
    CsvSection("staff_access", _l("Who opened your data"),
               ("public_id", "at", "role", "action")),
    CsvSection("requests", _l("Your requests"),
               ("public_id", "kind", "channel", "received_at", "due_at", "status",
                "fulfilled_at")),
)


def _details(record: dict[str, Any]) -> dict[str, Any]:
    vacancy = record["vacancy"] or {}
    return {**{k: v for k, v in record.items() if not isinstance(v, (dict, list))},
            **{f"vacancy_{k}": v for k, v in vacancy.items()},
            "companies": record["companies"], **record["contact"], **record["personal"]}


def _section_rows(section: CsvSection, document: dict[str, Any]) -> Iterator[list[str]]:
    for record in document["records"]:
        entries = ([_details(record)] if section.key == "details" else
                   [{"public_id": record["public_id"], **item} for item in record[section.key]])
        for entry in entries:
            yield [neutralise_cell(_text(entry.get(column))) for column in section.columns]


def export_csv(document: dict[str, Any]) -> bytes:
    """A spreadsheet-readable file: one table per kind of data (CSV_SECTIONS), each a
    title row, a header row and one row per entry, a blank line between tables."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for number, section in enumerate(CSV_SECTIONS):
        if number:
            writer.writerow([])
        writer.writerow([neutralise_cell(str(section.title))])
        writer.writerow(section.columns)
        writer.writerows(_section_rows(section, document))
    # UTF-8 with a byte-order mark, so spreadsheets read accents right.
    return buffer.getvalue().encode("utf-8-sig")


def export_zip(keys: VaultKeys, records: list[Candidate], document: dict[str, Any]) -> bytes:
    """Built in memory: no plaintext copy of the export ever touches the disk.

    Every name in the archive is the app's own (see _cv_path), so none can carry a
    path, a drive letter or a trick character from what an applicant typed."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", README.format(version=SCHEMA_VERSION,
                                                     exported_at=document["exported_at"]))
        archive.writestr("export.json", export_json(document))
        archive.writestr("export.csv", export_csv(document))
        archive.writestr(EXPORT_FILENAMES[RESUME], export_json(json_resume.resume(document)))
        for record in records:
            for document_row in record.documents:
                _name, _media_type, content = open_document(keys, record, document_row)
                archive.writestr(_cv_path(record, document_row.stored_name), content)
    return buffer.getvalue()


def render(session: Session, keys: VaultKeys, records: list[Candidate], fmt: str, *,
           now: datetime, note_filter: Callable[[Note], bool] | None = None) -> bytes:
    """The export file in one of the formats of EXPORT_FILENAMES."""
    document = build_export(session, keys, records, now=now, note_filter=note_filter)
    if fmt == "json":
        return export_json(document)
    if fmt == "csv":
        return export_csv(document)
    if fmt == "zip":
        return export_zip(keys, records, document)
    if fmt == RESUME:
        return export_json(json_resume.resume(document))
    raise ValueError("unknown export format")


