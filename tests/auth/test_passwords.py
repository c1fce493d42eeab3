"""Password lifecycle: strength policy, change, reset by link, set-up link, rehash."""

from __future__ import annotations

import re

import pytest
from argon2 import PasswordHasher
from flask_babel import force_locale
from sqlalchemy import func, select

from tests.conftest import STAFF_PASSWORD
from tests.journey import outbox
from vault.auth.passwords import PasswordRejected, check_strength, context_words
from vault.extensions import db
from vault.models import StaffSession, StaffToken, User

NEW_PASSWORD = "lantern orchard quibble saxophone"


def _rejected(app, password: str, *context: str) -> str:
    with app.test_request_context(), force_locale("en"):
        with pytest.raises(PasswordRejected) as caught:
            check_strength(password, context_words(*context))
        return str(caught.value)


def test_a_password_under_twelve_characters_is_refused(app):
    assert "at least 12 characters" in _rejected(app, "Xq7#pL2!vB9")


def test_a_common_password_is_refused_and_the_message_says_why_and_what_passes(app):
    text = _rejected(app, "password12345")
    assert "too easy to guess" in text and "most common passwords" in text
    assert "four or more uncommon words" in text


def test_a_password_built_from_the_address_and_company_is_refused(app):
    text = _rejected(app, "JanPeetersIngenium", "jan.peeters@group.example", "Ingenium")
    assert "your e-mail address, your name or your company" in text


def test_a_password_of_names_is_refused(app):
    assert "first names or surnames" in _rejected(app, "michaeljohnson")


def test_a_long_uncommon_passphrase_passes(app):
    with app.test_request_context():
        check_strength(NEW_PASSWORD, context_words("jan.peeters@group.example", "Ingenium"))


def test_the_reason_is_given_in_the_person_s_language(app):
    with app.test_request_context(), force_locale("nl"):
        with pytest.raises(PasswordRejected) as caught:
            check_strength("password12345")
    assert "te raden" in str(caught.value)


# Change -------------------------------------------------------------------------------

def _live_sessions(app, uid) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(StaffSession).where(
            StaffSession.user_id == uid, StaffSession.ended_at.is_(None)))


def test_changing_the_password_needs_the_current_one(app, client, make_user, login):
    uid = make_user()
    login(client, uid)
    response = client.post("/account/password", data={
        "current": "not my password at all", "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD})
    assert response.status_code == 400 and b"current password is not correct" in response.data
    with app.app_context():
        assert PasswordHasher().verify(db.session.get(User, uid).password_hash, STAFF_PASSWORD)


def test_a_weak_new_password_is_refused_with_its_reason(client, make_user, login):
    login(client, make_user())
    response = client.post("/account/password", data={
        "current": STAFF_PASSWORD, "password": "password12345", "confirm": "password12345"})
    assert response.status_code == 400 and b"most common passwords" in response.data


def test_changing_the_password_ends_every_other_session_of_that_user(app, make_user, login):
    uid = make_user()
    here, elsewhere = app.test_client(), app.test_client()
    login(here, uid)
    login(elsewhere, uid)
    assert _live_sessions(app, uid) == 2
    response = here.post("/account/password", data={
        "current": STAFF_PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert here.get("/account").status_code == 200
    assert elsewhere.get("/account").status_code == 302
    assert _live_sessions(app, uid) == 1
    assert login(app.test_client(), uid, password=NEW_PASSWORD).status_code == 302


# Reset by link ---------------------------------------------------------------------------

def _reset_link(app, address: str) -> str:
    [mail] = [m for m in outbox(app) if m["To"] == address]
    body = mail.get_payload(decode=True).decode()
    return re.search(r"https?://[^\s]+(/password/set/[A-Za-z0-9_\-]+)", body).group(1)


def test_a_reset_link_is_mailed_and_sets_a_new_password_once(app, client, make_user, login):
    uid = make_user(email="forgetful@group.example")
    other = app.test_client()
    login(other, uid)
    response = client.post("/password/forgot", data={"email": "forgetful@group.example"})
    assert response.status_code == 302
    link = _reset_link(app, "forgetful@group.example")
    assert client.get(link).status_code == 200
    response = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert login(app.test_client(), uid, password=NEW_PASSWORD).status_code == 302
    assert other.get("/account").status_code == 302  # the old sessions ended
    again = client.post(link, data={"password": "another quiet meadow lark",
                                    "confirm": "another quiet meadow lark"})
    assert again.status_code == 302 and "/password/forgot" in again.headers["Location"]


def test_a_reset_link_expires_after_thirty_minutes(app, client, make_user, clock):
    make_user(email="slow@group.example")
    client.post("/password/forgot", data={"email": "slow@group.example"})
    link = _reset_link(app, "slow@group.example")
    clock.advance(minutes=31)
    assert client.get(link).status_code == 302
    response = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert "/password/forgot" in response.headers["Location"]


def test_a_newer_reset_link_revokes_the_older_one(app, client, make_user):
    make_user(email="twice@group.example")
    client.post("/password/forgot", data={"email": "twice@group.example"})
    first = _reset_link(app, "twice@group.example")
    client.post("/password/forgot", data={"email": "twice@group.example"})
    links = [re.search(r"(/password/set/[A-Za-z0-9_\-]+)",
                       m.get_payload(decode=True).decode()).group(1)
             for m in outbox(app) if m["To"] == "twice@group.example"]
    assert len(links) == 2 and links[0] == first
    assert client.get(first).status_code == 302
    assert client.get(links[1]).status_code == 200


def test_an_unknown_address_gets_the_same_answer_and_no_mail(app, client, make_user):
    make_user(email="known@group.example")
    known = client.post("/password/forgot", data={"email": "known@group.example"},
                        follow_redirects=True)
    unknown = app.test_client().post("/password/forgot",
                                     data={"email": "nobody@group.example"},
                                     follow_redirects=True)
    assert known.status_code == unknown.status_code == 200
    flash = re.compile(rb'<p class="flash[^>]*>[^<]*</p>')
    assert flash.findall(known.data) == flash.findall(unknown.data)
    assert [m["To"] for m in outbox(app)] == ["known@group.example"]


def test_reset_tokens_are_stored_hashed(app, client, make_user):
    make_user(email="hashed@group.example")
    client.post("/password/forgot", data={"email": "hashed@group.example"})
    token = _reset_link(app, "hashed@group.example").rsplit("/", 1)[1]
    with app.app_context():
        stored = db.session.scalar(select(StaffToken.token_hash))
    assert token not in stored and len(stored) == 64


def test_an_account_the_officer_creates_gets_a_set_password_link(app, client, make_user,
                                                                 login):
    login(client, make_user(role="admin"))
    response = client.post("/admin/users", data={
        "email": "newcomer@group.example", "display_name": "Nora Newcomer",
        "role": "recruiter", "company": "Ingenium"})
    assert response.status_code == 302
    # Nobody typed a password for the account: nothing logs it in before the link is used.
    assert client.post("/login", data={"email": "newcomer@group.example",
                                       "password": STAFF_PASSWORD}).status_code == 401
    [mail] = [m for m in outbox(app) if m["To"] == "newcomer@group.example"]
    body = mail.get_payload(decode=True).decode()
    assert "choose your password" in body.lower() or "Choose your password" in body
    link = re.search(r"(/password/set/[A-Za-z0-9_\-]+)", body).group(1)
    fresh = app.test_client()
    assert fresh.post(link, data={"password": NEW_PASSWORD,
                                  "confirm": NEW_PASSWORD}).status_code == 302
    response = fresh.post("/login", data={"email": "newcomer@group.example",
                                          "password": NEW_PASSWORD})
    assert response.status_code == 302
    # First login: the second factor is set up before anything else.
    assert fresh.get("/candidates").headers["Location"] == "/account/two-factor"
    with app.app_context():
        assert db.session.scalar(select(User.display_name).where(
            User.email == "newcomer@group.example")) == "Nora Newcomer"


def test_login_rehashes_a_password_hashed_under_older_parameters(app, client, make_user,
                                                                 login):
    uid = make_user()
    with app.app_context():
        user = db.session.get(User, uid)
        user.password_hash = PasswordHasher(time_cost=1, memory_cost=8192).hash(STAFF_PASSWORD)
        db.session.commit()
    assert login(client, uid).status_code == 302
    with app.app_context():
        upgraded = db.session.get(User, uid).password_hash
    assert not PasswordHasher().check_needs_rehash(upgraded)
    assert PasswordHasher().verify(upgraded, STAFF_PASSWORD)
