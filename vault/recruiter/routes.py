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
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from vault.appctx import now, vault_keys
from vault.auth.guards import fresh_login_required, staff_required
from vault.errors import render_error
from vault.extensions import db
from vault.messages import message
from vault.models import Candidate, User, Vacancy
from vault.recruiter.back import safe_back
from vault.recruiter.forms import (
    ApplicantFilterForm,
    CloseVacancyForm,
    ConfirmForm,
    NoteForm,
    SearchForm,
    StatusForm,
    VacancyForm,
)
from vault.recruiter.paging import page_numbers
from vault.services import audit, exports, staff_names, vacancy_state
from vault.services.access import Write, may_write, note_company, note_reader, visible_candidate
from vault.services.applicant_list import applicant_page
from vault.services.candidates import find_document, open_document
from vault.services.notes import add_note
from vault.services.pipeline import set_status
from vault.services.search import COUNT_CAP, QueryRefused, search
from vault.services.users import staff_actor
from vault.services.vacancies import VacancyError, create_vacancy, update_vacancy
from vault.services.workspace import (
    candidate_view,
    company_vacancies,
    managed_vacancies,
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
    form = SearchForm(request.args)
    form.vacancy.choices = [("", _("Any")), *((str(v.id), f"{v.title} ({v.company})")
                                           for v in managed_vacancies(db.session, user))]
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
    return render_template("recruiter/candidate.html", view=view, status_form=status_form,
                           note_form=NoteForm(), back=safe_back(request.args.get("back")),
                           authors=staff_names.members(
                               db.session, (n.author_id for n in view.opened.notes)))


def _back_to_candidate(public_id: str) -> Response:
    """After a form on the candidate page: the page again, with its way back kept (only
    a checked same-site search URL, vault.recruiter.back)."""
    back = safe_back(request.form.get("back"))
    return redirect(url_for("recruiter.candidate", public_id=public_id,
                            **({"back": back} if back else {})))


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
    filename = exports.staff_filename(record, fmt, now=now())
    return Response(body, content_type=exports.MEDIA_TYPES[fmt], headers={
        "Content-Disposition": exports.content_disposition(filename)})


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
    return _back_to_candidate(public_id)


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
    return _back_to_candidate(public_id)


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
            flash(_("Vacancy opened."), "success")
            return redirect(url_for("recruiter.vacancy", slug=vacancy.slug))
    return render_template("recruiter/vacancy_form.html", form=form, vacancy=None), (
        400 if form.is_submitted() else 200)


def _managed_or_404(slug: str) -> Vacancy:
    found = managed_vacancy(db.session, _user(), slug)
    if found is None:
        abort(404)
    return found


@bp.get("/vacancies/<slug>")
@staff_required
def vacancy(slug: str) -> tuple[str, int]:
    found = _managed_or_404(slug)
    form = ApplicantFilterForm(request.args)
    code, problem = 200, None
    if not form.validate():
        # A hand-made or stale query string: say so, and show everyone from page 1.
        code, problem = 400, _("That filter or page was not understood: all applicants "
                               "are shown, from the first page.")
        form = ApplicantFilterForm(formdata=None)
    page = applicant_page(db.session, vault_keys(), found, status=form.status.data or None,
                          page=form.page.data or 1)
    query = {"status": page.status} if page.status else {}
    return render_template("recruiter/vacancy.html", vacancy=found, page=page, query=query,
                           filter_form=form, problem=problem,
                           reopen_form=ConfirmForm() if vacancy_state.may_reopen(
                               _user(), found) else None), code


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
            flash(_("Vacancy saved."), "success")
            return redirect(url_for("recruiter.vacancy", slug=slug))
    return render_template("recruiter/vacancy_form.html", form=form, vacancy=found), (
        400 if form.is_submitted() else 200)


@bp.route("/vacancies/<slug>/close", methods=["GET", "POST"])
@staff_required
def close(slug: str) -> Response | str:
    """GET: the confirmation page. POST: close, only with the confirmation page's
    confirm=yes (a bare POST, an old form, shows the confirmation instead)."""
    found = _managed_or_404(slug)
    if not found.is_open:
        flash(_("This vacancy is already closed."), "info")
        return redirect(url_for("recruiter.vacancy", slug=slug))
    form = CloseVacancyForm()
    if request.method == "POST" and form.validate_on_submit():
        vacancy_state.close(db.session, _user(), found, now=now())
        db.session.commit()
        flash(_("Vacancy closed: its applications are kept for the retention period, "
                "then erased. You can reopen it from its page."), "success")
        return redirect(url_for("recruiter.vacancy", slug=slug))
    return render_template("recruiter/vacancy_close.html", vacancy=found,
                           form=CloseVacancyForm(formdata=None, data={"confirm": "yes"}))


@bp.post("/vacancies/<slug>/reopen")
@staff_required
def reopen(slug: str) -> Response | tuple[str, int]:
    found = _managed_or_404(slug)
    if not vacancy_state.may_reopen(_user(), found):
        return render_error(403, _("Only recruiters of this vacancy's company can reopen "
                                   "it. Nothing was changed."))
    if ConfirmForm().validate_on_submit():
        if vacancy_state.reopen(db.session, _user(), found, now=now()):
            db.session.commit()
            flash(_("Vacancy reopened: it takes applications again."), "success")
        else:
            flash(_("This vacancy is already open."), "info")
    return redirect(url_for("recruiter.vacancy", slug=slug))
