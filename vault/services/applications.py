"""Submitting an application: a new sealed record and its consent events.

An application never changes an existing record: anyone can type anyone's address,
so a second application by the same address is a record of its own, linked to the
others only through the e-mail's blind index.

receive_application is the one way an application comes in, from the web form and from
the API alike (vault/apply, vault/api/applications.py): both inspect the CV with
vault.uploads.inspect_upload (in the sandbox) and then call it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from vault.keys import VaultKeys
from vault.models import Candidate, Vacancy
from vault.services import audit, consent
from vault.services.candidates import CandidateInput, chosen_companies, create_candidate
from vault.services.notifications import queue_application_received


@dataclass(frozen=True)
class ConsentChoice:
    """What the applicant ticked, and the notice version the form showed them."""

    talent_pool: bool
    notice_version: str
    pool_months: int
    # When each consent was given, when that was before the application arrived: a job
    # board sends the moment the applicant ticked the box on its own site, and the
    # notice version its page showed for each. None: given now, on notice_version.
    application_given_at: datetime | None = None
    pool_given_at: datetime | None = None
    pool_notice_version: str | None = None
    source: str = "apply-form"  # Consent.source: where the consent was given


def submit_application(session: Session, keys: VaultKeys, data: CandidateInput, *,
                       vacancy: Vacancy | None, choice: ConsentChoice, now: datetime,
                       companies: Sequence[str] = (),
                       known_companies: Sequence[str] = ()) -> Candidate:
    """Create the record with its consents and audit event; the caller commits.

    A spontaneous application names the companies it is for (among known_companies):
    their recruiters see it and decide it (services.access), so it is refused without
    one. An application to a vacancy is for the vacancy's company and names none."""
    named = chosen_companies(companies, known_companies) if vacancy is None else ()
    if vacancy is not None and companies:
        raise ValueError("an application to a vacancy is for the vacancy's company")
    candidate = create_candidate(session, keys, data, now=now,
                                 source="apply" if vacancy else "spontaneous",
                                 vacancy_id=vacancy.id if vacancy else None, companies=named)
    # Processing the application itself: lasts as long as the retention rules allow,
    # so no expiry is stored on the event.
    consent.record_consent(session, candidate, consent.APPLICATION, consent.GRANTED,
                           notice_version=choice.notice_version, source=choice.source,
                           now=choice.application_given_at or now)
    if choice.talent_pool:
        # The pool period runs from the moment consent was given, not from its arrival.
        consent.grant_pool_consent(session, candidate, months=choice.pool_months,
                                   notice_version=choice.pool_notice_version
                                   or choice.notice_version, source=choice.source,
                                   now=choice.pool_given_at or now)
    audit.record(session, audit.CANDIDATE, audit.CANDIDATE_CREATED, now=now,
                 subject=candidate.public_id, detail=candidate.source)
    if choice.talent_pool:
        audit.record(session, audit.CANDIDATE, audit.CONSENT_GRANTED, now=now,
                     subject=candidate.public_id, detail=consent.TALENT_POOL)
    return candidate


def receive_application(session: Session, keys: VaultKeys, data: CandidateInput, *,
                        vacancy: Vacancy | None, choice: ConsentChoice, now: datetime,
                        language: str, companies: Sequence[str] = (),
                        known_companies: Sequence[str] = ()) -> Candidate:
    """An application, whichever way it arrived (web form or API): the sealed record with
    its search tokens, the consent ledger, the audit event, and the confirmation mail
    with the personal link queued in the same transaction (both are stored, or neither;
    nothing waits on a mail server). The CV was inspected by the caller; the caller
    commits."""
    candidate = submit_application(session, keys, data, vacancy=vacancy, choice=choice,
                                   now=now, companies=companies,
                                   known_companies=known_companies)
    # The mails that follow (this one, reminders, links) use the language applied in.
    candidate.language = language
    queue_application_received(session, keys, candidate, data.email, moment=now)
    return candidate
