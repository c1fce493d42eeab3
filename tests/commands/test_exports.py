from __future__ import annotations

import base64
import io
import json
import stat
import zipfile

import pytest
from sqlalchemy import func, select

from tests import files
from tests.databases import counted_candidates
from tests.journey import MARK_EMAIL, MARK_NAME, apply
from vault.appctx import vault_keys
from vault.extensions import db
from vault.models import AuditEvent, Candidate, DataRequest
from vault.services import audit
from vault.services.candidates import open_candidate, open_document


def _public_id(app) -> str:
    with app.app_context():
        return db.session.scalar(select(Candidate.public_id))


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Candidate))


def test_export_writes_a_private_file_and_is_audited(app, client, runner, tmp_path):
    apply(client)
    target = tmp_path / "out.zip"
    result = runner.invoke(args=["vault", "export", _public_id(app), "--format", "zip",
                                 "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with zipfile.ZipFile(target) as archive:
        document = json.loads(archive.read("export.json"))
    assert document["records"][0]["contact"]["email"] == MARK_EMAIL
    with app.app_context():
        assert db.session.scalar(select(AuditEvent.action).where(
            AuditEvent.action == audit.CANDIDATE_EXPORTED)) == audit.CANDIDATE_EXPORTED


def test_export_of_an_unknown_id_is_a_clear_error(runner, tmp_path):
    result = runner.invoke(args=["vault", "export", "nope", "--format", "json",
                                 "-o", str(tmp_path / "x.json")])
    assert result.exit_code == 1 and "No record" in result.output
    assert not (tmp_path / "x.json").exists()


def test_export_then_import_round_trips_a_person(app, client, runner, tmp_path):
    apply(client)
    exported = tmp_path / "person.json"
    runner.invoke(args=["vault", "export", _public_id(app), "--format", "json",
                        "-o", str(exported)])
    [record] = json.loads(exported.read_text())["records"]
    record["documents"][0]["content"] = base64.b64encode(
        files.pdf_with_text("Imported CV text")).decode()
    lines = tmp_path / "in.jsonl"
    lines.write_text(json.dumps(record) + "\n")
    result = runner.invoke(args=["vault", "import", str(lines)])
    assert result.exit_code == 0, result.output
    assert "Imported 1 record" in result.output
    with app.app_context():
        imported = db.session.scalars(select(Candidate).order_by(Candidate.id)).all()[1]
        opened = open_candidate(vault_keys(), imported)
        assert (opened.full_name, opened.email) == (f"Ilse {MARK_NAME}", MARK_EMAIL)
        assert imported.source == "import" and imported.public_id != record["public_id"]
        assert imported.pool_consent_until is None  # none was given in the original
        _name, _type, content = open_document(vault_keys(), imported, imported.documents[0])
        assert content == files.pdf_with_text("Imported CV text")


def test_one_bad_line_imports_nothing_and_names_every_bad_line(app, runner, tmp_path):
    good = {"contact": {"full_name": "Jan Peeters", "email": "jan@example.org"},
            "education": [{"degree": "BSc", "field": "Maths", "institution": "VUB"}]}
    bad_lines = [
        "{not json",
        json.dumps({"contact": {"full_name": "No Mail"}}),
        json.dumps({"contact": {"full_name": "X", "email": "broken"}}),
        json.dumps({**good, "education": [{"degree": "d"}] * 11}),
        json.dumps({**good, "interests": "x" * 5000}),
        json.dumps({**good, "documents": [{"filename": "cv.pdf", "content": base64.b64encode(
            files.pdf_with_javascript()).decode()}]}),
        json.dumps([1, 2]),
    ]
    lines = [json.dumps(good), *bad_lines, json.dumps(good)]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n")
    result = runner.invoke(args=["vault", "import", str(path)])
    assert result.exit_code == 1
    for number in range(2, 9):
        assert f"line {number}:" in result.output
    assert "line 1:" not in result.output and "line 9:" not in result.output
    assert "nothing was imported" in result.output
    assert "Jan" not in result.output and "broken" not in result.output
    assert _count(app) == 0


def test_imported_live_pool_consent_keeps_its_end_date(app, runner, tmp_path, clock):
    record = {"contact": {"full_name": "Pool Person", "email": "pool@example.org"},
              "talent_pool_until": "2027-01-01T00:00:00+00:00"}
    expired = {"contact": {"full_name": "Old Person", "email": "old@example.org"},
               "talent_pool_until": "2020-01-01T00:00:00+00:00"}
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(record) + "\n" + json.dumps(expired) + "\n")
    assert runner.invoke(args=["vault", "import", str(path)]).exit_code == 0
    with app.app_context():
        first, second = db.session.scalars(select(Candidate).order_by(Candidate.id)).all()
        assert first.pool_consent_until.isoformat() == "2027-01-01T00:00:00+00:00"
        assert second.pool_consent_until is None


def test_zip_names_are_the_apps_own(app, client, runner, tmp_path):
    name = "Mijn CV (definitief) \u00e9t\u00e9 2026.pdf"
    apply(client, cv=lambda: (io.BytesIO(files.pdf_with_text("x")), name))
    target = tmp_path / "out.zip"
    runner.invoke(args=["vault", "export", _public_id(app), "--format", "zip", "-o", str(target)])
    with zipfile.ZipFile(target) as archive:
        [cv] = [n for n in archive.namelist() if n.startswith("cv/")]
        assert cv.isascii() and " " not in cv and cv.endswith(".pdf")


def test_export_logs_a_fulfilled_cli_request_and_writes_csv(app, client, runner, tmp_path):
    apply(client)
    public_id = _public_id(app)
    target = tmp_path / "out.csv"
    result = runner.invoke(args=["vault", "export", public_id, "--format", "csv",
                                 "-o", str(target)])
    assert result.exit_code == 0, result.output
    body = target.read_bytes()
    assert body.startswith(b"\xef\xbb\xbf") and MARK_EMAIL.encode() in body
    assert MARK_EMAIL not in result.output
    with app.app_context():
        request = db.session.scalar(select(DataRequest).where(DataRequest.kind == "export"))
        assert (request.subject_public_id, request.channel, request.status) == (
            public_id, "cli", "fulfilled")
        assert request.fulfilled_at == request.received_at
        event = db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == audit.CANDIDATE_EXPORTED))
        assert (event.actor_type, event.subject_public_id, event.detail) == (
            "cli", public_id, "csv")


def test_export_over_an_existing_file_leaves_it_private(app, client, runner, tmp_path):
    apply(client)
    target = tmp_path / "out.json"
    target.write_text("old")
    target.chmod(0o644)
    result = runner.invoke(args=["vault", "export", _public_id(app), "--format", "json",
                                 "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert json.loads(target.read_text())["schema_version"] == 1


def test_export_does_not_write_through_a_symbolic_link(app, client, runner, tmp_path):
    apply(client)
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text("untouched")
    link = tmp_path / "out.json"
    link.symlink_to(elsewhere)
    result = runner.invoke(args=["vault", "export", _public_id(app), "--format", "json",
                                 "-o", str(link)])
    assert result.exit_code == 1 and "Cannot write" in result.output
    assert elsewhere.read_text() == "untouched"


def test_export_to_a_missing_folder_is_a_clear_error_and_logs_nothing(app, client, runner,
                                                                      tmp_path):
    apply(client)
    result = runner.invoke(args=["vault", "export", _public_id(app), "--format", "json",
                                 "-o", str(tmp_path / "missing" / "out.json")])
    assert result.exit_code == 1 and "Cannot write" in result.output
    assert "Traceback" not in result.output
    with app.app_context():
        assert db.session.scalar(select(AuditEvent.id).where(
            AuditEvent.action == audit.CANDIDATE_EXPORTED)) is None
        assert db.session.scalar(select(DataRequest.id).where(
            DataRequest.kind == "export")) is None


def test_export_with_an_unknown_format_is_refused(app, client, runner, tmp_path):
    apply(client)
    result = runner.invoke(args=["vault", "export", _public_id(app), "--format", "xml",
                                 "-o", str(tmp_path / "x.xml")])
    assert result.exit_code == 2 and not (tmp_path / "x.xml").exists()


def test_import_of_many_lines_reports_the_count(app, runner, tmp_path):
    lines = [json.dumps({"contact": {"full_name": f"Person {n}", "email": f"p{n}@example.org"}})
             for n in range(5)]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n")
    result = runner.invoke(args=["vault", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "Imported 5 record(s)." in result.output
    assert _count(app) == 5


def test_import_leaves_the_planner_statistics_read(app, backend, runner, tmp_path):
    if backend == "sqlite":
        pytest.skip("PostgreSQL's planner statistics")
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"contact": {
        "full_name": f"Person {n}", "email": f"p{n}@example.org"}}) + "\n" for n in range(3)))
    result = runner.invoke(args=["vault", "import", str(path)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert counted_candidates(db.session) == 3


def test_import_caps_the_cv_at_the_upload_limit(app, runner, tmp_path):
    content = files.pdf_with_text("x")
    record = {"contact": {"full_name": "Big CV", "email": "big@example.org"},
              "documents": [{"filename": "cv.pdf", "content": base64.b64encode(content).decode()}]}
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(record) + "\n")
    app.config["MAX_CONTENT_LENGTH"] = len(content) - 1
    result = runner.invoke(args=["vault", "import", str(path)])
    assert result.exit_code == 1 and "line 1: documents.content is larger" in result.output
    assert _count(app) == 0


def test_import_under_an_existing_persons_address_joins_them_only_once_confirmed(
        app, client, runner, tmp_path):
    from tests.candidate.test_email_change import _confirmation_link, _mails_to
    from tests.journey import link_in, outbox

    apply(client)
    victim_link = link_in(outbox(app)[-1])
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"contact": {"full_name": "Someone Imported Qorvath",
                                            "email": MARK_EMAIL}}) + "\n")
    result = runner.invoke(args=["vault", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "Queued 1 confirmation link" in result.output
    page = client.get(victim_link)
    assert b"Qorvath" not in page.data and b"1 record:" in page.data
    with app.app_context():
        held = db.session.scalars(select(Candidate).order_by(Candidate.id)).all()[1]
        assert held.source == "import" and held.email_confirmed_at is None
    # Asking for a link at /my-data leaves the imported record out, and mails a fresh
    # confirmation for it instead.
    client.post("/my-data", data={"email": MARK_EMAIL})
    asked = [m for m in outbox(app) if m["Subject"] == "Your personal link to your data"][-1]
    assert b"Qorvath" not in client.get(link_in(asked)).data
    confirm = _confirmation_link([m for m in _mails_to(app, MARK_EMAIL)
                                  if m["Subject"] == "Please confirm your e-mail address"][-1])
    landed = client.post(confirm)
    assert landed.status_code == 302
    body = client.get(landed.headers["Location"]).data
    assert b"Qorvath" in body and b"2 records" in body
