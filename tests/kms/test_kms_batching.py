"""How often a page or a command goes to the key manager: counted around a real backend
(OpenBao Transit, a SoftHSM2 token), never guessed."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest
from pkcs11 import Attribute, ObjectClass
from sqlalchemy import select

from tests.journey import make_vacancy
from tests.services.test_candidates import get, sample_input
from vault import keys as vault_keys_module
from vault.appctx import vault_keys
from vault.crypto import DataKey, WrappedKey, new_data_key
from vault.crypto.kek_backend import unwrap_one
from vault.crypto.pkcs11_backend import Pkcs11KekBackend
from vault.extensions import db
from vault.keys import opened_keys
from vault.models import Vacancy
from vault.services.candidates import create_candidate, reindex_candidate

# The app with its KEKs in OpenBao Transit (tests/kms/backends.py).
TRANSIT_APP = pytest.mark.parametrize("kek", ["transit"], indirect=True)


class Counting:
    """The app's key manager with every unwrap call recorded (its size)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.unwraps: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def unwrap(self, items: Sequence[tuple[WrappedKey, str]]) -> list[DataKey | None]:
        self.unwraps.append(len(items))
        return self.inner.unwrap(items)


@pytest.fixture
def counted(app) -> Counting:
    with app.app_context():
        keys = vault_keys()
        counting = Counting(keys.manager)
        keys.manager = counting  # type: ignore[assignment]
    return counting


def _records(app, clock, n: int, vacancy: str | None = None) -> list[str]:
    with app.app_context():
        vacancy_id = (
            None
            if vacancy is None
            else db.session.scalar(select(Vacancy.id).where(Vacancy.slug == vacancy))
        )
        ids = [
            create_candidate(
                db.session,
                vault_keys(),
                sample_input(name=f"Person {i}", email=f"p{i}@example.org"),
                now=clock(),
                vacancy_id=vacancy_id,
            ).public_id
            for i in range(n)
        ]
        db.session.commit()
    return ids


@TRANSIT_APP
def test_applicant_page_unwraps_its_records_in_one_transit_call(
    app, clock, counted, make_user, login
):
    slug = make_vacancy(app)
    _records(app, clock, 7, vacancy=slug)
    staff = app.test_client()
    login(staff, make_user(role="recruiter", company="Ingenium"))
    counted.unwraps.clear()
    page = staff.get(f"/vacancies/{slug}")
    assert page.status_code == 200
    assert page.data.decode().count("Person ") >= 7
    assert counted.unwraps == [7]


@TRANSIT_APP
def test_candidate_page_asks_the_key_manager_once(app, clock, counted, make_user, login):
    (public_id,) = _records(app, clock, 1)
    staff = app.test_client()
    login(staff, make_user(role="admin", company="Ingenium"))
    counted.unwraps.clear()
    assert staff.get(f"/candidates/{public_id}").status_code == 200
    assert counted.unwraps == [1]


@TRANSIT_APP
def test_a_key_opened_twice_in_one_block_is_asked_for_once_and_dropped_after(app, clock, counted):
    (public_id,) = _records(app, clock, 1)
    with app.app_context():
        keys = vault_keys()
        counted.unwraps.clear()
        reindex_candidate(keys, get(public_id))  # opens the record, then seals its index
        assert counted.unwraps == [1, 1]  # without a block: every opening asks
        counted.unwraps.clear()
        with opened_keys():
            reindex_candidate(keys, get(public_id))
            assert counted.unwraps == [1]
        assert vault_keys_module._OPENED.get() is None  # nothing kept after the block
        reindex_candidate(keys, get(public_id))
        assert counted.unwraps == [1, 1, 1]


@TRANSIT_APP
def test_a_request_keeps_no_data_key_after_it_ends(app, clock, counted, make_user, login):
    (public_id,) = _records(app, clock, 1)
    staff = app.test_client()
    login(staff, make_user(role="admin", company="Ingenium"))
    assert staff.get(f"/candidates/{public_id}").status_code == 200
    assert vault_keys_module._OPENED.get() is None
    counted.unwraps.clear()
    assert staff.get(f"/candidates/{public_id}").status_code == 200
    assert counted.unwraps == [1]  # the next request asks again


@TRANSIT_APP
def test_a_cached_key_is_not_used_once_the_keys_were_reloaded(app, clock, counted):
    (public_id,) = _records(app, clock, 1)
    with app.app_context():
        keys = vault_keys()
        counted.unwraps.clear()
        with opened_keys():
            reindex_candidate(keys, get(public_id))
            keys.reload()  # another process rotated or retired: asked again
            reindex_candidate(keys, get(public_id))
        assert counted.unwraps == [1, 1]


@TRANSIT_APP
def test_check_and_reindex_unwrap_a_batch_per_call(app, clock, counted, monkeypatch):
    from vault.commands import setup

    _records(app, clock, 5)
    monkeypatch.setattr(setup, "CHECK_BATCH", 2)
    runner = app.test_cli_runner()
    counted.unwraps.clear()
    result = runner.invoke(args=["vault", "check"])
    assert "5 record(s) open with every field" in result.output, result.output
    assert counted.unwraps == [2, 2, 1]
    counted.unwraps.clear()
    result = runner.invoke(args=["vault", "reindex", "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    assert counted.unwraps == [2, 2, 1]
    with app.app_context():  # still found by what they hold
        from vault.models import User
        from vault.services.search import search

        admin = User(
            email="a@example.org", password_hash="-", role="admin", company="Ingenium", active=True
        )
        found = search(db.session, vault_keys(), admin, q="person", now=clock())
        assert len(found.results) == 5


@TRANSIT_APP
def test_an_imported_file_asks_the_key_manager_once_for_its_confirmations(
        app, counted, tmp_path):
    document = tmp_path / "export.json"
    document.write_text(json.dumps({"records": [
        {"contact": {"full_name": f"Person {n}", "email": f"p{n}@example.org"}}
        for n in range(3)]}))
    counted.unwraps.clear()
    result = app.test_cli_runner().invoke(args=["vault", "import", str(document)])
    assert result.exit_code == 0, result.output
    assert "Queued 3 confirmation link(s)" in result.output
    # Their pending changes and their mails sealed under one opening of the keys (it
    # was two), then the command's delivery run opening each mail as it sends it.
    assert counted.unwraps == [3, 1, 1, 1]


# -- PKCS#11: the key objects are found once, not by a scan of the token per call ---------
class Scans:
    """The backend's session, with its searches of the token counted."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.count = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.session, name)

    def get_objects(self, *args: Any, **kwargs: Any) -> Any:
        self.count += 1
        return self.session.get_objects(*args, **kwargs)


@pytest.fixture
def scans(hsm) -> Scans:
    with hsm._open() as session:
        counter = Scans(session)
    hsm._session = counter
    return counter


def test_pkcs11_wrap_and_unwrap_do_not_scan_the_token_each_call(hsm, scans):
    items = [(new_data_key(), f"p{i}") for i in range(5)]
    hsm.wrap(items[:1])  # the first call after create_key may scan once
    scans.count = 0
    for _ in range(3):
        wrapped = hsm.wrap(items)
        assert [
            d.key for d in hsm.unwrap([(w, p) for w, (_, p) in zip(wrapped, items, strict=True)])
        ] == [d.key for d, _ in items]
    assert scans.count == 0


def test_pkcs11_cached_keys_follow_rotation_and_retirement(hsm, hsm_token):
    dek = new_data_key()
    (old,) = hsm.wrap([(dek, "pid")])
    assert hsm.rotate() == 2
    (new,) = hsm.wrap([(dek, "pid")])
    assert new.kek_version == 2  # the cache was dropped on rotate
    # Another process (another session on the token) rotates: a reload (versions) and
    # a key wrapped by the new version are both seen here.
    other = Pkcs11KekBackend(hsm_token.module, hsm_token.label, hsm_token.pin, hsm.key_name)
    other._session = hsm._session  # one login per process, as two backends of one app
    assert other.rotate() == 3
    (newest,) = other.wrap([(dek, "pid")])
    assert unwrap_one(hsm, newest, "pid").key == dek.key
    assert hsm.versions == [1, 2, 3]
    hsm.retire(1)
    assert hsm.unwrap([(old, "pid")]) == [None]
    # Retired by the other process: once this one reads the versions again (each
    # worker does at its next request after the retirement), its copy of the key is gone.
    assert unwrap_one(hsm, new, "pid").key == dek.key
    other.retire(2)
    assert hsm.versions == [3]
    assert hsm.unwrap([(new, "pid")]) == [None]
    with hsm._open() as session:
        labels = {o.label for o in session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY})}
    assert f"{hsm.key_name}-v1" not in labels


def test_transit_calls_larger_than_openbao_json_limit_are_split(transit):
    # OpenBao refuses a body of more than 1,000 JSON strings (four per key): 1,000 keys
    # in one request were refused whole before batches were cut to 200.
    items = [(new_data_key(), f"pid-{i}") for i in range(1000)]
    wrapped = transit.wrap(items)
    pairs = [(w, pid) for w, (_, pid) in zip(wrapped, items, strict=True)]
    assert [d.key for d in transit.unwrap(pairs)] == [d.key for d, _ in items]
    transit.rotate()
    assert {w.kek_version for w in transit.rewrap(pairs)} == {2}


def test_transit_client_reads_proxy_and_ca_settings_once_at_start(monkeypatch, tmp_path):
    from vault.crypto.transit import environment_read_once

    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    for name in ("VAULT_CACERT", "VAULT_CAPATH", "NO_PROXY", "no_proxy", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    client = environment_read_once("https://bao.example:8200", "token", 2.0)
    # Not read again per call (a walk over the environment each time) ...
    assert client.adapter.session.trust_env is False
    # ... but the same settings hold as when requests read them per call.
    assert client.adapter._kwargs["verify"] == str(bundle)
    assert client.adapter._kwargs["proxies"]["https"] == "http://proxy.example:3128"
    monkeypatch.setenv("NO_PROXY", "bao.example")
    assert not environment_read_once("https://bao.example:8200", "t", 2.0).adapter._kwargs[
        "proxies"]


def test_transit_client_made_from_settings_opens_what_it_wrapped(bao):
    from vault.crypto.transit import TransitKekBackend, environment_read_once

    backend = TransitKekBackend(environment_read_once(bao.url, bao.token, 5.0), "kek-connect")
    backend.create_key()
    dek = new_data_key()
    (wrapped,) = backend.wrap([(dek, "pid")])
    assert unwrap_one(backend, wrapped, "pid").key == dek.key


@pytest.mark.parametrize("role", [False, True])
def test_the_apps_transit_client_reads_proxy_and_ca_settings_once(monkeypatch, tmp_path, role):
    from vault.kek_settings import transit_connection

    for name in ("VAULT_CACERT", "VAULT_CAPATH", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    login = {"TRANSIT_ROLE_ID": "r", "TRANSIT_SECRET_ID": "s"} if role else {
        "TRANSIT_TOKEN": "t"}
    connection = transit_connection({"TRANSIT_ADDR": "https://bao.example:8200",
                                     "TRANSIT_TIMEOUT_SECONDS": 2, **login})
    assert connection.client.adapter.session.trust_env is False
    assert connection.client.adapter._kwargs["proxies"]["https"] == "http://proxy.example:3128"


def test_pkcs11_a_retired_version_does_not_rescan_the_token_on_every_call(hsm, scans):
    dek = new_data_key()
    (old,) = hsm.wrap([(dek, "pid")])
    hsm.rotate()
    hsm.retire(1)
    (new,) = hsm.wrap([(dek, "pid")])
    scans.count = 0
    for _ in range(3):
        assert hsm.unwrap([(old, "pid")]) == [None]
        assert [d.key for d in hsm.unwrap([(new, "pid")]) if d] == [dek.key]
    assert scans.count == 0
