from __future__ import annotations

from sqlalchemy import select

from tests.forensics import find_markers
from vault.extensions import db
from vault.local_zone import LOCAL_ZONE
from vault.models import AuditEvent, Candidate
from vault.services import audit


def _events(app, action):
    with app.app_context():
        return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_candidate_page_shows_the_record_and_is_audited(app, records, make_user, login):
    client = app.test_client()
    uid = make_user(role="recruiter", company="Ingenium")
    login(client, uid)
    page = client.get(f"/candidates/{records['own']}")
    body = page.data.decode()
    assert "Own Applicant" in body and "own@example.org" in body and "Ghent University" in body
    assert page.headers["Cache-Control"] == "no-store"
    [event] = _events(app, audit.CANDIDATE_VIEWED)
    assert (event.actor_id, event.actor_role, event.subject_public_id) == (
        uid, "recruiter", records["own"])


def test_cv_download_is_a_safe_attachment(app, records, make_user, login):
    client = app.test_client()
    login(client, make_user())
    response = client.get(f"/candidates/{records['own']}/cv")
    assert response.data.startswith(b"%PDF-")
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="cv-') and "ilse" not in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert len(_events(app, audit.CV_DOWNLOADED)) == 1


def test_notes_are_sealed_and_shown_to_staff_and_candidate(app, records, make_user, login):
    client = app.test_client()
    login(client, make_user())
    client.post(f"/candidates/{records['own']}/notes", data={"body": "Strong Qwertznote"})
    assert b"Strong Qwertznote" in client.get(f"/candidates/{records['own']}").data
    assert find_markers(app, [b"Qwertznote"]) == []
    assert len(_events(app, audit.NOTE_ADDED)) == 1


def test_empty_note_changes_nothing(app, records, make_user, login):
    client = app.test_client()
    login(client, make_user())
    client.post(f"/candidates/{records['own']}/notes", data={"body": ""})
    assert _events(app, audit.NOTE_ADDED) == []


def test_status_is_set_by_a_person_and_starts_the_clock(app, records, make_user, login, clock):
    client = app.test_client()
    login(client, make_user())
    client.post(f"/candidates/{records['own']}/status", data={"status": "rejected"})
    with app.app_context():
        record = db.session.scalar(select(Candidate).where(
            Candidate.public_id == records["own"]))
        assert record.status == "rejected" and record.application_ended_at == clock()
    assert [e.detail for e in _events(app, audit.STATUS_CHANGED)] == ["rejected"]
    client.post(f"/candidates/{records['own']}/status", data={"status": "promoted"})
    with app.app_context():
        assert db.session.scalar(select(Candidate.status).where(
            Candidate.public_id == records["own"])) == "rejected"


def test_export_needs_a_fresh_login(app, records, make_user, login, clock):
    client = app.test_client()
    uid = make_user()
    login(client, uid)
    assert client.get(f"/candidates/{records['own']}/export.zip").status_code == 200
    clock.advance(minutes=20)
    stale = client.get(f"/candidates/{records['own']}/export.zip")
    assert stale.status_code == 302 and "reauth=1" in stale.headers["Location"]
    assert len(_events(app, audit.CANDIDATE_EXPORTED)) == 1


def test_candidate_page_and_search_keep_working_after_another_process_rotates(
        app, records, make_user, login):
    from tests.workers import another_worker

    uid = make_user(role="recruiter", company="Ingenium")
    with another_worker(app) as worker:
        client = worker.test_client()
        login(client, uid)
        assert client.get(f"/candidates/{records['own']}").status_code == 200
        rotated = app.test_cli_runner().invoke(args=["vault", "rotate-kek"])
        assert rotated.exit_code == 0, rotated.output
        page = client.get(f"/candidates/{records['own']}")
        assert page.status_code == 200 and "Own Applicant" in page.data.decode()
        found = client.get("/candidates?q=kafka")
        assert found.status_code == 200 and "Own Applicant" in found.data.decode()


def test_worker_behind_its_keyring_env_answers_503_not_500(app, records, make_user, login,
                                                           tmp_path, caplog):
    from tests.workers import another_worker
    from vault.crypto import Keyring

    uid = make_user(role="recruiter", company="Ingenium")
    keyring = Keyring.from_json(open(app.config["KEYRING_FILE"]).read())
    out = tmp_path / "new-keyring"
    with another_worker(app, KEYRING=keyring.to_env()) as old:
        client = old.test_client()
        login(client, uid)
        assert old.test_cli_runner().invoke(
            args=["vault", "rotate-kek", "--keyring-out", str(out)]).exit_code == 0
        new = Keyring.from_json(out.read_text())
        with another_worker(app, KEYRING=new.to_env()) as restarted:
            assert restarted.test_cli_runner().invoke(args=["vault", "rotate-kek"]).exit_code == 0
        page = client.get(f"/candidates/{records['own']}")
        assert page.status_code == 503 and page.headers["Retry-After"]
        assert "keys were just changed" in page.data.decode()
        assert "newer than this worker's keyring" in caplog.text
        assert client.get("/candidates?q=kafka").status_code == 503


def test_a_recruiters_download_is_named_for_the_candidate_and_the_day(app, records,
                                                                       make_user, login):
    client = app.test_client()
    login(client, make_user(role="recruiter", company="Ingenium"))
    response = client.get(f"/candidates/{records['own']}/export.csv")
    day = app.config["CLOCK"]().astimezone(LOCAL_ZONE).date().isoformat()
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="candidate-{records["own"]}-{day}.csv"')
