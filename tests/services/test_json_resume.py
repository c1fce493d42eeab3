"""export.resume.json: the person's CV data as JSON Resume, beside the vault's own format.

Checked against JSON Resume's own schema, v1.0.0, kept in tests/fixtures (MIT licence,
github.com/jsonresume/resume-schema, schema.json at tag v1.0.0)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from jsonschema import Draft4Validator
from sqlalchemy import select

from tests.journey import apply, link_in, make_vacancy, outbox
from tests.services.test_exports import EMAIL, NAME, make_person, person
from vault.appctx import vault_keys
from vault.extensions import db
from vault.models import Candidate
from vault.services import exports, json_resume

RESUME_SCHEMA = json.loads((Path(__file__).resolve().parent.parent / "fixtures"
                            / "jsonresume-schema-v1.0.0.json").read_text(encoding="utf-8"))


def resume_errors(resume: dict) -> list[str]:
    checker = Draft4Validator(RESUME_SCHEMA, format_checker=Draft4Validator.FORMAT_CHECKER)
    return [error.message for error in checker.iter_errors(resume)]


def _resume(app, clock, make_user) -> tuple[dict, dict]:
    public_id, _ = make_person(app, clock, make_user)
    with app.app_context():
        records = person(public_id)
        body = exports.render(db.session, vault_keys(), records, "resume.json", now=clock())
        document = exports.build_export(db.session, vault_keys(), records, now=clock())
    return json.loads(body), document


def test_the_resume_holds_the_persons_cv_data_in_json_resumes_places(app, clock, make_user):
    resume, _document = _resume(app, clock, make_user)
    assert resume_errors(resume) == []
    assert resume["$schema"] == json_resume.SCHEMA
    assert resume["basics"] == {"name": NAME, "label": "Platform engineer", "email": EMAIL,
                                "phone": "+32 470 99 88 77"}
    assert resume["education"] == [
        {"institution": "UGent", "area": "Physics", "studyType": "Master of Science",
         "endDate": "2014"},
        {"institution": "VUB", "area": "Mathematics", "studyType": "Bachelor",
         "endDate": "2012"}]
    assert resume["interests"] == [{"name": "climbing, mentoring"}]
    assert resume["meta"]["version"] == "v1.0.0"


def test_what_json_resume_has_no_place_for_stays_in_the_vaults_format(app, clock, make_user):
    resume, document = _resume(app, clock, make_user)
    text = json.dumps(resume)
    record = document["records"][0]
    # Consents, notes, staff access and requests are in export.json, not here.
    assert record["consents"] and record["notes"] and record["staff_access"]
    for absent in ("consent", "notice", "talent_pool", "staff", "request", "note",
                   record["notes"][0]["body"], record["public_id"], "non-binary", '"34"',
                   "Els CV (2026).pdf"):
        assert absent not in text
    assert set(resume) == {"$schema", "basics", "education", "interests", "meta"}


def test_several_applications_give_one_resume_with_the_latest_words(app, clock, make_user):
    from tests.services.test_exports import person_input
    from vault.services.candidates import create_candidate

    public_id, _ = make_person(app, clock, make_user)
    clock.advance(days=2)
    with app.app_context():
        create_candidate(db.session, vault_keys(), person_input(
            position="Site reliability engineer", cv=None, interests=""), now=clock())
        db.session.commit()
        body = exports.render(db.session, vault_keys(), person(public_id), "resume.json",
                              now=clock())
    resume = json.loads(body)
    assert resume_errors(resume) == []
    assert resume["basics"]["label"] == "Site reliability engineer"
    assert resume["interests"] == [{"name": "climbing, mentoring"}]  # the latest said
    assert len(resume["education"]) == 2  # the same degrees, once


def test_an_empty_field_is_left_out_rather_than_written_empty():
    document = {"exported_at": "2026-03-02T10:00:00+00:00", "records": [{
        "created_at": "2026-03-02T10:00:00+00:00", "position": "", "interests": "",
        "contact": {"full_name": "A. Person", "email": "a@example.org", "phone": ""},
        "education": [{"degree": "BSc", "field": "Law", "institution": "KU Leuven",
                       "year": ""}]}]}
    resume = json_resume.resume(document)
    assert resume_errors(resume) == []
    assert resume["basics"] == {"name": "A. Person", "email": "a@example.org"}
    assert resume["education"] == [{"institution": "KU Leuven", "area": "Law",
                                    "studyType": "BSc"}]
    assert "interests" not in resume and resume["meta"]["lastModified"] == "2026-03-02T10:00:00"


def test_the_person_downloads_it_beside_the_vaults_own(app, client):
    apply(client, make_vacancy(app))
    link = link_in(outbox(app)[-1])
    page = client.get(link).data.decode()
    assert f'href="{link}/export.resume.json"' in page
    response = client.get(f"{link}/export.resume.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="ingenium-my-data-2026-03-02.resume.json"'
    assert resume_errors(response.get_json()) == []
    with zipfile.ZipFile(io.BytesIO(client.get(f"{link}/export.zip").data)) as archive:
        assert json.loads(archive.read("export.resume.json")) == response.get_json()
        assert "export.resume.json" in archive.read("README.txt").decode()


def test_the_cli_writes_it_with_format_resume_json(app, client, runner, tmp_path):
    apply(client, make_vacancy(app))
    with app.app_context():
        public_id = db.session.scalar(select(Candidate.public_id))
    target = tmp_path / "export.resume.json"
    result = runner.invoke(args=["vault", "export", public_id, "--format", "resume.json",
                                 "-o", str(target)])
    assert result.exit_code == 0, result.output
    resume = json.loads(target.read_bytes())
    assert resume_errors(resume) == [] and resume["basics"]["name"]
