from __future__ import annotations

import pytest

from tests.conftest import STAFF_PASSWORD, totp_code
from vault.extensions import db

SAMPLE = {"public_id": "AAAAAAAAAAAAAAAAAAAAAA", "uid": "0123456789abcdef", "user_id": 1,
          "fmt": "json", "client_id": 1}


def _admin_routes(app) -> list[tuple[str, str]]:
    """Every (method, path) of the blueprint, from the URL map: a new route is covered too."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin."):
            continue
        path = rule.rule
        for name, value in SAMPLE.items():
            path = path.replace(f"<{name}>", str(value)).replace(f"<int:{name}>", str(value))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((method, path))
    return routes


def test_the_desk_has_the_routes_the_menu_and_the_issue_name(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    assert {"admin.dashboard", "admin.requests", "admin.resolve_request", "admin.log_request",
            "admin.retention", "admin.set_hold", "admin.users", "admin.create_user",
            "admin.update_user", "admin.erase", "admin.export", "admin.audit",
            "admin.audit_csv"} <= endpoints
    assert len(_admin_routes(app)) >= 14


def test_anonymous_users_are_sent_to_login_everywhere(app, client):
    for method, path in _admin_routes(app):
        response = client.open(path, method=method)
        assert response.status_code == 302, (method, path)
        assert response.headers["Location"].startswith("/login?next="), (method, path)


def test_recruiters_get_403_everywhere(app, client, make_user, login):
    login(client, make_user(role="recruiter"))
    for method, path in _admin_routes(app):
        assert client.open(path, method=method).status_code == 403, (method, path)


def test_admin_menu_links_to_the_desk(client, make_user, login):
    login(client, make_user(role="admin"))
    page = client.get("/admin/")
    assert page.status_code == 200 and b"Privacy desk" in page.data
    assert b'href="/admin/"' in page.data


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_posts_without_a_csrf_token_change_nothing(app, client, make_user):
    from sqlalchemy import func, select

    from vault.models import User

    admin = make_user(role="admin")
    with app.app_context():
        email = db.session.get(User, admin).email
    login_page = client.get("/login").data.decode()
    token = login_page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post("/login", data={"email": email, "password": STAFF_PASSWORD,
                                "csrf_token": token})
    step = client.get("/login/second-factor").data.decode()
    token = step.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post("/login/second-factor", data={"code": totp_code(app, admin),
                                              "csrf_token": token})
    assert client.get("/admin/").status_code == 200
    response = client.post("/admin/users", data={
        "email": "new@group.example", "password": STAFF_PASSWORD, "role": "admin",
        "company": "Ingenium"})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1
