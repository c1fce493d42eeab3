from __future__ import annotations

import logging

from sqlalchemy import select

from vault.extensions import db
from vault.models import AuditEvent
from vault.services import audit


def test_search_page_lists_visible_matches_with_an_excerpt(app, records, make_user, login):
    client = app.test_client()
    login(client, make_user(role="recruiter", company="Ingenium"))
    page = client.get("/candidates?q=kafka").data.decode()
    assert "Own Applicant" in page and "Pool Applicant" in page
    assert "Other Applicant" not in page and "Spontaneous Applicant" not in page
    assert "Kafka" in page  # the excerpt of the CV text


def test_spontaneous_applications_are_found_by_the_companies_they_name(app, records,
                                                                       make_user, login):
    ingenium, hoptimize = app.test_client(), app.test_client()
    login(ingenium, make_user(role="recruiter", company="Ingenium"))
    login(hoptimize, make_user(role="recruiter", company="Hoptimize"))
    for query in ("kafka", ""):
        mine = ingenium.get(f"/candidates?q={query}").data.decode()
        theirs = hoptimize.get(f"/candidates?q={query}").data.decode()
        # Named for Ingenium, no pool consent: Ingenium's recruiters only.
        assert "Spontaneous Own" in mine and "Spontaneous Own" not in theirs
        # Named for Hoptimize: theirs; Ingenium's only through live pool consent.
        assert "Spontaneous Applicant" in theirs and "Spontaneous Applicant" not in mine
        assert "Spontaneous Pool" in theirs and "Spontaneous Pool" in mine
        assert "spontaneous for Ingenium" in mine and "spontaneous for Hoptimize" in theirs


def test_the_query_is_never_written_down(app, records, make_user, login, caplog):
    client = app.test_client()
    login(client, make_user())
    caplog.set_level(logging.DEBUG)
    client.get("/candidates?q=Vrolijkheid+secretword")
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == audit.SEARCH_PERFORMED)).all()
    assert [e.detail for e in events] == ["words=2 results=0"]
    assert "secretword" not in caplog.text and "Vrolijkheid" not in caplog.text


def test_pagination_keeps_the_query(app, records, make_user, login):
    app.config["SEARCH_PAGE_SIZE"] = 1
    client = app.test_client()
    login(client, make_user(role="admin"))
    page = client.get("/candidates?q=python").data.decode()
    assert "page=2" in page and "q=python" in page


def test_bad_filter_is_a_form_error(app, records, make_user, login):
    client = app.test_client()
    login(client, make_user())
    assert client.get("/candidates?level=wizard").status_code == 400
    for page in ("abc", "0", "-5", "99999999999999999999"):
        assert client.get(f"/candidates?q=python&page={page}").status_code == 400
    assert client.get("/candidates?vacancy=999999").status_code == 400


def test_a_query_without_a_word_is_refused_with_a_message(app, records, make_user, login):
    client = app.test_client()
    login(client, make_user(role="admin"))
    response = client.get("/candidates?q=c")
    page = response.data.decode()
    assert response.status_code == 400
    assert "no word to look for" in page
    assert "Own Applicant" not in page  # never "everyone"
    with app.app_context():
        assert db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == audit.SEARCH_PERFORMED)).all() == []
