"""The privacy desk in Dutch, French and English, with every control named and the
current page marked in both menus."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from tests.page_structure import current_links, unlabelled_controls
from vault.extensions import db
from vault.models import DataRequest


def test_desk_page_in_dutch_shows_dutch(client, admin):
    page = client.get("/admin/?lang=nl").data.decode()
    assert '<html lang="nl">' in page
    for words in ("Privacyloket", "Openstaande verzoeken", "Uitgaande mail",
                  "Een persoon zoeken op referentie", "Referentie (publieke id)", "Openen"):
        assert words in page, words
    assert "Open requests" not in page and "Find a person by reference" not in page


def test_desk_follows_accept_language_in_french(client, admin):
    page = client.get("/admin/retention", headers={"Accept-Language": "fr-BE"}).data.decode()
    assert "Dossiers à détruire" in page and "Records due for shredding" not in page


def test_flashes_and_codes_of_the_desk_are_in_the_page_language(client, person, admin):
    client.get("/admin/?lang=nl")
    response = client.post("/admin/requests/new",
                           data={"public_id": person[0], "kind": "object"},
                           follow_redirects=True)
    page = response.data.decode()
    assert "Verzoek geregistreerd; uiterlijk te beantwoorden op 30/03/2026." in page
    row = re.search(r'<tr id="request-[^"]+"[^>]*>.*?</tr>', page, re.S).group(0)
    assert "<td>bezwaar</td>" in row and "<td>privacyverantwoordelijke</td>" in row
    assert '<option value="fulfilled">uitgevoerd</option>' in row


def test_form_errors_of_the_desk_are_in_the_page_language(client, admin):
    missing = client.get("/admin/lookup?public_id=nosuchreference&lang=fr")
    assert missing.status_code == 400
    assert "Aucun dossier n'a cette référence." in html.unescape(missing.data.decode())


def test_erase_confirmation_and_categories_in_french(app, client, person, admin):
    page = html.unescape(client.get(f"/admin/candidates/{person[0]}/erase?lang=fr")
                         .data.decode())
    assert "Ceci efface <strong>2 dossiers</strong>" in page
    assert "La personne a demandé l'effacement (lettre, e-mail, téléphone)" in page
    assert 'value="subject-request"' in page  # the code posted stays the same


def test_every_control_of_every_desk_page_has_a_label(app, client, person, admin):
    client.post("/admin/requests/new", data={"public_id": person[0], "kind": "access"})
    with app.app_context():
        assert db.session.scalar(select(DataRequest.status)) == "open"
    pages = ["/admin/", "/admin/requests", "/admin/retention", "/admin/users",
             "/admin/audit", f"/admin/candidates/{person[0]}",
             f"/admin/candidates/{person[0]}/erase", "/admin/lookup?public_id=x"]
    for path in pages:
        response = client.get(path)
        assert response.status_code in (200, 400), path
        body = response.data.decode()
        assert unlabelled_controls(body) == [], path
    requests = client.get("/admin/requests").data.decode()
    assert re.search(r'<label for="resolve-[^"]+" class="visually-hidden">', requests)
    users = client.get("/admin/users").data.decode()
    assert re.search(r'<label for="role-\d+" class="visually-hidden">', users)
    assert re.search(r'<label for="active-\d+" class="visually-hidden">', users)


def test_both_menus_mark_the_current_page(client, person, admin):
    assert current_links(client.get("/admin/requests").data.decode()) == [
        "Privacy desk", "Requests"]
    assert current_links(client.get("/admin/audit").data.decode()) == [
        "Privacy desk", "Audit trail"]
    assert current_links(client.get(f"/admin/candidates/{person[0]}").data.decode()) == [
        "Privacy desk", "Desk"]
    assert current_links(client.get("/admin/users?lang=nl").data.decode()) == [
        "Privacyloket", "Gebruikers"]


def test_desk_tables_scroll_inside_a_named_region_and_the_trail_page_is_wide(client, person,
                                                                            admin):
    for path in ("/admin/requests", "/admin/retention", "/admin/users", "/admin/audit",
                 f"/admin/candidates/{person[0]}"):
        body = client.get(path).data.decode()
        regions = re.findall(r'<div class="table-wrap"[^>]*>', body)
        assert regions, path
        for region in regions:
            assert 'role="region"' in region and 'tabindex="0"' in region
            assert "aria-label=" in region or "aria-labelledby=" in region
    assert '<main class="wide">' in client.get("/admin/audit").data.decode()
