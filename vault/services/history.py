"""A person's history, grouped for reading: what they asked of us, and who on our staff
opened their data. A visit leaves many rows behind (a view, three downloads, two
corrections...) and a recruiter's afternoon many more; the person reads one line per
kind of thing with how often and when last ("You downloaded your data: 3 times, last
on 27/11/2026 14:05"). The rows themselves stay as they are (requests, audit trail);
this only presents them, in the language of the page being built.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext

from vault.i18n import show_date, show_datetime
from vault.messages import message
from vault.models import DataRequest
from vault.services import plain_words, requests

# Views and downloads are logged once per day and kind (services.self_service): their
# count is a count of days, and the time of the day's first one only.
LOGGED_ONCE_A_DAY = ("access", "export")


@dataclass(frozen=True)
class HistoryLine:
    text: str  # what happened, how often, when last
    status: str  # "done", "in progress, we answer by ..." ("" for staff access)
    count: int
    last: datetime


@dataclass(frozen=True)
class StaffAccess:
    at: datetime
    role: str | None
    action: str
    company: str | None = None


def how_often(count: int, last: datetime, *, days: bool = False) -> str:
    if days:
        return ngettext("on %(when)s", "on %(num)d days, last on %(when)s", count,
                        when=show_date(last))
    return ngettext("once, on %(when)s", "%(num)d times, last on %(when)s", count,
                    when=show_datetime(last))


def _line(what: str, often: str) -> str:
    return _("%(what)s: %(how_often)s", what=what, how_often=often)


def _request_status(status: str, rows: list[DataRequest]) -> str:
    if status == "open":  # the earliest answer we owe
        return message("history_open", due=show_date(min(r.due_at for r in rows)))
    if status in ("fulfilled", "rejected"):
        return message(f"history_{status}")
    return status


def group_requests(rows: Iterable[DataRequest]) -> list[HistoryLine]:
    """One line per kind of request, who made it (the person, or the privacy officer
    for them) and outcome; newest first."""
    groups: dict[tuple[str, bool, str], list[DataRequest]] = {}
    for row in rows:
        # Open and answered requests of a kind apart: "in progress" must not hide "done".
        key = (row.kind, row.channel == requests.SELF_SERVICE, row.status)
        groups.setdefault(key, []).append(row)
    lines: list[tuple[tuple[datetime, int], HistoryLine]] = []
    for (kind, by_person, status), members in groups.items():
        newest = max(members, key=lambda r: (r.received_at, r.id))
        what = message(f"history_{kind}")
        if not by_person:
            what = message("history_by_officer", what=what)
        often = how_often(len(members), newest.received_at,
                          days=by_person and kind in LOGGED_ONCE_A_DAY)
        lines.append(((newest.received_at, newest.id), HistoryLine(
            _line(what, often), _request_status(status, members), len(members),
            newest.received_at)))
    # Newest first; requests made in the same instant in the order they were made.
    return [line for _key, line in sorted(lines, key=lambda pair: pair[0], reverse=True)]


def staff_access_of(entries: Iterable[Mapping[str, Any]]) -> list[StaffAccess]:
    """The export document's staff_access entries (ISO times) as values."""
    return [StaffAccess(datetime.fromisoformat(e["at"]), e.get("role"), e["action"],
                        e.get("company")) for e in entries]


def group_staff_access(entries: Iterable[StaffAccess]) -> list[HistoryLine]:
    """One line per role, company and action: "A recruiter (Ingenium) looked at your
    data: 5 times, last on 27/11/2026 14:05"; newest first."""
    groups: dict[tuple[str | None, str | None, str], list[datetime]] = {}
    for entry in entries:
        groups.setdefault((entry.role, entry.company, entry.action), []).append(entry.at)
    lines = []
    for (role, company, action), moments in groups.items():
        last = max(moments)
        lines.append(HistoryLine(_line(plain_words.staff_did(role, action, company),
                                       how_often(len(moments), last)), "", len(moments), last))
    return sorted(lines, key=lambda line: line.last, reverse=True)
