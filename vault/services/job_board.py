"""The public list of open vacancies and its filters (company, location).

Filter values come from the query string, so anything can arrive: they are compared
in Python with the few open vacancies, never put into SQL (PostgreSQL refuses a NUL
character in a parameter with an error, which would be a 500). A value that names no
company or location gives an empty list that says so, not an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from vault.models import Vacancy
from vault.services.vacancies import open_vacancies, vacancies_by_company

# Longer than any company or location: such a value is unknown without looking.
FILTER_MAX = 120


def _same(a: str, b: str) -> bool:
    return a.casefold() == b.casefold()


@dataclass(frozen=True)
class BoardFilter:
    company: str = ""
    location: str = ""

    @classmethod
    def from_args(cls, company: str | None, location: str | None) -> BoardFilter:
        return cls(company=(company or "").strip()[:FILTER_MAX + 1],
                   location=(location or "").strip()[:FILTER_MAX + 1])

    @property
    def active(self) -> bool:
        return bool(self.company or self.location)


@dataclass(frozen=True)
class JobBoard:
    """What the start page shows: the open vacancies left by the filter, grouped by
    company, and the choices of the filter form."""

    filter: BoardFilter
    companies: list[str]
    locations: list[str]
    by_company: list[tuple[str, list[Vacancy]]] = field(default_factory=list)
    unknown_company: bool = False
    unknown_location: bool = False

    @property
    def empty(self) -> bool:
        return not self.by_company


def _locations(vacancies: Sequence[Vacancy]) -> list[str]:
    seen: dict[str, str] = {}
    for vacancy in vacancies:
        if vacancy.location:
            seen.setdefault(vacancy.location.casefold(), vacancy.location)
    return sorted(seen.values(), key=str.casefold)


def job_board(session: Session, board_filter: BoardFilter,
              companies: Sequence[str]) -> JobBoard:
    everything = open_vacancies(session)
    locations = _locations(everything)
    wanted = board_filter
    unknown_company = bool(wanted.company) and not any(_same(wanted.company, c)
                                                       for c in companies)
    unknown_location = bool(wanted.location) and not any(_same(wanted.location, loc)
                                                         for loc in locations)
    shown = [] if unknown_company or unknown_location else [
        v for v in everything
        if (not wanted.company or _same(v.company, wanted.company))
        and (not wanted.location or _same(v.location, wanted.location))]
    return JobBoard(filter=wanted, companies=list(companies), locations=locations,
                    by_company=vacancies_by_company(shown),
                    unknown_company=unknown_company, unknown_location=unknown_location)
