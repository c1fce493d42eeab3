"""The start page's list of open vacancies and its filter by company and location."""

from __future__ import annotations

import re

import pytest


@pytest.fixture
def jobs(open_job) -> dict[str, str]:
    return {
        "ghent": open_job("Ingenium", "Data engineer", location="Ghent"),
        "brussels": open_job("Hoptimize", "Backend developer", location="Brussels"),
        "antwerp": open_job("Ingenium", "Project manager", location="Antwerp"),
        "closed": open_job("Hoptimize", "Retired role", location="Liège", closed=True),
    }


def _titles(page: str) -> set[str]:
    return set(re.findall(r'<h3><a href="/jobs/[^"]+">([^<]+)</a></h3>', page))


def test_without_a_filter_every_open_vacancy_is_listed(client, jobs):
    page = client.get("/").get_data(as_text=True)
    assert _titles(page) == {"Data engineer", "Backend developer", "Project manager"}


def test_filter_by_company(client, jobs):
    page = client.get("/?company=Ingenium").get_data(as_text=True)
    assert _titles(page) == {"Data engineer", "Project manager"}
    assert '<option value="Ingenium" selected>Ingenium</option>' in page


def test_filter_by_location_ignores_case(client, jobs):
    page = client.get("/?location=brussels").get_data(as_text=True)
    assert _titles(page) == {"Backend developer"}


def test_filters_combine(client, jobs):
    page = client.get("/?company=Ingenium&location=Antwerp").get_data(as_text=True)
    assert _titles(page) == {"Project manager"}
    page = client.get("/?company=Hoptimize&location=Antwerp").get_data(as_text=True)
    assert _titles(page) == set()
    assert "No open vacancy matches your choice right now." in page
    assert '<a href="/">Show all open vacancies</a>' in page


def test_unknown_company_gives_an_empty_list_with_a_clear_message(client, jobs):
    response = client.get("/?company=Acme")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and _titles(page) == set()
    assert "We have no company by that name" in page


def test_unknown_location_gives_an_empty_list_with_a_clear_message(client, jobs):
    # Liège has only a closed vacancy: not a location of any open one.
    for location in ("Mars", "Liège"):
        response = client.get("/", query_string={"location": location})
        page = response.get_data(as_text=True)
        assert response.status_code == 200 and _titles(page) == set()
        assert "None of our open vacancies is in that location" in page


@pytest.mark.parametrize("value", ["\x00", "Ingenium\x00", "<script>x</script>", "x" * 5000,
                                   "%", "' OR 1=1 --", "\r\nSet-Cookie: a=b"])
def test_hostile_filter_values_never_fail(client, jobs, value):
    for name in ("company", "location"):
        response = client.get("/", query_string={name: value})
        page = response.get_data(as_text=True)
        assert response.status_code == 200
        assert _titles(page) == set() and "<script>x" not in page


def test_filter_is_a_plain_get_form_with_the_open_locations(client, jobs):
    page = client.get("/").get_data(as_text=True)
    form = page[page.index('<form class="job-filter"'):page.index("</form>")]
    assert 'method="get" action="/"' in form
    assert '<select id="filter-company" name="company">' in form
    assert '<select id="filter-location" name="location">' in form
    locations = re.findall(r'<option value="([^"]*)"', form.split('name="location"')[1])
    assert locations == ["", "Antwerp", "Brussels", "Ghent"]  # no closed vacancy's Liège
    assert "<script" not in page


def test_filter_messages_are_translated(client, jobs):
    page = client.get("/?company=Acme&lang=nl").get_data(as_text=True)
    assert "Wij hebben geen bedrijf met die naam" in page and "Alle bedrijven" in page
    page = client.get("/?location=Mars&lang=fr").get_data(as_text=True)
    assert "Aucune de nos offres ouvertes ne se situe dans ce lieu" in page


def test_no_open_vacancy_at_all_says_so(client):
    page = client.get("/").get_data(as_text=True)
    assert "There are no open vacancies right now." in page
