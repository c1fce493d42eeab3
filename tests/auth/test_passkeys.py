"""Passkeys with a software authenticator (soft-webauthn): registration, login as the
second factor and passwordless, counters checked, attestation "none"."""

from __future__ import annotations

import json
from base64 import urlsafe_b64encode

import pytest
from soft_webauthn import SoftWebauthnDevice
from sqlalchemy import select

from tests.conftest import STAFF_PASSWORD
from vault.extensions import db
from vault.models import AuditEvent, User, WebAuthnCredential
from vault.services import audit
from vault.services.passkeys import decode

ORIGIN = "http://127.0.0.1:5000"  # the test configuration's PUBLIC_BASE_URL


def _b64(raw: bytes) -> str:
    return urlsafe_b64encode(raw).decode().rstrip("=")


def _as_browser_json(credential: dict) -> dict:
    """What the page's script posts: every binary field base64url-encoded."""
    response = {k: _b64(v) for k, v in credential["response"].items() if v is not None}
    return {"id": _b64(credential["rawId"]), "rawId": _b64(credential["rawId"]),
            "type": "public-key", "response": response}


def _creation_options(client) -> dict:
    options = client.post("/account/passkeys/options").get_json()
    options["challenge"] = decode(options["challenge"])
    options["user"]["id"] = decode(options["user"]["id"])
    return {"publicKey": options}


def _request_options(client) -> dict:
    options = client.post("/login/passkey/options").get_json()
    options["challenge"] = decode(options["challenge"])
    return {"publicKey": options}


def register(client, device: SoftWebauthnDevice, name: str = "Laptop"):
    credential = device.create(_creation_options(client), ORIGIN)
    return client.post("/account/passkeys", json={"credential": _as_browser_json(credential),
                                                  "name": name})


def assert_with(client, device: SoftWebauthnDevice, origin: str = ORIGIN):
    assertion = device.get(_request_options(client), origin)
    return client.post("/login/passkey", json={"credential": _as_browser_json(assertion)})


class VerifyingDevice(SoftWebauthnDevice):
    """An authenticator that verified its user (PIN or fingerprint): the UV flag set."""

    def get(self, options, origin):
        from struct import pack

        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from fido2.utils import sha256

        self.sign_count += 1
        client_data = json.dumps({"type": "webauthn.get", "origin": origin,
                                  "challenge": _b64(options["publicKey"]["challenge"])}).encode()
        auth_data = sha256(self.rp_id.encode()) + b"\x05" + pack(">I", self.sign_count)
        signature = self.private_key.sign(auth_data + sha256(client_data),
                                          ec.ECDSA(hashes.SHA256()))
        return {"rawId": self.credential_id, "response": {
            "authenticatorData": auth_data, "clientDataJSON": client_data,
            "signature": signature, "userHandle": self.user_handle}}


def _email(app, uid) -> str:
    with app.app_context():
        return db.session.get(User, uid).email


def test_a_passkey_is_registered_and_counts_as_the_second_factor(app, client, make_user,
                                                                 login):
    uid = make_user(second_factor=False)
    login(client, uid)
    assert client.get("/candidates").headers["Location"] == "/account/two-factor"
    response = register(client, SoftWebauthnDevice())
    assert response.status_code == 200 and response.get_json()["redirect"] == "/account"
    assert client.get("/candidates").status_code == 200  # enrolled now
    with app.app_context():
        [record] = db.session.scalars(select(WebAuthnCredential)).all()
        assert record.user_id == uid and record.name == "Laptop"
        assert db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == audit.PASSKEY_ADDED)) is not None
    assert "Laptop" in client.get("/account").get_data(as_text=True)


def test_a_user_registers_more_than_one_passkey(app, client, make_user, login):
    login(client, make_user())
    assert register(client, SoftWebauthnDevice(), "Laptop").status_code == 200
    assert register(client, SoftWebauthnDevice(), "Phone").status_code == 200
    with app.app_context():
        assert len(db.session.scalars(select(WebAuthnCredential)).all()) == 2


def test_the_passkey_is_the_second_step_of_a_login(app, client, make_user, login):
    uid = make_user(second_factor=False)
    device = SoftWebauthnDevice()
    login(client, uid)
    register(client, device)
    client.post("/logout")
    response = client.post("/login", data={"email": _email(app, uid),
                                           "password": STAFF_PASSWORD})
    assert response.headers["Location"] == "/login/second-factor"
    answer = assert_with(client, device)
    assert answer.status_code == 200 and answer.get_json()["redirect"] == "/candidates"
    assert client.get("/candidates").status_code == 200


def test_a_passkey_of_another_site_or_a_replayed_counter_is_refused(app, client, make_user,
                                                                   login):
    uid = make_user(second_factor=False)
    device = SoftWebauthnDevice()
    login(client, uid)
    register(client, device)
    client.post("/logout")
    client.post("/login", data={"email": _email(app, uid), "password": STAFF_PASSWORD})
    assert assert_with(client, device, origin="https://evil.example").status_code == 401
    assert assert_with(client, device).status_code == 200
    client.post("/logout")
    client.post("/login", data={"email": _email(app, uid), "password": STAFF_PASSWORD})
    device.sign_count -= 1  # a cloned authenticator: its counter does not grow
    assert assert_with(client, device).status_code == 401
    assert client.get("/candidates").status_code == 302


def test_another_user_s_passkey_does_not_complete_my_login(app, make_user, login):
    mine, theirs = make_user(second_factor=False), make_user(second_factor=False)
    their_device = SoftWebauthnDevice()
    their_browser = app.test_client()
    login(their_browser, theirs)
    register(their_browser, their_device)
    my_browser = app.test_client()
    login(my_browser, mine)
    register(my_browser, SoftWebauthnDevice())
    my_browser.post("/logout")
    my_browser.post("/login", data={"email": _email(app, mine), "password": STAFF_PASSWORD})
    assert assert_with(my_browser, their_device).status_code == 401


def test_passwordless_login_only_for_users_who_chose_it(app, client, make_user, login):
    uid = make_user(second_factor=False)
    device = VerifyingDevice()
    login(client, uid)
    register(client, device)
    client.post("/logout")
    # Not chosen yet: the passkey alone logs nobody in.
    assert assert_with(client, device).status_code == 401
    client.post("/login", data={"email": _email(app, uid), "password": STAFF_PASSWORD})
    assert assert_with(client, device).status_code == 200
    client.post("/account/passwordless", data={"passwordless": "on"})
    client.post("/logout")
    answer = assert_with(client, device)
    assert answer.status_code == 200
    assert client.get("/candidates").status_code == 200


def test_passwordless_login_needs_user_verification(app, client, make_user, login):
    uid = make_user(second_factor=False)
    device = SoftWebauthnDevice()  # user present, not verified
    login(client, uid)
    register(client, device)
    client.post("/account/passwordless", data={"passwordless": "on"})
    client.post("/logout")
    assert assert_with(client, device).status_code == 401


def test_removing_a_passkey(app, client, make_user, login):
    login(client, make_user())
    register(client, SoftWebauthnDevice())
    with app.app_context():
        passkey_id = db.session.scalar(select(WebAuthnCredential.id))
    assert client.post(f"/account/passkeys/{passkey_id}/delete").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(WebAuthnCredential.id)) is None


@pytest.mark.parametrize("body", [{}, {"credential": "nonsense"}, {"credential": {}}])
def test_malformed_passkey_answers_are_refused_cleanly(client, make_user, login, body):
    login(client, make_user())
    client.post("/account/passkeys/options")
    assert client.post("/account/passkeys", json=body).status_code == 400
    client.post("/login/passkey/options")
    assert client.post("/login/passkey", json=body).status_code in (400, 401)
