"""candidates:read: an HR system takes its company's hired candidates' files, once,
recorded in the person's history; everything else is a 404."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.api.conftest import bearer
from tests.export_schema import schema_errors
from tests.journey import MARK_NAME, apply, link_in, make_vacancy, outbox
from vault.extensions import db
from vault.models import AuditEvent, Candidate, User
from vault.services.pipeline import set_status


def _applied(app, client, slug=None, **overrides) -> str:
    before = _ids(app)
    response = apply(client, slug, **overrides)
    assert response.status_code == 302
    return (_ids(app) - before).pop()


def _ids(app) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(select(Candidate.public_id)))


def _set(app, user_id: int, public_id: str, status: str) -> None:
    with app.app_context():
        user = db.session.get(User, user_id)
        candidate = db.session.scalar(select(Candidate).where(Candidate.public_id == public_id))
        set_status(db.session, user, candidate, status, now=app.config["CLOCK"]())
        db.session.commit()


@pytest.fixture
def world(app, client, make_user, make_client):
    """Ingenium: one hired, one not; Hoptimize: one hired; a spontaneous application to
    both companies, hired by Hoptimize."""
    ingenium, hoptimize = make_user(company="Ingenium"), make_user(company="Hoptimize")
    slug_i, slug_h = make_vacancy(app), make_vacancy(app, company="Hoptimize", title="Brewer")
    hired_i = _applied(app, client, slug_i)
    reviewing_i = _applied(app, client, slug_i)
    hired_h = _applied(app, client, slug_h)
    both = _applied(app, client, None, companies=["Ingenium", "Hoptimize"])
    _set(app, ingenium, hired_i, "hired")
    _set(app, ingenium, reviewing_i, "reviewing")
    _set(app, hoptimize, hired_h, "hired")
    _set(app, hoptimize, both, "hired")
    _, token_i = make_client(["candidates:read"], company="Ingenium", name="Ingenium HR")
    _, token_h = make_client(["candidates:read"], company="Hoptimize", name="Hoptimize HR")
    return {
        "hired_i": hired_i,
        "reviewing_i": reviewing_i,
        "hired_h": hired_h,
        "both": both,
        "token_i": token_i,
        "token_h": token_h,
    }


def test_the_list_holds_only_the_companys_hired_candidates(client, world):
    listed = client.get("/api/v1/candidates", headers=bearer(world["token_i"]))
    assert listed.status_code == 200
    assert [c["public_id"] for c in listed.get_json()["candidates"]] == [world["hired_i"]]
    listed_h = client.get("/api/v1/candidates", headers=bearer(world["token_h"])).get_json()
    assert {c["public_id"] for c in listed_h["candidates"]} == {world["hired_h"], world["both"]}
    assert all(c["transferred_at"] is None for c in listed_h["candidates"])


def test_the_file_is_the_export_format_without_staff_notes(app, client, world):
    response = client.get(
        f"/api/v1/candidates/{world['hired_i']}", headers=bearer(world["token_i"])
    )
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.get_json()
    assert schema_errors(document) == []
    (record,) = document["records"]
    assert record["public_id"] == world["hired_i"] and record["status"] == "hired"
    assert record["contact"]["full_name"] == f"Ilse {MARK_NAME}"
    assert record["notes"] == []
    cv = client.get(f"/api/v1/candidates/{world['hired_i']}/cv", headers=bearer(world["token_i"]))
    assert cv.status_code == 200 and cv.mimetype == "application/pdf"
    assert cv.data.startswith(b"%PDF")
    disposition = cv.headers["Content-Disposition"]
    assert re.fullmatch(
        rf'attachment; filename="candidate-{world["hired_i"]}-cv-[A-Za-z0-9_-]+\.pdf"',
        disposition
    )


@pytest.mark.parametrize("who", ["reviewing_i", "hired_h", "both", "unknown", "nul"])
def test_other_companies_and_not_hired_candidates_are_404_like_unknown_ones(client, world, who):
    public_id = {"unknown": "A" * 22, "nul": "a%00b"}.get(who) or world[who]
    for suffix in ("", "/cv"):
        response = client.get(
            f"/api/v1/candidates/{public_id}{suffix}", headers=bearer(world["token_i"])
        )
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["detail"] == "No hired candidate of your company has this id."


def test_a_transfer_is_recorded_once_and_shown_in_the_persons_history(app, client, world):
    # The person's own page, through the link of their confirmation mail.
    mails = outbox(app)
    assert mails
    token = world["token_i"]
    path = f"/api/v1/candidates/{world['hired_i']}"
    assert client.get(path, headers=bearer(token)).status_code == 200
    assert client.get(path + "/cv", headers=bearer(token)).status_code == 200
    assert client.get(path, headers=bearer(token)).status_code == 200  # a retry
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "candidate.transferred")
        ).all()
    assert [(e.subject_public_id, e.actor_type, e.actor_role) for e in events] == [
        (world["hired_i"], "api", "hr_system")
    ]
    listed = client.get("/api/v1/candidates", headers=bearer(token)).get_json()
    assert listed["candidates"][0]["transferred_at"] is not None
    # Which mail is hired_i's: the first application made in the fixture.
    page = client.get(link_in(mails[0]), headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert b"Ingenium&#39;s HR system took your file: once, on" in page.data


@pytest.mark.parametrize(
    "language,words",
    [
        ("nl", "Het HR-systeem van Ingenium heeft uw dossier opgehaald"),
        ("fr", "Le système RH de Ingenium a récupéré votre dossier"),
    ],
)
def test_the_transfer_reads_in_dutch_and_french(app, client, world, language, words):
    mails = outbox(app)
    client.get(f"/api/v1/candidates/{world['hired_i']}", headers=bearer(world["token_i"]))
    page = client.get(link_in(mails[0]), headers={"Accept-Language": language})
    assert words in page.get_data(as_text=True)


def test_after_the_window_the_file_is_refused_but_before_it_is_served(app, client, clock, world):
    path = f"/api/v1/candidates/{world['hired_i']}"
    token = world["token_i"]
    assert client.get(path, headers=bearer(token)).status_code == 200
    clock.advance(hours=23)
    assert client.get(path + "/cv", headers=bearer(token)).status_code == 200
    clock.advance(hours=1, seconds=1)
    for suffix in ("", "/cv"):
        late = client.get(path + suffix, headers=bearer(token))
        assert late.status_code == 410 and late.mimetype == "application/problem+json"
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "candidate.transferred")
            )
            == 1
        )


def test_the_read_scope_is_needed_for_every_candidates_route(client, make_client, world):
    _, token = make_client(["vacancies:read", "applications:write", "erasures:read"])
    for path in (
        "/api/v1/candidates",
        f"/api/v1/candidates/{world['hired_i']}",
        f"/api/v1/candidates/{world['hired_i']}/cv",
    ):
        assert client.get(path, headers=bearer(token)).status_code == 403


def test_a_refused_fetch_records_no_transfer(app, client, make_client, world):
    _, token = make_client(["vacancies:read"], company="Ingenium")
    client.get(f"/api/v1/candidates/{world['hired_i']}", headers=bearer(token))
    client.get(f"/api/v1/candidates/{world['hired_h']}", headers=bearer(world["token_i"]))
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "candidate.transferred")
            )
            == 0
        )


def test_an_erased_candidate_is_gone_from_the_api(app, client, world):
    from vault.appctx import erasure_ledger
    from vault.services import audit, erasure

    with app.app_context():
        candidate = db.session.scalar(
            select(Candidate).where(Candidate.public_id == world["hired_i"])
        )
        erasure.erase_records(
            db.session,
            [candidate],
            reason=erasure.OPERATOR,
            now=app.config["CLOCK"](),
            ledger=erasure_ledger(),
            actor=audit.CLI,
        )
    assert (
        client.get(
            f"/api/v1/candidates/{world['hired_i']}", headers=bearer(world["token_i"])
        ).status_code
        == 404
    )
    listed = client.get("/api/v1/candidates", headers=bearer(world["token_i"])).get_json()
    assert listed["candidates"] == []


def test_a_transfer_holds_only_what_the_company_receives(app, client, make_user, world):
    """The spontaneous application names both companies and Hoptimize hired the person:
    Hoptimize's file says nothing of Ingenium, of who opened the data, or of requests."""
    from vault.services import audit, requests

    reader = make_user(company="Ingenium", email="ines.reader@group.example")
    with app.app_context():
        user = db.session.get(User, reader)
        audit.record(
            db.session,
            audit.Actor("user", user.id, user.role),
            audit.CANDIDATE_VIEWED,
            now=app.config["CLOCK"](),
            subject=world["both"],
        )
        requests.log_request(
            db.session,
            world["both"],
            "access",
            channel=requests.SELF_SERVICE,
            now=app.config["CLOCK"](),
            due_days=28,
        )
        db.session.commit()
    response = client.get(f"/api/v1/candidates/{world['both']}", headers=bearer(world["token_h"]))
    assert response.status_code == 200
    document = response.get_json()
    assert schema_errors(document) == []
    (record,) = document["records"]
    assert record["public_id"] == world["both"]
    assert record["companies"] == ["Hoptimize"]
    assert record["staff_access"] == [] and record["requests"] == [] and record["notes"] == []
    assert "Ingenium" not in response.get_data(as_text=True)
    # The person's own export still shows all of it.
    with app.app_context():
        from vault.appctx import vault_keys
        from vault.services.exports import build_export

        candidate = db.session.scalar(select(Candidate).where(Candidate.public_id == world["both"]))
        whole = build_export(db.session, vault_keys(), [candidate], now=app.config["CLOCK"]())
    (own,) = whole["records"]
    assert own["companies"] == ["Hoptimize", "Ingenium"]
    assert own["staff_access"] and own["requests"]


def test_a_transfer_taken_by_one_client_counts_for_every_client_of_the_company(
    app, client, clock, make_client, world
):
    path = f"/api/v1/candidates/{world['hired_i']}"
    assert client.get(path, headers=bearer(world["token_i"])).status_code == 200
    # A second client of the same company (a new token, another system): the transfer
    # is the company's, already under way, not a new one.
    _, second = make_client(["candidates:read"], company="Ingenium", name="Ingenium HR 2")
    listed = client.get("/api/v1/candidates", headers=bearer(second)).get_json()
    assert listed["candidates"][0]["transferred_at"] is not None
    assert client.get(path + "/cv", headers=bearer(second)).status_code == 200
    clock.advance(hours=24, seconds=1)
    for token in (world["token_i"], second):
        assert client.get(path, headers=bearer(token)).status_code == 410
    # A client made after the window does not open it again either.
    _, third = make_client(["candidates:read"], company="Ingenium", name="Ingenium HR 3")
    assert client.get(path, headers=bearer(third)).status_code == 410
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "candidate.transferred")
        ).all()
    assert len(events) == 1
    # Another company's transfers are its own: Hoptimize's list shows none taken.
    listed_h = client.get("/api/v1/candidates", headers=bearer(world["token_h"])).get_json()
    assert all(c["transferred_at"] is None for c in listed_h["candidates"])
