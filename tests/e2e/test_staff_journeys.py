"""Staff in Chromium over HTTPS: a recruiter finds an applicant, opens them, downloads the
CV, writes a note and sets the status; the privacy officer logs a request received by
letter, finds it in the queue and erases the person on request. In English and in
French (the browser's language)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from tests.browser import BrowserLikeClient
from tests.conftest import STAFF_PASSWORD, totp_code
from tests.journey import MARK_CV, MARK_NAME, application, make_vacancy
from vault.extensions import db
from vault.models import Candidate, User


def _applicant(app: Flask, base: str, slug: str) -> str:
    """An application sent through the real form (CSRF token, origin check), quickly: by
    the browser model of tests/browser.py, not Chromium. Returns its public id."""
    browser = BrowserLikeClient(app.test_client(), origin=base)
    browser.open(f"/apply/{slug}", typed=True)
    data = application()
    cv = data.pop("cv")
    response = browser.submit(fields={k: str(v) for k, v in data.items()}, files={"cv": cv})
    assert response.status_code == 302, response.get_data(as_text=True)[-500:]
    with app.app_context():
        return db.session.scalars(db.select(Candidate.public_id)).one()


def _log_in(site, app: Flask, user_id: int) -> None:
    t, page = site.t, site.page
    with app.app_context():
        email = db.session.get(User, user_id).email
    site.goto("/")
    page.get_by_role("link", name=t("Staff login")).click()
    site.check("login")
    page.get_by_label(t("E-mail")).fill(email)
    page.get_by_label(t("Password")).fill(STAFF_PASSWORD)
    page.get_by_role("button", name=t("Log in"), exact=True).click()
    # The second factor, as an authenticator app would give it (tests.conftest enrols one).
    page.get_by_role("heading", name=t("Second factor")).wait_for()
    site.check("login-second-factor")
    page.get_by_label(t("Code from your authenticator app, or a recovery code")).fill(
        totp_code(app, user_id))
    page.get_by_role("button", name=t("Continue")).click()
    page.get_by_role("button", name=t("Log out")).wait_for()


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_recruiter_finds_opens_annotates_and_decides_an_application(app, site, make_user,
                                                                     lang):
    t, page = site.t, site.page
    public_id = _applicant(app, site.base, make_vacancy(app, company="Ingenium"))
    _log_in(site, app, make_user(role="recruiter", company="Ingenium"))

    page.get_by_role("heading", name=t("Candidates")).wait_for()
    site.check("recruiter-search")
    page.get_by_label(t("Keywords")).fill(MARK_CV)
    page.get_by_role("button", name=t("Search")).click()
    page.get_by_role("link", name=f"Ilse {MARK_NAME}").click()
    page.get_by_role("heading", name=f"Ilse {MARK_NAME}").wait_for()
    assert public_id in page.content()
    site.check("recruiter-candidate")

    with page.expect_download() as download:
        page.get_by_role("link", name=t("Download CV (%(kind)s)", kind="pdf")).click()
    assert MARK_CV.encode() in Path(download.value.path()).read_bytes()

    page.get_by_label(t("Add a note")).fill("Strong on streaming; invite for a call.")
    page.get_by_role("button", name=t("Save note")).click()
    page.get_by_text(t("Note saved.")).wait_for()
    assert page.get_by_text("Strong on streaming; invite for a call.").is_visible()

    page.get_by_label(t("Status of this application")).select_option("reviewing")
    page.get_by_role("button", name=t("Set status")).click()
    page.get_by_text(t("Status saved.")).wait_for()
    site.check("recruiter-candidate-after-changes")
    with app.app_context():
        assert db.session.scalars(db.select(Candidate.status)).one() == "reviewing"


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_officer_logs_a_request_and_erases_the_person_from_the_queue(app, site, make_user,
                                                                      lang):
    t, page = site.t, site.page
    public_id = _applicant(app, site.base, make_vacancy(app, company="Hoptimize"))
    _log_in(site, app, make_user(role="admin", company="Ingenium"))
    page.get_by_role("link", name=t("Privacy desk")).click()
    site.check("officer-desk")

    page.get_by_role("link", name=t("Requests"), exact=True).click()
    page.get_by_role("heading", name=t("Data-subject requests")).wait_for()
    page.get_by_label(t("Reference (public id)")).fill(public_id)
    page.get_by_label(t("Kind")).select_option("erase")
    page.get_by_label(t("Details")).fill("Letter of 2 March asking to erase everything.")
    page.get_by_role("button", name=t("Log request")).click()
    page.get_by_text(t("Request logged; due %(day)s.", day="")[:12]).wait_for()
    row = page.locator("tr").filter(has_text=public_id)
    assert t("erasure") in row.inner_text()
    site.check("officer-requests")

    row.get_by_role("link", name=public_id).click()
    page.get_by_role("heading", name=t("Reference %(pid)s", pid=public_id)).wait_for()
    site.check("officer-person")
    page.get_by_role("link", name=t("Erase this person…")).click()
    site.check("officer-erase")
    page.get_by_label(t("Why is the data erased?")).select_option("subject-request")
    page.get_by_role("button", name=t("Erase for good")).click()
    page.get_by_role("heading", name=t("Erasure receipt")).wait_for()
    assert public_id in page.get_by_role("list").filter(has_text=public_id).inner_text()
    site.check("officer-erased")
    with app.app_context():
        assert db.session.scalars(db.select(Candidate)).first() is None
