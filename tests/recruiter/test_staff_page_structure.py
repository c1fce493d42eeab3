"""The recruiter's pages for assistive technology and small screens: every control
named, the current menu item marked, notes saying who wrote them and when, tables in
their own scrolling region, and a way back from a candidate to the search results."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from tests.journey import make_vacancy
from tests.page_structure import current_links, unlabelled_controls
from vault.extensions import db
from vault.models import Note
from vault.recruiter.back import safe_back


@pytest.fixture
def ingenium(app, make_user, login):
    client = app.test_client()
    uid = make_user(role="recruiter", company="Ingenium", display_name="Rita Peeters")
    login(client, uid)
    client.user_id = uid
    return client


def test_the_scan_finds_a_select_without_a_label():
    assert unlabelled_controls('<select name="status"></select>') == [
        "<select name='status' id=None>"]
    assert unlabelled_controls('<label for="s">Status</label><select id="s"></select>'
                               '<select aria-label="Kind"></select>'
                               '<label>Name <input name="n"></label>'
                               '<input type="hidden" name="csrf_token">') == []


def test_every_control_of_every_recruiter_page_has_a_label(app, records, ingenium):
    own = records["own"]
    ingenium.post("/vacancies/data-engineer/close", data={"confirm": "yes"})
    pages = ["/vacancies", "/vacancies/new", "/vacancies/data-engineer",
             "/vacancies/data-engineer/edit", f"/candidates/{own}",
             f"/candidates/{records['spontaneous_own']}", "/vacancies/web-developer"]
    make_vacancy(app, company="Ingenium", title="Tester")
    pages.append("/vacancies/tester/close")
    for path in pages:
        response = ingenium.get(path)
        if path == "/vacancies/web-developer":
            assert response.status_code == 404  # another company's
            continue
        html = response.data.decode()
        assert response.status_code == 200, path
        assert "<select" in html or "<input" in html or "<textarea" in html or path == "/vacancies"
        assert unlabelled_controls(html) == [], path


def test_the_menu_marks_the_section_of_the_page(records, ingenium):
    assert current_links(ingenium.get("/vacancies").data.decode()) == ["Vacancies"]
    assert current_links(ingenium.get("/vacancies/data-engineer").data.decode()) == [
        "Vacancies"]
    assert current_links(ingenium.get(f"/candidates/{records['own']}").data.decode()) == [
        "Candidates"]
    assert current_links(ingenium.get("/candidates").data.decode()) == ["Candidates"]


def test_the_current_menu_item_is_also_styled(app):
    css = (app.static_folder and open(f"{app.static_folder}/vault.css").read()) or ""
    assert 'a[aria-current="page"]' in css


def test_tables_scroll_inside_a_named_focusable_region(records, ingenium):
    for path in ("/vacancies", "/vacancies/data-engineer"):
        html = ingenium.get(path).data.decode()
        for region in re.findall(r'<div class="table-wrap"[^>]*>', html):
            assert 'role="region"' in region and 'tabindex="0"' in region
            assert "aria-label=" in region or "aria-labelledby=" in region
        assert html.count("<table") == html.count('class="table-wrap"')


def test_notes_show_their_author_and_time(app, records, ingenium, clock):
    own = records["own"]
    clock.advance(hours=5, minutes=7)  # 14:07 UTC on 2 March 2026: 15:07 in Brussels
    ingenium.post(f"/candidates/{own}/notes", data={"body": "Strong Kafka background"})
    page = ingenium.get(f"/candidates/{own}").data.decode()
    with app.app_context():
        note = db.session.scalar(select(Note))
        assert note.author_id == ingenium.user_id
    assert "Rita Peeters, recruiter, Ingenium" in page
    assert "02/03/2026 15:07" in page and 'datetime="2026-03-02T14:07:00+00:00"' in page
    assert "Strong Kafka background" in page


def test_notes_show_their_author_in_dutch(records, ingenium):
    own = records["own"]
    ingenium.post(f"/candidates/{own}/notes", data={"body": "Sterk profiel"})
    page = ingenium.get(f"/candidates/{own}?lang=nl").data.decode()
    assert "Rita Peeters, recruiter, Ingenium" in page
    assert "Terug naar de zoekresultaten" not in page and "Kandidaten zoeken" in page


def test_back_link_returns_to_the_search_with_its_query(records, ingenium):
    own = records["own"]
    page = ingenium.get(f"/candidates/{own}",
                        query_string={"back": "/candidates?q=kafka&level=master&page=2"})
    html = page.data.decode()
    assert 'href="/candidates?q=kafka&amp;level=master&amp;page=2"' in html
    assert "Back to the search results" in html


def test_a_result_links_to_its_candidate_with_the_way_back_to_this_search(records, ingenium):
    results = ingenium.get("/candidates", query_string={"q": "pool"}).data.decode()
    [href] = re.findall(rf'href="(/candidates/{records["pool"]}\?[^"]*)"', results)
    back = parse_qs(urlsplit(href.replace("&amp;", "&")).query)["back"]
    assert back == ["/candidates?q=pool"]
    page = ingenium.get(href.replace("&amp;", "&")).data.decode()
    assert 'href="/candidates?q=pool"' in page and "Back to the search results" in page


def test_forms_on_the_candidate_page_keep_the_way_back(records, ingenium):
    own = records["own"]
    back = "/candidates?q=kafka"
    html = ingenium.get(f"/candidates/{own}", query_string={"back": back}).data.decode()
    assert html.count('name="back" value="/candidates?q=kafka"') == 2  # status and note
    response = ingenium.post(f"/candidates/{own}/notes", data={"body": "ok", "back": back})
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == f"/candidates/{own}"
    assert parse_qs(location.query) == {"back": [back]}
    evil = ingenium.post(f"/candidates/{own}/notes",
                         data={"body": "ok", "back": "https://evil.example/candidates"})
    assert evil.headers["Location"].endswith(f"/candidates/{own}")


@pytest.mark.parametrize("back", [
    "https://evil.example/candidates?q=x", "//evil.example/candidates", "/\\evil.example",
    "\\\\evil.example/candidates", "http:/candidates", "javascript:alert(1)",
    "/candidates/../admin", "/admin/users", "/candidates\r\nX: y", "", "/" + "a" * 3000,
])
def test_back_link_refuses_other_hosts_and_other_pages(records, ingenium, back):
    html = ingenium.get(f"/candidates/{records['own']}", query_string={"back": back}
                        ).data.decode()
    # (The language switcher repeats the query, URL-encoded, in its own links.)
    assert re.search(r'<p class="back"><a href="([^"]*)"', html).group(1) == "/candidates"
    for target in ('href="https:', 'href="//', 'href="/\\', 'href="javascript',
                   'href="/admin/users', 'href="\\'):
        assert target not in html
    assert safe_back(back) is None


def test_safe_back_keeps_only_the_search_page_and_its_query():
    assert safe_back("/candidates?q=rust&vacancy=3") == "/candidates?q=rust&vacancy=3"
    assert safe_back("/candidates") == "/candidates"
    assert safe_back("/candidates#top") == "/candidates"
    assert safe_back(None) is None and safe_back(["/candidates"]) is None
