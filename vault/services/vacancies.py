"""Vacancies of the group's companies. Closing one starts its applications' retention clock."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from vault.local_zone import LOCAL_ZONE
from vault.mail import has_control_characters
from vault.models import Vacancy

SLUG_MAX = 60
# Paths under /apply/ that are not vacancies.
RESERVED_SLUGS = frozenset({"done", "new"})
# The kinds of contract a vacancy offers (stored codes; words in vault/messages.py).
# "" means not stated (vacancies from before the field existed).
CONTRACT_TYPES: tuple[str, ...] = ("permanent", "fixed_term", "freelance", "internship",
                                   "student")
LOCATION_MAX = 120
DESCRIPTION_MAX = 10_000
HOURS_MIN, HOURS_MAX = 1, 60
# A posting day further back than this is a typing error, not a vacancy still open.
POSTED_MAX_AGE = timedelta(days=366)


class VacancyError(ValueError):
    """A clear, user-facing reason why a vacancy change was refused.

    field: the form field the reason belongs to (the title when not said)."""

    def __init__(self, text: str, field: str = "title") -> None:
        super().__init__(text)
        self.field = field


@dataclass(frozen=True)
class VacancyDetails:
    """What a job page shows besides the title: as typed, checked by check_details."""

    location: str = ""
    description: str = ""
    contract_type: str = ""
    hours_per_week: int | None = None
    posted_on: date | None = None  # None: the day the vacancy is created


def local_day(moment: datetime) -> date:
    return moment.astimezone(LOCAL_ZONE).date()


def slugify(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:SLUG_MAX].rstrip("-") or "vacancy"


_SLUG_SHAPE = re.compile(rf"[a-z0-9-]{{1,{SLUG_MAX}}}")


def vacancy_by_slug(session: Session, slug: str) -> Vacancy | None:
    # Slugs come from URLs: one that slugify could never make matches no vacancy, and is
    # not sent to the database at all (PostgreSQL refuses a NUL byte with an error, which
    # would turn a mistyped or hostile address into a 500 instead of a 404).
    if not _SLUG_SHAPE.fullmatch(slug):
        return None
    return session.scalar(select(Vacancy).where(Vacancy.slug == slug))


def _unique_slug(session: Session, base: str) -> str:
    slug, n = base, 1
    while slug in RESERVED_SLUGS or vacancy_by_slug(session, slug) is not None:
        n += 1
        slug = f"{base[:SLUG_MAX - 4]}-{n}"
    return slug


def _check(company: str, title: str, companies: Sequence[str]) -> None:
    if company not in companies:
        raise VacancyError(f"The company must be one of: {', '.join(companies)}.")
    if not title.strip():
        raise VacancyError("A vacancy needs a title.")
    if len(title) > 200:
        raise VacancyError("The title may have at most 200 characters.")
    # The title goes into the Subject of every confirmation mail: a line break there
    # would inject headers (and the mail library refuses to build such a message).
    if has_control_characters(title.strip()):
        raise VacancyError("The title must be one line: no line breaks, tabs or other "
                           "control characters.")


def check_details(details: VacancyDetails, *, now: datetime) -> VacancyDetails:
    """The details with surrounding spaces removed, or VacancyError naming the field."""
    location = details.location.strip()
    if len(location) > LOCATION_MAX:
        raise VacancyError(str(_l("The location may have at most %(n)s characters.",
                                  n=LOCATION_MAX)), "location")
    # Shown on one line in lists and filtered on: a line break would split it.
    if has_control_characters(location):
        raise VacancyError(str(_l("The location must be one line.")), "location")
    description = details.description.strip()
    if len(description) > DESCRIPTION_MAX:
        raise VacancyError(str(_l("The description may have at most %(n)s characters.",
                                  n=DESCRIPTION_MAX)), "description")
    if details.contract_type not in ("", *CONTRACT_TYPES):
        raise VacancyError(str(_l("Choose one of the contract types listed.")),
                           "contract_type")
    hours = details.hours_per_week
    if hours is not None and not HOURS_MIN <= hours <= HOURS_MAX:
        raise VacancyError(str(_l("The hours must be a whole number from %(low)s to "
                                  "%(high)s a week.", low=HOURS_MIN, high=HOURS_MAX)),
                           "hours_per_week")
    posted = details.posted_on
    if posted is not None:
        today = local_day(now)
        # A day to come would list the vacancy as posted before it was; one long gone
        # is a typing error (2002 for 2026).
        if posted > today:
            raise VacancyError(str(_l("The date posted cannot be in the future.")), "posted_on")
        if posted < today - POSTED_MAX_AGE:
            raise VacancyError(str(_l("The date posted cannot be more than a year ago.")),
                               "posted_on")
    return VacancyDetails(location=location, description=description,
                          contract_type=details.contract_type, hours_per_week=hours,
                          posted_on=posted)


def create_vacancy(session: Session, *, company: str, title: str, location: str = "",
                   description: str = "", slug: str | None = None,
                   companies: Sequence[str], now: datetime,
                   details: VacancyDetails | None = None) -> Vacancy:
    """details, when given, replaces location and description (kept for older callers)."""
    _check(company, title, companies)
    details = check_details(details or VacancyDetails(location=location,
                                                      description=description), now=now)
    if slug is not None:
        if slug != slugify(slug) or slug in RESERVED_SLUGS:
            raise VacancyError("A slug is lower-case letters, digits and hyphens only.")
        if vacancy_by_slug(session, slug) is not None:
            raise VacancyError("That slug is already taken.")
    vacancy = Vacancy(company=company, title=title.strip(), status="open", created_at=now,
                      posted_on=details.posted_on or local_day(now),
                      slug=slug or _unique_slug(session, slugify(title)))
    _apply(vacancy, details)
    session.add(vacancy)
    session.flush()
    return vacancy


def _apply(vacancy: Vacancy, details: VacancyDetails) -> None:
    vacancy.location = details.location
    vacancy.description = details.description
    vacancy.contract_type = details.contract_type
    vacancy.hours_per_week = details.hours_per_week
    if details.posted_on is not None:
        vacancy.posted_on = details.posted_on


def update_vacancy(vacancy: Vacancy, *, title: str, location: str = "", description: str = "",
                   companies: Sequence[str], details: VacancyDetails | None = None,
                   now: datetime | None = None) -> None:
    """details, when given, replaces location and description (kept for older callers);
    a posting day is checked against now."""
    _check(vacancy.company, title, companies)
    if details is None:
        details = VacancyDetails(location=location, description=description,
                                 contract_type=vacancy.contract_type,
                                 hours_per_week=vacancy.hours_per_week)
    if details.posted_on == vacancy.posted_on:
        # Unchanged (the edit form shows the stored day): an old vacancy stays editable.
        details = replace(details, posted_on=None)
    if details.posted_on is not None and now is None:
        raise ValueError("a posting day needs now to be checked against")
    checked = check_details(details, now=now or datetime.now(LOCAL_ZONE))
    vacancy.title = title.strip()
    _apply(vacancy, checked)


def close_vacancy(vacancy: Vacancy, *, now: datetime) -> None:
    """Closing starts the application-retention clock of everyone who applied."""
    if vacancy.is_open:
        vacancy.status = "closed"
        vacancy.closed_at = now


def reopen_vacancy(vacancy: Vacancy) -> None:
    vacancy.status = "open"
    vacancy.closed_at = None


def open_vacancies(session: Session) -> list[Vacancy]:
    return list(session.scalars(select(Vacancy).where(Vacancy.status == "open")
                                .order_by(Vacancy.company, Vacancy.title)))


def vacancies_of_company(session: Session, company: str | None) -> list[Vacancy]:
    """A company's vacancies, open first; None means every company (the admin's view)."""
    query = select(Vacancy).order_by(Vacancy.status.desc(), Vacancy.company, Vacancy.title)
    if company is not None:
        query = query.where(Vacancy.company == company)
    return list(session.scalars(query))


def vacancies_by_company(vacancies: Sequence[Vacancy]) -> list[tuple[str, list[Vacancy]]]:
    grouped: dict[str, list[Vacancy]] = {}
    for vacancy in vacancies:
        grouped.setdefault(vacancy.company, []).append(vacancy)
    return list(grouped.items())
