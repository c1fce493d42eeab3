from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, FormField, HiddenField, StringField, TelField, TextAreaField
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


class ObjectionForm(FlaskForm):
    reason = TextAreaField(_l("What do you object to? (optional)"),
                           validators=[Optional(), Length(max=2000)])


class CorrectionForm(FlaskForm):
    record = HiddenField()
    full_name = StringField(_l("Full name"), validators=NAME_VALIDATORS)
    email = EmailField(_l("E-mail"), validators=EMAIL_VALIDATORS)
    phone = TelField(_l("Phone"), validators=PHONE_VALIDATORS)
    position = StringField(_l("Position sought"), validators=[Optional(), Length(max=MAX_POSITION)])
    interests = TextAreaField(_l("Skills and interests"), validators=INTERESTS_VALIDATORS)
    education = EducationRows(FormField(EducationForm), min_entries=1, max_entries=MAX_EDUCATION)

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
