"""The applicant's journey: the form, the upload, the consents, the confirmation."""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from vault.appctx import now, vault_keys
from vault.apply.forms import EMPTY_ROWS_SHOWN, ApplicationForm, SpontaneousApplicationForm
from vault.extensions import db, limiter
from vault.i18n import current_language
from vault.messages import message
from vault.models import Vacancy
from vault.privacy import NOTICE_VERSION
from vault.services.applications import ConsentChoice, submit_application
from vault.services.candidates import DocumentInput
from vault.services.notifications import (
    deliver_after_response,
    join_names,
    queue_application_received,
)
from vault.services.vacancies import vacancy_by_slug
from vault.uploads import Limits, UploadRejected, inspect_upload

bp = Blueprint("apply", __name__)
log = logging.getLogger(__name__)
DONE_KEY = "vault_applied"


def _apply_limit() -> str:
    return str(current_app.config["RATELIMIT_APPLY"])


@bp.route("/apply", methods=["GET", "POST"], defaults={"slug": None}, endpoint="form")
@bp.route("/apply/<slug>", methods=["GET", "POST"], endpoint="form")
@limiter.limit(_apply_limit, methods=["POST"])
def application_form(slug: str | None) -> Response | tuple[str, int]:
    vacancy = vacancy_by_slug(db.session, slug) if slug else None
    if slug and (vacancy is None or not vacancy.is_open):
        abort(404)
    form = _form(vacancy)
    status = 200
    ask_without_text = bool(form.cv_without_text.data)
    if form.is_submitted():
        status = 400
        if form.validate():
            upload = form.cv.data
            try:
                # The upload is in memory (see vault/upload_stream.py); its type is decided
                # from its bytes, never from its name or Content-Type.
                document = inspect_upload(upload.read(), upload.filename or "",
                                          limits=Limits.from_config(current_app.config))
            except UploadRejected as exc:
                form.cv.errors = [message("upload_refused", reason=exc.reason)]
            else:
                if document.has_text or form.cv_without_text.data:
                    return _submit(form, document, vacancy)
                # Told before anything is stored: a CV without text is never found by
                # search, so the applicant decides whether to send it as it is.
                form.cv.errors = [message("cv_without_text")]
                ask_without_text = True
    return render_template("apply/form.html", form=form, vacancy=vacancy,
                           ask_without_text=ask_without_text,
                           notice_version=NOTICE_VERSION,
                           rows=max(EMPTY_ROWS_SHOWN, len(form.education.entries)),
                           retention_days=current_app.config["APPLICATION_RETENTION_DAYS"],
                           pool_months=current_app.config["TALENT_POOL_MONTHS"]), status


def _form(vacancy: Vacancy | None) -> ApplicationForm:
    if vacancy is not None:
        return ApplicationForm()
    form = SpontaneousApplicationForm()
    form.companies.choices = [(c, c) for c in current_app.config["COMPANIES"]]
    return form


def _submit(form: ApplicationForm, document: DocumentInput,
            vacancy: Vacancy | None) -> Response:
    choice = ConsentChoice(talent_pool=bool(form.consent_talent_pool.data),
                           notice_version=NOTICE_VERSION,
                           pool_months=current_app.config["TALENT_POOL_MONTHS"])
    moment = now()
    companies = form.chosen() if isinstance(form, SpontaneousApplicationForm) else ()
    candidate = submit_application(db.session, vault_keys(), form.candidate_input(document),
                                   vacancy=vacancy, companies=companies,
                                   known_companies=current_app.config["COMPANIES"],
                                   choice=choice, now=moment)
    # The mails that follow (this one, reminders, links) use the language applied in.
    candidate.language = current_language()
    # Queued in the application's own transaction: both are stored, or neither. The
    # answer never waits on a mail server, and a server that is down loses nothing.
    queue_application_received(db.session, vault_keys(), candidate, form.email.data or "",
                               moment=moment)
    db.session.commit()
    deliver_after_response()
    # Only what the confirmation page needs, none of it personal data: the cookie is
    # signed, not encrypted.
    session[DONE_KEY] = {
        "vacancy": vacancy.title if vacancy else None,
        "companies": join_names(candidate.companies),
        "pool_until": candidate.pool_consent_until.date().isoformat()
        if candidate.pool_consent_until else None,
    }
    return redirect(url_for("apply.done"))


@bp.get("/applied")
def done() -> Response | str:
    applied = session.pop(DONE_KEY, None)
    if not isinstance(applied, dict):
        return redirect(url_for("public.home"))
    return render_template("apply/done.html", applied=applied,
                           retention_days=current_app.config["APPLICATION_RETENTION_DAYS"],
                           link_days=current_app.config["LINK_MAX_AGE_DAYS"])
