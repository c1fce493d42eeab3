"""The recruiter's workspace: search, candidates, CVs, notes, status, vacancies.

Every view that opens personal data first finds the record through the access rule
(vault.services.access); a record the user may not see is a 404, indistinguishable
from one that does not exist.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response

from vault.appctx import now, vault_keys
from vault.auth.guards import fresh_login_required, staff_required
from vault.errors import render_error
from vault.extensions import db
from vault.messages import message
from vault.models import Candidate, User
from vault.recruiter.forms import ConfirmForm, NoteForm, SearchForm, StatusForm, VacancyForm
from vault.recruiter.paging import page_numbers
from vault.services import audit, exports, staff_names
from vault.services.access import Write, may_write, note_company, note_reader, visible_candidate
from vault.services.candidates import find_document, open_document
from vault.services.notes import add_note
from vault.services.pipeline import set_status
from vault.services.search import COUNT_CAP, QueryRefused, search
from vault.services.users import staff_actor
from vault.services.vacancies import (
    VacancyError,
    close_vacancy,
    create_vacancy,
    update_vacancy,
)
from vault.services.workspace import (
    applicants,
    candidate_view,
    company_vacancies,
    managed_vacancy,
)

bp = Blueprint("recruiter", __name__)


def _user() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined,no-any-return]


def _visible_or_404(public_id: str) -> Candidate:
    candidate = visible_candidate(db.session, _user(), public_id, now())
    if candidate is None:
        abort(404)
    return candidate


def _refused(record: Candidate, what: Write) -> tuple[str, int] | None:
    """The write rule (vault.services.access.may_write) for a record already found
    visible: None when allowed, else the 403 page, with the refusal in the audit trail."""
    user = _user()
    if may_write(db.session, user, record, what, now()):
        return None
    audit.record(db.session, staff_actor(user), audit.WRITE_REFUSED, now=now(),
                 subject=record.public_id, detail=what)
    db.session.commit()
    return render_error(403, message(f"{what}_not_yours"))


@bp.get("/candidates")
@staff_required
def candidates() -> str | tuple[str, int]:
    user = _user()
    vacancies = company_vacancies(db.session, user)
    form = SearchForm(request.args)
    form.vacancy.choices = [("", "Any"), *((str(v.id), f"{v.title} ({v.company})")
                                           for v, _n in vacancies)]
    if not form.validate():
        return render_template("recruiter/candidates.html", form=form, page=None), 400
    try:
        result = search(db.session, vault_keys(), user, q=form.q.data or "",
                        degree_level=form.level.data or None,
                        vacancy_id=int(form.vacancy.data) if form.vacancy.data else None,
                        page=form.page.data or 1,
                        page_size=current_app.config["SEARCH_PAGE_SIZE"], now=now())
    except QueryRefused:
        form.q.errors = [message("query_no_words")]
        return render_template("recruiter/candidates.html", form=form, page=None), 400
    # The query may hold a name: only its size is recorded.
    audit.record(db.session, staff_actor(user), audit.SEARCH_PERFORMED, now=now(),
                 detail=f"words={result.words} results={result.total_estimate}")
    db.session.commit()
    return render_template("recruiter/candidates.html", form=form, page=result,
                           count_cap=COUNT_CAP, page_numbers=page_numbers(
                               result.page, result.last_page, result.has_next))


@bp.get("/candidates/<public_id>")
@staff_required
def candidate(public_id: str) -> str:
    record = _visible_or_404(public_id)
    view = candidate_view(db.session, vault_keys(), _user(), record, now())
    audit.record(db.session, staff_actor(_user()), audit.CANDIDATE_VIEWED, now=now(),
                 subject=public_id)
    db.session.commit()
    status_form = StatusForm(data={"status": record.status}) if view.can_set_status else None
    # Notes are read by their company's staff and the officer: they see who wrote each.
    authors = staff_names.labels(db.session, (n.author_id for n in view.opened.notes))
    return render_template("recruiter/candidate.html", view=view, status_form=status_form,
                           note_form=NoteForm(), authors=authors)


@bp.get("/candidates/<public_id>/cv")
@staff_required
def cv(public_id: str) -> Response:
    record = _visible_or_404(public_id)
    document = find_document(record)
    if document is None:
        abort(404)
    _name, media_type, content = open_document(vault_keys(), record, document)
    audit.record(db.session, staff_actor(_user()), audit.CV_DOWNLOADED, now=now(),
                 subject=public_id)
    db.session.commit()
    # The app's own name in the header: the original could smuggle quotes or paths.
    return Response(content, mimetype=media_type, headers={
        "Content-Disposition": f'attachment; filename="{document.stored_name}"',
        "X-Content-Type-Options": "nosniff"})


@bp.get("/candidates/<public_id>/export.<fmt>")
@fresh_login_required
def export(public_id: str, fmt: str) -> Response:
    record = _visible_or_404(public_id)
    if fmt not in exports.EXPORT_FILENAMES:
        abort(404)
    # Only this record: other records of the person may be outside this user's rights;
    # and only the notes this user may read, as on the screen.
    body = exports.render(db.session, vault_keys(), [record], fmt, now=now(),
                          note_filter=note_reader(_user()))
    audit.record(db.session, staff_actor(_user()), audit.CANDIDATE_EXPORTED, now=now(),
                 subject=public_id, detail=fmt)
    db.session.commit()
    return Response(body, content_type=exports.MEDIA_TYPES[fmt], headers={
        "Content-Disposition": f'attachment; filename="{exports.EXPORT_FILENAMES[fmt]}"'})


@bp.post("/candidates/<public_id>/status")
@staff_required
def update_status(public_id: str) -> Response | tuple[str, int]:
    record = _visible_or_404(public_id)
    refused = _refused(record, "status")
    if refused is not None:
        return refused
    form = StatusForm()
    if form.validate_on_submit():
        set_status(db.session, _user(), record, form.status.data or "", now=now())
        db.session.commit()
        flash(message("status_saved"), "success")
    else:
        flash(message("status_unknown"), "error")
    return redirect(url_for("recruiter.candidate", public_id=public_id))


@bp.post("/candidates/<public_id>/notes")
@staff_required
def note(public_id: str) -> Response | tuple[str, int]:
    record = _visible_or_404(public_id)
    refused = _refused(record, "note")
    if refused is not None:
        return refused
    form = NoteForm()
    if form.validate_on_submit():
        add_note(db.session, vault_keys(), record, form.body.data or "",
                 author=staff_actor(_user()), company=note_company(_user()), now=now())
        db.session.commit()
        flash(message("note_saved"), "success")
    else:
        flash(message("note_invalid"), "error")
    return redirect(url_for("recruiter.candidate", public_id=public_id))


@bp.get("/vacancies")
@staff_required
def vacancies() -> str:
    return render_template("recruiter/vacancies.html",
                           vacancies=company_vacancies(db.session, _user()))


@bp.route("/vacancies/new", methods=["GET", "POST"])
@staff_required
def new_vacancy() -> Response | tuple[str, int]:
    form = VacancyForm()
    if form.validate_on_submit():
        try:
            vacancy = create_vacancy(db.session, company=_user().company,
                                     title=form.title.data or "", details=form.details(),
                                     companies=current_app.config["COMPANIES"], now=now())
        except VacancyError as exc:
            form[exc.field].errors = [str(exc)]
        else:
            db.session.commit()
            flash("Vacancy opened.", "success")
            return redirect(url_for("recruiter.vacancy", slug=vacancy.slug))
    return render_template("recruiter/vacancy_form.html", form=form, vacancy=None), (
        400 if form.is_submitted() else 200)


@bp.get("/vacancies/<slug>")
@staff_required
def vacancy(slug: str) -> str:
    found = managed_vacancy(db.session, _user(), slug)
    if found is None:
        abort(404)
    return render_template("recruiter/vacancy.html", vacancy=found,
                           applicants=applicants(db.session, vault_keys(), found),
                           close_form=ConfirmForm())


@bp.route("/vacancies/<slug>/edit", methods=["GET", "POST"])
@staff_required
def edit_vacancy(slug: str) -> Response | tuple[str, int]:
    found = managed_vacancy(db.session, _user(), slug)
    if found is None:
        abort(404)
    form = VacancyForm(obj=found)
    if form.validate_on_submit():
        try:
            update_vacancy(found, title=form.title.data or "", details=form.details(),
                           companies=current_app.config["COMPANIES"], now=now())
        except VacancyError as exc:
            form[exc.field].errors = [str(exc)]
        else:
            db.session.commit()
            flash("Vacancy saved.", "success")
            return redirect(url_for("recruiter.vacancy", slug=slug))
    return render_template("recruiter/vacancy_form.html", form=form, vacancy=found), (
        400 if form.is_submitted() else 200)


@bp.post("/vacancies/<slug>/close")
@staff_required
def close(slug: str) -> Response:
    found = managed_vacancy(db.session, _user(), slug)
    if found is None:
        abort(404)
    if ConfirmForm().validate_on_submit():
        close_vacancy(found, now=now())
        db.session.commit()
        flash("Vacancy closed: its applications are kept for the retention period, "
              "then erased.", "success")
    return redirect(url_for("recruiter.vacancy", slug=slug))


