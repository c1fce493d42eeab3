"""Self-service: what the personal link opens. No account; the signed link is the key.

State changes are POST with CSRF only; a GET shows or downloads and records that it
did (an access or export request, fulfilled at once), never changes the person's data.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response

from vault.appctx import erasure_ledger, now, secret_keys, vault_keys
from vault.candidate.forms import ActionForm, CorrectionForm, LinkRequestForm, ObjectionForm
from vault.extensions import db, limiter
from vault.i18n import show_date
from vault.messages import message
from vault.personal_links import refused_link_limit, self_service_token
from vault.privacy import NOTICE_VERSION
from vault.services import exports, history, identity, links, plain_words, self_service
from vault.services.candidates import open_candidate
from vault.services.notifications import (
    deliver_after_response,
    queue_email_change,
    queue_link_request,
)

bp = Blueprint("candidate", __name__)


def _link_limit() -> str:
    return str(current_app.config["RATELIMIT_LINK_REQUEST"])


@bp.route("/my-data", methods=["GET", "POST"])
@limiter.limit(_link_limit, methods=["POST"])
def request_link() -> Response | tuple[str, int]:
    form = LinkRequestForm()
    if form.validate_on_submit():
        address = (form.email.data or "").strip()
        # The same answer and the same work whether or not the address is known: the
        # request is sealed and queued as it is, and only the sender, after this
        # response, looks the address up, revokes the person's older links and asks
        # imported records to confirm (no enumeration, not even by timing).
        queue_link_request(db.session, vault_keys(), address, moment=now())
        db.session.commit()
        deliver_after_response()
        flash(message("link_sent"), "success")
        return redirect(url_for("candidate.request_link"))
    return render_template("candidate/request_link.html", form=form), (
        400 if form.is_submitted() else 200)


def _problem(status: int, key: str) -> tuple[str, int]:
    return render_template("candidate/link_problem.html", text=message(key)), status


def with_person(view: Callable[..., Any]) -> Callable[..., Any]:
    """Resolve the token to the person, or answer with a friendly page that changes nothing."""

    @wraps(view)
    def wrapped(token: str, **kwargs: Any) -> Any:
        try:
            person = self_service.resolve(
                db.session, token, purpose=links.SELF_SERVICE, secret_keys=secret_keys(),
                max_age_days=current_app.config["LINK_MAX_AGE_DAYS"], clock=now)
        except links.LinkError as exc:
            return _link_problem(exc)
        except self_service.NothingHeld:
            return _problem(404, "nothing_held")
        return view(token, person, **kwargs)

    return wrapped


def _link_problem(exc: links.LinkError) -> tuple[str, int]:
    if exc.problem is links.LinkProblem.EXPIRED:
        return _problem(410, "link_expired")
    if exc.problem is links.LinkProblem.REVOKED:
        return _problem(410, "link_replaced")
    return _problem(404, "link_invalid")


def _due_days() -> int:
    return int(current_app.config["REQUEST_DUE_DAYS"])


def _change_hours() -> int:
    return int(current_app.config["EMAIL_CHANGE_MAX_AGE_HOURS"])


@bp.get("/my-data/<token>", endpoint="page")
@refused_link_limit
@with_person
def page(token: str, person: self_service.Person) -> str:
    self_service.log_fulfilled(db.session, person, "access", now=now(), due_days=_due_days())
    db.session.commit()
    return _page(token, person, ObjectionForm())


def _page(token: str, person: self_service.Person, objection_form: ObjectionForm) -> str:
    document = exports.build_export(db.session, vault_keys(), person.records, now=now())
    staff_access = {r["public_id"]: history.group_staff_access(
        history.staff_access_of(r["staff_access"])) for r in document["records"]}
    return render_template("candidate/page.html", token=token, document=document,
                           history=self_service.history(db.session, person),
                           staff_access=staff_access,
                           application_status=plain_words.application_status,
                           pool_live=any(r.pool_consent_until and r.pool_consent_until > now()
                                         for r in person.records),
                           action_form=ActionForm(), objection_form=objection_form)


@bp.get("/my-data/<token>/export.<fmt>", endpoint="export")
@refused_link_limit
@with_person
def export(token: str, person: self_service.Person, fmt: str) -> Response | tuple[str, int]:
    if fmt not in exports.EXPORT_FILENAMES:
        return _problem(404, "link_invalid")
    body = exports.render(db.session, vault_keys(), person.records, fmt, now=now())
    self_service.log_fulfilled(db.session, person, "export", now=now(), due_days=_due_days())
    db.session.commit()
    filename = exports.download_filename(person.records, fmt, now=now())
    return Response(body, content_type=exports.MEDIA_TYPES[fmt], headers={
        "Content-Disposition": exports.content_disposition(filename)})


@bp.route("/my-data/<token>/correct", methods=["GET", "POST"], endpoint="correct")
@refused_link_limit
@with_person
def correct(token: str, person: self_service.Person) -> Response | tuple[str, int]:
    form = CorrectionForm()
    record = person.record(form.record.data if form.is_submitted()
                           else request.args.get("record"))
    if record is None:
        return _problem(404, "link_invalid")
    if form.is_submitted():
        if form.validate():
            ticket = self_service.correct(
                db.session, vault_keys(), person, record, form.correction(), now=now(),
                due_days=_due_days(), secret_keys=secret_keys(), change_hours=_change_hours())
            if ticket is not None:
                queue_email_change(db.session, vault_keys(), record, ticket)
            db.session.commit()
            flash(message("corrected"), "success")
            if ticket is not None:
                deliver_after_response()
                flash(message("email_change_sent"), "success")
            return redirect(url_for("candidate.page", token=token))
        status = 400
    else:
        opened = open_candidate(vault_keys(), record, with_notes=False)
        form = CorrectionForm(data={
            "record": record.public_id, "full_name": opened.full_name, "email": opened.email,
            "phone": opened.phone, "position": opened.position, "interests": opened.interests,
            "education": [{"degree": e.degree, "field": e.field, "institution": e.institution,
                           "year": e.year} for e in opened.education] or [{}]})
        status = 200
    return render_template("candidate/correct.html", form=form, token=token), status


@bp.post("/my-data/<token>/withdraw", endpoint="withdraw")
@refused_link_limit
@with_person
def withdraw(token: str, person: self_service.Person) -> Response | tuple[str, int]:
    if not ActionForm().validate_on_submit():
        return _problem(400, "csrf")
    ended = self_service.withdraw_pool(db.session, person, notice_version=NOTICE_VERSION,
                                       now=now(), due_days=_due_days())
    db.session.commit()
    flash(message("withdrawn" if ended else "nothing_to_withdraw"), "success")
    return redirect(url_for("candidate.page", token=token))


@bp.post("/my-data/<token>/object", endpoint="object")
@refused_link_limit
@with_person
def object_to_processing(token: str, person: self_service.Person) -> Response | tuple[str, int]:
    form = ObjectionForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            return _problem(400, "csrf")
        # The page again, the objection's error beside it and the text kept: nothing stored.
        db.session.rollback()
        return _page(token, person, form), 400
    request_row = self_service.object_to_processing(
        db.session, vault_keys(), person, form.reason.data or "", now=now(),
        due_days=_due_days())
    db.session.commit()
    flash(message("objection_logged", due=show_date(request_row.due_at)), "success")
    return redirect(url_for("candidate.page", token=token))


@bp.route("/my-data/<token>/erase", methods=["GET", "POST"], endpoint="erase")
@refused_link_limit
@with_person
def erase(token: str, person: self_service.Person) -> Response | str | tuple[str, int]:
    form = ActionForm()
    if request.method == "GET":
        return render_template("candidate/erase_confirm.html", form=form, token=token,
                               count=len(person.records))
    if not form.validate_on_submit():
        return _problem(400, "csrf")
    receipt = self_service.erase(db.session, person, now=now(), due_days=_due_days(),
                                 ledger=erasure_ledger())
    return render_template("candidate/erased.html", receipt=receipt)


@bp.route("/my-data/confirm-email/<token>", methods=["GET", "POST"], endpoint="confirm_email")
@refused_link_limit
def confirm_email(token: str) -> Response | str | tuple[str, int]:
    """A page with a button, then POST: mail scanners that open links must not use up
    a single-use link or change anyone's address."""
    form = ActionForm()
    try:
        if request.method == "GET":
            identity.pending_change(db.session, token, secret_keys=secret_keys(), now=now(),
                                    max_age_hours=_change_hours())
            return render_template("candidate/confirm_email.html", form=form, token=token)
        if not form.validate_on_submit():
            return _problem(400, "csrf")
        confirmed = identity.confirm_email_change(
            db.session, vault_keys(), token, secret_keys=secret_keys(), now=now(),
            max_age_hours=_change_hours())
    except links.LinkError as exc:
        db.session.rollback()
        return _problem(410 if exc.problem is links.LinkProblem.EXPIRED else 404,
                        "confirmation_expired" if exc.problem is links.LinkProblem.EXPIRED
                        else "confirmation_invalid")
    db.session.commit()
    flash(message("email_confirmed"), "success")
    # The address is proven and every older link revoked: this one is the person's new key.
    return redirect(url_for("candidate.page",
                            token=self_service_token(confirmed.anchor.public_id)))
