"""The files a person downloads: named for the company and the day, CSV as tables."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tests.csv_tables import read_tables
from tests.journey import MARK_EMAIL, apply, link_in, make_vacancy, outbox
from vault.extensions import db
from vault.models import Candidate
from vault.services import exports


def _link(app, client, slug=None, **overrides) -> str:
    assert apply(client, slug, **overrides).status_code == 302
    return link_in(outbox(app)[-1])


def _filename(response) -> str:
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="') and disposition.endswith('"')
    return disposition.removeprefix('attachment; filename="').removesuffix('"')


@pytest.mark.parametrize("fmt", ["json", "csv", "zip"])
def test_a_download_is_named_for_the_company_applied_to_and_the_day(app, client, fmt):
    link = _link(app, client, make_vacancy(app, company="Hoptimize"))
    response = client.get(f"{link}/export.{fmt}")
    assert response.status_code == 200
    assert _filename(response) == f"hoptimize-my-data-2026-03-02.{fmt}"


def test_the_day_is_the_one_in_belgium(app, client, clock):
    clock.current = datetime(2026, 11, 27, 23, 30, tzinfo=UTC)  # 00:30 on the 28th there
    link = _link(app, client, make_vacancy(app))
    assert _filename(client.get(f"{link}/export.zip")) == "ingenium-my-data-2026-11-28.zip"


def test_applications_to_both_companies_get_the_groups_name(app, client):
    _link(app, client, make_vacancy(app, company="Hoptimize", title="Tester"))
    link = _link(app, client, make_vacancy(app))
    assert _filename(client.get(f"{link}/export.csv")) == \
        "ingenium-group-my-data-2026-03-02.csv"


def test_a_spontaneous_application_to_both_companies_gets_the_groups_name(app, client):
    link = _link(app, client, companies=["Ingenium", "Hoptimize"])
    assert _filename(client.get(f"{link}/export.json")) == \
        "ingenium-group-my-data-2026-03-02.json"


def test_a_spontaneous_application_to_one_company_is_named_for_it(app, client):
    link = _link(app, client, companies="Hoptimize")
    assert _filename(client.get(f"{link}/export.json")) == "hoptimize-my-data-2026-03-02.json"


def test_company_names_become_plain_ascii_and_unsafe_names_never_reach_the_header(app):
    with app.app_context():
        record = Candidate(public_id="x", source="import")
        record.named_companies = []
        assert exports.download_filename([record], "zip", now=datetime(2026, 1, 5, tzinfo=UTC)) \
            == "ingenium-group-my-data-2026-01-05.zip"  # no company at all: the group's
    assert exports._slug('Hôptimize & Co "Brussel"/../') == "hoptimize-co-brussel"
    assert len(exports._slug("Ingenium " * 40)) <= 40
    for unsafe in ('a"b.zip', "../x.zip", "r\u00e9sum\u00e9.zip", "a\r\nSet-Cookie: x", ""):
        with pytest.raises(ValueError):
            exports.content_disposition(unsafe)
    with pytest.raises(ValueError):
        exports.download_filename([], "xml", now=datetime(2026, 1, 5, tzinfo=UTC))


def test_the_csv_is_one_table_per_kind_of_data_with_bom_and_one_charset(app, client):
    slug = make_vacancy(app)
    _link(app, client, slug, consent_talent_pool="y")
    link = _link(app, client, slug, **{"education-1-degree": "Bachelor",
                                       "education-1-field": "History",
                                       "education-1-institution": "VUB"})
    client.get(link)  # a request on record
    response = client.get(f"{link}/export.csv")

    assert response.headers.getlist("Content-Type") == ["text/csv; charset=utf-8"]
    tables = read_tables(response.data)  # BOM, title, header, rows, a blank line between
    assert list(tables) == ["Your details", "Education", "CV files", "Consents",
                            "Notes our staff wrote about you", "Who opened your data",
                            "Your requests"]
    assert [t.header for t in tables.values()] == [list(s.columns) for s in exports.CSV_SECTIONS]
    with app.app_context():
        ids = db.session.scalars(select(Candidate.public_id).order_by(Candidate.id)).all()
    details = tables["Your details"].rows
    assert [d["public_id"] for d in details] == ids
    assert all(d["email"] == MARK_EMAIL and d["vacancy_company"] == "Ingenium"
               for d in details)
    assert [(e["public_id"], e["institution"]) for e in tables["Education"].rows] == [
        (ids[0], "Ghent University"), (ids[1], "Ghent University"), (ids[1], "VUB")]
    assert [(c["public_id"], c["purpose"]) for c in tables["Consents"].rows] == [
        (ids[0], "application"), (ids[0], "talent_pool"), (ids[1], "application")]
    assert [r["kind"] for r in tables["Your requests"].rows] == ["access"]
    assert tables["Who opened your data"].rows == []


def test_every_field_of_the_json_export_has_its_csv_column(app, client):
    """The CSV follows export.json: a field added there and not here fails this test."""
    link = _link(app, client, make_vacancy(app))
    [record] = json.loads(client.get(f"{link}/export.json").data)["records"]
    columns = {s.key: set(s.columns) for s in exports.CSV_SECTIONS}
    scalars = {k for k, v in record.items() if not isinstance(v, (dict, list))}
    nested = {f"vacancy_{k}" for k in record["vacancy"]} | set(record["contact"]) \
        | set(record["personal"]) | {"companies"}
    assert columns["details"] == scalars | nested
    for key in columns.keys() - {"details"}:
        entry_fields = {f for item in record[key] for f in item} or columns[key] - {"public_id"}
        assert columns[key] == {"public_id"} | entry_fields, key


def test_the_csv_titles_follow_the_persons_language(app, client):
    link = _link(app, client, make_vacancy(app))
    tables = read_tables(client.get(f"{link}/export.csv?lang=fr").data)
    assert "Vos données personnelles" in tables and "Vos demandes" in tables


def test_the_json_download_is_the_export_document_unchanged(app, client):
    link = _link(app, client, make_vacancy(app))
    response = client.get(f"{link}/export.json")
    assert response.headers.getlist("Content-Type") == ["application/json"]
    document = json.loads(response.data)
    assert document["schema"] == exports.SCHEMA_ID and document["schema_version"] == 1
    assert set(document["records"][0]) >= {"public_id", "contact", "education", "requests"}


def test_every_csv_the_staff_download_says_its_charset_once(app, client, make_user, login):
    _link(app, client, make_vacancy(app))
    with app.app_context():
        public_id = db.session.scalar(select(Candidate.public_id))
    login(client, make_user(role="recruiter", company="Ingenium"))
    recruiter_csv = client.get(f"/candidates/{public_id}/export.csv")
    assert recruiter_csv.status_code == 200
    assert recruiter_csv.headers.getlist("Content-Type") == ["text/csv; charset=utf-8"]
    read_tables(recruiter_csv.data)
