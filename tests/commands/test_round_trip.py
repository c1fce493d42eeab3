"""Portability: a person exported from one vault and imported into another comes back
identical, under a new key, from every form the export writes."""

from __future__ import annotations

import base64
import io
import json
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.conftest import _make_app
from tests.export_schema import schema_errors
from tests.journey import outbox
from tests.services.test_exports import CV_BYTES, make_person, person_input
from vault.appctx import vault_keys
from vault.extensions import db
from vault.models import Candidate, CandidateKey, Consent
from vault.services import consent
from vault.services.candidates import create_candidate, records_of_person
from vault.uploads import inspect_upload

# What a copy in another vault has of its own: its key and reference, when and how it
# came in, and what the first vault's staff did (neither travels).
OWN = ("public_id", "created_at", "source", "status", "vacancy", "notes", "staff_access",
       "requests")
OWN_DOCUMENT = ("uploaded_at", "zip_path")


@pytest.fixture
def other_vault(sqlite_template: Path, tmp_path: Path, clock) -> Iterator[Flask]:
    """A second vault: its own keyring, secret key and database."""
    instance = tmp_path / "other-instance"
    instance.mkdir()
    shutil.copyfile(sqlite_template, instance / "vault.db")
    other = _make_app(instance, f"sqlite:///{instance / 'vault.db'}", {"CLOCK": clock})
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def _portable(record: dict[str, Any]) -> dict[str, Any]:
    kept = {k: v for k, v in record.items() if k not in OWN}
    kept["documents"] = [{k: v for k, v in d.items() if k not in OWN_DOCUMENT}
                         for d in record["documents"]]
    return kept


def _export(app: Flask, runner, public_id: str, fmt: str, target: Path) -> bytes:
    result = runner.invoke(args=["vault", "export", public_id, "--format", fmt,
                                 "-o", str(target)])
    assert result.exit_code == 0, result.output
    return target.read_bytes()


def _cv_files(body: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        document = json.loads(archive.read("export.json"))
        return document, {d["filename"]: archive.read(d["zip_path"])
                          for r in document["records"] for d in r["documents"]}


def _the_imported(other: Flask) -> list[str]:
    with other.app_context():
        return list(db.session.scalars(select(Candidate.public_id).order_by(Candidate.id)))


def _import(other: Flask, path: Path) -> str:
    result = other.test_cli_runner().invoke(args=["vault", "import", str(path)])
    assert result.exit_code == 0, result.output
    return result.output


def _reexport(other: Flask, tmp_path: Path) -> tuple[dict[str, Any], dict[str, bytes]]:
    runner = other.test_cli_runner()
    bodies = [_cv_files(_export(other, runner, public_id, "zip", tmp_path / f"{n}.zip"))
              for n, public_id in enumerate(_the_imported(other))]
    records = [r for document, _ in bodies for r in document["records"]]
    files = {name: content for _, cvs in bodies for name, content in cvs.items()}
    return {"records": records}, files


def _a_person_with_two_records(app, clock, make_user) -> str:
    """An application to a vacancy (CV, both consents, notes, access, a request), and a
    spontaneous one naming Hoptimize under the same address, with another CV."""
    public_id, _ = make_person(app, clock, make_user)
    with app.app_context():
        second = create_candidate(db.session, vault_keys(), person_input(
            position="Data engineer", education=(),
            cv=inspect_upload(CV_BYTES + b"%second", "tweede cv.pdf")),
            now=clock(), source="spontaneous", companies=("Hoptimize",))
        consent.record_consent(db.session, second, consent.APPLICATION, consent.GRANTED,
                               notice_version="2025-11", source="apply", now=clock())
        db.session.commit()
    return public_id


def test_a_zip_export_imported_into_another_vault_comes_back_identical(
        app, runner, other_vault, clock, make_user, tmp_path):
    public_id = _a_person_with_two_records(app, clock, make_user)
    original, original_cvs = _cv_files(_export(app, runner, public_id, "zip",
                                               tmp_path / "out.zip"))
    assert len(original["records"]) == 2 and len(original_cvs) == 2
    clock.advance(days=3)
    output = _import(other_vault, tmp_path / "out.zip")
    assert "Imported 2 record(s)." in output

    copy, copy_cvs = _reexport(other_vault, tmp_path)
    assert schema_errors({**original, "records": copy["records"]}) == []
    # Byte for byte: the same JSON for everything that travels, the same CV files.
    assert [json.dumps(_portable(r), sort_keys=True).encode() for r in copy["records"]] == \
        [json.dumps(_portable(r), sort_keys=True).encode() for r in original["records"]]
    assert copy_cvs == original_cvs
    # Under new keys and references, as imports, unconfirmed until the address says so.
    assert not {r["public_id"] for r in copy["records"]} & \
        {r["public_id"] for r in original["records"]}
    assert {r["source"] for r in copy["records"]} == {"import"}
    with other_vault.app_context():
        records = db.session.scalars(select(Candidate)).all()
        assert all(r.email_confirmed_at is None for r in records)
        assert [len(records_of_person(db.session, r)) for r in records] == [1, 1]
    # A new data key per record, wrapped by the other vault's own keyring.
    with app.app_context():
        source_keys = set(db.session.scalars(select(CandidateKey.wrapped)))
    with other_vault.app_context():
        copy_keys = set(db.session.scalars(select(CandidateKey.wrapped)))
    assert len(copy_keys) == 2 and not copy_keys & source_keys
    # Each imported record asks its address to confirm, as every import does.
    assert len(outbox(other_vault)) == 2


def test_the_pretty_printed_json_file_imports_everything_but_the_cv(
        app, runner, other_vault, clock, make_user, tmp_path):
    public_id = _a_person_with_two_records(app, clock, make_user)
    original = json.loads(_export(app, runner, public_id, "json", tmp_path / "out.json"))
    assert b"\n  " in (tmp_path / "out.json").read_bytes()  # what the CLI writes
    _import(other_vault, tmp_path / "out.json")
    copy, copy_cvs = _reexport(other_vault, tmp_path)
    # export.json names the CV but does not carry its bytes: export.zip does.
    assert copy_cvs == {}
    assert [{**_portable(r), "documents": []} for r in copy["records"]] == \
        [{**_portable(r), "documents": []} for r in original["records"]]


def test_the_json_lines_form_with_cv_content_comes_back_identical(
        app, runner, other_vault, clock, make_user, tmp_path):
    public_id = _a_person_with_two_records(app, clock, make_user)
    original, original_cvs = _cv_files(_export(app, runner, public_id, "zip",
                                               tmp_path / "out.zip"))
    lines = []
    for record in original["records"]:
        for entry in record["documents"]:
            entry["content"] = base64.b64encode(original_cvs[entry["filename"]]).decode()
        lines.append(json.dumps(record, ensure_ascii=False))
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    _import(other_vault, tmp_path / "in.jsonl")
    copy, copy_cvs = _reexport(other_vault, tmp_path)
    for record in original["records"]:
        for entry in record["documents"]:
            del entry["content"]
    assert [_portable(r) for r in copy["records"]] == [_portable(r) for r in original["records"]]
    assert copy_cvs == original_cvs


def _count(other: Flask) -> tuple[int, int]:
    with other.app_context():
        return (db.session.scalar(select(func.count()).select_from(Candidate)),
                db.session.scalar(select(func.count()).select_from(Consent)))


def _rezip(body: bytes, change) -> bytes:
    """The archive with its entries passed through change(name, data) -> data or None."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(body)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = change(info.filename, source.read(info))
            if data is not None:
                target.writestr(info.filename, data)
    return out.getvalue()


def _json_changed(edit):
    def change(name: str, data: bytes) -> bytes:
        if name != "export.json":
            return data
        document = json.loads(data)
        edit(document)
        return json.dumps(document).encode()
    return change


@pytest.mark.parametrize(("damage", "message"), [
    (lambda body: body[:200], "not a readable ZIP archive"),
    (lambda body: _rezip(body, lambda n, d: None if n == "export.json" else d),
     "holds no export.json"),
    (lambda body: _rezip(body, lambda n, d: b"{not json" if n == "export.json" else d),
     "export.json in the archive is not valid JSON"),
    (lambda body: _rezip(body, _json_changed(lambda d: d.update(schema_version=2))),
     "reads export schema version 1 only"),
    (lambda body: _rezip(body, lambda n, d: None if n.startswith("cv/") else d),
     "record 1: documents.zip_path names no file in the archive"),
    (lambda body: _rezip(body, _json_changed(
        lambda d: d["records"][0]["documents"][0].update(zip_path="../export.csv"))),
     "record 1: documents.zip_path is not a CV file name of export.zip"),
    (lambda body: _rezip(body, lambda n, d: b"MZ not a cv" if n.startswith("cv/") else d),
     "record 1: documents.content refused"),
    # Many records naming one well-compressed CV would unpack it again for each.
    (lambda body: _rezip(body, _json_changed(
        lambda d: d["records"].append(json.loads(json.dumps(d["records"][0]))))),
     "record 2: documents.zip_path names a file another document uses"),
    (lambda body: _rezip(body, _json_changed(
        lambda d: d["records"][0]["contact"].update(email="no address"))),
     "record 1: contact.email is not a valid e-mail address"),
])
def test_a_bad_archive_is_refused_clearly_and_nothing_is_written(
        app, runner, other_vault, clock, make_user, tmp_path, damage, message):
    public_id, _ = make_person(app, clock, make_user)
    body = _export(app, runner, public_id, "zip", tmp_path / "out.zip")
    (tmp_path / "bad.zip").write_bytes(damage(body))
    result = other_vault.test_cli_runner().invoke(args=["vault", "import",
                                                        str(tmp_path / "bad.zip")])
    assert result.exit_code == 1 and message in result.output
    assert "nothing was imported" in result.output
    assert "Els" not in result.output  # never the person's data
    assert _count(other_vault) == (0, 0) and outbox(other_vault) == []


def test_a_cv_over_the_limit_in_an_archive_is_refused_before_it_is_unpacked(
        app, runner, other_vault, clock, make_user, tmp_path):
    public_id, _ = make_person(app, clock, make_user)
    _export(app, runner, public_id, "zip", tmp_path / "out.zip")
    other_vault.config["MAX_CONTENT_LENGTH"] = len(CV_BYTES) - 1
    result = other_vault.test_cli_runner().invoke(args=["vault", "import",
                                                        str(tmp_path / "out.zip")])
    assert result.exit_code == 1 and "record 1: documents.content is larger" in result.output
    assert _count(other_vault) == (0, 0)


def test_a_bad_record_in_a_json_file_is_named_by_its_number_and_nothing_is_written(
        app, runner, other_vault, clock, make_user, tmp_path):
    public_id = _a_person_with_two_records(app, clock, make_user)
    document = json.loads(_export(app, runner, public_id, "json", tmp_path / "out.json"))
    document["records"][1]["consents"][0]["notice_version"] = ""
    (tmp_path / "bad.json").write_text(json.dumps(document, indent=2), encoding="utf-8")
    result = other_vault.test_cli_runner().invoke(args=["vault", "import",
                                                        str(tmp_path / "bad.json")])
    assert result.exit_code == 1
    assert "record 2: consents[1].notice_version is required" in result.output
    assert "record 1:" not in result.output and "1 record(s) rejected" in result.output
    assert _count(other_vault) == (0, 0) and outbox(other_vault) == []


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d.update(schema_version=2), "reads export schema version 1 only"),
    (lambda d: d.update(records={"not": "a list"}), "records must be a list of records"),
])
def test_a_json_file_of_another_shape_is_refused_as_a_whole(
        app, runner, other_vault, clock, make_user, tmp_path, edit, message):
    public_id, _ = make_person(app, clock, make_user)
    document = json.loads(_export(app, runner, public_id, "json", tmp_path / "out.json"))
    edit(document)
    (tmp_path / "bad.json").write_text(json.dumps(document, indent=2), encoding="utf-8")
    result = other_vault.test_cli_runner().invoke(args=["vault", "import",
                                                        str(tmp_path / "bad.json")])
    assert result.exit_code == 1 and message in result.output
    assert "nothing was imported" in result.output
    assert _count(other_vault) == (0, 0)
