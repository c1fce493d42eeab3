"""Anchors of the audit chain, kept outside the database.

The keyed chain (vault.services.audit) stops anyone without the key from rewriting
events, but deleting the newest events leaves a shorter chain that still verifies. An
anchor records the chain's head (event id, link, time) in a JSON Lines file outside the
database, appended and fsynced like the erasure ledger; 'vault check' then proves the
database still holds every anchored event with the anchored link.

When anchors are written: by the hourly retention job, by 'vault anchor-audit' (run it
from cron as often as the loss window you accept: events after the last anchor can be
cut from the end unseen), and by 'vault init' the first time. 'vault check' writes
nothing: it must be safe to run on a copy or a restored backup.

A restore puts back an older database, so its chain legitimately ends before the latest
anchors. 'vault check' says so and fails (events really are missing); the operator
acknowledges it with 'vault anchor-audit --restored', which appends a restore marker at
the restored chain's head. Anchors before the latest marker are history: they are not
compared any more. Each line holds ids, links and times: no personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from vault.append_only import append_lines, read_lines
from vault.crypto import links_equal
from vault.models import AuditEvent
from vault.services import audit

HEAD = "head"
RESTORE = "restore"


@dataclass(frozen=True)
class Anchor:
    seq: int  # the anchored event's id
    hash: str  # its link
    at: datetime
    kind: str = HEAD  # head | restore


class AnchorError(Exception):
    """The anchor file cannot be written, or the database disagrees with it."""


def append(path: Path, anchor: Anchor) -> None:
    try:
        append_lines(path, [{"seq": anchor.seq, "hash": anchor.hash,
                             "at": anchor.at.isoformat(), "kind": anchor.kind}])
    except OSError as exc:
        raise AnchorError("the audit anchor file could not be written") from exc


def read(path: Path) -> list[Anchor]:
    anchors = []
    for doc in read_lines(path):
        try:
            anchors.append(Anchor(int(doc["seq"]), str(doc["hash"]),
                                  datetime.fromisoformat(doc["at"]), doc.get("kind", HEAD)))
        except (ValueError, KeyError, TypeError):
            continue  # an incomplete line is skipped, never fatal
    return anchors


def current(anchors: list[Anchor]) -> list[Anchor]:
    """The anchors that still bind the database: from the latest restore marker on."""
    start = max((i for i, a in enumerate(anchors) if a.kind == RESTORE), default=0)
    return anchors[start:]


def _head(session: Session) -> tuple[int, str] | None:
    row = session.execute(select(AuditEvent.id, AuditEvent.hash)
                          .order_by(AuditEvent.id.desc()).limit(1)).first()
    return (row[0], row[1]) if row else None


def _link_at(session: Session, seq: int) -> str | None:
    return session.scalar(select(AuditEvent.hash).where(AuditEvent.id == seq))


@dataclass(frozen=True)
class Disagreement:
    anchor: Anchor
    head_id: int | None  # the database's last event
    last_agreed: int | None  # id of the newest anchor the database still matches

    @property
    def behind(self) -> bool:
        """The database ends before the anchored event (a restore, or events cut off)."""
        return self.head_id is None or self.head_id < self.anchor.seq

    def message(self) -> str:
        since = (f"after event {self.last_agreed}" if self.last_agreed is not None
                 else "from the start")
        if self.behind:
            missing = self.anchor.seq - (self.head_id or 0)
            return (f"the audit trail ends at event {self.head_id or 0} but the anchor of "
                    f"{self.anchor.at.isoformat()} saw event {self.anchor.seq}: up to {missing} "
                    f"event(s) {since} are missing (restored from a backup, or deleted). "
                    "After a restore, acknowledge it with 'vault anchor-audit --restored'.")
        return (f"event {self.anchor.seq} does not match the anchor of "
                f"{self.anchor.at.isoformat()}: the trail was rewritten or replaced {since}. "
                "If the database was restored from a backup and events were written since, "
                "acknowledge it with 'vault anchor-audit --restored'.")


def compare(session: Session, anchors: list[Anchor]) -> Disagreement | None:
    """The first binding anchor the database disagrees with, or None."""
    head = _head(session)
    last_agreed: int | None = None
    for anchor in current(anchors):
        stored = _link_at(session, anchor.seq)
        if stored is None or not links_equal(stored, anchor.hash):
            return Disagreement(anchor, head[0] if head else None, last_agreed)
        last_agreed = anchor.seq
    return None


def anchor_head(session: Session, path: Path, *, now: datetime) -> Anchor | None:
    """Append the chain's head, unless it is already the latest anchor.

    Refused (AnchorError) when the database disagrees with the latest binding anchor:
    anchoring a shortened or rewritten trail would make the loss look legitimate. Only
    the latest anchor is compared (one row read), so the hourly job stays cheap; the
    whole comparison is 'vault check'. None for an empty trail.
    """
    head = _head(session)
    anchors = current(read(path))
    if anchors:
        disagreement = compare(session, anchors[-1:])
        if disagreement is not None:
            raise AnchorError(disagreement.message())
        if head is not None and anchors[-1].seq == head[0]:
            return anchors[-1]
    if head is None:
        return None
    anchor = Anchor(head[0], head[1], now)
    append(path, anchor)
    return anchor


def acknowledge_restore(session: Session, path: Path, *, now: datetime,
                        actor: audit.Actor) -> tuple[Disagreement, Anchor] | None:
    """Record that the database was restored: anchors before this point stop binding.

    The chain itself must hold (a restore does not excuse a broken link), and an audit
    event says how much was lost. Returns what the database disagreed with and the
    restore marker at that event, which the caller appends with append() after its
    commit (a marker naming an uncommitted event would itself fail every check).
    None when the database agrees with every anchor: nothing to acknowledge.
    """
    broken = audit.verify_chain(session)
    if broken is not None:
        raise AnchorError(f"the audit trail's chain is broken at event {broken}; "
                          "a restore marker cannot cover that")
    disagreement = compare(session, read(path))
    if disagreement is None:
        return None
    event = audit.record(session, actor, audit.AUDIT_RESTORE_ACKNOWLEDGED, now=now,
                         detail=f"agreed_to={disagreement.last_agreed or 0} "
                                f"anchored={disagreement.anchor.seq}")
    return disagreement, Anchor(event.id, event.hash, now, RESTORE)
