from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from sqlalchemy import func, select

from tests import files
from tests.csv_tables import read_tables
from tests.forensics import find_markers
from tests.journey import MARK_CV, MARK_EMAIL, MARK_NAME, apply, link_in, make_vacancy, outbox
from vault.appctx import secret_keys, vault_keys
from vault.extensions import db
from vault.models import (
    AuditEvent,
    Candidate,
    CandidateKey,
    Consent,
    DataRequest,
    ErasureRecord,
)
from vault.services import audit, links
from vault.services.indexing import word_tokens


def _applied_link(app, client, **overrides) -> str:
    slug = make_vacancy(app)
    assert apply(client, slug, consent_talent_pool="y", **overrides).status_code == 302
    return link_in(outbox(app)[-1])


def _state(app) -> tuple:
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(m))
                     for m in (Candidate, Consent, DataRequest, AuditEvent, ErasureRecord))


def test_page_shows_everything_held_and_is_not_cached(app, client):
    link = _applied_link(app, client)
    page = client.get(link)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "same-origin"  # never to another site
    body = page.data.decode()
    for expected in (MARK_NAME, MARK_EMAIL, "+32 470 11 22 33", "Ghent University", "29",
                     "female", "cycling, open source", "ilse-cv.pdf", "talent pool", "granted"):
        assert expected in body


def test_page_shows_which_staff_role_opened_the_data(app, client):
    link = _applied_link(app, client)
    with app.app_context():
        candidate = db.session.scalar(select(Candidate))
        audit.record(db.session, audit.Actor("user", 7, "recruiter"), audit.CANDIDATE_VIEWED,
                     now=app.config["CLOCK"](), subject=candidate.public_id)
        db.session.commit()
    body = client.get(link).data.decode()
    assert "A recruiter looked at your data: once, on" in body
    assert "candidate viewed" not in body and "candidate.viewed" not in body


def test_exports_hold_what_was_submitted(app, client):
    link = _applied_link(app, client)
    as_json = client.get(f"{link}/export.json")
    assert as_json.headers["Content-Disposition"] == \
        'attachment; filename="ingenium-my-data-2026-03-02.json"'
    document = json.loads(as_json.data)
    assert document["schema_version"] == 1
    [record] = document["records"]
    assert record["public_id"] and record["contact"] == {
        "full_name": f"Ilse {MARK_NAME}", "email": MARK_EMAIL, "phone": "+32 470 11 22 33"}
    assert record["education"][0]["institution"] == "Ghent University"
    assert record["personal"] == {"age": "29", "gender": "female"}
    assert [c["purpose"] for c in record["consents"]] == ["application", "talent_pool"]

    as_csv = client.get(f"{link}/export.csv")
    assert as_csv.headers["Content-Disposition"] == \
        'attachment; filename="ingenium-my-data-2026-03-02.csv"'
    [details] = read_tables(as_csv.data)["Your details"].rows
    assert details["public_id"] == record["public_id"] and details["email"] == MARK_EMAIL

    as_zip = client.get(f"{link}/export.zip")
    assert as_zip.headers["Content-Disposition"] == \
        'attachment; filename="ingenium-my-data-2026-03-02.zip"'
    with zipfile.ZipFile(io.BytesIO(as_zip.data)) as archive:
        names = archive.namelist()
        assert {"README.txt", "export.json", "export.csv"} <= set(names)
        [cv_name] = [n for n in names if n.startswith("cv/")]
        assert archive.read(cv_name) == files.pdf_with_text(f"{MARK_CV} Python Kafka")
        assert json.loads(archive.read("export.json"))["records"][0]["public_id"] == \
            record["public_id"]


def test_csv_export_is_safe_against_formula_injection(app, client):
    link = _applied_link(app, client, full_name="=HYPERLINK(\"http://evil.example\")",
                         interests="@SUM(1+1)")
    rows = list(csv.reader(io.StringIO(client.get(f"{link}/export.csv").data.decode("utf-8-sig"))))
    values = [cell for row in rows for cell in row]
    assert "'=HYPERLINK(\"http://evil.example\")" in values and "'@SUM(1+1)" in values
    assert not any(v.startswith(("=", "+", "@")) for v in values)


def test_unknown_export_format_is_404(app, client):
    link = _applied_link(app, client)
    assert client.get(f"{link}/export.xml").status_code == 404


def test_correction_reseals_and_reindexes_without_touching_consent(app, client):
    link = _applied_link(app, client)
    with app.app_context():
        before = db.session.scalar(select(Candidate))
        consents_before = [(c.purpose, c.event) for c in before.consents]
        public_id = before.public_id
    form = client.get(f"{link}/correct")
    assert form.status_code == 200 and MARK_NAME.encode() in form.data
    response = client.post(f"{link}/correct", data={
        "record": public_id, "full_name": "Ilse Corrected", "email": MARK_EMAIL,
        "phone": "", "position": "Platform engineer", "interests": "Zeilvaartkunde",
        "education-0-degree": "PhD", "education-0-field": "Physics",
        "education-0-institution": "KU Leuven", "education-0-year": "2023"})
    assert response.status_code == 302
    with app.app_context():
        candidate = db.session.scalar(select(Candidate))
        keys = vault_keys()
        tokens = candidate.index_row.tokens.split()
        assert word_tokens(keys.blind_index, "zeilvaartkunde") & set(tokens)
        assert not word_tokens(keys.blind_index, "cycling") & set(tokens)
        # The CV is unchanged.
        assert word_tokens(keys.blind_index, MARK_CV.lower()) & set(tokens)
        assert [(c.purpose, c.event) for c in candidate.consents] == consents_before
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == audit.CANDIDATE_CORRECTED)) == 1
    body = client.get(link).data.decode()
    assert "Ilse Corrected" in body and "KU Leuven" in body and "Ghent University" not in body
    assert find_markers(app, [b"Zeilvaartkunde", b"Ilse Corrected"]) == []


def test_invalid_correction_changes_nothing(app, client):
    link = _applied_link(app, client)
    with app.app_context():
        public_id = db.session.scalar(select(Candidate.public_id))
    before = _state(app)
    response = client.post(f"{link}/correct", data={"record": public_id, "full_name": "",
                                                     "email": "broken"})
    assert response.status_code == 400 and b"valid e-mail" in response.data
    assert _state(app) == before


def test_correction_cannot_reach_someone_elses_record(app, client):
    link = _applied_link(app, client)
    apply(client, email="other.person@example.org")
    with app.app_context():
        other = db.session.scalars(select(Candidate.public_id).order_by(Candidate.id)).all()[1]
    response = client.post(f"{link}/correct", data={"record": other, "full_name": "Hijack",
                                                     "email": "h@example.org"})
    assert response.status_code == 404


def test_withdrawal_is_immediate(app, client):
    link = _applied_link(app, client)
    response = client.post(f"{link}/withdraw")
    assert response.status_code == 302
    with app.app_context():
        candidate = db.session.scalar(select(Candidate))
        assert candidate.pool_consent_until is None
        assert [c.event for c in candidate.consents] == ["granted", "granted", "withdrawn"]
        assert db.session.scalar(select(DataRequest.kind).where(
            DataRequest.kind == "withdraw")) == "withdraw"


def test_objection_is_queued_with_a_four_week_due_date(app, client, clock):
    link = _applied_link(app, client)
    response = client.post(f"{link}/object", data={"reason": "Do not use my CV for X"})
    assert response.status_code == 302
    with app.app_context():
        request_row = db.session.scalar(select(DataRequest).where(DataRequest.kind == "object"))
        assert request_row.status == "open"
        assert (request_row.due_at - request_row.received_at).days == 28
    assert find_markers(app, [b"Do not use my CV for X"]) == []


def test_get_never_changes_the_persons_data(app, client):
    link = _applied_link(app, client)
    for path in ("/withdraw", "/object"):
        assert client.get(link + path).status_code == 405
    assert client.get(link + "/erase").status_code == 200  # the confirmation page only
    with app.app_context():
        assert db.session.scalar(select(Candidate)).pool_consent_until is not None


def test_erasure_shreds_every_record_and_leaves_a_receipt(app, client, runner):
    link = _applied_link(app, client)
    apply(client)  # a second record of the same person
    confirm = client.get(f"{link}/erase")
    assert b"2 records" in confirm.data
    receipt = client.post(f"{link}/erase")
    assert receipt.status_code == 200 and b"Receipt" in receipt.data
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Candidate)) == 0
        assert db.session.scalar(select(func.count()).select_from(CandidateKey)) == 0
        assert db.session.scalar(select(func.count()).select_from(ErasureRecord)) == 2
    gone = client.get(link)
    assert gone.status_code == 404 and b"We hold no data" in gone.data
    for fmt in ("json", "csv", "zip"):
        assert client.get(f"{link}/export.{fmt}").status_code == 404
    assert find_markers(app, [MARK_NAME.encode(), MARK_EMAIL.encode(), MARK_CV.encode()]) == []
    result = runner.invoke(args=["vault", "check"])
    assert result.exit_code == 0, result.output


def test_legal_hold_keeps_a_record_and_queues_the_request(app, client):
    link = _applied_link(app, client)
    with app.app_context():
        candidate = db.session.scalar(select(Candidate))
        candidate.legal_hold = True
        db.session.commit()
    receipt = client.post(f"{link}/erase")
    assert b"legal obligation" in receipt.data
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Candidate)) == 1
        assert db.session.scalar(select(DataRequest.status).where(
            DataRequest.kind == "erase")) == "open"


@pytest.mark.parametrize("problem", ["tampered", "expired", "wrong_purpose", "garbage"])
def test_bad_links_get_a_friendly_page_and_change_nothing(app, client, clock, problem):
    link = _applied_link(app, client)
    token = link.rsplit("/", 1)[1]
    if problem == "tampered":
        token = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    elif problem == "expired":
        clock.advance(days=31)
    elif problem == "wrong_purpose":
        with app.app_context():
            public_id = db.session.scalar(select(Candidate.public_id))
            token = links.make_link_token(secret_keys(), links.RENEW_CONSENT, public_id,
                                          clock=clock)
    else:
        token = "not-a-token"
    before = _state(app)
    for method, path in (("get", ""), ("get", "/export.zip"), ("post", "/withdraw"),
                         ("post", "/erase"), ("post", "/correct")):
        response = getattr(client, method)(f"/my-data/{token}{path}")
        assert response.status_code in (404, 410)
        assert b"Ask for a new personal link" in response.data
    assert _state(app) == before


def test_links_survive_a_secret_key_rotation(app, client):
    link = _applied_link(app, client)
    old_key = app.config["SECRET_KEY"]
    app.config["SECRET_KEY_FALLBACKS"] = [old_key]
    app.config["SECRET_KEY"] = "a-brand-new-secret-key-for-this-test"
    assert client.get(link).status_code == 200


def test_new_link_answer_is_the_same_for_known_and_unknown_addresses(app, client):
    _applied_link(app, client)
    sent_before = len(outbox(app))
    known = client.post("/my-data", data={"email": MARK_EMAIL}, follow_redirects=True)
    unknown = client.post("/my-data", data={"email": "stranger@example.org"},
                          follow_redirects=True)
    assert known.status_code == unknown.status_code == 200
    assert known.data == unknown.data
    assert len(outbox(app)) == sent_before + 1
    new_link = link_in(outbox(app)[-1])
    assert client.get(new_link).status_code == 200


@pytest.mark.app_config(RATELIMIT_ENABLED=True, RATELIMIT_LINK_REQUEST="2 per hour")
def test_new_link_requests_are_rate_limited(client):
    codes = [client.post("/my-data", data={"email": f"x{i}@example.org"}).status_code
             for i in range(3)]
    assert codes == [302, 302, 429]


def test_withdrawn_person_leaves_talent_pool_search_at_once(app, client, make_user, login):
    apply(client, consent_talent_pool="y")  # spontaneous: visible to recruiters only via the pool
    link = link_in(outbox(app)[-1])
    recruiter = app.test_client()
    login(recruiter, make_user(role="recruiter", company="Hoptimize"))
    assert MARK_NAME.encode() in recruiter.get(f"/candidates?q={MARK_CV}").data
    client.post(f"{link}/withdraw")
    assert MARK_NAME.encode() not in recruiter.get(f"/candidates?q={MARK_CV}").data
    with app.app_context():
        public_id = db.session.scalar(select(Candidate.public_id))
    assert recruiter.get(f"/candidates/{public_id}").status_code == 404


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_self_service_actions_need_the_csrf_token(app, client):
    import re

    slug = make_vacancy(app)
    form = client.get(f"/apply/{slug}").data.decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    assert apply(client, slug, consent_talent_pool="y", csrf_token=token).status_code == 302
    link = link_in(outbox(app)[-1])
    before = _state(app)
    for action in ("withdraw", "erase", "object"):
        assert client.post(f"{link}/{action}").status_code == 400
    assert _state(app) == before
    page = client.get(link).data.decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post(f"{link}/withdraw", data={"csrf_token": token}).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Candidate.pool_consent_until)) is None


def test_asking_for_a_new_link_revokes_the_older_ones(app, client):
    first = _applied_link(app, client)
    client.post("/my-data", data={"email": MARK_EMAIL})
    second = link_in(outbox(app)[-1])
    client.post("/my-data", data={"email": MARK_EMAIL})
    third = link_in(outbox(app)[-1])
    for old in (first, second):
        refused = client.get(old)
        assert refused.status_code == 410 and b"replaced by a newer one" in refused.data
        assert client.get(f"{old}/export.json").status_code == 410
        assert client.post(f"{old}/erase").status_code == 410
    assert client.get(third).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Candidate)) == 1


def test_a_later_application_link_stays_valid_after_a_new_link(app, client):
    _applied_link(app, client)
    client.post("/my-data", data={"email": MARK_EMAIL})
    asked = link_in(outbox(app)[-1])
    apply(client)  # the same person applies again: its mail carries the current generation
    applied = link_in(outbox(app)[-1])
    assert client.get(asked).status_code == 200
    assert client.get(applied).status_code == 200


@pytest.mark.app_config(RATELIMIT_ENABLED=True, RATELIMIT_BAD_LINK="3 per hour")
def test_refused_links_are_rate_limited_per_client_and_good_ones_are_not_counted(app, client):
    link = _applied_link(app, client)
    for _ in range(5):  # opening one's own link is never counted
        assert client.get(link).status_code == 200
    codes = [client.get(f"/my-data/guess-{i}").status_code for i in range(3)]
    assert codes == [404, 404, 404]
    assert client.get("/my-data/guess-4").status_code == 429
    assert client.post("/my-data/confirm-email/guess-5").status_code == 429
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.77"
    assert other.get(link).status_code == 200  # another client is not affected
    assert other.get("/my-data/guess-6").status_code == 404


def test_views_and_downloads_are_logged_once_per_day_and_kind(app, client, clock):
    link = _applied_link(app, client)
    for _ in range(3):
        client.get(link)
        client.get(f"{link}/export.json")
        client.get(f"{link}/export.csv")

    def kinds() -> list[str]:
        with app.app_context():
            return sorted(db.session.scalars(select(DataRequest.kind)))

    assert kinds() == ["access", "export"]
    clock.advance(days=1)
    client.get(link)
    client.get(link)
    assert kinds() == ["access", "access", "export"]
    client.post(f"{link}/withdraw")
    body = client.get(link).data.decode()
    # One line per kind of request, with how often and when last.
    assert body.count("You looked at your data") == 1
    assert "You looked at your data: on 2 days, last on 03/03/2026" in body
    assert body.count("You downloaded your data") == 1
    assert "You left the talent pool" in body
    assert "<td>access</td>" not in body


def test_an_empty_objection_is_answered_with_the_page_and_its_message(app, client):
    link = _applied_link(app, client)
    before = _state(app)
    response = client.post(f"{link}/object", data={"reason": "  "})
    assert response.status_code == 400
    assert b"an empty objection cannot be sent" in response.data
    assert _state(app) == before
