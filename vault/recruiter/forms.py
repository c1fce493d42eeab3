from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, NumberRange, Optional

from vault.messages import CODE_LABELS
from vault.services.indexing import DEGREE_LEVELS
from vault.services.notes import MAX_NOTE
from vault.services.pipeline import STATUSES


class SearchForm(FlaskForm):
    """Read from the query string; no CSRF (a search changes nothing)."""

    class Meta:
        csrf = False

    q = StringField(_l("Keywords"), validators=[Optional(), Length(max=300)])
    level = SelectField(_l("Degree level"), validators=[Optional()], default="",
                        choices=[SelectChoice("", _l("Any")),
                                 *(SelectChoice(v, v.title()) for v in DEGREE_LEVELS)])
    vacancy = SelectField(_l("Vacancy"), validators=[Optional()], default="", coerce=str)
    page = IntegerField(default=1, validators=[Optional(), NumberRange(1, 10_000)])


class StatusForm(FlaskForm):
    status = SelectField(_l("Status"), choices=[SelectChoice(s, CODE_LABELS[s]) for s in STATUSES])


class NoteForm(FlaskForm):
    body = TextAreaField(_l("Add a note"), validators=[DataRequired(), Length(max=MAX_NOTE)])


class VacancyForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    location = StringField(_l("Location"), validators=[Optional(), Length(max=120)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=10000)])


class ConfirmForm(FlaskForm):
    """A POST with nothing but the CSRF token (reopening a vacancy)."""


class CloseVacancyForm(FlaskForm):
    """The confirmation step of closing a vacancy: the POST counts only with confirm=yes,
    which only the confirmation page sends (works without JavaScript)."""

    confirm = HiddenField(validators=[AnyOf(["yes"])])


class ApplicantFilterForm(FlaskForm):
    """The applicant list's query string (status filter and page); changes nothing."""

    class Meta:
        csrf = False

    status = SelectField(_l("Status"), validators=[Optional()], default="",
                         choices=[SelectChoice("", _l("Any")),
                                  *(SelectChoice(s, CODE_LABELS[s]) for s in STATUSES)])
    page = IntegerField(_l("Page"), default=1,
                        validators=[Optional(), NumberRange(1, 1_000_000)])
