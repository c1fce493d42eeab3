"""The staff menu: decided here, not in templates."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_login import current_user

STAFF_LINKS = (
    ("recruiter.candidates", _l("Candidates"), ("recruiter", "admin")),
    ("recruiter.vacancies", _l("Vacancies"), ("recruiter", "admin")),
    ("admin.dashboard", _l("Privacy desk"), ("admin",)),
    ("auth.account", _l("My account"), ("recruiter", "admin")),
)


def staff_nav() -> list[tuple[str, str]]:
    if not current_user.is_authenticated:
        return []
    return [(endpoint, str(label)) for endpoint, label, roles in STAFF_LINKS
            if current_user.role in roles and endpoint in current_app.view_functions]
