from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, NumberRange, Optional

from vault.messages import CODE_LABELS
from vault.services.indexing import DEGREE_LEVELS
from vault.services.notes import MAX_NOTE
from vault.services.pipeline import STATUSES
from vault.services.search import MAX_PAGE
from vault.services.vacancies import (
    CONTRACT_TYPES,
    DESCRIPTION_MAX,
    HOURS_MAX,
    HOURS_MIN,
    LOCATION_MAX,
    VacancyDetails,
)

# The levels the search recognises (vault.services.indexing), in the reader's language.
DEGREE_LEVEL_WORDS = {
    "secondary": _l("Secondary education"),
    "bachelor": _l("Bachelor"),
    "master": _l("Master"),
    "doctorate": _l("Doctorate"),
}


class SearchForm(FlaskForm):
    """Read from the query string; no CSRF (a search changes nothing)."""

    class Meta:
        csrf = False

    q = StringField(_l("Keywords"), validators=[Optional(), Length(max=300)])
    level = SelectField(_l("Degree level"), validators=[Optional()], default="",
                        choices=[SelectChoice("", _l("Any")),
                                 *(SelectChoice(v, DEGREE_LEVEL_WORDS[v]) for v in DEGREE_LEVELS)])
    vacancy = SelectField(_l("Vacancy"), validators=[Optional()], default="", coerce=str)
    page = IntegerField(default=1, validators=[Optional(), NumberRange(1, MAX_PAGE)])


class StatusForm(FlaskForm):
    status = SelectField(_l("Status"), choices=[SelectChoice(s, CODE_LABELS[s]) for s in STATUSES])


class NoteForm(FlaskForm):
    body = TextAreaField(_l("Add a note"), validators=[DataRequired(), Length(max=MAX_NOTE)])


class VacancyForm(FlaskForm):
    """The same limits as vault.services.vacancies, which checks again (the CLI too)."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    location = StringField(_l("Location"), validators=[Optional(), Length(max=LOCATION_MAX)])
    contract_type = SelectField(_l("Contract type"), default="",
                                choices=[SelectChoice("", _l("Not stated")),
                                         *(SelectChoice(c, CODE_LABELS[c])
                                           for c in CONTRACT_TYPES)])
    hours_per_week = IntegerField(
        _l("Hours a week"), validators=[Optional(), NumberRange(
            HOURS_MIN, HOURS_MAX, message=_l("Enter a whole number from %(min)s to %(max)s."))])
    posted_on = DateField(_l("Date posted"), validators=[Optional()])
    description = TextAreaField(_l("Description"),
                                validators=[Optional(), Length(max=DESCRIPTION_MAX)])

    def details(self) -> VacancyDetails:
        return VacancyDetails(location=self.location.data or "",
                              description=self.description.data or "",
                              contract_type=self.contract_type.data or "",
                              hours_per_week=self.hours_per_week.data,
                              posted_on=self.posted_on.data)


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
