from __future__ import annotations

import re

from sqlalchemy import select

from tests.conftest import STAFF_PASSWORD
from tests.journey import outbox
from vault.extensions import db
from vault.models import AuditEvent, User
from vault.services import audit


def _events(app, action):
    with app.app_context():
        return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                  .order_by(AuditEvent.id)).all()


def _user(app, uid):
    with app.app_context():
        return db.session.get(User, uid)


def test_admin_creates_an_account_whose_owner_sets_the_password(app, client, admin, login):
    response = client.post("/admin/users", data={
        "email": "New.Recruiter@Group.example", "display_name": "Nele Nieuw",
        "role": "recruiter", "company": "Hoptimize"})
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "new.recruiter@group.example"))
        assert (user.role, user.company, user.active) == ("recruiter", "Hoptimize", True)
        assert user.display_name == "Nele Nieuw"
        new_id = user.id
    [_, event] = _events(app, audit.USER_CREATED)  # the first is the admin, made by the CLI
    assert (event.actor_id, event.actor_role) == (admin, "admin")
    assert "group.example" not in event.detail and f"user={new_id}" in event.detail
    page = client.get("/admin/users").data
    assert b"new.recruiter@group.example" in page and b"Nele Nieuw" in page
    other = app.test_client()
    assert login(other, new_id).status_code == 401  # no password until the link is used
    [mail] = [m for m in outbox(app) if m["To"] == "new.recruiter@group.example"]
    link = re.search(r"(/password/set/[A-Za-z0-9_\-]+)", mail.get_payload(decode=True).decode())
    assert other.post(link.group(1), data={"password": STAFF_PASSWORD,
                                           "confirm": STAFF_PASSWORD}).status_code == 302
    assert login(other, new_id).status_code == 302


def test_bad_account_input_is_shown_and_changes_nothing(app, client, admin, make_user):
    make_user(email="taken@group.example")
    cases = [
        ({"email": "taken@group.example", "display_name": "T", "role": "recruiter",
          "company": "Ingenium"}, b"already exists"),
        ({"email": "someone@group.example", "display_name": "S", "role": "owner",
          "company": "Ingenium"}, b"Not a valid choice"),
        ({"email": "someone@group.example", "display_name": "S", "role": "recruiter",
          "company": "Elsewhere"}, b"Not a valid choice"),
        ({"email": "someone@group.example", "display_name": "", "role": "recruiter",
          "company": "Ingenium"}, b"This field is required"),
    ]
    with app.app_context():
        before = db.session.scalars(select(User.id)).all()
    for data, shown in cases:
        response = client.post("/admin/users", data=data)
        assert response.status_code == 400, data
        assert shown in response.data, data
    with app.app_context():
        assert db.session.scalars(select(User.id)).all() == before
    assert len(_events(app, audit.USER_CREATED)) == 2


def test_disabling_an_account_ends_its_session_and_is_audited(
        app, client, admin, make_user, login):
    recruiter = make_user(role="recruiter")
    theirs = app.test_client()
    login(theirs, recruiter)
    assert theirs.get("/candidates").status_code == 200
    response = client.post(f"/admin/users/{recruiter}", data={"role": "recruiter",
                                                               "active": "no"})
    assert response.status_code == 302
    assert _user(app, recruiter).active is False
    page = theirs.get("/candidates")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")
    assert login(theirs, recruiter).status_code == 401
    [event] = _events(app, audit.USER_CHANGED)
    assert event.actor_id == admin and event.detail == f"user={recruiter} active=False"
    # And enabled again.
    client.post(f"/admin/users/{recruiter}", data={"role": "recruiter", "active": "yes"})
    assert _user(app, recruiter).active is True
    assert login(theirs, recruiter).status_code == 302


def test_role_change_is_audited_and_takes_effect(app, client, admin, make_user, login):
    recruiter = make_user(role="recruiter")
    theirs = app.test_client()
    login(theirs, recruiter)
    assert theirs.get("/admin/").status_code == 403
    client.post(f"/admin/users/{recruiter}", data={"role": "admin", "active": "yes"})
    assert _user(app, recruiter).role == "admin"
    [event] = _events(app, audit.USER_CHANGED)  # only the role changed: one event
    assert event.detail == f"user={recruiter} role=admin"
    login(theirs, recruiter)  # the role change ended the old session
    assert theirs.get("/admin/").status_code == 200


def test_admin_cannot_lock_themself_out(app, client, admin):
    for data in ({"role": "admin", "active": "no"}, {"role": "recruiter", "active": "yes"}):
        response = client.post(f"/admin/users/{admin}", data=data)
        assert response.status_code == 400
        assert b"your own" in response.data
    user = _user(app, admin)
    assert (user.role, user.active) == ("admin", True)
    assert _events(app, audit.USER_CHANGED) == []
    assert client.post("/admin/users/999999", data={"role": "admin", "active": "yes"}
                       ).status_code == 404
    assert client.post(f"/admin/users/{admin}", data={"role": "boss", "active": "yes"}
                       ).status_code == 400
