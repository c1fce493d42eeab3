"""The desk's API clients: list, create, revoke, the webhook for erasure notices and its
signing secret, and the delivery log. For the privacy officer only (admin_required).

A token or signing secret is shown once, in the answer to the POST that made it: never
put in a flash message (stored in the session cookie), a redirect URL, a log or the
database. The answer is not cached (vault.headers sends no-store on every page).
Making a secret needs a fresh login, like exports and erasure: a stolen idle session
must not mint a way into the API.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from vault.admin.forms import (
    SCOPE_LABELS,
    ApiClientForm,
    ConfirmForm,
    DeliveryPageForm,
    WebhookForm,
)
from vault.admin.routes import _user, bp
from vault.appctx import now, vault_keys
from vault.auth.guards import admin_required, fresh_login_required
from vault.extensions import db
from vault.models import ApiClient
from vault.services import api_clients, client_desk, vacancies, webhooks
from vault.services.users import staff_actor

DELIVERY_PAGE_SIZE = 25


def _client_or_404(client_id: int) -> ApiClient:
    client = client_desk.find_client(db.session, client_id)
    if client is None:
        abort(404)
    return client


def _testing() -> bool:
    # http://127.0.0.1 receivers are accepted in the test configuration only.
    return bool(current_app.config.get("TESTING"))


def _allow_private() -> bool:
    return bool(current_app.config.get("WEBHOOK_ALLOW_PRIVATE_ADDRESSES"))


def _create_form(*, submitted: bool) -> ApiClientForm:
    form = ApiClientForm() if submitted else ApiClientForm(formdata=None)
    form.company.choices = [(c, c) for c in current_app.config["COMPANIES"]]
    form.scopes.choices = [(s, SCOPE_LABELS.get(s, s)) for s in api_clients.SCOPES]
    return form


def _list_page(form: ApiClientForm, code: int = 200) -> tuple[str, int]:
    rows = client_desk.client_rows(db.session, now=now())
    return render_template("admin/api_clients.html", rows=rows, form=form), code


def _secret_page(
    client: ApiClient, *, token: str | None = None, webhook_secret: str | None = None
) -> tuple[str, int]:
    return render_template(
        "admin/api_client_secret.html", client=client, token=token, webhook_secret=webhook_secret
    ), 200


@bp.get("/api-clients")
@admin_required
def api_clients_page() -> tuple[str, int]:
    return _list_page(_create_form(submitted=False))


@bp.post("/api-clients")
@admin_required
@fresh_login_required
def create_api_client() -> tuple[str, int]:
    form = _create_form(submitted=True)
    if not form.validate_on_submit():
        return _list_page(form, 400)
    if form.expires_on.data is None or form.expires_on.data < vacancies.local_day(now()):
        form.expires_on.errors = [_("The date must be today or later.")]
        return _list_page(form, 400)
    url = (form.webhook_url.data or "").strip()
    moment, actor = now(), staff_actor(_user())
    try:
        client, token = api_clients.create_client(
            db.session,
            vault_keys().keyring,
            name=form.name.data or "",
            company=form.company.data or "",
            scopes=form.scopes.data or [],
            expires_at=client_desk.expiry_moment(form.expires_on.data),
            created_by=_user().id,
            companies=current_app.config["COMPANIES"],
            now=moment,
            actor=actor,
        )
    except api_clients.ApiClientError:
        db.session.rollback()
        form.name.errors = [_("The client could not be created: check the fields.")]
        return _list_page(form, 400)
    try:
        # set_url checks the URL (check_url): a refused one undoes the new client too.
        secret = (
            webhooks.set_url(
                db.session,
                vault_keys(),
                client,
                url,
                now=moment,
                actor=actor,
                testing=_testing(),
                allow_private=_allow_private(),
            )
            if url
            else None
        )
    except webhooks.WebhookError as exc:
        db.session.rollback()
        form.webhook_url.errors = [str(exc)]
        return _list_page(form, 400)
    db.session.commit()
    return _secret_page(client, token=token, webhook_secret=secret)


def _client_page(
    client: ApiClient, webhook_form: WebhookForm | None = None, code: int = 200
) -> tuple[str, int]:
    paging = DeliveryPageForm(request.args)
    page_number = (paging.page.data or 1) if paging.validate() else 1
    endpoint = webhooks.endpoint_of(db.session, client.id)
    if webhook_form is None:
        webhook_form = WebhookForm(
            formdata=None, data={"webhook_url": endpoint.url if endpoint else ""}
        )
    page = webhooks.delivery_page(
        db.session, client.id, page=page_number, page_size=DELIVERY_PAGE_SIZE
    )
    return render_template(
        "admin/api_client.html",
        client=client,
        state=client_desk.state(client, now()),
        endpoint=endpoint,
        webhook_form=webhook_form,
        confirm_form=ConfirmForm(),
        page=page,
        scope_labels=SCOPE_LABELS,
    ), code


@bp.get("/api-clients/<int:client_id>")
@admin_required
def api_client(client_id: int) -> tuple[str, int]:
    return _client_page(_client_or_404(client_id))


@bp.route("/api-clients/<int:client_id>/revoke", methods=["GET", "POST"])
@admin_required
def revoke_api_client(client_id: int) -> Response | tuple[str, int]:
    client = _client_or_404(client_id)
    form = ConfirmForm()
    if request.method == "GET" or client.revoked_at is not None:
        if client.revoked_at is not None:
            return redirect(url_for("admin.api_client", client_id=client_id))
        return render_template("admin/api_client_revoke.html", client=client, form=form), 200
    if not form.validate_on_submit():
        return render_template("admin/api_client_revoke.html", client=client, form=form), 400
    api_clients.revoke_client(db.session, client_id, now=now(), actor=staff_actor(_user()))
    db.session.commit()
    flash(
        _(
            "Client %(name)s revoked: its token is refused from now on, and it receives no "
            "more erasure notices.",
            name=client.name,
        ),
        "success",
    )
    return redirect(url_for("admin.api_client", client_id=client_id))


@bp.post("/api-clients/<int:client_id>/webhook")
@admin_required
@fresh_login_required
def set_webhook(client_id: int) -> Response | tuple[str, int]:
    client = _client_or_404(client_id)
    form = WebhookForm()
    if not form.validate_on_submit():
        return _client_page(client, form, 400)
    url = (form.webhook_url.data or "").strip()
    try:
        secret = webhooks.set_url(
            db.session,
            vault_keys(),
            client,
            url,
            now=now(),
            actor=staff_actor(_user()),
            testing=_testing(),
            allow_private=_allow_private(),
        )
    except webhooks.WebhookError as exc:
        db.session.rollback()
        form.webhook_url.errors = [str(exc)]
        return _client_page(client, form, 400)
    db.session.commit()
    if secret is not None:
        return _secret_page(client, webhook_secret=secret)
    flash(
        _("Webhook URL saved.")
        if url
        else _("Webhook removed: this client receives no more erasure notices."),
        "success",
    )
    return redirect(url_for("admin.api_client", client_id=client_id))


@bp.post("/api-clients/<int:client_id>/webhook/secret")
@admin_required
@fresh_login_required
def rotate_webhook_secret(client_id: int) -> Response | tuple[str, int]:
    client = _client_or_404(client_id)
    # A new secret stops the old one at once: only on a POST with a valid CSRF token.
    if not ConfirmForm().validate_on_submit():
        return _client_page(client, code=400)
    try:
        secret = webhooks.rotate_secret(
            db.session, vault_keys(), client, now=now(), actor=staff_actor(_user())
        )
    except webhooks.WebhookError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _client_page(client, code=400)
    db.session.commit()
    return _secret_page(client, webhook_secret=secret)
