"""Every export the vault writes matches the schema it publishes (docs/export-schema.json)."""

from __future__ import annotations

import copy
import io
import json
import zipfile

import pytest
from sqlalchemy import select

from tests.export_schema import SCHEMA_FILE, schema_errors, validator
from tests.journey import apply, link_in, make_vacancy, outbox
from tests.services.test_exports import document_of, make_person
from vault.extensions import db
from vault.models import Candidate
from vault.services import exports


def test_the_published_schema_is_draft_2020_12_with_the_exports_id():
    schema = validator().schema
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == exports.SCHEMA_ID
    assert schema["properties"]["schema"] == {"const": exports.SCHEMA_ID}
    # The id is a stable address that export.json names and the documentation gives.
    assert exports.SCHEMA_ID == "https://schemas.ingenium-group.example/vault/export/v1"
    assert exports.SCHEMA_ID in (SCHEMA_FILE.parent / "export-schema.md").read_text()


def test_a_full_export_matches_the_schema(app, clock, make_user):
    public_id, _ = make_person(app, clock, make_user)
    with app.app_context():
        document = json.loads(exports.export_json(document_of(public_id, clock)))
    record = document["records"][0]
    # The person has every part filled: a vacancy, a CV, consents, notes, access, requests.
    assert all(record[part] for part in ("vacancy", "documents", "consents", "notes",
                                         "staff_access", "requests", "education"))
    assert schema_errors(document) == []


@pytest.mark.parametrize("damage", [
    lambda d: d["records"][0].pop("consents"),
    lambda d: d["records"][0]["contact"].update(email=None),
    lambda d: d["records"][0]["consents"][0].update(at="2026-03-02 10:00"),
    lambda d: d["records"][0]["consents"][0].update(event="forgotten"),
    lambda d: d["records"][0]["documents"][0].update(zip_path="../../etc/passwd"),
    lambda d: d["records"][0].update(unexpected="field"),
    lambda d: d.update(schema_version=2),
])
def test_the_schema_refuses_a_document_that_departs_from_it(app, clock, make_user, damage):
    public_id, _ = make_person(app, clock, make_user)
    with app.app_context():
        document = json.loads(exports.export_json(document_of(public_id, clock)))
    damaged = copy.deepcopy(document)
    damage(damaged)
    assert schema_errors(document) == [] and schema_errors(damaged) != []


def _applied(app, client) -> tuple[str, str]:
    """A person who applied to a vacancy and to the talent pool; their link and id."""
    apply(client, make_vacancy(app), consent_talent_pool="y")
    link = link_in(outbox(app)[-1])
    with app.app_context():
        return link, db.session.scalar(select(Candidate.public_id))


def _json_in_zip(body: bytes) -> dict:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return json.loads(archive.read("export.json"))


def test_the_self_service_downloads_match_the_schema(app, client):
    link, _ = _applied(app, client)
    as_json = client.get(f"{link}/export.json")
    as_zip = client.get(f"{link}/export.zip")
    assert as_json.status_code == as_zip.status_code == 200
    assert schema_errors(as_json.get_json()) == []
    assert schema_errors(_json_in_zip(as_zip.data)) == []


def test_the_privacy_officers_export_matches_the_schema(app, client, make_user, login):
    _link, public_id = _applied(app, client)
    officer = app.test_client()
    login(officer, make_user(role="admin"))
    for recipient in ("person", "organisation"):
        as_json = officer.get(f"/admin/candidates/{public_id}/export.json?to={recipient}")
        as_zip = officer.get(f"/admin/candidates/{public_id}/export.zip?to={recipient}")
        assert as_json.status_code == as_zip.status_code == 200
        assert schema_errors(json.loads(as_json.data)) == []
        assert schema_errors(_json_in_zip(as_zip.data)) == []


def test_a_recruiters_export_matches_the_schema(app, client, make_user, login):
    _link, public_id = _applied(app, client)
    recruiter = app.test_client()
    login(recruiter, make_user(role="recruiter", company="Ingenium"))
    response = recruiter.get(f"/candidates/{public_id}/export.json")
    assert response.status_code == 200
    assert schema_errors(json.loads(response.data)) == []


def test_the_cli_exports_match_the_schema(app, client, runner, tmp_path):
    _link, public_id = _applied(app, client)
    for fmt in ("json", "zip"):
        target = tmp_path / f"out.{fmt}"
        result = runner.invoke(args=["vault", "export", public_id, "--format", fmt,
                                     "-o", str(target)])
        assert result.exit_code == 0, result.output
        document = (json.loads(target.read_bytes()) if fmt == "json"
                    else _json_in_zip(target.read_bytes()))
        assert document["records"][0]["public_id"] == public_id
        assert schema_errors(document) == []
