"""The privacy officer's desk: requests queue, retention dashboard, users, erasure and
export on request, legal holds, and the audit trail.

Every page is for the admin role only (recruiters get 403). Exports and erasure also
need a fresh login. Views parse, call vault.services.desk, render; state changes are
POSTs with a CSRF token, and bad input re-renders the page with a 400, changing nothing.
"""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from vault.admin.forms import (
    AuditFilterForm,
    CreateUserForm,
    EmailChangeForm,
    EraseForm,
    HoldForm,
    LogRequestForm,
    LookupForm,
    ResetSecondFactorForm,
    ResolveRequestForm,
    UpdateUserForm,
)
from vault.admin.labels import ERASURE_LABELS, RECIPIENT_LABELS, desk_label
from vault.appctx import erasure_ledger, now, secret_keys, vault_keys
from vault.auth.guards import admin_required, fresh_login_required
from vault.extensions import db
from vault.i18n import show_date
from vault.messages import message
from vault.models import User
from vault.services import (
    desk,
    exports,
    mail_queue,
    second_factor,
    staff_mail,
    staff_names,
)
from vault.services.notifications import deliver_after_response, queue_email_change
from vault.services.users import UserError, create_user, set_active, set_role, staff_actor

bp = Blueprint("admin", __name__, url_prefix="/admin")

AUDIT_PAGE_SIZE = 50
# The codes of the desk, worded in the page's language (vault/admin/labels.py).
bp.add_app_template_filter(desk_label, "desk_label")
QUEUE_STATUSES = ("open", "all")


def _user() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined,no-any-return]


def _due_days() -> int:
    return int(current_app.config["REQUEST_DUE_DAYS"])


def _person_or_404(public_id: str) -> desk.Person:
    person = desk.person_of(db.session, public_id)
    if person is None:
        abort(404)
    return person


# --- dashboard -------------------------------------------------------------------------


@bp.get("/")
@admin_required
def dashboard() -> str:
    counts = desk.dashboard_counts(db.session, now=now(), config=current_app.config)
    return render_template("admin/dashboard.html", counts=counts, lookup=LookupForm(),
                           mail=mail_queue.stats(db.session, now()))


@bp.get("/lookup")
@admin_required
def lookup() -> Response | tuple[str, int]:
    form = LookupForm(request.args)
    if form.validate():
        public_id = (form.public_id.data or "").strip()
        if desk.find_record(db.session, public_id) is not None:
            return redirect(url_for("admin.candidate", public_id=public_id))
        form.public_id.errors = [_("No record has that reference.")]
    counts = desk.dashboard_counts(db.session, now=now(), config=current_app.config)
    return render_template("admin/dashboard.html", counts=counts, lookup=form,
                           mail=mail_queue.stats(db.session, now())), 400


@bp.get("/candidates/<public_id>")
@admin_required
def candidate(public_id: str) -> str:
    """A person's records by reference only: holds, export, erasure (no personal data)."""
    person = _person_or_404(public_id)
    return render_template("admin/candidate.html", person=person, hold_form=HoldForm(),
                           email_form=EmailChangeForm(formdata=None),
                           recipients=RECIPIENT_LABELS)


@bp.post("/candidates/<public_id>/email")
@admin_required
def change_email(public_id: str) -> Response | tuple[str, int]:
    """Start an e-mail change the person asked for; it waits for the new address."""
    person = _person_or_404(public_id)
    form = EmailChangeForm()
    if form.validate_on_submit():
        try:
            ticket = desk.request_email_change(
                db.session, vault_keys(), person, (form.new_email.data or "").strip(),
                now=now(), lifetime_hours=int(current_app.config["EMAIL_CHANGE_MAX_AGE_HOURS"]),
                secret_keys=secret_keys(), due_days=_due_days(), actor=staff_actor(_user()))
        except desk.DeskError as exc:
            db.session.rollback()
            form.new_email.errors = [str(exc)]
        else:
            queue_email_change(db.session, vault_keys(), person.anchor, ticket)
            db.session.commit()
            deliver_after_response()
            flash(message("email_change_started"), "success")
            return redirect(url_for("admin.candidate", public_id=public_id))
    return render_template("admin/candidate.html", person=person, hold_form=HoldForm(),
                           email_form=form, recipients=RECIPIENT_LABELS), 400


# --- requests --------------------------------------------------------------------------


def _requests_page(log_form: LogRequestForm, code: int = 200) -> tuple[str, int]:
    status = request.args.get("status", "open")
    if status not in QUEUE_STATUSES:
        status = "open"
    rows = desk.request_queue(db.session, now=now(), status=None if status == "all" else status)
    return render_template("admin/requests.html", rows=rows, status=status, log_form=log_form,
                           resolve_form=ResolveRequestForm()), code


@bp.get("/requests")
@admin_required
def requests() -> tuple[str, int]:
    return _requests_page(LogRequestForm(formdata=None))


@bp.post("/requests/new")
@admin_required
def log_request() -> Response | tuple[str, int]:
    form = LogRequestForm()
    if form.validate_on_submit():
        try:
            row = desk.log_received_request(
                db.session, vault_keys(), form.public_id.data or "", form.kind.data or "",
                form.details.data or "", now=now(), due_days=_due_days(),
                actor=staff_actor(_user()))
        except desk.DeskError as exc:
            db.session.rollback()
            form.public_id.errors = [str(exc)]
        else:
            db.session.commit()
            flash(_("Request logged; due %(day)s.", day=show_date(row.due_at)), "success")
            return redirect(url_for("admin.requests"))
    return _requests_page(form, 400)


@bp.post("/requests/<uid>/resolve")
@admin_required
def resolve_request(uid: str) -> Response | tuple[str, int]:
    row = desk.find_request(db.session, uid)
    if row is None:
        abort(404)
    form = ResolveRequestForm()
    if not form.validate_on_submit():
        flash(_("Choose fulfilled or rejected."), "error")
        return _requests_page(LogRequestForm(formdata=None), 400)
    try:
        desk.resolve_request(db.session, row, form.status.data or "", now=now(),
                             actor=staff_actor(_user()))
    except desk.DeskError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _requests_page(LogRequestForm(formdata=None), 400)
    db.session.commit()
    flash(_("Request marked %(status)s.", status=desk_label(row.status)), "success")
    return redirect(url_for("admin.requests"))


# --- retention and legal holds ---------------------------------------------------------


@bp.get("/retention")
@admin_required
def retention() -> str:
    moment, config = now(), current_app.config
    return render_template(
        "admin/retention.html",
        expiring=desk.expiring_consents(db.session, now=moment),
        due=desk.due_for_shredding(db.session, now=moment, config=config),
        held=desk.held_records(db.session, vault_keys(), now=moment, config=config),
        window=desk.EXPIRY_WINDOW_DAYS)


@bp.post("/candidates/<public_id>/hold")
@admin_required
def set_hold(public_id: str) -> Response | tuple[str, int]:
    record = desk.find_record(db.session, public_id)
    if record is None:
        abort(404)
    form = HoldForm()
    if form.validate_on_submit():
        reason = (form.reason.data or "") if form.action.data == "place" else None
        try:
            desk.set_hold(db.session, vault_keys(), record, reason, now=now(),
                          actor=staff_actor(_user()))
        except desk.DeskError as exc:
            db.session.rollback()
            form.reason.errors = [str(exc)]
        else:
            db.session.commit()
            flash(_("Legal hold placed: the record will not be shredded.") if reason is not None
                  else _("Legal hold lifted."), "success")
            return redirect(url_for("admin.candidate", public_id=public_id))
    person = _person_or_404(public_id)
    return render_template("admin/candidate.html", person=person, hold_form=form,
                           email_form=EmailChangeForm(formdata=None), hold_target=public_id,
                           recipients=RECIPIENT_LABELS), 400


# --- users -----------------------------------------------------------------------------


def _create_form(*, submitted: bool) -> CreateUserForm:
    form = CreateUserForm() if submitted else CreateUserForm(formdata=None)
    form.company.choices = [(c, c) for c in current_app.config["COMPANIES"]]
    return form


def _users_page(create_form: CreateUserForm, code: int = 200,
                errors: dict[int, str] | None = None) -> tuple[str, int]:
    accounts = desk.staff_accounts(db.session)
    forms = {u.id: UpdateUserForm(formdata=None, data={"role": u.role,
                                                      "active": "yes" if u.active else "no"})
             for u in accounts}
    return render_template("admin/users.html", accounts=accounts, forms=forms,
                           create_form=create_form, errors=errors or {},
                           me=_user().id, reset_form=ResetSecondFactorForm()), code


@bp.get("/users")
@admin_required
def users() -> tuple[str, int]:
    return _users_page(_create_form(submitted=False))


@bp.post("/users", endpoint="create_user")
@admin_required
def create_user_view() -> Response | tuple[str, int]:
    form = _create_form(submitted=True)
    if form.validate_on_submit():
        moment = now()
        try:
            user = create_user(db.session, email=form.email.data or "", password=None,
                               role=form.role.data or "", company=form.company.data or "",
                               companies=current_app.config["COMPANIES"], now=moment,
                               actor=staff_actor(_user()),
                               display_name=form.display_name.data or "")
        except UserError as exc:
            db.session.rollback()
            form.email.errors = [str(exc)]
        else:
            # Nobody but the person ever knows their password: they set it by this link.
            staff_mail.send_setup_link(db.session, vault_keys(), user, now=moment)
            db.session.commit()
            flash(_("Account %(id)s created (%(role)s); a link to choose a password was "
                    "mailed to it.", id=user.id, role=desk_label(user.role)), "success")
            return redirect(url_for("admin.users"))
    return _users_page(form, 400)


@bp.post("/users/<int:user_id>/second-factor")
@admin_required
def reset_second_factor(user_id: int) -> Response:
    user = desk.find_user(db.session, user_id)
    if user is None:
        abort(404)
    ResetSecondFactorForm().validate_on_submit()  # CSRF is checked globally
    moment = now()
    second_factor.reset(db.session, user, now=moment, actor=staff_actor(_user()))
    staff_mail.queue_security_notice(db.session, vault_keys(), user,
                                     "staff_second_factor_reset",
                                     _("Your second factor was reset"), now=moment)
    db.session.commit()
    flash(_("The second factor of account %(id)s is reset; its owner was told by e-mail.",
            id=user_id), "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>")
@admin_required
def update_user(user_id: int) -> Response | tuple[str, int]:
    user = desk.find_user(db.session, user_id)
    if user is None:
        abort(404)
    form = UpdateUserForm()
    if not form.validate_on_submit():
        return _users_page(_create_form(submitted=False), 400,
                           {user_id: _("Choose a role and whether the account is enabled.")})
    actor, moment = staff_actor(_user()), now()
    active = form.active.data == "yes"
    try:
        # Each change is audited on its own, and only when something actually changes.
        if form.role.data != user.role:
            set_role(db.session, user, form.role.data or "", now=moment, actor=actor)
        if active != user.active:
            set_active(db.session, user, active, now=moment, actor=actor)
    except UserError as exc:
        db.session.rollback()
        return _users_page(_create_form(submitted=False), 400, {user_id: str(exc)})
    db.session.commit()
    flash(_("Account %(id)s saved.", id=user_id), "success")
    return redirect(url_for("admin.users"))


# --- erasure and export on request -----------------------------------------------------


@bp.route("/candidates/<public_id>/erase", methods=["GET", "POST"])
@admin_required
@fresh_login_required
def erase(public_id: str) -> str | tuple[str, int]:
    person = _person_or_404(public_id)
    form = EraseForm()
    if request.method == "GET":
        return render_template("admin/erase_confirm.html", person=person, form=form)
    if not form.validate_on_submit():
        return render_template("admin/erase_confirm.html", person=person, form=form), 400
    try:
        receipt = desk.erase_person(db.session, person, form.category.data or "", now=now(),
                                    due_days=_due_days(),
                                    ledger=erasure_ledger(),
                                    actor=staff_actor(_user()))
    except desk.DeskError as exc:
        db.session.rollback()
        form.category.errors = [str(exc)]
        return render_template("admin/erase_confirm.html", person=person, form=form), 409
    return render_template("admin/erased.html", receipt=receipt,
                           category=ERASURE_LABELS.get(receipt.category,
                                                       desk.ERASURE_CATEGORIES[receipt.category]))


@bp.get("/candidates/<public_id>/export.<fmt>")
@admin_required
@fresh_login_required
def export(public_id: str, fmt: str) -> Response:
    if fmt not in exports.EXPORT_FILENAMES:
        abort(404)
    recipient = request.args.get("to", "person")
    if recipient not in desk.EXPORT_RECIPIENTS:
        abort(400)
    person = _person_or_404(public_id)
    result = desk.export_person(db.session, vault_keys(), person, fmt, recipient, now=now(),
                                due_days=_due_days(), actor=staff_actor(_user()))
    db.session.commit()
    return Response(result.body, content_type=result.media_type, headers={
        "Content-Disposition": exports.content_disposition(result.filename)})


# --- audit trail -----------------------------------------------------------------------


def _audit_filter(form: AuditFilterForm) -> desk.AuditFilter:
    return desk.AuditFilter(action=form.action.data or None,
                            actor_type=form.actor_type.data or None,
                            subject=(form.subject.data or "").strip() or None,
                            date_from=form.date_from.data, date_to=form.date_to.data)


@bp.get("/audit")
@admin_required
def audit() -> tuple[str, int]:
    form = AuditFilterForm(request.args)
    broken = desk.first_broken_link(db.session)
    unanchored = desk.anchor_disagreement(db.session, Path(current_app.config["AUDIT_ANCHOR"]))
    if not form.validate():
        return render_template("admin/audit.html", form=form, page=None, broken=broken,
                               unanchored=unanchored, query={}), 400
    page = desk.audit_page(db.session, _audit_filter(form), page=form.page.data or 1,
                           page_size=AUDIT_PAGE_SIZE)
    query = {k: v for k, v in request.args.items() if k != "page" and v}
    names = staff_names.labels(db.session, (e.actor_id for e in page.events
                                            if e.actor_type == "user"))
    return render_template("admin/audit.html", form=form, page=page, broken=broken,
                           unanchored=unanchored, query=query, names=names), 200


@bp.get("/audit.csv")
@admin_required
def audit_csv() -> Response | tuple[str, int]:
    form = AuditFilterForm(request.args)
    if not form.validate():
        return render_template("admin/audit.html", form=form, page=None,
                               broken=desk.first_broken_link(db.session), unanchored=None,
                               query={}), 400
    events = desk.audit_events(db.session, _audit_filter(form))
    # Streamed: a long trail is never held in memory whole.
    return Response(stream_with_context(desk.audit_csv(events)),
                    content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="audit.csv"'})


# The API clients' pages register on this blueprint (imported last: they use bp).
from vault.admin import api_clients as _api_clients  # noqa: E402,F401
