from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import event, select

from tests.services.test_search import _input
from vault.appctx import vault_keys
from vault.extensions import db
from vault.models import AuditEvent
from vault.services import audit
from vault.services.candidates import create_candidate


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


def test_the_search_page_does_not_count_every_candidate(app, records, make_user, login):
    # The vacancy filter needs the vacancies, not their applicant counts: grouping the
    # whole candidate table on every search grows with the pool (a million rows).
    client = app.test_client()
    login(client, make_user(role="recruiter", company="Ingenium"))
    statements: list[str] = []

    def capture(_conn, _cursor, statement, *_args):
        statements.append(statement)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", capture)
        try:
            page = client.get("/candidates?q=kafka").data.decode()
        finally:
            event.remove(db.engine, "before_cursor_execute", capture)
    assert "Own Applicant" in page
    assert not [s for s in statements if "GROUP BY" in s.upper()], statements


def test_bad_filter_is_a_form_error(app, records, make_user, login):
    client = app.test_client()
    login(client, make_user())
    assert client.get("/candidates?level=wizard").status_code == 400
    for page in ("abc", "0", "-5", "99999999999999999999", "1.5", "%00"):
        response = client.get(f"/candidates?q=python&page={page}")
        assert response.status_code == 400
        text = response.data.decode()
        assert "The page number must be a whole number from 1 to 10000." in text
        assert 'href="/candidates?q=python&amp;level=&amp;vacancy=&amp;page=1"' in text
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


def _pool(app, cvs: list[str]) -> None:
    """Candidates with these CV texts (through the candidate service), older first."""
    with app.app_context():
        for number, cv in enumerate(cvs):
            create_candidate(db.session, vault_keys(), _input(
                f"Person {number}", f"p{number}@example.org", cv), now=app.config["CLOCK"]())
        db.session.commit()


@pytest.fixture
def officer(app, make_user, login):
    client = app.test_client()
    login(client, make_user(role="admin"))
    return client


def test_matched_words_are_marked_and_the_cv_cannot_inject_markup(app, officer):
    _pool(app, ['Ran <script>alert("x")</script> and <b>Python</b> & pythonic tools'])
    page = officer.get("/candidates?q=pyth").data.decode()
    assert "<mark>Python</mark>" in page and "<mark>pythonic</mark>" in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "&lt;b&gt;" in page and "&amp; " in page
    assert "<script>alert" not in page and "<b>Python" not in page


def test_the_paginator_numbers_the_pages_and_marks_the_current_one(app, officer):
    app.config["SEARCH_PAGE_SIZE"] = 2
    _pool(app, [f"kafka engineer {n}" for n in range(11)])  # 6 pages
    page = officer.get("/candidates?q=kafka&page=3").data.decode()
    start = page.index('<nav class="pagination"')
    nav = page[start:page.index("</nav>", start)]
    links = re.findall(r'<a href="[^"]*page=(\d+)"[^>]*>([^<]+)</a>', nav)
    assert links == [("2", "Previous"), ("1", "1"), ("2", "2"), ("3", "3"), ("4", "4"),
                     ("5", "5"), ("6", "6"), ("4", "Next")]
    assert re.findall(r'page=(\d+)" aria-current="page"', nav) == ["3"]
    assert "q=kafka" in nav
    first = officer.get("/candidates?q=kafka").data.decode()
    assert "Previous" not in first and 'aria-current="page">1<' in first
    last = officer.get("/candidates?q=kafka&page=6").data.decode()
    assert "Next" not in last and 'aria-current="page">6<' in last


def test_a_page_past_the_last_says_so_and_links_to_the_last(app, officer):
    app.config["SEARCH_PAGE_SIZE"] = 2
    _pool(app, [f"kafka engineer {n}" for n in range(5)])  # 3 pages
    response = officer.get("/candidates?q=kafka&page=7")
    page = response.data.decode()
    assert response.status_code == 200
    assert "Page 7 is past the last page of results (3)." in page
    assert 'href="/candidates?q=kafka&amp;level=&amp;vacancy=&amp;page=3"' in page
    assert "Person" not in page and 'class="pagination"' not in page
    # Far past the end, and the highest page the form takes: the same, never a 500.
    assert "past the last page of results (3)" in officer.get(
        "/candidates?q=kafka&page=10000").data.decode()


def test_a_search_without_matches_says_no_candidate_matches_it(app, officer):
    _pool(app, ["kafka engineer"])
    page = officer.get("/candidates?q=haskell+%3Cem%3E").data.decode()
    assert "No candidates match “haskell &lt;em&gt;”." in page
    assert 'class="pagination"' not in page
    page = officer.get("/candidates?q=haskell&page=4").data.decode()
    assert "No candidates match “haskell”." in page and "past the last page" not in page


def test_the_new_messages_are_in_dutch_and_french(app, officer):
    _pool(app, ["kafka engineer"])
    dutch = officer.get("/candidates?q=kafka&page=3",
                        headers={"Accept-Language": "nl-BE"}).data.decode()
    assert "Pagina 3 ligt voorbij de laatste pagina met resultaten (1)." in dutch
    french = officer.get("/candidates?q=haskell",
                         headers={"Accept-Language": "fr-BE"}).data.decode()
    assert "Aucun candidat ne correspond à « haskell »." in french


def test_degree_levels_are_offered_in_the_readers_language(officer):
    french = officer.get("/candidates", headers={"Accept-Language": "fr-BE"}).data.decode()
    assert '<option value="secondary">Enseignement secondaire</option>' in french
    assert '<option value="doctorate">Doctorat</option>' in french
    dutch = officer.get("/candidates", headers={"Accept-Language": "nl-BE"}).data.decode()
    assert '<option value="doctorate">Doctoraat</option>' in dutch
