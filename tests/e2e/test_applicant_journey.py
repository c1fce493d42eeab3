"""An applicant, in Chromium over HTTPS: applies with a CV (a mistake first), follows the
personal link mailed to them, downloads their data, corrects it, leaves the talent pool
and erases everything. In English and in Dutch (the browser's language)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest

from tests import files
from tests.journey import MARK_CV, MARK_EMAIL, MARK_NAME, link_in, make_vacancy, outbox

CV = {"name": "ilse-cv.pdf", "mimeType": "application/pdf",
      "buffer": files.pdf_with_text(f"{MARK_CV} Python Kafka")}


def _download(site, link_text: str) -> bytes:
    with site.page.expect_download() as download:
        site.page.get_by_role("link", name=site.t(link_text), exact=True).click()
    return Path(download.value.path()).read_bytes()


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_applicant_applies_and_manages_their_data_through_the_mailed_link(app, site, lang):
    t, page = site.t, site.page
    make_vacancy(app, title="Data engineer")

    response = site.goto("/")
    # Production's HTTPS settings, as the browser received them.
    assert response.headers["strict-transport-security"].startswith("max-age=")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    site.check("home")
    page.get_by_role("link", name=t("Read more")).first.click()
    page.get_by_role("heading", name="Data engineer").wait_for()
    site.check("job")
    page.get_by_role("link", name=t("Apply for this job")).click()
    page.get_by_role("heading", name="Data engineer").wait_for()
    site.check("apply-form")

    page.get_by_label(t("Full name")).fill(f"Ilse {MARK_NAME}")
    page.get_by_label(f"{t('E-mail')} {t('(required)')}", exact=True).fill(MARK_EMAIL)
    page.get_by_label(t("Phone")).fill("+32 470 11 22 33")
    # An application to a vacancy does not ask for the position: the vacancy is it.
    assert page.get_by_label(t("Position sought")).count() == 0
    page.get_by_label(t("CV (PDF or Word)")).set_input_files(CV)
    page.get_by_label(t("Degree")).first.fill("Master of Science")
    page.get_by_label(t("Field of study")).first.fill("Computer Science")
    page.get_by_label(t("Institution")).first.fill("Ghent University")
    page.get_by_label(t("Year")).first.fill("2019")
    consents = page.get_by_role("group", name=t("Consent")).get_by_role("checkbox")
    consents.nth(1).check()  # the talent pool; the application's own consent forgotten
    page.get_by_role("button", name=t("Send my application")).click()

    # One summary of the errors at the top, focused, each error a link to its field.
    summary = page.locator("#error-summary")
    summary.wait_for()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert summary.get_by_role("link", name=t(
        "We need your consent to process your application."), exact=False).count() == 1
    assert page.get_by_label(t("Full name")).input_value() == f"Ilse {MARK_NAME}"
    site.check("apply-form-errors")
    consents.nth(0).check()
    # A browser never keeps a chosen file across a page load; the server held the CV of
    # the refused submission (sealed), names it, and sends it with the form.
    assert CV["name"] in page.locator("#cv-held").inner_text()
    page.get_by_role("button", name=t("Send my application")).click()
    page.get_by_role("heading", name=t("Thank you, we received your application")).wait_for()
    site.check("apply-done")
    # Every cookie the app set is Secure (HTTPS on) and HttpOnly.
    cookies = page.context.cookies()
    assert cookies and all(c["secure"] and c["httpOnly"] for c in cookies)

    mail = outbox(app)[-1]
    assert mail["To"] == MARK_EMAIL
    site.goto(site.base + link_in(mail))
    page.get_by_role("heading", name=t("Everything we hold on you")).wait_for()
    assert page.get_by_text(f"Ilse {MARK_NAME}").is_visible()
    site.check("my-data")

    exported = json.loads(_download(site, "Download JSON"))
    assert MARK_EMAIL in json.dumps(exported)
    rows = list(csv.reader(io.StringIO(_download(site, "Download CSV").decode("utf-8-sig"))))
    assert len(rows) >= 2 and any(MARK_EMAIL in cell for row in rows for cell in row)
    with zipfile.ZipFile(io.BytesIO(_download(site, "Download ZIP (with your CV)"))) as zipped:
        assert any(MARK_CV.encode() in zipped.read(n) for n in zipped.namelist()
                   if n.endswith(".pdf"))
    resume = json.loads(_download(site, "Download JSON Resume (for CV tools)"))
    assert resume["basics"]["email"] == MARK_EMAIL

    page.get_by_role("link", name=t("Correct this record")).click()
    page.get_by_role("heading", name=t("Correct your data")).wait_for()
    site.check("my-data-correct")
    page.get_by_label(t("Phone")).fill("+32 470 99 88 77")
    page.get_by_role("button", name=t("Save")).click()
    page.get_by_text(t("Your data is corrected.")).wait_for()
    assert page.get_by_text("+32 470 99 88 77").is_visible()

    page.get_by_role("button", name=t("Withdraw my talent-pool consent")).click()
    page.get_by_text(t("You have left the talent pool. Recruiters can no longer find you "
                       "there.")).wait_for()
    assert page.get_by_role("button", name=t("Withdraw my talent-pool consent")).count() == 0
    site.check("my-data-after-changes")

    page.get_by_role("link", name=t("Erase everything")).click()
    page.get_by_role("heading", name=t("Erase everything?")).wait_for()
    site.check("my-data-erase")
    page.get_by_role("button", name=t("Yes, erase everything")).click()
    page.get_by_role("heading", name=t("Receipt: your data is erased")).wait_for()
    site.check("my-data-erased")

    # The personal link is dead and the person is gone.
    response = site.goto(site.base + link_in(mail))
    assert response.status >= 400 and MARK_NAME not in page.content()
    site.check("my-data-link-refused")
