"""An objection needs words: an empty one is refused with a message and changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.browser import BROWSER_CONFIG, personal_link
from vault.extensions import db
from vault.models import AuditEvent, Candidate, Consent, DataRequest, MailMessage

pytestmark = pytest.mark.app_config(**BROWSER_CONFIG)

EMPTY_REFUSED = b"Please say what you object to: an empty objection cannot be sent."


def _state(app) -> tuple[int, ...]:
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(model))
                     for model in (Candidate, Consent, DataRequest, AuditEvent, MailMessage))


@pytest.mark.parametrize("reason", ["", "   ", "\r\n\r\n"])
def test_an_empty_objection_is_refused_with_a_message_and_nothing_changes(app, reason):
    browser, link = personal_link(app)
    browser.open(link, typed=True)
    before = _state(app)

    response = browser.submit(link + "/object", {"reason": reason})

    assert response.status_code == 400
    assert EMPTY_REFUSED in response.data and b'role="alert"' in response.data
    assert b"Your objection is recorded." not in response.data
    assert _state(app) == before
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DataRequest).where(
            DataRequest.kind == "object")) == 0


def test_the_refusal_is_in_the_persons_language(app):
    browser, link = personal_link(app)
    browser.open(link + "?lang=nl", typed=True)
    response = browser.submit(link + "/object", {"reason": ""})
    assert response.status_code == 400
    assert "Vermeld waartegen u bezwaar maakt: een leeg bezwaar kan niet worden verstuurd." \
        in response.get_data(as_text=True)


def test_a_too_long_objection_is_refused_and_its_text_kept_for_shortening(app):
    browser, link = personal_link(app)
    browser.open(link, typed=True)
    before = _state(app)
    response = browser.submit(link + "/object", {"reason": "No profiling. " * 200})
    assert response.status_code == 400
    assert b"Please keep your objection under 2000 characters." in response.data
    assert b"No profiling. No profiling." in response.data
    assert _state(app) == before


def test_an_objection_with_words_is_still_recorded(app):
    browser, link = personal_link(app)
    browser.open(link, typed=True)
    response = browser.submit(link + "/object", {"reason": "No marketing calls"}, follow=True)
    assert b"Your objection is recorded." in response.data
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DataRequest).where(
            DataRequest.kind == "object")) == 1
