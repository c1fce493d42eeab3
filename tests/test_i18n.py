"""Languages (vault/i18n.py): the choice of language, Belgian dates, mails in the
candidate's language, and that every page and mail string is translated."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, date, datetime
from email.header import decode_header, make_header
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import select

from tests.journey import apply, make_vacancy, outbox, text_of
from vault.extensions import db
from vault.i18n import show_date, show_datetime, show_time
from vault.models import Candidate

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
CATALOGUES = ROOT / "vault" / "translations"
# Every template, the privacy desk's (templates/admin/) included.
COVERED = [
    *sorted((TEMPLATES / "admin").glob("*.html")),
    *sorted((TEMPLATES / "apply").glob("*.html")),
    *sorted((TEMPLATES / "candidate").glob("*.html")),
    *sorted((TEMPLATES / "renewal").glob("*.html")),
    *sorted((TEMPLATES / "mail").glob("*.txt")),
    *sorted((TEMPLATES / "mail").glob("*.html")),
    *sorted((TEMPLATES / "recruiter").glob("*.html")),
    *sorted((TEMPLATES / "auth").glob("*.html")),
    TEMPLATES / "public" / "home.html",
    TEMPLATES / "public" / "job.html",
    TEMPLATES / "public" / "job_closed.html",
    TEMPLATES / "public" / "_job_facts.html",
    TEMPLATES / "public" / "privacy.html",
    TEMPLATES / "base.html",
    TEMPLATES / "error.html",
    TEMPLATES / "_forms.html",
]
# Names that stay as they are in every language.
PROPER_NOUNS = ("Ingenium Group",)


def html_lang(page: bytes) -> str:
    match = re.search(rb'<html lang="([^"]*)"', page)
    assert match, "no lang on <html>"
    return match.group(1).decode()


@pytest.mark.parametrize(("header", "expected", "words"), [
    ("nl-BE,nl;q=0.9,en;q=0.5", "nl", "Werken bij Ingenium en Hoptimize"),
    ("fr-BE,fr;q=0.9", "fr", "Travailler chez Ingenium et Hoptimize"),
    ("en-GB,en;q=0.8", "en", "Work with Ingenium and Hoptimize"),
    ("de-DE,de;q=0.9,fr;q=0.4", "fr", "Travailler chez Ingenium et Hoptimize"),
    ("de-DE", "en", "Work with Ingenium and Hoptimize"),
])
def test_accept_language_picks_dutch_french_or_english_and_html_lang_says_which(
        client, header, expected, words):
    page = client.get("/", headers={"Accept-Language": header})
    assert html_lang(page.data) == expected
    assert words in page.data.decode()


def test_without_accept_language_the_page_is_english(client):
    page = client.get("/")
    assert html_lang(page.data) == "en" and b"Work with Ingenium and Hoptimize" in page.data


def test_switcher_choice_overrides_accept_language_and_is_remembered(client):
    dutch = {"Accept-Language": "nl-BE,nl"}
    home = client.get("/", headers=dutch).data.decode()
    assert 'href="/?lang=fr"' in home and 'href="/?lang=en"' in home
    chosen = client.get("/?lang=fr", headers=dutch)
    assert html_lang(chosen.data) == "fr"
    later = client.get("/my-data", headers=dutch)
    assert html_lang(later.data) == "fr" and "Vos données" in later.data.decode()


def test_an_unknown_language_choice_is_ignored(client):
    page = client.get("/?lang=de%22%3E", headers={"Accept-Language": "nl"})
    assert html_lang(page.data) == "nl"
    assert html_lang(client.get("/").data) == "en"  # nothing was remembered


def test_switcher_keeps_the_other_query_arguments(app, client):
    page = client.get("/my-data?x=1&lang=nl").data.decode()
    assert 'href="/my-data?x=1&amp;lang=fr"' in page


def test_error_pages_follow_the_language(client):
    page = client.get("/no-such-page", headers={"Accept-Language": "fr"})
    assert page.status_code == 404 and "Introuvable" in page.data.decode()


def test_dutch_applicant_is_remembered_and_mailed_in_dutch(app, client):
    slug = make_vacancy(app)
    client.get("/?lang=nl")
    apply(client, slug, consent_talent_pool="y")
    with app.app_context():
        assert db.session.scalar(select(Candidate.language)) == "nl"
    [mail] = outbox(app)
    subject = str(make_header(decode_header(mail["Subject"])))
    body = text_of(mail)
    assert subject == "Uw sollicitatie: Data engineer"
    assert "Dank u voor uw sollicitatie" in body and "Thank you" not in body
    # The clock of the tests starts on 2 March 2026; the pool lasts 24 months and the
    # link 30 days: Belgian dates, not ISO.
    assert "tot 02/03/2028" in body and "(tot 01/04/2026)" in body


def test_link_mail_is_in_the_candidates_language_whatever_the_page(app, client):
    slug = make_vacancy(app)
    client.get("/?lang=fr")
    apply(client, slug)
    outbox(app)
    english = app.test_client()
    english.post("/my-data", data={"email": "ilse.marker4417@example.org"})
    mail = outbox(app)[-1]
    subject = str(make_header(decode_header(mail["Subject"])))
    assert subject == "Votre lien personnel vers vos données"
    assert "Madame, Monsieur," in text_of(mail)


def test_english_applicant_keeps_english_mails(app, client):
    slug = make_vacancy(app)
    apply(client, slug)
    [mail] = outbox(app)
    assert mail["Subject"] == "Your application: Data engineer"
    with app.app_context():
        assert db.session.scalar(select(Candidate.language)) == "en"


def test_dates_and_times_are_shown_as_in_belgium(app):
    afternoon = datetime(2026, 11, 27, 13, 5, tzinfo=UTC)  # 14:05 in Brussels (winter)
    summer = datetime(2026, 7, 1, 12, 0)  # naive means UTC: 14:00 in Brussels
    new_year = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)  # already 2027 in Brussels
    with app.test_request_context("/", headers={"Accept-Language": "fr"}):
        assert show_date(afternoon) == "27/11/2026" and show_time(afternoon) == "14:05"
        assert show_time(summer) == "14:00"
        assert show_date(new_year) == "01/01/2027"
        assert show_date(date(2026, 11, 27)) == "27/11/2026"
        assert show_datetime("2026-11-27T13:05:00+00:00") == "27/11/2026 14:05"
        assert show_date(None) == ""


def test_application_confirmation_page_shows_a_belgian_date(app, client):
    slug = make_vacancy(app)
    apply(client, slug, consent_talent_pool="y")
    assert b"talent pool until 02/03/2028" in client.get("/applied").data


def _notice(client, language: str) -> str:
    page = client.get(f"/privacy?lang={language}").data.decode()
    return page[page.index("<article"):page.index("</article>")]


def test_privacy_notice_says_the_same_in_dutch_french_and_english(client):
    notices = {language: _notice(client, language) for language in ("en", "nl", "fr")}
    assert "Privacyverklaring voor sollicitanten" in notices["nl"]
    assert "Déclaration de confidentialité pour les candidats" in notices["fr"]
    # The legal facts are the same in the three: every number (version, periods,
    # company numbers, postcodes, the authority's telephone), the emphasised parts and
    # the paragraph structure.
    def facts(html: str) -> tuple[list[str], int, int, int]:
        return (sorted(re.findall(r"\d[\d.]*\d|\d", html)), html.count("<strong>"),
                html.count("<p"), html.count("<li>"))

    assert facts(notices["nl"]) == facts(notices["en"]) == facts(notices["fr"])
    for notice in notices.values():
        assert "0436.815.150" in notice and "0679.741.059" in notice


# --- every visible string is marked, and every marked string is translated ----------

JINJA_TRANS = re.compile(r"{%-?\s*trans\b.*?{%-?\s*endtrans\s*-?%}", re.S)
JINJA_TAGS = re.compile(r"{{.*?}}|{%.*?%}|{#.*?#}", re.S)
VISIBLE_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label", "value"}


class _TextNodes(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.texts.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.texts.extend(v for k, v in attrs if k in VISIBLE_ATTRIBUTES and v)


def untranslated_text(source: str, *, html: bool) -> list[str]:
    """Words a person would read that are neither in _() nor in {% trans %}."""
    source = JINJA_TAGS.sub(" ", JINJA_TRANS.sub(" ", source))
    if html:
        parser = _TextNodes()
        parser.feed(source)
        texts = parser.texts
    else:
        texts = source.splitlines()
    found = []
    for text in texts:
        for noun in PROPER_NOUNS:
            text = text.replace(noun, " ")
        if re.search(r"[^\W\d_]", text):  # a letter left outside the markers
            found.append(text.strip())
    return found


def test_the_scan_finds_an_unmarked_string():
    assert untranslated_text("<p>Hello {{ name }}</p>", html=True) == ["Hello"]
    assert untranslated_text('<input placeholder="Your name">', html=True) == ["Your name"]
    assert untranslated_text("<p>{{ _('Hello') }} · {% trans %}Hi{% endtrans %}</p>",
                             html=True) == []
    assert untranslated_text("Hello,\n{{ link }}", html=False) == ["Hello,"]


@pytest.mark.parametrize("template", COVERED, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_template_text_is_marked_for_translation(template: Path):
    found = untranslated_text(template.read_text(), html=template.suffix == ".html")
    assert found == [], f"{template.relative_to(ROOT)}: text outside _() or trans: {found}"


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> list:
    """The catalogue template of the current code, as `make extract` writes it."""
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "-q", "extract",
                    "-F", str(ROOT / "babel.cfg"), "-k", "_l", "-k", "lazy_gettext",
                    "--no-location", "-o", str(pot), "."],
                   cwd=ROOT, check=True, capture_output=True)
    with pot.open("rb") as handle:
        messages = [m for m in read_po(handle) if m.id]
    assert len(messages) > 200  # the extraction really read the templates and code
    return messages


@pytest.mark.parametrize("language", ["nl", "fr"])
def test_catalogue_translates_every_extracted_message(extracted, language):
    with (CATALOGUES / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle, locale=language)
    missing = []
    for message in extracted:
        found = catalogue.get(message.id)
        strings = () if found is None else (
            found.string if isinstance(found.string, tuple) else (found.string,))
        if found is None or found.fuzzy or not all(strings):
            missing.append(message.id)
    assert missing == [], f"{language} catalogue misses {len(missing)}: {missing[:5]}"


def test_compiled_catalogues_are_not_committed():
    tracked = subprocess.run(["git", "ls-files", "vault/translations"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.split()
    if not tracked:
        pytest.skip("not a git checkout")
    assert not [name for name in tracked if name.endswith(".mo")]
