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
import zipfile
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vault.keys import VaultKeys
from vault.models import AuditEvent, Candidate, DataRequest, Note
from vault.services import audit, staff_names
from vault.services.candidates import open_candidate, open_document

SCHEMA_ID = "https://ingenium-group.example/vault/export/v1"
SCHEMA_VERSION = 1
EXPORT_FILENAMES = {"json": "export.json", "csv": "export.csv", "zip": "export.zip"}
MEDIA_TYPES = {"json": "application/json", "csv": "text/csv; charset=utf-8",
               "zip": "application/zip"}
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
export.csv   The same data, one value per row: public_id, section, item, field,
             value ("item" numbers the entries of a list from 1). A value that a
             spreadsheet could run as a formula starts with a quote (').
             UTF-8 with a byte-order mark, so spreadsheets show accents right.
cv/          Your CV files, byte for byte as you sent them, named
             <public_id>-<our file name>; export.json gives each one's original
             name under documents[].filename and its place here under zip_path.

The format is described in full in the vault's docs/export-schema.md. You can hand
export.json to another recruiting system: the vault imports records of this shape.
Questions: the privacy officer, as the privacy statement says.
"""


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _cv_path(record: Candidate, stored_name: str) -> str:
    # The app's own names only: an original name could carry a path or a trick.
    return f"cv/{record.public_id}-{stored_name}"


def _record(session: Session, keys: VaultKeys, record: Candidate,
            note_filter: Callable[[Note], bool] | None) -> dict[str, Any]:
    opened = open_candidate(keys, record, note_filter=note_filter)
    vacancy = record.vacancy
    staff_access = session.execute(
        select(AuditEvent.created_at, AuditEvent.actor_role, AuditEvent.action,
               AuditEvent.actor_id)
        .where(AuditEvent.subject_public_id == record.public_id,
               AuditEvent.action.in_(audit.STAFF_ACCESS_ACTIONS))
        .order_by(AuditEvent.id)).all()
    employers = staff_names.companies(session, (row.actor_id for row in staff_access))
    data_requests = session.scalars(select(DataRequest).where(
        DataRequest.subject_public_id == record.public_id).order_by(DataRequest.id)).all()
    return {
        "public_id": record.public_id,
        "created_at": _iso(record.created_at),
        "source": record.source,
        "status": record.status,
        "vacancy": None if vacancy is None else {
            "title": vacancy.title, "company": vacancy.company, "slug": vacancy.slug,
            "status": vacancy.status, "closed_at": _iso(vacancy.closed_at)},
        # What a record without a vacancy is for: the companies whose recruiters see it.
        "companies": [c.company for c in record.named_companies],
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
        # Who wrote a note, or opened the data, stays inside the company: the person
        # sees the role and the company, never the staff member.
        "notes": [{"written_at": _iso(n.created_at), "author": "staff",
                   "company": n.company, "body": n.body} for n in opened.notes],
        "staff_access": [{"at": _iso(at), "role": role or "staff",
                          "company": employers.get(actor_id) if actor_id else None,
                          "action": action}
                         for at, role, action, actor_id in staff_access],
        "requests": [{"kind": r.kind, "channel": r.channel, "received_at": _iso(r.received_at),
                      "due_at": _iso(r.due_at), "status": r.status,
                      "fulfilled_at": _iso(r.fulfilled_at)} for r in data_requests],
    }


def build_export(session: Session, keys: VaultKeys, records: list[Candidate], *,
                 now: datetime,
                 note_filter: Callable[[Note], bool] | None = None) -> dict[str, Any]:
    """note_filter: the notes a staff reader may take out (vault.services.access.
    note_reader); None, every note: the person's own export and the officer's."""
    return {"schema": SCHEMA_ID, "schema_version": SCHEMA_VERSION, "exported_at": _iso(now),
            "records": [_record(session, keys, r, note_filter) for r in records]}


def export_json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=2).encode()


def neutralise_cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _flatten(document: dict[str, Any]) -> Iterator[tuple[str, str, str, str, str]]:
    for record in document["records"]:
        pid = record["public_id"]
        for key, value in record.items():
            if key == "public_id":
                continue
            if isinstance(value, list):
                for index, item in enumerate(value):
                    if not isinstance(item, dict):  # a list of names (companies)
                        yield pid, key, str(index + 1), "name", _text(item)
                        continue
                    for field, inner in item.items():
                        yield pid, key, str(index + 1), field, _text(inner)
            elif isinstance(value, dict):
                for field, inner in value.items():
                    yield pid, key, "", field, _text(inner)
            elif value is None and key == "vacancy":
                continue
            else:
                yield pid, "record", "", key, _text(value)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def export_csv(document: dict[str, Any]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["public_id", "section", "item", "field", "value"])
    for row in _flatten(document):
        writer.writerow([neutralise_cell(cell) for cell in row])
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
    raise ValueError("unknown export format")


