"""A vacancy's applicants, one page at a time, optionally of one status.

Only the page shown is opened (each name is decrypted with its person's key), so a
vacancy with thousands of applicants costs one page of decryption per view."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from vault.keys import VaultKeys
from vault.models import Candidate, Vacancy
from vault.services.candidates import open_candidate
from vault.services.pipeline import STATUSES
from vault.services.sealing import records_opened

PAGE_SIZE = 25


@dataclass(frozen=True)
class ApplicantPage:
    rows: list[tuple[Candidate, str]]  # the record and its applicant's name
    page: int  # 1-based, within 1..pages
    pages: int  # at least 1, also when nobody applied
    total: int  # applicants matching the filter
    status: str | None  # the filter, None for every status


def applicant_page(session: Session, keys: VaultKeys, vacancy: Vacancy, *,
                   status: str | None = None, page: int = 1,
                   page_size: int = PAGE_SIZE) -> ApplicantPage:
    """Newest first. A page past the last shows the last page (a list that shrank since
    its link was made), never an error."""
    if status is not None and status not in STATUSES:
        raise ValueError("unknown status")
    where = [Candidate.vacancy_id == vacancy.id]
    if status is not None:
        where.append(Candidate.status == status)
    total = session.scalar(select(func.count()).select_from(Candidate).where(*where)) or 0
    pages = max(1, -(-total // page_size))
    page = min(max(1, page), pages)
    records = session.scalars(select(Candidate).where(*where)
                              .options(selectinload(Candidate.key))
                              .order_by(Candidate.created_at.desc(), Candidate.id.desc())
                              .limit(page_size).offset((page - 1) * page_size)).all()
    with records_opened(keys, records):  # the page's keys in one call
        rows = [(r, open_candidate(keys, r, with_notes=False).full_name) for r in records]
    return ApplicantPage(rows=rows, page=page, pages=pages, total=total, status=status)
