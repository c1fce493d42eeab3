"""The applicant's journey: the form, the upload, the consents, the confirmation."""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from vault.appctx import now, vault_keys
from vault.apply import held as held_claims
from vault.apply.forms import (
    EDUCATION_REQUIRED,
    SEARCH_HINTS,
    ApplicationForm,
    SpontaneousApplicationForm,
)
from vault.apply.upload_errors import refusal
from vault.extensions import db, limiter
from vault.i18n import current_language
from vault.messages import message
from vault.models import Vacancy
from vault.privacy import NOTICE_VERSION
from vault.services import held_uploads
from vault.services.applications import ConsentChoice, receive_application
from vault.services.candidates import DocumentInput
from vault.services.held_uploads import HeldCv
from vault.services.notifications import deliver_after_response, join_names
from vault.services.vacancies import vacancy_by_slug
from vault.uploads import Limits, UploadRejected, inspect_upload

bp = Blueprint("apply", __name__)
log = logging.getLogger(__name__)
DONE_KEY = "vault_applied"
# Buttons that change the form instead of sending it (so that adding and removing
# education entries, or the CV, works without JavaScript).
ADD_EDUCATION, REMOVE_EDUCATION, REMOVE_CV = "add_education", "remove_education", "remove_cv"


def _apply_limit() -> str:
    return str(current_app.config["RATELIMIT_APPLY"])


def _edits_without_file() -> bool:
    """Adding or removing a row without a new file stores nothing and reads no upload:
    it does not count against the applicant's limit of applications."""
    return any(name in request.form for name in (ADD_EDUCATION, REMOVE_EDUCATION, REMOVE_CV)) \
        and not (request.files.get("cv") and request.files["cv"].filename)


@bp.route("/apply", methods=["GET", "POST"], defaults={"slug": None}, endpoint="form")
@bp.route("/apply/<slug>", methods=["GET", "POST"], endpoint="form")
@limiter.limit(_apply_limit, methods=["POST"], exempt_when=_edits_without_file)
def application_form(slug: str | None) -> Response | tuple[str, int]:
    vacancy = vacancy_by_slug(db.session, slug) if slug else None
    if slug and (vacancy is None or not vacancy.is_open):
        abort(404)
    form = _form(vacancy)
    held = _held(form.held_cv.data)
    if not form.is_submitted():
        return _render(form, vacancy, held), 200
    # A token was sent but opens nothing here: expired, sent already, or another
    # session's (whose share this cookie does not have).
    gone = bool(form.held_cv.data) and held is None
    upload = form.new_file()
    document, upload_error = _inspect(upload) if upload is not None else (None, None)
    if REMOVE_CV in request.form and document is None:
        _release(held)
        return _render(form, vacancy, None, focus="cv"), 200
    if ADD_EDUCATION in request.form or REMOVE_EDUCATION in request.form:
        focus = _edit_rows(form)
        held = _hold(document, held) if document is not None else held
        form.cv.errors = [upload_error] if upload_error else []
        return _render(form, vacancy, held, focus=focus), 200

    valid = form.validate(cv_held=held is not None)
    if upload_error:
        form.cv.errors = [upload_error]
    elif gone and upload is None:
        form.cv.errors = [_gone()]
    if valid and upload_error is None:
        cv = document or (_take(held) if held is not None else None)
        if cv is None:  # expired in the meantime
            form.cv.errors = [_gone()]
            held = None
        elif cv.has_text or form.cv_without_text.data:
            return _submit(form, cv, vacancy, held)
        else:
            # Told before anything is stored: a CV without text is never found by
            # search, so the applicant decides whether to send it as it is.
            form.cv.errors = [message("cv_without_text")]
    if document is not None:
        # The form comes back: keep the accepted file so it need not be chosen again.
        held = _hold(document, held)
    return _render(form, vacancy, held), 400


def _inspect(upload: FileStorage) -> tuple[DocumentInput | None, str | None]:
    """The accepted upload, or the message saying why it was refused."""
    try:
        # The upload is in memory (see vault/upload_stream.py); its type is decided from
        # its bytes, never from its name or Content-Type. Inspected even when other
        # fields have errors, so that every error is told at once.
        return inspect_upload(upload.read(), upload.filename or "",
                              limits=Limits.from_config(current_app.config)), None
    except UploadRejected as exc:
        return None, refusal(exc, upload.filename,
                             current_app.config["MAX_CONTENT_LENGTH"] // 1_000_000)


def _gone() -> str:
    return message("held_cv_gone", minutes=str(current_app.config["HELD_UPLOAD_MINUTES"]))


def _form(vacancy: Vacancy | None) -> ApplicationForm:
    if vacancy is not None:
        return ApplicationForm()
    form = SpontaneousApplicationForm()
    form.companies.choices = [(c, c) for c in current_app.config["COMPANIES"]]
    return form


def _render(form: ApplicationForm, vacancy: Vacancy | None, held: HeldCv | None,
            focus: str | None = None) -> str:
    form.held_cv.data = held.token if held is not None else ""
    ask_without_text = bool(form.cv_without_text.data) or (held is not None and
                                                           not held.has_text)
    return render_template("apply/form.html", form=form, vacancy=vacancy, held=held,
                           focus=focus, ask_without_text=ask_without_text,
                           search_hints=SEARCH_HINTS, education_required=EDUCATION_REQUIRED,
                           notice_version=NOTICE_VERSION,
                           max_mb=current_app.config["MAX_CONTENT_LENGTH"] // 1_000_000,
                           retention_days=current_app.config["APPLICATION_RETENTION_DAYS"],
                           pool_months=current_app.config["TALENT_POOL_MONTHS"])


def _edit_rows(form: ApplicationForm) -> str | None:
    """Add or remove an education entry; the id of the field to focus afterwards."""
    rows = form.education
    if ADD_EDUCATION in request.form:
        if rows.add_row():
            return str(rows.entries[-1].form.degree.id)
        return None
    try:
        position = int(request.form.get(REMOVE_EDUCATION, ""))
    except ValueError:
        return None
    rows.remove_row(position)
    return str(rows.entries[min(position, len(rows.entries) - 1)].form.degree.id)


def _held(token: str | None) -> HeldCv | None:
    claim = held_claims.claim_for(token)
    if claim is None:
        return None
    return held_uploads.peek(db.session, vault_keys().keyring, claim, now=now())


def _take(held: HeldCv) -> DocumentInput | None:
    claim = held_claims.claim_for(held.token)
    if claim is None:
        return None
    return held_uploads.take(db.session, vault_keys().keyring, claim, now=now())


def _hold(document: DocumentInput, previous: HeldCv | None) -> HeldCv:
    """Hold an accepted upload for this session, in place of the one held before."""
    if previous is not None:
        held_uploads.release(db.session, previous.token)
        held_claims.forget(previous.token)
    claim = held_uploads.hold(db.session, vault_keys().keyring, document, now=now(),
                              minutes=int(current_app.config["HELD_UPLOAD_MINUTES"]))
    for dropped in held_claims.remember(claim):
        held_uploads.release(db.session, dropped)
    db.session.commit()
    return HeldCv(claim.token, document.filename, document.has_text)


def _release(held: HeldCv | None) -> None:
    if held is not None:
        held_uploads.release(db.session, held.token)
        held_claims.forget(held.token)
        db.session.commit()


def _submit(form: ApplicationForm, document: DocumentInput,
            vacancy: Vacancy | None, held: HeldCv | None) -> Response:
    choice = ConsentChoice(talent_pool=bool(form.consent_talent_pool.data),
                           notice_version=NOTICE_VERSION,
                           pool_months=current_app.config["TALENT_POOL_MONTHS"])
    moment = now()
    companies = form.chosen() if isinstance(form, SpontaneousApplicationForm) else ()
    data = form.candidate_input(document, position=vacancy.title if vacancy else None)
    # The same service as the API's applications (record, index, consents, mail).
    candidate = receive_application(db.session, vault_keys(), data,
                                    vacancy=vacancy, companies=companies,
                                    known_companies=current_app.config["COMPANIES"],
                                    choice=choice, now=moment, language=current_language())
    if held is not None:  # sent: the held copy goes in the same transaction
        held_uploads.release(db.session, held.token)
        held_claims.forget(held.token)
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
