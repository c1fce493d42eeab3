"""Who may see, change and read notes on which candidate: purpose limitation, written
once, used in every query and every write.

Reading a record:

- The admin (privacy officer) sees every record.
- A recruiter sees the applications made to their own company (the purpose the person
  applied for), whatever their talent-pool consent says: those to its vacancies, and
  the spontaneous applications that name it (DESIGN: "that company's recruiters see
  it like an application to one of its vacancies").
- A recruiter sees any other record only through the group talent pool, so only
  while that record's pool consent is live. A spontaneous application that names no
  company (sent before the form asked) and has no pool consent is seen by the admin
  only.
- Anyone else (disabled or unknown role) sees nothing.

Callers answer 404 for an invisible record, never 403, so public ids cannot be probed.

Writing (may_write), always on a record the user can see:
- Status belongs to an application: only a recruiter of the company it was made to
  (its vacancy's company, or a company a spontaneous application names:
  application_companies()) sets it, because setting it decides the application and
  starts its retention clock. Seeing a record through the talent pool gives no right
  to decide another company's application, and the officer does not decide
  applications either. A record without a company (imported, demo, a spontaneous one
  sent before the form asked) has no status writer.
  Callers answer 403 (the record is visible, so its existence is no secret) and the
  refusal is audited: a cross-company write is worth the officer's attention.
- A note belongs to the company whose staff wrote it, so any user who sees the record
  may add one (their company's); the officer's notes belong to no company.

Reading notes (can_read_note): staff of the company that wrote a note, and the
officer. The candidate reads every note on their own data (the right of access), which
is the self-service page's business, not this module's. A recruiter's export follows
the same rule as their screen: it is the same data leaving in a file.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Literal

from sqlalchemy import BindParameter, ColumnElement, false, or_, select, true
from sqlalchemy.orm import Session

from vault.models import Candidate, CandidateCompany, Note, User, Vacancy

Viewer = Literal["all", "recruiter", "nobody"]
Write = Literal["status", "note"]


class WriteRefused(Exception):
    """may_write said no; the argument names the write ("status" or "note")."""


def viewer_kind(user: User) -> Viewer:
    if not user.active:
        return "nobody"
    if user.role == "admin":
        return "all"
    if user.role == "recruiter":
        return "recruiter"
    return "nobody"


def recruiter_clause(company: str | BindParameter[str],
                     now: datetime | BindParameter[datetime]) -> ColumnElement[bool]:
    """What a recruiter of `company` sees at `now` (values, or bound parameters for a
    statement built once and run for many recruiters)."""
    own_vacancies = select(Vacancy.id).where(Vacancy.company == company)
    # Spontaneous applications naming the company were made to it, like its vacancies'
    # applications: seen whatever the pool consent says.
    named_for_it = select(CandidateCompany.candidate_id).where(
        CandidateCompany.company == company)
    return or_(Candidate.vacancy_id.in_(own_vacancies), Candidate.id.in_(named_for_it),
               Candidate.pool_consent_until > now)


def visible_clause(user: User, now: datetime) -> ColumnElement[bool]:
    kind = viewer_kind(user)
    if kind == "all":
        return true()
    if kind == "recruiter":
        return recruiter_clause(user.company, now)
    return false()


def visible_candidate(session: Session, user: User, public_id: str,
                      now: datetime) -> Candidate | None:
    return session.scalar(select(Candidate).where(Candidate.public_id == public_id,
                                                  visible_clause(user, now)))


def can_see(session: Session, user: User, candidate: Candidate, now: datetime) -> bool:
    return session.scalar(select(Candidate.id).where(Candidate.id == candidate.id,
                                                     visible_clause(user, now))) is not None


def application_companies(candidate: Candidate) -> frozenset[str]:
    """The companies an application was made to: its vacancy's, or those a spontaneous
    application names (empty when the record names none)."""
    return frozenset(candidate.companies)


def may_write(session: Session, user: User, candidate: Candidate, what: Write,
              now: datetime) -> bool:
    """Whether `user` may make this change (see the module's docstring for why)."""
    if not can_see(session, user, candidate, now):
        return False
    if what == "note":
        return True
    return viewer_kind(user) == "recruiter" and user.company in application_companies(candidate)


def note_company(user: User) -> str | None:
    """The company a note written by `user` belongs to (None: the officer's own)."""
    return user.company if viewer_kind(user) == "recruiter" else None


def can_read_note(user: User, note: Note) -> bool:
    kind = viewer_kind(user)
    if kind == "all":
        return True
    return kind == "recruiter" and note.company is not None and note.company == user.company


def note_reader(user: User) -> Callable[[Note], bool]:
    """can_read_note for one user, for the services that open a record's notes."""
    return lambda note: can_read_note(user, note)
