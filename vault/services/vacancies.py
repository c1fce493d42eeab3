"""Vacancies of the group's companies. Closing one starts its applications' retention clock."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from vault.mail import has_control_characters
from vault.models import Vacancy

SLUG_MAX = 60
# Paths under /apply/ that are not vacancies.
RESERVED_SLUGS = frozenset({"done", "new"})


class VacancyError(ValueError):
    """A clear, user-facing reason why a vacancy change was refused."""


def slugify(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:SLUG_MAX].rstrip("-") or "vacancy"


def vacancy_by_slug(session: Session, slug: str) -> Vacancy | None:
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


def create_vacancy(session: Session, *, company: str, title: str, location: str = "",
                   description: str = "", slug: str | None = None,
                   companies: Sequence[str], now: datetime) -> Vacancy:
    _check(company, title, companies)
    if slug is not None:
        if slug != slugify(slug) or slug in RESERVED_SLUGS:
            raise VacancyError("A slug is lower-case letters, digits and hyphens only.")
        if vacancy_by_slug(session, slug) is not None:
            raise VacancyError("That slug is already taken.")
    vacancy = Vacancy(company=company, title=title.strip(), location=location.strip()[:120],
                      description=description.strip(), status="open", created_at=now,
                      slug=slug or _unique_slug(session, slugify(title)))
    session.add(vacancy)
    session.flush()
    return vacancy


def update_vacancy(vacancy: Vacancy, *, title: str, location: str, description: str,
                   companies: Sequence[str]) -> None:
    _check(vacancy.company, title, companies)
    vacancy.title = title.strip()
    vacancy.location = location.strip()[:120]
    vacancy.description = description.strip()


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
