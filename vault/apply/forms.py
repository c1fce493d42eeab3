"""The application form. Field names are part of the interface contract (DESIGN.md)."""

from __future__ import annotations

from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage
from wtforms import (
    BooleanField,
    EmailField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.fields import IntegerField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from vault.messages import message
from vault.services.candidates import (
    GENDERS,
    MAX_AGE,
    MAX_EDUCATION,
    MAX_EDUCATION_FIELD,
    MAX_EMAIL,
    MAX_INTERESTS,
    MAX_NAME,
    MAX_PHONE,
    MAX_POSITION,
    MIN_AGE,
    PHONE_PATTERN,
    YEAR_PATTERN,
    CandidateInput,
    DocumentInput,
    EducationInput,
    UnknownCompany,
    chosen_companies,
)

GENDER_LABELS = {"female": _l("Female"), "male": _l("Male"), "non-binary": _l("Non-binary"),
                 "other": _l("Other")}
GENDER_CHOICES = [SelectChoice("", _l("Prefer not to say")),
                  *(SelectChoice(value, GENDER_LABELS.get(value, value.capitalize()))
                    for value in GENDERS)]
EMPTY_ROWS_SHOWN = 1

# What recruiters' search finds, said next to each field (vault/services/indexing.py is
# the truth: tests/apply/test_search_hints.py fails when the two disagree).
SEARCHABLE = _l("Recruiters can find you by this in search.")
SEARCHABLE_EXACT = _l("Recruiters can find you by the exact address only, never by part of it.")
NOT_SEARCHABLE = _l("Not searchable.")
SEARCH_HINTS = {
    "full_name": SEARCHABLE, "email": SEARCHABLE_EXACT, "phone": NOT_SEARCHABLE,
    "position": SEARCHABLE, "cv": SEARCHABLE, "degree": SEARCHABLE, "field": SEARCHABLE,
    "institution": SEARCHABLE, "year": NOT_SEARCHABLE, "age": NOT_SEARCHABLE,
    "gender": NOT_SEARCHABLE, "interests": SEARCHABLE,
}
# Education entries: these three are needed for each entry that is started.
EDUCATION_REQUIRED = ("degree", "field", "institution")


def valid_email(_form: Any, field: Any) -> None:
    try:
        validate_email(field.data or "", check_deliverability=False)
    except EmailNotValidError:
        raise ValidationError(_l("Please enter a valid e-mail address.")) from None


class EducationForm(Form):
    degree = StringField(_l("Degree"), validators=[Length(max=MAX_EDUCATION_FIELD)])
    field = StringField(_l("Field of study"), validators=[Length(max=MAX_EDUCATION_FIELD)])
    institution = StringField(_l("Institution"), validators=[Length(max=MAX_EDUCATION_FIELD)])
    year = StringField(_l("Year"), validators=[Optional(), Regexp(
        rf"^(?:{YEAR_PATTERN})$", message=_l("Enter a year such as 2019, or leave it empty."))])

    def is_blank(self) -> bool:
        return not any((f.data or "").strip()
                       for f in (self.degree, self.field, self.institution, self.year))


# What to do about a started education entry that lacks one of its needed fields.
_MISSING_IN_ENTRY = {
    "degree": _l("Enter the degree, or leave this whole education entry empty."),
    "field": _l("Enter the field of study, or leave this whole education entry empty."),
    "institution": _l("Enter the institution, or leave this whole education entry empty."),
}


class EducationRows(FieldList):
    """A FieldList that notices more rows than allowed instead of silently dropping them."""

    submitted_rows = 0

    def process(self, formdata: Any, data: Any = None, extra_filters: Any = None) -> None:
        if formdata:
            self.submitted_rows = len(set(self._extract_indices(self.name, formdata)))
        super().process(formdata, data or (), extra_filters=extra_filters)

    def too_many(self) -> str | None:
        if self.submitted_rows > MAX_EDUCATION:
            return str(_l("At most %(count)s education entries, please.", count=MAX_EDUCATION))
        return None

    def add_row(self) -> bool:
        """One more empty row (the form's "Add another education"); False at the maximum."""
        if len(self.entries) >= MAX_EDUCATION:
            return False
        self.append_entry()
        return True

    def remove_row(self, position: int) -> None:
        """Drop the row at this position (0-based) and number the rest again, keeping
        what they hold; an empty row stays when none is left."""
        rows = [entry.data for entry in self.entries]
        if 0 <= position < len(rows):
            del rows[position]
        self.entries = []
        self.last_index = -1
        for data in rows or [{}]:
            self.append_entry(data)

    def filled(self) -> list[Any]:
        return [row for row in self.entries if not row.form.is_blank()]

    def check_filled_rows(self) -> bool:
        """A row that is started must have its degree, field and institution."""
        valid = True
        for row in self.filled():
            for name, missing in _MISSING_IN_ENTRY.items():
                sub = row.form[name]
                if not (sub.data or "").strip():
                    sub.errors = [*sub.errors, missing]
                    valid = False
        return valid

    def inputs(self) -> tuple[EducationInput, ...]:
        return tuple(EducationInput(*((row.form[name].data or "").strip()
                                      for name in ("degree", "field", "institution", "year")))
                     for row in self.filled())


NAME_VALIDATORS = [DataRequired(), Length(max=MAX_NAME)]
EMAIL_VALIDATORS = [DataRequired(), Length(max=MAX_EMAIL), valid_email]
PHONE_VALIDATORS = [Optional(), Length(max=MAX_PHONE),
                    Regexp(rf"^(?:{PHONE_PATTERN})$",
                           message=_l("Digits, spaces and + ( ) . / - only."))]
INTERESTS_VALIDATORS = [Optional(), Length(max=MAX_INTERESTS)]


class ApplicationForm(FlaskForm):
    """The form of an application to a vacancy (the position is the vacancy's)."""

    full_name = StringField(_l("Full name"), validators=[DataRequired(_l("Enter your full name.")),
                                                         Length(max=MAX_NAME)])
    email = EmailField(_l("E-mail"), validators=[
        DataRequired(_l("Enter your e-mail address: we send the confirmation there.")),
        Length(max=MAX_EMAIL), valid_email])
    phone = TelField(_l("Phone"), validators=PHONE_VALIDATORS)
    # Required, but checked in validate(): a CV held from an earlier try counts
    # (services.held_uploads).
    cv = FileField(_l("CV (PDF or Word)"))
    # The token of the CV held from an earlier try; it opens only with this session's
    # share (vault/apply/held.py).
    held_cv = HiddenField()
    education = EducationRows(FormField(EducationForm), _l("Education"),
                              min_entries=EMPTY_ROWS_SHOWN, max_entries=MAX_EDUCATION)
    age = IntegerField(_l("Age"), validators=[Optional(), NumberRange(
        MIN_AGE, MAX_AGE, _l("Enter an age from %(min)s to %(max)s, or leave it empty."))])
    gender = SelectField(_l("Gender"), choices=GENDER_CHOICES, default="", validate_choice=True)
    interests = TextAreaField(_l("Skills and interests"), validators=INTERESTS_VALIDATORS)
    consent_application = BooleanField(
        _l("Consent to process your application"),
        validators=[InputRequired(_l("We need your consent to process your application."))])
    consent_talent_pool = BooleanField(_l("Talent pool"), default=False)
    # Shown once a CV without readable text came back: the applicant sends it anyway (it
    # is kept, but search will not find it) or picks another file.
    cv_without_text = BooleanField(_l("Send this CV even though it cannot be searched"),
                                   default=False)

    def new_file(self) -> FileStorage | None:
        """The file sent with this request, if one was chosen."""
        data = self.cv.data
        return data if isinstance(data, FileStorage) and data.filename else None

    def validate(self, extra_validators: Any = None, *, cv_held: bool = False) -> bool:
        valid = super().validate(extra_validators)
        if self.new_file() is None and not cv_held:
            self.cv.errors = [*self.cv.errors, _l("Attach your CV: a PDF or Word file (.docx).")]
            valid = False
        too_many = self.education.too_many()
        if too_many:
            self.form_errors.append(too_many)
            return False
        if not self.education.filled():
            # On the first row's first field, so the error summary links to it.
            first = self.education.entries[0].form.degree
            first.errors = [*first.errors, _l("Enter at least one education entry: degree, "
                                              "field of study and institution.")]
            return False
        return self.education.check_filled_rows() and valid

    def position_sought(self) -> str:
        return ""

    def candidate_input(self, cv: DocumentInput, position: str | None = None) -> CandidateInput:
        """The application's data; an application to a vacancy passes the vacancy's title
        as the position sought."""
        def text(value: str | None) -> str:
            return (value or "").strip()

        return CandidateInput(
            full_name=text(self.full_name.data), email=text(self.email.data),
            phone=text(self.phone.data),
            position=text(position if position is not None else self.position_sought()),
            age=str(self.age.data) if self.age.data is not None else "",
            gender=text(self.gender.data), interests=text(self.interests.data),
            education=self.education.inputs(), cv=cv)


class CompanyChoice(SelectMultipleField):
    """One checkbox per company of the group."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SpontaneousApplicationForm(ApplicationForm):
    """A spontaneous application names the companies it is for: their recruiters see and
    decide it (vault.services.access). An application to a vacancy needs no such field:
    it is for the vacancy's company."""

    position = StringField(_l("Position sought"), validators=[
        DataRequired(_l("Enter the kind of position you are looking for.")),
        Length(max=MAX_POSITION)])
    # Choices are the configured companies, set by the view; validate_companies checks
    # them (with messages of our own) instead of WTForms' generic "not a valid choice".
    companies = CompanyChoice(_l("Which company is your application for?"),
                              validate_choice=False)

    def validate_companies(self, field: Any) -> None:
        try:
            chosen_companies(field.data or (), [value for value, _label in field.choices])
        except UnknownCompany:
            raise ValidationError(message("companies_unknown")) from None
        except ValueError:
            raise ValidationError(message("companies_required")) from None

    def position_sought(self) -> str:
        return self.position.data or ""

    def chosen(self) -> tuple[str, ...]:
        """The valid choice, in alphabetical order (call after validate())."""
        return chosen_companies(self.companies.data or (),
                                [value for value, _label in self.companies.choices])
