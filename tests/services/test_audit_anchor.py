from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete

from vault.extensions import db
from vault.models import AuditEvent
from vault.services import audit, audit_anchor
from vault.services.audit_anchor import Anchor

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _event(clock) -> tuple[int, str]:
    event = audit.record(db.session, audit.SYSTEM, audit.RETENTION_RUN, now=clock())
    db.session.commit()
    return event.id, event.hash


def test_anchor_file_is_private_and_a_torn_line_is_skipped(tmp_path):
    path = tmp_path / "audit-anchor.jsonl"
    audit_anchor.append(path, Anchor(3, "a" * 64, AT))
    with path.open("a") as fh:
        fh.write('{"seq": 4, "hash"')  # a crash mid-write
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert audit_anchor.read(path) == [Anchor(3, "a" * 64, AT)]


def test_unwritable_anchor_file_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(audit_anchor.AnchorError, match="could not be written"):
        audit_anchor.append(blocker / "anchor.jsonl", Anchor(1, "a" * 64, AT))


def test_anchoring_an_unchanged_head_writes_nothing_new(app, clock):
    path = Path(app.config["AUDIT_ANCHOR"])
    with app.app_context():
        assert audit_anchor.anchor_head(db.session, path, now=clock()) is None  # empty trail
        event = _event(clock)
        first = audit_anchor.anchor_head(db.session, path, now=clock())
        again = audit_anchor.anchor_head(db.session, path, now=clock())
        assert first == again and (first.seq, first.hash) == event
        later = _event(clock)
        assert audit_anchor.anchor_head(db.session, path, now=clock()).seq == later[0]
    assert [a.seq for a in audit_anchor.read(path)] == [event[0], later[0]]


def test_only_anchors_from_the_latest_restore_marker_bind():
    anchors = [Anchor(5, "a", AT), Anchor(9, "b", AT), Anchor(6, "c", AT, audit_anchor.RESTORE),
               Anchor(8, "d", AT)]
    assert audit_anchor.current(anchors) == anchors[2:]
    assert audit_anchor.current(anchors[:2]) == anchors[:2]


def test_compare_names_the_last_anchor_that_still_agrees(app, clock):
    with app.app_context():
        events = [_event(clock) for _ in range(4)]
        anchors = [Anchor(seq, link, AT) for seq, link in events[:3:2]]  # events 0 and 2
        assert audit_anchor.compare(db.session, anchors) is None
        db.session.execute(delete(AuditEvent).where(AuditEvent.id >= events[2][0]))
        db.session.commit()
        found = audit_anchor.compare(db.session, anchors)
    assert found is not None and found.behind
    assert found.last_agreed == events[0][0] and found.head_id == events[1][0]
