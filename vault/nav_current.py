"""Which item of the staff menu the page belongs to, so the menu can mark it
(aria-current="page" and a style). The menu itself is vault/auth/navigation.py."""

from __future__ import annotations

from flask import request

# A page belongs to the menu item of its section, not only to the item's own page: a
# candidate's page is under "Candidates", a vacancy's under "Vacancies".
SECTIONS: dict[str, str] = {
    "recruiter.candidates": "recruiter.candidates",
    "recruiter.candidate": "recruiter.candidates",
    "recruiter.vacancies": "recruiter.vacancies",
    "recruiter.new_vacancy": "recruiter.vacancies",
    "recruiter.vacancy": "recruiter.vacancies",
    "recruiter.edit_vacancy": "recruiter.vacancies",
    "recruiter.close": "recruiter.vacancies",
    "recruiter.reopen": "recruiter.vacancies",
}


def current_section() -> str | None:
    """The menu endpoint of this page, or None outside the staff pages."""
    endpoint = request.endpoint or ""
    if request.blueprint == "admin":
        return "admin.dashboard"
    return SECTIONS.get(endpoint)
