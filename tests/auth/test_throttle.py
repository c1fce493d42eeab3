"""Failed logins slow down without letting strangers lock the owner out (ASVS 2.2.1)."""

from __future__ import annotations

import pytest

from tests.conftest import STAFF_PASSWORD, totp_code
from vault.extensions import db
from vault.models import User


def _from(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _email(app, uid) -> str:
    with app.app_context():
        return db.session.get(User, uid).email


@pytest.fixture
def delays(app) -> list[float]:
    """The delays the login imposed (recorded instead of slept)."""
    waited: list[float] = []
    app.config["SLEEP"] = waited.append
    return waited


def test_fifty_failures_from_one_address_do_not_stop_the_owner_from_another(
        app, make_user, login, delays):
    uid = make_user()
    email = _email(app, uid)
    attacker = _from(app, "203.0.113.66")
    codes = [attacker.post("/login", data={"email": email, "password": f"guess {i} wrong"})
             .status_code for i in range(50)]
    assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}
    owner = _from(app, "198.51.100.7")
    response = login(owner, uid)
    assert response.status_code == 302
    assert owner.get("/candidates").status_code == 200
    # The attacker stays refused, even with the right password.
    assert attacker.post("/login", data={"email": email,
                                         "password": STAFF_PASSWORD}).status_code == 429


def test_failures_from_many_addresses_slow_the_account_but_never_refuse_its_owner(
        app, make_user, login, delays):
    uid = make_user()
    email = _email(app, uid)
    for i in range(30):
        _from(app, f"203.0.113.{i}").post("/login", data={"email": email,
                                                         "password": "not it at all"})
    assert delays and delays == sorted(delays)  # a growing delay, past the soft limit
    assert max(delays) <= app.config["LOGIN_DELAY_MAX_SECONDS"]
    owner = _from(app, "198.51.100.7")
    assert login(owner, uid).status_code == 302
    assert owner.get("/candidates").status_code == 200


@pytest.mark.app_config(REQUIRE_2FA=False)
def test_an_account_under_attack_is_slowed_even_without_a_second_factor(
        app, make_user, delays):
    uid = make_user(second_factor=False)
    email = _email(app, uid)
    for i in range(12):
        _from(app, f"203.0.113.{i}").post("/login", data={"email": email,
                                                         "password": "not it at all"})
    before = len(delays)
    response = _from(app, "198.51.100.7").post("/login", data={"email": email,
                                                              "password": STAFF_PASSWORD})
    assert response.status_code == 302 and len(delays) == before + 1


def test_a_success_clears_only_its_own_pair(app, make_user, login, delays):
    uid = make_user()
    email = _email(app, uid)
    owner = _from(app, "198.51.100.7")
    for _ in range(4):
        owner.post("/login", data={"email": email, "password": "typo typo typo"})
    attacker = _from(app, "203.0.113.66")
    for _ in range(5):
        attacker.post("/login", data={"email": email, "password": "guess guess guess"})
    assert login(owner, uid).status_code == 302
    owner.post("/logout")
    for _ in range(4):  # the owner's count started again
        assert owner.post("/login", data={"email": email,
                                          "password": "typo typo typo"}).status_code == 401
    assert attacker.post("/login", data={"email": email,
                                         "password": "guess guess guess"}).status_code == 429


def test_the_pair_is_free_again_after_the_window(app, make_user, clock, delays):
    uid = make_user()
    email = _email(app, uid)
    attacker = _from(app, "203.0.113.66")
    for _ in range(5):
        attacker.post("/login", data={"email": email, "password": "guess guess guess"})
    assert attacker.post("/login", data={"email": email,
                                         "password": STAFF_PASSWORD}).status_code == 429
    clock.advance(minutes=16)
    response = attacker.post("/login", data={"email": email, "password": STAFF_PASSWORD})
    assert response.status_code == 302


def test_wrong_second_factor_codes_count_against_the_pair(app, make_user, delays):
    uid = make_user()
    email = _email(app, uid)
    client = _from(app, "203.0.113.66")
    for _ in range(2):
        client.post("/login", data={"email": email, "password": STAFF_PASSWORD})
        for _ in range(2):
            client.post("/login/second-factor", data={"code": "000000"})
    client.post("/login", data={"email": email, "password": "wrong wrong wrong"})
    response = client.post("/login", data={"email": email, "password": STAFF_PASSWORD})
    assert response.status_code == 429
    assert totp_code(app, uid)  # the owner's factor itself is untouched
