"""Forms of the privacy officer's desk. Every state change is a POST with a CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    EmailField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from vault.apply.forms import EMAIL_VALIDATORS
from vault.services.desk import (
    AUDIT_ACTOR_TYPES,
    ERASURE_CATEGORIES,
    RESOLUTIONS,
    audit_actions,
)
from vault.services.holds import MAX_REASON
from vault.services.requests import KINDS
from vault.services.users import ROLES

PUBLIC_ID = [DataRequired(), Length(min=8, max=32)]


class ResolveRequestForm(FlaskForm):
    status = SelectField("Resolve as", choices=[SelectChoice(s, s.title()) for s in RESOLUTIONS])


class LogRequestForm(FlaskForm):
    public_id = StringField("Reference (public id)", validators=PUBLIC_ID)
    kind = SelectField("Kind", choices=[SelectChoice(k, k.title()) for k in KINDS])
    # May name the person: sealed with their key, never in the audit trail.
    details = TextAreaField("Details", validators=[Optional(), Length(max=2000)])


class EmailChangeForm(FlaskForm):
    # Sealed with the record's key while it waits for confirmation; never logged.
    new_email = EmailField("New e-mail address (the person asked for it)",
                           validators=EMAIL_VALIDATORS)


class HoldForm(FlaskForm):
    action = SelectField("Legal hold", choices=[SelectChoice("place", "Place a hold"),
                                                SelectChoice("lift", "Lift the hold")])
    reason = TextAreaField("Reason (sealed with the record)",
                           validators=[Optional(), Length(max=MAX_REASON)])

    def validate_reason(self, field: TextAreaField) -> None:
        if self.action.data == "place" and not (field.data or "").strip():
            raise ValidationError("A legal hold needs a reason.")


class CreateUserForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    # No password: the person chooses it through the set-up link mailed to them.
    display_name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    role = SelectField("Role", choices=[SelectChoice(r, r.title()) for r in ROLES])
    company = SelectField("Company", choices=[])


class UpdateUserForm(FlaskForm):
    role = SelectField("Role", choices=[SelectChoice(r, r.title()) for r in ROLES])
    active = SelectField("Account", choices=[SelectChoice("yes", "Enabled"),
                                             SelectChoice("no", "Disabled")])


class ResetSecondFactorForm(FlaskForm):
    pass


class EraseForm(FlaskForm):
    # Fixed categories, not free text: the reason is kept after the key is shredded.
    category = SelectField("Why is the data erased?", validators=[DataRequired()],
                           choices=[SelectChoice("", "Choose…"),
                                    *(SelectChoice(k, v) for k, v in ERASURE_CATEGORIES.items())])


class LookupForm(FlaskForm):
    """Find a person by reference (query string; changes nothing)."""

    class Meta:
        csrf = False

    public_id = StringField("Reference (public id)", validators=PUBLIC_ID)


class AuditFilterForm(FlaskForm):
    """Query-string filters of the audit browser and its CSV download."""

    class Meta:
        csrf = False

    action = SelectField("Action", validators=[Optional()], default="",
                         choices=[SelectChoice("", "Any"),
                                  *(SelectChoice(a, a) for a in audit_actions())])
    actor_type = SelectField("Actor", validators=[Optional()], default="",
                             choices=[SelectChoice("", "Any"),
                                      *(SelectChoice(a, a) for a in AUDIT_ACTOR_TYPES)])
    subject = StringField("Subject (public id)", validators=[Optional(), Length(max=32)])
    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To", validators=[Optional()])
    page = IntegerField(default=1, validators=[Optional(), NumberRange(min=1, max=1_000_000)])

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end date is before the start date.")
