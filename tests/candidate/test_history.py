"""The history on the person's page: grouped, in plain words, in their language; the
records behind it are left as they were."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from tests.journey import MARK_EMAIL, apply, link_in, make_vacancy, outbox
from vault.extensions import db
from vault.models import AuditEvent, Candidate, DataRequest
from vault.services import audit, history, requests

# 13:05 UTC in November is 14:05 in Brussels.
LAST = datetime(2026, 11, 27, 13, 5, tzinfo=UTC)


def _row(kind: str, at: datetime, *, status: str = "fulfilled",
         channel: str = requests.SELF_SERVICE, row_id: int = 0) -> DataRequest:
    return DataRequest(id=row_id, uid=f"r{row_id}", subject_public_id="p", kind=kind,
                       channel=channel, status=status, received_at=at,
                       due_at=at + timedelta(days=28))


def _rows(kind: str, count: int, **kwargs) -> list[DataRequest]:
    return [_row(kind, LAST - timedelta(days=n), row_id=n, **kwargs) for n in range(count)]


def test_repeated_requests_of_a_kind_collapse_into_one_line_with_count_and_last_time(app):
    rows = _rows("object", 5, status="open") + _rows("export", 3)
    with app.test_request_context():
        lines = history.group_requests(rows)
    assert [line.text for line in lines] == [
        "You objected to how we use your data: 5 times, last on 27/11/2026 14:05",
        "You downloaded your data: on 3 days, last on 27/11/2026",
    ]
    # Open requests say when we answer: by the earliest answer still owed.
    assert lines[0].status == "in progress, we answer by 21/12/2026"
    assert lines[1].status == "done" and lines[1].count == 3


def test_a_single_request_reads_once_and_the_officers_are_said_to_be_theirs(app):
    rows = [_row("correct", LAST), _row("erase", LAST - timedelta(hours=2),
                                         channel=requests.ADMIN, status="rejected")]
    with app.test_request_context():
        lines = history.group_requests(rows)
    assert [(line.text, line.status) for line in lines] == [
        ("You corrected your data: once, on 27/11/2026 14:05", "done"),
        ("You asked us to erase your data (through our privacy officer): once, on "
         "27/11/2026 12:05", "declined (our privacy officer wrote to you why)"),
    ]


def test_open_and_answered_requests_of_one_kind_stay_apart(app):
    rows = [_row("object", LAST, status="open", row_id=1),
            _row("object", LAST - timedelta(days=40), row_id=2)]
    with app.test_request_context():
        statuses = [line.status for line in history.group_requests(rows)]
    assert statuses == ["in progress, we answer by 25/12/2026", "done"]


@pytest.mark.parametrize(("language", "expected"), [
    ("nl", "U hebt uw gegevens bekeken: op 4 dagen, het laatst op 27/11/2026"),
    ("fr", "Vous avez consulté vos données : sur 4 jours, la dernière fois le 27/11/2026"),
])
def test_the_history_is_written_in_the_pages_language(app, language, expected):
    with app.test_request_context(), force_locale(language):
        [line] = history.group_requests(_rows("access", 4))
    assert line.text == expected


def test_staff_access_is_told_as_who_did_what_how_often(app):
    entries = [history.StaffAccess(LAST - timedelta(minutes=n), "recruiter", audit.CANDIDATE_VIEWED)
               for n in range(5)]
    entries += [history.StaffAccess(LAST - timedelta(days=1), "admin", audit.CANDIDATE_EXPORTED),
                history.StaffAccess(LAST - timedelta(days=2), None, audit.CV_DOWNLOADED)]
    with app.test_request_context():
        texts = [line.text for line in history.group_staff_access(entries)]
    assert texts == [
        "A recruiter looked at your data: 5 times, last on 27/11/2026 14:05",
        "Our privacy officer downloaded a copy of all your data: once, on 26/11/2026 14:05",
        "A member of our staff downloaded your CV: once, on 25/11/2026 14:05",
    ]
    with app.test_request_context(), force_locale("nl"):
        [line] = history.group_staff_access(entries[:5])
    assert line.text == "Een recruiter heeft uw gegevens bekeken: 5 keer, het laatst op " \
                        "27/11/2026 14:05"


def _history_rows(body: str) -> list[str]:
    """The rows of the history table, as text."""
    table = body.split("What you did with your data", 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>", 1)[1], re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in rows]


def test_a_busy_visit_reads_as_a_few_plain_lines(app, client, clock):
    slug = make_vacancy(app)
    apply(client, slug, consent_talent_pool="y")
    link = link_in(outbox(app)[-1])
    # One visit: the page, three downloads, two corrections, leaving the pool, two
    # objections; meanwhile a recruiter opened the record four times and took the CV.
    client.get(link)
    for fmt in ("json", "csv", "zip"):
        client.get(f"{link}/export.{fmt}")
    for phone in ("+32 470 00 00 01", "+32 470 00 00 02"):
        client.post(f"{link}/correct", data={
            "full_name": "Ilse Test", "email": MARK_EMAIL, "phone": phone,
            "education-0-degree": "Master", "education-0-field": "Law",
            "education-0-institution": "KU Leuven"})
    client.post(f"{link}/withdraw")
    for reason in ("No marketing calls", "No profiling"):
        client.post(f"{link}/object", data={"reason": reason})
    with app.app_context():
        record = db.session.scalar(select(Candidate))
        recruiter = audit.Actor("user", 7, "recruiter")
        for _ in range(4):
            audit.record(db.session, recruiter, audit.CANDIDATE_VIEWED, now=clock(),
                         subject=record.public_id)
        audit.record(db.session, recruiter, audit.CV_DOWNLOADED, now=clock(),
                     subject=record.public_id)
        db.session.commit()
        stored = db.session.scalar(select(func.count()).select_from(DataRequest))
        staff_events = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action.in_(audit.STAFF_ACCESS_ACTIONS)))

    body = client.get(link).data.decode()
    assert stored == 7 and staff_events == 5  # the records are kept one by one
    assert _history_rows(body) == [
        "You objected to how we use your data: 2 times, last on 02/03/2026 10:00 "
        "in progress, we answer by 30/03/2026",
        "You left the talent pool: once, on 02/03/2026 10:00 done",
        "You corrected your data: 2 times, last on 02/03/2026 10:00 done",
        "You downloaded your data: on 02/03/2026 done",
        "You looked at your data: on 02/03/2026 done",
    ]
    assert "A recruiter looked at your data: 4 times, last on 02/03/2026 10:00" in body
    assert "A recruiter downloaded your CV: once, on 02/03/2026 10:00" in body
    # Staff wording and stored codes never reach the person.
    for word in ("candidate viewed", "candidate.viewed", "cv downloaded", "self-service",
                 "fulfilled", "status: new", ">open<"):
        assert word not in body, word
    assert "status: received, not yet reviewed" in body


def test_staff_access_names_the_company_never_the_person(app):
    entries = [history.StaffAccess(LAST, "recruiter", audit.CANDIDATE_VIEWED, "Hoptimize"),
               history.StaffAccess(LAST - timedelta(hours=1), "recruiter",
                                   audit.CANDIDATE_VIEWED, "Ingenium")]
    with app.test_request_context():
        texts = [line.text for line in history.group_staff_access(entries)]
    assert texts == [
        "A recruiter (Hoptimize) looked at your data: once, on 27/11/2026 14:05",
        "A recruiter (Ingenium) looked at your data: once, on 27/11/2026 13:05",
    ]
