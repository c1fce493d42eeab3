from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import EmailField, FormField, HiddenField, StringField, TelField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from vault.apply.forms import EducationForm, EducationRows, valid_email
from vault.services.candidates import MAX_EDUCATION, Correction, EducationInput


class LinkRequestForm(FlaskForm):
    email = EmailField("Your e-mail address",
                       validators=[DataRequired(), Length(max=254), valid_email])


class ActionForm(FlaskForm):
    """Withdraw and erase: nothing to fill in but the CSRF token."""


class ObjectionForm(FlaskForm):
    reason = TextAreaField("What do you object to? (optional)",
                           validators=[Optional(), Length(max=2000)])


class CorrectionForm(FlaskForm):
    record = HiddenField()
    full_name = StringField("Full name", validators=[DataRequired(), Length(max=200)])
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254), valid_email])
    phone = TelField("Phone", validators=[Optional(), Length(max=40),
                                          Regexp(r"^[0-9+()./\s-]+$",
                                                 message="Digits, spaces and + ( ) . / - only.")])
    position = StringField("Position sought", validators=[Optional(), Length(max=200)])
    interests = TextAreaField("Skills and interests", validators=[Optional(), Length(max=2000)])
    education = EducationRows(FormField(EducationForm), min_entries=1, max_entries=MAX_EDUCATION)

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if self.education.submitted_rows > MAX_EDUCATION:
            self.form_errors.append(f"At most {MAX_EDUCATION} education entries, please.")
            return False
        for row in self.education:
            if row.form.is_blank():
                continue
            for name in ("degree", "field", "institution"):
                sub = row.form[name]
                if not (sub.data or "").strip():
                    sub.errors = [*sub.errors, "Required for each education entry."]
                    valid = False
        return valid

    def correction(self) -> Correction:
        def text(value: str | None) -> str:
            return (value or "").strip()

        return Correction(
            full_name=text(self.full_name.data), email=text(self.email.data),
            phone=text(self.phone.data), position=text(self.position.data),
            interests=text(self.interests.data),
            education=tuple(
                EducationInput(text(r.form.degree.data), text(r.form.field.data),
                               text(r.form.institution.data), text(r.form.year.data))
                for r in self.education if not r.form.is_blank()))


