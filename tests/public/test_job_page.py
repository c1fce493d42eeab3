"""/jobs/<slug>: a vacancy's public page, a closed one's, an unknown one's."""

from __future__ import annotations

from sqlalchemy import select

from vault.extensions import db
from vault.models import Vacancy


def test_job_page_shows_every_field_of_the_vacancy(client, open_job):
    slug = open_job("Hoptimize", "Backend developer", location="Brussels",
                    contract_type="fixed_term", hours_per_week=32)
    response = client.get(f"/jobs/{slug}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1>Backend developer</h1>" in page
    assert "<dd>Hoptimize</dd>" in page and "<dd>Brussels</dd>" in page
    assert "<dd>Fixed-term contract</dd>" in page and "<dd>32 hours a week</dd>" in page
    # The posting day, as Belgians write it (vault/i18n.py), not ISO.
    assert "<dd>20/02/2026</dd>" in page and "2026-02-20" not in page
    assert "You build our data pipelines." in page


def test_job_page_links_to_the_application_form_for_that_job(client, open_job):
    slug = open_job()
    page = client.get(f"/jobs/{slug}").get_data(as_text=True)
    assert f'href="/apply/{slug}"' in page
    assert client.get(f"/apply/{slug}").status_code == 200


def test_description_keeps_its_line_breaks_and_is_escaped(client, open_job):
    slug = open_job(description="Line one <script>alert(1)</script>\r\nLine & two\r\n\r\n"
                                "<b>Second</b> paragraph")
    page = client.get(f"/jobs/{slug}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "<b>Second</b>" not in page
    assert ("<p>Line one &lt;script&gt;alert(1)&lt;/script&gt;<br>\nLine &amp; two</p>\n"
            "<p>&lt;b&gt;Second&lt;/b&gt; paragraph</p>") in page


def test_job_page_speaks_the_visitors_language(client, open_job):
    slug = open_job(hours_per_week=1)
    dutch = client.get(f"/jobs/{slug}?lang=nl").get_data(as_text=True)
    assert "<dd>Contract van onbepaalde duur</dd>" in dutch and "<dd>1 uur per week</dd>" in dutch
    assert "Solliciteren voor deze job" in dutch
    french = client.get(f"/jobs/{slug}?lang=fr").get_data(as_text=True)
    assert "<dd>Contrat à durée indéterminée</dd>" in french
    assert "<dd>1 heure par semaine</dd>" in french and "<dd>20/02/2026</dd>" in french


def test_fields_not_stated_are_left_out(client, open_job):
    slug = open_job(location="", contract_type="", hours_per_week=None, description="")
    page = client.get(f"/jobs/{slug}").get_data(as_text=True)
    assert "Contract</dt>" not in page and "Hours</dt>" not in page
    assert "Location</dt>" not in page and "<dd>20/02/2026</dd>" in page


def test_closed_vacancy_offers_spontaneous_application(app, client, open_job, clock):
    slug = open_job("Hoptimize", "Cloud architect", closed=True)
    response = client.get(f"/jobs/{slug}")
    page = response.get_data(as_text=True)
    assert response.status_code == 410
    assert "Cloud architect" in page
    assert "This vacancy is closed: Hoptimize no longer takes applications for it." in page
    assert "It closed on 02/03/2026." in page
    assert 'href="/apply"' in page and f'href="/apply/{slug}"' not in page
    # The spontaneous form it points to is there.
    assert client.get("/apply").status_code == 200


def test_closed_vacancy_page_in_french(client, open_job):
    slug = open_job(closed=True)
    page = client.get(f"/jobs/{slug}?lang=fr").get_data(as_text=True)
    assert "Cette offre est clôturée" in page and "Candidature spontanée" in page


def test_unknown_slug_is_a_404_with_the_normal_error_page(client, open_job):
    open_job()
    for slug in ("no-such-job", "data-engineer-2", "%00", "..%2F..%2Fetc"):
        response = client.get(f"/jobs/{slug}")
        page = response.get_data(as_text=True)
        assert response.status_code == 404, slug
        assert "<h1>Not found</h1>" in page and 'href="/"' in page
        # The application form looks its vacancy up the same way.
        assert client.get(f"/apply/{slug}").status_code == 404, slug


def test_start_page_links_each_open_vacancy_to_its_page(app, client, open_job):
    slug = open_job()
    page = client.get("/").get_data(as_text=True)
    assert f'href="/jobs/{slug}"' in page and f'href="/apply/{slug}"' in page
    assert "posted 20/02/2026" in page


def test_reopened_vacancy_page_is_live_again(app, client, open_job):
    slug = open_job(closed=True)
    with app.app_context():
        vacancy = db.session.scalar(select(Vacancy).where(Vacancy.slug == slug))
        vacancy.status, vacancy.closed_at = "open", None
        db.session.commit()
    assert client.get(f"/jobs/{slug}").status_code == 200
