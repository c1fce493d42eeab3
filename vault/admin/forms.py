"""Forms of the privacy officer's desk. Every state change is a POST with a CSRF token.

Labels and messages are lazy strings: they are worded in the language of the page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    EmailField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from vault.admin.labels import DESK_LABELS, ERASURE_LABELS
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


def _worded(codes: tuple[str, ...]) -> list[SelectChoice]:
    return [SelectChoice(code, DESK_LABELS.get(code, code)) for code in codes]


class ResolveRequestForm(FlaskForm):
    status = SelectField(_l("Resolve as"), choices=_worded(RESOLUTIONS))


class LogRequestForm(FlaskForm):
    public_id = StringField(_l("Reference (public id)"), validators=PUBLIC_ID)
    kind = SelectField(_l("Kind"), choices=_worded(KINDS))
    # May name the person: sealed with their key, never in the audit trail.
    details = TextAreaField(_l("Details"), validators=[Optional(), Length(max=2000)])


class EmailChangeForm(FlaskForm):
    # Sealed with the record's key while it waits for confirmation; never logged.
    new_email = EmailField(_l("New e-mail address (the person asked for it)"),
                           validators=EMAIL_VALIDATORS)


class HoldForm(FlaskForm):
    action = SelectField(_l("Legal hold"), choices=[SelectChoice("place", _l("Place a hold")),
                                                    SelectChoice("lift", _l("Lift the hold"))])
    reason = TextAreaField(_l("Reason (sealed with the record)"),
                           validators=[Optional(), Length(max=MAX_REASON)])

    def validate_reason(self, field: TextAreaField) -> None:
        if self.action.data == "place" and not (field.data or "").strip():
            raise ValidationError(_l("A legal hold needs a reason."))


class CreateUserForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    # No password: the person chooses it through the set-up link mailed to them.
    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    role = SelectField(_l("Role"), choices=_worded(ROLES))
    company = SelectField(_l("Company"), choices=[])


class UpdateUserForm(FlaskForm):
    role = SelectField(_l("Role"), choices=_worded(ROLES))
    active = SelectField(_l("Account"), choices=[SelectChoice("yes", _l("Enabled")),
                                                 SelectChoice("no", _l("Disabled"))])


class ResetSecondFactorForm(FlaskForm):
    pass


class EraseForm(FlaskForm):
    # Fixed categories, not free text: the reason is kept after the key is shredded.
    category = SelectField(_l("Why is the data erased?"), validators=[DataRequired()],
                           choices=[SelectChoice("", _l("Choose…")),
                                    *(SelectChoice(k, ERASURE_LABELS.get(k, v))
                                      for k, v in ERASURE_CATEGORIES.items())])


class LookupForm(FlaskForm):
    """Find a person by reference (query string; changes nothing)."""

    class Meta:
        csrf = False

    public_id = StringField(_l("Reference (public id)"), validators=PUBLIC_ID)


class AuditFilterForm(FlaskForm):
    """Query-string filters of the audit browser and its CSV download."""

    class Meta:
        csrf = False

    # Action and actor codes are shown as they are stored: the trail is technical.
    action = SelectField(_l("Action"), validators=[Optional()], default="",
                         choices=[SelectChoice("", _l("Any")),
                                  *(SelectChoice(a, a) for a in audit_actions())])
    actor_type = SelectField(_l("Actor"), validators=[Optional()], default="",
                             choices=[SelectChoice("", _l("Any")),
                                      *(SelectChoice(a, a) for a in AUDIT_ACTOR_TYPES)])
    subject = StringField(_l("Subject (public id)"), validators=[Optional(), Length(max=32)])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    page = IntegerField(default=1, validators=[Optional(), NumberRange(min=1, max=1_000_000)])

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date is before the start date."))


class ScopeChoice(SelectMultipleField):
    """One checkbox per API scope."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


# What each scope lets a client do, in the page's language.
SCOPE_LABELS = {
    "vacancies:read": _l("vacancies:read: list the open vacancies (job boards)"),
    "applications:write": _l("applications:write: send in applications (job boards)"),
    "candidates:read": _l("candidates:read: fetch the file of a hired candidate of its "
                          "company (HR systems)"),
    "erasures:read": _l("erasures:read: learn which records were erased (notices and list)"),
}


class ApiClientForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    company = SelectField(_l("Company"), choices=[])
    scopes = ScopeChoice(_l("Scopes"), choices=[],
                         validators=[DataRequired(_l("Choose at least one scope."))])
    expires_on = DateField(_l("Valid until (inclusive)"),
                           validators=[DataRequired(_l("Enter the date the token stops."))])
    # Checked by vault.services.webhooks.check_url (https only) in the view.
    webhook_url = StringField(_l("Webhook URL for erasure notices (optional)"),
                              validators=[Optional(), Length(max=2000)])


class WebhookForm(FlaskForm):
    # Empty removes the webhook: the client then hears of no erasure.
    webhook_url = StringField(_l("Webhook URL"), validators=[Optional(), Length(max=2000)])


class ConfirmForm(FlaskForm):
    """A POST with its CSRF token and nothing else (revoke, new secret)."""


class DeliveryPageForm(FlaskForm):
    class Meta:
        csrf = False

    page = IntegerField(default=1, validators=[Optional(), NumberRange(min=1, max=1_000_000)])
