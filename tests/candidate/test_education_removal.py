"""A person removes an education entry through the correction form, as a browser sends it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.browser import BROWSER_CONFIG, personal_link
from tests.forensics import find_markers
from vault.appctx import vault_keys
from vault.extensions import db
from vault.models import AuditEvent, Candidate, DataRequest
from vault.services import audit
from vault.services.candidates import open_candidate
from vault.services.indexing import word_tokens

pytestmark = pytest.mark.app_config(**BROWSER_CONFIG)

SECOND_ROW = {"education-1-degree": "Bachelor", "education-1-field": "Zoutwinning",
              "education-1-institution": "Hogeschool Zoutleeuw", "education-1-year": "2016"}


def _correction_form(browser, link):
    page = browser.open(link, typed=True)
    found = re.search(r'href="([^"]*/correct\?record=[^"]+)"', page.get_data(as_text=True))
    assert found, "the data page links to the correction form"
    return browser.open(found.group(1).replace("&amp;", "&"))


def _education(app) -> list[tuple[str, str, str, str]]:
    with app.app_context():
        opened = open_candidate(vault_keys(), db.session.scalar(select(Candidate)),
                                with_notes=False)
        return [(e.degree, e.field, e.institution, e.year) for e in opened.education]


def test_ticking_remove_takes_the_entry_out_and_the_trail_records_it_without_its_words(app):
    browser, link = personal_link(app, **SECOND_ROW)
    assert _education(app) == [
        ("Master of Science", "Computer Science", "Ghent University", "2019"),
        ("Bachelor", "Zoutwinning", "Hogeschool Zoutleeuw", "2016")]
    form = _correction_form(browser, link)
    assert form.status_code == 200
    assert b'name="education-1-remove"' in form.data and b"Remove this entry" in form.data

    response = browser.submit(link + "/correct", {"education-1-remove": "y"}, follow=True)

    assert b"Your data is corrected." in response.data
    assert b"Hogeschool Zoutleeuw" not in response.data
    assert _education(app) == [
        ("Master of Science", "Computer Science", "Ghent University", "2019")]
    with app.app_context():
        [event] = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == audit.CANDIDATE_CORRECTED)).all()
        assert event.actor_type == "candidate"
        assert event.detail == "self-service changed=education education_removed=1"
        [request] = db.session.scalars(select(DataRequest).where(
            DataRequest.kind == "correct")).all()
        assert (request.channel, request.status) == ("self-service", "fulfilled")
        # Search no longer finds the person by what they removed.
        record = db.session.scalar(select(Candidate))
        tokens = set(record.index_row.tokens.split())
        assert not word_tokens(vault_keys().blind_index, "zoutwinning") & tokens
        assert word_tokens(vault_keys().blind_index, "ghent") & tokens
    assert find_markers(app, [b"Zoutwinning", b"Hogeschool Zoutleeuw"]) == []


def test_a_removed_entry_is_not_checked_even_when_half_filled(app):
    browser, link = personal_link(app, **SECOND_ROW)
    _correction_form(browser, link)
    response = browser.submit(link + "/correct", {
        "education-1-remove": "y", "education-1-degree": "", "education-1-year": "not a year"},
        follow=True)
    assert b"Your data is corrected." in response.data
    assert len(_education(app)) == 1


def test_removing_every_entry_leaves_none(app):
    browser, link = personal_link(app, **SECOND_ROW)
    _correction_form(browser, link)
    response = browser.submit(link + "/correct", {"education-0-remove": "y",
                                                  "education-1-remove": "y"}, follow=True)
    assert b"Your data is corrected." in response.data
    assert _education(app) == []
    with app.app_context():
        detail = db.session.scalar(select(AuditEvent.detail).where(
            AuditEvent.action == audit.CANDIDATE_CORRECTED))
    assert detail == "self-service changed=education education_removed=2"


def test_a_correction_without_removal_keeps_every_entry(app):
    browser, link = personal_link(app, **SECOND_ROW)
    _correction_form(browser, link)
    response = browser.submit(link + "/correct", {"phone": "+32 470 99 88 77"}, follow=True)
    assert b"Your data is corrected." in response.data
    assert len(_education(app)) == 2
    with app.app_context():
        detail = db.session.scalar(select(AuditEvent.detail).where(
            AuditEvent.action == audit.CANDIDATE_CORRECTED))
    assert detail == "self-service changed=phone"
