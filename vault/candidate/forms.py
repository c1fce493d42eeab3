from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    FormField,
    HiddenField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from vault.apply.forms import (
    EMAIL_VALIDATORS,
    INTERESTS_VALIDATORS,
    NAME_VALIDATORS,
    PHONE_VALIDATORS,
    EducationForm,
    EducationRows,
    valid_email,
)
from vault.services.candidates import MAX_EDUCATION, MAX_EMAIL, MAX_POSITION, Correction


class LinkRequestForm(FlaskForm):
    email = EmailField(_l("Your e-mail address"),
                       validators=[DataRequired(), Length(max=MAX_EMAIL), valid_email])


class ActionForm(FlaskForm):
    """Withdraw and erase: nothing to fill in but the CSRF token."""


MAX_OBJECTION = 2000


class ObjectionForm(FlaskForm):
    # An empty objection gives the privacy officer nothing to decide on: refused.
    reason = TextAreaField(_l("What do you object to?"), validators=[
        DataRequired(_l("Please say what you object to: an empty objection cannot be sent. "
                        "Nothing was recorded.")),
        Length(max=MAX_OBJECTION, message=_l("Please keep your objection under %(max)d "
                                              "characters. Nothing was recorded."))])


class CorrectionEducationForm(EducationForm):
    """An education row of the correction form, which the person may remove."""

    # Any value sent counts as ticked: a row copied by apply.js carries an empty one.
    remove = BooleanField(_l("Remove this entry"), false_values=(False, "false"))

    def removed(self) -> bool:
        return bool(self.remove.data)

    def is_blank(self) -> bool:
        # A removed row is left out like an empty one, whatever it still holds.
        return self.removed() or super().is_blank()

    def validate(self, extra_validators: Any = None) -> bool:
        return True if self.removed() else super().validate(extra_validators)


class CorrectionForm(FlaskForm):
    record = HiddenField()
    full_name = StringField(_l("Full name"), validators=NAME_VALIDATORS)
    email = EmailField(_l("E-mail"), validators=EMAIL_VALIDATORS)
    phone = TelField(_l("Phone"), validators=PHONE_VALIDATORS)
    position = StringField(_l("Position sought"), validators=[Optional(), Length(max=MAX_POSITION)])
    interests = TextAreaField(_l("Skills and interests"), validators=INTERESTS_VALIDATORS)
    education = EducationRows(FormField(CorrectionEducationForm), min_entries=1,
                              max_entries=MAX_EDUCATION)

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        too_many = self.education.too_many()
        if too_many:
            self.form_errors.append(too_many)
            return False
        return self.education.check_filled_rows() and valid

    def correction(self) -> Correction:
        def text(value: str | None) -> str:
            return (value or "").strip()

        return Correction(
            full_name=text(self.full_name.data), email=text(self.email.data),
            phone=text(self.phone.data), position=text(self.position.data),
            interests=text(self.interests.data), education=self.education.inputs())
